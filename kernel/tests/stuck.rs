//! The end of a run where nothing can run: a wait-for cycle is a deadlock, and a process that
//! waits on a port or notification nobody else can send to is reported as exactly that.

mod common;

use common::*;
use mksim_kernel::*;

#[test]
fn a_receiver_nobody_can_send_to_is_reported_as_such_and_not_in_a_cycle() {
    let mut kernel = kernel();
    let lonely = program(&mut kernel, "lonely", 5);
    let endpoint = kernel.create_endpoint(lonely);
    let inbox = kernel.grant(lonely, endpoint, Rights::all(), Badge::NONE).unwrap();
    kernel.start(lonely, move |sys| async move {
        sys.receive(inbox).await?;
        Ok(0)
    });
    let Outcome::Deadlock(report) = kernel.run().clone() else { panic!("{:?}", kernel.outcome()) };
    assert!(!report.has_cycle());
    let [blocked] = report.blocked.as_slice() else { panic!("{report:?}") };
    assert!(blocked.no_possible_sender && !blocked.in_cycle, "{blocked:?}");
}

#[test]
fn a_receiver_someone_else_could_send_to_is_not_marked_so() {
    let mut kernel = kernel();
    let waiting = program(&mut kernel, "waiting", 5);
    let idle = program(&mut kernel, "idle", 5);
    let endpoint = kernel.create_endpoint(waiting);
    let inbox = kernel.grant(waiting, endpoint, Rights::all(), Badge::NONE).unwrap();
    let notification = kernel.create_notification(idle);
    let never = kernel.grant(idle, notification, Rights::all(), Badge::NONE).unwrap();
    // idle holds a send capability to the inbox, but itself waits on a notification only it
    // could signal: it could send, so waiting is not marked; idle is.
    kernel.grant_derived(idle, waiting, inbox, Rights::SEND, Badge(1)).unwrap();
    kernel.start(waiting, move |sys| async move {
        sys.receive(inbox).await?;
        Ok(0)
    });
    kernel.start(idle, move |sys| async move {
        sys.wait(never).await?;
        Ok(0)
    });
    let Outcome::Deadlock(report) = kernel.run().clone() else { panic!("{:?}", kernel.outcome()) };
    let marked: Vec<(&str, bool)> =
        report.blocked.iter().map(|blocked| (blocked.name.as_str(), blocked.no_possible_sender)).collect();
    assert_eq!(marked, [("waiting", false), ("idle", true)]);
    assert!(!report.has_cycle());
}

#[test]
fn two_processes_calling_each_other_are_a_deadlock_with_a_cycle() {
    let mut kernel = kernel();
    let alice = program(&mut kernel, "alice", 5);
    let bob = program(&mut kernel, "bob", 5);
    let alice_port = kernel.create_endpoint(alice);
    let bob_port = kernel.create_endpoint(bob);
    let alice_own = kernel.grant(alice, alice_port, Rights::all(), Badge::NONE).unwrap();
    let bob_own = kernel.grant(bob, bob_port, Rights::all(), Badge::NONE).unwrap();
    let to_bob = kernel.grant_derived(alice, bob, bob_own, Rights::SEND, Badge(1)).unwrap();
    let to_alice = kernel.grant_derived(bob, alice, alice_own, Rights::SEND, Badge(2)).unwrap();
    kernel.start(alice, move |sys| async move {
        sys.call(to_bob, message(0, b"after you")).await?;
        Ok(0)
    });
    kernel.start(bob, move |sys| async move {
        sys.call(to_alice, message(0, b"no, after you")).await?;
        Ok(0)
    });
    let Outcome::Deadlock(report) = kernel.run().clone() else { panic!("{:?}", kernel.outcome()) };
    assert!(report.has_cycle());
    assert!(report.blocked.iter().all(|blocked| blocked.in_cycle && !blocked.no_possible_sender), "{report:?}");
}
