//! `annals serve`: build the archive, serve it on 127.0.0.1 under its base path as
//! GitHub Pages would, watch `content/`, `themes/` and `site.toml`, rebuild on every
//! change and reload the open pages.
//!
//! A failed build keeps the last good site on screen, with the problems in an
//! overlay; the terminal prints each rebuild with its time. Rebuilding goes through
//! [`Rebuild`], so an incremental builder can replace [`FullRebuild`] without
//! touching the server or the watcher.
//!
//! An edit of a document's body is shown in two steps: its pages are rendered at
//! once from the last build's archive ([`crate::Session::preview`]) and served
//! from memory in place of the folder's ([`Site::set_overlay`]), and the open
//! pages reload; the build then completes the site (search index, feeds,
//! exports) and replaces the folder, and wakes the pages again only if it wrote
//! other bytes for them than the preview showed (it should not). The folder is
//! never written by the preview, so the atomic swap of a build stays the only
//! way the site on disk changes.

mod http;
mod live;

pub use http::{content_type, Route, Site, SiteServer, RELOAD_SCRIPT, RESERVED_SEGMENT};
pub use live::{BuildState, ErrorView, LiveReload, POLL_TIMEOUT};

use crate::diagnostics::Diagnostics;
use crate::{BuildOptions, BuildReport};
use notify::{EventKind, RecursiveMode, Watcher};
use std::collections::BTreeSet;
use std::io::Write;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::path::{Path, PathBuf};
use std::sync::mpsc;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// The port `annals serve` listens on unless told otherwise.
pub const DEFAULT_PORT: u16 = 1111;

/// Quiet time after a change before rebuilding, so an editor's burst of writes
/// (temporary file, rename, metadata: a few milliseconds) makes one build. It is
/// all latency between a save and the reloaded page, which a previewed body
/// edit otherwise reaches in a few milliseconds, so it is kept short; a burst
/// with longer gaps only costs an extra build.
const DEBOUNCE: Duration = Duration::from_millis(30);

/// How to preview: what to build, and where to listen.
#[derive(Debug, Clone)]
pub struct ServeOptions {
    /// The build (root, drafts, base URL override). Its `output` defaults to a
    /// folder in the system's temporary directory, so previews never touch `public/`.
    pub build: BuildOptions,
    /// The address to listen on; loopback unless asked otherwise.
    pub bind: IpAddr,
    /// The port; 0 picks a free one.
    pub port: u16,
}

impl ServeOptions {
    /// Serving the archive at `root` on 127.0.0.1:[`DEFAULT_PORT`].
    pub fn new(root: impl Into<PathBuf>) -> Self {
        ServeOptions {
            build: BuildOptions::new(root),
            bind: IpAddr::V4(Ipv4Addr::LOCALHOST),
            port: DEFAULT_PORT,
        }
    }
}

/// Paths changed since the last build, as the watcher reported them.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ChangeSet {
    /// Changed, created or removed paths, absolute.
    pub paths: BTreeSet<PathBuf>,
}

/// Brings the output up to date after changes.
pub trait Rebuild {
    /// Rebuilds after `changes` (empty for the first build). On error the previous
    /// output must stay as it was.
    fn rebuild(&mut self, changes: &ChangeSet) -> Result<BuildReport, Diagnostics>;

    /// The pages `changes` alter, rendered at once, if the rebuilder can tell
    /// them without a build (see [`crate::Session::preview`]); the rebuild that
    /// follows must write the same bytes for them.
    fn preview(&mut self, _changes: &ChangeSet) -> Option<crate::session::Preview> {
        None
    }
}

/// Rebuilds on every change through [`crate::build`], which renders only the pages
/// the change affects (taking the others from the previous site, see
/// [`crate::incremental`]), writes only files whose bytes changed, and replaces the
/// output only when the whole build succeeded.
pub struct FullRebuild {
    /// The build to run.
    pub options: BuildOptions,
    /// What one build leaves for the next (the search analyses of unchanged
    /// documents).
    pub session: crate::Session,
}

impl Rebuild for FullRebuild {
    fn rebuild(&mut self, _changes: &ChangeSet) -> Result<BuildReport, Diagnostics> {
        crate::build_in(&self.options, Some(&mut self.session))
    }

    fn preview(&mut self, changes: &ChangeSet) -> Option<crate::session::Preview> {
        let edited: Vec<PathBuf> = changes.paths.iter().cloned().collect();
        self.session.preview(&self.options, &edited)
    }
}

/// The preview's output folder when none is given: one per archive, in the system's
/// temporary directory, reused across runs (it carries annals' output marker, so
/// the build may replace it).
pub fn default_output(root: &Path) -> PathBuf {
    use sha2::{Digest, Sha256};
    let canonical = root.canonicalize().unwrap_or_else(|_| root.to_path_buf());
    let hash = crate::load::hex(&Sha256::digest(canonical.to_string_lossy().as_bytes()));
    std::env::temp_dir().join(format!("annals-serve-{}", &hash[..12]))
}

/// The base path the site is built for (from `site.toml` and `--base-url`), or
/// `None` while the configuration has errors.
fn configured_base_path(options: &BuildOptions) -> Option<String> {
    let config = crate::load::load_config(&options.root).ok()?;
    let config = match &options.base_url {
        Some(url) => config.with_base_url(url).ok()?,
        None => config,
    };
    Some(config.base_path)
}

/// Runs the preview until the process is stopped. Returns only on a setup error
/// (the address is taken, the folders cannot be watched).
pub fn serve(options: &ServeOptions) -> Result<(), String> {
    let root = options
        .build
        .root
        .canonicalize()
        .map_err(|e| format!("{}: {e}", options.build.root.display()))?;
    let mut build = options.build.clone();
    build.root = root.clone();
    let output = build
        .output
        .clone()
        .unwrap_or_else(|| default_output(&root));
    build.output = Some(output.clone());

    let live = Arc::new(LiveReload::default());
    let base_path = configured_base_path(&build).unwrap_or_else(|| "/".into());
    let site = Arc::new(Site::new(&output, &base_path, Some(live.clone())));
    let mut rebuilder = FullRebuild {
        options: build.clone(),
        session: crate::Session::default(),
    };
    run_build(&mut rebuilder, &ChangeSet::default(), &live, &site, &build);

    let server = SiteServer::start(SocketAddr::new(options.bind, options.port), site.clone())
        .map_err(|e| format!("cannot listen on {}:{}: {e}", options.bind, options.port))?;
    let addr = server.addr();
    let host = match addr {
        SocketAddr::V6(a) => format!("[{}]:{}", a.ip(), a.port()),
        SocketAddr::V4(a) => a.to_string(),
    };
    if !addr.ip().is_loopback() {
        eprintln!(
            "warning: listening on {}, reachable from other machines",
            addr.ip()
        );
    }
    // Watching starts before the address is printed: a change made as soon as the
    // preview is announced must not be missed.
    let (tx, rx) = mpsc::channel();
    let mut watch = Watch::new(&root, tx)?;
    println!("serving http://{host}{}", site.base_path());
    println!("watching {} (Ctrl-C to stop)", root.display());
    let _ = std::io::stdout().flush();
    loop {
        let changes = watch.next_changes(&rx);
        if changes.paths.is_empty() {
            continue;
        }
        run_build(&mut rebuilder, &changes, &live, &site, &build);
    }
}

/// Runs one build, reports it in the terminal with the time of day, and tells the
/// open pages.
fn run_build(
    rebuilder: &mut dyn Rebuild,
    changes: &ChangeSet,
    live: &LiveReload,
    site: &Site,
    build: &BuildOptions,
) {
    let start = Instant::now();
    let what = describe(changes, &build.root);
    // A body edit's pages are shown at once; the build then completes the site.
    let preview = match changes.paths.is_empty() {
        true => None,
        false => rebuilder.preview(changes),
    };
    // The previewed pages as the paths of their URLs (as a page sees its own),
    // and the version that showed them.
    let previewed = preview.map(|preview| {
        site.set_overlay(&preview.files);
        let base = site.base_path();
        let pages: Vec<String> = preview
            .files
            .iter()
            .filter(|f| f.path.ends_with(".html"))
            .map(|f| {
                let path = f.path.strip_suffix("index.html").unwrap_or(&f.path);
                format!("{base}{path}")
            })
            .collect();
        let shown_at = live.previewed(pages.clone());
        println!(
            "[{}] previewed {} page{} in {:.0} ms{what}; completing the site",
            jiff::Zoned::now().strftime("%H:%M:%S"),
            preview.pages,
            if preview.pages == 1 { "" } else { "s" },
            start.elapsed().as_secs_f64() * 1000.0
        );
        let _ = std::io::stdout().flush();
        (pages, shown_at)
    });
    live.building();
    let result = rebuilder.rebuild(changes);
    let clock = jiff::Zoned::now().strftime("%H:%M:%S").to_string();
    let shown = site.clear_overlay();
    match &result {
        Ok(report) => {
            if let Some(base) = configured_base_path(build) {
                site.set_base_path(&base);
            }
            // The previewed pages reload again only if the build wrote
            // something else for them: a bug, or the file changed again while
            // the build ran.
            let same = previewed.is_some()
                && shown.iter().all(|(path, bytes)| {
                    std::fs::read(build.output_dir().join(path)).is_ok_and(|b| *b == **bytes)
                });
            match previewed {
                Some((pages, shown_at)) if same => live.completed(pages, shown_at),
                Some(_) => {
                    eprintln!(
                        "warning: the build wrote other bytes than the preview showed (was the file saved again meanwhile?); pages reloaded"
                    );
                    live.finished(Ok(()));
                }
                None => live.finished(Ok(())),
            }
            println!(
                "[{clock}] {} {} documents, {} pages ({} parsed, {} rendered, {} analysed for search) in {:.2} s{what}",
                if changes.paths.is_empty() {
                    "built"
                } else {
                    "rebuilt"
                },
                report.documents,
                report.pages,
                report.parsed,
                report.rendered,
                report.analysed,
                start.elapsed().as_secs_f64()
            );
        }
        Err(diagnostics) => {
            match previewed {
                Some((pages, _)) => live.failed_after_preview(diagnostics, pages),
                None => live.finished(Err(diagnostics)),
            }
            eprintln!("{diagnostics}");
            println!(
                "[{clock}] build failed in {:.2} s{what}: {} problem{}; still serving the last good site",
                start.elapsed().as_secs_f64(),
                diagnostics.len(),
                if diagnostics.len() == 1 { "" } else { "s" }
            );
        }
    }
    let _ = std::io::stdout().flush();
}

fn describe(changes: &ChangeSet, root: &Path) -> String {
    let mut names = changes
        .paths
        .iter()
        .map(|p| p.strip_prefix(root).unwrap_or(p).display().to_string());
    match changes.paths.len() {
        0 => String::new(),
        1 => format!(" ({} changed)", names.next().unwrap_or_default()),
        n => format!(
            " ({} and {} more changed)",
            names.next().unwrap_or_default(),
            n - 1
        ),
    }
}

/// The watcher over the archive's inputs.
struct Watch {
    root: PathBuf,
    watcher: notify::RecommendedWatcher,
    watched: BTreeSet<PathBuf>,
}

type Events = mpsc::Receiver<notify::Result<notify::Event>>;

impl Watch {
    fn new(root: &Path, tx: mpsc::Sender<notify::Result<notify::Event>>) -> Result<Watch, String> {
        let watcher = notify::recommended_watcher(move |event| {
            let _ = tx.send(event);
        })
        .map_err(|e| format!("cannot watch files: {e}"))?;
        let mut watch = Watch {
            root: root.to_path_buf(),
            watcher,
            watched: BTreeSet::new(),
        };
        // The root itself only for site.toml and for content/ or themes/ appearing;
        // never recursively, so target/ or public/ cost nothing.
        watch
            .watcher
            .watch(root, RecursiveMode::NonRecursive)
            .map_err(|e| format!("cannot watch {}: {e}", root.display()))?;
        watch.watch_inputs();
        Ok(watch)
    }

    /// Watches content/ and themes/ recursively once they exist.
    fn watch_inputs(&mut self) {
        for name in ["content", "themes"] {
            let dir = self.root.join(name);
            if dir.is_dir() && !self.watched.contains(&dir) {
                match self.watcher.watch(&dir, RecursiveMode::Recursive) {
                    Ok(()) => {
                        self.watched.insert(dir);
                    }
                    Err(e) => eprintln!("warning: cannot watch {}: {e}", dir.display()),
                }
            } else if !dir.is_dir() {
                self.watched.remove(&dir);
            }
        }
    }

    /// Blocks until inputs changed, then gathers changes until they stop for
    /// [`DEBOUNCE`].
    fn next_changes(&mut self, rx: &Events) -> ChangeSet {
        let mut changes = ChangeSet::default();
        let Ok(first) = rx.recv() else {
            // The watcher is gone; nothing will change any more.
            std::thread::sleep(Duration::from_secs(3600));
            return changes;
        };
        self.add(first, &mut changes);
        let deadline = Instant::now() + Duration::from_secs(2);
        while let Ok(event) = rx.recv_timeout(DEBOUNCE) {
            self.add(event, &mut changes);
            if Instant::now() > deadline {
                break;
            }
        }
        self.watch_inputs();
        changes
    }

    fn add(&self, event: notify::Result<notify::Event>, changes: &mut ChangeSet) {
        let Ok(event) = event else { return };
        if matches!(event.kind, EventKind::Access(_)) {
            return;
        }
        for path in event.paths {
            if is_input(&self.root, &path) {
                changes.paths.insert(path);
            }
        }
    }
}

/// Whether a changed path is an input of the build: site.toml, or a file under
/// content/ or themes/ that is not hidden or an editor's backup or swap file.
pub fn is_input(root: &Path, path: &Path) -> bool {
    let Ok(rel) = path.strip_prefix(root) else {
        return false;
    };
    let mut parts = rel.components().map(|c| c.as_os_str().to_string_lossy());
    let first = match parts.next() {
        Some(f) => f,
        None => return false,
    };
    if first == crate::config::CONFIG_FILE {
        return rel.components().count() == 1;
    }
    if first != "content" && first != "themes" {
        return false;
    }
    let name = rel
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let noise = name.ends_with('~')
        || name.ends_with(".swp")
        || name.ends_with(".swx")
        || name.ends_with(".tmp")
        || name == "4913";
    !noise
        && !rel
            .components()
            .any(|c| c.as_os_str().to_string_lossy().starts_with('.'))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_inputs_trigger_builds() {
        let root = Path::new("/site");
        assert!(is_input(root, Path::new("/site/site.toml")));
        assert!(is_input(
            root,
            Path::new("/site/content/documents/2019/a.md")
        ));
        assert!(is_input(
            root,
            Path::new("/site/themes/default/templates/base.html")
        ));
        assert!(is_input(root, Path::new("/site/content")));
        assert!(!is_input(root, Path::new("/site/public/index.html")));
        assert!(!is_input(root, Path::new("/site/target/debug/x")));
        assert!(!is_input(
            root,
            Path::new("/site/content/documents/.a.md.swp")
        ));
        assert!(!is_input(root, Path::new("/site/content/documents/a.md~")));
        assert!(!is_input(root, Path::new("/site/README.md")));
        assert!(!is_input(root, Path::new("/elsewhere/site.toml")));
    }
}
