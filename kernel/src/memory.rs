//! The run's bounds: the step limit and the memory budget.
//!
//! The memory budget ([`crate::KernelConfig::memory_limit_bytes`]) counts what
//! grows with a run inside the kernel: the event log with its message data,
//! live memory regions, and the data of messages in flight (see
//! [`MemoryReport`]). Counting must not slow the hot path, so it is cheap
//! where things are small and exact where they are large:
//!
//! - The log grows by a few events a step. Its size is looked at every
//!   [`MEMORY_CHECK_STEPS`] steps, at the same comparison that checks the step
//!   limit (`step` compares the step count with one threshold, the nearer of
//!   the two), so a step costs what it cost before.
//! - A region, and a message larger than [`LARGE_MESSAGE_BYTES`], is checked
//!   before it is made: one region or message could pass any budget at once.
//!   Such a message counts twice, as it may be held twice (in the log, and in
//!   flight until it is received). Larger messages leave the IPC fast path for
//!   the general one, which checks them.
//! - Regions and messages in flight are counted as they come and go, off the
//!   fast path (which neither makes regions nor leaves messages in flight).
//!
//! A run stops within one check's growth of its budget: at most
//! [`MEMORY_CHECK_STEPS`] steps of events and messages no larger than
//! [`LARGE_MESSAGE_BYTES`], a few MiB at worst.
//!
//! When a run would pass its budget it ends with [`Outcome::MemoryLimit`] and
//! a report of what it held, before the allocation that would have passed it.

use crate::dispatch::Next;
use crate::kernel::Kernel;
use crate::outcome::{MemoryReport, Outcome};

/// Steps between two looks at the memory the run holds.
pub(crate) const MEMORY_CHECK_STEPS: u64 = 1024;

/// Messages larger than this are checked against the memory budget before they are made.
pub(crate) const LARGE_MESSAGE_BYTES: usize = 4096;

impl Kernel {
    /// Checks the step limit and the memory budget, when the step count reaches the threshold
    /// `step` compares it with; sets the next threshold. Returns false when the run ended.
    #[cold]
    #[inline(never)]
    pub(crate) fn check_bounds(&mut self) -> bool {
        if self.steps >= self.config.step_limit {
            self.end(Outcome::StepLimit { limit: self.config.step_limit });
            return false;
        }
        if let Some(report) = self.memory_passed(self.refused_at_setup) {
            self.end(Outcome::MemoryLimit(report));
            return false;
        }
        self.check_at_step = self.config.step_limit.min(self.steps.saturating_add(MEMORY_CHECK_STEPS));
        true
    }

    /// What the run holds, with `refused_bytes` more asked for.
    pub(crate) fn memory_report(&self, refused_bytes: u64) -> MemoryReport {
        MemoryReport {
            limit_bytes: self.config.memory_limit_bytes,
            log_bytes: self.log.held_bytes() as u64,
            region_bytes: self.region_bytes,
            message_bytes: self.in_flight_bytes,
            refused_bytes,
        }
    }

    /// The report, when holding `more_bytes` more would pass the budget.
    pub(crate) fn memory_passed(&self, more_bytes: u64) -> Option<MemoryReport> {
        let report = self.memory_report(more_bytes);
        (report.total_bytes() > self.config.memory_limit_bytes).then_some(report)
    }

    /// Ends the run when `bytes` more (a region, or a message larger than
    /// [`LARGE_MESSAGE_BYTES`]) would pass the budget; the syscall asking for them ends with it.
    pub(crate) fn refuse_over_budget(&mut self, bytes: usize) -> Option<Next> {
        let report = self.memory_passed(bytes as u64)?;
        self.end(Outcome::MemoryLimit(report));
        Some(Next::Ended)
    }

    /// Makes room for a region of `size` bytes made at setup: within the budget, its bytes;
    /// past it, none, and the run stops before its first step.
    pub(crate) fn setup_region_bytes(&mut self, size: u32) -> Vec<u8> {
        if self.memory_passed(self.refused_at_setup.saturating_add(u64::from(size))).is_some() {
            self.refused_at_setup = self.refused_at_setup.saturating_add(u64::from(size));
            self.check_at_step = 0;
            return Vec::new();
        }
        vec![0; size as usize]
    }

    /// Counts `bytes` of message data the kernel now holds in flight.
    pub(crate) fn hold_in_flight(&mut self, bytes: usize) {
        self.in_flight_bytes += bytes as u64;
    }

    /// Counts `bytes` of message data in flight the kernel no longer holds.
    pub(crate) fn release_in_flight(&mut self, bytes: usize) {
        self.in_flight_bytes =
            self.in_flight_bytes.checked_sub(bytes as u64).expect("kernel bug: in-flight bytes below 0");
    }

    /// Takes the message a blocked sender holds, no longer counted in flight.
    pub(crate) fn take_outgoing(&mut self, sender: crate::ids::ProcessId) -> Option<crate::process::Outgoing> {
        let outgoing = self.process_mut(sender).outgoing.take()?;
        self.release_in_flight(outgoing.envelope.data.len());
        Some(outgoing)
    }

    /// The data of messages in flight, counted afresh: what `in_flight_bytes` must equal.
    pub(crate) fn count_in_flight_bytes(&self) -> u64 {
        let queued: usize = self
            .objects
            .iter()
            .filter_map(|object| match &object.body {
                crate::object::ObjectBody::Queue(queue) => {
                    Some(queue.messages.iter().map(|envelope| envelope.data.len()).sum::<usize>())
                }
                _ => None,
            })
            .sum();
        let waiting: usize = self
            .processes
            .iter()
            .filter_map(|process| process.outgoing.as_ref().map(|outgoing| outgoing.envelope.data.len()))
            .sum();
        (queued + waiting) as u64
    }
}
