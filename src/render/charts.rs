//! Timeline charts, computed at build time as plain data the templates draw with HTML
//! and CSS (no script, no chart library): bars of documents and events per period,
//! and each document and event placed on a time axis.
//!
//! The cost is bounded by the number of periods, not of documents: above
//! [`MARKER_LIMIT`] entries the axis shows one cluster per month instead of one mark
//! per item, and above [`MAX_COLUMNS`] years the bars group decades (or centuries).

use super::views::{month_anchor, timeline_year_path};
use crate::archive::{Archive, TimelineEntry, TimelineEntryKind, TimelineYear};
use crate::document::date::month_name;
use crate::document::PartialDate;
use serde::Serialize;

/// Above this many documents and events, the axis shows per-month clusters.
pub const MARKER_LIMIT: usize = 300;
/// Above this many years, a bar stands for a decade (or a century).
pub const MAX_COLUMNS: usize = 120;
/// Marks of one lane are stacked on at most this many rows; more overlap.
const MAX_ROWS: usize = 4;
/// Labels shown under the bars, at most (about): more would collide on a phone.
const MAX_LABELS: usize = 12;

/// A chart: columns (periods) along a time axis, oldest first, empty periods
/// included so that distances on the axis are true to time.
#[derive(Debug, Clone, Serialize)]
pub struct ChartView {
    /// The periods.
    pub columns: Vec<ColumnView>,
    /// What one column stands for: `year`, `decade`, `century`, `millennium` or `month`.
    pub unit: &'static str,
    /// The largest column total (documents plus events); bar heights are relative to it.
    pub max: usize,
    /// Documents counted in the chart.
    pub documents: usize,
    /// Events counted in the chart.
    pub events: usize,
    /// Whether columns carry marks on a time axis (besides their bars).
    pub has_markers: bool,
    /// Whether the marks are per-month clusters rather than single items.
    pub aggregated: bool,
    /// Rows the documents lane needs (at least 1 when there are marks).
    pub document_rows: usize,
    /// Rows the events lane needs.
    pub event_rows: usize,
}

/// One period of a chart.
#[derive(Debug, Clone, Serialize)]
pub struct ColumnView {
    /// Short label under the bar: `2019`, `1950s`, `Jun`.
    pub label: String,
    /// Full name of the period: `2019`, `the 1950s`, `June 2019`.
    pub name: String,
    /// Whether to print the label (long axes label every few periods).
    pub show_label: bool,
    /// Where the period's entries are listed, if it has any.
    pub url: Option<String>,
    /// Documents in the period.
    pub documents: usize,
    /// Events in the period.
    pub events: usize,
    /// Height of the documents bar, in percent of the chart (0–100).
    pub document_height: f64,
    /// Height of the events bar stacked on it, in percent of the chart.
    pub event_height: f64,
    /// Marks on the time axis within the period.
    pub markers: Vec<MarkerView>,
}

/// A document or event on the time axis, or a cluster of them.
#[derive(Debug, Clone, Serialize)]
pub struct MarkerView {
    /// `document` or `event`.
    pub kind: &'static str,
    /// The document, or (for events and clusters) the entries on their timeline page.
    pub url: String,
    /// The document's or event's title; for a cluster, "12 documents".
    pub title: String,
    /// The date (or month of a cluster) as a reader reads it.
    pub date: String,
    /// Position across the column, in percent (0–100).
    pub at: f64,
    /// Row within its lane, from 0.
    pub row: usize,
    /// 1 for an item; the number of items for a cluster.
    pub count: usize,
    /// 1 for an item; for a cluster, 1–4 as its count reaches a third, two thirds or
    /// all of the largest cluster of its kind.
    pub size: u8,
}

/// The years of the archive as bars, with documents and events on a time axis when
/// `with_markers`. Computed once per page from the timeline's per-year counts.
pub fn years_chart(archive: &Archive, with_markers: bool) -> ChartView {
    let years = &archive.timeline.years;
    let (Some(first), Some(last)) = (years.first(), years.last()) else {
        return ChartView::empty("year");
    };
    let layout = YearLayout::new(first.year, last.year);
    let mut columns = layout.columns(archive);
    for y in years {
        let c = &mut columns[layout.column_of(y.year)];
        c.documents += y.document_count;
        c.events += y.event_count;
    }
    let total: usize = years.iter().map(|y| y.document_count + y.event_count).sum();
    let mut chart = ChartView::new(columns, layout.unit());
    if with_markers && layout.bucket == 1 {
        chart.has_markers = true;
        if total <= MARKER_LIMIT {
            let mut marks: Vec<(usize, f64, MarkerView)> = Vec::new();
            for y in years {
                let column = layout.column_of(y.year);
                for m in &y.months {
                    for e in &m.entries {
                        let at = fraction_of_year(&e.date);
                        marks.push((column, at, entry_marker(archive, e, at)));
                    }
                }
            }
            chart.place(marks, 0.4);
        } else {
            chart.aggregated = true;
            for y in years {
                let column = layout.column_of(y.year);
                for m in &y.months {
                    let date = PartialDate {
                        year: y.year,
                        month: m.month,
                        day: None,
                    };
                    let at = fraction_of_year(&date);
                    let docs = m
                        .entries
                        .iter()
                        .filter(|e| e.kind == TimelineEntryKind::Document)
                        .count();
                    let url = format!(
                        "{}#{}",
                        archive.config.url(&timeline_year_path(y.year)),
                        month_anchor(&date)
                    );
                    for (kind, count) in [("document", docs), ("event", m.entries.len() - docs)] {
                        if count > 0 {
                            chart.columns[column]
                                .markers
                                .push(cluster(kind, count, &date, at, &url));
                        }
                    }
                }
            }
            scale_clusters(&mut chart.columns);
            chart.document_rows = 1;
            chart.event_rows = 1;
        }
    }
    chart
}

/// A year as twelve monthly bars (and a first one for entries dated only to the
/// year), with its documents and events on a time axis.
pub fn months_chart(archive: &Archive, year: &TimelineYear) -> ChartView {
    let year_url = archive.config.url(&timeline_year_path(year.year));
    let undated = year.months.first().is_some_and(|m| m.month.is_none());
    let periods: Vec<Option<u8>> = undated
        .then_some(None)
        .into_iter()
        .chain((1..=12).map(Some))
        .collect();
    let columns: Vec<ColumnView> = periods
        .iter()
        .map(|&month| {
            let date = PartialDate {
                year: year.year,
                month,
                day: None,
            };
            let (label, name) = match month {
                Some(m) => (month_name(m)[..3].to_string(), date.display()),
                None => ("—".to_string(), format!("{}, month not known", year.year)),
            };
            let listed = year.months.iter().find(|m| m.month == month);
            let mut column = ColumnView::new(label, name);
            column.show_label = true;
            if let Some(m) = listed {
                column.url = Some(format!("{year_url}#{}", month_anchor(&date)));
                column.documents = m
                    .entries
                    .iter()
                    .filter(|e| e.kind == TimelineEntryKind::Document)
                    .count();
                column.events = m.entries.len() - column.documents;
            }
            column
        })
        .collect();
    let total = year.document_count + year.event_count;
    let mut marks: Vec<(usize, f64, MarkerView)> = Vec::new();
    if total <= MARKER_LIMIT {
        for m in &year.months {
            let Some(column) = periods.iter().position(|p| *p == m.month) else {
                continue;
            };
            for e in &m.entries {
                let at = fraction_of_month(&e.date);
                marks.push((column, at, entry_marker(archive, e, at)));
            }
        }
    }
    let mut chart = ChartView::new(columns, "month");
    if total <= MARKER_LIMIT {
        chart.has_markers = true;
        chart.place(marks, 0.5);
    }
    chart
}

/// A term's own timeline: the chart on its page and the list behind it.
#[derive(Debug, Clone, Serialize)]
pub struct TermTimeline {
    /// Bars per year over the whole archive's years (so charts of different terms
    /// line up), with the term's documents and events as marks when there are at most
    /// [`MARKER_LIMIT`] of them.
    pub chart: ChartView,
    /// The term's documents and events by year and month, oldest first: the
    /// accessible list the chart's bars and event marks link to. Empty above
    /// [`MARKER_LIMIT`] entries, where the page's document list stands in for it and
    /// the bars link to the archive's year pages.
    pub years: Vec<super::views::TimelineYearView>,
}

/// The timeline of a term's `documents` and of the `events` naming it (pairs of
/// document index and event index), drawn on the page at `page_url`: a bar links to
/// the year's part of the page's list, a document mark to the document, an event
/// mark to its month in the list. The cost is the term's entries, not the archive's.
pub fn term_timeline(
    archive: &Archive,
    documents: &[usize],
    events: &[(usize, usize)],
    page_url: &str,
) -> TermTimeline {
    let years_of_archive = &archive.timeline.years;
    let (Some(first), Some(last)) = (years_of_archive.first(), years_of_archive.last()) else {
        return TermTimeline {
            chart: ChartView::empty("year"),
            years: Vec::new(),
        };
    };
    let timeline = sub_timeline(archive, documents, events);
    let layout = YearLayout::new(first.year, last.year);
    let mut columns = layout.columns(archive);
    for y in &timeline {
        if let Some(c) = layout.try_column_of(y.year) {
            columns[c].documents += y.document_count;
            columns[c].events += y.event_count;
        }
    }
    let total = documents.len() + events.len();
    let listed = layout.bucket == 1 && total <= MARKER_LIMIT;
    for c in &mut columns {
        if c.documents + c.events == 0 {
            c.url = None;
        }
    }
    if listed {
        for y in &timeline {
            if let Some(c) = layout.try_column_of(y.year) {
                columns[c].url = Some(format!("{page_url}#y{}", y.year));
            }
        }
    }
    let mut chart = ChartView::new(columns, layout.unit());
    if !listed {
        return TermTimeline {
            chart,
            years: Vec::new(),
        };
    }
    let mut marks: Vec<(usize, f64, MarkerView)> = Vec::new();
    for y in &timeline {
        let Some(column) = layout.try_column_of(y.year) else {
            continue;
        };
        for m in &y.months {
            for e in &m.entries {
                let at = fraction_of_year(&e.date);
                let mut mark = entry_marker(archive, e, at);
                if mark.kind == "event" {
                    mark.url = format!("{page_url}#{}", month_anchor(&e.date));
                }
                marks.push((column, at, mark));
            }
        }
    }
    chart.has_markers = true;
    chart.place(marks, 0.4);
    TermTimeline {
        years: timeline
            .iter()
            .map(|y| super::views::timeline_year_view(archive, y, true))
            .collect(),
        chart,
    }
}

/// The archive's timeline restricted to some documents and events, in the same
/// order (by date; documents before events on a date; then by id).
fn sub_timeline(
    archive: &Archive,
    documents: &[usize],
    events: &[(usize, usize)],
) -> Vec<TimelineYear> {
    let docs = &archive.documents;
    let entries: Vec<TimelineEntry> = documents
        .iter()
        .filter_map(|&d| {
            Some(TimelineEntry {
                date: docs.get(d)?.date,
                kind: TimelineEntryKind::Document,
                document: d,
            })
        })
        .chain(events.iter().filter_map(|&(d, n)| {
            Some(TimelineEntry {
                date: docs.get(d)?.events.get(n)?.date,
                kind: TimelineEntryKind::Event(n),
                document: d,
            })
        }))
        .collect();
    crate::archive::group_by_year(entries, docs)
}

impl ChartView {
    fn empty(unit: &'static str) -> Self {
        ChartView::new(Vec::new(), unit)
    }

    /// A chart over counted columns: totals and bar heights.
    fn new(mut columns: Vec<ColumnView>, unit: &'static str) -> Self {
        let max = columns
            .iter()
            .map(|c| c.documents + c.events)
            .max()
            .unwrap_or(0);
        for c in &mut columns {
            if max > 0 {
                c.document_height = percent(c.documents, max);
                c.event_height = percent(c.events, max);
            }
        }
        ChartView {
            documents: columns.iter().map(|c| c.documents).sum(),
            events: columns.iter().map(|c| c.events).sum(),
            columns,
            unit,
            max,
            has_markers: false,
            aggregated: false,
            document_rows: 0,
            event_rows: 0,
        }
    }

    /// Puts marks into their columns, stacking marks of a lane that would sit closer
    /// than `gap` (in column widths) on separate rows.
    fn place(&mut self, mut marks: Vec<(usize, f64, MarkerView)>, gap: f64) {
        marks.sort_by(|a, b| {
            let pa = a.0 as f64 + a.1 / 100.0;
            let pb = b.0 as f64 + b.1 / 100.0;
            pa.total_cmp(&pb)
        });
        let mut document_rows: Vec<f64> = Vec::new();
        let mut event_rows: Vec<f64> = Vec::new();
        for (column, at, mut mark) in marks {
            let rows = if mark.kind == "document" {
                &mut document_rows
            } else {
                &mut event_rows
            };
            mark.row = stack(rows, column as f64 + at / 100.0, gap);
            self.columns[column].markers.push(mark);
        }
        self.document_rows = document_rows.len().max(1);
        self.event_rows = event_rows.len().max(1);
    }
}

/// Sizes clusters 1–4 by their count relative to the largest cluster of their kind,
/// so the busiest months stand out at any archive size.
fn scale_clusters(columns: &mut [ColumnView]) {
    for kind in ["document", "event"] {
        let max = columns
            .iter()
            .flat_map(|c| &c.markers)
            .filter(|m| m.kind == kind)
            .map(|m| m.count)
            .max()
            .unwrap_or(1);
        for m in columns
            .iter_mut()
            .flat_map(|c| &mut c.markers)
            .filter(|m| m.kind == kind)
        {
            m.size = 1 + (3 * m.count / max).min(3) as u8;
        }
    }
}

/// The row for a mark at `position`: the first whose last mark is at least `gap`
/// behind, a new one while there are fewer than [`MAX_ROWS`], else the row whose last
/// mark is furthest behind. `rows` holds each row's last position.
fn stack(rows: &mut Vec<f64>, position: f64, gap: f64) -> usize {
    let row = match rows.iter().position(|&last| position - last >= gap) {
        Some(r) => r,
        None if rows.len() < MAX_ROWS => {
            rows.push(f64::NEG_INFINITY);
            rows.len() - 1
        }
        None => rows
            .iter()
            .enumerate()
            .min_by(|a, b| a.1.total_cmp(b.1))
            .map(|(r, _)| r)
            .unwrap_or(0),
    };
    rows[row] = position;
    row
}

impl ColumnView {
    fn new(label: String, name: String) -> Self {
        ColumnView {
            label,
            name,
            show_label: false,
            url: None,
            documents: 0,
            events: 0,
            document_height: 0.0,
            event_height: 0.0,
            markers: Vec::new(),
        }
    }
}

/// Years from `first` to `last` in columns of `bucket` years.
struct YearLayout {
    first: i16,
    bucket: i16,
    count: usize,
}

impl YearLayout {
    fn new(first: i16, last: i16) -> Self {
        let span = i32::from(last) - i32::from(first) + 1;
        let bucket = [1i16, 10, 100, 1000]
            .into_iter()
            .find(|&b| (span as usize).div_ceil(b as usize) <= MAX_COLUMNS)
            .unwrap_or(1000);
        let first = if bucket == 1 {
            first
        } else {
            first - first.rem_euclid(bucket)
        };
        let count = ((i32::from(last) - i32::from(first)) / i32::from(bucket) + 1) as usize;
        YearLayout {
            first,
            bucket,
            count,
        }
    }

    fn unit(&self) -> &'static str {
        match self.bucket {
            1 => "year",
            10 => "decade",
            100 => "century",
            _ => "millennium",
        }
    }

    fn column_of(&self, year: i16) -> usize {
        ((year - self.first) / self.bucket) as usize
    }

    fn try_column_of(&self, year: i16) -> Option<usize> {
        (year >= self.first)
            .then(|| self.column_of(year))
            .filter(|&c| c < self.count)
    }

    /// The empty columns, labelled, each linking to its (first) year page with entries.
    fn columns(&self, archive: &Archive) -> Vec<ColumnView> {
        let step = label_step(self.count);
        let mut columns: Vec<ColumnView> = (0..self.count)
            .map(|i| {
                let start = self.first + i as i16 * self.bucket;
                let (label, name) = match self.bucket {
                    1 => (start.to_string(), start.to_string()),
                    10 => (format!("{start}s"), format!("the {start}s")),
                    b => {
                        let end = start + (b - 1);
                        (format!("{start}–{end}"), format!("{start} to {end}"))
                    }
                };
                let mut column = ColumnView::new(label, name);
                let index = i32::from(start) / i32::from(self.bucket);
                column.show_label = step == 1 || index.rem_euclid(step as i32) == 0;
                column
            })
            .collect();
        for y in &archive.timeline.years {
            let c = &mut columns[self.column_of(y.year)];
            if c.url.is_none() {
                c.url = Some(archive.config.url(&timeline_year_path(y.year)));
            }
        }
        columns
    }
}

/// Every how many columns to print a label: 1, 2, 5, 10, 20, 50, …
fn label_step(columns: usize) -> usize {
    let mut step = 1;
    for next in [2, 5, 10, 20, 50, 100] {
        if columns.div_ceil(step) <= MAX_LABELS {
            break;
        }
        step = next;
    }
    step
}

fn percent(part: usize, whole: usize) -> f64 {
    (part as f64 * 1000.0 / whole as f64).round() / 10.0
}

/// Where a date falls in its year, in percent: the middle of its day, month or year,
/// so an imprecise date sits in the middle of its period.
fn fraction_of_year(date: &PartialDate) -> f64 {
    let months = match (date.month, date.day) {
        (Some(m), Some(d)) => f64::from(m - 1) + (f64::from(d) - 0.5) / days_in_month(date),
        (Some(m), None) => f64::from(m - 1) + 0.5,
        _ => 6.0,
    };
    round1(months * 100.0 / 12.0)
}

/// Where a date falls in its month, in percent (the middle when the day is unknown).
fn fraction_of_month(date: &PartialDate) -> f64 {
    match date.day {
        Some(d) => round1((f64::from(d) - 0.5) * 100.0 / days_in_month(date)),
        None => 50.0,
    }
}

fn days_in_month(date: &PartialDate) -> f64 {
    let month = date.month.unwrap_or(1);
    jiff::civil::Date::new(date.year, month as i8, 1)
        .map(|d| f64::from(d.days_in_month()))
        .unwrap_or(31.0)
}

fn round1(x: f64) -> f64 {
    (x * 10.0).round() / 10.0
}

/// The mark of one timeline entry: a document links to itself, an event to its
/// entry on the year page (which names and links the document mentioning it).
fn entry_marker(archive: &Archive, e: &crate::archive::TimelineEntry, at: f64) -> MarkerView {
    let doc = &archive.documents[e.document];
    let (kind, url, title) = match e.kind {
        TimelineEntryKind::Document => (
            "document",
            archive.config.url(&doc.path()),
            doc.title.clone(),
        ),
        TimelineEntryKind::Event(n) => (
            "event",
            format!(
                "{}#{}",
                archive.config.url(&timeline_year_path(e.date.year)),
                month_anchor(&e.date)
            ),
            doc.events[n].title.clone(),
        ),
    };
    MarkerView {
        kind,
        url,
        title,
        date: e.date.display(),
        at,
        row: 0,
        count: 1,
        size: 1,
    }
}

fn cluster(
    kind: &'static str,
    count: usize,
    month: &PartialDate,
    at: f64,
    url: &str,
) -> MarkerView {
    let noun = match (kind, count) {
        ("document", 1) => "document",
        ("document", _) => "documents",
        (_, 1) => "event",
        _ => "events",
    };
    MarkerView {
        kind,
        url: url.to_string(),
        title: format!("{count} {noun}"),
        date: month.display(),
        at,
        row: 0,
        count,
        size: 1,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn date(text: &str) -> PartialDate {
        PartialDate::parse(text).unwrap()
    }

    #[test]
    fn dates_sit_in_the_middle_of_their_period() {
        assert_eq!(fraction_of_year(&date("2019")), 50.0);
        assert_eq!(
            fraction_of_year(&date("2019-01")),
            round1(0.5 * 100.0 / 12.0)
        );
        assert_eq!(
            fraction_of_year(&date("2019-12-31")),
            round1((11.0 + 30.5 / 31.0) * 100.0 / 12.0)
        );
        assert_eq!(
            fraction_of_month(&date("2019-02-14")),
            round1(13.5 * 100.0 / 28.0)
        );
        assert_eq!(fraction_of_month(&date("2019-02")), 50.0);
    }

    #[test]
    fn long_spans_group_years_and_label_a_few() {
        let l = YearLayout::new(2015, 2019);
        assert_eq!((l.first, l.bucket, l.count), (2015, 1, 5));
        assert_eq!(l.column_of(2019), 4);
        assert_eq!(l.try_column_of(2020), None);
        let l = YearLayout::new(1789, 2024);
        assert_eq!(
            (l.first, l.bucket, l.count, l.unit()),
            (1780, 10, 25, "decade")
        );
        assert_eq!(l.column_of(1789), 0);
        assert_eq!(l.column_of(2024), 24);
        assert_eq!(label_step(5), 1);
        assert_eq!(label_step(12), 1);
        assert_eq!(label_step(13), 2);
        assert_eq!(label_step(40), 5);
        assert_eq!(label_step(120), 10);
    }

    #[test]
    fn close_marks_stack_on_rows_up_to_a_limit() {
        let mut rows = Vec::new();
        assert_eq!(stack(&mut rows, 0.0, 0.4), 0);
        assert_eq!(stack(&mut rows, 0.1, 0.4), 1);
        assert_eq!(stack(&mut rows, 0.5, 0.4), 0);
        assert_eq!(stack(&mut rows, 0.55, 0.4), 1);
        assert_eq!(stack(&mut rows, 0.6, 0.4), 2);
        assert_eq!(stack(&mut rows, 0.61, 0.4), 3);
        // Rows full: the one whose last mark is furthest behind.
        assert_eq!(stack(&mut rows, 0.62, 0.4), 0);
        assert_eq!(rows.len(), MAX_ROWS);
    }

    #[test]
    fn clusters_are_sized_against_the_largest_of_their_kind() {
        let month = date("2019-06");
        let mut c = ColumnView::new("2019".into(), "2019".into());
        for (kind, count) in [
            ("document", 300),
            ("document", 100),
            ("document", 210),
            ("event", 2),
        ] {
            c.markers.push(cluster(kind, count, &month, 45.8, "u"));
        }
        let mut columns = vec![c];
        scale_clusters(&mut columns);
        let sizes: Vec<u8> = columns[0].markers.iter().map(|m| m.size).collect();
        assert_eq!(sizes, [4, 2, 3, 4]);
        assert_eq!(columns[0].markers[0].title, "300 documents");
        assert_eq!(columns[0].markers[0].date, "June 2019");
    }

    #[test]
    fn bars_are_relative_to_the_fullest_column() {
        let mut a = ColumnView::new("a".into(), "a".into());
        a.documents = 3;
        a.events = 1;
        let mut b = ColumnView::new("b".into(), "b".into());
        b.documents = 1;
        let chart = ChartView::new(vec![a, b], "year");
        assert_eq!(chart.max, 4);
        assert_eq!((chart.documents, chart.events), (4, 1));
        assert_eq!(chart.columns[0].document_height, 75.0);
        assert_eq!(chart.columns[0].event_height, 25.0);
        assert_eq!(chart.columns[1].document_height, 25.0);
    }
}
