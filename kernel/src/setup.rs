//! Setting a system up before it runs: processes, the objects they own, and
//! the capabilities they start with. Setup is the caller's code (a scenario's
//! boot, a test), so its mistakes are setup bugs and may panic; everything a
//! program does once the run starts goes through syscalls instead.

use crate::capability::{Capability, Rights};
use crate::error::SysError;
use crate::event::{CapabilityOp, EventKind};
use crate::ids::{Badge, ObjectId, Priority, ProcessId, Slot};
use crate::kernel::Kernel;
use crate::object::{FullPolicy, ObjectBody, Queue};
use crate::process::{Process, ProcessState};
use crate::sys::Sys;
use std::future::Future;
use std::rc::Rc;

/// How a process is described when it is created.
#[derive(Clone, PartialEq, Eq, Debug)]
pub struct ProcessSpec {
    /// Name shown in every view.
    pub name: String,
    /// Fixed priority.
    pub priority: Priority,
    /// Servers may still be waiting when the run ends cleanly; programs must finish.
    pub is_server: bool,
}

impl ProcessSpec {
    /// A program (must finish for the run to complete cleanly).
    pub fn program(name: &str, priority: Priority) -> ProcessSpec {
        ProcessSpec { name: name.to_owned(), priority, is_server: false }
    }

    /// A server (may wait for requests forever).
    pub fn server(name: &str, priority: Priority) -> ProcessSpec {
        ProcessSpec { name: name.to_owned(), priority, is_server: true }
    }
}

impl Kernel {
    /// Creates a process that will run `program` once the run starts.
    pub fn spawn<F, Fut>(&mut self, spec: ProcessSpec, program: F) -> ProcessId
    where
        F: FnOnce(Sys) -> Fut,
        Fut: Future<Output = crate::error::ProgramResult> + 'static,
    {
        let id = self.create_process(spec);
        self.start(id, program);
        id
    }

    /// Creates a process with no program yet, so capabilities can be given to it
    /// before its program (which names them by slot) is built. See [`Kernel::start`].
    pub fn create_process(&mut self, spec: ProcessSpec) -> ProcessId {
        let index = u32::try_from(self.processes.len()).expect("more than 4 billion processes");
        let id = ProcessId { index, generation: 0 };
        self.log.name_process(index, &spec.name);
        if spec.is_server {
            self.log.mark_server(index);
        }
        let priority = spec.priority;
        self.processes.push(Process::new(id, spec));
        self.emit(id, EventKind::Spawned { priority });
        id
    }

    /// Gives a created process its program and makes it ready.
    ///
    /// # Panics
    /// If the process already has a program (a setup bug in the caller).
    pub fn start<F, Fut>(&mut self, id: ProcessId, program: F)
    where
        F: FnOnce(Sys) -> Fut,
        Fut: Future<Output = crate::error::ProgramResult> + 'static,
    {
        let process = &mut self.processes[id.index as usize];
        assert!(
            !process.started && process.state == ProcessState::Ready,
            "setup bug: process {} was started twice or after it ended",
            process.name
        );
        process.started = true;
        let sys = Sys::new(Rc::clone(&process.trap), id);
        process.program = Some(Box::pin(program(sys)));
        if !process.is_server {
            process.counts_as_program = true;
            self.programs_alive += 1;
        }
        let priority = process.effective_priority;
        self.run_queue.push_back(id, priority);
    }

    /// Creates an endpoint that dies with `owner`.
    pub fn create_endpoint(&mut self, owner: ProcessId) -> ObjectId {
        self.create_object(Some(owner), ObjectBody::Endpoint(Default::default()))
    }

    /// Creates a queue port that dies with `owner`.
    pub fn create_queue(&mut self, owner: ProcessId, capacity: u32, policy: FullPolicy) -> ObjectId {
        self.create_object(Some(owner), Queue::boxed(capacity, policy))
    }

    /// Creates a notification that dies with `owner`.
    pub fn create_notification(&mut self, owner: ProcessId) -> ObjectId {
        self.create_object(Some(owner), ObjectBody::Notification(Default::default()))
    }

    /// Says what an interrupt into `notification` means (`disk transfer done`), for the trace to
    /// say it too. The kernel only delivers bits: what a device's interrupt stands for is known
    /// to the system that wired the device to its driver.
    pub fn describe_interrupt(&mut self, notification: ObjectId, meaning: &'static str) {
        self.log.mean_interrupt(notification, meaning);
    }

    /// Creates a zero-filled memory region that dies with `owner`.
    ///
    /// A region the memory budget has no room for gets no bytes, and the run stops at the memory
    /// limit before its first step.
    pub fn create_region(&mut self, owner: ProcessId, size: u32) -> ObjectId {
        let bytes = self.setup_region_bytes(size);
        self.create_object(Some(owner), ObjectBody::Region(bytes))
    }

    /// Creates a handle on `target`, for watching it die.
    pub fn create_process_handle(&mut self, target: ProcessId) -> ObjectId {
        self.create_object(None, ObjectBody::Process(target))
    }

    pub(crate) fn create_object(&mut self, owner: Option<ProcessId>, body: ObjectBody) -> ObjectId {
        if let ObjectBody::Region(bytes) = &body {
            self.region_bytes += bytes.len() as u64;
        }
        let id = self.objects.insert(owner, body);
        let kind = self.objects.get(id).expect("just inserted").kind();
        if let Some(owner) = owner {
            self.process_mut(owner).owned.push(id);
        }
        self.log.name_object(id, kind, owner);
        self.emit(owner.unwrap_or(ProcessId::KERNEL), EventKind::Created { object: id, kind });
        id
    }

    /// Gives `holder` an original capability to `object`.
    ///
    /// # Errors
    /// Quota exceeded when the holder's table is full.
    pub fn grant(
        &mut self,
        holder: ProcessId,
        object: ObjectId,
        rights: Rights,
        badge: Badge,
    ) -> Result<Slot, SysError> {
        let capability = Capability { object, rights, badge };
        self.install(holder, capability, None, CapabilityOp::Granted)
    }

    /// Gives `holder` a capability derived from one `source` holds, so revoking
    /// the source's capability also removes this one.
    ///
    /// # Errors
    /// Invalid capability when the source slot is empty; invalid argument when it already has
    /// another badge; quota exceeded when the holder's table is full.
    pub fn grant_derived(
        &mut self,
        holder: ProcessId,
        source: ProcessId,
        slot: Slot,
        rights: Rights,
        badge: Badge,
    ) -> Result<Slot, SysError> {
        let node = self.process(source).caps.get(slot).ok_or(SysError::InvalidCapability)?;
        let original = self.tree.capability(node).expect("kernel bug: table names a dead node");
        let badge = match (original.badge, badge) {
            (inherited, Badge::NONE) => inherited,
            (Badge::NONE, badge) => badge,
            (inherited, badge) if inherited == badge => badge,
            // As for the mint syscall: a badged capability keeps its badge.
            _ => return Err(SysError::InvalidArgument),
        };
        let capability = Capability { object: original.object, rights: original.rights & rights, badge };
        self.install(holder, capability, Some(node), CapabilityOp::Granted)
    }
}
