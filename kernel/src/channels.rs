//! Waking the processes that wait in the kernel on a service module's channel (monolithic
//! mode), in the order they began to wait.
//!
//! A server answers the requests waiting on a channel one after another, oldest first, in
//! the turn of the request that woke them: the first may take the room the second waited
//! for. Inside the kernel each waiter tries its operation again in its own context, when the
//! scheduler runs it, so waking them all at once would let the most important go first,
//! whatever the order they waited in. So a wake-up makes only the longest-waiting process
//! ready; the others wait their turn, and each gets it once the one before has tried again
//! (its next service call, or its end). Whoever the first leaves room for goes on next, as
//! the server would have answered it next.

use crate::ids::ProcessId;
use crate::kernel::Kernel;
use crate::process::ProcessState;
use crate::syscall::{SyscallValue, WaitChannel};
use std::collections::VecDeque;

impl Kernel {
    /// Wakes the processes waiting on `channel`, oldest first, each in its turn: each returns
    /// from its service call and carries its operation out again.
    pub(crate) fn wake_channel(&mut self, channel: WaitChannel) {
        let Some(waiting) = self.wait_channels.remove(&channel) else { return };
        self.give_turn(waiting);
    }

    /// `id` has tried its operation again (or ended): the next process woken with it, if
    /// any, goes on.
    pub(crate) fn pass_turn(&mut self, id: ProcessId) {
        if let Some(next) = self.turns.remove(&id) {
            self.give_turn(next);
        }
    }

    /// Wakes the first of `line` that still waits in the kernel; the rest wait for it.
    fn give_turn(&mut self, mut line: VecDeque<ProcessId>) {
        while let Some(first) = line.pop_front() {
            // One killed while it waited for its turn has left the line.
            let waits = self.is_alive(first) && matches!(self.process(first).state, ProcessState::KernelWaiting { .. });
            if !waits {
                continue;
            }
            self.wake(first, Ok(SyscallValue::Unit));
            if !line.is_empty() {
                self.turns.entry(first).or_default().append(&mut line);
            }
            return;
        }
    }
}
