//! The exports as a lecturer uses them: Mermaid diagrams that tell a run's whole story in both
//! modes, JSON Lines that says which run it is, a Chrome trace whose process ids are the JSON
//! Lines ones, and the message trace of `run` showing signals.

mod binary;

use binary::{assert_status, mksim, stdout};
use serde_json::Value;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

fn export(scenario: &str, format: &str, mode: &str) -> String {
    let output = mksim(&["export", scenario, "--format", format, "--mode", mode]);
    assert_status(&output, 0);
    stdout(&output)
}

fn scratch_scenario(test: &str, text: &str) -> PathBuf {
    let folder = Path::new(env!("CARGO_TARGET_TMPDIR")).join("exports").join(test);
    let _ = std::fs::remove_dir_all(&folder);
    std::fs::create_dir_all(&folder).expect("the scratch folder can be made");
    let path = folder.join("scenario.ron");
    std::fs::write(&path, text).expect("the scenario can be written");
    path
}

/// The participants a diagram declares: (id, shown name), in order.
fn participants(diagram: &str) -> Vec<(String, String)> {
    diagram
        .lines()
        .filter_map(|line| line.trim().strip_prefix("participant "))
        .map(|rest| {
            let (id, name) = rest.split_once(" as ").expect("every participant is aliased");
            (id.to_owned(), name.to_owned())
        })
        .collect()
}

/// Checks what every diagram must be: a title, each lane declared once and used only once
/// declared, no backslash before a quote.
#[track_caller]
fn assert_well_formed(diagram: &str, context: &str) {
    let mut lines = diagram.lines();
    assert_eq!(lines.next(), Some("sequenceDiagram"), "{context}");
    assert!(lines.next().is_some_and(|line| line.starts_with("    title ")), "{context}: no title\n{diagram}");
    let declared = participants(diagram);
    let ids: Vec<&str> = declared.iter().map(|(id, _)| id.as_str()).collect();
    let names: Vec<&str> = declared.iter().map(|(_, name)| name.as_str()).collect();
    for (index, name) in names.iter().enumerate() {
        assert!(!names[index + 1..].contains(name), "{context}: `{name}` drawn twice\n{diagram}");
    }
    for line in diagram.lines().skip(2).filter(|line| !line.trim().starts_with("participant ")) {
        let statement = line.split(": ").next().expect("a statement");
        let used: Vec<&str> = statement
            .split(|c: char| !c.is_ascii_alphanumeric() && c != '_')
            .map(|word| word.strip_prefix('x').unwrap_or(word))
            .filter(|word| word.starts_with('P') || word.starts_with('K') || word.starts_with('O'))
            .filter(|word| word.len() > 1 || *word == "K")
            .collect();
        for id in used {
            assert!(ids.contains(&id), "{context}: `{id}` is not declared, in `{line}`\n{diagram}");
        }
    }
    assert!(!diagram.contains("\\\""), "{context}: a backslash shows before a quote\n{diagram}");
}

#[test]
fn the_driver_restart_diagram_shows_the_crash_the_notice_and_the_restart() {
    let diagram = export("scenarios/driver_restart.ron", "mermaid", "microkernel");
    assert_well_formed(&diagram, "driver_restart");
    assert!(diagram.contains("    title driver-restart (microkernel mode, profile sel4, seed 0)\n"), "{diagram}");
    assert!(diagram.contains("Note over P2: ⚡ injected fault: crash"), "{diagram}");
    assert!(diagram.contains("Note over P2: faulted: fault injected"), "{diagram}");
    assert!(diagram.contains("P2-)P4: death notice: block died (bits 0x1)"), "{diagram}");
    assert!(diagram.contains("P4->>P2: restart block: a new incarnation"), "{diagram}");
    assert!(diagram.contains("K-)P2: interrupt bits 0x1: disk transfer done"), "interrupts are arrows:\n{diagram}");
    // The editor, the only client, comes first; the servers follow in order of first use (the
    // supervisor too, though nobody calls it: it was made a server).
    let names: Vec<String> = participants(&diagram).into_iter().map(|(_, name)| name).collect();
    assert_eq!(names, ["editor", "fs", "block", "kernel", "name", "supervisor", "console"], "{diagram}");
}

#[test]
fn the_monolithic_driver_restart_diagram_shows_returns_and_the_kernel_panic() {
    let diagram = export("scenarios/driver_restart.ron", "mermaid", "monolithic");
    assert_well_formed(&diagram, "driver_restart monolithic");
    assert!(diagram.contains("P0->>K: fs.open(#quot;/log.txt#quot;, create)"), "{diagram}");
    assert!(diagram.contains("K-->>P0: fs.open → fd 3"), "a service call returns its result:\n{diagram}");
    assert!(diagram.contains("Note over P0,K: KERNEL PANIC: crash in service code inside the kernel"), "{diagram}");
    assert!(diagram.contains("K--xP0: fs.write never returns"), "{diagram}");
    assert!(diagram.contains("run ended: kernel panic"), "{diagram}");
}

#[test]
fn monolithic_service_calls_return_what_the_module_answered_in_both_pictures() {
    let diagram = export("scenarios/file_io.ron", "mermaid", "monolithic");
    for answer in ["K-->>P0: fs.write → wrote 19 B", "K-->>P0: fs.read → 19 B", "K-->>P0: fs.mkdir → ok"] {
        assert!(diagram.contains(answer), "no `{answer}`:\n{diagram}");
    }
    let pipes = export("scenarios/pipeline.ron", "mermaid", "monolithic");
    assert!(pipes.contains("pipe.create → read fd 3, write fd 4"), "{pipes}");
    let picture = export("scenarios/file_io.ron", "svg", "monolithic");
    assert!(picture.contains("fs.read → 19 B") && picture.contains("fs.open → fd 3"), "the SVG sequence diagram");
}

#[test]
fn diagrams_of_the_teaching_scenarios_are_well_formed_in_both_modes() {
    for scenario in ["driver_restart", "fs_restart", "notifications", "tour", "pipeline"] {
        for mode in ["microkernel", "monolithic"] {
            let diagram = export(&format!("scenarios/{scenario}.ron"), "mermaid", mode);
            assert_well_formed(&diagram, &format!("{scenario} in {mode} mode"));
            assert!(diagram.contains("boot done at t="), "{scenario} {mode}:\n{diagram}");
            assert!(diagram.contains("run ended: "), "{scenario} {mode}:\n{diagram}");
        }
    }
    let notifications = export("scenarios/notifications.ron", "mermaid", "microkernel");
    assert!(notifications.contains("P4-)P3: signal bits 0x2"), "signals are async arrows:\n{notifications}");
}

#[test]
fn names_with_quotes_and_markup_reach_the_diagram_as_entity_codes() {
    let path = scratch_scenario(
        "quotes",
        r#"Scenario(
    name: "say \"hi\" <b>",
    description: "A name with quotes.",
    processes: [(name: "a \"b\" <c>", priority: 5, program: [Print("x\"y\n")])],
)"#,
    );
    let diagram = export(path.to_str().expect("UTF-8"), "mermaid", "microkernel");
    assert_well_formed(&diagram, "quotes");
    assert!(diagram.contains("    title say \"hi\" <b> (microkernel mode"), "{diagram}");
    assert!(diagram.contains(" as a #quot;b#quot; #lt;c#gt;\n"), "{diagram}");
    assert!(diagram.contains("console.write(#quot;x#quot;y\\n#quot;)"), "{diagram}");
}

#[test]
fn a_process_named_kernel_is_not_mistaken_for_the_kernel() {
    let path = scratch_scenario(
        "kernel",
        r#"Scenario(
    name: "kernel",
    description: "A program called kernel.",
    processes: [(name: "kernel", priority: 5, program: [Print("hi\n")])],
)"#,
    );
    let diagram = export(path.to_str().expect("UTF-8"), "mermaid", "monolithic");
    assert_well_formed(&diagram, "kernel");
    let names: Vec<String> = participants(&diagram).into_iter().map(|(_, name)| name).collect();
    assert_eq!(names, ["kernel", "the kernel"], "{diagram}");
}

#[test]
fn jsonl_starts_with_a_header_naming_the_run() {
    let text = export("scenarios/hello.ron", "jsonl", "monolithic");
    let header: Value = serde_json::from_str(text.lines().next().expect("a first line")).expect("JSON");
    assert_eq!(header["format"], "mksim-jsonl");
    assert_eq!(header["version"], mksim::export::JSONL_FORMAT_VERSION);
    assert_eq!((&header["scenario"], &header["mode"]), (&"hello".into(), &"monolithic".into()));
    assert_eq!((&header["profile"], &header["seed"]), (&"sel4".into(), &0.into()));
    let second: Value = serde_json::from_str(text.lines().nth(1).expect("events follow")).expect("JSON");
    assert_eq!(second["seq"], 0, "the events follow the header");
}

#[test]
fn the_chrome_trace_uses_the_jsonl_pids_and_states_its_time_unit() {
    let jsonl = export("scenarios/driver_restart.ron", "jsonl", "microkernel");
    let mut jsonl_pids = BTreeMap::new();
    for line in jsonl.lines().skip(1) {
        let event: Value = serde_json::from_str(line).expect("JSON");
        if let Some(pid) = event["pid"].as_u64() {
            jsonl_pids.insert(event["process"].as_str().expect("a name").to_owned(), pid);
        }
    }
    let trace: Value = serde_json::from_str(&export("scenarios/driver_restart.ron", "chrome", "microkernel"))
        .expect("the Chrome trace is JSON");
    let mut chrome_pids = BTreeMap::new();
    for event in trace["traceEvents"].as_array().expect("events") {
        if event["ph"] == "M" && event["name"] == "process_name" {
            chrome_pids
                .insert(event["args"]["name"].as_str().expect("a name").to_owned(), event["pid"].as_u64().unwrap());
        }
    }
    let kernel_pid = chrome_pids.remove("kernel").expect("the kernel has a lane");
    assert_eq!(chrome_pids, jsonl_pids, "one process, one pid in both exports");
    assert_eq!(trace["otherData"]["kernel_pid"], kernel_pid);
    assert!(jsonl_pids.values().all(|&pid| pid != kernel_pid));
    assert_eq!(trace["displayTimeUnit"], "ns");
    assert_eq!(trace["otherData"]["scenario"], "driver-restart");
    let boot: Vec<&Value> = trace["traceEvents"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["name"] == "boot done: every server is ready, programs start")
        .collect();
    // The end of the boot at cycle 33102 is at 33.102 µs: one cycle is one nanosecond.
    assert_eq!(boot[0]["ts"].as_f64(), Some(33.102), "{boot:?}");
}

#[test]
fn run_shows_signals_and_death_notices_in_the_message_trace() {
    let output = mksim(&["run", "scenarios/notifications.ron"]);
    assert_status(&output, 0);
    let text = stdout(&output);
    assert!(text.contains("helper ──signal bits 0x2──) driver"), "{text}");
    let output = mksim(&["run", "scenarios/driver_restart.ron"]);
    let text = stdout(&output);
    assert!(text.contains("kernel ──death notice, bits 0x1──) supervisor"), "{text}");
}

#[test]
fn interrupts_say_what_they_mean_where_the_system_said_it() {
    let text = stdout(&mksim(&["run", "scenarios/driver_restart.ron"]));
    assert!(text.contains("kernel interrupt into notification #3 of block bits 0x1: disk transfer done"), "{text}");
    let jsonl = export("scenarios/driver_restart.ron", "jsonl", "microkernel");
    let interrupt: Value = jsonl
        .lines()
        .map(|line| serde_json::from_str::<Value>(line).expect("JSON"))
        .find(|event| event["event"] == "interrupt")
        .expect("the disk interrupts");
    assert_eq!(interrupt["meaning"], "disk transfer done");
    // A program's own timer means what the program makes of it: the trace does not guess.
    let text = stdout(&mksim(&["run", "scenarios/notifications.ron"]));
    let line = text.lines().find(|line| line.contains("interrupt into notification #4 of driver")).expect("a tick");
    assert!(line.ends_with("bits 0x1"), "{line}");
}
