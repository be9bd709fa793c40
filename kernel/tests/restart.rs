//! Death on purpose and life again: the kill and restart syscalls on process
//! handles, what a restart makes of the old incarnation's id, the callers a
//! killed server leaves behind, and the faults the kernel injects at set
//! times.

mod common;

use common::*;
use mksim_kernel::*;
use std::rc::Rc;

/// A server booted restartable, and what the test holds on it.
struct Echo {
    /// The first incarnation.
    id: ProcessId,
    /// Its service port.
    endpoint: ObjectId,
}

/// Boots a restartable echo server at priority 10: every incarnation answers each call with
/// one byte, its generation.
fn restartable_echo(kernel: &mut Kernel) -> Echo {
    let id = server(kernel, "echo", 10);
    let restarter: Restarter = Rc::new(|kernel: &mut Kernel, id: ProcessId| {
        let endpoint = kernel.create_endpoint(id);
        let slot = kernel.grant(id, endpoint, Rights::all(), Badge::NONE).expect("a new process has free slots");
        kernel.start(id, move |sys| async move {
            loop {
                let call = expect_message(sys.receive(slot).await?);
                if let Some(reply) = call.reply {
                    sys.reply(reply, message(0, &[id.generation as u8])).await?;
                }
            }
        });
        endpoint
    });
    let endpoint = kernel.boot_restartable(id, restarter);
    Echo { id, endpoint }
}

/// A process `name` at priority 20 holding a handle on `target` with `rights`, in the slot returned.
fn holder(kernel: &mut Kernel, name: &str, target: ProcessId, rights: Rights) -> (ProcessId, Slot) {
    let holder = program(kernel, name, 20);
    let handle = kernel.create_process_handle(target);
    let handle = kernel.grant(holder, handle, rights, Badge::NONE).unwrap();
    (holder, handle)
}

const READ_WRITE: Rights = Rights::READ.union(Rights::WRITE);

fn deaths(kernel: &Kernel, index: u32) -> Vec<(u64, FaultReason)> {
    kernel
        .log()
        .events()
        .iter()
        .filter(|event| event.process.index == index)
        .filter_map(|event| match event.kind {
            EventKind::Faulted { reason } => Some((event.time, reason)),
            _ => None,
        })
        .collect()
}

#[test]
fn kill_needs_the_write_right_on_a_process_handle() {
    let mut kernel = kernel();
    let echo = restartable_echo(&mut kernel);
    let (watcher, read_only) = holder(&mut kernel, "watcher", echo.id, Rights::READ);
    let got = Record::new();
    let seen = got.clone();
    kernel.start(watcher, move |sys| async move {
        seen.push(sys.kill(read_only).await);
        seen.push(sys.restart(read_only).await.map(|_| ()));
        Ok(0)
    });
    run_clean(&mut kernel);

    let refused = Err(SysError::InsufficientRights);
    assert_eq!(got.get(), vec![refused, refused]);
    assert!(state(&kernel, echo.id).is_alive(), "the echo server lives on: {:?}", state(&kernel, echo.id));
}

#[test]
fn kill_with_the_write_right_faults_the_target_as_killed_by_the_holder() {
    let mut kernel = kernel();
    let echo = restartable_echo(&mut kernel);
    let (boss, handle) = holder(&mut kernel, "boss", echo.id, READ_WRITE);
    let got = Record::new();
    let seen = got.clone();
    kernel.start(boss, move |sys| async move {
        sys.sleep(1_000).await?;
        seen.push(sys.kill(handle).await);
        seen.push(sys.kill(handle).await);
        Ok(0)
    });
    run_clean_but(&mut kernel, echo.id);

    assert_eq!(got.get(), vec![Ok(()), Ok(())], "killing the dead again changes nothing and is no error");
    assert_eq!(state(&kernel, echo.id), ProcessState::Faulted { reason: FaultReason::Killed });
    assert_eq!(kernel.process_by_id(echo.id).unwrap().fault_detail(), Some("killed by boss"));
    let died: Vec<FaultReason> = deaths(&kernel, echo.id.index).into_iter().map(|(_, reason)| reason).collect();
    assert_eq!(died, vec![FaultReason::Killed], "one death");
    assert_eq!(kernel.object_kind(echo.endpoint), None, "its port died with it");
}

/// Runs and checks that every program finished and only `victim` was faulted.
fn run_clean_but(kernel: &mut Kernel, victim: ProcessId) {
    let outcome = kernel.run().clone();
    assert!(outcome.is_completed(), "run ended with {outcome:?}\n{}", kernel.log().render_text());
    let faulted: Vec<String> = kernel
        .processes()
        .iter()
        .filter(|process| process.id().index != victim.index)
        .filter(|process| matches!(process.state(), ProcessState::Faulted { .. }))
        .map(|process| format!("{} {:?} {:?}", process.name(), process.state(), process.fault_detail()))
        .collect();
    assert!(faulted.is_empty(), "faulted: {faulted:?}\n{}", kernel.log().render_text());
    assert_no_message_has_two_fates(kernel);
}

#[test]
fn kill_and_restart_refuse_slots_that_hold_no_process_handle() {
    let mut kernel = kernel();
    let echo = restartable_echo(&mut kernel);
    let boss = program(&mut kernel, "boss", 20);
    let port = kernel.grant(boss, echo.endpoint, Rights::all(), Badge::NONE).unwrap();
    let got = Record::new();
    let seen = got.clone();
    kernel.start(boss, move |sys| async move {
        seen.push(sys.kill(port).await);
        seen.push(sys.restart(port).await.map(|_| ()));
        seen.push(sys.kill(Slot(40)).await);
        seen.push(sys.restart(Slot(40)).await.map(|_| ()));
        Ok(0)
    });
    run_clean(&mut kernel);

    let wrong = Err(SysError::WrongObjectKind);
    let empty = Err(SysError::InvalidCapability);
    assert_eq!(got.get(), vec![wrong, wrong, empty, empty]);
}

#[test]
fn restarting_a_live_process_is_an_invalid_argument() {
    let mut kernel = kernel();
    let echo = restartable_echo(&mut kernel);
    let (boss, handle) = holder(&mut kernel, "boss", echo.id, READ_WRITE);
    let got = Record::new();
    let seen = got.clone();
    kernel.start(boss, move |sys| async move {
        seen.push(sys.restart(handle).await.map(|_| ()));
        Ok(0)
    });
    run_clean(&mut kernel);

    assert_eq!(got.get(), vec![Err(SysError::InvalidArgument)]);
    assert_eq!(kernel.processes()[echo.id.index as usize].id(), echo.id, "no new incarnation");
    assert_eq!(count_events(&kernel, |kind| *kind == EventKind::Restarted), 0);
}

#[test]
fn restarting_a_process_that_was_not_booted_restartable_is_an_invalid_argument() {
    let mut kernel = kernel();
    let plain = kernel.spawn(ProcessSpec::server("plain", priority(10)), stay_alive);
    let (boss, handle) = holder(&mut kernel, "boss", plain, READ_WRITE);
    let got = Record::new();
    let seen = got.clone();
    kernel.start(boss, move |sys| async move {
        seen.push(sys.kill(handle).await);
        seen.push(sys.restart(handle).await.map(|_| ()));
        Ok(0)
    });
    run_clean_but(&mut kernel, plain);

    assert_eq!(got.get(), vec![Ok(()), Err(SysError::InvalidArgument)]);
    assert!(!kernel.process_by_id(plain).unwrap().is_restartable());
    assert_eq!(state(&kernel, plain), ProcessState::Faulted { reason: FaultReason::Killed });
}

#[test]
fn a_restart_is_a_new_generation_at_the_same_index_and_the_old_id_is_dead() {
    let mut kernel = kernel();
    let echo = restartable_echo(&mut kernel);
    let (boss, handle) = holder(&mut kernel, "boss", echo.id, READ_WRITE);
    let old_port = kernel.grant(boss, echo.endpoint, Rights::SEND, Badge::NONE).unwrap();
    let got = Record::new();
    let seen = got.clone();
    kernel.start(boss, move |sys| async move {
        seen.push(format!("{:?}", sys.call(old_port, message(1, b"")).await.map(|answer| answer.data)));
        sys.kill(handle).await?;
        let new_port = sys.restart(handle).await?;
        seen.push(format!("{:?}", sys.call(new_port, message(1, b"")).await.map(|answer| answer.data)));
        seen.push(format!("{:?}", sys.call(old_port, message(1, b"")).await.map(|answer| answer.data)));
        // The handle follows the new incarnation: it can be killed and restarted again.
        sys.kill(handle).await?;
        let newer_port = sys.restart(handle).await?;
        seen.push(format!("{:?}", sys.call(newer_port, message(1, b"")).await.map(|answer| answer.data)));
        Ok(0)
    });
    run_clean_but(&mut kernel, echo.id);

    assert_eq!(got.get(), vec!["Ok([0])", "Ok([1])", "Err(PeerDead)", "Ok([2])"]);
    let current = kernel.processes()[echo.id.index as usize].id();
    assert_eq!(current, ProcessId { index: echo.id.index, generation: 2 });
    assert!(kernel.process_by_id(echo.id).is_none(), "the first incarnation's id names nothing now");
    assert!(kernel.process_by_id(current).unwrap().state().is_alive());
    assert_eq!(kernel.processes().len(), 2, "no new place in the process table");
    let restarted: Vec<ProcessId> = kernel
        .log()
        .events()
        .iter()
        .filter(|event| event.kind == EventKind::Restarted)
        .map(|event| event.process)
        .collect();
    assert_eq!(restarted, vec![ProcessId { generation: 1, ..echo.id }, current]);
    assert_eq!(
        deaths(&kernel, echo.id.index).into_iter().map(|(_, reason)| reason).collect::<Vec<_>>(),
        vec![FaultReason::Killed, FaultReason::Killed]
    );
}

#[test]
fn a_stale_handle_cannot_restart_what_another_handle_already_restarted() {
    let mut kernel = kernel();
    let echo = restartable_echo(&mut kernel);
    let (first, first_handle) = holder(&mut kernel, "first", echo.id, READ_WRITE);
    let (second, second_handle) = holder(&mut kernel, "second", echo.id, READ_WRITE);
    let got = Record::new();
    let seen = got.clone();
    kernel.start(first, move |sys| async move {
        sys.kill(first_handle).await?;
        seen.push(("first", sys.restart(first_handle).await.map(|_| ())));
        sys.sleep(10_000).await?;
        seen.push(("first", sys.kill(first_handle).await));
        Ok(0)
    });
    let seen = got.clone();
    kernel.start(second, move |sys| async move {
        sys.sleep(1_000).await?;
        seen.push(("second", sys.restart(second_handle).await.map(|_| ())));
        // Its handle names the first incarnation: killing through it leaves the second alone,
        sys.kill(second_handle).await?;
        sys.sleep(20_000).await?;
        // and once the second incarnation is dead too, it cannot restart it either.
        seen.push(("second", sys.restart(second_handle).await.map(|_| ())));
        Ok(0)
    });
    run_clean_but(&mut kernel, echo.id);

    let refused = Err(SysError::InvalidArgument);
    assert_eq!(got.get(), vec![("first", Ok(())), ("second", refused), ("first", Ok(())), ("second", refused)]);
    let current = kernel.processes()[echo.id.index as usize].id();
    assert_eq!(current.generation, 1);
    assert_eq!(state(&kernel, current), ProcessState::Faulted { reason: FaultReason::Killed });
    assert_eq!(kernel.process_by_id(current).unwrap().fault_detail(), Some("killed by first"));
}

/// An endpoint server that takes one call and never answers it, holding the reply.
fn hanging_server(kernel: &mut Kernel) -> (ProcessId, Slot) {
    let hung = server(kernel, "hung", 10);
    let endpoint = kernel.create_endpoint(hung);
    let slot = kernel.grant(hung, endpoint, Rights::all(), Badge::NONE).unwrap();
    kernel.start(hung, move |sys| async move {
        let _held = sys.receive(slot).await?;
        stay_alive(sys).await
    });
    (hung, slot)
}

#[test]
fn callers_waiting_on_a_killed_server_get_peer_dead() {
    let mut kernel = kernel();
    let (hung, slot) = hanging_server(&mut kernel);
    let got = Record::new();
    let mut callers = Vec::new();
    for name in ["replied-to", "queued"] {
        let caller = program(&mut kernel, name, 5);
        let port = kernel.grant_derived(caller, hung, slot, Rights::SEND, Badge::NONE).unwrap();
        let seen = got.clone();
        kernel.start(caller, move |sys| async move {
            seen.push((name, sys.call(port, message(1, name.as_bytes())).await.map(|_| ())));
            Ok(0)
        });
        callers.push(caller);
    }
    let (boss, handle) = holder(&mut kernel, "boss", hung, READ_WRITE);
    kernel.start(boss, move |sys| async move {
        sys.sleep(50_000).await?;
        sys.kill(handle).await?;
        Ok(0)
    });
    let mut reply_blocked = false;
    while kernel.now() < 50_000 && kernel.step() {
        reply_blocked |=
            matches!(state(&kernel, callers[0]), ProcessState::ReplyBlocked { server, .. } if server == hung);
    }
    assert!(reply_blocked, "the first caller waits for the hung server's reply");
    assert!(matches!(state(&kernel, callers[1]), ProcessState::SendBlocked { .. }), "{:?}", state(&kernel, callers[1]));
    run_clean_but(&mut kernel, hung);

    let dead = Err(SysError::PeerDead);
    assert_eq!(got.get(), vec![("replied-to", dead), ("queued", dead)]);
}

#[test]
fn a_process_can_kill_itself_through_its_own_handle() {
    let mut kernel = kernel();
    let got = Record::new();
    let seen = got.clone();
    let id = program(&mut kernel, "quitter", 5);
    let handle = kernel.create_process_handle(id);
    let handle = kernel.grant(id, handle, READ_WRITE, Badge::NONE).unwrap();
    kernel.start(id, move |sys| async move {
        let _ = sys.kill(handle).await;
        seen.push("ran after its own kill");
        Ok(0)
    });
    assert!(kernel.run().is_completed());

    assert!(got.get().is_empty());
    assert_eq!(state(&kernel, id), ProcessState::Faulted { reason: FaultReason::Killed });
    assert_eq!(kernel.process_by_id(id).unwrap().fault_detail(), Some("killed by quitter"));
}

#[test]
fn a_watch_on_the_restarted_incarnation_signals_its_death() {
    let mut kernel = kernel();
    let echo = restartable_echo(&mut kernel);
    let (boss, handle) = holder(&mut kernel, "boss", echo.id, READ_WRITE);
    let word = kernel.create_notification(boss);
    let word = kernel.grant(boss, word, Rights::all(), Badge::NONE).unwrap();
    let got = Record::new();
    let seen = got.clone();
    kernel.start(boss, move |sys| async move {
        sys.watch(handle, word, 0b1).await?;
        sys.kill(handle).await?;
        seen.push(sys.wait(word).await?);
        sys.restart(handle).await?;
        // The first watch went with the first incarnation; only the new one's signals now.
        sys.watch(handle, word, 0b10).await?;
        sys.kill(handle).await?;
        seen.push(sys.wait(word).await?);
        seen.push(sys.poll(word).await?);
        Ok(0)
    });
    run_clean_but(&mut kernel, echo.id);

    assert_eq!(got.get(), vec![0b1, 0b10, 0]);
}

#[test]
fn a_scheduled_crash_strikes_at_its_time_even_an_idle_process_and_once() {
    let mut kernel = kernel();
    let echo = restartable_echo(&mut kernel);
    let bystander = kernel.spawn(ProcessSpec::program("bystander", priority(5)), |sys| async move {
        sys.sleep(20_000).await?;
        Ok(0)
    });
    kernel.schedule_crash(7_000, echo.id.index);
    kernel.schedule_crash(9_000, echo.id.index);
    run_clean_but(&mut kernel, echo.id);

    let injected: Vec<(u64, ProcessId, EventKind)> = kernel
        .log()
        .events()
        .iter()
        .filter(|event| matches!(event.kind, EventKind::FaultInjected { .. }))
        .map(|event| (event.time, event.process, event.kind))
        .collect();
    assert_eq!(injected, vec![(7_000, echo.id, EventKind::FaultInjected { fault: InjectedFault::Crash })]);
    assert_eq!(deaths(&kernel, echo.id.index), vec![(7_000, FaultReason::Injected)], "the dead are not crashed twice");
    assert_eq!(kernel.process_by_id(echo.id).unwrap().fault_detail(), Some("injected crash"));
    assert_eq!(state(&kernel, bystander), ProcessState::Exited { code: 0 });
}

#[test]
fn a_scheduled_panic_stops_the_system_and_reports_every_live_process() {
    let mut kernel = kernel();
    let echo = restartable_echo(&mut kernel);
    let done = kernel.spawn(ProcessSpec::program("done", priority(5)), |_sys| async { Ok(0) });
    let sleeper = kernel.spawn(ProcessSpec::program("sleeper", priority(5)), |sys| async move {
        sys.sleep(1_000_000).await?;
        Ok(0)
    });
    kernel.schedule_panic(7_000, InjectedFault::Hang, "hang in the disk module");
    let outcome = kernel.run().clone();

    let Outcome::KernelPanic(report) = outcome else { panic!("{outcome:?}") };
    assert_eq!((report.time, report.culprit, report.fault), (7_000, ProcessId::KERNEL, InjectedFault::Hang));
    assert_eq!(report.detail, "hang in the disk module");
    let lost: Vec<(ProcessId, &str, bool)> =
        report.lost.iter().map(|lost| (lost.process, lost.name.as_str(), lost.is_server)).collect();
    assert_eq!(lost, vec![(echo.id, "echo", true), (sleeper, "sleeper", false)]);
    assert!(report.lost[1].description.starts_with("sleeping until"), "{}", report.lost[1].description);
    assert_eq!(state(&kernel, done), ProcessState::Exited { code: 0 });
    assert_eq!(kernel.now(), 7_000);
    let last: Vec<EventKind> = event_kinds(&kernel).into_iter().rev().take(2).collect();
    assert_eq!(
        last,
        vec![
            EventKind::RunEnded { outcome: event::OutcomeKind::KernelPanic },
            EventKind::KernelPanicked { fault: InjectedFault::Hang }
        ]
    );
}

/// A system where a boss kills and restarts the echo server three times while a client calls it.
fn restarting_system(seed: u64) -> Kernel {
    let mut kernel = kernel_with(|config| config.seed = seed);
    let echo = restartable_echo(&mut kernel);
    let (boss, handle) = holder(&mut kernel, "boss", echo.id, READ_WRITE);
    let caller = program(&mut kernel, "caller", 5);
    let port = kernel.grant(caller, echo.endpoint, Rights::SEND, Badge::NONE).unwrap();
    kernel.start(caller, move |sys| async move {
        for _ in 0..10 {
            let _ = sys.call(port, message(1, b"ping")).await;
            sys.sleep(sys.random().await? % 2_000).await?;
        }
        Ok(0)
    });
    kernel.start(boss, move |sys| async move {
        for _ in 0..3 {
            sys.sleep(1_000 + sys.random().await? % 3_000).await?;
            sys.kill(handle).await?;
            sys.restart(handle).await?;
        }
        Ok(0)
    });
    kernel.schedule_crash(4_000, echo.id.index);
    kernel
}

#[test]
fn kills_restarts_and_scheduled_crashes_give_the_same_log_for_the_same_seed() {
    let run = |seed| {
        let mut kernel = restarting_system(seed);
        kernel.run();
        kernel.log().clone()
    };
    let first = run(11);
    assert_eq!(first, run(11));
    assert_eq!(first.render_text(), run(11).render_text());
    assert!(first.events().iter().any(|event| event.kind == EventKind::Restarted));
    assert_ne!(first, run(12), "another seed kills at other times");
}

#[test]
fn a_restart_that_cannot_hand_back_the_port_restarts_nothing() {
    let mut kernel = kernel_with(|config| config.limits.capability_slots_max = 2);
    let echo = restartable_echo(&mut kernel);
    let (boss, handle) = holder(&mut kernel, "boss", echo.id, READ_WRITE);
    let filler = kernel.grant(boss, echo.endpoint, Rights::SEND, Badge::NONE).unwrap();
    let got = Record::new();
    let seen = got.clone();
    kernel.start(boss, move |sys| async move {
        sys.kill(handle).await?;
        // The boss's table is full: the new incarnation's port has nowhere to go.
        seen.push(format!("{:?}", sys.restart(handle).await));
        sys.delete(filler).await?;
        let port = sys.restart(handle).await?;
        seen.push(format!("{:?}", sys.call(port, message(1, b"")).await.map(|answer| answer.data)));
        Ok(0)
    });
    run_clean_but(&mut kernel, echo.id);

    assert_eq!(got.get(), vec!["Err(QuotaExceeded)", "Ok([1])"]);
    assert_eq!(count_events(&kernel, |kind| *kind == EventKind::Restarted), 1, "one restart, the one that succeeded");
}
