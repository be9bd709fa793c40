//! The file system: a hierarchy of directories and files whose data and
//! metadata live in blocks on a [`BlockDevice`], read through a block cache.
//!
//! This is service logic only. The file server runs it behind an endpoint in
//! microkernel mode; monolithic mode calls it directly inside the kernel.
//! Metadata (inodes, directories, block lists) is written through to the
//! first blocks of the device whenever it changes, so everything but open
//! file descriptors survives a restart of the server.
//!
//! Every operation is all-or-nothing: when it fails (no space, a name too
//! long, a device error half-way), the file system in memory and the one a
//! mount reads from the disk are what they were before it. Three rules give
//! that:
//!
//! - An operation changes a copy of the metadata, which takes the place of
//!   the one in memory only once it is on disk.
//! - The disk holds the metadata twice and a change goes to the older copy,
//!   so a change torn half-way is never what a mount reads (see `on_disk.rs`).
//! - Data a file holds is never overwritten in place: a write that changes
//!   bytes of a block the file has writes the whole block to a free block,
//!   and the metadata that points at the new block frees the old one. Bytes
//!   past the end of a file are not part of it, so a write there (an append
//!   to the last block) goes in place, and bytes past the end are never
//!   trusted when a block is read back.
//!
//! So a write needs one free block for each block it adds to the file and
//! one for each block of the file's data it changes; with fewer it fails
//! with "no space" before it has written anything.
//!
//! A transfer the device reports failed is taken not to have happened, as
//! with the ramdisk and its driver, with one exception: a driver whose
//! replies come back garbled until the file server gives up has written the
//! block all the same. If that block was a metadata header, the next mount
//! shows the change the file server reported failed, until the next change
//! writes over it.

mod on_disk;

use crate::block::{BlockCache, BlockDevice, CacheCounters};
use mksim_userland::protocol::{FileStat, FsReply, FsRequest, ServiceError};
use on_disk::{Inode, Layout, Metadata, ROOT};
use std::collections::{BTreeMap, BTreeSet};

/// The longest name a file or directory may have, in bytes (POSIX's `NAME_MAX`).
pub const NAME_BYTES_MAX: usize = 255;

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
struct OpenFile {
    inode: u32,
    offset: u64,
}

/// Sizes and limits of a file system.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct FsConfig {
    /// Blocks at the start of the device that hold the metadata: two copies, each in half of
    /// them.
    pub metadata_blocks: u32,
    /// Blocks the cache holds.
    pub cache_blocks: usize,
    /// Open descriptors per client.
    pub open_files_max: usize,
    /// Bytes one read or write may move (it must fit in one message).
    pub transfer_bytes_max: usize,
}

impl Default for FsConfig {
    fn default() -> Self {
        FsConfig { metadata_blocks: 4, cache_blocks: 8, open_files_max: 16, transfer_bytes_max: 512 }
    }
}

/// How full a file system is.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct Usage {
    /// Blocks of the device that hold file data.
    pub data_blocks: u32,
    /// Of those, the ones no file holds.
    pub data_blocks_free: u32,
    /// Bytes the metadata (names, sizes, block lists) takes encoded.
    pub metadata_bytes: usize,
    /// The most bytes it may take: a copy's blocks less its header.
    pub metadata_bytes_max: usize,
}

/// A mounted file system.
#[derive(Clone, Debug)]
pub struct FileSystem {
    config: FsConfig,
    layout: Layout,
    metadata: Metadata,
    /// The generation of the metadata copy on disk that `metadata` is.
    generation: u64,
    /// What each metadata block holds on disk, so that a change writes only the blocks it changes.
    persisted: Vec<Vec<u8>>,
    cache: BlockCache,
    /// Open files by client (badge) and descriptor.
    open: BTreeMap<(u64, u32), OpenFile>,
}

/// New metadata, encoded and ready to be written.
struct Staged {
    metadata: Metadata,
    bytes: Vec<u8>,
}

/// One block a write puts on disk: block `index` of the file goes to `target`, keeping the
/// file's bytes of `source` (its old block, if it had one) that the write does not replace.
struct BlockWrite {
    index: usize,
    target: u32,
    source: Option<u32>,
}

impl FileSystem {
    /// Mounts the file system on `device`, formatting it if it holds none: the newest copy of
    /// the metadata that is whole.
    ///
    /// # Errors
    /// [`ServiceError::Io`] when the device fails, is too small for the metadata area, or
    /// neither copy of the metadata is whole.
    pub async fn mount<D: BlockDevice>(device: &mut D, config: FsConfig) -> Result<FileSystem, ServiceError> {
        let layout = Layout::new(device.block_size(), device.block_count(), config.metadata_blocks)?;
        let mut persisted = Vec::new();
        for block in 0..layout.data_start() {
            persisted.push(device.read_block(block).await?);
        }
        let copies = persisted.chunks(layout.copy_blocks as usize);
        let newest = copies.filter_map(|copy| layout.decode(&copy.concat())).max_by_key(|(generation, _)| *generation);
        let (generation, metadata) = newest.ok_or(ServiceError::Io)?;
        let cache = BlockCache::new(config.cache_blocks);
        Ok(FileSystem { config, layout, metadata, generation, persisted, cache, open: BTreeMap::new() })
    }

    /// Cache hits, misses and writes so far.
    pub fn cache_counters(&self) -> CacheCounters {
        self.cache.counters()
    }

    /// How full the file system is.
    pub fn usage(&self) -> Usage {
        let data_blocks = self.layout.data_blocks();
        Usage {
            data_blocks,
            data_blocks_free: data_blocks - self.metadata.used_blocks.len() as u32,
            metadata_bytes: self.metadata.encoded_bytes(),
            metadata_bytes_max: self.layout.metadata_bytes_max(),
        }
    }

    /// Carries out one request for `client`.
    pub async fn handle<D: BlockDevice>(&mut self, device: &mut D, client: u64, request: FsRequest) -> FsReply {
        let result = match request {
            FsRequest::Create { path } => self.create(device, &path, Inode::empty_file()).await.map(|_| FsReply::Done),
            FsRequest::Open { path, create } => self.open(device, client, &path, create).await,
            FsRequest::Read { fd, len } => self.read(device, client, fd, len as usize).await.map(FsReply::Data),
            FsRequest::Write { fd, data } => self.write(device, client, fd, &data).await.map(FsReply::Written),
            FsRequest::Seek { fd, offset } => self.seek(client, fd, offset).map(|()| FsReply::Done),
            FsRequest::Close { fd } => {
                self.open.remove(&(client, fd)).map(|_| FsReply::Done).ok_or(ServiceError::BadDescriptor)
            }
            FsRequest::Stat { path } => self.stat(&path).map(FsReply::Stat),
            FsRequest::Mkdir { path } => {
                self.create(device, &path, Inode::empty_directory()).await.map(|_| FsReply::Done)
            }
            FsRequest::Mkfifo { path } => self.create(device, &path, Inode::Fifo).await.map(|_| FsReply::Done),
            FsRequest::Readdir { path } => self.readdir(&path).map(FsReply::Entries),
            FsRequest::Unlink { path } => self.unlink(device, &path).await.map(|()| FsReply::Done),
        };
        result.unwrap_or_else(FsReply::Error)
    }

    /// Forgets every descriptor of a client (it died).
    pub fn close_all(&mut self, client: u64) {
        self.open.retain(|&(owner, _), _| owner != client);
    }

    /// Every file's path and contents, for comparing the two modes.
    ///
    /// # Errors
    /// What the device answers.
    pub async fn snapshot<D: BlockDevice>(
        &mut self,
        device: &mut D,
    ) -> Result<BTreeMap<String, Vec<u8>>, ServiceError> {
        let mut files = BTreeMap::new();
        let mut pending = vec![(String::new(), ROOT)];
        while let Some((path, inode)) = pending.pop() {
            match self.metadata.inodes.get(&inode).cloned() {
                Some(Inode::Directory { entries }) => {
                    pending.extend(entries.into_iter().map(|(name, child)| (format!("{path}/{name}"), child)));
                }
                Some(Inode::File { size, blocks }) => {
                    let contents = self.read_range(device, &blocks, 0, size as usize).await?;
                    files.insert(path, contents);
                }
                // A FIFO holds no bytes: its data, if any, is at the pipe server.
                Some(Inode::Fifo) => {}
                None => return Err(ServiceError::Io),
            }
        }
        Ok(files)
    }

    fn split(path: &str) -> Result<Vec<&str>, ServiceError> {
        let rest = path.strip_prefix('/').ok_or(ServiceError::InvalidPath)?;
        if rest.is_empty() {
            return Ok(Vec::new());
        }
        let parts: Vec<&str> = rest.split('/').collect();
        if parts.iter().any(|part| part.is_empty() || *part == "." || *part == "..") {
            return Err(ServiceError::InvalidPath);
        }
        if parts.iter().any(|part| part.len() > NAME_BYTES_MAX) {
            return Err(ServiceError::NameTooLong);
        }
        Ok(parts)
    }

    fn resolve(&self, path: &str) -> Result<u32, ServiceError> {
        let mut inode = ROOT;
        for part in Self::split(path)? {
            match self.metadata.inodes.get(&inode) {
                Some(Inode::Directory { entries }) => inode = *entries.get(part).ok_or(ServiceError::NotFound)?,
                _ => return Err(ServiceError::NotADirectory),
            }
        }
        Ok(inode)
    }

    /// The parent directory's inode and the last path component.
    fn resolve_parent<'a>(&self, path: &'a str) -> Result<(u32, &'a str), ServiceError> {
        let parts = Self::split(path)?;
        let (&name, parents) = parts.split_last().ok_or(ServiceError::AlreadyExists)?;
        let parent_path = format!("/{}", parents.join("/"));
        let parent = self.resolve(&parent_path)?;
        match self.metadata.inodes.get(&parent) {
            Some(Inode::Directory { .. }) => Ok((parent, name)),
            _ => Err(ServiceError::NotADirectory),
        }
    }

    async fn create<D: BlockDevice>(&mut self, device: &mut D, path: &str, node: Inode) -> Result<u32, ServiceError> {
        let (parent, name) = self.resolve_parent(path)?;
        let mut next = self.metadata.clone();
        let inode = next.next_inode;
        let Some(Inode::Directory { entries }) = next.inodes.get_mut(&parent) else {
            return Err(ServiceError::NotADirectory);
        };
        if entries.contains_key(name) {
            return Err(ServiceError::AlreadyExists);
        }
        entries.insert(name.to_owned(), inode);
        next.inodes.insert(inode, node);
        next.next_inode = inode.checked_add(1).ok_or(ServiceError::NoSpace)?;
        let staged = self.stage(next)?;
        self.commit(device, staged).await?;
        Ok(inode)
    }

    async fn open<D: BlockDevice>(
        &mut self,
        device: &mut D,
        client: u64,
        path: &str,
        create: bool,
    ) -> Result<FsReply, ServiceError> {
        // A FIFO is opened at the pipe server: here it takes no descriptor, only its node
        // number goes back.
        if let Ok(inode) = self.resolve(path)
            && matches!(self.metadata.inodes.get(&inode), Some(Inode::Fifo))
        {
            return Ok(FsReply::Fifo(inode));
        }
        // The descriptor first: an open that creates its file must not fail after creating it.
        let used: BTreeSet<u32> = self.open.keys().filter(|(owner, _)| *owner == client).map(|&(_, fd)| fd).collect();
        if used.len() >= self.config.open_files_max {
            return Err(ServiceError::TooManyOpen);
        }
        let fd = (3..).find(|fd| !used.contains(fd)).expect("a free descriptor below the limit");
        let inode = match self.resolve(path) {
            Err(ServiceError::NotFound) if create => self.create(device, path, Inode::empty_file()).await?,
            other => other?,
        };
        if matches!(self.metadata.inodes.get(&inode), Some(Inode::Directory { .. })) {
            return Err(ServiceError::IsADirectory);
        }
        self.open.insert((client, fd), OpenFile { inode, offset: 0 });
        Ok(FsReply::Descriptor(fd))
    }

    fn file_of(&self, client: u64, fd: u32) -> Result<(OpenFile, u64, Vec<u32>), ServiceError> {
        let open = *self.open.get(&(client, fd)).ok_or(ServiceError::BadDescriptor)?;
        match self.metadata.inodes.get(&open.inode) {
            Some(Inode::File { size, blocks }) => Ok((open, *size, blocks.clone())),
            // The file was unlinked while open: it reads as gone.
            _ => Err(ServiceError::BadDescriptor),
        }
    }

    async fn read<D: BlockDevice>(
        &mut self,
        device: &mut D,
        client: u64,
        fd: u32,
        len: usize,
    ) -> Result<Vec<u8>, ServiceError> {
        if len > self.config.transfer_bytes_max {
            return Err(ServiceError::TooLarge);
        }
        let (open, size, blocks) = self.file_of(client, fd)?;
        let start = open.offset.min(size) as usize;
        let end = (start + len).min(size as usize);
        let data = self.read_range(device, &blocks, start, end).await?;
        // A read at or past the end reads nothing and leaves the offset where it was.
        self.open.get_mut(&(client, fd)).expect("checked above").offset = open.offset + data.len() as u64;
        Ok(data)
    }

    async fn read_range<D: BlockDevice>(
        &mut self,
        device: &mut D,
        blocks: &[u32],
        start: usize,
        end: usize,
    ) -> Result<Vec<u8>, ServiceError> {
        let block_size = self.layout.block_size;
        let mut data = Vec::with_capacity(end.saturating_sub(start));
        let mut position = start;
        while position < end {
            let index = position / block_size;
            let within = position % block_size;
            let take = (block_size - within).min(end - position);
            let block = self.cache.read(device, blocks[index]).await?;
            data.extend_from_slice(&block[within..within + take]);
            position += take;
        }
        Ok(data)
    }

    /// Writes `data` at the descriptor's offset: the blocks first (to free blocks, or past the
    /// end of the file), then the metadata that makes them the file's; only then do the size
    /// and the offset move.
    async fn write<D: BlockDevice>(
        &mut self,
        device: &mut D,
        client: u64,
        fd: u32,
        data: &[u8],
    ) -> Result<u32, ServiceError> {
        if data.len() > self.config.transfer_bytes_max {
            return Err(ServiceError::TooLarge);
        }
        let (open, size, blocks) = self.file_of(client, fd)?;
        if data.is_empty() {
            return Ok(0);
        }
        let start = usize::try_from(open.offset).map_err(|_| ServiceError::NoSpace)?;
        let end = start.checked_add(data.len()).ok_or(ServiceError::NoSpace)?;
        let (plan, staged) = self.plan_write(open.inode, size as usize, &blocks, start, end)?;
        self.write_blocks(device, &plan, size as usize, start, data).await?;
        self.commit(device, staged).await?;
        self.open.get_mut(&(client, fd)).expect("checked above").offset = end as u64;
        Ok(data.len() as u32)
    }

    /// Where each block a write of bytes `start..end` of `inode` goes, and the metadata after
    /// it, with the blocks it needs taken and the blocks it replaces freed.
    ///
    /// # Errors
    /// [`ServiceError::NoSpace`] when there are too few free blocks or the metadata would not fit.
    fn plan_write(
        &self,
        inode: u32,
        size: usize,
        blocks: &[u32],
        start: usize,
        end: usize,
    ) -> Result<(Vec<BlockWrite>, Staged), ServiceError> {
        let block_size = self.layout.block_size;
        let needed = end.div_ceil(block_size).max(blocks.len());
        // The blocks holding bytes of the file that the write changes: they are written anew.
        let renewed = if start < size { start / block_size..(end.min(size) - 1) / block_size + 1 } else { 0..0 };
        let added = needed - blocks.len();
        let wanted = added.checked_add(renewed.len()).ok_or(ServiceError::NoSpace)?;
        let mut next = self.metadata.clone();
        let mut fresh = next.allocate(wanted, &self.layout)?.into_iter();
        let mut placed = blocks.to_vec();
        for index in renewed.clone() {
            placed[index] = fresh.next().expect("allocated above");
        }
        placed.extend(fresh);
        // Freed only now, so that none of the blocks taken above is one the file still holds.
        for index in renewed {
            next.used_blocks.remove(&blocks[index]);
        }
        // The blocks the bytes go to; before them any the file did not have yet (a hole); and
        // a last block the file has only part of, whose bytes past the end join the file and
        // must be zeros (a failed append may have left its bytes there).
        let first = if size.is_multiple_of(block_size) { blocks.len() } else { size / block_size };
        let touched = first.min(start / block_size)..end.div_ceil(block_size);
        let plan = touched
            .map(|index| BlockWrite { index, target: placed[index], source: blocks.get(index).copied() })
            .collect();
        next.inodes.insert(inode, Inode::File { size: size.max(end) as u64, blocks: placed });
        Ok((plan, self.stage(next)?))
    }

    /// Puts the blocks of a write on disk. Blocks of the file before `start` that the file did
    /// not have yet (a hole) are zeros; a block written only in part, or not at all (the last
    /// block, when the write starts past it), keeps the file's bytes of its old block, and
    /// zeros past the end of the file (whatever a failed write left there).
    async fn write_blocks<D: BlockDevice>(
        &mut self,
        device: &mut D,
        plan: &[BlockWrite],
        size: usize,
        start: usize,
        data: &[u8],
    ) -> Result<(), ServiceError> {
        let block_size = self.layout.block_size;
        let end = start + data.len();
        for write in plan {
            let block_start = write.index * block_size;
            let from = start.clamp(block_start, block_start + block_size);
            let to = end.clamp(block_start, block_start + block_size);
            let kept = size.saturating_sub(block_start).min(block_size);
            let mut block = match write.source {
                Some(source) if to - from < block_size && kept > 0 => {
                    let mut old = self.cache.read(device, source).await?;
                    old[kept..].fill(0);
                    old
                }
                _ => vec![0; block_size],
            };
            if from < to {
                block[from - block_start..to - block_start].copy_from_slice(&data[from - start..to - start]);
            }
            self.cache.write(device, write.target, block).await?;
        }
        Ok(())
    }

    fn seek(&mut self, client: u64, fd: u32, offset: u64) -> Result<(), ServiceError> {
        self.file_of(client, fd)?;
        self.open.get_mut(&(client, fd)).expect("checked above").offset = offset;
        Ok(())
    }

    fn stat(&self, path: &str) -> Result<FileStat, ServiceError> {
        match self.metadata.inodes.get(&self.resolve(path)?) {
            Some(Inode::File { size, .. }) => Ok(FileStat { size: *size, is_directory: false, is_fifo: false }),
            Some(Inode::Directory { entries }) => {
                Ok(FileStat { size: entries.len() as u64, is_directory: true, is_fifo: false })
            }
            Some(Inode::Fifo) => Ok(FileStat { size: 0, is_directory: false, is_fifo: true }),
            None => Err(ServiceError::NotFound),
        }
    }

    fn readdir(&self, path: &str) -> Result<Vec<String>, ServiceError> {
        match self.metadata.inodes.get(&self.resolve(path)?) {
            Some(Inode::Directory { entries }) => Ok(entries.keys().cloned().collect()),
            _ => Err(ServiceError::NotADirectory),
        }
    }

    async fn unlink<D: BlockDevice>(&mut self, device: &mut D, path: &str) -> Result<(), ServiceError> {
        let (parent, name) = self.resolve_parent(path)?;
        let inode = self.resolve(path)?;
        if let Some(Inode::Directory { entries }) = self.metadata.inodes.get(&inode)
            && !entries.is_empty()
        {
            return Err(ServiceError::NotEmpty);
        }
        let mut next = self.metadata.clone();
        if let Some(Inode::Directory { entries }) = next.inodes.get_mut(&parent) {
            entries.remove(name);
        }
        if let Some(Inode::File { blocks, .. }) = next.inodes.remove(&inode) {
            for block in blocks {
                next.used_blocks.remove(&block);
            }
        }
        let staged = self.stage(next)?;
        self.commit(device, staged).await
    }

    /// Encodes `metadata` as the next generation's copy.
    ///
    /// # Errors
    /// [`ServiceError::NoSpace`] when it does not fit in a copy.
    fn stage(&self, metadata: Metadata) -> Result<Staged, ServiceError> {
        let bytes = self.layout.encode(&metadata, self.generation + 1)?;
        Ok(Staged { metadata, bytes })
    }

    /// Writes staged metadata over the older copy on disk, header block last, then makes it
    /// the file system's. Until the header is on disk that copy does not check, and a mount
    /// reads the other one: what the file system was before.
    async fn commit<D: BlockDevice>(&mut self, device: &mut D, staged: Staged) -> Result<(), ServiceError> {
        let generation = self.generation + 1;
        let first = self.layout.copy_start(Layout::copy_of(generation));
        let chunks: Vec<&[u8]> = staged.bytes.chunks(self.layout.block_size).collect();
        let order = (1..chunks.len()).chain([0]);
        for index in order {
            let block = first + index as u32;
            let chunk = chunks[index];
            if self.persisted[block as usize] != chunk {
                self.cache.write(device, block, chunk.to_vec()).await?;
                self.persisted[block as usize] = chunk.to_vec();
            }
        }
        self.metadata = staged.metadata;
        self.generation = generation;
        Ok(())
    }
}

impl Metadata {
    /// Takes `count` free data blocks, the lowest first.
    ///
    /// # Errors
    /// [`ServiceError::NoSpace`] when fewer are free; then none is taken.
    fn allocate(&mut self, count: usize, layout: &Layout) -> Result<Vec<u32>, ServiceError> {
        let free = layout.data_blocks() as usize - self.used_blocks.len();
        if count > free {
            return Err(ServiceError::NoSpace);
        }
        let taken: Vec<u32> = (layout.data_start()..layout.block_count)
            .filter(|block| !self.used_blocks.contains(block))
            .take(count)
            .collect();
        self.used_blocks.extend(&taken);
        Ok(taken)
    }
}
