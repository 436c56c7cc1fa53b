//! Helpers shared by the integration tests: fixtures copied to temporary folders,
//! running the `annals` binary, snapshots of output trees, HTML parsing and a link
//! checker that resolves every internal link of a built site against its files.

// Each test binary uses a different subset of these helpers.
#![allow(dead_code)]

use scraper::{ElementRef, Html, Selector};
use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use std::ffi::OsStr;
use std::path::{Path, PathBuf};

/// The repository root (the crate's manifest folder).
pub fn repo_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// A copy of the bundled archive (its `content/`, `themes/` and `site.toml`)
/// in `dir`, to build from: a build keeps its cache in its root, which for the
/// repository itself is kept for its own `public/`.
pub fn bundled_archive_copy(dir: &Path) -> PathBuf {
    let root = dir.join("bundled-archive");
    for part in ["content", "themes"] {
        copy_dir(&repo_root().join(part), &root.join(part));
    }
    std::fs::copy(repo_root().join("site.toml"), root.join("site.toml")).expect("copy site.toml");
    root
}

/// `tests/fixtures/<name>`.
pub fn fixture_path(name: &str) -> PathBuf {
    let path = repo_root().join("tests").join("fixtures").join(name);
    assert!(path.is_dir(), "missing fixture {}", path.display());
    path
}

/// Copies a folder recursively (files and folders only).
/// A copy of fixture root `root` beside `out` (named after it), to build from:
/// a build keeps its cache in its root, and tests running at once must neither
/// share one nor leave one in the repository.
pub fn private_root(root: &Path, out: &Path) -> PathBuf {
    let name = out.file_name().and_then(OsStr::to_str).unwrap_or("out");
    let copy = out.with_file_name(format!("{name}.root"));
    if !copy.exists() {
        copy_dir(root, &copy);
    }
    copy
}

/// Builds never write into the repository's fixtures: a build keeps its cache
/// in its root, so tests build copies (see [`private_root`]).
pub fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap_or_else(|e| panic!("mkdir {}: {e}", to.display()));
    let mut entries: Vec<_> = std::fs::read_dir(from)
        .unwrap_or_else(|e| panic!("read {}: {e}", from.display()))
        .map(|e| e.unwrap())
        .collect();
    entries.sort_by_key(|e| e.file_name());
    for entry in entries {
        // A build cache left in a fixture by an older test run is not part of it.
        if entry.file_name() == ".annals-cache" {
            continue;
        }
        let src = entry.path();
        let dst = to.join(entry.file_name());
        let kind = entry.file_type().unwrap();
        if kind.is_dir() {
            copy_dir(&src, &dst);
        } else if kind.is_file() {
            std::fs::copy(&src, &dst)
                .unwrap_or_else(|e| panic!("copy {} -> {}: {e}", src.display(), dst.display()));
        }
    }
}

/// A fixture copied into a fresh temporary folder: `<tmp>/site` is the archive root;
/// `<tmp>/out` is the conventional output folder (not created).
pub struct Site {
    /// Keeps the temporary folder alive.
    pub tmp: tempfile::TempDir,
    /// The archive's root (with `site.toml`).
    pub root: PathBuf,
    /// `<tmp>/out`.
    pub out: PathBuf,
}

impl Site {
    /// Copies fixture `name` into a new temporary folder.
    pub fn new(name: &str) -> Site {
        let tmp = tempfile::tempdir().expect("temporary folder");
        let root = tmp.path().join("site");
        copy_dir(&fixture_path(name), &root);
        let out = tmp.path().join("out");
        Site { tmp, root, out }
    }

    /// Copies fixture `name`'s `content/` on top of this site's (adding its documents).
    pub fn overlay_content(&self, name: &str) {
        copy_dir(
            &fixture_path(name).join("content"),
            &self.root.join("content"),
        );
    }

    /// Writes `text` to `relative` under the site's root, making its folders.
    pub fn write(&self, relative: &str, text: &str) {
        let path = self.root.join(relative);
        std::fs::create_dir_all(path.parent().expect("a file under the root")).expect("folders");
        std::fs::write(&path, text).expect("written");
    }

    /// `annals build --root <root> --output <out> <extra…>`.
    pub fn build(&self, extra: &[&str]) -> Run {
        self.build_into(&self.out, extra)
    }

    /// `annals build --root <root> --output <output> <extra…>`.
    pub fn build_into(&self, output: &Path, extra: &[&str]) -> Run {
        let mut args: Vec<&OsStr> = vec![
            OsStr::new("build"),
            OsStr::new("--root"),
            self.root.as_os_str(),
            OsStr::new("--output"),
            output.as_os_str(),
        ];
        args.extend(extra.iter().map(OsStr::new));
        run(&args)
    }

    /// `annals check --root <root> <extra…>`.
    pub fn check(&self, extra: &[&str]) -> Run {
        let mut args: Vec<&OsStr> = vec![
            OsStr::new("check"),
            OsStr::new("--root"),
            self.root.as_os_str(),
        ];
        args.extend(extra.iter().map(OsStr::new));
        run(&args)
    }

    /// The names in the temporary folder (`site`, `out`, and anything a build left).
    pub fn tmp_listing(&self) -> BTreeSet<String> {
        std::fs::read_dir(self.tmp.path())
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect()
    }
}

/// What a run of the binary did.
#[derive(Debug)]
pub struct Run {
    /// Exit code (`None` if killed by a signal).
    pub code: Option<i32>,
    /// Standard output, as text.
    pub stdout: String,
    /// Standard error, as text.
    pub stderr: String,
}

impl Run {
    /// Panics with the run's output unless it exited with 0.
    pub fn assert_success(&self) -> &Self {
        assert_eq!(
            self.code,
            Some(0),
            "annals failed\n--- stdout\n{}\n--- stderr\n{}",
            self.stdout,
            self.stderr
        );
        self
    }

    /// Panics with the run's output unless it exited with 1.
    pub fn assert_exit_1(&self) -> &Self {
        assert_eq!(
            self.code,
            Some(1),
            "expected exit code 1\n--- stdout\n{}\n--- stderr\n{}",
            self.stdout,
            self.stderr
        );
        self
    }
}

/// Runs the `annals` binary built by cargo with `args`.
pub fn run<S: AsRef<OsStr>>(args: &[S]) -> Run {
    let output = assert_cmd::Command::cargo_bin("annals")
        .expect("the annals binary")
        // Stage lines carry timings; the tests compare diagnostics, not progress.
        .env("ANNALS_PROGRESS", "none")
        .args(args)
        .output()
        .expect("run annals");
    Run {
        code: output.status.code(),
        stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
    }
}

/// Parses the one-line summary `<verb> N documents, M pages in X s`: (N, M).
pub fn parse_summary(stdout: &str, verb: &str) -> (usize, usize) {
    let line = stdout.trim_end();
    assert!(
        !line.contains('\n'),
        "expected a single line of output, got {stdout:?}"
    );
    let fail = || -> ! { panic!("not a `{verb} N documents, M pages in X s` line: {stdout:?}") };
    let rest = line
        .strip_prefix(verb)
        .and_then(|r| r.strip_prefix(' '))
        .unwrap_or_else(|| fail());
    let (docs, rest) = rest.split_once(" documents, ").unwrap_or_else(|| fail());
    let (pages, rest) = rest.split_once(" pages in ").unwrap_or_else(|| fail());
    let seconds = rest.strip_suffix(" s").unwrap_or_else(|| fail());
    let seconds_ok = seconds.split_once('.').is_some_and(|(a, b)| {
        !a.is_empty()
            && !b.is_empty()
            && a.bytes().all(|c| c.is_ascii_digit())
            && b.bytes().all(|c| c.is_ascii_digit())
    });
    assert!(seconds_ok, "bad duration `{seconds}` in {stdout:?}");
    (
        docs.parse().unwrap_or_else(|_| fail()),
        pages.parse().unwrap_or_else(|_| fail()),
    )
}

/// Every file below `dir` (hidden ones included), by `/`-separated relative path.
pub fn snapshot(dir: &Path) -> BTreeMap<String, Vec<u8>> {
    let mut out = BTreeMap::new();
    if dir.exists() {
        collect_files(dir, dir, &mut out);
    }
    out
}

fn collect_files(base: &Path, dir: &Path, out: &mut BTreeMap<String, Vec<u8>>) {
    for entry in std::fs::read_dir(dir).unwrap_or_else(|e| panic!("read {}: {e}", dir.display())) {
        let entry = entry.unwrap();
        let path = entry.path();
        let kind = entry.file_type().unwrap();
        if kind.is_dir() {
            // Folders are recorded too, so an added empty folder shows up.
            out.insert(format!("{}/", rel_path(base, &path)), Vec::new());
            collect_files(base, &path, out);
        } else {
            let bytes =
                std::fs::read(&path).unwrap_or_else(|e| panic!("read {}: {e}", path.display()));
            out.insert(rel_path(base, &path), bytes);
        }
    }
}

fn rel_path(base: &Path, path: &Path) -> String {
    path.strip_prefix(base)
        .unwrap()
        .components()
        .map(|c| c.as_os_str().to_string_lossy().into_owned())
        .collect::<Vec<_>>()
        .join("/")
}

/// Asserts two snapshots are identical, naming the files that differ.
pub fn assert_same_tree(
    before: &BTreeMap<String, Vec<u8>>,
    after: &BTreeMap<String, Vec<u8>>,
    what: &str,
) {
    let removed: Vec<&String> = before.keys().filter(|k| !after.contains_key(*k)).collect();
    let added: Vec<&String> = after.keys().filter(|k| !before.contains_key(*k)).collect();
    let changed: Vec<&String> = before
        .iter()
        .filter(|(k, v)| after.get(*k).is_some_and(|w| w != *v))
        .map(|(k, _)| k)
        .collect();
    assert!(
        removed.is_empty() && added.is_empty() && changed.is_empty(),
        "{what}: trees differ\n  removed: {removed:?}\n  added: {added:?}\n  changed: {changed:?}"
    );
}

/// Every `.html` file below `dir`, sorted.
pub fn html_files(dir: &Path) -> Vec<PathBuf> {
    snapshot_paths(dir)
        .into_iter()
        .filter(|p| p.extension().is_some_and(|e| e == "html"))
        .collect()
}

fn snapshot_paths(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for entry in std::fs::read_dir(&d).unwrap() {
            let entry = entry.unwrap();
            if entry.file_type().unwrap().is_dir() {
                stack.push(entry.path());
            } else {
                out.push(entry.path());
            }
        }
    }
    out.sort();
    out
}

/// The file a site path is served from: `documents/x/` -> `documents/x/index.html`.
pub fn site_file(out: &Path, site_path: &str) -> PathBuf {
    let site_path = site_path.trim_start_matches('/');
    if site_path.is_empty() || site_path.ends_with('/') {
        out.join(site_path).join("index.html")
    } else {
        out.join(site_path)
    }
}

/// Parses the page at a site path (`topics/biometrics/`) of a built site.
pub fn page(out: &Path, site_path: &str) -> Html {
    let file = site_file(out, site_path);
    let text = std::fs::read_to_string(&file)
        .unwrap_or_else(|e| panic!("cannot read page {}: {e}", file.display()));
    Html::parse_document(&text)
}

/// A CSS selector (panics on a typo in the test).
pub fn sel(css: &str) -> Selector {
    Selector::parse(css).unwrap_or_else(|e| panic!("bad selector {css}: {e:?}"))
}

/// The text of an element, with runs of white space folded to one space.
pub fn text_of(el: ElementRef<'_>) -> String {
    el.text()
        .collect::<String>()
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
}

/// Every element matching `css`.
pub fn select<'a>(html: &'a Html, css: &str) -> Vec<ElementRef<'a>> {
    html.select(&sel(css)).collect()
}

/// The texts of every element matching `css`.
pub fn texts(html: &Html, css: &str) -> Vec<String> {
    select(html, css).into_iter().map(text_of).collect()
}

/// The document ids linked by the elements matching `css` (links to
/// `<base>documents/<id>/`), in page order.
pub fn linked_ids(html: &Html, css: &str, base_path: &str) -> Vec<String> {
    select(html, css)
        .into_iter()
        .map(|a| {
            let href = a.value().attr("href").expect("link without href");
            document_id(href, base_path)
                .unwrap_or_else(|| panic!("`{href}` is not a document URL under {base_path}"))
        })
        .collect()
}

/// `<base>documents/<id>/` -> `<id>`.
pub fn document_id(href: &str, base_path: &str) -> Option<String> {
    let rest = href.strip_prefix(base_path)?.strip_prefix("documents/")?;
    let id = rest.strip_suffix('/')?;
    (!id.is_empty() && !id.contains('/')).then(|| id.to_string())
}

/// Decodes `%XX` escapes (as UTF-8); other characters are kept.
pub fn percent_decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = |b: Option<&u8>| b.and_then(|b| (*b as char).to_digit(16));
            if let (Some(h), Some(l)) = (hex(bytes.get(i + 1)), hex(bytes.get(i + 2))) {
                out.push((h * 16 + l) as u8);
                i += 3;
                continue;
            }
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// A base URL split as annals does: (origin or empty, base path ending in `/`).
pub fn split_base_url(base_url: &str) -> (String, String) {
    let (origin, path) = match base_url
        .strip_prefix("https://")
        .map(|r| ("https://", r))
        .or_else(|| base_url.strip_prefix("http://").map(|r| ("http://", r)))
    {
        Some((scheme, rest)) => match rest.find('/') {
            Some(i) => (format!("{scheme}{}", &rest[..i]), rest[i..].to_string()),
            None => (format!("{scheme}{rest}"), "/".to_string()),
        },
        None => (String::new(), base_url.to_string()),
    };
    let path = if path.ends_with('/') {
        path
    } else {
        format!("{path}/")
    };
    (origin, path)
}

/// The result of checking a built site's links.
#[derive(Debug, Default)]
pub struct LinkReport {
    /// Internal links checked (each occurrence counts).
    pub checked: usize,
    /// Of which carried a `#fragment` that was checked against its target page.
    pub fragments_checked: usize,
    /// Every problem found: `page: attribute value: why`.
    pub problems: Vec<String>,
}

impl LinkReport {
    /// Panics listing every broken link.
    pub fn assert_ok(&self) {
        assert!(
            self.problems.is_empty(),
            "{} broken link(s):\n  {}",
            self.problems.len(),
            self.problems.join("\n  ")
        );
    }
}

/// Checks every link of every `.html` file of the site built in `out` for
/// `base_url`: `href`, `src` and `action` attributes, `<meta http-equiv=refresh>`
/// targets, and `<meta content>` values that are absolute URLs of the site.
///
/// A link is internal when it starts with the base path (or with the absolute base
/// URL); it must resolve to a file of `out` (a path ending in `/` to its
/// `index.html`), after stripping `?query` and `#fragment` and percent-decoding.
/// A `#fragment` must be an `id` (or `<a name>`) of the target page; same-page
/// `#fragment` links are checked likewise. A root-relative link outside the base
/// path, or a relative link, is a problem: every link must carry the base path.
pub fn check_links(out: &Path, base_url: &str) -> LinkReport {
    let (origin, base_path) = split_base_url(base_url);
    let absolute_base = format!("{origin}{base_path}");
    let mut report = LinkReport::default();
    let mut ids_cache: HashMap<PathBuf, HashSet<String>> = HashMap::new();
    let link_attrs = sel("[href], [src], [action]");
    let refresh = sel("meta[http-equiv]");
    let metas = sel("meta[content]");
    for file in html_files(out) {
        let text = std::fs::read_to_string(&file).unwrap();
        let html = Html::parse_document(&text);
        let page_name = rel_path(out, &file);
        ids_cache
            .entry(file.clone())
            .or_insert_with(|| ids_of(&html));
        let mut links: Vec<(String, String)> = Vec::new();
        for el in html.select(&link_attrs) {
            for attr in ["href", "src", "action"] {
                if let Some(v) = el.value().attr(attr) {
                    links.push((attr.to_string(), v.trim().to_string()));
                }
            }
        }
        for el in html.select(&refresh) {
            let v = el.value();
            if v.attr("http-equiv")
                .is_some_and(|h| h.eq_ignore_ascii_case("refresh"))
            {
                let content = v.attr("content").unwrap_or("");
                let lower = content.to_ascii_lowercase();
                match lower.find("url=") {
                    Some(i) => links.push((
                        "meta refresh".into(),
                        content[i + 4..]
                            .trim()
                            .trim_matches(['\'', '"'])
                            .to_string(),
                    )),
                    None => report
                        .problems
                        .push(format!("{page_name}: meta refresh without url: {content}")),
                }
            }
        }
        if !origin.is_empty() {
            for el in html.select(&metas) {
                let content = el.value().attr("content").unwrap_or("");
                if content.starts_with(&absolute_base) {
                    links.push(("meta content".into(), content.to_string()));
                }
            }
        }
        for (attr, value) in links {
            if let Err(why) = check_link(
                &value,
                &file,
                out,
                &origin,
                &base_path,
                &mut ids_cache,
                &mut report,
            ) {
                report
                    .problems
                    .push(format!("{page_name}: {attr}=\"{value}\": {why}"));
            }
        }
    }
    report
}

/// Checks one link found on `page`; counts it in `report` when internal.
fn check_link(
    value: &str,
    page: &Path,
    out: &Path,
    origin: &str,
    base_path: &str,
    ids_cache: &mut HashMap<PathBuf, HashSet<String>>,
    report: &mut LinkReport,
) -> Result<(), String> {
    if value.is_empty() {
        return Err("empty link".into());
    }
    if let Some(fragment) = value.strip_prefix('#') {
        if !fragment.is_empty() {
            report.fragments_checked += 1;
            if !ids_cache[page].contains(&percent_decode(fragment)) {
                return Err(format!("no element with id `{fragment}` on this page"));
            }
        }
        return Ok(());
    }
    let absolute_base = format!("{origin}{base_path}");
    let site_relative = if !origin.is_empty() && value.starts_with(&absolute_base) {
        &value[origin.len()..]
    } else if value.starts_with("//") || has_scheme(value) {
        return Ok(()); // external
    } else if value.starts_with('/') {
        value
    } else {
        return Err("relative link: every link must carry the base path".into());
    };
    let Some(inside) = site_relative.strip_prefix(base_path) else {
        return Err(format!("outside the base path {base_path}"));
    };
    report.checked += 1;
    let (inside, fragment) = match inside.split_once('#') {
        Some((p, f)) => (p, Some(f)),
        None => (inside, None),
    };
    let inside = inside.split_once('?').map_or(inside, |(p, _)| p);
    let decoded = percent_decode(inside);
    if decoded.split('/').any(|s| s == "..") {
        return Err("`..` in an internal link".into());
    }
    let target = site_file(out, &decoded);
    if !target.is_file() {
        return Err(format!("no file {}", target.display()));
    }
    if let Some(fragment) = fragment.filter(|f| !f.is_empty()) {
        if target.extension().is_some_and(|e| e == "html") {
            report.fragments_checked += 1;
            let ids = ids_cache.entry(target.clone()).or_insert_with(|| {
                ids_of(&Html::parse_document(
                    &std::fs::read_to_string(&target).unwrap(),
                ))
            });
            if !ids.contains(&percent_decode(fragment)) {
                return Err(format!(
                    "no element with id `{fragment}` in {}",
                    target.display()
                ));
            }
        }
    }
    Ok(())
}

/// Every `id` (and `<a name>`) of a page.
pub fn ids_of(html: &Html) -> HashSet<String> {
    let mut ids: HashSet<String> = html
        .select(&sel("[id]"))
        .filter_map(|e| e.value().attr("id").map(str::to_string))
        .collect();
    ids.extend(
        html.select(&sel("a[name]"))
            .filter_map(|e| e.value().attr("name").map(str::to_string)),
    );
    ids
}

fn has_scheme(value: &str) -> bool {
    match value.find(':') {
        Some(i) => {
            let scheme = &value[..i];
            !scheme.is_empty()
                && scheme.starts_with(|c: char| c.is_ascii_alphabetic())
                && scheme
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '-' | '.'))
                && !value[..i].contains('/')
        }
        None => false,
    }
}

/// One diagnostic header parsed from stderr: `file:line:col: error: message`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DiagnosticLine {
    /// The file as printed.
    pub file: String,
    /// The line (0 when the diagnostic has none).
    pub line: usize,
    /// The column, if printed.
    pub column: Option<usize>,
    /// The message after `error: `.
    pub message: String,
}

/// Every diagnostic header of an error report, in printed order (the final
/// `error: N problems found` line excluded).
pub fn diagnostics(stderr: &str) -> Vec<DiagnosticLine> {
    let mut out = Vec::new();
    for line in stderr.lines() {
        let Some((location, message)) = line.split_once(": error: ") else {
            continue;
        };
        if location.starts_with(' ') || location.contains(" | ") {
            continue;
        }
        let mut parts = location.rsplitn(3, ':');
        let last = parts.next().unwrap_or("");
        let middle = parts.next();
        let first = parts.next();
        let num = |s: &str| s.parse::<usize>().ok();
        let (file, line_no, column) = match (first, middle.and_then(num), num(last)) {
            (Some(f), Some(l), Some(c)) => (f.to_string(), l, Some(c)),
            _ => match (middle, num(last)) {
                (Some(_), Some(l)) => (location.rsplit_once(':').unwrap().0.to_string(), l, None),
                _ => (location.to_string(), 0, None),
            },
        };
        out.push(DiagnosticLine {
            file,
            line: line_no,
            column,
            message: message.to_string(),
        });
    }
    out
}

/// The final line of an error report: `error: N problem(s) found; nothing was written`.
pub fn problem_count(stderr: &str) -> usize {
    let last = stderr
        .lines()
        .rev()
        .find(|l| !l.trim().is_empty())
        .unwrap_or("");
    let count = last
        .strip_prefix("error: ")
        .and_then(|r| r.split_once(' '))
        .and_then(|(n, rest)| {
            (rest == "problem found; nothing was written"
                || rest == "problems found; nothing was written")
                .then_some(n)
        })
        .unwrap_or_else(|| panic!("no `error: N problems found` line at the end of:\n{stderr}"));
    count.parse().unwrap()
}

/// The ids of the documents of an archive, read from each Markdown file's front
/// matter (`id:` at the top level), with whether it is a draft: (file, id, draft).
pub fn front_matter_ids(root: &Path) -> Vec<(PathBuf, String, bool)> {
    let dir = root.join("content").join("documents");
    let mut out = Vec::new();
    if !dir.is_dir() {
        return out;
    }
    for file in snapshot_paths(&dir) {
        let hidden = file
            .strip_prefix(&dir)
            .unwrap()
            .components()
            .any(|c| c.as_os_str().to_string_lossy().starts_with('.'));
        let markdown = file
            .extension()
            .is_some_and(|e| e.eq_ignore_ascii_case("md") || e.eq_ignore_ascii_case("markdown"));
        if hidden || !markdown {
            continue;
        }
        let text = std::fs::read_to_string(&file).unwrap();
        let text = text.trim_start_matches('\u{feff}');
        let mut lines = text.lines();
        assert_eq!(
            lines.next().map(str::trim_end),
            Some("---"),
            "{} does not start with front matter",
            file.display()
        );
        let mut id = None;
        let mut draft = false;
        for line in lines {
            let line = line.trim_end();
            if line == "---" || line == "..." {
                break;
            }
            let unquote = |v: &str| {
                let v = v.split(" #").next().unwrap_or("").trim();
                v.trim_matches(['"', '\'']).to_string()
            };
            if let Some(v) = line.strip_prefix("id:") {
                id = Some(unquote(v));
            } else if let Some(v) = line.strip_prefix("draft:") {
                draft = unquote(v) == "true";
            }
        }
        let id = id.unwrap_or_else(|| panic!("no `id:` line in {}", file.display()));
        out.push((file, id, draft));
    }
    out
}
