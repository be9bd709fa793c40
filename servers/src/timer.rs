//! The timer server: a periodic timer interrupt arrives as notification bits
//! bound to the server, so one receive returns either a client's request or a
//! tick. Clients wait for a number of ticks; their replies are sent on the
//! tick that completes the wait.

use crate::serve::{Answer, ServerFaults, serve_with_faults};
use mksim_kernel::{Incoming, Message, ProgramResult, Slot, Sys};
use mksim_userland::protocol::{Request, ServiceError, SimpleReply, TimerRequest, decode, encode, reply_label};

/// Runs the timer server on `port`, with `tick` a notification for its interrupts.
///
/// # Errors
/// Faults when its port, notification or timer cannot be set up.
pub async fn timer_server(
    sys: Sys,
    port: Slot,
    tick: Slot,
    period_cycles: u64,
    faults: Option<ServerFaults>,
) -> ProgramResult {
    sys.bind_notification(tick).await?;
    sys.arm_timer(tick, 1, period_cycles, Some(period_cycles)).await?;
    let mut ticks: u64 = 0;
    let mut waiting: Vec<(u64, Slot)> = Vec::new();
    let done_label = reply_label(TimerRequest::Wait { ticks: 0 }.label());
    serve_with_faults(&sys, port, faults, async |incoming| match incoming {
        Incoming::Notification(_) => {
            ticks += 1;
            let (due, later): (Vec<_>, Vec<_>) = waiting.drain(..).partition(|&(deadline, _)| deadline <= ticks);
            waiting = later;
            for (_, reply) in due {
                let _ = sys.reply(reply, Message::new(done_label, encode(&SimpleReply::Done))).await;
            }
            Answer::Later
        }
        Incoming::Message(request) => match (decode::<TimerRequest>(&request.data), request.reply) {
            (Some(TimerRequest::Wait { ticks: wanted }), Some(reply)) if wanted > 0 => {
                waiting.push((ticks + u64::from(wanted), reply));
                Answer::Later
            }
            (Some(TimerRequest::Wait { .. }), _) => Answer::Now(Message::new(done_label, encode(&SimpleReply::Done))),
            (None, _) => Answer::Now(Message::new(
                reply_label(request.label),
                encode(&SimpleReply::Error(ServiceError::BadRequest)),
            )),
        },
    })
    .await
}
