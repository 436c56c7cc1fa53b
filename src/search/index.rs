//! The assembly step of the search index: from every document's
//! [`DocumentAnalysis`] to the shard files, in passes that are each parallel.
//!
//! 1. the analyses' keys (folded words and stems) are merged into one sorted
//!    table, so every key has a global number in key order, and document
//!    frequencies tell the common stems (in more than [`COMMON_DF`] documents) from
//!    the rare ones;
//! 2. each document records, for every occurrence of a rare stem, hashes of the
//!    words before and after it, and every adjacent pair of two common words;
//! 3. postings are gathered per key (a counting sort over the documents, so no
//!    list is ever sorted) and encoded, then cut into shards that are handed out
//!    one by one as they are made. A large archive's postings are gathered and
//!    encoded for one range of keys at a time (see [`ENTRIES_PER_RANGE`]).
//!
//! Phrases are answered from pass 2: a pair of words containing a rare one is
//! checked against the rare word's neighbours (few, since the word is rare), a pair
//! of two common words against the pair index. Neither a positional index nor an
//! index of every word pair is needed, and a phrase query never fetches the long
//! posting lists of common words.
//!
//! Nothing here looks at a document again: what a document contributes is all in
//! its analysis (see [`super::analyse`]), so analyses kept from an earlier build
//! assemble to the same bytes as fresh ones.

use super::analyse::{DocumentAnalysis, Keys, WordMemo, SEPARATOR};
use super::encode;
use crate::document::Document;
use crate::markdown::RenderedBody;
use crate::render::OutputFile;
use rayon::prelude::*;
use rustc_hash::FxHashMap;

/// Shards of postings are cut at about this many bytes.
pub const SHARD_BYTES: usize = 16 * 1024;
/// A stem in more documents than this is common: it has no neighbour hashes, and
/// pairs of two common words are indexed as pairs. Bounds what a phrase query
/// fetches for a rare word to a few kilobytes.
pub const COMMON_DF: usize = 1000;
/// Whether a stem in `df` of `documents` documents is common: in more than
/// [`COMMON_DF`] documents and more than one in twenty, or in more than half of
/// them (so that small archives use the pair index too). The one-in-twenty floor
/// keeps the pair index from growing with the square of the archive: at 100,000
/// documents a fixed threshold made thousands of words common, and the pairs of
/// them took 390 MB.
pub fn is_common(df: usize, documents: usize) -> bool {
    df > COMMON_DF.max(documents / 20) || 2 * df > documents
}

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

/// What pass 2 adds to one document, in global key numbers.
#[derive(Default)]
struct Neighbours {
    /// Neighbour hashes of rare stems, encoded, and where each stem slot's range
    /// in it ends (it starts where the previous slot's ends; empty for a common
    /// stem): four bytes a slot, for the millions of slots of a large archive.
    near: String,
    near_ends: Vec<u32>,
    /// Pairs of common words, (first, second, tf, part), sorted. The tf is a sum of
    /// whole weights, kept to 65,535 (far past where BM25's weight saturates).
    pairs: PairList,
}

/// A document's pairs of common words, (first word, second word, tf, part),
/// sorted, as variable-length numbers (LEB128): the first word's increase over
/// the previous pair's, then the second word, tf and part. About five bytes a
/// pair instead of twelve: a large archive's documents list tens of millions of
/// pairs, held from pass 2 until the pair postings are made.
#[derive(Default)]
struct PairList {
    bytes: Vec<u8>,
}

/// Where a reading of a [`PairList`] stands: the byte, and the first word of
/// the pair before it.
#[derive(Default, Clone, Copy)]
struct PairCursor {
    at: usize,
    first: u32,
}

type Pair = (u32, u32, u16, u16);

impl PairList {
    /// The list of `pairs`, which are sorted.
    fn new(pairs: impl Iterator<Item = Pair>) -> PairList {
        let mut bytes = Vec::new();
        let mut previous = 0;
        for (first, second, tf, part) in pairs {
            debug_assert!(first >= previous, "pairs are sorted");
            crate::varint::push(&mut bytes, u64::from(first - previous));
            crate::varint::push(&mut bytes, u64::from(second));
            crate::varint::push(&mut bytes, u64::from(tf));
            crate::varint::push(&mut bytes, u64::from(part));
            previous = first;
        }
        bytes.shrink_to_fit();
        PairList { bytes }
    }

    /// The pair at `cursor`, moving it past.
    fn next_at(&self, cursor: &mut PairCursor) -> Option<Pair> {
        let mut number = || crate::varint::read(&self.bytes, &mut cursor.at);
        let first = cursor.first + u32::try_from(number()?).ok()?;
        let second = u32::try_from(number()?).ok()?;
        let tf = u16::try_from(number()?).ok()?;
        let part = u16::try_from(number()?).ok()?;
        cursor.first = first;
        Some((first, second, tf, part))
    }

    /// Every pair, in order.
    fn iter(&self) -> impl Iterator<Item = Pair> + '_ {
        let mut cursor = PairCursor::default();
        std::iter::from_fn(move || self.next_at(&mut cursor))
    }
}

/// Pass 2 for one document: neighbour hashes of its rare stems, and its pairs of
/// common words. `hashes` are the [`word_hash`] of every global key. Collects
/// into flat lists and sorts them, rather than a list or map per stem: documents
/// have hundreds of stems, and this runs for every document.
fn neighbours(doc: Doc<'_>, rare: &[bool], hashes: &[u16]) -> Neighbours {
    let text = doc.text();
    match text.stream {
        Stream::Narrow(stream) => neighbours_in(doc, text, stream, rare, hashes),
        Stream::Wide(stream) => neighbours_in(doc, text, stream, rare, hashes),
    }
}

/// [`neighbours`] over a stream of either width; `T::MAX` separates segments.
fn neighbours_in<T: StreamWord>(
    doc: Doc<'_>,
    text: Text<'_>,
    stream: &[T],
    rare: &[bool],
    hashes: &[u16],
) -> Neighbours {
    let global = doc.global;
    let doc = doc.counted;
    let is_rare: Vec<bool> = doc
        .stems
        .iter()
        .map(|s| rare[global[s.0 as usize] as usize])
        .collect();
    // Each form's word in global key numbers, and its stem slot.
    let forms: Vec<(u32, u32)> = text
        .forms
        .iter()
        .map(|&(w, slot)| (global[w as usize], slot))
        .collect();
    // (stem slot, hash before, hash after) per occurrence of a rare stem.
    let mut near: Vec<(u32, u16, u16)> = Vec::with_capacity(stream.len());
    // (pair, weight, part) per occurrence of two adjacent common words.
    let mut pairs: Vec<(u64, f32, u16)> = Vec::with_capacity(stream.len());
    let segments = stream.split(|&n| n == T::SEPARATOR).zip(text.segments);
    for (segment, &(weight, part)) in segments {
        for (i, &f) in segment.iter().enumerate() {
            let (word, slot) = forms[f.index()];
            let next = segment.get(i + 1).map(|&g| forms[g.index()]);
            if is_rare[slot as usize] {
                let before = match i {
                    0 => 0,
                    _ => hashes[forms[segment[i - 1].index()].0 as usize],
                };
                let after = next.map_or(0, |(w, _)| hashes[w as usize]);
                near.push((slot, before, after));
            }
            if let Some((next_word, next_slot)) = next {
                if !is_rare[slot as usize] && !is_rare[next_slot as usize] {
                    let key = (u64::from(word) << 32) | u64::from(next_word);
                    // Metadata has no part: sorts after every body part.
                    pairs.push((key, weight, part.unwrap_or(u16::MAX)));
                }
            }
        }
    }
    near.sort_unstable();
    near.dedup();
    let mut out = String::with_capacity(near.len() * 5);
    let mut ends = Vec::with_capacity(doc.stems.len());
    let mut groups = near.chunk_by(|a, b| a.0 == b.0).peekable();
    for slot in 0..doc.stems.len() as u32 {
        if let Some(group) = groups.next_if(|g| g[0].0 == slot) {
            encode::push_number(&mut out, group.len() as u64);
            for &(_, before, after) in group {
                for h in [before, after] {
                    encode::push_digit(&mut out, (h >> 6) as u8);
                    encode::push_digit(&mut out, (h & 63) as u8);
                }
            }
        }
        ends.push(out.len() as u32);
    }
    // Per pair: the summed weight, and the first body part it occurs in (parts are
    // in reading order, so the least).
    pairs.sort_unstable_by_key(|p| (p.0, p.2));
    let pairs = PairList::new(pairs.chunk_by(|a, b| a.0 == b.0).map(|g| {
        let tf: f32 = g.iter().map(|p| p.1).sum();
        let part = match g[0].2 {
            u16::MAX => 0,
            p => p,
        };
        (
            (g[0].0 >> 32) as u32,
            g[0].0 as u32,
            tf.min(65_535.0) as u16,
            part,
        )
    }));
    // Held for every document through pass 3: no spare capacity.
    out.shrink_to_fit();
    Neighbours {
        near: out,
        near_ends: ends,
        pairs,
    }
}

/// How many pair shards `bytes` of pairs are cut into: a power of two, so that
/// the count (and with it every pair's shard) stays the same while an archive
/// grows or shrinks by up to half, as one edited document always does short of
/// a doubling: shards hold 8 to 16 KB.
pub(super) fn pair_shard_count(bytes: usize) -> usize {
    bytes.div_ceil(SHARD_BYTES).max(1).next_power_of_two()
}

/// The average document length as BM25 uses it: rounded to six bits of
/// mantissa (steps of 1.6%), so that editing one document almost never moves
/// it, and every other document's weights stay the same. What a length
/// 1.6% off changes in a ranking is far below what a weight's quantisation
/// to 63 steps does.
fn rounded_average(average: f32) -> f32 {
    const DROPPED: u32 = 23 - 6;
    let bits = average.to_bits();
    if !average.is_finite() || average <= 0.0 {
        return average;
    }
    f32::from_bits((bits + (1 << (DROPPED - 1))) & !((1 << DROPPED) - 1))
}

/// BM25's length normalisation of each document, computed once: the weight of a
/// term in document `d` is `tf * (K1 + 1) / (tf + norms[d])`.
fn length_norms(lengths: &[f32], average: f32) -> Vec<f32> {
    lengths
        .iter()
        .map(|&length| K1 * (1.0 - B + B * length / average.max(1.0)))
        .collect()
}

/// Quantises a BM25 term weight (0 to `K1 + 1`) to a digit 1–63.
pub(super) fn quantise(tf: f32, norm: f32) -> u8 {
    let w = tf * (K1 + 1.0) / (tf + norm);
    ((w / (K1 + 1.0) * 63.0).round() as u8).clamp(1, 63)
}

/// One document's entry in a posting list: (document, weight digit from
/// [`quantise`], part).
pub(super) type Entry = (u32, u8, u16);

/// Appends a merged posting list as JSON, `[docs, weights, parts]`, with `near`
/// as a fourth item when there is one, each a string of [`encode`] digits that
/// needs no escaping:
/// - `docs`: the document indexes, ascending, [`encode::ascending`];
/// - `weights`: one [`encode::ALPHABET`] digit (1–63) per document, the BM25
///   term weight;
/// - `parts`: [`encode::push_number`] snippet part per document, or empty if
///   every part is 0;
/// - `near`, rare stems only, per document: the number of distinct neighbour
///   pairs, then each pair as four digits (the hash of the word before, of the
///   word after, two digits each, [`word_hash`]).
///
/// `near` is given as pieces to write one after the other (each document's
/// neighbours, in the list's order, are one run of them).
///
/// Written straight into the shard's text: no string per field or per list.
pub(super) fn push_postings<'a>(
    out: &mut String,
    list: impl Iterator<Item = Entry> + Clone,
    near: impl Iterator<Item = &'a str> + Clone,
) {
    out.push_str("[\"");
    encode::push_ascending(out, list.clone().map(|e| e.0));
    out.push_str("\",\"");
    for (_, weight, _) in list.clone() {
        encode::push_digit(out, weight);
    }
    out.push_str("\",\"");
    if list.clone().any(|e| e.2 != 0) {
        for e in list {
            encode::push_number(out, u64::from(e.2));
        }
    }
    out.push('"');
    if near.clone().any(|piece| !piece.is_empty()) {
        out.push_str(",\"");
        for piece in near {
            out.push_str(piece);
        }
        out.push('"');
    }
    out.push(']');
}

/// A document's occurrence of a stem, as pass 3 files it: (document, part,
/// weight digit). Eight bytes, and everything the encoding needs except a rare
/// stem's neighbour hashes (filed beside, in the same order), so that encoding
/// a posting list reads contiguous runs instead of every document's stem list.
type StemEntry = (u32, u16, u8);

/// One range of documents' stem entries, filed by stem: where each stem's
/// entries end (they start where the previous stem's end), and where its
/// neighbour text ends in `near`.
struct FiledStems {
    ends: Vec<usize>,
    entries: Vec<StemEntry>,
    near_ends: Vec<usize>,
    near: Vec<u8>,
}

impl FiledStems {
    fn run(ends: &[usize], k: usize) -> std::ops::Range<usize> {
        match k {
            0 => 0..ends[0],
            _ => ends[k - 1]..ends[k],
        }
    }

    fn entries(&self, k: usize) -> &[StemEntry] {
        &self.entries[Self::run(&self.ends, k)]
    }

    fn near(&self, k: usize) -> &str {
        // Digits of the encoding's alphabet: ASCII.
        std::str::from_utf8(&self.near[Self::run(&self.near_ends, k)]).unwrap_or_default()
    }
}

/// Turns counts into starts, in place; returns the total.
fn starts(counts: &mut [usize]) -> usize {
    let mut at = 0;
    for n in counts {
        let here = *n;
        *n = at;
        at += here;
    }
    at
}

/// Entries filed at once, at most: the stem postings are made key range by
/// key range, each of about this many entries (8 bytes each, and their
/// encoded lists), and the pair postings first-word range by range (12 bytes an
/// entry), so that a large archive's filed entries and encoded lists are never
/// all in memory. An archive of 10,000 documents has about 3 million stem
/// entries: one range.
pub const ENTRIES_PER_RANGE: usize = 4 << 20;

/// Ranges of global key numbers, in order, each holding about
/// `entries_per_range` stem entries (a key's entries are its documents, `df`).
fn key_ranges(df: &[usize], entries_per_range: usize) -> Vec<std::ops::Range<usize>> {
    let mut ranges = Vec::new();
    let (mut start, mut entries) = (0, 0);
    for (k, &n) in df.iter().enumerate() {
        if entries > 0 && entries + n > entries_per_range {
            ranges.push(start..k);
            (start, entries) = (k, 0);
        }
        entries += n;
    }
    ranges.push(start..df.len());
    ranges
}

/// Each document's stem slots grouped by the key range their key falls in
/// (see [`key_ranges`]), so that filing a range reads only that range's
/// entries. Filing every range from every document's whole list looked up each
/// entry's key once a range: ranges times entries, and the ranges grow with the
/// archive (8 at 100,000 documents, 75 at a million), so that pass grew with
/// its square. Two bytes an entry, held through the stems' filing.
///
/// Per document: `ranges + 1` numbers, where each range's slots start after
/// them (and where the last ends), then the slots. Empty for a document with
/// more stems than two bytes number: its whole list is read for each range.
type RangeSlots = Vec<Vec<u16>>;

/// The most ranges whose slots are grouped per document; past it (a tiny
/// range size, as tests use), every list is read whole for each range.
const MAX_GROUPED_RANGES: usize = 255;

/// Groups each document's stem slots by range (see [`RangeSlots`]); `None`
/// for a single range (nothing to skip) or too many to count per document.
fn range_slots(
    docs: &[Doc<'_>],
    ranges: &[std::ops::Range<usize>],
    keys: usize,
) -> Option<RangeSlots> {
    if ranges.len() < 2 || ranges.len() > MAX_GROUPED_RANGES {
        return None;
    }
    let mut range_of = vec![0u8; keys];
    for (r, keys) in ranges.iter().enumerate() {
        range_of[keys.clone()].fill(r as u8);
    }
    let count = ranges.len();
    let grouped = docs
        .par_iter()
        .map(|doc| {
            let stems = &doc.counted.stems;
            if stems.len() > usize::from(u16::MAX) {
                return Vec::new();
            }
            let range =
                |s: &(u32, u16, u16)| usize::from(range_of[doc.global[s.0 as usize] as usize]);
            // Counts, then where each range's slots start; then the slots.
            let mut out = vec![0u16; count + 1 + stems.len()];
            for s in stems {
                out[range(s) + 1] += 1;
            }
            for r in 0..count {
                out[r + 1] += out[r];
            }
            let mut at: Vec<u16> = out[..count].to_vec();
            for (slot, s) in stems.iter().enumerate() {
                let r = range(s);
                out[count + 1 + usize::from(at[r])] = slot as u16;
                at[r] += 1;
            }
            out
        })
        .collect();
    Some(grouped)
}

/// The slots of `grouped` (one document's [`RangeSlots`] entry) in range `r`
/// of `count`, or `None` if its slots are not grouped.
fn slots_of_range(grouped: &[u16], r: usize, count: usize) -> Option<&[u16]> {
    let (starts, slots) = grouped.split_at_checked(count + 1)?;
    slots.get(usize::from(starts[r])..usize::from(starts[r + 1]))
}

/// Each of `doc`'s stem slots whose key is in a range, with the key's place
/// in it (`place`): `own`, the document's slots of the range if grouped (see
/// [`RangeSlots`]), else every slot, kept if its key is in the range.
fn in_range<'d>(
    doc: Doc<'d>,
    own: Option<&'d [u16]>,
    place: impl Fn(u32) -> Option<usize> + 'd,
) -> impl Iterator<Item = (usize, usize)> + 'd {
    let stems = &doc.counted.stems;
    let whole = if own.is_some() { 0 } else { stems.len() };
    let slots = own.into_iter().flatten().map(|&slot| usize::from(slot));
    slots
        .chain(0..whole)
        .filter_map(move |slot| Some((slot, place(doc.global[stems[slot].0 as usize])?)))
}

/// Pass 3 for the stems of one range of keys: each contiguous range of
/// documents (one per thread) files its entries of those keys by counting sort
/// on its own, in parallel, computing each weight while the document's stems
/// are at hand, and files each rare stem's neighbour text the same way, so
/// that encoding a list reads its neighbours in one run rather than from
/// every document (a cache miss each). A stem's list is then its runs in
/// range order, which is document order. With `grouped` (the documents' slots
/// by range, and which range of how many this is), each document's entries of
/// the range are read, not its whole list.
fn file_stems(
    docs: &[Doc<'_>],
    extra: &[Neighbours],
    keys: std::ops::Range<usize>,
    norms: &[f32],
    grouped: Option<(&RangeSlots, usize, usize)>,
) -> Vec<FiledStems> {
    // No more ranges than keep each range's table of key positions smaller
    // than its entries: an archive with many keys and few documents a thread
    // gets one range.
    let total: usize = docs.iter().map(|d| d.counted.stems.len()).sum();
    let count = rayon::current_num_threads()
        .min(total / keys.len().max(1))
        .max(1);
    let per = docs.len().div_ceil(count).max(1);
    let (first, width) = (keys.start, keys.len());
    // A key's place in the range, if it is in it.
    let place = |k: u32| (k as usize).checked_sub(first).filter(|&k| k < width);
    // A document's own slots of the range, if grouped.
    let own = |i: usize| {
        let (groups, r, count) = grouped?;
        slots_of_range(groups.get(i)?, r, count)
    };
    // Where a slot's neighbour text is in the document's.
    let near_of = |n: &Neighbours, slot: usize| {
        let start = slot.checked_sub(1).map_or(0, |before| n.near_ends[before]);
        start as usize..n.near_ends[slot] as usize
    };
    docs.par_chunks(per)
        .zip(norms.par_chunks(per))
        .zip(extra.par_chunks(per))
        .enumerate()
        .map(|(r, ((docs, norms), extra))| {
            // Counts, then starts, moved to ends as entries are placed.
            let mut ends = vec![0usize; width];
            let mut near_ends = vec![0usize; width];
            for (i, (doc, n)) in docs.iter().zip(extra).enumerate() {
                for (slot, k) in in_range(*doc, own(r * per + i), place) {
                    ends[k] += 1;
                    near_ends[k] += near_of(n, slot).len();
                }
            }
            let filed = starts(&mut ends);
            let near_bytes = starts(&mut near_ends);
            let mut entries: Vec<StemEntry> = vec![(0, 0, 0); filed];
            let mut near = vec![0u8; near_bytes];
            for (i, ((doc, &norm), n)) in docs.iter().zip(norms).zip(extra).enumerate() {
                let d = r * per + i;
                for (slot, k) in in_range(*doc, own(d), place) {
                    let (_, tf, part) = doc.counted.stems[slot];
                    let at = &mut ends[k];
                    let tf = doc.counted.count(slot, tf);
                    entries[*at] = (d as u32, part, quantise(tf, norm));
                    *at += 1;
                    let text = &n.near.as_bytes()[near_of(n, slot)];
                    let at = &mut near_ends[k];
                    near[*at..*at + text.len()].copy_from_slice(text);
                    *at += text.len();
                }
            }
            FiledStems {
                ends,
                entries,
                near_ends,
                near,
            }
        })
        .collect()
}

/// The encoded posting list of every key of `keys` from its filed entries
/// (`None` for a key that is no stem), in parallel.
fn encode_stems(
    filed: &[FiledStems],
    keys: std::ops::Range<usize>,
    rare: &[bool],
) -> Vec<Option<String>> {
    let first = keys.start;
    keys.into_par_iter()
        .map(|key| {
            let (k, rare) = (key - first, rare[key]);
            let count: usize = filed.iter().map(|r| r.entries(k).len()).sum();
            (count > 0).then(|| {
                let mut text = String::with_capacity(4 * count + 8);
                let list = filed
                    .iter()
                    .flat_map(move |r| r.entries(k))
                    .map(|&(d, part, weight)| (d, weight, part));
                let near = filed.iter().map(move |r| if rare { r.near(k) } else { "" });
                push_postings(&mut text, list, near);
                text.shrink_to_fit();
                text
            })
        })
        .collect()
}

/// Term shards cut as their entries come, in key order: the same cuts as
/// [`cut_shards`] makes from all the lengths at once, so that the stems can
/// be encoded range by range and each shard handed on once it is full.
///
/// The cuts depend on the keys, not only on the sizes: once a shard holds
/// [`SHARD_BYTES`], it ends before the first key whose hash is a multiple of
/// [`CUT_EVERY`] (or before the entry that would take it past twice that).
/// Cut by size alone, an entry that grew or a word added early in the key
/// space moved every later cut: an edit adding 150 new words to one document
/// of 10,000 rewrote 676 of the 700 term shards. Cut by key, the cuts after
/// the change fall where they fell, and only the shards whose entries changed
/// are new (a search index patched in place needs that too).
#[derive(Default)]
pub(super) struct ShardCutter {
    size: usize,
    count: usize,
}

/// After [`SHARD_BYTES`], one key in this many ends a term shard.
const CUT_EVERY: u32 = 16;

impl ShardCutter {
    /// Adds the entry of `key`, of `len` bytes; whether it starts a new shard
    /// (the shard before it is then complete).
    pub(super) fn starts_shard(&mut self, key: &str, len: usize) -> bool {
        let cut = self.count > 0
            && ((self.size >= SHARD_BYTES && (fnv1a(key) >> 8) % CUT_EVERY == 0)
                || self.size + len > 2 * SHARD_BYTES);
        if cut {
            (self.size, self.count) = (0, 0);
        }
        self.size += len;
        self.count += 1;
        cut
    }
}

/// Where one pair of common words is in its first word's [`PairText`]: the
/// FNV-1a hash of the pair (which picks the shard), and the ends of the pair
/// (`"member states"`) and of its postings' JSON after it. A pair starts where
/// the previous one ends.
type PairSpan = (u32, u32, u32);

/// Every pair of one first word, encoded one after the other into one string:
/// one allocation per common word instead of one per pair.
type PairText = (String, Vec<PairSpan>);

/// One occurrence list entry of a pair: (second word, document, tf, part).
type PairEntry = (u32, u32, u16, u16);

/// Pass 3 for pairs of common words. The documents' pair lists are moved into
/// a table by counting sort on the first word (documents in order, so each
/// first word's entries are in document order), each first word's entries are
/// sorted by the second word in parallel, and its pairs are encoded into one
/// string: no list of all pairs with their postings is ever built. The pairs
/// come out in order of (first word, second word) numbers, which is key order.
///
/// The table is made for a range of first words at a time, of about
/// `entries_per_range` entries: a large archive's documents list tens of
/// millions of pairs, and a table of all of them beside the documents' own
/// lists was the assembly's peak. The documents' lists are freed as the last
/// range reads them.
fn pair_postings(
    extra: &mut [Neighbours],
    strings: &[&str],
    norms: &[f32],
    entries_per_range: usize,
) -> Vec<PairText> {
    let mut counts = vec![0usize; strings.len()];
    for n in extra.iter() {
        for p in n.pairs.iter() {
            counts[p.0 as usize] += 1;
        }
    }
    // Each document's list is sorted by first word, so each range of first
    // words is the next run of it: read on from where the last range stopped.
    let mut cursors = vec![PairCursor::default(); extra.len()];
    let ranges = key_ranges(&counts, entries_per_range);
    let last = ranges.len() - 1;
    let mut texts = Vec::new();
    for (r, firsts) in ranges.into_iter().enumerate() {
        // Where each first word's entries start in this range's table.
        let base = firsts.start;
        let mut cursor = vec![0usize; firsts.len()];
        let mut filed = 0;
        for (c, &n) in cursor.iter_mut().zip(&counts[firsts.clone()]) {
            *c = filed;
            filed += n;
        }
        let starts = cursor.clone();
        // (second word, document, tf, part): twelve bytes an entry.
        let mut table: Vec<PairEntry> = vec![(0, 0, 0, 0); filed];
        for (d, (n, read)) in extra.iter_mut().zip(&mut cursors).enumerate() {
            loop {
                let before = *read;
                let Some((first, second, tf, part)) = n.pairs.next_at(read) else {
                    break;
                };
                debug_assert!(first as usize >= base, "earlier ranges took it");
                let Some(at) = (first as usize)
                    .checked_sub(base)
                    .and_then(|f| cursor.get_mut(f))
                else {
                    *read = before;
                    break;
                };
                table[*at] = (second, d as u32, tf, part);
                *at += 1;
            }
            // A list read to its end is done with, whatever the range.
            if r == last || read.at >= n.pairs.bytes.len() {
                n.pairs = PairList::default();
            }
        }
        drop(cursor);
        let mut buckets: Vec<(usize, &mut [PairEntry])> = Vec::new();
        let mut rest = table.as_mut_slice();
        for (f, &start) in starts.iter().enumerate() {
            let end = starts.get(f + 1).copied().unwrap_or(filed);
            let (bucket, tail) = rest.split_at_mut(end - start);
            if !bucket.is_empty() {
                buckets.push((base + f, bucket));
            }
            rest = tail;
        }
        let encoded: Vec<PairText> = buckets
            .par_iter_mut()
            .map(|(first, bucket)| {
                // A document lists a pair once: (second word, document) is unique.
                bucket.sort_unstable_by_key(|e| (e.0, e.1));
                let first = strings[*first];
                // The pairs, then their postings: about three characters a document.
                let mut text = String::with_capacity(3 * bucket.len() + 16);
                let mut spans = Vec::new();
                for group in bucket.chunk_by(|a, b| a.0 == b.0) {
                    let start = text.len();
                    text.push_str(first);
                    text.push(' ');
                    text.push_str(strings[group[0].0 as usize]);
                    let split = text.len();
                    let list = group.iter().map(|&(_, d, tf, part)| {
                        (d, quantise(f32::from(tf), norms[d as usize]), part)
                    });
                    push_postings(&mut text, list, std::iter::empty());
                    spans.push((fnv1a(&text[start..split]), split as u32, text.len() as u32));
                }
                text.shrink_to_fit();
                spans.shrink_to_fit();
                (text, spans)
            })
            .collect();
        texts.extend(encoded);
    }
    texts
}

/// How the assembled shards are laid out, for the manifest.
#[derive(Debug, Clone, PartialEq)]
pub struct Layout {
    /// The first key of each term shard, which also names its file
    /// ([`term_shard_name`]).
    pub first_keys: Vec<String>,
    /// How many pair shards there are (`pairs/<n>.json`).
    pub pairs: usize,
    /// What a patch of the index checks its limits against.
    pub totals: Totals,
    /// How many documents have each word form whose stem differs from it.
    pub forms: FormCounts,
    /// The stems counted common ([`is_common`]), sorted.
    pub common: Vec<String>,
}

/// Sums over every document that decide how all of them are weighted and
/// sharded: a patch of the index must leave what they decide as it is (see
/// [`super::patch`]).
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct Totals {
    /// The documents' lengths, summed (whole numbers, so exact in any order).
    pub length: f64,
    /// The pairs' share of the pair shards, which sets their number.
    pub pair_bytes: u64,
}

/// The documents' lengths summed, as the average length is computed from.
fn total_length(lengths: &[f32]) -> f64 {
    lengths.iter().map(|&l| f64::from(l)).sum()
}

/// The average document length BM25 uses, from the summed lengths of
/// `documents` documents.
pub(super) fn average_length(total: f64, documents: usize) -> f32 {
    match documents {
        0 => rounded_average(1.0),
        n => rounded_average((total / n as f64) as f32),
    }
}

/// For each word form whose stem differs from it, (word, stem), how many
/// documents have it: a patch of the index drops the form's entry when the
/// last one loses it. The pairs back to back in one string, `word\0stem`,
/// in key order (no key holds a NUL, so that is the order of the strings).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FormCounts {
    /// `word\0stem` per entry.
    pub(super) entries: Keys,
    pub(super) counts: Vec<u32>,
}

impl FormCounts {
    /// From (word, stem, count) in key order.
    pub(super) fn from_sorted<'a>(pairs: impl Iterator<Item = (&'a str, &'a str, u32)>) -> Self {
        let mut out = FormCounts::default();
        for (w, s, n) in pairs {
            out.entries.push(&format!("{w}\0{s}"));
            out.counts.push(n);
        }
        out
    }

    /// Entry `i`, `word\0stem`.
    pub(super) fn entry(&self, i: usize) -> &str {
        self.entries.get(i as u32)
    }

    /// How many entries there are.
    pub fn len(&self) -> usize {
        self.counts.len()
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.counts.is_empty()
    }

    /// How many documents have `word` with `stem`.
    pub(super) fn count(&self, word: &str, stem: &str) -> u32 {
        let key = format!("{word}\0{stem}");
        self.find(&key).map_or(0, |i| self.counts[i])
    }

    fn find(&self, key: &str) -> Option<usize> {
        let (mut low, mut high) = (0, self.len());
        while low < high {
            let mid = (low + high) / 2;
            match self.entry(mid).cmp(key) {
                std::cmp::Ordering::Less => low = mid + 1,
                std::cmp::Ordering::Greater => high = mid,
                std::cmp::Ordering::Equal => return Some(mid),
            }
        }
        None
    }

    /// The counts with `changes` ((word, stem) and the change in its count)
    /// applied; `None` if one would fall below zero.
    pub(super) fn with_changes(
        &self,
        changes: &std::collections::BTreeMap<(String, String), i64>,
    ) -> Option<FormCounts> {
        let mut changed: Vec<(String, i64)> = changes
            .iter()
            .filter(|(_, &d)| d != 0)
            .map(|((w, s), &d)| (format!("{w}\0{s}"), d))
            .collect();
        changed.sort_unstable();
        let mut out = FormCounts::default();
        let mut push = |key: &str, n: u32| {
            if n > 0 {
                out.entries.push(key);
                out.counts.push(n);
            }
        };
        let mut i = 0;
        for (key, delta) in &changed {
            while i < self.len() && self.entry(i) < key.as_str() {
                push(self.entry(i), self.counts[i]);
                i += 1;
            }
            let before = match i < self.len() && self.entry(i) == key.as_str() {
                true => {
                    i += 1;
                    i64::from(self.counts[i - 1])
                }
                false => 0,
            };
            let after = u32::try_from(before + delta).ok()?;
            push(key, after);
        }
        while i < self.len() {
            push(self.entry(i), self.counts[i]);
            i += 1;
        }
        Some(out)
    }
}

/// A document's analysis with its keys replaced by numbers into the table of an
/// [`Interned`] group, and its snippet contents dropped: what the assembly
/// needs, without a copy of every word's string per document. Its word forms
/// and word stream are in the group's [`Texts`].
///
/// Held for every document from the link stage to the end of the assembly, so
/// it is kept narrow: weighted counts as whole numbers in 16 bits (the rare
/// larger ones beside).
#[derive(Debug, Clone)]
pub(super) struct Counted {
    pub(super) length: f32,
    /// Per distinct stem: (key, weighted occurrences, snippet part). The weights
    /// are whole numbers, so the sum is exact; a count of 65,535 or more is
    /// [`u16::MAX`] here and exact in `large`.
    pub(super) stems: Vec<(u32, u16, u16)>,
    /// (slot, weighted occurrences) of the stems counted 65,535 times or more:
    /// empty for every document but a huge one.
    large: Vec<(u32, f32)>,
    /// Where its forms, stream and segments are in the group's [`Texts`].
    text: TextSpan,
}

impl Counted {
    /// Narrows an analysis: per stem (key, weighted occurrences, part), and
    /// where the rest of it was put.
    pub(super) fn new(
        length: f32,
        stems: impl IntoIterator<Item = (u32, f32, u16)>,
        text: TextSpan,
    ) -> Counted {
        let mut large = Vec::new();
        let mut stems: Vec<(u32, u16, u16)> = stems
            .into_iter()
            .enumerate()
            .map(|(slot, (id, tf, part))| {
                if tf < f32::from(u16::MAX) {
                    (id, tf as u16, part)
                } else {
                    large.push((slot as u32, tf));
                    (id, u16::MAX, part)
                }
            })
            .collect();
        // Collected in place, the list would keep the allocation of the wider
        // counts it was made from (and their spare capacity): half again its
        // size or more, for every document until the assembly.
        stems.shrink_to_fit();
        Counted {
            length,
            stems,
            large,
            text,
        }
    }

    /// The weighted occurrences of the stem in `slot`, kept as `narrow`.
    fn count(&self, slot: usize, narrow: u16) -> f32 {
        if narrow < u16::MAX {
            return f32::from(narrow);
        }
        match self.large.binary_search_by_key(&(slot as u32), |l| l.0) {
            Ok(i) => self.large[i].1,
            Err(_) => f32::from(narrow),
        }
    }
}

/// The word forms, word streams and segments of a group's documents, back to
/// back in a few long lists rather than three small ones per document. Pass 2
/// of the assembly is the last to read them, and a build frees a group's at
/// once when pass 2 is done with it: long lists go back to the system whole,
/// where small ones freed among the documents' other lists left holes that
/// the memory the pass allocates next could not use (300 MB of resident
/// memory at 100,000 documents).
#[derive(Debug, Default, Clone)]
pub(super) struct Texts {
    forms: Vec<(u32, u32)>,
    narrow: Vec<u16>,
    wide: Vec<u32>,
    segments: Vec<(f32, Option<u16>)>,
}

/// Where one document's text is in its group's [`Texts`].
#[derive(Debug, Clone, Default)]
pub(super) struct TextSpan {
    forms: std::ops::Range<usize>,
    stream: std::ops::Range<usize>,
    wide: bool,
    segments: std::ops::Range<usize>,
}

/// One document's text, read from its group's [`Texts`].
#[derive(Clone, Copy)]
pub(super) struct Text<'a> {
    /// Per distinct raw form: (folded word key, index into the stems).
    pub(super) forms: &'a [(u32, u32)],
    /// The text as form numbers, segments separated.
    pub(super) stream: Stream<'a>,
    /// Each segment's weight and snippet part (`None` for metadata).
    pub(super) segments: &'a [(f32, Option<u16>)],
}

/// A document's text as form numbers ([`DocumentAnalysis::stream`]), two bytes
/// a word when every number fits (any document of fewer than 65,535 distinct
/// forms: every real one).
#[derive(Debug, Clone, Copy)]
pub(super) enum Stream<'a> {
    Narrow(&'a [u16]),
    Wide(&'a [u32]),
}

impl Texts {
    /// Adds a document's forms, stream (segments separated by [`SEPARATOR`])
    /// and segments; returns where they are.
    pub(super) fn push(
        &mut self,
        forms: &[(u32, u32)],
        stream: &[u32],
        segments: &[(f32, Option<u16>)],
    ) -> TextSpan {
        let wide = forms.len() >= usize::from(u16::MAX);
        let stream = if wide {
            let start = self.wide.len();
            self.wide.extend_from_slice(stream);
            start..self.wide.len()
        } else {
            let start = self.narrow.len();
            self.narrow.extend(stream.iter().map(|&n| match n {
                SEPARATOR => u16::MAX,
                n => n as u16,
            }));
            start..self.narrow.len()
        };
        let at = self.forms.len();
        self.forms.extend_from_slice(forms);
        let forms = at..self.forms.len();
        let at = self.segments.len();
        self.segments.extend_from_slice(segments);
        TextSpan {
            forms,
            stream,
            wide,
            segments: at..self.segments.len(),
        }
    }

    /// The text at `span` (empty if it is no longer held).
    pub(super) fn get(&self, span: &TextSpan) -> Text<'_> {
        Text {
            forms: self.forms.get(span.forms.clone()).unwrap_or_default(),
            stream: match span.wide {
                true => Stream::Wide(self.wide.get(span.stream.clone()).unwrap_or_default()),
                false => Stream::Narrow(self.narrow.get(span.stream.clone()).unwrap_or_default()),
            },
            segments: self.segments.get(span.segments.clone()).unwrap_or_default(),
        }
    }

    fn shrink_to_fit(&mut self) {
        self.forms.shrink_to_fit();
        self.narrow.shrink_to_fit();
        self.wide.shrink_to_fit();
        self.segments.shrink_to_fit();
    }
}

/// A form number in a [`Stream`], whose greatest value separates segments.
trait StreamWord: Copy + PartialEq {
    const SEPARATOR: Self;
    fn index(self) -> usize;
}

impl StreamWord for u16 {
    const SEPARATOR: u16 = u16::MAX;
    fn index(self) -> usize {
        usize::from(self)
    }
}

impl StreamWord for u32 {
    const SEPARATOR: u32 = SEPARATOR;
    fn index(self) -> usize {
        self as usize
    }
}

/// Analyses of consecutive documents sharing one table of keys, ready for
/// [`assemble`]. Documents of one archive share most of their words, so keeping
/// each key once per group instead of once per document is most of the memory an
/// analysis takes; the build analyses each body straight into its group
/// ([`Interned::add_body`]).
///
/// The table is the group's [`WordMemo`]: the words and stems it numbered while
/// analysing are the group's keys, so a key is looked up once, not once to
/// analyse and again to intern.
#[derive(Default, Clone)]
pub struct Interned {
    memo: WordMemo,
    docs: Vec<Counted>,
    texts: Texts,
}

impl std::fmt::Debug for Interned {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Interned")
            .field("keys", &self.memo.strings().len())
            .field("docs", &self.docs.len())
            .finish()
    }
}

impl Interned {
    /// Analyses the next document from its rendered body (see
    /// [`super::analyse_body`]) into the group; returns its snippet files'
    /// contents.
    pub fn add_body(&mut self, doc: &Document, body: &RenderedBody) -> Vec<Vec<u8>> {
        let (counted, parts) =
            super::analyse::analyse_counted(doc, body, &mut self.memo, &mut self.texts);
        self.docs.push(counted);
        parts
    }

    /// Adds the next document's analysis (a copy of what the assembly needs).
    pub fn push(&mut self, analysis: &DocumentAnalysis) {
        self.push_parts(
            &analysis.keys,
            analysis.length,
            analysis.stems.clone(),
            analysis.forms.clone(),
            &analysis.stream,
            &analysis.segments,
        );
    }

    /// Adds the next document's analysis, taking it apart: what the assembly
    /// needs is moved in, the document's own key strings are dropped, and its
    /// snippet files are handed back.
    pub fn push_owned(&mut self, analysis: DocumentAnalysis) -> Vec<Vec<u8>> {
        let DocumentAnalysis {
            keys,
            length,
            stems,
            forms,
            stream,
            segments,
            parts,
        } = analysis;
        self.push_parts(&keys, length, stems, forms, &stream, &segments);
        parts
    }

    fn push_parts(
        &mut self,
        keys: &Keys,
        length: f32,
        stems: Vec<(u32, f32, u16)>,
        mut forms: Vec<(u32, u32)>,
        stream: &[u32],
        segments: &[(f32, Option<u16>)],
    ) {
        let to_group: Vec<u32> = keys.iter().map(|k| self.memo.intern(k)).collect();
        for f in &mut forms {
            f.0 = to_group[f.0 as usize];
        }
        let stems = stems
            .into_iter()
            .map(|(id, tf, part)| (to_group[id as usize], tf, part));
        let text = self.texts.push(&forms, stream, segments);
        self.docs.push(Counted::new(length, stems, text));
    }

    /// Drops what only adding documents needs (the memo's lookup tables), once
    /// the group is complete; documents can still be added after, more slowly.
    pub fn seal(&mut self) {
        self.memo.seal();
        self.texts.shrink_to_fit();
    }

    /// How many documents have been added.
    pub fn len(&self) -> usize {
        self.docs.len()
    }

    /// Whether none have.
    pub fn is_empty(&self) -> bool {
        self.docs.is_empty()
    }
}

/// Pass 1: the global key table (every key of every group, sorted), and each
/// group's map from its key numbers to global ones. Each group's keys are
/// sorted on their own (in parallel), and walked beside the global table to
/// number them: no key is hashed again. The groups are left as they are, so a
/// session can keep them for its next build.
fn global_keys<'a>(tables: &[&'a [Box<str>]]) -> (Vec<&'a str>, Vec<Vec<u32>>) {
    let sorted_tables: Vec<Vec<(&str, u32)>> = tables
        .par_iter()
        .map(|table| {
            let mut keys: Vec<(&str, u32)> = table.iter().map(|s| &**s).zip(0..).collect();
            keys.sort_unstable();
            keys
        })
        .collect();
    let sorted = merge_keys(&sorted_tables);
    let maps = sorted_tables
        .par_iter()
        .map(|keys| {
            let mut to_global = vec![0u32; keys.len()];
            let mut at = 0;
            for &(key, id) in keys {
                while sorted[at] != key {
                    at += 1;
                }
                to_global[id as usize] = at as u32;
            }
            to_global
        })
        .collect();
    (sorted, maps)
}

/// A document as the passes read it: its analysis, and its group's map from
/// the group's key numbers to global ones.
#[derive(Clone, Copy)]
struct Doc<'a> {
    counted: &'a Counted,
    global: &'a [u32],
    texts: &'a Texts,
}

impl<'a> Doc<'a> {
    /// Every document of the groups, in order, with its group's map and texts.
    fn all(
        groups: &'a [&mut Vec<Counted>],
        texts: &'a [&mut Texts],
        maps: &'a [Vec<u32>],
    ) -> Vec<Doc<'a>> {
        let mut docs = Vec::with_capacity(groups.iter().map(|g| g.len()).sum());
        for ((group, texts), global) in groups.iter().zip(texts).zip(maps) {
            docs.extend(group.iter().map(|counted| Doc {
                counted,
                global: global.as_slice(),
                texts,
            }));
        }
        docs
    }

    /// Its forms, stream and segments.
    fn text(&self) -> Text<'a> {
        self.texts.get(&self.counted.text)
    }
}

/// The distinct keys of sorted tables, sorted: merged two by two, the two
/// halves of the tables in parallel (a merge compares each key a few times;
/// sorting them all again would compare each twenty times).
fn merge_keys<'a>(tables: &[Vec<(&'a str, u32)>]) -> Vec<&'a str> {
    match tables {
        [] => Vec::new(),
        [one] => one.iter().map(|k| k.0).collect(),
        _ => {
            let (left, right) = tables.split_at(tables.len() / 2);
            let (a, b) = rayon::join(|| merge_keys(left), || merge_keys(right));
            let mut out = Vec::with_capacity(a.len().max(b.len()) + a.len().min(b.len()) / 2);
            let (mut i, mut j) = (0, 0);
            while i < a.len() && j < b.len() {
                match a[i].cmp(b[j]) {
                    std::cmp::Ordering::Less => {
                        out.push(a[i]);
                        i += 1;
                    }
                    std::cmp::Ordering::Greater => {
                        out.push(b[j]);
                        j += 1;
                    }
                    std::cmp::Ordering::Equal => {
                        out.push(a[i]);
                        i += 1;
                        j += 1;
                    }
                }
            }
            out.extend_from_slice(&a[i..]);
            out.extend_from_slice(&b[j..]);
            out
        }
    }
}

/// Whether [`assemble`] frees the groups' contents as it goes (a build, which
/// needs them no more), or leaves them whole (a session, which keeps them for
/// its next build).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Release {
    /// Free each part once the passes are done with it.
    AsYouGo,
    /// Leave the groups as they came.
    Keep,
}

/// Assembles the term and pair shards from every document's analysis, interned
/// in groups of consecutive documents (a document's number is its position in
/// the archive, so the groups are in archive order). Each shard is handed to
/// `emit` as soon as it is encoded, so the shards are never all in memory;
/// `emit`'s results come back in file order (term shards, then pair shards). The
/// bytes depend only on the analyses: neither on how they are grouped nor on the
/// number of threads.
pub fn assemble<R: Send>(
    groups: &mut [Interned],
    release: Release,
    emit: &(dyn Fn(OutputFile) -> R + Sync),
) -> (Layout, Vec<R>) {
    assemble_in_ranges(groups, release, emit, ENTRIES_PER_RANGE)
}

/// [`assemble`], making the stem and pair postings in ranges of keys of about
/// `entries_per_range` entries each (at least one key a range). The bytes do
/// not depend on it; the memory held does.
pub fn assemble_in_ranges<R: Send>(
    groups: &mut [Interned],
    release: Release,
    emit: &(dyn Fn(OutputFile) -> R + Sync),
    entries_per_range: usize,
) -> (Layout, Vec<R>) {
    let mut memos: Vec<&WordMemo> = Vec::with_capacity(groups.len());
    let mut grouped: Vec<&mut Vec<Counted>> = Vec::with_capacity(groups.len());
    let mut texts: Vec<&mut Texts> = Vec::with_capacity(groups.len());
    for Interned {
        memo,
        docs,
        texts: t,
    } in groups.iter_mut()
    {
        memos.push(memo);
        grouped.push(docs);
        texts.push(t);
    }
    let tables: Vec<&[Box<str>]> = memos.iter().map(|m| m.strings()).collect();
    // Pass 1.
    let (strings, maps) = global_keys(&tables);
    let docs = Doc::all(&grouped, &texts, &maps);
    let mut df = vec![0usize; strings.len()];
    for doc in &docs {
        for s in &doc.counted.stems {
            df[doc.global[s.0 as usize] as usize] += 1;
        }
    }
    let rare: Vec<bool> = df.iter().map(|&n| !is_common(n, docs.len())).collect();
    // (The strings are sorted: so are these.)
    let common: Vec<String> = strings
        .iter()
        .zip(&rare)
        .filter(|(_, rare)| !**rare)
        .map(|(s, _)| s.to_string())
        .collect();
    let hashes: Vec<u16> = strings.par_iter().map(|s| word_hash(s)).collect();
    // Folded words whose stem differs from them, with each stem and the number
    // of documents that have the word with that stem (a patch of the index
    // needs the count to know when the last one is gone).
    let mut word_stems: Vec<((u32, u32), u32)> = docs
        .par_iter()
        .fold(FxHashMap::default, |mut counts, doc| {
            let (global, forms, doc) = (doc.global, doc.text().forms, doc.counted);
            let mut own: Vec<(u32, u32)> = forms
                .iter()
                .filter_map(|&(w, slot)| {
                    let s = doc.stems[slot as usize].0;
                    (w != s).then(|| (global[w as usize], global[s as usize]))
                })
                .collect();
            own.sort_unstable();
            own.dedup();
            for pair in own {
                *counts.entry(pair).or_insert(0u32) += 1;
            }
            counts
        })
        .flat_map_iter(|counts| counts.into_iter())
        .collect();
    word_stems.par_sort_unstable();
    word_stems.dedup_by(|later, kept| {
        let same = later.0 == kept.0;
        if same {
            kept.1 += later.1;
        }
        same
    });
    let form_counts = FormCounts::from_sorted(
        word_stems
            .iter()
            .map(|&((w, s), n)| (strings[w as usize], strings[s as usize], n)),
    );
    let lengths: Vec<f32> = docs.iter().map(|a| a.counted.length).collect();
    let total_length = total_length(&lengths);
    let norms = length_norms(&lengths, average_length(total_length, lengths.len()));
    drop(lengths);

    // Pass 2. What remains after it needs only the stems: a build frees each
    // document's word stream as soon as its neighbours are made, so that the
    // neighbours of every document and the streams of every document are never
    // held at once.
    let mut extra: Vec<Neighbours> = match release {
        Release::Keep => docs
            .par_iter()
            .map(|&doc| neighbours(doc, &rare, &hashes))
            .collect(),
        Release::AsYouGo => {
            drop(docs);
            let per_group: Vec<Vec<Neighbours>> = grouped
                .par_iter()
                .zip(texts.par_iter_mut())
                .zip(&maps)
                .map(|((group, texts), global)| {
                    let made = group
                        .iter()
                        .map(|counted| {
                            let doc = Doc {
                                counted,
                                global,
                                texts,
                            };
                            neighbours(doc, &rare, &hashes)
                        })
                        .collect();
                    **texts = Texts::default();
                    made
                })
                .collect();
            per_group.into_iter().flatten().collect()
        }
    };
    let docs = Doc::all(&grouped, &texts, &maps);

    // Pass 3, one kind of posting after the other, each freed once its shards
    // are out, so that their working sets never add up. Pairs first: their
    // lists are no longer needed once sorted.
    let (pair_count, pair_bytes, pair_results) = {
        let pairs = pair_postings(&mut extra, &strings, &norms, entries_per_range);
        // Each pair's share of a shard: its key and postings as JSON.
        let pair_bytes: usize = pairs
            .iter()
            .map(|(text, spans)| text.len() + 8 * spans.len())
            .sum();
        let pair_count = pair_shard_count(pair_bytes);
        // The pairs come in order of (first word, second word), and keep it in
        // their shard: no sort by string. Each is (key, postings).
        let mut by_shard: Vec<Vec<(&str, &str)>> = vec![Vec::new(); pair_count];
        for (text, spans) in &pairs {
            let mut start = 0;
            for &(hash, split, end) in spans {
                let (split, end) = (split as usize, end as usize);
                by_shard[(hash as usize) % pair_count]
                    .push((&text[start..split], &text[split..end]));
                start = end;
            }
        }
        let results: Vec<R> = by_shard
            .into_par_iter()
            .enumerate()
            .map(|(n, shard)| {
                emit(OutputFile {
                    path: format!("search/pairs/{n}.json"),
                    bytes: pair_shard_json(&shard),
                })
            })
            .collect();
        (pair_count, pair_bytes, results)
    };

    // Terms and words share the sorted key space of `strings`, cut into
    // shards in key order. The stems' lists are made range of keys by range
    // and each shard is handed on once full, so that only one range's lists
    // (and the shard left open at its end) are held at once.
    let mut stems_of: Vec<Option<Vec<&str>>> = vec![None; strings.len()];
    for &((w, s), _) in &word_stems {
        stems_of[w as usize]
            .get_or_insert_with(Vec::new)
            .push(strings[s as usize]);
    }
    drop(word_stems);
    let mut ranges = key_ranges(&df, entries_per_range);
    let slots_by_range = range_slots(&docs, &ranges, strings.len());
    let range_count = ranges.len();
    let final_keys = ranges.pop().unwrap_or_default();
    let mut cutter = ShardCutter::default();
    let mut namer = ShardNamer::default();
    // Shards made so far: (first key, emit's result), and the open shard's
    // entries: (key, its encoded list if a stem).
    let mut shards: Vec<(String, R)> = Vec::new();
    let mut open: Vec<(usize, Option<String>)> = Vec::new();
    // Cuts a range's entries: each shard completed is written now.
    let mut cut = |keys: std::ops::Range<usize>, lists: Vec<Option<String>>| {
        let mut complete: Vec<Vec<(usize, Option<String>)>> = Vec::new();
        for (k, list) in keys.zip(lists) {
            if list.is_none() && stems_of[k].is_none() {
                continue;
            }
            let len = term_entry_len(&(strings[k], list.as_deref(), stems_of[k].as_deref()));
            if cutter.starts_shard(strings[k], len) {
                complete.push(std::mem::take(&mut open));
            }
            open.push((k, list));
        }
        let made = shards.len();
        let names: Vec<(usize, String)> = complete
            .iter()
            .enumerate()
            .map(|(i, entries)| {
                let first = first_key(made + i, entries, &strings);
                (made + i, namer.next(first))
            })
            .collect();
        let emitted: Vec<(String, R)> = complete
            .par_iter()
            .zip(names)
            .map(|(entries, name)| term_shard_file(name, entries, &strings, &stems_of, emit))
            .collect();
        shards.extend(emitted);
    };
    for (r, keys) in ranges.into_iter().enumerate() {
        let grouped = slots_by_range.as_ref().map(|g| (g, r, range_count));
        let filed = file_stems(&docs, &extra, keys.clone(), &norms, grouped);
        let lists = encode_stems(&filed, keys.clone(), &rare);
        drop(filed);
        cut(keys, lists);
    }
    let last = (slots_by_range.as_ref()).map(|g| (g, range_count - 1, range_count));
    let filed = file_stems(&docs, &extra, final_keys.clone(), &norms, last);
    // Every entry is filed: the neighbours and the stems are done with.
    drop(slots_by_range);
    drop(extra);
    drop(docs);
    if release == Release::AsYouGo {
        grouped
            .par_iter_mut()
            .for_each(|group| **group = Vec::new());
    }
    let lists = encode_stems(&filed, final_keys.clone(), &rare);
    drop(filed);
    cut(final_keys, lists);
    // The last shard (an empty one for an archive without words).
    if !open.is_empty() || shards.is_empty() {
        let n = shards.len();
        let name = namer.next(first_key(n, &open, &strings));
        shards.push(term_shard_file((n, name), &open, &strings, &stems_of, emit));
    }
    let (first_keys, mut results): (Vec<String>, Vec<R>) = shards.into_iter().unzip();
    results.extend(pair_results);
    (
        Layout {
            first_keys,
            pairs: pair_count,
            totals: Totals {
                length: total_length,
                pair_bytes: pair_bytes as u64,
            },
            forms: form_counts,
            common,
        },
        results,
    )
}

fn json_string(out: &mut String, s: &str) {
    // Keys are folded words: almost never anything to escape.
    if s.chars().all(|c| c != '"' && c != '\\' && c >= ' ') {
        out.push('"');
        out.push_str(s);
        out.push('"');
    } else {
        out.push_str(&serde_json::to_string(s).unwrap_or_else(|_| "\"\"".into()));
    }
}

/// One key of the term shards: the key, its postings as a stem, and (for a folded
/// word whose stems differ from it) its stems.
pub(super) type TermEntry<'a> = (&'a str, Option<&'a str>, Option<&'a [&'a str]>);

/// Term shard `n` from its entries (key number, encoded list if a stem), with
/// its first key (empty for the first shard, which takes every key before the
/// second's).
fn term_shard_file<R>(
    (n, name): (usize, String),
    entries: &[(usize, Option<String>)],
    strings: &[&str],
    stems_of: &[Option<Vec<&str>>],
    emit: &(dyn Fn(OutputFile) -> R + Sync),
) -> (String, R) {
    let first = first_key(n, entries, strings).to_string();
    let entries: Vec<TermEntry<'_>> = entries
        .iter()
        .map(|(k, list)| (strings[*k], list.as_deref(), stems_of[*k].as_deref()))
        .collect();
    let file = OutputFile {
        path: format!("search/terms/{name}.json"),
        bytes: term_shard_json(&entries),
    };
    (first, emit(file))
}

/// The first key of term shard `n`, whose entries (key number, list) are
/// `entries`: empty for the first shard, which takes every key before the
/// second's.
fn first_key<'s>(n: usize, entries: &[(usize, Option<String>)], strings: &[&'s str]) -> &'s str {
    match (n, entries.first()) {
        (0, _) | (_, None) => "",
        (_, Some(e)) => strings[e.0],
    }
}

/// How much of a first key names its shard: 32 bytes of UTF-8, 64 hex
/// digits, which keeps a name (with a temporary file's suffix while it is
/// written) inside the 143 bytes the tightest file systems allow. Keys that
/// share their first 32 bytes are told apart by the `-<i>` suffix.
const NAMED_BYTES: usize = 32;

/// Names term shards by their first keys, in order (see [`term_shard_name`]).
#[derive(Default)]
pub(super) struct ShardNamer {
    last: Option<String>,
    repeats: usize,
}

impl ShardNamer {
    /// The name of the next shard, whose first key is `first` (empty for the
    /// first shard).
    pub(super) fn next(&mut self, first: &str) -> String {
        let base = shard_name_base(first);
        if self.last.as_deref() == Some(base.as_str()) {
            self.repeats += 1;
        } else {
            self.repeats = 0;
        }
        let name = match self.repeats {
            0 => base.clone(),
            n => format!("{base}-{n}"),
        };
        self.last = Some(base);
        name
    }
}

/// `k` and the hex digits of the first [`NAMED_BYTES`] bytes of `first`.
fn shard_name_base(first: &str) -> String {
    let bytes = &first.as_bytes()[..first.len().min(NAMED_BYTES)];
    let mut name = String::with_capacity(1 + 2 * bytes.len());
    name.push('k');
    name.push_str(&crate::load::hex(bytes));
    name
}

/// The file name (without `.json`) of term shard `n`, whose first keys are
/// `first_keys`: `k` and its first key's UTF-8 in hex, then `-<i>` for the
/// `i`-th shard in a row with the same name (keys sharing their first
/// [`NAMED_BYTES`] bytes). A shard keeps its name when shards are added or
/// removed before it, so an edit replaces only the shards whose entries
/// changed. The client computes the same (`termShardName`).
pub fn term_shard_name(first_keys: &[String], n: usize) -> String {
    let mut namer = ShardNamer::default();
    let mut name = String::new();
    for key in first_keys.iter().take(n + 1) {
        name = namer.next(key);
    }
    name
}

pub(super) fn term_entry_len(e: &TermEntry<'_>) -> usize {
    e.0.len()
        + 4
        + e.1.map_or(0, str::len)
        + e.2.as_ref().map_or(0, |s| {
            s.iter().map(|x| x.len() + 3).sum::<usize>() + e.0.len() + 4
        })
}

/// A term shard: `{"stems": {stem: postings}, "words": {word: [stem, ...]}}`.
pub(super) fn term_shard_json(entries: &[TermEntry<'_>]) -> Vec<u8> {
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
            out.push_str(p);
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

/// A pair shard: `{"member states": postings, ...}`, ordered by the first word's
/// key, then the second's: the order of the pair strings too, except where a key
/// holds a space (folding a few Arabic ligatures makes one). Fixed either way;
/// the client looks pairs up by key.
pub(super) fn pair_shard_json(entries: &[(&str, &str)]) -> Vec<u8> {
    let mut out = String::with_capacity(
        entries
            .iter()
            .map(|(key, postings)| key.len() + postings.len() + 4)
            .sum::<usize>()
            + 2,
    );
    out.push('{');
    for (i, (key, postings)) in entries.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        json_string(&mut out, key);
        out.push(':');
        out.push_str(postings);
    }
    out.push('}');
    out.into_bytes()
}

/// One document's entries in the index, by key: what a patch of the index
/// takes out for a document's old analysis and puts in for its new one (see
/// [`super::patch`]). Made by the same passes as [`assemble`] makes them for
/// every document, so the entries are the ones a full assembly writes.
#[derive(Debug, Clone, PartialEq, Default)]
pub(super) struct Footprint {
    /// Its weighted length.
    pub(super) length: f32,
    /// Per stem, sorted: (stem, weight digit, snippet part, neighbour text: empty
    /// for a common stem).
    pub(super) stems: Vec<(String, u8, u16, String)>,
    /// Per pair of common words, sorted: (`first second`, weight digit, part).
    pub(super) pairs: Vec<(String, u8, u16)>,
    /// Its word forms whose stem differs, (word, stem), sorted and distinct.
    pub(super) forms: Vec<(String, String)>,
}

/// The stems of an analysis, as strings.
pub(super) fn stem_keys(analysis: &DocumentAnalysis) -> impl Iterator<Item = &str> + '_ {
    analysis.stems.iter().map(|s| analysis.keys.get(s.0))
}

/// The folded words of an analysis whose stem differs from them, with the stem.
pub(super) fn form_keys(analysis: &DocumentAnalysis) -> impl Iterator<Item = (&str, &str)> + '_ {
    analysis.forms.iter().filter_map(|&(w, slot)| {
        let s = analysis.stems.get(slot as usize)?.0;
        (w != s).then(|| (analysis.keys.get(w), analysis.keys.get(s)))
    })
}

/// The [`Footprint`] of a document's analysis in an archive where `rare`
/// tells the rare stems and `average` is the average length
/// ([`average_length`]).
pub(super) fn footprint(
    analysis: &DocumentAnalysis,
    rare: &dyn Fn(&str) -> bool,
    average: f32,
) -> Footprint {
    let mut group = Interned::default();
    group.push(analysis);
    let tables = [group.memo.strings()];
    let (strings, maps) = global_keys(&tables);
    let global = &maps[0];
    let counted = &group.docs[0];
    let is_rare: Vec<bool> = strings.iter().map(|s| rare(s)).collect();
    let hashes: Vec<u16> = strings.iter().map(|s| word_hash(s)).collect();
    let norm = length_norms(&[counted.length], average)[0];
    let doc = Doc {
        counted,
        global,
        texts: &group.texts,
    };
    let extra = neighbours(doc, &is_rare, &hashes);
    let key = |id: u32| strings[global[id as usize] as usize];
    let mut start = 0;
    let mut stems: Vec<(String, u8, u16, String)> = Vec::with_capacity(counted.stems.len());
    for (slot, (&(id, tf, part), &end)) in counted.stems.iter().zip(&extra.near_ends).enumerate() {
        let near = &extra.near[start as usize..end as usize];
        start = end;
        let weight = quantise(counted.count(slot, tf), norm);
        stems.push((key(id).to_string(), weight, part, near.to_string()));
    }
    stems.sort_unstable_by(|a, b| a.0.cmp(&b.0));
    // Global numbers here are the order of the strings: the pairs come sorted.
    let pairs = extra
        .pairs
        .iter()
        .map(|(first, second, tf, part)| {
            let pair = format!("{} {}", strings[first as usize], strings[second as usize]);
            (pair, quantise(f32::from(tf), norm), part)
        })
        .collect();
    let mut forms: Vec<(String, String)> = form_keys(analysis)
        .map(|(w, s)| (w.to_string(), s.to_string()))
        .collect();
    forms.sort_unstable();
    forms.dedup();
    Footprint {
        length: counted.length,
        stems,
        pairs,
        forms,
    }
}

/// Cuts key-sorted entries, (key, length), into shards as [`ShardCutter`]
/// does: the end of each.
#[cfg(test)]
fn cut_shards<'a>(entries: impl IntoIterator<Item = (&'a str, usize)>) -> Vec<usize> {
    let mut cutter = ShardCutter::default();
    let mut ends = Vec::new();
    let mut count = 0;
    for (i, (key, len)) in entries.into_iter().enumerate() {
        if cutter.starts_shard(key, len) {
            ends.push(i);
        }
        count = i + 1;
    }
    if count > 0 || ends.is_empty() {
        ends.push(count);
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
    fn one_edit_leaves_the_average_length_and_pair_shard_count_alone() {
        // 10,000 documents averaging 612.3 words; one gains 400 words.
        let before = 612.3_f32;
        let after = (612.3 * 10_000.0 + 400.0) / 10_000.0;
        assert_eq!(rounded_average(before), rounded_average(after));
        for average in [1.0_f32, 3.7, 612.3, 99_999.0] {
            let rounded = rounded_average(average);
            assert!(
                (rounded - average).abs() / average <= 1.0 / 128.0,
                "{average}"
            );
        }
        assert_eq!(rounded_average(0.0), 0.0);
        assert_eq!(pair_shard_count(0), 1);
        assert_eq!(pair_shard_count(1), 1);
        assert_eq!(pair_shard_count(5 * SHARD_BYTES), 8);
        assert_eq!(pair_shard_count(5 * SHARD_BYTES + 300), 8);
        assert_eq!(pair_shard_count(8 * SHARD_BYTES), 8);
        assert_eq!(pair_shard_count(8 * SHARD_BYTES + 1), 16);
    }

    #[test]
    fn shards_are_cut_by_key_once_full() {
        let keys: Vec<String> = (0..2000).map(|n| format!("k{n:05}")).collect();
        let entries = |len: &dyn Fn(usize) -> usize| -> Vec<(&str, usize)> {
            keys.iter()
                .enumerate()
                .map(|(i, k)| (k.as_str(), len(i)))
                .collect()
        };
        let even = entries(&|_| SHARD_BYTES / 64);
        let ends = cut_shards(even.iter().copied());
        assert_eq!(*ends.last().unwrap(), keys.len());
        let mut start = 0;
        for &end in &ends[..ends.len() - 1] {
            // Full, at most twice full, and cut before a key chosen by its hash
            // (or because the next entry would overfill it).
            let size: usize = even[start..end].iter().map(|e| e.1).sum();
            assert!((SHARD_BYTES..=2 * SHARD_BYTES).contains(&size), "{size}");
            let by_key = (fnv1a(even[end].0) >> 8) % CUT_EVERY == 0;
            assert!(by_key || size + even[end].1 > 2 * SHARD_BYTES);
            start = end;
        }
        // An entry that grows, or one added, moves the cuts around it only:
        // every cut at least two shards later is where it was.
        let grown = entries(&|i| SHARD_BYTES / 64 + if i == 300 { 900 } else { 0 });
        let mut added = even.clone();
        added.insert(301, ("k00300a", 700));
        for (changed, shift) in [(cut_shards(grown), 0), (cut_shards(added), 1)] {
            let later = |e: &[usize], shift: usize| -> Vec<usize> {
                e.iter()
                    .filter(|&&x| x > 1000)
                    .map(|&x| x - shift)
                    .collect()
            };
            assert_eq!(later(&changed, shift), later(&ends, 0));
        }
        // An entry larger than twice a shard gets a shard of its own.
        assert_eq!(
            cut_shards([("a", 10), ("b", SHARD_BYTES * 3), ("c", 10)]),
            [1, 2, 3]
        );
        assert_eq!(cut_shards([]), [0]);
    }

    #[test]
    fn pair_lists_read_back_what_was_written_and_resume_at_a_cursor() {
        let pairs: Vec<Pair> = vec![
            (0, 5, 1, 0),
            (0, 1 << 30, u16::MAX, 3),
            (7, 2, 300, u16::MAX),
            (u32::MAX, 0, 0, 0),
        ];
        let list = PairList::new(pairs.iter().copied());
        assert_eq!(list.iter().collect::<Vec<_>>(), pairs);
        // Five small numbers take a byte each; the list is no wider than it must be.
        assert!(list.bytes.len() < 4 * 12);
        let mut cursor = PairCursor::default();
        assert_eq!(list.next_at(&mut cursor), Some(pairs[0]));
        let resumed = cursor;
        assert_eq!(list.next_at(&mut cursor), Some(pairs[1]));
        let mut again = resumed;
        assert_eq!(list.next_at(&mut again), Some(pairs[1]));
        assert!(PairList::default().iter().next().is_none());
        // A cut-off list ends instead of reading past its bytes.
        let cut = PairList {
            bytes: list.bytes[..list.bytes.len() - 1].to_vec(),
        };
        assert_eq!(cut.iter().count(), 3);
    }

    #[test]
    fn counts_past_sixteen_bits_are_kept_exactly() {
        let stems = [
            (7, 3.0, 0),
            (8, 70_000.0, 1),
            (9, 65_535.0, 0),
            (10, 65_534.0, 2),
        ];
        let mut texts = Texts::default();
        let counted = Counted::new(10.0, stems, texts.push(&[], &[SEPARATOR], &[]));
        let counts: Vec<f32> = counted
            .stems
            .iter()
            .enumerate()
            .map(|(slot, s)| counted.count(slot, s.1))
            .collect();
        assert_eq!(counts, [3.0, 70_000.0, 65_535.0, 65_534.0]);
        assert_eq!(counted.large.len(), 2);
        let stream = texts.get(&counted.text).stream;
        assert!(matches!(stream, Stream::Narrow(s) if s == [u16::MAX]));
    }

    #[test]
    fn common_stems_are_a_share_of_large_archives() {
        assert!(is_common(3, 4));
        assert!(!is_common(2, 4));
        assert!(is_common(1001, 10_000));
        assert!(!is_common(1000, 10_000));
        assert!(!is_common(4000, 100_000));
        assert!(is_common(5001, 100_000));
    }

    #[test]
    fn weights_saturate_and_favour_short_documents() {
        let weight =
            |tf: f32, length: f32, average: f32| quantise(tf, length_norms(&[length], average)[0]);
        assert!(weight(1.0, 100.0, 100.0) < weight(4.0, 100.0, 100.0));
        assert!(weight(4.0, 100.0, 100.0) < weight(40.0, 100.0, 100.0));
        assert!(weight(2.0, 50.0, 100.0) > weight(2.0, 400.0, 100.0));
        assert_eq!(weight(1e6, 1.0, 100.0), 63);
        assert!(weight(0.001, 1e6, 1.0) >= 1);
    }
}
