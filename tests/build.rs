//! Building the `basic` fixture: pages, links (at the root and under a sub-path),
//! taxonomy and timeline contents and order, dates, redactions, escaping, drafts,
//! the summary line and reproducibility.

mod common;

use common::*;
use scraper::Html;
use std::path::Path;

/// The base URL in `tests/fixtures/basic/site.toml`.
const BASE_URL: &str = "https://example.org/";
/// A sub-path base URL given on the command line.
const SUB_PATH_URL: &str = "https://example.github.io/archive/";

/// The published documents of `basic`, newest first, with their displayed dates.
const DOCUMENTS: &[(&str, &str)] = &[
    ("europol-briefing-2020-06-15", "15 June 2020"),
    ("commission-letter-2019-04-03", "3 April 2019"),
    ("council-note-2019-04", "April 2019"),
    ("minutes-2019", "2019"),
    ("frontex-report-2018", "2018"),
];

const DRAFT_ID: &str = "draft-note-2020";

/// The title written with HTML in front matter, and the summary likewise.
const HOSTILE_ID: &str = "commission-letter-2019-04-03";
const HOSTILE_TITLE: &str = "Q&A <script>alert(1)</script> on data retention";
const HOSTILE_SUMMARY: &str = "Answers <b>bold</b> & \"quoted\" questions.";

/// Every term page of `basic` (without drafts): taxonomy path, slug, name, and
/// its documents newest first.
const TERMS: &[(&str, &str, &str, &[&str])] = &[
    (
        "topics",
        "artificial-intelligence",
        "Artificial intelligence",
        &["europol-briefing-2020-06-15"],
    ),
    (
        "topics",
        "biometrics",
        "Biometrics",
        &[
            "europol-briefing-2020-06-15",
            "council-note-2019-04",
            "minutes-2019",
            "frontex-report-2018",
        ],
    ),
    (
        "topics",
        "border-control",
        "Border control",
        &["frontex-report-2018"],
    ),
    (
        "topics",
        "data-protection",
        "Data protection",
        &["commission-letter-2019-04-03", "council-note-2019-04"],
    ),
    (
        "organisations",
        "council-of-the-eu",
        "Council of the EU",
        &["council-note-2019-04"],
    ),
    (
        "organisations",
        "european-commission",
        "European Commission",
        &["commission-letter-2019-04-03"],
    ),
    (
        "organisations",
        "europol",
        "Europol",
        &[
            "europol-briefing-2020-06-15",
            "council-note-2019-04",
            "minutes-2019",
        ],
    ),
    (
        "organisations",
        "frontex",
        "Frontex",
        &["frontex-report-2018"],
    ),
    (
        "types",
        "briefing",
        "briefing",
        &["europol-briefing-2020-06-15"],
    ),
    (
        "types",
        "letter",
        "letter",
        &["commission-letter-2019-04-03"],
    ),
    ("types", "minutes", "minutes", &["minutes-2019"]),
    ("types", "note", "note", &["council-note-2019-04"]),
    ("types", "report", "report", &["frontex-report-2018"]),
];

const YEARS: &[&str] = &["2018", "2019", "2020", "2021"];

/// Builds `basic` into `<tmp>/out` with `extra` arguments.
fn built(extra: &[&str]) -> (Site, Run) {
    let site = Site::new("basic");
    let run = site.build(extra);
    run.assert_success();
    (site, run)
}

fn ids(list: &[&str]) -> Vec<String> {
    list.iter().map(|s| s.to_string()).collect()
}

/// The documents listed (first `ol.document-list` of `main`), as ids.
fn listed_documents(html: &Html, base_path: &str) -> Vec<String> {
    let list = select(html, "main ol.document-list");
    let Some(first) = list.first() else {
        return Vec::new();
    };
    first
        .select(&sel("a.doc-title"))
        .map(|a| {
            let href = a.value().attr("href").unwrap();
            document_id(href, base_path).unwrap_or_else(|| panic!("not a document URL: {href}"))
        })
        .collect()
}

/// (kind, datetime, linked document id, text of the title) of each timeline entry
/// below the first element matching `scope`.
fn timeline_entries(html: &Html, scope: &str) -> Vec<(String, String, String, String)> {
    let scope = select(html, scope);
    let scope = scope.first().expect("timeline scope");
    scope
        .select(&sel("li.timeline-entry"))
        .map(|li| {
            let classes: Vec<&str> = li.value().classes().collect();
            let kind = if classes.contains(&"timeline-event") {
                "event"
            } else if classes.contains(&"timeline-document") {
                "document"
            } else {
                panic!("timeline entry of unknown kind: {}", li.html())
            };
            let datetime = li
                .select(&sel("time"))
                .next()
                .and_then(|t| t.value().attr("datetime"))
                .expect("entry without <time datetime>")
                .to_string();
            // A document entry links to itself; an event to the document mentioning it.
            let link = li
                .select(&sel("a[href]"))
                .last()
                .expect("entry without a link");
            let id = document_id(link.value().attr("href").unwrap(), "/")
                .expect("entry link is not a document");
            let title = match kind {
                "event" => li
                    .select(&sel(".event-title"))
                    .next()
                    .map(text_of)
                    .expect("event without a title"),
                _ => text_of(link),
            };
            (kind.to_string(), datetime, id, title)
        })
        .collect()
}

/// Sort key of an ISO date with its precision: imprecise dates first in their period.
fn date_key(iso: &str) -> (u32, u32, u32) {
    let mut parts = iso.split('-').map(|p| p.parse::<u32>().unwrap());
    (
        parts.next().unwrap(),
        parts.next().unwrap_or(0),
        parts.next().unwrap_or(0),
    )
}

fn count_html(out: &Path) -> usize {
    html_files(out).len()
}

#[test]
fn every_expected_page_exists() {
    let (site, _) = built(&[]);
    let out = &site.out;
    let mut expected: Vec<String> = vec![
        "".into(),
        "documents/".into(),
        "topics/".into(),
        "organisations/".into(),
        "types/".into(),
        "timeline/".into(),
        "static/style.css".into(),
        "404.html".into(),
    ];
    expected.extend(DOCUMENTS.iter().map(|(id, _)| format!("documents/{id}/")));
    expected.extend(
        TERMS
            .iter()
            .map(|(tax, slug, _, _)| format!("{tax}/{slug}/")),
    );
    expected.extend(YEARS.iter().map(|y| format!("timeline/{y}/")));
    let missing: Vec<&String> = expected
        .iter()
        .filter(|p| !site_file(out, p).is_file())
        .collect();
    assert!(missing.is_empty(), "pages missing: {missing:?}");
    // The stylesheet is the theme's, not an empty placeholder.
    assert!(
        std::fs::metadata(out.join("static/style.css"))
            .unwrap()
            .len()
            > 0
    );
    // No term, year or document page beyond those expected.
    for (dir, expected_children) in [
        (
            "documents",
            DOCUMENTS.iter().map(|(id, _)| id.to_string()).collect(),
        ),
        (
            "topics",
            TERMS
                .iter()
                .filter(|t| t.0 == "topics")
                .map(|t| t.1.to_string())
                .collect(),
        ),
        (
            "organisations",
            TERMS
                .iter()
                .filter(|t| t.0 == "organisations")
                .map(|t| t.1.to_string())
                .collect(),
        ),
        (
            "types",
            TERMS
                .iter()
                .filter(|t| t.0 == "types")
                .map(|t| t.1.to_string())
                .collect(),
        ),
        ("timeline", ids(YEARS)),
    ] {
        let mut found: Vec<String> = std::fs::read_dir(out.join(dir))
            .unwrap()
            .map(|e| e.unwrap())
            .filter(|e| e.file_type().unwrap().is_dir())
            .map(|e| e.file_name().to_string_lossy().into_owned())
            .collect();
        found.sort();
        let mut expected_children: Vec<String> = expected_children;
        expected_children.sort();
        assert_eq!(found, expected_children, "sub-pages of /{dir}/");
    }
    // The alias of the council note is a redirect page to its permanent URL.
    let alias = page(out, "old/council-note/");
    let target = "/documents/council-note-2019-04/";
    let links: Vec<String> = select(&alias, "a[href]")
        .iter()
        .map(|a| a.value().attr("href").unwrap().to_string())
        .collect();
    assert_eq!(links, [target], "alias page links");
    let refresh = select(&alias, "meta[http-equiv=refresh]");
    assert!(
        refresh[0].value().attr("content").unwrap().contains(target),
        "alias refresh target"
    );
}

#[test]
fn internal_links_resolve_at_the_root() {
    let (site, _) = built(&[]);
    let report = check_links(&site.out, BASE_URL);
    report.assert_ok();
    assert!(report.checked > 100, "too few links checked: {report:?}");
    assert!(
        report.fragments_checked > 10,
        "too few fragments: {report:?}"
    );
}

#[test]
fn internal_links_resolve_under_a_sub_path() {
    let (site, _) = built(&["--base-url", SUB_PATH_URL]);
    let report = check_links(&site.out, SUB_PATH_URL);
    report.assert_ok();
    assert!(report.checked > 100, "too few links checked: {report:?}");
    // Spot checks: the links carry the sub-path and the site is still at the root of out.
    let home = page(&site.out, "");
    let stylesheet = select(&home, "link[rel=stylesheet]");
    assert_eq!(
        stylesheet[0].value().attr("href"),
        Some("/archive/static/style.css")
    );
    assert!(site.out.join("static/style.css").is_file());
    assert!(
        !site.out.join("archive").exists(),
        "the sub-path is not a folder of the output"
    );
    let doc = page(&site.out, "documents/council-note-2019-04/");
    let canonical = select(&doc, "link[rel=canonical]");
    assert_eq!(
        canonical[0].value().attr("href"),
        Some("https://example.github.io/archive/documents/council-note-2019-04/")
    );
    let terms: Vec<String> = select(&doc, "ul.inline-terms a")
        .iter()
        .map(|a| a.value().attr("href").unwrap().to_string())
        .collect();
    assert!(
        terms.contains(&"/archive/topics/biometrics/".to_string()),
        "{terms:?}"
    );
    let alias = page(&site.out, "old/council-note/");
    let links: Vec<&str> = select(&alias, "a[href]")
        .iter()
        .map(|a| a.value().attr("href").unwrap())
        .collect();
    assert_eq!(links, ["/archive/documents/council-note-2019-04/"]);
    // Document lists link under the sub-path too.
    let list = page(&site.out, "documents/");
    assert_eq!(
        listed_documents(&list, "/archive/"),
        DOCUMENTS
            .iter()
            .map(|(id, _)| id.to_string())
            .collect::<Vec<_>>()
    );
}

#[test]
fn term_pages_list_exactly_their_documents_newest_first() {
    let (site, _) = built(&[]);
    for (tax, slug, name, docs) in TERMS {
        let html = page(&site.out, &format!("{tax}/{slug}/"));
        assert_eq!(
            texts(&html, "main h1"),
            [*name],
            "heading of /{tax}/{slug}/"
        );
        assert_eq!(
            listed_documents(&html, "/"),
            ids(docs),
            "documents of /{tax}/{slug}/"
        );
    }
}

#[test]
fn taxonomy_indexes_list_every_term_with_its_count() {
    let (site, _) = built(&[]);
    for tax in ["topics", "organisations", "types"] {
        let html = page(&site.out, &format!("{tax}/"));
        let mut found: Vec<(String, String, usize)> = select(&html, "main ul.term-list li")
            .into_iter()
            .map(|li| {
                let a = li.select(&sel("a")).next().expect("term without link");
                let count = li
                    .select(&sel(".count"))
                    .next()
                    .map(text_of)
                    .and_then(|c| c.split_whitespace().next()?.parse().ok())
                    .expect("term without a count");
                (
                    text_of(a),
                    a.value().attr("href").unwrap().to_string(),
                    count,
                )
            })
            .collect();
        found.sort();
        let mut expected: Vec<(String, String, usize)> = TERMS
            .iter()
            .filter(|t| t.0 == tax)
            .map(|(t, slug, name, docs)| (name.to_string(), format!("/{t}/{slug}/"), docs.len()))
            .collect();
        expected.sort();
        assert_eq!(found, expected, "terms of /{tax}/");
    }
}

#[test]
fn document_list_is_newest_first_with_imprecise_dates_as_written() {
    let (site, _) = built(&[]);
    let html = page(&site.out, "documents/");
    assert_eq!(
        listed_documents(&html, "/"),
        DOCUMENTS
            .iter()
            .map(|(id, _)| id.to_string())
            .collect::<Vec<_>>()
    );
    let dates: Vec<(String, String)> = select(&html, "main li.document-item")
        .into_iter()
        .map(|li| {
            let href = li
                .select(&sel("a.doc-title"))
                .next()
                .unwrap()
                .value()
                .attr("href")
                .unwrap();
            let time = li.select(&sel("time")).next().expect("item without date");
            (document_id(href, "/").unwrap(), text_of(time))
        })
        .collect();
    let expected: Vec<(String, String)> = DOCUMENTS
        .iter()
        .map(|(id, d)| (id.to_string(), d.to_string()))
        .collect();
    assert_eq!(dates, expected);
    // On each document page, the date is shown with its precision.
    for (id, display, iso) in [
        ("council-note-2019-04", "April 2019", "2019-04"),
        ("minutes-2019", "2019", "2019"),
        ("frontex-report-2018", "2018", "2018"),
        ("europol-briefing-2020-06-15", "15 June 2020", "2020-06-15"),
    ] {
        let html = page(&site.out, &format!("documents/{id}/"));
        let time = select(&html, "dl.document-meta time");
        assert_eq!(text_of(time[0]), display, "date of {id}");
        assert_eq!(
            time[0].value().attr("datetime"),
            Some(iso),
            "datetime of {id}"
        );
    }
    // The home page lists the latest documents, newest first (latest_documents = 10).
    let home = page(&site.out, "");
    assert_eq!(
        listed_documents(&home, "/"),
        DOCUMENTS
            .iter()
            .map(|(id, _)| id.to_string())
            .collect::<Vec<_>>()
    );
}

#[test]
fn timeline_orders_years_and_dates_and_links_events_to_their_document() {
    let (site, _) = built(&[]);
    let out = &site.out;
    let entry = |kind: &str, iso: &str, id: &str, title: &str| {
        (
            kind.to_string(),
            iso.to_string(),
            id.to_string(),
            title.to_string(),
        )
    };
    let by_year = [
        (
            "2018",
            vec![
                entry(
                    "document",
                    "2018",
                    "frontex-report-2018",
                    "Annual report on border technology",
                ),
                entry(
                    "event",
                    "2018-11",
                    "council-note-2019-04",
                    "Pilot project launched",
                ),
            ],
        ),
        (
            "2019",
            vec![
                entry(
                    "document",
                    "2019",
                    "minutes-2019",
                    "Minutes of the working party",
                ),
                entry(
                    "document",
                    "2019-04",
                    "council-note-2019-04",
                    "Note on facial recognition in policing",
                ),
                entry("document", "2019-04-03", HOSTILE_ID, HOSTILE_TITLE),
                entry(
                    "event",
                    "2019-04-03",
                    "council-note-2019-04",
                    "COSI meeting on facial recognition",
                ),
            ],
        ),
        (
            "2020",
            vec![entry(
                "document",
                "2020-06-15",
                "europol-briefing-2020-06-15",
                "Briefing on artificial intelligence",
            )],
        ),
        (
            "2021",
            vec![entry(
                "event",
                "2021-01",
                "europol-briefing-2020-06-15",
                "Planned deployment",
            )],
        ),
    ];
    let timeline = page(out, "timeline/");
    // Years ascending, in the navigation and in the inline sections.
    let nav: Vec<String> = texts(&timeline, "nav.year-nav a");
    assert_eq!(nav, YEARS);
    let sections: Vec<String> = select(&timeline, "section.timeline-year h2")
        .into_iter()
        .map(text_of)
        .collect();
    assert_eq!(sections, YEARS);
    for (year, expected) in &by_year {
        let year_page = page(out, &format!("timeline/{year}/"));
        let entries = timeline_entries(&year_page, "main");
        assert_eq!(&entries, expected, "entries of /timeline/{year}/");
        let inline = timeline_entries(
            &timeline,
            &format!("section.timeline-year[aria-labelledby=y{year}]"),
        );
        assert_eq!(&inline, expected, "entries of {year} on /timeline/");
        let keys: Vec<_> = entries.iter().map(|e| date_key(&e.1)).collect();
        assert!(keys.windows(2).all(|w| w[0] <= w[1]), "{year}: {keys:?}");
    }
    // Month sections carry the anchors document pages link to.
    let y2019 = page(out, "timeline/2019/");
    let anchors: Vec<&str> = select(&y2019, "section.timeline-month")
        .into_iter()
        .map(|s| s.value().attr("id").unwrap())
        .collect();
    assert_eq!(anchors, ["2019-undated", "2019-04"]);
    let note = page(out, "documents/council-note-2019-04/");
    let event_links: Vec<&str> = select(&note, "section.document-events a")
        .into_iter()
        .map(|a| a.value().attr("href").unwrap())
        .collect();
    assert_eq!(
        event_links,
        ["/timeline/2019/#2019-04", "/timeline/2018/#2018-11"]
    );
    // Year pages link to their neighbours.
    let rel = |html: &Html, r: &str| {
        select(html, &format!("a[rel={r}]"))
            .first()
            .map(|a| a.value().attr("href").unwrap().to_string())
    };
    assert_eq!(rel(&y2019, "prev").as_deref(), Some("/timeline/2018/"));
    assert_eq!(rel(&y2019, "next").as_deref(), Some("/timeline/2020/"));
    let y2018 = page(out, "timeline/2018/");
    assert_eq!(rel(&y2018, "prev"), None);
}

#[test]
fn redactions_render_as_labelled_bars_never_as_brackets() {
    let (site, _) = built(&[]);
    let html = page(&site.out, "documents/council-note-2019-04/");
    let bars = select(&html, ".document-body span.redaction");
    assert_eq!(bars.len(), 2, "redaction bars");
    assert_eq!(bars[0].value().attr("data-ground"), None);
    assert_eq!(bars[1].value().attr("data-ground"), Some("Article 4(1)(b)"));
    assert!(
        text_of(bars[1]).contains("Article 4(1)(b)"),
        "the ground is shown: {}",
        bars[1].html()
    );
    let meta = texts(&html, "dl.document-meta");
    assert!(meta[0].contains("2 redactions"), "header: {meta:?}");
    let page_text: String = html.root_element().text().collect();
    assert!(
        !page_text.to_lowercase().contains("[redacted"),
        "literal marker in the page text"
    );
    // Nowhere in the site: pages, metadata, search index, citations. The search
    // snippets alone show where text was withheld, as the bare placeholder
    // (never a marker with its ground), which the search page draws as a bar.
    let mut placeholders = 0;
    for (path, bytes) in snapshot(&site.out) {
        let mut text = String::from_utf8_lossy(&bytes).to_lowercase();
        // The search page's script, which draws the placeholder, names it too.
        if path.starts_with("search/docs/") || path == "static/search.js" {
            if path.starts_with("search/docs/") {
                placeholders += text.matches("[redacted]").count();
            }
            text = text.replace("[redacted]", "");
        }
        assert!(!text.contains("[redacted"), "literal marker in {path}");
    }
    assert!(placeholders >= 2, "the snippets show the redactions");
}

#[test]
fn footnotes_and_tables_render() {
    let (site, _) = built(&[]);
    let html = page(&site.out, "documents/council-note-2019-04/");
    let refs = select(&html, ".document-body sup.footnote-ref a[href]");
    assert_eq!(refs.len(), 1, "footnote references");
    let target = refs[0].value().attr("href").unwrap();
    let id = target
        .strip_prefix('#')
        .expect("footnote links within the page");
    let note = select(&html, &format!(".document-body [id=\"{id}\"]"));
    assert_eq!(note.len(), 1, "footnote {id}");
    assert!(text_of(note[0]).contains("Comments were due by the end of April."));
    let back = note[0]
        .select(&sel("a[href]"))
        .map(|a| a.value().attr("href").unwrap().to_string())
        .collect::<Vec<_>>();
    let back_id = refs[0].value().attr("id").expect("reference has an id");
    assert!(back.contains(&format!("#{back_id}")), "back link: {back:?}");

    let headers = texts(&html, ".document-body table thead th");
    assert_eq!(headers, ["Member state", "Systems"]);
    let rows: Vec<Vec<String>> = select(&html, ".document-body table tbody tr")
        .into_iter()
        .map(|tr| tr.select(&sel("td")).map(text_of).collect())
        .collect();
    assert_eq!(rows, [["A", "2"], ["B", "1"]]);
    // Links between documents resolve to permanent URLs, with their anchor.
    let links: Vec<&str> = select(&html, ".document-body a[href^='/documents/']")
        .into_iter()
        .map(|a| a.value().attr("href").unwrap())
        .collect();
    assert_eq!(links, ["/documents/frontex-report-2018/#overview"]);
}

#[test]
fn front_matter_html_is_escaped_everywhere() {
    let (site, _) = built(&[]);
    let out = &site.out;
    for file in html_files(out) {
        let raw = std::fs::read_to_string(&file).unwrap();
        let lower = raw.to_lowercase();
        let name = file.strip_prefix(out).unwrap().display().to_string();
        assert!(!lower.contains("<script>alert"), "raw script in {name}");
        assert!(!lower.contains("<b>bold"), "raw <b> in {name}");
        let html = Html::parse_document(&raw);
        for script in select(&html, "script") {
            let v = script.value();
            let body: String = script.text().collect();
            match (v.attr("src"), v.attr("type")) {
                (Some(src), _) => {
                    assert!(body.trim().is_empty(), "{name}: script with src and body");
                    assert!(src.starts_with("/static/"), "{name}: script from {src}");
                }
                (None, Some("application/ld+json")) => {
                    assert!(!body.contains('<'), "{name}: `<` in JSON-LD: {body}");
                    let json: serde_json::Value = serde_json::from_str(&body)
                        .unwrap_or_else(|e| panic!("{name}: JSON-LD does not parse: {e}"));
                    if name.contains(HOSTILE_ID) {
                        assert_eq!(json["name"], HOSTILE_TITLE, "{name}: JSON-LD name");
                    }
                }
                _ => panic!("{name}: inline script: {}", script.html()),
            }
        }
    }
    let doc = page(out, &format!("documents/{HOSTILE_ID}/"));
    assert_eq!(texts(&doc, "h1#doc-title"), [HOSTILE_TITLE]);
    let title: String = select(&doc, "title")[0].text().collect();
    assert!(title.starts_with(HOSTILE_TITLE), "<title>: {title}");
    assert_eq!(texts(&doc, "p.summary"), [HOSTILE_SUMMARY]);
    assert!(
        select(&doc, "p.summary *").is_empty(),
        "markup in the summary"
    );
    assert!(
        select(&doc, "h1#doc-title *").is_empty(),
        "markup in the title"
    );
    let meta = |name: &str| {
        select(&doc, &format!("meta[name=\"{name}\"]"))
            .first()
            .and_then(|m| m.value().attr("content"))
            .map(str::to_string)
    };
    assert_eq!(meta("description").as_deref(), Some(HOSTILE_SUMMARY));
    assert_eq!(meta("citation_title").as_deref(), Some(HOSTILE_TITLE));
    // Lists elsewhere show the title as text.
    for path in [
        "documents/",
        "topics/data-protection/",
        "timeline/2019/",
        "",
    ] {
        let html = page(out, path);
        let hostile_href = format!("/documents/{HOSTILE_ID}/");
        let texts: Vec<String> = select(&html, "main a[href]")
            .into_iter()
            .filter(|a| a.value().attr("href") == Some(hostile_href.as_str()))
            .map(text_of)
            .collect();
        assert!(!texts.is_empty(), "/{path} does not link the document");
        assert!(
            texts.iter().all(|t| t == HOSTILE_TITLE),
            "/{path}: link texts {texts:?}"
        );
    }
}

#[test]
fn drafts_are_excluded_by_default() {
    let (site, run) = built(&[]);
    assert_eq!(parse_summary(&run.stdout, "built").0, DOCUMENTS.len());
    assert!(!site.out.join("documents").join(DRAFT_ID).exists());
    assert!(!site.out.join("topics/draft-topic").exists());
    for (path, bytes) in snapshot(&site.out) {
        let text = String::from_utf8_lossy(&bytes);
        for needle in [DRAFT_ID, "Unfinished draft note", "Draft topic"] {
            assert!(
                !text.contains(needle),
                "the draft leaks into {path}: {needle}"
            );
        }
    }
}

#[test]
fn drafts_are_included_with_the_flag() {
    let (site, run) = built(&["--drafts"]);
    assert_eq!(parse_summary(&run.stdout, "built").0, DOCUMENTS.len() + 1);
    let out = &site.out;
    let doc = page(out, &format!("documents/{DRAFT_ID}/"));
    assert_eq!(texts(&doc, "h1#doc-title"), ["Unfinished draft note"]);
    let mut expected_all: Vec<String> = DOCUMENTS.iter().map(|(id, _)| id.to_string()).collect();
    expected_all.insert(1, DRAFT_ID.to_string());
    assert_eq!(
        listed_documents(&page(out, "documents/"), "/"),
        expected_all
    );
    assert_eq!(
        listed_documents(&page(out, "topics/draft-topic/"), "/"),
        [DRAFT_ID]
    );
    assert_eq!(
        listed_documents(&page(out, "types/note/"), "/"),
        [DRAFT_ID, "council-note-2019-04"]
    );
    assert_eq!(
        listed_documents(&page(out, "organisations/europol/"), "/"),
        [
            "europol-briefing-2020-06-15",
            DRAFT_ID,
            "council-note-2019-04",
            "minutes-2019"
        ]
    );
    check_links(out, BASE_URL).assert_ok();
}

#[test]
fn prints_one_summary_line() {
    let (site, run) = built(&[]);
    let (documents, pages) = parse_summary(&run.stdout, "built");
    assert_eq!(documents, DOCUMENTS.len());
    assert_eq!(pages, count_html(&site.out), "pages = HTML files written");
    assert!(run.stderr.is_empty(), "stderr: {}", run.stderr);

    // `--quiet` drops the progress, never the result. Run as a user would
    // (the harness turns progress off for every other test): on a pipe, a
    // build prints a line per stage, and with `--quiet` none.
    let as_a_user = |output: &Path, extra: &[&str]| {
        let out = assert_cmd::Command::cargo_bin("annals")
            .unwrap()
            .env_remove("ANNALS_PROGRESS")
            .args(["build", "--root"])
            .arg(&site.root)
            .arg("--output")
            .arg(output)
            .args(extra)
            .output()
            .unwrap();
        assert!(out.status.success(), "{out:?}");
        let text = |b: &[u8]| String::from_utf8_lossy(b).into_owned();
        (text(&out.stdout), text(&out.stderr))
    };
    let (_, progress) = as_a_user(&site.tmp.path().join("loud-out"), &[]);
    assert!(
        progress
            .lines()
            .any(|l| l.trim_start().starts_with("render ")),
        "no stage lines without --quiet: {progress:?}"
    );
    let quiet_out = site.tmp.path().join("quiet-out");
    let (stdout, stderr) = as_a_user(&quiet_out, &["--quiet"]);
    let (documents, pages) = parse_summary(&stdout, "built");
    assert_eq!(
        (documents, pages),
        (DOCUMENTS.len(), count_html(&quiet_out))
    );
    assert!(stderr.is_empty(), "--quiet printed {stderr:?}");
}

#[test]
fn building_twice_gives_identical_output() {
    let (site, _) = built(&[]);
    let first = snapshot(&site.out);
    let second_out = site.tmp.path().join("out2");
    site.build_into(&second_out, &[]).assert_success();
    assert_same_tree(&first, &snapshot(&second_out), "two builds");
    // Rebuilding into the same folder changes nothing either.
    site.build(&[]).assert_success();
    assert_same_tree(&first, &snapshot(&site.out), "rebuild in place");
}

#[test]
fn rebuild_replaces_the_previous_site_without_leftovers() {
    let (site, _) = built(&[]);
    assert!(site.out.join("documents/minutes-2019/index.html").is_file());
    std::fs::remove_file(site.root.join("content/documents/2019/minutes-2019.md")).unwrap();
    site.build(&[]).assert_success();
    assert!(
        !site.out.join("documents/minutes-2019").exists(),
        "stale page kept"
    );
    assert_eq!(
        listed_documents(&page(&site.out, "topics/biometrics/"), "/"),
        [
            "europol-briefing-2020-06-15",
            "council-note-2019-04",
            "frontex-report-2018"
        ]
    );
    check_links(&site.out, BASE_URL).assert_ok();
    // Only the previous site is kept beside the output, as the spare the next
    // build updates instead of writing every file again.
    let names = site.tmp_listing();
    assert_eq!(
        names.into_iter().collect::<Vec<_>>(),
        [".out.annals-spare", "out", "site"],
        "staging or old folders left beside the output"
    );
    let spare = site.tmp.path().join(".out.annals-spare");
    assert!(spare.join("documents/minutes-2019/index.html").is_file());
}

#[test]
fn default_output_is_public_under_the_root() {
    let site = Site::new("basic");
    run(&[
        std::ffi::OsStr::new("build"),
        std::ffi::OsStr::new("--root"),
        site.root.as_os_str(),
    ])
    .assert_success();
    assert!(site.root.join("public/index.html").is_file());
    assert!(site
        .root
        .join("public/documents/minutes-2019/index.html")
        .is_file());
    // And building again replaces it (it is marked as annals output).
    run(&[
        std::ffi::OsStr::new("build"),
        std::ffi::OsStr::new("--root"),
        site.root.as_os_str(),
    ])
    .assert_success();
}

#[test]
fn check_renders_everything_but_writes_nothing() {
    let site = Site::new("basic");
    let before = snapshot(site.tmp.path());
    let run = site.check(&[]);
    run.assert_success();
    let (documents, pages) = parse_summary(&run.stdout, "checked");
    assert_eq!(documents, DOCUMENTS.len());
    assert_same_tree(&before, &snapshot(site.tmp.path()), "check");
    site.build(&[]).assert_success();
    assert_eq!(
        pages,
        count_html(&site.out),
        "check and build count the same pages"
    );
}

/// The link checker itself finds what it must: a missing page, a missing anchor, a
/// link outside the base path and a relative link.
#[test]
fn link_checker_reports_broken_links() {
    let (site, _) = built(&[]);
    let out = &site.out;
    std::fs::remove_dir_all(out.join("topics/border-control")).unwrap();
    let extra = "<a href=\"/documents/minutes-2019/#no-such-anchor\">x</a>\
                 <a href=\"#nowhere\">y</a>\
                 <a href=\"../relative/\">z</a>\
                 <a href=\"/timeline/2019/%23\">w</a>";
    let page_file = out.join("documents/index.html");
    let text = std::fs::read_to_string(&page_file).unwrap();
    std::fs::write(
        &page_file,
        text.replace("</main>", &format!("{extra}</main>")),
    )
    .unwrap();
    let report = check_links(out, BASE_URL);
    let has = |needle: &str| report.problems.iter().any(|p| p.contains(needle));
    assert!(has("topics/border-control/"), "{:#?}", report.problems);
    assert!(has("no-such-anchor"), "{:#?}", report.problems);
    assert!(has("#nowhere"), "{:#?}", report.problems);
    assert!(has("../relative/"), "{:#?}", report.problems);
    assert!(has("%23"), "{:#?}", report.problems);
    // Under another base path, every root link of this build is outside it.
    let other = check_links(out, "/archive/");
    assert!(
        other
            .problems
            .iter()
            .any(|p| p.contains("outside the base path")),
        "{:#?}",
        other.problems
    );
}

/// An entity whose alias differs from its name only in case (`CEPOL` / `Cepol`) is
/// redundant, not an error: terms compare case-insensitively. The bundled archive
/// has two such entities (cepol.md, eu-lisa.md).
#[test]
fn entity_alias_differing_only_in_case_is_accepted() {
    let site = Site::new("entity_alias_case");
    let run = site.build(&[]);
    run.assert_success();
    let html = page(&site.out, "organisations/cepol/");
    assert_eq!(texts(&html, "main h1"), ["CEPOL"]);
    assert_eq!(listed_documents(&html, "/"), ["training-note"]);
    check_links(&site.out, "/").assert_ok();
}

/// An entity's lists of what mentions it, what it sent and what it received
/// are cut at the limit like a term's, each with the search filter finding the
/// rest; `/correspondence/` cuts its busiest pairs first to stay within it.
#[test]
fn an_entitys_lists_and_the_correspondence_are_cut_with_links_to_search() {
    let site = Site::new("crosslinks");
    let linker = site.root.join("content/documents/2019/linker.md");
    let mut text = std::fs::read_to_string(&linker).unwrap();
    text.push_str("\nEuropol was consulted.\n");
    std::fs::write(&linker, text).unwrap();
    let config = site.root.join("site.toml");
    let toml = std::fs::read_to_string(&config).unwrap();
    std::fs::write(&config, format!("{toml}document_list_limit = 1\n")).unwrap();
    site.build(&[]).assert_success();
    check_links(&site.out, "/").assert_ok();
    let section = |html: &Html, name: &str, part: &str| {
        texts(
            html,
            &format!("section[aria-labelledby='{name}-heading'] {part}"),
        )
    };
    let hrefs = |html: &Html, css: &str| -> Vec<String> {
        select(html, css)
            .iter()
            .map(|a| a.value().attr("href").unwrap().to_string())
            .collect()
    };
    let home = page(&site.out, "organisations/dg-home/");
    assert_eq!(
        linked_ids(
            &home,
            "section[aria-labelledby='sent-heading'] a.doc-title",
            "/"
        ),
        ["linker-2019"]
    );
    assert_eq!(section(&home, "sent", ".count"), ["the 1 newest of 2"]);
    assert_eq!(
        section(&home, "sent", "p.list-more"),
        ["1 older document: all 2 in search, newest first."]
    );
    assert_eq!(
        linked_ids(
            &home,
            "section[aria-labelledby='received-heading'] a.doc-title",
            "/"
        ),
        ["sibling-2019"]
    );
    assert_eq!(section(&home, "received", ".count"), ["the 1 newest of 2"]);
    assert_eq!(
        hrefs(&home, "p.list-more a"),
        ["/search/?sender=dg-home", "/search/?recipient=dg-home"]
    );
    let facts = texts(&home, "ul.entity-facts li");
    assert!(facts.contains(&"2 sent".to_string()), "{facts:?}");
    assert!(facts.contains(&"2 received".to_string()), "{facts:?}");
    let europol = page(&site.out, "organisations/europol/");
    assert_eq!(
        linked_ids(
            &europol,
            "section[aria-labelledby='mentioned-heading'] a.doc-title",
            "/"
        ),
        ["linker-2019"]
    );
    assert_eq!(
        section(&europol, "mentioned", ".count"),
        ["the 1 newest of 2"]
    );
    assert_eq!(
        section(&europol, "mentioned", "p.list-more"),
        ["1 older document: every document mentioning Europol in search, newest first."]
    );
    assert!(hrefs(&europol, "p.list-more a").contains(&"/search/?mentions=europol".to_string()));

    // Three documents link to the target, the newest from seven passages: its
    // page shows those seven, and the search page finds all three.
    let target = page(&site.out, "documents/target-2016/");
    let backlinks = "section[aria-labelledby='backlinks-heading']";
    let linking: Vec<String> = linked_ids(&target, &format!("{backlinks} li > a"), "/");
    assert_eq!(linking, ["linker-2019"; 7]);
    assert_eq!(
        texts(&target, &format!("{backlinks} h2 .count")),
        ["the 1 newest of 3 documents"]
    );
    assert_eq!(
        texts(&target, &format!("{backlinks} p.list-more")),
        ["2 older documents: all 3 in search, newest first."]
    );
    assert_eq!(
        hrefs(&target, &format!("{backlinks} p.list-more a")),
        ["/search/?cites=target-2016"]
    );
    // The sibling's one linking document is within the limit.
    let sibling = page(&site.out, "documents/sibling-2019/");
    assert_eq!(
        linked_ids(&sibling, &format!("{backlinks} li > a"), "/"),
        ["linker-2019"]
    );
    assert!(select(&sibling, &format!("{backlinks} .count")).is_empty());
    assert!(select(&sibling, &format!("{backlinks} p.list-more")).is_empty());

    // Four pairs and a limit of 1: no pair lists a document, each links all of its.
    let pairs = page(&site.out, "correspondence/");
    assert!(texts(&pairs, "header.page-intro p")[0]
        .ends_with("Each pair links its documents: the search page finds all of them."));
    assert!(select(&pairs, "main ol.document-list").is_empty());
    assert!(select(&pairs, "main p.empty").is_empty());
    assert_eq!(
        hrefs(&pairs, "section.correspondence-pair p.list-more a"),
        [
            "/search/?sender=dg-home&recipient=europol",
            "/search/?sender=dg-home&recipient=edps",
            "/search/?sender=edps&recipient=dg-home",
            "/search/?sender=europol&recipient=dg-home",
        ]
    );
    assert_eq!(
        texts(&pairs, "section.correspondence-pair p.list-more")[..2],
        ["all 2 in search, newest first.", "the document in search."]
    );
    // A limit of 4 lists one of each pair, the busiest cut to its newest.
    std::fs::write(&config, format!("{toml}document_list_limit = 4\n")).unwrap();
    site.build(&[]).assert_success();
    let pairs = page(&site.out, "correspondence/");
    assert!(texts(&pairs, "header.page-intro p")[0]
        .ends_with("Each pair lists its 1 newest: the search page finds all of them."));
    assert_eq!(
        linked_ids(&pairs, "section.correspondence-pair a.doc-title", "/"),
        [
            "linker-2019",
            "linker-2019",
            "mentions-2017",
            "sibling-2019"
        ]
    );
    assert_eq!(
        texts(&pairs, "section.correspondence-pair p.list-more"),
        ["1 older document: all 2 in search, newest first."]
    );
    // Within the limit nothing is cut.
    std::fs::write(&config, &toml).unwrap();
    site.build(&[]).assert_success();
    let pairs = page(&site.out, "correspondence/");
    assert_eq!(
        select(&pairs, "section.correspondence-pair a.doc-title").len(),
        5
    );
    assert!(texts(&pairs, "header.page-intro p")[0].ends_with("the busiest pairs first."));
    assert!(select(&pairs, "p.list-more").is_empty());
    assert!(select(&page(&site.out, "organisations/dg-home/"), "p.list-more").is_empty());
    let target = page(&site.out, "documents/target-2016/");
    assert_eq!(
        linked_ids(&target, &format!("{backlinks} li > a"), "/").len(),
        9,
        "every passage of the three documents"
    );
    assert!(select(&target, &format!("{backlinks} p.list-more")).is_empty());
}

/// However large the archive, no listing page lists more than
/// `document_list_limit` documents in one list (`/correspondence/` in all):
/// only a year's timeline page lists every document of its year (a term's
/// timeline lists its entries up to 300, then only counts them). An archive of
/// twelve documents filed under one topic and one organisation, sent by one
/// entity (by its name and its alias) to another, each mentioning the sender,
/// with a limit of 3.
#[test]
fn no_listing_page_lists_more_than_the_limit() {
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path().join("site");
    let write = |path: &str, text: String| {
        let path = root.join(path);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, text).unwrap();
    };
    write(
        "site.toml",
        "title = \"Limits\"\nbase_url = \"https://example.org/\"\nlanguage = \"en\"\n\
         latest_documents = 3\ndocument_list_limit = 3\n"
            .into(),
    );
    write(
        "content/organisations/europol.md",
        "---\nname: Europol\naliases: [European Police Office]\n---\n".into(),
    );
    write(
        "content/organisations/frontex.md",
        "---\nname: Frontex\n---\n".into(),
    );
    for n in 1..=12 {
        let sender = if n % 2 == 0 {
            "Europol"
        } else {
            "European Police Office"
        };
        write(
            &format!("content/documents/note-{n:02}.md"),
            format!(
                "---\nid: note-{n:02}\ntitle: Note {n}\ndate: {year}-{month:02}-10\nfrom: {sender}\n\
                 to: Frontex\ntopics: [migration]\norganisations: [Frontex]\n\
                 events:\n  - date: {year}-{month:02}-01\n    title: Europol meeting {n}\n---\n\
                 Europol wrote to Frontex, as in [the old note](doc:old).\n",
                year = 2019 + n / 7,
                month = n % 12 + 1
            ),
        );
    }
    // Over 120 years the charts count by decade and list no entries: a term
    // page then lists its events itself.
    write(
        "content/documents/old.md",
        "---\nid: old\ntitle: Old\ndate: 1880-01-01\n---\nText.\n".into(),
    );
    let out = tmp.path().join("out");
    let run = run(&[
        "build",
        "--root",
        root.to_str().unwrap(),
        "--output",
        out.to_str().unwrap(),
        "--quiet",
    ]);
    run.assert_success();
    check_links(&out, "/").assert_ok();
    let mut checked = Vec::new();
    for file in html_files(&out) {
        let path = file
            .strip_prefix(&out)
            .unwrap()
            .to_string_lossy()
            .replace('\\', "/");
        let year_page =
            path.starts_with("timeline/") && path.len() == "timeline/2019/index.html".len();
        if path.starts_with("documents/") && path != "documents/index.html" || year_page {
            continue;
        }
        let html = Html::parse_document(&std::fs::read_to_string(&file).unwrap());
        let lists: Vec<usize> = select(&html, "main ol.document-list")
            .iter()
            .map(|list| list.select(&sel("a.doc-title")).count())
            .collect();
        assert!(lists.iter().all(|&n| n <= 3), "{path} lists {lists:?}");
        if path == "correspondence/index.html" {
            assert!(lists.iter().sum::<usize>() <= 3, "{path} lists {lists:?}");
        }
        if !lists.is_empty() {
            checked.push(path);
        }
    }
    // The pages whose lists were cut, each with a way to the rest.
    for page_path in [
        "documents/index.html",
        "topics/migration/index.html",
        "organisations/frontex/index.html",
        "organisations/europol/index.html",
        "correspondence/index.html",
    ] {
        assert!(
            checked.iter().any(|p| p == page_path),
            "{page_path}: {checked:?}"
        );
        let html = Html::parse_document(&std::fs::read_to_string(out.join(page_path)).unwrap());
        assert!(!select(&html, "p.list-more a").is_empty(), "{page_path}");
    }
    // Twelve notes link to the old one: its page quotes the newest three.
    let old = page(&out, "documents/old/");
    let backlinks = "section[aria-labelledby='backlinks-heading']";
    assert_eq!(
        linked_ids(&old, &format!("{backlinks} li > a"), "/"),
        ["note-11", "note-10", "note-09"]
    );
    assert_eq!(
        texts(&old, &format!("{backlinks} p.list-more")),
        ["9 older documents: all 12 in search, newest first."]
    );
    // Europol's page: 12 sent (by name or alias), 12 mentioning it, 3 of each listed.
    let europol = page(&out, "organisations/europol/");
    let facts = texts(&europol, "ul.entity-facts li");
    assert!(facts.contains(&"12 sent".to_string()), "{facts:?}");
    assert!(facts.contains(&"12 events".to_string()), "{facts:?}");
    let events = "section[aria-labelledby='events-heading']";
    let titles = texts(&europol, &format!("{events} .event-title"));
    // Note 12 is dated January 2020: notes 9 to 11 are the last three months.
    assert_eq!(
        titles,
        [
            "Europol meeting 9",
            "Europol meeting 10",
            "Europol meeting 11"
        ]
    );
    assert_eq!(
        texts(&europol, &format!("{events} .count")),
        ["the 3 newest of 12, oldest first"]
    );
    assert_eq!(
        texts(&europol, &format!("{events} p.list-more")),
        ["9 earlier events: on the pages of their years on the timeline."]
    );
    assert!(
        facts.contains(&"mentioned in 12 more".to_string()),
        "{facts:?}"
    );
    // Written by its name or its alias, Europol is one sender: one pair, whose
    // link finds what it counts.
    let pairs = page(&out, "correspondence/");
    assert_eq!(
        texts(&pairs, "section.correspondence-pair h2"),
        ["Europol → to Frontex 12 documents"]
    );
    assert_eq!(
        texts(&pairs, "section.correspondence-pair p.list-more"),
        ["9 older documents: all 12 in search, newest first."]
    );
    let year = page(&out, "timeline/2019/");
    assert_eq!(
        select(&year, "main li.timeline-document").len(),
        6,
        "a year lists all of its documents"
    );
}

/// `/correspondence/` groups senders and recipients as the search page's
/// filters, which each pair links, find them: by slug, so that two spellings
/// differing only in punctuation or case are one correspondent.
#[test]
fn correspondents_are_grouped_as_the_search_filters_find_them() {
    let site = Site::new("basic");
    for (n, from) in ["EU-Council", "EU Council", "eu council"]
        .iter()
        .enumerate()
    {
        site.write(
            &format!("content/documents/2021/pair-{n}.md"),
            &format!("---\nid: pair-{n}\ntitle: Pair {n}\ndate: 2021-0{}-01\nfrom: {from}\nto: Frontex\n---\nText.\n", n + 1),
        );
    }
    site.build(&[]).assert_success();
    let pairs = page(&site.out, "correspondence/");
    let headings = texts(&pairs, "section.correspondence-pair h2");
    let council: Vec<&String> = headings.iter().filter(|h| h.contains("Frontex")).collect();
    // Named as first written: documents are newest first.
    assert_eq!(council, ["eu council → to Frontex 3 documents"]);
}

#[test]
fn a_long_document_list_shows_the_newest_and_links_every_year() {
    let site = Site::new("basic");
    let config = site.root.join("site.toml");
    let mut toml = std::fs::read_to_string(&config).unwrap();
    toml.push_str("document_list_limit = 2\n");
    std::fs::write(&config, &toml).unwrap();
    site.build(&[]).assert_success();
    let list = page(&site.out, "documents/");
    let newest: Vec<String> = DOCUMENTS[..2]
        .iter()
        .map(|(id, _)| id.to_string())
        .collect();
    assert_eq!(listed_documents(&list, "/"), newest);
    let intro = texts(&list, "header.page-intro p");
    assert!(
        intro[0].starts_with("The 2 newest of 5 documents."),
        "{intro:?}"
    );
    // Every year with documents links to its page, where the rest are listed.
    let years: Vec<(String, String)> = select(&list, "nav.documents-by-year a")
        .iter()
        .map(|a| (a.value().attr("href").unwrap().to_string(), text_of(*a)))
        .collect();
    assert_eq!(
        years,
        [
            ("/timeline/2018/".to_string(), "2018 1 document".to_string()),
            (
                "/timeline/2019/".to_string(),
                "2019 3 documents".to_string()
            ),
            ("/timeline/2020/".to_string(), "2020 1 document".to_string()),
        ]
    );
    assert_eq!(
        texts(&list, "p.list-more"),
        ["3 older documents: on the page of their year, above, and on the timeline."]
    );
    let year = page(&site.out, "timeline/2018/");
    assert!(!select(&year, "a[href='/documents/frontex-report-2018/']").is_empty());
    // A term's list likewise, its rest found by the search page's filter.
    let term = page(&site.out, "topics/biometrics/");
    assert_eq!(
        listed_documents(&term, "/"),
        ["europol-briefing-2020-06-15", "council-note-2019-04"]
    );
    assert_eq!(
        texts(
            &term,
            "section[aria-labelledby='filed-heading'] .section-head .count"
        ),
        ["the 2 newest of 4"]
    );
    assert_eq!(
        texts(&term, "section[aria-labelledby='filed-heading'] p.list-more"),
        ["2 older documents: all 4 in search, newest first, and on the pages of their years on the timeline."]
    );
    let search: Vec<&str> = select(&term, "p.list-more a")
        .iter()
        .map(|a| a.value().attr("href").unwrap())
        .collect();
    assert_eq!(search, ["/search/?topic=biometrics", "/timeline/"]);
    assert!(texts(&term, "ul.entity-facts li")[0].starts_with("4 documents filed"));
    let org = page(&site.out, "organisations/europol/");
    assert!(select(&org, "p.list-more a")
        .iter()
        .any(|a| a.value().attr("href") == Some("/search/?org=europol")));

    // 0 lists every document, as does an archive within the limit (the default).
    std::fs::write(
        &config,
        toml.replace("document_list_limit = 2", "document_list_limit = 0"),
    )
    .unwrap();
    site.build(&[]).assert_success();
    let list = page(&site.out, "documents/");
    assert_eq!(listed_documents(&list, "/").len(), DOCUMENTS.len());
    assert!(select(&list, "nav.documents-by-year").is_empty());
    assert!(texts(&list, "header.page-intro p")[0].starts_with("5 documents, newest first."));
    let term = page(&site.out, "topics/biometrics/");
    assert_eq!(listed_documents(&term, "/").len(), 4);
    assert!(select(&term, "p.list-more").is_empty());
}

/// A base URL without a host (for a local preview) builds, with a note that
/// what is meant to be cited elsewhere then carries site-relative URLs.
#[test]
fn a_base_url_without_a_host_is_noted() {
    let site = Site::new("basic");
    let run = site.build(&["--base-url", "/"]);
    run.assert_success();
    assert!(
        run.stderr.contains("note: the base URL has no host"),
        "{}",
        run.stderr
    );
    let run = site.build(&[]);
    run.assert_success();
    assert!(!run.stderr.contains("no host"), "{}", run.stderr);
}
