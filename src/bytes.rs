//! The fields of annals' binary cache files: numbers (see [`crate::varint`]),
//! strings with their length, optional strings and lists of them, written
//! onto a vector and read back by a [`Reader`] that answers `None` at the
//! first thing out of place (a damaged file costs only its shortcut).

/// Appends a length or count.
pub fn push_number(out: &mut Vec<u8>, n: usize) {
    crate::varint::push(out, n as u64);
}

/// Appends a string: its length, then its bytes.
pub fn push_str(out: &mut Vec<u8>, s: &str) {
    push_number(out, s.len());
    out.extend_from_slice(s.as_bytes());
}

/// Appends a string that may be missing: a flag byte, then the string.
pub fn push_opt_str(out: &mut Vec<u8>, s: Option<&str>) {
    match s {
        None => out.push(0),
        Some(s) => {
            out.push(1);
            push_str(out, s);
        }
    }
}

/// Appends a list of strings: its length, then each string.
pub fn push_strs(out: &mut Vec<u8>, list: &[String]) {
    push_number(out, list.len());
    for s in list {
        push_str(out, s);
    }
}

/// Reads back what the functions above wrote.
pub struct Reader<'b> {
    bytes: &'b [u8],
    /// Where the next field starts.
    pub at: usize,
}

impl<'b> Reader<'b> {
    /// A reader of `bytes` from their start.
    pub fn new(bytes: &'b [u8]) -> Reader<'b> {
        Reader { bytes, at: 0 }
    }

    /// Whether every byte was read.
    pub fn is_done(&self) -> bool {
        self.at == self.bytes.len()
    }

    /// The next `n` bytes.
    pub fn take(&mut self, n: usize) -> Option<&'b [u8]> {
        let end = self.at.checked_add(n)?;
        let out = self.bytes.get(self.at..end)?;
        self.at = end;
        Some(out)
    }

    /// The next eight bytes.
    pub fn eight(&mut self) -> Option<[u8; 8]> {
        self.take(8)?.try_into().ok()
    }

    /// The next byte.
    pub fn byte(&mut self) -> Option<u8> {
        Some(self.take(1)?[0])
    }

    /// A number [`push_number`] wrote.
    pub fn number(&mut self) -> Option<usize> {
        usize::try_from(crate::varint::read(self.bytes, &mut self.at)?).ok()
    }

    /// A string [`push_str`] wrote, borrowed from the bytes.
    pub fn str(&mut self) -> Option<&'b str> {
        let len = self.number()?;
        std::str::from_utf8(self.take(len)?).ok()
    }

    /// A string [`push_str`] wrote.
    pub fn string(&mut self) -> Option<String> {
        self.str().map(str::to_string)
    }

    /// A string [`push_opt_str`] wrote.
    pub fn opt_string(&mut self) -> Option<Option<String>> {
        match self.byte()? {
            0 => Some(None),
            1 => self.string().map(Some),
            _ => None,
        }
    }

    /// A list's length, checked against what is left (each item takes a byte
    /// at least), so that a corrupt length never reserves a huge list.
    pub fn count(&mut self) -> Option<usize> {
        let n = self.number()?;
        (n <= self.bytes.len().saturating_sub(self.at)).then_some(n)
    }

    /// A list [`push_strs`] wrote.
    pub fn strings(&mut self) -> Option<Vec<String>> {
        let n = self.count()?;
        (0..n).map(|_| self.string()).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fields_read_back_as_written_and_never_past_the_end() {
        let mut out = Vec::new();
        push_str(&mut out, "é \"x\"");
        push_opt_str(&mut out, None);
        push_opt_str(&mut out, Some(""));
        push_strs(&mut out, &["a".into(), "bc".into()]);
        push_number(&mut out, 300);
        let mut r = Reader::new(&out);
        assert_eq!(r.str(), Some("é \"x\""));
        assert_eq!(r.opt_string(), Some(None));
        assert_eq!(r.opt_string(), Some(Some(String::new())));
        assert_eq!(r.strings(), Some(vec!["a".into(), "bc".into()]));
        assert_eq!(r.number(), Some(300));
        assert!(r.is_done());
        assert_eq!(r.byte(), None);
        // A count larger than what is left is refused.
        let mut big = Vec::new();
        push_number(&mut big, 5);
        assert_eq!(Reader::new(&big).strings(), None);
    }
}
