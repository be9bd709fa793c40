//! Two places where the modes once disagreed, kept as tests that they agree.
//!
//! **Which of several waiting callers goes on first** when a queue or a pipe gets room. Two
//! senders wait on a full queue (or two writers on a full pipe): the less important one began
//! to wait first. One receive (or read) makes room for one of them. In microkernel mode the
//! server tries its waiting calls again inside the request that made room, oldest first: the
//! one that began to wait first goes on. In monolithic mode each waiter tries again in its own
//! context, when the scheduler runs it; woken all at once, the more important one would run
//! first and take the room. So the kernel wakes the waiters of a channel one at a time, each
//! once the one before has tried again (`kernel/src/channels.rs`). Sockets do not meet this:
//! only one process holds each end of a connection.
//!
//! **Which notification a queue's registration signals** when the process deleted the
//! capability it registered and a new notification took its slot. In microkernel mode the
//! server signals the copy it was given, so the old notification. In monolithic mode the
//! kernel holds the capability the slot named at registration (`ServiceWork::hold`), so it
//! signals the old one too, not whatever the slot holds when the registration fires.

use super::{Journal, priority};
use mksim_kernel::{KernelConfig, ProgramResult};
use mksim_servers::mqueue::MqConfig;
use mksim_servers::pipe::PipeConfig;
use mksim_servers::system::{Mode, ProgramFn, ProgramSpec, Servers, SystemSpec, boot};
use mksim_userland::pipe_protocol::{PipeReply, PipeRequest};
use mksim_userland::protocol::{MqReply, MqRequest};
use std::rc::Rc;

fn open() -> MqRequest {
    MqRequest::Open { name: "/q".into(), capacity: 1, message_bytes_max: 8 }
}

/// Sends `text` after `pause` cycles, to the queue the consumer filled: it waits.
fn sender(text: &'static str, pause: u64) -> ProgramFn {
    Box::new(move |mut services, _| {
        Box::pin(async move {
            services.sys().sleep(pause).await?;
            let Ok(MqReply::Descriptor(queue)) = services.mq(open(), None).await else { return ProgramResult::Ok(1) };
            let send = MqRequest::Send { queue, data: text.as_bytes().to_vec(), priority: 0, nonblocking: false };
            services.mq(send, None).await.ok();
            ProgramResult::Ok(0)
        })
    })
}

/// Fills the queue, lets both senders begin to wait, then receives three messages.
fn consumer(seen: Journal) -> ProgramFn {
    Box::new(move |mut services, _| {
        Box::pin(async move {
            let Ok(MqReply::Descriptor(queue)) = services.mq(open(), None).await else { return ProgramResult::Ok(1) };
            let fill = MqRequest::Send { queue, data: b"x".to_vec(), priority: 0, nonblocking: true };
            services.mq(fill, None).await.ok();
            services.sys().sleep(200_000).await?;
            for _ in 0..3 {
                let received = services.mq(MqRequest::Receive { queue, nonblocking: false }, None).await;
                if let Ok(MqReply::Message { data, .. }) = received {
                    seen.borrow_mut().push(String::from_utf8_lossy(&data).into_owned());
                }
            }
            ProgramResult::Ok(0)
        })
    })
}

/// The messages the consumer got: "a" began to wait first, "b" is more important.
fn queue_order(mode: Mode) -> Vec<String> {
    let seen = Journal::default();
    let programs = vec![
        ProgramSpec::plain("consumer", priority(3), consumer(Rc::clone(&seen))),
        ProgramSpec::plain("a", priority(4), sender("a", 10_000)),
        ProgramSpec::plain("b", priority(6), sender("b", 50_000)),
    ];
    run_with_queues(programs, mode);
    seen.take()
}

#[test]
fn waiting_senders_go_on_in_the_order_they_began_to_wait_in_both_modes() {
    assert_eq!(queue_order(Mode::Microkernel), ["x", "a", "b"]);
    assert_eq!(queue_order(Mode::Monolithic), ["x", "a", "b"]);
}

/// The same with pipes: a pipe of 512 bytes holds 500 of the reader's; writer "a" (less
/// important, first to wait) and writer "b" each wait to put 100 bytes in.
fn pipe_order(mode: Mode) -> Vec<String> {
    let seen = Journal::default();
    let into = Rc::clone(&seen);
    let reader: ProgramFn = Box::new(move |mut services, _| {
        Box::pin(async move {
            let Ok(PipeReply::Created { read, write }) = services.pipe(PipeRequest::Create).await else {
                return ProgramResult::Ok(1);
            };
            for name in ["a", "b"] {
                services.pipe(PipeRequest::Give { fd: write, name: name.into() }).await.ok();
            }
            services.pipe_write(write, &[b'x'; 500], false).await.ok();
            services.pipe(PipeRequest::Close { fd: write }).await.ok();
            services.sys().sleep(200_000).await?;
            loop {
                match services.pipe(PipeRequest::Read { fd: read, len: 100, nonblocking: false }).await {
                    Ok(PipeReply::Data(data)) if !data.is_empty() => {
                        into.borrow_mut().push(String::from_utf8_lossy(&data[..1]).into_owned());
                    }
                    _ => break,
                }
            }
            ProgramResult::Ok(0)
        })
    });
    let writer = |name: &'static str, pause: u64| -> ProgramFn {
        Box::new(move |mut services, _| {
            Box::pin(async move {
                services.sys().sleep(pause).await?;
                let Ok(PipeReply::Descriptor(fd)) = services.pipe(PipeRequest::Take { name: name.into() }).await else {
                    return ProgramResult::Ok(1);
                };
                services.pipe_write(fd, &[name.as_bytes()[0]; 100], false).await.ok();
                services.pipe(PipeRequest::Close { fd }).await.ok();
                ProgramResult::Ok(0)
            })
        })
    };
    let programs = vec![
        ProgramSpec::plain("reader", priority(3), reader),
        ProgramSpec::plain("a", priority(4), writer("a", 10_000)),
        ProgramSpec::plain("b", priority(6), writer("b", 50_000)),
    ];
    let pipe = PipeConfig { buffer_bytes: 512, ..PipeConfig::default() };
    let servers = Servers { name: Some(priority(10)), pipe: Some((priority(10), pipe)), ..Servers::default() };
    let spec =
        SystemSpec { kernel: KernelConfig::default(), servers, objects: Vec::new(), programs, faults: Vec::new() };
    let mut system = boot(spec, mode);
    assert!(system.kernel.run().is_completed(), "{}", mode.name());
    drop(system);
    seen.take()
}

#[test]
fn waiting_writers_go_on_in_the_order_they_began_to_wait_in_both_modes() {
    let stream = ["x", "x", "x", "x", "x", "a", "b"];
    assert_eq!(pipe_order(Mode::Microkernel), stream);
    assert_eq!(pipe_order(Mode::Monolithic), stream);
}

/// Registers notification 1 for a queue, deletes it, makes notification 2 (which takes the
/// freed slot), sends into the empty queue so that the registration fires, and polls 2.
fn bits_on_the_new_notification(mode: Mode) -> Vec<String> {
    let seen = Journal::default();
    let into = Rc::clone(&seen);
    let code: ProgramFn = Box::new(move |mut services, _| {
        Box::pin(async move {
            let first = services.sys().create_notification().await?;
            let Ok(MqReply::Descriptor(queue)) = services.mq(open(), None).await else { return ProgramResult::Ok(1) };
            let notify = services.mq(MqRequest::Notify { queue, notification: 0, bits: 3 }, Some(first)).await;
            services.sys().delete(first).await?;
            let second = services.sys().create_notification().await?;
            let send = MqRequest::Send { queue, data: b"m".to_vec(), priority: 0, nonblocking: true };
            let sent = services.mq(send, None).await;
            let bits = services.sys().poll(second).await;
            into.borrow_mut().extend([
                format!("notify {notify:?}"),
                format!("same slot: {}", first == second),
                format!("send {sent:?}"),
                format!("poll {bits:?}"),
            ]);
            ProgramResult::Ok(0)
        })
    });
    let programs = vec![ProgramSpec::plain("p", priority(4), code)];
    run_with_queues(programs, mode);
    seen.take()
}

#[test]
fn a_registration_signals_the_notification_it_was_given_in_both_modes() {
    let expected = ["notify Ok(Done)", "same slot: true", "send Ok(Done)", "poll Ok(0)"];
    assert_eq!(bits_on_the_new_notification(Mode::Microkernel), expected);
    assert_eq!(bits_on_the_new_notification(Mode::Monolithic), expected);
}

/// Boots `programs` with a name server and the `mq` service in `mode`, and runs them to completion.
fn run_with_queues(programs: Vec<ProgramSpec>, mode: Mode) {
    let servers =
        Servers { name: Some(priority(10)), mq: Some((priority(10), MqConfig::default())), ..Servers::default() };
    let spec =
        SystemSpec { kernel: KernelConfig::default(), servers, objects: Vec::new(), programs, faults: Vec::new() };
    let mut system = boot(spec, mode);
    assert!(system.kernel.run().is_completed(), "{}", mode.name());
}
