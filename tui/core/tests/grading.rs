//! Grading through the library, as a headless grader uses it: points in `expect`, programs put
//! in place of an exercise's own (with every error at the file, line and column it is written
//! at), scores, and the gradebook.
//!
//! The tests run in `tui/core`: paths relative to the current directory start there.

use mksim_core::check::{CaseKind, check};
use mksim_core::grading::{CSV_HEADER, Exercise, Graded, Report, Submission};
use mksim_core::run::RunOptions;
use mksim_core::scenario::{ProgramError, ProgramOverride, ProgramSource, Scenario, ScenarioError};
use std::path::{Path, PathBuf};

/// The lecturer's exercise, relative to the current directory.
const EXERCISE: &str = "../../scenarios/exercises/echo_exercise.ron";
/// The students' programs, relative to the current directory.
const SUBMISSIONS: &str = "../tests/fixtures/grading/submissions";

/// A folder of its own for one test's files, emptied first.
fn scratch(test: &str) -> PathBuf {
    let folder = Path::new(env!("CARGO_TARGET_TMPDIR")).join("grading").join(test);
    let _ = std::fs::remove_dir_all(&folder);
    std::fs::create_dir_all(&folder).expect("the scratch folder can be made");
    folder
}

fn write(folder: &Path, name: &str, text: &str) -> PathBuf {
    let path = folder.join(name);
    std::fs::write(&path, text).expect("the scratch file can be written");
    path
}

fn program(process: &str, file: impl Into<PathBuf>) -> ProgramOverride {
    ProgramOverride { process: process.into(), source: ProgramSource::File(file.into()) }
}

fn exercise() -> Exercise {
    Exercise::load(EXERCISE, &["server".to_owned()], &RunOptions::default()).unwrap_or_else(|error| panic!("{error}"))
}

fn graded(file: impl Into<PathBuf>) -> Graded {
    exercise().grade(&Submission::of(vec![program("server", file)]), &RunOptions::default())
}

/// The 1-based line and column of the first `needle` in `text`.
#[track_caller]
fn place(text: &str, needle: &str) -> (usize, usize) {
    let offset = text.find(needle).unwrap_or_else(|| panic!("{needle:?} is not in the text"));
    let line = text[..offset].matches('\n').count() + 1;
    let start = text[..offset].rfind('\n').map_or(0, |newline| newline + 1);
    (line, text[start..offset].chars().count() + 1)
}

#[track_caller]
fn invalid(error: ProgramError) -> ScenarioError {
    match error {
        ProgramError::Invalid(error) => error,
        other => panic!("not an invalid file: {other}"),
    }
}

// ----- points in the scenario -----

/// One greeter, and `POINTS` for `expect.points`.
const GREETER: &str = r#"Scenario(
    name: "greeter",
    processes: [(name: "greeter", priority: 5, program: [Print("hi\n")])],
    expect: (
        console: {"greeter": "hi\n"},
        exit_codes: {"greeter": 0},
        points: POINTS,
    ),
)
"#;

#[test]
fn points_are_checked_at_their_line_and_column_like_every_other_field() {
    for (points, at, message) in [
        (
            r#"{"consle": 2}"#,
            r#""consle""#,
            r#""consle" is not a field of `expect` that earns points; did you mean "console"?"#,
        ),
        (r#"{"flies": 1}"#, r#""flies""#, r#"did you mean "files"?"#),
        (r#"{"style": 1}"#, r#""style""#, "(they are: outcome, monolithic_outcome, restarts, exit_codes,"),
        (r#"{"console": -1}"#, "-1", "`points` must be a whole number from 0 to 1000000"),
        (r#"{"console": 1.5}"#, "1.5", "`points` must be a whole number from 0 to 1000000"),
        (r#"{"console": 2000000}"#, "2000000", "`points` must be a whole number from 0 to 1000000"),
    ] {
        let text = GREETER.replace("POINTS", points);
        let error = Scenario::parse(&text, "greeter.ron").expect_err(points);
        assert_eq!((error.line, error.column), place(&text, at), "{points}: {error}");
        assert!(error.item.starts_with("expect.points \""), "{points}: {error}");
        assert!(error.message.contains(message), "{points}: {error}");
    }
}

#[test]
fn each_expectation_earns_its_fields_points_once_and_the_other_checks_none() {
    let text = GREETER.replace("POINTS", r#"{"console": 3}"#);
    let scenario = Scenario::parse(&text, "greeter.ron").unwrap_or_else(|error| panic!("{error}"));
    let result = check(&scenario, &RunOptions::default());
    assert!(result.passed(), "{:#?}", result.cases);
    assert_eq!((result.points(), result.max_points()), (4, 4), "console 3, the exit code 1 by default");
    let scored: Vec<(&str, Option<&str>, u64)> = result
        .cases
        .iter()
        .filter(|case| case.kind == CaseKind::Expectation)
        .map(|case| (case.name.as_str(), case.mode, case.points))
        .collect();
    assert_eq!(scored, [("exit code of greeter is 0", None, 1), ("console of greeter", None, 3)]);
    // The outcome is not written: it is checked in each mode, for no points, as are the rest.
    let unscored: Vec<(&str, CaseKind)> = result
        .cases
        .iter()
        .filter(|case| case.kind != CaseKind::Expectation)
        .map(|case| (case.name.as_str(), case.kind))
        .collect();
    assert_eq!(unscored.len(), 7, "{unscored:?}");
    assert!(unscored.contains(&("outcome: completed", CaseKind::Implicit)), "{unscored:?}");
    assert!(unscored.contains(&("both modes print the same console output", CaseKind::Agreement)));
    assert!(result.cases.iter().filter(|case| case.kind != CaseKind::Expectation).all(|case| case.max_points == 0));
}

// ----- the exercise and its programs -----

#[test]
fn the_echo_exercise_with_its_reference_solution_passes_in_both_modes_for_all_its_points() {
    let scenario = Scenario::load(EXERCISE).unwrap_or_else(|error| panic!("{error}"));
    let result = check(&scenario, &RunOptions::default());
    assert!(result.passed(), "{:#?}", result.cases);
    assert_eq!((result.points(), result.max_points()), (6, 6));
    assert!(result.cases.iter().filter(|case| case.kind == CaseKind::Expectation).all(|case| case.mode.is_none()));
}

#[test]
fn an_empty_program_scores_nothing_in_the_echo_exercise() {
    let exercise = exercise();
    assert_eq!(exercise.max_points(), 6);
    assert!(exercise.free_points().is_empty(), "{:#?}", exercise.free_points());
    let empty = exercise.empty_program_check();
    assert_eq!(empty.points(), 0);
    assert!(!empty.passed());
    // What the modes agree on (nothing printed in either) earns nothing.
    assert!(empty.cases.iter().any(|case| case.kind == CaseKind::Agreement && case.passed), "{:#?}", empty.cases);
    // A script that only exits, and an empty script file.
    let folder = scratch("empty_program");
    for (name, text) in [("exit_only.rhai", "exit(0);\n"), ("nothing.rhai", "")] {
        let result = graded(write(&folder, name, text));
        assert_eq!((result.points(), result.max_points, result.passed()), (0, 6, false), "{name}: {result:#?}");
    }
}

#[test]
fn a_program_path_is_relative_to_the_current_directory_not_to_the_exercise() {
    let alice = format!("{SUBMISSIONS}/alice.rhai");
    let result = graded(&alice);
    assert_eq!(result.name, "alice.rhai");
    assert_eq!(result.files, [alice]);
    assert!(result.passed(), "{result:#?}");
    assert_eq!(result.points(), 6);
    let bob = graded(format!("{SUBMISSIONS}/bob.rhai"));
    assert!(!bob.passed());
    assert_eq!(bob.points(), 4, "everything but the upper case: {bob:#?}");
}

#[test]
fn a_script_that_does_not_parse_is_named_as_it_was_given_with_its_line_and_column() {
    let carol = format!("{SUBMISSIONS}/carol.rhai");
    let result = graded(&carol);
    let error = result.result.clone().expect_err("carol's script does not parse");
    let text = std::fs::read_to_string(&carol).expect("readable");
    let (line, column) = place(&text, "else {");
    assert!(error.starts_with(&format!("{carol}:{line}:{column}: process \"server\", script: ")), "{error}");
    assert_eq!((result.max_points, result.points()), (6, 0));
}

#[test]
fn a_mistake_in_a_list_of_operations_is_at_its_own_file_line_and_column() {
    let folder = scratch("ops_mistake");
    let text = "// Receives, misspelt.\n[\n    Print(\"starting\\n\"),\n    Recieve(on: \"port\"),\n]\n";
    let path = write(&folder, "typo.ron", text);
    let error =
        invalid(Scenario::load_with_programs(EXERCISE, &[program("server", &path)]).expect_err("an unknown operation"));
    assert_eq!(error.file, path.display().to_string());
    assert_eq!((error.line, error.column), place(text, "Recieve"), "{error}");
    assert_eq!(error.item, "process \"server\", step 2 (Recieve)");
    assert!(error.message.contains("did you mean `Receive`?"), "{error}");
    // A capability the process does not hold: found by the validator, not the parser.
    let text = "[\n    Echo(on: \"prot\"),\n]\n";
    let path = write(&folder, "cap.ron", text);
    let error = invalid(Scenario::load_with_programs(EXERCISE, &[program("server", &path)]).expect_err("no `prot`"));
    assert_eq!((error.file.as_str(), error.line, error.column), (path.to_str().expect("UTF-8"), 2, 14), "{error}");
}

/// An exercise whose expectation names a process it lacks, on a line with a parameter before it.
const BROKEN_EXERCISE: &str = r#"Scenario(
    name: "broken",
    params: {"who": "greeter"},
    processes: [(name: "greeter", priority: 5, program: [Print("hi\n")])],
    expect: (console: {"${who}": "hi\n"}, exit_codes: {"greter": 0}),
)
"#;

#[test]
fn a_mistake_in_the_exercise_is_at_the_exercises_own_line_and_column_whatever_the_program() {
    let folder = scratch("exercise_mistake");
    let exercise = write(&folder, "broken.ron", BROKEN_EXERCISE);
    let exercise = exercise.to_str().expect("UTF-8");
    let long = write(&folder, "long.ron", "[\n    Print(\"a\\n\"),\n    Print(\"b\\n\"),\n    Yield,\n]\n");
    for source in [ProgramSource::File(long), ProgramSource::Empty] {
        let programs = [ProgramOverride { process: "greeter".into(), source }];
        let error = invalid(Scenario::load_with_programs(exercise, &programs).expect_err("greter is not a process"));
        assert_eq!(error.file, exercise);
        assert_eq!((error.line, error.column), place(BROKEN_EXERCISE, "\"greter\""), "{error}");
        assert!(error.message.contains("did you mean \"greeter\"?"), "{error}");
    }
}

#[test]
fn a_list_of_operations_cannot_reach_past_its_own_program() {
    let folder = scratch("smuggle");
    for (name, text, words) in [
        ("more.ron", "[Echo(on: \"port\")]), (name: \"extra\", priority: 1, program: [])", "text after the end"),
        ("script.ron", "Script(file: \"/etc/passwd\")", "expected opening `[`"),
        ("open.ron", "[Echo(on: \"port\")", "process \"server\", program"),
        ("empty.ron", "", "expected opening `[`"),
    ] {
        let path = write(&folder, name, text);
        let error = invalid(Scenario::load_with_programs(EXERCISE, &[program("server", &path)]).expect_err(name));
        assert_eq!(error.file, path.display().to_string(), "{name}: {error}");
        assert!(error.line > 0 && error.to_string().contains(words), "{name}: {error}");
    }
    // A line comment at the very end of the file ends there: the exercise goes on after it.
    let path = write(&folder, "comment.ron", "[Echo(on: \"port\")] // echoes");
    let scenario = Scenario::load_with_programs(EXERCISE, &[program("server", &path)]).expect("a list and a comment");
    assert_eq!(scenario.expect, Scenario::load(EXERCISE).expect("valid").expect, "the expectations are the exercise's");
}

#[test]
fn programs_named_wrongly_are_told_apart_from_files_at_fault() {
    let alice = format!("{SUBMISSIONS}/alice.rhai");
    let wrong = |programs: &[ProgramOverride]| Scenario::load_with_programs(EXERCISE, programs).expect_err("refused");
    let error = wrong(&[program("sever", &alice)]);
    assert!(error.is_misnamed());
    assert_eq!(error.to_string(), format!("{EXERCISE} has no process \"sever\"; did you mean \"server\"?"));
    let error = wrong(&[program("printer", &alice)]);
    assert!(error.to_string().ends_with("(its processes: \"server\", \"shout\", \"count\")"), "{error}");
    let error = wrong(&[program("server", &alice), program("server", &alice)]);
    assert_eq!(error, ProgramError::GivenTwice { process: "server".into() });
    let error = wrong(&[program("server", format!("{SUBMISSIONS}/notes.txt"))]);
    assert!(matches!(error, ProgramError::UnknownKind { .. }) && error.is_misnamed(), "{error}");
    let error = wrong(&[program("server", format!("{SUBMISSIONS}/missing.rhai"))]);
    assert!(!error.is_misnamed());
    assert!(error.to_string().starts_with(&format!("{SUBMISSIONS}/missing.rhai: cannot read")), "{error}");
}

#[test]
fn an_exercise_that_gives_points_for_nothing_says_which() {
    let folder = scratch("free_points");
    let path = write(&folder, "greeter.ron", &GREETER.replace("POINTS", r#"{"console": 2}"#));
    let exercise = Exercise::load(path.to_str().expect("UTF-8"), &["greeter".to_owned()], &RunOptions::default())
        .unwrap_or_else(|error| panic!("{error}"));
    let free: Vec<&str> = exercise.free_points().iter().map(|case| case.name.as_str()).collect();
    assert_eq!(free, ["exit code of greeter is 0"], "a program that does nothing exits with 0");
    assert_eq!((exercise.empty_program_check().points(), exercise.max_points()), (1, 3));
}

// ----- the gradebook -----

#[test]
fn the_gradebook_has_its_header_and_quotes_commas_quotes_and_line_breaks() {
    let error = "bad.rhai:1:2: process \"server\", script: a, b\nand more".to_owned();
    let invalid =
        Graded { name: "bad, \"really\".rhai".into(), files: Vec::new(), result: Err(error.clone()), max_points: 6 };
    let good = graded(format!("{SUBMISSIONS}/bob.rhai"));
    let report = Report { exercise: None, entries: vec![good, invalid], skipped: Vec::new() };
    let mut bytes = Vec::new();
    report.write_csv(&mut bytes).expect("written to memory");
    let mut reader = csv::Reader::from_reader(bytes.as_slice());
    assert_eq!(reader.headers().expect("a header").iter().collect::<Vec<_>>(), CSV_HEADER);
    let rows: Vec<csv::StringRecord> = reader.records().collect::<Result<_, _>>().expect("well-formed CSV");
    let rows: Vec<Vec<&str>> = rows.iter().map(|row| row.iter().collect()).collect();
    assert_eq!(rows.len(), 5, "bob's four scored cases (his checks for no points passed), and the invalid one");
    assert_eq!(rows[3][..7], ["bob.rhai", "console of shout", "0", "2", "false", "both", "expectation"]);
    assert!(rows[3][7].starts_with("expected \"1 HELLO\\n1 MIXED CASE 42\\n\", got"), "{:?}", rows[3]);
    assert_eq!(rows[4], ["bad, \"really\".rhai", "", "0", "6", "false", "", "error", error.as_str()]);
}
