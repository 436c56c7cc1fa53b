//! The per-document step of the search index: a [`Document`] in, a
//! [`DocumentAnalysis`] out, depending on nothing else.
//!
//! Everything the index needs from one document is computed here: its words folded
//! and stemmed in its own language, their weighted counts, the order they come in
//! (for phrases), and the snippet files shown in result lists. The assembly step
//! ([`super::index::assemble`]) then only counts, sorts and encodes across
//! documents. Because an analysis depends on the document alone (its language has
//! already been resolved against the site's default when it was validated), a
//! caller that rebuilds often (`annals serve`) can keep the analyses of unchanged
//! documents and analyse only the edited ones; the assembled index is the same
//! bytes as from a clean build.
//!
//! An analysis names words by strings (in one buffer per document, so there is no
//! allocation per word), never by numbers shared with other documents: that is
//! what makes it reusable on its own.

use super::index::{Counted, Texts};
use super::text::{tokens, Analyzer};
use crate::document::Document;
use crate::markdown::{self, RenderOptions, RenderedBody, TextBlock};
use rustc_hash::FxHashMap;
use serde::Serialize;
use std::collections::HashSet;

/// A document's text is published for snippets in parts of about this many bytes,
/// so a result fetches only the part where its match is.
pub const PART_BYTES: usize = 4096;
/// Longest text kept per block in the snippet files (the index has all of it).
pub const BLOCK_CHARS: usize = 2000;

/// Separates segments (blocks, metadata values) in a document's word stream.
pub(super) const SEPARATOR: u32 = u32::MAX;

/// How much one occurrence counts, by where it is. Whole numbers, so that sums of
/// them are exact in `f32` whatever the order of addition.
const TITLE: f32 = 4.0;
const REFERENCE: f32 = 4.0;
const META: f32 = 2.0;
const HEADING: f32 = 2.0;
const BODY: f32 = 1.0;

/// Folds and stems each distinct raw word form once, however many documents use
/// it: stemming is the dearest step of analysis, and most words recur.
///
/// Only an accelerator: [`analyse_document`] returns the same analysis with a fresh
/// memo or one that has seen a million words. Keep one per thread.
#[derive(Default, Clone)]
pub struct WordMemo {
    /// Per stemmer ([`Analyzer::stemmer_code`]): raw form -> (folded word, folded
    /// stem), as numbers into `strings`.
    by_stemmer: Vec<FxHashMap<Box<str>, (u32, u32)>>,
    /// Folded words and stems seen, and the number of each.
    ids: FxHashMap<Box<str>, u32>,
    strings: Vec<Box<str>>,
    /// Scratch for the document being analysed: per string number, the document
    /// (by `generation`) that last used it and its key number in that document
    /// ([`analyse_body`]) or, while counting, a stem's slot.
    seen: Vec<(u32, u32)>,
    generation: u32,
}

impl WordMemo {
    /// The number of a folded word or stem, numbering it on first sight.
    pub(super) fn intern(&mut self, s: &str) -> u32 {
        if self.ids.len() < self.strings.len() {
            // Sealed, and used again: look the strings up again.
            self.ids = (self.strings.iter().cloned()).zip(0..).collect();
            self.seen.resize(self.strings.len(), (0, 0));
        }
        if let Some(&id) = self.ids.get(s) {
            return id;
        }
        let id = self.strings.len() as u32;
        let boxed: Box<str> = Box::from(s);
        self.strings.push(boxed.clone());
        self.ids.insert(boxed, id);
        self.seen.push((0, 0));
        id
    }

    /// Every folded word and stem seen, by number.
    pub(super) fn strings(&self) -> &[Box<str>] {
        &self.strings
    }

    /// Forgets how to analyse and look up words, keeping the strings by number:
    /// all a finished group needs.
    pub(super) fn seal(&mut self) {
        self.by_stemmer = Vec::new();
        self.ids = FxHashMap::default();
        self.seen = Vec::new();
        self.strings.shrink_to_fit();
    }

    /// The (folded word, folded stem) numbers of a raw word form.
    fn analyse(&mut self, code: usize, analyzer: &Analyzer, raw: &str) -> (u32, u32) {
        if self.by_stemmer.len() <= code {
            self.by_stemmer.resize_with(code + 1, FxHashMap::default);
        }
        if let Some(&found) = self.by_stemmer[code].get(raw) {
            return found;
        }
        let a = analyzer.analyze(raw);
        let found = (self.intern(&a.word), self.intern(&a.stem));
        self.by_stemmer[code].insert(Box::from(raw), found);
        found
    }

    /// Starts a new document: forgets which strings the last one used.
    fn begin(&mut self) {
        self.generation = self.generation.wrapping_add(1);
        if self.generation == 0 {
            // After 2^32 documents, stamps could repeat: clear them once.
            self.seen.iter_mut().for_each(|s| *s = (0, 0));
            self.generation = 1;
        }
    }

    /// The document's key number for a string, adding it to `keys` on first use.
    fn key(&mut self, id: u32, keys: &mut Keys) -> u32 {
        let slot = &mut self.seen[id as usize];
        if slot.0 == self.generation {
            return slot.1;
        }
        let n = keys.push(&self.strings[id as usize]);
        *slot = (self.generation, n);
        n
    }
}

/// Distinct strings in one buffer: key `i` is `text[ends[i - 1]..ends[i]]`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Keys {
    pub(super) text: String,
    pub(super) ends: Vec<u32>,
}

impl Keys {
    /// Adds `s`; returns its number.
    pub(super) fn push(&mut self, s: &str) -> u32 {
        self.text.push_str(s);
        self.ends.push(self.text.len() as u32);
        (self.ends.len() - 1) as u32
    }

    /// Key `i`.
    pub fn get(&self, i: u32) -> &str {
        let i = i as usize;
        let start = match i {
            0 => 0,
            _ => self.ends[i - 1] as usize,
        };
        &self.text[start..self.ends[i] as usize]
    }

    /// How many keys there are.
    pub fn len(&self) -> usize {
        self.ends.len()
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.ends.is_empty()
    }

    /// Every key, in order.
    pub fn iter(&self) -> impl Iterator<Item = &str> + '_ {
        (0..self.ends.len() as u32).map(move |i| self.get(i))
    }
}

/// What one document contributes to the search index. Made by
/// [`analyse_document`]; consumed by [`super::index::assemble`] and
/// [`snippet_files`]. Words are keys into [`DocumentAnalysis::keys`], local to
/// this document.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct DocumentAnalysis {
    /// The document's distinct folded words and stems.
    pub keys: Keys,
    /// Weighted number of words, for BM25's length normalisation.
    pub length: f32,
    /// Per distinct stem: (stem key, weighted occurrences, snippet part of its
    /// first body occurrence or 0), in order of first occurrence.
    pub stems: Vec<(u32, f32, u16)>,
    /// Per distinct raw form: (folded word key, index into `stems`).
    pub forms: Vec<(u32, u32)>,
    /// The text as form numbers, segments separated by [`SEPARATOR`]; phrases and
    /// neighbours are read from it.
    pub stream: Vec<u32>,
    /// Each segment's weight and snippet part (`None` for metadata).
    pub segments: Vec<(f32, Option<u16>)>,
    /// The snippet files' contents, part by part (their paths depend on the
    /// document's number in the archive, so they are given at assembly).
    pub parts: Vec<Vec<u8>>,
}

/// A snippet file: a document's metadata for the result list and one part of its
/// text blocks. Every part repeats the metadata so a result needs one fetch.
#[derive(Serialize)]
struct PartFile<'a> {
    url: &'a str,
    title: &'a str,
    date: &'a str,
    iso: &'a str,
    refs: &'a [String],
    #[serde(rename = "type")]
    doc_type: Option<&'a str>,
    summary: Option<&'a str>,
    part: usize,
    parts: usize,
    /// `[anchor, text]`; an empty anchor is text outside citable blocks.
    blocks: Vec<(&'a str, &'a str)>,
}

/// The site path of a document's snippet part.
pub fn part_path(doc: usize, part: usize) -> String {
    format!("search/docs/{doc}-{part}.json")
}

/// Text left after a part's limit that is shorter than this stays in the
/// part rather than opening one of its own: a document of 4.5 KB (a letter
/// or a note; 38% of the benchmark's 10,000 documents) would otherwise
/// publish a second file of a few hundred bytes, its footnotes, which a
/// search result showing them fetches on its own and a build writes as a
/// whole file.
const SMALL_TAIL: usize = PART_BYTES / 4;

/// Groups blocks into parts of about [`PART_BYTES`]: the part of each block.
/// A part ends at the first block that would take it past the limit, unless
/// what remains of the document from that block on is a [`SMALL_TAIL`].
pub(super) fn assign_parts(blocks: &[TextBlock]) -> Vec<u16> {
    let lens: Vec<usize> = (blocks.iter())
        .map(|b| b.text.len().min(BLOCK_CHARS * 4))
        .collect();
    let mut remaining: usize = lens.iter().sum();
    let mut out = Vec::with_capacity(blocks.len());
    let mut part: u16 = 0;
    let mut size = 0usize;
    for len in lens {
        if size > 0 && size + len > PART_BYTES && remaining >= SMALL_TAIL {
            part = part.saturating_add(1);
            size = 0;
        }
        size += len;
        remaining -= len;
        out.push(part);
    }
    out
}

/// A block's text cut to [`BLOCK_CHARS`] characters at a character boundary.
pub(super) fn clipped(text: &str) -> &str {
    match text.char_indices().nth(BLOCK_CHARS) {
        Some((i, _)) => &text[..i],
        None => text,
    }
}

/// The contents of a document's snippet files.
fn part_contents(doc: &Document, blocks: &[TextBlock], part_of: &[u16]) -> Vec<Vec<u8>> {
    let count = part_of.last().map_or(1, |&p| usize::from(p) + 1);
    let url = doc.path();
    let date = doc.date.display();
    let iso = doc.date.iso();
    let mut by_part: Vec<Vec<(&str, &str)>> = vec![Vec::new(); count];
    for (b, &p) in blocks.iter().zip(part_of) {
        by_part[usize::from(p)].push((b.anchor.as_str(), clipped(&b.text)));
    }
    by_part
        .into_iter()
        .enumerate()
        .map(|(p, blocks)| {
            let file = PartFile {
                url: &url,
                title: &doc.title,
                date: &date,
                iso: &iso,
                refs: &doc.references,
                doc_type: doc.doc_type.as_deref(),
                summary: doc.summary.as_deref(),
                part: p,
                parts: count,
                blocks,
            };
            // Kept until the search stage writes it: no spare capacity.
            let mut bytes = serde_json::to_vec(&file).unwrap_or_default();
            bytes.shrink_to_fit();
            bytes
        })
        .collect()
}

/// The snippet files of a document that is number `index` in the archive.
pub fn snippet_files(
    index: usize,
    analysis: &DocumentAnalysis,
) -> impl Iterator<Item = crate::render::OutputFile> + '_ {
    analysis
        .parts
        .iter()
        .enumerate()
        .map(move |(p, bytes)| crate::render::OutputFile {
            path: part_path(index, p),
            bytes: bytes.clone(),
        })
}

/// Analyses one document: its title, references, metadata (summary, senders,
/// recipients, markings, taxonomy terms, provenance), events, and the searchable
/// text blocks of its body, from which redactions have been removed (the index
/// never sees redacted text).
///
/// Pure: the result depends on `doc` alone; `memo` only saves work (see
/// [`WordMemo`]). The body is parsed for its text only: no HTML is made and no
/// code highlighted, since the blocks need neither.
///
/// Fails only when the body was set aside on disk and cannot be read back (see
/// [`crate::document::Body`]): analysing an empty text instead would drop the
/// document's words from the index without a word.
pub fn analyse_document(doc: &Document, memo: &mut WordMemo) -> std::io::Result<DocumentAnalysis> {
    let text = doc.body.text().map_err(|e| {
        std::io::Error::new(
            e.kind(),
            format!(
                "{}: the body could not be read back: {e}",
                doc.file.display()
            ),
        )
    })?;
    let body = markdown::render_with(&text, &RenderOptions::analysis(None));
    Ok(analyse_body(doc, &body, memo))
}

/// [`analyse_document`] from the document's body as already rendered (with any
/// options: only its text blocks and headings are read, and they do not depend on
/// the options), so that the build reads each body once: the link stage renders
/// it for its links and mentions, and analyses it then.
pub fn analyse_body(doc: &Document, body: &RenderedBody, memo: &mut WordMemo) -> DocumentAnalysis {
    let reading = read(doc, body);
    let (mut stems, mut forms) = count(doc, &reading.raws, memo);
    // The memo's numbers, renumbered to this document's own keys, in the order
    // the forms meet them (each form's word, then its stem).
    memo.begin();
    let mut keys = Keys::default();
    let stem_ids: Vec<u32> = stems.iter().map(|s| s.0).collect();
    for form in &mut forms {
        form.0 = memo.key(form.0, &mut keys);
        let slot = form.1 as usize;
        stems[slot].0 = memo.key(stem_ids[slot], &mut keys);
    }
    let Reading {
        segments,
        mut stream,
        length,
        part_of,
        ..
    } = reading;
    // Analyses are kept for the whole assembly (and across builds by a caller that
    // caches them): no spare capacity.
    stream.shrink_to_fit();
    keys.text.shrink_to_fit();
    keys.ends.shrink_to_fit();
    DocumentAnalysis {
        keys,
        length,
        stems: without_options(stems),
        forms,
        stream,
        segments: segments.iter().map(|&(_, w, p)| (w, p)).collect(),
        parts: part_contents(doc, &body.blocks, &part_of),
    }
}

/// [`analyse_body`] straight into a group of documents: words and stems are
/// numbered by the group's memo (which the group keeps as its table of keys), so
/// no document gets a table of its own that the group then looks up again. What
/// the assembly needs is returned, with the snippet files' contents; it is the
/// same analysis as [`analyse_body`] makes, up to the numbering of keys.
pub(super) fn analyse_counted(
    doc: &Document,
    body: &RenderedBody,
    memo: &mut WordMemo,
    texts: &mut Texts,
) -> (Counted, Vec<Vec<u8>>) {
    let reading = read(doc, body);
    let (stems, forms) = count(doc, &reading.raws, memo);
    let segments: Vec<(f32, Option<u16>)> =
        reading.segments.iter().map(|&(_, w, p)| (w, p)).collect();
    let counted = Counted::new(
        reading.length,
        stems
            .into_iter()
            .map(|(id, tf, part)| (id, tf, part.unwrap_or(0))),
        texts.push(&forms, &reading.stream, &segments),
    );
    (counted, part_contents(doc, &body.blocks, &reading.part_of))
}

/// A stem's (number, weighted occurrences, first body part) in one document.
type StemCount = (u32, f32, Option<u16>);

/// Folds and stems each distinct raw form (once per memo) and aggregates them by
/// stem: per stem (memo number, weighted occurrences, first body part), in order
/// of first occurrence, and per form (memo number of its word, its stem's slot).
fn count(
    doc: &Document,
    raws: &[(&str, f32, Option<u16>)],
    memo: &mut WordMemo,
) -> (Vec<StemCount>, Vec<(u32, u32)>) {
    let analyzer = Analyzer::new(&doc.language);
    let code = Analyzer::stemmer_code(&doc.language);
    memo.begin();
    let generation = memo.generation;
    let mut stems: Vec<(u32, f32, Option<u16>)> = Vec::new();
    let mut forms = Vec::with_capacity(raws.len());
    for &(raw, tf, part) in raws {
        let (word, stem) = memo.analyse(code, &analyzer, raw);
        // The memo's scratch, per string: this document's slot of the stem.
        let seen = &mut memo.seen[stem as usize];
        let slot = if seen.0 == generation {
            seen.1
        } else {
            stems.push((stem, 0.0, None));
            let slot = (stems.len() - 1) as u32;
            *seen = (generation, slot);
            slot
        };
        add_occurrences(&mut stems[slot as usize], tf, part);
        forms.push((word, slot));
    }
    (stems, forms)
}

/// Adds a raw form's weighted occurrences to its stem's.
fn add_occurrences(stem: &mut (u32, f32, Option<u16>), tf: f32, part: Option<u16>) {
    stem.1 += tf;
    // Parts are in reading order: a stem's first body part is the least.
    stem.2 = match (stem.2, part) {
        (Some(a), Some(b)) => Some(a.min(b)),
        (a, b) => a.or(b),
    };
}

/// Stems with part 0 for those only in metadata.
fn without_options(stems: Vec<(u32, f32, Option<u16>)>) -> Vec<(u32, f32, u16)> {
    let mut stems: Vec<(u32, f32, u16)> = stems
        .into_iter()
        .map(|(id, tf, part)| (id, tf, part.unwrap_or(0)))
        .collect();
    // Collected in place: without this, the counting's spare capacity is kept.
    stems.shrink_to_fit();
    stems
}

/// A document's text as raw word forms: what its analysis is before words are
/// folded and stemmed.
struct Reading<'a> {
    /// Each segment's text, weight and snippet part (`None` for metadata).
    segments: Vec<(&'a str, f32, Option<u16>)>,
    /// Distinct raw forms with their weighted counts and first body part.
    raws: Vec<(&'a str, f32, Option<u16>)>,
    /// The text as raw form numbers, segments separated by [`SEPARATOR`].
    stream: Vec<u32>,
    length: f32,
    /// Each text block's snippet part.
    part_of: Vec<u16>,
}

fn read<'a>(doc: &'a Document, body: &'a RenderedBody) -> Reading<'a> {
    let headings: HashSet<&str> = body.headings.iter().map(|h| h.id.as_str()).collect();
    let part_of = assign_parts(&body.blocks);

    let mut segments: Vec<(&str, f32, Option<u16>)> = vec![(doc.title.as_str(), TITLE, None)];
    segments.extend(doc.references.iter().map(|r| (r.as_str(), REFERENCE, None)));
    let meta = doc
        .summary
        .iter()
        .chain(&doc.from)
        .chain(&doc.to)
        .chain(&doc.markings)
        .chain(doc.terms.values().flatten())
        .chain(
            doc.source
                .iter()
                .flat_map(|s| s.authority.iter().chain(&s.request)),
        );
    segments.extend(meta.map(|t| (t.as_str(), META, None)));
    for event in &doc.events {
        segments.push((&event.title, BODY, None));
        if let Some(d) = &event.description {
            segments.push((d, BODY, None));
        }
    }
    for (block, &part) in body.blocks.iter().zip(&part_of) {
        let weight = if headings.contains(block.anchor.as_str()) {
            HEADING
        } else {
            BODY
        };
        segments.push((&block.text, weight, Some(part)));
    }

    // Distinct raw word forms, their weighted counts, and the stream.
    let bytes: usize = segments.iter().map(|s| s.0.len()).sum();
    let mut raw_index: FxHashMap<&str, u32> =
        FxHashMap::with_capacity_and_hasher(bytes / 16, Default::default());
    let mut raws: Vec<(&str, f32, Option<u16>)> = Vec::with_capacity(bytes / 16);
    let mut stream: Vec<u32> = Vec::with_capacity(bytes / 5 + segments.len());
    let mut length = 0.0;
    for &(text, weight, part) in &segments {
        for (_, token) in tokens(text) {
            let n = *raw_index.entry(token).or_insert_with(|| {
                raws.push((token, 0.0, None));
                (raws.len() - 1) as u32
            });
            let raw = &mut raws[n as usize];
            raw.1 += weight;
            raw.2 = raw.2.or(part);
            length += weight;
            stream.push(n);
        }
        stream.push(SEPARATOR);
    }
    Reading {
        segments,
        raws,
        stream,
        length,
        part_of,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parts_are_cut_between_blocks() {
        let block = |n: usize| TextBlock {
            anchor: String::new(),
            text: "x".repeat(n),
        };
        let blocks = vec![block(3000), block(1000), block(200), block(5000), block(10)];
        // The last 10 bytes stay with the block before them.
        assert_eq!(assign_parts(&blocks), [0, 0, 1, 2, 2]);
        // A letter's footnotes after its 4 KB of text stay in its one part;
        // a longer tail opens a second.
        let letter = vec![block(3500), block(500), block(300), block(300)];
        assert_eq!(assign_parts(&letter), [0, 0, 0, 0]);
        let longer = vec![block(3500), block(500), block(700), block(400)];
        assert_eq!(assign_parts(&longer), [0, 0, 1, 1]);
        assert_eq!(
            clipped(&"é".repeat(BLOCK_CHARS + 5)).chars().count(),
            BLOCK_CHARS
        );
    }

    #[test]
    fn keys_hold_strings_back_to_back() {
        let mut keys = Keys::default();
        assert!(keys.is_empty());
        assert_eq!(keys.push("data"), 0);
        assert_eq!(keys.push("régul"), 1);
        assert_eq!(keys.push(""), 2);
        assert_eq!(keys.get(1), "régul");
        assert_eq!(keys.iter().collect::<Vec<_>>(), ["data", "régul", ""]);
    }
}
