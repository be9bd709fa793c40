//! # mksim-userland: what simulated programs are written against
//!
//! Re-exports the kernel's syscall handle ([`Sys`]) and message types, and
//! holds the typed protocols of the system services ([`protocol`],
//! [`pipe_protocol`]), the client stubs programs call in either mode
//! ([`client`]), the interpreter
//! for scripted programs in scenario files ([`script`], [`interpreter`]),
//! and a small ping-pong system written directly in Rust ([`demo`]).
//!
//! Programs are `async` blocks: each `.await` on a [`Sys`] method is one
//! syscall, after which the kernel decides who runs next.

#![forbid(unsafe_code)]
#![deny(missing_docs)]

pub mod client;
pub mod demo;
pub mod interpreter;
pub mod lang;
mod mq_protocol;
pub mod pipe_protocol;
pub mod protocol;
pub mod ready;
pub mod script;
pub mod service_state;
pub mod socket_protocol;
mod steps;

pub use mksim_kernel::{Badge, Incoming, Message, ProgramFault, ProgramResult, Received, Rights, Slot, Sys, SysError};
