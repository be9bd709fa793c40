//! The IPC fast path, after seL4's (`src/fastpath/fastpath.c`): the two syscalls
//! that make up almost every client/server exchange are first checked against a
//! short list of preconditions, changing nothing, and when every one holds they
//! are carried out straight through: no dispatch on the syscall's kind and the
//! port's, no queue searches, no checks repeated, no bookkeeping the
//! preconditions make a no-op, and the syscall's events written to the log at
//! once. Anything unusual takes the general path in [`crate::ipc`], which
//! handles every case.
//!
//! The fast path changes nothing anyone can observe: the same events in the same
//! order with the same fields and times, the same counters, virtual time, object
//! ids and slots. It takes the same steps as the general path, through the same
//! helpers, in the same order where the order shows (message ids, reply object
//! ids, the run queue); events are stamped with the time the general path would
//! log them at (time moves on only when the message copy is charged).
//!
//! It covers:
//!
//! - **call** on an endpoint where a receiver already waits: the message goes to
//!   the receiver with a fresh reply capability, the receiver is woken and the
//!   caller waits for the reply;
//! - **reply-and-receive** answering a caller that waits for the reply, then
//!   waiting on an endpoint where no sender waits.
//!
//! Preconditions, and why each makes the fast path do what the general path does:
//!
//! - *Priority inheritance is off.* Then refreshing priorities after the IPC does
//!   nothing; with it on, the general path may change priorities and log them.
//! - *The message carries no capabilities, fits the size limit and is no
//!   larger than [`crate::memory::LARGE_MESSAGE_BYTES`].* Then checking the
//!   message finds nothing wrong, committing it moves or copies no capability,
//!   and delivering it places none: there is nothing to check for grant
//!   rights, no capability event, and no capability lost; and the general path
//!   would not check it against the memory budget. In particular a reply that
//!   carries capabilities always takes the general path, which holds them back
//!   when the call's capability had no grant right: the fast path cannot carry
//!   them past that rule. A call taking the fast path still makes a reply
//!   object that remembers whether the caller's capability had grant, as the
//!   general path does.
//! - *The capability named is live, has the rights the syscall needs and reaches
//!   a live endpoint* (for the receive half of reply-and-receive, not a queue).
//!   Otherwise the general path fails the syscall with an error.
//! - For call: *the longest-waiting receiver accepts the caller's badge and has a
//!   free slot for the reply capability.* The general path then takes that very
//!   receiver, first of the queue, and puts the reply capability in the lowest
//!   free slot; otherwise it searches the queue, or wakes a receiver that has no
//!   room with an error.
//! - For call: *it may block forever* (no timeout). A timeout arms a timer the
//!   fast path does not arm; a call that may not block still waits for its reply
//!   when a receiver is there, so only the timeout is left to the general path.
//! - For reply-and-receive: *the reply capability's caller still waits for this
//!   reply.* Otherwise the general path drops the reply and logs why.
//! - For reply-and-receive: *no sender waits on the endpoint and the receive may
//!   block forever.* Then the receive blocks at once, whatever badge it accepts;
//!   a waiting sender needs a search, and a timeout or a receive that must not
//!   block is left to the general path.
//! - For reply-and-receive: *the receiver's bound notification, if any, has no
//!   pending bits.* Otherwise the receive returns those bits instead of blocking.
//!
//! Replying first cannot change what the receive half finds: it empties only the
//! reply capability's slot (a receive naming that slot fails the endpoint check),
//! destroys only the reply object, and wakes only the caller.
//!
//! Each syscall it carries out is counted ([`Kernel::fast_ipc_hits`]), and
//! tests check that the workloads it is for take it: were its checks always to
//! say no, every test of what it does would still pass.
//!
//! Some things need no precondition. A receiver or caller woken here may have a
//! timeout armed: waking it cancels the timer as the general path does, with the
//! same helper. Faults, restarts and deaths happen between syscalls, never inside
//! one. The deadlock policy is consulted only when a sender blocks on a port,
//! which neither covered case does.
//!
//! # Inlining
//!
//! The helpers both paths share (looking a capability up, making and using up a
//! reply, recording a message, waking a process) are small, and the fast path
//! calls each once or twice per syscall: calling them cost about as much as the
//! work they do, and kept the compiler from folding the arguments the fast path
//! passes as constants (no parent capability, the message kind). They are marked
//! `#[inline(always)]`, which cut a call/reply round trip by about a tenth of its
//! host instructions.

use crate::capability::{Capability, NodeKey, Rights};
use crate::event::{Event, EventKind};
use crate::ids::{Badge, ObjectId, ProcessId, Slot};
use crate::kernel::Kernel;
use crate::message::{Incoming, Message, MessageId, MessageKind, Received};
use crate::object::{ObjectBody, Reply, WaitingReceiver};
use crate::process::ProcessState;
use crate::syscall::{Blocking, Syscall, SyscallKind, SyscallValue};

/// How many syscalls the fast path carried out, by kind ([`Kernel::fast_ipc_hits`]).
#[derive(Clone, Copy, PartialEq, Eq, Debug, Default)]
pub struct FastIpcHits {
    /// Calls handed to a waiting receiver.
    pub calls: u64,
    /// Replies to a waiting caller followed by a receive that blocked.
    pub reply_receives: u64,
}

impl FastIpcHits {
    /// Both kinds together.
    pub fn total(self) -> u64 {
        self.calls + self.reply_receives
    }
}

/// A syscall the fast path can carry out, with what its checks found.
pub(crate) enum FastIpc {
    /// A call handed to a waiting receiver.
    Call(FastCall),
    /// A reply to a waiting caller, then a receive that blocks.
    ReplyReceive(FastReplyReceive),
}

/// What the checks of a call found.
pub(crate) struct FastCall {
    /// The endpoint.
    port: ObjectId,
    /// The badge of the caller's capability.
    badge: Badge,
    /// Whether the caller's capability has the grant right, which the reply object keeps.
    may_grant: bool,
    /// The receiver first in the endpoint's queue.
    receiver: ProcessId,
    /// The receiver's lowest free slot, for the reply capability.
    reply_slot: Slot,
}

/// What the checks of a reply-and-receive found.
pub(crate) struct FastReplyReceive {
    /// The slot, node and capability of the reply capability.
    reply_slot: Slot,
    reply_node: NodeKey,
    reply: Capability,
    /// The caller waiting for the reply, and the call it answers.
    caller: ProcessId,
    request: MessageId,
    /// The endpoint to receive on.
    port: ObjectId,
}

impl Kernel {
    /// Checks whether `request` may take the fast path, changing nothing.
    pub(crate) fn fast_ipc_check(&self, id: ProcessId, request: &Syscall) -> Option<FastIpc> {
        if !self.fast_ipc || self.config.priority_inheritance {
            return None;
        }
        match request {
            Syscall::Call { port, message, blocking: Blocking::Forever | Blocking::Never } => {
                self.plain_message(message)?;
                self.check_call(id, *port).map(FastIpc::Call)
            }
            Syscall::ReplyReceive { reply, message, port, from: _, blocking: Blocking::Forever } => {
                self.plain_message(message)?;
                self.check_reply_receive(id, *reply, *port).map(FastIpc::ReplyReceive)
            }
            _ => None,
        }
    }

    /// Carries out a syscall [`Kernel::fast_ipc_check`] cleared, once its entry into the kernel
    /// was charged; `entered` is the event that records that entry.
    pub(crate) fn fast_ipc(&mut self, id: ProcessId, entered: Event, checked: FastIpc, request: Syscall) {
        match checked {
            FastIpc::Call(checked) => {
                self.fast_ipc_hits.calls += 1;
                let Syscall::Call { message, .. } = request else { unreachable!("kernel bug: checked as a call") };
                self.fast_call(id, entered, checked, message);
            }
            FastIpc::ReplyReceive(checked) => {
                self.fast_ipc_hits.reply_receives += 1;
                let Syscall::ReplyReceive { message, from, .. } = request else {
                    unreachable!("kernel bug: checked as a reply-and-receive")
                };
                self.fast_reply_receive(id, entered, checked, message, from);
            }
        }
    }

    /// A message with no capabilities within the size limit: checking it would find nothing wrong.
    fn plain_message(&self, message: &Message) -> Option<()> {
        // Within the size limit and small: a large message is checked against the memory budget first.
        let fits = message.data.len() <= self.fast_message_bytes;
        (message.caps.is_empty() && fits).then_some(())
    }

    fn check_call(&self, id: ProcessId, slot: Slot) -> Option<FastCall> {
        let (_, capability) = self.lookup(id, slot).ok()?;
        if !capability.rights.contains(Rights::SEND) {
            return None;
        }
        let ObjectBody::Endpoint(endpoint) = &self.objects.get(capability.object)?.body else { return None };
        let waiting = endpoint.receivers.front()?;
        if !waiting.accepts(capability.badge) {
            return None;
        }
        let reply_slot = self.free_slot(waiting.process)?;
        let may_grant = capability.rights.contains(Rights::GRANT);
        Some(FastCall {
            port: capability.object,
            badge: capability.badge,
            may_grant,
            receiver: waiting.process,
            reply_slot,
        })
    }

    fn check_reply_receive(&self, id: ProcessId, reply_slot: Slot, port_slot: Slot) -> Option<FastReplyReceive> {
        let (reply_node, reply) = self.lookup(id, reply_slot).ok()?;
        let ObjectBody::Reply(Reply { caller, request, .. }) = self.objects.get(reply.object)?.body else {
            return None;
        };
        let caller_waits = self.is_alive(caller)
            && matches!(self.process(caller).state, ProcessState::ReplyBlocked { reply: waited, .. } if waited == reply.object);
        if !caller_waits {
            return None;
        }
        let (_, port) = self.lookup(id, port_slot).ok()?;
        if !port.rights.contains(Rights::RECEIVE) {
            return None;
        }
        let ObjectBody::Endpoint(endpoint) = &self.objects.get(port.object)?.body else { return None };
        if !endpoint.senders.is_empty() || !self.disconnect_notices.is_empty() || self.bound_bits_pending(id) {
            return None;
        }
        Some(FastReplyReceive { reply_slot, reply_node, reply, caller, request, port: port.object })
    }

    fn fast_call(&mut self, id: ProcessId, entered: Event, checked: FastCall, message: Message) {
        let FastCall { port, badge, may_grant, receiver, reply_slot } = checked;
        let object = self.objects.get_mut(port).expect("kernel bug: checked endpoint vanished");
        let ObjectBody::Endpoint(endpoint) = &mut object.body else { unreachable!("kernel bug: checked endpoint") };
        endpoint.receivers.pop_front();
        object.counters.count(message.data.len());
        let sent = self.record_sent(id, port, MessageKind::Call, badge, &message, None);
        let (reply, created) = self.create_reply(id, sent, may_grant, receiver, reply_slot);
        self.process_mut(receiver).counters.messages_received += 1;
        let received = Received::plain(badge, message.label, message.data, Some(reply_slot));
        let woken = self.make_ready(receiver, Ok(SyscallValue::Incoming(Incoming::Message(received))));
        self.handoff = Some(receiver);
        let blocked =
            self.make_blocked(id, ProcessState::ReplyBlocked { server: receiver, reply }, SyscallKind::Call, None);
        let now_cycles = self.now_cycles;
        let event = |process, kind| Event { time: now_cycles, process, kind };
        self.log.extend([
            entered,
            event(id, EventKind::MessageSent { message: sent }),
            event(receiver, created),
            event(receiver, EventKind::MessageDelivered { message: sent }),
            event(receiver, woken),
            event(id, blocked),
        ]);
    }

    fn fast_reply_receive(
        &mut self,
        id: ProcessId,
        entered: Event,
        checked: FastReplyReceive,
        message: Message,
        from: Option<Badge>,
    ) {
        let FastReplyReceive { reply_slot, reply_node, reply, caller, request, port } = checked;
        let used = self.use_up_reply(id, reply_slot, reply_node, reply);
        let used_at_cycles = self.now_cycles;
        let sent = self.record_sent(id, reply.object, MessageKind::Reply, Badge::NONE, &message, Some(request));
        self.process_mut(caller).counters.messages_received += 1;
        let received = Received::plain(Badge::NONE, message.label, message.data, None);
        let woken = self.make_ready(caller, Ok(SyscallValue::Reply(received)));
        self.handoff = Some(caller);
        let endpoint = self.objects.endpoint_mut(port).expect("kernel bug: checked endpoint vanished");
        endpoint.receivers.push_back(WaitingReceiver { process: id, from });
        let blocked = self.make_blocked(id, ProcessState::ReceiveBlocked { port }, SyscallKind::ReplyReceive, None);
        let now_cycles = self.now_cycles;
        let event = |process, kind| Event { time: now_cycles, process, kind };
        self.log.extend([
            entered,
            Event { time: used_at_cycles, process: id, kind: used },
            event(id, EventKind::MessageSent { message: sent }),
            event(caller, EventKind::MessageDelivered { message: sent }),
            event(caller, woken),
            event(id, blocked),
        ]);
    }
}
