//! Hostile and broken input (issue 10): every case of the bad-input matrix either
//! fails like a compiler (file, line, column, what was expected; exit code 1; the
//! previous site byte for byte as it was; nothing left beside it) or, where the
//! input is merely odd, builds a correct page. Also: huge inputs in bounded time,
//! symbolic links, unreadable files, broken themes and configuration, builds killed
//! mid-way, two builds at once, and a burst of requests to `annals serve`.
//!
//! The broken documents are files under `tests/fixtures/bad/` (also the fuzzers'
//! seeds); each test adds one to a copy of the `basic` fixture.

mod common;

use common::*;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

fn bad_fixture(name: &str) -> Vec<u8> {
    let path = repo_root().join("tests/fixtures/bad").join(name);
    std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn write(root: &Path, rel: &str, bytes: &[u8]) {
    let path = root.join(rel);
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(&path, bytes).unwrap();
}

/// What a rejected input must report.
struct Expect<'a> {
    /// The file named, relative to the archive root.
    file: &'a str,
    /// The line (`None`: any line, for problems without one obvious line).
    line: Option<usize>,
    /// The column, where meaningful.
    column: Option<usize>,
    /// Substrings of the message.
    message: &'a [&'a str],
}

/// The protocol for an input that must be refused: `basic` builds; `prepare`
/// breaks the archive; the next build exits with 1 reporting `expect` once (quoting
/// the line when it has one), prints "nothing was written", and leaves the output
/// byte-identical with nothing beside it. Returns the failed run.
fn assert_rejected(prepare: impl FnOnce(&Site), expect: &Expect<'_>) -> Run {
    let site = Site::new("basic");
    site.build(&["--quiet"]).assert_success();
    let before = snapshot(&site.out);
    prepare(&site);
    let run = site.build(&[]);
    run.assert_exit_1();
    let found: Vec<DiagnosticLine> = diagnostics(&run.stderr)
        .into_iter()
        .filter(|d| d.file == expect.file && expect.message.iter().all(|m| d.message.contains(m)))
        .collect();
    assert_eq!(
        found.len(),
        1,
        "expected one `{}: error: {:?}` in:\n{}",
        expect.file,
        expect.message,
        run.stderr
    );
    let d = &found[0];
    if let Some(line) = expect.line {
        assert_eq!(d.line, line, "line of the diagnostic:\n{}", run.stderr);
    }
    if let Some(column) = expect.column {
        assert_eq!(d.column, Some(column), "column:\n{}", run.stderr);
    }
    if d.line > 0 {
        let bytes = std::fs::read(site.root.join(expect.file)).unwrap_or_default();
        let text = String::from_utf8(bytes).unwrap_or_default();
        let quoted = text.split('\n').nth(d.line - 1).unwrap_or("");
        let quoted = quoted.trim_end_matches('\r');
        if !quoted.is_empty() && quoted.len() < 100 && !quoted.contains(char::is_control) {
            assert!(
                run.stderr.contains(&format!("{} | {quoted}", d.line)),
                "line {} `{quoted}` is not quoted in:\n{}",
                d.line,
                run.stderr
            );
        }
    }
    assert!(
        run.stderr.trim_end().ends_with("nothing was written"),
        "{}",
        run.stderr
    );
    assert!(problem_count(&run.stderr) >= 1);
    assert_same_tree(&before, &snapshot(&site.out), "output after a failed build");
    assert_eq!(
        site.tmp_listing().into_iter().collect::<Vec<_>>(),
        ["out", "site"],
        "a failed build left something beside the output"
    );
    run
}

/// A document of `tests/fixtures/bad/` added at `content/documents/2021/<name>`
/// must be refused at `line`:`column` (0: not checked) with `message`.
fn reject_bad_document(name: &str, line: usize, column: usize, message: &[&str]) {
    let file = format!("content/documents/2021/{name}");
    assert_rejected(
        |site| write(&site.root, &file, &bad_fixture(name)),
        &Expect {
            file: &file,
            line: (line > 0).then_some(line),
            column: (column > 0).then_some(column),
            message,
        },
    );
}

macro_rules! rejects {
    ($($test:ident: $file:literal at $line:literal:$col:literal says $($msg:literal),+;)*) => {
        $(
            #[test]
            fn $test() {
                reject_bad_document($file, $line, $col, &[$($msg),+]);
            }
        )*
    };
}

rejects! {
    no_front_matter: "no-front-matter.md" at 1:1 says "expected front matter";
    unterminated_front_matter: "unterminated.md" at 1:1 says "never closed";
    empty_file: "empty.md" at 1:1 says "the file is empty";
    only_white_space: "only-whitespace.md" at 1:1 says "the file is empty";
    yaml_tab_indentation: "yaml-tab-indent.md" at 6:1 says "invalid YAML", "cannot start any token";
    yaml_tab_after_a_scalar: "yaml-tab-after-scalar.md" at 3:1 says "invalid YAML", "tab character";
    yaml_bad_quoting: "yaml-bad-quoting.md" at 3:12 says "invalid YAML";
    yaml_duplicate_key: "yaml-duplicate-key.md" at 5:1 says "duplicate key `title`";
    yaml_list_as_front_matter: "front-matter-list.md" at 2:1 says "must be a mapping of fields, found a list";
    yaml_deep_nesting: "yaml-deep-nesting.md" at 5:136 says "invalid YAML", "nested more than 128 levels deep";
    yaml_alias_bomb: "yaml-billion-laughs.md" at 0:0 says "invalid YAML", "repetition limit";
    list_where_a_string_is_expected: "wrong-type-list-for-string.md" at 5:10 says "`summary` must be a string, found a list";
    string_where_a_list_is_expected: "wrong-type-string-for-list.md" at 5:9 says "`events` must be a list", "found a string";
    mapping_where_a_list_is_expected: "wrong-type-mapping-for-list.md" at 5:9 says "`topics` must be a string or a list of strings, found a mapping";
    number_for_a_string: "number-title.md" at 3:8 says "`title` must be a string, found a number";
    boolean_for_a_string: "bool-title.md" at 3:8 says "`title` must be a string, found a boolean";
    number_for_a_reference: "number-reference.md" at 5:12 says "`reference` must be a string or a list of strings, found a number";
    missing_date: "missing-date.md" at 2:1 says "missing required key `date`";
    null_title_is_not_silently_dropped: "null-title.md" at 3:8 says "required key `title` has no value";
    empty_title_is_reported_at_its_key: "empty-title.md" at 3:1 says "required key `title` has no value";
    unknown_key: "unknown-key.md" at 5:1 says "unknown front-matter key `sumary`";
    unknown_key_differing_in_case: "unknown-key-case.md" at 5:1 says "unknown front-matter key `Summary`";
    date_month_13: "date-month-13.md" at 4:7 says "there is no month 13";
    date_april_31: "date-april-31.md" at 4:7 says "April 2021 has no day 31";
    date_not_a_leap_year: "date-not-leap.md" at 4:7 says "February 1900 has no day 29";
    date_with_slashes: "date-slashes.md" at 4:7 says "`2021/03/04` is not a date", "YYYY-MM-DD";
    date_in_words: "date-words.md" at 4:7 says "`March 2021` is not a date";
    date_with_a_time: "date-with-time.md" at 4:7 says "is not a date";
    date_year_zero: "date-year-zero.md" at 4:7 says "out of range";
    date_five_digit_year: "date-five-digit-year.md" at 4:7 says "is not a date";
    event_date_impossible: "date-event-impossible.md" at 6:11 says "`events[0].date`", "June 2021 has no day 31";
    release_date_impossible: "date-released-impossible.md" at 7:13 says "`source.released`", "February 2021 has no day 29";
    date_under_a_quoted_key: "date-quoted-key.md" at 4:9 says "there is no month 13";
    date_of_a_second_flow_event: "date-flow-second-event.md" at 5:48 says "`events[1].date`", "April 2021 has no day 31";
    date_after_a_string_naming_the_key: "date-key-named-in-a-string.md" at 11:11 says "`events[1].date`", "February 2021 has no day 31";
    date_after_the_same_key_in_extra: "date-same-key-in-extra.md" at 9:13 says "`source.released`", "February 2021 has no day 31";
    id_with_a_slash: "id-slash.md" at 2:5 says "`a/b` is not a valid id";
    id_dot_dot: "id-dotdot.md" at 2:5 says "`..` is not a valid id";
    id_upper_case: "id-upper-case.md" at 2:5 says "`Id-Upper` is not a valid id";
    id_with_spaces: "id-spaces.md" at 2:5 says "`id with spaces` is not a valid id";
    id_non_ascii: "id-non-ascii.md" at 2:5 says "`café-note` is not a valid id";
    id_over_200_characters: "id-too-long.md" at 2:5 says "201 characters long; at most 200";
    alias_escaping_the_root: "alias-escapes-root.md" at 6:5 says "alias `../../outside/` is not a plain site path";
    alias_escaping_midway: "alias-escapes-middle.md" at 6:5 says "is not a plain site path";
    alias_percent_encoded_dots: "alias-percent.md" at 6:5 says "is not a plain site path";
    alias_backslashes: "alias-backslash.md" at 6:5 says "is not a plain site path";
    alias_to_another_site: "alias-url.md" at 6:5 says "must be a path on this site";
    alias_colliding_with_a_document: "alias-collides-page.md" at 5:1 says "alias `/documents/frontex-report-2018/` collides with a page";
    alias_colliding_with_an_index: "alias-collides-index.md" at 5:1 says "alias `/topics/` collides with a page";
    alias_colliding_with_404: "alias-collides-404.md" at 5:1 says "alias `/404.html` collides with `/404.html`, which the build writes";
    alias_colliding_with_assets: "alias-collides-asset.md" at 5:1 says "alias `/static/` collides with `/static`, which the build writes";
    link_to_an_unknown_id: "link-unknown-id.md" at 6:5 says "link to unknown document id `no-such-document`";
    crlf_positions_are_the_files_own: "crlf-invalid-date.md" at 4:7 says "February 2021 has no day 30";
    bare_carriage_returns: "cr-only.md" at 1:1 says "bare carriage return";
    invalid_utf8: "invalid-utf8.md" at 3:16 says "not valid UTF-8";
    nul_byte: "nul-byte.md" at 6:13 says "NUL byte";
    utf16: "utf16.md" at 0:0 says "UTF-16, not UTF-8";
}

#[test]
fn empty_front_matter_names_every_missing_key() {
    let file = "content/documents/2021/empty-front-matter.md";
    let run = assert_rejected(
        |site| write(&site.root, file, &bad_fixture("empty-front-matter.md")),
        &Expect {
            file,
            line: Some(2),
            column: Some(1),
            message: &["missing required key `id`"],
        },
    );
    for key in ["title", "date"] {
        assert!(
            run.stderr
                .contains(&format!("{file}:2:1: error: missing required key `{key}`")),
            "{}",
            run.stderr
        );
    }
}

#[test]
fn two_documents_with_one_id() {
    let doc = |title: &str| {
        format!("---\nid: shared-id\ntitle: {title}\ndate: 2021-01-01\n---\nBody.\n").into_bytes()
    };
    assert_rejected(
        |site| {
            write(&site.root, "content/documents/2021/a.md", &doc("First"));
            write(&site.root, "content/documents/2021/b.md", &doc("Second"));
        },
        &Expect {
            file: "content/documents/2021/b.md",
            line: Some(2),
            column: Some(1),
            message: &["duplicate id `shared-id`", "content/documents/2021/a.md"],
        },
    );
}

#[test]
fn alias_claimed_twice() {
    let doc = |id: &str| {
        format!("---\nid: {id}\ntitle: T\ndate: 2021-01-01\naliases: [/old/page/]\n---\nBody.\n")
            .into_bytes()
    };
    assert_rejected(
        |site| {
            write(&site.root, "content/documents/2021/a.md", &doc("alias-a"));
            write(&site.root, "content/documents/2021/b.md", &doc("alias-b"));
        },
        &Expect {
            file: "content/documents/2021/b.md",
            line: Some(5),
            column: None,
            message: &["alias `/old/page/` is also claimed by"],
        },
    );
}

/// Paths an editor chooses (aliases, the names of originals) never take the
/// place of a file the build writes: each is refused at its line, all in one
/// run. Before, each of these built, and the page, feed or export it named was
/// replaced (some of them in one build and not the next).
#[test]
fn aliases_and_originals_never_replace_a_file_of_the_build() {
    let site = Site::new("basic");
    let doc = |id: &str, extra: &str| {
        format!("---\nid: {id}\ntitle: T\ndate: 2021-01-01\n{extra}---\nBody.\n").into_bytes()
    };
    let cases: [(&str, &str, &str); 8] = [
        (
            "page-by-file",
            "aliases: [/documents/minutes-2019/index.html]\n",
            "alias `/documents/minutes-2019/` collides with a page",
        ),
        (
            "correspondence",
            "aliases: [/correspondence/]\n",
            "alias `/correspondence/` collides with a page",
        ),
        (
            "site-feed",
            "aliases: [/feed.xml]\n",
            "alias `/feed.xml/` collides with `/feed.xml`, which the build writes",
        ),
        (
            "topic-feed",
            "aliases: [/topics/biometrics/feed.json]\n",
            "alias `/topics/biometrics/feed.json/` collides with `/topics/biometrics/feed.json`",
        ),
        (
            "export",
            "aliases: [/api/documents.json]\n",
            "collides with `/api`, which the build writes",
        ),
        (
            "in-a-document",
            "aliases: [/documents/minutes-2019/cite.bib]\n",
            "lies in the folder of document `minutes-2019`",
        ),
        (
            "original-page",
            "source:\n  file: index.html\n",
            "`index.html` is a file the build writes there",
        ),
        (
            "original-export",
            "source:\n  file: cite.ris\n",
            "`cite.ris` is a file the build writes there",
        ),
    ];
    write(
        &site.root,
        "content/documents/2021/index.html",
        b"<script>alert(1)</script>",
    );
    write(
        &site.root,
        "content/documents/2021/cite.ris",
        b"TY  - GEN\n",
    );
    for (id, extra, _) in &cases {
        write(
            &site.root,
            &format!("content/documents/2021/{id}.md"),
            &doc(id, extra),
        );
    }
    let run = site.build(&[]);
    run.assert_exit_1();
    let found = diagnostics(&run.stderr);
    for (id, extra, message) in &cases {
        let file = format!("content/documents/2021/{id}.md");
        let line = if extra.starts_with("source") { 6 } else { 5 };
        assert!(
            found
                .iter()
                .any(|d| d.file == file && d.line == line && d.message.contains(message)),
            "{file}:{line}: {message}\n{}",
            run.stderr
        );
    }
    assert_eq!(problem_count(&run.stderr), cases.len(), "{}", run.stderr);
    assert!(!site.out.exists());
}

/// Entity files: a name another entity claims is reported where it is written,
/// an empty name or alias is refused, and an unknown key reads plainly.
#[test]
fn entity_errors_name_their_line() {
    let site = Site::new("basic");
    write(
        &site.root,
        "content/organisations/agency.md",
        b"---\nname: Agency\naliases: [The Agency]\n---\n",
    );
    write(
        &site.root,
        "content/organisations/other.md",
        b"---\nname: Other\naliases:\n  - Bureau\n  - the agency\n---\n",
    );
    write(
        &site.root,
        "content/organisations/blank.md",
        b"---\nname: \"\"\naliases: [\" \"]\nfoo: 1\n---\n",
    );
    let run = site.build(&[]);
    run.assert_exit_1();
    let found: Vec<(String, usize, Option<usize>, String)> = diagnostics(&run.stderr)
        .into_iter()
        .map(|d| (d.file, d.line, d.column, d.message))
        .collect();
    let expect: [(&str, usize, usize, &str); 4] = [
        (
            "other.md",
            5,
            5,
            "the name `the agency` is also used by content/organisations/agency.md",
        ),
        ("blank.md", 2, 7, "`name` is empty"),
        ("blank.md", 3, 11, "item 1 of `aliases` is empty"),
        ("blank.md", 4, 1, "unknown key `foo`"),
    ];
    for (file, line, column, message) in expect {
        let file = format!("content/organisations/{file}");
        assert!(
            found.iter().any(|(f, l, c, m)| *f == file
                && *l == line
                && *c == Some(column)
                && m.contains(message)),
            "{file}:{line}:{column}: {message}\n{}",
            run.stderr
        );
    }
    assert!(!run.stderr.contains("in ``"), "{}", run.stderr);
    assert_eq!(problem_count(&run.stderr), expect.len(), "{}", run.stderr);
}

/// A broken link written in a body is reported at its Markdown line and
/// column, whether the link pass finds it (an anchor the page lacks) or the
/// check of the rendered page does (nothing published at the address).
#[test]
fn broken_links_of_a_body_are_reported_in_the_body() {
    let site = Site::new("basic");
    let file = "content/documents/2021/links.md";
    let doc = |body: &str| {
        format!("---\nid: links\ntitle: T\ndate: 2021-01-01\n---\nFirst.\n\n{body}\n").into_bytes()
    };
    write(
        &site.root,
        file,
        &doc("See [the end](#p9) and [top](#top)."),
    );
    let run = site.build(&[]);
    run.assert_exit_1();
    let found = diagnostics(&run.stderr);
    assert_eq!(found.len(), 1, "{}", run.stderr);
    assert_eq!(
        (found[0].file.as_str(), found[0].line, found[0].column),
        (file, 8, Some(5))
    );
    assert!(
        found[0].message.contains("no anchor `#p9`"),
        "{}",
        run.stderr
    );

    write(
        &site.root,
        file,
        &doc("A photo: ![desk](desk.jpg), [a note](../other/)."),
    );
    let run = site.build(&[]);
    run.assert_exit_1();
    let found = diagnostics(&run.stderr);
    let at: Vec<(&str, usize, Option<usize>)> = found
        .iter()
        .map(|d| (d.file.as_str(), d.line, d.column))
        .collect();
    assert_eq!(
        at,
        [(file, 8, Some(10)), (file, 8, Some(29))],
        "{}",
        run.stderr
    );
    assert!(
        found[0].message.contains("broken link `desk.jpg`"),
        "{}",
        run.stderr
    );
    assert!(
        run.stderr.contains("| A photo: ![desk](desk.jpg)"),
        "{}",
        run.stderr
    );
}

/// A `doc:` link in raw HTML would be removed by the sanitiser: refused at its
/// line rather than lost.
#[test]
fn a_doc_link_in_raw_html_is_refused() {
    let file = "content/documents/2021/raw.md";
    assert_rejected(
        |site| {
            write(
                &site.root,
                file,
                b"---\nid: raw\ntitle: T\ndate: 2021-01-01\n---\nFirst.\n\nSee <a href=\"doc:minutes-2019\">the minutes</a>.\n",
            )
        },
        &Expect {
            file,
            line: Some(8),
            column: Some(5),
            message: &["`doc:` link in raw HTML"],
        },
    );
}

/// A "Referenced by" excerpt shows a redaction of the linking passage as a bar,
/// and the passage's other text escaped.
#[test]
fn backlink_excerpts_show_redactions_as_bars() {
    let site = Site::new("basic");
    write(
        &site.root,
        "content/documents/2021/linking.md",
        b"---\nid: linking\ntitle: T\ndate: 2021-01-01\n---\nThe <i>vendor</i> [redacted: Art. 4] met as the [minutes](doc:minutes-2019) say.\n",
    );
    site.build(&["--quiet"]).assert_success();
    let html = page(&site.out, "documents/minutes-2019/");
    let excerpt = select(&html, "blockquote.excerpt");
    assert_eq!(excerpt.len(), 1);
    let inner = excerpt[0].inner_html();
    assert_eq!(
        select(&html, "blockquote.excerpt .redaction").len(),
        1,
        "{inner}"
    );
    assert!(
        !inner.contains("[redacted") && !inner.contains("Art. 4"),
        "{inner}"
    );
    assert!(select(&html, "blockquote.excerpt i").is_empty(), "{inner}");
}

/// A footnote defined twice would lose its second text: refused at its line.
#[test]
fn a_footnote_defined_twice_is_refused() {
    let file = "content/documents/2021/notes.md";
    assert_rejected(
        |site| {
            write(
                &site.root,
                file,
                b"---\nid: notes\ntitle: T\ndate: 2021-01-01\n---\nText[^a].\n\n[^a]: First.\n[^a]: Second.\n",
            )
        },
        &Expect {
            file,
            line: Some(9),
            column: Some(1),
            message: &["footnote `[^a]` is defined twice"],
        },
    );
}

/// A reference definition named like a redaction marker would make the marker
/// a link and drop the redaction from the page: refused where the marker is.
#[test]
fn a_reference_definition_that_hides_a_redaction_is_refused() {
    let file = "content/documents/2021/refdef.md";
    assert_rejected(
        |site| {
            write(
                &site.root,
                file,
                b"---\nid: refdef\ntitle: T\ndate: 2021-01-01\n---\nFirst.\n\nThe vendor [Redacted] met.\n\nSee the [redacted version][r] and [redacted release].\n\n[redacted]: https://example.org/\n[r]: https://example.org/r\n[redacted release]: https://example.org/rr\n",
            )
        },
        &Expect {
            file,
            line: Some(8),
            column: Some(12),
            message: &["this redaction marker is a link"],
        },
    );
}

// ---------------------------------------------------------------- odd but fine

/// Builds `basic` with the given files added; returns the site, built.
fn accepted(files: &[(&str, Vec<u8>)]) -> Site {
    let site = Site::new("basic");
    for (rel, bytes) in files {
        write(&site.root, rel, bytes);
    }
    site.build(&["--quiet"]).assert_success();
    site
}

fn ok_document(name: &str) -> (String, Vec<u8>) {
    (format!("content/documents/2021/{name}"), bad_fixture(name))
}

fn only_text(html: &scraper::Html, css: &str) -> String {
    let found = texts(html, css);
    assert_eq!(found.len(), 1, "{css}: {found:?}");
    found.into_iter().next().unwrap_or_default()
}

#[test]
fn yaml_1_1_coercions_stay_text() {
    // YAML 1.2 (serde_yaml) reads `no`, `on`, `yes`, `off` and `12:30` as strings:
    // they are shown as written, never as booleans or sexagesimal numbers.
    let (rel, bytes) = ok_document("ok-yaml-coercions.md");
    let site = accepted(&[(rel.as_str(), bytes)]);
    let doc = page(&site.out, "documents/ok-yaml-coercions/");
    assert_eq!(only_text(&doc, "h1#doc-title"), "no");
    assert_eq!(only_text(&doc, "p.summary"), "12:30");
    let meta = texts(&doc, "dl.document-meta dd").join(" | ");
    assert!(meta.contains("yes"), "{meta}");
    assert!(meta.contains("off"), "{meta}");
    assert!(site.out.join("types/on/index.html").is_file());
}

#[test]
fn byte_order_mark_is_dropped() {
    let (rel, bytes) = ok_document("ok-bom.md");
    assert!(bytes.starts_with("\u{feff}".as_bytes()));
    let site = accepted(&[(rel.as_str(), bytes)]);
    let doc = page(&site.out, "documents/ok-bom/");
    assert_eq!(
        only_text(&doc, "h1#doc-title"),
        "Starts with a byte-order mark"
    );
    let raw = std::fs::read_to_string(site.out.join("documents/ok-bom/index.html")).unwrap();
    assert!(!raw.contains('\u{feff}'));
}

#[test]
fn crlf_and_mixed_line_endings_build_the_same_page() {
    let (rel1, crlf) = ok_document("ok-crlf.md");
    let (rel2, mixed) = ok_document("ok-mixed-endings.md");
    assert!(crlf.windows(2).any(|w| w == b"\r\n"));
    let site = accepted(&[(rel1.as_str(), crlf), (rel2.as_str(), mixed)]);
    let doc = page(&site.out, "documents/ok-crlf/");
    assert_eq!(only_text(&doc, "h1#doc-title"), "CRLF document");
    assert_eq!(only_text(&doc, "p.summary"), "Windows line endings");
    let paragraphs = texts(&doc, ".document-body p");
    assert_eq!(paragraphs, ["¶First paragraph.", "¶Second paragraph."]);
    let doc = page(&site.out, "documents/ok-mixed-endings/");
    assert_eq!(only_text(&doc, "h1#doc-title"), "Mixed line endings");
    assert_eq!(
        texts(&doc, ".document-body p"),
        ["¶First paragraph.", "¶Second paragraph."]
    );
    for file in html_files(&site.out) {
        let text = std::fs::read_to_string(&file).unwrap();
        assert!(!text.contains('\r'), "CR in {}", file.display());
    }
}

#[test]
fn id_of_exactly_200_characters_is_a_page() {
    let (rel, bytes) = ok_document("ok-id-200.md");
    let site = accepted(&[(rel.as_str(), bytes)]);
    let id = "b".repeat(200);
    assert!(site
        .out
        .join("documents")
        .join(&id)
        .join("index.html")
        .is_file());
}

#[test]
fn unicode_titles_terms_and_control_characters() {
    let (rel, bytes) = ok_document("ok-unicode.md");
    let site = accepted(&[(rel.as_str(), bytes)]);
    let doc = page(&site.out, "documents/ok-unicode/");
    assert_eq!(only_text(&doc, "h1#doc-title"), "Ελληνικά 中文 العربية 🙂");
    for term in ["Ελλάδα", "中文", "Comisión Europea"] {
        let slug = annals::document::slugify(term);
        assert!(
            site.out
                .join("topics")
                .join(&slug)
                .join("index.html")
                .is_file(),
            "topics/{slug}/"
        );
        let html = page(&site.out, &format!("topics/{slug}/"));
        assert!(
            texts(&html, "h1").iter().any(|t| t.contains(term)),
            "{term}"
        );
    }
    assert_eq!(
        annals::document::slugify("Comisión Europea"),
        "comision-europea"
    );
}

/// Front-matter values are plain text, not HTML: `Q&amp;A` is shown exactly as
/// typed (escaped once in the page source), the same on the page, in its `<title>`,
/// meta tags, JSON-LD and feeds. Bodies are Markdown, where CommonMark decodes
/// entities: `&amp;` in a body shows as `&`.
#[test]
fn entities_in_front_matter_are_text_escaped_once() {
    let (rel, bytes) = ok_document("ok-entities.md");
    let site = accepted(&[(rel.as_str(), bytes)]);
    let path = "documents/ok-entities/";
    let doc = page(&site.out, path);
    assert_eq!(only_text(&doc, "h1#doc-title"), "Q&amp;A");
    assert_eq!(only_text(&doc, "p.summary"), "Tom &amp; Jerry &lt;3 &#169;");
    let title: String = select(&doc, "title")[0].text().collect();
    assert!(title.starts_with("Q&amp;A · "), "{title}");
    let meta = select(&doc, "meta[name=\"citation_title\"]");
    assert_eq!(meta[0].value().attr("content"), Some("Q&amp;A"));
    let ld: String = select(&doc, "script[type=\"application/ld+json\"]")[0]
        .text()
        .collect();
    let ld: serde_json::Value = serde_json::from_str(&ld).unwrap();
    assert_eq!(ld["name"], "Q&amp;A");
    let raw = std::fs::read_to_string(site_file(&site.out, path)).unwrap();
    assert!(raw.contains(">Q&amp;amp;A</h1>"), "escaped once");
    assert!(!raw.contains("&amp;amp;amp;"), "escaped twice");
    assert!(
        texts(&doc, ".document-body p").contains(&"¶Body & more.".to_string()),
        "{:?}",
        texts(&doc, ".document-body p")
    );
    let feed = std::fs::read(site.out.join("feed.xml")).unwrap();
    let feed = feed_rs::parser::parse(&feed[..]).expect("feed.xml parses");
    let entry = feed
        .entries
        .iter()
        .find(|e| e.links.iter().any(|l| l.href.ends_with(path)))
        .expect("the document is in the feed");
    assert_eq!(
        entry.title.as_ref().map(|t| t.content.as_str()),
        Some("Q&amp;A")
    );
}

// ------------------------------------------------------------------ big inputs

/// A document of 50 MB (numbered paragraphs, headings, lists, redactions, links)
/// builds, in bounded time and memory. Debug builds take about a minute.
#[test]
fn a_50_mb_document_builds() {
    let site = Site::new("basic");
    let mut body = String::with_capacity(51 << 20);
    body.push_str("---\nid: huge-document\ntitle: A 50 MB document\ndate: 2021-05-05\ntopics: [Data protection]\n---\n");
    let words = [
        "council",
        "commission",
        "member",
        "states",
        "data",
        "retention",
        "europol",
        "frontex",
        "biometric",
        "interoperability",
        "regulation",
        "article",
        "paragraph",
        "proposal",
    ];
    let mut n = 0usize;
    while body.len() < 50_000_000 {
        n += 1;
        if n % 50 == 0 {
            body.push_str(&format!("## Section {n}\n\n"));
        } else if n % 17 == 0 {
            body.push_str(
                "- item one [redacted]\n- item two with a [link](https://example.org/)\n\n",
            );
        } else {
            body.push_str(&format!("{n}. "));
            for i in 0..120 {
                body.push_str(words[(n * 7 + i * 13) % words.len()]);
                body.push(' ');
            }
            body.push_str("end.\n\n");
        }
    }
    write(
        &site.root,
        "content/documents/2021/huge.md",
        body.as_bytes(),
    );
    drop(body);
    let start = Instant::now();
    site.build(&["--quiet"]).assert_success();
    let elapsed = start.elapsed();
    eprintln!("50 MB document built in {:.1} s", elapsed.as_secs_f64());
    assert!(elapsed < Duration::from_secs(600), "{elapsed:?}");
    let html =
        std::fs::read_to_string(site.out.join("documents/huge-document/index.html")).unwrap();
    assert!(html.len() > 50_000_000, "{}", html.len());
    assert!(html.matches("<h2 id=\"section-").count() > 900);
    assert!(html.trim_end().ends_with("</html>"));
}

/// One document filed under 10,000 topics: every term page exists and the build
/// stays far from quadratic (it took over ten minutes and 10 GB before the fixes).
#[test]
fn ten_thousand_topics_on_one_document() {
    let site = Site::new("basic");
    let mut doc = String::from(
        "---\nid: many-topics\ntitle: Ten thousand topics\ndate: 2021-05-06\ntopics:\n",
    );
    for i in 0..10_000 {
        doc.push_str(&format!("  - Topic number {i}\n"));
    }
    doc.push_str("---\nBody.\n");
    write(&site.root, "content/documents/2021/many.md", doc.as_bytes());
    let start = Instant::now();
    site.build(&["--quiet"]).assert_success();
    let elapsed = start.elapsed();
    eprintln!("10,000 topics built in {:.1} s", elapsed.as_secs_f64());
    assert!(elapsed < Duration::from_secs(300), "{elapsed:?}");
    let index = page(&site.out, "topics/");
    let links = select(&index, "main a[href^=\"/topics/topic-number-\"]");
    assert_eq!(links.len(), 10_000);
    assert!(site
        .out
        .join("topics/topic-number-9999/index.html")
        .is_file());
    let doc = page(&site.out, "documents/many-topics/");
    assert_eq!(
        select(&doc, "a[href^=\"/topics/topic-number-\"]").len(),
        10_000
    );
}

// ------------------------------------------------------------- the file system

#[cfg(unix)]
#[test]
fn symbolic_link_loop_is_an_error() {
    assert_rejected(
        |site| {
            let dir = site.root.join("content/documents/2021");
            std::fs::create_dir_all(&dir).unwrap();
            std::os::unix::fs::symlink("..", dir.join("loop")).unwrap();
        },
        &Expect {
            file: "content/documents/2021/loop",
            line: None,
            column: None,
            message: &["symbolic link loop"],
        },
    );
}

#[cfg(unix)]
#[test]
fn symbolic_link_leaving_the_archive_is_an_error() {
    let elsewhere = tempfile::tempdir().unwrap();
    let outside = elsewhere.path().join("secret.md");
    std::fs::write(
        &outside,
        "---\nid: secret\ntitle: Outside\ndate: 2021-01-01\n---\nNot for publishing.\n",
    )
    .unwrap();
    assert_rejected(
        |site| {
            let dir = site.root.join("content/documents/2021");
            std::fs::create_dir_all(&dir).unwrap();
            std::os::unix::fs::symlink(&outside, dir.join("secret.md")).unwrap();
        },
        &Expect {
            file: "content/documents/2021/secret.md",
            line: None,
            column: None,
            message: &["points outside the archive"],
        },
    );
}

/// A link to a folder outside the archive is reported once and never walked:
/// nothing in it is read (its broken document is not reported), so a link to
/// `/` cannot have the whole file system read.
#[cfg(unix)]
#[test]
fn symbolic_link_to_an_outside_folder_is_not_walked() {
    let elsewhere = tempfile::tempdir().unwrap();
    let sub = elsewhere.path().join("sub");
    std::fs::create_dir_all(&sub).unwrap();
    std::fs::write(
        sub.join("o.md"),
        "---\nid: o\ntitle: O\ndate: 2019-02-30\n---\n",
    )
    .unwrap();
    let site = Site::new("basic");
    let link = site.root.join("content/documents/ext");
    std::os::unix::fs::symlink(elsewhere.path(), &link).unwrap();
    let run = site.check(&[]);
    run.assert_exit_1();
    assert!(
        run.stderr.contains("content/documents/ext"),
        "{}",
        run.stderr
    );
    assert!(
        run.stderr.contains("points outside the archive"),
        "{}",
        run.stderr
    );
    assert!(
        !run.stderr.contains("o.md"),
        "the outside folder was walked:\n{}",
        run.stderr
    );
    assert_eq!(problem_count(&run.stderr), 1, "{}", run.stderr);
}

#[cfg(unix)]
#[test]
fn symbolic_link_inside_the_archive_is_followed_and_dangling_one_reported() {
    let site = Site::new("basic");
    write(
        &site.root,
        "shared/note.md",
        b"---\nid: shared-note\ntitle: Linked in\ndate: 2021-01-01\n---\nBody.\n",
    );
    let dir = site.root.join("content/documents/2021");
    std::fs::create_dir_all(&dir).unwrap();
    std::os::unix::fs::symlink("../../../shared/note.md", dir.join("note.md")).unwrap();
    site.build(&["--quiet"]).assert_success();
    assert!(site.out.join("documents/shared-note/index.html").is_file());
    let before = snapshot(&site.out);
    std::os::unix::fs::symlink("nowhere.md", dir.join("dangling.md")).unwrap();
    let run = site.build(&[]);
    run.assert_exit_1();
    assert!(
        run.stderr
            .contains("content/documents/2021/dangling.md: error:"),
        "{}",
        run.stderr
    );
    assert_same_tree(&before, &snapshot(&site.out), "output");
}

/// An unreadable document (chmod 000) is an error naming it. Root reads any file
/// whatever its mode, so when the tests run as root the build is run as `nobody`
/// (through `setpriv`) to exercise the real permission check; if that is not
/// possible either, the test says so and checks only that the build does not fail
/// for another reason.
#[cfg(unix)]
#[test]
fn unreadable_file_is_an_error() {
    use std::os::unix::fs::PermissionsExt;
    let site = Site::new("basic");
    site.build(&["--quiet"]).assert_success();
    let before = snapshot(&site.out);
    let rel = "content/documents/2021/unreadable.md";
    write(
        &site.root,
        rel,
        b"---\nid: unreadable\ntitle: Locked\ndate: 2021-01-01\n---\nBody.\n",
    );
    let file = site.root.join(rel);
    std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o000)).unwrap();
    let is_root = std::fs::read(&file).is_ok();
    let run = if !is_root {
        site.build(&[])
    } else if Path::new("/usr/bin/setpriv").exists() {
        // Everything but the locked file must be usable by nobody.
        for entry in walkdir::WalkDir::new(site.tmp.path()) {
            let entry = entry.unwrap();
            if entry.path() == file {
                continue;
            }
            let mode = if entry.file_type().is_dir() {
                0o777
            } else {
                0o666
            };
            std::fs::set_permissions(entry.path(), std::fs::Permissions::from_mode(mode)).unwrap();
        }
        let output = Command::new("/usr/bin/setpriv")
            .args(["--reuid=65534", "--regid=65534", "--clear-groups", "--"])
            .arg(assert_cmd::cargo::cargo_bin("annals"))
            .arg("build")
            .arg("--root")
            .arg(&site.root)
            .arg("--output")
            .arg(&site.out)
            .output()
            .unwrap();
        Run {
            code: output.status.code(),
            stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
        }
    } else {
        eprintln!("running as root without setpriv: the permission check is not exercised");
        site.build(&["--quiet"]).assert_success();
        return;
    };
    run.assert_exit_1();
    assert!(
        run.stderr
            .contains(&format!("{rel}: error: cannot read the file")),
        "{}",
        run.stderr
    );
    assert!(run.stderr.contains("ermission denied"), "{}", run.stderr);
    assert_same_tree(&before, &snapshot(&site.out), "output");
}

/// Files under content/documents/ that are not Markdown are not pages and are not
/// published unless a document's `source.file` names them (README, "Archive
/// layout"); hidden files are skipped; `.MD` and `.markdown` are Markdown.
#[test]
fn non_markdown_files_are_ignored() {
    let site = Site::new("basic");
    let doc = |id: &str| format!("---\nid: {id}\ntitle: {id}\ndate: 2021-01-01\n---\nBody.\n");
    write(
        &site.root,
        "content/documents/2021/notes.txt",
        b"private notes\n",
    );
    write(
        &site.root,
        "content/documents/2021/scan.pdf",
        b"%PDF-1.4 unreferenced\n",
    );
    write(
        &site.root,
        "content/documents/2021/README",
        b"no extension\n",
    );
    write(
        &site.root,
        "content/documents/2021/.draft.md",
        doc("hidden-draft").as_bytes(),
    );
    write(
        &site.root,
        "content/documents/2021/.git/x.md",
        doc("in-git").as_bytes(),
    );
    write(
        &site.root,
        "content/documents/2021/UPPER.MD",
        doc("upper-md").as_bytes(),
    );
    write(
        &site.root,
        "content/documents/2021/long.markdown",
        doc("long-ext").as_bytes(),
    );
    write(
        &site.root,
        "content/documents/2021/image.png",
        &[0x89, b'P', b'N', b'G', 0, 0, 0],
    );
    site.build(&["--quiet"]).assert_success();
    for id in ["upper-md", "long-ext"] {
        assert!(
            site.out
                .join("documents")
                .join(id)
                .join("index.html")
                .is_file(),
            "{id}"
        );
    }
    for id in ["hidden-draft", "in-git"] {
        assert!(!site.out.join("documents").join(id).exists(), "{id}");
    }
    for (path, bytes) in snapshot(&site.out) {
        for name in ["notes.txt", "scan.pdf", "README", "image.png"] {
            assert!(!path.ends_with(name), "{name} published as {path}");
        }
        assert!(
            !bytes.windows(13).any(|w| w == b"private notes"),
            "notes.txt content in {path}"
        );
    }
}

// ------------------------------------------------------- theme and site.toml

#[test]
fn template_syntax_error_names_the_template_file_and_line() {
    let rel = "themes/default/templates/document.html";
    assert_rejected(
        |site| {
            write(
                &site.root,
                rel,
                b"{% extends \"base.html\" %}\n{% block content %}\n<h1>{{ doc.title }</h1>\n{% endblock content %}\n",
            )
        },
        &Expect {
            file: rel,
            line: Some(3),
            column: None,
            message: &["template error"],
        },
    );
}

#[test]
fn template_rendering_error_names_the_template_file_and_line() {
    let rel = "themes/default/templates/document.html";
    assert_rejected(
        |site| {
            write(
                &site.root,
                rel,
                b"{% extends \"base.html\" %}\n{% block content %}\n<h1>{{ doc.title }}</h1>\n<p>{{ doc.no_such_field.name }}</p>\n{% endblock content %}\n",
            )
        },
        &Expect {
            file: rel,
            line: Some(4),
            column: None,
            message: &["template error"],
        },
    );
}

fn with_site_toml(extra: &str) -> impl FnOnce(&Site) + '_ {
    move |site: &Site| {
        let path = site.root.join("site.toml");
        let text = std::fs::read_to_string(&path).unwrap();
        std::fs::write(&path, format!("{text}{extra}")).unwrap();
    }
}

#[test]
fn missing_theme_is_reported_at_its_line() {
    assert_rejected(
        with_site_toml("theme = \"no-such-theme\"\n"),
        &Expect {
            file: "site.toml",
            line: Some(7),
            column: Some(1),
            message: &["theme `no-such-theme` not found", "themes/no-such-theme"],
        },
    );
}

/// A symbolic link in a theme's `static/` is published when it leads to a
/// file inside the archive, and reported when it leads outside: before, every
/// link was left out of the site without a word.
#[cfg(unix)]
#[test]
fn symbolic_links_in_a_theme_are_followed_inside_and_reported_outside() {
    let site = Site::new("basic");
    with_site_toml("theme = \"custom\"\n")(&site);
    let static_dir = site.root.join("themes/custom/static");
    std::fs::create_dir_all(&static_dir).unwrap();
    std::fs::write(site.root.join("logo.svg"), "<svg/>").unwrap();
    std::os::unix::fs::symlink(site.root.join("logo.svg"), static_dir.join("logo.svg")).unwrap();
    site.build(&[]).assert_success();
    assert_eq!(
        std::fs::read_to_string(site.out.join("static/logo.svg")).unwrap(),
        "<svg/>"
    );
    let elsewhere = tempfile::tempdir().unwrap();
    std::fs::write(elsewhere.path().join("secret.txt"), "not for publishing").unwrap();
    std::os::unix::fs::symlink(
        elsewhere.path().join("secret.txt"),
        static_dir.join("host.txt"),
    )
    .unwrap();
    let run = site.build(&[]);
    run.assert_exit_1();
    assert!(
        run.stderr.contains("themes/custom/static/host.txt")
            && run.stderr.contains("points outside the archive"),
        "{}",
        run.stderr
    );
    assert!(!site.out.join("static/host.txt").exists());
}

#[test]
fn theme_outside_themes_folder_is_refused() {
    assert_rejected(
        with_site_toml("theme = \"../../etc\"\n"),
        &Expect {
            file: "site.toml",
            line: Some(7),
            column: Some(1),
            message: &["must be the name of a folder under themes/"],
        },
    );
}

#[test]
fn broken_site_toml_is_reported_with_its_line() {
    let cases: &[(&str, usize, &str)] = &[
        ("title2 = \"unterminated\n", 7, ""),
        ("cname = 3\n", 7, "invalid type"),
        ("latest_documents = -1\n", 7, ""),
        ("[markdown]\ntrusted_html = \"yes\"\n", 8, "invalid type"),
        ("[markdown]\nunsafe = true\n", 8, "unknown field"),
        ("[[taxonomies]]\nkey = \"countries\"\n", 7, "missing field"),
    ];
    for (extra, line, message) in cases {
        let messages: Vec<&str> = [*message].into_iter().filter(|m| !m.is_empty()).collect();
        assert_rejected(
            with_site_toml(extra),
            &Expect {
                file: "site.toml",
                line: Some(*line),
                column: None,
                message: &messages,
            },
        );
    }
}

/// Every mistake of a `site.toml` is reported in one run, each at its line:
/// values of the wrong type and unknown keys, in the top table and in
/// `[markdown]` and `[mentions]`. Before, each run reported the first only.
#[test]
fn every_site_toml_mistake_is_reported_in_one_run() {
    let site = Site::new("basic");
    std::fs::write(
        site.root.join("site.toml"),
        "title = 5\ndescription = \"d\"\nbase_url = \"https://example.org/\"\n\
         latest_documents = -3\nunknwn = 1\n[markdown]\ntrusted_html = \"yes\"\n\
         [mentions]\nfoo = 1\n",
    )
    .unwrap();
    for run in [site.check(&[]), site.build(&[])] {
        run.assert_exit_1();
        let found = diagnostics(&run.stderr);
        for (line, message) in [
            (1, "invalid type: integer `5`, expected a string"),
            (4, "expected usize"),
            (5, "unknown field `unknwn`"),
            (7, "invalid type: string \"yes\", expected a boolean"),
            (9, "unknown field `foo`"),
        ] {
            assert!(
                found.iter().any(|d| d.file == "site.toml"
                    && d.line == line
                    && d.message.contains(message)),
                "{line}: {message}\n{}",
                run.stderr
            );
        }
        assert_eq!(
            problem_count(&run.stderr),
            5,
            "no consequence reported: {}",
            run.stderr
        );
        assert!(!site.out.exists());
    }
}

// ------------------------------------------------------------------ XSS corpus

/// The XSS corpus (`tests/xss/`) builds, and no page of it carries anything a
/// browser would run or load: the browser test (`tests/browser/test/xss.test.mjs`)
/// checks the same in Chromium.
#[test]
fn xss_corpus_builds_inert_pages() {
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path().join("site");
    copy_dir(&repo_root().join("tests/xss"), &root);
    let out = tmp.path().join("out");
    run(&[
        "build".as_ref(),
        "--quiet".as_ref(),
        "--root".as_ref(),
        root.as_os_str(),
        "--output".as_ref(),
        out.as_os_str(),
    ])
    .assert_success();
    let mut pages = 0;
    for file in html_files(&out) {
        let text = std::fs::read_to_string(&file).unwrap();
        let name = file.strip_prefix(&out).unwrap().display().to_string();
        assert_inert(&name, &text);
        pages += 1;
    }
    assert!(pages > 10);
    let doc = page(&out, "documents/xss-front-matter/");
    let title = only_text(&doc, "h1#doc-title");
    assert!(title.contains("<script>window.__xss"), "{title}");
    // Safe raw HTML survives sanitising; the rest of it is removed.
    let body = page(&out, "documents/xss-sanitised/");
    assert_eq!(select(&body, ".document-body sup").len(), 1);
    assert_eq!(select(&body, ".document-body sub").len(), 1);
    assert_eq!(select(&body, ".document-body details > summary").len(), 1);
    assert_eq!(select(&body, ".document-body details > p > em").len(), 1);
    assert_eq!(
        texts(&body, ".document-body div"),
        ["A div that keeps its text only."]
    );
    assert_eq!(
        select(&body, "#citation-text").len(),
        1,
        "raw HTML set an id"
    );
    // A body whose raw HTML hides Markdown in a script shows its HTML as text.
    let body = page(&out, "documents/xss-body/");
    let text = texts(&body, ".document-body").join(" ");
    assert!(
        text.contains("<script>window.__xss='script-block'</script>"),
        "{text}"
    );
}

/// Fails on any element or attribute of `html` that could run script or load
/// active content, as a browser parses it.
fn assert_inert(page: &str, html: &str) {
    let doc = scraper::Html::parse_document(html);
    for el in select(&doc, "*") {
        let v = el.value();
        let name = v.name();
        match name {
            "script" => {
                let ld = v.attr("type") == Some("application/ld+json");
                let external = v.attr("src").is_some_and(|s| s.starts_with("/static/"));
                assert!(ld || external, "{page}: {}", el.html());
                assert!(ld != external, "{page}: {}", el.html());
                if ld {
                    let body: String = el.text().collect();
                    assert!(!body.contains('<'), "{page}: `<` in JSON-LD");
                }
            }
            "iframe" | "frame" | "object" | "embed" | "style" | "base" | "svg" | "math" => {
                panic!("{page}: <{name}> {}", el.html())
            }
            "form" => assert_eq!(v.attr("action"), Some("/search/"), "{page}"),
            _ => {}
        }
        for (attr, value) in v.attrs() {
            assert!(
                !attr.starts_with("on"),
                "{page}: {attr}= on <{name}>: {}",
                el.html()
            );
            if matches!(
                attr,
                "href" | "src" | "action" | "formaction" | "srcset" | "data" | "poster"
            ) {
                let cleaned: String = value
                    .chars()
                    .filter(|c| !c.is_whitespace() && !c.is_control())
                    .collect::<String>()
                    .to_ascii_lowercase();
                for scheme in ["javascript:", "vbscript:", "data:"] {
                    assert!(!cleaned.starts_with(scheme), "{page}: {attr}={value:?}");
                }
            }
        }
        if name == "meta"
            && v.attr("http-equiv")
                .is_some_and(|h| h.eq_ignore_ascii_case("refresh"))
        {
            let content = v.attr("content").unwrap_or("").to_ascii_lowercase();
            assert!(!content.contains("javascript:"), "{page}: {content}");
        }
    }
}

#[test]
fn default_theme_sets_a_content_security_policy() {
    let site = Site::new("basic");
    site.build(&["--quiet"]).assert_success();
    for path in [
        "",
        "documents/frontex-report-2018/",
        "topics/",
        "search/",
        "404.html",
    ] {
        let html = page(&site.out, path);
        let csp = select(&html, "head meta[http-equiv=\"Content-Security-Policy\"]");
        assert_eq!(csp.len(), 1, "/{path}");
        let policy = csp[0].value().attr("content").unwrap();
        for directive in [
            "default-src 'self'",
            "script-src 'self'",
            "object-src 'none'",
            "base-uri 'self'",
            "form-action 'self'",
        ] {
            assert!(policy.contains(directive), "/{path}: {policy}");
        }
        let script_src = policy
            .split(';')
            .find(|d| d.trim().starts_with("script-src"))
            .unwrap();
        assert!(!script_src.contains("unsafe"), "{script_src}");
        // Nothing inline would be blocked: scripts are external or JSON data.
        for script in select(&html, "script") {
            let v = script.value();
            assert!(
                v.attr("src").is_some() || v.attr("type") == Some("application/ld+json"),
                "/{path}: inline script {}",
                script.html()
            );
        }
        // The policy is the first thing in <head> after the charset, before any load.
        let head: Vec<_> = select(&html, "head > *");
        let position = head
            .iter()
            .position(|e| e.value().attr("http-equiv").is_some())
            .unwrap();
        assert!(
            head[..position]
                .iter()
                .all(|e| e.value().name() == "meta" && e.value().attr("charset").is_some()),
            "/{path}"
        );
    }
}

/// `[markdown] trusted_html = true` passes raw HTML through as written.
#[test]
fn trusted_html_is_an_opt_in() {
    let site = Site::new("basic");
    write(
        &site.root,
        "content/documents/2021/raw.md",
        b"---\nid: raw-html\ntitle: Raw\ndate: 2021-01-01\n---\n<div class=\"chart\" data-x=\"1\">Chart</div>\n\nH<sub>2</sub>O <span onclick=\"f()\">x</span>\n",
    );
    site.build(&["--quiet"]).assert_success();
    let doc = page(&site.out, "documents/raw-html/");
    assert_eq!(select(&doc, ".document-body sub").len(), 1);
    assert!(select(&doc, ".document-body div.chart").is_empty());
    assert!(select(&doc, ".document-body [onclick]").is_empty());
    with_site_toml("\n[markdown]\ntrusted_html = true\n")(&site);
    site.build(&["--quiet"]).assert_success();
    let doc = page(&site.out, "documents/raw-html/");
    assert_eq!(
        select(&doc, ".document-body div.chart[data-x=\"1\"]").len(),
        1
    );
    assert_eq!(select(&doc, ".document-body span[onclick]").len(), 1);
    // An id of raw HTML is a target a same-page link may use.
    write(
        &site.root,
        "content/documents/2021/raw.md",
        b"---\nid: raw-html\ntitle: Raw\ndate: 2021-01-01\n---\n<div id=\"chart-1\">Chart</div>\n\nSee [the chart](#chart-1).\n",
    );
    site.build(&["--quiet"]).assert_success();
    let doc = page(&site.out, "documents/raw-html/");
    assert_eq!(select(&doc, ".document-body #chart-1").len(), 1);
}

// ------------------------------------------------- interruption and concurrency

/// An archive of `n` generated documents (3,000 takes several seconds to build in
/// a debug build: long enough to be killed mid-way).
fn large_archive(n: usize) -> Site {
    let site = Site::new("basic");
    let topics = [
        "Biometrics",
        "Border control",
        "Data protection",
        "Encryption",
        "Europol",
    ];
    for i in 0..n {
        let year = 2000 + i % 20;
        let text = format!(
            "---\nid: generated-{i}\ntitle: Generated document {i}\ndate: {year}-{:02}-{:02}\ntopics: [{}, {}]\nreference: GEN/{i}\n---\n## Part one\n\n1.1. The council discussed item {i} [redacted] at length.\n\n- a point\n- another point, see [the first](doc:generated-0)\n\n## Part two\n\n{}\n",
            i % 12 + 1,
            i % 28 + 1,
            topics[i % topics.len()],
            topics[(i / 5) % topics.len()],
            "Words of the body. ".repeat(40),
        );
        write(
            &site.root,
            &format!("content/documents/{year}/gen-{i}.md"),
            text.as_bytes(),
        );
    }
    site
}

fn spawn_build(site: &Site, output: &Path) -> std::process::Child {
    Command::new(assert_cmd::cargo::cargo_bin("annals"))
        .args(["build", "--quiet", "--root"])
        .arg(&site.root)
        .arg("--output")
        .arg(output)
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap()
}

/// Names beside the output that belong to a build in progress.
fn staging_dirs(site: &Site) -> Vec<String> {
    site.tmp_listing()
        .into_iter()
        .filter(|n| n.starts_with(".out.annals-staging-"))
        .collect()
}

fn wait_for(what: &str, limit: Duration, mut done: impl FnMut() -> bool) -> bool {
    let deadline = Instant::now() + limit;
    while Instant::now() < deadline {
        if done() {
            return true;
        }
        std::thread::sleep(Duration::from_millis(5));
    }
    eprintln!("gave up waiting for {what}");
    false
}

#[cfg(unix)]
fn signal(child: &std::process::Child, sig: &str) {
    let status = Command::new("kill")
        .args([format!("-{sig}"), child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
}

/// A build killed at any point (SIGKILL and SIGINT, before and while it writes)
/// leaves the previous site complete and unchanged; the next build cleans up after
/// it and succeeds.
#[cfg(unix)]
#[test]
fn killed_builds_leave_the_previous_site_intact() {
    let site = large_archive(3_000);
    site.build(&["--quiet"]).assert_success();
    let before = snapshot(&site.out);
    assert!(before.len() > 3_000);
    // Change the archive so that a completed build would differ.
    write(
        &site.root,
        "content/documents/2021/new.md",
        b"---\nid: added-late\ntitle: Added late\ndate: 2021-01-01\n---\nNew.\n",
    );
    // Kill points: while loading (at once), and at several moments of writing.
    let delays_ms: &[Option<u64>] = &[None, Some(0), Some(200), Some(1_000), Some(3_000)];
    for (round, delay) in delays_ms.iter().enumerate() {
        let sig = if round % 2 == 0 { "KILL" } else { "INT" };
        let mut child = spawn_build(&site, &site.out);
        match delay {
            None => std::thread::sleep(Duration::from_millis(20)),
            Some(ms) => {
                let started = wait_for("the staging folder", Duration::from_secs(120), || {
                    !staging_dirs(&site).is_empty()
                });
                assert!(started, "the build never started writing");
                std::thread::sleep(Duration::from_millis(*ms));
            }
        }
        signal(&child, sig);
        let status = child.wait().unwrap();
        if status.success() {
            // It finished before the signal: that is a complete new site.
            eprintln!("round {round}: the build finished before SIG{sig}");
            assert!(site.out.join("documents/added-late/index.html").is_file());
            return;
        }
        let after = snapshot(&site.out);
        if after != before && site.out.join("documents/added-late/index.html").is_file() {
            // Killed after the swap, while the build recorded its caches: the
            // output is the new site, complete (a full build of the same input
            // into another folder writes the same files).
            eprintln!("round {round}: SIG{sig} came after the swap");
            let other = site.root.parent().unwrap().join("complete");
            run(&[
                "build".as_ref(),
                "--quiet".as_ref(),
                "--root".as_ref(),
                site.root.as_os_str(),
                "--output".as_ref(),
                other.as_os_str(),
            ])
            .assert_success();
            assert_same_tree(
                &snapshot(&other),
                &after,
                "a site swapped in before the kill",
            );
            return;
        }
        assert_same_tree(
            &before,
            &after,
            &format!("output after SIG{sig} at {delay:?} ms"),
        );
    }
    // The next build removes what the killed ones left and replaces the site.
    site.build(&["--quiet"]).assert_success();
    assert!(site.out.join("documents/added-late/index.html").is_file());
    // Only the previous site stays beside the output, as the next build's spare.
    assert_eq!(
        site.tmp_listing().into_iter().collect::<Vec<_>>(),
        [".out.annals-spare", "out", "site"],
        "leftovers of killed builds"
    );
    assert!(site
        .out
        .join("documents/generated-2999/index.html")
        .is_file());
}

/// Two builds of the same output at once: the second is refused with a clear
/// error while the first writes, and the first's site is complete.
#[cfg(unix)]
#[test]
fn concurrent_builds_of_one_output_do_not_mix() {
    let site = large_archive(3_000);
    let mut first = spawn_build(&site, &site.out);
    assert!(
        wait_for("the first build to write", Duration::from_secs(120), || {
            !staging_dirs(&site).is_empty()
        }),
        "the first build never started writing"
    );
    let second = site.build(&[]);
    let first_status = first.wait().unwrap();
    assert!(first_status.success(), "the first build failed");
    second.assert_exit_1();
    assert!(
        second.stderr.contains("another build is writing"),
        "{}",
        second.stderr
    );
    // The site equals a build made alone.
    let alone = site.tmp.path().join("alone");
    site.build_into(&alone, &["--quiet"]).assert_success();
    let a = snapshot(&site.out);
    let b = snapshot(&alone);
    assert_same_tree(&b, &a, "a build that had company");
    assert_eq!(
        site.tmp_listing().into_iter().collect::<Vec<_>>(),
        ["alone", "out", "site"]
    );
}

// ------------------------------------------------------------------- serving

/// One HTTP response: status, the `Content-Length` it announced, and its body.
struct Response {
    status: u16,
    content_length: Option<usize>,
    body: Vec<u8>,
}

/// Sends one `Connection: close` request and reads the whole response.
fn http_get(addr: &str, target: &str) -> Result<Response, String> {
    use std::io::{Read, Write};
    let mut stream = std::net::TcpStream::connect(addr).map_err(|e| format!("connect: {e}"))?;
    stream
        .set_read_timeout(Some(Duration::from_secs(60)))
        .map_err(|e| e.to_string())?;
    write!(
        stream,
        "GET {target} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n"
    )
    .map_err(|e| format!("write: {e}"))?;
    let mut response = Vec::new();
    stream
        .read_to_end(&mut response)
        .map_err(|e| format!("read: {e}"))?;
    let end = response
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .ok_or(format!("no complete head in {} bytes", response.len()))?;
    let head = String::from_utf8_lossy(&response[..end]).into_owned();
    let status = head
        .split(' ')
        .nth(1)
        .and_then(|c| c.parse().ok())
        .ok_or(format!("bad status line in {head:?}"))?;
    let content_length = head.lines().find_map(|l| {
        let (name, value) = l.split_once(':')?;
        name.eq_ignore_ascii_case("content-length")
            .then(|| value.trim().parse().ok())
            .flatten()
    });
    Ok(Response {
        status,
        content_length,
        body: response[end + 4..].to_vec(),
    })
}

/// `annals serve` answers a burst of 1,000 concurrent requests from local clients,
/// every one with the right status and the right bytes, then keeps serving.
///
/// It used to reset about 300 of them: see `SiteServer` in `src/serve/http.rs`.
#[test]
fn serve_survives_a_burst_of_1000_concurrent_requests() {
    use std::io::{BufRead, BufReader};
    let site = Site::new("basic");
    let mut child = Command::new(assert_cmd::cargo::cargo_bin("annals"))
        .args(["serve", "--port", "0", "--root"])
        .arg(&site.root)
        .arg("--output")
        .arg(&site.out)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    struct Kill(std::process::Child);
    impl Drop for Kill {
        fn drop(&mut self) {
            let _ = self.0.kill();
            let _ = self.0.wait();
        }
    }
    let stdout = child.stdout.take().unwrap();
    let _guard = Kill(child);
    let mut lines = BufReader::new(stdout).lines();
    let url = loop {
        let line = lines.next().expect("serve printed its address").unwrap();
        if let Some(url) = line.strip_prefix("serving ") {
            break url.trim().to_string();
        }
    };
    let rest = url.trim_start_matches("http://");
    let (addr, base) = rest.split_at(rest.find('/').unwrap());
    assert!(addr.starts_with("127.0.0.1:"), "{addr}");
    // (path, status, file the body comes from)
    let paths = [
        ("", 200, "index.html"),
        ("documents/", 200, "documents/index.html"),
        ("topics/", 200, "topics/index.html"),
        (
            "documents/frontex-report-2018/",
            200,
            "documents/frontex-report-2018/index.html",
        ),
        ("static/style.css", 200, "static/style.css"),
        ("no/such/page/", 404, "404.html"),
    ];
    // The bytes each must answer: the built file, with the live-reload tag that
    // `serve` adds to pages (and only to pages), naming the version they were
    // served at (no build runs during the test).
    let events = http_get(addr, &format!("{base}__annals/events")).unwrap();
    let state: serde_json::Value = serde_json::from_slice(&events.body).unwrap();
    let version = state["version"].as_u64().unwrap();
    let tag = format!(
        "<script src=\"{base}__annals/reload.js\" data-events=\"{base}__annals/events\" data-version=\"{version}\" defer></script>\n"
    );
    let expected: Vec<Vec<u8>> = paths
        .iter()
        .map(|(path, status, file)| {
            let on_disk = std::fs::read(site.out.join(file)).unwrap();
            let alone = http_get(addr, &format!("{base}{path}")).unwrap();
            assert_eq!(alone.status, *status, "{path}");
            if file.ends_with(".html") {
                let page = String::from_utf8(alone.body.clone()).unwrap();
                assert_eq!(page.matches(&tag).count(), 1, "{path}: {page}");
                assert_eq!(page.replacen(&tag, "", 1).as_bytes(), on_disk, "{path}");
            } else {
                assert_eq!(alone.body, on_disk, "{path}");
            }
            alone.body
        })
        .collect();

    let barrier = std::sync::Arc::new(std::sync::Barrier::new(1000));
    let start = Instant::now();
    let results: Vec<Result<Response, String>> = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..1000)
            .map(|i| {
                let barrier = barrier.clone();
                let target = format!("{base}{}", paths[i % paths.len()].0);
                std::thread::Builder::new()
                    .stack_size(64 * 1024)
                    .spawn_scoped(scope, move || {
                        barrier.wait();
                        http_get(addr, &target)
                    })
                    .unwrap()
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    eprintln!(
        "1,000 concurrent requests in {:.2} s",
        start.elapsed().as_secs_f64()
    );
    let failures: Vec<&String> = results.iter().filter_map(|r| r.as_ref().err()).collect();
    assert!(
        failures.is_empty(),
        "{} failed: {:?}",
        failures.len(),
        &failures[..failures.len().min(5)]
    );
    for (i, r) in results.iter().enumerate() {
        let r = r.as_ref().unwrap();
        let (path, status, _) = paths[i % paths.len()];
        let want = &expected[i % paths.len()];
        assert_eq!(r.status, status, "request {i} ({path})");
        assert_eq!(r.content_length, Some(want.len()), "request {i} ({path})");
        assert!(r.body == *want, "request {i} ({path}): wrong bytes");
    }
    let after = http_get(addr, &format!("{base}documents/")).unwrap();
    assert_eq!(after.status, 200, "still serving after the burst");
    assert!(after.body == expected[1]);
}

/// A build sets bodies and the search index's snippet files aside in a
/// temporary file (see `annals::spill`), in `ANNALS_SPILL_DIR` or the site's
/// cache folder, or else in `TMPDIR`. Where none can take it (both folders
/// missing), it keeps them in memory instead: the site is the same,
/// byte for byte.
#[test]
fn a_temporary_folder_that_cannot_be_used_costs_memory_not_data() {
    let site = Site::new("crosslinks");
    site.build(&["--quiet"]).assert_success();
    let normal = snapshot(&site.out);
    let missing = site.tmp.path().join("no-such-folder");
    let out = site.tmp.path().join("out-without-tmp");
    let output = assert_cmd::Command::cargo_bin("annals")
        .expect("the annals binary")
        .env("ANNALS_PROGRESS", "none")
        .env("TMPDIR", &missing)
        .env("ANNALS_SPILL_DIR", &missing)
        .args(["build", "--quiet", "--root"])
        .arg(&site.root)
        .arg("--output")
        .arg(&out)
        .output()
        .expect("run annals");
    assert!(output.status.success(), "{output:?}");
    assert!(!missing.exists());
    let without = snapshot(&out);
    assert!(without.keys().any(|p| p.starts_with("search/docs/")));
    assert_eq!(without, normal);
}

/// An entity file is Markdown by the same rule as a document (`.md` or
/// `.markdown`, in any case): one named otherwise used to be passed over
/// without a word. Here the `.markdown` and `.MD` files are read, since the
/// names they claim are reported as taken.
#[test]
fn entity_files_are_read_whatever_their_markdown_extension() {
    let site = Site::new("basic");
    write(
        &site.root,
        "content/organisations/agency.md",
        b"---\nname: Agency\n---\n",
    );
    write(
        &site.root,
        "content/organisations/again.markdown",
        b"---\nname: Agency\n---\n",
    );
    write(
        &site.root,
        "content/organisations/shout.MD",
        b"---\nname: Agency\n---\n",
    );
    let run = site.build(&[]);
    run.assert_exit_1();
    // Three files claim one name: the first in path order keeps it, the
    // other two are reported.
    let found = diagnostics(&run.stderr);
    assert_eq!(found.len(), 2, "{}", run.stderr);
    for file in ["again.markdown", "agency.md", "shout.MD"] {
        assert!(
            run.stderr
                .contains(&format!("content/organisations/{file}")),
            "{file}: {}",
            run.stderr
        );
    }
    assert!(found.iter().all(|d| d
        .message
        .contains("is also used by content/organisations/again.markdown")));
}

/// Two entity files with one stem would make one page: the second is reported
/// by name, not as a page written twice.
#[test]
fn entity_files_sharing_a_stem_are_reported_by_name() {
    let site = Site::new("basic");
    write(
        &site.root,
        "content/organisations/bureau.md",
        b"---\nname: Bureau\n---\n",
    );
    write(
        &site.root,
        "content/organisations/bureau.markdown",
        b"---\nname: Other Bureau\n---\n",
    );
    let run = site.build(&[]);
    run.assert_exit_1();
    let found = diagnostics(&run.stderr);
    assert_eq!(found.len(), 1, "{}", run.stderr);
    assert!(
        found[0].file.starts_with("content/organisations/bureau.m")
            && found[0].message.contains("/organisations/bureau/")
            && found[0].message.contains("content/organisations/bureau.m"),
        "{}",
        run.stderr
    );
}

/// A term or alias that would make a file or folder name longer than file
/// systems allow is refused at its document's line, by `check` as by `build`,
/// all in one run. Before, `check` passed and `build` failed with "File name
/// too long", naming no document.
#[test]
fn names_too_long_for_a_file_system_are_refused_where_they_are_written() {
    let site = Site::new("basic");
    let long_topic = "a".repeat(300);
    let long_type = "汉".repeat(100);
    let long_alias = "b".repeat(300);
    write(
        &site.root,
        "content/documents/2021/long.md",
        format!("---\nid: long\ntitle: T\ndate: 2021-01-01\ntype: {long_type}\ntopics: [{long_topic}]\n---\nBody.\n").as_bytes(),
    );
    write(
        &site.root,
        "content/documents/2021/moved.md",
        format!("---\nid: moved\ntitle: T\ndate: 2021-01-01\naliases: [/old/{long_alias}/]\n---\nBody.\n").as_bytes(),
    );
    for run in [site.check(&[]), site.build(&[])] {
        run.assert_exit_1();
        let found = diagnostics(&run.stderr);
        for (file, line, message) in [
            ("long.md", 5, "makes a URL segment of 300 bytes"),
            ("long.md", 6, "makes a URL segment of 300 bytes"),
            ("moved.md", 5, "has a path segment of 300 bytes"),
        ] {
            assert!(
                found.iter().any(|d| d.file.ends_with(file)
                    && d.line == line
                    && d.message.contains(message)),
                "line {line}: {message}\n{}",
                run.stderr
            );
        }
        assert_eq!(problem_count(&run.stderr), 3, "{}", run.stderr);
        assert!(!site.out.exists());
    }
}
