//! Microkernel and monolithic modes agree on everything a program can observe.
//!
//! The same system runs twice from the same seed: once with the file system
//! in a server reached by messages, once linked into the kernel. The two
//! modes interleave programs differently (a message round trip and an
//! in-kernel call take different times), so each program works only inside
//! a directory of its own (`/p0`, `/p1`, ...) that it creates first: then
//! what it sees depends on its own operations alone, and any difference
//! between the modes is a bug in one of them.
//!
//! Every program records each reply or error in a journal, prints a summary
//! line and exits with a code derived from its error count, so the property
//! compares replies, console output, exit codes and the final files.
//!
//! A failure prints the shrunk [`Workload`] (seed included); pasting it into
//! a `#[test]` that calls [`check_equivalence`] replays it exactly.
//!
//! The workloads delete files too, so freed blocks are reused: a hole left
//! by a write past the end must read as zeros, not as a deleted file's data
//! (which one that would be depends on the interleaving, so the modes would
//! disagree).

use mksim_kernel::{KernelConfig, Outcome, Priority, ProcessState, ProgramFault, ProgramResult};
use mksim_servers::filesystem::FsConfig;
use mksim_servers::system::{BlockServerSpec, Mode, ProgramFn, ProgramSpec, Servers, SystemSpec, boot};
use mksim_userland::client::{ClientError, Services};
use mksim_userland::protocol::{FsReply, FsRequest};
use proptest::collection::vec;
use proptest::prelude::*;
use proptest::sample::select;
use std::cell::RefCell;
use std::collections::BTreeMap;
use std::rc::Rc;

/// Paths a program uses, relative to its own directory (`""` is the directory itself).
/// Few enough that operations collide: a file opened as a directory, a directory
/// removed while full, a path under a missing or non-directory parent.
const PATHS: &[&str] = &["", "a", "b", "d", "d/a", "d/b", "x/y"];

/// Descriptor numbers the file system never hands out, for "the k-th opened
/// descriptor" when the program has opened fewer than k + 1 files.
const UNOPENED_DESCRIPTOR_BASE: u32 = 1_000;

/// Metadata blocks, data blocks and descriptors are generous enough that no
/// program runs out of them: running out depends on what the other programs
/// did first, which depends on the interleaving, which differs between modes.
const METADATA_BLOCKS: u32 = 32;
const DISK_BLOCKS: u32 = 320;
const OPEN_FILES_MAX: usize = 8;

/// One file operation of a program. Descriptors are named by the order in
/// which the program opened them, so a workload is meaningful before it runs.
#[derive(Clone, Debug)]
enum FileOp {
    Mkdir { path: &'static str },
    Create { path: &'static str },
    Open { path: &'static str, create: bool },
    Write { descriptor: usize, text: String },
    Seek { descriptor: usize, offset: u64 },
    Read { descriptor: usize, len: u32 },
    Close { descriptor: usize },
    Stat { path: &'static str },
    Readdir { path: &'static str },
    Unlink { path: &'static str },
}

#[derive(Clone, Debug)]
struct ProgramPlan {
    priority: u8,
    ops: Vec<FileOp>,
}

/// A whole system: settings, servers and programs.
#[derive(Clone, Debug)]
struct Workload {
    seed: u64,
    block_size: usize,
    cache_blocks: usize,
    latency_cycles: u64,
    /// Name, console, block and file server priorities.
    server_priorities: [u8; 4],
    programs: Vec<ProgramPlan>,
}

fn file_op() -> impl Strategy<Value = FileOp> {
    let path = || select(PATHS);
    // Mostly the first descriptors: a program opens only a few files, and
    // operations on descriptors that work are the interesting ones.
    let descriptor = || prop_oneof![4 => Just(0usize), 2 => Just(1), 1 => Just(2), 1 => Just(3)];
    prop_oneof![
        1 => path().prop_map(|path| FileOp::Mkdir { path }),
        1 => path().prop_map(|path| FileOp::Create { path }),
        3 => (path(), any::<bool>()).prop_map(|(path, create)| FileOp::Open { path, create }),
        4 => (descriptor(), "[a-z0-9 ]{0,300}").prop_map(|(descriptor, text)| FileOp::Write { descriptor, text }),
        2 => (descriptor(), 0..=400u64).prop_map(|(descriptor, offset)| FileOp::Seek { descriptor, offset }),
        3 => (descriptor(), 0..=200u32).prop_map(|(descriptor, len)| FileOp::Read { descriptor, len }),
        1 => descriptor().prop_map(|descriptor| FileOp::Close { descriptor }),
        1 => path().prop_map(|path| FileOp::Stat { path }),
        1 => path().prop_map(|path| FileOp::Readdir { path }),
        1 => path().prop_map(|path| FileOp::Unlink { path }),
    ]
}

fn program_plan() -> impl Strategy<Value = ProgramPlan> {
    (0..8u8, vec(file_op(), 0..=25)).prop_map(|(priority, ops)| ProgramPlan { priority, ops })
}

fn workload() -> impl Strategy<Value = Workload> {
    (
        any::<u64>(),
        select(&[64usize, 128][..]),
        0..=4usize,
        0..=2_000u64,
        proptest::array::uniform4(0..8u8),
        vec(program_plan(), 1..=3),
    )
        .prop_map(|(seed, block_size, cache_blocks, latency_cycles, server_priorities, programs)| Workload {
            seed,
            block_size,
            cache_blocks,
            latency_cycles,
            server_priorities,
            programs,
        })
}

// ----- the programs -----

type Journal = Rc<RefCell<Vec<String>>>;

/// What a program has done so far, for its summary line and exit code.
#[derive(Default)]
struct Tally {
    operations: u32,
    errors: u32,
    bytes_read: usize,
    bytes_written: u32,
}

fn full_path(directory: &str, relative: &str) -> String {
    if relative.is_empty() { directory.to_owned() } else { format!("{directory}/{relative}") }
}

fn request(op: &FileOp, directory: &str, descriptors: &[u32]) -> FsRequest {
    let path = |relative: &str| full_path(directory, relative);
    let fd = |k: usize| descriptors.get(k).copied().unwrap_or(UNOPENED_DESCRIPTOR_BASE + k as u32);
    match op {
        FileOp::Mkdir { path: relative } => FsRequest::Mkdir { path: path(relative) },
        FileOp::Create { path: relative } => FsRequest::Create { path: path(relative) },
        FileOp::Open { path: relative, create } => FsRequest::Open { path: path(relative), create: *create },
        FileOp::Write { descriptor, text } => FsRequest::Write { fd: fd(*descriptor), data: text.as_bytes().to_vec() },
        FileOp::Seek { descriptor, offset } => FsRequest::Seek { fd: fd(*descriptor), offset: *offset },
        FileOp::Read { descriptor, len } => FsRequest::Read { fd: fd(*descriptor), len: *len },
        FileOp::Close { descriptor } => FsRequest::Close { fd: fd(*descriptor) },
        FileOp::Stat { path: relative } => FsRequest::Stat { path: path(relative) },
        FileOp::Readdir { path: relative } => FsRequest::Readdir { path: path(relative) },
        FileOp::Unlink { path: relative } => FsRequest::Unlink { path: path(relative) },
    }
}

/// Sends one request, records what came back, and counts it.
async fn perform(
    services: &mut Services,
    request: FsRequest,
    journal: &Journal,
    tally: &mut Tally,
) -> Result<FsReply, ClientError> {
    let shown = request.to_string();
    let result = services.fs(request).await;
    journal.borrow_mut().push(format!("{shown} -> {result:?}"));
    tally.operations += 1;
    match &result {
        Err(_) => tally.errors += 1,
        Ok(FsReply::Data(bytes)) => tally.bytes_read += bytes.len(),
        Ok(FsReply::Written(count)) => tally.bytes_written += count,
        Ok(_) => {}
    }
    result
}

async fn file_program(mut services: Services, index: usize, ops: Vec<FileOp>, journal: Journal) -> ProgramResult {
    let directory = format!("/p{index}");
    let mut tally = Tally::default();
    let mut descriptors = Vec::new();
    perform(&mut services, FsRequest::Mkdir { path: directory.clone() }, &journal, &mut tally).await.ok();
    for op in &ops {
        let request = request(op, &directory, &descriptors);
        if let Ok(FsReply::Descriptor(fd)) = perform(&mut services, request, &journal, &mut tally).await {
            descriptors.push(fd);
        }
    }
    let Tally { operations, errors, bytes_read, bytes_written } = tally;
    let summary =
        format!("p{index}: {operations} operations, {errors} errors, {bytes_read} B read, {bytes_written} B written\n");
    services.print(&summary).await.map_err(|error| ProgramFault::failed(100, error.to_string()))?;
    Ok((errors % 7) as i32)
}

fn program(index: usize, ops: Vec<FileOp>, journal: Journal) -> ProgramFn {
    Box::new(move |services, _named| Box::pin(file_program(services, index, ops, journal)))
}

// ----- running both modes -----

fn priority(level: u8) -> Priority {
    Priority::new(level).expect("generated priorities are in range")
}

/// Everything a run showed that must not depend on the mode.
#[derive(Debug)]
struct Observed {
    outcome: Outcome,
    journals: Vec<Vec<String>>,
    console: BTreeMap<String, String>,
    files: BTreeMap<String, Vec<u8>>,
    /// Per program: its exit code, or its final state if it did not exit.
    exits: Vec<Result<i32, ProcessState>>,
    /// Mode-dependent by design: messages sent, and calls into in-kernel services.
    messages_sent: u64,
    service_calls: u64,
}

fn run(workload: &Workload, mode: Mode) -> Observed {
    let [name, console, block, file] = workload.server_priorities.map(priority);
    let servers = Servers {
        name: Some(name),
        console: Some(console),
        block: Some(BlockServerSpec {
            priority: block,
            blocks: DISK_BLOCKS,
            block_size: workload.block_size,
            latency_cycles: workload.latency_cycles,
        }),
        file: Some((
            file,
            FsConfig {
                metadata_blocks: METADATA_BLOCKS,
                cache_blocks: workload.cache_blocks,
                open_files_max: OPEN_FILES_MAX,
                ..FsConfig::default()
            },
        )),
        timer: None,
        pipe: None,
        supervisor: None,
        mq: None,
        socket: None,
    };
    let journals: Vec<Journal> = workload.programs.iter().map(|_| Journal::default()).collect();
    let programs = workload
        .programs
        .iter()
        .zip(&journals)
        .enumerate()
        .map(|(index, (plan, journal))| ProgramSpec {
            name: format!("p{index}"),
            priority: priority(plan.priority),
            is_server: false,
            name_server: true,
            may_register: Vec::new(),
            caps: Vec::new(),
            program: program(index, plan.ops.clone(), Rc::clone(journal)),
        })
        .collect();
    let kernel = KernelConfig { seed: workload.seed, ..KernelConfig::default() };
    let mut system = boot(SystemSpec { kernel, servers, objects: Vec::new(), programs, faults: Vec::new() }, mode);
    let outcome = system.kernel.run().clone();
    let exits = mksim_tests::programs::exit_codes(&system);
    let totals = system.kernel.totals();
    Observed {
        outcome,
        journals: journals.iter().map(|journal| journal.take()).collect(),
        console: system.console.borrow().by_process().clone(),
        files: system.files(),
        exits,
        messages_sent: totals.messages_sent.total(),
        service_calls: totals.service_calls,
    }
}

fn check_equivalence(workload: &Workload) -> Result<(), TestCaseError> {
    let microkernel = run(workload, Mode::Microkernel);
    let monolithic = run(workload, Mode::Monolithic);
    let seed = workload.seed;
    prop_assert_eq!(&microkernel.outcome, &Outcome::Completed, "microkernel mode, seed {}", seed);
    prop_assert_eq!(&monolithic.outcome, &Outcome::Completed, "monolithic mode, seed {}", seed);
    for (index, (left, right)) in microkernel.journals.iter().zip(&monolithic.journals).enumerate() {
        prop_assert_eq!(left, right, "replies to p{} differ (microkernel left), seed {}", index, seed);
    }
    prop_assert_eq!(&microkernel.console, &monolithic.console, "console output, seed {}", seed);
    prop_assert_eq!(&microkernel.exits, &monolithic.exits, "exit codes, seed {}", seed);
    prop_assert_eq!(&microkernel.files, &monolithic.files, "final files, seed {}", seed);
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn both_modes_observe_the_same_file_system(workload in workload()) {
        check_equivalence(&workload)?;
    }
}

/// The smallest workload on which the modes disagree. `p0` writes one block
/// and deletes the file; `p1` seeks one block into an empty file and writes
/// one byte. In microkernel mode `p1`'s write comes after the delete and its
/// hole reuses the freed block, showing `p0`'s bytes; in monolithic mode it
/// comes first and gets a fresh, zeroed block.
#[test]
fn a_hole_reads_as_zeros_in_both_modes() {
    let workload = Workload {
        seed: 0,
        block_size: 64,
        cache_blocks: 0,
        latency_cycles: 100,
        server_priorities: [1, 1, 1, 1],
        programs: vec![
            ProgramPlan {
                priority: 2,
                ops: vec![
                    FileOp::Open { path: "a", create: true },
                    FileOp::Write { descriptor: 0, text: "q".repeat(64) },
                    FileOp::Unlink { path: "a" },
                ],
            },
            ProgramPlan {
                priority: 2,
                ops: vec![
                    FileOp::Open { path: "a", create: true },
                    FileOp::Seek { descriptor: 0, offset: 64 },
                    FileOp::Write { descriptor: 0, text: "x".to_owned() },
                ],
            },
        ],
    };
    let mut expected = vec![0; 64];
    expected.push(b'x');
    for mode in [Mode::Microkernel, Mode::Monolithic] {
        let files = run(&workload, mode).files;
        assert_eq!(files.get("/p1/a"), Some(&expected), "{mode:?}");
    }
    check_equivalence(&workload).unwrap();
}

#[test]
fn a_multi_block_file_is_the_same_in_both_modes_and_only_the_microkernel_sends_messages() {
    let text: String = (0..300u32).map(|i| char::from(b'a' + (i % 26) as u8)).collect();
    let ops = vec![
        FileOp::Open { path: "a", create: true },
        FileOp::Write { descriptor: 0, text: text.clone() },
        FileOp::Seek { descriptor: 0, offset: 100 },
        FileOp::Read { descriptor: 0, len: 200 },
        FileOp::Close { descriptor: 0 },
        FileOp::Stat { path: "a" },
    ];
    let fs_operations = ops.len() as u64 + 1;
    let workload = Workload {
        seed: 7,
        block_size: 64,
        cache_blocks: 2,
        latency_cycles: 500,
        server_priorities: [6, 6, 5, 4],
        programs: vec![ProgramPlan { priority: 2, ops }],
    };
    let microkernel = run(&workload, Mode::Microkernel);
    let monolithic = run(&workload, Mode::Monolithic);

    assert_eq!(microkernel.outcome, Outcome::Completed);
    assert_eq!(monolithic.outcome, Outcome::Completed);
    // 300 bytes in 64-byte blocks: five blocks, the last one partly used.
    assert_eq!(microkernel.files.get("/p0/a").map(Vec::as_slice), Some(text.as_bytes()));
    assert_eq!(monolithic.files, microkernel.files);
    let read_back = format!("{:?}", Ok::<FsReply, ClientError>(FsReply::Data(text.as_bytes()[100..].to_vec())));
    assert!(microkernel.journals[0][4].ends_with(&read_back), "{:?}", microkernel.journals[0][4]);
    assert_eq!(monolithic.journals, microkernel.journals);
    assert_eq!(monolithic.console, microkernel.console);
    assert_eq!(monolithic.exits, vec![Ok(0)]);
    assert_eq!(microkernel.exits, vec![Ok(0)]);

    // Every file operation is at least a call and a reply in microkernel mode,
    // and an in-kernel service call (with no message at all) in monolithic mode.
    assert!(microkernel.messages_sent >= 2 * fs_operations, "{} messages", microkernel.messages_sent);
    assert_eq!(microkernel.service_calls, 0);
    assert_eq!(monolithic.messages_sent, 0);
    assert!(monolithic.service_calls >= fs_operations, "{} service calls", monolithic.service_calls);
}
