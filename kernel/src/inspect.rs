//! The inspection API: what views, reports and tests read of a kernel, during
//! a run or after it. Reading changes nothing.

use crate::capability::{Capability, Location, NodeKey};
use crate::config::KernelConfig;
use crate::event::EventLog;
use crate::ids::{ObjectId, ProcessId, Slot};
use crate::kernel::Kernel;
use crate::message::MessageId;
use crate::metrics::Counters;
use crate::object::{ObjectBody, ObjectKind, PortCounters};
use crate::outcome::Outcome;
use crate::process::Process;

impl Kernel {
    /// The settings of this run.
    pub fn config(&self) -> &KernelConfig {
        &self.config
    }

    /// Current virtual time in cycles.
    pub fn now(&self) -> u64 {
        self.now_cycles
    }

    /// Steps taken so far.
    pub fn steps(&self) -> u64 {
        self.steps
    }

    /// What the run holds now, as its memory budget counts it (see [`crate::memory`]).
    pub fn memory(&self) -> crate::outcome::MemoryReport {
        self.memory_report(0)
    }

    /// How the run ended, once it has.
    pub fn outcome(&self) -> Option<&Outcome> {
        self.outcome.as_ref()
    }

    /// The event log.
    pub fn log(&self) -> &EventLog {
        &self.log
    }

    /// The event log, keeping nothing else of the kernel (no copy of a long log).
    pub fn into_log(self) -> EventLog {
        self.log
    }

    /// Sets how message contents are described in the trace (protocols live above the kernel).
    pub fn set_message_describer(&mut self, describer: crate::event::MessageDescriber) {
        self.log.set_describer(describer);
    }

    /// Every process ever created, by index.
    pub fn processes(&self) -> &[Process] {
        &self.processes
    }

    /// A process by id, if that incarnation exists.
    pub fn process_by_id(&self, id: ProcessId) -> Option<&Process> {
        self.processes.get(id.index as usize).filter(|process| process.id == id)
    }

    /// A process by name.
    pub fn process_named(&self, name: &str) -> Option<&Process> {
        self.processes.iter().find(|process| process.name == name)
    }

    /// Counters summed over every process; kernel idle and interrupt time is in `cycles` too.
    pub fn totals(&self) -> Counters {
        let mut totals = Counters::default();
        for process in &self.processes {
            totals += process.counters;
        }
        totals.cycles = totals.cycles.saturating_add(self.kernel_cycles);
        totals
    }

    /// How many syscalls the IPC fast path carried out so far (see [`Kernel::set_fast_ipc`]).
    pub fn fast_ipc_hits(&self) -> crate::fastpath::FastIpcHits {
        self.fast_ipc_hits
    }

    /// Cycles spent idle or in interrupts, charged to no process.
    pub fn kernel_cycles(&self) -> u64 {
        self.kernel_cycles
    }

    /// The capabilities a process holds: slot, capability, and the kind of object (`None` if it died).
    pub fn capabilities(&self, id: ProcessId) -> Vec<(Slot, Capability, Option<ObjectKind>)> {
        let Some(process) = self.process_by_id(id) else { return Vec::new() };
        process
            .caps
            .iter()
            .map(|(slot, node)| {
                let capability = self.tree.capability(node).expect("kernel bug: table names a dead node");
                let kind = self.objects.get(capability.object).map(|object| object.kind());
                (slot, capability, kind)
            })
            .collect()
    }

    /// The kind of a live object.
    pub fn object_kind(&self, id: ObjectId) -> Option<ObjectKind> {
        self.objects.get(id).map(|object| object.kind())
    }

    /// The counters of a live object (messages through a port).
    pub fn port_counters(&self, id: ObjectId) -> Option<PortCounters> {
        self.objects.get(id).map(|object| object.counters)
    }

    /// Messages waiting on a port: queued ones, then those held by blocked senders.
    pub fn waiting_messages(&self, port: ObjectId) -> Vec<MessageId> {
        match self.objects.get(port).map(|object| &object.body) {
            Some(ObjectBody::Queue(queue)) => {
                let queued = queue.messages.iter().map(|envelope| envelope.id);
                queued.chain(queue.senders.iter().filter_map(|&sender| self.outgoing_id(sender))).collect()
            }
            Some(ObjectBody::Endpoint(endpoint)) => {
                endpoint.senders.iter().filter_map(|&sender| self.outgoing_id(sender)).collect()
            }
            _ => Vec::new(),
        }
    }

    fn outgoing_id(&self, sender: ProcessId) -> Option<MessageId> {
        self.process(sender).outgoing.as_ref().map(|outgoing| outgoing.envelope.id)
    }

    /// Pending bits of a live notification.
    pub fn notification_bits(&self, id: ObjectId) -> Option<u64> {
        match self.objects.get(id).map(|object| &object.body) {
            Some(ObjectBody::Notification(notification)) => Some(notification.bits),
            _ => None,
        }
    }

    /// Every live capability in the system with the process holding it (`None`: in transit).
    pub fn all_capabilities(&self) -> Vec<(Option<u32>, Capability, NodeKey)> {
        self.tree
            .iter()
            .map(|(node, capability, location)| match location {
                Location::Slot { process, .. } => (Some(process), capability, node),
                Location::InTransit => (None, capability, node),
            })
            .collect()
    }

    /// True when the capability in `node` was derived (directly or not) from `ancestor`.
    pub fn is_derived_from(&self, node: NodeKey, ancestor: NodeKey) -> bool {
        self.tree.is_derived_from(node, ancestor)
    }

    /// The derivation node behind a process's slot.
    pub fn node_of(&self, id: ProcessId, slot: Slot) -> Option<NodeKey> {
        self.process_by_id(id)?.caps.get(slot)
    }
}
