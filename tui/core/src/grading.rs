//! Grading: programs handed in by students, each checked against the same locked exercise, and
//! the report course staff read (text), process (JSON) or keep (a CSV gradebook).
//!
//! An [`Exercise`] is a scenario file read once and kept as it was read: a student hands in
//! only the program of one process (or of several), never the expectations. Loading an exercise
//! checks it with an empty program in place of each graded one, which tells two things before
//! any submission runs: whether the exercise itself is valid, and which of its points an empty
//! program would already earn (a warning for the lecturer; see [`Exercise::free_points`]).
//!
//! Nothing stops at a bad file: a submission (or, for a plain `check`, a scenario file) that
//! cannot be read, parsed or validated is a [`Graded`] that failed, with its error, and the
//! rest are checked all the same. Which of those is a usage error, and the exit status, are the
//! caller's.

use crate::check::{Case, CaseKind, ScenarioCheck, check};
use crate::run::RunOptions;
use crate::scenario::{ProgramError, ProgramKind, ProgramOverride, ProgramSource, Scenario};
use mksim_kernel::escape_controls;
use serde_json::{Value, json};
use std::fmt::Write;
use std::path::{Path, PathBuf};

/// A scenario file whose processes' programs students write; the rest of it is locked.
#[derive(Clone, Debug)]
pub struct Exercise {
    file: String,
    text: String,
    processes: Vec<String>,
    empty: ScenarioCheck,
}

impl Exercise {
    /// Reads the exercise at `file` and checks it with an empty program in place of each of
    /// `processes` (the processes students write).
    ///
    /// # Errors
    /// [`ProgramError::NoSuchProcess`] (or [`ProgramError::GivenTwice`]) for `processes` the
    /// exercise does not have once each; [`ProgramError::Invalid`] for an exercise that cannot
    /// be read, parsed or validated whatever the programs.
    pub fn load(file: &str, processes: &[String], options: &RunOptions) -> Result<Exercise, ProgramError> {
        let text = Scenario::read(file)?;
        let empty: Vec<ProgramOverride> = processes
            .iter()
            .map(|process| ProgramOverride { process: process.clone(), source: ProgramSource::Empty })
            .collect();
        let scenario = Scenario::parse_with_programs(&text, file, &empty)?;
        let empty = check(&scenario, options);
        Ok(Exercise { file: file.to_owned(), text, processes: processes.to_vec(), empty })
    }

    /// Its file.
    pub fn file(&self) -> &str {
        &self.file
    }

    /// Its scenario's name.
    pub fn name(&self) -> &str {
        &self.empty.scenario
    }

    /// The processes students write.
    pub fn processes(&self) -> &[String] {
        &self.processes
    }

    /// The points a submission can earn.
    pub fn max_points(&self) -> u64 {
        self.empty.max_points()
    }

    /// The exercise checked with empty programs in place of the students'.
    pub fn empty_program_check(&self) -> &ScenarioCheck {
        &self.empty
    }

    /// The cases that earn points with empty programs: an expectation that holds whatever the
    /// student writes (an exit code of 0 for the graded process, say) gives points for nothing.
    pub fn free_points(&self) -> Vec<&Case> {
        self.empty.cases.iter().filter(|case| case.points > 0).collect()
    }

    /// Checks `submission` against the exercise as it was read.
    pub fn grade(&self, submission: &Submission, options: &RunOptions) -> Graded {
        let files = submission.files();
        let result = Scenario::parse_with_programs(&self.text, &self.file, &submission.programs)
            .map(|scenario| check(&scenario, options))
            .map_err(|error| error.to_string());
        Graded { name: submission.name.clone(), files, result, max_points: self.max_points() }
    }
}

/// What a student hands in: the program of each graded process.
#[derive(Clone, PartialEq, Eq, Debug)]
pub struct Submission {
    /// Its name in reports: its file's name, or the names of its files joined with ` + `.
    pub name: String,
    /// The programs.
    pub programs: Vec<ProgramOverride>,
}

impl Submission {
    /// A submission of the given programs, named after their files.
    pub fn of(programs: Vec<ProgramOverride>) -> Submission {
        let names: Vec<String> = programs
            .iter()
            .filter_map(|program| match &program.source {
                ProgramSource::File(path) => Some(file_name(path)),
                ProgramSource::Empty => None,
            })
            .collect();
        Submission { name: names.join(" + "), programs }
    }

    fn files(&self) -> Vec<String> {
        self.programs
            .iter()
            .filter_map(|program| match &program.source {
                ProgramSource::File(path) => Some(path.display().to_string()),
                ProgramSource::Empty => None,
            })
            .collect()
    }
}

fn file_name(path: &Path) -> String {
    path.file_name().map_or_else(|| path.display().to_string(), |name| name.to_string_lossy().into_owned())
}

/// A file of a submissions folder that is not graded, and why.
#[derive(Clone, PartialEq, Eq, Debug)]
pub struct Skipped {
    /// Its name.
    pub name: String,
    /// Why it is not graded.
    pub why: String,
}

/// The submissions in a folder: each `.rhai` or `.ron` file, as the program of `process`, in
/// the order of their names; anything else is skipped.
///
/// # Errors
/// The folder cannot be read.
pub fn submissions_in(folder: &Path, process: &str) -> std::io::Result<(Vec<Submission>, Vec<Skipped>)> {
    let mut entries: Vec<(String, PathBuf)> = std::fs::read_dir(folder)?
        .map(|entry| entry.map(|entry| (entry.file_name().to_string_lossy().into_owned(), entry.path())))
        .collect::<std::io::Result<_>>()?;
    entries.sort();
    let (mut submissions, mut skipped) = (Vec::new(), Vec::new());
    for (name, path) in entries {
        let why = if !path.is_file() {
            Some("not a regular file")
        } else if ProgramKind::of(&path).is_none() {
            Some("not a .rhai script or a .ron list of operations")
        } else {
            None
        };
        match why {
            Some(why) => skipped.push(Skipped { name, why: why.to_owned() }),
            None => {
                let program = ProgramOverride { process: process.to_owned(), source: ProgramSource::File(path) };
                submissions.push(Submission { name, programs: vec![program] });
            }
        }
    }
    Ok((submissions, skipped))
}

/// One submission (or scenario file) checked: its cases, or why it could not be.
#[derive(Clone, PartialEq, Eq, Debug)]
pub struct Graded {
    /// Its name in reports: the submission's, or the scenario file's path.
    pub name: String,
    /// The files it is made of.
    pub files: Vec<String>,
    /// Its cases; or the error that kept it from running, naming the file, line and column.
    pub result: Result<ScenarioCheck, String>,
    /// The points it could earn (for one that could not run, its exercise's; 0 for a scenario
    /// file that could not be read).
    pub max_points: u64,
}

impl Graded {
    /// True when it ran and every case passed.
    pub fn passed(&self) -> bool {
        self.result.as_ref().is_ok_and(ScenarioCheck::passed)
    }

    /// The points it earned.
    pub fn points(&self) -> u64 {
        self.result.as_ref().map_or(0, ScenarioCheck::points)
    }
}

/// A scenario file checked on its own (`mksim check FILE`): a file that cannot be read, parsed
/// or validated is a failed entry with its error.
pub fn check_file(file: &str, options: &RunOptions) -> Graded {
    let result = Scenario::load(file).map(|scenario| check(&scenario, options)).map_err(|error| error.to_string());
    let max_points = result.as_ref().map_or(0, ScenarioCheck::max_points);
    Graded { name: file.to_owned(), files: vec![file.to_owned()], result, max_points }
}

/// The exercise of a grading, as the report shows it.
#[derive(Clone, Debug)]
pub enum ExerciseState {
    /// It loaded: the submissions were graded against it.
    Loaded(Exercise),
    /// It could not be used (its file, and the error): no submission was graded.
    Invalid {
        /// The exercise's file.
        file: String,
        /// Why, naming file, line and column.
        error: String,
    },
}

/// What `check` found: scenario files checked on their own, or submissions graded against an
/// exercise.
#[derive(Clone, Debug)]
pub struct Report {
    /// The exercise, when submissions were graded.
    pub exercise: Option<ExerciseState>,
    /// Each scenario file or submission, in order.
    pub entries: Vec<Graded>,
    /// Files of a submissions folder that were not graded.
    pub skipped: Vec<Skipped>,
}

/// `(2 points)`, `(0 of 2 points)`, `(no points)`.
fn points_phrase(case: &Case) -> String {
    let unit = if case.max_points == 1 { "point" } else { "points" };
    match (case.max_points, case.passed) {
        (0, _) => "(no points)".to_owned(),
        (max, true) => format!("({max} {unit})"),
        (max, false) => format!("(0 of {max} {unit})"),
    }
}

fn case_line(text: &mut String, case: &Case) {
    let mode = case.mode.map(|mode| format!("[{mode}] ")).unwrap_or_default();
    let name = escape_controls(&case.name);
    let points = if case.kind == CaseKind::Expectation { format!("  {}", points_phrase(case)) } else { String::new() };
    if case.passed {
        let _ = writeln!(text, "   ok   {mode}{name}{points}");
    } else {
        let _ = writeln!(text, "   FAIL {mode}{name}{points}: {}", escape_controls(&case.detail));
    }
}

/// The cases of a check: the scored ones, then those checked for no points. A grading shows
/// only those of the latter that failed, with a count of the rest.
fn describe_cases(text: &mut String, result: &ScenarioCheck, graded: bool) {
    let (scored, unscored): (Vec<&Case>, Vec<&Case>) =
        result.cases.iter().partition(|case| case.kind == CaseKind::Expectation);
    for case in scored {
        case_line(text, case);
    }
    if unscored.is_empty() {
        return;
    }
    if !graded {
        let _ = writeln!(text, "   also checked, for no points:");
        unscored.into_iter().for_each(|case| case_line(text, case));
        return;
    }
    let failed: Vec<&Case> = unscored.iter().copied().filter(|case| !case.passed).collect();
    let ok = unscored.len() - failed.len();
    match failed.len() {
        0 => {
            let _ = writeln!(text, "   also checked, for no points: {ok} ok");
        }
        count => {
            let _ = writeln!(text, "   also checked, for no points: {ok} ok, {count} failed:");
            failed.into_iter().for_each(|case| case_line(text, case));
        }
    }
}

fn describe_entry(text: &mut String, entry: &Graded, graded: bool) {
    let mark = if entry.passed() { "PASS" } else { "FAIL" };
    let score = format!("{}/{} points", entry.points(), entry.max_points);
    match &entry.result {
        Ok(result) if graded => {
            let _ = writeln!(text, "{mark} {}  {score}", escape_controls(&entry.name));
            describe_cases(text, result, true);
        }
        Ok(result) => {
            let (name, file) = (escape_controls(&result.scenario), escape_controls(&result.file));
            let _ = writeln!(text, "{mark} {name} ({file})  {score}");
            describe_cases(text, result, false);
        }
        Err(error) => {
            let score = if graded { format!("{score}, could not be checked") } else { "could not be checked".into() };
            let _ = writeln!(text, "{mark} {}  {score}", escape_controls(&entry.name));
            let _ = writeln!(text, "   error: {}", escape_controls(error));
        }
    }
}

/// What the exercise is, and a warning for the points an empty program earns.
fn describe_exercise(text: &mut String, exercise: &Exercise) {
    let processes: Vec<String> = exercise.processes().iter().map(|name| format!("\"{name}\"")).collect();
    let _ = writeln!(
        text,
        "exercise {} ({}): the program of {}, {} points",
        escape_controls(exercise.file()),
        escape_controls(exercise.name()),
        escape_controls(&processes.join(" and ")),
        exercise.max_points()
    );
    let free = exercise.free_points();
    if !free.is_empty() {
        let earned: u64 = free.iter().map(|case| case.points).sum();
        let names: Vec<String> = free.iter().map(|case| escape_controls(&case.name).into_owned()).collect();
        let _ = writeln!(
            text,
            "warning: an empty program earns {earned} of these points ({}): give those fields 0 points in \
             `expect: (points: {{...}})`, or expect more",
            names.join("; ")
        );
    }
    if exercise.max_points() == 0 {
        let _ = writeln!(text, "warning: the exercise's `expect` has nothing that earns points: every score is 0 of 0");
    }
    let _ = writeln!(text);
}

impl Report {
    /// True when every entry passed (and, grading, the exercise could be used).
    pub fn passed(&self) -> bool {
        !matches!(self.exercise, Some(ExerciseState::Invalid { .. })) && self.entries.iter().all(Graded::passed)
    }

    /// The report in words: each entry with its cases, then a line that sums them up.
    pub fn describe(&self) -> String {
        let mut text = String::new();
        match &self.exercise {
            None => {}
            Some(ExerciseState::Loaded(exercise)) => describe_exercise(&mut text, exercise),
            Some(ExerciseState::Invalid { file, error }) => {
                let _ = writeln!(text, "FAIL exercise {}  could not be used", escape_controls(file));
                let _ = writeln!(text, "   error: {}", escape_controls(error));
                let _ = writeln!(text);
                let _ = writeln!(text, "no submission was graded: the exercise is not valid");
                return text;
            }
        }
        let graded = self.exercise.is_some();
        for (at, entry) in self.entries.iter().enumerate() {
            if graded && at > 0 {
                let _ = writeln!(text);
            }
            describe_entry(&mut text, entry, graded);
        }
        if !self.skipped.is_empty() {
            let _ = writeln!(text);
        }
        for skipped in &self.skipped {
            let _ = writeln!(text, "skipped {}: {}", escape_controls(&skipped.name), skipped.why);
        }
        let passed = self.entries.iter().filter(|entry| entry.passed()).count();
        let _ = writeln!(text);
        if self.exercise.is_some() {
            let total = self.entries.len();
            let noun = if total == 1 { "submission" } else { "submissions" };
            let _ = writeln!(text, "{passed} of {total} {noun} passed");
        } else {
            let _ = writeln!(text, "{passed} passed, {} failed", self.entries.len() - passed);
        }
        text
    }

    /// The report as one JSON document (see the README's "Grading" section for its shape).
    pub fn to_json(&self) -> Value {
        let passed = self.entries.iter().filter(|entry| entry.passed()).count();
        let summary =
            |noun: &str| json!({ noun: self.entries.len(), "passed": passed, "failed": self.entries.len() - passed });
        let Some(exercise) = &self.exercise else {
            let scenarios: Vec<Value> = self.entries.iter().map(|entry| entry_json(entry, false)).collect();
            return json!({ "passed": self.passed(), "scenarios": scenarios, "summary": summary("scenarios") });
        };
        let exercise = match exercise {
            ExerciseState::Loaded(exercise) => {
                let free: Vec<&str> = exercise.free_points().iter().map(|case| case.name.as_str()).collect();
                json!({
                    "file": exercise.file(),
                    "scenario": exercise.name(),
                    "processes": exercise.processes(),
                    "max_points": exercise.max_points(),
                    "empty_program_points": exercise.empty_program_check().points(),
                    "empty_program_earns": free,
                    "error": null,
                })
            }
            ExerciseState::Invalid { file, error } => json!({
                "file": file, "scenario": null, "processes": [], "max_points": 0,
                "empty_program_points": 0, "empty_program_earns": [], "error": error,
            }),
        };
        let submissions: Vec<Value> = self.entries.iter().map(|entry| entry_json(entry, true)).collect();
        let skipped: Vec<Value> =
            self.skipped.iter().map(|skipped| json!({ "file": skipped.name, "why": skipped.why })).collect();
        json!({
            "exercise": exercise,
            "passed": self.passed(),
            "submissions": submissions,
            "skipped": skipped,
            "summary": summary("submissions"),
        })
    }

    /// Writes the gradebook: a header, then one row per case that earns points, one per case
    /// that failed though it earns none (it fails the submission), and one for each entry
    /// that could not be checked (with its error as the message).
    ///
    /// # Errors
    /// What writing to `writer` gave.
    pub fn write_csv<W: std::io::Write>(&self, writer: W) -> csv::Result<()> {
        let mut csv = csv::Writer::from_writer(writer);
        csv.write_record(CSV_HEADER)?;
        if let Some(ExerciseState::Invalid { file, error }) = &self.exercise {
            csv.write_record([file.as_str(), "", "0", "0", "false", "", "error", error.as_str()])?;
        }
        for entry in &self.entries {
            match &entry.result {
                Ok(result) => {
                    let rows = result.cases.iter().filter(|case| case.kind == CaseKind::Expectation || !case.passed);
                    for case in rows {
                        csv.write_record([
                            entry.name.as_str(),
                            case.name.as_str(),
                            &case.points.to_string(),
                            &case.max_points.to_string(),
                            if case.passed { "true" } else { "false" },
                            case.mode.unwrap_or("both"),
                            case.kind.name(),
                            case.detail.as_str(),
                        ])?;
                    }
                }
                Err(error) => {
                    let max = entry.max_points.to_string();
                    csv.write_record([entry.name.as_str(), "", "0", &max, "false", "", "error", error.as_str()])?;
                }
            }
        }
        csv.flush()?;
        Ok(())
    }
}

/// The gradebook's columns.
pub const CSV_HEADER: [&str; 8] = ["submission", "case", "points", "max_points", "passed", "mode", "kind", "message"];

fn entry_json(entry: &Graded, graded: bool) -> Value {
    let (scenario, cases, error) = match &entry.result {
        Ok(result) => (Some(result.scenario.as_str()), serde_json::to_value(&result.cases), None),
        Err(error) => (None, Ok(json!([])), Some(error.as_str())),
    };
    let cases = cases.unwrap_or_else(|_| json!([]));
    if graded {
        json!({
            "submission": entry.name, "files": entry.files, "passed": entry.passed(),
            "points": entry.points(), "max_points": entry.max_points, "error": error, "cases": cases,
        })
    } else {
        json!({
            "scenario": scenario, "file": entry.name, "passed": entry.passed(),
            "points": entry.points(), "max_points": entry.max_points, "error": error, "cases": cases,
        })
    }
}
