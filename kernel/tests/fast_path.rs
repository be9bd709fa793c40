//! The IPC fast path is taken where it is meant to be: in a ping/pong exchange and in the
//! call storm `mksim bench` measures, every call and every reply-and-receive after the server's
//! first receive takes it. Were its checks always to say no, the tests that compare it with the
//! general path would still pass; these would not.

mod common;

use common::*;
use mksim_kernel::*;

/// The ping/pong system of `mksim_userland::demo::ping_pong`, built here: a server answers each
/// call with its request's data, a client calls `rounds` times and checks every answer.
fn ping_pong(config: KernelConfig, rounds: u32) -> Kernel {
    let mut kernel = Kernel::new(config);
    let pong = server(&mut kernel, "pong", 10);
    let ping = program(&mut kernel, "ping", 5);
    let endpoint = kernel.create_endpoint(pong);
    let serve = kernel.grant(pong, endpoint, Rights::all(), Badge::NONE).expect("a new process has free slots");
    let call = kernel.grant_derived(ping, pong, serve, Rights::SEND, Badge(1)).expect("a new process has free slots");
    kernel.start(pong, move |sys| async move {
        let mut incoming = sys.receive(serve).await?;
        loop {
            let Incoming::Message(request) = incoming else { unreachable!("no notification is bound") };
            let reply = request.reply.expect("the client calls");
            incoming = sys.reply_receive(reply, Message::new(2, request.data), serve).await?;
        }
    });
    kernel.start(ping, move |sys| async move {
        for round in 0..rounds {
            let answer = sys.call(call, Message::new(1, round.to_le_bytes())).await?;
            if answer.data.as_slice() != round.to_le_bytes() {
                return Err(ProgramFault::failed(1, format!("round {round}: answer {answer:?}")));
            }
        }
        Ok(0)
    });
    kernel
}

/// The workload `mksim bench` times (`call_storm` in the binary's bench module): `clients`
/// programs, each with its own badge, call one server `calls_each` times; the server answers
/// each with reply-and-receive.
fn call_storm(clients: u32, calls_each: u32) -> Kernel {
    let mut kernel = Kernel::new(KernelConfig { step_limit: u64::MAX, ..KernelConfig::default() });
    let server_id = server(&mut kernel, "server", 10);
    let endpoint = kernel.create_endpoint(server_id);
    let serve = kernel.grant(server_id, endpoint, Rights::all(), Badge::NONE).expect("free slot");
    kernel.start(server_id, move |sys| async move {
        let mut incoming = sys.receive(serve).await?;
        loop {
            let Incoming::Message(request) = incoming else { unreachable!("no notifications here") };
            let reply = request.reply.expect("clients call");
            incoming = sys.reply_receive(reply, Message::new(2, request.data), serve).await?;
        }
    });
    for index in 0..clients {
        let client = program(&mut kernel, "client", 5);
        let call = kernel.grant(client, endpoint, Rights::SEND, Badge(u64::from(index) + 1)).expect("free slot");
        kernel.start(client, move |sys| async move {
            for round in 0..calls_each {
                sys.call(call, Message::new(1, round.to_le_bytes())).await?;
            }
            Ok(0)
        });
    }
    kernel
}

/// Runs `build` with the fast path on and off: the hits with it on, after checking that both
/// runs completed and logged the same events, and that with it off nothing took it.
fn hits_of(build: impl Fn() -> Kernel) -> FastIpcHits {
    let mut fast = build();
    let mut general = build();
    general.set_fast_ipc(false);
    assert_eq!(fast.run(), &Outcome::Completed);
    assert_eq!(general.run(), &Outcome::Completed);
    assert!(fast.log() == general.log(), "the fast path changed the event log");
    assert_eq!(general.fast_ipc_hits(), FastIpcHits::default(), "the fast path was taken while off");
    fast.fast_ipc_hits()
}

#[test]
fn every_call_and_answer_of_ping_pong_takes_the_fast_path() {
    let rounds = 200;
    let hits = hits_of(|| ping_pong(KernelConfig::default(), rounds));
    // The server's first receive has nobody to answer: it alone takes the general path.
    assert_eq!(hits, FastIpcHits { calls: u64::from(rounds), reply_receives: u64::from(rounds) });
}

#[test]
fn every_call_and_answer_of_the_bench_call_storm_takes_the_fast_path() {
    for (clients, calls_each) in [(1, 500), (10, 50), (1_000, 2)] {
        let hits = hits_of(|| call_storm(clients, calls_each));
        let calls = u64::from(clients * calls_each);
        assert_eq!(hits, FastIpcHits { calls, reply_receives: calls }, "{clients} clients");
    }
}

#[test]
fn ping_pong_with_priority_inheritance_leaves_the_fast_path_alone() {
    // The fast path assumes priority inheritance is off: with it on, nothing may take it.
    let hits = hits_of(|| ping_pong(KernelConfig { priority_inheritance: true, ..KernelConfig::default() }, 50));
    assert_eq!(hits, FastIpcHits::default());
}

#[test]
fn a_call_with_a_timeout_takes_the_general_path_and_its_answer_the_fast_one() {
    let mut kernel = kernel();
    let pong = server(&mut kernel, "pong", 10);
    let ping = program(&mut kernel, "ping", 5);
    let endpoint = kernel.create_endpoint(pong);
    let serve = kernel.grant(pong, endpoint, Rights::all(), Badge::NONE).expect("free slot");
    let call = kernel.grant(ping, endpoint, Rights::SEND, Badge::NONE).expect("free slot");
    kernel.start(pong, move |sys| async move {
        let mut incoming = sys.receive(serve).await?;
        loop {
            let Incoming::Message(request) = incoming else { unreachable!("no notification is bound") };
            let reply = request.reply.expect("the client calls");
            incoming = sys.reply_receive(reply, message(2, b""), serve).await?;
        }
    });
    kernel.start(ping, move |sys| async move {
        for _ in 0..3 {
            sys.call_timeout(call, message(1, b""), 1_000_000).await?;
        }
        Ok(0)
    });
    assert_eq!(kernel.run(), &Outcome::Completed);
    // A timeout arms a timer the fast path does not arm.
    assert_eq!(kernel.fast_ipc_hits(), FastIpcHits { calls: 0, reply_receives: 3 });
}
