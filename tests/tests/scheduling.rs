//! Scheduling: priorities, round-robin on time slices, preemption, and the
//! priority-inversion story told both ways.

use mksim_kernel::event::EventKind;
use mksim_kernel::{Badge, Kernel, KernelConfig, Message, Priority, ProcessSpec, Rights};
use std::cell::RefCell;
use std::rc::Rc;

fn priority(level: u8) -> Priority {
    Priority::new(level).expect("test priorities are in range")
}

#[test]
fn equal_priorities_take_turns_on_each_time_slice() {
    let config = KernelConfig { timeslice_cycles: 100_000, ..KernelConfig::default() };
    let mut kernel = Kernel::new(config);
    for name in ["a", "b"] {
        kernel.spawn(ProcessSpec::program(name, priority(3)), |sys| async move {
            sys.compute(300_000).await?;
            Ok(0)
        });
    }
    kernel.run();
    let computing: Vec<&str> = kernel
        .log()
        .events()
        .iter()
        .filter(|event| matches!(event.kind, EventKind::Computed { .. }))
        .map(|event| kernel.log().process_name(event.process))
        .collect();
    // The first slice of each is shortened by the syscall that started it.
    assert_eq!(computing, ["a", "b", "a", "b", "a", "b", "a", "b"]);
    assert!(kernel.outcome().unwrap().is_completed());
}

#[test]
fn a_waking_high_priority_process_preempts_a_long_computation() {
    let mut kernel = Kernel::new(KernelConfig::default());
    let woke_at = Rc::new(RefCell::new(None));
    kernel.spawn(ProcessSpec::program("low", priority(1)), |sys| async move {
        sys.compute(10_000_000).await?;
        Ok(0)
    });
    let seen = Rc::clone(&woke_at);
    kernel.spawn(ProcessSpec::program("high", priority(9)), move |sys| async move {
        sys.sleep(50_000).await?;
        *seen.borrow_mut() = Some(sys.clock().await?);
        Ok(0)
    });
    kernel.run();
    let woke_at = woke_at.borrow().expect("high ran");
    let profile = &kernel.config().profile;
    let bound = 50_000 + 2 * profile.context_switch_cycles + 3 * profile.syscall_cycles;
    assert!(woke_at < bound, "high woke at {woke_at}, long after its timer");
}

/// The priority-inversion story: a low-priority server is working for a
/// low-priority client when a high-priority client calls it, and a
/// medium-priority process starts a long computation. Returns when the high
/// client got its answer and when the medium process finished.
fn inversion(priority_inheritance: bool) -> (u64, u64) {
    let config = KernelConfig { priority_inheritance, ..KernelConfig::default() };
    let mut kernel = Kernel::new(config);
    let server = kernel.create_process(ProcessSpec::server("server", priority(2)));
    let low = kernel.create_process(ProcessSpec::program("low", priority(1)));
    let high = kernel.create_process(ProcessSpec::program("high", priority(20)));
    let endpoint = kernel.create_endpoint(server);
    let serve = kernel.grant(server, endpoint, Rights::all(), Badge::NONE).unwrap();
    let low_call = kernel.grant_derived(low, server, serve, Rights::SEND, Badge(1)).unwrap();
    let high_call = kernel.grant_derived(high, server, serve, Rights::SEND, Badge(2)).unwrap();
    kernel.start(server, move |sys| async move {
        loop {
            let request = sys.receive(serve).await?.into_message().expect("only messages arrive");
            sys.compute(20_000).await?;
            sys.reply(request.reply.expect("a call"), Message::default()).await?;
        }
    });
    kernel.start(low, move |sys| async move {
        sys.call(low_call, Message::default()).await?;
        Ok(0)
    });
    let answered = Rc::new(RefCell::new(0));
    let finished = Rc::new(RefCell::new(0));
    let answered_at = Rc::clone(&answered);
    kernel.start(high, move |sys| async move {
        sys.sleep(5_000).await?;
        sys.call(high_call, Message::default()).await?;
        *answered_at.borrow_mut() = sys.clock().await?;
        Ok(0)
    });
    let finished_at = Rc::clone(&finished);
    kernel.spawn(ProcessSpec::program("medium", priority(10)), move |sys| async move {
        sys.sleep(8_000).await?;
        sys.compute(1_000_000).await?;
        *finished_at.borrow_mut() = sys.clock().await?;
        Ok(0)
    });
    kernel.run();
    assert!(kernel.outcome().unwrap().is_completed(), "{:?}", kernel.outcome());
    let boosted = kernel.log().events().iter().any(|event| matches!(event.kind, EventKind::PriorityChanged { .. }));
    assert_eq!(boosted, priority_inheritance);
    let (answered, finished) = (*answered.borrow(), *finished.borrow());
    (answered, finished)
}

#[test]
fn without_inheritance_the_high_client_waits_for_the_medium_computation() {
    let (answered, medium_finished) = inversion(false);
    assert!(answered > medium_finished, "answered at {answered}, medium finished at {medium_finished}");
}

#[test]
fn with_inheritance_the_server_runs_at_its_clients_priority() {
    let (answered, medium_finished) = inversion(true);
    assert!(answered < medium_finished, "answered at {answered}, medium finished at {medium_finished}");
    assert!(answered < 100_000, "the high client waited {answered} cycles");
}

#[test]
fn an_endless_program_is_stopped_by_the_step_limit() {
    let config = KernelConfig { step_limit: 500, ..KernelConfig::default() };
    let mut kernel = Kernel::new(config);
    kernel.spawn(ProcessSpec::program("spinner", priority(1)), |sys| async move {
        loop {
            sys.yield_now().await?;
        }
    });
    let outcome = kernel.run().clone();
    assert_eq!(outcome, mksim_kernel::Outcome::StepLimit { limit: 500 });
    assert_eq!(kernel.steps(), 500);
}

#[test]
fn a_run_whose_programs_finished_ends_cleanly_with_servers_still_waiting() {
    let mut kernel = Kernel::new(KernelConfig::default());
    let server = kernel.create_process(ProcessSpec::server("idle-server", priority(4)));
    let endpoint = kernel.create_endpoint(server);
    let serve = kernel.grant(server, endpoint, Rights::all(), Badge::NONE).unwrap();
    kernel.start(server, move |sys| async move {
        sys.receive(serve).await?;
        Ok(0)
    });
    kernel.spawn(ProcessSpec::program("brief", priority(1)), |_sys| async move { Ok(0) });
    assert!(kernel.run().is_completed());
    let server = kernel.process_named("idle-server").unwrap();
    assert_eq!(kernel.describe_state(server.id()), "receive-blocked on endpoint #0 of idle-server");
}
