//! The course pack in `scenarios/labs/`: each lab is a locked exercise whose graded program is
//! a starter that does nothing yet. These tests hold every lab to what a lecturer relies on:
//! the starter fails and earns less than full points, the solution kept here (in
//! `tests/labs/`, never handed out) passes with every point in both modes, an empty program
//! earns nothing, a typical mistake (`tests/labs/mistakes/`) fails on the expectation that is
//! there to catch it, and each lab has a README with the sections students are told to read.

use mksim_core::grading::{Exercise, Graded, Submission, check_file};
use mksim_core::run::RunOptions;
use mksim_core::scenario::{ProgramOverride, ProgramSource};
use mksim_servers::system::Mode;
use std::path::{Path, PathBuf};

/// Each lab's folder and the process students write.
const LABS: &[(&str, &str)] = &[
    ("01-first-message", "client"),
    ("02-reply-and-badges", "server"),
    ("03-back-pressure", "producer"),
    ("04-priority-inheritance", "server"),
    ("05-fault-isolation", "writer"),
    ("06-pipeline", "upcase"),
    ("07-message-queues", "dispatcher"),
    ("08-sockets", "server"),
];

fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

fn lab_file(lab: &str) -> String {
    workspace().join("scenarios/labs").join(lab).join("lab.ron").display().to_string()
}

fn solution(lab: &str) -> PathBuf {
    workspace().join("tests/labs").join(format!("{lab}.rhai"))
}

/// Each lab's typical mistake, and the case that must catch it.
const MISTAKES: &[(&str, &str)] = &[
    ("01-first-message", "console of client"),
    ("02-reply-and-badges", "console of judge"),
    ("03-back-pressure", "console of worker"),
    ("04-priority-inheritance", "exit code of high is 0"),
    ("05-fault-isolation", "contents of /notes.txt"),
    ("06-pipeline", "console of consumer"),
    ("07-message-queues", "at most 50 messages"),
    ("08-sockets", "console of bob"),
];

fn grade(lab: &str, process: &str, program: PathBuf, options: &RunOptions) -> (Exercise, Graded) {
    let exercise = exercise(lab, process);
    let program = ProgramOverride { process: process.to_owned(), source: ProgramSource::File(program) };
    let graded = exercise.grade(&Submission::of(vec![program]), options);
    (exercise, graded)
}

fn exercise(lab: &str, process: &str) -> Exercise {
    Exercise::load(&lab_file(lab), &[process.to_owned()], &RunOptions::default())
        .unwrap_or_else(|error| panic!("{lab}: the exercise cannot be used: {error}"))
}

#[test]
fn every_lab_folder_is_listed_here() {
    let mut folders: Vec<String> = std::fs::read_dir(workspace().join("scenarios/labs"))
        .expect("the labs folder")
        .map(|entry| entry.expect("a folder entry"))
        .filter(|entry| entry.path().is_dir())
        .map(|entry| entry.file_name().to_string_lossy().into_owned())
        .collect();
    folders.sort();
    let listed: Vec<&str> = LABS.iter().map(|(lab, _)| *lab).collect();
    assert_eq!(folders, listed, "add the new lab to LABS with the process students write");
    assert!(LABS.len() >= 6, "the course pack has at least six labs");
}

#[test]
fn every_starter_fails_and_earns_less_than_full_points() {
    for (lab, _) in LABS {
        let graded = check_file(&lab_file(lab), &RunOptions::default());
        let result = graded.result.as_ref().unwrap_or_else(|error| panic!("{lab}: {error}"));
        assert!(!graded.passed(), "{lab}: the starter passes");
        assert!(result.max_points() > 0, "{lab}: the lab earns no points");
        assert!(graded.points() < result.max_points(), "{lab}: the starter earns every point");
    }
}

#[test]
fn an_empty_program_earns_nothing_in_any_lab() {
    for (lab, process) in LABS {
        let exercise = exercise(lab, process);
        let free: Vec<&str> = exercise.free_points().iter().map(|case| case.name.as_str()).collect();
        assert!(free.is_empty(), "{lab}: an empty program earns points for {free:?}");
    }
}

#[test]
fn every_solution_passes_with_full_points_in_both_modes_under_two_seeds() {
    let seeds = [RunOptions::default(), RunOptions { seed: Some(0x5eed_1234_abcd), ..RunOptions::default() }];
    for (lab, process) in LABS {
        for options in &seeds {
            let (exercise, graded) = grade(lab, process, solution(lab), options);
            let result = graded.result.as_ref().unwrap_or_else(|error| panic!("{lab}: {error}"));
            let failed = result.failures();
            assert!(failed.is_empty(), "{lab} (seed {:?}): the solution fails:\n{}", options.seed, failed.join("\n"));
            assert_eq!(graded.points(), exercise.max_points(), "{lab}");
            for mode in [Mode::Microkernel, Mode::Monolithic] {
                let checked = result.cases.iter().any(|case| case.mode == Some(mode.name()));
                assert!(checked, "{lab}: nothing was checked in {} mode", mode.name());
            }
        }
    }
}

#[test]
fn every_labs_typical_mistake_fails_where_the_lab_means_to_catch_it() {
    assert_eq!(MISTAKES.len(), LABS.len(), "give each lab a typical mistake");
    for ((lab, process), (mistaken, case)) in LABS.iter().zip(MISTAKES) {
        assert_eq!(lab, mistaken, "MISTAKES goes in the order of LABS");
        let program = workspace().join("tests/labs/mistakes").join(format!("{lab}.rhai"));
        let (_, graded) = grade(lab, process, program, &RunOptions::default());
        let result = graded.result.as_ref().unwrap_or_else(|error| panic!("{lab}: {error}"));
        assert!(!graded.passed(), "{lab}: the mistake passes");
        let caught = result.cases.iter().any(|checked| checked.name == *case && !checked.passed);
        let names: Vec<&str> = result.cases.iter().map(|checked| checked.name.as_str()).collect();
        assert!(caught, "{lab}: the case {case:?} does not fail; the cases: {names:?}");
    }
}

#[test]
fn every_lab_has_a_readme_with_its_sections() {
    for (lab, _) in LABS {
        let path = workspace().join("scenarios/labs").join(lab).join("README.md");
        let text = std::fs::read_to_string(&path).unwrap_or_else(|error| panic!("{}: {error}", path.display()));
        for section in ["## Goal", "## What to watch", "## Questions", "## Hints", "mksim check"] {
            assert!(text.contains(section), "{}: no {section:?}", path.display());
        }
    }
}
