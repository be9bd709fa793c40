//! Kernel objects. Each is reached only through a capability.

use crate::arena::{Arena, ArenaKey};
use crate::ids::{Badge, ObjectId, ProcessId};
use crate::message::Envelope;
use serde::{Deserialize, Serialize};
use std::collections::VecDeque;
use std::fmt;

/// What a full queue port does with one more message.
#[derive(Clone, Copy, PartialEq, Eq, Debug, Serialize, Deserialize)]
pub enum FullPolicy {
    /// The sender blocks until there is room.
    Block,
    /// The send fails at once with queue-full.
    Fail,
}

/// The kind of an object, for checks and display.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug, Serialize, Deserialize)]
pub enum ObjectKind {
    /// Synchronous rendezvous port.
    Endpoint,
    /// Bounded asynchronous port.
    Queue,
    /// Word of signal bits.
    Notification,
    /// Single-use right to answer one call.
    Reply,
    /// Bytes for bulk transfer and sharing.
    Region,
    /// Handle on a process, for watching it die.
    Process,
}

impl ObjectKind {
    /// Short name used in traces.
    pub fn name(self) -> &'static str {
        match self {
            ObjectKind::Endpoint => "endpoint",
            ObjectKind::Queue => "queue",
            ObjectKind::Notification => "notification",
            ObjectKind::Reply => "reply",
            ObjectKind::Region => "region",
            ObjectKind::Process => "process",
        }
    }
}

impl fmt::Display for ObjectKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// A process waiting to receive, with the badge it will accept (if closed).
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(crate) struct WaitingReceiver {
    pub process: ProcessId,
    pub from: Option<Badge>,
}

impl WaitingReceiver {
    pub fn accepts(&self, badge: Badge) -> bool {
        self.from.is_none_or(|wanted| wanted == badge)
    }
}

/// Synchronous port: no buffer; senders and receivers wait for each other.
#[derive(Debug, Default)]
pub(crate) struct Endpoint {
    /// Blocked senders, oldest first; their messages wait with them.
    pub senders: VecDeque<ProcessId>,
    /// Blocked receivers, oldest first.
    pub receivers: VecDeque<WaitingReceiver>,
}

/// Asynchronous port: a bounded FIFO of messages.
#[derive(Debug)]
pub(crate) struct Queue {
    pub capacity: u32,
    pub policy: FullPolicy,
    pub messages: VecDeque<Envelope>,
    /// Senders blocked on a full queue, oldest first.
    pub senders: VecDeque<ProcessId>,
    pub receivers: VecDeque<WaitingReceiver>,
}

impl Queue {
    /// An empty queue port's body, boxed as [`ObjectBody::Queue`] holds it.
    pub fn boxed(capacity: u32, policy: FullPolicy) -> ObjectBody {
        let queue =
            Queue { capacity, policy, messages: VecDeque::new(), senders: VecDeque::new(), receivers: VecDeque::new() };
        ObjectBody::Queue(Box::new(queue))
    }
}

/// Bits that coalesce until someone takes them.
#[derive(Debug, Default)]
pub(crate) struct Notification {
    pub bits: u64,
    pub waiters: VecDeque<ProcessId>,
    /// The process whose receives also return these bits.
    pub bound_to: Option<ProcessId>,
}

/// The right to answer one call.
#[derive(Debug)]
pub(crate) struct Reply {
    pub caller: ProcessId,
    /// The message the call carried, so the answer can be paired with it.
    pub request: crate::message::MessageId,
    /// The capability the call went through had the grant right: only then does the answer
    /// carry capabilities back (seL4's `capReplyCanGrant`).
    pub may_grant: bool,
}

/// An object and the bookkeeping every object has.
#[derive(Debug)]
pub(crate) enum ObjectBody {
    Endpoint(Endpoint),
    /// Boxed: a queue is the largest body and the rarest, and every reply object (one per call)
    /// is moved in and out of the table at the size of the largest body.
    Queue(Box<Queue>),
    Notification(Notification),
    Reply(Reply),
    Region(Vec<u8>),
    Process(ProcessId),
}

/// Counters kept for every port.
#[derive(Clone, Copy, PartialEq, Eq, Debug, Default, Serialize, Deserialize)]
pub struct PortCounters {
    /// Messages that entered the port.
    pub messages: u64,
    /// Data bytes of those messages.
    pub bytes: u64,
    /// Messages dropped while in the port.
    pub dropped: u64,
    /// The most messages waiting in it at once (queued or with blocked senders).
    pub depth_max: u64,
}

impl PortCounters {
    /// Counts a message of `bytes` data bytes entering the port.
    pub(crate) fn count(&mut self, bytes: usize) {
        self.messages += 1;
        self.bytes += bytes as u64;
    }
}

#[derive(Debug)]
pub(crate) struct Object {
    /// The process whose death destroys this object (`None`: lives as long as the run).
    pub owner: Option<ProcessId>,
    pub body: ObjectBody,
    pub counters: PortCounters,
}

impl Object {
    pub fn kind(&self) -> ObjectKind {
        match self.body {
            ObjectBody::Endpoint(_) => ObjectKind::Endpoint,
            ObjectBody::Queue(_) => ObjectKind::Queue,
            ObjectBody::Notification(_) => ObjectKind::Notification,
            ObjectBody::Reply(_) => ObjectKind::Reply,
            ObjectBody::Region(_) => ObjectKind::Region,
            ObjectBody::Process(_) => ObjectKind::Process,
        }
    }
}

/// Every live object.
#[derive(Debug, Default)]
pub(crate) struct ObjectTable {
    objects: Arena<Object>,
}

fn key(id: ObjectId) -> ArenaKey {
    ArenaKey { index: id.index, generation: id.generation }
}

impl ObjectTable {
    #[inline]
    pub fn insert(&mut self, owner: Option<ProcessId>, body: ObjectBody) -> ObjectId {
        let key = self.objects.insert(Object { owner, body, counters: PortCounters::default() });
        ObjectId { index: key.index, generation: key.generation }
    }

    pub fn get(&self, id: ObjectId) -> Option<&Object> {
        self.objects.get(key(id))
    }

    pub fn get_mut(&mut self, id: ObjectId) -> Option<&mut Object> {
        self.objects.get_mut(key(id))
    }

    pub fn remove(&mut self, id: ObjectId) -> Option<Object> {
        self.objects.remove(key(id))
    }

    /// Removes an object nobody needs any more, without moving it out first.
    #[inline]
    pub fn discard(&mut self, id: ObjectId) -> bool {
        self.objects.discard(key(id))
    }

    /// Every live object, in index order.
    pub fn iter(&self) -> impl Iterator<Item = &Object> {
        self.objects.iter().map(|(_, object)| object)
    }

    pub fn endpoint_mut(&mut self, id: ObjectId) -> Option<&mut Endpoint> {
        match &mut self.get_mut(id)?.body {
            ObjectBody::Endpoint(endpoint) => Some(endpoint),
            _ => None,
        }
    }

    pub fn queue_mut(&mut self, id: ObjectId) -> Option<&mut Queue> {
        match &mut self.get_mut(id)?.body {
            ObjectBody::Queue(queue) => Some(queue.as_mut()),
            _ => None,
        }
    }

    pub fn notification_mut(&mut self, id: ObjectId) -> Option<&mut Notification> {
        match &mut self.get_mut(id)?.body {
            ObjectBody::Notification(notification) => Some(notification),
            _ => None,
        }
    }
}
