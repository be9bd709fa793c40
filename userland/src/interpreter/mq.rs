//! The message-queue operations of scripted programs (`MqOpen`, `MqSend`, `MqReceive`,
//! `MqNotify`, `MqUnlink`, `MqClose`). Queue descriptors are named like file descriptors.

use super::{Script, Stop, check_text};
use crate::protocol::{MqReply, MqRequest};
use crate::script::Op;

impl Script {
    pub(super) async fn mq_op(&mut self, op: &Op) -> Result<(), Stop> {
        let mut notification = None;
        let request = match op {
            Op::MqOpen { name, capacity, message_bytes_max, .. } => {
                MqRequest::Open { name: name.clone(), capacity: *capacity, message_bytes_max: *message_bytes_max }
            }
            Op::MqSend { queue, text, priority, nonblocking } => MqRequest::Send {
                queue: self.fd(queue)?,
                data: text.as_bytes().to_vec(),
                priority: *priority,
                nonblocking: *nonblocking,
            },
            Op::MqReceive { queue, nonblocking, .. } => {
                MqRequest::Receive { queue: self.fd(queue)?, nonblocking: *nonblocking }
            }
            Op::MqNotify { queue, notification: name, bits } => {
                notification = Some(self.cap(name)?);
                MqRequest::Notify { queue: self.fd(queue)?, notification: 0, bits: *bits }
            }
            Op::MqUnlink(name) => MqRequest::Unlink { name: name.clone() },
            Op::MqClose(queue) => MqRequest::Close { queue: self.fd(queue)? },
            _ => return Err(Stop::Failed("not a message-queue operation".into())),
        };
        let reply = self.services.mq(request, notification).await?;
        match (op, reply) {
            (Op::MqOpen { name_as, .. }, MqReply::Descriptor(queue)) => {
                self.fds.insert(name_as.clone(), queue);
            }
            (Op::MqReceive { expect, expect_priority, .. }, MqReply::Message { data, priority }) => {
                check_text("receive", &data, expect)?;
                if let Some(expected) = expect_priority
                    && *expected != priority
                {
                    return Err(Stop::Failed(format!("receive: expected priority {expected}, got {priority}")));
                }
            }
            (Op::MqClose(queue), _) => {
                self.fds.remove(queue);
            }
            _ => {}
        }
        Ok(())
    }
}
