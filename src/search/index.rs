//! From documents to postings, in four passes, each parallel:
//!
//! 1. documents are analysed in contiguous chunks, one memo table ([`Lexicon`]) per
//!    chunk: each distinct word form is folded and stemmed once per chunk, and each
//!    document becomes counts per stem and a stream of word numbers;
//! 2. the chunks' strings are merged into one sorted table, so every word and stem
//!    has a global number in key order, and document frequencies tell the common
//!    stems (in more than [`COMMON_DF`] documents) from the rare ones;
//! 3. each document records, for every occurrence of a rare stem, hashes of the
//!    words before and after it, and every adjacent pair of two common words;
//! 4. postings are gathered per range of numbers and cut into shards.
//!
//! Phrases are answered from pass 3: a pair of words containing a rare one is
//! checked against the rare word's neighbours (few, since the word is rare), a pair
//! of two common words against the pair index. Neither a positional index nor an
//! index of every word pair is needed, and a phrase query never fetches the long
//! posting lists of common words.

use super::encode;
use super::text::{tokens, Analyzer};
use crate::archive::Archive;
use crate::document::Document;
use crate::markdown::{self, TextBlock};
use crate::render::OutputFile;
use rayon::prelude::*;
use rustc_hash::FxHashMap;
use serde::Serialize;
use std::collections::HashSet;

/// A document's text is published for snippets in parts of about this many bytes,
/// so a result fetches only the part where its match is.
pub const PART_BYTES: usize = 4096;
/// Longest text kept per block in the snippet files (the index has all of it).
pub const BLOCK_CHARS: usize = 2000;
/// Shards of postings are cut at about this many bytes.
pub const SHARD_BYTES: usize = 16 * 1024;
/// A stem in more documents than this is common: it has no neighbour hashes, and
/// pairs of two common words are indexed as pairs. Bounds what a phrase query
/// fetches for a rare word to a few kilobytes.
pub const COMMON_DF: usize = 1000;
/// Separates segments (blocks, metadata values) in a document's word stream.
const SEPARATOR: u32 = u32::MAX;

/// How much one occurrence counts, by where it is.
const TITLE: f32 = 4.0;
const REFERENCE: f32 = 4.0;
const META: f32 = 2.0;
const HEADING: f32 = 2.0;
const BODY: f32 = 1.0;
/// BM25's term-frequency saturation and length normalisation.
const K1: f32 = 1.2;
const B: f32 = 0.75;

/// The FNV-1a hash (32 bits) of a key's UTF-8 bytes: pairs are sharded by it and
/// neighbours recorded by it; the client computes the same.
pub fn fnv1a(key: &str) -> u32 {
    let mut h: u32 = 0x811c_9dc5;
    for b in key.bytes() {
        h ^= u32::from(b);
        h = h.wrapping_mul(0x0100_0193);
    }
    h
}

/// A folded word's neighbour hash, 1–4095 (two digits of [`encode::ALPHABET`]);
/// 0 means no neighbour (the start or end of a block).
pub fn word_hash(word: &str) -> u16 {
    (fnv1a(word) % 4095 + 1) as u16
}

/// A memo table for one chunk of documents: raw word form (per stemmer) -> (folded
/// word, folded stem), both as numbers local to the table.
#[derive(Default)]
struct Lexicon {
    by_stemmer: Vec<FxHashMap<Box<str>, (u32, u32)>>,
    ids: FxHashMap<Box<str>, u32>,
}

impl Lexicon {
    fn id(&mut self, s: String) -> u32 {
        let next = self.ids.len() as u32;
        *self.ids.entry(s.into_boxed_str()).or_insert(next)
    }

    fn analyze(&mut self, code: usize, analyzer: &Analyzer, raw: &str) -> (u32, u32) {
        if self.by_stemmer.len() <= code {
            self.by_stemmer.resize_with(code + 1, FxHashMap::default);
        }
        if let Some(&found) = self.by_stemmer[code].get(raw) {
            return found;
        }
        let a = analyzer.analyze(raw);
        let found = (self.id(a.word), self.id(a.stem));
        self.by_stemmer[code].insert(Box::from(raw), found);
        found
    }
}

/// What one document contributes. Numbers are local to the chunk's [`Lexicon`]
/// after pass 1, global after [`Analysed::renumber`].
struct Analysed {
    /// Weighted number of words, for length normalisation.
    length: f32,
    /// (stem, weighted occurrences, snippet part of the first body occurrence or
    /// 0), sorted by stem once numbers are global.
    stems: Vec<(u32, f32, u16)>,
    /// Distinct word forms: (folded word, index into `stems`).
    forms: Vec<(u32, u32)>,
    /// The text as form numbers, segments separated by [`SEPARATOR`].
    stream: Vec<u32>,
    /// Each segment's weight and snippet part (`None` for metadata).
    segments: Vec<(f32, Option<u16>)>,
    /// Pass 3: neighbour hashes of rare stems, encoded, and each stem's range in it.
    near: String,
    near_at: Vec<(u32, u32)>,
    /// Pass 3: pairs of common words, ((first << 32) | second, tf, part), sorted.
    pairs: Vec<(u64, f32, u16)>,
    /// The snippet files.
    parts: Vec<OutputFile>,
}

impl Analysed {
    /// Replaces local numbers by global ones and sorts the stems.
    fn renumber(&mut self, global: &[u32]) {
        let mut order: Vec<u32> = (0..self.stems.len() as u32).collect();
        for s in &mut self.stems {
            s.0 = global[s.0 as usize];
        }
        order.sort_unstable_by_key(|&i| self.stems[i as usize].0);
        let mut position = vec![0u32; order.len()];
        for (new, &old) in order.iter().enumerate() {
            position[old as usize] = new as u32;
        }
        self.stems = order.iter().map(|&i| self.stems[i as usize]).collect();
        for f in &mut self.forms {
            f.0 = global[f.0 as usize];
            f.1 = position[f.1 as usize];
        }
    }
}

/// A snippet file: a document's metadata for the result list and one part of its
/// text blocks. Every part repeats the metadata so a result needs one fetch.
#[derive(Serialize)]
struct PartFile<'a> {
    url: String,
    title: &'a str,
    date: String,
    iso: String,
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

/// Groups blocks into parts of about [`PART_BYTES`]: the part of each block.
fn assign_parts(blocks: &[TextBlock]) -> Vec<u16> {
    let mut out = Vec::with_capacity(blocks.len());
    let mut part: u16 = 0;
    let mut size = 0usize;
    for block in blocks {
        let len = block.text.len().min(BLOCK_CHARS * 4);
        if size > 0 && size + len > PART_BYTES {
            part = part.saturating_add(1);
            size = 0;
        }
        size += len;
        out.push(part);
    }
    out
}

/// A block's text cut to [`BLOCK_CHARS`] characters at a character boundary.
fn clipped(text: &str) -> &str {
    match text.char_indices().nth(BLOCK_CHARS) {
        Some((i, _)) => &text[..i],
        None => text,
    }
}

/// The snippet files of a document.
fn part_files(
    index: usize,
    doc: &Document,
    blocks: &[TextBlock],
    part_of: &[u16],
) -> Vec<OutputFile> {
    let count = part_of.last().map_or(1, |&p| usize::from(p) + 1);
    let url = doc.path();
    (0..count)
        .map(|p| {
            let blocks = blocks
                .iter()
                .zip(part_of)
                .filter(|(_, &bp)| usize::from(bp) == p)
                .map(|(b, _)| (b.anchor.as_str(), clipped(&b.text)))
                .collect();
            let file = PartFile {
                url: url.clone(),
                title: &doc.title,
                date: doc.date.display(),
                iso: doc.date.iso(),
                refs: &doc.references,
                doc_type: doc.doc_type.as_deref(),
                summary: doc.summary.as_deref(),
                part: p,
                parts: count,
                blocks,
            };
            OutputFile {
                path: part_path(index, p),
                bytes: serde_json::to_vec(&file).unwrap_or_default(),
            }
        })
        .collect()
}

/// Pass 1: analyses one document, its metadata fields and the searchable blocks of
/// its body (redacted text is never in them).
fn analyse(index: usize, doc: &Document, lexicon: &mut Lexicon) -> Analysed {
    let body = markdown::render(&doc.body);
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
    let mut raw_index: FxHashMap<&str, u32> = FxHashMap::default();
    let mut raws: Vec<(&str, f32, Option<u16>)> = Vec::new();
    let mut stream: Vec<u32> = Vec::new();
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

    // Fold and stem each distinct form once per chunk; aggregate by stem.
    let analyzer = Analyzer::new(&doc.language);
    let code = Analyzer::stemmer_code(&doc.language);
    let mut stem_slot: FxHashMap<u32, u32> = FxHashMap::default();
    let mut stems: Vec<(u32, f32, Option<u16>)> = Vec::new();
    let mut forms = Vec::with_capacity(raws.len());
    for &(raw, tf, part) in &raws {
        let (word, stem) = lexicon.analyze(code, &analyzer, raw);
        let slot = *stem_slot.entry(stem).or_insert_with(|| {
            stems.push((stem, 0.0, None));
            (stems.len() - 1) as u32
        });
        let s = &mut stems[slot as usize];
        s.1 += tf;
        // Parts are in reading order: a stem's first body part is the least.
        s.2 = match (s.2, part) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        };
        forms.push((word, slot));
    }
    Analysed {
        length,
        stems: stems
            .into_iter()
            .map(|(id, tf, part)| (id, tf, part.unwrap_or(0)))
            .collect(),
        forms,
        stream,
        segments: segments.iter().map(|&(_, w, p)| (w, p)).collect(),
        near: String::new(),
        near_at: Vec::new(),
        pairs: Vec::new(),
        parts: part_files(index, doc, &body.blocks, &part_of),
    }
}

/// Pass 3: neighbour hashes of the document's rare stems, and its pairs of common
/// words.
fn neighbours(doc: &mut Analysed, rare: &[bool], hashes: &[u16]) {
    let is_rare: Vec<bool> = doc.stems.iter().map(|s| rare[s.0 as usize]).collect();
    let mut near: Vec<Vec<(u16, u16)>> = vec![Vec::new(); doc.stems.len()];
    let mut pairs: FxHashMap<u64, (f32, Option<u16>)> = FxHashMap::default();
    let forms = &doc.forms;
    let segments = doc.stream.split(|&n| n == SEPARATOR).zip(&doc.segments);
    for (segment, &(weight, part)) in segments {
        for (i, &f) in segment.iter().enumerate() {
            let (word, slot) = forms[f as usize];
            let next = segment.get(i + 1).map(|&g| forms[g as usize]);
            if is_rare[slot as usize] {
                let before = match i {
                    0 => 0,
                    _ => hashes[forms[segment[i - 1] as usize].0 as usize],
                };
                let after = next.map_or(0, |(w, _)| hashes[w as usize]);
                near[slot as usize].push((before, after));
            }
            if let Some((next_word, next_slot)) = next {
                if !is_rare[slot as usize] && !is_rare[next_slot as usize] {
                    let key = (u64::from(word) << 32) | u64::from(next_word);
                    let entry = pairs.entry(key).or_insert((0.0, None));
                    entry.0 += weight;
                    entry.1 = entry.1.or(part);
                }
            }
        }
    }
    let mut out = String::new();
    let mut at = Vec::with_capacity(near.len());
    for mut occurrences in near {
        let start = out.len() as u32;
        if !occurrences.is_empty() {
            occurrences.sort_unstable();
            occurrences.dedup();
            encode::push_number(&mut out, occurrences.len() as u64);
            for (before, after) in occurrences {
                for h in [before, after] {
                    encode::push_digit(&mut out, (h >> 6) as u8);
                    encode::push_digit(&mut out, (h & 63) as u8);
                }
            }
        }
        at.push((start, out.len() as u32 - start));
    }
    doc.near = out;
    doc.near_at = at;
    let mut pairs: Vec<(u64, f32, u16)> = pairs
        .into_iter()
        .map(|(k, (tf, part))| (k, tf, part.unwrap_or(0)))
        .collect();
    pairs.sort_unstable_by_key(|p| p.0);
    doc.pairs = pairs;
}

/// A merged posting list, encoded with [`encode`]: document indexes (ascending,
/// gap-coded), one weight digit per document, the snippet part per document (empty
/// when all are 0), and for a rare stem its neighbours per document.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Postings {
    /// [`encode::ascending`] document indexes.
    pub docs: String,
    /// One [`encode::ALPHABET`] digit (1–63) per document: BM25 term weight.
    pub weights: String,
    /// [`encode::push_number`] part per document, or empty if every part is 0.
    pub parts: String,
    /// Rare stems only, per document: the number of distinct neighbour pairs, then
    /// each pair as four digits (the hash of the word before, of the word after,
    /// two digits each, [`word_hash`]). Empty for common stems and for pairs.
    pub near: String,
}

impl Postings {
    fn json_len(&self) -> usize {
        self.docs.len() + self.weights.len() + self.parts.len() + self.near.len() + 14
    }
}

/// Quantises a BM25 term weight (0 to `K1 + 1`) to a digit 1–63.
fn quantise(tf: f32, length: f32, average: f32) -> u8 {
    let norm = K1 * (1.0 - B + B * length / average.max(1.0));
    let w = tf * (K1 + 1.0) / (tf + norm);
    ((w / (K1 + 1.0) * 63.0).round() as u8).clamp(1, 63)
}

/// One document's entry in a posting list: (document, tf, part, neighbours).
type Entry<'a> = (u32, f32, u16, &'a str);

fn encode_postings(list: &[Entry<'_>], lengths: &[f32], average: f32) -> Postings {
    let docs = encode::ascending(list.iter().map(|e| e.0));
    let mut weights = String::with_capacity(list.len());
    for &(d, tf, _, _) in list {
        encode::push_digit(&mut weights, quantise(tf, lengths[d as usize], average));
    }
    let mut parts = String::new();
    if list.iter().any(|e| e.2 != 0) {
        for e in list {
            encode::push_number(&mut parts, u64::from(e.2));
        }
    }
    Postings {
        docs,
        weights,
        parts,
        near: list.iter().map(|e| e.3).collect(),
    }
}

/// Pass 4 for stems: postings by stem number. Entries are placed by counting
/// sort (one pass over the documents, in order), then encoded in parallel.
fn stem_postings(
    docs: &[Analysed],
    df: &[usize],
    lengths: &[f32],
    average: f32,
) -> Vec<Option<Postings>> {
    let mut starts = Vec::with_capacity(df.len() + 1);
    let mut total = 0;
    for &n in df {
        starts.push(total);
        total += n;
    }
    starts.push(total);
    let mut cursor = starts.clone();
    let mut entries: Vec<Entry<'_>> = vec![(0, 0.0, 0, ""); total];
    for (d, doc) in docs.iter().enumerate() {
        for (&(id, tf, part), &(start, len)) in doc.stems.iter().zip(&doc.near_at) {
            let near = &doc.near[start as usize..(start + len) as usize];
            entries[cursor[id as usize]] = (d as u32, tf, part, near);
            cursor[id as usize] += 1;
        }
    }
    starts
        .par_windows(2)
        .map(|w| (w[1] > w[0]).then(|| encode_postings(&entries[w[0]..w[1]], lengths, average)))
        .collect()
}

/// Pass 4 for pairs of common words: (first word, second word, postings), sorted
/// by the words' numbers.
fn pair_postings(docs: &[Analysed], lengths: &[f32], average: f32) -> Vec<(u32, u32, Postings)> {
    let mut all: Vec<(u64, Entry<'_>)> = docs
        .iter()
        .enumerate()
        .flat_map(|(d, doc)| {
            doc.pairs
                .iter()
                .map(move |&(key, tf, part)| (key, (d as u32, tf, part, "")))
        })
        .collect();
    // Stable: each pair's entries stay in document order.
    all.par_sort_by_key(|e| e.0);
    let groups: Vec<&[(u64, Entry<'_>)]> = all.chunk_by(|a, b| a.0 == b.0).collect();
    groups
        .par_iter()
        .map(|group| {
            let key = group[0].0;
            let list: Vec<Entry<'_>> = group.iter().map(|e| e.1).collect();
            let postings = encode_postings(&list, lengths, average);
            ((key >> 32) as u32, key as u32, postings)
        })
        .collect()
}

/// The built search index, before it is written.
pub struct Built {
    /// Term shards, in key order: each shard's first key and its bytes.
    pub term_shards: Vec<(String, Vec<u8>)>,
    /// Pair shards, by number (`fnv1a(pair) % count`).
    pub pair_shards: Vec<Vec<u8>>,
    /// Snippet parts.
    pub parts: Vec<OutputFile>,
}

fn json_string(out: &mut String, s: &str) {
    out.push_str(&serde_json::to_string(s).unwrap_or_else(|_| "\"\"".into()));
}

/// `[docs, weights, parts]`, with `near` as a fourth item when there is one. The
/// encoded strings need no escaping.
fn push_postings(out: &mut String, p: &Postings) {
    out.push('[');
    let near = (!p.near.is_empty()).then_some(&p.near);
    for (i, s) in [&p.docs, &p.weights, &p.parts]
        .into_iter()
        .chain(near)
        .enumerate()
    {
        if i > 0 {
            out.push(',');
        }
        out.push('"');
        out.push_str(s);
        out.push('"');
    }
    out.push(']');
}

/// One key of the term shards: the key, its postings as a stem, and (for a folded
/// word whose stems differ from it) its stems.
type TermEntry<'a> = (&'a str, Option<&'a Postings>, Option<Vec<&'a str>>);

fn term_entry_len(e: &TermEntry<'_>) -> usize {
    e.0.len()
        + 4
        + e.1.map_or(0, Postings::json_len)
        + e.2.as_ref().map_or(0, |s| {
            s.iter().map(|x| x.len() + 3).sum::<usize>() + e.0.len() + 4
        })
}

/// A term shard: `{"stems": {stem: postings}, "words": {word: [stem, ...]}}`.
fn term_shard_json(entries: &[TermEntry<'_>]) -> Vec<u8> {
    let mut out = String::with_capacity(entries.iter().map(term_entry_len).sum::<usize>() + 32);
    out.push_str("{\"stems\":{");
    let mut first = true;
    for (key, postings, _) in entries {
        if let Some(p) = postings {
            if !first {
                out.push(',');
            }
            first = false;
            json_string(&mut out, key);
            out.push(':');
            push_postings(&mut out, p);
        }
    }
    out.push_str("},\"words\":{");
    first = true;
    for (key, _, stems) in entries {
        if let Some(stems) = stems {
            if !first {
                out.push(',');
            }
            first = false;
            json_string(&mut out, key);
            out.push_str(":[");
            for (i, s) in stems.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                json_string(&mut out, s);
            }
            out.push(']');
        }
    }
    out.push_str("}}");
    out.into_bytes()
}

/// A pair shard: `{"member states": postings, ...}`, keys sorted.
fn pair_shard_json(entries: &[(String, &Postings)]) -> Vec<u8> {
    let mut out = String::from("{");
    for (i, (key, p)) in entries.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        json_string(&mut out, key);
        out.push(':');
        push_postings(&mut out, p);
    }
    out.push('}');
    out.into_bytes()
}

/// Cuts key-sorted entries into shards of about [`SHARD_BYTES`]: the end of each.
fn cut_shards(lengths: impl IntoIterator<Item = usize>) -> Vec<usize> {
    let mut ends = Vec::new();
    let mut size = 0usize;
    let mut count = 0usize;
    for (i, len) in lengths.into_iter().enumerate() {
        if count > 0 && size + len > SHARD_BYTES {
            ends.push(i);
            size = 0;
            count = 0;
        }
        size += len;
        count += 1;
    }
    if count > 0 || ends.is_empty() {
        ends.push(ends.last().copied().unwrap_or(0) + count);
    }
    ends
}

/// The shard holding `key`: the last shard whose first key is not after it. The
/// client's `termShard` is the same binary search (comparing by code point, as
/// Rust compares strings).
pub fn term_shard(first_keys: &[String], key: &str) -> usize {
    first_keys
        .partition_point(|k| k.as_str() <= key)
        .saturating_sub(1)
}

/// Builds the whole index from the archive's documents.
pub fn build(archive: &Archive) -> Built {
    let documents = &archive.documents;
    // Pass 1, in contiguous chunks so each memo table serves many documents.
    let chunk = documents
        .len()
        .div_ceil(rayon::current_num_threads() * 4)
        .max(1);
    let chunks: Vec<(Lexicon, Vec<Analysed>)> = documents
        .par_chunks(chunk)
        .enumerate()
        .map(|(c, docs)| {
            let mut lexicon = Lexicon::default();
            let analysed = docs
                .iter()
                .enumerate()
                .map(|(i, doc)| analyse(c * chunk + i, doc, &mut lexicon))
                .collect();
            (lexicon, analysed)
        })
        .collect();

    let (lexicons, groups): (Vec<Lexicon>, Vec<Vec<Analysed>>) = chunks.into_iter().unzip();
    let mut analysed: Vec<Analysed> = groups.into_iter().flatten().collect();

    // Pass 2: one sorted table of every folded word and stem.
    let mut unique: FxHashMap<&str, u32> = FxHashMap::default();
    for lexicon in &lexicons {
        for s in lexicon.ids.keys() {
            let next = unique.len() as u32;
            unique.entry(s).or_insert(next);
        }
    }
    let mut strings: Vec<&str> = unique.keys().copied().collect();
    strings.par_sort_unstable();
    for (i, s) in strings.iter().enumerate() {
        unique.insert(s, i as u32);
    }
    let global: Vec<Vec<u32>> = lexicons
        .par_iter()
        .map(|lexicon| {
            let mut g = vec![0; lexicon.ids.len()];
            for (s, &local) in &lexicon.ids {
                g[local as usize] = unique[&**s];
            }
            g
        })
        .collect();
    let mut word_stems: Vec<(u32, u32)> = lexicons
        .iter()
        .zip(&global)
        .flat_map(|(lexicon, g)| {
            lexicon
                .by_stemmer
                .iter()
                .flat_map(|m| m.values())
                .filter(|(w, s)| w != s)
                .map(|&(w, s)| (g[w as usize], g[s as usize]))
        })
        .collect();
    word_stems.par_sort_unstable();
    word_stems.dedup();
    // Each document is renumbered with its own chunk's table.
    let chunk_of = |d: usize| d / chunk;
    analysed
        .par_iter_mut()
        .enumerate()
        .for_each(|(d, doc)| doc.renumber(&global[chunk_of(d)]));

    let lengths: Vec<f32> = analysed.iter().map(|a| a.length).collect();
    let average = if lengths.is_empty() {
        1.0
    } else {
        (lengths.iter().map(|&l| f64::from(l)).sum::<f64>() / lengths.len() as f64) as f32
    };
    let mut df = vec![0usize; strings.len()];
    for doc in &analysed {
        for s in &doc.stems {
            df[s.0 as usize] += 1;
        }
    }
    let rare: Vec<bool> = df.iter().map(|&n| n <= COMMON_DF).collect();
    let hashes: Vec<u16> = strings.par_iter().map(|s| word_hash(s)).collect();

    // Pass 3.
    analysed
        .par_iter_mut()
        .for_each(|doc| neighbours(doc, &rare, &hashes));

    // Pass 4.
    let (stems, pairs) = rayon::join(
        || stem_postings(&analysed, &df, &lengths, average),
        || pair_postings(&analysed, &lengths, average),
    );

    // Terms and words share the sorted key space of `strings`, cut into ranges.
    let mut stems_of: Vec<Option<Vec<&str>>> = vec![None; strings.len()];
    for &(w, s) in &word_stems {
        stems_of[w as usize]
            .get_or_insert_with(Vec::new)
            .push(strings[s as usize]);
    }
    let entries: Vec<TermEntry<'_>> = strings
        .iter()
        .zip(stems.iter().zip(stems_of))
        .filter(|(_, (p, w))| p.is_some() || w.is_some())
        .map(|(s, (p, w))| (*s, p.as_ref(), w))
        .collect();
    let ends = cut_shards(entries.iter().map(term_entry_len));
    let starts: Vec<usize> = std::iter::once(0).chain(ends.iter().copied()).collect();
    let term_shards: Vec<(String, Vec<u8>)> = starts
        .par_iter()
        .zip(&ends)
        .enumerate()
        .map(|(i, (&start, &end))| {
            let first = match i {
                0 => String::new(),
                _ => entries[start].0.to_string(),
            };
            (first, term_shard_json(&entries[start..end]))
        })
        .collect();

    let keyed: Vec<(String, &Postings)> = pairs
        .par_iter()
        .map(|(a, b, p)| {
            (
                format!("{} {}", strings[*a as usize], strings[*b as usize]),
                p,
            )
        })
        .collect();
    let pair_bytes: usize = keyed.iter().map(|(k, p)| k.len() + 4 + p.json_len()).sum();
    let pair_count = pair_bytes.div_ceil(SHARD_BYTES).max(1);
    let mut by_shard: Vec<Vec<(String, &Postings)>> = vec![Vec::new(); pair_count];
    for (key, p) in keyed {
        by_shard[(fnv1a(&key) as usize) % pair_count].push((key, p));
    }
    by_shard
        .par_iter_mut()
        .for_each(|shard| shard.sort_unstable_by(|a, b| a.0.cmp(&b.0)));
    let pair_shards: Vec<Vec<u8>> = by_shard.par_iter().map(|e| pair_shard_json(e)).collect();

    let parts = analysed.into_iter().flat_map(|a| a.parts).collect();
    Built {
        term_shards,
        pair_shards,
        parts,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn term_shards_are_found_by_first_key() {
        let firsts: Vec<String> = ["", "data", "europol", "z"].map(String::from).to_vec();
        assert_eq!(term_shard(&firsts, "access"), 0);
        assert_eq!(term_shard(&firsts, "data"), 1);
        assert_eq!(term_shard(&firsts, "dat"), 0);
        assert_eq!(term_shard(&firsts, "europe"), 1);
        assert_eq!(term_shard(&firsts, "europol"), 2);
        assert_eq!(term_shard(&firsts, "zz"), 3);
        assert_eq!(term_shard(&firsts, "émigré"), 3);
    }

    #[test]
    fn shards_are_cut_by_size_in_key_order() {
        let lengths = vec![SHARD_BYTES / 8; 100];
        let ends = cut_shards(lengths.iter().copied());
        assert_eq!(ends.len(), 13);
        assert_eq!(ends[0], 8);
        assert_eq!(*ends.last().unwrap(), 100);
        assert!(ends.windows(2).all(|w| w[1] - w[0] <= 8));
        // An entry larger than a shard gets a shard of its own.
        assert_eq!(cut_shards([10, SHARD_BYTES * 3, 10]), [1, 2, 3]);
        assert_eq!(cut_shards([]), [0]);
    }

    #[test]
    fn weights_saturate_and_favour_short_documents() {
        assert!(quantise(1.0, 100.0, 100.0) < quantise(4.0, 100.0, 100.0));
        assert!(quantise(4.0, 100.0, 100.0) < quantise(40.0, 100.0, 100.0));
        assert!(quantise(2.0, 50.0, 100.0) > quantise(2.0, 400.0, 100.0));
        assert_eq!(quantise(1e6, 1.0, 100.0), 63);
        assert!(quantise(0.001, 1e6, 1.0) >= 1);
    }

    #[test]
    fn parts_are_cut_between_blocks() {
        let block = |n: usize| TextBlock {
            anchor: String::new(),
            text: "x".repeat(n),
        };
        let blocks = vec![block(3000), block(1000), block(200), block(5000), block(10)];
        assert_eq!(assign_parts(&blocks), [0, 0, 1, 2, 3]);
        assert_eq!(
            clipped(&"é".repeat(BLOCK_CHARS + 5)).chars().count(),
            BLOCK_CHARS
        );
    }
}
