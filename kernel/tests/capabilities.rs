//! Capabilities: copy, mint, delete and revoke; transfer inside messages;
//! stale capabilities; quotas; memory regions; reply capabilities.
//!
//! Processes whose tables are inspected after the run are servers that stay
//! alive, so their capabilities are still there to look at.

mod common;

use common::*;
use mksim_kernel::event::CapabilityOp;
use mksim_kernel::message::{CapTransfer, TransferMode};
use mksim_kernel::*;
use proptest::prelude::*;

/// The capability operations logged for `id`, with their slots.
fn capability_ops(kernel: &Kernel, id: ProcessId) -> Vec<(CapabilityOp, Slot)> {
    capability_changes(kernel, id).into_iter().map(|change| (change.op, change.slot)).collect()
}

#[test]
fn copy_keeps_only_the_rights_asked_for_and_never_adds_any() {
    let mut kernel = kernel();
    let holder = server(&mut kernel, "holder", 5);
    let endpoint = kernel.create_endpoint(holder);
    let full = kernel.grant(holder, endpoint, Rights::all(), Badge::NONE).unwrap();
    let narrow = kernel.grant(holder, endpoint, Rights::SEND | Rights::GRANT, Badge::NONE).unwrap();
    let got = Record::new();
    let seen = got.clone();
    kernel.start(holder, move |sys| async move {
        seen.push(sys.copy(full, Rights::SEND | Rights::RECEIVE).await?);
        seen.push(sys.copy(narrow, Rights::all()).await?);
        seen.push(sys.copy(narrow, Rights::RECEIVE).await?);
        seen.push(sys.mint(narrow, Rights::all(), Badge(4)).await?);
        stay_alive(sys).await
    });
    run_clean(&mut kernel);

    let rights: Vec<_> =
        got.get().into_iter().map(|slot| capability_in(&kernel, holder, slot).unwrap().rights).collect();
    assert_eq!(
        rights,
        vec![
            Rights::SEND | Rights::RECEIVE,
            Rights::SEND | Rights::GRANT,
            Rights::empty(),
            Rights::SEND | Rights::GRANT
        ]
    );
    let ops: Vec<_> = capability_ops(&kernel, holder).into_iter().map(|(op, _)| op).skip(2).collect();
    assert_eq!(ops, vec![CapabilityOp::Copied, CapabilityOp::Copied, CapabilityOp::Copied, CapabilityOp::Minted]);
    assert_eq!(counters(&kernel, holder).capability_ops, 6, "two grants and four copies");
}

#[test]
fn copies_land_in_the_lowest_free_slot_and_a_deleted_slot_is_reused() {
    let mut kernel = kernel();
    let holder = server(&mut kernel, "holder", 5);
    let endpoint = kernel.create_endpoint(holder);
    let original = kernel.grant(holder, endpoint, Rights::all(), Badge::NONE).unwrap();
    let got = Record::new();
    let seen = got.clone();
    kernel.start(holder, move |sys| async move {
        let first = sys.copy(original, Rights::all()).await?;
        let second = sys.copy(original, Rights::all()).await?;
        sys.delete(first).await?;
        seen.push(sys.try_send(first, message(0, b"")).await.map(|()| Slot(u32::MAX)));
        seen.push(Ok(sys.copy(second, Rights::SEND).await?));
        stay_alive(sys).await
    });
    run_clean(&mut kernel);

    assert_eq!(got.get(), vec![Err(SysError::InvalidCapability), Ok(Slot(1))]);
    assert_eq!(
        capability_ops(&kernel, holder),
        vec![
            (CapabilityOp::Granted, Slot(0)),
            (CapabilityOp::Copied, Slot(1)),
            (CapabilityOp::Copied, Slot(2)),
            (CapabilityOp::Deleted, Slot(1)),
            (CapabilityOp::Copied, Slot(1)),
        ]
    );
    assert_eq!(capability_in(&kernel, holder, Slot(1)).unwrap().rights, Rights::SEND);
}

#[test]
fn a_minted_badge_is_seen_by_receivers_and_kept_by_copies() {
    let mut kernel = kernel();
    let owner = program(&mut kernel, "owner", 5);
    let queue = kernel.create_queue(owner, 4, FullPolicy::Block);
    let port = kernel.grant(owner, queue, Rights::all(), Badge::NONE).unwrap();
    let got = Record::new();
    let seen = got.clone();
    kernel.start(owner, move |sys| async move {
        let minted = sys.mint(port, Rights::SEND, Badge(5)).await?;
        let copied = sys.copy(minted, Rights::all()).await?;
        for slot in [port, minted, copied] {
            sys.send(slot, message(0, b"")).await?;
            seen.push(expect_message(sys.receive(port).await?).badge);
        }
        Ok(0)
    });
    run_clean(&mut kernel);

    assert_eq!(got.get(), vec![Badge::NONE, Badge(5), Badge(5)]);
}

#[test]
fn re_badging_a_badged_capability_is_an_invalid_argument() {
    let mut kernel = kernel();
    let owner = server(&mut kernel, "owner", 5);
    let endpoint = kernel.create_endpoint(owner);
    let plain = kernel.grant(owner, endpoint, Rights::all(), Badge::NONE).unwrap();
    let badged = kernel.grant(owner, endpoint, Rights::all(), Badge(3)).unwrap();
    let got = Record::new();
    let seen = got.clone();
    kernel.start(owner, move |sys| async move {
        seen.push(("another badge", sys.mint(badged, Rights::SEND, Badge(4)).await));
        seen.push(("no badge", sys.mint(badged, Rights::SEND, Badge::NONE).await));
        seen.push(("the same badge", sys.mint(badged, Rights::SEND, Badge(3)).await));
        seen.push(("a first badge", sys.mint(plain, Rights::SEND, Badge(4)).await));
        stay_alive(sys).await
    });
    run_clean(&mut kernel);

    assert_eq!(
        got.get(),
        vec![
            ("another badge", Err(SysError::InvalidArgument)),
            ("no badge", Err(SysError::InvalidArgument)),
            ("the same badge", Ok(Slot(2))),
            ("a first badge", Ok(Slot(3))),
        ]
    );
    assert_eq!(capability_in(&kernel, owner, Slot(2)).unwrap().badge, Badge(3));
    assert_eq!(capability_in(&kernel, owner, Slot(3)).unwrap().badge, Badge(4));
}

#[test]
fn capability_syscalls_on_an_empty_slot_are_invalid_capabilities() {
    let mut kernel = kernel();
    let lonely = program(&mut kernel, "lonely", 5);
    let got = Record::new();
    let seen = got.clone();
    kernel.start(lonely, move |sys| async move {
        let empty = Slot(0);
        seen.push(("copy", sys.copy(empty, Rights::all()).await.map(drop)));
        seen.push(("mint", sys.mint(empty, Rights::all(), Badge(1)).await.map(drop)));
        seen.push(("delete", sys.delete(empty).await));
        seen.push(("revoke", sys.revoke(empty).await.map(drop)));
        seen.push(("region_read", sys.region_read(empty, 0, 1).await.map(drop)));
        seen.push(("region_write", sys.region_write(empty, 0, b"x").await));
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
fn revoke_removes_every_derived_capability_in_every_process_and_keeps_the_original() {
    let mut kernel = kernel();
    let owner = server(&mut kernel, "owner", 10);
    let child = program(&mut kernel, "child", 5);
    let grandchild = program(&mut kernel, "grandchild", 5);
    let endpoint = kernel.create_endpoint(owner);
    let original = kernel.grant(owner, endpoint, Rights::all(), Badge::NONE).unwrap();
    let child_slot = kernel.grant_derived(child, owner, original, Rights::SEND | Rights::GRANT, Badge(1)).unwrap();
    let grandchild_slot = kernel.grant_derived(grandchild, child, child_slot, Rights::SEND, Badge::NONE).unwrap();
    let got = Record::new();
    let seen = got.clone();
    kernel.start(owner, move |sys| async move {
        sys.copy(original, Rights::SEND).await?;
        seen.push(("owner revokes", sys.revoke(original).await));
        seen.push(("owner revokes again", sys.revoke(original).await));
        stay_alive(sys).await
    });
    for (id, slot, name) in [(child, child_slot, "child sends"), (grandchild, grandchild_slot, "grandchild sends")] {
        let seen = got.clone();
        kernel.start(id, move |sys| async move {
            seen.push((name, sys.try_send(slot, message(0, b"")).await.map(|()| 0)));
            Ok(0)
        });
    }
    run_clean(&mut kernel);

    assert_eq!(
        got.get(),
        vec![
            ("owner revokes", Ok(3)),
            ("owner revokes again", Ok(0)),
            ("child sends", Err(SysError::InvalidCapability)),
            ("grandchild sends", Err(SysError::InvalidCapability)),
        ]
    );
    assert_eq!(held(&kernel, owner), vec![(original, Rights::all(), Badge::NONE, Some(ObjectKind::Endpoint))]);
    for id in [child, grandchild] {
        assert!(capability_ops(&kernel, id).contains(&(CapabilityOp::Revoked, Slot(0))));
    }
    assert_eq!(kernel.all_capabilities().len(), 1, "only the original is left anywhere");
}

#[test]
fn revoke_tells_the_revoker_which_of_its_own_slots_it_emptied() {
    let mut kernel = kernel();
    let owner = server(&mut kernel, "owner", 10);
    let other = program(&mut kernel, "other", 5);
    let endpoint = kernel.create_endpoint(owner);
    let original = kernel.grant(owner, endpoint, Rights::all(), Badge::NONE).unwrap();
    kernel.grant_derived(other, owner, original, Rights::SEND, Badge::NONE).unwrap();
    let got = Record::new();
    let seen = got.clone();
    kernel.start(owner, move |sys| async move {
        let copy = sys.copy(original, Rights::SEND | Rights::GRANT).await?;
        let minted = sys.mint(copy, Rights::SEND, Badge(4)).await?;
        let unrelated = sys.create_notification().await?;
        seen.push((vec![copy, minted, unrelated], sys.revoke_emptying(original).await));
        seen.push((vec![], sys.revoke_emptying(original).await));
        stay_alive(sys).await
    });
    kernel.start(other, |_| async { Ok(0) });
    run_clean(&mut kernel);

    let [(made, first), (_, second)] = &got.get()[..] else { panic!("two revokes") };
    assert_eq!(first, &Ok((3, vec![made[0], made[1]])), "three removed, two of them from the owner's own table");
    assert_eq!(second, &Ok((0, vec![])));
}

#[test]
fn revoke_reaches_copies_travelling_in_a_queued_message() {
    let mut kernel = kernel();
    let receiver = program(&mut kernel, "receiver", 5);
    let sender = server(&mut kernel, "sender", 10);
    let queue = kernel.create_queue(receiver, 4, FullPolicy::Block);
    let take = kernel.grant(receiver, queue, Rights::all(), Badge::NONE).unwrap();
    let put = kernel.grant_derived(sender, receiver, take, Rights::SEND | Rights::GRANT, Badge::NONE).unwrap();
    let endpoint = kernel.create_endpoint(sender);
    let original = kernel.grant(sender, endpoint, Rights::all(), Badge::NONE).unwrap();
    let got = Record::new();
    let seen = got.clone();
    kernel.start(sender, move |sys| async move {
        let spare = sys.copy(original, Rights::all()).await?;
        let carried = message(1, b"").with_copy(original, Rights::SEND).with_move(spare);
        sys.send(put, carried).await?;
        seen.push(sys.revoke(original).await?);
        stay_alive(sys).await
    });
    let seen_received = Record::new();
    let received = seen_received.clone();
    kernel.start(receiver, move |sys| async move {
        received.push(expect_message(sys.receive(take).await?));
        Ok(0)
    });
    while kernel.waiting_messages(queue).is_empty() {
        assert!(kernel.step());
    }
    let travelling = kernel.all_capabilities().into_iter().filter(|(holder, _, _)| holder.is_none()).count();
    assert_eq!(travelling, 2, "both capabilities wait inside the queued message");
    run_clean(&mut kernel);

    assert_eq!(got.get(), vec![2], "the copy and the moved copy were both derived from the original");
    let message = &seen_received.get()[0];
    assert_eq!((message.caps.clone(), message.caps_lost), (vec![], 2));
    assert!(kernel.all_capabilities().iter().all(|(holder, _, _)| holder.is_some()));
}

#[test]
fn deleting_a_middle_capability_keeps_its_copies_revocable_from_above() {
    let mut kernel = kernel();
    let owner = server(&mut kernel, "owner", 10);
    let other = program(&mut kernel, "other", 5);
    let endpoint = kernel.create_endpoint(owner);
    let top = kernel.grant(owner, endpoint, Rights::all(), Badge::NONE).unwrap();
    let middle = kernel.grant_derived(owner, owner, top, Rights::all(), Badge::NONE).unwrap();
    let bottom = kernel.grant_derived(other, owner, middle, Rights::SEND, Badge::NONE).unwrap();
    let top_node = kernel.node_of(owner, top).unwrap();
    let bottom_node = kernel.node_of(other, bottom).unwrap();
    assert!(kernel.is_derived_from(bottom_node, top_node));
    let got = Record::new();
    let seen = got.clone();
    kernel.start(owner, move |sys| async move {
        sys.delete(middle).await?;
        seen.push(sys.revoke(top).await.map(|count| count as u32));
        stay_alive(sys).await
    });
    let seen = got.clone();
    kernel.start(other, move |sys| async move {
        seen.push(sys.try_send(bottom, message(0, b"")).await.map(|()| 0));
        Ok(0)
    });
    run_clean(&mut kernel);

    assert_eq!(got.get(), vec![Ok(1), Err(SysError::InvalidCapability)]);
}

/// A receiver owning a queue and a sender holding send and grant on it, plus an
/// endpoint and a notification of its own to pass along.
struct Courier {
    sender: ProcessId,
    receiver: ProcessId,
    take: Slot,
    put: Slot,
    endpoint: Slot,
    word: Slot,
}

fn courier(kernel: &mut Kernel, put_rights: Rights) -> Courier {
    let receiver = program(kernel, "receiver", 5);
    let sender = program(kernel, "sender", 10);
    let queue = kernel.create_queue(receiver, 4, FullPolicy::Block);
    let take = kernel.grant(receiver, queue, Rights::all(), Badge::NONE).unwrap();
    let put = kernel.grant_derived(sender, receiver, take, put_rights, Badge::NONE).unwrap();
    let endpoint = kernel.create_endpoint(sender);
    let endpoint = kernel.grant(sender, endpoint, Rights::all(), Badge::NONE).unwrap();
    let word = kernel.create_notification(sender);
    let word = kernel.grant(sender, word, Rights::all(), Badge::NONE).unwrap();
    Courier { sender, receiver, take, put, endpoint, word }
}

#[test]
fn a_copied_capability_stays_with_the_sender_and_a_moved_one_leaves() {
    let mut kernel = kernel();
    let setup = courier(&mut kernel, Rights::SEND | Rights::GRANT);
    let got = Record::new();
    let (seen, put, endpoint, word) = (got.clone(), setup.put, setup.endpoint, setup.word);
    kernel.start(setup.sender, move |sys| async move {
        sys.send(put, message(1, b"").with_copy(endpoint, Rights::SEND).with_move(word)).await?;
        seen.push(("sender polls the moved notification", sys.poll(word).await.map(drop)));
        seen.push(("sender copies its endpoint", sys.copy(endpoint, Rights::SEND).await.map(drop)));
        sys.sleep(1_000_000).await?;
        Ok(0)
    });
    let (seen, take) = (got.clone(), setup.take);
    kernel.start(setup.receiver, move |sys| async move {
        let received = expect_message(sys.receive(take).await?);
        let [endpoint, word] = received.caps[..] else { panic!("expected two capabilities, got {received:?}") };
        seen.push(("receiver receives on the copy", sys.try_receive(endpoint).await.map(drop)));
        sys.signal(word, 0b10).await?;
        seen.push(("receiver polls the moved notification", sys.poll(word).await.map(|bits| assert_eq!(bits, 0b10))));
        Ok(0)
    });
    run_clean(&mut kernel);

    assert_eq!(
        got.get(),
        vec![
            ("sender polls the moved notification", Err(SysError::InvalidCapability)),
            ("sender copies its endpoint", Ok(())),
            ("receiver receives on the copy", Err(SysError::InsufficientRights)),
            ("receiver polls the moved notification", Ok(())),
        ]
    );
    assert!(capability_ops(&kernel, setup.sender).contains(&(CapabilityOp::SentAway, setup.word)));
    let received: Vec<_> =
        capability_ops(&kernel, setup.receiver).into_iter().filter(|(op, _)| *op == CapabilityOp::Received).collect();
    assert_eq!(received.len(), 2);
}

#[test]
fn a_moved_capability_can_be_narrowed_on_the_way() {
    let mut kernel = kernel();
    let setup = courier(&mut kernel, Rights::SEND | Rights::GRANT);
    let (put, word) = (setup.put, setup.word);
    kernel.start(setup.sender, move |sys| async move {
        let narrowed = CapTransfer { slot: word, mode: TransferMode::Move, rights: Rights::SEND };
        sys.send(put, Message { label: 0, data: Default::default(), caps: vec![narrowed] }).await?;
        sys.sleep(1_000_000).await?;
        Ok(0)
    });
    let got = Record::new();
    let (seen, take) = (got.clone(), setup.take);
    kernel.start(setup.receiver, move |sys| async move {
        let word = expect_message(sys.receive(take).await?).caps[0];
        seen.push(sys.signal(word, 1).await);
        seen.push(sys.poll(word).await.map(drop));
        Ok(0)
    });
    run_clean(&mut kernel);

    assert_eq!(got.get(), vec![Ok(()), Err(SysError::InsufficientRights)]);
}

/// What each client of [`reply_with_a_session`] saw of its answer, and what the server held after.
struct SessionRun {
    /// Per client (with grant, without): the slots that arrived, the count lost, and whether
    /// a receive through the first arrival was refused for want of rights.
    answers: Vec<(usize, u32, Option<SysError>)>,
    /// The server's replies: each went through.
    replies: Vec<Result<(), SysError>>,
    /// What the server held at the end.
    server_held: Vec<(Slot, Rights, Badge, Option<ObjectKind>)>,
}

/// A server answers each of two calls, the first through a capability with send and grant, the
/// second through one with send only, by moving a fresh session capability (send only, badge 77
/// or 78) into the reply. With `fast` the calls may take the fast path.
fn reply_with_a_session(fast: bool) -> SessionRun {
    let mut kernel = kernel();
    kernel.set_fast_ipc(fast);
    let link = link(&mut kernel, 10, 5, Rights::SEND | Rights::GRANT, Badge(1));
    let without = program(&mut kernel, "without grant", 4);
    let plain = kernel.grant_derived(without, link.server, link.serve, Rights::SEND, Badge(2)).unwrap();
    let replies = Record::new();
    let (replied, serve) = (replies.clone(), link.serve);
    kernel.start(link.server, move |sys| async move {
        for badge in [77, 78] {
            let reply = expect_message(sys.receive(serve).await?).reply.unwrap();
            let session = sys.mint(serve, Rights::SEND, Badge(badge)).await?;
            replied.push(sys.reply(reply, message(0, b"").with_move(session)).await);
        }
        stay_alive(sys).await
    });
    let answers = Record::new();
    for (client, slot) in [(link.client, link.call), (without, plain)] {
        let seen = answers.clone();
        kernel.start(client, move |sys| async move {
            let answer = sys.call(slot, message(0, b"")).await?;
            let refused = match answer.caps.first() {
                Some(&session) => sys.try_receive(session).await.err(),
                None => None,
            };
            seen.push((answer.caps.len(), answer.caps_lost, refused));
            Ok(0)
        });
    }
    run_clean(&mut kernel);
    SessionRun { answers: answers.get(), replies: replies.get(), server_held: held(&kernel, link.server) }
}

#[test]
fn a_reply_carries_capabilities_back_only_when_the_call_came_through_a_grant_capability() {
    for fast in [true, false] {
        let run = reply_with_a_session(fast);
        assert_eq!(run.replies, vec![Ok(()), Ok(())], "fast path {fast}: both replies go through");
        assert_eq!(
            run.answers,
            vec![(1, 0, Some(SysError::InsufficientRights)), (0, 1, None)],
            "fast path {fast}: the caller with grant gets a send-only session; the other gets none and is told \
             one was held back"
        );
        let sessions: Vec<_> = run
            .server_held
            .iter()
            .filter(|(_, _, badge, _)| badge.0 >= 77)
            .map(|&(_, rights, badge, kind)| (rights, badge, kind))
            .collect();
        assert_eq!(
            sessions,
            vec![(Rights::SEND, Badge(78), Some(ObjectKind::Endpoint))],
            "fast path {fast}: the session moved into a reply without grant stays with the server"
        );
    }
}

/// One capability a generated reply carries: the server's notification (0) or second
/// endpoint (1), copied or moved, with the rights to keep.
type ReplyTransfer = (usize, TransferMode, Rights);

/// What [`answer_with`] saw.
struct Answered {
    /// The server's reply: it always goes through.
    replies: Vec<Result<(), SysError>>,
    /// How many capabilities arrived with the answer, and how many were lost.
    answers: Vec<(usize, u32)>,
    /// The client's table at the end, after its calling capability.
    arrived: Vec<Capability>,
    /// How many capabilities the server held at the end.
    server_held: usize,
    /// The notification and the second endpoint the server can pass.
    passable: [ObjectId; 2],
}

/// A client calls through a capability with `caller_rights` (plus send); the server, holding
/// its notification and second endpoint with `held_rights`, answers with `transfers`.
fn answer_with(caller_rights: Rights, held_rights: Rights, transfers: Vec<ReplyTransfer>, fast: bool) -> Answered {
    let mut kernel = kernel();
    kernel.set_fast_ipc(fast);
    let host = server(&mut kernel, "server", 10);
    let client = server(&mut kernel, "client", 5);
    let endpoint = kernel.create_endpoint(host);
    let serve = kernel.grant(host, endpoint, Rights::all(), Badge::NONE).unwrap();
    let call = kernel.grant_derived(client, host, serve, caller_rights | Rights::SEND, Badge(1)).unwrap();
    let passable = [kernel.create_notification(host), kernel.create_endpoint(host)];
    let slots = passable.map(|object| kernel.grant(host, object, held_rights, Badge::NONE).unwrap());
    let replies = Record::new();
    let replied = replies.clone();
    kernel.start(host, move |sys| async move {
        let reply = expect_message(sys.receive(serve).await?).reply.unwrap();
        let caps = transfers
            .into_iter()
            .map(|(which, mode, rights)| CapTransfer { slot: slots[which], mode, rights })
            .collect();
        replied.push(sys.reply(reply, Message { label: 0, data: Default::default(), caps }).await);
        stay_alive(sys).await
    });
    let answers = Record::new();
    let seen = answers.clone();
    kernel.start(client, move |sys| async move {
        let answer = sys.call(call, message(0, b"")).await?;
        seen.push((answer.caps.len(), answer.caps_lost));
        stay_alive(sys).await
    });
    run_clean(&mut kernel);
    let arrived = kernel.capabilities(client).into_iter().skip(1).map(|(_, capability, _)| capability).collect();
    let server_held = kernel.capabilities(host).len();
    Answered { replies: replies.get(), answers: answers.get(), arrived, server_held, passable }
}

fn any_rights() -> impl Strategy<Value = Rights> {
    any::<u8>().prop_map(Rights::from_bits_truncate)
}

/// Up to two transfers, of different capabilities (moving one twice is another error).
fn reply_transfers() -> impl Strategy<Value = Vec<ReplyTransfer>> {
    let transfer = || (prop_oneof![Just(TransferMode::Copy), Just(TransferMode::Move)], any_rights());
    (prop::option::of(transfer()), prop::option::of(transfer())).prop_map(|(first, second)| {
        [first.map(|(mode, rights)| (0, mode, rights)), second.map(|(mode, rights)| (1, mode, rights))]
            .into_iter()
            .flatten()
            .collect()
    })
}

proptest! {
    /// Whatever rights the caller's capability has and whatever the answer carries: the reply
    /// goes through; capabilities arrive only if the caller's capability has grant, each with
    /// exactly the rights the server held and asked to keep (never more); otherwise every one
    /// stays with the server and the caller is told how many were held back.
    #[test]
    fn capabilities_come_back_in_a_reply_only_through_grant_and_never_with_more_rights(
        caller_rights in any_rights(),
        held_rights in any_rights(),
        transfers in reply_transfers(),
        fast in any::<bool>(),
    ) {
        let run = answer_with(caller_rights, held_rights, transfers.clone(), fast);
        prop_assert_eq!(run.replies, vec![Ok(())]);
        let grant = caller_rights.contains(Rights::GRANT);
        let expected = if grant { (transfers.len(), 0) } else { (0, transfers.len() as u32) };
        prop_assert_eq!(run.answers, vec![expected]);
        prop_assert_eq!(run.arrived.len(), expected.0);
        for (capability, &(which, _, asked)) in run.arrived.iter().zip(&transfers) {
            prop_assert_eq!(capability.object, run.passable[which]);
            prop_assert_eq!(capability.rights, held_rights & asked, "rights never grow");
        }
        let moved_away = transfers.iter().filter(|&&(_, mode, _)| grant && mode == TransferMode::Move).count();
        prop_assert_eq!(run.server_held, 3 - moved_away, "a move leaves the server only through grant");
    }
}

#[test]
fn a_reply_without_grant_is_still_checked_whole_before_it_goes() {
    let mut kernel = kernel();
    let link = link(&mut kernel, 10, 5, Rights::SEND, Badge::NONE);
    let got = Record::new();
    let (seen, serve, call) = (got.clone(), link.serve, link.call);
    kernel.start(link.server, move |sys| async move {
        let reply = expect_message(sys.receive(serve).await?).reply.unwrap();
        seen.push(sys.reply(reply, message(0, b"").with_copy(Slot(40), Rights::SEND)).await);
        seen.push(sys.reply(reply, message(0, b"").with_copy(serve, Rights::SEND)).await);
        stay_alive(sys).await
    });
    kernel.start(link.client, move |sys| async move {
        let answer = sys.call(call, message(0, b"")).await?;
        assert_eq!((answer.caps.len(), answer.caps_lost), (0, 1));
        Ok(0)
    });
    run_clean(&mut kernel);

    assert_eq!(
        got.get(),
        vec![Err(SysError::InvalidCapability), Ok(())],
        "a transfer from an empty slot is an error whatever the grant; the well-formed reply goes, its copy held back"
    );
    let copies: Vec<_> = kernel.log().messages().iter().map(|record| record.caps).collect();
    assert_eq!(copies, vec![0, 0], "the log shows the reply travelled with no capability");
    assert!(
        !capability_ops(&kernel, link.client).iter().any(|(op, _)| *op == CapabilityOp::Received),
        "nothing arrived at the caller"
    );
}

#[test]
fn the_reply_capability_of_a_call_comes_before_the_capabilities_it_carries() {
    let mut kernel = kernel_with(|config| config.limits.capability_slots_max = 2);
    let link = link(&mut kernel, 10, 5, Rights::SEND | Rights::GRANT, Badge::NONE);
    let got = Record::new();
    let (seen, serve, call) = (got.clone(), link.serve, link.call);
    kernel.start(link.server, move |sys| async move {
        let request = expect_message(sys.receive(serve).await?);
        seen.push((request.reply.is_some(), request.caps.len(), request.caps_lost));
        sys.reply(request.reply.unwrap(), message(0, b"")).await?;
        Ok(0)
    });
    kernel.start(link.client, move |sys| async move {
        sys.call(call, message(0, b"").with_copy(call, Rights::SEND)).await?;
        Ok(0)
    });
    run_clean(&mut kernel);

    assert_eq!(got.get(), vec![(true, 0, 1)]);
}

#[test]
fn passing_capabilities_without_the_grant_right_is_refused_and_sends_nothing() {
    let mut kernel = kernel();
    let setup = courier(&mut kernel, Rights::SEND);
    let got = Record::new();
    let (seen, put, endpoint, word) = (got.clone(), setup.put, setup.endpoint, setup.word);
    kernel.start(setup.sender, move |sys| async move {
        seen.push(("copy", sys.send(put, message(0, b"").with_copy(endpoint, Rights::SEND)).await));
        seen.push(("move", sys.try_send(put, message(0, b"").with_move(word)).await));
        seen.push(("no capability", sys.try_send(put, message(0, b"")).await));
        seen.push(("moved one still held", sys.signal(word, 1).await));
        Ok(0)
    });
    let take = setup.take;
    kernel.start(setup.receiver, move |sys| async move {
        sys.receive(take).await?;
        Ok(0)
    });
    run_clean(&mut kernel);

    assert_eq!(
        got.get(),
        vec![
            ("copy", Err(SysError::InsufficientRights)),
            ("move", Err(SysError::InsufficientRights)),
            ("no capability", Ok(())),
            ("moved one still held", Ok(())),
        ]
    );
    assert_eq!(kernel.log().messages().len(), 1);
}

#[test]
fn a_message_carrying_a_bad_transfer_is_refused_whole() {
    let mut kernel = kernel();
    let setup = courier(&mut kernel, Rights::SEND | Rights::GRANT);
    let got = Record::new();
    let (seen, put, endpoint, word) = (got.clone(), setup.put, setup.endpoint, setup.word);
    kernel.start(setup.sender, move |sys| async move {
        let empty_slot = message(0, b"").with_copy(endpoint, Rights::SEND).with_copy(Slot(60), Rights::all());
        seen.push(("an empty slot", sys.try_send(put, empty_slot).await));
        seen.push(("moved twice", sys.try_send(put, message(0, b"").with_move(word).with_move(word)).await));
        seen.push((
            "copied and moved",
            sys.try_send(put, message(0, b"").with_copy(word, Rights::SEND).with_move(word)).await,
        ));
        let twice = message(7, b"").with_copy(word, Rights::SEND).with_copy(word, Rights::SEND);
        seen.push(("copied twice", sys.try_send(put, twice).await));
        seen.push(("still held", sys.signal(word, 1).await));
        Ok(0)
    });
    let received = Record::new();
    let (arrived, take) = (received.clone(), setup.take);
    kernel.start(setup.receiver, move |sys| async move {
        let message = expect_message(sys.receive(take).await?);
        arrived.push((message.label, message.caps.len()));
        Ok(0)
    });
    run_clean(&mut kernel);

    assert_eq!(
        got.get(),
        vec![
            ("an empty slot", Err(SysError::InvalidCapability)),
            ("moved twice", Err(SysError::InvalidArgument)),
            ("copied and moved", Err(SysError::InvalidArgument)),
            ("copied twice", Ok(())),
            ("still held", Ok(())),
        ]
    );
    assert_eq!(received.get(), vec![(7, 2)]);
    assert!(!capability_ops(&kernel, setup.sender).iter().any(|(op, _)| *op == CapabilityOp::SentAway));
}

#[test]
fn capabilities_arriving_at_a_full_table_are_lost_and_counted() {
    let mut kernel = kernel_with(|config| config.limits.capability_slots_max = 3);
    let setup = courier(&mut kernel, Rights::SEND | Rights::GRANT);
    let (put, endpoint, word) = (setup.put, setup.endpoint, setup.word);
    kernel.start(setup.sender, move |sys| async move {
        let three = message(0, b"").with_copy(endpoint, Rights::SEND).with_copy(word, Rights::SEND);
        sys.send(put, three.with_copy(endpoint, Rights::SEND)).await?;
        sys.sleep(1_000_000).await?;
        Ok(0)
    });
    let got = Record::new();
    let (seen, take) = (got.clone(), setup.take);
    kernel.start(setup.receiver, move |sys| async move {
        let filler = sys.copy(take, Rights::SEND).await?;
        let message = expect_message(sys.receive(take).await?);
        seen.push((message.caps, message.caps_lost, filler));
        Ok(0)
    });
    run_clean(&mut kernel);

    assert_eq!(got.get(), vec![(vec![Slot(2)], 2, Slot(1))], "one capability fitted, two were lost");
}

#[test]
fn a_capability_to_an_object_whose_owner_died_is_peer_dead_but_can_still_be_deleted() {
    let mut kernel = kernel();
    let owner = program(&mut kernel, "owner", 10);
    let holder = server(&mut kernel, "holder", 5);
    let endpoint = kernel.create_endpoint(owner);
    let word = kernel.create_notification(owner);
    let region = kernel.create_region(owner, 8);
    let queue = kernel.create_queue(owner, 2, FullPolicy::Fail);
    let port = kernel.grant(holder, endpoint, Rights::all(), Badge::NONE).unwrap();
    let bits = kernel.grant(holder, word, Rights::all(), Badge::NONE).unwrap();
    let bytes = kernel.grant(holder, region, Rights::all(), Badge::NONE).unwrap();
    let queued = kernel.grant(holder, queue, Rights::all(), Badge::NONE).unwrap();
    kernel.start(owner, |_sys| async { Ok(0) });
    let got = Record::new();
    let seen = got.clone();
    kernel.start(holder, move |sys| async move {
        seen.push(("send", sys.send(port, message(0, b"")).await));
        seen.push(("call", sys.call(port, message(0, b"")).await.map(drop)));
        seen.push(("receive", sys.receive(port).await.map(drop)));
        seen.push(("queue send", sys.send(queued, message(0, b"")).await));
        seen.push(("queue receive", sys.try_receive(queued).await.map(drop)));
        seen.push(("signal", sys.signal(bits, 1).await));
        seen.push(("wait", sys.wait(bits).await.map(drop)));
        seen.push(("bind", sys.bind_notification(bits).await));
        seen.push(("region_read", sys.region_read(bytes, 0, 1).await.map(drop)));
        seen.push(("region_write", sys.region_write(bytes, 0, b"x").await));
        seen.push(("copy", sys.copy(port, Rights::all()).await.map(drop)));
        seen.push(("mint", sys.mint(port, Rights::all(), Badge(1)).await.map(drop)));
        sys.delete(queued).await?;
        stay_alive(sys).await
    });
    run_clean(&mut kernel);

    let recorded = got.get();
    assert_eq!(recorded.len(), 12);
    for (what, result) in recorded {
        assert_eq!(result, Err(SysError::PeerDead), "{what}");
    }
    let kinds: Vec<_> = held(&kernel, holder).into_iter().map(|(slot, _, _, kind)| (slot, kind)).collect();
    assert_eq!(kinds, vec![(port, None), (bits, None), (bytes, None)], "stale capabilities name no live object");
    assert_eq!(kernel.object_kind(endpoint), None);
}

#[test]
fn the_capability_slot_quota_refuses_new_capabilities_until_one_is_deleted() {
    let mut kernel = kernel_with(|config| config.limits.capability_slots_max = 3);
    let holder = program(&mut kernel, "holder", 5);
    let word = kernel.create_notification(holder);
    let original = kernel.grant(holder, word, Rights::all(), Badge::NONE).unwrap();
    let got = Record::new();
    let seen = got.clone();
    kernel.start(holder, move |sys| async move {
        let first = sys.copy(original, Rights::all()).await?;
        sys.mint(original, Rights::all(), Badge(1)).await?;
        seen.push(("copy", sys.copy(original, Rights::all()).await.map(drop)));
        seen.push(("mint", sys.mint(original, Rights::all(), Badge(2)).await.map(drop)));
        seen.push(("create_endpoint", sys.create_endpoint().await.map(drop)));
        seen.push(("create_notification", sys.create_notification().await.map(drop)));
        seen.push(("create_queue", sys.create_queue(1, FullPolicy::Block).await.map(drop)));
        seen.push(("create_region", sys.create_region(1).await.map(drop)));
        sys.delete(first).await?;
        seen.push(("copy after a delete", sys.copy(original, Rights::all()).await.map(drop)));
        Ok(0)
    });
    let objects_before = count_events(&kernel, |kind| matches!(kind, EventKind::Created { .. }));
    run_clean(&mut kernel);

    let quota = Err(SysError::QuotaExceeded);
    assert_eq!(
        got.get(),
        vec![
            ("copy", quota),
            ("mint", quota),
            ("create_endpoint", quota),
            ("create_notification", quota),
            ("create_queue", quota),
            ("create_region", quota),
            ("copy after a delete", Ok(())),
        ]
    );
    let objects_after = count_events(&kernel, |kind| matches!(kind, EventKind::Created { .. }));
    assert_eq!(objects_after, objects_before, "no object is made without a slot for it");
}

#[test]
fn setup_grants_respect_the_slot_quota_and_need_a_source_capability() {
    let mut kernel = kernel_with(|config| config.limits.capability_slots_max = 2);
    let holder = program(&mut kernel, "holder", 5);
    let other = program(&mut kernel, "other", 5);
    let word = kernel.create_notification(holder);
    let original = kernel.grant(holder, word, Rights::all(), Badge::NONE).unwrap();
    assert_eq!(kernel.grant_derived(holder, holder, original, Rights::SEND, Badge::NONE), Ok(Slot(1)));
    assert_eq!(kernel.grant(holder, word, Rights::all(), Badge::NONE), Err(SysError::QuotaExceeded));
    let refused = kernel.grant_derived(holder, holder, original, Rights::all(), Badge::NONE);
    assert_eq!(refused, Err(SysError::QuotaExceeded));
    let from_nothing = kernel.grant_derived(other, holder, Slot(5), Rights::all(), Badge::NONE);
    assert_eq!(from_nothing, Err(SysError::InvalidCapability));
    assert!(kernel.capabilities(other).is_empty());
    assert_eq!(capability_in(&kernel, holder, Slot(1)).unwrap().rights, Rights::SEND);
}

#[test]
fn the_object_quota_refuses_new_objects_and_deleting_a_capability_frees_none() {
    let mut kernel = kernel_with(|config| config.limits.objects_per_process_max = 2);
    let maker = program(&mut kernel, "maker", 5);
    let got = Record::new();
    let seen = got.clone();
    kernel.start(maker, move |sys| async move {
        seen.push(("create_endpoint", sys.create_endpoint().await.map(drop)));
        let word = sys.create_notification().await;
        seen.push(("create_notification", word.map(drop)));
        seen.push(("create_queue", sys.create_queue(1, FullPolicy::Fail).await.map(drop)));
        seen.push(("create_region", sys.create_region(4).await.map(drop)));
        sys.delete(word?).await?;
        seen.push(("create_endpoint after a delete", sys.create_endpoint().await.map(drop)));
        Ok(0)
    });
    run_clean(&mut kernel);

    let quota = Err(SysError::QuotaExceeded);
    assert_eq!(
        got.get(),
        vec![
            ("create_endpoint", Ok(())),
            ("create_notification", Ok(())),
            ("create_queue", quota),
            ("create_region", quota),
            ("create_endpoint after a delete", quota),
        ]
    );
}

#[test]
fn created_objects_come_with_every_right_and_die_with_their_creator() {
    let mut kernel = kernel();
    let maker = program(&mut kernel, "maker", 5);
    let got = Record::new();
    let seen = got.clone();
    kernel.start(maker, move |sys| async move {
        seen.push(sys.create_endpoint().await?);
        seen.push(sys.create_notification().await?);
        seen.push(sys.create_region(32).await?);
        seen.push(sys.create_queue(2, FullPolicy::Block).await?);
        sys.sleep(10).await?;
        Ok(0)
    });
    while !matches!(state(&kernel, maker), ProcessState::Sleeping { .. }) {
        assert!(kernel.step());
    }
    let table = held(&kernel, maker);
    let kinds = [ObjectKind::Endpoint, ObjectKind::Notification, ObjectKind::Region, ObjectKind::Queue];
    let expected: Vec<_> = kinds
        .iter()
        .enumerate()
        .map(|(slot, &kind)| (Slot(slot as u32), Rights::all(), Badge::NONE, Some(kind)))
        .collect();
    assert_eq!(table, expected);
    let ops: Vec<_> = capability_ops(&kernel, maker).into_iter().map(|(op, _)| op).collect();
    assert_eq!(ops, vec![CapabilityOp::Created; 4]);
    let objects: Vec<_> = kernel.capabilities(maker).into_iter().map(|(_, capability, _)| capability.object).collect();
    assert_eq!(got.get(), vec![Slot(0), Slot(1), Slot(2), Slot(3)]);
    run_clean(&mut kernel);

    assert!(objects.iter().all(|&object| kernel.object_kind(object).is_none()));
    assert!(kernel.capabilities(maker).is_empty());
}

#[test]
fn a_region_starts_zeroed_and_reads_back_what_was_written() {
    let mut kernel = kernel();
    let user = program(&mut kernel, "user", 5);
    let got = Record::new();
    let seen = got.clone();
    kernel.start(user, move |sys| async move {
        let region = sys.create_region(8).await?;
        seen.push(sys.region_read(region, 0, 8).await?);
        sys.region_write(region, 2, b"abcd").await?;
        seen.push(sys.region_read(region, 0, 8).await?);
        seen.push(sys.region_read(region, 8, 0).await?);
        Ok(0)
    });
    run_clean(&mut kernel);

    assert_eq!(got.get(), vec![vec![0; 8], b"\0\0abcd\0\0".to_vec(), vec![]]);
    assert_eq!(counters(&kernel, user).bytes_through_regions, 8 + 4 + 8);
}

#[test]
fn region_access_outside_its_bounds_is_an_invalid_argument() {
    let mut kernel = kernel_with(|config| config.limits.region_bytes_max = 64);
    let user = program(&mut kernel, "user", 5);
    let got = Record::new();
    let seen = got.clone();
    kernel.start(user, move |sys| async move {
        let region = sys.create_region(8).await?;
        seen.push(("read past the end", sys.region_read(region, 6, 3).await.map(drop)));
        seen.push(("read starting past the end", sys.region_read(region, 9, 0).await.map(drop)));
        seen.push(("write past the end", sys.region_write(region, 7, b"ab").await));
        seen.push(("huge offset", sys.region_read(region, u32::MAX, u32::MAX).await.map(drop)));
        seen.push(("larger than the limit", sys.create_region(65).await.map(drop)));
        seen.push(("exactly the limit", sys.create_region(64).await.map(drop)));
        seen.push(("untouched", sys.region_read(region, 0, 8).await.map(|bytes| assert_eq!(bytes, vec![0; 8]))));
        Ok(0)
    });
    run_clean(&mut kernel);

    assert_eq!(
        got.get(),
        vec![
            ("read past the end", Err(SysError::InvalidArgument)),
            ("read starting past the end", Err(SysError::InvalidArgument)),
            ("write past the end", Err(SysError::InvalidArgument)),
            ("huge offset", Err(SysError::InvalidArgument)),
            ("larger than the limit", Err(SysError::QuotaExceeded)),
            ("exactly the limit", Ok(())),
            ("untouched", Ok(())),
        ]
    );
}

#[test]
fn region_access_needs_the_read_or_write_right_and_a_region() {
    let mut kernel = kernel();
    let user = program(&mut kernel, "user", 5);
    let region = kernel.create_region(user, 4);
    let read_only = kernel.grant(user, region, Rights::READ, Badge::NONE).unwrap();
    let write_only = kernel.grant(user, region, Rights::WRITE, Badge::NONE).unwrap();
    let endpoint = kernel.create_endpoint(user);
    let port = kernel.grant(user, endpoint, Rights::all(), Badge::NONE).unwrap();
    let got = Record::new();
    let seen = got.clone();
    kernel.start(user, move |sys| async move {
        seen.push(("write through read-only", sys.region_write(read_only, 0, b"x").await));
        seen.push(("read through write-only", sys.region_read(write_only, 0, 1).await.map(drop)));
        seen.push(("write through write-only", sys.region_write(write_only, 0, b"x").await));
        seen.push(("read through read-only", sys.region_read(read_only, 0, 1).await.map(|b| assert_eq!(b, b"x"))));
        seen.push(("read an endpoint", sys.region_read(port, 0, 1).await.map(drop)));
        seen.push(("write an endpoint", sys.region_write(port, 0, b"x").await));
        Ok(0)
    });
    run_clean(&mut kernel);

    assert_eq!(
        got.get(),
        vec![
            ("write through read-only", Err(SysError::InsufficientRights)),
            ("read through write-only", Err(SysError::InsufficientRights)),
            ("write through write-only", Ok(())),
            ("read through read-only", Ok(())),
            ("read an endpoint", Err(SysError::WrongObjectKind)),
            ("write an endpoint", Err(SysError::WrongObjectKind)),
        ]
    );
}

/// The client lends a region with write access only; the server fills it and replies.
#[test]
fn a_server_fills_a_region_the_client_lent_it_inside_a_call() {
    let mut kernel = kernel();
    let link = link(&mut kernel, 10, 5, Rights::SEND | Rights::GRANT, Badge::NONE);
    let region = kernel.create_region(link.client, 16);
    let buffer = kernel.grant(link.client, region, Rights::all(), Badge::NONE).unwrap();
    let got = Record::new();
    let (seen, serve, call) = (got.clone(), link.serve, link.call);
    kernel.start(link.server, move |sys| async move {
        loop {
            let request = expect_message(sys.receive(serve).await?);
            let lent = request.caps[0];
            seen.push(("server reads the lent region", sys.region_read(lent, 0, 4).await.map(drop)));
            seen.push(("server writes the lent region", sys.region_write(lent, 0, b"filled").await));
            sys.delete(lent).await?;
            sys.reply(request.reply.unwrap(), message(6, b"")).await?;
        }
    });
    let seen = got.clone();
    kernel.start(link.client, move |sys| async move {
        let answer = sys.call(call, message(1, b"").with_copy(buffer, Rights::WRITE)).await?;
        let filled = sys.region_read(buffer, 0, answer.label).await?;
        seen.push((
            "client reads what the server wrote",
            if filled == b"filled" { Ok(()) } else { Err(SysError::InvalidArgument) },
        ));
        Ok(0)
    });
    run_clean(&mut kernel);

    assert_eq!(
        got.get(),
        vec![
            ("server reads the lent region", Err(SysError::InsufficientRights)),
            ("server writes the lent region", Ok(())),
            ("client reads what the server wrote", Ok(())),
        ]
    );
    assert_eq!(counters(&kernel, link.server).bytes_through_regions, 6);
    assert_eq!(counters(&kernel, link.client).bytes_copied, 0, "no data travelled in the messages");
}

#[test]
fn a_reply_capability_can_be_neither_copied_minted_nor_passed_along() {
    let mut kernel = kernel();
    let link = link(&mut kernel, 10, 5, Rights::SEND, Badge::NONE);
    let queue = kernel.create_queue(link.server, 2, FullPolicy::Fail);
    let pass = kernel.grant(link.server, queue, Rights::all(), Badge::NONE).unwrap();
    let got = Record::new();
    let (seen, serve, call) = (got.clone(), link.serve, link.call);
    kernel.start(link.server, move |sys| async move {
        let reply = expect_message(sys.receive(serve).await?).reply.unwrap();
        seen.push(("copy", sys.copy(reply, Rights::all()).await.map(drop)));
        seen.push(("mint", sys.mint(reply, Rights::all(), Badge(1)).await.map(drop)));
        seen.push(("send it", sys.try_send(pass, message(0, b"").with_move(reply)).await));
        seen.push(("reply with it", sys.reply(reply, message(0, b"").with_copy(reply, Rights::SEND)).await));
        seen.push(("revoke it", sys.revoke(reply).await.map(|count| assert_eq!(count, 0))));
        seen.push(("reply", sys.reply(reply, message(0, b"")).await));
        stay_alive(sys).await
    });
    kernel.start(link.client, move |sys| async move {
        sys.call(call, message(0, b"")).await?;
        Ok(0)
    });
    run_clean(&mut kernel);

    assert_eq!(
        got.get(),
        vec![
            ("copy", Err(SysError::WrongObjectKind)),
            ("mint", Err(SysError::WrongObjectKind)),
            ("send it", Err(SysError::WrongObjectKind)),
            ("reply with it", Err(SysError::WrongObjectKind)),
            ("revoke it", Ok(())),
            ("reply", Ok(())),
        ]
    );
    let kinds: Vec<_> = held(&kernel, link.server).into_iter().map(|(_, _, _, kind)| kind).collect();
    assert_eq!(kinds, vec![Some(ObjectKind::Endpoint), Some(ObjectKind::Queue)], "the reply capability was used up");
}
