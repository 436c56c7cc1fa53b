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

/// Every non-page file of the site.
pub fn generated_files(
    archive: &Archive,
    theme: &Theme,
) -> Result<Vec<OutputFile>, Vec<Diagnostic>> {
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
    files.extend(crate::cite::bibliography_files(archive));
    files.extend(feeds::feed_files(archive));
    files.extend(data::data_files(archive)?);
    files.extend(sitemap::sitemap_files(archive));
    files.extend(sitemap::cname_file(archive));
    Ok(files)
}
