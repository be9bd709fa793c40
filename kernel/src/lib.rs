//! # mksim-kernel: a deterministic simulated microkernel
//!
//! The kernel of mksim: processes reach synchronous endpoints, asynchronous
//! queue ports, notifications, reply capabilities and memory regions only
//! through capabilities held in per-process slot tables. Every simulated
//! process is a Rust `Future`, and the kernel is its only executor: a process
//! runs until its next syscall ([`Sys`]), and the kernel decides whom to poll
//! next (priority, then FIFO, with ties at boot broken by process id).
//!
//! ## Invariants
//! 1. **Deterministic.** No host clock, no threads, no unordered iteration,
//!    one seeded random stream. The same setup and seed give the same
//!    [`EventLog`], event for event.
//! 2. **No authority from nothing.** A process acts only through capabilities
//!    it was granted at setup or received in a message; rights only shrink.
//! 3. **Errors are values.** A misbehaving program gets a [`SysError`] or is
//!    faulted; the kernel keeps running. A kernel panic is a bug in mksim and
//!    says "kernel bug".
//! 4. **Every message is accounted for.** Once sent it is delivered exactly
//!    once or dropped with a recorded [`event::DropReason`]; a sender that
//!    waited learns why.
//! 5. **Bounded.** Step limit per run (script operations that make no
//!    syscall take steps too), a memory budget per run ([`MemoryReport`]),
//!    capability and object quotas per process, message and region size
//!    limits ([`Limits`]).
//!
//! ## Left out on purpose
//! No I/O and no terminal: views read the event log. No servers: those are
//! user programs in the `mksim-servers` crate. Time is simulated cycles
//! charged by a [`CostProfile`], never read from the host.

#![forbid(unsafe_code)]
#![deny(missing_docs)]

mod arena;
mod authority;
pub mod boot;
pub mod capability;
mod channels;
pub mod config;
pub mod cost;
mod deadlock;
pub mod disconnect;
mod dispatch;
pub mod error;
pub mod event;
mod fastpath;
pub mod fault;
pub mod ids;
mod inheritance;
mod inspect;
mod ipc;
mod kernel;
mod lifecycle;
mod memory;
pub mod message;
pub mod metrics;
mod notify;
pub mod object;
pub mod outcome;
pub mod process;
pub mod replay;
mod restart;
mod run;
mod scheduler;
pub mod seed;
pub mod service_state;
mod setup;
pub mod sys;
pub mod syscall;
pub mod text;
mod time;
mod trace;
mod transfer;

pub use boot::BootDone;
pub use capability::{Capability, Rights};
pub use config::{DeadlockPolicy, KernelConfig, Limits, MEMORY_LIMIT_BYTES_DEFAULT};
pub use cost::{CostProfile, ProfileError};
pub use disconnect::DISCONNECTED;
pub use error::{FaultReason, ProgramFault, ProgramResult, SysError};
pub use event::{Event, EventKind, EventLog, OutcomeKind};
pub use fastpath::FastIpcHits;
pub use fault::InjectedFault;
pub use ids::{Badge, ObjectId, Priority, ProcessId, Slot};
pub use kernel::Kernel;
pub use message::{Incoming, IntoMessageData, MESSAGE_DATA_INLINE, Message, MessageData, MessageKind, Received};
pub use metrics::Counters;
pub use object::{FullPolicy, ObjectKind};
pub use outcome::{DeadlockReport, LostWork, MemoryReport, Outcome, PanicReport};
pub use process::{Process, ProcessState};
pub use restart::Restarter;
pub use setup::ProcessSpec;
pub use sys::Sys;
pub use syscall::{Blocking, Syscall, SyscallKind};
pub use text::{escape_controls, escape_controls_by_line};
