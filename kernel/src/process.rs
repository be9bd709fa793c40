//! Processes and their states.

use crate::capability::CapabilityTable;
use crate::error::{FaultReason, ProgramResult};
use crate::event::{BlockedOn, EventKind};
use crate::ids::{ObjectId, Priority, ProcessId};
use crate::message::Envelope;
use crate::metrics::Counters;
use crate::sys::Trap;
use crate::syscall::{SyscallKind, SyscallResult};
use crate::time::Timers;
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
    /// Sleeping until this virtual time.
    Sleeping { until: u64 },
    /// Inside a kernel service call (monolithic mode), waiting for a device until this time.
    InKernel { until: u64 },
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
    pub(crate) state: ProcessState,
    pub(crate) caps: CapabilityTable,
    pub(crate) program: Option<ProgramFuture>,
    pub(crate) trap: Rc<Trap>,
    /// The syscall a blocked process is in.
    pub(crate) blocked_call: Option<SyscallKind>,
    pub(crate) blocked_since: u64,
    pub(crate) outgoing: Option<Outgoing>,
    /// Key of the timer that ends the current block (sleep or timeout).
    pub(crate) timer: Option<(u64, u64)>,
    pub(crate) compute_remaining: u64,
    pub(crate) slice_used: u64,
    pub(crate) bound_notification: Option<ObjectId>,
    /// Notifications to signal, with which bits, when this process dies.
    pub(crate) watchers: Vec<(ObjectId, u64)>,
    /// Reply objects this process holds, whose callers wait on it.
    pub(crate) held_replies: Vec<ObjectId>,
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
    /// Rebuilds it after it dies, when it was booted restartable.
    pub(crate) restarter: Option<crate::restart::Restarter>,
    /// Reported ready (start-up done) since it last started; see [`crate::boot`].
    pub(crate) ready: bool,
}

impl Process {
    /// Charges cycles of processor time to it (the kernel's clock moves on separately).
    pub(crate) fn charge(&mut self, cycles: u64) {
        self.counters.cycles = self.counters.cycles.saturating_add(cycles);
        self.slice_used = self.slice_used.saturating_add(cycles);
    }

    /// Blocks it in `state` inside `call` from `now` on; returns the event that records it.
    pub(crate) fn block(&mut self, state: ProcessState, call: SyscallKind, now: u64) -> EventKind {
        self.state = state;
        self.blocked_call = Some(call);
        self.blocked_since = now;
        let on = state.blocked_on().expect("kernel bug: blocking in a state that waits for nothing");
        EventKind::Blocked { on }
    }

    /// Ends its block at `now` (cancelling its timeout) with the result its syscall returns; it is
    /// ready, but the caller queues it. Returns the event that records it.
    #[inline(always)]
    // Always inlined: see "Inlining" in the fast path's module doc.
    pub(crate) fn unblock(&mut self, now: u64, result: SyscallResult, timers: &mut Timers) -> EventKind {
        if let Some(key) = self.timer.take() {
            timers.cancel(key);
        }
        debug_assert!(self.state.is_blocked(), "kernel bug: waking {}, which is not blocked", self.id);
        self.counters.blocked_cycles = self.counters.blocked_cycles.saturating_add(now - self.blocked_since);
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
        self.restarter.is_some()
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
