//! Atom and JSON Feed 1.1 of the newest documents: one pair for the whole archive
//! (`feed.xml`, `feed.json`) and one per topic (`topics/<slug>/feed.xml`, `.json`).
//!
//! Entry ids are the documents' permanent URLs, which derive from their ids alone,
//! so a feed reader never sees an entry twice. Dates are the documents' own dates,
//! never the time of the build, so the same archive always gives the same bytes.

use super::data::{media_type, published_originals, PublishedOriginal};
use super::xml::escape;
use crate::archive::Archive;
use crate::document::{Document, PartialDate};
use crate::render::OutputFile;
use serde::Serialize;

/// How many of the newest documents a feed carries.
pub const FEED_LENGTH: usize = 50;

/// The file names of a feed pair, relative to the page they accompany.
pub const ATOM_FILE: &str = "feed.xml";
/// See [`ATOM_FILE`].
pub const JSON_FEED_FILE: &str = "feed.json";

/// What distinguishes one feed from another: its page, title and documents.
struct FeedSpec<'a> {
    /// Site path of the page the feed follows (`""` for the home page, `topics/x/`).
    page: String,
    title: String,
    description: String,
    /// Indexes into `archive.documents`, newest first.
    documents: Vec<usize>,
    archive: &'a Archive,
    originals: &'a [Option<PublishedOriginal>],
}

/// Every feed of the archive: site-wide, then one pair per topic.
pub fn feed_files(archive: &Archive) -> Vec<OutputFile> {
    let originals = published_originals(archive);
    let config = &archive.config;
    let mut specs = vec![FeedSpec {
        page: String::new(),
        title: config.title.clone(),
        description: config.description.clone(),
        documents: (0..archive.documents.len().min(FEED_LENGTH)).collect(),
        archive,
        originals: &originals,
    }];
    if let Some(topics) = archive.taxonomies.iter().find(|t| t.config.key == "topics") {
        for term in &topics.terms {
            specs.push(FeedSpec {
                page: topics.term_path(term),
                title: format!(
                    "{}: {} · {}",
                    topics.config.singular, term.name, config.title
                ),
                description: format!(
                    "The newest documents filed under the {} “{}” in {}.",
                    topics.config.singular.to_lowercase(),
                    term.name,
                    config.title
                ),
                documents: term.documents.iter().take(FEED_LENGTH).copied().collect(),
                archive,
                originals: &originals,
            });
        }
    }
    let mut files = Vec::with_capacity(specs.len() * 2);
    for spec in &specs {
        files.push(OutputFile {
            path: format!("{}{ATOM_FILE}", spec.page),
            bytes: atom(spec).into_bytes(),
        });
        files.push(OutputFile {
            path: format!("{}{JSON_FEED_FILE}", spec.page),
            bytes: json_feed(spec).into_bytes(),
        });
    }
    files
}

/// RFC 3339 timestamp of the first moment of a date's period, in UTC.
fn timestamp(date: &PartialDate) -> String {
    format!("{}T00:00:00Z", date.start())
}

/// The newest date among a feed's documents; the epoch for an empty feed, so that
/// even an empty archive's feed is valid and reproducible.
fn updated(spec: &FeedSpec<'_>) -> String {
    spec.documents
        .first()
        .map(|&d| timestamp(&spec.archive.documents[d].date))
        .unwrap_or_else(|| "1970-01-01T00:00:00Z".into())
}

/// What a reader sees under the title: the summary, or a line made of the
/// document's metadata when it has none (JSON Feed requires some text).
pub fn entry_text(doc: &Document) -> String {
    if let Some(summary) = doc.summary.as_deref().filter(|s| !s.trim().is_empty()) {
        return summary.trim().to_string();
    }
    let mut text = String::new();
    match &doc.doc_type {
        Some(t) => text.push_str(&capitalised(t)),
        None => text.push_str("Document"),
    }
    if !doc.references.is_empty() {
        text.push(' ');
        text.push_str(&doc.references.join(", "));
    }
    if !doc.from.is_empty() {
        text.push_str(" from ");
        text.push_str(&doc.from.join(", "));
    }
    if !doc.to.is_empty() {
        text.push_str(" to ");
        text.push_str(&doc.to.join(", "));
    }
    text.push_str(", dated ");
    text.push_str(&doc.date.display());
    text.push('.');
    text
}

fn capitalised(s: &str) -> String {
    let mut chars = s.chars();
    match chars.next() {
        Some(first) => first.to_uppercase().chain(chars).collect(),
        None => String::new(),
    }
}

/// A feed entry names at most this many topics: a document listing thousands would
/// otherwise put all of them into every one of its thousands of topic feeds.
const MAX_ENTRY_TOPICS: usize = 64;

fn topics_of(doc: &Document) -> &[String] {
    let topics = doc.terms.get("topics").map_or(&[][..], Vec::as_slice);
    &topics[..topics.len().min(MAX_ENTRY_TOPICS)]
}

fn atom(spec: &FeedSpec<'_>) -> String {
    let config = &spec.archive.config;
    let page_url = config.absolute_url(&spec.page);
    let self_url = config.absolute_url(&format!("{}{ATOM_FILE}", spec.page));
    let json_url = config.absolute_url(&format!("{}{JSON_FEED_FILE}", spec.page));
    let author = config.publisher.as_deref().unwrap_or(&config.title);
    let topics_url = spec
        .archive
        .taxonomies
        .iter()
        .find(|t| t.config.key == "topics")
        .map(|t| config.absolute_url(&t.path()));
    let mut x = String::with_capacity(1024 + spec.documents.len() * 1024);
    x.push_str("<?xml version=\"1.0\" encoding=\"utf-8\"?>\n");
    x.push_str(&format!(
        "<feed xmlns=\"http://www.w3.org/2005/Atom\" xml:lang=\"{}\">\n",
        escape(&config.language)
    ));
    x.push_str(&format!("  <title>{}</title>\n", escape(&spec.title)));
    if !spec.description.is_empty() {
        x.push_str(&format!(
            "  <subtitle>{}</subtitle>\n",
            escape(&spec.description)
        ));
    }
    x.push_str(&format!("  <id>{}</id>\n", escape(&page_url)));
    x.push_str(&format!(
        "  <link rel=\"self\" type=\"application/atom+xml\" href=\"{}\"/>\n",
        escape(&self_url)
    ));
    x.push_str(&format!(
        "  <link rel=\"alternate\" type=\"text/html\" href=\"{}\"/>\n",
        escape(&page_url)
    ));
    x.push_str(&format!(
        "  <link rel=\"alternate\" type=\"application/feed+json\" href=\"{}\"/>\n",
        escape(&json_url)
    ));
    x.push_str(&format!("  <updated>{}</updated>\n", updated(spec)));
    x.push_str(&format!(
        "  <author><name>{}</name></author>\n",
        escape(author)
    ));
    x.push_str("  <generator>annals</generator>\n");
    for &d in &spec.documents {
        let doc = &spec.archive.documents[d];
        let url = config.absolute_url(&doc.path());
        let when = timestamp(&doc.date);
        x.push_str("  <entry>\n");
        x.push_str(&format!("    <id>{}</id>\n", escape(&url)));
        x.push_str(&format!("    <title>{}</title>\n", escape(&doc.title)));
        x.push_str(&format!(
            "    <link rel=\"alternate\" type=\"text/html\" href=\"{}\"/>\n",
            escape(&url)
        ));
        if let Some(original) = &spec.originals[d] {
            x.push_str(&format!(
                "    <link rel=\"enclosure\" type=\"{}\" length=\"{}\" href=\"{}\"/>\n",
                media_type(&original.site_path),
                original.size,
                escape(&config.absolute_url(&original.site_path))
            ));
        }
        x.push_str(&format!("    <published>{when}</published>\n"));
        x.push_str(&format!("    <updated>{when}</updated>\n"));
        for from in &doc.from {
            x.push_str(&format!(
                "    <author><name>{}</name></author>\n",
                escape(from)
            ));
        }
        for topic in topics_of(doc) {
            match &topics_url {
                Some(scheme) => x.push_str(&format!(
                    "    <category term=\"{}\" scheme=\"{}\"/>\n",
                    escape(topic),
                    escape(scheme)
                )),
                None => x.push_str(&format!("    <category term=\"{}\"/>\n", escape(topic))),
            }
        }
        x.push_str(&format!(
            "    <summary>{}</summary>\n",
            escape(&entry_text(doc))
        ));
        x.push_str("  </entry>\n");
    }
    x.push_str("</feed>\n");
    x
}

#[derive(Serialize)]
struct JsonFeed<'a> {
    version: &'static str,
    title: &'a str,
    home_page_url: String,
    feed_url: String,
    #[serde(skip_serializing_if = "str::is_empty")]
    description: &'a str,
    language: &'a str,
    authors: Vec<JsonAuthor<'a>>,
    items: Vec<JsonItem<'a>>,
}

#[derive(Serialize)]
struct JsonAuthor<'a> {
    name: &'a str,
}

#[derive(Serialize)]
struct JsonItem<'a> {
    id: String,
    url: String,
    title: &'a str,
    content_text: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    summary: Option<&'a str>,
    date_published: String,
    language: &'a str,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    authors: Vec<JsonAuthor<'a>>,
    #[serde(skip_serializing_if = "<[_]>::is_empty")]
    tags: &'a [String],
    #[serde(skip_serializing_if = "Vec::is_empty")]
    attachments: Vec<JsonAttachment>,
}

#[derive(Serialize)]
struct JsonAttachment {
    url: String,
    mime_type: &'static str,
    size_in_bytes: u64,
}

fn json_feed(spec: &FeedSpec<'_>) -> String {
    let config = &spec.archive.config;
    let items = spec
        .documents
        .iter()
        .map(|&d| {
            let doc = &spec.archive.documents[d];
            let url = config.absolute_url(&doc.path());
            JsonItem {
                id: url.clone(),
                url,
                title: &doc.title,
                content_text: entry_text(doc),
                summary: doc.summary.as_deref(),
                date_published: timestamp(&doc.date),
                language: &doc.language,
                authors: doc.from.iter().map(|n| JsonAuthor { name: n }).collect(),
                tags: topics_of(doc),
                attachments: spec.originals[d]
                    .iter()
                    .map(|o| JsonAttachment {
                        url: config.absolute_url(&o.site_path),
                        mime_type: media_type(&o.site_path),
                        size_in_bytes: o.size,
                    })
                    .collect(),
            }
        })
        .collect();
    let feed = JsonFeed {
        version: "https://jsonfeed.org/version/1.1",
        title: &spec.title,
        home_page_url: config.absolute_url(&spec.page),
        feed_url: config.absolute_url(&format!("{}{JSON_FEED_FILE}", spec.page)),
        description: &spec.description,
        language: &config.language,
        authors: vec![JsonAuthor {
            name: config.publisher.as_deref().unwrap_or(&config.title),
        }],
        items,
    };
    serde_json::to_string_pretty(&feed).unwrap_or_default() + "\n"
}
