//! The last stage: write the site into a staging folder next to the output and swap
//! it in only when the whole build succeeded, so a failed or interrupted build never
//! leaves a half-written site, and the previous one stays exactly as it was.
//!
//! - One build at a time per output: a build holds an exclusive lock (`flock`) on
//!   `.<name>.annals-lock` beside the output from start to swap; a second build of
//!   the same output fails at once, saying so, instead of interleaving its files.
//! - The swap is one atomic step on Linux (`renameat2` with `RENAME_EXCHANGE`):
//!   at every instant the output path is either the complete old site or the
//!   complete new one. Elsewhere it is two renames, and a build killed between them
//!   leaves the old site beside the output, which the next build puts back.
//! - The site replaced by the swap is not deleted: it stays beside the output as
//!   `.<name>.annals-spare`, and the next build takes it as its staging folder,
//!   writing only the files whose bytes differ from what it holds (known from its
//!   manifest, matched by the id in its marker file) and removing the ones no
//!   longer produced. An edit that changes a few pages writes a few files, and the
//!   atomic swap still holds. A spare whose marker matches no known manifest is
//!   removed and a fresh staging folder written instead.
//! - A build killed at any point (SIGINT, SIGKILL) leaves only hidden
//!   `.<name>.annals-staging-*` / `-old-*` folders beside the output; the next
//!   build, holding the lock, removes them.

use crate::render::OutputFile;
use std::collections::{BTreeMap, BTreeSet};
use std::io;
use std::path::{Path, PathBuf};

/// Marker file that identifies a folder as annals output. The build refuses to
/// replace an existing, non-empty folder without it: `--output ~/Documents` by
/// mistake must not delete anything.
pub const MARKER: &str = ".annals-output";

/// A build being written. Dropping it without [`Staging::commit`] removes it.
pub struct Staging {
    dir: PathBuf,
    /// Where the previous site is kept after the swap.
    spare: PathBuf,
    output: PathBuf,
    /// What the folder already holds (a reused spare).
    holds: Holdings,
    /// Folders known to exist in the staging folder.
    made_dirs: std::sync::Mutex<std::collections::HashSet<PathBuf>>,
    /// The live site's folder and the staging folder, open, for hard links
    /// made relative to them (see [`Staging::keep`]); none if the live site
    /// is absent or either cannot be opened.
    #[cfg(unix)]
    folders: Option<(rustix::fd::OwnedFd, rustix::fd::OwnedFd)>,
    committed: bool,
    // Held until the staging folder is swapped in or removed (fields drop in order).
    _lock: OutputLock,
}

/// Problems that stop a build from writing.
#[derive(Debug)]
pub enum OutputError {
    /// The output path is unsafe to replace (explained).
    Refused(String),
    /// An I/O error, with the path concerned.
    Io(PathBuf, io::Error),
}

impl std::fmt::Display for OutputError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            OutputError::Refused(msg) => f.write_str(msg),
            OutputError::Io(path, e) => write!(f, "{}: {e}", path.display()),
        }
    }
}

fn io_err(path: &Path) -> impl FnOnce(io::Error) -> OutputError + '_ {
    move |e| OutputError::Io(path.to_path_buf(), e)
}

impl Staging {
    /// Prepares a fresh staging folder beside `output`, after checking that `output`
    /// is a folder annals may replace (not the site root or one of its parents, and
    /// either absent, empty, or built by annals). Leftovers of interrupted builds
    /// are removed.
    ///
    /// `spare` describes the spare folder left by the previous build, as far as
    /// the caller knows (see [`spare_folder`]): when the folder's marker carries
    /// its id, the folder becomes the staging folder and only files whose bytes
    /// differ are written into it.
    pub fn begin(
        output: &Path,
        site_root: &Path,
        spare: Option<Holdings>,
    ) -> Result<Staging, OutputError> {
        let output = absolute(output);
        let root = absolute(site_root);
        // Checked as written and with symbolic links resolved: `-o t/static/x`,
        // where `t` links to `themes/default`, is inside the theme too.
        let (real_output, real_root) = (resolved(&output), resolved(&root));
        let places = [(&output, &root), (&real_output, &real_root)];
        if places.iter().any(|(output, root)| root.starts_with(output)) {
            return Err(OutputError::Refused(format!(
                "refusing to write the site to {}: it contains the archive's own files",
                output.display()
            )));
        }
        // The cache holds the build's manifests and records, which must never
        // be published (nor the site written where the next build reads them).
        for protected in ["content", "themes", crate::cache::CACHE_DIR] {
            if places
                .iter()
                .any(|(output, root)| output.starts_with(root.join(protected)))
            {
                return Err(OutputError::Refused(format!(
                    "refusing to write the site into the archive's {protected}/ folder"
                )));
            }
        }
        if output.exists() && !output.is_dir() {
            return Err(OutputError::Refused(format!(
                "refusing to replace {}: it is not a folder",
                output.display()
            )));
        }
        if output.is_dir() && !output.join(MARKER).exists() {
            let mut entries = std::fs::read_dir(&output).map_err(io_err(&output))?;
            if entries.next().is_some() {
                return Err(OutputError::Refused(format!(
                    "refusing to replace {}: it is not empty and was not built by annals (no {MARKER} file); remove it or choose another --output",
                    output.display()
                )));
            }
        }
        let (parent, name) = parent_and_name(&output);
        std::fs::create_dir_all(&parent).map_err(io_err(&parent))?;
        let lock = OutputLock::acquire(&parent, &name, &output)?;
        recover_and_clean(&parent, &name, &output);
        let dir = parent.join(format!(".{name}.annals-staging-{}", std::process::id()));
        if dir.exists() {
            std::fs::remove_dir_all(&dir).map_err(io_err(&dir))?;
        }
        let spare_holds = spare;
        let spare = spare_folder(&output);
        // The spare is reused only if it is exactly the site a known manifest
        // describes; it is renamed to the staging name first, so that a build killed
        // while updating it leaves a leftover the next build removes, never a spare
        // that lies about its contents.
        let spare_id = marker_id(&spare);
        let holds = match spare_holds.filter(|h| spare_id.as_deref() == Some(h.id.as_str())) {
            Some(holds) if std::fs::rename(&spare, &dir).is_ok() => holds,
            _ => {
                if spare.exists() {
                    std::fs::remove_dir_all(&spare).map_err(io_err(&spare))?;
                }
                std::fs::create_dir_all(&dir).map_err(io_err(&dir))?;
                Holdings::default()
            }
        };
        write_marker(&dir, None).map_err(io_err(&dir))?;
        #[cfg(unix)]
        let folders = {
            use rustix::fs::{Mode, OFlags};
            let open = |path: &Path| {
                let flags = OFlags::DIRECTORY | OFlags::RDONLY | OFlags::CLOEXEC;
                rustix::fs::open(path, flags, Mode::empty()).ok()
            };
            open(&output).zip(open(&dir))
        };
        Ok(Staging {
            dir,
            spare,
            output,
            holds,
            made_dirs: Default::default(),
            #[cfg(unix)]
            folders,
            committed: false,
            _lock: lock,
        })
    }

    /// Writes one file into the staging folder, unless the folder (a reused spare)
    /// already holds these bytes: `sha256` is their hex digest.
    pub fn write(&self, file: &OutputFile, sha256: &str) -> Result<(), OutputError> {
        let path = self.target(&file.path)?;
        let held = self.holds.of(&file.path, sha256);
        if held == Held::Same {
            return Ok(());
        }
        if held == Held::Other {
            if write_through(&path, &file.bytes) {
                return Ok(());
            }
            // The spare's file may be a hard link shared with the live site (see
            // `keep`): replace it, never write through it.
            let tmp = temporary_beside(&path);
            std::fs::write(&tmp, &file.bytes).map_err(io_err(&tmp))?;
            return std::fs::rename(&tmp, &path).map_err(io_err(&path));
        }
        if let Some(parent) = path.parent() {
            self.ensure_dir(parent)?;
        }
        // Nothing is there unless this build put it there: a page rendered
        // after its files could not all be kept from the live site (see
        // `keep`) may find some of them linked already, shared with the live
        // site, and must replace them, never write through them.
        let created = std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&path);
        match created {
            Ok(mut new) => {
                use std::io::Write;
                new.write_all(&file.bytes).map_err(io_err(&path))
            }
            Err(e) if e.kind() == io::ErrorKind::AlreadyExists => {
                let tmp = temporary_beside(&path);
                std::fs::write(&tmp, &file.bytes).map_err(io_err(&tmp))?;
                std::fs::rename(&tmp, &path).map_err(io_err(&path))
            }
            Err(e) => Err(OutputError::Io(path, e)),
        }
    }

    /// The staging folder, swapped in for the output by [`Staging::commit`].
    pub fn folder(&self) -> &Path {
        &self.dir
    }

    /// Whether the staging folder holds these bytes at `site_path` already
    /// (then [`Staging::keep`] has nothing to do).
    pub fn holds(&self, site_path: &str, sha256: &str) -> bool {
        self.holds.of(site_path, sha256) == Held::Same
    }

    /// Takes a file unchanged from the live site (a page not rendered again), unless
    /// the staging folder already holds these bytes.
    pub fn keep(&self, site_path: &str, sha256: &str) -> Result<(), OutputError> {
        let held = self.holds.of(site_path, sha256);
        if held == Held::Same {
            return Ok(());
        }
        let path = self.target(site_path)?;
        if held == Held::Other {
            match std::fs::remove_file(&path) {
                Ok(()) => {}
                Err(e) if e.kind() == io::ErrorKind::NotFound => {}
                Err(e) => return Err(OutputError::Io(path, e)),
            }
        } else if let Some(parent) = path.parent() {
            self.ensure_dir(parent)?;
        }
        // A hard link costs no copy and no new inode; files are only ever replaced
        // (never written through), so sharing one with the live site is safe.
        // Made relative to the two open folders, so that their own paths are
        // not looked up again for each file: the first build after a clean one
        // links every unchanged file (57,000 at 10k documents).
        #[cfg(unix)]
        if let Some((live, staging)) = &self.folders {
            let flags = rustix::fs::AtFlags::empty();
            if rustix::fs::linkat(live, site_path, staging, site_path, flags).is_ok() {
                return Ok(());
            }
        }
        let live = self.output.join(site_path);
        if std::fs::hard_link(&live, &path).is_ok() {
            return Ok(());
        }
        // Copied beside and renamed: a file already there (put by hand in a
        // folder that was live) may share its bytes with the live site.
        let tmp = temporary_beside(&path);
        std::fs::copy(&live, &tmp).map_err(io_err(&live))?;
        std::fs::rename(&tmp, &path).map_err(io_err(&path))
    }

    /// Copies a file from the content folder into the staging folder, unless it
    /// already holds these bytes.
    pub fn copy(&self, source: &Path, site_path: &str, sha256: &str) -> Result<(), OutputError> {
        let path = self.target(site_path)?;
        let held = self.holds.of(site_path, sha256);
        if held == Held::Same {
            return Ok(());
        }
        if held == Held::Other {
            let tmp = temporary_beside(&path);
            std::fs::copy(source, &tmp).map_err(io_err(source))?;
            return std::fs::rename(&tmp, &path).map_err(io_err(&path));
        }
        if let Some(parent) = path.parent() {
            self.ensure_dir(parent)?;
        }
        std::fs::copy(source, &path)
            .map(|_| ())
            .map_err(io_err(source))
    }

    /// Creates `dir` (and its parents) once per build: a page's files share a
    /// folder, and every redundant `mkdir` still locks the parent folder, which the
    /// writing threads contend for (all document folders live in one).
    fn ensure_dir(&self, dir: &Path) -> Result<(), OutputError> {
        let known = |d: &Path| {
            self.made_dirs
                .lock()
                .map(|set| set.contains(d))
                .unwrap_or(false)
        };
        if known(dir) {
            return Ok(());
        }
        std::fs::create_dir_all(dir).map_err(io_err(dir))?;
        if let Ok(mut set) = self.made_dirs.lock() {
            set.insert(dir.to_path_buf());
        }
        Ok(())
    }

    fn target(&self, site_path: &str) -> Result<PathBuf, OutputError> {
        let clean = site_path
            .split('/')
            .all(|s| !s.is_empty() && s != "." && s != "..");
        if !clean {
            return Err(OutputError::Refused(format!(
                "invalid output path `{site_path}`"
            )));
        }
        Ok(self.dir.join(site_path))
    }

    /// Removes what a reused spare holds beyond `manifest`, marks the staged site
    /// as the one `manifest` describes, and swaps it in place of the output folder.
    /// The previous site is kept beside it as the spare for the next build (which
    /// then writes only what changed) instead of being deleted now.
    pub fn commit(mut self, manifest: &Manifest) -> Result<(), OutputError> {
        let mut emptied: BTreeSet<PathBuf> = BTreeSet::new();
        let mut stale = unlisted(self.holds.paths(), manifest);
        // In path order, as the manifest lists them.
        stale.sort_unstable();
        for stale in stale {
            let path = self.target(stale)?;
            match std::fs::remove_file(&path) {
                Ok(()) => {}
                Err(e) if e.kind() == io::ErrorKind::NotFound => {}
                Err(e) => return Err(OutputError::Io(path, e)),
            }
            emptied.extend(path.parent().map(Path::to_path_buf));
        }
        // Folders left empty go too, deepest first (a folder that is not empty stays).
        for dir in emptied.iter().rev() {
            let mut dir = dir.as_path();
            while dir.starts_with(&self.dir) && dir != self.dir && std::fs::remove_dir(dir).is_ok()
            {
                match dir.parent() {
                    Some(parent) => dir = parent,
                    None => break,
                }
            }
        }
        write_marker(&self.dir, Some(&manifest.id)).map_err(io_err(&self.dir))?;
        if self.output.exists() && exchange(&self.dir, &self.output).is_ok() {
            // The old site is now at the staging path: it becomes the spare.
            self.committed = true;
            if std::fs::rename(&self.dir, &self.spare).is_err() {
                let _ = std::fs::remove_dir_all(&self.dir);
            }
            return Ok(());
        }
        let old = self.dir.with_file_name(format!(
            ".{}.annals-old-{}",
            self.output
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default(),
            std::process::id()
        ));
        let had_output = self.output.exists();
        if had_output {
            std::fs::rename(&self.output, &old).map_err(io_err(&self.output))?;
        }
        if let Err(e) = std::fs::rename(&self.dir, &self.output) {
            if had_output {
                let _ = std::fs::rename(&old, &self.output);
            }
            return Err(OutputError::Io(self.output.clone(), e));
        }
        self.committed = true;
        if had_output && std::fs::rename(&old, &self.spare).is_err() {
            let _ = std::fs::remove_dir_all(&old);
        }
        Ok(())
    }
}

/// What a reused spare folder holds, by site path: the first 16 bytes of each
/// file's SHA-256 (collision-resistant still; the manifest has all 64 hex
/// digits). A large site's spare holds over half a million files, held through
/// the whole build, so the paths are kept back to back in one string and found
/// through a table of numbers: about 50 bytes a file, where a map of boxed
/// paths to digests took 125 (70 MB at 100,000 documents).
#[derive(Debug, Default)]
pub struct Holdings {
    /// The id of the manifest the files are from.
    id: String,
    /// Every file's site path, one after the other.
    paths: String,
    /// Each file, in the order of `paths`.
    files: Vec<HeldFile>,
    /// Numbers of `files`, found by a hash of the path.
    table: hashbrown::HashTable<u32>,
}

/// The digest of a held file whose bytes are not known (see
/// [`Holdings::present_in`]): no SHA-256 starts with 16 zero bytes that anyone
/// has found.
const UNKNOWN_BYTES: [u8; 16] = [0; 16];

/// One held file: where its path ends in [`Holdings::paths`] (it starts where
/// the previous file's ends), and its digest's first 16 bytes.
#[derive(Debug, Clone, Copy)]
struct HeldFile {
    end: u32,
    digest: [u8; 16],
}

/// Whether a folder holds a file, and with which bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Held {
    /// Not at all.
    No,
    /// With the bytes asked about.
    Same,
    /// With other bytes.
    Other,
}

impl Holdings {
    /// Holdings of manifest `id`, filled by [`Holdings::add`].
    pub fn new(id: String) -> Holdings {
        Holdings {
            id,
            ..Holdings::default()
        }
    }

    /// Records that the folder holds `site_path` with the bytes whose SHA-256
    /// is `sha256` (hex). `None` if the paths outgrow the table's numbers (four
    /// billion bytes of paths): a spare that cannot be described is not reused.
    pub fn add(&mut self, site_path: &str, sha256: &str) -> Option<()> {
        self.add_digest(site_path, held_digest(sha256))
    }

    /// [`Holdings::add`], the digest as [`held_digest`] makes it.
    fn add_digest(&mut self, site_path: &str, digest: [u8; 16]) -> Option<()> {
        let end = u32::try_from(self.paths.len() + site_path.len()).ok()?;
        let number = u32::try_from(self.files.len()).ok()?;
        self.paths.push_str(site_path);
        self.files.push(HeldFile { end, digest });
        let hash = path_hash(site_path);
        // A path listed twice (a manifest never does) keeps its first entry.
        let (files, paths) = (&self.files, &self.paths);
        let same = |&n: &u32| held_path(paths, files, n as usize) == site_path;
        let rehash = |&n: &u32| path_hash(held_path(paths, files, n as usize));
        if let hashbrown::hash_table::Entry::Vacant(place) = self.table.entry(hash, same, rehash) {
            place.insert(number);
        }
        Some(())
    }

    /// The id of the manifest the files are from.
    pub fn id(&self) -> &str {
        &self.id
    }

    /// These holdings, with the files that may no longer be in `folder` as
    /// listed held with unknown bytes. A spare was the live site before: a
    /// file deleted from it by hand is still in its manifest, and a build
    /// staging into it must write that file again, not take it as held (and
    /// publish a site without it).
    ///
    /// With `finished`, when the folder's site was finished, only its folders
    /// are looked at: one changed since (a file added, removed or renamed in
    /// it; a hand edit of a file's bytes is not seen) has its files replaced.
    /// Its top folder, which the next build's swap touches, is checked file by
    /// file. Without it, every file is looked for (once: the next build
    /// records it). 10,000 documents make 10,300 folders and 54,000 files.
    pub fn present_in(self, folder: &Path, finished: Option<std::time::SystemTime>) -> Holdings {
        #[cfg(unix)]
        let stat = {
            use rustix::fs::{Mode, OFlags};
            let flags = OFlags::DIRECTORY | OFlags::RDONLY | OFlags::CLOEXEC;
            let Ok(dir) = rustix::fs::open(folder, flags, Mode::empty()) else {
                return Holdings::default();
            };
            move |path: &str| -> Option<std::time::SystemTime> {
                let flags = rustix::fs::AtFlags::SYMLINK_NOFOLLOW;
                let st = rustix::fs::statat(&dir, path, flags).ok()?;
                let secs = u64::try_from(st.st_mtime).ok()?;
                let nanos = u32::try_from(st.st_mtime_nsec).ok()?;
                Some(std::time::UNIX_EPOCH + std::time::Duration::new(secs, nanos))
            }
        };
        #[cfg(not(unix))]
        let stat = |path: &str| {
            std::fs::symlink_metadata(folder.join(path))
                .ok()?
                .modified()
                .ok()
        };
        fn parent(path: &str) -> Option<&str> {
            path.rfind('/').map(|i| &path[..i])
        }
        let changed: std::collections::HashSet<&str> = match finished {
            Some(finished) => {
                let mut folders: Vec<&str> = self.paths().filter_map(parent).collect();
                folders.sort_unstable();
                folders.dedup();
                folders
                    .into_iter()
                    .filter(|f| stat(f).is_none_or(|at| at > finished))
                    .collect()
            }
            None => Default::default(),
        };
        let gone = |path: &str| match (finished, parent(path)) {
            (Some(_), Some(folder)) => changed.contains(folder),
            _ => stat(path).is_none(),
        };
        let missing: Vec<usize> = (0..self.files.len())
            .filter(|&n| gone(held_path(&self.paths, &self.files, n)))
            .collect();
        // Held with bytes no file has: a file there is replaced, never written
        // through or linked over (it may be a hard link into the live site).
        let mut holdings = self;
        for n in missing {
            holdings.files[n].digest = UNKNOWN_BYTES;
        }
        holdings
    }

    /// Frees the spare capacity the filling left.
    pub fn shrink(&mut self) {
        self.paths.shrink_to_fit();
        self.files.shrink_to_fit();
        let (files, paths) = (&self.files, &self.paths);
        self.table
            .shrink_to_fit(|&n| path_hash(held_path(paths, files, n as usize)));
    }

    /// The held file at `site_path`, if any.
    fn find(&self, site_path: &str) -> Option<&HeldFile> {
        let (files, paths) = (&self.files, &self.paths);
        let n = *self.table.find(path_hash(site_path), |&n| {
            held_path(paths, files, n as usize) == site_path
        })?;
        files.get(n as usize)
    }

    /// Every held file's site path.
    fn paths(&self) -> impl Iterator<Item = &str> + Clone + '_ {
        (0..self.files.len()).map(|n| held_path(&self.paths, &self.files, n))
    }

    /// Whether the folder holds `site_path`, and with the bytes whose SHA-256 is
    /// `sha256` (hex).
    fn of(&self, site_path: &str, sha256: &str) -> Held {
        match self.find(site_path) {
            None => Held::No,
            Some(held) if unhex32(sha256).map(|d| first16(&d)) == Some(held.digest) => Held::Same,
            Some(_) => Held::Other,
        }
    }
}

impl From<Manifest> for Holdings {
    fn from(manifest: Manifest) -> Holdings {
        let mut holds = Holdings::new(manifest.id);
        for (path, sha256) in &manifest.files {
            if holds.add(path, sha256).is_none() {
                return Holdings::default();
            }
        }
        holds.shrink();
        holds
    }
}

/// A manifest's cache file: its id, then each file's path and digest, in a
/// [`crate::cache::framed`] frame. A large site's manifest lists over half a
/// million files; this reads and writes them without a parser or a copy per
/// entry (JSON took about ten times as long).
const MANIFEST_MAGIC: &[u8; 16] = b"annals-manifest2";

impl Manifest {
    /// The manifest's cache file bytes (see [`MANIFEST_MAGIC`]).
    pub fn encode(&self) -> Vec<u8> {
        use crate::bytes::{push_number, push_str};
        // Each digest as the 16 bytes a spare's holdings compare (see
        // [`Holdings::add`]), not 64 hex digits: the file is written by every
        // build and read by the next, 57,000 entries at 10k documents.
        crate::cache::framed(MANIFEST_MAGIC, 0, |out| {
            let paths: usize = self.files.iter().map(|(path, _)| path.len()).sum();
            out.reserve(paths + self.files.len() * (10 + 16) + 256);
            push_str(out, &self.id);
            push_number(out, self.files.len());
            for (path, sha256) in &self.files {
                push_str(out, path);
                out.extend_from_slice(&held_digest(sha256));
            }
        })
    }

    /// The id of the manifest whose cache file `bytes` are, read without
    /// checking the rest of the file.
    pub fn id_of(bytes: &[u8]) -> Option<&str> {
        crate::bytes::Reader::new(bytes.get(24..)?).str()
    }
}

impl Holdings {
    /// The holdings listed by a manifest's cache file ([`Manifest::encode`]);
    /// `None` if the file is damaged or cut short.
    pub fn decode(bytes: &[u8]) -> Option<Holdings> {
        let mut r = crate::bytes::Reader::new(crate::cache::unframed(bytes, MANIFEST_MAGIC, 0)?);
        let mut holds = Holdings::new(r.string()?);
        let count = r.count()?;
        // Room for every file at once: grown by doubling instead, the table
        // was hashed again at each step.
        holds.files.reserve(count);
        holds.paths.reserve(bytes.len().saturating_sub(count * 17));
        let (files, paths) = (&holds.files, &holds.paths);
        holds
            .table
            .reserve(count, |&n| path_hash(held_path(paths, files, n as usize)));
        for _ in 0..count {
            let path = r.str()?;
            let digest: [u8; 16] = r.take(16)?.try_into().ok()?;
            holds.add_digest(path, digest)?;
        }
        if !r.is_done() {
            return None;
        }
        holds.shrink();
        Some(holds)
    }
}

/// The path of file `n` of `files`, in `paths`.
fn held_path<'a>(paths: &'a str, files: &[HeldFile], n: usize) -> &'a str {
    let start = match n {
        0 => 0,
        _ => files.get(n - 1).map_or(0, |f| f.end as usize),
    };
    let end = files.get(n).map_or(start, |f| f.end as usize);
    paths.get(start..end).unwrap_or_default()
}

fn path_hash(site_path: &str) -> u64 {
    use std::hash::BuildHasher;
    rustc_hash::FxBuildHasher.hash_one(site_path)
}

fn first16(digest: &[u8; 32]) -> [u8; 16] {
    let mut out = [0; 16];
    out.copy_from_slice(&digest[..16]);
    out
}

/// The paths of `held` that `manifest` does not list. Both are in path
/// order when the holdings were read from a manifest (57,000 paths at 10k
/// documents), and are then walked side by side; otherwise each path is
/// looked up.
fn unlisted<'h>(held: impl Iterator<Item = &'h str> + Clone, manifest: &Manifest) -> Vec<&'h str> {
    let mut listed = manifest.files.iter().map(|(p, _)| p.as_str()).peekable();
    let mut stale = Vec::new();
    let mut last: Option<&str> = None;
    for path in held.clone() {
        if last.is_some_and(|last| last >= path) {
            return held.filter(|p| !manifest.lists(p)).collect();
        }
        last = Some(path);
        while listed.next_if(|&l| l < path).is_some() {}
        if listed.peek() != Some(&path) {
            stale.push(path);
        }
    }
    stale
}

/// What holdings keep of a file's SHA-256 (hex): its first 16 bytes. A
/// digest that is not one stands for other bytes (zeros): the file is
/// replaced, never written through.
fn held_digest(sha256: &str) -> [u8; 16] {
    unhex32(sha256).map_or([0; 16], |d| first16(&d))
}

/// Each byte's value as a lowercase hex digit, or 16 if it is none.
const HEX_VALUE: [u8; 256] = {
    let mut table = [16; 256];
    let mut d = 0;
    while d < 16 {
        table[b"0123456789abcdef"[d] as usize] = d as u8;
        d += 1;
    }
    table
};

/// The 32 bytes written as 64 hex digits in `hex`. (Called for every file
/// of the site, by a table lookup per digit.)
fn unhex32(hex: &str) -> Option<[u8; 32]> {
    let digits: &[u8; 64] = hex.as_bytes().try_into().ok()?;
    let mut out = [0; 32];
    let mut invalid = 0;
    for (byte, pair) in out.iter_mut().zip(digits.chunks_exact(2)) {
        let (high, low) = (HEX_VALUE[pair[0] as usize], HEX_VALUE[pair[1] as usize]);
        invalid |= high | low;
        *byte = high << 4 | (low & 15);
    }
    (invalid & 16 == 0).then_some(out)
}

/// What one built site holds: every file's site path and the SHA-256 of its bytes,
/// and an id derived from them that is written into the site's marker file, so a
/// folder can be matched to its manifest (the same site always gets the same id).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Manifest {
    /// SHA-256 of the sorted (path, digest) list.
    pub id: String,
    /// Each file's site path and the SHA-256 (hex) of its bytes, by path, each
    /// path once; the marker file is not listed.
    pub files: Vec<(String, String)>,
}

impl Manifest {
    /// Whether the site has a file at `site_path`.
    pub fn lists(&self, site_path: &str) -> bool {
        (self.files)
            .binary_search_by(|(path, _)| path.as_str().cmp(site_path))
            .is_ok()
    }

    /// The manifest of a site made of `files` (site path, SHA-256 hex; of a
    /// path listed twice, the last).
    pub fn new(files: impl IntoIterator<Item = (String, String)>) -> Manifest {
        let files: BTreeMap<String, String> = files.into_iter().collect();
        Manifest::of_sorted(files.into_iter().collect())
    }

    /// The manifest of a site made of `files` (site path, SHA-256 hex),
    /// sorted by path, each path once: a build's files are, and are taken as
    /// they are rather than copied into a map (57,000 at 10k documents).
    pub fn of_sorted(files: Vec<(String, String)>) -> Manifest {
        use sha2::{Digest, Sha256};
        let mut hasher = Sha256::new();
        for (path, digest) in &files {
            hasher.update(path.as_bytes());
            hasher.update([0]);
            hasher.update(digest.as_bytes());
            hasher.update([b'\n']);
        }
        Manifest {
            id: crate::load::hex(&hasher.finalize()),
            files,
        }
    }
}

const MARKER_TEXT: &str = "This folder was generated by annals build.\n";

/// Writes the marker file; `id` is the manifest id of a finished site, `None` while
/// the folder is being written.
fn write_marker(dir: &Path, id: Option<&str>) -> io::Result<()> {
    let text = match id {
        Some(id) => format!("{MARKER_TEXT}manifest {id}\n"),
        None => MARKER_TEXT.to_string(),
    };
    std::fs::write(dir.join(MARKER), text)
}

/// Where the site replaced by a build into `output` is kept for the next
/// build: `.<name>.annals-spare` beside it.
pub fn spare_folder(output: &Path) -> PathBuf {
    let (parent, name) = parent_and_name(&absolute(output));
    parent.join(format!(".{name}.annals-spare"))
}

/// The folder an output is in, and its name, which the build's lock, staging
/// and spare folders beside it are named after.
fn parent_and_name(output: &Path) -> (PathBuf, String) {
    let parent = output
        .parent()
        .map(Path::to_path_buf)
        .unwrap_or_else(|| PathBuf::from("."));
    let name = output
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "public".into());
    (parent, name)
}

/// The manifest id recorded in a folder's marker file, if it is a finished site.
pub fn marker_id(dir: &Path) -> Option<String> {
    let text = std::fs::read_to_string(dir.join(MARKER)).ok()?;
    let id = text.lines().find_map(|l| l.strip_prefix("manifest "))?;
    Some(id.to_string())
}

impl Drop for Staging {
    fn drop(&mut self) {
        if !self.committed {
            let _ = std::fs::remove_dir_all(&self.dir);
        }
    }
}

/// Overwrites the spare's file at `path` in place when no other folder shares
/// it: a file rewritten by the last build has one link, while one taken
/// unchanged from the live site (see [`Staging::keep`]) has two. Reusing the
/// inode matters on ext4 without a journal, where every new inode skips those
/// freed in the last minute: replacing each of 10,000 pages by a new file
/// (after a theme change) frees and allocates 10,000 inodes. `false`, having
/// changed nothing, when the file is shared, not a plain file (a symbolic link
/// is never followed), or cannot be opened; the caller then replaces it.
#[cfg(unix)]
fn write_through(path: &Path, bytes: &[u8]) -> bool {
    use std::io::Write;
    use std::os::unix::fs::{MetadataExt, OpenOptionsExt};
    let opened = std::fs::OpenOptions::new()
        .write(true)
        .custom_flags(libc::O_NOFOLLOW)
        .open(path);
    let Ok(mut file) = opened else {
        return false;
    };
    match file.metadata() {
        Ok(meta) if meta.is_file() && meta.nlink() == 1 => {
            // A failure part-way leaves a damaged file in the staging folder
            // only, which a failed build removes whole.
            let written = file.write_all(bytes).is_ok();
            let sized =
                meta.len() <= bytes.len() as u64 || file.set_len(bytes.len() as u64).is_ok();
            written && sized
        }
        _ => false,
    }
}

#[cfg(not(unix))]
fn write_through(_: &Path, _: &[u8]) -> bool {
    false
}

/// A temporary name next to `path`, for writing a file before renaming it over
/// `path` (hidden, and removed with the staging folder if the build dies).
fn temporary_beside(path: &Path) -> PathBuf {
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    path.with_file_name(format!(".{name}.annals-tmp"))
}

/// Swaps two existing paths in one atomic step, where the system can.
#[cfg(target_os = "linux")]
fn exchange(a: &Path, b: &Path) -> io::Result<()> {
    use rustix::fs::{renameat_with, RenameFlags, CWD};
    renameat_with(CWD, a, CWD, b, RenameFlags::EXCHANGE).map_err(io::Error::from)
}

#[cfg(not(target_os = "linux"))]
fn exchange(_: &Path, _: &Path) -> io::Result<()> {
    Err(io::Error::from(io::ErrorKind::Unsupported))
}

/// Cleans up after builds of this output that were killed (called with the lock
/// held, so none of them is still running): an old site left by a build killed
/// mid-swap is put back if the output is missing, and every staging and old folder
/// is removed.
fn recover_and_clean(parent: &Path, name: &str, output: &Path) {
    let Ok(entries) = std::fs::read_dir(parent) else {
        return;
    };
    let mut leftovers: Vec<(bool, PathBuf)> = entries
        .flatten()
        .filter_map(|entry| {
            let file_name = entry.file_name().to_string_lossy().into_owned();
            if file_name.starts_with(&format!(".{name}.annals-old-")) {
                Some((true, entry.path()))
            } else if file_name.starts_with(&format!(".{name}.annals-staging-")) {
                Some((false, entry.path()))
            } else {
                None
            }
        })
        .collect();
    leftovers.sort();
    for (is_old, path) in leftovers {
        let complete = is_old && path.join(MARKER).is_file();
        if complete && !output.exists() && std::fs::rename(&path, output).is_ok() {
            continue;
        }
        let _ = std::fs::remove_dir_all(&path);
    }
}

/// The exclusive right to write one output folder, held through a lock file
/// beside it. The kernel releases the lock when the process dies, however it dies.
struct OutputLock {
    path: PathBuf,
    #[cfg(unix)]
    _file: std::fs::File,
}

impl OutputLock {
    #[cfg(unix)]
    fn acquire(parent: &Path, name: &str, output: &Path) -> Result<OutputLock, OutputError> {
        use rustix::fs::{flock, FlockOperation};
        use std::os::unix::fs::MetadataExt;
        let path = parent.join(format!(".{name}.annals-lock"));
        let busy = || {
            OutputError::Refused(format!(
                "another build is writing {} (it holds {}); wait for it to finish",
                output.display(),
                path.display()
            ))
        };
        let file = std::fs::OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&path)
            .map_err(io_err(&path))?;
        match flock(&file, FlockOperation::NonBlockingLockExclusive) {
            Ok(()) => {}
            Err(rustix::io::Errno::WOULDBLOCK) => return Err(busy()),
            Err(e) => return Err(OutputError::Io(path, e.into())),
        }
        // A build finishing just now may have removed the file we opened: the lock
        // counts only if it is still the file at that path.
        let same = match (file.metadata(), std::fs::metadata(&path)) {
            (Ok(a), Ok(b)) => a.dev() == b.dev() && a.ino() == b.ino(),
            _ => false,
        };
        if !same {
            return Err(busy());
        }
        Ok(OutputLock { path, _file: file })
    }

    #[cfg(not(unix))]
    fn acquire(parent: &Path, name: &str, _output: &Path) -> Result<OutputLock, OutputError> {
        Ok(OutputLock {
            path: parent.join(format!(".{name}.annals-lock")),
        })
    }
}

impl Drop for OutputLock {
    fn drop(&mut self) {
        // Removed while still held, so no other build can lock the doomed file.
        let _ = std::fs::remove_file(&self.path);
    }
}

/// `path` (absolute, normalised) with the symbolic links of its longest
/// existing part resolved; the rest, not made yet, appended as written.
fn resolved(path: &Path) -> PathBuf {
    let mut existing = path.to_path_buf();
    let mut rest = Vec::new();
    loop {
        if let Ok(real) = existing.canonicalize() {
            return rest.iter().rev().fold(real, |p, c| p.join(c));
        }
        match (
            existing.file_name().map(|n| n.to_os_string()),
            existing.parent(),
        ) {
            (Some(name), Some(parent)) => {
                rest.push(name);
                existing = parent.to_path_buf();
            }
            _ => return path.to_path_buf(),
        }
    }
}

fn absolute(path: &Path) -> PathBuf {
    let abs = if path.is_absolute() {
        path.to_path_buf()
    } else {
        std::env::current_dir().unwrap_or_default().join(path)
    };
    // Normalise `.` and `..` lexically; the folder may not exist yet.
    let mut out = PathBuf::new();
    for c in abs.components() {
        match c {
            std::path::Component::ParentDir => {
                out.pop();
            }
            std::path::Component::CurDir => {}
            other => out.push(other),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_files_a_manifest_does_not_list_are_found_in_either_order() {
        let manifest = Manifest::new(
            ["b", "b/c.html", "d.html", "f"].map(|p| (p.to_string(), "0".repeat(64))),
        );
        let sorted = ["a", "b", "b/a.html", "b/c.html", "c", "d.html", "e", "g"];
        let stale = ["a", "b/a.html", "c", "e", "g"];
        assert_eq!(unlisted(sorted.into_iter(), &manifest), stale);
        let unsorted = ["g", "b", "a", "d.html", "c", "e", "b/a.html", "b/c.html"];
        let mut found = unlisted(unsorted.into_iter(), &manifest);
        found.sort_unstable();
        assert_eq!(found, stale);
        assert!(unlisted(["b", "f"].into_iter(), &manifest).is_empty());
        assert_eq!(unlisted(["z"].into_iter(), &manifest), ["z"]);
    }

    #[test]
    fn holdings_compare_digests_as_bytes() {
        let sha = |bytes: &[u8]| {
            use sha2::{Digest, Sha256};
            crate::load::hex(&Sha256::digest(bytes))
        };
        let manifest = Manifest::new([
            ("a.html".to_string(), sha(b"a")),
            ("b.html".to_string(), "not a digest".to_string()),
        ]);
        let holds = Holdings::from(manifest);
        assert_eq!(holds.of("a.html", &sha(b"a")), Held::Same);
        assert_eq!(holds.of("a.html", &sha(b"changed")), Held::Other);
        // A digest that does not read is other bytes: the file is replaced.
        assert_eq!(holds.of("b.html", &sha(b"b")), Held::Other);
        assert_eq!(holds.of("b.html", "not a digest"), Held::Other);
        assert_eq!(holds.of("c.html", &sha(b"a")), Held::No);
        assert_eq!(
            unhex32(&sha(b"a")).map(|d| crate::load::hex(&d)),
            Some(sha(b"a"))
        );
        let last_bad = format!("{}g", "0".repeat(63));
        let wide = format!("{}é", "0".repeat(62));
        for bad in [
            "",
            "0",
            &"g".repeat(64),
            &"A".repeat(64),
            &"0".repeat(63),
            &last_bad,
            &wide,
        ] {
            assert_eq!(unhex32(bad), None, "{bad}");
        }
    }

    #[test]
    fn holdings_read_from_a_manifest_file_are_the_manifests() {
        let sha = |bytes: &[u8]| {
            use sha2::{Digest, Sha256};
            crate::load::hex(&Sha256::digest(bytes))
        };
        // Many files, so that the table grows; paths that JSON escapes; one
        // path that is a prefix of another.
        let mut files: Vec<(String, String)> = (0..5000)
            .map(|n| {
                (
                    format!("documents/doc-{n:06}/index.html"),
                    sha(&[n as u8, 1]),
                )
            })
            .collect();
        files.push(("a \"quoted\" \\ path/é.html".into(), sha(b"q")));
        files.push(("a".into(), sha(b"a")));
        files.push(("ab".into(), sha(b"ab")));
        let manifest = Manifest::new(files.clone());
        let bytes = manifest.encode();
        assert_eq!(Manifest::id_of(&bytes), Some(manifest.id.as_str()));
        let read = Holdings::decode(&bytes).expect("decodes");
        let converted = Holdings::from(manifest.clone());
        for holds in [&read, &converted] {
            assert_eq!(holds.id(), manifest.id);
            let listed: Vec<&str> = holds.paths().collect();
            let expected: Vec<&str> = manifest.files.iter().map(|(p, _)| p.as_str()).collect();
            assert_eq!(listed, expected);
            for (path, digest) in &files {
                assert_eq!(holds.of(path, digest), Held::Same, "{path}");
                assert_eq!(holds.of(path, &sha(b"other")), Held::Other, "{path}");
            }
            assert_eq!(holds.of("documents/doc-000001", &sha(b"a")), Held::No);
            assert_eq!(holds.of("", &sha(b"a")), Held::No);
        }
        // What is not a whole manifest is refused whole, never half read.
        let short = Manifest::new(files[..3].to_vec()).encode();
        for cut in 0..short.len() {
            assert!(Holdings::decode(&short[..cut]).is_none(), "cut at {cut}");
        }
        for at in [0, 17, 30, short.len() / 2, short.len() - 1] {
            let mut changed = short.clone();
            changed[at] ^= 1;
            assert!(Holdings::decode(&changed).is_none(), "byte {at} changed");
        }
        let mut longer = short[..short.len() - 4].to_vec();
        longer.push(0);
        let crc = crc32fast::hash(&longer);
        longer.extend_from_slice(&crc.to_le_bytes());
        assert!(Holdings::decode(&longer).is_none(), "a trailing byte");
    }

    #[cfg(unix)]
    #[test]
    fn only_a_file_no_other_folder_shares_is_written_through() {
        let dir = tempfile::tempdir().expect("a temporary folder");
        let own = dir.path().join("own.html");
        std::fs::write(&own, b"the old, longer page").expect("written");
        assert!(write_through(&own, b"new page"));
        assert_eq!(std::fs::read(&own).expect("read"), b"new page");
        assert!(write_through(&own, b"a page longer than the one before"));
        assert_eq!(
            std::fs::read(&own).expect("read"),
            b"a page longer than the one before"
        );

        // A page taken from the live site is a hard link to the live file.
        let live = dir.path().join("live.html");
        let shared = dir.path().join("shared.html");
        std::fs::write(&live, b"live page").expect("written");
        std::fs::hard_link(&live, &shared).expect("linked");
        assert!(!write_through(&shared, b"changed"));
        assert_eq!(std::fs::read(&live).expect("read"), b"live page");

        // A symbolic link is never followed.
        let link = dir.path().join("link.html");
        std::os::unix::fs::symlink(&own, &link).expect("symlinked");
        assert!(!write_through(&link, b"through the link"));
        assert_eq!(
            std::fs::read(&own).expect("read"),
            b"a page longer than the one before"
        );
        assert!(!write_through(&dir.path().join("missing.html"), b"x"));
    }
}
