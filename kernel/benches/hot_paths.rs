//! Benchmarks of the kernel's hot paths, for developers: `cargo bench -p mksim-kernel`.
//!
//! Each benchmark builds a small system outside the timed part, runs it to
//! the end inside it, and counts the operations its programs made, so divan
//! reports host time per operation. The kernel is handed back to divan, so
//! dropping its event log is not timed either. `mksim bench` reports the
//! figures users see; these are for finding out where they come from.

use divan::counter::ItemsCount;
use divan::{Bencher, black_box};
use mksim_kernel::{
    Badge, FullPolicy, Incoming, Kernel, KernelConfig, Message, Priority, ProcessId, ProcessSpec, Rights, Slot,
};

/// Operations each benchmark's programs make per run.
const OPERATIONS: u32 = 1_000;

fn main() {
    divan::main();
}

fn priority(level: u8) -> Priority {
    Priority::new(level).expect("bench priorities are in range")
}

fn kernel() -> Kernel {
    Kernel::new(KernelConfig { step_limit: u64::MAX, ..KernelConfig::default() })
}

fn program(kernel: &mut Kernel, name: &str, level: u8) -> ProcessId {
    kernel.create_process(ProcessSpec::program(name, priority(level)))
}

fn server(kernel: &mut Kernel, name: &str, level: u8) -> ProcessId {
    kernel.create_process(ProcessSpec::server(name, priority(level)))
}

fn grant(kernel: &mut Kernel, holder: ProcessId, object: mksim_kernel::ObjectId, rights: Rights) -> Slot {
    kernel.grant(holder, object, rights, Badge::NONE).expect("a fresh table has room")
}

/// Times running a kernel `setup` builds, per operation.
fn run(bencher: Bencher, operations: u32, setup: impl Fn() -> Kernel + Sync) {
    bencher.counter(ItemsCount::new(operations)).with_inputs(setup).bench_local_values(|mut kernel| {
        black_box(kernel.run());
        kernel
    });
}

/// An echo server answering with reply-and-receive, and `clients` programs sharing `OPERATIONS` calls.
fn call_storm(clients: u32) -> Kernel {
    let mut kernel = kernel();
    let echo = server(&mut kernel, "echo", 10);
    let endpoint = kernel.create_endpoint(echo);
    let serve = grant(&mut kernel, echo, endpoint, Rights::all());
    kernel.start(echo, move |sys| async move {
        let mut incoming = sys.receive(serve).await?;
        loop {
            let Incoming::Message(request) = incoming else { unreachable!("nothing signals the echo server") };
            let reply = request.reply.expect("clients call");
            incoming = sys.reply_receive(reply, Message::new(2, request.data), serve).await?;
        }
    });
    for index in 0..clients {
        let client = program(&mut kernel, "client", 5);
        let call = kernel.grant(client, endpoint, Rights::SEND, Badge(u64::from(index) + 1)).expect("room");
        kernel.start(client, move |sys| async move {
            for round in 0..OPERATIONS / clients {
                sys.call(call, Message::new(1, round.to_le_bytes())).await?;
            }
            Ok(0)
        });
    }
    kernel
}

/// A call and its reply: two messages, a reply capability made and used up.
#[divan::bench(args = [1, 10, 100])]
fn call_round_trip(bencher: Bencher, clients: u32) {
    run(bencher, OPERATIONS, || call_storm(clients));
}

/// Asynchronous sends into a queue port and receives from it; the sender blocks when the queue is full.
#[divan::bench]
fn queue_send_receive(bencher: Bencher) {
    run(bencher, OPERATIONS, || {
        let mut kernel = kernel();
        let consumer = program(&mut kernel, "consumer", 5);
        let producer = program(&mut kernel, "producer", 5);
        let queue = kernel.create_queue(consumer, 16, FullPolicy::Block);
        let take = grant(&mut kernel, consumer, queue, Rights::RECEIVE);
        let put = grant(&mut kernel, producer, queue, Rights::SEND);
        kernel.start(consumer, move |sys| async move {
            for _ in 0..OPERATIONS {
                sys.receive(take).await?;
            }
            Ok(0)
        });
        kernel.start(producer, move |sys| async move {
            for round in 0..OPERATIONS {
                sys.send(put, Message::new(3, round.to_le_bytes())).await?;
            }
            Ok(0)
        });
        kernel
    });
}

/// A signal that wakes a more important waiter, which takes the bits and waits again.
#[divan::bench]
fn notification_signal_wait(bencher: Bencher) {
    run(bencher, OPERATIONS, || {
        let mut kernel = kernel();
        let waiter = program(&mut kernel, "waiter", 10);
        let signaller = program(&mut kernel, "signaller", 5);
        let bell = kernel.create_notification(waiter);
        let wait = grant(&mut kernel, waiter, bell, Rights::RECEIVE);
        let ring = grant(&mut kernel, signaller, bell, Rights::SEND);
        kernel.start(waiter, move |sys| async move {
            for _ in 0..OPERATIONS {
                sys.wait(wait).await?;
            }
            Ok(0)
        });
        kernel.start(signaller, move |sys| async move {
            for _ in 0..OPERATIONS {
                sys.signal(ring, 1).await?;
            }
            Ok(0)
        });
        kernel
    });
}

/// Copies derived from one capability, then revoked at once: one operation is a copy or a revoke.
#[divan::bench(args = [1, 8])]
fn capability_copy_revoke(bencher: Bencher, copies: u32) {
    let rounds = OPERATIONS / (copies + 1);
    run(bencher, rounds * (copies + 1), || {
        let mut kernel = kernel();
        let holder = program(&mut kernel, "holder", 5);
        let endpoint = kernel.create_endpoint(holder);
        let original = grant(&mut kernel, holder, endpoint, Rights::all());
        kernel.start(holder, move |sys| async move {
            for _ in 0..rounds {
                for _ in 0..copies {
                    sys.copy(original, Rights::SEND).await?;
                }
                sys.revoke(original).await?;
            }
            Ok(0)
        });
        kernel
    });
}

/// The cheapest syscall (read the clock): the cost of a step, a poll and two event-log pushes.
#[divan::bench]
fn null_syscall(bencher: Bencher) {
    run(bencher, OPERATIONS, || {
        let mut kernel = kernel();
        let clock = program(&mut kernel, "clock", 5);
        kernel.start(clock, move |sys| async move {
            for _ in 0..OPERATIONS {
                black_box(sys.clock().await?);
            }
            Ok(0)
        });
        kernel
    });
}
