//! The first stage: read `site.toml`, the documents under `content/documents/`, and
//! the theme. This is one of the two places that touch the disk.

use crate::config::{Config, CONFIG_FILE};
use crate::diagnostics::Diagnostic;
use rayon::prelude::*;
use std::path::{Path, PathBuf};
use walkdir::WalkDir;

/// Where documents live under the site root.
pub const DOCUMENTS_DIR: &str = "content/documents";

/// A document file as read from disk, before parsing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SourceFile {
    /// Path relative to the site root, as shown in errors (`content/documents/2019/x.md`).
    pub path: PathBuf,
    /// The file's text, UTF-8, without a byte-order mark.
    pub text: String,
}

/// Everything the build reads from the content folder.
#[derive(Debug, Default)]
pub struct Content {
    /// Markdown documents, sorted by path so every run sees them in the same order.
    pub documents: Vec<SourceFile>,
    /// Other files under `content/documents/` (originals such as PDFs), relative to the
    /// site root; they are published only when a document's `source.file` names them.
    pub attachments: Vec<PathBuf>,
}

/// Reads and parses `site.toml`.
pub fn load_config(root: &Path) -> Result<Config, Vec<Diagnostic>> {
    let path = root.join(CONFIG_FILE);
    let text = std::fs::read_to_string(&path).map_err(|e| {
        vec![Diagnostic::file(
            CONFIG_FILE,
            format!("cannot read the site configuration: {e}"),
        )
        .with_help(format!(
            "run annals in the archive's root folder, or pass --root; looked for {}",
            path.display()
        ))]
    })?;
    let text = text.strip_prefix('\u{feff}').unwrap_or(&text);
    Config::parse(Path::new(CONFIG_FILE), text)
}

/// Walks `content/documents/` and reads every Markdown file, in parallel.
///
/// Hidden files and folders (`.git`, `.DS_Store`) are skipped. Symbolic links are
/// followed only when they stay inside the site root; loops and links that leave
/// the root are errors, so that publishing never reaches outside the archive.
pub fn load_content(root: &Path) -> (Content, Vec<Diagnostic>) {
    let (listing, mut errors) = walk_documents(root);
    let Listing {
        markdown,
        attachments,
    } = listing;
    let (documents, read_errors) = read_each(&markdown, |source| source);
    errors.extend(read_errors);
    (
        Content {
            documents,
            attachments,
        },
        errors,
    )
}

/// What walking `content/documents/` finds.
#[derive(Default)]
struct Listing {
    /// Markdown files: (absolute path, path relative to the site root).
    markdown: Vec<(PathBuf, PathBuf)>,
    /// Other files, relative to the site root.
    attachments: Vec<PathBuf>,
}

fn walk_documents(root: &Path) -> (Listing, Vec<Diagnostic>) {
    let mut errors = Vec::new();
    let dir = root.join(DOCUMENTS_DIR);
    if !dir.is_dir() {
        errors.push(
            Diagnostic::file(DOCUMENTS_DIR, "the documents folder does not exist")
                .with_help("put one Markdown file per document under content/documents/"),
        );
        return (Listing::default(), errors);
    }
    let canonical_root = root.canonicalize().unwrap_or_else(|_| root.to_path_buf());
    let mut markdown = Vec::new();
    let mut attachments = Vec::new();
    let mut walker = WalkDir::new(&dir)
        .follow_links(true)
        .sort_by_file_name()
        .into_iter()
        .filter_entry(|e| e.depth() == 0 || !e.file_name().to_string_lossy().starts_with('.'));
    while let Some(entry) = walker.next() {
        let entry = match entry {
            Ok(e) => e,
            Err(e) => {
                let at = e
                    .path()
                    .map(|p| relative(root, p))
                    .unwrap_or_else(|| PathBuf::from(DOCUMENTS_DIR));
                let message = if e.loop_ancestor().is_some() {
                    "symbolic link loop: this folder links back to one of its parents".to_string()
                } else {
                    format!(
                        "cannot read: {}",
                        e.io_error().map_or(e.to_string(), |io| io.to_string())
                    )
                };
                errors.push(Diagnostic::file(at, message));
                continue;
            }
        };
        if entry.path_is_symlink() {
            let inside = entry
                .path()
                .canonicalize()
                .map(|p| p.starts_with(&canonical_root))
                .unwrap_or(false);
            if !inside {
                errors.push(Diagnostic::file(
                    relative(root, entry.path()),
                    "symbolic link points outside the archive; copy the file in instead",
                ));
                // Reported once, never walked: a link to `/` would otherwise
                // have the whole file system read.
                if entry.file_type().is_dir() {
                    walker.skip_current_dir();
                }
                continue;
            }
        }
        if !entry.file_type().is_file() {
            continue;
        }
        let rel = relative(root, entry.path());
        if is_markdown(entry.path()) {
            markdown.push((entry.path().to_path_buf(), rel));
        } else {
            attachments.push(rel);
        }
    }
    (
        Listing {
            markdown,
            attachments,
        },
        errors,
    )
}

/// The Markdown files under `content/documents/` (absolute and site-relative paths,
/// sorted), without reading them, and the errors met while walking.
pub fn list_documents(root: &Path) -> (Vec<(PathBuf, PathBuf)>, Vec<Diagnostic>) {
    let (listing, errors) = walk_documents(root);
    (listing.markdown, errors)
}

/// Reads each listed file and hands it straight to `f` (in parallel, results in the
/// listing's order), so that a caller that parses can drop each text as soon as
/// it is parsed instead of holding every file in memory at once.
pub fn read_each<T: Send>(
    files: &[(PathBuf, PathBuf)],
    f: impl Fn(SourceFile) -> T + Sync,
) -> (Vec<T>, Vec<Diagnostic>) {
    let read: Vec<Result<T, Diagnostic>> = files
        .par_iter()
        .map(|(abs, rel)| read_source(abs, rel).map(&f))
        .collect();
    let mut out = Vec::with_capacity(read.len());
    let mut errors = Vec::new();
    for r in read {
        match r {
            Ok(t) => out.push(t),
            Err(d) => errors.push(d),
        }
    }
    (out, errors)
}

pub(crate) fn read_source(abs: &Path, rel: &Path) -> Result<SourceFile, Diagnostic> {
    let bytes = std::fs::read(abs)
        .map_err(|e| Diagnostic::file(rel, format!("cannot read the file: {e}")))?;
    if bytes.starts_with(&[0xff, 0xfe]) || bytes.starts_with(&[0xfe, 0xff]) {
        return Err(
            Diagnostic::file(rel, "the file is UTF-16, not UTF-8").with_help(
                "save the file as UTF-8 (most editors offer this under \"Save with encoding\")",
            ),
        );
    }
    let text = match String::from_utf8(bytes) {
        Ok(t) => t,
        Err(e) => {
            let valid = e.utf8_error().valid_up_to();
            let bytes = e.into_bytes();
            let prefix = String::from_utf8_lossy(&bytes[..valid]);
            let (line, col) = crate::diagnostics::line_col(&prefix, prefix.len());
            return Err(
                Diagnostic::at(rel, &prefix, line, col, "the file is not valid UTF-8").with_help(
                    "save the file as UTF-8 (most editors offer this under \"Save with encoding\")",
                ),
            );
        }
    };
    if let Some(pos) = text.find('\0') {
        let (line, col) = crate::diagnostics::line_col(&text, pos);
        return Err(
            Diagnostic::at(rel, &text, line, col, "the file contains a NUL byte")
                .with_help("the file is probably binary or damaged; remove the NUL characters"),
        );
    }
    let text = match text.strip_prefix('\u{feff}') {
        Some(stripped) => stripped.to_string(),
        None => text,
    };
    Ok(SourceFile {
        path: rel.to_path_buf(),
        text,
    })
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

/// How long after its last change a file's stamp is trusted by a later run.
/// File times tick coarsely (a few milliseconds): a file written again within
/// the same tick as it was stamped, at the same size, would keep its stamp.
/// Git's index calls such entries "racy" and reads them again; so does this.
const SETTLED_AFTER: std::time::Duration = std::time::Duration::from_secs(2);

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

    /// The stamps of the files at `paths`, in parallel (see [`stat_each`]).
    // (The conversions are no-ops where the `stat` fields are 64-bit.)
    #[allow(clippy::useless_conversion)]
    pub fn of_all(paths: &[&Path]) -> Vec<Option<FileStamp>> {
        #[cfg(unix)]
        {
            let stats = stat_each(Path::new(""), paths).into_iter();
            stats
                .map(|stat| {
                    let stat = stat?;
                    Some(FileStamp {
                        len: u64::try_from(stat.st_size).ok()?,
                        modified: (
                            i64::from(stat.st_mtime),
                            i64::try_from(stat.st_mtime_nsec).ok()?,
                        ),
                        changed: (
                            i64::from(stat.st_ctime),
                            i64::try_from(stat.st_ctime_nsec).ok()?,
                        ),
                        inode: u64::from(stat.st_ino),
                    })
                })
                .collect()
        }
        #[cfg(not(unix))]
        {
            paths.par_iter().map(|path| FileStamp::of(path)).collect()
        }
    }

    /// Whether the file last changed long enough before `now` (a time taken
    /// before the file was stamped) that no later write can share its stamp.
    ///
    /// Judged by the change time alone: the kernel sets it to the current
    /// time on every write and on every change of the modification time, so
    /// a modification time in the future (an archive unpacked from a machine
    /// whose clock ran ahead) or far in the past neither hides a later write
    /// nor keeps the file unsettled for ever.
    pub fn settled(&self, now: std::time::SystemTime) -> bool {
        let Ok(now) = now.duration_since(std::time::UNIX_EPOCH) else {
            return false;
        };
        let Some(limit) = now.checked_sub(SETTLED_AFTER) else {
            return false;
        };
        let before = |(secs, nanos): (i64, i64)| {
            let (Ok(secs), Ok(nanos)) = (u64::try_from(secs), u32::try_from(nanos)) else {
                return false;
            };
            std::time::Duration::new(secs, nanos.min(999_999_999)) < limit
        };
        before(self.changed)
    }

    /// The stamp as bytes, for a cache file.
    pub fn to_bytes(&self) -> [u8; 48] {
        let fields = [
            self.len,
            self.modified.0 as u64,
            self.modified.1 as u64,
            self.changed.0 as u64,
            self.changed.1 as u64,
            self.inode,
        ];
        let mut out = [0; 48];
        for (slot, field) in out.chunks_exact_mut(8).zip(fields) {
            slot.copy_from_slice(&field.to_le_bytes());
        }
        out
    }

    /// The stamp [`FileStamp::to_bytes`] wrote.
    pub fn from_bytes(bytes: &[u8; 48]) -> FileStamp {
        let mut fields = [0u64; 6];
        for (field, slot) in fields.iter_mut().zip(bytes.chunks_exact(8)) {
            let mut b = [0; 8];
            b.copy_from_slice(slot);
            *field = u64::from_le_bytes(b);
        }
        FileStamp {
            len: fields[0],
            modified: (fields[1] as i64, fields[2] as i64),
            changed: (fields[3] as i64, fields[4] as i64),
            inode: fields[5],
        }
    }
}

/// The `stat` of each file at `paths` (relative to `base`, which an absolute
/// path ignores), in parallel. Files of one folder that follow each other
/// are looked up from the open folder: walking the whole path again for
/// each is most of the cost of a `stat` (the fingerprint stamps all 10,000
/// inputs of a 10k-document archive; a search patch, the live files it
/// takes). A folder that cannot be opened (searchable, not readable) is
/// passed through by full path.
#[cfg(unix)]
pub fn stat_each(base: &Path, paths: &[&Path]) -> Vec<Option<rustix::fs::Stat>> {
    use rustix::fs::{AtFlags, Mode, OFlags};
    paths
        .par_chunks(256)
        .flat_map_iter(|chunk| {
            let mut open: Option<(&Path, Option<rustix::fd::OwnedFd>)> = None;
            chunk
                .iter()
                .map(|path| {
                    let (Some(dir), Some(name)) = (path.parent(), path.file_name()) else {
                        return rustix::fs::stat(base.join(path)).ok();
                    };
                    if open.as_ref().is_none_or(|(d, _)| *d != dir) {
                        let flags = OFlags::DIRECTORY | OFlags::RDONLY | OFlags::CLOEXEC;
                        let fd = rustix::fs::open(base.join(dir), flags, Mode::empty());
                        open = Some((dir, fd.ok()));
                    }
                    match open.as_ref().and_then(|(_, fd)| fd.as_ref()) {
                        Some(fd) => rustix::fs::statat(fd, name, AtFlags::empty()).ok(),
                        None => rustix::fs::stat(base.join(path)).ok(),
                    }
                })
                .collect::<Vec<_>>()
        })
        .collect()
}

/// `path` relative to `root`, for messages; unchanged if it is not under `root`.
pub fn relative(root: &Path, path: &Path) -> PathBuf {
    // Paths the walk made by joining names to the root start with its bytes
    // and a separator: cut there, without walking both paths' components.
    let (root_bytes, bytes) = (
        root.as_os_str().as_encoded_bytes(),
        path.as_os_str().as_encoded_bytes(),
    );
    if let Some(rest) = bytes.strip_prefix(root_bytes) {
        let rest = match (root_bytes.last(), rest.first()) {
            (Some(b'/'), Some(&b)) if b != b'/' => Some(rest),
            (_, Some(b'/')) if rest.get(1).is_some_and(|&b| b != b'/' && b != b'.') => {
                Some(&rest[1..])
            }
            _ => None,
        };
        // A path of names only is the same path whichever way it was cut.
        if let Some(rest) = rest.filter(|r| !r.starts_with(b".")) {
            if let Ok(rest) = std::str::from_utf8(rest) {
                return PathBuf::from(rest);
            }
        }
    }
    path.strip_prefix(root).unwrap_or(path).to_path_buf()
}

/// An original file shipped next to a document (a PDF), with what the provenance
/// panel and citations report about it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Original {
    /// Path relative to the site root.
    pub path: PathBuf,
    /// Size in bytes.
    pub size: u64,
    /// Lower-case hexadecimal SHA-256 of its bytes.
    pub sha256: String,
}

/// Reads and hashes every original named by a document's `source.file`, in
/// parallel. A missing file, or one whose SHA-256 differs from the `sha256` recorded
/// in front matter (the file was altered), is an error at that front-matter line.
pub fn read_originals(
    root: &Path,
    documents: &[crate::document::Document],
) -> (
    std::collections::HashMap<PathBuf, Original>,
    Vec<Diagnostic>,
) {
    use sha2::{Digest, Sha256};
    let results: Vec<Result<Original, Diagnostic>> = documents
        .par_iter()
        .filter_map(|doc| {
            let source = doc.source.as_ref()?;
            let file = source.file.as_ref()?;
            let rel = doc.file.parent().map(PathBuf::from).unwrap_or_default().join(file);
            Some(match std::fs::read(root.join(&rel)) {
                Err(e) => Err(doc
                    .diagnostic_at_key(
                        "source.file",
                        format!("cannot read the original {}: {e}", rel.display()),
                    )
                    .with_help("put the original next to the document's Markdown file, or correct `source.file`")),
                Ok(bytes) => {
                    let sha256 = hex(&Sha256::digest(&bytes));
                    match &source.sha256 {
                        Some(expected) if *expected != sha256 => Err(doc
                            .diagnostic_at_key(
                                "source.sha256",
                                format!(
                                    "{} has SHA-256 {sha256}, not the {expected} recorded here: the file was altered or the hash is wrong",
                                    rel.display()
                                ),
                            )
                            .with_help("compare the file with the released copy before changing the recorded hash")),
                        _ => Ok(Original {
                            path: rel,
                            size: bytes.len() as u64,
                            sha256,
                        }),
                    }
                }
            })
        })
        .collect();
    let mut originals = std::collections::HashMap::new();
    let mut errors = Vec::new();
    for r in results {
        match r {
            Ok(o) => {
                originals.insert(o.path.clone(), o);
            }
            Err(d) => errors.push(d),
        }
    }
    (originals, errors)
}

/// Lower-case hexadecimal.
pub fn hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let digits: Vec<u8> = (bytes.iter())
        .flat_map(|b| [DIGITS[(b >> 4) as usize], DIGITS[(b & 15) as usize]])
        .collect();
    // Only ASCII digits were pushed.
    String::from_utf8(digits).unwrap_or_default()
}

/// Whether a file is Markdown by its name (`.md` or `.markdown`, in any case):
/// the same rule for documents and entities, so that no file an editor meant as
/// either is passed over.
fn is_markdown(path: &Path) -> bool {
    path.extension()
        .is_some_and(|e| e.eq_ignore_ascii_case("md") || e.eq_ignore_ascii_case("markdown"))
}

/// Reads entity files: `content/<taxonomy path>/*.md` for every taxonomy that has
/// such a folder (e.g. `content/organisations/eu-lisa.md`). Returns each file with
/// the index of its taxonomy in `config.taxonomies`.
pub fn load_entities(root: &Path, config: &Config) -> (Vec<(usize, SourceFile)>, Vec<Diagnostic>) {
    let mut found = Vec::new();
    let mut errors = Vec::new();
    for (ti, tax) in config.taxonomies.iter().enumerate() {
        let dir = root.join("content").join(&tax.path);
        if !dir.is_dir() {
            continue;
        }
        let mut paths: Vec<PathBuf> = match std::fs::read_dir(&dir) {
            Ok(entries) => entries
                .flatten()
                .map(|e| e.path())
                .filter(|p| p.is_file() && is_markdown(p))
                .filter(|p| {
                    !p.file_name()
                        .is_some_and(|n| n.to_string_lossy().starts_with('.'))
                })
                .collect(),
            Err(e) => {
                errors.push(Diagnostic::file(
                    relative(root, &dir),
                    format!("cannot read: {e}"),
                ));
                continue;
            }
        };
        paths.sort();
        for p in paths {
            match read_source(&p, &relative(root, &p)) {
                Ok(s) => found.push((ti, s)),
                Err(d) => errors.push(d),
            }
        }
    }
    (found, errors)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::{Duration, SystemTime};

    #[test]
    fn stamps_taken_from_open_folders_are_each_files_own() {
        let dir = tempfile::tempdir().unwrap();
        let mut paths = Vec::new();
        for (n, name) in ["a/x.md", "a/y.md", "b/x.md", "a/z.md", "c.md"]
            .iter()
            .enumerate()
        {
            let path = dir.path().join(name);
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            std::fs::write(&path, "x".repeat(n + 1)).unwrap();
            paths.push(path);
        }
        paths.push(dir.path().join("a/missing.md"));
        paths.push(dir.path().join("missing/x.md"));
        let refs: Vec<&Path> = paths.iter().map(PathBuf::as_path).collect();
        let each: Vec<Option<FileStamp>> = refs.iter().map(|p| FileStamp::of(p)).collect();
        assert_eq!(FileStamp::of_all(&refs), each);
        assert_eq!(each.iter().filter(|s| s.is_some()).count(), 5);
        assert_eq!(each[2].map(|s| s.len), Some(3));
    }

    #[test]
    fn a_path_is_cut_from_its_root_as_strip_prefix_cuts_it() {
        let cases = [
            ("/site", "/site/content/a.md"),
            ("/site/", "/site/content/a.md"),
            (".", "./content/a.md"),
            ("site", "site/content/x/../a.md"),
            ("/site", "/site2/content/a.md"),
            ("/site", "/site/.hidden/a.md"),
            ("/site", "/site//content/a.md"),
            ("/site", "/elsewhere/a.md"),
        ];
        for (root, path) in cases {
            let (root, path) = (Path::new(root), Path::new(path));
            let expected = path.strip_prefix(root).unwrap_or(path);
            assert_eq!(relative(root, path), expected, "{root:?} {path:?}");
        }
    }

    #[test]
    fn a_stamp_survives_its_bytes_and_settles_after_two_seconds() {
        let dir = tempfile::tempdir().expect("temp dir");
        let file = dir.path().join("a.md");
        std::fs::write(&file, "text").expect("write");
        let stamp = FileStamp::of(&file).expect("stamped");
        assert_eq!(FileStamp::from_bytes(&stamp.to_bytes()), stamp);
        // Just written: a write in the same tick could keep the stamp.
        let now = SystemTime::now();
        assert!(!stamp.settled(now));
        assert!(!stamp.settled(now + Duration::from_millis(1500)));
        assert!(stamp.settled(now + Duration::from_secs(3)));
        // A modification time put back (or ahead) does not settle a file,
        // nor keep it unsettled: its change time is what counts.
        let f = std::fs::File::options()
            .write(true)
            .open(&file)
            .expect("open");
        f.set_modified(now - Duration::from_secs(3600))
            .expect("set time");
        let touched = FileStamp::of(&file).expect("stamped");
        assert_ne!(touched, stamp);
        assert!(!touched.settled(SystemTime::now()));
        f.set_modified(now + Duration::from_secs(3600 * 24 * 365))
            .expect("set time");
        let ahead = FileStamp::of(&file).expect("stamped");
        assert!(!ahead.settled(SystemTime::now()));
        assert!(ahead.settled(SystemTime::now() + Duration::from_secs(3)));
        // Another size, another stamp.
        std::fs::write(&file, "longer text").expect("write");
        assert_ne!(FileStamp::of(&file), Some(touched));
    }
}
