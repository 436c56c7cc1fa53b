//! Footnotes: numbered by first reference, gathered at the end of the body in an
//! ordered list, with links both ways. Ids are `fn-N` / `fnref-N[-k]`, derived from
//! the number rather than the label so they cannot collide with heading ids.

use pulldown_cmark::{CowStr, Event, Tag, TagEnd};
use std::collections::HashMap;

/// The number [`rearrange`] gives each defined footnote label: by first
/// reference in the text (references inside notes do not count), then the notes
/// never referenced, in the order they are defined.
pub fn numbers(events: &[Event<'_>]) -> HashMap<String, usize> {
    let mut defined: Vec<&str> = Vec::new();
    let mut depth = 0usize;
    for event in events {
        match event {
            Event::Start(Tag::FootnoteDefinition(label)) => {
                if depth == 0 && !defined.contains(&label.as_ref()) {
                    defined.push(label);
                }
                depth += 1;
            }
            Event::End(TagEnd::FootnoteDefinition) => depth = depth.saturating_sub(1),
            _ => {}
        }
    }
    let mut numbers: HashMap<String, usize> = HashMap::new();
    let mut depth = 0usize;
    for event in events {
        match event {
            Event::Start(Tag::FootnoteDefinition(_)) => depth += 1,
            Event::End(TagEnd::FootnoteDefinition) => depth = depth.saturating_sub(1),
            Event::FootnoteReference(label) if depth == 0 && defined.contains(&label.as_ref()) => {
                let next = numbers.len() + 1;
                numbers.entry(label.to_string()).or_insert(next);
            }
            _ => {}
        }
    }
    for label in defined {
        let next = numbers.len() + 1;
        numbers.entry(label.to_string()).or_insert(next);
    }
    numbers
}

/// Moves footnote definitions to the end and rewrites references as links.
pub fn rearrange(events: Vec<Event<'_>>) -> Vec<Event<'_>> {
    let has_footnotes = events.iter().any(|e| {
        matches!(
            e,
            Event::FootnoteReference(_) | Event::Start(Tag::FootnoteDefinition(_))
        )
    });
    if !has_footnotes {
        return events;
    }
    let mut body = Vec::with_capacity(events.len());
    let mut definitions: HashMap<String, Vec<Event<'_>>> = HashMap::new();
    let mut definition_order: Vec<String> = Vec::new();
    let mut current: Option<(String, Vec<Event<'_>>, usize)> = None;
    for event in events {
        match (&mut current, event) {
            (None, Event::Start(Tag::FootnoteDefinition(label))) => {
                current = Some((label.to_string(), Vec::new(), 0));
            }
            (Some((_, inner, depth)), Event::Start(Tag::FootnoteDefinition(l))) => {
                *depth += 1;
                inner.push(Event::Start(Tag::FootnoteDefinition(l)));
            }
            (Some((label, inner, depth)), Event::End(TagEnd::FootnoteDefinition)) => {
                if *depth == 0 {
                    let label = std::mem::take(label);
                    let inner = std::mem::take(inner);
                    if let std::collections::hash_map::Entry::Vacant(slot) =
                        definitions.entry(label.clone())
                    {
                        definition_order.push(label);
                        slot.insert(inner);
                    }
                    current = None;
                } else {
                    *depth -= 1;
                    inner.push(Event::End(TagEnd::FootnoteDefinition));
                }
            }
            (Some((_, inner, _)), e) => inner.push(e),
            (None, e) => body.push(e),
        }
    }
    // Number by first reference; count repeated references for distinct back-link ids.
    let mut numbers: HashMap<String, (usize, usize)> = HashMap::new();
    let mut order: Vec<String> = Vec::new();
    let mut out = Vec::with_capacity(body.len() + 16);
    for event in body {
        if let Event::FootnoteReference(label) = &event {
            let label = label.to_string();
            if !definitions.contains_key(&label) {
                out.push(Event::Text(CowStr::from(format!("[^{label}]"))));
                continue;
            }
            let next = numbers.len() + 1;
            let entry = numbers.entry(label.clone()).or_insert_with(|| {
                order.push(label.clone());
                (next, 0)
            });
            entry.1 += 1;
            let (n, k) = *entry;
            let id = if k == 1 {
                format!("fnref-{n}")
            } else {
                format!("fnref-{n}-{k}")
            };
            out.push(Event::InlineHtml(CowStr::from(format!(
                "<sup class=\"footnote-ref\"><a id=\"{id}\" href=\"#fn-{n}\" role=\"doc-noteref\" aria-label=\"Note {n}\">{n}</a></sup>"
            ))));
            continue;
        }
        out.push(event);
    }
    for label in definition_order {
        if !numbers.contains_key(&label) {
            let next = numbers.len() + 1;
            numbers.insert(label.clone(), (next, 0));
            order.push(label);
        }
    }
    if order.is_empty() {
        return out;
    }
    out.push(Event::Html(CowStr::from(
        "<section class=\"footnotes\" role=\"doc-endnotes\" aria-label=\"Notes\">\n<ol>\n",
    )));
    for label in order {
        let (n, refs) = numbers[&label];
        out.push(Event::Html(CowStr::from(format!("<li id=\"fn-{n}\">\n"))));
        // A note may refer to a note: a plain link to it (its back-link goes to
        // the reference in the text, if any).
        for event in definitions.remove(&label).unwrap_or_default() {
            match event {
                Event::FootnoteReference(to) => match numbers.get(to.as_ref()) {
                    Some(&(m, _)) => out.push(Event::InlineHtml(CowStr::from(format!(
                        "<sup class=\"footnote-ref\"><a href=\"#fn-{m}\" role=\"doc-noteref\" aria-label=\"Note {m}\">{m}</a></sup>"
                    )))),
                    None => out.push(Event::Text(CowStr::from(format!("[^{to}]")))),
                },
                event => out.push(event),
            }
        }
        if refs > 0 {
            out.push(Event::Html(CowStr::from(format!(
                "<a class=\"footnote-back\" href=\"#fnref-{n}\" role=\"doc-backlink\" aria-label=\"Back to reference {n}\">↩</a>\n"
            ))));
        }
        // A note referred to more than once leads back to each reference.
        for k in 2..=refs {
            out.push(Event::Html(CowStr::from(format!(
                "<a class=\"footnote-back\" href=\"#fnref-{n}-{k}\" role=\"doc-backlink\" aria-label=\"Back to reference {n} ({k})\">↩<sup>{k}</sup></a>\n"
            ))));
        }
        out.push(Event::Html(CowStr::from("</li>\n")));
    }
    out.push(Event::Html(CowStr::from("</ol>\n</section>\n")));
    out
}
