//! Pipes against a simple model, in both modes.
//!
//! A [`Case`] is one pipe of a random size, one to three writers and one
//! reader at random priorities, each writer with random writes (some longer
//! than `PIPE_BUF`) and pauses between them, the reader with random read
//! lengths. A setup process makes the pipe, hands every end to the process
//! that uses it and closes its own. The model is what POSIX promises:
//!
//! - every writer's bytes come out once, in the order it wrote them, none
//!   lost and none made up (the bytes name their writer and their place);
//! - a write of at most `PIPE_BUF` bytes comes out in one piece; a longer one
//!   in pieces of `PIPE_BUF`, each in one piece;
//! - no read returns more than it asked for;
//! - the reader sees end of file once, after every byte, and not before the
//!   last writer began to close its end.
//!
//! The same case runs in microkernel mode (every operation a call to the pipe
//! server) and in monolithic mode (the pipe logic inside the kernel), and
//! both must meet the model. Another test crashes the pipe server under a
//! waiting reader: the reader gets "peer dead", never a hang. A last one
//! runs the script functions and their errors in words in both modes.
//!
//! 64 cases by default; more with `PROPTEST_CASES=1000 cargo test -p
//! mksim-tests --test pipes`.

use mksim_kernel::{KernelConfig, Outcome, Priority, ProgramResult};
use mksim_servers::fault::{FaultKind, FaultSpec, Trigger};
use mksim_servers::pipe::PipeConfig;
use mksim_servers::system::{Mode, ProgramFn, ProgramSpec, Servers, SystemSpec, boot};
use mksim_userland::pipe_protocol::{PIPE_BUF_BYTES, PipeReply, PipeRequest};
use proptest::collection::vec;
use proptest::prelude::*;
use std::cell::RefCell;
use std::rc::Rc;

/// One writer: the sizes of its writes, each after a pause of some cycles.
#[derive(Clone, Debug)]
struct Writer {
    priority: u8,
    writes: Vec<(usize, u64)>,
}

#[derive(Clone, Debug)]
struct Case {
    buffer_bytes: usize,
    writers: Vec<Writer>,
    reader_priority: u8,
    read_lengths: Vec<u32>,
}

fn case() -> impl Strategy<Value = Case> {
    let write = (prop_oneof![4 => 1usize..=64, 2 => 65usize..=PIPE_BUF_BYTES, 1 => 513usize..=1300], 0u64..4_000);
    let writer = (3u8..9, vec(write, 0..6)).prop_map(|(priority, writes)| Writer { priority, writes });
    (PIPE_BUF_BYTES..=2048, vec(writer, 1..=3), 3u8..9, vec(1u32..=600, 1..5)).prop_map(
        |(buffer_bytes, writers, reader_priority, read_lengths)| Case {
            buffer_bytes,
            writers,
            reader_priority,
            read_lengths,
        },
    )
}

/// The `index`-th byte writer `writer` writes: the top two bits name the writer, the rest its place.
fn byte(writer: usize, index: usize) -> u8 {
    (writer as u8) << 6 | (index % 64) as u8
}

/// What the processes saw.
#[derive(Default, Debug)]
struct Record {
    /// Each read's length asked and bytes got, in order; the last is end of file.
    reads: Vec<(u32, Vec<u8>)>,
    /// When the reader saw end of file.
    end_of_file_at: Option<u64>,
    /// When each writer began to close its end.
    closing_at: Vec<u64>,
    /// Failures, in words.
    failures: Vec<String>,
}

type Shared = Rc<RefCell<Record>>;

fn level(value: u8) -> Priority {
    Priority::new(value).expect("in range")
}

fn program(name: &str, priority: u8, code: ProgramFn) -> ProgramSpec {
    ProgramSpec::plain(name, level(priority), code)
}

fn setup(writers: usize, record: Shared) -> ProgramFn {
    Box::new(move |mut services, _| {
        Box::pin(async move {
            let Ok(PipeReply::Created { read, write }) = services.pipe(PipeRequest::Create).await else {
                record.borrow_mut().failures.push("create failed".into());
                return ProgramResult::Ok(1);
            };
            let mut gives = vec![PipeRequest::Give { fd: read, name: "reader".into() }];
            gives.extend((0..writers).map(|writer| PipeRequest::Give { fd: write, name: format!("writer {writer}") }));
            gives.extend([PipeRequest::Close { fd: read }, PipeRequest::Close { fd: write }]);
            for request in gives {
                if let Err(error) = services.pipe(request).await {
                    record.borrow_mut().failures.push(format!("setup: {error}"));
                }
            }
            ProgramResult::Ok(0)
        })
    })
}

fn writer(index: usize, writes: Vec<(usize, u64)>, record: Shared) -> ProgramFn {
    Box::new(move |mut services, _| {
        Box::pin(async move {
            let Ok(PipeReply::Descriptor(fd)) =
                services.pipe(PipeRequest::Take { name: format!("writer {index}") }).await
            else {
                record.borrow_mut().failures.push(format!("writer {index} could not take its end"));
                return ProgramResult::Ok(1);
            };
            let mut written = 0;
            for (size, pause) in writes {
                services.sys().compute(pause + 1).await?;
                let data: Vec<u8> = (written..written + size).map(|at| byte(index, at)).collect();
                match services.pipe_write(fd, &data, false).await {
                    Ok(count) if count as usize == size => written += size,
                    other => record.borrow_mut().failures.push(format!("writer {index}: {other:?}")),
                }
            }
            let now = services.sys().now();
            record.borrow_mut().closing_at.push(now);
            if let Err(error) = services.pipe(PipeRequest::Close { fd }).await {
                record.borrow_mut().failures.push(format!("writer {index} close: {error}"));
            }
            ProgramResult::Ok(0)
        })
    })
}

fn reader(lengths: Vec<u32>, record: Shared) -> ProgramFn {
    Box::new(move |mut services, _| {
        Box::pin(async move {
            let Ok(PipeReply::Descriptor(fd)) = services.pipe(PipeRequest::Take { name: "reader".into() }).await else {
                record.borrow_mut().failures.push("the reader could not take its end".into());
                return ProgramResult::Ok(1);
            };
            for len in lengths.iter().copied().cycle() {
                match services.pipe(PipeRequest::Read { fd, len, nonblocking: false }).await {
                    Ok(PipeReply::Data(data)) => {
                        let end = data.is_empty();
                        record.borrow_mut().reads.push((len, data));
                        if end {
                            record.borrow_mut().end_of_file_at = Some(services.sys().now());
                            break;
                        }
                    }
                    other => {
                        record.borrow_mut().failures.push(format!("read: {other:?}"));
                        break;
                    }
                }
            }
            ProgramResult::Ok(0)
        })
    })
}

fn run(case: &Case, mode: Mode) -> (Outcome, Record) {
    let record: Shared = Rc::default();
    let servers = Servers {
        name: Some(level(20)),
        pipe: Some((level(14), PipeConfig { buffer_bytes: case.buffer_bytes, ..PipeConfig::default() })),
        ..Servers::default()
    };
    let mut programs = vec![program("setup", 9, setup(case.writers.len(), Rc::clone(&record)))];
    programs.extend(case.writers.iter().enumerate().map(|(index, spec)| {
        let code = writer(index, spec.writes.clone(), Rc::clone(&record));
        program(&format!("writer{index}"), spec.priority, code)
    }));
    programs.push(program("reader", case.reader_priority, reader(case.read_lengths.clone(), Rc::clone(&record))));
    let spec =
        SystemSpec { kernel: KernelConfig::default(), servers, objects: Vec::new(), programs, faults: Vec::new() };
    let mut system = boot(spec, mode);
    let outcome = system.kernel.run().clone();
    drop(system);
    let record = Rc::try_unwrap(record).expect("the run is over").into_inner();
    (outcome, record)
}

/// The model's checks of one run.
fn check(case: &Case, mode: Mode) -> Result<(), TestCaseError> {
    let (outcome, record) = run(case, mode);
    prop_assert!(outcome.is_completed(), "{}: {:?}", mode.name(), outcome);
    prop_assert!(record.failures.is_empty(), "{}: {:?}", mode.name(), record.failures);
    for (len, data) in &record.reads {
        prop_assert!(data.len() <= *len as usize, "a read of {} returned {} bytes", len, data.len());
    }
    let ends = record.reads.iter().filter(|(_, data)| data.is_empty()).count();
    prop_assert_eq!(ends, 1, "end of file once, and last");
    let stream: Vec<u8> = record.reads.iter().flat_map(|(_, data)| data.iter().copied()).collect();
    // Where each writer's bytes came out, in the order they came out.
    let mut places: Vec<Vec<usize>> = vec![Vec::new(); case.writers.len()];
    for (at, &value) in stream.iter().enumerate() {
        let writer = usize::from(value >> 6);
        prop_assert!(writer < case.writers.len(), "a byte no writer wrote");
        places[writer].push(at);
    }
    for (index, spec) in case.writers.iter().enumerate() {
        let total: usize = spec.writes.iter().map(|(size, _)| size).sum();
        let got: Vec<u8> = places[index].iter().map(|&at| stream[at]).collect();
        let wanted: Vec<u8> = (0..total).map(|at| byte(index, at)).collect();
        prop_assert_eq!(got, wanted, "{}: writer {}'s bytes, in order, once", mode.name(), index);
        let mut start = 0;
        for (size, _) in &spec.writes {
            for piece in (start..start + size).collect::<Vec<_>>().chunks(PIPE_BUF_BYTES) {
                let (first, last) = (places[index][piece[0]], places[index][piece[piece.len() - 1]]);
                prop_assert_eq!(last - first, piece.len() - 1, "{}: a write of {} B split", mode.name(), piece.len());
            }
            start += size;
        }
    }
    let last_close = record.closing_at.iter().max().copied().unwrap_or(0);
    prop_assert!(record.end_of_file_at.is_some_and(|at| at >= last_close), "end of file before the last close");
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig {
        cases: mksim_tests::proptest_cases(64),
        failure_persistence: None,
        ..ProptestConfig::default()
    })]

    #[test]
    fn bytes_out_are_bytes_in_per_writer_atomic_up_to_pipe_buf_with_end_of_file_last_in_both_modes(case in case()) {
        check(&case, Mode::Microkernel)?;
        check(&case, Mode::Monolithic)?;
    }
}

/// A crash of the pipe server under a reader waiting on an empty pipe: the reader is told
/// "peer dead" (its reply capability died with the server) and the run ends, in microkernel
/// mode; monolithic mode has the pipes in the kernel, which the crash takes down.
#[test]
fn a_crash_of_the_pipe_server_tells_a_waiting_reader_peer_dead() {
    let seen: Rc<RefCell<Vec<String>>> = Rc::default();
    let reader_seen = Rc::clone(&seen);
    let reader: ProgramFn = Box::new(move |mut services, _| {
        Box::pin(async move {
            let Ok(PipeReply::Created { read, .. }) = services.pipe(PipeRequest::Create).await else {
                return ProgramResult::Ok(1);
            };
            let answer = services.pipe(PipeRequest::Read { fd: read, len: 10, nonblocking: false }).await;
            reader_seen.borrow_mut().push(format!("{answer:?}"));
            ProgramResult::Ok(0)
        })
    });
    let servers =
        Servers { name: Some(level(20)), pipe: Some((level(14), PipeConfig::default())), ..Servers::default() };
    // The create is the pipe server's first request and the read its second: the crash comes
    // with the third, which a second client sends while the reader waits.
    let prodder_seen = Rc::clone(&seen);
    let prodder: ProgramFn = Box::new(move |mut services, _| {
        Box::pin(async move {
            services.sys().sleep(50_000).await?;
            let answer = services.pipe(PipeRequest::Take { name: "nothing".into() }).await;
            prodder_seen.borrow_mut().push(format!("{answer:?}"));
            ProgramResult::Ok(0)
        })
    });
    let faults = vec![FaultSpec { server: "pipe".into(), kind: FaultKind::Crash, trigger: Trigger::AtMessage(3) }];
    let programs = vec![program("reader", 5, reader), program("prodder", 5, prodder)];
    let spec = SystemSpec { kernel: KernelConfig::default(), servers, objects: Vec::new(), programs, faults };
    let mut system = boot(spec, Mode::Microkernel);
    let outcome = system.kernel.run().clone();
    assert!(outcome.is_completed(), "{outcome:?}");
    drop(system);
    assert_eq!(*seen.borrow(), ["Err(Sys(PeerDead))", "Err(Sys(PeerDead))"], "the waiting reader, then the caller");
}

/// The script functions, in both modes: the nonblocking forms throw "would block", a write
/// with no reader throws "broken pipe", and a read after the last writer closed is "".
#[test]
fn scripts_see_pipe_errors_as_words_in_both_modes() {
    let text = r##"Scenario(
        name: "pipe words",
        servers: (pipe: (buffer_bytes: 512)),
        processes: [(name: "script", priority: 5, program: Script(source: r#"
            let p = pipe();
            try { pipe_try_read(p.read, 8); } catch (error) { print(`empty: ${error}`); }
            let long = "0123456789";
            long.pad(600, "x");
            let written = pipe_try_write(p.write, long);
            print(`a nonblocking long write put in ${written}`);
            try { pipe_try_write(p.write, "more"); } catch (error) { print(`full: ${error}`); }
            print(`read ${pipe_read(p.read, 5)}`);
            pipe_close(p.write);
            let rest = 0;
            loop { let text = pipe_read(p.read, 512); if text == "" { break; } rest += text.len(); }
            print(`then ${rest} bytes and end of file`);
            let q = pipe();
            pipe_close(q.read);
            try { pipe_write(q.write, "anyone?"); } catch (error) { print(`no reader: ${error}`); }
        "#))],
    )"##;
    let scenario = mksim_core::scenario::Scenario::parse(text, "test.ron").unwrap_or_else(|error| panic!("{error}"));
    let expected = "empty: would block\na nonblocking long write put in 512\nfull: would block\nread 01234\n\
                    then 507 bytes and end of file\nno reader: broken pipe\n";
    for mode in [Mode::Microkernel, Mode::Monolithic] {
        let report = mksim_core::run::run(&scenario, mode, &mksim_core::run::RunOptions::default());
        assert!(report.outcome.is_completed(), "{}: {:?}", mode.name(), report.outcome);
        assert_eq!(report.console.get("script").map(String::as_str), Some(expected), "{}", mode.name());
    }
}
