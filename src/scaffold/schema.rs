//! The JSON Schema (draft 2020-12) of document front matter, for editors that
//! validate YAML as it is typed. It states exactly what
//! [`crate::document::parse_document`] accepts: the same keys (the site's taxonomy
//! keys included), the id pattern, dates that exist (leap years included), the
//! language-tag shape, alias and original-file paths. `annals check` stays the
//! authority; the tests compare the two on many samples.

use crate::config::Config;
use crate::document::{MAX_ID_LEN, RESERVED_KEYS};
use serde_json::{json, Map, Value};

/// The file name `annals init` gives the schema at the archive's root.
pub const SCHEMA_FILE: &str = "front-matter.schema.json";

/// `[a-z0-9]+(-[a-z0-9]+)*`, as [`crate::document::is_valid_slug`] checks.
pub const ID_PATTERN: &str = "^[a-z0-9]+(-[a-z0-9]+)*$";

/// `YYYY`, `YYYY-MM` or `YYYY-MM-DD` with a year from 1000 to 9999 and a day that
/// exists in its month (29 February only in leap years). Surrounding white space is
/// allowed, as the validator trims it.
pub fn date_pattern() -> String {
    let year = "[1-9][0-9]{3}";
    let m31 = "(0[13578]|1[02])";
    let m30 = "(0[469]|11)";
    let d31 = "(0[1-9]|[12][0-9]|3[01])";
    let d30 = "(0[1-9]|[12][0-9]|30)";
    let d28 = "(0[1-9]|1[0-9]|2[0-8])";
    // Divisible by 4 but not by 100, or by 400 (years 1000-9999).
    let leap = "([1-9][0-9](0[48]|[2468][048]|[13579][26])|([2468][048]|[13579][26])00)";
    format!("^\\s*({year}(-({m31}(-{d31})?|{m30}(-{d30})?|02(-{d28})?))?|{leap}-02-29)\\s*$")
}

/// A character allowed in an alias segment: no separator, no `\ ? # % " < > | * :`
/// and no control character (Unicode Cc, as Rust's `char::is_control`).
const ALIAS_CHAR: &str = "[^/\\\\?#%\"<>|*:\\u0000-\\u001f\\u007f-\\u009f]";
const ALIAS_CHAR_NO_DOT: &str = "[^./\\\\?#%\"<>|*:\\u0000-\\u001f\\u007f-\\u009f]";

/// A site path as [`crate::document::normalise_alias`] accepts it: one optional
/// leading slash, non-empty segments other than `.` and `..`, any trailing slashes.
pub fn alias_pattern() -> String {
    let seg = format!(
        "({n}{a}*|\\.{n}{a}*|\\.\\.{a}+)",
        a = ALIAS_CHAR,
        n = ALIAS_CHAR_NO_DOT
    );
    format!("^\\s*/?{seg}(/{seg})*/*\\s*$")
}

/// A relative path without `..` segments, empty segments or backslashes, as
/// `source.file` must be.
pub const FILE_PATTERN: &str =
    "^([^/\\\\.][^/\\\\]*|\\.([^/\\\\.][^/\\\\]*)?|\\.\\.[^/\\\\]+)(/([^/\\\\.][^/\\\\]*|\\.([^/\\\\.][^/\\\\]*)?|\\.\\.[^/\\\\]+))*$";

/// The BCP 47 shape [`crate::document`] checks: a 2–3 letter language, then
/// subtags of 1–8 letters or digits.
pub const LANGUAGE_PATTERN: &str = "^[A-Za-z]{2,3}(-[A-Za-z0-9]{1,8})*$";

/// The schema for the front matter of documents in an archive configured by `config`.
pub fn front_matter_schema(config: &Config) -> Value {
    let strings = json!({ "$ref": "#/$defs/strings" });
    let mut properties = Map::new();
    let mut prop = |key: &str, schema: Value| {
        properties.insert(key.to_string(), schema);
    };
    prop(
        "id",
        json!({
            "description": "Permanent identifier; the page is /documents/<id>/ forever. Lower-case letters a-z, digits and single hyphens.",
            "type": "string",
            "pattern": ID_PATTERN,
            "maxLength": MAX_ID_LEN
        }),
    );
    prop(
        "title",
        json!({
            "description": "The document's title.",
            "type": "string",
            "pattern": "\\S"
        }),
    );
    prop(
        "date",
        json!({
            "description": "YYYY-MM-DD, or YYYY-MM / YYYY when the document is dated less precisely.",
            "$ref": "#/$defs/date"
        }),
    );
    prop(
        "type",
        json!({
            "description": "Kind of document: note, briefing, letter, minutes, report, …",
            "type": ["string", "null"]
        }),
    );
    for (key, what) in [
        (
            "reference",
            "Official numbers printed on the document (9069/19 EXT 1).",
        ),
        ("from", "Senders: bodies or people."),
        ("to", "Recipients: bodies or people."),
        ("markings", "Markings as printed (LIMITE, CT 47)."),
    ] {
        prop(key, with_description(&strings, what));
    }
    prop(
        "language",
        json!({
            "description": "BCP 47 language tag (en, fr-BE); the site's language when absent.",
            "type": ["string", "null"],
            "pattern": LANGUAGE_PATTERN
        }),
    );
    prop(
        "summary",
        json!({ "description": "One or two sentences on the document.", "type": ["string", "null"] }),
    );
    for tax in &config.taxonomies {
        if tax.key != "type" {
            prop(
                &tax.key,
                with_description(
                    &strings,
                    &format!("{} (a taxonomy: one term or a list of terms).", tax.name),
                ),
            );
        }
    }
    prop(
        "source",
        json!({
            "description": "Where the document came from.",
            "type": "object",
            "additionalProperties": false,
            "properties": {
                "authority": { "description": "The body that released it.", "type": ["string", "null"] },
                "request": { "description": "Title of the access-to-information request.", "type": ["string", "null"] },
                "request_url": { "description": "Where the request can be read.", "type": ["string", "null"], "pattern": "^https?://" },
                "released": { "description": "When it was released.", "$ref": "#/$defs/date" },
                "url": { "description": "Where the released copy is published.", "type": ["string", "null"], "pattern": "^https?://" },
                "file": { "description": "The original file, relative to this Markdown file; published next to the page.", "type": ["string", "null"], "pattern": FILE_PATTERN },
                "sha256": { "description": "SHA-256 of that file, 64 hexadecimal digits.", "type": ["string", "null"], "pattern": "^[0-9a-fA-F]{64}$" }
            }
        }),
    );
    prop(
        "events",
        json!({
            "description": "Dated events the document mentions; they feed the timeline.",
            "type": "array",
            "items": {
                "type": "object",
                "additionalProperties": false,
                "required": ["date", "title"],
                "properties": {
                    "date": { "$ref": "#/$defs/date" },
                    "title": { "type": ["string", "null"] },
                    "description": { "type": ["string", "null"] }
                }
            }
        }),
    );
    prop(
        "aliases",
        json!({
            "description": "Earlier site paths that must redirect here (/old/path/).",
            "type": ["string", "array", "null"],
            "pattern": alias_pattern(),
            "items": { "type": "string", "pattern": alias_pattern() }
        }),
    );
    prop(
        "draft",
        json!({ "description": "Drafts are built only with --drafts.", "type": ["boolean", "null"] }),
    );
    prop(
        "extra",
        json!({ "description": "Free data passed to templates unchecked.", "type": ["object", "null"] }),
    );
    debug_assert!(RESERVED_KEYS.iter().all(|k| properties.contains_key(*k)));
    json!({
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "title": format!("Front matter of a document in {}", config.title),
        "description": "Generated by `annals schema`. `annals check` is the authority; this schema states the same rules for editors.",
        "type": "object",
        "required": ["id", "title", "date"],
        "additionalProperties": false,
        "properties": properties,
        "$defs": {
            "date": {
                "anyOf": [
                    { "type": "string", "pattern": date_pattern() },
                    { "type": "integer", "minimum": 1000, "maximum": 9999 }
                ]
            },
            "strings": {
                "description": "One string, or a list of non-blank strings.",
                "type": ["string", "array", "null"],
                "items": { "type": "string", "pattern": "\\S" }
            }
        }
    })
}

fn with_description(schema: &Value, description: &str) -> Value {
    let mut s = schema.clone();
    if let Value::Object(map) = &mut s {
        map.insert("description".into(), Value::String(description.into()));
    }
    s
}

/// The schema as pretty-printed JSON with a final newline.
pub fn front_matter_schema_text(config: &Config) -> String {
    serde_json::to_string_pretty(&front_matter_schema(config)).unwrap_or_default() + "\n"
}
