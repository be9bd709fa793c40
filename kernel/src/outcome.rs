//! How a run ends, and the report of a deadlock.

use crate::event::{InjectedFault, OutcomeKind};
use crate::ids::ProcessId;
use crate::process::ProcessState;
use serde::{Deserialize, Serialize};

/// How a run ended.
#[derive(Clone, PartialEq, Eq, Debug, Serialize, Deserialize)]
pub enum Outcome {
    /// Every program ended; only servers were left, waiting.
    Completed,
    /// Nothing could run and nothing was pending in time, yet programs were still blocked.
    Deadlock(DeadlockReport),
    /// The step limit stopped the run.
    StepLimit {
        /// The limit that was reached.
        limit: u64,
    },
    /// Service code inside the kernel failed (monolithic mode): the whole system stopped.
    KernelPanic(PanicReport),
    /// The run would have held more memory than its budget allows.
    MemoryLimit(MemoryReport),
}

impl Outcome {
    /// True for a clean end.
    pub fn is_completed(&self) -> bool {
        matches!(self, Outcome::Completed)
    }

    /// Which of the ends it is, without the report.
    pub fn kind(&self) -> OutcomeKind {
        match self {
            Outcome::Completed => OutcomeKind::Completed,
            Outcome::Deadlock(_) => OutcomeKind::Deadlock,
            Outcome::StepLimit { .. } => OutcomeKind::StepLimit,
            Outcome::KernelPanic(_) => OutcomeKind::KernelPanic,
            Outcome::MemoryLimit(_) => OutcomeKind::MemoryLimit,
        }
    }
}

/// What a run held when it was stopped at its memory budget.
///
/// The budget counts what grows with the run inside the kernel: the event log (events, message
/// records, side tables, the object directory) with every message's data, the bytes of live
/// memory regions, and the data of messages in flight (queued, or waiting with a blocked
/// sender). Copies programs keep of what they received (console output among them) are not
/// counted: each is a copy of message data the log holds already.
#[derive(Clone, Copy, PartialEq, Eq, Debug, Serialize, Deserialize)]
pub struct MemoryReport {
    /// The budget, in bytes.
    pub limit_bytes: u64,
    /// The event log with its message data.
    pub log_bytes: u64,
    /// Live memory regions.
    pub region_bytes: u64,
    /// Data of messages in flight.
    pub message_bytes: u64,
    /// The region or message refused because it would have passed the budget (0 when the
    /// log's growth passed it).
    pub refused_bytes: u64,
}

impl MemoryReport {
    /// Everything counted, the refused allocation included: more than the budget.
    pub fn total_bytes(&self) -> u64 {
        self.log_bytes
            .saturating_add(self.region_bytes)
            .saturating_add(self.message_bytes)
            .saturating_add(self.refused_bytes)
    }

    /// In words: `event log 1012 bytes, regions 0 bytes, messages in flight 0 bytes`, and what
    /// was refused, if anything (`; 3000000000 bytes more were asked for`).
    pub fn describe(&self) -> String {
        let held = format!(
            "event log {} bytes, regions {} bytes, messages in flight {} bytes",
            self.log_bytes, self.region_bytes, self.message_bytes
        );
        match self.refused_bytes {
            0 => held,
            refused => format!("{held}; {refused} bytes more were asked for"),
        }
    }
}

/// Every blocked process when the run stopped, with what it waits for.
#[derive(Clone, PartialEq, Eq, Debug, Default, Serialize, Deserialize)]
pub struct DeadlockReport {
    /// Blocked processes in process order.
    pub blocked: Vec<BlockedProcess>,
}

/// One blocked process in a deadlock report.
#[derive(Clone, PartialEq, Eq, Debug, Serialize, Deserialize)]
pub struct BlockedProcess {
    /// The process.
    pub process: ProcessId,
    /// Its name.
    pub name: String,
    /// What it waits for.
    pub state: ProcessState,
    /// The state in words ("send-blocked on pong (endpoint #1)").
    pub description: String,
    /// The processes it waits for, one hop after another, as far as the chain goes.
    pub chain: Vec<ProcessId>,
    /// True when the chain comes back to a process already in it.
    pub in_cycle: bool,
    /// True when it waits on a port or notification that no other process holds a capability
    /// with the send right to (nor any message carries): not a deadlock, since it waits for no
    /// one, but nobody can ever wake it.
    pub no_possible_sender: bool,
}

impl DeadlockReport {
    /// The processes that wait on each other in a cycle.
    pub fn cycle_members(&self) -> impl Iterator<Item = &BlockedProcess> {
        self.blocked.iter().filter(|blocked| blocked.in_cycle)
    }

    /// True when some processes wait on each other in a cycle: a deadlock proper. Without one,
    /// the run stopped because what the blocked processes wait for can never come.
    pub fn has_cycle(&self) -> bool {
        self.blocked.iter().any(|blocked| blocked.in_cycle)
    }
}

/// What a kernel panic took down with it.
#[derive(Clone, PartialEq, Eq, Debug, Serialize, Deserialize)]
pub struct PanicReport {
    /// Virtual time of the panic.
    pub time: u64,
    /// The process whose call was inside the failing service code, or the kernel for a
    /// fault that struck while no call was in it.
    pub culprit: ProcessId,
    /// The fault.
    pub fault: InjectedFault,
    /// Where it struck, in words ("the fs module while handling fs.write").
    pub detail: String,
    /// Every process that was still alive: its work is lost.
    pub lost: Vec<LostWork>,
}

/// A process a kernel panic stopped.
#[derive(Clone, PartialEq, Eq, Debug, Serialize, Deserialize)]
pub struct LostWork {
    /// The process.
    pub process: ProcessId,
    /// Its name.
    pub name: String,
    /// True for servers.
    pub is_server: bool,
    /// What it was doing, in words.
    pub description: String,
    /// The label of the operation it was in the middle of, if any.
    pub operation: Option<u32>,
}
