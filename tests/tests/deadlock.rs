//! Deadlocks: two processes calling each other are reported with both named,
//! or, under the MINIX policy, the closing send is refused.

use mksim_kernel::{
    Badge, DeadlockPolicy, Kernel, KernelConfig, Message, Outcome, Priority, ProcessSpec, ProcessState, Rights,
    SysError,
};
use std::cell::RefCell;
use std::rc::Rc;

/// What each process's call returned, in the order they returned.
type CallResults = Rc<RefCell<Vec<(String, Result<(), SysError>)>>>;

/// `alice` and `bob` each own an endpoint and call the other's without ever receiving.
fn crossed_calls(policy: DeadlockPolicy) -> (Kernel, CallResults) {
    let config = KernelConfig { deadlock_policy: policy, ..KernelConfig::default() };
    let mut kernel = Kernel::new(config);
    let results = Rc::new(RefCell::new(Vec::new()));
    let level = Priority::new(5).unwrap();
    let alice = kernel.create_process(ProcessSpec::program("alice", level));
    let bob = kernel.create_process(ProcessSpec::program("bob", level));
    for (caller, callee) in [(alice, bob), (bob, alice)] {
        let endpoint = kernel.create_endpoint(callee);
        kernel.grant(caller, endpoint, Rights::SEND, Badge::NONE).unwrap();
    }
    for (id, name) in [(alice, "alice"), (bob, "bob")] {
        let results = Rc::clone(&results);
        kernel.start(id, move |sys| async move {
            let answer = sys.call(mksim_kernel::Slot(0), Message::new(1, b"after you".to_vec())).await;
            results.borrow_mut().push((name.to_owned(), answer.map(|_| ())));
            Ok(0)
        });
    }
    kernel.run();
    (kernel, results)
}

#[test]
fn two_processes_calling_each_other_are_reported_as_a_deadlock_with_both_named() {
    let (kernel, results) = crossed_calls(DeadlockPolicy::Report);
    let Some(Outcome::Deadlock(report)) = kernel.outcome() else {
        panic!("expected a deadlock, got {:?}", kernel.outcome());
    };
    let names: Vec<&str> = report.cycle_members().map(|blocked| blocked.name.as_str()).collect();
    assert_eq!(names, ["alice", "bob"]);
    let alice = &report.blocked[0];
    let bob = &report.blocked[1];
    assert_eq!(alice.chain, vec![bob.process]);
    assert_eq!(bob.chain, vec![alice.process]);
    assert_eq!(alice.description, "send-blocked on bob (endpoint #0 of bob)");
    assert_eq!(bob.description, "send-blocked on alice (endpoint #1 of alice)");
    assert!(results.borrow().is_empty(), "no call may return in a deadlock");
}

#[test]
fn under_the_refuse_policy_the_send_that_closes_the_cycle_fails_with_deadlock() {
    let (kernel, results) = crossed_calls(DeadlockPolicy::Refuse);
    assert_eq!(results.borrow()[0], ("bob".to_owned(), Err(SysError::Deadlock)));
    // Bob exits without receiving, so his endpoint dies and alice learns her peer is dead.
    assert_eq!(results.borrow()[1], ("alice".to_owned(), Err(SysError::PeerDead)));
    assert!(kernel.outcome().unwrap().is_completed());
    assert!(kernel.processes().iter().all(|process| process.state() == ProcessState::Exited { code: 0 }));
}

#[test]
fn a_chain_through_a_server_to_a_stuck_receiver_is_reported_hop_by_hop() {
    let mut kernel = Kernel::new(KernelConfig::default());
    let level = Priority::new(5).unwrap();
    let client = kernel.create_process(ProcessSpec::program("client", level));
    let server = kernel.create_process(ProcessSpec::server("fs", level));
    let disk = kernel.create_process(ProcessSpec::server("disk", level));
    let fs_port = kernel.create_endpoint(server);
    let disk_port = kernel.create_endpoint(disk);
    let never = kernel.create_endpoint(disk);
    let fs_serve = kernel.grant(server, fs_port, Rights::all(), Badge::NONE).unwrap();
    let fs_call = kernel.grant(client, fs_port, Rights::SEND, Badge::NONE).unwrap();
    let disk_call = kernel.grant(server, disk_port, Rights::SEND, Badge::NONE).unwrap();
    let disk_wait = kernel.grant(disk, never, Rights::all(), Badge::NONE).unwrap();
    kernel.start(client, move |sys| async move {
        sys.call(fs_call, Message::default()).await?;
        Ok(0)
    });
    kernel.start(server, move |sys| async move {
        sys.receive(fs_serve).await?;
        sys.call(disk_call, Message::default()).await?;
        Ok(0)
    });
    kernel.start(disk, move |sys| async move {
        sys.receive(disk_wait).await?;
        Ok(0)
    });
    kernel.run();
    let Some(Outcome::Deadlock(report)) = kernel.outcome() else { panic!("expected a deadlock") };
    let client_entry = &report.blocked[0];
    assert_eq!(client_entry.description, "reply-blocked on fs");
    let chain: Vec<&str> = client_entry.chain.iter().map(|&id| kernel.log().process_name(id)).collect();
    assert_eq!(chain, ["fs", "disk"]);
    assert!(!client_entry.in_cycle);
    assert_eq!(report.blocked[2].description, "receive-blocked on endpoint #2 of disk");
}
