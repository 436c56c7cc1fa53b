//! Entities: organisations (and, where a site wants them, people or places) with a
//! file of their own, `content/<taxonomy path>/<slug>.md`. An entity gives its term
//! page a description, and its name and aliases let the archive find where documents
//! mention it without hand-made links.

use crate::config::TaxonomyConfig;
use crate::diagnostics::Diagnostic;
use crate::document::front_matter::{Step, Yaml};
use crate::document::{is_valid_slug, Validator};
use crate::load::SourceFile;
use std::path::PathBuf;

const ENTITY_KEYS: &[&str] = &["name", "aliases", "url", "description"];

/// An entity described by an editor.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entity {
    /// The taxonomy key it belongs to (`organisations`).
    pub taxonomy: String,
    /// Its slug: the file name, which is also its term's URL segment.
    pub slug: String,
    /// Its name as the archive shows it.
    pub name: String,
    /// Other spellings and abbreviations (`EU-LISA`, `EU Large Scale IT Systems Agency`).
    pub aliases: Vec<String>,
    /// Its own website.
    pub url: Option<String>,
    /// One or two sentences.
    pub description: Option<String>,
    /// Markdown body.
    pub body: String,
    /// The file's line the body starts on (1-based), for errors in it.
    pub body_line: usize,
    /// The file, relative to the site root.
    pub file: PathBuf,
    /// Where each of [`Entity::names`] is written in the file: (line, column,
    /// the line's text), so that a name another entity also claims is reported
    /// where it stands.
    pub name_places: Vec<(usize, usize, String)>,
}

impl Entity {
    /// Every name the entity goes by: its name, then its aliases.
    pub fn names(&self) -> impl Iterator<Item = &str> {
        std::iter::once(self.name.as_str()).chain(self.aliases.iter().map(String::as_str))
    }
}

/// Parses an entity file of taxonomy `tax`; the slug comes from the file name.
pub fn parse_entity(source: &SourceFile, tax: &TaxonomyConfig) -> Result<Entity, Vec<Diagnostic>> {
    let file = &source.path;
    let text = source.text.as_str();
    let slug = file
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_default();
    let (split, yaml) = crate::document::read_front_matter(file, text)?;
    let mut v = Validator::new(file, text, &split);
    if !is_valid_slug(&slug) {
        v.errors.push(
            Diagnostic::file(
                file.clone(),
                format!("entity file name `{slug}` is not a valid slug"),
            )
            .with_help(
                "name the file with lower-case letters, digits and hyphens, e.g. eu-lisa.md",
            ),
        );
    }
    let entries = v.mapping(&yaml, &[], ENTITY_KEYS).unwrap_or_default();
    let get = |k: &str| entries.iter().find(|(key, _)| key == k).map(|(_, v)| v);
    let name = v.required_string(get("name"), "name");
    if name.as_deref().is_some_and(|n| n.trim().is_empty()) {
        v.error(&[Step::Key("name")], false, "`name` is empty");
    }
    let aliases = v.string_list(get("aliases"), &[Step::Key("aliases")]);
    let mut name_places = vec![v.place(&[Step::Key("name")], false)];
    name_places.extend(
        (0..aliases.len()).map(|i| v.place(&[Step::Key("aliases"), Step::Index(i)], false)),
    );
    let url = v.optional_string(get("url"), &[Step::Key("url")]);
    if let Some(u) = &url {
        if !(u.starts_with("https://") || u.starts_with("http://")) {
            v.error(&[Step::Key("url")], false, "`url` must be an http(s) URL");
        }
    }
    let description = v.optional_string(get("description"), &[Step::Key("description")]);
    if let Some(Yaml::Null) = Some(&yaml) {
        v.error(&[], false, "missing required key `name`");
    }
    match name {
        Some(name) if v.errors.is_empty() => Ok(Entity {
            taxonomy: tax.key.clone(),
            slug,
            name,
            aliases,
            url,
            description,
            body: split.body.to_string(),
            body_line: split.body_line,
            file: file.clone(),
            name_places,
        }),
        _ => Err(v.errors),
    }
}
