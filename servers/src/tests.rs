//! Unit tests of the service logic with a device that answers at once.

use crate::block::{BlockDevice, Ramdisk};
use crate::filesystem::{FileSystem, FsConfig};
use mksim_userland::protocol::{FsReply, FsRequest, ServiceError};
use mksim_userland::ready::run_ready;

struct Direct(Ramdisk, u64);

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
