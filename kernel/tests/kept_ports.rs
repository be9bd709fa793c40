//! A port kept across restarts (a name server's): it outlives its owner's death, calls sent
//! to it meanwhile wait for the next incarnation, the call the dead incarnation had received
//! fails with peer-dead, and every capability to it works again after the restart.

mod common;

use common::*;
use mksim_kernel::*;
use std::rc::Rc;

/// Boots at priority 10 a restartable server whose port is kept across restarts. Its first
/// incarnation receives one call and dies with it; every later one answers each call with
/// one byte, its generation.
fn fragile_server(kernel: &mut Kernel) -> (ProcessId, ObjectId) {
    let id = server(kernel, "names", 10);
    let endpoint = kernel.create_endpoint(id);
    kernel.keep_across_restarts(endpoint);
    let restarter: Restarter = Rc::new(move |kernel: &mut Kernel, id: ProcessId| {
        let slot = kernel.grant(id, endpoint, Rights::all(), Badge::NONE).expect("free slots");
        kernel.start(id, move |sys| async move {
            loop {
                let call = expect_message(sys.receive(slot).await?);
                if id.generation == 0 {
                    return Err(ProgramFault::Injected("dies holding the call".into()));
                }
                if let Some(reply) = call.reply {
                    sys.reply(reply, message(0, &[id.generation as u8])).await?;
                }
            }
        });
        endpoint
    });
    (id, kernel.boot_restartable(id, restarter))
}

#[test]
fn calls_wait_for_the_next_incarnation_of_a_kept_port_and_old_capabilities_reach_it() {
    let mut kernel = kernel();
    let (names, endpoint) = fragile_server(&mut kernel);
    let first = program(&mut kernel, "first", 5);
    let waiter = program(&mut kernel, "waiter", 5);
    let keeper = program(&mut kernel, "keeper", 20);
    let handle = kernel.create_process_handle(names);
    let handle = kernel.grant(keeper, handle, Rights::READ | Rights::WRITE, Badge::NONE).unwrap();
    let first_port = kernel.grant(first, endpoint, Rights::SEND, Badge::NONE).unwrap();
    let waiter_port = kernel.grant(waiter, endpoint, Rights::SEND, Badge::NONE).unwrap();
    let got = Record::new();
    let seen = got.clone();
    kernel.start(first, move |sys| async move {
        let answer = sys.call(first_port, message(1, b"")).await.map(|answer| answer.data);
        seen.push(format!("first {answer:?}"));
        sys.sleep(50_000).await?;
        let answer = sys.call(first_port, message(1, b"")).await.map(|answer| answer.data);
        seen.push(format!("first again {answer:?}"));
        Ok(0)
    });
    let seen = got.clone();
    kernel.start(waiter, move |sys| async move {
        sys.sleep(5_000).await?;
        let answer = sys.call(waiter_port, message(1, b"")).await.map(|answer| answer.data);
        seen.push(format!("waiter {answer:?}"));
        Ok(0)
    });
    let seen = got.clone();
    kernel.start(keeper, move |sys| async move {
        sys.sleep(20_000).await?;
        let port = sys.restart(handle).await?;
        seen.push("restarted".to_owned());
        let answer = sys.call(port, message(1, b"")).await.map(|answer| answer.data);
        seen.push(format!("keeper {answer:?}"));
        Ok(0)
    });
    let outcome = kernel.run().clone();
    assert!(outcome.is_completed(), "{outcome:?}\n{}", kernel.log().render_text());
    assert_no_message_has_two_fates(&kernel);

    assert_eq!(
        got.get(),
        // The waiter's call is served first (it waited longest) but the keeper, at a higher
        // priority, runs first to record its answer.
        vec!["first Err(PeerDead)", "restarted", "keeper Ok([1])", "waiter Ok([1])", "first again Ok([1])"],
        "the received call fails, the queued one waits and is answered, old capabilities work"
    );
    let waiter_blocked_on = events_of(&kernel, waiter).into_iter().find_map(|kind| match kind {
        EventKind::Blocked { on } => Some(on),
        _ => None,
    });
    assert!(waiter_blocked_on.is_some(), "the waiter's call waited for the restart");
}

#[test]
fn a_port_that_is_not_kept_dies_with_its_owner() {
    let mut kernel = kernel();
    let id = server(&mut kernel, "plain", 10);
    let endpoint = kernel.create_endpoint(id);
    let slot = kernel.grant(id, endpoint, Rights::all(), Badge::NONE).unwrap();
    kernel.start(id, move |sys| async move {
        expect_message(sys.receive(slot).await?);
        Err(ProgramFault::Injected("dies".into()))
    });
    let client = program(&mut kernel, "client", 5);
    let port = kernel.grant(client, endpoint, Rights::SEND, Badge::NONE).unwrap();
    let got = Record::new();
    let seen = got.clone();
    kernel.start(client, move |sys| async move {
        seen.push(sys.call(port, message(1, b"")).await.map(|_| ()));
        seen.push(sys.call(port, message(1, b"")).await.map(|_| ()));
        Ok(0)
    });
    let _ = kernel.run();
    assert_eq!(got.get(), vec![Err(SysError::PeerDead), Err(SysError::PeerDead)]);
}
