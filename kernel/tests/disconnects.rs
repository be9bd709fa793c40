//! Disconnect notices: a server whose endpoint reports disconnects is told, by a message with
//! the label `DISCONNECTED` and the client's badge, when a client ends, so it can drop what it
//! kept for that client. A notice never waits, and a receive takes it before any sender.

mod common;

use common::*;
use mksim_kernel::*;

const ALICE: Badge = Badge(7);

/// [`link`], with an endpoint that reports disconnects from the start (as a server's port does:
/// a process is known as a client when it is given its capability).
fn reporting_link(kernel: &mut Kernel, server_level: u8, client_level: u8, badge: Badge) -> Link {
    let server = server(kernel, "server", server_level);
    let client = program(kernel, "client", client_level);
    let endpoint = kernel.create_endpoint(server);
    kernel.report_disconnects(endpoint);
    let serve = kernel.grant(server, endpoint, Rights::all(), Badge::NONE).unwrap();
    let call = kernel.grant_derived(client, server, serve, Rights::SEND, badge).unwrap();
    Link { server, client, endpoint, serve, call }
}

/// Starts the link's server: it receives `count` messages, recording each one's label and badge.
fn record_receipts(kernel: &mut Kernel, link: &Link, count: usize) -> Record<(u32, u64)> {
    let got = Record::new();
    let seen = got.clone();
    let serve = link.serve;
    kernel.start(link.server, move |sys| async move {
        for _ in 0..count {
            let received = expect_message(sys.receive(serve).await?);
            seen.push((received.label, received.badge.0));
            if let Some(reply) = received.reply {
                sys.reply(reply, message(2, b"ok")).await?;
            }
        }
        Ok(0)
    });
    got
}

#[test]
fn a_client_that_ends_is_reported_to_a_waiting_server_with_its_badge() {
    let mut kernel = kernel();
    let link = reporting_link(&mut kernel, 6, 5, ALICE);
    let got = record_receipts(&mut kernel, &link, 2);
    let call = link.call;
    kernel.start(link.client, move |sys| async move {
        sys.call(call, message(1, b"open")).await?;
        Ok(0)
    });
    run_clean(&mut kernel);

    assert_eq!(got.get(), [(1, 7), (DISCONNECTED, 7)]);
    // The notice is a message like any other: sent by the client that ended, and delivered once.
    assert_eq!(counters(&kernel, link.client).messages_sent.total(), 2);
    assert_no_message_has_two_fates(&kernel);
}

#[test]
fn an_endpoint_that_does_not_report_disconnects_hears_nothing() {
    let mut kernel = kernel();
    let link = link(&mut kernel, 6, 5, Rights::SEND, ALICE);
    let got = record_receipts(&mut kernel, &link, 2);
    let call = link.call;
    kernel.start(link.client, move |sys| async move {
        sys.call(call, message(1, b"open")).await?;
        Ok(0)
    });
    kernel.run();

    assert_eq!(got.get(), [(1, 7)]);
    assert_eq!(counters(&kernel, link.client).messages_sent.total(), 1);
}

#[test]
fn a_client_that_dropped_its_capability_before_ending_is_still_reported() {
    let mut kernel = kernel();
    let link = reporting_link(&mut kernel, 6, 5, ALICE);
    let got = record_receipts(&mut kernel, &link, 2);
    let call = link.call;
    kernel.start(link.client, move |sys| async move {
        sys.call(call, message(1, b"open")).await?;
        sys.delete(call).await?;
        Ok(0)
    });
    run_clean(&mut kernel);

    assert_eq!(got.get(), [(1, 7), (DISCONNECTED, 7)]);
}

#[test]
fn an_unbadged_capability_names_no_client_and_is_not_reported() {
    let mut kernel = kernel();
    let link = reporting_link(&mut kernel, 6, 5, Badge::NONE);
    let got = record_receipts(&mut kernel, &link, 2);
    let call = link.call;
    kernel.start(link.client, move |sys| async move {
        sys.call(call, message(1, b"open")).await?;
        Ok(0)
    });
    kernel.run();

    assert_eq!(got.get(), [(1, 0)]);
}

#[test]
fn a_queued_notice_is_received_before_a_sender_that_was_already_waiting() {
    let mut kernel = kernel();
    let link = reporting_link(&mut kernel, 4, 6, ALICE);
    let bob = program(&mut kernel, "bob", 5);
    let bob_call = kernel.grant_derived(bob, link.server, link.serve, Rights::SEND, Badge(8)).unwrap();
    // The server runs last (lowest priority): bob's call is waiting on the endpoint before
    // alice ends, and alice's notice is queued behind no one.
    let got = record_receipts(&mut kernel, &link, 2);
    kernel.start(bob, move |sys| async move {
        sys.call(bob_call, message(3, b"bob")).await?;
        Ok(0)
    });
    kernel.start(link.client, |_sys| async { Ok(0) });
    run_clean(&mut kernel);

    assert_eq!(got.get(), [(DISCONNECTED, 7), (3, 8)]);
}

#[test]
fn a_server_that_ends_is_not_told_of_itself_and_a_dead_server_is_not_told_at_all() {
    let mut kernel = kernel();
    let link = reporting_link(&mut kernel, 6, 5, ALICE);
    kernel.start(link.server, |_sys| async { Ok(0) });
    kernel.start(link.client, |sys| async move {
        sys.sleep(1_000).await?;
        Ok(0)
    });
    run_clean(&mut kernel);

    assert_eq!(counters(&kernel, link.client).messages_sent.total(), 0);
}
