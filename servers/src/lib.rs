//! # mksim-servers: user-space servers
//!
//! The name, file, device and supervisor servers of the simulated system.
//! They are ordinary programs written against `mksim-userland`, talking only
//! through messages; their service logic is plain Rust so that monolithic
//! mode can link it into the kernel and call it directly.
//!
//! This crate is still empty: the servers arrive with the scenario format.

#![deny(missing_docs)]
