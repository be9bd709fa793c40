//! Message passing: send, call, receive, reply and reply-and-receive on
//! endpoints and queue ports; who meets whom, who waits, in what order.
//!
//! A message is checked completely before anything changes, then committed:
//! its capabilities leave the sender's table (move) or are copied into
//! derivation nodes in transit, and it is recorded in the event log. From then
//! on it is either delivered exactly once or dropped with a recorded reason.
//! How a message travels is [`crate::transfer`]'s; this module decides where.

use crate::capability::{Capability, Rights};
use crate::config::DeadlockPolicy;
use crate::dispatch::Next;
use crate::error::SysError;
use crate::event::DropReason;
use crate::ids::{Badge, ObjectId, ProcessId, Slot};
use crate::kernel::Kernel;
use crate::message::{Envelope, Incoming, Message, MessageKind, Received};
use crate::object::{FullPolicy, ObjectBody, ObjectKind, Reply, WaitingReceiver};
use crate::process::{Outgoing, ProcessState};
use crate::syscall::{Blocking, SyscallKind, SyscallValue};

fn timeout_of(blocking: Blocking) -> Option<u64> {
    match blocking {
        Blocking::Timeout(cycles) => Some(cycles),
        Blocking::Never | Blocking::Forever => None,
    }
}

impl Kernel {
    pub(crate) fn sys_send(
        &mut self,
        id: ProcessId,
        slot: Slot,
        message: Message,
        blocking: Blocking,
        call: SyscallKind,
    ) -> Result<Next, SysError> {
        self.send_message(id, slot, message, blocking, MessageKind::Send, call)
    }

    pub(crate) fn sys_call(
        &mut self,
        id: ProcessId,
        slot: Slot,
        message: Message,
        blocking: Blocking,
    ) -> Result<Next, SysError> {
        self.send_message(id, slot, message, blocking, MessageKind::Call, SyscallKind::Call)
    }

    fn send_message(
        &mut self,
        id: ProcessId,
        slot: Slot,
        message: Message,
        blocking: Blocking,
        kind: MessageKind,
        call: SyscallKind,
    ) -> Result<Next, SysError> {
        let checked = self.lookup_object(id, slot, Rights::SEND).and_then(|(capability, object_kind)| {
            self.validate_message(id, &message, capability.rights.contains(Rights::GRANT))?;
            Ok((capability, object_kind))
        });
        let (capability, object_kind) = checked?;
        if let Some(ended) = self.refuse_large_message(&message) {
            return Ok(ended);
        }
        match (object_kind, kind) {
            (ObjectKind::Endpoint, _) => self.send_to_endpoint(id, capability, message, blocking, kind, call),
            (ObjectKind::Queue, MessageKind::Send) => self.send_to_queue(id, capability, message, blocking, call),
            _ => Err(SysError::WrongObjectKind),
        }
    }

    fn send_to_endpoint(
        &mut self,
        id: ProcessId,
        capability: Capability,
        message: Message,
        blocking: Blocking,
        kind: MessageKind,
        call: SyscallKind,
    ) -> Result<Next, SysError> {
        let port = capability.object;
        if let Some((receiver, reply_slot)) = self.take_receiver(port, capability.badge, kind) {
            let envelope = self.commit(id, capability, message, kind, None);
            let (received, reply) = self.deliver(receiver, envelope, reply_slot);
            self.wake(receiver, Ok(SyscallValue::Incoming(Incoming::Message(received))));
            return match reply {
                Some(reply) => {
                    self.handoff = Some(receiver);
                    let flow = self.block(
                        id,
                        ProcessState::ReplyBlocked { server: receiver, reply },
                        call,
                        timeout_of(blocking),
                    );
                    self.refresh_priority(receiver);
                    flow
                }
                None => Ok(Next::DONE),
            };
        }
        if blocking == Blocking::Never {
            return Err(SysError::WouldBlock);
        }
        self.block_sender(id, capability, message, kind, blocking, call)
    }

    fn send_to_queue(
        &mut self,
        id: ProcessId,
        capability: Capability,
        message: Message,
        blocking: Blocking,
        call: SyscallKind,
    ) -> Result<Next, SysError> {
        let port = capability.object;
        let kind = MessageKind::Async;
        if let Some((receiver, _)) = self.take_receiver(port, capability.badge, kind) {
            let envelope = self.commit(id, capability, message, kind, None);
            let (received, _) = self.deliver(receiver, envelope, None);
            self.wake(receiver, Ok(SyscallValue::Incoming(Incoming::Message(received))));
            return Ok(Next::DONE);
        }
        let queue = self.objects.queue_mut(port).expect("kernel bug: checked queue vanished");
        if queue.messages.len() < queue.capacity as usize {
            let envelope = self.commit(id, capability, message, kind, None);
            self.enqueue(port, envelope);
            self.note_depth(port);
            return Ok(Next::DONE);
        }
        match (queue.policy, blocking) {
            (FullPolicy::Fail, _) => Err(SysError::QueueFull),
            (FullPolicy::Block, Blocking::Never) => Err(SysError::WouldBlock),
            (FullPolicy::Block, _) => self.block_sender(id, capability, message, kind, blocking, call),
        }
    }

    fn block_sender(
        &mut self,
        id: ProcessId,
        capability: Capability,
        message: Message,
        kind: MessageKind,
        blocking: Blocking,
        call: SyscallKind,
    ) -> Result<Next, SysError> {
        let port = capability.object;
        let owner = self.objects.get(port).and_then(|object| object.owner);
        if self.config.deadlock_policy == DeadlockPolicy::Refuse
            && owner.is_some_and(|owner| self.closes_cycle(id, owner))
        {
            return Err(SysError::Deadlock);
        }
        let envelope = self.commit(id, capability, message, kind, None);
        self.hold_in_flight(envelope.data.len());
        self.process_mut(id).outgoing = Some(Outgoing { envelope });
        match &mut self.objects.get_mut(port).expect("kernel bug: checked port vanished").body {
            ObjectBody::Endpoint(endpoint) => endpoint.senders.push_back(id),
            ObjectBody::Queue(queue) => queue.senders.push_back(id),
            _ => unreachable!("kernel bug: blocking a sender on a non-port"),
        }
        self.note_depth(port);
        let flow = self.block(id, ProcessState::SendBlocked { port, owner }, call, timeout_of(blocking));
        if let Some(owner) = owner {
            self.refresh_priority(owner);
        }
        flow
    }

    pub(crate) fn sys_receive(
        &mut self,
        id: ProcessId,
        slot: Slot,
        from: Option<Badge>,
        blocking: Blocking,
        call: SyscallKind,
    ) -> Result<Next, SysError> {
        let (capability, object_kind) = self.lookup_object(id, slot, Rights::RECEIVE)?;
        if !matches!(object_kind, ObjectKind::Endpoint | ObjectKind::Queue) {
            return Err(SysError::WrongObjectKind);
        }
        if let Some(bits) = self.take_bound_bits(id) {
            return Ok(Next::Return(SyscallValue::Incoming(Incoming::Notification(bits))));
        }
        let port = capability.object;
        let found = match object_kind {
            ObjectKind::Endpoint => self.receive_from_sender(id, port, from),
            _ => self.receive_from_queue(id, port, from),
        };
        match found {
            Some(result) => result.map(|received| Next::Return(SyscallValue::Incoming(Incoming::Message(received)))),
            None if blocking == Blocking::Never => Err(SysError::WouldBlock),
            None => {
                let waiting = WaitingReceiver { process: id, from };
                match &mut self.objects.get_mut(port).expect("kernel bug: checked port vanished").body {
                    ObjectBody::Endpoint(endpoint) => endpoint.receivers.push_back(waiting),
                    ObjectBody::Queue(queue) => queue.receivers.push_back(waiting),
                    _ => unreachable!("kernel bug: receiving on a non-port"),
                }
                self.block(id, ProcessState::ReceiveBlocked { port }, call, timeout_of(blocking))
            }
        }
    }

    /// Takes the first blocked sender on an endpoint whose badge the receiver accepts.
    fn receive_from_sender(
        &mut self,
        id: ProcessId,
        port: ObjectId,
        from: Option<Badge>,
    ) -> Option<Result<Received, SysError>> {
        if !self.disconnect_notices.is_empty()
            && let Some(notice) = self.take_disconnect(id, port, from)
        {
            return Some(Ok(notice));
        }
        let endpoint = self.objects.endpoint_mut(port).expect("kernel bug: checked endpoint vanished");
        // A server usually waits before its clients call: then there is nobody to search.
        if endpoint.senders.is_empty() {
            return None;
        }
        let processes = &self.processes;
        let envelope_of = |sender: ProcessId| {
            &processes[sender.index as usize].outgoing.as_ref().expect("kernel bug: sender without message").envelope
        };
        let position =
            endpoint.senders.iter().position(|&sender| from.is_none_or(|badge| envelope_of(sender).badge == badge))?;
        let sender = endpoint.senders[position];
        let kind = envelope_of(sender).kind;
        let reply_slot = match kind {
            MessageKind::Call => match self.free_slot(id) {
                Some(slot) => Some(slot),
                None => return Some(Err(SysError::QuotaExceeded)),
            },
            _ => None,
        };
        let endpoint = self.objects.endpoint_mut(port).expect("kernel bug: checked endpoint vanished");
        endpoint.senders.remove(position);
        let outgoing = self.take_outgoing(sender).expect("kernel bug: sender without message");
        let (received, reply) = self.deliver(id, outgoing.envelope, reply_slot);
        match reply {
            Some(reply) => {
                let blocked = self.process_mut(sender).await_reply(id, reply);
                self.emit(sender, blocked);
            }
            None => self.wake(sender, Ok(SyscallValue::Unit)),
        }
        self.refresh_priority(id);
        Some(Ok(received))
    }

    /// Takes the first queued message whose badge the receiver accepts, then lets a blocked sender in.
    fn receive_from_queue(
        &mut self,
        id: ProcessId,
        port: ObjectId,
        from: Option<Badge>,
    ) -> Option<Result<Received, SysError>> {
        let queue = self.objects.queue_mut(port).expect("kernel bug: checked queue vanished");
        let accepts = |badge: Badge| from.is_none_or(|wanted| wanted == badge);
        if let Some(position) = queue.messages.iter().position(|envelope| accepts(envelope.badge)) {
            let envelope = queue.messages.remove(position).expect("position just found");
            self.release_in_flight(envelope.data.len());
            let (received, _) = self.deliver(id, envelope, None);
            self.admit_blocked_senders(port);
            return Some(Ok(received));
        }
        // A closed receive also reaches the messages of senders blocked on the full queue.
        let processes = &self.processes;
        let waiting_badge =
            |sender: &ProcessId| processes[sender.index as usize].outgoing.as_ref().map(|out| out.envelope.badge);
        let position = queue.senders.iter().position(|sender| waiting_badge(sender).is_some_and(accepts))?;
        let sender = queue.senders.remove(position).expect("position just found");
        let outgoing = self.take_outgoing(sender).expect("kernel bug: sender without message");
        let (received, _) = self.deliver(id, outgoing.envelope, None);
        self.wake(sender, Ok(SyscallValue::Unit));
        if let Some(owner) = self.objects.get(port).and_then(|object| object.owner) {
            self.refresh_priority(owner);
        }
        Some(Ok(received))
    }

    fn admit_blocked_senders(&mut self, port: ObjectId) {
        loop {
            let queue = self.objects.queue_mut(port).expect("kernel bug: checked queue vanished");
            if queue.messages.len() >= queue.capacity as usize {
                return;
            }
            let Some(sender) = queue.senders.pop_front() else { return };
            let outgoing = self.take_outgoing(sender).expect("kernel bug: sender without message");
            self.enqueue(port, outgoing.envelope);
            self.wake(sender, Ok(SyscallValue::Unit));
            if let Some(owner) = self.objects.get(port).and_then(|object| object.owner) {
                self.refresh_priority(owner);
            }
        }
    }

    /// Answers a call. The reply capability is used up whether or not the caller is still there.
    ///
    /// The answer carries capabilities back only if the capability the call went through had
    /// the grant right, as in seL4 (a reply capability's `capReplyCanGrant`). Otherwise the reply
    /// still goes through, without them: they stay with the replier, and the caller's
    /// [`Received::caps_lost`] counts them. The message is checked as any other first, so a
    /// malformed transfer is the replier's error either way.
    ///
    /// # Errors
    /// The replier's error when the reply was refused (the run may instead end at the memory
    /// limit, with [`Next::Ended`]).
    pub(crate) fn sys_reply(&mut self, id: ProcessId, slot: Slot, mut message: Message) -> Result<Next, SysError> {
        let (node, capability) = self.lookup(id, slot)?;
        let Some(ObjectBody::Reply(Reply { caller, request, may_grant })) =
            self.objects.get(capability.object).map(|object| &object.body)
        else {
            return Err(SysError::WrongObjectKind);
        };
        let (caller, request, may_grant) = (*caller, *request, *may_grant);
        self.validate_message(id, &message, true)?;
        if let Some(ended) = self.refuse_large_message(&message) {
            return Ok(ended);
        }
        let withheld = if may_grant { 0 } else { std::mem::take(&mut message.caps).len() as u32 };
        let used = self.use_up_reply(id, slot, node, capability);
        self.emit(id, used);
        let envelope = self.commit(id, capability, message, MessageKind::Reply, Some(request));
        let waiting = self.is_alive(caller)
            && matches!(self.process(caller).state, ProcessState::ReplyBlocked { reply, .. } if reply == capability.object);
        if waiting {
            let (mut received, _) = self.deliver(caller, envelope, None);
            received.caps_lost += withheld;
            self.wake(caller, Ok(SyscallValue::Reply(received)));
            self.handoff = Some(caller);
        } else {
            self.drop_envelope(envelope, DropReason::CallerGone);
        }
        self.refresh_priority(id);
        Ok(Next::DONE)
    }

    /// Replies, then receives the next message, in one trap; a refused reply ends the syscall
    /// before the receive.
    pub(crate) fn sys_reply_receive(
        &mut self,
        id: ProcessId,
        reply: Slot,
        message: Message,
        port: Slot,
        from: Option<Badge>,
        blocking: Blocking,
    ) -> Result<Next, SysError> {
        match self.sys_reply(id, reply, message)? {
            Next::Return(_) => self.sys_receive(id, port, from, blocking, SyscallKind::ReplyReceive),
            ended => Ok(ended),
        }
    }

    /// Puts a message at the back of a queue port.
    fn enqueue(&mut self, port: ObjectId, envelope: Envelope) {
        self.hold_in_flight(envelope.data.len());
        let queue = self.objects.queue_mut(port).expect("kernel bug: checked queue vanished");
        queue.messages.push_back(envelope);
    }

    /// Removes a blocked process from the queue it waits in; a message it was sending is dropped.
    pub(crate) fn cancel_wait(&mut self, id: ProcessId, reason: DropReason) {
        match self.process(id).state {
            ProcessState::SendBlocked { port, .. } => {
                match self.objects.get_mut(port).map(|object| &mut object.body) {
                    Some(ObjectBody::Endpoint(endpoint)) => endpoint.senders.retain(|&sender| sender != id),
                    Some(ObjectBody::Queue(queue)) => queue.senders.retain(|&sender| sender != id),
                    _ => {}
                }
                if let Some(outgoing) = self.take_outgoing(id) {
                    self.drop_envelope(outgoing.envelope, reason);
                }
            }
            ProcessState::ReceiveBlocked { port } => match self.objects.get_mut(port).map(|object| &mut object.body) {
                Some(ObjectBody::Endpoint(endpoint)) => endpoint.receivers.retain(|waiting| waiting.process != id),
                Some(ObjectBody::Queue(queue)) => queue.receivers.retain(|waiting| waiting.process != id),
                _ => {}
            },
            ProcessState::WaitingNotification { notification } => {
                if let Some(notification) = self.objects.notification_mut(notification) {
                    notification.waiters.retain(|&waiter| waiter != id);
                }
            }
            ProcessState::KernelWaiting { channel } => {
                if let Some(waiting) = self.wait_channels.get_mut(&channel) {
                    waiting.retain(|&waiter| waiter != id);
                }
            }
            _ => {}
        }
    }

    /// Takes the first receiver waiting on `port` that accepts `badge` and can take a message of `kind`.
    /// A receiver with no free slot for a call's reply capability is woken with quota-exceeded.
    /// Returns it with the free slot a call's reply capability will take.
    pub(crate) fn take_receiver(
        &mut self,
        port: ObjectId,
        badge: Badge,
        kind: MessageKind,
    ) -> Option<(ProcessId, Option<Slot>)> {
        loop {
            let receivers = match &mut self.objects.get_mut(port)?.body {
                ObjectBody::Endpoint(endpoint) => &mut endpoint.receivers,
                ObjectBody::Queue(queue) => &mut queue.receivers,
                _ => return None,
            };
            // Usually the longest-waiting receiver takes any badge: popping it skips the search and
            // the shifting a removal from the middle of the queue needs.
            let waiting = if receivers.front()?.accepts(badge) {
                receivers.pop_front()
            } else {
                let position = receivers.iter().position(|waiting| waiting.accepts(badge))?;
                receivers.remove(position)
            };
            let receiver = waiting.expect("kernel bug: a receiver just found vanished").process;
            if kind != MessageKind::Call {
                return Some((receiver, None));
            }
            if let Some(slot) = self.free_slot(receiver) {
                return Some((receiver, Some(slot)));
            }
            self.wake(receiver, Err(SysError::QuotaExceeded));
        }
    }

    pub(crate) fn has_free_slot(&self, id: ProcessId) -> bool {
        self.free_slot(id).is_some()
    }

    /// The lowest free slot of a process's table, if it may hold one more capability.
    pub(crate) fn free_slot(&self, id: ProcessId) -> Option<Slot> {
        self.process(id).caps.free_slot(self.config.limits.capability_slots_max)
    }

    fn note_depth(&mut self, port: ObjectId) {
        let Some(object) = self.objects.get_mut(port) else { return };
        let depth = match &object.body {
            ObjectBody::Endpoint(endpoint) => endpoint.senders.len(),
            ObjectBody::Queue(queue) => queue.messages.len() + queue.senders.len(),
            _ => 0,
        };
        object.counters.depth_max = object.counters.depth_max.max(depth as u64);
    }
}
