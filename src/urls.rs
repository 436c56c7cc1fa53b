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
    if file_path == "index.html" {
        return String::new();
    }
    match file_path.strip_suffix("/index.html") {
        Some(dir) => format!("{dir}/"),
        None => file_path.to_string(),
    }
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
pub fn manifest(base_url: &str, mut entries: Vec<(String, String)>) -> OutputFile {
    entries.retain(|(p, _)| is_permanent(p));
    let mut urls: Vec<PublishedUrl> = entries
        .into_iter()
        .map(|(p, sha256)| PublishedUrl {
            path: url_path(&p),
            sha256,
        })
        .collect();
    urls.sort_by(|a, b| a.path.cmp(&b.path));
    urls.dedup_by(|a, b| a.path == b.path);
    let list = UrlList {
        base_url: base_url.to_string(),
        urls,
    };
    let json = serde_json::to_string_pretty(&list).unwrap_or_default();
    OutputFile {
        path: URLS_FILE.into(),
        bytes: (json + "\n").into_bytes(),
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
