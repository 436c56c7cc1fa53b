//! The link stage's indexes over the front matter, kept between builds: each
//! taxonomy's terms, each document's terms, who sent and received what, the
//! events naming each entity, and the correspondence between them. They
//! depend on nothing but the documents' front matter, the entities and the
//! configuration, which a build's inputs key covers
//! ([`crate::incremental::inputs_key`]); a build whose key is the last one's
//! (a body edit) takes them from [`INDEXES_FILE`] instead of making them
//! again, and then needs the mentions automaton only for the bodies it links
//! (see [`crate::markdown::Autolinker::for_few_texts`]).

use super::{Correspondence, Term};
use crate::bytes::{push_number, push_str, Reader};
use crate::document::Document;

/// The cache file of the stored indexes.
pub const INDEXES_FILE: &str = "indexes.bin";

/// The first bytes of the file: a name and a format number.
const MAGIC: &[u8; 16] = b"annals-indexes01";

/// The indexes, as [`super::Archive`] holds them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FrontMatterIndexes {
    /// Each taxonomy's terms, in configured order (see [`super::Taxonomy`]).
    pub terms: Vec<Vec<Term>>,
    /// See [`super::Archive::doc_terms`].
    pub doc_terms: Vec<Vec<(usize, usize)>>,
    /// See [`super::Archive::sent_by`].
    pub sent_by: Vec<Vec<usize>>,
    /// See [`super::Archive::received_by`].
    pub received_by: Vec<Vec<usize>>,
    /// See [`super::Archive::events_naming`].
    pub events_naming: Vec<Vec<(usize, usize)>>,
    /// See [`super::Archive::correspondence`].
    pub correspondence: Vec<Correspondence>,
}

/// The indexes of an archive's `documents` and `entities`, stored under
/// `key` (the build's inputs key, salted), if the file at `path` holds them
/// whole and every number in it points into this archive.
pub fn read(
    path: &std::path::Path,
    key: u64,
    documents: &[Document],
    entities: usize,
    taxonomies: usize,
) -> Option<FrontMatterIndexes> {
    let bytes = std::fs::read(path).ok()?;
    decode(&bytes, key, documents, entities, taxonomies)
}

/// The indexes, borrowed from where they are held.
#[derive(Clone, Copy)]
pub struct IndexesOf<'a> {
    /// Each taxonomy's terms.
    pub terms: &'a [&'a [Term]],
    /// See [`FrontMatterIndexes::doc_terms`].
    pub doc_terms: &'a [Vec<(usize, usize)>],
    /// See [`FrontMatterIndexes::sent_by`].
    pub sent_by: &'a [Vec<usize>],
    /// See [`FrontMatterIndexes::received_by`].
    pub received_by: &'a [Vec<usize>],
    /// See [`FrontMatterIndexes::events_naming`].
    pub events_naming: &'a [Vec<(usize, usize)>],
    /// See [`FrontMatterIndexes::correspondence`].
    pub correspondence: &'a [Correspondence],
}

/// The file's bytes for `indexes`, under `key`.
pub fn encode(key: u64, indexes: IndexesOf<'_>) -> Vec<u8> {
    crate::cache::framed(MAGIC, key, |out| {
        push_number(out, indexes.terms.len());
        for terms in indexes.terms {
            push_number(out, terms.len());
            for term in *terms {
                push_str(out, &term.name);
                push_str(out, &term.slug);
                push_number(out, term.entity.map_or(0, |e| e + 1));
                push_list(out, &term.documents);
            }
        }
        push_number(out, indexes.doc_terms.len());
        for list in indexes.doc_terms {
            push_pairs(out, list);
        }
        for lists in [indexes.sent_by, indexes.received_by] {
            push_number(out, lists.len());
            for list in lists {
                push_list(out, list);
            }
        }
        push_number(out, indexes.events_naming.len());
        for list in indexes.events_naming {
            push_pairs(out, list);
        }
        push_number(out, indexes.correspondence.len());
        for pair in indexes.correspondence {
            push_str(out, &pair.from);
            push_str(out, &pair.to);
            push_list(out, &pair.documents);
        }
    })
}

fn push_list(out: &mut Vec<u8>, list: &[usize]) {
    push_number(out, list.len());
    for &n in list {
        push_number(out, n);
    }
}

fn push_pairs(out: &mut Vec<u8>, list: &[(usize, usize)]) {
    push_number(out, list.len());
    for &(a, b) in list {
        push_number(out, a);
        push_number(out, b);
    }
}

/// The indexes in `bytes` (see [`read`]).
fn decode(
    bytes: &[u8],
    key: u64,
    documents: &[Document],
    entities: usize,
    taxonomies: usize,
) -> Option<FrontMatterIndexes> {
    let mut r = Reader::new(crate::cache::unframed(bytes, MAGIC, key)?);
    let doc_count = documents.len();
    // Every number is checked against what it indexes: a page never panics
    // on a file that is not this archive's.
    if r.number()? != taxonomies {
        return None;
    }
    let mut terms = Vec::with_capacity(taxonomies);
    for _ in 0..taxonomies {
        let count = r.count()?;
        let mut list = Vec::with_capacity(count);
        for _ in 0..count {
            let name = r.string()?;
            let slug = r.string()?;
            let entity = match r.number()? {
                0 => None,
                e if e <= entities => Some(e - 1),
                _ => return None,
            };
            list.push(Term {
                name,
                slug,
                documents: list_of(&mut r, doc_count)?,
                entity,
            });
        }
        terms.push(list);
    }
    if r.number()? != doc_count {
        return None;
    }
    let doc_terms = (0..doc_count)
        .map(|_| pairs_of(&mut r, |t, k| terms.get(t).is_some_and(|l| l.len() > k)))
        .collect::<Option<Vec<_>>>()?;
    let mut by_entity = || -> Option<Vec<Vec<usize>>> {
        if r.number()? != entities {
            return None;
        }
        (0..entities).map(|_| list_of(&mut r, doc_count)).collect()
    };
    let sent_by = by_entity()?;
    let received_by = by_entity()?;
    if r.number()? != entities {
        return None;
    }
    let event = |d: usize, n: usize| documents.get(d).is_some_and(|doc| doc.events.len() > n);
    let events_naming = (0..entities)
        .map(|_| pairs_of(&mut r, event))
        .collect::<Option<Vec<_>>>()?;
    let correspondence = (0..r.count()?)
        .map(|_| {
            Some(Correspondence {
                from: r.string()?,
                to: r.string()?,
                documents: list_of(&mut r, doc_count)?,
            })
        })
        .collect::<Option<Vec<_>>>()?;
    if !r.is_done() {
        return None;
    }
    Some(FrontMatterIndexes {
        terms,
        doc_terms,
        sent_by,
        received_by,
        events_naming,
        correspondence,
    })
}

/// A list of pairs of numbers, each pair one that `valid` accepts.
fn pairs_of(
    r: &mut Reader<'_>,
    valid: impl Fn(usize, usize) -> bool,
) -> Option<Vec<(usize, usize)>> {
    (0..r.count()?)
        .map(|_| {
            let (a, b) = (r.number()?, r.number()?);
            valid(a, b).then_some((a, b))
        })
        .collect()
}

/// A list of document numbers, each below `count`.
fn list_of(r: &mut Reader<'_>, count: usize) -> Option<Vec<usize>> {
    (0..r.count()?)
        .map(|_| r.number().filter(|&n| n < count))
        .collect()
}
