//! Parameter sweeps: one scenario run for every value of one of its parameters, under one or
//! more cost profiles, in microkernel mode, reduced to what a round trip costs.
//!
//! A **round trip** is a call a client made and got the answer to: a reply delivered to one of
//! the scenario's own processes that is not a server (`server: true`). Replies are counted
//! rather than calls because a call that failed, timed out or lost its server has no cost per
//! round trip to speak of. Calls made through client stubs (a name lookup, `fs.read`) count as
//! well as raw `Call`s. Cycles are the run's [`crate::run::Metrics::cycles`], the same figure
//! `mksim run` reports, divided by the round trips.
//!
//! [`sweep`] only runs and measures; [`describe`] and [`to_json`] put the result into words.
//! None of them prints: the caller shows the words or the JSON.

use crate::run::{Profiles, RunOptions, RunReport, run};
use crate::scenario::{Scenario, ScenarioError, load_profile};
use mksim_kernel::event::{EventKind, EventLog};
use mksim_kernel::message::MessageKind;
use mksim_kernel::{CostProfile, escape_controls};
use mksim_servers::system::Mode;
use serde_json::{Value, json};
use std::collections::{BTreeMap, BTreeSet};
use std::fmt::{self, Write};

/// What to sweep.
#[derive(Clone, Debug)]
pub struct SweepRequest<'a> {
    /// The scenario's text.
    pub text: &'a str,
    /// Its file, for errors and reports.
    pub file: &'a str,
    /// The parameter to vary: one the scenario declares in `params`.
    pub parameter: &'a str,
    /// Its values, in the order to run them.
    pub values: &'a [String],
    /// Cost profiles (built-in names or `.ron` files); none: the scenario's own.
    pub profiles: &'a [String],
    /// Another memory budget for every run, in bytes.
    pub memory_limit: Option<u64>,
}

/// Why a sweep could not start. Nothing has run when it is returned.
#[derive(Clone, PartialEq, Eq, Debug)]
pub enum SweepError {
    /// No value to run.
    NoValues,
    /// The scenario is refused as it is written.
    Scenario(Box<ScenarioError>),
    /// The parameter is not one the scenario declares.
    UnknownParameter {
        /// The scenario's file.
        file: String,
        /// The parameter asked for.
        parameter: String,
        /// The parameters it declares.
        declared: Vec<String>,
    },
    /// The scenario is refused with one of the values.
    Value {
        /// The parameter.
        parameter: String,
        /// The value.
        value: String,
        /// What is wrong.
        error: Box<ScenarioError>,
    },
    /// A cost profile that cannot be loaded.
    Profile {
        /// The name or file given.
        name: String,
        /// What is wrong.
        message: String,
    },
}

impl fmt::Display for SweepError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SweepError::NoValues => write!(f, "no value to sweep"),
            SweepError::Scenario(error) => write!(f, "{error}"),
            SweepError::UnknownParameter { file, parameter, declared } if declared.is_empty() => {
                write!(f, "{file} declares no parameter `{parameter}` (it declares none)")
            }
            SweepError::UnknownParameter { file, parameter, declared } => {
                write!(f, "{file} declares no parameter `{parameter}` (declared: {})", declared.join(", "))
            }
            SweepError::Value { parameter, value, error } => write!(f, "with {parameter}={value}: {error}"),
            SweepError::Profile { name, message } => write!(f, "profile {name}: {message}"),
        }
    }
}

impl std::error::Error for SweepError {}

/// What one operation kind cost in a run, on average.
#[derive(Clone, Copy, PartialEq, Debug)]
pub struct OperationFigure {
    /// How many were made.
    pub count: u64,
    /// Cycles from start to end, per operation.
    pub cycles_per_operation: f64,
}

/// The figures of a run that completed.
#[derive(Clone, PartialEq, Debug)]
pub struct Figures {
    /// The run's cycles ([`crate::run::Metrics::cycles`]).
    pub cycles: u64,
    /// Calls made by the scenario's clients and answered.
    pub round_trips: u64,
    /// Cycles divided by round trips; none without a round trip.
    pub cycles_per_round_trip: Option<f64>,
    /// Messages sent.
    pub messages: u64,
    /// Bytes copied through messages.
    pub bytes_copied: u64,
    /// Per operation kind (`fs.read`, ...), where the scenario's programs make any.
    pub per_operation: BTreeMap<String, OperationFigure>,
}

/// One run: a value under a profile.
#[derive(Clone, PartialEq, Debug)]
pub struct SweepRow {
    /// The parameter's value.
    pub value: String,
    /// The cost profile, as it was given (or the scenario's own, by name).
    pub profile: String,
    /// How the run ended, in one word: `completed`, or `faulted` when it completed but one of
    /// the scenario's processes faulted unexpectedly, or `deadlock`, `step_limit`, `kernel_panic`,
    /// `memory_limit`.
    pub outcome: &'static str,
    /// For a process that faulted unexpectedly: which, and why.
    pub detail: Option<String>,
    /// Its figures, only when it completed.
    pub figures: Option<Figures>,
}

/// Cycles per round trip under the first profile against the second, for one value.
#[derive(Clone, PartialEq, Debug)]
pub struct SweepRatio {
    /// The parameter's value.
    pub value: String,
    /// The first two profiles.
    pub profiles: [String; 2],
    /// The first's cycles per round trip over the second's; none unless both runs completed
    /// with round trips.
    pub ratio: Option<f64>,
}

/// A finished sweep.
#[derive(Clone, PartialEq, Debug)]
pub struct Sweep {
    /// The scenario's name.
    pub scenario: String,
    /// Its file.
    pub file: String,
    /// The parameter varied.
    pub parameter: String,
    /// The profiles, in order.
    pub profiles: Vec<String>,
    /// One row per value and profile: the profiles of the first value, then of the next, ...
    pub rows: Vec<SweepRow>,
    /// One per value, when there are at least two profiles.
    pub ratios: Vec<SweepRatio>,
}

impl Sweep {
    /// True when every run completed.
    pub fn all_completed(&self) -> bool {
        self.rows.iter().all(|row| row.figures.is_some())
    }

    /// The values, in the order they ran, each once.
    pub fn values(&self) -> Vec<&str> {
        let mut values: Vec<&str> = Vec::new();
        for row in &self.rows {
            if !values.contains(&row.value.as_str()) {
                values.push(&row.value);
            }
        }
        values
    }
}

/// Runs the scenario for every value and profile.
///
/// Every value is substituted and every profile loaded before anything runs, so a mistake in
/// the input costs no time and produces no half a table.
///
/// # Errors
/// [`SweepError`] for no values, a scenario that is refused as it is or with one of the
/// values, a parameter it does not declare, or a profile that cannot be loaded.
pub fn sweep(request: &SweepRequest<'_>) -> Result<Sweep, SweepError> {
    if request.values.is_empty() {
        return Err(SweepError::NoValues);
    }
    let written = Scenario::parse(request.text, request.file).map_err(|error| SweepError::Scenario(Box::new(error)))?;
    if !written.params.contains_key(request.parameter) {
        return Err(SweepError::UnknownParameter {
            file: request.file.to_owned(),
            parameter: request.parameter.to_owned(),
            declared: written.params.keys().cloned().collect(),
        });
    }
    let mut scenarios = Vec::new();
    for value in request.values {
        let overrides = BTreeMap::from([(request.parameter.to_owned(), value.clone())]);
        let scenario = Scenario::parse_with_params(request.text, request.file, &overrides).map_err(|error| {
            SweepError::Value { parameter: request.parameter.to_owned(), value: value.clone(), error: Box::new(error) }
        })?;
        scenarios.push((value, scenario));
    }
    let mut profiles: Vec<(String, Option<CostProfile>)> = Vec::new();
    for name in request.profiles {
        let profile = load_profile(name).map_err(|message| SweepError::Profile { name: name.clone(), message })?;
        profiles.push((name.clone(), Some(profile)));
    }
    if profiles.is_empty() {
        profiles.push((String::new(), None));
    }
    let mut rows = Vec::new();
    for (value, scenario) in &scenarios {
        for (name, profile) in &profiles {
            let profiles = Profiles { microkernel: profile.clone(), monolithic: None };
            let options = RunOptions { profiles, memory_limit: request.memory_limit, ..RunOptions::default() };
            let report = run(scenario, Mode::Microkernel, &options);
            let profile = if profile.is_some() { name.clone() } else { report.profile.clone() };
            rows.push(row(value, profile, scenario, &report));
        }
    }
    let mut names: Vec<String> = Vec::new();
    for row in &rows {
        if !names.contains(&row.profile) {
            names.push(row.profile.clone());
        }
    }
    let ratios = if profiles.len() >= 2 { ratios(&rows, profiles.len()) } else { Vec::new() };
    let first = &scenarios[0].1;
    Ok(Sweep {
        scenario: first.name.clone(),
        file: request.file.to_owned(),
        parameter: request.parameter.to_owned(),
        profiles: names,
        rows,
        ratios,
    })
}

fn row(value: &str, profile: String, scenario: &Scenario, report: &RunReport) -> SweepRow {
    let faulted = report.processes.iter().find(|process| {
        process.fault.is_some()
            && scenario.process_names().any(|name| name == process.name)
            && !scenario.expect.faulted.contains(&process.name)
    });
    let detail = faulted.map(|process| format!("{} faulted: {}", process.name, process.fault.as_deref().unwrap_or("")));
    let outcome = match (&detail, report.outcome.is_completed()) {
        (Some(_), true) => "faulted",
        _ => report.outcome_name(),
    };
    let figures = (outcome == "completed").then(|| figures(scenario, report));
    SweepRow { value: value.to_owned(), profile, outcome, detail, figures }
}

/// Round trips: replies delivered to the processes named in `clients`.
pub fn round_trips(log: &EventLog, clients: &BTreeSet<&str>) -> u64 {
    let delivered_reply = |kind: EventKind| match kind {
        EventKind::MessageDelivered { message } => log.message(message).kind == MessageKind::Reply,
        _ => false,
    };
    let count = log
        .events()
        .iter()
        .filter(|event| delivered_reply(event.kind) && clients.contains(log.process_name(event.process)))
        .count();
    count as u64
}

fn figures(scenario: &Scenario, report: &RunReport) -> Figures {
    let clients: BTreeSet<&str> =
        scenario.processes.iter().filter(|process| !process.is_server()).map(|process| process.name.as_str()).collect();
    let round_trips = round_trips(&report.log, &clients);
    let metrics = report.metrics;
    let per_operation = report
        .per_operation
        .iter()
        .filter(|(_, stats)| stats.count > 0)
        .map(|(name, stats)| {
            let figure =
                OperationFigure { count: stats.count, cycles_per_operation: stats.cycles as f64 / stats.count as f64 };
            (name.clone(), figure)
        })
        .collect();
    Figures {
        cycles: metrics.cycles,
        round_trips,
        cycles_per_round_trip: (round_trips > 0).then(|| metrics.cycles as f64 / round_trips as f64),
        messages: metrics.messages,
        bytes_copied: metrics.bytes_copied,
        per_operation,
    }
}

/// For each value (a group of `per_value` rows, one per profile), the first profile against the second.
fn ratios(rows: &[SweepRow], per_value: usize) -> Vec<SweepRatio> {
    let per_round_trip = |row: &SweepRow| row.figures.as_ref().and_then(|figures| figures.cycles_per_round_trip);
    rows.chunks(per_value)
        .map(|group| {
            let ratio = match (per_round_trip(&group[0]), per_round_trip(&group[1])) {
                (Some(first), Some(second)) if second > 0.0 => Some(first / second),
                _ => None,
            };
            SweepRatio {
                value: group[0].value.clone(),
                profiles: [group[0].profile.clone(), group[1].profile.clone()],
                ratio,
            }
        })
        .collect()
}

/// A value as JSON: a number when it reads as one, else a string.
fn value_json(value: &str) -> Value {
    match serde_json::from_str::<Value>(value) {
        Ok(number @ Value::Number(_)) => number,
        _ => Value::String(value.to_owned()),
    }
}

/// The sweep as one JSON object: `scenario`, `parameter`, `profiles`, `rows` and `ratios`; each
/// row and ratio names the value under the parameter's name.
pub fn to_json(sweep: &Sweep) -> Value {
    let rows: Vec<Value> = sweep
        .rows
        .iter()
        .map(|row| {
            let figures = row.figures.as_ref();
            let per_operation: serde_json::Map<String, Value> = figures
                .map(|figures| &figures.per_operation)
                .into_iter()
                .flatten()
                .map(|(name, figure)| {
                    let value = json!({"count": figure.count, "cycles_per_op": figure.cycles_per_operation});
                    (name.clone(), value)
                })
                .collect();
            let mut object = serde_json::Map::new();
            object.insert(sweep.parameter.clone(), value_json(&row.value));
            object.insert("profile".into(), json!(row.profile));
            object.insert("outcome".into(), json!(row.outcome));
            object.insert("detail".into(), json!(row.detail));
            object.insert("cycles".into(), json!(figures.map(|figures| figures.cycles)));
            object.insert("round_trips".into(), json!(figures.map(|figures| figures.round_trips)));
            let per_round_trip = figures.and_then(|figures| figures.cycles_per_round_trip);
            object.insert("cycles_per_round_trip".into(), json!(per_round_trip));
            object.insert("messages".into(), json!(figures.map(|figures| figures.messages)));
            object.insert("bytes_copied".into(), json!(figures.map(|figures| figures.bytes_copied)));
            object.insert("per_operation".into(), Value::Object(per_operation));
            Value::Object(object)
        })
        .collect();
    let ratios: Vec<Value> = sweep
        .ratios
        .iter()
        .map(|ratio| {
            let mut object = serde_json::Map::new();
            object.insert(sweep.parameter.clone(), value_json(&ratio.value));
            object.insert("profiles".into(), json!(ratio.profiles));
            object.insert("ratio".into(), json!(ratio.ratio));
            Value::Object(object)
        })
        .collect();
    json!({
        "scenario": sweep.scenario,
        "file": sweep.file,
        "parameter": sweep.parameter,
        "mode": Mode::Microkernel.name(),
        "profiles": sweep.profiles,
        "rows": rows,
        "ratios": ratios,
    })
}

/// The cycles each operation took on average, under a row of the table: indented by `indent`,
/// as many to a line as fit in about 100 columns.
fn operation_lines(text: &mut String, indent: usize, operations: &BTreeMap<String, OperationFigure>) {
    let mut line = String::new();
    for (name, figure) in operations {
        let entry = format!("{name} {:.1} cycles/op (×{})", figure.cycles_per_operation, figure.count);
        if !line.is_empty() && indent + line.len() + entry.len() > 100 {
            let _ = writeln!(text, "{:indent$}{line}", "");
            line.clear();
        }
        if !line.is_empty() {
            line.push_str("  ");
        }
        line.push_str(&entry);
    }
    if !line.is_empty() {
        let _ = writeln!(text, "{:indent$}{line}", "");
    }
}

/// The sweep as a table for people, with the ratios under it.
pub fn describe(sweep: &Sweep) -> String {
    let mut text = String::new();
    let values = sweep.values();
    let _ = writeln!(
        text,
        "{} ({}): {} = {}, profiles {}, microkernel mode",
        escape_controls(&sweep.scenario),
        escape_controls(&sweep.file),
        sweep.parameter,
        values.join(", "),
        escape_controls(&sweep.profiles.join(", "))
    );
    let _ = writeln!(text, "a round trip is a call a client made and got the answer to");
    let _ = writeln!(text);
    let width = sweep.rows.iter().map(|row| row.value.chars().count()).chain([sweep.parameter.len()]).max();
    let width = width.unwrap_or(0);
    let profile_width = sweep.profiles.iter().map(|name| name.chars().count()).chain([7]).max().unwrap_or(7);
    let _ = writeln!(
        text,
        "{:>width$}  {:<profile_width$}  {:<12} {:>11} {:>18} {:>12} {:>9} {:>13}",
        sweep.parameter, "profile", "outcome", "round trips", "cycles/round trip", "cycles", "messages", "bytes copied"
    );
    for row in &sweep.rows {
        let _ = write!(text, "{:>width$}  {:<profile_width$}  {:<12}", row.value, row.profile, row.outcome);
        let Some(figures) = &row.figures else {
            let _ = writeln!(text, " {:>11} {:>18} {:>12} {:>9} {:>13}", "-", "-", "-", "-", "-");
            if let Some(detail) = &row.detail {
                let _ = writeln!(text, "{:>width$}  {}", "", escape_controls(detail));
            }
            continue;
        };
        let per_round_trip =
            figures.cycles_per_round_trip.map_or_else(|| "-".to_owned(), |cycles| format!("{cycles:.1}"));
        let _ = writeln!(
            text,
            " {:>11} {:>18} {:>12} {:>9} {:>13}",
            figures.round_trips, per_round_trip, figures.cycles, figures.messages, figures.bytes_copied
        );
        operation_lines(&mut text, width + 2, &figures.per_operation);
    }
    if let Some(first) = sweep.ratios.first() {
        let _ = writeln!(text);
        let [a, b] = &first.profiles;
        let _ = writeln!(text, "{a} against {b}, cycles per round trip:");
        for ratio in &sweep.ratios {
            let figure = ratio.ratio.map_or_else(
                || "no ratio (a run did not complete, or made no round trip)".to_owned(),
                |r| format!("{r:.2}×"),
            );
            let _ = writeln!(text, "  {} {:>width$}: {figure}", sweep.parameter, ratio.value);
        }
    }
    text
}
