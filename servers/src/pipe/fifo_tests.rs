use super::super::PipeConfig;
use super::*;
use mksim_userland::pipe_protocol::PipeRequest;

const A: u64 = 1;
const B: u64 = 2;
const FIFO: u32 = 7;

fn open(fifo: u32, mode: FifoMode, nonblocking: bool) -> PipeRequest {
    PipeRequest::OpenFifo { fifo, mode, nonblocking }
}

fn done(pipes: &mut Pipes, client: u64, request: PipeRequest) -> PipeReply {
    match pipes.handle(client, &request).outcome {
        Outcome::Done(reply) => reply,
        Outcome::Wait(channel) => panic!("{request} waits on channel {channel}"),
    }
}

fn descriptor(pipes: &mut Pipes, client: u64, request: PipeRequest) -> u32 {
    match done(pipes, client, request) {
        PipeReply::Descriptor(fd) => fd,
        other => panic!("open answered {other:?}"),
    }
}

fn write(pipes: &mut Pipes, client: u64, fd: u32, text: &str) -> PipeReply {
    done(pipes, client, PipeRequest::Write { fd, data: text.as_bytes().to_vec(), nonblocking: false })
}

fn read(pipes: &mut Pipes, client: u64, fd: u32) -> PipeReply {
    done(pipes, client, PipeRequest::Read { fd, len: 64, nonblocking: false })
}

#[test]
fn a_reader_waits_for_a_writer_whose_open_wakes_it() {
    let mut pipes = Pipes::new(PipeConfig::default());
    let first = pipes.handle(A, &open(FIFO, FifoMode::Read, false));
    let Outcome::Wait(channel) = first.outcome else { panic!("a reader with no writer did not wait: {first:?}") };
    // Tried again before any writer came, it still waits, on the same channel.
    assert_eq!(pipes.handle(A, &open(FIFO, FifoMode::Read, false)).outcome, Outcome::Wait(channel));
    let writer = pipes.handle(B, &open(FIFO, FifoMode::Write, false));
    assert_eq!(writer.woken, vec![channel]);
    let Outcome::Done(PipeReply::Descriptor(w)) = writer.outcome else { panic!("the writer waited: {writer:?}") };
    let r = descriptor(&mut pipes, A, open(FIFO, FifoMode::Read, false));
    assert_eq!(write(&mut pipes, B, w, "through the name"), PipeReply::Written(16));
    assert_eq!(read(&mut pipes, A, r), PipeReply::Data(b"through the name".to_vec()));
    assert_eq!(pipes.pipes().len(), 1);
}

#[test]
fn a_writer_waits_for_a_reader_and_a_waiting_open_counts_as_open() {
    let mut pipes = Pipes::new(PipeConfig::default());
    let writer = pipes.handle(A, &open(FIFO, FifoMode::Write, false));
    let Outcome::Wait(channel) = writer.outcome else { panic!("a writer with no reader did not wait: {writer:?}") };
    // The waiting writer is counted already, so a reader does not wait for it.
    let reader = pipes.handle(B, &open(FIFO, FifoMode::Read, false));
    assert_eq!(reader.woken, vec![channel]);
    assert!(matches!(reader.outcome, Outcome::Done(PipeReply::Descriptor(_))), "{reader:?}");
    let pipe = pipes.pipes().values().next().expect("the FIFO's pipe");
    assert_eq!((pipe.readers, pipe.writers), (1, 1));
    descriptor(&mut pipes, A, open(FIFO, FifoMode::Write, false));
}

#[test]
fn a_granted_open_finishes_even_when_the_other_end_closed_again() {
    let mut pipes = Pipes::new(PipeConfig::default());
    assert!(matches!(pipes.handle(A, &open(FIFO, FifoMode::Read, false)).outcome, Outcome::Wait(_)));
    let w = descriptor(&mut pipes, B, open(FIFO, FifoMode::Write, false));
    assert_eq!(write(&mut pipes, B, w, "bye"), PipeReply::Written(3));
    assert_eq!(done(&mut pipes, B, PipeRequest::Close { fd: w }), PipeReply::Done);
    let r = descriptor(&mut pipes, A, open(FIFO, FifoMode::Read, false));
    assert_eq!(read(&mut pipes, A, r), PipeReply::Data(b"bye".to_vec()));
    assert_eq!(read(&mut pipes, A, r), PipeReply::Data(Vec::new()), "end of file: the writer is gone");
}

#[test]
fn nonblocking_reads_open_at_once_and_writes_need_a_reader() {
    let mut pipes = Pipes::new(PipeConfig::default());
    assert_eq!(done(&mut pipes, A, open(FIFO, FifoMode::Write, true)), PipeReply::Error(ServiceError::NoReader));
    assert!(pipes.pipes().is_empty(), "a refused open makes no pipe");
    let r = descriptor(&mut pipes, A, open(FIFO, FifoMode::Read, true));
    assert_eq!(read(&mut pipes, A, r), PipeReply::Data(Vec::new()), "no writer: end of file");
    let w = descriptor(&mut pipes, B, open(FIFO, FifoMode::Write, true));
    assert_eq!(write(&mut pipes, B, w, "x"), PipeReply::Written(1));
    assert_eq!(read(&mut pipes, A, r), PipeReply::Data(b"x".to_vec()));
}

#[test]
fn once_every_end_is_closed_the_bytes_are_gone_and_a_new_open_makes_a_new_pipe() {
    let mut pipes = Pipes::new(PipeConfig::default());
    let r = descriptor(&mut pipes, A, open(FIFO, FifoMode::Read, true));
    let w = descriptor(&mut pipes, B, open(FIFO, FifoMode::Write, false));
    assert_eq!(write(&mut pipes, B, w, "lost"), PipeReply::Written(4));
    done(&mut pipes, A, PipeRequest::Close { fd: r });
    done(&mut pipes, B, PipeRequest::Close { fd: w });
    assert!(pipes.pipes().is_empty());
    let r = descriptor(&mut pipes, A, open(FIFO, FifoMode::Read, true));
    assert_eq!(read(&mut pipes, A, r), PipeReply::Data(Vec::new()));
    let number = *pipes.pipes().keys().next().expect("a new pipe");
    assert_eq!(number, 1, "pipe numbers are not used again");
}

#[test]
fn fifos_of_different_nodes_are_different_pipes() {
    let mut pipes = Pipes::new(PipeConfig::default());
    descriptor(&mut pipes, A, open(FIFO, FifoMode::Read, true));
    assert_eq!(done(&mut pipes, B, open(FIFO + 1, FifoMode::Write, true)), PipeReply::Error(ServiceError::NoReader));
    assert!(matches!(pipes.handle(B, &open(FIFO + 1, FifoMode::Write, false)).outcome, Outcome::Wait(_)));
    assert_eq!(pipes.pipes().len(), 2);
}

#[test]
fn an_open_with_no_free_descriptor_fails_and_counts_nothing() {
    let mut pipes = Pipes::new(PipeConfig { descriptors_max: 1, ..PipeConfig::default() });
    descriptor(&mut pipes, A, open(FIFO, FifoMode::Read, true));
    let refused = done(&mut pipes, A, open(FIFO, FifoMode::Write, false));
    assert_eq!(refused, PipeReply::Error(ServiceError::TooManyOpen));
    let pipe = pipes.pipes().values().next().expect("the FIFO's pipe");
    assert_eq!((pipe.readers, pipe.writers), (1, 0));
}
