//! Exports of the event log: JSON Lines, Chrome trace events, Mermaid, text.
//!
//! Every export reads only an [`EventLog`], so a run can be exported long after
//! the kernel that produced it is gone, and the same log always gives the same
//! bytes: JSON objects are written field by field in a fixed order (never
//! through a map whose order would depend on serde_json's features), and
//! processes, participants and slices come out in log or index order.
//!
//! Message contents are put into words by the log's describer (userland's
//! protocol describer on systems booted by `mksim_servers::system::boot`);
//! without one a message reads `label N`.
//!
//! ## Formats
//! - **JSON Lines** ([`Format::Jsonl`]): a header line first (`format`,
//!   `version` = [`JSONL_FORMAT_VERSION`], `scenario`, `mode`, `profile`,
//!   `seed` from the [`RunInfo`] the caller gives, `null` when unknown, and
//!   `time_unit`), then one object per event per line. Every event line starts
//!   with `seq` (position in the log), `time` (cycles), `process` (name), `pid`
//!   (process index, `null` for the kernel) and `event` (the kind in snake
//!   case, such as `message_sent`), followed by the kind's own fields, always
//!   the same names in the same order for one kind. Message events carry
//!   `message`, `kind`, `label`, `operation` (the described content), `bytes`,
//!   `caps`, `from`, `to`, `port`, `badge` and `answers`.
//! - **Chrome trace** ([`Format::Chrome`]), for Perfetto or `chrome://tracing`.
//!   One cycle is one nanosecond: `ts` and `dur` are Chrome's microseconds,
//!   written as exact decimals (3075 cycles are `3.075`), and
//!   `displayTimeUnit` is `ns`, so a viewer's times are cycles; nothing is
//!   rounded. Each process's pid is its JSON Lines `pid` (its index), tid =
//!   pid; the kernel takes the pid after the highest process index
//!   (`otherData.kernel_pid`). An `X` slice covers each stretch a process runs,
//!   from its switch-in to its next block, exit or the next switch, named
//!   after the syscalls it made. Every delivered message is a flow: `s` on the
//!   sender where the syscall that sent it began (inside its run slice, which
//!   ends on the very cycle a call blocks), `f` (`bp: "e"`) on the receiver
//!   when it next runs, both with `id` = message id, `cat` = message kind and
//!   `name` = described content. Dropped messages, exits, faults, signals and
//!   in-kernel service calls (monolithic mode, named after the request:
//!   `in kernel: pipe.write(fd=3, 9 B)`) are instants; client-stub operations
//!   (such as `fs.read`) are async `b`/`e` spans; idle time is an `X` slice on
//!   the kernel.
//! - **Mermaid** ([`Format::Mermaid`]): a titled `sequenceDiagram` of the
//!   whole story (see `mermaid.rs`): messages, in-kernel service calls and
//!   their returns, signals, interrupts and death notices as arrows; faults,
//!   deaths, restarts, the kernel panic, the end of the boot and of the run as
//!   notes. Participants are always aliased (`participant P3 as end`), so
//!   names that are Mermaid keywords or hold spaces cannot break the diagram.
//! - **Text** ([`Format::Text`]): exactly [`EventLog::render_text`].
//! - **SVG pictures** ([`svg`]): who runs when, and both modes compared per operation; drawn
//!   from a whole run (and its report), so they are functions of their own, not a [`Format`].
//!
//! A service's state summary (left after a request changed what the pipe,
//! message-queue or socket service holds) is a `service_state` event in JSON
//! Lines, with `module` and `state` (its words), and a line in the text; the
//! Chrome trace and Mermaid leave it out, as they leave out script lines.
//!
//! ## Left out on purpose
//! Message data bytes: exports carry their length and their description,
//! never the bytes themselves. So [`trace_hash`] (the hash of the JSON Lines
//! export) tells apart logs that differ in anything a view shows, and two logs
//! whose messages differ only in bytes no describer reads hash the same.
//!
//! ## Not its business
//! Where an export goes: [`write_export`] writes to any [`Write`] the caller gives, and the
//! caller picks the format (the command line's `--format`).

mod chrome;
mod json;
mod jsonl;
mod mermaid;
mod mermaid_text;
mod party;
mod run_info;

pub use run_info::{JSONL_FORMAT_VERSION, RunInfo};
pub mod svg;

use mksim_kernel::event::{DropReason, EventKind, EventLog};
use mksim_kernel::{ObjectId, ProcessId};
use std::fmt;
use std::io::Write;
use std::str::FromStr;

use chrome::ChromeTrace;
use jsonl::write_jsonl;
use mermaid::Diagram;

/// An export format.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
pub enum Format {
    /// JSON Lines: one JSON object per event per line.
    Jsonl,
    /// Chrome trace event JSON, which Perfetto opens.
    Chrome,
    /// A Mermaid `sequenceDiagram` of the messages.
    Mermaid,
    /// The readable text trace.
    Text,
}

impl Format {
    /// Every format, in the order help texts list them.
    pub const ALL: [Format; 4] = [Format::Jsonl, Format::Chrome, Format::Mermaid, Format::Text];

    /// The name used on the command line: `jsonl`, `chrome`, `mermaid`, `text`.
    pub fn name(self) -> &'static str {
        match self {
            Format::Jsonl => "jsonl",
            Format::Chrome => "chrome",
            Format::Mermaid => "mermaid",
            Format::Text => "text",
        }
    }

    /// The usual file extension, without the dot.
    pub fn extension(self) -> &'static str {
        match self {
            Format::Jsonl => "jsonl",
            Format::Chrome => "json",
            Format::Mermaid => "mmd",
            Format::Text => "txt",
        }
    }

    /// The format with this name (any case), if there is one.
    pub fn parse(name: &str) -> Option<Format> {
        Format::ALL.into_iter().find(|format| format.name().eq_ignore_ascii_case(name.trim()))
    }
}

impl fmt::Display for Format {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// A format name that names no format.
#[derive(Clone, PartialEq, Eq, Debug)]
pub struct UnknownFormat {
    /// The name as given.
    pub name: String,
}

impl fmt::Display for UnknownFormat {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let names: Vec<&str> = Format::ALL.iter().map(|format| format.name()).collect();
        write!(f, "unknown export format `{}` (expected one of: {})", self.name, names.join(", "))
    }
}

impl std::error::Error for UnknownFormat {}

impl FromStr for Format {
    type Err = UnknownFormat;

    fn from_str(name: &str) -> Result<Format, UnknownFormat> {
        Format::parse(name).ok_or_else(|| UnknownFormat { name: name.to_owned() })
    }
}

/// The whole log in `format`.
#[must_use]
pub fn export(log: &EventLog, format: Format) -> String {
    export_run(log, format, &RunInfo::default())
}

/// The whole log in `format`, of the run `info` names.
#[must_use]
pub fn export_run(log: &EventLog, format: Format, info: &RunInfo) -> String {
    let mut text = Vec::new();
    write_run_export(log, format, info, &mut text).expect("writing to memory does not fail");
    String::from_utf8(text).expect("exports are text")
}

/// Writes the whole log in `format` to `out` as it goes, so a long run's export is never held
/// whole in memory (a run may fill its memory budget with its log alone). A Mermaid diagram is
/// the exception: it declares its participants first, so it is built whole, but it draws only
/// messages and notes.
///
/// # Errors
/// What writing to `out` fails with.
pub fn write_export(log: &EventLog, format: Format, out: &mut dyn Write) -> std::io::Result<()> {
    write_run_export(log, format, &RunInfo::default(), out)
}

/// [`write_export`] of the run `info` names: its scenario, mode, profile and seed head the JSON
/// Lines export, title the Mermaid diagram and go into the Chrome trace's `otherData`.
///
/// # Errors
/// What writing to `out` fails with.
pub fn write_run_export(log: &EventLog, format: Format, info: &RunInfo, out: &mut dyn Write) -> std::io::Result<()> {
    match format {
        Format::Jsonl => {
            writeln!(out, "{}", info.jsonl_header())?;
            let mut failed = Ok(());
            write_jsonl(log, |chunk| {
                if failed.is_ok() {
                    failed = out.write_all(chunk.as_bytes());
                }
            });
            failed
        }
        Format::Chrome => ChromeTrace::new(log, info).render(out),
        Format::Mermaid => out.write_all(Diagram::new(log, info).render().as_bytes()),
        Format::Text => log.events().iter().try_for_each(|event| writeln!(out, "{}", log.line(event))),
    }
}

/// The log's fingerprint: the BLAKE3 hash of its JSON Lines event lines (the header, which
/// names the run rather than what happened, is left out), in hex.
///
/// The same scenario and seed give the same hash on every run and machine;
/// any change to what happened (an event, a time, a name, a described
/// message) changes it.
#[must_use]
pub fn trace_hash(log: &EventLog) -> String {
    let mut hasher = blake3::Hasher::new();
    write_jsonl(log, |chunk| {
        hasher.update(chunk.as_bytes());
    });
    hasher.finalize().to_hex().to_string()
}

// ----- shared by the formats -----

/// What became of a message by the end of the log.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Fate {
    /// Still queued or waiting with its sender when the log ends (or a service request).
    Pending,
    /// Reached this process.
    Delivered { receiver: ProcessId },
    /// Thrown away.
    Dropped { reason: DropReason },
}

fn message_fates(log: &EventLog) -> Vec<Fate> {
    let mut fates = vec![Fate::Pending; log.messages().len()];
    for event in log.events() {
        match event.kind {
            EventKind::MessageDelivered { message } => {
                fates[message.0 as usize] = Fate::Delivered { receiver: event.process };
            }
            EventKind::MessageDropped { message, reason } => fates[message.0 as usize] = Fate::Dropped { reason },
            _ => {}
        }
    }
    fates
}

fn owner(log: &EventLog, object: ObjectId) -> Option<ProcessId> {
    log.object_info(object)?.owner
}

fn drop_reason_name(reason: DropReason) -> &'static str {
    match reason {
        DropReason::ReceiverDied => "receiver_died",
        DropReason::SenderDied => "sender_died",
        DropReason::CallerGone => "caller_gone",
        DropReason::TimedOut => "timed_out",
    }
}
