//! The FIFO stub: opening a named pipe takes two services, in both modes.
//!
//! The file server resolves the path; for a FIFO it opens nothing and
//! answers with the FIFO's node number. The stub then asks the pipe server
//! to open that FIFO, which gives a pipe descriptor (and may wait for the
//! other end). So the trace shows `fs.open` then `pipe.open_fifo`, as MINIX's
//! VFS resolves a path and hands a pipe to PFS. Each is an operation of its
//! own in the metrics; the wait for the other end is in `pipe.open_fifo`.

use super::{ClientError, Services};
use crate::pipe_protocol::{FifoMode, PipeReply, PipeRequest};
use crate::protocol::{FsReply, FsRequest, ServiceError};

impl Services {
    /// Opens the FIFO at `path` for reading or writing and returns a pipe descriptor.
    ///
    /// # Errors
    /// The file server's errors for the path ("not found", "not a directory", ...); "not a
    /// FIFO" when the path is a file (the descriptor the file server gave for it is closed
    /// again) or a directory; the pipe server's ("no reader" for a nonblocking open for
    /// writing while no one reads, "too many open files"); the kernel's (peer dead).
    pub async fn open_fifo(&mut self, path: &str, mode: FifoMode, nonblocking: bool) -> Result<u32, ClientError> {
        let opened = match self.fs(FsRequest::Open { path: path.to_owned(), create: false }).await {
            Err(ClientError::Service(ServiceError::IsADirectory)) => return Err(ServiceError::NotAFifo.into()),
            opened => opened?,
        };
        let fifo = match opened {
            FsReply::Fifo(node) => node,
            FsReply::Descriptor(fd) => {
                self.fs(FsRequest::Close { fd }).await?;
                return Err(ServiceError::NotAFifo.into());
            }
            _ => return Err(ServiceError::BadRequest.into()),
        };
        match self.pipe(PipeRequest::OpenFifo { fifo, mode, nonblocking }).await? {
            PipeReply::Descriptor(fd) => Ok(fd),
            _ => Err(ServiceError::BadRequest.into()),
        }
    }
}
