//! Kernel settings: cost profile, scheduling, limits, seed.

use crate::cost::CostProfile;
use serde::{Deserialize, Serialize};

/// What happens when a send would close a wait-for cycle.
#[derive(Clone, Copy, PartialEq, Eq, Debug, Default, Serialize, Deserialize)]
pub enum DeadlockPolicy {
    /// Let it block; when nothing can run, the run ends with a report of every wait-for chain.
    #[default]
    Report,
    /// Refuse the send with a deadlock error, as MINIX 3 does (`ELOCKED`).
    Refuse,
}

/// Per-process and per-message limits, so every run stays bounded.
#[derive(Clone, Copy, PartialEq, Eq, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Limits {
    /// Capabilities one process may hold.
    pub capability_slots_max: usize,
    /// Objects one process may own (endpoints, queues, notifications, regions).
    pub objects_per_process_max: usize,
    /// Data bytes in one message.
    pub message_bytes_max: u32,
    /// Capabilities carried by one message.
    pub message_caps_max: u32,
    /// Bytes in one memory region.
    pub region_bytes_max: u32,
    /// Messages one queue port may hold.
    pub queue_capacity_max: u32,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            capability_slots_max: 256,
            objects_per_process_max: 64,
            message_bytes_max: 1024,
            message_caps_max: 4,
            region_bytes_max: 1 << 20,
            queue_capacity_max: 4096,
        }
    }
}

/// The memory budget of a run unless it says otherwise: 1 GiB.
pub const MEMORY_LIMIT_BYTES_DEFAULT: u64 = 1 << 30;

/// Everything that shapes a run besides the processes.
#[derive(Clone, PartialEq, Eq, Debug)]
pub struct KernelConfig {
    /// Cycles charged per kernel event.
    pub profile: CostProfile,
    /// Seed of the run's single random stream.
    pub seed: u64,
    /// Steps (syscalls, compute slices, idle jumps, and script operations that make no syscall)
    /// before the run is stopped.
    pub step_limit: u64,
    /// Bytes the run may hold (event log, message data, regions, messages in flight) before it
    /// is stopped: see [`crate::outcome::MemoryReport`].
    pub memory_limit_bytes: u64,
    /// Servers run at the priority of the most important client they serve.
    pub priority_inheritance: bool,
    /// Report deadlocks at the end, or refuse the send that closes the cycle.
    pub deadlock_policy: DeadlockPolicy,
    /// Cycles a process may run before others of its priority get a turn.
    pub timeslice_cycles: u64,
    /// Size limits.
    pub limits: Limits,
}

impl Default for KernelConfig {
    fn default() -> Self {
        KernelConfig {
            profile: CostProfile::sel4(),
            seed: 0,
            step_limit: 1_000_000,
            memory_limit_bytes: MEMORY_LIMIT_BYTES_DEFAULT,
            priority_inheritance: false,
            deadlock_policy: DeadlockPolicy::Report,
            timeslice_cycles: 100_000,
            limits: Limits::default(),
        }
    }
}
