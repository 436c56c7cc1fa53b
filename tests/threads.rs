//! The output does not depend on the number of threads: an archive large enough
//! to be cut into many chunks (search analyses are interned per chunk, pages
//! rendered and files written in parallel) builds to the same bytes with one
//! thread or many, and a one-thread incremental rebuild equals a many-thread
//! clean build.

mod common;

use common::*;
use std::collections::BTreeMap;
use std::path::Path;

const WORDS: &[&str] = &[
    "member",
    "states",
    "data",
    "protection",
    "europol",
    "council",
    "commission",
    "regulation",
    "access",
    "documents",
    "police",
    "cooperation",
    "biometric",
    "systems",
    "information",
    "exchange",
    "border",
    "security",
    "agency",
    "report",
    "meeting",
    "proposal",
    "interoperability",
    "fundamental",
    "rights",
    "encryption",
    "evidence",
    "cross",
    "border",
    "requests",
    "service",
    "providers",
    "réglementation",
    "données",
    "Straße",
    "Behörden",
    "analysis",
    "terrorism",
    "radicalisation",
    "online",
    "content",
    "removal",
    "orders",
    "judicial",
    "authorities",
    "the",
    "of",
    "and",
    "in",
    "to",
    "for",
    "on",
    "with",
    "by",
    "a",
    "is",
    "are",
    "be",
    "that",
    "this",
];
const TOPICS: &[&str] = &[
    "Data protection",
    "Encryption",
    "Biometrics",
    "Border control",
    "Counter-terrorism",
    "Interoperability",
    "Online content",
    "Police cooperation",
];
const ORGS: &[&str] = &[
    "Europol",
    "Council of the EU",
    "European Commission",
    "Frontex",
    "eu-LISA",
];

/// A small deterministic generator (a linear congruential one): the archive is
/// the same on every run.
struct Lcg(u64);

impl Lcg {
    fn next(&mut self, n: usize) -> usize {
        self.0 = self
            .0
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        ((self.0 >> 33) as usize) % n
    }

    fn words(&mut self, n: usize) -> String {
        (0..n)
            .map(|_| WORDS[self.next(WORDS.len())])
            .collect::<Vec<_>>()
            .join(" ")
    }
}

/// Writes `count` documents into `root/content/documents/`, with topics,
/// organisations, references that other documents mention, links by id, events,
/// lists, tables and redactions.
fn generate(root: &Path, count: usize) {
    let mut rng = Lcg(20_261_123);
    let dir = root.join("content/documents");
    std::fs::create_dir_all(&dir).unwrap();
    for i in 0..count {
        let year = 2000 + rng.next(25);
        let month = 1 + rng.next(12);
        let day = 1 + rng.next(28);
        let topics: Vec<&str> = (0..1 + rng.next(3))
            .map(|_| TOPICS[rng.next(TOPICS.len())])
            .collect::<std::collections::BTreeSet<_>>()
            .into_iter()
            .collect();
        let org = ORGS[rng.next(ORGS.len())];
        let linked = (i + 1 + rng.next(count - 1)) % count;
        let mentioned = (i + 1 + rng.next(count - 1)) % count;
        let mut body = String::new();
        for p in 1..=3 + rng.next(4) {
            let length = 40 + rng.next(80);
            body += &format!("## Part {p}\n\n{p}.1 {}.\n\n", rng.words(length));
            body += &format!("{p}.2 {} [redacted] {}.\n\n", rng.words(20), rng.words(15));
        }
        body += &format!(
            "- {}\n- see [the related note](doc:doc-{linked:04})\n- as in {}/{:02}\n\n",
            rng.words(8),
            5000 + mentioned,
            mentioned % 100
        );
        body += &format!(
            "| A | B |\n| - | - |\n| {} | {} |\n",
            rng.words(2),
            rng.words(3)
        );
        let text = format!(
            "---\nid: doc-{i:04}\ntitle: {} {i}\ndate: {year}-{month:02}-{day:02}\ntype: note\nreference: {}/{:02}\nfrom: {org}\nto: Standing Committee\ntopics: [{}]\norganisations: [{org}]\nevents:\n  - date: {year}-{month:02}\n    title: {}\n---\n{body}",
            rng.words(4),
            5000 + i,
            i % 100,
            topics.join(", "),
            rng.words(3),
        );
        std::fs::write(dir.join(format!("doc-{i:04}.md")), text).unwrap();
    }
}

fn build_with_threads(site: &Site, threads: usize, out: &Path) -> BTreeMap<String, Vec<u8>> {
    let output = assert_cmd::Command::cargo_bin("annals")
        .unwrap()
        .env("ANNALS_PROGRESS", "none")
        .env("RAYON_NUM_THREADS", threads.to_string())
        .args(["build", "--root"])
        .arg(&site.root)
        .arg("--output")
        .arg(out)
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "{threads} threads: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    snapshot(out)
}

#[test]
fn the_same_bytes_with_one_thread_or_many_fully_or_incrementally() {
    let site = Site::new("basic");
    std::fs::remove_dir_all(site.root.join("content")).unwrap();
    generate(&site.root, 240);
    let one = build_with_threads(&site, 1, &site.tmp.path().join("one"));
    // Enough documents for many search chunks, pair and term shards.
    let shards = one
        .keys()
        .filter(|p| p.starts_with("search/terms/"))
        .count();
    assert!(
        one.len() > 1500 && shards > 3,
        "{} files, {shards} term shards",
        one.len()
    );
    for threads in [2, 3, 8] {
        let _ = std::fs::remove_dir_all(site.root.join(".annals-cache"));
        let many = build_with_threads(&site, threads, &site.tmp.path().join(format!("t{threads}")));
        assert_same_tree(&one, &many, &format!("{threads} threads against 1"));
    }

    // An edit, rebuilt incrementally with one thread, against a clean build with
    // eight.
    let inc = site.tmp.path().join("inc");
    let _ = std::fs::remove_dir_all(site.root.join(".annals-cache"));
    build_with_threads(&site, 1, &inc);
    let edited = site.root.join("content/documents/doc-0007.md");
    let text = std::fs::read_to_string(&edited).unwrap();
    std::fs::write(
        &edited,
        text + "\nA closing remark on interoperability of the member states.\n",
    )
    .unwrap();
    let incremental = build_with_threads(&site, 1, &inc);
    let _ = std::fs::remove_dir_all(site.root.join(".annals-cache"));
    let clean = build_with_threads(&site, 8, &site.tmp.path().join("clean"));
    assert_same_tree(
        &clean,
        &incremental,
        "1-thread incremental against 8-thread clean",
    );
}
