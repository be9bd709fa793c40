//! Solo programs: each works on its own pipes, queues and sockets alone, so that every reply
//! it gets follows from its own operations, whatever the other programs do meanwhile.
//!
//! Descriptors are named by the order in which the program got them (per service), so a plan
//! means something before it runs; the k-th when it got fewer is a number no server hands out
//! ("bad file descriptor"). The program keeps an account of its own objects ([`Account`]),
//! kept from the replies it gets, to tell whether a blocking operation would wait: such a one
//! is sent nonblocking instead, since nobody else could ever wake it.

use super::{Journal, digest};
use mksim_kernel::{ProgramResult, Slot};
use mksim_servers::system::ProgramFn;
use mksim_userland::client::{ClientError, Services};
use mksim_userland::pipe_protocol::{PipeReply, PipeRequest};
use mksim_userland::protocol::{MqReply, MqRequest};
use mksim_userland::socket_protocol::{SockReply, SockRequest};
use proptest::collection::vec;
use proptest::prelude::*;
use std::collections::BTreeMap;

/// Descriptor numbers no server hands out, for "the k-th descriptor" the program never got.
const UNOPENED_DESCRIPTOR_BASE: u32 = 1_000;

/// Names of given pipe ends, queue names and socket paths, after the program's own prefix.
/// The last two socket paths are invalid ones.
const NAMES: [&str; 3] = ["a", "b", "c"];
const SOCKET_PATHS: usize = 4;

#[derive(Clone, Debug)]
pub enum PipeOp {
    Create,
    Read { descriptor: usize, len: u32, nonblocking: bool },
    Write { descriptor: usize, len: usize, nonblocking: bool },
    Close { descriptor: usize },
    Give { descriptor: usize, name: usize },
    Take { name: usize },
}

#[derive(Clone, Debug)]
pub enum MqOp {
    Open {
        name: usize,
        capacity: u32,
        message_bytes_max: u32,
    },
    Send {
        descriptor: usize,
        len: usize,
        priority: u32,
        nonblocking: bool,
    },
    Receive {
        descriptor: usize,
        nonblocking: bool,
    },
    Unlink {
        name: usize,
    },
    Close {
        descriptor: usize,
    },
    /// Registers the program's notification for the queue, with these bits.
    Notify {
        descriptor: usize,
        bits: u64,
    },
    /// Takes the notification's bits without waiting.
    Poll,
}

#[derive(Clone, Debug)]
pub enum SockOp {
    Listen { path: usize, backlog: u32 },
    Connect { path: usize },
    Accept { descriptor: usize },
    Send { descriptor: usize, len: usize },
    Recv { descriptor: usize, len: u32 },
    Close { descriptor: usize },
}

#[derive(Clone, Debug)]
pub enum Op {
    Pipe(PipeOp),
    Mq(MqOp),
    Sock(SockOp),
}

#[derive(Clone, Debug)]
pub struct Plan {
    pub priority: u8,
    pub ops: Vec<Op>,
}

/// Mostly the first descriptors: a program holds only a few, and operations on descriptors
/// that exist are the interesting ones.
fn descriptor() -> impl Strategy<Value = usize> {
    prop_oneof![4 => Just(0usize), 3 => Just(1), 2 => Just(2), 1 => Just(3), 1 => Just(5)]
}

fn pipe_op() -> impl Strategy<Value = PipeOp> {
    let name = || 0..NAMES.len();
    let len = prop_oneof![4 => 0..=200usize, 2 => 201..=700usize, 1 => 701..=1600usize];
    prop_oneof![
        2 => Just(PipeOp::Create),
        4 => (descriptor(), 0..=700u32, any::<bool>())
            .prop_map(|(descriptor, len, nonblocking)| PipeOp::Read { descriptor, len, nonblocking }),
        4 => (descriptor(), len, any::<bool>())
            .prop_map(|(descriptor, len, nonblocking)| PipeOp::Write { descriptor, len, nonblocking }),
        2 => descriptor().prop_map(|descriptor| PipeOp::Close { descriptor }),
        1 => (descriptor(), name()).prop_map(|(descriptor, name)| PipeOp::Give { descriptor, name }),
        1 => name().prop_map(|name| PipeOp::Take { name }),
    ]
}

fn mq_op() -> impl Strategy<Value = MqOp> {
    let name = || 0..NAMES.len();
    prop_oneof![
        2 => (name(), 0..=4u32, 0..=8u32)
            .prop_map(|(name, capacity, message_bytes_max)| MqOp::Open { name, capacity, message_bytes_max }),
        4 => (descriptor(), 0..=10usize, prop_oneof![6 => 0..=3u32, 1 => 30..=33u32], any::<bool>()).prop_map(
            |(descriptor, len, priority, nonblocking)| MqOp::Send { descriptor, len, priority, nonblocking }
        ),
        3 => (descriptor(), any::<bool>())
            .prop_map(|(descriptor, nonblocking)| MqOp::Receive { descriptor, nonblocking }),
        1 => name().prop_map(|name| MqOp::Unlink { name }),
        1 => descriptor().prop_map(|descriptor| MqOp::Close { descriptor }),
        1 => (descriptor(), 1..=8u64).prop_map(|(descriptor, bits)| MqOp::Notify { descriptor, bits }),
        1 => Just(MqOp::Poll),
    ]
}

fn sock_op() -> impl Strategy<Value = SockOp> {
    // Mostly the path the prologue listens at.
    let path = || prop_oneof![4 => Just(0usize), 2 => Just(1), 1 => 2..SOCKET_PATHS];
    prop_oneof![
        1 => (path(), 0..=3u32).prop_map(|(path, backlog)| SockOp::Listen { path, backlog }),
        2 => path().prop_map(|path| SockOp::Connect { path }),
        2 => descriptor().prop_map(|descriptor| SockOp::Accept { descriptor }),
        3 => (descriptor(), 0..=60usize).prop_map(|(descriptor, len)| SockOp::Send { descriptor, len }),
        3 => (descriptor(), 0..=60u32).prop_map(|(descriptor, len)| SockOp::Recv { descriptor, len }),
        1 => descriptor().prop_map(|descriptor| SockOp::Close { descriptor }),
    ]
}

/// What every program does first, so that its first descriptors of each service exist: a
/// pipe (descriptors 0 and 1), a queue (0), a listener and a connection to it, accepted
/// (0, then the two ends 1 and 2).
pub fn prologue() -> Vec<Op> {
    vec![
        Op::Pipe(PipeOp::Create),
        Op::Mq(MqOp::Open { name: 0, capacity: 3, message_bytes_max: 8 }),
        Op::Sock(SockOp::Listen { path: 0, backlog: 2 }),
        Op::Sock(SockOp::Connect { path: 0 }),
        Op::Sock(SockOp::Accept { descriptor: 0 }),
    ]
}

pub fn plan() -> impl Strategy<Value = Plan> {
    let op = prop_oneof![pipe_op().prop_map(Op::Pipe), mq_op().prop_map(Op::Mq), sock_op().prop_map(Op::Sock)];
    (2..10u8, vec(op, 0..=40)).prop_map(|(priority, ops)| Plan { priority, ops: [prologue(), ops].concat() })
}

// ----- the program's account of its own objects -----

/// A pipe as its only user sees it.
#[derive(Clone, Copy, Default)]
struct PipeState {
    buffered: usize,
    readers: u32,
    writers: u32,
}

/// A queue as its only user sees it.
#[derive(Clone, Copy)]
struct QueueState {
    capacity: u32,
    length: u32,
}

/// What the program knows of its own objects, kept from the replies it got.
#[derive(Default)]
struct Account {
    pipe_bytes: usize,
    pipes: Vec<PipeState>,
    /// Pipe descriptors: the pipe and whether it is the read end.
    pipe_ends: BTreeMap<u32, (usize, bool)>,
    given: BTreeMap<String, (usize, bool)>,
    queues: Vec<QueueState>,
    queue_names: BTreeMap<String, usize>,
    queue_descriptors: BTreeMap<u32, usize>,
}

impl Account {
    fn end_count(&mut self, (pipe, read): (usize, bool)) -> &mut u32 {
        let state = &mut self.pipes[pipe];
        if read { &mut state.readers } else { &mut state.writers }
    }

    /// True when a blocking pipe request would wait.
    fn pipe_waits(&self, request: &PipeRequest) -> bool {
        match request {
            PipeRequest::Read { fd, len, .. } => self.pipe_ends.get(fd).is_some_and(|&(pipe, read)| {
                let state = self.pipes[pipe];
                read && *len > 0 && state.buffered == 0 && state.writers > 0
            }),
            PipeRequest::Write { fd, data, .. } => self.pipe_ends.get(fd).is_some_and(|&(pipe, read)| {
                let state = self.pipes[pipe];
                !read && state.readers > 0 && data.len() > self.pipe_bytes - state.buffered
            }),
            PipeRequest::Take { name } => !self.given.contains_key(name),
            _ => false,
        }
    }

    fn pipe_done(&mut self, request: &PipeRequest, reply: &PipeReply) {
        match (request, reply) {
            (PipeRequest::Create, PipeReply::Created { read, write }) => {
                self.pipes.push(PipeState { buffered: 0, readers: 1, writers: 1 });
                self.pipe_ends.insert(*read, (self.pipes.len() - 1, true));
                self.pipe_ends.insert(*write, (self.pipes.len() - 1, false));
            }
            (PipeRequest::Read { fd, .. }, PipeReply::Data(data)) => {
                let pipe = self.pipe_ends[fd].0;
                self.pipes[pipe].buffered -= data.len();
            }
            (PipeRequest::Write { fd, .. }, PipeReply::Written(count)) => {
                let pipe = self.pipe_ends[fd].0;
                self.pipes[pipe].buffered += *count as usize;
            }
            (PipeRequest::Close { fd }, PipeReply::Done) => {
                let end = self.pipe_ends.remove(fd).expect("a closed descriptor was open");
                *self.end_count(end) -= 1;
            }
            (PipeRequest::Give { fd, name }, PipeReply::Done) => {
                let end = self.pipe_ends[fd];
                *self.end_count(end) += 1;
                self.given.insert(name.clone(), end);
            }
            (PipeRequest::Take { name }, PipeReply::Descriptor(fd)) => {
                let end = self.given.remove(name).expect("a taken end was given");
                self.pipe_ends.insert(*fd, end);
            }
            _ => {}
        }
    }

    /// True when a blocking queue request would wait.
    fn queue_waits(&self, request: &MqRequest) -> bool {
        let state = |queue: &u32| self.queue_descriptors.get(queue).map(|&id| self.queues[id]);
        match request {
            MqRequest::Send { queue, .. } => state(queue).is_some_and(|queue| queue.length >= queue.capacity),
            MqRequest::Receive { queue, .. } => state(queue).is_some_and(|queue| queue.length == 0),
            _ => false,
        }
    }

    fn queue_done(&mut self, request: &MqRequest, reply: &MqReply) {
        match (request, reply) {
            (MqRequest::Open { name, capacity, .. }, MqReply::Descriptor(queue)) => {
                let id = match self.queue_names.get(name) {
                    Some(&id) => id,
                    None => {
                        self.queues.push(QueueState { capacity: *capacity, length: 0 });
                        self.queue_names.insert(name.clone(), self.queues.len() - 1);
                        self.queues.len() - 1
                    }
                };
                self.queue_descriptors.insert(*queue, id);
            }
            (MqRequest::Send { queue, .. }, MqReply::Done) => self.queues[self.queue_descriptors[queue]].length += 1,
            (MqRequest::Receive { queue, .. }, MqReply::Message { .. }) => {
                self.queues[self.queue_descriptors[queue]].length -= 1;
            }
            (MqRequest::Unlink { name }, MqReply::Done) => {
                self.queue_names.remove(name);
            }
            (MqRequest::Close { queue }, MqReply::Done) => {
                self.queue_descriptors.remove(queue);
            }
            _ => {}
        }
    }
}

// ----- the program -----

/// The k-th descriptor the program got of a service, or a number no server hands out.
fn nth(descriptors: &[u32], k: usize) -> u32 {
    descriptors.get(k).copied().unwrap_or(UNOPENED_DESCRIPTOR_BASE + k as u32)
}

/// `len` bytes of the program's running text: each byte written is the next letter.
fn text(counter: &mut usize, len: usize) -> Vec<u8> {
    let bytes = (*counter..*counter + len).map(|at| b'a' + (at % 26) as u8).collect();
    *counter += len;
    bytes
}

/// The state of one program.
struct Solo {
    index: usize,
    account: Account,
    pipe_fds: Vec<u32>,
    queue_fds: Vec<u32>,
    socket_fds: Vec<u32>,
    written: usize,
    /// The notification its queue registrations signal.
    notification: Slot,
    journal: Journal,
    errors: u32,
}

impl Solo {
    /// Journals a request and what came back: `Ok(reply)` or `Err(error)`.
    fn record(&mut self, shown: String, result: Result<String, &ClientError>) {
        let line = match result {
            Ok(reply) => format!("{shown} -> Ok({reply})"),
            Err(error) => {
                self.errors += 1;
                format!("{shown} -> Err({error:?})")
            }
        };
        self.journal.borrow_mut().push(line);
    }

    fn name(&self, name: usize) -> String {
        format!("p{}.{}", self.index, NAMES[name])
    }

    fn path(&self, path: usize) -> String {
        match path {
            0 | 1 => format!("/p{}/{}", self.index, NAMES[path]),
            2 => format!("p{}", self.index),
            _ => format!("/p{}//{}", self.index, NAMES[0]),
        }
    }

    async fn pipe(&mut self, services: &mut Services, op: &PipeOp) {
        let fd = |k: usize| nth(&self.pipe_fds, k);
        let mut request = match op {
            PipeOp::Create => PipeRequest::Create,
            PipeOp::Read { descriptor, len, nonblocking } => {
                PipeRequest::Read { fd: fd(*descriptor), len: *len, nonblocking: *nonblocking }
            }
            PipeOp::Write { descriptor, len, nonblocking } => {
                let data = text(&mut self.written, *len);
                PipeRequest::Write { fd: fd(*descriptor), data, nonblocking: *nonblocking }
            }
            PipeOp::Close { descriptor } => PipeRequest::Close { fd: fd(*descriptor) },
            PipeOp::Give { descriptor, name } => PipeRequest::Give { fd: fd(*descriptor), name: self.name(*name) },
            PipeOp::Take { name } => PipeRequest::Take { name: self.name(*name) },
        };
        let waits = self.account.pipe_waits(&request);
        match &mut request {
            PipeRequest::Read { nonblocking, .. } | PipeRequest::Write { nonblocking, .. } => *nonblocking |= waits,
            PipeRequest::Take { name } if waits => {
                // A take waits until the end is given, and only this program gives its names.
                self.journal.borrow_mut().push(format!("pipe.take({name:?}) skipped: not given"));
                return;
            }
            _ => {}
        }
        let shown = request.to_string();
        let result = match &request {
            // Long writes go in pieces of PIPE_BUF, as one operation.
            PipeRequest::Write { fd, data, nonblocking } => {
                services.pipe_write(*fd, data, *nonblocking).await.map(PipeReply::Written)
            }
            request => services.pipe(request.clone()).await,
        };
        if let Ok(reply) = &result {
            self.account.pipe_done(&request, reply);
            match reply {
                PipeReply::Created { read, write } => self.pipe_fds.extend([read, write]),
                PipeReply::Descriptor(fd) => self.pipe_fds.push(*fd),
                _ => {}
            }
        }
        let shown_reply = |reply: PipeReply| match reply {
            PipeReply::Data(data) => format!("Data({})", digest(&data)),
            reply => format!("{reply:?}"),
        };
        self.record(shown, result.as_ref().map(|reply| shown_reply(reply.clone())));
    }

    async fn mq(&mut self, services: &mut Services, op: &MqOp) {
        let fd = |k: usize| nth(&self.queue_fds, k);
        let mut request = match op {
            MqOp::Poll => {
                // The registration fired (or not) in the sender's call: before its reply.
                let bits = services.sys().poll(self.notification).await;
                self.journal.borrow_mut().push(format!("poll -> {bits:?}"));
                return;
            }
            MqOp::Notify { descriptor, bits } => {
                MqRequest::Notify { queue: fd(*descriptor), notification: 0, bits: *bits }
            }
            MqOp::Open { name, capacity, message_bytes_max } => MqRequest::Open {
                name: format!("/{}", self.name(*name)),
                capacity: *capacity,
                message_bytes_max: *message_bytes_max,
            },
            MqOp::Send { descriptor, len, priority, nonblocking } => MqRequest::Send {
                queue: fd(*descriptor),
                data: text(&mut self.written, *len),
                priority: *priority,
                nonblocking: *nonblocking,
            },
            MqOp::Receive { descriptor, nonblocking } => {
                MqRequest::Receive { queue: fd(*descriptor), nonblocking: *nonblocking }
            }
            MqOp::Unlink { name } => MqRequest::Unlink { name: format!("/{}", self.name(*name)) },
            MqOp::Close { descriptor } => MqRequest::Close { queue: fd(*descriptor) },
        };
        let waits = self.account.queue_waits(&request);
        if let MqRequest::Send { nonblocking, .. } | MqRequest::Receive { nonblocking, .. } = &mut request {
            *nonblocking |= waits;
        }
        let shown = request.to_string();
        let notification = matches!(request, MqRequest::Notify { .. }).then_some(self.notification);
        let result = services.mq(request.clone(), notification).await;
        if let Ok(reply) = &result {
            self.account.queue_done(&request, reply);
            if let MqReply::Descriptor(queue) = reply {
                self.queue_fds.push(*queue);
            }
        }
        let shown_reply = |reply: &MqReply| match reply {
            MqReply::Message { data, priority } => {
                format!("Message {{ data: {:?}, priority: {priority} }}", String::from_utf8_lossy(data))
            }
            reply => format!("{reply:?}"),
        };
        self.record(shown, result.as_ref().map(shown_reply));
    }

    /// Socket operations are all nonblocking (a connect never waits).
    async fn sock(&mut self, services: &mut Services, op: &SockOp) {
        let fd = |k: usize| nth(&self.socket_fds, k);
        let request = match op {
            SockOp::Listen { path, backlog } => SockRequest::Listen { path: self.path(*path), backlog: *backlog },
            SockOp::Connect { path } => SockRequest::Connect { path: self.path(*path) },
            SockOp::Accept { descriptor } => SockRequest::Accept { fd: fd(*descriptor), nonblocking: true },
            SockOp::Send { descriptor, len } => {
                SockRequest::Send { fd: fd(*descriptor), data: text(&mut self.written, *len), nonblocking: true }
            }
            SockOp::Recv { descriptor, len } => SockRequest::Recv { fd: fd(*descriptor), len: *len, nonblocking: true },
            SockOp::Close { descriptor } => SockRequest::Close { fd: fd(*descriptor) },
        };
        let shown = request.to_string();
        let result = services.sock(request).await;
        if let Ok(SockReply::Descriptor(fd)) = &result {
            self.socket_fds.push(*fd);
        }
        let shown_reply = |reply: &SockReply| match reply {
            SockReply::Data(data) => format!("Data({})", digest(data)),
            reply => format!("{reply:?}"),
        };
        self.record(shown, result.as_ref().map(shown_reply));
    }
}

async fn solo(mut services: Services, index: usize, plan: Plan, pipe_bytes: usize, journal: Journal) -> ProgramResult {
    let account = Account { pipe_bytes, ..Account::default() };
    let notification = services.sys().create_notification().await?;
    let mut solo = Solo {
        index,
        account,
        pipe_fds: Vec::new(),
        queue_fds: Vec::new(),
        socket_fds: Vec::new(),
        written: 0,
        notification,
        journal,
        errors: 0,
    };
    for op in &plan.ops {
        match op {
            Op::Pipe(op) => solo.pipe(&mut services, op).await,
            Op::Mq(op) => solo.mq(&mut services, op).await,
            Op::Sock(op) => solo.sock(&mut services, op).await,
        }
    }
    Ok((solo.errors % 7) as i32)
}

pub fn program(index: usize, plan: Plan, pipe_bytes: usize, journal: Journal) -> ProgramFn {
    Box::new(move |services, _named| Box::pin(solo(services, index, plan, pipe_bytes, journal)))
}
