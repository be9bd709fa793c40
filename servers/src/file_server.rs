//! The file server: the file system behind an endpoint, its blocks on the
//! block device server. Clients are told apart by their badge, so every
//! client has its own file descriptors.

use crate::block_server::IpcBlockDevice;
use crate::filesystem::{FileSystem, FsConfig};
use crate::serve::{Answer, ServerFaults, serve_with_faults};
use mksim_kernel::{Incoming, Message, ProgramFault, ProgramResult, Slot, Sys};
use mksim_userland::protocol::{FsReply, FsRequest, ServiceError, decode, encode, reply_label};

/// Mounts the file system on the block server behind `device.port`, then serves `port`.
///
/// # Errors
/// Faults when the file system cannot be mounted or its own port fails.
pub async fn file_server(
    sys: Sys,
    port: Slot,
    mut device: IpcBlockDevice,
    config: FsConfig,
    faults: Option<ServerFaults>,
) -> ProgramResult {
    let mut fs = FileSystem::mount(&mut device, config)
        .await
        .map_err(|error| ProgramFault::failed(3, format!("cannot mount the file system: {error}")))?;
    serve_with_faults(&sys, port, faults, async |incoming| {
        let Incoming::Message(request) = incoming else { return Answer::Later };
        let reply = match decode::<FsRequest>(&request.data) {
            Some(operation) => fs.handle(&mut device, request.badge.0, operation).await,
            None => FsReply::Error(ServiceError::BadRequest),
        };
        Answer::Now(Message::new(reply_label(request.label), encode(&reply)))
    })
    .await
}
