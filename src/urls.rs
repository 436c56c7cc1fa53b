//! The URL-stability guard. Archives are cited by URL in articles and court filings,
//! so a published URL must never break. Every build writes `urls.json`, listing each
//! published URL with a content hash; `--previous` compares a build with an earlier
//! list (a file, or the live site's `urls.json`) and fails, naming each URL that was
//! published before and would now be missing, unless an alias redirects it.

use crate::diagnostics::Diagnostic;
use crate::render::OutputFile;
use serde::{Deserialize, Serialize};
use std::collections::BTreeSet;

/// The file name of the URL list at the site root.
pub const URLS_FILE: &str = "urls.json";

/// One published URL.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PublishedUrl {
    /// Site path below the base URL: `documents/x/`, `feed.xml`.
    pub path: String,
    /// SHA-256 of the bytes served at it.
    pub sha256: String,
}

/// The contents of `urls.json`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UrlList {
    /// The base URL the site was built for.
    pub base_url: String,
    /// Every published URL, sorted by path.
    pub urls: Vec<PublishedUrl>,
}

/// The URL path a file is served at: `x/index.html` is served as `x/`.
pub fn url_path(file_path: &str) -> String {
    url_path_of(file_path).into_owned()
}

/// Whether a file is part of the permanent, citable surface of the site. Theme
/// assets and search shards may change names between versions; pages, aliases,
/// feeds, exports and originals may not.
pub fn is_permanent(file_path: &str) -> bool {
    !(file_path.starts_with("static/")
        || (file_path.starts_with("search/") && file_path != "search/index.html")
        || file_path.starts_with('.')
        || file_path == URLS_FILE)
}

/// Builds `urls.json` from (file path, sha256) pairs.
///
/// Written by hand, byte for byte as `serde_json`'s pretty printer writes a
/// [`UrlList`] (a test holds it to that): a large site lists hundreds of
/// thousands of URLs, and every build writes the list again.
pub fn manifest<'e>(
    base_url: &str,
    entries: impl IntoIterator<Item = (&'e str, &'e str)>,
) -> OutputFile {
    let mut urls: Vec<(std::borrow::Cow<'e, str>, &'e str)> = entries
        .into_iter()
        .filter(|(p, _)| is_permanent(p))
        .map(|(p, sha256)| (url_path_of(p), sha256))
        .collect();
    urls.sort_by(|a, b| a.0.cmp(&b.0));
    urls.dedup_by(|a, b| a.0 == b.0);
    let mut out = Vec::with_capacity(64 + urls.len() * 128);
    let string = |out: &mut Vec<u8>, s: &str| {
        // Paths and digests almost never need escaping: copied as they are.
        if s.bytes().all(|b| b >= 0x20 && b != b'"' && b != b'\\') {
            out.push(b'"');
            out.extend_from_slice(s.as_bytes());
            out.push(b'"');
        } else {
            // Escaping a string into a vector cannot fail.
            let _ = serde_json::to_writer(&mut *out, s);
        }
    };
    out.extend_from_slice(b"{\n  \"base_url\": ");
    string(&mut out, base_url);
    out.extend_from_slice(b",\n  \"urls\": [");
    for (i, (path, sha256)) in urls.iter().enumerate() {
        if i > 0 {
            out.push(b',');
        }
        out.extend_from_slice(b"\n    {\n      \"path\": ");
        string(&mut out, path);
        out.extend_from_slice(b",\n      \"sha256\": ");
        string(&mut out, sha256);
        out.extend_from_slice(b"\n    }");
    }
    if !urls.is_empty() {
        out.extend_from_slice(b"\n  ");
    }
    out.extend_from_slice(b"]\n}\n");
    OutputFile {
        path: URLS_FILE.into(),
        bytes: out,
    }
}

/// [`url_path`], borrowing where the path is the file's.
fn url_path_of(file_path: &str) -> std::borrow::Cow<'_, str> {
    match file_path.strip_suffix("index.html") {
        Some(dir) if dir.is_empty() || dir.ends_with('/') => std::borrow::Cow::Borrowed(dir),
        _ => std::borrow::Cow::Borrowed(file_path),
    }
}

/// Reads a previous `urls.json` from a path or an http(s) URL.
pub fn load_previous(spec: &str) -> Result<UrlList, Diagnostic> {
    let text = if spec.starts_with("https://") || spec.starts_with("http://") {
        ureq::get(spec)
            .timeout(std::time::Duration::from_secs(30))
            .call()
            .map_err(|e| {
                Diagnostic::file(spec, format!("cannot fetch the previous URL list: {e}"))
            })?
            .into_string()
            .map_err(|e| {
                Diagnostic::file(spec, format!("cannot read the previous URL list: {e}"))
            })?
    } else {
        std::fs::read_to_string(spec).map_err(|e| {
            Diagnostic::file(spec, format!("cannot read the previous URL list: {e}"))
        })?
    };
    serde_json::from_str(&text).map_err(|e| {
        Diagnostic::at(
            spec,
            &text,
            e.line(),
            e.column(),
            format!("not a urls.json written by annals: {e}"),
        )
    })
}

/// Every previously published URL the new build would no longer serve.
pub fn missing(
    previous: &UrlList,
    current_paths: &BTreeSet<String>,
    base_url: &str,
    spec: &str,
) -> Vec<Diagnostic> {
    let mut errors = Vec::new();
    if previous.base_url != base_url {
        errors.push(
            Diagnostic::file(
                spec,
                format!(
                    "base_url changed from {} to {base_url}: every published URL would break",
                    previous.base_url
                ),
            )
            .with_help("keep the base_url the site was published under, or compare with --base-url set to it"),
        );
    }
    for url in &previous.urls {
        if is_permanent_url(&url.path) && !current_paths.contains(&url.path) {
            errors.push(
                Diagnostic::file(
                    spec,
                    format!("{}{} was published before and would now be missing", previous.base_url, url.path),
                )
                .with_help("restore the document, or add the old path to the `aliases` of the document that replaces it"),
            );
        }
    }
    errors
}

fn is_permanent_url(path: &str) -> bool {
    is_permanent(if path.ends_with('/') || path.is_empty() {
        "x/index.html"
    } else {
        path
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_and_permanence() {
        assert_eq!(url_path("documents/a/index.html"), "documents/a/");
        assert_eq!(url_path("index.html"), "");
        assert_eq!(url_path("feed.xml"), "feed.xml");
        assert!(is_permanent("documents/a/cite.bib"));
        assert!(!is_permanent("static/style.css"));
        assert!(!is_permanent("search/terms/ab.json"));
        assert!(is_permanent("search/index.html"));
    }

    #[test]
    fn the_list_is_written_as_serde_json_writes_it() {
        let sha = |n: u8| format!("{n:02x}").repeat(32);
        let files: Vec<(String, String)> = vec![
            ("index.html".into(), sha(1)),
            ("documents/b/index.html".into(), sha(2)),
            ("documents/a/index.html".into(), sha(3)),
            ("documents/a/cite.bib".into(), sha(4)),
            ("static/style.css".into(), sha(5)),
            ("search/terms/x.json".into(), sha(6)),
            ("search/index.html".into(), sha(7)),
            ("a \"quoted\" \\ é\u{1}/index.html".into(), sha(8)),
            ("xindex.html".into(), sha(9)),
            // A path listed twice keeps its first digest.
            ("documents/a/index.html".into(), sha(10)),
        ];
        for (base, files) in [
            ("https://x.org/a \"b\"/", &files[..]),
            ("/", &files[4..6]),
            ("/", &[][..]),
        ] {
            let written = manifest(base, files.iter().map(|(p, s)| (p.as_str(), s.as_str())));
            let mut urls: Vec<PublishedUrl> = files
                .iter()
                .filter(|(p, _)| is_permanent(p))
                .map(|(p, s)| PublishedUrl {
                    path: url_path(p),
                    sha256: s.clone(),
                })
                .collect();
            urls.sort_by(|a, b| a.path.cmp(&b.path));
            urls.dedup_by(|a, b| a.path == b.path);
            let list = UrlList {
                base_url: base.into(),
                urls,
            };
            let expected = serde_json::to_string_pretty(&list).unwrap() + "\n";
            assert_eq!(String::from_utf8(written.bytes).unwrap(), expected);
        }
    }

    #[test]
    fn reports_each_missing_url() {
        let prev = UrlList {
            base_url: "https://x.org/".into(),
            urls: vec![
                PublishedUrl {
                    path: "documents/a/".into(),
                    sha256: "1".into(),
                },
                PublishedUrl {
                    path: "documents/b/".into(),
                    sha256: "2".into(),
                },
            ],
        };
        let current: BTreeSet<String> = ["documents/a/".to_string()].into();
        let errs = missing(&prev, &current, "https://x.org/", "old.json");
        assert_eq!(errs.len(), 1);
        assert!(
            errs[0].message.contains("https://x.org/documents/b/"),
            "{}",
            errs[0].message
        );
        let errs = missing(&prev, &current, "https://y.org/", "old.json");
        assert_eq!(errs.len(), 2);
    }
}
