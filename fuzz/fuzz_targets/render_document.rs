//! A whole archive through the pipeline, in memory: up to four documents (the input
//! split at NUL bytes; a piece that does not start with `---` becomes the body of a
//! valid document) are parsed, linked, and every page and generated file rendered
//! with the built-in theme, as `annals check` does.
//!
//! Invariants: nothing panics; the default theme always renders; no page carries
//! script, frames, plugins, styles, event handlers or `javascript:`/`data:` URLs
//! that a document put there (checked on the parsed HTML, as a browser sees it).

#![no_main]

use annals::archive;
use annals::config::Config;
use annals::document;
use annals::load::SourceFile;
use annals::render::Renderer;
use annals::theme::Theme;
use libfuzzer_sys::fuzz_target;
use scraper::{Html, Selector};
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

const SITE: &str = "title = \"Fuzz <Archive>\"\nbase_url = \"https://example.org/archive/\"\n";

fn config() -> &'static Config {
    static CONFIG: OnceLock<Config> = OnceLock::new();
    CONFIG.get_or_init(|| Config::parse(Path::new("site.toml"), SITE).expect("config"))
}

fn theme() -> &'static Theme {
    static THEME: OnceLock<Theme> = OnceLock::new();
    THEME.get_or_init(|| {
        Theme::load(Path::new("/nonexistent-annals-root"), config()).expect("theme")
    })
}

fn sources(text: &str) -> Vec<SourceFile> {
    text.split('\0')
        .take(4)
        .enumerate()
        .map(|(i, piece)| {
            let text = if piece.starts_with("---") {
                piece.to_string()
            } else {
                format!(
                    "---\nid: doc-{i}\ntitle: Document {i}\ndate: 2020-0{}-01\nreference: REF/{i}\ntopics: [Topic {i}]\nfrom: Council\nto: Commission\n---\n{piece}",
                    i + 1
                )
            };
            SourceFile {
                path: PathBuf::from(format!("content/documents/2020/{i}.md")),
                text,
            }
        })
        .collect()
}

/// Fails on anything in `html` that could run script or load active content.
fn assert_inert(page: &str, html: &str) {
    let doc = Html::parse_document(html);
    let all = Selector::parse("*").expect("selector");
    for el in doc.select(&all) {
        let v = el.value();
        let name = v.name();
        match name {
            "script" => {
                let src = v.attr("src");
                let ld = v.attr("type") == Some("application/ld+json");
                assert!(
                    ld || src.is_some_and(|s| s.starts_with("/archive/static/")),
                    "{page}: script {}",
                    el.html()
                );
                if ld {
                    let body: String = el.text().collect();
                    assert!(
                        serde_json::from_str::<serde_json::Value>(&body).is_ok(),
                        "{page}: JSON-LD"
                    );
                }
            }
            "iframe" | "frame" | "object" | "embed" | "style" | "base" | "form" | "svg"
            | "math" => {
                assert!(
                    name == "form" && v.attr("action") == Some("/archive/search/"),
                    "{page}: <{name}> {}",
                    el.html()
                );
            }
            _ => {}
        }
        for (attr, value) in v.attrs() {
            assert!(
                !attr.starts_with("on"),
                "{page}: handler {attr} on <{name}>"
            );
            if attr == "style" {
                // The theme styles its own elements (charts); in a body only
                // Markdown's table alignment may.
                let in_body = el.ancestors().any(|a| {
                    a.value()
                        .as_element()
                        .is_some_and(|e| e.attr("class") == Some("document-body"))
                });
                let alignment = matches!(
                    value,
                    "text-align: left" | "text-align: center" | "text-align: right"
                );
                assert!(!in_body || alignment, "{page}: style={value:?} on <{name}> in a body");
            }
            if matches!(
                attr,
                "href" | "src" | "action" | "formaction" | "srcset" | "poster" | "data"
            ) {
                let cleaned: String = value
                    .chars()
                    .filter(|c| !c.is_whitespace() && !c.is_control())
                    .collect::<String>()
                    .to_ascii_lowercase();
                for scheme in ["javascript:", "vbscript:", "data:"] {
                    assert!(
                        !cleaned.starts_with(scheme),
                        "{page}: {attr}={value:?} on <{name}>"
                    );
                }
            }
        }
        if name == "meta"
            && v.attr("http-equiv")
                .is_some_and(|h| h.eq_ignore_ascii_case("refresh"))
        {
            let content = v.attr("content").unwrap_or("").to_ascii_lowercase();
            assert!(
                !content.contains("javascript:") && !content.contains("data:"),
                "{page}: refresh {content}"
            );
        }
    }
}

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let config = config();
    let mut documents = Vec::new();
    for source in sources(&text) {
        if let Ok(doc) = document::parse_document(&source, config) {
            documents.push(doc);
        }
    }
    let Ok(archive) = archive::link(config.clone(), documents, &HashMap::new(), Vec::new()) else {
        return;
    };
    let renderer = Renderer::new(&archive, theme()).expect("the default theme compiles");
    for page in renderer.pages() {
        let files = renderer
            .render(page)
            .expect("the default theme renders every page");
        for file in files {
            if file.path.ends_with(".html") {
                let html = std::str::from_utf8(&file.bytes).expect("pages are UTF-8");
                assert_inert(&file.path, html);
            }
        }
    }
    let _ = annals::publish::generated_files(&archive, theme());
    let _ = annals::search::index_files(&archive);
});
