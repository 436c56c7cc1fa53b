//! `site.toml` -> [`Config`]: typed, with defaults, unknown keys rejected so that a
//! typo in the configuration is caught instead of silently ignored.

use crate::diagnostics::{line_col, Diagnostic};
use serde::Deserialize;
use std::path::Path;

/// The name of the configuration file at the root of every archive.
pub const CONFIG_FILE: &str = "site.toml";

/// A taxonomy: a front-matter key whose values are terms with index pages.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, serde::Serialize)]
#[serde(deny_unknown_fields)]
pub struct TaxonomyConfig {
    /// The front-matter key (`topics`, `organisations`, `type`, or a site's own, e.g. `countries`).
    pub key: String,
    /// The heading of its index page ("Topics").
    pub name: String,
    /// One term's label ("Topic").
    pub singular: String,
    /// The URL segment of its pages (`topics` gives `/topics/` and `/topics/<slug>/`).
    pub path: String,
}

/// Raw `site.toml` as written by the user.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawConfig {
    title: String,
    #[serde(default)]
    description: String,
    base_url: String,
    #[serde(default = "default_language")]
    language: String,
    #[serde(default = "default_theme")]
    theme: String,
    #[serde(default)]
    publisher: Option<String>,
    #[serde(default = "default_latest")]
    latest_documents: usize,
    #[serde(default = "default_document_list_limit")]
    document_list_limit: usize,
    #[serde(default)]
    taxonomies: Vec<TaxonomyConfig>,
    #[serde(default)]
    mentions: MentionsConfig,
    #[serde(default)]
    markdown: MarkdownConfig,
    #[serde(default)]
    cname: Option<String>,
}

/// How the archive finds mentions in document bodies.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct MentionsConfig {
    /// Match entity names and aliases regardless of (ASCII) case.
    pub case_insensitive: bool,
    /// Link the first mention of another document's official reference to it.
    pub link_references: bool,
}

/// How document bodies are rendered.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct MarkdownConfig {
    /// Pass raw HTML in bodies through as written. Off by default: raw HTML is
    /// sanitised to a safe subset (no script, frames, styles or event handlers).
    pub trusted_html: bool,
}

impl Default for MentionsConfig {
    fn default() -> Self {
        MentionsConfig {
            case_insensitive: false,
            link_references: true,
        }
    }
}

fn default_language() -> String {
    "en".into()
}
fn default_theme() -> String {
    "default".into()
}
fn default_latest() -> usize {
    10
}

/// As many as `/timeline/` lists inline: a page of 2,000 summaries is about
/// 1.6 MB, while every document of a 100,000-document archive was 79 MB.
fn default_document_list_limit() -> usize {
    2_000
}

/// The site's configuration, resolved and ready to use.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Config {
    /// The archive's name.
    pub title: String,
    /// One paragraph on what the archive holds.
    pub description: String,
    /// Scheme and host, without a trailing slash (`https://example.github.io`); empty when
    /// the site was configured with a bare path.
    pub origin: String,
    /// The path the site is served under, always starting and ending with `/` (`/archive/`).
    pub base_path: String,
    /// Default language (BCP 47) of documents that do not say.
    pub language: String,
    /// Name of the theme directory under `themes/`.
    pub theme: String,
    /// Who publishes the archive (a newsroom, an NGO); shown in the footer and citations.
    pub publisher: Option<String>,
    /// How many documents the home page lists.
    pub latest_documents: usize,
    /// How many documents `/documents/`, a term's page, each of an entity's
    /// lists and a document's backlinks show, newest first, before they send
    /// the reader to the year pages or the search page for the rest; and how
    /// many `/correspondence/` lists in all (0: every document). See
    /// [`Config::listed`].
    pub document_list_limit: usize,
    /// Taxonomies in display order: the defaults, then the site's own.
    pub taxonomies: Vec<TaxonomyConfig>,
    /// Mention detection.
    pub mentions: MentionsConfig,
    /// Body rendering.
    pub markdown: MarkdownConfig,
    /// A custom domain for GitHub Pages (`archive.example.org`), written to `CNAME`.
    pub cname: Option<String>,
}

/// The taxonomies every archive has unless `site.toml` redefines them by key.
pub fn default_taxonomies() -> Vec<TaxonomyConfig> {
    let t = |key: &str, name: &str, singular: &str, path: &str| TaxonomyConfig {
        key: key.into(),
        name: name.into(),
        singular: singular.into(),
        path: path.into(),
    };
    vec![
        t("topics", "Topics", "Topic", "topics"),
        t(
            "organisations",
            "Organisations",
            "Organisation",
            "organisations",
        ),
        t("type", "Document types", "Type", "types"),
    ]
}

/// Reads `site.toml` into its raw form, with every mistake it can find in one
/// run: a value of the wrong type, an unknown key or a line TOML cannot read is
/// reported, its lines are made comments (of the same length, so that every
/// position stays where it was) and the rest read again. `None` when what is
/// left still cannot be read (a required key missing, say).
fn read_raw(file: &Path, text: &str) -> (Option<RawConfig>, Vec<Diagnostic>) {
    let mut errors = Vec::new();
    let mut rest = text.to_string();
    // The keys of the lines set aside: a required one is then missing, which
    // says nothing new.
    let mut set_aside: Vec<String> = Vec::new();
    // Each round comments out at least one more line, so this ends; the bound
    // is a second guard.
    for _ in 0..=text.lines().count() {
        let e = match toml::from_str::<RawConfig>(&rest) {
            Ok(raw) => return (Some(raw), errors),
            Err(e) => e,
        };
        let (line, col) = e.span().map_or((0, 0), |s| line_col(text, s.start));
        let message = e.message().trim().to_string();
        // A key that is not there is not on any line to set aside.
        let missing = message.starts_with("missing field");
        let consequence = missing
            && set_aside
                .iter()
                .any(|k| message.contains(&format!("`{k}`")));
        if !consequence {
            errors.push(Diagnostic::at(file, text, line, col, message));
        }
        let Some(span) = e.span().filter(|_| !missing) else {
            break;
        };
        // The whole lines the mistake spans (a list may take several).
        let start = rest[..span.start.min(rest.len())]
            .rfind('\n')
            .map_or(0, |i| i + 1);
        let end = span.end.clamp(start, rest.len());
        let end = rest[end..].find('\n').map_or(rest.len(), |i| end + i);
        if rest[start..end].trim().is_empty() {
            break;
        }
        if let Some((key, _)) = rest[start..end].split_once('=') {
            set_aside.push(key.trim().trim_matches('"').to_string());
        }
        let commented: String = rest[start..end]
            .split('\n')
            .map(|l| {
                let blank = " ".repeat(l.len());
                if l.is_empty() {
                    blank
                } else {
                    format!("#{}", &blank[1..])
                }
            })
            .collect::<Vec<_>>()
            .join("\n");
        rest.replace_range(start..end, &commented);
    }
    (None, errors)
}

impl Config {
    /// How many of `count` documents (or events) a long list shows: all of
    /// them within `document_list_limit` (or without a limit), else the limit.
    /// A list is cut, and its page links to the rest, when this is less than
    /// `count`.
    pub fn listed(&self, count: usize) -> usize {
        match self.document_list_limit {
            0 => count,
            limit => limit.min(count),
        }
    }

    /// Parses `site.toml` text; `file` is only used to name the file in errors.
    pub fn parse(file: &Path, text: &str) -> Result<Config, Vec<Diagnostic>> {
        let (raw, mut errors) = read_raw(file, text);
        let Some(raw) = raw else {
            return Err(errors);
        };
        let locate = |key: &str| -> (usize, usize) {
            text.lines()
                .position(|l| l.trim_start().starts_with(key))
                .map_or((0, 0), |i| (i + 1, 1))
        };
        let (origin, base_path) = match split_base_url(&raw.base_url) {
            Ok(parts) => parts,
            Err(msg) => {
                let (line, col) = locate("base_url");
                errors.push(Diagnostic::at(file, text, line, col, msg).with_help(
                    "write an absolute URL such as \"https://example.github.io/archive/\" or a path such as \"/\"",
                ));
                (String::new(), "/".into())
            }
        };
        let mut taxonomies = default_taxonomies();
        for tax in raw.taxonomies {
            let (line, col) = locate("[[taxonomies]]");
            if !crate::document::is_valid_slug(&tax.path) {
                errors.push(Diagnostic::at(
                    file,
                    text,
                    line,
                    col,
                    format!(
                        "taxonomy path `{}` must be lower-case letters, digits and hyphens",
                        tax.path
                    ),
                ));
            }
            if crate::document::RESERVED_KEYS.contains(&tax.key.as_str())
                && !default_taxonomies().iter().any(|d| d.key == tax.key)
            {
                errors.push(Diagnostic::at(
                    file,
                    text,
                    line,
                    col,
                    format!("taxonomy key `{}` is already a front-matter field", tax.key),
                ));
            }
            match taxonomies.iter_mut().find(|t| t.key == tax.key) {
                Some(existing) => *existing = tax,
                None => taxonomies.push(tax),
            }
        }
        for (i, a) in taxonomies.iter().enumerate() {
            if taxonomies[..i].iter().any(|b| b.path == a.path)
                || RESERVED_PATHS.contains(&a.path.as_str())
            {
                let (line, col) = locate("[[taxonomies]]");
                errors.push(Diagnostic::at(
                    file,
                    text,
                    line,
                    col,
                    format!("taxonomy path `{}` is already used by another page", a.path),
                ));
            }
        }
        if !crate::document::is_language_tag(&raw.language) {
            let (line, col) = locate("language");
            errors.push(
                Diagnostic::at(
                    file,
                    text,
                    line,
                    col,
                    format!("language `{}` is not a BCP 47 language tag", raw.language),
                )
                .with_help("for example \"en\", \"fr\", \"de-AT\""),
            );
        }
        if let Some(cname) = &raw.cname {
            if !is_host_name(cname) {
                let (line, col) = locate("cname");
                errors.push(
                    Diagnostic::at(
                        file,
                        text,
                        line,
                        col,
                        format!("cname `{cname}` is not a domain name"),
                    )
                    .with_help("write the bare domain, e.g. \"archive.example.org\", without https:// or a path"),
                );
            }
        }
        if !errors.is_empty() {
            return Err(errors);
        }
        Ok(Config {
            title: raw.title,
            description: raw.description,
            origin,
            base_path,
            language: raw.language,
            theme: raw.theme,
            publisher: raw.publisher,
            latest_documents: raw.latest_documents,
            document_list_limit: raw.document_list_limit,
            taxonomies,
            mentions: raw.mentions,
            markdown: raw.markdown,
            cname: raw.cname,
        })
    }

    /// Replaces the base URL (from `--base-url`), keeping everything else.
    pub fn with_base_url(mut self, base_url: &str) -> Result<Config, String> {
        let (origin, base_path) = split_base_url(base_url)?;
        self.origin = origin;
        self.base_path = base_path;
        Ok(self)
    }

    /// The public URL of a site path, honouring a sub-path base such as `/archive/`.
    /// Every link the generator or a template emits goes through here, so none can
    /// forget the sub-path that GitHub Pages project sites are served under.
    pub fn url(&self, path: &str) -> String {
        let mut out = String::with_capacity(self.base_path.len() + path.len());
        out.push_str(&self.base_path);
        out.push_str(path.trim_start_matches('/'));
        out
    }

    /// The absolute URL (with scheme and host) of a site path, for canonical links,
    /// feeds and citations; falls back to the base-path URL when no host is configured.
    pub fn absolute_url(&self, path: &str) -> String {
        format!("{}{}", self.origin, self.url(path))
    }

    /// The configured base URL, as it would be written in `site.toml`.
    pub fn base_url(&self) -> String {
        self.absolute_url("")
    }
}

/// Top-level paths the generator itself writes; taxonomies must not take them.
pub const RESERVED_PATHS: &[&str] = &[
    "documents",
    "timeline",
    "static",
    "search",
    "api",
    "correspondence",
];

/// True for the host of a base URL: a host name (one label, as `localhost`, or
/// more) or an IPv4 address, with an optional port from 1 to 65535.
fn is_host(host: &str) -> bool {
    let (name, port) = match host.rsplit_once(':') {
        Some((name, port)) => (name, Some(port)),
        None => (host, None),
    };
    let port_ok = port.is_none_or(|p| {
        !p.is_empty() && p.len() <= 5 && p.parse::<u32>().is_ok_and(|n| (1..=65535).contains(&n))
    });
    let name_ok = name.len() <= 253
        && name.split('.').all(|l| {
            (1..=63).contains(&l.len())
                && !l.starts_with('-')
                && !l.ends_with('-')
                && l.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
        });
    port_ok && name_ok
}

/// True for a DNS name such as `archive.example.org`: dot-separated labels of ASCII
/// letters, digits and inner hyphens, at least two labels.
fn is_host_name(name: &str) -> bool {
    let labels: Vec<&str> = name.split('.').collect();
    name.len() <= 253
        && labels.len() >= 2
        && labels.iter().all(|l| {
            (1..=63).contains(&l.len())
                && !l.starts_with('-')
                && !l.ends_with('-')
                && l.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
        })
}

/// Splits a base URL into origin and a normalised base path.
fn split_base_url(base_url: &str) -> Result<(String, String), String> {
    let base_url = base_url.trim();
    let (origin, path) = if let Some(rest) = base_url
        .strip_prefix("https://")
        .map(|r| ("https://", r))
        .or_else(|| base_url.strip_prefix("http://").map(|r| ("http://", r)))
    {
        let (scheme, rest) = rest;
        let (host, path) = match rest.find('/') {
            Some(i) => (&rest[..i], &rest[i..]),
            None => (rest, "/"),
        };
        if !is_host(host) {
            return Err(format!(
                "base_url `{base_url}` has no valid host (a name such as `example.org`, with an optional port)"
            ));
        }
        (format!("{scheme}{host}"), path.to_string())
    } else if base_url.starts_with('/') {
        (String::new(), base_url.to_string())
    } else {
        return Err(format!(
            "base_url `{base_url}` must start with `https://`, `http://` or `/`"
        ));
    };
    // The base path is written into every link and script address of the site:
    // plain path characters only, and no `//`, which would make it another host.
    let plain = |c: char| c.is_ascii_alphanumeric() || "-._~%/+,;=:@!$&*()".contains(c);
    if !path.chars().all(plain)
        || path.contains("//")
        || path.split('/').any(|s| s == ".." || s == ".")
    {
        return Err(format!(
            "base_url `{base_url}` has an invalid path (letters, digits and `-._~%/` only, without `//`, `.` or `..` segments)"
        ));
    }
    let mut path = path;
    if !path.ends_with('/') {
        path.push('/');
    }
    Ok((origin, path))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Result<Config, Vec<Diagnostic>> {
        Config::parse(Path::new("site.toml"), text)
    }

    #[test]
    fn url_honours_sub_path() {
        let c = parse("title = \"A\"\nbase_url = \"https://x.github.io/archive\"\n").unwrap();
        assert_eq!(c.base_path, "/archive/");
        assert_eq!(c.url("documents/a/"), "/archive/documents/a/");
        assert_eq!(c.url("/"), "/archive/");
        assert_eq!(
            c.absolute_url("documents/a/"),
            "https://x.github.io/archive/documents/a/"
        );
    }

    #[test]
    fn root_base_url() {
        let c = parse("title = \"A\"\nbase_url = \"https://example.org\"\n").unwrap();
        assert_eq!(c.url("topics/"), "/topics/");
        let c = c.with_base_url("/sub/").unwrap();
        assert_eq!(c.url("topics/"), "/sub/topics/");
        assert_eq!(c.absolute_url("x/"), "/sub/x/");
    }

    #[test]
    fn unknown_key_is_an_error_with_line() {
        let err = parse("title = \"A\"\nbase_url = \"/\"\ntitel = \"B\"\n").unwrap_err();
        assert_eq!(err[0].line, 3, "{:?}", err);
        assert!(err[0].message.contains("titel"), "{}", err[0].message);
    }

    #[test]
    fn bad_base_url_is_an_error() {
        let err = parse("title = \"A\"\nbase_url = \"example.org\"\n").unwrap_err();
        assert_eq!(err[0].line, 2);
        let with_base = |base: &str| format!("title = \"A\"\nbase_url = '{base}'\n");
        for bad in [
            "//evil.example/",
            "/a//b/",
            "https://x.org/\\\"><script>/",
            "https://x.org:99999/",
            "https://x.org:/",
            "https://x.org/a b/",
            "https://x.org/./",
            "https://user@x.org/",
            "https://x.org/<p>/",
        ] {
            assert!(parse(&with_base(bad)).is_err(), "{bad} is accepted");
        }
        for good in [
            "https://x.github.io/my-archive/",
            "http://localhost:8080/",
            "http://127.0.0.1:1111/a/",
            "/",
            "/sub/path/",
            "https://archive.example.org",
        ] {
            assert!(parse(&with_base(good)).is_ok(), "{good} is refused");
        }
    }

    #[test]
    fn language_is_checked_where_it_is_written() {
        let err =
            parse("title = \"A\"\nbase_url = \"/\"\nlanguage = \"english please\"\n").unwrap_err();
        assert_eq!((err[0].line, err[0].column), (3, 1), "{err:?}");
        assert!(err[0].message.contains("`english please`"));
        assert!(parse("title = \"A\"\nbase_url = \"/\"\nlanguage = \"fr-BE\"\n").is_ok());
    }

    #[test]
    fn cname_is_checked() {
        let c = parse("title = \"A\"\nbase_url = \"https://archive.example.org/\"\ncname = \"archive.example.org\"\n").unwrap();
        assert_eq!(c.cname.as_deref(), Some("archive.example.org"));
        let err =
            parse("title = \"A\"\nbase_url = \"/\"\ncname = \"https://x.org/\"\n").unwrap_err();
        assert_eq!(err[0].line, 3);
    }

    #[test]
    fn site_taxonomies_are_added() {
        let c = parse(
            "title = \"A\"\nbase_url = \"/\"\n[[taxonomies]]\nkey = \"countries\"\nname = \"Countries\"\nsingular = \"Country\"\npath = \"countries\"\n",
        )
        .unwrap();
        let keys: Vec<_> = c.taxonomies.iter().map(|t| t.key.as_str()).collect();
        assert_eq!(keys, ["topics", "organisations", "type", "countries"]);
    }
}
