//! The boot phase: servers start up first, programs after.
//!
//! As MINIX 3's servers tell the reincarnation server they are up, a server
//! the boot waits for ([`Kernel::await_ready`]) does its start-up work (a file
//! server mounts its file system, a driver initialises its device) and then
//! says so with the `ready` syscall. Programs started with
//! [`Kernel::start_after_boot`] wait, not runnable, until every such server
//! has said it or died trying; then the kernel logs [`EventKind::BootDone`],
//! notes the time and the counters so far, and makes the programs ready in the
//! order they were started. Start-up work the kernel does itself (the file
//! system mounted inside a monolithic kernel) is charged to the boot with
//! [`Kernel::charge_boot_work`].
//!
//! The point is a fair comparison: whatever both modes do before the first
//! program runs is boot, reported apart, and every figure that compares the
//! modes counts only the work after it. A kernel told nothing of a boot has
//! none: its programs run at once and no boot event is logged.

use crate::dispatch::Next;
use crate::error::SysError;
use crate::event::EventKind;
use crate::ids::{ProcessId, Slot};
use crate::kernel::Kernel;
use crate::metrics::Counters;
use crate::object::{ObjectBody, ObjectKind};
use crate::sys::Sys;
use crate::syscall::{ServiceWork, SyscallValue};
use std::future::Future;

/// Where the boot stands.
#[derive(Debug, Default)]
pub(crate) struct BootPhase {
    /// True once anything was said of a boot: only then is its end logged.
    configured: bool,
    /// Indexes of the servers that have not reported ready yet, in the order they were named.
    pending: Vec<u32>,
    /// Programs waiting for the boot to finish, in the order they were started.
    held: Vec<ProcessId>,
    /// When the boot finished, with the run's counters at that moment.
    done: Option<BootDone>,
}

/// The moment the boot finished.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct BootDone {
    /// Virtual time in cycles when the last server reported ready.
    pub at_cycles: u64,
    /// Counters summed over every process (kernel time in `cycles`) at that moment.
    pub totals: Counters,
}

impl Kernel {
    /// Makes the boot wait for `id` to report ready (or to die) before programs started with
    /// [`Kernel::start_after_boot`] run.
    pub fn await_ready(&mut self, id: ProcessId) {
        debug_assert!(self.boot.done.is_none(), "setup bug: a boot server named after the boot finished");
        self.boot.configured = true;
        self.boot.pending.push(id.index);
    }

    /// Gives a created process its program, to run once the boot has finished. Until then the
    /// process is created, holds its capabilities, and waits.
    ///
    /// # Panics
    /// If the process already has a program (a setup bug in the caller).
    pub fn start_after_boot<F, Fut>(&mut self, id: ProcessId, program: F)
    where
        F: FnOnce(Sys) -> Fut,
        Fut: Future<Output = crate::error::ProgramResult> + 'static,
    {
        self.start(id, program);
        if self.boot.done.is_some() {
            return;
        }
        self.boot.configured = true;
        let priority = self.process(id).effective_priority;
        self.run_queue.remove(id, priority);
        self.process_mut(id).hold_for_boot();
        self.boot.held.push(id);
        self.emit(id, EventKind::AwaitingBoot);
    }

    /// Charges start-up work the kernel does itself (a service module mounting or initialising
    /// inside a monolithic kernel) to the boot: the clock moves on by its cost, charged to no
    /// process, as the same work done by a server is charged before its first request.
    pub fn charge_boot_work(&mut self, work: ServiceWork) {
        let profile = &self.config.profile;
        let cycles = work
            .function_calls
            .saturating_mul(profile.function_call_cycles)
            .saturating_add(profile.copy_cycles(work.bytes_copied))
            .saturating_add(work.interrupts.saturating_mul(profile.interrupt_cycles))
            .saturating_add(work.device_cycles);
        self.boot.configured = true;
        self.emit(ProcessId::KERNEL, EventKind::BootWork { cycles });
        self.now_cycles = self.now_cycles.saturating_add(cycles);
        self.kernel_cycles = self.kernel_cycles.saturating_add(cycles);
    }

    /// When the boot finished and what it had cost by then; `None` while it goes on, or for a
    /// kernel told nothing of a boot.
    pub fn boot_done(&self) -> Option<BootDone> {
        self.boot.done
    }

    /// Ends the boot if nothing is pending when the run starts (no servers to wait for).
    pub(crate) fn begin_run(&mut self) {
        if self.boot.configured && self.boot.done.is_none() && self.boot.pending.is_empty() {
            self.finish_boot();
        }
    }

    /// The `ready` syscall: the caller has finished starting up.
    pub(crate) fn sys_ready(&mut self, id: ProcessId) -> Result<Next, SysError> {
        self.process_mut(id).ready = true;
        self.boot_server_settled(id);
        Ok(Next::DONE)
    }

    /// Whether the process behind a handle (read right) has reported ready since it last started.
    pub(crate) fn sys_is_ready(&mut self, id: ProcessId, slot: Slot) -> Result<Next, SysError> {
        let (handle, kind) = self.lookup_object(id, slot, crate::capability::Rights::READ)?;
        if kind != ObjectKind::Process {
            return Err(SysError::WrongObjectKind);
        }
        let Some(ObjectBody::Process(target)) = self.objects.get(handle.object).map(|object| &object.body) else {
            return Err(SysError::PeerDead);
        };
        let ready = self.is_alive(*target) && self.process(*target).ready;
        Ok(Next::Return(SyscallValue::Number(u64::from(ready))))
    }

    /// A server the boot waits for reported ready or ended: once none is left, the boot is done.
    pub(crate) fn boot_server_settled(&mut self, id: ProcessId) {
        let Some(position) = self.boot.pending.iter().position(|&index| index == id.index) else { return };
        self.boot.pending.remove(position);
        if self.boot.pending.is_empty() && self.boot.done.is_none() {
            self.finish_boot();
        }
    }

    /// A program held for the boot ended before it ever ran.
    pub(crate) fn forget_held(&mut self, id: ProcessId) {
        self.boot.held.retain(|&held| held != id);
    }

    fn finish_boot(&mut self) {
        self.boot.done = Some(BootDone { at_cycles: self.now_cycles, totals: self.totals() });
        self.emit(ProcessId::KERNEL, EventKind::BootDone);
        for id in std::mem::take(&mut self.boot.held) {
            let process = self.process_mut(id);
            if process.release_from_boot() {
                let priority = process.effective_priority;
                self.run_queue.push_back(id, priority);
            }
        }
    }
}
