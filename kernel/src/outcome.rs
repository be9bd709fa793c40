//! How a run ends, and the report of a deadlock.

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
}

impl Outcome {
    /// True for a clean end.
    pub fn is_completed(&self) -> bool {
        matches!(self, Outcome::Completed)
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
