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
    out.extend_from_slice(&list_head(base_url));
    for (i, (path, sha256)) in urls.iter().enumerate() {
        if i > 0 {
            out.push(b',');
        }
        out.extend_from_slice(b"\n    {\n      \"path\": ");
        json_string(&mut out, path);
        out.extend_from_slice(b",\n      \"sha256\": ");
        json_string(&mut out, sha256);
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

/// A JSON string as `serde_json` writes it. Paths and digests almost never
/// need escaping: copied as they are.
fn json_string(out: &mut Vec<u8>, s: &str) {
    if s.bytes().all(|b| b >= 0x20 && b != b'"' && b != b'\\') {
        out.push(b'"');
        out.extend_from_slice(s.as_bytes());
        out.push(b'"');
    } else {
        // Escaping a string into a vector cannot fail.
        let _ = serde_json::to_writer(&mut *out, s);
    }
}

/// The list's bytes up to its first entry.
fn list_head(base_url: &str) -> Vec<u8> {
    let mut out = b"{\n  \"base_url\": ".to_vec();
    json_string(&mut out, base_url);
    out.extend_from_slice(b",\n  \"urls\": [");
    out
}

/// How each entry of the list starts, up to its path's opening quote.
const ENTRY_START: &[u8] = b"\n    {\n      \"path\": \"";

/// What follows an entry's path, up to its digest's opening quote.
const PATH_TO_DIGEST: &[u8] = b",\n      \"sha256\": \"";

/// The list [`manifest`] would make, made instead from the list the last
/// build published (`old`), when this build produced the same files: only
/// the digests of the files it wrote (`written`: site path, SHA-256) are
/// written over theirs, each in place (a digest is 64 digits), found by a
/// binary search of the sorted list. At 10k documents a body edit changes a
/// few of 40,000 entries, and making the list again took 17 ms. `None` if
/// `old` is not a list for `base_url`, or does not list each written
/// permanent file with a digest.
pub fn patched(old: Vec<u8>, base_url: &str, written: &[(String, String)]) -> Option<OutputFile> {
    let head = list_head(base_url);
    if !old.starts_with(&head) {
        return None;
    }
    let is_digest = |d: &[u8]| d.len() == 64 && d.iter().all(|b| b.is_ascii_hexdigit());
    let mut bytes = old;
    for (path, sha256) in written.iter().filter(|(path, _)| is_permanent(path)) {
        if !is_digest(sha256.as_bytes()) {
            return None;
        }
        let at = digest_place(&bytes, head.len(), &url_path_of(path))?;
        let slot = bytes.get_mut(at..at + 65)?;
        if !is_digest(&slot[..64]) || slot[64] != b'"' {
            return None;
        }
        slot[..64].copy_from_slice(sha256.as_bytes());
    }
    Some(OutputFile {
        path: URLS_FILE.into(),
        bytes,
    })
}

/// Where the digest of `url_path`'s entry starts in `list` (whose entries
/// start after `from`, sorted by path), by a binary search over its bytes:
/// each step reads the first entry at or after the middle.
fn digest_place(list: &[u8], from: usize, url_path: &str) -> Option<usize> {
    let (mut low, mut high) = (from, list.len());
    while low < high {
        let middle = low + (high - low) / 2;
        let entry = (list[middle..].windows(ENTRY_START.len()))
            .position(|w| w == ENTRY_START)
            .map(|n| middle + n)
            .filter(|&entry| entry < high);
        let Some(entry) = entry else {
            high = middle;
            continue;
        };
        let (path, end) = json_string_at(list, entry + ENTRY_START.len())?;
        match path.as_ref().cmp(url_path) {
            std::cmp::Ordering::Less => low = entry + 1,
            std::cmp::Ordering::Greater => high = middle,
            std::cmp::Ordering::Equal => {
                let rest = list.get(end + 1..)?;
                return rest
                    .starts_with(PATH_TO_DIGEST)
                    .then_some(end + 1 + PATH_TO_DIGEST.len());
            }
        }
    }
    None
}

/// The JSON string whose text starts at `at` (after its opening quote),
/// and where its closing quote is.
fn json_string_at(bytes: &[u8], at: usize) -> Option<(std::borrow::Cow<'_, str>, usize)> {
    let mut escaped = false;
    let mut any_escape = false;
    for (n, &b) in bytes.get(at..)?.iter().enumerate() {
        match (escaped, b) {
            (true, _) => escaped = false,
            (false, b'\\') => (escaped, any_escape) = (true, true),
            (false, b'"') => {
                let end = at + n;
                let text = if any_escape {
                    std::borrow::Cow::Owned(serde_json::from_slice(&bytes[at - 1..=end]).ok()?)
                } else {
                    std::borrow::Cow::Borrowed(std::str::from_utf8(&bytes[at..end]).ok()?)
                };
                return Some((text, end));
            }
            _ => {}
        }
    }
    None
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
                .with_help("restore the document, or add its old folder to the `aliases` of the document that replaces it (an alias folder serves the page, the citation exports and the original under its file name)"),
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
    fn a_patched_list_is_the_list_made_again() {
        let sha = |n: u8| format!("{n:02x}").repeat(32);
        let files: Vec<(String, String)> = [
            ("index.html", 1),
            ("documents/a/index.html", 2),
            ("documents/a/cite.bib", 3),
            ("documents/a\"quoted/index.html", 4),
            ("documents/b/index.html", 5),
            ("search/terms/a.json", 6),
            ("static/style.css", 7),
        ]
        .into_iter()
        .map(|(p, n)| (p.to_string(), sha(n)))
        .collect();
        let list = |files: &[(String, String)], base: &str| {
            manifest(base, files.iter().map(|(p, s)| (p.as_str(), s.as_str()))).bytes
        };
        let base = "https://example.org/archive/";
        let old = list(&files, base);
        // Two changed, one written with the same bytes, two not listed.
        let written: Vec<(String, String)> = [
            ("documents/a/index.html", 20),
            ("documents/a\"quoted/index.html", 40),
            ("documents/b/index.html", 5),
            ("search/terms/a.json", 60),
            ("static/style.css", 70),
        ]
        .into_iter()
        .map(|(p, n)| (p.to_string(), sha(n)))
        .collect();
        let mut now = files.clone();
        for (path, sha256) in &written {
            if let Some(file) = now.iter_mut().find(|(p, _)| p == path) {
                file.1 = sha256.clone();
            }
        }
        let made = patched(old.clone(), base, &written).map(|f| f.bytes);
        assert_eq!(made.as_deref(), Some(&list(&now, base)[..]));
        assert_eq!(
            patched(old.clone(), base, &[]).map(|f| f.bytes),
            Some(old.clone())
        );
        // Not a list for this base URL; a written file it does not list; a
        // digest that is not one.
        assert!(patched(old.clone(), "https://example.org/", &written).is_none());
        let new_page = [("documents/c/index.html".to_string(), sha(9))];
        assert!(patched(old.clone(), base, &new_page).is_none());
        let bad = [("documents/a/index.html".to_string(), "z".repeat(64))];
        assert!(patched(old.clone(), base, &bad).is_none());
        assert!(patched(old[..old.len() / 2].to_vec(), base, &written).is_none());

        // Larger lists, whose paths share prefixes, need escaping or sort
        // before and after `index.html`: every file written in turn, each
        // patched list equal to the list made again.
        let mut files: Vec<(String, String)> = Vec::new();
        for n in 0..300u32 {
            let path = match n % 6 {
                0 => format!("documents/doc-{n:04}/index.html"),
                1 => format!("documents/doc-{n:04}/cite.bib"),
                2 => format!("documents/doc-{:04}\\x\"{n}/index.html", n / 2),
                3 => format!("topics/t{}/index.html", n % 7),
                4 => format!("documents/doc-{:04}/a-{n}.json", n / 3),
                _ => format!("search/docs/{n}.json"),
            };
            files.push((path, sha((n % 200) as u8)));
        }
        files.sort();
        files.dedup_by(|a, b| a.0 == b.0);
        let mut now = files.clone();
        for step in 0..now.len() {
            let old = list(&now, base);
            let at = (step * 7919) % now.len();
            now[at].1 = sha((step % 250) as u8);
            let written = [now[at].clone(), now[(at + 1) % now.len()].clone()];
            let made = patched(old, base, &written).map(|f| f.bytes);
            assert_eq!(
                made.as_deref(),
                Some(&list(&now, base)[..]),
                "{}",
                now[at].0
            );
        }
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
