//! Notifications: signal, wait and poll, coalescing, badges, binding to a
//! receiver, timer interrupts, and every way they refuse.

mod common;

use common::*;
use mksim_kernel::event::BlockedOn;
use mksim_kernel::*;

/// A notification owned by `owner`, with every right in `owner`'s first free slot.
fn notification(kernel: &mut Kernel, owner: ProcessId) -> (ObjectId, Slot) {
    let object = kernel.create_notification(owner);
    let slot = kernel.grant(owner, object, Rights::all(), Badge::NONE).unwrap();
    (object, slot)
}

fn interrupt_times(kernel: &Kernel) -> Vec<u64> {
    kernel
        .log()
        .events()
        .iter()
        .filter(|event| matches!(event.kind, EventKind::Interrupt { .. }))
        .map(|event| event.time)
        .collect()
}

#[test]
fn a_signal_wakes_a_waiting_process_with_its_bits() {
    let mut kernel = kernel();
    let waiter = program(&mut kernel, "waiter", 10);
    let signaller = program(&mut kernel, "signaller", 5);
    let (word, wait_slot) = notification(&mut kernel, waiter);
    let signal_slot = kernel.grant_derived(signaller, waiter, wait_slot, Rights::SEND, Badge::NONE).unwrap();
    let got = Record::new();
    let seen = got.clone();
    kernel.start(waiter, move |sys| async move {
        seen.push(sys.wait(wait_slot).await?);
        Ok(0)
    });
    kernel.start(signaller, move |sys| async move {
        sys.signal(signal_slot, 0b100).await?;
        Ok(0)
    });
    run_clean(&mut kernel);

    assert_eq!(got.get(), vec![0b100]);
    assert!(events_of(&kernel, waiter).contains(&EventKind::Blocked { on: BlockedOn::Notification(word) }));
    assert!(signals(&kernel).contains(&(signaller, word, 0b100)));
    assert_eq!(counters(&kernel, signaller).notifications_sent, 1);
}

#[test]
fn signals_coalesce_in_the_word_until_a_waiter_takes_them() {
    let mut kernel = kernel();
    let waiter = program(&mut kernel, "waiter", 5);
    let signaller = program(&mut kernel, "signaller", 10);
    let (word, wait_slot) = notification(&mut kernel, waiter);
    let signal_slot = kernel.grant_derived(signaller, waiter, wait_slot, Rights::SEND, Badge::NONE).unwrap();
    let got = Record::new();
    let seen = got.clone();
    kernel.start(signaller, move |sys| async move {
        for bits in [0b001, 0b100, 0b001] {
            sys.signal(signal_slot, bits).await?;
        }
        Ok(0)
    });
    kernel.start(waiter, move |sys| async move {
        seen.push(sys.wait(wait_slot).await?);
        seen.push(sys.poll(wait_slot).await?);
        Ok(0)
    });
    while state(&kernel, signaller).is_alive() {
        assert!(kernel.step(), "the run ended before the signaller did");
    }
    assert_eq!(kernel.notification_bits(word), Some(0b101));
    run_clean(&mut kernel);

    assert_eq!(got.get(), vec![0b101, 0], "wait takes every pending bit and clears the word");
    assert!(!events_of(&kernel, waiter).iter().any(|kind| matches!(kind, EventKind::Blocked { .. })));
}

#[test]
fn poll_returns_zero_when_no_bits_are_pending_and_never_blocks() {
    let mut kernel = kernel();
    let poller = program(&mut kernel, "poller", 5);
    let (_, slot) = notification(&mut kernel, poller);
    let got = Record::new();
    let seen = got.clone();
    kernel.start(poller, move |sys| async move {
        seen.push(sys.poll(slot).await?);
        sys.signal(slot, 0b11).await?;
        seen.push(sys.poll(slot).await?);
        seen.push(sys.poll(slot).await?);
        Ok(0)
    });
    run_clean(&mut kernel);

    assert_eq!(got.get(), vec![0, 0b11, 0]);
    assert!(!events_of(&kernel, poller).iter().any(|kind| matches!(kind, EventKind::Blocked { .. })));
    let polls = count_events(&kernel, |kind| matches!(kind, EventKind::SyscallEntered { call: SyscallKind::Poll }));
    assert_eq!(polls, 3);
}

#[test]
fn the_badges_of_signalling_capabilities_are_ored_into_the_bits() {
    let mut kernel = kernel();
    let waiter = program(&mut kernel, "waiter", 5);
    let (_, wait_slot) = notification(&mut kernel, waiter);
    for (name, badge, bits) in [("left", 0b01, 0), ("right", 0b10, 0b1000)] {
        let signaller = program(&mut kernel, name, 10);
        let slot = kernel.grant_derived(signaller, waiter, wait_slot, Rights::SEND, Badge(badge)).unwrap();
        kernel.start(signaller, move |sys| async move {
            sys.signal(slot, bits).await?;
            Ok(0)
        });
    }
    let got = Record::new();
    let seen = got.clone();
    kernel.start(waiter, move |sys| async move {
        seen.push(sys.wait(wait_slot).await?);
        Ok(0)
    });
    run_clean(&mut kernel);

    assert_eq!(got.get(), vec![0b1011]);
    let signalled: Vec<_> = signals(&kernel).into_iter().map(|(_, _, bits)| bits).collect();
    assert_eq!(signalled, vec![0b01, 0b1010], "the log shows the bits with the badge in");
}

#[test]
fn each_signal_wakes_only_the_first_of_several_waiters() {
    let mut kernel = kernel();
    let owner = program(&mut kernel, "signaller", 5);
    let (_, slot) = notification(&mut kernel, owner);
    let got = Record::new();
    for name in ["first", "second"] {
        let waiter = program(&mut kernel, name, 10);
        let wait_slot = kernel.grant_derived(waiter, owner, slot, Rights::RECEIVE, Badge::NONE).unwrap();
        let seen = got.clone();
        kernel.start(waiter, move |sys| async move {
            seen.push((name, sys.wait(wait_slot).await?));
            Ok(0)
        });
    }
    kernel.start(owner, move |sys| async move {
        sys.signal(slot, 1).await?;
        sys.signal(slot, 2).await?;
        Ok(0)
    });
    run_clean(&mut kernel);

    assert_eq!(got.get(), vec![("first", 1), ("second", 2)]);
}

#[test]
fn a_wait_that_times_out_fails_and_later_bits_stay_pending() {
    let mut kernel = kernel();
    let waiter = program(&mut kernel, "waiter", 10);
    let signaller = program(&mut kernel, "signaller", 5);
    let (_, wait_slot) = notification(&mut kernel, waiter);
    let signal_slot = kernel.grant_derived(signaller, waiter, wait_slot, Rights::SEND, Badge::NONE).unwrap();
    let got = Record::new();
    let seen = got.clone();
    kernel.start(waiter, move |sys| async move {
        let before = sys.clock().await?;
        let result = sys.wait_timeout(wait_slot, 4_000).await;
        seen.push((result, sys.clock().await? - before >= 4_000));
        sys.sleep(20_000).await?;
        seen.push((sys.poll(wait_slot).await, true));
        Ok(0)
    });
    kernel.start(signaller, move |sys| async move {
        sys.sleep(10_000).await?;
        sys.signal(signal_slot, 0b10).await?;
        Ok(0)
    });
    run_clean(&mut kernel);

    assert_eq!(got.get(), vec![(Err(SysError::TimedOut), true), (Ok(0b10), true)]);
    assert!(
        events_of(&kernel, waiter)
            .contains(&EventKind::Woken { call: SyscallKind::Wait, error: Some(SysError::TimedOut) })
    );
}

#[test]
fn a_wait_with_a_timeout_returns_bits_that_arrive_in_time() {
    let mut kernel = kernel();
    let waiter = program(&mut kernel, "waiter", 10);
    let signaller = program(&mut kernel, "signaller", 5);
    let (_, wait_slot) = notification(&mut kernel, waiter);
    let signal_slot = kernel.grant_derived(signaller, waiter, wait_slot, Rights::SEND, Badge::NONE).unwrap();
    let got = Record::new();
    let seen = got.clone();
    kernel.start(waiter, move |sys| async move {
        seen.push(sys.wait_timeout(wait_slot, 1_000_000).await);
        Ok(0)
    });
    kernel.start(signaller, move |sys| async move {
        sys.signal(signal_slot, 7).await?;
        Ok(0)
    });
    run_clean(&mut kernel);

    assert_eq!(got.get(), vec![Ok(7)]);
    assert!(kernel.now() < 1_000_000, "the cancelled timeout did not keep the run going");
}

/// A driver with an endpoint and a bound notification; a signaller holding send on the notification.
struct Driver {
    driver: ProcessId,
    signaller: ProcessId,
    word: ObjectId,
    port: Slot,
    bits_in: Slot,
    bits_out: Slot,
}

fn driver(kernel: &mut Kernel, driver_level: u8, signaller_level: u8) -> Driver {
    let driver = program(kernel, "driver", driver_level);
    let signaller = program(kernel, "signaller", signaller_level);
    let queue = kernel.create_queue(driver, 4, FullPolicy::Block);
    let port = kernel.grant(driver, queue, Rights::all(), Badge::NONE).unwrap();
    let (word, bits_in) = notification(kernel, driver);
    let bits_out = kernel.grant_derived(signaller, driver, bits_in, Rights::SEND, Badge::NONE).unwrap();
    Driver { driver, signaller, word, port, bits_in, bits_out }
}

#[test]
fn a_signal_to_a_bound_notification_ends_a_blocking_receive_with_its_bits() {
    let mut kernel = kernel();
    let setup = driver(&mut kernel, 10, 5);
    let got = Record::new();
    let (seen, port, bits_in, bits_out) = (got.clone(), setup.port, setup.bits_in, setup.bits_out);
    kernel.start(setup.driver, move |sys| async move {
        sys.bind_notification(bits_in).await?;
        seen.push(sys.receive(port).await?);
        seen.push(sys.poll(bits_in).await.map(Incoming::Notification)?);
        Ok(0)
    });
    kernel.start(setup.signaller, move |sys| async move {
        sys.signal(bits_out, 0b10).await?;
        Ok(0)
    });
    run_clean(&mut kernel);

    assert_eq!(got.get(), vec![Incoming::Notification(0b10), Incoming::Notification(0)], "the bits were taken");
    let driver_events = events_of(&kernel, setup.driver);
    assert!(driver_events.contains(&EventKind::Woken { call: SyscallKind::Receive, error: None }));
}

#[test]
fn a_bound_notification_is_reported_on_the_process() {
    let mut kernel = kernel();
    let setup = driver(&mut kernel, 10, 5);
    let bits_in = setup.bits_in;
    kernel.start(setup.driver, move |sys| async move {
        sys.bind_notification(bits_in).await?;
        sys.sleep(100).await?;
        Ok(0)
    });
    kernel.start(setup.signaller, |_sys| async { Ok(0) });
    while !matches!(state(&kernel, setup.driver), ProcessState::Sleeping { .. }) {
        assert!(kernel.step());
    }
    assert_eq!(kernel.process_by_id(setup.driver).unwrap().bound_notification(), Some(setup.word));
}

#[test]
fn pending_bound_bits_are_returned_by_the_next_receive_before_queued_messages() {
    let mut kernel = kernel();
    let setup = driver(&mut kernel, 5, 10);
    let sender_port =
        kernel.grant_derived(setup.signaller, setup.driver, setup.port, Rights::SEND, Badge::NONE).unwrap();
    let got = Record::new();
    let (seen, port, bits_in, bits_out) = (got.clone(), setup.port, setup.bits_in, setup.bits_out);
    kernel.start(setup.signaller, move |sys| async move {
        sys.send(sender_port, message(3, b"")).await?;
        sys.signal(bits_out, 0b1).await?;
        sys.signal(bits_out, 0b100).await?;
        Ok(0)
    });
    kernel.start(setup.driver, move |sys| async move {
        sys.bind_notification(bits_in).await?;
        seen.push(sys.try_receive(port).await.map(|incoming| match incoming {
            Incoming::Notification(bits) => ("bits", bits),
            Incoming::Message(received) => ("message", received.label.into()),
        }));
        seen.push(sys.try_receive(port).await.map(|incoming| ("message", expect_message(incoming).label.into())));
        seen.push(sys.try_receive(port).await.map(|_| ("nothing", 0)));
        Ok(0)
    });
    run_clean(&mut kernel);

    assert_eq!(got.get(), vec![Ok(("bits", 0b101)), Ok(("message", 3)), Err(SysError::WouldBlock)]);
}

#[test]
fn a_bound_process_waiting_elsewhere_leaves_the_bits_in_the_word() {
    let mut kernel = kernel();
    let setup = driver(&mut kernel, 10, 5);
    let other_word = kernel.create_notification(setup.driver);
    let other = kernel.grant(setup.driver, other_word, Rights::all(), Badge::NONE).unwrap();
    let other_out = kernel.grant_derived(setup.signaller, setup.driver, other, Rights::SEND, Badge::NONE).unwrap();
    let got = Record::new();
    let (seen, bits_in, bits_out) = (got.clone(), setup.bits_in, setup.bits_out);
    kernel.start(setup.driver, move |sys| async move {
        sys.bind_notification(bits_in).await?;
        seen.push(sys.wait(other).await?);
        seen.push(sys.poll(bits_in).await?);
        Ok(0)
    });
    kernel.start(setup.signaller, move |sys| async move {
        sys.signal(bits_out, 0b10).await?;
        sys.signal(other_out, 0b1).await?;
        Ok(0)
    });
    run_clean(&mut kernel);

    assert_eq!(got.get(), vec![0b1, 0b10]);
}

#[test]
fn binding_refuses_a_second_binding_the_wrong_kind_and_missing_rights() {
    let mut kernel = kernel();
    let first = program(&mut kernel, "first", 10);
    let second = program(&mut kernel, "second", 5);
    let (_, word) = notification(&mut kernel, first);
    let (_, spare) = notification(&mut kernel, first);
    let shared = kernel.grant_derived(second, first, word, Rights::RECEIVE, Badge::NONE).unwrap();
    let send_only = kernel.grant_derived(second, first, spare, Rights::SEND, Badge::NONE).unwrap();
    let endpoint = kernel.create_endpoint(second);
    let port = kernel.grant(second, endpoint, Rights::all(), Badge::NONE).unwrap();
    let got = Record::new();
    let seen = got.clone();
    kernel.start(first, move |sys| async move {
        seen.push(("bind", sys.bind_notification(word).await));
        seen.push(("bind the same again", sys.bind_notification(word).await));
        seen.push(("bind another while bound", sys.bind_notification(spare).await));
        sys.sleep(1_000_000).await?;
        Ok(0)
    });
    let seen = got.clone();
    kernel.start(second, move |sys| async move {
        seen.push(("bind one bound elsewhere", sys.bind_notification(shared).await));
        seen.push(("bind an endpoint", sys.bind_notification(port).await));
        seen.push(("bind without receive", sys.bind_notification(send_only).await));
        seen.push(("bind an empty slot", sys.bind_notification(Slot(30)).await));
        Ok(0)
    });
    run_clean(&mut kernel);

    assert_eq!(
        got.get(),
        vec![
            ("bind", Ok(())),
            ("bind the same again", Err(SysError::InvalidArgument)),
            ("bind another while bound", Err(SysError::InvalidArgument)),
            ("bind one bound elsewhere", Err(SysError::InvalidArgument)),
            ("bind an endpoint", Err(SysError::WrongObjectKind)),
            ("bind without receive", Err(SysError::InsufficientRights)),
            ("bind an empty slot", Err(SysError::InvalidCapability)),
        ]
    );
}

#[test]
fn signal_wait_and_poll_refuse_the_wrong_kind_missing_rights_and_empty_slots() {
    let mut kernel = kernel();
    let owner = program(&mut kernel, "owner", 5);
    let (_, word) = notification(&mut kernel, owner);
    let send_only = kernel.grant_derived(owner, owner, word, Rights::SEND, Badge::NONE).unwrap();
    let receive_only = kernel.grant_derived(owner, owner, word, Rights::RECEIVE, Badge::NONE).unwrap();
    let endpoint = kernel.create_endpoint(owner);
    let port = kernel.grant(owner, endpoint, Rights::all(), Badge::NONE).unwrap();
    let got = Record::new();
    let seen = got.clone();
    kernel.start(owner, move |sys| async move {
        let empty = Slot(50);
        seen.push(("signal an endpoint", sys.signal(port, 1).await, SysError::WrongObjectKind));
        seen.push(("wait on an endpoint", sys.wait(port).await.map(drop), SysError::WrongObjectKind));
        seen.push(("poll an endpoint", sys.poll(port).await.map(drop), SysError::WrongObjectKind));
        seen.push(("signal without send", sys.signal(receive_only, 1).await, SysError::InsufficientRights));
        seen.push(("wait without receive", sys.wait(send_only).await.map(drop), SysError::InsufficientRights));
        seen.push(("poll without receive", sys.poll(send_only).await.map(drop), SysError::InsufficientRights));
        seen.push(("signal an empty slot", sys.signal(empty, 1).await, SysError::InvalidCapability));
        seen.push(("wait on an empty slot", sys.wait(empty).await.map(drop), SysError::InvalidCapability));
        seen.push(("poll an empty slot", sys.poll(empty).await.map(drop), SysError::InvalidCapability));
        Ok(0)
    });
    run_clean(&mut kernel);

    let recorded = got.get();
    assert_eq!(recorded.len(), 9);
    for (what, result, expected) in recorded {
        assert_eq!(result, Err(expected), "{what}");
    }
    assert_eq!(count_events(&kernel, |kind| matches!(kind, EventKind::Signalled { .. })), 0);
}

#[test]
fn a_waiter_gets_peer_dead_when_the_notification_dies_and_so_does_a_later_signal() {
    let mut kernel = kernel();
    let owner = program(&mut kernel, "owner", 5);
    let waiter = program(&mut kernel, "waiter", 10);
    let (_, slot) = notification(&mut kernel, owner);
    let wait_slot = kernel.grant_derived(waiter, owner, slot, Rights::all(), Badge::NONE).unwrap();
    let got = Record::new();
    let seen = got.clone();
    kernel.start(waiter, move |sys| async move {
        seen.push(sys.wait(wait_slot).await.map(drop));
        seen.push(sys.signal(wait_slot, 1).await);
        seen.push(sys.poll(wait_slot).await.map(drop));
        Ok(0)
    });
    kernel.start(owner, |_sys| async { Ok(0) });
    run_clean(&mut kernel);

    assert_eq!(got.get(), vec![Err(SysError::PeerDead); 3]);
}

#[test]
fn a_one_shot_timer_signals_once_after_its_delay() {
    let mut kernel = kernel();
    let sleeper = program(&mut kernel, "sleeper", 5);
    let (word, slot) = notification(&mut kernel, sleeper);
    let got = Record::new();
    let seen = got.clone();
    kernel.start(sleeper, move |sys| async move {
        let armed_at = sys.clock().await?;
        sys.arm_timer(slot, 0b100, 10_000, None).await?;
        let bits = sys.wait(slot).await?;
        seen.push((Ok(bits), sys.clock().await? - armed_at >= 10_000));
        seen.push((sys.wait_timeout(slot, 100_000).await, true));
        Ok(0)
    });
    run_clean(&mut kernel);

    assert_eq!(got.get(), vec![(Ok(0b100), true), (Err(SysError::TimedOut), true)]);
    assert_eq!(interrupt_times(&kernel).len(), 1);
    let interrupt = find_event(&kernel, |kind| matches!(kind, EventKind::Interrupt { .. })).unwrap();
    assert_eq!(interrupt.process, ProcessId::KERNEL);
    assert_eq!(signals(&kernel), vec![(ProcessId::KERNEL, word, 0b100)]);
    assert!(kernel.kernel_cycles() >= kernel.config().profile.interrupt_cycles);
}

#[test]
fn a_periodic_timer_signals_again_and_again() {
    let mut kernel = kernel();
    let sleeper = program(&mut kernel, "sleeper", 5);
    let (_, slot) = notification(&mut kernel, sleeper);
    let minted = kernel.grant_derived(sleeper, sleeper, slot, Rights::SEND, Badge(0b1000)).unwrap();
    let got = Record::new();
    let seen = got.clone();
    kernel.start(sleeper, move |sys| async move {
        sys.arm_timer(minted, 0b1, 1_000, Some(50_000)).await?;
        for _ in 0..3 {
            seen.push(sys.wait(slot).await?);
        }
        Ok(0)
    });
    run_clean(&mut kernel);

    assert_eq!(got.get(), vec![0b1001; 3], "the capability's badge is OR-ed in too");
    let times = interrupt_times(&kernel);
    assert_eq!(times.len(), 3);
    assert!(times.windows(2).all(|pair| pair[1] - pair[0] >= 50_000), "{times:?}");
}

#[test]
fn a_periodic_timer_fires_exactly_one_period_apart() {
    let mut kernel = kernel();
    let sleeper = program(&mut kernel, "sleeper", 5);
    let (_, slot) = notification(&mut kernel, sleeper);
    kernel.start(sleeper, move |sys| async move {
        sys.arm_timer(slot, 0b1, 1_000, Some(50_000)).await?;
        for _ in 0..3 {
            sys.wait(slot).await?;
        }
        Ok(0)
    });
    run_clean(&mut kernel);

    let times = interrupt_times(&kernel);
    let gaps: Vec<_> = times.windows(2).map(|pair| pair[1] - pair[0]).collect();
    assert_eq!(gaps, vec![50_000, 50_000], "interrupts at {times:?}");
}

/// An interrupt costs the kernel more cycles than this timer's period, so the
/// timer is always behind; the run must still move on. The run goes on its own
/// thread so that a kernel stuck in a loop fails the test instead of hanging it
/// (the limit is generous: the run takes well under a millisecond).
#[test]
fn a_periodic_timer_shorter_than_an_interrupt_does_not_stop_the_kernel() {
    let (done, finished) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let mut kernel = kernel();
        let sleeper = program(&mut kernel, "sleeper", 5);
        let (_, slot) = notification(&mut kernel, sleeper);
        let period = kernel.config().profile.interrupt_cycles - 1;
        kernel.start(sleeper, move |sys| async move {
            sys.arm_timer(slot, 0b1, 0, Some(period)).await?;
            for _ in 0..3 {
                sys.wait(slot).await?;
            }
            Ok(0)
        });
        let outcome = kernel.run().clone();
        let _ = done.send(outcome);
    });
    let outcome = finished.recv_timeout(std::time::Duration::from_secs(20));

    assert_eq!(outcome, Ok(Outcome::Completed), "the kernel did not finish the run");
}

#[test]
fn arm_timer_refuses_a_zero_period_the_wrong_kind_missing_rights_and_empty_slots() {
    let mut kernel = kernel();
    let owner = program(&mut kernel, "owner", 5);
    let (_, word) = notification(&mut kernel, owner);
    let receive_only = kernel.grant_derived(owner, owner, word, Rights::RECEIVE, Badge::NONE).unwrap();
    let endpoint = kernel.create_endpoint(owner);
    let port = kernel.grant(owner, endpoint, Rights::all(), Badge::NONE).unwrap();
    let got = Record::new();
    let seen = got.clone();
    kernel.start(owner, move |sys| async move {
        seen.push(("zero period", sys.arm_timer(word, 1, 10, Some(0)).await));
        seen.push(("endpoint", sys.arm_timer(port, 1, 10, None).await));
        seen.push(("receive only", sys.arm_timer(receive_only, 1, 10, None).await));
        seen.push(("empty slot", sys.arm_timer(Slot(40), 1, 10, None).await));
        sys.sleep(1_000).await?;
        Ok(0)
    });
    run_clean(&mut kernel);

    assert_eq!(
        got.get(),
        vec![
            ("zero period", Err(SysError::InvalidArgument)),
            ("endpoint", Err(SysError::WrongObjectKind)),
            ("receive only", Err(SysError::InsufficientRights)),
            ("empty slot", Err(SysError::InvalidCapability)),
        ]
    );
    assert!(interrupt_times(&kernel).is_empty(), "no refused timer was armed");
}

#[test]
fn a_timer_whose_armer_died_never_fires() {
    let mut kernel = kernel();
    let waiter = program(&mut kernel, "waiter", 5);
    let armer = program(&mut kernel, "armer", 10);
    let (_, slot) = notification(&mut kernel, waiter);
    let arm_slot = kernel.grant_derived(armer, waiter, slot, Rights::SEND, Badge::NONE).unwrap();
    let got = Record::new();
    let seen = got.clone();
    kernel.start(armer, move |sys| async move {
        sys.arm_timer(arm_slot, 1, 1_000, None).await?;
        Ok(0)
    });
    kernel.start(waiter, move |sys| async move {
        seen.push(sys.wait_timeout(slot, 50_000).await);
        Ok(0)
    });
    run_clean(&mut kernel);

    assert_eq!(got.get(), vec![Err(SysError::TimedOut)]);
    assert!(interrupt_times(&kernel).is_empty());
}

#[test]
fn a_signal_without_bits_does_not_end_a_wait() {
    let mut kernel = kernel();
    let waiter = program(&mut kernel, "waiter", 10);
    let signaller = program(&mut kernel, "signaller", 5);
    let (_, wait_slot) = notification(&mut kernel, waiter);
    let signal_slot = kernel.grant_derived(signaller, waiter, wait_slot, Rights::SEND, Badge::NONE).unwrap();
    let got = Record::new();
    let seen = got.clone();
    kernel.start(waiter, move |sys| async move {
        seen.push(sys.wait(wait_slot).await?);
        Ok(0)
    });
    kernel.start(signaller, move |sys| async move {
        sys.signal(signal_slot, 0).await?;
        sys.signal(signal_slot, 0b1).await?;
        Ok(0)
    });
    run_clean(&mut kernel);

    assert_eq!(got.get(), vec![0b1], "wait waits until the notification has bits");
}
