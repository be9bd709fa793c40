//! The end of a process, and everything that dies with it.
//!
//! When a process exits or is faulted: it leaves any queue it waits in (a
//! message it was sending is dropped); its capabilities are released (a
//! caller waiting on a reply capability it held gets peer-dead), after the
//! servers it was a client of are told (see [`crate::disconnect`]); the
//! objects it owns die (their waiting senders and receivers get peer-dead,
//! queued messages are dropped and counted), except ports kept across
//! restarts, whose senders wait for the next incarnation; and its watchers
//! are signalled.

use crate::error::{FaultReason, SysError};
use crate::event::{DropReason, EventKind};
use crate::ids::{ObjectId, ProcessId};
use crate::kernel::Kernel;
use crate::object::ObjectBody;
use crate::process::ProcessState;

impl Kernel {
    /// Faults a process from outside (fault injection). Returns false if it had already ended.
    pub fn fault_process(&mut self, id: ProcessId, detail: &str) -> bool {
        if !self.is_alive(id) {
            return false;
        }
        self.process_mut(id).fault_detail = Some(detail.to_owned());
        self.terminate(id, ProcessState::Faulted { reason: FaultReason::Injected });
        true
    }

    pub(crate) fn terminate(&mut self, id: ProcessId, final_state: ProcessState) {
        let state = self.process(id).state;
        assert!(
            state.is_alive() && !final_state.is_alive(),
            "kernel bug: terminating {id} from {state:?} to {final_state:?}"
        );
        if state.is_blocked() {
            self.cancel_wait(id, DropReason::SenderDied);
        }
        if state == ProcessState::Ready {
            let priority = self.process(id).effective_priority;
            self.run_queue.remove(id, priority);
        }
        if state == ProcessState::AwaitingBoot {
            self.forget_held(id);
        }
        self.leave_processor(id);
        let (event, was_program) = self.processes[id.index as usize].end(final_state, &mut self.timers);
        if was_program {
            self.programs_alive -= 1;
        }
        self.emit(id, event);
        self.pass_turn(id);
        self.held_notifications.retain(|&(holder, _), _| holder != id);
        self.send_disconnects(id);
        self.release_everything(id);
        self.run_process_end_hook(id);
        // A server that dies before it reported ready holds the boot up no longer.
        self.boot_server_settled(id);
        if let Some(waited_for) = state.waits_for() {
            self.refresh_priority(waited_for);
        }
    }

    fn release_everything(&mut self, id: ProcessId) {
        let slots: Vec<_> = self.process(id).caps.iter().map(|(slot, _)| slot).collect();
        for slot in slots {
            self.release_capability(id, slot);
        }
        let mut kept = Vec::new();
        for object in std::mem::take(&mut self.process_mut(id).owned) {
            if self.kept_ports.contains(&object) {
                kept.push(object);
            } else {
                self.destroy_object(object);
            }
        }
        // A kept port waits for the next incarnation: calls queued on it stay queued.
        self.process_mut(id).owned = kept;
        if let Some(bound) = self.process_mut(id).bound_notification.take()
            && let Some(word) = self.objects.notification_mut(bound)
        {
            word.bound_to = None;
        }
        for (notification, bits) in std::mem::take(&mut self.process_mut(id).watchers) {
            let logged = self.log.record_bits(bits);
            self.emit(ProcessId::KERNEL, EventKind::Signalled { notification, bits: logged });
            self.signal_object(notification, bits);
        }
    }

    /// Frees one capability of a dead process without logging it: the death event says it all.
    fn release_capability(&mut self, id: ProcessId, slot: crate::ids::Slot) {
        let Some(node) = self.process_mut(id).caps.take(slot) else { return };
        let (capability, _) = self.tree.remove(node).expect("kernel bug: table names a dead node");
        if let Some(ObjectBody::Reply(reply)) = self.objects.get(capability.object).map(|object| &object.body) {
            let caller = reply.caller;
            self.objects.remove(capability.object);
            let waiting = self.is_alive(caller)
                && matches!(self.process(caller).state, ProcessState::ReplyBlocked { reply, .. } if reply == capability.object);
            if waiting {
                self.wake(caller, Err(SysError::PeerDead));
            }
        }
        self.process_mut(id).held_replies.clear();
    }

    fn destroy_object(&mut self, id: ObjectId) {
        let Some(object) = self.objects.remove(id) else { return };
        match object.body {
            ObjectBody::Endpoint(endpoint) => {
                self.reporting_ports.remove(&id);
                for notice in self.disconnect_notices.remove(&id).unwrap_or_default() {
                    self.drop_envelope(notice, DropReason::ReceiverDied);
                }
                endpoint.senders.into_iter().for_each(|sender| self.fail_sender(sender));
                endpoint.receivers.into_iter().for_each(|waiting| self.wake(waiting.process, Err(SysError::PeerDead)));
            }
            ObjectBody::Queue(queue) => {
                for envelope in queue.messages {
                    self.release_in_flight(envelope.data.len());
                    self.drop_envelope(envelope, DropReason::ReceiverDied);
                }
                queue.senders.into_iter().for_each(|sender| self.fail_sender(sender));
                queue.receivers.into_iter().for_each(|waiting| self.wake(waiting.process, Err(SysError::PeerDead)));
            }
            ObjectBody::Notification(word) => {
                word.waiters.into_iter().for_each(|waiter| self.wake(waiter, Err(SysError::PeerDead)));
                if let Some(bound) = word.bound_to {
                    self.process_mut(bound).bound_notification = None;
                }
            }
            ObjectBody::Region(bytes) => self.region_bytes -= bytes.len() as u64,
            ObjectBody::Reply(_) | ObjectBody::Process(_) => {}
        }
    }

    /// A sender blocked on a port that died: its message is dropped and it learns why.
    fn fail_sender(&mut self, sender: ProcessId) {
        if let Some(outgoing) = self.take_outgoing(sender) {
            self.drop_envelope(outgoing.envelope, DropReason::ReceiverDied);
        }
        self.wake(sender, Err(SysError::PeerDead));
    }
}
