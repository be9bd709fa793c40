//! How processes end and what ends with them: exit codes, faults, panics,
//! peers that die mid-conversation, dropped messages, watchers, fault
//! injection, and the basic syscalls every process uses (sleep, compute,
//! yield, clock, random).

mod common;

use common::*;
use mksim_kernel::event::{BlockedOn, DropReason};
use mksim_kernel::message::{MessageId, MessageKind};
use mksim_kernel::syscall::ServiceWork;
use mksim_kernel::*;
use std::panic::{AssertUnwindSafe, catch_unwind};

fn exit_codes(kernel: &Kernel, id: ProcessId) -> Vec<EventKind> {
    events_of(kernel, id)
        .into_iter()
        .filter(|kind| matches!(kind, EventKind::Exited { .. } | EventKind::Faulted { .. }))
        .collect()
}

/// Steps until `id` is in a state `wanted` accepts.
fn step_until(kernel: &mut Kernel, id: ProcessId, wanted: impl Fn(ProcessState) -> bool) {
    while !wanted(state(kernel, id)) {
        assert!(kernel.step(), "the run ended before the process got there:\n{}", kernel.log().render_text());
    }
}

#[test]
fn a_program_that_returns_a_code_exits_with_it() {
    let mut kernel = kernel();
    let id = kernel.spawn(ProcessSpec::program("done", priority(5)), |_sys| async { Ok(3) });
    run_clean(&mut kernel);

    assert_eq!(state(&kernel, id), ProcessState::Exited { code: 3 });
    assert_eq!(exit_codes(&kernel, id), vec![EventKind::Exited { code: 3 }]);
    assert_eq!(kernel.describe_state(id), "exited(3)");
}

#[test]
fn exit_ends_the_program_at_once() {
    let mut kernel = kernel();
    let got = Record::new();
    let seen = got.clone();
    let id = kernel.spawn(ProcessSpec::program("quitter", priority(5)), move |sys| async move {
        let _ = sys.exit(7).await;
        seen.push("ran after exit");
        Ok(1)
    });
    run_clean(&mut kernel);

    assert!(got.get().is_empty());
    assert_eq!(state(&kernel, id), ProcessState::Exited { code: 7 });
    assert_eq!(counters(&kernel, id).syscalls, 1);
}

#[test]
fn an_unhandled_syscall_error_faults_the_process_with_that_error() {
    let mut kernel = kernel();
    let id = kernel.spawn(ProcessSpec::program("careless", priority(5)), |sys| async move {
        sys.signal(Slot(4), 1).await?;
        Ok(0)
    });
    assert!(kernel.run().is_completed(), "a faulted program still ends the run cleanly");

    let reason = FaultReason::UnhandledError(SysError::InvalidCapability);
    assert_eq!(state(&kernel, id), ProcessState::Faulted { reason });
    assert_eq!(exit_codes(&kernel, id), vec![EventKind::Faulted { reason }]);
    assert_eq!(kernel.describe_state(id), "faulted(unhandled error: invalid capability)");
}

#[test]
fn a_program_that_gives_up_is_faulted_with_its_code_and_detail() {
    let mut kernel = kernel();
    let id = kernel.spawn(ProcessSpec::program("quitter", priority(5)), |_sys| async {
        Err(ProgramFault::failed(12, "disk on fire"))
    });
    kernel.run();

    assert_eq!(state(&kernel, id), ProcessState::Faulted { reason: FaultReason::Failed(12) });
    assert_eq!(kernel.process_by_id(id).unwrap().fault_detail(), Some("disk on fire"));
}

#[test]
fn a_panicking_program_is_faulted_and_the_kernel_keeps_running() {
    let mut kernel = kernel();
    let got = Record::new();
    let seen = got.clone();
    let panicker = kernel.spawn(ProcessSpec::program("panicker", priority(10)), |sys| async move {
        sys.clock().await?;
        panic!("boom in the program");
    });
    let survivor = kernel.spawn(ProcessSpec::program("survivor", priority(5)), move |sys| async move {
        sys.compute(1_000).await?;
        seen.push(sys.clock().await?);
        Ok(0)
    });
    assert!(kernel.run().is_completed());

    assert_eq!(state(&kernel, panicker), ProcessState::Faulted { reason: FaultReason::Panicked });
    let detail = kernel.process_by_id(panicker).unwrap().fault_detail().unwrap().to_owned();
    assert!(detail.contains("boom in the program"), "{detail}");
    assert_eq!(state(&kernel, survivor), ProcessState::Exited { code: 0 });
    assert_eq!(got.get().len(), 1);
}

#[test]
fn awaiting_something_that_is_not_a_syscall_faults_with_not_a_syscall() {
    let mut kernel = kernel();
    let got = Record::new();
    let seen = got.clone();
    let id = kernel.spawn(ProcessSpec::program("confused", priority(5)), move |sys| async move {
        sys.clock().await?;
        std::future::pending::<()>().await;
        seen.push("resumed");
        Ok(0)
    });
    assert!(kernel.run().is_completed());

    assert_eq!(state(&kernel, id), ProcessState::Faulted { reason: FaultReason::NotASyscall });
    assert!(got.get().is_empty());
}

/// A server takes one call, then gives up while that caller waits for its
/// reply and a second caller waits to be received.
#[test]
fn callers_blocked_on_a_server_that_dies_get_peer_dead() {
    let mut kernel = kernel();
    let link = link(&mut kernel, 10, 5, Rights::SEND, Badge(1));
    let second = program(&mut kernel, "second", 5);
    let second_call = kernel.grant_derived(second, link.server, link.serve, Rights::SEND, Badge(2)).unwrap();
    let serve = link.serve;
    kernel.start(link.server, move |sys| async move {
        sys.receive(serve).await?;
        sys.sleep(10_000).await?;
        Err(ProgramFault::failed(1, "crashed mid-request"))
    });
    let got = Record::new();
    for (id, slot, label) in [(link.client, link.call, 1), (second, second_call, 2)] {
        let seen = got.clone();
        kernel.start(id, move |sys| async move {
            seen.push((label, sys.call(slot, message(label, b"")).await.map(drop)));
            Ok(0)
        });
    }
    run_expecting_one_fault(&mut kernel, link.server);

    assert_eq!(got.get(), vec![(1, Err(SysError::PeerDead)), (2, Err(SysError::PeerDead))]);
    assert!(events_of(&kernel, link.client).contains(&EventKind::Blocked { on: BlockedOn::Reply(link.server) }));
    assert!(events_of(&kernel, second).contains(&EventKind::Blocked { on: BlockedOn::Send(link.endpoint) }));
    assert_eq!(drops(&kernel), vec![(second, 2, DropReason::ReceiverDied)], "the received call is not dropped");
}

fn run_expecting_one_fault(kernel: &mut Kernel, faulty: ProcessId) {
    assert!(kernel.run().is_completed(), "{}", kernel.log().render_text());
    for process in kernel.processes() {
        let faulted = matches!(process.state(), ProcessState::Faulted { .. });
        assert_eq!(faulted, process.id() == faulty, "{} is {:?}", process.name(), process.state());
    }
}

#[test]
fn a_server_that_deletes_its_reply_capability_unanswered_gives_the_caller_peer_dead() {
    let mut kernel = kernel();
    let link = link(&mut kernel, 10, 5, Rights::SEND, Badge::NONE);
    let got = Record::new();
    let (seen, serve, call) = (got.clone(), link.serve, link.call);
    kernel.start(link.server, move |sys| async move {
        let reply = expect_message(sys.receive(serve).await?).reply.unwrap();
        sys.delete(reply).await?;
        stay_alive(sys).await
    });
    kernel.start(link.client, move |sys| async move {
        seen.push(sys.call(call, message(0, b"")).await.map(drop));
        Ok(0)
    });
    run_clean(&mut kernel);

    assert_eq!(got.get(), vec![Err(SysError::PeerDead)]);
    assert!(state(&kernel, link.server).is_alive(), "the server lives on");
    assert!(drops(&kernel).is_empty());
}

/// The client gives up on its first call, then calls again; the late answer to
/// the first call must not answer the second.
#[test]
fn a_reply_to_a_caller_that_timed_out_is_dropped_and_counted() {
    let mut kernel = kernel();
    let link = link(&mut kernel, 10, 5, Rights::SEND, Badge::NONE);
    let got = Record::new();
    let (seen, serve, call) = (got.clone(), link.serve, link.call);
    kernel.start(link.server, move |sys| async move {
        let first = expect_message(sys.receive(serve).await?).reply.unwrap();
        sys.sleep(50_000).await?;
        let second = expect_message(sys.try_receive(serve).await?).reply.unwrap();
        seen.push(("late reply", sys.reply(first, message(1, b"late")).await.map(|()| 0)));
        seen.push(("second reply", sys.reply(second, message(2, b"")).await.map(|()| 0)));
        stay_alive(sys).await
    });
    let seen = got.clone();
    kernel.start(link.client, move |sys| async move {
        seen.push(("first call", sys.call_timeout(call, message(1, b""), 10_000).await.map(|reply| reply.label)));
        seen.push(("second call", sys.call(call, message(2, b"")).await.map(|reply| reply.label)));
        Ok(0)
    });
    run_clean(&mut kernel);

    assert_eq!(
        got.get(),
        vec![
            ("first call", Err(SysError::TimedOut)),
            ("late reply", Ok(0)),
            ("second reply", Ok(0)),
            ("second call", Ok(2)),
        ]
    );
    assert_eq!(drops(&kernel), vec![(link.server, 1, DropReason::CallerGone)]);
    assert_eq!(counters(&kernel, link.server).messages_dropped, 1);
    assert_eq!(kernel.totals().messages_dropped, 1);
    let woken = EventKind::Woken { call: SyscallKind::Call, error: Some(SysError::TimedOut) };
    assert!(events_of(&kernel, link.client).contains(&woken));
}

#[test]
fn a_reply_to_a_caller_that_died_is_dropped_as_caller_gone() {
    let mut kernel = kernel();
    let link = link(&mut kernel, 10, 5, Rights::SEND, Badge::NONE);
    let got = Record::new();
    let (seen, serve, call) = (got.clone(), link.serve, link.call);
    kernel.start(link.server, move |sys| async move {
        let reply = expect_message(sys.receive(serve).await?).reply.unwrap();
        sys.sleep(10_000).await?;
        seen.push(sys.reply(reply, message(9, b"")).await);
        stay_alive(sys).await
    });
    kernel.start(link.client, move |sys| async move {
        sys.call(call, message(0, b"")).await?;
        Ok(0)
    });
    let other = kernel.spawn(ProcessSpec::program("bystander", priority(1)), |sys| async move {
        sys.sleep(100_000).await?;
        Ok(0)
    });
    step_until(&mut kernel, link.client, |state| matches!(state, ProcessState::ReplyBlocked { .. }));
    assert!(kernel.fault_process(link.client, "killed while waiting"));
    run_expecting_one_fault(&mut kernel, link.client);

    assert_eq!(got.get(), vec![Ok(())], "replying to a dead caller is no error for the server");
    assert_eq!(drops(&kernel), vec![(link.server, 9, DropReason::CallerGone)]);
    assert_eq!(state(&kernel, other), ProcessState::Exited { code: 0 });
}

#[test]
fn queued_async_messages_are_dropped_when_the_receiver_dies() {
    let mut kernel = kernel();
    let receiver = program(&mut kernel, "receiver", 1);
    let early = program(&mut kernel, "early", 10);
    let late = program(&mut kernel, "late", 10);
    let queue = kernel.create_queue(receiver, 2, FullPolicy::Block);
    let take = kernel.grant(receiver, queue, Rights::all(), Badge::NONE).unwrap();
    let early_put = kernel.grant_derived(early, receiver, take, Rights::SEND | Rights::GRANT, Badge::NONE).unwrap();
    let late_put = kernel.grant_derived(late, receiver, take, Rights::SEND, Badge::NONE).unwrap();
    let got = Record::new();
    let seen = got.clone();
    kernel.start(early, move |sys| async move {
        sys.send(early_put, message(1, b"").with_copy(early_put, Rights::SEND)).await?;
        sys.send(early_put, message(2, b"")).await?;
        seen.push(("early", sys.clock().await.map(drop)));
        stay_alive(sys).await
    });
    let seen = got.clone();
    kernel.start(late, move |sys| async move {
        seen.push(("late", sys.send(late_put, message(3, b"")).await));
        Ok(0)
    });
    kernel.start(receiver, |_sys| async { Ok(0) });
    run_clean(&mut kernel);

    assert_eq!(got.get(), vec![("early", Ok(())), ("late", Err(SysError::PeerDead))]);
    assert_eq!(
        drops(&kernel),
        vec![
            (early, 1, DropReason::ReceiverDied),
            (early, 2, DropReason::ReceiverDied),
            (late, 3, DropReason::ReceiverDied)
        ]
    );
    assert_eq!(counters(&kernel, early).messages_dropped, 2);
    assert_eq!(counters(&kernel, late).messages_dropped, 1);
    assert!(
        kernel.all_capabilities().iter().all(|(holder, _, _)| holder.is_some()),
        "the capability carried by a dropped message was deleted"
    );
}

#[test]
fn a_message_waiting_with_a_sender_that_is_faulted_is_dropped_as_sender_died() {
    let mut kernel = kernel();
    let link = link(&mut kernel, 1, 10, Rights::SEND, Badge::NONE);
    let got = Record::new();
    let (seen, serve, call) = (got.clone(), link.serve, link.call);
    kernel.start(link.client, move |sys| async move {
        sys.send(call, message(5, b"")).await?;
        Ok(0)
    });
    kernel.start(link.server, move |sys| async move {
        seen.push(sys.try_receive(serve).await.map(drop));
        stay_alive(sys).await
    });
    step_until(&mut kernel, link.client, |state| matches!(state, ProcessState::SendBlocked { .. }));
    assert!(kernel.fault_process(link.client, "injected"));
    assert!(!kernel.fault_process(link.client, "again"), "an ended process cannot be faulted twice");
    run_expecting_one_fault(&mut kernel, link.client);

    assert_eq!(got.get(), vec![Err(SysError::WouldBlock)]);
    assert_eq!(drops(&kernel), vec![(link.client, 5, DropReason::SenderDied)]);
    assert_eq!(state(&kernel, link.client), ProcessState::Faulted { reason: FaultReason::Injected });
    assert_eq!(kernel.process_by_id(link.client).unwrap().fault_detail(), Some("injected"));
    assert!(kernel.capabilities(link.client).is_empty());
}

#[test]
fn fault_process_stops_a_process_in_the_middle_of_a_computation() {
    let mut kernel = kernel();
    let worker = kernel.spawn(ProcessSpec::program("worker", priority(5)), |sys| async move {
        sys.compute(1_000_000).await?;
        Ok(0)
    });
    let got = Record::new();
    let seen = got.clone();
    kernel.spawn(ProcessSpec::program("other", priority(1)), move |sys| async move {
        seen.push(sys.clock().await?);
        Ok(0)
    });
    let computed = |kernel: &Kernel| -> u64 {
        events_of(kernel, worker)
            .into_iter()
            .map(|kind| match kind {
                EventKind::Computed { cycles } => cycles,
                _ => 0,
            })
            .sum()
    };
    while computed(&kernel) == 0 {
        assert!(kernel.step());
    }
    assert_eq!(state(&kernel, worker), ProcessState::Running);
    assert!(kernel.fault_process(worker, "pulled the plug"));
    run_expecting_one_fault(&mut kernel, worker);

    assert!(computed(&kernel) < 1_000_000);
    assert_eq!(got.get().len(), 1, "the other program ran once the worker was gone");
    assert_eq!(state(&kernel, worker), ProcessState::Faulted { reason: FaultReason::Injected });
}

#[test]
fn fault_process_refuses_a_process_that_already_exited() {
    let mut kernel = kernel();
    let id = kernel.spawn(ProcessSpec::program("done", priority(5)), |_sys| async { Ok(0) });
    run_clean(&mut kernel);

    assert!(!kernel.fault_process(id, "too late"));
    assert_eq!(state(&kernel, id), ProcessState::Exited { code: 0 });
    assert_eq!(kernel.process_by_id(id).unwrap().fault_detail(), None);
}

#[test]
fn receivers_waiting_on_ports_whose_owner_dies_get_peer_dead() {
    let mut kernel = kernel();
    let owner = program(&mut kernel, "owner", 1);
    let endpoint = kernel.create_endpoint(owner);
    let queue = kernel.create_queue(owner, 2, FullPolicy::Block);
    let got = Record::new();
    for (name, object) in [("endpoint receiver", endpoint), ("queue receiver", queue)] {
        let receiver = program(&mut kernel, name, 10);
        let slot = kernel.grant(receiver, object, Rights::RECEIVE, Badge::NONE).unwrap();
        let seen = got.clone();
        kernel.start(receiver, move |sys| async move {
            seen.push((name, sys.receive(slot).await.map(drop)));
            Ok(0)
        });
    }
    kernel.start(owner, |_sys| async { Ok(0) });
    run_clean(&mut kernel);

    assert_eq!(
        got.get(),
        vec![("endpoint receiver", Err(SysError::PeerDead)), ("queue receiver", Err(SysError::PeerDead))]
    );
}

#[test]
fn an_ended_process_holds_no_capabilities_and_the_objects_it_owned_are_gone() {
    let mut kernel = kernel();
    let owner = program(&mut kernel, "owner", 5);
    let endpoint = kernel.create_endpoint(owner);
    let word = kernel.create_notification(owner);
    kernel.grant(owner, endpoint, Rights::all(), Badge::NONE).unwrap();
    kernel.grant(owner, word, Rights::all(), Badge::NONE).unwrap();
    kernel.start(owner, |sys| async move {
        sys.create_region(16).await?;
        Ok(0)
    });
    run_clean(&mut kernel);

    assert!(kernel.capabilities(owner).is_empty());
    assert_eq!((kernel.object_kind(endpoint), kernel.object_kind(word)), (None, None));
    assert!(kernel.all_capabilities().is_empty());
}

/// Who watches whom: a watcher holding a handle on `target` and a notification.
fn watcher(kernel: &mut Kernel, target: ProcessId, badge: Badge) -> (ProcessId, Slot, Slot) {
    let watcher = program(kernel, "watcher", 10);
    let handle = kernel.create_process_handle(target);
    let handle = kernel.grant(watcher, handle, Rights::READ, Badge::NONE).unwrap();
    let word = kernel.create_notification(watcher);
    let word = kernel.grant(watcher, word, Rights::all(), badge).unwrap();
    (watcher, handle, word)
}

#[test]
fn watch_signals_a_notification_when_the_watched_process_dies() {
    let mut kernel = kernel();
    let target = program(&mut kernel, "target", 5);
    let (watcher, handle, word) = watcher(&mut kernel, target, Badge(0b100));
    let got = Record::new();
    let seen = got.clone();
    kernel.start(watcher, move |sys| async move {
        sys.watch(handle, word, 0b1).await?;
        seen.push(sys.wait(word).await?);
        Ok(0)
    });
    kernel.start(target, |sys| async move {
        sys.sleep(5_000).await?;
        Err(ProgramFault::failed(2, "gone"))
    });
    run_expecting_one_fault(&mut kernel, target);

    assert_eq!(got.get(), vec![0b101], "the watch bits with the notification capability's badge");
    let signal = find_event(&kernel, |kind| matches!(kind, EventKind::Signalled { .. })).unwrap();
    assert_eq!(signal.process, ProcessId::KERNEL);
}

#[test]
fn watch_also_fires_on_a_clean_exit_and_at_once_for_a_process_already_gone() {
    let mut kernel = kernel();
    let target = program(&mut kernel, "target", 20);
    let (watcher, handle, word) = watcher(&mut kernel, target, Badge::NONE);
    let late = program(&mut kernel, "late watcher", 5);
    let late_handle = kernel.create_process_handle(target);
    let late_handle = kernel.grant(late, late_handle, Rights::READ, Badge::NONE).unwrap();
    let late_word = kernel.create_notification(late);
    let late_word = kernel.grant(late, late_word, Rights::all(), Badge::NONE).unwrap();
    let got = Record::new();
    let seen = got.clone();
    kernel.start(target, |sys| async move {
        sys.sleep(1_000).await?;
        Ok(0)
    });
    kernel.start(watcher, move |sys| async move {
        sys.watch(handle, word, 0b10).await?;
        seen.push(("watcher", sys.wait(word).await?));
        Ok(0)
    });
    let seen = got.clone();
    kernel.start(late, move |sys| async move {
        sys.sleep(10_000).await?;
        sys.watch(late_handle, late_word, 0b1000).await?;
        seen.push(("late watcher", sys.poll(late_word).await?));
        Ok(0)
    });
    run_clean(&mut kernel);

    assert_eq!(got.get(), vec![("watcher", 0b10), ("late watcher", 0b1000)]);
}

#[test]
fn watch_refuses_the_wrong_kinds_missing_rights_and_empty_slots() {
    let mut kernel = kernel();
    let target = program(&mut kernel, "target", 1);
    let (watcher, handle, word) = watcher(&mut kernel, target, Badge::NONE);
    let blind = kernel.create_process_handle(target);
    let blind = kernel.grant(watcher, blind, Rights::SEND, Badge::NONE).unwrap();
    let mute = kernel.grant_derived(watcher, watcher, word, Rights::RECEIVE, Badge::NONE).unwrap();
    let endpoint = kernel.create_endpoint(watcher);
    let port = kernel.grant(watcher, endpoint, Rights::all(), Badge::NONE).unwrap();
    let got = Record::new();
    let seen = got.clone();
    kernel.start(watcher, move |sys| async move {
        let empty = Slot(70);
        seen.push(("handle without read", sys.watch(blind, word, 1).await, SysError::InsufficientRights));
        seen.push(("notification without send", sys.watch(handle, mute, 1).await, SysError::InsufficientRights));
        seen.push(("an endpoint as handle", sys.watch(port, word, 1).await, SysError::WrongObjectKind));
        seen.push(("a notification as handle", sys.watch(word, word, 1).await, SysError::WrongObjectKind));
        seen.push(("an endpoint as notification", sys.watch(handle, port, 1).await, SysError::WrongObjectKind));
        seen.push(("an empty handle", sys.watch(empty, word, 1).await, SysError::InvalidCapability));
        seen.push(("an empty notification", sys.watch(handle, empty, 1).await, SysError::InvalidCapability));
        Ok(0)
    });
    kernel.start(target, |sys| async move {
        sys.sleep(1_000_000).await?;
        Ok(0)
    });
    run_clean(&mut kernel);

    let recorded = got.get();
    assert_eq!(recorded.len(), 7);
    for (what, result, expected) in recorded {
        assert_eq!(result, Err(expected), "{what}");
    }
    assert_eq!(count_events(&kernel, |kind| matches!(kind, EventKind::Signalled { .. })), 0, "no watch was set");
}

#[test]
fn a_program_blocked_forever_ends_the_run_in_a_deadlock_report() {
    let mut kernel = kernel();
    let stuck = program(&mut kernel, "stuck", 5);
    let word = kernel.create_notification(stuck);
    let word_slot = kernel.grant(stuck, word, Rights::all(), Badge::NONE).unwrap();
    kernel.start(stuck, move |sys| async move {
        sys.wait(word_slot).await?;
        Ok(0)
    });
    let outcome = kernel.run().clone();

    let Outcome::Deadlock(report) = outcome else { panic!("expected a deadlock, got {outcome:?}") };
    assert_eq!(report.blocked.len(), 1);
    let blocked = &report.blocked[0];
    assert_eq!((blocked.process, blocked.in_cycle), (stuck, false));
    assert_eq!(blocked.state, ProcessState::WaitingNotification { notification: word });
    assert!(blocked.description.starts_with("waiting on notification"), "{}", blocked.description);
}

#[test]
fn servers_left_waiting_do_not_stop_a_clean_end() {
    let mut kernel = kernel();
    let idle = server(&mut kernel, "idle", 5);
    let word = kernel.create_notification(idle);
    let word_slot = kernel.grant(idle, word, Rights::all(), Badge::NONE).unwrap();
    kernel.start(idle, move |sys| async move {
        sys.wait(word_slot).await?;
        Ok(0)
    });
    kernel.spawn(ProcessSpec::program("worker", priority(1)), |_sys| async { Ok(0) });
    run_clean(&mut kernel);

    assert_eq!(state(&kernel, idle), ProcessState::WaitingNotification { notification: word });
}

#[test]
fn the_step_limit_stops_a_run_that_never_ends() {
    let mut kernel = kernel_with(|config| config.step_limit = 50);
    kernel.spawn(ProcessSpec::program("spinner", priority(5)), |sys| async move {
        loop {
            sys.yield_now().await?;
        }
    });
    let outcome = kernel.run().clone();

    assert_eq!(outcome, Outcome::StepLimit { limit: 50 });
    assert_eq!(kernel.steps(), 50);
    assert!(!kernel.step(), "an ended run takes no more steps");
}

#[test]
fn sleep_blocks_for_the_cycles_asked_and_the_clock_shows_it() {
    let mut kernel = kernel();
    let got = Record::new();
    let seen = got.clone();
    let sleeper = kernel.spawn(ProcessSpec::program("sleeper", priority(5)), move |sys| async move {
        let before = sys.clock().await?;
        sys.sleep(25_000).await?;
        let after = sys.clock().await?;
        sys.sleep(0).await?;
        seen.push(after - before);
        Ok(0)
    });
    run_clean(&mut kernel);

    let elapsed = got.get()[0];
    assert!((25_000..30_000).contains(&elapsed), "slept {elapsed} cycles");
    let sleeps = events_of(&kernel, sleeper)
        .into_iter()
        .filter(|kind| matches!(kind, EventKind::Blocked { on: BlockedOn::Sleep(_) }))
        .count();
    assert_eq!(sleeps, 1, "a zero sleep returns at once");
    assert!(counters(&kernel, sleeper).blocked_cycles >= 25_000);
}

#[test]
fn compute_uses_the_processor_for_exactly_the_cycles_asked() {
    let mut kernel = kernel_with(|config| config.timeslice_cycles = 4_000);
    let worker = kernel.spawn(ProcessSpec::program("worker", priority(5)), |sys| async move {
        sys.compute(10_000).await?;
        sys.compute(0).await?;
        Ok(0)
    });
    run_clean(&mut kernel);

    let computed: Vec<_> = events_of(&kernel, worker)
        .into_iter()
        .filter_map(|kind| match kind {
            EventKind::Computed { cycles } => Some(cycles),
            _ => None,
        })
        .collect();
    assert_eq!(computed.iter().sum::<u64>(), 10_000);
    assert!(computed.len() >= 3, "cut into time slices: {computed:?}");
    assert!(counters(&kernel, worker).cycles >= 10_000);
}

#[test]
fn yield_lets_a_process_of_the_same_priority_run_first() {
    let mut kernel = kernel();
    let got = Record::new();
    let seen = got.clone();
    kernel.spawn(ProcessSpec::program("polite", priority(5)), move |sys| async move {
        seen.push("polite before");
        sys.yield_now().await?;
        seen.push("polite after");
        Ok(0)
    });
    let seen = got.clone();
    kernel.spawn(ProcessSpec::program("other", priority(5)), move |sys| async move {
        sys.clock().await?;
        seen.push("other");
        Ok(0)
    });
    run_clean(&mut kernel);

    assert_eq!(got.get(), vec!["polite before", "other", "polite after"]);
}

#[test]
fn a_kernel_service_charges_its_work_to_the_caller_and_records_the_request() {
    let mut kernel = kernel();
    let got = Record::new();
    let seen = got.clone();
    let caller = kernel.spawn(ProcessSpec::program("caller", priority(5)), move |sys| async move {
        let before = sys.clock().await?;
        let work = ServiceWork { function_calls: 10, bytes_copied: 100, interrupts: 2, ..ServiceWork::default() };
        sys.kernel_service(3, b"req".to_vec(), work).await?;
        seen.push(sys.clock().await? - before);
        Ok(0)
    });
    run_clean(&mut kernel);

    let profile = &kernel.config().profile;
    let work = 10 * profile.function_call_cycles + profile.copy_cycles(100) + 2 * profile.interrupt_cycles;
    assert_eq!(got.get(), vec![2 * profile.syscall_cycles + work], "two syscalls and the service's work");
    let counters = counters(&kernel, caller);
    assert_eq!((counters.service_calls, counters.bytes_copied, counters.messages_sent.total()), (1, 100, 0));
    let record = kernel.log().messages()[0];
    assert_eq!((record.kind, record.label, record.sender), (MessageKind::Service, 3, caller));
    assert_eq!(kernel.log().message_data(MessageId(0)), b"req");
    assert_eq!(count_events(&kernel, |kind| matches!(kind, EventKind::ServiceCalled { .. })), 1);
    assert!(!events_of(&kernel, caller).iter().any(|kind| matches!(kind, EventKind::Blocked { .. })));
}

#[test]
fn a_kernel_service_with_device_time_keeps_the_caller_in_the_kernel_until_it_passes() {
    let mut kernel = kernel();
    let got = Record::new();
    let seen = got.clone();
    let caller = kernel.spawn(ProcessSpec::program("caller", priority(5)), move |sys| async move {
        let before = sys.clock().await?;
        sys.kernel_service(4, [], ServiceWork { device_cycles: 20_000, ..ServiceWork::default() }).await?;
        seen.push(sys.clock().await? - before);
        Ok(0)
    });
    step_until(&mut kernel, caller, |state| matches!(state, ProcessState::InKernel { .. }));
    let ProcessState::InKernel { until } = state(&kernel, caller) else { unreachable!() };
    assert_eq!(until, kernel.now() + 20_000);
    run_clean(&mut kernel);

    assert!(got.get()[0] >= 20_000, "{:?}", got.get());
    let events = events_of(&kernel, caller);
    assert!(events.contains(&EventKind::Blocked { on: BlockedOn::Device(until) }));
    assert!(events.contains(&EventKind::Woken { call: SyscallKind::KernelService, error: None }));
}

#[test]
fn operation_markers_are_logged_around_syscalls_and_cost_nothing() {
    let mut kernel = kernel();
    let caller = kernel.spawn(ProcessSpec::program("caller", priority(5)), |sys| async move {
        sys.begin_operation(7);
        sys.clock().await?;
        sys.end_operation(7, true);
        Ok(0)
    });
    run_clean(&mut kernel);

    let marked: Vec<_> = events_of(&kernel, caller)
        .into_iter()
        .filter(|kind| {
            matches!(
                kind,
                EventKind::OperationBegan { .. }
                    | EventKind::OperationEnded { .. }
                    | EventKind::SyscallEntered { .. }
                    | EventKind::Exited { .. }
            )
        })
        .collect();
    assert_eq!(
        marked,
        vec![
            EventKind::OperationBegan { label: 7 },
            EventKind::SyscallEntered { call: SyscallKind::Clock },
            EventKind::OperationEnded { label: 7, failed: true },
            EventKind::Exited { code: 0 },
        ]
    );
    assert_eq!(counters(&kernel, caller).syscalls, 1);
}

fn random_numbers(seed: u64) -> Vec<u64> {
    let mut kernel = kernel_with(|config| config.seed = seed);
    let got = Record::new();
    let seen = got.clone();
    kernel.spawn(ProcessSpec::program("dice", priority(5)), move |sys| async move {
        for _ in 0..4 {
            seen.push(sys.random().await?);
        }
        Ok(0)
    });
    run_clean(&mut kernel);
    got.get()
}

#[test]
fn random_numbers_depend_only_on_the_seed() {
    let first = random_numbers(7);
    assert_eq!(first, random_numbers(7));
    assert_ne!(first, random_numbers(8));
    assert!(first.windows(2).any(|pair| pair[0] != pair[1]));
}

#[test]
fn faulting_a_program_that_was_never_started_leaves_the_others_running() {
    let mut kernel = kernel();
    let got = Record::new();
    let seen = got.clone();
    let worker = kernel.spawn(ProcessSpec::program("worker", priority(5)), move |sys| async move {
        sys.sleep(10_000).await?;
        seen.push("finished");
        Ok(0)
    });
    let never_started = program(&mut kernel, "never started", 5);
    assert!(kernel.step());
    assert!(kernel.fault_process(never_started, "unused"));
    run_expecting_one_fault(&mut kernel, never_started);

    assert_eq!(got.get(), vec!["finished"]);
    assert_eq!(state(&kernel, worker), ProcessState::Exited { code: 0 });
}

#[test]
fn faulting_the_only_program_before_it_was_started_ends_the_run_cleanly() {
    let mut kernel = kernel();
    let never_started = program(&mut kernel, "never started", 5);
    assert!(kernel.fault_process(never_started, "unused"));
    run_expecting_one_fault(&mut kernel, never_started);
}

/// `ProcessState::is_alive` says an ended process can never run again, and ids
/// say a restart moves the generation on; `start` on an ended process should
/// refuse (panic, as for a second start) rather than run it again as the same
/// incarnation, ending twice.
#[test]
fn an_ended_process_cannot_be_started_again_under_the_same_id() {
    let mut kernel = kernel();
    let id = kernel.spawn(ProcessSpec::program("once", priority(5)), |_sys| async { Ok(1) });
    kernel.spawn(ProcessSpec::program("other", priority(1)), |sys| async move {
        sys.sleep(10_000).await?;
        Ok(0)
    });
    step_until(&mut kernel, id, |state| !state.is_alive());
    let restarted = catch_unwind(AssertUnwindSafe(|| {
        kernel.start(id, |sys| async move {
            sys.clock().await?;
            Ok(2)
        });
    }));
    if restarted.is_ok() {
        kernel.run();
    }

    assert_eq!(exit_codes(&kernel, id), vec![EventKind::Exited { code: 1 }], "{}", kernel.log().render_text());
}
