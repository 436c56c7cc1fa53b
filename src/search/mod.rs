//! Full-text search for a static site: an index built from the parsed documents,
//! cut into small JSON files so that a query in the browser fetches little.
//!
//! # What is indexed
//! A document's title and references, its metadata (summary, senders, recipients,
//! markings, taxonomy terms, provenance), its events, and the searchable text blocks
//! of its body ([`crate::markdown::RenderedBody::blocks`]), from which redacted text
//! has already been removed: what an institution withheld never reaches the index.
//!
//! # Words
//! [`text::tokens`] splits text into runs of letters, digits and combining marks;
//! [`text::fold`] lower-cases, removes accents and compatibility forms; each
//! document's words are stemmed with the Snowball algorithm of its language, when
//! rust-stemmers has one. Postings are filed under the folded stem.
//!
//! The browser has no stemmer. Instead, every term shard lists, for each folded word
//! of the archive whose stem differs from it, the stems it has (`regulations` →
//! `regul`). The client folds the query word exactly as [`text::fold`] does, looks it
//! up in the shard and follows it to its stems; a word that is itself a stem key
//! needs no entry. So documents and queries meet on the same stems without two
//! implementations of Snowball to keep in step. The cost: a query word that occurs
//! nowhere in the archive finds only itself (and, as the last word, its prefixes).
//!
//! # Files (under `search/`)
//! - `manifest.json`: format version, a build hash (the client adds `?v=<hash>` to
//!   every other file so a cached old shard never meets a new manifest), the number
//!   of documents, the first key of every term shard, the number of pair shards.
//! - `terms/<n>.json`: term shards, contiguous ranges of the sorted key space of
//!   about [`index::SHARD_BYTES`]: `{"stems": {stem: [docs, weights, parts]},
//!   "words": {word: [stem, …]}}`. Ranges (not hashes) so that a prefix typed so far
//!   maps to one or a few neighbouring shards.
//! - `pairs/<n>.json`: adjacent word pairs (`"member states"`), for quoted phrases,
//!   sharded by [`index::fnv1a`] of the pair. A phrase matches documents containing
//!   each of its consecutive pairs, which is exact for two-word phrases.
//! - `facets.json`: every facet value with its documents, and every document's date
//!   (see [`facets::Facets`]); filters and counts need no other file.
//! - `docs/<doc>-<part>.json`: a document's result-list metadata (title, date,
//!   references, URL) and one part of its text blocks with their pinpoint anchors,
//!   for snippets; postings say which part holds the first match.
//!
//! Number lists use the compact encoding of [`encode`]. Documents are numbered in
//! the archive's order (newest first). Every file is a pure function of the archive:
//! keys are sorted and no map order leaks, so the same input gives the same bytes.

pub mod encode;
pub mod facets;
pub mod index;
pub mod text;

use crate::archive::Archive;
use crate::render::OutputFile;
use rayon::prelude::*;
use serde::Serialize;

/// The format of the files, for the client to refuse one it does not know.
pub const FORMAT_VERSION: u32 = 1;

/// `manifest.json`.
#[derive(Debug, Serialize)]
pub struct Manifest {
    /// [`FORMAT_VERSION`].
    pub version: u32,
    /// The first 16 hex digits of a SHA-256 over every other search file.
    pub build: String,
    /// How many documents are indexed.
    pub documents: usize,
    /// The first key of each term shard; shard `n` is `terms/<n>.json`.
    pub terms: Vec<String>,
    /// How many pair shards there are; a pair is in `pairs/<fnv1a(pair) % pairs>.json`.
    pub pairs: usize,
    /// Longest word the index keeps, in characters.
    pub max_word: usize,
}

/// Every file of the search index, ready to write under the site root.
pub fn index_files(archive: &Archive) -> Vec<OutputFile> {
    let (built, facets) = rayon::join(|| index::build(archive), || facets::facets(archive));
    let mut files: Vec<OutputFile> = Vec::with_capacity(
        built.term_shards.len() + built.pair_shards.len() + built.parts.len() + 2,
    );
    let mut first_keys = Vec::with_capacity(built.term_shards.len());
    for (n, (first, bytes)) in built.term_shards.into_iter().enumerate() {
        first_keys.push(first);
        files.push(OutputFile {
            path: format!("search/terms/{n}.json"),
            bytes,
        });
    }
    let pairs = built.pair_shards.len();
    for (n, bytes) in built.pair_shards.into_iter().enumerate() {
        files.push(OutputFile {
            path: format!("search/pairs/{n}.json"),
            bytes,
        });
    }
    files.push(OutputFile {
        path: "search/facets.json".into(),
        bytes: serde_json::to_vec(&facets).unwrap_or_default(),
    });
    files.extend(built.parts);
    let manifest = Manifest {
        version: FORMAT_VERSION,
        build: build_hash(&files),
        documents: archive.documents.len(),
        terms: first_keys,
        pairs,
        max_word: text::MAX_WORD_CHARS,
    };
    files.push(OutputFile {
        path: "search/manifest.json".into(),
        bytes: serde_json::to_vec(&manifest).unwrap_or_default(),
    });
    files
}

/// A short hash of the files' paths and bytes, computed file by file in parallel.
fn build_hash(files: &[OutputFile]) -> String {
    use sha2::{Digest, Sha256};
    let digests: Vec<[u8; 32]> = files
        .par_iter()
        .map(|f| {
            let mut h = Sha256::new();
            h.update(f.path.as_bytes());
            h.update([0]);
            h.update(&f.bytes);
            h.finalize().into()
        })
        .collect();
    let mut all = Sha256::new();
    for d in &digests {
        all.update(d);
    }
    crate::load::hex(&all.finalize()[..8])
}
