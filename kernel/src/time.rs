//! Virtual time: the queue of timers (sleeps, timeouts, timer interrupts).
//!
//! Time is simulated cycles and only moves when the kernel charges a cost or
//! jumps over idle time to the next timer. Nothing reads the host clock.

use crate::ids::{ObjectId, ProcessId};
use std::collections::BTreeMap;

/// Identifies one armed timer: its deadline, then the order it was armed in. Keys order timers
/// as they fire (the derived order compares the fields in this order).
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Debug)]
pub(crate) struct TimerKey {
    /// When it fires, in virtual time.
    deadline_cycles: u64,
    /// How many timers were armed before it.
    armed_before: u64,
}

/// What a timer does when it fires.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(crate) enum TimerAction {
    /// End the block of a process (its sleep, or its timeout).
    Wake(ProcessId),
    /// Signal a notification, as a device interrupt would.
    Interrupt { notification: ObjectId, bits: u64, period_cycles: Option<u64>, owner: ProcessId },
    /// Inject the scheduled fault with this index.
    Inject { which: usize },
}

/// Armed timers in deadline order; equal deadlines fire in the order they were armed.
#[derive(Debug, Default)]
pub(crate) struct Timers {
    queue: BTreeMap<TimerKey, TimerAction>,
    armed: u64,
}

impl Timers {
    pub fn insert(&mut self, deadline_cycles: u64, action: TimerAction) -> TimerKey {
        let key = TimerKey { deadline_cycles, armed_before: self.armed };
        self.armed += 1;
        self.queue.insert(key, action);
        key
    }

    pub fn cancel(&mut self, key: TimerKey) {
        self.queue.remove(&key);
    }

    pub fn is_empty(&self) -> bool {
        self.queue.is_empty()
    }

    pub fn next_deadline_cycles(&self) -> Option<u64> {
        self.queue.keys().next().map(|key| key.deadline_cycles)
    }

    /// Takes the earliest timer if it is due at `now_cycles`, with its deadline.
    pub fn pop_due(&mut self, now_cycles: u64) -> Option<(u64, TimerAction)> {
        let (&key, _) = self.queue.first_key_value()?;
        if key.deadline_cycles > now_cycles {
            return None;
        }
        self.queue.remove(&key).map(|action| (key.deadline_cycles, action))
    }
}
