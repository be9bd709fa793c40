//! A faultable, supervised name server: it crashes, the supervisor restarts it on the same
//! port and gives it back every registration, and nobody loses a capability. Each test runs
//! `scenarios/name_restart.ron` (or it with other faults) and reads the run report and the
//! event log.

use mksim_core::run::{RunOptions, RunReport, run};
use mksim_core::scenario::Scenario;
use mksim_kernel::{EventKind, OutcomeKind, ProcessId};
use mksim_servers::fault::{FaultKind, FaultSpec, Trigger};
use mksim_servers::system::Mode;
use mksim_userland::protocol::{NameRequest, Request, ServiceError, SimpleReply, decode, reply_label};
use std::collections::BTreeSet;
use std::path::Path;

const CRASH_AT: u64 = 60_000;

fn scenario() -> Scenario {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../scenarios/name_restart.ron");
    Scenario::load(&path.display().to_string()).unwrap_or_else(|error| panic!("{error}"))
}

fn run_in(mode: Mode, faults: Option<Vec<FaultSpec>>) -> RunReport {
    run(&scenario(), mode, &RunOptions { faults, ..RunOptions::default() })
}

fn exit_code(report: &RunReport, name: &str) -> Option<i32> {
    report.process(name).and_then(|process| process.exit_code)
}

/// A message the log recorded: when, from whom, to which process, with what label and data.
struct Seen {
    time: u64,
    sender: String,
    receiver: String,
    data: Vec<u8>,
}

/// Every message sent, in order.
fn messages(report: &RunReport) -> Vec<Seen> {
    let log = &report.log;
    log.events()
        .iter()
        .filter_map(|event| match event.kind {
            EventKind::MessageSent { message } => {
                let sent = log.message(message);
                let owner: Option<ProcessId> = log.object_info(sent.port).and_then(|info| info.owner);
                Some(Seen {
                    time: event.time,
                    sender: log.process_name(event.process).to_owned(),
                    receiver: owner.map(|owner| log.process_name(owner).to_owned()).unwrap_or_default(),
                    data: log.message_data(message).to_vec(),
                })
            }
            _ => None,
        })
        .collect()
}

/// The name requests `sender` sent, with their times.
fn name_requests(report: &RunReport, sender: &str) -> Vec<(u64, NameRequest)> {
    messages(report)
        .into_iter()
        .filter(|seen| seen.sender == sender && seen.receiver == "name")
        .filter_map(|seen| decode::<NameRequest>(&seen.data).map(|request| (seen.time, request)))
        .collect()
}

/// The name server's answers to `client`'s lookups, in order (a reply is delivered to the
/// caller: the delivery event names it).
fn lookup_answers(report: &RunReport, client: &str) -> Vec<SimpleReply> {
    let answer = reply_label(NameRequest::Lookup { name: String::new() }.label());
    let log = &report.log;
    log.events()
        .iter()
        .filter(|event| log.process_name(event.process) == client)
        .filter_map(|event| match event.kind {
            EventKind::MessageDelivered { message } if log.message(message).label == answer => {
                decode::<SimpleReply>(log.message_data(message))
            }
            _ => None,
        })
        .collect()
}

#[test]
fn a_client_keeps_using_the_file_server_it_reached_before_the_crash() {
    let report = run_in(Mode::Microkernel, None);
    assert!(report.outcome.is_completed(), "{:?}", report.outcome);
    assert_eq!(report.reliability.restarts.get("name"), Some(&1));
    assert_eq!(exit_code(&report, "writer"), Some(0));
    let writes_after: Vec<Seen> = messages(&report)
        .into_iter()
        .filter(|seen| seen.sender == "writer" && seen.receiver == "fs" && seen.time > CRASH_AT)
        .collect();
    assert_eq!(writes_after.len(), 2, "the second write and the close went straight to the file server");
    let fs_lookups_after: Vec<(u64, NameRequest)> = name_requests(&report, "writer")
        .into_iter()
        .filter(|(time, request)| *time > CRASH_AT && matches!(request, NameRequest::Lookup { name } if name == "fs"))
        .collect();
    assert!(fs_lookups_after.is_empty(), "the writer never needed the name server for fs again");
    assert_eq!(report.files.get("/diary").map(Vec::as_slice), Some(&b"before the crash; after it"[..]));
}

#[test]
fn a_lookup_during_the_restart_is_told_to_try_again_and_finds_the_name_after_the_retry() {
    let report = run_in(Mode::Microkernel, None);
    let lookups: Vec<(u64, NameRequest)> = name_requests(&report, "latecomer");
    let fs = NameRequest::Lookup { name: "fs".into() };
    let fs_lookups: Vec<u64> = lookups.iter().filter(|(_, request)| *request == fs).map(|&(time, _)| time).collect();
    assert_eq!(fs_lookups.len(), 2, "sent once while the name server was down, once again after the pause");
    assert!(fs_lookups[0] > CRASH_AT);
    let answers = lookup_answers(&report, "latecomer");
    assert_eq!(answers[0], SimpleReply::Error(ServiceError::TryAgain), "{answers:?}");
    assert_eq!(answers[1], SimpleReply::Done);
    let retried = report
        .log
        .events()
        .iter()
        .filter(|event| report.log.process_name(event.process) == "latecomer")
        .any(|event| matches!(event.kind, EventKind::OperationRetried { label } if label == fs.label()));
    assert!(retried, "the stub marked its second try");
    assert_eq!(exit_code(&report, "latecomer"), Some(0), "it then reached fs, echo, and was told ghost is not found");
}

#[test]
fn the_restart_rebuilt_exactly_the_registrations_the_name_server_had() {
    let report = run_in(Mode::Microkernel, None);
    let restored: BTreeSet<String> = name_requests(&report, "supervisor")
        .into_iter()
        .filter_map(|(_, request)| match request {
            NameRequest::Restore { name } => Some(name),
            _ => None,
        })
        .collect();
    // Published at boot: the console, the file server, and the block driver (supervised);
    // registered by a program before the crash: echo.
    let registered_by_programs: BTreeSet<String> = name_requests(&report, "echo")
        .into_iter()
        .filter(|&(time, _)| time < CRASH_AT)
        .filter_map(|(_, request)| match request {
            NameRequest::Register { name } => Some(name),
            _ => None,
        })
        .collect();
    assert_eq!(registered_by_programs, BTreeSet::from(["echo".to_owned()]));
    let expected: BTreeSet<String> =
        ["block", "console", "fs"].map(str::to_owned).into_iter().chain(registered_by_programs).collect();
    assert_eq!(restored, expected);
    let done = name_requests(&report, "supervisor")
        .into_iter()
        .filter(|(_, request)| *request == NameRequest::Restored)
        .count();
    assert_eq!(done, 1, "the replay ends once, after every name");
}

/// The scenario with its timed crash replaced by a crash at the name server's `request`th
/// request.
fn crash_at_request(request: u64) -> RunReport {
    let faults =
        vec![FaultSpec { server: "name".into(), kind: FaultKind::Crash, trigger: Trigger::AtMessage(request) }];
    run_in(Mode::Microkernel, Some(faults))
}

#[test]
fn a_name_server_crash_at_any_lookup_is_survived_by_every_client() {
    // Request 1 is echo's registration; the others are the clients' lookups.
    let quiet = run_in(Mode::Microkernel, Some(Vec::new()));
    let requests = messages(&quiet).into_iter().filter(|seen| seen.receiver == "name").count() as u64;
    assert!(requests >= 6, "{requests}");
    for request in 2..=requests {
        let report = crash_at_request(request);
        assert!(report.outcome.is_completed(), "crash at request {request}: {:?}", report.outcome);
        assert_eq!(report.reliability.restarts.get("name"), Some(&1), "crash at request {request}");
        for client in ["writer", "latecomer", "echo"] {
            let process = report.process(client).expect("the scenario's process");
            assert!(process.exit_code == Some(0) || client == "echo", "crash at request {request}: {client}");
            assert_eq!(process.fault, None, "crash at request {request}: {client}");
        }
    }
}

#[test]
fn a_registration_struck_by_the_crash_is_not_sent_again() {
    // Whether the dead incarnation registered the name is unknown, so the stub does not repeat
    // it (a second try could answer "already exists"): the program is told peer dead.
    let report = crash_at_request(1);
    assert!(report.outcome.is_completed(), "{:?}", report.outcome);
    let echo = report.process("echo").expect("the echo server");
    assert!(echo.fault.as_deref().is_some_and(|fault| fault.contains("peer dead")), "{:?}", echo.fault);
}

#[test]
fn a_hung_name_server_is_killed_by_its_heartbeat_and_restarted_alone() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../scenarios/name_restart.ron");
    let text = std::fs::read_to_string(&path).expect("the scenario file");
    let text = text
        .replace(
            "backoff_cycles: 1000)",
            "backoff_cycles: 1000, heartbeat: (period_cycles: 20000, timeout_cycles: 8000))",
        )
        .replace("kind: Crash, at: Time(60000)", "kind: Hang, at: Time(60000)");
    assert!(text.contains("heartbeat") && text.contains("Hang"), "the scenario changed: update this test");
    let scenario = Scenario::parse(&text, "name_hang.ron").unwrap_or_else(|error| panic!("{error}"));
    let report = run(&scenario, Mode::Microkernel, &RunOptions::default());
    assert!(report.outcome.is_completed(), "{:?}", report.outcome);
    // The servers that depend on it (every other one, by default) are not asked while it is
    // down, and none is taken for hung.
    assert_eq!(report.reliability.restarts, [("name".to_owned(), 1)].into_iter().collect());
    for client in ["writer", "latecomer"] {
        assert_eq!(exit_code(&report, client), Some(0), "{client}");
    }
}

#[test]
fn in_monolithic_mode_the_same_crash_is_a_kernel_panic() {
    let report = run_in(Mode::Monolithic, None);
    assert_eq!(report.outcome.kind(), OutcomeKind::KernelPanic);
}
