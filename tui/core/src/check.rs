//! Checking a scenario's expectations in both modes: what course staff grade with.
//!
//! It owns the verdict: each expectation of the scenario, and the agreement of
//! the two modes, as a passed or failed [`Case`], and the points each case earns.
//! Printing the cases and choosing the exit status are the caller's.
//!
//! Only what the scenario's `expect` writes earns points ([`CaseKind::Expectation`]): each
//! item once, whatever the number of modes it is checked in, and only when it holds in all of
//! them. What every run must show though `expect` does not say it ([`CaseKind::Implicit`]: the
//! default outcome, no process faulted unexpectedly) and the agreement of the modes
//! ([`CaseKind::Agreement`]) must pass for the scenario to pass, but earn nothing: a program
//! that does nothing meets them as well as any.

use crate::run::{RunOptions, RunReport, run};
use crate::scenario::{Bounds, Expectations, ExpectedOutcome, Scenario};
use mksim_kernel::Outcome;
use mksim_servers::system::Mode;
use serde::{Serialize, Serializer};

/// What a case checks, and so whether it earns points.
#[derive(Clone, Copy, PartialEq, Eq, Debug, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum CaseKind {
    /// An item the scenario's `expect` writes: it earns its field's points.
    Expectation,
    /// What every run must show though `expect` does not say it: no points.
    Implicit,
    /// Both modes agree: no points.
    Agreement,
}

impl CaseKind {
    /// Its name in reports: `expectation`, `implicit`, `agreement`.
    pub fn name(self) -> &'static str {
        match self {
            CaseKind::Expectation => "expectation",
            CaseKind::Implicit => "implicit",
            CaseKind::Agreement => "agreement",
        }
    }
}

/// One thing checked: an expectation in every mode it is checked in, an implicit check in one
/// mode, or an agreement between the modes.
#[derive(Clone, PartialEq, Eq, Debug, Serialize)]
pub struct Case {
    /// What was checked (`exit code of ping is 0`).
    pub name: String,
    /// The mode it was checked in, or `None` for both: each of them for an expectation, the
    /// two side by side for an agreement. JSON says `"both"`.
    #[serde(serialize_with = "mode_or_both")]
    pub mode: Option<&'static str>,
    /// What it is for.
    pub kind: CaseKind,
    /// The field of `expect` it comes from (`console`), for an expectation.
    pub field: Option<&'static str>,
    /// Whether it held (in every mode it was checked in).
    pub passed: bool,
    /// The points it earned: all of `max_points` when it held, else none.
    pub points: u64,
    /// The points it is worth: its field's for an expectation, 0 for the others.
    pub max_points: u64,
    /// What was expected and what was seen, when it failed (each mode's, `[monolithic] ...`,
    /// when the modes saw different things).
    pub detail: String,
}

fn mode_or_both<S: Serializer>(mode: &Option<&'static str>, serializer: S) -> Result<S::Ok, S::Error> {
    serializer.serialize_str(mode.unwrap_or("both"))
}

/// The cases of one scenario.
#[derive(Clone, PartialEq, Eq, Debug, Serialize)]
pub struct ScenarioCheck {
    /// The scenario's name.
    pub scenario: String,
    /// Its file.
    pub file: String,
    /// Every case: the expectations first (outcomes, restarts, exit codes, faulted processes,
    /// console output, files, message counts), then the implicit checks, then the agreements.
    pub cases: Vec<Case>,
}

impl ScenarioCheck {
    /// True when every case passed.
    pub fn passed(&self) -> bool {
        self.cases.iter().all(|case| case.passed)
    }

    /// Every case that failed, a line each: `[mode] name: detail` (`both modes` for a case
    /// checked in both).
    pub fn failures(&self) -> Vec<String> {
        let failed = self.cases.iter().filter(|case| !case.passed);
        failed.map(|case| format!("[{}] {}: {}", case.mode.unwrap_or("both modes"), case.name, case.detail)).collect()
    }

    /// The points earned.
    pub fn points(&self) -> u64 {
        self.cases.iter().map(|case| case.points).sum()
    }

    /// The points there were to earn.
    pub fn max_points(&self) -> u64 {
        self.cases.iter().map(|case| case.max_points).sum()
    }
}

/// A case as one mode saw it, before the modes are put together.
struct Seen {
    mode: Option<&'static str>,
    kind: CaseKind,
    field: Option<&'static str>,
    name: String,
    passed: bool,
    detail: String,
}

struct Cases<'a> {
    mode: Option<&'static str>,
    cases: &'a mut Vec<Seen>,
}

impl Cases<'_> {
    fn add(&mut self, kind: CaseKind, field: Option<&'static str>, name: String, passed: bool, detail: String) {
        self.cases.push(Seen { mode: self.mode, kind, field, name, passed, detail });
    }

    /// An item of `expect`'s field `field`.
    fn expect(&mut self, field: &'static str, name: String, passed: bool, detail: impl FnOnce() -> String) {
        let detail = if passed { String::new() } else { detail() };
        self.add(CaseKind::Expectation, Some(field), name, passed, detail);
    }

    /// A check `expect` does not write.
    fn implicit(&mut self, name: String, passed: bool, detail: impl FnOnce() -> String) {
        let detail = if passed { String::new() } else { detail() };
        self.add(CaseKind::Implicit, None, name, passed, detail);
    }

    fn agreement(&mut self, name: String, passed: bool, detail: impl FnOnce() -> String) {
        let detail = if passed { String::new() } else { detail() };
        self.add(CaseKind::Agreement, None, name, passed, detail);
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
/// ends; a server the scenario declares must not have faulted. One that faulted is expected only when `expect.faulted` lists it; one still alive
/// (blocked, or cut off mid-program) only when the run ended, as expected, in a deadlock or
/// at the step limit, which leave processes blocked. A kernel panic the scenario expects stops
/// every process, whatever it was doing, so it covers every process.
pub fn unexpected_ends(scenario: &Scenario, report: &RunReport) -> Vec<UnexpectedEnd> {
    let expected = outcome_matches(&report.outcome, scenario.expect.outcome_in(report.mode));
    if expected && matches!(report.outcome, Outcome::KernelPanic(_)) {
        return Vec::new();
    }
    let stopped_early_as_expected = expected && !report.outcome.is_completed();
    let declared = |name: &str| scenario.process_names().any(|declared| declared == name);
    report
        .processes
        .iter()
        .filter(|process| process.exit_code.is_none())
        // A server of the scenario's own that faulted ended unexpectedly too (its program, a
        // student's perhaps, failed); a built-in server's faults are the scenario's injections.
        .filter(|process| !process.server || (process.fault.is_some() && declared(&process.name)))
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

fn check_bounds(cases: &mut Cases<'_>, field: &'static str, bounds: Option<Bounds>, messages: u64) {
    let Some(bounds) = bounds else { return };
    if let Some(min) = bounds.min {
        cases.expect(field, format!("at least {min} messages"), messages >= min, || format!("{messages} messages"));
    }
    if let Some(max) = bounds.max {
        cases.expect(field, format!("at most {max} messages"), messages <= max, || format!("{messages} messages"));
    }
}

/// The field of `expect` that says how a run in `mode` ends, if it is written: a run ends as
/// completed by default, which is checked too, but earns no points.
fn outcome_field(scenario: &Scenario, mode: Mode) -> Option<&'static str> {
    let expect = &scenario.expect;
    match mode {
        Mode::Monolithic if expect.monolithic_outcome.is_some() => Some("monolithic_outcome"),
        _ => expect.outcome.is_some().then_some("outcome"),
    }
}

fn check_mode(scenario: &Scenario, report: &RunReport, cases: &mut Vec<Seen>) {
    let mut cases = Cases { mode: Some(report.mode.name()), cases };
    let expect = &scenario.expect;
    let wanted = expect.outcome_in(report.mode);
    let outcome_name = format!("outcome: {}", wanted.kind().wording());
    let outcome_detail = || {
        let mut detail = format!("the run {}", report.outcome.kind().ended());
        for process in report.processes.iter().filter(|process| process.fault.is_some()) {
            detail.push_str(&format!("; {} faulted: {}", process.name, process.fault.as_deref().unwrap_or("")));
        }
        detail
    };
    let ended_as_wanted = outcome_matches(&report.outcome, wanted);
    match outcome_field(scenario, report.mode) {
        Some(field) => cases.expect(field, outcome_name, ended_as_wanted, outcome_detail),
        None => cases.implicit(outcome_name, ended_as_wanted, outcome_detail),
    }
    let unexpected = unexpected_ends(scenario, report);
    cases.implicit("no process faulted unexpectedly".into(), unexpected.is_empty(), || {
        let ends: Vec<&str> = unexpected.iter().map(|end| end.how.as_str()).collect();
        format!("{}; the scenario's expect does not say so", ends.join("; "))
    });
    if report.mode == Mode::Microkernel {
        for (server, count) in &expect.restarts {
            let seen = report.reliability.restarts.get(server).copied().unwrap_or(0);
            let name = format!("{server} restarted {count} times");
            cases.expect("restarts", name, seen == *count, || format!("restarted {seen} times"));
        }
    }
    if wanted == ExpectedOutcome::KernelPanic {
        // Nothing a panicked system shows is to be relied on: its outcome is the expectation.
        return;
    }
    for (name, code) in &expect.exit_codes {
        let seen = report.process(name).and_then(|process| process.exit_code);
        cases.expect("exit_codes", format!("exit code of {name} is {code}"), seen == Some(*code), || {
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
        cases.expect("faulted", format!("{name} is faulted"), fault.is_some(), || {
            format!("it is {}", report.process(name).map_or("missing", |process| process.state.as_str()))
        });
    }
    for (name, text) in &expect.console {
        let seen = report.console.get(name).map_or("", String::as_str);
        let detail = || format!("expected {text:?}, got {seen:?}");
        cases.expect("console", format!("console of {name}"), seen == text, detail);
    }
    for (path, text) in &expect.files {
        let seen = report.files.get(path).map(|bytes| String::from_utf8_lossy(bytes).into_owned());
        let matches = seen.as_deref() == Some(text.as_str());
        cases.expect("files", format!("contents of {path}"), matches, || match seen {
            Some(seen) => format!("expected {text:?}, got {seen:?}"),
            None => "the file does not exist".into(),
        });
    }
    let (field, bounds) = match report.mode {
        Mode::Microkernel => ("messages", expect.messages),
        Mode::Monolithic => ("monolithic_messages", expect.monolithic_messages),
    };
    check_bounds(&mut cases, field, bounds, report.metrics.messages);
}

/// Observable results must not depend on the mode (unless the scenario faults a process on purpose).
fn check_agreement(micro: &RunReport, mono: &RunReport, cases: &mut Vec<Seen>) {
    let mut cases = Cases { mode: None, cases };
    cases.agreement("both modes print the same console output".into(), micro.console == mono.console, || {
        format!("microkernel {:?}, monolithic {:?}", micro.console, mono.console)
    });
    cases.agreement("both modes leave the same files".into(), micro.files == mono.files, || {
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
    cases.agreement("both modes give the same exit codes".into(), exits(micro) == exits(mono), || {
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
    let mut seen = Vec::new();
    check_mode(scenario, &micro, &mut seen);
    check_mode(scenario, &mono, &mut seen);
    if scenario.expect.faulted.is_empty() && scenario.faults.is_empty() {
        check_agreement(&micro, &mono, &mut seen);
    }
    let cases = scored(&scenario.expect, seen);
    ScenarioCheck { scenario: scenario.name.clone(), file: scenario.file.clone(), cases }
}

/// The cases, each expectation once across the modes it was checked in (passed only when it
/// held in all of them) with its points, then the rest as they were seen.
fn scored(expect: &Expectations, seen: Vec<Seen>) -> Vec<Case> {
    let (expected, others): (Vec<Seen>, Vec<Seen>) =
        seen.into_iter().partition(|case| case.kind == CaseKind::Expectation);
    let mut items: Vec<Vec<Seen>> = Vec::new();
    for case in expected {
        match items.iter_mut().find(|item| item[0].field == case.field && item[0].name == case.name) {
            Some(item) => item.push(case),
            None => items.push(vec![case]),
        }
    }
    let expectations = items.into_iter().map(|item| {
        let worth = item[0].field.map_or(0, |field| expect.points_for(field));
        let passed = item.iter().all(|case| case.passed);
        let mode = if item.len() == 1 { item[0].mode } else { None };
        let failed: Vec<&Seen> = item.iter().filter(|case| !case.passed).collect();
        let detail = match failed.as_slice() {
            [] => String::new(),
            [only] if item.len() == 1 => only.detail.clone(),
            [first, rest @ ..] if item.len() == failed.len() && rest.iter().all(|case| case.detail == first.detail) => {
                first.detail.clone()
            }
            _ => {
                let each: Vec<String> =
                    failed.iter().map(|case| format!("[{}] {}", case.mode.unwrap_or("both"), case.detail)).collect();
                each.join("; ")
            }
        };
        let Seen { kind, field, name, .. } = item.into_iter().next().expect("an item has a case");
        Case { name, mode, kind, field, passed, points: if passed { worth } else { 0 }, max_points: worth, detail }
    });
    let others = others.into_iter().map(|case| Case {
        name: case.name,
        mode: case.mode,
        kind: case.kind,
        field: None,
        passed: case.passed,
        points: 0,
        max_points: 0,
        detail: case.detail,
    });
    expectations.chain(others).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn seen(mode: &'static str, kind: CaseKind, field: Option<&'static str>, name: &str, detail: &str) -> Seen {
        Seen { mode: Some(mode), kind, field, name: name.into(), passed: detail.is_empty(), detail: detail.into() }
    }

    fn expectation(mode: &'static str, field: &'static str, name: &str, detail: &str) -> Seen {
        seen(mode, CaseKind::Expectation, Some(field), name, detail)
    }

    #[test]
    fn an_expectation_is_one_case_across_the_modes_and_earns_only_when_it_holds_in_both() {
        let expect = Expectations {
            points: [("console".to_owned(), 3u64.into()), ("files".to_owned(), 0u64.into())].into(),
            ..Expectations::default()
        };
        let cases = scored(
            &expect,
            vec![
                expectation("microkernel", "console", "console of a", ""),
                expectation("microkernel", "console", "console of b", ""),
                expectation("microkernel", "exit_codes", "exit code of a is 0", ""),
                expectation("microkernel", "files", "contents of /f", ""),
                seen("microkernel", CaseKind::Implicit, None, "no process faulted unexpectedly", ""),
                expectation("monolithic", "console", "console of a", ""),
                expectation("monolithic", "console", "console of b", "expected \"x\", got \"y\""),
                expectation("monolithic", "exit_codes", "exit code of a is 0", ""),
                expectation("monolithic", "files", "contents of /f", ""),
                seen("monolithic", CaseKind::Implicit, None, "no process faulted unexpectedly", "a faulted"),
            ],
        );
        /// Name, mode, kind, passed, points and the points it is worth.
        type Summary<'a> = (&'a str, Option<&'a str>, CaseKind, bool, u64, u64);
        let summary: Vec<Summary<'_>> = cases
            .iter()
            .map(|case| (case.name.as_str(), case.mode, case.kind, case.passed, case.points, case.max_points))
            .collect();
        assert_eq!(
            summary,
            [
                ("console of a", None, CaseKind::Expectation, true, 3, 3),
                ("console of b", None, CaseKind::Expectation, false, 0, 3),
                ("exit code of a is 0", None, CaseKind::Expectation, true, 1, 1),
                ("contents of /f", None, CaseKind::Expectation, true, 0, 0),
                ("no process faulted unexpectedly", Some("microkernel"), CaseKind::Implicit, true, 0, 0),
                ("no process faulted unexpectedly", Some("monolithic"), CaseKind::Implicit, false, 0, 0),
            ]
        );
        assert_eq!(cases[1].detail, "[monolithic] expected \"x\", got \"y\"", "the mode that failed is named");
        assert_eq!(cases[5].detail, "a faulted");
    }

    #[test]
    fn an_expectation_that_fails_alike_in_both_modes_says_so_once() {
        let cases = scored(
            &Expectations::default(),
            vec![
                expectation("microkernel", "console", "console of a", "expected \"x\", got \"\""),
                expectation("monolithic", "console", "console of a", "expected \"x\", got \"\""),
                expectation("microkernel", "restarts", "fs restarted 1 times", "restarted 0 times"),
                expectation("microkernel", "exit_codes", "exit code of a is 0", "it exited with 1"),
                expectation("monolithic", "exit_codes", "exit code of a is 0", "it exited with 2"),
            ],
        );
        assert_eq!(cases[0].detail, "expected \"x\", got \"\"");
        assert_eq!((cases[1].mode, cases[1].detail.as_str()), (Some("microkernel"), "restarted 0 times"));
        assert_eq!(cases[2].detail, "[microkernel] it exited with 1; [monolithic] it exited with 2");
        assert!(cases.iter().all(|case| !case.passed && case.points == 0 && case.max_points == 1));
    }
}
