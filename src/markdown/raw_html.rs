//! Raw HTML written in a body (`H<sub>2</sub>O`, a `<details>` block): sanitised by
//! default, passed through when the site trusts its editors (`[markdown]
//! trusted_html = true` in `site.toml`).
//!
//! While a body's events are mapped, raw HTML from the source travels as
//! `InlineMath`/`DisplayMath` events (math is not enabled, so the parser never
//! emits them), so that [`settle`] can tell it from the HTML annals generates
//! (anchors, redaction bars, highlighted code), which must not be touched.
//!
//! Sanitising keeps the structure the editor wrote even when it spans Markdown
//! (`<details>`, blank line, Markdown, blank line, `</details>`): every raw fragment of
//! the body is joined into one HTML text with a placeholder standing for each run of
//! Markdown between fragments, that text is cleaned once by `ammonia` with a strict
//! allow-list, and the result is cut at the placeholders again. A cut must fall in
//! text, never inside a tag, or the Markdown between would land in an attribute:
//! the cleaner drops every attribute whose value holds a placeholder, and each piece
//! is checked to end outside a tag. If the placeholders do not all come back, once
//! each and in order (one was inside a removed `<script>`, a comment, an
//! attribute), the body's raw HTML is shown as text instead. Bodies without raw
//! HTML skip all of this.

use pulldown_cmark::{CowStr, Event};
use std::collections::HashSet;
use std::sync::OnceLock;

/// Marks a raw HTML event of the source while the body is mapped.
pub(super) fn tunnel(event: Event<'_>) -> Event<'_> {
    match event {
        Event::Html(raw) => Event::DisplayMath(raw),
        Event::InlineHtml(raw) => Event::InlineMath(raw),
        other => other,
    }
}

fn is_raw(event: &Event<'_>) -> bool {
    matches!(event, Event::InlineMath(_) | Event::DisplayMath(_))
}

/// Turns the tunnelled raw HTML of a mapped body into what the page shows: the HTML
/// as written when `trusted`, else its sanitised form (or, failing that, text).
pub(super) fn settle(mut events: Vec<Event<'_>>, trusted: bool) -> Vec<Event<'_>> {
    if !events.iter().any(is_raw) {
        return events;
    }
    if trusted {
        for event in &mut events {
            *event = match std::mem::replace(event, Event::SoftBreak) {
                Event::DisplayMath(raw) => Event::Html(raw),
                Event::InlineMath(raw) => Event::InlineHtml(raw),
                other => other,
            };
        }
        return events;
    }
    let fragments: Vec<&str> = events
        .iter()
        .filter_map(|e| match e {
            Event::InlineMath(raw) | Event::DisplayMath(raw) => Some(raw.as_ref()),
            _ => None,
        })
        .collect();
    let cleaned = sanitise_fragments(&fragments);
    let mut cleaned = cleaned.map(Vec::into_iter);
    for event in &mut events {
        if !is_raw(event) {
            continue;
        }
        let raw = match std::mem::replace(event, Event::SoftBreak) {
            Event::InlineMath(raw) | Event::DisplayMath(raw) => raw,
            other => {
                *event = other;
                continue;
            }
        };
        *event = match cleaned.as_mut().and_then(Iterator::next) {
            Some(html) => Event::Html(CowStr::from(html)),
            None => Event::Text(raw),
        };
    }
    events
}

/// Sanitises raw fragments as one text, returning one cleaned piece per fragment,
/// or `None` if the placeholders between them did not survive intact.
fn sanitise_fragments(fragments: &[&str]) -> Option<Vec<String>> {
    let mut joined = String::with_capacity(fragments.iter().map(|f| f.len() + 24).sum());
    for (k, fragment) in fragments.iter().enumerate() {
        if k > 0 {
            joined.push_str(&placeholder(k - 1));
        }
        joined.push_str(fragment);
    }
    let clean = policy().clean(&joined).to_string();
    let mut pieces = Vec::with_capacity(fragments.len());
    let mut rest = clean.as_str();
    for k in 0..fragments.len().saturating_sub(1) {
        let mark = placeholder(k);
        let at = rest.find(&mark)?;
        pieces.push(rest[..at].to_string());
        rest = &rest[at + mark.len()..];
    }
    pieces.push(rest.to_string());
    let found = clean.matches(PLACEHOLDER_MARK).count();
    let whole =
        found == fragments.len().saturating_sub(1) && pieces.iter().all(|p| ends_outside_a_tag(p));
    whole.then_some(pieces)
}

/// In the text of every placeholder; an attribute value containing it is dropped.
const PLACEHOLDER_MARK: &str = "annals-markdown-";

/// A placeholder as text: the cleaner decodes it to `<annals-markdown-N>` and
/// prints it back escaped, as it does all text.
fn placeholder(k: usize) -> String {
    format!("&lt;{PLACEHOLDER_MARK}{k}&gt;")
}

/// True when every `<` of the cleaned HTML piece is closed by a `>` within it. The
/// cleaner escapes `<` and `>` in text and attribute values alike, so a raw `<`
/// starts a tag.
fn ends_outside_a_tag(piece: &str) -> bool {
    match piece.rfind('<') {
        Some(open) => piece[open..].contains('>'),
        None => true,
    }
}

/// Elements an editor may write: text-level semantics, lists, tables, disclosure
/// widgets. Nothing that runs script, embeds, styles or submits.
const TAGS: &[&str] = &[
    "a",
    "abbr",
    "b",
    "bdi",
    "bdo",
    "blockquote",
    "br",
    "caption",
    "cite",
    "code",
    "col",
    "colgroup",
    "dd",
    "del",
    "details",
    "dfn",
    "div",
    "dl",
    "dt",
    "em",
    "figcaption",
    "figure",
    "h1",
    "h2",
    "h3",
    "h4",
    "h5",
    "h6",
    "hr",
    "i",
    "img",
    "ins",
    "kbd",
    "li",
    "mark",
    "ol",
    "p",
    "pre",
    "q",
    "rp",
    "rt",
    "ruby",
    "s",
    "samp",
    "small",
    "span",
    "strong",
    "sub",
    "summary",
    "sup",
    "table",
    "tbody",
    "td",
    "tfoot",
    "th",
    "thead",
    "time",
    "tr",
    "u",
    "ul",
    "var",
    "wbr",
];

/// The cleaner, built once: the allow-list above; attributes that only describe
/// (`title`, `lang`, `dir`, table spans, link and image targets); http(s), mailto
/// and tel URLs only; no `id`, `class` or `style`, so raw HTML cannot pose as the
/// page's own elements; comments, `<script>` and `<style>` removed with their content.
fn policy() -> &'static ammonia::Builder<'static> {
    static POLICY: OnceLock<ammonia::Builder<'static>> = OnceLock::new();
    POLICY.get_or_init(|| {
        let set = |items: &[&'static str]| items.iter().copied().collect::<HashSet<_>>();
        let mut builder = ammonia::Builder::empty();
        builder
            .tags(set(TAGS))
            .clean_content_tags(set(&["script", "style"]))
            .generic_attributes(set(&["title", "lang", "dir"]))
            .tag_attributes(
                [
                    ("a", set(&["href"])),
                    ("img", set(&["src", "alt", "width", "height"])),
                    ("ol", set(&["start", "reversed", "type"])),
                    ("td", set(&["colspan", "rowspan", "headers"])),
                    ("th", set(&["colspan", "rowspan", "headers", "scope"])),
                    ("col", set(&["span"])),
                    ("colgroup", set(&["span"])),
                    ("time", set(&["datetime"])),
                    ("del", set(&["datetime"])),
                    ("ins", set(&["datetime"])),
                    ("details", set(&["open"])),
                ]
                .into_iter()
                .collect(),
            )
            .url_schemes(set(&["http", "https", "mailto", "tel"]))
            .url_relative(ammonia::UrlRelative::PassThrough)
            .link_rel(Some("noopener noreferrer"))
            .strip_comments(true)
            .attribute_filter(|_, _, value| {
                (!value.contains(PLACEHOLDER_MARK)).then_some(value.into())
            });
        builder
    })
}

#[cfg(test)]
mod tests {
    use super::super::{render, render_with, RenderOptions};

    fn trusted(md: &str) -> String {
        render_with(
            md,
            &RenderOptions {
                trusted_html: true,
                ..RenderOptions::default()
            },
        )
        .html
    }

    #[test]
    fn safe_inline_html_is_kept() {
        let html = render("H<sub>2</sub>O and E = mc<sup>2</sup>, <abbr title=\"Justice and Home Affairs\">JHA</abbr><br>next\n").html;
        assert!(html.contains("H<sub>2</sub>O"), "{html}");
        assert!(html.contains("mc<sup>2</sup>"), "{html}");
        assert!(
            html.contains("<abbr title=\"Justice and Home Affairs\">JHA</abbr>"),
            "{html}"
        );
        assert!(html.contains("<br>next"), "{html}");
    }

    #[test]
    fn details_spanning_markdown_keep_their_structure() {
        let html =
            render("<details>\n<summary>Annex</summary>\n\nThe **annex** text.\n\n</details>\n")
                .html;
        let open = html.find("<details>").expect(&html);
        let strong = html.find("<strong>annex</strong>").expect(&html);
        let close = html.find("</details>").expect(&html);
        assert!(open < strong && strong < close, "{html}");
        assert!(html.contains("<summary>Annex</summary>"), "{html}");
    }

    #[test]
    fn script_handlers_styles_and_frames_are_removed() {
        let md = "<script>alert(1)</script>\n\n<p><img src=x onerror=alert(1)> <a href=\"javascript:alert(1)\">j</a> <a href=\"data:text/html,x\">d</a> <span style=\"color:red\" onclick=\"x()\" id=\"citation-text\" class=\"pin\">s</span></p>\n\n<iframe src=\"https://evil.example/\"></iframe>\n\n<style>body{display:none}</style>\n\nA <svg onload=alert(1)><circle/></svg> B\n\n<form action=\"https://evil.example/\"><input name=q></form>\n";
        let html = render(md).html;
        let lower = html.to_lowercase();
        for bad in [
            "<script",
            "alert(1)",
            "onerror",
            "onclick",
            "javascript:",
            "data:",
            "<iframe",
            "<style",
            "display:none",
            "<svg",
            "onload",
            "<form",
            "<input",
            "style=",
            "citation-text",
        ] {
            assert!(!lower.contains(bad), "{bad} in {html}");
        }
        assert!(html.contains("<img src=\"x\">"), "{html}");
        assert!(html.contains("<span>s</span>"), "{html}");
        assert!(
            html.contains("<a rel=\"noopener noreferrer\">j</a>"),
            "{html}"
        );
    }

    #[test]
    fn markdown_hidden_in_a_script_falls_back_to_text() {
        let html = render("Hello <script>alert(1)</script> and <sup>2</sup>\n").html;
        assert!(!html.contains("<script"), "{html}");
        assert!(
            html.contains("&lt;script&gt;alert(1)&lt;/script&gt;"),
            "{html}"
        );
        assert!(html.contains("&lt;sup&gt;2&lt;/sup&gt;"), "{html}");
    }

    #[test]
    fn raw_html_cannot_close_or_forge_the_page_structure() {
        let html = render("- item </li></ul></div></main> <b>x</b>\n- two\n").html;
        assert!(!html.contains("</main>"), "{html}");
        assert!(html.contains("<b>x</b>"), "{html}");
        assert_eq!(
            html.matches("<ul>").count(),
            html.matches("</ul>").count(),
            "{html}"
        );
        // A placeholder typed into raw HTML makes the count wrong: shown as text.
        let html = render("<div>&lt;annals-markdown-0&gt;</div>\n\ntext <b>x</b>\n").html;
        assert!(html.contains("&lt;div&gt;"), "{html}");
        assert!(!html.contains("<b>"), "{html}");
    }

    #[test]
    fn a_placeholder_lost_in_an_attribute_falls_back_to_text() {
        let md = "<div title=\"\n\nSome *Markdown* onmouseover=alert(1) x\n\n<div x=\">\n";
        let html = render(md).html;
        assert!(!html.contains("<div"), "{html}");
        assert!(html.contains("&lt;div title="), "{html}");
    }

    #[test]
    fn generated_markup_is_untouched_next_to_raw_html() {
        let md = "4.2. Met [redacted: Article 4(1)(b)] at <b>Europol</b>[^1].\n\n| a |\n|:-:|\n| <i>x</i> |\n\n[^1]: A <sup>note</sup>.\n";
        let html = render(md).html;
        assert!(
            html.contains("<p id=\"p4.2\"><a class=\"pin\" href=\"#p4.2\""),
            "{html}"
        );
        assert!(html.contains("data-ground=\"Article 4(1)(b)\""), "{html}");
        assert!(html.contains("<b>Europol</b>"), "{html}");
        assert!(
            html.contains("<td style=\"text-align: center\"><i>x</i></td>"),
            "{html}"
        );
        assert!(html.contains("A <sup>note</sup>."), "{html}");
        assert!(html.contains("id=\"fn-1\""), "{html}");
    }

    #[test]
    fn trusted_html_passes_through() {
        let html = trusted(
            "<div class=\"chart\" style=\"x\">a</div>\n\nText <span onclick=\"f()\">x</span>\n",
        );
        assert!(
            html.contains("<div class=\"chart\" style=\"x\">a</div>"),
            "{html}"
        );
        assert!(html.contains("<span onclick=\"f()\">x</span>"), "{html}");
    }

    #[test]
    fn bodies_without_raw_html_are_unchanged_by_the_policy() {
        let md = "# T\n\nText with *em* and [a](https://x.org) and `<code>`.\n";
        assert_eq!(render(md).html, trusted(md));
    }
}
