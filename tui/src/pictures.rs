//! The SVG pictures of `mksim compare --svg FILE`, `mksim sweep --svg FILE` and
//! `mksim export --format timeline-svg`:
//! which picture a command asks for, and where it goes. The drawing is `mksim-core`'s
//! (`export::svg`).

use mksim::export::svg;
use mksim::run::RunReport;
use mksim_servers::system::Mode;
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

fn write(path: &Path, picture: &str) -> Result<(), String> {
    std::fs::write(path, picture).map_err(|error| format!("cannot write {}: {error}", path.display()))
}
