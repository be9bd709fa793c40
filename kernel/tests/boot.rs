//! The boot phase: programs wait for the servers the boot waits for, the
//! end of the boot is logged once with what it cost, a server that dies
//! while starting up does not hold the boot up, and `is_ready` tells a
//! supervisor whether a (re)started server has finished starting up.

mod common;

use common::*;
use mksim_kernel::syscall::ServiceWork;
use mksim_kernel::*;
use std::rc::Rc;

/// The position of the first event matching `predicate`.
fn position(kernel: &Kernel, predicate: impl Fn(&Event) -> bool) -> Option<usize> {
    kernel.log().events().iter().position(predicate)
}

fn boot_done_position(kernel: &Kernel) -> usize {
    position(kernel, |event| event.kind == EventKind::BootDone).expect("the boot ended")
}

/// A program that records the time it first ran, then exits.
fn start_clocked(kernel: &mut Kernel, id: ProcessId, record: &Record<u64>) {
    let record = record.clone();
    kernel.start_after_boot(id, move |sys| async move {
        record.push(sys.now());
        Ok(0)
    });
}

#[test]
fn programs_run_only_after_every_server_reported_ready() {
    let mut kernel = kernel();
    let slow = server(&mut kernel, "slow", 10);
    let quick = server(&mut kernel, "quick", 10);
    let client = program(&mut kernel, "client", 20);
    kernel.await_ready(slow);
    kernel.await_ready(quick);
    // The slow server's start-up takes 50,000 cycles; the client is more important than both.
    kernel.start(slow, |sys| async move {
        sys.compute(50_000).await?;
        sys.ready().await?;
        stay_alive(sys).await
    });
    kernel.start(quick, |sys| async move {
        sys.ready().await?;
        stay_alive(sys).await
    });
    let started = Record::new();
    start_clocked(&mut kernel, client, &started);
    assert_eq!(state(&kernel, client), ProcessState::AwaitingBoot);
    assert_eq!(kernel.describe_state(client), "waiting for the servers to finish booting");

    run_clean(&mut kernel);
    let done = kernel.boot_done().expect("the boot ended");
    assert!(done.at_cycles >= 50_000, "the boot waited for the slow server: {}", done.at_cycles);
    assert!(started.get()[0] >= done.at_cycles, "the client ran at {:?}, before the boot ended", started.get());
    assert_eq!(count_events(&kernel, |kind| *kind == EventKind::BootDone), 1);
    // The client's first event after its creation comes after the end of the boot.
    let first_switch =
        position(&kernel, |event| event.process == client && matches!(event.kind, EventKind::Switched { .. }));
    assert!(first_switch.unwrap() > boot_done_position(&kernel));
    // What the boot cost is what both servers had done by then: the slow one's compute and
    // ready, the quick one's ready and the sleep it went on to.
    assert_eq!(done.totals.syscalls, 4, "{:?}", done.totals);
    assert_eq!(done.totals.cycles, done.at_cycles);
}

#[test]
fn a_kernel_told_nothing_of_a_boot_runs_programs_at_once_and_logs_no_boot() {
    let mut kernel = kernel();
    let client = program(&mut kernel, "client", 5);
    let started = Record::new();
    let record = started.clone();
    kernel.start(client, move |sys| async move {
        record.push(sys.now());
        Ok(0)
    });
    run_clean(&mut kernel);
    let switch = kernel.config().profile.context_switch_cycles;
    assert_eq!(started.get(), [switch], "it ran first thing, after the switch to it");
    assert_eq!(kernel.boot_done(), None);
    assert_eq!(count_events(&kernel, |kind| matches!(kind, EventKind::BootDone | EventKind::AwaitingBoot)), 0);
}

#[test]
fn with_no_server_to_wait_for_the_boot_ends_as_the_run_starts() {
    let mut kernel = kernel();
    let client = program(&mut kernel, "client", 5);
    let started = Record::new();
    start_clocked(&mut kernel, client, &started);
    run_clean(&mut kernel);
    assert_eq!(kernel.boot_done().map(|done| done.at_cycles), Some(0));
    assert_eq!(started.get(), [kernel.config().profile.context_switch_cycles]);
}

#[test]
fn a_server_that_dies_while_starting_up_does_not_hold_the_boot_up() {
    let mut kernel = kernel();
    let broken = server(&mut kernel, "broken", 10);
    let client = program(&mut kernel, "client", 5);
    kernel.await_ready(broken);
    kernel.start(broken, |sys| async move {
        sys.compute(1_000).await?;
        Err(ProgramFault::failed(0, "cannot mount"))
    });
    let started = Record::new();
    start_clocked(&mut kernel, client, &started);
    assert_eq!(kernel.run(), &Outcome::Completed);
    assert!(matches!(state(&kernel, broken), ProcessState::Faulted { .. }));
    assert_eq!(started.get().len(), 1, "the client ran");
    let done = kernel.boot_done().expect("the boot ended when the server died");
    assert!(done.at_cycles >= 1_000);
}

#[test]
fn a_held_program_killed_before_the_boot_ends_is_not_started_by_it() {
    let mut kernel = kernel();
    let booting = server(&mut kernel, "booting", 10);
    let victim = program(&mut kernel, "victim", 5);
    kernel.await_ready(booting);
    let handle = kernel.create_process_handle(victim);
    let handle = kernel.grant(booting, handle, Rights::READ | Rights::WRITE, Badge::NONE).unwrap();
    kernel.start(booting, move |sys| async move {
        sys.kill(handle).await?;
        sys.ready().await?;
        stay_alive(sys).await
    });
    let started = Record::new();
    start_clocked(&mut kernel, victim, &started);
    assert_eq!(kernel.run(), &Outcome::Completed);
    assert!(started.get().is_empty(), "a program killed while held never runs");
    assert!(matches!(state(&kernel, victim), ProcessState::Faulted { reason: FaultReason::Killed }));
}

#[test]
fn a_boot_that_never_ends_is_a_deadlock_that_names_the_waiting_programs() {
    let mut kernel = kernel();
    let stuck = server(&mut kernel, "stuck", 10);
    let client = program(&mut kernel, "client", 5);
    kernel.await_ready(stuck);
    kernel.start(stuck, |sys| async move {
        let nothing = sys.create_notification().await?;
        sys.wait(nothing).await?;
        Ok(0)
    });
    start_clocked(&mut kernel, client, &Record::new());
    let Outcome::Deadlock(report) = kernel.run().clone() else { panic!("{:?}", kernel.outcome()) };
    let names: Vec<&str> = report.blocked.iter().map(|blocked| blocked.name.as_str()).collect();
    assert_eq!(names, ["stuck", "client"]);
    assert_eq!(report.blocked[1].description, "waiting for the servers to finish booting");
    assert_eq!(kernel.boot_done(), None);
}

#[test]
fn boot_work_the_kernel_does_itself_moves_the_clock_and_counts_as_boot() {
    let mut kernel = kernel();
    let work = ServiceWork { function_calls: 2, device_cycles: 40_000, interrupts: 2, ..ServiceWork::default() };
    kernel.charge_boot_work(work);
    let profile = kernel.config().profile.clone();
    let expected = 2 * profile.function_call_cycles + 40_000 + 2 * profile.interrupt_cycles;
    assert_eq!(kernel.now(), expected);
    let client = program(&mut kernel, "client", 5);
    let started = Record::new();
    start_clocked(&mut kernel, client, &started);
    run_clean(&mut kernel);
    assert_eq!(kernel.boot_done().map(|done| done.at_cycles), Some(expected));
    assert_eq!(started.get(), [expected + profile.context_switch_cycles]);
    let work_event = find_event(&kernel, |kind| matches!(kind, EventKind::BootWork { .. })).unwrap();
    assert_eq!((work_event.time, work_event.kind), (0, EventKind::BootWork { cycles: expected }));
}

#[test]
fn is_ready_tells_whether_a_restarted_server_has_finished_starting_up_again() {
    let mut kernel = kernel();
    let echo = server(&mut kernel, "echo", 10);
    // Each incarnation takes 10,000 cycles to start up, then reports ready and waits.
    let restarter: Restarter = Rc::new(|kernel: &mut Kernel, id: ProcessId| {
        let endpoint = kernel.create_endpoint(id);
        kernel.start(id, |sys| async move {
            sys.compute(10_000).await?;
            sys.ready().await?;
            stay_alive(sys).await
        });
        endpoint
    });
    kernel.await_ready(echo);
    kernel.boot_restartable(echo, restarter);
    let watcher = program(&mut kernel, "watcher", 20);
    let handle = kernel.create_process_handle(echo);
    let handle = kernel.grant(watcher, handle, Rights::READ | Rights::WRITE, Badge::NONE).unwrap();
    let seen = Record::new();
    let record = seen.clone();
    kernel.start_after_boot(watcher, move |sys| async move {
        record.push(sys.is_ready(handle).await?);
        sys.kill(handle).await?;
        record.push(sys.is_ready(handle).await?);
        sys.restart(handle).await?;
        record.push(sys.is_ready(handle).await?);
        sys.sleep(20_000).await?;
        record.push(sys.is_ready(handle).await?);
        Ok(0)
    });
    run_clean(&mut kernel);
    assert_eq!(seen.get(), [true, false, false, true], "ready, killed, restarting, ready again");
}

#[test]
fn is_ready_needs_the_read_right_on_a_process_handle() {
    let mut kernel = kernel();
    let target = server(&mut kernel, "target", 10);
    kernel.start(target, stay_alive);
    let asker = program(&mut kernel, "asker", 5);
    let handle = kernel.create_process_handle(target);
    let handle = kernel.grant(asker, handle, Rights::WRITE, Badge::NONE).unwrap();
    let endpoint = kernel.create_endpoint(asker);
    let endpoint = kernel.grant(asker, endpoint, Rights::all(), Badge::NONE).unwrap();
    let errors = Record::new();
    let record = errors.clone();
    kernel.start(asker, move |sys| async move {
        record.push(sys.is_ready(handle).await.err());
        record.push(sys.is_ready(endpoint).await.err());
        Ok(0)
    });
    run_clean(&mut kernel);
    assert_eq!(errors.get(), [Some(SysError::InsufficientRights), Some(SysError::WrongObjectKind)]);
}
