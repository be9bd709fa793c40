//! Breakpoints: what stops a running replay, how the prompt's text becomes one, and which
//! names a breakpoint may use. A breakpoint that names no process or operation of either run
//! could never stop anything, so it is refused with the names there are, not kept silently.

use super::timeline::Timeline;
use mksim_kernel::event::{EventKind, EventLog};
use mksim_kernel::message::{MessageId, MessageKind};
use std::collections::BTreeSet;

/// What stops a running replay.
#[derive(Clone, PartialEq, Eq, Debug)]
pub enum Breakpoint {
    /// A request whose operation is exactly this (`fs.read`), or starts with it when the
    /// text ends in `*` (`fs.read*` also stops at `fs.readdir`).
    Label(String),
    /// A message goes to the process with this name.
    To(String),
    /// The process with this name blocks.
    Blocks(String),
    /// Any process is faulted.
    Fault,
}

/// The names breakpoints may use: every process and every operation requested in either run.
#[derive(Clone, Default, Debug)]
pub struct Vocabulary {
    /// Process names.
    pub processes: BTreeSet<String>,
    /// Operation names (`fs.read`; a label no protocol knows is its number).
    pub operations: BTreeSet<String>,
}

/// The operation a request asks for (`fs.read`), or its label's number when no protocol
/// knows it; `None` for a reply, which answers an operation rather than asking for one.
pub fn operation_of(log: &EventLog, message: MessageId) -> Option<String> {
    let record = log.message(message);
    if record.kind == MessageKind::Reply {
        return None;
    }
    // The log names a label no protocol knows `operation N`; a breakpoint writes it `N`.
    let name = log.operation_name(record.label);
    Some(match name.strip_prefix("operation ") {
        Some(number) if number == record.label.to_string() => number.to_owned(),
        _ => name,
    })
}

impl Vocabulary {
    /// The names in `timelines`' logs.
    pub fn of<'a>(timelines: impl IntoIterator<Item = &'a Timeline>) -> Vocabulary {
        let mut vocabulary = Vocabulary::default();
        for timeline in timelines {
            let log = &timeline.log;
            for event in log.events() {
                match event.kind {
                    EventKind::Spawned { .. } => {
                        vocabulary.processes.insert(log.process_name(event.process).to_owned());
                    }
                    EventKind::MessageSent { message } | EventKind::ServiceCalled { message } => {
                        vocabulary.operations.extend(operation_of(log, message));
                    }
                    _ => {}
                }
            }
        }
        vocabulary
    }
}

/// `names` as a short list for a notice: the first few, and how many more.
fn listing(names: &BTreeSet<String>) -> String {
    const SHOWN: usize = 6;
    let mut shown: Vec<String> =
        names.iter().take(SHOWN).map(|name| mksim_kernel::escape_controls(name).into_owned()).collect();
    if names.len() > SHOWN {
        shown.push(format!("… {} more", names.len() - SHOWN));
    }
    if shown.is_empty() { "none".to_owned() } else { shown.join(", ") }
}

const USAGE: &str = "breakpoints: label OPERATION (fs.read* for a prefix), to NAME, block NAME, fault";

impl Breakpoint {
    /// Parses `label OPERATION`, `label PREFIX*`, `to NAME`, `block NAME` or `fault`, and
    /// checks each name against `known`.
    ///
    /// # Errors
    /// The notice to show: how breakpoints are written, or which name is unknown and which
    /// names there are.
    pub fn parse(text: &str, known: &Vocabulary) -> Result<Breakpoint, String> {
        let text = text.trim();
        let (word, rest) = text.split_once(' ').map_or((text, ""), |(word, rest)| (word, rest.trim()));
        let breakpoint = match (word, rest.is_empty()) {
            ("label", false) => Breakpoint::Label(rest.to_owned()),
            ("to", false) => Breakpoint::To(rest.to_owned()),
            ("block", false) => Breakpoint::Blocks(rest.to_owned()),
            ("fault", true) => Breakpoint::Fault,
            _ => return Err(USAGE.to_owned()),
        };
        match &breakpoint {
            Breakpoint::Label(text) => {
                let matches = known.operations.iter().any(|operation| label_matches(text, operation));
                if !matches {
                    let shown = mksim_kernel::escape_controls(text);
                    return Err(format!(
                        "no operation {shown} in either run; operations: {}",
                        listing(&known.operations)
                    ));
                }
            }
            Breakpoint::To(name) | Breakpoint::Blocks(name) if !known.processes.contains(name) => {
                let shown = mksim_kernel::escape_controls(name);
                return Err(format!("no process named {shown}; processes: {}", listing(&known.processes)));
            }
            _ => {}
        }
        Ok(breakpoint)
    }

    /// How it reads in the help, the list and the status line.
    pub fn describe(&self) -> String {
        match self {
            Breakpoint::Label(text) => format!("label {text}"),
            Breakpoint::To(name) => format!("to {name}"),
            Breakpoint::Blocks(name) => format!("block {name}"),
            Breakpoint::Fault => "fault".to_owned(),
        }
    }

    /// Whether event `step` of `timeline` stops at this breakpoint.
    pub fn hits(&self, timeline: &Timeline, step: usize) -> bool {
        let log = &timeline.log;
        let Some(event) = log.events().get(step) else { return false };
        match (self, event.kind) {
            (Breakpoint::Label(text), EventKind::MessageSent { message } | EventKind::ServiceCalled { message }) => {
                operation_of(log, message).is_some_and(|operation| label_matches(text, &operation))
            }
            (Breakpoint::To(name), EventKind::MessageSent { message }) => {
                log.receiver_of(message).is_some_and(|receiver| log.process_name(receiver) == name)
            }
            (Breakpoint::Blocks(name), EventKind::Blocked { .. }) => log.process_name(event.process) == name,
            (
                Breakpoint::Fault,
                EventKind::Faulted { .. } | EventKind::FaultInjected { .. } | EventKind::KernelPanicked { .. },
            ) => true,
            _ => false,
        }
    }
}

/// `fs.read` matches only `fs.read`; `fs.read*` matches every operation that starts with `fs.read`.
fn label_matches(pattern: &str, operation: &str) -> bool {
    match pattern.strip_suffix('*') {
        Some(prefix) => operation.starts_with(prefix),
        None => operation == pattern,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn known() -> Vocabulary {
        Vocabulary {
            processes: ["editor", "fs"].map(String::from).into(),
            operations: ["fs.read", "fs.readdir"].map(String::from).into(),
        }
    }

    #[test]
    fn a_label_matches_exactly_unless_it_ends_in_a_star() {
        assert!(label_matches("fs.read", "fs.read"));
        assert!(!label_matches("fs.read", "fs.readdir"));
        assert!(label_matches("fs.read*", "fs.readdir"));
    }

    #[test]
    fn unknown_names_are_refused_with_the_names_there_are() {
        let error = Breakpoint::parse("to nobody", &known()).unwrap_err();
        assert!(error.contains("no process named nobody") && error.contains("editor, fs"), "{error}");
        let error = Breakpoint::parse("label fs.rd", &known()).unwrap_err();
        assert!(error.contains("no operation fs.rd") && error.contains("fs.read, fs.readdir"), "{error}");
        assert_eq!(Breakpoint::parse("block fs", &known()), Ok(Breakpoint::Blocks("fs".into())));
        assert_eq!(Breakpoint::parse("label fs.r*", &known()), Ok(Breakpoint::Label("fs.r*".into())));
        assert!(Breakpoint::parse("fault now", &known()).is_err());
    }
}
