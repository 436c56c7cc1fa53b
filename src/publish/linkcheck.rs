//! The internal link checker: every `href`, `src`, `srcset`, `poster`, `action` and
//! meta-refresh URL in the produced HTML (and every `url(...)` in CSS) that points
//! into the site must resolve to a produced file under the configured base path.
//!
//! It runs on the pages as they are rendered, before the new site is swapped in, so
//! a theme mistake (a hand-written `/static/x.css` on a site served under
//! `/archive/`) fails the build instead of shipping. Pages are scanned with a small
//! byte-level tag scanner rather than an HTML parser, and each distinct target is
//! remembered once with the first page that used it, so checking stays linear in the
//! size of the site and memory grows with the number of distinct targets only.
//!
//! What is checked is what GitHub Pages would serve: `a/` is `a/index.html`, `a`
//! is the file `a`, or the folder `a/` (redirected), or `a.html`. Fragments are not
//! checked.

use crate::config::Config;
use crate::diagnostics::Diagnostic;
use crate::render::OutputFile;
use memchr::{memchr, memchr_iter, memmem};
use rustc_hash::{FxHashMap, FxHashSet};
use std::path::Path;
use std::sync::Mutex;

/// At most this many broken links are reported one by one; the rest are counted.
pub const MAX_REPORTED: usize = 50;

/// A URL found in a page, with the 1-based line it is on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FoundLink {
    /// The attribute value as written (entities decoded).
    pub url: String,
    /// 1-based line in the page.
    pub line: usize,
}

/// Where a link points.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Target {
    /// Outside the site (another host, `mailto:`, a fragment of the same page…).
    External,
    /// A site path below the base path, normalised and percent-decoded (`documents/a/`).
    Internal(String),
    /// On this host but not under the base path, or climbing above it with `..`:
    /// broken on GitHub Pages whatever files exist.
    OutsideBase,
}

/// Why a link is broken before looking at the produced files, if it is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Fault {
    /// Nothing known yet: broken only if no produced file answers it.
    None,
    /// On this host but outside the base path.
    OutsideBase,
    /// A relative link on `404.html`, which is served at every missing address,
    /// so a relative link there resolves differently on every one of them.
    RelativeOn404,
}

#[derive(Debug, Clone)]
struct Use {
    page: String,
    line: usize,
    url: String,
    pages: usize,
    fault: Fault,
}

/// What a successful check looked at.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct LinkReport {
    /// HTML and CSS files scanned.
    pub files: usize,
    /// Internal links found (counting repeats).
    pub links: usize,
    /// Distinct internal targets verified.
    pub targets: usize,
}

/// Collects the internal links of pages as they are produced (from any number of
/// threads), then verifies them against the complete list of produced files.
pub struct LinkChecker {
    base_path: String,
    /// `https://host/base/` in lower case for matching absolute links to this site.
    absolute_base: Option<String>,
    /// `//host/base/` for protocol-relative links.
    relative_base: Option<String>,
    found: Mutex<Found>,
}

#[derive(Default)]
struct Found {
    /// By target: every page's links land here, so its hashing is on the
    /// build's path (a fast hash; reports are sorted, never in map order).
    targets: FxHashMap<String, Use>,
    files: usize,
    links: usize,
}

impl LinkChecker {
    /// A checker for a site built with `config`'s base URL.
    pub fn new(config: &Config) -> Self {
        let (absolute_base, relative_base) = if config.origin.is_empty() {
            (None, None)
        } else {
            let abs = config.base_url();
            let rel = abs.find("//").map(|i| abs[i..].to_string());
            (
                Some(abs.to_ascii_lowercase()),
                rel.map(|r| r.to_ascii_lowercase()),
            )
        };
        LinkChecker {
            base_path: config.base_path.clone(),
            absolute_base,
            relative_base,
            found: Mutex::new(Found::default()),
        }
    }

    /// Scans a produced file if it is HTML or CSS; other files are ignored.
    pub fn observe(&self, file: &OutputFile) {
        let kind = if file.path.ends_with(".html") || file.path.ends_with(".htm") {
            Kind::Html
        } else if file.path.ends_with(".css") {
            Kind::Css
        } else {
            return;
        };
        let links = match kind {
            Kind::Html => links_in_html(&file.bytes),
            Kind::Css => links_in_css(&file.bytes),
        };
        // Resolve outside the lock; keep one entry per target for this page.
        let total = links.len();
        let mut resolved: FxHashMap<String, (FoundLink, Fault)> =
            FxHashMap::with_capacity_and_hasher(total, Default::default());
        let not_found_page = file.path == "404.html";
        for link in links {
            let (key, fault) = match self.resolve(&file.path, &link.url) {
                Target::External => continue,
                Target::Internal(_) if not_found_page && is_relative(&link.url) => {
                    (format!("\0404\0{}", link.url), Fault::RelativeOn404)
                }
                Target::Internal(path) => (path, Fault::None),
                Target::OutsideBase => (format!("\0{}", link.url), Fault::OutsideBase),
            };
            resolved.entry(key).or_insert((link, fault));
        }
        let mut found = self.found.lock().unwrap_or_else(|e| e.into_inner());
        found.files += 1;
        found.links += total;
        for (key, (link, fault)) in resolved {
            match found.targets.get_mut(&key) {
                Some(u) => {
                    u.pages += 1;
                    // Keep the first page in path order so reports are stable
                    // whatever order the threads ran in.
                    if file.path < u.page {
                        u.page = file.path.clone();
                        u.line = link.line;
                        u.url = link.url;
                    }
                }
                None => {
                    found.targets.insert(
                        key,
                        Use {
                            page: file.path.clone(),
                            line: link.line,
                            url: link.url,
                            pages: 1,
                            fault,
                        },
                    );
                }
            }
        }
    }

    /// The internal target of every link observed so far, as [`Self::verify`]
    /// checks them, sorted. A build records them, so that the next one, which
    /// takes pages from this site without reading them again, can tell whether
    /// their links still resolve ([`all_resolve`]).
    pub fn targets(&self) -> Vec<String> {
        let found = self.found.lock().unwrap_or_else(|e| e.into_inner());
        let mut targets: Vec<String> = found
            .targets
            .iter()
            .filter(|(_, u)| u.fault == Fault::None)
            .map(|(key, _)| key.clone())
            .collect();
        targets.sort_unstable();
        targets
    }

    /// Checks every link collected so far against the produced files (site paths
    /// such as `documents/a/index.html`), and forgets them. Each broken target is reported once, at the first
    /// page (in path order) using it, with the number of other pages affected.
    pub fn verify<'a>(
        &self,
        produced: impl IntoIterator<Item = &'a str>,
    ) -> Result<LinkReport, Vec<Diagnostic>> {
        self.verify_located(produced, &|_, _| None)
    }

    /// [`LinkChecker::verify`], placing each broken link where `locate` finds
    /// it written (given the page's site path and the link as the page has
    /// it): a link of a document's body is reported at its Markdown, not at
    /// the line of the page it was rendered to. Links `locate` does not place
    /// (those of templates, raw HTML) are reported at the page.
    pub fn verify_located<'a>(
        &self,
        produced: impl IntoIterator<Item = &'a str>,
        locate: &dyn Fn(&str, &str) -> Option<Diagnostic>,
    ) -> Result<LinkReport, Vec<Diagnostic>> {
        let files: FxHashSet<&str> = produced.into_iter().collect();
        let found = std::mem::take(&mut *self.found.lock().unwrap_or_else(|e| e.into_inner()));
        let mut broken: Vec<(&String, &Use)> = found
            .targets
            .iter()
            .filter(|(key, u)| u.fault != Fault::None || !resolves(key, &files))
            .collect();
        let report = LinkReport {
            files: found.files,
            links: found.links,
            targets: found.targets.len(),
        };
        if broken.is_empty() {
            return Ok(report);
        }
        broken
            .sort_by(|a, b| (&a.1.page, a.1.line, &a.1.url).cmp(&(&b.1.page, b.1.line, &b.1.url)));
        let total = broken.len();
        let mut diagnostics: Vec<Diagnostic> = broken
            .iter()
            .take(MAX_REPORTED)
            .map(|(key, u)| {
                let page_url = format!("{}{}", self.base_path, crate::urls::url_path(&u.page));
                let message = match u.fault {
                    Fault::OutsideBase => format!(
                        "broken link `{}` on page {page_url}: it is outside the site's base path `{}`",
                        u.url, self.base_path
                    ),
                    Fault::RelativeOn404 => format!(
                        "relative link `{}` on the 404 page: it is served at every missing address, so relative links break",
                        u.url
                    ),
                    Fault::None => format!(
                        "broken link `{}` on page {page_url}: nothing is published at `{}{}`",
                        u.url, self.base_path, key
                    ),
                };
                let placed = locate(&u.page, &u.url);
                let in_body = placed.is_some();
                let mut d = placed.unwrap_or_else(|| {
                    let mut d = Diagnostic::file(&u.page, "");
                    d.line = u.line;
                    d
                });
                d.message = message;
                let others = match u.pages {
                    1 => String::new(),
                    2 => " (1 other page has the same link)".to_string(),
                    n => format!(" ({} other pages have the same link)", n - 1),
                };
                d.help = Some(match u.fault {
                    Fault::None | Fault::OutsideBase if in_body => format!("a relative link in a body is resolved against the document's page ({page_url}); to another document, write doc:<id>{others}"),
                    Fault::OutsideBase | Fault::RelativeOn404 => format!("build URLs in templates with url(path=\"…\") or site.urls so the base path is included{others}"),
                    Fault::None => format!("check the template or the Markdown that writes this link{others}"),
                });
                d
            })
            .collect();
        if total > MAX_REPORTED {
            diagnostics.push(Diagnostic::file(
                "(link check)",
                format!("{} more broken links not shown", total - MAX_REPORTED),
            ));
        }
        Err(diagnostics)
    }

    /// Where `url`, found on the page at site path `page`, points.
    pub fn resolve(&self, page: &str, url: &str) -> Target {
        let url = url.trim_matches(|c: char| c.is_ascii_whitespace());
        if url.is_empty() || url.starts_with('#') || url.starts_with('?') {
            return Target::External;
        }
        let end = url.find(['#', '?']).unwrap_or(url.len());
        let url = &url[..end];
        let site_relative: String = if has_scheme(url) {
            match &self.absolute_base {
                Some(base) if starts_with_ignore_case(url, base) => url[base.len()..].to_string(),
                Some(base) if eq_ignore_case(url, base.trim_end_matches('/')) => String::new(),
                _ => return Target::External,
            }
        } else if url.starts_with("//") {
            match &self.relative_base {
                Some(base) if starts_with_ignore_case(url, base) => url[base.len()..].to_string(),
                Some(base) if eq_ignore_case(url, base.trim_end_matches('/')) => String::new(),
                _ => return Target::External,
            }
        } else if let Some(path) = url.strip_prefix('/') {
            let base = &self.base_path[1..];
            if let Some(rest) = path.strip_prefix(base) {
                rest.to_string()
            } else if format!("{path}/") == base {
                String::new()
            } else {
                return Target::OutsideBase;
            }
        } else {
            let dir = match page.rfind('/') {
                Some(i) => &page[..=i],
                None => "",
            };
            format!("{dir}{url}")
        };
        match normalise(site_relative) {
            Some(path) => Target::Internal(path),
            None => Target::OutsideBase,
        }
    }
}

enum Kind {
    Html,
    Css,
}

/// Whether every target (as [`LinkChecker::targets`] lists them) resolves to one
/// of the `produced` files.
pub fn all_resolve<'a>(targets: &[String], produced: impl IntoIterator<Item = &'a str>) -> bool {
    let files: FxHashSet<&str> = produced.into_iter().collect();
    targets.iter().all(|t| resolves(t, &files))
}

/// Whether a normalised site path names a produced file the way GitHub Pages
/// resolves it.
fn resolves(path: &str, files: &FxHashSet<&str>) -> bool {
    if path.is_empty() || path.ends_with('/') {
        return files.contains(format!("{path}index.html").as_str());
    }
    files.contains(path)
        || files.contains(format!("{path}/index.html").as_str())
        || files.contains(format!("{path}.html").as_str())
}

/// Resolves `.` and `..` segments and percent-escapes; `None` if the path climbs
/// above the site root or does not decode to UTF-8.
fn normalise(path: String) -> Option<String> {
    // Most links are already clean: no escapes, no dot or empty segments.
    let clean = !path.contains('%')
        && !path.contains("//")
        && !path.starts_with('/')
        && path.split('/').all(|s| s != "." && s != "..");
    if clean {
        return Some(path);
    }
    let decoded = percent_decode(&path)?;
    let trailing = decoded.ends_with('/')
        || decoded.ends_with("/.")
        || decoded.ends_with("/..")
        || decoded == "."
        || decoded == "..";
    let mut segments: Vec<&str> = Vec::new();
    for seg in decoded.split('/') {
        match seg {
            "" | "." => {}
            ".." => {
                segments.pop()?;
            }
            s => segments.push(s),
        }
    }
    let mut out = segments.join("/");
    if trailing && !out.is_empty() {
        out.push('/');
    }
    Some(out)
}

fn percent_decode(s: &str) -> Option<String> {
    if !s.contains('%') {
        return Some(s.to_string());
    }
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' && i + 2 < bytes.len() {
            let hex = std::str::from_utf8(&bytes[i + 1..i + 3]).ok()?;
            match u8::from_str_radix(hex, 16) {
                Ok(b) => {
                    out.push(b);
                    i += 3;
                    continue;
                }
                Err(_) => out.push(b'%'),
            }
        } else {
            out.push(bytes[i]);
        }
        i += 1;
    }
    String::from_utf8(out).ok()
}

/// A path relative to the page (`a/`, `../b`), not to the host or a scheme.
fn is_relative(url: &str) -> bool {
    let url = url.trim();
    !(url.starts_with('/') || url.starts_with('#') || url.starts_with('?') || has_scheme(url))
}

fn has_scheme(url: &str) -> bool {
    let Some(colon) = url.find(':') else {
        return false;
    };
    let scheme = &url[..colon];
    !scheme.is_empty()
        && scheme.as_bytes()[0].is_ascii_alphabetic()
        && scheme
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'+' | b'-' | b'.'))
}

fn starts_with_ignore_case(s: &str, prefix: &str) -> bool {
    s.len() >= prefix.len()
        && s.is_char_boundary(prefix.len())
        && s[..prefix.len()].eq_ignore_ascii_case(prefix)
}

fn eq_ignore_case(a: &str, b: &str) -> bool {
    a.eq_ignore_ascii_case(b)
}

/// Attributes whose values are URLs.
fn is_url_attribute(name: &[u8]) -> bool {
    name.eq_ignore_ascii_case(b"href")
        || name.eq_ignore_ascii_case(b"src")
        || name.eq_ignore_ascii_case(b"poster")
        || name.eq_ignore_ascii_case(b"action")
        || name.eq_ignore_ascii_case(b"formaction")
}

/// Elements whose content is raw text, where `<` starts no tag.
fn raw_text_end(tag: &[u8]) -> Option<&'static [u8]> {
    if tag.eq_ignore_ascii_case(b"script") {
        Some(b"</script")
    } else if tag.eq_ignore_ascii_case(b"style") {
        Some(b"</style")
    } else if tag.eq_ignore_ascii_case(b"textarea") {
        Some(b"</textarea")
    } else if tag.eq_ignore_ascii_case(b"title") {
        Some(b"</title")
    } else {
        None
    }
}

/// Counts lines incrementally as the scanner moves forward.
struct Lines<'a> {
    bytes: &'a [u8],
    pos: usize,
    line: usize,
}

impl Lines<'_> {
    fn at(&mut self, offset: usize) -> usize {
        if offset > self.pos {
            self.line += memchr_iter(b'\n', &self.bytes[self.pos..offset]).count();
            self.pos = offset;
        }
        self.line
    }
}

/// Every URL-valued attribute in an HTML document, in order: `href`, `src`,
/// `poster`, `action`, `formaction`, each candidate of `srcset`, and the URL of a
/// `<meta http-equiv="refresh">`. Comments and the content of `script`, `style`,
/// `textarea` and `title` are skipped.
pub fn links_in_html(html: &[u8]) -> Vec<FoundLink> {
    let mut out = Vec::new();
    let mut lines = Lines {
        bytes: html,
        pos: 0,
        line: 1,
    };
    let mut i = 0;
    let n = html.len();
    while let Some(lt) = memchr(b'<', &html[i..]) {
        let start = i + lt;
        let rest = &html[start..];
        if rest.starts_with(b"<!--") {
            i = match memmem::find(&rest[4..], b"-->") {
                Some(e) => start + 4 + e + 3,
                None => n,
            };
            continue;
        }
        if rest.starts_with(b"<!") || rest.starts_with(b"<?") || rest.starts_with(b"</") {
            i = match memchr(b'>', rest) {
                Some(e) => start + e + 1,
                None => n,
            };
            continue;
        }
        // Tag name.
        let mut p = start + 1;
        while p < n && html[p].is_ascii_alphanumeric() {
            p += 1;
        }
        if p == start + 1 {
            i = start + 1;
            continue;
        }
        let tag = &html[start + 1..p];
        let is_meta = tag.eq_ignore_ascii_case(b"meta");
        let mut refresh = false;
        // Decoded only for a refresh: every page has dozens of `<meta content>`.
        let mut content: Option<(usize, usize, usize)> = None;
        // Attributes.
        loop {
            while p < n && (html[p].is_ascii_whitespace() || html[p] == b'/') {
                p += 1;
            }
            if p >= n || html[p] == b'>' {
                break;
            }
            let name_start = p;
            while p < n && !html[p].is_ascii_whitespace() && !matches!(html[p], b'=' | b'>' | b'/')
            {
                p += 1;
            }
            let name = &html[name_start..p];
            while p < n && html[p].is_ascii_whitespace() {
                p += 1;
            }
            if p >= n || html[p] != b'=' {
                continue;
            }
            p += 1;
            while p < n && html[p].is_ascii_whitespace() {
                p += 1;
            }
            let (value_start, value_end) = match html.get(p) {
                Some(&q @ (b'"' | b'\'')) => {
                    let vs = p + 1;
                    let ve = memchr(q, &html[vs..]).map_or(n, |e| vs + e);
                    p = (ve + 1).min(n);
                    (vs, ve)
                }
                _ => {
                    let vs = p;
                    while p < n && !html[p].is_ascii_whitespace() && html[p] != b'>' {
                        p += 1;
                    }
                    (vs, p)
                }
            };
            let raw = &html[value_start..value_end];
            if is_url_attribute(name) {
                out.push(FoundLink {
                    url: decode_entities(raw),
                    line: lines.at(value_start),
                });
            } else if name.eq_ignore_ascii_case(b"srcset") {
                let line = lines.at(value_start);
                for candidate in decode_entities(raw).split(',') {
                    if let Some(url) = candidate.split_whitespace().next() {
                        out.push(FoundLink {
                            url: url.to_string(),
                            line,
                        });
                    }
                }
            } else if is_meta && name.eq_ignore_ascii_case(b"http-equiv") {
                refresh = raw.eq_ignore_ascii_case(b"refresh");
            } else if is_meta && name.eq_ignore_ascii_case(b"content") {
                content = Some((value_start, value_end, lines.at(value_start)));
            }
        }
        if let (true, Some((start, end, line))) = (refresh, content) {
            if let Some(url) = refresh_url(&decode_entities(&html[start..end])) {
                out.push(FoundLink { url, line });
            }
        }
        i = (p + 1).min(n);
        if let Some(end) = raw_text_end(tag) {
            i = find_ignore_case(html, i, end).unwrap_or(n);
        }
    }
    out
}

/// The URL of a meta refresh `content` (`0; url=/a/`).
fn refresh_url(content: &str) -> Option<String> {
    let lower = content.to_ascii_lowercase();
    let at = lower.find("url")?;
    let rest = content[at + 3..].trim_start();
    let rest = rest.strip_prefix('=')?.trim();
    let rest = rest.trim_matches(|c| c == '\'' || c == '"');
    (!rest.is_empty()).then(|| rest.to_string())
}

fn find_ignore_case(hay: &[u8], from: usize, needle: &[u8]) -> Option<usize> {
    let mut i = from;
    while let Some(lt) = memchr(b'<', &hay[i..]) {
        let at = i + lt;
        if hay.len() - at >= needle.len() && hay[at..at + needle.len()].eq_ignore_ascii_case(needle)
        {
            return Some(at);
        }
        i = at + 1;
    }
    None
}

/// Every `url(...)` in a stylesheet, except `data:` URLs and fragment references.
pub fn links_in_css(css: &[u8]) -> Vec<FoundLink> {
    let mut out = Vec::new();
    let mut lines = Lines {
        bytes: css,
        pos: 0,
        line: 1,
    };
    let finder = memmem::Finder::new(b"url(");
    for at in finder.find_iter(css) {
        let start = at + 4;
        let Some(close) = memchr(b')', &css[start..]) else {
            break;
        };
        let raw = String::from_utf8_lossy(&css[start..start + close]);
        let url = raw.trim().trim_matches(|c| c == '"' || c == '\'').trim();
        if url.is_empty() || url.starts_with("data:") || url.starts_with('#') {
            continue;
        }
        out.push(FoundLink {
            url: url.to_string(),
            line: lines.at(at),
        });
    }
    out
}

/// Decodes the character references that appear in URLs written by templates.
fn decode_entities(raw: &[u8]) -> String {
    let s = String::from_utf8_lossy(raw);
    if !s.contains('&') {
        return s.into_owned();
    }
    let mut out = String::with_capacity(s.len());
    let mut rest: &str = &s;
    while let Some(amp) = rest.find('&') {
        out.push_str(&rest[..amp]);
        rest = &rest[amp..];
        let Some(semi) = rest[..rest.len().min(12)].find(';') else {
            out.push('&');
            rest = &rest[1..];
            continue;
        };
        let entity = &rest[1..semi];
        let decoded = match entity {
            "amp" => Some('&'),
            "lt" => Some('<'),
            "gt" => Some('>'),
            "quot" => Some('"'),
            "apos" => Some('\''),
            e if e.starts_with("#x") || e.starts_with("#X") => u32::from_str_radix(&e[2..], 16)
                .ok()
                .and_then(char::from_u32),
            e if e.starts_with('#') => e[1..].parse().ok().and_then(char::from_u32),
            _ => None,
        };
        match decoded {
            Some(c) => {
                out.push(c);
                rest = &rest[semi + 1..];
            }
            None => {
                out.push('&');
                rest = &rest[1..];
            }
        }
    }
    out.push_str(rest);
    out
}

/// Checks a site already written to `dir` (all its HTML and CSS files) against the
/// files there, for sites built earlier or by other means.
pub fn check_dir(dir: &Path, config: &Config) -> Result<LinkReport, Vec<Diagnostic>> {
    let checker = LinkChecker::new(config);
    let mut produced: Vec<String> = Vec::new();
    for entry in walkdir::WalkDir::new(dir).sort_by_file_name() {
        let entry = entry.map_err(|e| vec![Diagnostic::file(dir, format!("cannot read: {e}"))])?;
        if !entry.file_type().is_file() {
            continue;
        }
        let rel = entry
            .path()
            .strip_prefix(dir)
            .unwrap_or(entry.path())
            .to_string_lossy()
            .replace('\\', "/");
        if rel.ends_with(".html") || rel.ends_with(".htm") || rel.ends_with(".css") {
            let bytes = std::fs::read(entry.path())
                .map_err(|e| vec![Diagnostic::file(entry.path(), format!("cannot read: {e}"))])?;
            checker.observe(&OutputFile {
                path: rel.clone(),
                bytes,
            });
        }
        produced.push(rel);
    }
    checker.verify(produced.iter().map(String::as_str))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(base: &str) -> Config {
        Config::parse(
            Path::new("site.toml"),
            &format!("title = \"T\"\nbase_url = \"{base}\"\n"),
        )
        .unwrap()
    }

    fn urls(html: &str) -> Vec<String> {
        links_in_html(html.as_bytes())
            .into_iter()
            .map(|l| l.url)
            .collect()
    }

    #[test]
    fn scanner_finds_url_attributes_only_in_tags() {
        let html = "<!doctype html>\n<!-- <a href=\"/no\"> -->\n<a class=x href=\"/a/?q=1&amp;r=2#f\">x</a>\n<img src='/i.png' srcset=\"/s1.png 1x, /s2.png 2x\" alt=\"a > b\">\n<script>var s = '<a href=\"/in-script\">';</script>\n<link rel=stylesheet href=/c.css>\n<meta http-equiv=\"refresh\" content=\"0; url=/moved/\">\n<p>if a < b then</p><a\nhref=\"/last\">";
        assert_eq!(
            urls(html),
            [
                "/a/?q=1&r=2#f",
                "/i.png",
                "/s1.png",
                "/s2.png",
                "/c.css",
                "/moved/",
                "/last"
            ]
        );
        let lines: Vec<usize> = links_in_html(html.as_bytes())
            .iter()
            .map(|l| l.line)
            .collect();
        assert_eq!(lines, [3, 4, 4, 4, 6, 7, 9]);
    }

    #[test]
    fn resolves_against_the_base_path() {
        let c = LinkChecker::new(&config("https://example.github.io/archive/"));
        let page = "documents/a/index.html";
        assert_eq!(
            c.resolve(page, "/archive/documents/b/"),
            Target::Internal("documents/b/".into())
        );
        assert_eq!(
            c.resolve(page, "/archive/"),
            Target::Internal(String::new())
        );
        assert_eq!(c.resolve(page, "/archive"), Target::Internal(String::new()));
        assert_eq!(c.resolve(page, "/documents/b/"), Target::OutsideBase);
        assert_eq!(
            c.resolve(page, "cite.bib"),
            Target::Internal("documents/a/cite.bib".into())
        );
        assert_eq!(
            c.resolve(page, "../b/#x"),
            Target::Internal("documents/b/".into())
        );
        assert_eq!(c.resolve(page, "../../../../x"), Target::OutsideBase);
        assert_eq!(
            c.resolve(page, "https://EXAMPLE.github.io/archive/topics/"),
            Target::Internal("topics/".into())
        );
        assert_eq!(
            c.resolve(page, "https://example.github.io/other/"),
            Target::External
        );
        assert_eq!(
            c.resolve(page, "//example.github.io/archive/x.css"),
            Target::Internal("x.css".into())
        );
        assert_eq!(c.resolve(page, "mailto:a@b.org"), Target::External);
        assert_eq!(c.resolve(page, "#top"), Target::External);
        assert_eq!(
            c.resolve(page, "/archive/topics/%D0%BC%D0%B8%D1%80/"),
            Target::Internal("topics/мир/".into())
        );
    }

    #[test]
    fn verify_names_page_and_link_once_per_target() {
        let c = LinkChecker::new(&config("https://example.github.io/archive/"));
        for page in ["b/index.html", "a/index.html", "index.html"] {
            c.observe(&OutputFile {
                path: page.into(),
                bytes: b"<a href=\"/archive/a/\">a</a>\n<link href=\"/static/x.css\" rel=stylesheet>\n<a href=\"/archive/gone/\">g</a><a href=\"/archive/a\">".to_vec(),
            });
        }
        c.observe(&OutputFile {
            path: "static/s.css".into(),
            bytes: b"body { background: url(\"../img/bg.png\") } i { src: url(data:x) }".to_vec(),
        });
        let errs = c
            .verify(["index.html", "a/index.html", "b/index.html", "static/s.css"])
            .unwrap_err();
        let msgs: Vec<String> = errs
            .iter()
            .map(|d| format!("{}:{}: {}", d.file.display(), d.line, d.message))
            .collect();
        assert_eq!(msgs.len(), 3, "{msgs:#?}");
        assert!(
            msgs[0].starts_with(
                "a/index.html:2: broken link `/static/x.css` on page /archive/a/: it is outside"
            ),
            "{msgs:#?}"
        );
        assert!(
            msgs[1].starts_with("a/index.html:3: broken link `/archive/gone/`"),
            "{msgs:#?}"
        );
        assert!(
            msgs[2].starts_with("static/s.css:1: broken link `../img/bg.png`"),
            "{msgs:#?}"
        );
        assert!(errs[0].help.as_deref().unwrap().contains("2 other pages"));
    }

    #[test]
    fn relative_links_on_the_404_page_are_errors() {
        let c = LinkChecker::new(&config("https://example.github.io/archive/"));
        c.observe(&OutputFile {
            path: "404.html".into(),
            bytes: b"<a href=\"documents/\">d</a><a href=\"/archive/documents/\">ok</a>".to_vec(),
        });
        let errs = c.verify(["404.html", "documents/index.html"]).unwrap_err();
        assert_eq!(errs.len(), 1);
        assert!(
            errs[0]
                .message
                .starts_with("relative link `documents/` on the 404 page"),
            "{}",
            errs[0].message
        );
    }

    #[test]
    fn github_pages_resolution() {
        let files: FxHashSet<&str> = ["a/index.html", "b.html", "c.pdf"].into_iter().collect();
        assert!(resolves("a/", &files));
        assert!(resolves("a", &files));
        assert!(resolves("b", &files));
        assert!(resolves("c.pdf", &files));
        assert!(!resolves("c/", &files));
    }

    #[test]
    fn entities_and_percent_escapes() {
        assert_eq!(
            decode_entities(b"a&amp;b&#47;c&#x2F;d&nbsp;"),
            "a&b/c/d&nbsp;"
        );
        assert_eq!(
            normalise("a/./b/../c%20d/".into()).as_deref(),
            Some("a/c d/")
        );
        assert_eq!(normalise("a/..".into()), Some(String::new()));
        assert_eq!(normalise("%ff".into()), None);
    }
}
