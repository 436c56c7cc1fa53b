//! Redactions: what an institution blanked out before release.
//!
//! Editors write `[redacted]` or `[redacted: <legal ground>]` in the body. They render
//! as a visible, labelled bar, never as the literal brackets, and are counted so the
//! document header can say how much was withheld.

use pulldown_cmark::{CowStr, Event};
use serde::Serialize;

/// One redaction in a document body.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Redaction {
    /// The legal ground given for it, e.g. `Article 4(1)(b)`, if the editor noted one.
    pub ground: Option<String>,
}

const MARKER: &str = "[redacted";

/// What the bracket of an escaped marker (`\[redacted]`, the marker's own text)
/// is held as between parsing and output, so that the marker scan passes over
/// it: a noncharacter, which Unicode sets aside for a program's internal use.
/// Every text this module outputs has it back as `[`.
pub const ESCAPED_BRACKET: char = '\u{FDD0}';

/// Whether `text` begins with a marker's opening, `[redacted` in any case.
pub fn starts_with_marker(text: &str) -> bool {
    text.get(..MARKER.len())
        .is_some_and(|start| start.eq_ignore_ascii_case(MARKER))
}

/// `text` with each held escaped bracket back as `[`.
pub fn restore_escaped(text: &str) -> std::borrow::Cow<'_, str> {
    if text.contains(ESCAPED_BRACKET) {
        std::borrow::Cow::Owned(text.replace(ESCAPED_BRACKET, "["))
    } else {
        std::borrow::Cow::Borrowed(text)
    }
}

/// A text event with the held escaped brackets restored.
fn text_event(text: CowStr<'_>) -> Event<'_> {
    if text.contains(ESCAPED_BRACKET) {
        Event::Text(CowStr::from(text.replace(ESCAPED_BRACKET, "[")))
    } else {
        Event::Text(text)
    }
}

/// Splits a text event at redaction markers, pushing text and marker HTML.
pub fn split_into<'a>(text: CowStr<'a>, out: &mut Vec<Event<'a>>, found: &mut Vec<Redaction>) {
    if !contains_marker(&text) {
        out.push(text_event(text));
        return;
    }
    let mut rest: &str = &text;
    let mut owned_parts: Vec<Event<'a>> = Vec::new();
    while let Some((start, end, ground)) = next_marker(rest) {
        if start > 0 {
            owned_parts.push(text_event(CowStr::from(rest[..start].to_string())));
        }
        owned_parts.push(Event::InlineHtml(CowStr::from(marker_html(
            ground.as_deref(),
        ))));
        found.push(Redaction { ground });
        rest = &rest[end..];
    }
    if !rest.is_empty() {
        owned_parts.push(text_event(CowStr::from(rest.to_string())));
    }
    out.extend(owned_parts);
}

/// What a redaction becomes in text made from a body (search snippets,
/// "Referenced by" excerpts): the word in brackets, so that a quoted passage
/// never reads as continuous where something was withheld. The search index
/// skips it (see [`crate::search::text::tokens`]), and the search page shows it
/// as a redaction bar.
pub const PLACEHOLDER: &str = "[redacted]";

/// The text with every redaction (and its legal ground) replaced by
/// [`PLACEHOLDER`]: what search may see, and snippets and excerpts show.
pub fn strip(text: &str) -> String {
    if !contains_marker(text) {
        return literal_markers(text);
    }
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some((start, end, _)) = next_marker(rest) {
        out.push_str(&rest[..start]);
        out.push(' ');
        out.push_str(PLACEHOLDER);
        out.push(' ');
        rest = &rest[end..];
    }
    out.push_str(rest);
    literal_markers(&out)
}

/// An escaped marker's bracket in text made from a body: `[` and a word joiner
/// (U+2060, invisible, no break), so that the marker's own text reads as written
/// but never as [`PLACEHOLDER`], which snippets and excerpts draw as a bar.
pub const LITERAL_BRACKET: &str = "[\u{2060}";

/// `text` with each held escaped bracket as [`LITERAL_BRACKET`].
fn literal_markers(text: &str) -> String {
    text.replace(ESCAPED_BRACKET, LITERAL_BRACKET)
}

/// Code's text for text made from a body: code shows a marker as written, so
/// each marker's bracket becomes [`LITERAL_BRACKET`] (see there).
pub fn literal(text: &str) -> String {
    with_marker_brackets(text, LITERAL_BRACKET)
}

/// Code's text where text still holds escaped markers (see [`ESCAPED_BRACKET`]):
/// each marker's bracket held, as if escaped.
pub fn held(text: &str) -> String {
    with_marker_brackets(text, ESCAPED_BRACKET.encode_utf8(&mut [0; 4]))
}

/// `text` with the bracket of each marker opening replaced by `bracket`.
fn with_marker_brackets(text: &str, bracket: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(start) = find_ci(rest, MARKER) {
        out.push_str(&rest[..start]);
        out.push_str(bracket);
        rest = &rest[start + 1..];
    }
    out.push_str(rest);
    out
}

fn contains_marker(text: &str) -> bool {
    find_ci(text, MARKER).is_some()
}

/// Finds the next `[redacted]` / `[redacted: ground]`: (start, end, ground).
fn next_marker(text: &str) -> Option<(usize, usize, Option<String>)> {
    let mut from = 0;
    while let Some(pos) = find_ci(&text[from..], MARKER) {
        let start = from + pos;
        let after = &text[start + MARKER.len()..];
        if let Some(tail) = after.strip_prefix(']') {
            let _ = tail;
            return Some((start, start + MARKER.len() + 1, None));
        }
        if let Some(ground_part) = after.strip_prefix(':') {
            let Some(close) = ground_part.find(']') else {
                // No `]` anywhere after: no later marker can close either. Stop
                // here, or a line of unclosed markers is scanned once per marker.
                return None;
            };
            let ground = ground_part[..close].trim();
            let end = start + MARKER.len() + 1 + close + 1;
            let ground = (!ground.is_empty()).then(|| ground.to_string());
            return Some((start, end, ground));
        }
        from = start + MARKER.len();
    }
    None
}

/// Finds `needle` (which starts with `[`) ignoring ASCII case. Bodies are mostly text
/// without brackets, so jumping from `[` to `[` (a vectorised byte search) is far
/// cheaper than comparing at every position.
fn find_ci(haystack: &str, needle: &str) -> Option<usize> {
    let bytes = haystack.as_bytes();
    let needle = needle.as_bytes();
    let first = *needle.first()?;
    let mut from = 0;
    while let Some(pos) = memchr::memchr(first, &bytes[from..]) {
        let start = from + pos;
        let candidate = bytes.get(start..start + needle.len())?;
        if candidate.eq_ignore_ascii_case(needle) {
            return Some(start);
        }
        from = start + 1;
    }
    None
}

/// Turns the markers inside images back into the word `[redacted]`: an image's
/// text is its `alt` attribute, where markup would show as escaped tags.
pub fn plain_in_images(events: &mut [Event<'_>]) {
    let mut depth = 0usize;
    for event in events.iter_mut() {
        match event {
            Event::Start(pulldown_cmark::Tag::Image { .. }) => depth += 1,
            Event::End(pulldown_cmark::TagEnd::Image) => depth = depth.saturating_sub(1),
            Event::InlineHtml(h) if depth > 0 && h.starts_with(MARKER_HTML_START) => {
                *event = Event::Text(CowStr::Borrowed("[redacted]"));
            }
            _ => {}
        }
    }
}

/// Text made from a body (an excerpt) as HTML: escaped, with each
/// [`PLACEHOLDER`] drawn as a redaction bar, so that an excerpt shows withheld
/// text as the page does, never as brackets.
pub fn text_with_bars(text: &str) -> String {
    escape_attr(text).replace(PLACEHOLDER, &marker_html(None))
}

/// How every marker's HTML starts.
const MARKER_HTML_START: &str = "<span class=\"redaction\"";

/// The marker's HTML. The visible word "redacted" is the accessible name, so screen
/// readers announce it; the ground is in the title and a data attribute for the
/// theme's hover/focus note. `tabindex` lets keyboard users reach the ground.
fn marker_html(ground: Option<&str>) -> String {
    match ground {
        None => "<span class=\"redaction\" title=\"Redacted\"><span class=\"redaction-label\">redacted</span></span>".into(),
        Some(g) => {
            let g = escape_attr(g);
            format!(
                "<span class=\"redaction\" tabindex=\"0\" title=\"Redacted: {g}\" data-ground=\"{g}\"><span class=\"redaction-label\">redacted</span><span class=\"redaction-ground\"> ({g})</span></span>"
            )
        }
    }
}

fn escape_attr(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::super::render;

    #[test]
    fn markers_render_as_labelled_spans() {
        let r = render("Participants: [redacted] and [Redacted: Article 4(1)(b)].\n");
        assert_eq!(r.redactions.len(), 2);
        assert_eq!(r.redactions[1].ground.as_deref(), Some("Article 4(1)(b)"));
        assert!(!r.html.contains("[redacted"), "{}", r.html);
        assert!(r.html.contains("class=\"redaction\""), "{}", r.html);
        assert!(
            r.html.contains("data-ground=\"Article 4(1)(b)\""),
            "{}",
            r.html
        );
    }

    #[test]
    fn ground_is_escaped() {
        let r = render("[redacted: <img src=x onerror=alert(1)>]\n");
        assert!(!r.html.contains("onerror"), "{}", r.html);
        let r = render("[redacted: a \"quoted\" ground & more]\n");
        assert!(
            r.html
                .contains("data-ground=\"a &quot;quoted&quot; ground &amp; more\""),
            "{}",
            r.html
        );
    }

    #[test]
    fn excerpts_show_bars_and_escape_the_rest() {
        let html = super::text_with_bars("Met <b>X</b> & [redacted] at \"HQ\".");
        assert!(
            html.starts_with("Met &lt;b&gt;X&lt;/b&gt; &amp; <span class=\"redaction\""),
            "{html}"
        );
        assert!(html.ends_with("</span> at &quot;HQ&quot;."), "{html}");
        assert!(!html.contains("[redacted"), "{html}");
    }

    #[test]
    fn unclosed_markers_stay_text() {
        let line = "[redacted: no end ".repeat(2000);
        let r = render(&format!("{line}\n\nThen [redacted].\n"));
        assert_eq!(r.redactions.len(), 1);
        assert_eq!(r.html.matches("[redacted: no end").count(), 2000);
        assert_eq!(super::strip(&line), line);
    }

    #[test]
    fn code_keeps_the_literal_marker() {
        let r = render("Write `[redacted]` to mark a redaction.\n");
        assert!(r.redactions.is_empty());
        assert!(r.html.contains("<code>[redacted]</code>"), "{}", r.html);
    }

    #[test]
    fn unclosed_marker_is_text() {
        let r = render("[redacted: never closed\n");
        assert!(r.redactions.is_empty());
    }
}
