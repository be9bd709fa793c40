//! The socket server: [`Sockets`] behind an endpoint. Clients are told apart by their badge,
//! so every client has its own descriptors.
//!
//! A call that must wait (an accept with nothing pending, a receive from an empty stream, a
//! send into a full one) is not answered: the server keeps its reply capability in a queue per
//! wait channel. After each request it tries again, oldest first, the waiting calls of every
//! channel the request woke, answering those that now complete; the others wait again. When
//! the server dies, the reply capabilities die with it and every waiting client sees
//! "peer dead". When a client ends, the kernel says so (a disconnect notice): its sockets
//! close as exit closes them.

use crate::serve::{Answer, ServerFaults, forget_waiting, serve_with_faults};
use crate::socket::{Outcome, SocketConfig, Sockets};
use mksim_kernel::syscall::WaitChannel;
use mksim_kernel::{DISCONNECTED, Incoming, Message, ProgramResult, Slot, Sys};
use mksim_userland::protocol::{ServiceError, decode, encode, reply_label};
use mksim_userland::socket_protocol::{SockReply, SockRequest};
use std::collections::{BTreeMap, VecDeque};

/// A call waiting for its channel: who asked, what, and where to answer.
struct Waiting {
    client: u64,
    label: u32,
    request: SockRequest,
    reply: Slot,
}

/// Serves sockets on `port`.
///
/// # Errors
/// Faults when its own port fails, or an injected crash strikes.
pub async fn socket_server(sys: Sys, port: Slot, config: SocketConfig, faults: Option<ServerFaults>) -> ProgramResult {
    let mut sockets = Sockets::new(config);
    let mut waiting: BTreeMap<WaitChannel, VecDeque<Waiting>> = BTreeMap::new();
    sockets.summary().record_if_restarted(&sys);
    serve_with_faults(&sys, port, faults, async |incoming| {
        let Incoming::Message(request) = incoming else { return Answer::Later };
        let client = request.badge.0;
        if request.label == DISCONNECTED {
            // The client ended: its sockets close, so its peers read end of file.
            for reply in forget_waiting(&mut waiting, |call| call.client == client, |call| call.reply) {
                let _ = sys.delete(reply).await;
            }
            let woken = sockets.client_gone(client);
            retry(&sys, &mut sockets, &mut waiting, woken.into()).await;
            sockets.summary().record(&sys);
            return Answer::Later;
        }
        let Some(operation) = decode::<SockRequest>(&request.data) else {
            let reply = SockReply::Error(ServiceError::BadRequest);
            return Answer::Now(Message::new(reply_label(request.label), encode(&reply)));
        };
        let handled = sockets.handle(client, operation.clone());
        let answer = match (handled.outcome, request.reply) {
            (Outcome::Done(reply), _) => Answer::Now(Message::new(reply_label(request.label), encode(&reply))),
            (Outcome::Wait(channel), Some(reply)) => {
                let call = Waiting { client: request.badge.0, label: request.label, request: operation, reply };
                waiting.entry(channel).or_default().push_back(call);
                Answer::Later
            }
            // A send without a call has nobody to answer later.
            (Outcome::Wait(_), None) => Answer::Later,
        };
        retry(&sys, &mut sockets, &mut waiting, handled.wake.into_iter().flatten().collect()).await;
        sockets.summary().record(&sys);
        answer
    })
    .await
}

/// Tries again the calls waiting on the `woken` channels, and on whatever their finishing
/// wakes in turn, answering those that now complete.
async fn retry(
    sys: &Sys,
    sockets: &mut Sockets,
    waiting: &mut BTreeMap<WaitChannel, VecDeque<Waiting>>,
    mut woken: VecDeque<WaitChannel>,
) {
    while let Some(channel) = woken.pop_front() {
        for call in waiting.remove(&channel).unwrap_or_default() {
            let retried = sockets.handle(call.client, call.request.clone());
            woken.extend(retried.wake.into_iter().flatten());
            match retried.outcome {
                Outcome::Done(reply) => {
                    // A caller gone since (its reply capability dead) needs no answer.
                    let _ = sys.reply(call.reply, Message::new(reply_label(call.label), encode(&reply))).await;
                }
                Outcome::Wait(channel) => waiting.entry(channel).or_default().push_back(call),
            }
        }
    }
}
