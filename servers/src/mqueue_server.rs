//! The `mq` server: [`MessageQueues`] behind an endpoint. Clients are told apart by their
//! badge, so every client has its own queue descriptors.
//!
//! A call that must wait (a receive on an empty queue, a send to a full one) is answered
//! later: the server keeps its reply capability in a first-in first-out list per channel,
//! and after each request tries again, in order, the waiting calls of every channel the
//! request woke. A registration for a queue's notification keeps the notification capability
//! the client passed with it, which the server signals and then deletes. When the server dies,
//! the reply capabilities it kept die with it: every waiting client is told "peer dead". When a
//! client ends, the kernel says so (a disconnect notice): its descriptors close.

use crate::mqueue::{Fired, Handled, MessageQueues, MqConfig, Outcome};
use crate::serve::{Answer, ServerFaults, forget_waiting, serve_with_faults};
use mksim_kernel::{DISCONNECTED, Incoming, Message, ProgramResult, Received, Slot, Sys};
use mksim_userland::protocol::{MqReply, MqRequest, ServiceError, decode, encode, reply_label};
use std::collections::{BTreeMap, VecDeque};

/// A call that waits on a channel.
struct Waiting {
    client: u64,
    request: MqRequest,
    reply: Slot,
}

/// The server's state besides the queues: waiting calls and registered notifications.
struct MqServer {
    queues: MessageQueues,
    waiting: BTreeMap<u32, VecDeque<Waiting>>,
    /// The notification capability of each queue's registration, with the client that made it.
    notifications: BTreeMap<u32, (u64, Slot)>,
}

/// Serves `port` with message queues of these limits.
///
/// # Errors
/// Faults when its own port fails.
pub async fn mqueue_server(sys: Sys, port: Slot, config: MqConfig, faults: Option<ServerFaults>) -> ProgramResult {
    let mut server =
        MqServer { queues: MessageQueues::new(config), waiting: BTreeMap::new(), notifications: BTreeMap::new() };
    server.queues.summary().record_if_restarted(&sys);
    serve_with_faults(&sys, port, faults, async |incoming| {
        let Incoming::Message(message) = incoming else { return Answer::Later };
        if message.label == DISCONNECTED {
            server.client_gone(&sys, message.badge.0).await;
            return Answer::Later;
        }
        server.request(&sys, message).await
    })
    .await
}

impl MqServer {
    async fn request(&mut self, sys: &Sys, message: Received) -> Answer {
        let client = message.badge.0;
        let label = message.label;
        let Some(request) = decode::<MqRequest>(&message.data) else {
            for &slot in &message.caps {
                let _ = sys.delete(slot).await;
            }
            return Answer::Now(reply(label, &MqReply::Error(ServiceError::BadRequest)));
        };
        let notification = message.caps.first().copied();
        for &extra in message.caps.iter().skip(1) {
            let _ = sys.delete(extra).await;
        }
        if matches!(request, MqRequest::Notify { .. }) && notification.is_none() {
            return Answer::Now(reply(label, &MqReply::Error(ServiceError::BadRequest)));
        }
        let registering = match &request {
            MqRequest::Notify { queue, .. } => self.queues.queue_of(client, *queue),
            _ => None,
        };
        let handled = self.queues.handle(client, request.clone());
        match (registering, notification, &handled.outcome) {
            (Some(id), Some(slot), Outcome::Done(MqReply::Done)) => {
                self.notifications.insert(id, (client, slot));
            }
            (_, Some(slot), _) => {
                let _ = sys.delete(slot).await;
            }
            _ => {}
        }
        let answer = match handled.outcome {
            Outcome::Done(ref done) => Answer::Now(reply(label, done)),
            Outcome::Wait(channel) => match message.reply {
                Some(reply) => {
                    self.waiting.entry(channel).or_default().push_back(Waiting { client, request, reply });
                    Answer::Later
                }
                None => Answer::Later,
            },
        };
        self.after(sys, &handled).await;
        self.queues.summary().record(sys);
        answer
    }

    /// The client ended: its waiting calls are dropped and its descriptors closed, with the
    /// registrations made through them.
    async fn client_gone(&mut self, sys: &Sys, client: u64) {
        for reply in forget_waiting(&mut self.waiting, |waiting| waiting.client == client, |waiting| waiting.reply) {
            let _ = sys.delete(reply).await;
        }
        self.queues.client_gone(client);
        self.forget_registrations(sys).await;
        self.queues.summary().record(sys);
    }

    /// Signals what `handled` fired and tries again the calls waiting on what it woke, and on
    /// whatever those woke in turn.
    async fn after(&mut self, sys: &Sys, handled: &Handled) {
        self.fire(sys, handled.fired).await;
        let mut woken: VecDeque<u32> = handled.wake.iter().flatten().copied().collect();
        while let Some(channel) = woken.pop_front() {
            let Some(waiters) = self.waiting.remove(&channel) else { continue };
            for waiter in waiters {
                let handled = self.queues.handle(waiter.client, waiter.request.clone());
                match handled.outcome {
                    Outcome::Wait(again) => self.waiting.entry(again).or_default().push_back(waiter),
                    Outcome::Done(done) => {
                        let label = waiter_label(&waiter.request);
                        let answered = sys.reply(waiter.reply, reply(label, &done)).await;
                        // A receiver that died while it waited leaves its message in the queue.
                        if let (Err(_), MqRequest::Receive { queue, .. }, MqReply::Message { data, priority }) =
                            (answered, &waiter.request, done)
                        {
                            self.queues.put_back(waiter.client, *queue, data, priority);
                            continue;
                        }
                        woken.extend(handled.wake.iter().flatten());
                    }
                }
                self.fire(sys, handled.fired).await;
            }
        }
        self.forget_registrations(sys).await;
    }

    async fn fire(&mut self, sys: &Sys, fired: Option<Fired>) {
        let Some(fired) = fired else { return };
        let Some((_, slot)) = self.notifications.remove(&fired.queue) else { return };
        // The client may have deleted its notification: then there is no one to tell.
        let _ = sys.signal(slot, fired.bits).await;
        let _ = sys.delete(slot).await;
    }

    /// Deletes the notification capabilities of registrations that are gone (closed).
    async fn forget_registrations(&mut self, sys: &Sys) {
        let gone: Vec<u32> = self
            .notifications
            .iter()
            .filter(|&(&id, &(client, _))| !self.queues.is_registered(client, id))
            .map(|(&id, _)| id)
            .collect();
        for id in gone {
            if let Some((_, slot)) = self.notifications.remove(&id) {
                let _ = sys.delete(slot).await;
            }
        }
    }
}

fn waiter_label(request: &MqRequest) -> u32 {
    use mksim_userland::protocol::Request;
    request.label()
}

fn reply(label: u32, reply: &MqReply) -> Message {
    Message::new(reply_label(label), encode(reply))
}
