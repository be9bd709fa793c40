//! The receive-handle-reply loop every server runs, with the two things a
//! supervised server adds to it: answering heartbeats, and suffering the
//! faults a scenario injects. A server is ready when it starts to serve: it
//! tells the kernel so (see `mksim_kernel::boot`), after whatever start-up
//! work it did before (a file server mounts first).

use crate::fault::{FaultKind, SharedPlan, corrupt};
use mksim_kernel::{DISCONNECTED, Incoming, Message, ProgramFault, ProgramResult, Slot, Sys};
use mksim_userland::protocol::{HEARTBEAT, reply_label};
use std::collections::{BTreeMap, VecDeque};

/// What a handler does about the message it was given.
pub enum Answer {
    /// Reply now with this message (ignored when the sender did not call).
    Now(Message),
    /// No reply now: the handler kept the reply capability to answer later, or there is nothing to answer.
    Later,
}

/// The faults planned for one server.
#[derive(Clone)]
pub struct ServerFaults {
    /// The run's plan.
    pub plan: SharedPlan,
    /// The server's name in the plan.
    pub server: &'static str,
}

/// Receives on `port` forever, replying to each call with what `handle` answers,
/// in one reply-and-receive syscall where there is a reply to send.
///
/// # Errors
/// Faults the server when its own port fails: a server without its port has nothing left to do.
pub async fn serve(sys: &Sys, port: Slot, handle: impl AsyncFnMut(Incoming) -> Answer) -> ProgramResult {
    serve_with_faults(sys, port, None, handle).await
}

/// [`serve`], answering heartbeats itself and letting `faults` strike the requests.
///
/// # Errors
/// As [`serve`]; an injected crash faults the server.
pub async fn serve_with_faults(
    sys: &Sys,
    port: Slot,
    faults: Option<ServerFaults>,
    mut handle: impl AsyncFnMut(Incoming) -> Answer,
) -> ProgramResult {
    sys.ready().await?;
    let mut incoming = sys.receive(port).await?;
    loop {
        let (reply, label) = match &incoming {
            Incoming::Message(message) => (message.reply, Some(message.label)),
            Incoming::Notification(_) => (None, None),
        };
        if let (Some(reply), Some(HEARTBEAT)) = (reply, label) {
            incoming = sys.reply_receive(reply, Message::new(reply_label(HEARTBEAT), Vec::new()), port).await?;
            continue;
        }
        let fault = match (&faults, label) {
            // A disconnect notice is the kernel's, not a client's request: monolithic mode's
            // modules are told without a call, so no fault can strike it there either.
            (_, Some(DISCONNECTED)) => None,
            (Some(faults), Some(_)) => faults.plan.borrow_mut().on_request(faults.server, sys.now()),
            _ => None,
        };
        if let Some(fault) = fault {
            sys.mark_fault(fault.logged());
        }
        match fault {
            Some(FaultKind::Crash) => return Err(ProgramFault::Injected("injected crash".into())),
            Some(FaultKind::Hang) => return hang(sys).await,
            Some(FaultKind::DropMessage) => {
                // The request is gone; deleting its reply capability tells the caller no
                // answer will come (peer dead) rather than leaving it waiting for ever.
                if let Some(reply) = reply {
                    sys.delete(reply).await?;
                }
                incoming = sys.receive(port).await?;
                continue;
            }
            Some(FaultKind::Delay(cycles)) => sys.sleep(cycles).await?,
            Some(FaultKind::CorruptReply) | None => {}
        }
        incoming = match (reply, handle(incoming).await) {
            (Some(reply), Answer::Now(mut message)) => {
                if fault == Some(FaultKind::CorruptReply) {
                    corrupt(&mut message);
                }
                sys.reply_receive(reply, message, port).await?
            }
            _ => sys.receive(port).await?,
        };
    }
}

/// Takes out of `waiting` (requests waiting, by channel) those `gone` picks, keeping the order
/// of the rest; returns where each taken one's answer would have gone. A server drops the
/// requests of a client that ended this way.
pub fn forget_waiting<K: Ord + Copy, W>(
    waiting: &mut BTreeMap<K, VecDeque<W>>,
    gone: impl Fn(&W) -> bool,
    reply_of: impl Fn(&W) -> Slot,
) -> Vec<Slot> {
    let mut replies = Vec::new();
    for queue in waiting.values_mut() {
        queue.retain(|request| {
            let keep = !gone(request);
            if !keep {
                replies.push(reply_of(request));
            }
            keep
        });
    }
    waiting.retain(|_, queue| !queue.is_empty());
    replies
}

/// Waits for something that never comes, keeping the request it was handling: only a kill
/// (by a supervisor that missed its heartbeat) ends this.
async fn hang(sys: &Sys) -> ProgramResult {
    let nothing = sys.create_notification().await?;
    loop {
        sys.wait(nothing).await?;
    }
}
