//! Parsed documents kept from one command-line build to the next, in
//! `.annals-cache/parsed.bin`, so that a rebuild reads every file but parses
//! only the front matter of those whose text changed.
//!
//! Reading the YAML and checking every field is most of the parse stage (about
//! 45 µs a document); taking a document from this file is a lookup and a decode
//! of a few hundred bytes. An entry is found by the SHA-256 of the file's path
//! and text ([`source_digest`]), so an edit, a rename or a checkout that restored
//! old modification times can never take a stale entry. The whole file belongs
//! to one *salt* ([`crate::search::cache_salt`]: the annals binary and
//! `site.toml`), since either can change how every file is read: a different
//! salt ignores the file.
//!
//! What is kept is the checked [`Document`] without its body; the body is the
//! file's text after the front matter, split again on the way out, and the
//! front-matter hash is computed again the same way (see
//! [`super::front_matter_hash`]), so a taken document is equal to the one a
//! parse would make. Files with errors are never kept: they are parsed again,
//! and their errors reported again, by every build.
//!
//! A file need not even be read: the file also records, per document file
//! that had settled when it was read (see [`FileStamp::settled`]), its stamp
//! (size, modification and change times, inode) and what a parse derives from
//! its text besides the stored fields. A file whose stamp is unchanged is taken
//! without reading it, and its body is read from it only if a stage needs it,
//! checked against the digest it had ([`Body::in_file`]). `annals serve` has
//! trusted the same stamps since its first version; Git's index does too.
//!
//! The file is written after a successful build, from that build's documents
//! (drafts included), and ends with a CRC-32 of its bytes. A file that cannot be
//! read, is truncated or changed, or holds an entry that does not decode costs
//! only the shortcut: the documents concerned are parsed.

use super::{Body, Document, Event, KeyPosition, PartialDate, Provenance};
use crate::bytes::{push_number, push_opt_str, push_str, push_strs, Reader};
use crate::load::{FileStamp, SourceFile};
use rayon::prelude::*;
use rustc_hash::FxHashMap;
use sha2::{Digest, Sha256};
use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};

const FILE: &str = "parsed.bin";
/// The file's first bytes: a name and a format number, changed whenever the
/// encoding below changes.
const MAGIC: &[u8; 16] = b"annals-parsed-04";

/// What identifies a document's source: its path and text.
pub type SourceDigest = [u8; 16];

/// The digest under which a file's document is kept: the first half of the
/// SHA-256 of its path (relative to the root) and its text.
pub fn source_digest(source: &SourceFile) -> SourceDigest {
    let mut h = Sha256::new();
    let path = source.path.as_os_str().as_encoded_bytes();
    h.update((path.len() as u64).to_le_bytes());
    h.update(path);
    h.update(source.text.as_bytes());
    let full = h.finalize();
    let mut digest = [0; 16];
    digest.copy_from_slice(&full[..16]);
    digest
}

/// The documents of the last build, as found in the cache folder: an index of
/// the file, whose entries are read one by one as documents are asked for (a
/// large archive's file is over a hundred megabytes, never held whole).
#[derive(Default)]
pub struct StoredDocuments {
    file: Option<std::fs::File>,
    /// Where each entry's frame starts, and where its encoded document
    /// starts and how long it is.
    entries: FxHashMap<SourceDigest, (u64, u64, usize)>,
    /// By the path's bytes (hashing a `Path` walks its components).
    unread: FxHashMap<std::ffi::OsString, Unread>,
}

/// What a document file that had settled when a build read it was then: its
/// stamp, its digest, and what a parse derives from its text besides the
/// stored fields.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Unread {
    stamp: FileStamp,
    digest: SourceDigest,
    front_matter_hash: u64,
    body_line: usize,
    body_len: usize,
    body_digest: u64,
}

/// What [`decode`] takes from the file's text rather than the stored entry.
struct FromText {
    file: PathBuf,
    body: Body,
    front_matter_hash: u64,
    body_line: usize,
}

impl FromText {
    /// As a parse of `source` derives them.
    fn of(source: &SourceFile) -> Option<FromText> {
        let split = super::front_matter::split(&source.text).ok()?;
        let file = source.path.clone();
        Some(FromText {
            body: Body::from(split.body),
            front_matter_hash: super::front_matter_hash(&file, &source.text, split.body),
            body_line: split.body_line,
            file,
        })
    }
}

impl StoredDocuments {
    /// The documents stored under `root`'s cache folder for `salt`; none if
    /// there is no such file, or it was made with another salt or format, or
    /// is damaged.
    pub fn load(root: &Path, salt: u64) -> StoredDocuments {
        let path = root.join(crate::cache::CACHE_DIR).join(FILE);
        StoredDocuments::index(&path, salt).unwrap_or_default()
    }

    fn index(path: &Path, salt: u64) -> Option<StoredDocuments> {
        use std::io::{BufRead, BufReader, Read, Seek, SeekFrom};
        let mut file = std::fs::File::open(path).ok()?;
        let len = file.metadata().ok()?.len();
        // The last four bytes are a CRC-32 of the others: a file torn by a
        // crash, or changed since, is not read.
        let body = len.checked_sub(4)?;
        let mut reader = BufReader::with_capacity(1 << 20, &mut file);
        let mut crc = crc32fast::Hasher::new();
        let mut left = body;
        while left > 0 {
            let chunk = reader.fill_buf().ok()?;
            if chunk.is_empty() {
                return None;
            }
            let n = chunk.len().min(usize::try_from(left).unwrap_or(usize::MAX));
            crc.update(&chunk[..n]);
            reader.consume(n);
            left -= n as u64;
        }
        let mut stored_crc = [0; 4];
        reader.read_exact(&mut stored_crc).ok()?;
        if crc.finalize() != u32::from_le_bytes(stored_crc) {
            return None;
        }
        // The entries' frames, each skipped over once its place is noted.
        reader.seek(SeekFrom::Start(0)).ok()?;
        let mut frames = Frames { reader, at: 0 };
        let mut magic = [0; MAGIC.len()];
        frames.take(&mut magic)?;
        let mut salt_bytes = [0; 8];
        frames.take(&mut salt_bytes)?;
        if &magic != MAGIC || u64::from_le_bytes(salt_bytes) != salt {
            return None;
        }
        let count = frames.number()?;
        let mut entries = FxHashMap::default();
        entries.reserve(count.min(usize::try_from(body / 16).unwrap_or(0)));
        for _ in 0..count {
            let frame = frames.at;
            let mut digest: SourceDigest = [0; 16];
            frames.take(&mut digest)?;
            let entry_len = frames.number()?;
            let start = frames.at;
            frames.skip(entry_len)?;
            if frames.at > body {
                return None;
            }
            entries.insert(digest, (frame, start, entry_len));
        }
        let count = frames.number()?;
        let mut unread = FxHashMap::default();
        unread.reserve(count.min(usize::try_from(body / 64).unwrap_or(0)));
        for _ in 0..count {
            let path_len = frames.number()?;
            if path_len > 4096 {
                return None;
            }
            let mut path = vec![0; path_len];
            frames.take(&mut path)?;
            let path = PathBuf::from(String::from_utf8(path).ok()?);
            let mut stamp = [0; 48];
            frames.take(&mut stamp)?;
            let mut digest: SourceDigest = [0; 16];
            frames.take(&mut digest)?;
            let mut front_matter_hash = [0; 8];
            frames.take(&mut front_matter_hash)?;
            let body_line = frames.number()?;
            let body_len = frames.number()?;
            let mut body_digest = [0; 8];
            frames.take(&mut body_digest)?;
            let entry = Unread {
                stamp: FileStamp::from_bytes(&stamp),
                digest,
                front_matter_hash: u64::from_le_bytes(front_matter_hash),
                body_line,
                body_len,
                body_digest: u64::from_le_bytes(body_digest),
            };
            if entries.contains_key(&entry.digest) {
                unread.insert(path.into_os_string(), entry);
            }
        }
        let at = frames.at;
        drop(frames);
        if at != body {
            return None;
        }
        Some(StoredDocuments {
            file: Some(file),
            entries,
            unread,
        })
    }

    /// The stored documents without the stamps of their files, which only
    /// the parse stage asks for.
    pub fn without_stamps(self) -> StoredDocuments {
        StoredDocuments {
            unread: FxHashMap::default(),
            ..self
        }
    }

    /// How many documents are stored.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Whether none are.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// The document of `source`, whose digest is `digest`, if it is stored and
    /// decodes.
    pub fn get(&self, digest: &SourceDigest, source: &SourceFile) -> Option<Document> {
        decode(&self.entry(digest)?, FromText::of(source)?)
    }

    /// The document of the file `rel` (at `abs`), without reading it, if the
    /// file still has the stamp `stamp` it had when a build stored it, and
    /// its digest (under which a later build stores it again).
    pub fn get_unread(
        &self,
        rel: &Path,
        abs: &Path,
        stamp: &FileStamp,
    ) -> Option<(Document, SourceDigest)> {
        let unread = (self.unread.get(rel.as_os_str())).filter(|u| u.stamp == *stamp)?;
        let from_text = FromText {
            file: rel.to_path_buf(),
            body: Body::in_file(abs.into(), unread.body_len, unread.body_digest),
            front_matter_hash: unread.front_matter_hash,
            body_line: unread.body_line,
        };
        Some((
            decode(&self.entry(&unread.digest)?, from_text)?,
            unread.digest,
        ))
    }

    /// Appends the bytes of the file from `range`'s start to its end to
    /// `out` (nothing for `None`).
    fn copy_into(&self, out: &mut Vec<u8>, range: Option<(u64, u64)>) -> std::io::Result<()> {
        use std::os::unix::fs::FileExt;
        let Some((start, end)) = range else {
            return Ok(());
        };
        let len = end.checked_sub(start).map(usize::try_from);
        let (Some(file), Some(Ok(len))) = (&self.file, len) else {
            return Err(std::io::Error::other("the stored documents' file is gone"));
        };
        let at = out.len();
        out.resize(at + len, 0);
        file.read_exact_at(&mut out[at..], start)
    }

    fn entry(&self, digest: &SourceDigest) -> Option<Vec<u8>> {
        use std::os::unix::fs::FileExt;
        let &(_, start, len) = self.entries.get(digest)?;
        let mut entry = vec![0; len];
        self.file.as_ref()?.read_exact_at(&mut entry, start).ok()?;
        Some(entry)
    }
}

/// Reads the frames of the stored file in order, counting bytes.
struct Frames<R> {
    reader: R,
    at: u64,
}

impl<R: std::io::BufRead + std::io::Seek> Frames<R> {
    fn take(&mut self, buf: &mut [u8]) -> Option<()> {
        self.reader.read_exact(buf).ok()?;
        self.at += buf.len() as u64;
        Some(())
    }

    fn skip(&mut self, n: usize) -> Option<()> {
        self.reader.seek_relative(i64::try_from(n).ok()?).ok()?;
        self.at = self.at.checked_add(n as u64)?;
        Some(())
    }

    /// A number as [`push_number`] writes it.
    fn number(&mut self) -> Option<usize> {
        let n = crate::varint::read_with(|| {
            let mut b = [0; 1];
            self.take(&mut b)?;
            Some(b[0])
        })?;
        usize::try_from(n).ok()
    }
}

/// Writes the file for `salt` from `documents` (each with its source digest,
/// and its file's stamp if the file had settled when it was read), replacing
/// the previous one only once the new one is complete. A failure only costs
/// the next build its shortcut.
pub fn store<'d>(
    root: &Path,
    salt: u64,
    documents: impl Iterator<Item = (&'d SourceDigest, &'d Document, Option<FileStamp>)>,
    old: &StoredDocuments,
) {
    let documents: Vec<_> = documents.collect();
    crate::cache::replace_file(root, FILE, |out| write(out, salt, &documents, old));
}

/// [`store`], the new file left beside the old one until it is kept (see
/// [`crate::cache::StagedFile`]); `None` if the cache folder is missing or the
/// file could not be written.
pub fn stage<'d>(
    root: &Path,
    salt: u64,
    documents: impl Iterator<Item = (&'d SourceDigest, &'d Document, Option<FileStamp>)>,
    old: &StoredDocuments,
) -> Option<crate::cache::StagedFile> {
    let documents: Vec<_> = documents.collect();
    crate::cache::stage_file(root, FILE, |out| write(out, salt, &documents, old))
}

/// The file's bytes, written to `out`. A document `old` (the file the
/// build read, for the same salt) has under its digest is copied from there
/// as it was stored, a run of them at a time, instead of encoded again: its
/// entry is what encoding the same source gives, and a body edit stores
/// 10,000 documents to change one.
fn write(
    out: &mut impl Write,
    salt: u64,
    documents: &[(&SourceDigest, &Document, Option<FileStamp>)],
    old: &StoredDocuments,
) -> std::io::Result<()> {
    let mut crc = crc32fast::Hasher::new();
    let mut head = Vec::new();
    head.extend_from_slice(MAGIC);
    head.extend_from_slice(&salt.to_le_bytes());
    push_number(&mut head, documents.len());
    out.write_all(&head)?;
    crc.update(&head);
    // Encoded on every core, a chunk at a time, and written in order.
    for chunk in documents.chunks(1024) {
        let entries: Vec<Vec<u8>> = chunk
            .par_chunks(64)
            .map(|part| {
                let mut entries = Vec::new();
                let mut encoded = Vec::new();
                // The old file's bytes still to copy: adjacent frames are
                // read together.
                let mut run: Option<(u64, u64)> = None;
                for (digest, doc, _) in part {
                    if let Some(&(frame, start, len)) = old.entries.get(*digest) {
                        let end = start + len as u64;
                        match &mut run {
                            Some((_, run_end)) if *run_end == frame => *run_end = end,
                            _ => {
                                old.copy_into(&mut entries, run)?;
                                run = Some((frame, end));
                            }
                        }
                        continue;
                    }
                    old.copy_into(&mut entries, run.take())?;
                    encoded.clear();
                    encode(doc, &mut encoded);
                    entries.extend_from_slice(*digest);
                    push_number(&mut entries, encoded.len());
                    entries.extend_from_slice(&encoded);
                }
                old.copy_into(&mut entries, run)?;
                Ok(entries)
            })
            .collect::<std::io::Result<_>>()?;
        for entries in entries {
            out.write_all(&entries)?;
            crc.update(&entries);
        }
    }
    // The stamps of the files that may be taken unread next time.
    let stamped: Vec<(&str, &SourceDigest, &Document, FileStamp)> = documents
        .iter()
        .filter_map(|(digest, doc, stamp)| Some((doc.file.to_str()?, *digest, *doc, (*stamp)?)))
        .collect();
    let mut entry = Vec::new();
    push_number(&mut entry, stamped.len());
    for (path, digest, doc, stamp) in stamped {
        push_str(&mut entry, path);
        entry.extend_from_slice(&stamp.to_bytes());
        entry.extend_from_slice(digest);
        entry.extend_from_slice(&doc.front_matter_hash.to_le_bytes());
        push_number(&mut entry, doc.body_line);
        push_number(&mut entry, doc.body.len());
        entry.extend_from_slice(&doc.body.digest().to_le_bytes());
    }
    out.write_all(&entry)?;
    crc.update(&entry);
    out.write_all(&crc.finalize().to_le_bytes())
}

fn push_date(out: &mut Vec<u8>, date: &PartialDate) {
    out.extend_from_slice(&date.year.to_le_bytes());
    out.push(date.month.map_or(0, |m| m.saturating_add(1)));
    out.push(date.day.map_or(0, |d| d.saturating_add(1)));
}

fn push_opt_date(out: &mut Vec<u8>, date: Option<&PartialDate>) {
    match date {
        None => out.push(0),
        Some(d) => {
            out.push(1);
            push_date(out, d);
        }
    }
}

/// A JSON value, exactly: numbers as their 64 bits (JSON text would read some
/// floats back one step off unless every reader parses it exactly).
fn push_value(out: &mut Vec<u8>, value: &serde_json::Value) {
    use serde_json::Value;
    match value {
        Value::Null => out.push(0),
        Value::Bool(b) => out.push(1 + u8::from(*b)),
        Value::Number(n) => {
            if let Some(i) = n.as_i64() {
                out.push(3);
                out.extend_from_slice(&i.to_le_bytes());
            } else if let Some(u) = n.as_u64() {
                out.push(4);
                out.extend_from_slice(&u.to_le_bytes());
            } else {
                out.push(5);
                out.extend_from_slice(&n.as_f64().unwrap_or(0.0).to_bits().to_le_bytes());
            }
        }
        Value::String(s) => {
            out.push(6);
            push_str(out, s);
        }
        Value::Array(items) => {
            out.push(7);
            push_number(out, items.len());
            for item in items {
                push_value(out, item);
            }
        }
        Value::Object(map) => {
            out.push(8);
            push_number(out, map.len());
            for (key, item) in map {
                push_str(out, key);
                push_value(out, item);
            }
        }
    }
}

/// A document without its body, field by field in declaration order.
fn encode(doc: &Document, out: &mut Vec<u8>) {
    // Every field is named, so that a field added to `Document` fails to
    // compile here until it is stored too.
    let Document {
        id,
        title,
        date,
        doc_type,
        references,
        from,
        to,
        language,
        summary,
        markings,
        terms,
        source,
        events,
        aliases,
        draft,
        extra,
        body: _,
        front_matter_hash: _,
        body_line: _,
        file: _,
        key_positions,
    } = doc;
    push_str(out, id);
    push_str(out, title);
    push_date(out, date);
    push_opt_str(out, doc_type.as_deref());
    push_strs(out, references);
    push_strs(out, from);
    push_strs(out, to);
    push_str(out, language);
    push_opt_str(out, summary.as_deref());
    push_strs(out, markings);
    push_number(out, terms.len());
    for (key, values) in terms {
        push_str(out, key);
        push_strs(out, values);
    }
    match source {
        None => out.push(0),
        Some(p) => {
            out.push(1);
            let Provenance {
                authority,
                request,
                request_url,
                released,
                url,
                file,
                sha256,
            } = p;
            push_opt_str(out, authority.as_deref());
            push_opt_str(out, request.as_deref());
            push_opt_str(out, request_url.as_deref());
            push_opt_date(out, released.as_ref());
            push_opt_str(out, url.as_deref());
            push_opt_str(out, file.as_deref());
            push_opt_str(out, sha256.as_deref());
        }
    }
    push_number(out, events.len());
    for Event {
        date,
        title,
        description,
    } in events
    {
        push_date(out, date);
        push_str(out, title);
        push_opt_str(out, description.as_deref());
    }
    push_strs(out, aliases);
    out.push(u8::from(*draft));
    push_value(out, extra);
    push_number(out, key_positions.len());
    for KeyPosition {
        key,
        line,
        column,
        line_hash,
    } in key_positions
    {
        push_str(out, key);
        push_number(out, *line);
        push_number(out, *column);
        out.extend_from_slice(&line_hash.get().to_le_bytes());
    }
}

/// The fields of a stored document beyond those every cache file has.
trait DocumentFields {
    fn date(&mut self) -> Option<PartialDate>;
    fn opt_date(&mut self) -> Option<Option<PartialDate>>;
    fn value(&mut self, depth: usize) -> Option<serde_json::Value>;
}

/// Reads what [`encode`] wrote; `None` at the first thing out of place.
impl DocumentFields for Reader<'_> {
    fn date(&mut self) -> Option<PartialDate> {
        let year = i16::from_le_bytes(self.take(2)?.try_into().ok()?);
        let part = |b: u8| b.checked_sub(1);
        let month = part(self.byte()?);
        let day = part(self.byte()?);
        Some(PartialDate { year, month, day })
    }

    /// A value [`push_value`] wrote, `depth` levels down (nesting is bounded
    /// as the front matter's is, so a damaged file cannot recurse without end).
    fn value(&mut self, depth: usize) -> Option<serde_json::Value> {
        use serde_json::Value;
        if depth > 256 {
            return None;
        }
        Some(match self.byte()? {
            0 => Value::Null,
            1 => Value::Bool(false),
            2 => Value::Bool(true),
            3 => Value::from(i64::from_le_bytes(self.eight()?)),
            4 => Value::from(u64::from_le_bytes(self.eight()?)),
            5 => Value::Number(serde_json::Number::from_f64(f64::from_bits(
                u64::from_le_bytes(self.eight()?),
            ))?),
            6 => Value::String(self.string()?),
            7 => {
                let n = self.count()?;
                Value::Array(
                    (0..n)
                        .map(|_| self.value(depth + 1))
                        .collect::<Option<_>>()?,
                )
            }
            8 => {
                let n = self.count()?;
                let mut map = serde_json::Map::new();
                for _ in 0..n {
                    let key = self.string()?;
                    map.insert(key, self.value(depth + 1)?);
                }
                Value::Object(map)
            }
            _ => return None,
        })
    }

    fn opt_date(&mut self) -> Option<Option<PartialDate>> {
        match self.byte()? {
            0 => Some(None),
            1 => self.date().map(Some),
            _ => None,
        }
    }
}

/// The document stored as `entry`, with its body, front-matter hash and
/// file taken from `from_text`.
fn decode(entry: &[u8], from_text: FromText) -> Option<Document> {
    let mut r = Reader::new(entry);
    let id = r.string()?;
    let title = r.string()?;
    let date = r.date()?;
    let doc_type = r.opt_string()?;
    let references = r.strings()?;
    let from = r.strings()?;
    let to = r.strings()?;
    let language = r.string()?;
    let summary = r.opt_string()?;
    let markings = r.strings()?;
    let mut terms = BTreeMap::new();
    for _ in 0..r.count()? {
        let key = r.string()?;
        terms.insert(key, r.strings()?);
    }
    let source_of = match r.byte()? {
        0 => None,
        1 => Some(Provenance {
            authority: r.opt_string()?,
            request: r.opt_string()?,
            request_url: r.opt_string()?,
            released: r.opt_date()?,
            url: r.opt_string()?,
            file: r.opt_string()?,
            sha256: r.opt_string()?,
        }),
        _ => return None,
    };
    let events = (0..r.count()?)
        .map(|_| {
            Some(Event {
                date: r.date()?,
                title: r.string()?,
                description: r.opt_string()?,
            })
        })
        .collect::<Option<Vec<Event>>>()?;
    let aliases = r.strings()?;
    let draft = match r.byte()? {
        0 => false,
        1 => true,
        _ => return None,
    };
    let extra = r.value(0)?;
    let key_positions = (0..r.count()?)
        .map(|_| {
            Some(KeyPosition {
                key: super::key_name(r.str()?),
                line: r.number()?,
                column: r.number()?,
                line_hash: std::num::NonZeroU64::new(u64::from_le_bytes(r.eight()?))?,
            })
        })
        .collect::<Option<Vec<KeyPosition>>>()?;
    if !r.is_done() {
        return None;
    }
    let FromText {
        file,
        body,
        front_matter_hash,
        body_line,
    } = from_text;
    Some(Document {
        id,
        title,
        date,
        doc_type,
        references,
        from,
        to,
        language,
        summary,
        markings,
        terms,
        source: source_of,
        events,
        aliases,
        draft,
        extra,
        body,
        front_matter_hash,
        body_line,
        file,
        key_positions,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn source(path: &str, text: &str) -> SourceFile {
        SourceFile {
            path: PathBuf::from(path),
            text: text.to_string(),
        }
    }

    fn config() -> crate::config::Config {
        crate::config::Config::parse(Path::new("site.toml"), "title = \"T\"\nbase_url = \"/\"\n")
            .expect("a valid configuration")
    }

    const FULL: &str = "---\nid: full-doc\ntitle: \"A note: \\\"quoted\\\" — ü\"\ndate: 2019-04\ntype: note\nreference: [\"9069/19 EXT 1\", \"Ares(2019)1\"]\nfrom: [CTC]\nto: [COREPER, Council]\nlanguage: de\nsummary: Short.\nmarkings: [LIMITE]\ntopics: [encryption, \"data retention\"]\norganisations: [Europol]\nsource:\n  authority: Council\n  request: Ask\n  request_url: https://example.org/r\n  released: 2020-01-02\n  url: https://example.org/d.pdf\nevents:\n  - date: 2019-03-01\n    title: Meeting\n    description: First.\n  - date: 2018\n    title: Earlier\naliases: [old/path]\ndraft: true\nextra:\n  pages: 12\n  ratio: 0.1\n  big: 18446744073709551615\n  neg: -7\n  precise: 123456789.12345679\n  tiny: 5e-324\n  nested: {a: [1, \"x\", null, true, {b: []}]}\n---\n\nBody [redacted] text.\n";

    #[test]
    fn a_stored_document_is_the_one_a_parse_makes() {
        let config = config();
        for (path, text) in [
            ("content/documents/full.md", FULL),
            (
                "content/documents/min.md",
                "---\nid: min\ntitle: T\ndate: 2001\n---\n",
            ),
            (
                "content/documents/crlf.md",
                "---\r\nid: crlf\r\ntitle: T\r\ndate: 2001-02-03\r\n---\r\nBody\r\n",
            ),
        ] {
            let src = source(path, text);
            let parsed = crate::document::parse_document(&src, &config)
                .unwrap_or_else(|e| panic!("{path}: {e:?}"));
            let mut entry = Vec::new();
            encode(&parsed, &mut entry);
            let of = |src| FromText::of(src).expect("splits");
            let taken = decode(&entry, of(&src)).expect("decodes");
            assert_eq!(taken, parsed, "{path}");
            // Floats to the bit (equality of `Value` compares them so, too).
            if let Some(x) = parsed.extra.get("precise") {
                let bits = |v: &serde_json::Value| v.as_f64().map(f64::to_bits);
                assert_eq!(bits(&taken.extra["precise"]), bits(x));
                assert_eq!(x.as_f64(), Some(123456789.12345679));
            }
            assert_eq!(taken.front_matter_hash, parsed.front_matter_hash);
            assert_eq!(taken.body_line, parsed.body_line);
            // Every truncation, and any trailing byte, is refused, never a panic.
            for cut in 0..entry.len() {
                assert!(
                    decode(&entry[..cut], of(&src)).is_none(),
                    "{path} cut at {cut}"
                );
            }
            entry.push(0);
            assert!(decode(&entry, of(&src)).is_none());
        }
    }

    #[test]
    fn a_file_with_its_stored_stamp_is_taken_unread() {
        let dir = tempfile::tempdir().expect("temp dir");
        let config = config();
        let rel = Path::new("content/documents/full.md");
        let abs = dir.path().join("full.md");
        let text = format!("\u{feff}{FULL}");
        std::fs::write(&abs, &text).expect("write");
        let src = source("content/documents/full.md", FULL);
        let doc = crate::document::parse_document(&src, &config).expect("parses");
        let digest = source_digest(&src);
        let stamp = FileStamp::of(&abs).expect("stamped");
        let other = crate::document::parse_document(
            &source(
                "content/documents/min.md",
                "---\nid: min\ntitle: T\ndate: 2001\n---\n",
            ),
            &config,
        )
        .expect("parses");
        store(
            dir.path(),
            7,
            [(&digest, &doc, Some(stamp)), (&[1; 16], &other, None)].into_iter(),
            &StoredDocuments::default(),
        );
        let stored = StoredDocuments::load(dir.path(), 7);
        assert_eq!(stored.len(), 2);
        let (taken, taken_digest) = stored.get_unread(rel, &abs, &stamp).expect("taken unread");
        assert_eq!(taken_digest, digest);
        assert!(taken.body.is_spilled(), "the body is left in the file");
        assert_eq!(taken, doc);
        assert_eq!(taken.front_matter_hash, doc.front_matter_hash);
        assert_eq!(taken.body_line, doc.body_line);
        // A document stored without a stamp is only ever taken by its text.
        let min = Path::new("content/documents/min.md");
        assert!(stored.get_unread(min, &abs, &stamp).is_none());
        // Another stamp is another file.
        std::fs::write(&abs, format!("{text}More.\n")).expect("write");
        let edited = FileStamp::of(&abs).expect("stamped");
        assert!(stored.get_unread(rel, &abs, &edited).is_none());
        // The document taken before the edit no longer reads its body.
        assert!(taken.body.text().is_err());
    }

    #[test]
    fn documents_stored_before_are_copied_as_encoding_them_again_would_write_them() {
        let dir = tempfile::tempdir().expect("temp dir");
        let config = config();
        let parsed = |path: &str, text: &str| {
            let src = source(path, text);
            let doc = crate::document::parse_document(&src, &config).expect("parses");
            (source_digest(&src), doc, src)
        };
        let min = |id: &str| format!("---\nid: {id}\ntitle: T {id}\ndate: 2001\n---\nBody.\n");
        let a = parsed("content/documents/a.md", FULL);
        let b = parsed("content/documents/b.md", &min("b"));
        let c = parsed("content/documents/c.md", &min("c"));
        let edited_b = parsed(
            "content/documents/b.md",
            &min("b").replace("Body", "Edited"),
        );
        let d = parsed("content/documents/d.md", &min("d"));
        let path = dir.path().join(crate::cache::CACHE_DIR).join(FILE);
        let stored_as = |docs: &[&(SourceDigest, Document, SourceFile)], old: &StoredDocuments| {
            let items = docs.iter().map(|(digest, doc, _)| (digest, doc, None));
            store(dir.path(), 7, items, old);
            std::fs::read(&path).expect("written")
        };
        let none = StoredDocuments::default();
        stored_as(&[&a, &b, &c], &none);
        let old = StoredDocuments::load(dir.path(), 7);
        assert_eq!(old.len(), 3);
        // In the stored order, in another, with an edit and a new document
        // between the stored ones: the bytes of a store from scratch, which
        // read back as the documents.
        for docs in [
            vec![&a, &b, &c],
            vec![&c, &a],
            vec![&a, &edited_b, &c, &d],
            vec![&d, &c, &b, &a],
        ] {
            let copied = stored_as(&docs, &old);
            assert_eq!(copied, stored_as(&docs, &none));
            let again = StoredDocuments::load(dir.path(), 7);
            assert_eq!(again.len(), docs.len());
            for (digest, doc, src) in docs {
                assert_eq!(again.get(digest, src).as_ref(), Some(doc));
            }
        }
    }

    #[test]
    fn the_file_is_found_by_path_and_text_and_only_for_its_salt() {
        let dir = tempfile::tempdir().expect("temp dir");
        let config = config();
        let src = source("content/documents/full.md", FULL);
        let doc = crate::document::parse_document(&src, &config).expect("parses");
        let digest = source_digest(&src);
        store(
            dir.path(),
            7,
            [(&digest, &doc, None)].into_iter(),
            &StoredDocuments::default(),
        );
        let stored = StoredDocuments::load(dir.path(), 7);
        assert_eq!(stored.len(), 1);
        assert_eq!(stored.get(&digest, &src), Some(doc));
        assert!(StoredDocuments::load(dir.path(), 8).is_empty());
        // Another path or another text has another digest.
        let moved = source("content/documents/moved.md", FULL);
        assert_ne!(source_digest(&moved), digest);
        let edited = source(
            "content/documents/full.md",
            &FULL.replace("Short.", "Long."),
        );
        assert_ne!(source_digest(&edited), digest);
        // A damaged file is no file.
        let path = dir.path().join(crate::cache::CACHE_DIR).join(FILE);
        let bytes = std::fs::read(&path).expect("written");
        for cut in [0, 10, MAGIC.len() + 8, bytes.len() - 5, bytes.len() - 1] {
            std::fs::write(&path, &bytes[..cut]).expect("write");
            assert!(
                StoredDocuments::load(dir.path(), 7).is_empty(),
                "cut at {cut}"
            );
        }
        // So is one with a changed byte, wherever it is.
        for at in [MAGIC.len() + 9, bytes.len() / 2, bytes.len() - 6] {
            let mut changed = bytes.clone();
            changed[at] ^= 1;
            std::fs::write(&path, &changed).expect("write");
            assert!(
                StoredDocuments::load(dir.path(), 7).is_empty(),
                "byte {at} changed"
            );
        }
        std::fs::write(&path, &bytes).expect("write");
        assert_eq!(StoredDocuments::load(dir.path(), 7).len(), 1);
    }
}
