//! Where to land when `m` switches to the other mode's run: at the same operation of the
//! same process, counted by occurrence (editor's third `fs.read` in one run is editor's third
//! `fs.read` in the other). Monolithic mode has fewer messages (its services are calls into
//! the kernel, and a server's own requests such as `block.read` do not exist there), so when
//! the current row is one the other run lacks, the nearest earlier row that both runs share
//! decides.

use super::breakpoints::operation_of;
use super::timeline::Timeline;
use mksim_kernel::event::EventKind;

/// A request in a run, as both modes would name it.
#[derive(Clone, PartialEq, Eq, Debug)]
pub struct Occurrence {
    /// The process that asked.
    pub process: String,
    /// What it asked for.
    pub operation: String,
    /// How many times it asked for it before (0: this is the first).
    pub earlier: usize,
}

/// The process and operation of the request event `index` of `timeline` makes, if it makes one.
fn request_at(timeline: &Timeline, index: usize) -> Option<(String, String)> {
    let log = &timeline.log;
    let event = log.events().get(index)?;
    let (EventKind::MessageSent { message } | EventKind::ServiceCalled { message }) = event.kind else {
        return None;
    };
    let operation = operation_of(log, message)?;
    Some((log.process_name(event.process).to_owned(), operation))
}

/// The requests in `timeline` at or before `step`, latest first, each with its occurrence.
fn requests_up_to(timeline: &Timeline, step: usize) -> Vec<(usize, Occurrence)> {
    let mut seen: std::collections::BTreeMap<(String, String), usize> = std::collections::BTreeMap::new();
    let mut found = Vec::new();
    for row in timeline.rows.iter().take_while(|row| row.event as usize <= step) {
        let Some((process, operation)) = request_at(timeline, row.event as usize) else { continue };
        let count = seen.entry((process.clone(), operation.clone())).or_default();
        found.push((row.event as usize, Occurrence { process, operation, earlier: *count }));
        *count += 1;
    }
    found.reverse();
    found
}

/// The event of `timeline` that makes `occurrence`, if it has one.
fn find(timeline: &Timeline, occurrence: &Occurrence) -> Option<usize> {
    timeline
        .rows
        .iter()
        .filter_map(|row| {
            let (process, operation) = request_at(timeline, row.event as usize)?;
            (process == occurrence.process && operation == occurrence.operation).then_some(row.event as usize)
        })
        .nth(occurrence.earlier)
}

/// The step of `target` matching step `step` of `source`: the latest request at or before
/// `step` that `target` makes too, with that request; `None` when they share none.
pub fn matching_step(source: &Timeline, step: usize, target: &Timeline) -> Option<(usize, Occurrence)> {
    requests_up_to(source, step)
        .into_iter()
        .find_map(|(_, occurrence)| find(target, &occurrence).map(|found| (found, occurrence)))
}

/// `n` as an ordinal for a notice: 1st, 2nd, 3rd, 4th, 11th, 21st.
pub fn ordinal(n: usize) -> String {
    let suffix = match (n % 10, n % 100) {
        (_, 11..=13) => "th",
        (1, _) => "st",
        (2, _) => "nd",
        (3, _) => "rd",
        _ => "th",
    };
    format!("{n}{suffix}")
}
