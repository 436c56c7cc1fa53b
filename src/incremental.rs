//! Incremental rendering: which pages a rebuild can take from the previous site.
//!
//! Every page gets a key, a hash of everything its bytes depend on. A page whose key
//! equals the one recorded by the previous build is not rendered again: its files
//! are taken from the live site (see [`crate::output::Staging::keep`]). Keys are
//! deliberately coarse, so that they are cheap and never miss a dependency:
//!
//! - the *site key* covers the annals binary, the build options, `site.toml`, the
//!   templates, every document's front matter and file path, every entity, the
//!   originals, and what each body contributes to other pages (the entities it
//!   mentions, the documents it links to, its related documents). Every page
//!   depends on it: a changed title or topic re-renders the whole site (only files
//!   whose bytes changed are then written);
//! - a document page's key adds the document's body and the passages of other
//!   documents quoted in its "Referenced by" list. Editing a body that changes none
//!   of the cross-document data re-renders that document's page and the pages it
//!   links to (whose backlink excerpts may have changed), nothing else.
//!
//! The files of the generate stage (feeds, exports, the sitemap, the theme's
//! assets) read no body text: they are keyed together ([`PageKeys::generated`])
//! and taken from the live site when that key is unchanged. The search index is
//! always made again (from data already in memory) and written only where its
//! bytes changed.

use crate::archive::Archive;
use crate::config::Config;
use crate::document::Document;
use crate::entity::Entity;
use crate::render::Page;
use crate::theme::Theme;
use rayon::prelude::*;
use std::collections::HashMap;
use std::hash::{DefaultHasher, Hash, Hasher};
use std::path::Path;

/// Where the records list the generated files, as if they were one page (no
/// page has this path).
pub const GENERATED: &str = "(generated files)";

/// The keys of one build's pages.
pub struct PageKeys {
    site: u64,
    documents: Vec<u64>,
}

/// Feeds `Debug` output into a hasher without building the string.
struct HashWriter<'h>(&'h mut DefaultHasher);

impl std::fmt::Write for HashWriter<'_> {
    fn write_str(&mut self, s: &str) -> std::fmt::Result {
        self.0.write(s.as_bytes());
        Ok(())
    }
}

fn hash_debug(hasher: &mut DefaultHasher, value: &impl std::fmt::Debug) {
    use std::fmt::Write;
    let _ = write!(HashWriter(hasher), "{value:?}");
    hasher.write_u8(0xff);
}

/// The binary, the build options, the configuration and the templates: the
/// first part of the site key, and of [`inputs_key`].
fn hash_build(h: &mut DefaultHasher, config: &Config, theme: &Theme, options: &str) {
    env!("CARGO_PKG_VERSION").hash(h);
    // A rebuilt annals binary may render differently.
    if let Ok(meta) = std::env::current_exe().and_then(std::fs::metadata) {
        meta.len().hash(h);
        if let Ok(modified) = meta.modified() {
            hash_debug(h, &modified);
        }
    }
    options.hash(h);
    hash_debug(h, config);
    for t in &theme.templates {
        t.name.hash(h);
        t.text.hash(h);
    }
}

/// What the site key covers that is known before the link pass: the binary,
/// options, configuration and templates, every document's front matter and
/// file, every entity. When it differs from the previous build's
/// ([`PageRecords::inputs`]), so does the site key, and every page will be
/// rendered: the link pass then makes the bodies' page HTML as it parses them
/// (see [`crate::render::body`]). Equal, an edit may still reach every page
/// (through what bodies contribute to others); the pages then render their
/// bodies themselves, as they would anyway.
pub fn inputs_key(
    config: &Config,
    theme: &Theme,
    options: &str,
    documents: &[Document],
    entities: &[Entity],
) -> u64 {
    let mut h = DefaultHasher::new();
    hash_build(&mut h, config, theme, options);
    let mut each: Vec<(&Path, u64, usize)> = documents
        .iter()
        .map(|d| (d.file.as_path(), d.front_matter_hash, d.body_line))
        .collect();
    each.sort_unstable();
    each.hash(&mut h);
    hash_debug(&mut h, &entities);
    h.finish()
}

impl PageKeys {
    /// Computes every page's key. `options` describes the build options that change
    /// the output (base URL, drafts).
    pub fn new(archive: &Archive, theme: &Theme, options: &str) -> PageKeys {
        let mut site = DefaultHasher::new();
        hash_build(&mut site, &archive.config, theme, options);
        let per_document: Vec<u64> = (0..archive.documents.len())
            .into_par_iter()
            .map(|i| {
                let doc = &archive.documents[i];
                let mut h = DefaultHasher::new();
                doc.front_matter_hash.hash(&mut h);
                doc.body_line.hash(&mut h);
                hash_debug(&mut h, &doc.file);
                hash_debug(&mut h, &archive.links.mentions[i]);
                hash_debug(&mut h, &archive.links.outgoing[i]);
                for r in &archive.related[i] {
                    r.document.hash(&mut h);
                    r.reason.hash(&mut h);
                }
                h.finish()
            })
            .collect();
        per_document.hash(&mut site);
        hash_debug(&mut site, &archive.entities);
        hash_debug(&mut site, &archive.attachments);
        let site = site.finish();
        let documents = (0..archive.documents.len())
            .into_par_iter()
            .map(|i| {
                let mut h = DefaultHasher::new();
                site.hash(&mut h);
                archive.documents[i].body.hash(&mut h);
                for b in &archive.links.backlinks[i] {
                    b.from.hash(&mut h);
                    b.block.hash(&mut h);
                    b.excerpt.hash(&mut h);
                }
                h.finish()
            })
            .collect();
        PageKeys { site, documents }
    }

    /// The key of the files made in the generate stage (feeds, exports, the
    /// bibliography, the sitemap, the theme's assets). They read no body text,
    /// only what the site key covers (front matter, entities, originals, what
    /// each body contributes to other pages), plus the theme's assets: a body
    /// edit leaves them as they were.
    pub fn generated(&self, theme: &Theme) -> u64 {
        let mut h = DefaultHasher::new();
        self.site.hash(&mut h);
        GENERATED.hash(&mut h);
        for a in &theme.assets {
            a.name.hash(&mut h);
            a.bytes.hash(&mut h);
        }
        h.finish()
    }

    /// The key of `page`, written at `path`.
    pub fn key(&self, page: Page, path: &str) -> u64 {
        match page {
            Page::Document(i) => self.documents.get(i).copied().unwrap_or(0),
            _ => {
                let mut h = DefaultHasher::new();
                self.site.hash(&mut h);
                path.hash(&mut h);
                h.finish()
            }
        }
    }
}

/// What a build recorded about its pages, for the next build.
#[derive(Debug, Default, Clone, PartialEq)]
pub struct PageRecords {
    /// The manifest id of the site these pages belong to: the records are only
    /// used while the live output is that site.
    pub manifest: String,
    /// Page path -> its key and the files it produced (site path, SHA-256).
    pub pages: HashMap<String, PageRecord>,
    /// The internal target of every link on the site's pages (a superset: targets
    /// of pages since removed may remain), or `None` if unknown. A build that
    /// takes pages from the site without reading them checks these against its
    /// files instead.
    pub targets: Option<Vec<String>>,
    /// The build's [`inputs_key`], as a key text (see [`key_text`]).
    pub inputs: Option<String>,
    /// The [`paths_key`] of the site's files: a build that makes the same
    /// files knows that the links of the pages it keeps still resolve.
    pub paths: Option<String>,
}

/// A key of a site's set of file paths, given sorted (`urls.json` left out):
/// the SHA-256 of the paths, each ended by a zero byte.
pub fn paths_key<'p>(paths: impl Iterator<Item = &'p str>) -> String {
    use sha2::{Digest, Sha256};
    let mut h = Sha256::new();
    for path in paths {
        h.update(path.as_bytes());
        h.update([0]);
    }
    crate::load::hex(&h.finalize())
}

/// One page's record.
#[derive(Debug, Clone, PartialEq)]
pub struct PageRecord {
    /// The page's key (see [`key_text`]).
    pub key: String,
    /// The files the page produced: (site path, SHA-256).
    pub files: Vec<(String, String)>,
}

const RECORDS_FILE: &str = "pages.bin";
const HEAD_FILE: &str = "pages-head.json";
/// The records file's first bytes: a name and a format number.
const RECORDS_MAGIC: &[u8; 16] = b"annals-pages--01";

/// The previous build's records, if they describe the site now at `output`.
pub fn load(root: &Path, output: &Path) -> Option<PageRecords> {
    let bytes = std::fs::read(root.join(crate::cache::CACHE_DIR).join(RECORDS_FILE)).ok()?;
    let records = PageRecords::decode(&bytes)?;
    (crate::output::marker_id(output).as_deref() == Some(records.manifest.as_str()))
        .then_some(records)
}

impl PageRecords {
    /// The records as their cache file's bytes: every string with its length
    /// (see [`crate::bytes`]), in a [`crate::cache::framed`] frame.
    /// A large site's records are tens of megabytes, read and written by
    /// every build; JSON took several times as long.
    fn encode(&self) -> Vec<u8> {
        use crate::bytes::{push_number, push_opt_str, push_str, push_strs};
        crate::cache::framed(RECORDS_MAGIC, 0, |out| {
            // Sized once: grown by doubling, the 5.5 MB of a 10k-document
            // site's records were copied and faulted in again at each step.
            let text = |s: &str| s.len() + 10;
            let pages: usize = (self.pages.iter())
                .map(|(path, r)| {
                    let files: usize = r.files.iter().map(|(p, s)| text(p) + text(s)).sum();
                    text(path) + text(&r.key) + 10 + files
                })
                .sum();
            let targets: usize = self.targets.iter().flatten().map(|t| text(t)).sum();
            out.reserve(pages + targets + 256);
            push_str(out, &self.manifest);
            push_opt_str(out, self.inputs.as_deref());
            push_opt_str(out, self.paths.as_deref());
            match &self.targets {
                None => out.push(0),
                Some(targets) => {
                    out.push(1);
                    push_strs(out, targets);
                }
            }
            push_number(out, self.pages.len());
            for (path, record) in &self.pages {
                push_str(out, path);
                push_str(out, &record.key);
                push_number(out, record.files.len());
                for (site_path, sha256) in &record.files {
                    push_str(out, site_path);
                    push_str(out, sha256);
                }
            }
        })
    }

    /// The records [`PageRecords::encode`] wrote; `None` if the bytes are
    /// damaged or cut short.
    fn decode(bytes: &[u8]) -> Option<PageRecords> {
        let mut r = crate::bytes::Reader::new(crate::cache::unframed(bytes, RECORDS_MAGIC, 0)?);
        let manifest = r.string()?;
        let inputs = r.opt_string()?;
        let paths = r.opt_string()?;
        let targets = match r.byte()? {
            0 => None,
            1 => Some(r.strings()?),
            _ => return None,
        };
        let n = r.count()?;
        let mut pages = HashMap::with_capacity(n);
        for _ in 0..n {
            let path = r.string()?;
            let key = r.string()?;
            let files = (0..r.count()?)
                .map(|_| Some((r.string()?, r.string()?)))
                .collect::<Option<Vec<(String, String)>>>()?;
            pages.insert(path, PageRecord { key, files });
        }
        r.is_done().then_some(PageRecords {
            manifest,
            pages,
            targets,
            inputs,
            paths,
        })
    }
}

/// The records file `name` read as `T`, if the site whose manifest id
/// `manifest` finds in it is the one now at `output`.
fn read_records<T: serde::de::DeserializeOwned>(
    root: &Path,
    name: &str,
    output: &Path,
    manifest: impl Fn(&T) -> &str,
) -> Option<T> {
    let text = std::fs::read(root.join(crate::cache::CACHE_DIR).join(name)).ok()?;
    let records: T = serde_json::from_slice(&text).ok()?;
    (crate::output::marker_id(output).as_deref() == Some(manifest(&records))).then_some(records)
}

/// What a build needs of the previous build's records before its pages: their
/// site and [`PageRecords::inputs`]. The pages' records (a large archive's are
/// hundreds of megabytes in memory) are read only once the search index, the
/// build's largest working set, is made ([`load`]). The head is a file of its
/// own, so that a build starts by reading two short strings, not the whole
/// records (6 MB at 10,000 documents) only to keep those.
#[derive(Debug, serde::Serialize, serde::Deserialize)]
pub struct RecordsHead {
    /// See [`PageRecords::manifest`].
    pub manifest: String,
    /// See [`PageRecords::inputs`].
    #[serde(default)]
    pub inputs: Option<String>,
}

/// The previous build's [`RecordsHead`], if its records describe the site now
/// at `output`.
pub fn load_head(root: &Path, output: &Path) -> Option<RecordsHead> {
    read_records(root, HEAD_FILE, output, |h: &RecordsHead| &h.manifest)
}

/// Records this build's pages, and their head beside them. A failure only
/// costs the next build its shortcut; a head left from an older build names
/// another site than the live one and is not used.
pub fn store(root: &Path, records: &PageRecords) {
    crate::cache::replace_file(root, RECORDS_FILE, |out| {
        std::io::Write::write_all(out, &records.encode())
    });
    let head = RecordsHead {
        manifest: records.manifest.clone(),
        inputs: records.inputs.clone(),
    };
    crate::cache::replace_file(root, HEAD_FILE, |out| {
        serde_json::to_writer(out, &head).map_err(std::io::Error::other)
    });
}

/// A key as recorded.
pub fn key_text(key: u64) -> String {
    format!("{key:016x}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn records_read_back_as_written_and_damage_is_refused() {
        let mut pages = HashMap::new();
        for n in 0..300 {
            pages.insert(
                format!("documents/doc-{n}/"),
                PageRecord {
                    key: key_text(n * 7919),
                    files: (0..n % 3)
                        .map(|f| (format!("documents/doc-{n}/{f}.html"), "ab".repeat(32)))
                        .collect(),
                },
            );
        }
        pages.insert(
            "a \"quoted\" path/é/".into(),
            PageRecord {
                key: String::new(),
                files: Vec::new(),
            },
        );
        for records in [
            PageRecords {
                manifest: "m".repeat(64),
                pages,
                targets: Some(vec!["documents/".into(), String::new()]),
                inputs: Some(key_text(1)),
                paths: Some("p".into()),
            },
            PageRecords::default(),
        ] {
            let bytes = records.encode();
            assert_eq!(PageRecords::decode(&bytes), Some(records.clone()));
            for cut in (0..bytes.len()).step_by(97).chain([bytes.len() - 1]) {
                assert_eq!(PageRecords::decode(&bytes[..cut]), None, "cut at {cut}");
            }
            let mut changed = bytes.clone();
            changed[bytes.len() / 2] ^= 1;
            assert_eq!(PageRecords::decode(&changed), None);
        }
    }
}
