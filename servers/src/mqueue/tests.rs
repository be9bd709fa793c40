use super::*;

fn open(queues: &mut MessageQueues, client: u64, name: &str, capacity: u32) -> u32 {
    let request = MqRequest::Open { name: name.into(), capacity, message_bytes_max: 8 };
    match queues.handle(client, request).outcome {
        Outcome::Done(MqReply::Descriptor(queue)) => queue,
        other => panic!("open: {other:?}"),
    }
}

fn send(queues: &mut MessageQueues, client: u64, queue: u32, text: &str, priority: u32) -> Handled {
    queues.handle(client, MqRequest::Send { queue, data: text.into(), priority, nonblocking: false })
}

fn receive(queues: &mut MessageQueues, client: u64, queue: u32) -> Outcome {
    queues.handle(client, MqRequest::Receive { queue, nonblocking: false }).outcome
}

fn message(text: &str, priority: u32) -> Outcome {
    Outcome::Done(MqReply::Message { data: text.into(), priority })
}

#[test]
fn the_highest_priority_comes_first_then_the_oldest() {
    let mut queues = MessageQueues::new(MqConfig::default());
    let queue = open(&mut queues, 1, "jobs", 4);
    for (text, priority) in [("a", 1), ("b", 5), ("c", 1), ("d", 5)] {
        assert_eq!(send(&mut queues, 1, queue, text, priority).outcome, Outcome::Done(MqReply::Done));
    }
    for (text, priority) in [("b", 5), ("d", 5), ("a", 1), ("c", 1)] {
        assert_eq!(receive(&mut queues, 1, queue), message(text, priority));
    }
    assert_eq!(receive(&mut queues, 1, queue), Outcome::Wait(receivers_channel(0)));
}

#[test]
fn a_full_queue_makes_senders_wait_or_fail_and_a_receive_wakes_them() {
    let mut queues = MessageQueues::new(MqConfig::default());
    let queue = open(&mut queues, 1, "jobs", 1);
    send(&mut queues, 1, queue, "a", 0);
    assert_eq!(send(&mut queues, 1, queue, "b", 0).outcome, Outcome::Wait(senders_channel(0)));
    let nonblocking = MqRequest::Send { queue, data: b"b".to_vec(), priority: 0, nonblocking: true };
    assert_eq!(queues.handle(1, nonblocking).outcome, Outcome::Done(MqReply::Error(ServiceError::WouldBlock)));
    let taken = queues.handle(1, MqRequest::Receive { queue, nonblocking: false });
    assert_eq!(taken.wake, [Some(senders_channel(0)), None]);
    let long = MqRequest::Send { queue, data: vec![0; 9], priority: 0, nonblocking: false };
    assert_eq!(queues.handle(1, long).outcome, Outcome::Done(MqReply::Error(ServiceError::MessageTooLong)));
    let high = MqRequest::Send { queue, data: vec![], priority: 32, nonblocking: false };
    assert_eq!(queues.handle(1, high).outcome, Outcome::Done(MqReply::Error(ServiceError::InvalidArgument)));
}

#[test]
fn a_notification_fires_once_on_a_message_into_an_empty_queue_and_a_second_is_busy() {
    let mut queues = MessageQueues::new(MqConfig::default());
    let queue = open(&mut queues, 1, "jobs", 4);
    let other = open(&mut queues, 2, "jobs", 4);
    let register = MqRequest::Notify { queue, notification: 7, bits: 0b10 };
    assert_eq!(queues.handle(1, register).outcome, Outcome::Done(MqReply::Done));
    let again = MqRequest::Notify { queue: other, notification: 3, bits: 1 };
    assert_eq!(queues.handle(2, again).outcome, Outcome::Done(MqReply::Error(ServiceError::Busy)));
    let fired = send(&mut queues, 2, other, "a", 0).fired;
    assert_eq!(fired, Some(Fired { queue: 0, client: 1, notification: 7, bits: 0b10 }));
    receive(&mut queues, 1, queue);
    assert_eq!(send(&mut queues, 2, other, "b", 0).fired, None, "the registration went when it fired");
}

#[test]
fn a_waiting_receiver_keeps_the_notification_from_firing() {
    let mut queues = MessageQueues::new(MqConfig::default());
    let queue = open(&mut queues, 1, "jobs", 4);
    let other = open(&mut queues, 2, "jobs", 4);
    queues.handle(1, MqRequest::Notify { queue, notification: 7, bits: 1 });
    assert_eq!(receive(&mut queues, 2, other), Outcome::Wait(receivers_channel(0)));
    assert_eq!(send(&mut queues, 1, queue, "a", 0).fired, None);
    assert_eq!(receive(&mut queues, 2, other), message("a", 0));
    assert!(send(&mut queues, 1, queue, "b", 0).fired.is_some());
}

#[test]
fn an_unlinked_queue_lives_until_its_last_descriptor_closes_and_the_name_is_free_at_once() {
    let mut queues = MessageQueues::new(MqConfig::default());
    let queue = open(&mut queues, 1, "jobs", 4);
    send(&mut queues, 1, queue, "old", 0);
    assert_eq!(queues.handle(2, MqRequest::Unlink { name: "jobs".into() }).outcome, Outcome::Done(MqReply::Done));
    let fresh = open(&mut queues, 2, "jobs", 4);
    assert_eq!(
        queues.handle(2, MqRequest::Receive { queue: fresh, nonblocking: true }).outcome,
        Outcome::Done(MqReply::Error(ServiceError::WouldBlock))
    );
    assert_eq!(receive(&mut queues, 1, queue), message("old", 0));
    assert_eq!(queues.view().len(), 2);
    queues.handle(1, MqRequest::Close { queue });
    assert_eq!(queues.view().len(), 1);
    let gone = MqRequest::Unlink { name: "nothing".into() };
    assert_eq!(queues.handle(1, gone).outcome, Outcome::Done(MqReply::Error(ServiceError::NotFound)));
    let stale = MqRequest::Receive { queue, nonblocking: true };
    assert_eq!(queues.handle(1, stale).outcome, Outcome::Done(MqReply::Error(ServiceError::BadDescriptor)));
}
