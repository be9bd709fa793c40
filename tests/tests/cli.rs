//! The `mksim` binary, driven the way people use it: run, compare, check,
//! export and profiles, with the output and exit status they rely on
//! (0 success, 1 expectations failed or the run ended unexpectedly, 2 bad
//! input or usage).

use mksim_tests::binary::{assert_status, json, mksim, stdout, workspace};
use serde_json::Value;
use std::path::{Path, PathBuf};

/// A folder of its own for one test's files, emptied first.
fn scratch(test: &str) -> PathBuf {
    let folder = Path::new(env!("CARGO_TARGET_TMPDIR")).join("cli").join(test);
    let _ = std::fs::remove_dir_all(&folder);
    std::fs::create_dir_all(&folder).expect("the scratch folder can be made");
    folder
}

fn scenario_text(file: &str) -> String {
    std::fs::read_to_string(workspace().join("scenarios").join(file)).expect("the scenario file is readable")
}

/// `text` with `from` replaced by `to` exactly once.
#[track_caller]
fn edit(text: &str, from: &str, to: &str) -> String {
    assert_eq!(text.matches(from).count(), 1, "{from:?} must occur exactly once");
    text.replacen(from, to, 1)
}

const METRICS: [&str; 5] = ["syscalls", "messages", "context_switches", "bytes_copied", "cycles"];

#[track_caller]
fn assert_metrics(object: &Value, context: &str) {
    for field in METRICS {
        assert!(object[field].is_u64(), "{context}: `{field}` is not a count in {object:#}");
    }
}

// ----- run -----

#[test]
fn run_json_prints_one_object_with_outcome_steps_hash_and_metrics() {
    let output = mksim(&["run", "scenarios/hello.ron", "--json"]);
    assert_status(&output, 0);
    let report = json(&output);
    assert_eq!(report["outcome"], "completed");
    assert!(report["steps"].as_u64().is_some_and(|steps| steps > 0), "{report:#}");
    let hash = report["trace_hash"].as_str().expect("trace_hash is a string");
    assert_eq!(hash.len(), 64, "a BLAKE3 hash in hex: {hash}");
    assert!(hash.chars().all(|character| character.is_ascii_hexdigit()), "{hash}");
    assert_metrics(&report["metrics"], "run --json");
    assert_eq!(report["metrics"]["messages"], 4, "a lookup and a console write, each a call and a reply");
    assert_eq!(report["console"]["hello"], "hello, world\n");
    assert!(report["per_operation"]["console.write"].is_object(), "{report:#}");
    assert!(report["processes"].as_array().is_some_and(|processes| !processes.is_empty()));
}

#[test]
fn run_json_gives_the_same_trace_hash_every_time() {
    let hash = |args: &[&str]| json(&mksim(args))["trace_hash"].as_str().expect("a hash").to_owned();
    let first = hash(&["run", "scenarios/ping_pong.ron", "--json"]);
    assert_eq!(first, hash(&["run", "scenarios/ping_pong.ron", "--json"]));
    assert_ne!(first, hash(&["run", "scenarios/ping_pong.ron", "--json", "--profile", "mach3"]));
    let seeded = json(&mksim(&["run", "scenarios/ping_pong.ron", "--json", "--seed", "99"]));
    assert_eq!(seeded["seed"], 99);
    assert_eq!(seeded["outcome"], "completed");
}

#[test]
fn run_prints_the_message_trace_and_a_summary() {
    let output = mksim(&["run", "scenarios/ping_pong.ron"]);
    assert_status(&output, 0);
    let text = stdout(&output);
    assert_eq!(text.matches("ping ──label 1").count(), 3, "three calls:\n{text}");
    assert_eq!(text.matches("ping ◀──label 1").count(), 3, "three replies:\n{text}");
    assert!(text.contains("outcome: completed"), "{text}");
    let monolithic = stdout(&mksim(&["run", "scenarios/hello.ron", "--mode", "monolithic"]));
    assert!(monolithic.contains("══▶ kernel"), "a service call into the kernel:\n{monolithic}");
    assert!(monolithic.contains("mode monolithic"), "{monolithic}");
}

#[test]
fn the_expected_deadlock_exits_0_and_an_unexpected_one_exits_1() {
    let output = mksim(&["run", "scenarios/deadlock.ron"]);
    assert_status(&output, 0);
    assert!(stdout(&output).contains("outcome: deadlock"), "{}", stdout(&output));
    let folder = scratch("unexpected_deadlock");
    let file = folder.join("deadlock.ron");
    std::fs::write(
        &file,
        edit(&scenario_text("deadlock.ron"), "expect: (outcome: Deadlock)", "expect: (outcome: Completed)"),
    )
    .expect("writable");
    let output = mksim(&["run", file.to_str().expect("a UTF-8 path")]);
    assert_status(&output, 1);
    let text = stdout(&output);
    assert!(text.contains("alice") && text.contains("bob") && text.contains("wait-for cycle"), "{text}");
}

// ----- compare -----

#[test]
fn compare_json_gives_both_modes_with_metrics_at_the_top_and_per_operation() {
    let output = mksim(&["compare", "scenarios/file_io.ron", "--json"]);
    assert_status(&output, 0);
    let comparison = json(&output);
    for mode in ["microkernel", "monolithic"] {
        let side = &comparison[mode];
        assert_metrics(side, mode);
        let reads = &side["per_operation"]["fs.read"];
        assert_eq!(reads["count"], 2, "{mode}: {side:#}");
    }
    assert_eq!(comparison["monolithic"]["messages"], 0);
    assert_eq!(comparison["monolithic"]["per_operation"]["fs.read"]["messages"], 0);
    let micro_messages = comparison["microkernel"]["messages"].as_u64().expect("a count");
    assert!(micro_messages > 0);
    let micro_reads = comparison["microkernel"]["per_operation"]["fs.read"]["messages"].as_u64().expect("a count");
    assert!(micro_reads >= 4, "two reads, each a call and a reply at least: {micro_reads}");
}

#[test]
fn compare_prints_the_comparison_table() {
    let output = mksim(&["compare", "scenarios/file_io.ron"]);
    assert_status(&output, 0);
    let text = stdout(&output);
    for row in ["syscalls", "messages", "context switches", "bytes copied", "cycles", "fs.read", "fs.write"] {
        assert!(text.lines().any(|line| line.starts_with(row)), "no {row} row:\n{text}");
    }
    assert!(text.contains("microkernel") && text.contains("monolithic"), "{text}");
}

// ----- check -----

#[test]
fn check_of_the_scenarios_folder_passes_every_file() {
    let output = mksim(&["check", "scenarios"]);
    assert_status(&output, 0);
    let text = stdout(&output);
    let files = std::fs::read_dir(workspace().join("scenarios"))
        .expect("readable")
        .filter(|entry| entry.as_ref().is_ok_and(|entry| entry.path().extension().is_some_and(|ext| ext == "ron")))
        .count();
    let last = text.lines().last().expect("check prints something");
    assert_eq!(last, format!("{files} passed, 0 failed"), "{text}");
    assert_eq!(text.lines().filter(|line| line.starts_with("PASS ")).count(), files, "{text}");
    assert!(!text.contains("FAIL"), "{text}");
}

#[test]
fn check_json_says_whether_everything_passed() {
    let output = mksim(&["check", "scenarios/hello.ron", "scenarios/ping_pong.ron", "--json"]);
    assert_status(&output, 0);
    let result = json(&output);
    assert_eq!(result["passed"], true);
    assert_eq!(result["scenarios"].as_array().map(Vec::len), Some(2));
}

#[test]
fn a_wrong_console_expectation_fails_the_check_with_status_1() {
    let folder = scratch("wrong_console");
    let file = folder.join("hello.ron");
    let text = edit(
        &scenario_text("hello.ron"),
        r#"console: { "hello": "hello, world\n" }"#,
        r#"console: { "hello": "goodbye\n" }"#,
    );
    std::fs::write(&file, text).expect("writable");
    let output = mksim(&["check", file.to_str().expect("a UTF-8 path"), "scenarios/ping_pong.ron"]);
    assert_status(&output, 1);
    let text = stdout(&output);
    assert!(text.lines().any(|line| line.starts_with("FAIL hello")), "{text}");
    let fail = text.lines().find(|line| line.trim_start().starts_with("FAIL [")).unwrap_or_else(|| panic!("{text}"));
    assert!(fail.contains("console of hello") && fail.contains("goodbye"), "{fail}");
    assert!(fail.contains(r#"hello, world\n"#), "the failure shows what was printed: {fail}");
    assert_eq!(text.lines().last(), Some("1 passed, 1 failed"), "{text}");
}

// ----- export -----

#[test]
fn export_chrome_writes_a_trace_perfetto_can_open() {
    let folder = scratch("export_chrome");
    let file = folder.join("ping_pong.json");
    let output =
        mksim(&["export", "scenarios/ping_pong.ron", "--format", "chrome", "-o", file.to_str().expect("UTF-8")]);
    assert_status(&output, 0);
    assert!(output.stdout.is_empty(), "with -o nothing goes to standard output");
    let text = std::fs::read_to_string(&file).expect("the export was written");
    let trace: Value = serde_json::from_str(&text).unwrap_or_else(|error| panic!("not JSON ({error}): {text}"));
    let events = trace["traceEvents"].as_array().expect("traceEvents is an array");
    assert!(!events.is_empty());
    assert!(events.iter().all(|event| event["ph"].is_string()), "every event has a phase");
}

#[test]
fn export_mermaid_prints_a_sequence_diagram() {
    let output = mksim(&["export", "scenarios/ping_pong.ron", "--format", "mermaid"]);
    assert_status(&output, 0);
    let text = stdout(&output);
    assert!(text.starts_with("sequenceDiagram"), "{text}");
    assert!(text.contains("ping") && text.contains("pong"), "{text}");
}

#[test]
fn export_jsonl_prints_one_json_object_per_line() {
    let output = mksim(&["export", "scenarios/hello.ron", "--format", "jsonl", "--mode", "monolithic"]);
    assert_status(&output, 0);
    let text = stdout(&output);
    assert!(text.lines().count() > 1, "{text}");
    for line in text.lines() {
        let event: Value = serde_json::from_str(line).unwrap_or_else(|error| panic!("{error}: {line}"));
        assert!(event.is_object(), "{line}");
    }
}

// ----- the tour and the profiles -----

#[test]
fn mksim_without_arguments_runs_the_tour_and_prints_the_comparison() {
    let output = mksim(&[]);
    assert_status(&output, 0);
    let text = stdout(&output);
    assert!(text.contains("── comparison"), "{text}");
    for row in ["syscalls", "messages", "context switches", "cycles", "fs.read"] {
        assert!(text.lines().any(|line| line.starts_with(row)), "no {row} row:\n{text}");
    }
    assert!(text.contains("notes ──fs.read("), "the tour's message trace:\n{text}");
}

/// The first words of the lines of the profiles table: its header, then one name per row.
fn table_names(text: &str) -> Vec<&str> {
    text.lines().take_while(|line| !line.is_empty()).filter_map(|line| line.split_whitespace().next()).collect()
}

#[test]
fn profiles_lists_the_five_built_in_profiles_in_a_table_and_describes_them() {
    let output = mksim(&["profiles"]);
    assert_status(&output, 0);
    let text = stdout(&output);
    assert_eq!(table_names(&text), ["profile", "sel4", "l4", "mach3", "minix3", "monolithic"], "{text}");
    let header = text.lines().next().unwrap_or_default();
    for column in ["function call", "syscall", "one-way IPC", "context switch", "interrupt", "copy/byte"] {
        assert!(header.contains(column), "no {column} column in {header:?}");
    }
    assert!(text.lines().any(|line| line.starts_with("sel4") && line.contains("Skylake")), "{text}");
}

#[test]
fn profiles_mark_an_estimated_profile_once() {
    let text = stdout(&mksim(&["profiles"]));
    let rows: Vec<&str> = text.lines().skip(1).take_while(|line| !line.is_empty()).collect();
    assert_eq!(rows.len(), mksim_kernel::CostProfile::built_in_names().count(), "{text}");
    for row in rows {
        let name = row.split_whitespace().next().expect("a name");
        let estimated = mksim_kernel::CostProfile::built_in(name).expect("a built-in profile").estimated;
        assert_eq!(row.matches(" *").count(), usize::from(estimated), "{row}");
    }
}

#[test]
fn profiles_shows_a_profile_file_beside_the_built_in_ones() {
    let folder = scratch("profiles_file");
    let file = folder.join("mine.ron");
    let profile = edit(
        &std::fs::read_to_string(workspace().join("kernel/profiles/l4.ron")).expect("readable"),
        "name: \"l4\"",
        "name: \"mine\"",
    );
    std::fs::write(&file, profile).expect("writable");
    let text = stdout(&mksim(&["profiles", file.to_str().expect("UTF-8")]));
    assert_eq!(table_names(&text), ["profile", "sel4", "l4", "mach3", "minix3", "monolithic", "mine"], "{text}");
    let figures = |name: &str| {
        let row = text.lines().find(|line| line.split_whitespace().next() == Some(name)).expect("a row");
        row.split_whitespace().skip(1).collect::<Vec<_>>().join(" ")
    };
    assert_eq!(figures("mine"), figures("l4"), "{text}");
}

#[test]
fn a_profile_file_can_replace_the_built_in_costs() {
    let folder = scratch("profile_file");
    let file = folder.join("slow.ron");
    let profile = edit(
        &std::fs::read_to_string(workspace().join("kernel/profiles/sel4.ron")).expect("readable"),
        "name: \"sel4\"",
        "name: \"slow\"",
    );
    let profile = edit(&profile, "ipc_one_way_cycles: 375", "ipc_one_way_cycles: 100000");
    std::fs::write(&file, profile).expect("writable");
    let path = file.to_str().expect("UTF-8");
    let slow = json(&mksim(&["run", "scenarios/ping_pong.ron", "--json", "--profile", path]));
    let normal = json(&mksim(&["run", "scenarios/ping_pong.ron", "--json"]));
    assert_eq!(slow["profile"], "slow");
    let cycles = |report: &Value| report["metrics"]["cycles"].as_u64().expect("a count");
    // Six one-way IPCs, each 99 625 cycles dearer.
    assert_eq!(cycles(&slow) - cycles(&normal), 6 * (100_000 - 375), "{slow:#}");
}
