//! What a build keeps for the next one to patch the search index instead of
//! assembling it again (see [`super::patch`]), in `.annals-cache/`:
//!
//! - `search.bin`: the [`SearchState`] of the live index;
//! - `bodies.bin`: the body of every document the live index was made from,
//!   by file, so that a document's old analysis can be made again when its
//!   body is edited (its entries must be taken out of the index).
//!
//! Both files name the live index by its build hash and its salt (the annals
//! binary and the configuration, [`super::cache_salt`]); a file made for
//! another, or damaged (each ends with a CRC-32), is not used, and the index
//! is then assembled in full.

use super::analyse::Keys;
use super::index::{FormCounts, Totals};
use super::patch::SearchState;
use crate::bytes::{push_str, push_strs};
use crate::varint;
use std::io::{Read, Seek, SeekFrom, Write};
use std::path::Path;

const STATE_FILE: &str = "search.bin";
const STATE_MAGIC: &[u8; 16] = b"annals-search-04";
const BODIES_FILE: &str = "bodies.bin";
const BODIES_MAGIC: &[u8; 16] = b"annals-bodies-01";

/// Writes the state of the index a build just published, and the bodies it
/// was made from (file path, text).
pub fn store<'a>(
    root: &Path,
    salt: u64,
    state: &SearchState,
    bodies: impl Iterator<Item = (&'a Path, std::io::Result<std::borrow::Cow<'a, str>>)>,
) {
    store_state(root, salt, state);
    // The bodies, then their table (see `write_table`).
    crate::cache::replace_file(root, BODIES_FILE, |out| {
        let mut head = Vec::new();
        head.extend_from_slice(BODIES_MAGIC);
        head.extend_from_slice(&salt.to_le_bytes());
        out.write_all(&head)?;
        let mut at = head.len() as u64;
        let mut table = Vec::new();
        for (path, text) in bodies {
            let text = text?;
            out.write_all(text.as_bytes())?;
            let entry = (at, text.len() as u64, crc32fast::hash(text.as_bytes()));
            table.push((path.to_string_lossy().into_owned(), entry));
            at += text.len() as u64;
        }
        let table = table.iter().map(|(path, entry)| (path.as_str(), *entry));
        out.write_all(&table_bytes(&state.build, table, at))
    });
}

/// Writes the state of an index patched for `changed` bodies (file path,
/// text) of the same documents as the stored bodies': the changed bodies and
/// a new table are appended to the bodies file (the old table and bodies are
/// left as garbage until the file is twice what it holds, then it is written
/// again whole). A write cut short leaves a file whose table does not check,
/// which costs the next build its patch only. `false` if the stored bodies
/// are not there to update: the caller stores them whole.
pub fn update<'a>(
    root: &Path,
    salt: u64,
    old: &Bodies,
    state: &SearchState,
    changed: impl Iterator<Item = (&'a Path, std::io::Result<std::borrow::Cow<'a, str>>)>,
) -> bool {
    let path = root.join(crate::cache::CACHE_DIR).join(BODIES_FILE);
    let appended = (|| -> std::io::Result<bool> {
        let mut file = std::fs::OpenOptions::new().append(true).open(&path)?;
        let mut at = file.metadata()?.len();
        // The entries of the changed bodies, by their place in the table.
        let mut replaced = std::collections::BTreeMap::new();
        let mut new = Vec::new();
        for (doc, text) in changed {
            let text = text?;
            let entry = (at, text.len() as u64, crc32fast::hash(text.as_bytes()));
            new.extend_from_slice(text.as_bytes());
            at += text.len() as u64;
            let Some(place) = old.place(&doc.to_string_lossy()) else {
                // Not a document the file has: written whole instead.
                return Ok(false);
            };
            replaced.insert(place, entry);
        }
        let table = (old.table.iter().enumerate())
            .map(|(n, (path, entry))| (path.as_str(), *replaced.get(&n).unwrap_or(entry)));
        let live: u64 = table.clone().map(|(_, e)| e.1).sum();
        if at > 2 * live + (1 << 20) {
            return Ok(false);
        }
        new.extend_from_slice(&table_bytes(&state.build, table, at));
        file.write_all(&new)?;
        Ok(true)
    })();
    match appended {
        Ok(true) => {
            store_state(root, salt, state);
            true
        }
        _ => false,
    }
}

fn store_state(root: &Path, salt: u64, state: &SearchState) {
    crate::cache::replace_file(root, STATE_FILE, |out| {
        out.write_all(&encode_state(salt, state))
    });
}

/// The bodies file's table: the index's build hash, then per body (path,
/// where it starts, its length, its CRC-32); then a CRC-32 of that, and
/// where the table starts (`at`): a reader reads the table and then only the
/// bodies it needs.
fn table_bytes<'t>(
    build: &str,
    table: impl ExactSizeIterator<Item = (&'t str, (u64, u64, u32))>,
    at: u64,
) -> Vec<u8> {
    let mut tail = Vec::new();
    push_str(&mut tail, build);
    varint::push(&mut tail, table.len() as u64);
    for (path, (start, length, crc)) in table {
        push_str(&mut tail, path);
        varint::push(&mut tail, start);
        varint::push(&mut tail, length);
        tail.extend_from_slice(&crc.to_le_bytes());
    }
    let crc = crc32fast::hash(&tail);
    tail.extend_from_slice(&crc.to_le_bytes());
    tail.extend_from_slice(&at.to_le_bytes());
    tail
}

/// The state stored for `salt`, if there is one and it is whole.
pub fn load_state(root: &Path, salt: u64) -> Option<SearchState> {
    let bytes = std::fs::read(root.join(crate::cache::CACHE_DIR).join(STATE_FILE)).ok()?;
    decode_state(&bytes, salt)
}

/// The stored bodies of the index whose build hash is `build`: read one by
/// one as they are asked for.
pub struct Bodies {
    file: std::fs::File,
    /// (path, (start, length, CRC-32)), sorted by path: a build looks up
    /// a few, and a table of strings is read and written again without
    /// hashing 10,000 paths.
    table: Vec<(String, (u64, u64, u32))>,
}

impl Bodies {
    /// The bodies stored for `salt` and the index `build`, if whole.
    pub fn load(root: &Path, salt: u64, build: &str) -> Option<Bodies> {
        let mut file =
            std::fs::File::open(root.join(crate::cache::CACHE_DIR).join(BODIES_FILE)).ok()?;
        let len = file.metadata().ok()?.len();
        let mut head = [0; 24];
        file.read_exact(&mut head).ok()?;
        if head[..16] != BODIES_MAGIC[..] || head[16..] != salt.to_le_bytes() {
            return None;
        }
        file.seek(SeekFrom::End(-8)).ok()?;
        let mut end = [0; 8];
        file.read_exact(&mut end).ok()?;
        let table_at = u64::from_le_bytes(end);
        let table_len = len.checked_sub(12)?.checked_sub(table_at)?;
        file.seek(SeekFrom::Start(table_at)).ok()?;
        let mut tail = vec![0; usize::try_from(table_len).ok()? + 4];
        file.read_exact(&mut tail).ok()?;
        let (table, crc) = tail.split_at(tail.len() - 4);
        if crc32fast::hash(table).to_le_bytes() != crc {
            return None;
        }
        let mut at = 0;
        if read_str(table, &mut at)? != build {
            return None;
        }
        let count = varint::read(table, &mut at)?;
        let mut out = Vec::with_capacity(usize::try_from(count).ok()?.min(table.len()));
        for _ in 0..count {
            let path = read_str(table, &mut at)?;
            let start = varint::read(table, &mut at)?;
            let length = varint::read(table, &mut at)?;
            let crc = u32::from_le_bytes(table.get(at..at + 4)?.try_into().ok()?);
            at += 4;
            if start.checked_add(length)? > table_at {
                return None;
            }
            out.push((path, (start, length, crc)));
        }
        if !out.is_sorted_by(|a, b| a.0 <= b.0) {
            out.sort_unstable_by(|a, b| a.0.cmp(&b.0));
        }
        // A path listed twice: the table is not one this module wrote.
        if out.windows(2).any(|w| w[0].0 == w[1].0) {
            return None;
        }
        Some(Bodies { file, table: out })
    }

    /// Where the body of the document in `path` is in the table.
    fn place(&self, path: &str) -> Option<usize> {
        (self.table)
            .binary_search_by(|(p, _)| p.as_str().cmp(path))
            .ok()
    }

    /// The body of the document in `path`, as the live index has it.
    pub fn get(&self, path: &Path) -> Option<String> {
        let (_, (start, length, crc)) = self.table[self.place(&path.to_string_lossy())?];
        let mut text = vec![0; usize::try_from(length).ok()?];
        read_at(&self.file, &mut text, start).ok()?;
        if crc32fast::hash(&text) != crc {
            return None;
        }
        String::from_utf8(text).ok()
    }
}

#[cfg(unix)]
fn read_at(file: &std::fs::File, buf: &mut [u8], at: u64) -> std::io::Result<()> {
    std::os::unix::fs::FileExt::read_exact_at(file, buf, at)
}

#[cfg(not(unix))]
fn read_at(file: &std::fs::File, buf: &mut [u8], at: u64) -> std::io::Result<()> {
    let mut file = file;
    file.seek(SeekFrom::Start(at))?;
    file.read_exact(buf)
}

/// The string [`push_str`] wrote at `at`, and `at` moved past it.
fn read_str(bytes: &[u8], at: &mut usize) -> Option<String> {
    let mut r = crate::bytes::Reader::new(bytes);
    r.at = *at;
    let s = r.string()?;
    *at = r.at;
    Some(s)
}

fn encode_state(salt: u64, state: &SearchState) -> Vec<u8> {
    crate::cache::framed(STATE_MAGIC, salt, |out| encode_payload(state, out))
}

fn encode_payload(state: &SearchState, out: &mut Vec<u8>) {
    push_str(out, &state.build);
    varint::push(out, state.documents as u64);
    out.extend_from_slice(&state.totals.length.to_le_bytes());
    varint::push(out, state.totals.pair_bytes);
    varint::push(out, state.files.len() as u64);
    for (path, sha) in &state.files {
        push_str(out, path);
        out.extend_from_slice(sha);
    }
    varint::push(out, state.stamps.len() as u64);
    // A file without a stamp is written as size 0; one with, as its size + 1.
    for stamp in &state.stamps {
        match stamp {
            None => varint::push(out, 0),
            Some((size, modified)) => {
                varint::push(out, size.saturating_add(1));
                out.extend_from_slice(&modified.to_le_bytes());
            }
        }
    }
    let forms = &state.forms;
    push_str(out, &forms.entries.text);
    varint::push(out, forms.counts.len() as u64);
    for (end, count) in forms.entries.ends.iter().zip(&forms.counts) {
        varint::push(out, u64::from(*end));
        varint::push(out, u64::from(*count));
    }
    push_strs(out, &state.common);
}

fn decode_state(bytes: &[u8], salt: u64) -> Option<SearchState> {
    let bytes = crate::cache::unframed(bytes, STATE_MAGIC, salt)?;
    let mut at = 0;
    let build = read_str(bytes, &mut at)?;
    let documents = usize::try_from(varint::read(bytes, &mut at)?).ok()?;
    let length = f64::from_le_bytes(bytes.get(at..at + 8)?.try_into().ok()?);
    at += 8;
    let pair_bytes = varint::read(bytes, &mut at)?;
    let count = usize::try_from(varint::read(bytes, &mut at)?).ok()?;
    let mut files = Vec::with_capacity(count.min(bytes.len()));
    for _ in 0..count {
        let path = read_str(bytes, &mut at)?;
        let sha: [u8; 32] = bytes.get(at..at + 32)?.try_into().ok()?;
        at += 32;
        files.push((path, sha));
    }
    let count = usize::try_from(varint::read(bytes, &mut at)?).ok()?;
    let mut stamps = Vec::with_capacity(count.min(bytes.len()));
    for _ in 0..count {
        let stamp = match varint::read(bytes, &mut at)? {
            0 => None,
            size => {
                let modified = i128::from_le_bytes(bytes.get(at..at + 16)?.try_into().ok()?);
                at += 16;
                Some((size - 1, modified))
            }
        };
        stamps.push(stamp);
    }
    let text = read_str(bytes, &mut at)?;
    let count = usize::try_from(varint::read(bytes, &mut at)?).ok()?;
    let mut ends = Vec::with_capacity(count.min(bytes.len()));
    let mut counts = Vec::with_capacity(count.min(bytes.len()));
    let mut previous = 0;
    for _ in 0..count {
        let end = u32::try_from(varint::read(bytes, &mut at)?).ok()?;
        if end < previous || end as usize > text.len() || !text.is_char_boundary(end as usize) {
            return None;
        }
        previous = end;
        ends.push(end);
        counts.push(u32::try_from(varint::read(bytes, &mut at)?).ok()?);
    }
    let mut reader = crate::bytes::Reader::new(bytes);
    reader.at = at;
    let common = reader.strings()?;
    if reader.at != bytes.len() || !common.is_sorted() {
        return None;
    }
    Some(SearchState {
        build,
        documents,
        totals: Totals { length, pair_bytes },
        files,
        forms: FormCounts {
            entries: Keys { text, ends },
            counts,
        },
        common,
        stamps,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_state_reads_back_as_written_and_only_for_its_salt() {
        let state = SearchState {
            build: "0123456789abcdef".into(),
            documents: 3,
            totals: Totals {
                length: 1234.0,
                pair_bytes: 99_999,
            },
            files: vec![
                ("search/terms/k.json".into(), [7; 32]),
                ("search/docs/0-1.json".into(), [8; 32]),
            ],
            forms: FormCounts::from_sorted([("regulations", "regul", 2)].into_iter()),
            common: vec!["commiss".into(), "member".into()],
            stamps: vec![Some((1234, -5_000_000_000)), None],
        };
        let bytes = encode_state(5, &state);
        assert_eq!(decode_state(&bytes, 5), Some(state));
        assert_eq!(decode_state(&bytes, 6), None);
        assert_eq!(decode_state(&bytes[..bytes.len() - 1], 5), None);
    }

    #[test]
    fn bodies_are_read_back_by_path_and_checked() {
        let dir = std::env::temp_dir().join(format!("annals-bodies-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        let state = SearchState {
            build: "feedface00000000".into(),
            ..Default::default()
        };
        let a = Path::new("content/a.md");
        let b = Path::new("content/b.md");
        // Stored out of path order: read back by path all the same.
        let bodies = [(b, "Zweiter Körper.\n"), (a, "First body.\n")];
        store(
            &dir,
            9,
            &state,
            bodies
                .iter()
                .map(|(p, t)| (*p, Ok(std::borrow::Cow::Borrowed(*t)))),
        );
        let stored = Bodies::load(&dir, 9, "feedface00000000").expect("stored");
        assert_eq!(stored.get(b).as_deref(), Some("Zweiter Körper.\n"));
        assert_eq!(stored.get(a).as_deref(), Some("First body.\n"));
        assert_eq!(stored.get(Path::new("content/c.md")), None);
        assert!(Bodies::load(&dir, 9, "0000000000000000").is_none());
        assert!(Bodies::load(&dir, 8, "feedface00000000").is_none());
        assert_eq!(load_state(&dir, 9), Some(state.clone()));
        // An update appends the changed bodies under the new build's name.
        let patched = SearchState {
            build: "0000000000000001".into(),
            ..state.clone()
        };
        let changed = [(b, "Zweiter, geändert.\n")];
        let old = Bodies::load(&dir, 9, "feedface00000000").expect("stored");
        assert!(update(
            &dir,
            9,
            &old,
            &patched,
            changed
                .iter()
                .map(|(p, t)| (*p, Ok(std::borrow::Cow::Borrowed(*t)))),
        ));
        assert!(Bodies::load(&dir, 9, "feedface00000000").is_none());
        let stored = Bodies::load(&dir, 9, "0000000000000001").expect("updated");
        assert_eq!(stored.get(b).as_deref(), Some("Zweiter, geändert.\n"));
        assert_eq!(stored.get(a).as_deref(), Some("First body.\n"));
        assert_eq!(load_state(&dir, 9), Some(patched));
        // A body the file does not have is refused: the caller writes it whole.
        let unknown = [(Path::new("content/c.md"), "New.\n")];
        let old = Bodies::load(&dir, 9, "0000000000000001").expect("updated");
        assert!(!update(
            &dir,
            9,
            &old,
            &state,
            unknown
                .iter()
                .map(|(p, t)| (*p, Ok(std::borrow::Cow::Borrowed(*t)))),
        ));
        // A body changed on disk is not handed back.
        let path = dir.join(crate::cache::CACHE_DIR).join(BODIES_FILE);
        let mut bytes = std::fs::read(&path).unwrap();
        let at = bytes.windows(5).position(|w| w == b"First").unwrap();
        bytes[at] = b'f';
        std::fs::write(&path, bytes).unwrap();
        let stored = Bodies::load(&dir, 9, "0000000000000001").expect("table intact");
        assert_eq!(stored.get(a), None);
        let _ = std::fs::remove_dir_all(&dir);
    }
}
