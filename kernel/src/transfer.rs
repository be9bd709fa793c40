//! How a message travels, whatever the syscall that sends it: checked
//! completely first, changing nothing; committed (its capabilities leave the
//! sender's table or are copied into derivation nodes in transit) and recorded
//! in the log, with its copy charged to the sender; delivered, with a fresh
//! reply capability for a call and the carried capabilities placed in the
//! receiver's table; or dropped with a recorded reason. The syscalls that
//! choose who sends to whom live in [`crate::ipc`]; the fast path uses the
//! same helpers.

use crate::capability::{Capability, Location, NodeKey, Rights};
use crate::dispatch::Next;
use crate::error::SysError;
use crate::event::{CapabilityOp, DropReason, EventKind};
use crate::ids::{Badge, ObjectId, ProcessId, Slot};
use crate::kernel::Kernel;
use crate::message::{Envelope, Message, MessageId, MessageKind, Received, TransferMode};
use crate::object::{ObjectBody, ObjectKind, Reply};

impl Kernel {
    /// Takes a reply capability about to be answered out of its holder's table and destroys its
    /// object; returns the event that records it.
    #[inline(always)]
    // Always inlined: see "Inlining" in the fast path's module doc.
    pub(crate) fn use_up_reply(
        &mut self,
        id: ProcessId,
        slot: Slot,
        node: NodeKey,
        capability: Capability,
    ) -> EventKind {
        let process = self.process_mut(id);
        process.caps.take(slot);
        process.held_replies.retain(|&held| held != capability.object);
        self.tree.discard(node);
        self.objects.discard(capability.object);
        self.capability_event(CapabilityOp::ReplyUsed, slot, capability)
    }

    /// Makes the reply object of a call and puts its capability in `slot` of the receiver's
    /// table; returns the object and the event that records the capability. `may_grant` says
    /// whether the capability the call went through had the grant right: the reply object keeps
    /// it, and only then may the answer carry capabilities.
    #[inline(always)]
    // Always inlined: see "Inlining" in the fast path's module doc.
    pub(crate) fn create_reply(
        &mut self,
        caller: ProcessId,
        request: MessageId,
        may_grant: bool,
        receiver: ProcessId,
        slot: Slot,
    ) -> (ObjectId, EventKind) {
        let object = self.objects.insert(None, ObjectBody::Reply(Reply { caller, request, may_grant }));
        // Reply objects stay out of the log's object directory: there is one per call, so the
        // directory would grow with the run. Their capability events say what they are.
        let capability = Capability { object, rights: Rights::SEND, badge: Badge::NONE };
        let created = self.put_capability(receiver, slot, capability, None, CapabilityOp::ReplyCreated);
        self.process_mut(receiver).held_replies.push(object);
        (object, created)
    }

    /// Ends the run when a checked message larger than [`crate::memory::LARGE_MESSAGE_BYTES`]
    /// would pass the memory budget (smaller ones are counted as the log grows). It is counted
    /// twice, as it may be held twice: in the log, and in flight until it is received.
    pub(crate) fn refuse_large_message(&mut self, message: &Message) -> Option<Next> {
        if message.data.len() <= crate::memory::LARGE_MESSAGE_BYTES {
            return None;
        }
        self.refuse_over_budget(2 * message.data.len())
    }

    /// Checks size limits and the capabilities a message would carry, changing nothing.
    pub(crate) fn validate_message(&self, id: ProcessId, message: &Message, may_grant: bool) -> Result<(), SysError> {
        let limits = &self.config.limits;
        if message.data.len() > limits.message_bytes_max as usize
            || message.caps.len() > limits.message_caps_max as usize
        {
            return Err(SysError::MessageTooLarge);
        }
        if message.caps.is_empty() {
            return Ok(());
        }
        if !may_grant {
            return Err(SysError::InsufficientRights);
        }
        for (index, transfer) in message.caps.iter().enumerate() {
            let (_, capability) = self.lookup(id, transfer.slot)?;
            if self.objects.get(capability.object).is_some_and(|object| object.kind() == ObjectKind::Reply) {
                return Err(SysError::WrongObjectKind);
            }
            if message.caps[..index].iter().any(|earlier| {
                earlier.slot == transfer.slot
                    && (earlier.mode == TransferMode::Move || transfer.mode == TransferMode::Move)
            }) {
                return Err(SysError::InvalidArgument);
            }
        }
        Ok(())
    }

    /// Puts a checked message in transit through `via` (the sender's capability to the port, or
    /// the reply capability): capabilities leave the table or are copied, and it is logged.
    pub(crate) fn commit(
        &mut self,
        id: ProcessId,
        via: Capability,
        message: Message,
        kind: MessageKind,
        answers: Option<MessageId>,
    ) -> Envelope {
        let (port, badge) = (via.object, via.badge);
        // Most messages carry no capabilities: they skip the transfer loop and its vector.
        let caps = if message.caps.is_empty() { Vec::new() } else { self.commit_capabilities(id, &message.caps) };
        let message_id = self.record_sent(id, port, kind, badge, &message, answers);
        // A reply's port is its reply object, which replying has used up already: nothing to count.
        if kind != MessageKind::Reply
            && let Some(object) = self.objects.get_mut(port)
        {
            object.counters.count(message.data.len());
        }
        self.emit(id, EventKind::MessageSent { message: message_id });
        Envelope {
            id: message_id,
            sender: id,
            badge,
            may_grant: via.rights.contains(Rights::GRANT),
            label: message.label,
            data: message.data,
            caps,
            kind,
        }
    }

    /// Records a message in the log and charges and counts it to its sender; returns its id.
    #[inline(always)]
    // Always inlined: see "Inlining" in the fast path's module doc.
    pub(crate) fn record_sent(
        &mut self,
        id: ProcessId,
        port: ObjectId,
        kind: MessageKind,
        badge: Badge,
        message: &Message,
        answers: Option<MessageId>,
    ) -> MessageId {
        let bytes = message.data.len() as u64;
        let caps = message.caps.len();
        let message_id = self.log.record_message(id, port, kind, badge, message.label, &message.data, caps, answers);
        let copy_cycles = self.config.profile.copy_cycles(bytes);
        self.charge(id, copy_cycles);
        let counters = &mut self.process_mut(id).counters;
        counters.messages_sent.count(kind);
        counters.bytes_copied += bytes;
        message_id
    }

    /// Puts the capabilities a checked message carries in transit, copied or moved out of the sender's table.
    fn commit_capabilities(&mut self, id: ProcessId, transfers: &[crate::message::CapTransfer]) -> Vec<NodeKey> {
        let mut caps = Vec::with_capacity(transfers.len());
        for transfer in transfers {
            let node = self.process(id).caps.get(transfer.slot).expect("kernel bug: validated slot emptied");
            let capability = self.tree.capability(node).expect("kernel bug: table names a dead node");
            let rights = capability.rights & transfer.rights;
            match transfer.mode {
                TransferMode::Copy => {
                    let copy = Capability { rights, ..capability };
                    caps.push(self.tree.insert(copy, Location::InTransit, Some(node)));
                }
                TransferMode::Move => {
                    self.process_mut(id).caps.take(transfer.slot);
                    self.tree.relocate(node, Location::InTransit);
                    self.tree.restrict(node, rights);
                    self.emit_capability(
                        id,
                        CapabilityOp::SentAway,
                        transfer.slot,
                        Capability { rights, ..capability },
                    );
                    caps.push(node);
                }
            }
            self.process_mut(id).counters.capability_ops += 1;
        }
        caps
    }

    /// Hands a message to its receiver: a reply capability for a call, then the carried capabilities.
    /// A call comes with the free slot its reply capability goes to, which the caller found when it
    /// checked the receiver could take a call: the search is not done twice.
    pub(crate) fn deliver(
        &mut self,
        receiver: ProcessId,
        envelope: Envelope,
        reply_slot: Option<Slot>,
    ) -> (Received, Option<ObjectId>) {
        let reply = (envelope.kind == MessageKind::Call).then(|| {
            let slot = reply_slot.expect("kernel bug: a call delivered without a free slot for its reply");
            let (object, created) = self.create_reply(envelope.sender, envelope.id, envelope.may_grant, receiver, slot);
            self.emit(receiver, created);
            (slot, object)
        });
        let (caps, caps_lost) =
            if envelope.caps.is_empty() { (Vec::new(), 0) } else { self.place_all_in_table(receiver, envelope.caps) };
        self.process_mut(receiver).counters.messages_received += 1;
        self.emit(receiver, EventKind::MessageDelivered { message: envelope.id });
        let received = Received {
            badge: envelope.badge,
            label: envelope.label,
            data: envelope.data,
            caps,
            caps_lost,
            reply: reply.map(|(slot, _)| slot),
        };
        (received, reply.map(|(_, object)| object))
    }

    /// Moves the capabilities a message carried into the receiver's table: the slots they took, and how many were lost.
    fn place_all_in_table(&mut self, receiver: ProcessId, nodes: Vec<NodeKey>) -> (Vec<Slot>, u32) {
        let mut caps = Vec::with_capacity(nodes.len());
        let mut caps_lost = 0;
        for node in nodes {
            match self.place_in_table(receiver, node) {
                Some(slot) => caps.push(slot),
                None => caps_lost += 1,
            }
        }
        (caps, caps_lost)
    }

    /// Moves a capability in transit into the receiver's table; `None` if it was revoked or the table is full.
    fn place_in_table(&mut self, receiver: ProcessId, node: NodeKey) -> Option<Slot> {
        let capability = self.tree.capability(node)?;
        let limit = self.config.limits.capability_slots_max;
        let Some(slot) = self.process(receiver).caps.free_slot(limit) else {
            self.tree.remove(node);
            return None;
        };
        self.process_mut(receiver).caps.put(slot, node);
        self.tree.relocate(node, Location::Slot { process: receiver.index, slot });
        self.process_mut(receiver).counters.capability_ops += 1;
        self.emit_capability(receiver, CapabilityOp::Received, slot, capability);
        self.note_client(receiver, capability);
        Some(slot)
    }

    /// Throws a message away, counting it and deleting the capabilities it carried.
    pub(crate) fn drop_envelope(&mut self, envelope: Envelope, reason: DropReason) {
        for node in envelope.caps {
            self.tree.remove(node);
        }
        let sender = envelope.sender;
        if let Some(process) = self.processes.get_mut(sender.index as usize) {
            process.counters.messages_dropped += 1;
        }
        let port = self.log.message(envelope.id).port;
        if let Some(object) = self.objects.get_mut(port) {
            object.counters.dropped += 1;
        }
        self.emit(sender, EventKind::MessageDropped { message: envelope.id, reason });
    }
}
