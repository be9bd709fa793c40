//! # mksim: the terminal UI and the bench of the simulator
//!
//! The terminal UI ([`ui`]) and `mksim bench` ([`bench`]), the two parts of the `mksim`
//! binary that are more than a command line. Everything headless (scenario files, running,
//! checking, grading, campaigns, sweeps, calibration, exports, reports) is the `mksim-core` crate,
//! whose modules are re-exported here under the names they have always had (`mksim::run`,
//! `mksim::scenario`, ...), so the binary and the UI read as before. The binary in `main.rs`
//! is a thin layer over both.

#![forbid(unsafe_code)]
#![deny(missing_docs)]

pub mod bench;
pub mod ui;

pub use mksim_core::{builtin, calibrate, campaign, check, export, grading, profiles, report, run, scenario, sweep};
