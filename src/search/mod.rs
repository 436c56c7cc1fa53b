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
//! - `terms/k<hex>.json`: term shards, contiguous ranges of the sorted key
//!   space of one to two times [`index::SHARD_BYTES`]: `{"stems": {stem: [docs,
//!   weights, parts]}, "words": {word: [stem, …]}}`. Ranges (not hashes) so that
//!   a prefix typed so far maps to one or a few neighbouring shards. A shard is
//!   named by its first key ([`index::term_shard_name`]) and ends where the key
//!   space says (see `ShardCutter`), so that an edit replaces only the shards whose entries
//!   changed.
//! - `pairs/<n>.json`: adjacent word pairs (`"member states"`), for quoted phrases,
//!   sharded by [`index::fnv1a`] of the pair, into a power of two of shards (so
//!   that their number rarely changes). A phrase matches documents containing
//!   each of its consecutive pairs, which is exact for two-word phrases.
//! - `facets.json`: every facet value with its documents, and every document's date
//!   (see [`facets::Facets`]); filters and counts need no other file.
//! - `docs/<doc>-<part>.json`: a document's result-list metadata (title, date,
//!   references, URL) and one part of its text blocks with their pinpoint anchors,
//!   for snippets; postings say which part holds the first match.
//!
//! # Two steps, for incremental builds
//! [`analyse_document`] turns one document into a [`DocumentAnalysis`]: its words
//! folded and stemmed, counted and in order, and its snippet files. It depends on
//! that document alone, so a caller that rebuilds often can keep the analyses of
//! unchanged documents. [`index::assemble`] then works over all analyses (document
//! frequencies, phrase neighbours, postings, shards) without reading a document
//! again. [`write_index`] does both for a clean build and hands every file on as
//! soon as it is made. The build does not call [`analyse_document`]: the link
//! stage, which renders every body anyway, analyses it then, straight into its
//! chunk's group ([`Interned::add_body`]), so a body is parsed once; `annals
//! serve` keeps the analyses in an [`AnalysisCache`] ([`analyse_body`]), and the
//! link stage analyses only the documents it does not have, and keeps the
//! groups too, so that an edit interns only its own chunk again
//! ([`write_index_kept`]).
//!
//! Number lists use the compact encoding of [`encode`]. Documents are numbered in
//! the archive's order (newest first). Every file is a pure function of the archive:
//! keys are sorted and no map order leaks, so the same input gives the same bytes.

pub mod analyse;
pub mod encode;
pub mod facets;
pub mod index;
pub mod patch;
pub mod state;
pub mod text;

pub use analyse::{analyse_body, analyse_document, DocumentAnalysis, WordMemo};
pub use index::Interned;

use crate::archive::Archive;
use crate::document::Document;
use crate::render::OutputFile;
use crate::spill::{Spill, SpilledList};
use rayon::prelude::*;
use rustc_hash::FxHashMap;
use serde::Serialize;
use sha2::{Digest, Sha256};
use std::hash::{DefaultHasher, Hash, Hasher};
use std::sync::Arc;

/// The format of the files, for the client to refuse one it does not know.
pub const FORMAT_VERSION: u32 = 2;

/// `manifest.json`.
#[derive(Debug, Serialize)]
pub struct Manifest {
    /// [`FORMAT_VERSION`].
    pub version: u32,
    /// The first 16 hex digits of a SHA-256 over every other search file.
    pub build: String,
    /// How many documents are indexed.
    pub documents: usize,
    /// The first key of each term shard; shard `n`'s file is named by it
    /// ([`index::term_shard_name`]).
    pub terms: Vec<String>,
    /// How many pair shards there are; a pair is in `pairs/<fnv1a(pair) % pairs>.json`.
    pub pairs: usize,
    /// Longest word the index keeps, in characters.
    pub max_word: usize,
}

/// A chunk of consecutive documents' analyses, interned, with each document's
/// snippet files (part by part).
pub type InternedChunk = (Interned, Snippets);

/// The snippet files of consecutive documents, part by part, set aside in a
/// [`Spill`] from the link pass that makes them to the search stage that
/// writes them: 4.6 KB a document that would otherwise be held in memory
/// through both stages.
#[derive(Debug, Clone)]
pub struct Snippets {
    parts: SpilledList,
    /// Where each document's parts end in `parts`.
    ends: Vec<u32>,
}

impl Snippets {
    /// No documents yet, spilling to `spill`.
    pub fn new(spill: Arc<Spill>) -> Snippets {
        Snippets {
            parts: SpilledList::new(spill),
            ends: Vec::new(),
        }
    }

    /// Adds the next document's snippet files.
    pub fn push_document(&mut self, parts: &[Vec<u8>]) {
        for part in parts {
            self.parts.push(part);
        }
        self.ends.push(self.parts.len() as u32);
    }

    /// Writes what is still held in memory; call once every document is added.
    pub fn finish(&mut self) {
        self.parts.finish();
        self.ends.shrink_to_fit();
    }

    /// How many documents there are.
    pub fn len(&self) -> usize {
        self.ends.len()
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.ends.is_empty()
    }

    /// The snippet files of these documents, the first being document number
    /// `first` of the archive, read back in order.
    fn files(&self, first: usize) -> impl Iterator<Item = std::io::Result<OutputFile>> + '_ {
        (0..self.ends.len()).flat_map(move |i| {
            let start = match i {
                0 => 0,
                _ => self.ends[i - 1] as usize,
            };
            (start..self.ends[i] as usize).map(move |at| {
                let path = analyse::part_path(first + i, at - start);
                match self.parts.get(at) {
                    Ok(bytes) => Ok(OutputFile { path, bytes }),
                    Err(e) => Err(std::io::Error::new(e.kind(), format!("{path}: {e}"))),
                }
            })
        })
    }
}

/// Every document's analysis, in the archive's order, as the link stage made them
/// (it renders every body once for its links and analyses it then; see
/// [`crate::archive::links::index`]): whole and shared, so that `serve`'s
/// [`AnalysisCache`] can keep them without a copy, or interned at once.

#[derive(Debug, Default, Clone)]
pub struct Analyses {
    /// One per document, when a session keeps them for its [`AnalysisCache`].
    pub documents: Vec<Arc<DocumentAnalysis>>,
    /// Otherwise the analyses interned at once, per chunk of [`chunk_size`]
    /// consecutive documents, with each document's snippet files: a document's
    /// own copy of its words is dropped as soon as it is made.
    pub interned: Vec<InternedChunk>,
    /// How many of them were made by this build (the others came from a cache).
    pub made: usize,
    /// Otherwise, when the link pass analysed only some documents (see
    /// [`crate::archive::links::Reuse::only`]): theirs, by document number.
    pub only: Vec<(usize, Arc<DocumentAnalysis>)>,
}

/// Every file of the search index, ready to write under the site root. Holds the
/// whole index in memory: the build streams it with [`write_index`] instead.
pub fn index_files(archive: &Archive) -> std::io::Result<Vec<OutputFile>> {
    write_index(archive, archive.search.clone(), |file| file)
}

/// Builds the search index of an archive from its documents' analyses and hands
/// each file to `sink` as soon as it is made (from several threads at once);
/// returns what `sink` returned, in a fixed order (term shards, pair shards,
/// `facets.json`, snippet files by document, `manifest.json` last). Fails only if
/// bytes set aside in a [`Spill`] cannot be read back: the link pass's snippet
/// files, or a body that must be analysed again.
///
/// Each analysis is interned and its snippet files handed on in parallel, and
/// dropped unless a cache shares it; then the assembly ([`index::assemble`])
/// works over all of them, freeing each part once done with it. Analyses that do not match the archive (a caller
/// that took them away) are made again with [`analyse_document`].
pub fn write_index<R: Send>(
    archive: &Archive,
    analyses: Analyses,
    sink: impl Fn(OutputFile) -> R + Sync,
) -> std::io::Result<Vec<R>> {
    write_index_hashed(archive, analyses, |file, _| sink(file))
}

/// [`write_index`], handing `sink` each file's SHA-256 with it: the index
/// computes it for its build hash, so a caller that records files by digest (the
/// build's manifest) need not hash 90 MB again.
pub fn write_index_hashed<R: Send>(
    archive: &Archive,
    analyses: Analyses,
    sink: impl Fn(OutputFile, &[u8; 32]) -> R + Sync,
) -> std::io::Result<Vec<R>> {
    index_with(archive, analyses, None, sink).map(|(results, _)| results)
}

/// [`write_index_hashed`] for a session that keeps the interned groups of
/// its last build in `kept`: a chunk of documents whose analyses are all the
/// ones its kept group was made from (the same [`AnalysisCache`] entries) takes
/// that group as it is, so after an edit only the edited document's chunk is
/// interned again. `kept` is left holding this build's groups (none when the
/// analyses came interned from the link pass, which a session never does). The
/// groups and the analyses they were made from are held through the assembly.
pub fn write_index_kept<R: Send>(
    archive: &Archive,
    analyses: Analyses,
    kept: &mut Vec<KeptGroup>,
    sink: impl Fn(OutputFile, &[u8; 32]) -> R + Sync,
) -> std::io::Result<Vec<R>> {
    index_with(archive, analyses, Some(kept), sink).map(|(results, _)| results)
}

/// [`write_index_kept`] (without a session if `kept` is `None`), returning
/// also what a later [`patch::patch`] of the index starts from.
pub fn write_index_state<R: Send>(
    archive: &Archive,
    analyses: Analyses,
    kept: Option<&mut Vec<KeptGroup>>,
    sink: impl Fn(OutputFile, &[u8; 32]) -> R + Sync,
) -> std::io::Result<(Vec<R>, patch::SearchState)> {
    index_with(archive, analyses, kept, sink)
}

/// [`write_index_kept`], or without a session (`kept` is `None`) the same
/// without keeping anything: each analysis is dropped once interned, and the
/// assembly frees the groups as it goes.
fn index_with<R: Send>(
    archive: &Archive,
    analyses: Analyses,
    mut kept: Option<&mut Vec<KeptGroup>>,
    sink: impl Fn(OutputFile, &[u8; 32]) -> R + Sync,
) -> std::io::Result<(Vec<R>, patch::SearchState)> {
    let documents = &archive.documents;
    let emit = |file: OutputFile| {
        let content: [u8; 32] = Sha256::digest(&file.bytes).into();
        ((file.path.clone(), content), sink(file, &content))
    };
    let interned_count: usize = analyses.interned.iter().map(|g| g.0.len()).sum();
    if interned_count == documents.len() && !analyses.interned.is_empty() {
        // Interned by the link pass: the snippet files are handed on while the
        // index is assembled. Writing them is mostly the kernel's work, and the
        // assembly leaves a core idle in its sequential passes, so the two
        // overlap on two cores.
        let mut first = 0;
        let (groups, parts): (Vec<index::Interned>, Vec<SnippetsFrom>) = analyses
            .interned
            .into_iter()
            .map(|(interned, parts)| {
                let at = first;
                first += interned.len();
                (interned, (at, parts))
            })
            .unzip();
        let emit_parts = || {
            let chunks = parts
                .into_par_iter()
                .map(|(first, snippets)| {
                    snippets
                        .files(first)
                        .map(|file| file.map(emit))
                        .collect::<std::io::Result<Vec<_>>>()
                })
                .collect::<std::io::Result<Vec<_>>>()?;
            Ok(chunks.into_iter().flatten().collect())
        };
        if let Some(kept) = kept {
            kept.clear();
        }
        let mut groups = groups;
        return finish(
            archive,
            &mut groups,
            index::Release::AsYouGo,
            emit_parts,
            &emit,
        );
    }
    // Contiguous chunks, so that each word memo serves many documents.
    let chunk = chunk_size(documents.len());
    let keeping = kept.is_some();
    let mut previous: Vec<Option<KeptGroup>> = kept
        .as_deref_mut()
        .map(std::mem::take)
        .unwrap_or_default()
        .into_iter()
        .map(Some)
        .collect();
    previous.resize_with(documents.len().div_ceil(chunk), || None);
    let mut analyses: Vec<Option<Arc<DocumentAnalysis>>> =
        if analyses.documents.len() == documents.len() {
            analyses.documents.into_iter().map(Some).collect()
        } else {
            vec![None; documents.len()]
        };
    // Each chunk: hand the snippet files on, intern the rest (or take the kept
    // group made from the same analyses).
    let chunks: Vec<Chunk<R>> = documents
        .par_chunks(chunk)
        .zip(analyses.par_chunks_mut(chunk))
        .zip(previous.par_iter_mut())
        .enumerate()
        .map(|(c, ((docs, analyses), previous))| {
            let mut memo = WordMemo::default();
            let analyses: Vec<Arc<DocumentAnalysis>> = docs
                .iter()
                .zip(analyses)
                .map(|(doc, analysis)| match analysis.take() {
                    Some(analysis) => Ok(analysis),
                    None => analyse_document(doc, &mut memo).map(Arc::new),
                })
                .collect::<std::io::Result<_>>()?;
            let parts: Vec<_> = analyses
                .iter()
                .enumerate()
                .flat_map(|(i, a)| analyse::snippet_files(c * chunk + i, a).map(emit))
                .collect();
            let (group, reused) = match previous.take() {
                Some(k) if k.made_from(&analyses) => (k.group, true),
                _ => {
                    let mut group = index::Interned::default();
                    for analysis in &analyses {
                        group.push(analysis);
                    }
                    group.seal();
                    (group, false)
                }
            };
            let kept = KeptGroup {
                // Without a session, nothing needs them past interning.
                analyses: if keeping { analyses } else { Vec::new() },
                group,
                reused,
            };
            Ok((kept, parts))
        })
        .collect::<std::io::Result<_>>()?;
    let (mut this_build, parts): (Vec<KeptGroup>, Vec<_>) = chunks.into_iter().unzip();
    let parts: Vec<_> = parts.into_iter().flatten().collect();
    let mut groups: Vec<index::Interned> = this_build
        .iter_mut()
        .map(|k| std::mem::take(&mut k.group))
        .collect();
    let release = match keeping {
        true => index::Release::Keep,
        false => index::Release::AsYouGo,
    };
    let results = finish(archive, &mut groups, release, move || Ok(parts), &emit);
    if let Some(kept) = kept {
        for (k, group) in this_build.iter_mut().zip(groups) {
            k.group = group;
        }
        *kept = this_build;
    }
    results
}

/// A chunk's group, with what the sink returned for its snippet files (and
/// each file's path and SHA-256, for the build hash).
type Chunk<R> = (KeptGroup, Vec<(FileSha, R)>);

/// A file's site path and the SHA-256 of its bytes.
type FileSha = (String, [u8; 32]);

/// A chunk's interned group as a session keeps it between builds, with the
/// analyses it was made from.
#[derive(Debug, Default)]
pub struct KeptGroup {
    analyses: Vec<Arc<DocumentAnalysis>>,
    group: index::Interned,
    reused: bool,
}

impl KeptGroup {
    /// Whether this build took the group from the last one (rather than
    /// interning its documents again).
    pub fn reused(&self) -> bool {
        self.reused
    }

    /// How many documents the group holds.
    pub fn len(&self) -> usize {
        self.analyses.len()
    }

    /// Whether it holds none.
    pub fn is_empty(&self) -> bool {
        self.analyses.is_empty()
    }

    /// Whether the group was made from exactly these analyses, in this order.
    /// The analyses are compared as the shared values they are: a session's
    /// cache hands back the very analysis it kept for an unchanged document,
    /// and the group holds it, so it cannot be freed and its address reused.
    fn made_from(&self, analyses: &[Arc<DocumentAnalysis>]) -> bool {
        self.analyses.len() == analyses.len()
            && self
                .analyses
                .iter()
                .zip(analyses)
                .all(|(a, b)| Arc::ptr_eq(a, b))
    }
}

/// Documents per chunk: a few chunks per thread, so the threads stay busy and
/// each chunk's word table serves many documents.
pub fn chunk_size(documents: usize) -> usize {
    documents.div_ceil(rayon::current_num_threads() * 4).max(1)
}

/// A chunk's snippet files, with the number of its first document.
type SnippetsFrom = (usize, Snippets);

/// Analyses kept between builds by a caller that builds again and again in one
/// process (`annals serve`): after an edit only the changed documents are
/// analysed, the rest of the index is assembled from what was kept.
///
/// An analysis is filed under a hash of everything it is made from: the
/// document's file path, front matter and body, and (for the whole cache) the
/// site configuration and the annals binary, which decide how front matter is
/// read and words are stemmed. Each build replaces the cache's contents with its
/// own analyses, so it holds one archive's worth (about 15 KB a document), and
/// its interned groups ([`KeptGroup`], about 7 KB a document more).
#[derive(Default)]
pub struct AnalysisCache {
    salt: u64,
    kept: FxHashMap<u64, Arc<DocumentAnalysis>>,
    /// The last build's interned groups (see [`write_index_kept`]): taken by
    /// each build and put back when it succeeds.
    pub groups: Vec<KeptGroup>,
}

impl AnalysisCache {
    /// A kept analysis of `doc`, if the configuration is the one of `config_salt`.
    pub fn get(&self, salt: u64, doc: &Document) -> Option<Arc<DocumentAnalysis>> {
        if salt != self.salt {
            return None;
        }
        self.kept.get(&analysis_key(doc)).cloned()
    }

    /// Keeps a build's analyses (one per document of `documents`), dropping all
    /// others.
    pub fn keep(&mut self, salt: u64, documents: &[Document], analyses: &Analyses) {
        self.salt = salt;
        self.kept = documents
            .par_iter()
            .map(analysis_key)
            .zip(analyses.documents.par_iter().cloned())
            .collect();
    }

    /// How many analyses are kept.
    pub fn len(&self) -> usize {
        self.kept.len()
    }

    /// Whether none are.
    pub fn is_empty(&self) -> bool {
        self.kept.is_empty()
    }
}

/// What a document's analysis is made from, as a number; see [`AnalysisCache`].
fn analysis_key(doc: &Document) -> u64 {
    let mut h = DefaultHasher::new();
    doc.front_matter_hash.hash(&mut h);
    doc.body.hash(&mut h);
    h.finish()
}

/// What every analysis of a build depends on besides its document: the annals
/// binary and the site configuration. See [`AnalysisCache`].
pub fn cache_salt(config: &crate::config::Config) -> u64 {
    let mut h = DefaultHasher::new();
    env!("CARGO_PKG_VERSION").hash(&mut h);
    if let Ok(meta) = std::env::current_exe().and_then(std::fs::metadata) {
        meta.len().hash(&mut h);
        format!("{:?}", meta.modified().ok()).hash(&mut h);
    }
    format!("{config:?}").hash(&mut h);
    h.finish()
}

/// `search/facets.json`. Its mentions facet comes from the bodies, so a patch
/// of the index makes it again too.
pub fn facets_file(archive: &Archive) -> OutputFile {
    OutputFile {
        path: FACETS_FILE.into(),
        bytes: serde_json::to_vec(&facets::facets(archive)).unwrap_or_default(),
    }
}

/// The site path of [`facets_file`].
pub const FACETS_FILE: &str = "search/facets.json";

/// The assembly: term and pair shards, facets and manifest, with the snippet
/// files' results (emitted by `parts`, beside the assembly) put in their place
/// in the order.
fn finish<R: Send>(
    archive: &Archive,
    groups: &mut [index::Interned],
    release: index::Release,
    parts: impl FnOnce() -> std::io::Result<Vec<(FileSha, R)>> + Send,
    emit: &(dyn Fn(OutputFile) -> (FileSha, R) + Sync),
) -> std::io::Result<(Vec<R>, patch::SearchState)> {
    let (((layout, shards), facets), parts) = rayon::join(
        || {
            rayon::join(
                || index::assemble(groups, release, emit),
                || emit(facets_file(archive)),
            )
        },
        parts,
    );
    let mut all = shards;
    all.push(facets);
    all.extend(parts?);
    // The build hash covers every file, in the fixed order.
    let mut hash = Sha256::new();
    for ((path, content), _) in &all {
        hash.update(digest(path, content));
    }
    let build = crate::load::hex(&hash.finalize()[..8]);
    let manifest = Manifest {
        version: FORMAT_VERSION,
        build: build.clone(),
        documents: archive.documents.len(),
        terms: layout.first_keys,
        pairs: layout.pairs,
        max_word: text::MAX_WORD_CHARS,
    };
    let (_, last) = emit(OutputFile {
        path: "search/manifest.json".into(),
        bytes: serde_json::to_vec(&manifest).unwrap_or_default(),
    });
    let mut files = Vec::with_capacity(all.len());
    let mut results = Vec::with_capacity(all.len() + 1);
    for (file, result) in all {
        files.push(file);
        results.push(result);
    }
    results.push(last);
    let state = patch::SearchState {
        build,
        documents: archive.documents.len(),
        totals: layout.totals,
        files,
        forms: layout.forms,
        common: layout.common,
        stamps: Vec::new(),
    };
    Ok((results, state))
}

/// A file's share of the build hash: the SHA-256 of its path and of its bytes'
/// SHA-256.
pub(super) fn digest(path: &str, content: &[u8; 32]) -> [u8; 32] {
    let mut h = Sha256::new();
    h.update(path.as_bytes());
    h.update([0]);
    h.update(content);
    h.finalize().into()
}
