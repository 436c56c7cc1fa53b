//! What templates see: plain serialisable views of the archive, with every URL
//! already resolved through [`Config::url`] so no template builds one by hand.

use crate::archive::{Archive, Taxonomy, TimelineEntry, TimelineEntryKind, TimelineYear};
use crate::config::Config;
use crate::document::{date::month_name, Document, PartialDate};
use serde::Serialize;

/// A date as templates show it.
#[derive(Debug, Clone, Serialize)]
pub struct DateView {
    /// `2019-06-03`, `2019-04` or `2019`.
    pub iso: String,
    /// `3 June 2019`, `April 2019` or `2019`.
    pub display: String,
    /// The first day of the period (`2019-04-01`), for `<time datetime>` and sorting.
    pub start: String,
    /// `day`, `month` or `year`.
    pub precision: crate::document::Precision,
    /// The year.
    pub year: i16,
}

impl From<&PartialDate> for DateView {
    fn from(d: &PartialDate) -> Self {
        DateView {
            iso: d.iso(),
            display: d.display(),
            start: d.start(),
            precision: d.precision(),
            year: d.year,
        }
    }
}

/// A sender's or recipient's name, with the page of the entity it names.
#[derive(Debug, Clone, Serialize)]
pub struct NameLink {
    /// The name as the document writes it.
    pub name: String,
    /// The page of the entity it names, if any.
    pub url: Option<String>,
}

/// A link: a label and a URL.
#[derive(Debug, Clone, Serialize)]
pub struct LinkView {
    /// What the reader sees.
    pub name: String,
    /// Base-path-aware URL.
    pub url: String,
}

/// A document as listed on index pages.
#[derive(Debug, Clone, Serialize)]
pub struct DocumentSummary {
    /// The document's id.
    pub id: String,
    /// Its permanent URL (with the base path).
    pub url: String,
    /// Title.
    pub title: String,
    /// Date.
    pub date: DateView,
    /// Kind of document.
    #[serde(rename = "type")]
    pub doc_type: Option<String>,
    /// Official numbers.
    pub references: Vec<String>,
    /// Senders.
    pub from: Vec<String>,
    /// Recipients.
    pub to: Vec<String>,
    /// Short description.
    pub summary: Option<String>,
}

impl DocumentSummary {
    /// The summary of one document.
    pub fn new(doc: &Document, config: &Config) -> Self {
        DocumentSummary {
            id: doc.id.clone(),
            url: config.url(&doc.path()),
            title: doc.title.clone(),
            date: DateView::from(&doc.date),
            doc_type: doc.doc_type.clone(),
            references: doc.references.clone(),
            from: doc.from.clone(),
            to: doc.to.clone(),
            summary: doc.summary.clone(),
        }
    }
}

/// A taxonomy as templates see it (without its terms).
#[derive(Debug, Clone, Serialize)]
pub struct TaxonomyView {
    /// Front-matter key.
    pub key: String,
    /// Heading ("Topics").
    pub name: String,
    /// One term's label ("Topic").
    pub singular: String,
    /// URL of its index page.
    pub url: String,
}

impl TaxonomyView {
    /// The view of a taxonomy.
    pub fn new(tax: &Taxonomy, config: &Config) -> Self {
        TaxonomyView {
            key: tax.config.key.clone(),
            name: tax.config.name.clone(),
            singular: tax.config.singular.clone(),
            url: config.url(&tax.path()),
        }
    }
}

/// A term with its document count.
#[derive(Debug, Clone, Serialize)]
pub struct TermView {
    /// The term.
    pub name: String,
    /// Its slug.
    pub slug: String,
    /// URL of its page.
    pub url: String,
    /// How many documents it files.
    pub count: usize,
}

/// The terms of all taxonomies, as lists of views.
pub fn term_views(tax: &Taxonomy, config: &Config) -> Vec<TermView> {
    tax.terms
        .iter()
        .map(|t| TermView {
            name: t.name.clone(),
            slug: t.slug.clone(),
            url: config.url(&tax.term_path(t)),
            count: t.documents.len(),
        })
        .collect()
}

/// One taxonomy's terms as listed on a document page.
#[derive(Debug, Clone, Serialize)]
pub struct DocumentTerms {
    /// The taxonomy.
    pub taxonomy: TaxonomyView,
    /// The document's terms in it, linked.
    pub terms: Vec<LinkView>,
}

/// The provenance panel.
#[derive(Debug, Clone, Serialize)]
pub struct ProvenanceView {
    /// Who released the document.
    pub authority: Option<String>,
    /// The request it answered.
    pub request: Option<String>,
    /// Where the request can be read.
    pub request_url: Option<String>,
    /// When it was released.
    pub released: Option<DateView>,
    /// Where the released copy is.
    pub url: Option<String>,
    /// The original file published with the page.
    pub file: Option<LinkView>,
    /// Its size, for people.
    pub file_size: Option<String>,
    /// Its SHA-256.
    pub sha256: Option<String>,
}

/// An event a document mentions.
#[derive(Debug, Clone, Serialize)]
pub struct EventView {
    /// When.
    pub date: DateView,
    /// What.
    pub title: String,
    /// More, if written.
    pub description: Option<String>,
    /// Its place on the timeline.
    pub timeline_url: String,
}

/// An entry of the timeline.
#[derive(Debug, Clone, Serialize)]
pub struct TimelineEntryView {
    /// `document` or `event`.
    pub kind: &'static str,
    /// When.
    pub date: DateView,
    /// The document's or the event's title.
    pub title: String,
    /// The event's description, if any.
    pub description: Option<String>,
    /// The document (itself, or the one mentioning the event).
    pub document: LinkView,
    /// The document's type, for documents.
    #[serde(rename = "type")]
    pub doc_type: Option<String>,
}

/// A month of the timeline.
#[derive(Debug, Clone, Serialize)]
pub struct TimelineMonthView {
    /// `June`, or empty for items dated only to the year.
    pub name: String,
    /// Anchor id on the year page (`2019-06`, or `2019-undated`).
    pub anchor: String,
    /// Its entries.
    pub entries: Vec<TimelineEntryView>,
}

/// A year of the timeline.
#[derive(Debug, Clone, Serialize)]
pub struct TimelineYearView {
    /// The year.
    pub year: i16,
    /// URL of its page.
    pub url: String,
    /// Documents dated in it.
    pub document_count: usize,
    /// Events in it.
    pub event_count: usize,
    /// Its months (empty on pages that only list years).
    pub months: Vec<TimelineMonthView>,
}

/// The site path of a year's timeline page.
pub fn timeline_year_path(year: i16) -> String {
    format!("timeline/{year}/")
}

/// The anchor of a date's month on its year page.
pub fn month_anchor(date: &PartialDate) -> String {
    match date.month {
        Some(m) => format!("{:04}-{m:02}", date.year),
        None => format!("{:04}-undated", date.year),
    }
}

fn entry_view(archive: &Archive, entry: &TimelineEntry) -> TimelineEntryView {
    let doc = &archive.documents[entry.document];
    let document = LinkView {
        name: doc.title.clone(),
        url: archive.config.url(&doc.path()),
    };
    match entry.kind {
        TimelineEntryKind::Document => TimelineEntryView {
            kind: "document",
            date: DateView::from(&entry.date),
            title: doc.title.clone(),
            description: None,
            document,
            doc_type: doc.doc_type.clone(),
        },
        TimelineEntryKind::Event(n) => {
            let event = &doc.events[n];
            TimelineEntryView {
                kind: "event",
                date: DateView::from(&entry.date),
                title: event.title.clone(),
                description: event.description.clone(),
                document,
                doc_type: None,
            }
        }
    }
}

/// The view of a timeline year, with its entries when `with_entries`.
pub fn timeline_year_view(
    archive: &Archive,
    year: &TimelineYear,
    with_entries: bool,
) -> TimelineYearView {
    let months = if with_entries {
        year.months
            .iter()
            .map(|m| TimelineMonthView {
                name: m.month.map(month_name).unwrap_or("").to_string(),
                anchor: month_anchor(&PartialDate {
                    year: year.year,
                    month: m.month,
                    day: None,
                }),
                entries: m.entries.iter().map(|e| entry_view(archive, e)).collect(),
            })
            .collect()
    } else {
        Vec::new()
    };
    TimelineYearView {
        year: year.year,
        url: archive.config.url(&timeline_year_path(year.year)),
        document_count: year.document_count,
        event_count: year.event_count,
        months,
    }
}

/// Everything a document page shows beyond its summary.
#[derive(Debug, Clone, Serialize)]
pub struct DocumentView {
    /// The summary fields.
    #[serde(flatten)]
    pub summary: DocumentSummary,
    /// Absolute permanent URL, for citation and canonical links.
    pub permalink: String,
    /// BCP 47 language.
    pub language: String,
    /// Senders as written, each linked to its entity's page when it names one
    /// (by its name or an alias).
    pub from_links: Vec<NameLink>,
    /// Recipients, likewise.
    pub to_links: Vec<NameLink>,
    /// The language's English name, for readers (`French (fr-BE)`); the tag
    /// itself when it is not one [`language_name`] knows.
    pub language_name: String,
    /// Markings as printed.
    pub markings: Vec<String>,
    /// Terms by taxonomy (only taxonomies with terms).
    pub taxonomies: Vec<DocumentTerms>,
    /// Provenance, if given.
    pub source: Option<ProvenanceView>,
    /// Events mentioned.
    pub events: Vec<EventView>,
    /// Where the document stands on the timeline.
    pub timeline_url: String,
    /// The rendered body (safe HTML).
    pub body: String,
    /// Headings of the body.
    pub headings: Vec<crate::markdown::Heading>,
    /// How many redactions the body has.
    pub redaction_count: usize,
    /// Whether the body has highlighted code (the page then links its stylesheet).
    pub has_code: bool,
    /// Free-form front-matter data.
    pub extra: serde_json::Value,
    /// Citation text, metadata and export links.
    pub citation: CitationView,
    /// Documents linking here, newest first, with the passage that links: the
    /// passages of the newest `document_list_limit` documents.
    pub referenced_by: Vec<BacklinkView>,
    /// How many documents link here.
    pub referenced_by_count: usize,
    /// How many of them `referenced_by` has passages of.
    pub referenced_by_listed: usize,
    /// When the list is cut, the search page filtered to all the documents
    /// linking here (`cites=`, see [`crate::search::facets::CITES_PARAM`]).
    pub referenced_by_url: Option<String>,
    /// Entities the text mentions, in order of first mention.
    pub mentions: Vec<LinkView>,
    /// Up to five related documents with the reason.
    pub related: Vec<RelatedView>,
}

/// A related document and why it is related.
#[derive(Debug, Clone, Serialize)]
pub struct RelatedView {
    /// Its summary.
    pub document: tera::Value,
    /// "2 shared topics · mentions Europol".
    pub reason: String,
}

/// Documents from one sender to one recipient.
#[derive(Debug, Clone, Serialize)]
pub struct CorrespondenceView {
    /// Sender.
    pub from: String,
    /// Recipient.
    pub to: String,
    /// Their documents, newest first: the newest, where the page is cut (see
    /// `document_list_limit`).
    pub documents: tera::Value,
    /// How many documents the pair has.
    pub document_count: usize,
    /// The search page filtered to the pair, which finds every one of them
    /// (none where a name has no letter or digit to filter by).
    pub search_url: Option<String>,
}

/// An entity's page: its own description and what the archive knows of it.
#[derive(Debug, Clone, Serialize)]
pub struct EntityView {
    /// Name.
    pub name: String,
    /// Other names.
    pub aliases: Vec<String>,
    /// Its website.
    pub url: Option<String>,
    /// Short description.
    pub description: Option<String>,
    /// Rendered body (safe HTML).
    pub body: String,
    /// Documents mentioning it in their text without listing it, newest first
    /// (the newest `document_list_limit` of them).
    pub mentioned_in: tera::Value,
    /// How many documents mention it without listing it.
    pub mentioned_count: usize,
    /// The search page filtered to the documents mentioning it (listed or not).
    pub mentions_url: String,
    /// Documents it sent, newest first (cut likewise).
    pub sent: tera::Value,
    /// How many documents it sent.
    pub sent_count: usize,
    /// The search page filtered to the documents it sent.
    pub sent_url: String,
    /// Documents it received, newest first (cut likewise).
    pub received: tera::Value,
    /// How many documents it received.
    pub received_count: usize,
    /// The search page filtered to the documents it received.
    pub received_url: String,
    /// Events naming it, oldest first: the newest `document_list_limit`.
    pub events: Vec<EventMentionView>,
    /// How many events name it.
    pub event_count: usize,
}

/// An event with the document that mentions it.
#[derive(Debug, Clone, Serialize)]
pub struct EventMentionView {
    /// When.
    pub date: DateView,
    /// What.
    pub title: String,
    /// More.
    pub description: Option<String>,
    /// The document mentioning it.
    pub document: LinkView,
    /// Where it is written: (document index, event index), for the term's timeline.
    #[serde(skip)]
    pub source: (usize, usize),
}

/// A document that links to the page's document.
#[derive(Debug, Clone, Serialize)]
pub struct BacklinkView {
    /// The linking document's summary.
    pub document: tera::Value,
    /// The linking passage's URL (with its pinpoint anchor).
    pub passage_url: String,
    /// The sentence or list item containing the link, as text.
    pub excerpt: String,
    /// The same as HTML, escaped, with each redaction in it drawn as the
    /// labelled bar the document's page shows (`{{ b.excerpt_html | safe }}`).
    pub excerpt_html: String,
}

/// How to cite a document.
#[derive(Debug, Clone, Serialize)]
pub struct CitationView {
    /// A ready-to-paste citation.
    pub text: String,
    /// Highwire, Dublin Core and OpenGraph `<meta>` tags.
    pub meta: Vec<crate::cite::MetaTag>,
    /// schema.org JSON-LD, already safe to embed in a script element.
    pub json_ld: String,
    /// URL of `cite.bib`.
    pub bibtex_url: String,
    /// URL of `cite.ris`.
    pub ris_url: String,
    /// URL of `cite.json` (CSL-JSON).
    pub csl_url: String,
}

/// The English name of a BCP 47 tag's language, with the whole tag after it
/// when the tag says more (`fr-BE` → `French (fr-BE)`); the tag as written for
/// a language not listed: the EU's official languages and those most often
/// met in released documents.
pub fn language_name(tag: &str) -> String {
    let primary = tag.split(['-', '_']).next().unwrap_or_default();
    let name = match primary.to_ascii_lowercase().as_str() {
        "bg" => "Bulgarian",
        "cs" => "Czech",
        "da" => "Danish",
        "de" => "German",
        "el" => "Greek",
        "en" => "English",
        "es" => "Spanish",
        "et" => "Estonian",
        "fi" => "Finnish",
        "fr" => "French",
        "ga" => "Irish",
        "hr" => "Croatian",
        "hu" => "Hungarian",
        "it" => "Italian",
        "lt" => "Lithuanian",
        "lv" => "Latvian",
        "mt" => "Maltese",
        "nl" => "Dutch",
        "pl" => "Polish",
        "pt" => "Portuguese",
        "ro" => "Romanian",
        "sk" => "Slovak",
        "sl" => "Slovenian",
        "sv" => "Swedish",
        "ar" => "Arabic",
        "ca" => "Catalan",
        "eu" => "Basque",
        "is" => "Icelandic",
        "ja" => "Japanese",
        "ko" => "Korean",
        "lb" => "Luxembourgish",
        "mk" => "Macedonian",
        "no" | "nb" | "nn" => "Norwegian",
        "ru" => "Russian",
        "sq" => "Albanian",
        "sr" => "Serbian",
        "tr" => "Turkish",
        "uk" => "Ukrainian",
        "zh" => "Chinese",
        _ => return tag.to_string(),
    };
    if primary.len() == tag.len() {
        name.to_string()
    } else {
        format!("{name} ({tag})")
    }
}
