//! Shared helpers for mksim's workspace-level tests (see `tests/tests/`).
//!
//! ## Random workloads
//! A [`Workload`] is a whole system drawn at random: 2 to 6 processes with
//! priorities, an initial set of objects, capabilities granted to some
//! processes (some derived from others, with badges), optional fault
//! injections, and for every process a list of random [`Op`]s. Slot numbers
//! are drawn at random too, so many operations hit empty slots or objects of
//! the wrong kind: the kernel must answer those with errors, never panic.
//!
//! [`workload_strategy`] generates workloads (they shrink: every part is a
//! plain value, and references between parts are [`Index`](proptest::sample::Index)es that shrink
//! towards the first element). [`build`] turns one into a ready [`Kernel`](mksim_kernel::Kernel)
//! whose processes run [scripted programs](Op) that carry out their list
//! and record every result in a [`Journal`] instead of faulting on errors.
//! [`run`] runs it to its end, injecting the planned faults.
//!
//! Programs are random, not blind: most operands are [`SlotRef::Fitting`],
//! a slot the program believes holds a capability of the kind and rights the
//! operation needs (from what it was given, created, copied or received), so
//! messages do flow; the rest name any slot, a fixed number, or nothing.
//!
//! ## Revocation workloads
//! A [`RevokeWorkload`] is a smaller, focused system for checking revoke:
//! one root capability, chains of derived capabilities made at setup and at
//! run time (copy, mint, transfer in messages), and a revoke of the root.
//! See [`build_revoke`].
//!
//! Every run is bounded by [`STEP_LIMIT`].

#![forbid(unsafe_code)]
#![deny(missing_docs)]

pub mod fuzz;
mod interpreter;
pub mod programs;
mod revoke;
pub mod scenarios;
mod strategies;
pub mod supervision;
mod workload;

pub use interpreter::{Journal, JournalEntry, Run, build, build_with_journal, run, run_workload, value_fits};
pub use revoke::{
    DerivedPlan, RevokeOp, RevokeProcess, RevokeRun, RevokeWorkload, RootKind, RootRevokes, build_revoke,
    revoke_strategy,
};
pub use strategies::{Options, any_workload, op_strategy, workload_strategy};
pub use workload::{
    FaultPlan, GrantPlan, GrantSource, MessagePlan, ObjectPlan, Op, PortPlan, ProcessPlan, Settings, SlotRef,
    TransferPlan, Workload,
};

/// Steps after which every generated run is stopped, so every run ends.
pub const STEP_LIMIT: u64 = 20_000;

/// How many cases a property test runs: `default`, unless the `PROPTEST_CASES` environment
/// variable says otherwise (to run many more on a quiet machine).
pub fn proptest_cases(default: u32) -> u32 {
    std::env::var("PROPTEST_CASES").ok().and_then(|cases| cases.parse().ok()).unwrap_or(default)
}
