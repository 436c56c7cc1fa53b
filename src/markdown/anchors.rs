//! Pinpoint anchors: every citable block of a body (paragraph, list item, table,
//! block quote) gets an id, so a citation can point at a paragraph.
//!
//! The rule, which the README documents for editors:
//! - A paragraph or list item whose text starts with the source's own number
//!   (`4.2.`, `1.1.`, `12.`) is anchored by it: `#p4.2`, `#p1.1`, `#p12`. Such anchors
//!   never change while the source numbering holds.
//! - Every other block gets a running number, `#p1`, `#p2`, …, counting only the
//!   blocks without a source number, in reading order and skipping numbers the
//!   source already uses. Editing the text of a block never changes any anchor;
//!   adding or removing an unnumbered block shifts the running numbers after it.
//! - Headings keep their own ids; footnotes are `#fn-N`.

use pulldown_cmark::{Event, Tag, TagEnd};
use std::collections::HashSet;

/// The anchor id of each event that starts a citable block (same length as
/// `events`), and the ids that are the source's own paragraph numbers (`p4.2`
/// for a paragraph that begins `4.2.`), as opposed to running numbers.
pub fn assign(events: &[Event<'_>]) -> (Vec<Option<String>>, HashSet<String>) {
    let mut anchors: Vec<Option<String>> = vec![None; events.len()];
    let mut citable: Vec<usize> = Vec::new();
    let mut depth_item = 0usize;
    let mut depth_quote = 0usize;
    let mut depth_note = 0usize;
    let mut depth_table = 0usize;
    for (i, e) in events.iter().enumerate() {
        match e {
            Event::Start(Tag::Paragraph)
                if depth_item == 0 && depth_quote == 0 && depth_note == 0 && depth_table == 0 =>
            {
                citable.push(i);
            }
            Event::Start(Tag::Item) => {
                if depth_note == 0 && depth_quote == 0 {
                    citable.push(i);
                }
                depth_item += 1;
            }
            Event::End(TagEnd::Item) => depth_item = depth_item.saturating_sub(1),
            Event::Start(Tag::BlockQuote(_)) => {
                if depth_item == 0 && depth_quote == 0 && depth_note == 0 {
                    citable.push(i);
                }
                depth_quote += 1;
            }
            Event::End(TagEnd::BlockQuote(_)) => depth_quote = depth_quote.saturating_sub(1),
            Event::Start(Tag::Table(_)) => {
                if depth_item == 0 && depth_quote == 0 && depth_note == 0 {
                    citable.push(i);
                }
                depth_table += 1;
            }
            Event::End(TagEnd::Table) => depth_table = depth_table.saturating_sub(1),
            Event::Start(Tag::FootnoteDefinition(_)) => depth_note += 1,
            Event::End(TagEnd::FootnoteDefinition) => depth_note = depth_note.saturating_sub(1),
            _ => {}
        }
    }
    // First the source numbers, so running numbers can avoid them.
    let mut used: HashSet<String> = HashSet::new();
    let mut numbered: Vec<Option<String>> = Vec::with_capacity(citable.len());
    for &i in &citable {
        let number = match &events[i] {
            Event::Start(Tag::Paragraph) | Event::Start(Tag::Item) => {
                leading_text(events, i).and_then(source_number)
            }
            _ => None,
        };
        let id = number
            .map(|n| format!("p{n}"))
            .filter(|id| used.insert(id.clone()));
        numbered.push(id);
    }
    let sourced: HashSet<String> = numbered.iter().flatten().cloned().collect();
    let mut running = 0usize;
    for (&i, id) in citable.iter().zip(numbered) {
        let id = match id {
            Some(id) => id,
            None => loop {
                running += 1;
                let candidate = format!("p{running}");
                if used.insert(candidate.clone()) {
                    break candidate;
                }
            },
        };
        anchors[i] = Some(id);
    }
    (anchors, sourced)
}

/// The first text of the block starting at `i` (skipping a paragraph start inside an item).
fn leading_text<'e>(events: &'e [Event<'_>], i: usize) -> Option<&'e str> {
    events[i + 1..].iter().take(3).find_map(|e| match e {
        Event::Text(t) => Some(t.as_ref()),
        Event::Start(Tag::Paragraph) => None,
        _ => None,
    })
}

/// The source's own paragraph number at the start of a text: `4.2.` or `4.2 ` gives
/// `4.2`; `12.` gives `12`; a bare `2019 ` (a year, a count) gives nothing.
pub fn source_number(text: &str) -> Option<String> {
    let bytes = text.as_bytes();
    let mut end = 0;
    let mut dots = 0;
    while end < bytes.len() && (bytes[end].is_ascii_digit() || bytes[end] == b'.') {
        if bytes[end] == b'.' {
            if end == 0 || bytes[end - 1] == b'.' {
                return None;
            }
            dots += 1;
        }
        end += 1;
    }
    let followed_by_space = bytes.get(end).is_none_or(|b| b.is_ascii_whitespace());
    if end == 0 || dots == 0 || !followed_by_space || end > 16 {
        return None;
    }
    let number = text[..end].trim_end_matches('.');
    if number.is_empty() || number.len() > 12 {
        return None;
    }
    Some(number.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn source_numbers() {
        assert_eq!(
            source_number("4.2. Creating a data lake").as_deref(),
            Some("4.2")
        );
        assert_eq!(
            source_number("1.1 A European vision").as_deref(),
            Some("1.1")
        );
        assert_eq!(source_number("12. Twelve").as_deref(), Some("12"));
        assert_eq!(source_number("2019 was a year"), None);
        assert_eq!(source_number("3.5%"), None);
        assert_eq!(source_number("..."), None);
        assert_eq!(source_number("Text"), None);
    }
}
