//! Automatic links from plain text: the first mention of an entity's name or alias
//! links to its page, and the first mention of another document's official
//! reference links to that document. Matching is one Aho-Corasick pass over the
//! text, whole words only, never inside code, headings, links or redactions.

use aho_corasick::{AhoCorasick, AhoCorasickBuilder, MatchKind};

/// The patterns to look for, each with the target it links to.
#[derive(Debug, Clone)]
pub struct Autolinker {
    /// The patterns, for the overlapping automaton.
    patterns: Vec<String>,
    case_insensitive: bool,
    /// Standard semantics, for overlapping search: made when a text first
    /// needs it (see `find`). A build that patches one body seldom does, and
    /// an archive's references make the automaton take milliseconds.
    automaton: std::sync::OnceLock<Option<AhoCorasick>>,
    /// The same patterns, leftmost-longest: one pass that is the answer
    /// whenever every match it finds is a whole word (see `find`).
    leftmost: Option<AhoCorasick>,
    targets: Vec<usize>,
    /// A hash of the patterns, their targets and the case setting: two
    /// autolinkers with the same fingerprint find the same matches.
    fingerprint: u64,
}

impl Autolinker {
    /// Builds the automaton; `case_insensitive` folds ASCII case.
    pub fn new(patterns: Vec<(String, usize)>, case_insensitive: bool) -> Autolinker {
        let patterns: Vec<(String, usize)> = patterns
            .into_iter()
            .filter(|(p, _)| !p.trim().is_empty())
            .collect();
        let texts = patterns.iter().map(|(p, _)| p.as_str());
        let leftmost = build(texts, MatchKind::LeftmostLongest, case_insensitive);
        let mut hasher = std::hash::DefaultHasher::new();
        std::hash::Hash::hash(&(&patterns, case_insensitive), &mut hasher);
        let (patterns, targets) = patterns.into_iter().unzip();
        Autolinker {
            patterns,
            case_insensitive,
            automaton: std::sync::OnceLock::new(),
            leftmost,
            targets,
            fingerprint: std::hash::Hasher::finish(&hasher),
        }
    }

    /// See the field: what a cache of matches can be keyed on.
    pub fn fingerprint(&self) -> u64 {
        self.fingerprint
    }

    /// Whole-word matches in `text`: (start, end, target), leftmost-longest among
    /// the whole-word matches, not overlapping.
    pub fn find(&self, text: &str) -> Vec<(usize, usize, usize)> {
        // Leftmost-longest matches that are all whole words are the answer: no
        // whole-word match can start before one of them (it would be leftmost),
        // and none is longer at its start. Only a text with a match inside a
        // word needs the overlapping search, which is several times slower.
        if let Some(ll) = &self.leftmost {
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
        ];
        for case_insensitive in [false, true] {
            let a = Autolinker::new(
                patterns
                    .iter()
                    .enumerate()
                    .map(|(i, p)| (p.to_string(), i))
                    .collect(),
                case_insensitive,
            );
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
                assert_eq!(a.find(&text), a.find_overlapping(&text), "{text:?}");
            }
        }
    }
}
