//! The receive-handle-reply loop every server runs.

use mksim_kernel::{Incoming, Message, ProgramResult, Slot, Sys};

/// What a handler does about the message it was given.
pub enum Answer {
    /// Reply now with this message (ignored when the sender did not call).
    Now(Message),
    /// No reply now: the handler kept the reply capability to answer later, or there is nothing to answer.
    Later,
}

/// Receives on `port` forever, replying to each call with what `handle` answers,
/// in one reply-and-receive syscall where there is a reply to send.
///
/// # Errors
/// Faults the server when its own port fails: a server without its port has nothing left to do.
pub async fn serve(sys: &Sys, port: Slot, mut handle: impl AsyncFnMut(Incoming) -> Answer) -> ProgramResult {
    let mut incoming = sys.receive(port).await?;
    loop {
        let reply = match &incoming {
            Incoming::Message(message) => message.reply,
            Incoming::Notification(_) => None,
        };
        incoming = match (reply, handle(incoming).await) {
            (Some(reply), Answer::Now(message)) => sys.reply_receive(reply, message, port).await?,
            _ => sys.receive(port).await?,
        };
    }
}
