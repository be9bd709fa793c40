//! Exports read like the run they come from: build a small system, run it,
//! export its log, and check each format's promises.

use mksim_core::export::{Format, UnknownFormat, export, trace_hash};
use mksim_kernel::event::EventLog;
use mksim_kernel::{
    Badge, FullPolicy, Kernel, KernelConfig, Message, Outcome, Priority, ProcessSpec, ProgramFault, Rights, SysError,
};
use mksim_servers::system::{Mode, ProgramSpec, Servers, SystemSpec, boot};
use mksim_userland::demo::ping_pong;
use mksim_userland::protocol::DESCRIBER;
use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet};

fn priority(level: u8) -> Priority {
    Priority::new(level).expect("in range")
}

/// The demo: ping calls pong `rounds` times.
fn ping_pong_log(rounds: u32) -> EventLog {
    let mut kernel = ping_pong(KernelConfig::default(), rounds);
    kernel.set_message_describer(DESCRIBER);
    assert_eq!(kernel.run(), &Outcome::Completed);
    kernel.log().clone()
}

/// Async sends through a queue, a signal, a message dropped when its receiver
/// dies, and one dropped when its sender's timeout expires.
fn queue_and_drops_log() -> EventLog {
    let mut kernel = Kernel::new(KernelConfig::default());
    kernel.set_message_describer(DESCRIBER);
    let sink = kernel.create_process(ProcessSpec::server("sink", priority(10)));
    let deaf = kernel.create_process(ProcessSpec::server("deaf", priority(10)));
    let source = kernel.create_process(ProcessSpec::program("source", priority(5)));
    let queue = kernel.create_queue(sink, 4, FullPolicy::Block);
    let bell = kernel.create_notification(sink);
    let unheard = kernel.create_endpoint(deaf);
    let elsewhere = kernel.create_endpoint(deaf);
    let grant =
        |kernel: &mut Kernel, holder, object, rights| kernel.grant(holder, object, rights, Badge::NONE).unwrap();
    let sink_queue = grant(&mut kernel, sink, queue, Rights::all());
    let sink_bell = grant(&mut kernel, sink, bell, Rights::all());
    let deaf_port = grant(&mut kernel, deaf, elsewhere, Rights::all());
    let source_queue = grant(&mut kernel, source, queue, Rights::SEND);
    let source_bell = grant(&mut kernel, source, bell, Rights::SEND);
    let source_unheard = grant(&mut kernel, source, unheard, Rights::SEND);
    kernel.start(sink, move |sys| async move {
        sys.receive(sink_queue).await?;
        sys.wait(sink_bell).await?;
        sys.exit(0).await
    });
    kernel.start(deaf, move |sys| async move {
        sys.receive(deaf_port).await?;
        sys.exit(0).await
    });
    kernel.start(source, move |sys| async move {
        sys.send(source_queue, Message::new(7, b"first".to_vec())).await?;
        sys.send(source_queue, Message::new(7, b"second".to_vec())).await?;
        sys.signal(source_bell, 1).await?;
        let unanswered = sys.send_timeout(source_unheard, Message::new(8, Vec::new()), 100).await;
        if unanswered != Err(SysError::TimedOut) {
            return Err(ProgramFault::failed(1, format!("expected a timeout, got {unanswered:?}")));
        }
        sys.exit(0).await
    });
    assert_eq!(kernel.run(), &Outcome::Completed);
    kernel.log().clone()
}

/// The hello scenario: a program writes to the console through the system's servers.
fn hello_log(mode: Mode) -> EventLog {
    let program = ProgramSpec {
        name: "hello".to_owned(),
        priority: priority(5),
        is_server: false,
        name_server: true,
        may_register: Vec::new(),
        caps: Vec::new(),
        program: Box::new(|mut services, _caps| {
            Box::pin(async move {
                services.print("hello, world\n").await.map_err(|error| ProgramFault::failed(1, error.to_string()))?;
                services.sys().exit(0).await
            })
        }),
    };
    let servers = Servers { name: Some(priority(20)), console: Some(priority(15)), ..Servers::default() };
    let spec = SystemSpec {
        kernel: KernelConfig::default(),
        servers,
        objects: Vec::new(),
        programs: vec![program],
        faults: Vec::new(),
    };
    let mut system = boot(spec, mode);
    assert_eq!(system.kernel.run(), &Outcome::Completed);
    system.kernel.log().clone()
}

/// The event lines of the JSON Lines export, after its header line.
fn jsonl_lines(log: &EventLog) -> Vec<Value> {
    let text = export(log, Format::Jsonl);
    let mut lines =
        text.lines().map(|line| serde_json::from_str(line).unwrap_or_else(|error| panic!("{error}: {line}")));
    let header: Value = lines.next().expect("a header line comes first");
    assert_eq!(header["format"], "mksim-jsonl", "{header}");
    lines.collect()
}

fn chrome_events(log: &EventLog) -> Vec<Value> {
    let trace: Value = serde_json::from_str(&export(log, Format::Chrome)).expect("the Chrome trace is JSON");
    assert_eq!(trace["displayTimeUnit"], "ns");
    assert!(trace["otherData"]["time_scale"].as_str().unwrap().contains("1 cycle = 1 ns"));
    trace["traceEvents"].as_array().expect("traceEvents is an array").clone()
}

fn phases(events: &[Value]) -> BTreeSet<String> {
    events.iter().map(|event| event["ph"].as_str().unwrap().to_owned()).collect()
}

#[test]
fn every_jsonl_line_is_an_object_with_the_stable_fields() {
    let log = ping_pong_log(2);
    let lines = jsonl_lines(&log);
    assert_eq!(lines.len(), log.len());
    for (seq, line) in lines.iter().enumerate() {
        assert_eq!(line["seq"], seq);
        assert_eq!(line["time"], log.events()[seq].time);
        for field in ["process", "pid", "event"] {
            assert!(line.get(field).is_some(), "line {seq} lacks {field}: {line}");
        }
        assert!(line["event"].as_str().unwrap().chars().all(|c| c.is_ascii_lowercase() || c == '_'));
    }
    let sent: Vec<&Value> = lines.iter().filter(|line| line["event"] == "message_sent").collect();
    assert_eq!(sent.len(), 4, "two calls and two replies");
    let first = sent[0];
    assert_eq!(first["kind"], "call");
    assert_eq!((first["from"].as_str(), first["to"].as_str()), (Some("ping"), Some("pong")));
    assert_eq!(
        (first["label"].as_u64(), first["bytes"].as_u64(), first["badge"].as_u64()),
        (Some(1), Some(4), Some(1))
    );
    assert_eq!(first["operation"], "label 1");
    let reply = sent[1];
    assert_eq!(reply["kind"], "reply");
    assert_eq!((reply["from"].as_str(), reply["to"].as_str()), (Some("pong"), Some("ping")));
    assert_eq!(reply["answers"], first["message"]);
    let returned = lines.iter().find(|line| line["event"] == "syscall_returned" || line["event"] == "woken").unwrap();
    assert!(returned["call"].is_string() && returned.get("error").is_some_and(Value::is_null));
    let blocked = lines.iter().find(|line| line["event"] == "blocked").unwrap();
    assert_eq!(blocked["on"], "receive-blocked on endpoint #0 of pong");
    let capability = lines.iter().find(|line| line["event"] == "capability").unwrap();
    assert_eq!((capability["op"].as_str(), capability["rights"].as_str()), (Some("granted"), Some("srgRW")));
    let end = lines.last().unwrap();
    assert_eq!((end["event"].as_str(), end["outcome"].as_str()), (Some("run_ended"), Some("completed")));
    assert!(end["pid"].is_null(), "the kernel has no process index");
}

#[test]
fn jsonl_describes_protocol_messages_and_in_kernel_services() {
    let microkernel = jsonl_lines(&hello_log(Mode::Microkernel));
    let operations: Vec<&str> = microkernel
        .iter()
        .filter(|line| line["event"] == "message_sent")
        .map(|line| line["operation"].as_str().unwrap())
        .collect();
    assert!(operations.iter().any(|text| text.starts_with("name.lookup")), "{operations:?}");
    assert!(operations.iter().any(|text| text.starts_with("console.write")), "{operations:?}");
    let write = microkernel.iter().find(|line| {
        line["event"] == "message_sent"
            && line["operation"].as_str().is_some_and(|text| text.starts_with("console.write"))
    });
    assert_eq!(write.unwrap()["to"], "console");

    let monolithic = jsonl_lines(&hello_log(Mode::Monolithic));
    let service = monolithic.iter().find(|line| line["event"] == "service_called").expect("a service call");
    assert_eq!((service["kind"].as_str(), service["to"].as_str()), (Some("service"), Some("kernel")));
    assert!(service["port"].is_null());
    assert!(service["operation"].as_str().unwrap().starts_with("console.write"));
    let began = monolithic.iter().find(|line| line["event"] == "operation_began").expect("a marked operation");
    assert_eq!(began["operation"], "console.write");
}

#[test]
fn jsonl_records_drops_with_their_reasons() {
    let lines = jsonl_lines(&queue_and_drops_log());
    let reasons: Vec<&str> = lines
        .iter()
        .filter(|line| line["event"] == "message_dropped")
        .map(|line| line["reason"].as_str().unwrap())
        .collect();
    assert_eq!(reasons, ["receiver_died", "timed_out"]);
    let signal = lines.iter().find(|line| line["event"] == "signalled").unwrap();
    assert_eq!((signal["to"].as_str(), signal["bits"].as_u64()), (Some("sink"), Some(1)));
    assert!(lines.iter().any(|line| line["event"] == "message_sent" && line["kind"] == "async"));
}

#[test]
fn the_chrome_trace_has_named_processes_run_slices_and_matching_flows() {
    let log = ping_pong_log(2);
    let events = chrome_events(&log);
    assert!(phases(&events).is_superset(&BTreeSet::from(["M", "X", "s", "f", "i"].map(str::to_owned))));

    let names: BTreeMap<u64, &str> = events
        .iter()
        .filter(|event| event["ph"] == "M" && event["name"] == "process_name")
        .map(|event| (event["pid"].as_u64().unwrap(), event["args"]["name"].as_str().unwrap()))
        .collect();
    assert_eq!(
        names,
        BTreeMap::from([(0, "pong"), (1, "ping"), (2, "kernel")]),
        "the JSON Lines pids, then the kernel"
    );
    for event in &events {
        assert_eq!(event["pid"], event["tid"], "one thread per process: {event}");
    }

    let slices: Vec<&Value> = events.iter().filter(|event| event["ph"] == "X").collect();
    let ping_slices: Vec<&str> =
        slices.iter().filter(|slice| slice["pid"] == 1).map(|slice| slice["name"].as_str().unwrap()).collect();
    assert_eq!(ping_slices, ["call", "call", "exit"]);
    assert!(slices.iter().all(|slice| slice["dur"].is_number()));

    let starts: BTreeMap<u64, &Value> =
        events.iter().filter(|event| event["ph"] == "s").map(|event| (event["id"].as_u64().unwrap(), event)).collect();
    let ends: BTreeMap<u64, &Value> =
        events.iter().filter(|event| event["ph"] == "f").map(|event| (event["id"].as_u64().unwrap(), event)).collect();
    assert_eq!(starts.keys().collect::<Vec<_>>(), ends.keys().collect::<Vec<_>>());
    assert_eq!(starts.len(), 4, "every delivered message is a flow");
    for (id, start) in &starts {
        let end = ends[id];
        assert_eq!((&start["cat"], &start["name"]), (&end["cat"], &end["name"]), "flow {id} must match");
        assert_eq!(end["bp"], "e");
        assert!(start["ts"].as_f64() <= end["ts"].as_f64());
        // The flow starts inside a run slice of its sender, not on its closing edge.
        let (pid, ts) = (&start["pid"], start["ts"].as_f64().unwrap());
        let inside = slices.iter().filter(|slice| &slice["pid"] == pid).any(|slice| {
            let (from, length) = (slice["ts"].as_f64().unwrap(), slice["dur"].as_f64().unwrap());
            from <= ts && ts < from + length
        });
        assert!(inside, "flow {id} starts outside its sender's slices: {start}");
    }
    assert_eq!(starts[&0]["cat"], "call");
    assert_eq!((starts[&0]["pid"].as_u64(), ends[&0]["pid"].as_u64()), (Some(1), Some(0)));
    assert_eq!(starts[&1]["cat"], "reply");
}

#[test]
fn the_chrome_trace_marks_drops_and_leaves_them_out_of_flows() {
    let events = chrome_events(&queue_and_drops_log());
    let dropped: Vec<&str> = events
        .iter()
        .filter(|event| event["ph"] == "i")
        .filter_map(|event| event["name"].as_str())
        .filter(|name| name.starts_with("dropped: "))
        .collect();
    assert_eq!(dropped.len(), 2, "{dropped:?}");
    assert!(dropped[0].starts_with("dropped: label 7") && dropped[1].starts_with("dropped: label 8"), "{dropped:?}");
    let flows = |phase: &str| events.iter().filter(|event| event["ph"] == phase).count();
    assert_eq!((flows("s"), flows("f")), (1, 1), "only the first async message was delivered");
    assert!(events.iter().any(|event| event["ph"] == "X" && event["name"] == "idle" && event["pid"] == 3));
}

#[test]
fn operations_become_async_spans_in_the_chrome_trace() {
    let events = chrome_events(&hello_log(Mode::Microkernel));
    let begins = events.iter().filter(|event| event["ph"] == "b").count();
    let ends = events.iter().filter(|event| event["ph"] == "e").count();
    assert!(begins >= 2, "a lookup and a write");
    assert_eq!(begins, ends);
    assert!(events.iter().any(|event| event["ph"] == "b" && event["name"] == "console.write"));
}

#[test]
fn the_mermaid_diagram_draws_every_kind_of_arrow() {
    let ping_pong = export(&ping_pong_log(2), Format::Mermaid);
    assert!(ping_pong.starts_with("sequenceDiagram\n"));
    assert!(ping_pong.contains("    participant P1 as ping\n    participant P0 as pong\n"));
    assert!(ping_pong.contains("P1->>P0: label 1"));
    assert!(ping_pong.contains("P0-->>P1: label 2"));

    let drops = export(&queue_and_drops_log(), Format::Mermaid);
    let arrows: Vec<&str> = drops.lines().filter(|line| line.contains(": label 7")).collect();
    assert_eq!(arrows.len(), 2, "{drops}");
    assert!(arrows[0].starts_with("    P2-)P0: label 7") && !arrows[0].contains("dropped"), "{drops}");
    assert!(arrows[1].starts_with("    P2-xP0: label 7") && arrows[1].ends_with("(dropped: receiver died)"), "{drops}");
    assert!(drops.contains("P2-xP1: label 8 (dropped: timed out)"), "{drops}");
    assert!(drops.contains("P2-)P0: signal bits 0x1"), "a signal is an async arrow:\n{drops}");

    let monolithic = export(&hello_log(Mode::Monolithic), Format::Mermaid);
    assert!(monolithic.contains("    participant K as kernel\n"), "{monolithic}");
    assert!(monolithic.lines().any(|line| line.contains("->>K: console.write")), "{monolithic}");
    assert!(
        monolithic.lines().any(|line| line.contains("K-->>P") && line.contains("console.write → ok")),
        "{monolithic}"
    );
    let microkernel = export(&hello_log(Mode::Microkernel), Format::Mermaid);
    assert!(!microkernel.contains("participant K"), "no in-kernel services in microkernel mode:\n{microkernel}");
}

#[test]
fn mermaid_keywords_and_punctuation_in_names_stay_harmless() {
    let mut kernel = Kernel::new(KernelConfig::default());
    let server = kernel.create_process(ProcessSpec::server("end", priority(10)));
    let client = kernel.create_process(ProcessSpec::program("a; b #1 100%", priority(5)));
    let endpoint = kernel.create_endpoint(server);
    let serve = kernel.grant(server, endpoint, Rights::all(), Badge::NONE).unwrap();
    let call = kernel.grant(client, endpoint, Rights::SEND, Badge::NONE).unwrap();
    kernel.start(server, move |sys| mksim_userland::demo::pong_server(sys, serve));
    kernel.start(client, move |sys| mksim_userland::demo::ping_client(sys, call, 1));
    assert_eq!(kernel.run(), &Outcome::Completed);
    let diagram = export(kernel.log(), Format::Mermaid);
    assert!(diagram.contains("    participant P1 as a#59; b #35;1 100#37;\n"), "{diagram}");
    assert!(diagram.contains("    participant P0 as end\n"), "{diagram}");
    assert!(diagram.contains("P1->>P0: label 1"), "{diagram}");
}

#[test]
fn the_text_export_is_the_text_trace() {
    let log = ping_pong_log(2);
    assert_eq!(export(&log, Format::Text), log.render_text());
}

#[test]
fn the_trace_hash_is_stable_and_changes_with_the_log() {
    let first = trace_hash(&ping_pong_log(2));
    assert_eq!(first, trace_hash(&ping_pong_log(2)), "same system, same hash");
    assert_eq!(first.len(), 64);
    assert!(first.chars().all(|c| c.is_ascii_hexdigit()));
    assert_ne!(first, trace_hash(&ping_pong_log(3)), "one more round, another hash");
    assert_ne!(trace_hash(&queue_and_drops_log()), trace_hash(&EventLog::default()));
}

#[test]
fn every_export_is_deterministic() {
    for format in Format::ALL {
        assert_eq!(export(&queue_and_drops_log(), format), export(&queue_and_drops_log(), format), "{format}");
        assert_eq!(export(&hello_log(Mode::Microkernel), format), export(&hello_log(Mode::Microkernel), format));
    }
}

#[test]
fn formats_parse_from_their_names() {
    for format in Format::ALL {
        assert_eq!(Format::parse(format.name()), Some(format));
        assert_eq!(format.name().parse::<Format>(), Ok(format));
        assert_eq!(format.to_string(), format.name());
    }
    assert_eq!(Format::parse("Chrome"), Some(Format::Chrome));
    let error: UnknownFormat = "svg".parse::<Format>().unwrap_err();
    assert_eq!(error.to_string(), "unknown export format `svg` (expected one of: jsonl, chrome, mermaid, text)");
}

#[test]
fn an_empty_log_exports_cleanly() {
    let log = EventLog::default();
    assert_eq!(
        export(&log, Format::Jsonl),
        "{\"format\":\"mksim-jsonl\",\"version\":2,\"scenario\":null,\"mode\":null,\"profile\":null,\"seed\":null,\"time_unit\":\"cycles\"}\n"
    );
    assert_eq!(export(&log, Format::Mermaid), "sequenceDiagram\n    title mksim event log\n");
    let events = chrome_events(&log);
    assert!(events.iter().all(|event| event["ph"] == "M"));
}

#[test]
fn ping_pong_mermaid_snapshot() {
    insta::assert_snapshot!("ping_pong_mermaid", export(&ping_pong_log(2), Format::Mermaid));
}

#[test]
fn ping_pong_jsonl_snapshot() {
    insta::assert_snapshot!("ping_pong_jsonl", export(&ping_pong_log(2), Format::Jsonl));
}
