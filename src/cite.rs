//! Citations: what a reader or a reference manager needs to cite a document
//! precisely and for ever. Pure functions from a document to text; the render stage
//! publishes them next to each page (`cite.bib`, `cite.ris`, `cite.json`) and as
//! archive-wide bibliographies.

use crate::config::Config;
use crate::document::{Document, PartialDate};
use serde_json::{json, Value};

/// The body a document is issued by, for citation purposes: its sender, or failing
/// that the authority that released it.
pub fn issuing_body(doc: &Document) -> Option<String> {
    doc.from
        .first()
        .cloned()
        .or_else(|| doc.source.as_ref().and_then(|s| s.authority.clone()))
}

/// The institution to name in a report citation: the releasing authority if known
/// (the Council, the Commission), else the first sender.
pub fn institution(doc: &Document) -> Option<String> {
    doc.source
        .as_ref()
        .and_then(|s| s.authority.clone())
        .or_else(|| doc.from.first().cloned())
}

/// A ready-to-paste citation: authors, title, reference, date, archive and
/// permanent URL. The access date is left to the reader.
pub fn plain_citation(doc: &Document, config: &Config) -> String {
    let mut parts: Vec<String> = Vec::new();
    if !doc.from.is_empty() {
        parts.push(doc.from.join(", "));
    }
    let mut title = format!("“{}”", doc.title);
    if let Some(t) = &doc.doc_type {
        title.push_str(&format!(" ({t})"));
    }
    parts.push(title);
    if !doc.references.is_empty() {
        parts.push(doc.references.join(", "));
    }
    parts.push(doc.date.display());
    parts.push(format!("in {}", config.title));
    let mut s = parts.join(", ");
    s.push_str(&format!(", {}", config.absolute_url(&doc.path())));
    s
}

/// Keywords of a document: its topics, then its organisations.
fn keywords(doc: &Document) -> Vec<String> {
    let mut k: Vec<String> = Vec::new();
    for key in ["topics", "organisations"] {
        if let Some(terms) = doc.terms.get(key) {
            k.extend(terms.iter().cloned());
        }
    }
    k
}

/// BibTeX `@techreport` entry.
pub fn bibtex(doc: &Document, config: &Config) -> String {
    let mut fields: Vec<(&str, String)> = Vec::new();
    fields.push(("title", format!("{{{}}}", bib_escape(&doc.title))));
    if !doc.from.is_empty() {
        let authors: Vec<String> = doc
            .from
            .iter()
            .map(|a| format!("{{{}}}", bib_escape(a)))
            .collect();
        fields.push(("author", authors.join(" and ")));
    }
    if let Some(inst) = institution(doc) {
        fields.push(("institution", bib_escape(&inst)));
    }
    if !doc.references.is_empty() {
        fields.push(("number", bib_escape(&doc.references.join(", "))));
    }
    if let Some(t) = &doc.doc_type {
        fields.push(("type", bib_escape(&capitalise(t))));
    }
    fields.push(("year", doc.date.year.to_string()));
    if let Some(m) = doc.date.month {
        fields.push(("month", m.to_string()));
    }
    fields.push(("date", doc.date.iso()));
    fields.push(("language", bib_escape(&doc.language)));
    if let Some(s) = &doc.summary {
        fields.push(("abstract", bib_escape(s)));
    }
    let kw = keywords(doc);
    if !kw.is_empty() {
        fields.push(("keywords", bib_escape(&kw.join(", "))));
    }
    fields.push(("url", config.absolute_url(&doc.path())));
    fields.push(("howpublished", bib_escape(&config.title)));
    if let Some(note) = provenance_note(doc) {
        fields.push(("note", bib_escape(&note)));
    }
    let mut out = format!("@techreport{{{},\n", doc.id);
    for (i, (k, v)) in fields.iter().enumerate() {
        let sep = if i + 1 == fields.len() { "" } else { "," };
        out.push_str(&format!("  {k} = {{{v}}}{sep}\n"));
    }
    out.push_str("}\n");
    out
}

/// RIS record (`TY  - RPRT`), CRLF-free, one tag a line.
pub fn ris(doc: &Document, config: &Config) -> String {
    let mut lines: Vec<(&str, String)> = vec![("TY", "RPRT".into()), ("TI", one_line(&doc.title))];
    for a in &doc.from {
        lines.push(("AU", one_line(a)));
    }
    lines.push(("PY", doc.date.year.to_string()));
    lines.push(("DA", ris_date(&doc.date)));
    if let Some(inst) = institution(doc) {
        lines.push(("PB", one_line(&inst)));
    }
    // One report number, joined as in BibTeX and CSL: SN is not a repeatable tag, and
    // readers (rispy, reference managers) keep only one of several.
    if !doc.references.is_empty() {
        lines.push(("SN", one_line(&doc.references.join(", "))));
    }
    if let Some(t) = &doc.doc_type {
        lines.push(("M3", one_line(&capitalise(t))));
    }
    lines.push(("LA", doc.language.clone()));
    if let Some(s) = &doc.summary {
        lines.push(("AB", one_line(s)));
    }
    for k in keywords(doc) {
        lines.push(("KW", one_line(&k)));
    }
    lines.push(("UR", config.absolute_url(&doc.path())));
    lines.push(("DB", one_line(&config.title)));
    if let Some(note) = provenance_note(doc) {
        lines.push(("N1", one_line(&note)));
    }
    lines.push(("ER", String::new()));
    let mut out = String::new();
    for (tag, value) in lines {
        out.push_str(tag);
        out.push_str("  - ");
        out.push_str(&value);
        out.push('\n');
    }
    out
}

/// CSL-JSON item of type `report`.
pub fn csl_item(doc: &Document, config: &Config) -> Value {
    let mut date_parts = vec![json!(doc.date.year)];
    if let Some(m) = doc.date.month {
        date_parts.push(json!(m));
        if let Some(d) = doc.date.day {
            date_parts.push(json!(d));
        }
    }
    let mut item = json!({
        "id": doc.id,
        "type": "report",
        "title": doc.title,
        "issued": { "date-parts": [date_parts] },
        "language": doc.language,
        "URL": config.absolute_url(&doc.path()),
        "archive": config.title,
    });
    let obj = item
        .as_object_mut()
        .map(|o| o as &mut serde_json::Map<String, Value>);
    if let Some(obj) = obj {
        if !doc.from.is_empty() {
            obj.insert(
                "author".into(),
                Value::Array(doc.from.iter().map(|a| json!({ "literal": a })).collect()),
            );
        }
        if let Some(inst) = institution(doc) {
            obj.insert("publisher".into(), json!(inst));
        }
        if !doc.references.is_empty() {
            obj.insert("number".into(), json!(doc.references.join(", ")));
        }
        if let Some(t) = &doc.doc_type {
            obj.insert("genre".into(), json!(capitalise(t)));
        }
        if let Some(s) = &doc.summary {
            obj.insert("abstract".into(), json!(s));
        }
        let kw = keywords(doc);
        if !kw.is_empty() {
            obj.insert("keyword".into(), json!(kw.join(", ")));
        }
        if let Some(note) = provenance_note(doc) {
            obj.insert("note".into(), json!(note));
        }
    }
    item
}

/// "Released by X in reply to the request Y (released Z)", when known.
pub fn provenance_note(doc: &Document) -> Option<String> {
    let s = doc.source.as_ref()?;
    let mut note = String::new();
    if let Some(a) = &s.authority {
        note.push_str(&format!("Released by {a}"));
    }
    if let Some(r) = &s.request {
        if note.is_empty() {
            note.push_str("Released");
        }
        note.push_str(&format!(" in reply to the request “{r}”"));
    }
    if let Some(d) = &s.released {
        if note.is_empty() {
            note.push_str("Released");
        }
        // "on 15 January 2020", but "in January 2020", "in 2020".
        let on = if d.day.is_some() { "on" } else { "in" };
        note.push_str(&format!(" {on} {}", d.display()));
    }
    (!note.is_empty()).then_some(note)
}

/// `YYYY/MM/DD/` with empty parts for imprecise dates, as RIS wants.
fn ris_date(d: &PartialDate) -> String {
    format!(
        "{:04}/{}/{}/",
        d.year,
        d.month.map(|m| format!("{m:02}")).unwrap_or_default(),
        d.day.map(|x| format!("{x:02}")).unwrap_or_default()
    )
}

/// A Highwire `citation_date`: `YYYY/MM/DD`, `YYYY/MM` or `YYYY`.
pub fn highwire_date(d: &PartialDate) -> String {
    d.iso().replace('-', "/")
}

fn one_line(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for (i, word) in s.split_whitespace().enumerate() {
        if i > 0 {
            out.push(' ');
        }
        out.push_str(word);
    }
    out
}

fn capitalise(s: &str) -> String {
    let mut c = s.chars();
    match c.next() {
        Some(f) => f.to_uppercase().collect::<String>() + c.as_str(),
        None => String::new(),
    }
}

/// Escapes text for a braced BibTeX field: the special characters become commands
/// and braces are balanced, so no value can break out of its field.
fn bib_escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 8);
    // One line: runs of whitespace become one space, as in `one_line`.
    for (i, word) in s.split_whitespace().enumerate() {
        if i > 0 {
            out.push(' ');
        }
        let mut rest = word;
        while let Some((at, command)) = rest
            .bytes()
            .enumerate()
            .find_map(|(at, b)| Some((at, bib_command(b)?)))
        {
            out.push_str(&rest[..at]);
            out.push_str(command);
            rest = &rest[at + 1..];
        }
        out.push_str(rest);
    }
    out
}

/// How a byte with a meaning in BibTeX is written in a braced field; `None` for
/// any other byte (the special ones are ASCII, so never inside a character).
fn bib_command(b: u8) -> Option<&'static str> {
    Some(match b {
        b'\\' => "\\textbackslash{}",
        b'{' => "\\{",
        b'}' => "\\}",
        b'%' => "\\%",
        b'&' => "\\&",
        b'$' => "\\$",
        b'#' => "\\#",
        b'_' => "\\_",
        b'~' => "\\textasciitilde{}",
        b'^' => "\\textasciicircum{}",
        _ => return None,
    })
}

/// JSON made safe to embed in an HTML `<script>` element: `<`, `>` and `&` are
/// written as `\u` escapes so no value can close the element.
pub fn json_for_script(value: &Value) -> String {
    let s = serde_json::to_string(value).unwrap_or_else(|_| "{}".into());
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '<' => out.push_str("\\u003c"),
            '>' => out.push_str("\\u003e"),
            '&' => out.push_str("\\u0026"),
            '\u{2028}' => out.push_str("\\u2028"),
            '\u{2029}' => out.push_str("\\u2029"),
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::load::SourceFile;
    use std::path::{Path, PathBuf};

    fn fixture() -> (Document, Config) {
        let config = Config::parse(
            Path::new("site.toml"),
            "title = \"Files\"\nbase_url = \"https://x.org/a/\"\n",
        )
        .unwrap();
        let src = SourceFile {
            path: PathBuf::from("d.md"),
            text: "---\nid: n-1\ntitle: \"Tech {and} 100% _risk_\"\ndate: 2019-06-03\ntype: note\nreference: \"9069/19 EXT 1\"\nfrom: EU CTC\ntopics: [AI]\nsource:\n  authority: Council\n  request: Work with Palantir\n---\nBody\n".into(),
        };
        (
            crate::document::parse_document(&src, &config).unwrap(),
            config,
        )
    }

    #[test]
    fn a_release_date_reads_on_a_day_in_a_month_or_year() {
        let (mut doc, _) = fixture();
        let note = |doc: &Document| provenance_note(doc).unwrap_or_default();
        let date = |year, month, day| PartialDate { year, month, day };
        let source = doc.source.as_mut().unwrap();
        source.released = Some(date(2020, Some(1), Some(15)));
        assert!(
            note(&doc).ends_with("Palantir” on 15 January 2020"),
            "{}",
            note(&doc)
        );
        doc.source.as_mut().unwrap().released = Some(date(2020, Some(1), None));
        assert!(
            note(&doc).ends_with("Palantir” in January 2020"),
            "{}",
            note(&doc)
        );
        doc.source.as_mut().unwrap().released = Some(date(2020, None, None));
        assert!(note(&doc).ends_with("Palantir” in 2020"), "{}", note(&doc));
    }

    #[test]
    fn bibtex_escapes_every_special_character_on_one_line() {
        assert_eq!(
            bib_escape("  a\u{a0}b\t\n {x}\\y ~^%&$#_ é  "),
            "a b \\{x\\}\\textbackslash{}y \\textasciitilde{}\\textasciicircum{}\\%\\&\\$\\#\\_ é"
        );
        assert_eq!(bib_escape(""), "");
        assert_eq!(one_line(" one\r\n two  three "), "one two three");
    }

    #[test]
    fn bibtex_escapes_and_balances() {
        let (doc, config) = fixture();
        let b = bibtex(&doc, &config);
        assert!(b.starts_with("@techreport{n-1,\n"), "{b}");
        assert!(
            b.contains("title = {{Tech \\{and\\} 100\\% \\_risk\\_}}"),
            "{b}"
        );
        assert!(b.contains("number = {9069/19 EXT 1}"), "{b}");
        assert!(b.contains("institution = {Council}"), "{b}");
        assert_eq!(
            b.matches('{').count() - b.matches("\\{").count(),
            b.matches('}').count() - b.matches("\\}").count()
        );
    }

    #[test]
    fn ris_has_report_type_and_date() {
        let (doc, config) = fixture();
        let r = ris(&doc, &config);
        assert!(r.starts_with("TY  - RPRT\n"), "{r}");
        assert!(r.contains("DA  - 2019/06/03/\n"), "{r}");
        assert!(r.contains("SN  - 9069/19 EXT 1\n"), "{r}");
        assert!(r.ends_with("ER  - \n"), "{r}");
    }

    #[test]
    fn csl_is_a_report() {
        let (doc, config) = fixture();
        let c = csl_item(&doc, &config);
        assert_eq!(c["type"], "report");
        assert_eq!(c["issued"]["date-parts"][0], json!([2019, 6, 3]));
        assert_eq!(c["URL"], "https://x.org/a/documents/n-1/");
    }

    #[test]
    fn script_json_cannot_close_the_element() {
        let v = json!({"t": "</script><script>alert(1)</script>"});
        assert!(!json_for_script(&v).contains("</script"));
    }
}

/// Archive-wide `bibliography.bib` and `bibliography.json` (CSL-JSON), newest first.
pub fn bibliography_files(archive: &crate::archive::Archive) -> Vec<crate::render::OutputFile> {
    use rayon::prelude::*;
    let config = &archive.config;
    let entries: Vec<(String, Value)> = archive
        .documents
        .par_iter()
        .map(|doc| (bibtex(doc, config), csl_item(doc, config)))
        .collect();
    let mut bib = String::with_capacity(entries.iter().map(|(b, _)| b.len() + 1).sum());
    let mut items = Vec::with_capacity(entries.len());
    for (entry, item) in entries {
        bib.push_str(&entry);
        bib.push('\n');
        items.push(item);
    }
    let json = serde_json::to_string_pretty(&Value::Array(items)).unwrap_or_else(|_| "[]".into());
    vec![
        crate::render::OutputFile {
            path: "bibliography.bib".into(),
            bytes: bib.into_bytes(),
        },
        crate::render::OutputFile {
            path: "bibliography.json".into(),
            bytes: (json + "\n").into_bytes(),
        },
    ]
}

/// A `<meta>` element's name (or property) and content.
#[derive(Debug, Clone, serde::Serialize)]
pub struct MetaTag {
    /// `name` attribute (Highwire, Dublin Core) or empty.
    pub name: String,
    /// `property` attribute (OpenGraph) or empty.
    pub property: String,
    /// `content`.
    pub content: String,
}

/// Highwire (Zotero, Google Scholar), Dublin Core and OpenGraph tags for a page.
pub fn meta_tags(doc: &Document, config: &Config, pdf_url: Option<&str>) -> Vec<MetaTag> {
    let mut tags = Vec::new();
    let mut name = |n: &str, c: &str| {
        tags.push(MetaTag {
            name: n.into(),
            property: String::new(),
            content: c.into(),
        })
    };
    let url = config.absolute_url(&doc.path());
    name("citation_title", &doc.title);
    name("citation_date", &highwire_date(&doc.date));
    name("citation_publication_date", &highwire_date(&doc.date));
    for a in &doc.from {
        name("citation_author", a);
    }
    if let Some(inst) = institution(doc) {
        name("citation_technical_report_institution", &inst);
    }
    if !doc.references.is_empty() {
        name(
            "citation_technical_report_number",
            &doc.references.join(", "),
        );
    }
    name("citation_language", &doc.language);
    if let Some(s) = &doc.summary {
        name("citation_abstract", s);
    }
    name("citation_public_url", &url);
    if let Some(pdf) = pdf_url {
        name("citation_pdf_url", pdf);
    }
    let kw = keywords(doc);
    if !kw.is_empty() {
        name("citation_keywords", &kw.join("; "));
    }
    name("DC.title", &doc.title);
    name("DC.date", &doc.date.iso());
    name("DC.identifier", &url);
    for r in &doc.references {
        name("DC.identifier", r);
    }
    for a in &doc.from {
        name("DC.creator", a);
    }
    name("DC.language", &doc.language);
    name("DC.type", "Text");
    let mut prop = |p: &str, c: &str| {
        tags.push(MetaTag {
            name: String::new(),
            property: p.into(),
            content: c.into(),
        })
    };
    prop("og:type", "article");
    prop("og:title", &doc.title);
    prop("og:url", &url);
    prop("og:site_name", &config.title);
    if let Some(s) = &doc.summary {
        prop("og:description", s);
    }
    tags
}

/// schema.org `Report` (and `Message`, when it has recipients) as JSON-LD,
/// ready to embed in a script element.
pub fn json_ld(
    doc: &Document,
    config: &Config,
    original: Option<(&str, &crate::load::Original)>,
    mentions: &[String],
) -> String {
    let url = config.absolute_url(&doc.path());
    let mut v = json!({
        "@context": "https://schema.org",
        "@type": "Report",
        "@id": url,
        "url": url,
        "name": doc.title,
        "headline": doc.title,
        "identifier": doc.id,
        "dateCreated": doc.date.iso(),
        "inLanguage": doc.language,
        "isPartOf": { "@type": "Collection", "name": config.title, "url": config.base_url() },
    });
    if let Some(obj) = v.as_object_mut() {
        if !doc.references.is_empty() {
            obj.insert("reportNumber".into(), json!(doc.references.join(", ")));
        }
        if !doc.from.is_empty() {
            obj.insert(
                "author".into(),
                Value::Array(
                    doc.from
                        .iter()
                        .map(|a| json!({"@type": "Organization", "name": a}))
                        .collect(),
                ),
            );
        }
        if !doc.to.is_empty() {
            // schema.org gives `recipient` to a Message, not to a Report: a
            // document addressed to someone is both.
            obj.insert("@type".into(), json!(["Report", "Message"]));
            obj.insert(
                "recipient".into(),
                Value::Array(
                    doc.to
                        .iter()
                        .map(|a| json!({"@type": "Organization", "name": a}))
                        .collect(),
                ),
            );
        }
        if let Some(inst) = doc.source.as_ref().and_then(|s| s.authority.clone()) {
            obj.insert(
                "publisher".into(),
                json!({"@type": "Organization", "name": inst}),
            );
        }
        if let Some(s) = &doc.summary {
            obj.insert("abstract".into(), json!(s));
        }
        let topics = doc.terms.get("topics").cloned().unwrap_or_default();
        if !topics.is_empty() {
            obj.insert(
                "about".into(),
                Value::Array(
                    topics
                        .iter()
                        .map(|t| json!({"@type": "Thing", "name": t}))
                        .collect(),
                ),
            );
        }
        let mut all_mentions: Vec<String> =
            doc.terms.get("organisations").cloned().unwrap_or_default();
        for m in mentions {
            if !all_mentions.contains(m) {
                all_mentions.push(m.clone());
            }
        }
        if !all_mentions.is_empty() {
            obj.insert(
                "mentions".into(),
                Value::Array(
                    all_mentions
                        .iter()
                        .map(|m| json!({"@type": "Organization", "name": m}))
                        .collect(),
                ),
            );
        }
        if let Some((file_url, original)) = original {
            obj.insert(
                "encoding".into(),
                json!({
                    "@type": "MediaObject",
                    "contentUrl": file_url,
                    "contentSize": original.size.to_string(),
                    "sha256": original.sha256,
                }),
            );
        }
    }
    json_for_script(&v)
}
