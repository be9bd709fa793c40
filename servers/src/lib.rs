//! # mksim-servers: user-space servers
//!
//! The name, file, console, block device, timer and pipe servers of the
//! simulated system.
//! Each is an ordinary program written against `mksim-userland`, talking only
//! through messages. Their service logic ([`filesystem::FileSystem`],
//! [`name::Registry`], [`block::Ramdisk`], [`pipe::Pipes`], console capture) is plain Rust, so
//! monolithic mode links the same logic into the kernel and calls it directly.
//! [`service::Service`] is the one table of the services' names and defaults.
//!
//! Servers never panic on client input: a request that does not decode, or
//! comes with the wrong capabilities, gets an error reply.

#![forbid(unsafe_code)]
#![deny(missing_docs)]

pub mod block;
pub mod block_server;
pub mod console;
pub mod fault;
pub mod file_server;
pub mod filesystem;
pub mod monolithic;
pub mod mqueue;
mod mqueue_in_kernel;
pub mod mqueue_server;
pub mod name;
pub mod needs;
pub mod pipe;
pub mod pipe_server;
pub mod serve;
pub mod service;
pub mod socket;
pub mod socket_server;
pub mod supervisor;
pub mod system;
pub mod timer;

#[cfg(test)]
mod tests;
