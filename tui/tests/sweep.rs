//! `mksim sweep`: a scenario run for each value of a parameter under several cost profiles,
//! through the library and through the binary.

use mksim_core::scenario::Scenario;
use mksim_core::sweep::{Sweep, SweepError, SweepRequest, sweep};
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

const SIZES: [&str; 4] = ["8", "64", "512", "4096"];

fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

fn size_sweep_text() -> String {
    std::fs::read_to_string(workspace().join("scenarios/size_sweep.ron")).expect("size_sweep.ron is readable")
}

fn strings(items: &[&str]) -> Vec<String> {
    items.iter().map(|item| (*item).to_owned()).collect()
}

fn run_sweep(text: &str, parameter: &str, values: &[&str], profiles: &[&str]) -> Result<Sweep, SweepError> {
    let (values, profiles) = (strings(values), strings(profiles));
    let request = SweepRequest {
        text,
        file: "size_sweep.ron",
        parameter,
        values: &values,
        profiles: &profiles,
        memory_limit: None,
    };
    sweep(&request)
}

fn per_round_trip(sweep: &Sweep, value: &str, profile: &str) -> f64 {
    let row = sweep.rows.iter().find(|row| row.value == value && row.profile == profile).expect("a row");
    row.figures.as_ref().and_then(|figures| figures.cycles_per_round_trip).expect("a completed run with round trips")
}

#[test]
fn the_size_sweep_shows_copying_catching_up_with_the_ipc() {
    let result =
        run_sweep(&size_sweep_text(), "size", &SIZES, &["mach3", "l4"]).unwrap_or_else(|error| panic!("{error}"));
    assert_eq!(result.rows.len(), 8, "one row per size and profile");
    assert_eq!(result.profiles, ["mach3", "l4"]);
    assert!(result.all_completed());
    for row in &result.rows {
        let figures = row.figures.as_ref().expect("completed");
        assert_eq!(figures.round_trips, 10, "ten calls answered");
        assert_eq!(figures.messages, 20, "a call and a reply each");
        let size: u64 = row.value.parse().expect("a number");
        assert_eq!(figures.bytes_copied, 20 * size, "every message copies the payload once");
        assert!(figures.per_operation.is_empty(), "raw calls are no client-stub operation");
    }
    for profile in ["mach3", "l4"] {
        let costs: Vec<f64> = SIZES.iter().map(|size| per_round_trip(&result, size, profile)).collect();
        assert!(costs.windows(2).all(|pair| pair[0] < pair[1]), "{profile}: {costs:?} does not grow with the size");
    }
    // Copying 4 KB twice costs 8192 more cycles on L4 at 1 cycle a byte, 18841 on Mach 3 at 2.3.
    let l4_growth = per_round_trip(&result, "4096", "l4") - per_round_trip(&result, "8", "l4");
    assert!((l4_growth - 2.0 * 4088.0).abs() < 1.0, "{l4_growth}");
    let ratio = |size: &str| result.ratios.iter().find(|ratio| ratio.value == size).and_then(|ratio| ratio.ratio);
    let (small, large) = (ratio("8").expect("a ratio at 8 bytes"), ratio("4096").expect("a ratio at 4096 bytes"));
    assert!(small > 3.0 * large, "mach3/l4 is {small:.2} at 8 bytes and {large:.2} at 4096");
    assert!(result.ratios.iter().all(|ratio| ratio.profiles == ["mach3", "l4"]));
}

#[test]
fn without_profiles_the_scenarios_own_runs_and_no_ratio_is_made() {
    let result = run_sweep(&size_sweep_text(), "size", &["8"], &[]).unwrap_or_else(|error| panic!("{error}"));
    assert_eq!(result.profiles, ["sel4"]);
    assert_eq!(result.rows.len(), 1);
    assert!(result.ratios.is_empty());
}

#[test]
fn a_run_that_does_not_complete_has_no_figures_and_no_ratio() {
    // 5000 bytes is over the scenario's message limit: the first call fails and the client faults.
    let result = run_sweep(&size_sweep_text(), "size", &["8", "5000"], &["mach3", "l4"]).expect("the sweep runs");
    assert!(!result.all_completed());
    let failed: Vec<_> = result.rows.iter().filter(|row| row.value == "5000").collect();
    assert_eq!(failed.len(), 2);
    for row in failed {
        assert_eq!(row.outcome, "faulted");
        assert!(row.figures.is_none());
        assert!(row.detail.as_deref().is_some_and(|detail| detail.contains("message too large")), "{row:?}");
    }
    assert!(result.ratios[0].ratio.is_some());
    assert_eq!(result.ratios[1].ratio, None);
}

#[test]
fn bad_input_is_refused_before_anything_runs() {
    let text = size_sweep_text();
    let unknown = run_sweep(&text, "sise", &["8"], &[]).expect_err("an undeclared parameter");
    assert!(matches!(&unknown, SweepError::UnknownParameter { declared, .. } if declared == &["size"]), "{unknown}");
    assert!(unknown.to_string().contains("no parameter `sise` (declared: size)"), "{unknown}");
    let value = run_sweep(&text, "size", &["8", "big"], &[]).expect_err("not a number");
    assert!(matches!(value, SweepError::Value { .. }), "{value}");
    let profile = run_sweep(&text, "size", &["8"], &["l4", "pdp11"]).expect_err("an unknown profile");
    assert!(matches!(profile, SweepError::Profile { .. }), "{profile}");
    assert_eq!(run_sweep(&text, "size", &[], &[]).expect_err("no values"), SweepError::NoValues);
}

#[test]
fn round_trips_count_the_replies_clients_received() {
    let scenario = Scenario::parse(&size_sweep_text(), "size_sweep.ron").expect("valid");
    let report = mksim_core::run::run(&scenario, mksim_servers::system::Mode::Microkernel, &Default::default());
    let clients = ["client"].into_iter().collect();
    assert_eq!(mksim_core::sweep::round_trips(&report.log, &clients), 10);
    let servers = ["echo"].into_iter().collect();
    assert_eq!(mksim_core::sweep::round_trips(&report.log, &servers), 0, "the echo server makes no call");
}

// ----- the binary -----

fn mksim(arguments: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_mksim"))
        .current_dir(workspace())
        .args(arguments)
        .output()
        .expect("the mksim binary runs")
}

fn status(output: &Output) -> i32 {
    output.status.code().expect("an exit status")
}

#[test]
fn sweep_json_has_a_row_per_value_and_profile_and_the_ratios() {
    let output =
        mksim(&["sweep", "scenarios/size_sweep.ron", "--set", "size=8,4096", "--profiles", "mach3,l4", "--json"]);
    assert_eq!(status(&output), 0, "{}", String::from_utf8_lossy(&output.stderr));
    let value: serde_json::Value = serde_json::from_slice(&output.stdout).expect("JSON");
    assert_eq!(value["scenario"], "size sweep");
    assert_eq!(value["parameter"], "size");
    assert_eq!(value["profiles"], serde_json::json!(["mach3", "l4"]));
    let rows = value["rows"].as_array().expect("rows");
    assert_eq!(rows.len(), 4);
    for (row, (size, profile)) in rows.iter().zip([(8, "mach3"), (8, "l4"), (4096, "mach3"), (4096, "l4")]) {
        assert_eq!(row["size"], size, "{row}");
        assert_eq!(row["profile"], profile, "{row}");
        assert_eq!(row["outcome"], "completed", "{row}");
        assert_eq!(row["round_trips"], 10, "{row}");
        assert_eq!(row["messages"], 20, "{row}");
        assert_eq!(row["bytes_copied"], 20 * size, "{row}");
        let cycles = row["cycles"].as_f64().expect("cycles");
        let per_round_trip = row["cycles_per_round_trip"].as_f64().expect("cycles per round trip");
        assert!((per_round_trip - cycles / 10.0).abs() < 1e-9, "{row}");
    }
    let ratios = value["ratios"].as_array().expect("ratios");
    assert_eq!(ratios.len(), 2);
    assert_eq!(ratios[0]["size"], 8);
    assert_eq!(ratios[0]["profiles"], serde_json::json!(["mach3", "l4"]));
    let ratio = |index: usize| ratios[index]["ratio"].as_f64().expect("a ratio");
    assert!(ratio(0) > 3.0 * ratio(1), "{ratios:?}");
}

#[test]
fn sweep_prints_a_table_with_units() {
    let output = mksim(&["sweep", "scenarios/size_sweep.ron", "--set", "size=8,64", "--profiles", "mach3,l4"]);
    assert_eq!(status(&output), 0, "{}", String::from_utf8_lossy(&output.stderr));
    let text = String::from_utf8_lossy(&output.stdout);
    assert!(text.contains("cycles/round trip") && text.contains("bytes copied"), "{text}");
    let rows = text.lines().filter(|line| line.contains(" completed ")).count();
    assert_eq!(rows, 4, "{text}");
    assert!(text.contains("mach3 against l4, cycles per round trip:"), "{text}");
}

#[test]
fn sweep_exits_with_2_on_bad_input_and_1_when_a_run_fails() {
    let unknown = mksim(&["sweep", "scenarios/size_sweep.ron", "--set", "sise=8,64"]);
    assert_eq!(status(&unknown), 2);
    assert!(String::from_utf8_lossy(&unknown.stderr).contains("no parameter `sise`"));
    assert!(unknown.stdout.is_empty(), "nothing ran");
    for arguments in [
        &["sweep", "scenarios/size_sweep.ron", "--set", "size=8,big"][..],
        &["sweep", "scenarios/size_sweep.ron", "--set", "size"],
        &["sweep", "scenarios/size_sweep.ron", "--set", "size=8", "--profiles", "pdp11"],
        &["sweep", "scenarios/no_such_file.ron", "--set", "size=8"],
    ] {
        assert_eq!(status(&mksim(arguments)), 2, "{arguments:?}");
    }
    let too_large = mksim(&["sweep", "scenarios/size_sweep.ron", "--set", "size=8,5000", "--json"]);
    assert_eq!(status(&too_large), 1);
    let value: serde_json::Value = serde_json::from_slice(&too_large.stdout).expect("JSON");
    assert_eq!(value["rows"][1]["outcome"], "faulted");
    assert!(value["rows"][1]["cycles_per_round_trip"].is_null());
}
