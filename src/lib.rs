//! annals: a static site generator for public document archives.
//!
//! The build is a staged pipeline of plain data:
//!
//! ```text
//! load      content/ + site.toml + theme  ->  SourceFile, Config, Theme   (I/O)
//! parse     SourceFile                    ->  Document | Vec<Diagnostic>
//! link      Vec<Document>                 ->  Archive
//! render    &Archive + &Theme             ->  OutputFile, one page at a time
//! write     OutputFile stream             ->  output folder, swapped in atomically (I/O)
//! ```

#![warn(missing_docs)]

pub mod archive;
pub mod bytes;
pub mod cache;
pub mod cite;
pub mod config;
pub mod diagnostics;
pub mod document;
pub mod entity;
pub mod heap;
pub mod incremental;
pub mod load;
pub mod markdown;
pub mod output;
pub mod publish;
pub mod render;
pub mod scaffold;
pub mod search;
pub mod serve;
pub mod session;
pub mod spill;
pub mod theme;
pub mod urls;
pub mod varint;

use diagnostics::{Diagnostic, Diagnostics};
use rayon::prelude::*;
use rustc_hash::FxHashMap;
pub use session::Session;
use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// What to build and how; resolved from the command line by `main`.
#[derive(Debug, Clone)]
pub struct BuildOptions {
    /// The archive's root folder (with `site.toml`).
    pub root: PathBuf,
    /// Where to write the site; `<root>/public` by default.
    pub output: Option<PathBuf>,
    /// Overrides `base_url` from `site.toml` (e.g. for a preview under another path).
    pub base_url: Option<String>,
    /// Also publish documents marked `draft: true`.
    pub drafts: bool,
    /// A previously published `urls.json` (path or URL): the build fails if any URL
    /// listed there would disappear.
    pub previous: Option<String>,
    /// How to report progress on standard error.
    pub progress: Progress,
}

/// How a build reports its progress on standard error. The final summary line is
/// the caller's (the CLI prints it); this is only about the stages.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Progress {
    /// Nothing (`--quiet`, and library use).
    #[default]
    Quiet,
    /// One plain line per stage, for logs and CI.
    Lines,
    /// A progress bar for rendering, on a terminal.
    Bar,
}

impl BuildOptions {
    /// Options for building the archive at `root` with defaults.
    pub fn new(root: impl Into<PathBuf>) -> Self {
        BuildOptions {
            root: root.into(),
            output: None,
            base_url: None,
            drafts: false,
            previous: None,
            progress: Progress::Quiet,
        }
    }

    /// The output folder.
    pub fn output_dir(&self) -> PathBuf {
        self.output
            .clone()
            .unwrap_or_else(|| self.root.join("public"))
    }
}

/// What a successful build or check did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BuildReport {
    /// Documents published.
    pub documents: usize,
    /// HTML pages the site has.
    pub pages: usize,
    /// Pages rendered by this build; the others were taken unchanged from the
    /// previous site (see [`incremental`]).
    pub rendered: usize,
    /// Files the site has in all (pages, assets, attachments).
    pub files: usize,
    /// Wall time.
    pub elapsed: Duration,
    /// True when nothing had changed since the last build and nothing was done.
    pub up_to_date: bool,
    /// Documents analysed for the search index; with a [`Session`], only those
    /// that changed since its last build.
    pub analysed: usize,
    /// Document files read and parsed; with a [`Session`], only those changed
    /// since its last build.
    pub parsed: usize,
    /// Document bodies rendered by the link pass; with a [`Session`], only those
    /// whose text or context changed since its last build.
    pub linked: usize,
    /// Whether the live search index was patched for the edited bodies rather
    /// than assembled again (see [`search::patch`]).
    pub search_patched: bool,
    /// The base URL has no host (`--base-url /` for a preview): feeds, the
    /// sitemap and the citation exports then carry site-relative URLs, which
    /// cite nothing once copied elsewhere.
    pub host_less: bool,
}

/// Everything up to rendering: the checked archive and its theme.
struct Prepared {
    archive: archive::Archive,
    theme: theme::Theme,
    progress: Progress,
    /// Each listed document file's stamp, taken before reading it.
    stamps: FxHashMap<std::ffi::OsString, load::FileStamp>,
    /// When the stamps were taken (a stamp is stored for the next build only
    /// if its file had settled by then: see [`load::FileStamp::settled`]).
    stamped_at: std::time::SystemTime,
    /// Documents parsed by this build (the others came from the session or the
    /// stored documents).
    parsed: usize,
    /// The drafts this build leaves out, for the session or the stored
    /// documents to keep.
    drafts: Vec<document::Document>,
    /// The source digest of every document file this build read, by file, for
    /// the stored documents (see [`document::stored`]).
    digests: FxHashMap<PathBuf, document::stored::SourceDigest>,
    /// The documents the last build stored, which this one stores again
    /// with its own (see [`document::stored::store`]).
    stored: document::stored::StoredDocuments,
    /// What the binary and configuration add to the session's cache keys.
    salt: u64,
    /// The build's [`incremental::inputs_key`], when it was asked for.
    inputs_key: Option<String>,
    /// When the live search index can be patched instead of assembled again:
    /// what the patch starts from (see [`SearchPatch`]).
    search_patch: Option<SearchPatch>,
}

/// A build whose inputs are the last build's but for some bodies may patch
/// the live search index ([`search::patch`]): the link pass then analyses only
/// the documents whose body changed, and the search stage their old bodies.
struct SearchPatch {
    /// The live index's state.
    state: search::patch::SearchState,
    /// The old body of each document whose body changed, by file.
    old_bodies: HashMap<PathBuf, String>,
    /// The stored bodies it read them from (none for a session), to which
    /// the build appends the new ones.
    stored: Option<search::state::Bodies>,
}

/// At most this many changed bodies are patched into the index; more, and it
/// is assembled again (each costs a few shards' decoding and encoding).
const PATCH_AT_MOST: usize = 64;

impl SearchPatch {
    /// The patch's starting point, if the cache holds one for this salt and
    /// each document parsed afresh (`fresh`, by file) has its old body stored;
    /// documents whose body is the stored one are not changed.
    fn plan(
        root: &Path,
        salt: u64,
        documents: &[document::Document],
        fresh: &HashSet<PathBuf>,
    ) -> Option<SearchPatch> {
        if fresh.len() > PATCH_AT_MOST {
            return None;
        }
        let state = search::state::load_state(root, salt)?;
        let bodies = search::state::Bodies::load(root, salt, &state.build)?;
        let mut plan =
            SearchPatch::with_old_bodies(state, &|file| bodies.get(file), documents, fresh)?;
        plan.stored = Some(bodies);
        Some(plan)
    }

    /// The patch's starting point from `state` and the old body of each
    /// document parsed afresh, if `old_body` has every one.
    fn with_old_bodies(
        state: search::patch::SearchState,
        old_body: &dyn Fn(&Path) -> Option<String>,
        documents: &[document::Document],
        fresh: &HashSet<PathBuf>,
    ) -> Option<SearchPatch> {
        if fresh.len() > PATCH_AT_MOST {
            return None;
        }
        let mut old_bodies = HashMap::new();
        // (Looked up by their bytes: hashing a path walks its components.)
        let fresh: rustc_hash::FxHashSet<&std::ffi::OsStr> =
            fresh.iter().map(|f| f.as_os_str()).collect();
        for doc in (documents.iter()).filter(|d| fresh.contains(d.file.as_os_str())) {
            let old = old_body(&doc.file)?;
            if doc.body.text().ok()?.as_ref() != old {
                old_bodies.insert(doc.file.clone(), old);
            }
        }
        Some(SearchPatch {
            state,
            old_bodies,
            stored: None,
        })
    }
}

/// When a build renders the bodies' page HTML (see [`render::body`]).
#[derive(Clone, Copy)]
enum BodyHtml<'a> {
    /// In the link pass, from the same parse: every page will be rendered.
    Early,
    /// With each page: a session renders only the pages an edit changed.
    Late {
        /// The build options that change the output, for the inputs key.
        output_options: &'a str,
    },
    /// Early if this build's [`incremental::inputs_key`] differs from the
    /// previous build's (`None`: there is none), since every page is then
    /// rendered; late otherwise.
    UnlessSameInputs {
        previous: Option<&'a str>,
        output_options: &'a str,
    },
}

/// Reports a finished stage (one line, unless quiet) and restarts the clock.
/// `ANNALS_TIMINGS` forces the lines on, for profiling.
fn stage_done(progress: Progress, name: &str, detail: &str, since: &mut Instant) {
    let show = progress != Progress::Quiet || std::env::var_os("ANNALS_TIMINGS").is_some();
    if show {
        eprintln!(
            "{name:>9}  {detail:<28} {:8.1} ms{}{}{}",
            since.elapsed().as_secs_f64() * 1000.0,
            memory().map_or(String::new(), |(now, peak)| format!(
                "  peak {} MB, now {} MB",
                peak / 1024,
                now / 1024
            )),
            heap::stats().map_or(String::new(), |(live, most)| format!(
                "  heap {} MB, most {} MB",
                live >> 20,
                most >> 20
            )),
            cpu_since_last_stage()
                .map_or(String::new(), |cpu| format!("  cpu {:.0} ms", cpu * 1000.0))
        );
    }
    *since = Instant::now();
}

/// The process's CPU time (user and system, every thread) since the previous
/// call, in seconds (Linux only). Beside a stage's wall time it shows how well the
/// stage keeps the cores busy: a stage whose CPU time is not a multiple of its
/// wall time runs on one thread for part of it.
#[cfg(unix)]
fn cpu_since_last_stage() -> Option<f64> {
    use std::sync::atomic::{AtomicU64, Ordering};
    static LAST_TICKS: AtomicU64 = AtomicU64::new(0);
    let stat = std::fs::read_to_string("/proc/self/stat").ok()?;
    // The command name (field 2) may hold spaces; the fields after it are plain.
    let after_name = &stat[stat.rfind(')')? + 1..];
    let mut fields = after_name.split_whitespace();
    // utime and stime are fields 14 and 15, the 12th and 13th after the name.
    let utime: u64 = fields.nth(11)?.parse().ok()?;
    let stime: u64 = fields.next()?.parse().ok()?;
    let ticks = utime + stime;
    let last = LAST_TICKS.swap(ticks, Ordering::Relaxed);
    Some(ticks.saturating_sub(last) as f64 / rustix::param::clock_ticks_per_second() as f64)
}

#[cfg(not(unix))]
fn cpu_since_last_stage() -> Option<f64> {
    None
}

/// The process's resident memory now and at its peak so far, in kB (Linux only),
/// shown with the stage times so that what a stage holds on to and what it needs
/// while it runs are both visible without a profiler.
fn memory() -> Option<(u64, u64)> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let field = |name: &str| -> Option<u64> {
        let line = status.lines().find(|l| l.starts_with(name))?;
        line.split_whitespace().nth(1)?.parse().ok()
    };
    Some((field("VmRSS:")?, field("VmHWM:")?))
}

/// Load, parse, validate and link; every problem of every stage reached is reported.
/// `ANNALS_SPILL_DIR`: where builds set bodies and snippet files aside instead
/// (see [`spill`]), e.g. a larger disk.
fn spill_folder_override() -> Option<PathBuf> {
    std::env::var_os("ANNALS_SPILL_DIR")
        .filter(|v| !v.is_empty())
        .map(PathBuf::from)
}

/// The inputs' fingerprint, and the document files listed meanwhile (a
/// folder walk, on the other core): the parse stage takes the stamps the
/// fingerprint was made from instead of stamping the files again.
struct Scanned {
    /// The listing of [`load::list_documents`].
    listing: (Vec<(PathBuf, PathBuf)>, Vec<Diagnostic>),
    fingerprint: cache::Fingerprint,
    /// When the scan began (the load stage's time counts it).
    began: Instant,
}

impl Scanned {
    fn scan(root: &Path, fingerprint_options: &str) -> Self {
        let began = Instant::now();
        let (fingerprint, listing) = rayon::join(
            || cache::fingerprint(root, fingerprint_options),
            || load::list_documents(root),
        );
        Scanned {
            listing,
            fingerprint,
            began,
        }
    }
}

/// Loads, parses and links the archive. `spill_folder` is where a build without
/// a session sets bodies and snippet files aside (see [`spill`]): the cache
/// folder (or the root) for `build`, the system's temporary folder (`None`) for `check`, which
/// leaves the site root as it found it. `body_html`: when bodies' page HTML is
/// made.
fn prepare(
    options: &BuildOptions,
    session: Option<&Session>,
    spill_folder: Option<&Path>,
    body_html: BodyHtml<'_>,
    use_stored: bool,
    scanned: Option<Scanned>,
) -> Result<Prepared, Diagnostics> {
    let root = &options.root;
    let mut clock = scanned.as_ref().map_or_else(Instant::now, |s| s.began);
    let mut errors: Vec<Diagnostic> = Vec::new();
    let config = load::load_config(root).map_err(Diagnostics::sorted)?;
    let config = match &options.base_url {
        Some(url) => config
            .with_base_url(url)
            .map_err(|msg| Diagnostics::from(Diagnostic::file("--base-url", msg)))?,
        None => config,
    };
    let theme = match theme::Theme::load(root, &config) {
        Ok(t) => Some(t),
        Err(e) => {
            errors.extend(e);
            None
        }
    };
    // Stamped before anything is read (see below).
    let (listing, by_path, stamped_at) = match scanned {
        Some(s) => (s.listing, s.fingerprint.stamps, s.fingerprint.at),
        None => {
            let at = std::time::SystemTime::now();
            (load::list_documents(root), FxHashMap::default(), at)
        }
    };
    let (files, load_errors) = listing;
    errors.extend(load_errors);
    stage_done(
        options.progress,
        "load",
        &format!("{} files", files.len()),
        &mut clock,
    );
    // Every file is stamped before anything is read, so that an edit made
    // meanwhile is seen next time (a build has the stamps its fingerprint was
    // made from). A session hands back the documents of files unchanged since
    // it parsed them; a build without one takes those of files unchanged since
    // the last build stored them (see `document::stored`); the other files are
    // read and parsed.
    let salt = search::cache_salt(&config);
    // Keyed by the paths' bytes: hashing a `Path` walks its components.
    let stamps: FxHashMap<std::ffi::OsString, load::FileStamp> = files
        .par_iter()
        .filter_map(|(abs, rel)| {
            let stamp = by_path.get(abs.as_os_str()).copied();
            Some((
                rel.clone().into_os_string(),
                stamp.or_else(|| load::FileStamp::of(abs))?,
            ))
        })
        .collect();
    drop(by_path);
    // Without a session, every file is to read (or taken as stored, below).
    let (reused, to_read): (Vec<document::Document>, Vec<&(PathBuf, PathBuf)>) = match session {
        None => (Vec::new(), files.iter().collect()),
        Some(session) => {
            let kept: Vec<Option<document::Document>> = files
                .par_iter()
                .map(|(_, rel)| session.parsed.get(salt, rel, *stamps.get(rel.as_os_str())?))
                .collect();
            let to_read = files
                .iter()
                .zip(&kept)
                .filter(|(_, k)| k.is_none())
                .map(|(f, _)| f)
                .collect();
            (kept.into_iter().flatten().collect(), to_read)
        }
    };
    // Each file is parsed as soon as it is read and its text dropped: the texts of
    // a large archive are never all in memory at once. A build without a session
    // sets each body aside on disk at once, too (see [`document::Body`]). A file
    // whose path and text are those of a document the last build stored is not
    // parsed again.
    let spill = session
        .is_none()
        .then(|| Arc::new(spill::Spill::in_folder(spill_folder)));
    let stored = if use_stored {
        document::stored::StoredDocuments::load(root, salt)
    } else {
        document::stored::StoredDocuments::default()
    };
    let unread = std::sync::atomic::AtomicUsize::new(0);
    let parse_one = |(abs, rel): &(PathBuf, PathBuf)| {
        let unchanged = stamps
            .get(rel.as_os_str())
            .filter(|_| session.is_none())
            .and_then(|stamp| stored.get_unread(rel, abs, stamp));
        if let Some((doc, digest)) = unchanged {
            unread.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            return Ok((Ok(doc), rel.clone(), None, digest, true));
        }
        let source = load::read_source(abs, rel)?;
        let digest = document::stored::source_digest(&source);
        let taken = stored.get(&digest, &source);
        let was_taken = taken.is_some();
        let mut result = match taken {
            Some(doc) => Ok(doc),
            None => document::parse_document(&source, &config),
        };
        if let (Ok(doc), Some(spill)) = (&mut result, &spill) {
            doc.body.spill_to(spill);
        }
        let id = result
            .is_err()
            .then(|| document::front_matter::sniff_id(&source.text))
            .flatten();
        Ok((result, source.path, id, digest, was_taken))
    };
    let read: Vec<Result<_, Diagnostic>> = to_read.par_iter().map(|f| parse_one(f)).collect();
    let stored = stored.without_stamps();
    // Each result is moved once, into `documents`: a document is most of a
    // kilobyte, and 10,000 of them moved through one more vector cost a body
    // edit milliseconds of copies and page faults.
    let mut documents: Vec<document::Document> = reused;
    documents.reserve(read.len());
    let mut digests = FxHashMap::default();
    digests.reserve(read.len());
    let mut taken = 0;
    // Files read and parsed afresh: their bodies may have changed.
    let mut fresh: HashSet<PathBuf> = HashSet::new();
    // Documents that failed to parse: the later stages still run, to report
    // their errors in the same run, but not that links to these are broken.
    let mut unparsed = (HashSet::new(), HashSet::new());
    for r in read {
        let (result, path, id, digest, was_taken) = match r {
            Ok(p) => p,
            Err(d) => {
                errors.push(d);
                continue;
            }
        };
        if was_taken {
            taken += 1;
        } else {
            fresh.insert(path.clone());
        }
        digests.insert(path.clone(), digest);
        if result.is_err() {
            unparsed.0.extend(id);
            unparsed.1.insert(path.clone());
        }
        match result {
            Ok(doc) => documents.push(doc),
            // A document is never dropped without a word, whatever a validator misses.
            Err(e) if e.is_empty() => errors.push(Diagnostic::file(
                path,
                "the document could not be read (no details were given)",
            )),
            Err(e) => errors.extend(e),
        }
    }
    let parsed = to_read.len() - taken;
    // Drafts left out are still kept by a session or stored, so they are not
    // parsed again.
    let mut drafts = Vec::new();
    if !options.drafts && documents.iter().any(|d| d.draft) {
        let all = std::mem::take(&mut documents);
        for doc in all {
            if !doc.draft {
                documents.push(doc);
            } else {
                drafts.push(doc);
            }
        }
    }
    stage_done(
        options.progress,
        "parse",
        &match taken {
            0 => format!("{} documents", documents.len()),
            n => match unread.into_inner() {
                0 => format!("{} documents, {n} as stored", documents.len()),
                u => format!("{} documents, {n} as stored ({u} unread)", documents.len()),
            },
        },
        &mut clock,
    );
    let (entity_sources, entity_errors) = load::load_entities(root, &config);
    errors.extend(entity_errors);
    let mut entities = Vec::with_capacity(entity_sources.len());
    for (ti, source) in &entity_sources {
        match entity::parse_entity(source, &config.taxonomies[*ti]) {
            Ok(e) => entities.push(e),
            Err(e) => errors.extend(e),
        }
    }
    // Originals are read and hashed here, at the edge, so that link stays pure.
    // Every stage runs even after an error, so that one run reports them all.
    let (originals, original_errors) = load::read_originals(root, &documents);
    errors.extend(original_errors);
    let inputs_key = match (body_html, &theme) {
        (
            BodyHtml::UnlessSameInputs { output_options, .. } | BodyHtml::Late { output_options },
            Some(theme),
        ) => Some(incremental::key_text(incremental::inputs_key(
            &config,
            theme,
            output_options,
            &documents,
            &entities,
        ))),
        _ => None,
    };
    let early_html = match body_html {
        BodyHtml::Early => true,
        BodyHtml::Late { .. } => false,
        BodyHtml::UnlessSameInputs { previous, .. } => {
            previous.is_none() || previous != inputs_key.as_deref()
        }
    };
    // The same inputs as the live site's but for some bodies: its search
    // index may be patched (a session keeps its analyses instead).
    let search_patch = match (body_html, session) {
        (BodyHtml::UnlessSameInputs { .. }, None) if !early_html => {
            SearchPatch::plan(root, salt, &documents, &fresh)
        }
        // A session's last build kept its index's state and every document.
        (BodyHtml::Late { .. }, Some(session)) => session
            .search_state
            .as_ref()
            .filter(|(key, _)| Some(key) == inputs_key.as_ref())
            .and_then(|(_, state)| {
                let old_body = |file: &Path| session.parsed.body_of(salt, file);
                SearchPatch::with_old_bodies(state.clone(), &old_body, &documents, &fresh)
            }),
        _ => None,
    };
    let patching = search_patch.as_ref().map(|p| &p.old_bodies);
    // A build (not `check`, which leaves the root as it found it) stores
    // every body's link results for the next; a build that patches the index
    // takes the unchanged bodies' results from there instead of parsing them.
    let cache_folder = root.join(cache::CACHE_DIR);
    let links_file = cache_folder.join(archive::links::LINKS_FILE);
    let related_file = cache_folder.join(archive::related::RELATED_FILE);
    let indexes_file = cache_folder.join(archive::stored_indexes::INDEXES_FILE);
    let store_links = matches!(body_html, BodyHtml::UnlessSameInputs { .. }) && session.is_none();
    // What the stored related documents and front-matter indexes are keyed
    // on: the binary, the configuration and every input but the bodies.
    let inputs_base = inputs_key.as_deref().filter(|_| store_links).map(|_| {
        let mut h = std::hash::DefaultHasher::new();
        std::hash::Hash::hash(&(salt, &inputs_key), &mut h);
        std::hash::Hasher::finish(&h)
    });
    // Read while the archive is linked up to the pass that needs them (a
    // session holds its own).
    let stored_links = patching
        .filter(|_| session.is_none())
        .map(|_| archive::links::StoredBodies::read(links_file, salt, entities.len()));
    let only_files: Option<rustc_hash::FxHashSet<&std::ffi::OsStr>> =
        patching.map(|c| c.keys().map(|k| k.as_os_str()).collect());
    let only = |doc: &document::Document| {
        (only_files.as_ref()).is_some_and(|c| c.contains(doc.file.as_os_str()))
    };
    // The link stage renders every body for its links and analyses it for search
    // then; analyses a session kept from the last build are not made again.
    let kept = |doc: &document::Document| session.and_then(|s| s.search.get(salt, doc));
    let reuse = archive::links::Reuse {
        analysis: &kept,
        bodies: match (session, &stored_links) {
            (Some(s), _) => Some(archive::links::KeptBodies::Held(&s.bodies)),
            (None, Some(stored)) => Some(archive::links::KeptBodies::Stored(stored)),
            (None, None) => None,
        },
        salt,
        spill: spill.as_ref(),
        page_html: early_html,
        only: patching.map(|_| &only as &(dyn Fn(&document::Document) -> bool + Sync)),
        store: store_links,
        related: inputs_base.map(|base| (related_file.as_path(), base)),
        indexes: inputs_base.map(|base| (indexes_file.as_path(), base)),
    };
    let linked = archive::link_reusing(config, documents, &originals, entities, reuse);
    let archive = match linked {
        Ok(archive) if errors.is_empty() => archive,
        Ok(_) => return Err(Diagnostics::sorted(errors)),
        Err(link_errors) => {
            let (ids, files) = &unparsed;
            errors.extend(
                link_errors
                    .into_iter()
                    .filter(|d| !archive::links::names_unparsed(&d.message, ids, files)),
            );
            return Err(Diagnostics::sorted(errors));
        }
    };
    stage_done(
        options.progress,
        "link",
        &format!(
            "{} terms{}",
            archive
                .taxonomies
                .iter()
                .map(|t| t.terms.len())
                .sum::<usize>(),
            // Bodies rendered for their pages here (see `BodyHtml::Early`).
            match archive.page_bodies.iter().flatten().count() {
                0 => String::new(),
                n => format!(", {n} page bodies"),
            }
        ),
        &mut clock,
    );
    match theme {
        Some(theme) => Ok(Prepared {
            archive,
            theme,
            progress: options.progress,
            stamps,
            stamped_at,
            parsed,
            drafts,
            digests,
            stored,
            salt,
            inputs_key,
            search_patch,
        }),
        None => Err(Diagnostics::sorted(errors)),
    }
}

/// Checks everything a build would, including rendering every page and the URL
/// guard, but writes nothing.
pub fn check(options: &BuildOptions) -> Result<BuildReport, Diagnostics> {
    check_unquoted(options).map_err(|d| d.quote_lines(&options.root))
}

fn check_unquoted(options: &BuildOptions) -> Result<BuildReport, Diagnostics> {
    let start = Instant::now();
    let mut prepared = prepare(
        options,
        None,
        spill_folder_override().as_deref(),
        BodyHtml::Early,
        false,
        None,
    )?;
    let analyses = std::mem::take(&mut prepared.archive.search);
    let renderer =
        render::Renderer::new(&prepared.archive, &prepared.theme).map_err(Diagnostics::sorted)?;
    let links = publish::linkcheck::LinkChecker::new(&prepared.archive.config);
    let observe = |file: &render::OutputFile, _: &str| {
        links.observe(file);
        Ok(())
    };
    let produced = produce(
        &prepared,
        &renderer,
        &observe,
        &|_, _, _| Ok(()),
        false,
        None,
        (analyses, Vec::new()),
    )?;
    guard_urls(options, &prepared.archive, &produced)?;
    verify_links(&links, &produced, &prepared.archive)?;
    Ok(BuildReport {
        documents: prepared.archive.documents.len(),
        pages: produced.html_pages,
        rendered: produced.rendered,
        files: 0,
        elapsed: start.elapsed(),
        up_to_date: false,
        analysed: produced.analysed,
        parsed: prepared.parsed,
        linked: prepared.archive.links.rendered,
        search_patched: false,
        host_less: prepared.archive.config.origin.is_empty(),
    })
}

/// Builds the archive into its output folder, replacing the previous build only if
/// everything succeeded.
pub fn build(options: &BuildOptions) -> Result<BuildReport, Diagnostics> {
    build_in(options, None)
}

/// [`build`], keeping in `session` what the next build of the same archive can
/// reuse.
pub fn build_in(
    options: &BuildOptions,
    session: Option<&mut Session>,
) -> Result<BuildReport, Diagnostics> {
    build_unquoted(options, session).map_err(|d| d.quote_lines(&options.root))
}

/// [`build_in`], its problems not yet quoted (see [`Diagnostics::quote_lines`]).
fn build_unquoted(
    options: &BuildOptions,
    session: Option<&mut Session>,
) -> Result<BuildReport, Diagnostics> {
    let start = Instant::now();
    let output_dir = options.output_dir();
    // Nothing changed since the last successful build into this output: done.
    let output_options = format!("{:?}|{}", options.base_url, options.drafts);
    let scanned = Scanned::scan(
        &options.root,
        &format!("{output_options}|{output_dir:?}|{:?}", options.previous),
    );
    let inputs = scanned.fingerprint.key.clone();
    let remote_previous = options
        .previous
        .as_deref()
        .is_some_and(|p| p.contains("://"));
    let last_build = cache::load(&options.root);
    if let Some(state) = &last_build {
        // (The output is hashed only when the inputs match: it is megabytes.)
        let intact = || {
            state.output == output_dir
                && cache::file_sha256(&output_dir.join(urls::URLS_FILE)).as_deref()
                    == Some(state.urls_sha256.as_str())
        };
        if state.inputs == inputs && !remote_previous && intact() {
            return Ok(BuildReport {
                documents: state.documents,
                pages: state.pages,
                rendered: 0,
                files: 0,
                elapsed: start.elapsed(),
                up_to_date: true,
                analysed: 0,
                parsed: 0,
                linked: 0,
                search_patched: false,
                host_less: false,
            });
        }
    }
    // The last build's archive is let go first (in the background: freeing it
    // takes a while): a preview must never start from a build that failed.
    let mut session = session;
    if let Some(last) = session.as_deref_mut().and_then(|s| s.last.take()) {
        std::thread::spawn(move || drop(last));
    }
    // The recorded state stays valid if this build fails or is killed: the output is
    // only replaced, and the state only rewritten, when the build succeeds.
    // Not made here: a build that fails leaves the root as it was.
    let cache_folder = options.root.join(cache::CACHE_DIR);
    let spill_folder = match (spill_folder_override(), cache_folder.is_dir()) {
        (Some(folder), _) => folder,
        (None, true) => cache_folder,
        (None, false) => options.root.clone(),
    };
    // The manifest of the spare site, read while the archive is loaded and
    // linked: it is only needed to stage the output.
    let spare_manifest = {
        let root = options.root.clone();
        let spare = output::spare_folder(&output_dir);
        std::thread::spawn(move || {
            let holdings =
                output::marker_id(&spare).and_then(|id| cache::load_holdings(&root, &id));
            holdings.map(|h| {
                let finished = cache::finished(&root, h.id());
                h.present_in(&spare, finished)
            })
        })
    };
    // The previous build's page records: without them, or when this build's
    // inputs differ from theirs, every page is rendered, and the link pass makes
    // the bodies' page HTML as it parses them.
    let previous_head = incremental::load_head(&options.root, &output_dir);
    let body_html = if session.is_some() {
        BodyHtml::Late {
            output_options: &output_options,
        }
    } else {
        BodyHtml::UnlessSameInputs {
            previous: previous_head.as_ref().and_then(|p| p.inputs.as_deref()),
            output_options: &output_options,
        }
    };
    let mut prepared = prepare(
        options,
        session.as_deref(),
        Some(&spill_folder),
        body_html,
        // A session's own documents serve every build after its first.
        session.as_deref().is_none_or(|s| s.parsed.is_empty()),
        Some(scanned),
    )?;
    let mut clock = Instant::now();
    // The search stage consumes the analyses; a session keeps them for the next
    // build.
    let analyses = std::mem::take(&mut prepared.archive.search);
    let keep_for_session = session.is_some().then(|| analyses.clone());
    // Taken: a build that fails leaves the session none, and the next build
    // interns every group again.
    let kept_groups = session
        .as_deref_mut()
        .map(|s| std::mem::take(&mut s.search.groups))
        .unwrap_or_default();
    let mut bodies = prepared.archive.bodies.take();
    let archive = &prepared.archive;
    let renderer = render::Renderer::new(archive, &prepared.theme).map_err(Diagnostics::sorted)?;
    let spare_manifest = spare_manifest.join().unwrap_or_default();
    let staging =
        output::Staging::begin(&output_dir, &options.root, spare_manifest).map_err(|e| {
            Diagnostics::from(Diagnostic::file(
                output_dir.clone(),
                format!("cannot write the site: {e}"),
            ))
        })?;
    let links = publish::linkcheck::LinkChecker::new(&archive.config);
    // The URL list the last build published into this output, if any, and
    // this build's files written in the folder since (not taken from the
    // live site): the list is patched from theirs when the files are the
    // same (see [`urls::patched`]). Every file whose bytes may have changed
    // must pass through `write` or `copy` below, or the patched list would
    // keep its old digest (`tests/incremental.rs` compares every edit's site,
    // the list with it, to a clean build's).
    let last_url_list = (last_build.as_ref())
        .filter(|state| state.output == output_dir)
        .map(|state| state.urls_sha256.as_str());
    let written_permanent = std::sync::Mutex::new(Vec::new());
    let note_written = |site_path: &str, sha256: &str| {
        if last_url_list.is_some() && urls::is_permanent(site_path) {
            if let Ok(mut written) = written_permanent.lock() {
                written.push((site_path.to_string(), sha256.to_string()));
            }
        }
    };
    let write = |file: &render::OutputFile, sha256: &str| {
        links.observe(file);
        staging.write(file, sha256).map_err(|e| {
            Diagnostic::file(output_dir.join(&file.path), format!("cannot write: {e}"))
        })?;
        note_written(&file.path, sha256);
        Ok(())
    };
    let copy = |source: &Path, site_path: &str, sha256: &str| {
        staging
            .copy(&options.root.join(source), site_path, sha256)
            .map_err(|e| Diagnostic::file(source, format!("cannot publish the original: {e}")))?;
        note_written(site_path, sha256);
        Ok(())
    };
    let keys = incremental::PageKeys::new(archive, &prepared.theme, &output_options);
    let keep = |site_path: &str, sha256: &str| {
        staging
            .keep(site_path, sha256)
            .map_err(|e| Diagnostic::file(output_dir.join(site_path), format!("cannot write: {e}")))
    };
    stage_done(
        prepared.progress,
        "prepare",
        "previous site, page keys",
        &mut clock,
    );
    let load_previous = || {
        previous_head.as_ref()?;
        incremental::load(&options.root, &output_dir)
    };
    let holds = |site_path: &str, sha256: &str| staging.holds(site_path, sha256);
    let reuse = Reuse {
        keys: &keys,
        previous: &load_previous,
        keep: &keep,
        holds: &holds,
        live: Some(&output_dir),
    };
    // The parsed documents are stored for the next build while this one
    // searches and renders (which leave a core idle when few pages change),
    // and put in place with the site. A session keeps them in memory instead;
    // a first build has no cache folder to leave as it was if it fails, and
    // stores them at the end.
    let stage_early = session.is_none() && options.root.join(cache::CACHE_DIR).is_dir();
    let (produced, staged_documents) = rayon::join(
        || {
            produce(
                &prepared,
                &renderer,
                &write,
                &copy,
                true,
                Some(&reuse),
                (analyses, kept_groups),
            )
        },
        || {
            stage_early.then(|| {
                document::stored::stage(
                    &options.root,
                    prepared.salt,
                    documents_to_store(&prepared),
                    &prepared.stored,
                )
            })
        },
    );
    let mut produced = produced?;
    // The last URL list, read and checked while the links are.
    let last_url_list = last_url_list.map(|sha256| {
        let (path, sha256) = (output_dir.join(urls::URLS_FILE), sha256.to_string());
        std::thread::spawn(move || {
            let old = std::fs::read(path).ok()?;
            (sha256_hex(&old) == sha256).then_some(old)
        })
    });
    clock = Instant::now();
    guard_urls(options, archive, &produced)?;
    let previous = produced.previous.take();
    // Pages taken from the previous site had their links checked against the
    // previous set of files; if the set is the same, they still resolve.
    let paths = incremental::paths_key(produced.entries.iter().map(|(p, _)| p.as_str()));
    let same_files = previous
        .as_ref()
        .is_some_and(|p| p.paths.as_ref() == Some(&paths));
    // The targets of their links, recorded by the previous build, are checked
    // against the new set of files instead of reading the pages again; only if
    // one no longer resolves (or none were recorded) are the pages read, so the
    // error names the page and line.
    let carried = previous.as_ref().and_then(|p| p.targets.as_ref());
    let files = || {
        produced
            .entries
            .iter()
            .map(|(p, _)| p.as_str())
            .chain([urls::URLS_FILE])
    };
    let kept_read = !same_files
        && !produced.kept.is_empty()
        && !carried.is_some_and(|t| publish::linkcheck::all_resolve(t, files()));
    // A kept page that cannot be read has links nobody saw: the targets recorded
    // for the next build are then unknown, so that it reads the pages again.
    let mut all_read = true;
    if kept_read {
        for path in &produced.kept {
            match std::fs::read(output_dir.join(path)) {
                Ok(bytes) => links.observe(&render::OutputFile {
                    path: path.clone(),
                    bytes,
                }),
                Err(_) => all_read = false,
            }
        }
    }
    // What the next build checks kept pages against: every page read here, and
    // for pages taken without reading, the targets recorded for them.
    let mut targets = all_read.then(|| links.targets());
    if !produced.kept.is_empty() && !kept_read {
        targets = match (targets, carried) {
            (Some(mut t), Some(c)) => {
                t.extend(c.iter().cloned());
                t.sort_unstable();
                t.dedup();
                Some(t)
            }
            _ => None,
        };
    }
    let checked = verify_links(&links, &produced, archive)?;
    // The search files' stamps, for the next patch to check, taken in the
    // staging folder while the URL list and the manifest are made: the folder
    // is swapped in whole, which changes no file's size or modification time.
    // Stamps taken once the swap has begun may be the old site's (the path
    // names it then): those are taken again from the output. After a patch,
    // only the files it wrote are stamped (see
    // [`search::patch::SearchState::stamps`]).
    let swapping = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let search_patched = produced.search_patched.is_some();
    let stamp_only = produced.search_patched.take();
    let stamping = produced.search_state.take().map(|mut state| {
        let folder = staging.folder().to_path_buf();
        let swapping = Arc::clone(&swapping);
        std::thread::spawn(move || {
            state.stamp(&folder, stamp_only.as_ref());
            let in_time = !swapping.load(std::sync::atomic::Ordering::SeqCst);
            (state, in_time, stamp_only)
        })
    });
    // The list of URLs (the last one patched, if this build produced the
    // same files from the same inputs but for bodies, and the last one is as
    // it was published); then the site's
    // files, in path order as `produce` sorted them, with the list among
    // them, make the manifest.
    let base_url = archive.config.base_url();
    // (A lock poisoned by a writer that panicked may have lost an entry:
    // then the list is made again.)
    let written = (written_permanent.lock().ok()).map(|mut w| std::mem::take(&mut *w));
    // (Same inputs: the same binary, so the list's format, and base URL.)
    let same_inputs =
        (previous.as_ref()).is_some_and(|p| p.inputs.is_some() && p.inputs == prepared.inputs_key);
    let url_list = (last_url_list.and_then(|read| read.join().ok().flatten()))
        .filter(|_| same_files && same_inputs)
        .and_then(|old| urls::patched(old, &base_url, written.as_deref()?))
        .unwrap_or_else(|| {
            let entries = produced.entries.iter();
            urls::manifest(&base_url, entries.map(|(p, s)| (p.as_str(), s.as_str())))
        });
    let url_list_sha256 = sha256_hex(&url_list.bytes);
    let mut site_files = std::mem::take(&mut produced.entries);
    let url_list_entry = (url_list.path.clone(), url_list_sha256.clone());
    match site_files.binary_search_by(|(path, _)| path.as_str().cmp(&url_list.path)) {
        Ok(at) => site_files[at] = url_list_entry,
        Err(at) => site_files.insert(at, url_list_entry),
    }
    // The list is written while the manifest is made.
    let (written, manifest) = rayon::join(
        || write(&url_list, &url_list_sha256),
        || output::Manifest::of_sorted(site_files),
    );
    written.map_err(Diagnostics::from)?;
    swapping.store(true, std::sync::atomic::Ordering::SeqCst);
    staging.commit(&manifest).map_err(|e| {
        Diagnostics::from(Diagnostic::file(
            output_dir.clone(),
            format!("cannot replace the previous site: {e}"),
        ))
    })?;
    // The search state once its stamps are taken: the thread storing it
    // waits for them, while the other cache files are written. (A state whose
    // stamping thread failed is not kept: the next build assembles the index
    // in full.)
    let live = output_dir.as_path();
    let stamped = move || {
        let (mut state, in_time, stamp_only) = stamping?.join().ok()?;
        if !in_time {
            state.stamp(live, stamp_only.as_ref());
        }
        Some(state)
    };
    produced.records.manifest = manifest.id.clone();
    produced.records.targets = targets;
    produced.records.paths = Some(paths);
    produced.records.inputs = prepared.inputs_key.clone();
    // What the next build starts from, written side by side (each file on its
    // own, replaced whole).
    produced.search_state = std::thread::scope(|scope| {
        // The site that was live is now the spare: its manifest moves along.
        scope.spawn(|| cache::store_manifests(&options.root, &manifest));
        scope.spawn(|| incremental::store(&options.root, &produced.records));
        for file in &archive.cache_files {
            scope.spawn(|| file.write(&options.root));
        }
        // What the next build patches the search index from: its state and
        // the bodies it was made from (a session keeps its analyses instead).
        let storing_search = if session.is_none() {
            let documents = &archive.documents;
            let plan = prepared.search_patch.as_ref();
            let prepared = &prepared;
            Ok(scope.spawn(move || {
                let state = stamped()?;
                // Only the edited bodies are added when the stored ones are
                // those of the same documents.
                let updated = plan.is_some_and(|plan| {
                    let Some(stored) = &plan.stored else {
                        return false;
                    };
                    let changed = documents
                        .iter()
                        .filter(|d| plan.old_bodies.contains_key(&d.file))
                        .map(|d| (d.file.as_path(), d.body.text()));
                    search::state::update(&options.root, prepared.salt, stored, &state, changed)
                });
                if !updated {
                    search::state::store(
                        &options.root,
                        prepared.salt,
                        &state,
                        documents.iter().map(|d| (d.file.as_path(), d.body.text())),
                    )
                }
                Some(state)
            }))
        } else {
            // A session: the stamps are waited for below, with nothing to store.
            Err(stamped)
        };
        // A session keeps its documents in memory instead (and serves many builds).
        match staged_documents {
            // Written while the pages were rendered, unless that failed.
            Some(staged) => staged.into_iter().for_each(cache::StagedFile::keep),
            None if session.is_none() => {
                scope.spawn(|| {
                    document::stored::store(
                        &options.root,
                        prepared.salt,
                        documents_to_store(&prepared),
                        &prepared.stored,
                    )
                });
            }
            None => {}
        }
        match storing_search {
            Ok(storing) => storing.join().ok().flatten(),
            Err(stamped) => stamped(),
        }
    });
    stage_done(
        prepared.progress,
        "publish",
        &format!("links of {} files checked", checked.files),
        &mut clock,
    );
    if let (Some(session), Some(analyses)) = (session.as_deref_mut(), keep_for_session) {
        let salt = prepared.salt;
        session.search.keep(salt, &archive.documents, &analyses);
        session.search.groups = std::mem::take(&mut produced.search_groups);
        session.search_state = prepared
            .inputs_key
            .clone()
            .zip(produced.search_state.take());
        let documents = archive.documents.iter().chain(&prepared.drafts);
        session.parsed.keep(salt, documents, &prepared.stamps);
        session.bodies = bodies.take().unwrap_or_default();
    }
    cache::store(
        &options.root,
        &cache::BuildState {
            inputs,
            output: output_dir.clone(),
            urls_sha256: url_list_sha256,
            documents: archive.documents.len(),
            pages: produced.html_pages,
        },
    );
    let report = BuildReport {
        documents: archive.documents.len(),
        pages: produced.html_pages,
        rendered: produced.rendered,
        files: manifest.files.len(),
        elapsed: start.elapsed(),
        up_to_date: false,
        analysed: produced.analysed,
        parsed: prepared.parsed,
        linked: archive.links.rendered,
        search_patched,
        host_less: archive.config.origin.is_empty(),
    };
    // Freeing a large archive takes a noticeable share of a build (millions of
    // small allocations); do it off the critical path. A command-line build exits
    // without waiting for it, `serve` lets it finish in the background.
    let parts = renderer.into_parts();
    drop(links);
    match session {
        Some(session) => {
            session.last = Some(session::LastBuild {
                archive: prepared.archive,
                parts: Some(parts),
                build: session::build_identity(options),
                files: manifest
                    .files
                    .iter()
                    .map(|(path, _)| path.clone())
                    .collect(),
            });
        }
        None => {
            // With the rest of what the build holds: freed when the function
            // returned, the stored bodies' link results, the last build's page
            // records and the manifest kept a 10k-document edit waiting 24 ms.
            let held = (manifest, previous, bodies);
            std::thread::spawn(move || drop((prepared, parts, produced, held)));
        }
    }
    Ok(report)
}

/// The documents the next build may take without parsing them again (see
/// [`document::stored`]): each with its source's digest, and its file's stamp
/// if the file had settled when it was read.
fn documents_to_store(
    prepared: &Prepared,
) -> impl Iterator<
    Item = (
        &document::stored::SourceDigest,
        &document::Document,
        Option<load::FileStamp>,
    ),
> {
    let settled = |d: &document::Document| {
        let stamp = prepared.stamps.get(d.file.as_os_str()).copied();
        stamp.filter(|s| s.settled(prepared.stamped_at))
    };
    let documents = prepared.archive.documents.iter().chain(&prepared.drafts);
    documents.filter_map(move |d| Some((prepared.digests.get(&d.file)?, d, settled(d))))
}

/// What the render stage produced: every file's site path and SHA-256.
struct Produced {
    entries: Vec<(String, String)>,
    html_pages: usize,
    /// Each page's key and files, for the next build.
    records: incremental::PageRecords,
    /// Files taken unchanged from the previous site (not rendered, not observed by
    /// the link checker).
    kept: Vec<String>,
    /// Pages rendered (not taken from the previous site).
    rendered: usize,
    /// Documents analysed for the search index.
    analysed: usize,
    /// The search index's interned groups, for a session's next build.
    search_groups: Vec<search::KeptGroup>,
    /// The previous build's records, read for the render stage (see
    /// [`Reuse::previous`]).
    previous: Option<incremental::PageRecords>,
    /// What the next build's patch of the search index starts from.
    search_state: Option<search::patch::SearchState>,
    /// If the search index was patched (see [`search_index`]), the files
    /// the patch wrote.
    search_patched: Option<HashSet<String>>,
}

/// Renders every page and generated file and hands each to `write` as soon as it
/// is made (originals to `copy`), so memory stays flat however many pages there are.
/// The search index is made from the link stage's analyses and a session's kept
/// groups (see [`search::write_index_kept`]); the groups come back in
/// [`Produced::search_groups`].
fn produce(
    prepared: &Prepared,
    renderer: &render::Renderer<'_>,
    write: &(dyn Fn(&render::OutputFile, &str) -> Result<(), Diagnostic> + Sync),
    copy: &(dyn Fn(&Path, &str, &str) -> Result<(), Diagnostic> + Sync),
    hash_contents: bool,
    reuse: Option<&Reuse<'_>>,
    (analyses, mut search_groups): (search::Analyses, Vec<search::KeptGroup>),
) -> Result<Produced, Diagnostics> {
    let mut clock = Instant::now();
    let archive = &prepared.archive;
    // Every file's digest: urls.json lists the permanent ones, and the output's
    // manifest all of them, so the next build writes only what changed.
    // `check` writes nothing and needs the paths alone.
    let hash = |file: &render::OutputFile| {
        let digest = if hash_contents {
            sha256_hex(&file.bytes)
        } else {
            String::new()
        };
        (file.path.clone(), digest)
    };
    // The search index first, while no page state is held: its assembly is the
    // build's largest working set, and the analyses it consumes are freed before
    // the pages are rendered.
    let (searched, search_state, analysed, detail, search_patched) =
        search_index(prepared, analyses, &mut search_groups, reuse, write);
    stage_done(prepared.progress, "search", &detail, &mut clock);
    let previous = reuse.and_then(|r| (r.previous)());
    let pages = renderer.pages();
    let progress = prepared.progress;
    let bar = (progress == Progress::Bar).then(|| {
        let bar = indicatif::ProgressBar::new(pages.len() as u64);
        bar.set_style(
            indicatif::ProgressStyle::with_template("   render  [{bar:30}] {pos}/{len} pages")
                .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar())
                .progress_chars("=> "),
        );
        bar
    });
    // Each page's files, its record for the next build, and whether it was taken
    // from the previous site instead of rendered.
    type PageResult = (
        Vec<(String, String)>,
        Option<(String, incremental::PageRecord)>,
        bool,
    );
    // The generated files (feeds, exports, the bibliography), taken from the
    // live site like a page when their key is the one recorded (a body edit),
    // else made again: while the pages render, so that their long serial
    // tasks fill the cores the last pages leave idle. Their files and any
    // errors, the paths kept, and their record for the next build.
    let generate = || {
        let mut made_entries = Vec::new();
        let mut errors = Vec::new();
        let mut kept = Vec::new();
        let generated_key = reuse.map(|r| incremental::key_text(r.keys.generated(&prepared.theme)));
        let previous_generated = reuse.zip(generated_key.as_ref()).and_then(|(r, key)| {
            let record = previous.as_ref()?.pages.get(incremental::GENERATED)?;
            (&record.key == key).then_some((r, record))
        });
        // Kept only if every file still is in the live site (none deleted by
        // hand); else made again.
        let previous_generated = previous_generated.filter(|(r, record)| {
            (record.files.iter()).all(|(site_path, sha256)| (r.keep)(site_path, sha256).is_ok())
        });
        let generated_entries: Vec<(String, String)> = match previous_generated {
            Some((_, record)) => {
                made_entries.extend(record.files.iter().cloned());
                kept.extend(record.files.iter().map(|(p, _)| p.clone()));
                record.files.clone()
            }
            None => match publish::generated_files(archive, &prepared.theme) {
                Ok(extra) => {
                    let written: Vec<Result<(String, String), Diagnostic>> = extra
                        .par_iter()
                        .map(|file| {
                            let entry = hash(file);
                            write(file, &entry.1).map(|()| entry)
                        })
                        .collect();
                    let mut made = Vec::with_capacity(written.len());
                    for result in written {
                        match result {
                            Ok(entry) => made.push(entry),
                            Err(d) => errors.push(d),
                        }
                    }
                    made_entries.extend(made.iter().cloned());
                    made
                }
                Err(e) => {
                    errors.extend(e);
                    Vec::new()
                }
            },
        };
        let record = generated_key.map(|key| incremental::PageRecord {
            key,
            files: generated_entries,
        });
        (made_entries, errors, kept, record)
    };
    let (results, generated): (Vec<Result<PageResult, Diagnostic>>, _) = rayon::join(
        || {
            pages
                .par_iter()
                .with_max_len(1)
                .map(|&page| {
                    if let Some(bar) = &bar {
                        bar.inc(1);
                    }
                    let keyed = reuse.map(|r| {
                        let path = renderer.page_path(page);
                        let key = incremental::key_text(r.keys.key(page, &path));
                        (r, path, key)
                    });
                    if let Some((r, path, key)) = &keyed {
                        if let Some(previous) = previous.as_ref().and_then(|p| p.pages.get(path)) {
                            // A file gone from the live site (deleted by hand)
                            // cannot be kept: the page is rendered again.
                            if &previous.key == key
                                && (previous.files.iter())
                                    .all(|(site_path, sha256)| (r.keep)(site_path, sha256).is_ok())
                            {
                                let entries = previous.files.clone();
                                return Ok((entries, Some((path.clone(), previous.clone())), true));
                            }
                        }
                    }
                    let files = renderer.render(page)?;
                    let mut entries = Vec::with_capacity(files.len());
                    for file in &files {
                        let entry = hash(file);
                        write(file, &entry.1)?;
                        entries.push(entry);
                    }
                    let record = keyed.map(|(_, path, key)| {
                        let record = incremental::PageRecord {
                            key,
                            files: entries.clone(),
                        };
                        (path, record)
                    });
                    Ok((entries, record, false))
                })
                .collect()
        },
        generate,
    );
    if let Some(bar) = &bar {
        bar.finish_and_clear();
    }
    let rendered = results
        .iter()
        .filter(|r| !matches!(r, Ok((_, _, true))))
        .count();
    stage_done(
        progress,
        "render",
        &format!("{} pages, {rendered} rendered; feeds, exports", pages.len()),
        &mut clock,
    );
    let mut errors = Vec::new();
    let mut entries = Vec::with_capacity(pages.len() * 2);
    // Which page wrote which run of `entries`, to name the culprit if two
    // files share a path.
    let mut writers: Vec<(std::ops::Range<usize>, render::Page)> = Vec::with_capacity(pages.len());
    let mut records = incremental::PageRecords::default();
    let mut kept = Vec::new();
    for (r, &page) in results.into_iter().zip(&pages) {
        match r {
            Ok((e, record, was_kept)) => {
                if was_kept {
                    kept.extend(e.iter().map(|(p, _)| p.clone()));
                }
                writers.push((entries.len()..entries.len() + e.len(), page));
                entries.extend(e);
                records.pages.extend(record);
            }
            Err(d) => errors.push(d),
        }
    }
    match searched {
        Ok(searched) => {
            for r in searched {
                match r {
                    Ok(e) => entries.push(e),
                    Err(d) => errors.push(d),
                }
            }
        }
        Err(e) => errors.push(Diagnostic::file(
            "search/docs/",
            format!(
                "cannot read back the search index's snippet files from their temporary file: {e}"
            ),
        )),
    }
    let (generated_entries, generated_errors, generated_kept, generated_record) = generated;
    entries.extend(generated_entries);
    errors.extend(generated_errors);
    kept.extend(generated_kept);
    if let Some(record) = generated_record {
        records
            .pages
            .insert(incremental::GENERATED.to_string(), record);
    }
    for (original, site_path) in &archive.attachments {
        match copy(&original.path, site_path, &original.sha256) {
            Ok(()) => entries.push((site_path.clone(), original.sha256.clone())),
            Err(d) => errors.push(d),
        }
    }
    stage_done(
        progress,
        "generate",
        &format!("{} originals", archive.attachments.len()),
        &mut clock,
    );
    errors.extend(paths_written_twice(&entries, writers, archive, renderer));
    if !errors.is_empty() {
        return Err(Diagnostics::sorted(errors));
    }
    entries.sort();
    let html_pages = entries.iter().filter(|(p, _)| p.ends_with(".html")).count();
    Ok(Produced {
        entries,
        html_pages,
        records,
        kept,
        rendered,
        analysed,
        search_groups,
        previous,
        search_state,
        search_patched,
    })
}

/// What [`search_index`] returns: each file's (site path, SHA-256) or why
/// it could not be written, the state for the next patch, how many
/// documents were analysed, the search stage's line, and if the index was
/// patched, the files the patch wrote.
type SearchMade = (
    std::io::Result<Vec<Result<(String, String), Diagnostic>>>,
    Option<search::patch::SearchState>,
    usize,
    String,
    Option<HashSet<String>>,
);

/// The search stage: the live index patched in place when the plan holds
/// (see [`SearchPatch`]), else assembled from every document's analysis
/// (made again here if the link pass analysed only the edited ones).
fn search_index(
    prepared: &Prepared,
    analyses: search::Analyses,
    search_groups: &mut Vec<search::KeptGroup>,
    reuse: Option<&Reuse<'_>>,
    write: &(dyn Fn(&render::OutputFile, &str) -> Result<(), Diagnostic> + Sync),
) -> SearchMade {
    let archive = &prepared.archive;
    // Each file is handed to `write` as it is made, in parallel, instead of
    // being collected with the other generated files.
    let write_search = |file: render::OutputFile, sha256: &[u8; 32]| {
        let entry = (file.path.clone(), load::hex(sha256));
        write(&file, &entry.1).map(|()| entry)
    };
    let analysed = analyses.made;
    let refusal = match (&prepared.search_patch, reuse) {
        (
            Some(plan),
            Some(
                reuse @ Reuse {
                    live: Some(live), ..
                },
            ),
        ) => match patch_search(archive, plan, &analyses, live, write, reuse) {
            Ok(patched) => {
                let detail = format!(
                    "index patched: {analysed} documents analysed, {} files written",
                    patched.written.len() + 1
                );
                let written = Some(patched.written);
                return (
                    Ok(patched.results),
                    Some(patched.state),
                    analysed,
                    detail,
                    written,
                );
            }
            Err(refusal) => Some(refusal),
        },
        _ => None,
    };
    // A session's link pass handed every analysis on (its kept ones too).
    let complete = analyses.documents.len() == archive.documents.len();
    let (made, analysed, detail) = match refusal {
        Some(refusal) if !complete => {
            let analysed = archive.documents.len();
            let made =
                search::write_index_state(archive, search::Analyses::default(), None, write_search);
            (
                made,
                analysed,
                format!("{analysed} documents analysed ({refusal})"),
            )
        }
        refusal => {
            let made =
                search::write_index_state(archive, analyses, Some(search_groups), write_search);
            let detail = match refusal {
                Some(refusal) => format!("{analysed} documents analysed ({refusal})"),
                None => format!("{analysed} documents analysed"),
            };
            (made, analysed, detail)
        }
    };
    match made {
        Ok((results, state)) => (Ok(results), Some(state), analysed, detail, None),
        Err(e) => (Err(e), None, analysed, detail, None),
    }
}

/// Patches the live search index for the documents the link pass analysed
/// (see [`SearchPatch`]): their old analyses are made from their old bodies,
/// each new or changed file is written and every other kept (taken from the
/// live site unless the staging folder holds its bytes already); or says why
/// no patch was made.
fn patch_search(
    archive: &archive::Archive,
    plan: &SearchPatch,
    analyses: &search::Analyses,
    live: &Path,
    write: &(dyn Fn(&render::OutputFile, &str) -> Result<(), Diagnostic> + Sync),
    reuse: &Reuse<'_>,
) -> Result<SearchPatched, String> {
    let (keep, holds) = (reuse.keep, reuse.holds);
    if analyses.only.len() != plan.old_bodies.len() {
        return Err("the edited documents were not all analysed".into());
    }
    let old: Vec<(usize, search::DocumentAnalysis)> = analyses
        .only
        .par_iter()
        .map(|(d, _)| {
            let doc = &archive.documents[*d];
            let text = plan
                .old_bodies
                .get(&doc.file)
                .ok_or("an edited document has no old body")?;
            let old_doc = document::Document {
                body: text.as_str().into(),
                ..doc.clone()
            };
            search::analyse_document(&old_doc, &mut search::WordMemo::default())
                .map(|a| (*d, a))
                .map_err(|e| e.to_string())
        })
        .collect::<Result<_, String>>()?;
    let changes: Vec<search::patch::Change<'_>> = old
        .iter()
        .zip(&analyses.only)
        .map(|((doc, old), (_, new))| search::patch::Change {
            doc: *doc,
            old,
            new,
        })
        .collect();
    let read = |path: &str| std::fs::read(live.join(path)).ok();
    // Made only if the patch gets that far (a refused one assembles them).
    let facets = || search::facets_file(archive);
    let patched = search::patch::patch(
        &plan.state,
        &read,
        archive.documents.len(),
        &changes,
        facets,
    )?;
    // Each file with its digest as the site's lists hold it, and for a kept
    // one, whether it is taken from the live site: then it must be as the
    // last build published it (see [`search::patch::SearchState::stamps`]).
    // This is asked before anything is written.
    let files: Vec<(search::patch::PatchedFile, String, bool)> = patched
        .files
        .into_par_iter()
        .map(|file| {
            let hex = load::hex(file.sha256());
            let from_live = match &file {
                search::patch::PatchedFile::Kept(path, _) => !holds(path, &hex),
                search::patch::PatchedFile::Written(..) => false,
            };
            (file, hex, from_live)
        })
        .collect();
    let from_live: HashSet<&str> = (files.iter())
        .filter(|(_, _, from_live)| *from_live)
        .map(|(file, _, _)| file.path())
        .collect();
    if !plan.state.unchanged_in(live, &from_live) {
        return Err("a live search file changed since it was published".into());
    }
    let written: HashSet<String> = (files.iter())
        .filter(|(file, _, _)| matches!(file, search::patch::PatchedFile::Written(..)))
        .map(|(file, _, _)| file.path().to_string())
        .collect();
    let mut results: Vec<Result<(String, String), Diagnostic>> = files
        .into_par_iter()
        .map(|(file, hex, from_live)| match file {
            search::patch::PatchedFile::Kept(path, _) if !from_live => Ok((path, hex)),
            search::patch::PatchedFile::Kept(path, _) => keep(&path, &hex).map(|()| (path, hex)),
            search::patch::PatchedFile::Written(file, _) => {
                write(&file, &hex).map(|()| (file.path, hex))
            }
        })
        .collect();
    let manifest_sha = sha256_hex(&patched.manifest.bytes);
    results.push(
        write(&patched.manifest, &manifest_sha).map(|()| (patched.manifest.path, manifest_sha)),
    );
    Ok(SearchPatched {
        results,
        state: patched.state,
        written,
    })
}

/// What [`patch_search`] returns: each file's (site path, SHA-256) in order
/// or why it could not be written, the state for the next patch, and the
/// files written (the manifest aside).
struct SearchPatched {
    results: Vec<Result<(String, String), Diagnostic>>,
    state: search::patch::SearchState,
    written: HashSet<String>,
}

/// What made a file of the site.
#[derive(Debug, Clone, Copy)]
enum Writer {
    Page(render::Page),
    /// A document's original (by document index).
    Original(usize),
    /// Feeds, exports, the search index, the theme's assets.
    Generated,
}

/// An error for every site path that two files of a build were written to: one
/// would have replaced the other, depending on which thread came last. Aliases
/// and originals, the paths an editor chooses, are checked against the build's
/// own files when the archive is linked; this is the net under every path, so
/// that no page is ever lost without a word. `writers` names the page of each
/// run of page files in `entries` (the other files are generated, or originals
/// found by path).
fn paths_written_twice(
    entries: &[(String, String)],
    writers: Vec<(std::ops::Range<usize>, render::Page)>,
    archive: &archive::Archive,
    renderer: &render::Renderer<'_>,
) -> Vec<Diagnostic> {
    let mut seen: HashMap<&str, usize> = HashMap::with_capacity(entries.len());
    let mut twice: Vec<&str> = Vec::new();
    for (path, _) in entries {
        let n = seen.entry(path).or_default();
        *n += 1;
        if *n == 2 {
            twice.push(path);
        }
    }
    if twice.is_empty() {
        return Vec::new();
    }
    let mut by_path: HashMap<&str, Vec<Writer>> = HashMap::new();
    for (run, page) in writers {
        for (path, _) in &entries[run] {
            if seen.get(path.as_str()).is_some_and(|&n| n > 1) {
                by_path.entry(path).or_default().push(Writer::Page(page));
            }
        }
    }
    let describe = |writer: Writer| match writer {
        Writer::Page(render::Page::Document(d)) => {
            format!("the page of document `{}`", archive.documents[d].id)
        }
        Writer::Page(render::Page::Alias(d, _)) => {
            format!("an alias in {}", archive.documents[d].file.display())
        }
        Writer::Page(page) => format!("the page `/{}`", renderer.page_path(page)),
        Writer::Original(d) => format!("the original of {}", archive.documents[d].file.display()),
        Writer::Generated => "a file the build generates".to_string(),
    };
    twice.sort_unstable();
    twice
        .into_iter()
        .map(|path| {
            let mut found: Vec<Writer> = by_path.get(path).cloned().unwrap_or_default();
            // An original is published in its document's folder.
            if archive.attachments.iter().any(|(_, p)| p == path) {
                let id = path
                    .strip_prefix("documents/")
                    .and_then(|r| r.split('/').next());
                found.extend(
                    id.and_then(|id| archive.by_id.get(id))
                        .map(|&d| Writer::Original(d)),
                );
            }
            let copies = seen.get(path).copied().unwrap_or(2);
            while found.len() < copies {
                found.push(Writer::Generated);
            }
            let names: Vec<String> = found.iter().map(|&w| describe(w)).collect();
            let message = format!(
                "`/{path}` would be written {copies} times, by {}: one would replace the other",
                names.join(" and ")
            );
            let blamed = found.iter().find_map(|w| match *w {
                Writer::Page(render::Page::Alias(d, _)) => Some((d, "aliases")),
                Writer::Original(d) => Some((d, "source")),
                _ => None,
            });
            match blamed {
                Some((d, key)) => archive.documents[d].diagnostic_at_key(key, message),
                None => Diagnostic::file(path, message),
            }
        })
        .collect()
}

/// What lets a build take pages from the previous site instead of rendering them.
struct Reuse<'r> {
    keys: &'r incremental::PageKeys,
    /// Reads the previous build's records, when the live output is the site they
    /// describe: called once the search index is made, so that they are not
    /// held through its assembly.
    previous: &'r (dyn Fn() -> Option<incremental::PageRecords> + Sync),
    /// Takes a file (site path, SHA-256) from the live site into the new one.
    keep: &'r (dyn Fn(&str, &str) -> Result<(), Diagnostic> + Sync),
    /// Whether the staging folder holds a file (site path, SHA-256) already.
    holds: &'r (dyn Fn(&str, &str) -> bool + Sync),
    /// The live site's folder, whose search index a patch reads.
    live: Option<&'r Path>,
}

/// Fails if an internal link or asset of any produced page does not resolve under
/// the base path (checked before the new site replaces the old one).
fn verify_links(
    links: &publish::linkcheck::LinkChecker,
    produced: &Produced,
    archive: &archive::Archive,
) -> Result<publish::linkcheck::LinkReport, Diagnostics> {
    let files = produced.entries.iter().map(|(p, _)| p.as_str());
    // A broken link on a document's page written in its body is reported at
    // the body's line and column.
    let in_body = |page: &str, url: &str| {
        let id = page
            .strip_prefix("documents/")?
            .strip_suffix("/index.html")?;
        let doc = &archive.documents[*archive.by_id.get(id)?];
        let text = doc.body.text().ok()?;
        let offset = markdown::link_offsets(&text)
            .into_iter()
            .find(|(dest, _)| dest == url)?
            .1;
        Some(archive::links::body_diagnostic(doc, offset, ""))
    };
    links
        .verify_located(files.chain([urls::URLS_FILE]), &in_body)
        .map_err(Diagnostics::sorted)
}

/// Fails if a URL listed in the `--previous` urls.json would no longer be served.
fn guard_urls(
    options: &BuildOptions,
    archive: &archive::Archive,
    produced: &Produced,
) -> Result<(), Diagnostics> {
    let Some(spec) = &options.previous else {
        return Ok(());
    };
    let previous = urls::load_previous(spec).map_err(Diagnostics::from)?;
    let current: std::collections::BTreeSet<String> = produced
        .entries
        .iter()
        .map(|(p, _)| urls::url_path(p))
        .collect();
    // An alias folder is in `current` with what it serves (the redirect page,
    // the citation exports, the original): anything else that was published
    // under the old path is missing.
    let missing = urls::missing(&previous, &current, &archive.config.base_url(), spec);
    if missing.is_empty() {
        Ok(())
    } else {
        Err(Diagnostics::sorted(missing))
    }
}

/// The SHA-256 of `bytes`, in lower-case hex.
fn sha256_hex(bytes: &[u8]) -> String {
    use sha2::{Digest, Sha256};
    load::hex(&Sha256::digest(bytes))
}

/// The site root to use when none is given: the current folder.
pub fn default_root() -> PathBuf {
    Path::new(".").to_path_buf()
}
