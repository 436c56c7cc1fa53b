//! Search: builds fixture archives and runs queries through the client's own query
//! module under node, asserting exact result sets.

use std::path::Path;
use std::time::Instant;

/// Loads, parses and links an archive the way `annals build` does.
fn archive(root: &Path) -> annals::archive::Archive {
    let config = annals::load::load_config(root).expect("site.toml");
    let (content, errors) = annals::load::load_content(root);
    assert!(errors.is_empty(), "{errors:?}");
    let documents: Vec<_> = content
        .documents
        .iter()
        .map(|s| annals::document::parse_document(s, &config).expect("valid document"))
        .collect();
    annals::archive::link(config, documents, &Default::default(), Vec::new()).expect("links")
}

/// Prints how long the index of a large archive takes to build and how big it is:
/// `ANNALS_SEARCH_BENCH=/tmp/corpus/annals cargo test --release --test search -- --ignored --nocapture`.
#[test]
#[ignore]
fn index_build_time() {
    let Ok(root) = std::env::var("ANNALS_SEARCH_BENCH") else {
        return;
    };
    let archive = archive(Path::new(&root));
    for run in 0..3 {
        let start = Instant::now();
        let files = annals::search::index_files(&archive);
        let elapsed = start.elapsed();
        let bytes: usize = files.iter().map(|f| f.bytes.len()).sum();
        let by = |prefix: &str| -> (usize, usize) {
            let f: Vec<_> = files
                .iter()
                .filter(|f| f.path.starts_with(prefix))
                .collect();
            (f.len(), f.iter().map(|f| f.bytes.len()).sum())
        };
        println!(
            "run {run}: {} documents indexed in {:.3} s: {} files, {} bytes; terms {:?} pairs {:?} docs {:?}",
            archive.documents.len(),
            elapsed.as_secs_f64(),
            files.len(),
            bytes,
            by("search/terms/"),
            by("search/pairs/"),
            by("search/docs/"),
        );
    }
}
