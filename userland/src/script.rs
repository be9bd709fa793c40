//! Scripted programs: the operations a scenario file can ask a process to do.
//!
//! A script is a list of [`Op`]s run in order by [`crate::interpreter`]. Names
//! stand for capabilities, file descriptors and received messages: a process
//! starts with the capabilities its scenario gives it, and operations with an
//! `as` field add new names. Every name is checked before the run
//! ([`check_names`]), so a typo is reported with the scenario, not as a fault.

use crate::protocol::Service;
use serde::Deserialize;

/// One capability passed along with a message.
#[derive(Clone, PartialEq, Eq, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Pass {
    /// The name of the capability to pass.
    pub cap: String,
    /// Move it (the sender loses it) instead of copying it.
    #[serde(default)]
    pub r#move: bool,
    /// Rights to keep, as letters `s r g R W` (default: all it has).
    #[serde(default)]
    pub rights: Option<String>,
}

/// Whether a full queue blocks the sender or fails at once.
#[derive(Clone, Copy, PartialEq, Eq, Debug, Deserialize)]
pub enum Policy {
    /// The sender waits for room.
    Block,
    /// The send fails with queue-full.
    Fail,
}

/// What a path names, as `Stat` checks it.
#[derive(Clone, Copy, PartialEq, Eq, Debug, Deserialize)]
pub enum FileKind {
    /// A file.
    File,
    /// A directory.
    Directory,
    /// A FIFO (named pipe).
    Fifo,
}

/// One operation of a scripted program.
#[derive(Clone, PartialEq, Eq, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
#[allow(missing_docs)] // Field names say what they hold; each variant's doc says what it does.
pub enum Op {
    /// Write text to the console.
    Print(String),
    /// Use the processor for a number of cycles.
    Compute(u64),
    /// Sleep for a number of cycles.
    Sleep(u64),
    /// Let others of the same priority run.
    Yield,
    /// End the program with this exit code.
    Exit(i32),
    /// Run `ops` `times` times.
    Repeat { times: u32, ops: Vec<Op> },
    /// The operation must fail with this error (its words, e.g. "peer dead", "not found").
    Fails { error: String, op: Box<Op> },
    /// Look a name up at the name server; the capability gets the name `as`.
    Lookup {
        name: String,
        #[serde(rename = "as")]
        name_as: String,
    },
    /// Register a capability at the name server.
    Register { name: String, cap: String },
    /// Wait for timer ticks (timer server).
    TimerWait(u32),
    /// Open a file; the descriptor gets the name `as`.
    Open {
        path: String,
        #[serde(default)]
        create: bool,
        #[serde(rename = "as")]
        name_as: String,
    },
    /// Create an empty file.
    Create(String),
    /// Create a directory.
    Mkdir(String),
    /// Remove a file or empty directory.
    Unlink(String),
    /// Read from a descriptor; `expect` checks the text read.
    Read {
        fd: String,
        len: u32,
        #[serde(default)]
        expect: Option<String>,
    },
    /// Write text at a descriptor's offset.
    Write { fd: String, text: String },
    /// Move a descriptor's offset.
    Seek { fd: String, offset: u64 },
    /// Close a descriptor.
    Close(String),
    /// Make a pipe; its read end gets the name `read_as`, its write end `write_as`.
    Pipe { read_as: String, write_as: String },
    /// Read up to `len` bytes from a pipe (waits while it is empty; "" is end of file);
    /// `expect` checks the text read.
    PipeRead {
        fd: String,
        len: u32,
        #[serde(default)]
        expect: Option<String>,
        #[serde(default)]
        nonblocking: bool,
    },
    /// Read a pipe until end of file; `expect` checks all the text read.
    PipeReadAll {
        fd: String,
        #[serde(default)]
        expect: Option<String>,
    },
    /// Write text to a pipe (waits while it does not fit).
    PipeWrite {
        fd: String,
        text: String,
        #[serde(default)]
        nonblocking: bool,
    },
    /// Close a pipe descriptor.
    PipeClose(String),
    /// Hand a pipe end to another process: a new reference to it waits under `name` at the
    /// pipe server until a `PipeTake` of that name.
    PipeGive { fd: String, name: String },
    /// Take the pipe end given under `name` (waits until it is given); it gets the name `as`.
    PipeTake {
        name: String,
        #[serde(rename = "as")]
        name_as: String,
    },
    /// Make a FIFO (a named pipe) at a path.
    Mkfifo(String),
    /// Open the FIFO at `path` for reading or writing: the file server finds it, the pipe
    /// server opens it. Waits until the other end is open too, unless `nonblocking`. The pipe
    /// descriptor gets the name `as`.
    OpenFifo {
        path: String,
        mode: crate::pipe_protocol::FifoMode,
        #[serde(rename = "as")]
        name_as: String,
        #[serde(default)]
        nonblocking: bool,
    },
    /// Check a path's size, and what it is.
    Stat {
        path: String,
        #[serde(default)]
        expect_size: Option<u64>,
        #[serde(default)]
        expect_kind: Option<FileKind>,
    },
    /// Check a directory's entries.
    Readdir {
        path: String,
        #[serde(default)]
        expect: Option<Vec<String>>,
    },
    /// Open a message queue, creating it with these limits if there is none; the descriptor
    /// gets the name `as`.
    MqOpen {
        name: String,
        capacity: u32,
        message_bytes_max: u32,
        #[serde(rename = "as")]
        name_as: String,
    },
    /// Put a message in a queue (waits while it is full, unless `nonblocking`).
    MqSend {
        queue: String,
        text: String,
        #[serde(default)]
        priority: u32,
        #[serde(default)]
        nonblocking: bool,
    },
    /// Take the oldest message of the highest priority (waits while the queue is empty, unless
    /// `nonblocking`); `expect` checks its text, `expect_priority` its priority.
    MqReceive {
        queue: String,
        #[serde(default)]
        expect: Option<String>,
        #[serde(default)]
        expect_priority: Option<u32>,
        #[serde(default)]
        nonblocking: bool,
    },
    /// Have `bits` signalled on `notification` once, when a message arrives in the empty queue.
    MqNotify { queue: String, notification: String, bits: u64 },
    /// Remove a queue's name.
    MqUnlink(String),
    /// Close a queue descriptor.
    MqClose(String),
    /// Bind a stream-socket listener to `path` (socket server); its descriptor gets the name `as`.
    Listen {
        path: String,
        backlog: u32,
        #[serde(rename = "as")]
        name_as: String,
    },
    /// Take the oldest pending connection of `listener`; its socket gets the name `as`.
    Accept {
        listener: String,
        #[serde(rename = "as")]
        name_as: String,
        #[serde(default)]
        nonblocking: bool,
    },
    /// Connect to the listener at `path`; the socket gets the name `as`.
    Connect {
        path: String,
        #[serde(rename = "as")]
        name_as: String,
    },
    /// Send all of `text` on a socket.
    SockSend {
        sock: String,
        text: String,
        #[serde(default)]
        nonblocking: bool,
    },
    /// Receive up to `len` bytes from a socket; `expect` checks the text ("" is end of file).
    SockRecv {
        sock: String,
        len: u32,
        #[serde(default)]
        expect: Option<String>,
        #[serde(default)]
        nonblocking: bool,
    },
    /// Send back on a socket everything it receives, until end of file.
    SockEcho(String),
    /// Make an endpoint.
    CreateEndpoint(String),
    /// Make a queue port.
    CreateQueue {
        #[serde(rename = "as")]
        name_as: String,
        capacity: u32,
        policy: Policy,
    },
    /// Make a notification.
    CreateNotification(String),
    /// Make a memory region.
    CreateRegion {
        #[serde(rename = "as")]
        name_as: String,
        size: u32,
    },
    /// Send a message (to an endpoint or queue port); its data is `data`, or `bytes` bytes of [`pattern`].
    Send {
        to: String,
        #[serde(default)]
        label: u32,
        #[serde(default)]
        data: Option<String>,
        #[serde(default)]
        bytes: Option<u32>,
        #[serde(default)]
        pass: Vec<Pass>,
        #[serde(default)]
        nonblocking: bool,
        #[serde(default)]
        timeout: Option<u64>,
    },
    /// Call an endpoint and wait for the reply; its data is `data`, or `bytes` bytes of [`pattern`].
    /// `expect` checks the reply's data as text; `expect_bytes` checks it is that many bytes of
    /// [`pattern`] (what an echo server answers to `bytes`).
    Call {
        to: String,
        #[serde(default)]
        label: u32,
        #[serde(default)]
        data: Option<String>,
        #[serde(default)]
        bytes: Option<u32>,
        #[serde(default)]
        pass: Vec<Pass>,
        #[serde(default)]
        timeout: Option<u64>,
        #[serde(default)]
        expect: Option<String>,
        #[serde(default)]
        expect_bytes: Option<u32>,
        /// Names for capabilities that come with the reply.
        #[serde(default)]
        caps_as: Vec<String>,
    },
    /// Receive a message; it gets the name `as` (for a later reply).
    Receive {
        on: String,
        #[serde(rename = "as", default)]
        name_as: Option<String>,
        #[serde(default)]
        from_badge: Option<u64>,
        #[serde(default)]
        nonblocking: bool,
        #[serde(default)]
        timeout: Option<u64>,
        #[serde(default)]
        expect: Option<String>,
        #[serde(default)]
        expect_badge: Option<u64>,
        /// Names for capabilities that come with the message.
        #[serde(default)]
        caps_as: Vec<String>,
    },
    /// Reply to a received call; its data is `data`, or `bytes` bytes of [`pattern`].
    Reply {
        to: String,
        #[serde(default)]
        label: u32,
        #[serde(default)]
        data: Option<String>,
        #[serde(default)]
        bytes: Option<u32>,
        #[serde(default)]
        pass: Vec<Pass>,
    },
    /// Answer calls on an endpoint with the data they carry, `times` times (forever if absent).
    Echo {
        on: String,
        #[serde(default)]
        times: Option<u32>,
    },
    /// OR bits into a notification.
    Signal { to: String, bits: u64 },
    /// Wait for notification bits; `expect` checks them.
    Wait {
        on: String,
        #[serde(default)]
        expect: Option<u64>,
        #[serde(default)]
        timeout: Option<u64>,
    },
    /// Bind a notification to this process, so receives also return its bits.
    Bind(String),
    /// Arm a timer interrupt into a notification.
    ArmTimer {
        notification: String,
        bits: u64,
        delay: u64,
        #[serde(default)]
        period: Option<u64>,
    },
    /// Copy a capability with at most `rights`.
    Copy {
        cap: String,
        rights: String,
        #[serde(rename = "as")]
        name_as: String,
    },
    /// Copy a capability with at most `rights` and a badge.
    Mint {
        cap: String,
        rights: String,
        badge: u64,
        #[serde(rename = "as")]
        name_as: String,
    },
    /// Delete a capability.
    Delete(String),
    /// Delete everything derived from a capability; `expect` checks how many.
    Revoke {
        cap: String,
        #[serde(default)]
        expect: Option<u64>,
    },
    /// Write text into a region.
    RegionWrite { region: String, offset: u32, text: String },
    /// Read from a region; `expect` checks the text.
    RegionRead {
        region: String,
        offset: u32,
        len: u32,
        #[serde(default)]
        expect: Option<String>,
    },
}

impl Op {
    /// The system service that carries the operation out: what the interpreter hands it to and
    /// what a scenario must boot for it. `None` for the kernel's own operations (IPC, objects,
    /// capabilities, notifications) and for control (`Repeat`, `Fails`, `Exit`, `Compute`, ...).
    /// A descriptor's operations (`Read`, `Write`, `Seek`, `Close`) are the file server's here;
    /// `Close` of a socket's name goes to the socket server, which only the names tell.
    /// `OpenFifo` is the pipe server's here, though it asks the file server first: a scenario
    /// must boot both for it.
    pub fn service(&self) -> Option<Service> {
        match self {
            Op::Print(_) => Some(Service::Console),
            Op::Lookup { .. } | Op::Register { .. } => Some(Service::Name),
            Op::TimerWait(_) => Some(Service::Timer),
            Op::Open { .. }
            | Op::Create(_)
            | Op::Mkdir(_)
            | Op::Unlink(_)
            | Op::Read { .. }
            | Op::Write { .. }
            | Op::Seek { .. }
            | Op::Close(_)
            | Op::Stat { .. }
            | Op::Mkfifo(_)
            | Op::Readdir { .. } => Some(Service::Fs),
            Op::MqOpen { .. }
            | Op::MqSend { .. }
            | Op::MqReceive { .. }
            | Op::MqNotify { .. }
            | Op::MqUnlink(_)
            | Op::MqClose(_) => Some(Service::MessageQueue),
            Op::Pipe { .. }
            | Op::PipeRead { .. }
            | Op::PipeReadAll { .. }
            | Op::PipeWrite { .. }
            | Op::PipeClose(_)
            | Op::PipeGive { .. }
            | Op::PipeTake { .. }
            | Op::OpenFifo { .. } => Some(Service::Pipe),
            Op::Listen { .. }
            | Op::Accept { .. }
            | Op::Connect { .. }
            | Op::SockSend { .. }
            | Op::SockRecv { .. }
            | Op::SockEcho(_) => Some(Service::Socket),
            _ => None,
        }
    }
}

/// The most bytes a `bytes: N` payload may have, whatever the kernel's message limit: the program
/// builds the payload before the kernel can refuse it, so even a refused one must stay affordable.
pub const PATTERN_BYTES_MAX: u32 = 1 << 24;

/// The data of a `bytes: N` payload: the letters `a` to `z`, over and over, cut at `len` bytes.
///
/// Always the same bytes for the same length, and readable in traces: `bytes: 30` sends
/// `abcdefghijklmnopqrstuvwxyzabcd`.
pub fn pattern(len: usize) -> Vec<u8> {
    (b'a'..=b'z').cycle().take(len).collect()
}

/// Rights from their letters: `s` send, `r` receive, `g` grant, `R` read, `W` write.
///
/// # Errors
/// The first letter that names no right.
pub fn parse_rights(letters: &str) -> Result<mksim_kernel::Rights, char> {
    use mksim_kernel::Rights;
    let mut rights = Rights::empty();
    for letter in letters.chars() {
        rights |= match letter {
            's' => Rights::SEND,
            'r' => Rights::RECEIVE,
            'g' => Rights::GRANT,
            'R' => Rights::READ,
            'W' => Rights::WRITE,
            '-' => Rights::empty(),
            other => return Err(other),
        };
    }
    Ok(rights)
}

/// A name used before anything gave it meaning, or a malformed rights string.
#[derive(Clone, PartialEq, Eq, Debug)]
pub struct NameError {
    /// 1-based position of the operation in the script (nested ops count inside their parent).
    pub step: usize,
    /// Where the operation at fault is: its 0-based index in the script, then in the `ops` of
    /// each `Repeat` around it, with 0 for the operation inside a `Fails`.
    pub path: Vec<usize>,
    /// The operation's field at fault, as the scenario spells it (`to`, `as`); `None` for the
    /// only value of an operation that has no named fields (`Delete("x")`).
    pub field: Option<&'static str>,
    /// The offending name or text.
    pub item: String,
    /// What is wrong.
    pub message: String,
}

/// What is wrong in one operation: the field, the offending name or text, and the words.
type OpError = (Option<&'static str>, String, String);

/// Checks that every name a script uses was given to it or defined by an earlier operation, and
/// that each operation's fields agree with each other (a payload is `data` or `bytes`, not both).
///
/// # Errors
/// The first name used before it exists, a rights string with a wrong letter, or an operation
/// whose fields contradict each other.
pub fn check_names(ops: &[Op], known: &mut std::collections::BTreeSet<String>) -> Result<(), NameError> {
    for (index, op) in ops.iter().enumerate() {
        let mut path = vec![index];
        check_op(op, known, &mut path).map_err(|(field, item, message)| NameError {
            step: index + 1,
            path,
            field,
            item,
            message,
        })?;
    }
    Ok(())
}

/// Checks one operation at `path`; on an error, `path` is left at the operation at fault.
fn check_op(op: &Op, known: &mut std::collections::BTreeSet<String>, path: &mut Vec<usize>) -> Result<(), OpError> {
    let need = |field: Option<&'static str>, name: &String, known: &std::collections::BTreeSet<String>| {
        if known.contains(name) {
            Ok(())
        } else {
            Err((field, name.clone(), format!("`{name}` is not defined at this point")))
        }
    };
    let rights = |letters: &String| {
        parse_rights(letters)
            .map(|_| ())
            .map_err(|bad| (Some("rights"), letters.clone(), format!("`{bad}` is not a right (use s r g R W)")))
    };
    let passes = |pass: &[Pass], known: &std::collections::BTreeSet<String>| -> Result<(), OpError> {
        for item in pass {
            need(Some("pass"), &item.cap, known)?;
            if let Some(letters) = &item.rights {
                rights(letters).map_err(|(_, item, message)| (Some("pass"), item, message))?;
            }
        }
        Ok(())
    };
    match op {
        Op::Repeat { ops, .. } => {
            for (index, inner) in ops.iter().enumerate() {
                path.push(index);
                check_op(inner, known, path)?;
                path.pop();
            }
        }
        Op::Fails { op, .. } => {
            path.push(0);
            check_op(op, known, path)?;
            path.pop();
        }
        Op::Lookup { name_as, .. }
        | Op::Open { name_as, .. }
        | Op::CreateQueue { name_as, .. }
        | Op::MqOpen { name_as, .. } => {
            known.insert(name_as.clone());
        }
        Op::CreateRegion { name_as, .. } | Op::Listen { name_as, .. } | Op::Connect { name_as, .. } => {
            known.insert(name_as.clone());
        }
        Op::Accept { listener, name_as, .. } => {
            need(Some("listener"), listener, known)?;
            known.insert(name_as.clone());
        }
        Op::SockSend { sock, .. } | Op::SockRecv { sock, .. } => need(Some("sock"), sock, known)?,
        Op::SockEcho(sock) => need(None, sock, known)?,
        Op::CreateEndpoint(name) | Op::CreateNotification(name) => {
            known.insert(name.clone());
        }
        Op::Register { cap, .. } | Op::Revoke { cap, .. } => need(Some("cap"), cap, known)?,
        Op::Delete(cap) | Op::Bind(cap) | Op::Close(cap) | Op::MqClose(cap) | Op::PipeClose(cap) => {
            need(None, cap, known)?
        }
        Op::MqSend { queue, .. } | Op::MqReceive { queue, .. } => need(Some("queue"), queue, known)?,
        Op::MqNotify { queue, notification, .. } => {
            need(Some("queue"), queue, known)?;
            need(Some("notification"), notification, known)?;
        }
        Op::Pipe { read_as, write_as } => known.extend([read_as.clone(), write_as.clone()]),
        Op::PipeTake { name_as, .. } | Op::OpenFifo { name_as, .. } => {
            known.insert(name_as.clone());
        }
        Op::PipeRead { fd, .. } | Op::PipeReadAll { fd, .. } | Op::PipeWrite { fd, .. } | Op::PipeGive { fd, .. } => {
            need(Some("fd"), fd, known)?
        }
        Op::Read { fd, .. } | Op::Write { fd, .. } | Op::Seek { fd, .. } => need(Some("fd"), fd, known)?,
        Op::Send { to, pass, data, bytes, .. } => {
            need(Some("to"), to, known)?;
            passes(pass, known)?;
            payload_fields(data, *bytes)?;
        }
        Op::Call { to, pass, caps_as, data, bytes, expect, expect_bytes, .. } => {
            need(Some("to"), to, known)?;
            passes(pass, known)?;
            payload_fields(data, *bytes)?;
            if let (Some(text), Some(_)) = (expect, expect_bytes) {
                return Err((Some("expect"), text.clone(), "give `expect` or `expect_bytes`, not both".into()));
            }
            if let Some(count) = expect_bytes {
                pattern_size(*count).map_err(|(_, item, message)| (Some("expect_bytes"), item, message))?;
            }
            known.extend(caps_as.iter().cloned());
        }
        Op::Receive { on, name_as, caps_as, .. } => {
            need(Some("on"), on, known)?;
            known.extend(name_as.iter().cloned());
            known.extend(caps_as.iter().cloned());
        }
        Op::Reply { to, pass, data, bytes, .. } => {
            need(Some("to"), to, known)?;
            passes(pass, known)?;
            payload_fields(data, *bytes)?;
        }
        Op::Echo { on, .. } | Op::Wait { on, .. } => need(Some("on"), on, known)?,
        Op::Signal { to, .. } => need(Some("to"), to, known)?,
        Op::ArmTimer { notification, .. } => need(Some("notification"), notification, known)?,
        Op::Copy { cap, rights: letters, name_as } | Op::Mint { cap, rights: letters, name_as, .. } => {
            need(Some("cap"), cap, known)?;
            rights(letters)?;
            known.insert(name_as.clone());
        }
        Op::RegionWrite { region, .. } | Op::RegionRead { region, .. } => need(Some("region"), region, known)?,
        Op::Print(_)
        | Op::Compute(_)
        | Op::Sleep(_)
        | Op::Yield
        | Op::Exit(_)
        | Op::TimerWait(_)
        | Op::Create(_)
        | Op::Mkdir(_)
        | Op::Mkfifo(_)
        | Op::Unlink(_)
        | Op::MqUnlink(_)
        | Op::Stat { .. }
        | Op::Readdir { .. } => {}
    }
    Ok(())
}

/// A payload is given as text (`data`) or as a length of [`pattern`] (`bytes`), not both.
fn payload_fields(data: &Option<String>, bytes: Option<u32>) -> Result<(), OpError> {
    match (data, bytes) {
        (Some(text), Some(_)) => Err((Some("data"), text.clone(), "give `data` or `bytes`, not both".into())),
        (None, Some(count)) => pattern_size(count),
        _ => Ok(()),
    }
}

fn pattern_size(count: u32) -> Result<(), OpError> {
    if count > PATTERN_BYTES_MAX {
        return Err((Some("bytes"), count.to_string(), format!("`bytes` is at most {PATTERN_BYTES_MAX}")));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeSet;

    fn call(data: Option<&str>, bytes: Option<u32>) -> Op {
        Op::Call {
            to: "server".into(),
            label: 1,
            data: data.map(str::to_owned),
            bytes,
            pass: Vec::new(),
            timeout: None,
            expect: None,
            expect_bytes: None,
            caps_as: Vec::new(),
        }
    }

    fn check(ops: &[Op]) -> Result<(), NameError> {
        check_names(ops, &mut BTreeSet::from(["server".to_owned(), "request".to_owned()]))
    }

    #[test]
    fn the_pattern_is_the_alphabet_over_and_over() {
        assert_eq!(pattern(0), b"");
        assert_eq!(pattern(3), b"abc");
        assert_eq!(pattern(30), b"abcdefghijklmnopqrstuvwxyzabcd");
        let long = pattern(4096);
        assert_eq!(long.len(), 4096);
        assert!(long.iter().enumerate().all(|(at, &byte)| byte == b'a' + (at % 26) as u8));
        assert_eq!(pattern(4096), long, "the same length gives the same bytes");
    }

    #[test]
    fn data_or_bytes_is_fine_and_both_are_refused_with_the_step() {
        assert_eq!(check(&[call(Some("hi"), None), call(None, Some(512)), call(None, None)]), Ok(()));
        let error = check(&[call(None, Some(8)), call(Some("hi"), Some(8))]).expect_err("data and bytes together");
        assert_eq!(error.step, 2);
        assert_eq!(error.item, "hi");
        assert!(error.message.contains("`data` or `bytes`, not both"), "{}", error.message);
        let send = Op::Send {
            to: "server".into(),
            label: 0,
            data: Some(String::new()),
            bytes: Some(1),
            pass: Vec::new(),
            nonblocking: false,
            timeout: None,
        };
        let reply =
            Op::Reply { to: "request".into(), label: 0, data: Some("x".into()), bytes: Some(1), pass: Vec::new() };
        for op in [send, reply] {
            let nested = Op::Repeat { times: 2, ops: vec![Op::Yield, op] };
            let error = check(&[Op::Yield, nested]).expect_err("data and bytes together");
            assert_eq!(error.step, 2, "nested ops count in their parent");
            assert_eq!(error.path, [1, 1], "the path leads to the op inside the Repeat");
            assert_eq!(error.field, Some("data"));
        }
    }

    #[test]
    fn an_undefined_name_is_reported_with_the_path_and_field_of_its_operation() {
        let signal = Op::Signal { to: "done".into(), bits: 1 };
        let fails = Op::Fails { error: "peer dead".into(), op: Box::new(signal) };
        let nested = Op::Repeat { times: 3, ops: vec![Op::Yield, Op::Yield, fails] };
        let error = check(&[Op::Yield, nested]).expect_err("`done` is not defined");
        assert_eq!((error.step, error.path.as_slice(), error.field), (2, &[1, 2, 0][..], Some("to")));
        assert_eq!(error.item, "done");
        let error = check(&[Op::Delete("gone".into())]).expect_err("`gone` is not defined");
        assert_eq!((error.path.as_slice(), error.field), (&[0][..], None));
    }

    #[test]
    fn expect_and_expect_bytes_together_and_huge_payloads_are_refused() {
        let mut both = call(None, Some(8));
        if let Op::Call { expect, expect_bytes, .. } = &mut both {
            *expect = Some("abcdefgh".into());
            *expect_bytes = Some(8);
        }
        assert!(check(&[both]).expect_err("expect and expect_bytes").message.contains("not both"));
        let huge = call(None, Some(PATTERN_BYTES_MAX + 1));
        assert!(check(&[huge]).expect_err("too many bytes").message.contains("at most"));
        assert_eq!(check(&[call(None, Some(PATTERN_BYTES_MAX))]), Ok(()));
    }
}
