//! The boot phase as users see it: every scenario's programs start after the
//! servers are ready, in both modes; the monolithic kernel's own mount is
//! charged to its boot; comparisons count the work after boot, so the tour
//! and `file_io` compare like with like; and a supervisor leaves a server
//! alone until it has finished starting up again.

use mksim_core::report::run_json;
use mksim_core::run::{RunOptions, RunReport, run};
use mksim_core::scenario::Scenario;
use mksim_kernel::EventKind;
use mksim_servers::system::Mode;
use mksim_tests::scenarios;

const MODES: [Mode; 2] = [Mode::Microkernel, Mode::Monolithic];

fn load(name: &str) -> Scenario {
    let path = scenarios::folder().join(format!("{name}.ron"));
    Scenario::load(&path.display().to_string()).unwrap_or_else(|error| panic!("{error}"))
}

fn run_in(scenario: &Scenario, mode: Mode) -> RunReport {
    run(scenario, mode, &RunOptions::default())
}

/// Average cycles of one operation, from the per-operation figures.
fn cycles_per(report: &RunReport, operation: &str) -> f64 {
    let stats = report.per_operation[operation];
    stats.cycles as f64 / stats.count as f64
}

#[test]
fn in_every_scenario_and_mode_programs_run_only_after_the_boot() {
    for file in scenarios::files() {
        let scenario = Scenario::load(&file.display().to_string()).unwrap();
        for mode in MODES {
            let report = run_in(&scenario, mode);
            let context = format!("{} ({})", file.display(), mode.name());
            let log = &report.log;
            let boots: Vec<usize> = (0..log.len()).filter(|&at| log.events()[at].kind == EventKind::BootDone).collect();
            assert_eq!(boots.len(), 1, "{context}: one end of the boot");
            let held: Vec<_> = log
                .events()
                .iter()
                .filter(|event| event.kind == EventKind::AwaitingBoot)
                .map(|event| event.process)
                .collect();
            let programs: Vec<_> = report.processes.iter().map(|process| process.name.as_str()).collect();
            assert!(!held.is_empty(), "{context}: programs {programs:?} wait for the boot");
            for (at, event) in log.events().iter().enumerate() {
                if held.contains(&event.process) && matches!(event.kind, EventKind::Switched { .. }) {
                    assert!(at > boots[0], "{context}: {} ran before the boot ended", log.process_name(event.process));
                }
            }
            assert_eq!(report.boot.cycles, log.events()[boots[0]].time, "{context}");
            let end = log.events().last().unwrap().time;
            assert_eq!(report.boot.cycles + report.metrics.cycles, end, "{context}: boot and work add up to the run");
        }
    }
}

#[test]
fn the_tour_compares_the_work_after_boot_and_the_mount_is_boot_in_both_modes() {
    let tour = load("tour");
    let micro = run_in(&tour, Mode::Microkernel);
    let mono = run_in(&tour, Mode::Monolithic);
    // The mount reads four blocks of 20,000 cycles each in both modes: boot, not fs.open.
    for report in [&micro, &mono] {
        assert!(report.boot.cycles > 4 * 20_000, "{} boot {}", report.mode.name(), report.boot.cycles);
    }
    let total = micro.metrics.cycles as f64 / mono.metrics.cycles as f64;
    assert!(total < 1.6, "micro/mono cycles after boot {total:.2}");
    let open = cycles_per(&micro, "fs.open") / cycles_per(&mono, "fs.open");
    assert!(open < 2.0, "fs.open micro/mono {open:.2}");
    // The messages the mount sent are boot's; the work after it still takes messages.
    assert_eq!(micro.boot.messages, 8, "four block reads, each a call and a reply");
    assert!(micro.metrics.messages > 0 && mono.metrics.messages == 0);
}

#[test]
fn file_io_operations_cost_alike_apart_from_the_messages() {
    let file_io = load("file_io");
    let micro = run_in(&file_io, Mode::Microkernel);
    let mono = run_in(&file_io, Mode::Monolithic);
    for operation in ["fs.mkdir", "fs.open", "fs.write"] {
        let ratio = cycles_per(&micro, operation) / cycles_per(&mono, operation);
        assert!((0.9..2.0).contains(&ratio), "{operation}: micro/mono {ratio:.2}");
    }
    assert!((micro.metrics.cycles as f64 / mono.metrics.cycles as f64) < 1.6);
}

#[test]
fn run_json_gives_the_boot_apart_from_the_work() {
    let report = run_in(&load("hello"), Mode::Microkernel);
    let json = run_json(&report, "hello");
    assert_eq!(json["boot_cycles"], report.boot.cycles);
    assert_eq!(json["boot"]["cycles"], report.boot.cycles);
    assert_eq!(json["metrics"]["cycles"], report.metrics.cycles);
    assert!(report.boot.cycles > 0 && report.boot.syscalls > 0, "the servers' ready syscalls are boot");
}

/// A file server that mounts for about 88,000 cycles, supervised with heartbeats every 10,000
/// cycles that must be answered within 5,000, crashed by its first request.
const SLOW_MOUNT: &str = r#"Scenario(
    name: "slow-mount",
    servers: (
        file: (cache_blocks: 4),
        block: (blocks: 64, block_size: 512, latency_cycles: 20000),
        supervisor: (restart: {"fs": Always}, backoff_cycles: 1000,
                     heartbeat: (period_cycles: 10000, timeout_cycles: 5000)),
    ),
    faults: [(server: "fs", kind: Crash, at: Message(1))],
    processes: [
        (name: "client", priority: 5, program: [Stat(path: "/", expect_size: 0)]),
    ],
)"#;

#[test]
fn a_server_is_not_taken_for_hung_while_it_starts_up_again() {
    let scenario = Scenario::parse(SLOW_MOUNT, "slow-mount.ron").unwrap();
    let report = run_in(&scenario, Mode::Microkernel);
    assert!(report.outcome.is_completed(), "{:?}\n{}", report.outcome, report.log.render_text());
    assert_eq!(report.process("client").unwrap().exit_code, Some(0), "{}", report.log.render_text());
    // One restart for the injected crash; the mounts at boot and after the restart both outlast
    // several heartbeat periods, and neither is cut short by a kill.
    assert_eq!(report.reliability.restarts.get("fs"), Some(&1), "{}", report.log.render_text());
    let kills = report.log.events().iter().filter(|event| matches!(event.kind, EventKind::Faulted { .. })).count();
    assert_eq!(kills, 1, "only the injected crash\n{}", report.log.render_text());
}
