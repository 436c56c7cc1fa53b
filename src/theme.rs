//! Themes: Tera templates and static assets. The default theme is compiled into the
//! binary so any archive builds without copying it; a site can override any file of
//! it by putting a file of the same name under `themes/<theme>/` in its root.

use crate::config::Config;
use crate::diagnostics::Diagnostic;
use std::path::{Path, PathBuf};
use walkdir::WalkDir;

/// A template: its name as templates refer to it, its text, and where it came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TemplateSource {
    /// `document.html`, `partials/document_list.html`, …
    pub name: String,
    /// The Tera source.
    pub text: String,
    /// Where it was read from, for error messages.
    pub origin: PathBuf,
}

/// A static file of the theme, published under `static/`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ThemeAsset {
    /// Path below `static/` (`style.css`).
    pub name: String,
    /// Its bytes.
    pub bytes: Vec<u8>,
}

/// The theme in use: templates and assets, overrides already applied.
#[derive(Debug, Clone, Default)]
pub struct Theme {
    /// Every template, sorted by name.
    pub templates: Vec<TemplateSource>,
    /// Every static asset, sorted by name.
    pub assets: Vec<ThemeAsset>,
}

macro_rules! embedded {
    ($($name:literal),* $(,)?) => {
        &[$(($name, include_str!(concat!(env!("CARGO_MANIFEST_DIR"), "/themes/default/", $name)))),*]
    };
}

/// The default theme's files, relative to `themes/default/`.
const DEFAULT_THEME: &[(&str, &str)] = embedded!(
    "templates/base.html",
    "templates/index.html",
    "templates/document.html",
    "templates/documents.html",
    "templates/taxonomy.html",
    "templates/term.html",
    "templates/timeline.html",
    "templates/timeline_year.html",
    "templates/alias.html",
    "templates/search.html",
    "templates/404.html",
    "templates/correspondence.html",
    "templates/partials/document_list.html",
    "templates/partials/timeline_entries.html",
    "templates/partials/chart.html",
    "static/style.css",
    "static/annals.js",
    "static/redirect.js",
    "static/search.js",
    "static/search-core.js",
    "static/search.css",
);

impl Theme {
    /// Loads the configured theme: the built-in default theme, overridden file by file
    /// by `<root>/themes/<theme>/`. A theme other than `default` must exist on disk.
    pub fn load(root: &Path, config: &Config) -> Result<Theme, Vec<Diagnostic>> {
        let mut templates: Vec<TemplateSource> = Vec::new();
        let mut assets: Vec<ThemeAsset> = Vec::new();
        for (path, text) in DEFAULT_THEME {
            if let Some(name) = path.strip_prefix("templates/") {
                templates.push(TemplateSource {
                    name: name.to_string(),
                    text: text.to_string(),
                    origin: PathBuf::from("(built-in theme)/templates").join(name),
                });
            } else if let Some(name) = path.strip_prefix("static/") {
                assets.push(ThemeAsset {
                    name: name.to_string(),
                    bytes: text.as_bytes().to_vec(),
                });
            }
        }
        let plain_name = !config.theme.is_empty()
            && !config.theme.starts_with('.')
            && !config.theme.contains(['/', '\\', ':']);
        if !plain_name {
            return Err(vec![at_theme_key(
                root,
                format!(
                    "theme `{}` must be the name of a folder under themes/",
                    config.theme
                ),
            )]);
        }
        let theme_rel = PathBuf::from("themes").join(&config.theme);
        let theme_dir = root.join(&theme_rel);
        if !theme_dir.is_dir() {
            if config.theme != "default" {
                return Err(vec![at_theme_key(
                    root,
                    format!(
                        "theme `{}` not found: there is no folder {}",
                        config.theme,
                        theme_rel.display()
                    ),
                )
                .with_help("set `theme = \"default\"` or create the theme folder")]);
            }
        } else {
            let mut errors = Vec::new();
            for (sub, is_template) in [("templates", true), ("static", false)] {
                let dir = theme_dir.join(sub);
                if !dir.is_dir() {
                    continue;
                }
                for entry in WalkDir::new(&dir).sort_by_file_name() {
                    let entry = match entry {
                        Ok(e) => e,
                        Err(e) => {
                            errors.push(Diagnostic::file(
                                theme_rel.join(sub),
                                format!("cannot read the theme: {e}"),
                            ));
                            continue;
                        }
                    };
                    if entry.file_name().to_string_lossy().starts_with('.') {
                        continue;
                    }
                    // A link is followed to a file inside the archive, as in
                    // content/; anything else is said, never skipped in silence.
                    let linked_file = entry.path_is_symlink()
                        && {
                            let target = entry.path().canonicalize();
                            let inside = target
                                .as_ref()
                                .is_ok_and(|t| root.canonicalize().is_ok_and(|r| t.starts_with(r)));
                            let rel = theme_rel
                                .join(sub)
                                .join(entry.path().strip_prefix(&dir).unwrap_or(entry.path()));
                            match (inside, target.map(|t| t.is_file())) {
                                (true, Ok(true)) => true,
                                (true, _) => {
                                    errors.push(Diagnostic::file(rel, "symbolic link to a folder in the theme: it is not followed; copy the files in instead"));
                                    false
                                }
                                (false, _) => {
                                    errors.push(Diagnostic::file(rel, "symbolic link points outside the archive; copy the file in instead"));
                                    false
                                }
                            }
                        };
                    if !entry.file_type().is_file() && !linked_file {
                        continue;
                    }
                    let rel_name = entry
                        .path()
                        .strip_prefix(&dir)
                        .unwrap_or(entry.path())
                        .to_string_lossy()
                        .replace('\\', "/");
                    let origin = theme_rel.join(sub).join(&rel_name);
                    let bytes = match std::fs::read(entry.path()) {
                        Ok(b) => b,
                        Err(e) => {
                            errors.push(Diagnostic::file(origin, format!("cannot read: {e}")));
                            continue;
                        }
                    };
                    if is_template {
                        match String::from_utf8(bytes) {
                            Ok(text) => {
                                templates.retain(|t| t.name != rel_name);
                                templates.push(TemplateSource {
                                    name: rel_name,
                                    text,
                                    origin,
                                });
                            }
                            Err(_) => {
                                errors.push(Diagnostic::file(origin, "template is not valid UTF-8"))
                            }
                        }
                    } else {
                        assets.retain(|a| a.name != rel_name);
                        assets.push(ThemeAsset {
                            name: rel_name,
                            bytes,
                        });
                    }
                }
            }
            if !errors.is_empty() {
                return Err(errors);
            }
        }
        templates.sort_by(|a, b| a.name.cmp(&b.name));
        assets.sort_by(|a, b| a.name.cmp(&b.name));
        Ok(Theme { templates, assets })
    }
}

/// A diagnostic at the `theme = …` line of `site.toml` (or the whole file if that
/// line cannot be found).
fn at_theme_key(root: &Path, message: String) -> Diagnostic {
    let file = crate::config::CONFIG_FILE;
    let text = std::fs::read_to_string(root.join(file)).unwrap_or_default();
    let line = text.lines().position(|l| {
        l.trim_start()
            .strip_prefix("theme")
            .is_some_and(|rest| rest.trim_start().starts_with('='))
    });
    match line {
        Some(i) => Diagnostic::at(file, &text, i + 1, 1, message),
        None => Diagnostic::file(file, message),
    }
}
