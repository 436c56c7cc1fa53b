//! Facets: for every filterable value (a topic, a sender, a language...), the
//! documents that have it; and every document's date, so the client can filter by
//! any date range and count results by year without fetching documents.

use super::encode;
use crate::archive::links::linking_count;
use crate::archive::Archive;
use crate::document::{PartialDate, Precision};
use serde::Serialize;
use std::collections::BTreeMap;

/// URL parameters the search page uses for itself; a site taxonomy whose key is one
/// of them gets the parameter `t-<key>` instead.
pub const RESERVED_PARAMS: &[&str] = &[
    "q",
    "from",
    "to",
    "sort",
    "topic",
    "org",
    "type",
    "lang",
    SENDER_PARAM,
    RECIPIENT_PARAM,
    MENTIONS_PARAM,
    CITES_PARAM,
];

/// The URL parameter filtering documents by an entity their text mentions.
pub const MENTIONS_PARAM: &str = "mentions";

/// The URL parameter filtering documents by a document they link to: only
/// documents linked from more than `document_list_limit` others have it, whose
/// pages list only the newest of them and send the reader here for the rest.
pub const CITES_PARAM: &str = "cites";

/// The URL parameter filtering documents by a sender (an entity's slug, or a
/// name's slug); `recipient` likewise.
pub const SENDER_PARAM: &str = "sender";

/// See [`SENDER_PARAM`].
pub const RECIPIENT_PARAM: &str = "recipient";

/// One facet as the client receives it.
#[derive(Debug, Serialize)]
pub struct Facet {
    /// The URL parameter (`topic`).
    pub param: String,
    /// The label shown to readers (`Topic`).
    pub label: String,
    /// `[value, display name, documents]`: the value as written in the URL (a slug,
    /// or a language tag), the name as written in the archive, and the documents'
    /// indexes, [`encode::ascending`].
    pub values: Vec<(String, String, String)>,
}

/// The dates of all documents, newest first as the documents are: `base` is the
/// day number (days since 1970-01-01) of the first document's date; `runs` is a
/// list of numbers, three per run of documents sharing a date: the days from the
/// previous run's start back to this one's, the precision (0 day, 1 month, 2 year)
/// and how many documents the run has.
#[derive(Debug, Serialize)]
pub struct Dates {
    /// Start day of the newest date.
    pub base: i64,
    /// The runs, [`encode::push_number`]-encoded.
    pub runs: String,
}

/// `facets.json`.
#[derive(Debug, Serialize)]
pub struct Facets {
    /// Every document's date.
    pub dates: Dates,
    /// The facets, in display order.
    pub facets: Vec<Facet>,
}

/// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's
/// `days_from_civil`); the client uses `Date.UTC` for the same numbers.
pub fn day_number(year: i64, month: i64, day: i64) -> i64 {
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (month + 9) % 12;
    let doy = (153 * mp + 2) / 5 + day - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

fn start_day(date: &PartialDate) -> i64 {
    day_number(
        i64::from(date.year),
        i64::from(date.month.unwrap_or(1)),
        i64::from(date.day.unwrap_or(1)),
    )
}

fn dates(archive: &Archive) -> Dates {
    let mut runs: Vec<(PartialDate, i64, u64)> = Vec::new();
    for doc in &archive.documents {
        match runs.last_mut() {
            Some(run) if run.0 == doc.date => run.2 += 1,
            _ => runs.push((doc.date, start_day(&doc.date), 1)),
        }
    }
    let base = runs.first().map_or(0, |r| r.1);
    let mut encoded = String::new();
    let mut previous = base;
    for (date, start, count) in &runs {
        let precision = match date.precision() {
            Precision::Day => 0,
            Precision::Month => 1,
            Precision::Year => 2,
        };
        // Documents are sorted newest first, so starts never increase.
        encode::push_number(&mut encoded, (previous - start).max(0) as u64);
        encode::push_number(&mut encoded, precision);
        encode::push_number(&mut encoded, *count);
        previous = *start;
    }
    Dates {
        base,
        runs: encoded,
    }
}

/// Values keyed by URL value, named by their first written form, in archive order.
#[derive(Default)]
struct Values(BTreeMap<String, (String, Vec<u32>)>);

impl Values {
    /// Files document `doc` under `value`, named `name` if the value is new.
    fn add(&mut self, value: &str, name: &str, doc: u32) {
        if value.is_empty() {
            return;
        }
        // Most values are there already: looked up without a new key.
        let docs = match self.0.get_mut(value) {
            Some(entry) => &mut entry.1,
            None => {
                let entry = (self.0.entry(value.to_string()))
                    .or_insert_with(|| (name.trim().to_string(), Vec::new()));
                &mut entry.1
            }
        };
        if docs.last() != Some(&doc) {
            docs.push(doc);
        }
    }

    fn facet(self, param: &str, label: &str) -> Facet {
        Facet {
            param: param.into(),
            label: label.into(),
            values: self
                .0
                .into_iter()
                .map(|(value, (name, mut docs))| {
                    // Two entities of different taxonomies may share a slug.
                    docs.sort_unstable();
                    docs.dedup();
                    (value, name, encode::ascending(docs))
                })
                .collect(),
        }
    }
}

/// The URL parameter of a taxonomy: the built-in ones have short names.
pub fn taxonomy_param(key: &str) -> String {
    match key {
        "topics" => "topic".into(),
        "organisations" => "org".into(),
        "type" => "type".into(),
        k if RESERVED_PARAMS.contains(&k) => format!("t-{k}"),
        k => k.into(),
    }
}

/// Builds `facets.json`: the archive's taxonomies (topics, organisations, types and
/// the site's own), language, sender, recipient and entity mentioned, and the dates.
pub fn facets(archive: &Archive) -> Facets {
    let mut facets = Vec::new();
    for tax in &archive.taxonomies {
        if tax.terms.is_empty() {
            continue;
        }
        let values = tax
            .terms
            .iter()
            .map(|t| {
                let mut docs: Vec<u32> = t.documents.iter().map(|&d| d as u32).collect();
                docs.sort_unstable();
                docs.dedup();
                (t.slug.clone(), t.name.clone(), encode::ascending(docs))
            })
            .collect();
        facets.push(Facet {
            param: taxonomy_param(&tax.config.key),
            label: tax.config.singular.clone(),
            values,
        });
    }
    let mut languages = Values::default();
    let mut senders = Values::default();
    let mut recipients = Values::default();
    // A name standing for an entity is filtered by the entity's slug, aliases
    // and all, as the entity's page lists what it sent and received. Each
    // spelling is resolved once: a patched index makes the facets on every
    // body edit, and most documents spell a name as others do.
    let entities = &archive.entities;
    let mut names = crate::archive::Correspondents::new(entities);
    let mut language_of: rustc_hash::FxHashMap<&str, String> = Default::default();
    for (i, doc) in archive.documents.iter().enumerate() {
        let i = i as u32;
        let language = (language_of.entry(doc.language.as_str()))
            .or_insert_with(|| doc.language.to_ascii_lowercase());
        languages.add(language, &doc.language, i);
        for (written, values) in [(&doc.from, &mut senders), (&doc.to, &mut recipients)] {
            for name in written {
                let resolved = names.resolve(name);
                values.add(&resolved.value, resolved.name, i);
            }
        }
    }
    // Documents whose text mentions an entity, for the entity page's list of them.
    let mut mentions = Values::default();
    for (e, docs) in archive.mentioned_in.iter().enumerate() {
        for &d in docs {
            mentions.add(&entities[e].slug, &entities[e].name, d as u32);
        }
    }
    // Documents linking to a document whose page cannot list them all.
    let mut cites = Values::default();
    let uncut = |count: usize| archive.config.listed(count) == count;
    for (to, backlinks) in archive.links.backlinks.iter().enumerate() {
        // (A list of passages has one or more per linking document.)
        if uncut(backlinks.len()) || uncut(linking_count(backlinks)) {
            continue;
        }
        let cited = &archive.documents[to];
        for passages in backlinks.chunk_by(|a, b| a.from == b.from) {
            cites.add(&cited.id, &cited.title, passages[0].from as u32);
        }
    }
    for (values, param, label) in [
        (languages, "lang", "Language"),
        (senders, SENDER_PARAM, "Sender"),
        (recipients, RECIPIENT_PARAM, "Recipient"),
        (mentions, MENTIONS_PARAM, "Mentions"),
        (cites, CITES_PARAM, "Cites"),
    ] {
        if !values.0.is_empty() {
            facets.push(values.facet(param, label));
        }
    }
    Facets {
        dates: dates(archive),
        facets,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn day_numbers_match_the_calendar() {
        assert_eq!(day_number(1970, 1, 1), 0);
        assert_eq!(day_number(2000, 3, 1), 11_017);
        assert_eq!(day_number(2019, 6, 3), 18_050);
        assert_eq!(day_number(1969, 12, 31), -1);
        assert_eq!(day_number(1900, 1, 1), -25_567);
    }

    #[test]
    fn reserved_parameters_are_not_taken_by_taxonomies() {
        assert_eq!(taxonomy_param("topics"), "topic");
        assert_eq!(taxonomy_param("countries"), "countries");
        assert_eq!(taxonomy_param("sort"), "t-sort");
    }
}
