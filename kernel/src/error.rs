//! Errors a syscall returns, and the reasons a process can be faulted.
//!
//! A [`SysError`] is the caller's business: the process survives and decides
//! what to do. A [`FaultReason`] ends the process. Neither is ever a panic of
//! the simulator; a panic is a bug in mksim itself.

use serde::{Deserialize, Serialize};
use std::fmt;

/// What a syscall can answer instead of success. The process survives.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug, Serialize, Deserialize, thiserror::Error)]
pub enum SysError {
    /// The slot is empty or out of range.
    #[error("invalid capability")]
    InvalidCapability,
    /// The capability names an object of another kind than the call needs.
    #[error("wrong kind of object")]
    WrongObjectKind,
    /// The capability lacks a right the call needs.
    #[error("insufficient rights")]
    InsufficientRights,
    /// A non-blocking call found nothing to do at once.
    #[error("would block")]
    WouldBlock,
    /// A queue port whose policy is to fail is full.
    #[error("queue full")]
    QueueFull,
    /// The process or object on the other side is gone.
    #[error("peer dead")]
    PeerDead,
    /// The call's timeout expired first.
    #[error("timed out")]
    TimedOut,
    /// Blocking here would close a wait-for cycle (MINIX `ELOCKED`).
    #[error("deadlock")]
    Deadlock,
    /// The message carries more bytes or capabilities than the kernel allows.
    #[error("message too large")]
    MessageTooLarge,
    /// The process has used up its capability slots or its objects.
    #[error("quota exceeded")]
    QuotaExceeded,
    /// An argument is out of range (region bounds, re-badging, double binding).
    #[error("invalid argument")]
    InvalidArgument,
}

/// Why a process was stopped by the kernel.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug, Serialize, Deserialize)]
pub enum FaultReason {
    /// The program returned a syscall error it did not handle.
    UnhandledError(SysError),
    /// The program awaited something that is not a syscall, so it can never resume.
    NotASyscall,
    /// The program's own code panicked (a bug in the built-in program).
    Panicked,
    /// The program reported a failure of its own with this code.
    Failed(i32),
    /// Fault injected from outside the process.
    Injected,
    /// Killed through its process handle (a supervisor giving up on a hung server).
    Killed,
}

impl fmt::Display for FaultReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            FaultReason::UnhandledError(error) => write!(f, "unhandled error: {error}"),
            FaultReason::NotASyscall => write!(f, "awaited something that is not a syscall"),
            FaultReason::Panicked => write!(f, "program panicked"),
            FaultReason::Failed(code) => write!(f, "failed with code {code}"),
            FaultReason::Injected => write!(f, "fault injected"),
            FaultReason::Killed => write!(f, "killed"),
        }
    }
}

/// How a program ends badly: an unhandled syscall error, or a failure of its own.
#[derive(Clone, PartialEq, Eq, Debug)]
pub enum ProgramFault {
    /// A syscall error propagated with `?`.
    Error(SysError),
    /// The program gave up with this code and explanation.
    Failed {
        /// Code recorded in the fault reason.
        code: i32,
        /// Human-readable explanation, kept with the process.
        detail: String,
    },
    /// A fault injected into the program (a server told to crash), with an explanation.
    Injected(String),
}

impl From<SysError> for ProgramFault {
    fn from(error: SysError) -> Self {
        ProgramFault::Error(error)
    }
}

impl ProgramFault {
    /// A failure with a code and an explanation.
    pub fn failed(code: i32, detail: impl Into<String>) -> Self {
        ProgramFault::Failed { code, detail: detail.into() }
    }

    /// The fault reason the kernel records.
    pub fn reason(&self) -> FaultReason {
        match self {
            ProgramFault::Error(error) => FaultReason::UnhandledError(*error),
            ProgramFault::Failed { code, .. } => FaultReason::Failed(*code),
            ProgramFault::Injected(_) => FaultReason::Injected,
        }
    }
}

/// What a program's future returns: its exit code, or the fault that ends it.
pub type ProgramResult = Result<i32, ProgramFault>;
