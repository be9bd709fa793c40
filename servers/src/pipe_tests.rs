use super::*;

const A: u64 = 1;
const B: u64 = 2;

fn done(pipes: &mut Pipes, client: u64, request: PipeRequest) -> PipeReply {
    match pipes.handle(client, &request).outcome {
        Outcome::Done(reply) => reply,
        Outcome::Wait(channel) => panic!("{request} waits on channel {channel}"),
    }
}

fn write(fd: u32, text: &str) -> PipeRequest {
    PipeRequest::Write { fd, data: text.as_bytes().to_vec(), nonblocking: false }
}

fn read(fd: u32, len: u32) -> PipeRequest {
    PipeRequest::Read { fd, len, nonblocking: false }
}

fn created(pipes: &mut Pipes, client: u64) -> (u32, u32) {
    match done(pipes, client, PipeRequest::Create) {
        PipeReply::Created { read, write } => (read, write),
        other => panic!("create answered {other:?}"),
    }
}

#[test]
fn bytes_come_out_in_order_and_reads_are_partial() {
    let mut pipes = Pipes::new(PipeConfig::default());
    let (r, w) = created(&mut pipes, A);
    assert_eq!((r, w), (3, 4));
    assert_eq!(done(&mut pipes, A, write(w, "hello ")), PipeReply::Written(6));
    assert_eq!(done(&mut pipes, A, write(w, "world")), PipeReply::Written(5));
    assert_eq!(done(&mut pipes, A, read(r, 4)), PipeReply::Data(b"hell".to_vec()));
    assert_eq!(done(&mut pipes, A, read(r, 100)), PipeReply::Data(b"o world".to_vec()));
}

#[test]
fn an_empty_pipe_makes_readers_wait_until_a_write_wakes_them() {
    let mut pipes = Pipes::new(PipeConfig::default());
    let (r, w) = created(&mut pipes, A);
    assert_eq!(pipes.handle(A, &read(r, 8)).outcome, Outcome::Wait(readers_channel(0)));
    let nonblocking = PipeRequest::Read { fd: r, len: 8, nonblocking: true };
    assert_eq!(done(&mut pipes, A, nonblocking), PipeReply::Error(ServiceError::WouldBlock));
    let handled = pipes.handle(A, &write(w, "x"));
    assert_eq!(handled.woken, vec![readers_channel(0)]);
}

#[test]
fn a_full_pipe_makes_writers_wait_and_a_write_goes_in_whole_or_not_at_all() {
    let mut pipes = Pipes::new(PipeConfig { buffer_bytes: 600, ..PipeConfig::default() });
    let (r, w) = created(&mut pipes, A);
    assert_eq!(done(&mut pipes, A, write(w, &"a".repeat(500))), PipeReply::Written(500));
    assert_eq!(pipes.handle(A, &write(w, &"b".repeat(200))).outcome, Outcome::Wait(writers_channel(0)));
    assert_eq!(pipes.pipes()[&0].buffer.len(), 500, "a waiting write put nothing in");
    let handled = pipes.handle(A, &read(r, 150));
    assert_eq!(handled.woken, vec![writers_channel(0)]);
    assert_eq!(done(&mut pipes, A, write(w, &"b".repeat(200))), PipeReply::Written(200));
    let too_large = write(w, &"c".repeat(PIPE_BUF_BYTES + 1));
    assert_eq!(done(&mut pipes, A, too_large), PipeReply::Error(ServiceError::TooLarge));
}

#[test]
fn end_of_file_once_every_writer_closed_and_broken_pipe_once_every_reader_closed() {
    let mut pipes = Pipes::new(PipeConfig::default());
    let (r, w) = created(&mut pipes, A);
    assert_eq!(done(&mut pipes, A, PipeRequest::Give { fd: w, name: "out".into() }), PipeReply::Done);
    assert_eq!(done(&mut pipes, B, PipeRequest::Take { name: "out".into() }), PipeReply::Descriptor(3));
    assert_eq!(done(&mut pipes, B, write(3, "last")), PipeReply::Written(4));
    assert_eq!(pipes.handle(A, &PipeRequest::Close { fd: w }).woken, Vec::<u32>::new(), "B still writes");
    assert_eq!(pipes.handle(B, &PipeRequest::Close { fd: 3 }).woken, vec![readers_channel(0)]);
    assert_eq!(done(&mut pipes, A, read(r, 100)), PipeReply::Data(b"last".to_vec()));
    assert_eq!(done(&mut pipes, A, read(r, 100)), PipeReply::Data(Vec::new()), "end of file");

    let (r, w) = created(&mut pipes, A);
    assert_eq!(pipes.handle(A, &PipeRequest::Close { fd: r }).woken, vec![writers_channel(1)]);
    assert_eq!(done(&mut pipes, A, write(w, "x")), PipeReply::Error(ServiceError::BrokenPipe));
}

#[test]
fn descriptors_are_checked_per_client_and_end() {
    let mut pipes = Pipes::new(PipeConfig { descriptors_max: 3, ..PipeConfig::default() });
    let (r, w) = created(&mut pipes, A);
    assert_eq!(done(&mut pipes, B, read(r, 1)), PipeReply::Error(ServiceError::BadDescriptor), "not B's");
    assert_eq!(done(&mut pipes, A, read(w, 1)), PipeReply::Error(ServiceError::BadDescriptor), "a write end");
    assert_eq!(done(&mut pipes, A, write(r, "x")), PipeReply::Error(ServiceError::BadDescriptor), "a read end");
    assert_eq!(done(&mut pipes, A, PipeRequest::Create), PipeReply::Error(ServiceError::TooManyOpen));
    assert_eq!(pipes.handle(B, &PipeRequest::Take { name: "none".into() }).outcome, Outcome::Wait(TAKERS_CHANNEL));
    done(&mut pipes, A, PipeRequest::Give { fd: r, name: "in".into() });
    let twice = PipeRequest::Give { fd: r, name: "in".into() };
    assert_eq!(done(&mut pipes, A, twice), PipeReply::Error(ServiceError::AlreadyExists));
}
