//! The timeline: every document and every event it mentions, by year and month.

use crate::document::{Document, PartialDate};

/// Whether a timeline entry is a document or an event a document mentions.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TimelineEntryKind {
    /// A document, dated by its `date`.
    Document,
    /// The n-th event of a document's `events`.
    Event(usize),
}

/// One dated item on the timeline.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TimelineEntry {
    /// Its date.
    pub date: PartialDate,
    /// Document or event.
    pub kind: TimelineEntryKind,
    /// The document it is, or that mentions it (index into `Archive::documents`).
    pub document: usize,
}

/// A month of a year; `month` is `None` for items dated only to the year.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TimelineMonth {
    /// 1–12, or `None` for "sometime in the year", which sorts first.
    pub month: Option<u8>,
    /// Entries in date order; documents before events on the same date.
    pub entries: Vec<TimelineEntry>,
}

/// A year of the timeline.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TimelineYear {
    /// The year.
    pub year: i16,
    /// Its months, in order, only those with entries.
    pub months: Vec<TimelineMonth>,
    /// How many documents are dated in this year.
    pub document_count: usize,
    /// How many events fall in this year.
    pub event_count: usize,
}

/// Documents and events, oldest first.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Timeline {
    /// The years with entries, oldest first.
    pub years: Vec<TimelineYear>,
}

impl Timeline {
    /// Builds the timeline in one pass over documents and a sort.
    pub fn build(documents: &[Document]) -> Timeline {
        let mut entries: Vec<TimelineEntry> = Vec::with_capacity(documents.len() * 2);
        for (i, doc) in documents.iter().enumerate() {
            entries.push(TimelineEntry {
                date: doc.date,
                kind: TimelineEntryKind::Document,
                document: i,
            });
            for (n, event) in doc.events.iter().enumerate() {
                entries.push(TimelineEntry {
                    date: event.date,
                    kind: TimelineEntryKind::Event(n),
                    document: i,
                });
            }
        }
        Timeline {
            years: group_by_year(entries, documents),
        }
    }

    /// The year's index in `years`, if it has entries.
    pub fn year_index(&self, year: i16) -> Option<usize> {
        self.years.iter().position(|y| y.year == year)
    }
}

/// Sorts entries in timeline order (by date; a document before its events on a
/// date, events in their order; then by document id), drops repeats, and groups
/// them by year and month. Shared by the archive's timeline and the timelines of
/// topic and entity pages, so every timeline orders alike.
pub fn group_by_year(mut entries: Vec<TimelineEntry>, documents: &[Document]) -> Vec<TimelineYear> {
    let kind_rank = |k: &TimelineEntryKind| match k {
        TimelineEntryKind::Document => (0, 0),
        TimelineEntryKind::Event(n) => (1, *n),
    };
    let id = |d: usize| documents.get(d).map_or("", |doc| doc.id.as_str());
    entries.sort_by(|a, b| {
        a.date
            .sort_key()
            .cmp(&b.date.sort_key())
            .then_with(|| kind_rank(&a.kind).cmp(&kind_rank(&b.kind)))
            .then_with(|| id(a.document).cmp(id(b.document)))
    });
    entries.dedup();
    let mut years: Vec<TimelineYear> = Vec::new();
    for entry in entries {
        if years.last().map(|y| y.year) != Some(entry.date.year) {
            years.push(TimelineYear {
                year: entry.date.year,
                months: Vec::new(),
                document_count: 0,
                event_count: 0,
            });
        }
        let Some(year) = years.last_mut() else {
            continue;
        };
        match entry.kind {
            TimelineEntryKind::Document => year.document_count += 1,
            TimelineEntryKind::Event(_) => year.event_count += 1,
        }
        if year.months.last().map(|m| m.month) != Some(entry.date.month) {
            year.months.push(TimelineMonth {
                month: entry.date.month,
                entries: Vec::new(),
            });
        }
        if let Some(month) = year.months.last_mut() {
            month.entries.push(entry);
        }
    }
    years
}
