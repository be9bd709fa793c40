//! The `mksim` binary, driven the way people use it: run, compare, check,
//! export and profiles, with the output and exit status they rely on
//! (0 success, 1 expectations failed or the run ended unexpectedly, 2 bad
//! input or usage).

mod binary;

use binary::{assert_status, json, mksim, stderr, stdout, workspace};
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

/// `compare --json` on `args`, with status 0.
fn compare_json(args: &[&str]) -> Value {
    let mut all = vec!["compare", "--json"];
    all.extend_from_slice(args);
    let output = mksim(&all);
    assert_status(&output, 0);
    json(&output)
}

/// `run --json` on `args` in `mode`.
fn run_json(mode: &str, args: &[&str]) -> Value {
    let mut all = vec!["run", "--json", "--mode", mode];
    all.extend_from_slice(args);
    json(&mksim(&all))
}

fn cycles(run: &Value) -> u64 {
    run["metrics"]["cycles"].as_u64().expect("a count of cycles")
}

#[test]
fn compare_json_holds_each_mode_exactly_as_run_json_prints_it_and_the_ratios() {
    let comparison = compare_json(&["scenarios/tour.ron"]);
    let keys: Vec<&str> = comparison.as_object().expect("an object").keys().map(String::as_str).collect();
    assert_eq!(keys, ["comparable", "microkernel", "monolithic", "not_comparable_because", "ratios", "scenario"]);
    assert_eq!(comparison["scenario"], "tour");
    for mode in ["microkernel", "monolithic"] {
        assert_eq!(comparison[mode], run_json(mode, &["scenarios/tour.ron"]), "{mode}");
        assert_eq!(comparison[mode]["mode"], mode);
    }
    assert_eq!(comparison["comparable"], true);
    assert_eq!(comparison["not_comparable_because"], Value::Null);
    let ratios = &comparison["ratios"];
    let (micro, mono) = (&comparison["microkernel"]["metrics"], &comparison["monolithic"]["metrics"]);
    for total in METRICS {
        let (a, b) = (micro[total].as_f64().expect("a count"), mono[total].as_f64().expect("a count"));
        if b == 0.0 {
            assert_eq!(ratios[total], Value::Null, "{total}: nothing to divide by in monolithic mode");
        } else {
            assert_eq!(ratios[total].as_f64(), Some(a / b), "{total}");
        }
    }
    assert_eq!(ratios["messages"], Value::Null, "monolithic mode sends no messages");
    assert!(ratios["cycles"].as_f64().is_some_and(|ratio| ratio > 1.0), "{ratios:#}");
    // Per operation both modes made: name lookups are made in microkernel mode only.
    let per_operation = ratios["per_operation"].as_object().expect("ratios per operation");
    let operations: Vec<&str> = per_operation.keys().map(String::as_str).collect();
    assert_eq!(operations, ["console.write", "fs.close", "fs.open", "fs.read", "fs.seek", "fs.write"]);
    let average = |mode: &str, operation: &str, figure: &str| {
        let stats = &comparison[mode]["per_operation"][operation];
        stats[figure].as_f64().expect("a figure") / stats["count"].as_f64().expect("a count")
    };
    for (operation, figures) in per_operation {
        let names: Vec<&str> = figures.as_object().expect("an object").keys().map(String::as_str).collect();
        assert_eq!(names, ["context_switches", "cycles", "messages"], "{operation}");
        let expected = average("microkernel", operation, "cycles") / average("monolithic", operation, "cycles");
        assert_eq!(figures["cycles"].as_f64(), Some(expected), "{operation}");
        assert_eq!(figures["messages"], Value::Null, "{operation}");
    }
    assert_eq!(per_operation["fs.open"]["context_switches"].as_f64(), Some(5.0), "5 switches against 1");
}

#[test]
fn compare_json_of_file_io_gives_figures_per_operation_in_each_run() {
    let comparison = compare_json(&["scenarios/file_io.ron"]);
    for mode in ["microkernel", "monolithic"] {
        assert_metrics(&comparison[mode]["metrics"], mode);
        assert_eq!(comparison[mode]["per_operation"]["fs.read"]["count"], 2, "{mode}");
    }
    assert_eq!(comparison["monolithic"]["metrics"]["messages"], 0);
    let micro_reads = comparison["microkernel"]["per_operation"]["fs.read"]["messages"].as_u64().expect("a count");
    assert!(micro_reads >= 4, "two reads, each a call and a reply at least: {micro_reads}");
}

#[test]
fn compare_gives_no_ratio_when_the_monolithic_kernel_panicked() {
    let comparison = compare_json(&["scenarios/driver_restart.ron"]);
    assert_eq!(comparison["comparable"], false);
    assert_eq!(comparison["ratios"], Value::Null);
    assert_eq!(comparison["not_comparable_because"], "the monolithic run ended in a kernel panic at 34251 cycles");
    assert_eq!(comparison["monolithic"]["outcome"], "kernel_panic");
    assert_eq!(comparison["microkernel"]["outcome"], "completed");

    let output = mksim(&["compare", "scenarios/driver_restart.ron"]);
    assert_status(&output, 0);
    let text = stdout(&output);
    let panic = "the monolithic run ended in a kernel panic at 34251 cycles: crash in the kernel's block driver module";
    assert!(text.contains(panic), "{text}");
    let micro = &comparison["microkernel"];
    let micro_end = micro["boot_cycles"].as_u64().expect("boot cycles") + cycles(micro);
    assert!(text.contains(&format!("the microkernel run completed at {micro_end} cycles")), "{text}");
    assert!(text.contains("the totals are not comparable"), "{text}");
    assert!(!text.lines().any(|line| line.trim_end().ends_with("ratio")), "a ratio column:\n{text}");
    for ratio in ["×", "∞"] {
        assert!(!text.contains(ratio), "{ratio:?} in\n{text}");
    }
    for row in ["cycles", "fs.write"] {
        assert!(text.lines().any(|line| line.starts_with(row)), "the figures are shown, without ratios:\n{text}");
    }
}

#[test]
fn compare_names_the_profile_of_each_mode() {
    let text = stdout(&mksim(&["compare", "scenarios/tour.ron", "--profile", "l4", "--mono-profile", "monolithic"]));
    let first = text.lines().next().expect("a header");
    assert_eq!(first, "tour: microkernel (profile l4) against monolithic (profile monolithic)");
    let text = stdout(&mksim(&["compare", "scenarios/tour.ron"]));
    assert!(text.starts_with("tour: microkernel (profile sel4) against monolithic (profile sel4)\n"), "{text}");
}

#[test]
fn mono_profile_changes_the_monolithic_run_only() {
    let plain = compare_json(&["scenarios/tour.ron"]);
    let mono = compare_json(&["scenarios/tour.ron", "--mono-profile", "monolithic"]);
    assert_eq!(mono["monolithic"]["profile"], "monolithic");
    assert_eq!(mono["microkernel"]["profile"], "sel4");
    assert_eq!(mono["microkernel"], plain["microkernel"], "the microkernel run is untouched");
    assert_ne!(cycles(&mono["monolithic"]), cycles(&plain["monolithic"]), "another profile, other costs");
    assert_eq!(mono["monolithic"], run_json("monolithic", &["scenarios/tour.ron", "--profile", "monolithic"]));

    let micro = compare_json(&["scenarios/tour.ron", "--micro-profile", "mach3", "--profile", "l4"]);
    assert_eq!((&micro["microkernel"]["profile"], &micro["monolithic"]["profile"]), (&"mach3".into(), &"l4".into()));
    // run takes them too: the flag of the mode it runs in counts.
    let run = run_json("monolithic", &["scenarios/tour.ron", "--micro-profile", "mach3", "--mono-profile", "l4"]);
    assert_eq!(run["profile"], "l4");
}

#[test]
fn a_scenario_gives_the_monolithic_mode_its_own_profile() {
    let folder = scratch("monolithic_profile");
    let file = folder.join("tour.ron");
    let text = edit(
        &scenario_text("tour.ron"),
        "    servers: (file:",
        "    kernel: (profile: \"sel4\", monolithic_profile: \"monolithic\"),\n    servers: (file:",
    );
    std::fs::write(&file, text).expect("writable");
    let path = file.to_str().expect("a UTF-8 path");
    let comparison = compare_json(&[path]);
    assert_eq!(comparison["microkernel"]["profile"], "sel4");
    assert_eq!(comparison["monolithic"]["profile"], "monolithic");
    let flagged = compare_json(&["scenarios/tour.ron", "--mono-profile", "monolithic"]);
    for mode in ["microkernel", "monolithic"] {
        assert_eq!(cycles(&comparison[mode]), cycles(&flagged[mode]), "{mode}: the field and the flag agree");
    }
    // --profile sets both modes, over the scenario's monolithic_profile.
    let both = compare_json(&[path, "--profile", "l4"]);
    assert_eq!((&both["microkernel"]["profile"], &both["monolithic"]["profile"]), (&"l4".into(), &"l4".into()));
    let text = stdout(&mksim(&["compare", path]));
    assert!(text.starts_with("tour: microkernel (profile sel4) against monolithic (profile monolithic)"), "{text}");
    // check runs each mode with the scenario's own profile.
    let output = mksim(&["check", path]);
    assert_status(&output, 0);
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
    // One case for both modes, which saw the same: it is worth its point only when it holds in both.
    let fail =
        text.lines().find(|line| line.trim_start().starts_with("FAIL console")).unwrap_or_else(|| panic!("{text}"));
    assert!(fail.contains("console of hello  (0 of 1 point): expected") && fail.contains("goodbye"), "{fail}");
    assert!(fail.contains(r#"hello, world\n"#), "the failure shows what was printed: {fail}");
    assert!(!fail.contains("[microkernel]") && !fail.contains("[monolithic]"), "{fail}");
    assert!(text.lines().any(|line| line.starts_with("FAIL hello") && line.ends_with("  5/6 points")), "{text}");
    assert_eq!(text.lines().last(), Some("1 passed, 1 failed"), "{text}");
}

// ----- exit status -----

/// A client whose call gets back its own message, not the answer its script expects: it faults.
/// Its `expect` is `EXPECT`, for the test to fill in.
const FAULTING_CLIENT: &str = r#"Scenario(
    name: "faulting-client",
    description: "The server echoes; the client expects another answer and faults.",
    servers: (console: false),
    objects: [(name: "port", kind: Endpoint, owner: "server")],
    processes: [
        (name: "server", priority: 10, server: true, program: [Echo(on: "port")]),
        (
            name: "client",
            priority: 5,
            caps: [(name: "server", object: "port", rights: "s")],
            program: [Call(to: "server", data: "ping", expect: "pong")],
        ),
    ],
    EXPECT
)
"#;

/// FAULTING_CLIENT with `expect` written to a scratch file; its path.
fn faulting_client(test: &str, expect: &str) -> String {
    let file = scratch(test).join("faulting_client.ron");
    std::fs::write(&file, FAULTING_CLIENT.replace("EXPECT", expect)).expect("writable");
    file.to_str().expect("a UTF-8 path").to_owned()
}

const CLIENT_FAULT: &str = "client faulted: failed with code 1: step 1 (call): reply: expected \"pong\", got \"ping\"";

#[test]
fn run_and_compare_exit_1_when_a_client_faults_unexpectedly() {
    let path = faulting_client("unexpected_fault", "");
    for args in [vec!["run", &path], vec!["run", &path, "--json"], vec!["run", &path, "--mode", "monolithic"]] {
        let output = mksim(&args);
        assert_status(&output, 1);
        let error = stderr(&output);
        assert!(error.contains(CLIENT_FAULT) && error.contains("does not say so"), "{args:?}: {error}");
    }
    // The run itself completed: the outcome is as expected, the client's end is not.
    let report = json(&mksim(&["run", &path, "--json"]));
    assert_eq!(report["outcome"], "completed");
    let output = mksim(&["compare", &path]);
    assert_status(&output, 1);
    let error = stderr(&output);
    assert!(error.contains("in the microkernel run client faulted"), "{error}");
    assert!(error.contains("in the monolithic run client faulted"), "{error}");
}

#[test]
fn a_fault_the_scenario_expects_exits_0() {
    let path = faulting_client("expected_fault", "expect: (faulted: [\"client\"]),");
    for args in [vec!["run", &path], vec!["compare", &path], vec!["check", &path]] {
        let output = mksim(&args);
        assert_status(&output, 0);
        assert!(stderr(&output).is_empty(), "{args:?}: {}", stderr(&output));
    }
}

#[test]
fn check_fails_a_client_that_faulted_even_without_exit_codes_to_check() {
    let path = faulting_client("check_fault", "expect: (outcome: Completed),");
    let output = mksim(&["check", &path]);
    assert_status(&output, 1);
    let text = stdout(&output);
    for mode in ["microkernel", "monolithic"] {
        let case = format!("FAIL [{mode}] no process faulted unexpectedly: {CLIENT_FAULT}");
        assert!(text.lines().any(|line| line.trim_start().starts_with(&case)), "{case}\n{text}");
    }
    // The scenario writes its outcome: an expectation, worth a point, checked in both modes.
    assert!(text.contains("   ok   outcome: completed  (1 point)"), "{text}");
    assert!(text.contains("   also checked, for no points:"), "{text}");
    let result = json(&mksim(&["check", &path, "--json"]));
    assert_eq!(result["passed"], false);
    let cases = result["scenarios"][0]["cases"].as_array().expect("cases");
    let failed: Vec<&Value> = cases.iter().filter(|case| case["passed"] == false).collect();
    assert_eq!(failed.len(), 2, "{result:#}");
    assert!(failed.iter().all(|case| case["detail"].as_str().is_some_and(|detail| detail.contains(CLIENT_FAULT))));
    assert!(failed.iter().all(|case| case["kind"] == "implicit" && case["max_points"] == 0), "{result:#}");
    // The outcome held, so the scenario earns its one point though it fails.
    assert_eq!((&result["scenarios"][0]["points"], &result["scenarios"][0]["max_points"]), (&1.into(), &1.into()));
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
    assert!(text.contains("── comparison: microkernel (profile sel4) against monolithic (profile sel4) ──"), "{text}");
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
