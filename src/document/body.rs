//! A document's Markdown body, held in memory or set aside on disk.
//!
//! Bodies are half of what a parsed document holds (4 KB of 7.6 KB in the
//! benchmark's archives) and are read a few times after parsing: by the link pass,
//! which renders each for its links, mentions and search words, and by the
//! document's own page (page keys hash a digest taken when it was set aside). A build therefore writes each body to a [`Spill`] as soon as the
//! document is parsed ([`Body::spill_to`]) and reads it back at those two moments,
//! so that no stage holds every body. `annals serve`, which keeps its documents
//! between builds and edits bodies in place, keeps them in memory.

use crate::spill::{Spill, SpilledBytes};
use std::borrow::Cow;
use std::hash::{Hash, Hasher};
use std::sync::Arc;

/// A document's Markdown body. Compared and hashed by its text.
#[derive(Clone)]
pub struct Body(Held);

#[derive(Clone)]
enum Held {
    Text(String),
    /// On disk, with the text's [`digest`], so that hashing the body (the page
    /// keys of every build do) reads nothing back.
    Spilled(SpilledBytes, u64),
    /// Still in its source file, as the last `len` bytes of the file at
    /// `path`, whose text had the [`digest`] `digest` when the file was
    /// stamped (see [`crate::document::stored`]): a build that took the
    /// document from the cache by its file's stamp reads the body only if
    /// some stage needs it, and a file changed since is an error, never a
    /// silently different body.
    InFile {
        path: Arc<std::path::Path>,
        len: usize,
        digest: u64,
    },
}

/// A number standing for a text: what a body hashes as, held or spilled.
fn digest(text: &str) -> u64 {
    let mut h = std::hash::DefaultHasher::new();
    text.hash(&mut h);
    h.finish()
}

impl Body {
    /// The text; an error only if a spilled body cannot be read back.
    pub fn text(&self) -> std::io::Result<Cow<'_, str>> {
        match &self.0 {
            Held::Text(t) => Ok(Cow::Borrowed(t)),
            Held::Spilled(s, _) => String::from_utf8(s.read()?)
                .map(Cow::Owned)
                .map_err(std::io::Error::other),
            Held::InFile { path, len, digest } => read_tail(path, *len, *digest).map(Cow::Owned),
        }
    }

    /// The body of a file not read yet: its last `len` bytes, whose text has
    /// the [`Body::digest`] `digest`.
    pub fn in_file(path: Arc<std::path::Path>, len: usize, digest: u64) -> Body {
        Body(Held::InFile { path, len, digest })
    }

    /// A number standing for the text, equal for equal texts (within one
    /// build of annals), taken without reading a body set aside.
    pub fn digest(&self) -> u64 {
        match &self.0 {
            Held::Text(t) => digest(t),
            Held::Spilled(_, d) | Held::InFile { digest: d, .. } => *d,
        }
    }

    /// Moves the text to `spill`; it stays in memory if the spill cannot take it.
    pub fn spill_to(&mut self, spill: &Arc<Spill>) {
        if let Held::Text(text) = &self.0 {
            if let Some(spilled) = SpilledBytes::put(spill, text.as_bytes()) {
                self.0 = Held::Spilled(spilled, digest(text));
            }
        }
    }

    /// Whether the text is on disk.
    pub fn is_spilled(&self) -> bool {
        matches!(self.0, Held::Spilled(..) | Held::InFile { .. })
    }

    /// The text's length in bytes.
    pub fn len(&self) -> usize {
        match &self.0 {
            Held::Text(t) => t.len(),
            Held::Spilled(s, _) => s.len(),
            Held::InFile { len, .. } => *len,
        }
    }

    /// Whether the text is empty.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// The last `len` bytes of the file at `path`, if their text has the
/// [`digest`] `expected`.
fn read_tail(path: &std::path::Path, len: usize, expected: u64) -> std::io::Result<String> {
    use std::io::{Read, Seek, SeekFrom};
    let changed = || {
        std::io::Error::other(format!(
            "{} changed while the site was being built; build again",
            path.display()
        ))
    };
    let mut file = std::fs::File::open(path)?;
    let size = file.metadata()?.len();
    let start = size.checked_sub(len as u64).ok_or_else(changed)?;
    file.seek(SeekFrom::Start(start))?;
    let mut bytes = vec![0; len];
    file.read_exact(&mut bytes)?;
    let text = String::from_utf8(bytes).map_err(|_| changed())?;
    if digest(&text) != expected {
        return Err(changed());
    }
    Ok(text)
}

impl From<String> for Body {
    fn from(text: String) -> Body {
        Body(Held::Text(text))
    }
}

impl From<&str> for Body {
    fn from(text: &str) -> Body {
        Body(Held::Text(text.to_string()))
    }
}

impl Default for Body {
    fn default() -> Body {
        Body::from(String::new())
    }
}

impl std::fmt::Debug for Body {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &self.0 {
            Held::Text(t) => t.fmt(f),
            Held::Spilled(s, _) => write!(f, "<body of {} bytes, spilled>", s.len()),
            Held::InFile { path, len, .. } => {
                write!(f, "<body of {len} bytes, at the end of {}>", path.display())
            }
        }
    }
}

/// Hashed as its text's [`digest`], which a spilled body keeps: no read.
impl Hash for Body {
    fn hash<H: Hasher>(&self, state: &mut H) {
        state.write_u64(self.digest());
    }
}

/// Bodies are equal when their texts are; a body that cannot be read back
/// equals none, not even itself.
impl PartialEq for Body {
    fn eq(&self, other: &Body) -> bool {
        if !matches!((&self.0, &other.0), (Held::Text(_), Held::Text(_)))
            && self.digest() != other.digest()
        {
            return false;
        }
        match (self.text(), other.text()) {
            (Ok(a), Ok(b)) => a == b,
            _ => false,
        }
    }
}

impl PartialEq<str> for Body {
    fn eq(&self, other: &str) -> bool {
        self.text().is_ok_and(|t| t == other)
    }
}

impl PartialEq<&str> for Body {
    fn eq(&self, other: &&str) -> bool {
        self == *other
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::hash::DefaultHasher;

    fn hash(body: &Body) -> u64 {
        let mut h = DefaultHasher::new();
        body.hash(&mut h);
        h.finish()
    }

    #[test]
    fn a_spilled_body_reads_hashes_and_compares_as_its_text() {
        let text = "## Scope\n\n1. Member States — *données*.\n".repeat(50);
        let kept = Body::from(text.clone());
        let mut spilled = kept.clone();
        spilled.spill_to(&Arc::new(Spill::new()));
        assert!(spilled.is_spilled() && !kept.is_spilled());
        assert_eq!(spilled.text().unwrap(), text);
        assert_eq!(spilled.len(), text.len());
        assert_eq!(spilled, kept);
        assert_eq!(spilled, *text.as_str());
        assert_eq!(hash(&spilled), hash(&kept));
        assert_ne!(spilled, Body::from("other"));
    }

    #[test]
    fn a_body_in_its_file_is_read_only_while_the_file_holds_it() {
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join("doc.md");
        let text = "---\nid: a\n---\nThe body, *données*.\n";
        std::fs::write(&path, text).expect("write");
        let body_text = "The body, *données*.\n";
        let kept = Body::from(body_text);
        let in_file = Body::in_file(path.as_path().into(), body_text.len(), kept.digest());
        assert!(in_file.is_spilled());
        assert_eq!(in_file.text().unwrap(), body_text);
        assert_eq!(in_file.len(), body_text.len());
        assert_eq!(hash(&in_file), hash(&kept));
        assert_eq!(in_file, kept);
        // Changed since, at the same length or not: an error, never the new text.
        for changed in [text.replace("body", "bode"), format!("{text}More.\n")] {
            std::fs::write(&path, changed).expect("write");
            let e = in_file.text().expect_err("the file changed");
            assert!(
                e.to_string()
                    .contains("changed while the site was being built"),
                "{e}"
            );
            assert_ne!(in_file, kept);
        }
        std::fs::remove_file(&path).expect("remove");
        assert!(in_file.text().is_err());
    }

    #[test]
    fn without_a_spill_file_the_body_stays_in_memory() {
        let mut body = Body::from("text");
        body.spill_to(&Arc::new(Spill::in_memory()));
        assert!(!body.is_spilled());
        assert_eq!(body, "text");
    }
}
