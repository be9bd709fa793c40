//! The typed protocols servers speak: name, file, console and block device.
//!
//! A request travels as a message whose label says the service and operation
//! and whose data is the request encoded with postcard, so the bytes charged
//! are the real encoded size. Views decode labels and data back into words
//! such as `fs.read(fd=3, len=512)` with [`describe`].

use mksim_kernel::{MESSAGE_DATA_INLINE, MessageData};
use serde::{Deserialize, Serialize, de::DeserializeOwned};
use std::fmt;

pub use crate::mq_protocol::{MQ_PRIORITY_MAX, MqReply, MqRequest};

/// Bit set in the label of every reply.
pub const REPLY_BIT: u32 = 1 << 16;

/// The services, by the high byte of a label.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Service {
    /// The name server.
    Name = 1,
    /// The file server.
    Fs = 2,
    /// The console server.
    Console = 3,
    /// The block device server.
    Block = 4,
    /// The timer server.
    Timer = 5,
    /// The supervisor's heartbeat, which every supervised server answers.
    Supervisor = 6,
    /// The message-queue server.
    MessageQueue = 8,
    /// The pipe server.
    Pipe = 7,
    /// The socket server.
    Socket = 9,
}

/// The label of a heartbeat: a supervisor asks a server whether it still answers.
pub const HEARTBEAT: u32 = ((Service::Supervisor as u32) << 8) | 1;

/// What an injected reply corruption flips in the label, so the client's check sees it.
pub const CORRUPTION_MASK: u32 = 0x80;

impl Service {
    /// The service a request or reply label belongs to.
    pub fn from_label(label: u32) -> Option<Service> {
        match (label & !REPLY_BIT) >> 8 {
            1 => Some(Service::Name),
            2 => Some(Service::Fs),
            3 => Some(Service::Console),
            4 => Some(Service::Block),
            5 => Some(Service::Timer),
            6 => Some(Service::Supervisor),
            8 => Some(Service::MessageQueue),
            7 => Some(Service::Pipe),
            9 => Some(Service::Socket),
            _ => None,
        }
    }
}

/// A request of some protocol: knows its label.
pub trait Request: Serialize + DeserializeOwned + fmt::Display {
    /// The service it is addressed to.
    const SERVICE: Service;
    /// The operation number within the service (1-based).
    fn operation(&self) -> u32;
    /// The label of the message carrying it.
    fn label(&self) -> u32 {
        ((Self::SERVICE as u32) << 8) | self.operation()
    }
}

/// Encodes a protocol value as message data.
pub fn encode<T: Serialize>(value: &T) -> MessageData {
    // Most requests and replies fit inline in message data: encode them on the stack and copy
    // them in, allocating nothing. Longer ones are encoded into a vector that the data takes over.
    let mut small = [0u8; MESSAGE_DATA_INLINE];
    match postcard::to_slice(value, &mut small) {
        Ok(encoded) => MessageData::from_slice(encoded),
        Err(_) => MessageData::from_vec(postcard::to_stdvec(value).expect("protocol values always encode")),
    }
}

/// Decodes message data; `None` when the bytes are not a `T` (a malformed request).
pub fn decode<T: DeserializeOwned>(data: &[u8]) -> Option<T> {
    postcard::from_bytes(data).ok()
}

/// What went wrong in a service, as a reply carries it.
#[derive(Clone, Copy, PartialEq, Eq, Debug, Serialize, Deserialize, thiserror::Error)]
pub enum ServiceError {
    /// No such file, directory or name.
    #[error("not found")]
    NotFound,
    /// The file, directory or name exists already.
    #[error("already exists")]
    AlreadyExists,
    /// A path component is not a directory.
    #[error("not a directory")]
    NotADirectory,
    /// The operation needs a file, not a directory.
    #[error("is a directory")]
    IsADirectory,
    /// The directory still has entries.
    #[error("directory not empty")]
    NotEmpty,
    /// The file descriptor is not open.
    #[error("bad file descriptor")]
    BadDescriptor,
    /// The device has too few free blocks for the write, or the metadata (names, sizes, block
    /// lists) no longer fits in its blocks.
    #[error("no space")]
    NoSpace,
    /// Too many files are open.
    #[error("too many open files")]
    TooManyOpen,
    /// The path is not absolute or has an empty component.
    #[error("invalid path")]
    InvalidPath,
    /// The request is too large for one message.
    #[error("too large")]
    TooLarge,
    /// The caller may not do this (registering a name it was not allowed).
    #[error("permission denied")]
    PermissionDenied,
    /// The request could not be decoded, or came with the wrong capabilities.
    #[error("bad request")]
    BadRequest,
    /// The device failed, or the server behind it is gone.
    #[error("i/o error")]
    Io,
    /// The descriptor was opened at a file server that has since restarted: its open files
    /// died with it (NFS's ESTALE).
    #[error("stale file handle")]
    StaleHandle,
    /// The reply did not pass the client's check (its label was not the request's).
    #[error("corrupt reply")]
    CorruptReply,
    /// A component of the path is longer than a name may be.
    #[error("name too long")]
    NameTooLong,
    /// The operation would have to wait, and the caller asked not to (EAGAIN).
    #[error("would block")]
    WouldBlock,
    /// The message is longer than the queue's message size (EMSGSIZE).
    #[error("message too long")]
    MessageTooLong,
    /// Someone else holds what the caller asked for (a queue's notification: EBUSY).
    #[error("busy")]
    Busy,
    /// An argument is out of its range (a priority above 31, a capacity of 0: EINVAL).
    #[error("invalid argument")]
    InvalidArgument,
    /// A write to a pipe whose read ends are all closed (POSIX's EPIPE).
    #[error("broken pipe")]
    BrokenPipe,
    /// A socket address is bound already.
    #[error("address in use")]
    AddressInUse,
    /// Nobody listens at the address, or its backlog is full.
    #[error("connection refused")]
    ConnectionRefused,
    /// The connection is gone: its listener closed before accepting it, or the server that
    /// held it restarted.
    #[error("connection reset")]
    ConnectionReset,
    /// A stream operation on a socket that is not connected (a listener).
    #[error("not connected")]
    NotConnected,
    /// A nonblocking open of a FIFO for writing while no process has it open for reading
    /// (POSIX's ENXIO).
    #[error("no reader")]
    NoReader,
    /// A FIFO's open was asked of a path that is not a FIFO.
    #[error("not a FIFO")]
    NotAFifo,
    /// The name may come back, so the lookup is worth trying again (EAGAIN); stubs do. The
    /// name server has just restarted and its registrations are still being replayed, or the
    /// server registered under the name has died and a supervisor may register its restart.
    #[error("try again")]
    TryAgain,
}

/// Name server requests.
#[derive(Clone, PartialEq, Eq, Debug, Serialize, Deserialize)]
pub enum NameRequest {
    /// Register the capability carried in the message under `name`.
    Register {
        /// The name.
        name: String,
    },
    /// Ask for a send capability to the service registered as `name`.
    Lookup {
        /// The name.
        name: String,
    },
    /// Register again, after the name server restarted, the capability carried in the message
    /// under `name`: the supervisor's replay of what the dead incarnation held. Only the
    /// supervisor may; a name registered again meanwhile is left as it is.
    Restore {
        /// The name.
        name: String,
    },
    /// The replay is complete: from now on a name the server does not have is not found.
    Restored,
}

impl Request for NameRequest {
    const SERVICE: Service = Service::Name;
    fn operation(&self) -> u32 {
        match self {
            NameRequest::Register { .. } => 1,
            NameRequest::Lookup { .. } => 2,
            NameRequest::Restore { .. } => 3,
            NameRequest::Restored => 4,
        }
    }
}

impl fmt::Display for NameRequest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            NameRequest::Register { name } => write!(f, "name.register({name:?})"),
            NameRequest::Lookup { name } => write!(f, "name.lookup({name:?})"),
            NameRequest::Restore { name } => write!(f, "name.restore({name:?})"),
            NameRequest::Restored => write!(f, "name.restored"),
        }
    }
}

/// File server requests. Paths are absolute, `/`-separated.
#[derive(Clone, PartialEq, Eq, Debug, Serialize, Deserialize)]
#[allow(missing_docs)]
pub enum FsRequest {
    /// Create an empty file (fails if it exists).
    Create { path: String },
    /// Open a file; create it first when `create` is set and it does not exist.
    Open { path: String, create: bool },
    /// Read up to `len` bytes at the descriptor's offset.
    Read { fd: u32, len: u32 },
    /// Write bytes at the descriptor's offset.
    Write { fd: u32, data: Vec<u8> },
    /// Move the descriptor's offset.
    Seek { fd: u32, offset: u64 },
    /// Close a descriptor.
    Close { fd: u32 },
    /// Size and kind of a path.
    Stat { path: String },
    /// Create a directory.
    Mkdir { path: String },
    /// Names in a directory, sorted.
    Readdir { path: String },
    /// Remove a file, a FIFO or an empty directory.
    Unlink { path: String },
    /// Create a FIFO (a named pipe): a name in the file system whose opens the pipe server serves.
    Mkfifo { path: String },
}

impl Request for FsRequest {
    const SERVICE: Service = Service::Fs;
    fn operation(&self) -> u32 {
        match self {
            FsRequest::Create { .. } => 1,
            FsRequest::Open { .. } => 2,
            FsRequest::Read { .. } => 3,
            FsRequest::Write { .. } => 4,
            FsRequest::Seek { .. } => 5,
            FsRequest::Close { .. } => 6,
            FsRequest::Stat { .. } => 7,
            FsRequest::Mkdir { .. } => 8,
            FsRequest::Readdir { .. } => 9,
            FsRequest::Unlink { .. } => 10,
            FsRequest::Mkfifo { .. } => 11,
        }
    }
}

impl FsRequest {
    /// True when sending the request again after the file server died cannot do harm: it
    /// changes nothing on disk a second time and needs no state the server lost. Opening
    /// (even with create) is: the descriptor died with the server, and a file created by the
    /// first try is simply opened by the second. Mkdir and unlink are not: a second try
    /// answers "already exists" or "not found" for what the first try did.
    pub fn is_safe_to_retry(&self) -> bool {
        matches!(self, FsRequest::Open { .. } | FsRequest::Stat { .. } | FsRequest::Readdir { .. })
    }

    /// The descriptor the request uses, to change it (a stub putting the server's number for a
    /// file in place of the program's).
    pub fn descriptor_mut(&mut self) -> Option<&mut u32> {
        match self {
            FsRequest::Read { fd, .. }
            | FsRequest::Write { fd, .. }
            | FsRequest::Seek { fd, .. }
            | FsRequest::Close { fd } => Some(fd),
            _ => None,
        }
    }

    /// The descriptor the request uses, if any.
    pub fn descriptor(&self) -> Option<u32> {
        match self {
            FsRequest::Read { fd, .. }
            | FsRequest::Write { fd, .. }
            | FsRequest::Seek { fd, .. }
            | FsRequest::Close { fd } => Some(*fd),
            _ => None,
        }
    }

    /// The operation's name (`open`, `read`, ...), for per-operation metrics.
    pub fn name(&self) -> &'static str {
        match self {
            FsRequest::Create { .. } => "create",
            FsRequest::Open { .. } => "open",
            FsRequest::Read { .. } => "read",
            FsRequest::Write { .. } => "write",
            FsRequest::Seek { .. } => "seek",
            FsRequest::Close { .. } => "close",
            FsRequest::Stat { .. } => "stat",
            FsRequest::Mkdir { .. } => "mkdir",
            FsRequest::Readdir { .. } => "readdir",
            FsRequest::Unlink { .. } => "unlink",
            FsRequest::Mkfifo { .. } => "mkfifo",
        }
    }
}

impl fmt::Display for FsRequest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            FsRequest::Create { path } => write!(f, "fs.create({path:?})"),
            FsRequest::Open { path, create: false } => write!(f, "fs.open({path:?})"),
            FsRequest::Open { path, create: true } => write!(f, "fs.open({path:?}, create)"),
            FsRequest::Read { fd, len } => write!(f, "fs.read(fd={fd}, len={len})"),
            FsRequest::Write { fd, data } => write!(f, "fs.write(fd={fd}, len={})", data.len()),
            FsRequest::Seek { fd, offset } => write!(f, "fs.seek(fd={fd}, offset={offset})"),
            FsRequest::Close { fd } => write!(f, "fs.close(fd={fd})"),
            FsRequest::Stat { path } => write!(f, "fs.stat({path:?})"),
            FsRequest::Mkdir { path } => write!(f, "fs.mkdir({path:?})"),
            FsRequest::Readdir { path } => write!(f, "fs.readdir({path:?})"),
            FsRequest::Unlink { path } => write!(f, "fs.unlink({path:?})"),
            FsRequest::Mkfifo { path } => write!(f, "fs.mkfifo({path:?})"),
        }
    }
}

/// What a file is.
#[derive(Clone, Copy, PartialEq, Eq, Debug, Serialize, Deserialize)]
pub struct FileStat {
    /// Bytes in the file (entries, for a directory).
    pub size: u64,
    /// True for a directory.
    pub is_directory: bool,
    /// True for a FIFO (a named pipe; its size is always 0: its bytes are at the pipe server).
    pub is_fifo: bool,
}

/// File server replies.
#[derive(Clone, PartialEq, Eq, Debug, Serialize, Deserialize)]
pub enum FsReply {
    /// The operation succeeded with nothing to return.
    Done,
    /// A new file descriptor.
    Descriptor(u32),
    /// Bytes read.
    Data(Vec<u8>),
    /// Bytes written.
    Written(u32),
    /// Size and kind.
    Stat(FileStat),
    /// Directory entries.
    Entries(Vec<String>),
    /// The path opened is a FIFO with this node number: the file server opens no file for it,
    /// and the client asks the pipe server to open the FIFO of that number (as MINIX's VFS
    /// hands a pipe to PFS).
    Fifo(u32),
    /// The operation failed.
    Error(ServiceError),
}

/// Console requests.
#[derive(Clone, PartialEq, Eq, Debug, Serialize, Deserialize)]
pub enum ConsoleRequest {
    /// Append text to the caller's output.
    Write {
        /// The text.
        text: String,
    },
}

impl Request for ConsoleRequest {
    const SERVICE: Service = Service::Console;
    fn operation(&self) -> u32 {
        1
    }
}

impl fmt::Display for ConsoleRequest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let ConsoleRequest::Write { text } = self;
        let shown: String = text.chars().take(24).collect();
        let more = if shown.len() < text.len() { "…" } else { "" };
        write!(f, "console.write({:?}{more})", shown)
    }
}

/// Block device requests.
#[derive(Clone, PartialEq, Eq, Debug, Serialize, Deserialize)]
pub enum BlockRequest {
    /// Read one block.
    Read {
        /// Block number.
        block: u32,
    },
    /// Write one block.
    Write {
        /// Block number.
        block: u32,
        /// Exactly one block of bytes.
        data: Vec<u8>,
    },
}

impl Request for BlockRequest {
    const SERVICE: Service = Service::Block;
    fn operation(&self) -> u32 {
        match self {
            BlockRequest::Read { .. } => 1,
            BlockRequest::Write { .. } => 2,
        }
    }
}

impl fmt::Display for BlockRequest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            BlockRequest::Read { block } => write!(f, "block.read({block})"),
            BlockRequest::Write { block, .. } => write!(f, "block.write({block})"),
        }
    }
}

/// Timer server requests.
#[derive(Clone, PartialEq, Eq, Debug, Serialize, Deserialize)]
pub enum TimerRequest {
    /// Answer after this many timer ticks.
    Wait {
        /// Ticks to wait.
        ticks: u32,
    },
}

impl Request for TimerRequest {
    const SERVICE: Service = Service::Timer;
    fn operation(&self) -> u32 {
        1
    }
}

impl fmt::Display for TimerRequest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let TimerRequest::Wait { ticks } = self;
        write!(f, "timer.wait(ticks={ticks})")
    }
}

/// Replies of the name, console, block and timer services.
#[derive(Clone, PartialEq, Eq, Debug, Serialize, Deserialize)]
pub enum SimpleReply {
    /// Success; a capability may come with it (lookup).
    Done,
    /// Success with bytes (block read).
    Data(Vec<u8>),
    /// Failure.
    Error(ServiceError),
}

/// The label of the reply to a request label.
pub fn reply_label(request_label: u32) -> u32 {
    request_label | REPLY_BIT
}

fn describe_reply(service: Service, data: &[u8]) -> Option<String> {
    let text = match service {
        Service::Supervisor => "alive".to_owned(),
        Service::MessageQueue => crate::mq_protocol::describe_reply(data)?,
        Service::Pipe => crate::pipe_protocol::describe_pipe_reply(data)?,
        Service::Socket => crate::socket_protocol::describe_reply(data)?,
        Service::Fs => match decode::<FsReply>(data)? {
            FsReply::Done => "ok".to_owned(),
            FsReply::Descriptor(fd) => format!("fd {fd}"),
            FsReply::Data(bytes) => format!("{} B", bytes.len()),
            FsReply::Written(count) => format!("wrote {count} B"),
            FsReply::Stat(stat) => {
                let kind = match (stat.is_directory, stat.is_fifo) {
                    (true, _) => ", directory",
                    (false, true) => ", FIFO",
                    (false, false) => "",
                };
                format!("size {}{kind}", stat.size)
            }
            FsReply::Entries(entries) => format!("{} entries", entries.len()),
            FsReply::Fifo(node) => format!("FIFO, node {node}"),
            FsReply::Error(error) => format!("error: {error}"),
        },
        _ => match decode::<SimpleReply>(data)? {
            SimpleReply::Done => "ok".to_owned(),
            SimpleReply::Data(bytes) => format!("{} B", bytes.len()),
            SimpleReply::Error(error) => format!("error: {error}"),
        },
    };
    Some(text)
}

/// A message in words, if its label belongs to a known protocol.
pub fn describe(label: u32, data: &[u8]) -> Option<String> {
    if label == mksim_kernel::DISCONNECTED {
        return Some("disconnect (the client ended)".to_owned());
    }
    let service = Service::from_label(label)?;
    if label & REPLY_BIT != 0 {
        let operation = describe_operation(label & !REPLY_BIT)?;
        return Some(format!("{operation} → {}", describe_reply(service, data)?));
    }
    Some(match service {
        Service::Name => decode::<NameRequest>(data)?.to_string(),
        Service::Fs => decode::<FsRequest>(data)?.to_string(),
        Service::Console => decode::<ConsoleRequest>(data)?.to_string(),
        Service::Block => decode::<BlockRequest>(data)?.to_string(),
        Service::Timer => decode::<TimerRequest>(data)?.to_string(),
        Service::Supervisor => "heartbeat".to_owned(),
        Service::MessageQueue => crate::mq_protocol::describe_request(data)?,
        Service::Pipe => decode::<crate::pipe_protocol::PipeRequest>(data)?.to_string(),
        Service::Socket => decode::<crate::socket_protocol::SockRequest>(data)?.to_string(),
    })
}

/// How the kernel's trace should put this system's messages into words.
pub const DESCRIBER: mksim_kernel::event::MessageDescriber = mksim_kernel::event::MessageDescriber {
    content: describe,
    operation: describe_operation,
    state: crate::service_state::describe,
    answer: describe_answer,
};

/// What a service inside the kernel answered a request with `label`, in the words of its
/// server's reply: `fs.open → fd 3`.
fn describe_answer(label: u32, data: &[u8]) -> Option<String> {
    describe(reply_label(label), data)
}

/// The operation a request label names (`fs.read`), for per-operation metrics.
pub fn describe_operation(label: u32) -> Option<&'static str> {
    let name = match (label >> 8, label & 0xff) {
        (1, 1) => "name.register",
        (1, 2) => "name.lookup",
        (1, 3) => "name.restore",
        (1, 4) => "name.restored",
        (2, 1) => "fs.create",
        (2, 2) => "fs.open",
        (2, 3) => "fs.read",
        (2, 4) => "fs.write",
        (2, 5) => "fs.seek",
        (2, 6) => "fs.close",
        (2, 7) => "fs.stat",
        (2, 8) => "fs.mkdir",
        (2, 9) => "fs.readdir",
        (2, 10) => "fs.unlink",
        (2, 11) => "fs.mkfifo",
        (3, 1) => "console.write",
        (4, 1) => "block.read",
        (4, 2) => "block.write",
        (5, 1) => "timer.wait",
        (6, 1) => "heartbeat",
        (8, operation) => return crate::mq_protocol::operation_name(operation),
        (7, operation) => return crate::pipe_protocol::pipe_operation(operation),
        (9, operation) => return crate::socket_protocol::operation_name(operation),
        _ => return None,
    };
    Some(name)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn requests_read_back_as_calls() {
        let request = FsRequest::Read { fd: 3, len: 512 };
        assert_eq!(describe(request.label(), &encode(&request)).as_deref(), Some("fs.read(fd=3, len=512)"));
        let reply = FsReply::Data(vec![0; 512]);
        let text = describe(reply_label(request.label()), &encode(&reply));
        assert_eq!(text.as_deref(), Some("fs.read → 512 B"));
    }

    #[test]
    fn fifos_read_back_in_the_file_servers_words() {
        let request = FsRequest::Mkfifo { path: "/log".into() };
        assert_eq!(describe(request.label(), &encode(&request)).as_deref(), Some("fs.mkfifo(\"/log\")"));
        assert_eq!(describe_operation(request.label()), Some("fs.mkfifo"));
        let open = FsRequest::Open { path: "/log".into(), create: false }.label();
        let reply = describe(reply_label(open), &encode(&FsReply::Fifo(4)));
        assert_eq!(reply.as_deref(), Some("fs.open → FIFO, node 4"));
        let stat = FsReply::Stat(FileStat { size: 0, is_directory: false, is_fifo: true });
        let text = describe(reply_label(FsRequest::Stat { path: "/log".into() }.label()), &encode(&stat));
        assert_eq!(text.as_deref(), Some("fs.stat → size 0, FIFO"));
    }

    #[test]
    fn malformed_data_is_not_described() {
        assert_eq!(describe(FsRequest::Close { fd: 1 }.label(), &[0xff, 0xff, 0xff]), None);
        assert_eq!(describe(0x9999, &[]), None);
    }

    #[test]
    fn every_label_names_its_operation() {
        let request = NameRequest::Lookup { name: "fs".into() };
        assert_eq!(describe_operation(request.label()), Some("name.lookup"));
        assert_eq!(describe_operation(BlockRequest::Write { block: 1, data: vec![] }.label()), Some("block.write"));
    }
}
