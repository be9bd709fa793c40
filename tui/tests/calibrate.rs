//! `mksim calibrate` as people use it: measure this machine, write the profile,
//! run a scenario with it and see it beside the built-in profiles. Timings are
//! never asserted, only the order the profile promises.

use mksim_kernel::CostProfile;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn mksim(arguments: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_mksim"))
        .args(arguments)
        .current_dir(Path::new(env!("CARGO_MANIFEST_DIR")).join(".."))
        .output()
        .expect("the mksim binary runs")
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// A folder of its own for one test's files (under the target folder, as in the workspace
/// tests), emptied first.
fn scratch(test: &str) -> PathBuf {
    let folder = Path::new(env!("CARGO_TARGET_TMPDIR")).join("calibrate").join(test);
    let _ = std::fs::remove_dir_all(&folder);
    std::fs::create_dir_all(&folder).expect("the scratch folder can be made");
    folder
}

fn assert_in_order(profile: &CostProfile) {
    assert!(profile.function_call_cycles >= 1, "{profile:?}");
    assert!(profile.function_call_cycles < profile.syscall_cycles, "{profile:?}");
    assert!(profile.syscall_cycles < profile.ipc_one_way_cycles, "{profile:?}");
}

#[test]
fn a_calibrated_profile_keeps_its_order_runs_a_scenario_and_sits_beside_the_built_ins() {
    let file = scratch("profile_file").join("host.ron");
    let path = file.to_str().expect("the scratch folder has a UTF-8 path");

    let calibrate = mksim(&["calibrate", "--repeats", "1", "-o", path]);
    assert!(calibrate.status.success(), "{}", text(&calibrate.stderr));
    let table = text(&calibrate.stdout);
    for primitive in ["function call", "null syscall", "one-way message, pipe", "copy per byte", "clock"] {
        assert!(table.contains(primitive), "no {primitive} in\n{table}");
    }
    let profile = CostProfile::from_ron(&std::fs::read_to_string(&file).unwrap(), path).unwrap();
    assert_eq!(profile.name, "host");
    assert_in_order(&profile);
    assert!(profile.sources.iter().any(|source| source.starts_with("Estimated")), "{:?}", profile.sources);

    let run = mksim(&["run", "scenarios/ping_pong.ron", "--profile", path]);
    assert!(run.status.success(), "{}", text(&run.stderr));
    assert!(text(&run.stdout).contains("profile host"), "{}", text(&run.stdout));

    let profiles = mksim(&["profiles", path]);
    assert!(profiles.status.success(), "{}", text(&profiles.stderr));
    let listing = text(&profiles.stdout);
    let row = listing.lines().find(|line| line.starts_with("host ")).unwrap_or_else(|| panic!("{listing}"));
    let figures: Vec<&str> = row.split_whitespace().collect();
    assert_eq!(figures[3], profile.ipc_one_way_cycles.to_string(), "{row}");
    for name in CostProfile::built_in_names() {
        assert!(listing.lines().any(|line| line.starts_with(name)), "no {name} in\n{listing}");
    }
}

#[test]
fn without_a_file_the_profile_goes_to_standard_output_and_the_figures_to_standard_error() {
    let calibrate = mksim(&["calibrate", "--repeats", "1", "--json", "--name", "bench-box"]);
    assert!(calibrate.status.success(), "{}", text(&calibrate.stderr));
    let profile = CostProfile::from_ron(&text(&calibrate.stdout), "standard output").unwrap();
    assert_eq!(profile.name, "bench-box");
    assert_in_order(&profile);
    // A debug build warns on a line of its own before the figures.
    let errors = text(&calibrate.stderr);
    let json = &errors[errors.find("\n{").map_or(0, |newline| newline + 1)..];
    let figures: serde_json::Value = serde_json::from_str(json).unwrap_or_else(|error| panic!("{error}\n{errors}"));
    assert!(figures["clock_ghz"].as_f64().is_some_and(|ghz| ghz > 0.0), "{figures}");
    assert!(profile.description.contains(figures["cpu"].as_str().unwrap()), "{figures}");
    for primitive in ["function_call", "syscall", "pipe_one_way", "thread_handoff", "copy_per_byte"] {
        assert!(figures[primitive]["ns"].is_number() && figures[primitive]["cycles"].is_number(), "{figures}");
    }
}

#[test]
fn an_empty_name_and_a_missing_profile_file_are_refused() {
    let nameless = mksim(&["calibrate", "--name", ""]);
    assert_eq!(nameless.status.code(), Some(2), "{}", text(&nameless.stderr));
    let missing = mksim(&["profiles", "no-such-profile.ron"]);
    assert_eq!(missing.status.code(), Some(2));
    assert!(text(&missing.stderr).contains("no-such-profile.ron"), "{}", text(&missing.stderr));
}
