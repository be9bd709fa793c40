//! Grading with the `mksim` binary, as course staff do: a locked exercise, students' programs
//! handed in one by one (`--program`) or as a folder (`--submissions`), the report in text and
//! JSON, a CSV gradebook, and the exit status (0 all passed, 1 anything failed, 2 usage).

mod binary;

use binary::{assert_status, json, mksim, stderr, stdout};
use serde_json::Value;
use std::path::{Path, PathBuf};

const EXERCISE: &str = "scenarios/exercises/echo_exercise.ron";
const SUBMISSIONS: &str = "tui/tests/fixtures/grading/submissions";

/// A folder of its own for one test's files, emptied first.
fn scratch(test: &str) -> PathBuf {
    let folder = Path::new(env!("CARGO_TARGET_TMPDIR")).join("grading").join(test);
    let _ = std::fs::remove_dir_all(&folder);
    std::fs::create_dir_all(&folder).expect("the scratch folder can be made");
    folder
}

fn grade_folder(extra: &[&str]) -> std::process::Output {
    let mut args = vec!["check", EXERCISE, "--submissions", SUBMISSIONS, "--program-name", "server"];
    args.extend_from_slice(extra);
    mksim(&args)
}

/// The gradebook's rows, header first.
fn gradebook(path: &Path) -> Vec<Vec<String>> {
    let mut reader = csv::ReaderBuilder::new().has_headers(false).from_path(path).expect("the gradebook is written");
    reader.records().map(|row| row.expect("a well-formed row").iter().map(str::to_owned).collect()).collect()
}

#[test]
fn a_folder_of_submissions_is_graded_each_against_the_same_exercise_with_status_1() {
    let output = grade_folder(&[]);
    assert_status(&output, 1);
    let text = stdout(&output);
    let headers: Vec<&str> =
        text.lines().filter(|line| line.starts_with("PASS ") || line.starts_with("FAIL ")).collect();
    assert_eq!(
        headers,
        [
            "PASS alice.rhai  6/6 points",
            "FAIL bob.rhai  4/6 points",
            "FAIL carol.rhai  0/6 points, could not be checked",
            "FAIL empty.rhai  0/6 points",
            "FAIL erin.ron  2/6 points",
        ],
        "{text}"
    );
    assert!(
        text.starts_with(&format!("exercise {EXERCISE} (echo exercise): the program of \"server\", 6 points\n")),
        "{text}"
    );
    assert!(!text.contains("warning"), "an empty program earns nothing here:\n{text}");
    assert!(text.contains(&format!("   error: {SUBMISSIONS}/carol.rhai:7:5: process \"server\", script: ")), "{text}");
    assert!(
        text.contains(
            "   FAIL console of shout  (0 of 2 points): expected \"1 HELLO\\n1 MIXED CASE 42\\n\", \
             got \"1 hello\\n1 Mixed Case 42\\n\""
        ),
        "bob forgot the upper case:\n{text}"
    );
    assert!(text.contains("   ok   console of count  (2 points)"), "{text}");
    assert!(text.contains("   also checked, for no points: 7 ok\n"), "{text}");
    assert!(
        text.contains("   also checked, for no points: 5 ok, 2 failed:\n"),
        "the empty program faults its clients:\n{text}"
    );
    assert!(text.contains("skipped notes.txt: not a .rhai script or a .ron list of operations"), "{text}");
    assert_eq!(text.lines().last(), Some("1 of 5 submissions passed"), "{text}");
}

#[test]
fn the_gradebook_has_a_row_per_scored_case_and_one_per_invalid_submission() {
    let folder = scratch("gradebook");
    let book = folder.join("book.csv");
    let output = grade_folder(&["--csv", book.to_str().expect("UTF-8")]);
    assert_status(&output, 1);
    let rows = gradebook(&book);
    assert_eq!(rows[0], ["submission", "case", "points", "max_points", "passed", "mode", "kind", "message"]);
    let scores: Vec<[&str; 5]> =
        rows[1..].iter().map(|row| [&*row[0], &*row[1], &*row[2], &*row[3], &*row[6]]).collect();
    let mut expected = Vec::new();
    for (submission, points) in [("alice.rhai", ["1", "1", "2", "2"]), ("bob.rhai", ["1", "1", "2", "0"])] {
        for (case, (got, max)) in
            ["exit code of count is 0", "exit code of shout is 0", "console of count", "console of shout"]
                .into_iter()
                .zip(points.into_iter().zip(["1", "1", "2", "2"]))
        {
            expected.push([submission, case, got, max, "expectation"]);
        }
    }
    expected.push(["carol.rhai", "", "0", "6", "error"]);
    for case in ["exit code of count is 0", "exit code of shout is 0", "console of count", "console of shout"] {
        let max = if case.starts_with("console") { "2" } else { "1" };
        expected.push(["empty.rhai", case, "0", max, "expectation"]);
    }
    // The empty program's clients fault: a failed check that earns nothing, kept so the reason
    // the submission failed is in the gradebook too.
    expected.push(["empty.rhai", "no process faulted unexpectedly", "0", "0", "implicit"]);
    expected.push(["empty.rhai", "no process faulted unexpectedly", "0", "0", "implicit"]);
    for (case, got) in [
        ("exit code of count is 0", "1"),
        ("exit code of shout is 0", "1"),
        ("console of count", "0"),
        ("console of shout", "0"),
    ] {
        let max = if case.starts_with("console") { "2" } else { "1" };
        expected.push(["erin.ron", case, got, max, "expectation"]);
    }
    assert_eq!(scores, expected);
    let carol = rows.iter().find(|row| row[0] == "carol.rhai").expect("a row for carol");
    assert_eq!(carol[4], "false");
    assert!(carol[7].starts_with(&format!("{SUBMISSIONS}/carol.rhai:7:5: ")), "{carol:?}");
    let points = |name: &str| -> u64 {
        rows[1..].iter().filter(|row| row[0] == name).map(|row| row[2].parse::<u64>().expect("a number")).sum()
    };
    assert_eq!([points("alice.rhai"), points("bob.rhai"), points("empty.rhai"), points("erin.ron")], [6, 4, 0, 2]);
}

#[test]
fn json_gives_each_submission_and_each_case_with_its_kind_and_points() {
    let output = grade_folder(&["--json"]);
    assert_status(&output, 1);
    let report = json(&output);
    assert_eq!(report["passed"], false);
    assert_eq!(report["exercise"]["file"], EXERCISE);
    assert_eq!(report["exercise"]["max_points"], 6);
    assert_eq!(report["exercise"]["empty_program_points"], 0);
    assert_eq!(report["summary"], serde_json::json!({"submissions": 5, "passed": 1, "failed": 4}));
    assert_eq!(
        report["skipped"],
        serde_json::json!([{"file": "notes.txt", "why": "not a .rhai script or a .ron list of operations"}])
    );
    let submissions = report["submissions"].as_array().expect("a list");
    let summary: Vec<(&str, bool, u64, bool)> = submissions
        .iter()
        .map(|entry| {
            let name = entry["submission"].as_str().expect("a name");
            (name, entry["passed"] == true, entry["points"].as_u64().expect("points"), entry["error"].is_string())
        })
        .collect();
    assert_eq!(
        summary,
        [
            ("alice.rhai", true, 6, false),
            ("bob.rhai", false, 4, false),
            ("carol.rhai", false, 0, true),
            ("empty.rhai", false, 0, false),
            ("erin.ron", false, 2, false)
        ]
    );
    assert_eq!(submissions[2]["cases"], serde_json::json!([]));
    assert_eq!(submissions[2]["max_points"], 6);
    let bob: &Vec<Value> = submissions[1]["cases"].as_array().expect("cases");
    let shout = bob.iter().find(|case| case["name"] == "console of shout").expect("the case");
    assert_eq!(
        (&shout["mode"], &shout["kind"], &shout["field"], &shout["points"], &shout["max_points"], &shout["passed"]),
        (&"both".into(), &"expectation".into(), &"console".into(), &0.into(), &2.into(), &false.into())
    );
    let kinds: Vec<&str> = bob.iter().filter_map(|case| case["kind"].as_str()).collect();
    assert_eq!(kinds.iter().filter(|kind| **kind == "expectation").count(), 4);
    assert_eq!(kinds.iter().filter(|kind| **kind == "implicit").count(), 4);
    assert_eq!(kinds.iter().filter(|kind| **kind == "agreement").count(), 3);
    assert!(bob.iter().filter(|case| case["kind"] != "expectation").all(|case| case["max_points"] == 0));
}

#[test]
fn one_program_is_graded_with_program_and_passes_with_status_0() {
    let output = mksim(&["check", EXERCISE, "--program", &format!("server={SUBMISSIONS}/alice.rhai")]);
    assert_status(&output, 0);
    let text = stdout(&output);
    assert!(text.contains("\nPASS alice.rhai  6/6 points\n"), "{text}");
    assert_eq!(text.lines().last(), Some("1 of 1 submission passed"), "{text}");
    let output = mksim(&["check", EXERCISE, "--program", &format!("server={SUBMISSIONS}/erin.ron"), "--json"]);
    assert_status(&output, 1);
    let report = json(&output);
    assert_eq!(report["submissions"][0]["points"], 2);
    assert_eq!(report["submissions"][0]["files"], serde_json::json!([format!("{SUBMISSIONS}/erin.ron")]));
}

#[test]
fn programs_named_wrongly_and_flags_that_do_not_fit_are_usage_errors() {
    let alice = format!("server={SUBMISSIONS}/alice.rhai");
    let folder = scratch("usage");
    let empty_folder = folder.to_str().expect("UTF-8");
    for (args, words) in [
        (vec!["check", EXERCISE, "--program", "sever=x.rhai"], "has no process \"sever\"; did you mean \"server\"?"),
        (vec!["check", EXERCISE, "--program", "server"], "write NAME=FILE"),
        (vec!["check", EXERCISE, "--program", "server=notes.txt"], "a .rhai script or a .ron list of operations"),
        (vec!["check", EXERCISE, "--program", &alice, "--program", &alice], "two programs for process \"server\""),
        (vec!["check", EXERCISE, "scenarios/hello.ron", "--program", &alice], "one exercise"),
        (vec!["check", EXERCISE, "--program-name", "server"], "--submissions"),
        (vec!["check", EXERCISE, "--submissions", SUBMISSIONS], "--program-name"),
        (vec!["check", EXERCISE, "--submissions", empty_folder, "--program-name", "server"], "no .rhai or .ron files"),
        (vec!["check", EXERCISE, "--submissions", SUBMISSIONS, "--program-name", "srv"], "--program-name: "),
        (
            vec!["check", EXERCISE, "--submissions", SUBMISSIONS, "--program-name", "server", "--program", &alice],
            "cannot be used with",
        ),
    ] {
        let output = mksim(&args);
        assert_status(&output, 2);
        let error = stderr(&output);
        assert!(error.contains(words), "{args:?}: {error}");
        assert!(!error.contains("panicked"), "{error}");
        assert!(stdout(&output).is_empty(), "{args:?}: {}", stdout(&output));
    }
}

#[test]
fn a_program_file_that_cannot_be_read_fails_its_submission_not_the_command() {
    let output = mksim(&["check", EXERCISE, "--program", "server=nowhere/missing.rhai", "--json"]);
    assert_status(&output, 1);
    let report = json(&output);
    let error = report["submissions"][0]["error"].as_str().expect("an error");
    assert!(error.starts_with("nowhere/missing.rhai: cannot read"), "{error}");
}

#[test]
fn an_exercise_that_is_not_valid_grades_nobody_and_says_why() {
    let folder = scratch("invalid_exercise");
    let text = std::fs::read_to_string(binary::workspace().join(EXERCISE)).expect("readable");
    let text = text.replace(r#"exit_codes: {"shout": 0, "count": 0}"#, r#"exit_codes: {"shout": 0, "cont": 0}"#);
    let exercise = folder.join("exercise.ron");
    std::fs::write(&exercise, text).expect("writable");
    // The solution is named relative to the exercise's folder: copied beside it.
    std::fs::copy(
        binary::workspace().join("scenarios/exercises/echo_solution.rhai"),
        folder.join("echo_solution.rhai"),
    )
    .expect("copied");
    let exercise = exercise.to_str().expect("UTF-8");
    let book = folder.join("book.csv");
    let book_path = book.to_str().expect("UTF-8");
    let args = ["check", exercise, "--submissions", SUBMISSIONS, "--program-name", "server", "--csv", book_path];
    let output = mksim(&args);
    assert_status(&output, 1);
    let text = stdout(&output);
    assert!(text.starts_with(&format!("FAIL exercise {exercise}  could not be used\n   error: {exercise}:")), "{text}");
    assert!(text.contains("did you mean \"count\"?"), "{text}");
    assert_eq!(text.lines().last(), Some("no submission was graded: the exercise is not valid"), "{text}");
    let rows = gradebook(&book);
    assert_eq!(rows.len(), 2, "{rows:?}");
    assert_eq!(rows[1][..7], [exercise, "", "0", "0", "false", "", "error"]);
    let report = json(&mksim(&[&args[..6], &["--json"]].concat()));
    assert!(report["exercise"]["error"].as_str().is_some_and(|error| error.contains("\"cont\"")), "{report:#}");
    assert_eq!(report["submissions"], serde_json::json!([]));
}

#[test]
fn an_exercise_whose_points_an_empty_program_earns_is_warned_about() {
    let folder = scratch("free_points");
    let exercise = folder.join("greeter.ron");
    std::fs::write(
        &exercise,
        r#"Scenario(
    name: "greeter",
    processes: [(name: "greeter", priority: 5, program: [Print("hi\n")])],
    expect: (console: {"greeter": "hi\n"}, exit_codes: {"greeter": 0}),
)
"#,
    )
    .expect("writable");
    let empty = folder.join("empty.rhai");
    std::fs::write(&empty, "").expect("writable");
    let program = format!("greeter={}", empty.display());
    let output = mksim(&["check", exercise.to_str().expect("UTF-8"), "--program", &program]);
    assert_status(&output, 1);
    let text = stdout(&output);
    assert!(text.contains("warning: an empty program earns 1 of these points (exit code of greeter is 0)"), "{text}");
    assert!(text.contains("FAIL empty.rhai  1/2 points"), "{text}");
}

#[test]
fn a_folder_of_scenarios_with_an_invalid_one_checks_the_rest_and_json_prints_a_document() {
    let folder = scratch("scenarios_folder");
    let workspace = binary::workspace();
    std::fs::copy(workspace.join("scenarios/hello.ron"), folder.join("a_hello.ron")).expect("copied");
    std::fs::write(folder.join("b_broken.ron"), "Scenario(name: \"broken\", processes: [(name: \"p\")])")
        .expect("writable");
    std::fs::copy(workspace.join("scenarios/ping_pong.ron"), folder.join("c_ping_pong.ron")).expect("copied");
    let path = folder.to_str().expect("UTF-8");
    let output = mksim(&["check", path]);
    assert_status(&output, 1);
    let text = stdout(&output);
    assert_eq!(text.lines().last(), Some("2 passed, 1 failed"), "{text}");
    assert!(text.contains("b_broken.ron  could not be checked\n   error: "), "{text}");
    let output = mksim(&["check", path, "--json"]);
    assert_status(&output, 1);
    let report = json(&output);
    assert_eq!(report["passed"], false);
    assert_eq!(report["summary"], serde_json::json!({"scenarios": 3, "passed": 2, "failed": 1}));
    let files: Vec<(bool, bool)> = report["scenarios"]
        .as_array()
        .expect("a list")
        .iter()
        .map(|entry| (entry["passed"] == true, entry["error"].is_string()))
        .collect();
    assert_eq!(files, [(true, false), (false, true), (true, false)]);
    let error = report["scenarios"][1]["error"].as_str().expect("an error");
    assert!(error.contains("b_broken.ron:1:") && error.contains("priority"), "{error}");
}
