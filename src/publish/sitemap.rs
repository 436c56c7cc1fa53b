//! `sitemap.xml` (sitemaps.org protocol 0.9), `robots.txt` pointing at it, and
//! `CNAME` for a custom GitHub Pages domain.
//!
//! `lastmod` is the document's own date for a document page and the newest date of
//! the documents a listing shows for the other pages, never the time of the build:
//! the same archive gives byte-identical files. Above [`MAX_URLS`] pages the sitemap
//! becomes an index of numbered sitemaps, as the protocol requires.

use super::xml::{encode_url, escape};
use crate::archive::Archive;
use crate::document::PartialDate;
use crate::render::views::timeline_year_path;
use crate::render::OutputFile;

/// The protocol's limit of URLs per sitemap file.
pub const MAX_URLS: usize = 50_000;
/// Site path of the sitemap (or of the sitemap index when the site is large).
pub const SITEMAP_FILE: &str = "sitemap.xml";

const NAMESPACE: &str = "http://www.sitemaps.org/schemas/sitemap/0.9";

/// A page listed in the sitemap: its site path and last modification date.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SitemapEntry {
    /// Site path (`documents/x/`).
    pub path: String,
    /// `YYYY-MM-DD`.
    pub lastmod: String,
}

/// Every page worth indexing with its `lastmod`, in a stable order: the listing
/// pages, then documents, taxonomies and timeline years. Redirect pages for aliases
/// and the 404 page are left out.
pub fn sitemap_entries(archive: &Archive) -> Vec<SitemapEntry> {
    let docs = &archive.documents;
    let newest_of = |indexes: &mut dyn Iterator<Item = usize>| -> String {
        indexes
            .map(|d| docs[d].date)
            .max_by_key(PartialDate::sort_key)
            .map(|d| d.start())
            .unwrap_or_else(|| "1970-01-01".into())
    };
    let newest = newest_of(&mut (0..docs.len()));
    let mut entries: Vec<SitemapEntry> =
        ["", "documents/", "timeline/", "search/", "correspondence/"]
            .iter()
            .map(|p| SitemapEntry {
                path: p.to_string(),
                lastmod: newest.clone(),
            })
            .collect();
    entries.extend(docs.iter().map(|d| SitemapEntry {
        path: d.path(),
        lastmod: d.date.start(),
    }));
    for tax in &archive.taxonomies {
        entries.push(SitemapEntry {
            path: tax.path(),
            lastmod: newest_of(&mut tax.terms.iter().flat_map(|t| t.documents.iter().copied())),
        });
        entries.extend(tax.terms.iter().map(|term| SitemapEntry {
            path: tax.term_path(term),
            lastmod: newest_of(&mut term.documents.iter().copied()),
        }));
    }
    entries.extend(archive.timeline.years.iter().map(|y| {
        SitemapEntry {
            path: timeline_year_path(y.year),
            lastmod: newest_of(
                &mut y
                    .months
                    .iter()
                    .flat_map(|m| m.entries.iter().map(|e| e.document)),
            ),
        }
    }));
    entries
}

/// `sitemap.xml` (with `sitemaps/sitemap-N.xml` beyond [`MAX_URLS`] pages) and
/// `robots.txt`. Sitemaps need absolute URLs: when `base_url` is a bare path there
/// is no sitemap and `robots.txt` does not name one.
pub fn sitemap_files(archive: &Archive) -> Vec<OutputFile> {
    sitemap_files_with_limit(archive, MAX_URLS)
}

/// [`sitemap_files`] with another limit of URLs per file (at most [`MAX_URLS`]), so
/// the sitemap index can be exercised on a small archive.
pub fn sitemap_files_with_limit(archive: &Archive, max_urls: usize) -> Vec<OutputFile> {
    let max_urls = max_urls.clamp(1, MAX_URLS);
    let config = &archive.config;
    if config.origin.is_empty() {
        return vec![robots(None)];
    }
    let entries = sitemap_entries(archive);
    let mut files = Vec::new();
    if entries.len() <= max_urls {
        files.push(OutputFile {
            path: SITEMAP_FILE.into(),
            bytes: urlset(archive, &entries).into_bytes(),
        });
    } else {
        let mut index = String::new();
        index.push_str("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
        index.push_str(&format!("<sitemapindex xmlns=\"{NAMESPACE}\">\n"));
        for (n, chunk) in entries.chunks(max_urls).enumerate() {
            let path = format!("sitemaps/sitemap-{}.xml", n + 1);
            let lastmod = chunk
                .iter()
                .map(|e| e.lastmod.as_str())
                .max()
                .unwrap_or("1970-01-01");
            index.push_str(&format!(
                "  <sitemap>\n    <loc>{}</loc>\n    <lastmod>{lastmod}</lastmod>\n  </sitemap>\n",
                escape(&encode_url(&config.absolute_url(&path)))
            ));
            files.push(OutputFile {
                path,
                bytes: urlset(archive, chunk).into_bytes(),
            });
        }
        index.push_str("</sitemapindex>\n");
        files.push(OutputFile {
            path: SITEMAP_FILE.into(),
            bytes: index.into_bytes(),
        });
    }
    files.push(robots(Some(config.absolute_url(SITEMAP_FILE))));
    files
}

fn urlset(archive: &Archive, entries: &[SitemapEntry]) -> String {
    let mut x = String::with_capacity(128 + entries.len() * 120);
    x.push_str("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    x.push_str(&format!("<urlset xmlns=\"{NAMESPACE}\">\n"));
    for e in entries {
        x.push_str(&format!(
            "  <url>\n    <loc>{}</loc>\n    <lastmod>{}</lastmod>\n  </url>\n",
            escape(&encode_url(&archive.config.absolute_url(&e.path))),
            e.lastmod
        ));
    }
    x.push_str("</urlset>\n");
    x
}

/// `robots.txt`: everything may be crawled; the sitemap is named when there is one.
/// Crawlers read it only at a domain's root, so on a project site
/// (`user.github.io/repo/`) it matters only once the site has its own domain.
fn robots(sitemap: Option<String>) -> OutputFile {
    let mut text = String::from("User-agent: *\nAllow: /\n");
    if let Some(url) = sitemap {
        text.push_str(&format!("\nSitemap: {}\n", encode_url(&url)));
    }
    OutputFile {
        path: "robots.txt".into(),
        bytes: text.into_bytes(),
    }
}

/// `CNAME` with the custom domain from `site.toml`, which GitHub Pages reads to
/// serve the site under that domain.
pub fn cname_file(archive: &Archive) -> Option<OutputFile> {
    archive.config.cname.as_ref().map(|domain| OutputFile {
        path: "CNAME".into(),
        bytes: format!("{domain}\n").into_bytes(),
    })
}
