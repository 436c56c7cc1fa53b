//! The link stage: from a flat list of documents to an [`Archive`], with the
//! cross-document indexes every page needs (ids, taxonomies, the timeline), each
//! built once in a single pass so nothing is quadratic in documents or terms.

pub mod links;
pub mod related;
pub mod stored_indexes;
mod timeline;

pub use timeline::{
    group_by_year, Timeline, TimelineEntry, TimelineEntryKind, TimelineMonth, TimelineYear,
};

use crate::config::{Config, TaxonomyConfig};
use crate::diagnostics::Diagnostic;
use crate::document::{slugify, Document};
use crate::entity::Entity;
use crate::load::Original;
use crate::markdown::Autolinker;
use rayon::prelude::*;
use rustc_hash::FxHashMap;
use std::collections::{BTreeMap, HashMap, HashSet};
use std::path::PathBuf;

/// One term of a taxonomy (a topic, an organisation, a type) and its documents.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Term {
    /// The term as first written in the archive (terms compare case-insensitively).
    pub name: String,
    /// URL segment of its page.
    pub slug: String,
    /// Indexes into [`Archive::documents`], newest first.
    pub documents: Vec<usize>,
    /// The entity file describing it, if any (index into [`Archive::entities`]).
    pub entity: Option<usize>,
}

/// A taxonomy with its terms, sorted by name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Taxonomy {
    /// Its configuration (key, names, URL path).
    pub config: TaxonomyConfig,
    /// Its terms, alphabetically (case-insensitive), then by slug.
    pub terms: Vec<Term>,
}

impl Taxonomy {
    /// The site path of the taxonomy's index page (`topics/`).
    pub fn path(&self) -> String {
        format!("{}/", self.config.path)
    }

    /// The site path of one term's page (`topics/<slug>/`).
    pub fn term_path(&self, term: &Term) -> String {
        format!("{}/{}/", self.config.path, term.slug)
    }

    /// The term a document lists under this taxonomy, by its written form.
    pub fn find(&self, name: &str) -> Option<&Term> {
        let key = term_key(name);
        self.terms.iter().find(|t| term_key(&t.name) == key)
    }
}

/// The whole archive, linked: documents newest first and the indexes over them.
#[derive(Debug, Clone)]
pub struct Archive {
    /// Site configuration.
    pub config: Config,
    /// Every published document, newest first (ties by id, so order is stable).
    pub documents: Vec<Document>,
    /// Position of each id in `documents`.
    pub by_id: FxHashMap<String, usize>,
    /// Position of each document's file in `documents` (links may name a
    /// document by its Markdown file).
    pub by_file: FxHashMap<PathBuf, usize>,
    /// Taxonomies in configured order.
    pub taxonomies: Vec<Taxonomy>,
    /// For each document, the (taxonomy index, term index) pairs it is filed
    /// under, in the order the document lists them; built once, for related
    /// documents and for every document page.
    pub doc_terms: Vec<Vec<(usize, usize)>>,
    /// Documents and events by year and month.
    pub timeline: Timeline,
    /// Links between documents and backlinks; mentions of entities.
    pub links: links::LinkIndex,
    /// Every document's search analysis, made by the link pass from the body it
    /// renders anyway; the search stage takes them (see [`crate::search`]).
    pub search: crate::search::Analyses,
    /// The link pass's results by body, when a session asked for them (see
    /// [`links::Reuse`]); the build hands them to the session.
    pub bodies: Option<links::BodyCache>,
    /// Each document's body as its page shows it, set aside by the link pass in
    /// a build that renders every page (see [`crate::render::body`]); empty
    /// otherwise, and then pages render their bodies.
    pub page_bodies: Vec<Option<crate::spill::SpilledBytes>>,
    /// Entity files (organisations and other kinds a site describes).
    pub entities: Vec<Entity>,
    /// For each entity, the documents whose text mentions it, newest first.
    pub mentioned_in: Vec<Vec<usize>>,
    /// For each entity, the documents naming it (by name or alias) in `from`, newest first.
    pub sent_by: Vec<Vec<usize>>,
    /// For each entity, the documents naming it in `to`, newest first.
    pub received_by: Vec<Vec<usize>>,
    /// For each entity, the events whose title or description names it, as
    /// (document, index in its `events`), in document order.
    pub events_naming: Vec<Vec<(usize, usize)>>,
    /// Entity names and document references to link on first mention. Targets below
    /// `entities.len()` are entities; the others are documents (offset by it).
    pub autolinker: Autolinker,
    /// For each document, up to five related documents with the reason.
    pub related: Vec<Vec<related::Related>>,
    /// Sender -> recipient pairs with their documents.
    pub correspondence: Vec<Correspondence>,
    /// Originals to publish, with the site path of each.
    pub attachments: Vec<(Original, String)>,
    /// Cache files made while linking (stored link results, related
    /// documents), for the build to write once it has succeeded.
    pub cache_files: Vec<crate::cache::PendingFile>,
}

impl Archive {
    /// Replaces document `at`'s body, if the edit changes no page but its own
    /// and the "Referenced by" passages of the documents it links to (see
    /// [`links::edit_body`]); returns those documents, `at` first. With `None`
    /// the archive is unchanged: only a full link pass can apply the edit.
    pub fn edit_body(&mut self, at: usize, body: crate::document::Body) -> Option<Vec<usize>> {
        let changed = links::edit_body(
            &self.documents,
            &mut self.links,
            &self.autolinker,
            self.entities.len(),
            (&self.by_id, &self.by_file),
            at,
            &body.text().ok()?,
        )?;
        self.documents[at].body = body;
        Some(changed)
    }
}

/// Puts `items[order[i]]` at place `i` for every `i`, by swaps along the
/// permutation's cycles: moving the documents into a new vector instead
/// touches twice their memory for the first time, which costs a body-edit
/// build 15-20 ms of page faults at 10k documents. `order` must be a
/// permutation of `0..items.len()`.
fn permute_in_place<T>(items: &mut [T], order: &[usize]) {
    let mut placed = vec![false; items.len()];
    for start in 0..items.len() {
        if placed[start] {
            continue;
        }
        // Place `at` takes the item from `order[at]`, whose own place is
        // filled next; the cycle closes where `order` leads back to `start`.
        let mut at = start;
        loop {
            placed[at] = true;
            let from = order[at];
            if from == start {
                break;
            }
            items.swap(at, from);
            at = from;
        }
    }
}

/// For each document, the (taxonomy index, term index) pairs it is filed
/// under, in the order the document lists them (see [`Archive::doc_terms`]),
/// from each taxonomy's lists (see [`build_taxonomy`]).
fn terms_of_documents(listed: Vec<Vec<Vec<usize>>>, count: usize) -> Vec<Vec<(usize, usize)>> {
    let mut out: Vec<Vec<(usize, usize)>> = vec![Vec::new(); count];
    for (ti, lists) in listed.into_iter().enumerate() {
        for (list, terms) in out.iter_mut().zip(lists) {
            list.extend(terms.into_iter().map(|ki| (ti, ki)));
        }
    }
    out
}

/// How terms compare: case-insensitively, with runs of white space folded.
pub fn term_key(term: &str) -> String {
    // Most terms are ASCII: one pass and one allocation (a Unicode term keeps
    // `to_lowercase`, whose final sigma depends on the word around it).
    if term.is_ascii() {
        let mut key = String::with_capacity(term.len());
        for word in term.split_whitespace() {
            if !key.is_empty() {
                key.push(' ');
            }
            key.extend(word.chars().map(|c| c.to_ascii_lowercase()));
        }
        return key;
    }
    term.split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
        .to_lowercase()
}

/// Links documents into an archive, or reports every cross-document problem:
/// duplicate ids, terms whose slugs collide, aliases that collide, missing originals.
pub fn link(
    config: Config,
    documents: Vec<Document>,
    originals: &HashMap<PathBuf, Original>,
    entities: Vec<Entity>,
) -> Result<Archive, Vec<Diagnostic>> {
    link_reusing(
        config,
        documents,
        originals,
        entities,
        links::Reuse::nothing(),
    )
}

/// [`link`], taking what `reuse` kept from an earlier build (search analyses,
/// link results of unchanged bodies) instead of making it again; see
/// [`crate::session`].
pub fn link_reusing(
    config: Config,
    mut documents: Vec<Document>,
    originals: &HashMap<PathBuf, Original>,
    entities: Vec<Entity>,
    reuse: links::Reuse<'_>,
) -> Result<Archive, Vec<Diagnostic>> {
    let mut errors = Vec::new();
    // Documents arrive in file-path order; the first file wins every tie below.
    documents.sort_by(|a, b| a.file.cmp(&b.file));

    let mut first_file: HashMap<&str, &Document> = HashMap::with_capacity(documents.len());
    for doc in &documents {
        if let Some(first) = first_file.get(doc.id.as_str()) {
            errors.push(
                doc.diagnostic_at_key(
                    "id",
                    format!(
                        "duplicate id `{}`: also used by {}",
                        doc.id,
                        first.file.display()
                    ),
                )
                .with_help("ids must be unique in the archive; each one is a permanent URL"),
            );
        } else {
            first_file.insert(&doc.id, doc);
        }
    }

    // Original files shipped next to documents (read and verified by the load stage).
    let mut attachments = Vec::new();
    for doc in &documents {
        let Some(file) = doc.source.as_ref().and_then(|s| s.file.as_ref()) else {
            continue;
        };
        let path = doc
            .file
            .parent()
            .map(PathBuf::from)
            .unwrap_or_default()
            .join(file);
        if let Some(original) = originals.get(&path) {
            let name = path
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default();
            attachments.push((original.clone(), format!("{}{}", doc.path(), name)));
            // An alias folder serves what its old page published, the original
            // included (see `render::Renderer::render` for the exports).
            for alias in doc.aliases.iter().filter(|a| a.ends_with('/')) {
                attachments.push((original.clone(), format!("{alias}{name}")));
            }
        }
    }

    // Newest first (a stable sort: ties keep file order). `file_order` lists
    // the documents' new places in file order, so that the passes that walk
    // them in file order compare no paths again.
    let mut newest_first: Vec<usize> = (0..documents.len()).collect();
    newest_first.sort_by(|&a, &b| {
        let (a, b) = (&documents[a], &documents[b]);
        b.date
            .sort_key()
            .cmp(&a.date.sort_key())
            .then_with(|| a.id.cmp(&b.id))
    });
    let mut file_order = vec![0; documents.len()];
    for (place, &was) in newest_first.iter().enumerate() {
        file_order[was] = place;
    }
    permute_in_place(&mut documents, &newest_first);
    let documents = documents;
    let by_id: FxHashMap<String, usize> = documents
        .iter()
        .enumerate()
        .map(|(i, d)| (d.id.clone(), i))
        .collect();
    let by_file: FxHashMap<PathBuf, usize> = documents
        .iter()
        .enumerate()
        .map(|(i, d)| (d.file.clone(), i))
        .collect();
    // The indexes over the front matter, as the last build made them from the
    // same front matter, if it stored them; else made below.
    let stored = reuse.indexes.and_then(|(path, key)| {
        let (entities, taxonomies) = (entities.len(), config.taxonomies.len());
        stored_indexes::read(path, key, &documents, entities, taxonomies)
    });
    let made_here = stored.is_none();
    // With them, only the bodies this build links are searched for mentions
    // (an edit's): a few texts, for which the automaton is not worth making.
    let few_texts = stored.is_some() && reuse.only.is_some();
    let (stored_terms, stored_side) = match stored {
        Some(s) => (
            Some((s.terms, s.doc_terms)),
            Some((
                ((s.sent_by, s.received_by), s.events_naming),
                s.correspondence,
            )),
        ),
        None => (None, None),
    };

    // The taxonomies, and apart from them the timeline and the mentions
    // automaton: independent, so built side by side.
    let ((taxonomies, taxonomy_errors, doc_terms), (timeline, autolinker)) = rayon::join(
        || {
            if let Some((terms, doc_terms)) = stored_terms {
                let taxonomies = (config.taxonomies.iter().cloned().zip(terms))
                    .map(|(config, terms)| Taxonomy { config, terms })
                    .collect();
                return (taxonomies, Vec::new(), doc_terms);
            }
            let built: Vec<(Taxonomy, Vec<Vec<usize>>, Vec<Diagnostic>)> = config
                .taxonomies
                .par_iter()
                .map(|tc| {
                    let own: Vec<(usize, &Entity)> = entities
                        .iter()
                        .enumerate()
                        .filter(|(_, e)| e.taxonomy == tc.key)
                        .collect();
                    let mut errors = Vec::new();
                    let (taxonomy, listed) =
                        build_taxonomy(tc, &documents, &file_order, &own, &mut errors);
                    (taxonomy, listed, errors)
                })
                .collect();
            let mut taxonomies = Vec::with_capacity(built.len());
            let mut listed = Vec::with_capacity(built.len());
            let mut errors = Vec::new();
            for (taxonomy, lists, errs) in built {
                taxonomies.push(taxonomy);
                listed.push(lists);
                errors.extend(errs);
            }
            let doc_terms = terms_of_documents(listed, documents.len());
            (taxonomies, errors, doc_terms)
        },
        || {
            rayon::join(
                || Timeline::build(&documents),
                // The bodies' links are checked even after an error above (a
                // duplicate id resolves to its first file meanwhile), so that
                // one run reports them all.
                || autolinker(&config, &documents, &entities, few_texts),
            )
        },
    );
    errors.extend(taxonomy_errors);
    // Stored indexes were made from this front matter by a build that
    // succeeded: its aliases were checked then.
    if made_here {
        check_aliases(&documents, &taxonomies, &mut errors);
    }
    check_entity_links(&entities, &by_id, &by_file, &mut errors);
    // A build that renders every page makes the bodies' page HTML in the link
    // pass, from the same parse (see [`crate::render::body`]).
    let entity_terms = crate::render::body::entity_terms(&taxonomies);
    let body_renderer = crate::render::body::BodyRenderer {
        config: &config,
        documents: &documents,
        by_id: &by_id,
        by_file: &by_file,
        autolinker: &autolinker,
        taxonomies: &taxonomies,
        entity_terms: &entity_terms,
        entity_count: entities.len(),
    };
    let related_store = reuse.related;
    let render_body = |i: usize, text: &str| body_renderer.render(i, text);
    let page_html = reuse
        .page_html
        .then_some(&render_body as &links::PageHtml<'_>);
    // What the pages list beside each document and entity, from passes over
    // the front matter, made beside the bodies' links: a build that reads
    // those from the cache waits for the file meanwhile.
    let side_passes = || {
        rayon::join(
            || {
                rayon::join(
                    || correspondents(&documents, &entities),
                    || events_naming(&documents, &autolinker, entities.len()),
                )
            },
            || correspondence(&documents, &entities),
        )
    };
    let (indexed, side) = rayon::join(
        || {
            links::index(
                &documents,
                &autolinker,
                entities.len(),
                (&by_id, &by_file),
                reuse,
                page_html,
            )
        },
        || stored_side.unwrap_or_else(side_passes),
    );
    let (links, search, bodies, page_bodies, links_file) = match indexed {
        Ok(indexed) if errors.is_empty() => indexed,
        Ok(_) => return Err(errors),
        Err(link_errors) => {
            errors.extend(link_errors);
            return Err(errors);
        }
    };
    let mut mentioned_in: Vec<Vec<usize>> = vec![Vec::new(); entities.len()];
    for (d, list) in links.mentions.iter().enumerate() {
        for &e in list {
            mentioned_in[e].push(d);
        }
    }
    let ((correspondents, events_naming), correspondence) = side;
    attachments.sort_by(|a, b| a.1.cmp(&b.1));
    let mut archive = Archive {
        config,
        documents,
        by_id,
        by_file,
        taxonomies,
        doc_terms,
        timeline,
        links,
        search,
        bodies,
        page_bodies,
        entities,
        mentioned_in,
        sent_by: correspondents.0,
        received_by: correspondents.1,
        events_naming,
        autolinker,
        related: Vec::new(),
        correspondence,
        attachments,
        cache_files: Vec::new(),
    };
    let entity_names: Vec<String> = archive.entities.iter().map(|e| e.name.clone()).collect();
    let mut entity_terms: Vec<Option<(usize, usize)>> = vec![None; archive.entities.len()];
    for (ti, tax) in archive.taxonomies.iter().enumerate() {
        for (ki, term) in tax.terms.iter().enumerate() {
            if let Some(e) = term.entity {
                entity_terms[e] = Some((ti, ki));
            }
        }
    }
    let related_inputs = related::RelatedInputs {
        documents: &archive.documents,
        taxonomies: &archive.taxonomies,
        doc_terms: &archive.doc_terms,
        links: &archive.links,
        mentioned_in: &archive.mentioned_in,
        entity_names: &entity_names,
        entity_terms: &entity_terms,
    };
    let related_file;
    (archive.related, related_file) = match related_store {
        Some((path, base)) => related::related_stored(&related_inputs, path, base, reuse.spill),
        None => (related::related(&related_inputs), None),
    };
    // Indexes made here are stored for the next build with these inputs.
    let indexes_file = reuse.indexes.filter(|_| made_here).map(|(_, key)| {
        let terms: Vec<&[Term]> = archive.taxonomies.iter().map(|t| &t.terms[..]).collect();
        let bytes = stored_indexes::encode(
            key,
            stored_indexes::IndexesOf {
                terms: &terms,
                doc_terms: &archive.doc_terms,
                sent_by: &archive.sent_by,
                received_by: &archive.received_by,
                events_naming: &archive.events_naming,
                correspondence: &archive.correspondence,
            },
        );
        crate::cache::PendingFile::set_aside(stored_indexes::INDEXES_FILE, bytes, reuse.spill)
    });
    archive.cache_files = (links_file.into_iter())
        .chain(related_file)
        .chain(indexes_file)
        .collect();
    Ok(archive)
}

/// The terms of taxonomy `tc`: those of its entity files, then those the
/// documents list, walked in file order (`file_order`: the documents' places,
/// file by file) for a deterministic display name.
///
/// Also returns, for each document, the indexes of the terms it is filed
/// under in the order it lists them (see [`Archive::doc_terms`]): the walk
/// meets them in that order anyway.
fn build_taxonomy(
    tc: &TaxonomyConfig,
    documents: &[Document],
    file_order: &[usize],
    entities: &[(usize, &Entity)],
    errors: &mut Vec<Diagnostic>,
) -> (Taxonomy, Vec<Vec<usize>>) {
    let mut by_key: HashMap<String, usize> = HashMap::new();
    let mut terms: Vec<Term> = Vec::new();
    // Where each term was first written, for collision messages.
    let mut term_origin: Vec<PathBuf> = Vec::new();
    let mut by_slug: HashMap<String, usize> = HashMap::new();
    // Entity files define terms first: their name and aliases all map to them.
    for &(e, entity) in entities {
        let t = terms.len();
        // Two files with one stem (`europol.md`, `europol.markdown`) would
        // make one page.
        if let Some(&other) = by_slug.get(&entity.slug) {
            errors.push(
                Diagnostic::file(
                    entity.file.clone(),
                    format!(
                        "this entity's page would be /{}/{}/, as {}'s is",
                        tc.path,
                        entity.slug,
                        term_origin[other].display()
                    ),
                )
                .with_help("an entity's page is named after its file: rename one of the two files"),
            );
            continue;
        }
        term_origin.push(entity.file.clone());
        for (n, name) in entity.names().enumerate() {
            let key = term_key(name);
            if let Some(&other) = by_key.get(&key) {
                // The same name twice in one file (`CEPOL`, `Cepol`) is harmless.
                if other == t {
                    continue;
                }
                let mut d = Diagnostic::file(
                    entity.file.clone(),
                    format!(
                        "the name `{name}` is also used by {}",
                        term_origin[other].display()
                    ),
                );
                if let Some((line, column, text)) = entity.name_places.get(n) {
                    d.line = *line;
                    d.column = *column;
                    d.source_line = Some(text.clone());
                }
                errors.push(d);
                continue;
            }
            by_key.insert(key, t);
        }
        by_slug.insert(entity.slug.clone(), t);
        terms.push(Term {
            name: entity.name.clone(),
            slug: entity.slug.clone(),
            documents: Vec::new(),
            entity: Some(e),
        });
    }
    // Walk documents in file order for a deterministic display name, but record
    // indexes in the archive's newest-first order. Most documents spell a
    // term as others do: each spelling is keyed once.
    let mut by_spelling: FxHashMap<&str, usize> = FxHashMap::default();
    let mut listed: Vec<Vec<usize>> = vec![Vec::new(); documents.len()];
    for &d in file_order {
        let doc = &documents[d];
        let Some(names) = doc.terms.get(&tc.key) else {
            continue;
        };
        for name in names {
            let found = by_spelling.get(name.as_str()).copied().or_else(|| {
                let t = *by_key.get(&term_key(name))?;
                by_spelling.insert(name.as_str(), t);
                Some(t)
            });
            if let Some(t) = found {
                // A document's own terms are walked together, so a repeat is the last one.
                if terms[t].documents.last() != Some(&d) {
                    terms[t].documents.push(d);
                    listed[d].push(t);
                }
                continue;
            }
            let key = term_key(name);
            let slug = slugify(name);
            if slug.is_empty() {
                errors.push(doc.diagnostic_at_key(
                    &tc.key,
                    format!(
                        "{} `{name}` has no letters or digits to make a URL from",
                        tc.singular.to_lowercase()
                    ),
                ));
                continue;
            }
            // A folder name longer than file systems allow (255 bytes) would
            // fail the build when written, with no word of which term it was.
            if slug.len() > crate::document::MAX_ID_LEN {
                errors.push(doc.diagnostic_at_key(
                    &tc.key,
                    format!(
                        "{} `{}…` makes a URL segment of {} bytes: at most {} are allowed",
                        tc.singular.to_lowercase(),
                        name.chars().take(40).collect::<String>(),
                        slug.len(),
                        crate::document::MAX_ID_LEN
                    ),
                ));
                continue;
            }
            if let Some(&other) = by_slug.get(&slug) {
                errors.push(
                    doc.diagnostic_at_key(
                        &tc.key,
                        format!(
                            "{} `{name}` and `{}` (in {}) would share the URL /{}/{slug}/",
                            tc.singular.to_lowercase(),
                            terms[other].name,
                            term_origin[other].display(),
                            tc.path
                        ),
                    )
                    .with_help("spell the term the same way in both documents, or add the spelling to the entity's aliases"),
                );
                continue;
            }
            by_slug.insert(slug.clone(), terms.len());
            by_key.insert(key, terms.len());
            by_spelling.insert(name.as_str(), terms.len());
            term_origin.push(doc.file.clone());
            listed[d].push(terms.len());
            terms.push(Term {
                name: name.trim().to_string(),
                slug,
                documents: vec![d],
                entity: None,
            });
        }
    }
    for t in &mut terms {
        t.documents.sort_unstable();
        t.documents.dedup();
    }
    // Alphabetical order, and each document's list renumbered to it.
    let keys: Vec<String> = terms.iter().map(|t| term_key(&t.name)).collect();
    let mut order: Vec<usize> = (0..terms.len()).collect();
    order.sort_by(|&a, &b| {
        keys[a]
            .cmp(&keys[b])
            .then_with(|| terms[a].slug.cmp(&terms[b].slug))
    });
    let mut place = vec![0; terms.len()];
    for (new, &old) in order.iter().enumerate() {
        place[old] = new;
    }
    permute_in_place(&mut terms, &order);
    for list in &mut listed {
        for t in list.iter_mut() {
            *t = place[*t];
        }
    }
    let taxonomy = Taxonomy {
        config: tc.clone(),
        terms,
    };
    (taxonomy, listed)
}

/// Documents from one sender to one recipient.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Correspondence {
    /// The sender: an entity's name, or the name as first written.
    pub from: String,
    /// The recipient, likewise.
    pub to: String,
    /// Their documents, newest first.
    pub documents: Vec<usize>,
}

/// Groups documents by (sender, recipient), names compared by their slugs (as
/// the search page's filters, which each pair links, compare them) and an
/// entity's aliases as its name; pairs with the most documents first, then
/// alphabetically.
fn correspondence<'a>(documents: &'a [Document], entities: &'a [Entity]) -> Vec<Correspondence> {
    // Names are keyed once per spelling (most documents spell a sender as
    // others do), and pairs are found by the numbers of their keys. A name
    // (or alias) of an entity stands for the entity, as on its page and in
    // the search page's filters, which each pair links.
    let mut keys = NameKeys::default();
    let mut names = Correspondents::new(entities);
    let mut pairs: FxHashMap<(usize, usize), usize> = FxHashMap::default();
    let mut out: Vec<(Correspondence, (usize, usize))> = Vec::new();
    for (d, doc) in documents.iter().enumerate() {
        for from in &doc.from {
            let (from, from_key) = keys.number(&mut names, from);
            for to in &doc.to {
                let (to, to_key) = keys.number(&mut names, to);
                let pair = (from_key, to_key);
                let i = *pairs.entry(pair).or_insert_with(|| {
                    let first = Correspondence {
                        from: from.to_string(),
                        to: to.to_string(),
                        documents: Vec::new(),
                    };
                    out.push((first, pair));
                    out.len() - 1
                });
                if out[i].0.documents.last() != Some(&d) {
                    out[i].0.documents.push(d);
                }
            }
        }
    }
    out.sort_by(|(a, (a_from, a_to)), (b, (b_from, b_to))| {
        b.documents
            .len()
            .cmp(&a.documents.len())
            .then_with(|| keys.key(*a_from).cmp(keys.key(*b_from)))
            .then_with(|| keys.key(*a_to).cmp(keys.key(*b_to)))
    });
    out.into_iter().map(|(c, _)| c).collect()
}

/// Correspondents numbered by their filter value (the search page's, see
/// [`Correspondent::value`]; by their [`term_key`] if they have none: no letter
/// or digit), each spelling keyed once.
#[derive(Default)]
struct NameKeys<'a> {
    by_spelling: FxHashMap<&'a str, (&'a str, usize)>,
    by_key: HashMap<String, usize>,
    keys: Vec<String>,
}

impl<'a> NameKeys<'a> {
    /// The name shown for `spelling`, and the number of its key.
    fn number(&mut self, names: &mut Correspondents<'a>, spelling: &'a str) -> (&'a str, usize) {
        if let Some(&known) = self.by_spelling.get(spelling) {
            return known;
        }
        let resolved = names.resolve(spelling);
        let key = match resolved.value.as_str() {
            // Marked, so that no filter value can be the key.
            "" => format!("\u{0}{}", term_key(resolved.name)),
            value => value.to_string(),
        };
        let n = match self.by_key.get(&key) {
            Some(&n) => n,
            None => {
                self.keys.push(key.clone());
                self.by_key.insert(key, self.keys.len() - 1);
                self.keys.len() - 1
            }
        };
        self.by_spelling.insert(spelling, (resolved.name, n));
        (resolved.name, n)
    }

    /// The key numbered `n`.
    fn key(&self, n: usize) -> &str {
        self.keys.get(n).map_or("", String::as_str)
    }
}

/// Which entity a name in `from` or `to` stands for: names and aliases compared
/// like terms, each spelling resolved once (most documents spell a name as
/// others do). The entity pages' sent and received lists, `/correspondence/`
/// and the search page's sender and recipient filters resolve names alike, so
/// that each finds what the others list.
pub struct Correspondents<'a> {
    entities: &'a [Entity],
    by_name: HashMap<String, usize>,
    by_spelling: FxHashMap<&'a str, Correspondent<'a>>,
}

/// What a spelling of a sender or recipient stands for.
pub struct Correspondent<'a> {
    /// The entity, if the spelling is one of its names.
    pub entity: Option<usize>,
    /// The name shown: the entity's, or the spelling.
    pub name: &'a str,
    /// The search page's filter value (`sender=<value>`): the entity's slug,
    /// or the name's slug (empty for a name without a letter or digit).
    pub value: String,
}

impl<'a> Correspondents<'a> {
    /// The resolver of `entities`' names.
    pub fn new(entities: &'a [Entity]) -> Self {
        let mut by_name: HashMap<String, usize> = HashMap::new();
        for (e, entity) in entities.iter().enumerate() {
            for name in entity.names() {
                by_name.entry(term_key(name)).or_insert(e);
            }
        }
        Correspondents {
            entities,
            by_name,
            by_spelling: FxHashMap::default(),
        }
    }

    /// What `name` stands for.
    pub fn resolve(&mut self, name: &'a str) -> &Correspondent<'a> {
        let (by_name, entities) = (&self.by_name, self.entities);
        self.by_spelling.entry(name).or_insert_with(|| {
            match by_name.get(&term_key(name)).copied() {
                Some(e) => Correspondent {
                    entity: Some(e),
                    name: &entities[e].name,
                    value: entities[e].slug.clone(),
                },
                None => Correspondent {
                    entity: None,
                    name,
                    value: slugify(name),
                },
            }
        })
    }
}

/// For each entity, the documents naming it as a sender and as a recipient (see
/// [`Correspondents`]), newest first: whether or not a document also files itself
/// under the entity.
fn correspondents(
    documents: &[Document],
    entities: &[Entity],
) -> (Vec<Vec<usize>>, Vec<Vec<usize>>) {
    let mut names = Correspondents::new(entities);
    let mut sent = vec![Vec::new(); entities.len()];
    let mut received = vec![Vec::new(); entities.len()];
    for (d, doc) in documents.iter().enumerate() {
        for (written, lists) in [(&doc.from, &mut sent), (&doc.to, &mut received)] {
            for name in written {
                if let Some(e) = names.resolve(name).entity {
                    let list: &mut Vec<usize> = &mut lists[e];
                    if list.last() != Some(&d) {
                        list.push(d);
                    }
                }
            }
        }
    }
    (sent, received)
}

/// For each entity, the events naming it in their title or description, found with
/// the mentions automaton, in every document (not only those listing the entity).
fn events_naming(
    documents: &[Document],
    autolinker: &Autolinker,
    entity_count: usize,
) -> Vec<Vec<(usize, usize)>> {
    let mut out = vec![Vec::new(); entity_count];
    let mut text = String::new();
    for (d, doc) in documents.iter().enumerate() {
        for (i, ev) in doc.events.iter().enumerate() {
            text.clear();
            text.push_str(&ev.title);
            text.push(' ');
            text.push_str(ev.description.as_deref().unwrap_or(""));
            for (_, _, target) in autolinker.find(&text) {
                if let Some(list) = out.get_mut(target) {
                    if list.last() != Some(&(d, i)) {
                        list.push((d, i));
                    }
                }
            }
        }
    }
    out
}

/// The automaton for mentions: every entity name and alias, and (if configured)
/// every official reference carried by exactly one document.
/// With `few_texts`, it is made for a few texts (see
/// [`Autolinker::for_few_texts`]).
fn autolinker(
    config: &Config,
    documents: &[Document],
    entities: &[Entity],
    few_texts: bool,
) -> Autolinker {
    let mut patterns: Vec<(String, usize)> = Vec::new();
    for (e, entity) in entities.iter().enumerate() {
        for name in entity.names() {
            patterns.push((name.to_string(), e));
        }
    }
    if config.mentions.link_references {
        // A reference is linked if one document lists it, once: the
        // (reference, document) pairs sorted, it is a run of one.
        let mut listed: Vec<(&str, usize)> = (documents.iter().enumerate())
            .flat_map(|(d, doc)| doc.references.iter().map(move |r| (r.as_str(), d)))
            .collect();
        listed.sort_unstable();
        for run in listed.chunk_by(|a, b| a.0 == b.0) {
            if let [(r, d)] = run {
                if r.chars().count() >= 4 {
                    patterns.push((r.to_string(), entities.len() + d));
                }
            }
        }
    }
    let case_insensitive = config.mentions.case_insensitive;
    if few_texts {
        Autolinker::for_few_texts(patterns, case_insensitive)
    } else {
        Autolinker::new(patterns, case_insensitive)
    }
}

/// Aliases must not take the path of a real page or of another alias.
/// Names the build writes at the top of every site: files, and folders it fills
/// alone. An alias at or beneath one would replace or shadow a file of the build.
const GENERATED_AT_TOP: &[&str] = &[
    ".annals-output",
    ".nojekyll",
    "404.html",
    "CNAME",
    "api",
    "bibliography.bib",
    "bibliography.json",
    "documents.csv",
    "feed.json",
    "feed.xml",
    "index.html",
    "robots.txt",
    "search",
    "sitemap.xml",
    "static",
    "timeline",
    "urls.json",
];

/// An entity page's body links to documents as a document's body does (`doc:<id>`,
/// a relative `.md` path): each must name a document, or the page would
/// publish a dead link. Reported at the link's line in the entity's file.
fn check_entity_links(
    entities: &[Entity],
    by_id: &FxHashMap<String, usize>,
    by_file: &FxHashMap<PathBuf, usize>,
    errors: &mut Vec<Diagnostic>,
) {
    for entity in entities {
        if !entity.body.contains("](") && !entity.body.contains("]:") {
            continue;
        }
        for (dest, offset) in crate::markdown::link_offsets(&entity.body) {
            if let Err(message) = links::resolve(&dest, &entity.file, by_id, by_file) {
                errors.push(links::diagnostic_in_body(
                    &entity.file,
                    &entity.body,
                    entity.body_line,
                    offset,
                    message,
                ));
            }
        }
    }
}

/// Refuses aliases that would take the place of a file the build writes, so that
/// no alias ever silently replaces a page (or, written in parallel, replaces it
/// in some builds and not in others). An alias `x/` is written as
/// `x/index.html`, `x.html` as itself; it collides with:
/// - a page of the archive (a document, the lists, a taxonomy or term page);
/// - a file or folder the build makes at the top of the site ([`GENERATED_AT_TOP`]);
/// - anything in a document's own folder (its page, citation exports, original);
/// - a topic's feeds, or a folder named like one;
/// - another document's alias.
fn check_aliases(documents: &[Document], taxonomies: &[Taxonomy], errors: &mut Vec<Diagnostic>) {
    let mut pages: HashSet<String> = documents.iter().map(Document::path).collect();
    for fixed in ["", "documents/", "timeline/", "search/", "correspondence/"] {
        pages.insert(fixed.to_string());
    }
    // Files beside pages that an alias folder could be named like.
    let mut files: HashSet<String> = HashSet::new();
    for tax in taxonomies {
        pages.insert(tax.path());
        for term in &tax.terms {
            let path = tax.term_path(term);
            files.insert(format!("{path}feed.xml"));
            files.insert(format!("{path}feed.json"));
            pages.insert(path);
        }
    }
    // An alias folder also holds the document's citation exports and original.
    for doc in documents {
        let original = doc.source.as_ref().and_then(|s| s.file.as_deref());
        let original = original.and_then(|f| std::path::Path::new(f).file_name()?.to_str());
        for alias in doc.aliases.iter().filter(|a| a.ends_with('/')) {
            let exports = crate::document::FILES_OF_A_DOCUMENT
                .iter()
                .filter(|f| **f != "index.html");
            for name in exports.copied().chain(original) {
                files.insert(format!("{alias}{name}"));
            }
        }
    }
    let document_folder = |alias: &str| {
        let id = alias.strip_prefix("documents/")?.split('/').next()?;
        documents.iter().find(|d| d.id == id).map(|d| d.id.clone())
    };
    let mut seen: BTreeMap<&str, &Document> = BTreeMap::new();
    for doc in documents {
        for alias in &doc.aliases {
            let top = alias.split('/').next().unwrap_or_default();
            // Every folder the alias's file is in, and the file itself.
            let written = if alias.ends_with('/') {
                format!("{alias}index.html")
            } else {
                alias.clone()
            };
            let shadows_file = written
                .match_indices('/')
                .map(|(i, _)| &written[..i])
                .chain([written.as_str()])
                .find(|p| files.contains(*p));
            let problem = if pages.contains(alias.as_str()) {
                Some("collides with a page the archive publishes".to_string())
            } else if GENERATED_AT_TOP.contains(&top) {
                Some(format!("collides with `/{top}`, which the build writes"))
            } else if let Some(id) = document_folder(alias) {
                Some(format!(
                    "lies in the folder of document `{id}`, which holds its page, citation exports and original"
                ))
            } else if let Some(file) = shadows_file {
                Some(format!("collides with `/{file}`, which the build writes"))
            } else {
                seen.get(alias.as_str())
                    .map(|other| format!("is also claimed by {}", other.file.display()))
            };
            match problem {
                Some(problem) => errors
                    .push(doc.diagnostic_at_key("aliases", format!("alias `/{alias}` {problem}"))),
                None => {
                    seen.insert(alias, doc);
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::load::SourceFile;
    use std::path::Path;

    fn doc(file: &str, front: &str) -> Document {
        let config =
            Config::parse(Path::new("site.toml"), "title = \"T\"\nbase_url = \"/\"\n").unwrap();
        let src = SourceFile {
            path: PathBuf::from(file),
            text: format!("---\n{front}\n---\nBody\n"),
        };
        crate::document::parse_document(&src, &config).unwrap()
    }

    fn config() -> Config {
        Config::parse(Path::new("site.toml"), "title = \"T\"\nbase_url = \"/\"\n").unwrap()
    }

    #[test]
    fn a_permutation_applied_in_place_moves_every_item_once() {
        let orders: [&[usize]; 5] = [&[], &[0], &[1, 0], &[2, 0, 1], &[3, 4, 0, 2, 1, 5]];
        for order in orders {
            let mut items: Vec<usize> = (0..order.len()).map(|i| i * 10).collect();
            permute_in_place(&mut items, order);
            let expected: Vec<usize> = order.iter().map(|&i| i * 10).collect();
            assert_eq!(items, expected, "order {order:?}");
        }
    }

    #[test]
    fn terms_fold_case_and_list_documents_newest_first() {
        let docs = vec![
            doc(
                "a.md",
                "id: a\ntitle: A\ndate: 2019\ntopics: [Migration, AI]",
            ),
            doc(
                "b.md",
                "id: b\ntitle: B\ndate: 2020-05-01\ntopics: [migration]",
            ),
            doc("c.md", "id: c\ntitle: C\ndate: 2018\ntopics: [Other]"),
        ];
        let archive = link(config(), docs, &HashMap::new(), Vec::new()).unwrap();
        let topics = &archive.taxonomies[0];
        let names: Vec<_> = topics.terms.iter().map(|t| t.name.as_str()).collect();
        assert_eq!(names, ["AI", "Migration", "Other"]);
        let migration = topics.find("MIGRATION").unwrap();
        let ids: Vec<_> = migration
            .documents
            .iter()
            .map(|&i| archive.documents[i].id.as_str())
            .collect();
        assert_eq!(ids, ["b", "a"]);
    }

    #[test]
    fn duplicate_ids_name_both_files() {
        let docs = vec![
            doc("x/one.md", "id: a\ntitle: A\ndate: 2019"),
            doc("y/two.md", "id: a\ntitle: B\ndate: 2019"),
        ];
        let errs = link(config(), docs, &HashMap::new(), Vec::new()).unwrap_err();
        assert_eq!(errs.len(), 1);
        assert_eq!(errs[0].file, PathBuf::from("y/two.md"));
        assert_eq!(errs[0].line, 2);
        assert!(errs[0].message.contains("x/one.md"), "{}", errs[0].message);
    }

    #[test]
    fn colliding_slugs_are_errors() {
        let docs = vec![
            doc("a.md", "id: a\ntitle: A\ndate: 2019\ntopics: [EU-LISA]"),
            doc("b.md", "id: b\ntitle: B\ndate: 2019\ntopics: [eu lisa]"),
        ];
        let errs = link(config(), docs, &HashMap::new(), Vec::new()).unwrap_err();
        assert!(errs[0].message.contains("a.md"), "{}", errs[0].message);
        assert_eq!(errs[0].file, PathBuf::from("b.md"));
        assert_eq!(errs[0].line, 5);
    }

    fn entity(slug: &str, name: &str, aliases: &[&str]) -> Entity {
        Entity {
            body_line: 1,
            taxonomy: "organisations".into(),
            slug: slug.into(),
            name: name.into(),
            aliases: aliases.iter().map(|a| a.to_string()).collect(),
            url: None,
            description: None,
            body: String::new(),
            file: PathBuf::from(format!("content/organisations/{slug}.md")),
            name_places: Vec::new(),
        }
    }

    #[test]
    fn stored_front_matter_indexes_are_those_a_link_pass_makes() {
        let docs = || {
            vec![
                doc(
                    "a.md",
                    "id: a\ntitle: A\ndate: 2019-03\nfrom: [EU-LISA]\nto: [Cepol, Someone]\ntopics: [Zebra, apple]\norganisations: [CEPOL]\nevents:\n  - date: 2019-02-01\n    title: Cepol meets eu-LISA",
                ),
                doc(
                    "b.md",
                    "id: b\ntitle: B\ndate: 2020\nfrom: [cepol]\nto: [eu-LISA]\ntopics: [apple]\nevents:\n  - date: 2020-01-01\n    title: Nothing\n  - date: 2020-02-01\n    title: A visit\n    description: by the EU Large Scale IT Systems Agency",
                ),
                doc("c.md", "id: c\ntitle: C\ndate: 2018\nfrom: [Someone]\nto: [Cepol]"),
            ]
        };
        let dir = tempfile::tempdir().unwrap();
        let path = (dir.path().join(crate::cache::CACHE_DIR)).join(stored_indexes::INDEXES_FILE);
        let linked = |indexes: Option<(&Path, u64)>, only: bool| {
            let reuse = links::Reuse {
                only: only.then_some(&|_: &Document| true),
                indexes,
                ..links::Reuse::nothing()
            };
            link_reusing(config(), docs(), &HashMap::new(), lisa_and_cepol(), reuse).unwrap()
        };
        let made = linked(None, false);
        assert!(!made.events_naming.iter().all(Vec::is_empty));
        assert!(!made.sent_by.iter().all(Vec::is_empty));
        assert!(!made.correspondence.is_empty());
        // Stored by a build that made them, under its key.
        let stored = linked(Some((&path, 7)), false);
        let file = stored
            .cache_files
            .iter()
            .find(|f| f.name == stored_indexes::INDEXES_FILE);
        file.expect("set aside").write(dir.path());
        // Taken by the next build with that key, which makes none to store.
        for only in [false, true] {
            let taken = linked(Some((&path, 7)), only);
            assert!(taken
                .cache_files
                .iter()
                .all(|f| f.name != stored_indexes::INDEXES_FILE));
            assert_eq!(taken.taxonomies, made.taxonomies);
            assert_eq!(taken.doc_terms, made.doc_terms);
            assert_eq!(taken.sent_by, made.sent_by);
            assert_eq!(taken.received_by, made.received_by);
            assert_eq!(taken.events_naming, made.events_naming);
            assert_eq!(taken.correspondence, made.correspondence);
            assert_eq!(taken.links.mentions, made.links.mentions);
        }
        // Another key, or a damaged file, is not taken.
        let (entities, taxonomies) = (2, made.taxonomies.len());
        let read = |key| stored_indexes::read(&path, key, &made.documents, entities, taxonomies);
        assert!(read(7).is_some());
        assert!(read(8).is_none());
        let bytes = std::fs::read(&path).unwrap();
        for cut in [0, 30, bytes.len() - 1] {
            std::fs::write(&path, &bytes[..cut]).unwrap();
            assert!(read(7).is_none(), "cut at {cut}");
        }
        // Nor one made for an archive with fewer documents.
        std::fs::write(&path, &bytes).unwrap();
        let fewer = &made.documents[..2];
        assert!(stored_indexes::read(&path, 7, fewer, entities, taxonomies).is_none());
    }

    /// Two organisations with aliases, one of them spelt with other words.
    fn lisa_and_cepol() -> Vec<Entity> {
        vec![
            entity(
                "eu-lisa",
                "eu-LISA",
                &["EU-LISA", "EU Large Scale IT Systems Agency"],
            ),
            entity("cepol", "CEPOL", &["Cepol"]),
        ]
    }

    #[test]
    fn entities_claim_terms_by_name_and_alias() {
        let docs = vec![
            doc(
                "a.md",
                "id: a\ntitle: A\ndate: 2019\norganisations: [EU Large Scale IT Systems Agency]",
            ),
            doc(
                "b.md",
                "id: b\ntitle: B\ndate: 2019\norganisations: [eu-LISA]",
            ),
        ];
        let archive = link(config(), docs, &HashMap::new(), lisa_and_cepol()).unwrap();
        let orgs = &archive.taxonomies[1];
        let lisa = orgs.terms.iter().find(|t| t.slug == "eu-lisa").unwrap();
        assert_eq!(lisa.documents.len(), 2);
        assert_eq!(lisa.name, "eu-LISA");
        assert!(orgs
            .terms
            .iter()
            .any(|t| t.slug == "cepol" && t.documents.is_empty()));
    }

    #[test]
    fn each_document_lists_its_terms_as_it_writes_them() {
        let docs = vec![
            doc(
                "a.md",
                "id: a\ntitle: A\ndate: 2019\ntopics: [Zebra, apple, ZEBRA, Mango]\norganisations: [EU Large Scale IT Systems Agency, Cepol]",
            ),
            doc(
                "b.md",
                "id: b\ntitle: B\ndate: 2020\ntopics: [Mango]\norganisations: [eu-LISA, CEPOL]",
            ),
        ];
        let archive = link(config(), docs, &HashMap::new(), lisa_and_cepol()).unwrap();
        let names = |id: &str| -> Vec<String> {
            let d = archive.by_id[id];
            archive.doc_terms[d]
                .iter()
                .map(|&(ti, ki)| archive.taxonomies[ti].terms[ki].name.clone())
                .collect()
        };
        // Taxonomies in configured order; in each, the terms as the document
        // first writes them (an alias stands for its entity's term).
        assert_eq!(names("a"), ["Zebra", "apple", "Mango", "eu-LISA", "CEPOL"]);
        assert_eq!(names("b"), ["Mango", "eu-LISA", "CEPOL"]);
    }

    #[test]
    fn two_entities_with_one_name_are_an_error() {
        let entities = vec![entity("a", "Agency", &[]), entity("b", "B", &["agency"])];
        let errs = link(config(), Vec::new(), &HashMap::new(), entities).unwrap_err();
        assert!(
            errs[0]
                .message
                .contains("`agency` is also used by content/organisations/a.md"),
            "{errs:?}"
        );
    }

    #[test]
    fn alias_collisions_are_errors() {
        let docs = vec![
            doc(
                "a.md",
                "id: a\ntitle: A\ndate: 2019\naliases: [/documents/b/]",
            ),
            doc("b.md", "id: b\ntitle: B\ndate: 2019\naliases: [/old/x]"),
            doc("c.md", "id: c\ntitle: C\ndate: 2019\naliases: [old/x/]"),
        ];
        let errs = link(config(), docs, &HashMap::new(), Vec::new()).unwrap_err();
        assert_eq!(errs.len(), 2, "{errs:?}");
    }

    /// Each document's related list is held for the whole build, so it must not
    /// keep the ranking's allocation, sized for every candidate (at 10k
    /// documents that was 100 MB of a 590 MB peak).
    #[test]
    fn related_lists_hold_no_more_than_they_show() {
        let docs: Vec<Document> = (0..40)
            .map(|i| {
                doc(
                    &format!("d{i}.md"),
                    &format!(
                        "id: d{i}\ntitle: D{i}\ndate: 20{:02}\ntopics: [Shared, Also]",
                        i % 25
                    ),
                )
            })
            .collect();
        let archive = link(config(), docs, &HashMap::new(), Vec::new()).unwrap();
        for list in &archive.related {
            assert_eq!(list.len(), related::MAX_RELATED);
            assert!(
                list.capacity() <= related::MAX_RELATED,
                "capacity {} for {} related documents",
                list.capacity(),
                list.len()
            );
        }
    }
}
