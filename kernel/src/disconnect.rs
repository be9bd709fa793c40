//! Disconnect notices: a server learns that a client has ended.
//!
//! A server that keeps state for each client (open pipes, queues, sockets)
//! must drop it when the client ends, or the client's peers wait for ever on
//! a write end nobody will close. QNX's kernel sends a resource manager a
//! disconnect pulse when a client's connection goes; MINIX 3's process
//! manager tells VFS that a process exited, and VFS closes its descriptors.
//!
//! Here an endpoint can be made to report disconnects
//! ([`Kernel::report_disconnects`]). When a process ends, for every such
//! endpoint it was given a badged send capability to (whether or not it
//! still holds it: a stub drops a capability to a server that failed, and
//! its descriptors there stay open), the kernel sends on its
//! behalf one message with the label [`DISCONNECTED`], the capability's badge
//! and no data (servers know their clients by badge). The notice is a
//! message like any other (logged, counted to the client that ended), except
//! that it never waits: it goes to a receiver waiting on the endpoint at
//! once, or is queued on the endpoint, where a receive takes it before any
//! blocked sender, so that a restarted client (which has the same badge)
//! cannot be served before its predecessor's state is dropped.
//!
//! Monolithic mode has no server endpoints: the kernel calls its service
//! modules instead, through the hook given to [`Kernel::on_process_end`].

use crate::capability::{Capability, Rights};
use crate::event::EventKind;
use crate::fault::ServiceModule;
use crate::ids::{Badge, ObjectId, ProcessId};
use crate::kernel::Kernel;
use crate::message::{Incoming, Message, MessageKind, Received};
use crate::syscall::{SyscallValue, WaitChannel};
use std::rc::Rc;

/// The label of a disconnect notice. No protocol uses it: a service's labels are its number
/// times 256 plus the operation, and no service is numbered 255.
pub const DISCONNECTED: u32 = 0xffff;

/// What monolithic mode's service modules do when a process ends: drop its state, and say
/// what that changed.
pub type ProcessEndHook = Rc<dyn Fn(ProcessId) -> ProcessEnd>;

/// What dropping an ended process's state in the service modules changed.
#[derive(Clone, Default, Debug)]
pub struct ProcessEnd {
    /// Channels whose waiters may now go on (a read that will now see end of file).
    pub wake: Vec<WaitChannel>,
    /// Each module's state summary now, for views (see [`crate::service_state`]).
    pub states: Vec<(ServiceModule, Vec<u8>)>,
}

impl Kernel {
    /// Makes `endpoint` report disconnects: its receiver gets a notice when a process holding
    /// a badged send capability to it ends.
    pub fn report_disconnects(&mut self, endpoint: ObjectId) {
        if self.objects.endpoint_mut(endpoint).is_some() {
            self.reporting_ports.insert(endpoint);
        }
    }

    /// Calls `hook` whenever a process ends, after its capabilities are released, and wakes
    /// the channels it names.
    pub fn on_process_end(&mut self, hook: ProcessEndHook) {
        self.process_end_hook = Some(hook);
    }

    /// Remembers that `holder` was given `capability`, if it makes it a client a server is to
    /// be told about. Kept when the capability is deleted: a client stub drops its capability
    /// to a server that failed a call, and its descriptors there are still open.
    pub(crate) fn note_client(&mut self, holder: ProcessId, capability: Capability) {
        if capability.badge == Badge::NONE || !capability.rights.contains(Rights::SEND) {
            return;
        }
        let reports = self.reporting_ports.contains(&capability.object);
        let client = (capability.object, capability.badge);
        let clients_of = &mut self.process_mut(holder).clients_of;
        if reports && !clients_of.contains(&client) {
            clients_of.push(client);
        }
    }

    /// Sends the notices for `id`, which has just ended.
    pub(crate) fn send_disconnects(&mut self, id: ProcessId) {
        for (port, badge) in std::mem::take(&mut self.process_mut(id).clients_of) {
            // A server that has died since, or that `id` was itself, has nobody to tell.
            let alive = self.reporting_ports.contains(&port)
                && self.objects.get(port).is_some_and(|object| object.owner != Some(id));
            if alive {
                self.send_disconnect(id, port, badge);
            }
        }
    }

    fn send_disconnect(&mut self, id: ProcessId, port: ObjectId, badge: Badge) {
        let kind = MessageKind::Send;
        // Sent as through a send capability of the client's, logged and counted as any message.
        let via = Capability { object: port, rights: Rights::SEND, badge };
        let envelope = self.commit(id, via, Message::new(DISCONNECTED, Vec::new()), kind, None);
        if let Some((receiver, _)) = self.take_receiver(port, badge, kind) {
            let (received, _) = self.deliver(receiver, envelope, None);
            self.wake(receiver, Ok(SyscallValue::Incoming(Incoming::Message(received))));
        } else {
            self.disconnect_notices.entry(port).or_default().push_back(envelope);
        }
    }

    /// Takes the oldest queued notice on `port` that a receiver accepting `from` may have.
    pub(crate) fn take_disconnect(&mut self, id: ProcessId, port: ObjectId, from: Option<Badge>) -> Option<Received> {
        let notices = self.disconnect_notices.get_mut(&port)?;
        let position = notices.iter().position(|notice| from.is_none_or(|badge| badge == notice.badge))?;
        let envelope = notices.remove(position)?;
        if notices.is_empty() {
            self.disconnect_notices.remove(&port);
        }
        Some(self.deliver(id, envelope, None).0)
    }

    /// Lets monolithic mode's service modules drop what `id` held, and wakes whoever that lets go on.
    pub(crate) fn run_process_end_hook(&mut self, id: ProcessId) {
        let Some(hook) = self.process_end_hook.clone() else { return };
        let ended = hook(id);
        for (module, summary) in ended.states {
            if let Some(state) = self.log.record_service_state(module, &summary) {
                self.emit(id, EventKind::ServiceState { module, state });
            }
        }
        for channel in ended.wake {
            self.wake_channel(channel);
        }
    }
}
