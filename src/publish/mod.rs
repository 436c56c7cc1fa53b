//! Files the site publishes besides its HTML pages: theme assets, the code
//! highlighting stylesheet, and (in submodules) machine-readable files. Each
//! generator is a pure function of the archive returning [`OutputFile`]s; the
//! write stage stores them with the pages.

pub mod data;
pub mod feeds;
pub mod linkcheck;
pub mod sitemap;
mod xml;

use crate::archive::Archive;
use crate::diagnostics::Diagnostic;
use crate::markdown;
use crate::render::OutputFile;
use crate::theme::Theme;

/// Every non-page file of the site. The generators run in parallel: each
/// archive-wide file (the bibliography, the exports) is one long serial task.
pub fn generated_files(
    archive: &Archive,
    theme: &Theme,
) -> Result<Vec<OutputFile>, Vec<Diagnostic>> {
    use rayon::prelude::*;
    type Generator<'a> = &'a (dyn Fn() -> Result<Vec<OutputFile>, Vec<Diagnostic>> + Sync);
    let theme_files = || {
        let mut files: Vec<OutputFile> = theme
            .assets
            .iter()
            .map(|a| OutputFile {
                path: format!("static/{}", a.name),
                bytes: a.bytes.clone(),
            })
            .collect();
        files.push(OutputFile {
            path: "static/highlight.css".into(),
            bytes: markdown::highlight_css().into_bytes(),
        });
        files.push(OutputFile {
            path: ".nojekyll".into(),
            bytes: Vec::new(),
        });
        Ok(files)
    };
    let bibliography = || Ok(crate::cite::bibliography_files(archive));
    let feeds = || Ok(feeds::feed_files(archive));
    let data = || data::data_files(archive);
    let sitemap = || {
        let mut files = sitemap::sitemap_files(archive);
        files.extend(sitemap::cname_file(archive));
        Ok(files)
    };
    let generators: [Generator<'_>; 5] = [&theme_files, &bibliography, &feeds, &data, &sitemap];
    let made: Vec<Result<Vec<OutputFile>, Vec<Diagnostic>>> =
        generators.par_iter().map(|generate| generate()).collect();
    let mut files = Vec::new();
    let mut errors = Vec::new();
    for result in made {
        match result {
            Ok(made) => files.extend(made),
            Err(e) => errors.extend(e),
        }
    }
    if errors.is_empty() {
        Ok(files)
    } else {
        Err(errors)
    }
}
