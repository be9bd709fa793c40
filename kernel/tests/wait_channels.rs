//! Waiting in the kernel (monolithic mode): a service call can leave its caller waiting on a
//! channel of its module, and a later call wakes every waiter of a channel, in the order they
//! began to wait. The caller's stub then carries its operation out again, as the same syscall.

mod common;

use common::*;
use mksim_kernel::event::BlockedOn;
use mksim_kernel::syscall::{ServiceModule, ServiceWork, WaitChannel};
use mksim_kernel::*;

const READERS: WaitChannel = WaitChannel { module: ServiceModule::Pipe, id: 6 };
const OTHER: WaitChannel = WaitChannel { module: ServiceModule::Pipe, id: 7 };

fn waiting_on(channel: WaitChannel) -> ServiceWork {
    ServiceWork { function_calls: 1, wait: Some(channel), ..ServiceWork::default() }
}

fn waking(channel: WaitChannel) -> ServiceWork {
    ServiceWork { function_calls: 1, wake: [Some(channel), None], ..ServiceWork::default() }
}

fn resumed() -> ServiceWork {
    ServiceWork { function_calls: 1, resumed: true, ..ServiceWork::default() }
}

/// A reader that waits on `channel`, then carries its read out again as the same syscall.
fn reader(kernel: &mut Kernel, name: &str, channel: WaitChannel, seen: &Record<String>) -> ProcessId {
    reader_at(kernel, name, 5, channel, seen)
}

/// [`reader`] at priority `level`.
fn reader_at(kernel: &mut Kernel, name: &str, level: u8, channel: WaitChannel, seen: &Record<String>) -> ProcessId {
    let seen = seen.clone();
    let name_seen = name.to_owned();
    kernel.spawn(ProcessSpec::program(name, priority(level)), move |sys| async move {
        sys.kernel_service(1, b"read".to_vec(), waiting_on(channel)).await?;
        seen.push(format!("{name_seen} woken"));
        sys.kernel_service(1, b"read".to_vec(), resumed()).await?;
        Ok(0)
    })
}

#[test]
fn a_waiting_caller_is_woken_by_a_call_that_wakes_its_channel_and_resumes_as_the_same_syscall() {
    let mut kernel = kernel();
    let seen = Record::new();
    let reader = reader(&mut kernel, "reader", READERS, &seen);
    let writer_seen = seen.clone();
    let writer = kernel.spawn(ProcessSpec::program("writer", priority(4)), move |sys| async move {
        writer_seen.push("writer writes".to_owned());
        sys.kernel_service(2, b"write".to_vec(), waking(READERS)).await?;
        Ok(0)
    });
    run_clean(&mut kernel);

    assert_eq!(seen.get(), ["writer writes", "reader woken"]);
    let events = events_of(&kernel, reader);
    assert!(events.contains(&EventKind::Blocked { on: BlockedOn::Channel(READERS) }), "{events:?}");
    assert!(events.contains(&EventKind::Woken { call: SyscallKind::KernelService, error: None }), "{events:?}");
    assert!(events.contains(&EventKind::SyscallEntered { call: SyscallKind::KernelResume }), "{events:?}");
    // The wait and its resumption are one syscall; both service calls are logged and charged.
    let reader_counters = counters(&kernel, reader);
    assert_eq!((reader_counters.syscalls, reader_counters.service_calls), (1, 2));
    assert_eq!(counters(&kernel, writer).syscalls, 1);
}

#[test]
fn waiters_are_woken_in_the_order_they_began_to_wait_and_only_on_their_channel() {
    let mut kernel = kernel();
    let seen = Record::new();
    for name in ["first", "second"] {
        reader(&mut kernel, name, READERS, &seen);
    }
    let elsewhere = reader(&mut kernel, "elsewhere", OTHER, &seen);
    kernel.spawn(ProcessSpec::program("writer", priority(4)), |sys| async move {
        sys.kernel_service(2, b"write".to_vec(), waking(READERS)).await?;
        Ok(0)
    });
    kernel.run();

    assert_eq!(seen.get(), ["first woken", "second woken"]);
    assert!(matches!(kernel.outcome(), Some(Outcome::Deadlock(_))), "{:?}", kernel.outcome());
    assert_eq!(state(&kernel, elsewhere), ProcessState::KernelWaiting { channel: OTHER });
}

#[test]
fn a_caller_waiting_for_ever_is_a_deadlock_that_says_where_it_waits() {
    let mut kernel = kernel();
    let lonely = reader(&mut kernel, "lonely", READERS, &Record::new());
    kernel.run();

    let Some(Outcome::Deadlock(report)) = kernel.outcome() else { panic!("{:?}", kernel.outcome()) };
    let text = format!("{report:?} {}", kernel.log().describe_state(state(&kernel, lonely)));
    assert!(text.contains("waiting in the pipe module (channel 6)"), "{text}");
}

#[test]
fn a_waiter_that_dies_leaves_its_channel_and_a_later_wake_skips_it() {
    let mut kernel = kernel();
    let seen = Record::new();
    let doomed = reader(&mut kernel, "doomed", READERS, &seen);
    let survivor = reader(&mut kernel, "survivor", READERS, &seen);
    step_until_state(&mut kernel, survivor, |state| matches!(state, ProcessState::KernelWaiting { .. }));
    kernel.schedule_crash(kernel.now(), doomed.index);
    kernel.spawn(ProcessSpec::program("writer", priority(4)), |sys| async move {
        sys.kernel_service(2, b"write".to_vec(), waking(READERS)).await?;
        Ok(0)
    });
    run_clean_but(&mut kernel, doomed);

    assert_eq!(seen.get(), ["survivor woken"]);
}

fn step_until_state(kernel: &mut Kernel, id: ProcessId, wanted: impl Fn(ProcessState) -> bool) {
    for _ in 0..10_000 {
        if wanted(state(kernel, id)) {
            return;
        }
        kernel.step();
    }
    panic!("{id:?} never reached the state wanted: {:?}", state(kernel, id));
}

/// Runs to the end: every process but `killed` exits with 0.
fn run_clean_but(kernel: &mut Kernel, killed: ProcessId) {
    kernel.run();
    assert!(matches!(kernel.outcome(), Some(Outcome::Completed)), "{:?}", kernel.outcome());
    for index in 0..kernel.processes().len() {
        let id = ProcessId { index: index as u32, generation: 0 };
        if id != killed {
            assert_eq!(state(kernel, id), ProcessState::Exited { code: 0 }, "{id:?}");
        }
    }
}

#[test]
fn waiters_woken_together_go_on_one_at_a_time_oldest_first_whatever_their_priority() {
    let mut kernel = kernel();
    let seen = Record::new();
    let humble = reader(&mut kernel, "humble", READERS, &seen);
    step_until_state(&mut kernel, humble, |state| matches!(state, ProcessState::KernelWaiting { .. }));
    reader_at(&mut kernel, "urgent", 9, READERS, &seen);
    kernel.spawn(ProcessSpec::program("writer", priority(2)), |sys| async move {
        sys.kernel_service(2, b"write".to_vec(), waking(READERS)).await?;
        Ok(0)
    });
    run_clean(&mut kernel);

    // As a server answers the calls waiting on one channel in the order they came.
    assert_eq!(seen.get(), ["humble woken", "urgent woken"]);
}

#[test]
fn a_waiter_killed_before_its_turn_passes_the_turn_on() {
    let mut kernel = kernel();
    let seen = Record::new();
    let first = reader(&mut kernel, "first", READERS, &seen);
    let second = reader(&mut kernel, "second", READERS, &seen);
    let third = reader(&mut kernel, "third", READERS, &seen);
    step_until_state(&mut kernel, third, |state| matches!(state, ProcessState::KernelWaiting { .. }));
    kernel.spawn(ProcessSpec::program("writer", priority(9)), |sys| async move {
        sys.kernel_service(2, b"write".to_vec(), waking(READERS)).await?;
        Ok(0)
    });
    // The writer runs first and wakes the channel: `first` has the turn, `second` and `third`
    // wait for it. `first` dies before it tries again; `second` is killed in the line.
    step_until_state(&mut kernel, first, |state| state == ProcessState::Ready);
    assert!(kernel.fault_process(first, "killed in its turn"));
    assert!(kernel.fault_process(second, "killed in the line"));
    kernel.run();

    assert_eq!(seen.get(), ["third woken"]);
    assert_eq!(state(&kernel, third), ProcessState::Exited { code: 0 });
}
