//! Death on purpose and life again: killing a process through its handle,
//! restarting a dead one as a new incarnation (MINIX's reincarnation server,
//! Hubris's jefe), injected faults, and the kernel panic that ends a
//! monolithic system when its service code fails.
//!
//! A restart reuses the process's place in the table with the next
//! generation, so its old id (held in reply capabilities, wait chains, old
//! handles) is dead while the views keep one lane per server. What the new
//! incarnation starts with is what its [`Restarter`] builds, the same code
//! that built it at boot. The kernel keeps the restarters in a table of its
//! own, by place in the process table: a restarter changes the whole kernel,
//! so no process holds one.

use crate::capability::Rights;
use crate::dispatch::Next;
use crate::error::{FaultReason, SysError};
use crate::event::{EventKind, InjectedFault};
use crate::ids::{Badge, ObjectId, ProcessId, Slot};
use crate::kernel::Kernel;
use crate::object::{ObjectBody, ObjectKind};
use crate::outcome::{LostWork, Outcome, PanicReport};
use crate::process::ProcessState;
use crate::syscall::SyscallValue;
use crate::time::TimerAction;
use std::rc::Rc;

/// Builds a server incarnation: given the kernel and the new process's id, it creates the
/// server's objects and capabilities, starts its program, and returns its service port.
pub type Restarter = Rc<dyn Fn(&mut Kernel, ProcessId) -> ObjectId>;

/// A fault the kernel injects by itself at a set time.
#[derive(Clone, Debug)]
pub(crate) enum ScheduledFault {
    /// Crash a process (whatever incarnation lives at this index then).
    Crash { index: u32 },
    /// Panic the kernel: service code inside it fails.
    Panic { fault: InjectedFault, detail: String },
}

impl Kernel {
    /// Boots `id` with `restarter` and keeps it, so a holder of a handle with the write right
    /// can restart the process after it dies. Returns the service port of the first incarnation.
    pub fn boot_restartable(&mut self, id: ProcessId, restarter: Restarter) -> ObjectId {
        let port = restarter(self, id);
        self.process_mut(id).restartable = true;
        self.restarters.insert(id.index, restarter);
        port
    }

    /// Keeps `endpoint` alive when its owner dies, for the owner's next incarnation, which its
    /// restarter hands the same endpoint: capabilities to it keep working across restarts, and
    /// calls sent while nobody serves it wait for the next incarnation (a call the dead one had
    /// received fails with peer-dead as usual). Should the owner never be restarted, its
    /// callers wait for ever, and a deadlock report names them.
    pub fn keep_across_restarts(&mut self, endpoint: ObjectId) {
        self.kept_ports.insert(endpoint);
    }

    /// Crashes the process at `index` at virtual time `at` (fault injection).
    pub fn schedule_crash(&mut self, at: u64, index: u32) {
        let which = self.scheduled_faults.len();
        self.scheduled_faults.push(ScheduledFault::Crash { index });
        self.timers.insert(at, TimerAction::Inject { which });
    }

    /// Panics the kernel at virtual time `at`, as if service code inside it failed there with `fault`.
    pub fn schedule_panic(&mut self, at: u64, fault: InjectedFault, detail: impl Into<String>) {
        let which = self.scheduled_faults.len();
        self.scheduled_faults.push(ScheduledFault::Panic { fault, detail: detail.into() });
        self.timers.insert(at, TimerAction::Inject { which });
    }

    pub(crate) fn inject_scheduled(&mut self, which: usize) {
        match self.scheduled_faults[which].clone() {
            ScheduledFault::Crash { index } => {
                let Some(id) = self.processes.get(index as usize).map(|process| process.id) else { return };
                if self.is_alive(id) {
                    self.emit(id, EventKind::FaultInjected { fault: InjectedFault::Crash });
                    self.fault_process(id, "injected crash");
                }
            }
            ScheduledFault::Panic { fault, detail } => {
                self.emit(ProcessId::KERNEL, EventKind::FaultInjected { fault });
                self.panic(ProcessId::KERNEL, fault, detail);
            }
        }
    }

    /// Stops the whole system: service code inside the kernel failed. Every live process's
    /// work is lost, and the report says what each was doing.
    pub(crate) fn panic(&mut self, culprit: ProcessId, fault: InjectedFault, detail: String) {
        self.emit(culprit, EventKind::KernelPanicked { fault });
        let lost = self
            .processes
            .iter()
            .filter(|process| process.state.is_alive())
            .map(|process| LostWork {
                process: process.id,
                name: process.name.clone(),
                is_server: process.is_server,
                description: self.log.describe_state(process.state),
                operation: process.current_operation,
            })
            .collect();
        self.end(Outcome::KernelPanic(PanicReport { time: self.now_cycles, culprit, fault, detail, lost }));
    }

    /// The process a handle in `id`'s slot names, checked for the write right.
    fn handle_target(&self, id: ProcessId, slot: Slot) -> Result<(ObjectId, ProcessId), SysError> {
        let (handle, kind) = self.lookup_object(id, slot, Rights::WRITE)?;
        if kind != ObjectKind::Process {
            return Err(SysError::WrongObjectKind);
        }
        match self.objects.get(handle.object).map(|object| &object.body) {
            Some(ObjectBody::Process(target)) => Ok((handle.object, *target)),
            _ => Err(SysError::PeerDead),
        }
    }

    pub(crate) fn sys_kill(&mut self, id: ProcessId, slot: Slot) -> Result<Next, SysError> {
        let (_, target) = self.handle_target(id, slot)?;
        if !self.is_alive(target) {
            return Ok(Next::DONE);
        }
        let name = self.process(id).name.clone();
        self.process_mut(target).fault_detail = Some(format!("killed by {name}"));
        self.terminate(target, ProcessState::Faulted { reason: FaultReason::Killed });
        if target == id { Ok(Next::Ended) } else { Ok(Next::DONE) }
    }

    pub(crate) fn sys_restart(&mut self, id: ProcessId, slot: Slot) -> Result<Next, SysError> {
        let (handle, target) = self.handle_target(id, slot)?;
        let current = self.process(target).id;
        if current != target || self.process(target).state.is_alive() {
            return Err(SysError::InvalidArgument);
        }
        let restarter = self.restarters.get(&target.index).cloned().ok_or(SysError::InvalidArgument)?;
        // Checked before anything changes: a restart that cannot hand over the new port's
        // capability must not have restarted anything either.
        if !self.has_free_slot(id) {
            return Err(SysError::QuotaExceeded);
        }
        let reborn = self.reincarnate(target);
        if let Some(ObjectBody::Process(named)) = self.objects.get_mut(handle).map(|object| &mut object.body) {
            *named = reborn;
        }
        let port = restarter(self, reborn);
        let capability =
            crate::capability::Capability { object: port, rights: Rights::SEND | Rights::GRANT, badge: Badge::NONE };
        self.install(id, capability, None, crate::event::CapabilityOp::Created)
            .map(|slot| Next::Return(SyscallValue::Slot(slot)))
    }

    /// Clears a dead process's place for its next incarnation and returns the new id.
    fn reincarnate(&mut self, old: ProcessId) -> ProcessId {
        let id = ProcessId { index: old.index, generation: old.generation + 1 };
        // A dead process sends nothing; should a message be left, it is no longer in flight.
        self.take_outgoing(old);
        self.process_mut(old).reincarnate(id);
        // Ports kept across the death are the new incarnation's, and so are their waiting senders.
        for object in self.process(id).owned.clone() {
            if let Some(entry) = self.objects.get_mut(object) {
                entry.owner = Some(id);
            }
            let senders = self.objects.endpoint_mut(object).map(|port| port.senders.clone()).unwrap_or_default();
            for sender in senders {
                if let ProcessState::SendBlocked { port, .. } = self.process(sender).state {
                    self.process_mut(sender).state = ProcessState::SendBlocked { port, owner: Some(id) };
                }
            }
        }
        self.emit(id, EventKind::Restarted);
        id
    }
}
