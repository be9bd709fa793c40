//! Priority inheritance (QNX style): a server runs at the priority of the
//! most important client that waits on it, whether that client is still
//! queued on one of the server's ports or already waits for its reply.
//! Inheritance is transitive: a boosted server that itself waits on another
//! server passes the boost along.

use crate::event::EventKind;
use crate::ids::{Priority, ProcessId};
use crate::kernel::Kernel;
use crate::object::ObjectBody;
use crate::process::ProcessState;

impl Kernel {
    /// Recomputes the effective priority of `id` and of everyone it waits on.
    // Inlined so that every IPC pays only the flag check when inheritance is off (the default).
    #[inline]
    pub(crate) fn refresh_priority(&mut self, id: ProcessId) {
        if self.config.priority_inheritance {
            self.propagate_priority(id);
        }
    }

    fn propagate_priority(&mut self, id: ProcessId) {
        let mut next = Some(id);
        // Each step moves one hop along a wait-for chain, which visits each process at most once.
        let mut hops_left = self.processes.len();
        while let Some(id) = next.take() {
            if hops_left == 0 || !self.is_alive(id) {
                return;
            }
            hops_left -= 1;
            let process = self.process(id);
            let old = process.effective_priority;
            let new = self
                .inherited_priority(id)
                .map_or(process.base_priority, |inherited| inherited.most_important(process.base_priority));
            if new == old {
                return;
            }
            self.set_effective_priority(id, old, new);
            next = self.process(id).state.waits_for();
        }
    }

    fn set_effective_priority(&mut self, id: ProcessId, old: Priority, new: Priority) {
        let process = self.process_mut(id);
        process.effective_priority = new;
        if process.state == ProcessState::Ready && self.run_queue.remove(id, old) {
            self.run_queue.push_back(id, new);
        }
        self.emit(id, EventKind::PriorityChanged { priority: new });
    }

    /// The most important priority among the clients waiting on `id`.
    fn inherited_priority(&self, id: ProcessId) -> Option<Priority> {
        let process = self.process(id);
        let queued =
            process.owned.iter().filter_map(|&object| match self.objects.get(object).map(|object| &object.body) {
                Some(ObjectBody::Endpoint(endpoint)) => Some(endpoint.senders.iter()),
                Some(ObjectBody::Queue(queue)) => Some(queue.senders.iter()),
                _ => None,
            });
        let queued = queued.flatten().copied();
        let awaiting_reply = process.held_replies.iter().filter_map(|&reply| match self.objects.get(reply).map(|object| &object.body) {
            Some(ObjectBody::Reply(reply_object)) => {
                let caller = reply_object.caller;
                let waiting = matches!(self.process(caller).state, ProcessState::ReplyBlocked { reply: waited, .. } if waited == reply);
                (self.is_alive(caller) && waiting).then_some(caller)
            }
            _ => None,
        });
        queued
            .chain(awaiting_reply)
            .map(|client| self.process(client).effective_priority)
            .reduce(Priority::most_important)
    }
}
