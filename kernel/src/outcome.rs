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
}

impl Outcome {
    /// True for a clean end.
    pub fn is_completed(&self) -> bool {
        matches!(self, Outcome::Completed)
    }

    /// Which of the four ends it is, without the report.
    pub fn kind(&self) -> OutcomeKind {
        match self {
            Outcome::Completed => OutcomeKind::Completed,
            Outcome::Deadlock(_) => OutcomeKind::Deadlock,
            Outcome::StepLimit { .. } => OutcomeKind::StepLimit,
            Outcome::KernelPanic(_) => OutcomeKind::KernelPanic,
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
}

impl DeadlockReport {
    /// The processes that wait on each other in a cycle.
    pub fn cycle_members(&self) -> impl Iterator<Item = &BlockedProcess> {
        self.blocked.iter().filter(|blocked| blocked.in_cycle)
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
