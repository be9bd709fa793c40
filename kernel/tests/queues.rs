//! Asynchronous queue ports: FIFO delivery, capacity, the block and fail
//! policies, non-blocking and timed variants, and closed receives.

mod common;

use common::*;
use mksim_kernel::event::{BlockedOn, DropReason};
use mksim_kernel::message::MessageKind;
use mksim_kernel::*;

/// A consumer owning a queue port and a producer allowed to send to it.
struct Pipe {
    consumer: ProcessId,
    producer: ProcessId,
    queue: ObjectId,
    take: Slot,
    put: Slot,
}

fn pipe(kernel: &mut Kernel, capacity: u32, policy: FullPolicy, consumer_level: u8, producer_level: u8) -> Pipe {
    let consumer = program(kernel, "consumer", consumer_level);
    let producer = program(kernel, "producer", producer_level);
    let queue = kernel.create_queue(consumer, capacity, policy);
    let take = kernel.grant(consumer, queue, Rights::all(), Badge::NONE).unwrap();
    let put = kernel.grant_derived(producer, consumer, take, Rights::SEND, Badge::NONE).unwrap();
    Pipe { consumer, producer, queue, take, put }
}

/// Starts a consumer that receives `count` messages and records their labels.
fn consume(kernel: &mut Kernel, pipe: &Pipe, count: usize) -> Record<u32> {
    let got = Record::new();
    let (seen, take) = (got.clone(), pipe.take);
    kernel.start(pipe.consumer, move |sys| async move {
        for _ in 0..count {
            seen.push(expect_message(sys.receive(take).await?).label);
        }
        Ok(0)
    });
    got
}

fn blocked_events(kernel: &Kernel, id: ProcessId) -> usize {
    events_of(kernel, id).iter().filter(|kind| matches!(kind, EventKind::Blocked { .. })).count()
}

#[test]
fn messages_wait_in_a_queue_and_are_received_in_the_order_they_were_sent() {
    let mut kernel = kernel();
    let pipe = pipe(&mut kernel, 4, FullPolicy::Block, 5, 10);
    let put = pipe.put;
    kernel.start(pipe.producer, move |sys| async move {
        for label in 1..=3 {
            sys.send(put, message(label, b"abc")).await?;
        }
        Ok(0)
    });
    let got = consume(&mut kernel, &pipe, 3);
    run_clean(&mut kernel);

    assert_eq!(got.get(), vec![1, 2, 3]);
    assert_eq!(blocked_events(&kernel, pipe.producer), 0, "sending into a queue with room never blocks");
    assert_eq!(counters(&kernel, pipe.producer).messages_sent.asynchronous, 3);
    assert!(kernel.log().messages().iter().all(|record| record.kind == MessageKind::Async));
    assert_eq!(counters(&kernel, pipe.consumer).messages_received, 3);
}

#[test]
fn a_queue_counts_its_messages_bytes_and_deepest_backlog() {
    let mut kernel = kernel();
    let pipe = pipe(&mut kernel, 4, FullPolicy::Block, 5, 10);
    let (put, take) = (pipe.put, pipe.take);
    kernel.start(pipe.producer, move |sys| async move {
        for label in 1..=3 {
            sys.send(put, message(label, b"abc")).await?;
        }
        Ok(0)
    });
    kernel.start(pipe.consumer, move |sys| async move {
        for _ in 0..3 {
            sys.receive(take).await?;
        }
        sys.sleep(1).await?;
        Ok(0)
    });
    while !matches!(state(&kernel, pipe.consumer), ProcessState::Sleeping { .. }) {
        assert!(kernel.step(), "the run ended early");
    }
    let counters = kernel.port_counters(pipe.queue).unwrap();
    assert_eq!((counters.messages, counters.bytes, counters.depth_max, counters.dropped), (3, 9, 3, 0));
}

#[test]
fn a_send_to_a_receiver_waiting_on_an_empty_queue_is_handed_over_at_once() {
    let mut kernel = kernel();
    let pipe = pipe(&mut kernel, 4, FullPolicy::Block, 10, 5);
    let put = pipe.put;
    let got = consume(&mut kernel, &pipe, 1);
    kernel.start(pipe.producer, move |sys| async move {
        sys.send(put, message(9, b"")).await?;
        Ok(0)
    });
    run_clean(&mut kernel);

    assert_eq!(got.get(), vec![9]);
    assert!(events_of(&kernel, pipe.consumer).contains(&EventKind::Blocked { on: BlockedOn::Receive(pipe.queue) }));
}

#[test]
fn a_full_queue_with_fail_policy_refuses_the_send() {
    let mut kernel = kernel();
    let pipe = pipe(&mut kernel, 2, FullPolicy::Fail, 5, 10);
    let refused = Record::new();
    let (seen, put) = (refused.clone(), pipe.put);
    kernel.start(pipe.producer, move |sys| async move {
        sys.send(put, message(1, b"")).await?;
        sys.send(put, message(2, b"")).await?;
        seen.push(("send", sys.send(put, message(3, b"")).await));
        seen.push(("try_send", sys.try_send(put, message(4, b"")).await));
        seen.push(("send_timeout", sys.send_timeout(put, message(5, b""), 1_000).await));
        Ok(0)
    });
    let got = consume(&mut kernel, &pipe, 2);
    run_clean(&mut kernel);

    let full = Err(SysError::QueueFull);
    assert_eq!(refused.get(), vec![("send", full), ("try_send", full), ("send_timeout", full)]);
    assert_eq!(got.get(), vec![1, 2]);
    assert_eq!(blocked_events(&kernel, pipe.producer), 0);
    assert_eq!(kernel.log().messages().len(), 2, "refused messages are never recorded");
    assert!(drops(&kernel).is_empty());
}

#[test]
fn a_fail_policy_queue_takes_messages_again_once_a_receive_makes_room() {
    let mut kernel = kernel();
    let consumer = program(&mut kernel, "consumer", 5);
    let queue = kernel.create_queue(consumer, 1, FullPolicy::Fail);
    let take = kernel.grant(consumer, queue, Rights::all(), Badge::NONE).unwrap();
    let got = Record::new();
    let seen = got.clone();
    kernel.start(consumer, move |sys| async move {
        seen.push(sys.try_send(take, message(1, b"")).await.map(|()| 0));
        seen.push(sys.try_send(take, message(2, b"")).await.map(|()| 0));
        seen.push(sys.try_receive(take).await.map(|incoming| expect_message(incoming).label));
        seen.push(sys.try_send(take, message(3, b"")).await.map(|()| 0));
        seen.push(sys.try_receive(take).await.map(|incoming| expect_message(incoming).label));
        Ok(0)
    });
    run_clean(&mut kernel);

    assert_eq!(got.get(), vec![Ok(0), Err(SysError::QueueFull), Ok(1), Ok(0), Ok(3)]);
}

#[test]
fn a_full_queue_with_block_policy_blocks_the_sender_until_a_receive_makes_room() {
    let mut kernel = kernel();
    let pipe = pipe(&mut kernel, 1, FullPolicy::Block, 5, 10);
    let sent = Record::new();
    let (seen, put) = (sent.clone(), pipe.put);
    kernel.start(pipe.producer, move |sys| async move {
        sys.send(put, message(1, b"")).await?;
        sys.send(put, message(2, b"")).await?;
        seen.push("second send returned");
        Ok(0)
    });
    let got = consume(&mut kernel, &pipe, 2);
    run_clean(&mut kernel);

    assert_eq!(got.get(), vec![1, 2]);
    assert_eq!(sent.get(), vec!["second send returned"]);
    let producer_events = events_of(&kernel, pipe.producer);
    assert!(producer_events.contains(&EventKind::Blocked { on: BlockedOn::Send(pipe.queue) }));
    assert!(producer_events.contains(&EventKind::Woken { call: SyscallKind::Send, error: None }));
    assert!(drops(&kernel).is_empty());
}

#[test]
fn try_send_to_a_full_blocking_queue_would_block() {
    let mut kernel = kernel();
    let pipe = pipe(&mut kernel, 1, FullPolicy::Block, 5, 10);
    let refused = Record::new();
    let (seen, put) = (refused.clone(), pipe.put);
    kernel.start(pipe.producer, move |sys| async move {
        sys.try_send(put, message(1, b"")).await?;
        seen.push(sys.try_send(put, message(2, b"")).await);
        Ok(0)
    });
    let got = consume(&mut kernel, &pipe, 1);
    run_clean(&mut kernel);

    assert_eq!(refused.get(), vec![Err(SysError::WouldBlock)]);
    assert_eq!(got.get(), vec![1]);
    assert_eq!(blocked_events(&kernel, pipe.producer), 0);
}

#[test]
fn a_send_timeout_on_a_full_blocking_queue_drops_the_message_as_timed_out() {
    let mut kernel = kernel();
    let pipe = pipe(&mut kernel, 1, FullPolicy::Block, 5, 10);
    let refused = Record::new();
    let (seen, put, take) = (refused.clone(), pipe.put, pipe.take);
    kernel.start(pipe.producer, move |sys| async move {
        sys.send(put, message(1, b"")).await?;
        seen.push(sys.send_timeout(put, message(2, b""), 3_000).await);
        Ok(0)
    });
    let got = Record::new();
    let received = got.clone();
    kernel.start(pipe.consumer, move |sys| async move {
        sys.sleep(10_000).await?;
        received.push(sys.receive(take).await.map(|incoming| expect_message(incoming).label));
        received.push(sys.try_receive(take).await.map(|incoming| expect_message(incoming).label));
        Ok(0)
    });
    run_clean(&mut kernel);

    assert_eq!(refused.get(), vec![Err(SysError::TimedOut)]);
    assert_eq!(got.get(), vec![Ok(1), Err(SysError::WouldBlock)], "the timed-out message never reached the queue");
    assert_eq!(drops(&kernel), vec![(pipe.producer, 2, DropReason::TimedOut)]);
    assert_eq!(counters(&kernel, pipe.producer).messages_dropped, 1);
}

#[test]
fn senders_blocked_on_a_full_queue_are_admitted_in_the_order_they_blocked() {
    let mut kernel = kernel();
    let consumer = program(&mut kernel, "consumer", 5);
    let queue = kernel.create_queue(consumer, 2, FullPolicy::Block);
    let take = kernel.grant(consumer, queue, Rights::all(), Badge::NONE).unwrap();
    for label in 1..=5 {
        let producer = program(&mut kernel, &format!("producer{label}"), 10);
        let put = kernel.grant_derived(producer, consumer, take, Rights::SEND, Badge::NONE).unwrap();
        kernel.start(producer, move |sys| async move {
            sys.send(put, message(label, b"")).await?;
            Ok(0)
        });
    }
    let got = Record::new();
    let seen = got.clone();
    kernel.start(consumer, move |sys| async move {
        for _ in 0..5 {
            seen.push(expect_message(sys.receive(take).await?).label);
        }
        Ok(0)
    });
    while kernel.waiting_messages(queue).len() < 5 {
        assert!(kernel.step(), "the run ended before every producer sent");
    }
    let waiting: Vec<_> = kernel.waiting_messages(queue).iter().map(|&id| kernel.log().message(id).label).collect();
    assert_eq!(waiting, vec![1, 2, 3, 4, 5], "queued messages first, then those of blocked senders");
    run_clean(&mut kernel);

    assert_eq!(got.get(), vec![1, 2, 3, 4, 5]);
    let blocked: Vec<_> = (3..=5)
        .map(|label| kernel.process_named(&format!("producer{label}")).unwrap().id())
        .map(|id| blocked_events(&kernel, id))
        .collect();
    assert_eq!(blocked, vec![1, 1, 1]);
}

/// Producers with badges 1 and 2 fill a queue before its consumer runs.
fn badged_backlog(kernel: &mut Kernel) -> (ProcessId, Slot) {
    let consumer = program(kernel, "consumer", 5);
    let queue = kernel.create_queue(consumer, 8, FullPolicy::Block);
    let take = kernel.grant(consumer, queue, Rights::all(), Badge::NONE).unwrap();
    for (badge, labels) in [(1, vec![10, 11]), (2, vec![20, 21])] {
        let producer = program(kernel, &format!("producer{badge}"), 10);
        let put = kernel.grant_derived(producer, consumer, take, Rights::SEND, Badge(badge)).unwrap();
        kernel.start(producer, move |sys| async move {
            for label in labels {
                sys.send(put, message(label, b"")).await?;
            }
            Ok(0)
        });
    }
    (consumer, take)
}

#[test]
fn a_closed_receive_on_a_queue_takes_the_first_message_with_that_badge_and_keeps_the_rest_in_order() {
    let mut kernel = kernel();
    let (consumer, take) = badged_backlog(&mut kernel);
    let got = Record::new();
    let seen = got.clone();
    kernel.start(consumer, move |sys| async move {
        let first = expect_message(sys.receive_from(take, Badge(2)).await?);
        seen.push((first.badge, first.label));
        for _ in 0..3 {
            let next = expect_message(sys.receive(take).await?);
            seen.push((next.badge, next.label));
        }
        Ok(0)
    });
    run_clean(&mut kernel);

    assert_eq!(got.get(), vec![(Badge(2), 20), (Badge(1), 10), (Badge(1), 11), (Badge(2), 21)]);
}

#[test]
fn a_closed_try_receive_with_no_message_of_that_badge_would_block_though_others_wait() {
    let mut kernel = kernel();
    let (consumer, take) = badged_backlog(&mut kernel);
    let got = Record::new();
    let seen = got.clone();
    kernel.start(consumer, move |sys| async move {
        let request = Syscall::Receive { port: take, from: Some(Badge(3)), blocking: Blocking::Never };
        seen.push(sys.syscall(request).await.map(drop));
        for _ in 0..4 {
            sys.receive(take).await?;
        }
        Ok(0)
    });
    run_clean(&mut kernel);

    assert_eq!(got.get(), vec![Err(SysError::WouldBlock)]);
}

#[test]
fn a_closed_receiver_waiting_on_a_queue_lets_other_badges_queue_behind_it() {
    let mut kernel = kernel();
    let consumer = program(&mut kernel, "consumer", 10);
    let queue = kernel.create_queue(consumer, 4, FullPolicy::Block);
    let take = kernel.grant(consumer, queue, Rights::all(), Badge::NONE).unwrap();
    let other = program(&mut kernel, "other", 8);
    let wanted = program(&mut kernel, "wanted", 5);
    let other_put = kernel.grant_derived(other, consumer, take, Rights::SEND, Badge(1)).unwrap();
    let wanted_put = kernel.grant_derived(wanted, consumer, take, Rights::SEND, Badge(2)).unwrap();
    let got = Record::new();
    let seen = got.clone();
    kernel.start(consumer, move |sys| async move {
        seen.push(expect_message(sys.receive_from(take, Badge(2)).await?).label);
        seen.push(expect_message(sys.receive(take).await?).label);
        Ok(0)
    });
    kernel.start(other, move |sys| async move {
        sys.send(other_put, message(1, b"")).await?;
        Ok(0)
    });
    kernel.start(wanted, move |sys| async move {
        sys.send(wanted_put, message(2, b"")).await?;
        Ok(0)
    });
    run_clean(&mut kernel);

    assert_eq!(got.get(), vec![2, 1]);
    assert_eq!(blocked_events(&kernel, other), 0, "the other badge was queued, not blocked");
}

#[test]
fn receiving_from_an_empty_queue_would_block_or_times_out() {
    let mut kernel = kernel();
    let consumer = program(&mut kernel, "consumer", 5);
    let queue = kernel.create_queue(consumer, 1, FullPolicy::Block);
    let take = kernel.grant(consumer, queue, Rights::all(), Badge::NONE).unwrap();
    let got = Record::new();
    let seen = got.clone();
    kernel.start(consumer, move |sys| async move {
        seen.push(sys.try_receive(take).await.map(drop));
        seen.push(sys.receive_timeout(take, 500).await.map(drop));
        Ok(0)
    });
    run_clean(&mut kernel);

    assert_eq!(got.get(), vec![Err(SysError::WouldBlock), Err(SysError::TimedOut)]);
    assert!(events_of(&kernel, consumer).contains(&EventKind::Blocked { on: BlockedOn::Receive(queue) }));
}

#[test]
fn queue_sends_and_receives_without_the_right_they_need_are_refused() {
    let mut kernel = kernel();
    let owner = program(&mut kernel, "owner", 5);
    let queue = kernel.create_queue(owner, 2, FullPolicy::Block);
    let all = kernel.grant(owner, queue, Rights::all(), Badge::NONE).unwrap();
    let send_only = kernel.grant_derived(owner, owner, all, Rights::SEND, Badge::NONE).unwrap();
    let receive_only = kernel.grant_derived(owner, owner, all, Rights::RECEIVE, Badge::NONE).unwrap();
    let got = Record::new();
    let seen = got.clone();
    kernel.start(owner, move |sys| async move {
        seen.push(("send", sys.send(receive_only, message(0, b"")).await));
        seen.push(("try_send", sys.try_send(receive_only, message(0, b"")).await));
        seen.push(("receive", sys.receive(send_only).await.map(drop)));
        seen.push(("try_receive", sys.try_receive(send_only).await.map(drop)));
        Ok(0)
    });
    run_clean(&mut kernel);

    let recorded = got.get();
    assert_eq!(recorded.len(), 4);
    for (what, result) in recorded {
        assert_eq!(result, Err(SysError::InsufficientRights), "{what}");
    }
}

#[test]
fn create_queue_makes_a_queue_with_every_right_and_refuses_a_capacity_out_of_range() {
    let mut kernel = kernel_with(|config| config.limits.queue_capacity_max = 8);
    let maker = program(&mut kernel, "maker", 5);
    let got = Record::new();
    let seen = got.clone();
    kernel.start(maker, move |sys| async move {
        seen.push(sys.create_queue(0, FullPolicy::Block).await);
        seen.push(sys.create_queue(9, FullPolicy::Fail).await);
        let made = sys.create_queue(8, FullPolicy::Fail).await;
        seen.push(made);
        let slot = made?;
        for label in 0..8 {
            sys.try_send(slot, message(label, b"")).await?;
        }
        seen.push(sys.try_send(slot, message(8, b"")).await.map(|()| Slot(u32::MAX)));
        Ok(0)
    });
    let created = kernel.log().len();
    run_clean(&mut kernel);

    assert_eq!(
        got.get(),
        vec![Err(SysError::InvalidArgument), Err(SysError::InvalidArgument), Ok(Slot(0)), Err(SysError::QueueFull)]
    );
    let made: Vec<_> = kernel.log().events()[created..]
        .iter()
        .filter_map(|event| match event.kind {
            EventKind::Created { kind, .. } => Some((event.process, kind)),
            _ => None,
        })
        .collect();
    assert_eq!(made, vec![(maker, ObjectKind::Queue)], "refused creations make no object");
}

#[test]
fn a_queue_created_by_syscall_hands_out_every_right() {
    let mut kernel = kernel();
    let maker = program(&mut kernel, "maker", 5);
    kernel.start(maker, |sys| async move {
        sys.create_queue(3, FullPolicy::Block).await?;
        sys.sleep(10).await?;
        Ok(0)
    });
    while held(&kernel, maker).is_empty() {
        assert!(kernel.step());
    }
    assert_eq!(held(&kernel, maker), vec![(Slot(0), Rights::all(), Badge::NONE, Some(ObjectKind::Queue))]);
}

/// The only message with badge 2 waits with its sender because the queue is
/// full of a badge-1 message; a receive closed to badge 2 still gets it, as a
/// closed receive on an endpoint does, and the sender returns.
#[test]
fn a_closed_receive_on_a_full_queue_reaches_the_message_of_a_blocked_sender() {
    let mut kernel = kernel();
    let consumer = program(&mut kernel, "consumer", 5);
    let queue = kernel.create_queue(consumer, 1, FullPolicy::Block);
    let take = kernel.grant(consumer, queue, Rights::all(), Badge::NONE).unwrap();
    for badge in [1, 2] {
        let producer = program(&mut kernel, &format!("producer{badge}"), 10);
        let put = kernel.grant_derived(producer, consumer, take, Rights::SEND, Badge(badge)).unwrap();
        kernel.start(producer, move |sys| async move {
            sys.send(put, message(badge as u32, b"")).await?;
            Ok(0)
        });
    }
    let got = Record::new();
    let seen = got.clone();
    kernel.start(consumer, move |sys| async move {
        seen.push(expect_message(sys.receive_from(take, Badge(2)).await?).label);
        seen.push(expect_message(sys.receive(take).await?).label);
        Ok(0)
    });
    run_clean(&mut kernel);

    assert_eq!(got.get(), vec![2, 1]);
    let blocked_sender = kernel.process_named("producer2").unwrap().id();
    assert!(events_of(&kernel, blocked_sender).contains(&EventKind::Woken { call: SyscallKind::Send, error: None }));
}
