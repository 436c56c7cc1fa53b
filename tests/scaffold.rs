//! `annals init`, `annals new` and `annals schema`, through the real binary: a new
//! archive builds as it is, a new document builds, and the schema agrees with the
//! validator on valid and invalid front matter.

use assert_cmd::Command;
use std::path::{Path, PathBuf};

fn annals() -> Command {
    Command::cargo_bin("annals").unwrap()
}

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(name)
}

#[test]
fn init_output_builds_and_deploys_as_is() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("leaks-archive");
    annals().arg("init").arg(&dir).assert().success();
    for file in [
        "site.toml",
        "README.md",
        ".gitignore",
        ".github/workflows/pages.yml",
        "front-matter.schema.json",
        "content/documents/2019/example-council-note-2019-06-03.md",
    ] {
        assert!(dir.join(file).is_file(), "{file} missing");
    }
    let site = std::fs::read_to_string(dir.join("site.toml")).unwrap();
    assert!(site.contains("title = \"Leaks archive\""), "{site}");
    annals()
        .args(["check", "--root"])
        .arg(&dir)
        .assert()
        .success();
    annals()
        .args(["build", "--root"])
        .arg(&dir)
        .assert()
        .success();
    let out = dir.join("public");
    for file in [
        "index.html",
        "feed.xml",
        "sitemap.xml",
        "documents.csv",
        "404.html",
        ".nojekyll",
    ] {
        assert!(out.join(file).is_file(), "{file} not built");
    }
    // The workflow is valid YAML using the official Pages actions, keeps dot-files,
    // and builds for the address GitHub gives the site.
    let workflow = std::fs::read_to_string(dir.join(".github/workflows/pages.yml")).unwrap();
    let yaml: serde_yaml::Value = serde_yaml::from_str(&workflow).unwrap();
    let steps = yaml["jobs"]["build"]["steps"].as_sequence().unwrap();
    let uses: Vec<&str> = steps.iter().filter_map(|s| s["uses"].as_str()).collect();
    assert!(uses.contains(&"actions/configure-pages@v5"), "{uses:?}");
    assert!(
        uses.contains(&"actions/upload-pages-artifact@v5"),
        "{uses:?}"
    );
    let upload = steps
        .iter()
        .find(|s| s["uses"].as_str() == Some("actions/upload-pages-artifact@v5"))
        .unwrap();
    assert_eq!(upload["with"]["path"].as_str(), Some("public"));
    assert_eq!(upload["with"]["include-hidden-files"].as_bool(), Some(true));
    assert!(workflow.contains("annals build --base-url \"${{ steps.pages.outputs.base_url }}/\""));
    assert_eq!(
        yaml["jobs"]["deploy"]["steps"][0]["uses"].as_str(),
        Some("actions/deploy-pages@v5")
    );
    // The schema shipped is the one `annals schema` prints for the archive.
    let printed = annals()
        .args(["schema", "--root"])
        .arg(&dir)
        .output()
        .unwrap();
    assert_eq!(
        String::from_utf8(printed.stdout).unwrap(),
        std::fs::read_to_string(dir.join("front-matter.schema.json")).unwrap()
    );

    // init refuses a folder that is not empty.
    annals().arg("init").arg(&dir).assert().failure();
}

#[test]
fn new_writes_a_unique_valid_document_that_builds() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("a");
    annals().arg("init").arg(&dir).assert().success();
    let first = annals()
        .args([
            "new",
            "Letter to the Ministry: Reply #2",
            "--date",
            "2020-05-06",
            "--type",
            "letter",
            "--root",
        ])
        .arg(&dir)
        .output()
        .unwrap();
    assert!(first.status.success());
    let path = String::from_utf8(first.stdout).unwrap().trim().to_string();
    assert_eq!(
        path,
        "content/documents/2020/letter-to-the-ministry-reply-2-2020-05-06.md"
    );
    let text = std::fs::read_to_string(dir.join(&path)).unwrap();
    assert!(text.contains("id: letter-to-the-ministry-reply-2-2020-05-06\n"));
    assert!(text.contains("title: \"Letter to the Ministry: Reply #2\"\n"));
    assert!(text.contains("type: \"letter\"\n"));
    assert!(text.contains("# yaml-language-server: $schema=../../../front-matter.schema.json"));
    assert!(
        text.contains("# source:") && text.contains("# events:"),
        "optional keys documented inline"
    );

    // The same title and date again gets a different id.
    let second = annals()
        .args([
            "new",
            "Letter to the Ministry: Reply #2",
            "--date",
            "2020-05-06",
            "--root",
        ])
        .arg(&dir)
        .output()
        .unwrap();
    let path2 = String::from_utf8(second.stdout).unwrap().trim().to_string();
    assert_eq!(
        path2,
        "content/documents/2020/letter-to-the-ministry-reply-2-2020-05-06-2.md"
    );
    // An id already used by a file with another name is not reused either.
    let third = annals()
        .args([
            "new",
            "Example: Council note on new technologies",
            "--date",
            "2019-06-03",
            "--root",
        ])
        .arg(&dir)
        .output()
        .unwrap();
    assert!(String::from_utf8(third.stdout)
        .unwrap()
        .contains("example-council-note-on-new-technologies-2019-06-03"));

    annals()
        .args(["build", "--root"])
        .arg(&dir)
        .assert()
        .success();
    assert!(dir
        .join("public/documents/letter-to-the-ministry-reply-2-2020-05-06/index.html")
        .is_file());
    assert!(dir
        .join("public/documents/letter-to-the-ministry-reply-2-2020-05-06-2/index.html")
        .is_file());

    // Without a date, today's is used; a bad date is refused.
    annals()
        .args(["new", "Undated", "--root"])
        .arg(&dir)
        .assert()
        .success();
    annals()
        .args(["new", "Bad", "--date", "2019-02-30", "--root"])
        .arg(&dir)
        .assert()
        .failure();
    annals()
        .args(["build", "--root"])
        .arg(&dir)
        .assert()
        .success();
}

/// Front matter samples: (YAML, what the validator is expected to say).
const SAMPLES: &[&str] = &[
    "id: a-1\ntitle: T\ndate: 2019-06-03\n",
    "id: a-1\ntitle: T\ndate: 2019\n",
    "id: a-1\ntitle: T\ndate: \"2019\"\n",
    "id: a-1\ntitle: T\ndate: 2019-06\n",
    "id: a-1\ntitle: T\ndate: 2020-02-29\n",
    "id: a-1\ntitle: T\ndate: 2000-02-29\n",
    "id: a-1\ntitle: T\ndate: 1900-02-29\n",
    "id: a-1\ntitle: T\ndate: 2019-02-29\n",
    "id: a-1\ntitle: T\ndate: 2019-04-31\n",
    "id: a-1\ntitle: T\ndate: 2019-13\n",
    "id: a-1\ntitle: T\ndate: 0999\n",
    "id: a-1\ntitle: T\ndate: 999\n",
    "id: a-1\ntitle: T\ndate: 2019-6-3\n",
    "id: a-1\ntitle: T\ndate: true\n",
    "id: a-1\ntitle: T\ndate: ~\n",
    "id: a-1\ntitle: T\n",
    "title: T\ndate: 2019\n",
    "id: a-1\ndate: 2019\n",
    "id: A-1\ntitle: T\ndate: 2019\n",
    "id: a--1\ntitle: T\ndate: 2019\n",
    "id: -a\ntitle: T\ndate: 2019\n",
    "id: a_b\ntitle: T\ndate: 2019\n",
    "id: 2019\ntitle: T\ndate: 2019\n",
    "id: \"2019\"\ntitle: T\ndate: 2019\n",
    "id: a\ntitle: \"   \"\ndate: 2019\n",
    "id: a\ntitle: 1984\ndate: 2019\n",
    "id: a\ntitle: [x]\ndate: 2019\n",
    "id: a\ntitle: T\ndate: 2019\ntitel: x\n",
    "id: a\ntitle: T\ndate: 2019\ntype: note\n",
    "id: a\ntitle: T\ndate: 2019\ntype: [note]\n",
    "id: a\ntitle: T\ndate: 2019\ntype: ~\n",
    "id: a\ntitle: T\ndate: 2019\nreference: \"9069/19\"\n",
    "id: a\ntitle: T\ndate: 2019\nreference: [\"9069/19\", \"x\"]\n",
    "id: a\ntitle: T\ndate: 2019\nreference: [\"\"]\n",
    "id: a\ntitle: T\ndate: 2019\nreference: [\" \"]\n",
    "id: a\ntitle: T\ndate: 2019\nreference: \"\"\n",
    "id: a\ntitle: T\ndate: 2019\nreference: [1]\n",
    "id: a\ntitle: T\ndate: 2019\nreference: 8312\n",
    "id: a\ntitle: T\ndate: 2019\nreference: {a: 1}\n",
    "id: a\ntitle: T\ndate: 2019\nfrom: A\nto: [B, C]\n",
    "id: a\ntitle: T\ndate: 2019\nlanguage: fr-BE\n",
    "id: a\ntitle: T\ndate: 2019\nlanguage: zh-Hant-TW\n",
    "id: a\ntitle: T\ndate: 2019\nlanguage: french\n",
    "id: a\ntitle: T\ndate: 2019\nlanguage: \"\"\n",
    "id: a\ntitle: T\ndate: 2019\nlanguage: e\n",
    "id: a\ntitle: T\ndate: 2019\nsummary: Text\n",
    "id: a\ntitle: T\ndate: 2019\nsummary: 12\n",
    "id: a\ntitle: T\ndate: 2019\nmarkings: [LIMITE]\n",
    "id: a\ntitle: T\ndate: 2019\ntopics: [A, B]\norganisations: Europol\ncountries: [Ukraine]\n",
    "id: a\ntitle: T\ndate: 2019\ncountries: [~]\n",
    "id: a\ntitle: T\ndate: 2019\ncities: [Kyiv]\n",
    "id: a\ntitle: T\ndate: 2019\nsource:\n  authority: X\n  request: R\n  request_url: https://x.org/r\n  released: 2019-09-12\n  url: http://x.org/doc.pdf\n  file: original.pdf\n  sha256: 0123456789abcdefABCDEF0123456789abcdef0123456789abcdef0123456789\n",
    "id: a\ntitle: T\ndate: 2019\nsource: ~\n",
    "id: a\ntitle: T\ndate: 2019\nsource: x\n",
    "id: a\ntitle: T\ndate: 2019\nsource:\n  urll: https://x.org\n",
    "id: a\ntitle: T\ndate: 2019\nsource:\n  url: ftp://x.org\n",
    "id: a\ntitle: T\ndate: 2019\nsource:\n  released: ~\n",
    "id: a\ntitle: T\ndate: 2019\nsource:\n  released: 2019-02-30\n",
    "id: a\ntitle: T\ndate: 2019\nsource:\n  file: ../x.pdf\n",
    "id: a\ntitle: T\ndate: 2019\nsource:\n  file: /x.pdf\n",
    "id: a\ntitle: T\ndate: 2019\nsource:\n  file: a//x.pdf\n",
    "id: a\ntitle: T\ndate: 2019\nsource:\n  file: ./sub/.x.pdf\n",
    "id: a\ntitle: T\ndate: 2019\nsource:\n  file: sub/...pdf\n",
    "id: a\ntitle: T\ndate: 2019\nsource:\n  file: 'a\\b.pdf'\n",
    "id: a\ntitle: T\ndate: 2019\nsource:\n  sha256: abc\n",
    "id: a\ntitle: T\ndate: 2019\nevents:\n  - date: 2019-04\n    title: X\n    description: Y\n",
    "id: a\ntitle: T\ndate: 2019\nevents:\n  - date: 2019-04\n",
    "id: a\ntitle: T\ndate: 2019\nevents:\n  - title: X\n",
    "id: a\ntitle: T\ndate: 2019\nevents:\n  - date: 2019-04\n    title: X\n    when: Y\n",
    "id: a\ntitle: T\ndate: 2019\nevents:\n  - date: 2019-04-31\n    title: X\n",
    "id: a\ntitle: T\ndate: 2019\nevents: ~\n",
    "id: a\ntitle: T\ndate: 2019\nevents: [x]\n",
    "id: a\ntitle: T\ndate: 2019\naliases: [/old/page/, old.html, a/b, \"/x//\"]\n",
    "id: a\ntitle: T\ndate: 2019\naliases: /old/\n",
    "id: a\ntitle: T\ndate: 2019\naliases: [\"../x\"]\n",
    "id: a\ntitle: T\ndate: 2019\naliases: [\"/a/../b\"]\n",
    "id: a\ntitle: T\ndate: 2019\naliases: [\"//evil\"]\n",
    "id: a\ntitle: T\ndate: 2019\naliases: [\"https://x.org/a\"]\n",
    "id: a\ntitle: T\ndate: 2019\naliases: [\"/\"]\n",
    "id: a\ntitle: T\ndate: 2019\naliases: [\"a?b\"]\n",
    "id: a\ntitle: T\ndate: 2019\naliases: [\"a/./b\"]\n",
    "id: a\ntitle: T\ndate: 2019\naliases: [\"a/.hidden/b\"]\n",
    "id: a\ntitle: T\ndate: 2019\naliases: [\"a b/c\"]\n",
    "id: a\ntitle: T\ndate: 2019\naliases: \"\"\n",
    "id: a\ntitle: T\ndate: 2019\ndraft: true\n",
    "id: a\ntitle: T\ndate: 2019\ndraft: yes\n",
    "id: a\ntitle: T\ndate: 2019\nextra: {a: [1, 2]}\n",
    "id: a\ntitle: T\ndate: 2019\nextra: [1]\n",
    "[1, 2]\n",
];

#[test]
fn schema_matches_the_validator() {
    let root = fixture("publish");
    let output = annals()
        .args(["schema", "--root"])
        .arg(&root)
        .output()
        .unwrap();
    assert!(output.status.success());
    let schema: serde_json::Value = serde_json::from_slice(&output.stdout).expect("valid JSON");
    assert_eq!(
        schema["$schema"],
        "https://json-schema.org/draft/2020-12/schema"
    );
    assert_eq!(
        schema["properties"]["id"]["pattern"],
        "^[a-z0-9]+(-[a-z0-9]+)*$"
    );
    assert!(
        schema["properties"]["countries"].is_object(),
        "site taxonomies are keys"
    );
    for key in annals::document::RESERVED_KEYS {
        assert!(schema["properties"][key].is_object(), "{key} missing");
    }
    let validator = jsonschema::draft202012::new(&schema).expect("the schema compiles");
    let config = annals::load::load_config(&root).unwrap();
    let mut disagreements = Vec::new();
    for yaml in SAMPLES {
        let text = format!("---\n{yaml}---\nBody\n");
        let source = annals::load::SourceFile {
            path: PathBuf::from("content/documents/x.md"),
            text,
        };
        let accepted = annals::document::parse_document(&source, &config).is_ok();
        let instance = annals::document::front_matter::parse_yaml(yaml)
            .expect("samples are YAML")
            .to_json();
        let valid = validator.is_valid(&instance);
        if accepted != valid {
            disagreements.push(format!("validator {accepted}, schema {valid}: {yaml}"));
        }
    }
    assert!(disagreements.is_empty(), "{}", disagreements.join("\n"));
    let accepted = SAMPLES
        .iter()
        .filter(|y| {
            let source = annals::load::SourceFile {
                path: PathBuf::from("x.md"),
                text: format!("---\n{y}---\n"),
            };
            annals::document::parse_document(&source, &config).is_ok()
        })
        .count();
    assert!(
        accepted > 20 && accepted < SAMPLES.len() - 30,
        "a mix of valid and invalid samples: {accepted}"
    );

    // Without a site.toml, the default taxonomies only.
    let tmp = tempfile::tempdir().unwrap();
    let output = annals()
        .args(["schema", "--root"])
        .arg(tmp.path())
        .output()
        .unwrap();
    let plain: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    assert!(plain["properties"]["topics"].is_object());
    assert!(plain["properties"]["countries"].is_null());
}

#[test]
fn this_repositorys_pages_workflow_builds_the_bundled_archive() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join(".github/workflows/pages.yml");
    let text = std::fs::read_to_string(path).unwrap();
    let yaml: serde_yaml::Value = serde_yaml::from_str(&text).unwrap();
    let steps = yaml["jobs"]["build"]["steps"].as_sequence().unwrap();
    let runs: String = steps.iter().filter_map(|s| s["run"].as_str()).collect();
    assert!(
        runs.contains("cargo run --release --locked -- build"),
        "{runs}"
    );
    let upload = steps
        .iter()
        .find(|s| {
            s["uses"]
                .as_str()
                .is_some_and(|u| u.starts_with("actions/upload-pages-artifact@"))
        })
        .unwrap();
    assert_eq!(upload["with"]["include-hidden-files"].as_bool(), Some(true));
    assert_eq!(yaml["permissions"]["pages"].as_str(), Some("write"));
    assert_eq!(yaml["permissions"]["id-token"].as_str(), Some("write"));
}
