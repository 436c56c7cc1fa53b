//! Bytes one stage makes and a later stage reads, set aside on disk in between.
//!
//! Two kinds of bytes of a build are large and read rarely: the documents' bodies
//! (4 KB a document, read by the link pass and by the document's page; see
//! [`crate::document::Body`]) and the search index's snippet files (4.6 KB a
//! document, made by the link pass and written by the search stage). At 100,000
//! documents that was 860 MB held through most of the build, though no stage
//! reads more than one document's at a time. A [`Spill`] is an unnamed
//! temporary file that such bytes are appended to in pieces of about
//! [`PIECE_BYTES`] and read back from by offset. The operating system's page
//! cache holds them while there is room, so reading them back is usually a copy;
//! they no longer count towards the process's memory.
//!
//! `annals build` makes it in the site's cache folder (`.annals-cache/`, or the
//! site's root before the first build made that), not in `TMPDIR` (`annals
//! check`, which writes nothing under the site, does): on many systems `/tmp` is a tmpfs, where the bytes would still be
//! memory (charged to the same container), only no longer the process's. Where
//! the file system supports unnamed files (`O_TMPFILE`, Linux), nothing is left
//! behind however the process ends; elsewhere the file is unlinked at once.
//!
//! Nothing is lost if the file cannot be made or written (a read-only or full
//! temporary folder): a [`SpilledList`] then keeps the bytes in memory, as before.
//! A failure to read them back is an error of the stage that reads them, and so
//! is reading back other bytes than were written: every run of bytes carries a
//! CRC-32 taken when it was set aside and checked when it is read, so a disk or
//! file system that returns wrong data without an error fails the build rather
//! than publishing a corrupted page or search file.

use std::fs::File;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

/// A [`SpilledList`] writes its bytes to the file in pieces of about this size:
/// few writes, and little held in memory per list.
pub const PIECE_BYTES: usize = 1 << 20;

/// A temporary file shared by the threads of a stage: each piece written takes
/// the next free range of the file, so writers never wait for one another.
#[derive(Debug, Default)]
pub struct Spill {
    file: Option<File>,
    end: AtomicU64,
}

impl Spill {
    /// A spill backed by a new temporary file in the system's temporary
    /// folder, or by memory if none can be made.
    pub fn new() -> Spill {
        Spill::in_folder(None)
    }

    /// A spill backed by a new unnamed file in `folder`, else in the system's
    /// temporary folder, else by memory.
    pub fn in_folder(folder: Option<&std::path::Path>) -> Spill {
        let file = if cfg!(unix) {
            folder
                .and_then(|f| tempfile::tempfile_in(f).ok())
                .or_else(|| tempfile::tempfile().ok())
        } else {
            None
        };
        Spill {
            file,
            end: AtomicU64::new(0),
        }
    }

    /// A spill that keeps everything in memory.
    pub fn in_memory() -> Spill {
        Spill::default()
    }

    /// Whether bytes go to a file.
    pub fn on_disk(&self) -> bool {
        self.file.is_some()
    }

    /// Writes `bytes` at the next free offset of the file; `None` if there is no
    /// file or the write failed (the caller keeps the bytes).
    fn put(&self, bytes: &[u8]) -> Option<u64> {
        let file = self.file.as_ref()?;
        let offset = self.end.fetch_add(bytes.len() as u64, Ordering::Relaxed);
        write_at(file, bytes, offset).ok()?;
        Some(offset)
    }

    /// Reads `len` bytes at `offset`, which had the checksum `crc` when they
    /// were written.
    fn read(&self, offset: u64, len: usize, crc: u32) -> std::io::Result<Vec<u8>> {
        let Some(file) = &self.file else {
            return Err(std::io::Error::other("no spill file"));
        };
        let mut bytes = vec![0; len];
        read_at(file, &mut bytes, offset)?;
        checked(bytes, crc)
    }
}

/// `bytes` if their checksum is `crc`.
fn checked(bytes: Vec<u8>, crc: u32) -> std::io::Result<Vec<u8>> {
    if crc32fast::hash(&bytes) == crc {
        Ok(bytes)
    } else {
        Err(std::io::Error::new(
            std::io::ErrorKind::InvalidData,
            "the temporary file returned other bytes than were written to it (checksum mismatch)",
        ))
    }
}

#[cfg(unix)]
fn write_at(file: &File, bytes: &[u8], offset: u64) -> std::io::Result<()> {
    std::os::unix::fs::FileExt::write_all_at(file, bytes, offset)
}

#[cfg(unix)]
fn read_at(file: &File, bytes: &mut [u8], offset: u64) -> std::io::Result<()> {
    std::os::unix::fs::FileExt::read_exact_at(file, bytes, offset)
}

// Elsewhere no file is made (see `Spill::new`), so these are never reached.
#[cfg(not(unix))]
fn write_at(_: &File, _: &[u8], _: u64) -> std::io::Result<()> {
    Err(std::io::Error::other("spill files need a unix system"))
}

#[cfg(not(unix))]
fn read_at(_: &File, _: &mut [u8], _: u64) -> std::io::Result<()> {
    Err(std::io::Error::other("spill files need a unix system"))
}

/// One run of bytes written to a [`Spill`] on its own (see [`SpilledBytes::put`]).
#[derive(Debug, Clone)]
pub struct SpilledBytes {
    spill: Arc<Spill>,
    offset: u64,
    len: usize,
    crc: u32,
}

impl SpilledBytes {
    /// Writes `bytes` to `spill`; `None` if there is no file or it failed
    /// (the caller keeps the bytes).
    pub fn put(spill: &Arc<Spill>, bytes: &[u8]) -> Option<SpilledBytes> {
        let offset = spill.put(bytes)?;
        Some(SpilledBytes {
            spill: spill.clone(),
            offset,
            len: bytes.len(),
            crc: crc32fast::hash(bytes),
        })
    }

    /// How many bytes there are.
    pub fn len(&self) -> usize {
        self.len
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// The bytes, read back.
    pub fn read(&self) -> std::io::Result<Vec<u8>> {
        self.spill.read(self.offset, self.len, self.crc)
    }
}

/// Where one item's bytes are.
#[derive(Debug, Clone, Copy)]
enum Place {
    /// At this offset of the spill file.
    File(u64),
    /// In memory: in `blocks[block]` at `offset`, or in the piece being filled
    /// when `block` is the number of blocks.
    Block(u32, u32),
}

/// Where an item is, its length and its CRC-32.
#[derive(Debug, Clone, Copy)]
struct Item {
    place: Place,
    len: u64,
    crc: u32,
}

/// Byte strings, added one after the other and read back by number, kept in a
/// [`Spill`]: the list holds, per item, where it is, and at most one piece of
/// [`PIECE_BYTES`] not yet written.
#[derive(Debug, Clone)]
pub struct SpilledList {
    spill: Arc<Spill>,
    items: Vec<Item>,
    /// The piece being filled, and the first item in it.
    piece: Vec<u8>,
    piece_from: usize,
    /// Pieces the file could not take.
    blocks: Vec<Vec<u8>>,
}

impl SpilledList {
    /// An empty list writing to `spill`.
    pub fn new(spill: Arc<Spill>) -> SpilledList {
        SpilledList {
            spill,
            items: Vec::new(),
            piece: Vec::new(),
            piece_from: 0,
            blocks: Vec::new(),
        }
    }

    /// Adds an item.
    pub fn push(&mut self, bytes: &[u8]) {
        // An item starts a new piece if it would make the current one larger
        // than a piece: offsets in a piece stay below it.
        if !self.piece.is_empty() && self.piece.len() + bytes.len() > PIECE_BYTES {
            self.finish();
        }
        let place = Place::Block(self.blocks.len() as u32, self.piece.len() as u32);
        self.piece.extend_from_slice(bytes);
        self.items.push(Item {
            place,
            len: bytes.len() as u64,
            crc: crc32fast::hash(bytes),
        });
    }

    /// Writes the piece being filled; call once every item is added, so that
    /// the list holds no bytes it need not.
    pub fn finish(&mut self) {
        if self.piece.is_empty() {
            self.piece_from = self.items.len();
            return;
        }
        let piece = std::mem::take(&mut self.piece);
        match self.spill.put(&piece) {
            Some(base) => {
                for item in &mut self.items[self.piece_from..] {
                    if let Place::Block(_, offset) = item.place {
                        item.place = Place::File(base + u64::from(offset));
                    }
                }
            }
            // The items already point at the block the piece becomes.
            None => self.blocks.push(piece),
        }
        self.items.shrink_to_fit();
        self.piece_from = self.items.len();
    }

    /// How many items there are.
    pub fn len(&self) -> usize {
        self.items.len()
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.items.is_empty()
    }

    /// Item `i`'s bytes; an error if they cannot be read back from the file.
    pub fn get(&self, i: usize) -> std::io::Result<Vec<u8>> {
        let Some(&Item { place, len, crc }) = self.items.get(i) else {
            return Err(std::io::Error::other(format!("no spilled item {i}")));
        };
        let missing = || std::io::Error::other(format!("spilled item {i} is missing"));
        let len = usize::try_from(len).map_err(|_| missing())?;
        match place {
            Place::File(offset) => self.spill.read(offset, len, crc),
            Place::Block(block, offset) => {
                let bytes = match self.blocks.get(block as usize) {
                    Some(b) => b,
                    None => &self.piece,
                };
                let offset = offset as usize;
                bytes
                    .get(offset..offset + len)
                    .map(<[u8]>::to_vec)
                    .ok_or_else(missing)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn items(n: usize) -> Vec<Vec<u8>> {
        (0..n)
            .map(|i| format!("item {i} ").repeat(i % 7 * 40_000 + 1).into_bytes())
            .collect()
    }

    fn round_trip(spill: Spill) {
        let spill = Arc::new(spill);
        let items = items(40);
        let mut list = SpilledList::new(spill.clone());
        for (i, item) in items.iter().enumerate() {
            list.push(item);
            // Readable before and after its piece is written.
            assert_eq!(&list.get(i).unwrap(), item);
        }
        list.finish();
        assert_eq!(list.len(), items.len());
        for (i, item) in items.iter().enumerate() {
            assert_eq!(&list.get(i).unwrap(), item, "item {i}");
        }
        assert!(list.get(items.len()).is_err());
        if spill.on_disk() {
            // Nothing is held in memory once finished.
            assert!(list.piece.is_empty() && list.blocks.is_empty());
            assert!(list
                .items
                .iter()
                .all(|item| matches!(item.place, Place::File(_))));
        }
    }

    #[test]
    fn items_come_back_from_the_file() {
        let spill = Spill::new();
        assert!(spill.on_disk(), "a temporary file can be made here");
        round_trip(spill);
    }

    #[test]
    fn items_stay_in_memory_without_a_file() {
        round_trip(Spill::in_memory());
    }

    #[test]
    fn lists_share_one_file_from_many_threads() {
        let spill = Arc::new(Spill::new());
        let lists: Vec<(SpilledList, Vec<Vec<u8>>)> = std::thread::scope(|s| {
            let handles: Vec<_> = (0..4)
                .map(|t| {
                    let spill = spill.clone();
                    s.spawn(move || {
                        let mut list = SpilledList::new(spill);
                        let items: Vec<Vec<u8>> = items(30)
                            .into_iter()
                            .map(|mut b| {
                                b.push(t);
                                b
                            })
                            .collect();
                        for item in &items {
                            list.push(item);
                        }
                        list.finish();
                        (list, items)
                    })
                })
                .collect();
            handles.into_iter().map(|h| h.join().unwrap()).collect()
        });
        for (list, items) in &lists {
            for (i, item) in items.iter().enumerate() {
                assert_eq!(&list.get(i).unwrap(), item);
            }
        }
    }

    #[test]
    fn single_runs_come_back_or_stay_with_the_caller() {
        let spill = Arc::new(Spill::new());
        let runs: Vec<SpilledBytes> = items(9)
            .iter()
            .map(|b| SpilledBytes::put(&spill, b).unwrap())
            .collect();
        for (run, item) in runs.iter().zip(items(9)) {
            assert_eq!(run.len(), item.len());
            assert_eq!(run.read().unwrap(), item);
        }
        assert!(SpilledBytes::put(&Arc::new(Spill::in_memory()), b"x").is_none());
    }

    #[test]
    fn a_cloned_list_reads_the_same_bytes() {
        let mut list = SpilledList::new(Arc::new(Spill::new()));
        list.push(b"one");
        let unfinished = list.clone();
        list.finish();
        let finished = list.clone();
        assert_eq!(unfinished.get(0).unwrap(), b"one");
        assert_eq!(finished.get(0).unwrap(), b"one");
    }

    #[test]
    fn bytes_changed_on_disk_are_an_error_not_data() {
        let spill = Arc::new(Spill::new());
        let mut list = SpilledList::new(spill.clone());
        list.push(b"first item");
        list.push(b"second item");
        list.finish();
        let run = SpilledBytes::put(&spill, b"a body").unwrap();
        assert_eq!(list.get(1).unwrap(), b"second item");
        // Flip one byte of each as a faulty disk would, without an error.
        let file = spill.file.as_ref().unwrap();
        let flip = |at: u64| {
            let mut byte = [0u8];
            read_at(file, &mut byte, at).unwrap();
            write_at(file, &[byte[0] ^ 0x20], at).unwrap();
        };
        flip(b"first item".len() as u64 + 3);
        flip(run.offset);
        let e = list.get(1).unwrap_err();
        assert_eq!(e.kind(), std::io::ErrorKind::InvalidData);
        assert!(e.to_string().contains("checksum"), "{e}");
        assert_eq!(list.get(0).unwrap(), b"first item");
        assert_eq!(
            run.read().unwrap_err().kind(),
            std::io::ErrorKind::InvalidData
        );
    }
}
