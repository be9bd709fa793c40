//! Messages as programs build them and as receivers get them.

use crate::capability::{NodeKey, Rights};
use crate::ids::{Badge, ProcessId, Slot};
use serde::{Deserialize, Serialize};

/// Whether a transferred capability is copied (the sender keeps its own) or moved.
#[derive(Clone, Copy, PartialEq, Eq, Debug, Serialize, Deserialize)]
pub enum TransferMode {
    /// The receiver gets a derived copy; the sender keeps the original.
    Copy,
    /// The capability leaves the sender's table.
    Move,
}

/// A capability a message carries from the sender's table to the receiver's.
#[derive(Clone, Copy, PartialEq, Eq, Debug, Serialize, Deserialize)]
pub struct CapTransfer {
    /// The sender's slot.
    pub slot: Slot,
    /// Copy or move.
    pub mode: TransferMode,
    /// Rights to keep; the receiver gets the intersection with what the sender holds.
    pub rights: Rights,
}

/// A message's data bytes. Up to [`MESSAGE_DATA_INLINE`] bytes (most protocol requests and
/// replies) are kept inline, so sending them allocates nothing on the host; longer data lives on
/// the heap as a vector's would.
pub type MessageData = smallvec::SmallVec<[u8; MESSAGE_DATA_INLINE]>;

/// How many bytes of message data travel inline (16 keeps [`MessageData`] as small as a vector).
pub const MESSAGE_DATA_INLINE: usize = 16;

/// Anything a message's data can be made from: small data is copied inline, a vector's buffer is
/// taken over rather than copied.
pub trait IntoMessageData {
    /// The bytes as message data.
    fn into_message_data(self) -> MessageData;
}

impl IntoMessageData for MessageData {
    fn into_message_data(self) -> MessageData {
        self
    }
}

impl IntoMessageData for Vec<u8> {
    fn into_message_data(self) -> MessageData {
        MessageData::from_vec(self)
    }
}

impl IntoMessageData for &[u8] {
    fn into_message_data(self) -> MessageData {
        MessageData::from_slice(self)
    }
}

impl<const N: usize> IntoMessageData for [u8; N] {
    fn into_message_data(self) -> MessageData {
        MessageData::from_slice(&self)
    }
}

impl<const N: usize> IntoMessageData for &[u8; N] {
    fn into_message_data(self) -> MessageData {
        MessageData::from_slice(self)
    }
}

/// A message to send: an operation label, data bytes, and capabilities.
#[derive(Clone, PartialEq, Eq, Debug, Default, Serialize, Deserialize)]
pub struct Message {
    /// The operation, in the protocol of the port (shown in traces).
    pub label: u32,
    /// The encoded arguments; their length is what the copy is charged for.
    pub data: MessageData,
    /// Capabilities to pass along (needs the grant right on the port).
    pub caps: Vec<CapTransfer>,
}

impl Message {
    /// A message with a label and data, carrying no capabilities.
    pub fn new(label: u32, data: impl IntoMessageData) -> Message {
        Message { label, data: data.into_message_data(), caps: Vec::new() }
    }

    /// Adds a capability to copy to the receiver with the given rights.
    #[must_use]
    pub fn with_copy(mut self, slot: Slot, rights: Rights) -> Message {
        self.caps.push(CapTransfer { slot, mode: TransferMode::Copy, rights });
        self
    }

    /// Adds a capability to move to the receiver, keeping all its rights.
    #[must_use]
    pub fn with_move(mut self, slot: Slot) -> Message {
        self.caps.push(CapTransfer { slot, mode: TransferMode::Move, rights: Rights::all() });
        self
    }
}

/// A message as delivered to its receiver.
#[derive(Clone, PartialEq, Eq, Debug, Serialize, Deserialize)]
pub struct Received {
    /// The badge of the capability the sender used (zero for replies).
    pub badge: Badge,
    /// The operation label.
    pub label: u32,
    /// The data bytes.
    pub data: MessageData,
    /// Slots in the receiver's table where transferred capabilities landed.
    pub caps: Vec<Slot>,
    /// Transferred capabilities that did not arrive: revoked in transit, no free slot, or (in a
    /// reply) withheld because the capability the call went through had no grant right.
    pub caps_lost: u32,
    /// For a call: the single-use reply capability to answer with.
    pub reply: Option<Slot>,
}

impl Received {
    /// A message that carried no capabilities, as delivered.
    pub(crate) fn plain(badge: Badge, label: u32, data: MessageData, reply: Option<Slot>) -> Received {
        Received { badge, label, data, caps: Vec::new(), caps_lost: 0, reply }
    }
}

/// What a receive returns: a message, or the bits of a bound notification.
#[derive(Clone, PartialEq, Eq, Debug, Serialize, Deserialize)]
pub enum Incoming {
    /// A message arrived on the port.
    Message(Received),
    /// The receiver's bound notification was signalled with these bits.
    Notification(u64),
}

impl Incoming {
    /// The message, if this is one.
    pub fn into_message(self) -> Option<Received> {
        match self {
            Incoming::Message(received) => Some(received),
            Incoming::Notification(_) => None,
        }
    }
}

/// How a message travels, for counting and for the marks in every view.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug, Serialize, Deserialize)]
pub enum MessageKind {
    /// A synchronous one-way send on an endpoint.
    Send,
    /// The request half of a call.
    Call,
    /// The answer to a call.
    Reply,
    /// An asynchronous send through a queue port.
    Async,
    /// Not a message: a request to a service inside the kernel (monolithic mode), recorded for views.
    Service,
}

impl MessageKind {
    /// Short lowercase name.
    pub fn name(self) -> &'static str {
        match self {
            MessageKind::Send => "send",
            MessageKind::Call => "call",
            MessageKind::Reply => "reply",
            MessageKind::Async => "async",
            MessageKind::Service => "service",
        }
    }
}

/// Sequence number of a message in the event log.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Debug, Serialize, Deserialize)]
pub struct MessageId(pub u32);

/// A message inside the kernel, between send and delivery.
#[derive(Debug)]
pub(crate) struct Envelope {
    pub id: MessageId,
    pub sender: ProcessId,
    pub badge: Badge,
    /// The capability it was sent through had the grant right: for a call, the reply may carry
    /// capabilities back.
    pub may_grant: bool,
    pub label: u32,
    pub data: MessageData,
    pub caps: Vec<NodeKey>,
    pub kind: MessageKind,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn small_data_stays_inline_and_a_long_vector_keeps_its_buffer() {
        let small = Message::new(1, *b"fd=3");
        assert!(!small.data.spilled(), "four bytes need no heap");
        assert_eq!(small.data.as_slice(), b"fd=3");
        let long = vec![7u8; 512];
        let buffer = long.as_ptr();
        let message = Message::new(2, long);
        assert!(message.data.spilled());
        assert_eq!(message.data.as_ptr(), buffer, "the vector's buffer is taken over, not copied");
        assert_eq!(Message::new(3, &b"hi"[..]).data, Message::new(3, b"hi".to_vec()).data);
    }
}
