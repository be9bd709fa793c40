//! Bad input gets a clear answer, never a panic: a scenario with a mistake
//! is refused with the file, line, column and item at fault, and the binary
//! exits with status 2. Each test breaks one thing in a real scenario file,
//! checks the library's [`ScenarioError`] (the line must point at the
//! offending item, found by searching the text), then feeds the same text to
//! `mksim run`. (`mksim check` goes on past a file it cannot use: it fails that
//! file, with the same error, and exits with status 1.)

mod binary;

use binary::{mksim_binary, workspace};
use mksim_core::run::{RunOptions, run};
use mksim_core::scenario::{Scenario, ScenarioError, TIMER_PERIOD_MIN_CYCLES};
use mksim_servers::system::Mode;
use proptest::prelude::*;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

// ----- the binary -----

/// Runs `mksim` with `args` in the workspace root; a run that takes longer than `limit` is killed.
fn mksim_within(args: &[&str], limit: Duration) -> Output {
    let mut child = Command::new(mksim_binary())
        .args(args)
        .current_dir(workspace())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("mksim starts");
    // Drain both pipes on threads so a chatty run cannot block on a full pipe.
    let mut out = child.stdout.take().expect("piped");
    let mut err = child.stderr.take().expect("piped");
    let out = std::thread::spawn(move || {
        let mut bytes = Vec::new();
        std::io::Read::read_to_end(&mut out, &mut bytes).map(|_| bytes)
    });
    let err = std::thread::spawn(move || {
        let mut bytes = Vec::new();
        std::io::Read::read_to_end(&mut err, &mut bytes).map(|_| bytes)
    });
    let started = Instant::now();
    let status = loop {
        if let Some(status) = child.try_wait().expect("mksim can be waited for") {
            break status;
        }
        if started.elapsed() > limit {
            child.kill().expect("mksim can be killed");
            child.wait().expect("mksim ends once killed");
            panic!("mksim {args:?} still ran after {limit:?}: it hangs");
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    let stdout = out.join().expect("the reader ends").expect("stdout is readable");
    let stderr = err.join().expect("the reader ends").expect("stderr is readable");
    Output { status, stdout, stderr }
}

fn mksim(args: &[&str]) -> Output {
    mksim_within(args, Duration::from_secs(60))
}

fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

/// The binary refused the input: status 2, one `mksim: ` line, no panic.
#[track_caller]
fn assert_refused_by_binary(output: &Output) -> String {
    let text = stderr(output);
    assert_eq!(
        output.status.code(),
        Some(2),
        "status {:?}\n--- stdout\n{}\n--- stderr\n{text}",
        output.status,
        String::from_utf8_lossy(&output.stdout)
    );
    assert!(!text.contains("panicked"), "{text}");
    text
}

/// `check` counted the input as a failed file, and said why on standard output: status 1, no
/// panic. (It goes on past a file it cannot use, so one bad file fails only itself.)
#[track_caller]
fn assert_failed_by_check(output: &Output) -> String {
    let text = String::from_utf8_lossy(&output.stdout).into_owned();
    assert_eq!(
        output.status.code(),
        Some(1),
        "status {:?}\n--- stdout\n{text}\n--- stderr\n{}",
        output.status,
        stderr(output)
    );
    assert!(!stderr(output).contains("panicked"), "{}", stderr(output));
    text
}

/// Why the run was a crash (a panic or an abort rather than one of the binary's own statuses), if it was.
fn crash(output: &Output) -> Option<String> {
    let text = stderr(output);
    let clean = matches!(output.status.code(), Some(0..=2)) && !text.contains("panicked");
    let first_lines: Vec<&str> = text.lines().take(3).collect();
    (!clean).then(|| format!("status {:?}: {}", output.status, first_lines.join(" / ")))
}

/// Runs `mksim run` on each file in both modes; fails listing every run that crashed.
#[track_caller]
fn assert_no_crashes(paths: &[String], limit: Duration) {
    let mut crashes = Vec::new();
    for path in paths {
        for mode in ["microkernel", "monolithic"] {
            if let Some(crash) = crash(&mksim_within(&["run", path, "--mode", mode], limit)) {
                crashes.push(format!("{path} ({mode}): {crash}"));
            }
        }
    }
    assert!(crashes.is_empty(), "crashes:\n{}", crashes.join("\n"));
}

/// A folder of its own for one test's files, emptied first.
fn scratch(test: &str) -> PathBuf {
    let folder = Path::new(env!("CARGO_TARGET_TMPDIR")).join("bad_input").join(test);
    let _ = std::fs::remove_dir_all(&folder);
    std::fs::create_dir_all(&folder).expect("the scratch folder can be made");
    folder
}

fn write_file(folder: &Path, name: &str, contents: impl AsRef<[u8]>) -> String {
    let path = folder.join(name);
    std::fs::write(&path, contents).expect("the scratch file can be written");
    path.to_str().expect("a UTF-8 path").to_owned()
}

// ----- texts and where things are in them -----

fn scenario_text(file: &str) -> String {
    std::fs::read_to_string(workspace().join("scenarios").join(file)).expect("the scenario file is readable")
}

/// `text` with `from` replaced by `to` exactly once.
#[track_caller]
fn edit(text: &str, from: &str, to: &str) -> String {
    assert_eq!(text.matches(from).count(), 1, "{from:?} must occur exactly once in the text");
    text.replacen(from, to, 1)
}

/// The 1-based line of a byte offset.
fn line_at(text: &str, offset: usize) -> usize {
    text[..offset].matches('\n').count() + 1
}

/// The 1-based line of the only occurrence of `needle`.
#[track_caller]
fn line_of(text: &str, needle: &str) -> usize {
    assert_eq!(text.matches(needle).count(), 1, "{needle:?} must occur exactly once in the text");
    line_at(text, text.find(needle).expect("counted above"))
}

/// The 1-based line of the `nth` (0-based) occurrence of `needle`.
#[track_caller]
fn line_of_nth(text: &str, needle: &str, nth: usize) -> usize {
    let (offset, _) =
        text.match_indices(needle).nth(nth).unwrap_or_else(|| panic!("no occurrence {nth} of {needle:?}"));
    line_at(text, offset)
}

/// Parses `text` as `test.ron`, which must fail.
#[track_caller]
fn refused(text: &str) -> ScenarioError {
    match Scenario::parse(text, "test.ron") {
        Ok(scenario) => panic!("scenario {:?} was accepted:\n{text}", scenario.name),
        Err(error) => error,
    }
}

/// The error points inside the text: a real line, and a column on it (or just past its end).
#[track_caller]
fn assert_points_into(text: &str, error: &ScenarioError) {
    let lines: Vec<&str> = text.split('\n').collect();
    assert!(error.line >= 1 && error.line <= lines.len(), "line {} of {}: {error}", error.line, lines.len());
    let length = lines[error.line - 1].chars().count();
    assert!(error.column >= 1 && error.column <= length + 1, "column {} of {length}: {error}", error.column);
}

/// The library refuses `text` at `line` with `item` and a message containing every one of
/// `words`; then `mksim run` refuses the same text with status 2 and the same error.
#[track_caller]
fn assert_refused(test: &str, text: &str, line: usize, item: &str, words: &[&str]) -> ScenarioError {
    let error = refused(text);
    assert_eq!(error.file, "test.ron");
    assert_eq!(error.line, line, "wrong line: {error}\n(line {line} is {:?})", text.lines().nth(line - 1));
    assert_points_into(text, &error);
    assert_eq!(error.item, item, "{error}");
    for word in words {
        assert!(error.message.contains(word), "{word:?} is not in the message: {error}");
    }
    let shown = error.to_string();
    assert!(shown.starts_with(&format!("test.ron:{}:{}: {item}: ", error.line, error.column)), "{shown}");
    let folder = scratch(test);
    let path = write_file(&folder, "test.ron", text);
    let printed = assert_refused_by_binary(&mksim(&["run", &path]));
    let expected = format!("mksim: {path}:{}:{}: {item}: {}", error.line, error.column, error.message);
    assert_eq!(printed.trim_end(), expected);
    error
}

// ----- syntax and types -----

#[test]
fn a_wrong_type_names_the_line_of_the_value() {
    let text = edit(&scenario_text("ping_pong.ron"), "priority: 10,", "priority: \"high\",");
    let line = line_of(&text, "priority: \"high\"");
    let error = assert_refused("wrong_type", &text, line, "process \"pong\", field `priority`", &["whole number"]);
    // The column is on the field or its value, not somewhere else on the line.
    let line_text = text.lines().nth(line - 1).expect("the line exists");
    let field = line_text.find("priority").expect("on this line") + 1;
    let value_end = line_text.find("\"high\"").expect("on this line") + "\"high\"".len() + 1;
    assert!((field..=value_end).contains(&error.column), "column {} on {line_text:?}", error.column);
}

#[test]
fn a_wrong_type_names_the_field() {
    let text = edit(&scenario_text("ping_pong.ron"), "priority: 10,", "priority: \"high\",");
    let error = refused(&text);
    assert!(error.item.contains("priority") || error.message.contains("priority"), "{error}");
}

#[test]
fn an_unknown_field_is_named_in_the_message() {
    let text = edit(&scenario_text("ping_pong.ron"), "priority: 10,", "prio: 10,");
    let item = "process \"pong\", field `prio`";
    let error = assert_refused("unknown_field", &text, line_of(&text, "prio: 10"), item, &["`prio`"]);
    // It lists the fields a process may have, so the typo is easy to fix.
    assert!(error.message.contains("`priority`"), "{error}");
    let column = text.lines().nth(error.line - 1).and_then(|line| line.find("prio:")).expect("on the line") + 1;
    assert_eq!(error.column, column, "{error}");
}

#[test]
fn an_unknown_field_in_the_kernel_settings_is_named() {
    let text = edit(
        &scenario_text("priority_inheritance.ron"),
        "kernel: (priority_inheritance: true),",
        "kernel: (priority_inheritance: true, quantum: 5),",
    );
    assert_refused("unknown_kernel_field", &text, line_of(&text, "quantum"), "kernel.quantum", &["`quantum`"]);
}

#[test]
fn an_unknown_operation_is_named() {
    let text = edit(&scenario_text("hello.ron"), "Print(\"hello, world\\n\"),", "Shout(\"hello\"),");
    let item = "process \"hello\", step 1 (Shout)";
    let error =
        assert_refused("unknown_operation", &text, line_of(&text, "Shout"), item, &["unknown operation `Shout`"]);
    // No operation is close to it: the message lists them all.
    assert!(error.message.contains("Print") && error.message.contains("RegionRead"), "{error}");
}

#[test]
fn a_priority_too_large_for_a_byte_gets_the_range_of_priorities() {
    let text = edit(&scenario_text("ping_pong.ron"), "priority: 10,", "priority: 300,");
    let item = "process \"pong\", field `priority`";
    assert_refused("priority_300", &text, line_of(&text, "priority: 300"), item, &["from 0 to 31"]);
}

#[test]
fn a_number_too_large_for_64_bits_is_out_of_bounds() {
    let text = edit(&scenario_text("ping_pong.ron"), "badge: 1)", "badge: 99999999999999999999999)");
    let item = "process \"ping\", capability \"pong\", field `badge`";
    let words = ["`badge` must be a whole number from 0 to 18446744073709551615"];
    assert_refused("badge_overflow", &text, line_of(&text, "99999999999999999999999"), item, &words);
    let text = edit(
        &scenario_text("priority_inversion.ron"),
        "kernel: (priority_inheritance: false),",
        "kernel: (priority_inheritance: false, seed: 18446744073709551616),",
    );
    let words = ["`seed` must be a whole number from 0 to 18446744073709551615"];
    assert_refused("seed_overflow", &text, line_of(&text, "18446744073709551616"), "kernel.seed", &words);
}

#[test]
fn a_negative_number_where_a_count_belongs_is_refused() {
    let text = edit(&scenario_text("producer_consumer.ron"), "Queue(capacity: 2,", "Queue(capacity: -2,");
    let error = refused(&text);
    assert_eq!(error.line, line_of(&text, "capacity: -2"), "{error}");
    assert_eq!(error.item, "object \"jobs\", field `capacity`");
    assert!(error.message.contains("`capacity` must be a whole number from 1 to 4096"), "{error}");
}

// ----- names that refer to nothing -----

#[test]
fn an_object_owned_by_an_unknown_process_is_refused() {
    let text = edit(&scenario_text("ping_pong.ron"), "owner: \"pong\"", "owner: \"pongg\"");
    assert_refused(
        "unknown_owner",
        &text,
        line_of(&text, "\"pongg\""),
        "object \"pingport\", field `owner`",
        &["owner \"pongg\"", "not a process", "did you mean \"pong\"?"],
    );
}

#[test]
fn an_exit_code_expected_of_an_unknown_process_is_refused() {
    let text = edit(&scenario_text("ping_pong.ron"), "exit_codes: { \"ping\": 0 }", "exit_codes: { \"pinng\": 0 }");
    let item = "expect.exit_codes \"pinng\"";
    assert_refused("unknown_exit_code", &text, line_of(&text, "\"pinng\""), item, &["not a process"]);
}

#[test]
fn console_output_expected_of_an_unknown_process_is_refused() {
    let text = edit(&scenario_text("hello.ron"), "console: { \"hello\":", "console: { \"hallo\":");
    let item = "expect.console \"hallo\"";
    assert_refused("unknown_console", &text, line_of(&text, "\"hallo\""), item, &["not a process"]);
}

#[test]
fn a_fault_expected_of_an_unknown_process_is_refused() {
    let text = edit(
        &scenario_text("deadlock.ron"),
        "expect: (outcome: Deadlock)",
        "expect: (outcome: Deadlock, faulted: [\"carol\"])",
    );
    let item = "expect.faulted \"carol\"";
    assert_refused("unknown_faulted", &text, line_of(&text, "\"carol\""), item, &["not a process"]);
}

#[test]
fn a_capability_to_an_undeclared_object_is_refused() {
    let text = edit(&scenario_text("ping_pong.ron"), "object: \"pingport\"", "object: \"pingprt\"");
    assert_refused(
        "undeclared_object",
        &text,
        line_of(&text, "\"pingprt\""),
        "process \"ping\", capability \"pong\", field `object`",
        &["\"pingprt\"", "does not declare", "did you mean \"pingport\"?"],
    );
}

#[test]
fn a_rights_string_with_a_bad_letter_names_the_letter() {
    let text = edit(&scenario_text("ping_pong.ron"), "rights: \"s\"", "rights: \"sx\"");
    let item = "process \"ping\", capability \"pong\", field `rights`";
    assert_refused("bad_right", &text, line_of(&text, "\"sx\""), item, &["`x`", "\"sx\"", "s r g R W"]);
}

#[test]
fn a_lookup_of_a_name_nobody_registers_is_refused() {
    let text = edit(
        &scenario_text("name_lookup.ron"),
        "Lookup(name: \"echo\", as: \"echo\")",
        "Lookup(name: \"ehco\", as: \"echo\")",
    );
    assert_refused(
        "lookup_unregistered",
        &text,
        line_of(&text, "\"ehco\""),
        "process \"client\", step 1 (Lookup), field `name`",
        &["\"ehco\"", "register", "did you mean \"echo\"?"],
    );
}

#[test]
fn a_program_using_a_capability_it_does_not_hold_is_refused() {
    let text = edit(
        &scenario_text("ping_pong.ron"),
        "Call(to: \"pong\", label: 1, data: \"ping 2\"",
        "Call(to: \"pang\", label: 1, data: \"ping 2\"",
    );
    assert_refused(
        "undefined_capability",
        &text,
        line_of(&text, "\"pang\""),
        "process \"ping\", step 2 (Call), field `to`",
        &["`pang` is not defined"],
    );
}

// ----- values out of range and clashes -----

#[test]
fn a_priority_out_of_range_is_refused_at_that_process() {
    let text = edit(&scenario_text("ping_pong.ron"), "priority: 10,", "priority: 32,");
    let item = "process \"pong\", field `priority`";
    assert_refused("priority_32", &text, line_of(&text, "priority: 32"), item, &["from 0 to 31"]);
}

#[test]
fn a_priority_out_of_range_points_at_the_right_process_when_an_object_has_its_name() {
    // deadlock.ron declares objects named after their owners before the processes.
    let text = scenario_text("deadlock.ron");
    let bob = text.find("name: \"bob\",\n").expect("bob's declaration");
    let priority = bob + text[bob..].find("priority: 5").expect("bob's priority");
    let text = format!("{}priority: 40{}", &text[..priority], &text[priority + "priority: 5".len()..]);
    let item = "process \"bob\", field `priority`";
    assert_refused("priority_of_bob", &text, line_of(&text, "priority: 40"), item, &["from 0 to 31"]);
}

#[test]
fn a_process_declared_twice_is_refused_at_the_second_declaration() {
    let text = edit(&scenario_text("ping_pong.ron"), "name: \"ping\",", "name: \"pong\",");
    let second_declaration = line_of_nth(&text, "name: \"pong\"", 1);
    assert_refused("process_twice", &text, second_declaration, "process \"pong\"", &["declared twice"]);
}

#[test]
fn a_process_declared_twice_is_refused() {
    let text = edit(&scenario_text("ping_pong.ron"), "name: \"ping\",", "name: \"pong\",");
    let error = refused(&text);
    assert_eq!(error.item, "process \"pong\"");
    assert!(error.message.contains("declared twice"), "{error}");
    assert_points_into(&text, &error);
    let folder = scratch("process_twice_status");
    assert_refused_by_binary(&mksim(&["run", &write_file(&folder, "test.ron", &text)]));
}

#[test]
fn an_object_declared_twice_is_refused_at_the_second_declaration() {
    let text = edit(
        &scenario_text("ping_pong.ron"),
        "(name: \"pingport\", kind: Endpoint, owner: \"pong\"),",
        "(name: \"pingport\", kind: Endpoint, owner: \"pong\"),\n        (name: \"pingport\", kind: Notification, owner: \"ping\"),",
    );
    let second_declaration = line_of_nth(&text, "name: \"pingport\"", 1);
    assert_refused("object_twice", &text, second_declaration, "object \"pingport\"", &["declared twice"]);
}

#[test]
fn a_process_named_like_a_booted_server_is_refused() {
    let text = edit(&scenario_text("file_io.ron"), "name: \"editor\",", "name: \"fs\",");
    let text = edit(&text, "exit_codes: { \"editor\": 0 },", "exit_codes: { \"fs\": 0 },");
    let text = edit(&text, "console: { \"editor\": \"done\\n\" },", "console: { \"fs\": \"done\\n\" },");
    assert_refused("named_fs", &text, line_of(&text, "name: \"fs\""), "process \"fs\"", &["built-in server"]);
}

#[test]
fn a_process_may_take_the_name_of_a_server_that_is_not_booted() {
    // hello.ron boots no file server, so "fs" is free.
    let text = scenario_text("hello.ron").replace("\"hello\"", "\"fs\"");
    let scenario = Scenario::parse(&text, "test.ron").unwrap_or_else(|error| panic!("{error}"));
    let report = run(&scenario, Mode::Microkernel, &RunOptions::default());
    assert_eq!(report.console.get("fs").map(String::as_str), Some("hello, world\n"));
}

#[test]
fn file_operations_without_a_file_server_are_refused() {
    let text = edit(
        &scenario_text("file_io.ron"),
        "servers: (file: (cache_blocks: 2), block: (blocks: 64, block_size: 512, latency_cycles: 20000)),",
        "servers: (console: true),",
    );
    let error = refused(&text);
    assert_eq!(error.item, "process \"editor\", step 1 (Mkdir)");
    assert!(error.message.contains("file server"), "{error}");
    // The line is within the offending process: its name or its first file operation.
    let (name, first_operation) = (line_of(&text, "name: \"editor\""), line_of(&text, "Mkdir"));
    assert!(
        (name..=first_operation).contains(&error.line),
        "line {} is outside {name}..={first_operation}",
        error.line
    );
    assert_points_into(&text, &error);
    let folder = scratch("no_file_server");
    let printed = assert_refused_by_binary(&mksim(&["run", &write_file(&folder, "test.ron", &text)]));
    assert!(printed.contains(&format!(":{}:{}: process \"editor\", step 1", error.line, error.column)), "{printed}");
}

#[test]
fn printing_without_a_console_is_refused_at_the_print() {
    let text = edit(&scenario_text("hello.ron"), "processes: [", "servers: (console: false),\n    processes: [");
    let item = "process \"hello\", step 1 (Print)";
    assert_refused("no_console", &text, line_of(&text, "Print("), item, &["console server"]);
}

#[test]
fn an_unknown_profile_in_the_file_is_refused_at_the_profile() {
    let text = edit(
        &scenario_text("ping_pong.ron"),
        "servers: (console: false),",
        "kernel: (profile: \"vax\"),\n    servers: (console: false),",
    );
    assert_refused("unknown_profile_in_file", &text, line_of(&text, "\"vax\""), "kernel.profile", &["`vax`", "sel4"]);
}

/// The 1-based column of the `nth` (0-based) occurrence of `needle` on its line.
#[track_caller]
fn column_of_nth(text: &str, needle: &str, nth: usize) -> usize {
    let (offset, _) =
        text.match_indices(needle).nth(nth).unwrap_or_else(|| panic!("no occurrence {nth} of {needle:?}"));
    text[..offset].rsplit('\n').next().expect("a line").chars().count() + 1
}

#[test]
fn an_unknown_monolithic_profile_is_refused_at_it() {
    let text = edit(
        &scenario_text("ping_pong.ron"),
        "servers: (console: false),",
        "kernel: (profile: \"sel4\", monolithic_profile: \"vax\"),\n    servers: (console: false),",
    );
    let error = assert_refused(
        "unknown_monolithic_profile",
        &text,
        line_of(&text, "\"vax\""),
        "kernel.monolithic_profile",
        &["`vax`", "sel4"],
    );
    assert_eq!(error.column, column_of_nth(&text, "\"vax\"", 0), "{error}");
}

#[test]
fn a_bad_profile_is_found_at_its_own_field_not_inside_monolithic_profile() {
    let text = edit(
        &scenario_text("ping_pong.ron"),
        "servers: (console: false),",
        "kernel: (monolithic_profile: \"vax\", profile: \"vax\"),\n    servers: (console: false),",
    );
    let error = refused(&text);
    assert_eq!(error.item, "kernel.profile", "{error}");
    assert_eq!((error.line, error.column), (line_of_nth(&text, "\"vax\"", 1), column_of_nth(&text, "\"vax\"", 1)));
}

#[test]
fn a_scenario_without_processes_is_refused() {
    let text = "Scenario(name: \"empty\", processes: [])\n";
    let error = refused(text);
    assert_eq!(error.item, "processes");
    assert_eq!(error.line, 1);
}

// ----- files and the command line -----

#[test]
fn an_unreadable_file_is_named() {
    let missing = scratch("unreadable").join("nowhere.ron");
    let path = missing.to_str().expect("UTF-8");
    let error = Scenario::load(path).expect_err("there is no such file");
    assert_eq!(error.file, path);
    assert_eq!(error.item, "file");
    assert!(error.message.contains("cannot read"), "{error}");
    let printed = assert_refused_by_binary(&mksim(&["run", path]));
    assert!(printed.starts_with(&format!("mksim: {path}: cannot read")), "{printed}");
    // A folder is not a scenario either.
    let folder = scratch("unreadable_folder");
    assert_refused_by_binary(&mksim(&["run", folder.to_str().expect("UTF-8")]));
}

#[test]
fn an_unknown_profile_on_the_command_line_lists_the_known_ones() {
    let printed = assert_refused_by_binary(&mksim(&["run", "scenarios/hello.ron", "--profile", "vax"]));
    assert!(printed.contains("`vax`") && printed.contains("sel4, l4, mach3, minix3, monolithic"), "{printed}");
    let printed = assert_refused_by_binary(&mksim(&["compare", "scenarios/hello.ron", "--profile", "./missing.ron"]));
    assert!(printed.contains("missing.ron"), "{printed}");
}

#[test]
fn a_profile_file_with_an_unknown_field_names_file_line_column_and_field() {
    let profile = std::fs::read_to_string(workspace().join("kernel/profiles/sel4.ron")).expect("readable");
    let profile = edit(&profile, "    syscall_cycles: 150,", "    syscall_cycles: 150,\n    tlb_flush_cycles: 40,");
    let line = line_of(&profile, "tlb_flush_cycles");
    let folder = scratch("profile_field");
    let path = write_file(&folder, "broken.ron", &profile);
    let printed = assert_refused_by_binary(&mksim(&["run", "scenarios/hello.ron", "--profile", &path]));
    assert!(printed.contains(&format!("{path}:{line}:5: ")), "{printed}");
    // The file is named and the place in it, but nothing of what it holds is quoted back: a
    // scenario can name a profile file too, and must not read the machine's files that way.
    assert!(printed.contains("unknown field") && printed.contains("syscall_cycles"), "{printed}");
    assert!(!printed.contains("tlb_flush"), "{printed}");
}

#[test]
fn unknown_subcommands_and_flags_are_usage_errors() {
    for args in [
        &["frobnicate"][..],
        &["run", "scenarios/hello.ron", "--frob"],
        &["run"],
        &["run", "scenarios/hello.ron", "--mode", "exokernel"],
        &["run", "scenarios/hello.ron", "--seed", "-1"],
        &["export", "scenarios/hello.ron", "--format", "png"],
        &["check"],
    ] {
        let output = mksim(args);
        let text = assert_refused_by_binary(&output);
        assert!(text.starts_with("error:"), "{args:?}: {text}");
    }
}

#[test]
fn a_broken_file_among_others_fails_alone_and_the_others_are_checked() {
    let folder = scratch("check_broken");
    write_file(&folder, "a_good.ron", scenario_text("hello.ron"));
    write_file(&folder, "b_bad.ron", edit(&scenario_text("ping_pong.ron"), "priority: 10,", "prio: 10,"));
    write_file(&folder, "c_good.ron", scenario_text("ping_pong.ron"));
    let folder = folder.to_str().expect("UTF-8");
    let printed = assert_failed_by_check(&mksim(&["check", folder]));
    assert!(printed.contains("b_bad.ron:13:"), "{printed}");
    let marks: Vec<&str> =
        printed.lines().filter(|line| line.starts_with("PASS") || line.starts_with("FAIL")).collect();
    assert_eq!(marks.len(), 3, "{printed}");
    assert!(marks[0].starts_with("PASS hello") && marks[2].starts_with("PASS ping-pong"), "{printed}");
    assert!(marks[1].starts_with("FAIL ") && marks[1].ends_with("b_bad.ron  could not be checked"), "{printed}");
    assert_eq!(printed.lines().last(), Some("2 passed, 1 failed"), "{printed}");
}

// ----- truncated files -----

/// Byte offsets to cut `text` at: a spread across the file, two inside the description string, and
/// just before `processes` and the closing parenthesis.
fn cut_points(text: &str) -> Vec<usize> {
    let mut cuts: Vec<usize> = (1..12).map(|part| text.len() * part / 12).collect();
    let description = text.find("description: \"").expect("a description") + "description: \"".len();
    cuts.extend([description, description + 5]);
    cuts.extend([text.find("processes").expect("processes"), text.rfind(')').expect("the closing parenthesis")]);
    cuts.retain(|&cut| text.is_char_boundary(cut));
    cuts
}

#[test]
fn truncated_files_are_refused_at_a_place_inside_what_is_left() {
    let scenarios = ["hello.ron", "ping_pong.ron", "file_io.ron", "priority_inheritance.ron"];
    let folder = scratch("truncated");
    for file in scenarios {
        let text = scenario_text(file);
        for cut in cut_points(&text) {
            let short = &text[..cut];
            let error = refused(short);
            // The item is where the text stops: a section, a process, or a field cut short.
            let sections = [
                "scenario",
                "name",
                "description",
                "notes",
                "process",
                "object",
                "expect",
                "servers",
                "kernel",
                "faults",
            ];
            let plausible = sections.iter().any(|start| error.item.starts_with(start))
                || error.message.starts_with(&format!("unknown field `{}`", error.item));
            assert!(plausible, "{file} cut at {cut}: {error}");
            assert_points_into(short, &error);
            // The problem is where the text stops: on the line of its last token, or at its very end.
            let last_token = line_at(short, short.trim_end().len());
            // A string cut short (the notes run over several lines) is pointed at where it opens.
            let open_string = error.message.contains("end of string")
                && short.rfind(": \"").is_some_and(|at| line_at(short, at) == error.line);
            assert!(
                error.line == last_token || error.line == line_at(short, short.len()) || open_string,
                "{file} cut at {cut}: {error}, but the text stops on line {last_token}"
            );
        }
        // One cut of each through the binary.
        let cut = text.find("processes").expect("processes") + 3;
        let path = write_file(&folder, file, &text[..cut]);
        let printed = assert_refused_by_binary(&mksim(&["run", &path]));
        assert!(printed.starts_with(&format!("mksim: {path}:")), "{printed}");
    }
}

#[test]
fn a_file_cut_in_the_middle_of_a_string_is_refused_at_that_line() {
    let text = scenario_text("hello.ron");
    let inside = text.find("hello, world").expect("the printed text") + 3;
    let error = refused(&text[..inside]);
    assert_eq!(error.line, line_of(&text, "Print(\"hello, world"), "{error}");
    assert_points_into(&text[..inside], &error);
}

#[test]
fn a_file_cut_in_the_middle_of_a_utf8_character_is_refused_with_status_2() {
    let text = edit(&scenario_text("hello.ron"), "Print(\"hello, world\\n\"),", "Print(\"grüße ─ wörld\\n\"),");
    let text =
        edit(&text, "console: { \"hello\": \"hello, world\\n\" }", "console: { \"hello\": \"grüße ─ wörld\\n\" }");
    // The whole text is fine, and prints what it says.
    let scenario = Scenario::parse(&text, "test.ron").unwrap_or_else(|error| panic!("{error}"));
    let report = run(&scenario, Mode::Microkernel, &RunOptions::default());
    assert_eq!(report.console["hello"], "grüße ─ wörld\n");
    let folder = scratch("utf8_cut");
    let dash = text.find('─').expect("a box-drawing dash");
    for cut in [dash + 1, dash + 2, text.find('ü').expect("an umlaut") + 1] {
        assert!(!text.is_char_boundary(cut));
        let bytes = &text.as_bytes()[..cut];
        // Through the library the bytes arrive as text with a replacement character.
        let lossy = String::from_utf8_lossy(bytes);
        let error = refused(&lossy);
        assert_points_into(&lossy, &error);
        let path = write_file(&folder, &format!("cut_{cut}.ron"), bytes);
        let printed = assert_refused_by_binary(&mksim(&["run", &path]));
        assert!(printed.contains(&path), "{printed}");
    }
    // Invalid UTF-8 in the middle of an otherwise whole file.
    let mut bytes = text.into_bytes();
    bytes[dash + 1] = b'x';
    let path = write_file(&folder, "broken_middle.ron", &bytes);
    let printed = assert_refused_by_binary(&mksim(&["run", &path]));
    assert!(printed.contains(&path) && printed.contains("UTF-8"), "{printed}");
}

#[test]
fn a_file_with_invalid_utf8_names_the_line_and_column_of_the_bad_byte() {
    let text = edit(&scenario_text("hello.ron"), "Print(\"hello, world\\n\"),", "Print(\"grüße\\n\"),");
    let umlaut = text.find('ü').expect("an umlaut");
    let mut bytes = text.clone().into_bytes();
    bytes[umlaut + 1] = b'x';
    let (line, column) = (line_of(&text, "grüße"), umlaut - text[..umlaut].rfind('\n').expect("a line before"));
    let path = write_file(&scratch("utf8_position"), "test.ron", &bytes);
    let error = Scenario::load(&path).expect_err("not UTF-8");
    assert_eq!((error.line, error.column), (line, column), "{error}");
    let printed = assert_refused_by_binary(&mksim(&["run", &path]));
    assert!(printed.starts_with(&format!("mksim: {path}:{line}:{column}: ")), "{printed}");
}

// ----- huge numbers that fit: the run must end cleanly, whatever it shows -----

/// `hello.ron` with `servers` added and its program replaced by `program`, written to a scratch file.
fn hello_variant(test: &str, servers: &str, program: &str) -> String {
    let text = edit(&scenario_text("hello.ron"), "Print(\"hello, world\\n\"),", program);
    let text = edit(&text, "processes: [", &format!("{servers}\n    processes: ["));
    let text = edit(&text, "console: { \"hello\": \"hello, world\\n\" },", "");
    Scenario::parse(&text, test).unwrap_or_else(|error| panic!("{error}"));
    write_file(&scratch(test), "test.ron", text)
}

const U64_MAX: &str = "18446744073709551615";

#[test]
fn a_compute_of_u64_max_cycles_ends_at_the_step_limit() {
    let path = hello_variant("compute_max", "kernel: (step_limit: 5000),", &format!("Compute({U64_MAX}),"));
    let output = mksim(&["run", &path, "--json"]);
    assert_eq!(crash(&output), None);
    assert_eq!(output.status.code(), Some(1), "the step limit was not expected");
    assert!(String::from_utf8_lossy(&output.stdout).contains("\"step_limit\""));
}

#[test]
fn large_reads_seeks_queues_and_loops_end_cleanly() {
    let open = "Open(path: \"/big\", create: true, as: \"f\")";
    let paths = [
        hello_variant("read_max", "servers: (file: ()),", &format!("{open}, Read(fd: \"f\", len: 4294967295),")),
        hello_variant(
            "seek_u32",
            "servers: (file: ()),",
            &format!("{open}, Seek(fd: \"f\", offset: 4294967295), Read(fd: \"f\", len: 8),"),
        ),
        hello_variant("queue_max", "", "CreateQueue(as: \"q\", capacity: 4294967295, policy: Block),"),
        hello_variant(
            "region_max",
            "",
            "Fails(error: \"invalid argument\", op: CreateRegion(as: \"r\", size: 4294967295)),",
        ),
        hello_variant("repeat_max", "kernel: (step_limit: 5000),", "Repeat(times: 4294967295, ops: [Yield]),"),
        hello_variant("exit_negative", "", "Exit(-2147483648),"),
    ];
    assert_no_crashes(&paths, Duration::from_secs(60));
}

#[test]
fn sleeping_or_waiting_for_u64_max_cycles_does_not_panic() {
    let paths = [
        hello_variant("sleep_max", "", &format!("Sleep({U64_MAX}),")),
        hello_variant(
            "receive_timeout_max",
            "",
            &format!(
                "CreateEndpoint(\"e\"), Fails(error: \"timed out\", op: Receive(on: \"e\", timeout: Some({U64_MAX}))),"
            ),
        ),
    ];
    assert_no_crashes(&paths, Duration::from_secs(60));
}

#[test]
fn timers_and_devices_at_u64_max_cycles_do_not_panic() {
    let paths = [
        hello_variant(
            "arm_timer_max",
            "",
            &format!(
                "CreateNotification(\"n\"), ArmTimer(notification: \"n\", bits: 1, delay: {U64_MAX}, period: 1000), Wait(on: \"n\"),"
            ),
        ),
        hello_variant("timer_period_max", &format!("servers: (timer: (period_cycles: {U64_MAX})),"), "TimerWait(1),"),
        hello_variant(
            "disk_latency_max",
            &format!("servers: (file: (), block: (latency_cycles: {U64_MAX})),"),
            "Create(\"/x\"),",
        ),
    ];
    assert_no_crashes(&paths, Duration::from_secs(60));
}

#[test]
fn a_disk_too_large_to_simulate_is_refused() {
    // Only parsed, never run: running it would try to allocate the whole disk.
    let mut accepted = Vec::new();
    for block in ["blocks: 4294967295", "block_size: 4294967295"] {
        let text = edit(
            &scenario_text("file_io.ron"),
            "block: (blocks: 64, block_size: 512, latency_cycles: 20000)",
            &format!("block: ({block})"),
        );
        match Scenario::parse(&text, "test.ron") {
            Ok(_) => accepted.push(block),
            Err(error) => {
                let field = block.split(':').next().expect("a field");
                assert_eq!(error.item, format!("servers.block.{field}"), "{error}");
                assert_eq!(error.line, line_of(&text, block), "{error}");
            }
        }
    }
    assert!(accepted.is_empty(), "accepted: {accepted:?}");
}

#[test]
fn a_write_at_offset_u64_max_fails_without_a_panic() {
    let text = edit(
        &scenario_text("hello.ron"),
        "Print(\"hello, world\\n\"),",
        &format!(
            "Open(path: \"/far\", create: true, as: \"f\"), Seek(fd: \"f\", offset: {U64_MAX}), Write(fd: \"f\", text: \"x\"),"
        ),
    );
    let text = edit(&text, "processes: [", "servers: (file: ()),\n    processes: [");
    let scenario = Scenario::parse(&text, "test.ron").unwrap_or_else(|error| panic!("{error}"));
    let mut panics = Vec::new();
    for mode in [Mode::Microkernel, Mode::Monolithic] {
        let report = run(&scenario, mode, &RunOptions::default());
        for process in &report.processes {
            let fault = process.fault.as_deref().unwrap_or("");
            if fault.contains("panicked") {
                panics.push(format!("{} mode: {} faulted: {fault}", mode.name(), process.name));
            }
        }
    }
    assert!(panics.is_empty(), "{}", panics.join("\n"));
}

#[test]
fn a_timer_faster_than_its_interrupt_ends_at_the_step_limit() {
    // Each tick costs more cycles than the period, so the timer never catches up; the step limit must still end the run.
    let paths = [hello_variant(
        "fast_armed_timer",
        "kernel: (step_limit: 2000),",
        "CreateNotification(\"n\"), ArmTimer(notification: \"n\", bits: 1, delay: 1, period: 1), Repeat(times: 3, ops: [Wait(on: \"n\")]),",
    )];
    assert_no_crashes(&paths, Duration::from_secs(20));
}

/// `hello.ron` with a timer server of `period` cycles, waiting three ticks, under `profile`.
fn timer_text(period: u64, profile: &str) -> String {
    let text =
        edit(&scenario_text("hello.ron"), "Print(\"hello, world\\n\"),", "TimerWait(3), Print(\"hello, world\\n\"),");
    let servers = format!("kernel: (profile: \"{profile}\"), servers: (timer: (period_cycles: {period})),");
    edit(&text, "processes: [", &format!("{servers}\n    processes: ["))
}

#[test]
fn a_timer_server_faster_than_a_tick_can_be_handled_is_refused() {
    let text = timer_text(1, "sel4");
    let item = "servers.timer.period_cycles";
    let words = [&format!("from {TIMER_PERIOD_MIN_CYCLES} to")[..], "never gets past it"];
    assert_refused("timer_period_1", &text, line_of(&text, "period_cycles: 1)"), item, &words);
}

#[test]
fn the_shortest_timer_period_lets_the_run_finish_under_every_built_in_profile() {
    // The minimum is there so that no run livelocks on its timer: at the minimum, under every
    // profile, a program that waits three ticks finishes, in both modes.
    for profile in mksim_kernel::CostProfile::built_in_names() {
        let scenario = Scenario::parse(&timer_text(TIMER_PERIOD_MIN_CYCLES, profile), "test.ron")
            .unwrap_or_else(|error| panic!("{error}"));
        for mode in [Mode::Microkernel, Mode::Monolithic] {
            let report = run(&scenario, mode, &RunOptions::default());
            assert!(report.outcome.is_completed(), "{profile}, {} mode: {:?}", mode.name(), report.outcome);
            assert_eq!(report.console["hello"], "hello, world\n", "{profile}, {} mode", mode.name());
        }
    }
}

// ----- random damage -----

/// Scenario files to damage: every kind of server, object and operation appears in one of them.
const DAMAGE_BASES: [&str; 14] = [
    "badges.ron",
    "bulk_transfer.ron",
    "capabilities.ron",
    "deadlock.ron",
    "file_io.ron",
    "hello.ron",
    "name_lookup.ron",
    "notifications.ron",
    "ping_pong.ron",
    "priority_inheritance.ron",
    "priority_inversion.ron",
    "producer_consumer.ron",
    "size_sweep.ron",
    "tour.ron",
];

#[derive(Clone, Debug)]
enum Damage {
    Replace(prop::sample::Index, u8),
    Insert(prop::sample::Index, u8),
    Delete(prop::sample::Index),
}

fn damage_byte() -> impl Strategy<Value = u8> {
    prop_oneof![any::<u8>(), prop::sample::select(b"\"(),:[]{}0129- \nxsRW\xc3\xa9".to_vec())]
}

fn damage_strategy() -> impl Strategy<Value = Damage> {
    prop_oneof![
        (any::<prop::sample::Index>(), damage_byte()).prop_map(|(at, byte)| Damage::Replace(at, byte)),
        (any::<prop::sample::Index>(), damage_byte()).prop_map(|(at, byte)| Damage::Insert(at, byte)),
        any::<prop::sample::Index>().prop_map(Damage::Delete),
    ]
}

fn damaged(text: &str, damages: &[Damage], cut: Option<prop::sample::Index>) -> String {
    let mut bytes = text.as_bytes().to_vec();
    for damage in damages {
        match damage {
            Damage::Replace(at, byte) => {
                let at = at.index(bytes.len());
                bytes[at] = *byte;
            }
            Damage::Insert(at, byte) => bytes.insert(at.index(bytes.len() + 1), *byte),
            Damage::Delete(at) => {
                bytes.remove(at.index(bytes.len()));
            }
        }
    }
    if let Some(cut) = cut {
        bytes.truncate(cut.index(bytes.len() + 1));
    }
    String::from_utf8_lossy(&bytes).into_owned()
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, failure_persistence: None, ..ProptestConfig::default() })]

    /// Damaged scenario text is refused with a position inside it, or parses and then runs to
    /// its end in both modes; nothing panics.
    #[test]
    fn damaged_scenarios_never_panic(
        base in prop::sample::select(DAMAGE_BASES.to_vec()),
        damages in prop::collection::vec(damage_strategy(), 1..4),
        cut in prop::option::weighted(0.3, any::<prop::sample::Index>()),
    ) {
        let text = damaged(&scenario_text(base), &damages, cut);
        match Scenario::parse(&text, "damaged.ron") {
            Err(error) => {
                prop_assert!(!error.item.is_empty(), "{}", error);
                prop_assert!(!error.message.is_empty(), "{}", error);
                prop_assert!(error.line >= 1, "no line: {}", error);
                let lines: Vec<&str> = text.split('\n').collect();
                prop_assert!(error.line <= lines.len(), "line {} of {}: {}", error.line, lines.len(), error);
                let length = lines[error.line - 1].chars().count();
                prop_assert!(
                    error.column >= 1 && error.column <= length + 1,
                    "column {} of {}: {}", error.column, length, error
                );
            }
            Ok(mut scenario) => {
                scenario.kernel.step_limit = scenario.kernel.step_limit.min(20_000);
                for mode in [Mode::Microkernel, Mode::Monolithic] {
                    let report = run(&scenario, mode, &RunOptions::default());
                    prop_assert!(report.steps <= 20_000);
                    // The kernel survives a panicking program by faulting it; a panic is still a bug.
                    for process in &report.processes {
                        let fault = process.fault.as_deref().unwrap_or("");
                        prop_assert!(!fault.contains("panicked"), "{} mode: {}: {}", mode.name(), process.name, fault);
                    }
                }
            }
        }
    }
}

// ----- faults and the supervisor -----

#[test]
fn a_fault_on_a_server_the_scenario_does_not_boot_is_refused_at_its_name() {
    let text =
        edit(&scenario_text("driver_restart.ron"), "(server: \"block\", kind: Crash", "(server: \"nmae\", kind: Crash");
    let line = line_of(&text, "\"nmae\"");
    assert_refused("fault_server", &text, line, "faults[0] (server \"nmae\")", &["not a server", "console, block, fs"]);
}

#[test]
fn a_random_fault_needs_a_probability() {
    let text = edit(&scenario_text("driver_restart.ron"), "at: Message(6)", "at: Random(1.5)");
    let line = line_of(&text, "Random(1.5)");
    assert_refused(
        "fault_probability",
        &text,
        line,
        "faults[0] (server \"block\")",
        &["Random(1.5)", "between 0 and 1"],
    );
}

#[test]
fn message_triggers_count_from_one() {
    let text = edit(&scenario_text("fs_restart.ron"), "at: Message(3)", "at: Message(0)");
    assert_refused("fault_message_zero", &text, line_of(&text, "Message(0)"), "faults[0] (server \"fs\")", &["from 1"]);
}

#[test]
fn an_unknown_fault_kind_lists_the_kinds() {
    let text = edit(&scenario_text("driver_restart.ron"), "kind: Crash", "kind: Explode");
    let error = assert_refused("fault_kind", &text, line_of(&text, "Explode"), "faults[0].kind", &["Explode"]);
    for kind in ["Crash", "Hang", "CorruptReply", "DropMessage", "Delay"] {
        assert!(error.message.contains(kind), "{error}");
    }
}

#[test]
fn the_supervisor_can_only_look_after_booted_servers() {
    let text =
        edit(&scenario_text("driver_restart.ron"), "restart: { \"block\": Always }", "restart: { \"blok\": Always }");
    let item = "servers.supervisor.restart \"blok\"";
    assert_refused("supervisor_ward", &text, line_of(&text, "\"blok\""), item, &["not a server the scenario boots"]);
}

#[test]
fn the_supervisor_needs_the_name_server() {
    let text = edit(&scenario_text("driver_restart.ron"), "servers: (", "servers: (name: false,");
    let line = line_of(&text, "supervisor: (");
    assert_refused("supervisor_name", &text, line, "servers.supervisor", &["needs the name server"]);
}

#[test]
fn a_bad_command_line_fault_is_refused_with_status_2() {
    let scenario = workspace().join("scenarios/hello.ron");
    let scenario = scenario.to_str().expect("a UTF-8 path");
    for (fault, words) in [
        ("fs:crash@msg=1", "does not boot fs"),
        ("console:explode@msg=1", "unknown fault kind"),
        ("console:crash", "expected SERVER:KIND@WHEN"),
    ] {
        let printed = assert_refused_by_binary(&mksim(&["run", scenario, "--fault", fault]));
        assert!(printed.contains(words), "{fault}: {printed}");
    }
}

// ----- the kernel's limits -----

/// `text` with `limits` (e.g. `capability_slots_max: 3`) added to its kernel settings.
fn with_limits(text: &str, limits: &str) -> String {
    if let Some(at) = text.find("\n    kernel: (") {
        let at = at + "\n    kernel: (".len();
        return format!("{}limits: ({limits}), {}", &text[..at], &text[at..]);
    }
    let name = text.find("\n    name: ").expect("a scenario's name") + 1;
    format!("{}    kernel: (limits: ({limits})),\n{}", &text[..name], &text[name..])
}

/// The least value of a limit that the error for `0` names (`from N to`), if `0` is refused
/// for that limit (rather than for what the programs ask).
#[track_caller]
fn named_minimum(text: &str, limit: &str) -> Option<u64> {
    let error = Scenario::parse(&with_limits(text, &format!("{limit}: 0")), "test.ron").err()?;
    if error.item != format!("kernel.limits.{limit}") {
        return None;
    }
    let from = error.message.split("from ").nth(1).unwrap_or_else(|| panic!("no range in {error}"));
    Some(from.split(' ').next().and_then(|number| number.parse().ok()).unwrap_or_else(|| panic!("{error}")))
}

#[test]
fn capability_slots_fewer_than_the_servers_need_are_refused_without_a_panic() {
    // A supervisor looking after two servers needs the most: a handle and a port for each.
    let text = edit(
        &scenario_text("driver_restart.ron"),
        "restart: { \"block\": Always }",
        "restart: { \"block\": Always, \"fs\": Always }",
    );
    let line = line_of(&with_limits(&text, "capability_slots_max: 0"), "capability_slots_max");
    for slots in 0..=6 {
        let text = with_limits(&text, &format!("capability_slots_max: {slots}"));
        let words = ["`capability_slots_max` must be a whole number from 7 to 65536", "the supervisor needs 7"];
        assert_refused(&format!("slots_{slots}"), &text, line, "kernel.limits.capability_slots_max", &words);
    }
    // Without a supervisor the name server needs the most: its port, the console it publishes,
    // and two while it answers.
    let text = with_limits(&scenario_text("hello.ron"), "capability_slots_max: 3");
    let error = refused(&text);
    assert!(error.message.contains("from 4 to") && error.message.contains("the name server needs 4"), "{error}");
    // Through a fault campaign, whose worker threads boot the scenario too.
    let path = write_file(
        &scratch("slots_faults"),
        "test.ron",
        with_limits(&scenario_text("hello.ron"), "capability_slots_max: 0"),
    );
    let printed = assert_refused_by_binary(&mksim(&["faults", &path, "--runs", "3"]));
    assert!(printed.contains("capability_slots_max"), "{printed}");
}

#[test]
fn the_least_limits_the_errors_name_are_enough_for_every_server() {
    // Scenarios whose programs ask little of their own, so the servers' needs are what counts:
    // at the least value each error names, every expectation still holds in both modes,
    // restarts and a hung server included.
    let mut scenarios: Vec<(&str, String)> = [
        "hello.ron",
        "name_lookup.ron",
        "file_io.ron",
        "notifications.ron",
        "driver_restart.ron",
        "fs_restart.ron",
        "hung_server.ron",
        "tour.ron",
    ]
    .into_iter()
    .map(|file| (file, scenario_text(file)))
    .collect();
    // With two servers to look after, the supervisor needs more than the name server: its
    // restart of the driver must still go through.
    let two_wards = edit(
        &scenario_text("driver_restart.ron"),
        "restart: { \"block\": Always }",
        "restart: { \"block\": Always, \"fs\": Always }",
    );
    scenarios.push(("driver_restart.ron with two wards", two_wards));
    for (file, text) in scenarios {
        let limits: Vec<String> =
            ["capability_slots_max", "objects_per_process_max", "message_bytes_max", "message_caps_max"]
                .into_iter()
                .filter_map(|limit| Some(format!("{limit}: {}", named_minimum(&text, limit)?)))
                .collect();
        let limits = limits.join(", ");
        let tight = with_limits(&text, &limits);
        let scenario = Scenario::parse(&tight, file).unwrap_or_else(|error| panic!("{file}: {error}"));
        let result = mksim_core::check::check(&scenario, &RunOptions::default());
        let failed = result.failures();
        assert!(failed.is_empty(), "{file} with {limits}:\n{}", failed.join("\n"));
    }
}

#[test]
fn declared_objects_are_checked_against_the_scenarios_own_limits() {
    let base = |limits: &str, object: &str| {
        format!(
            "Scenario(\n    name: \"limits\",\n    kernel: (limits: ({limits})),\n    objects: [\n        {object}\n    ],\n    \
             processes: [(name: \"a\", priority: 5, program: [Yield])],\n)\n"
        )
    };
    let text = base("queue_capacity_max: 2", "(name: \"q\", kind: Queue(capacity: 100, policy: Block), owner: \"a\"),");
    let words = ["`capacity` must be a whole number from 1 to 2", "queue_capacity_max is 2"];
    assert_refused("queue_limit", &text, 5, "object \"q\", field `capacity`", &words);
    let text = base("region_bytes_max: 16", "(name: \"r\", kind: Region(size: 1000), owner: \"a\"),");
    let words = ["`size` must be a whole number from 0 to 16", "region_bytes_max is 16"];
    assert_refused("region_limit", &text, 5, "object \"r\", field `size`", &words);
    // Twenty thousand objects for one owner that may own one: refused at the second.
    let objects: Vec<String> =
        (0..20_000).map(|index| format!("(name: \"o{index}\", kind: Endpoint, owner: \"a\"),")).collect();
    let text = base("objects_per_process_max: 1", &objects.join("\n        "));
    let text = edit(&text, "name: \"limits\",", "name: \"limits\",\n    servers: (console: false),");
    let words = ["would own more objects", "objects_per_process_max (1)"];
    assert_refused("objects_limit", &text, line_of(&text, "\"o1\""), "object \"o1\", field `owner`", &words);
    // What the limits allow is accepted.
    let text = base("queue_capacity_max: 2", "(name: \"q\", kind: Queue(capacity: 2, policy: Block), owner: \"a\"),");
    Scenario::parse(&text, "test.ron").unwrap_or_else(|error| panic!("{error}"));
}

#[test]
fn a_process_cannot_start_with_more_capabilities_than_its_table_holds() {
    let text = with_limits(&scenario_text("ping_pong.ron"), "capability_slots_max: 3");
    let text = edit(
        &text,
        "caps: [(name: \"pong\", object: \"pingport\", rights: \"s\", badge: 1)],",
        "caps: [(name: \"pong\", object: \"pingport\", rights: \"s\", badge: 1), (name: \"pong2\", object: \"pingport\", rights: \"s\"), (name: \"pong3\", object: \"pingport\", rights: \"s\")],",
    );
    let words = ["starts with 4 capabilities", "1 to the name server", "3 in `caps`", "capability_slots_max (3)"];
    assert_refused("initial_caps", &text, line_of(&text, "name: \"ping\""), "process \"ping\"", &words);
}

#[test]
fn limits_past_what_fits_in_memory_are_refused_and_the_maxima_accepted() {
    let text = scenario_text("hello.ron");
    for (limit, max) in [
        ("capability_slots_max", 65_536u64),
        ("objects_per_process_max", 65_536),
        ("message_bytes_max", 65_536),
        ("message_caps_max", 64),
        ("region_bytes_max", 64 << 20),
        ("queue_capacity_max", 65_536),
    ] {
        for value in [max + 1, u64::from(u32::MAX), u64::MAX] {
            let error = refused(&with_limits(&text, &format!("{limit}: {value}")));
            assert_eq!(error.item, format!("kernel.limits.{limit}"), "{error}");
            assert!(error.message.contains(&format!(" to {max}")), "{error}");
        }
        let error = refused(&with_limits(&text, &format!("{limit}: -1")));
        assert!(error.message.contains(&format!(" to {max}")), "{error}");
        Scenario::parse(&with_limits(&text, &format!("{limit}: {max}")), "test.ron")
            .unwrap_or_else(|error| panic!("{limit}: {max}: {error}"));
    }
    let text = edit(&scenario_text("hello.ron"), "processes: [", "kernel: (step_limit: 1000000001),\n    processes: [");
    let words = ["`step_limit` must be a whole number from 1 to 1000000000"];
    assert_refused("step_limit_max", &text, line_of(&text, "step_limit"), "kernel.step_limit", &words);
}

#[test]
fn a_three_gigabyte_region_is_refused_before_anything_is_allocated() {
    let text = "Scenario(
    name: \"big\",
    kernel: (limits: (region_bytes_max: 4294967295)),
    objects: [
        (name: \"r1\", kind: Region(size: 3000000000), owner: \"a\"),
        (name: \"r2\", kind: Region(size: 3000000000), owner: \"a\"),
        (name: \"r3\", kind: Region(size: 3000000000), owner: \"a\"),
    ],
    processes: [(name: \"a\", priority: 5, program: [Yield])],
)
";
    let item = "kernel.limits.region_bytes_max";
    let words = ["from 0 to 67108864", "in memory"];
    assert_refused("region_3gb", text, 3, item, &words);
}

// ----- files that are not scenario files -----

#[test]
fn devices_folders_and_pipes_are_refused_quickly_by_name() {
    let folder = scratch("not_files");
    let fifo = folder.join("pipe.ron");
    let made = Command::new("mkfifo").arg(&fifo).status().expect("mkfifo runs");
    assert!(made.success(), "mkfifo {fifo:?}");
    let fifo = fifo.to_str().expect("UTF-8").to_owned();
    let hello = workspace().join("scenarios/hello.ron");
    let hello = hello.to_str().expect("UTF-8");
    let folder_path = folder.to_str().expect("UTF-8");
    for (args, words) in [
        (vec!["check", "/dev/zero"], "/dev/zero: is a character device, not a regular file"),
        (vec!["check", folder_path], "pipe.ron: is a named pipe (FIFO), not a regular file"),
    ] {
        let printed = assert_failed_by_check(&mksim_within(&args, Duration::from_secs(20)));
        assert!(printed.contains(words), "{args:?}: {printed}");
    }
    for (args, words) in [
        (vec!["run", &fifo], "pipe.ron: is a named pipe (FIFO), not a regular file"),
        (vec!["run", hello, "--profile", "/dev/zero"], "ends in .ron"),
        (vec!["run", hello, "--profile", &fifo], "is a named pipe (FIFO)"),
        (vec!["run", folder_path], "is a directory, not a regular file"),
    ] {
        let printed = assert_refused_by_binary(&mksim_within(&args, Duration::from_secs(20)));
        assert!(printed.contains(words), "{args:?}: {printed}");
    }
    // Named by a scenario.
    for profile in ["/dev/zero", &fifo] {
        let text = edit(
            &scenario_text("hello.ron"),
            "processes: [",
            &format!("kernel: (profile: \"{profile}\"),\n    processes: ["),
        );
        let path = write_file(&folder, "profile.ron", &text);
        let printed = assert_refused_by_binary(&mksim_within(&["run", &path], Duration::from_secs(20)));
        assert!(printed.contains("kernel.profile"), "{printed}");
    }
}

#[test]
fn a_profile_named_by_a_scenario_never_has_its_contents_quoted() {
    let folder = scratch("profile_secret");
    let secret = write_file(&folder, "secret.ron", "hunter2:x:0:0:the secret line\nsecond_secret_word\n");
    for profile in ["/etc/passwd", &secret] {
        let text = edit(
            &scenario_text("hello.ron"),
            "processes: [",
            &format!("kernel: (profile: \"{profile}\"),\n    processes: ["),
        );
        let error = refused(&text);
        assert_eq!(error.item, "kernel.profile", "{error}");
        assert!(error.message.contains(profile), "the file is named: {error}");
        for word in ["root", "hunter2", "secret line", "second_secret_word"] {
            assert!(!error.message.contains(word), "{word:?} quoted: {error}");
        }
    }
    assert!(
        refused(&edit(
            &scenario_text("hello.ron"),
            "processes: [",
            "kernel: (profile: \"/etc/passwd\"),\n    processes: ["
        ))
        .message
        .contains("ends in .ron")
    );
}

#[test]
fn a_file_over_sixteen_mebibytes_is_refused_unread() {
    let folder = scratch("huge_file");
    let path = folder.join("huge.ron");
    let file = std::fs::File::create(&path).expect("a scratch file");
    file.set_len(mksim_core::scenario::FILE_BYTES_MAX + 1).expect("a sparse file");
    let path = path.to_str().expect("UTF-8");
    let printed = assert_refused_by_binary(&mksim(&["run", path]));
    assert!(printed.contains("16 MiB"), "{printed}");
}

#[test]
fn long_strings_in_errors_are_cut_with_their_length() {
    let long = "x".repeat(100_000);
    let text = edit(&scenario_text("ping_pong.ron"), "object: \"pingport\"", &format!("object: \"{long}\""));
    let error = refused(&text);
    assert!(error.message.contains("… (100000 characters)"), "{}", &error.message[..200.min(error.message.len())]);
    assert!(error.to_string().len() < 400, "{} bytes", error.to_string().len());
    let text = edit(
        &scenario_text("hello.ron"),
        "name: \"hello\",\n            priority",
        &format!("name: \"{long}\",\n            priority: 99,\n            x"),
    );
    let error = refused(&text);
    assert!(error.to_string().len() < 400, "{} bytes", error.to_string().len());
}

// ----- errors at the item at fault -----

/// The scenario: `done` is a notification the client holds as `notify`, and its last
/// step names `done`, which it does not hold.
const SIGNALS: &str = "// A scenario for error positions.
Scenario(
    name: \"signals\",
    description: \"a client waits for a server's signal\",
    objects: [
        (name: \"done\", kind: Notification, owner: \"server\"),
    ],
    processes: [
        (
            name: \"server\",
            priority: 10,
            program: [Signal(to: \"done\", bits: 1)],
        ),
        (
            name: \"client\", priority: 5, caps: [(name: \"notify\", object: \"done\", rights: \"sr\")],
            program: [
                Wait(on: \"notify\"),
                Yield,
                Yield,
                Print(\"ok\"),
                Signal(to: \"done\", bits: 1),
            ],
        ),
    ],
)
";

#[track_caller]
fn assert_at(text: &str, error: &ScenarioError, needle: &str, nth: usize) {
    let line = line_of_nth(text, needle, nth);
    let column = column_of_nth(text, needle, nth);
    assert_eq!((error.line, error.column), (line, column), "{error}, expected at {needle:?}");
}

#[test]
fn a_name_used_by_an_operation_is_refused_at_that_operation_not_its_first_mention() {
    let error = assert_refused(
        "signal_done",
        SIGNALS,
        21,
        "process \"client\", step 5 (Signal), field `to`",
        &["`done` is not defined"],
    );
    assert_at(SIGNALS, &error, "\"done\"", 3);
    // Nested inside a Repeat and a Fails: the path is in the step's number.
    let text = edit(
        SIGNALS,
        "Signal(to: \"done\", bits: 1),\n            ],",
        "Repeat(times: 2, ops: [Yield, Fails(error: \"x\", op: Signal(to: \"done\", bits: 1))]),\n            ],",
    );
    let error = refused(&text);
    assert_eq!(error.item, "process \"client\", step 5.2 (Signal), field `to`", "{error}");
    assert_at(&text, &error, "\"done\"", 3);
}

#[test]
fn parse_errors_name_the_process_step_and_field() {
    let replace_yield = |with: &str| {
        edit(
            SIGNALS,
            "                Yield,\n                Yield,",
            &format!("                {with}\n                Yield,"),
        )
    };
    let text = replace_yield("Spin(on: \"notify\"),");
    let error = assert_refused("spin", &text, 18, "process \"client\", step 2 (Spin)", &["unknown operation `Spin`"]);
    assert_at(&text, &error, "Spin", 0);
    let text = replace_yield("Recieve(on: \"notify\"),");
    assert_refused("recieve", &text, 18, "process \"client\", step 2 (Recieve)", &["did you mean `Receive`?"]);
    let text = replace_yield("Receive(onn: \"notify\"),");
    let item = "process \"client\", step 2 (Receive), field `onn`";
    assert_refused("receive_onn", &text, 18, item, &["unknown field `onn` in `Receive`", "did you mean `on`?"]);
    let text = replace_yield("Yield Yield,");
    assert_refused("missing_comma", &text, 18, "process \"client\", step 2 (Yield)", &["comma"]);
    let text = replace_yield("Repeat(3, [Yield]),");
    let words = ["`Repeat` is written with its fields named: Repeat(times: ..., ops: ...)"];
    assert_refused("repeat_positional", &text, 18, "process \"client\", step 2 (Repeat)", &words);
    let text = edit(SIGNALS, "            name: \"server\",\n", "");
    let error = assert_refused("no_name", &text, 9, "process #1", &["`Process` needs the field `name`"]);
    assert_at(&text, &error, "(\n            priority", 0);
}

#[test]
fn a_typo_in_the_expected_outcome_points_at_expect_outcome() {
    let text = edit(&scenario_text("ping_pong.ron"), "outcome: Completed,", "outcome: Completd,");
    let error = assert_refused(
        "outcome_typo",
        &text,
        line_of(&text, "Completd"),
        "expect.outcome",
        &["unknown outcome `Completd`; did you mean `Completed`?"],
    );
    assert_at(&text, &error, "Completd", 0);
}

#[test]
fn a_number_out_of_range_gets_the_same_words_whatever_the_number() {
    let messages: Vec<String> = ["-1", "32", "40", "300", "99999999999999999999999", "1.5"]
        .iter()
        .map(|value| {
            let text = edit(&scenario_text("ping_pong.ron"), "priority: 10,", &format!("priority: {value},"));
            let error = refused(&text);
            assert_eq!(error.item, "process \"pong\", field `priority`", "{error}");
            assert_eq!(error.line, line_of(&text, &format!("priority: {value}")), "{error}");
            error.message
        })
        .collect();
    assert!(messages.iter().all(|message| *message == messages[0]), "{messages:#?}");
    assert_eq!(messages[0], "`priority` must be a whole number from 0 to 31");
    // A number wider than its field's type gets the type's range, negative or too large.
    for value in ["-1", "4294967296"] {
        let text = edit(
            &scenario_text("hello.ron"),
            "Print(\"hello, world\\n\"),",
            &format!("Repeat(times: {value}, ops: [Yield]),"),
        );
        let error = refused(&text);
        assert_eq!(error.message, "`times` must be a whole number from 0 to 4294967295", "{error}");
        assert_eq!(error.item, "process \"hello\", step 1 (Repeat), field `times`", "{error}");
    }
}

#[test]
fn nesting_too_deep_is_refused_in_plain_words() {
    let depth = 200;
    let program = format!("{}Yield{}", "Repeat(times: 1, ops: [".repeat(depth), "])".repeat(depth));
    let text = edit(&scenario_text("hello.ron"), "Print(\"hello, world\\n\"),", &format!("{program},"));
    let error = refused(&text);
    assert!(error.message.contains("nest more than 128 levels"), "{error}");
    assert!(!error.message.contains("recursion_limit") && !error.message.contains("serde_stacker"), "{error}");
    assert!(error.item.starts_with("process \"hello\", step 1.1.1"), "{error}");
    assert!(error.item.len() < 100, "{error}");
}

// ----- names the built-in services take -----

#[test]
fn may_register_refuses_the_built_in_service_names_in_both_modes() {
    for service in ["console", "fs", "block", "timer", "name", "supervisor"] {
        let text = edit(
            &scenario_text("name_lookup.ron"),
            "may_register: [\"echo\"],",
            &format!("may_register: [\"echo\", \"{service}\"],"),
        );
        let item = "process \"echo\", field `may_register`";
        let error = refused(&text);
        assert_eq!(error.item, item, "{error}");
        assert!(error.message.contains("built-in service"), "{error}");
        assert_at(&text, &error, &format!("\"{service}\"]"), 0);
        if service == "console" {
            assert_refused("register_console", &text, error.line, item, &["built-in service"]);
            let path = write_file(&scratch("register_console_monolithic"), "test.ron", &text);
            assert_refused_by_binary(&mksim(&["run", &path, "--mode", "monolithic"]));
        }
    }
}

// ----- the command line -----

#[test]
fn check_without_scenario_files_and_a_campaign_of_no_runs_are_usage_errors() {
    let folder = scratch("check_empty");
    let printed = assert_refused_by_binary(&mksim(&["check", folder.to_str().expect("UTF-8")]));
    assert!(printed.contains("no scenario files"), "{printed}");
    let printed = assert_refused_by_binary(&mksim(&["faults", "scenarios/hello.ron", "--runs", "0"]));
    assert!(printed.contains("--runs"), "{printed}");
}

// ----- size -----

/// A scenario of `objects` notifications, sixty to each process, each process signalling its first.
fn many_objects(objects: usize) -> String {
    let owners = objects.div_ceil(60);
    let mut text = String::from("Scenario(\n    name: \"many\",\n    servers: (console: false),\n    objects: [\n");
    for index in 0..objects {
        text.push_str(&format!("        (name: \"o{index}\", kind: Notification, owner: \"p{}\"),\n", index % owners));
    }
    text.push_str("    ],\n    processes: [\n");
    for owner in 0..owners {
        text.push_str(&format!(
            "        (name: \"p{owner}\", priority: 5, program: [Signal(to: \"o{owner}\", bits: 1)]),\n"
        ));
    }
    text.push_str("    ],\n)\n");
    text
}

#[test]
fn sixty_thousand_declared_objects_are_validated_and_run() {
    // Validation is linear in the size of the file (its speed is measured, not asserted here):
    // sixty thousand objects take well under a second in a release build.
    let text = many_objects(60_000);
    let scenario = Scenario::parse(&text, "many.ron").unwrap_or_else(|error| panic!("{error}"));
    assert_eq!(scenario.processes.len(), 1000);
    let report = run(&scenario, Mode::Microkernel, &RunOptions::default());
    assert!(report.outcome.is_completed(), "{:?}", report.outcome);
    // An error at the last object is found at its own line.
    let last = text.rfind("owner: \"p").expect("the last object") + "owner: \"".len();
    let bad = format!("{}nobody{}", &text[..last], &text[last + text[last..].find('"').expect("a quote")..]);
    let error = refused(&bad);
    assert_eq!(error.item, "object \"o59999\", field `owner`", "{error}");
    assert_eq!(error.line, line_of(&bad, "\"nobody\""), "{error}");
}
