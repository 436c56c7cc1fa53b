//! Incremental rebuilds: after each kind of edit, a rebuild into the kept output must
//! produce exactly the tree a clean build of the same input produces, and must not
//! rewrite the files whose bytes did not change.

mod common;

use common::*;
use std::path::{Path, PathBuf};
use std::time::SystemTime;

const EDITED: &str = "content/documents/2020/europol-briefing-2020-06-15.md";
const UNRELATED_PAGE: &str = "documents/minutes-2019/index.html";

/// Builds a copy of the site's current input from scratch, in a folder of its own
/// (its own cache), and returns the snapshot of that clean build.
fn clean_build_of(site: &Site) -> std::collections::BTreeMap<String, Vec<u8>> {
    let tmp = tempfile::tempdir().expect("temporary folder");
    let root = tmp.path().join("site");
    copy_dir(&site.root, &root);
    let _ = std::fs::remove_dir_all(root.join(".annals-cache"));
    let out = tmp.path().join("out");
    run(&[
        "build".as_ref(),
        "--root".as_ref(),
        root.as_os_str(),
        "--output".as_ref(),
        out.as_os_str(),
    ])
    .assert_success();
    snapshot(&out)
}

fn edit(site: &Site, file: &str, change: impl FnOnce(String) -> String) {
    let path = site.root.join(file);
    let text = std::fs::read_to_string(&path).unwrap();
    let changed = change(text.clone());
    assert_ne!(text, changed, "the edit of {file} changed nothing");
    std::fs::write(&path, changed).unwrap();
}

fn modified(out: &Path, site_path: &str) -> SystemTime {
    std::fs::metadata(site_file(out, site_path))
        .and_then(|m| m.modified())
        .unwrap()
}

/// Rebuilds into the kept output and asserts it equals a clean build; returns how
/// many pages the rebuild rendered (the others were taken from the previous site).
fn rebuild_matches_clean(site: &Site, what: &str) -> usize {
    let (ok, stderr) = build_with_lines(site);
    assert!(ok, "{what}: {stderr}");
    assert_same_tree(&clean_build_of(site), &snapshot(&site.out), what);
    // "render  N pages, M rendered"
    stage_count(&stderr, "render", ", ")
}

/// [`rebuild_matches_clean`] for an edit the search index is patched for.
fn patched_rebuild_matches_clean(site: &Site, what: &str) {
    let (ok, stderr) = build_with_lines(site);
    assert!(ok, "{what}: {stderr}");
    assert!(
        stage_line(&stderr, "search").contains("index patched"),
        "{what}: {stderr}"
    );
    assert_same_tree(&clean_build_of(site), &snapshot(&site.out), what);
}

#[test]
fn every_kind_of_edit_rebuilds_to_the_clean_builds_bytes() {
    let site = Site::new("basic");
    site.build(&[]).assert_success();
    // A second build of a changed input makes the previous site the spare the
    // following builds update in place.
    edit(&site, EDITED, |t| t + "\nA first added paragraph.\n");
    rebuild_matches_clean(&site, "first body edit");

    edit(&site, EDITED, |t| t + "\nA second added paragraph.\n");
    // Only the edited document's page is rendered again.
    assert_eq!(rebuild_matches_clean(&site, "second body edit"), 1);

    // A body edit that adds a link: the target's "Referenced by" changes.
    edit(&site, EDITED, |t| {
        t + "\nAs the [minutes](doc:minutes-2019) record.\n"
    });
    // The cross-links changed (related documents, backlinks), so every page is
    // rendered again; only files whose bytes changed are written.
    assert!(rebuild_matches_clean(&site, "body edit adding a link") > 2);
    let target = page(&site.out, UNRELATED_PAGE);
    assert!(
        texts(&target, "a").iter().any(|t| t.contains("Europol")),
        "the linked page lists the new backlink"
    );

    // Metadata: a title shown on every list.
    edit(&site, EDITED, |t| {
        t.replacen("title: ", "title: Revised ", 1)
    });
    rebuild_matches_clean(&site, "title edit");

    // A topic added: new term page, changed indexes.
    edit(&site, EDITED, |t| {
        t.replacen("topics: [", "topics: [Benchmarking, ", 1)
    });
    rebuild_matches_clean(&site, "topic edit");

    // A document removed: its folder goes.
    std::fs::remove_file(site.root.join("content/documents/2020/draft-note-2020.md")).unwrap();
    rebuild_matches_clean(&site, "document removed");

    // A document added.
    let new_doc = site.root.join("content/documents/2021/added-2021.md");
    std::fs::create_dir_all(new_doc.parent().unwrap()).unwrap();
    std::fs::write(
        &new_doc,
        "---\nid: added-2021\ntitle: Added later\ndate: 2021-02-03\ntopics: [Biometrics]\n---\nNew text.\n",
    )
    .unwrap();
    rebuild_matches_clean(&site, "document added");

    // A template of the site's own theme.
    let theme = site.root.join("themes/default/templates/partials");
    std::fs::create_dir_all(&theme).unwrap();
    copy_dir(
        &repo_root().join("themes/default"),
        &site.root.join("themes/default"),
    );
    rebuild_matches_clean(&site, "theme copied");
    edit(&site, "themes/default/templates/document.html", |t| {
        t.replacen("</article>", "<!-- edited --></article>", 1)
    });
    rebuild_matches_clean(&site, "template edit");
    // An asset of the theme: generated files are not taken from the last site.
    edit(&site, "themes/default/static/style.css", |t| {
        t + "\n/* edited */\n"
    });
    rebuild_matches_clean(&site, "asset edit");
    assert!(
        std::fs::read_to_string(site_file(&site.out, "static/style.css"))
            .unwrap()
            .contains("/* edited */")
    );
    assert!(
        std::fs::read_to_string(site_file(&site.out, UNRELATED_PAGE))
            .unwrap()
            .contains("<!-- edited -->")
    );
}

#[test]
fn a_body_edit_leaves_unchanged_files_unwritten() {
    let site = Site::new("basic");
    site.build(&[]).assert_success();
    edit(&site, EDITED, |t| t + "\nFirst edit.\n");
    site.build(&[]).assert_success();
    // File times have a coarse grain on some systems.
    std::thread::sleep(std::time::Duration::from_millis(1100));
    let started = SystemTime::now();
    let live_before = snapshot(&site.out);
    // Another document: its page was taken unchanged by the last build (a hard
    // link shared with the build before, now the spare) and changes now.
    let other = "content/documents/2019/council-note-2019-04.md";
    let edited_page = "documents/council-note-2019-04/index.html";
    edit(&site, other, |t| t + "\nSecond edit.\n");
    site.build(&[]).assert_success();
    // The site that was live is now the spare, byte for byte: updating the folder
    // that became the new site (which shared unchanged files with it through hard
    // links) never wrote through into it.
    assert_same_tree(
        &live_before,
        &snapshot(&site.tmp.path().join(".out.annals-spare")),
        "the previous site, kept as the spare",
    );
    assert!(
        modified(&site.out, UNRELATED_PAGE) < started,
        "an unrelated page was rewritten"
    );
    assert!(modified(&site.out, edited_page) >= started);
    let html = std::fs::read_to_string(site_file(&site.out, edited_page)).unwrap();
    assert!(html.contains("Second edit."));
    // The previous site is kept beside the output for the next build, and nothing
    // else is left there.
    let listing = site.tmp_listing();
    assert!(listing.contains(".out.annals-spare"), "{listing:?}");
    assert!(
        listing
            .iter()
            .all(|n| !n.contains("staging") && !n.contains("-old-")),
        "{listing:?}"
    );
}

#[test]
fn a_spare_changed_by_hand_is_not_trusted() {
    let site = Site::new("basic");
    site.build(&[]).assert_success();
    edit(&site, EDITED, |t| t + "\nOne.\n");
    site.build(&[]).assert_success();
    // Someone (or a killed build) changes the spare: its marker no longer matches.
    let spare: PathBuf = site.tmp.path().join(".out.annals-spare");
    std::fs::write(spare.join(".annals-output"), "tampered\n").unwrap();
    // Replaced, not written through: the spare's files may be hard links shared
    // with the live site.
    std::fs::remove_file(spare.join(UNRELATED_PAGE)).unwrap();
    std::fs::write(spare.join(UNRELATED_PAGE), "garbage").unwrap();
    edit(&site, EDITED, |t| t + "\nTwo.\n");
    rebuild_matches_clean(&site, "after a tampered spare");
}

/// A file deleted by hand from the live site is made again by the next build,
/// whether anything was edited or not, and by the builds after it, and the site
/// is what a clean build makes. Before, every later build failed with "cannot
/// write" until the build cache was deleted (the page's record said its files
/// could be kept), or, with a spare, the build after next published the site
/// without them (the spare's manifest still listed them).
#[test]
fn a_file_deleted_from_the_live_site_is_made_again() {
    for (spare, edited) in [(false, false), (false, true), (true, false), (true, true)] {
        let site = Site::new("basic");
        site.build(&[]).assert_success();
        // A second build leaves the first site beside the output, as the spare
        // the next one stages into.
        if spare {
            edit(&site, EDITED, |t| t + "\nOne.\n");
            site.build(&[]).assert_success();
        }
        // A page, a citation export and a generated file.
        for gone in [
            UNRELATED_PAGE,
            "documents/minutes-2019/cite.ris",
            "feed.xml",
        ] {
            std::fs::remove_file(site_file(&site.out, gone)).unwrap();
        }
        if edited {
            edit(&site, EDITED, |t| t + "\nTwo.\n");
        }
        let what = format!("three files deleted, spare: {spare}, edited: {edited}");
        rebuild_matches_clean(&site, &what);
        // The build after that stages into the folder they were deleted from,
        // whose manifest still lists them.
        edit(&site, EDITED, |t| t + "\nThree.\n");
        rebuild_matches_clean(&site, &format!("the build after, {what}"));
        edit(&site, EDITED, |t| t + "\nFour.\n");
        rebuild_matches_clean(&site, &format!("two builds after, {what}"));
    }
}

#[test]
fn a_spare_left_half_updated_by_a_killed_build_is_discarded() {
    let site = Site::new("basic");
    site.build(&[]).assert_success();
    edit(&site, EDITED, |t| t + "\nOne.\n");
    site.build(&[]).assert_success();
    let live = snapshot(&site.out);
    // What a build killed while updating the spare leaves: the spare renamed to its
    // staging name, marked unfinished, some files already changed.
    let spare = site.tmp.path().join(".out.annals-spare");
    let staging = site.tmp.path().join(".out.annals-staging-999999");
    std::fs::rename(&spare, &staging).unwrap();
    std::fs::write(
        staging.join(".annals-output"),
        "This folder was generated by annals build.\n",
    )
    .unwrap();
    std::fs::remove_file(staging.join(UNRELATED_PAGE)).unwrap();
    std::fs::write(staging.join(UNRELATED_PAGE), "half written").unwrap();
    assert_same_tree(&live, &snapshot(&site.out), "the live site while killed");
    edit(&site, EDITED, |t| t + "\nTwo.\n");
    rebuild_matches_clean(&site, "after a killed build");
    let listing = site.tmp_listing();
    assert!(
        !listing.iter().any(|n| n.contains("staging")),
        "{listing:?}"
    );
}

/// What `annals serve` does: one process, one [`annals::Session`], many builds.
/// After each edit only the changed document files are read and parsed and only
/// changed documents analysed for search, and the output is still exactly a clean
/// build's.
#[test]
fn a_session_reparses_and_reanalyses_only_what_changed() {
    let site = Site::new("basic");
    let mut options = annals::BuildOptions::new(&site.root);
    options.output = Some(site.out.clone());
    let mut session = annals::Session::default();
    // [parsed, analysed for search, documents, bodies rendered by the link pass]
    let patched = std::cell::Cell::new(false);
    let mut build = |what: &str| {
        let report = annals::build_in(&options, Some(&mut session))
            .unwrap_or_else(|e| panic!("{what}: {e}"));
        patched.set(report.search_patched);
        assert_same_tree(&clean_build_of(&site), &snapshot(&site.out), what);
        [
            report.parsed,
            report.analysed,
            report.documents,
            report.linked,
        ]
    };
    let [parsed, analysed, documents, linked] = build("first build");
    assert!(documents > 3);
    // A draft is parsed, not published.
    assert_eq!(
        (parsed, analysed, linked),
        (documents + 1, documents, documents)
    );

    // One file read, one body rendered for links and search, one analysis.
    edit(&site, EDITED, |t| t + "\nA paragraph added in a session.\n");
    assert_eq!(build("body edit"), [1, 1, documents, 1]);
    // Words replaced one for one (the average length stays): the session
    // patches its live search index, to the same bytes.
    edit(&site, EDITED, |t| {
        t.replace("on its plans", "on zyxomatic warrants")
    });
    assert_eq!(build("words replaced"), [1, 1, documents, 1]);
    assert!(patched.get(), "the session patched its index");

    // A new title is searchable: the body is rendered again for its analysis.
    edit(&site, EDITED, |t| {
        t.replacen("title: ", "title: Revised ", 1)
    });
    assert_eq!(build("title edit"), [1, 1, documents, 1]);

    // Every document's place in the archive changes: every body is linked again.
    let new_doc = site.root.join("content/documents/2021/added-2021.md");
    std::fs::create_dir_all(new_doc.parent().unwrap()).unwrap();
    std::fs::write(
        &new_doc,
        "---\nid: added-2021\ntitle: Added later\ndate: 2021-02-03\n---\nNew text.\n",
    )
    .unwrap();
    assert_eq!(
        build("document added"),
        [1, 1, documents + 1, documents + 1]
    );

    std::fs::remove_file(&new_doc).unwrap();
    assert_eq!(build("document removed"), [0, 0, documents, documents]);

    // Another configuration may read every file differently: nothing is reused.
    edit(&site, "site.toml", |t| {
        t.replacen("title = \"", "title = \"The ", 1)
    });
    assert_eq!(
        build("site.toml edit"),
        [documents + 1, documents, documents, documents]
    );
}

/// `annals build` into the kept output with stage lines; (succeeded, stderr).
fn build_with_lines(site: &Site) -> (bool, String) {
    let output = assert_cmd::Command::cargo_bin("annals")
        .unwrap()
        .env("ANNALS_PROGRESS", "lines")
        .args(["build", "--root"])
        .arg(&site.root)
        .arg("--output")
        .arg(&site.out)
        .output()
        .unwrap();
    (
        output.status.success(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

/// The stage line of `stage` in a build's standard error.
fn stage_line<'a>(stderr: &'a str, stage: &str) -> &'a str {
    stderr
        .lines()
        .find(|l| l.trim_start().starts_with(stage))
        .unwrap_or_else(|| panic!("no {stage} stage line in {stderr}"))
}

/// The number right after `marker` on a stage's line.
fn stage_count(stderr: &str, stage: &str, marker: &str) -> usize {
    let line = stage_line(stderr, stage);
    line.split(marker)
        .nth(1)
        .and_then(|rest| rest.split_whitespace().next())
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("no number after {marker:?} in {line:?}"))
}

/// How many files' links the build checked, from its `publish` stage line.
fn files_checked(stderr: &str) -> usize {
    stage_count(stderr, "publish", "links of ")
}

/// When the set of files changes, pages taken from the previous site are not read
/// again to check their links: the link targets the last build recorded are
/// checked against the new files. A target that no longer resolves still fails
/// the build, naming the page that links to it, and the live site stays as it was.
#[test]
fn kept_pages_links_are_checked_from_recorded_targets() {
    let site = Site::new("basic");
    let long = format!("\n\nA long closing paragraph. {}\n", "filler ".repeat(1000));
    edit(&site, EDITED, |t| t + &long);
    let (ok, clean) = build_with_lines(&site);
    assert!(ok, "{clean}");
    let all_read = files_checked(&clean);
    // The edited document's second snippet part; another document links to it.
    let docs = site_file(&site.out, "search/docs/x.json");
    let part = std::fs::read_dir(docs.parent().unwrap())
        .unwrap()
        .map(|e| e.unwrap())
        .find(|e| {
            let name = e.file_name().to_string_lossy().into_owned();
            name.ends_with("-1.json")
                && std::fs::read_to_string(e.path())
                    .unwrap()
                    .contains("europol-briefing-2020-06-15")
        })
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .expect("a second snippet part of the long document");
    let linking = "content/documents/2019/council-note-2019-04.md";
    edit(&site, linking, |t| {
        t + &format!("\nSee [the closing part](/search/docs/{part}).\n")
    });
    let (ok, linked) = build_with_lines(&site);
    assert!(ok, "{linked}");

    // Another document grows a second part: the set of files changes, nothing
    // breaks, and the unchanged pages are not read again.
    edit(&site, "content/documents/2019/minutes-2019.md", |t| {
        t + &long
    });
    let (ok, grown) = build_with_lines(&site);
    assert!(ok, "{grown}");
    assert!(
        files_checked(&grown) < all_read / 2,
        "kept pages were read again: {grown}"
    );
    assert_same_tree(
        &clean_build_of(&site),
        &snapshot(&site.out),
        "after a change of the file set",
    );

    // The long document shrinks: its second part goes, and the kept page linking
    // to it is reported.
    let live = snapshot(&site.out);
    edit(&site, EDITED, |t| t.replace(&long, "\n"));
    let (ok, broken) = build_with_lines(&site);
    assert!(!ok, "a broken link in a kept page went unnoticed: {broken}");
    assert!(
        broken.contains(&format!("/search/docs/{part}")) && broken.contains("council-note-2019-04"),
        "{broken}"
    );
    assert_same_tree(
        &live,
        &snapshot(&site.out),
        "the live site after the failure",
    );
}

/// A build with no previous site makes every body's page HTML in its link pass
/// and sets it aside; a session (`annals serve`) and every incremental build
/// render a body when its page is rendered. Both must write the same bytes, for
/// archives with cross-links, mentions of entities, redactions, notes and code.
#[test]
fn bodies_rendered_in_the_link_pass_match_bodies_rendered_with_their_page() {
    let tmp = tempfile::tempdir().expect("temporary folder");
    let sites = [
        ("bundled archive", repo_root()),
        ("basic", repo_root().join("tests/fixtures/basic")),
        ("crosslinks", repo_root().join("tests/fixtures/crosslinks")),
        ("citations", repo_root().join("tests/fixtures/citations")),
    ];
    for (i, (name, source)) in sites.iter().enumerate() {
        let root = tmp.path().join(format!("site-{i}"));
        for part in ["site.toml", "content", "themes"] {
            let from = source.join(part);
            if from.is_dir() {
                copy_dir(&from, &root.join(part));
            } else if from.is_file() {
                std::fs::create_dir_all(&root).unwrap();
                std::fs::copy(&from, root.join(part)).unwrap();
            }
        }
        let build = |out: &str, session: Option<&mut annals::Session>| {
            let mut options = annals::BuildOptions::new(&root);
            options.output = Some(tmp.path().join(out));
            let report =
                annals::build_in(&options, session).unwrap_or_else(|e| panic!("{name}: {e}"));
            let _ = std::fs::remove_dir_all(root.join(".annals-cache"));
            (snapshot(&tmp.path().join(out)), report)
        };
        let (early, _) = build(&format!("early-{i}"), None);
        let mut session = annals::Session::default();
        let (late, _) = build(&format!("late-{i}"), Some(&mut session));
        assert!(early.keys().any(|p| p.starts_with("documents/")), "{name}");
        assert_same_tree(&early, &late, name);
    }
}

/// Bodies' page HTML is made in the link pass exactly when every page will be
/// rendered: a first build, or one whose front matter, templates or options
/// changed; a body edit leaves it to the few pages it changes.
#[test]
fn the_link_pass_renders_page_bodies_only_when_every_page_is_rendered() {
    let site = Site::new("basic");
    let early = |what: &str| {
        let (ok, stderr) = build_with_lines(&site);
        assert!(ok, "{what}: {stderr}");
        let line = stage_line(&stderr, "link").to_string();
        (
            line.contains("page bodies"),
            stage_count(&stderr, "render", ", "),
        )
    };
    let (made, rendered) = early("first build");
    assert!(
        made && rendered > 5,
        "first build: {rendered} pages rendered"
    );
    edit(&site, EDITED, |t| t + "\nAn added paragraph.\n");
    assert_eq!(early("body edit"), (false, 1));
    edit(&site, EDITED, |t| {
        t.replacen("title: ", "title: Revised ", 1)
    });
    let (made, rendered) = early("title edit");
    assert!(
        made && rendered > 5,
        "title edit: {rendered} pages rendered"
    );
    copy_dir(
        &repo_root().join("themes/default"),
        &site.root.join("themes/default"),
    );
    edit(&site, "themes/default/templates/base.html", |t| {
        t.replacen("</body>", "<!-- edited --></body>", 1)
    });
    let (made, rendered) = early("template edit");
    assert!(
        made && rendered > 5,
        "template edit: {rendered} pages rendered"
    );
    assert_same_tree(
        &clean_build_of(&site),
        &snapshot(&site.out),
        "template edit",
    );
    edit(&site, EDITED, |t| t + "\nA second added paragraph.\n");
    assert_eq!(early("second body edit"), (false, 1));
}

/// How many documents the build took as stored instead of parsing them, from
/// its `parse` stage line (`N documents, M as stored`; no count is none).
fn taken_as_stored(stderr: &str) -> usize {
    let line = stage_line(stderr, "parse");
    match line.contains("as stored") {
        true => stage_count(stderr, "parse", "documents, "),
        false => 0,
    }
}

/// A command-line build parses the front matter only of the files whose path
/// or text changed since the last successful build: the others are taken from
/// `.annals-cache/parsed.bin`, and the site is the one a clean build makes. A
/// damaged file of stored documents costs only the shortcut, and a file with
/// errors is never stored: its errors are reported by every build.
#[test]
fn documents_are_parsed_again_only_when_their_file_changed() {
    let site = Site::new("basic");
    let files = 6; // the fixture's document files, a draft among them
    let (ok, stderr) = build_with_lines(&site);
    assert!(ok, "{stderr}");
    assert_eq!(
        taken_as_stored(&stderr),
        0,
        "a first build parses everything"
    );
    let build = |what: &str| {
        let (ok, stderr) = build_with_lines(&site);
        assert!(ok, "{what}: {stderr}");
        assert_same_tree(&clean_build_of(&site), &snapshot(&site.out), what);
        taken_as_stored(&stderr)
    };
    edit(&site, EDITED, |t| t + "\nAn added paragraph.\n");
    assert_eq!(build("body edit"), files - 1);
    edit(&site, EDITED, |t| {
        t.replacen("title: ", "title: Revised ", 1)
    });
    assert_eq!(build("title edit"), files - 1);

    // A file renamed keeps its text but not its entry: errors and pages name
    // files by path.
    let renamed = "content/documents/2020/europol-briefing-renamed.md";
    std::fs::rename(site.root.join(EDITED), site.root.join(renamed)).unwrap();
    assert_eq!(build("rename"), files - 1);
    std::fs::rename(site.root.join(renamed), site.root.join(EDITED)).unwrap();
    assert_eq!(build("rename back"), files - 1);

    // Broken front matter is reported, though the file's last text is stored;
    // the failed build leaves the stored documents as they were.
    let good = std::fs::read_to_string(site.root.join(EDITED)).unwrap();
    edit(&site, EDITED, |t| {
        t.replacen("title: ", "title: [unclosed ", 1)
    });
    let (ok, stderr) = build_with_lines(&site);
    assert!(
        !ok && stderr.contains("europol-briefing-2020-06-15.md:"),
        "{stderr}"
    );
    std::fs::write(site.root.join(EDITED), &good).unwrap();
    assert_eq!(build("error mended"), files);

    // A damaged file of stored documents is ignored, whatever the damage.
    let stored = site.root.join(".annals-cache/parsed.bin");
    let bytes = std::fs::read(&stored).unwrap();
    let mut flipped = bytes.clone();
    let middle = bytes.len() / 2;
    flipped[middle] ^= 0x20;
    std::fs::write(&stored, &flipped).unwrap();
    edit(&site, EDITED, |t| t + "\nA third paragraph.\n");
    assert_eq!(build("flipped byte"), 0);
    std::fs::write(&stored, &bytes[..bytes.len() / 3]).unwrap();
    edit(&site, EDITED, |t| t + "\nA fourth paragraph.\n");
    assert_eq!(build("truncated"), 0);
    edit(&site, EDITED, |t| t + "\nA fifth paragraph.\n");
    assert_eq!(build("written again"), files - 1);
}

/// A body edit leaves the link results stored by the last full link pass as
/// they are (each later build links the edited body again, until a full link
/// pass stores them anew): the site is still the one a clean build makes, link
/// added or not.
#[test]
fn a_body_edit_leaves_the_stored_link_results_as_they_were() {
    let site = Site::new("basic");
    site.build(&[]).assert_success();
    let links_file = site.root.join(".annals-cache/links.bin");
    let stored = std::fs::read(&links_file).expect("the first build stores link results");
    type Edit = fn(String) -> String;
    let edits: [(&str, Edit); 2] = [
        ("words replaced", |t| {
            t.replace("on its plans", "on zyxomatic warrants")
        }),
        ("link added", |t| {
            t.replace("zyxomatic warrants.", "[its plans](doc:minutes-2019).")
        }),
    ];
    for (what, change) in edits {
        edit(&site, EDITED, change);
        let (ok, stderr) = build_with_lines(&site);
        assert!(ok, "{what}: {stderr}");
        assert_same_tree(&clean_build_of(&site), &snapshot(&site.out), what);
        assert!(
            std::fs::read(&links_file).unwrap() == stored,
            "{what}: the stored link results were written again"
        );
    }
}

/// A body edit that makes a document mention an entity changes the search
/// page's mentions facet: the patched index writes its facets again, and the
/// site is a clean build's, byte for byte.
#[test]
fn a_patched_index_has_the_mentions_a_body_edit_made() {
    let site = Site::new("crosslinks");
    // Enough documents mentioning the EDPS that one more leaves the word
    // common (a word turning common or rare is an edit a patch cannot take).
    for n in 0..40 {
        site.write(
            &format!("content/documents/2018/filler-{n}.md"),
            &format!("---\nid: filler-{n}\ntitle: Filler {n}\ndate: 2018-02-01\n---\nA note on the EDPS.\n"),
        );
    }
    site.build(&[]).assert_success();
    let sibling = "content/documents/2019/sibling.md";
    let facets = || std::fs::read_to_string(site_file(&site.out, "search/facets.json")).unwrap();
    let before = facets();
    // One word for another, so that the average length stays and the index
    // is patched.
    edit(&site, sibling, |t| {
        t.replace("the matter at hand", "the EDPS at hand")
    });
    let (ok, stderr) = build_with_lines(&site);
    assert!(ok, "{stderr}");
    let line = stage_line(&stderr, "search");
    assert!(
        line.contains("index patched: 1 documents analysed"),
        "{line}"
    );
    assert_same_tree(
        &clean_build_of(&site),
        &snapshot(&site.out),
        "a mention added",
    );
    assert_ne!(facets(), before, "the mentions facet changed");
    edit(&site, sibling, |t| {
        t.replace("the EDPS at hand", "the matter at hand")
    });
    patched_rebuild_matches_clean(&site, "the mention removed");
    assert_eq!(facets(), before);
}

/// A body edit patches the live search index instead of assembling it
/// again (only the edited document is analysed), and the site is still a
/// clean build's, byte for byte; an edit a patch cannot take, or a live index
/// that is not the one recorded, gets the index assembled in full.
#[test]
fn a_body_edit_patches_the_search_index() {
    let site = Site::new("basic");
    site.build(&[]).assert_success();
    let search_line = |stderr: &str| stage_line(stderr, "search").to_string();
    let patched = |what: &str| {
        let (ok, stderr) = build_with_lines(&site);
        assert!(ok, "{what}: {stderr}");
        assert_same_tree(&clean_build_of(&site), &snapshot(&site.out), what);
        search_line(&stderr)
    };
    // Words replaced one for one: the archive's average length stays (this
    // archive is small; in a large one, adding words moves it too little).
    edit(&site, EDITED, |t| {
        t.replace("on its plans", "on zyxomatic warrants")
    });
    let line = patched("words replaced");
    assert!(
        line.contains("index patched: 1 documents analysed"),
        "{line}"
    );
    edit(&site, EDITED, |t| {
        t.replace("zyxomatic warrants", "its plans")
    });
    let line = patched("words replaced back");
    assert!(line.contains("index patched"), "{line}");
    // Two bodies at once.
    edit(&site, EDITED, |t| t.replace("briefed the", "briefed a"));
    edit(
        &site,
        "content/documents/2019/council-note-2019-04.md",
        |t| t.replace("were due", "were expected"),
    );
    let line = patched("two bodies");
    assert!(
        line.contains("index patched: 2 documents analysed"),
        "{line}"
    );
    // A link added: related documents and backlinks change with it (the
    // related documents stored by the last build are not taken).
    edit(&site, EDITED, |t| {
        t.replace("on its plans.", "on [its plans](doc:minutes-2019).")
    });
    patched("link added");
    // Many words added: the average length moves, every weight with it.
    edit(&site, EDITED, |t| t + &"\nMore text here.\n".repeat(40));
    let line = patched("long addition");
    assert!(line.contains("(the average length moved)"), "{line}");
    // A title is not a body: every page's inputs change, the index is made again.
    edit(&site, EDITED, |t| {
        t.replacen("title: ", "title: Revised ", 1)
    });
    let line = patched("title edit");
    assert!(!line.contains("patched"), "{line}");
    // Each edit after an index assembled in full patches it again: its
    // files were stamped as published, whichever folder they came from.
    for (from, to) in [("More text here.", "More text there."), ("there.", "here.")] {
        edit(&site, EDITED, |t| t.replace(from, to));
        let line = patched("an edit after the index was made again");
        assert!(line.contains("index patched"), "{line}");
    }
    // Each step below edits the body back and forth, and builds.
    let article = std::cell::Cell::new("a");
    let edit_and_build = |what: &str| {
        let (from, to) = match article.get() {
            "a" => ("briefed a", "briefed the"),
            _ => ("briefed the", "briefed a"),
        };
        article.set(if article.get() == "a" { "the" } else { "a" });
        edit(&site, EDITED, |t| t.replace(from, to));
        patched(what)
    };
    // A live file changed by hand, replaced as an editor saves it.
    let change_by_hand = |path: &Path| {
        let text = std::fs::read_to_string(path).unwrap();
        std::fs::remove_file(path).unwrap();
        std::fs::write(path, text.replacen('{', "{ ", 1)).unwrap();
    };
    // A live shard the patch reads, changed by hand, is not patched, but
    // replaced.
    let shard = std::fs::read_dir(site.out.join("search/terms"))
        .unwrap()
        .next()
        .unwrap()
        .unwrap()
        .path();
    change_by_hand(&shard);
    let line = edit_and_build("tampered shard");
    assert!(
        line.contains("is not the one the state describes"),
        "{line}"
    );
    // The site edited by hand is now the spare, whose manifest still vouches
    // for the old bytes (a known gap, README "Incremental builds"): set it
    // aside, so that each step below starts from sites annals wrote.
    let spare = site.tmp.path().join(".out.annals-spare");
    let forget_spare = || {
        let _ = std::fs::remove_dir_all(&spare);
    };
    forget_spare();
    // Without a staging folder, every search file the patch keeps is taken
    // from the live site: after a full assembly, all were stamped.
    let line = edit_and_build("a patch without a staging folder");
    assert!(line.contains("index patched"), "{line}");
    // A live file the patch neither reads nor writes, changed by hand, is
    // not published again when the staging folder (the site before) holds
    // the index's bytes: nothing is taken from the live site.
    let facets = site.out.join("search/facets.json");
    change_by_hand(&facets);
    let line = edit_and_build("facets changed by hand, the staging folder holding them");
    assert!(line.contains("index patched"), "{line}");
    // A patch stamped only the files it wrote: without a staging folder,
    // the others cannot be vouched for, and the index is made again.
    forget_spare();
    let line = edit_and_build("no staging folder after a patch");
    assert!(line.contains("changed since it was published"), "{line}");
    forget_spare();
    // Files the patch does not read are taken from the live site, all
    // stamped by the full assembly: one changed or deleted by hand since is
    // noticed, and the index made again.
    change_by_hand(&facets);
    let line = edit_and_build("facets changed by hand");
    assert!(line.contains("changed since it was published"), "{line}");
    forget_spare();
    std::fs::remove_file(site.out.join("search/docs/1-0.json")).unwrap();
    let line = edit_and_build("snippet file deleted by hand");
    assert!(line.contains("changed since it was published"), "{line}");
    forget_spare();
    let line = edit_and_build("after the repair");
    assert!(line.contains("index patched"), "{line}");
}

/// `annals check` writes nothing into the site root, not even into the cache
/// folder a build made, wherever its temporary file goes.
#[test]
fn check_leaves_the_root_as_it_found_it() {
    let site = Site::new("basic");
    site.build(&[]).assert_success();
    edit(&site, EDITED, |t| t + "\nChecked, not built.\n");
    let before = snapshot(&site.root);
    let spill = tempfile::tempdir().expect("temporary folder");
    let output = assert_cmd::Command::cargo_bin("annals")
        .unwrap()
        .env("ANNALS_SPILL_DIR", spill.path())
        .args(["check", "--root"])
        .arg(&site.root)
        .output()
        .unwrap();
    assert!(output.status.success(), "{output:?}");
    assert_same_tree(&before, &snapshot(&site.root), "the root after check");
}

/// A build that fails leaves the cache folder as it was: link results and
/// related documents made on the way are written only once a build succeeds.
#[test]
fn a_failed_build_leaves_the_cache_as_it_was() {
    let site = Site::new("basic");
    site.build(&[]).assert_success();
    site.build(&["--base-url", "https://example.org/other/"])
        .assert_success();
    let cache = site.root.join(".annals-cache");
    assert!(cache.join("links.bin").is_file());
    let before = snapshot(&cache);
    edit(&site, EDITED, |t| {
        t + "\nSee [nothing](doc:no-such-document).\n"
    });
    let (ok, stderr) = build_with_lines(&site);
    assert!(!ok, "{stderr}");
    assert_same_tree(&before, &snapshot(&cache), "the cache after a failed build");

    // Nor does one that fails once its pages are rendered (here, at the URL
    // guard), though it writes the documents it parsed beside the cache
    // meanwhile: the edited file's new stamp would be in them.
    edit(&site, EDITED, |t| {
        t.replace(
            "\nSee [nothing](doc:no-such-document).\n",
            "\nA new paragraph.\n",
        )
    });
    let urls = std::fs::read_to_string(site.out.join("urls.json")).unwrap();
    let mut list: serde_json::Value = serde_json::from_str(&urls).unwrap();
    let gone = serde_json::json!({"path": "documents/gone/", "sha256": "0".repeat(64)});
    list["urls"].as_array_mut().unwrap().push(gone);
    let previous = site.tmp.path().join("previous-urls.json");
    std::fs::write(&previous, list.to_string()).unwrap();
    let run = site.build(&["--previous", previous.to_str().unwrap()]);
    run.assert_exit_1();
    assert!(run.stderr.contains("documents/gone/"), "{}", run.stderr);
    assert_same_tree(&before, &snapshot(&cache), "the cache after a late failure");
}

/// A command-line build takes a file whose stamp (size, modification and
/// change times, inode) is the one the last build recorded without reading
/// it, once the file has settled (two seconds without a change). An edit is
/// seen whatever it keeps: the same size with the modification time put back
/// still moves the change time. The site is a clean build's after each step.
#[test]
fn settled_files_are_taken_unread_and_an_edit_is_always_seen() {
    let site = Site::new("basic");
    let files = 6; // the fixture's document files, a draft among them
    let unread = |stderr: &str| {
        let line = stage_line(stderr, "parse");
        match line.split_once(" as stored (") {
            Some((_, rest)) => rest.split(' ').next().unwrap().parse::<usize>().unwrap(),
            None => 0,
        }
    };
    let build = |what: &str| {
        let (ok, stderr) = build_with_lines(&site);
        assert!(ok, "{what}: {stderr}");
        assert_same_tree(&clean_build_of(&site), &snapshot(&site.out), what);
        (taken_as_stored(&stderr), unread(&stderr))
    };
    // Files written just now are read by every build, until they settle.
    let (ok, stderr) = build_with_lines(&site);
    assert!(ok, "{stderr}");
    edit(&site, EDITED, |t| t + "\nA first paragraph.\n");
    assert_eq!(build("not settled"), (files - 1, 0));
    std::thread::sleep(std::time::Duration::from_millis(2100));
    edit(&site, EDITED, |t| t + "\nA second paragraph.\n");
    assert_eq!(build("settled, stamps recorded"), (files - 1, 0));
    edit(&site, EDITED, |t| t + "\nA third paragraph.\n");
    assert_eq!(build("taken unread"), (files - 1, files - 1));

    // The same size and the old modification time: the change time tells.
    std::thread::sleep(std::time::Duration::from_millis(2100));
    let other = "content/documents/2019/council-note-2019-04.md";
    let path = site.root.join(other);
    let before = std::fs::metadata(&path).unwrap().modified().unwrap();
    edit(&site, other, |t| t.replace("were due", "were owed"));
    std::fs::File::options()
        .write(true)
        .open(&path)
        .unwrap()
        .set_modified(before)
        .unwrap();
    // (The no-op check trusts stamps too, so another file changes as well.)
    edit(&site, EDITED, |t| t + "\nA fourth paragraph.\n");
    let (stored, unread) = build("same size, time put back");
    assert_eq!((stored, unread), (files - 2, files - 2));
    let page = std::fs::read_to_string(site_file(
        &site.out,
        "documents/council-note-2019-04/index.html",
    ))
    .unwrap();
    assert!(page.contains("were owed"), "the edit is published");
}

/// Which documents the `cites` facet lists depends on the links in other
/// documents' bodies: a body edit that takes a link away changes it, or takes
/// it away when the cited document's list is no longer cut, and the patched
/// index has what a clean build has.
#[test]
fn a_body_edit_changes_the_cites_facet_as_a_clean_build_would() {
    let site = Site::new("crosslinks");
    let config = site.root.join("site.toml");
    let toml = std::fs::read_to_string(&config).unwrap();
    site.write("site.toml", &format!("{toml}document_list_limit = 1\n"));
    // Common words stay common through the edits (see above).
    for n in 0..40 {
        site.write(
            &format!("content/documents/2018/filler-{n}.md"),
            &format!("---\nid: filler-{n}\ntitle: Filler {n}\ndate: 2018-02-01\n---\nA note on the communication.\n"),
        );
    }
    site.build(&[]).assert_success();
    let cites = || -> Option<String> {
        let text = std::fs::read_to_string(site_file(&site.out, "search/facets.json")).unwrap();
        let json: serde_json::Value = serde_json::from_str(&text).unwrap();
        let facets = json["facets"].as_array().unwrap();
        let facet = facets.iter().find(|f| f["param"] == "cites")?;
        Some(facet["values"].to_string())
    };
    let before = cites().expect("three documents link to the target");
    // The sibling's link goes: two documents still link to the target.
    edit(&site, "content/documents/2019/sibling.md", |t| {
        t.replace(
            "[the communication](../2016/target.md#p1)",
            "the communication",
        )
    });
    patched_rebuild_matches_clean(&site, "a link removed");
    let after = cites().expect("two documents still link to the target");
    assert_ne!(after, before);
    // The note mentioning the target's reference no longer does: one
    // document links to it, and its page lists it.
    edit(&site, "content/documents/2017/mentions.md", |t| {
        t.replace("COM(2016) 205", "the communication")
    });
    rebuild_matches_clean(&site, "a reference removed");
    assert_eq!(cites(), None);
}
