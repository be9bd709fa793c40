//! The pipe service's FIFO opening rules against a model, on random
//! sequences of opens, closes, writes and reads by three clients.
//!
//! The requests go to [`Pipes`] the way the pipe server hands them over: a
//! request that waits is kept per channel and tried again, in order, when a
//! later request wakes its channel (the monolithic kernel does the same with
//! its wait channels). The model is POSIX's:
//!
//! - a blocking open waits exactly while nobody has the other end open (an
//!   open that waits counts as open), and finishes as soon as somebody opens
//!   it: no open is left waiting while the other end is open;
//! - a nonblocking open for reading never waits; one for writing fails with
//!   "no reader" exactly when no end for reading is open;
//! - the pipe counts the ends the clients hold, and is gone, with its bytes,
//!   once none is held;
//! - bytes come out in the order they went in; a read of an empty FIFO is end
//!   of file without a writer and "would block" with one; a write without a
//!   reader is "broken pipe".
//!
//! 256 cases by default; more with `PROPTEST_CASES=5000 cargo test -p
//! mksim-tests --test fifo_model`.

use mksim_servers::pipe::{Outcome, PipeConfig, Pipes};
use mksim_userland::pipe_protocol::{FifoMode, PipeReply, PipeRequest};
use mksim_userland::protocol::ServiceError;
use proptest::collection::vec;
use proptest::prelude::*;
use std::collections::{BTreeMap, VecDeque};

const FIFO: u32 = 1;
const CLIENTS: usize = 3;

#[derive(Clone, Debug)]
enum Action {
    Open {
        mode: FifoMode,
        nonblocking: bool,
    },
    /// Close the client's descriptor at this place in its list (modulo its length).
    Close(usize),
    Write(u8),
    Read(u32),
}

fn action() -> impl Strategy<Value = Action> {
    let mode = prop_oneof![Just(FifoMode::Read), Just(FifoMode::Write)];
    prop_oneof![
        4 => (mode, any::<bool>()).prop_map(|(mode, nonblocking)| Action::Open { mode, nonblocking }),
        3 => (0..4usize).prop_map(Action::Close),
        2 => (1..=8u8).prop_map(Action::Write),
        2 => (1..=8u32).prop_map(Action::Read),
    ]
}

/// What each client holds, and the bytes in the FIFO, as POSIX has it.
#[derive(Default)]
struct Model {
    /// Open descriptors of each client, with their end.
    held: [Vec<(u32, FifoMode)>; CLIENTS],
    /// The open each client waits in, if any (a waiting client does nothing else).
    waiting: [Option<FifoMode>; CLIENTS],
    bytes: VecDeque<u8>,
}

impl Model {
    /// Ends open in `mode`, waiting opens included.
    fn open(&self, mode: FifoMode) -> usize {
        let held = self.held.iter().flatten().filter(|(_, end)| *end == mode).count();
        held + self.waiting.iter().filter(|waiting| **waiting == Some(mode)).count()
    }
}

/// The pipe service with its waiting requests, as the pipe server keeps them.
struct Server {
    pipes: Pipes,
    waiting: BTreeMap<u32, VecDeque<(u64, PipeRequest)>>,
}

impl Server {
    /// Handles one request; returns its reply (none when it waits) and the replies of the
    /// waiting requests it let finish, by client.
    fn submit(&mut self, client: u64, request: PipeRequest) -> (Option<PipeReply>, Vec<(u64, PipeReply)>) {
        let handled = self.pipes.handle(client, &request);
        let mut finished = Vec::new();
        let mut channels: VecDeque<u32> = handled.woken.into();
        while let Some(channel) = channels.pop_front() {
            let Some(queue) = self.waiting.remove(&channel) else { continue };
            for (waiter, waiting) in queue {
                let again = self.pipes.handle(waiter, &waiting);
                channels.extend(again.woken);
                match again.outcome {
                    Outcome::Done(reply) => finished.push((waiter, reply)),
                    Outcome::Wait(next) => self.waiting.entry(next).or_default().push_back((waiter, waiting)),
                }
            }
        }
        match handled.outcome {
            Outcome::Done(reply) => (Some(reply), finished),
            Outcome::Wait(channel) => {
                self.waiting.entry(channel).or_default().push_back((client, request));
                (None, finished)
            }
        }
    }
}

fn other(mode: FifoMode) -> FifoMode {
    if mode == FifoMode::Read { FifoMode::Write } else { FifoMode::Read }
}

/// The request for `action`, and the reply the model expects (`None`: it waits), or no
/// request when the client has nothing to do it with.
fn expect(model: &Model, client: usize, action: &Action) -> Option<(PipeRequest, Option<PipeReply>)> {
    let first = |mode: FifoMode| model.held[client].iter().find(|(_, end)| *end == mode).map(|(fd, _)| *fd);
    Some(match *action {
        Action::Open { mode, nonblocking } => {
            let request = PipeRequest::OpenFifo { fifo: FIFO, mode, nonblocking };
            let reply = if model.held[client].len() >= PipeConfig::default().descriptors_max {
                Some(PipeReply::Error(ServiceError::TooManyOpen))
            } else if mode == FifoMode::Write && nonblocking && model.open(FifoMode::Read) == 0 {
                Some(PipeReply::Error(ServiceError::NoReader))
            } else if model.open(other(mode)) > 0 || nonblocking {
                Some(PipeReply::Descriptor(0)) // any number: checked as a descriptor
            } else {
                None
            };
            (request, reply)
        }
        Action::Close(place) => {
            let held = &model.held[client];
            let (fd, _) = *held.get(place % held.len().max(1))?;
            (PipeRequest::Close { fd }, Some(PipeReply::Done))
        }
        Action::Write(count) => {
            let fd = first(FifoMode::Write)?;
            let reply = if model.open(FifoMode::Read) == 0 {
                PipeReply::Error(ServiceError::BrokenPipe)
            } else {
                PipeReply::Written(u32::from(count))
            };
            (PipeRequest::Write { fd, data: vec![b'a' + client as u8; count as usize], nonblocking: true }, Some(reply))
        }
        Action::Read(len) => {
            let fd = first(FifoMode::Read)?;
            let reply = match (model.bytes.len(), model.open(FifoMode::Write)) {
                (0, 0) => PipeReply::Data(Vec::new()),
                (0, _) => PipeReply::Error(ServiceError::WouldBlock),
                (there, _) => PipeReply::Data(model.bytes.iter().take(there.min(len as usize)).copied().collect()),
            };
            (PipeRequest::Read { fd, len, nonblocking: true }, Some(reply))
        }
    })
}

/// Takes the effect of `request`, which got `reply`, into the model.
fn apply(model: &mut Model, client: usize, request: &PipeRequest, reply: &PipeReply) {
    match (request, reply) {
        (PipeRequest::OpenFifo { mode, .. }, PipeReply::Descriptor(fd)) => model.held[client].push((*fd, *mode)),
        (PipeRequest::Close { fd }, _) => model.held[client].retain(|(held, _)| held != fd),
        (PipeRequest::Write { data, .. }, PipeReply::Written(_)) => model.bytes.extend(data),
        (PipeRequest::Read { .. }, PipeReply::Data(data)) => drop(model.bytes.drain(..data.len())),
        _ => {}
    }
    if model.open(FifoMode::Read) + model.open(FifoMode::Write) == 0 {
        model.bytes.clear();
    }
}

fn check(actions: &[(usize, Action)]) -> Result<(), TestCaseError> {
    let mut server = Server { pipes: Pipes::new(PipeConfig::default()), waiting: BTreeMap::new() };
    let mut model = Model::default();
    for (step, (client, action)) in actions.iter().enumerate() {
        if model.waiting[*client].is_some() {
            continue;
        }
        let Some((request, expected)) = expect(&model, *client, action) else { continue };
        let (reply, finished) = server.submit(*client as u64 + 1, request.clone());
        let context = format!("step {step}: client {client} {request}");
        match (&expected, &reply) {
            (Some(PipeReply::Descriptor(_)), Some(PipeReply::Descriptor(_))) | (None, None) => {}
            _ => prop_assert_eq!(&expected, &reply, "{}", context),
        }
        match (&request, &reply) {
            (_, Some(reply)) => apply(&mut model, *client, &request, reply),
            (PipeRequest::OpenFifo { mode, .. }, None) => model.waiting[*client] = Some(*mode),
            _ => unreachable!("only opens wait here"),
        }
        for (waiter, reply) in finished {
            let waiter = (waiter - 1) as usize;
            let mode = model.waiting[waiter].take();
            prop_assert!(mode.is_some(), "{}: client {} finished an open it was not waiting in", context, waiter);
            let PipeReply::Descriptor(fd) = reply else {
                return Err(TestCaseError::fail(format!("{context}: a waiting open got {reply:?}")));
            };
            model.held[waiter].push((fd, mode.expect("checked")));
        }
        for (waiter, waiting) in model.waiting.iter().enumerate() {
            if let Some(mode) = waiting {
                let others = model.open(other(*mode));
                prop_assert_eq!(others, 0, "{}: client {} still waits while the other end is open", context, waiter);
            }
        }
        let (readers, writers) = (model.open(FifoMode::Read), model.open(FifoMode::Write));
        match server.pipes.pipes().values().next() {
            None => prop_assert_eq!(readers + writers, 0, "{}: the pipe is gone while ends are open", context),
            Some(pipe) => {
                prop_assert_eq!((pipe.readers as usize, pipe.writers as usize), (readers, writers), "{}", context);
                prop_assert_eq!(&pipe.buffer, &model.bytes, "{}", context);
            }
        }
        prop_assert!(server.pipes.pipes().len() <= 1, "{}: one FIFO, one pipe at most", context);
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig {
        cases: mksim_tests::proptest_cases(256),
        failure_persistence: None,
        ..ProptestConfig::default()
    })]

    #[test]
    fn fifo_opens_wait_exactly_while_the_other_end_is_closed(actions in vec((0..CLIENTS, action()), 1..60)) {
        check(&actions)?;
    }
}
