//! Starting points for editors: `annals init` (a new archive that builds and deploys
//! as it is), `annals new` (a document skeleton with a valid, unique id and every
//! field explained) and `annals schema` (the JSON Schema of front matter).

pub mod schema;

use crate::config::Config;
use crate::diagnostics::{Diagnostic, Diagnostics};
use crate::document::{front_matter, PartialDate};
use crate::load::DOCUMENTS_DIR;
use std::collections::HashSet;
use std::path::{Path, PathBuf};

pub use schema::{front_matter_schema, front_matter_schema_text, SCHEMA_FILE};

const SITE_TOML: &str = include_str!("scaffold/site.toml");
const EDITORS_README: &str = include_str!("scaffold/README.md");
const PAGES_WORKFLOW: &str = include_str!("scaffold/pages.yml");
const EXAMPLE_DOCUMENT: &str = include_str!("scaffold/example.md");
const GITIGNORE: &str = include_str!("scaffold/gitignore");

/// The shell command the generated workflow runs to install annals, pinned to the
/// version that created the archive.
pub fn install_command() -> String {
    format!(
        "cargo install --locked annals --version \"{}\"",
        env!("CARGO_PKG_VERSION")
    )
}

/// Where `init` puts the sample document.
pub const EXAMPLE_PATH: &str = "content/documents/2019/example-council-note-2019-06-03.md";

/// The longest slug `new` derives from a title, before the date is added.
const MAX_TITLE_SLUG: usize = 80;

fn diagnostic(path: &Path, message: impl Into<String>) -> Diagnostics {
    Diagnostics::from(Diagnostic::file(path, message))
}

/// Creates a new archive in `dir` (which must be absent or empty, a `.git` folder
/// aside) and returns the files written, relative to `dir`. The archive builds with
/// `annals build` as it is, and its workflow deploys it to GitHub Pages.
pub fn init(dir: &Path) -> Result<Vec<PathBuf>, Diagnostics> {
    if dir.exists() {
        let entries = std::fs::read_dir(dir)
            .map_err(|e| diagnostic(dir, format!("cannot read the folder: {e}")))?;
        for entry in entries.flatten() {
            if entry.file_name() != ".git" {
                return Err(Diagnostics::from(
                    Diagnostic::file(dir, "the folder is not empty")
                        .with_help("init creates a new archive; choose a new or empty folder"),
                ));
            }
        }
    }
    let title = title_from_folder(dir);
    let site_toml = SITE_TOML.replace("@@TITLE@@", &toml_string(&title));
    let config = Config::parse(Path::new(crate::config::CONFIG_FILE), &site_toml)
        .map_err(Diagnostics::sorted)?;
    let files: Vec<(&str, String)> = vec![
        (crate::config::CONFIG_FILE, site_toml),
        (
            "README.md",
            EDITORS_README.replace("@@TITLE_TEXT@@", &title),
        ),
        (".gitignore", GITIGNORE.to_string()),
        (
            ".github/workflows/pages.yml",
            PAGES_WORKFLOW
                .replace("@@VERSION@@", env!("CARGO_PKG_VERSION"))
                .replace("@@INSTALL@@", &install_command()),
        ),
        (SCHEMA_FILE, front_matter_schema_text(&config)),
        (EXAMPLE_PATH, EXAMPLE_DOCUMENT.to_string()),
    ];
    let mut written = Vec::with_capacity(files.len());
    for (rel, text) in files {
        let path = dir.join(rel);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent)
                .map_err(|e| diagnostic(parent, format!("cannot create the folder: {e}")))?;
        }
        std::fs::write(&path, text).map_err(|e| diagnostic(&path, format!("cannot write: {e}")))?;
        written.push(PathBuf::from(rel));
    }
    Ok(written)
}

/// `my-leaks-archive` -> `My leaks archive`.
fn title_from_folder(dir: &Path) -> String {
    let name = dir
        .canonicalize()
        .ok()
        .and_then(|d| d.file_name().map(|n| n.to_string_lossy().into_owned()))
        .or_else(|| dir.file_name().map(|n| n.to_string_lossy().into_owned()))
        .unwrap_or_default();
    let words: Vec<&str> = name
        .split(|c: char| c == '-' || c == '_' || c.is_whitespace())
        .filter(|w| !w.is_empty())
        .collect();
    if words.is_empty() {
        return "Document archive".into();
    }
    let mut title = words.join(" ");
    if let Some(first) = title.chars().next() {
        title = first.to_uppercase().chain(title.chars().skip(1)).collect();
    }
    title
}

fn toml_string(s: &str) -> String {
    toml::Value::String(s.to_string()).to_string()
}

/// What `annals new` is asked to write.
#[derive(Debug, Clone)]
pub struct NewDocument {
    /// The archive's root.
    pub root: PathBuf,
    /// The document's title.
    pub title: String,
    /// `YYYY-MM-DD`, `YYYY-MM` or `YYYY`; today when absent.
    pub date: Option<String>,
    /// The kind of document (note, letter…).
    pub doc_type: Option<String>,
}

/// Writes a document skeleton under `content/documents/<year>/` and returns its path
/// relative to the root. The id is the title's slug and the date, made unique among
/// the archive's ids (`-2`, `-3`… when taken).
pub fn new_document(request: &NewDocument) -> Result<PathBuf, Diagnostics> {
    let root = &request.root;
    let config = crate::load::load_config(root).map_err(Diagnostics::sorted)?;
    if request.title.trim().is_empty() {
        return Err(diagnostic(Path::new("title"), "the title is empty"));
    }
    let date_text = match &request.date {
        Some(d) => d.trim().to_string(),
        None => jiff::Zoned::now().date().to_string(),
    };
    let date = PartialDate::parse(&date_text).map_err(|msg| {
        Diagnostics::from(
            Diagnostic::file("--date", format!("invalid date: {msg}"))
                .with_help("write YYYY-MM-DD, or YYYY-MM / YYYY when the document gives less"),
        )
    })?;
    let taken = existing_ids(root);
    let dir = PathBuf::from(DOCUMENTS_DIR).join(format!("{:04}", date.year));
    let base = document_id(&request.title, &date);
    let mut id = base.clone();
    let mut n = 2;
    while taken.contains(&id) || root.join(&dir).join(format!("{id}.md")).exists() {
        id = format!("{base}-{n}");
        n += 1;
    }
    let rel = dir.join(format!("{id}.md"));
    let schema_ref = root.join(SCHEMA_FILE).is_file().then(|| {
        format!(
            "{}{SCHEMA_FILE}",
            "../".repeat(rel.components().count() - 1)
        )
    });
    let text = skeleton(&config, &id, request, &date, schema_ref.as_deref());
    let path = root.join(&rel);
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent)
            .map_err(|e| diagnostic(parent, format!("cannot create the folder: {e}")))?;
    }
    std::fs::write(&path, text).map_err(|e| diagnostic(&rel, format!("cannot write: {e}")))?;
    Ok(rel)
}

/// The id `new` proposes: the title's slug (ASCII letters and digits, at most
/// 80 characters, cut at a hyphen) followed by the date.
pub fn document_id(title: &str, date: &PartialDate) -> String {
    let slug: String = crate::document::slugify(title)
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '-' })
        .collect();
    let mut slug = slug
        .split('-')
        .filter(|s| !s.is_empty())
        .collect::<Vec<_>>()
        .join("-");
    if slug.len() > MAX_TITLE_SLUG {
        let cut = slug[..MAX_TITLE_SLUG].rfind('-').unwrap_or(MAX_TITLE_SLUG);
        slug.truncate(cut);
    }
    let date = date.iso();
    if slug.is_empty() {
        format!("document-{date}")
    } else {
        format!("{slug}-{date}")
    }
}

/// The ids of every document in the archive, read from front matter without full
/// validation, so that files with other problems still reserve their id.
fn existing_ids(root: &Path) -> HashSet<String> {
    let (content, _) = crate::load::load_content(root);
    content
        .documents
        .iter()
        .filter_map(|source| {
            let split = front_matter::split(&source.text).ok()?;
            match front_matter::parse_yaml(split.yaml).ok()? {
                front_matter::Yaml::Map(entries) => {
                    entries.into_iter().find_map(|(k, v)| match v {
                        front_matter::Yaml::String(id) if k == "id" => Some(id),
                        _ => None,
                    })
                }
                _ => None,
            }
        })
        .collect()
}

fn yaml_string(s: &str) -> String {
    serde_json::to_string(s).unwrap_or_else(|_| "\"\"".into())
}

fn skeleton(
    config: &Config,
    id: &str,
    request: &NewDocument,
    date: &PartialDate,
    schema_ref: Option<&str>,
) -> String {
    let mut y = String::from("---\n");
    if let Some(schema) = schema_ref {
        y.push_str(&format!("# yaml-language-server: $schema={schema}\n"));
    }
    y.push_str("# Lines starting with # are comments. To use an optional field, remove its #.\n\n");
    y.push_str("# Permanent identifier: the page is /documents/<id>/ forever. Do not change it once published.\n");
    y.push_str(&format!("id: {id}\n"));
    y.push_str("# The title as printed on the document.\n");
    y.push_str(&format!("title: {}\n", yaml_string(request.title.trim())));
    y.push_str("# YYYY-MM-DD, or YYYY-MM / YYYY when the document gives less.\n");
    y.push_str(&format!("date: {}\n", date.iso()));
    y.push_str("# Kind of document: note, briefing, letter, minutes, report, …\n");
    match request
        .doc_type
        .as_deref()
        .map(str::trim)
        .filter(|t| !t.is_empty())
    {
        Some(t) => y.push_str(&format!("type: {}\n", yaml_string(t))),
        None => y.push_str("# type: note\n"),
    }
    y.push_str(
        "# Official numbers printed on the document (one, or a list).\n\
         # reference: \"9069/19 EXT 1\"\n\
         # Senders and recipients: bodies or people (one, or a list).\n\
         # from: \"Council Secretariat\"\n\
         # to: [Delegations]\n",
    );
    y.push_str(&format!(
        "# BCP 47 language tag, when not the site's ({}).\n# language: fr\n",
        config.language
    ));
    y.push_str(
        "# One or two sentences on what the document is about.\n\
         # summary: \"\"\n\
         # Markings as printed on the document.\n\
         # markings: [LIMITE]\n",
    );
    for tax in &config.taxonomies {
        if tax.key == "type" {
            continue;
        }
        y.push_str(&format!(
            "# {} (a taxonomy, listed at /{}/): one term or a list.\n# {}: []\n",
            tax.name, tax.path, tax.key
        ));
    }
    y.push_str(
        "# Where the document came from.\n\
         # source:\n\
         #   authority: \"\"            # the body that released it\n\
         #   request: \"\"              # title of the access-to-information request\n\
         #   request_url: https://…   # where the request can be read\n\
         #   released: YYYY-MM-DD     # when it was released\n\
         #   url: https://…           # where the released copy is published\n\
         #   file: original.pdf       # the original, next to this file; published with the page\n\
         #   sha256: \"\"               # SHA-256 of that file (sha256sum original.pdf)\n\
         # Dated events the document mentions; they appear on the timeline.\n\
         # events:\n\
         #   - date: YYYY-MM-DD\n\
         #     title: \"\"\n\
         #     description: \"\"\n\
         # Earlier addresses of this document that must redirect here.\n\
         # aliases: [/old/address/]\n\
         # Drafts are built only with --drafts.\n\
         # draft: true\n\
         # Free data for custom templates (doc.extra).\n\
         # extra: {}\n",
    );
    y.push_str("---\n\nThe text of the document, in Markdown. Mark withheld passages with [redacted] or\n[redacted: Article 4(1)(b)].\n");
    y
}

/// The front-matter schema of the archive at `root` (its taxonomies included), or of
/// a default archive when there is no `site.toml` there.
pub fn schema_for(root: &Path) -> Result<String, Diagnostics> {
    let config = if root.join(crate::config::CONFIG_FILE).is_file() {
        crate::load::load_config(root).map_err(Diagnostics::sorted)?
    } else {
        Config::parse(
            Path::new(crate::config::CONFIG_FILE),
            "title = \"Archive\"\nbase_url = \"/\"\n",
        )
        .map_err(Diagnostics::sorted)?
    };
    Ok(front_matter_schema_text(&config))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_from_titles() {
        let d = PartialDate::parse("2024-03-01").unwrap();
        assert_eq!(
            document_id("Council note on AI", &d),
            "council-note-on-ai-2024-03-01"
        );
        assert_eq!(
            document_id("Comisión: ¿Qué?", &d),
            "comision-que-2024-03-01"
        );
        assert_eq!(document_id("Записка", &d), "document-2024-03-01");
        let long = document_id(&"word ".repeat(40), &d);
        assert!(long.len() <= MAX_TITLE_SLUG + 11, "{long}");
        assert!(crate::document::id_problem(&long).is_none());
        let y = PartialDate::parse("2019").unwrap();
        assert_eq!(document_id("Minutes", &y), "minutes-2019");
    }

    #[test]
    fn folder_titles() {
        assert_eq!(
            title_from_folder(Path::new("/x/my-leaks_archive")),
            "My leaks archive"
        );
    }
}
