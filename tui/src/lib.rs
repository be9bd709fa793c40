//! # mksim: the command line and terminal UI of the simulator
//!
//! Scenario files, running them in either mode, comparing and checking
//! them, sweeping their parameters, and exporting their event logs. The binary in `main.rs` is a thin
//! layer over this library, which the workspace tests use directly.

#![forbid(unsafe_code)]
#![deny(missing_docs)]

pub mod bench;
pub mod campaign;
pub mod check;
pub mod export;
pub mod report;
pub mod run;
pub mod scenario;
pub mod sweep;
pub mod ui;
