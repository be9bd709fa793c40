//! Processes and their states.
//!
//! Every change of a process's state is one of the transitions on [`Process`]
//! here (run, preempt, block, await a reply, unblock, hold for and release
//! from the boot, end, reincarnate), each checking in debug builds that it
//! starts from a state it may: the kernel decides when a process changes, this
//! module what a change touches.

use crate::capability::CapabilityTable;
use crate::error::{FaultReason, ProgramResult};
use crate::event::{BlockedOn, EventKind};
use crate::ids::{ObjectId, Priority, ProcessId};
use crate::message::Envelope;
use crate::metrics::Counters;
use crate::setup::ProcessSpec;
use crate::sys::Trap;
use crate::syscall::{SyscallKind, SyscallResult};
use crate::time::{TimerKey, Timers};
use serde::{Deserialize, Serialize};
use std::future::Future;
use std::pin::Pin;
use std::rc::Rc;

/// Exactly what a process is doing or waiting for.
// Variant fields are named for what they hold; the variant's doc says the rest.
#[allow(missing_docs)]
#[derive(Clone, Copy, PartialEq, Eq, Debug, Serialize, Deserialize)]
pub enum ProcessState {
    /// Waiting for the processor.
    Ready,
    /// Created, waiting for the servers to finish booting before it may run.
    AwaitingBoot,
    /// On the processor.
    Running,
    /// Waiting for a receiver (or for room in a full queue) on `port`, which `owner` serves.
    SendBlocked { port: ObjectId, owner: Option<ProcessId> },
    /// Waiting for a message on `port`.
    ReceiveBlocked { port: ObjectId },
    /// Waiting for `server` to answer a call through `reply`.
    ReplyBlocked { server: ProcessId, reply: ObjectId },
    /// Waiting for bits on a notification.
    WaitingNotification { notification: ObjectId },
    /// Sleeping until this virtual time, in cycles.
    Sleeping { until: u64 },
    /// Inside a kernel service call (monolithic mode), waiting for a device until this virtual
    /// time, in cycles.
    InKernel { until: u64 },
    /// Inside a kernel service call (monolithic mode), waiting on a channel of its module until
    /// another call wakes it (a read of an empty pipe).
    KernelWaiting { channel: crate::syscall::WaitChannel },
    /// Ended by its own choice.
    Exited { code: i32 },
    /// Ended by the kernel.
    Faulted { reason: FaultReason },
}

impl ProcessState {
    /// True while the process can still run some day.
    pub fn is_alive(self) -> bool {
        !matches!(self, ProcessState::Exited { .. } | ProcessState::Faulted { .. })
    }

    /// True when the process waits for something other than the processor.
    pub fn is_blocked(self) -> bool {
        self.blocked_on().is_some()
    }

    /// True when ready or running.
    pub fn is_runnable(self) -> bool {
        matches!(self, ProcessState::Ready | ProcessState::Running)
    }

    /// The event-log form of what a blocked process waits for.
    pub fn blocked_on(self) -> Option<BlockedOn> {
        match self {
            ProcessState::SendBlocked { port, .. } => Some(BlockedOn::Send(port)),
            ProcessState::ReceiveBlocked { port } => Some(BlockedOn::Receive(port)),
            ProcessState::ReplyBlocked { server, .. } => Some(BlockedOn::Reply(server)),
            ProcessState::WaitingNotification { notification } => Some(BlockedOn::Notification(notification)),
            ProcessState::Sleeping { until } => Some(BlockedOn::Sleep(until)),
            ProcessState::InKernel { until } => Some(BlockedOn::Device(until)),
            ProcessState::KernelWaiting { channel } => Some(BlockedOn::Channel(channel)),
            _ => None,
        }
    }

    /// The process this one waits for, if that is a single process (wait-for edge).
    pub fn waits_for(self) -> Option<ProcessId> {
        match self {
            ProcessState::SendBlocked { owner, .. } => owner,
            ProcessState::ReplyBlocked { server, .. } => Some(server),
            _ => None,
        }
    }
}

/// A message waiting with its blocked sender.
#[derive(Debug)]
pub(crate) struct Outgoing {
    pub envelope: Envelope,
}

pub(crate) type ProgramFuture = Pin<Box<dyn Future<Output = ProgramResult>>>;

/// A simulated process.
pub struct Process {
    pub(crate) id: ProcessId,
    pub(crate) name: String,
    pub(crate) base_priority: Priority,
    pub(crate) effective_priority: Priority,
    pub(crate) is_server: bool,
    /// Read anywhere, written only by the transitions below: every change of state is one of them.
    pub(crate) state: ProcessState,
    pub(crate) caps: CapabilityTable,
    pub(crate) program: Option<ProgramFuture>,
    pub(crate) trap: Rc<Trap>,
    /// The syscall a blocked process is in.
    pub(crate) blocked_call: Option<SyscallKind>,
    /// When it blocked.
    pub(crate) blocked_since_cycles: u64,
    pub(crate) outgoing: Option<Outgoing>,
    /// Key of the timer that ends the current block (sleep or timeout).
    pub(crate) timer: Option<TimerKey>,
    pub(crate) compute_remaining_cycles: u64,
    pub(crate) slice_used_cycles: u64,
    pub(crate) bound_notification: Option<ObjectId>,
    /// Notifications to signal, with which bits, when this process dies.
    pub(crate) watchers: Vec<(ObjectId, u64)>,
    /// Reply objects this process holds, whose callers wait on it.
    pub(crate) held_replies: Vec<ObjectId>,
    /// Ports that report disconnects it was given a badged send capability to, with the badge:
    /// their servers are told when it ends (see [`crate::disconnect`]).
    pub(crate) clients_of: Vec<(ObjectId, crate::ids::Badge)>,
    /// Objects that die with this process.
    pub(crate) owned: Vec<ObjectId>,
    pub(crate) counters: Counters,
    pub(crate) fault_detail: Option<String>,
    /// Started as a program, so the run cannot complete until it ends.
    pub(crate) counts_as_program: bool,
    /// Given its program: it cannot be given another.
    pub(crate) started: bool,
    /// The operation it is in the middle of, from its markers (lost work in a kernel panic).
    pub(crate) current_operation: Option<u32>,
    /// Booted restartable: the kernel's table of restarters holds what rebuilds it.
    pub(crate) restartable: bool,
    /// Reported ready (start-up done) since it last started; see [`crate::boot`].
    pub(crate) ready: bool,
}

impl Process {
    /// A new process, ready but with no program yet.
    pub(crate) fn new(id: ProcessId, spec: ProcessSpec) -> Process {
        Process {
            id,
            name: spec.name,
            base_priority: spec.priority,
            effective_priority: spec.priority,
            is_server: spec.is_server,
            state: ProcessState::Ready,
            caps: Default::default(),
            program: None,
            trap: Rc::new(Trap::default()),
            blocked_call: None,
            blocked_since_cycles: 0,
            outgoing: None,
            timer: None,
            compute_remaining_cycles: 0,
            slice_used_cycles: 0,
            bound_notification: None,
            watchers: Vec::new(),
            clients_of: Vec::new(),
            held_replies: Vec::new(),
            owned: Vec::new(),
            counters: Counters::default(),
            fault_detail: None,
            counts_as_program: false,
            started: false,
            current_operation: None,
            restartable: false,
            ready: false,
        }
    }

    /// Puts it on the processor: it was ready, or was running and keeps the processor.
    #[inline]
    pub(crate) fn run(&mut self) {
        debug_assert!(self.state.is_runnable(), "kernel bug: running {}, which is {:?}", self.id, self.state);
        self.state = ProcessState::Running;
    }

    /// Takes it off the processor, still ready to run (preempted, its slice spent, or yielding);
    /// the caller queues it.
    pub(crate) fn preempt(&mut self) {
        debug_assert_eq!(self.state, ProcessState::Running, "kernel bug: preempting {}, which is not running", self.id);
        self.state = ProcessState::Ready;
    }

    /// Holds a ready process back until the boot finishes; the caller takes it off the run queue.
    pub(crate) fn hold_for_boot(&mut self) {
        debug_assert_eq!(self.state, ProcessState::Ready, "kernel bug: holding {}, which is not ready", self.id);
        self.state = ProcessState::AwaitingBoot;
    }

    /// Lets a process held for the boot run: it is ready, and the caller queues it. Returns false
    /// when it was not held (it ended meanwhile).
    pub(crate) fn release_from_boot(&mut self) -> bool {
        if self.state != ProcessState::AwaitingBoot {
            return false;
        }
        self.state = ProcessState::Ready;
        true
    }

    /// A caller blocked sending its call, now taken by `server`, waits for the answer through
    /// `reply`: still blocked, in the same syscall, since the same time. Returns the event that
    /// records it.
    pub(crate) fn await_reply(&mut self, server: ProcessId, reply: ObjectId) -> EventKind {
        debug_assert!(
            matches!(self.state, ProcessState::SendBlocked { .. }),
            "kernel bug: {} awaits a reply without having sent a call",
            self.id
        );
        self.state = ProcessState::ReplyBlocked { server, reply };
        EventKind::Blocked { on: BlockedOn::Reply(server) }
    }

    /// Ends it in `final_state`: its program is dropped, and the syscall, computation or timeout
    /// it was in the middle of is forgotten. Returns the event that records it, and whether it
    /// was a program the run was still waiting for.
    pub(crate) fn end(&mut self, final_state: ProcessState, timers: &mut Timers) -> (EventKind, bool) {
        let event = match final_state {
            ProcessState::Exited { code } => EventKind::Exited { code },
            ProcessState::Faulted { reason } => EventKind::Faulted { reason },
            _ => unreachable!("kernel bug: ending {} in {final_state:?}", self.id),
        };
        if let Some(key) = self.timer.take() {
            timers.cancel(key);
        }
        self.state = final_state;
        self.program = None;
        self.blocked_call = None;
        self.compute_remaining_cycles = 0;
        (event, std::mem::take(&mut self.counts_as_program))
    }

    /// Makes a dead process the next incarnation `id` in its place: ready, with no program yet and
    /// its base priority. It keeps its name and counters; the rest ended with its last life.
    pub(crate) fn reincarnate(&mut self, id: ProcessId) {
        debug_assert!(!self.state.is_alive(), "kernel bug: reincarnating a live process");
        self.id = id;
        self.state = ProcessState::Ready;
        self.effective_priority = self.base_priority;
        self.trap = Rc::new(Trap::default());
        self.bound_notification = None;
        self.watchers.clear();
        self.held_replies.clear();
        self.fault_detail = None;
        self.current_operation = None;
        self.started = false;
        self.ready = false;
        self.slice_used_cycles = 0;
    }

    /// Charges cycles of processor time to it (the kernel's clock moves on separately).
    pub(crate) fn charge(&mut self, cycles: u64) {
        self.counters.cycles = self.counters.cycles.saturating_add(cycles);
        self.slice_used_cycles = self.slice_used_cycles.saturating_add(cycles);
    }

    /// Blocks it in `state` inside `call` from `now` on; returns the event that records it.
    pub(crate) fn block(&mut self, state: ProcessState, call: SyscallKind, now_cycles: u64) -> EventKind {
        self.state = state;
        self.blocked_call = Some(call);
        self.blocked_since_cycles = now_cycles;
        let on = state.blocked_on().expect("kernel bug: blocking in a state that waits for nothing");
        EventKind::Blocked { on }
    }

    /// Ends its block at `now` (cancelling its timeout) with the result its syscall returns; it is
    /// ready, but the caller queues it. Returns the event that records it.
    #[inline(always)]
    // Always inlined: see "Inlining" in the fast path's module doc.
    pub(crate) fn unblock(&mut self, now_cycles: u64, result: SyscallResult, timers: &mut Timers) -> EventKind {
        if let Some(key) = self.timer.take() {
            timers.cancel(key);
        }
        debug_assert!(self.state.is_blocked(), "kernel bug: waking {}, which is not blocked", self.id);
        self.counters.blocked_cycles =
            self.counters.blocked_cycles.saturating_add(now_cycles - self.blocked_since_cycles);
        let call = self.blocked_call.take().expect("kernel bug: blocked process without a syscall");
        self.state = ProcessState::Ready;
        let error = result.as_ref().err().copied();
        self.trap.response.set(Some(result));
        EventKind::Woken { call, error }
    }

    /// Its id.
    pub fn id(&self) -> ProcessId {
        self.id
    }

    /// Its name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The priority it was given.
    pub fn base_priority(&self) -> Priority {
        self.base_priority
    }

    /// The priority it runs at now (raised by priority inheritance).
    pub fn effective_priority(&self) -> Priority {
        self.effective_priority
    }

    /// True for servers: processes that may still be waiting when a run ends cleanly.
    pub fn is_server(&self) -> bool {
        self.is_server
    }

    /// What it is doing.
    pub fn state(&self) -> ProcessState {
        self.state
    }

    /// Its counters.
    pub fn counters(&self) -> &Counters {
        &self.counters
    }

    /// The explanation of its fault, if it gave one.
    pub fn fault_detail(&self) -> Option<&str> {
        self.fault_detail.as_deref()
    }

    /// True when a supervisor can restart it.
    pub fn is_restartable(&self) -> bool {
        self.restartable
    }

    /// True once it has reported ready since it last started (servers, after their start-up).
    pub fn is_ready(&self) -> bool {
        self.ready
    }

    /// The notification bound to it, if any.
    pub fn bound_notification(&self) -> Option<ObjectId> {
        self.bound_notification
    }
}
