//! Splitting a document into front matter and body, and reading the YAML.
//!
//! `serde_yaml` is frozen upstream. Every use of it sits in [`parse_yaml`], which
//! turns its output into our own [`Yaml`] tree, so a maintained API-compatible fork
//! (`serde_norway`, `serde_yaml_ng`) can replace it by changing one line.

use crate::diagnostics::line_col;

/// A YAML value, reduced to what front matter needs. Mapping order is kept so
/// that errors come out in the order the user wrote the keys.
#[derive(Debug, Clone, PartialEq)]
pub enum Yaml {
    /// `~`, `null` or an empty value.
    Null,
    /// `true` / `false`.
    Bool(bool),
    /// A number, as YAML printed it (integers keep all their digits).
    Number(String),
    /// Any string scalar.
    String(String),
    /// A sequence.
    List(Vec<Yaml>),
    /// A mapping with its keys as strings.
    Map(Vec<(String, Yaml)>),
}

impl Yaml {
    /// What kind of value this is, in words for error messages.
    pub fn kind(&self) -> &'static str {
        match self {
            Yaml::Null => "an empty value",
            Yaml::Bool(_) => "a boolean",
            Yaml::Number(_) => "a number",
            Yaml::String(_) => "a string",
            Yaml::List(_) => "a list",
            Yaml::Map(_) => "a mapping",
        }
    }

    /// Converts to JSON for templates (the free-form `extra` map).
    pub fn to_json(&self) -> serde_json::Value {
        use serde_json::Value as J;
        match self {
            Yaml::Null => J::Null,
            Yaml::Bool(b) => J::Bool(*b),
            // Integers up to 64 bits, signed or not, stay exact.
            Yaml::Number(n) => n
                .parse::<i64>()
                .map(J::from)
                .or_else(|_| n.parse::<u64>().map(J::from))
                .or_else(|_| n.parse::<f64>().map(J::from))
                .unwrap_or_else(|_| J::String(n.clone())),
            Yaml::String(s) => J::String(s.clone()),
            Yaml::List(items) => J::Array(items.iter().map(Yaml::to_json).collect()),
            Yaml::Map(entries) => J::Object(
                entries
                    .iter()
                    .map(|(k, v)| (k.clone(), v.to_json()))
                    .collect(),
            ),
        }
    }
}

/// The one place that calls the YAML library. Errors carry a byte offset into `text`.
pub fn parse_yaml(text: &str) -> Result<Yaml, (usize, String)> {
    check_flow_nesting(text)?;
    let value: serde_yaml::Value = serde_yaml::from_str(text).map_err(|e| {
        let offset = e.location().map_or(0, |l| l.index());
        yaml_error(text, offset, &e.to_string())
    })?;
    Ok(from_serde_yaml(value))
}

/// Deepest `[`/`{` nesting accepted; the YAML library stops at 128 anyway.
const MAX_FLOW_DEPTH: usize = 128;
/// Most `[`/`{` characters accepted in one front matter.
const MAX_FLOW_OPENERS: usize = 10_000;

/// Refuses flow collections nested deeper than the YAML library accepts, before it
/// parses them: its scanner takes time quadratic in the depth to get there (a
/// 200 KB line of `[` took a minute). Quoted scalars are skipped; as a backstop
/// against anything this reading misses, the number of `[` and `{` is capped too.
fn check_flow_nesting(text: &str) -> Result<(), (usize, String)> {
    let bytes = text.as_bytes();
    let mut depth = 0usize;
    let mut openers = 0usize;
    let mut quote: Option<u8> = None;
    let mut i = 0;
    while i < bytes.len() {
        let b = bytes[i];
        let token_start = i == 0
            || matches!(
                bytes[i - 1],
                b' ' | b'\t' | b'\n' | b'\r' | b'[' | b'{' | b',' | b':'
            );
        if matches!(b, b'[' | b'{') {
            openers += 1;
            if openers > MAX_FLOW_OPENERS {
                return Err((
                    i,
                    format!("more than {MAX_FLOW_OPENERS} `[` and `{{` in front matter"),
                ));
            }
        }
        match quote {
            Some(q) if b == q => {
                if q == b'\'' && bytes.get(i + 1) == Some(&b'\'') {
                    i += 1;
                } else {
                    quote = None;
                }
            }
            Some(b'"') if b == b'\\' => i += 1,
            Some(_) => {}
            None => {
                match b {
                    b'"' | b'\'' if token_start => quote = Some(b),
                    b'#' if token_start => {
                        while i < bytes.len() && bytes[i] != b'\n' {
                            i += 1;
                        }
                    }
                    b'[' | b'{' => {
                        depth += 1;
                        if depth > MAX_FLOW_DEPTH {
                            return Err((
                            i,
                            format!("lists or mappings nested more than {MAX_FLOW_DEPTH} levels deep"),
                        ));
                        }
                    }
                    b']' | b'}' => depth = depth.saturating_sub(1),
                    _ => {}
                }
            }
        }
        i += 1;
    }
    Ok(())
}

/// Rewrites a YAML library error so that it points where the user must look.
///
/// The library writes positions as " at line N column M", relative to the front
/// matter, which would mislead next to the file's own line numbers; they are turned
/// into offsets. Where the library names the construct it was scanning ("while
/// scanning a quoted scalar at line 2 column 8"), that is where the problem starts
/// (an unclosed quote), so the error points there. A repeated key is reported at
/// its second occurrence, which the library does not locate.
/// The error for an integer literal past 64 bits, which no value of the front
/// matter can hold exactly.
pub(crate) fn too_large_integer(literal: &str) -> String {
    format!(
        "the integer {literal} is too large (more than 64 bits): quote it \
         (\"{literal}\") to keep its digits as text"
    )
}

fn yaml_error(text: &str, offset: usize, raw: &str) -> (usize, String) {
    let (main, context) = match raw.split_once(", while ") {
        Some((m, c)) => (m, Some(c)),
        None => (raw, None),
    };
    let strip = |s: &str| -> String {
        match s.find(" at line ") {
            Some(i) => s[..i].to_string(),
            None => s.to_string(),
        }
    };
    if let Some(context) = context {
        if let Some(ctx_offset) = position_in(text, context) {
            // Where the construct began (an unclosed quote's opening) is
            // usually what to fix, but a tab is wrong where it stands: the
            // scalar it interrupted may have begun on the line before.
            let at = if main.contains("tab character") {
                offset
            } else {
                ctx_offset
            };
            return (at, format!("{}, while {}", strip(main), strip(context)));
        }
    }
    // serde_yaml reads an integer past 64 bits as a 128-bit one, which no
    // YAML value holds: say what to do instead of naming Rust's types.
    if let Some((at, rest)) = main.split_once("invalid type: integer `") {
        if let Some((number, kind)) = rest.split_once('`') {
            if kind.starts_with(" as u128") || kind.starts_with(" as i128") {
                return (offset, format!("{at}{}", too_large_integer(number)));
            }
        }
    }
    if let Some(key) = main
        .strip_prefix("duplicate entry with key \"")
        .and_then(|rest| rest.split('"').next())
    {
        if let Some(second) = key_occurrences(text, key).nth(1) {
            return (second, format!("duplicate key `{key}`: it appears twice"));
        }
    }
    (offset, strip(main))
}

/// The byte offset of the " at line N column M" position written in `message`.
fn position_in(text: &str, message: &str) -> Option<usize> {
    let rest = &message[message.find(" at line ")? + " at line ".len()..];
    let mut parts = rest.split(" column ");
    let line: usize = parts.next()?.trim().parse().ok()?;
    let column: usize = parts
        .next()?
        .chars()
        .take_while(char::is_ascii_digit)
        .collect::<String>()
        .parse()
        .ok()?;
    let line_start: usize = text
        .split_inclusive('\n')
        .take(line.checked_sub(1)?)
        .map(str::len)
        .sum();
    let line_text = text[line_start..].lines().next().unwrap_or("");
    let col_bytes: usize = line_text
        .chars()
        .take(column.saturating_sub(1))
        .map(char::len_utf8)
        .sum();
    Some(line_start + col_bytes)
}

/// Offsets of lines where `key:` starts (at any indentation).
fn key_occurrences<'t>(text: &'t str, key: &'t str) -> impl Iterator<Item = usize> + 't {
    let mut offset = 0;
    text.split_inclusive('\n').filter_map(move |line| {
        let start = offset;
        offset += line.len();
        let trimmed = line.trim_start();
        let indent = line.len() - trimmed.len();
        let unquoted = trimmed.trim_start_matches(['"', '\'']);
        let rest = unquoted.strip_prefix(key)?;
        rest.trim_start_matches(['"', '\''])
            .starts_with(':')
            .then_some(start + indent)
    })
}

fn from_serde_yaml(value: serde_yaml::Value) -> Yaml {
    use serde_yaml::Value as V;
    match value {
        V::Null => Yaml::Null,
        V::Bool(b) => Yaml::Bool(b),
        V::Number(n) => Yaml::Number(n.to_string()),
        V::String(s) => Yaml::String(s),
        V::Sequence(items) => Yaml::List(items.into_iter().map(from_serde_yaml).collect()),
        V::Mapping(map) => Yaml::Map(
            map.into_iter()
                .map(|(k, v)| {
                    let key = match from_serde_yaml(k) {
                        Yaml::String(s) | Yaml::Number(s) => s,
                        Yaml::Bool(b) => b.to_string(),
                        Yaml::Null => "~".to_string(),
                        other => format!("<{}>", other.kind()),
                    };
                    (key, from_serde_yaml(v))
                })
                .collect(),
        ),
        V::Tagged(tagged) => from_serde_yaml(tagged.value),
    }
}

/// A document file split at its front-matter fences.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Split<'a> {
    /// The YAML between the fences.
    pub yaml: &'a str,
    /// Byte offset of `yaml` in the file.
    pub yaml_offset: usize,
    /// The Markdown after the closing fence.
    pub body: &'a str,
    /// 1-based line of the file on which the body starts.
    pub body_line: usize,
}

/// Why a file could not be split into front matter and body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SplitError {
    /// The file does not start with a `---` line.
    Missing,
    /// The opening `---` is never closed.
    Unterminated,
}

/// Splits `text` (without a BOM) at its `---` fences. The closing fence may also be
/// `...`, as YAML allows. Line endings may be `\n` or `\r\n`.
pub fn split(text: &str) -> Result<Split<'_>, SplitError> {
    let mut lines = text.split_inclusive('\n');
    let first = lines.next().ok_or(SplitError::Missing)?;
    if first.trim_end() != "---" {
        return Err(SplitError::Missing);
    }
    let yaml_offset = first.len();
    let mut offset = yaml_offset;
    let mut line_no = 1;
    for line in lines {
        line_no += 1;
        // Trailing blanks are allowed after a fence, closing as opening.
        let fence = line.trim_end();
        if fence == "---" || fence == "..." {
            let body_start = offset + line.len();
            return Ok(Split {
                yaml: &text[yaml_offset..offset],
                yaml_offset,
                body: &text[body_start..],
                body_line: line_no + 1,
            });
        }
        offset += line.len();
    }
    Err(SplitError::Unterminated)
}

/// The `id` of a file's front matter as far as it can be read without the YAML
/// parser: a top-level `id:` line with a plain or quoted value. Only for a file
/// that failed to parse, so that links to it are not reported as links to an
/// unknown document on top of its own errors.
pub fn sniff_id(text: &str) -> Option<String> {
    let mut lines = text.trim_start_matches('\u{feff}').lines();
    if lines.next()?.trim_end() != "---" {
        return None;
    }
    lines
        .take_while(|line| !matches!(line.trim_end(), "---" | "..."))
        .find_map(|line| {
            let value = line.strip_prefix("id:")?.trim();
            let value = value.trim_matches(|c| c == '"' || c == '\'');
            (!value.is_empty()).then(|| value.to_string())
        })
}

use yaml_rust2::parser::{Event as YamlEvent, MarkedEventReceiver};
use yaml_rust2::scanner::Marker;

/// Every event of a parse, with where it starts.
#[derive(Default)]
struct MarkedEvents(Vec<(YamlEvent, Marker)>);

impl MarkedEventReceiver for MarkedEvents {
    fn on_event(&mut self, event: YamlEvent, mark: Marker) {
        self.0.push((event, mark));
    }
}

/// The event just past the node starting at `at`.
fn skip_node(events: &[(YamlEvent, Marker)], at: usize) -> usize {
    let mut depth = 0usize;
    let mut i = at;
    while i < events.len() {
        match events[i].0 {
            YamlEvent::MappingStart(..) | YamlEvent::SequenceStart(..) => depth += 1,
            YamlEvent::MappingEnd | YamlEvent::SequenceEnd => depth = depth.saturating_sub(1),
            _ => {}
        }
        i += 1;
        if depth == 0 {
            break;
        }
    }
    i
}

/// Where the node at `path` below the node starting at `at` is (of its key
/// when `key`): (1-based line, 0-based column). `key_mark` is where the key or
/// list item leading to the node at `at` stands.
fn locate_in(
    events: &[(YamlEvent, Marker)],
    at: usize,
    path: &[Step<'_>],
    key: bool,
    key_mark: Option<Marker>,
) -> Option<(usize, usize)> {
    let (event, mark) = events.get(at)?;
    let Some((step, rest)) = path.split_first() else {
        // A key, or a scalar value: where it starts. A collection's start
        // event stands where the parser noticed it (past its first key, for a
        // block mapping): the line-based locator answers those.
        let m = match (key, key_mark, event) {
            (true, Some(k), _) => k,
            (false, _, YamlEvent::Scalar(..) | YamlEvent::Alias(_)) => *mark,
            _ => return None,
        };
        return Some((m.line(), m.col()));
    };
    let mut i = at + 1;
    match (event, step) {
        (YamlEvent::MappingStart(..), Step::Key(want)) => {
            while i < events.len() && !matches!(events[i].0, YamlEvent::MappingEnd) {
                let value = skip_node(events, i);
                if matches!(&events[i].0, YamlEvent::Scalar(k, ..) if k == want) {
                    return locate_in(events, value, rest, key, Some(events[i].1));
                }
                i = skip_node(events, value);
            }
            None
        }
        (YamlEvent::SequenceStart(..), Step::Index(want)) => {
            let mut n = 0;
            while i < events.len() && !matches!(events[i].0, YamlEvent::SequenceEnd) {
                if n == *want {
                    return locate_in(events, i, rest, key, Some(events[i].1));
                }
                i = skip_node(events, i);
                n += 1;
            }
            None
        }
        _ => None,
    }
}

/// One step of a path to a value in the front matter: a key or a list index.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Step<'a> {
    /// A mapping key.
    Key(&'a str),
    /// A list item.
    Index(usize),
}

/// Finds where keys and list items stand in the YAML text, so that errors found
/// after parsing (a wrong type, an invalid date) can still name a line and column.
///
/// It reads block-style YAML line by line; for flow style (`{date: 2019}`) it finds
/// the key inside the line. Where it cannot tell, it answers the nearest enclosing
/// position it knows, which is still the right line in practice.
pub struct Locator<'a> {
    /// (byte offset of line start, line) for each line of the YAML.
    lines: Vec<(usize, &'a str)>,
    base_offset: usize,
    yaml: &'a str,
}

impl<'a> Locator<'a> {
    /// A locator for `yaml`, which starts at `base_offset` in the file.
    pub fn new(yaml: &'a str, base_offset: usize) -> Self {
        let mut lines = Vec::new();
        let mut off = 0;
        for l in yaml.split_inclusive('\n') {
            lines.push((off, l.trim_end_matches(['\n', '\r'])));
            off += l.len();
        }
        Locator {
            lines,
            base_offset,
            yaml,
        }
    }

    /// [`Locator::offset`] from the YAML parser's own positions: exact for any
    /// style (flow mappings in a list, quoted keys, a key's name inside a
    /// string). It parses the front matter again, so it is for errors, which
    /// are few; it falls back to [`Locator::offset`] where the parser cannot
    /// tell (a path that is not there).
    pub fn exact_offset(&self, path: &[Step<'_>], key: bool) -> usize {
        let mut events = MarkedEvents::default();
        let parsed = yaml_rust2::parser::Parser::new_from_str(self.yaml).load(&mut events, false);
        let found = parsed
            .ok()
            .and_then(|()| {
                // Past the stream and document starts, to the root node.
                let root = events.0.iter().position(|(e, _)| {
                    !matches!(e, YamlEvent::StreamStart | YamlEvent::DocumentStart)
                })?;
                locate_in(&events.0, root, path, key, None)
            })
            .and_then(|(line, col)| self.byte_at(line, col));
        match found {
            Some(at) => self.base_offset + at,
            None => self.offset(path, key),
        }
    }

    /// The byte offset in the YAML of (1-based line, 0-based character column).
    fn byte_at(&self, line: usize, col: usize) -> Option<usize> {
        let (start, text) = *self.lines.get(line.checked_sub(1)?)?;
        let within = text.char_indices().nth(col).map_or(text.len(), |(i, _)| i);
        Some(start + within)
    }

    /// Byte offset in the file of the value at `path` (of its key when `key` is true).
    pub fn offset(&self, path: &[Step<'_>], key: bool) -> usize {
        let mut lo = 0;
        let mut hi = self.lines.len();
        let mut indent_floor: Option<usize> = None;
        let mut found = self.base_offset;
        for (depth, step) in path.iter().enumerate() {
            let last = depth + 1 == path.len();
            let hit = match step {
                Step::Key(k) => self.find_key(lo, hi, indent_floor, k),
                Step::Index(i) => self.find_item(lo, hi, *i),
            };
            let Some((line_idx, col, value_col)) = hit else {
                return found;
            };
            let (line_off, line) = self.lines[line_idx];
            let col = if last && !key { value_col } else { col };
            found = self.base_offset + line_off + col.min(line.len());
            // The value's block spans the following lines indented deeper than this one.
            let own_indent = indent_of(line);
            let mut end = line_idx + 1;
            while end < hi {
                let l = self.lines[end].1;
                let ends_block = !l.trim().is_empty()
                    && indent_of(l) <= own_indent
                    && !l.trim_start().starts_with('#')
                    && (matches!(step, Step::Key(_))
                        || indent_of(l) < own_indent
                        || l.trim_start().starts_with('-'));
                if ends_block {
                    break;
                }
                end += 1;
            }
            // Flow values stay on the key's line; nested steps search from there.
            lo = line_idx;
            hi = end.max(line_idx + 1);
            indent_floor = Some(col);
        }
        found
    }

    /// Finds `key:` in lines lo..hi at indentation >= floor: (line, key column, value column).
    fn find_key(
        &self,
        lo: usize,
        hi: usize,
        floor: Option<usize>,
        key: &str,
    ) -> Option<(usize, usize, usize)> {
        for idx in lo..hi {
            let line = self.lines[idx].1;
            for (start, _) in line.match_indices(key) {
                let before = &line[..start];
                let after = &line[start + key.len()..];
                let quoted_after = after.strip_prefix(['"', '\'']).unwrap_or(after);
                if !quoted_after.starts_with(':') {
                    continue;
                }
                let prev = before.trim_end_matches(['"', '\'']).chars().last();
                let boundary = matches!(prev, None | Some(' ' | '{' | ',' | '-' | '\t'));
                if !boundary {
                    continue;
                }
                if let Some(f) = floor {
                    if idx != lo && start < f {
                        continue;
                    }
                } else if !before.trim().is_empty() {
                    continue;
                }
                let colon = start + key.len() + (after.len() - quoted_after.len());
                let rest = &line[colon + 1..];
                let value_col = colon + 1 + (rest.len() - rest.trim_start().len());
                return Some((idx, start, value_col));
            }
        }
        None
    }

    /// Finds the i-th item of the list whose key is at line lo: (line, column, column).
    fn find_item(&self, lo: usize, hi: usize, i: usize) -> Option<(usize, usize, usize)> {
        let key_line = self.lines[lo].1;
        // Flow list on the key's own line: `[a, b, c]`.
        if let Some(open) = key_line.find('[') {
            let mut col = open + 1;
            for (n, piece) in key_line[open + 1..].split(',').enumerate() {
                if n == i {
                    let lead = piece.len() - piece.trim_start().len();
                    return Some((lo, col + lead, col + lead));
                }
                col += piece.len() + 1;
            }
            return Some((lo, open, open));
        }
        let mut item_indent = None;
        let mut n = 0;
        for idx in lo + 1..hi {
            let line = self.lines[idx].1;
            let trimmed = line.trim_start();
            if !trimmed.starts_with('-') {
                continue;
            }
            let ind = indent_of(line);
            if *item_indent.get_or_insert(ind) != ind {
                continue;
            }
            if n == i {
                let value = ind + 1 + (trimmed[1..].len() - trimmed[1..].trim_start().len());
                return Some((idx, value, value));
            }
            n += 1;
        }
        None
    }
}

fn indent_of(line: &str) -> usize {
    line.len() - line.trim_start().len()
}

/// Converts a YAML error offset into the file's own (line, column).
pub fn yaml_error_position(
    file_text: &str,
    split_offset: usize,
    yaml_offset: usize,
) -> (usize, usize) {
    line_col(file_text, split_offset + yaml_offset)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splits_front_matter_and_body() {
        let s = split("---\nid: a\n---\n# Body\n").unwrap();
        assert_eq!(s.yaml, "id: a\n");
        assert_eq!(s.body, "# Body\n");
        assert_eq!(s.body_line, 4);
        assert_eq!(s.yaml_offset, 4);
    }

    #[test]
    fn split_handles_crlf_and_dots() {
        let s = split("---\r\nid: a\r\n...\r\nbody").unwrap();
        assert_eq!(s.yaml, "id: a\r\n");
        assert_eq!(s.body, "body");
    }

    #[test]
    fn split_errors() {
        assert_eq!(split(""), Err(SplitError::Missing));
        assert_eq!(split("# Title\n"), Err(SplitError::Missing));
        assert_eq!(split("---\nid: a\n"), Err(SplitError::Unterminated));
    }

    #[test]
    fn yaml_errors_carry_offsets() {
        let (off, msg) = parse_yaml("id: a\ntitle: [unclosed\n").unwrap_err();
        assert!(off > 0, "{off} {msg}");
        assert!(!msg.contains(" at line "), "{msg}");
    }

    #[test]
    fn deep_flow_nesting_is_refused_before_parsing() {
        let deep = format!("extra: {}{}\n", "[".repeat(100_000), "]".repeat(100_000));
        let start = std::time::Instant::now();
        let (off, msg) = parse_yaml(&deep).unwrap_err();
        assert!(start.elapsed().as_secs() < 2, "{:?}", start.elapsed());
        assert!(msg.contains("nested more than 128"), "{msg}");
        assert_eq!(off, 7 + 128);
        // Brackets in quoted scalars and comments do not count.
        let quoted = format!(
            "a: \"{0}\"\nb: '{0}'\nc: x # {0}\nd: [[1], {{e: [2]}}]\n",
            "[".repeat(500)
        );
        assert!(parse_yaml(&quoted).is_ok());
    }

    #[test]
    fn integers_keep_every_digit_or_are_refused_with_advice() {
        let yaml =
            parse_yaml("extra:\n  u: 18446744073709551615\n  i: -9223372036854775808\n  f: 0.1\n")
                .expect("parses");
        let json = yaml.to_json();
        assert_eq!(
            json["extra"]["u"],
            serde_json::json!(18446744073709551615u64)
        );
        assert_eq!(json["extra"]["i"], serde_json::json!(i64::MIN));
        assert_eq!(json["extra"]["f"], serde_json::json!(0.1));
        let text = "id: a\nextra:\n  big: 123456789012345678901234567890\n";
        let (off, msg) = parse_yaml(text).unwrap_err();
        assert_eq!(off, text.find("1234").unwrap(), "{msg}");
        assert_eq!(
            msg,
            "extra.big: the integer 123456789012345678901234567890 is too large (more than 64 \
             bits): quote it (\"123456789012345678901234567890\") to keep its digits as text"
        );
        let (_, msg) = parse_yaml("n: -123456789012345678901234567890\n").unwrap_err();
        assert!(msg.contains("is too large"), "{msg}");
    }

    #[test]
    fn duplicate_keys_point_at_the_second() {
        let (off, msg) = parse_yaml("id: a\ntitle: x\nid: b\n").unwrap_err();
        assert_eq!(off, 15, "{msg}");
        assert_eq!(msg, "duplicate key `id`: it appears twice");
    }

    #[test]
    fn unclosed_quote_points_at_the_quote() {
        let yaml = "id: a\ntitle: \"unclosed\ndate: 2019\n";
        let (off, msg) = parse_yaml(yaml).unwrap_err();
        assert_eq!(off, 13, "{msg}");
        assert!(msg.contains("while scanning a quoted scalar"), "{msg}");
        assert!(!msg.contains(" at line "), "{msg}");
    }

    #[test]
    fn locates_nested_values() {
        let yaml = "id: a\nsource:\n  authority: Council\n  url: http://x\nevents:\n  - date: 2019-04\n    title: Seminar\n  - {date: 2015-05, title: Agenda}\ntopics: [a, b, c]\n";
        let loc = Locator::new(yaml, 4);
        let file = format!("---\n{yaml}---\n");
        let at = |path: &[Step], key| line_col(&file, loc.offset(path, key));
        assert_eq!(at(&[Step::Key("id")], true), (2, 1));
        assert_eq!(at(&[Step::Key("id")], false), (2, 5));
        assert_eq!(at(&[Step::Key("source"), Step::Key("url")], false), (5, 8));
        assert_eq!(
            at(
                &[Step::Key("events"), Step::Index(0), Step::Key("date")],
                false
            ),
            (7, 11)
        );
        assert_eq!(
            at(
                &[Step::Key("events"), Step::Index(0), Step::Key("title")],
                false
            ),
            (8, 12)
        );
        assert_eq!(
            at(
                &[Step::Key("events"), Step::Index(1), Step::Key("date")],
                false
            ),
            (9, 12)
        );
        assert_eq!(at(&[Step::Key("topics"), Step::Index(2)], false), (10, 16));
    }
}
