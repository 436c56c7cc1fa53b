//! The repository's own example archive builds, every internal link of it resolves,
//! and its documents, indexes and timeline are published.

mod common;

use common::*;
use std::ffi::OsStr;

/// `base_url` from the bundled `site.toml` (a top-level `base_url = "…"` line).
fn bundled_base_url() -> String {
    let path = repo_root().join("site.toml");
    let text = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("cannot read the bundled {}: {e}", path.display()));
    text.lines()
        .take_while(|l| !l.trim_start().starts_with('['))
        .find_map(|l| {
            let (key, value) = l.split_once('=')?;
            (key.trim() == "base_url").then(|| value.trim().trim_matches('"').to_string())
        })
        .unwrap_or_else(|| panic!("no base_url in {}", path.display()))
}

/// The published (non-draft) ids of the bundled archive; fails, never skips, when
/// the archive has no documents.
fn bundled_documents() -> Vec<String> {
    let root = repo_root();
    let documents_dir = root.join("content").join("documents");
    let documents = front_matter_ids(&root);
    assert!(
        !documents.is_empty(),
        "the bundled archive has no documents: {} is missing or holds no Markdown file; \
         the repository must ship its example archive (the README's two released EU documents)",
        documents_dir.display()
    );
    let published: Vec<String> = documents
        .into_iter()
        .filter(|(_, _, draft)| !draft)
        .map(|(_, id, _)| id)
        .collect();
    assert!(
        published.len() >= 2,
        "the bundled archive should publish both seed documents, found {published:?} in {}",
        documents_dir.display()
    );
    published
}

#[test]
fn bundled_archive_has_its_seed_documents() {
    let published = bundled_documents();
    let mut unique = published.clone();
    unique.sort();
    unique.dedup();
    assert_eq!(
        unique.len(),
        published.len(),
        "duplicate ids: {published:?}"
    );
}

#[test]
fn bundled_archive_builds_and_every_link_resolves() {
    let published = bundled_documents();
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("out");
    let root = bundled_archive_copy(tmp.path());
    let run = run(&[
        OsStr::new("build"),
        OsStr::new("--root"),
        root.as_os_str(),
        OsStr::new("--output"),
        out.as_os_str(),
    ]);
    run.assert_success();
    let (count, pages) = parse_summary(&run.stdout, "built");
    assert_eq!(count, published.len(), "documents built");
    assert_eq!(pages, html_files(&out).len(), "pages = HTML files written");

    let base_url = bundled_base_url();
    let (_, base_path) = split_base_url(&base_url);
    for id in &published {
        let file = site_file(&out, &format!("documents/{id}/"));
        assert!(file.is_file(), "no page for document `{id}`");
        let html = page(&out, &format!("documents/{id}/"));
        let canonical = select(&html, "link[rel=canonical]");
        let expected = format!("{}/documents/{id}/", base_url.trim_end_matches('/'));
        assert_eq!(
            canonical.first().and_then(|c| c.value().attr("href")),
            Some(expected.as_str()),
            "canonical URL of `{id}`"
        );
    }
    for index in [
        "",
        "documents/",
        "topics/",
        "organisations/",
        "types/",
        "timeline/",
        "static/style.css",
    ] {
        assert!(
            site_file(&out, index).is_file(),
            "missing /{index} in the bundled site"
        );
    }
    // The document list links every published document.
    let list = page(&out, "documents/");
    let mut listed = linked_ids(&list, "main ol.document-list a.doc-title", &base_path);
    listed.sort();
    let mut expected: Vec<String> = published.iter().map(|s| s.to_string()).collect();
    expected.sort();
    assert_eq!(listed, expected, "documents listed on /documents/");
    // Each taxonomy index and the timeline have entries.
    for (index, css) in [
        ("topics/", "main ul.term-list li a"),
        ("organisations/", "main ul.term-list li a"),
        ("types/", "main ul.term-list li a"),
        ("timeline/", "nav.year-nav a"),
    ] {
        let html = page(&out, index);
        assert!(!select(&html, css).is_empty(), "/{index} lists nothing");
    }

    let report = check_links(&out, &base_url);
    report.assert_ok();
    assert!(report.checked > 0, "no internal link checked");
}
