//! `annals serve`'s preview of a body edit ([`annals::Session::preview`]): the
//! pages it renders at once must be exactly the bytes the build that follows
//! writes, and any edit that may reach further than those pages must be left to
//! that build.

mod common;

use annals::{build_in, BuildOptions, Session};
use common::*;
use std::path::{Path, PathBuf};

const LINKER: &str = "content/documents/2019/linker.md";
const TARGET: &str = "content/documents/2016/target.md";

struct Archive {
    _tmp: tempfile::TempDir,
    root: PathBuf,
    options: BuildOptions,
    session: Session,
}

impl Archive {
    /// The crosslinks fixture, built once with a session.
    fn built() -> Archive {
        let tmp = tempfile::tempdir().expect("temporary folder");
        let root = tmp.path().join("site");
        copy_dir(
            &Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/crosslinks"),
            &root,
        );
        let mut options = BuildOptions::new(&root);
        options.output = Some(tmp.path().join("out"));
        let mut archive = Archive {
            _tmp: tmp,
            root,
            options,
            session: Session::default(),
        };
        archive.build().expect("the fixture builds");
        archive
    }

    fn build(&mut self) -> Result<(), String> {
        build_in(&self.options, Some(&mut self.session))
            .map(|_| ())
            .map_err(|d| d.to_string())
    }

    fn edit(&self, file: &str, change: impl FnOnce(&str) -> String) -> PathBuf {
        let path = self.root.join(file);
        let text = std::fs::read_to_string(&path).unwrap();
        let changed = change(&text);
        assert_ne!(text, changed, "the edit of {file} changed nothing");
        std::fs::write(&path, changed).unwrap();
        path
    }

    fn preview(&mut self, edited: &[PathBuf]) -> Option<annals::session::Preview> {
        self.session.preview(&self.options, edited)
    }

    fn output(&self, site_path: &str) -> Vec<u8> {
        std::fs::read(self.options.output_dir().join(site_path)).unwrap()
    }
}

#[test]
fn a_previewed_body_edit_is_what_the_build_then_writes() {
    let mut archive = Archive::built();
    // The sentence quoted on the target's page is reworded, and a paragraph added.
    let linker = archive.edit(LINKER, |t| {
        t.replace(
            "Plain [by id](doc:target-2016) link.",
            "Plain [by id](doc:target-2016) link, reworded.",
        ) + "\nA paragraph added in the preview.\n"
    });
    let preview = archive
        .preview(std::slice::from_ref(&linker))
        .expect("a body edit linking to the same documents is previewed");
    assert_eq!(preview.pages, 2, "the edited page and the page quoting it");
    let paths: Vec<&str> = preview.files.iter().map(|f| f.path.as_str()).collect();
    for page in ["documents/linker-2019/", "documents/target-2016/"] {
        for file in ["index.html", "cite.bib", "cite.ris", "cite.json"] {
            let path = format!("{page}{file}");
            assert!(
                paths.contains(&path.as_str()),
                "{path} missing from {paths:?}"
            );
        }
    }
    let html = |path: &str| {
        let file = preview.files.iter().find(|f| f.path == path).unwrap();
        String::from_utf8(file.bytes.clone()).unwrap()
    };
    assert!(html("documents/linker-2019/index.html").contains("A paragraph added in the preview."));
    assert!(
        html("documents/target-2016/index.html").contains("link, reworded."),
        "the target quotes the reworded passage"
    );
    // The pages before the build are the old ones: the preview wrote nothing.
    assert!(
        !String::from_utf8(archive.output("documents/target-2016/index.html"))
            .unwrap()
            .contains("reworded")
    );

    archive.build().expect("the edited archive builds");
    for file in &preview.files {
        assert!(
            archive.output(&file.path) == file.bytes,
            "the preview of {} differs from the build's",
            file.path
        );
    }

    // An edit that quotes nothing on other pages renders its own page only.
    let linker = archive.edit(LINKER, |t| {
        t.replace("added in the preview", "edited twice")
    });
    let preview = archive.preview(&[linker]).expect("previewed");
    assert_eq!(preview.pages, 1);
    archive.build().unwrap();
    for file in &preview.files {
        assert!(archive.output(&file.path) == file.bytes, "{}", file.path);
    }
}

#[test]
fn edits_that_may_reach_other_pages_are_left_to_the_build() {
    let mut archive = Archive::built();
    type Change = fn(&str) -> String;
    let cases: [(&str, &str, Change); 9] = [
        ("a title", LINKER, |t| {
            t.replace("Note linking in every form", "Note, retitled")
        }),
        ("a link to a document not linked before", LINKER, |t| {
            format!("{t}\nSee [the note](doc:mentions-2017).\n")
        }),
        ("the removed link to a document", LINKER, |t| {
            t.replace(" and [the sibling](./sibling.md#p1)", "")
        }),
        ("a first mention of an organisation", LINKER, |t| {
            format!("{t}\nThe eu-LISA agency agreed.\n")
        }),
        ("a link to an anchor not linked before", LINKER, |t| {
            format!("{t}\nAt [the third](doc:target-2016#p3).\n")
        }),
        ("a removed heading another document links to", TARGET, |t| {
            t.replace("## 4. Scope {#scope}", "Scope:")
        }),
        ("a link to an unknown document", LINKER, |t| {
            format!("{t}\nSee [nothing](doc:no-such-document).\n")
        }),
        // Links the build's link check refuses, though they name no document.
        ("a link to a missing page of the site", LINKER, |t| {
            format!("{t}\nSee [the list](/no-such-page/).\n")
        }),
        ("an image that is not in the site", LINKER, |t| {
            format!("{t}\n![A scan](scan-of-page-1.png)\n")
        }),
    ];
    for (what, file, change) in cases {
        let original = std::fs::read_to_string(archive.root.join(file)).unwrap();
        let path = archive.edit(file, change);
        assert!(
            archive.preview(std::slice::from_ref(&path)).is_none(),
            "{what} was previewed"
        );
        // Whatever the build makes of it, the edit is undone and built again,
        // after which a plain body edit is previewed again.
        let _ = archive.build();
        std::fs::write(&path, original).unwrap();
        archive
            .build()
            .unwrap_or_else(|e| panic!("after {what}: {e}"));
        let again = archive.edit(file, |t| format!("{t}\nOne more paragraph.\n"));
        assert!(
            archive.preview(std::slice::from_ref(&again)).is_some(),
            "after {what}"
        );
        std::fs::write(
            &again,
            std::fs::read_to_string(&again)
                .unwrap()
                .replace("\nOne more paragraph.\n", ""),
        )
        .unwrap();
        archive.build().unwrap();
    }
    // Files that are not published documents' are left to the build too.
    let new = archive.root.join("content/documents/2019/new.md");
    std::fs::write(
        &new,
        "---\nid: new-2019\ntitle: New\ndate: 2019-02-02\n---\nText.\n",
    )
    .unwrap();
    assert!(
        archive.preview(&[new]).is_none(),
        "a new file was previewed"
    );
    let _ = archive.build();
    let entity = archive.root.join("content/organisations/europol.md");
    assert!(
        archive.preview(&[entity]).is_none(),
        "an entity was previewed"
    );
    // A failed build leaves nothing to preview from.
    archive.edit(LINKER, |t| format!("{t}\n[broken](doc:nothing-here)\n"));
    assert!(archive.build().is_err());
    let fixed = archive.edit(LINKER, |t| {
        t.replace("\n[broken](doc:nothing-here)\n", "\nFixed.\n")
    });
    assert!(
        archive.preview(&[fixed]).is_none(),
        "previewed from a failed build"
    );
}
