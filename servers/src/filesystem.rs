//! The file system: a hierarchy of directories and files whose data and
//! metadata live in blocks on a [`BlockDevice`], read through a block cache.
//!
//! This is service logic only. The file server runs it behind an endpoint in
//! microkernel mode; monolithic mode calls it directly inside the kernel.
//! Metadata (inodes, directories, the block bitmap) is written through to the
//! first blocks of the device whenever it changes, so everything but open
//! file descriptors survives a restart of the server.

use crate::block::{BlockCache, BlockDevice, CacheCounters};
use mksim_userland::protocol::{FileStat, FsReply, FsRequest, ServiceError};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet};

const ROOT: u32 = 0;

#[derive(Clone, PartialEq, Eq, Debug, Serialize, Deserialize)]
enum Inode {
    File { size: u64, blocks: Vec<u32> },
    Directory { entries: BTreeMap<String, u32> },
}

#[derive(Clone, PartialEq, Eq, Debug, Serialize, Deserialize)]
struct Metadata {
    inodes: BTreeMap<u32, Inode>,
    next_inode: u32,
    used_blocks: BTreeSet<u32>,
}

impl Metadata {
    fn fresh() -> Metadata {
        let mut inodes = BTreeMap::new();
        inodes.insert(ROOT, Inode::Directory { entries: BTreeMap::new() });
        Metadata { inodes, next_inode: 1, used_blocks: BTreeSet::new() }
    }
}

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
struct OpenFile {
    inode: u32,
    offset: u64,
}

/// Sizes and limits of a file system.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct FsConfig {
    /// Blocks at the start of the device that hold the metadata.
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

/// A mounted file system.
#[derive(Clone, Debug)]
pub struct FileSystem {
    config: FsConfig,
    metadata: Metadata,
    persisted: Vec<Vec<u8>>,
    cache: BlockCache,
    /// Open files by client (badge) and descriptor.
    open: BTreeMap<(u64, u32), OpenFile>,
}

impl FileSystem {
    /// Mounts the file system on `device`, formatting it if it holds none.
    ///
    /// # Errors
    /// [`ServiceError::Io`] when the device fails or its metadata blocks do not decode.
    pub async fn mount<D: BlockDevice>(device: &mut D, config: FsConfig) -> Result<FileSystem, ServiceError> {
        let mut persisted = Vec::new();
        for block in 0..config.metadata_blocks {
            persisted.push(device.read_block(block).await?);
        }
        let bytes: Vec<u8> = persisted.concat();
        let length = u32::from_le_bytes(bytes[..4].try_into().map_err(|_| ServiceError::Io)?) as usize;
        let metadata = if length == 0 {
            Metadata::fresh()
        } else {
            let encoded = bytes.get(4..4 + length).ok_or(ServiceError::Io)?;
            postcard::from_bytes(encoded).map_err(|_| ServiceError::Io)?
        };
        let cache = BlockCache::new(config.cache_blocks);
        Ok(FileSystem { config, metadata, persisted, cache, open: BTreeMap::new() })
    }

    /// Cache hits, misses and writes so far.
    pub fn cache_counters(&self) -> CacheCounters {
        self.cache.counters()
    }

    /// Carries out one request for `client`.
    pub async fn handle<D: BlockDevice>(&mut self, device: &mut D, client: u64, request: FsRequest) -> FsReply {
        let result = match request {
            FsRequest::Create { path } => self.create(device, &path, false).await.map(|_| FsReply::Done),
            FsRequest::Open { path, create } => self.open(device, client, &path, create).await.map(FsReply::Descriptor),
            FsRequest::Read { fd, len } => self.read(device, client, fd, len as usize).await.map(FsReply::Data),
            FsRequest::Write { fd, data } => self.write(device, client, fd, &data).await.map(FsReply::Written),
            FsRequest::Seek { fd, offset } => self.seek(client, fd, offset).map(|()| FsReply::Done),
            FsRequest::Close { fd } => {
                self.open.remove(&(client, fd)).map(|_| FsReply::Done).ok_or(ServiceError::BadDescriptor)
            }
            FsRequest::Stat { path } => self.stat(&path).map(FsReply::Stat),
            FsRequest::Mkdir { path } => self.create(device, &path, true).await.map(|_| FsReply::Done),
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

    async fn create<D: BlockDevice>(
        &mut self,
        device: &mut D,
        path: &str,
        directory: bool,
    ) -> Result<u32, ServiceError> {
        let (parent, name) = self.resolve_parent(path)?;
        let inode = self.metadata.next_inode;
        let Some(Inode::Directory { entries }) = self.metadata.inodes.get_mut(&parent) else {
            return Err(ServiceError::NotADirectory);
        };
        if entries.contains_key(name) {
            return Err(ServiceError::AlreadyExists);
        }
        entries.insert(name.to_owned(), inode);
        let node = if directory {
            Inode::Directory { entries: BTreeMap::new() }
        } else {
            Inode::File { size: 0, blocks: Vec::new() }
        };
        self.metadata.inodes.insert(inode, node);
        self.metadata.next_inode += 1;
        self.persist(device).await?;
        Ok(inode)
    }

    async fn open<D: BlockDevice>(
        &mut self,
        device: &mut D,
        client: u64,
        path: &str,
        create: bool,
    ) -> Result<u32, ServiceError> {
        let inode = match self.resolve(path) {
            Err(ServiceError::NotFound) if create => self.create(device, path, false).await?,
            other => other?,
        };
        if matches!(self.metadata.inodes.get(&inode), Some(Inode::Directory { .. })) {
            return Err(ServiceError::IsADirectory);
        }
        let used: BTreeSet<u32> = self.open.keys().filter(|(owner, _)| *owner == client).map(|&(_, fd)| fd).collect();
        if used.len() >= self.config.open_files_max {
            return Err(ServiceError::TooManyOpen);
        }
        let fd = (3..).find(|fd| !used.contains(fd)).expect("a free descriptor below the limit");
        self.open.insert((client, fd), OpenFile { inode, offset: 0 });
        Ok(fd)
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
        self.open.get_mut(&(client, fd)).expect("checked above").offset = end as u64;
        Ok(data)
    }

    async fn read_range<D: BlockDevice>(
        &mut self,
        device: &mut D,
        blocks: &[u32],
        start: usize,
        end: usize,
    ) -> Result<Vec<u8>, ServiceError> {
        let block_size = device.block_size();
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
        let (open, size, mut blocks) = self.file_of(client, fd)?;
        if data.is_empty() {
            return Ok(0);
        }
        let block_size = device.block_size();
        let capacity = device.block_count() as usize * block_size;
        let start = usize::try_from(open.offset).map_err(|_| ServiceError::NoSpace)?;
        let end = start.checked_add(data.len()).filter(|&end| end <= capacity).ok_or(ServiceError::NoSpace)?;
        let needed = end.div_ceil(block_size);
        let grew = needed > blocks.len();
        let first_new = blocks.len();
        while blocks.len() < needed {
            blocks.push(self.allocate(device)?);
        }
        // Blocks a write past the end skips over still hold whatever a deleted file left there.
        for (index, &block) in blocks.iter().enumerate().skip(first_new) {
            if (index + 1) * block_size <= start {
                self.cache.write(device, block, vec![0; block_size]).await?;
            }
        }
        let mut position = start;
        while position < end {
            let index = position / block_size;
            let within = position % block_size;
            let take = (block_size - within).min(end - position);
            let mut block = if take == block_size || index * block_size >= size as usize {
                vec![0; block_size]
            } else {
                self.cache.read(device, blocks[index]).await?
            };
            block[within..within + take].copy_from_slice(&data[position - start..position - start + take]);
            self.cache.write(device, blocks[index], block).await?;
            position += take;
        }
        let new_size = size.max(end as u64);
        if let Some(Inode::File { size, blocks: stored }) = self.metadata.inodes.get_mut(&open.inode) {
            *size = new_size;
            *stored = blocks;
        }
        self.open.get_mut(&(client, fd)).expect("checked above").offset = end as u64;
        if grew || new_size != size {
            self.persist(device).await?;
        }
        Ok(data.len() as u32)
    }

    fn allocate<D: BlockDevice>(&mut self, device: &D) -> Result<u32, ServiceError> {
        let free = (self.config.metadata_blocks..device.block_count())
            .find(|block| !self.metadata.used_blocks.contains(block));
        let block = free.ok_or(ServiceError::NoSpace)?;
        self.metadata.used_blocks.insert(block);
        Ok(block)
    }

    fn seek(&mut self, client: u64, fd: u32, offset: u64) -> Result<(), ServiceError> {
        self.file_of(client, fd)?;
        self.open.get_mut(&(client, fd)).expect("checked above").offset = offset;
        Ok(())
    }

    fn stat(&self, path: &str) -> Result<FileStat, ServiceError> {
        match self.metadata.inodes.get(&self.resolve(path)?) {
            Some(Inode::File { size, .. }) => Ok(FileStat { size: *size, is_directory: false }),
            Some(Inode::Directory { entries }) => Ok(FileStat { size: entries.len() as u64, is_directory: true }),
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
        if let Some(Inode::Directory { entries }) = self.metadata.inodes.get_mut(&parent) {
            entries.remove(name);
        }
        if let Some(Inode::File { blocks, .. }) = self.metadata.inodes.remove(&inode) {
            for block in blocks {
                self.metadata.used_blocks.remove(&block);
            }
        }
        self.persist(device).await
    }

    /// Writes the metadata blocks that changed since they were last written.
    async fn persist<D: BlockDevice>(&mut self, device: &mut D) -> Result<(), ServiceError> {
        let encoded = postcard::to_stdvec(&self.metadata).expect("metadata always encodes");
        let block_size = device.block_size();
        let mut bytes = (encoded.len() as u32).to_le_bytes().to_vec();
        bytes.extend_from_slice(&encoded);
        if bytes.len() > block_size * self.config.metadata_blocks as usize {
            return Err(ServiceError::NoSpace);
        }
        bytes.resize(block_size * self.config.metadata_blocks as usize, 0);
        for (index, chunk) in bytes.chunks(block_size).enumerate() {
            if self.persisted[index] != chunk {
                self.cache.write(device, index as u32, chunk.to_vec()).await?;
                self.persisted[index] = chunk.to_vec();
            }
        }
        Ok(())
    }
}
