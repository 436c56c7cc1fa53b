//! Markdown bodies to HTML, by mapping pulldown-cmark's event stream: redaction
//! markers, heading ids, safe link targets, sanitised raw HTML and highlighted code
//! are all transformations of events, never regexes over rendered HTML.

pub mod anchors;
mod autolink;
mod footnotes;
mod highlight;
mod raw_html;
pub mod redaction;

pub use autolink::Autolinker;
pub use highlight::highlight_css;
pub use redaction::Redaction;

use pulldown_cmark::{
    CodeBlockKind, CowStr, Event, HeadingLevel, LinkType, Options, Parser, Tag, TagEnd,
};
use serde::Serialize;
use std::collections::{HashMap, HashSet};

/// A heading of a document body, for tables of contents and anchors.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Heading {
    /// 1–6.
    pub level: u8,
    /// The anchor id (explicit `{#id}` or derived from the text).
    pub id: String,
    /// The heading's plain text.
    pub text: String,
}

/// The plain text of one citable block, for search: redactions removed, white
/// space folded. `anchor` is empty for text outside citable blocks (notes, code).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TextBlock {
    /// The block's pinpoint anchor or heading id.
    pub anchor: String,
    /// Its text.
    pub text: String,
}

impl TextBlock {
    /// Folds runs of ASCII white space to one space and trims, copying a word at
    /// a time rather than pushing each byte.
    fn normalised(self) -> TextBlock {
        let mut text = String::with_capacity(self.text.len());
        for word in self.text.split_ascii_whitespace() {
            if !text.is_empty() {
                text.push(' ');
            }
            text.push_str(word);
        }
        TextBlock {
            anchor: self.anchor,
            text,
        }
    }
}

/// A rendered body and what was learnt while rendering it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RenderedBody {
    /// Safe HTML: raw HTML in the source is sanitised (unless trusted), links
    /// cannot run script.
    pub html: String,
    /// Every redaction in reading order.
    pub redactions: Vec<Redaction>,
    /// Headings in reading order.
    pub headings: Vec<Heading>,
    /// True when the body contains a fenced code block that was highlighted.
    pub has_code: bool,
    /// Pinpoint anchors of the body's citable blocks, in reading order.
    pub anchors: Vec<String>,
    /// Searchable text by block (headings and citable blocks), without redacted text.
    pub blocks: Vec<TextBlock>,
    /// Every link in the body, as written.
    pub links: Vec<BodyLink>,
    /// Autolink targets mentioned, in order of first mention, with the block.
    pub mentions: Vec<(usize, String)>,
    /// The `id` attributes written in the body's raw HTML: a site whose editors
    /// are trusted keeps them, so links to them are not reported as broken.
    pub raw_ids: Vec<String>,
    /// Mistakes in the Markdown that would lose text if let pass: (byte offset,
    /// what is wrong). A second definition of a footnote label, which the
    /// renderer drops.
    pub problems: Vec<(usize, String)>,
}

/// The Markdown extensions annals supports: CommonMark plus tables, footnotes,
/// strikethrough and heading attributes (`## Title {#id}`).
pub fn options() -> Options {
    Options::ENABLE_TABLES
        | Options::ENABLE_FOOTNOTES
        | Options::ENABLE_STRIKETHROUGH
        | Options::ENABLE_HEADING_ATTRIBUTES
}

/// A link written in a body, as found (before resolution).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BodyLink {
    /// The destination as written: `doc:x#p4`, `../2016/y.md`, `https://…`.
    pub dest: String,
    /// Byte offset of the link in the body, to report problems at the right line.
    pub offset: usize,
    /// Anchor of the citable block containing the link (empty outside blocks).
    pub block: String,
    /// The link's visible text, to find its sentence for excerpts.
    pub text: String,
}

/// Maps a link destination to the URL to emit, or `None` to keep it as written.
pub type LinkResolver<'r> = dyn Fn(&str) -> Option<String> + Sync + 'r;

/// How to render a body: how to resolve links between documents, and whether to
/// highlight code (the link stage's analysis pass skips it).
#[derive(Default, Clone, Copy)]
pub struct RenderOptions<'a> {
    /// Maps a link destination to the URL to emit; `None` keeps it as written.
    pub resolve_link: Option<&'a LinkResolver<'a>>,
    /// Skip syntax highlighting (code is still escaped and shown).
    pub skip_highlight: bool,
    /// Analyse only: collect anchors, links, mentions and text, but make no HTML.
    pub skip_html: bool,
    /// Names and references to link on first mention.
    pub autolinker: Option<&'a Autolinker>,
    /// The URL of an autolink target, or `None` to record the mention without a link
    /// (the analysis pass, or a target that is the document itself).
    pub autolink_url: Option<&'a AutolinkUrl<'a>>,
    /// Pass raw HTML through as written (`[markdown] trusted_html` in `site.toml`)
    /// instead of sanitising it.
    pub trusted_html: bool,
}

impl<'a> RenderOptions<'a> {
    /// Analysis only: anchors, links, mentions of `autolinker`'s names and
    /// text blocks, as the link pass and search read them; no HTML is made.
    pub fn analysis(autolinker: Option<&'a Autolinker>) -> Self {
        RenderOptions {
            skip_highlight: true,
            skip_html: true,
            autolinker,
            ..RenderOptions::default()
        }
    }
}

/// Maps an autolink target to its URL.
pub type AutolinkUrl<'r> = dyn Fn(usize) -> Option<String> + Sync + 'r;

/// Renders a document body to safe HTML, with links left as written.
pub fn render(markdown: &str) -> RenderedBody {
    render_with(markdown, &RenderOptions::default())
}

/// A link's start event with its destination resolved by the options' link
/// resolver (`doc:` ids and document files become permanent URLs), the same in
/// headings and in running text.
fn resolved_link<'e>(
    link_type: pulldown_cmark::LinkType,
    dest_url: &CowStr<'e>,
    title: &CowStr<'e>,
    id: &CowStr<'e>,
    options: &RenderOptions<'_>,
) -> Event<'e> {
    Event::Start(Tag::Link {
        link_type,
        dest_url: options
            .resolve_link
            .and_then(|f| f(dest_url))
            .map_or_else(|| dest_url.clone(), CowStr::from),
        title: title.clone(),
        id: id.clone(),
    })
}

/// The values of the `id` attributes in a piece of raw HTML.
fn raw_ids(html: &str) -> impl Iterator<Item = String> + '_ {
    html.match_indices("id=").filter_map(move |(at, _)| {
        let before = html[..at].chars().last();
        if !before.is_some_and(char::is_whitespace) {
            return None;
        }
        let rest = &html[at + 3..];
        let quote = rest.chars().next().filter(|c| *c == '"' || *c == '\'')?;
        let value = &rest[1..];
        value.find(quote).map(|end| value[..end].to_string())
    })
}

/// Whether raw HTML has an attribute whose value is a `doc:` address.
fn raw_doc_link(html: &str) -> bool {
    let lower = html.to_ascii_lowercase();
    ["=\"doc:", "='doc:", "=doc:"]
        .iter()
        .any(|p| lower.contains(p))
        || lower.contains("= \"doc:")
}

/// Every link and image of a body as written, with its byte offset: where a
/// problem found in the page it renders to is to be reported.
pub fn link_offsets(markdown: &str) -> Vec<(String, usize)> {
    Parser::new_ext(markdown, options())
        .into_offset_iter()
        .filter_map(|(event, range)| match event {
            Event::Start(Tag::Link { dest_url, .. } | Tag::Image { dest_url, .. }) => {
                Some((dest_url.to_string(), range.start))
            }
            _ => None,
        })
        .collect()
}

/// How a redaction marker begins (see [`redaction`]).
const MARKER_START: &str = "[redacted";

/// Renders a document body to safe HTML.
pub fn render_with(markdown: &str, options_: &RenderOptions<'_>) -> RenderedBody {
    let (events, offsets) = merge_text(
        markdown,
        Parser::new_ext(markdown, options()).into_offset_iter(),
    );
    let mut out = RenderedBody::default();
    let mut mapped: Vec<Event<'_>> = Vec::with_capacity(events.len());
    let mut used_ids: HashSet<String> = HashSet::new();
    // The next suffix to try per heading base (see `unique_id`).
    let mut next_suffix: HashMap<String, usize> = HashMap::new();
    // Blocks opened with an anchor are closed by hand: (expected end, closing HTML),
    // and the nesting depth at which each was opened.
    let mut close_stack: Vec<(TagEnd, &str)> = Vec::new();
    let mut open_depths: Vec<usize> = Vec::new();
    let mut depth = 0usize;
    let mut text_stack: Vec<TextBlock> = Vec::new();
    let mut link_depth = 0usize;
    // Text outside citable blocks (footnotes, code) is searchable at the document level.
    let mut loose = TextBlock {
        anchor: String::new(),
        text: String::new(),
    };
    let (anchors, sourced) = anchors::assign(&events);
    // Footnote numbers, worked out once a body has a note; the depths at
    // which the open notes' blocks began.
    let mut note_numbers: Option<HashMap<String, usize>> = None;
    let mut note_blocks: Vec<usize> = Vec::new();
    let mut defined: HashSet<&str> = HashSet::new();
    for (event, &offset) in events.iter().zip(&offsets) {
        match event {
            Event::Start(Tag::FootnoteDefinition(label)) if !defined.insert(label.as_ref()) => {
                out.problems.push((
                    offset,
                    format!("footnote `[^{label}]` is defined twice: the second definition would be dropped"),
                ));
            }
            Event::Html(h) | Event::InlineHtml(h) => {
                // Raw HTML is sanitised, which removes a `doc:` address: the
                // link would vanish without a word.
                if raw_doc_link(h) {
                    out.problems.push((
                        offset,
                        "a `doc:` link in raw HTML is not resolved (the sanitiser removes it): write it in Markdown, [text](doc:<id>)".to_string(),
                    ));
                }
                out.raw_ids.extend(raw_ids(h));
            }
            // A reference definition `[redacted]: …` would turn the redaction
            // markers it names into links: the redaction would vanish from the
            // page without a word.
            Event::Start(Tag::Link {
                link_type: LinkType::Reference | LinkType::Collapsed | LinkType::Shortcut,
                ..
            }) if markdown.get(offset..).is_some_and(|rest| {
                rest.get(..MARKER_START.len())
                    .is_some_and(|start| start.eq_ignore_ascii_case(MARKER_START))
                    && matches!(rest.as_bytes().get(MARKER_START.len()), Some(b']' | b':'))
            }) =>
            {
                out.problems.push((
                    offset,
                    "this redaction marker is a link, because a reference definition (`[redacted]: …`) names it: remove that definition, or the redaction would not be shown".to_string(),
                ));
            }
            _ => {}
        }
    }
    for id in anchors.iter().flatten() {
        used_ids.insert(id.clone());
    }
    let mut i = 0;
    while i < events.len() {
        if let Some(id) = &anchors[i] {
            out.anchors.push(id.clone());
            // A number of the source's own (`4.2.`) is marked, so that a copied
            // pinpoint says "para. 4.2" only where the source says so.
            let numbered = if sourced.contains(id) {
                " data-numbered"
            } else {
                ""
            };
            let pin = format!(
                "<a class=\"pin\" href=\"#{id}\"{numbered} aria-label=\"Link to paragraph {id}\">¶</a>"
            );
            match &events[i] {
                Event::Start(Tag::Paragraph) => {
                    mapped.push(Event::Html(CowStr::from(format!("<p id=\"{id}\">{pin}"))));
                    close_stack.push((TagEnd::Paragraph, "</p>\n"));
                }
                Event::Start(Tag::Item) => {
                    mapped.push(Event::Html(CowStr::from(format!("<li id=\"{id}\">{pin}"))));
                    close_stack.push((TagEnd::Item, "</li>\n"));
                }
                Event::Start(Tag::BlockQuote(_)) => {
                    mapped.push(Event::Html(CowStr::from(format!(
                        "<blockquote id=\"{id}\">{pin}\n"
                    ))));
                    close_stack.push((TagEnd::BlockQuote(None), "</blockquote>\n"));
                }
                other => {
                    mapped.push(Event::Html(CowStr::from(format!(
                        "<div class=\"table-wrap\" id=\"{id}\">{pin}\n"
                    ))));
                    mapped.push(other.clone());
                    close_stack.push((TagEnd::Table, "</div>\n"));
                }
            }
            open_depths.push(depth);
            text_stack.push(TextBlock {
                anchor: id.clone(),
                text: String::new(),
            });
            depth += 1;
            i += 1;
            continue;
        }
        // A note's text is a block of its own, anchored at the note (`fn-2`),
        // so that a search hit in it links there rather than to the page's top.
        match &events[i] {
            Event::Start(Tag::FootnoteDefinition(label)) if text_stack.is_empty() => {
                let n = note_numbers
                    .get_or_insert_with(|| footnotes::numbers(&events))
                    .get(label.as_ref())
                    .copied();
                if let Some(n) = n {
                    note_blocks.push(depth);
                    text_stack.push(TextBlock {
                        anchor: format!("fn-{n}"),
                        text: String::new(),
                    });
                }
            }
            Event::End(TagEnd::FootnoteDefinition)
                if !note_blocks.is_empty()
                    && note_blocks.last().copied() == depth.checked_sub(1) =>
            {
                note_blocks.pop();
                if let Some(block) = text_stack.pop() {
                    if !block.text.trim().is_empty() {
                        out.blocks.push(block.normalised());
                    }
                }
            }
            _ => {}
        }
        match &events[i] {
            Event::Start(_) => depth += 1,
            Event::End(end) => {
                depth = depth.saturating_sub(1);
                if open_depths.last() == Some(&depth) {
                    open_depths.pop();
                    if let Some(block) = text_stack.pop() {
                        if !block.text.trim().is_empty() {
                            out.blocks.push(block.normalised());
                        }
                    }
                    if let Some((kind, close)) = close_stack.pop() {
                        if kind == TagEnd::Table {
                            mapped.push(Event::End(*end));
                        }
                        mapped.push(Event::Html(CowStr::from(close)));
                    }
                    i += 1;
                    continue;
                }
            }
            _ => {}
        }
        match &events[i] {
            Event::Start(Tag::Heading {
                level,
                id,
                classes,
                attrs,
            }) => {
                // Collect the heading's inline events to derive its text and id.
                let end = events[i..]
                    .iter()
                    .position(|e| matches!(e, Event::End(TagEnd::Heading(_))))
                    .map_or(events.len(), |p| i + p);
                let inner = &events[i + 1..end.min(events.len())];
                let text = plain_text(inner);
                // The block keeps escaped markers held, so that `strip` tells
                // them from redactions.
                let block_text = redaction::strip(&plain_text_held(inner));
                let base = match id {
                    Some(id) if !id.is_empty() => id.to_string(),
                    _ => heading_slug(&text),
                };
                let unique = unique_id(&base, &mut used_ids, &mut next_suffix);
                out.blocks.push(
                    TextBlock {
                        anchor: unique.clone(),
                        text: block_text,
                    }
                    .normalised(),
                );
                out.headings.push(Heading {
                    level: heading_level(*level),
                    id: unique.clone(),
                    text,
                });
                mapped.push(Event::Start(Tag::Heading {
                    level: *level,
                    id: Some(CowStr::from(unique.clone())),
                    classes: classes.clone(),
                    // `{key=value}` would let a body set any attribute (`onclick`).
                    attrs: if options_.trusted_html {
                        attrs.clone()
                    } else {
                        Vec::new()
                    },
                }));
                for (k, e) in inner.iter().enumerate() {
                    // Links in headings are checked and resolved like any other.
                    let e = match e {
                        Event::Start(Tag::Link {
                            link_type,
                            dest_url,
                            title,
                            id,
                        }) => {
                            out.links.push(BodyLink {
                                dest: dest_url.to_string(),
                                offset: offsets.get(i + 1 + k).copied().unwrap_or(0),
                                block: unique.clone(),
                                text: link_text(&inner[k + 1..]),
                            });
                            resolved_link(*link_type, dest_url, title, id, options_)
                        }
                        other => other.clone(),
                    };
                    push_inline(e, &mut mapped, &mut out.redactions);
                }
                if end < events.len() {
                    mapped.push(events[end].clone());
                }
                i = end + 1;
                continue;
            }
            Event::Start(Tag::CodeBlock(kind)) => {
                let lang = match kind {
                    CodeBlockKind::Fenced(info) => {
                        info.split_whitespace().next().unwrap_or("").to_string()
                    }
                    CodeBlockKind::Indented => String::new(),
                };
                let mut code = String::new();
                let mut j = i + 1;
                while j < events.len() {
                    match &events[j] {
                        Event::Text(t) => code.push_str(t),
                        Event::End(TagEnd::CodeBlock) => break,
                        _ => {}
                    }
                    j += 1;
                }
                loose.text.push_str(&redaction::literal(&code));
                loose.text.push(' ');
                let html = if options_.skip_highlight {
                    highlight::code_block(&code, "")
                } else {
                    highlight::code_block(&code, &lang)
                };
                out.has_code |= !lang.is_empty();
                mapped.push(Event::Html(CowStr::from(html)));
                i = j + 1;
                continue;
            }
            Event::Start(Tag::Link {
                link_type,
                dest_url,
                title,
                id,
            }) => {
                link_depth += 1;
                out.links.push(BodyLink {
                    dest: dest_url.to_string(),
                    offset: offsets[i],
                    block: text_stack
                        .last()
                        .map(|b| b.anchor.clone())
                        .unwrap_or_default(),
                    text: link_text(&events[i + 1..]),
                });
                push_inline(
                    resolved_link(*link_type, dest_url, title, id, options_),
                    &mut mapped,
                    &mut out.redactions,
                );
            }
            Event::Text(t) if link_depth == 0 && options_.autolinker.is_some() => {
                let block = text_stack
                    .last()
                    .map(|b| b.anchor.clone())
                    .unwrap_or_default();
                let target = text_stack.last_mut().unwrap_or(&mut loose);
                target.text.push_str(&redaction::strip(t));
                let start = mapped.len();
                push_inline(Event::Text(t.clone()), &mut mapped, &mut out.redactions);
                let pieces = mapped.split_off(start);
                for piece in pieces {
                    match piece {
                        Event::Text(text) => {
                            autolink_text(text, options_, &block, &mut out.mentions, &mut mapped)
                        }
                        other => mapped.push(other),
                    }
                }
            }
            other => {
                // An image's alt text is text too, and must not hold a link.
                match other {
                    Event::Start(Tag::Link { .. } | Tag::Image { .. }) => link_depth += 1,
                    Event::End(TagEnd::Link | TagEnd::Image) => {
                        link_depth = link_depth.saturating_sub(1)
                    }
                    // So is the text of a raw HTML `<a>`.
                    Event::InlineHtml(h) => match raw_anchor(h) {
                        Some(true) => link_depth += 1,
                        Some(false) => link_depth = link_depth.saturating_sub(1),
                        None => {}
                    },
                    _ => {}
                }
                if let Event::Text(t) = other {
                    let target = text_stack.last_mut().unwrap_or(&mut loose);
                    target.text.push_str(&redaction::strip(t));
                } else if let Event::Code(t) = other {
                    let target = text_stack.last_mut().unwrap_or(&mut loose);
                    target.text.push_str(&redaction::literal(t));
                } else if matches!(
                    other,
                    Event::SoftBreak
                        | Event::HardBreak
                        | Event::End(
                            TagEnd::Paragraph
                                | TagEnd::Item
                                | TagEnd::TableCell
                                | TagEnd::FootnoteDefinition
                                | TagEnd::BlockQuote(_)
                        )
                ) {
                    text_stack.last_mut().unwrap_or(&mut loose).text.push(' ');
                }
                push_inline(other.clone(), &mut mapped, &mut out.redactions)
            }
        }
        i += 1;
    }
    if !loose.text.trim().is_empty() {
        out.blocks.push(loose.normalised());
    }
    if options_.skip_html {
        return out;
    }
    let mut mapped = raw_html::settle(footnotes::rearrange(mapped), options_.trusted_html);
    if !out.redactions.is_empty() {
        redaction::plain_in_images(&mut mapped);
    }
    mark_bare_urls(&mut mapped);
    let mut html = String::with_capacity(markdown.len() * 3 / 2);
    pulldown_cmark::html::push_html(&mut html, mapped.into_iter());
    out.html = html;
    out
}

/// Splits a text run at first mentions of autolink targets, emitting links for the
/// targets that have a URL and recording every first mention.
fn autolink_text<'a>(
    text: CowStr<'a>,
    options: &RenderOptions<'_>,
    block: &str,
    mentions: &mut Vec<(usize, String)>,
    out: &mut Vec<Event<'a>>,
) {
    let Some(autolinker) = options.autolinker else {
        out.push(Event::Text(text));
        return;
    };
    let mut last = 0;
    for (start, end, target) in autolinker.find(&text) {
        if mentions.iter().any(|(t, _)| *t == target) {
            continue;
        }
        mentions.push((target, block.to_string()));
        let Some(url) = options.autolink_url.and_then(|f| f(target)) else {
            continue;
        };
        if start > last {
            out.push(Event::Text(CowStr::from(text[last..start].to_string())));
        }
        out.push(Event::InlineHtml(CowStr::from(format!(
            "<a class=\"mention\" href=\"{}\">",
            escape_attr(&url)
        ))));
        out.push(Event::Text(CowStr::from(text[start..end].to_string())));
        out.push(Event::InlineHtml(CowStr::from("</a>")));
        last = end;
    }
    if last == 0 {
        out.push(Event::Text(text));
    } else if last < text.len() {
        out.push(Event::Text(CowStr::from(text[last..].to_string())));
    }
}

fn escape_attr(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('"', "&quot;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

/// Maps one event outside code blocks: redactions in text, safe links, raw HTML
/// set aside for [`raw_html::settle`].
fn push_inline<'a>(event: Event<'a>, out: &mut Vec<Event<'a>>, redactions: &mut Vec<Redaction>) {
    match event {
        Event::Text(text) => redaction::split_into(text, out, redactions),
        raw @ (Event::Html(_) | Event::InlineHtml(_)) => out.push(raw_html::tunnel(raw)),
        Event::Start(Tag::Link {
            link_type,
            dest_url,
            title,
            id,
        }) => out.push(Event::Start(Tag::Link {
            link_type,
            dest_url: safe_url(dest_url),
            title,
            id,
        })),
        Event::Start(Tag::Image {
            link_type,
            dest_url,
            title,
            id,
        }) => out.push(Event::Start(Tag::Image {
            link_type,
            dest_url: safe_url(dest_url),
            title,
            id,
        })),
        other => out.push(other),
    }
}

/// Marks each bare URL (`<https://…>`), whose text is its address, with the
/// class `bare-url`, so that print, which adds every web link's address after
/// it, does not print this one twice. The tag is what the HTML writer makes of
/// a link (the same escaping of the address, already made safe), plus the
/// class. Not inside an image: its alt text is plain text, where the HTML
/// writer stops at the link's end.
fn mark_bare_urls(events: &mut [Event<'_>]) {
    let mut images = 0usize;
    for event in events.iter_mut() {
        match event {
            Event::Start(Tag::Image { .. }) => images += 1,
            Event::End(TagEnd::Image) => images = images.saturating_sub(1),
            Event::Start(Tag::Link {
                link_type: LinkType::Autolink,
                dest_url,
                title,
                ..
            }) if images == 0 && title.is_empty() => {
                let mut html = String::from("<a class=\"bare-url\" href=\"");
                let _ = pulldown_cmark_escape::escape_href(&mut html, dest_url);
                html.push_str("\">");
                *event = Event::InlineHtml(CowStr::from(html));
            }
            _ => {}
        }
    }
}

/// Keeps a link target only if it cannot run script: `javascript:`, `vbscript:`,
/// `data:` and other unknown schemes become `#`.
fn safe_url(url: CowStr<'_>) -> CowStr<'_> {
    let cleaned: String = url
        .chars()
        .filter(|c| !c.is_whitespace() && !c.is_control())
        .take(32)
        .collect::<String>()
        .to_ascii_lowercase();
    let scheme = cleaned.split_once(':').map(|(s, _)| s);
    match scheme {
        None => url,
        Some(s) if s.contains(['/', '?', '#']) => url,
        Some("http" | "https" | "mailto" | "tel" | "doc") => url,
        Some(_) => CowStr::from("#"),
    }
}

/// Joins adjacent text events (pulldown-cmark splits text at `[`, `]` and entities),
/// so that markers such as `[redacted]` can be recognised in one piece. Returns the
/// events and the byte offset at which each starts.
fn merge_text<'a>(
    markdown: &str,
    parser: impl Iterator<Item = (Event<'a>, std::ops::Range<usize>)>,
) -> (Vec<Event<'a>>, Vec<usize>) {
    let mut out: Vec<Event<'a>> = Vec::new();
    let mut offsets: Vec<usize> = Vec::new();
    // Where the last event's source ended: a backslash before a text that no
    // event covered is an escape, not text (`a\\[` is a backslash, then `[`).
    let mut last_end = 0;
    // The joined text of the last event, while a run of text events goes on.
    let mut joining: Option<String> = None;
    for (event, range) in parser {
        let escaped = range.start > last_end
            && markdown.as_bytes().get(range.start.wrapping_sub(1)) == Some(&b'\\');
        last_end = range.end;
        let event = match event {
            // `\[redacted]` is the marker's text, not a redaction: its bracket is
            // held as a stand-in the marker scan passes over (see
            // [`redaction::ESCAPED_BRACKET`]).
            Event::Text(t) if escaped && redaction::starts_with_marker(&t) => {
                let mut held = String::with_capacity(t.len() + 2);
                held.push(redaction::ESCAPED_BRACKET);
                held.push_str(&t[1..]);
                Event::Text(CowStr::from(held))
            }
            other => other,
        };
        if let Event::Text(t) = &event {
            if let Some(Event::Text(prev)) = out.last() {
                // Joined in one growing buffer, put in place once the run of
                // text ends: copying the joined text again for each piece
                // took quadratic time (80,000 markers in one paragraph: 9 s).
                joining.get_or_insert_with(|| prev.to_string()).push_str(t);
                continue;
            }
        }
        end_text_run(&mut out, &mut joining);
        out.push(event);
        offsets.push(range.start);
    }
    end_text_run(&mut out, &mut joining);
    (out, offsets)
}

/// Puts the text joined so far (see [`merge_text`]) in place of the last event.
fn end_text_run(out: &mut [Event<'_>], joining: &mut Option<String>) {
    if let (Some(joined), Some(Event::Text(last))) = (joining.take(), out.last_mut()) {
        *last = CowStr::from(joined);
    }
}

/// Whether a raw inline HTML tag opens (`Some(true)`) or closes (`Some(false)`) an
/// `<a>` element, or is something else (`None`).
fn raw_anchor(tag: &str) -> Option<bool> {
    let (closing, rest) = match tag.strip_prefix("</") {
        Some(rest) => (true, rest),
        None => (false, tag.strip_prefix('<')?),
    };
    let mut chars = rest.chars();
    let is_a = chars.next().is_some_and(|c| c.eq_ignore_ascii_case(&'a'))
        && chars
            .next()
            .is_none_or(|c| c.is_ascii_whitespace() || c == '>' || c == '/');
    is_a.then_some(!closing)
}

/// The plain text of a link whose events start at `events[0]`, up to its end.
fn link_text(events: &[Event<'_>]) -> String {
    let end = events
        .iter()
        .position(|e| matches!(e, Event::End(TagEnd::Link)))
        .unwrap_or(events.len());
    plain_text(&events[..end])
}

/// The plain text of a run of inline events.
pub fn plain_text(events: &[Event<'_>]) -> String {
    redaction::restore_escaped(&plain_text_held(events)).into_owned()
}

/// [`plain_text`] with escaped markers' brackets still held (see
/// [`redaction::ESCAPED_BRACKET`]), for [`redaction::strip`].
fn plain_text_held(events: &[Event<'_>]) -> String {
    let mut s = String::new();
    for e in events {
        match e {
            Event::Text(t) => s.push_str(t),
            Event::Code(t) => s.push_str(&redaction::held(t)),
            Event::SoftBreak | Event::HardBreak => s.push(' '),
            _ => {}
        }
    }
    s.trim().to_string()
}

/// An id for a heading: its words, lower-cased, joined by hyphens. Numbers such as
/// `4.2` keep their dot so section numbers stay recognisable (`4-2` would be ambiguous).
fn heading_slug(text: &str) -> String {
    let mut out = String::new();
    let mut dash = false;
    for c in text.chars() {
        if c.is_alphanumeric() {
            if dash && !out.is_empty() {
                if out.ends_with('.') {
                    out.pop();
                }
                out.push('-');
            }
            dash = false;
            out.extend(c.to_lowercase());
        } else if c == '.' && out.ends_with(|p: char| p.is_ascii_digit()) && !dash {
            out.push('.');
        } else {
            dash = true;
        }
    }
    let out = out.trim_end_matches('.').to_string();
    if out.is_empty() {
        "section".to_string()
    } else {
        out
    }
}

/// Ids the default theme gives elements of a document's page (its landmarks,
/// headings of its sections, the citation box and search fields): a heading of
/// the body must not take one, or the skip link, a section's label or the
/// "Copy citation" button would point at the heading instead.
pub const THEME_IDS: &[&str] = &[
    "backlinks-heading",
    "citation-text",
    "cite-heading",
    "doc-title",
    "events-heading",
    "filed-heading",
    "latest-heading",
    "main",
    "mentioned-heading",
    "provenance-heading",
    "received-heading",
    "related-heading",
    "search",
    "search-from",
    "search-help",
    "search-q",
    "search-to",
    "sent-heading",
    "site-heading",
    "site-search-q",
    "timeline-heading",
    "toc-heading",
    "years-heading",
];

/// Whether a heading may not take `id` as it is: the theme uses it, or it has
/// the form of a footnote's ids (`fn-2`, `fnref-2`, `fnref-2-1`).
fn reserved_id(id: &str) -> bool {
    let numbered = |rest: &str| {
        !rest.is_empty()
            && rest.split('-').count() <= 2
            && rest
                .split('-')
                .all(|n| !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()))
    };
    THEME_IDS.contains(&id)
        || id.strip_prefix("fn-").is_some_and(numbered)
        || id.strip_prefix("fnref-").is_some_and(numbered)
}

/// `base`, or the first `base-<n>` not used yet. The suffix to try next is kept
/// per base, so that a body of thousands of headings with one text takes linear
/// time, not a scan of every suffix given before for each heading.
fn unique_id(
    base: &str,
    used: &mut HashSet<String>,
    next_suffix: &mut HashMap<String, usize>,
) -> String {
    // `## Main` becomes `h-main`: still readable, and never the theme's.
    let base = if reserved_id(base) {
        format!("h-{base}")
    } else {
        base.to_string()
    };
    if used.insert(base.clone()) {
        return base;
    }
    let n = next_suffix.entry(base.clone()).or_insert(1);
    loop {
        let candidate = format!("{base}-{n}");
        *n += 1;
        if used.insert(candidate.clone()) {
            return candidate;
        }
    }
}

fn heading_level(level: HeadingLevel) -> u8 {
    match level {
        HeadingLevel::H1 => 1,
        HeadingLevel::H2 => 2,
        HeadingLevel::H3 => 3,
        HeadingLevel::H4 => 4,
        HeadingLevel::H5 => 5,
        HeadingLevel::H6 => 6,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn repeated_headings_take_the_next_free_suffix() {
        // A heading whose text is itself `a-2` takes that id before the
        // repeats reach it; they skip it.
        let body = render("## A\n\n## A\n\n## A 2\n\n## A\n\n## A\n");
        let ids: Vec<&str> = body
            .html
            .match_indices("<h2 id=\"")
            .map(|(i, m)| {
                let rest = &body.html[i + m.len()..];
                &rest[..rest.find('"').unwrap_or(0)]
            })
            .collect();
        assert_eq!(ids, ["a", "a-1", "a-2", "a-3", "a-4"], "{}", body.html);
        let many = render(&"## A\n\n".repeat(3000));
        assert!(many.html.contains("<h2 id=\"a-2999\">"));
        assert!(!many.html.contains("a-3000"));
    }

    #[test]
    fn an_escaped_marker_is_its_own_text() {
        let body = render(
            "# The \\[redacted] marker\n\nEscaped \\[redacted] and \\[Redacted: Art. 4], \
             a\\\\[redacted] after a backslash, `\\[redacted]` in code, and [redacted].\n",
        );
        // Two real redactions: after the escaped backslash, and the last.
        assert_eq!(body.redactions.len(), 2, "{}", body.html);
        assert!(
            body.html
                .contains("Escaped [redacted] and [Redacted: Art. 4], a\\"),
            "{}",
            body.html
        );
        assert!(
            body.html.contains("<code>\\[redacted]</code>"),
            "{}",
            body.html
        );
        assert!(
            body.html.contains(">The [redacted] marker</h1>"),
            "{}",
            body.html
        );
        assert_eq!(body.headings[0].text, "The [redacted] marker");
        let held = redaction::ESCAPED_BRACKET;
        assert!(!body.html.contains(held));
        assert!(body.blocks.iter().all(|b| !b.text.contains(held)));
        // In text made from the body (snippets, excerpts), the marker's own
        // text is never the placeholder drawn as a bar; the redactions are.
        let literal = redaction::LITERAL_BRACKET;
        assert_eq!(
            body.blocks[0].text,
            format!("The {literal}redacted] marker")
        );
        let paragraph = &body.blocks[1].text;
        assert!(
            paragraph.starts_with(&format!(
                "Escaped {literal}redacted] and {literal}Redacted: Art. 4], a\\ [redacted] "
            )),
            "{paragraph}"
        );
        assert_eq!(paragraph.matches(redaction::PLACEHOLDER).count(), 2);
        assert_eq!(
            redaction::text_with_bars(paragraph)
                .matches("class=\"redaction\"")
                .count(),
            2
        );
        assert!(
            paragraph.contains(&format!("\\{literal}redacted] in code")),
            "{paragraph}"
        );
        // A heading's redaction is a bar in its block too; code shows markers
        // as written.
        let other = render("# The [redacted] plan\n\n## In `[redacted]`\n\n```\n[redacted]\n```\n");
        assert_eq!(other.blocks[0].text, "The [redacted] plan");
        assert_eq!(other.blocks[1].text, format!("In {literal}redacted]"));
        assert_eq!(other.headings[1].text, "In [redacted]");
        let code = other
            .blocks
            .iter()
            .map(|b| b.text.as_str())
            .collect::<String>();
        assert!(code.contains(&format!("{literal}redacted]")), "{code}");
    }

    #[test]
    fn headings_never_take_the_themes_or_the_footnotes_ids() {
        let r = render("## Main\n\n## Fn 1\n\n## Doc title\n\n### X {#citation-text}\n\n## H main\n\nText[^a].\n\n[^a]: Note.\n");
        let ids: Vec<_> = r.headings.iter().map(|h| h.id.as_str()).collect();
        assert_eq!(
            ids,
            [
                "h-main",
                "h-fn-1",
                "h-doc-title",
                "h-citation-text",
                "h-main-1"
            ]
        );
        assert!(r.html.contains("<li id=\"fn-1\">"), "{}", r.html);
        assert!(!reserved_id("fn-x") && !reserved_id("fnref-") && reserved_id("fnref-2-1"));
    }

    /// Every literal id of the default theme's templates is reserved.
    #[test]
    fn the_default_themes_ids_are_reserved() {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("themes/default/templates");
        let mut found = 0;
        for entry in walkdir::WalkDir::new(dir) {
            let entry = entry.unwrap();
            if !entry.file_type().is_file() {
                continue;
            }
            let text = std::fs::read_to_string(entry.path()).unwrap();
            for piece in text.split(" id=\"").skip(1) {
                let id = piece.split('"').next().unwrap();
                if !id.contains('{') {
                    found += 1;
                    assert!(THEME_IDS.contains(&id), "`{id}` is not in THEME_IDS");
                }
            }
        }
        assert!(found > 10);
    }

    #[test]
    fn headings_get_unique_ids() {
        let r = render(
            "## 1. Introduction\n\n## Introduction\n\n## Introduction\n\n### Custom {#here}\n",
        );
        let ids: Vec<_> = r.headings.iter().map(|h| h.id.as_str()).collect();
        assert_eq!(
            ids,
            ["1-introduction", "introduction", "introduction-1", "here"]
        );
        assert!(
            r.html
                .contains("<h2 id=\"1-introduction\">1. Introduction</h2>"),
            "{}",
            r.html
        );
    }

    #[test]
    fn section_numbers_keep_dots() {
        assert_eq!(
            heading_slug("4.2. Creating a data lake"),
            "4.2-creating-a-data-lake"
        );
    }

    #[test]
    fn raw_html_is_sanitised_not_executed() {
        let r = render("Hello <script>alert(1)</script>\n\n<div onclick=\"x()\">hi</div>\n");
        assert!(!r.html.contains("<script"), "{}", r.html);
        assert!(!r.html.contains("<div"), "{}", r.html);
    }

    #[test]
    fn heading_attributes_cannot_add_handlers() {
        let r = render("## Title {#x .note onclick=alert(1) style=color:red}\n");
        assert!(
            r.html.contains("<h2 id=\"x\" class=\"note\">Title</h2>"),
            "{}",
            r.html
        );
    }

    #[test]
    fn math_stays_off_because_raw_html_travels_as_math_events() {
        assert!(!options().contains(Options::ENABLE_MATH));
    }

    #[test]
    fn dangerous_links_are_neutralised() {
        let r = render("[a](javascript:alert(1)) [b](JaVa\tScript:x) [c](data:text/html,x) [d](https://ok.org) [e](../rel.md) [f](#frag)\n");
        assert!(!r.html.to_lowercase().contains("javascript"), "{}", r.html);
        assert!(!r.html.contains("data:"), "{}", r.html);
        assert!(r.html.contains("href=\"https://ok.org\""));
        assert!(r.html.contains("href=\"../rel.md\""));
        assert!(r.html.contains("href=\"#frag\""));
    }

    #[test]
    fn bare_urls_are_marked_as_such_and_escaped_like_other_links() {
        let r = render(
            "See <https://ex.org/a?b=1&c=\"2\"> and [the same](https://ex.org/a?b=1&c=2), \
             <javascript:alert(1)>, <mailto:a@ex.org> and <a@ex.org>.\n",
        );
        assert!(
            r.html.contains(
                "<a class=\"bare-url\" href=\"https://ex.org/a?b=1&amp;c=%222%22\">https://ex.org/a?b=1&amp;c=\"2\"</a>"
            ),
            "{}",
            r.html
        );
        assert!(r
            .html
            .contains("<a href=\"https://ex.org/a?b=1&amp;c=2\">the same</a>"));
        assert!(
            !r.html.to_lowercase().contains("href=\"javascript"),
            "{}",
            r.html
        );
        assert!(r
            .html
            .contains("<a class=\"bare-url\" href=\"#\">javascript:alert(1)</a>"));
        assert!(r.html.contains("href=\"mailto:a@ex.org\""), "{}", r.html);
        // In an image's alt text a bare URL is text, as any link there is.
        let r = render("![Scan, see <https://ex.org/scan> for it](https://ex.org/x.png) after.\n");
        assert!(
            r.html
                .contains("alt=\"Scan, see https://ex.org/scan for it\" /> after."),
            "{}",
            r.html
        );
    }

    #[test]
    fn tables_footnotes_strikethrough() {
        let r = render("| a | b |\n|---|---|\n| 1 | 2 |\n\nText[^1] ~~old~~\n\n[^1]: Note.\n");
        assert!(r.html.contains("<table>"));
        assert!(r.html.contains("<del>old</del>"));
        assert!(r.html.contains("<li id=\"fn-1\">"), "{}", r.html);
        assert!(r.html.contains("href=\"#fn-1\""), "{}", r.html);
        assert!(r.html.contains("href=\"#fnref-1\""), "{}", r.html);
    }

    #[test]
    fn footnotes_are_numbered_by_first_reference_and_moved_to_the_end() {
        let r = render("[^b]: Bee.\n\nFirst[^a], second[^b], again[^a].\n\n[^a]: Ay.\n\nAfter.\n");
        let html = &r.html;
        let ay = html.find("Ay.").unwrap();
        let bee = html.find("Bee.").unwrap();
        let after = html.find("After.").unwrap();
        assert!(after < ay && ay < bee, "{html}");
        assert!(html.contains("id=\"fnref-1-2\""), "{html}");
        // Note 1, cited twice, leads back to both references; note 2 to its one.
        assert!(
            html.contains("href=\"#fnref-1\" role=\"doc-backlink\""),
            "{html}"
        );
        assert!(
            html.contains("href=\"#fnref-1-2\" role=\"doc-backlink\""),
            "{html}"
        );
        assert!(!html.contains("#fnref-2-2"), "{html}");
        assert!(html.contains("[^missing]") || !html.contains("missing"));
    }

    #[test]
    fn notes_are_blocks_anchored_by_their_number() {
        let r = render("A[^b] b[^a].\n\n[^a]: Note ay.\n\n[^b]: Note bee\n\n    with two paragraphs.\n\n[^c]: Never cited.\n");
        let notes: Vec<(&str, &str)> = r
            .blocks
            .iter()
            .filter(|b| b.anchor.starts_with("fn-"))
            .map(|b| (b.anchor.as_str(), b.text.as_str()))
            .collect();
        assert_eq!(
            notes,
            [
                ("fn-2", "Note ay."),
                ("fn-1", "Note bee with two paragraphs."),
                ("fn-3", "Never cited.")
            ]
        );
        for (id, _) in notes {
            assert!(
                r.html.contains(&format!("<li id=\"{id}\">")),
                "{id}: {}",
                r.html
            );
        }
    }

    #[test]
    fn a_note_referring_to_a_note_links_to_it() {
        let r = render("One[^b] two[^a] self[^s].\n\n[^a]: A note.\n[^b]: B note.\n[^s]: Self[^s] and [^a] and [^none].\n");
        let html = &r.html;
        // s is note 3; inside it, links to notes 3 and 2, and no pulldown-cmark default.
        assert!(
            html.contains("<a href=\"#fn-3\" role=\"doc-noteref\""),
            "{html}"
        );
        assert!(
            html.contains("<a href=\"#fn-2\" role=\"doc-noteref\""),
            "{html}"
        );
        assert!(
            !html.contains("href=\"#s\"") && !html.contains("href=\"#a\""),
            "{html}"
        );
        assert!(html.contains("[^none]"), "{html}");
    }

    #[test]
    fn a_redaction_in_alt_text_is_a_word_not_markup() {
        let r = render("![Photo of [redacted: Art. 4] at the desk](https://example.org/x.png)\n");
        assert!(
            r.html.contains("alt=\"Photo of [redacted] at the desk\""),
            "{}",
            r.html
        );
        assert!(!r.html.contains("&lt;span"), "{}", r.html);
    }

    #[test]
    fn code_blocks_are_highlighted_with_classes() {
        let r = render("```rust\nfn main() {}\n```\n");
        assert!(r.has_code);
        assert!(r.html.contains("class=\"hl-"), "{}", r.html);
        assert!(!r.html.contains("style="), "{}", r.html);
    }
}

#[cfg(test)]
mod anchor_tests {
    use super::*;

    #[test]
    fn blocks_get_source_or_running_anchors() {
        let md = "## 1. Intro\n\nFirst plain.\n\n1.1. Numbered para.\n\n- item a\n- item b\n\n> quote\n\n| a |\n|---|\n| 1 |\n\n4.2. Another *with emphasis*.\n\nLast plain[^1].\n\n[^1]: Note para.\n";
        let r = render(md);
        assert_eq!(
            r.anchors,
            ["p1", "p1.1", "p2", "p3", "p4", "p5", "p4.2", "p6"]
        );
        assert!(
            r.html
                .contains("<p id=\"p1.1\"><a class=\"pin\" href=\"#p1.1\""),
            "{}",
            r.html
        );
        assert!(r.html.contains("<li id=\"p2\">"), "{}", r.html);
        assert!(r.html.contains("<blockquote id=\"p4\">"), "{}", r.html);
        assert!(
            r.html.contains("<div class=\"table-wrap\" id=\"p5\">"),
            "{}",
            r.html
        );
        assert!(r.html.contains("</table>\n</div>"), "{}", r.html);
        assert!(r.html.contains("<em>with emphasis</em>.</p>"), "{}", r.html);
        // Balanced tags.
        for tag in ["p", "li", "blockquote", "div", "table", "ul"] {
            let open = r.html.matches(&format!("<{tag}>")).count()
                + r.html.matches(&format!("<{tag} ")).count();
            let close = r.html.matches(&format!("</{tag}>")).count();
            assert_eq!(open, close, "{tag}: {}", r.html);
        }
    }

    #[test]
    fn text_blocks_exclude_redactions() {
        let r = render("## Intro\n\nMet [redacted: personal data] at **Europol**.\n\n- one\n- two\n\nNote[^1].\n\n[^1]: Footnote text.\n");
        let blocks: Vec<(&str, &str)> = r
            .blocks
            .iter()
            .map(|b| (b.anchor.as_str(), b.text.as_str()))
            .collect();
        assert_eq!(
            blocks,
            [
                ("intro", "Intro"),
                ("p1", "Met [redacted] at Europol."),
                ("p2", "one"),
                ("p3", "two"),
                ("p4", "Note."),
                // A note's text is anchored at the note, by its number.
                ("fn-1", "Footnote text.")
            ]
        );
    }

    #[test]
    fn editing_text_keeps_anchors() {
        let a = render("One.\n\n2.1. Two.\n\nThree.\n").anchors;
        let b = render("One, edited at length.\n\n2.1. Two, edited.\n\nThree.\n").anchors;
        assert_eq!(a, b);
    }
}
