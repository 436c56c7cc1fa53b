//! Automatic links from plain text: the first mention of an entity's name or alias
//! links to its page, and the first mention of another document's official
//! reference links to that document. Matching is one Aho-Corasick pass over the
//! text, whole words only, never inside code, headings, links or redactions.

use aho_corasick::{AhoCorasick, AhoCorasickBuilder, MatchKind};
use rustc_hash::FxHashMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::OnceLock;

/// The patterns to look for, each with the target it links to.
#[derive(Debug)]
pub struct Autolinker {
    /// The patterns, for the overlapping automaton.
    patterns: Vec<String>,
    case_insensitive: bool,
    /// Standard semantics, for overlapping search: made when a text first
    /// needs it (see `find`). A build that patches one body seldom does, and
    /// an archive's references make the automaton take milliseconds.
    automaton: OnceLock<Option<AhoCorasick>>,
    /// The same patterns, leftmost-longest: one pass that is the answer
    /// whenever every match it finds is a whole word (see `find`). Made
    /// with the autolinker, or for one made for a few texts, once they turn
    /// out to be more than a few.
    leftmost: OnceLock<Option<AhoCorasick>>,
    /// For an autolinker made for a few texts, the patterns by their first
    /// bytes (see [`Autolinker::for_few_texts`]), and how many bytes of text
    /// it has searched.
    table: Option<PatternTable>,
    searched: AtomicUsize,
    targets: Vec<usize>,
    /// A hash of the patterns, their targets and the case setting: two
    /// autolinkers with the same fingerprint find the same matches.
    fingerprint: u64,
}

impl Clone for Autolinker {
    fn clone(&self) -> Autolinker {
        Autolinker {
            patterns: self.patterns.clone(),
            case_insensitive: self.case_insensitive,
            automaton: self.automaton.clone(),
            leftmost: self.leftmost.clone(),
            table: self.table.clone(),
            searched: AtomicUsize::new(self.searched.load(Ordering::Relaxed)),
            targets: self.targets.clone(),
            fingerprint: self.fingerprint,
        }
    }
}

/// How many bytes of text an autolinker made for a few texts searches with
/// its table before it makes the automaton: the table costs about a
/// microsecond per word, the automaton of a 10k-document archive's
/// references 15-25 ms to make and next to nothing per word after.
const FEW_TEXTS_BYTES: usize = 64 * 1024;

impl Autolinker {
    /// Builds the automaton; `case_insensitive` folds ASCII case.
    pub fn new(patterns: Vec<(String, usize)>, case_insensitive: bool) -> Autolinker {
        let autolinker = Autolinker::unbuilt(patterns, case_insensitive, false);
        autolinker.leftmost();
        autolinker
    }

    /// An autolinker for a few texts (a build that links one edited body):
    /// it finds what [`Autolinker::new`]'s finds, from a table of the
    /// patterns by their first bytes that takes a millisecond to make where
    /// the automaton takes tens, and makes the automaton only if it is
    /// asked to search more than [`FEW_TEXTS_BYTES`].
    pub fn for_few_texts(patterns: Vec<(String, usize)>, case_insensitive: bool) -> Autolinker {
        Autolinker::unbuilt(patterns, case_insensitive, true)
    }

    /// The autolinker of `patterns`, its automata not made yet, with a
    /// [`PatternTable`] if `with_table`.
    fn unbuilt(
        patterns: Vec<(String, usize)>,
        case_insensitive: bool,
        with_table: bool,
    ) -> Autolinker {
        let patterns: Vec<(String, usize)> = patterns
            .into_iter()
            .filter(|(p, _)| !p.trim().is_empty())
            .collect();
        let mut hasher = std::hash::DefaultHasher::new();
        std::hash::Hash::hash(&(&patterns, case_insensitive), &mut hasher);
        let (patterns, targets): (Vec<String>, Vec<usize>) = patterns.into_iter().unzip();
        let table = with_table.then(|| PatternTable::new(&patterns, case_insensitive));
        Autolinker {
            patterns,
            case_insensitive,
            automaton: OnceLock::new(),
            leftmost: OnceLock::new(),
            table,
            searched: AtomicUsize::new(0),
            targets,
            fingerprint: std::hash::Hasher::finish(&hasher),
        }
    }

    fn leftmost(&self) -> Option<&AhoCorasick> {
        self.leftmost
            .get_or_init(|| {
                let patterns = self.patterns.iter().map(String::as_str);
                build(patterns, MatchKind::LeftmostLongest, self.case_insensitive)
            })
            .as_ref()
    }

    /// See the field: what a cache of matches can be keyed on.
    pub fn fingerprint(&self) -> u64 {
        self.fingerprint
    }

    /// Whole-word matches in `text`: (start, end, target), leftmost-longest among
    /// the whole-word matches, not overlapping.
    pub fn find(&self, text: &str) -> Vec<(usize, usize, usize)> {
        if let Some(table) = &self.table {
            if self.leftmost.get().is_none()
                && self.searched.fetch_add(text.len(), Ordering::Relaxed) < FEW_TEXTS_BYTES
            {
                return table.find(text, &self.patterns, &self.targets);
            }
        }
        // Leftmost-longest matches that are all whole words are the answer: no
        // whole-word match can start before one of them (it would be leftmost),
        // and none is longer at its start. Only a text with a match inside a
        // word needs the overlapping search, which is several times slower.
        if let Some(ll) = self.leftmost() {
            let mut found = Vec::new();
            let mut all_words = true;
            for m in ll.find_iter(text) {
                if !whole_word(text, m.start(), m.end()) {
                    all_words = false;
                    break;
                }
                if let Some(&target) = self.targets.get(m.pattern().as_usize()) {
                    found.push((m.start(), m.end(), target));
                }
            }
            if all_words {
                return found;
            }
        }
        self.find_overlapping(text)
    }

    /// [`Autolinker::find`] the long way: every match, overlapping, of which the
    /// whole words are kept, leftmost-longest.
    fn find_overlapping(&self, text: &str) -> Vec<(usize, usize, usize)> {
        let automaton = self.automaton.get_or_init(|| {
            let patterns = self.patterns.iter().map(String::as_str);
            build(patterns, MatchKind::Standard, self.case_insensitive)
        });
        let Some(ac) = automaton else {
            return Vec::new();
        };
        let mut candidates: Vec<(usize, usize, usize)> = ac
            .find_overlapping_iter(text)
            .filter(|m| whole_word(text, m.start(), m.end()))
            .filter_map(|m| {
                let target = self.targets.get(m.pattern().as_usize())?;
                Some((m.start(), m.end(), *target))
            })
            .collect();
        candidates.sort_by(|a, b| a.0.cmp(&b.0).then_with(|| b.1.cmp(&a.1)));
        let mut end = 0;
        candidates.retain(|&(s, e, _)| {
            let keep = s >= end;
            if keep {
                end = e;
            }
            keep
        });
        candidates
    }
}

/// How long a prefix of a pattern [`PatternTable`] files it under.
const PREFIX: usize = 12;

/// The patterns by their first [`PREFIX`] bytes (all of a shorter one), case
/// folded if the search is: where each whole word of a text starts, the
/// patterns that may start there are looked up, the longest first. Found
/// this way, a text's matches are those of the automata, and there is no
/// automaton to make.
#[derive(Debug, Clone)]
struct PatternTable {
    /// Each list longest first, then in pattern order.
    by_prefix: FxHashMap<Vec<u8>, Vec<usize>>,
    /// The lengths of the patterns shorter than [`PREFIX`], longest first.
    short_lengths: Vec<usize>,
    case_insensitive: bool,
}

impl PatternTable {
    fn new(patterns: &[String], case_insensitive: bool) -> PatternTable {
        let mut by_prefix: FxHashMap<Vec<u8>, Vec<usize>> = FxHashMap::default();
        let mut short_lengths = Vec::new();
        for (n, pattern) in patterns.iter().enumerate() {
            let bytes = pattern.as_bytes();
            let head = &bytes[..bytes.len().min(PREFIX)];
            let mut key = head.to_vec();
            if case_insensitive {
                key.make_ascii_lowercase();
            }
            by_prefix.entry(key).or_default().push(n);
            if bytes.len() < PREFIX {
                short_lengths.push(bytes.len());
            }
        }
        for list in by_prefix.values_mut() {
            list.sort_by(|&a, &b| patterns[b].len().cmp(&patterns[a].len()).then(a.cmp(&b)));
        }
        short_lengths.sort_unstable_by(|a, b| b.cmp(a));
        short_lengths.dedup();
        PatternTable {
            by_prefix,
            short_lengths,
            case_insensitive,
        }
    }

    /// What [`Autolinker::find`] finds in `text`: at each place a whole
    /// word may start, from the left, the longest whole-word match there,
    /// the first pattern of those as long; the search goes on after it.
    fn find(
        &self,
        text: &str,
        patterns: &[String],
        targets: &[usize],
    ) -> Vec<(usize, usize, usize)> {
        let mut found = Vec::new();
        let mut at = 0;
        while at < text.len() {
            let starts_word = text.is_char_boundary(at)
                && !text[..at]
                    .chars()
                    .next_back()
                    .is_some_and(char::is_alphanumeric);
            if let Some((end, n)) = starts_word
                .then(|| self.longest_at(text, at, patterns))
                .flatten()
            {
                if let Some(&target) = targets.get(n) {
                    found.push((at, end, target));
                }
                at = end;
            } else {
                at += 1;
            }
        }
        found
    }

    /// `bytes` (at most [`PREFIX`] of them) as the table files them, in `key`.
    fn fold<'k>(&self, key: &'k mut [u8; PREFIX], bytes: &[u8]) -> &'k [u8] {
        let key = &mut key[..bytes.len()];
        key.copy_from_slice(bytes);
        if self.case_insensitive {
            key.make_ascii_lowercase();
        }
        key
    }

    /// The longest whole-word match starting at `at`: where it ends, and
    /// its pattern's number.
    fn longest_at(&self, text: &str, at: usize, patterns: &[String]) -> Option<(usize, usize)> {
        let rest = text.as_bytes().get(at..)?;
        let mut key = [0u8; PREFIX];
        let same = |pattern: &[u8], here: &[u8]| {
            if self.case_insensitive {
                pattern.eq_ignore_ascii_case(here)
            } else {
                pattern == here
            }
        };
        if rest.len() >= PREFIX {
            let head = self.fold(&mut key, &rest[..PREFIX]);
            if let Some(list) = self.by_prefix.get(head) {
                for &n in list {
                    let pattern = patterns.get(n)?.as_bytes();
                    let end = at + pattern.len();
                    if pattern.len() <= rest.len()
                        && same(pattern, &rest[..pattern.len()])
                        && whole_word(text, at, end)
                    {
                        return Some((end, n));
                    }
                }
            }
        }
        for &len in &self.short_lengths {
            if len > rest.len() {
                continue;
            }
            // Every pattern in the list is this text: the first is taken.
            let head = self.fold(&mut key, &rest[..len]);
            if let Some(&n) = self.by_prefix.get(head).and_then(|l| l.first()) {
                if whole_word(text, at, at + len) {
                    return Some((at + len, n));
                }
            }
        }
        None
    }
}

/// The automaton of `patterns` for `kind`; none if there are no patterns
/// (or, beyond any archive's size, too many to build one).
fn build<'p>(
    patterns: impl IntoIterator<Item = &'p str>,
    kind: MatchKind,
    case_insensitive: bool,
) -> Option<AhoCorasick> {
    let patterns: Vec<&str> = patterns.into_iter().collect();
    if patterns.is_empty() {
        return None;
    }
    AhoCorasickBuilder::new()
        .match_kind(kind)
        .ascii_case_insensitive(case_insensitive)
        .build(patterns)
        .ok()
}

/// Whether `text[start..end]` is not part of a longer word.
fn whole_word(text: &str, start: usize, end: usize) -> bool {
    let before = text.get(..start).and_then(|t| t.chars().next_back());
    let after = text.get(end..).and_then(|t| t.chars().next());
    !before.is_some_and(char::is_alphanumeric) && !after.is_some_and(char::is_alphanumeric)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn whole_words_leftmost_longest() {
        let a = Autolinker::new(
            vec![
                ("eu-LISA".into(), 1),
                ("EU Large Scale IT Systems Agency".into(), 1),
                ("Europol".into(), 2),
                ("EU".into(), 3),
            ],
            false,
        );
        let found =
            a.find("eu-LISA and EU Large Scale IT Systems Agency, not Europoles but Europol's");
        let targets: Vec<usize> = found.iter().map(|f| f.2).collect();
        assert_eq!(targets, [1, 1, 2]);
    }

    #[test]
    fn a_longer_match_that_is_not_a_word_leaves_the_shorter_one() {
        let a = Autolinker::new(
            vec![
                ("9069/19".into(), 1),
                ("9069/19 EXT 1".into(), 2),
                ("Europol".into(), 3),
                ("Europol Innovation Lab".into(), 4),
            ],
            false,
        );
        let found = a.find("9069/19 EXT 12, Europol Innovation Labs, 9069/19 EXT 1.");
        assert_eq!(found, [(0, 7, 1), (16, 23, 3), (41, 54, 2)]);
    }

    #[test]
    fn one_made_for_a_few_texts_makes_its_automaton_once_they_are_more() {
        let patterns = || vec![("Europol".to_string(), 1), ("EU".to_string(), 2)];
        let few = Autolinker::for_few_texts(patterns(), false);
        let text = "Europol and the EU. ".repeat(100);
        let mut searched = 0;
        while searched <= FEW_TEXTS_BYTES {
            assert_eq!(few.find(&text).len(), 200);
            searched += text.len();
        }
        assert!(few.leftmost.get().is_none(), "the table served them");
        assert_eq!(
            few.find(&text),
            Autolinker::new(patterns(), false).find(&text)
        );
        assert!(few.leftmost.get().is_some(), "the automaton is made");
    }

    #[test]
    fn case_folding_is_configurable() {
        assert!(Autolinker::new(vec![("Europol".into(), 0)], false)
            .find("EUROPOL")
            .is_empty());
        assert_eq!(
            Autolinker::new(vec![("Europol".into(), 0)], true)
                .find("EUROPOL")
                .len(),
            1
        );
    }

    #[test]
    fn the_one_pass_finds_what_the_overlapping_search_finds() {
        let patterns = [
            "EU",
            "Europol",
            "Europol Innovation Lab",
            "EU-LISA",
            "eu-LISA",
            "Lab",
            "9069/19",
            "9069/19 EXT 1",
            "Frontex",
            "Council",
            "Council of the EU",
            "of the",
            "Ö",
            // Twice, and again but for case: the first one written wins.
            "Europol",
            "COUNCIL",
            // Longer than the table's prefix, sharing it, the shorter first.
            "Council of the European",
            "Council of the European Union",
            "Council of the EU Lab",
            "9069/19 EXT 1 Lab",
            " ",
        ];
        let words = [
            "EU",
            "Europol",
            "Europoles",
            "Innovation",
            "Lab",
            "Labs",
            "9069/19",
            "EXT",
            "1",
            "12",
            "Frontex",
            "FrontexX",
            "Council",
            "of",
            "the",
            "EU-LISA",
            "eu-LISA",
            "Ö",
            "Öx",
            "and",
            ",",
            ".",
            "(",
            ")",
            "é",
            "European",
            "Union",
            "COUNCIL",
        ];
        let numbered = || {
            let numbered = patterns.iter().enumerate();
            numbered.map(|(i, p)| (p.to_string(), i)).collect()
        };
        for case_insensitive in [false, true] {
            let a = Autolinker::new(numbered(), case_insensitive);
            let few = Autolinker::for_few_texts(numbered(), case_insensitive);
            let table = few.table.as_ref().expect("a table");
            assert_eq!(few.fingerprint(), a.fingerprint());
            let agree = |text: &str| {
                let overlapping = a.find_overlapping(text);
                assert_eq!(a.find(text), overlapping, "{text:?}");
                let found = table.find(text, &few.patterns, &few.targets);
                assert_eq!(found, overlapping, "{text:?}");
                found.len()
            };
            for text in [
                "The Council of the European Union and the Council of the Europeans.",
                "council of the european union, COUNCIL OF THE EU LAB",
                "Council of the European Unions",
                "9069/19 EXT 1 Lab; 9069/19 EXT 1 Labs",
                "Europol, EUROPOL, europol.",
            ] {
                assert!(agree(text) > 0, "{text:?}");
            }
            // Texts of every length up to 6 words from a fixed walk of the list.
            let mut state = 7usize;
            for _ in 0..4000 {
                let n = state % 7;
                let mut text = String::new();
                for _ in 0..n {
                    state = state
                        .wrapping_mul(6364136223846793005)
                        .wrapping_add(1442695040888963407);
                    let w = words[(state >> 33) % words.len()];
                    let sep = if (state >> 20) % 3 == 0 { "" } else { " " };
                    text.push_str(w);
                    text.push_str(sep);
                }
                state = state.wrapping_mul(6364136223846793005).wrapping_add(1);
                agree(&text);
            }
        }
    }
}
