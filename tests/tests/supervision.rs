//! Dependency-aware supervision: the supervisor keeps its servers dependencies first,
//! restarts and asks them in that order, and does not kill a server for a missed heartbeat
//! while what it depends on is down; the scenario format checks the `depends_on` map.
//!
//! Each test runs a scenario (a file of `scenarios/` or a small one built here) and reads
//! the run report and the event log.

use mksim_core::run::{RunOptions, RunReport, run};
use mksim_core::scenario::Scenario;
use mksim_kernel::EventKind;
use mksim_servers::fault::{FaultKind, FaultSpec, Trigger};
use mksim_servers::system::Mode;
use std::path::Path;

fn load(file: &str) -> Scenario {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../scenarios").join(file);
    Scenario::load(&path.display().to_string()).unwrap_or_else(|error| panic!("{error}"))
}

fn parse(text: &str) -> Result<Scenario, String> {
    Scenario::parse(text, "supervision-test.ron").map_err(|error| error.to_string())
}

/// A system with the file server, the block driver and the console, every one supervised
/// with heartbeats, the supervisor's `depends_on` map given as RON, and one client.
fn supervised_system(depends_on: &str) -> Scenario {
    let text = format!(
        "Scenario(
            name: \"supervision-test\",
            servers: (
                file: (cache_blocks: 2),
                block: (blocks: 64, block_size: 512, latency_cycles: 2000),
                supervisor: (
                    restart: {{ \"fs\": Always, \"block\": Always, \"console\": Always }},
                    depends_on: {{ {depends_on} }},
                    backoff_cycles: 500,
                    heartbeat: (period_cycles: 20000, timeout_cycles: 8000),
                ),
            ),
            processes: [(name: \"client\", priority: 5, program: [
                Open(path: \"/a\", create: true, as: \"a\"),
                Write(fd: \"a\", text: \"kept\"),
                Sleep(60000),
                Close(\"a\"),
                Print(\"done\\n\"),
            ])],
        )"
    );
    parse(&text).unwrap_or_else(|error| panic!("{error}\n{text}"))
}

fn run_with(scenario: &Scenario, faults: Vec<FaultSpec>) -> RunReport {
    run(scenario, Mode::Microkernel, &RunOptions { faults: Some(faults), ..RunOptions::default() })
}

fn restarts_of(report: &RunReport, server: &str) -> u64 {
    report.reliability.restarts.get(server).copied().unwrap_or(0)
}

fn heartbeats(report: &RunReport) -> Vec<String> {
    mksim_tests::supervision::heartbeats(report).into_iter().map(|(_, server)| server).collect()
}

/// The servers restarted, in order.
fn restart_order(report: &RunReport) -> Vec<String> {
    let log = &report.log;
    log.events()
        .iter()
        .filter(|event| event.kind == EventKind::Restarted)
        .map(|event| log.process_name(event.process).to_owned())
        .collect()
}

fn exit_code(report: &RunReport, name: &str) -> Option<i32> {
    report.process(name).and_then(|process| process.exit_code)
}

#[test]
fn a_hung_driver_is_restarted_alone_and_the_file_server_keeps_the_editors_file_open() {
    let report = run(&load("driver_hang.ron"), Mode::Microkernel, &RunOptions::default());
    assert!(report.outcome.is_completed(), "{:?}", report.outcome);
    assert_eq!(restarts_of(&report, "block"), 1);
    assert_eq!(restarts_of(&report, "fs"), 0, "the file server waited on the driver; it was not hung");
    assert_eq!(exit_code(&report, "editor"), Some(0), "every operation after the hang worked");
    assert_eq!(report.files.get("/log.txt").map(Vec::as_slice), Some(&b"written before the hang and after it"[..]));
    // Left alone in the round that found the driver hung, the file server is asked again
    // once the driver is back.
    let restarted_at = report
        .log
        .events()
        .iter()
        .find(|event| event.kind == EventKind::Restarted)
        .map(|event| event.time)
        .expect("the driver was restarted");
    let asked_after: Vec<String> = mksim_tests::supervision::heartbeats(&report)
        .into_iter()
        .filter(|&(time, _)| time > restarted_at)
        .map(|(_, server)| server)
        .collect();
    assert!(asked_after.contains(&"fs".to_owned()), "{asked_after:?}");
}

#[test]
fn without_the_dependency_the_same_hang_also_kills_the_waiting_file_server() {
    let scenario = supervised_system("\"fs\": []");
    let faults = vec![FaultSpec { server: "block".into(), kind: FaultKind::Hang, trigger: Trigger::AtMessage(6) }];
    let report = run_with(&scenario, faults.clone());
    assert_eq!(restarts_of(&report, "block"), 1);
    assert_eq!(restarts_of(&report, "fs"), 1, "declared independent, the blocked file server is taken for hung");
    let report = run_with(&supervised_system(""), faults);
    assert_eq!((restarts_of(&report, "block"), restarts_of(&report, "fs")), (1, 0), "fs depends on block by default");
    assert_eq!(exit_code(&report, "client"), Some(0));
}

#[test]
fn a_driver_that_hangs_after_answering_its_heartbeat_is_found_when_the_file_server_is_silent() {
    // The fault campaign's ninth block request: the driver answers the round's heartbeat, then
    // hangs with the file server's transfer before the file server is asked.
    let faults = vec![FaultSpec { server: "block".into(), kind: FaultKind::Hang, trigger: Trigger::AtMessage(9) }];
    let report = run_with(&load("fault_campaign.ron"), faults);
    assert!(report.outcome.is_completed(), "{:?}", report.outcome);
    assert_eq!((restarts_of(&report, "block"), restarts_of(&report, "fs")), (1, 0));
    assert_eq!((exit_code(&report, "journal"), exit_code(&report, "reader")), (Some(0), Some(0)));
}

#[test]
fn heartbeats_and_restarts_go_dependencies_first() {
    // Alphabetical (the restart map's order) would be block, console, fs.
    let scenario = supervised_system("\"block\": [\"fs\"], \"fs\": [], \"console\": [\"block\"]");
    let report = run_with(&scenario, Vec::new());
    assert_eq!(heartbeats(&report)[..3], ["fs", "block", "console"]);
    let crash_all = ["console", "block", "fs"].map(|server| FaultSpec {
        server: server.into(),
        kind: FaultKind::Crash,
        trigger: Trigger::AtTime(30_000),
    });
    let report = run_with(&scenario, crash_all.to_vec());
    assert_eq!(restart_order(&report), ["fs", "block", "console"]);
    let report = run_with(&supervised_system("\"fs\": []"), crash_all.to_vec());
    assert_eq!(restart_order(&report), ["console", "block", "fs"], "without dependencies, in the order they died");
}

#[test]
fn bad_dependencies_are_refused_with_where_and_why() {
    let scenario = |depends_on: &str| {
        format!(
            "Scenario(
    name: \"bad\",
    servers: (
        file: (),
        supervisor: (
            restart: {{ \"fs\": Always, \"block\": Always, \"console\": Always }},
            depends_on: {{ {depends_on} }},
        ),
    ),
    processes: [],
)"
        )
    };
    for (depends_on, words) in [
        (
            "\"timer\": [\"block\"]",
            "supervision-test.ron:7:27: servers.supervisor.depends_on \"timer\": is not a server the supervisor looks after (\"block\", \"console\", \"fs\")",
        ),
        (
            "\"fs\": [\"name\"]",
            "supervision-test.ron:7:34: servers.supervisor.depends_on \"fs\": depends on \"name\", which the supervisor does not look after",
        ),
        ("\"fs\": [\"block\", \"fs\"]", "7:43: servers.supervisor.depends_on \"fs\": \"fs\" cannot depend on itself"),
        (
            "\"block\": [\"console\"], \"console\": [\"fs\"]",
            "7:27: servers.supervisor.depends_on \"block\": the dependencies go round in a cycle: \"block\" → \"console\" → \"fs\" → \"block\"",
        ),
    ] {
        let error = parse(&scenario(depends_on)).expect_err(depends_on);
        assert!(error.contains(words), "{depends_on}:\n{error}\nwanted: {words}");
    }
}
