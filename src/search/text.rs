//! Words for search: tokenising, case and accent folding, and stemming by language.
//!
//! The browser's query module (`themes/default/static/search-core.js`) implements
//! [`tokens`] and [`fold`] exactly as here, step by step, so a word typed in a query
//! and the same word in a document reach the same key. Stemming happens only here:
//! the index ships, for every folded word whose stem differs from it, the stems it
//! has, so the client never needs a stemmer (see the module documentation of
//! [`crate::search`]).

use rust_stemmers::{Algorithm, Stemmer};
use unicode_normalization::char::is_combining_mark;
use unicode_normalization::UnicodeNormalization;

/// Longer runs of word characters (hashes, encoded blobs) are not words anyone
/// types; they are left out of the index, and the client ignores them in queries.
pub const MAX_WORD_CHARS: usize = 64;

/// Whether a character belongs to a word: a letter (Unicode `Alphabetic`), a number
/// (general category `N`) or a combining mark (`M`, so decomposed accents stay
/// inside their word). The client's pattern is `[\p{Alphabetic}\p{N}\p{M}]`.
pub fn is_word_char(c: char) -> bool {
    c.is_alphanumeric() || is_combining_mark(c)
}

/// The words of a text, in order, with their byte offsets: maximal runs of word
/// characters of at most [`MAX_WORD_CHARS`] characters, skipping the placeholder
/// of a redaction ([`crate::markdown::redaction::PLACEHOLDER`]). `9069/19` is two words and
/// `EU-LISA` too; a query keeps such a run together as a phrase.
pub fn tokens(text: &str) -> Tokens<'_> {
    Tokens { text, at: 0 }
}

/// The iterator of [`tokens`]; ASCII is scanned byte by byte, the rest by character.
pub struct Tokens<'a> {
    text: &'a str,
    at: usize,
}

impl Tokens<'_> {
    /// The character at byte `i` and its length, if it is a word character.
    fn word_char_at(&self, i: usize) -> (bool, usize) {
        let b = self.text.as_bytes()[i];
        if b.is_ascii() {
            return (b.is_ascii_alphanumeric(), 1);
        }
        match self.text[i..].chars().next() {
            Some(c) => (is_word_char(c), c.len_utf8()),
            None => (false, 1),
        }
    }
}

impl<'a> Iterator for Tokens<'a> {
    type Item = (usize, &'a str);

    fn next(&mut self) -> Option<(usize, &'a str)> {
        let len = self.text.len();
        loop {
            while self.at < len {
                // A redaction's placeholder in a body's text is not a word of it.
                if self.text.as_bytes()[self.at] == b'['
                    && self.text[self.at..].starts_with(crate::markdown::redaction::PLACEHOLDER)
                {
                    self.at += crate::markdown::redaction::PLACEHOLDER.len();
                    continue;
                }
                let (word, width) = self.word_char_at(self.at);
                if word {
                    break;
                }
                self.at += width;
            }
            if self.at >= len {
                return None;
            }
            let start = self.at;
            let mut count = 0;
            while self.at < len {
                let (word, width) = self.word_char_at(self.at);
                if !word {
                    break;
                }
                self.at += width;
                count += 1;
            }
            if count <= MAX_WORD_CHARS {
                return Some((start, &self.text[start..self.at]));
            }
        }
    }
}

/// The search key of a word: compatibility-decomposed (NFKD, so `ﬁ` is `fi` and
/// full-width letters are ASCII), lower-cased, stripped of combining marks (accents),
/// with the few letters that do not decompose mapped by [`fold_letter`], then
/// recomposed (NFC). `Comisión`, `COMISION` and `comisión` all fold to `comision`.
pub fn fold(word: &str) -> String {
    if word.is_ascii() {
        return word.to_ascii_lowercase();
    }
    let decomposed: String = word.nfkd().collect();
    let lower = decomposed.to_lowercase();
    let mut out = String::with_capacity(lower.len());
    for c in lower.chars() {
        if is_combining_mark(c) {
            continue;
        }
        match fold_letter(c) {
            Some(s) => out.push_str(s),
            None => out.push(c),
        }
    }
    out.nfc().collect()
}

/// Letters that keep their identity under decomposition but that readers type
/// without the stroke or ligature. The client has the same table.
pub fn fold_letter(c: char) -> Option<&'static str> {
    Some(match c {
        'ß' => "ss",
        'æ' => "ae",
        'œ' => "oe",
        'ø' => "o",
        'ł' => "l",
        'đ' | 'ð' => "d",
        'þ' => "th",
        'ı' => "i",
        'ς' => "σ",
        _ => return None,
    })
}

/// The Snowball stemmer for a BCP 47 language tag (`fr-BE` uses French), or `None`
/// for languages rust-stemmers has no algorithm for: their words are indexed as
/// folded, unstemmed.
pub fn algorithm_for(language: &str) -> Option<Algorithm> {
    let primary = language
        .split(['-', '_'])
        .next()
        .unwrap_or("")
        .to_ascii_lowercase();
    Some(match primary.as_str() {
        "ar" => Algorithm::Arabic,
        "da" => Algorithm::Danish,
        "nl" => Algorithm::Dutch,
        "en" => Algorithm::English,
        "fi" => Algorithm::Finnish,
        "fr" => Algorithm::French,
        "de" => Algorithm::German,
        "el" => Algorithm::Greek,
        "hu" => Algorithm::Hungarian,
        "it" => Algorithm::Italian,
        "no" | "nb" | "nn" => Algorithm::Norwegian,
        "pt" => Algorithm::Portuguese,
        "ro" => Algorithm::Romanian,
        "ru" => Algorithm::Russian,
        "es" => Algorithm::Spanish,
        "sv" => Algorithm::Swedish,
        "ta" => Algorithm::Tamil,
        "tr" => Algorithm::Turkish,
        _ => return None,
    })
}

/// Turns words into keys for one document language.
pub struct Analyzer {
    stemmer: Option<Stemmer>,
}

/// A word as the index sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Analyzed {
    /// The folded word ([`fold`]): what queries and phrases match.
    pub word: String,
    /// The folded stem: the key postings are filed under. Equal to `word` when the
    /// language has no stemmer or the stemmer leaves the word as it is.
    pub stem: String,
}

impl Analyzer {
    /// An analyzer for a BCP 47 language tag.
    pub fn new(language: &str) -> Analyzer {
        Analyzer {
            stemmer: algorithm_for(language).map(Stemmer::create),
        }
    }

    /// A small number naming the stemmer in use (0 for none), for memo tables.
    pub fn stemmer_code(language: &str) -> usize {
        algorithm_for(language).map_or(0, |a| a as usize + 1)
    }

    /// The folded word and its folded stem. The stemmer sees the word lower-cased
    /// with its accents (Snowball's rules rely on them); the stem is folded after.
    pub fn analyze(&self, word: &str) -> Analyzed {
        let Some(stemmer) = &self.stemmer else {
            let folded = fold(word);
            return Analyzed {
                stem: folded.clone(),
                word: folded,
            };
        };
        if word.is_ascii() {
            // Lower-casing is all folding does to ASCII, and the stem is ASCII too.
            let lower = word.to_ascii_lowercase();
            let stemmed = stemmer.stem(&lower);
            let stem = if stemmed.is_ascii() {
                stemmed.to_ascii_lowercase()
            } else {
                fold(&stemmed)
            };
            return Analyzed { word: lower, stem };
        }
        let lower: String = word.to_lowercase().nfc().collect();
        Analyzed {
            word: fold(word),
            stem: fold(&stemmer.stem(&lower)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn words(text: &str) -> Vec<&str> {
        tokens(text).map(|(_, w)| w).collect()
    }

    #[test]
    fn a_redactions_placeholder_is_no_word() {
        let words: Vec<&str> = tokens("on [redacted] caizepealance [redacted")
            .map(|t| t.1)
            .collect();
        assert_eq!(words, ["on", "caizepealance", "redacted"]);
    }

    #[test]
    fn tokens_split_on_anything_but_letters_digits_and_marks() {
        assert_eq!(
            words("Council doc. 9069/19 EXT 1 (EU-LISA), l'Union; “Europol’s” data-lake"),
            [
                "Council", "doc", "9069", "19", "EXT", "1", "EU", "LISA", "l", "Union", "Europol",
                "s", "data", "lake"
            ]
        );
        assert_eq!(
            words("Ελληνικά και русский 中文"),
            ["Ελληνικά", "και", "русский", "中文"]
        );
        // A decomposed accent stays inside its word.
        assert_eq!(
            words("Comisio\u{301}n Europea"),
            ["Comisio\u{301}n", "Europea"]
        );
        assert_eq!(
            tokens("  ab cd").map(|(i, _)| i).collect::<Vec<_>>(),
            [2, 5]
        );
    }

    #[test]
    fn overlong_runs_are_not_words() {
        let hash = "a".repeat(65);
        assert_eq!(words(&format!("x {hash} y")), ["x", "y"]);
        let sha = "f".repeat(64);
        assert_eq!(words(&sha), [sha.as_str()]);
    }

    #[test]
    fn folding_removes_case_accents_and_compatibility_forms() {
        assert_eq!(fold("Comisión"), "comision");
        assert_eq!(fold("Comisio\u{301}n"), "comision");
        assert_eq!(fold("COMISIÓN"), "comision");
        assert_eq!(fold("Straße"), "strasse");
        assert_eq!(fold("STRASSE"), "strasse");
        assert_eq!(fold("Søren"), "soren");
        assert_eq!(fold("Łódź"), "lodz");
        assert_eq!(fold("ﬁnance"), "finance");
        assert_eq!(fold("ＥＵＲＯＰＯＬ"), "europol");
        assert_eq!(fold("ΟΔΟΣ"), "οδοσ");
        assert_eq!(fold("İstanbul"), "istanbul");
        assert_eq!(fold("Ærø"), "aero");
        assert_eq!(fold("Москва"), "москва");
    }

    #[test]
    fn stemming_follows_the_document_language() {
        let en = Analyzer::new("en");
        assert_eq!(en.analyze("Regulations").stem, "regul");
        assert_eq!(en.analyze("regulation").stem, "regul");
        assert_eq!(en.analyze("Regulations").word, "regulations");
        let fr = Analyzer::new("fr-BE");
        // Stemmed with its accents, folded after.
        assert_eq!(fr.analyze("Européennes").stem, "europeen");
        assert_eq!(fr.analyze("européen").stem, "europeen");
        let de = Analyzer::new("de");
        assert_eq!(de.analyze("Datenschutzbehörden").stem, "datenschutzbehord");
        // No Snowball algorithm: folded, unstemmed.
        let pl = Analyzer::new("pl");
        assert_eq!(pl.analyze("Komisji").stem, "komisji");
        assert!(algorithm_for("zh-Hant-TW").is_none());
        assert_eq!(algorithm_for("nb"), Some(Algorithm::Norwegian));
    }
}
