//! Cross-links (issue #5), checked on built pages: links between documents in every
//! form and under a sub-path, link errors with their positions, reference auto-links,
//! entity mentions and entity pages, backlinks, related documents and correspondence.
//! Fixtures: `tests/fixtures/crosslinks/` (with `crosslinks_broken/` laid over it for
//! the errors) and `tests/fixtures/related/`; the bundled archive is checked too.

mod common;

use common::*;
use scraper::{ElementRef, Html};
use std::ffi::OsStr;
use std::path::{Path, PathBuf};

/// Builds the `crosslinks` fixture (with extra arguments); returns the site and its output.
fn built(extra: &[&str]) -> (Site, PathBuf) {
    let site = Site::new("crosslinks");
    site.build(extra).assert_success();
    let out = site.out.clone();
    (site, out)
}

/// The `.document-body` of a document page.
fn body<'a>(html: &'a Html) -> ElementRef<'a> {
    let bodies = select(html, "main .document-body");
    assert_eq!(bodies.len(), 1, "one document body per page");
    bodies[0]
}

/// `(href, text)` of every link inside `el` matching `css`.
fn links_in(el: ElementRef<'_>, css: &str) -> Vec<(String, String)> {
    el.select(&sel(css))
        .map(|a| (a.value().attr("href").unwrap_or("").to_string(), text_of(a)))
        .collect()
}

/// The `<dd>` after the `<dt>` named `name` in the document header, if any.
fn meta_entry<'a>(html: &'a Html, name: &str) -> Option<ElementRef<'a>> {
    let dt = select(html, "dl.document-meta > dt")
        .into_iter()
        .find(|dt| text_of(*dt) == name)?;
    dt.next_siblings()
        .filter_map(ElementRef::wrap)
        .find(|e| e.value().name() == "dd")
}

/// The titles of the documents listed in the section labelled by `heading_id`.
fn section_documents(html: &Html, heading_id: &str) -> Vec<String> {
    texts(
        html,
        &format!("section[aria-labelledby={heading_id}] ol.document-list a.doc-title"),
    )
}

// ---------------------------------------------------------------- links

/// Every form of link in `linker-2019`, with the URL it must become under `base`.
fn expected_links(base: &str) -> Vec<(String, String)> {
    [
        ("documents/target-2016/", "by id"),
        ("documents/target-2016/#scope", "scope"),
        ("documents/target-2016/#p4.2", "4.2"),
        ("documents/target-2016/#p2", "second"),
        ("documents/target-2016/", "the file"),
        ("documents/sibling-2019/#p1", "the sibling"),
        ("documents/target-2016/#p1", "one"),
        ("documents/target-2016/#p4.1", "two"),
        ("documents/target-2016/#scope", "the scope"),
    ]
    .iter()
    .map(|(path, text)| (format!("{base}{path}"), text.to_string()))
    .collect()
}

#[test]
fn links_in_every_form_become_permanent_urls() {
    let (_site, out) = built(&[]);
    let html = page(&out, "documents/linker-2019/");
    let found = links_in(body(&html), "a:not(.pin)");
    assert_eq!(found, expected_links("/"));
    // The targets exist: the heading id, the source-numbered and running paragraphs.
    let target = page(&out, "documents/target-2016/");
    let ids = ids_of(&target);
    for id in ["scope", "p4.1", "p4.2", "p1", "p2"] {
        assert!(ids.contains(id), "target-2016 has no #{id}");
    }
    assert_eq!(
        texts(&target, "main .document-body p#p2"),
        ["¶Another unnumbered paragraph."]
    );
    assert_eq!(
        texts(&target, "main .document-body p#p4\\.2"),
        ["¶4.2. The second numbered paragraph."]
    );
    // The sibling's relative link with an anchor, from another folder.
    let sibling = page(&out, "documents/sibling-2019/");
    assert_eq!(
        links_in(body(&sibling), "a:not(.pin):not(.mention)"),
        [(
            "/documents/target-2016/#p1".to_string(),
            "the communication".to_string()
        )]
    );
    check_links(&out, "https://example.org/").assert_ok();
}

#[test]
fn links_carry_a_sub_path_base() {
    let base_url = "https://example.org/sub/path/";
    let (_site, out) = built(&["--base-url", base_url]);
    let html = page(&out, "documents/linker-2019/");
    assert_eq!(
        links_in(body(&html), "a:not(.pin)"),
        expected_links("/sub/path/")
    );
    let mentions = page(&out, "documents/mentions-2017/");
    let auto: Vec<String> = links_in(body(&mentions), "a.mention")
        .into_iter()
        .map(|(href, _)| href)
        .collect();
    assert_eq!(
        auto,
        [
            "/sub/path/organisations/europol/",
            "/sub/path/documents/target-2016/",
            "/sub/path/organisations/eu-lisa/"
        ]
    );
    let report = check_links(&out, base_url);
    report.assert_ok();
    assert!(report.fragments_checked > 0, "no #fragment was checked");
}

// ---------------------------------------------------------------- link errors

/// The four broken links of `crosslinks_broken`, as `file:line:col` and message.
fn expected_link_errors() -> Vec<(String, usize, Option<usize>, String)> {
    let file = "content/documents/2020/broken.md".to_string();
    vec![
        (
            file.clone(),
            6,
            Some(7),
            "link to unknown document id `no-such-document`".to_string(),
        ),
        (
            file.clone(),
            8,
            Some(27),
            "link to `../2016/missing.md`: content/documents/2016/missing.md is not a document of the archive"
                .to_string(),
        ),
        (
            file.clone(),
            10,
            // `- An é then [`: the column counts characters, not bytes.
            Some(13),
            "link to `doc:target-2016#p9.9`: document `target-2016` has no anchor `#p9.9`"
                .to_string(),
        ),
        (
            file,
            12,
            Some(12),
            "link to unknown document id `gone`".to_string(),
        ),
    ]
}

fn assert_link_errors(run: &Run) {
    run.assert_exit_1();
    let found: Vec<(String, usize, Option<usize>, String)> = diagnostics(&run.stderr)
        .into_iter()
        .map(|d| (d.file.replace('\\', "/"), d.line, d.column, d.message))
        .collect();
    assert_eq!(found, expected_link_errors(), "stderr:\n{}", run.stderr);
    assert_eq!(problem_count(&run.stderr), 4, "stderr:\n{}", run.stderr);
    // Each is shown with its source line.
    assert!(
        run.stderr
            .contains("- An é then [unknown anchor](doc:target-2016#p9.9)."),
        "{}",
        run.stderr
    );
}

#[test]
fn broken_links_are_all_reported_at_their_position() {
    let site = Site::new("crosslinks");
    site.overlay_content("crosslinks_broken");
    let run = site.build(&[]);
    assert_link_errors(&run);
    assert!(!site.out.exists(), "a failed build wrote {:?}", site.out);
}

#[test]
fn check_reports_the_same_link_errors() {
    let site = Site::new("crosslinks");
    site.overlay_content("crosslinks_broken");
    let run = site.check(&[]);
    assert_link_errors(&run);
}

// ---------------------------------------------------------------- reference auto-links

#[test]
fn references_link_their_first_plain_mention_only() {
    let (_site, out) = built(&[]);
    let html = page(&out, "documents/mentions-2017/");
    let body = body(&html);
    let to_target: Vec<(String, String)> = links_in(body, "a")
        .into_iter()
        .filter(|(href, _)| href.starts_with("/documents/"))
        .collect();
    assert_eq!(
        to_target,
        [(
            "/documents/target-2016/".to_string(),
            "COM(2016) 205".to_string()
        )],
        "one link, on the first plain mention"
    );
    // It is in the paragraph after the code, heading, link and redaction mentions.
    let first = select(
        &html,
        "main .document-body p a.mention[href=\"/documents/target-2016/\"]",
    );
    assert_eq!(first.len(), 1);
    let paragraph = first[0]
        .ancestors()
        .filter_map(ElementRef::wrap)
        .find(|e| e.value().name() == "p")
        .expect("mention inside a paragraph");
    assert!(
        text_of(paragraph)
            .contains("The European Police Office and COM(2016) 205 appear here first"),
        "{}",
        text_of(paragraph)
    );
    for css in [
        "h2 a",
        "code a",
        "pre a",
        ".redaction a",
        "a a",
        "a[href=\"https://example.com/\"] a",
    ] {
        assert!(
            select(&html, &format!("main .document-body {css}")).is_empty(),
            "{css}"
        );
    }
    // The mention is a backlink of the target, with its passage.
    let target = page(&out, "documents/target-2016/");
    assert!(
        backlinks(&target)
            .iter()
            .any(|b| b.0 == "/documents/mentions-2017/" && b.1 == "/documents/mentions-2017/#p4"),
        "{:?}",
        backlinks(&target)
    );
}

#[test]
fn reference_auto_links_can_be_turned_off() {
    let site = Site::new("crosslinks");
    let toml = site.root.join("site.toml");
    let text = std::fs::read_to_string(&toml).unwrap();
    std::fs::write(
        &toml,
        format!("{text}\n[mentions]\nlink_references = false\n"),
    )
    .unwrap();
    site.build(&[]).assert_success();
    let html = page(&site.out, "documents/mentions-2017/");
    let to_documents: Vec<(String, String)> = links_in(body(&html), "a")
        .into_iter()
        .filter(|(href, _)| href.contains("/documents/"))
        .collect();
    assert!(to_documents.is_empty(), "{to_documents:?}");
    // Entities are still linked.
    assert_eq!(select(&html, "main .document-body a.mention").len(), 2);
    let target = page(&site.out, "documents/target-2016/");
    assert!(
        !backlinks(&target)
            .iter()
            .any(|b| b.0 == "/documents/mentions-2017/"),
        "{:?}",
        backlinks(&target)
    );
}

// ---------------------------------------------------------------- entity mentions

#[test]
fn entities_link_on_their_first_whole_word_mention() {
    let (_site, out) = built(&[]);
    let html = page(&out, "documents/mentions-2017/");
    let mentions: Vec<(String, String)> = links_in(body(&html), "a.mention")
        .into_iter()
        .filter(|(href, _)| href.contains("/organisations/"))
        .collect();
    // `Europolitan`, `EUROPOL` (case-sensitive by default), `eu-LISAs`, the image's
    // alt text and a raw HTML link come first but are not mentions; code, the heading,
    // the link and the redaction are never looked at. The alias is linked, and only
    // once.
    assert_eq!(
        mentions,
        [
            (
                "/organisations/europol/".to_string(),
                "European Police Office".to_string()
            ),
            ("/organisations/eu-lisa/".to_string(), "EU-LISA".to_string()),
        ]
    );
    let image = select(&html, "main .document-body img");
    assert_eq!(image.len(), 1);
    assert_eq!(image[0].value().attr("alt"), Some("Europol emblem"));
    // The header lists what the text mentions, in order of first mention.
    let mentioned = meta_entry(&html, "Mentioned").expect("a Mentioned entry");
    assert_eq!(
        links_in(mentioned, "a"),
        [
            ("/organisations/europol/".to_string(), "Europol".to_string()),
            ("/organisations/eu-lisa/".to_string(), "eu-LISA".to_string()),
        ]
    );
    // And so does its schema.org JSON-LD.
    let ld: String = select(&html, "script[type=\"application/ld+json\"]")[0]
        .text()
        .collect();
    let ld: serde_json::Value = serde_json::from_str(&ld).unwrap_or_else(|e| panic!("{e}: {ld}"));
    assert_eq!(
        ld["mentions"],
        serde_json::json!([
            {"@type": "Organization", "name": "Europol"},
            {"@type": "Organization", "name": "eu-LISA"}
        ])
    );
    // A document filed under an entity (by an alias) and mentioning it names it once.
    let sibling = page(&out, "documents/sibling-2019/");
    let ld: String = select(&sibling, "script[type=\"application/ld+json\"]")[0]
        .text()
        .collect();
    let ld: serde_json::Value = serde_json::from_str(&ld).unwrap_or_else(|e| panic!("{e}: {ld}"));
    assert_eq!(
        ld["mentions"],
        serde_json::json!([{"@type": "Organization", "name": "European Police Office"}])
    );
    // A document mentioning nothing has no such entry.
    let target = page(&out, "documents/target-2016/");
    assert!(meta_entry(&target, "Mentioned").is_none());
}

#[test]
fn entity_case_folding_is_configurable() {
    let site = Site::new("crosslinks");
    let toml = site.root.join("site.toml");
    let text = std::fs::read_to_string(&toml).unwrap();
    std::fs::write(
        &toml,
        format!("{text}\n[mentions]\ncase_insensitive = true\n"),
    )
    .unwrap();
    site.build(&[]).assert_success();
    let html = page(&site.out, "documents/mentions-2017/");
    let mentions: Vec<(String, String)> = links_in(body(&html), "a.mention")
        .into_iter()
        .filter(|(href, _)| href.contains("/organisations/"))
        .collect();
    assert_eq!(
        mentions,
        [
            ("/organisations/europol/".to_string(), "EUROPOL".to_string()),
            ("/organisations/eu-lisa/".to_string(), "EU-LISA".to_string()),
        ]
    );
}

#[test]
fn entity_pages_list_filed_mentioning_sent_received_and_events() {
    let (_site, out) = built(&[]);
    let europol = page(&out, "organisations/europol/");
    assert_eq!(
        texts(&europol, "main p.lead"),
        ["The EU agency for law enforcement cooperation."]
    );
    assert_eq!(
        texts(&europol, "main p.aliases"),
        ["Also known as European Police Office"]
    );
    assert_eq!(
        section_documents(&europol, "filed-heading"),
        ["Sibling note"]
    );
    assert_eq!(
        section_documents(&europol, "mentioned-heading"),
        ["Note mentioning references and entities"]
    );
    assert_eq!(
        section_documents(&europol, "sent-heading"),
        ["Sibling note"]
    );
    // Received: whether or not the documents list or mention it.
    assert_eq!(
        section_documents(&europol, "received-heading"),
        [
            "Note linking in every form",
            "Communication on stronger borders"
        ]
    );
    assert_eq!(
        texts(
            &europol,
            "section[aria-labelledby=events-heading] .event-title, section[aria-labelledby=timeline-heading] .event-title"
        ),
        ["Europol consulted"]
    );

    let edps = page(&out, "organisations/edps/");
    assert_eq!(
        section_documents(&edps, "sent-heading"),
        ["Note mentioning references and entities"]
    );
    assert_eq!(
        section_documents(&edps, "received-heading"),
        ["Note linking in every form"]
    );

    let dg_home = page(&out, "organisations/dg-home/");
    assert_eq!(
        section_documents(&dg_home, "filed-heading"),
        ["Communication on stronger borders"]
    );
    assert_eq!(
        section_documents(&dg_home, "sent-heading"),
        [
            "Note linking in every form",
            "Communication on stronger borders"
        ]
    );
    assert_eq!(
        section_documents(&dg_home, "received-heading"),
        ["Sibling note", "Note mentioning references and entities"]
    );

    // An event naming the entity, in a document that neither lists nor mentions it.
    let lisa = page(&out, "organisations/eu-lisa/");
    assert_eq!(
        section_documents(&lisa, "mentioned-heading"),
        ["Note mentioning references and entities"]
    );
    assert_eq!(
        texts(
            &lisa,
            "section[aria-labelledby=events-heading] .event-title, section[aria-labelledby=timeline-heading] .event-title"
        ),
        ["eu-LISA mandate discussed"]
    );
    assert_eq!(
        links_in(
            lisa.root_element(),
            "section[aria-labelledby=events-heading] .event-source a, section[aria-labelledby=timeline-heading] .event-source a"
        ),
        [(
            "/documents/target-2016/".to_string(),
            "Communication on stronger borders".to_string()
        )]
    );
}

// ---------------------------------------------------------------- backlinks

/// `(document href, passage href, excerpt)` of the "Referenced by" list.
fn backlinks(html: &Html) -> Vec<(String, String, String)> {
    select(html, "section.backlinks li")
        .into_iter()
        .map(|li| {
            let doc = li
                .select(&sel(":scope > a"))
                .next()
                .and_then(|a| a.value().attr("href"))
                .unwrap_or("")
                .to_string();
            let passage = li.select(&sel("blockquote.excerpt a")).next();
            (
                doc,
                passage
                    .and_then(|a| a.value().attr("href"))
                    .unwrap_or("")
                    .to_string(),
                passage.map(text_of).unwrap_or_default(),
            )
        })
        .collect()
}

#[test]
fn backlinks_show_each_passage_newest_first() {
    let (_site, out) = built(&[]);
    let target = page(&out, "documents/target-2016/");
    let expected: Vec<(String, String, String)> = [
        ("linker-2019", "p1", "Plain by id link."),
        ("linker-2019", "p2", "At a heading: scope."),
        ("linker-2019", "p3", "At a numbered paragraph: 4.2."),
        ("linker-2019", "p4", "At a running paragraph: second."),
        ("linker-2019", "p5", "Relative: the file and the sibling."),
        // Two links in one passage are one backlink.
        ("linker-2019", "p6", "Twice in one passage: one and two."),
        ("linker-2019", "see-also-the-scope", "See also the scope"),
        // The sentence with the link, not the start of its long paragraph.
        (
            "sibling-2019",
            "p2",
            "It cites the communication in its second sentence!",
        ),
        (
            "mentions-2017",
            "p4",
            "The European Police Office and COM(2016) 205 appear here first; EU-LISA too.",
        ),
    ]
    .iter()
    .map(|(id, block, excerpt)| {
        (
            format!("/documents/{id}/"),
            format!("/documents/{id}/#{block}"),
            excerpt.to_string(),
        )
    })
    .collect();
    assert_eq!(backlinks(&target), expected);
    assert_eq!(
        backlinks(&page(&out, "documents/sibling-2019/")),
        [(
            "/documents/linker-2019/".to_string(),
            "/documents/linker-2019/#p5".to_string(),
            "Relative: the file and the sibling.".to_string()
        )]
    );
    assert!(backlinks(&page(&out, "documents/linker-2019/")).is_empty());
    // A body mentioning its own reference neither links nor references itself.
    let target = page(&out, "documents/target-2016/");
    assert!(select(&target, "main .document-body a.mention").is_empty());
    assert!(text_of(body(&target)).contains("This communication is COM(2016) 205,"));
}

// ---------------------------------------------------------------- correspondence

#[test]
fn correspondence_lists_sender_recipient_pairs() {
    let (_site, out) = built(&[]);
    let html = page(&out, "correspondence/");
    let pairs: Vec<(String, Vec<String>)> = select(&html, "main section.correspondence-pair")
        .into_iter()
        .map(|s| {
            (
                s.value().attr("aria-label").unwrap_or("").to_string(),
                s.select(&sel("a.doc-title")).map(text_of).collect(),
            )
        })
        .collect();
    let expected: Vec<(String, Vec<String>)> = [
        (
            "DG HOME to Europol",
            vec![
                "Note linking in every form",
                "Communication on stronger borders",
            ],
        ),
        ("DG HOME to EDPS", vec!["Note linking in every form"]),
        (
            "EDPS to DG HOME",
            vec!["Note mentioning references and entities"],
        ),
        ("Europol to DG HOME", vec!["Sibling note"]),
    ]
    .iter()
    .map(|(p, d)| (p.to_string(), d.iter().map(|s| s.to_string()).collect()))
    .collect();
    assert_eq!(pairs, expected);
}

// ---------------------------------------------------------------- related documents

/// `(id, reason)` of the "Related documents" list of a page.
fn related(html: &Html) -> Vec<(String, String)> {
    select(html, "section.related li")
        .into_iter()
        .map(|li| {
            let href = li
                .select(&sel(":scope > a"))
                .next()
                .and_then(|a| a.value().attr("href"))
                .unwrap_or("");
            let id = document_id(href, "/").unwrap_or_else(|| panic!("not a document: {href}"));
            let meta = li
                .select(&sel(".item-meta"))
                .next()
                .map(text_of)
                .unwrap_or_default();
            let reason = meta.split_once(" · ").map(|(_, r)| r).unwrap_or("");
            (id, reason.to_string())
        })
        .collect()
}

fn pairs(list: &[(&str, &str)]) -> Vec<(String, String)> {
    list.iter()
        .map(|(a, b)| (a.to_string(), b.to_string()))
        .collect()
}

#[test]
fn related_documents_are_ranked_with_their_reason() {
    let site = Site::new("related");
    site.build(&[]).assert_success();
    let out = &site.out;
    // Scores: two topics 4.5; links both ways, ten years away 3.09; a link forty
    // years away 3.02; one topic a day away 3.0; one topic five months away 2.71
    // (twice, on the same date: by id, so tie-x wins); then, left out: tie-y, a
    // shared reference 2.05, one topic 30 years away 2.03, a shared organisation
    // 1.67, a shared mention 1.33.
    assert_eq!(
        related(&page(out, "documents/focus/")),
        pairs(&[
            ("two-topics", "2 shared topics"),
            ("links-here", "links both ways"),
            ("linked-only", "linked from here"),
            ("one-topic-near", "1 shared topic"),
            ("tie-x", "1 shared topic"),
        ])
    );
    for (id, reason) in [
        ("links-here", "links both ways"),
        ("linked-only", "links here"),
        ("same-reference", "same reference"),
        ("filed-europol", "also filed under Europol"),
        ("mentions-edps", "mentions EDPS"),
    ] {
        assert_eq!(
            related(&page(out, &format!("documents/{id}/"))),
            pairs(&[("focus", reason)]),
            "{id}"
        );
    }
    // A reference two documents carry is not linked, so is no link either.
    let unrelated = page(out, "documents/unrelated/");
    assert!(related(&unrelated).is_empty());
    assert!(text_of(body(&unrelated)).contains("REF-0001"));
    assert!(select(&unrelated, "main .document-body a:not(.pin)").is_empty());
    assert_eq!(
        related(&page(out, "documents/far-topic/"))
            .into_iter()
            .map(|(id, _)| id)
            .collect::<Vec<_>>(),
        ["two-topics", "focus", "one-topic-near"],
        "one shared topic each: nearest in date first"
    );
}

#[test]
fn related_documents_are_at_most_five_and_stable() {
    let site = Site::new("related");
    site.build(&[]).assert_success();
    let first = snapshot(&site.out);
    let again = site.tmp.path().join("again");
    site.build_into(&again, &[]).assert_success();
    assert_same_tree(&first, &snapshot(&again), "two builds of `related`");
    for file in html_files(&site.out) {
        let html = Html::parse_document(&std::fs::read_to_string(&file).unwrap());
        assert!(
            select(&html, "section.related li").len() <= 5,
            "{}",
            file.display()
        );
    }
}

// ---------------------------------------------------------------- bundled archive

fn build_bundled(out: &Path) {
    let parent = out.parent().expect("an output inside a temporary folder");
    let root = bundled_archive_copy(parent);
    run(&[
        OsStr::new("build"),
        OsStr::new("--root"),
        root.as_os_str(),
        OsStr::new("--output"),
        out.as_os_str(),
    ])
    .assert_success();
}

#[test]
fn bundled_documents_connect_through_entity_pages() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("out");
    build_bundled(&out);
    let base = "/annals/"; // the base path of the bundled site.toml
    let briefing = "dg-home-briefing-microsoft-2016-05-25";
    let note = "council-st-9069-19-ext-1";
    // (filed under it, mentioned in text, sent) for each entity page.
    let sections = |slug: &str| -> [Vec<String>; 3] {
        let html = page(&out, &format!("organisations/{slug}/"));
        ["filed-heading", "mentioned-heading", "sent-heading"].map(|heading| {
            linked_ids(
                &html,
                &format!("section[aria-labelledby={heading}] a.doc-title"),
                base,
            )
        })
    };
    let ids = |list: &[&str]| -> Vec<String> { list.iter().map(|s| s.to_string()).collect() };
    let none: Vec<String> = Vec::new();
    // Both documents are filed under Europol and the European Commission.
    for slug in ["europol", "european-commission"] {
        assert_eq!(
            sections(slug),
            [ids(&[note, briefing]), none.clone(), none.clone()],
            "organisations/{slug}/"
        );
    }
    // DG HOME sent the briefing, and the Council note mentions it in its text.
    assert_eq!(
        sections("dg-home"),
        [ids(&[briefing]), ids(&[note]), ids(&[briefing])]
    );
    assert_eq!(
        sections("eu-counter-terrorism-coordinator"),
        [ids(&[note]), none.clone(), ids(&[note])]
    );
    for (slug, id) in [
        ("microsoft", briefing),
        ("eu-lisa", briefing),
        ("edps", note),
        ("frontex", note),
    ] {
        assert_eq!(
            sections(slug),
            [ids(&[id]), none.clone(), none.clone()],
            "organisations/{slug}/"
        );
    }
    // The briefing's text names Microsoft and eu-LISA: linked, and listed as mentioned.
    let html = page(&out, &format!("documents/{briefing}/"));
    let hrefs: Vec<String> = links_in(body(&html), "a.mention")
        .into_iter()
        .map(|(h, _)| h)
        .collect();
    for slug in ["microsoft", "eu-lisa"] {
        let url = format!("{base}organisations/{slug}/");
        assert!(hrefs.contains(&url), "no mention link to {url}: {hrefs:?}");
    }
    let mentioned = meta_entry(&html, "Mentioned").expect("a Mentioned entry");
    assert!(!links_in(mentioned, "a").is_empty());
    // Each is related to the other, through what they share.
    for (from, to) in [(briefing, note), (note, briefing)] {
        let html = page(&out, &format!("documents/{from}/"));
        let rel: Vec<(String, String)> = select(&html, "section.related li")
            .into_iter()
            .map(|li| {
                let a = li.select(&sel(":scope > a")).next().expect("link");
                (
                    document_id(a.value().attr("href").unwrap_or(""), base).unwrap_or_default(),
                    text_of(li),
                )
            })
            .collect();
        assert_eq!(rel.len(), 1, "{from}: {rel:?}");
        assert_eq!(rel[0].0, to);
        assert!(rel[0].1.contains("shared topic"), "{rel:?}");
    }
    // Microsoft's page shows the events naming it, from the briefing, oldest first.
    let microsoft = page(&out, "organisations/microsoft/");
    assert_eq!(
        texts(
            &microsoft,
            "section[aria-labelledby=events-heading] .event-title, section[aria-labelledby=timeline-heading] .event-title"
        ),
        [
            "EU Internet Forum launched",
            "Microsoft announces its updated approach to terrorist content online",
            "DG HOME meeting with Microsoft"
        ]
    );
}

/// A sender or recipient that names an entity (by its name or an alias) links to
/// the entity's page, written as the document writes it; another name stays text.
#[test]
fn senders_and_recipients_link_to_their_entity_pages() {
    let site = Site::new("crosslinks");
    let file = site.root.join("content/documents/2019/sibling.md");
    let text = std::fs::read_to_string(&file).unwrap();
    let text = text.replacen(
        "to: DG HOME",
        "to: [European Police Office, A Journalist]",
        1,
    );
    std::fs::write(&file, text).unwrap();
    site.build(&[]).assert_success();
    let html = page(&site.out, "documents/sibling-2019/");
    let from = meta_entry(&html, "From").expect("a From entry");
    assert_eq!(
        links_in(from, "a"),
        [("/organisations/europol/".to_string(), "Europol".to_string())]
    );
    let to = meta_entry(&html, "To").expect("a To entry");
    assert_eq!(
        links_in(to, "a"),
        [(
            "/organisations/europol/".to_string(),
            "European Police Office".to_string()
        )]
    );
    assert_eq!(text_of(to), "European Police Office, A Journalist");
    check_links(&site.out, "/").assert_ok();
}

/// An entity page's body links to documents as a document's body does: `doc:`
/// and relative `.md` links become the documents' URLs, and one naming no
/// document is an error at its line in the entity's file. Before, the page was
/// published with `href="doc:…"`, dead in every browser.
#[test]
fn entity_bodies_link_to_documents() {
    let site = Site::new("crosslinks");
    let file = site.root.join("content/organisations/europol.md");
    let text = std::fs::read_to_string(&file).unwrap();
    std::fs::write(
        &file,
        format!("{text}\nSee [the target](doc:target-2016#p1) and [the file](../documents/2016/target.md).\n"),
    )
    .unwrap();
    site.build(&[]).assert_success();
    let html = page(&site.out, "organisations/europol/");
    let body = select(&html, ".entity-body");
    assert_eq!(
        links_in(body[0], "a:not(.pin)"),
        [
            (
                "/documents/target-2016/#p1".to_string(),
                "the target".to_string()
            ),
            (
                "/documents/target-2016/".to_string(),
                "the file".to_string()
            ),
        ]
    );
    check_links(&site.out, "/").assert_ok();

    std::fs::write(&file, format!("{text}\nSee [nothing](doc:nowhere).\n")).unwrap();
    let run = site.build(&[]);
    run.assert_exit_1();
    let found = diagnostics(&run.stderr);
    let line = text.lines().count() + 2;
    assert!(
        found
            .iter()
            .any(|d| d.file.ends_with("organisations/europol.md")
                && d.line == line
                && d.message.contains("unknown document id `nowhere`")),
        "line {line}:\n{}",
        run.stderr
    );
}
