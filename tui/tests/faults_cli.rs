//! `mksim faults` and the `--fault` option, driven as people use them: the
//! campaign's figures in text and JSON, faults given on the command line,
//! and the exit status when the input is wrong (2) or a run ends in a kernel
//! panic the scenario does not expect (1).

mod binary;

use binary::{assert_status, json, mksim, stderr, stdout};
use serde_json::Value;

/// One figure of one mode in a campaign's JSON.
#[track_caller]
fn figure(report: &Value, mode: &str, name: &str) -> u64 {
    report[mode][name].as_u64().unwrap_or_else(|| panic!("no count {mode}.{name} in {report:#}"))
}

const FIGURES: [&str; 11] = [
    "runs",
    "system_crashes",
    "server_restarts",
    "client_ops_failed",
    "client_ops_retried",
    "client_ops_succeeded",
    "data_lost_acknowledged",
    "data_lost_unacknowledged",
    "data_missing",
    "faults_manifested",
    "clients_blocked",
];

#[test]
fn faults_json_shows_no_system_crash_in_microkernel_mode_and_one_per_fault_in_monolithic_mode() {
    let output = mksim(&["faults", "scenarios/fault_campaign.ron", "--runs", "30", "--threads", "2", "--json"]);
    assert_status(&output, 0);
    let report = json(&output);
    for mode in ["microkernel", "monolithic"] {
        let fields: Vec<&str> =
            report[mode].as_object().expect("an object per mode").keys().map(String::as_str).collect();
        let mut expected = FIGURES.to_vec();
        expected.push("profile");
        expected.sort_unstable();
        assert_eq!(fields, expected, "{mode}");
        assert_eq!(figure(&report, mode, "runs"), 30);
        assert_eq!(figure(&report, mode, "faults_manifested"), 30, "{report:#}");
        assert_eq!(figure(&report, mode, "clients_blocked"), 0, "{report:#}");
    }
    assert_eq!(figure(&report, "microkernel", "system_crashes"), 0, "{report:#}");
    assert!(figure(&report, "microkernel", "server_restarts") > 0, "{report:#}");
    assert_eq!(figure(&report, "monolithic", "system_crashes"), 30, "{report:#}");
    assert_eq!(figure(&report, "monolithic", "server_restarts"), 0, "{report:#}");
}

#[test]
fn faults_json_names_the_scenario_the_seeds_the_profiles_and_the_figures_by_fault() {
    let output = mksim(&[
        "faults",
        "scenarios/fault_campaign.ron",
        "--runs",
        "20",
        "--seed",
        "7",
        "--mono-profile",
        "monolithic",
        "--json",
    ]);
    assert_status(&output, 0);
    let report = json(&output);
    let keys: Vec<&str> = report.as_object().expect("an object").keys().map(String::as_str).collect();
    assert_eq!(
        keys,
        ["by_fault", "first_seed", "last_seed", "microkernel", "monolithic", "random_faults", "runs", "scenario"]
    );
    assert_eq!(report["scenario"], "fault-campaign");
    assert_eq!((&report["first_seed"], &report["last_seed"], &report["runs"]), (&7.into(), &26.into(), &20.into()));
    assert_eq!(report["random_faults"], true);
    assert_eq!(report["microkernel"]["profile"], "sel4", "the scenario's");
    assert_eq!(report["monolithic"]["profile"], "monolithic", "--mono-profile");
    // The breakdown by fault drawn, as the text prints it, with every figure of both modes.
    let by_fault = report["by_fault"].as_object().expect("an object by fault drawn");
    assert!(!by_fault.is_empty(), "{report:#}");
    let mut runs = 0;
    for (fault, modes) in by_fault {
        let kind = ["crash", "hang", "corrupt reply", "drop message"].iter().any(|kind| fault.starts_with(kind));
        assert!(kind && fault.contains(" in "), "{fault}");
        for mode in ["microkernel", "monolithic"] {
            for name in FIGURES {
                assert!(modes[mode][name].is_u64(), "{fault}: no {mode}.{name} in {modes:#}");
            }
        }
        assert_eq!(modes["microkernel"]["runs"], modes["monolithic"]["runs"], "{fault}");
        runs += figure(modes, "microkernel", "runs");
    }
    assert_eq!(runs, 20, "every seed drew one fault");
    // The text prints the same figures under the same names, without the unit.
    let text = stdout(&mksim(&["faults", "scenarios/fault_campaign.ron", "--runs", "20", "--seed", "7"]));
    for name in FIGURES {
        let label = name.replace('_', " ");
        let line = text.lines().find(|line| line.starts_with(&label)).unwrap_or_else(|| panic!("{label}:\n{text}"));
        let values: Vec<u64> = line[label.len()..].split_whitespace().filter_map(|word| word.parse().ok()).collect();
        assert_eq!(values, [figure(&report, "microkernel", name), figure(&report, "monolithic", name)], "{line}");
    }
    for (fault, modes) in by_fault {
        let line = text.lines().find(|line| line.starts_with(fault.as_str())).unwrap_or_else(|| panic!("{fault}"));
        let runs: u64 = line[fault.len()..].split_whitespace().next().and_then(|word| word.parse().ok()).expect("runs");
        assert_eq!(runs, figure(modes, "microkernel", "runs"), "{line}");
    }
}

#[test]
fn faults_prints_a_table_with_a_column_per_mode() {
    let output = mksim(&["faults", "scenarios/fault_campaign.ron", "--runs", "12", "--seed", "100"]);
    assert_status(&output, 0);
    let text = stdout(&output);
    assert!(text.starts_with("fault campaign: fault-campaign, seeds 100..=111, one random fault per seed\n"), "{text}");
    let row = |name: &str| -> Vec<String> {
        let line = text.lines().find(|line| line.starts_with(name)).unwrap_or_else(|| panic!("no {name} row:\n{text}"));
        line[name.len()..].split_whitespace().map(str::to_owned).collect()
    };
    assert_eq!(row("runs"), ["12", "12"]);
    assert_eq!(row("system crashes"), ["0", "12"]);
    assert_eq!(row("clients blocked (runs)"), ["0", "0"]);
    assert!(text.contains("microkernel") && text.contains("monolithic"), "{text}");
}

#[test]
fn faults_gives_the_same_figures_on_one_thread_as_on_three() {
    let campaign = |threads: &str| {
        let output = mksim(&["faults", "scenarios/fault_campaign.ron", "--runs", "16", "--threads", threads, "--json"]);
        assert_status(&output, 0);
        stdout(&output)
    };
    assert_eq!(campaign("1"), campaign("3"));
}

#[test]
fn faults_with_only_delays_from_the_command_line_crashes_neither_mode() {
    let output = mksim(&[
        "faults",
        "scenarios/fault_campaign.ron",
        "--runs",
        "8",
        "--fault",
        "fs:delay=2000@p=0.5",
        "--fault",
        "block:delay=500@msg=3",
        "--json",
    ]);
    assert_status(&output, 0);
    let report = json(&output);
    for mode in ["microkernel", "monolithic"] {
        let names = ["system_crashes", "faults_manifested", "clients_blocked", "client_ops_failed", "data_missing"];
        for name in names.into_iter().chain(["data_lost_acknowledged", "data_lost_unacknowledged"]) {
            assert_eq!(figure(&report, mode, name), 0, "{mode}.{name} in {report:#}");
        }
    }
}

#[test]
fn a_fault_on_the_command_line_of_run_reaches_the_run_and_its_json() {
    let output = mksim(&["run", "scenarios/fs_restart.ron", "--fault", "console:corrupt@msg=1", "--json"]);
    // The run completes, but the writer's one print fails with a corrupt reply its script did not
    // expect, and the writer faults: the scenario does not say it may, so the status is 1.
    assert_status(&output, 1);
    assert!(stderr(&output).contains("writer faulted"), "{}", stderr(&output));
    let report = json(&output);
    assert_eq!(report["reliability"]["failures_injected"], 2, "the scenario's fault and this one: {report:#}");
    assert_eq!(report["reliability"]["restarts"]["fs"], 1, "{report:#}");
    let processes = report["processes"].as_array().expect("a list of processes");
    let writer = processes.iter().find(|process| process["name"] == "writer").expect("the writer is listed");
    assert_eq!(writer["fault"], "failed with code 1: step 8 (print): corrupt reply", "{writer:#}");

    let output =
        mksim(&["run", "scenarios/hello.ron", "--mode", "monolithic", "--fault", "console:crash@msg=1", "--json"]);
    assert_status(&output, 1);
    let report = json(&output);
    assert_eq!(report["outcome"], "kernel_panic", "{report:#}");
    assert_eq!(report["kernel_panic"]["fault"], "crash", "{report:#}");
    assert_eq!(report["kernel_panic"]["lost"][0]["process"], "hello", "{report:#}");
    assert_eq!(report["kernel_panic"]["lost"][0]["operation"], "console.write", "{report:#}");
}

#[test]
fn a_kernel_panic_the_scenario_expects_is_a_success() {
    for file in ["scenarios/driver_restart.ron", "scenarios/fs_restart.ron", "scenarios/hung_server.ron"] {
        let output = mksim(&["run", file, "--mode", "monolithic"]);
        assert_status(&output, 0);
        assert!(stdout(&output).contains("KERNEL PANIC"), "{file}:\n{}", stdout(&output));
    }
}

#[test]
fn bad_faults_on_the_command_line_are_refused_with_status_2() {
    for (fault, words) in [
        ("fs:explode@msg=1", "unknown fault kind"),
        ("fs:crash@msg=0", "counts from 1"),
        ("fs:crash@p=1.5", "not a probability"),
        ("fs:crash", "expected SERVER:KIND@WHEN"),
        ("timer:crash@msg=1", "does not boot timer"),
        ("supervisor:crash@msg=1", "not `supervisor`"),
    ] {
        for command in ["faults", "run"] {
            let output = mksim(&[command, "scenarios/fault_campaign.ron", "--fault", fault]);
            assert_status(&output, 2);
            let error = stderr(&output);
            assert!(error.contains(words), "{command} --fault {fault}: {error}");
            assert!(stdout(&output).is_empty(), "{command} --fault {fault}: {}", stdout(&output));
        }
    }
}

/// `--compare-recovery` adds the recovering figures: on `fs_restart`, whose crash strikes a
/// write and leaves a descriptor stale, the two operations that fail without recovery do not
/// fail with it, and nothing is lost.
#[test]
fn faults_compare_recovery_adds_the_figures_of_recovering_clients() {
    let output = mksim(&["faults", "scenarios/fs_restart.ron", "--runs", "3", "--compare-recovery", "--json"]);
    assert_status(&output, 0);
    let report = json(&output);
    assert_eq!(figure(&report, "microkernel", "client_ops_failed"), 6, "{report:#}");
    assert_eq!(figure(&report, "microkernel_recovering", "client_ops_failed"), 0, "{report:#}");
    assert_eq!(figure(&report, "microkernel_recovering", "data_lost_unacknowledged"), 0, "{report:#}");
    assert!(figure(&report, "microkernel", "data_lost_unacknowledged") > 0, "{report:#}");
    let text = stdout(&mksim(&["faults", "scenarios/fs_restart.ron", "--runs", "3", "--compare-recovery"]));
    assert!(text.contains("μ recovering"), "{text}");
}

/// `run --recover` turns recovery on for every process: `fs_restart`'s writer then gets the
/// write its script expects to fail, and the run says so.
#[test]
fn run_recover_turns_recovery_on_for_every_process() {
    let plain = mksim(&["run", "scenarios/fs_restart.ron"]);
    assert_status(&plain, 0);
    let recovering = mksim(&["run", "scenarios/fs_restart.ron", "--recover"]);
    assert_status(&recovering, 1);
    assert!(stderr(&recovering).contains("but it succeeded"), "{}", stderr(&recovering));
    assert!(
        stdout(&recovering).contains("file data lost: 0 B acknowledged, 0 B unacknowledged"),
        "{}",
        stdout(&recovering)
    );
}
