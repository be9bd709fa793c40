//! The file-system stub: every file request, in both modes; what the stubs
//! know of each open file; the run's ledger of writes; and recovery.
//!
//! For each descriptor the program holds, the stub keeps the path it was
//! opened by, the file-server incarnation that gave it, and its offset as the
//! answers moved it. That lets it:
//!
//! - refuse a stale descriptor after the file server restarted, without a
//!   message: the new server may have given that number to another file;
//! - write each write down in the run's [`FileLedger`] with the place it goes
//!   to, and how the client heard it ended;
//! - with recovery on (a process's `recover: true`), carry on where a plain
//!   client gives up. A descriptor that died with its file server is opened
//!   again by its path at the new one and moved to the last offset the answers
//!   confirmed, and the request is sent again: a read from a known offset is
//!   safe to repeat, and so is a write, because the stub makes the retry a
//!   write at an explicit offset (the same bytes at the same place, whether or
//!   not the first try landed). A garbled answer to a read or write is
//!   recovered the same way with a seek back, without reopening. Closing a
//!   descriptor that died with its server is done. A descriptor whose offset is
//!   unknown (two garbled answers in a row) is not recovered: the stub cannot
//!   name the place.
//!
//! The program keeps its descriptor numbers: a reopened file may have another
//! number at the server, which the stub puts in each request it sends.

use super::ledger::{Heard, canonical};
use super::{ClientError, KernelServices, Mode, Services};
use crate::protocol::{FsReply, FsRequest, Request, ServiceError, decode, encode};
use mksim_kernel::SysError;
use std::borrow::Cow;
use std::collections::BTreeMap;
use std::rc::Rc;

/// An open file as the stubs know it.
#[derive(Clone, Debug)]
pub(super) struct OpenFile {
    /// The path it was opened by, as the file system lists it (see [`canonical`]).
    path: String,
    /// The descriptor the file server knows it by: the program's own number, unless a recovery
    /// opened it again under another.
    server_fd: u32,
    /// The file-server incarnation that gave that descriptor.
    incarnation: u32,
    /// Where its next read or write goes, as the answers said; `None` once an answer that
    /// would have moved it was lost.
    offset: Option<u64>,
}

/// The open files of one program, by the number the program knows each by.
pub(super) type OpenFiles = BTreeMap<u32, OpenFile>;

impl Services {
    /// Sends a file-system request and returns the reply; a reply carrying an error becomes `Err`.
    ///
    /// After the file server restarts, descriptors opened at the old one are stale: using one
    /// fails with [`ServiceError::StaleHandle`] without a message, rather than reach whatever
    /// file the new server gave that number. Open, stat and readdir are sent again after the
    /// server died; the others are reported failed (see [`FsRequest::is_safe_to_retry`]),
    /// unless the process recovers (see the module's text).
    ///
    /// # Errors
    /// The file server's error, or the kernel's (peer dead when the file server died).
    pub async fn fs(&mut self, request: FsRequest) -> Result<FsReply, ClientError> {
        let label = request.label();
        let reply = match &self.mode {
            Mode::Monolithic(services) => {
                let services = Rc::clone(services);
                self.marked(label, self.fs_in_kernel(&*services, &request)).await?
            }
            Mode::Microkernel => {
                self.connect("fs").await?;
                self.marked(label, self.fs_by_message(&request)).await?
            }
        };
        match reply {
            FsReply::Error(error) => Err(error.into()),
            reply => Ok(reply),
        }
    }

    /// Monolithic mode: the kernel's file-system module answers, and the one syscall accounts
    /// for its work.
    async fn fs_in_kernel(&self, services: &dyn KernelServices, request: &FsRequest) -> Result<FsReply, ClientError> {
        self.write_sent(request);
        let (reply, work) = services.fs(self.client, request.clone(), self.sys.now());
        self.sys.kernel_service_answered(request.label(), encode(request), work, encode(&reply)).await?;
        self.heard(request, Ok(reply), 0)
    }

    /// Microkernel mode: a call to the file server, looked up again and recovered as the
    /// module's text says.
    async fn fs_by_message(&self, request: &FsRequest) -> Result<FsReply, ClientError> {
        let mut retried = false;
        loop {
            if let Some(fd) = request.descriptor().filter(|&fd| self.is_stale(fd)) {
                if !self.recover {
                    return Err(ServiceError::StaleHandle.into());
                }
                if let FsRequest::Close { .. } = request {
                    self.connections.borrow_mut().files.remove(&fd);
                    return Ok(FsReply::Done);
                }
                self.reopen(fd).await?;
            }
            let incarnation = self.connections.borrow().incarnation("fs");
            let sent = self.for_server(request);
            self.write_sent(request);
            let answer = match self.call_service("fs", sent.as_ref(), request.is_safe_to_retry()).await {
                Ok(data) => decode::<FsReply>(&data).ok_or(ClientError::Service(ServiceError::BadRequest)),
                Err(error) => Err(error),
            };
            if self.recover && !retried && self.recoverable(request, &answer).await {
                retried = true;
                self.sys.retry_operation(request.label());
                continue;
            }
            return self.heard(request, answer, incarnation);
        }
    }

    /// Whether a recovering client sends `request` again after `answer`: a read or write whose
    /// server died (its descriptor is stale now, and reopened on the next try) or whose answer
    /// came back garbled (moved back to where it was first).
    async fn recoverable(&self, request: &FsRequest, answer: &Result<FsReply, ClientError>) -> bool {
        let (FsRequest::Read { fd, .. } | FsRequest::Write { fd, .. }) = request else { return false };
        match answer {
            Err(ClientError::Sys(SysError::PeerDead)) => self.offset(*fd).is_some(),
            Err(ClientError::Service(ServiceError::CorruptReply | ServiceError::BadRequest)) => {
                let Some(offset) = self.offset(*fd) else { return false };
                matches!(self.seek_at_server(self.for_server_fd(*fd), offset).await, Ok(true))
            }
            _ => false,
        }
    }

    /// Opens the file of the stale descriptor `fd` again at the current file server, at the
    /// offset it had.
    ///
    /// # Errors
    /// Stale file handle when its offset is unknown or the file cannot be opened again; the
    /// kernel's errors.
    async fn reopen(&self, fd: u32) -> Result<(), ClientError> {
        let stale = || ClientError::Service(ServiceError::StaleHandle);
        let file = self.connections.borrow().files.get(&fd).cloned().ok_or_else(stale)?;
        let offset = file.offset.ok_or_else(stale)?;
        let incarnation = self.connections.borrow().incarnation("fs");
        let open = FsRequest::Open { path: file.path.clone(), create: false };
        let data = self.call_service("fs", &open, true).await?;
        let Some(FsReply::Descriptor(server_fd)) = decode::<FsReply>(&data) else { return Err(stale()) };
        let reopened = OpenFile { server_fd, incarnation, ..file };
        self.connections.borrow_mut().files.insert(fd, reopened);
        if offset > 0 && !self.seek_at_server(server_fd, offset).await? {
            return Err(stale());
        }
        Ok(())
    }

    /// Moves the file server's descriptor `server_fd` to `offset` (a seek is safe to repeat);
    /// true when the server says it did.
    async fn seek_at_server(&self, server_fd: u32, offset: u64) -> Result<bool, ClientError> {
        let data = self.call_service("fs", &FsRequest::Seek { fd: server_fd, offset }, true).await?;
        Ok(decode::<FsReply>(&data) == Some(FsReply::Done))
    }

    /// True when `fd` was handed out by a file server that has died since.
    fn is_stale(&self, fd: u32) -> bool {
        let connections = self.connections.borrow();
        let current = connections.incarnation("fs");
        connections.files.get(&fd).is_some_and(|file| file.incarnation != current)
    }

    fn offset(&self, fd: u32) -> Option<u64> {
        self.connections.borrow().files.get(&fd).and_then(|file| file.offset)
    }

    fn for_server_fd(&self, fd: u32) -> u32 {
        self.connections.borrow().files.get(&fd).map_or(fd, |file| file.server_fd)
    }

    /// `request` with the descriptor the file server knows the file by: the request itself,
    /// unless a recovery reopened the file under another number.
    fn for_server<'request>(&self, request: &'request FsRequest) -> Cow<'request, FsRequest> {
        let Some(fd) = request.descriptor() else { return Cow::Borrowed(request) };
        let server_fd = self.for_server_fd(fd);
        if server_fd == fd {
            return Cow::Borrowed(request);
        }
        let mut sent = request.clone();
        if let Some(fd) = sent.descriptor_mut() {
            *fd = server_fd;
        }
        Cow::Owned(sent)
    }

    /// Writes a write down in the ledger as sent, where the stub knows its place.
    fn write_sent(&self, request: &FsRequest) {
        let (Some(ledger), FsRequest::Write { fd, data }) = (&self.ledger, request) else { return };
        if let Some(file) = self.connections.borrow().files.get(fd)
            && let Some(offset) = file.offset
        {
            ledger.borrow_mut().write_sent(self.client, &file.path, offset, data);
        }
    }

    /// Follows what `answer` says of `request`'s descriptor and data (`incarnation` when it was
    /// sent), and returns `answer` as the program sees it: a new descriptor under the
    /// program's number for it.
    fn heard(
        &self,
        request: &FsRequest,
        answer: Result<FsReply, ClientError>,
        incarnation: u32,
    ) -> Result<FsReply, ClientError> {
        let heard = match &answer {
            Ok(FsReply::Error(_)) | Err(ClientError::Service(ServiceError::StaleHandle)) => Heard::Refused,
            Ok(FsReply::Written(bytes)) => Heard::Done(u64::from(*bytes)),
            Ok(_) => Heard::Done(0),
            Err(_) => Heard::Unknown,
        };
        if let Some(ledger) = &self.ledger {
            let mut ledger = ledger.borrow_mut();
            match request {
                FsRequest::Write { .. } => ledger.write_heard(self.client, heard),
                FsRequest::Unlink { path } => ledger.unlink_heard(path, heard),
                _ => {}
            }
        }
        let mut connections = self.connections.borrow_mut();
        let current = connections.incarnation("fs").max(incarnation);
        let files = &mut connections.files;
        let offset = |files: &OpenFiles, fd: &u32| files.get(fd).and_then(|file| file.offset);
        let moved_to = match (request, &answer) {
            (FsRequest::Open { path, .. }, Ok(FsReply::Descriptor(server_fd))) => {
                let fd = program_number(files, *server_fd, current, self.recover);
                let file =
                    OpenFile { path: canonical(path), server_fd: *server_fd, incarnation: current, offset: Some(0) };
                files.insert(fd, file);
                return Ok(FsReply::Descriptor(fd));
            }
            (FsRequest::Close { fd }, Ok(FsReply::Done)) => {
                files.remove(fd);
                return answer;
            }
            (FsRequest::Read { fd, .. }, Ok(FsReply::Data(bytes))) => {
                (fd, offset(files, fd).map(|at| at + bytes.len() as u64))
            }
            (FsRequest::Write { fd, .. }, Ok(FsReply::Written(bytes))) => {
                (fd, offset(files, fd).map(|at| at + u64::from(*bytes)))
            }
            (FsRequest::Seek { fd, offset }, Ok(FsReply::Done)) => (fd, Some(*offset)),
            // An answer that would have moved the offset was lost: where it is now is unknown.
            (FsRequest::Read { fd, .. } | FsRequest::Write { fd, .. } | FsRequest::Seek { fd, .. }, Err(_))
                if heard == Heard::Unknown =>
            {
                (fd, None)
            }
            _ => return answer,
        };
        if let Some(file) = files.get_mut(moved_to.0) {
            file.offset = moved_to.1;
        }
        answer
    }
}

/// The number the program gets for a file the server opened as `server_fd`: the same, unless
/// the program still holds that number for another file (a recovering client's descriptor
/// that a reopen moved to another number at the server). A plain client's stale descriptor
/// gives its number up, as it always has: it can never be used again.
fn program_number(files: &OpenFiles, server_fd: u32, current: u32, recover: bool) -> u32 {
    let taken = |fd: u32| files.get(&fd).is_some_and(|file| recover || file.incarnation == current);
    if !taken(server_fd) {
        return server_fd;
    }
    (server_fd..).find(|&fd| !taken(fd)).unwrap_or(server_fd)
}
