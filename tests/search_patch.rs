//! The search index patched in place after body edits is the same bytes as
//! the index assembled in full from the edited archive, or the patch says why
//! it cannot be made.

use annals::search::patch::{self, Change, PatchedFile, SearchState};
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// A deterministic stream of numbers (a linear congruential generator).
struct Numbers(u64);

impl Numbers {
    fn next(&mut self, below: usize) -> usize {
        self.0 = self
            .0
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        ((self.0 >> 33) as usize) % below
    }
}

const COMMON: [&str; 8] = [
    "the", "member", "states", "data", "of", "council", "and", "access",
];
const STEMS: [&str; 24] = [
    "regulat",
    "protect",
    "transfer",
    "inform",
    "investigat",
    "cooperat",
    "process",
    "retent",
    "encrypt",
    "request",
    "border",
    "police",
    "judge",
    "court",
    "minister",
    "report",
    "network",
    "provider",
    "server",
    "warrant",
    "evidence",
    "crime",
    "terror",
    "record",
];
const ENDINGS: [&str; 6] = ["ion", "ions", "ed", "ing", "e", "es"];

/// A word: common ones often, then English-like forms of shared stems,
/// then made-up rare words.
fn word(n: &mut Numbers) -> String {
    match n.next(10) {
        0..=4 => COMMON[n.next(COMMON.len())].to_string(),
        5..=7 => format!(
            "{}{}",
            STEMS[n.next(STEMS.len())],
            ENDINGS[n.next(ENDINGS.len())]
        ),
        _ => {
            const SYLLABLES: [&str; 12] = [
                "ka", "lo", "mi", "ter", "san", "vo", "ril", "de", "pu", "gan", "zo", "bel",
            ];
            (0..2 + n.next(3))
                .map(|_| SYLLABLES[n.next(SYLLABLES.len())])
                .collect()
        }
    }
}

fn sentence(n: &mut Numbers, words: usize) -> String {
    let mut s: Vec<String> = (0..words).map(|_| word(n)).collect();
    if let Some(first) = s.first_mut() {
        *first = format!("{}{}", first[..1].to_uppercase(), &first[1..]);
    }
    format!("{}.", s.join(" "))
}

fn body(n: &mut Numbers) -> String {
    (0..3 + n.next(4))
        .map(|_| {
            let words = 12 + n.next(30);
            sentence(n, words)
        })
        .collect::<Vec<_>>()
        .join("\n\n")
}

fn source(i: usize, body: &str) -> annals::load::SourceFile {
    annals::load::SourceFile {
        path: PathBuf::from(format!("content/documents/doc-{i:04}.md")),
        text: format!(
            "---\nid: doc-{i:04}\ntitle: \"Note {i}\"\ndate: {}-{:02}-{:02}\ntype: note\n---\n\n{body}\n",
            2000 + i % 20,
            1 + i % 12,
            1 + i % 28
        ),
    }
}

/// The archive of `bodies`, linked as `annals serve` links it (every
/// document's analysis kept whole).
fn archive(bodies: &[String]) -> annals::archive::Archive {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/search");
    let config = annals::load::load_config(&root).expect("site.toml");
    let documents = bodies
        .iter()
        .enumerate()
        .map(|(i, b)| annals::document::parse_document(&source(i, b), &config).expect("valid"))
        .collect();
    let bodies = annals::archive::links::BodyCache::default();
    let reuse = annals::archive::links::Reuse {
        bodies: Some(annals::archive::links::KeptBodies::Held(&bodies)),
        ..annals::archive::links::Reuse::nothing()
    };
    annals::archive::link_reusing(config, documents, &Default::default(), Vec::new(), reuse)
        .expect("links")
}

type Files = Vec<(String, Vec<u8>)>;

/// The index assembled in full, and its state.
fn assembled(archive: &annals::archive::Archive) -> (Files, SearchState) {
    annals::search::write_index_state(archive, archive.search.clone(), None, |f, _| {
        (f.path, f.bytes)
    })
    .expect("the index is made")
}

/// The document number of `doc-<i>`.
fn number(archive: &annals::archive::Archive, i: usize) -> usize {
    archive.by_id[&format!("doc-{i:04}")]
}

/// Patches `before`'s index for the bodies edited in `after`; the files in
/// order (manifest last) and the state, or why not.
fn patched(
    before: &annals::archive::Archive,
    live: &Files,
    state: &SearchState,
    after: &annals::archive::Archive,
    edited: &[usize],
) -> Result<(Files, SearchState, usize), String> {
    let files: HashMap<&str, &Vec<u8>> = live.iter().map(|(p, b)| (p.as_str(), b)).collect();
    let read = |path: &str| files.get(path).map(|b| b.to_vec());
    let analyses: Vec<(usize, Arc<_>, Arc<_>)> = edited
        .iter()
        .map(|&i| {
            let d = number(before, i);
            assert_eq!(d, number(after, i), "a body edit keeps the order");
            (
                d,
                before.search.documents[d].clone(),
                after.search.documents[d].clone(),
            )
        })
        .collect();
    let changes: Vec<Change<'_>> = analyses
        .iter()
        .map(|(doc, old, new)| Change {
            doc: *doc,
            old,
            new,
        })
        .collect();
    let facets = || annals::search::facets_file(after);
    let out = patch::patch(state, &read, after.documents.len(), &changes, facets)?;
    let mut written = 0;
    let mut result: Files = out
        .files
        .iter()
        .map(|f| match f {
            PatchedFile::Kept(path, _) => (path.clone(), files[path.as_str()].clone()),
            PatchedFile::Written(file, _) => {
                written += 1;
                (file.path.clone(), file.bytes.clone())
            }
        })
        .collect();
    result.push((out.manifest.path, out.manifest.bytes));
    Ok((result, out.state, written))
}

fn corpus(count: usize, seed: u64) -> Vec<String> {
    let mut n = Numbers(seed);
    (0..count).map(|_| body(&mut n)).collect()
}

/// Asserts that patching `bodies`' index for the edit gives the full
/// assembly's bytes; returns how many files the patch wrote, or why it
/// made none.
fn check_edit(
    bodies: &[String],
    edit: &dyn Fn(&mut Vec<String>) -> Vec<usize>,
) -> Result<usize, String> {
    let before = archive(bodies);
    let (live, state) = assembled(&before);
    let mut edited_bodies = bodies.to_vec();
    let edited = edit(&mut edited_bodies);
    let after = archive(&edited_bodies);
    let (expected, expected_state) = assembled(&after);
    let (files, new_state, written) = patched(&before, &live, &state, &after, &edited)?;
    let names = |f: &Files| f.iter().map(|x| x.0.clone()).collect::<Vec<_>>();
    assert_eq!(names(&files), names(&expected), "the same files, in order");
    for ((path, got), (_, want)) in files.iter().zip(&expected) {
        assert!(
            got == want,
            "{path} differs:\npatched:  {}\nassembled: {}",
            String::from_utf8_lossy(got),
            String::from_utf8_lossy(want)
        );
    }
    assert_eq!(new_state, expected_state, "the state for the next patch");
    Ok(written)
}

#[test]
fn a_patched_index_is_the_assembled_one() {
    let bodies = corpus(400, 7);
    let (_, state) = assembled(&archive(&bodies));
    let terms = state
        .files
        .iter()
        .filter(|f| f.0.starts_with("search/terms/"))
        .count();
    let pairs = state
        .files
        .iter()
        .filter(|f| f.0.starts_with("search/pairs/"))
        .count();
    assert!(
        terms >= 4 && pairs >= 2,
        "{terms} term shards, {pairs} pair shards"
    );
    let total = state.files.len() + 1;

    // Known words appended.
    let written = check_edit(&bodies, &|b| {
        b[17].push_str("\n\nThe member states and the council.");
        vec![17]
    })
    .expect("patched");
    assert!(written < total / 4, "{written} of {total} files written");
    // New words, which add keys (and may cut shards again).
    check_edit(&bodies, &|b| {
        let extra: Vec<String> = (0..150).map(|k| format!("novelword{k}x")).collect();
        b[230].push_str(&format!("\n\n{}.", extra.join(" ")));
        vec![230]
    })
    .expect("patched");
    // A paragraph taken out: its forms may be the archive's last.
    check_edit(&bodies, &|b| {
        let cut = b[99].split("\n\n").skip(1).collect::<Vec<_>>().join("\n\n");
        b[99] = format!("{cut}\n\nZorbelkanite regulations.");
        vec![99]
    })
    .expect("patched");
    // Two documents at once, one losing every word it had.
    check_edit(&bodies, &|b| {
        b[3] = b[3].replace("data", "datum");
        b[301] = "Access of the member states.".into();
        vec![3, 301]
    })
    .expect("patched");
}

#[test]
fn a_patch_that_would_move_the_archive_is_refused() {
    let bodies = corpus(200, 3);
    // One document grown a hundredfold moves the average length, and with it
    // every document's weights: no patch.
    let grown = check_edit(&bodies, &|b| {
        b[10] = b[10].repeat(100);
        vec![10]
    });
    assert!(grown.unwrap_err().contains("average"));

    // A live shard that is not the one the state describes is never patched.
    let before = archive(&bodies);
    let (mut live, state) = assembled(&before);
    let mut after_bodies = bodies.clone();
    after_bodies[4].push_str("\n\nThe member states.");
    let after = archive(&after_bodies);
    for (path, bytes) in live.iter_mut() {
        if path.starts_with("search/terms/") || path.starts_with("search/pairs/") {
            bytes.insert(1, b' ');
        }
    }
    let refused = patched(&before, &live, &state, &after, &[4]).unwrap_err();
    assert!(
        refused.contains("not the one the state describes"),
        "{refused}"
    );
}

#[test]
fn every_small_edit_of_a_corpus_patches_or_says_why_not() {
    let bodies = corpus(300, 11);
    let mut n = Numbers(99);
    let mut made = 0;
    for round in 0..12 {
        let docs: Vec<usize> = (0..1 + n.next(2)).map(|_| n.next(bodies.len())).collect();
        let mut docs = docs;
        docs.sort_unstable();
        docs.dedup();
        let sentence_seed = 1000 + round;
        let result = check_edit(&bodies, &|b| {
            let mut words = Numbers(sentence_seed);
            for &d in &docs {
                match words.next(3) {
                    0 => b[d].push_str(&format!("\n\n{}", sentence(&mut words, 20))),
                    1 => b[d] = body(&mut words),
                    _ => b[d] = b[d].replace("ed ", "ing "),
                }
            }
            docs.clone()
        });
        if result.is_ok() {
            made += 1;
        }
    }
    assert!(made >= 8, "only {made} of 12 edits were patched");
}
