//! The IPC fast path changes nothing anyone can observe: every scenario, and any
//! random workload, gives the same event log, outcome, virtual time and counters
//! with the fast path on as with every syscall taking the general path.

use mksim_core::scenario::Scenario;
use mksim_kernel::Blocking;
use mksim_kernel::{Counters, Kernel, KernelConfig};
use mksim_servers::system::{Mode, boot};
use mksim_tests::{Op, Workload, any_workload, build_with_journal, run};
use proptest::prelude::*;

fn counters(kernel: &Kernel) -> Vec<Counters> {
    kernel.processes().iter().map(|process| *process.counters()).collect()
}

/// Runs `scenario` in `mode` under `config`, with the fast path on or off.
fn run_scenario(scenario: &Scenario, config: &KernelConfig, mode: Mode, fast: bool) -> Kernel {
    let mut system = boot(scenario.system_with_faults(config.clone(), scenario.faults.clone()), mode);
    system.kernel.set_fast_ipc(fast);
    system.kernel.run();
    system.kernel
}

fn assert_same_run(fast: &Kernel, general: &Kernel, context: &str) {
    assert_eq!(fast.outcome(), general.outcome(), "{context}: outcomes differ");
    assert!(fast.log() == general.log(), "{context}: event logs differ");
    assert_eq!(fast.now(), general.now(), "{context}: virtual time differs");
    assert_eq!(fast.steps(), general.steps(), "{context}");
    assert_eq!(counters(fast), counters(general), "{context}: counters differ");
    assert_eq!(fast.totals(), general.totals(), "{context}");
}

#[test]
fn every_scenario_runs_the_same_with_and_without_the_fast_path() {
    for path in mksim_tests::scenarios::files() {
        let scenario = Scenario::load(&path.display().to_string()).unwrap_or_else(|error| panic!("{error}"));
        // The scenario's own settings, then with priority inheritance flipped, which the fast path
        // leaves to the general path.
        let flipped =
            KernelConfig { priority_inheritance: !scenario.kernel.priority_inheritance, ..scenario.kernel.clone() };
        for config in [&scenario.kernel, &flipped] {
            for mode in [Mode::Microkernel, Mode::Monolithic] {
                let fast = run_scenario(&scenario, config, mode, true);
                let general = run_scenario(&scenario, config, mode, false);
                let context = format!(
                    "{} in {} mode, priority inheritance {}",
                    path.display(),
                    mode.name(),
                    config.priority_inheritance
                );
                assert_same_run(&fast, &general, &context);
            }
        }
    }
}

/// The workload with priority inheritance off, no capabilities in messages and no timeouts on
/// IPC: random workloads have many of each, and each sends a syscall to the general path.
fn plain_ipc(mut workload: Workload) -> Workload {
    workload.settings.priority_inheritance = false;
    let forever = |blocking: &mut Blocking| {
        if let Blocking::Timeout(_) = blocking {
            *blocking = Blocking::Forever;
        }
    };
    for op in workload.processes.iter_mut().flat_map(|process| process.ops.iter_mut()) {
        match op {
            Op::Send { message, blocking, .. }
            | Op::Call { message, blocking, .. }
            | Op::ReplyReceive { message, blocking, .. }
            | Op::Serve { answer: message, blocking, .. } => {
                message.caps.clear();
                forever(blocking);
            }
            Op::Receive { blocking, .. } => forever(blocking),
            Op::Reply { message, .. } => message.caps.clear(),
            _ => {}
        }
    }
    workload
}

/// Runs `workload` with the fast path on and off and checks that nothing differs.
fn check_same_run(workload: &Workload, seed: u64) -> Result<(), TestCaseError> {
    let (mut fast, fast_journal) = build_with_journal(workload, seed);
    let (mut general, general_journal) = build_with_journal(workload, seed);
    general.set_fast_ipc(false);
    let fast_outcome = run(&mut fast, workload);
    let general_outcome = run(&mut general, workload);
    prop_assert_eq!(fast_outcome, general_outcome);
    prop_assert!(fast.log() == general.log(), "the event logs differ");
    prop_assert_eq!(fast.now(), general.now());
    prop_assert_eq!(counters(&fast), counters(&general));
    prop_assert!(*fast_journal.borrow() == *general_journal.borrow(), "the programs saw different results");
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(192))]

    /// Any workload (its planned faults included) gives the same log, outcome, counters and
    /// syscall results with the fast path on and off.
    #[test]
    fn random_workloads_run_the_same_with_and_without_the_fast_path(workload in any_workload(), seed in any::<u64>()) {
        check_same_run(&workload, seed)?;
    }

    /// The same for workloads whose IPC mostly qualifies for the fast path.
    #[test]
    fn plain_ipc_workloads_run_the_same_with_and_without_the_fast_path(
        workload in any_workload().prop_map(plain_ipc),
        seed in any::<u64>(),
    ) {
        check_same_run(&workload, seed)?;
    }
}
