//! Microkernel and monolithic modes agree on everything a program sees of pipes, message
//! queues and stream sockets.
//!
//! The same system runs twice from the same seed: once with the pipe, `mq` and socket
//! servers reached by messages, once with their logic inside the kernel. The modes interleave
//! programs differently, so the workloads are built so that what a program sees cannot depend
//! on the interleaving; any difference is then a bug in one mode.
//!
//! - A *solo* program ([`solo`]) works on its own pipes, queues and sockets alone: names,
//!   queue names and socket paths carry its number, and the limits shared by every client
//!   (ends given and not taken, queues in the system) are too large to reach. It reads and
//!   writes its own pipes (would block, broken pipe, end of file, long writes in pieces,
//!   giving and taking its own ends), sends to and receives from its own queues (priority
//!   order, full and empty, bad arguments, unlink while open, a notification registered and
//!   polled: it fires in the sender's call, before its reply, in both modes), and connects to
//!   its own listeners (accept, send, receive, close, connection refused, a full backlog). A blocking
//!   operation is sent blocking only when the program's own account of its objects says it
//!   finishes at once; otherwise it is sent nonblocking (nobody else could ever wake it).
//!   Every reply is journaled and compared whole.
//! - A *pair* ([`pair`]) is two programs that cooperate through blocking operations only, on
//!   one pipe, one queue or one connection, so that the outcome is determined but the pieces
//!   are not: a read returns what the writer has put in so far. The journals hold what is
//!   determined (the bytes read in total, in order; each priority's messages in order) and
//!   not the sizes of single reads.
//!
//! A failure prints the shrunk [`Workload`] (seed included); pasting it into a `#[test]` that
//! calls [`check_equivalence`] replays it exactly. 256 cases by default (a few seconds); more with
//! `PROPTEST_CASES=500 cargo test -p mksim-tests --test equivalence_ipc`.

#[path = "equivalence_ipc/ordering.rs"]
mod ordering;
#[path = "equivalence_ipc/pair.rs"]
mod pair;
#[path = "equivalence_ipc/solo.rs"]
mod solo;

use mksim_kernel::{KernelConfig, Outcome, Priority, ProcessState};
use mksim_servers::mqueue::MqConfig;
use mksim_servers::pipe::PipeConfig;
use mksim_servers::socket::SocketConfig;
use mksim_servers::system::{Mode, ProgramSpec, Servers, SystemSpec, boot};
use proptest::collection::vec;
use proptest::prelude::*;
use std::cell::RefCell;
use std::rc::Rc;

/// What one program saw, in order.
pub type Journal = Rc<RefCell<Vec<String>>>;

/// A whole system: settings, servers and programs.
#[derive(Clone, Debug)]
pub struct Workload {
    seed: u64,
    /// Name, pipe, `mq` and socket server priorities.
    server_priorities: [u8; 4],
    /// Bytes one pipe holds (at least `PIPE_BUF`).
    pipe_bytes: usize,
    /// Bytes a connection buffers each way.
    socket_bytes: usize,
    solos: Vec<solo::Plan>,
    pairs: Vec<pair::Plan>,
}

fn workload() -> impl Strategy<Value = Workload> {
    (
        any::<u64>(),
        proptest::array::uniform4(2..12u8),
        prop_oneof![Just(512usize), 513..=1500usize],
        1..=48usize,
        vec(solo::plan(), 0..=3),
        vec(pair::plan(), 0..=2),
    )
        .prop_map(|(seed, server_priorities, pipe_bytes, socket_bytes, solos, pairs)| Workload {
            seed,
            server_priorities,
            pipe_bytes,
            socket_bytes,
            solos,
            pairs,
        })
}

/// Bytes in words that tell any two streams apart: their length and an FNV-1a digest.
pub fn digest(bytes: &[u8]) -> String {
    let hash = bytes
        .iter()
        .fold(0xcbf2_9ce4_8422_2325_u64, |hash, &byte| (hash ^ u64::from(byte)).wrapping_mul(0x100_0000_01b3));
    format!("{} B #{hash:016x}", bytes.len())
}

fn priority(level: u8) -> Priority {
    Priority::new(level).expect("generated priorities are in range")
}

/// Everything a run showed that must not depend on the mode.
#[derive(Debug)]
struct Observed {
    outcome: Outcome,
    /// Per program, by name: its journal.
    journals: Vec<(String, Vec<String>)>,
    /// Per program: its exit code, or its final state if it did not exit.
    exits: Vec<Result<i32, ProcessState>>,
}

fn servers(workload: &Workload) -> Servers {
    let [name, pipe, mq, socket] = workload.server_priorities.map(priority);
    // The limits every client shares are out of reach, so that running into one cannot
    // depend on what the other programs did first.
    let pipe_config = PipeConfig { buffer_bytes: workload.pipe_bytes, given_max: 1_000, ..PipeConfig::default() };
    let mq_config = MqConfig { queues_max: 1_000, ..MqConfig::default() };
    let socket_config = SocketConfig { buffer_bytes: workload.socket_bytes, ..SocketConfig::default() };
    Servers {
        name: Some(name),
        pipe: Some((pipe, pipe_config)),
        mq: Some((mq, mq_config)),
        socket: Some((socket, socket_config)),
        ..Servers::default()
    }
}

fn run(workload: &Workload, mode: Mode) -> Observed {
    let mut programs: Vec<ProgramSpec> = Vec::new();
    let mut journals: Vec<(String, Journal)> = Vec::new();
    for (index, plan) in workload.solos.iter().enumerate() {
        let journal = Journal::default();
        let name = format!("p{index}");
        let code = solo::program(index, plan.clone(), workload.pipe_bytes, Rc::clone(&journal));
        programs.push(ProgramSpec::plain(name.clone(), priority(plan.priority), code));
        journals.push((name, journal));
    }
    for (index, plan) in workload.pairs.iter().enumerate() {
        for member in pair::programs(index, plan) {
            journals.push((member.name.clone(), member.journal));
            programs.push(ProgramSpec::plain(member.name, priority(member.priority), member.code));
        }
    }
    let kernel = KernelConfig { seed: workload.seed, ..KernelConfig::default() };
    let spec = SystemSpec { kernel, servers: servers(workload), objects: Vec::new(), programs, faults: Vec::new() };
    let mut system = boot(spec, mode);
    let outcome = system.kernel.run().clone();
    let exits = mksim_tests::programs::exit_codes(&system);
    drop(system);
    let journals = journals.into_iter().map(|(name, journal)| (name, journal.take())).collect();
    Observed { outcome, journals, exits }
}

fn check_equivalence(workload: &Workload) -> Result<(), TestCaseError> {
    let microkernel = run(workload, Mode::Microkernel);
    let monolithic = run(workload, Mode::Monolithic);
    let seed = workload.seed;
    prop_assert_eq!(&microkernel.outcome, &Outcome::Completed, "microkernel mode, seed {}", seed);
    prop_assert_eq!(&monolithic.outcome, &Outcome::Completed, "monolithic mode, seed {}", seed);
    for ((name, left), (_, right)) in microkernel.journals.iter().zip(&monolithic.journals) {
        prop_assert_eq!(left, right, "what {} saw differs (microkernel left), seed {}", name, seed);
    }
    prop_assert_eq!(&microkernel.exits, &monolithic.exits, "exit codes, seed {}", seed);
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig {
        cases: mksim_tests::proptest_cases(256),
        failure_persistence: None,
        ..ProptestConfig::default()
    })]

    #[test]
    fn both_modes_observe_the_same_pipes_queues_and_sockets(workload in workload()) {
        check_equivalence(&workload)?;
    }
}

/// A small workload with every kind of program, whose journals must hold what a solo program
/// and each pair are known to see, in both modes.
#[test]
fn a_known_workload_reads_the_same_in_both_modes() {
    use solo::{MqOp, Op, PipeOp, SockOp};
    let ops = vec![
        Op::Pipe(PipeOp::Create),
        Op::Pipe(PipeOp::Read { descriptor: 0, len: 8, nonblocking: false }),
        Op::Pipe(PipeOp::Write { descriptor: 1, len: 600, nonblocking: false }),
        Op::Pipe(PipeOp::Close { descriptor: 1 }),
        Op::Pipe(PipeOp::Read { descriptor: 0, len: 700, nonblocking: false }),
        Op::Pipe(PipeOp::Read { descriptor: 0, len: 700, nonblocking: false }),
        Op::Pipe(PipeOp::Read { descriptor: 0, len: 700, nonblocking: false }),
        Op::Mq(MqOp::Open { name: 0, capacity: 2, message_bytes_max: 8 }),
        Op::Mq(MqOp::Notify { descriptor: 0, bits: 5 }),
        Op::Mq(MqOp::Send { descriptor: 0, len: 3, priority: 1, nonblocking: false }),
        Op::Mq(MqOp::Poll),
        Op::Mq(MqOp::Poll),
        Op::Mq(MqOp::Send { descriptor: 0, len: 4, priority: 7, nonblocking: false }),
        Op::Mq(MqOp::Send { descriptor: 0, len: 5, priority: 9, nonblocking: false }),
        Op::Mq(MqOp::Receive { descriptor: 0, nonblocking: false }),
        Op::Sock(SockOp::Connect { path: 0 }),
        Op::Sock(SockOp::Listen { path: 0, backlog: 1 }),
        Op::Sock(SockOp::Connect { path: 0 }),
        Op::Sock(SockOp::Connect { path: 0 }),
    ];
    let workload = Workload {
        seed: 3,
        server_priorities: [9, 6, 6, 6],
        pipe_bytes: 512,
        socket_bytes: 16,
        solos: vec![solo::Plan { priority: 4, ops }],
        pairs: vec![pair::Plan {
            kind: pair::Kind::Pipe,
            priorities: [3, 5],
            pieces: vec![700, 1, 300],
            read_lens: vec![5, 512],
        }],
    };
    let observed = run(&workload, Mode::Microkernel);
    let solo = &observed.journals[0].1;
    // The running text goes on across services: 600 letters into the pipe, then "cde".
    let letters: Vec<u8> = (0..512).map(|at| b'a' + (at % 26) as u8).collect();
    let expected = [
        "pipe.create -> Ok(Created { read: 3, write: 4 })".to_owned(),
        "pipe.read(fd=3, 8, nonblocking) -> Err(Service(WouldBlock))".to_owned(),
        // 600 bytes do not fit in 512: the write goes nonblocking and puts in one piece.
        "pipe.write(fd=4, 600 B, nonblocking) -> Ok(Written(512))".to_owned(),
        "pipe.close(fd=4) -> Ok(Done)".to_owned(),
        format!("pipe.read(fd=3, 700) -> Ok(Data({}))", digest(&letters)),
        format!("pipe.read(fd=3, 700) -> Ok(Data({}))", digest(&[])),
        format!("pipe.read(fd=3, 700) -> Ok(Data({}))", digest(&[])),
        "mq.open(\"/p0.a\", 2 × 8 B) -> Ok(Descriptor(1))".to_owned(),
        "mq.notify(q=1, bits=0x5) -> Ok(Done)".to_owned(),
        "mq.send(q=1, \"cde\", prio 1) -> Ok(Done)".to_owned(),
        // The message came into the empty queue: the registration fired once, and is gone.
        "poll -> Ok(5)".to_owned(),
        "poll -> Ok(0)".to_owned(),
        "mq.send(q=1, \"fghi\", prio 7) -> Ok(Done)".to_owned(),
        // The queue is full: the send goes nonblocking.
        "mq.send(q=1, \"jklmn\", prio 9, nonblocking) -> Err(Service(WouldBlock))".to_owned(),
        "mq.receive(q=1) -> Ok(Message { data: \"fghi\", priority: 7 })".to_owned(),
        "sock.connect(\"/p0/a\") -> Err(Service(ConnectionRefused))".to_owned(),
        "sock.listen(\"/p0/a\", backlog=1) -> Ok(Descriptor(3))".to_owned(),
        "sock.connect(\"/p0/a\") -> Ok(Descriptor(4))".to_owned(),
        // The backlog of one is full.
        "sock.connect(\"/p0/a\") -> Err(Service(ConnectionRefused))".to_owned(),
    ];
    assert_eq!(solo, &expected);
    let reader = &observed.journals[2].1;
    let stream = pair::pattern(0, 1001);
    assert_eq!(reader[3], format!("read {} then end of file", digest(&stream)));
    // Four errors: would block twice, refused twice.
    assert_eq!(observed.exits, vec![Ok(4), Ok(0), Ok(0)]);
    check_equivalence(&workload).unwrap();
}
