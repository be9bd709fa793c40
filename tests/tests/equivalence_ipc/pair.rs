//! Pairs: two programs that cooperate through blocking operations only, over one pipe, one
//! queue or one connection of their own.
//!
//! What each sees in total is determined: the reader gets every byte the writer wrote, in
//! order, then end of file; the consumer gets every message, each priority's in the order
//! sent. How it comes in pieces is not (a read returns what the writer has put in so far,
//! which depends on the interleaving), so the journals hold the totals and never the size of
//! one read or the order of messages of different priorities.

use super::{Journal, digest};
use mksim_kernel::ProgramResult;
use mksim_servers::system::ProgramFn;
use mksim_userland::client::{ClientError, Services};
use mksim_userland::pipe_protocol::{PipeReply, PipeRequest};
use mksim_userland::protocol::{MqReply, MqRequest, ServiceError};
use mksim_userland::socket_protocol::{SockReply, SockRequest};
use proptest::collection::vec;
use proptest::prelude::*;
use std::collections::BTreeMap;

/// Which service a pair uses.
#[derive(Clone, Copy, Debug)]
pub enum Kind {
    Pipe,
    Mq,
    Sock,
}

#[derive(Clone, Debug)]
pub struct Plan {
    pub kind: Kind,
    /// The writer's (producer's, client's) priority, then the reader's.
    pub priorities: [u8; 2],
    /// The writes' sizes (a message's size and priority follow from it).
    pub pieces: Vec<usize>,
    /// The reader's read sizes, in turn.
    pub read_lens: Vec<u32>,
}

pub fn plan() -> impl Strategy<Value = Plan> {
    let kind = prop_oneof![Just(Kind::Pipe), Just(Kind::Mq), Just(Kind::Sock)];
    let piece = prop_oneof![4 => 0..=100usize, 2 => 101..=600usize, 1 => 601..=1500usize];
    (kind, proptest::array::uniform2(2..10u8), vec(piece, 0..=8), vec(1..=600u32, 1..=4))
        .prop_map(|(kind, priorities, pieces, read_lens)| Plan { kind, priorities, pieces, read_lens })
}

/// One program of a pair.
pub struct Member {
    pub name: String,
    pub priority: u8,
    pub code: ProgramFn,
    pub journal: Journal,
}

/// The `len` bytes that follow `start` in pair `index`'s stream.
fn stream_bytes(index: usize, start: usize, len: usize) -> Vec<u8> {
    (start..start + len).map(|at| b'A' + ((at + index) % 26) as u8).collect()
}

/// The first `len` bytes pair `index`'s writer writes.
pub fn pattern(index: usize, len: usize) -> Vec<u8> {
    stream_bytes(index, 0, len)
}

/// A queue capacity and message size from the plan: small, so the producer waits.
fn queue_limits(plan: &Plan) -> (u32, u32) {
    (plan.read_lens.len() as u32, 24)
}

fn message(index: usize, number: usize, piece: usize) -> (Vec<u8>, u32) {
    (stream_bytes(index, number, piece % 25), (piece % 4) as u32)
}

/// Builds one member's program: for pair `index`, from the plan, journaling into the journal.
type Role = fn(usize, Plan, Journal) -> ProgramFn;

pub fn programs(index: usize, plan: &Plan) -> Vec<Member> {
    let roles: [(&str, Role); 2] = match plan.kind {
        Kind::Pipe => [("writer", pipe_writer), ("reader", pipe_reader)],
        Kind::Mq => [("producer", producer), ("consumer", consumer)],
        Kind::Sock => [("client", client), ("server", server)],
    };
    roles
        .into_iter()
        .zip(plan.priorities)
        .map(|((role, build), priority)| {
            let journal = Journal::default();
            let code = build(index, plan.clone(), journal.clone());
            Member { name: format!("pair{index}.{role}"), priority, code, journal }
        })
        .collect()
}

fn note(journal: &Journal, what: impl std::fmt::Display, result: Result<impl std::fmt::Debug, ClientError>) {
    journal.borrow_mut().push(format!("{what} -> {result:?}"));
}

fn pipe_writer(index: usize, plan: Plan, journal: Journal) -> ProgramFn {
    Box::new(move |mut services, _| {
        Box::pin(async move {
            // Waits until the reader has given the write end.
            let taken = services.pipe(PipeRequest::Take { name: format!("pair{index}.w") }).await;
            note(&journal, "take", taken.clone());
            let Ok(PipeReply::Descriptor(fd)) = taken else { return ProgramResult::Ok(1) };
            let mut start = 0;
            for piece in plan.pieces {
                let written = services.pipe_write(fd, &stream_bytes(index, start, piece), false).await;
                note(&journal, format!("write {piece} B"), written);
                start += piece;
            }
            note(&journal, "close", services.pipe(PipeRequest::Close { fd }).await);
            ProgramResult::Ok(0)
        })
    })
}

/// What a reader reads from.
#[derive(Clone, Copy)]
enum Source {
    Pipe(u32),
    Sock(u32),
}

/// One blocking read of at most `len` bytes.
async fn read_piece(services: &mut Services, source: Source, len: u32) -> Result<Vec<u8>, ClientError> {
    let reply = match source {
        Source::Pipe(fd) => services.pipe(PipeRequest::Read { fd, len, nonblocking: false }).await?,
        Source::Sock(fd) => match services.sock(SockRequest::Recv { fd, len, nonblocking: false }).await? {
            SockReply::Data(data) => PipeReply::Data(data),
            _ => return Err(ServiceError::BadRequest.into()),
        },
    };
    match reply {
        PipeReply::Data(data) => Ok(data),
        _ => Err(ServiceError::BadRequest.into()),
    }
}

/// Reads until end of file, in reads of the given sizes in turn; journals the total.
async fn read_all(services: &mut Services, source: Source, lens: &[u32], journal: &Journal) {
    let mut stream = Vec::new();
    for &len in lens.iter().cycle() {
        match read_piece(services, source, len).await {
            Ok(data) if data.is_empty() => {
                journal.borrow_mut().push(format!("read {} then end of file", digest(&stream)));
                return;
            }
            Ok(data) => stream.extend(data),
            Err(error) => {
                journal.borrow_mut().push(format!("read {} then {error:?}", digest(&stream)));
                return;
            }
        }
    }
}

fn pipe_reader(index: usize, plan: Plan, journal: Journal) -> ProgramFn {
    Box::new(move |mut services, _| {
        Box::pin(async move {
            let created = services.pipe(PipeRequest::Create).await;
            note(&journal, "create", created.clone());
            let Ok(PipeReply::Created { read, write }) = created else { return ProgramResult::Ok(1) };
            let given = services.pipe(PipeRequest::Give { fd: write, name: format!("pair{index}.w") }).await;
            note(&journal, "give", given);
            note(&journal, "close write end", services.pipe(PipeRequest::Close { fd: write }).await);
            read_all(&mut services, Source::Pipe(read), &plan.read_lens, &journal).await;
            note(&journal, "close", services.pipe(PipeRequest::Close { fd: read }).await);
            ProgramResult::Ok(0)
        })
    })
}

fn open(index: usize, plan: &Plan) -> MqRequest {
    let (capacity, message_bytes_max) = queue_limits(plan);
    MqRequest::Open { name: format!("/pair{index}"), capacity, message_bytes_max }
}

fn producer(index: usize, plan: Plan, journal: Journal) -> ProgramFn {
    Box::new(move |mut services, _| {
        Box::pin(async move {
            let opened = services.mq(open(index, &plan), None).await;
            note(&journal, "open", opened.clone());
            let Ok(MqReply::Descriptor(queue)) = opened else { return ProgramResult::Ok(1) };
            for (number, &piece) in plan.pieces.iter().enumerate() {
                let (data, priority) = message(index, number, piece);
                let request = MqRequest::Send { queue, data, priority, nonblocking: false };
                let shown = request.to_string();
                note(&journal, shown, services.mq(request, None).await);
            }
            note(&journal, "close", services.mq(MqRequest::Close { queue }, None).await);
            ProgramResult::Ok(0)
        })
    })
}

/// Receives every message the producer sends; journals each priority's, in the order they came.
fn consumer(index: usize, plan: Plan, journal: Journal) -> ProgramFn {
    Box::new(move |mut services, _| {
        Box::pin(async move {
            let opened = services.mq(open(index, &plan), None).await;
            note(&journal, "open", opened.clone());
            let Ok(MqReply::Descriptor(queue)) = opened else { return ProgramResult::Ok(1) };
            let mut by_priority: BTreeMap<u32, Vec<String>> = BTreeMap::new();
            for _ in &plan.pieces {
                match services.mq(MqRequest::Receive { queue, nonblocking: false }, None).await {
                    Ok(MqReply::Message { data, priority }) => {
                        by_priority.entry(priority).or_default().push(String::from_utf8_lossy(&data).into_owned());
                    }
                    other => note(&journal, "receive", other),
                }
            }
            for (priority, messages) in by_priority {
                journal.borrow_mut().push(format!("priority {priority}: {messages:?}"));
            }
            note(&journal, "close", services.mq(MqRequest::Close { queue }, None).await);
            let unlinked = services.mq(MqRequest::Unlink { name: format!("/pair{index}") }, None).await;
            note(&journal, "unlink", unlinked);
            ProgramResult::Ok(0)
        })
    })
}

/// Connects once the server listens (a refused connection is tried again a while later, long
/// enough that clients of higher priority cannot keep a server from listening, and
/// not journaled: how often depends on the interleaving), sends its pieces, closes.
fn client(index: usize, plan: Plan, journal: Journal) -> ProgramFn {
    Box::new(move |mut services, _| {
        Box::pin(async move {
            let path = format!("/pair{index}");
            let mut connected = services.sock(SockRequest::Connect { path: path.clone() }).await;
            for _ in 0..1_000 {
                if connected != Err(ServiceError::ConnectionRefused.into()) {
                    break;
                }
                services.sys().sleep(20_000).await?;
                connected = services.sock(SockRequest::Connect { path: path.clone() }).await;
            }
            note(&journal, "connect", connected.clone());
            let Ok(SockReply::Descriptor(fd)) = connected else { return ProgramResult::Ok(1) };
            let mut start = 0;
            for piece in plan.pieces {
                let sent = services.sock_send_all(fd, &stream_bytes(index, start, piece), 512).await;
                note(&journal, format!("send {piece} B"), sent);
                start += piece;
            }
            note(&journal, "close", services.sock(SockRequest::Close { fd }).await);
            ProgramResult::Ok(0)
        })
    })
}

fn server(index: usize, plan: Plan, journal: Journal) -> ProgramFn {
    Box::new(move |mut services, _| {
        Box::pin(async move {
            let listened = services.sock(SockRequest::Listen { path: format!("/pair{index}"), backlog: 1 }).await;
            note(&journal, "listen", listened.clone());
            let Ok(SockReply::Descriptor(listener)) = listened else { return ProgramResult::Ok(1) };
            let accepted = services.sock(SockRequest::Accept { fd: listener, nonblocking: false }).await;
            note(&journal, "accept", accepted.clone());
            let Ok(SockReply::Descriptor(fd)) = accepted else { return ProgramResult::Ok(1) };
            read_all(&mut services, Source::Sock(fd), &plan.read_lens, &journal).await;
            note(&journal, "close", services.sock(SockRequest::Close { fd }).await);
            note(&journal, "close listener", services.sock(SockRequest::Close { fd: listener }).await);
            ProgramResult::Ok(0)
        })
    })
}
