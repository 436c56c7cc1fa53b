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
pub mod cite;
pub mod config;
pub mod diagnostics;
pub mod document;
pub mod load;
pub mod markdown;
pub mod output;
pub mod publish;
pub mod render;
pub mod theme;

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
}

impl BuildOptions {
    /// Options for building the archive at `root` with defaults.
    pub fn new(root: impl Into<PathBuf>) -> Self {
        BuildOptions {
            root: root.into(),
            output: None,
            base_url: None,
            drafts: false,
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
}

/// Everything up to rendering: the checked archive and its theme.
struct Prepared {
    archive: archive::Archive,
    theme: theme::Theme,
}

/// Load, parse, validate and link; every problem of every stage reached is reported.
fn prepare(options: &BuildOptions) -> Result<Prepared, Diagnostics> {
    let root = &options.root;
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
    let parsed: Vec<Result<document::Document, Vec<Diagnostic>>> = content
        .documents
        .par_iter()
        .map(|source| document::parse_document(source, &config))
        .collect();
    let mut documents = Vec::with_capacity(parsed.len());
    for result in parsed {
        match result {
            Ok(doc) => documents.push(doc),
            Err(e) => errors.extend(e),
        }
    }
    if !options.drafts {
        documents.retain(|d| !d.draft);
    }
    if !errors.is_empty() {
        return Err(Diagnostics::sorted(errors));
    }
    // Originals are read and hashed here, at the edge, so that link stays pure.
    let (originals, original_errors) = load::read_originals(root, &documents);
    if !original_errors.is_empty() {
        return Err(Diagnostics::sorted(original_errors));
    }
    let archive = archive::link(config, documents, &originals).map_err(Diagnostics::sorted)?;
    match theme {
        Some(theme) => Ok(Prepared { archive, theme }),
        None => Err(Diagnostics::sorted(errors)),
    }
}

/// Checks everything a build would, including rendering every page, but writes nothing.
pub fn check(options: &BuildOptions) -> Result<BuildReport, Diagnostics> {
    let start = Instant::now();
    let prepared = prepare(options)?;
    let renderer =
        render::Renderer::new(&prepared.archive, &prepared.theme).map_err(Diagnostics::sorted)?;
    let pages = renderer.pages();
    let errors: Vec<Diagnostic> = pages
        .par_iter()
        .filter_map(|&p| renderer.render(p).err())
        .collect();
    if !errors.is_empty() {
        return Err(Diagnostics::sorted(errors));
    }
    Ok(BuildReport {
        documents: prepared.archive.documents.len(),
        pages: pages.len(),
        files: 0,
        elapsed: start.elapsed(),
    })
}

/// Builds the archive into its output folder, replacing the previous build only if
/// everything succeeded.
pub fn build(options: &BuildOptions) -> Result<BuildReport, Diagnostics> {
    let start = Instant::now();
    let prepared = prepare(options)?;
    let archive = &prepared.archive;
    let renderer = render::Renderer::new(archive, &prepared.theme).map_err(Diagnostics::sorted)?;
    let output_dir = options.output_dir();
    let staging = output::Staging::begin(&output_dir, &options.root).map_err(|e| {
        Diagnostics::from(Diagnostic::file(
            output_dir.clone(),
            format!("cannot write the site: {e}"),
        ))
    })?;
    let pages = renderer.pages();
    // Render and write each page as it is made, so memory stays flat however many
    // pages there are.
    let written = std::sync::atomic::AtomicUsize::new(0);
    let errors: Vec<Diagnostic> = pages
        .par_iter()
        .filter_map(|&page| {
            let files = match renderer.render(page) {
                Ok(f) => f,
                Err(d) => return Some(d),
            };
            written.fetch_add(files.len(), std::sync::atomic::Ordering::Relaxed);
            files.iter().find_map(|file| {
                staging.write(file).err().map(|e| {
                    Diagnostic::file(output_dir.join(&file.path), format!("cannot write: {e}"))
                })
            })
        })
        .collect();
    let mut errors = errors;
    let mut files = written.into_inner() + 1;
    let extra = match publish::generated_files(archive, &prepared.theme) {
        Ok(extra) => extra,
        Err(e) => {
            errors.extend(e);
            Vec::new()
        }
    };
    for file in &extra {
        if let Err(e) = staging.write(file) {
            errors.push(Diagnostic::file(
                output_dir.join(&file.path),
                format!("cannot write: {e}"),
            ));
        }
        files += 1;
    }
    for (original, site_path) in &archive.attachments {
        let source = &original.path;
        if let Err(e) = staging.copy(&options.root.join(source), site_path) {
            errors.push(Diagnostic::file(
                source.clone(),
                format!("cannot publish the original: {e}"),
            ));
        }
        files += 1;
    }
    if !errors.is_empty() {
        return Err(Diagnostics::sorted(errors));
    }
    staging.commit().map_err(|e| {
        Diagnostics::from(Diagnostic::file(
            output_dir.clone(),
            format!("cannot replace the previous site: {e}"),
        ))
    })?;
    Ok(BuildReport {
        documents: archive.documents.len(),
        pages: pages.len(),
        files,
        elapsed: start.elapsed(),
    })
}

/// The site root to use when none is given: the current folder.
pub fn default_root() -> PathBuf {
    Path::new(".").to_path_buf()
}
