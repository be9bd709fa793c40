//! Unit tests of the service logic with a device that answers at once.

use crate::block::{BlockDevice, Ramdisk};
use crate::filesystem::{FileSystem, FsConfig, NAME_BYTES_MAX, Usage};
use mksim_userland::protocol::{FileStat, FsReply, FsRequest, ServiceError};
use mksim_userland::ready::run_ready;
use std::collections::BTreeMap;

/// A ramdisk called directly, counting its reads.
struct Direct(Ramdisk, u64);

/// A ramdisk called directly that fails transfer number `fail_at` (reads and writes counted
/// from 1) as a dead driver would, without touching the disk.
#[derive(Clone)]
struct Failing {
    disk: Ramdisk,
    transfers: u64,
    fail_at: Option<u64>,
}

impl Failing {
    fn transfer(&mut self) -> Result<(), ServiceError> {
        self.transfers += 1;
        if self.fail_at == Some(self.transfers) { Err(ServiceError::Io) } else { Ok(()) }
    }
}

impl BlockDevice for Failing {
    fn block_size(&self) -> usize {
        self.disk.block_size()
    }
    fn block_count(&self) -> u32 {
        self.disk.block_count()
    }
    async fn read_block(&mut self, block: u32) -> Result<Vec<u8>, ServiceError> {
        self.transfer()?;
        self.disk.read(block)
    }
    async fn write_block(&mut self, block: u32, data: &[u8]) -> Result<(), ServiceError> {
        self.transfer()?;
        self.disk.write(block, data)
    }
}

impl BlockDevice for Direct {
    fn block_size(&self) -> usize {
        self.0.block_size()
    }
    fn block_count(&self) -> u32 {
        self.0.block_count()
    }
    async fn read_block(&mut self, block: u32) -> Result<Vec<u8>, ServiceError> {
        self.1 += 1;
        self.0.read(block)
    }
    async fn write_block(&mut self, block: u32, data: &[u8]) -> Result<(), ServiceError> {
        self.0.write(block, data)
    }
}

fn mounted(cache_blocks: usize) -> (FileSystem, Direct) {
    let mut device = Direct(Ramdisk::new(64, 64), 0);
    let config = FsConfig { cache_blocks, ..FsConfig::default() };
    let fs = run_ready(FileSystem::mount(&mut device, config)).unwrap();
    (fs, device)
}

fn handle(fs: &mut FileSystem, device: &mut Direct, request: FsRequest) -> FsReply {
    run_ready(fs.handle(device, 1, request))
}

fn path(text: &str) -> String {
    text.to_owned()
}

#[test]
fn a_file_written_across_blocks_reads_back() {
    let (mut fs, mut device) = mounted(8);
    let FsReply::Descriptor(fd) = handle(&mut fs, &mut device, FsRequest::Open { path: path("/notes"), create: true })
    else {
        panic!("open failed")
    };
    let text: Vec<u8> = (0..150u8).collect();
    assert_eq!(handle(&mut fs, &mut device, FsRequest::Write { fd, data: text.clone() }), FsReply::Written(150));
    assert_eq!(handle(&mut fs, &mut device, FsRequest::Seek { fd, offset: 0 }), FsReply::Done);
    assert_eq!(handle(&mut fs, &mut device, FsRequest::Read { fd, len: 200 }), FsReply::Data(text));
    assert_eq!(handle(&mut fs, &mut device, FsRequest::Read { fd, len: 10 }), FsReply::Data(vec![]));
}

#[test]
fn directories_list_sorted_and_refuse_removal_while_full() {
    let (mut fs, mut device) = mounted(8);
    assert_eq!(handle(&mut fs, &mut device, FsRequest::Mkdir { path: path("/docs") }), FsReply::Done);
    for name in ["/docs/b", "/docs/a"] {
        assert_eq!(handle(&mut fs, &mut device, FsRequest::Create { path: path(name) }), FsReply::Done);
    }
    let listing = handle(&mut fs, &mut device, FsRequest::Readdir { path: path("/docs") });
    assert_eq!(listing, FsReply::Entries(vec!["a".into(), "b".into()]));
    let refused = handle(&mut fs, &mut device, FsRequest::Unlink { path: path("/docs") });
    assert_eq!(refused, FsReply::Error(ServiceError::NotEmpty));
    let again = handle(&mut fs, &mut device, FsRequest::Create { path: path("/docs/a") });
    assert_eq!(again, FsReply::Error(ServiceError::AlreadyExists));
    let bad = handle(&mut fs, &mut device, FsRequest::Stat { path: path("relative") });
    assert_eq!(bad, FsReply::Error(ServiceError::InvalidPath));
}

#[test]
fn cached_blocks_are_not_read_again_and_evictions_are_read_again() {
    let (mut fs, mut device) = mounted(1);
    let FsReply::Descriptor(fd) = handle(&mut fs, &mut device, FsRequest::Open { path: path("/f"), create: true })
    else {
        panic!()
    };
    handle(&mut fs, &mut device, FsRequest::Write { fd, data: vec![7; 64] });
    let reads_before = device.1;
    handle(&mut fs, &mut device, FsRequest::Seek { fd, offset: 0 });
    handle(&mut fs, &mut device, FsRequest::Read { fd, len: 64 });
    assert_eq!(device.1, reads_before + 1, "the metadata write evicted the data block from a one-block cache");
    handle(&mut fs, &mut device, FsRequest::Seek { fd, offset: 0 });
    handle(&mut fs, &mut device, FsRequest::Read { fd, len: 64 });
    assert_eq!(device.1, reads_before + 1, "the second read is a hit");
    assert_eq!(fs.cache_counters().hits, 1);
}

#[test]
fn a_remount_keeps_files_but_not_descriptors() {
    let (mut fs, mut device) = mounted(8);
    let FsReply::Descriptor(fd) = handle(&mut fs, &mut device, FsRequest::Open { path: path("/keep"), create: true })
    else {
        panic!()
    };
    handle(&mut fs, &mut device, FsRequest::Write { fd, data: b"durable".to_vec() });
    let mut remounted = run_ready(FileSystem::mount(&mut device, FsConfig::default())).unwrap();
    assert_eq!(
        handle(&mut remounted, &mut device, FsRequest::Read { fd, len: 7 }),
        FsReply::Error(ServiceError::BadDescriptor)
    );
    let files = run_ready(remounted.snapshot(&mut device)).unwrap();
    assert_eq!(files.get("/keep").map(Vec::as_slice), Some(&b"durable"[..]));
}

#[test]
fn a_full_device_answers_no_space() {
    let mut device = Direct(Ramdisk::new(6, 64), 0);
    let mut fs = run_ready(FileSystem::mount(&mut device, FsConfig::default())).unwrap();
    let FsReply::Descriptor(fd) =
        run_ready(fs.handle(&mut device, 1, FsRequest::Open { path: path("/big"), create: true }))
    else {
        panic!()
    };
    let mut last = FsReply::Done;
    for _ in 0..4 {
        last = run_ready(fs.handle(&mut device, 1, FsRequest::Write { fd, data: vec![1; 64] }));
    }
    assert_eq!(last, FsReply::Error(ServiceError::NoSpace));
}

// ----- all or nothing -----

fn tiny(blocks: u32, config: FsConfig) -> (FileSystem, Failing) {
    let mut device = Failing { disk: Ramdisk::new(blocks, 64), transfers: 0, fail_at: None };
    let fs = run_ready(FileSystem::mount(&mut device, config)).unwrap();
    (fs, device)
}

fn on(fs: &mut FileSystem, device: &mut Failing, request: FsRequest) -> FsReply {
    run_ready(fs.handle(device, 1, request))
}

fn descriptor(reply: FsReply) -> u32 {
    let FsReply::Descriptor(fd) = reply else { panic!("expected a descriptor, got {reply:?}") };
    fd
}

/// Every path under `directory` with its listing (a directory) or its contents (a file), as a
/// client sees them.
fn tree(fs: &mut FileSystem, device: &mut Failing, directory: &str, into: &mut BTreeMap<String, String>) {
    let FsReply::Entries(names) = run_ready(fs.handle(device, 99, FsRequest::Readdir { path: directory.into() }))
    else {
        panic!("{directory} does not list")
    };
    into.insert(directory.to_owned(), format!("{names:?}"));
    for name in names {
        let path = format!("{}/{name}", directory.trim_end_matches('/'));
        match run_ready(fs.handle(device, 99, FsRequest::Stat { path: path.clone() })) {
            FsReply::Stat(FileStat { is_directory: true, .. }) => tree(fs, device, &path, into),
            FsReply::Stat(FileStat { size, .. }) => {
                let fd =
                    descriptor(run_ready(fs.handle(device, 99, FsRequest::Open { path: path.clone(), create: false })));
                let data = run_ready(fs.handle(device, 99, FsRequest::Read { fd, len: 512 }));
                run_ready(fs.handle(device, 99, FsRequest::Close { fd }));
                into.insert(path, format!("{size} {data:?}"));
            }
            other => panic!("{path}: {other:?}"),
        }
    }
}

/// What clients see of the file system, its usage, and the same of the one a mount of its
/// disk finds.
fn state(fs: &FileSystem, device: &Failing) -> [(BTreeMap<String, String>, Usage); 2] {
    let mut device = Failing { fail_at: None, ..device.clone() };
    let mut live = fs.clone();
    let mut remounted = run_ready(FileSystem::mount(&mut device, FsConfig::default())).unwrap();
    [&mut live, &mut remounted].map(|fs| {
        let mut seen = BTreeMap::new();
        tree(fs, &mut device, "/", &mut seen);
        (seen, fs.usage())
    })
}

#[test]
fn a_write_that_does_not_fit_takes_no_block() {
    // 8 blocks: 4 of metadata, 4 of data (256 bytes).
    let (mut fs, mut device) = tiny(8, FsConfig::default());
    let big = descriptor(on(&mut fs, &mut device, FsRequest::Open { path: path("/big"), create: true }));
    let before = state(&fs, &device);
    let refused = on(&mut fs, &mut device, FsRequest::Write { fd: big, data: vec![b'x'; 512] });
    assert_eq!(refused, FsReply::Error(ServiceError::NoSpace));
    assert_eq!(state(&fs, &device), before);
    assert_eq!(fs.usage().data_blocks_free, 4);
    let small = descriptor(on(&mut fs, &mut device, FsRequest::Open { path: path("/small"), create: true }));
    assert_eq!(on(&mut fs, &mut device, FsRequest::Write { fd: small, data: vec![b'y'; 64] }), FsReply::Written(64));
    // The offset did not move either: the next write to /big starts at 0.
    assert_eq!(on(&mut fs, &mut device, FsRequest::Write { fd: big, data: b"ok".to_vec() }), FsReply::Written(2));
    assert_eq!(run_ready(fs.snapshot(&mut device)).unwrap()["/big"], b"ok");
}

#[test]
fn an_open_that_cannot_record_its_file_leaves_no_entry() {
    let (mut fs, mut device) = tiny(8, FsConfig::default());
    // Long names, then one-letter names, until the metadata is full: `/g` would not fit.
    let mut names = 0;
    while on(&mut fs, &mut device, FsRequest::Create { path: format!("/{names}{}", "n".repeat(40)) }) == FsReply::Done {
        names += 1;
    }
    for letter in ["a", "b", "c", "d", "e", "f"] {
        if on(&mut fs, &mut device, FsRequest::Create { path: format!("/{letter}") }) != FsReply::Done {
            break;
        }
    }
    let before = state(&fs, &device);
    let usage = fs.usage();
    assert!(usage.metadata_bytes + 7 > usage.metadata_bytes_max, "{usage:?}: /g would fit");
    let refused = on(&mut fs, &mut device, FsRequest::Open { path: path("/g"), create: true });
    assert_eq!(refused, FsReply::Error(ServiceError::NoSpace));
    assert_eq!(on(&mut fs, &mut device, FsRequest::Stat { path: path("/g") }), FsReply::Error(ServiceError::NotFound));
    assert_eq!(state(&fs, &device), before);
    assert!(!before[0].0["/"].contains("\"g\""), "{:?}", before[0].0["/"]);
    assert_eq!(on(&mut fs, &mut device, FsRequest::Mkdir { path: path("/g") }), FsReply::Error(ServiceError::NoSpace));
    assert_eq!(state(&fs, &device), before);
}

/// Runs `request` on a copy of `fs` with each of its transfers failing in turn: each time, it
/// must fail with an i/o error and leave everything as it was; then it runs without failure.
fn fails_cleanly_at_every_transfer(fs: &FileSystem, device: &Failing, request: &FsRequest) -> FsReply {
    let before = state(fs, device);
    for failing in 1.. {
        let (mut fs, mut device) = (fs.clone(), device.clone());
        device.fail_at = Some(device.transfers + failing);
        let reply = on(&mut fs, &mut device, request.clone());
        if reply != FsReply::Error(ServiceError::Io) {
            assert!(failing > 1, "{request:?} transferred nothing");
            return reply;
        }
        assert_eq!(state(&fs, &device), before, "{request:?} failing at its transfer {failing}");
        // Nothing of the failed attempt is left over: the same request now succeeds.
        device.fail_at = None;
        let (mut clean, mut clean_device) = (fs.clone(), device.clone());
        let again = on(&mut clean, &mut clean_device, request.clone());
        assert!(!matches!(again, FsReply::Error(_)), "{request:?} after a failure at transfer {failing}: {again:?}");
    }
    unreachable!()
}

#[test]
fn a_device_error_at_any_transfer_leaves_the_file_system_as_it_was() {
    let (mut fs, mut device) = tiny(24, FsConfig { cache_blocks: 1, ..FsConfig::default() });
    let fd = descriptor(on(&mut fs, &mut device, FsRequest::Open { path: path("/f"), create: true }));
    let text: Vec<u8> = (0..150u8).collect();
    on(&mut fs, &mut device, FsRequest::Write { fd, data: text.clone() });
    on(&mut fs, &mut device, FsRequest::Mkdir { path: path("/d") });
    on(&mut fs, &mut device, FsRequest::Create { path: path("/d/e") });
    // A long name makes the metadata span two blocks, so a change to it takes two transfers.
    on(&mut fs, &mut device, FsRequest::Create { path: format!("/{}", "l".repeat(30)) });
    assert!(fs.usage().metadata_bytes > 64, "{:?}", fs.usage());
    let requests = [
        // Over three blocks of data the file has, and past its end.
        (Some(30), FsRequest::Write { fd, data: vec![b'w'; 140] }),
        // Into the last block, past the end, and over a hole.
        (Some(150), FsRequest::Write { fd, data: vec![b'a'; 10] }),
        (Some(400), FsRequest::Write { fd, data: vec![b'h'; 10] }),
        (None, FsRequest::Create { path: path("/c") }),
        (None, FsRequest::Open { path: path("/d/o"), create: true }),
        (None, FsRequest::Mkdir { path: path("/m") }),
        (None, FsRequest::Unlink { path: path("/f") }),
        (None, FsRequest::Unlink { path: path("/d/e") }),
    ];
    for (offset, request) in requests {
        if let Some(offset) = offset {
            on(&mut fs, &mut device, FsRequest::Seek { fd, offset });
        }
        let reply = fails_cleanly_at_every_transfer(&fs, &device, &request);
        assert!(!matches!(reply, FsReply::Error(_)), "{request:?}: {reply:?}");
    }
    // The reads behind the writes failed too: the offset stayed where the seek put it.
    on(&mut fs, &mut device, FsRequest::Seek { fd, offset: 0 });
    assert_eq!(on(&mut fs, &mut device, FsRequest::Read { fd, len: 512 }), FsReply::Data(text));
}

#[test]
fn a_read_that_fails_or_reads_nothing_leaves_the_offset() {
    let (mut fs, mut device) = tiny(16, FsConfig { cache_blocks: 0, ..FsConfig::default() });
    let fd = descriptor(on(&mut fs, &mut device, FsRequest::Open { path: path("/f"), create: true }));
    on(&mut fs, &mut device, FsRequest::Write { fd, data: b"abc".to_vec() });
    on(&mut fs, &mut device, FsRequest::Seek { fd, offset: 1 });
    device.fail_at = Some(device.transfers + 1);
    assert_eq!(on(&mut fs, &mut device, FsRequest::Read { fd, len: 1 }), FsReply::Error(ServiceError::Io));
    assert_eq!(on(&mut fs, &mut device, FsRequest::Read { fd, len: 1 }), FsReply::Data(b"b".to_vec()));
    on(&mut fs, &mut device, FsRequest::Seek { fd, offset: 10 });
    assert_eq!(on(&mut fs, &mut device, FsRequest::Read { fd, len: 5 }), FsReply::Data(Vec::new()));
    on(&mut fs, &mut device, FsRequest::Write { fd, data: b"x".to_vec() });
    let mut expected = b"abc".to_vec();
    expected.resize(10, 0);
    expected.push(b'x');
    assert_eq!(run_ready(fs.snapshot(&mut device)).unwrap()["/f"], expected);
}

#[test]
fn an_open_refused_for_want_of_descriptors_creates_nothing() {
    let (mut fs, mut device) = tiny(16, FsConfig { open_files_max: 1, ..FsConfig::default() });
    descriptor(on(&mut fs, &mut device, FsRequest::Open { path: path("/a"), create: true }));
    let refused = on(&mut fs, &mut device, FsRequest::Open { path: path("/b"), create: true });
    assert_eq!(refused, FsReply::Error(ServiceError::TooManyOpen));
    assert_eq!(on(&mut fs, &mut device, FsRequest::Stat { path: path("/b") }), FsReply::Error(ServiceError::NotFound));
}

#[test]
fn overwriting_needs_a_free_block_for_each_block_changed() {
    let (mut fs, mut device) = tiny(8, FsConfig::default());
    let fd = descriptor(on(&mut fs, &mut device, FsRequest::Open { path: path("/f"), create: true }));
    assert_eq!(on(&mut fs, &mut device, FsRequest::Write { fd, data: vec![1; 200] }), FsReply::Written(200));
    assert_eq!(fs.usage().data_blocks_free, 0);
    // Appending into the last block's unused bytes changes none of the file's data.
    assert_eq!(on(&mut fs, &mut device, FsRequest::Write { fd, data: vec![2; 56] }), FsReply::Written(56));
    on(&mut fs, &mut device, FsRequest::Seek { fd, offset: 0 });
    let refused = on(&mut fs, &mut device, FsRequest::Write { fd, data: vec![3] });
    assert_eq!(refused, FsReply::Error(ServiceError::NoSpace));
    let fd2 = descriptor(on(&mut fs, &mut device, FsRequest::Open { path: path("/f"), create: false }));
    let mut expected = vec![1; 200];
    expected.resize(256, 2);
    assert_eq!(on(&mut fs, &mut device, FsRequest::Read { fd: fd2, len: 512 }), FsReply::Data(expected));
}

#[test]
fn a_name_may_have_255_bytes() {
    let mut device = Failing { disk: Ramdisk::new(16, 512), transfers: 0, fail_at: None };
    let mut fs = run_ready(FileSystem::mount(&mut device, FsConfig::default())).unwrap();
    let longest = format!("/{}", "n".repeat(NAME_BYTES_MAX));
    assert_eq!(on(&mut fs, &mut device, FsRequest::Create { path: longest.clone() }), FsReply::Done);
    let over = format!("{longest}n");
    assert_eq!(
        on(&mut fs, &mut device, FsRequest::Create { path: over.clone() }),
        FsReply::Error(ServiceError::NameTooLong)
    );
    assert_eq!(on(&mut fs, &mut device, FsRequest::Stat { path: over }), FsReply::Error(ServiceError::NameTooLong));
    assert_eq!(
        on(&mut fs, &mut device, FsRequest::Stat { path: longest }),
        FsReply::Stat(FileStat { size: 0, is_directory: false, is_fifo: false })
    );
}

#[test]
fn bytes_a_failed_append_left_past_the_end_read_as_zeros() {
    let (mut fs, mut device) = tiny(16, FsConfig::default());
    let fd = descriptor(on(&mut fs, &mut device, FsRequest::Open { path: path("/f"), create: true }));
    on(&mut fs, &mut device, FsRequest::Write { fd, data: b"abc".to_vec() });
    // The append writes its block, then the metadata: fail either. Then a write leaves a hole
    // over the bytes the append may have left, in the same block or past it.
    for hole_to in [10, 100] {
        let mut expected = b"abc".to_vec();
        expected.resize(hole_to, 0);
        expected.push(b'!');
        for failing in 1..=2 {
            let (mut fs, mut device) = (fs.clone(), device.clone());
            device.fail_at = Some(device.transfers + failing);
            let append = on(&mut fs, &mut device, FsRequest::Write { fd, data: b"XYZ".to_vec() });
            assert_eq!(append, FsReply::Error(ServiceError::Io), "failing at transfer {failing}");
            on(&mut fs, &mut device, FsRequest::Seek { fd, offset: hole_to as u64 });
            on(&mut fs, &mut device, FsRequest::Write { fd, data: b"!".to_vec() });
            let files = run_ready(fs.snapshot(&mut device)).unwrap();
            assert_eq!(files["/f"], expected, "a hole to {hole_to}, failing at transfer {failing}");
        }
    }
}

/// FIFOs in the file system.
mod fifo;
