//! How the file system lies on its device: the metadata area, kept twice so
//! that a change torn by a failed transfer is never what a mount reads, then
//! the data blocks.
//!
//! The metadata area is the first blocks of the device, split in two halves,
//! one copy of the metadata in each. A copy is a header (the encoded
//! metadata's length, a generation, and a check: the first bytes of the
//! BLAKE3 hash of the generation and the metadata), the encoded metadata, and
//! zeros. A change is written to the copy not in use with the next
//! generation, its header block last; a mount takes the copy of the highest
//! generation whose check matches. A copy that is all zeros was never
//! written: it reads as an empty file system of generation 0.

use mksim_userland::protocol::ServiceError;
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet};

/// The root directory's inode.
pub(super) const ROOT: u32 = 0;

/// Bytes of the check in a copy's header.
const CHECK_BYTES: usize = 8;
/// Bytes of a copy's header: length (u32), generation (u64), check.
const HEADER_BYTES: usize = 4 + 8 + CHECK_BYTES;

#[derive(Clone, PartialEq, Eq, Debug, Serialize, Deserialize)]
pub(super) enum Inode {
    File {
        size: u64,
        blocks: Vec<u32>,
    },
    Directory {
        entries: BTreeMap<String, u32>,
    },
    /// A named pipe: only a name and a node number here; the pipe server holds its bytes.
    /// Last, so that metadata written before FIFOs existed reads the same.
    Fifo,
}

impl Inode {
    pub(super) fn empty_file() -> Inode {
        Inode::File { size: 0, blocks: Vec::new() }
    }

    pub(super) fn empty_directory() -> Inode {
        Inode::Directory { entries: BTreeMap::new() }
    }
}

/// Everything about the files but their data.
#[derive(Clone, PartialEq, Eq, Debug, Serialize, Deserialize)]
pub(super) struct Metadata {
    pub(super) inodes: BTreeMap<u32, Inode>,
    pub(super) next_inode: u32,
    /// The data blocks files hold. Not stored: a mount gathers it from the block lists, so it
    /// cannot disagree with them.
    #[serde(skip)]
    pub(super) used_blocks: BTreeSet<u32>,
}

impl Metadata {
    pub(super) fn fresh() -> Metadata {
        let mut inodes = BTreeMap::new();
        inodes.insert(ROOT, Inode::Directory { entries: BTreeMap::new() });
        Metadata { inodes, next_inode: 1, used_blocks: BTreeSet::new() }
    }

    /// Bytes the metadata takes encoded, header aside.
    pub(super) fn encoded_bytes(&self) -> usize {
        postcard::experimental::serialized_size(self).expect("metadata always encodes")
    }

    /// The metadata with its used blocks gathered, or `None` when it does not describe a file
    /// system on `layout`: a root that is not a directory, an entry naming no inode or an inode
    /// past `next_inode`, a block outside the data blocks or held twice, a block list that
    /// does not match its file's size.
    fn checked(mut self, layout: &Layout) -> Option<Metadata> {
        if !matches!(self.inodes.get(&ROOT), Some(Inode::Directory { .. })) {
            return None;
        }
        let mut used = BTreeSet::new();
        for (&number, inode) in &self.inodes {
            if number >= self.next_inode && number != ROOT {
                return None;
            }
            match inode {
                Inode::Directory { entries } => {
                    if entries.values().any(|child| *child == ROOT || !self.inodes.contains_key(child)) {
                        return None;
                    }
                }
                Inode::File { size, blocks } => {
                    let expected = usize::try_from(*size).ok()?.div_ceil(layout.block_size);
                    let in_range = blocks.iter().all(|block| layout.is_data(*block));
                    if blocks.len() != expected || !in_range || !blocks.iter().all(|block| used.insert(*block)) {
                        return None;
                    }
                }
                Inode::Fifo => {}
            }
        }
        self.used_blocks = used;
        Some(self)
    }
}

/// Where things are on a device.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(super) struct Layout {
    pub(super) block_size: usize,
    /// Blocks of one metadata copy: copy `c` starts at block `c * copy_blocks`.
    pub(super) copy_blocks: u32,
    /// Blocks on the device; those after the two copies hold data.
    pub(super) block_count: u32,
}

impl Layout {
    /// The layout of a device of `block_count` blocks of `block_size` bytes whose first
    /// `metadata_blocks` blocks hold the metadata (an odd one out stays unused).
    ///
    /// # Errors
    /// [`ServiceError::Io`] when the metadata area cannot hold two copies with their headers,
    /// or does not fit on the device.
    pub(super) fn new(block_size: usize, block_count: u32, metadata_blocks: u32) -> Result<Layout, ServiceError> {
        let copy_blocks = metadata_blocks / 2;
        let layout = Layout { block_size, copy_blocks, block_count };
        let fits = copy_blocks > 0 && 2 * copy_blocks <= block_count;
        if !fits || layout.copy_bytes() <= HEADER_BYTES { Err(ServiceError::Io) } else { Ok(layout) }
    }

    /// The first data block.
    pub(super) fn data_start(&self) -> u32 {
        2 * self.copy_blocks
    }

    /// Blocks that hold data.
    pub(super) fn data_blocks(&self) -> u32 {
        self.block_count - self.data_start()
    }

    pub(super) fn is_data(&self, block: u32) -> bool {
        (self.data_start()..self.block_count).contains(&block)
    }

    /// The first block of copy `copy` (0 or 1).
    pub(super) fn copy_start(&self, copy: u32) -> u32 {
        copy * self.copy_blocks
    }

    fn copy_bytes(&self) -> usize {
        self.copy_blocks as usize * self.block_size
    }

    /// The most bytes encoded metadata may take.
    pub(super) fn metadata_bytes_max(&self) -> usize {
        self.copy_bytes() - HEADER_BYTES
    }

    /// The copy generation `generation` is written to.
    pub(super) fn copy_of(generation: u64) -> u32 {
        (generation % 2) as u32
    }

    /// A copy's bytes: header, `metadata` encoded, zeros.
    ///
    /// # Errors
    /// [`ServiceError::NoSpace`] when the metadata does not fit in a copy.
    pub(super) fn encode(&self, metadata: &Metadata, generation: u64) -> Result<Vec<u8>, ServiceError> {
        let payload = postcard::to_stdvec(metadata).expect("metadata always encodes");
        if payload.len() > self.metadata_bytes_max() {
            return Err(ServiceError::NoSpace);
        }
        let mut bytes = Vec::with_capacity(self.copy_bytes());
        bytes.extend_from_slice(&(payload.len() as u32).to_le_bytes());
        bytes.extend_from_slice(&generation.to_le_bytes());
        bytes.extend_from_slice(&check(generation, &payload));
        bytes.extend_from_slice(&payload);
        bytes.resize(self.copy_bytes(), 0);
        Ok(bytes)
    }

    /// A copy's generation and metadata, or `None` for a copy that is torn or corrupt. A copy
    /// of zeros is an empty file system of generation 0.
    pub(super) fn decode(&self, bytes: &[u8]) -> Option<(u64, Metadata)> {
        if bytes.iter().all(|&byte| byte == 0) {
            return Some((0, Metadata::fresh()));
        }
        let length = u32::from_le_bytes(bytes.get(..4)?.try_into().ok()?) as usize;
        let generation = u64::from_le_bytes(bytes.get(4..12)?.try_into().ok()?);
        let stored = bytes.get(12..HEADER_BYTES)?;
        let payload = bytes.get(HEADER_BYTES..HEADER_BYTES.checked_add(length)?)?;
        if stored != check(generation, payload) {
            return None;
        }
        let metadata: Metadata = postcard::from_bytes(payload).ok()?;
        Some((generation, metadata.checked(self)?))
    }
}

fn check(generation: u64, payload: &[u8]) -> [u8; CHECK_BYTES] {
    let mut hasher = blake3::Hasher::new();
    hasher.update(&generation.to_le_bytes());
    hasher.update(payload);
    let mut check = [0; CHECK_BYTES];
    check.copy_from_slice(&hasher.finalize().as_bytes()[..CHECK_BYTES]);
    check
}

#[cfg(test)]
mod tests {
    use super::*;

    fn layout() -> Layout {
        Layout::new(64, 16, 4).unwrap()
    }

    fn with_file(size: u64, blocks: Vec<u32>) -> Metadata {
        let mut metadata = Metadata::fresh();
        metadata.inodes.insert(ROOT, Inode::Directory { entries: BTreeMap::from([("f".to_owned(), 1)]) });
        metadata.inodes.insert(1, Inode::File { size, blocks });
        metadata.next_inode = 2;
        metadata
    }

    #[test]
    fn a_copy_reads_back_with_its_generation_and_used_blocks() {
        let bytes = layout().encode(&with_file(100, vec![4, 9]), 7).unwrap();
        let (generation, metadata) = layout().decode(&bytes).unwrap();
        assert_eq!(generation, 7);
        assert_eq!(metadata.used_blocks, BTreeSet::from([4, 9]));
        assert_eq!(metadata, with_file(100, vec![4, 9]).checked(&layout()).unwrap());
    }

    #[test]
    fn a_torn_or_flipped_copy_does_not_read_but_zeros_read_as_empty() {
        let mut bytes = layout().encode(&with_file(100, vec![4, 9]), 7).unwrap();
        bytes[HEADER_BYTES + 3] ^= 1;
        assert_eq!(layout().decode(&bytes), None);
        assert_eq!(layout().decode(&[0; 128]), Some((0, Metadata::fresh())));
    }

    #[test]
    fn metadata_that_does_not_describe_the_device_does_not_read() {
        for wrong in [
            with_file(100, vec![4]),    // too few blocks for its size
            with_file(10, vec![2]),     // a metadata block
            with_file(10, vec![16]),    // past the end
            with_file(100, vec![5, 5]), // held twice
        ] {
            let bytes = layout().encode(&wrong, 1).unwrap();
            assert_eq!(layout().decode(&bytes), None, "{wrong:?}");
        }
    }

    #[test]
    fn metadata_too_large_for_a_copy_is_no_space_and_tiny_areas_are_refused() {
        let mut metadata = Metadata::fresh();
        metadata.inodes.insert(ROOT, Inode::Directory { entries: BTreeMap::from([("n".repeat(120), 1)]) });
        metadata.inodes.insert(1, Inode::File { size: 0, blocks: Vec::new() });
        assert_eq!(layout().encode(&metadata, 1), Err(ServiceError::NoSpace));
        assert_eq!(Layout::new(64, 16, 1), Err(ServiceError::Io));
        assert_eq!(Layout::new(64, 3, 4), Err(ServiceError::Io));
        assert_eq!(Layout::new(16, 16, 2), Err(ServiceError::Io));
    }
}
