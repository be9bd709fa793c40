//! FIFOs in the file system: a name and a node, no data, no descriptor.

use super::{handle, mounted, path};
use crate::filesystem::{FileSystem, FsConfig};
use mksim_userland::protocol::{FileStat, FsReply, FsRequest, ServiceError};
use mksim_userland::ready::run_ready;

#[test]
fn a_fifo_is_listed_and_stats_as_a_fifo_of_size_zero() {
    let (mut fs, mut device) = mounted(8);
    assert_eq!(handle(&mut fs, &mut device, FsRequest::Mkfifo { path: path("/jobs") }), FsReply::Done);
    assert_eq!(handle(&mut fs, &mut device, FsRequest::Create { path: path("/notes") }), FsReply::Done);
    let stat = handle(&mut fs, &mut device, FsRequest::Stat { path: path("/jobs") });
    assert_eq!(stat, FsReply::Stat(FileStat { size: 0, is_directory: false, is_fifo: true }));
    let stat = handle(&mut fs, &mut device, FsRequest::Stat { path: path("/notes") });
    assert_eq!(stat, FsReply::Stat(FileStat { size: 0, is_directory: false, is_fifo: false }));
    let listing = handle(&mut fs, &mut device, FsRequest::Readdir { path: path("/") });
    assert_eq!(listing, FsReply::Entries(vec!["jobs".into(), "notes".into()]));
}

#[test]
fn opening_a_fifo_gives_its_node_and_no_descriptor() {
    let (mut fs, mut device) = mounted(8);
    handle(&mut fs, &mut device, FsRequest::Mkfifo { path: path("/a") });
    handle(&mut fs, &mut device, FsRequest::Mkfifo { path: path("/b") });
    let FsReply::Fifo(a) = handle(&mut fs, &mut device, FsRequest::Open { path: path("/a"), create: false }) else {
        panic!("/a did not open as a FIFO")
    };
    let again = handle(&mut fs, &mut device, FsRequest::Open { path: path("/a"), create: true });
    assert_eq!(again, FsReply::Fifo(a), "the same FIFO, the same node; create changes nothing");
    let b = handle(&mut fs, &mut device, FsRequest::Open { path: path("/b"), create: false });
    assert_ne!(b, FsReply::Fifo(a));
    // No descriptor was taken: the first file opened gets the first one.
    let file = handle(&mut fs, &mut device, FsRequest::Open { path: path("/f"), create: true });
    assert_eq!(file, FsReply::Descriptor(3));
}

#[test]
fn mkfifo_fails_as_mkdir_does() {
    let (mut fs, mut device) = mounted(8);
    let mut mkfifo = |text: &str| handle(&mut fs, &mut device, FsRequest::Mkfifo { path: path(text) });
    assert_eq!(mkfifo("/p"), FsReply::Done);
    assert_eq!(mkfifo("/p"), FsReply::Error(ServiceError::AlreadyExists));
    assert_eq!(mkfifo("/missing/p"), FsReply::Error(ServiceError::NotFound));
    assert_eq!(mkfifo("/p/q"), FsReply::Error(ServiceError::NotADirectory));
    assert_eq!(mkfifo("relative"), FsReply::Error(ServiceError::InvalidPath));
    assert_eq!(mkfifo(&format!("/{}", "n".repeat(256))), FsReply::Error(ServiceError::NameTooLong));
}

#[test]
fn a_fifo_survives_a_remount_and_unlink_removes_it() {
    let (mut fs, mut device) = mounted(8);
    handle(&mut fs, &mut device, FsRequest::Mkfifo { path: path("/p") });
    let node = handle(&mut fs, &mut device, FsRequest::Open { path: path("/p"), create: false });
    let mut remounted = run_ready(FileSystem::mount(&mut device, FsConfig::default())).unwrap();
    let stat = handle(&mut remounted, &mut device, FsRequest::Stat { path: path("/p") });
    assert_eq!(stat, FsReply::Stat(FileStat { size: 0, is_directory: false, is_fifo: true }));
    assert_eq!(handle(&mut remounted, &mut device, FsRequest::Open { path: path("/p"), create: false }), node);
    assert_eq!(handle(&mut remounted, &mut device, FsRequest::Unlink { path: path("/p") }), FsReply::Done);
    let gone = handle(&mut remounted, &mut device, FsRequest::Stat { path: path("/p") });
    assert_eq!(gone, FsReply::Error(ServiceError::NotFound));
    // A FIFO made again at the same path is another node: the pipe server keeps them apart.
    handle(&mut remounted, &mut device, FsRequest::Mkfifo { path: path("/p") });
    assert_ne!(handle(&mut remounted, &mut device, FsRequest::Open { path: path("/p"), create: false }), node);
}
