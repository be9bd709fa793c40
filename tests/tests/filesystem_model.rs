//! The file system against a model of what it should be.
//!
//! A [`Case`] is a tiny disk (64-byte blocks, 4 of them for the metadata, 4
//! to 12 for data) and a sequence of random operations on a few files and
//! directories: create, open, write at offsets, read at offsets, seek, close,
//! unlink, mkdir, mkfifo, readdir, stat, with names that collide, long names that
//! fill the metadata, names over the limit, and writes that overflow the
//! disk. The [`Model`] is a map of paths to byte vectors and directories,
//! with the free space counted: data blocks (one per 64 bytes of each file)
//! and metadata bytes (the file system's metadata as it encodes it, which the
//! model works out from the names and sizes). It says exactly what each
//! request must answer, including "no space"; a failed request changes
//! nothing.
//!
//! The same case runs three ways, each checked against the model:
//!
//! - [`FileSystem`] called directly with the monolithic mode's block device,
//!   some requests with the driver failing at one of their transfers: after
//!   every request, everything a client sees (every listing, size and
//!   content), the free data blocks and the metadata bytes are the model's,
//!   both in the file system and in a fresh mount of its disk. A request
//!   struck by the driver fault answers "i/o error" and changes nothing.
//! - In microkernel mode (a client calling the file server, which calls the
//!   block server) and in monolithic mode (the file system inside the
//!   kernel): every reply is the model's, and after every request a mount of
//!   the disk shows the model's files, directories and free space. Some
//!   cases crash the block driver at one of its requests: the request it
//!   strikes fails (microkernel mode) or takes the kernel down (monolithic
//!   mode), and the disk holds what the model held before that request.
//!
//! 256 cases by default (a few seconds in a debug build); more with
//! `PROPTEST_CASES=5000 cargo test -p mksim-tests --test filesystem_model`.
//! A failure prints the shrunk case; pasting it into a `#[test]` that calls
//! [`check_case`] replays it.

use mksim_kernel::{KernelConfig, Outcome, Priority, ProgramResult};
use mksim_servers::block::{BlockDevice, Ramdisk};
use mksim_servers::block_server::DirectBlockDevice;
use mksim_servers::fault::{FaultKind, FaultPlan, FaultSpec, Trigger};
use mksim_servers::filesystem::{FileSystem, FsConfig, NAME_BYTES_MAX};
use mksim_servers::system::{BlockServerSpec, Mode, ProgramFn, ProgramSpec, Servers, SystemSpec, boot};
use mksim_userland::client::ClientError;
use mksim_userland::protocol::{FileStat, FsReply, FsRequest, ServiceError};
use mksim_userland::ready::run_ready;
use proptest::collection::vec;
use proptest::prelude::*;
use proptest::sample::select;
use std::cell::RefCell;
use std::collections::BTreeMap;
use std::rc::Rc;

const BLOCK_SIZE: usize = 64;
const METADATA_BLOCKS: u32 = 4;
/// The client whose descriptors the case uses; observations use another.
const CLIENT: u64 = 1;
const OBSERVER: u64 = 999;
/// Descriptor numbers the file system never hands out, for a descriptor used before any was
/// opened.
const UNOPENED_DESCRIPTOR_BASE: u32 = 1_000;

fn config() -> FsConfig {
    FsConfig { metadata_blocks: METADATA_BLOCKS, cache_blocks: 2, ..FsConfig::default() }
}

// ----- the model -----

#[derive(Clone, PartialEq, Eq, Debug)]
enum Node {
    File {
        inode: u32,
        data: Vec<u8>,
    },
    Directory {
        inode: u32,
    },
    /// A FIFO: a name and an inode, no data; opening it gives its inode, not a descriptor.
    Fifo {
        inode: u32,
    },
}

impl Node {
    fn inode(&self) -> u32 {
        match self {
            Node::File { inode, .. } | Node::Directory { inode } | Node::Fifo { inode } => *inode,
        }
    }
}

/// What a create makes.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Kind {
    File,
    Directory,
    Fifo,
}

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
struct Descriptor {
    inode: u32,
    offset: u64,
}

/// What a client and a mount must see: every path with its node, the descriptors, and the
/// space. Inode numbers are kept because the metadata's size depends on them.
#[derive(Clone, Debug)]
struct Model {
    /// Every path ("/" is the root directory).
    nodes: BTreeMap<String, Node>,
    next_inode: u32,
    open: BTreeMap<u32, Descriptor>,
    data_blocks: usize,
    metadata_bytes_max: usize,
    open_files_max: usize,
    transfer_bytes_max: usize,
}

/// The bytes postcard takes for an unsigned number (seven bits a byte).
fn varint_bytes(value: u64) -> usize {
    (64 - value.leading_zeros() as usize).div_ceil(7).max(1)
}

fn parent_and_name(path: &str) -> (&str, &str) {
    let cut = path.rfind('/').expect("absolute paths");
    (if cut == 0 { "/" } else { &path[..cut] }, &path[cut + 1..])
}

fn child_path(directory: &str, name: &str) -> String {
    if directory == "/" { format!("/{name}") } else { format!("{directory}/{name}") }
}

impl Model {
    fn new(data_blocks: usize, metadata_bytes_max: usize) -> Model {
        let defaults = FsConfig::default();
        Model {
            nodes: BTreeMap::from([("/".to_owned(), Node::Directory { inode: 0 })]),
            next_inode: 1,
            open: BTreeMap::new(),
            data_blocks,
            metadata_bytes_max,
            open_files_max: defaults.open_files_max,
            transfer_bytes_max: defaults.transfer_bytes_max,
        }
    }

    fn children(&self, directory: &str) -> Vec<(&str, &Node)> {
        self.nodes
            .iter()
            .filter(|(path, _)| path.as_str() != "/" && parent_and_name(path).0 == directory)
            .map(|(path, node)| (parent_and_name(path).1, node))
            .collect()
    }

    fn files(&self) -> BTreeMap<String, Vec<u8>> {
        self.nodes
            .iter()
            .filter_map(|(path, node)| match node {
                Node::File { data, .. } => Some((path.clone(), data.clone())),
                Node::Directory { .. } | Node::Fifo { .. } => None,
            })
            .collect()
    }

    fn data_blocks_free(&self) -> usize {
        let used: usize = self.files().values().map(|data| data.len().div_ceil(BLOCK_SIZE)).sum();
        self.data_blocks - used
    }

    /// The metadata's encoded size: postcard's encoding of the inode map (inode number, a
    /// variant byte, then a file's size and block list or a directory's entries) and the next
    /// inode number. Block numbers are below 128 on these disks: a byte each.
    fn metadata_bytes(&self) -> usize {
        let mut bytes = varint_bytes(self.nodes.len() as u64) + varint_bytes(u64::from(self.next_inode));
        for (path, node) in &self.nodes {
            bytes += varint_bytes(u64::from(node.inode())) + 1;
            bytes += match node {
                Node::File { data, .. } => {
                    let blocks = data.len().div_ceil(BLOCK_SIZE);
                    varint_bytes(data.len() as u64) + varint_bytes(blocks as u64) + blocks
                }
                Node::Directory { .. } => {
                    let entries = self.children(path);
                    varint_bytes(entries.len() as u64)
                        + entries
                            .iter()
                            .map(|(name, child)| {
                                varint_bytes(name.len() as u64) + name.len() + varint_bytes(u64::from(child.inode()))
                            })
                            .sum::<usize>()
                }
                Node::Fifo { .. } => 0,
            };
        }
        bytes
    }

    fn components(path: &str) -> Result<Vec<&str>, ServiceError> {
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

    fn lookup(&self, path: &str) -> Result<(String, &Node), ServiceError> {
        let mut at = "/".to_owned();
        for part in Self::components(path)? {
            if !matches!(self.nodes[&at], Node::Directory { .. }) {
                return Err(ServiceError::NotADirectory);
            }
            at = child_path(&at, part);
            if !self.nodes.contains_key(&at) {
                return Err(ServiceError::NotFound);
            }
        }
        let node = &self.nodes[&at];
        Ok((at, node))
    }

    /// The directory a new entry at `path` goes in, and the entry's name.
    fn parent_of(&self, path: &str) -> Result<(String, String), ServiceError> {
        let parts = Self::components(path)?;
        let (name, parents) = parts.split_last().ok_or(ServiceError::AlreadyExists)?;
        let (parent, node) = self.lookup(&format!("/{}", parents.join("/")))?;
        match node {
            Node::Directory { .. } => Ok((parent, (*name).to_owned())),
            Node::File { .. } | Node::Fifo { .. } => Err(ServiceError::NotADirectory),
        }
    }

    /// Keeps `next` if it fits on the disk; "no space" otherwise.
    fn commit(&mut self, next: Model) -> Result<(), ServiceError> {
        if next.metadata_bytes() > next.metadata_bytes_max {
            return Err(ServiceError::NoSpace);
        }
        *self = next;
        Ok(())
    }

    fn create(&mut self, path: &str, kind: Kind) -> Result<u32, ServiceError> {
        let (parent, name) = self.parent_of(path)?;
        let full = child_path(&parent, &name);
        if self.nodes.contains_key(&full) {
            return Err(ServiceError::AlreadyExists);
        }
        let mut next = self.clone();
        let inode = next.next_inode;
        let node = match kind {
            Kind::File => Node::File { inode, data: Vec::new() },
            Kind::Directory => Node::Directory { inode },
            Kind::Fifo => Node::Fifo { inode },
        };
        next.nodes.insert(full, node);
        next.next_inode += 1;
        self.commit(next)?;
        Ok(inode)
    }

    fn open(&mut self, path: &str, create: bool) -> Result<FsReply, ServiceError> {
        // A FIFO takes no descriptor of the file server: its node goes back for the pipe server.
        if let Ok((_, Node::Fifo { inode })) = self.lookup(path) {
            return Ok(FsReply::Fifo(*inode));
        }
        if self.open.len() >= self.open_files_max {
            return Err(ServiceError::TooManyOpen);
        }
        let fd = (3..).find(|fd| !self.open.contains_key(fd)).expect("a free descriptor");
        let inode = match self.lookup(path) {
            Err(ServiceError::NotFound) if create => self.create(path, Kind::File)?,
            Err(error) => return Err(error),
            Ok((_, Node::Directory { .. })) => return Err(ServiceError::IsADirectory),
            Ok((_, Node::File { inode, .. } | Node::Fifo { inode })) => *inode,
        };
        self.open.insert(fd, Descriptor { inode, offset: 0 });
        Ok(FsReply::Descriptor(fd))
    }

    /// The descriptor and the path of its file, which may have been unlinked since.
    fn file_of(&self, fd: u32) -> Result<(Descriptor, String), ServiceError> {
        let descriptor = *self.open.get(&fd).ok_or(ServiceError::BadDescriptor)?;
        let path =
            self.nodes.iter().find(|(_, node)| matches!(node, Node::File { inode, .. } if *inode == descriptor.inode));
        let (path, _) = path.ok_or(ServiceError::BadDescriptor)?;
        Ok((descriptor, path.clone()))
    }

    fn data_mut(&mut self, path: &str) -> &mut Vec<u8> {
        match self.nodes.get_mut(path) {
            Some(Node::File { data, .. }) => data,
            _ => unreachable!("file_of found a file"),
        }
    }

    fn read(&mut self, fd: u32, len: usize) -> Result<Vec<u8>, ServiceError> {
        if len > self.transfer_bytes_max {
            return Err(ServiceError::TooLarge);
        }
        let (descriptor, path) = self.file_of(fd)?;
        let data = self.data_mut(&path);
        let start = usize::try_from(descriptor.offset).unwrap_or(usize::MAX).min(data.len());
        let read = data[start..(start + len).min(data.len())].to_vec();
        self.open.get_mut(&fd).expect("open").offset += read.len() as u64;
        Ok(read)
    }

    fn write(&mut self, fd: u32, bytes: &[u8]) -> Result<u32, ServiceError> {
        if bytes.len() > self.transfer_bytes_max {
            return Err(ServiceError::TooLarge);
        }
        let (descriptor, path) = self.file_of(fd)?;
        if bytes.is_empty() {
            return Ok(0);
        }
        let size = self.data_mut(&path).len();
        let start = usize::try_from(descriptor.offset).map_err(|_| ServiceError::NoSpace)?;
        let end = start.checked_add(bytes.len()).ok_or(ServiceError::NoSpace)?;
        // A block for each block added, and a fresh one for each block whose data changes.
        let added = end.div_ceil(BLOCK_SIZE).saturating_sub(size.div_ceil(BLOCK_SIZE));
        let changed = if start < size { (end.min(size) - 1) / BLOCK_SIZE - start / BLOCK_SIZE + 1 } else { 0 };
        if added.saturating_add(changed) > self.data_blocks_free() {
            return Err(ServiceError::NoSpace);
        }
        let mut next = self.clone();
        let data = next.data_mut(&path);
        if data.len() < end {
            data.resize(end, 0);
        }
        data[start..end].copy_from_slice(bytes);
        next.open.get_mut(&fd).expect("open").offset = end as u64;
        self.commit(next)?;
        Ok(bytes.len() as u32)
    }

    fn seek(&mut self, fd: u32, offset: u64) -> Result<(), ServiceError> {
        self.file_of(fd)?;
        self.open.get_mut(&fd).expect("open").offset = offset;
        Ok(())
    }

    fn stat(&self, path: &str) -> Result<FileStat, ServiceError> {
        Ok(match self.lookup(path)? {
            (_, Node::File { data, .. }) => FileStat { size: data.len() as u64, is_directory: false, is_fifo: false },
            (at, Node::Directory { .. }) => {
                FileStat { size: self.children(&at).len() as u64, is_directory: true, is_fifo: false }
            }
            (_, Node::Fifo { .. }) => FileStat { size: 0, is_directory: false, is_fifo: true },
        })
    }

    fn readdir(&self, path: &str) -> Result<Vec<String>, ServiceError> {
        match self.lookup(path)? {
            (at, Node::Directory { .. }) => {
                Ok(self.children(&at).into_iter().map(|(name, _)| name.to_owned()).collect())
            }
            (_, Node::File { .. } | Node::Fifo { .. }) => Err(ServiceError::NotADirectory),
        }
    }

    fn unlink(&mut self, path: &str) -> Result<(), ServiceError> {
        self.parent_of(path)?;
        let (at, node) = self.lookup(path)?;
        if matches!(node, Node::Directory { .. }) && !self.children(&at).is_empty() {
            return Err(ServiceError::NotEmpty);
        }
        let mut next = self.clone();
        next.nodes.remove(&at);
        self.commit(next)
    }

    /// What the file system must answer to `request`; the model takes its effect.
    fn apply(&mut self, request: &FsRequest) -> FsReply {
        let reply = match request {
            FsRequest::Create { path } => self.create(path, Kind::File).map(|_| FsReply::Done),
            FsRequest::Mkdir { path } => self.create(path, Kind::Directory).map(|_| FsReply::Done),
            FsRequest::Mkfifo { path } => self.create(path, Kind::Fifo).map(|_| FsReply::Done),
            FsRequest::Open { path, create } => self.open(path, *create),
            FsRequest::Read { fd, len } => self.read(*fd, *len as usize).map(FsReply::Data),
            FsRequest::Write { fd, data } => self.write(*fd, data).map(FsReply::Written),
            FsRequest::Seek { fd, offset } => self.seek(*fd, *offset).map(|()| FsReply::Done),
            FsRequest::Close { fd } => self.open.remove(fd).map(|_| FsReply::Done).ok_or(ServiceError::BadDescriptor),
            FsRequest::Stat { path } => self.stat(path).map(FsReply::Stat),
            FsRequest::Readdir { path } => self.readdir(path).map(FsReply::Entries),
            FsRequest::Unlink { path } => self.unlink(path).map(|()| FsReply::Done),
        };
        reply.unwrap_or_else(FsReply::Error)
    }

    /// What a walk of the file system from the root must find.
    fn view(&self) -> View {
        let entries = self
            .nodes
            .iter()
            .map(|(path, node)| {
                let seen = match node {
                    Node::File { data, .. } => Seen::File(data.clone()),
                    Node::Fifo { .. } => Seen::Fifo,
                    Node::Directory { .. } => {
                        Seen::Directory(self.children(path).into_iter().map(|(name, _)| name.to_owned()).collect())
                    }
                };
                (path.clone(), seen)
            })
            .collect();
        View { entries, data_blocks_free: self.data_blocks_free(), metadata_bytes: self.metadata_bytes() }
    }
}

// ----- observing a file system -----

#[derive(Clone, PartialEq, Eq, Debug)]
enum Seen {
    File(Vec<u8>),
    Directory(Vec<String>),
    Fifo,
}

/// Everything a walk from the root finds, and the space left.
#[derive(Clone, PartialEq, Eq, Debug)]
struct View {
    entries: BTreeMap<String, Seen>,
    data_blocks_free: usize,
    metadata_bytes: usize,
}

fn ask(fs: &mut FileSystem, device: &mut impl BlockDevice, request: FsRequest) -> FsReply {
    run_ready(fs.handle(device, OBSERVER, request))
}

/// Walks `fs` from the root as a client would (listing, stat, open, read, close), with its
/// own descriptors.
fn observe(fs: &mut FileSystem, device: &mut impl BlockDevice) -> View {
    let mut entries = BTreeMap::new();
    let mut pending = vec!["/".to_owned()];
    while let Some(directory) = pending.pop() {
        let FsReply::Entries(names) = ask(fs, device, FsRequest::Readdir { path: directory.clone() }) else {
            panic!("{directory} does not list")
        };
        for name in &names {
            let path = child_path(&directory, name);
            match ask(fs, device, FsRequest::Stat { path: path.clone() }) {
                // A directory's size (its entries) is checked against its listing when it is walked.
                FsReply::Stat(FileStat { is_directory: true, .. }) => pending.push(path),
                FsReply::Stat(FileStat { is_fifo: true, size, .. }) => {
                    assert_eq!(size, 0, "{path}: a FIFO holds no bytes in the file system");
                    entries.insert(path, Seen::Fifo);
                }
                FsReply::Stat(FileStat { size, .. }) => {
                    let data = read_whole(fs, device, &path);
                    assert_eq!(size, data.len() as u64, "{path}: stat and contents disagree");
                    entries.insert(path, Seen::File(data));
                }
                other => panic!("{path} is listed but stat says {other:?}"),
            }
        }
        let FsReply::Stat(stat) = ask(fs, device, FsRequest::Stat { path: directory.clone() }) else {
            panic!("{directory} does not stat")
        };
        assert_eq!(stat.size, names.len() as u64, "{directory}: stat and listing disagree");
        entries.insert(directory, Seen::Directory(names));
    }
    let usage = fs.usage();
    View { entries, data_blocks_free: usage.data_blocks_free as usize, metadata_bytes: usage.metadata_bytes }
}

fn read_whole(fs: &mut FileSystem, device: &mut impl BlockDevice, path: &str) -> Vec<u8> {
    let FsReply::Descriptor(fd) = ask(fs, device, FsRequest::Open { path: path.to_owned(), create: false }) else {
        panic!("{path} does not open")
    };
    let mut data = Vec::new();
    loop {
        match ask(fs, device, FsRequest::Read { fd, len: 512 }) {
            FsReply::Data(chunk) if chunk.is_empty() => break,
            FsReply::Data(chunk) => data.extend(chunk),
            other => panic!("{path} does not read: {other:?}"),
        }
    }
    assert_eq!(ask(fs, device, FsRequest::Close { fd }), FsReply::Done);
    data
}

/// What a mount of `disk` finds.
fn remount(disk: &Ramdisk) -> View {
    let mut device = DirectBlockDevice::quiet(Rc::new(RefCell::new(disk.clone())));
    let mut fs = run_ready(FileSystem::mount(&mut device, config())).expect("the disk mounts");
    observe(&mut fs, &mut device)
}

// ----- cases -----

/// Long names: two or three files with these fill the metadata of these disks.
const LONG: [&str; 2] = ["a-rather-long-name-for-a-tiny-disk", "another-long-name-for-a-tiny-disk"];

fn too_long() -> String {
    "x".repeat(NAME_BYTES_MAX + 1)
}

#[derive(Clone, Debug)]
enum Op {
    Create(String),
    Mkdir(String),
    Mkfifo(String),
    Open {
        path: String,
        create: bool,
    },
    /// Write `len` bytes counting up from `first`, at `at` or where the descriptor is.
    Write {
        slot: usize,
        at: Option<u64>,
        len: usize,
        first: u8,
    },
    Read {
        slot: usize,
        at: Option<u64>,
        len: u32,
    },
    Close {
        slot: usize,
    },
    Unlink(String),
    Stat(String),
    Readdir(String),
}

#[derive(Clone, Debug)]
struct Case {
    /// Blocks on the disk, metadata included.
    blocks: u32,
    ops: Vec<Op>,
    /// For the direct run: the transfer of each op that fails, if any (index into `ops`).
    transfer_faults: BTreeMap<usize, u64>,
    /// For the runs in both modes: the block driver's request that crashes it, if any.
    driver_crash: Option<u64>,
}

fn name() -> impl Strategy<Value = String> {
    prop_oneof![
        10 => select(&["a", "b", "d"][..]).prop_map(str::to_owned),
        4 => select(&LONG[..]).prop_map(str::to_owned),
        1 => Just(too_long()),
    ]
}

fn path() -> impl Strategy<Value = String> {
    prop_oneof![
        1 => Just("/".to_owned()),
        10 => name().prop_map(|name| format!("/{name}")),
        6 => (name(), name()).prop_map(|(parent, name)| format!("/{parent}/{name}")),
        1 => (name(), name(), name()).prop_map(|(first, second, name)| format!("/{first}/{second}/{name}")),
    ]
}

/// Mostly files that can be opened: in the root, or in a directory `d`.
fn file_path() -> impl Strategy<Value = String> {
    prop_oneof![
        4 => name().prop_map(|name| format!("/{name}")),
        1 => name().prop_map(|name| format!("/d/{name}")),
        1 => path(),
    ]
}

fn op() -> impl Strategy<Value = Op> {
    // Mostly the first descriptors: a case opens only a few files, and operations on
    // descriptors that work are the interesting ones.
    let slot = || prop_oneof![6 => Just(0usize), 3 => Just(1), 1 => Just(2), 1 => Just(3)];
    let at = || {
        prop_oneof![
            6 => Just(None),
            6 => (0..=200u64).prop_map(Some),
            2 => (201..=700u64).prop_map(Some),
            1 => Just(Some(u64::MAX - 4)),
        ]
    };
    let len = prop_oneof![1 => Just(0usize), 8 => 1..=80usize, 4 => 81..=300usize, 1 => 500..=513usize];
    prop_oneof![
        2 => path().prop_map(Op::Create),
        2 => path().prop_map(Op::Mkdir),
        1 => path().prop_map(Op::Mkfifo),
        4 => (file_path(), prop_oneof![3 => Just(true), 1 => Just(false)])
            .prop_map(|(path, create)| Op::Open { path, create }),
        8 => (slot(), at(), len, any::<u8>()).prop_map(|(slot, at, len, first)| Op::Write { slot, at, len, first }),
        3 => (slot(), at(), 0..=520u32).prop_map(|(slot, at, len)| Op::Read { slot, at, len }),
        1 => slot().prop_map(|slot| Op::Close { slot }),
        2 => path().prop_map(Op::Unlink),
        1 => path().prop_map(Op::Stat),
        1 => path().prop_map(Op::Readdir),
    ]
}

fn case() -> impl Strategy<Value = Case> {
    (
        8..=16u32,
        vec(op(), 1..=40),
        proptest::collection::btree_map(0..40usize, 1..=3u64, 0..=16),
        prop_oneof![2 => Just(None), 1 => (5..=40u64).prop_map(Some)],
    )
        .prop_map(|(blocks, ops, transfer_faults, driver_crash)| Case {
            blocks,
            ops,
            transfer_faults,
            driver_crash,
        })
}

/// The requests an op makes, given the descriptors opened so far.
fn requests(op: &Op, descriptors: &[u32]) -> Vec<FsRequest> {
    // Once a file is open, every slot names one of the descriptors opened (closed ones too).
    let fd = |slot: usize| match descriptors.len() {
        0 => UNOPENED_DESCRIPTOR_BASE + slot as u32,
        opened => descriptors[slot % opened],
    };
    let seek = |slot: usize, at: Option<u64>| at.map(|offset| FsRequest::Seek { fd: fd(slot), offset });
    match op {
        Op::Create(path) => vec![FsRequest::Create { path: path.clone() }],
        Op::Mkdir(path) => vec![FsRequest::Mkdir { path: path.clone() }],
        Op::Mkfifo(path) => vec![FsRequest::Mkfifo { path: path.clone() }],
        Op::Open { path, create } => vec![FsRequest::Open { path: path.clone(), create: *create }],
        Op::Write { slot, at, len, first } => {
            let data = (0..*len).map(|index| first.wrapping_add(index as u8)).collect();
            seek(*slot, *at).into_iter().chain([FsRequest::Write { fd: fd(*slot), data }]).collect()
        }
        Op::Read { slot, at, len } => {
            seek(*slot, *at).into_iter().chain([FsRequest::Read { fd: fd(*slot), len: *len }]).collect()
        }
        Op::Close { slot } => vec![FsRequest::Close { fd: fd(*slot) }],
        Op::Unlink(path) => vec![FsRequest::Unlink { path: path.clone() }],
        Op::Stat(path) => vec![FsRequest::Stat { path: path.clone() }],
        Op::Readdir(path) => vec![FsRequest::Readdir { path: path.clone() }],
    }
}

fn fresh_model(blocks: u32) -> Model {
    let geometry = (blocks - METADATA_BLOCKS) as usize;
    // A copy of the metadata is half the metadata blocks, less its 20-byte header.
    Model::new(geometry, (METADATA_BLOCKS / 2) as usize * BLOCK_SIZE - 20)
}

/// The case's requests as the model sees them, without faults: each request, the reply it
/// must get, and the model after it.
fn script(case: &Case) -> Vec<(FsRequest, FsReply, Model)> {
    let mut model = fresh_model(case.blocks);
    let mut descriptors = Vec::new();
    let mut steps = Vec::new();
    for op in &case.ops {
        for request in requests(op, &descriptors) {
            let reply = model.apply(&request);
            if let FsReply::Descriptor(fd) = reply {
                descriptors.push(fd);
            }
            steps.push((request, reply, model.clone()));
        }
    }
    steps
}

// ----- running a case -----

/// A block device for one request: the monolithic mode's, its driver failing at the request's
/// `fail_at`-th transfer if given.
fn device(disk: &Rc<RefCell<Ramdisk>>, fail_at: Option<u64>) -> DirectBlockDevice {
    let mut device = DirectBlockDevice::quiet(Rc::clone(disk));
    if let Some(transfer) = fail_at {
        let crash = FaultSpec { server: "block".into(), kind: FaultKind::Crash, trigger: Trigger::AtMessage(transfer) };
        device.faults = Some(Rc::new(RefCell::new(FaultPlan::new(&[crash], 0))));
    }
    device
}

/// The case on a [`FileSystem`] called directly, the model checked after every request.
fn check_direct(case: &Case) -> Result<(), TestCaseError> {
    let disk = Rc::new(RefCell::new(Ramdisk::new(case.blocks, BLOCK_SIZE)));
    let mut fs = run_ready(FileSystem::mount(&mut device(&disk, None), config())).expect("a fresh disk mounts");
    let mut model = fresh_model(case.blocks);
    let usage = fs.usage();
    prop_assert_eq!(
        (usage.data_blocks as usize, usage.metadata_bytes_max),
        (model.data_blocks, model.metadata_bytes_max)
    );
    let mut descriptors = Vec::new();
    for (index, op) in case.ops.iter().enumerate() {
        for request in requests(op, &descriptors) {
            let fail_at = case.transfer_faults.get(&index).copied();
            let reply = run_ready(fs.handle(&mut device(&disk, fail_at), CLIENT, request.clone()));
            let before = model.clone();
            let expected = model.apply(&request);
            if fail_at.is_some() && reply == FsReply::Error(ServiceError::Io) {
                // Struck by the driver fault: nothing changed.
                model = before;
            } else {
                prop_assert_eq!(&reply, &expected, "op {} {:?}: {:?}", index, op, request);
            }
            if let FsReply::Descriptor(fd) = reply {
                descriptors.push(fd);
            }
            let expected = model.view();
            prop_assert_eq!(
                observe(&mut fs, &mut device(&disk, None)),
                expected.clone(),
                "after op {} {:?}",
                index,
                request
            );
            prop_assert_eq!(remount(&disk.borrow()), expected, "the disk after op {} {:?}", index, request);
        }
    }
    Ok(())
}

/// What a run in one mode showed: the replies the client got, and the disk (as a mount sees
/// it) after each.
#[derive(Default)]
struct Record {
    replies: Vec<FsReply>,
    disks: Vec<View>,
}

type Shared<T> = Rc<RefCell<T>>;

/// The client: sends the requests in order, recording each reply and the disk after it, and
/// stops at the first i/o error (the driver crashed).
fn client(requests: Vec<FsRequest>, record: Shared<Record>, disk: Shared<Option<Rc<RefCell<Ramdisk>>>>) -> ProgramFn {
    Box::new(move |mut services, _named| {
        Box::pin(async move {
            for request in requests {
                let reply = match services.fs(request).await {
                    Ok(reply) => reply,
                    Err(ClientError::Service(error)) => FsReply::Error(error),
                    Err(error) => panic!("the file service failed: {error:?}"),
                };
                let seen = remount(&disk.borrow().as_ref().expect("booted with a disk").borrow());
                let mut record = record.borrow_mut();
                record.replies.push(reply.clone());
                record.disks.push(seen);
                if reply == FsReply::Error(ServiceError::Io) {
                    break;
                }
            }
            ProgramResult::Ok(0)
        })
    })
}

fn level(value: u8) -> Priority {
    Priority::new(value).expect("in range")
}

/// Runs the requests in `mode`, the driver crashing at its `driver_crash`-th request if given:
/// the outcome, the record, and the disk at the end.
fn run_in(mode: Mode, blocks: u32, requests: Vec<FsRequest>, driver_crash: Option<u64>) -> (Outcome, Record, View) {
    let record: Shared<Record> = Rc::default();
    let disk: Shared<Option<Rc<RefCell<Ramdisk>>>> = Rc::default();
    let servers = Servers {
        name: Some(level(20)),
        console: None,
        block: Some(BlockServerSpec { priority: level(18), blocks, block_size: BLOCK_SIZE, latency_cycles: 1_000 }),
        file: Some((level(15), config())),
        timer: None,
        pipe: None,
        supervisor: None,
        mq: None,
        socket: None,
    };
    let program = ProgramSpec {
        name: "client".into(),
        priority: level(5),
        is_server: false,
        name_server: true,
        may_register: Vec::new(),
        caps: Vec::new(),
        program: client(requests, Rc::clone(&record), Rc::clone(&disk)),
    };
    let faults = driver_crash
        .map(|at| FaultSpec { server: "block".into(), kind: FaultKind::Crash, trigger: Trigger::AtMessage(at) })
        .into_iter()
        .collect();
    let spec =
        SystemSpec { kernel: KernelConfig::default(), servers, objects: Vec::new(), programs: vec![program], faults };
    let mut system = boot(spec, mode);
    *disk.borrow_mut() = system.disk.clone();
    let outcome = system.kernel.run().clone();
    let last = remount(&system.disk.as_ref().expect("booted with a disk").borrow());
    drop(system);
    let record = Rc::try_unwrap(record).ok().expect("the run is over").into_inner();
    (outcome, record, last)
}

/// The case in microkernel and monolithic mode: every reply and the disk after every request
/// are the model's; a driver crash stops the run where the model stood before the request it
/// struck.
fn check_modes(case: &Case) -> Result<(), TestCaseError> {
    let steps = script(case);
    let requests: Vec<FsRequest> = steps.iter().map(|(request, ..)| request.clone()).collect();
    let empty = fresh_model(case.blocks).view();
    for mode in [Mode::Microkernel, Mode::Monolithic] {
        let (outcome, record, last) = run_in(mode, case.blocks, requests.clone(), case.driver_crash);
        let name = mode.name();
        // The requests that took effect: all of them, or those before the one the crash struck
        // (which answered "i/o error" in microkernel mode, and never answered in monolithic).
        let mut done = record.replies.len();
        if record.replies.last() == Some(&FsReply::Error(ServiceError::Io)) && case.driver_crash.is_some() {
            done -= 1;
            prop_assert_eq!(mode, Mode::Microkernel, "only the microkernel's client hears of the crash");
        }
        for (index, ((request, expected, model), (reply, disk))) in
            steps.iter().zip(record.replies.iter().zip(&record.disks)).take(done).enumerate()
        {
            prop_assert_eq!(reply, expected, "{}: request {} {:?}", name, index, request);
            prop_assert_eq!(disk, &model.view(), "{}: the disk after request {} {:?}", name, index, request);
        }
        let expected = if done == 0 { empty.clone() } else { steps[done - 1].2.view() };
        prop_assert_eq!(&last, &expected, "{}: the disk at the end, {} requests done", name, done);
        if done == steps.len() {
            prop_assert_eq!(&outcome, &Outcome::Completed, "{}", name);
        } else {
            prop_assert!(case.driver_crash.is_some(), "{}: stopped after {} requests: {:?}", name, done, outcome);
            let expected = if mode == Mode::Monolithic { "kernel_panic" } else { "completed" };
            prop_assert_eq!(outcome.kind().name(), expected, "{}", name);
        }
    }
    Ok(())
}

fn check_case(case: &Case) -> Result<(), TestCaseError> {
    check_direct(case)?;
    check_modes(case)
}

proptest! {
    #![proptest_config(ProptestConfig {
        cases: mksim_tests::proptest_cases(256),
        failure_persistence: None,
        ..ProptestConfig::default()
    })]

    #[test]
    fn the_file_system_is_the_model_after_every_request_in_both_modes_and_after_a_remount(case in case()) {
        check_case(&case)?;
    }
}
