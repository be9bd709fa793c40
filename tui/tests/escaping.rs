//! No control character from a scenario reaches the terminal: names,
//! descriptions, console output and quoted items are shown escaped
//! (`\u{1b}`, `\r`, `\n`) by every command, while JSON keeps the exact text.
//!
//! The scenario here tries what an attacker would: its name erases the line
//! and redraws it as a passing check (`ESC [2K`, carriage return), its
//! process name and console output carry escape sequences, and one of its
//! expectations fails, so `check` must print FAIL.

mod binary;

use binary::{assert_status, json, mksim, stderr, stdout};
use std::path::{Path, PathBuf};

/// The name the scenario gives itself.
const SPOOF_NAME: &str = "\u{1b}[2K\rPASS spoof: 3/3 cases";

/// The scenario: written with RON's `\u{..}` escapes, which it reads as the characters.
const SPOOF: &str = r#"Scenario(
    name: "\u{1b}[2K\rPASS spoof: 3/3 cases",
    description: "\u{1b}[31mred\u{7}",
    processes: [(name: "ev\u{1b}[1mil", priority: 5, program: [Print("\u{1b}[2Jwiped\rhi\n")])],
    expect: (exit_codes: {"ev\u{1b}[1mil": 3}),
)"#;

fn scratch_file(test: &str, name: &str, text: &str) -> PathBuf {
    let folder = Path::new(env!("CARGO_TARGET_TMPDIR")).join("escaping").join(test);
    let _ = std::fs::remove_dir_all(&folder);
    std::fs::create_dir_all(&folder).expect("the scratch folder can be made");
    let path = folder.join(name);
    std::fs::write(&path, text).expect("the scenario can be written");
    path
}

/// Whether `text` holds a control character other than the line break.
fn has_controls(text: &str) -> bool {
    text.chars().any(|character| character != '\n' && mksim_kernel::text::is_unsafe_to_show(character))
}

#[test]
fn check_prints_the_spoofing_name_escaped_under_fail_and_json_keeps_it_exact() {
    let path = scratch_file("check", "spoof.ron", SPOOF);
    let path = path.to_str().expect("a UTF-8 path");

    let output = mksim(&["check", path]);
    assert_status(&output, 1);
    let text = stdout(&output);
    assert!(!has_controls(&text) && !has_controls(&stderr(&output)), "{text:?}");
    let first = text.lines().next().expect("a first line");
    assert!(first.starts_with(r"FAIL \u{1b}[2K\rPASS spoof: 3/3 cases ("), "{first}");
    assert!(!text.lines().any(|line| line.starts_with("PASS")), "no line of its own says PASS:\n{text}");
    assert!(text.contains(r"exit code of ev\u{1b}[1mil is 3"), "{text}");

    let output = mksim(&["check", "--json", path]);
    assert_status(&output, 1);
    let report = json(&output);
    assert_eq!(report["scenarios"][0]["scenario"], SPOOF_NAME, "JSON holds the name exactly");
    assert_eq!(report["passed"], false);
}

#[test]
fn every_text_command_escapes_what_the_scenario_wrote() {
    let path = scratch_file("commands", "spoof.ron", SPOOF);
    let path = path.to_str().expect("a UTF-8 path");
    let commands: [&[&str]; 8] = [
        &["run", path],
        &["run", "--events", path],
        &["run", "--mode", "monolithic", path],
        &["compare", path],
        &["export", "--format", "text", path],
        &["export", "--format", "mermaid", path],
        &["faults", "--runs", "2", path],
        &["check", path],
    ];
    for args in commands {
        let output = mksim(args);
        let (text, errors) = (stdout(&output), stderr(&output));
        assert!(!has_controls(&text), "{args:?} printed a control character:\n{text:?}");
        assert!(!has_controls(&errors), "{args:?} printed a control character on standard error:\n{errors:?}");
        assert!(text.contains(r"\u{1b}"), "{args:?} does not show the escapes:\n{text}");
    }
    let run = stdout(&mksim(&["run", path]));
    assert!(run.starts_with(r"\u{1b}[2K\rPASS spoof: 3/3 cases (microkernel mode): \u{1b}[31mred\u{7}"), "{run}");
    assert!(run.contains(r"console of ev\u{1b}[1mil:"), "{run}");
    assert!(run.contains(r"│ \u{1b}[2Jwiped\rhi"), "{run}");

    let output = mksim(&["run", "--json", path]);
    let report = json(&output);
    let names: Vec<&str> =
        report["processes"].as_array().expect("a list").iter().filter_map(|p| p["name"].as_str()).collect();
    assert!(names.contains(&"ev\u{1b}[1mil"), "JSON holds the process name exactly: {names:?}");
    assert_eq!(report["console"]["ev\u{1b}[1mil"], "\u{1b}[2Jwiped\rhi\n", "and the console output");
}

#[test]
fn an_error_quoting_a_line_break_stays_on_one_line() {
    let text = r#"Scenario(name: "x", processes: [(name: "p", priority: 5,
        caps: [(name: "c", object: "a\nPASS spoof: 3/3 cases\u{1b}[2K", rights: "s")], program: [])])"#;
    let path = scratch_file("error", "bad.ron", text);
    let path = path.to_str().expect("a UTF-8 path");
    let output = mksim(&["run", path]);
    assert_status(&output, 2);
    let errors = stderr(&output);
    assert_eq!(errors.lines().count(), 1, "{errors}");
    assert!(!has_controls(&errors), "{errors:?}");
    assert!(errors.contains(r#"names object "a\nPASS spoof: 3/3 cases\u{1b}[2K""#), "{errors}");
    // check reports the file as failed, its error on one line of its own under the FAIL.
    let output = mksim(&["check", path]);
    assert_status(&output, 1);
    let text = stdout(&output);
    assert!(!has_controls(&text), "{text:?}");
    let lines: Vec<&str> = text.lines().collect();
    assert!(lines[0].starts_with("FAIL ") && lines[0].ends_with("bad.ron  could not be checked"), "{text}");
    assert!(lines[1].starts_with("   error: ") && lines[1].contains(r#"names object "a\nPASS spoof"#), "{text}");
    assert_eq!(lines[2..], ["", "0 passed, 1 failed"], "{text}");
}
