//! Content errors: each is reported like a compiler's (`file:line:col: error: …`
//! with the offending line quoted), the exit code is 1, a failed build leaves the
//! previous site exactly as it was, and `annals check` reports the same and writes
//! nothing. Also: output folders annals must refuse to replace.

mod common;

use common::*;
use std::ffi::OsStr;
use std::path::Path;

/// One error fixture and the diagnostic it must produce.
struct Case {
    /// Fixture under `tests/fixtures/`: a valid document plus the broken one(s).
    fixture: &'static str,
    /// The file named in the diagnostic, relative to the archive root.
    file: &'static str,
    /// Acceptable lines (one, unless the problem has no single obvious line).
    lines: &'static [usize],
    /// The column, where it is meaningful.
    column: Option<usize>,
    /// Substrings of the message.
    message: &'static [&'static str],
    /// A substring of the help line, if one is expected.
    help: Option<&'static str>,
}

/// Asserts `stderr` reports `case` exactly once, at the right place, quoting the line.
fn assert_reported(stderr: &str, case: &Case) {
    let found: Vec<DiagnosticLine> = diagnostics(stderr)
        .into_iter()
        .filter(|d| d.file == case.file && case.message.iter().all(|m| d.message.contains(m)))
        .collect();
    assert_eq!(
        found.len(),
        1,
        "expected one `{}: … error: {:?}` in:\n{stderr}",
        case.file,
        case.message
    );
    let d = &found[0];
    assert!(
        case.lines.contains(&d.line),
        "{}: reported at line {}, expected {:?}\n{stderr}",
        case.fixture,
        d.line,
        case.lines
    );
    if let Some(column) = case.column {
        assert_eq!(
            d.column,
            Some(column),
            "{}: column of the diagnostic\n{stderr}",
            case.fixture
        );
    }
    // The offending line is quoted under the message, with its number.
    let source = std::fs::read_to_string(fixture_path(case.fixture).join(case.file)).unwrap();
    let quoted = source.lines().nth(d.line - 1).unwrap();
    assert!(
        stderr.contains(&format!("{} | {quoted}", d.line)),
        "{}: line {} `{quoted}` is not quoted in:\n{stderr}",
        case.fixture,
        d.line
    );
    if let Some(help) = case.help {
        assert!(
            stderr
                .lines()
                .any(|l| l.starts_with("  = help: ") && l.contains(help)),
            "{}: help `{help}` missing in:\n{stderr}",
            case.fixture
        );
    }
    assert!(problem_count(stderr) >= 1);
}

/// The whole protocol for one error case:
///
/// 1. `basic` builds into an output folder, whose every byte is recorded;
/// 2. the broken document(s) are added to the archive and the build, into the same
///    folder, fails with exit code 1 and the expected diagnostic, leaving the output
///    folder byte-identical and nothing else beside it;
/// 3. `annals check` fails with the same report and writes nothing;
/// 4. the fixture on its own (a complete archive) is reported the same way.
fn assert_error_case(case: &Case) {
    let site = Site::new("basic");
    site.build(&[]).assert_success();
    let before = snapshot(&site.out);
    assert!(before.contains_key("index.html"));

    site.overlay_content(case.fixture);
    let root_before = snapshot(&site.root);
    let build = site.build(&[]);
    build.assert_exit_1();
    assert!(build.stdout.is_empty(), "stdout: {}", build.stdout);
    assert_reported(&build.stderr, case);
    assert!(
        build.stderr.trim_end().ends_with("nothing was written"),
        "{}",
        build.stderr
    );
    assert_same_tree(&before, &snapshot(&site.out), "output after a failed build");
    assert_same_tree(
        &root_before,
        &snapshot(&site.root),
        "archive after a failed build",
    );
    assert_eq!(
        site.tmp_listing().into_iter().collect::<Vec<_>>(),
        ["out", "site"],
        "a failed build left something beside the output"
    );

    let check = site.check(&[]);
    check.assert_exit_1();
    assert!(check.stdout.is_empty(), "stdout: {}", check.stdout);
    assert_eq!(check.stderr, build.stderr, "check and build report alike");
    assert_same_tree(&root_before, &snapshot(&site.root), "archive after check");
    assert_same_tree(&before, &snapshot(&site.out), "output after check");
    assert_eq!(
        site.tmp_listing().into_iter().collect::<Vec<_>>(),
        ["out", "site"]
    );

    // The fixture alone: check and build (with the default output) both fail.
    let alone = Site::new(case.fixture);
    let check = alone.check(&[]);
    check.assert_exit_1();
    assert_reported(&check.stderr, case);
    let default_build = run(&[
        OsStr::new("build"),
        OsStr::new("--root"),
        alone.root.as_os_str(),
    ]);
    default_build.assert_exit_1();
    assert_eq!(default_build.stderr, check.stderr);
    assert!(
        !alone.root.join("public").exists(),
        "a failed build wrote public/"
    );
    assert_eq!(
        alone.tmp_listing().into_iter().collect::<Vec<_>>(),
        ["site"]
    );
}

#[test]
fn missing_id() {
    assert_error_case(&Case {
        fixture: "missing_id",
        file: "content/documents/2021/missing-id.md",
        // A missing key has no line of its own: the front matter's start.
        lines: &[1, 2],
        column: None,
        message: &["missing required key `id`"],
        help: None,
    });
}

#[test]
fn missing_title() {
    assert_error_case(&Case {
        fixture: "missing_title",
        file: "content/documents/2021/missing-title.md",
        lines: &[1, 2],
        column: None,
        message: &["missing required key `title`"],
        help: None,
    });
}

#[test]
fn duplicate_id() {
    assert_error_case(&Case {
        fixture: "duplicate_id",
        // The second file in path order is the duplicate, at its `id:` line.
        file: "content/documents/2021/duplicate-b.md",
        lines: &[5],
        column: Some(1),
        message: &[
            "duplicate id `duplicate-note`",
            "content/documents/2021/duplicate-a.md",
        ],
        help: None,
    });
}

#[test]
fn malformed_yaml_bad_indentation() {
    assert_error_case(&Case {
        fixture: "malformed_yaml",
        file: "content/documents/2021/malformed-yaml.md",
        lines: &[7],
        column: Some(2),
        message: &["invalid YAML in front matter"],
        help: None,
    });
}

#[test]
fn malformed_yaml_unclosed_quote() {
    assert_error_case(&Case {
        fixture: "malformed_yaml_unclosed_quote",
        file: "content/documents/2021/unclosed-quote.md",
        lines: &[3],
        column: None,
        message: &["invalid YAML in front matter"],
        help: None,
    });
}

#[test]
fn duplicate_key() {
    assert_error_case(&Case {
        fixture: "duplicate_key",
        file: "content/documents/2021/duplicate-key.md",
        lines: &[6],
        column: Some(1),
        message: &["duplicate", "date"],
        help: None,
    });
}

#[test]
fn invalid_date() {
    assert_error_case(&Case {
        fixture: "invalid_date",
        file: "content/documents/2021/invalid-date.md",
        lines: &[4],
        column: Some(7),
        message: &["invalid date in `date`: `2019-02-30`: February 2019 has no day 30"],
        help: None,
    });
}

#[test]
fn unknown_key() {
    assert_error_case(&Case {
        fixture: "unknown_key",
        file: "content/documents/2021/unknown-key.md",
        lines: &[5],
        column: Some(1),
        message: &["unknown front-matter key `titel`"],
        help: Some("did you mean `title`?"),
    });
}

#[test]
fn wrong_type() {
    assert_error_case(&Case {
        fixture: "wrong_type",
        file: "content/documents/2021/wrong-type.md",
        lines: &[3],
        column: Some(8),
        message: &["`title` must be a string, found a list"],
        help: None,
    });
}

#[test]
fn unterminated_front_matter() {
    assert_error_case(&Case {
        fixture: "unterminated_front_matter",
        file: "content/documents/2021/unterminated.md",
        lines: &[1],
        column: Some(1),
        message: &["front matter opened here is never closed"],
        help: Some("add a line `---`"),
    });
}

/// Several errors in several files are all reported, sorted by file then line
/// (numerically: line 11 after line 5).
#[test]
fn all_errors_are_reported_together_sorted_by_file_and_line() {
    let expected: &[(&str, usize, usize, &str)] = &[
        (
            "content/documents/2021/a-several.md",
            2,
            1,
            "missing required key `title`",
        ),
        (
            "content/documents/2021/a-several.md",
            3,
            1,
            "unknown front-matter key `titel`",
        ),
        (
            "content/documents/2021/a-several.md",
            4,
            7,
            "there is no month 13",
        ),
        (
            "content/documents/2021/b-wrong-types.md",
            3,
            8,
            "`title` must be a string, found a list",
        ),
        (
            "content/documents/2021/b-wrong-types.md",
            5,
            8,
            "`draft` must be true or false, found a string",
        ),
        (
            "content/documents/2021/b-wrong-types.md",
            11,
            11,
            "February 2021 has no day 29",
        ),
        (
            "content/documents/2022/c-unterminated.md",
            1,
            1,
            "front matter opened here is never closed",
        ),
    ];
    let assert_all = |stderr: &str| {
        let found = diagnostics(stderr);
        let got: Vec<(String, usize, Option<usize>)> = found
            .iter()
            .map(|d| (d.file.clone(), d.line, d.column))
            .collect();
        let want: Vec<(String, usize, Option<usize>)> = expected
            .iter()
            .map(|(f, l, c, _)| (f.to_string(), *l, Some(*c)))
            .collect();
        assert_eq!(got, want, "diagnostics in order:\n{stderr}");
        for (d, (_, _, _, message)) in found.iter().zip(expected) {
            assert!(d.message.contains(message), "{d:?} should say {message}");
        }
        assert_eq!(problem_count(stderr), expected.len(), "{stderr}");
        assert!(stderr
            .trim_end()
            .ends_with("error: 7 problems found; nothing was written"));
    };

    let site = Site::new("basic");
    site.build(&[]).assert_success();
    let before = snapshot(&site.out);
    site.overlay_content("multiple_errors");
    let build = site.build(&[]);
    build.assert_exit_1();
    assert_all(&build.stderr);
    assert_same_tree(&before, &snapshot(&site.out), "output after a failed build");
    let check = site.check(&[]);
    check.assert_exit_1();
    assert_eq!(check.stderr, build.stderr);

    let alone = Site::new("multiple_errors");
    let check = alone.check(&[]);
    check.assert_exit_1();
    assert_all(&check.stderr);
    assert_eq!(
        alone.tmp_listing().into_iter().collect::<Vec<_>>(),
        ["site"]
    );
}

/// Errors of every stage come in one run: a file that does not parse does not
/// hide a duplicate id, a missing original or a broken link elsewhere (found
/// by later stages), and a link to the file that did not parse is not reported
/// on top of its own error.
#[test]
fn errors_of_later_stages_are_reported_with_parse_errors() {
    let site = Site::new("basic");
    let write = |rel: &str, text: &str| {
        let path = site.root.join(rel);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, text).unwrap();
    };
    let doc = |id: &str, extra: &str, body: &str| {
        format!("---\nid: {id}\ntitle: T\ndate: 2021-01-01\n{extra}---\n{body}\n")
    };
    // Parse stage: an impossible date.
    write(
        "content/documents/2021/a-bad-date.md",
        "---\nid: bad-date\ntitle: T\ndate: 2021-02-30\n---\nBody.\n",
    );
    // Link stage: a duplicate id, a link to an unknown id; links to the file
    // that failed, by id and by path, are not errors of their own.
    write(
        "content/documents/2021/b-dup.md",
        &doc("minutes-2019", "", "Body."),
    );
    write(
        "content/documents/2021/c-links.md",
        &doc(
            "links",
            "",
            "[gone](doc:no-such-id), [bad](doc:bad-date), [file](a-bad-date.md).",
        ),
    );
    // Load stage: an original that is not there.
    write(
        "content/documents/2021/d-original.md",
        &doc("original", "source:\n  file: missing.pdf\n", "Body."),
    );
    let run = site.build(&[]);
    run.assert_exit_1();
    let found: Vec<(String, usize, String)> = diagnostics(&run.stderr)
        .into_iter()
        .map(|d| (d.file, d.line, d.message))
        .collect();
    let expect = [
        ("a-bad-date.md", 4, "February 2021 has no day 30"),
        ("b-dup.md", 2, "duplicate id `minutes-2019`"),
        ("c-links.md", 6, "unknown document id `no-such-id`"),
        ("d-original.md", 6, "missing.pdf"),
    ];
    for (file, line, message) in expect {
        let file = format!("content/documents/2021/{file}");
        assert!(
            found
                .iter()
                .any(|(f, l, m)| *f == file && *l == line && m.contains(message)),
            "{file}:{line}: {message}\n{}",
            run.stderr
        );
    }
    assert_eq!(problem_count(&run.stderr), expect.len(), "{}", run.stderr);
}

/// A non-empty folder that annals did not build is never replaced.
#[test]
fn refuses_a_non_empty_folder_not_built_by_annals() {
    let site = Site::new("basic");
    std::fs::create_dir_all(site.out.join("notes")).unwrap();
    std::fs::write(site.out.join("thesis.txt"), b"years of work\n").unwrap();
    std::fs::write(site.out.join("notes/a.md"), b"# Notes\n").unwrap();
    let before = snapshot(&site.out);
    for extra in [&[][..], &["--quiet"][..]] {
        let run = site.build(extra);
        run.assert_exit_1();
        assert!(run.stderr.contains("refusing"), "{}", run.stderr);
        assert!(run.stderr.contains(".annals-output"), "{}", run.stderr);
        assert_same_tree(&before, &snapshot(&site.out), "the user's folder");
        assert_eq!(
            site.tmp_listing().into_iter().collect::<Vec<_>>(),
            ["out", "site"],
            "nothing may be left beside the folder"
        );
    }
    // An empty folder is fine.
    let empty = site.tmp.path().join("empty");
    std::fs::create_dir(&empty).unwrap();
    site.build_into(&empty, &[]).assert_success();
    assert!(empty.join("index.html").is_file());
}

/// The output may not be the archive itself, a folder containing it, or one of its
/// content/theme folders.
#[test]
fn refuses_to_write_over_the_archive() {
    let site = Site::new("basic");
    let root = &site.root;
    // Through symbolic links too: a path outside the archive that leads into it.
    let elsewhere = tempfile::tempdir().unwrap();
    let links = elsewhere.path();
    #[cfg(unix)]
    {
        std::os::unix::fs::symlink(root.join("content"), links.join("to-content")).unwrap();
        std::os::unix::fs::symlink(root, links.join("to-root")).unwrap();
    }
    let before = snapshot(site.tmp.path());
    let mut outputs = vec![
        root.clone(),
        root.join("."),
        root.join("content").join(".."),
        site.tmp.path().to_path_buf(),
        root.join("content"),
        root.join("content").join("site"),
        root.join(".annals-cache"),
        root.join(".annals-cache").join("site"),
    ];
    if cfg!(unix) {
        outputs.push(links.join("to-content").join("documents").join("site"));
        outputs.push(links.join("to-root"));
        outputs.push(links.join("to-root").join("themes").join("x"));
    }
    for output in &outputs {
        let run = site.build_into(output, &[]);
        run.assert_exit_1();
        assert!(
            run.stderr.contains("refusing"),
            "--output {}: {}",
            output.display(),
            run.stderr
        );
        assert_same_tree(
            &before,
            &snapshot(site.tmp.path()),
            &format!("after --output {}", output.display()),
        );
    }
    assert!(!Path::new(&root.join("public")).exists());
}

/// A problem found after parsing (here, in the link stage) still quotes the
/// front-matter line it points at, read from the file when it is reported,
/// for `build` and `check` alike.
#[test]
fn a_key_found_wrong_after_parsing_is_quoted() {
    let site = Site::new("basic");
    site.overlay_content("duplicate_id");
    for run in [site.build(&[]), site.check(&[])] {
        run.assert_exit_1();
        assert!(
            run.stderr
                .contains("duplicate-b.md:5:1: error: duplicate id `duplicate-note`"),
            "{}",
            run.stderr
        );
        assert!(
            run.stderr.contains("\n5 | id: duplicate-note\n  | ^\n"),
            "{}",
            run.stderr
        );
    }
}
