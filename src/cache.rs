//! The build cache: lets a rebuild with nothing changed finish at once.
//!
//! A build's inputs are the files under `content/` and `themes/`, `site.toml`, the
//! options, and the annals binary itself. After a successful build their fingerprint
//! (every file's path and [`FileStamp`](crate::load::FileStamp): size,
//! modification and change times, inode; hashed) is stored in
//! `<root>/.annals-cache/build.json` with the SHA-256 of the output's `urls.json`. The
//! next build computes the fingerprint again (a `stat` per file, no reading); when it
//! matches and the output is still the one that build wrote, there is nothing to do.
//! Delete `.annals-cache/` (or the output) to force a full build; the benchmark does.

use crate::load::FileStamp;
use sha2::{Digest, Sha256};
use std::io::Write;
use std::path::{Path, PathBuf};
use walkdir::WalkDir;

/// The folder, inside the site root, where annals keeps its cache.
pub const CACHE_DIR: &str = ".annals-cache";

/// The bytes of a cache file in its frame: `magic` (a name and a format
/// number), a `key` saying what it was made for (a salt, a hash of inputs),
/// the payload `write` appends, and a CRC-32 of everything before it.
pub fn framed(magic: &[u8; 16], key: u64, write: impl FnOnce(&mut Vec<u8>)) -> Vec<u8> {
    let mut out = Vec::new();
    out.extend_from_slice(magic);
    out.extend_from_slice(&key.to_le_bytes());
    write(&mut out);
    let crc = crc32fast::hash(&out);
    out.extend_from_slice(&crc.to_le_bytes());
    out
}

/// The payload of a cache file [`framed`] with `magic` and `key`; `None` if
/// the file is another's, damaged or cut short.
pub fn unframed<'a>(bytes: &'a [u8], magic: &[u8; 16], key: u64) -> Option<&'a [u8]> {
    let (body, crc) = bytes.split_at(bytes.len().checked_sub(4)?);
    if crc32fast::hash(body).to_le_bytes() != crc
        || body.get(..16)? != magic
        || body.get(16..24)? != key.to_le_bytes()
    {
        return None;
    }
    body.get(24..)
}

/// A cache file a stage made along the way, set aside (in the build's
/// temporary file when it has one, else in memory) until the build has
/// succeeded: a build that fails leaves the cache folder as it was.
#[derive(Debug, Clone)]
pub struct PendingFile {
    /// Its name in the cache folder.
    pub name: &'static str,
    bytes: PendingBytes,
}

#[derive(Debug, Clone)]
enum PendingBytes {
    Spilled(crate::spill::SpilledBytes),
    Held(std::sync::Arc<Vec<u8>>),
}

impl PendingFile {
    /// `bytes`, to be written as `name` once the build has succeeded.
    pub fn set_aside(
        name: &'static str,
        bytes: Vec<u8>,
        spill: Option<&std::sync::Arc<crate::spill::Spill>>,
    ) -> PendingFile {
        let bytes = match spill.and_then(|s| crate::spill::SpilledBytes::put(s, &bytes)) {
            Some(spilled) => PendingBytes::Spilled(spilled),
            None => PendingBytes::Held(std::sync::Arc::new(bytes)),
        };
        PendingFile { name, bytes }
    }

    /// Writes it into `root`'s cache folder (see [`replace_file`]).
    pub fn write(&self, root: &Path) {
        let bytes = match &self.bytes {
            PendingBytes::Spilled(s) => match s.read() {
                Ok(bytes) => std::borrow::Cow::Owned(bytes),
                Err(_) => return,
            },
            PendingBytes::Held(b) => std::borrow::Cow::Borrowed(b.as_slice()),
        };
        replace_file(root, self.name, |out| out.write_all(&bytes));
    }
}
const STATE_FILE: &str = "build.json";

/// What a successful build leaves for the next one.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct BuildState {
    /// Fingerprint of every input.
    pub inputs: String,
    /// The output folder written.
    pub output: PathBuf,
    /// SHA-256 of the output's `urls.json`, to notice an output changed by hand.
    pub urls_sha256: String,
    /// Documents and pages of that build, for the summary line.
    pub documents: usize,
    /// HTML pages of that build.
    pub pages: usize,
}

/// The fingerprint of a build's inputs, and the stamps it was made from.
pub struct Fingerprint {
    /// The hash of every input's path and stamp (hex).
    pub key: String,
    /// The stamp of each file under `content/` and `themes/`, by its path
    /// (the site root joined with the path inside it), taken before any of
    /// them is read: the parse stage takes these instead of stamping the
    /// files again.
    pub stamps: rustc_hash::FxHashMap<std::ffi::OsString, FileStamp>,
    /// When the stamps were taken (see [`FileStamp::settled`]).
    pub at: std::time::SystemTime,
}

/// The fingerprint of a build's inputs; `options` is a description of the options
/// that change the output (base URL, drafts, output path).
///
/// A file changed in the last moments before the fingerprint is taken (see
/// [`FileStamp::settled`]) could be written again without its stamp moving:
/// such a fingerprint is made never to match, so that the next build looks at
/// the files.
pub fn fingerprint(root: &Path, options: &str) -> Fingerprint {
    /// One entry of the walk, in walk order.
    enum Seen {
        File(PathBuf),
        /// A folder or a link, and whether it is a link.
        Other(PathBuf, bool),
        Error(String),
    }
    let now = std::time::SystemTime::now();
    let mut seen = Vec::new();
    for dir in ["content", "themes"] {
        for entry in WalkDir::new(root.join(dir))
            .follow_links(true)
            .sort_by_file_name()
        {
            // Folders, links and unreadable entries count too: a new symbolic-link
            // loop or dangling link is a content error the next build must report.
            seen.push(match entry {
                Ok(entry) if entry.file_type().is_file() => Seen::File(entry.into_path()),
                Ok(entry) => {
                    let link = entry.path_is_symlink();
                    Seen::Other(entry.into_path(), link)
                }
                Err(e) => Seen::Error(e.to_string()),
            });
        }
    }
    // The walk reads folders one after another; the files are stamped on
    // every core.
    let files: Vec<&Path> = (seen.iter())
        .filter_map(|s| match s {
            Seen::File(path) => Some(path.as_path()),
            _ => None,
        })
        .collect();
    let mut stamped = FileStamp::of_all(&files).into_iter();
    let mut hasher = Sha256::new();
    hasher.update(env!("CARGO_PKG_VERSION").as_bytes());
    if let Ok(exe) = std::env::current_exe() {
        stamp_into(&mut hasher, &exe, FileStamp::of(&exe), now);
    }
    hasher.update(options.as_bytes());
    let config = root.join(crate::config::CONFIG_FILE);
    stamp_into(&mut hasher, &config, FileStamp::of(&config), now);
    let mut stamps = rustc_hash::FxHashMap::default();
    stamps.reserve(seen.len());
    for entry in seen {
        match entry {
            Seen::File(path) => {
                let stamp = stamped.next().flatten();
                stamp_into(&mut hasher, &path, stamp, now);
                if let Some(stamp) = stamp {
                    stamps.insert(path.into_os_string(), stamp);
                }
            }
            Seen::Other(path, link) => {
                hasher.update(path.as_os_str().as_encoded_bytes());
                hasher.update([1, u8::from(link)]);
            }
            Seen::Error(e) => {
                hasher.update(e.as_bytes());
                hasher.update([2]);
            }
        }
    }
    Fingerprint {
        key: crate::load::hex(&hasher.finalize()),
        stamps,
        at: now,
    }
}

fn stamp_into(
    hasher: &mut Sha256,
    path: &Path,
    stamp: Option<FileStamp>,
    now: std::time::SystemTime,
) {
    hasher.update(path.as_os_str().as_encoded_bytes());
    hasher.update([0]);
    if let Some(stamp) = stamp {
        hasher.update(stamp.to_bytes());
        if !stamp.settled(now) {
            let unique = now
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(0, |d| d.as_nanos());
            hasher.update(unique.to_le_bytes());
            hasher.update(std::process::id().to_le_bytes());
        }
    }
}

/// SHA-256 of a file, if it can be read.
pub fn file_sha256(path: &Path) -> Option<String> {
    std::fs::read(path)
        .ok()
        .map(|b| crate::load::hex(&Sha256::digest(b)))
}

/// The state the last successful build left, if any.
pub fn load(root: &Path) -> Option<BuildState> {
    let text = std::fs::read_to_string(root.join(CACHE_DIR).join(STATE_FILE)).ok()?;
    serde_json::from_str(&text).ok()
}

/// Records a successful build. Failing to write the cache only costs the next build
/// its shortcut, so errors are ignored.
pub fn store(root: &Path, state: &BuildState) {
    if let Ok(json) = serde_json::to_string_pretty(state) {
        replace_file(root, STATE_FILE, |out| out.write_all(json.as_bytes()));
    }
}

/// Writes the cache file `name` with `write`, replacing the old one only once
/// the new one is complete (written beside it, then renamed), so that a build
/// killed meanwhile leaves the old file or none, never half of one. A failure
/// only costs the next build a shortcut: it is not reported.
pub fn replace_file(
    root: &Path,
    name: &str,
    write: impl FnOnce(&mut std::io::BufWriter<std::fs::File>) -> std::io::Result<()>,
) {
    if std::fs::create_dir_all(root.join(CACHE_DIR)).is_ok() {
        if let Some(staged) = stage_file(root, name, write) {
            staged.keep();
        }
    }
}

/// A new cache file written beside the one it replaces, and put in its place
/// only by [`StagedFile::keep`]: a build may write one before it knows it
/// will succeed (on a core that would idle), and one that fails leaves the
/// cache as it was, the new file being removed when it is dropped.
#[must_use = "a staged file is removed unless kept"]
pub struct StagedFile {
    written: PathBuf,
    name: PathBuf,
}

impl StagedFile {
    /// Puts the file in place of the one it replaces.
    pub fn keep(self) {
        let _ = std::fs::rename(&self.written, &self.name);
    }
}

impl Drop for StagedFile {
    fn drop(&mut self) {
        // Nothing is left after `keep` has renamed it.
        let _ = std::fs::remove_file(&self.written);
    }
}

/// Writes the cache file `name` with `write` beside it, in a cache folder
/// that exists; `None` if that fails (nothing is left then).
pub fn stage_file(
    root: &Path,
    name: &str,
    write: impl FnOnce(&mut std::io::BufWriter<std::fs::File>) -> std::io::Result<()>,
) -> Option<StagedFile> {
    let dir = root.join(CACHE_DIR);
    let staged = StagedFile {
        written: dir.join(format!("{name}.tmp")),
        name: dir.join(name),
    };
    let written = std::fs::File::create(&staged.written).and_then(|file| {
        let mut out = std::io::BufWriter::new(file);
        write(&mut out)?;
        out.flush()
    });
    written.ok().map(|()| staged)
}

const OUTPUT_MANIFEST: &str = "output-manifest.bin";
const SPARE_MANIFEST: &str = "spare-manifest.bin";
/// When the live site was finished (`<manifest id> <seconds>.<nanoseconds>`),
/// and the spare's, moved along as the manifests are: a folder of it changed
/// after that was changed by hand (see [`crate::output::Holdings::present_in`]).
const OUTPUT_FINISHED: &str = "output-finished.txt";
const SPARE_FINISHED: &str = "spare-finished.txt";

/// What the site of manifest `id` holds, from the last two sites' manifests
/// (the live output's, then the spare's: the site before it, kept beside the
/// output for reuse). A large site's manifest lists hundreds of thousands of
/// files, so only the one asked for is read whole: each file begins with its id.
pub fn load_holdings(root: &Path, id: &str) -> Option<crate::output::Holdings> {
    [SPARE_MANIFEST, OUTPUT_MANIFEST].iter().find_map(|name| {
        let bytes = std::fs::read(root.join(CACHE_DIR).join(name)).ok()?;
        if crate::output::Manifest::id_of(&bytes) != Some(id) {
            return None;
        }
        crate::output::Holdings::decode(&bytes)
    })
}

/// When the site of manifest `id` was finished, if recorded.
pub fn finished(root: &Path, id: &str) -> Option<std::time::SystemTime> {
    [SPARE_FINISHED, OUTPUT_FINISHED].iter().find_map(|name| {
        let text = std::fs::read_to_string(root.join(CACHE_DIR).join(name)).ok()?;
        let (of, at) = text.trim().split_once(' ')?;
        let (secs, nanos) = at.split_once('.')?;
        let at = std::time::Duration::new(secs.parse().ok()?, nanos.parse().ok()?);
        (of == id).then(|| std::time::UNIX_EPOCH + at)
    })
}

/// Records the manifest of the site just built; the live site's becomes the
/// spare's, as its folder does (moved, not read: if it does not describe that
/// folder, the folder's marker says so and the next build does not reuse it).
pub fn store_manifests(root: &Path, output: &crate::output::Manifest) {
    let dir = root.join(CACHE_DIR);
    if std::fs::create_dir_all(&dir).is_err() {
        return;
    }
    if std::fs::rename(dir.join(OUTPUT_MANIFEST), dir.join(SPARE_MANIFEST)).is_err() {
        let _ = std::fs::remove_file(dir.join(SPARE_MANIFEST));
    }
    replace_file(root, OUTPUT_MANIFEST, |out| out.write_all(&output.encode()));
    if std::fs::rename(dir.join(OUTPUT_FINISHED), dir.join(SPARE_FINISHED)).is_err() {
        let _ = std::fs::remove_file(dir.join(SPARE_FINISHED));
    }
    // Taken after the site was swapped in: every folder of it was last
    // written before this.
    if let Ok(since) = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH) {
        let line = format!(
            "{} {}.{:09}\n",
            output.id,
            since.as_secs(),
            since.subsec_nanos()
        );
        replace_file(root, OUTPUT_FINISHED, |out| out.write_all(line.as_bytes()));
    }
    // Their names before they were binary, left by an older annals.
    for old in ["output-manifest.json", "spare-manifest.json", "pages.json"] {
        let _ = std::fs::remove_file(dir.join(old));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn framed_files_read_back_only_whole_and_for_their_key() {
        let bytes = framed(b"annals-test-0001", 7, |out| {
            out.extend_from_slice(b"payload")
        });
        let payload: &[u8] = b"payload";
        assert_eq!(unframed(&bytes, b"annals-test-0001", 7), Some(payload));
        assert_eq!(unframed(&bytes, b"annals-test-0001", 8), None);
        assert_eq!(unframed(&bytes, b"annals-test-0002", 7), None);
        assert_eq!(
            unframed(&bytes[..bytes.len() - 1], b"annals-test-0001", 7),
            None
        );
        assert_eq!(unframed(b"", b"annals-test-0001", 7), None);
    }

    #[test]
    fn the_fingerprint_stamps_every_input_file_and_never_matches_a_fresh_one() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        let files = [
            "content/documents/2019/a.md",
            "content/documents/2019/scan.pdf",
            "content/topics/x.md",
            "themes/default/templates/base.html",
        ];
        for file in files {
            std::fs::create_dir_all(root.join(file).parent().unwrap()).unwrap();
            std::fs::write(root.join(file), file).unwrap();
        }
        let first = fingerprint(root, "options");
        let mut stamped: Vec<&Path> = first.stamps.keys().map(Path::new).collect();
        stamped.sort();
        let expected: Vec<PathBuf> = files.iter().map(|f| root.join(f)).collect();
        assert_eq!(
            stamped,
            expected.iter().map(PathBuf::as_path).collect::<Vec<_>>()
        );
        assert_eq!(
            first.stamps[root.join(files[0]).as_os_str()],
            FileStamp::of(&root.join(files[0])).unwrap()
        );
        // Files written just now have not settled: the same files give another
        // fingerprint, so that the next build looks at them.
        assert_ne!(fingerprint(root, "options").key, first.key);
    }
}
