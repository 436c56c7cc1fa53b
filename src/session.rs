//! What a process that builds the same archive again and again (`annals serve`)
//! keeps from one build to the next, so that a rebuild after an edit redoes only
//! what the edit touched:
//!
//! - the parsed documents, by file: a file whose size, modification and change
//!   times and inode are the ones it had when it was parsed is not read or parsed
//!   again ([`ParsedCache`]);
//! - what the link pass got from each body (anchors, links with their excerpts,
//!   mentions), by body and context ([`crate::archive::links::BodyCache`]): a body
//!   that is unchanged, in an archive whose ids and autolinked names are
//!   unchanged, is not rendered again;
//! - the search analyses, by document content ([`crate::search::AnalysisCache`]).
//!
//! Both are dropped wholesale when the annals binary or `site.toml` changes (the
//! cache *salt*), since either can change how every file is read. Nothing here
//! is written to disk: a command-line build starts from nothing and relies on the
//! page keys of [`crate::incremental`] instead.

use crate::document::Document;
use crate::search::AnalysisCache;
use rayon::prelude::*;
use std::collections::HashMap;
use std::path::{Path, PathBuf};

/// See the module documentation.
#[derive(Default)]
pub struct Session {
    pub(crate) parsed: ParsedCache,
    pub(crate) bodies: crate::archive::links::BodyCache,
    pub(crate) search: AnalysisCache,
}

/// What identifies one version of a file without reading it. The change time
/// and inode catch an edit that kept the size and restored the modification
/// time; an edit is only ever missed if all four stay the same.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FileStamp {
    len: u64,
    modified: (i64, i64),
    changed: (i64, i64),
    inode: u64,
}

impl FileStamp {
    /// The stamp of the file at `path`, or `None` if it cannot be read.
    pub fn of(path: &Path) -> Option<FileStamp> {
        use std::os::unix::fs::MetadataExt;
        let meta = std::fs::metadata(path).ok()?;
        Some(FileStamp {
            len: meta.len(),
            modified: (meta.mtime(), meta.mtime_nsec()),
            changed: (meta.ctime(), meta.ctime_nsec()),
            inode: meta.ino(),
        })
    }
}

/// Parsed documents by file (the path relative to the root, as documents name
/// it), with the stamp each file had *before* it was read: a file changed while
/// it was being read gets a new stamp and is parsed again next time.
#[derive(Default)]
pub struct ParsedCache {
    salt: u64,
    files: HashMap<PathBuf, (FileStamp, Document)>,
}

impl ParsedCache {
    /// A copy of the document parsed from `file` when it had `stamp`, if any.
    pub fn get(&self, salt: u64, file: &Path, stamp: FileStamp) -> Option<Document> {
        if salt != self.salt {
            return None;
        }
        match self.files.get(file) {
            Some((kept, doc)) if *kept == stamp => Some(doc.clone()),
            _ => None,
        }
    }

    /// Replaces the cache's contents with a build's documents, each under the
    /// stamp its file had when the build listed it (documents without one are
    /// left out).
    pub fn keep<'d>(
        &mut self,
        salt: u64,
        documents: impl Iterator<Item = &'d Document> + Send,
        stamps: &HashMap<PathBuf, FileStamp>,
    ) {
        self.salt = salt;
        self.files = documents
            .par_bridge()
            .filter_map(|d| {
                let stamp = stamps.get(&d.file)?;
                Some((d.file.clone(), (*stamp, d.clone())))
            })
            .collect();
    }

    /// How many documents are kept.
    pub fn len(&self) -> usize {
        self.files.len()
    }

    /// Whether none are.
    pub fn is_empty(&self) -> bool {
        self.files.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_stamp_changes_with_every_write() {
        let dir = std::env::temp_dir().join(format!("annals-stamp-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let file = dir.join("a.md");
        std::fs::write(&file, "one").unwrap();
        let first = FileStamp::of(&file).unwrap();
        assert_eq!(FileStamp::of(&file), Some(first));
        // Same size, modification time restored: the change time still moves.
        let modified = std::fs::metadata(&file).unwrap().modified().unwrap();
        std::thread::sleep(std::time::Duration::from_millis(20));
        std::fs::write(&file, "two").unwrap();
        std::fs::File::options()
            .write(true)
            .open(&file)
            .unwrap()
            .set_modified(modified)
            .unwrap();
        assert_ne!(FileStamp::of(&file), Some(first));
        assert_eq!(FileStamp::of(&dir.join("missing.md")), None);
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
