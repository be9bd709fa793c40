//! Same setup and seed, same event log: byte for byte.

use mksim_kernel::{CostProfile, Kernel, KernelConfig, Priority, ProcessSpec};
use mksim_userland::demo::ping_pong;
use std::cell::RefCell;
use std::rc::Rc;

#[test]
fn the_ping_pong_system_gives_the_same_log_twice() {
    let first = {
        let mut kernel = ping_pong(KernelConfig::default(), 20);
        kernel.run();
        kernel.log().clone()
    };
    let mut kernel = ping_pong(KernelConfig::default(), 20);
    kernel.run();
    assert_eq!(&first, kernel.log());
    assert_eq!(first.render_text(), kernel.log().render_text());
}

fn random_numbers(seed: u64) -> Vec<u64> {
    let numbers = Rc::new(RefCell::new(Vec::new()));
    let mut kernel = Kernel::new(KernelConfig { seed, ..KernelConfig::default() });
    let seen = Rc::clone(&numbers);
    kernel.spawn(ProcessSpec::program("dice", Priority::LOWEST), move |sys| async move {
        for _ in 0..4 {
            let number = sys.random().await?;
            seen.borrow_mut().push(number);
        }
        Ok(0)
    });
    kernel.run();
    numbers.take()
}

#[test]
fn the_random_stream_depends_on_the_seed_alone() {
    assert_eq!(random_numbers(7), random_numbers(7));
    assert_ne!(random_numbers(7), random_numbers(8));
}

#[test]
fn a_call_round_trip_costs_two_one_way_ipcs_under_every_profile() {
    for name in CostProfile::built_in_names() {
        let profile = CostProfile::built_in(name).unwrap();
        let expected = 2 * (profile.ipc_one_way_cycles + profile.copy_cycles(4));
        let mut kernel = ping_pong(KernelConfig { profile, ..KernelConfig::default() }, 5);
        kernel.run();
        let ping = kernel.process_named("ping").unwrap().id();
        let calls: Vec<u64> = kernel
            .log()
            .events()
            .iter()
            .filter(|event| {
                event.process == ping
                    && matches!(
                        event.kind,
                        mksim_kernel::EventKind::SyscallEntered { call: mksim_kernel::SyscallKind::Call }
                    )
            })
            .map(|event| event.time)
            .collect();
        let round_trips: Vec<u64> = calls.windows(2).map(|pair| pair[1] - pair[0]).collect();
        assert_eq!(round_trips, vec![expected; 4], "profile {name}");
    }
}

#[test]
fn the_event_log_stays_compact() {
    let mut kernel = ping_pong(KernelConfig::default(), 1_000);
    kernel.run();
    let log = kernel.log();
    let bytes_per_event = log.memory_bytes() as f64 / log.len() as f64;
    assert!(bytes_per_event < 40.0, "{bytes_per_event:.1} bytes per event");
}
