//! Synchronous endpoints: send, receive, call, reply, their non-blocking and
//! timed variants, closed receives, and every way they refuse.

mod common;

use common::*;
use mksim_kernel::event::{BlockedOn, CapabilityOp, DropReason};
use mksim_kernel::message::{MessageId, MessageKind};
use mksim_kernel::*;

#[test]
fn a_send_to_a_waiting_receiver_delivers_label_data_and_the_senders_badge() {
    let mut kernel = kernel();
    let link = link(&mut kernel, 10, 5, Rights::SEND, Badge(7));
    let got = Record::new();
    let (seen, serve, call) = (got.clone(), link.serve, link.call);
    kernel.start(link.server, move |sys| async move {
        seen.push(expect_message(sys.receive(serve).await?));
        stay_alive(sys).await
    });
    kernel.start(link.client, move |sys| async move {
        sys.send(call, message(3, b"hi")).await?;
        Ok(0)
    });
    run_clean(&mut kernel);

    let expected =
        Received { badge: Badge(7), label: 3, data: b"hi".to_vec().into(), caps: vec![], caps_lost: 0, reply: None };
    assert_eq!(got.get(), vec![expected]);
    assert!(events_of(&kernel, link.server).contains(&EventKind::Blocked { on: BlockedOn::Receive(link.endpoint) }));
    assert_eq!(counters(&kernel, link.client).messages_sent.send, 1);
    assert_eq!(counters(&kernel, link.server).messages_received, 1);
    let port = kernel.port_counters(link.endpoint).unwrap();
    assert_eq!((port.messages, port.bytes, port.dropped), (1, 2, 0));
    assert_eq!(kernel.log().messages()[0].kind, MessageKind::Send);
}

#[test]
fn a_sender_blocks_on_an_endpoint_until_a_receiver_comes() {
    let mut kernel = kernel();
    let link = link(&mut kernel, 5, 10, Rights::SEND, Badge::NONE);
    let got = Record::new();
    let (seen, serve, call) = (got.clone(), link.serve, link.call);
    kernel.start(link.server, move |sys| async move {
        seen.push(expect_message(sys.receive(serve).await?).data.into_vec());
        sys.sleep(1_000_000).await?;
        Ok(0)
    });
    kernel.start(link.client, move |sys| async move {
        sys.send(call, message(1, b"early")).await?;
        Ok(0)
    });
    run_clean(&mut kernel);

    assert_eq!(got.get(), vec![b"early".to_vec()]);
    let client_events = events_of(&kernel, link.client);
    assert!(client_events.contains(&EventKind::Blocked { on: BlockedOn::Send(link.endpoint) }));
    assert!(client_events.contains(&EventKind::Woken { call: SyscallKind::Send, error: None }));
    assert_eq!(kernel.port_counters(link.endpoint).unwrap().depth_max, 1);
}

#[test]
fn senders_waiting_on_an_endpoint_are_received_in_arrival_order() {
    let mut kernel = kernel();
    let receiver = server(&mut kernel, "server", 1);
    let endpoint = kernel.create_endpoint(receiver);
    let serve = kernel.grant(receiver, endpoint, Rights::all(), Badge::NONE).unwrap();
    for label in 1..=3 {
        let sender = program(&mut kernel, &format!("sender{label}"), 10);
        let slot = kernel.grant_derived(sender, receiver, serve, Rights::SEND, Badge::NONE).unwrap();
        kernel.start(sender, move |sys| async move {
            sys.send(slot, message(label, b"")).await?;
            Ok(0)
        });
    }
    let got = Record::new();
    let seen = got.clone();
    kernel.start(receiver, move |sys| async move {
        for _ in 0..3 {
            seen.push(expect_message(sys.receive(serve).await?).label);
        }
        Ok(0)
    });
    run_clean(&mut kernel);

    assert_eq!(got.get(), vec![1, 2, 3]);
    assert_eq!(delivered_labels(&kernel, receiver), vec![1, 2, 3]);
}

#[test]
fn try_send_without_a_waiting_receiver_would_block_and_sends_nothing() {
    let mut kernel = kernel();
    let link = link(&mut kernel, 5, 10, Rights::SEND, Badge::NONE);
    let got = Record::new();
    let (seen, call) = (got.clone(), link.call);
    kernel.start(link.client, move |sys| async move {
        seen.push(sys.try_send(call, message(1, b"x")).await);
        Ok(0)
    });
    kernel.start(link.server, |_sys| async { Ok(0) });
    run_clean(&mut kernel);

    assert_eq!(got.get(), vec![Err(SysError::WouldBlock)]);
    assert!(kernel.log().messages().is_empty(), "a refused try_send records no message");
    assert_eq!(count_events(&kernel, |kind| matches!(kind, EventKind::Blocked { .. })), 0);
}

#[test]
fn try_send_to_a_waiting_receiver_hands_the_message_over_at_once() {
    let mut kernel = kernel();
    let link = link(&mut kernel, 10, 5, Rights::SEND, Badge::NONE);
    let got = Record::new();
    let (seen, serve, call) = (got.clone(), link.serve, link.call);
    kernel.start(link.server, move |sys| async move {
        seen.push(Ok(expect_message(sys.receive(serve).await?).label));
        Ok(0)
    });
    let sent = got.clone();
    kernel.start(link.client, move |sys| async move {
        sent.push(sys.try_send(call, message(4, b"")).await.map(|()| 0));
        Ok(0)
    });
    run_clean(&mut kernel);

    assert_eq!(got.get(), vec![Ok(4), Ok(0)], "the receiver wakes with the message, then try_send returns");
}

#[test]
fn try_receive_with_no_sender_would_block() {
    let mut kernel = kernel();
    let link = link(&mut kernel, 10, 5, Rights::SEND, Badge::NONE);
    let got = Record::new();
    let (seen, serve) = (got.clone(), link.serve);
    kernel.start(link.server, move |sys| async move {
        seen.push(sys.try_receive(serve).await);
        Ok(0)
    });
    kernel.start(link.client, |_sys| async { Ok(0) });
    run_clean(&mut kernel);

    assert_eq!(got.get(), vec![Err(SysError::WouldBlock)]);
    let server_events = events_of(&kernel, link.server);
    assert!(
        server_events
            .contains(&EventKind::SyscallReturned { call: SyscallKind::TryReceive, error: Some(SysError::WouldBlock) })
    );
}

#[test]
fn try_receive_takes_the_message_of_a_blocked_sender_and_wakes_it() {
    let mut kernel = kernel();
    let link = link(&mut kernel, 5, 10, Rights::SEND, Badge(2));
    let got = Record::new();
    let (seen, serve, call) = (got.clone(), link.serve, link.call);
    kernel.start(link.server, move |sys| async move {
        let received = expect_message(sys.try_receive(serve).await?);
        seen.push((received.badge, received.label));
        Ok(0)
    });
    kernel.start(link.client, move |sys| async move {
        sys.send(call, message(8, b"")).await?;
        Ok(0)
    });
    run_clean(&mut kernel);

    assert_eq!(got.get(), vec![(Badge(2), 8)]);
    assert!(events_of(&kernel, link.client).contains(&EventKind::Woken { call: SyscallKind::Send, error: None }));
}

/// Two blocked senders with badges 1 and 2, and a server that asks for badge 2 first.
#[test]
fn a_closed_receive_takes_the_first_sender_with_that_badge_and_leaves_the_others_waiting() {
    let mut kernel = kernel();
    let receiver = server(&mut kernel, "server", 1);
    let endpoint = kernel.create_endpoint(receiver);
    let serve = kernel.grant(receiver, endpoint, Rights::all(), Badge::NONE).unwrap();
    for (label, badge) in [(10, 1), (20, 2), (21, 2)] {
        let sender = program(&mut kernel, &format!("sender{label}"), 10);
        let slot = kernel.grant_derived(sender, receiver, serve, Rights::SEND, Badge(badge)).unwrap();
        kernel.start(sender, move |sys| async move {
            sys.send(slot, message(label, b"")).await?;
            Ok(0)
        });
    }
    let got = Record::new();
    let seen = got.clone();
    kernel.start(receiver, move |sys| async move {
        seen.push(expect_message(sys.receive_from(serve, Badge(2)).await?).label);
        seen.push(expect_message(sys.receive(serve).await?).label);
        seen.push(expect_message(sys.receive(serve).await?).label);
        Ok(0)
    });
    run_clean(&mut kernel);

    assert_eq!(got.get(), vec![20, 10, 21]);
}

#[test]
fn a_closed_receiver_is_passed_over_by_senders_with_another_badge() {
    let mut kernel = kernel();
    let receiver = server(&mut kernel, "server", 10);
    let endpoint = kernel.create_endpoint(receiver);
    let serve = kernel.grant(receiver, endpoint, Rights::all(), Badge::NONE).unwrap();
    let other = program(&mut kernel, "other", 8);
    let wanted = program(&mut kernel, "wanted", 5);
    let other_slot = kernel.grant_derived(other, receiver, serve, Rights::SEND, Badge(1)).unwrap();
    let wanted_slot = kernel.grant_derived(wanted, receiver, serve, Rights::SEND, Badge(2)).unwrap();
    let got = Record::new();
    let seen = got.clone();
    kernel.start(receiver, move |sys| async move {
        seen.push(expect_message(sys.receive_from(serve, Badge(2)).await?).badge);
        seen.push(expect_message(sys.receive(serve).await?).badge);
        Ok(0)
    });
    kernel.start(other, move |sys| async move {
        sys.send(other_slot, message(1, b"")).await?;
        Ok(0)
    });
    kernel.start(wanted, move |sys| async move {
        sys.send(wanted_slot, message(2, b"")).await?;
        Ok(0)
    });
    run_clean(&mut kernel);

    assert_eq!(got.get(), vec![Badge(2), Badge(1)]);
    assert!(events_of(&kernel, other).contains(&EventKind::Blocked { on: BlockedOn::Send(endpoint) }));
    assert!(!events_of(&kernel, wanted).iter().any(|kind| matches!(kind, EventKind::Blocked { .. })));
}

#[test]
fn a_call_gives_the_server_a_reply_capability_and_returns_its_answer() {
    let mut kernel = kernel();
    let link = link(&mut kernel, 10, 5, Rights::SEND, Badge(9));
    let replies = Record::new();
    let requests = Record::new();
    let (seen, serve, call) = (requests.clone(), link.serve, link.call);
    kernel.start(link.server, move |sys| async move {
        let request = expect_message(sys.receive(serve).await?);
        seen.push(request.clone());
        sys.reply(request.reply.expect("a call carries a reply capability"), message(2, b"pong")).await?;
        Ok(0)
    });
    let answered = replies.clone();
    kernel.start(link.client, move |sys| async move {
        answered.push(sys.call(call, message(1, b"ping")).await?);
        Ok(0)
    });
    run_clean(&mut kernel);

    let request = &requests.get()[0];
    assert_eq!((request.badge, request.label, request.data.as_slice()), (Badge(9), 1, b"ping".as_slice()));
    let reply_slot = request.reply.unwrap();
    assert_ne!(reply_slot, link.serve);
    let expected = Received {
        badge: Badge::NONE,
        label: 2,
        data: b"pong".to_vec().into(),
        caps: vec![],
        caps_lost: 0,
        reply: None,
    };
    assert_eq!(replies.get(), vec![expected]);

    let log = kernel.log();
    let kinds: Vec<_> = log.messages().iter().map(|record| record.kind).collect();
    assert_eq!(kinds, vec![MessageKind::Call, MessageKind::Reply]);
    assert_eq!(log.messages()[1].answers(), Some(MessageId(0)));
    assert_eq!(counters(&kernel, link.client).messages_sent.call, 1);
    assert_eq!(counters(&kernel, link.server).messages_sent.reply, 1);
    assert!(events_of(&kernel, link.client).contains(&EventKind::Blocked { on: BlockedOn::Reply(link.server) }));
    let ops: Vec<_> = capability_changes(&kernel, link.server)
        .into_iter()
        .filter(|change| change.slot == reply_slot)
        .map(|change| change.op)
        .collect();
    assert_eq!(ops, vec![CapabilityOp::ReplyCreated, CapabilityOp::ReplyUsed]);
}

#[test]
fn the_reply_capability_is_single_use() {
    let mut kernel = kernel();
    let link = link(&mut kernel, 10, 5, Rights::SEND, Badge::NONE);
    let got = Record::new();
    let (seen, serve, call) = (got.clone(), link.serve, link.call);
    kernel.start(link.server, move |sys| async move {
        let reply = expect_message(sys.receive(serve).await?).reply.unwrap();
        seen.push(sys.reply(reply, message(1, b"")).await);
        seen.push(sys.reply(reply, message(2, b"")).await);
        Ok(0)
    });
    kernel.start(link.client, move |sys| async move {
        sys.call(call, message(0, b"")).await?;
        Ok(0)
    });
    run_clean(&mut kernel);

    assert_eq!(got.get(), vec![Ok(()), Err(SysError::InvalidCapability)]);
    assert_eq!(kernel.log().messages().len(), 2, "the second reply sent nothing");
}

#[test]
fn a_call_waits_for_a_receiver_when_none_is_there() {
    let mut kernel = kernel();
    let link = link(&mut kernel, 5, 10, Rights::SEND, Badge::NONE);
    let got = Record::new();
    let (seen, serve, call) = (got.clone(), link.serve, link.call);
    kernel.start(link.server, move |sys| async move {
        let request = expect_message(sys.receive(serve).await?);
        sys.reply(request.reply.unwrap(), message(request.label + 1, b"")).await?;
        Ok(0)
    });
    kernel.start(link.client, move |sys| async move {
        seen.push(sys.call(call, message(41, b"")).await?.label);
        Ok(0)
    });
    run_clean(&mut kernel);

    assert_eq!(got.get(), vec![42]);
    let client_events = events_of(&kernel, link.client);
    let send_blocked =
        client_events.iter().position(|kind| *kind == EventKind::Blocked { on: BlockedOn::Send(link.endpoint) });
    let reply_blocked =
        client_events.iter().position(|kind| *kind == EventKind::Blocked { on: BlockedOn::Reply(link.server) });
    assert!(send_blocked.is_some() && reply_blocked.is_some() && send_blocked < reply_blocked, "{client_events:?}");
}

#[test]
fn reply_receive_answers_one_caller_and_waits_for_the_next() {
    let mut kernel = kernel();
    let receiver = server(&mut kernel, "server", 10);
    let endpoint = kernel.create_endpoint(receiver);
    let serve = kernel.grant(receiver, endpoint, Rights::all(), Badge::NONE).unwrap();
    let answers = Record::new();
    for label in [1, 2] {
        let client = program(&mut kernel, &format!("client{label}"), 5);
        let slot = kernel.grant_derived(client, receiver, serve, Rights::SEND, Badge(label.into())).unwrap();
        let seen = answers.clone();
        kernel.start(client, move |sys| async move {
            seen.push((label, sys.call(slot, message(label, b"")).await?.label));
            Ok(0)
        });
    }
    kernel.start(receiver, move |sys| async move {
        let mut request = expect_message(sys.receive(serve).await?);
        loop {
            let answer = message(request.label * 100, b"");
            request = expect_message(sys.reply_receive(request.reply.unwrap(), answer, serve).await?);
        }
    });
    run_clean(&mut kernel);

    assert_eq!(answers.get(), vec![(1, 100), (2, 200)]);
    assert_eq!(state(&kernel, receiver), ProcessState::ReceiveBlocked { port: endpoint });
    let server_calls =
        count_events(&kernel, |kind| matches!(kind, EventKind::SyscallEntered { call: SyscallKind::ReplyReceive }));
    assert_eq!(server_calls, 2);
}

#[test]
fn a_failed_reply_in_reply_receive_receives_nothing() {
    let mut kernel = kernel();
    let link = link(&mut kernel, 10, 5, Rights::SEND, Badge::NONE);
    let got = Record::new();
    let (seen, serve, call) = (got.clone(), link.serve, link.call);
    kernel.start(link.server, move |sys| async move {
        let request = expect_message(sys.receive(serve).await?);
        seen.push(sys.reply_receive(Slot(40), message(0, b""), serve).await.map(drop));
        seen.push(sys.reply_receive(serve, message(0, b""), serve).await.map(drop));
        sys.reply(request.reply.unwrap(), message(0, b"")).await?;
        Ok(0)
    });
    kernel.start(link.client, move |sys| async move {
        sys.call(call, message(0, b"")).await?;
        Ok(0)
    });
    run_clean(&mut kernel);

    assert_eq!(got.get(), vec![Err(SysError::InvalidCapability), Err(SysError::WrongObjectKind)]);
    let blocked_receiving = events_of(&kernel, link.server)
        .into_iter()
        .filter(|kind| *kind == EventKind::Blocked { on: BlockedOn::Receive(link.endpoint) })
        .count();
    assert_eq!(blocked_receiving, 1, "only the first receive blocked");
}

#[test]
fn reply_receive_that_replies_and_then_fails_to_receive_still_answered_the_caller() {
    let mut kernel = kernel();
    let link = link(&mut kernel, 10, 5, Rights::SEND, Badge::NONE);
    let word = kernel.create_notification(link.server);
    let word = kernel.grant(link.server, word, Rights::all(), Badge::NONE).unwrap();
    let got = Record::new();
    let (seen, serve, call) = (got.clone(), link.serve, link.call);
    kernel.start(link.server, move |sys| async move {
        let reply = expect_message(sys.receive(serve).await?).reply.unwrap();
        seen.push(("server", sys.reply_receive(reply, message(5, b""), word).await.map(drop).map_err(Some)));
        stay_alive(sys).await
    });
    let seen = got.clone();
    kernel.start(link.client, move |sys| async move {
        let answer = sys.call(call, message(0, b"")).await;
        seen.push(("client", answer.map(|reply| assert_eq!(reply.label, 5)).map_err(Some)));
        Ok(0)
    });
    run_clean(&mut kernel);

    assert_eq!(got.get(), vec![("server", Err(Some(SysError::WrongObjectKind))), ("client", Ok(()))]);
}

#[test]
fn with_the_refuse_policy_a_send_to_ones_own_endpoint_with_no_receiver_is_a_deadlock() {
    let mut kernel = kernel_with(|config| config.deadlock_policy = DeadlockPolicy::Refuse);
    let lonely = program(&mut kernel, "lonely", 5);
    let endpoint = kernel.create_endpoint(lonely);
    let slot = kernel.grant(lonely, endpoint, Rights::all(), Badge::NONE).unwrap();
    let got = Record::new();
    let seen = got.clone();
    kernel.start(lonely, move |sys| async move {
        seen.push(sys.send(slot, message(0, b"")).await);
        seen.push(sys.call(slot, message(0, b"")).await.map(drop));
        Ok(0)
    });
    run_clean(&mut kernel);

    assert_eq!(got.get(), vec![Err(SysError::Deadlock), Err(SysError::Deadlock)]);
    assert!(kernel.log().messages().is_empty(), "a refused send records no message");
}

#[test]
fn a_send_that_times_out_fails_with_timed_out_and_its_message_is_dropped() {
    let mut kernel = kernel();
    let link = link(&mut kernel, 5, 10, Rights::SEND, Badge::NONE);
    let got = Record::new();
    let (seen, call) = (got.clone(), link.call);
    kernel.start(link.server, stay_alive);
    kernel.start(link.client, move |sys| async move {
        let before = sys.clock().await?;
        seen.push((sys.send_timeout(call, message(6, b"late"), 5_000).await, sys.clock().await? - before));
        Ok(0)
    });
    run_clean(&mut kernel);

    let (result, elapsed) = got.get()[0];
    assert_eq!(result, Err(SysError::TimedOut));
    assert!(elapsed >= 5_000, "gave up after {elapsed} cycles");
    assert_eq!(drops(&kernel), vec![(link.client, 6, DropReason::TimedOut)]);
    assert_eq!(counters(&kernel, link.client).messages_dropped, 1);
    assert!(
        events_of(&kernel, link.client)
            .contains(&EventKind::Woken { call: SyscallKind::Send, error: Some(SysError::TimedOut) })
    );
}

#[test]
fn a_receive_that_times_out_fails_with_timed_out() {
    let mut kernel = kernel();
    let link = link(&mut kernel, 10, 5, Rights::SEND, Badge::NONE);
    let got = Record::new();
    let (seen, serve) = (got.clone(), link.serve);
    let receiver = program(&mut kernel, "receiver", 10);
    let slot = kernel.grant_derived(receiver, link.server, serve, Rights::RECEIVE, Badge::NONE).unwrap();
    kernel.start(receiver, move |sys| async move {
        let before = sys.clock().await?;
        seen.push((sys.receive_timeout(slot, 2_000).await.map(drop), sys.clock().await? - before));
        Ok(0)
    });
    kernel.start(link.server, stay_alive);
    kernel.start(link.client, |_sys| async { Ok(0) });
    run_clean(&mut kernel);

    let (result, elapsed) = got.get()[0];
    assert_eq!(result, Err(SysError::TimedOut));
    assert!(elapsed >= 2_000, "gave up after {elapsed} cycles");
}

#[test]
fn a_receive_that_gets_a_message_before_its_timeout_succeeds() {
    let mut kernel = kernel();
    let link = link(&mut kernel, 10, 5, Rights::SEND, Badge::NONE);
    let got = Record::new();
    let (seen, serve, call) = (got.clone(), link.serve, link.call);
    kernel.start(link.server, move |sys| async move {
        seen.push(sys.receive_timeout(serve, 1_000_000).await.map(|incoming| expect_message(incoming).label));
        sys.sleep(2_000_000).await?;
        seen.push(sys.try_receive(serve).await.map(|_| 0));
        Ok(0)
    });
    kernel.start(link.client, move |sys| async move {
        sys.send(call, message(5, b"")).await?;
        sys.sleep(3_000_000).await?;
        Ok(0)
    });
    run_clean(&mut kernel);

    assert_eq!(got.get(), vec![Ok(5), Err(SysError::WouldBlock)], "the cancelled timeout never fires");
    assert_eq!(
        count_events(&kernel, |kind| matches!(kind, EventKind::Woken { error: Some(SysError::TimedOut), .. })),
        0
    );
}

#[test]
fn a_call_nobody_receives_times_out_and_its_request_is_dropped() {
    let mut kernel = kernel();
    let link = link(&mut kernel, 5, 10, Rights::SEND, Badge::NONE);
    let got = Record::new();
    let (seen, call) = (got.clone(), link.call);
    kernel.start(link.server, stay_alive);
    kernel.start(link.client, move |sys| async move {
        seen.push(sys.call_timeout(call, message(3, b""), 1_000).await.map(drop));
        Ok(0)
    });
    run_clean(&mut kernel);

    assert_eq!(got.get(), vec![Err(SysError::TimedOut)]);
    assert_eq!(drops(&kernel), vec![(link.client, 3, DropReason::TimedOut)]);
}

/// The server takes the call 6,000 cycles in and answers 6,000 cycles later:
/// a 10,000-cycle timeout counted from the call expires before the answer.
#[test]
fn a_call_timeout_counts_from_the_call_not_from_when_the_server_took_it() {
    let mut kernel = kernel();
    let link = link(&mut kernel, 5, 10, Rights::SEND, Badge::NONE);
    let got = Record::new();
    let (seen, serve, call) = (got.clone(), link.serve, link.call);
    kernel.start(link.server, move |sys| async move {
        sys.sleep(6_000).await?;
        let reply = expect_message(sys.receive(serve).await?).reply.unwrap();
        sys.sleep(6_000).await?;
        sys.reply(reply, message(1, b"")).await?;
        stay_alive(sys).await
    });
    kernel.start(link.client, move |sys| async move {
        seen.push(sys.call_timeout(call, message(0, b""), 10_000).await.map(drop));
        sys.sleep(20_000).await?;
        Ok(0)
    });
    run_clean(&mut kernel);

    assert_eq!(got.get(), vec![Err(SysError::TimedOut)]);
    assert_eq!(drops(&kernel), vec![(link.server, 1, DropReason::CallerGone)]);
    assert_eq!(delivered_labels(&kernel, link.server), vec![0], "the server did take the call");
}

#[test]
fn a_message_over_the_size_limits_is_too_large_and_nothing_is_sent() {
    let mut kernel = kernel_with(|config| {
        config.limits.message_bytes_max = 8;
        config.limits.message_caps_max = 1;
    });
    let link = link(&mut kernel, 10, 5, Rights::SEND | Rights::GRANT, Badge::NONE);
    let got = Record::new();
    let (seen, serve, call) = (got.clone(), link.serve, link.call);
    kernel.start(link.server, move |sys| async move {
        let request = expect_message(sys.receive(serve).await?);
        let reply = request.reply.unwrap();
        seen.push(("reply 9 bytes", sys.reply(reply, message(0, &[0; 9])).await));
        seen.push(("reply 8 bytes", sys.reply(reply, message(0, &[0; 8])).await));
        Ok(0)
    });
    let seen = got.clone();
    kernel.start(link.client, move |sys| async move {
        seen.push(("send 9 bytes", sys.try_send(call, message(0, &[0; 9])).await));
        let two_caps = message(0, b"").with_copy(call, Rights::SEND).with_copy(call, Rights::SEND);
        seen.push(("send 2 caps", sys.try_send(call, two_caps).await));
        seen.push(("call 9 bytes", sys.call(call, message(0, &[0; 9])).await.map(drop)));
        let fits = message(0, &[0; 8]).with_copy(call, Rights::SEND);
        seen.push(("call that fits", sys.call(call, fits).await.map(drop)));
        Ok(0)
    });
    run_clean(&mut kernel);

    let too_large = Err(SysError::MessageTooLarge);
    assert_eq!(
        got.get(),
        vec![
            ("send 9 bytes", too_large),
            ("send 2 caps", too_large),
            ("call 9 bytes", too_large),
            ("reply 9 bytes", too_large),
            ("reply 8 bytes", Ok(())),
            ("call that fits", Ok(())),
        ]
    );
    let kinds: Vec<_> = kernel.log().messages().iter().map(|record| record.kind).collect();
    assert_eq!(kinds, vec![MessageKind::Call, MessageKind::Reply], "refused messages are never recorded");
}

#[test]
fn endpoint_calls_on_objects_of_another_kind_are_refused() {
    let mut kernel = kernel();
    let holder = program(&mut kernel, "holder", 5);
    let notification = kernel.create_notification(holder);
    let region = kernel.create_region(holder, 16);
    let queue = kernel.create_queue(holder, 4, FullPolicy::Fail);
    let endpoint = kernel.create_endpoint(holder);
    let word = kernel.grant(holder, notification, Rights::all(), Badge::NONE).unwrap();
    let bytes = kernel.grant(holder, region, Rights::all(), Badge::NONE).unwrap();
    let port = kernel.grant(holder, queue, Rights::all(), Badge::NONE).unwrap();
    let rendezvous = kernel.grant(holder, endpoint, Rights::all(), Badge::NONE).unwrap();
    let got = Record::new();
    let seen = got.clone();
    kernel.start(holder, move |sys| async move {
        seen.push(("send to a notification", sys.try_send(word, message(0, b"")).await));
        seen.push(("send to a region", sys.send(bytes, message(0, b"")).await));
        seen.push(("receive from a notification", sys.try_receive(word).await.map(drop)));
        seen.push(("receive from a region", sys.receive(bytes).await.map(drop)));
        seen.push(("call a notification", sys.call(word, message(0, b"")).await.map(drop)));
        seen.push(("call a queue", sys.call(port, message(0, b"")).await.map(drop)));
        seen.push(("reply through an endpoint", sys.reply(rendezvous, message(0, b"")).await));
        seen.push(("reply through a queue", sys.reply(port, message(0, b"")).await));
        Ok(0)
    });
    run_clean(&mut kernel);

    let recorded = got.get();
    assert_eq!(recorded.len(), 8);
    for (what, result) in recorded {
        assert_eq!(result, Err(SysError::WrongObjectKind), "{what}");
    }
    assert!(kernel.log().messages().is_empty());
}

#[test]
fn endpoint_calls_without_the_right_they_need_are_refused() {
    let mut kernel = kernel();
    let link = link(&mut kernel, 10, 5, Rights::RECEIVE, Badge::NONE);
    let got = Record::new();
    let (seen, serve, receive_only) = (got.clone(), link.serve, link.call);
    let sender = program(&mut kernel, "sender", 5);
    let send_only = kernel.grant_derived(sender, link.server, serve, Rights::SEND, Badge::NONE).unwrap();
    kernel.start(link.server, stay_alive);
    kernel.start(link.client, move |sys| async move {
        seen.push(("send without send", sys.try_send(receive_only, message(0, b"")).await));
        seen.push(("call without send", sys.call(receive_only, message(0, b"")).await.map(drop)));
        Ok(0)
    });
    let seen = got.clone();
    kernel.start(sender, move |sys| async move {
        seen.push(("receive without receive", sys.try_receive(send_only).await.map(drop)));
        seen.push(("blocking receive without receive", sys.receive(send_only).await.map(drop)));
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
fn endpoint_calls_through_an_empty_slot_are_invalid_capabilities() {
    let mut kernel = kernel();
    let lonely = program(&mut kernel, "lonely", 5);
    let got = Record::new();
    let seen = got.clone();
    kernel.start(lonely, move |sys| async move {
        let empty = Slot(3);
        seen.push(("send", sys.send(empty, message(0, b"")).await));
        seen.push(("try_send", sys.try_send(empty, message(0, b"")).await));
        seen.push(("receive", sys.receive(empty).await.map(drop)));
        seen.push(("receive_from", sys.receive_from(empty, Badge(1)).await.map(drop)));
        seen.push(("call", sys.call(empty, message(0, b"")).await.map(drop)));
        seen.push(("reply", sys.reply(empty, message(0, b"")).await));
        Ok(0)
    });
    run_clean(&mut kernel);

    let recorded = got.get();
    assert_eq!(recorded.len(), 6);
    for (what, result) in recorded {
        assert_eq!(result, Err(SysError::InvalidCapability), "{what}");
    }
}

#[test]
fn a_receiver_with_no_free_slot_for_a_reply_capability_gets_quota_exceeded() {
    let mut kernel = kernel_with(|config| config.limits.capability_slots_max = 1);
    let link = link(&mut kernel, 10, 5, Rights::SEND, Badge::NONE);
    let got = Record::new();
    let (seen, serve, call) = (got.clone(), link.serve, link.call);
    kernel.start(link.server, move |sys| async move {
        seen.push(("blocked receive", sys.receive(serve).await.map(drop)));
        seen.push(("receive with a call waiting", sys.receive(serve).await.map(drop)));
        sys.sleep(1_000_000).await?;
        Ok(0)
    });
    let seen = got.clone();
    kernel.start(link.client, move |sys| async move {
        seen.push(("call", sys.call_timeout(call, message(0, b""), 10_000).await.map(drop)));
        Ok(0)
    });
    run_clean(&mut kernel);

    assert_eq!(
        got.get(),
        vec![
            ("blocked receive", Err(SysError::QuotaExceeded)),
            ("receive with a call waiting", Err(SysError::QuotaExceeded)),
            ("call", Err(SysError::TimedOut)),
        ]
    );
}

#[test]
fn a_one_way_send_needs_no_free_slot_at_the_receiver() {
    let mut kernel = kernel_with(|config| config.limits.capability_slots_max = 1);
    let link = link(&mut kernel, 10, 5, Rights::SEND, Badge::NONE);
    let got = Record::new();
    let (seen, serve, call) = (got.clone(), link.serve, link.call);
    kernel.start(link.server, move |sys| async move {
        seen.push(expect_message(sys.receive(serve).await?).label);
        Ok(0)
    });
    kernel.start(link.client, move |sys| async move {
        sys.send(call, message(12, b"")).await?;
        Ok(0)
    });
    run_clean(&mut kernel);

    assert_eq!(got.get(), vec![12]);
}

/// Two programs, each owning an endpoint the other sends to, and neither receiving.
fn crossed_senders(kernel: &mut Kernel) -> Record<Result<(), SysError>> {
    let first = program(kernel, "first", 10);
    let second = program(kernel, "second", 5);
    let first_endpoint = kernel.create_endpoint(first);
    let second_endpoint = kernel.create_endpoint(second);
    let to_second = kernel.grant(first, second_endpoint, Rights::SEND, Badge::NONE).unwrap();
    let to_first = kernel.grant(second, first_endpoint, Rights::SEND, Badge::NONE).unwrap();
    let got = Record::new();
    let seen = got.clone();
    kernel.start(first, move |sys| async move {
        seen.push(sys.send(to_second, message(1, b"")).await);
        Ok(0)
    });
    let seen = got.clone();
    kernel.start(second, move |sys| async move {
        seen.push(sys.send(to_first, message(2, b"")).await);
        Ok(0)
    });
    got
}

#[test]
fn with_the_refuse_policy_a_send_that_would_close_a_wait_for_cycle_fails_with_deadlock() {
    let mut kernel = kernel_with(|config| config.deadlock_policy = DeadlockPolicy::Refuse);
    let got = crossed_senders(&mut kernel);
    run_clean(&mut kernel);

    // The second send is refused; the second program then exits, which kills its
    // endpoint, so the first send ends with peer-dead.
    assert_eq!(got.get(), vec![Err(SysError::Deadlock), Err(SysError::PeerDead)]);
    let second = kernel.process_named("second").unwrap().id();
    assert_eq!(drops(&kernel), vec![(kernel.process_named("first").unwrap().id(), 1, DropReason::ReceiverDied)]);
    assert!(
        events_of(&kernel, second)
            .contains(&EventKind::SyscallReturned { call: SyscallKind::Send, error: Some(SysError::Deadlock) })
    );
}

#[test]
fn with_the_report_policy_crossed_senders_end_the_run_in_a_deadlock_naming_the_cycle() {
    let mut kernel = kernel();
    let got = crossed_senders(&mut kernel);
    let outcome = kernel.run().clone();

    assert!(got.get().is_empty());
    let Outcome::Deadlock(report) = outcome else { panic!("expected a deadlock, got {outcome:?}") };
    let members: Vec<_> = report.cycle_members().map(|blocked| blocked.name.as_str()).collect();
    assert_eq!(members, vec!["first", "second"]);
    let second = kernel.process_named("second").unwrap().id();
    assert_eq!(report.blocked[0].chain, vec![second], "first waits for second, which waits for first");
}

#[test]
fn a_port_waiting_list_shows_the_messages_of_blocked_senders() {
    let mut kernel = kernel();
    let link = link(&mut kernel, 1, 10, Rights::SEND, Badge::NONE);
    let call = link.call;
    kernel.start(link.client, move |sys| async move {
        sys.send(call, message(77, b"")).await?;
        Ok(0)
    });
    kernel.start(link.server, stay_alive);
    while kernel.waiting_messages(link.endpoint).is_empty() {
        assert!(kernel.step(), "the run ended before the sender blocked");
    }
    let waiting = kernel.waiting_messages(link.endpoint);
    assert_eq!(waiting.len(), 1);
    assert_eq!(kernel.log().message(waiting[0]).label, 77);
    assert_eq!(
        state(&kernel, link.client),
        ProcessState::SendBlocked { port: link.endpoint, owner: Some(link.server) }
    );
}
