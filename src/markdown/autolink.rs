//! Automatic links from plain text: the first mention of an entity's name or alias
//! links to its page, and the first mention of another document's official
//! reference links to that document. Matching is one Aho-Corasick pass over the
//! text, whole words only, never inside code, headings, links or redactions.

use aho_corasick::{AhoCorasick, AhoCorasickBuilder, MatchKind};

/// The patterns to look for, each with the target it links to.
#[derive(Debug, Clone)]
pub struct Autolinker {
    automaton: Option<AhoCorasick>,
    targets: Vec<usize>,
}

impl Autolinker {
    /// Builds the automaton; `case_insensitive` folds ASCII case.
    pub fn new(patterns: Vec<(String, usize)>, case_insensitive: bool) -> Autolinker {
        let patterns: Vec<(String, usize)> = patterns
            .into_iter()
            .filter(|(p, _)| !p.trim().is_empty())
            .collect();
        let automaton = AhoCorasickBuilder::new()
            .match_kind(MatchKind::LeftmostLongest)
            .ascii_case_insensitive(case_insensitive)
            .build(patterns.iter().map(|(p, _)| p.as_str()))
            .ok();
        Autolinker {
            automaton: automaton.filter(|_| !patterns.is_empty()),
            targets: patterns.into_iter().map(|(_, t)| t).collect(),
        }
    }

    /// Whole-word matches in `text`: (start, end, target), leftmost-longest.
    pub fn find(&self, text: &str) -> Vec<(usize, usize, usize)> {
        let Some(ac) = &self.automaton else {
            return Vec::new();
        };
        ac.find_iter(text)
            .filter(|m| {
                let before = text[..m.start()].chars().next_back();
                let after = text[m.end()..].chars().next();
                !before.is_some_and(char::is_alphanumeric)
                    && !after.is_some_and(char::is_alphanumeric)
            })
            .map(|m| (m.start(), m.end(), self.targets[m.pattern().as_usize()]))
            .collect()
    }
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
}
