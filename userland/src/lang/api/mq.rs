//! The message-queue functions of the scripting language: `mq_open`, `mq_send`, `mq_receive`,
//! `mq_notify`, `mq_unlink`, `mq_close`, each a request to the `mq` service through the same
//! stubs the RON operations use; `mq_try_send` and `mq_try_receive` throw "would block" rather
//! than wait (as `pipe_try_read` does for pipes). Errors are thrown as their words ("would
//! block", "busy").

use super::{Answer, Bridge, Request, Result, slot, small, thrown};
use crate::protocol::MqRequest;
use rhai::{Dynamic, Engine, INT, Map, NativeCallContext};
use std::sync::Arc;

impl Bridge {
    fn mq(&self, request: MqRequest) -> Result<Answer> {
        self.ask(Request::Mq(request, None))
    }

    fn mq_send(&self, queue: INT, text: &str, priority: INT, nonblocking: bool) -> Result<()> {
        let request = MqRequest::Send {
            queue: small(queue, "queue")?,
            data: text.as_bytes().to_vec(),
            priority: small(priority, "priority")?,
            nonblocking,
        };
        self.mq(request).map(|_| ())
    }

    /// The message taken, as `#{data, priority}`.
    fn mq_receive(&self, queue: INT, nonblocking: bool) -> Result<Map> {
        match self.mq(MqRequest::Receive { queue: small(queue, "queue")?, nonblocking })? {
            Answer::Message(data, priority) => {
                let mut map = Map::new();
                map.insert("data".into(), Dynamic::from(String::from_utf8_lossy(&data).into_owned()));
                map.insert("priority".into(), Dynamic::from(INT::from(priority)));
                Ok(map)
            }
            other => Err(thrown(format!("unexpected answer {other:?}"))),
        }
    }
}

pub(super) fn register_mq(engine: &mut Engine, bridge: &Arc<Bridge>) {
    function!(engine, bridge, "mq_open", |b, name: &str, capacity: INT, message_bytes: INT| {
        let request = MqRequest::Open {
            name: name.to_owned(),
            capacity: small(capacity, "capacity")?,
            message_bytes_max: small(message_bytes, "message size")?,
        };
        b.number(Request::Mq(request, None))
    });
    function!(engine, bridge, "mq_send", |b, queue: INT, text: &str, priority: INT| {
        b.mq_send(queue, text, priority, false)
    });
    function!(engine, bridge, "mq_try_send", |b, queue: INT, text: &str, priority: INT| {
        b.mq_send(queue, text, priority, true)
    });
    function!(engine, bridge, "mq_receive", |b, queue: INT| b.mq_receive(queue, false));
    function!(engine, bridge, "mq_try_receive", |b, queue: INT| b.mq_receive(queue, true));
    function!(engine, bridge, "mq_notify", |b, queue: INT, notification: INT, bits: INT| {
        let request = MqRequest::Notify { queue: small(queue, "queue")?, notification: 0, bits: bits as u64 };
        b.ask(Request::Mq(request, Some(slot(notification)?))).map(|_| ())
    });
    function!(engine, bridge, "mq_unlink", |b, name: &str| b
        .mq(MqRequest::Unlink { name: name.to_owned() })
        .map(|_| ()));
    function!(engine, bridge, "mq_close", |b, queue: INT| b
        .mq(MqRequest::Close { queue: small(queue, "queue")? })
        .map(|_| ()));
}
