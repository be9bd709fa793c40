//! Message queues against a simple model, in both modes.
//!
//! A [`Case`] is a queue's capacity and the messages one producer sends (random texts and
//! priorities, more than the queue holds). It runs two ways, in microkernel and monolithic
//! mode:
//!
//! - the consumer starts first and waits in a receive on the empty queue: every message is
//!   taken as soon as it is sent, so the consumer gets them in the order they were sent
//!   (blocking receivers get messages in order);
//! - the producer starts first: it fills the queue and waits on the full queue, and each
//!   receive takes the oldest message of the highest priority, after which the waiting
//!   producer puts its next one in. The model is a list kept by priority, then age.
//!
//! Either way every message comes out once (no loss, no duplication), and the queue never
//! holds more than its capacity: a send to the full queue with `nonblocking` fails with
//! "would block", which the producer checks each time it expects the queue full.
//!
//! The logic itself is checked against the same model with random nonblocking operations by
//! several clients. 64 cases by default; more with `PROPTEST_CASES`. The last tests run the
//! script functions, their nonblocking `try` forms and RON's `nonblocking: true`, in both modes.

use mksim_kernel::{KernelConfig, Priority, ProcessState, SysError};
use mksim_servers::fault::{FaultKind, FaultSpec, Trigger};
use mksim_servers::mqueue::{MessageQueues, MqConfig, Outcome};
use mksim_servers::system::{Mode, ProgramFn, ProgramSpec, Servers, SystemSpec, boot};
use mksim_userland::client::ClientError;
use mksim_userland::protocol::{MqReply, MqRequest, ServiceError};
use proptest::collection::vec;
use proptest::prelude::*;
use std::cell::RefCell;
use std::rc::Rc;

fn level(value: u8) -> Priority {
    Priority::new(value).expect("in range")
}

#[derive(Clone, Debug)]
struct Case {
    capacity: u32,
    messages: Vec<(String, u32)>,
}

fn case() -> impl Strategy<Value = Case> {
    (1u32..=4, vec(("[a-z]{1,6}", 0u32..=3), 1..12)).prop_map(|(capacity, messages)| Case { capacity, messages })
}

/// The oldest message of the highest priority, taken out of `queue` (kept in arrival order).
fn take_model(queue: &mut Vec<(String, u32)>) -> Option<(String, u32)> {
    let highest = queue.iter().map(|(_, priority)| *priority).max()?;
    let at = queue.iter().position(|(_, priority)| *priority == highest)?;
    Some(queue.remove(at))
}

/// What the consumer receives when the producer fills the queue first.
fn producer_first(case: &Case) -> Vec<(String, u32)> {
    let mut pending = case.messages.iter().cloned();
    let mut queue: Vec<(String, u32)> = pending.by_ref().take(case.capacity as usize).collect();
    let mut received = Vec::new();
    while let Some(message) = take_model(&mut queue) {
        received.push(message);
        queue.extend(pending.next());
    }
    received
}

fn open(name: &str, capacity: u32) -> MqRequest {
    MqRequest::Open { name: name.into(), capacity, message_bytes_max: 16 }
}

/// Runs the case with the consumer first or not; returns what the consumer received and what
/// the producer saw of the full queue (its nonblocking sends' errors).
fn run(case: &Case, mode: Mode, consumer_first: bool) -> (Vec<(String, u32)>, Vec<String>) {
    let received = Rc::new(RefCell::new(Vec::new()));
    let full = Rc::new(RefCell::new(Vec::new()));
    let (count, capacity) = (case.messages.len(), case.capacity);
    let into = Rc::clone(&received);
    let consumer: ProgramFn = Box::new(move |mut services, _caps| {
        Box::pin(async move {
            if !consumer_first {
                services.sys().sleep(200_000).await?;
            }
            let Ok(MqReply::Descriptor(queue)) = services.mq(open("/q", capacity), None).await else { return Ok(1) };
            for _ in 0..count {
                match services.mq(MqRequest::Receive { queue, nonblocking: false }, None).await {
                    Ok(MqReply::Message { data, priority }) => {
                        into.borrow_mut().push((String::from_utf8_lossy(&data).into_owned(), priority));
                    }
                    _ => return Ok(2),
                }
            }
            Ok(0)
        })
    });
    let messages = case.messages.clone();
    let seen = Rc::clone(&full);
    let producer: ProgramFn = Box::new(move |mut services, _caps| {
        Box::pin(async move {
            if consumer_first {
                services.sys().sleep(200_000).await?;
            }
            let Ok(MqReply::Descriptor(queue)) = services.mq(open("/q", capacity), None).await else { return Ok(1) };
            for (sent, (text, priority)) in messages.into_iter().enumerate() {
                if !consumer_first && sent >= capacity as usize {
                    let probe = MqRequest::Send { queue, data: b"x".to_vec(), priority: 0, nonblocking: true };
                    let answer = services.mq(probe, None).await;
                    seen.borrow_mut().push(match answer {
                        Err(error) => error.to_string(),
                        Ok(reply) => format!("{reply:?}"),
                    });
                }
                let send = MqRequest::Send { queue, data: text.into_bytes(), priority, nonblocking: false };
                if services.mq(send, None).await.is_err() {
                    return Ok(2);
                }
            }
            Ok(0)
        })
    });
    let program = |name: &str, priority: u8, program: ProgramFn| ProgramSpec::plain(name, level(priority), program);
    let (consumer_level, producer_level) = if consumer_first { (8, 5) } else { (5, 8) };
    let spec = SystemSpec {
        kernel: KernelConfig::default(),
        servers: Servers { name: Some(level(20)), mq: Some((level(14), MqConfig::default())), ..Servers::default() },
        objects: Vec::new(),
        faults: Vec::new(),
        programs: vec![program("consumer", consumer_level, consumer), program("producer", producer_level, producer)],
    };
    let mut system = boot(spec, mode);
    assert!(system.kernel.run().is_completed(), "{mode:?}: {:?}", system.kernel.outcome());
    let exits: Vec<String> = system
        .programs
        .iter()
        .map(|(_, id)| format!("{:?}", system.kernel.process_by_id(*id).expect("booted").state()))
        .collect();
    let exited = format!("{:?}", ProcessState::Exited { code: 0 });
    assert_eq!(exits, [exited.clone(), exited], "{mode:?}: exit codes");
    let received = received.borrow().clone();
    let full = full.borrow().clone();
    (received, full)
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, ..ProptestConfig::default() })]

    #[test]
    fn blocking_receivers_get_messages_in_the_order_they_were_sent(case in case()) {
        for mode in [Mode::Microkernel, Mode::Monolithic] {
            let (received, _) = run(&case, mode, true);
            prop_assert_eq!(&received, &case.messages, "{:?}", mode);
        }
    }

    #[test]
    fn a_full_queue_holds_its_capacity_and_gives_priority_then_age(case in case()) {
        let expected = producer_first(&case);
        let probes = case.messages.len().saturating_sub(case.capacity as usize);
        for mode in [Mode::Microkernel, Mode::Monolithic] {
            let (received, full) = run(&case, mode, false);
            prop_assert_eq!(&received, &expected, "{:?}", mode);
            prop_assert_eq!(full, vec![ServiceError::WouldBlock.to_string(); probes], "{:?}", mode);
        }
    }

    #[test]
    fn the_logic_keeps_priority_then_age_and_its_capacity(
        capacity in 1u32..=4,
        operations in vec((0u64..3, any::<bool>(), 0u32..=3), 1..40),
    ) {
        let mut queues = MessageQueues::new(MqConfig::default());
        let mut descriptors = Vec::new();
        for client in 0..3 {
            let Outcome::Done(MqReply::Descriptor(queue)) = queues.handle(client, open("/q", capacity)).outcome else {
                panic!("open");
            };
            descriptors.push(queue);
        }
        let mut model: Vec<(String, u32)> = Vec::new();
        for (step, (client, is_send, priority)) in operations.into_iter().enumerate() {
            let queue = descriptors[client as usize];
            let text = format!("m{step}");
            let request = match is_send {
                true => MqRequest::Send { queue, data: text.clone().into_bytes(), priority, nonblocking: true },
                false => MqRequest::Receive { queue, nonblocking: true },
            };
            let got = queues.handle(client, request).outcome;
            let expected = match is_send {
                true if model.len() >= capacity as usize => MqReply::Error(ServiceError::WouldBlock),
                true => {
                    model.push((text, priority));
                    MqReply::Done
                }
                false => match take_model(&mut model) {
                    Some((text, priority)) => MqReply::Message { data: text.into_bytes(), priority },
                    None => MqReply::Error(ServiceError::WouldBlock),
                },
            };
            prop_assert_eq!(got, Outcome::Done(expected));
        }
    }
}

/// The mq server crashes while the consumer waits in a receive: the reply capability it kept
/// dies with it, so the consumer hears "peer dead" rather than waiting for ever, and its
/// descriptor is stale at the server that comes back (none here: it was not supervised).
#[test]
fn a_crash_of_the_mq_server_tells_a_waiting_receiver_peer_dead() {
    let heard = Rc::new(RefCell::new(Vec::new()));
    let into = Rc::clone(&heard);
    let consumer: ProgramFn = Box::new(move |mut services, _caps| {
        Box::pin(async move {
            let Ok(MqReply::Descriptor(queue)) = services.mq(open("/q", 2), None).await else { return Ok(1) };
            let answer = services.mq(MqRequest::Receive { queue, nonblocking: false }, None).await;
            into.borrow_mut().push(format!("{:?}", answer.err()));
            Ok(0)
        })
    });
    let producer: ProgramFn = Box::new(move |mut services, _caps| {
        Box::pin(async move {
            services.sys().sleep(100_000).await?;
            // The server's third request: the crash strikes it, and no server comes back.
            let answer = services.mq(open("/q", 2), None).await;
            Ok(if answer.is_err() { 0 } else { 3 })
        })
    });
    let program = |name: &str, program: ProgramFn| ProgramSpec::plain(name, level(5), program);
    let spec = SystemSpec {
        kernel: KernelConfig::default(),
        servers: Servers { name: Some(level(20)), mq: Some((level(14), MqConfig::default())), ..Servers::default() },
        objects: Vec::new(),
        faults: vec![FaultSpec { server: "mq".into(), kind: FaultKind::Crash, trigger: Trigger::AtMessage(3) }],
        programs: vec![program("consumer", consumer), program("producer", producer)],
    };
    let mut system = boot(spec, Mode::Microkernel);
    assert!(system.kernel.run().is_completed(), "{:?}", system.kernel.outcome());
    assert_eq!(*heard.borrow(), [format!("{:?}", Some(ClientError::Sys(SysError::PeerDead)))]);
    for (name, id) in &system.programs {
        let state = system.kernel.process_by_id(*id).expect("booted").state();
        assert!(matches!(state, ProcessState::Exited { code: 0 }), "{name}: {state:?}");
    }
}

/// The scripting language's functions: a dispatcher sleeps on its notification, then takes
/// the urgent job first; errors are thrown as words. The same output in both modes.
#[test]
fn scripts_use_message_queues_in_both_modes() {
    let text = r####"Scenario(
        name: "mq-script",
        servers: (console: true, mq: ()),
        processes: [
            (name: "dispatcher", priority: 5, program: Script(source: r#"
                let ready = create_notification();
                let q = mq_open("/jobs", 4, 16);
                mq_notify(q, ready, 4);
                try { mq_notify(q, ready, 4); } catch (error) { print("again: " + error); }
                print("woken: " + wait(ready));
                for i in 0..3 { let job = mq_receive(q); print(job.data + " " + job.priority); }
                try { mq_send(q, "far too long for sixteen", 1); } catch (error) { print("send: " + error); }
                mq_close(q);
            "#)),
            (name: "producer", priority: 8, program: Script(source: r#"
                sleep(50000);
                let q = mq_open("/jobs", 4, 16);
                mq_send(q, "backup", 1);
                mq_send(q, "page", 9);
                mq_send(q, "report", 1);
                mq_unlink("/jobs");
                try { mq_unlink("/jobs"); } catch (error) { print("unlink: " + error); }
                mq_close(q);
            "#)),
        ],
    )"####;
    let scenario = mksim_core::scenario::Scenario::parse(text, "test.ron").unwrap_or_else(|error| panic!("{error}"));
    for mode in [Mode::Microkernel, Mode::Monolithic] {
        let report = mksim_core::run::run(&scenario, mode, &mksim_core::run::RunOptions::default());
        assert_eq!(
            report.console.get("dispatcher").map(String::as_str),
            Some("again: busy\nwoken: 4\npage 9\nbackup 1\nreport 1\nsend: message too long\n"),
            "{mode:?}"
        );
        assert_eq!(report.console.get("producer").map(String::as_str), Some("unlink: not found\n"), "{mode:?}");
    }
}

/// The nonblocking forms, in a script and in RON operations, in both modes: `mq_try_receive`
/// on an empty queue and `mq_try_send` to a full one throw "would block" (and change nothing),
/// and otherwise do what `mq_receive` and `mq_send` do; RON's `nonblocking: true` fails alike.
#[test]
fn the_try_forms_throw_would_block_instead_of_waiting_in_both_modes() {
    let text = r####"Scenario(
        name: "mq-try",
        servers: (console: true, mq: ()),
        processes: [
            (name: "script", priority: 5, program: Script(source: r#"
                let q = mq_open("/try", 2, 16);
                try { mq_try_receive(q); } catch (error) { print("empty: " + error); }
                mq_try_send(q, "low", 1);
                mq_send(q, "high", 7);
                try { mq_try_send(q, "more", 9); } catch (error) { print("full: " + error); }
                let first = mq_try_receive(q);
                print(first.data + " " + first.priority);
                let second = mq_receive(q);
                print(second.data + " " + second.priority);
                try { mq_try_receive(q); } catch (error) { print("empty again: " + error); }
                try { mq_try_send(q, "far too long for sixteen", 1); } catch (error) { print("long: " + error); }
                try { mq_try_receive(99); } catch (error) { print("bad: " + error); }
                mq_close(q);
            "#)),
            (name: "ops", priority: 5, program: [
                MqOpen(name: "/ops", capacity: 1, message_bytes_max: 8, as: "q"),
                Fails(error: "would block", op: MqReceive(queue: "q", nonblocking: true)),
                MqSend(queue: "q", text: "one", priority: 2, nonblocking: true),
                Fails(error: "would block", op: MqSend(queue: "q", text: "two", nonblocking: true)),
                MqReceive(queue: "q", expect: "one", expect_priority: 2, nonblocking: true),
                MqClose("q"),
                Print("ops done\n"),
            ]),
        ],
    )"####;
    let scenario = mksim_core::scenario::Scenario::parse(text, "test.ron").unwrap_or_else(|error| panic!("{error}"));
    let expected = "empty: would block\nfull: would block\nhigh 7\nlow 1\nempty again: would block\n\
                    long: message too long\nbad: bad file descriptor\n";
    for mode in [Mode::Microkernel, Mode::Monolithic] {
        let report = mksim_core::run::run(&scenario, mode, &mksim_core::run::RunOptions::default());
        assert!(report.outcome.is_completed(), "{}: {:?}", mode.name(), report.outcome);
        assert_eq!(report.console.get("script").map(String::as_str), Some(expected), "{}", mode.name());
        let ops = report.processes.iter().find(|process| process.name == "ops").expect("the ops process ran");
        assert_eq!((ops.exit_code, &ops.fault), (Some(0), &None), "{}", mode.name());
        assert_eq!(report.console.get("ops").map(String::as_str), Some("ops done\n"), "{}", mode.name());
    }
}
