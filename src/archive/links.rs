//! Links between documents: `[text](doc:<id>)`, `[text](doc:<id>#<anchor>)` and
//! plain relative links to another document's Markdown file (`../2016/x.md`). All
//! resolve to the target's permanent URL; an unknown id, file or anchor is an error
//! at the link's own line and column. Backlinks are built in the same single pass.

use crate::diagnostics::{line_col, Diagnostic};
use crate::document::Document;
use crate::markdown::{self, BodyLink, RenderOptions};
use crate::search::{self, Analyses, DocumentAnalysis, WordMemo};
use crate::spill::SpilledBytes;
use rayon::prelude::*;
use rustc_hash::FxHashMap;
use std::collections::{HashMap, HashSet};
use std::hash::{DefaultHasher, Hash, Hasher};
use std::path::{Component, Path, PathBuf};
use std::sync::Arc;

/// A document linking to another, with the passage that contains the link.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Backlink {
    /// The linking document (index into `Archive::documents`).
    pub from: usize,
    /// The pinpoint anchor of the passage in the linking document.
    pub block: String,
    /// The sentence or list item containing the link, shortened.
    pub excerpt: String,
}

/// How many documents a document's backlinks come from: the list (as
/// [`LinkIndex::backlinks`] holds it) has a passage or more per document.
pub fn linking_count(backlinks: &[Backlink]) -> usize {
    backlinks.chunk_by(|a, b| a.from == b.from).count()
}

/// The passages of a document's backlinks that come from the newest
/// `documents` of the documents linking to it.
pub fn from_newest(backlinks: &[Backlink], documents: usize) -> &[Backlink] {
    let end = (backlinks.chunk_by(|a, b| a.from == b.from))
        .take(documents)
        .map(<[Backlink]>::len)
        .sum();
    &backlinks[..end]
}

/// Where a body link points, once resolved.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LinkTarget {
    /// Another document of the archive, optionally at an anchor.
    Document(usize, Option<String>),
    /// Anything else (external, same-page fragment, asset): left as written.
    Other,
}

/// Whether a link's path (its fragment left off) names a Markdown file relative
/// to the linking one: a document linked by its file rather than by `doc:` id.
fn is_relative_markdown(path: &str) -> bool {
    !path.contains(':')
        && !path.starts_with('/')
        && (path.ends_with(".md") || path.ends_with(".markdown"))
}

/// Resolves a link destination written in `from`'s body.
pub fn resolve(
    dest: &str,
    from_file: &Path,
    by_id: &FxHashMap<String, usize>,
    by_file: &FxHashMap<PathBuf, usize>,
) -> Result<LinkTarget, String> {
    let (path, fragment) = match dest.split_once('#') {
        Some((p, f)) => (p, Some(f.to_string()).filter(|f| !f.is_empty())),
        None => (dest, None),
    };
    if let Some(id) = path.strip_prefix("doc:") {
        return match by_id.get(id) {
            Some(&i) => Ok(LinkTarget::Document(i, fragment)),
            None => Err(unknown_id(id)),
        };
    }
    if !is_relative_markdown(path) {
        return Ok(LinkTarget::Other);
    }
    let decoded = percent_decode(path);
    let base = from_file.parent().unwrap_or(Path::new(""));
    let mut joined = PathBuf::new();
    for c in base.join(&decoded).components() {
        match c {
            Component::ParentDir => {
                if !joined.pop() {
                    return Err(format!("link to `{path}` leaves the archive"));
                }
            }
            Component::CurDir => {}
            other => joined.push(other),
        }
    }
    match by_file.get(&joined) {
        Some(&i) => Ok(LinkTarget::Document(i, fragment)),
        None => Err(unknown_file(path, &joined)),
    }
}

fn unknown_id(id: &str) -> String {
    format!("link to unknown document id `{id}`")
}

const NOT_A_DOCUMENT: &str = " is not a document of the archive";

fn unknown_file(path: &str, joined: &Path) -> String {
    format!("link to `{path}`: {}{NOT_A_DOCUMENT}", joined.display())
}

/// Whether a link error only says that a document is missing whose file failed
/// to parse in the same run (by its id, as far as it could be read, or its file):
/// that error is already reported, and this one would go once it is fixed.
pub fn names_unparsed(
    message: &str,
    ids: &std::collections::HashSet<String>,
    files: &std::collections::HashSet<PathBuf>,
) -> bool {
    if let Some(id) = message
        .strip_prefix("link to unknown document id `")
        .and_then(|rest| rest.strip_suffix('`'))
    {
        return ids.contains(id);
    }
    message
        .strip_suffix(NOT_A_DOCUMENT)
        .and_then(|rest| rest.rsplit_once("`: "))
        .is_some_and(|(_, file)| files.contains(Path::new(file)))
}

fn percent_decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' && i + 2 < bytes.len() {
            let hex = |b: u8| (b as char).to_digit(16);
            if let (Some(h), Some(l)) = (hex(bytes[i + 1]), hex(bytes[i + 2])) {
                out.push((h * 16 + l) as u8);
                i += 3;
                continue;
            }
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// The cross-reference indexes of an archive.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LinkIndex {
    /// For each document, the entities its text mentions, in order of first mention.
    pub mentions: Vec<Vec<usize>>,
    /// For each document, the documents linking to it, newest first.
    pub backlinks: Vec<Vec<Backlink>>,
    /// For each document, the documents it links to (deduplicated, in order).
    pub outgoing: Vec<Vec<usize>>,
    /// How many bodies this pass rendered (the others' results were kept from an
    /// earlier build, see [`Reuse`]).
    pub rendered: usize,
}

/// What one body contributes to linking.
#[derive(Debug)]
pub struct BodyLinks {
    /// Its anchors and heading ids, which links from elsewhere may target.
    anchors: Vec<String>,
    /// Its links (and mentions of other documents' references, as `doc:` links),
    /// each with the excerpt a backlink shows.
    links: Vec<(BodyLink, String)>,
    /// The entities it mentions, in order of first mention.
    mentions: Vec<usize>,
    /// Mistakes found while rendering it (see [`markdown::RenderedBody::problems`]).
    problems: Vec<(usize, String)>,
}

/// Reduces document `from`'s analysed body to its [`BodyLinks`].
fn body_links(
    from: usize,
    body: markdown::RenderedBody,
    documents: &[Document],
    entity_count: usize,
) -> BodyLinks {
    let block_text = |anchor: &str| {
        body.blocks
            .iter()
            .find(|b| b.anchor == anchor)
            .map(|b| b.text.as_str())
            .unwrap_or("")
    };
    let mut mentions = Vec::new();
    let mut found: Vec<BodyLink> = body.links.clone();
    for (target, block) in &body.mentions {
        if *target < entity_count {
            mentions.push(*target);
        } else if target - entity_count != from {
            let to = &documents[target - entity_count];
            // The reference mentioned is one of the target's, found in the block.
            let text = to
                .references
                .iter()
                .find(|r| block_text(block).contains(r.as_str()))
                .cloned()
                .unwrap_or_default();
            found.push(BodyLink {
                dest: format!("doc:{}", to.id),
                offset: 0,
                block: block.clone(),
                text,
            });
        }
    }
    let links = found
        .into_iter()
        .map(|link| {
            // Only a link to a document becomes a backlink with an excerpt: the
            // others (to the web, within the page) are not quoted anywhere.
            let path = link.dest.split('#').next().unwrap_or_default();
            let excerpt = if link.dest.starts_with("doc:") || is_relative_markdown(path) {
                shorten(sentence_with(block_text(&link.block), &link.text), 240)
            } else {
                String::new()
            };
            (link, excerpt)
        })
        .collect();
    let mut anchors = body.anchors.clone();
    anchors.extend(body.headings.iter().map(|h| h.id.clone()));
    // Ids of raw HTML exist on the page where editors are trusted (elsewhere
    // they are removed): links to them are given the benefit of the doubt.
    anchors.extend(body.raw_ids.iter().cloned());
    BodyLinks {
        anchors,
        links,
        mentions,
        problems: body.problems.clone(),
    }
}

/// A kept search analysis of a document, if the caller has one (`annals serve`
/// keeps them between builds); see [`crate::search::AnalysisCache`].
pub type KeptAnalysis<'k> = &'k (dyn Fn(&Document) -> Option<Arc<DocumentAnalysis>> + Sync);

/// What one build's link pass got from each body, by a key of everything it
/// depends on (the body, the document's place in the archive, every id in order,
/// the autolinker's patterns, the binary and configuration): a rebuild in the same
/// process (`annals serve`) renders only the bodies whose key is new.
#[derive(Debug, Default, Clone)]
pub struct BodyCache {
    kept: HashMap<u64, Arc<BodyLinks>>,
}

impl BodyCache {
    /// How many bodies are kept.
    pub fn len(&self) -> usize {
        self.kept.len()
    }

    /// Whether none are.
    pub fn is_empty(&self) -> bool {
        self.kept.is_empty()
    }

    /// The link results stored in `path` by a build with the same `salt`
    /// ([`Reuse::store`]); none if there are none, or the file is damaged or
    /// names an entity past the archive's `entities`.
    pub fn load(path: &Path, salt: u64, entities: usize) -> BodyCache {
        std::fs::read(path)
            .ok()
            .and_then(|bytes| BodyCache::decode(&bytes, salt, entities))
            .unwrap_or_default()
    }

    fn encode(salt: u64, entries: &[(u64, &BodyLinks)]) -> Vec<u8> {
        let chunks: Vec<Vec<u8>> = entries
            .par_chunks(256)
            .map(|chunk| {
                let mut out = Vec::new();
                for (key, links) in chunk {
                    out.extend_from_slice(&key.to_le_bytes());
                    links.encode(&mut out);
                }
                out
            })
            .collect();
        crate::cache::framed(LINKS_MAGIC, salt, |out| {
            out.reserve(chunks.iter().map(Vec::len).sum::<usize>() + 16);
            crate::varint::push(out, entries.len() as u64);
            for chunk in chunks {
                out.extend_from_slice(&chunk);
            }
        })
    }

    fn decode(bytes: &[u8], salt: u64, entities: usize) -> Option<BodyCache> {
        let body = crate::cache::unframed(bytes, LINKS_MAGIC, salt)?;
        let mut at = 0;
        let count = crate::varint::read(body, &mut at)?;
        let mut kept = HashMap::with_capacity(usize::try_from(count).ok()?.min(body.len()));
        for _ in 0..count {
            let key = u64::from_le_bytes(body.get(at..at + 8)?.try_into().ok()?);
            at += 8;
            let links = BodyLinks::decode(body, &mut at)?;
            if links.mentions.iter().any(|&m| m >= entities) {
                return None;
            }
            kept.insert(key, Arc::new(links));
        }
        (at == body.len()).then_some(BodyCache { kept })
    }
}

/// The first bytes of a stored [`BodyCache`]: a name and a format number.
const LINKS_MAGIC: &[u8; 16] = b"annals-links-001";

impl BodyLinks {
    fn encode(&self, out: &mut Vec<u8>) {
        let number = |out: &mut Vec<u8>, n: usize| crate::varint::push(out, n as u64);
        let text = |out: &mut Vec<u8>, s: &str| {
            crate::varint::push(out, s.len() as u64);
            out.extend_from_slice(s.as_bytes());
        };
        number(out, self.anchors.len());
        for a in &self.anchors {
            text(out, a);
        }
        number(out, self.links.len());
        for (link, excerpt) in &self.links {
            text(out, &link.dest);
            number(out, link.offset);
            text(out, &link.block);
            text(out, &link.text);
            text(out, excerpt);
        }
        number(out, self.mentions.len());
        for &m in &self.mentions {
            number(out, m);
        }
        number(out, self.problems.len());
        for (offset, problem) in &self.problems {
            number(out, *offset);
            text(out, problem);
        }
    }

    fn decode(bytes: &[u8], at: &mut usize) -> Option<BodyLinks> {
        let number = |at: &mut usize| -> Option<usize> {
            usize::try_from(crate::varint::read(bytes, at)?).ok()
        };
        let text = |at: &mut usize| -> Option<String> {
            let len = number(at)?;
            let s = std::str::from_utf8(bytes.get(*at..at.checked_add(len)?)?).ok()?;
            *at += len;
            Some(s.to_string())
        };
        let count = |at: &mut usize| number(at).filter(|&n| n <= bytes.len());
        let anchors = (0..count(at)?).map(|_| text(at)).collect::<Option<_>>()?;
        let links = (0..count(at)?)
            .map(|_| {
                let link = BodyLink {
                    dest: text(at)?,
                    offset: number(at)?,
                    block: text(at)?,
                    text: text(at)?,
                };
                Some((link, text(at)?))
            })
            .collect::<Option<_>>()?;
        let mentions = (0..count(at)?).map(|_| number(at)).collect::<Option<_>>()?;
        let problems = (0..count(at)?)
            .map(|_| Some((number(at)?, text(at)?)))
            .collect::<Option<_>>()?;
        Some(BodyLinks {
            anchors,
            links,
            mentions,
            problems,
        })
    }
}

/// What the link pass may take from an earlier build instead of rendering a body.
#[derive(Clone, Copy)]
pub struct Reuse<'r> {
    /// Kept search analyses.
    pub analysis: KeptAnalysis<'r>,
    /// Kept link results; with `Some` (a session), the pass also returns its own
    /// for the next build and keeps every document's search analysis whole (for
    /// the session's cache) instead of interning them per chunk.
    pub bodies: Option<KeptBodies<'r>>,
    /// What the binary and configuration contribute to the keys
    /// ([`crate::search::cache_salt`]).
    pub salt: u64,
    /// Where a build sets the snippet files aside (see [`crate::spill`]); a
    /// new file in the system's temporary folder if `None`.
    pub spill: Option<&'r Arc<crate::spill::Spill>>,
    /// Whether every document page will be rendered (a build with no previous
    /// site to take pages from): the pass then makes each page's body HTML from
    /// the same parse as its links (see [`index`]).
    pub page_html: bool,
    /// With `Some`, only the documents it selects are analysed for search, each
    /// on its own ([`crate::search::Analyses::only`]): a build that patches the
    /// live index needs the edited documents' analyses alone.
    pub only: Option<&'r (dyn Fn(&Document) -> bool + Sync)>,
    /// Whether to set this pass's link results aside for a later build's
    /// [`BodyCache::load`] ([`LINKS_FILE`], written if the build succeeds).
    pub store: bool,
    /// Where related documents are stored between builds, with the key of
    /// everything they depend on but the links (see
    /// [`super::related::related_stored`]).
    pub related: Option<(&'r Path, u64)>,
    /// Where the indexes over the front matter are stored between builds,
    /// with the key of everything they depend on (see
    /// [`super::stored_indexes`]).
    pub indexes: Option<(&'r Path, u64)>,
}

impl Reuse<'static> {
    /// Nothing kept from an earlier build, nothing stored for a later one.
    pub fn nothing() -> Reuse<'static> {
        Reuse {
            analysis: &|_| None,
            bodies: None,
            salt: 0,
            spill: None,
            page_html: false,
            only: None,
            store: false,
            related: None,
            indexes: None,
        }
    }
}

/// Link results kept from an earlier build (see [`Reuse::bodies`]).
#[derive(Clone, Copy)]
pub enum KeptBodies<'r> {
    /// A session's, at hand.
    Held(&'r BodyCache),
    /// The last build's, being read from the cache folder.
    Stored(&'r StoredBodies),
}

impl<'r> KeptBodies<'r> {
    fn get(self) -> &'r BodyCache {
        match self {
            KeptBodies::Held(cache) => cache,
            KeptBodies::Stored(stored) => stored.get(),
        }
    }
}

/// The link results of [`BodyCache::load`], read on another thread while the
/// archive is linked up to the pass that needs them.
pub struct StoredBodies {
    reading: std::sync::Mutex<Option<std::thread::JoinHandle<BodyCache>>>,
    read: std::sync::OnceLock<BodyCache>,
}

impl StoredBodies {
    /// Starts reading the results stored in `path` (see [`BodyCache::load`]).
    pub fn read(path: std::path::PathBuf, salt: u64, entities: usize) -> StoredBodies {
        let reading = std::thread::spawn(move || BodyCache::load(&path, salt, entities));
        StoredBodies {
            reading: std::sync::Mutex::new(Some(reading)),
            read: std::sync::OnceLock::new(),
        }
    }

    /// The results, once read (none if the reading failed).
    pub fn get(&self) -> &BodyCache {
        self.read.get_or_init(|| {
            let reading = self.reading.lock().ok().and_then(|mut r| r.take());
            reading.and_then(|r| r.join().ok()).unwrap_or_default()
        })
    }
}

/// Renders document `i`'s body for its page (see [`crate::render::body`]).
pub type PageHtml<'r> = dyn Fn(usize, &str) -> markdown::RenderedBody + Sync + 'r;

/// What [`index`] returns: the link results, the search analyses, the link
/// results to keep for the next build (a session), and each document's page
/// body if the pass made them ([`Reuse::page_html`]; empty otherwise).
pub type Indexed = (
    LinkIndex,
    Analyses,
    Option<BodyCache>,
    Vec<Option<SpilledBytes>>,
    Option<crate::cache::PendingFile>,
);

/// The cache file of stored link results.
pub const LINKS_FILE: &str = "links.bin";

/// How many bodies a build may find missing from [`LINKS_FILE`] and still
/// leave it as it is (see [`index`]).
const STALE_BODIES_TOLERATED: usize = 16;

/// Renders every body in parallel, checks every document link and anchor, and
/// builds backlinks. `documents` are in the archive's final order. With
/// `page_html` (and a spill on disk), each body's page HTML is made in the same
/// pass and set aside for its page.
///
/// The same pass makes each document's search analysis from the rendered body
/// (unless `reuse` has it), so that a build parses every body once for links,
/// mentions and search; the pages' HTML is rendered later, per page. A body whose
/// analysis and link results are both kept is not rendered at all.
pub fn index(
    documents: &[Document],
    autolinker: &markdown::Autolinker,
    entity_count: usize,
    (by_id, by_file): (&FxHashMap<String, usize>, &FxHashMap<PathBuf, usize>),
    reuse: Reuse<'_>,
    page_html: Option<&PageHtml<'_>>,
) -> Result<Indexed, Vec<Diagnostic>> {
    // What every body's link results depend on besides the body and its place.
    let context = {
        let mut h = DefaultHasher::new();
        (reuse.salt, autolinker.fingerprint(), entity_count).hash(&mut h);
        // Ids name link targets; references give a mention's link text.
        for d in documents {
            (&d.id, &d.references).hash(&mut h);
        }
        h.finish()
    };
    let body_key = |from: usize, d: &Document| {
        let mut h = DefaultHasher::new();
        (context, from, &d.body).hash(&mut h);
        h.finish()
    };
    // Each body is reduced, in parallel, to what linking needs (its anchors, its
    // links with their excerpts) and to its search analysis. The bodies' text
    // blocks are dropped as soon as that is done, so memory holds no second copy
    // of every body. Contiguous chunks, so that each word memo serves many
    // documents.
    let chunk = search::chunk_size(documents.len());
    // A session keeps every document's analysis as it is, for its cache; a build
    // without one interns them per chunk at once (see [`search::Analyses`]).
    let kept_bodies = reuse.bodies.map(KeptBodies::get);
    let per_document = kept_bodies.is_some() || reuse.only.is_some();
    // Per document: body key, link results, analysis (when kept per document),
    // whether the analysis was made and whether the body was rendered.
    type Done = (
        u64,
        Arc<BodyLinks>,
        Option<Arc<DocumentAnalysis>>,
        bool,
        bool,
        Option<SpilledBytes>,
    );
    type Chunk = (Vec<Done>, Option<search::InternedChunk>, Vec<Diagnostic>);
    // A build sets the snippet files aside on disk until the search stage
    // writes them (see [`crate::spill`]).
    let spill = (!per_document).then(|| {
        reuse
            .spill
            .cloned()
            .unwrap_or_else(|| Arc::new(crate::spill::Spill::new()))
    });
    // Pages' HTML is set aside only in a file: held in memory, it would be the
    // largest thing the build holds.
    let page_html = match (page_html, &spill) {
        (Some(render), Some(spill)) if !per_document && spill.on_disk() => Some((render, spill)),
        _ => None,
    };
    let chunks: Vec<Chunk> = documents
        .par_chunks(chunk)
        .enumerate()
        .map(|(c, docs)| {
            let mut memo = WordMemo::default();
            let mut interned = spill.as_ref().map(|spill| {
                (
                    search::Interned::default(),
                    search::Snippets::new(spill.clone()),
                )
            });
            let mut unreadable = Vec::new();
            let done = docs
                .iter()
                .enumerate()
                .map(|(i, d)| {
                    let from = c * chunk + i;
                    let key = kept_bodies.map_or(0, |_| body_key(from, d));
                    // Results stored by another process are checked against
                    // this archive (a file that passed its CRC could still
                    // name an entity it does not have).
                    let kept_links = kept_bodies
                        .and_then(|b| b.kept.get(&key).cloned())
                        .filter(|l| l.mentions.iter().all(|&m| m < entity_count));
                    let kept_analysis = (reuse.analysis)(d);
                    // Not analysed at all (see `Reuse::only`).
                    let skipped = reuse.only.is_some_and(|only| !only(d));
                    let mut page_body = None;
                    let (links, analysis, made, rendered) = match (kept_links, kept_analysis) {
                        (Some(links), Some(analysis)) => (links, Some(analysis), false, false),
                        // Links kept, and no analysis wanted: nothing to render.
                        (Some(links), None) if skipped => (links, None, false, false),
                        (kept_links, kept_analysis) => {
                            let text = d.body.text().unwrap_or_else(|e| {
                                unreadable.push(unreadable_body(d, &e));
                                Default::default()
                            });
                            let body = match page_html {
                                Some((render, spill)) => {
                                    let mut body = render(from, &text);
                                    let page = crate::render::body::PageBody::take(&mut body);
                                    page_body = SpilledBytes::put(spill, &page.encode());
                                    body
                                }
                                None => markdown::render_with(
                                    &text,
                                    &RenderOptions::analysis(Some(autolinker)),
                                ),
                            };
                            let (analysis, made) = match (kept_analysis, &mut interned) {
                                (Some(a), _) => (Some(a), false),
                                (None, _) if skipped => (None, false),
                                // A build: analysed straight into the chunk's group.
                                (None, Some((group, parts))) => {
                                    parts.push_document(&group.add_body(d, &body));
                                    (None, true)
                                }
                                (None, None) => (
                                    Some(Arc::new(search::analyse_body(d, &body, &mut memo))),
                                    true,
                                ),
                            };
                            let links = match kept_links {
                                Some(l) => l,
                                None => Arc::new(body_links(from, body, documents, entity_count)),
                            };
                            (links, analysis, made, true)
                        }
                    };
                    let analysis = match (&mut interned, analysis) {
                        (None, analysis) => analysis,
                        (Some((group, parts)), Some(analysis)) => {
                            match Arc::try_unwrap(analysis) {
                                Ok(owned) => parts.push_document(&group.push_owned(owned)),
                                Err(shared) => {
                                    group.push(&shared);
                                    parts.push_document(&shared.parts);
                                }
                            }
                            None
                        }
                        (Some(_), None) => None,
                    };
                    (key, links, analysis, made, rendered, page_body)
                })
                .collect();
            if let Some((group, parts)) = &mut interned {
                group.seal();
                parts.finish();
            }
            (done, interned, unreadable)
        })
        .collect();
    let mut done: Vec<Done> = Vec::with_capacity(documents.len());
    let mut interned = Vec::new();
    let mut errors = Vec::new();
    for (chunk_done, group, unreadable) in chunks {
        done.extend(chunk_done);
        interned.extend(group);
        errors.extend(unreadable);
    }
    if !errors.is_empty() {
        return Err(errors);
    }
    let analyses = match reuse.only {
        // The selected documents' analyses; a session also keeps every
        // other one it had.
        Some(only) => Analyses {
            made: done.iter().filter(|s| s.3).count(),
            only: (done.iter().zip(documents).enumerate())
                .filter(|(_, (_, d))| only(d))
                .filter_map(|(i, (s, _))| Some((i, s.2.clone()?)))
                .collect(),
            documents: match done.iter().all(|s| s.2.is_some()) {
                true => done.iter().filter_map(|s| s.2.clone()).collect(),
                false => Vec::new(),
            },
            interned: Vec::new(),
        },
        None => Analyses {
            made: done.iter().filter(|s| s.3).count(),
            documents: done.iter().filter_map(|s| s.2.clone()).collect(),
            interned,
            only: Vec::new(),
        },
    };
    let analysis: Vec<Arc<BodyLinks>> = done.iter().map(|s| s.1.clone()).collect();
    let rendered = done.iter().filter(|s| s.4).count();
    let page_bodies: Vec<Option<SpilledBytes>> = if page_html.is_some() {
        done.iter_mut().map(|s| s.5.take()).collect()
    } else {
        Vec::new()
    };
    // Results stored by the last build that miss only a few bodies (those
    // edited since it stored them) are left as they are: each later build
    // renders those few again, which costs less than encoding and writing
    // every document's results again (4 MB at 10k documents).
    let stored_suffices =
        kept_bodies.is_some_and(|k| !k.kept.is_empty()) && rendered <= STALE_BODIES_TOLERATED;
    let pending = (reuse.store && !stored_suffices).then(|| {
        let keyed = kept_bodies.is_some();
        let entries: Vec<(u64, &BodyLinks)> = done
            .iter()
            .zip(documents)
            .enumerate()
            .map(|(from, (s, d))| (if keyed { s.0 } else { body_key(from, d) }, &*s.1))
            .collect();
        let bytes = BodyCache::encode(reuse.salt, &entries);
        crate::cache::PendingFile::set_aside(LINKS_FILE, bytes, reuse.spill)
    });
    let next_cache = kept_bodies.map(|_| BodyCache {
        kept: done
            .into_iter()
            .map(|(key, links, ..)| (key, links))
            .collect(),
    });
    let anchors: Vec<HashSet<&str>> = analysis
        .par_iter()
        .map(|a| a.anchors.iter().map(String::as_str).collect())
        .collect();
    let mut backlinks: Vec<Vec<Backlink>> = vec![Vec::new(); documents.len()];
    let mut outgoing: Vec<Vec<usize>> = vec![Vec::new(); documents.len()];
    let mut mentions: Vec<Vec<usize>> = vec![Vec::new(); documents.len()];
    for (from, (doc, body)) in documents.iter().zip(&analysis).enumerate() {
        mentions[from].clone_from(&body.mentions);
        for (offset, problem) in &body.problems {
            errors.push(body_diagnostic(doc, *offset, problem.clone()));
        }
        for (link, excerpt) in &body.links {
            // A link within the page must land on something of it: an anchor of
            // the body, a note, or a section of the page the theme makes
            // (`#top`, like an empty fragment, is the top of any page).
            if let Some(f) = link.dest.strip_prefix('#') {
                let f = percent_decode(f);
                if !has_anchor(&anchors[from], &f) {
                    errors.push(missing_anchor(doc, link, "this document", &f));
                }
                continue;
            }
            let target = match resolve(&link.dest, &doc.file, by_id, by_file) {
                Ok(t) => t,
                Err(message) => {
                    errors.push(body_diagnostic(doc, link.offset, message));
                    continue;
                }
            };
            let LinkTarget::Document(to, fragment) = target else {
                continue;
            };
            if let Some(f) = &fragment {
                if !has_anchor(&anchors[to], f) {
                    let whose = format!("document `{}`", documents[to].id);
                    errors.push(missing_anchor(doc, link, &whose, f));
                    continue;
                }
            }
            if to == from {
                continue;
            }
            if !outgoing[from].contains(&to) {
                outgoing[from].push(to);
            }
            // Repeats (two links in one passage) are removed after sorting: a
            // document linked from thousands must not be scanned per link.
            backlinks[to].push(Backlink {
                from,
                block: link.block.clone(),
                excerpt: excerpt.clone(),
            });
        }
    }
    if !errors.is_empty() {
        return Err(errors);
    }
    for list in &mut backlinks {
        // Documents are newest first, so their index orders backlinks newest first.
        list.sort_by(|a, b| a.from.cmp(&b.from).then_with(|| a.block.cmp(&b.block)));
        list.dedup_by(|a, b| a.from == b.from && a.block == b.block);
    }
    Ok((
        LinkIndex {
            mentions,
            backlinks,
            outgoing,
            rendered,
        },
        analyses,
        next_cache,
        page_bodies,
        pending,
    ))
}

/// Applies an edit of document `at`'s body to the link index, when the edit
/// changes nothing that other pages list: the same documents linked to, in the
/// same order, the same entities mentioned, every anchor still there. Then only
/// the "Referenced by" passages quoted from it can change on other pages, and
/// they are updated here.
///
/// Returns the documents whose pages the edit changes (`at` first, then each
/// document whose quoted passages changed), or `None` when the edit may reach
/// further and only a full link pass can tell (the index is then untouched): a
/// link or mention added or removed, an anchor removed that another document may
/// link to, a link to another document's anchor that was not there before (its
/// anchors are not kept), or a link that no longer resolves.
pub fn edit_body(
    documents: &[Document],
    index: &mut LinkIndex,
    autolinker: &markdown::Autolinker,
    entity_count: usize,
    (by_id, by_file): (&FxHashMap<String, usize>, &FxHashMap<PathBuf, usize>),
    at: usize,
    body: &str,
) -> Option<Vec<usize>> {
    let doc = documents.get(at)?;
    let links_of = |text: &str| {
        let rendered = markdown::render_with(text, &RenderOptions::analysis(Some(autolinker)));
        body_links(at, rendered, documents, entity_count)
    };
    let before = links_of(&doc.body.text().ok()?);
    let after = links_of(body);
    if after.mentions != index.mentions[at] {
        return None;
    }
    let kept: HashSet<&str> = after.anchors.iter().map(String::as_str).collect();
    if !before.anchors.iter().all(|a| kept.contains(a.as_str())) {
        return None;
    }
    let known_dests: HashSet<&str> = before.links.iter().map(|(l, _)| l.dest.as_str()).collect();
    let mut outgoing = Vec::new();
    let mut quoted: Vec<(usize, Backlink)> = Vec::new();
    for (link, excerpt) in &after.links {
        let LinkTarget::Document(to, fragment) =
            resolve(&link.dest, &doc.file, by_id, by_file).ok()?
        else {
            continue;
        };
        if let Some(f) = &fragment {
            let known = if to == at {
                kept.contains(f.as_str())
            } else {
                known_dests.contains(link.dest.as_str())
            };
            if !known && !is_footnote_anchor(f) {
                return None;
            }
        }
        if to == at {
            continue;
        }
        if !outgoing.contains(&to) {
            outgoing.push(to);
        }
        quoted.push((
            to,
            Backlink {
                from: at,
                block: link.block.clone(),
                excerpt: excerpt.clone(),
            },
        ));
    }
    if outgoing != index.outgoing[at] {
        return None;
    }
    let mut changed = vec![at];
    for &to in &outgoing {
        // The same order as the full pass: the others' passages as they were,
        // then this document's in the order of its links, sorted stably.
        let mut list: Vec<Backlink> = index.backlinks[to]
            .iter()
            .filter(|b| b.from != at)
            .cloned()
            .collect();
        list.extend(
            quoted
                .iter()
                .filter(|(t, _)| *t == to)
                .map(|(_, b)| b.clone()),
        );
        list.sort_by(|a, b| a.from.cmp(&b.from).then_with(|| a.block.cmp(&b.block)));
        list.dedup_by(|a, b| a.from == b.from && a.block == b.block);
        if list != index.backlinks[to] {
            index.backlinks[to] = list;
            changed.push(to);
        }
    }
    Some(changed)
}

fn is_footnote_anchor(f: &str) -> bool {
    f.strip_prefix("fn-")
        .or_else(|| f.strip_prefix("fnref-"))
        .is_some_and(|n| n.chars().all(|c| c.is_ascii_digit() || c == '-'))
}

/// Whether a document's page has the anchor `f`: one of its body's (`anchors`),
/// a note's, a section the theme makes, or the top (`#top`, or an empty
/// fragment, is the top of any page).
fn has_anchor(anchors: &HashSet<&str>, f: &str) -> bool {
    f.is_empty()
        || f == "top"
        || anchors.contains(f)
        || is_footnote_anchor(f)
        || crate::markdown::THEME_IDS.contains(&f)
}

/// The error for a link to an anchor that `whose` page lacks.
fn missing_anchor(doc: &Document, link: &BodyLink, whose: &str, f: &str) -> Diagnostic {
    body_diagnostic(
        doc,
        link.offset,
        format!("link to `{}`: {whose} has no anchor `#{f}`", link.dest),
    )
    .with_help("anchors are heading ids and paragraph numbers such as #p4.2 or #p7")
}

/// A diagnostic at a byte offset of a document's body.
pub fn body_diagnostic(doc: &Document, offset: usize, message: impl Into<String>) -> Diagnostic {
    let text = doc.body.text().unwrap_or_default();
    diagnostic_in_body(&doc.file, &text, doc.body_line, offset, message)
}

/// An error at byte `offset` of a Markdown body `text` that starts on line
/// `body_line` of `file` (a document's or an entity's), quoting its line.
pub fn diagnostic_in_body(
    file: &Path,
    text: &str,
    body_line: usize,
    offset: usize,
    message: impl Into<String>,
) -> Diagnostic {
    let (line, column) = line_col(text, offset);
    let mut d = Diagnostic::file(file.to_path_buf(), message);
    d.line = body_line + line - 1;
    d.column = column;
    d.source_line = text
        .lines()
        .nth(line.saturating_sub(1))
        .map(|l| l.trim_end().to_string());
    d
}

/// The error of a body that a build cannot read back: from its temporary
/// file, or from the document's own file, changed since it was stamped.
pub fn unreadable_body(doc: &Document, e: &std::io::Error) -> Diagnostic {
    let mut d = Diagnostic::file(doc.file.clone(), format!("cannot read the body: {e}"));
    d.line = doc.body_line;
    d.column = 1;
    d
}

/// The sentence of `text` containing the first occurrence of `needle`, or the whole
/// text when it is not found. A sentence ends at `.`, `!` or `?` followed by a space.
pub fn sentence_with<'t>(text: &'t str, needle: &str) -> &'t str {
    let Some(at) = (!needle.is_empty()).then(|| text.find(needle)).flatten() else {
        return text;
    };
    let is_end = |i: usize| {
        text.as_bytes()
            .get(i)
            .is_some_and(|b| matches!(b, b'.' | b'!' | b'?'))
            && text.as_bytes().get(i + 1).is_none_or(|b| *b == b' ')
    };
    // A sentence is looked for within a few kilobytes of the needle: a block
    // with no sentence end (a list of thousands of links in one paragraph)
    // must not be scanned whole for each of its links.
    let from = floor_boundary(text, at.saturating_sub(SENTENCE_WINDOW));
    let to = floor_boundary(text, (at + needle.len()).saturating_add(SENTENCE_WINDOW));
    let start = (from..at)
        .rev()
        .find(|&i| is_end(i))
        .map_or(from, |i| i + 2);
    let end = (at + needle.len()..to)
        .find(|&i| is_end(i))
        .map_or(to, |i| i + 1);
    text.get(start.min(end)..end).unwrap_or(text)
}

/// How far [`sentence_with`] looks for a sentence's ends, in bytes each way.
const SENTENCE_WINDOW: usize = 4096;

/// The largest char boundary of `text` at or below `i`.
fn floor_boundary(text: &str, i: usize) -> usize {
    let mut i = i.min(text.len());
    while !text.is_char_boundary(i) {
        i -= 1;
    }
    i
}

/// Shortens text to about `max` characters at a word boundary, with an ellipsis.
pub fn shorten(text: &str, max: usize) -> String {
    if text.chars().count() <= max {
        return text.to_string();
    }
    let mut out = String::new();
    for word in text.split_whitespace() {
        if out.chars().count() + word.chars().count() + 1 > max {
            break;
        }
        if !out.is_empty() {
            out.push(' ');
        }
        out.push_str(word);
    }
    out.push('…');
    out
}

#[cfg(test)]
mod tests {
    #[test]
    fn a_cut_backlink_list_keeps_every_passage_of_the_documents_it_lists() {
        use super::{from_newest, linking_count, Backlink};
        let passage = |from: usize, block: &str| Backlink {
            from,
            block: block.into(),
            excerpt: String::new(),
        };
        let list = [
            passage(1, "p1"),
            passage(1, "p4"),
            passage(3, "p2"),
            passage(7, "p1"),
            passage(7, "p2"),
            passage(7, "p9"),
        ];
        assert_eq!(linking_count(&list), 3);
        assert_eq!(linking_count(&[]), 0);
        let froms = |n: usize| -> Vec<(usize, String)> {
            (from_newest(&list, n).iter())
                .map(|b| (b.from, b.block.clone()))
                .collect()
        };
        assert!(froms(0).is_empty());
        assert_eq!(froms(1), [(1, "p1".into()), (1, "p4".into())]);
        assert_eq!(froms(2).len(), 3);
        assert_eq!(froms(3).len(), 6);
        assert_eq!(froms(10).len(), 6);
    }

    #[test]
    fn stored_link_results_read_back_and_name_only_known_entities() {
        let links = super::BodyLinks {
            anchors: vec!["p1".into(), "background".into()],
            links: vec![(
                super::BodyLink {
                    dest: "doc:x#p2".into(),
                    offset: 17,
                    block: "p1".into(),
                    text: "the note".into(),
                },
                "See the note.".into(),
            )],
            mentions: vec![0, 4],
            problems: vec![(3, "a problem".into())],
        };
        let bytes = super::BodyCache::encode(7, &[(42, &links)]);
        let back = super::BodyCache::decode(&bytes, 7, 5).expect("read back");
        let kept = &back.kept[&42];
        assert_eq!(
            (&kept.anchors, &kept.links, &kept.mentions, &kept.problems),
            (
                &links.anchors,
                &links.links,
                &links.mentions,
                &links.problems
            )
        );
        // Another salt, a damaged file, or an entity the archive lacks: none.
        assert!(super::BodyCache::decode(&bytes, 8, 5).is_none());
        assert!(super::BodyCache::decode(&bytes[1..], 7, 5).is_none());
        assert!(super::BodyCache::decode(&bytes, 7, 4).is_none());
    }

    use super::*;

    fn maps() -> (FxHashMap<String, usize>, FxHashMap<PathBuf, usize>) {
        let by_id = [("a".to_string(), 0), ("b".to_string(), 1)];
        let by_file = [
            (PathBuf::from("content/documents/2019/a.md"), 0),
            (PathBuf::from("content/documents/2016/b.md"), 1),
        ];
        (by_id.into_iter().collect(), by_file.into_iter().collect())
    }

    #[test]
    fn resolves_ids_and_relative_files() {
        let (by_id, by_file) = maps();
        let from = Path::new("content/documents/2019/a.md");
        assert_eq!(
            resolve("doc:b", from, &by_id, &by_file),
            Ok(LinkTarget::Document(1, None))
        );
        assert_eq!(
            resolve("doc:b#p4.2", from, &by_id, &by_file),
            Ok(LinkTarget::Document(1, Some("p4.2".into())))
        );
        assert_eq!(
            resolve("../2016/b.md#x", from, &by_id, &by_file),
            Ok(LinkTarget::Document(1, Some("x".into())))
        );
        assert_eq!(
            resolve("https://e.org/x.md", from, &by_id, &by_file),
            Ok(LinkTarget::Other)
        );
        assert_eq!(
            resolve("#p1", from, &by_id, &by_file),
            Ok(LinkTarget::Other)
        );
        assert!(resolve("doc:zzz", from, &by_id, &by_file)
            .unwrap_err()
            .contains("unknown document id `zzz`"));
        assert!(resolve("../2016/c.md", from, &by_id, &by_file).is_err());
        assert!(resolve("../../../../../etc/x.md", from, &by_id, &by_file).is_err());
    }

    #[test]
    fn finds_the_sentence_with_the_link() {
        let text = "First one. Then the link here! Last? Yes.";
        assert_eq!(sentence_with(text, "link"), "Then the link here!");
        assert_eq!(sentence_with(text, "First"), "First one.");
        assert_eq!(sentence_with(text, "Yes"), "Yes.");
        assert_eq!(sentence_with(text, "absent"), text);
        assert_eq!(sentence_with(text, ""), text);
        assert_eq!(sentence_with("No end", "end"), "No end");
        assert_eq!(sentence_with("4.2. Numbered é. Next", "é"), "Numbered é.");
        // A sentence longer than the window is cut around the needle.
        let long = format!("{}needle{}. After.", "é".repeat(5000), "word ".repeat(2000));
        let found = sentence_with(&long, "needle");
        assert!(
            found.contains("needle") && found.len() <= 2 * 4096 + 6,
            "{}",
            found.len()
        );
    }

    #[test]
    fn shortens_at_words() {
        assert_eq!(shorten("one two three", 9), "one two…");
        assert_eq!(shorten("short", 9), "short");
    }
}
