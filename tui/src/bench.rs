//! `mksim bench`: how fast the simulator is on this machine, next to real
//! IPC of the same shape. Figures are printed, never asserted: speed is
//! checked by reading them, not by tests that could flake.
//!
//! Shared and virtual machines slow a run down now and then, by as much as
//! half. The simulation figures therefore come from several runs: the best
//! one (what the simulator costs when nothing else gets in its way, the usual
//! estimate for a deterministic workload) and the median (what to expect).

use mksim_kernel::{Badge, Incoming, Kernel, KernelConfig, Message, Priority, ProcessSpec, Rights};
use serde::Serialize;
use std::collections::BTreeMap;
use std::hint::black_box;
use std::io::{Read, Write};
use std::time::{Duration, Instant};

/// Every figure `mksim bench` measures.
#[derive(Clone, Debug, Serialize)]
pub struct BenchReport {
    /// How many times each simulation figure was measured.
    pub repeats: u32,
    /// Simulated messages per second of host time (one client calling one server, event log on),
    /// in the best of the repeated runs.
    pub sim_messages_per_sec: f64,
    /// The same in the median run.
    pub sim_messages_per_sec_median: f64,
    /// Host nanoseconds per simulated message, by number of client processes (best run).
    pub ns_per_message: BTreeMap<String, f64>,
    /// Host nanoseconds per simulated file operation, by mode (best run).
    pub fs_ns_per_operation: BTreeMap<String, f64>,
    /// Event-log memory per event: events and message records, message data aside.
    pub bytes_per_event: f64,
    /// Message data kept by the log, per event.
    pub payload_bytes_per_event: f64,
    /// Events in the large run, and the seconds it took.
    pub large_run_events: u64,
    /// Host seconds to simulate the large run.
    pub large_run_seconds: f64,
    /// Events in the built-in scenario of about a million events (an echo server and a file workload).
    pub scenario_events: u64,
    /// Host seconds to parse, boot and run that scenario and build its report, as `mksim run` does.
    pub scenario_run_seconds: f64,
    /// Host seconds to turn that report into the JSON `mksim run --json` prints, trace hash included.
    pub scenario_json_seconds: f64,
    /// Host nanoseconds per step of an echo workload whose clients and server are operation lists
    /// and, beside it, Rhai scripts, by number of clients (best run).
    pub scripted_ns_per_step: BTreeMap<String, (f64, f64)>,
    /// Nanoseconds per direct function call (best run, like the other baselines).
    pub function_call_ns: f64,
    /// Round trips per second between two OS threads over crossbeam channels.
    pub crossbeam_roundtrips_per_sec: f64,
    /// Round trips per second between two OS threads over pipes.
    pub pipe_roundtrips_per_sec: f64,
}

/// A kernel where `clients` programs each call one server `calls_each` times.
fn call_storm(clients: u32, calls_each: u32) -> Kernel {
    let config = KernelConfig { step_limit: u64::MAX, ..KernelConfig::default() };
    let mut kernel = Kernel::new(config);
    let server = kernel.create_process(ProcessSpec::server("server", Priority::new(10).expect("in range")));
    let endpoint = kernel.create_endpoint(server);
    let serve = kernel.grant(server, endpoint, Rights::all(), Badge::NONE).expect("free slot");
    kernel.start(server, move |sys| async move {
        let mut incoming = sys.receive(serve).await?;
        loop {
            let Incoming::Message(request) = incoming else { unreachable!("no notifications here") };
            let reply = request.reply.expect("clients call");
            incoming = sys.reply_receive(reply, Message::new(2, request.data), serve).await?;
        }
    });
    for index in 0..clients {
        let client = kernel.create_process(ProcessSpec::program("client", Priority::new(5).expect("in range")));
        let call = kernel.grant(client, endpoint, Rights::SEND, Badge(u64::from(index) + 1)).expect("free slot");
        kernel.start(client, move |sys| async move {
            for round in 0..calls_each {
                sys.call(call, Message::new(1, round.to_le_bytes())).await?;
            }
            Ok(0)
        });
    }
    kernel
}

/// Runs a kernel and returns host time and messages sent.
fn time_run(mut kernel: Kernel) -> (Duration, u64, Kernel) {
    let start = Instant::now();
    kernel.run();
    let elapsed = start.elapsed();
    let messages = kernel.totals().messages_sent.total();
    (elapsed, messages, kernel)
}

/// Runs a fresh kernel `repeats` times: host nanoseconds per message in the best and the median
/// run, and the last kernel for a look at its log.
fn repeated_ns_per_message(repeats: u32, build: impl Fn() -> Kernel) -> (f64, f64, Kernel) {
    let mut figures = Vec::new();
    let mut last = None;
    for _ in 0..repeats.max(1) {
        // The previous kernel and its log go first, so every run starts from the same memory.
        drop(last.take());
        let (elapsed, messages, kernel) = time_run(build());
        figures.push(ns_per(elapsed, messages));
        last = Some(kernel);
    }
    figures.sort_by(f64::total_cmp);
    let median = figures[figures.len() / 2];
    (figures[0], median, last.expect("at least one run"))
}

fn ns_per(elapsed: Duration, count: u64) -> f64 {
    elapsed.as_nanos() as f64 / count.max(1) as f64
}

#[inline(never)]
fn direct_call(value: u64) -> u64 {
    black_box(value.wrapping_mul(31).wrapping_add(7))
}

fn function_call_ns() -> f64 {
    let rounds = 20_000_000u64;
    let start = Instant::now();
    let mut value = 0;
    for round in 0..rounds {
        value = direct_call(black_box(value ^ round));
    }
    black_box(value);
    ns_per(start.elapsed(), rounds)
}

fn crossbeam_roundtrips_per_sec() -> f64 {
    let rounds = 200_000u64;
    rounds as f64 / crate::calibrate::crossbeam_round_trips(rounds, 0).as_secs_f64()
}

fn pipe_roundtrips_per_sec() -> std::io::Result<f64> {
    let rounds = 100_000u64;
    let (mut request_reader, mut request_writer) = std::io::pipe()?;
    let (mut reply_reader, mut reply_writer) = std::io::pipe()?;
    let server = std::thread::spawn(move || {
        let mut byte = [0u8; 1];
        while request_reader.read_exact(&mut byte).is_ok() {
            if reply_writer.write_all(&byte).is_err() {
                break;
            }
        }
    });
    let start = Instant::now();
    let mut byte = [0u8; 1];
    for round in 0..rounds {
        request_writer.write_all(&[round as u8])?;
        reply_reader.read_exact(&mut byte)?;
    }
    let elapsed = start.elapsed();
    drop(request_writer);
    let _ = server.join();
    Ok(rounds as f64 / elapsed.as_secs_f64())
}

/// Host time per file operation in each mode, best of `repeats` runs: a program writes, reads
/// and reopens files through the file server (or the in-kernel file system).
fn fs_ns_per_operation(repeats: u32) -> BTreeMap<String, f64> {
    let text = include_str!("bench_fs.ron");
    let scenario =
        crate::scenario::Scenario::parse(text, "built-in bench workload").expect("the bench workload is valid");
    let mut figures = BTreeMap::new();
    for mode in [mksim_servers::system::Mode::Microkernel, mksim_servers::system::Mode::Monolithic] {
        let mut best = f64::INFINITY;
        for _ in 0..repeats {
            let mut system = mksim_servers::system::boot(scenario.system(scenario.kernel_in(mode)), mode);
            let start = Instant::now();
            system.kernel.run();
            let elapsed = start.elapsed();
            let operations = crate::run::per_operation(system.kernel.log())
                .iter()
                .filter(|(name, _)| name.starts_with("fs."))
                .map(|(_, stats)| stats.count)
                .sum();
            best = best.min(ns_per(elapsed, operations));
        }
        figures.insert(mode.name().to_owned(), best);
    }
    figures
}

/// The figures of the million-event scenario: events, seconds to run and report, seconds to make its JSON.
fn scenario_seconds() -> (u64, f64, f64) {
    let text = include_str!("bench_scenario.ron");
    let start = Instant::now();
    let scenario =
        crate::scenario::Scenario::parse(text, "built-in bench scenario").expect("the bench scenario is valid");
    let report = crate::run::run(&scenario, mksim_servers::system::Mode::Microkernel, &Default::default());
    let run_seconds = start.elapsed().as_secs_f64();
    let start = Instant::now();
    let json = crate::report::run_json(&report, &scenario.name);
    black_box(serde_json::to_string_pretty(&json).expect("JSON values always print"));
    let json_seconds = start.elapsed().as_secs_f64();
    (report.log.len() as u64, run_seconds, json_seconds)
}

/// An echo workload of `clients` clients calling one server `calls` times each, every program a
/// Rhai script when `scripted`, an operation list otherwise: the same syscalls either way.
fn echo_workload(clients: u32, calls: u32, scripted: bool) -> String {
    let server = if scripted {
        r##"Script(source: r#"let p = cap("port"); let m = receive(p); loop { m = reply_receive(m, m.label, m.data, p); }"#)"##
            .to_owned()
    } else {
        "[Echo(on: \"port\")]".to_owned()
    };
    let client = if scripted {
        format!(r##"Script(source: r#"let p = cap("port"); for i in 0..{calls} {{ call_port(p, 1, "hello"); }}"#)"##)
    } else {
        format!("[Repeat(times: {calls}, ops: [Call(to: \"port\", label: 1, data: \"hello\")])]")
    };
    let mut processes = vec![format!("(name: \"server\", priority: 9, server: true, program: {server})")];
    for index in 0..clients {
        processes.push(format!(
            "(name: \"c{index}\", priority: 5, caps: [(name: \"port\", object: \"port\", rights: \"s\")], \
             program: {client})"
        ));
    }
    format!(
        "Scenario(name: \"echo\", servers: (name: false, console: false), objects: [(name: \"port\", kind: \
         Endpoint, owner: \"server\")], processes: [{}])",
        processes.join(", ")
    )
}

/// Host nanoseconds per step of [`echo_workload`], booting included, in the best of `repeats` runs.
fn echo_ns_per_step(repeats: u32, clients: u32, calls: u32, scripted: bool) -> f64 {
    let text = echo_workload(clients, calls, scripted);
    let scenario = crate::scenario::Scenario::parse(&text, "built-in echo workload").expect("the workload is valid");
    let mut best = f64::INFINITY;
    for _ in 0..repeats {
        let start = Instant::now();
        let report = crate::run::run(&scenario, mksim_servers::system::Mode::Microkernel, &Default::default());
        best = best.min(ns_per(start.elapsed(), report.steps));
    }
    best
}

/// The highest of `repeats` measured rates.
fn best_rate(repeats: u32, measure: impl Fn() -> std::io::Result<f64>) -> std::io::Result<f64> {
    let mut best: f64 = 0.0;
    for _ in 0..repeats {
        best = best.max(measure()?);
    }
    Ok(best)
}

/// Measures everything, each figure over `repeats` runs (baselines too: the best run counts).
///
/// # Errors
/// When the pipes for the baseline cannot be made.
pub fn measure(repeats: u32) -> std::io::Result<BenchReport> {
    // At least one run of everything, whatever the caller asked for.
    let repeats = repeats.max(1);
    let (best_ns, median_ns, kernel) = repeated_ns_per_message(repeats, || call_storm(1, 500_000));
    let log = kernel.log();
    let bytes_per_event = log.memory_bytes() as f64 / log.len().max(1) as f64;
    let payload_bytes_per_event = log.payload_bytes() as f64 / log.len().max(1) as f64;
    drop(kernel);
    let mut ns_per_message = BTreeMap::new();
    for clients in [10u32, 1_000, 10_000] {
        let (best_ns, _, _) = repeated_ns_per_message(repeats, || call_storm(clients, 200_000 / clients));
        ns_per_message.insert(clients.to_string(), best_ns);
    }
    let (large_elapsed, _, large) = time_run(call_storm(1, 80_000));
    let large_run_events = large.log().len() as u64;
    drop(large);
    let (scenario_events, scenario_run_seconds, scenario_json_seconds) = scenario_seconds();
    let mut scripted_ns_per_step = BTreeMap::new();
    for (clients, calls) in [(1u32, 2_000u32), (100, 20)] {
        let figures =
            (echo_ns_per_step(repeats, clients, calls, false), echo_ns_per_step(repeats, clients, calls, true));
        scripted_ns_per_step.insert(clients.to_string(), figures);
    }
    Ok(BenchReport {
        repeats,
        sim_messages_per_sec: 1e9 / best_ns,
        sim_messages_per_sec_median: 1e9 / median_ns,
        ns_per_message,
        fs_ns_per_operation: fs_ns_per_operation(repeats),
        bytes_per_event,
        payload_bytes_per_event,
        large_run_events,
        large_run_seconds: large_elapsed.as_secs_f64(),
        scenario_events,
        scenario_run_seconds,
        scenario_json_seconds,
        scripted_ns_per_step,
        function_call_ns: (0..repeats).map(|_| function_call_ns()).fold(f64::INFINITY, f64::min),
        crossbeam_roundtrips_per_sec: best_rate(repeats, || Ok(crossbeam_roundtrips_per_sec()))?,
        pipe_roundtrips_per_sec: best_rate(repeats, pipe_roundtrips_per_sec)?,
    })
}

/// The figures in words, each with its ratio to the real baselines.
pub fn describe(report: &BenchReport) -> String {
    use std::fmt::Write;
    let mut text = String::new();
    let sim_ns = 1e9 / report.sim_messages_per_sec;
    let crossbeam_ns = 1e9 / report.crossbeam_roundtrips_per_sec / 2.0;
    let pipe_ns = 1e9 / report.pipe_roundtrips_per_sec / 2.0;
    let runs = match report.repeats {
        1 => "one run".to_owned(),
        repeats => format!("best of {repeats} runs"),
    };
    let median = if report.repeats > 1 {
        format!(" (median {:.0} messages/s)", report.sim_messages_per_sec_median)
    } else {
        String::new()
    };
    let _ = writeln!(text, "simulated IPC (1 client, 1 server, event log on), {runs}{median}");
    let _ = writeln!(
        text,
        "  {:>12.0} messages/s   {:>8.1} ns/message   {:.1}× a function call, {:.2}× a crossbeam message, {:.2}× a pipe message",
        report.sim_messages_per_sec,
        sim_ns,
        sim_ns / report.function_call_ns,
        sim_ns / crossbeam_ns,
        sim_ns / pipe_ns,
    );
    let _ = writeln!(text, "host time per simulated message, by number of clients ({runs})");
    let base = report.ns_per_message.get("10").copied().unwrap_or(f64::NAN);
    for (clients, ns) in &report.ns_per_message {
        let _ = writeln!(text, "  {clients:>6} clients  {ns:>8.1} ns   {:.2}× the figure at 10", ns / base);
    }
    let _ = writeln!(text, "file-system workload (open, write, seek, read, close), host time per operation ({runs})");
    for (mode, ns) in &report.fs_ns_per_operation {
        let _ = writeln!(text, "  {mode:<12} {ns:>10.0} ns");
    }
    let _ = writeln!(
        text,
        "event log: {:.1} bytes per event (events and message records), {:.1} bytes of message data per event",
        report.bytes_per_event, report.payload_bytes_per_event
    );
    let _ = writeln!(text, "large run: {} events in {:.3} s", report.large_run_events, report.large_run_seconds);
    let _ = writeln!(
        text,
        "scenario of {} events: {:.3} s to run and report, {:.3} s for its JSON (trace hash included), {:.3} s in all",
        report.scenario_events,
        report.scenario_run_seconds,
        report.scenario_json_seconds,
        report.scenario_run_seconds + report.scenario_json_seconds
    );
    let _ = writeln!(text, "echo workload as operation lists and as Rhai scripts, host time per step ({runs})");
    for (clients, (ops, script)) in &report.scripted_ns_per_step {
        let _ = writeln!(
            text,
            "  {clients:>6} clients  operations {ops:>8.0} ns   scripts {script:>8.0} ns   {:.0}× (a thread hand-off each way)",
            script / ops
        );
    }
    let _ = writeln!(text, "baselines on this machine");
    let _ = writeln!(text, "  direct function call         {:>10.2} ns", report.function_call_ns);
    let _ = writeln!(
        text,
        "  crossbeam round trip         {:>10.0} /s  ({:.0} ns per message)",
        report.crossbeam_roundtrips_per_sec, crossbeam_ns
    );
    let _ = writeln!(
        text,
        "  pipe round trip              {:>10.0} /s  ({:.0} ns per message)",
        report.pipe_roundtrips_per_sec, pipe_ns
    );
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    fn report(repeats: u32) -> BenchReport {
        BenchReport {
            repeats,
            sim_messages_per_sec: 4e6,
            sim_messages_per_sec_median: 3e6,
            ns_per_message: [("10", 250.0), ("1000", 260.0), ("10000", 300.0)]
                .into_iter()
                .map(|(clients, ns)| (clients.to_owned(), ns))
                .collect(),
            fs_ns_per_operation: BTreeMap::new(),
            bytes_per_event: 38.9,
            payload_bytes_per_event: 0.6,
            large_run_events: 1_000,
            large_run_seconds: 0.1,
            scenario_events: 1_000,
            scenario_run_seconds: 0.1,
            scenario_json_seconds: 0.3,
            scripted_ns_per_step: [("1".to_owned(), (500.0, 30_000.0))].into_iter().collect(),
            function_call_ns: 2.0,
            crossbeam_roundtrips_per_sec: 1e6,
            pipe_roundtrips_per_sec: 2.5e5,
        }
    }

    #[test]
    fn the_summary_sets_scripts_beside_operation_lists() {
        let text = describe(&report(1));
        assert!(text.contains("operations      500 ns   scripts    30000 ns   60×"), "{text}");
    }

    #[test]
    fn the_summary_names_the_runs_behind_each_figure_and_its_ratios() {
        let text = describe(&report(5));
        assert!(text.contains("best of 5 runs (median 3000000 messages/s)"), "{text}");
        assert!(text.contains("4000000 messages/s"), "{text}");
        // 250 ns per simulated message against 500 ns per crossbeam message (half a round trip).
        assert!(text.contains("0.50× a crossbeam message"), "{text}");
        assert!(text.contains("1.20× the figure at 10"), "{text}");
        let single = describe(&report(1));
        assert!(single.contains("event log on), one run\n"), "{single}");
        assert!(!single.contains("median"), "{single}");
    }

    #[test]
    fn repeated_runs_report_the_fastest_and_the_middle_run() {
        let (best, median, kernel) = repeated_ns_per_message(3, || call_storm(2, 50));
        assert!(best > 0.0 && best <= median, "best {best} median {median}");
        assert_eq!(kernel.totals().messages_sent.total(), 200, "two clients, fifty calls each, a reply to each");
    }
}
