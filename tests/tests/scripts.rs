//! Programs in a language: scripts call the system through functions that return values or throw
//! errors, run deterministically, stay inside their bounds, and report their errors at the
//! script's own file, line and column.

use mksim_core::export::trace_hash;
use mksim_core::run::{RunOptions, RunReport, run};
use mksim_core::scenario::Scenario;
use mksim_servers::system::Mode;
use proptest::prelude::*;

const MODES: [Mode; 2] = [Mode::Microkernel, Mode::Monolithic];

fn parse(text: &str) -> Scenario {
    Scenario::parse(text, "test.ron").unwrap_or_else(|error| panic!("{error}"))
}

/// A scenario with a console and `processes` (RON text of each process).
fn scenario(processes: &[String]) -> Scenario {
    parse(&format!(
        "Scenario(name: \"scripts\", servers: (console: true), objects: [(name: \"port\", kind: Endpoint, owner: \
         \"server\")], processes: [{}])",
        processes.join(", ")
    ))
}

/// A process running the inline script `source`, with a send capability to the echo port.
fn scripted(name: &str, source: &str) -> String {
    format!(
        "(name: \"{name}\", priority: 5, caps: [(name: \"port\", object: \"port\", rights: \"s\")], program: \
         Script(source: r#\"{source}\"#))"
    )
}

/// The echo server every test system has: it answers each call with its label and data.
fn echo_server() -> String {
    "(name: \"server\", priority: 9, server: true, program: Script(source: r#\"
        let port = cap(\"port\");
        let message = receive(port);
        loop { message = reply_receive(message, message.label, message.data, port); }
    \"#))"
        .to_owned()
}

fn run_both(scenario: &Scenario) -> [RunReport; 2] {
    MODES.map(|mode| run(scenario, mode, &RunOptions::default()))
}

fn process<'a>(report: &'a RunReport, name: &str) -> &'a mksim_core::run::ProcessReport {
    report.processes.iter().find(|process| process.name == name).expect("the process")
}

#[test]
fn errors_are_values_a_script_can_test() {
    let client = scripted(
        "client",
        r#"
        try { call_port(999, 0, "x"); } catch (error) { print("call: " + error); }
        try { lookup("nobody"); } catch (error) { print("lookup: " + error); }
        let q = create_queue(1, "fail");
        try { receive(q, #{ nonblocking: true }); } catch (error) { print("receive: " + error); }
        send(q, 1, "a");
        try { send(q, #{ label: 2, data: "b", nonblocking: true }); } catch (error) { print("send: " + error); }
        let n = create_notification();
        try { wait(n, 500); } catch (error) { print("wait: " + error); }
        try { send(q, #{ lable: 1 }); } catch (error) { print("option: " + error); }
        "#,
    );
    for report in run_both(&scenario(&[echo_server(), client])) {
        assert_eq!(
            report.console["client"],
            "call: invalid capability\nlookup: not found\nreceive: would block\nsend: queue full\nwait: timed \
             out\noption: unknown option `lable` (options: label, data, bytes, pass, nonblocking, timeout)\n",
            "{:?}",
            report.mode
        );
        assert_eq!(process(&report, "client").exit_code, Some(0));
    }
}

#[test]
fn an_unhandled_error_faults_the_process_naming_the_line_and_keep_going_exits_with_one() {
    let failing = "\n        print(\"before\");\n        lookup(\"nobody\");\n        print(\"after\");\n        ";
    let faulting = scripted("client", failing);
    let forgiving = scripted("forgiving", failing).replace("program:", "keep_going: true, program:");
    // Where the client's lookup is in the scenario's text.
    let before = echo_server() + ", " + &faulting[..faulting.find("lookup").expect("the lookup")];
    let line = 1 + before.matches('\n').count();
    let column = 1 + before.len() - before.rfind('\n').expect("a line break") - 1;
    let expected = format!("failed with code 1: test.ron:{line}:{column}: not found");
    for report in run_both(&scenario(&[echo_server(), faulting.clone(), forgiving.clone()])) {
        let fault = process(&report, "client").fault.as_deref().unwrap_or("");
        assert_eq!(fault, expected);
        assert_eq!(report.console["client"], "before\n");
        let forgiving = process(&report, "forgiving");
        assert_eq!((forgiving.exit_code, forgiving.fault.as_deref()), (Some(1), None));
    }
}

#[test]
fn a_script_in_a_file_reports_its_errors_at_its_own_line_and_column() {
    let folder = std::env::temp_dir().join(format!("mksim-script-errors-{}", std::process::id()));
    std::fs::create_dir_all(&folder).expect("a temporary folder");
    std::fs::write(folder.join("bad.rhai"), "let x = 1;\nlet = 2;\n").expect("the script");
    std::fs::write(folder.join("fails.rhai"), "print(\"one\");\n\n   lookup(\"nobody\");\n").expect("the script");
    let scenario_text = |script: &str| {
        format!(
            "Scenario(name: \"s\", servers: (console: true), processes: [(name: \"p\", priority: 5, program: \
             Script(file: \"{script}\"))])"
        )
    };
    std::fs::write(folder.join("bad.ron"), scenario_text("bad.rhai")).expect("the scenario");
    std::fs::write(folder.join("fails.ron"), scenario_text("fails.rhai")).expect("the scenario");

    let error = Scenario::load(&folder.join("bad.ron").display().to_string()).expect_err("a syntax error");
    assert!(error.file.ends_with("bad.rhai"), "{error}");
    assert_eq!((error.line, error.column), (2, 5), "{error}");
    assert_eq!(error.item, "process \"p\", script");

    let scenario = Scenario::load(&folder.join("fails.ron").display().to_string()).expect("it parses");
    for report in run_both(&scenario) {
        let fault = process(&report, "p").fault.clone().unwrap_or_default();
        assert!(fault.contains("fails.rhai:3:4: not found"), "{fault}");
    }
    std::fs::remove_dir_all(&folder).ok();
}

#[test]
fn an_inline_script_reports_its_errors_at_the_scenarios_line_and_column() {
    let text = "Scenario(\n  name: \"s\",\n  processes: [(name: \"p\", priority: 5, program: Script(source: \"\n    let x = 1;\n    let = 2;\n  \"))],\n)\n";
    let error = Scenario::parse(text, "inline.ron").expect_err("a syntax error");
    assert_eq!((error.file.as_str(), error.line, error.column), ("inline.ron", 5, 9), "{error}");
}

#[test]
fn a_loop_without_a_syscall_runs_too_long_and_the_run_goes_on() {
    let spinner = scripted("spinner", "print(\"start\"); let x = 0; loop { x += 1; }");
    let neighbour = scripted("neighbour", "for i in 0..3 { call_port(cap(\"port\"), i, \"hi\"); } print(\"done\");");
    for report in run_both(&scenario(&[echo_server(), spinner, neighbour])) {
        let fault = process(&report, "spinner").fault.clone().unwrap_or_default();
        assert!(fault.contains("ran too long"), "{fault}");
        assert_eq!(report.console["spinner"], "start\n");
        assert_eq!(report.console["neighbour"], "done\n");
        assert!(report.outcome.is_completed(), "{:?}", report.outcome);
    }
}

#[test]
fn a_script_allocating_without_end_hits_the_memory_cap() {
    let hogs = [
        ("pusher", "let a = []; loop { a.push(\"xxxxxxxxxxxxxxxx\"); }"),
        ("doubler", "let s = \"x\"; loop { s += s; }"),
        ("nester", "let a = [1]; loop { a = [a, a]; }"),
        ("mapper", "let m = #{ x: 1 }; loop { m = #{ a: m, b: m }; }"),
    ];
    let mut processes = vec![echo_server()];
    processes.extend(hogs.iter().map(|(name, source)| scripted(name, source)));
    for report in run_both(&scenario(&processes)) {
        for (name, _) in hogs {
            let fault = process(&report, name).fault.clone().unwrap_or_default();
            assert!(fault.contains("used too much memory"), "{name}: {fault}");
        }
    }
}

#[test]
fn deep_recursion_is_stopped_not_a_crash() {
    let recurser = scripted("recurser", "fn down(n) { down(n + 1) } down(0);");
    for report in run_both(&scenario(&[echo_server(), recurser])) {
        let fault = process(&report, "recurser").fault.clone().unwrap_or_default();
        assert!(fault.to_lowercase().contains("stack overflow"), "{fault}");
    }
}

#[test]
fn a_script_cannot_reach_the_host() {
    for (name, source) in [
        ("clock", "timestamp();"),
        ("import", "import \"os\" as os;"),
        ("eval_file", "eval(\"open_file(\\\"/etc/passwd\\\")\");"),
    ] {
        let text = format!(
            "Scenario(name: \"s\", processes: [(name: \"{name}\", priority: 5, program: Script(source: r#\"{source}\"#))])"
        );
        match Scenario::parse(&text, "host.ron") {
            Err(error) => assert!(error.item.contains("script"), "{name}: {error}"),
            Ok(scenario) => {
                let report = run(&scenario, Mode::Microkernel, &RunOptions::default());
                let fault = process(&report, name).fault.clone().unwrap_or_default();
                assert!(fault.contains("not found") || fault.contains("Function"), "{name}: {fault}");
            }
        }
    }
}

#[test]
fn random_draws_from_the_runs_seed() {
    let text = |seed: u64| {
        format!(
            "Scenario(name: \"s\", kernel: (seed: {seed}), servers: (console: true), processes: [(name: \"p\", \
             priority: 5, program: Script(source: r#\"print(`${{random(1000)}} ${{random(1000)}}`);\"#))])"
        )
    };
    let draws = |seed| run(&parse(&text(seed)), Mode::Microkernel, &RunOptions::default()).console["p"].clone();
    assert_eq!(draws(1), draws(1));
    assert_ne!(draws(1), draws(2));
}

#[test]
fn a_script_ending_mid_run_leaves_no_thread_behind_to_block_the_next_run() {
    // The run stops at its step limit with scripts blocked in receive and computing: their threads
    // must end with the run (a hundred runs would otherwise leave hundreds of threads waiting).
    let text = "Scenario(name: \"s\", kernel: (step_limit: 40), objects: [(name: \"e\", kind: Endpoint, owner: \
                \"waiter\")], processes: [(name: \"waiter\", priority: 5, program: Script(source: \
                \"receive(cap(\\\"e\\\"));\")), (name: \"looper\", priority: 4, program: Script(source: \"loop { \
                yield_now(); }\"))], expect: (outcome: StepLimit))";
    let scenario = parse(text);
    for _ in 0..100 {
        let report = run(&scenario, Mode::Microkernel, &RunOptions::default());
        assert_eq!(report.outcome.kind().name(), "step_limit");
    }
}

// ───────────────────────────── generated scripts ─────────────────────────────

/// One statement of a generated client script.
#[derive(Clone, Debug)]
enum Statement {
    Call {
        label: u8,
        text: String,
    },
    SendToQueue {
        label: u8,
    },
    TryReceiveFromQueue,
    Yield,
    Compute(u16),
    Signal(u8),
    Poll,
    /// Call, then branch on the reply's label.
    Branch {
        label: u8,
        then: Vec<Statement>,
        otherwise: Vec<Statement>,
    },
    Repeat {
        times: u8,
        body: Vec<Statement>,
    },
    Random,
}

fn statement() -> impl Strategy<Value = Statement> {
    let leaf = prop_oneof![
        (0u8..4, "[a-z]{0,6}").prop_map(|(label, text)| Statement::Call { label, text }),
        (0u8..4).prop_map(|label| Statement::SendToQueue { label }),
        Just(Statement::TryReceiveFromQueue),
        Just(Statement::Yield),
        (1u16..5000).prop_map(Statement::Compute),
        (0u8..8).prop_map(Statement::Signal),
        Just(Statement::Poll),
        Just(Statement::Random),
    ];
    leaf.prop_recursive(2, 12, 4, |inner| {
        prop_oneof![
            (0u8..4, prop::collection::vec(inner.clone(), 0..3), prop::collection::vec(inner.clone(), 0..3))
                .prop_map(|(label, then, otherwise)| Statement::Branch { label, then, otherwise }),
            (1u8..4, prop::collection::vec(inner, 1..3)).prop_map(|(times, body)| Statement::Repeat { times, body }),
        ]
    })
}

fn render(statements: &[Statement], out: &mut String) {
    for statement in statements {
        match statement {
            Statement::Call { label, text } => {
                out.push_str(&format!("print(call_port(cap(\"port\"), {label}, \"{text}\").data);\n"))
            }
            Statement::SendToQueue { label } => out.push_str(&format!(
                "try {{ send(cap(\"q\"), #{{ label: {label}, data: \"m\", nonblocking: true }}); }} catch (e) {{ \
                 print(e); }}\n"
            )),
            Statement::TryReceiveFromQueue => out.push_str(
                "try { let m = receive(cap(\"q\"), #{ nonblocking: true }); print(`got ${m.label}`); } catch (e) { \
                 print(e); }\n",
            ),
            Statement::Yield => out.push_str("yield_now();\n"),
            Statement::Compute(cycles) => out.push_str(&format!("compute({cycles});\n")),
            Statement::Signal(bits) => out.push_str(&format!("signal(cap(\"n\"), {bits});\n")),
            Statement::Poll => out.push_str("print(`bits ${poll(cap(\"n\"))}`);\n"),
            Statement::Random => out.push_str("print(`drew ${random(100)}`);\n"),
            Statement::Branch { label, then, otherwise } => {
                out.push_str(&format!("if call_port(cap(\"port\"), {label}, \"?\").label % 2 == 0 {{\n"));
                render(then, out);
                out.push_str("} else {\n");
                render(otherwise, out);
                out.push_str("}\n");
            }
            Statement::Repeat { times, body } => {
                out.push_str(&format!("for _round in 0..{times} {{\n"));
                render(body, out);
                out.push_str("}\n");
            }
        }
    }
}

fn generated_scenario(clients: &[Vec<Statement>], seed: u64) -> Scenario {
    let mut processes = vec![echo_server()];
    for (index, statements) in clients.iter().enumerate() {
        let mut source = String::new();
        render(statements, &mut source);
        processes.push(format!(
            "(name: \"client{index}\", priority: {}, caps: [(name: \"port\", object: \"port\", rights: \"s\"), \
             (name: \"q\", object: \"q\", rights: \"sr\"), (name: \"n\", object: \"n\", rights: \"sr\")], program: \
             Script(source: r#\"{source}\"#))",
            3 + index
        ));
    }
    parse(&format!(
        "Scenario(name: \"generated\", kernel: (seed: {seed}), servers: (console: true), objects: [(name: \"port\", \
         kind: Endpoint, owner: \"server\"), (name: \"q\", kind: Queue(capacity: 2, policy: Fail), owner: \
         \"server\"), (name: \"n\", kind: Notification, owner: \"server\")], processes: [{}])",
        processes.join(", ")
    ))
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 24, ..ProptestConfig::default() })]

    /// Generated scripts (calls, sends, receives, signals, branches on replies, loops, random
    /// draws) give the same event log, byte for byte, every time they run, in both modes; and
    /// the two modes agree on what each client printed and how it ended.
    #[test]
    fn generated_scripts_run_the_same_every_time(
        clients in prop::collection::vec(prop::collection::vec(statement(), 1..8), 1..4),
        seed in 0u64..1000,
    ) {
        let scenario = generated_scenario(&clients, seed);
        let mut ends = Vec::new();
        for mode in MODES {
            let first = run(&scenario, mode, &RunOptions::default());
            let second = run(&scenario, mode, &RunOptions::default());
            prop_assert_eq!(trace_hash(&first.log), trace_hash(&second.log), "{:?}", mode);
            prop_assert_eq!(&first.console, &second.console);
            let faults: Vec<_> = first.processes.iter().filter_map(|process| process.fault.clone()).collect();
            prop_assert!(faults.is_empty(), "{:?}: {:?}", mode, faults);
            let clients = first.processes.iter().filter(|process| process.name.starts_with("client"));
            ends.push(clients.map(|process| (process.name.clone(), process.exit_code)).collect::<Vec<_>>());
        }
        prop_assert_eq!(&ends[0], &ends[1]);
    }
}

#[test]
fn a_scripted_server_that_faults_is_an_unexpected_end_with_its_line() {
    let server = "(name: \"server\", priority: 9, server: true, program: Script(source: r#\"
        let request = receive(cap(\"port\"));
        lookup(\"nobody\");
    \"#))"
        .to_owned();
    let client = scripted("client", "try { call_port(cap(\"port\"), 1, \"hi\"); } catch (error) { print(error); }");
    let scenario = scenario(&[server, client]);
    for report in run_both(&scenario) {
        let ends = mksim_core::check::unexpected_ends(&scenario, &report);
        let names: Vec<&str> = ends.iter().map(|end| end.process.as_str()).collect();
        assert_eq!(names, ["server"], "{:?}", report.mode);
        assert!(ends[0].how.contains("test.ron:3:9: not found"), "{}", ends[0].how);
    }
}

#[test]
fn an_inline_script_after_a_replaced_program_faults_at_its_line_as_written() {
    use mksim_core::scenario::{ProgramOverride, ProgramSource};
    // The student's process has a program of several lines, replaced by one; the inline script
    // after it must still fault at its own line of the exercise as written.
    let text = "Scenario(\n  name: \"exercise\",\n  servers: (console: true),\n  processes: [\n    (name: \"student\", \
                priority: 5, program: [\n      Print(\"a\\n\"),\n      Print(\"b\\n\"),\n    ]),\n    (name: \"probe\", \
                priority: 4, program: Script(source: \"\n      lookup(\\\"nobody\\\");\n    \")),\n  ],\n)\n";
    let line = 1 + text[..text.find("lookup").expect("the lookup")].matches('\n').count();
    let plain = Scenario::parse(text, "exercise.ron").expect("the exercise parses");
    let replaced = Scenario::parse_with_programs(
        text,
        "exercise.ron",
        &[ProgramOverride { process: "student".into(), source: ProgramSource::Empty }],
    )
    .expect("an empty program fits");
    for scenario in [plain, replaced] {
        let report = run(&scenario, Mode::Microkernel, &RunOptions::default());
        let fault = process(&report, "probe").fault.clone().unwrap_or_default();
        assert!(fault.contains(&format!("exercise.ron:{line}:7: not found")), "{fault}");
    }
}

#[test]
fn an_inline_script_after_a_parameter_faults_at_its_column_as_written() {
    let text = "Scenario(name: \"p\", params: {\"width\": 1234567}, processes: [(name: \"a\", priority: ${width}, \
                program: Script(source: \"lookup(\\\"nobody\\\");\"))])";
    let text = text.replace("1234567", "5");
    let column = 1 + text.find("lookup").expect("the lookup");
    let scenario = Scenario::parse(&text, "params.ron").expect("it parses");
    let report = run(&scenario, Mode::Microkernel, &RunOptions::default());
    let fault = process(&report, "a").fault.clone().unwrap_or_default();
    assert!(fault.contains(&format!("params.ron:1:{column}: not found")), "{fault}");
}

#[test]
fn a_misspelt_variable_or_capability_is_refused_with_the_scenario_at_its_place() {
    // Each script has the mistake at `at`, which the error must point to.
    let refused = |source: &str, at: &str| {
        let text = format!(
            "Scenario(name: \"s\", servers: (console: true), objects: [(name: \"port\", kind: Endpoint, owner: \
             \"p\")], processes: [(name: \"p\", priority: 5, program: Script(source: \"{source}\"))])"
        );
        let error = Scenario::parse(&text, "s.ron").expect_err("refused");
        let column = 1 + text.find(at).expect("the mistake");
        assert_eq!((error.line, error.column), (1, column), "{error}");
        error.message
    };
    let message = refused("let total = 0; totl += 1;", "totl +=");
    assert!(message.contains("Undefined variable: totl"), "{message}");
    let message = refused("let p = cap(\\\"prot\\\");", "\\\"prot");
    assert!(message.contains("did you mean \"port\""), "{message}");
}
