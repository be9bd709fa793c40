//! The message-queue service's protocol: POSIX message queues (`mq_open`, `mq_send`,
//! `mq_receive`, `mq_notify`, `mq_unlink`, `mq_close`) as requests to the `mq` server.
//!
//! Kept apart from [`crate::protocol`], which re-exports it and routes the service's labels
//! here for the trace's words (`mq.send(q=1, "job", prio 5)`, `mq.receive → 3 B prio 5`).

use crate::protocol::{Request, Service, ServiceError, decode};
use serde::{Deserialize, Serialize};
use std::fmt;

/// The highest priority a message may have (POSIX's `MQ_PRIO_MAX` is 32: priorities 0 to 31).
pub const MQ_PRIORITY_MAX: u32 = 31;

/// Message-queue requests. A queue descriptor is the caller's own: the server tells clients
/// apart by their badge.
#[derive(Clone, PartialEq, Eq, Debug, Serialize, Deserialize)]
#[allow(missing_docs)]
pub enum MqRequest {
    /// Open the queue called `name`, creating it with these limits when there is none (an
    /// existing queue keeps its own limits, as POSIX's `mq_open` ignores them then).
    Open { name: String, capacity: u32, message_bytes_max: u32 },
    /// Put a message in the queue; a full queue makes the caller wait unless `nonblocking`.
    Send { queue: u32, data: Vec<u8>, priority: u32, nonblocking: bool },
    /// Take the oldest message of the highest priority; an empty queue makes the caller wait
    /// unless `nonblocking`.
    Receive { queue: u32, nonblocking: bool },
    /// Signal `bits` once on the notification the message carries (microkernel mode) or the
    /// caller's capability `notification` (monolithic mode) when a message arrives in the
    /// empty queue and no receiver waits.
    Notify { queue: u32, notification: u32, bits: u64 },
    /// Remove the name; the queue lives on until its last descriptor closes.
    Unlink { name: String },
    /// Close a queue descriptor.
    Close { queue: u32 },
}

impl Request for MqRequest {
    const SERVICE: Service = Service::MessageQueue;
    fn operation(&self) -> u32 {
        match self {
            MqRequest::Open { .. } => 1,
            MqRequest::Send { .. } => 2,
            MqRequest::Receive { .. } => 3,
            MqRequest::Notify { .. } => 4,
            MqRequest::Unlink { .. } => 5,
            MqRequest::Close { .. } => 6,
        }
    }
}

impl MqRequest {
    /// The queue descriptor the request uses, if any.
    pub fn descriptor(&self) -> Option<u32> {
        match self {
            MqRequest::Send { queue, .. }
            | MqRequest::Receive { queue, .. }
            | MqRequest::Notify { queue, .. }
            | MqRequest::Close { queue } => Some(*queue),
            MqRequest::Open { .. } | MqRequest::Unlink { .. } => None,
        }
    }
}

/// Message-queue replies.
#[derive(Clone, PartialEq, Eq, Debug, Serialize, Deserialize)]
pub enum MqReply {
    /// Done, nothing to return.
    Done,
    /// A new queue descriptor.
    Descriptor(u32),
    /// A message taken from the queue.
    Message {
        /// Its bytes.
        data: Vec<u8>,
        /// Its priority.
        priority: u32,
    },
    /// The operation failed.
    Error(ServiceError),
}

impl fmt::Display for MqRequest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            MqRequest::Open { name, capacity, message_bytes_max } => {
                write!(f, "mq.open({name:?}, {capacity} × {message_bytes_max} B)")
            }
            MqRequest::Send { queue, data, priority, nonblocking } => {
                let text = String::from_utf8_lossy(data);
                let shown: String = text.chars().take(24).collect();
                let more = if shown.len() < text.len() { "…" } else { "" };
                let mode = if *nonblocking { ", nonblocking" } else { "" };
                write!(f, "mq.send(q={queue}, {shown:?}{more}, prio {priority}{mode})")
            }
            MqRequest::Receive { queue, nonblocking: false } => write!(f, "mq.receive(q={queue})"),
            MqRequest::Receive { queue, nonblocking: true } => write!(f, "mq.receive(q={queue}, nonblocking)"),
            MqRequest::Notify { queue, bits, .. } => write!(f, "mq.notify(q={queue}, bits={bits:#x})"),
            MqRequest::Unlink { name } => write!(f, "mq.unlink({name:?})"),
            MqRequest::Close { queue } => write!(f, "mq.close(q={queue})"),
        }
    }
}

/// A request's data in words.
pub(crate) fn describe_request(data: &[u8]) -> Option<String> {
    Some(decode::<MqRequest>(data)?.to_string())
}

/// A reply's data in words.
pub(crate) fn describe_reply(data: &[u8]) -> Option<String> {
    Some(match decode::<MqReply>(data)? {
        MqReply::Done => "ok".to_owned(),
        MqReply::Descriptor(queue) => format!("q {queue}"),
        MqReply::Message { data, priority } => format!("{} B prio {priority}", data.len()),
        MqReply::Error(error) => format!("error: {error}"),
    })
}

/// The name of operation `operation` (`mq.send`), for per-operation metrics.
pub(crate) fn operation_name(operation: u32) -> Option<&'static str> {
    Some(match operation {
        1 => "mq.open",
        2 => "mq.send",
        3 => "mq.receive",
        4 => "mq.notify",
        5 => "mq.unlink",
        6 => "mq.close",
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::protocol::{describe, encode, reply_label};

    #[test]
    fn requests_and_replies_read_back_in_words() {
        let request = MqRequest::Send { queue: 1, data: b"job".to_vec(), priority: 5, nonblocking: false };
        assert_eq!(describe(request.label(), &encode(&request)).as_deref(), Some("mq.send(q=1, \"job\", prio 5)"));
        let receive = MqRequest::Receive { queue: 1, nonblocking: false };
        let reply = MqReply::Message { data: vec![b'x'; 32], priority: 5 };
        let text = describe(reply_label(receive.label()), &encode(&reply));
        assert_eq!(text.as_deref(), Some("mq.receive → 32 B prio 5"));
        assert_eq!(crate::protocol::describe_operation(receive.label()), Some("mq.receive"));
    }
}
