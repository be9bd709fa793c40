//! Reports for people: the message trace, run summaries and the comparison of modes.
//!
//! Every string that comes from the scenario (names, faults, console output, profile names)
//! is shown through [`escape_controls`], so no control character reaches the terminal; the
//! JSON reports keep it exact.
//!
//! Text and JSON live here side by side, computed from the same figures: every report is a
//! `String` or a [`serde_json::Value`], and this module never prints one. Which report a
//! command shows, and where it writes it, are the front end's.

use crate::run::{Metrics, OperationStats, RunReport};
use mksim_kernel::event::{EventKind, EventLog};
use mksim_kernel::message::MessageKind;
use mksim_kernel::{Outcome, escape_controls};
use serde_json::{Value, json};
use std::collections::BTreeSet;
use std::fmt::Write;

/// Who a message went to: the owner of its port, or for a reply the caller.
pub fn receiver_name(log: &EventLog, message: mksim_kernel::message::MessageId) -> String {
    log.receiver_of(message).map_or_else(|| "?".to_owned(), |id| log.process_name(id).to_owned())
}

/// One line per message (and per fault, exit and service call): time, sender ──what──▶ receiver, size.
pub fn message_trace(log: &EventLog) -> String {
    let mut text = String::new();
    for event in log.events() {
        let sender = log.display_name(event.process);
        let line = match event.kind {
            EventKind::MessageSent { message } | EventKind::ServiceCalled { message } => {
                let record = log.message(message);
                let content = log.message_content(message);
                let receiver = receiver_name(log, message);
                let receiver = escape_controls(&receiver);
                let caps = if record.caps > 0 { format!(" +{} cap", record.caps) } else { String::new() };
                let arrow = match record.kind {
                    // A reply is drawn from the caller's side, so a call and its answer line up.
                    MessageKind::Reply => format!("{receiver} ◀──{content}── {sender}"),
                    MessageKind::Async => format!("{sender} ──{content}──) {receiver}"),
                    MessageKind::Service => format!("{sender} ══{content}══▶ kernel"),
                    _ => format!("{sender} ──{content}──▶ {receiver}"),
                };
                format!("{arrow}  {} B{caps}", log.message_bytes(message))
            }
            EventKind::MessageDropped { .. }
            | EventKind::Faulted { .. }
            | EventKind::Exited { .. }
            | EventKind::Interrupt { .. }
            | EventKind::FaultInjected { .. }
            | EventKind::Restarted
            | EventKind::OperationRetried { .. }
            | EventKind::KernelPanicked { .. }
            | EventKind::BootWork { .. } => {
                format!("{sender} {}", log.describe(event))
            }
            EventKind::Signalled { notification, bits } => signal_line(log, event.process, notification, bits),
            EventKind::RunEnded { .. } => log.describe(event),
            EventKind::BootDone => boot_done_line(event.time),
            _ => continue,
        };
        let _ = writeln!(text, "{:>10}  {line}", event.time);
    }
    text
}

/// A signal as an async arrow to the notification's owner: `helper ──signal bits 0x2──) driver`.
/// The kernel signals only to tell a watcher that a process died: its line says so.
fn signal_line(
    log: &EventLog,
    sender: mksim_kernel::ProcessId,
    notification: mksim_kernel::ObjectId,
    bits: mksim_kernel::event::BitsId,
) -> String {
    let receiver = match log.object_info(notification).and_then(|info| info.owner) {
        Some(owner) => log.display_name(owner).into_owned(),
        None => log.describe_object(notification),
    };
    let what = if sender.is_kernel() { "death notice, bits" } else { "signal bits" };
    format!("{} ──{what} {:#x}──) {receiver}", log.display_name(sender), log.bits(bits))
}

/// The line that marks the end of the boot in a trace: the work the modes are compared on starts after it.
pub fn boot_done_line(time_cycles: u64) -> String {
    format!("── boot done at t={time_cycles} ──")
}

/// The metrics object every JSON output shares.
pub fn metrics_json(metrics: &Metrics) -> Value {
    json!({
        "syscalls": metrics.syscalls,
        "messages": metrics.messages,
        "context_switches": metrics.context_switches,
        "bytes_copied": metrics.bytes_copied,
        "cycles": metrics.cycles,
    })
}

fn per_operation_json(report: &RunReport) -> Value {
    let entries = report.per_operation.iter().map(|(name, stats)| {
        let per = |total: u64| if stats.count == 0 { 0.0 } else { total as f64 / stats.count as f64 };
        let value = json!({
            "count": stats.count,
            "messages": stats.messages,
            "context_switches": stats.context_switches,
            "syscalls": stats.syscalls,
            "cycles": stats.cycles,
            "messages_per_op": per(stats.messages),
            "context_switches_per_op": per(stats.context_switches),
            "cycles_per_op": per(stats.cycles),
        });
        (name.clone(), value)
    });
    Value::Object(entries.collect())
}

/// What a run stopped at its memory budget held, or `null` for any other end.
fn memory_json(report: &RunReport) -> Value {
    let Outcome::MemoryLimit(memory) = &report.outcome else { return Value::Null };
    json!({
        "limit_bytes": memory.limit_bytes,
        "log_bytes": memory.log_bytes,
        "region_bytes": memory.region_bytes,
        "message_bytes": memory.message_bytes,
        "refused_bytes": memory.refused_bytes,
        "total_bytes": memory.total_bytes(),
    })
}

fn panic_json(report: &RunReport) -> Value {
    let Outcome::KernelPanic(panic) = &report.outcome else { return Value::Null };
    let lost: Vec<Value> = panic
        .lost
        .iter()
        .map(|lost| {
            json!({
                "process": lost.name,
                "server": lost.is_server,
                "state": lost.description,
                "operation": lost.operation.map(|label| report.log.operation_name(label)),
            })
        })
        .collect();
    json!({"time": panic.time, "fault": panic.fault.name(), "detail": panic.detail, "lost": lost})
}

/// A run as one JSON object.
pub fn run_json(report: &RunReport, scenario: &str) -> Value {
    let processes: Vec<Value> = report
        .processes
        .iter()
        .map(|process| {
            json!({
                "name": process.name,
                "server": process.server,
                "state": process.state,
                "exit_code": process.exit_code,
                "fault": process.fault,
                "syscalls": process.counters.syscalls,
                "messages_sent": process.counters.messages_sent.total(),
                "messages_received": process.counters.messages_received,
                "cycles": process.counters.cycles,
            })
        })
        .collect();
    let deadlock: Vec<Value> = match &report.outcome {
        Outcome::Deadlock(deadlock) => deadlock
            .blocked
            .iter()
            .map(|blocked| {
                json!({
                    "process": blocked.name,
                    "state": blocked.description,
                    "in_cycle": blocked.in_cycle,
                    "no_possible_sender": blocked.no_possible_sender,
                })
            })
            .collect(),
        _ => Vec::new(),
    };
    json!({
        "scenario": scenario,
        "mode": report.mode.name(),
        "profile": report.profile,
        "seed": report.seed,
        "outcome": report.outcome_name(),
        "steps": report.steps,
        "trace_hash": crate::export::trace_hash(&report.log),
        "boot_cycles": report.boot.cycles,
        "boot": metrics_json(&report.boot),
        "metrics": metrics_json(&report.metrics),
        "per_operation": per_operation_json(report),
        "processes": processes,
        "deadlock": deadlock,
        "kernel_panic": panic_json(report),
        "memory_limit": memory_json(report),
        "reliability": report.reliability,
        "console": report.console,
    })
}

/// The end of a run in words, with blocked processes for a deadlock.
pub fn summary(report: &RunReport) -> String {
    let mut text = String::new();
    let wording = report.outcome.kind().wording();
    match &report.outcome {
        Outcome::Completed => {
            let _ = writeln!(text, "outcome: {wording}");
        }
        Outcome::StepLimit { limit } => {
            let _ = writeln!(text, "outcome: {wording} ({limit} steps)");
        }
        Outcome::MemoryLimit(memory) => {
            let _ = writeln!(text, "outcome: {wording} ({} bytes)", memory.limit_bytes);
            let _ = writeln!(text, "  held: {}", memory.describe());
        }
        Outcome::Deadlock(deadlock) => {
            if deadlock.has_cycle() {
                let _ = writeln!(text, "outcome: {wording}");
            } else {
                // Nothing can run, but nobody waits for anybody in a circle: not a deadlock proper.
                let _ = writeln!(
                    text,
                    "outcome: blocked for ever, not a {wording}: no process waits on another in a cycle, \
                     but nothing can wake the blocked ones"
                );
            }
            for blocked in &deadlock.blocked {
                let why = if blocked.in_cycle {
                    "   ← in a wait-for cycle"
                } else if blocked.no_possible_sender {
                    "   ← no other process can send to it"
                } else {
                    ""
                };
                let _ = writeln!(text, "  {:<10} {}{why}", escape_controls(&blocked.name), blocked.description);
            }
        }
        Outcome::KernelPanic(panic) => {
            // Shouted: everything below it was lost.
            let shouted = wording.to_uppercase();
            let _ = writeln!(text, "outcome: {shouted} at {} cycles: {}", panic.time, escape_controls(&panic.detail));
            let _ = writeln!(text, "  the whole system stopped; the work of every process is lost:");
            for lost in &panic.lost {
                let operation = match lost.operation {
                    Some(label) => format!(", in the middle of {}", report.log.operation_name(label)),
                    None => String::new(),
                };
                let _ = writeln!(text, "  {:<10} {}{operation}", escape_controls(&lost.name), lost.description);
            }
        }
    }
    let (boot, metrics) = (&report.boot, &report.metrics);
    let _ = writeln!(
        text,
        "mode {}  profile {}  seed {}  steps {}  time {} cycles",
        report.mode.name(),
        escape_controls(&report.profile),
        report.seed,
        report.steps,
        boot.cycles + metrics.cycles
    );
    let _ = writeln!(
        text,
        "boot      {} cycles  syscalls {}  messages {}  context switches {}  bytes copied {}",
        boot.cycles, boot.syscalls, boot.messages, boot.context_switches, boot.bytes_copied
    );
    let _ = writeln!(
        text,
        "work      {} cycles  syscalls {}  messages {}  context switches {}  bytes copied {}",
        metrics.cycles, metrics.syscalls, metrics.messages, metrics.context_switches, metrics.bytes_copied
    );
    for process in report.processes.iter().filter(|process| process.fault.is_some()) {
        let fault = process.fault.as_deref().unwrap_or("");
        let _ = writeln!(text, "{} faulted: {}", escape_controls(&process.name), escape_controls(fault));
    }
    let figures = &report.reliability;
    if figures.failures_injected + figures.delays_injected > 0 || figures.total_restarts() > 0 {
        let restarts: Vec<String> = figures.restarts.iter().map(|(name, count)| format!("{name} ×{count}")).collect();
        let restarts = if restarts.is_empty() { "none".to_owned() } else { restarts.join(", ") };
        let _ = writeln!(
            text,
            "faults injected {} (+{} delays)  restarts: {restarts}",
            figures.failures_injected, figures.delays_injected
        );
        let _ = writeln!(
            text,
            "client operations: {} succeeded, {} failed, {} retried",
            figures.ops_succeeded, figures.ops_failed, figures.ops_retried
        );
        let _ = writeln!(
            text,
            "file data lost: {} B acknowledged, {} B unacknowledged",
            figures.data_lost.acknowledged, figures.data_lost.unacknowledged
        );
    }
    for (name, output) in &report.console {
        let _ = writeln!(text, "console of {}:", escape_controls(name));
        for line in output.lines() {
            let _ = writeln!(text, "  │ {}", escape_controls(line));
        }
    }
    text
}

/// The two runs of a comparison with their cost profiles:
/// `microkernel (profile sel4) against monolithic (profile monolithic)`.
pub fn comparison_title(micro: &RunReport, mono: &RunReport) -> String {
    format!(
        "{} (profile {}) against {} (profile {})",
        micro.mode.name(),
        escape_controls(&micro.profile),
        mono.mode.name(),
        escape_controls(&mono.profile)
    )
}

/// How a run ended and when, to follow "the microkernel run": `completed at 281528 cycles`,
/// `ended in a kernel panic at 9293 cycles`.
pub fn how_it_ended(report: &RunReport) -> String {
    let ended = report.outcome.kind().ended();
    match &report.outcome {
        Outcome::KernelPanic(panic) => format!("{ended} at {} cycles", panic.time),
        Outcome::StepLimit { limit } => format!("{ended} ({limit} steps) at {} cycles", report.end_cycles),
        Outcome::MemoryLimit(memory) => {
            format!(
                "{ended} ({} bytes) after {} steps, at {} cycles",
                memory.limit_bytes, report.steps, report.end_cycles
            )
        }
        Outcome::Completed | Outcome::Deadlock(_) => format!("{ended} at {} cycles", report.end_cycles),
    }
}

/// Why the figures of two runs do not compare, one clause per run that did not complete
/// (`the monolithic run ended in a kernel panic at 9293 cycles`); empty when both completed.
///
/// A run that stopped early did less of the work than one that completed, and a deadlocked
/// one may have idled, so a ratio of their totals would measure the failure, not the modes.
pub fn ended_early(micro: &RunReport, mono: &RunReport) -> Vec<String> {
    [micro, mono]
        .into_iter()
        .filter(|report| !report.outcome.is_completed())
        .map(|report| format!("the {} run {}", report.mode.name(), how_it_ended(report)))
        .collect()
}

/// [`ended_early`] as one sentence, or `None` when the runs compare.
pub fn not_comparable_because(micro: &RunReport, mono: &RunReport) -> Option<String> {
    let clauses = ended_early(micro, mono);
    (!clauses.is_empty()).then(|| clauses.join(", and "))
}

/// Microkernel over monolithic; `None` when the monolithic figure is 0 (JSON has no infinity).
fn ratio_value(micro: f64, mono: f64) -> Option<f64> {
    (mono != 0.0).then(|| micro / mono)
}

/// Reads one figure of an operation kind's stats.
type OperationFigure = fn(&OperationStats) -> u64;

/// The average of a figure over the operations made; `None` when none was.
fn average(stats: Option<&OperationStats>, figure: OperationFigure) -> Option<f64> {
    stats.filter(|stats| stats.count > 0).map(|stats| figure(stats) as f64 / stats.count as f64)
}

/// Microkernel over monolithic for each total, and per operation both modes made for its
/// average messages, context switches and cycles. A ratio whose monolithic figure is 0 is
/// `null`.
pub fn ratios_json(micro: &RunReport, mono: &RunReport) -> Value {
    let totals = |metrics: &Metrics| {
        [
            ("syscalls", metrics.syscalls),
            ("messages", metrics.messages),
            ("context_switches", metrics.context_switches),
            ("bytes_copied", metrics.bytes_copied),
            ("cycles", metrics.cycles),
        ]
    };
    let mut ratios = serde_json::Map::new();
    for ((name, a), (_, b)) in totals(&micro.metrics).into_iter().zip(totals(&mono.metrics)) {
        ratios.insert(name.to_owned(), json!(ratio_value(a as f64, b as f64)));
    }
    let figures: [(&str, OperationFigure); 3] =
        [("messages", |s| s.messages), ("context_switches", |s| s.context_switches), ("cycles", |s| s.cycles)];
    let mut per_operation = serde_json::Map::new();
    for (name, a) in &micro.per_operation {
        let b = mono.per_operation.get(name);
        if a.count == 0 || b.is_none_or(|b| b.count == 0) {
            continue;
        }
        let entry = figures.iter().map(|&(figure_name, figure)| {
            let ratio = average(Some(a), figure).zip(average(b, figure)).and_then(|(a, b)| ratio_value(a, b));
            (figure_name.to_owned(), json!(ratio))
        });
        per_operation.insert(name.clone(), Value::Object(entry.collect()));
    }
    ratios.insert("per_operation".to_owned(), Value::Object(per_operation));
    Value::Object(ratios)
}

/// Both modes as one JSON object: each run exactly as [`run_json`] gives it, the ratios of
/// microkernel to monolithic, and whether the runs compare at all (no ratios when not).
pub fn comparison_json(micro: &RunReport, mono: &RunReport, scenario: &str) -> Value {
    comparison_json_with(run_json(micro, scenario), micro, mono, scenario)
}

/// [`comparison_json`], with the microkernel run's [`run_json`] made already: the rest reads
/// neither run's log, so the first run's log can go before the second run.
pub fn comparison_json_with(micro_json: Value, micro: &RunReport, mono: &RunReport, scenario: &str) -> Value {
    let because = not_comparable_because(micro, mono);
    json!({
        "scenario": scenario,
        "microkernel": micro_json,
        "monolithic": run_json(mono, scenario),
        "ratios": if because.is_none() { ratios_json(micro, mono) } else { Value::Null },
        "comparable": because.is_none(),
        "not_comparable_because": because,
    })
}

fn ratio(micro: f64, mono: f64) -> String {
    if mono == 0.0 { if micro == 0.0 { "=".into() } else { "∞".into() } } else { format!("{:.1}×", micro / mono) }
}

/// Both modes side by side: totals, then per operation, with ratios; when a run did not
/// complete, how each run ended and no ratios at all.
pub fn comparison(micro: &RunReport, mono: &RunReport) -> String {
    let mut text = String::new();
    let comparable = micro.outcome.is_completed() && mono.outcome.is_completed();
    if !comparable {
        for report in [micro, mono] {
            let detail = match &report.outcome {
                Outcome::KernelPanic(panic) => format!(": {}", escape_controls(&panic.detail)),
                _ => String::new(),
            };
            let _ = writeln!(text, "the {} run {}{detail}", report.mode.name(), how_it_ended(report));
        }
        let _ =
            writeln!(text, "the totals are not comparable (the runs did not both complete), so there are no ratios");
        let _ = writeln!(text);
    }
    let ratio_title = if comparable { format!(" {:>8}", "ratio") } else { String::new() };
    let _ = writeln!(text, "{:<22} {:>14} {:>14}{ratio_title}", "", "microkernel", "monolithic");
    let restarts = micro.reliability.total_restarts() + mono.reliability.total_restarts();
    if restarts > 0 {
        let _ = writeln!(
            text,
            "{:<22} {:>14} {:>14}",
            "server restarts",
            micro.reliability.total_restarts(),
            mono.reliability.total_restarts()
        );
    }
    // The boot is the same start-up work in both modes, but its cost is reported apart: the
    // rows below, and every ratio, count the work after it.
    let _ = writeln!(text, "{:<22} {:>14} {:>14}", "boot (cycles)", micro.boot.cycles, mono.boot.cycles);
    let _ = writeln!(text, "after boot:");
    let rows = [
        ("syscalls", micro.metrics.syscalls, mono.metrics.syscalls),
        ("messages", micro.metrics.messages, mono.metrics.messages),
        ("context switches", micro.metrics.context_switches, mono.metrics.context_switches),
        ("bytes copied", micro.metrics.bytes_copied, mono.metrics.bytes_copied),
        ("cycles", micro.metrics.cycles, mono.metrics.cycles),
    ];
    for (name, a, b) in rows {
        let ratio = if comparable { format!(" {:>8}", ratio(a as f64, b as f64)) } else { String::new() };
        let _ = writeln!(text, "{name:<22} {a:>14} {b:>14}{ratio}");
    }
    per_operation_table(&mut text, micro, mono, comparable);
    text
}

/// The averages per operation of both modes, with the ratio of cycles when `comparable`.
fn per_operation_table(text: &mut String, micro: &RunReport, mono: &RunReport, comparable: bool) {
    let operations: BTreeSet<&String> = micro.per_operation.keys().chain(mono.per_operation.keys()).collect();
    if operations.is_empty() {
        return;
    }
    let _ = writeln!(text);
    let _ = writeln!(text, "per operation (average)     messages        switches          cycles");
    let ratio_title = if comparable { format!(" {:>7}", "ratio") } else { String::new() };
    let _ = writeln!(
        text,
        "{:<20} {:>5}  {:>6} {:>6}  {:>6} {:>6}  {:>7} {:>7}{ratio_title}",
        "", "count", "micro", "mono", "micro", "mono", "micro", "mono"
    );
    for name in operations {
        let a = micro.per_operation.get(name);
        let b = mono.per_operation.get(name);
        // An operation one mode never makes (a name lookup, in monolithic mode) shows a dash there.
        let shown =
            |stats: Option<&OperationStats>, figure: fn(&OperationStats) -> u64, width: usize, decimals| match average(
                stats, figure,
            ) {
                Some(value) => format!("{value:>width$.decimals$}"),
                None => format!("{:>width$}", "-"),
            };
        let cycle_ratio = match (average(a, |s| s.cycles), average(b, |s| s.cycles)) {
            _ if !comparable => String::new(),
            (Some(a), Some(b)) => format!(" {:>7}", ratio(a, b)),
            _ => format!(" {:>7}", "-"),
        };
        let count = a.map_or(0, |stats| stats.count).max(b.map_or(0, |stats| stats.count));
        let _ = writeln!(
            text,
            "{name:<20} {count:>5}  {} {}  {} {}  {} {}{cycle_ratio}",
            shown(a, |s| s.messages, 6, 1),
            shown(b, |s| s.messages, 6, 1),
            shown(a, |s| s.context_switches, 6, 1),
            shown(b, |s| s.context_switches, 6, 1),
            shown(a, |s| s.cycles, 7, 0),
            shown(b, |s| s.cycles, 7, 0),
        );
    }
}
