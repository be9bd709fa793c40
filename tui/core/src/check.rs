//! Checking a scenario's expectations in both modes: what course staff grade with.
//!
//! It owns the verdict: each expectation of the scenario, and the agreement of
//! the two modes, as a passed or failed [`Case`]. Printing the cases and
//! choosing the exit status are the caller's.

use crate::run::{RunOptions, RunReport, run};
use crate::scenario::{Bounds, ExpectedOutcome, Scenario};
use mksim_kernel::Outcome;
use mksim_servers::system::Mode;
use serde::Serialize;

/// One expectation checked in one mode (or across both).
#[derive(Clone, PartialEq, Eq, Debug, Serialize)]
pub struct Case {
    /// What was checked (`exit code of ping`).
    pub name: String,
    /// The mode, or `None` for a check across both.
    pub mode: Option<&'static str>,
    /// Whether it held.
    pub passed: bool,
    /// What was expected and what was seen, when it failed.
    pub detail: String,
}

/// The cases of one scenario.
#[derive(Clone, PartialEq, Eq, Debug, Serialize)]
pub struct ScenarioCheck {
    /// The scenario's name.
    pub scenario: String,
    /// Its file.
    pub file: String,
    /// Every case, in order.
    pub cases: Vec<Case>,
}

impl ScenarioCheck {
    /// True when every case passed.
    pub fn passed(&self) -> bool {
        self.cases.iter().all(|case| case.passed)
    }
}

struct Cases<'a> {
    mode: Option<&'static str>,
    cases: &'a mut Vec<Case>,
}

impl Cases<'_> {
    fn add(&mut self, name: String, passed: bool, detail: impl FnOnce() -> String) {
        let detail = if passed { String::new() } else { detail() };
        self.cases.push(Case { name, mode: self.mode, passed, detail });
    }
}

/// True when a run that ended with `outcome` ended as `expected`.
pub fn outcome_matches(outcome: &Outcome, expected: ExpectedOutcome) -> bool {
    outcome.kind() == expected.kind()
}

/// A process that ended in a way its scenario did not say it would.
#[derive(Clone, PartialEq, Eq, Debug, Serialize)]
pub struct UnexpectedEnd {
    /// The process.
    pub process: String,
    /// How it ended, in words (`client faulted: failed with code 1: step 2 (call): peer dead`).
    pub how: String,
}

/// The processes of a run that ended as the scenario does not expect.
///
/// Servers aside (they wait for requests for ever), a process must have exited when the run
/// ends. One that faulted is expected only when `expect.faulted` lists it; one still alive
/// (blocked, or cut off mid-program) only when the run ended, as expected, in a deadlock or
/// at the step limit, which leave processes blocked. A kernel panic the scenario expects stops
/// every process, whatever it was doing, so it covers every process.
pub fn unexpected_ends(scenario: &Scenario, report: &RunReport) -> Vec<UnexpectedEnd> {
    let expected = outcome_matches(&report.outcome, scenario.expect.outcome_in(report.mode));
    if expected && matches!(report.outcome, Outcome::KernelPanic(_)) {
        return Vec::new();
    }
    let stopped_early_as_expected = expected && !report.outcome.is_completed();
    report
        .processes
        .iter()
        .filter(|process| !process.server && process.exit_code.is_none())
        .filter_map(|process| {
            let how = match &process.fault {
                Some(_) if scenario.expect.faulted.contains(&process.name) => return None,
                Some(fault) => format!("{} faulted: {fault}", process.name),
                None if stopped_early_as_expected => return None,
                None => format!("{} was left {}", process.name, process.state),
            };
            Some(UnexpectedEnd { process: process.name.clone(), how })
        })
        .collect()
}

fn check_bounds(cases: &mut Cases<'_>, bounds: Option<Bounds>, messages: u64) {
    let Some(bounds) = bounds else { return };
    if let Some(min) = bounds.min {
        cases.add(format!("at least {min} messages"), messages >= min, || format!("{messages} messages"));
    }
    if let Some(max) = bounds.max {
        cases.add(format!("at most {max} messages"), messages <= max, || format!("{messages} messages"));
    }
}

fn check_mode(scenario: &Scenario, report: &RunReport, cases: &mut Vec<Case>) {
    let mut cases = Cases { mode: Some(report.mode.name()), cases };
    let expect = &scenario.expect;
    let wanted = expect.outcome_in(report.mode);
    cases.add(format!("outcome: {}", wanted.kind().wording()), outcome_matches(&report.outcome, wanted), || {
        let mut detail = format!("the run {}", report.outcome.kind().ended());
        for process in report.processes.iter().filter(|process| process.fault.is_some()) {
            detail.push_str(&format!("; {} faulted: {}", process.name, process.fault.as_deref().unwrap_or("")));
        }
        detail
    });
    let unexpected = unexpected_ends(scenario, report);
    cases.add("no process faulted unexpectedly".into(), unexpected.is_empty(), || {
        let ends: Vec<&str> = unexpected.iter().map(|end| end.how.as_str()).collect();
        format!("{}; the scenario's expect does not say so", ends.join("; "))
    });
    if report.mode == Mode::Microkernel {
        for (server, count) in &expect.restarts {
            let seen = report.reliability.restarts.get(server).copied().unwrap_or(0);
            cases
                .add(format!("{server} restarted {count} times"), seen == *count, || format!("restarted {seen} times"));
        }
    }
    if wanted == ExpectedOutcome::KernelPanic {
        // Nothing a panicked system shows is to be relied on: its outcome is the expectation.
        return;
    }
    for (name, code) in &expect.exit_codes {
        let seen = report.process(name).and_then(|process| process.exit_code);
        cases.add(format!("exit code of {name} is {code}"), seen == Some(*code), || {
            let process = report.process(name);
            match (seen, process) {
                (Some(seen), _) => format!("it exited with {seen}"),
                (None, Some(process)) => match &process.fault {
                    Some(fault) => format!("it faulted: {fault}"),
                    None => format!("it is {}", process.state),
                },
                (None, None) => "no such process".into(),
            }
        });
    }
    for name in &expect.faulted {
        let fault = report.process(name).and_then(|process| process.fault.clone());
        cases.add(format!("{name} is faulted"), fault.is_some(), || {
            format!("it is {}", report.process(name).map_or("missing", |process| process.state.as_str()))
        });
    }
    for (name, text) in &expect.console {
        let seen = report.console.get(name).map_or("", String::as_str);
        cases.add(format!("console of {name}"), seen == text, || format!("expected {text:?}, got {seen:?}"));
    }
    for (path, text) in &expect.files {
        let seen = report.files.get(path).map(|bytes| String::from_utf8_lossy(bytes).into_owned());
        cases.add(format!("contents of {path}"), seen.as_deref() == Some(text.as_str()), || match seen {
            Some(seen) => format!("expected {text:?}, got {seen:?}"),
            None => "the file does not exist".into(),
        });
    }
    let bounds = match report.mode {
        Mode::Microkernel => expect.messages,
        Mode::Monolithic => expect.monolithic_messages,
    };
    check_bounds(&mut cases, bounds, report.metrics.messages);
}

/// Observable results must not depend on the mode (unless the scenario faults a process on purpose).
fn check_agreement(micro: &RunReport, mono: &RunReport, cases: &mut Vec<Case>) {
    let mut cases = Cases { mode: None, cases };
    cases.add("both modes print the same console output".into(), micro.console == mono.console, || {
        format!("microkernel {:?}, monolithic {:?}", micro.console, mono.console)
    });
    cases.add("both modes leave the same files".into(), micro.files == mono.files, || {
        format!("microkernel has {:?}, monolithic has {:?}", micro.files.keys(), mono.files.keys())
    });
    let exits = |report: &RunReport| -> Vec<(String, Option<i32>)> {
        report
            .processes
            .iter()
            .filter(|process| process.exit_code.is_some())
            .map(|p| (p.name.clone(), p.exit_code))
            .collect()
    };
    cases.add("both modes give the same exit codes".into(), exits(micro) == exits(mono), || {
        format!("microkernel {:?}, monolithic {:?}", exits(micro), exits(mono))
    });
}

/// Runs `scenario` in both modes and checks every expectation.
pub fn check(scenario: &Scenario, options: &RunOptions) -> ScenarioCheck {
    let mut micro = run(scenario, Mode::Microkernel, options);
    // Nothing here reads the log, and a long run's log is most of its memory: it goes before the
    // second run, so a check holds one run's budget at a time (see `--memory-limit`).
    micro.log = Default::default();
    let mono = run(scenario, Mode::Monolithic, options);
    let mut cases = Vec::new();
    check_mode(scenario, &micro, &mut cases);
    check_mode(scenario, &mono, &mut cases);
    if scenario.expect.faulted.is_empty() && scenario.faults.is_empty() {
        check_agreement(&micro, &mono, &mut cases);
    }
    ScenarioCheck { scenario: scenario.name.clone(), file: scenario.file.clone(), cases }
}
