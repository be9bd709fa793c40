//! One rule for `--fault` in every command: it adds to the scenario's own faults, never
//! replaces them. `driver_restart.ron` crashes the block driver at its sixth request; a delay
//! given on the command line must not take that crash away, in a run or in a campaign.

use std::process::Command;

fn mksim(arguments: &[&str]) -> String {
    let output = Command::new(env!("CARGO_BIN_EXE_mksim"))
        .current_dir(concat!(env!("CARGO_MANIFEST_DIR"), "/.."))
        .args(arguments)
        .output()
        .expect("mksim runs");
    assert!(output.status.code().is_some_and(|code| code <= 1), "{arguments:?}: {output:?}");
    String::from_utf8(output.stdout).expect("text output")
}

const DELAY: &str = "fs:delay=5000@msg=1";

#[test]
fn run_keeps_the_scenarios_faults_and_adds_the_command_lines() {
    let text = mksim(&["run", "scenarios/driver_restart.ron", "--fault", DELAY]);
    assert!(text.contains("restarts: block ×1"), "the scenario's driver crash still strikes:\n{text}");
    assert!(text.contains("(+1 delays)"), "the command line's delay strikes too:\n{text}");
}

#[test]
fn a_campaign_keeps_the_scenarios_faults_and_adds_the_command_lines() {
    let json = mksim(&["faults", "scenarios/driver_restart.ron", "--runs", "3", "--fault", DELAY, "--json"]);
    let report: serde_json::Value = serde_json::from_str(&json).expect("JSON");
    let micro = &report["microkernel"];
    assert_eq!(micro["server_restarts"], 3, "the scenario's crash in every seed:\n{json}");
    let alone = mksim(&["faults", "scenarios/driver_restart.ron", "--runs", "3", "--json"]);
    let alone: serde_json::Value = serde_json::from_str(&alone).expect("JSON");
    assert_eq!(alone["microkernel"]["server_restarts"], micro["server_restarts"]);
}
