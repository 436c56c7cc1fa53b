//! The render stage: `&Archive` + templates -> one [`OutputFile`] at a time.
//!
//! Site-wide data (the site, taxonomies, document summaries) is converted to template
//! values once and shared by reference-counted clones, so a page costs only its own
//! data. Rendering never touches the disk; [`crate::output`] writes.

pub mod body;
pub mod charts;
pub mod views;

use crate::archive::Archive;
use crate::diagnostics::Diagnostic;
use crate::document::Document;
use crate::markdown;
use crate::search::facets::{CITES_PARAM, MENTIONS_PARAM, RECIPIENT_PARAM, SENDER_PARAM};
use crate::theme::Theme;
use std::path::PathBuf;
use tera::{Context, Kwargs, State, Tera, Value};
use views::*;

/// A file of the built site: its path below the output root and its bytes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutputFile {
    /// Site path, `/`-separated (`documents/x/index.html`).
    pub path: String,
    /// Contents.
    pub bytes: Vec<u8>,
}

/// Where a file's bytes come from: rendered here, or copied from the content folder.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Output {
    /// Bytes made by the build.
    File(OutputFile),
    /// A file copied as is: (source relative to the site root, site path).
    Copy(PathBuf, String),
}

/// Every page the archive publishes, as a cheap descriptor rendered on demand.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Page {
    /// `/`
    Home,
    /// `/documents/`
    DocumentList,
    /// `/documents/<id>/`
    Document(usize),
    /// `/<taxonomy>/`
    TaxonomyIndex(usize),
    /// `/<taxonomy>/<slug>/`
    Term(usize, usize),
    /// `/timeline/`
    Timeline,
    /// `/timeline/<year>/`
    TimelineYear(usize),
    /// A redirect from an old URL: (document, alias index).
    Alias(usize, usize),
    /// `/search/`
    Search,
    /// `/correspondence/`
    Correspondence,
    /// `/404.html`, served by GitHub Pages for any missing path.
    NotFound,
}

/// Above this many entries, `/timeline/` lists years only and each year page
/// carries the entries, so the page stays readable and light.
pub const TIMELINE_INLINE_LIMIT: usize = 2_000;

/// Compiled templates and the site-wide values every page shares.
pub struct Renderer<'a> {
    archive: &'a Archive,
    parts: RenderParts,
}

/// What a [`Renderer`] makes once, before any page: the compiled templates and
/// the lookups pages share. None of it depends on a document's body, so `annals
/// serve` keeps it between builds ([`Renderer::into_parts`]) and renders the
/// pages of a body edit without compiling the templates again.
pub struct RenderParts {
    tera: Tera,
    /// Every document's summary as a template value, made on first use: the
    /// build creates the renderer (compiling the templates, so a template error
    /// is reported before any work) ahead of the search stage, and the summaries
    /// (about 4 KB a document) are then made only after the search index, whose
    /// assembly is the build's peak, has freed its memory.
    summaries: std::sync::OnceLock<Vec<Value>>,
    /// The term of each entity: entity index -> (taxonomy, term).
    entity_terms: std::collections::HashMap<usize, (usize, usize)>,
    /// Each name and alias of an entity, as a term key, to the entity's page
    /// URL: a sender or recipient that names one links to it.
    entity_urls: std::collections::HashMap<String, String>,
    /// The published original of each document that has one: (URL, original).
    originals: std::collections::HashMap<usize, (String, crate::load::Original)>,
    template_origins: Vec<(String, PathBuf, String)>,
}

/// Tera's escaping of values in HTML templates, byte for byte (`&`, `<`, `>`,
/// `"` and `'`), written a run of plain bytes at a time: Tera's own writes
/// every byte on its own through a `dyn Write`, which was a sixth of the time
/// spent in templates.
fn escape_html(input: &str, out: &mut dyn std::io::Write) -> std::io::Result<()> {
    let bytes = input.as_bytes();
    let mut plain = 0;
    for (i, b) in bytes.iter().enumerate() {
        let entity: &[u8] = match b {
            b'&' => b"&amp;",
            b'<' => b"&lt;",
            b'>' => b"&gt;",
            b'"' => b"&quot;",
            b'\'' => b"&#39;",
            _ => continue,
        };
        out.write_all(&bytes[plain..i])?;
        out.write_all(entity)?;
        plain = i + 1;
    }
    out.write_all(&bytes[plain..])
}

/// The search page filtered by `filters` (parameter, value): where a cut list
/// sends the reader for the rest. Values are slugs, safe in a query as they are.
fn search_url(config: &crate::config::Config, filters: &[(&str, &str)]) -> String {
    let mut url = config.url("search/");
    for (n, (param, value)) in filters.iter().enumerate() {
        url.push(if n == 0 { '?' } else { '&' });
        url.push_str(param);
        url.push('=');
        url.push_str(value);
    }
    url
}

/// How many documents each sender-recipient pair of `/correspondence/` lists,
/// given how many each has: the most that keeps the page's total within `limit`
/// (`document_list_limit`; 0, or a total within it, lists them all), so the
/// busiest pairs are cut first and every pair shows its newest.
fn pair_list_limit(lengths: &[usize], limit: usize) -> usize {
    let longest = lengths.iter().copied().max().unwrap_or(0);
    let total = |cap: usize| -> usize { lengths.iter().map(|&n| n.min(cap)).sum() };
    if limit == 0 || total(longest) <= limit {
        return longest;
    }
    // The page's total grows with the cap: the largest cap within the limit.
    let (mut low, mut high) = (0, longest);
    while low < high {
        let mid = (low + high).div_ceil(2);
        if total(mid) <= limit {
            low = mid;
        } else {
            high = mid - 1;
        }
    }
    low
}

/// Every year of the timeline, with its months and their entries if `entries`.
fn year_views(a: &Archive, entries: bool) -> Vec<TimelineYearView> {
    (a.timeline.years.iter())
        .map(|y| timeline_year_view(a, y, entries))
        .collect()
}

impl<'a> Renderer<'a> {
    /// Compiles the theme's templates and prepares the shared values.
    pub fn new(archive: &'a Archive, theme: &Theme) -> Result<Self, Vec<Diagnostic>> {
        let config = &archive.config;
        let mut tera = Tera::new();
        tera.autoescape_on(vec![".html", ".xml", ".htm"]);
        tera.set_escape_fn(escape_html);
        let templates: Vec<(&str, &str)> = theme
            .templates
            .iter()
            .map(|t| (t.name.as_str(), t.text.as_str()))
            .collect();
        let template_origins: Vec<(String, PathBuf, String)> = theme
            .templates
            .iter()
            .map(|t| (t.name.clone(), t.origin.clone(), t.text.clone()))
            .collect();
        // Functions must exist before templates are compiled: Tera checks calls.
        let base_path = config.base_path.clone();
        tera.register_function(
            "url",
            move |kwargs: Kwargs, _: &State| -> tera::TeraResult<String> {
                let path: String = kwargs.must_get::<&str>("path")?.to_string();
                Ok(format!("{base_path}{}", path.trim_start_matches('/')))
            },
        );
        if let Err(e) = tera.add_raw_templates(templates) {
            return Err(vec![template_diagnostic(&e, &template_origins)]);
        }

        let site = SiteView {
            title: config.title.clone(),
            description: config.description.clone(),
            base_url: config.base_url(),
            base_path: config.base_path.clone(),
            language: config.language.clone(),
            publisher: config.publisher.clone(),
            taxonomies: archive
                .taxonomies
                .iter()
                .map(|t| TaxonomyView::new(t, config))
                .collect(),
            document_count: archive.documents.len(),
            urls: SiteUrls {
                home: config.url(""),
                documents: config.url("documents/"),
                timeline: config.url("timeline/"),
                search: config.url("search/"),
                correspondence: config.url("correspondence/"),
                stylesheet: config.url("static/style.css"),
                highlight_stylesheet: config.url("static/highlight.css"),
            },
        };
        tera.global_context().insert("site", &site);

        let entity_terms = body::entity_terms(&archive.taxonomies);
        let parts = RenderParts {
            tera,
            summaries: std::sync::OnceLock::new(),
            entity_urls: entity_urls(archive, &entity_terms),
            entity_terms,
            originals: archive
                .attachments
                .iter()
                .filter_map(|(original, site_path)| {
                    let id = site_path.strip_prefix("documents/")?.split('/').next()?;
                    let index = *archive.by_id.get(id)?;
                    Some((index, (config.absolute_url(site_path), original.clone())))
                })
                .collect(),
            template_origins,
        };
        Ok(Renderer { archive, parts })
    }

    /// A renderer of `archive` with parts made for it earlier, by a renderer of
    /// the same archive before only bodies changed (see [`RenderParts`]).
    pub fn with_parts(archive: &'a Archive, parts: RenderParts) -> Self {
        Renderer { archive, parts }
    }

    /// The renderer's parts, to make another renderer of the same archive after
    /// body edits. Summaries are let go: they are large, and a few pages make
    /// their own.
    pub fn into_parts(self) -> RenderParts {
        let mut parts = self.parts;
        parts.summaries = std::sync::OnceLock::new();
        parts
    }

    /// Every document's summary for templates, newest first (made on first use).
    fn summaries(&self) -> &[Value] {
        self.parts.summaries.get_or_init(|| {
            let config = &self.archive.config;
            self.archive
                .documents
                .iter()
                .map(|d| Value::from_serializable(&DocumentSummary::new(d, config)))
                .collect()
        })
    }

    /// One document's summary: taken from the shared list once it exists, made
    /// on its own otherwise, so that rendering a few document pages (`annals
    /// serve`'s preview of an edit) does not make every document's summary.
    fn summary(&self, d: usize) -> Value {
        match self.parts.summaries.get() {
            Some(all) => all[d].clone(),
            None => Value::from_serializable(&DocumentSummary::new(
                &self.archive.documents[d],
                &self.archive.config,
            )),
        }
    }

    /// Every page of the archive, in a stable order.
    pub fn pages(&self) -> Vec<Page> {
        let a = self.archive;
        let mut pages = vec![
            Page::Home,
            Page::DocumentList,
            Page::Timeline,
            Page::Search,
            Page::NotFound,
            Page::Correspondence,
        ];
        pages.extend((0..a.documents.len()).map(Page::Document));
        for (ti, tax) in a.taxonomies.iter().enumerate() {
            pages.push(Page::TaxonomyIndex(ti));
            pages.extend((0..tax.terms.len()).map(|ki| Page::Term(ti, ki)));
        }
        pages.extend((0..a.timeline.years.len()).map(Page::TimelineYear));
        for (di, doc) in a.documents.iter().enumerate() {
            pages.extend((0..doc.aliases.len()).map(|n| Page::Alias(di, n)));
        }
        pages
    }

    /// The site path a page is written to.
    pub fn page_path(&self, page: Page) -> String {
        let a = self.archive;
        let dir = match page {
            Page::Home => String::new(),
            Page::DocumentList => "documents/".into(),
            Page::Document(i) => a.documents[i].path(),
            Page::TaxonomyIndex(t) => a.taxonomies[t].path(),
            Page::Term(t, k) => a.taxonomies[t].term_path(&a.taxonomies[t].terms[k]),
            Page::Timeline => "timeline/".into(),
            Page::Search => "search/".into(),
            Page::Correspondence => "correspondence/".into(),
            Page::NotFound => return "404.html".into(),
            Page::TimelineYear(y) => timeline_year_path(a.timeline.years[y].year),
            Page::Alias(d, n) => {
                let alias = &a.documents[d].aliases[n];
                if alias.ends_with(".html") || alias.ends_with(".htm") {
                    return alias.clone();
                }
                alias.clone()
            }
        };
        format!("{dir}index.html")
    }

    /// Renders one page.
    /// Renders one page, with the files published next to it (a document's
    /// citation exports).
    pub fn render(&self, page: Page) -> Result<Vec<OutputFile>, Diagnostic> {
        let a = self.archive;
        let config = &a.config;
        let mut companions: Vec<OutputFile> = Vec::new();
        let mut ctx = Context::new();
        let path = self.page_path(page);
        let page_url = config.url(path.trim_end_matches("index.html"));
        ctx.insert("page_url", &page_url);
        let template = match page {
            Page::Home => {
                let latest: Vec<Value> = self
                    .summaries()
                    .iter()
                    .take(config.latest_documents)
                    .cloned()
                    .collect();
                ctx.insert_value("latest", Value::from(latest));
                let taxonomies: Vec<TaxonomyWithTerms> = a
                    .taxonomies
                    .iter()
                    .map(|t| TaxonomyWithTerms {
                        taxonomy: TaxonomyView::new(t, config),
                        terms: term_views(t, config),
                    })
                    .collect();
                ctx.insert("taxonomies", &taxonomies);
                ctx.insert("years", &year_views(a, false));
                ctx.insert("chart", &charts::years_chart(a, false));
                "index.html"
            }
            Page::DocumentList => {
                // Above the limit, the newest documents and every year's page,
                // so the page stays light however large the archive grows.
                let summaries = self.summaries();
                let shown = config.listed(summaries.len());
                ctx.insert_value("documents", Value::from(summaries[..shown].to_vec()));
                ctx.insert("document_count", &summaries.len());
                ctx.insert("years", &year_views(a, false));
                "documents.html"
            }
            Page::Document(i) => {
                let doc = &a.documents[i];
                let body = self.page_body(i)?;
                ctx.insert("doc", &self.document_view(i, body));
                companions = citation_exports(doc, config, &doc.path());
                "document.html"
            }
            Page::TaxonomyIndex(t) => {
                let tax = &a.taxonomies[t];
                ctx.insert("taxonomy", &TaxonomyView::new(tax, config));
                ctx.insert("terms", &term_views(tax, config));
                "taxonomy.html"
            }
            Page::Term(t, k) => {
                let tax = &a.taxonomies[t];
                let term = &tax.terms[k];
                ctx.insert("taxonomy", &TaxonomyView::new(tax, config));
                ctx.insert(
                    "term",
                    &LinkView {
                        name: term.name.clone(),
                        url: config.url(&tax.term_path(term)),
                    },
                );
                // Above the limit, the newest, and the search page's filter
                // for all of them (every document is on its year's page too).
                let shown = config.listed(term.documents.len());
                let docs: Vec<Value> = term.documents[..shown]
                    .iter()
                    .map(|&d| self.summaries()[d].clone())
                    .collect();
                ctx.insert_value("documents", Value::from(docs));
                ctx.insert("document_count", &term.documents.len());
                let param = crate::search::facets::taxonomy_param(&tax.config.key);
                ctx.insert("search_url", &search_url(config, &[(&param, &term.slug)]));
                let entity = term.entity.map(|e| self.entity_view(e, &term.documents));
                // The timeline shows what the page lists: filed, mentioned, events.
                let mut documents = term.documents.clone();
                if let Some(e) = term.entity {
                    documents.extend(&a.mentioned_in[e]);
                    documents.sort_unstable();
                    documents.dedup();
                }
                // Every event naming the entity, though its page lists only the newest.
                let events: Vec<(usize, usize)> = (term.entity.iter())
                    .flat_map(|&e| &a.events_naming[e])
                    .copied()
                    .filter(|&(d, i)| a.documents[d].events.get(i).is_some())
                    .collect();
                let timeline = charts::term_timeline(
                    a,
                    &documents,
                    &events,
                    &config.url(&tax.term_path(term)),
                );
                ctx.insert("chart", &timeline.chart);
                ctx.insert("timeline", &timeline.years);
                ctx.insert("entity", &entity);
                "term.html"
            }
            Page::Timeline => {
                let total: usize = a
                    .timeline
                    .years
                    .iter()
                    .map(|y| y.document_count + y.event_count)
                    .sum();
                let inline = total <= TIMELINE_INLINE_LIMIT;
                ctx.insert("years", &year_views(a, inline));
                ctx.insert("entries_inline", &inline);
                ctx.insert("chart", &charts::years_chart(a, true));
                "timeline.html"
            }
            Page::TimelineYear(y) => {
                let years = &a.timeline.years;
                ctx.insert("year", &timeline_year_view(a, &years[y], true));
                ctx.insert("chart", &charts::months_chart(a, &years[y]));
                let neighbour = |i: Option<usize>| {
                    i.and_then(|i| years.get(i)).map(|y| LinkView {
                        name: y.year.to_string(),
                        url: config.url(&timeline_year_path(y.year)),
                    })
                };
                ctx.insert("previous", &neighbour(y.checked_sub(1)));
                ctx.insert("next", &neighbour(Some(y + 1)));
                "timeline_year.html"
            }
            Page::Search => "search.html",
            Page::Correspondence => {
                // Each pair lists its newest documents, as many as keep the page
                // within the limit, and links the search page for the rest.
                let lengths: Vec<usize> =
                    a.correspondence.iter().map(|c| c.documents.len()).collect();
                let shown = pair_list_limit(&lengths, config.document_list_limit);
                let mut names = crate::archive::Correspondents::new(&a.entities);
                let mut value = |name: &'a str| names.resolve(name).value.clone();
                let pairs: Vec<CorrespondenceView> = (a.correspondence.iter())
                    .map(|c| {
                        let (from, to) = (value(&c.from), value(&c.to));
                        CorrespondenceView {
                            from: c.from.clone(),
                            to: c.to.clone(),
                            documents: Value::from(
                                (c.documents.iter().take(shown))
                                    .map(|&d| self.summaries()[d].clone())
                                    .collect::<Vec<_>>(),
                            ),
                            document_count: c.documents.len(),
                            search_url: (!from.is_empty() && !to.is_empty()).then(|| {
                                search_url(config, &[(SENDER_PARAM, &from), (RECIPIENT_PARAM, &to)])
                            }),
                        }
                    })
                    .collect();
                ctx.insert("pairs", &pairs);
                let longest = lengths.iter().copied().max().unwrap_or(0);
                ctx.insert("pair_limit", &(shown < longest).then_some(shown));
                "correspondence.html"
            }
            Page::NotFound => "404.html",
            Page::Alias(d, n) => {
                let doc = &a.documents[d];
                // The old folder keeps serving what was published in it: a
                // redirect cannot be served for a `.bib` file, so the citation
                // exports are there again, byte for byte (the originals are
                // published there too, see `Archive::attachments`).
                let alias = &doc.aliases[n];
                if alias.ends_with('/') {
                    companions = citation_exports(doc, config, alias);
                }
                ctx.insert(
                    "target",
                    &LinkView {
                        name: doc.title.clone(),
                        url: config.url(&doc.path()),
                    },
                );
                ctx.insert("permalink", &config.absolute_url(&doc.path()));
                "alias.html"
            }
        };
        let html = self
            .parts
            .tera
            .render(template, &ctx)
            .map_err(|e| template_diagnostic(&e, &self.parts.template_origins))?;
        let mut files = Vec::with_capacity(1 + companions.len());
        files.push(OutputFile {
            path,
            bytes: html.into_bytes(),
        });
        files.extend(companions);
        Ok(files)
    }

    /// An entity's body as HTML, its links to documents (`doc:<id>`, a
    /// relative `.md` path) made the documents' URLs, as in a document's body.
    fn entity_body(&self, entity: &crate::entity::Entity) -> String {
        let a = self.archive;
        let resolve_link = |dest: &str| {
            body::document_link_url(
                dest,
                &entity.file,
                &a.config,
                &a.documents,
                &a.by_id,
                &a.by_file,
            )
        };
        markdown::render_with(
            &entity.body,
            &markdown::RenderOptions {
                resolve_link: Some(&resolve_link),
                ..markdown::RenderOptions::default()
            },
        )
        .html
    }

    /// Names as a document writes them, each with its entity's page if it
    /// names one.
    fn name_links(&self, names: &[String]) -> Vec<NameLink> {
        names
            .iter()
            .map(|name| NameLink {
                name: name.clone(),
                url: (self.parts.entity_urls)
                    .get(&crate::archive::term_key(name))
                    .cloned(),
            })
            .collect()
    }

    /// What an entity's page shows beyond its term's document list.
    fn entity_view(&self, e: usize, listed: &[usize]) -> EntityView {
        let a = self.archive;
        let config = &a.config;
        let entity = &a.entities[e];
        // Each list is cut like a term's (the newest first), and the search
        // page's filter for the entity finds all of it.
        let summaries = |docs: &[usize]| -> Value {
            let shown = config.listed(docs.len());
            let summaries = self.summaries();
            Value::from(
                docs[..shown]
                    .iter()
                    .map(|&d| summaries[d].clone())
                    .collect::<Vec<_>>(),
            )
        };
        let search_url = |param: &str| search_url(config, &[(param, &entity.slug)]);
        let mentioned: Vec<usize> = a.mentioned_in[e]
            .iter()
            .copied()
            .filter(|d| listed.binary_search(d).is_err())
            .collect();
        let mut events = Vec::new();
        for &(d, i) in &a.events_naming[e] {
            let doc = &a.documents[d];
            if let Some(ev) = doc.events.get(i) {
                events.push(EventMentionView {
                    date: DateView::from(&ev.date),
                    title: ev.title.clone(),
                    description: ev.description.clone(),
                    document: LinkView {
                        name: doc.title.clone(),
                        url: config.url(&doc.path()),
                    },
                    source: (d, i),
                });
            }
        }
        events.sort_by(|x, y| x.date.start.cmp(&y.date.start));
        let event_count = events.len();
        // The newest events, still oldest first (the term's timeline has them all).
        events.drain(..event_count - config.listed(event_count));
        EntityView {
            name: entity.name.clone(),
            aliases: entity.aliases.clone(),
            url: entity.url.clone(),
            description: entity.description.clone(),
            body: self.entity_body(entity),
            mentioned_in: summaries(&mentioned),
            mentioned_count: mentioned.len(),
            mentions_url: search_url(MENTIONS_PARAM),
            sent: summaries(&a.sent_by[e]),
            sent_count: a.sent_by[e].len(),
            sent_url: search_url(SENDER_PARAM),
            received: summaries(&a.received_by[e]),
            received_count: a.received_by[e].len(),
            received_url: search_url(RECIPIENT_PARAM),
            events,
            event_count,
        }
    }

    /// Document `i`'s body as its page shows it: as the link pass set it aside
    /// (see [`body`]), or rendered now.
    fn page_body(&self, i: usize) -> Result<body::PageBody, Diagnostic> {
        let a = self.archive;
        let doc = &a.documents[i];
        let unreadable = |e: &std::io::Error| crate::archive::links::unreadable_body(doc, e);
        if let Some(Some(set_aside)) = a.page_bodies.get(i) {
            let bytes = set_aside.read().map_err(|e| unreadable(&e))?;
            return body::PageBody::decode(&bytes).ok_or_else(|| {
                unreadable(&std::io::Error::new(
                    std::io::ErrorKind::InvalidData,
                    "its rendered HTML did not read back whole",
                ))
            });
        }
        let text = doc.body.text().map_err(|e| unreadable(&e))?;
        Ok(self.body_renderer().render(i, &text).into())
    }

    /// How this archive's bodies render for their pages.
    fn body_renderer(&self) -> body::BodyRenderer<'_> {
        let a = self.archive;
        body::BodyRenderer {
            config: &a.config,
            documents: &a.documents,
            by_id: &a.by_id,
            by_file: &a.by_file,
            autolinker: &a.autolinker,
            taxonomies: &a.taxonomies,
            entity_terms: &self.parts.entity_terms,
            entity_count: a.entities.len(),
        }
    }

    /// Document `i`'s page, from its body as rendered for it.
    fn document_view(&self, i: usize, body: body::PageBody) -> DocumentView {
        let a = self.archive;
        let config = &a.config;
        let doc: &Document = &a.documents[i];
        // The passages of the newest linking documents, as many as a list of
        // documents shows; the search page's `cites` filter finds them all.
        let backlinks = &a.links.backlinks[i];
        let referenced_by_count = crate::archive::links::linking_count(backlinks);
        let referenced_by_listed = config.listed(referenced_by_count);
        let referenced_by = crate::archive::links::from_newest(backlinks, referenced_by_listed)
            .iter()
            .map(|b| {
                let from = &a.documents[b.from];
                let url = config.url(&from.path());
                BacklinkView {
                    document: self.summary(b.from),
                    passage_url: if b.block.is_empty() {
                        url
                    } else {
                        format!("{url}#{}", b.block)
                    },
                    excerpt: b.excerpt.clone(),
                    excerpt_html: crate::markdown::redaction::text_with_bars(&b.excerpt),
                }
            })
            .collect();
        let mut taxonomies: Vec<DocumentTerms> = Vec::new();
        for &(ti, ki) in &self.archive.doc_terms[i] {
            let tax = &a.taxonomies[ti];
            let term = &tax.terms[ki];
            let link = LinkView {
                name: term.name.clone(),
                url: config.url(&tax.term_path(term)),
            };
            match taxonomies.last_mut() {
                Some(last) if last.taxonomy.key == tax.config.key => last.terms.push(link),
                _ => taxonomies.push(DocumentTerms {
                    taxonomy: TaxonomyView::new(tax, config),
                    terms: vec![link],
                }),
            }
        }
        let original = self
            .parts
            .originals
            .get(&i)
            .map(|(url, o)| (url.as_str(), o));
        let source = doc.source.as_ref().map(|s| ProvenanceView {
            authority: s.authority.clone(),
            request: s.request.clone(),
            request_url: s.request_url.clone(),
            released: s.released.as_ref().map(DateView::from),
            url: s.url.clone(),
            file: s.file.as_ref().and_then(|f| {
                let name = f.rsplit('/').next()?.to_string();
                Some(LinkView {
                    url: config.url(&format!("{}{}", doc.path(), name)),
                    name,
                })
            }),
            file_size: original.map(|(_, o)| human_size(o.size)),
            sha256: original
                .map(|(_, o)| o.sha256.clone())
                .or_else(|| s.sha256.clone()),
        });
        let events = doc
            .events
            .iter()
            .map(|e| EventView {
                date: DateView::from(&e.date),
                title: e.title.clone(),
                description: e.description.clone(),
                timeline_url: format!(
                    "{}#{}",
                    config.url(&timeline_year_path(e.date.year)),
                    month_anchor(&e.date)
                ),
            })
            .collect();
        DocumentView {
            summary: DocumentSummary::new(doc, config),
            permalink: config.absolute_url(&doc.path()),
            language: doc.language.clone(),
            language_name: language_name(&doc.language),
            from_links: self.name_links(&doc.from),
            to_links: self.name_links(&doc.to),
            markings: doc.markings.clone(),
            taxonomies,
            source,
            events,
            timeline_url: format!(
                "{}#{}",
                config.url(&timeline_year_path(doc.date.year)),
                month_anchor(&doc.date)
            ),
            citation: CitationView {
                text: crate::cite::plain_citation(doc, config),
                meta: crate::cite::meta_tags(doc, config, original.map(|(u, _)| u)),
                json_ld: crate::cite::json_ld(
                    doc,
                    config,
                    original,
                    // Entities the document is not already filed under (by any name).
                    &a.links.mentions[i]
                        .iter()
                        .filter(|e| {
                            self.parts
                                .entity_terms
                                .get(e)
                                .is_none_or(|t| !self.archive.doc_terms[i].contains(t))
                        })
                        .filter_map(|&e| a.entities.get(e).map(|x| x.name.clone()))
                        .collect::<Vec<_>>(),
                ),
                bibtex_url: config.url(&format!("{}cite.bib", doc.path())),
                ris_url: config.url(&format!("{}cite.ris", doc.path())),
                csl_url: config.url(&format!("{}cite.json", doc.path())),
            },
            referenced_by,
            referenced_by_count,
            referenced_by_listed,
            referenced_by_url: (referenced_by_count > referenced_by_listed)
                .then(|| search_url(config, &[(CITES_PARAM, &doc.id)])),
            related: a.related[i]
                .iter()
                .map(|r| RelatedView {
                    document: self.summary(r.document),
                    reason: r.reason.clone(),
                })
                .collect(),
            mentions: a.links.mentions[i]
                .iter()
                .filter_map(|&e| {
                    let &(ti, ki) = self.parts.entity_terms.get(&e)?;
                    let tax = &a.taxonomies[ti];
                    Some(LinkView {
                        name: tax.terms[ki].name.clone(),
                        url: config.url(&tax.term_path(&tax.terms[ki])),
                    })
                })
                .collect(),
            redaction_count: body.redaction_count,
            has_code: body.has_code,
            headings: body.headings,
            body: body.html,
            extra: doc.extra.clone(),
        }
    }
}

/// The site as every template sees it (`site.*`).
#[derive(Debug, Clone, serde::Serialize)]
struct SiteView {
    title: String,
    description: String,
    base_url: String,
    base_path: String,
    language: String,
    publisher: Option<String>,
    taxonomies: Vec<TaxonomyView>,
    document_count: usize,
    urls: SiteUrls,
}

#[derive(Debug, Clone, serde::Serialize)]
struct SiteUrls {
    home: String,
    documents: String,
    timeline: String,
    search: String,
    correspondence: String,
    stylesheet: String,
    highlight_stylesheet: String,
}

#[derive(Debug, Clone, serde::Serialize)]
struct TaxonomyWithTerms {
    taxonomy: TaxonomyView,
    terms: Vec<TermView>,
}

/// A size for people: `812 bytes`, `1.4 MB`.
fn human_size(bytes: u64) -> String {
    match bytes {
        0..=1023 => format!("{bytes} bytes"),
        1024..=1_048_575 => format!("{:.1} KB", bytes as f64 / 1024.0),
        _ => format!("{:.1} MB", bytes as f64 / 1_048_576.0),
    }
}

/// Turns a Tera error into a diagnostic naming the template file and line.
fn template_diagnostic(e: &tera::Error, origins: &[(String, PathBuf, String)]) -> Diagnostic {
    match e.kind() {
        tera::ErrorKind::SyntaxError(report) | tera::ErrorKind::RenderingError(report) => {
            let message = format!("template error: {}", report.message());
            let span = report.span();
            match origins.iter().find(|(n, _, _)| n == report.filename()) {
                Some((_, origin, text)) => Diagnostic::at(
                    origin.clone(),
                    text,
                    span.start_line,
                    span.start_col + 1,
                    message,
                ),
                None => {
                    let mut d = Diagnostic::file(PathBuf::from(report.filename()), message);
                    d.line = span.start_line;
                    d.column = span.start_col + 1;
                    d
                }
            }
        }
        other => {
            let mut msg = other.to_string();
            let mut source = std::error::Error::source(e);
            while let Some(s) = source {
                msg.push_str(": ");
                msg.push_str(&s.to_string());
                source = s.source();
            }
            Diagnostic::file(PathBuf::from("templates"), format!("template error: {msg}"))
        }
    }
}

/// Each name and alias of every entity with a page, as a term key (compared
/// as [`crate::archive::Correspondents`] compares them), to that page's URL.
fn entity_urls(
    archive: &Archive,
    entity_terms: &std::collections::HashMap<usize, (usize, usize)>,
) -> std::collections::HashMap<String, String> {
    let mut urls = std::collections::HashMap::new();
    for (&e, &(ti, ki)) in entity_terms {
        let tax = &archive.taxonomies[ti];
        let url = archive.config.url(&tax.term_path(&tax.terms[ki]));
        for name in archive.entities[e].names() {
            urls.entry(crate::archive::term_key(name))
                .or_insert_with(|| url.clone());
        }
    }
    urls
}

/// A document's citation exports (BibTeX, RIS, CSL-JSON), in the site folder
/// `dir`: the document's own, or an alias folder that published them before.
fn citation_exports(doc: &Document, config: &crate::config::Config, dir: &str) -> Vec<OutputFile> {
    let csl = serde_json::Value::Array(vec![crate::cite::csl_item(doc, config)]);
    vec![
        OutputFile {
            path: format!("{dir}cite.bib"),
            bytes: crate::cite::bibtex(doc, config).into_bytes(),
        },
        OutputFile {
            path: format!("{dir}cite.ris"),
            bytes: crate::cite::ris(doc, config).into_bytes(),
        },
        OutputFile {
            path: format!("{dir}cite.json"),
            bytes: (serde_json::to_string_pretty(&csl).unwrap_or_default() + "\n").into_bytes(),
        },
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pairs_are_cut_evenly_from_the_busiest_down_to_the_limit() {
        // Within the limit, or with no limit, every pair lists all its documents.
        assert_eq!(pair_list_limit(&[5, 3, 1], 9), 5);
        assert_eq!(pair_list_limit(&[5, 3, 1], 0), 5);
        assert_eq!(pair_list_limit(&[], 10), 0);
        // 4 + 3 + 1 = 8 fits 8; a cap of 5 would need 9.
        assert_eq!(pair_list_limit(&[5, 3, 1], 8), 4);
        // 2 + 2 + 1 = 5 fits 6, a cap of 3 needs 7.
        assert_eq!(pair_list_limit(&[5, 3, 1], 6), 2);
        // More pairs than the limit allows documents: none listed, all linked.
        assert_eq!(pair_list_limit(&[2, 2, 2], 2), 0);
        // The cap never lets the page's total pass the limit.
        let lengths = [40, 17, 17, 9, 3, 3, 1];
        for limit in 1..100 {
            let cap = pair_list_limit(&lengths, limit);
            let total: usize = lengths.iter().map(|&n| n.min(cap)).sum();
            assert!(total <= limit, "{limit}: cap {cap} lists {total}");
            let more: usize = lengths.iter().map(|&n| n.min(cap + 1)).sum();
            assert!(
                more > limit || cap == 40,
                "{limit}: cap {cap} is not the largest"
            );
        }
    }

    #[test]
    fn escaping_matches_teras_own_byte_for_byte() {
        let samples = [
            "",
            "plain",
            "&<>\"'",
            "Tom & Jerry's <b>\"quote\"</b>",
            "é ü — ¶ 日本 & <x>",
            "ends with &",
            "<script>alert('x')</script>",
        ];
        for s in samples {
            let (mut ours, mut teras) = (Vec::new(), Vec::new());
            escape_html(s, &mut ours).unwrap();
            tera::escape_html(s, &mut teras).unwrap();
            assert_eq!(
                String::from_utf8(ours).unwrap(),
                String::from_utf8(teras).unwrap(),
                "{s}"
            );
        }
    }
}
