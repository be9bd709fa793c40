//! The SVG pictures of `mksim compare --svg FILE`, `mksim sweep --svg FILE` and
//! `mksim export --format svg|timeline-svg`:
//! which picture a command asks for, and where it goes. The drawing is `mksim-core`'s
//! (`export::svg`).

use mksim::export::svg;
use mksim::run::RunReport;
use mksim_servers::system::Mode;
use mksim_servers::system::Mode::{Microkernel, Monolithic};
use std::path::Path;

/// Writes `micro` and `mono` compared per operation to `path`.
///
/// # Errors
/// The message to show when the picture cannot be drawn or written.
pub fn write_comparison(path: &Path, micro: &RunReport, mono: &RunReport, scenario: &str) -> Result<(), String> {
    let picture = svg::comparison(micro, mono, scenario).map_err(|error| error.to_string())?;
    write(path, &picture)
}

/// Who runs when in `report`'s run, written to `path`, or returned to print when there is none.
///
/// # Errors
/// The message to show when the picture cannot be drawn or written.
pub fn timeline(path: Option<&Path>, report: &RunReport, scenario: &str, mode: Mode) -> Result<Option<String>, String> {
    let picture = svg::timeline(&report.log, scenario, mode).map_err(|error| format!("timeline-svg: {error}"))?;
    match path {
        Some(path) => write(path, &picture).map(|()| None),
        None => Ok(Some(picture)),
    }
}

/// Writes a sweep's lines, one per profile, to `path`.
///
/// # Errors
/// The message to show when the picture cannot be drawn or written.
pub fn write_sweep(path: &Path, sweep: &mksim::sweep::Sweep) -> Result<(), String> {
    let picture = svg::sweep(sweep).map_err(|error| error.to_string())?;
    write(path, &picture)
}

/// The flags of the sequence diagram (`export --format svg`).
#[derive(clap::Args, Debug)]
pub struct SequenceFlags {
    /// With --format svg: draw from this event on (its position in the log, JSON Lines' `seq`).
    #[arg(long, value_name = "STEP")]
    from: Option<usize>,
    /// With --format svg: draw up to this event.
    #[arg(long, value_name = "STEP")]
    to: Option<usize>,
    /// With --format svg: only what this process sends, receives or suffers.
    #[arg(long, value_name = "NAME")]
    filter: Option<String>,
    /// With --format svg: both modes next to each other, --mode's first.
    #[arg(long)]
    pub side_by_side: bool,
}

impl SequenceFlags {
    /// Refuses the flags for a format that does not draw a sequence diagram.
    ///
    /// # Errors
    /// The message to show when a flag is given for another format.
    pub fn only_for(&self, sequence_diagram: bool) -> Result<(), String> {
        let given = self.from.is_some() || self.to.is_some() || self.filter.is_some() || self.side_by_side;
        if given && !sequence_diagram {
            return Err("--from, --to, --filter and --side-by-side go with --format svg only".to_owned());
        }
        if let (Some(from), Some(to)) = (self.from, self.to)
            && from > to
        {
            return Err(format!("--from {from} comes after --to {to}"));
        }
        Ok(())
    }
}

/// The other mode, drawn beside `mode` by `--side-by-side`.
pub fn other_mode(mode: Mode) -> Mode {
    match mode {
        Microkernel => Monolithic,
        Monolithic => Microkernel,
    }
}

/// The sequence diagram of `runs` (one run, or two side by side), written to `path` or returned
/// to print when there is none.
///
/// # Errors
/// The message to show when the picture cannot be drawn or written.
pub fn sequence(
    path: Option<&Path>,
    runs: (&RunReport, Option<&RunReport>),
    scenario: &str,
    flags: &SequenceFlags,
) -> Result<Option<String>, String> {
    let window = svg::Window { from: flags.from, to: flags.to, process: flags.filter.clone() };
    let picture = svg::sequence(runs.0, runs.1, scenario, &window).map_err(|error| format!("svg: {error}"))?;
    match path {
        Some(path) => write(path, &picture).map(|()| None),
        None => Ok(Some(picture)),
    }
}

fn write(path: &Path, picture: &str) -> Result<(), String> {
    std::fs::write(path, picture).map_err(|error| format!("cannot write {}: {error}", path.display()))
}
