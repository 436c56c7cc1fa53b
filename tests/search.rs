//! Search: builds the search fixture archive and runs queries through the client's
//! own query module (`themes/default/static/search-core.js`) under node, against
//! the index on disk, asserting exact result sets.

/// The allocator of the `annals` binary, so that `index_build_time` measures what
/// a build does.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

mod common;

use rayon::prelude::*;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

fn fixture() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/search")
}

fn build(root: &Path, output: &Path) {
    let mut options = annals::BuildOptions::new(common::private_root(root, output));
    options.output = Some(output.to_path_buf());
    if let Err(e) = annals::build(&options) {
        panic!("build failed: {e}");
    }
}

/// One query's answer, as `tests/search/query.mjs` prints it.
#[derive(Debug, serde::Deserialize)]
struct Answer {
    query: String,
    total: usize,
    ids: Vec<String>,
    results: Vec<Shown>,
    facets: std::collections::BTreeMap<String, std::collections::BTreeMap<String, usize>>,
}

#[derive(Debug, serde::Deserialize)]
struct Shown {
    id: String,
    anchor: String,
    hits: Vec<String>,
}

fn node() -> Option<PathBuf> {
    ["/usr/bin/node", "/usr/local/bin/node"]
        .iter()
        .map(PathBuf::from)
        .find(|p| p.exists())
        .or_else(|| {
            Command::new("node")
                .arg("--version")
                .output()
                .ok()
                .filter(|o| o.status.success())
                .map(|_| PathBuf::from("node"))
        })
}

fn run_queries(site: &Path, queries: &[&str]) -> Vec<Answer> {
    let node = node().expect("node is needed to run the search client's query module");
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/search/query.mjs");
    let out = Command::new(node)
        .arg(script)
        .arg(site)
        .arg(serde_json::to_string(queries).unwrap())
        .output()
        .expect("node runs");
    assert!(
        out.status.success(),
        "query.mjs failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).expect("query.mjs prints JSON")
}

fn ids(answer: &Answer) -> Vec<&str> {
    let mut v: Vec<&str> = answer.ids.iter().map(String::as_str).collect();
    v.sort_unstable();
    v
}

#[test]
fn queries_through_the_client_find_exactly_the_expected_documents() {
    let dir = tempfile::tempdir().unwrap();
    let site = dir.path().join("site");
    build(&fixture(), &site);
    let answers = run_queries(
        &site,
        &[
            "q=%22data+protection+officer%22",
            "q=%22data+protection%22",
            "q=%22data+officer%22",
            "q=dron",
            "q=europol&topic=data-protection",
            "q=europol&from=2017&to=2020",
            "from=2019-06-15&to=2019-07",
            "q=europol",
            "q=europol&from=2019-06-31",
            "q=quokkagate",
            "q=comision",
            "q=regulations+",
            "q=7123/17",
            "q=europol&org=frontex",
            "q=officer&sender=frontex&lang=en",
        ],
    );
    let by_query = |q: &str| answers.iter().find(|a| a.query == q).unwrap();

    // A phrase: the frontex briefing has all three words, but not together.
    let phrase = by_query("q=%22data+protection+officer%22");
    assert_eq!(ids(phrase), ["europol-data-2017"]);
    assert_eq!(phrase.results[0].id, "europol-data-2017");
    assert_eq!(phrase.results[0].anchor, "p1");
    assert_eq!(phrase.results[0].hits, ["data protection officer"]);
    // Two common words go through the pair index; the Spanish letter has the phrase
    // in its topic.
    assert_eq!(
        ids(by_query("q=%22data+protection%22")),
        ["comision-2021", "council-2016", "europol-data-2017"]
    );
    assert!(by_query("q=%22data+officer%22").ids.is_empty());

    // A prefix while typing: `dron` finds `drones`, and the result links to its paragraph.
    let prefix = by_query("q=dron");
    assert_eq!(ids(prefix), ["frontex-drones-2019"]);
    assert_eq!(prefix.results[0].anchor, "p1");
    assert_eq!(prefix.results[0].hits, ["drones"]);

    // A facet, with counts for the other values as if it were not selected.
    let facet = by_query("q=europol&topic=data-protection");
    assert_eq!(ids(facet), ["comision-2021", "europol-data-2017"]);
    assert_eq!(facet.facets["topic"]["data-protection"], 2);
    assert_eq!(facet.facets["topic"]["migration"], 1);
    assert_eq!(facet.facets["lang"]["es"], 1);
    assert!(by_query("q=europol&org=frontex").ids.is_empty());
    assert_eq!(
        ids(by_query("q=officer&sender=frontex&lang=en")),
        ["frontex-drones-2019"]
    );

    // Date ranges: years, and a day range overlapping a document dated to its month.
    assert_eq!(
        ids(by_query("q=europol&from=2017&to=2020")),
        ["europol-data-2017"]
    );
    assert_eq!(
        ids(by_query("from=2019-06-15&to=2019-07")),
        ["frontex-drones-2019"]
    );

    // A day that does not exist is no date: not read as the next month's first
    // day (which would have dropped the June document), but not applied.
    let every = ids(by_query("q=europol"));
    assert!(every.contains(&"europol-data-2017"), "{every:?}");
    assert_eq!(
        ids(by_query("q=europol&from=2019-06-31")),
        every,
        "an impossible day is ignored, like any unreadable date"
    );

    // A word that occurs only inside a redaction's note is not in the index.
    let redacted = by_query("q=quokkagate");
    assert_eq!(redacted.total, 0);
    let files = walk(&site.join("search"));
    for file in files {
        let text = std::fs::read_to_string(&file).unwrap();
        assert!(!text.contains("quokkagate"), "{} leaks it", file.display());
    }

    // Accents fold; stems join word forms (English `regulation`, and the Spanish
    // `regulaciones`, whose stem is the same).
    assert_eq!(ids(by_query("q=comision")), ["comision-2021"]);
    assert_eq!(
        ids(by_query("q=regulations+")),
        ["comision-2021", "council-2016"]
    );
    // A reference number is a phrase of its parts.
    assert_eq!(ids(by_query("q=7123/17")), ["europol-data-2017"]);
}

fn walk(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            out.extend(walk(&path));
        } else {
            out.push(path);
        }
    }
    out.sort();
    out
}

#[test]
fn the_index_is_byte_identical_across_builds() {
    let dir = tempfile::tempdir().unwrap();
    let (a, b) = (dir.path().join("a"), dir.path().join("b"));
    build(&fixture(), &a);
    build(&fixture(), &b);
    let (fa, fb) = (walk(&a.join("search")), walk(&b.join("search")));
    assert_eq!(fa.len(), fb.len());
    assert!(fa.len() > 5);
    for (x, y) in fa.iter().zip(&fb) {
        assert_eq!(x.strip_prefix(&a).unwrap(), y.strip_prefix(&b).unwrap());
        assert_eq!(
            std::fs::read(x).unwrap(),
            std::fs::read(y).unwrap(),
            "{}",
            x.display()
        );
    }
}

#[test]
fn the_search_page_knows_its_sub_path() {
    let dir = tempfile::tempdir().unwrap();
    let site = dir.path().join("site");
    build(&fixture(), &site);
    let html = std::fs::read_to_string(site.join("search/index.html")).unwrap();
    let page = scraper::Html::parse_document(&html);
    let root = scraper::Selector::parse("[data-search-index]").unwrap();
    let el = page.select(&root).next().expect("search root element");
    assert_eq!(
        el.value().attr("data-search-index"),
        Some("/archive/search/")
    );
    assert_eq!(el.value().attr("data-site-base"), Some("/archive/"));
    let script = scraper::Selector::parse("script[type=module]").unwrap();
    let src = page.select(&script).next().expect("module script");
    assert_eq!(src.value().attr("src"), Some("/archive/static/search.js"));
    // Every page has the search box.
    let home = std::fs::read_to_string(site.join("index.html")).unwrap();
    let home = scraper::Html::parse_document(&home);
    let form = scraper::Selector::parse("header form[role=search]").unwrap();
    let form = home.select(&form).next().expect("search box in the header");
    assert_eq!(form.value().attr("action"), Some("/archive/search/"));
    let input = scraper::Selector::parse("input[name=q]").unwrap();
    assert!(form.select(&input).next().is_some());
}

/// Loads, parses and links an archive the way `annals build` does.
fn archive(root: &Path) -> annals::archive::Archive {
    archive_with(root, false)
}

/// The linked archive of `root`; with `session`, linked as `annals serve` links
/// it (every document's search analysis kept whole, not interned).
fn archive_with(root: &Path, session: bool) -> annals::archive::Archive {
    let config = annals::load::load_config(root).expect("site.toml");
    let (content, errors) = annals::load::load_content(root);
    assert!(errors.is_empty(), "{errors:?}");
    let documents: Vec<_> = content
        .documents
        .iter()
        .map(|s| annals::document::parse_document(s, &config).expect("valid document"))
        .collect();
    let (sources, errors) = annals::load::load_entities(root, &config);
    assert!(errors.is_empty(), "{errors:?}");
    let entities = sources
        .iter()
        .map(|(t, s)| annals::entity::parse_entity(s, &config.taxonomies[*t]).expect("entity"))
        .collect();
    let bodies = annals::archive::links::BodyCache::default();
    let reuse = annals::archive::links::Reuse {
        bodies: session.then_some(annals::archive::links::KeptBodies::Held(&bodies)),
        ..annals::archive::links::Reuse::nothing()
    };
    annals::archive::link_reusing(config, documents, &Default::default(), entities, reuse)
        .expect("links")
}

/// The process's resident memory now and at its peak, in MB (Linux).
fn memory_mb() -> (u64, u64) {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    let field = |name: &str| {
        status
            .lines()
            .find(|l| l.starts_with(name))
            .and_then(|l| l.split_whitespace().nth(1))
            .and_then(|kb| kb.parse::<u64>().ok())
            .map_or(0, |kb| kb / 1024)
    };
    (field("VmRSS:"), field("VmHWM:"))
}

/// CPU time used by the process so far (user and system), in seconds (Linux).
fn cpu_seconds() -> f64 {
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
    // Fields after the command name (which may hold spaces) start after ')'.
    let fields: Vec<&str> = stat
        .rsplit_once(')')
        .map_or(Vec::new(), |(_, rest)| rest.split_whitespace().collect());
    let ticks = |i: usize| {
        fields
            .get(i)
            .and_then(|f| f.parse::<f64>().ok())
            .unwrap_or(0.0)
    };
    // utime and stime are fields 14 and 15 of the line, 12 and 13 after ')'.
    (ticks(11) + ticks(12)) / 100.0
}

/// Prints how long the index of a large archive takes to build (without writing
/// it), how much memory that adds, and how big it is:
/// `ANNALS_SEARCH_BENCH=/tmp/corpus/annals cargo test --release --test search -- --ignored --nocapture`.
/// With `ANNALS_SEARCH_OUT=DIR`, the index is also written under `DIR/search/`, for
/// `tests/search/query.mjs DIR` to measure what queries fetch.
#[test]
#[ignore]
fn index_build_time() {
    let Ok(root) = std::env::var("ANNALS_SEARCH_BENCH") else {
        return;
    };
    // As the `annals` binary runs (see `no_transparent_huge_pages` in main.rs),
    // unless the environment chooses.
    #[cfg(target_os = "linux")]
    if !std::env::vars_os().any(|(name, _)| {
        name.to_str()
            .is_some_and(|n| n.eq_ignore_ascii_case("MIMALLOC_ALLOW_THP"))
    }) {
        let _ = rustix::thread::disable_transparent_huge_pages(true);
    }
    let archive = archive(Path::new(&root));
    let runs: usize = std::env::var("ANNALS_SEARCH_RUNS")
        .ok()
        .and_then(|r| r.parse().ok())
        .unwrap_or(3);
    // What the analyses held between the link and search stages take, by part.
    let mut sizes = [0usize; 6];
    let served = archive_with(Path::new(&root), true);
    for a in &served.search.documents {
        sizes[0] += a.keys.iter().map(|k| k.len() + 4).sum::<usize>();
        sizes[1] += a.stems.capacity() * 12;
        sizes[2] += a.forms.capacity() * 8;
        sizes[3] += a.stream.capacity() * 4;
        sizes[4] += a.segments.capacity() * 8;
        sizes[5] += a.parts.iter().map(Vec::capacity).sum::<usize>();
    }
    println!(
        "analyses: keys {} MB, stems {} MB, forms {} MB, stream {} MB, segments {} MB, snippets {} MB",
        sizes[0] >> 20,
        sizes[1] >> 20,
        sizes[2] >> 20,
        sizes[3] >> 20,
        sizes[4] >> 20,
        sizes[5] >> 20
    );
    // The analysis, which the link pass does for each body it renders: timed
    // here from bodies rendered beforehand, one word memo per chunk as there.
    let bodies: Vec<_> = archive
        .documents
        .par_iter()
        .map(|d| annals::markdown::render_with(&d.body.text().unwrap(), &Default::default()))
        .collect();
    let chunk = annals::search::chunk_size(archive.documents.len());
    for run in 0..runs {
        let cpu = cpu_seconds();
        let start = Instant::now();
        let made: usize = archive
            .documents
            .par_chunks(chunk)
            .zip(bodies.par_chunks(chunk))
            .map(|(docs, bodies)| {
                let mut group = annals::search::Interned::default();
                let mut parts = 0;
                for (d, b) in docs.iter().zip(bodies) {
                    parts += group.add_body(d, b).len();
                }
                group.seal();
                std::hint::black_box(group);
                parts
            })
            .sum();
        println!(
            "run {run}: {} documents analysed and interned in {:.3} s ({:.2} s CPU), {made} snippet parts",
            archive.documents.len(),
            start.elapsed().as_secs_f64(),
            cpu_seconds() - cpu
        );
    }
    drop(bodies);
    for run in 0..runs {
        let analyses = archive.search.clone();
        let (rss, _) = memory_mb();
        let cpu = cpu_seconds();
        let start = Instant::now();
        let files = annals::search::write_index(&archive, analyses, |f| (f.path, f.bytes.len()))
            .expect("the index is made");
        let elapsed = start.elapsed();
        let cpu = cpu_seconds() - cpu;
        let (_, peak) = memory_mb();
        let bytes: usize = files.iter().map(|f| f.1).sum();
        let by = |prefix: &str| -> (usize, usize) {
            let f: Vec<_> = files.iter().filter(|f| f.0.starts_with(prefix)).collect();
            (f.len(), f.iter().map(|f| f.1).sum())
        };
        println!(
            "run {run}: {} documents indexed in {:.3} s ({cpu:.2} s CPU) on {} threads, memory {rss} MB before, peak {peak} MB: {} files, {} bytes; terms {:?} pairs {:?} docs {:?}",
            archive.documents.len(),
            elapsed.as_secs_f64(),
            rayon::current_num_threads(),
            files.len(),
            bytes,
            by("search/terms/"),
            by("search/pairs/"),
            by("search/docs/"),
        );
    }
    if let Ok(out) = std::env::var("ANNALS_SEARCH_OUT") {
        let out = PathBuf::from(out);
        let written = annals::search::write_index(&archive, archive.search.clone(), |f| {
            let path = out.join(&f.path);
            std::fs::create_dir_all(path.parent().unwrap())?;
            std::fs::write(path, &f.bytes)
        })
        .expect("the index is made");
        assert!(written.iter().all(Result::is_ok));
    }
}

/// The stem postings are made range of keys by range, to bound the memory a
/// large archive's assembly holds: however the key space is cut, the shards
/// are the same bytes (one key a range, a few ranges, one range).
#[test]
fn stems_assembled_by_key_range_give_the_same_shards() {
    // The bundled archive: long real documents, several term shards.
    let archive = archive(Path::new(env!("CARGO_MANIFEST_DIR")));
    let groups: Vec<annals::search::Interned> = archive
        .search
        .interned
        .iter()
        .map(|g| g.0.clone())
        .collect();
    let assemble = |entries_per_range: usize| {
        let mut groups = groups.clone();
        let (layout, files) = annals::search::index::assemble_in_ranges(
            &mut groups,
            annals::search::index::Release::AsYouGo,
            &|f| (f.path, f.bytes),
            entries_per_range,
        );
        (layout, files)
    };
    let whole = assemble(usize::MAX);
    assert!(
        whole
            .1
            .iter()
            .filter(|f| f.0.starts_with("search/terms/"))
            .count()
            > 1
    );
    assert!(whole
        .1
        .iter()
        .any(|f| String::from_utf8_lossy(&f.1).contains("\"words\":{\"")));
    for entries_per_range in [1, 7, 100, 1000] {
        assert_eq!(
            assemble(entries_per_range),
            whole,
            "{entries_per_range} a range"
        );
    }
}

/// A session keeps the search index's interned groups: after an edit, the
/// chunk holding the edited document is interned again and every other chunk is
/// taken as it was, and the index is exactly a clean build's of the edited
/// archive.
#[test]
fn kept_groups_are_taken_only_for_unchanged_chunks() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/crosslinks");
    let served = archive_with(&root, true);
    let count = served.documents.len();
    assert!(count >= 4);
    let mut kept = Vec::new();
    let first =
        annals::search::write_index_kept(&served, served.search.clone(), &mut kept, |f, _| f)
            .expect("the index is made");
    assert!(kept.len() > 1, "several chunks");
    assert!(kept.iter().all(|k| !k.reused()));
    let files = |v: &[annals::render::OutputFile]| -> Vec<(String, Vec<u8>)> {
        v.iter()
            .map(|f| (f.path.clone(), f.bytes.clone()))
            .collect()
    };
    assert_eq!(
        files(&first),
        files(&annals::search::index_files(&served).expect("the index is made"))
    );

    // The same analyses again: every group is taken, the same bytes come out.
    let again =
        annals::search::write_index_kept(&served, served.search.clone(), &mut kept, |f, _| f)
            .expect("the index is made");
    assert!(kept.iter().all(|k| k.reused()));
    assert_eq!(files(&again), files(&first));

    // One body edited, with a word no other document has.
    let edited_at = count / 2;
    let mut edited = served.clone();
    let body = edited.documents[edited_at]
        .body
        .text()
        .unwrap()
        .into_owned();
    edited.documents[edited_at].body = format!("{body}\nA zanzibarian sentence.\n").into();
    let mut memo = annals::search::WordMemo::default();
    let mut analyses = served.search.clone();
    analyses.documents[edited_at] = std::sync::Arc::new(
        annals::search::analyse_document(&edited.documents[edited_at], &mut memo)
            .expect("a body in memory is read"),
    );
    let updated = annals::search::write_index_kept(&edited, analyses, &mut kept, |f, _| f)
        .expect("the index is made");
    let mut first_doc = 0;
    for group in &kept {
        let holds_edit = (first_doc..first_doc + group.len()).contains(&edited_at);
        assert_eq!(
            group.reused(),
            !holds_edit,
            "group from document {first_doc}"
        );
        first_doc += group.len();
    }
    let clean =
        annals::search::write_index(&edited, Default::default(), |f| f).expect("the index is made");
    assert_eq!(files(&updated), files(&clean));
    assert_ne!(files(&updated), files(&first));
    assert!(updated.iter().any(|f| f.path.starts_with("search/terms/")
        && String::from_utf8_lossy(&f.bytes).contains("zanzibarian")));
}

/// The analyses the link pass makes from the bodies it renders (with mentions
/// and reference links) are the ones a document gives on its own, whatever the
/// order and the word memo; an index assembled from analyses a cache kept (as
/// `serve` keeps them) is exactly the files of a clean build; and a cache hands
/// back only analyses of unchanged documents.
#[test]
fn kept_analyses_give_the_same_index_as_a_clean_build() {
    for root in [
        fixture(),
        Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/crosslinks"),
    ] {
        let archive = archive(&root);
        let count = archive.documents.len();
        // A build interns the analyses in the link pass; a session keeps them whole.
        let interned: usize = archive.search.interned.iter().map(|g| g.0.len()).sum();
        assert_eq!((interned, archive.search.made), (count, count));
        assert!(archive.search.documents.is_empty());
        let served = archive_with(&root, true);
        assert_eq!(served.search.documents.len(), count);
        assert!(served.search.interned.is_empty());
        if root.ends_with("crosslinks") {
            // Bodies with entity mentions and reference auto-links.
            assert!(archive.links.mentions.iter().any(|m| !m.is_empty()));
        }
        let mut memo = annals::search::WordMemo::default();
        for (doc, linked) in served.documents.iter().zip(&served.search.documents).rev() {
            let alone = annals::search::analyse_document(doc, &mut memo).expect("read");
            assert_eq!(&alone, &**linked, "{}", doc.id);
        }
        let clean = annals::search::index_files(&archive).expect("the index is made");
        // Without analyses, the index analyses every document itself.
        let fresh = annals::search::write_index(&archive, Default::default(), |f| f)
            .expect("the index is made");
        let whole = annals::search::index_files(&served).expect("the index is made");
        let mut cache = annals::search::AnalysisCache::default();
        let salt = annals::search::cache_salt(&served.config);
        cache.keep(salt, &served.documents, &served.search);
        assert_eq!(cache.len(), count);
        let kept = annals::search::Analyses {
            documents: served
                .documents
                .iter()
                .map(|d| cache.get(salt, d).expect("kept"))
                .collect(),
            ..Default::default()
        };
        let cached = annals::search::write_index(&served, kept, |f| f).expect("the index is made");
        for other in [&fresh, &whole, &cached] {
            assert_eq!(clean.len(), other.len());
            for (a, b) in clean.iter().zip(other) {
                assert_eq!(a.path, b.path);
                assert_eq!(a.bytes, b.bytes, "{}", a.path);
            }
        }
        assert!(clean.iter().any(|f| f.path == "search/manifest.json"));
        // An edited body or another configuration finds nothing kept.
        let mut edited = served.documents[0].clone();
        edited.body = format!("{}\nAn added sentence.\n", edited.body.text().unwrap()).into();
        assert!(cache.get(salt, &edited).is_none());
        assert!(cache.get(salt ^ 1, &served.documents[0]).is_none());
    }
}

/// The client finds a term shard's file by the name the build gave it, for
/// first keys of any script and length, and for long keys that share the part
/// of them a name holds.
#[test]
fn term_shard_names_are_the_clients() {
    let long = "ş".repeat(20);
    let first_keys: Vec<String> = [
        "",
        "data",
        "europol",
        "émigré",
        "миграция",
        "数据",
        &format!("{long}a"),
        &format!("{long}b"),
        &format!("{long}c"),
        "z",
    ]
    .map(String::from)
    .to_vec();
    let ours: Vec<String> = (0..first_keys.len())
        .map(|n| annals::search::index::term_shard_name(&first_keys, n))
        .collect();
    assert_eq!(ours[0], "k");
    assert_eq!(ours[1], "k64617461");
    assert!(ours[6].len() <= 65 && ours[7] == format!("{}-1", ours[6]));
    assert_eq!(ours[8], format!("{}-2", ours[6]));
    let unique: std::collections::HashSet<&String> = ours.iter().collect();
    assert_eq!(unique.len(), ours.len());
    let node = node().expect("node is needed to run the search client");
    let core = Path::new(env!("CARGO_MANIFEST_DIR")).join("themes/default/static/search-core.js");
    let script = format!(
        "const core = await import({:?}); const keys = JSON.parse(process.argv[1]); \
         console.log(JSON.stringify(keys.map((_, n) => core.termShardName(keys, n))));",
        format!("file://{}", core.display())
    );
    let out = Command::new(node)
        .args(["--input-type=module", "-e", &script])
        .arg(serde_json::to_string(&first_keys).unwrap())
        .output()
        .expect("node runs");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let theirs: Vec<String> = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(theirs, ours);
}

/// An entity page's lists are cut in a large archive, and their links send the
/// reader to the search page's filters for the rest; each filter must find
/// exactly what the uncut list holds, aliases included.
#[test]
fn an_entitys_search_filters_find_what_its_page_lists() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("root");
    common::copy_dir(&common::fixture_path("crosslinks"), &root);
    // A sender written by an alias is the entity's all the same.
    let note = root.join("content/documents/2017/mentions.md");
    let text = std::fs::read_to_string(&note).unwrap();
    let text = text.replace(
        "from: EDPS\n",
        "from: European Data Protection Supervisor\n",
    );
    std::fs::write(&note, text).unwrap();
    let site = dir.path().join("site");
    build(&root, &site);
    let entities = ["dg-home", "edps", "eu-lisa", "europol"];
    let queries: Vec<String> = entities
        .iter()
        .flat_map(|e| {
            ["sender", "recipient", "mentions", "org"].map(|param| format!("{param}={e}"))
        })
        .collect();
    let queries: Vec<&str> = queries.iter().map(String::as_str).collect();
    let answers = run_queries(&site, &queries);
    let found = |query: String| -> Vec<String> {
        let answer = answers.iter().find(|a| a.query == query).unwrap();
        assert_eq!(answer.total, answer.ids.len());
        let mut ids = answer.ids.clone();
        ids.sort_unstable();
        ids
    };
    let listed = |page: &scraper::Html, section: &str| -> Vec<String> {
        let css = format!("section[aria-labelledby='{section}-heading'] a.doc-title");
        let mut ids = common::linked_ids(page, &css, "/");
        ids.sort_unstable();
        ids
    };
    for e in entities {
        let page = common::page(&site, &format!("organisations/{e}/"));
        assert_eq!(found(format!("sender={e}")), listed(&page, "sent"), "{e}");
        assert_eq!(
            found(format!("recipient={e}")),
            listed(&page, "received"),
            "{e}"
        );
        // The page lists the documents that mention the entity without being
        // filed under it; the filter finds all that mention it.
        let filed = found(format!("org={e}"));
        let mut mentioned: Vec<String> = found(format!("mentions={e}"))
            .into_iter()
            .filter(|id| !filed.contains(id))
            .collect();
        mentioned.sort_unstable();
        assert_eq!(mentioned, listed(&page, "mentioned"), "{e}");
    }
    // Pinned, so that an empty page and an empty filter cannot agree.
    assert_eq!(found("sender=edps".into()), ["mentions-2017"]);
    assert_eq!(
        found("recipient=europol".into()),
        ["linker-2019", "target-2016"]
    );
    assert_eq!(found("sender=europol".into()), ["sibling-2019"]);
    assert_eq!(found("recipient=edps".into()), ["linker-2019"]);
    assert_eq!(
        found("mentions=europol".into()),
        ["mentions-2017", "sibling-2019"]
    );
    assert_eq!(found("mentions=eu-lisa".into()), ["mentions-2017"]);
}

/// A document whose page lists only the newest of the documents linking to
/// it sends the reader to `?cites=` its id, which finds every one; a document
/// whose page lists them all has no such filter, and `facets.json` no facet.
#[test]
fn the_cites_filter_finds_every_document_a_cut_backlink_list_leaves_out() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("root");
    common::copy_dir(&common::fixture_path("crosslinks"), &root);
    let config = root.join("site.toml");
    let toml = std::fs::read_to_string(&config).unwrap();
    std::fs::write(&config, format!("{toml}document_list_limit = 1\n")).unwrap();
    let site = dir.path().join("site");
    build(&root, &site);
    let page = common::page(&site, "documents/target-2016/");
    let more = "section[aria-labelledby='backlinks-heading'] p.list-more a";
    let href = common::select(&page, more)[0]
        .value()
        .attr("href")
        .unwrap()
        .to_string();
    assert_eq!(href, "/search/?cites=target-2016");
    let answers = run_queries(&site, &["cites=target-2016", "cites=sibling-2019"]);
    let mut ids = answers[0].ids.clone();
    ids.sort_unstable();
    assert_eq!(ids, ["linker-2019", "mentions-2017", "sibling-2019"]);
    assert_eq!(answers[0].total, 3);
    // The sibling's page lists its one linking document itself.
    assert_eq!(answers[1].total, 0);
    let facets = |site: &Path| -> Vec<String> {
        let text = std::fs::read_to_string(site.join("search/facets.json")).unwrap();
        let json: serde_json::Value = serde_json::from_str(&text).unwrap();
        json["facets"]
            .as_array()
            .unwrap()
            .iter()
            .map(|f| f["param"].as_str().unwrap().to_string())
            .collect()
    };
    assert!(facets(&site).contains(&"cites".to_string()));
    std::fs::write(&config, toml).unwrap();
    let whole = dir.path().join("whole");
    build(&root, &whole);
    assert!(!facets(&whole).contains(&"cites".to_string()));
    assert!(facets(&whole).contains(&"mentions".to_string()));
}
