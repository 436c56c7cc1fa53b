//! Dates with the precision the source gives: a day, a month or only a year.
//!
//! Released documents are often dated imprecisely ("April 2019"); the archive shows
//! what is known and sorts an imprecise date at the start of its period.

use serde::Serialize;
use std::fmt;

/// A calendar date known to a day, a month or a year.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct PartialDate {
    /// Four-digit year.
    pub year: i16,
    /// 1–12 when known.
    pub month: Option<u8>,
    /// 1–31 when known (only with a month).
    pub day: Option<u8>,
}

/// How precisely a date is known.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Precision {
    /// `YYYY`
    Year,
    /// `YYYY-MM`
    Month,
    /// `YYYY-MM-DD`
    Day,
}

const MONTHS: [&str; 12] = [
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
];

impl PartialDate {
    /// Parses `YYYY`, `YYYY-MM` or `YYYY-MM-DD`, rejecting dates that do not exist
    /// (2019-02-30) with a message saying why.
    pub fn parse(text: &str) -> Result<PartialDate, String> {
        let parts: Vec<&str> = text.split('-').collect();
        let digits = |s: &str, n: usize| s.len() == n && s.bytes().all(|b| b.is_ascii_digit());
        let shape_ok = match parts.as_slice() {
            [y] => digits(y, 4),
            [y, m] => digits(y, 4) && digits(m, 2),
            [y, m, d] => digits(y, 4) && digits(m, 2) && digits(d, 2),
            _ => false,
        };
        if !shape_ok {
            return Err(format!(
                "`{text}` is not a date: expected YYYY-MM-DD, YYYY-MM or YYYY"
            ));
        }
        let num = |s: &str| s.parse::<u16>().unwrap_or(0);
        let year = num(parts[0]);
        if !(1000..=9999).contains(&year) {
            return Err(format!("`{text}`: year {year} is out of range"));
        }
        let year = year as i16;
        let month = parts.get(1).map(|m| num(m) as u8);
        if let Some(m) = month {
            if !(1..=12).contains(&m) {
                return Err(format!("`{text}`: there is no month {m}"));
            }
        }
        let day = parts.get(2).map(|d| num(d) as u8);
        if let (Some(m), Some(d)) = (month, day) {
            if jiff::civil::Date::new(year, m as i8, d as i8).is_err() {
                return Err(format!(
                    "`{text}`: {} {year} has no day {d}",
                    MONTHS[(m - 1) as usize]
                ));
            }
        }
        Ok(PartialDate { year, month, day })
    }

    /// How precisely this date is known.
    pub fn precision(&self) -> Precision {
        match (self.month, self.day) {
            (Some(_), Some(_)) => Precision::Day,
            (Some(_), None) => Precision::Month,
            _ => Precision::Year,
        }
    }

    /// The ISO 8601 form with the precision given: `2019`, `2019-04`, `2019-04-03`.
    pub fn iso(&self) -> String {
        match (self.month, self.day) {
            (Some(m), Some(d)) => format!("{:04}-{m:02}-{d:02}", self.year),
            (Some(m), None) => format!("{:04}-{m:02}", self.year),
            _ => format!("{:04}", self.year),
        }
    }

    /// The first day of the period, for sorting and for formats that need a full date.
    pub fn start(&self) -> String {
        format!(
            "{:04}-{:02}-{:02}",
            self.year,
            self.month.unwrap_or(1),
            self.day.unwrap_or(1)
        )
    }

    /// The date as a reader reads it: `3 June 2019`, `April 2019`, `2019`.
    pub fn display(&self) -> String {
        match (self.month, self.day) {
            (Some(m), Some(d)) => format!("{d} {} {}", MONTHS[(m - 1) as usize], self.year),
            (Some(m), None) => format!("{} {}", MONTHS[(m - 1) as usize], self.year),
            _ => self.year.to_string(),
        }
    }

    /// The English name of the month, if known.
    pub fn month_name(&self) -> Option<&'static str> {
        self.month.map(|m| MONTHS[(m - 1) as usize])
    }

    /// A key that sorts an imprecise date at the start of its period, before the
    /// precise dates of that period.
    pub fn sort_key(&self) -> (i16, u8, u8) {
        (self.year, self.month.unwrap_or(0), self.day.unwrap_or(0))
    }
}

/// Serialised in its ISO form with the precision given (`2019-04`).
impl Serialize for PartialDate {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.iso())
    }
}

impl fmt::Display for PartialDate {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.iso())
    }
}

/// The name of a month, 1-based.
pub fn month_name(month: u8) -> &'static str {
    MONTHS
        .get(usize::from(month).wrapping_sub(1))
        .copied()
        .unwrap_or("")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_three_precisions() {
        assert_eq!(
            PartialDate::parse("2019").unwrap().precision(),
            Precision::Year
        );
        assert_eq!(
            PartialDate::parse("2019-04").unwrap().display(),
            "April 2019"
        );
        assert_eq!(
            PartialDate::parse("2019-06-03").unwrap().display(),
            "3 June 2019"
        );
        assert_eq!(
            PartialDate::parse("2019-06-03").unwrap().iso(),
            "2019-06-03"
        );
    }

    #[test]
    fn rejects_impossible_and_malformed() {
        assert!(PartialDate::parse("2019-02-30")
            .unwrap_err()
            .contains("no day 30"));
        assert!(PartialDate::parse("2020-02-29").is_ok());
        assert!(PartialDate::parse("2019-13").is_err());
        assert!(PartialDate::parse("2019-00").is_err());
        assert!(PartialDate::parse("19-01-01").is_err());
        assert!(PartialDate::parse("2019/01/01").is_err());
        assert!(PartialDate::parse("2019-1-1").is_err());
        assert!(PartialDate::parse("").is_err());
        assert!(PartialDate::parse("٢٠١٩").is_err());
    }

    #[test]
    fn imprecise_sorts_first_in_its_period() {
        let y = PartialDate::parse("2019").unwrap();
        let m = PartialDate::parse("2019-01").unwrap();
        let d = PartialDate::parse("2019-01-01").unwrap();
        assert!(y.sort_key() < m.sort_key());
        assert!(m.sort_key() < d.sort_key());
        assert_eq!(y.start(), "2019-01-01");
    }
}
