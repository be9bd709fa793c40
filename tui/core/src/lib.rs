//! # mksim-core: the simulator without a terminal
//!
//! Everything mksim does with a scenario short of showing it: the scenario format and its
//! validation ([`scenario`]), running a scenario in either mode ([`run`]), checking what a
//! scenario expects of its runs ([`check`]), fault campaigns ([`campaign`]), parameter sweeps
//! ([`sweep`]), measuring this machine as a cost profile ([`calibrate`]), cost profiles side by
//! side ([`profiles`]), exports of the event log and the hash of a run's trace ([`export`]),
//! the reports, in JSON and in words ([`report`]), and grading students' programs against a
//! locked exercise, with its report and gradebook ([`grading`]). A grader, a notebook or another front end
//! needs this crate and the three below it (kernel, servers, userland), nothing else; the
//! `mksim` binary in `tui/` is a command line and a terminal UI on top of it.
//!
//! ## Invariants
//! 1. **Deterministic.** The same scenario, seed and options give the same run, the same
//!    report and the same bytes of every export and every report, whatever the host and its
//!    number of threads: campaigns run seeds in parallel and sum them in seed order; every map
//!    whose order can show is ordered.
//! 2. **No terminal.** Nothing here reads keys or writes to standard output: every report is a
//!    `String` or a [`serde_json::Value`] for the caller to print. Text reports show every
//!    string that comes from a scenario through [`mksim_kernel::escape_controls`], so what the
//!    caller prints is safe on a terminal; JSON keeps it exact.
//! 3. **No host clock, except calibration.** Time is the kernel's virtual cycles. Only
//!    [`calibrate`] reads the host's clock (and /proc/cpuinfo, and starts a peer process),
//!    because timing this machine is what it is for; nothing it measures feeds a run unless
//!    the caller passes the profile it builds.
//! 4. **Validated once.** A [`scenario::Scenario`] exists only validated: from RON text
//!    ([`scenario::Scenario::parse`]) or from raw values built in code
//!    ([`scenario::Scenario::try_from`] a [`scenario::RawScenario`]), both through one
//!    validator. Bad input is an error value that names the file, line, column and the item at
//!    fault ([`scenario::ScenarioError`]), never a panic.
//!
//! ## What it must not know
//! The terminal (no ratatui, no crossterm), the command line (no clap, no flag names, no exit
//! statuses, no `anyhow`) and the `mksim` binary: calibration runs whichever peer command its
//! caller gives ([`calibrate::Peer`]), and never finds or names the binary itself.
//! `cargo tree -p mksim-core` lists none of them.
//!
//! ## Where things are, and why
//! - **Reports, text and JSON, are both here.** The text reports ([`report::summary`],
//!   [`report::message_trace`], [`report::comparison`], and the `describe` of sweeps,
//!   campaigns and calibration) are plain strings built with `std::fmt::Write`, with no
//!   terminal dependency, from the same figures and helpers as their JSON twins. Split across
//!   two crates, one set of facts would have two homes, and every other front end would have to
//!   write the words again. What `tui/` keeps of "text printing" is the printing: which report
//!   a command's flags ask for, writing it out, and the exit status.
//! - **The ops' schema stays in `mksim-userland`** (`userland/src/script.rs`), re-exported here
//!   as [`scenario::Op`], [`scenario::Pass`] and [`scenario::Policy`]. The ops and their
//!   interpreter belong together, and the interpreter runs inside the simulated programs,
//!   beside the client stubs and protocols it calls; this crate depends on userland, so moving
//!   the ops here would make userland depend on its own dependent. The rest of the format
//!   (kernel, servers, objects, processes, faults, expectations) is this crate's.
//! - **A scenario can be built in code.** The raw types ([`scenario::RawScenario`] and what it
//!   holds) are public with the schema the RON files are read with (`deny_unknown_fields`
//!   kept), and `Scenario::try_from(raw)` checks them exactly as a file is checked. A scenario
//!   built in code has no file: its errors have an empty `file`, line and column 0, and name
//!   the item at fault.
//!
//! ## Dependencies beyond the simulator
//! `ron` and `serde` (the format), `serde_json` (the JSON reports), `strsim` ("did you mean"),
//! `blake3` (the trace hash), `csv` (the gradebook), `rand_chacha` (campaign seeds), `crossbeam-channel`
//! (calibration times a hand-off between threads over it, the channel `mksim bench` compares
//! with) and, on Linux, `libc` (files are opened with `O_NONBLOCK`, so a named pipe named as a
//! scenario is refused rather than waited on), and `plotters` with its SVG backend only (the
//! pictures of [`export::svg`]: axes, log scales and legends drawn by a maintained crate).

#![forbid(unsafe_code)]
#![deny(missing_docs)]

pub mod builtin;
pub mod calibrate;
pub mod campaign;
pub mod check;
pub mod export;
pub mod grading;
pub mod profiles;
pub mod report;
pub mod run;
pub mod scenario;
pub mod sweep;
