//! Identifiers: processes, kernel objects, capability slots, badges, priorities.
//!
//! Ids are an index plus a generation. When a slot in a table is reused, its
//! generation moves on, so a stale id can be recognised as dead instead of
//! silently reaching whatever object lives in that slot now.

use serde::{Deserialize, Serialize};
use std::fmt;

/// A process: an index into the process table and the incarnation living there.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Debug, Serialize, Deserialize)]
pub struct ProcessId {
    /// Position in the process table.
    pub index: u32,
    /// Incarnation of the process at that position (a restart moves it on).
    pub generation: u32,
}

impl ProcessId {
    /// Stands for the kernel itself in the event log (idle time, timer interrupts, run end).
    pub const KERNEL: ProcessId = ProcessId { index: u32::MAX, generation: 0 };

    /// True for [`ProcessId::KERNEL`].
    pub fn is_kernel(self) -> bool {
        self.index == ProcessId::KERNEL.index
    }
}

impl fmt::Display for ProcessId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.is_kernel() {
            write!(f, "kernel")
        } else if self.generation == 0 {
            write!(f, "p{}", self.index)
        } else {
            write!(f, "p{}.{}", self.index, self.generation)
        }
    }
}

/// A kernel object (endpoint, queue port, notification, reply, region, process handle).
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Debug, Serialize, Deserialize)]
pub struct ObjectId {
    /// Position in the object table.
    pub index: u32,
    /// Which object has lived at that position.
    pub generation: u32,
}

impl ObjectId {
    /// Stands for the kernel itself in the event log, as the port of a service call into a
    /// monolithic kernel: no object lives there.
    pub const KERNEL: ObjectId = ObjectId { index: u32::MAX, generation: 0 };
}

impl fmt::Display for ObjectId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.generation == 0 {
            write!(f, "#{}", self.index)
        } else {
            write!(f, "#{}.{}", self.index, self.generation)
        }
    }
}

/// A slot in a process's capability table: the only way a program names authority.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Debug, Serialize, Deserialize)]
pub struct Slot(pub u32);

impl fmt::Display for Slot {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "slot {}", self.0)
    }
}

/// A word stamped on a capability when it is minted and delivered to the
/// receiver with every message sent through it, so a server can tell its
/// clients apart without trusting what they say.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Debug, Default, Serialize, Deserialize)]
pub struct Badge(pub u64);

impl Badge {
    /// The badge of a capability that was never minted with one.
    pub const NONE: Badge = Badge(0);
}

/// A fixed scheduling priority. Larger values are more important (as in QNX).
///
/// Deliberately not `PartialOrd`: compare with
/// [`Priority::is_more_important_than`] so the direction is never guessed.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug, Serialize, Deserialize)]
pub struct Priority(u8);

impl Priority {
    /// The number of priority levels.
    pub const LEVELS: usize = 32;
    /// The least important priority.
    pub const LOWEST: Priority = Priority(0);
    /// The most important priority.
    pub const HIGHEST: Priority = Priority(Self::LEVELS as u8 - 1);

    /// A priority from its level, or `None` when the level is out of range.
    pub fn new(level: u8) -> Option<Priority> {
        (usize::from(level) < Self::LEVELS).then_some(Priority(level))
    }

    /// The numeric level (0 is least important).
    pub fn level(self) -> u8 {
        self.0
    }

    /// True when `self` should run before `other`.
    #[must_use]
    pub fn is_more_important_than(self, other: Priority) -> bool {
        self.0 > other.0
    }

    /// The more important of the two.
    #[must_use]
    pub fn most_important(self, other: Priority) -> Priority {
        if other.is_more_important_than(self) { other } else { self }
    }
}

impl fmt::Display for Priority {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)
    }
}
