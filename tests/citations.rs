//! Citations (issue #6): every export a document publishes is read back with a real
//! parser — `cite.bib` with Python's bibtexparser and with Citation.js, `cite.ris`
//! with rispy and Citation.js, `cite.json` and the archive-wide `bibliography.json`
//! and `bibliography.bib` with Citation.js — and what they read must be the document's
//! metadata, special characters and accents included. The page's Highwire, Dublin
//! Core and JSON-LD metadata are checked too.
//!
//! The parsers are installed by `tests/cite/setup.sh` (run by `scripts/test` and CI);
//! without them these tests fail, they never skip.

mod common;

use common::*;
use serde_json::Value;
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

const BASE_URL: &str = "https://example.org/files/";
/// The title of `special-characters`, as written in its front matter (YAML-decoded).
const SPECIAL_TITLE: &str =
    "Risks & {braces} at 100% — café, naïve _under_ #1 $5 ~tilde^ back\\slash";
const IDS: [&str; 4] = [
    "special-characters",
    "sender-only",
    "month-precision",
    "year-only",
];

fn cite_dir() -> PathBuf {
    repo_root().join("tests").join("cite")
}

/// The venv's Python, or a failure saying how to install it.
fn python() -> PathBuf {
    let python = cite_dir().join(".venv").join("bin").join("python");
    assert!(
        python.is_file(),
        "{} is missing: run `bash tests/cite/setup.sh` (scripts/test does)",
        python.display()
    );
    python
}

/// `node`, with Citation.js installed, or a failure saying how to install it.
fn node() -> &'static str {
    let core = cite_dir()
        .join("node_modules")
        .join("@citation-js")
        .join("core");
    assert!(
        core.is_dir(),
        "{} is missing: run `bash tests/cite/setup.sh` (scripts/test does)",
        core.display()
    );
    "node"
}

/// Runs a parser script over `(kind, file)` pairs and returns what it read from
/// each, in order; panics with its stderr on failure.
fn parse_all(program: &Path, script: &str, pairs: &[(&str, PathBuf)]) -> Vec<Value> {
    let mut command = Command::new(program);
    command.arg(cite_dir().join(script));
    for (kind, file) in pairs {
        command.arg(kind).arg(file);
    }
    let output = command
        .output()
        .unwrap_or_else(|e| panic!("cannot run {}: {e}", program.display()));
    assert!(
        output.status.success(),
        "{script} failed:\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let results: Vec<Value> = serde_json::from_slice(&output.stdout).unwrap_or_else(|e| {
        panic!(
            "{script} printed no JSON array ({e}):\n{}",
            String::from_utf8_lossy(&output.stdout)
        )
    });
    assert_eq!(results.len(), pairs.len(), "{script}: one result per file");
    results
}

/// The fixture built once, and every export read once by each parser (starting
/// Python and Node.js per file would take most of the test time): by (tool, file).
fn parsed() -> &'static HashMap<(&'static str, PathBuf), Value> {
    static PARSED: OnceLock<HashMap<(&'static str, PathBuf), Value>> = OnceLock::new();
    PARSED.get_or_init(|| {
        let mut bib_ris: Vec<(&str, PathBuf)> = Vec::new();
        let mut csl: Vec<(&str, PathBuf)> = Vec::new();
        for id in IDS {
            bib_ris.push(("bib", export(id, "cite.bib")));
            bib_ris.push(("ris", export(id, "cite.ris")));
            csl.push(("bib", export(id, "cite.bib")));
            csl.push(("ris", export(id, "cite.ris")));
            csl.push(("csl", export(id, "cite.json")));
        }
        bib_ris.push(("bib", out().join("bibliography.bib")));
        csl.push(("bib", out().join("bibliography.bib")));
        csl.push(("csl", out().join("bibliography.json")));
        let mut map = HashMap::new();
        let python = parse_all(&python(), "parse.py", &bib_ris);
        for ((kind, file), v) in bib_ris.into_iter().zip(python) {
            map.insert(
                (
                    if kind == "bib" {
                        "bibtexparser"
                    } else {
                        "rispy"
                    },
                    file,
                ),
                v,
            );
        }
        let node = parse_all(Path::new(node()), "parse.mjs", &csl);
        for ((_, file), v) in csl.into_iter().zip(node) {
            map.insert(("citation.js", file), v);
        }
        map
    })
}

fn lookup(tool: &'static str, file: &Path) -> &'static Value {
    parsed()
        .get(&(tool, file.to_path_buf()))
        .unwrap_or_else(|| panic!("{} was not read with {tool}", file.display()))
}

fn bibtexparser(file: &Path) -> Vec<Value> {
    lookup("bibtexparser", file)
        .as_array()
        .cloned()
        .unwrap_or_default()
}

fn rispy(file: &Path) -> Vec<Value> {
    lookup("rispy", file)
        .as_array()
        .cloned()
        .unwrap_or_default()
}

/// Citation.js's CSL-JSON items for a file (read as BibTeX, RIS or CSL-JSON by its name).
fn citation_js(file: &Path) -> Vec<Value> {
    lookup("citation.js", file)["items"]
        .as_array()
        .cloned()
        .unwrap_or_default()
}

/// The fixture, built once for every test of this file.
fn out() -> &'static Path {
    static SITE: OnceLock<Site> = OnceLock::new();
    let site = SITE.get_or_init(|| {
        let site = Site::new("citations");
        site.build(&[]).assert_success();
        site
    });
    &site.out
}

fn export(id: &str, name: &str) -> PathBuf {
    out().join("documents").join(id).join(name)
}

fn url_of(id: &str) -> String {
    format!("{BASE_URL}documents/{id}/")
}

fn s(v: &Value) -> &str {
    v.as_str().unwrap_or_else(|| panic!("not a string: {v}"))
}

// ---------------------------------------------------------------- BibTeX

#[test]
fn bibtex_reads_back_with_bibtexparser() {
    let entries = bibtexparser(&export("special-characters", "cite.bib"));
    assert_eq!(entries.len(), 1, "{entries:?}");
    let e = &entries[0];
    assert_eq!(e["type"], "techreport");
    assert_eq!(e["key"], "special-characters");
    let f = &e["fields"];
    // pylatexenc decodes `\textasciicircum{}` (LaTeX's ASCII caret) to U+02C6, the
    // modifier letter; Citation.js reads the same field as `^` (see below).
    assert!(s(&e["raw"]["title"]).contains("\\textasciitilde{}tilde\\textasciicircum{} back"));
    assert_eq!(s(&f["title"]).replace('\u{2c6}', "^"), SPECIAL_TITLE);
    // Authors: one braced corporate name each, so none is split into first/last.
    assert_eq!(
        s(&e["raw"]["author"]),
        "{EU Counter-Terrorism Coordinator} and {Délégation française}"
    );
    assert_eq!(s(&f["institution"]), "Council of the European Union");
    assert_eq!(s(&f["number"]), "9069/19 EXT 1");
    assert_eq!(s(&f["type"]), "Note");
    assert_eq!(s(&f["year"]), "2019");
    assert_eq!(s(&f["month"]), "6");
    assert_eq!(s(&f["date"]), "2019-06-03");
    assert_eq!(s(&f["language"]), "fr-BE");
    assert_eq!(s(&f["abstract"]), "Résumé with & and % signs.");
    assert_eq!(
        s(&f["keywords"]),
        "disruptive technologies, données personnelles, Europol"
    );
    assert_eq!(s(&f["url"]), url_of("special-characters"));
    assert_eq!(s(&f["howpublished"]), "Citation & Fixture {Archive}");
    assert_eq!(
        s(&f["note"]),
        "Released by Council of the European Union in reply to the request “Work with Palantir & co” on 15 January 2020"
    );

    let month = &bibtexparser(&export("month-precision", "cite.bib"))[0]["fields"];
    assert_eq!(s(&month["number"]), "COM(2016) 205, Ares(2016)123456");
    assert_eq!(s(&month["institution"]), "European Commission");
    assert_eq!(s(&month["date"]), "2016-05");
    assert!(month.get("author").is_none(), "{month}");

    let year = &bibtexparser(&export("year-only", "cite.bib"))[0]["fields"];
    assert_eq!(s(&year["date"]), "2015");
    assert!(year.get("month").is_none(), "{year}");
    assert!(year.get("institution").is_none(), "{year}");
    assert!(year.get("number").is_none(), "{year}");
}

#[test]
fn bibtex_reads_back_with_citation_js() {
    let items = citation_js(&export("special-characters", "cite.bib"));
    assert_eq!(items.len(), 1, "{items:?}");
    let item = &items[0];
    assert_eq!(item["type"], "report");
    assert_eq!(item["id"], "special-characters");
    assert_eq!(s(&item["title"]), SPECIAL_TITLE);
    assert_eq!(s(&item["number"]), "9069/19 EXT 1");
    assert_eq!(s(&item["publisher"]), "Council of the European Union");
    assert_eq!(s(&item["URL"]), url_of("special-characters"));
    assert_eq!(s(&item["language"]), "fr-BE");
    assert_eq!(
        item["issued"]["date-parts"],
        serde_json::json!([[2019, 6, 3]])
    );
    let authors: Vec<String> = item["author"]
        .as_array()
        .expect("authors")
        .iter()
        .map(|a| {
            a.get("literal")
                .or_else(|| a.get("family"))
                .map(|n| s(n).to_string())
                .unwrap_or_default()
        })
        .collect();
    assert_eq!(
        authors,
        ["EU Counter-Terrorism Coordinator", "Délégation française"]
    );
}

#[test]
fn bibliography_bib_holds_every_document_newest_first() {
    let file = out().join("bibliography.bib");
    let keys: Vec<String> = bibtexparser(&file)
        .iter()
        .map(|e| s(&e["key"]).to_string())
        .collect();
    assert_eq!(keys, IDS);
    let items = citation_js(&file);
    let ids: Vec<&str> = items.iter().map(|i| s(&i["id"])).collect();
    assert_eq!(ids, IDS);
    assert_eq!(s(&items[0]["title"]), SPECIAL_TITLE);
    assert_eq!(
        items[2]["issued"]["date-parts"],
        serde_json::json!([[2016, 5]])
    );
}

/// Without a releasing authority, the sender is the institution in every format.
#[test]
fn the_sender_is_the_institution_when_no_authority_released_it() {
    let sender = "Ministère de l'Intérieur";
    let bib = &bibtexparser(&export("sender-only", "cite.bib"))[0]["fields"];
    assert_eq!(s(&bib["institution"]), sender);
    assert_eq!(s(&bib["title"]), "Lettre du ministère de l'Intérieur");
    assert_eq!(s(&bib["type"]), "Letter");
    assert_eq!(s(&bib["language"]), "fr");
    assert!(bib.get("note").is_none(), "{bib}");
    let ris = &rispy(&export("sender-only", "cite.ris"))[0];
    assert_eq!(s(&ris["publisher"]), sender);
    assert_eq!(ris["authors"], serde_json::json!([sender]));
    let csl = &citation_js(&export("sender-only", "cite.json"))[0];
    assert_eq!(s(&csl["publisher"]), sender);
    assert_eq!(csl["author"], serde_json::json!([{ "literal": sender }]));
    let meta = meta_names(&page(out(), "documents/sender-only/"));
    assert_eq!(
        values(&meta, "citation_technical_report_institution"),
        [sender]
    );
    assert_eq!(values(&meta, "citation_author"), [sender]);
}

// ---------------------------------------------------------------- RIS

#[test]
fn ris_reads_back_with_rispy() {
    let records = rispy(&export("special-characters", "cite.ris"));
    assert_eq!(records.len(), 1, "{records:?}");
    let r = &records[0];
    assert_eq!(r["type_of_reference"], "RPRT");
    assert_eq!(s(&r["title"]), SPECIAL_TITLE);
    assert_eq!(
        r["authors"],
        serde_json::json!(["EU Counter-Terrorism Coordinator", "Délégation française"])
    );
    assert_eq!(s(&r["date"]), "2019/06/03/");
    assert_eq!(s(&r["year"]), "2019");
    assert_eq!(s(&r["publisher"]), "Council of the European Union");
    // SN is the report number in an RPRT record (rispy names the tag `issn`).
    assert_eq!(s(&r["issn"]), "9069/19 EXT 1");
    assert_eq!(s(&r["language"]), "fr-BE");
    assert_eq!(r["urls"], serde_json::json!([url_of("special-characters")]));
    assert_eq!(
        r["keywords"],
        serde_json::json!(["disruptive technologies", "données personnelles", "Europol"])
    );
    assert_eq!(s(&r["abstract"]), "Résumé with & and % signs.");

    // Two references are one report number, as in the other formats: a second SN
    // line would be dropped by readers that take one.
    let month = &rispy(&export("month-precision", "cite.ris"))[0];
    assert_eq!(s(&month["issn"]), "COM(2016) 205, Ares(2016)123456");
    assert_eq!(s(&month["date"]), "2016/05//");
    assert!(month.get("authors").is_none(), "{month}");

    let year = &rispy(&export("year-only", "cite.ris"))[0];
    assert_eq!(s(&year["date"]), "2015///");
    assert!(year.get("publisher").is_none(), "{year}");
}

#[test]
fn ris_reads_back_with_citation_js() {
    let items = citation_js(&export("special-characters", "cite.ris"));
    assert_eq!(items.len(), 1, "{items:?}");
    let item = &items[0];
    assert_eq!(item["type"], "report");
    assert_eq!(s(&item["title"]), SPECIAL_TITLE);
    assert_eq!(s(&item["number"]), "9069/19 EXT 1");
    assert_eq!(s(&item["publisher"]), "Council of the European Union");
    assert_eq!(
        item["issued"]["date-parts"],
        serde_json::json!([[2019, 6, 3]])
    );
    let month = citation_js(&export("month-precision", "cite.ris"));
    assert_eq!(s(&month[0]["number"]), "COM(2016) 205, Ares(2016)123456");
}

// ---------------------------------------------------------------- CSL-JSON

fn check_csl_special(item: &Value) {
    assert_eq!(item["id"], "special-characters");
    assert_eq!(item["type"], "report");
    assert_eq!(s(&item["title"]), SPECIAL_TITLE);
    assert_eq!(
        item["issued"]["date-parts"],
        serde_json::json!([[2019, 6, 3]])
    );
    assert_eq!(
        item["author"],
        serde_json::json!([
            {"literal": "EU Counter-Terrorism Coordinator"},
            {"literal": "Délégation française"}
        ])
    );
    assert_eq!(s(&item["publisher"]), "Council of the European Union");
    assert_eq!(s(&item["number"]), "9069/19 EXT 1");
    assert_eq!(s(&item["URL"]), url_of("special-characters"));
    assert_eq!(s(&item["language"]), "fr-BE");
    assert_eq!(s(&item["genre"]), "Note");
    assert_eq!(s(&item["abstract"]), "Résumé with & and % signs.");
}

#[test]
fn csl_json_reads_back_with_citation_js() {
    let items = citation_js(&export("special-characters", "cite.json"));
    assert_eq!(items.len(), 1, "{items:?}");
    check_csl_special(&items[0]);
    let month = &citation_js(&export("month-precision", "cite.json"))[0];
    assert_eq!(
        month["issued"]["date-parts"],
        serde_json::json!([[2016, 5]])
    );
    assert_eq!(s(&month["number"]), "COM(2016) 205, Ares(2016)123456");
    let year = &citation_js(&export("year-only", "cite.json"))[0];
    assert_eq!(year["issued"]["date-parts"], serde_json::json!([[2015]]));
}

#[test]
fn bibliography_json_holds_every_document_newest_first() {
    let items = citation_js(&out().join("bibliography.json"));
    let ids: Vec<&str> = items.iter().map(|i| s(&i["id"])).collect();
    assert_eq!(ids, IDS);
    check_csl_special(&items[0]);
    // The same items as each document's own cite.json.
    for (item, id) in items.iter().zip(IDS) {
        let own = citation_js(&export(id, "cite.json"));
        assert_eq!(own.first(), Some(item), "{id}");
    }
}

// ---------------------------------------------------------------- page metadata

/// `(name, content)` of every `<meta name>` of a page.
fn meta_names(html: &scraper::Html) -> Vec<(String, String)> {
    select(html, "head meta[name]")
        .into_iter()
        .map(|m| {
            (
                m.value().attr("name").unwrap_or("").to_string(),
                m.value().attr("content").unwrap_or("").to_string(),
            )
        })
        .collect()
}

fn values<'a>(meta: &'a [(String, String)], name: &str) -> Vec<&'a str> {
    meta.iter()
        .filter(|(n, _)| n == name)
        .map(|(_, c)| c.as_str())
        .collect()
}

#[test]
fn pages_carry_highwire_and_dublin_core_tags() {
    let html = page(out(), "documents/special-characters/");
    let meta = meta_names(&html);
    let one = |name: &str| -> &str {
        let v = values(&meta, name);
        assert_eq!(v.len(), 1, "{name}: {v:?}");
        v[0]
    };
    assert_eq!(one("citation_title"), SPECIAL_TITLE);
    assert_eq!(one("citation_date"), "2019/06/03");
    assert_eq!(one("citation_publication_date"), "2019/06/03");
    assert_eq!(
        values(&meta, "citation_author"),
        ["EU Counter-Terrorism Coordinator", "Délégation française"]
    );
    assert_eq!(
        one("citation_technical_report_institution"),
        "Council of the European Union"
    );
    assert_eq!(one("citation_technical_report_number"), "9069/19 EXT 1");
    assert_eq!(one("citation_language"), "fr-BE");
    assert_eq!(one("citation_abstract"), "Résumé with & and % signs.");
    assert_eq!(one("citation_public_url"), url_of("special-characters"));
    assert_eq!(
        one("citation_pdf_url"),
        format!("{}special-characters.pdf", url_of("special-characters"))
    );
    assert!(
        export("special-characters", "special-characters.pdf").is_file(),
        "the original is published where citation_pdf_url points"
    );
    assert_eq!(
        one("citation_keywords"),
        "disruptive technologies; données personnelles; Europol"
    );
    assert_eq!(one("DC.title"), SPECIAL_TITLE);
    assert_eq!(one("DC.date"), "2019-06-03");
    assert_eq!(
        values(&meta, "DC.identifier"),
        [url_of("special-characters").as_str(), "9069/19 EXT 1"]
    );
    assert_eq!(
        values(&meta, "DC.creator"),
        ["EU Counter-Terrorism Coordinator", "Délégation française"]
    );
    assert_eq!(one("DC.language"), "fr-BE");
    let canonical = select(&html, "link[rel=canonical]");
    assert_eq!(
        canonical[0].value().attr("href"),
        Some(url_of("special-characters").as_str())
    );

    // Without an original, a sender or a reference, those tags are absent.
    let year = meta_names(&page(out(), "documents/year-only/"));
    for absent in [
        "citation_pdf_url",
        "citation_author",
        "citation_technical_report_number",
        "citation_technical_report_institution",
        "citation_keywords",
    ] {
        assert!(values(&year, absent).is_empty(), "{absent}: {year:?}");
    }
    assert_eq!(values(&year, "citation_date"), ["2015"]);
    let month = meta_names(&page(out(), "documents/month-precision/"));
    assert_eq!(values(&month, "citation_date"), ["2016/05"]);
    assert_eq!(
        values(&month, "citation_technical_report_number"),
        ["COM(2016) 205, Ares(2016)123456"]
    );
}

#[test]
fn pages_carry_schema_org_json_ld() {
    let html = page(out(), "documents/special-characters/");
    let scripts = select(&html, "script[type=\"application/ld+json\"]");
    assert_eq!(scripts.len(), 1);
    let text: String = scripts[0].text().collect();
    let ld: Value = serde_json::from_str(&text).unwrap_or_else(|e| panic!("{e}: {text}"));
    let url = url_of("special-characters");
    assert_eq!(ld["@context"], "https://schema.org");
    // Addressed to someone: a Message too, which is what `recipient` belongs to.
    assert_eq!(ld["@type"], serde_json::json!(["Report", "Message"]));
    assert_eq!(ld["@id"], url.as_str());
    assert_eq!(ld["url"], url.as_str());
    assert_eq!(s(&ld["name"]), SPECIAL_TITLE);
    assert_eq!(ld["identifier"], "special-characters");
    assert_eq!(ld["dateCreated"], "2019-06-03");
    assert_eq!(ld["inLanguage"], "fr-BE");
    assert_eq!(ld["reportNumber"], "9069/19 EXT 1");
    assert_eq!(
        ld["author"],
        serde_json::json!([
            {"@type": "Organization", "name": "EU Counter-Terrorism Coordinator"},
            {"@type": "Organization", "name": "Délégation française"}
        ])
    );
    assert_eq!(
        ld["recipient"],
        serde_json::json!([{"@type": "Organization", "name": "Delegations"}])
    );
    assert_eq!(
        ld["publisher"],
        serde_json::json!({"@type": "Organization", "name": "Council of the European Union"})
    );
    assert_eq!(
        ld["isPartOf"],
        serde_json::json!({"@type": "Collection", "name": "Citation & Fixture {Archive}", "url": BASE_URL})
    );
    assert_eq!(ld["encoding"]["@type"], "MediaObject");
    assert_eq!(
        ld["encoding"]["contentUrl"],
        format!("{url}special-characters.pdf").as_str()
    );
    // `&` is escaped inside the script element, and decodes back.
    assert!(!text.contains('&'), "{text}");
}
