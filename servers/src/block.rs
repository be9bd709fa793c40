//! Block storage: the device interface the file system is written against,
//! the ramdisk behind the block device server, and a bounded block cache.

use mksim_userland::protocol::ServiceError;
use std::collections::{BTreeMap, VecDeque};

/// Where the file system reads and writes whole blocks.
///
/// In microkernel mode every call is a message round trip to the block
/// device server; in monolithic mode it is a function call into the driver.
/// The file system code is the same in both, so it is written against this.
#[allow(async_fn_in_trait)] // The simulation is single-threaded: no Send bounds wanted.
pub trait BlockDevice {
    /// Bytes in a block.
    fn block_size(&self) -> usize;
    /// Blocks on the device.
    fn block_count(&self) -> u32;
    /// Reads one block.
    ///
    /// # Errors
    /// [`ServiceError::Io`] when the device or its server fails.
    async fn read_block(&mut self, block: u32) -> Result<Vec<u8>, ServiceError>;
    /// Writes one block (`data` is exactly one block).
    ///
    /// # Errors
    /// [`ServiceError::Io`] when the device or its server fails.
    async fn write_block(&mut self, block: u32, data: &[u8]) -> Result<(), ServiceError>;
}

/// A zero-filled disk in memory.
#[derive(Clone, PartialEq, Eq, Debug)]
pub struct Ramdisk {
    block_size: usize,
    blocks: Vec<Vec<u8>>,
}

impl Ramdisk {
    /// A disk of `block_count` blocks of `block_size` bytes.
    pub fn new(block_count: u32, block_size: usize) -> Ramdisk {
        Ramdisk { block_size, blocks: vec![vec![0; block_size]; block_count as usize] }
    }

    /// Bytes in a block.
    pub fn block_size(&self) -> usize {
        self.block_size
    }

    /// Blocks on the disk.
    pub fn block_count(&self) -> u32 {
        self.blocks.len() as u32
    }

    /// One block's bytes.
    ///
    /// # Errors
    /// [`ServiceError::Io`] for a block number past the end.
    pub fn read(&self, block: u32) -> Result<Vec<u8>, ServiceError> {
        self.blocks.get(block as usize).cloned().ok_or(ServiceError::Io)
    }

    /// Replaces one block.
    ///
    /// # Errors
    /// [`ServiceError::Io`] for a block number past the end or data of the wrong size.
    pub fn write(&mut self, block: u32, data: &[u8]) -> Result<(), ServiceError> {
        let stored = self.blocks.get_mut(block as usize).ok_or(ServiceError::Io)?;
        if data.len() != stored.len() {
            return Err(ServiceError::Io);
        }
        stored.copy_from_slice(data);
        Ok(())
    }
}

/// Hits and misses of a [`BlockCache`].
#[derive(Clone, Copy, PartialEq, Eq, Debug, Default)]
pub struct CacheCounters {
    /// Reads answered from the cache.
    pub hits: u64,
    /// Reads that went to the device.
    pub misses: u64,
    /// Writes sent through to the device.
    pub writes: u64,
}

/// A bounded, write-through block cache that evicts the least recently used block.
#[derive(Clone, Debug)]
pub struct BlockCache {
    capacity: usize,
    blocks: BTreeMap<u32, Vec<u8>>,
    /// Most recently used last.
    recency: VecDeque<u32>,
    counters: CacheCounters,
}

impl BlockCache {
    /// A cache holding at most `capacity` blocks (zero disables caching).
    pub fn new(capacity: usize) -> BlockCache {
        BlockCache { capacity, blocks: BTreeMap::new(), recency: VecDeque::new(), counters: CacheCounters::default() }
    }

    /// Hits, misses and writes so far.
    pub fn counters(&self) -> CacheCounters {
        self.counters
    }

    /// Reads a block, from the cache when it is there.
    ///
    /// # Errors
    /// What the device answers on a miss.
    pub async fn read<D: BlockDevice>(&mut self, device: &mut D, block: u32) -> Result<Vec<u8>, ServiceError> {
        if let Some(data) = self.blocks.get(&block) {
            let data = data.clone();
            self.counters.hits += 1;
            self.touch(block);
            return Ok(data);
        }
        self.counters.misses += 1;
        let data = device.read_block(block).await?;
        self.remember(block, data.clone());
        Ok(data)
    }

    /// Writes a block through to the device and keeps it cached.
    ///
    /// # Errors
    /// What the device answers.
    pub async fn write<D: BlockDevice>(
        &mut self,
        device: &mut D,
        block: u32,
        data: Vec<u8>,
    ) -> Result<(), ServiceError> {
        self.counters.writes += 1;
        device.write_block(block, &data).await?;
        self.remember(block, data);
        Ok(())
    }

    fn touch(&mut self, block: u32) {
        self.recency.retain(|&cached| cached != block);
        self.recency.push_back(block);
    }

    fn remember(&mut self, block: u32, data: Vec<u8>) {
        if self.capacity == 0 {
            return;
        }
        if !self.blocks.contains_key(&block)
            && self.blocks.len() >= self.capacity
            && let Some(oldest) = self.recency.pop_front()
        {
            self.blocks.remove(&oldest);
        }
        self.blocks.insert(block, data);
        self.touch(block);
    }
}
