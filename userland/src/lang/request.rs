//! What crosses between a script's thread and its program: one request, one answer.
//!
//! A request names slots and bytes, never script values: the script's side turns its values
//! into a request and the answer back into values ([`super::api`]); the program's side carries
//! the request out against the kernel and the services ([`super::perform`]). Both are plain
//! data, so they cross threads.

use crate::protocol::{FileStat, FsRequest, MqRequest};
use mksim_kernel::{Badge, Blocking, FullPolicy, Incoming, Received, Rights, Slot};

/// A capability passed along with a message.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Passed {
    pub slot: Slot,
    /// Move it (the sender loses it) rather than copy it.
    pub moved: bool,
    pub rights: Rights,
}

/// A message a script sends, calls with or replies with.
#[derive(Clone, Debug, Default)]
pub(crate) struct Outgoing {
    pub label: u32,
    pub data: Vec<u8>,
    pub pass: Vec<Passed>,
}

/// One operation a script asks for.
#[derive(Debug)]
pub(crate) enum Request {
    Print(String),
    Compute(u64),
    Sleep(u64),
    Yield,
    /// Turn recovery of stale file descriptors on or off (no syscall).
    Recover(bool),
    Clock,
    Random,
    Lookup(String),
    Register(String, Slot),
    TimerWait(u32),
    Fs(FsRequest),
    /// A message-queue request, with the notification a registration passes.
    Mq(MqRequest, Option<Slot>),
    Pipe(crate::pipe_protocol::PipeRequest),
    PipeWrite {
        fd: u32,
        data: Vec<u8>,
        nonblocking: bool,
    },
    /// Open the FIFO at `path`: the file server, then the pipe server.
    OpenFifo {
        path: String,
        mode: crate::pipe_protocol::FifoMode,
        nonblocking: bool,
    },
    Sock(crate::socket_protocol::SockRequest),
    /// Send all of `data` on socket `fd`, in as many requests as it takes.
    SockSendAll {
        fd: u32,
        data: Vec<u8>,
    },
    CreateEndpoint,
    CreateQueue {
        capacity: u32,
        policy: FullPolicy,
    },
    CreateNotification,
    CreateRegion(u32),
    Send {
        port: Slot,
        message: Outgoing,
        blocking: Blocking,
    },
    Call {
        port: Slot,
        message: Outgoing,
        timeout: Option<u64>,
    },
    Receive {
        port: Slot,
        from: Option<Badge>,
        blocking: Blocking,
    },
    Reply {
        reply: Slot,
        message: Outgoing,
    },
    ReplyReceive {
        reply: Slot,
        message: Outgoing,
        port: Slot,
    },
    Signal {
        to: Slot,
        bits: u64,
    },
    Wait {
        on: Slot,
        timeout: Option<u64>,
    },
    Poll(Slot),
    Bind(Slot),
    ArmTimer {
        notification: Slot,
        bits: u64,
        delay: u64,
        period: Option<u64>,
    },
    Copy {
        cap: Slot,
        rights: Rights,
    },
    Mint {
        cap: Slot,
        rights: Rights,
        badge: Badge,
    },
    Delete(Slot),
    Revoke(Slot),
    RegionWrite {
        region: Slot,
        offset: u32,
        data: Vec<u8>,
    },
    RegionRead {
        region: Slot,
        offset: u32,
        len: u32,
    },
    Watch {
        process: Slot,
        notification: Slot,
        bits: u64,
    },
    IsReady(Slot),
    Kill(Slot),
    Restart(Slot),
}

/// What came of a request.
#[derive(Debug)]
pub(crate) enum Answer {
    Done,
    Number(u64),
    Flag(bool),
    Slot(Slot),
    Bytes(Vec<u8>),
    Reply(Received),
    Incoming(Incoming),
    Stat(FileStat),
    Entries(Vec<String>),
    /// A message from a queue, with its priority.
    Message(Vec<u8>, u32),
    Pipe(crate::pipe_protocol::PipeReply),
    /// The operation failed, in the words the RON scripts' `Fails` uses ("peer dead").
    Failed(String),
}

/// What a script's thread tells its program.
#[derive(Debug)]
pub(crate) enum FromScript {
    /// Carry this out and answer; the script asks on this line of its text (0 when unknown).
    Request(Request, u32),
    /// The script called `exit(code)`.
    Exit(i32),
    /// The script ran to its end.
    Finished,
    /// The script stopped on an error it did not handle (or ran too long, or used too much
    /// memory): where, and what.
    Failed(String),
}
