//! Related documents: for each document, up to five others ranked by what they
//! share: topics and other terms, entities mentioned, links in either direction,
//! official references, and nearness in date, with the reason shown to readers.
//!
//! Candidates come from indexes built once (term lists, links, mentions), and from a
//! large term only the documents nearest in date, so the cost per document is bounded
//! whatever the archive's size: nothing here is quadratic.

use super::{links::LinkIndex, Taxonomy};
use crate::document::Document;
use rayon::prelude::*;
use std::collections::HashMap;
use std::hash::{DefaultHasher, Hash, Hasher};
use std::path::Path;

/// How many related documents a page shows.
pub const MAX_RELATED: usize = 5;
/// From each shared term, how many documents on either side (by date) are considered.
const NEIGHBOURS: usize = 12;

/// A related document and why.
#[derive(Debug, Clone, PartialEq)]
pub struct Related {
    /// Index into `Archive::documents`.
    pub document: usize,
    /// Why, for readers: "2 shared topics · links here".
    pub reason: String,
    /// The score it was ranked by.
    pub score: f64,
}

/// Inputs shared by every document's computation.
pub struct RelatedInputs<'a> {
    /// Documents, newest first.
    pub documents: &'a [Document],
    /// Taxonomies with their terms.
    pub taxonomies: &'a [Taxonomy],
    /// Per document, its (taxonomy, term) pairs.
    pub doc_terms: &'a [Vec<(usize, usize)>],
    /// Links and mentions.
    pub links: &'a LinkIndex,
    /// Per entity, documents mentioning it.
    pub mentioned_in: &'a [Vec<usize>],
    /// Entity names, for reasons.
    pub entity_names: &'a [String],
    /// The term each entity is filed as, if any: (taxonomy, term).
    pub entity_terms: &'a [Option<(usize, usize)>],
}

/// [`related`], taken from the file at `path` when a build stored it there
/// for the same inputs: `base` stands for everything it reads but the link
/// index (a build's [`crate::incremental::inputs_key`], which covers the
/// documents' front matter, the entities and the configuration), and the
/// documents' links and mentions are hashed in here. Otherwise computed, and
/// set aside to be stored for the next build ([`RELATED_FILE`]) if this one
/// succeeds.
pub fn related_stored(
    inputs: &RelatedInputs<'_>,
    path: &Path,
    base: u64,
    spill: Option<&std::sync::Arc<crate::spill::Spill>>,
) -> (Vec<Vec<Related>>, Option<crate::cache::PendingFile>) {
    let key = {
        let mut h = DefaultHasher::new();
        base.hash(&mut h);
        inputs.documents.len().hash(&mut h);
        inputs.links.mentions.hash(&mut h);
        inputs.links.outgoing.hash(&mut h);
        for list in &inputs.links.backlinks {
            list.len().hash(&mut h);
            for b in list {
                b.from.hash(&mut h);
            }
        }
        h.finish()
    };
    if let Some(stored) = std::fs::read(path)
        .ok()
        .and_then(|bytes| decode(&bytes, key, inputs.documents.len()))
    {
        return (stored, None);
    }
    let made = related(inputs);
    let bytes = encode(key, &made);
    let pending = crate::cache::PendingFile::set_aside(RELATED_FILE, bytes, spill);
    (made, Some(pending))
}

/// The cache file of stored related documents.
pub const RELATED_FILE: &str = "related.bin";

/// The first bytes of stored related documents: a name and a format number.
const MAGIC: &[u8; 16] = b"annals-related01";

fn encode(key: u64, related: &[Vec<Related>]) -> Vec<u8> {
    crate::cache::framed(MAGIC, key, |out| {
        crate::varint::push(out, related.len() as u64);
        for list in related {
            crate::varint::push(out, list.len() as u64);
            for r in list {
                crate::varint::push(out, r.document as u64);
                crate::varint::push(out, r.reason.len() as u64);
                out.extend_from_slice(r.reason.as_bytes());
                out.extend_from_slice(&r.score.to_le_bytes());
            }
        }
    })
}

fn decode(bytes: &[u8], key: u64, documents: usize) -> Option<Vec<Vec<Related>>> {
    let body = crate::cache::unframed(bytes, MAGIC, key)?;
    let mut at = 0;
    let number = |at: &mut usize| usize::try_from(crate::varint::read(body, at)?).ok();
    if number(&mut at)? != documents {
        return None;
    }
    let mut out = Vec::with_capacity(documents);
    for _ in 0..documents {
        let count = number(&mut at).filter(|&n| n <= MAX_RELATED)?;
        let mut list = Vec::with_capacity(count);
        for _ in 0..count {
            let document = number(&mut at).filter(|&n| n < documents)?;
            let len = number(&mut at)?;
            let reason = std::str::from_utf8(body.get(at..at.checked_add(len)?)?).ok()?;
            at += len;
            let score = f64::from_le_bytes(body.get(at..at + 8)?.try_into().ok()?);
            at += 8;
            list.push(Related {
                document,
                reason: reason.to_string(),
                score,
            });
        }
        out.push(list);
    }
    (at == body.len()).then_some(out)
}

/// Related documents for every document, computed in parallel.
pub fn related(inputs: &RelatedInputs<'_>) -> Vec<Vec<Related>> {
    let mut by_reference: HashMap<&str, Vec<usize>> = HashMap::new();
    for (d, doc) in inputs.documents.iter().enumerate() {
        for r in &doc.references {
            by_reference.entry(r.as_str()).or_default().push(d);
        }
    }
    let mut backlinkers: Vec<Vec<usize>> = vec![Vec::new(); inputs.documents.len()];
    for (to, list) in inputs.links.backlinks.iter().enumerate() {
        for b in list {
            backlinkers[to].push(b.from);
        }
    }
    (0..inputs.documents.len())
        .into_par_iter()
        .map(|d| for_document(d, inputs, &by_reference, &backlinkers))
        .collect()
}

#[derive(Default)]
struct Shared {
    topics: usize,
    /// Shared terms of other taxonomies, as (taxonomy, term).
    terms: Vec<(usize, usize)>,
    entities: Vec<usize>,
    links_to: bool,
    linked_from: bool,
    references: usize,
}

fn neighbours(list: &[usize], d: usize) -> &[usize] {
    let pos = list.binary_search(&d).unwrap_or_else(|p| p);
    let lo = pos.saturating_sub(NEIGHBOURS);
    let hi = (pos + NEIGHBOURS + 1).min(list.len());
    &list[lo..hi]
}

fn for_document(
    d: usize,
    inputs: &RelatedInputs<'_>,
    by_reference: &HashMap<&str, Vec<usize>>,
    backlinkers: &[Vec<usize>],
) -> Vec<Related> {
    let docs = inputs.documents;
    let mut shared: HashMap<usize, Shared> = HashMap::new();
    for &(ti, ki) in &inputs.doc_terms[d] {
        let tax = &inputs.taxonomies[ti];
        if tax.config.key == "type" {
            continue;
        }
        let term = &tax.terms[ki];
        for &c in neighbours(&term.documents, d) {
            if c == d {
                continue;
            }
            let s = shared.entry(c).or_default();
            if tax.config.key == "topics" {
                s.topics += 1;
            } else {
                s.terms.push((ti, ki));
            }
        }
    }
    for &e in &inputs.links.mentions[d] {
        for &c in neighbours(&inputs.mentioned_in[e], d) {
            if c != d {
                shared.entry(c).or_default().entities.push(e);
            }
        }
    }
    for &c in &inputs.links.outgoing[d] {
        shared.entry(c).or_default().links_to = true;
    }
    for &c in &backlinkers[d] {
        if c != d {
            shared.entry(c).or_default().linked_from = true;
        }
    }
    for r in &docs[d].references {
        if let Some(list) = by_reference.get(r.as_str()) {
            for &c in list.iter().filter(|&&c| c != d).take(NEIGHBOURS) {
                shared.entry(c).or_default().references += 1;
            }
        }
    }
    // Score every candidate cheaply; words for the reason only for the winners.
    let entity_term = |e: usize| inputs.entity_terms.get(e).copied().flatten();
    let mut ranked: Vec<(f64, usize, Shared, Vec<usize>)> = shared
        .into_iter()
        .map(|(c, s)| {
            // An entity both filed as a term and mentioned counts once.
            let entities: Vec<usize> = s
                .entities
                .iter()
                .copied()
                .filter(|&e| entity_term(e).is_none_or(|t| !s.terms.contains(&t)))
                .collect();
            let days = (day_number(&docs[d]) - day_number(&docs[c])).abs() as f64;
            let score = 2.0 * s.topics as f64
                + 1.5 * s.terms.len() as f64
                + 1.0 * entities.len() as f64
                + if s.links_to || s.linked_from {
                    3.0
                } else {
                    0.0
                }
                + 2.0 * s.references as f64
                + 1.0 / (1.0 + days / 365.0);
            (score, c, s, entities)
        })
        .collect();
    ranked.sort_by(|a, b| {
        b.0.partial_cmp(&a.0)
            .unwrap_or(std::cmp::Ordering::Equal)
            .then_with(|| a.1.cmp(&b.1))
    });
    // Built into a vector of its own size: collecting `ranked` into it would reuse
    // the ranking's allocation, sized for every candidate (hundreds of 100-byte
    // entries), and keep it for the whole build (100 MB at 10k documents).
    let mut related = Vec::with_capacity(ranked.len().min(MAX_RELATED));
    related.extend(
        ranked
            .into_iter()
            .take(MAX_RELATED)
            .map(|(score, c, s, entities)| Related {
                document: c,
                reason: reason(inputs, &s, &entities),
                score,
            }),
    );
    related
}

/// "links here · 2 shared topics · also filed under Europol · mentions EDPS".
fn reason(inputs: &RelatedInputs<'_>, s: &Shared, entities: &[usize]) -> String {
    let mut reasons: Vec<String> = Vec::new();
    if s.linked_from && s.links_to {
        reasons.push("links both ways".into());
    } else if s.linked_from {
        reasons.push("links here".into());
    } else if s.links_to {
        reasons.push("linked from here".into());
    }
    if s.references > 0 {
        reasons.push("same reference".into());
    }
    match s.topics {
        0 => {}
        1 => reasons.push("1 shared topic".into()),
        n => reasons.push(format!("{n} shared topics")),
    }
    let mut terms: Vec<&str> = s
        .terms
        .iter()
        .map(|&(ti, ki)| inputs.taxonomies[ti].terms[ki].name.as_str())
        .collect();
    terms.sort_unstable();
    terms.dedup();
    if !terms.is_empty() {
        reasons.push(format!("also filed under {}", terms.join(", ")));
    }
    let mut names: Vec<&str> = entities
        .iter()
        .map(|&e| inputs.entity_names[e].as_str())
        .collect();
    names.sort_unstable();
    names.dedup();
    if !names.is_empty() {
        reasons.push(format!("mentions {}", names.join(", ")));
    }
    reasons.join(" · ")
}

/// Days since year 0 at the start of the document's date period (approximate
/// calendar arithmetic is enough for nearness).
fn day_number(doc: &Document) -> i64 {
    let d = &doc.date;
    i64::from(d.year) * 365 + i64::from(d.month.unwrap_or(1)) * 30 + i64::from(d.day.unwrap_or(1))
}
