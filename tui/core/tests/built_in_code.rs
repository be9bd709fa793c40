//! A scenario built in code, with no RON text: made of the raw types, checked by
//! `Scenario::try_from` as a file is checked, and run in both modes like any other.

use mksim_core::check::check;
use mksim_core::export::trace_hash;
use mksim_core::run::{RunOptions, RunReport, run};
use mksim_core::scenario::{
    ExpectedOutcome, Op, RawCap, RawObject, RawObjectKind, RawParam, RawProcess, RawProgram, RawScenario, RawServers,
    Scenario, ScenarioError,
};
use mksim_kernel::Outcome;
use mksim_servers::system::Mode;
use std::collections::BTreeMap;
use std::path::Path;

const MODES: [Mode; 2] = [Mode::Microkernel, Mode::Monolithic];

/// `Call(to: TO, data: DATA, expect: EXPECT)`.
fn call(to: &str, data: &str, expect: &str) -> Op {
    Op::Call {
        to: to.into(),
        label: 0,
        data: Some(data.into()),
        bytes: None,
        pass: Vec::new(),
        timeout: None,
        expect: Some(expect.into()),
        expect_bytes: None,
        caps_as: Vec::new(),
    }
}

/// `Receive(on: ON, expect: EXPECT, as: NAME)`, with `expect_badge` and `from_badge`.
fn receive(on: &str, from_badge: Option<u64>, badge: u64, expect: &str, name: &str) -> Op {
    Op::Receive {
        on: on.into(),
        name_as: Some(name.into()),
        from_badge,
        nonblocking: false,
        timeout: None,
        expect: Some(expect.into()),
        expect_badge: Some(badge),
        caps_as: Vec::new(),
    }
}

/// `Reply(to: TO, data: DATA)`.
fn reply(to: &str, data: &str) -> Op {
    Op::Reply { to: to.into(), label: 0, data: Some(data.into()), bytes: None, pass: Vec::new() }
}

/// A capability to `object` with the rights `s` and `badge`.
fn send_cap(name: &str, object: &str, badge: u64) -> RawCap {
    RawCap { name: name.into(), object: object.into(), rights: "s".into(), badge }
}

/// An echo server and a client that calls it twice and prints what it got back.
fn echo() -> RawScenario {
    let mut raw = RawScenario {
        name: "echo in code".into(),
        description: "A client calls an echo server twice and prints both answers.".into(),
        objects: vec![RawObject { name: "service".into(), kind: RawObjectKind::Endpoint, owner: "echo".into() }],
        processes: vec![
            RawProcess {
                server: true,
                ..RawProcess::new("echo", 3, vec![Op::Echo { on: "service".into(), times: Some(2) }])
            },
            RawProcess {
                caps: vec![send_cap("echo", "service", 0)],
                ..RawProcess::new(
                    "client",
                    8,
                    vec![
                        call("echo", "one", "one"),
                        Op::Print("got one\n".into()),
                        call("echo", "two", "two"),
                        Op::Print("got two\n".into()),
                    ],
                )
            },
        ],
        ..RawScenario::default()
    };
    raw.expect.outcome = Some(ExpectedOutcome::Completed);
    raw.expect.console = BTreeMap::from([("client".into(), "got one\ngot two\n".into())]);
    raw.expect.exit_codes = BTreeMap::from([("client".into(), 0)]);
    raw
}

fn built(raw: RawScenario) -> Scenario {
    Scenario::try_from(raw).unwrap_or_else(|error| panic!("{error}"))
}

fn refused(raw: RawScenario) -> ScenarioError {
    match Scenario::try_from(raw) {
        Ok(scenario) => panic!("{} was accepted", scenario.name),
        Err(error) => error,
    }
}

#[test]
fn a_scenario_built_in_code_runs_in_both_modes_with_its_console_output() {
    let scenario = built(echo());
    assert_eq!(scenario.file, "", "a scenario built in code has no file");
    assert!(scenario.params.is_empty());
    for mode in MODES {
        let report: RunReport = run(&scenario, mode, &RunOptions::default());
        assert_eq!(report.outcome, Outcome::Completed, "{} mode", mode.name());
        assert_eq!(report.console.get("client").map(String::as_str), Some("got one\ngot two\n"), "{}", mode.name());
        let client = report.processes.iter().find(|process| process.name == "client").expect("the client ran");
        assert_eq!(client.exit_code, Some(0), "{} mode", mode.name());
        assert_eq!(client.fault, None, "{} mode", mode.name());
        assert!(report.metrics.messages >= 4, "two calls and two replies, {} mode", mode.name());
    }
}

#[test]
fn a_scenario_built_in_code_passes_its_own_expectations_in_both_modes() {
    let result = check(&built(echo()), &RunOptions::default());
    for mode in MODES {
        assert!(result.cases.iter().any(|case| case.mode == Some(mode.name())), "no case in {} mode", mode.name());
    }
    let failed: Vec<_> = result.cases.iter().filter(|case| !case.passed).collect();
    assert!(failed.is_empty(), "{failed:#?}");
}

/// `scenarios/badges.ron`, built in code.
fn badges() -> RawScenario {
    let mut raw = RawScenario {
        name: "badges".into(),
        description: "Two clients call one server; the server tells them apart by badge and serves badge 2 first."
            .into(),
        servers: RawServers { console: false, ..RawServers::default() },
        objects: vec![RawObject { name: "service".into(), kind: RawObjectKind::Endpoint, owner: "server".into() }],
        processes: vec![
            RawProcess::new(
                "server",
                3,
                vec![
                    receive("service", Some(2), 2, "from two", "second"),
                    reply("second", "hello two"),
                    receive("service", None, 1, "from one", "first"),
                    reply("first", "hello one"),
                ],
            ),
            RawProcess {
                caps: vec![send_cap("server", "service", 1)],
                ..RawProcess::new("one", 8, vec![call("server", "from one", "hello one")])
            },
            RawProcess {
                caps: vec![send_cap("server", "service", 2)],
                ..RawProcess::new("two", 7, vec![call("server", "from two", "hello two")])
            },
        ],
        ..RawScenario::default()
    };
    raw.expect.outcome = Some(ExpectedOutcome::Completed);
    raw.expect.exit_codes = BTreeMap::from([("server".into(), 0), ("one".into(), 0), ("two".into(), 0)]);
    raw
}

#[test]
fn a_scenario_built_in_code_runs_exactly_as_the_same_scenario_read_from_its_file() {
    let file = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../scenarios/badges.ron");
    let from_file = Scenario::load(&file.display().to_string()).unwrap_or_else(|error| panic!("{error}"));
    let in_code = built(badges());
    assert_eq!(in_code.expect, from_file.expect);
    for mode in MODES {
        let (file_run, code_run) =
            (run(&from_file, mode, &RunOptions::default()), run(&in_code, mode, &RunOptions::default()));
        assert_eq!(code_run.outcome, Outcome::Completed, "{} mode", mode.name());
        assert_eq!(trace_hash(&code_run.log), trace_hash(&file_run.log), "{} mode", mode.name());
        assert_eq!(code_run.log.render_text(), file_run.log.render_text(), "{} mode", mode.name());
    }
}

#[test]
fn a_mistake_in_code_is_refused_with_the_words_a_file_gets_and_no_place() {
    let mut raw = echo();
    raw.processes[1].priority = 40.into();
    let error = refused(raw);
    assert_eq!((error.file.as_str(), error.line, error.column), ("", 0, 0));
    assert_eq!(error.item, "process \"client\", field `priority`");
    assert_eq!(error.message, "`priority` must be a whole number from 0 to 31");
    assert_eq!(
        error.to_string(),
        "process \"client\", field `priority`: `priority` must be a whole number from 0 to 31"
    );
}

#[test]
fn an_operation_refused_in_code_is_named_by_its_step_and_kind() {
    let mut raw = echo();
    let RawProgram::Ops(ops) = &mut raw.processes[1].program else { panic!("the client runs operations") };
    ops[2] = call("nobody", "two", "two");
    let error = refused(raw);
    assert_eq!(error.item, "process \"client\", step 3 (Call), field `to`", "{error}");
    assert!(error.message.contains("nobody"), "{error}");
    assert_eq!(error.line, 0, "{error}");
}

#[test]
fn a_scenario_without_processes_is_refused_in_code_as_in_a_file() {
    let error = refused(RawScenario { name: "empty".into(), ..RawScenario::default() });
    assert_eq!(error.item, "processes");
    assert_eq!(error.message, "a scenario needs at least one process");
}

#[test]
fn parameters_declared_in_code_are_refused() {
    let mut raw = echo();
    raw.params.insert("size".into(), RawParam::Unsigned(8));
    let error = refused(raw);
    assert_eq!(error.item, "params");
    assert!(error.message.contains("\"size\""), "{error}");
}
