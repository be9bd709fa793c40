//! The file ledger: what the file server told its clients about their data,
//! kept so a run can say at its end whether every promise was kept.
//!
//! A fault campaign's most important question is not how many operations
//! failed but whether anything a client was told had succeeded is gone. The
//! stubs write down each write as they send it and how it ended, per byte of
//! each file, in the order the clients heard the answers:
//!
//! - **acknowledged**: the file server answered the write with success; the
//!   bytes are promised to be there at the end, unless a later acknowledged
//!   write or unlink changed them;
//! - **unacknowledged**: the client was told the write failed because the
//!   server died, garbled its answer or never answered (the run ended, or the
//!   kernel panicked, while it waited). The bytes may be there or not; the
//!   promise of whatever was there before is void.
//!
//! A write the file server refused with an error of its own ("no space") is
//! neither: its operations are all-or-nothing, so it changed nothing, and what
//! was promised before still is. Writes through a descriptor whose offset the
//! stub lost track of (a garbled answer to a read or write through it) cannot
//! be placed in the file and are not counted.
//!
//! The ledger is the clients' view, kept beside the simulation rather than in
//! it: nothing in it is charged, logged or seen by a program. It holds at
//! most one copy of each byte place it saw written, and an acknowledged byte
//! is a byte of a file on the disk, so it is bounded by the disk and the
//! writes that failed, whatever the workload.

use std::collections::BTreeMap;

/// A ledger shared by every program's stubs in one run.
pub type SharedLedger = std::rc::Rc<std::cell::RefCell<FileLedger>>;

/// What clients were told about their writes, per file and byte.
#[derive(Clone, Debug, Default)]
pub struct FileLedger {
    files: BTreeMap<String, FilePromises>,
    /// Per client (badge): the write it sent and has not heard about yet.
    pending: BTreeMap<u64, PendingWrite>,
}

#[derive(Clone, Debug, Default)]
struct FilePromises {
    /// Bytes acknowledged writes left.
    acknowledged: Extents,
    /// Bytes of writes whose clients were told they failed.
    unacknowledged: Extents,
}

/// Runs of bytes by the offset each starts at; no two overlap. A write is one run, so the
/// ledger costs a few map operations a write, whatever its size.
#[derive(Clone, Debug, Default)]
struct Extents(BTreeMap<u64, Vec<u8>>);

impl Extents {
    /// Forgets every byte from `start` up to (not including) `end`.
    fn clear(&mut self, start: u64, end: u64) {
        // Runs do not overlap, so those that reach past `start` are the last ones before `end`.
        let overlapping: Vec<u64> = self
            .0
            .range(..end)
            .rev()
            .take_while(|&(&at, bytes)| at + bytes.len() as u64 > start)
            .map(|(&at, _)| at)
            .collect();
        for at in overlapping {
            let Some(bytes) = self.0.remove(&at) else { continue };
            let stop = at + bytes.len() as u64;
            if at < start {
                self.0.insert(at, bytes[..to_index(start - at)].to_vec());
            }
            if stop > end {
                self.0.insert(end, bytes[to_index(end - at)..].to_vec());
            }
        }
    }

    /// Puts `bytes` at `start`, over whatever was there.
    fn put(&mut self, start: u64, bytes: &[u8]) {
        if bytes.is_empty() {
            return;
        }
        self.clear(start, start.saturating_add(bytes.len() as u64));
        self.0.insert(start, bytes.to_vec());
    }

    /// How many of the bytes `contents` does not hold at their place.
    fn missing_from(&self, contents: &[u8]) -> u64 {
        let mut missing = 0;
        for (&at, bytes) in &self.0 {
            let held = usize::try_from(at).ok().and_then(|at| contents.get(at..)).unwrap_or(&[]);
            let same = held.iter().zip(bytes).filter(|(held, byte)| held == byte).count();
            missing += (bytes.len() - same) as u64;
        }
        missing
    }
}

/// An offset within a run of bytes held in memory, which fits a `usize`.
fn to_index(offset: u64) -> usize {
    usize::try_from(offset).unwrap_or(usize::MAX)
}

#[derive(Clone, Debug)]
struct PendingWrite {
    path: String,
    offset: u64,
    data: Vec<u8>,
}

/// How a request the ledger follows ended, as its client heard it.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Heard {
    /// The server answered success: for a write, that it wrote this many bytes.
    Done(u64),
    /// The server answered with an error of its own: nothing changed.
    Refused,
    /// The server died, garbled its answer or never answered: it may or may not have happened.
    Unknown,
}

/// Bytes that were promised or attempted and are not in the files at the end.
#[derive(Clone, Copy, PartialEq, Eq, Debug, Default, serde::Serialize)]
pub struct DataLoss {
    /// Bytes of acknowledged writes that are missing or different.
    pub acknowledged: u64,
    /// Bytes of unacknowledged writes that are missing or different.
    pub unacknowledged: u64,
}

impl FileLedger {
    /// A new, empty ledger to share.
    pub fn shared() -> SharedLedger {
        SharedLedger::default()
    }

    /// `client` sent a write of `data` at `offset` of `path` (as [`canonical`] writes it).
    pub fn write_sent(&mut self, client: u64, path: &str, offset: u64, data: &[u8]) {
        let write = PendingWrite { path: path.to_owned(), offset, data: data.to_vec() };
        self.pending.insert(client, write);
    }

    /// `client` heard how its write ended.
    pub fn write_heard(&mut self, client: u64, heard: Heard) {
        let Some(write) = self.pending.remove(&client) else { return };
        let file = self.files.entry(write.path).or_default();
        let end = write.offset.saturating_add(write.data.len() as u64);
        match heard {
            Heard::Done(written) => {
                let written = &write.data[..to_index(written).min(write.data.len())];
                file.acknowledged.put(write.offset, written);
                file.unacknowledged.clear(write.offset, write.offset.saturating_add(written.len() as u64));
            }
            Heard::Refused => {}
            Heard::Unknown => {
                file.acknowledged.clear(write.offset, end);
                file.unacknowledged.put(write.offset, &write.data);
            }
        }
    }

    /// `client` heard how its unlink of `path` ended: done or unknown, nothing is promised of
    /// the file any more.
    pub fn unlink_heard(&mut self, path: &str, heard: Heard) {
        if heard != Heard::Refused {
            self.files.remove(&canonical(path));
        }
    }

    /// What is missing from `files` (path to contents, as the disk holds them at the end). A
    /// write still waiting for its answer never heard back: it counts as unacknowledged.
    pub fn losses(&self, files: &BTreeMap<String, Vec<u8>>) -> DataLoss {
        let mut ledger = self.clone();
        for client in self.pending.keys() {
            ledger.write_heard(*client, Heard::Unknown);
        }
        let mut loss = DataLoss::default();
        for (path, promises) in &ledger.files {
            let contents = files.get(path).map_or(&[][..], Vec::as_slice);
            loss.acknowledged += promises.acknowledged.missing_from(contents);
            loss.unacknowledged += promises.unacknowledged.missing_from(contents);
        }
        loss
    }
}

/// `path` as the file system lists it: absolute, one slash between names.
pub fn canonical(path: &str) -> String {
    let written_so = path.starts_with('/') && !path.contains("//") && (path == "/" || !path.ends_with('/'));
    if written_so {
        return path.to_owned();
    }
    let names: Vec<&str> = path.split('/').filter(|name| !name.is_empty()).collect();
    format!("/{}", names.join("/"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn files(entries: &[(&str, &str)]) -> BTreeMap<String, Vec<u8>> {
        entries.iter().map(|(path, text)| ((*path).to_owned(), text.as_bytes().to_vec())).collect()
    }

    #[test]
    fn an_acknowledged_write_missing_at_the_end_is_counted_byte_by_byte() {
        let mut ledger = FileLedger::default();
        ledger.write_sent(1, "/notes", 0, b"hello");
        ledger.write_heard(1, Heard::Done(5));
        assert_eq!(ledger.losses(&files(&[("/notes", "hello")])), DataLoss::default());
        assert_eq!(ledger.losses(&files(&[("/notes", "help")])).acknowledged, 2);
        assert_eq!(ledger.losses(&files(&[])).acknowledged, 5);
    }

    #[test]
    fn a_write_that_failed_for_an_unknown_reason_voids_what_it_covered_and_is_unacknowledged() {
        let mut ledger = FileLedger::default();
        ledger.write_sent(1, "/notes", 0, b"aaaa");
        ledger.write_heard(1, Heard::Done(4));
        ledger.write_sent(1, "/notes", 2, b"bbbb");
        ledger.write_heard(1, Heard::Unknown);
        // The second write did not land: the first is whole, four attempted bytes are lost.
        let loss = ledger.losses(&files(&[("/notes", "aaaa")]));
        assert_eq!(loss, DataLoss { acknowledged: 0, unacknowledged: 4 });
        // It landed: nothing is lost, though the first write's last two bytes are gone.
        assert_eq!(ledger.losses(&files(&[("/notes", "aabbbb")])), DataLoss::default());
    }

    #[test]
    fn a_refused_write_keeps_the_promise_before_it_and_a_retry_that_succeeds_replaces_the_attempt() {
        let mut ledger = FileLedger::default();
        ledger.write_sent(1, "/a", 0, b"xy");
        ledger.write_heard(1, Heard::Done(2));
        ledger.write_sent(1, "/a", 0, b"zz");
        ledger.write_heard(1, Heard::Refused);
        assert_eq!(ledger.losses(&files(&[("/a", "zz")])).acknowledged, 2);
        ledger.write_sent(2, "/b", 0, b"12");
        ledger.write_heard(2, Heard::Unknown);
        ledger.write_sent(2, "/b", 0, b"12");
        ledger.write_heard(2, Heard::Done(2));
        assert_eq!(ledger.losses(&files(&[("/a", "xy")])), DataLoss { acknowledged: 2, unacknowledged: 0 });
    }

    #[test]
    fn overlapping_writes_keep_the_last_bytes_at_each_place() {
        let mut extents = Extents::default();
        extents.put(0, b"aaaaaa");
        extents.put(2, b"bb");
        extents.put(5, b"ccc");
        extents.put(10, b"dd");
        assert_eq!(extents.missing_from(b"aabbacccxxdd"), 0);
        assert_eq!(extents.missing_from(b"aaaaaaaa"), 7);
        extents.clear(1, 11);
        assert_eq!(extents.0.into_iter().collect::<Vec<_>>(), [(0, b"a".to_vec()), (11, b"d".to_vec())]);
    }

    #[test]
    fn a_write_never_answered_is_unacknowledged_and_an_unlink_ends_every_promise_of_the_file() {
        let mut ledger = FileLedger::default();
        ledger.write_sent(1, &canonical("//dir/file"), 0, b"abc");
        assert_eq!(ledger.losses(&files(&[])), DataLoss { acknowledged: 0, unacknowledged: 3 });
        ledger.write_heard(1, Heard::Done(3));
        ledger.unlink_heard("/dir/file", Heard::Refused);
        assert_eq!(ledger.losses(&files(&[])).acknowledged, 3);
        ledger.unlink_heard("/dir/file", Heard::Done(0));
        assert_eq!(ledger.losses(&files(&[])), DataLoss::default());
    }
}
