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
//! - the search analyses, by document content, and the search index's interned
//!   groups, so that an edit interns only its own chunk again
//!   ([`crate::search::AnalysisCache`]); and the state of the index the last
//!   build wrote, so that an edit of bodies alone patches the live index
//!   instead ([`crate::search::patch`], the old bodies taken from the kept
//!   documents);
//! - the last successful build's archive and compiled templates, from which
//!   [`Session::preview`] renders the pages of a body edit in milliseconds,
//!   before the build that completes the site. Keeping it instead of freeing it
//!   made no difference to `serve`'s resident memory at 10k documents beyond
//!   the noise (588–693 MB against 621–627 MB after three edits, peak 831–837
//!   MB against 838 MB): the build's own peak dominates.
//!
//! Both are dropped wholesale when the annals binary or `site.toml` changes (the
//! cache *salt*), since either can change how every file is read. Nothing here
//! is written to disk: a command-line build starts from nothing and relies on the
//! page keys of [`crate::incremental`] instead.

use crate::archive::Archive;
use crate::document::Document;
use crate::publish::linkcheck::LinkChecker;
use crate::render::{OutputFile, Page, RenderParts, Renderer};
use crate::search::AnalysisCache;
use crate::BuildOptions;
use rayon::prelude::*;
use std::collections::HashMap;
use std::path::{Path, PathBuf};

/// See the module documentation.
#[derive(Default)]
pub struct Session {
    pub(crate) parsed: ParsedCache,
    pub(crate) bodies: crate::archive::links::BodyCache,
    pub(crate) search: AnalysisCache,
    /// The archive and compiled templates of the last successful build, for [`Session::preview`];
    /// taken at the start of every build, so a failed build leaves none.
    pub(crate) last: Option<LastBuild>,
    /// The inputs key of the last successful build and the state of the search
    /// index it wrote, so that a build with the same inputs but for some
    /// bodies patches the index ([`crate::search::patch`]) instead of
    /// assembling it again from every analysis.
    pub(crate) search_state: Option<(String, crate::search::patch::SearchState)>,
}

/// What the last successful build of a session rendered its pages with.
pub(crate) struct LastBuild {
    pub(crate) archive: Archive,
    /// The build's compiled templates and page lookups; `None` only while a
    /// preview uses them.
    pub(crate) parts: Option<RenderParts>,
    /// The build's root and the options that change its output, so a preview is
    /// only made for the same build.
    pub(crate) build: String,
    /// Every file of the site it wrote, by site path: a previewed page's links
    /// must resolve among them, as the build's link check will require.
    pub(crate) files: Vec<String>,
}

/// What [`Session::preview`] rendered: the new files of the pages an edit
/// changed, to be served in place of the live site's until the next build has
/// replaced the site.
#[derive(Debug)]
pub struct Preview {
    /// The files, by site path (a page's HTML and its citation exports).
    pub files: Vec<OutputFile>,
    /// How many pages they are.
    pub pages: usize,
}

impl Session {
    /// Renders at once the pages changed by `edited` (absolute paths), when every
    /// one of them is a published document whose body alone changed and the
    /// edits reach no other page than its own and the "Referenced by" passages
    /// of the documents it links to (see [`Archive::edit_body`]). Those pages
    /// are byte for byte what the full build will write for them, so `annals
    /// serve` can show them within milliseconds while that build completes the
    /// site (its search index, feeds and exports) in the background.
    ///
    /// `None` when an edit is anything else (front matter, a new or removed
    /// file, an entity, a template, `site.toml`, a content error): only the full
    /// build can apply it. The session's archive then stays as it was; after a
    /// preview it holds the edited bodies, as the next build will.
    pub fn preview(&mut self, options: &BuildOptions, edited: &[PathBuf]) -> Option<Preview> {
        let last = self.last.as_mut()?;
        if edited.is_empty() || last.build != build_identity(options) {
            return None;
        }
        let root = &options.root;
        // Every edit is read and checked before any is applied.
        let mut bodies = Vec::with_capacity(edited.len());
        for path in edited {
            let rel = path.strip_prefix(root).ok()?;
            let at = last.archive.documents.iter().position(|d| d.file == rel)?;
            let source = crate::load::read_source(path, rel).ok()?;
            let doc = crate::document::parse_document(&source, &last.archive.config).ok()?;
            let old = &last.archive.documents[at];
            if doc.front_matter_hash != old.front_matter_hash || doc.body_line != old.body_line {
                return None;
            }
            bodies.push((at, doc.body));
        }
        let mut changed: Vec<usize> = Vec::new();
        for (at, body) in bodies {
            // A rejected edit after an applied one leaves the archive as the
            // files are: the full build then takes over from it.
            match last.archive.edit_body(at, body) {
                Some(pages) => changed.extend(pages),
                None => {
                    self.last = None;
                    return None;
                }
            }
        }
        changed.sort_unstable();
        changed.dedup();
        let renderer = Renderer::with_parts(&last.archive, last.parts.take()?);
        let files: Option<Vec<Vec<OutputFile>>> = changed
            .iter()
            .map(|&d| renderer.render(Page::Document(d)).ok())
            .collect();
        last.parts = Some(renderer.into_parts());
        let files: Vec<OutputFile> = files?.into_iter().flatten().collect();
        // A body can link to a file of the site (an image, a page) without
        // naming a document, in Markdown or raw HTML; the build fails on one
        // that does not exist, so such an edit is left to it.
        let links = LinkChecker::new(&last.archive.config);
        for file in &files {
            links.observe(file);
        }
        links.verify(last.files.iter().map(String::as_str)).ok()?;
        Some(Preview {
            files,
            pages: changed.len(),
        })
    }
}

/// What a [`LastBuild`] must share with a build for a preview of it to be right.
pub(crate) fn build_identity(options: &BuildOptions) -> String {
    format!(
        "{:?}|{:?}|{:?}|{}",
        options.root,
        options.output_dir(),
        options.base_url,
        options.drafts
    )
}

pub use crate::load::FileStamp;

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

    /// The body of the document last kept for `file`, whatever its file's
    /// stamp now: a build whose file changed finds the old body here.
    pub fn body_of(&self, salt: u64, file: &Path) -> Option<String> {
        if salt != self.salt {
            return None;
        }
        let (_, doc) = self.files.get(file)?;
        doc.body.text().ok().map(|t| t.into_owned())
    }

    /// Replaces the cache's contents with a build's documents, each under the
    /// stamp its file had when the build listed it (documents without one are
    /// left out).
    pub fn keep<'d>(
        &mut self,
        salt: u64,
        documents: impl Iterator<Item = &'d Document> + Send,
        stamps: &rustc_hash::FxHashMap<std::ffi::OsString, FileStamp>,
    ) {
        self.salt = salt;
        self.files = documents
            .par_bridge()
            .filter_map(|d| {
                let stamp = stamps.get(d.file.as_os_str())?;
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
