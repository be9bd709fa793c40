//! Counters kept per process and for the whole run.

use crate::message::MessageKind;
use serde::{Deserialize, Serialize};
use std::ops::AddAssign;

/// Messages sent, by how they travelled.
#[derive(Clone, Copy, PartialEq, Eq, Debug, Default, Serialize, Deserialize)]
pub struct MessageCounts {
    /// Synchronous one-way sends.
    pub send: u64,
    /// Call requests.
    pub call: u64,
    /// Replies.
    pub reply: u64,
    /// Asynchronous queue sends.
    pub asynchronous: u64,
}

impl MessageCounts {
    /// All messages of every kind.
    pub fn total(&self) -> u64 {
        self.send + self.call + self.reply + self.asynchronous
    }

    pub(crate) fn count(&mut self, kind: MessageKind) {
        match kind {
            MessageKind::Send => self.send += 1,
            MessageKind::Call => self.call += 1,
            MessageKind::Reply => self.reply += 1,
            MessageKind::Async => self.asynchronous += 1,
            MessageKind::Service => {}
        }
    }
}

impl AddAssign for MessageCounts {
    fn add_assign(&mut self, other: Self) {
        self.send = self.send.saturating_add(other.send);
        self.call = self.call.saturating_add(other.call);
        self.reply = self.reply.saturating_add(other.reply);
        self.asynchronous = self.asynchronous.saturating_add(other.asynchronous);
    }
}

/// What one process (or the whole run) did and what it cost.
#[derive(Clone, Copy, PartialEq, Eq, Debug, Default, Serialize, Deserialize)]
pub struct Counters {
    /// Syscalls made.
    pub syscalls: u64,
    /// Messages sent, by kind.
    pub messages_sent: MessageCounts,
    /// Messages delivered to this process.
    pub messages_received: u64,
    /// Messages this process sent that were dropped (receiver died, caller gone, timed out).
    pub messages_dropped: u64,
    /// Notification signals sent.
    pub notifications_sent: u64,
    /// Calls into services inside the kernel (monolithic mode).
    pub service_calls: u64,
    /// Times the processor switched to this process.
    pub context_switches: u64,
    /// Bytes copied through messages this process sent.
    pub bytes_copied: u64,
    /// Bytes read or written through memory-region capabilities.
    pub bytes_through_regions: u64,
    /// Capability copies, mints, deletes, revokes and transfers.
    pub capability_ops: u64,
    /// Simulated cycles charged while this process ran.
    pub cycles: u64,
    /// Cycles spent blocked or sleeping.
    pub blocked_cycles: u64,
}

impl AddAssign for Counters {
    fn add_assign(&mut self, other: Self) {
        self.syscalls = self.syscalls.saturating_add(other.syscalls);
        self.messages_sent += other.messages_sent;
        self.messages_received = self.messages_received.saturating_add(other.messages_received);
        self.messages_dropped = self.messages_dropped.saturating_add(other.messages_dropped);
        self.notifications_sent = self.notifications_sent.saturating_add(other.notifications_sent);
        self.service_calls = self.service_calls.saturating_add(other.service_calls);
        self.context_switches = self.context_switches.saturating_add(other.context_switches);
        self.bytes_copied = self.bytes_copied.saturating_add(other.bytes_copied);
        self.bytes_through_regions = self.bytes_through_regions.saturating_add(other.bytes_through_regions);
        self.capability_ops = self.capability_ops.saturating_add(other.capability_ops);
        self.cycles = self.cycles.saturating_add(other.cycles);
        self.blocked_cycles = self.blocked_cycles.saturating_add(other.blocked_cycles);
    }
}
