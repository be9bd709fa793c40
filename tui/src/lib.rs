//! # mksim: the command line and terminal UI of the simulator
//!
//! Scenario files, running them in either mode, comparing and checking
//! them, sweeping their parameters, and exporting their event logs; measuring
//! this machine as a cost profile and listing profiles side by side. The binary
//! in `main.rs` is a thin
//! layer over this library, which the workspace tests use directly.

#![forbid(unsafe_code)]
#![deny(missing_docs)]

pub mod bench;
pub mod calibrate;
pub mod campaign;
pub mod check;
pub mod export;
pub mod profiles;
pub mod report;
pub mod run;
pub mod scenario;
pub mod sweep;
pub mod ui;
