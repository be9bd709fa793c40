//! The kernel's state and the helpers every part of it shares.
//!
//! [`Kernel`] is one struct whose `impl` is spread over the modules that each
//! own one concern: setup ([`crate::setup`]), the run loop ([`crate::run`]),
//! syscall dispatch and the small syscalls ([`crate::dispatch`]), the syscall
//! families (ipc and transfer, notify, authority, lifecycle, restart, boot),
//! and the inspection API views read ([`crate::inspect`]). This module holds the
//! fields and what all of them use: looking a process up, logging an event,
//! charging time, blocking and waking a process.

use crate::capability::{Capability, DerivationTree};
use crate::config::KernelConfig;
use crate::dispatch::Next;
use crate::error::SysError;
use crate::event::{CapabilityChange, CapabilityOp, Event, EventKind, EventLog};
use crate::ids::{ObjectId, ProcessId, Slot};
use crate::object::ObjectTable;
use crate::outcome::Outcome;
use crate::process::{Process, ProcessState};
use crate::scheduler::RunQueue;
use crate::syscall::{SyscallKind, SyscallResult};
use crate::time::{TimerAction, Timers};
use rand_chacha::ChaCha8Rng;
use rand_core::SeedableRng;

/// A simulated microkernel and everything running on it.
pub struct Kernel {
    pub(crate) config: KernelConfig,
    /// Virtual time.
    pub(crate) now_cycles: u64,
    pub(crate) steps: u64,
    pub(crate) processes: Vec<Process>,
    pub(crate) objects: ObjectTable,
    pub(crate) tree: DerivationTree,
    pub(crate) run_queue: RunQueue,
    pub(crate) timers: Timers,
    pub(crate) current: Option<ProcessId>,
    /// The process an IPC just woke, to which switching is part of the IPC's cost.
    pub(crate) handoff: Option<ProcessId>,
    pub(crate) log: EventLog,
    pub(crate) rng: ChaCha8Rng,
    pub(crate) outcome: Option<Outcome>,
    /// Programs (not servers) that have not ended yet.
    pub(crate) programs_alive: usize,
    /// Cycles spent idle or handling interrupts, charged to no process.
    pub(crate) kernel_cycles: u64,
    /// Faults the kernel injects at set times, indexed by their timers.
    pub(crate) scheduled_faults: Vec<crate::restart::ScheduledFault>,
    /// What rebuilds each process booted restartable, by its place in the process table (which
    /// every incarnation of it takes): see [`crate::restart`].
    pub(crate) restarters: std::collections::BTreeMap<u32, crate::restart::Restarter>,
    /// Common IPC takes the fast path (see [`crate::fastpath`]); off only to test that it changes nothing.
    pub(crate) fast_ipc: bool,
    /// Syscalls the fast path carried out.
    pub(crate) fast_ipc_hits: crate::fastpath::FastIpcHits,
    /// Servers starting up, programs waiting for them (see [`crate::boot`]).
    pub(crate) boot: crate::boot::BootPhase,
    /// The kernel's own ports for its service modules (monolithic mode), made at the first
    /// lookup of each: what a capability to an in-kernel service names.
    pub(crate) service_ports: std::collections::BTreeMap<crate::syscall::ServiceModule, ObjectId>,
    /// The processes waiting in the kernel on each channel of a service module (monolithic
    /// mode), in the order they began to wait.
    pub(crate) wait_channels:
        std::collections::BTreeMap<crate::syscall::WaitChannel, std::collections::VecDeque<ProcessId>>,
    /// The step count at which `step` next checks the run's bounds: the step limit, or sooner,
    /// the next look at the memory the run holds (see [`crate::memory`]).
    pub(crate) check_at_step: u64,
    /// Bytes of live memory regions.
    pub(crate) region_bytes: u64,
    /// Data bytes of messages in flight: queued, or waiting with a blocked sender.
    pub(crate) in_flight_bytes: u64,
    /// Bytes of regions made at setup that the memory budget had no room for: the run stops
    /// before its first step.
    pub(crate) refused_at_setup: u64,
    /// Messages up to this size may take the fast path; larger ones are checked against the
    /// memory budget on the general path.
    pub(crate) fast_message_bytes: usize,
    /// What monolithic mode's service modules do when a process ends (see [`crate::disconnect`]).
    pub(crate) process_end_hook: Option<crate::disconnect::ProcessEndHook>,
    /// Waiters woken together from a channel, by the one whose turn it is: each goes on once
    /// the one before has tried its operation again (see [`crate::channels`]).
    /// Notification capabilities service modules hold, by the process that registered them and
    /// the slot they were in then (see [`crate::syscall::ServiceWork::hold`]).
    pub(crate) held_notifications:
        std::collections::BTreeMap<(ProcessId, crate::ids::Slot), crate::capability::Capability>,
    pub(crate) turns: std::collections::BTreeMap<ProcessId, std::collections::VecDeque<ProcessId>>,
    /// Endpoints whose receivers are told when a client ends. Kept here, not in the endpoint:
    /// a larger endpoint would make every reply object (one per call) larger to move.
    pub(crate) reporting_ports: std::collections::BTreeSet<ObjectId>,
    /// Endpoints that outlive their owner's death and pass to its next incarnation (a name
    /// server's port: every process's capability to it must keep working across a restart).
    /// Kept here for the same reason as `reporting_ports`.
    pub(crate) kept_ports: std::collections::BTreeSet<ObjectId>,
    /// Disconnect notices not yet received, by endpoint, oldest first: a receive takes them
    /// before any sender.
    pub(crate) disconnect_notices:
        std::collections::BTreeMap<ObjectId, std::collections::VecDeque<crate::message::Envelope>>,
}

impl Kernel {
    /// A kernel with no processes yet.
    pub fn new(config: KernelConfig) -> Kernel {
        let rng = ChaCha8Rng::seed_from_u64(crate::seed::derive(config.seed, crate::seed::KERNEL_STREAM));
        let fast_message_bytes = (config.limits.message_bytes_max as usize).min(crate::memory::LARGE_MESSAGE_BYTES);
        Kernel {
            config,
            now_cycles: 0,
            steps: 0,
            processes: Vec::new(),
            objects: ObjectTable::default(),
            tree: DerivationTree::default(),
            run_queue: RunQueue::default(),
            timers: Timers::default(),
            current: None,
            handoff: None,
            log: EventLog::default(),
            rng,
            outcome: None,
            programs_alive: 0,
            kernel_cycles: 0,
            scheduled_faults: Vec::new(),
            restarters: Default::default(),
            fast_ipc: true,
            fast_ipc_hits: Default::default(),
            boot: Default::default(),
            service_ports: Default::default(),
            wait_channels: Default::default(),
            // The first step checks the bounds: the step limit may be 0, setup may have passed the budget.
            check_at_step: 0,
            region_bytes: 0,
            in_flight_bytes: 0,
            refused_at_setup: 0,
            fast_message_bytes,
            process_end_hook: None,
            turns: Default::default(),
            held_notifications: Default::default(),
            reporting_ports: Default::default(),
            kept_ports: Default::default(),
            disconnect_notices: Default::default(),
        }
    }

    pub(crate) fn process(&self, id: ProcessId) -> &Process {
        &self.processes[id.index as usize]
    }

    pub(crate) fn process_mut(&mut self, id: ProcessId) -> &mut Process {
        &mut self.processes[id.index as usize]
    }

    /// True when `id` names the current incarnation of a process that has not ended.
    pub(crate) fn is_alive(&self, id: ProcessId) -> bool {
        self.processes.get(id.index as usize).is_some_and(|process| process.id == id && process.state.is_alive())
    }

    pub(crate) fn emit(&mut self, process: ProcessId, kind: EventKind) {
        self.log.push(Event { time: self.now_cycles, process, kind });
    }

    /// Logs a change to `holder`'s capability table.
    pub(crate) fn emit_capability(&mut self, holder: ProcessId, op: CapabilityOp, slot: Slot, capability: Capability) {
        let kind = self.capability_event(op, slot, capability);
        self.emit(holder, kind);
    }

    /// The event for a change to a capability table, its details kept in the log's side table if need be.
    #[inline]
    pub(crate) fn capability_event(&mut self, op: CapabilityOp, slot: Slot, capability: Capability) -> EventKind {
        let Capability { object, rights, badge } = capability;
        self.log.capability_event(CapabilityChange { op, slot, object, rights, badge })
    }

    pub(crate) fn charge(&mut self, id: ProcessId, cycles: u64) {
        self.now_cycles = self.now_cycles.saturating_add(cycles);
        self.process_mut(id).charge(cycles);
    }

    /// Blocks the calling process in `state`, with an optional timeout in cycles.
    pub(crate) fn block(
        &mut self,
        id: ProcessId,
        state: ProcessState,
        call: SyscallKind,
        timeout_cycles: Option<u64>,
    ) -> Result<Next, SysError> {
        let blocked = self.make_blocked(id, state, call, timeout_cycles);
        self.emit(id, blocked);
        Ok(Next::Blocked)
    }

    /// Does what [`Kernel::block`] does but log it: returns the event that records it. The fast
    /// path blocks through it too.
    #[inline(always)]
    // Always inlined: see "Inlining" in the fast path's module doc.
    pub(crate) fn make_blocked(
        &mut self,
        id: ProcessId,
        state: ProcessState,
        call: SyscallKind,
        timeout_cycles: Option<u64>,
    ) -> EventKind {
        let now_cycles = self.now_cycles;
        let process = &mut self.processes[id.index as usize];
        if let Some(cycles) = timeout_cycles {
            process.timer = Some(self.timers.insert(now_cycles.saturating_add(cycles), TimerAction::Wake(id)));
        }
        let blocked = process.block(state, call, now_cycles);
        self.leave_processor(id);
        blocked
    }

    /// A process that blocked or ended no longer runs.
    pub(crate) fn leave_processor(&mut self, id: ProcessId) {
        if self.current == Some(id) {
            self.current = None;
        }
    }

    /// Makes a blocked process ready, with the result its syscall returns.
    pub(crate) fn wake(&mut self, id: ProcessId, result: SyscallResult) {
        let woken = self.make_ready(id, result);
        self.emit(id, woken);
    }

    /// Does what [`Kernel::wake`] does but log it: returns the event that records it.
    #[inline(always)]
    // Always inlined: see "Inlining" in the fast path's module doc.
    pub(crate) fn make_ready(&mut self, id: ProcessId, result: SyscallResult) -> EventKind {
        let process = &mut self.processes[id.index as usize];
        let woken = process.unblock(self.now_cycles, result, &mut self.timers);
        self.run_queue.push_back(id, process.effective_priority);
        woken
    }

    /// Turns the IPC fast path on (the default) or off. It changes nothing anyone can observe:
    /// this is for tests that check exactly that.
    #[doc(hidden)]
    pub fn set_fast_ipc(&mut self, on: bool) {
        self.fast_ipc = on;
    }
}
