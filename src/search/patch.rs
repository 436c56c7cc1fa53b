//! Patching the live search index after body edits, instead of assembling it
//! again from every document.
//!
//! A body edit changes one document's entries: its weight in every posting
//! list it is in (its length moved), its neighbours and pairs, the word forms
//! only it had, and its snippet files. Everything else in the index is a
//! function of sums over the archive that one edit almost never moves: which
//! stems are common ([`index::is_common`]), the rounded average length, the
//! number of pair shards. So when those hold, the index is the live one with
//! the edited documents' old entries taken out of the shards that hold them
//! and their new entries put in; term shards whose entries changed are cut
//! again from where the cuts are known to hold (the term shards are cut by
//! key, so the cuts realign a shard or two later).
//!
//! The result is the same bytes as a full assembly of the edited archive; when
//! any of those sums would move (or the live index is not the one the stored
//! [`SearchState`] describes), [`patch`] says why not and the caller
//! assembles the index in full.
//!
//! What a patch needs besides the live files is a [`SearchState`], written
//! after every full assembly and every patch: each search file's SHA-256 (for
//! the manifest's build hash), the archive's [`Totals`], and how many
//! documents have each word form ([`FormCounts`]).

use super::analyse::{part_path, DocumentAnalysis};
use super::index::{self, Footprint, FormCounts, Totals};
use super::{encode, Manifest, FORMAT_VERSION};
use crate::render::OutputFile;
use rayon::prelude::*;
use sha2::{Digest, Sha256};
use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};

/// What the next patch starts from, for the index a build just wrote.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct SearchState {
    /// The manifest's build hash of the index this describes.
    pub build: String,
    /// How many documents it indexes.
    pub documents: usize,
    /// See [`Totals`].
    pub totals: Totals,
    /// Every search file but the manifest, in the order of the build hash,
    /// with the SHA-256 of its bytes.
    pub files: Vec<(String, [u8; 32])>,
    /// See [`FormCounts`].
    pub forms: FormCounts,
    /// The stems the index counts common ([`index::is_common`]), sorted. No
    /// patch changes them (one that would is refused), so that a patch knows
    /// which of an edited document's stems are rare without reading their
    /// lists.
    pub common: Vec<String>,
    /// Files' sizes and modification times in the live site, as they were
    /// once the build that wrote them had published the site (one per file of
    /// `files`; empty until then). A patch takes the files it does not read
    /// from the live site unless the staging folder (the site before it)
    /// holds the same bytes, and is refused if one of those has no stamp or
    /// changed since. So a full assembly stamps every file, and a patch only
    /// those it wrote: the others are the bytes of the site before, which is
    /// the next build's staging folder (see [`crate::output`]). Stamping all
    /// 16,600 files of a 10k-document index, and checking them, cost a body
    /// edit 50 ms of `stat` calls.
    pub stamps: Vec<Option<FileStamp>>,
}

/// A live file's size and modification time (nanoseconds since the epoch).
pub type FileStamp = (u64, i128);

/// The size and modification time of the file at `path`.
pub fn file_stamp(path: &std::path::Path) -> Option<FileStamp> {
    let meta = std::fs::metadata(path).ok()?;
    let modified = meta.modified().ok()?;
    let nanos = match modified.duration_since(std::time::UNIX_EPOCH) {
        Ok(d) => d.as_nanos() as i128,
        Err(e) => -(e.duration().as_nanos() as i128),
    };
    Some((meta.len(), nanos))
}

/// The stamps of the files at `paths` (relative to `site`), in parallel
/// (see [`crate::load::stat_each`]).
fn stamps_in(site: &std::path::Path, paths: &[&str]) -> Vec<Option<FileStamp>> {
    #[cfg(unix)]
    {
        let paths: Vec<&std::path::Path> = paths.iter().map(std::path::Path::new).collect();
        let stats = crate::load::stat_each(site, &paths).into_iter();
        stats
            .map(|stat| {
                let stat = stat?;
                let nanos =
                    i128::from(stat.st_mtime) * 1_000_000_000 + i128::from(stat.st_mtime_nsec);
                Some((u64::try_from(stat.st_size).ok()?, nanos))
            })
            .collect()
    }
    #[cfg(not(unix))]
    {
        paths
            .par_iter()
            .map(|path| file_stamp(&site.join(path)))
            .collect()
    }
}

impl SearchState {
    /// Records the stamps of the files in the site published at `site`:
    /// every file's, or with `only`, those of the files at these paths. A
    /// chosen file that cannot be stamped leaves the state none (the next
    /// build assembles the index in full).
    pub fn stamp(&mut self, site: &std::path::Path, only: Option<&HashSet<String>>) {
        let chosen: Vec<usize> = (self.files.iter().enumerate())
            .filter(|(_, (path, _))| only.is_none_or(|only| only.contains(path)))
            .map(|(i, _)| i)
            .collect();
        let paths: Vec<&str> = chosen.iter().map(|&i| self.files[i].0.as_str()).collect();
        let mut stamps = vec![None; self.files.len()];
        for (i, stamp) in chosen.into_iter().zip(stamps_in(site, &paths)) {
            match stamp {
                Some(stamp) => stamps[i] = Some(stamp),
                None => {
                    self.stamps = Vec::new();
                    return;
                }
            }
        }
        self.stamps = stamps;
    }

    /// Whether each file at `paths` in the site at `site` is still as it was
    /// stamped (a file without a stamp is not).
    pub fn unchanged_in(&self, site: &std::path::Path, paths: &HashSet<&str>) -> bool {
        if paths.is_empty() {
            return true;
        }
        if self.stamps.len() != self.files.len() {
            return false;
        }
        let wanted: Vec<(&str, Option<FileStamp>)> = (self.files.iter().zip(&self.stamps))
            .filter(|((path, _), _)| paths.contains(path.as_str()))
            .map(|((path, _), stamp)| (path.as_str(), *stamp))
            .collect();
        let names: Vec<&str> = wanted.iter().map(|(path, _)| *path).collect();
        wanted.len() == paths.len()
            && (stamps_in(site, &names).into_iter().zip(&wanted))
                .all(|(now, (_, then))| now.is_some() && now == *then)
    }
}

/// One edited document: its number in the archive, and its analyses before
/// and after the edit.
pub struct Change<'a> {
    /// The document's number.
    pub doc: usize,
    /// Its analysis in the live index.
    pub old: &'a DocumentAnalysis,
    /// Its analysis now.
    pub new: &'a DocumentAnalysis,
}

/// A file of the patched index, in the order of the build hash.
#[derive(Debug, Clone, PartialEq)]
pub enum PatchedFile {
    /// The live file, unchanged: its site path and SHA-256.
    Kept(String, [u8; 32]),
    /// A new or changed file, with its SHA-256.
    Written(OutputFile, [u8; 32]),
}

impl PatchedFile {
    /// The file's site path.
    pub fn path(&self) -> &str {
        match self {
            PatchedFile::Kept(path, _) => path,
            PatchedFile::Written(file, _) => &file.path,
        }
    }

    /// The SHA-256 of its bytes.
    pub fn sha256(&self) -> &[u8; 32] {
        match self {
            PatchedFile::Kept(_, sha) | PatchedFile::Written(_, sha) => sha,
        }
    }
}

/// The patched index: every file but the manifest, the manifest, and the
/// state for the next patch.
#[derive(Debug)]
pub struct Patched {
    /// Every file but the manifest, in the order of the build hash.
    pub files: Vec<PatchedFile>,
    /// `search/manifest.json`.
    pub manifest: OutputFile,
    /// What the next patch starts from.
    pub state: SearchState,
}

/// The manifest as the live site has it.
#[derive(serde::Deserialize)]
struct LiveManifest {
    version: u32,
    build: String,
    documents: usize,
    terms: Vec<String>,
    pairs: usize,
    max_word: usize,
}

/// A term shard's key: its postings as a stem (the JSON text of the list), and
/// its stems as a word form.
#[derive(Debug, Clone, Default, PartialEq)]
struct Term {
    postings: Option<String>,
    words: Option<Vec<String>>,
}

#[derive(serde::Deserialize)]
struct TermShardFile {
    stems: BTreeMap<String, Vec<String>>,
    words: BTreeMap<String, Vec<String>>,
}

/// A document's entry in a posting list; its neighbours' text is borrowed
/// from the list's live text or from the analysis (a common stem's list has
/// thousands of entries, each read and written again by an edit).
#[derive(Debug, Clone, PartialEq)]
struct Posting<'t> {
    doc: u32,
    weight: u8,
    part: u16,
    near: &'t str,
}

/// Why a patch was not made (the index is then assembled in full).
pub type Refusal = String;

/// Patches the live index (`live` reads one of its files by site path) for
/// `changes` in an archive of `documents` documents whose last full assembly
/// or patch left `state`. Every document's analysis other than the changed
/// ones must be the one the live index was made from.
pub fn patch(
    state: &SearchState,
    live: &(dyn Fn(&str) -> Option<Vec<u8>> + Sync),
    documents: usize,
    changes: &[Change<'_>],
    facets: impl FnOnce() -> OutputFile,
) -> Result<Patched, Refusal> {
    let manifest_bytes = live("search/manifest.json").ok_or("no live manifest")?;
    let manifest: LiveManifest =
        serde_json::from_slice(&manifest_bytes).map_err(|e| format!("live manifest: {e}"))?;
    if manifest.version != FORMAT_VERSION
        || manifest.build != state.build
        || manifest.documents != documents
        || state.documents != documents
        || manifest.max_word != super::text::MAX_WORD_CHARS
    {
        return Err("the live index is not the one the state describes".into());
    }
    if manifest.terms.first().map(String::as_str) != Some("") {
        return Err("the live manifest's first term shard is not the first".into());
    }
    let mut seen = BTreeSet::new();
    if !changes
        .iter()
        .all(|c| c.doc < documents && seen.insert(c.doc))
    {
        return Err("a change names a document twice or past the last".into());
    }
    // The average length must stay where it was.
    let mut total = state.totals.length;
    for c in changes {
        total += f64::from(c.new.length) - f64::from(c.old.length);
    }
    let average = index::average_length(state.totals.length, documents);
    if index::average_length(total, documents) != average {
        return Err("the average length moved".into());
    }

    let mut terms = TermShards::new(&manifest.terms, state, live)?;
    // How many more or fewer documents have each stem of the changes.
    let mut df_change: BTreeMap<&str, i64> = BTreeMap::new();
    for c in changes {
        for s in distinct(index::stem_keys(c.old)) {
            *df_change.entry(s).or_default() -= 1;
        }
        for s in distinct(index::stem_keys(c.new)) {
            *df_change.entry(s).or_default() += 1;
        }
    }
    // No stem may turn common or rare: the lists of those whose count moves
    // are read to check it (and that the state counts them as the live
    // index does); the others stay as the state counts them.
    let common = |key: &str| {
        state
            .common
            .binary_search_by(|c| c.as_str().cmp(key))
            .is_ok()
    };
    let moved: Vec<(&str, i64)> = df_change
        .iter()
        .filter(|(_, change)| **change != 0)
        .map(|(key, change)| (*key, *change))
        .collect();
    terms.load_for(moved.iter().map(|(key, _)| *key))?;
    for &(key, change) in &moved {
        let df = terms.df(key)?;
        if index::is_common(df, documents) != common(key) {
            return Err(format!(
                "the state counts `{key}` otherwise than the live index"
            ));
        }
        let after =
            usize::try_from(df as i64 + change).map_err(|_| "a stem's count fell below zero")?;
        if index::is_common(df, documents) != index::is_common(after, documents) {
            return Err(format!("`{key}` turned common or rare"));
        }
    }
    let rare = |key: &str| !common(key);
    let footprints: Vec<(usize, Footprint, Footprint)> = changes
        .iter()
        .map(|c| {
            (
                c.doc,
                index::footprint(c.old, &rare, average),
                index::footprint(c.new, &rare, average),
            )
        })
        .collect();

    // Stems: each list loses the document's old entry and gains its new one,
    // unless the two are the same (most of an edited document's weights come
    // out as they were): only the lists that change are read. Lists are
    // independent, so they are edited in parallel.
    let stems: Vec<_> = footprints
        .iter()
        .map(|(doc, old, new)| (*doc, differing(&old.stems, &new.stems)))
        .collect();
    let stem_edits = edits(
        (stems.iter()).flat_map(|(doc, (gone, _))| gone.iter().map(|s| (s.0.as_str(), *doc))),
        stems.iter().flat_map(|(doc, (_, come))| {
            come.iter().map(|(key, weight, part, near)| {
                let posting = Posting {
                    doc: *doc as u32,
                    weight: *weight,
                    part: *part,
                    near: near.as_str(),
                };
                (key.as_str(), posting)
            })
        }),
    );
    terms.load_for(stem_edits.keys().copied())?;
    let edited: Vec<(&str, Option<String>)> = stem_edits
        .par_iter()
        .map(|(key, edit)| {
            let live = terms.entry(key).and_then(|t| t.postings.as_deref());
            Ok((*key, edit.apply(key, live)?))
        })
        .collect::<Result<_, Refusal>>()?;
    for (key, postings) in edited {
        terms.set_postings(key, postings);
    }
    // Word forms: an entry goes when the last document with it loses it, and
    // comes with the first.
    let mut form_change: BTreeMap<(String, String), i64> = BTreeMap::new();
    for (_, old, new) in &footprints {
        for f in &old.forms {
            *form_change.entry(f.clone()).or_default() -= 1;
        }
        for f in &new.forms {
            *form_change.entry(f.clone()).or_default() += 1;
        }
    }
    let mut flipped: Vec<(&str, &str, bool)> = Vec::new();
    for ((word, stem), &change) in &form_change {
        let before = i64::from(state.forms.count(word, stem));
        let after = before + change;
        if after < 0 {
            return Err(format!("the count of `{word}` fell below zero"));
        }
        if (before > 0) != (after > 0) {
            flipped.push((word, stem, after > 0));
        }
    }
    terms.load_for(flipped.iter().map(|(word, _, _)| *word))?;
    for (word, stem, present) in flipped {
        terms.set_form(word, stem, present)?;
    }
    let forms = state
        .forms
        .with_changes(&form_change)
        .ok_or("a form's count fell below zero")?;
    let (term_files, first_keys) = terms.cut()?;

    // Pairs of common words, the same way.
    let mut pairs = PairShards::new(manifest.pairs, state, live)?;
    let pair_changes: Vec<_> = footprints
        .iter()
        .map(|(doc, old, new)| (*doc, differing(&old.pairs, &new.pairs)))
        .collect();
    let pair_edits = edits(
        (pair_changes.iter())
            .flat_map(|(doc, (gone, _))| gone.iter().map(|p| (p.0.as_str(), *doc))),
        pair_changes.iter().flat_map(|(doc, (_, come))| {
            come.iter().map(|(key, weight, part)| {
                let posting = Posting {
                    doc: *doc as u32,
                    weight: *weight,
                    part: *part,
                    near: "",
                };
                (key.as_str(), posting)
            })
        }),
    );
    if let Some(key) = pair_edits.keys().find(|k| !ordered_pair(k)) {
        return Err(format!("`{key}` is not two plain words"));
    }
    pairs.load_for(pair_edits.keys().copied())?;
    let edited: Vec<(&str, Option<String>)> = pair_edits
        .par_iter()
        .map(|(key, edit)| Ok((*key, edit.apply(key, pairs.get(key))?)))
        .collect::<Result<_, Refusal>>()?;
    let mut pair_bytes = state.totals.pair_bytes as i64;
    for (key, postings) in edited {
        pair_bytes += pairs.set(key, postings);
    }
    let pair_bytes = u64::try_from(pair_bytes).map_err(|_| "pair bytes fell below zero")?;
    if index::pair_shard_count(pair_bytes as usize) != manifest.pairs {
        return Err("the number of pair shards changed".into());
    }

    // Every file, in the build hash's order: term shards, pair shards,
    // facets, snippet files by document.
    let mut files: Vec<PatchedFile> = term_files;
    let old_pairs = state
        .files
        .iter()
        .filter(|(p, _)| p.starts_with("search/pairs/"));
    for (n, (path, sha)) in old_pairs.enumerate() {
        if *path != format!("search/pairs/{n}.json") {
            return Err("the state's pair shards are out of order".into());
        }
        files.push(match pairs.changed.remove(&n) {
            Some(shard) => match written(path.clone(), pair_shard_bytes(&shard)) {
                same if same.sha256() == sha => PatchedFile::Kept(path.clone(), *sha),
                changed => changed,
            },
            None => PatchedFile::Kept(path.clone(), *sha),
        });
    }
    if !pairs.changed.is_empty() {
        return Err("a pair shard is missing from the state".into());
    }
    // The facets, made again: a body's mentions of entities are one.
    let old_facets = (state.files.iter()).find(|(path, _)| path == super::FACETS_FILE);
    let Some((_, old_sha)) = old_facets else {
        return Err("the state has no facets file".into());
    };
    let facets = facets();
    files.push(match written(facets.path, facets.bytes) {
        same if same.sha256() == old_sha => PatchedFile::Kept(same.path().to_string(), *old_sha),
        changed => changed,
    });
    let new_parts: HashMap<usize, &DocumentAnalysis> =
        changes.iter().map(|c| (c.doc, c.new)).collect();
    let mut done_parts = BTreeSet::new();
    for (path, sha) in &state.files {
        let Some(doc) = snippet_doc(path) else {
            continue;
        };
        match new_parts.get(&doc) {
            None => files.push(PatchedFile::Kept(path.clone(), *sha)),
            Some(analysis) => {
                if done_parts.insert(doc) {
                    for (p, bytes) in analysis.parts.iter().enumerate() {
                        files.push(written(part_path(doc, p), bytes.clone()));
                    }
                }
            }
        }
    }
    if done_parts.len() != changes.len() {
        return Err("a changed document has no snippet files in the state".into());
    }
    let digests: Vec<[u8; 32]> = files
        .par_iter()
        .map(|f| super::digest(f.path(), f.sha256()))
        .collect();
    let mut hash = Sha256::new();
    for d in &digests {
        hash.update(d);
    }
    let build = crate::load::hex(&hash.finalize()[..8]);
    let manifest = Manifest {
        version: FORMAT_VERSION,
        build: build.clone(),
        documents,
        terms: first_keys,
        pairs: manifest.pairs,
        max_word: super::text::MAX_WORD_CHARS,
    };
    let manifest = OutputFile {
        path: "search/manifest.json".into(),
        bytes: serde_json::to_vec(&manifest).unwrap_or_default(),
    };
    let state = SearchState {
        build,
        documents,
        totals: Totals {
            length: total,
            pair_bytes,
        },
        files: files
            .iter()
            .map(|f| (f.path().to_string(), *f.sha256()))
            .collect(),
        forms,
        common: state.common.clone(),
        stamps: Vec::new(),
    };
    Ok(Patched {
        files,
        manifest,
        state,
    })
}

/// The distinct items of a list, sorted.
fn distinct<'a>(items: impl Iterator<Item = &'a str>) -> BTreeSet<&'a str> {
    items.collect()
}

/// What happens to one posting list: the documents whose entries go, and the
/// entries that come.
#[derive(Default)]
struct ListEdit<'t> {
    gone: Vec<usize>,
    come: Vec<Posting<'t>>,
}

impl ListEdit<'_> {
    /// The list's JSON text after the edit (`None` if no document is left),
    /// from its live text.
    fn apply(&self, key: &str, live: Option<&str>) -> Result<Option<String>, Refusal> {
        let mut list = match live {
            None => Vec::new(),
            Some(text) => {
                decode_postings(text).ok_or_else(|| format!("`{key}`'s list is malformed"))?
            }
        };
        for &doc in &self.gone {
            remove_doc(&mut list, doc, key)?;
        }
        for posting in &self.come {
            let at = list.partition_point(|p| p.doc < posting.doc);
            if list.get(at).is_some_and(|p| p.doc == posting.doc) {
                return Err(format!("`{key}` lists a document twice"));
            }
            list.insert(at, posting.clone());
        }
        Ok((!list.is_empty()).then(|| encode_postings(&list)))
    }
}

/// The edits of the lists, by key, from the entries that go (key, document)
/// and those that come (key, entry).
fn edits<'a>(
    gone: impl Iterator<Item = (&'a str, usize)>,
    come: impl Iterator<Item = (&'a str, Posting<'a>)>,
) -> BTreeMap<&'a str, ListEdit<'a>> {
    let mut out: BTreeMap<&str, ListEdit> = BTreeMap::new();
    for (key, doc) in gone {
        out.entry(key).or_default().gone.push(doc);
    }
    for (key, posting) in come {
        out.entry(key).or_default().come.push(posting);
    }
    out
}

/// A document's entries before that are not among its entries after, and
/// those after that are not among those before.
fn differing<'a, T: Eq + std::hash::Hash>(old: &'a [T], new: &'a [T]) -> (Vec<&'a T>, Vec<&'a T>) {
    let before: std::collections::HashSet<&T> = old.iter().collect();
    let after: std::collections::HashSet<&T> = new.iter().collect();
    (
        old.iter().filter(|e| !after.contains(e)).collect(),
        new.iter().filter(|e| !before.contains(e)).collect(),
    )
}

/// Takes document `doc`'s entry out of `key`'s list, which must have one.
fn remove_doc(list: &mut Vec<Posting<'_>>, doc: usize, key: &str) -> Result<(), Refusal> {
    let at = list.partition_point(|p| (p.doc as usize) < doc);
    match list.get(at) {
        Some(p) if p.doc as usize == doc => {
            list.remove(at);
            Ok(())
        }
        _ => Err(format!("`{key}` does not list document {doc}")),
    }
}

/// The live file at `path`, which must hash to `sha` (the state's record of
/// it).
fn read_checked(
    live: &(dyn Fn(&str) -> Option<Vec<u8>> + Sync),
    path: &str,
    sha: Option<&[u8; 32]>,
) -> Result<Vec<u8>, Refusal> {
    let bytes = live(path).ok_or_else(|| format!("{path} cannot be read"))?;
    let digest: [u8; 32] = Sha256::digest(&bytes).into();
    if sha != Some(&digest) {
        return Err(format!("{path} is not the one the state describes"));
    }
    Ok(bytes)
}

/// `read` of every shard number in `wanted`, in parallel.
fn in_parallel<T: Send>(
    wanted: BTreeSet<usize>,
    read: impl Fn(usize) -> Result<T, Refusal> + Sync,
) -> Result<Vec<(usize, T)>, Refusal> {
    wanted.into_par_iter().map(|n| Ok((n, read(n)?))).collect()
}

/// A new file with its SHA-256.
fn written(path: String, bytes: Vec<u8>) -> PatchedFile {
    let sha: [u8; 32] = Sha256::digest(&bytes).into();
    PatchedFile::Written(OutputFile { path, bytes }, sha)
}

/// The document of a snippet file's path (`search/docs/<doc>-<part>.json`).
fn snippet_doc(path: &str) -> Option<usize> {
    let name = path.strip_prefix("search/docs/")?.strip_suffix(".json")?;
    name.split_once('-')?.0.parse().ok()
}

/// Whether a list's item is digits of [`encode::ALPHABET`] only, so that its
/// JSON text is the digits in quotes.
fn plain(item: &str) -> bool {
    item.bytes().all(|b| encode::digit_value(b).is_some())
}

/// The JSON text of a list as the live shard has it.
fn list_text(items: &[String]) -> Option<String> {
    if !(3..=4).contains(&items.len()) || !items.iter().all(|i| plain(i)) {
        return None;
    }
    let mut out = String::from("[");
    for (i, item) in items.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        out.push('"');
        out.push_str(item);
        out.push('"');
    }
    out.push(']');
    Some(out)
}

/// Reads one number of [`encode::push_number`] at `at`.
fn read_number(bytes: &[u8], at: &mut usize) -> Option<u64> {
    let mut n: u64 = 0;
    loop {
        let b = *bytes.get(*at)?;
        *at += 1;
        let v = u64::from(encode::digit_value(b)?);
        n = n.checked_mul(32)? + (v & 31);
        if v < 32 {
            return Some(n);
        }
    }
}

/// The items of a list's JSON text as [`list_text`] makes it: digits in
/// quotes, separated by commas, in brackets.
fn list_items(text: &str) -> Option<Vec<&str>> {
    let inner = text.strip_prefix('[')?.strip_suffix(']')?;
    let items: Vec<&str> = inner
        .split(',')
        .map(|item| item.strip_prefix('"')?.strip_suffix('"'))
        .collect::<Option<_>>()?;
    (3..=4).contains(&items.len()).then_some(items)
}

/// How many documents a list's JSON text holds: the numbers of its first
/// item (a digit below 32 ends one).
fn list_len(text: &str) -> Option<usize> {
    let docs = list_items(text)?[0];
    let mut count = 0;
    for b in docs.bytes() {
        if encode::digit_value(b)? < 32 {
            count += 1;
        }
    }
    Some(count)
}

/// A posting list from its JSON text (see [`index::push_postings`]).
fn decode_postings(text: &str) -> Option<Vec<Posting<'_>>> {
    let items = list_items(text)?;
    let docs = encode::decode_ascending(items[0])?;
    let weights: Vec<u8> = items[1]
        .bytes()
        .map(encode::digit_value)
        .collect::<Option<_>>()?;
    let parts = match items[2].is_empty() {
        true => vec![0; docs.len()],
        false => encode::decode_numbers(items[2])?,
    };
    if weights.len() != docs.len() || parts.len() != docs.len() {
        return None;
    }
    let mut near = vec![""; docs.len()];
    if let Some(text) = items.get(3) {
        let bytes = text.as_bytes();
        let mut at = 0;
        for piece in &mut near {
            let start = at;
            let count = read_number(bytes, &mut at)?;
            at = at.checked_add(usize::try_from(count).ok()?.checked_mul(4)?)?;
            *piece = text.get(start..at)?;
        }
        if at != bytes.len() {
            return None;
        }
    }
    docs.into_iter()
        .zip(weights)
        .zip(parts)
        .zip(near)
        .map(|(((doc, weight), part), near)| {
            Some(Posting {
                doc: u32::try_from(doc).ok()?,
                weight,
                part: u16::try_from(part).ok()?,
                near,
            })
        })
        .collect()
}

fn encode_postings(list: &[Posting<'_>]) -> String {
    let mut out = String::new();
    index::push_postings(
        &mut out,
        list.iter().map(|p| (p.doc, p.weight, p.part)),
        list.iter().map(|p| p.near),
    );
    out
}

/// The live term shards, read as they are needed, and the changes to them.
struct TermShards<'a> {
    first_keys: Vec<String>,
    names: Vec<String>,
    /// Each shard's SHA-256, from the state.
    shas: Vec<[u8; 32]>,
    live: &'a (dyn Fn(&str) -> Option<Vec<u8>> + Sync),
    /// Shards read so far, by number.
    read: BTreeMap<usize, BTreeMap<String, Term>>,
    /// Shards with a changed entry.
    changed: BTreeSet<usize>,
}

impl<'a> TermShards<'a> {
    fn new(
        first_keys: &[String],
        state: &SearchState,
        live: &'a (dyn Fn(&str) -> Option<Vec<u8>> + Sync),
    ) -> Result<Self, Refusal> {
        let mut namer = index::ShardNamer::default();
        let names: Vec<String> = first_keys.iter().map(|k| namer.next(k)).collect();
        let listed: Vec<&(String, [u8; 32])> = state
            .files
            .iter()
            .filter(|(p, _)| p.starts_with("search/terms/"))
            .collect();
        if listed.len() != names.len()
            || listed
                .iter()
                .zip(&names)
                .any(|((p, _), n)| *p != format!("search/terms/{n}.json"))
        {
            return Err("the state's term shards are not the manifest's".into());
        }
        Ok(TermShards {
            first_keys: first_keys.to_vec(),
            names,
            shas: listed.iter().map(|(_, sha)| *sha).collect(),
            live,
            read: BTreeMap::new(),
            changed: BTreeSet::new(),
        })
    }

    fn path(&self, n: usize) -> String {
        format!("search/terms/{}.json", self.names[n])
    }

    /// Reads shard `n` if it is not yet.
    fn load(&mut self, n: usize) -> Result<(), Refusal> {
        if !self.read.contains_key(&n) {
            let entries = self.read_shard(n)?;
            self.read.insert(n, entries);
        }
        Ok(())
    }

    /// Shard `n`'s entries, read from the live site and checked against the
    /// state.
    fn read_shard(&self, n: usize) -> Result<BTreeMap<String, Term>, Refusal> {
        let path = self.path(n);
        let bytes = read_checked(self.live, &path, self.shas.get(n))?;
        let file: TermShardFile =
            serde_json::from_slice(&bytes).map_err(|e| format!("{path}: {e}"))?;
        let mut entries: BTreeMap<String, Term> = BTreeMap::new();
        for (key, items) in file.stems {
            let text = list_text(&items).ok_or_else(|| format!("{path}: `{key}` is malformed"))?;
            entries.entry(key).or_default().postings = Some(text);
        }
        for (key, stems) in file.words {
            entries.entry(key).or_default().words = Some(stems);
        }
        Ok(entries)
    }

    fn shard_of(&self, key: &str) -> usize {
        index::term_shard(&self.first_keys, key)
    }

    /// Reads the shards of `keys`, in parallel.
    fn load_for<'k>(&mut self, keys: impl Iterator<Item = &'k str>) -> Result<(), Refusal> {
        let wanted: BTreeSet<usize> = keys
            .map(|k| self.shard_of(k))
            .filter(|n| !self.read.contains_key(n))
            .collect();
        let read = in_parallel(wanted, |n| self.read_shard(n))?;
        self.read.extend(read);
        Ok(())
    }

    fn entry(&self, key: &str) -> Option<&Term> {
        self.read.get(&self.shard_of(key))?.get(key)
    }

    /// The number of documents `key`'s list holds (0 if none).
    fn df(&self, key: &str) -> Result<usize, Refusal> {
        match self.entry(key).and_then(|t| t.postings.as_deref()) {
            None => Ok(0),
            Some(text) => list_len(text).ok_or_else(|| format!("`{key}`'s list is malformed")),
        }
    }

    fn entry_mut(&mut self, key: &str) -> Result<&mut Term, Refusal> {
        let n = self.shard_of(key);
        self.changed.insert(n);
        let shard = self
            .read
            .get_mut(&n)
            .ok_or_else(|| format!("the shard of `{key}` was not read"))?;
        Ok(shard.entry(key.to_string()).or_default())
    }

    /// Sets `key`'s postings; a shard is changed only if they differ (most of
    /// an edited document's weights come out as they were).
    fn set_postings(&mut self, key: &str, postings: Option<String>) {
        if self.entry(key).and_then(|t| t.postings.as_ref()) == postings.as_ref() {
            return;
        }
        if let Ok(term) = self.entry_mut(key) {
            term.postings = postings;
        }
    }

    /// Adds `stem` to `word`'s stems, or removes it.
    fn set_form(&mut self, word: &str, stem: &str, present: bool) -> Result<(), Refusal> {
        let term = self.entry_mut(word)?;
        let stems = term.words.get_or_insert_with(Vec::new);
        let at = stems.partition_point(|s| s.as_str() < stem);
        let there = stems.get(at).is_some_and(|s| s == stem);
        match (present, there) {
            (true, false) => stems.insert(at, stem.to_string()),
            (false, true) => {
                stems.remove(at);
            }
            _ => return Err(format!("`{word}`'s stems disagree with the counts")),
        }
        if stems.is_empty() {
            term.words = None;
        }
        Ok(())
    }

    /// The term shards after the changes, cut again where they changed.
    fn cut(mut self) -> Result<(Vec<PatchedFile>, Vec<String>), Refusal> {
        let count = self.first_keys.len();
        let changed = self.changed.clone();
        // A shard's end depends on the entries after it: the one before a
        // changed shard is cut again too.
        let dirty = |n: usize| changed.contains(&n) || changed.contains(&(n + 1));
        enum Shard {
            Kept(usize),
            New(Vec<(String, Term)>),
        }
        let mut out: Vec<Shard> = Vec::new();
        let mut cutter = index::ShardCutter::default();
        let mut open: Vec<(String, Term)> = Vec::new();
        let mut n = 0;
        while n < count {
            if open.is_empty() && !dirty(n) {
                out.push(Shard::Kept(n));
                n += 1;
                continue;
            }
            self.load(n)?;
            let entries: Vec<(String, Term)> = self
                .read
                .remove(&n)
                .unwrap_or_default()
                .into_iter()
                .filter(|(_, t)| t.postings.is_some() || t.words.is_some())
                .collect();
            let mut entries = entries.into_iter().peekable();
            // An unchanged shard that the open one ends before is the live
            // one from there on, unless the shard after it changed.
            if !dirty(n) {
                if let Some((key, term)) = entries.peek() {
                    if cutter.starts_shard(key, entry_len(key, term)) {
                        out.push(Shard::New(std::mem::take(&mut open)));
                        cutter = index::ShardCutter::default();
                        out.push(Shard::Kept(n));
                        n += 1;
                        continue;
                    }
                    let (key, term) = entries.next().ok_or("unreachable")?;
                    open.push((key, term));
                }
            }
            for (key, term) in entries {
                if cutter.starts_shard(&key, entry_len(&key, &term)) {
                    out.push(Shard::New(std::mem::take(&mut open)));
                }
                open.push((key, term));
            }
            n += 1;
        }
        if !open.is_empty() {
            out.push(Shard::New(open));
        }
        if out.is_empty() {
            return Err("the index would have no term shard".into());
        }
        let mut namer = index::ShardNamer::default();
        let first_keys: Vec<String> = out
            .iter()
            .enumerate()
            .map(|(i, shard)| match (shard, i) {
                (_, 0) => String::new(),
                (Shard::Kept(n), _) => self.first_keys[*n].clone(),
                (Shard::New(entries), _) => {
                    entries.first().map(|e| e.0.clone()).unwrap_or_default()
                }
            })
            .collect();
        let names: Vec<String> = first_keys.iter().map(|k| namer.next(k)).collect();
        let live_names: HashMap<&str, usize> = (self.names.iter())
            .enumerate()
            .map(|(n, name)| (name.as_str(), n))
            .collect();
        // The new shards' text made in parallel.
        let files = out
            .into_par_iter()
            .zip(names)
            .map(|(shard, name)| {
                let path = format!("search/terms/{name}.json");
                Ok(match shard {
                    Shard::Kept(n) if self.names[n] == name => {
                        PatchedFile::Kept(path, self.shas[n])
                    }
                    Shard::Kept(n) => written(
                        path,
                        read_checked(self.live, &self.path(n), self.shas.get(n))?,
                    ),
                    Shard::New(entries) => {
                        let file = written(path, term_shard_bytes(&entries));
                        // Cut again the same way, with the same entries.
                        match live_names.get(name.as_str()) {
                            Some(&n) if self.shas[n] == *file.sha256() => {
                                PatchedFile::Kept(file.path().to_string(), self.shas[n])
                            }
                            _ => file,
                        }
                    }
                })
            })
            .collect::<Result<Vec<_>, Refusal>>()?;
        Ok((files, first_keys))
    }
}

fn entry_len(key: &str, term: &Term) -> usize {
    let stems: Option<Vec<&str>> = term
        .words
        .as_ref()
        .map(|w| w.iter().map(String::as_str).collect());
    index::term_entry_len(&(key, term.postings.as_deref(), stems.as_deref()))
}

fn term_shard_bytes(entries: &[(String, Term)]) -> Vec<u8> {
    let stems: Vec<Option<Vec<&str>>> = entries
        .iter()
        .map(|(_, t)| {
            t.words
                .as_ref()
                .map(|w| w.iter().map(String::as_str).collect())
        })
        .collect();
    let entries: Vec<index::TermEntry<'_>> = entries
        .iter()
        .zip(&stems)
        .map(|((key, term), stems)| (key.as_str(), term.postings.as_deref(), stems.as_deref()))
        .collect();
    index::term_shard_json(&entries)
}

/// The live pair shards, read as they are needed, and the changed ones.
struct PairShards<'a> {
    count: usize,
    /// Each shard's SHA-256, from the state.
    shas: Vec<[u8; 32]>,
    live: &'a (dyn Fn(&str) -> Option<Vec<u8>> + Sync),
    changed: BTreeMap<usize, BTreeMap<String, String>>,
}

impl<'a> PairShards<'a> {
    fn new(
        count: usize,
        state: &SearchState,
        live: &'a (dyn Fn(&str) -> Option<Vec<u8>> + Sync),
    ) -> Result<Self, Refusal> {
        let shas: Vec<[u8; 32]> = state
            .files
            .iter()
            .filter(|(p, _)| p.starts_with("search/pairs/"))
            .map(|(_, sha)| *sha)
            .collect();
        if shas.len() != count {
            return Err("the state's pair shards are not the manifest's".into());
        }
        Ok(PairShards {
            count,
            shas,
            live,
            changed: BTreeMap::new(),
        })
    }

    fn number(&self, key: &str) -> usize {
        (index::fnv1a(key) as usize) % self.count.max(1)
    }

    /// Shard `n`, read from the live site and checked against the state.
    fn read_shard(&self, n: usize) -> Result<BTreeMap<String, String>, Refusal> {
        let path = format!("search/pairs/{n}.json");
        let bytes = read_checked(self.live, &path, self.shas.get(n))?;
        let file: BTreeMap<String, Vec<String>> =
            serde_json::from_slice(&bytes).map_err(|e| format!("{path}: {e}"))?;
        let mut shard = BTreeMap::new();
        for (pair, items) in file {
            // Written in order of (first word, second word): the order of
            // the strings, if each is two words without a space.
            if !ordered_pair(&pair) {
                return Err(format!("{path}: `{pair}` is not two plain words"));
            }
            let text = list_text(&items).ok_or_else(|| format!("{path}: `{pair}` is malformed"))?;
            shard.insert(pair, text);
        }
        Ok(shard)
    }

    /// Reads the shards of `keys`, in parallel.
    fn load_for<'k>(&mut self, keys: impl Iterator<Item = &'k str>) -> Result<(), Refusal> {
        let wanted: BTreeSet<usize> = keys
            .map(|k| self.number(k))
            .filter(|n| !self.changed.contains_key(n))
            .collect();
        let read = in_parallel(wanted, |n| self.read_shard(n))?;
        self.changed.extend(read);
        Ok(())
    }

    fn shard(&mut self, key: &str) -> Result<&mut BTreeMap<String, String>, Refusal> {
        let n = self.number(key);
        if !self.changed.contains_key(&n) {
            let shard = self.read_shard(n)?;
            self.changed.insert(n, shard);
        }
        self.changed.get_mut(&n).ok_or_else(|| "unreachable".into())
    }

    /// A pair's live postings (its shard must have been read).
    fn get(&self, key: &str) -> Option<&str> {
        self.changed
            .get(&self.number(key))?
            .get(key)
            .map(String::as_str)
    }

    /// Sets a pair's postings (`None`: no document has it); returns the change
    /// in the pairs' bytes.
    fn set(&mut self, key: &str, postings: Option<String>) -> i64 {
        let size = |text: &str| (key.len() + text.len() + 8) as i64;
        let Ok(shard) = self.shard(key) else {
            return 0;
        };
        let before = shard.get(key).map_or(0, |t| size(t));
        let after = postings.as_deref().map_or(0, size);
        match postings {
            Some(text) => {
                shard.insert(key.to_string(), text);
            }
            None => {
                shard.remove(key);
            }
        }
        after - before
    }
}

/// Whether a pair key is two words with one space between and nothing at or
/// below a space in them, so that the order of the keys as strings is the
/// order of (first word, second word).
fn ordered_pair(key: &str) -> bool {
    key.bytes().filter(|&b| b == b' ').count() == 1 && key.bytes().all(|b| b >= b' ')
}

fn pair_shard_bytes(shard: &BTreeMap<String, String>) -> Vec<u8> {
    let entries: Vec<(&str, &str)> = shard
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    index::pair_shard_json(&entries)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn posting(doc: u32, weight: u8, part: u16, near: &str) -> Posting<'_> {
        Posting {
            doc,
            weight,
            part,
            near,
        }
    }

    #[test]
    fn posting_lists_read_back_as_the_assembly_writes_them() {
        let lists = [
            vec![posting(0, 63, 0, ""), posting(5, 1, 0, "")],
            vec![posting(3, 20, 2, ""), posting(40_000, 7, 0, "")],
            // Rare stems: a count of neighbour pairs, then four digits each.
            vec![posting(1, 9, 0, "BAAAB"), posting(2, 9, 1, "CAAABABAC")],
        ];
        for list in lists {
            let text = encode_postings(&list);
            assert_eq!(decode_postings(&text), Some(list.clone()), "{text}");
            assert_eq!(list_len(&text), Some(list.len()));
            // The JSON text of a list is the assembly's, item for item.
            let items: Vec<String> = serde_json::from_str(&text).unwrap();
            assert_eq!(list_text(&items).as_deref(), Some(text.as_str()));
        }
        // Malformed lists are refused, not misread.
        for bad in [
            "",
            "[]",
            "[\"A\"]",
            "[\"A\",\"BB\",\"\"]",
            "[\"A\",\"B\",\"\",\"C\"]",
        ] {
            assert_eq!(decode_postings(bad), None, "{bad}");
        }
        assert_eq!(list_text(&["A\"".into(), "B".into(), "".into()]), None);
    }

    #[test]
    fn numbers_read_one_at_a_time() {
        let mut text = String::new();
        for n in [0, 31, 32, 1_000_000] {
            encode::push_number(&mut text, n);
        }
        let mut at = 0;
        let read: Vec<u64> = std::iter::from_fn(|| read_number(text.as_bytes(), &mut at)).collect();
        assert_eq!(read, [0, 31, 32, 1_000_000]);
        assert_eq!(read_number(b"h", &mut 0), None, "a number cut short");
    }

    #[test]
    fn pair_keys_and_snippet_paths_are_recognised() {
        assert!(ordered_pair("member states"));
        assert!(!ordered_pair("member"));
        assert!(!ordered_pair("a b c"));
        assert!(!ordered_pair("a\tb c"));
        assert_eq!(snippet_doc("search/docs/12-3.json"), Some(12));
        assert_eq!(snippet_doc("search/terms/k.json"), None);
        assert_eq!(snippet_doc("search/docs/x-0.json"), None);
    }

    #[test]
    fn stamps_looked_up_from_their_folder_are_those_of_the_whole_path() {
        let dir = tempfile::tempdir().unwrap();
        let files = [
            "search/docs/1-0.json",
            "search/docs/2-0.json",
            "search/facets.json",
        ];
        for (n, file) in files.iter().enumerate() {
            std::fs::create_dir_all(dir.path().join(file).parent().unwrap()).unwrap();
            std::fs::write(dir.path().join(file), "x".repeat(n + 1)).unwrap();
        }
        let mut paths = files.to_vec();
        paths.push("search/docs/3-0.json");
        paths.push("search/gone/1.json");
        let stamps = stamps_in(dir.path(), &paths);
        let whole: Vec<Option<FileStamp>> = paths
            .iter()
            .map(|p| file_stamp(&dir.path().join(p)))
            .collect();
        assert_eq!(stamps, whole);
        assert_eq!(stamps[2].map(|s| s.0), Some(3));
        assert_eq!(stamps[3..], [None, None]);
    }

    #[test]
    fn only_the_entries_that_differ_are_edited() {
        let old = [("court", 3), ("judge", 5), ("police", 2)];
        let new = [("court", 3), ("judge", 6), ("warrant", 1)];
        let (gone, come) = differing(&old, &new);
        assert_eq!(gone, [&("judge", 5), &("police", 2)]);
        assert_eq!(come, [&("judge", 6), &("warrant", 1)]);
        let (gone, come) = differing(&old, &old);
        assert!(gone.is_empty() && come.is_empty());
    }

    #[test]
    fn a_document_is_taken_out_of_a_list_only_if_it_is_in_it() {
        let mut list = vec![posting(1, 1, 0, ""), posting(4, 2, 0, "")];
        assert!(remove_doc(&mut list, 2, "k").is_err());
        assert!(remove_doc(&mut list, 4, "k").is_ok());
        assert_eq!(list, [posting(1, 1, 0, "")]);
        let edit = ListEdit {
            gone: vec![1],
            come: vec![posting(0, 5, 0, ""), posting(9, 6, 0, "")],
        };
        let text = encode_postings(&list);
        let after = edit.apply("k", Some(&text)).unwrap().unwrap();
        assert_eq!(
            decode_postings(&after).unwrap(),
            [posting(0, 5, 0, ""), posting(9, 6, 0, "")]
        );
        // A list left empty is no list; a document listed twice is refused.
        let empty = ListEdit {
            gone: vec![1],
            come: Vec::new(),
        };
        assert_eq!(empty.apply("k", Some(&text)).unwrap(), None);
        let twice = ListEdit {
            gone: Vec::new(),
            come: vec![posting(1, 5, 0, "")],
        };
        assert!(twice.apply("k", Some(&text)).is_err());
    }
}
