//! Scenario parameters (`params` and `${name}`) and payloads of `bytes: N`, through the library
//! as the command line uses them.

use mksim_core::run::{RunOptions, run};
use mksim_core::scenario::{Scenario, ScenarioError};
use mksim_kernel::Outcome;
use mksim_kernel::event::EventKind;
use mksim_servers::system::Mode;
use std::collections::BTreeMap;

/// A client calling an echo server `${times}` times with `${size}` bytes; line 10 holds the call.
const ECHO: &str = r#"Scenario(
    name: "echo ${size}",
    params: {"size": 8, "times": 2, "policy": "Report", "unused": "fine"},
    kernel: (profile: "l4", deadlock: ${policy}, limits: (message_bytes_max: 4096)),
    servers: (name: false, console: false),
    objects: [(name: "port", kind: Endpoint, owner: "echo")],
    processes: [
        (name: "echo", priority: 10, server: true, program: [Echo(on: "port")]),
        (name: "client", priority: 5, caps: [(name: "echo", object: "port", rights: "s")], program: [
            Repeat(times: ${times}, ops: [Call(to: "echo", label: 1, bytes: ${size}, expect_bytes: ${size})]),
        ]),
    ],
)
"#;

fn overrides(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
    pairs.iter().map(|(name, value)| ((*name).to_owned(), (*value).to_owned())).collect()
}

fn parse_error(text: &str, pairs: &[(&str, &str)]) -> ScenarioError {
    Scenario::parse_with_params(text, "echo.ron", &overrides(pairs)).expect_err("the scenario must be refused")
}

/// The data sizes of the messages a run sent, in order.
fn message_sizes(scenario: &Scenario) -> Vec<u64> {
    let report = run(scenario, Mode::Microkernel, &RunOptions::default());
    assert_eq!(report.outcome, Outcome::Completed, "{:?}", report.processes);
    report
        .log
        .events()
        .iter()
        .filter_map(|event| match event.kind {
            EventKind::MessageSent { message } => Some(report.log.message_bytes(message)),
            _ => None,
        })
        .collect()
}

#[test]
fn placeholders_take_the_declared_values() {
    let scenario = Scenario::parse(ECHO, "echo.ron").unwrap_or_else(|error| panic!("{error}"));
    assert_eq!(scenario.name, "echo 8", "a placeholder inside a string is replaced too");
    assert_eq!(scenario.params["size"], "8");
    assert_eq!(scenario.params["unused"], "fine", "a parameter nobody uses is fine");
    assert_eq!(scenario.kernel.deadlock_policy, mksim_kernel::DeadlockPolicy::Report);
    assert_eq!(message_sizes(&scenario), vec![8, 8, 8, 8], "two calls and two replies of 8 bytes");
}

#[test]
fn overrides_replace_the_declared_values() {
    let set = overrides(&[("size", "4096"), ("times", "3"), ("policy", "Refuse")]);
    let scenario = Scenario::parse_with_params(ECHO, "echo.ron", &set).unwrap_or_else(|error| panic!("{error}"));
    assert_eq!(scenario.name, "echo 4096");
    assert_eq!(scenario.params["size"], "4096");
    assert_eq!(scenario.kernel.deadlock_policy, mksim_kernel::DeadlockPolicy::Refuse);
    assert_eq!(message_sizes(&scenario), vec![4096; 6], "the echo server answers 4096 bytes with the same");
}

#[test]
fn an_unknown_placeholder_is_reported_where_it_is_with_the_declared_names() {
    let text = ECHO.replace("bytes: ${size}", "bytes: ${sise}");
    let error = parse_error(&text, &[]);
    assert_eq!((error.line, error.column), (10, 77), "{error}");
    assert_eq!(error.item, "placeholder ${sise}");
    assert!(error.message.contains("`sise`"), "{error}");
    assert!(error.message.contains("declared: policy, size, times, unused"), "{error}");
    assert!(error.to_string().starts_with("echo.ron:10:77: placeholder ${sise}: "), "{error}");

    let without = "Scenario(name: \"${x}\", processes: [])";
    let error = parse_error(without, &[]);
    assert_eq!((error.line, error.column), (1, 17), "{error}");
    assert!(error.message.contains("declares none"), "{error}");
}

#[test]
fn overriding_a_parameter_the_scenario_does_not_declare_is_refused() {
    let error = parse_error(ECHO, &[("sise", "64")]);
    assert!(error.message.contains("declares no parameter `sise`"), "{error}");
    assert!(error.message.contains("declared: policy, size, times, unused"), "{error}");
    let error = parse_error("Scenario(name: \"x\", processes: [])", &[("size", "8")]);
    assert!(error.message.contains("declares no parameter `size`"), "{error}");
}

#[test]
fn a_number_takes_only_a_number_and_no_value_takes_a_line_break() {
    let error = parse_error(ECHO, &[("size", "big")]);
    assert!(error.message.contains("`size` is a number"), "{error}");
    let error = parse_error(ECHO, &[("policy", "Report\n")]);
    assert!(error.message.contains("line break"), "{error}");
    let text = ECHO.replace("\"unused\": \"fine\"", "\"unused\": \"two\\nlines\"");
    assert!(parse_error(&text, &[]).message.contains("line break"));
}

#[test]
fn errors_after_substitution_keep_the_line_and_the_column_of_the_original_text() {
    // `times` set to text: the parse error is in the Repeat on line 10, where its value starts
    // (RON points just after the colon).
    let text = ECHO.replace("\"times\": 2", "\"times\": \"two\"");
    let error = parse_error(&text, &[]);
    assert_eq!((error.line, error.column), (10, 26), "{error}");
    // A bad field after two long values on the same line is still found where it is written.
    let text = ECHO.replace("expect_bytes: ${size})", "expect_bytes: ${size}, colour: 1)");
    let error = parse_error(&text, &[("size", "1000000")]);
    assert_eq!((error.line, error.column), (10, 109), "{error}");
    assert!(error.message.contains("colour"), "{error}");
}

#[test]
fn placeholders_in_comments_are_left_alone_and_strings_are_escaped() {
    let text = ECHO
        .replace("name: \"echo ${size}\",", "name: \"echo ${unused}\", // try ${nothing}")
        .replace("\"unused\": \"fine\"", "\"unused\": \"a \\\"quoted\\\" \\\\ word\"");
    let scenario = Scenario::parse(&text, "echo.ron").unwrap_or_else(|error| panic!("{error}"));
    assert_eq!(scenario.name, "echo a \"quoted\" \\ word");
}

#[test]
fn a_parameter_cannot_use_another_and_params_must_be_a_map() {
    let text = ECHO.replace("\"unused\": \"fine\"", "\"unused\": \"${size}\"");
    assert!(parse_error(&text, &[]).message.contains("cannot use another parameter"));
    let text = ECHO.replace("params: {", "params: [{").replace("\"fine\"}", "\"fine\"}]");
    let error = parse_error(&text, &[]);
    assert_eq!((error.line, error.item.as_str()), (3, "params"), "{error}");
    let text = ECHO.replace("\"times\": 2", "\"times\": [2]");
    let error = parse_error(&text, &[]);
    assert_eq!(error.line, 3, "{error}");
    assert!(error.message.contains("numbers or strings"), "{error}");
    let text = ECHO.replace("bytes: ${size}", "bytes: ${size");
    assert!(parse_error(&text, &[]).message.contains("not closed"));
}

#[test]
fn data_and_bytes_together_are_refused_with_the_step() {
    let text = ECHO.replace("bytes: ${size},", "data: \"hi\", bytes: ${size},");
    let error = parse_error(&text, &[]);
    assert_eq!(error.line, 10, "{error}");
    assert_eq!(error.item, "process \"client\", step 1.1 (Call), field `data`", "{error}");
    assert!(error.message.contains("give `data` or `bytes`, not both"), "{error}");
}

#[test]
fn a_payload_over_the_message_limit_fails_with_message_too_large() {
    let text = ECHO.replace(
        "Repeat(times: ${times}, ops: [Call(to: \"echo\", label: 1, bytes: ${size}, expect_bytes: ${size})]),",
        "Fails(error: \"message too large\", op: Call(to: \"echo\", bytes: 4097)), Call(to: \"echo\", bytes: 4096, expect_bytes: 4096),",
    );
    let scenario = Scenario::parse(&text, "echo.ron").unwrap_or_else(|error| panic!("{error}"));
    assert_eq!(message_sizes(&scenario), vec![4096, 4096], "the refused call sent nothing");
    let text = text.replace("Fails(error: \"message too large\", op: Call(to: \"echo\", bytes: 4097)), ", "");
    let text = text.replace("expect_bytes: 4096", "expect_bytes: 4095");
    let scenario = Scenario::parse(&text, "echo.ron").unwrap_or_else(|error| panic!("{error}"));
    let report = run(&scenario, Mode::Microkernel, &RunOptions::default());
    let fault = report.process("client").and_then(|client| client.fault.clone()).expect("the client faulted");
    assert!(fault.contains("step 1 (call): reply: expected 4095 bytes, got 4096"), "{fault}");
}
