//! The theme as a site author meets it: overriding a template or partial with the
//! rest falling back to the built-in default theme, the term pages' own timelines,
//! and `docs/themes.md` naming every template the default theme has.

mod common;

use common::*;
use std::path::Path;

/// Writes `text` to `root/rel`, creating folders.
fn write(root: &Path, rel: &str, text: &str) {
    let path = root.join(rel);
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(&path, text).unwrap();
}

/// Points the fixture's `site.toml` at theme `name`.
fn use_theme(root: &Path, name: &str) {
    let config = root.join("site.toml");
    let text = std::fs::read_to_string(&config).unwrap();
    assert!(!text.contains("theme ="), "the fixture sets no theme yet");
    let text = format!("theme = \"{name}\"\n{text}");
    std::fs::write(&config, text).unwrap();
}

#[test]
fn a_site_theme_overrides_one_partial_and_falls_back_to_the_default_for_the_rest() {
    let site = Site::new("basic");
    use_theme(&site.root, "newsroom");
    // One partial replaced: the document list, used by the home page, the documents
    // page and term pages. It keeps using the variables the default one receives.
    write(
        &site.root,
        "themes/newsroom/templates/partials/document_list.html",
        "<ul class=\"newsroom-list\">{% for d in documents %}<li><a class=\"newsroom-doc\" \
         href=\"{{ d.url }}\">{{ d.title }}</a> {{ d.date.iso }}</li>{% endfor %}</ul>\n",
    );
    // And one asset added next to the default ones.
    write(
        &site.root,
        "themes/newsroom/static/newsroom.css",
        ".newsroom-list { color: red }\n",
    );
    site.build(&[]).assert_success();

    // The override is used wherever the partial is included …
    let documents = page(&site.out, "documents/");
    let listed = select(&documents, "ul.newsroom-list a.newsroom-doc");
    assert_eq!(
        listed.len(),
        5,
        "the override lists the five published documents"
    );
    assert!(
        select(&documents, "ol.document-list").is_empty(),
        "the default partial is not used any more"
    );
    // … with the autoescaping the default theme has.
    let raw = std::fs::read_to_string(site_file(&site.out, "documents/")).unwrap();
    assert!(
        !raw.contains("<script>alert(1)</script>"),
        "titles stay escaped"
    );
    assert!(
        raw.contains("Q&amp;A &lt;script&gt;"),
        "the hostile title is shown escaped"
    );
    let home = page(&site.out, "");
    assert!(
        !select(&home, "ul.newsroom-list").is_empty(),
        "home uses it too"
    );

    // Everything not overridden comes from the default theme: the base layout and the
    // document page (which does not include the partial), the home page around the
    // partial, and the default assets.
    let doc = page(&site.out, "documents/europol-briefing-2020-06-15/");
    assert_eq!(
        select(&doc, "h1#doc-title").len(),
        1,
        "default document.html"
    );
    assert_eq!(
        select(&doc, "header.site-header nav").len(),
        1,
        "default base.html"
    );
    assert_eq!(
        select(&home, "section.home-intro h1").len(),
        1,
        "default index.html"
    );
    let css = std::fs::read(site_file(&site.out, "static/style.css")).unwrap();
    let default_css = std::fs::read(repo_root().join("themes/default/static/style.css")).unwrap();
    assert_eq!(css, default_css, "the default stylesheet is published");
    let added = std::fs::read_to_string(site_file(&site.out, "static/newsroom.css")).unwrap();
    assert!(
        added.contains(".newsroom-list"),
        "the theme's own asset is published"
    );
}

#[test]
fn a_site_theme_can_replace_the_base_layout_that_default_pages_extend() {
    let site = Site::new("basic");
    use_theme(&site.root, "plain");
    write(
        &site.root,
        "themes/plain/templates/base.html",
        // Tera refuses a child block its parent lacks, so a replacement base.html
        // defines every block of the default one (docs/themes.md says so).
        "<!doctype html><html lang=\"{% block lang %}{% endblock lang %}\"><title>{% block title %}{% endblock title %}</title>\
         {% block meta %}{% endblock meta %}{% block head %}{% endblock head %}\
         <body class=\"plain\"><main id=\"main\">{% block content %}{% endblock content %}</main>\
         {% block scripts %}{% endblock scripts %}</body></html>\n",
    );
    site.build(&[]).assert_success();
    let doc = page(&site.out, "documents/europol-briefing-2020-06-15/");
    assert_eq!(select(&doc, "body.plain").len(), 1, "the theme's base.html");
    assert!(select(&doc, "header.site-header").is_empty());
    assert_eq!(
        select(&doc, "body.plain main h1#doc-title").len(),
        1,
        "the default document.html fills the theme's base"
    );
}

#[test]
fn topic_pages_carry_their_own_timeline_with_a_list_behind_it() {
    let site = Site::new("basic");
    site.build(&[]).assert_success();
    let taxonomy = page(&site.out, "topics/");
    let topics: Vec<String> = select(&taxonomy, "ul.term-list a")
        .into_iter()
        .map(|a| a.value().attr("href").unwrap().to_string())
        .collect();
    assert!(!topics.is_empty());
    let mut checked = 0;
    for href in topics {
        let html = page(&site.out, &href);
        let ids = ids_of(&html);
        let filed = linked_ids(&html, "ol.document-list a.doc-title", "/");
        let marked = linked_ids(&html, "figure.chart a.mark-document", "/");
        let mut a = filed.clone();
        let mut b = marked.clone();
        a.sort();
        b.sort();
        assert_eq!(a, b, "{href}: one mark per filed document");
        // Each bar leads to its year in the page's own list, which lists exactly the
        // documents of that year.
        let bars = select(&html, "figure.chart a.chart-bar");
        assert!(!bars.is_empty(), "{href}: bars");
        for bar in bars {
            let target = bar.value().attr("href").unwrap();
            let (path, fragment) = target.split_once('#').expect("a bar links an anchor");
            assert_eq!(path, href, "{href}: bars stay on the page");
            assert!(ids.contains(fragment), "{href}: no #{fragment}");
            let year = fragment.trim_start_matches('y');
            let section = select(&html, "section.term-timeline section.timeline-year")
                .into_iter()
                .find(|s| s.value().attr("aria-labelledby") == Some(fragment))
                .unwrap_or_else(|| panic!("{href}: no list section for {year}"));
            let in_list = section.select(&sel("li.timeline-document a")).count();
            assert!(in_list > 0, "{href}: {year} lists documents");
            let label = text_of(bar);
            assert!(
                label.contains(&format!("{year}: {in_list} document")),
                "{href}: bar {label:?} counts the {in_list} listed"
            );
        }
        let listed = linked_ids(&html, "section.term-timeline li.timeline-document a", "/");
        let mut c = listed.clone();
        c.sort();
        assert_eq!(a, c, "{href}: the list behind the chart has every document");
        checked += 1;
    }
    assert!(checked > 1);
    // Every link of every page still resolves, anchors included.
    check_links(&site.out, "https://example.org/").assert_ok();
}

/// Every file of the default theme's `templates/` is named in `docs/themes.md`
/// (as `` `name` `` in a heading), and is embedded in the binary, so neither the
/// documentation nor the built-in theme can miss a template.
#[test]
fn docs_themes_md_documents_every_default_template() {
    let root = repo_root();
    let doc = std::fs::read_to_string(root.join("docs/themes.md")).expect("docs/themes.md");
    let headings: Vec<&str> = doc.lines().filter(|l| l.starts_with('#')).collect();
    let theme_rs = std::fs::read_to_string(root.join("src/theme.rs")).unwrap();
    let dir = root.join("themes/default/templates");
    let mut names = Vec::new();
    for entry in walkdir::WalkDir::new(&dir) {
        let entry = entry.unwrap();
        if entry.file_type().is_file() {
            let name = entry
                .path()
                .strip_prefix(&dir)
                .unwrap()
                .to_string_lossy()
                .replace('\\', "/");
            names.push(name);
        }
    }
    assert!(names.len() > 10, "found the templates: {names:?}");
    let undocumented: Vec<&String> = names
        .iter()
        .filter(|n| !headings.iter().any(|h| h.contains(&format!("`{n}`"))))
        .collect();
    assert!(
        undocumented.is_empty(),
        "docs/themes.md has no heading naming {undocumented:?}"
    );
    let not_embedded: Vec<&String> = names
        .iter()
        .filter(|n| !theme_rs.contains(&format!("\"templates/{n}\"")))
        .collect();
    assert!(
        not_embedded.is_empty(),
        "src/theme.rs does not embed {not_embedded:?}"
    );
    // And the README's theme section points at the document.
    let readme = std::fs::read_to_string(root.join("README.md")).unwrap();
    assert!(
        readme.contains("(docs/themes.md)"),
        "README links docs/themes.md"
    );
}

#[test]
fn code_is_highlighted_with_classes_and_a_stylesheet_with_light_and_dark_palettes() {
    let site = Site::new("basic");
    let file = site
        .root
        .join("content/documents/2018/frontex-report-2018.md");
    let mut text = std::fs::read_to_string(&file).unwrap();
    text.push_str("\n```rust\nfn main() { let x = \"<b>\"; }\n```\n");
    std::fs::write(&file, text).unwrap();
    site.build(&[]).assert_success();
    let html = page(&site.out, "documents/frontex-report-2018/");
    let spans = select(&html, "pre.code span");
    assert!(!spans.is_empty(), "the code is highlighted");
    assert!(
        spans.iter().all(|s| s.value().attr("style").is_none()),
        "no inline styles"
    );
    assert!(
        spans.iter().any(|s| s
            .value()
            .classes()
            .any(|c| c.starts_with("hl-") && c != "hl-source")),
        "token classes"
    );
    assert!(
        text_of(select(&html, "pre.code")[0]).contains("let x = \"<b>\";"),
        "the code's text is kept, escaped"
    );
    let linked: Vec<&str> = select(&html, "link[rel=stylesheet]")
        .into_iter()
        .filter_map(|l| l.value().attr("href"))
        .collect();
    assert!(linked.contains(&"/static/highlight.css"), "{linked:?}");
    let css = std::fs::read_to_string(site_file(&site.out, "static/highlight.css")).unwrap();
    let (light, dark) = css
        .split_once("@media (prefers-color-scheme: dark)")
        .expect("a dark palette");
    assert!(light.contains(".hl-keyword") || light.contains(".hl-storage"));
    assert!(dark.contains(".hl-keyword") || dark.contains(".hl-storage"));
    // A page without code does not load the code stylesheet.
    let other = page(&site.out, "documents/europol-briefing-2020-06-15/");
    assert!(select(&other, "link[href='/static/highlight.css']").is_empty());
}

#[test]
fn a_busy_topic_keeps_bars_to_the_year_pages_and_no_second_list() {
    let site = Site::new("basic");
    // 301 more documents on one topic: above the 300 marks a chart draws.
    for n in 0..301 {
        let month = n % 12 + 1;
        write(
            &site.root,
            &format!("content/documents/2017/busy-{n}.md"),
            &format!(
                "---\nid: busy-{n}\ntitle: Busy {n}\ndate: 2017-{month:02}\ntopics: [Busy]\n---\nText.\n"
            ),
        );
    }
    site.build(&[]).assert_success();
    let html = page(&site.out, "topics/busy/");
    assert!(select(&html, "figure.chart a.mark").is_empty(), "no marks");
    assert!(select(&html, "section.term-timeline").is_empty(), "no list");
    let bars: Vec<&str> = select(&html, "figure.chart a.chart-bar")
        .into_iter()
        .filter_map(|a| a.value().attr("href"))
        .collect();
    assert_eq!(
        bars,
        ["/timeline/2017/"],
        "the one busy year, on the archive's timeline"
    );
    assert_eq!(
        select(&html, "ol.document-list li").len(),
        301,
        "every document listed once"
    );
    // A topic of the same archive with few documents still has marks and its list.
    let few = page(&site.out, "topics/biometrics/");
    assert!(!select(&few, "figure.chart a.mark-document").is_empty());
    assert!(!select(&few, "section.term-timeline").is_empty());
}

/// A document in another language than the site's keeps the page's own words
/// (navigation, labels) in the site's language and marks its title, summary and
/// body with its own, so that a screen reader reads each with the right rules;
/// the language is named for readers.
#[test]
fn a_document_in_another_language_marks_its_own_words_only() {
    let site = Site::new("basic");
    let file = "content/documents/2019/minutes-2019.md";
    let text = std::fs::read_to_string(site.root.join(file)).unwrap();
    let text = text.replacen(
        "\ntitle:",
        "\nlanguage: fr-BE\nsummary: Un résumé.\ntitle:",
        1,
    );
    write(&site.root, file, &text);
    site.build(&[]).assert_success();
    let page = std::fs::read_to_string(site.out.join("documents/minutes-2019/index.html")).unwrap();
    assert!(
        page.contains("<html lang=\"en\">"),
        "the page is in the site's language"
    );
    for marked in [
        "<h1 id=\"doc-title\" lang=\"fr-BE\">",
        "<p class=\"summary\" lang=\"fr-BE\">",
        "<div class=\"document-body\" lang=\"fr-BE\">",
        "<dt>Language</dt><dd>French (fr-BE)</dd>",
    ] {
        assert!(page.contains(marked), "{marked}");
    }
    let english =
        std::fs::read_to_string(site.out.join("documents/council-note-2019-04/index.html"))
            .unwrap();
    assert!(english.contains("<dt>Language</dt><dd>English</dd>"));
    assert!(
        english.contains("<h1 id=\"doc-title\">"),
        "no mark where the languages agree"
    );
}
