//! Content problems as data: every error names a file, a line and a column, so
//! that an editor can jump to it, and all of a run's errors are reported at once.

use std::fmt;
use std::num::NonZeroU64;
use std::path::{Path, PathBuf};

/// A problem in the user's content, located precisely enough to jump to it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Diagnostic {
    /// The file as the user names it: relative to the site root where possible.
    pub file: PathBuf,
    /// 1-based line in the file as the user sees it; 0 when the problem concerns the whole file.
    pub line: usize,
    /// 1-based column (in characters); 0 when unknown.
    pub column: usize,
    /// What is wrong, in one sentence.
    pub message: String,
    /// What to do about it, if we can tell.
    pub help: Option<String>,
    /// The offending line of the file, shown under the message.
    pub source_line: Option<String>,
    /// For a problem whose line is quoted later, read from the file when it
    /// is reported ([`Diagnostics::quote_lines`]): the [`line_hash`] of that
    /// line as it was parsed, so that a file changed since is not quoted with
    /// another line than the one meant.
    pub line_hash: Option<NonZeroU64>,
}

/// A hash of a line of text, as [`Diagnostic::line_hash`] records it (its
/// trailing white space ignored). Never zero, so that a diagnostic with or
/// without one takes the same room.
pub fn line_hash(line: &str) -> NonZeroU64 {
    use std::hash::{DefaultHasher, Hash, Hasher};
    let mut h = DefaultHasher::new();
    line.trim_end().hash(&mut h);
    NonZeroU64::new(h.finish()).unwrap_or(NonZeroU64::MIN)
}

impl Diagnostic {
    /// A problem concerning a whole file (no line to point at).
    pub fn file(file: impl Into<PathBuf>, message: impl Into<String>) -> Self {
        Diagnostic {
            file: file.into(),
            line: 0,
            column: 0,
            message: message.into(),
            help: None,
            source_line: None,
            line_hash: None,
        }
    }

    /// A problem at a position of a file whose text is known, so the line can be quoted.
    pub fn at(
        file: impl Into<PathBuf>,
        text: &str,
        line: usize,
        column: usize,
        message: impl Into<String>,
    ) -> Self {
        let source_line = if line > 0 {
            text.lines()
                .nth(line - 1)
                .map(|l| l.trim_end_matches('\r').to_string())
        } else {
            None
        };
        Diagnostic {
            file: file.into(),
            line,
            column,
            message: message.into(),
            help: None,
            source_line,
            line_hash: None,
        }
    }

    /// Adds a hint on how to fix the problem.
    pub fn with_help(mut self, help: impl Into<String>) -> Self {
        self.help = Some(help.into());
        self
    }

    fn sort_key(&self) -> (&Path, usize, usize, &str) {
        (&self.file, self.line, self.column, &self.message)
    }
}

impl fmt::Display for Diagnostic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let file = self.file.display();
        match (self.line, self.column) {
            (0, _) => write!(f, "{file}: error: {}", self.message)?,
            (line, 0) => write!(f, "{file}:{line}: error: {}", self.message)?,
            (line, col) => write!(f, "{file}:{line}:{col}: error: {}", self.message)?,
        }
        if let Some(src) = &self.source_line {
            let gutter = self.line.to_string();
            let pad = " ".repeat(gutter.len());
            let (shown, caret_at) = quoted_window(src, self.column);
            write!(f, "\n{pad} |\n{gutter} | {shown}")?;
            if self.column > 0 {
                let caret_pad: String = shown
                    .chars()
                    .take(caret_at)
                    .map(|c| if c == '\t' { '\t' } else { ' ' })
                    .collect();
                write!(f, "\n{pad} | {caret_pad}^")?;
            }
        }
        if let Some(help) = &self.help {
            write!(f, "\n  = help: {help}")?;
        }
        Ok(())
    }
}

/// Longest quoted line, in characters: a 50 MB one-line file must not be printed.
const QUOTE_WIDTH: usize = 120;

/// The part of a source line to quote, with control characters made visible (a NUL
/// or an escape sequence must not reach the terminal), and the caret's position in
/// it: the whole line if it is short, else a window around the 1-based `column`.
fn quoted_window(line: &str, column: usize) -> (String, usize) {
    let visible = |c: char| match c {
        '\t' => '\t',
        '\u{0}'..='\u{1f}' => char::from_u32(0x2400 + c as u32).unwrap_or('\u{fffd}'),
        '\u{7f}' => '\u{2421}',
        c if c.is_control() => '\u{fffd}',
        c => c,
    };
    let count = line.chars().count();
    let caret = column.saturating_sub(1);
    if count <= QUOTE_WIDTH {
        return (line.chars().map(visible).collect(), caret);
    }
    let start = caret
        .saturating_sub(QUOTE_WIDTH / 2)
        .min(count - QUOTE_WIDTH);
    let mut shown = String::new();
    if start > 0 {
        shown.push('…');
    }
    shown.extend(line.chars().skip(start).take(QUOTE_WIDTH).map(visible));
    if start + QUOTE_WIDTH < count {
        shown.push('…');
    }
    (shown, caret - start + usize::from(start > 0))
}

/// All the problems of one run, sorted by file and position.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Diagnostics(pub Vec<Diagnostic>);

impl Diagnostics {
    /// Sorts and deduplicates, so output is stable whatever order the stages ran in.
    pub fn sorted(mut list: Vec<Diagnostic>) -> Self {
        list.sort_by(|a, b| a.sort_key().cmp(&b.sort_key()));
        list.dedup();
        Diagnostics(list)
    }

    /// True when there is nothing to report.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// How many problems there are.
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// The problems, in order.
    pub fn iter(&self) -> impl Iterator<Item = &Diagnostic> {
        self.0.iter()
    }

    /// Quotes the line each problem points at in a content file (Markdown,
    /// YAML or TOML under `root`) where the stage that found it did not have
    /// the text at hand: a document keeps where each front-matter key is, not
    /// the lines themselves. Each file is read once. A line is quoted only if
    /// it is the one that was parsed (see [`Diagnostic::line_hash`]): a file
    /// changed, shortened or removed since leaves its problems unquoted.
    pub fn quote_lines(mut self, root: &Path) -> Self {
        let mut texts: std::collections::HashMap<PathBuf, Option<String>> = Default::default();
        for d in &mut self.0 {
            let Some(hash) = d.line_hash else {
                continue;
            };
            let content = d
                .file
                .extension()
                .and_then(|e| e.to_str())
                .is_some_and(|e| {
                    ["md", "markdown", "yaml", "yml", "toml"]
                        .iter()
                        .any(|known| e.eq_ignore_ascii_case(known))
                });
            if d.line == 0 || d.source_line.is_some() || !content {
                continue;
            }
            let text = texts
                .entry(d.file.clone())
                .or_insert_with(|| std::fs::read_to_string(root.join(&d.file)).ok());
            // Positions are counted in the text without its byte order mark,
            // as it was parsed.
            let line = text
                .as_deref()
                .map(|t| t.strip_prefix('\u{feff}').unwrap_or(t))
                .and_then(|t| t.lines().nth(d.line - 1))
                .map(str::trim_end)
                .filter(|l| line_hash(l) == hash);
            d.source_line = line.map(str::to_string);
        }
        self
    }
}

impl From<Diagnostic> for Diagnostics {
    fn from(d: Diagnostic) -> Self {
        Diagnostics(vec![d])
    }
}

impl From<Vec<Diagnostic>> for Diagnostics {
    fn from(list: Vec<Diagnostic>) -> Self {
        Diagnostics::sorted(list)
    }
}

impl fmt::Display for Diagnostics {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for d in &self.0 {
            writeln!(f, "{d}\n")?;
        }
        let n = self.0.len();
        write!(
            f,
            "error: {n} problem{} found; nothing was written",
            if n == 1 { "" } else { "s" }
        )
    }
}

impl std::error::Error for Diagnostics {}

/// Converts a byte offset in `text` to a 1-based (line, column) pair, counting
/// columns in characters so a caret lines up under non-ASCII text.
pub fn line_col(text: &str, offset: usize) -> (usize, usize) {
    let offset = offset.min(text.len());
    let mut safe = offset;
    while safe > 0 && !text.is_char_boundary(safe) {
        safe -= 1;
    }
    let before = &text[..safe];
    let line = before.matches('\n').count() + 1;
    let line_start = before.rfind('\n').map_or(0, |i| i + 1);
    let column = before[line_start..].chars().count() + 1;
    (line, column)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn line_col_counts_characters() {
        let text = "ab\ncdé f\n";
        assert_eq!(line_col(text, 0), (1, 1));
        assert_eq!(line_col(text, 3), (2, 1));
        assert_eq!(line_col(text, 8), (2, 5));
        assert_eq!(line_col(text, 1000), (3, 1));
    }

    #[test]
    fn display_reads_like_a_compiler() {
        let d = Diagnostic::at("content/x.md", "---\nid: X\n---\n", 2, 5, "bad id")
            .with_help("use lower case");
        let s = d.to_string();
        assert!(s.starts_with("content/x.md:2:5: error: bad id"), "{s}");
        assert!(s.contains("2 | id: X"), "{s}");
        assert!(s.contains("    ^"), "{s}");
        assert!(s.contains("= help: use lower case"), "{s}");
    }

    #[test]
    fn long_lines_and_control_characters_are_quoted_safely() {
        let line = format!("{}X{}", "a".repeat(5000), "b".repeat(5000));
        let d = Diagnostic::at("x.md", &line, 1, 5001, "here");
        let s = d.to_string();
        assert!(s.len() < 600, "{}", s.len());
        let lines: Vec<&str> = s.lines().collect();
        let quoted = lines[2].strip_prefix("1 | ").unwrap();
        let caret = lines[3].strip_prefix("  | ").unwrap();
        assert_eq!(quoted.chars().nth(caret.len() - 1), Some('X'), "{s}");
        let d = Diagnostic::at("x.md", "a\u{0}b\u{1b}[31m", 1, 2, "nul");
        let s = d.to_string();
        assert!(s.contains("1 | a\u{2400}b\u{241b}[31m"), "{s}");
        assert!(!s.contains('\u{0}') && !s.contains('\u{1b}'), "{s}");
    }

    #[test]
    fn diagnostics_sort_by_file_then_line() {
        let a = Diagnostic::at("b.md", "", 1, 1, "x");
        let b = Diagnostic::at("a.md", "", 9, 1, "y");
        let c = Diagnostic::at("a.md", "", 2, 1, "z");
        let all = Diagnostics::sorted(vec![a, b, c]);
        let order: Vec<_> = all.iter().map(|d| d.message.as_str()).collect();
        assert_eq!(order, ["z", "y", "x"]);
    }

    #[test]
    fn lines_are_quoted_from_the_file_only_if_they_are_the_lines_parsed() {
        let root = tempfile::tempdir().unwrap();
        let write = |name: &str, text: &str| std::fs::write(root.path().join(name), text).unwrap();
        write("a.md", "---\nid: one\r\ntitle: x\n---\n");
        write("b.MD", "\u{feff}---\nid: two\n---\n");
        write("c.md", "---\ninserted: line\nid: three\n---\n");
        write("d.html", "---\nid: four\n---\n");
        let at = |file: &str, line: usize, parsed: &str| {
            let mut d = Diagnostic::file(file, "duplicate id");
            (d.line, d.column) = (line, 1);
            d.line_hash = Some(line_hash(parsed));
            d
        };
        let quoted = Diagnostics(vec![
            // CRLF, and an upper-case extension with a byte order mark.
            at("a.md", 2, "id: one"),
            at("b.MD", 2, "id: two"),
            // Changed since it was parsed: line 2 is another line now.
            at("c.md", 2, "id: three"),
            // Gone, or past the end of the file, or not a content file.
            at("gone.md", 2, "id: five"),
            at("a.md", 40, ""),
            at("d.html", 2, "id: four"),
        ])
        .quote_lines(root.path());
        let lines: Vec<Option<&str>> = quoted.iter().map(|d| d.source_line.as_deref()).collect();
        assert_eq!(
            lines,
            [Some("id: one"), Some("id: two"), None, None, None, None]
        );
        // Without a hash (a problem whose line was never meant to be quoted),
        // nothing is read.
        let mut d = Diagnostic::file("a.md", "missing title");
        d.line = 1;
        let quoted = Diagnostics(vec![d]).quote_lines(root.path());
        assert_eq!(quoted.0[0].source_line, None);
    }
}
