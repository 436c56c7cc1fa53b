//! Front matter: splitting at the fences, the YAML library and its error positions,
//! the locator that finds keys for later errors, validation into a `Document`, and
//! the small parsers (dates, aliases, ids, slugs) on arbitrary text.
//!
//! Invariants: nothing panics; every diagnostic names a line that exists in the file
//! (or 0 for the whole file) and prints; a valid document has a valid id, a date
//! that round-trips, and aliases that stay inside the site.

#![no_main]

use annals::config::Config;
use annals::document::{self, front_matter, PartialDate};
use annals::load::SourceFile;
use libfuzzer_sys::fuzz_target;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

fn config() -> &'static Config {
    static CONFIG: OnceLock<Config> = OnceLock::new();
    CONFIG.get_or_init(|| {
        Config::parse(
            Path::new("site.toml"),
            "title = \"Fuzz\"\nbase_url = \"https://example.org/archive/\"\n\
             [[taxonomies]]\nkey = \"countries\"\nname = \"Countries\"\nsingular = \"Country\"\npath = \"countries\"\n",
        )
        .expect("fuzz config parses")
    })
}

fuzz_target!(|data: &[u8]| {
    // The loader rejects invalid UTF-8 and NUL bytes before parsing; parsing must
    // still cope with whatever text reaches it, so feed the lossy text.
    let text = String::from_utf8_lossy(data).into_owned();
    let lines = text.split('\n').count();
    let source = SourceFile {
        path: PathBuf::from("content/documents/fuzz.md"),
        text: text.clone(),
    };
    match document::parse_document(&source, config()) {
        Ok(doc) => {
            assert!(
                document::id_problem(&doc.id).is_none(),
                "invalid id {:?} accepted",
                doc.id
            );
            assert_eq!(PartialDate::parse(&doc.date.iso()), Ok(doc.date));
            let _ = doc.date.display();
            for alias in &doc.aliases {
                assert!(!alias.starts_with('/'), "alias {alias:?}");
                assert!(
                    alias.split('/').all(|s| s != ".." && s != "."),
                    "alias {alias:?}"
                );
            }
            assert!(doc.body_line >= 2 && doc.body_line <= lines + 1);
        }
        Err(diagnostics) => {
            assert!(!diagnostics.is_empty());
            for d in &diagnostics {
                assert!(d.line <= lines, "line {} of {lines}: {d:?}", d.line);
                let _ = d.to_string();
            }
        }
    }
    let _ = front_matter::parse_yaml(&text);
    if let Ok(split) = front_matter::split(&text) {
        let locator = front_matter::Locator::new(split.yaml, split.yaml_offset);
        for path in [
            &[front_matter::Step::Key("id")][..],
            &[
                front_matter::Step::Key("source"),
                front_matter::Step::Key("url"),
            ],
            &[
                front_matter::Step::Key("events"),
                front_matter::Step::Index(1),
                front_matter::Step::Key("date"),
            ],
            &[
                front_matter::Step::Key("topics"),
                front_matter::Step::Index(3),
            ],
        ] {
            for key in [true, false] {
                let offset = locator.offset(path, key);
                assert!(offset <= text.len(), "offset {offset} past the end");
            }
        }
    }
    let line = text.lines().next().unwrap_or("");
    if let Ok(date) = PartialDate::parse(line) {
        assert_eq!(date.iso(), line);
        let _ = (date.display(), date.start(), date.month_name());
    }
    if let Ok(alias) = document::normalise_alias(line) {
        assert!(
            alias.split('/').all(|s| s != ".." && s != "."),
            "alias {alias:?}"
        );
        assert!(
            !alias.contains('\\') && !alias.contains("//"),
            "alias {alias:?}"
        );
    }
    let slug = document::slugify(line);
    assert!(
        !slug.starts_with('-') && !slug.ends_with('-') && !slug.contains("--"),
        "slug {slug:?}"
    );
});
