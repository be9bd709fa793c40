//! The pipe server: [`Pipes`] behind an endpoint. Clients are told apart by
//! their badge, so every client has its own descriptors.
//!
//! A request that must wait (a read of an empty pipe, a write to a full one)
//! is not answered: the server keeps its reply capability in a first-in,
//! first-out queue for the channel it waits on. After every request it tries
//! again, in the order they came, the waiting requests of each channel that
//! request woke, answering those that now finish; one that finishes may wake
//! further channels. When the server dies, the reply capabilities die with
//! it, and every waiting client gets "peer dead". When a client ends, the kernel
//! says so (a disconnect notice): its descriptors close as exit closes them.

use crate::pipe::{Outcome, PipeConfig, Pipes};
use crate::serve::{Answer, ServerFaults, forget_waiting, serve_with_faults};
use mksim_kernel::{DISCONNECTED, Incoming, Message, ProgramResult, Slot, Sys};
use mksim_userland::pipe_protocol::{PipeReply, PipeRequest};
use mksim_userland::protocol::{Request, ServiceError, decode, encode, reply_label};
use std::collections::{BTreeMap, VecDeque};

/// A request left waiting, with where its answer goes.
struct Waiting {
    client: u64,
    request: PipeRequest,
    reply: Slot,
}

/// The pipes and the requests waiting on them.
struct Server {
    pipes: Pipes,
    waiting: BTreeMap<u32, VecDeque<Waiting>>,
}

fn answer(request: &PipeRequest, reply: &PipeReply) -> Message {
    Message::new(reply_label(request.label()), encode(reply))
}

impl Server {
    /// Tries again the requests waiting on `woken` and on whatever their finishing wakes;
    /// returns the answers to send, in order.
    fn retry(&mut self, woken: Vec<u32>) -> Vec<(Slot, Message)> {
        let mut answers = Vec::new();
        let mut channels: VecDeque<u32> = woken.into();
        while let Some(channel) = channels.pop_front() {
            let Some(queue) = self.waiting.remove(&channel) else { continue };
            for waiting in queue {
                let handled = self.pipes.handle(waiting.client, &waiting.request);
                channels.extend(handled.woken);
                match handled.outcome {
                    Outcome::Done(reply) => answers.push((waiting.reply, answer(&waiting.request, &reply))),
                    Outcome::Wait(again) => self.waiting.entry(again).or_default().push_back(waiting),
                }
            }
        }
        answers
    }

    /// Forgets the requests `client` left waiting; returns their reply capabilities.
    fn forget(&mut self, client: u64) -> Vec<Slot> {
        forget_waiting(&mut self.waiting, |waiting| waiting.client == client, |waiting| waiting.reply)
    }
}

/// Serves pipes on `port`.
///
/// # Errors
/// Faults when its own port fails.
pub async fn pipe_server(sys: Sys, port: Slot, config: PipeConfig, faults: Option<ServerFaults>) -> ProgramResult {
    let mut server = Server { pipes: Pipes::new(config), waiting: BTreeMap::new() };
    server.pipes.summary().record_if_restarted(&sys);
    serve_with_faults(&sys, port, faults, async |incoming| {
        let Incoming::Message(message) = incoming else { return Answer::Later };
        if message.label == DISCONNECTED {
            // The client ended: its descriptors close, which may end a peer's wait.
            let client = message.badge.0;
            for reply in server.forget(client) {
                let _ = sys.delete(reply).await;
            }
            let woken = server.pipes.client_gone(client);
            for (reply, answer) in server.retry(woken) {
                let _ = sys.reply(reply, answer).await;
            }
            server.pipes.summary().record(&sys);
            return Answer::Later;
        }
        let Some(request) = decode::<PipeRequest>(&message.data) else {
            let reply = PipeReply::Error(ServiceError::BadRequest);
            return Answer::Now(Message::new(reply_label(message.label), encode(&reply)));
        };
        let client = message.badge.0;
        let handled = server.pipes.handle(client, &request);
        for (reply, answer) in server.retry(handled.woken) {
            // A waiting client that has died since has no one to answer.
            let _ = sys.reply(reply, answer).await;
        }
        server.pipes.summary().record(&sys);
        match (handled.outcome, message.reply) {
            (Outcome::Done(reply), _) => Answer::Now(answer(&request, &reply)),
            (Outcome::Wait(channel), Some(reply)) => {
                server.waiting.entry(channel).or_default().push_back(Waiting { client, request, reply });
                Answer::Later
            }
            // A request sent without a call cannot be answered later either.
            (Outcome::Wait(_), None) => Answer::Later,
        }
    })
    .await
}
