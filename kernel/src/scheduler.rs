//! The ready queues: one FIFO per priority level and a bitmap of the
//! non-empty ones, so choosing the next process costs the same however many
//! processes exist.

use crate::ids::{Priority, ProcessId};
use std::collections::VecDeque;

/// Ready processes by priority, FIFO within a level.
#[derive(Debug)]
pub(crate) struct RunQueue {
    levels: Vec<VecDeque<ProcessId>>,
    non_empty: u32,
}

impl Default for RunQueue {
    fn default() -> Self {
        RunQueue { levels: (0..Priority::LEVELS).map(|_| VecDeque::new()).collect(), non_empty: 0 }
    }
}

const _: () = assert!(Priority::LEVELS <= 32, "the non-empty bitmap is a u32");

impl RunQueue {
    /// Queues `process` behind the others of its priority.
    pub fn push_back(&mut self, process: ProcessId, priority: Priority) {
        let level = usize::from(priority.level());
        self.levels[level].push_back(process);
        self.non_empty |= 1 << level;
    }

    /// Queues `process` ahead of the others of its priority (it was preempted).
    pub fn push_front(&mut self, process: ProcessId, priority: Priority) {
        let level = usize::from(priority.level());
        self.levels[level].push_front(process);
        self.non_empty |= 1 << level;
    }

    /// The priority of the most important ready process.
    pub fn best_priority(&self) -> Option<Priority> {
        if self.non_empty == 0 {
            return None;
        }
        let level = 31 - self.non_empty.leading_zeros();
        Priority::new(level as u8)
    }

    /// Takes the most important ready process.
    #[must_use]
    pub fn pop_best(&mut self) -> Option<ProcessId> {
        if self.non_empty == 0 {
            return None;
        }
        // The level straight from the bitmap, without the round trip through a checked priority.
        let level = (31 - self.non_empty.leading_zeros()) as usize;
        let queue = &mut self.levels[level];
        let process = queue.pop_front();
        if queue.is_empty() {
            self.non_empty &= !(1 << level);
        }
        process
    }

    /// Takes `process` out of its queue (it died, or its priority changes).
    pub fn remove(&mut self, process: ProcessId, priority: Priority) -> bool {
        let level = usize::from(priority.level());
        let queue = &mut self.levels[level];
        let Some(position) = queue.iter().position(|&queued| queued == process) else {
            return false;
        };
        queue.remove(position);
        if queue.is_empty() {
            self.non_empty &= !(1 << level);
        }
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn process(index: u32) -> ProcessId {
        ProcessId { index, generation: 0 }
    }

    #[test]
    fn the_most_important_level_goes_first_and_each_level_is_fifo() {
        let mut queue = RunQueue::default();
        let low = Priority::new(1).unwrap();
        let high = Priority::new(9).unwrap();
        queue.push_back(process(0), low);
        queue.push_back(process(1), high);
        queue.push_back(process(2), high);
        queue.push_front(process(3), low);
        assert_eq!(queue.best_priority(), Some(high));
        let order: Vec<_> = std::iter::from_fn(|| queue.pop_best()).collect();
        assert_eq!(order, vec![process(1), process(2), process(3), process(0)]);
        assert_eq!(queue.best_priority(), None);
    }

    #[test]
    fn removing_the_last_of_a_level_clears_it() {
        let mut queue = RunQueue::default();
        let level = Priority::new(4).unwrap();
        queue.push_back(process(0), level);
        assert!(queue.remove(process(0), level));
        assert!(!queue.remove(process(0), level));
        assert_eq!(queue.best_priority(), None);
    }
}
