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
pub mod cache;
pub mod cite;
pub mod config;
pub mod diagnostics;
pub mod document;
pub mod entity;
pub mod load;
pub mod markdown;
pub mod output;
pub mod publish;
pub mod render;
pub mod scaffold;
pub mod search;
pub mod serve;
pub mod theme;
pub mod urls;

use diagnostics::{Diagnostic, Diagnostics};
use rayon::prelude::*;
use std::path::{Path, PathBuf};
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
    /// HTML pages rendered.
    pub pages: usize,
    /// Files written in all (pages, assets, attachments).
    pub files: usize,
    /// Wall time.
    pub elapsed: Duration,
    /// True when nothing had changed since the last build and nothing was done.
    pub up_to_date: bool,
}

/// Everything up to rendering: the checked archive and its theme.
struct Prepared {
    archive: archive::Archive,
    theme: theme::Theme,
    progress: Progress,
}

/// Reports a finished stage (one line, unless quiet) and restarts the clock.
/// `ANNALS_TIMINGS` forces the lines on, for profiling.
fn stage_done(progress: Progress, name: &str, detail: &str, since: &mut Instant) {
    let show = progress != Progress::Quiet || std::env::var_os("ANNALS_TIMINGS").is_some();
    if show {
        eprintln!(
            "{name:>9}  {detail:<28} {:8.1} ms",
            since.elapsed().as_secs_f64() * 1000.0
        );
    }
    *since = Instant::now();
}

/// Load, parse, validate and link; every problem of every stage reached is reported.
fn prepare(options: &BuildOptions) -> Result<Prepared, Diagnostics> {
    let root = &options.root;
    let mut clock = Instant::now();
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
    let (content, load_errors) = load::load_content(root);
    errors.extend(load_errors);
    stage_done(
        options.progress,
        "load",
        &format!("{} files", content.documents.len()),
        &mut clock,
    );
    let parsed: Vec<Result<document::Document, Vec<Diagnostic>>> = content
        .documents
        .par_iter()
        .map(|source| document::parse_document(source, &config))
        .collect();
    let mut documents = Vec::with_capacity(parsed.len());
    for (result, source) in parsed.into_iter().zip(&content.documents) {
        match result {
            Ok(doc) => documents.push(doc),
            // A document is never dropped without a word, whatever a validator misses.
            Err(e) if e.is_empty() => errors.push(Diagnostic::file(
                source.path.clone(),
                "the document could not be read (no details were given)",
            )),
            Err(e) => errors.extend(e),
        }
    }
    if !options.drafts {
        documents.retain(|d| !d.draft);
    }
    stage_done(
        options.progress,
        "parse",
        &format!("{} documents", documents.len()),
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
    if !errors.is_empty() {
        return Err(Diagnostics::sorted(errors));
    }
    // Originals are read and hashed here, at the edge, so that link stays pure.
    let (originals, original_errors) = load::read_originals(root, &documents);
    if !original_errors.is_empty() {
        return Err(Diagnostics::sorted(original_errors));
    }
    let archive =
        archive::link(config, documents, &originals, entities).map_err(Diagnostics::sorted)?;
    stage_done(
        options.progress,
        "link",
        &format!(
            "{} terms",
            archive
                .taxonomies
                .iter()
                .map(|t| t.terms.len())
                .sum::<usize>()
        ),
        &mut clock,
    );
    match theme {
        Some(theme) => Ok(Prepared {
            archive,
            theme,
            progress: options.progress,
        }),
        None => Err(Diagnostics::sorted(errors)),
    }
}

/// Checks everything a build would, including rendering every page and the URL
/// guard, but writes nothing.
pub fn check(options: &BuildOptions) -> Result<BuildReport, Diagnostics> {
    let start = Instant::now();
    let prepared = prepare(options)?;
    let renderer =
        render::Renderer::new(&prepared.archive, &prepared.theme).map_err(Diagnostics::sorted)?;
    let links = publish::linkcheck::LinkChecker::new(&prepared.archive.config);
    let observe = |file: &render::OutputFile| {
        links.observe(file);
        Ok(())
    };
    let produced = produce(&prepared, &renderer, &observe, &|_, _| Ok(()), false)?;
    guard_urls(options, &prepared.archive, &produced)?;
    verify_links(&links, &produced)?;
    Ok(BuildReport {
        documents: prepared.archive.documents.len(),
        pages: produced.html_pages,
        files: 0,
        elapsed: start.elapsed(),
        up_to_date: false,
    })
}

/// Builds the archive into its output folder, replacing the previous build only if
/// everything succeeded.
pub fn build(options: &BuildOptions) -> Result<BuildReport, Diagnostics> {
    let start = Instant::now();
    let output_dir = options.output_dir();
    // Nothing changed since the last successful build into this output: done.
    let inputs = cache::fingerprint(
        &options.root,
        &format!(
            "{:?}|{}|{:?}|{:?}",
            options.base_url, options.drafts, output_dir, options.previous
        ),
    );
    let remote_previous = options
        .previous
        .as_deref()
        .is_some_and(|p| p.contains("://"));
    if let Some(state) = cache::load(&options.root) {
        let intact = state.output == output_dir
            && cache::file_sha256(&output_dir.join(urls::URLS_FILE)).as_deref()
                == Some(state.urls_sha256.as_str());
        if state.inputs == inputs && intact && !remote_previous {
            return Ok(BuildReport {
                documents: state.documents,
                pages: state.pages,
                files: 0,
                elapsed: start.elapsed(),
                up_to_date: true,
            });
        }
    }
    // The recorded state stays valid if this build fails or is killed: the output is
    // only replaced, and the state only rewritten, when the build succeeds.
    let prepared = prepare(options)?;
    let archive = &prepared.archive;
    let renderer = render::Renderer::new(archive, &prepared.theme).map_err(Diagnostics::sorted)?;
    let staging = output::Staging::begin(&output_dir, &options.root).map_err(|e| {
        Diagnostics::from(Diagnostic::file(
            output_dir.clone(),
            format!("cannot write the site: {e}"),
        ))
    })?;
    let links = publish::linkcheck::LinkChecker::new(&archive.config);
    let write = |file: &render::OutputFile| {
        links.observe(file);
        staging.write(file).map_err(|e| {
            Diagnostic::file(output_dir.join(&file.path), format!("cannot write: {e}"))
        })
    };
    let copy = |source: &Path, site_path: &str| {
        staging
            .copy(&options.root.join(source), site_path)
            .map_err(|e| Diagnostic::file(source, format!("cannot publish the original: {e}")))
    };
    let produced = produce(&prepared, &renderer, &write, &copy, true)?;
    guard_urls(options, archive, &produced)?;
    verify_links(&links, &produced)?;
    let manifest = urls::manifest(&archive.config.base_url(), produced.entries.clone());
    write(&manifest).map_err(Diagnostics::from)?;
    staging.commit().map_err(|e| {
        Diagnostics::from(Diagnostic::file(
            output_dir.clone(),
            format!("cannot replace the previous site: {e}"),
        ))
    })?;
    cache::store(
        &options.root,
        &cache::BuildState {
            inputs,
            output: output_dir.clone(),
            urls_sha256: cache::file_sha256(&output_dir.join(urls::URLS_FILE)).unwrap_or_default(),
            documents: archive.documents.len(),
            pages: produced.html_pages,
        },
    );
    Ok(BuildReport {
        documents: archive.documents.len(),
        pages: produced.html_pages,
        files: produced.entries.len() + 1,
        elapsed: start.elapsed(),
        up_to_date: false,
    })
}

/// What the render stage produced: every file's site path and SHA-256.
struct Produced {
    entries: Vec<(String, String)>,
    html_pages: usize,
}

/// Renders every page and generated file and hands each to `write` as soon as it
/// is made (originals to `copy`), so memory stays flat however many pages there are.
fn produce(
    prepared: &Prepared,
    renderer: &render::Renderer<'_>,
    write: &(dyn Fn(&render::OutputFile) -> Result<(), Diagnostic> + Sync),
    copy: &(dyn Fn(&Path, &str) -> Result<(), Diagnostic> + Sync),
    hash_contents: bool,
) -> Result<Produced, Diagnostics> {
    use sha2::{Digest, Sha256};
    let mut clock = Instant::now();
    let archive = &prepared.archive;
    // Only the permanent files go into urls.json; `check` needs their paths alone.
    let hash = |file: &render::OutputFile| {
        let digest = if hash_contents && urls::is_permanent(&file.path) {
            load::hex(&Sha256::digest(&file.bytes))
        } else {
            String::new()
        };
        (file.path.clone(), digest)
    };
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
    let results: Vec<Result<Vec<(String, String)>, Diagnostic>> = pages
        .par_iter()
        .map(|&page| {
            if let Some(bar) = &bar {
                bar.inc(1);
            }
            let files = renderer.render(page)?;
            let mut entries = Vec::with_capacity(files.len());
            for file in &files {
                write(file)?;
                entries.push(hash(file));
            }
            Ok(entries)
        })
        .collect();
    if let Some(bar) = &bar {
        bar.finish_and_clear();
    }
    stage_done(
        progress,
        "render",
        &format!("{} pages", pages.len()),
        &mut clock,
    );
    let mut errors = Vec::new();
    let mut entries = Vec::with_capacity(pages.len() * 2);
    for r in results {
        match r {
            Ok(e) => entries.extend(e),
            Err(d) => errors.push(d),
        }
    }
    match publish::generated_files(archive, &prepared.theme) {
        Ok(extra) => {
            for file in &extra {
                match write(file) {
                    Ok(()) => entries.push(hash(file)),
                    Err(d) => errors.push(d),
                }
            }
        }
        Err(e) => errors.extend(e),
    }
    for (original, site_path) in &archive.attachments {
        match copy(&original.path, site_path) {
            Ok(()) => entries.push((site_path.clone(), original.sha256.clone())),
            Err(d) => errors.push(d),
        }
    }
    stage_done(progress, "generate", "feeds, exports, search", &mut clock);
    if !errors.is_empty() {
        return Err(Diagnostics::sorted(errors));
    }
    entries.sort();
    let html_pages = entries.iter().filter(|(p, _)| p.ends_with(".html")).count();
    Ok(Produced {
        entries,
        html_pages,
    })
}

/// Fails if an internal link or asset of any produced page does not resolve under
/// the base path (checked before the new site replaces the old one).
fn verify_links(
    links: &publish::linkcheck::LinkChecker,
    produced: &Produced,
) -> Result<(), Diagnostics> {
    let files = produced.entries.iter().map(|(p, _)| p.as_str());
    links
        .verify(files.chain([urls::URLS_FILE]))
        .map(|_| ())
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
    // An alias redirects a page and what was published under it (its exports).
    let aliases: Vec<&str> = archive
        .documents
        .iter()
        .flat_map(|d| d.aliases.iter().map(String::as_str))
        .filter(|a| a.ends_with('/'))
        .collect();
    let missing: Vec<Diagnostic> =
        urls::missing(&previous, &current, &archive.config.base_url(), spec)
            .into_iter()
            .filter(|d| {
                !aliases
                    .iter()
                    .any(|a| d.message.contains(&format!("{}{a}", previous.base_url)))
            })
            .collect();
    if missing.is_empty() {
        Ok(())
    } else {
        Err(Diagnostics::sorted(missing))
    }
}

/// The site root to use when none is given: the current folder.
pub fn default_root() -> PathBuf {
    Path::new(".").to_path_buf()
}
