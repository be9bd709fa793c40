//! The scenario files in `scenarios/` tell the story of microkernel IPC, and
//! each is also a test: these tests hold every file to its own expectations
//! in both modes, check that runs are deterministic, keep snapshots of the
//! traces people read, and check the behaviour each file is there to show.

use mksim_core::check::check;
use mksim_core::export::trace_hash;
use mksim_core::report::{comparison, message_trace, summary};
use mksim_core::run::{RunOptions, RunReport, run};
use mksim_core::scenario::Scenario;
use mksim_kernel::message::{MessageId, MessageKind};
use mksim_kernel::{EventKind, EventLog, Outcome};
use mksim_servers::system::Mode;
use mksim_tests::scenarios::{files as scenario_files, folder as scenarios_folder};
use std::path::Path;

const MODES: [Mode; 2] = [Mode::Microkernel, Mode::Monolithic];

fn load_file(path: &Path) -> Scenario {
    Scenario::load(&path.display().to_string()).unwrap_or_else(|error| panic!("{error}"))
}

/// A scenario from `scenarios/` by file name.
fn load(file: &str) -> Scenario {
    load_file(&scenarios_folder().join(file))
}

fn run_file(file: &str, mode: Mode) -> RunReport {
    run(&load(file), mode, &RunOptions::default())
}

/// What every message said, in the order they were sent.
fn message_contents(log: &EventLog) -> Vec<String> {
    (0..log.messages().len()).map(|index| log.message_content(MessageId(index as u32))).collect()
}

/// The messages sent between the request that starts with `request` and the reply to it.
fn messages_during(log: &EventLog, request: &str, occurrence: usize) -> Vec<String> {
    let contents = message_contents(log);
    let start = contents
        .iter()
        .enumerate()
        .filter(|(_, content)| content.starts_with(request))
        .map(|(index, _)| index)
        .nth(occurrence)
        .unwrap_or_else(|| panic!("no request #{occurrence} starting with {request:?} in {contents:#?}"));
    let operation = request.split('(').next().expect("split yields at least one part");
    let answer = format!("{operation} →");
    let end = (start + 1..contents.len())
        .find(|&index| {
            log.messages()[index].kind == MessageKind::Reply
                && log.messages()[index].answers() == Some(MessageId(start as u32))
        })
        .unwrap_or_else(|| panic!("request {:?} was never answered", contents[start]));
    assert!(contents[end].starts_with(&answer), "{:?} does not answer {:?}", contents[end], contents[start]);
    contents[start + 1..end].to_vec()
}

fn block_reads(contents: &[String]) -> Vec<&String> {
    contents.iter().filter(|content| content.starts_with("block.read(")).collect()
}

// ----- every file passes its own checks -----

#[test]
fn every_scenario_file_passes_its_checks_in_both_modes() {
    let mut failures = Vec::new();
    for path in scenario_files() {
        let scenario = match Scenario::load(&path.display().to_string()) {
            Ok(scenario) => scenario,
            Err(error) => {
                failures.push(format!("{error}"));
                continue;
            }
        };
        let result = check(&scenario, &RunOptions::default());
        for mode in MODES {
            let cases = result.cases.iter().filter(|case| case.mode == Some(mode.name())).count();
            if cases == 0 {
                failures.push(format!("{}: no case was checked in {} mode", path.display(), mode.name()));
            }
        }
        failures.extend(result.failures().into_iter().map(|failure| format!("{}: {failure}", path.display())));
    }
    assert!(failures.is_empty(), "failing cases:\n{}", failures.join("\n"));
}

// ----- determinism -----

#[test]
fn every_scenario_gives_the_same_log_and_trace_hash_when_run_twice() {
    for path in scenario_files() {
        let scenario = load_file(&path);
        for mode in MODES {
            let first = run(&scenario, mode, &RunOptions::default());
            let second = run(&scenario, mode, &RunOptions::default());
            let context = format!("{} in {} mode", path.display(), mode.name());
            assert_eq!(trace_hash(&first.log), trace_hash(&second.log), "{context}: trace hashes differ");
            assert!(first.log == second.log, "{context}: event logs differ");
            assert_eq!(first.metrics, second.metrics, "{context}");
            assert_eq!(first.steps, second.steps, "{context}");
            assert_eq!(first.console, second.console, "{context}");
            assert_eq!(first.files, second.files, "{context}");
        }
    }
}

#[test]
fn every_scenario_still_meets_its_expectations_under_another_seed() {
    let options = RunOptions { seed: Some(0x5eed_1234_abcd), ..RunOptions::default() };
    let mut failures = Vec::new();
    for path in scenario_files() {
        let scenario = load_file(&path);
        for mode in MODES {
            let report = run(&scenario, mode, &options);
            assert_eq!(report.seed, 0x5eed_1234_abcd, "the seed override did not reach the kernel");
            assert!(!matches!(report.outcome, Outcome::StepLimit { .. }), "{} hit the step limit", path.display());
        }
        let result = check(&scenario, &options);
        failures.extend(result.failures().into_iter().map(|failure| format!("{}: {failure}", path.display())));
    }
    assert!(failures.is_empty(), "failing cases under seed 0x5eed_1234_abcd:\n{}", failures.join("\n"));
}

// ----- snapshots of what people read -----

#[test]
fn the_hello_trace_is_a_lookup_then_one_call() {
    insta::assert_snapshot!("hello_trace", message_trace(&run_file("hello.ron", Mode::Microkernel).log));
}

#[test]
fn the_ping_pong_trace_is_three_round_trips() {
    insta::assert_snapshot!("ping_pong_trace", message_trace(&run_file("ping_pong.ron", Mode::Microkernel).log));
}

#[test]
fn the_file_io_trace_shows_the_file_server_and_the_disk() {
    insta::assert_snapshot!("file_io_trace", message_trace(&run_file("file_io.ron", Mode::Microkernel).log));
}

#[test]
fn the_deadlock_trace_ends_in_a_deadlock() {
    insta::assert_snapshot!("deadlock_trace", message_trace(&run_file("deadlock.ron", Mode::Microkernel).log));
}

#[test]
fn the_driver_restart_trace_shows_the_crash_the_restart_and_the_retried_transfer() {
    insta::assert_snapshot!(
        "driver_restart_trace",
        message_trace(&run_file("driver_restart.ron", Mode::Microkernel).log)
    );
}

#[test]
fn the_same_driver_crash_in_monolithic_mode_is_a_kernel_panic_that_loses_the_editor() {
    insta::assert_snapshot!(
        "driver_restart_monolithic_summary",
        summary(&run_file("driver_restart.ron", Mode::Monolithic))
    );
}

#[test]
fn the_file_io_comparison_table() {
    let micro = run_file("file_io.ron", Mode::Microkernel);
    let mono = run_file("file_io.ron", Mode::Monolithic);
    insta::assert_snapshot!("file_io_comparison", comparison(&micro, &mono));
}

#[test]
fn the_driver_restart_comparison_has_no_ratios_after_the_monolithic_panic() {
    let micro = run_file("driver_restart.ron", Mode::Microkernel);
    let mono = run_file("driver_restart.ron", Mode::Monolithic);
    insta::assert_snapshot!("driver_restart_comparison", comparison(&micro, &mono));
}

// ----- the behaviour each file is there to show -----

#[test]
fn file_io_rereading_just_written_data_hits_the_cache() {
    let report = run_file("file_io.ron", Mode::Microkernel);
    // The first read of a.txt comes right after writing it: the block is in the cache.
    let first_read = messages_during(&report.log, "fs.read(", 0);
    assert!(first_read.is_empty(), "a cache hit must not call the block server, but the read sent {first_read:?}");
}

#[test]
fn file_io_reading_a_file_again_after_the_cache_moved_on_misses() {
    let report = run_file("file_io.ron", Mode::Microkernel);
    let log = &report.log;
    // The block a.txt's data went to: the first block written while writing a.txt.
    let write = messages_during(log, "fs.write(", 0);
    let data_block = write
        .iter()
        .find_map(|content| content.strip_prefix("block.write("))
        .and_then(|rest| rest.split(')').next())
        .unwrap_or_else(|| panic!("writing a.txt wrote no block: {write:?}"))
        .to_owned();
    // Writing b.txt pushed it out of the two-block cache, so reading a.txt again costs a disk read.
    let reread = messages_during(log, "fs.read(", 1);
    let reads = block_reads(&reread);
    assert_eq!(reads.len(), 1, "the second read of a.txt must miss exactly once: {reread:?}");
    assert_eq!(reads[0], &format!("block.read({data_block})"));
    // The miss waits for the disk: its completion interrupt arrives during the read.
    let interrupts = log.events().iter().filter(|event| matches!(event.kind, EventKind::Interrupt { .. })).count();
    assert!(interrupts >= 1, "the disk never interrupted");
}

#[test]
fn file_io_misses_are_counted_in_block_read_messages() {
    let report = run_file("file_io.ron", Mode::Microkernel);
    let contents = message_contents(&report.log);
    let reads = block_reads(&contents);
    // Mounting and the first mkdir read blocks 0 to 3; the reread of a.txt misses once more.
    assert_eq!(reads.len(), 5, "block reads: {reads:?}");
    let fs_reads = &report.per_operation["fs.read"];
    assert_eq!(fs_reads.count, 2);
    // A hit is one round trip (2 messages); the miss adds a round trip to the block server (2 more).
    assert_eq!(fs_reads.messages, 2 + 4, "{fs_reads:?}");
    let monolithic = run_file("file_io.ron", Mode::Monolithic);
    assert_eq!(block_reads(&message_contents(&monolithic.log)).len(), 0, "monolithic mode sends no block messages");
}

#[test]
fn in_monolithic_mode_file_operations_send_no_messages() {
    let mono = run_file("file_io.ron", Mode::Monolithic);
    let micro = run_file("file_io.ron", Mode::Microkernel);
    assert_eq!(mono.per_operation["fs.read"].count, 2);
    assert_eq!(mono.per_operation["fs.read"].messages, 0);
    assert_eq!(mono.metrics.messages, 0, "no message at all in monolithic file_io");
    let fs_operations: Vec<&String> = micro.per_operation.keys().filter(|name| name.starts_with("fs.")).collect();
    assert!(fs_operations.len() >= 8, "file_io makes many kinds of fs operation: {fs_operations:?}");
    for name in fs_operations {
        let (micro_stats, mono_stats) = (&micro.per_operation[name], &mono.per_operation[name]);
        assert_eq!(micro_stats.count, mono_stats.count, "{name} is made as often in both modes");
        assert_eq!(mono_stats.messages, 0, "{name} sent messages in monolithic mode");
        assert!(
            micro_stats.messages >= 2 * micro_stats.count,
            "{name}: a request and a reply at least per operation in microkernel mode, got {micro_stats:?}"
        );
    }
    // Both modes still agree on what the program saw.
    assert_eq!(micro.console, mono.console);
    assert_eq!(micro.files, mono.files);
}

/// Who crossed the judge's finish line, in order.
fn finish_order(file: &str) -> Vec<String> {
    let report = run_file(file, Mode::Microkernel);
    assert_eq!(report.outcome, Outcome::Completed, "{file}\n{}", summary(&report));
    for name in ["low", "high", "medium", "judge"] {
        let process = report.process(name).unwrap_or_else(|| panic!("{file} has no process {name}"));
        assert_eq!(process.exit_code, Some(0), "{file}: {name} did not finish cleanly: {:?}", process.fault);
    }
    let log = &report.log;
    log.messages()
        .iter()
        .enumerate()
        .filter(|(_, record)| record.kind == MessageKind::Async)
        .filter(|(_, record)| {
            log.object_info(record.port).and_then(|info| info.owner).map(|owner| log.process_name(owner))
                == Some("judge")
        })
        .map(|(index, _)| String::from_utf8_lossy(log.message_data(MessageId(index as u32))).into_owned())
        .collect()
}

#[test]
fn without_priority_inheritance_medium_finishes_before_high() {
    assert_eq!(finish_order("priority_inversion.ron"), ["medium", "high"]);
}

#[test]
fn with_priority_inheritance_high_finishes_before_medium() {
    assert_eq!(finish_order("priority_inheritance.ron"), ["high", "medium"]);
}

#[test]
fn with_priority_inheritance_the_server_runs_at_the_high_clients_priority() {
    let changes = |file: &str| {
        let report = run_file(file, Mode::Microkernel);
        let log = &report.log;
        log.events()
            .iter()
            .filter(|event| log.process_name(event.process) == "server")
            .filter(|event| matches!(event.kind, EventKind::PriorityChanged { .. }))
            .count()
    };
    assert_eq!(changes("priority_inversion.ron"), 0);
    assert!(changes("priority_inheritance.ron") >= 1, "the server never inherited a priority");
}

#[test]
fn the_deadlock_report_names_alice_and_bob_as_a_cycle() {
    for mode in MODES {
        let report = run_file("deadlock.ron", mode);
        let Outcome::Deadlock(deadlock) = &report.outcome else {
            panic!("expected a deadlock in {} mode, got {:?}", mode.name(), report.outcome);
        };
        let cycle: Vec<&str> = deadlock.cycle_members().map(|blocked| blocked.name.as_str()).collect();
        assert_eq!(cycle, ["alice", "bob"], "in {} mode", mode.name());
        let alice = deadlock.cycle_members().find(|blocked| blocked.name == "alice").expect("alice is in the cycle");
        assert!(alice.description.contains("bob"), "alice waits for bob: {}", alice.description);
        let text = summary(&report);
        assert!(text.contains("outcome: deadlock"), "{text}");
        for name in ["alice", "bob"] {
            let line = text.lines().find(|line| line.trim_start().starts_with(name)).unwrap_or_else(|| {
                panic!("the summary does not list {name}:\n{text}");
            });
            assert!(line.contains("wait-for cycle"), "{line}");
        }
    }
}
