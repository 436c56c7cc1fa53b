//! Property tests (proptest) for what URLs and citations rest on: slugs and ids,
//! partial dates, aliases, links between documents, and rendering arbitrary
//! Markdown. Each property runs on a few hundred generated inputs and shrinks a
//! failure to a minimal one.

use annals::archive::links::{resolve, LinkTarget};
use annals::document::{id_problem, is_valid_slug, normalise_alias, slugify, PartialDate};
use proptest::prelude::*;
use rustc_hash::FxHashMap as HashMap;
use std::path::{Path, PathBuf};

fn config() -> ProptestConfig {
    ProptestConfig {
        cases: 512,
        failure_persistence: None,
        ..ProptestConfig::default()
    }
}

/// Real days of the Gregorian calendar.
fn days_in(year: i16, month: u8) -> u8 {
    match month {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        _ if (year % 4 == 0 && year % 100 != 0) || year % 400 == 0 => 29,
        _ => 28,
    }
}

proptest! {
    #![proptest_config(config())]

    /// A slug is empty or `[alnum]+(-[alnum]+)*` in lower case, and slugifying is
    /// idempotent, so a term's URL never changes when its slug is slugified again.
    #[test]
    fn slugs_are_clean_and_idempotent(term in "\\PC{0,40}") {
        let slug = slugify(&term);
        prop_assert!(!slug.starts_with('-') && !slug.ends_with('-') && !slug.contains("--"), "{slug:?}");
        prop_assert!(slug.chars().all(|c| c == '-' || c.is_alphanumeric()), "{slug:?}");
        prop_assert!(!slug.chars().any(char::is_uppercase), "{slug:?}");
        prop_assert_eq!(slugify(&slug), slug.clone());
    }

    /// ASCII case and punctuation do not change a slug: terms compare like that.
    #[test]
    fn slugs_ignore_ascii_case_and_punctuation(words in prop::collection::vec("[A-Za-z0-9]{1,8}", 1..5), sep in "[ _/.,;:()!-]{1,3}") {
        let a = words.join(" ");
        let b = words.join(&sep).to_ascii_uppercase();
        prop_assert_eq!(slugify(&a), slugify(&b));
        prop_assert!(is_valid_slug(&slugify(&a)));
    }

    /// Valid ids are exactly the valid slugs of at most 200 characters, and are
    /// their own slug.
    #[test]
    fn ids_are_slugs(id in "[a-z0-9-]{0,210}") {
        let valid = is_valid_slug(&id) && id.len() <= 200;
        prop_assert_eq!(id_problem(&id).is_none(), valid, "{:?}", id);
        if valid {
            prop_assert_eq!(slugify(&id), id);
        }
    }

    /// Any id checker answer on arbitrary text, without panicking; an accepted id
    /// is a single safe path segment.
    #[test]
    fn arbitrary_ids_never_escape(id in "\\PC{0,60}") {
        if id_problem(&id).is_none() {
            prop_assert!(!id.contains('/') && !id.contains('.') && !id.contains('\\'));
        }
    }

    /// Every real date parses with each precision and prints back as written; its
    /// sort key orders like the calendar.
    #[test]
    fn real_dates_round_trip(year in 1000i16..=9999, month in 1u8..=12, day_seed in 0u8..31, precision in 0u8..3) {
        let day = day_seed % days_in(year, month) + 1;
        let text = match precision {
            0 => format!("{year:04}"),
            1 => format!("{year:04}-{month:02}"),
            _ => format!("{year:04}-{month:02}-{day:02}"),
        };
        let date = PartialDate::parse(&text).map_err(TestCaseError::fail)?;
        prop_assert_eq!(date.iso(), text.clone());
        prop_assert!(date.display().contains(&year.to_string()));
        prop_assert!(date.start().starts_with(&text[..4]));
        let start = PartialDate::parse(&date.start()).map_err(TestCaseError::fail)?;
        prop_assert!(date.sort_key() <= start.sort_key());
    }

    /// Days past the end of their month are refused, saying which month.
    #[test]
    fn impossible_days_are_refused(year in 1000i16..=9999, month in 1u8..=12, extra in 1u8..=10) {
        let day = days_in(year, month) + extra;
        if day <= 99 {
            let text = format!("{year:04}-{month:02}-{day:02}");
            let err = PartialDate::parse(&text).expect_err("impossible date accepted");
            prop_assert!(err.contains("has no day") || err.contains("not a date"), "{}", err);
        }
    }

    /// Arbitrary text never panics the date parser; what it accepts prints back
    /// exactly.
    #[test]
    fn date_parser_accepts_only_what_it_prints(text in "[0-9-]{0,12}|\\PC{0,12}") {
        if let Ok(date) = PartialDate::parse(&text) {
            prop_assert_eq!(date.iso(), text);
        }
    }

    /// An accepted alias is a plain relative site path: no `..`, `.`, empty or
    /// backslashed segment, no scheme; normalising it again changes nothing.
    #[test]
    fn aliases_stay_inside_the_site(alias in "[a-z./\\\\%:?#-]{0,20}|\\PC{0,20}") {
        if let Ok(path) = normalise_alias(&alias) {
            let segments: Vec<&str> = path.trim_end_matches('/').split('/').collect();
            prop_assert!(segments.iter().all(|s| !s.is_empty() && *s != "." && *s != ".."), "{path:?}");
            prop_assert!(!path.starts_with('/') && !path.contains('\\') && !path.contains(':'), "{path:?}");
            prop_assert_eq!(normalise_alias(&path), Ok(path.clone()));
        }
    }
}

/// A small archive's files for link resolution: `content/documents/<dirs>/<name>.md`.
fn archive_files(names: &[(Vec<String>, String)]) -> HashMap<PathBuf, usize> {
    names
        .iter()
        .enumerate()
        .map(|(i, (dirs, name))| {
            let mut p = PathBuf::from("content/documents");
            for d in dirs {
                p.push(d);
            }
            p.push(format!("{name}.md"));
            (p, i)
        })
        .collect()
}

/// The relative path from the folder of `from` to `to`, as an editor would write it.
fn relative_link(from: &Path, to: &Path) -> String {
    let from_dir: Vec<_> = from.parent().unwrap().components().collect();
    let to_parts: Vec<_> = to.components().collect();
    let common = from_dir
        .iter()
        .zip(&to_parts)
        .take_while(|(a, b)| a == b)
        .count();
    let mut parts: Vec<String> = vec!["..".to_string(); from_dir.len() - common];
    parts.extend(
        to_parts[common..]
            .iter()
            .map(|c| c.as_os_str().to_string_lossy().into_owned()),
    );
    parts.join("/")
}

fn doc_files() -> impl Strategy<Value = Vec<(Vec<String>, String)>> {
    prop::collection::vec(
        (
            prop::collection::vec("[a-z0-9]{1,4}", 0..3),
            "[a-z0-9-]{1,8}",
        ),
        1..8,
    )
}

proptest! {
    #![proptest_config(config())]

    /// A relative Markdown link from any document to any other resolves to that
    /// document (with its fragment), also percent-encoded and through `./`.
    #[test]
    fn relative_links_resolve_to_their_target(files in doc_files(), from in 0usize..8, to in 0usize..8, fragment in "[a-z0-9.]{0,5}") {
        let by_file = archive_files(&files);
        let paths: Vec<&PathBuf> = {
            let mut v: Vec<(&PathBuf, &usize)> = by_file.iter().collect();
            v.sort_by_key(|(_, i)| **i);
            v.into_iter().map(|(p, _)| p).collect()
        };
        let from = paths[from % paths.len()];
        let to = paths[to % paths.len()];
        let want = by_file[to];
        let link = relative_link(from, to);
        let dest = if fragment.is_empty() { link.clone() } else { format!("{link}#{fragment}") };
        let want_fragment = (!fragment.is_empty()).then(|| fragment.clone());
        let by_id = HashMap::default();
        prop_assert_eq!(
            resolve(&dest, from, &by_id, &by_file),
            Ok(LinkTarget::Document(want, want_fragment.clone()))
        );
        let dotted = format!("./{link}");
        prop_assert_eq!(resolve(&dotted, from, &by_id, &by_file), Ok(LinkTarget::Document(want, None)));
        let encoded = link.replace('-', "%2D");
        prop_assert_eq!(resolve(&encoded, from, &by_id, &by_file), Ok(LinkTarget::Document(want, None)));
    }

    /// A link climbing above the archive is an error, never a path outside it.
    #[test]
    fn links_leaving_the_archive_are_errors(depth in 0usize..4, ups in 1usize..8) {
        let from = PathBuf::from(format!("content/{}x.md", "d/".repeat(depth)));
        let dest = format!("{}elsewhere.md", "../".repeat(depth + 1 + ups));
        let result = resolve(&dest, &from, &HashMap::default(), &HashMap::default());
        prop_assert!(result.is_err(), "{:?}", result);
    }

    /// `doc:<id>` resolves exactly the known ids, with any fragment.
    #[test]
    fn doc_links_resolve_known_ids(ids in prop::collection::hash_set("[a-z0-9-]{1,10}", 1..6), probe in "[a-z0-9-]{1,10}", fragment in "[a-z0-9.]{0,4}") {
        let by_id: HashMap<String, usize> = ids.iter().cloned().enumerate().map(|(i, id)| (id, i)).collect();
        let dest = if fragment.is_empty() { format!("doc:{probe}") } else { format!("doc:{probe}#{fragment}") };
        let result = resolve(&dest, Path::new("content/documents/a.md"), &by_id, &HashMap::default());
        match by_id.get(&probe) {
            Some(&i) => prop_assert_eq!(result, Ok(LinkTarget::Document(i, (!fragment.is_empty()).then_some(fragment)))),
            None => prop_assert!(result.is_err()),
        }
    }

    /// Arbitrary destinations never panic the resolver.
    #[test]
    fn arbitrary_destinations_never_panic(dest in "\\PC{0,40}") {
        let by_file = archive_files(&[(vec!["2019".into()], "a".into())]);
        let _ = resolve(&dest, Path::new("content/documents/2019/a.md"), &HashMap::default(), &by_file);
    }

    /// Any Markdown renders without panicking, and the HTML never carries script,
    /// event handlers or `javascript:` URLs, whatever raw HTML the body holds.
    #[test]
    fn arbitrary_markdown_renders_safely(parts in prop::collection::vec(prop_oneof![
        Just("<script>alert(1)</script>".to_string()),
        Just("<img src=x onerror=alert(1)>".to_string()),
        Just("<a href=\"javascript:alert(1)\">".to_string()),
        Just("</a>".to_string()),
        Just("<details>\n\n".to_string()),
        Just("</details>\n".to_string()),
        Just("<div title=\"".to_string()),
        Just("\">".to_string()),
        Just("<sup>".to_string()),
        Just("</sup>".to_string()),
        Just("<!--".to_string()),
        Just("-->".to_string()),
        Just("[redacted]".to_string()),
        Just("[x](javascript:alert(1))".to_string()),
        Just("\n\n".to_string()),
        Just("\n".to_string()),
        Just("- ".to_string()),
        Just("> ".to_string()),
        Just("## ".to_string()),
        Just("```\n".to_string()),
        Just("&lt;annals-markdown-0&gt;".to_string()),
        "[ -~]{0,12}",
    ], 0..24)) {
        let md = parts.concat();
        let html = annals::markdown::render(&md).html.to_ascii_lowercase();
        let doc = scraper::Html::parse_fragment(&html);
        let all = scraper::Selector::parse("*").unwrap();
        for el in doc.select(&all) {
            let v = el.value();
            prop_assert!(!matches!(v.name(), "script" | "iframe" | "style" | "object" | "embed"), "<{}> in {}", v.name(), html);
            for (name, value) in v.attrs() {
                prop_assert!(!name.starts_with("on"), "{} in {}", name, html);
                prop_assert!(!value.trim_start().starts_with("javascript:"), "{} in {}", value, html);
            }
        }
    }
}
