//! Every run is bounded: in steps, whatever its scripts do without the kernel, and in memory,
//! whatever it asks the kernel to hold. Each test runs a scenario that would otherwise run for
//! ever or take gigabytes, and checks that it ends quickly with an outcome that says why: the
//! library's report, and the binary's exit status and words.

mod binary;

use binary::{mksim_binary, workspace};
use mksim_core::run::{RunOptions, RunReport, run};
use mksim_core::scenario::Scenario;
use mksim_kernel::{Outcome, OutcomeKind};
use mksim_servers::system::Mode;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

// ----- scenarios -----

/// A scenario of one program `p` that runs `program`, with `kernel` settings.
fn one_program(name: &str, kernel: &str, program: &str) -> String {
    format!(
        "Scenario(
    name: \"{name}\",
    kernel: ({kernel}),
    processes: [
        (
            name: \"p\",
            priority: 5,
            program: [
                {program}
            ],
        ),
    ],
)
"
    )
}

/// The issue's loop that never reaches the kernel: a signal to a deleted capability, failing
/// as expected, four billion times four billion times.
const FAILING_LOOP: &str = "CreateNotification(\"e\"),
                Delete(\"e\"),
                Repeat(times: 4000000000, ops: [Repeat(times: 4000000000, ops: [Fails(error: \"`e` is not a capability\", op: Signal(to: \"e\", bits: 1))])]),";

/// The issue's empty nested loop.
const EMPTY_LOOP: &str = "Repeat(times: 4000000000, ops: [Repeat(times: 4000000000, ops: [])]),";

/// A loop whose body is a loop of no rounds.
const NOTHING_LOOP: &str = "Repeat(times: 4000000000, ops: [Repeat(times: 0, ops: [Yield])]),";

/// `ping` calls an echo server for ever (four billion times four billion), under `kernel`.
fn call_loop(kernel: &str) -> String {
    format!(
        "Scenario(
    name: \"call loop\",
    kernel: ({kernel}),
    servers: (console: false),
    objects: [(name: \"port\", kind: Endpoint, owner: \"pong\")],
    processes: [
        (name: \"pong\", priority: 10, server: true, program: [Echo(on: \"port\")]),
        (
            name: \"ping\",
            priority: 5,
            caps: [(name: \"pong\", object: \"port\", rights: \"s\", badge: 1)],
            program: [
                Repeat(times: 4000000000, ops: [Repeat(times: 4000000000, ops: [Call(to: \"pong\", label: 1, data: \"ping\")])]),
            ],
        ),
    ],
)
"
    )
}

/// The issue's 3 GB region, under a region limit today's validation accepts.
const HUGE_REGION: &str = "CreateRegion(as: \"r\", size: 3000000000),
                RegionWrite(region: \"r\", offset: 0, text: \"x\"),";

/// A region as large as validation lets a scenario make (64 MiB), for runs with a small budget.
const LARGE_REGION: &str = "CreateRegion(as: \"r\", size: 60000000),
                RegionWrite(region: \"r\", offset: 0, text: \"x\"),";
const LARGE_REGION_LIMITS: &str = "limits: (region_bytes_max: 67108864)";

/// The issue's 2,000 queued messages, at the largest size validation allows (60,000 bytes).
const QUEUED_MEGABYTES: &str = "CreateQueue(as: \"q\", capacity: 2000, policy: Block),
                Repeat(times: 2000, ops: [Send(to: \"q\", bytes: 60000)]),";

const QUEUED_LIMITS: &str = "limits: (message_bytes_max: 65536, queue_capacity_max: 4096)";
const QUEUED_BYTES: u64 = 60_000;

fn parse(text: &str) -> Scenario {
    Scenario::parse(text, "test.ron").unwrap_or_else(|error| panic!("{error}"))
}

fn run_in(text: &str, mode: Mode) -> RunReport {
    run(&parse(text), mode, &RunOptions::default())
}

fn with_memory_limit(text: &str, mode: Mode, bytes: u64) -> RunReport {
    run(&parse(text), mode, &RunOptions { memory_limit: Some(bytes), ..RunOptions::default() })
}

// ----- the binary -----

/// A folder of its own for one test's files, emptied first.
fn scratch(test: &str) -> PathBuf {
    let folder = Path::new(env!("CARGO_TARGET_TMPDIR")).join("bounds").join(test);
    let _ = std::fs::remove_dir_all(&folder);
    std::fs::create_dir_all(&folder).expect("the scratch folder can be made");
    folder
}

fn write_scenario(test: &str, text: &str) -> String {
    let path = scratch(test).join("test.ron");
    std::fs::write(&path, text).expect("the scenario can be written");
    path.to_str().expect("a UTF-8 path").to_owned()
}

/// Runs `mksim` with `args`; fails the test if it still runs after `limit`.
fn mksim_within(args: &[&str], limit: Duration) -> Output {
    static CALLS: AtomicUsize = AtomicUsize::new(0);
    let folder = scratch(&format!("output-{}", CALLS.fetch_add(1, Ordering::Relaxed)));
    let files = [folder.join("stdout"), folder.join("stderr")];
    let open = |path: &PathBuf| Stdio::from(std::fs::File::create(path).expect("an output file can be made"));
    let mut child = Command::new(mksim_binary())
        .args(args)
        .current_dir(workspace())
        .stdout(open(&files[0]))
        .stderr(open(&files[1]))
        .spawn()
        .expect("mksim starts");
    let started = Instant::now();
    let status = loop {
        if let Some(status) = child.try_wait().expect("mksim can be waited for") {
            break status;
        }
        if started.elapsed() > limit {
            child.kill().expect("mksim can be killed");
            child.wait().expect("mksim ends once killed");
            panic!("mksim {args:?} still ran after {limit:?}");
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    let [stdout, stderr] = files.map(|path| std::fs::read(path).expect("the output can be read"));
    Output { status, stdout, stderr }
}

/// The binary ran to the end of the run and reported it: status 1 (the scenario expected a
/// completed run), no panic. Returns standard output and standard error together.
#[track_caller]
fn ended_with_status_1(output: &Output) -> String {
    let text = format!("{}{}", String::from_utf8_lossy(&output.stdout), String::from_utf8_lossy(&output.stderr));
    assert_eq!(output.status.code(), Some(1), "{text}");
    assert!(!text.contains("panicked"), "{text}");
    text
}

/// Generous: these runs take well under a second in a debug build.
const TIME_LIMIT: Duration = Duration::from_secs(60);

// ----- steps a script takes without the kernel -----

#[test]
fn a_loop_that_never_reaches_the_kernel_ends_at_the_step_limit() {
    for program in [FAILING_LOOP, EMPTY_LOOP, NOTHING_LOOP] {
        let text = one_program("loop", "step_limit: 20000", program);
        for mode in [Mode::Microkernel, Mode::Monolithic] {
            let report = run_in(&text, mode);
            assert_eq!(report.outcome, Outcome::StepLimit { limit: 20_000 }, "{program} in {}", mode.name());
            assert_eq!(report.steps, 20_000);
            let process = report.process("p").expect("p is reported");
            assert_eq!((process.exit_code, &process.fault), (None, &None), "p was cut off, not faulted");
        }
    }
}

#[test]
fn an_operation_without_a_syscall_takes_one_step_and_one_with_a_syscall_no_more_than_its_syscall() {
    let steps = |program: &str| run_in(&one_program("steps", "", program), Mode::Microkernel).steps;
    let failing = |times: u32| {
        format!(
            "CreateNotification(\"e\"), Delete(\"e\"), Repeat(times: {times}, ops: [Fails(error: \"`e` is not a capability\", op: Signal(to: \"e\", bits: 1))]),"
        )
    };
    assert_eq!(steps(&failing(1001)) - steps(&failing(1)), 1000, "one step per failing signal");
    let empty = |times: u32| format!("Repeat(times: {times}, ops: []),");
    assert_eq!(steps(&empty(1001)) - steps(&empty(1)), 1000, "one step per round of an empty loop");
    // A yield is one syscall, one step: the operation around it takes none of its own.
    let yields = |times: u32| format!("Repeat(times: {times}, ops: [Yield]),");
    assert_eq!(steps(&yields(1001)) - steps(&yields(1)), 1000, "one step per yield");
}

#[test]
fn steps_without_a_syscall_change_nothing_in_the_log() {
    // The same syscalls with and without failing operations between them: the same events.
    let start = "CreateNotification(\"d\"), Delete(\"d\"), CreateNotification(\"e\"), Signal(to: \"e\", bits: 1),";
    let plain = one_program("log", "", &format!("{start} Yield,"));
    let failures =
        "Repeat(times: 50, ops: [Fails(error: \"`d` is not a capability\", op: Signal(to: \"d\", bits: 1))]),";
    let with_failures = one_program("log", "", &format!("{start} {failures} Yield,"));
    let (plain, with_failures) = (run_in(&plain, Mode::Microkernel), run_in(&with_failures, Mode::Microkernel));
    assert_eq!(plain.log.events(), with_failures.log.events());
    assert_eq!(with_failures.steps, plain.steps + 50);
}

#[test]
fn the_binary_ends_a_script_loop_at_the_step_limit_in_run_and_check() {
    for (test, program) in [("failing", FAILING_LOOP), ("empty", EMPTY_LOOP)] {
        // The default step limit: a million steps.
        let path = write_scenario(test, &one_program(test, "", program));
        let text = ended_with_status_1(&mksim_within(&["run", &path], TIME_LIMIT));
        assert!(text.contains("outcome: stopped at the step limit (1000000 steps)"), "{text}");
        let json = ended_with_status_1(&mksim_within(&["run", &path, "--json"], TIME_LIMIT));
        assert!(json.contains("\"outcome\": \"step_limit\""), "{json}");
        let check = ended_with_status_1(&mksim_within(&["check", &path], TIME_LIMIT));
        assert!(check.contains("the run stopped at the step limit"), "{check}");
        assert!(check.contains("0 passed, 1 failed"), "{check}");
    }
}

#[test]
fn a_fault_campaign_on_a_script_loop_ends() {
    let path = write_scenario("campaign", &one_program("campaign", "step_limit: 20000", FAILING_LOOP));
    let output = mksim_within(&["faults", &path, "--runs", "3", "--threads", "1"], TIME_LIMIT);
    let text = String::from_utf8_lossy(&output.stdout);
    assert_eq!(output.status.code(), Some(0), "{text}{}", String::from_utf8_lossy(&output.stderr));
    assert!(text.contains("runs"), "{text}");
}

#[test]
fn the_terminal_ui_prepares_a_script_loop_in_bounded_time() {
    let scenario = parse(&one_program("ui", "step_limit: 20000", FAILING_LOOP));
    let (sender, receiver) = std::sync::mpsc::channel();
    // On a thread of its own, as the UI's worker runs it, so a run that never ends fails the test.
    std::thread::spawn(move || {
        let app = mksim::ui::prepare(&scenario, &RunOptions::default());
        let outcomes: Vec<OutcomeKind> = app.runs.iter().map(|run| run.report.outcome.kind()).collect();
        let _ = sender.send(outcomes);
    });
    let outcomes = receiver.recv_timeout(TIME_LIMIT).expect("the UI's runs end");
    assert_eq!(outcomes, [OutcomeKind::StepLimit, OutcomeKind::StepLimit]);
}

// ----- memory -----

/// The run stopped at the memory limit: returns what it held.
#[track_caller]
fn memory_report(report: &RunReport) -> mksim_kernel::MemoryReport {
    match &report.outcome {
        Outcome::MemoryLimit(memory) => *memory,
        other => panic!("expected the memory limit, got {other:?}"),
    }
}

#[test]
fn a_region_larger_than_the_budget_is_refused_before_it_is_made() {
    // The issue's 3 GB region is refused when the scenario is read; the budget holds on its own
    // for the largest region a scenario may declare.
    let error = Scenario::parse(&one_program("region", "limits: (region_bytes_max: 4294967295)", HUGE_REGION), "x.ron");
    assert!(error.is_err_and(|error| error.message.contains("region_bytes_max")));
    let text = one_program("region", LARGE_REGION_LIMITS, LARGE_REGION);
    for mode in [Mode::Microkernel, Mode::Monolithic] {
        let report = with_memory_limit(&text, mode, 1 << 20);
        let memory = memory_report(&report);
        assert_eq!(memory.limit_bytes, 1 << 20);
        assert_eq!((memory.refused_bytes, memory.region_bytes), (60_000_000, 0));
        assert!(memory.total_bytes() > memory.limit_bytes);
        // Stopped at the syscall that asked: it never returned.
        let last = report.log.events().iter().rev().nth(1).expect("events before the end");
        assert!(report.log.describe(last).contains("create_region"), "{}", report.log.describe(last));
    }
}

#[test]
fn regions_declared_past_the_budget_stop_the_run_before_its_first_step() {
    let text = "Scenario(
    name: \"regions\",
    kernel: (memory_limit: 2500000),
    objects: [
        (name: \"r1\", kind: Region(size: 1048576), owner: \"p\"),
        (name: \"r2\", kind: Region(size: 1048576), owner: \"p\"),
        (name: \"r3\", kind: Region(size: 1048576), owner: \"p\"),
    ],
    processes: [(name: \"p\", priority: 5, program: [Print(\"never\")])],
)";
    let report = run_in(text, Mode::Microkernel);
    let memory = memory_report(&report);
    assert_eq!(memory.limit_bytes, 2_500_000);
    assert_eq!((memory.region_bytes, memory.refused_bytes), (2 * 1_048_576, 1_048_576));
    assert_eq!(report.steps, 0);
    assert!(report.console.is_empty());
}

#[test]
fn queued_messages_count_toward_the_budget() {
    let text = one_program("queue", QUEUED_LIMITS, QUEUED_MEGABYTES);
    let report = with_memory_limit(&text, Mode::Microkernel, 8_000_000);
    let memory = memory_report(&report);
    // Each message is held twice: in the log and in the queue.
    let queued = memory.message_bytes / QUEUED_BYTES;
    assert!(queued > 10 && memory.message_bytes == queued * QUEUED_BYTES, "{memory:?}");
    assert!(memory.log_bytes > memory.message_bytes && memory.log_bytes < memory.message_bytes + 100_000, "{memory:?}");
    assert_eq!(memory.refused_bytes, 2 * QUEUED_BYTES, "a message counts twice: in the log and in the queue");
    assert!(memory.total_bytes() > 8_000_000 && memory.total_bytes() - memory.refused_bytes <= 8_000_000);
}

#[test]
fn messages_leave_the_count_when_they_are_received() {
    let text = "Scenario(
    name: \"drained\",
    kernel: (limits: (message_bytes_max: 8192)),
    processes: [(
        name: \"p\",
        priority: 5,
        program: [
            CreateQueue(as: \"q\", capacity: 8, policy: Block),
            Repeat(times: 100, ops: [
                Send(to: \"q\", bytes: 8000), Send(to: \"q\", bytes: 10),
                Receive(on: \"q\"), Receive(on: \"q\"),
            ]),
            Send(to: \"q\", bytes: 5000),
        ],
    )],
)";
    let scenario = parse(text);
    let mut system = mksim_servers::system::boot(
        scenario.system_with_faults(scenario.kernel_in(Mode::Microkernel), Vec::new()),
        Mode::Microkernel,
    );
    assert!(system.kernel.run().is_completed(), "{:?}", system.kernel.outcome());
    // The last message is still queued: the program ended, the queue died with it and dropped it.
    assert_eq!(system.kernel.memory().message_bytes, 0);
    assert!(system.kernel.memory().log_bytes as usize >= 100 * 8010 + 5000);
}

#[test]
fn an_endless_call_loop_stops_at_the_memory_limit() {
    let text = call_loop("step_limit: 1000000000");
    for mode in [Mode::Microkernel, Mode::Monolithic] {
        let report = with_memory_limit(&text, mode, 1 << 20);
        let memory = memory_report(&report);
        assert_eq!(memory.refused_bytes, 0, "the log's growth passed the budget");
        // Checked every 1024 steps: a few events and a small message a step, so little over.
        assert!(memory.log_bytes > 1 << 20 && memory.log_bytes < (1 << 20) + (1 << 19), "{memory:?}");
        assert!(report.steps > 1000 && report.end_cycles > 0);
        assert_eq!(report.log.held_bytes() as u64, memory.log_bytes + event_bytes(1));
    }
}

/// The bytes `count` more events take in the log (the run's end is logged after the check).
fn event_bytes(count: u64) -> u64 {
    count * size_of::<mksim_kernel::Event>() as u64
}

#[test]
fn the_same_memory_limited_run_gives_the_same_log() {
    let text = call_loop("step_limit: 1000000000");
    let first = with_memory_limit(&text, Mode::Microkernel, 1 << 19);
    let second = with_memory_limit(&text, Mode::Microkernel, 1 << 19);
    assert_eq!(first.log, second.log);
    assert_eq!(first.steps, second.steps);
}

#[test]
fn a_scenario_may_set_and_expect_its_memory_limit() {
    let text = call_loop("step_limit: 1000000000, memory_limit: 600000")
        .replace("\n)\n", "\n    expect: (outcome: MemoryLimit),\n)\n");
    let scenario = parse(&text);
    assert_eq!(scenario.kernel.memory_limit_bytes, 600_000);
    let report = run(&scenario, Mode::Microkernel, &RunOptions::default());
    assert_eq!(memory_report(&report).limit_bytes, 600_000);
    let check = mksim_core::check::check(&scenario, &RunOptions::default());
    assert!(check.passed(), "{:?}", check.cases);
    // The command line's budget is over the scenario's.
    let report = with_memory_limit(&text, Mode::Microkernel, 1 << 20);
    assert_eq!(memory_report(&report).limit_bytes, 1 << 20);
}

#[test]
fn the_binary_reports_the_memory_limit_in_words_and_json_with_status_1() {
    let budget = "--memory-limit=1048576";
    let path = write_scenario("memory_call_loop", &call_loop("step_limit: 1000000000"));
    let text = ended_with_status_1(&mksim_within(&["run", &path, budget], TIME_LIMIT));
    assert!(text.contains("outcome: stopped at the memory limit (1048576 bytes)"), "{text}");
    assert!(text.contains("  held: event log "), "{text}");
    assert!(text.contains("the microkernel run stopped at the memory limit (1048576 bytes) after "), "{text}");
    let json = ended_with_status_1(&mksim_within(&["run", &path, budget, "--json"], TIME_LIMIT));
    let value: serde_json::Value =
        serde_json::from_str(&json[..json.rfind('}').expect("a JSON object") + 1]).expect("JSON");
    assert_eq!(value["outcome"], "memory_limit");
    assert_eq!(value["memory_limit"]["limit_bytes"], 1_048_576);
    assert!(value["memory_limit"]["total_bytes"].as_u64().expect("a number") > 1_048_576);
    assert!(value["steps"].as_u64().expect("a number") > 1000);
    let check = ended_with_status_1(&mksim_within(&["check", &path, budget], TIME_LIMIT));
    assert!(check.contains("the run stopped at the memory limit"), "{check}");
    ended_with_status_1(&mksim_within(&["compare", &path, budget], TIME_LIMIT));
    let output = mksim_within(&["export", &path, budget, "--format", "jsonl"], TIME_LIMIT);
    assert!(String::from_utf8_lossy(&output.stdout).contains("\"outcome\":\"memory_limit\""));
}

#[test]
fn the_binary_stops_the_issues_region_and_queue_cases() {
    let issue_region =
        write_scenario("issue_region", &one_program("region", "limits: (region_bytes_max: 4294967295)", HUGE_REGION));
    let refused = mksim_within(&["run", &issue_region], TIME_LIMIT);
    assert_eq!(refused.status.code(), Some(2), "the issue's 3 GB region is refused before the run");
    let region = write_scenario("region", &one_program("region", LARGE_REGION_LIMITS, LARGE_REGION));
    let text = ended_with_status_1(&mksim_within(&["run", &region, "--memory-limit", "1048576"], TIME_LIMIT));
    assert!(text.contains("60000000 bytes more were asked for"), "{text}");
    let queue = write_scenario("queue", &one_program("queue", QUEUED_LIMITS, QUEUED_MEGABYTES));
    let text = ended_with_status_1(&mksim_within(&["run", &queue, "--memory-limit", "8000000"], TIME_LIMIT));
    assert!(text.contains("messages in flight "), "{text}");
}
