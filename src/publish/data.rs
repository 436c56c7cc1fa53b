//! The archive as data: `api/documents.json` (every document's metadata, for
//! programs) and `documents.csv` (the same as a table, for spreadsheets).
//!
//! Both list documents newest first, exactly as the site orders them, and contain
//! nothing that depends on when or where the build ran.

use crate::archive::Archive;
use crate::diagnostics::Diagnostic;
use crate::document::{Document, Event, PartialDate};
use crate::render::OutputFile;
use serde::Serialize;
use std::collections::BTreeMap;

/// Site path of the JSON export.
pub const DOCUMENTS_JSON: &str = "api/documents.json";
/// Site path of the CSV export.
pub const DOCUMENTS_CSV: &str = "documents.csv";
/// Format version of `api/documents.json`; raised only on incompatible changes.
pub const DOCUMENTS_JSON_VERSION: u32 = 1;
/// How multi-valued fields are joined in a CSV cell.
pub const CSV_LIST_SEPARATOR: &str = "; ";

/// An original file published next to its document.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PublishedOriginal {
    /// Its site path (`documents/<id>/<file name>`).
    pub site_path: String,
    /// Size in bytes.
    pub size: u64,
    /// SHA-256 of its bytes, lower-case hexadecimal.
    pub sha256: String,
}

/// For each document (by index), the original published with it, if any.
pub fn published_originals(archive: &Archive) -> Vec<Option<PublishedOriginal>> {
    let mut out = vec![None; archive.documents.len()];
    for (original, site_path) in &archive.attachments {
        let Some(id) = site_path
            .strip_prefix("documents/")
            .and_then(|rest| rest.split('/').next())
        else {
            continue;
        };
        if let Some(&d) = archive.by_id.get(id) {
            out[d] = Some(PublishedOriginal {
                site_path: site_path.clone(),
                size: original.size,
                sha256: original.sha256.clone(),
            });
        }
    }
    out
}

/// The media type of a file by its extension, as feeds announce enclosures.
pub fn media_type(name: &str) -> &'static str {
    let ext = name
        .rsplit_once('.')
        .map(|(_, e)| e.to_ascii_lowercase())
        .unwrap_or_default();
    match ext.as_str() {
        "pdf" => "application/pdf",
        "doc" => "application/msword",
        "docx" => "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
        "odt" => "application/vnd.oasis.opendocument.text",
        "xls" => "application/vnd.ms-excel",
        "xlsx" => "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        "ods" => "application/vnd.oasis.opendocument.spreadsheet",
        "ppt" => "application/vnd.ms-powerpoint",
        "pptx" => "application/vnd.openxmlformats-officedocument.presentationml.presentation",
        "csv" => "text/csv",
        "txt" => "text/plain",
        "md" => "text/markdown",
        "htm" | "html" => "text/html",
        "xml" => "application/xml",
        "json" => "application/json",
        "eml" => "message/rfc822",
        "msg" => "application/vnd.ms-outlook",
        "zip" => "application/zip",
        "jpg" | "jpeg" => "image/jpeg",
        "png" => "image/png",
        "gif" => "image/gif",
        "tif" | "tiff" => "image/tiff",
        "webp" => "image/webp",
        "svg" => "image/svg+xml",
        "mp3" => "audio/mpeg",
        "mp4" => "video/mp4",
        _ => "application/octet-stream",
    }
}

/// `api/documents.json` and `documents.csv`.
pub fn data_files(archive: &Archive) -> Result<Vec<OutputFile>, Vec<Diagnostic>> {
    let originals = published_originals(archive);
    Ok(vec![
        OutputFile {
            path: DOCUMENTS_JSON.into(),
            bytes: documents_json(archive, &originals).into_bytes(),
        },
        OutputFile {
            path: DOCUMENTS_CSV.into(),
            bytes: documents_csv(archive, &originals).map_err(|e| {
                vec![Diagnostic::file(
                    DOCUMENTS_CSV,
                    format!("cannot write the CSV export: {e}"),
                )]
            })?,
        },
    ])
}

#[derive(Serialize)]
struct DocumentsJson<'a> {
    version: u32,
    title: &'a str,
    base_url: String,
    count: usize,
    documents: Vec<DocumentJson<'a>>,
}

#[derive(Serialize)]
struct DocumentJson<'a> {
    id: &'a str,
    url: String,
    title: &'a str,
    date: String,
    date_precision: crate::document::Precision,
    date_start: String,
    #[serde(rename = "type")]
    doc_type: Option<&'a str>,
    references: &'a [String],
    from: &'a [String],
    to: &'a [String],
    language: &'a str,
    summary: Option<&'a str>,
    markings: &'a [String],
    topics: &'a [String],
    organisations: &'a [String],
    taxonomies: BTreeMap<&'a str, &'a [String]>,
    source: Option<SourceJson<'a>>,
    events: Vec<EventJson<'a>>,
}

#[derive(Serialize)]
struct SourceJson<'a> {
    authority: Option<&'a str>,
    request: Option<&'a str>,
    request_url: Option<&'a str>,
    released: Option<String>,
    url: Option<&'a str>,
    original_url: Option<String>,
    original_size: Option<u64>,
    sha256: Option<&'a str>,
}

#[derive(Serialize)]
struct EventJson<'a> {
    date: String,
    title: &'a str,
    description: Option<&'a str>,
}

fn terms<'a>(doc: &'a Document, key: &str) -> &'a [String] {
    doc.terms.get(key).map_or(&[], Vec::as_slice)
}

/// Taxonomies a site adds to the defaults, in configured order.
fn own_taxonomy_keys(archive: &Archive) -> Vec<&str> {
    archive
        .config
        .taxonomies
        .iter()
        .map(|t| t.key.as_str())
        .filter(|k| !matches!(*k, "topics" | "organisations" | "type"))
        .collect()
}

fn iso(date: &Option<PartialDate>) -> Option<String> {
    date.as_ref().map(PartialDate::iso)
}

fn documents_json(archive: &Archive, originals: &[Option<PublishedOriginal>]) -> String {
    let config = &archive.config;
    let own = own_taxonomy_keys(archive);
    let documents = archive
        .documents
        .iter()
        .zip(originals)
        .map(|(doc, original)| DocumentJson {
            id: &doc.id,
            url: config.absolute_url(&doc.path()),
            title: &doc.title,
            date: doc.date.iso(),
            date_precision: doc.date.precision(),
            date_start: doc.date.start(),
            doc_type: doc.doc_type.as_deref(),
            references: &doc.references,
            from: &doc.from,
            to: &doc.to,
            language: &doc.language,
            summary: doc.summary.as_deref(),
            markings: &doc.markings,
            topics: terms(doc, "topics"),
            organisations: terms(doc, "organisations"),
            taxonomies: own.iter().map(|&k| (k, terms(doc, k))).collect(),
            source: source_json(doc, original.as_ref(), archive),
            events: doc
                .events
                .iter()
                .map(|e: &Event| EventJson {
                    date: e.date.iso(),
                    title: &e.title,
                    description: e.description.as_deref(),
                })
                .collect(),
        })
        .collect();
    let export = DocumentsJson {
        version: DOCUMENTS_JSON_VERSION,
        title: &config.title,
        base_url: config.base_url(),
        count: archive.documents.len(),
        documents,
    };
    serde_json::to_string_pretty(&export).unwrap_or_default() + "\n"
}

fn source_json<'a>(
    doc: &'a Document,
    original: Option<&'a PublishedOriginal>,
    archive: &Archive,
) -> Option<SourceJson<'a>> {
    let s = doc.source.as_ref()?;
    Some(SourceJson {
        authority: s.authority.as_deref(),
        request: s.request.as_deref(),
        request_url: s.request_url.as_deref(),
        released: iso(&s.released),
        url: s.url.as_deref(),
        original_url: original.map(|o| archive.config.absolute_url(&o.site_path)),
        original_size: original.map(|o| o.size),
        sha256: original.map(|o| o.sha256.as_str()).or(s.sha256.as_deref()),
    })
}

/// The CSV header: fixed columns, the site's own taxonomies, then provenance.
pub fn csv_header(archive: &Archive) -> Vec<String> {
    let mut header: Vec<String> = [
        "id",
        "url",
        "title",
        "date",
        "date_start",
        "type",
        "references",
        "from",
        "to",
        "language",
        "summary",
        "markings",
        "topics",
        "organisations",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    header.extend(own_taxonomy_keys(archive).into_iter().map(String::from));
    header.extend(
        [
            "source_authority",
            "source_request",
            "source_request_url",
            "source_released",
            "source_url",
            "original_url",
            "sha256",
            "events",
        ]
        .iter()
        .map(|s| s.to_string()),
    );
    header
}

fn documents_csv(
    archive: &Archive,
    originals: &[Option<PublishedOriginal>],
) -> Result<Vec<u8>, csv::Error> {
    let config = &archive.config;
    let own = own_taxonomy_keys(archive);
    let mut w = csv::WriterBuilder::new()
        .terminator(csv::Terminator::CRLF)
        .quote_style(csv::QuoteStyle::Necessary)
        .from_writer(Vec::with_capacity(256 * (archive.documents.len() + 1)));
    w.write_record(csv_header(archive))?;
    let list = |items: &[String]| items.join(CSV_LIST_SEPARATOR);
    for (doc, original) in archive.documents.iter().zip(originals) {
        let source = doc.source.as_ref();
        let field = |f: fn(&crate::document::Provenance) -> Option<&String>| {
            source.and_then(f).cloned().unwrap_or_default()
        };
        let mut row: Vec<String> = vec![
            doc.id.clone(),
            config.absolute_url(&doc.path()),
            doc.title.clone(),
            doc.date.iso(),
            doc.date.start(),
            doc.doc_type.clone().unwrap_or_default(),
            list(&doc.references),
            list(&doc.from),
            list(&doc.to),
            doc.language.clone(),
            doc.summary.clone().unwrap_or_default(),
            list(&doc.markings),
            list(terms(doc, "topics")),
            list(terms(doc, "organisations")),
        ];
        row.extend(own.iter().map(|k| list(terms(doc, k))));
        row.push(field(|s| s.authority.as_ref()));
        row.push(field(|s| s.request.as_ref()));
        row.push(field(|s| s.request_url.as_ref()));
        row.push(source.and_then(|s| iso(&s.released)).unwrap_or_default());
        row.push(field(|s| s.url.as_ref()));
        row.push(
            original
                .as_ref()
                .map(|o| config.absolute_url(&o.site_path))
                .unwrap_or_default(),
        );
        row.push(
            original
                .as_ref()
                .map(|o| o.sha256.clone())
                .or_else(|| source.and_then(|s| s.sha256.clone()))
                .unwrap_or_default(),
        );
        row.push(
            doc.events
                .iter()
                .map(|e| format!("{} {}", e.date.iso(), e.title))
                .collect::<Vec<_>>()
                .join(CSV_LIST_SEPARATOR),
        );
        w.write_record(&row)?;
    }
    w.into_inner().map_err(|e| e.into_error().into())
}
