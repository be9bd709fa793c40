//! The pipe server's protocol: anonymous pipes with POSIX byte-stream
//! semantics, and handing a descriptor to another process.
//!
//! A descriptor belongs to one client (its badge), as a file descriptor does;
//! [`PipeRequest::Give`] puts a new reference to the same end under a name at
//! the pipe server, and [`PipeRequest::Take`] makes it a descriptor of the
//! taker: what `SCM_RIGHTS` over a Unix socket does, or a shell's `fork`
//! before it closes the ends a child does not use.

use crate::protocol::{Request, Service, ServiceError, decode};
use serde::{Deserialize, Serialize};
use std::fmt;

/// The most bytes one write moves atomically (POSIX's `PIPE_BUF`; POSIX asks for at least
/// 512). A longer write is sent in pieces of this size, which other writers' pieces may come
/// between. Small, so that a scenario shows the interleaving with a few hundred bytes.
pub const PIPE_BUF_BYTES: usize = 512;

/// The most bytes one read returns: the reply must fit in a message.
pub const PIPE_READ_BYTES_MAX: usize = 512;

/// Pipe server requests.
#[derive(Clone, PartialEq, Eq, Debug, Serialize, Deserialize)]
#[allow(missing_docs)]
pub enum PipeRequest {
    /// Make a pipe: two descriptors, its read end and its write end.
    Create,
    /// Read up to `len` bytes; waits while the pipe is empty and has a writer.
    Read { fd: u32, len: u32, nonblocking: bool },
    /// Write all of `data` (at most [`PIPE_BUF_BYTES`]) at once; waits while it does not fit.
    Write { fd: u32, data: Vec<u8>, nonblocking: bool },
    /// Close a descriptor.
    Close { fd: u32 },
    /// Put a new reference to the descriptor's end under `name`, for another process to take.
    Give { fd: u32, name: String },
    /// Take the end given under `name` as a new descriptor; waits until it is given.
    Take { name: String },
    /// Open the FIFO the file server knows as node `fifo`, for reading or for writing: a new
    /// descriptor on its pipe. Waits until the other end is open too, unless `nonblocking`
    /// (then an open for reading succeeds at once, and one for writing fails with "no reader"
    /// when nobody has it open for reading).
    OpenFifo { fifo: u32, mode: FifoMode, nonblocking: bool },
}

/// Which end of a FIFO an open asks for (POSIX's `O_RDONLY` or `O_WRONLY`).
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Debug, Serialize, Deserialize)]
pub enum FifoMode {
    /// The read end.
    Read,
    /// The write end.
    Write,
}

impl fmt::Display for FifoMode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            FifoMode::Read => "read",
            FifoMode::Write => "write",
        })
    }
}

impl Request for PipeRequest {
    const SERVICE: Service = Service::Pipe;
    fn operation(&self) -> u32 {
        match self {
            PipeRequest::Create => 1,
            PipeRequest::Read { .. } => 2,
            PipeRequest::Write { .. } => 3,
            PipeRequest::Close { .. } => 4,
            PipeRequest::Give { .. } => 5,
            PipeRequest::Take { .. } => 6,
            PipeRequest::OpenFifo { .. } => 7,
        }
    }
}

/// The operation a pipe label's low byte names (`pipe.read`), for per-operation metrics.
pub fn pipe_operation(operation: u32) -> Option<&'static str> {
    let name = match operation {
        1 => "pipe.create",
        2 => "pipe.read",
        3 => "pipe.write",
        4 => "pipe.close",
        5 => "pipe.give",
        6 => "pipe.take",
        7 => "pipe.open_fifo",
        _ => return None,
    };
    Some(name)
}

impl fmt::Display for PipeRequest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let waits = |nonblocking: bool| if nonblocking { ", nonblocking" } else { "" };
        match self {
            PipeRequest::Create => write!(f, "pipe.create"),
            PipeRequest::Read { fd, len, nonblocking } => write!(f, "pipe.read(fd={fd}, {len}{})", waits(*nonblocking)),
            PipeRequest::Write { fd, data, nonblocking } => {
                write!(f, "pipe.write(fd={fd}, {} B{})", data.len(), waits(*nonblocking))
            }
            PipeRequest::Close { fd } => write!(f, "pipe.close(fd={fd})"),
            PipeRequest::Give { fd, name } => write!(f, "pipe.give(fd={fd}, {name:?})"),
            PipeRequest::Take { name } => write!(f, "pipe.take({name:?})"),
            PipeRequest::OpenFifo { fifo, mode, nonblocking } => {
                write!(f, "pipe.open_fifo(node {fifo}, {mode}{})", waits(*nonblocking))
            }
        }
    }
}

/// How one try of a pipe request inside a monolithic kernel stands to the operation it is part of.
#[derive(Clone, Copy, PartialEq, Eq, Debug, Default)]
pub struct PipeTry {
    /// It goes on with a syscall already made (after a wait, or a later piece of a long write):
    /// charged and logged, but not counted as a new syscall.
    pub resumed: bool,
    /// It is the same request tried again after a wait. The pipe server does not see such a
    /// request come in again, so a fault planned for its Nth request does not count it.
    pub again: bool,
}

/// Pipe server replies.
#[derive(Clone, PartialEq, Eq, Debug, Serialize, Deserialize)]
pub enum PipeReply {
    /// A new pipe's descriptors.
    Created {
        /// Its read end.
        read: u32,
        /// Its write end.
        write: u32,
    },
    /// A descriptor taken.
    Descriptor(u32),
    /// Bytes read; none means end of file.
    Data(Vec<u8>),
    /// Bytes written.
    Written(u32),
    /// Done, nothing to return.
    Done,
    /// The operation failed.
    Error(ServiceError),
}

/// A pipe reply in words, for the trace.
pub fn describe_pipe_reply(data: &[u8]) -> Option<String> {
    let text = match decode::<PipeReply>(data)? {
        PipeReply::Created { read, write } => format!("read fd {read}, write fd {write}"),
        PipeReply::Descriptor(fd) => format!("fd {fd}"),
        PipeReply::Data(bytes) if bytes.is_empty() => "end of file".to_owned(),
        PipeReply::Data(bytes) => format!("{} B", bytes.len()),
        PipeReply::Written(count) => format!("wrote {count} B"),
        PipeReply::Done => "ok".to_owned(),
        PipeReply::Error(error) => format!("error: {error}"),
    };
    Some(text)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::protocol::{describe, encode, reply_label};

    #[test]
    fn pipe_requests_and_replies_read_back_as_calls() {
        let request = PipeRequest::Write { fd: 4, data: vec![b'x'; 128], nonblocking: false };
        assert_eq!(describe(request.label(), &encode(&request)).as_deref(), Some("pipe.write(fd=4, 128 B)"));
        let request = PipeRequest::Read { fd: 3, len: 64, nonblocking: true };
        assert_eq!(describe(request.label(), &encode(&request)).as_deref(), Some("pipe.read(fd=3, 64, nonblocking)"));
        let reply = PipeReply::Data(vec![0; 12]);
        assert_eq!(describe(reply_label(request.label()), &encode(&reply)).as_deref(), Some("pipe.read → 12 B"));
        let reply = PipeReply::Data(Vec::new());
        let text = describe(reply_label(request.label()), &encode(&reply));
        assert_eq!(text.as_deref(), Some("pipe.read → end of file"));
        assert_eq!(
            describe(PipeRequest::Create.label(), &encode(&PipeRequest::Create)).as_deref(),
            Some("pipe.create")
        );
    }

    #[test]
    fn fifo_opens_read_back_with_their_node_and_mode() {
        let request = PipeRequest::OpenFifo { fifo: 7, mode: FifoMode::Write, nonblocking: true };
        let text = describe(request.label(), &encode(&request));
        assert_eq!(text.as_deref(), Some("pipe.open_fifo(node 7, write, nonblocking)"));
        let reply = PipeReply::Descriptor(3);
        assert_eq!(describe(reply_label(request.label()), &encode(&reply)).as_deref(), Some("pipe.open_fifo → fd 3"));
        let refused = PipeReply::Error(crate::protocol::ServiceError::NoReader);
        let text = describe(reply_label(request.label()), &encode(&refused));
        assert_eq!(text.as_deref(), Some("pipe.open_fifo → error: no reader"));
    }
}
