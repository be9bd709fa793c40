//! The scenarios built into the binary: `mksim list` names them, and every command takes a
//! name in place of a file, from any folder; a file at that path still wins.

mod binary;

use binary::{assert_status, mksim_binary, stderr, stdout};
use std::process::{Command, Output};

/// Runs `mksim` with `args` in a folder with no scenarios in it.
fn mksim_elsewhere(args: &[&str]) -> Output {
    let folder = std::env::temp_dir();
    Command::new(mksim_binary()).args(args).current_dir(folder).output().expect("mksim runs")
}

#[test]
fn list_names_every_shipped_scenario_with_its_description() {
    let output = mksim_elsewhere(&["list"]);
    assert_status(&output, 0);
    let text = stdout(&output);
    let shipped = std::fs::read_dir(binary::workspace().join("scenarios")).expect("scenarios/ exists");
    for entry in shipped.flatten() {
        let path = entry.path();
        if path.extension().is_some_and(|extension| extension == "ron") {
            let name = path.file_stem().unwrap().to_string_lossy().into_owned();
            let listed = text.lines().any(|line| line.split_whitespace().next() == Some(&name));
            assert!(listed, "{name} is not listed:\n{text}");
        }
    }
    let file_io = text.lines().find(|line| line.trim_start().starts_with("file_io ")).expect("file_io is listed");
    assert!(file_io.contains("Write two files and read them back"), "{file_io}");
}

#[test]
fn a_built_in_scenario_runs_compares_and_checks_by_name_from_any_folder() {
    let run = mksim_elsewhere(&["run", "file_io"]);
    assert_status(&run, 0);
    assert!(stdout(&run).contains("run ended: completed"), "{}", stdout(&run));
    // One that reads scripts beside it finds them built in too.
    let scripted = mksim_elsewhere(&["run", "scripted_echo.ron", "--mode", "monolithic"]);
    assert_status(&scripted, 0);
    assert!(stdout(&scripted).contains("label 2 -> 2: 5"), "{}", stdout(&scripted));
    assert_status(&mksim_elsewhere(&["compare", "pipeline"]), 0);
    let checked = mksim_elsewhere(&["check", "file_io", "exercises/echo_exercise"]);
    assert_status(&checked, 0);
    assert!(stdout(&checked).contains("2 passed, 0 failed"), "{}", stdout(&checked));
}

#[test]
fn the_tour_suggests_commands_that_work_outside_the_repository() {
    let tour = mksim_elsewhere(&[]);
    assert_status(&tour, 0);
    let text = stdout(&tour);
    let suggestion = text.lines().find(|line| line.starts_with("Try: ")).expect("the tour suggests commands");
    for command in suggestion.trim_start_matches("Try: ").split(", ") {
        let words: Vec<&str> = command.split_whitespace().skip(1).collect();
        if words.first() == Some(&"tui") {
            continue; // needs a terminal
        }
        assert_status(&mksim_elsewhere(&words), 0);
    }
}

#[test]
fn a_file_at_the_path_wins_over_the_built_in_scenario_of_that_name() {
    let folder = std::env::temp_dir().join(format!("mksim-builtin-{}", std::process::id()));
    std::fs::create_dir_all(&folder).unwrap();
    std::fs::write(
        folder.join("file_io"),
        "Scenario(name: \"mine\", processes: [(name: \"p\", priority: 5, program: [])])",
    )
    .unwrap();
    let output = Command::new(mksim_binary()).args(["run", "file_io"]).current_dir(&folder).output().unwrap();
    std::fs::remove_dir_all(&folder).ok();
    assert_status(&output, 0);
    assert!(stdout(&output).starts_with("mine (microkernel mode)"), "{}", stdout(&output));
}

#[test]
fn a_name_that_is_neither_a_file_nor_built_in_is_refused_with_a_suggestion() {
    let output = mksim_elsewhere(&["run", "file_ioo"]);
    assert_status(&output, 2);
    assert!(stderr(&output).contains("did you mean the built-in scenario `file_io`?"), "{}", stderr(&output));
    let far = mksim_elsewhere(&["run", "no-such-thing"]);
    assert_status(&far, 2);
    assert!(stderr(&far).contains("`mksim list` names the built-in scenarios"), "{}", stderr(&far));
}
