//! A document body as its page shows it: links between documents resolved to
//! their URLs, first mentions linked to their entity's or document's page, code
//! highlighted.
//!
//! A build with no previous site to take pages from renders every document page,
//! so the link pass, which parses every body for its links and search words
//! anyway, makes the page's HTML in the same pass ([`BodyRenderer`]) and sets it
//! aside on disk ([`PageBody::encode`]); the page then reads it back instead of
//! parsing the Markdown a second time. Other builds, which render only the pages
//! an edit changed, leave the HTML to the page.

use crate::archive::links::{resolve, LinkTarget};
use crate::archive::Taxonomy;
use crate::config::Config;
use crate::document::Document;
use crate::markdown::{self, Autolinker, Heading, RenderedBody};
use std::collections::HashMap;
use std::path::PathBuf;

/// What rendering a body for its page needs of the archive.
pub struct BodyRenderer<'a> {
    /// The site's configuration: URLs and whether raw HTML is trusted.
    pub config: &'a Config,
    /// Every document, in the archive's order.
    pub documents: &'a [Document],
    /// Position of each id in `documents`.
    pub by_id: &'a rustc_hash::FxHashMap<String, usize>,
    /// Position of each document's file in `documents`.
    pub by_file: &'a rustc_hash::FxHashMap<PathBuf, usize>,
    /// Names and references linked on first mention.
    pub autolinker: &'a Autolinker,
    /// The taxonomies, whose terms entity mentions link to.
    pub taxonomies: &'a [Taxonomy],
    /// The term of each entity: entity index -> (taxonomy, term).
    pub entity_terms: &'a HashMap<usize, (usize, usize)>,
    /// How many entities there are: autolink targets below it are entities.
    pub entity_count: usize,
}

impl BodyRenderer<'_> {
    /// Document `i`'s body `text`, rendered for its page. Its links, anchors,
    /// mentions and text blocks are those the link pass reads (they do not depend
    /// on how links resolve).
    pub fn render(&self, i: usize, text: &str) -> RenderedBody {
        let config = self.config;
        let documents = self.documents;
        let file = documents.get(i).map(|d| d.file.as_path());
        let resolve_link = |dest: &str| {
            document_link_url(dest, file?, config, documents, self.by_id, self.by_file)
        };
        let autolink_url = |target: usize| {
            if target < self.entity_count {
                self.entity_terms.get(&target).and_then(|&(ti, ki)| {
                    let tax = self.taxonomies.get(ti)?;
                    Some(config.url(&tax.term_path(tax.terms.get(ki)?)))
                })
            } else {
                let d = target - self.entity_count;
                (d != i)
                    .then(|| documents.get(d).map(|doc| config.url(&doc.path())))
                    .flatten()
            }
        };
        markdown::render_with(
            text,
            &markdown::RenderOptions {
                resolve_link: Some(&resolve_link),
                skip_highlight: false,
                skip_html: false,
                autolinker: Some(self.autolinker),
                autolink_url: Some(&autolink_url),
                trusted_html: config.markdown.trusted_html,
            },
        )
    }
}

/// The URL a body's link to a document (`doc:<id>`, a relative `.md` path)
/// becomes, written in `file`; `None` for any other link (kept as written).
pub fn document_link_url(
    dest: &str,
    file: &std::path::Path,
    config: &crate::config::Config,
    documents: &[Document],
    by_id: &rustc_hash::FxHashMap<String, usize>,
    by_file: &rustc_hash::FxHashMap<PathBuf, usize>,
) -> Option<String> {
    match resolve(dest, file, by_id, by_file) {
        Ok(LinkTarget::Document(to, fragment)) => {
            let url = config.url(&documents.get(to)?.path());
            Some(match fragment {
                Some(f) => format!("{url}#{f}"),
                None => url,
            })
        }
        _ => None,
    }
}

/// The term of each entity that has one: entity index -> (taxonomy, term).
pub fn entity_terms(taxonomies: &[Taxonomy]) -> HashMap<usize, (usize, usize)> {
    taxonomies
        .iter()
        .enumerate()
        .flat_map(|(ti, t)| {
            t.terms
                .iter()
                .enumerate()
                .filter_map(move |(ki, term)| term.entity.map(|e| (e, (ti, ki))))
        })
        .collect()
}

/// What a document's page shows of its rendered body.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct PageBody {
    /// The body's HTML.
    pub html: String,
    /// Its headings, for the table of contents.
    pub headings: Vec<Heading>,
    /// Whether it has highlighted code (the page then links its stylesheet).
    pub has_code: bool,
    /// How many redactions it has.
    pub redaction_count: usize,
}

impl PageBody {
    /// Takes the page's part of a rendered body (its HTML is moved out).
    pub fn take(body: &mut RenderedBody) -> PageBody {
        PageBody {
            html: std::mem::take(&mut body.html),
            headings: body.headings.clone(),
            has_code: body.has_code,
            redaction_count: body.redactions.len(),
        }
    }

    /// As bytes, to be set aside: a flag, the redaction count, the headings
    /// (length-prefixed), then the HTML.
    pub fn encode(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(self.html.len() + 16 + 64 * self.headings.len());
        out.push(u8::from(self.has_code));
        out.extend_from_slice(&(self.redaction_count as u64).to_le_bytes());
        out.extend_from_slice(&(self.headings.len() as u64).to_le_bytes());
        for h in &self.headings {
            out.push(h.level);
            for s in [&h.id, &h.text] {
                out.extend_from_slice(&(s.len() as u64).to_le_bytes());
                out.extend_from_slice(s.as_bytes());
            }
        }
        out.extend_from_slice(self.html.as_bytes());
        out
    }

    /// Reads back what [`PageBody::encode`] wrote; `None` if the bytes are not
    /// such a body.
    pub fn decode(bytes: &[u8]) -> Option<PageBody> {
        let mut rest = bytes;
        let mut take = |n: usize| -> Option<&[u8]> {
            if rest.len() < n {
                return None;
            }
            let (head, tail) = rest.split_at(n);
            rest = tail;
            Some(head)
        };
        fn number(b: &[u8]) -> Option<usize> {
            usize::try_from(u64::from_le_bytes(b.try_into().ok()?)).ok()
        }
        let has_code = match take(1)?[0] {
            0 => false,
            1 => true,
            _ => return None,
        };
        let redaction_count = number(take(8)?)?;
        let count = number(take(8)?)?;
        let mut headings = Vec::with_capacity(count.min(1024));
        for _ in 0..count {
            let level = take(1)?[0];
            let id_len = number(take(8)?)?;
            let id = String::from_utf8(take(id_len)?.to_vec()).ok()?;
            let text_len = number(take(8)?)?;
            let text = String::from_utf8(take(text_len)?.to_vec()).ok()?;
            headings.push(Heading { level, id, text });
        }
        let html = String::from_utf8(rest.to_vec()).ok()?;
        Some(PageBody {
            html,
            headings,
            has_code,
            redaction_count,
        })
    }
}

impl From<RenderedBody> for PageBody {
    fn from(mut body: RenderedBody) -> PageBody {
        PageBody::take(&mut body)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_page_body_reads_back_as_written() {
        let mut rendered = markdown::render(
            "# Überblick\n\nText [redacted] and more.\n\n## Two <b>\n\n```rust\nfn x() {}\n```\n",
        );
        let body = PageBody::take(&mut rendered);
        assert!(!body.html.is_empty() && body.headings.len() == 2);
        assert_eq!(PageBody::decode(&body.encode()), Some(body.clone()));
        let empty = PageBody::default();
        assert_eq!(PageBody::decode(&empty.encode()), Some(empty));
    }

    #[test]
    fn bytes_cut_short_are_no_body() {
        let body = PageBody {
            html: "<p>x</p>".into(),
            headings: vec![Heading {
                level: 2,
                id: "a".into(),
                text: "A".into(),
            }],
            has_code: true,
            redaction_count: 3,
        };
        let bytes = body.encode();
        // Every cut inside the headings leaves a count that cannot be met.
        for cut in 0..bytes.len() - body.html.len() {
            assert_eq!(PageBody::decode(&bytes[..cut]), None, "cut at {cut}");
        }
        assert_eq!(PageBody::decode(&[7]), None);
    }
}
