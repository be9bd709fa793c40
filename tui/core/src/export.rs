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
//! - **JSON Lines** ([`Format::Jsonl`]): one object per event per line. Every
//!   line starts with `seq` (position in the log), `time` (cycles), `process`
//!   (name), `pid` (process index, `null` for the kernel) and `event` (the
//!   kind in snake case, such as `message_sent`), followed by the kind's own
//!   fields, always the same names in the same order for one kind. Message
//!   events carry `message`, `kind`, `label`, `operation` (the described
//!   content), `bytes`, `caps`, `from`, `to`, `port`, `badge` and `answers`.
//! - **Chrome trace** ([`Format::Chrome`]), for Perfetto or `chrome://tracing`.
//!   `ts` and `dur` are virtual cycles read as microseconds (1 cycle = 1 µs):
//!   whole numbers, so no time is ever rounded; `otherData.time_scale` says so.
//!   Each process is pid = index + 1 with tid = pid; the kernel is pid 0. An
//!   `X` slice covers each stretch a process runs, from its switch-in to its
//!   next block, exit or the next switch, named after the syscalls it made.
//!   Every delivered message is a flow: `s` on the sender at the send, `f`
//!   (`bp: "e"`) on the receiver when it next runs, both with `id` = message
//!   id, `cat` = message kind and `name` = described content. Dropped messages,
//!   exits, faults and signals are instants; client-stub operations (such as
//!   `fs.read`) are async `b`/`e` spans; idle time is an `X` slice on the kernel.
//! - **Mermaid** ([`Format::Mermaid`]): a `sequenceDiagram`. Participants are
//!   always aliased (`participant P3 as end`), so names that are Mermaid
//!   keywords or hold spaces cannot break the diagram. One arrow per message
//!   in send order: `->>` call and send, `-->>` reply, `-)` async, `-x`
//!   dropped; in-kernel services (monolithic mode) go to a `kernel`
//!   participant; signals and interrupts are notes.
//! - **Text** ([`Format::Text`]): exactly [`EventLog::render_text`].
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

use mksim_kernel::event::{BlockedOn, CapabilityChange, CapabilityOp, DropReason, Event, EventKind, EventLog};
use mksim_kernel::message::{MessageId, MessageKind};
use mksim_kernel::syscall::SyscallKind;
use mksim_kernel::{ObjectId, ProcessId};
use serde::Serialize;
use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::io::Write;
use std::str::FromStr;

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
    let mut text = Vec::new();
    write_export(log, format, &mut text).expect("writing to memory does not fail");
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
    match format {
        Format::Jsonl => {
            let mut failed = Ok(());
            write_jsonl(log, |chunk| {
                if failed.is_ok() {
                    failed = out.write_all(chunk.as_bytes());
                }
            });
            failed
        }
        Format::Chrome => ChromeTrace::new(log).render(out),
        Format::Mermaid => out.write_all(Diagram::new(log).render().as_bytes()),
        Format::Text => log.events().iter().try_for_each(|event| writeln!(out, "{}", log.line(event))),
    }
}

/// The log's fingerprint: the BLAKE3 hash of its JSON Lines export, in hex.
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

// ----- shared -----

/// A JSON object written field by field, so its keys keep the order of the calls.
struct JsonObject {
    text: String,
}

impl JsonObject {
    fn new() -> JsonObject {
        JsonObject { text: String::from("{") }
    }

    fn field(&mut self, key: &str, value: impl Serialize) -> &mut JsonObject {
        let value = serde_json::to_string(&value).expect("strings, numbers and options always serialize");
        self.raw(key, &value)
    }

    /// Adds a value that is already JSON text.
    fn raw(&mut self, key: &str, json: &str) -> &mut JsonObject {
        if self.text.len() > 1 {
            self.text.push(',');
        }
        self.text.push_str(&serde_json::to_string(key).expect("strings always serialize"));
        self.text.push(':');
        self.text.push_str(json);
        self
    }

    fn finish(mut self) -> String {
        self.text.push('}');
        self.text
    }
}

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

/// Whom a message is addressed to: the port's owner, the caller for a reply, the kernel for a service.
fn owner(log: &EventLog, object: ObjectId) -> Option<ProcessId> {
    log.object_info(object)?.owner
}

fn event_name(kind: &EventKind) -> &'static str {
    match kind {
        EventKind::Spawned { .. } => "spawned",
        EventKind::Created { .. } => "created",
        EventKind::SyscallEntered { .. } => "syscall_entered",
        EventKind::SyscallReturned { .. } => "syscall_returned",
        EventKind::MessageSent { .. } => "message_sent",
        EventKind::ServiceCalled { .. } => "service_called",
        EventKind::OperationBegan { .. } => "operation_began",
        EventKind::OperationEnded { .. } => "operation_ended",
        EventKind::OperationRetried { .. } => "operation_retried",
        EventKind::FaultInjected { .. } => "fault_injected",
        EventKind::Restarted => "restarted",
        EventKind::KernelPanicked { .. } => "kernel_panicked",
        EventKind::MessageDelivered { .. } => "message_delivered",
        EventKind::MessageDropped { .. } => "message_dropped",
        EventKind::Blocked { .. } => "blocked",
        EventKind::Woken { .. } => "woken",
        EventKind::Switched { .. } => "switched",
        EventKind::Signalled { .. } => "signalled",
        EventKind::Interrupt { .. } => "interrupt",
        EventKind::Capability { .. }
        | EventKind::ReplyCapabilityCreated { .. }
        | EventKind::ReplyCapabilityUsed { .. } => "capability",
        EventKind::PriorityChanged { .. } => "priority_changed",
        EventKind::Computed { .. } => "computed",
        EventKind::Idle { .. } => "idle",
        EventKind::AwaitingBoot => "awaiting_boot",
        EventKind::BootWork { .. } => "boot_work",
        EventKind::BootDone => "boot_done",
        EventKind::Faulted { .. } => "faulted",
        EventKind::Exited { .. } => "exited",
        EventKind::RunEnded { .. } => "run_ended",
    }
}

fn drop_reason_name(reason: DropReason) -> &'static str {
    match reason {
        DropReason::ReceiverDied => "receiver_died",
        DropReason::SenderDied => "sender_died",
        DropReason::CallerGone => "caller_gone",
        DropReason::TimedOut => "timed_out",
    }
}

fn capability_op_name(op: CapabilityOp) -> &'static str {
    match op {
        CapabilityOp::Granted => "granted",
        CapabilityOp::Created => "created",
        CapabilityOp::Copied => "copied",
        CapabilityOp::Minted => "minted",
        CapabilityOp::Deleted => "deleted",
        CapabilityOp::Revoked => "revoked",
        CapabilityOp::SentAway => "sent_away",
        CapabilityOp::Received => "received",
        CapabilityOp::ReplyCreated => "reply_created",
        CapabilityOp::ReplyUsed => "reply_used",
    }
}

// ----- JSON Lines -----

/// How much JSON Lines text is gathered before it is handed on (to the hasher, or the export string).
const JSONL_CHUNK_BYTES: usize = 64 * 1024;

/// Writes the JSON Lines export in chunks of whole lines, so a long log is never held as text at once.
fn write_jsonl(log: &EventLog, mut sink: impl FnMut(&str)) {
    let mut line = JsonLine::default();
    for (seq, event) in log.events().iter().enumerate() {
        event_json(log, seq, event, &mut line);
        if line.text.len() >= JSONL_CHUNK_BYTES {
            sink(line.chunk());
            line.text.clear();
        }
    }
    sink(line.chunk());
}

fn event_json(log: &EventLog, seq: usize, event: &Event, json: &mut JsonLine) {
    json.begin();
    json.number("seq", seq as u64)
        .number("time", event.time)
        .string("process", log.process_name(event.process))
        .optional_number("pid", (!event.process.is_kernel()).then_some(event.process.index))
        .string("event", event_name(&event.kind));
    kind_fields(log, event, json);
    json.end();
}

fn kind_fields(log: &EventLog, event: &Event, json: &mut JsonLine) {
    match event.kind {
        EventKind::Spawned { priority } | EventKind::PriorityChanged { priority } => {
            json.number("priority", priority.level());
        }
        EventKind::Created { object, kind } => {
            json.object("object", object).string("object_kind", kind.name());
        }
        EventKind::SyscallEntered { call } => {
            json.string("call", call.name());
        }
        EventKind::SyscallReturned { call, error } | EventKind::Woken { call, error } => {
            json.string("call", call.name()).optional_display("error", error);
        }
        EventKind::MessageSent { message } | EventKind::ServiceCalled { message } => {
            message_fields(log, message, log.receiver_of(message), json);
        }
        EventKind::MessageDelivered { message } => message_fields(log, message, Some(event.process), json),
        EventKind::MessageDropped { message, reason } => {
            message_fields(log, message, log.receiver_of(message), json);
            json.string("reason", drop_reason_name(reason));
        }
        EventKind::OperationBegan { label } => {
            json.number("label", label).string("operation", &log.operation_name(label));
        }
        EventKind::OperationEnded { label, failed } => {
            json.number("label", label).string("operation", &log.operation_name(label)).boolean("failed", failed);
        }
        EventKind::OperationRetried { label } => {
            json.number("label", label).string("operation", &log.operation_name(label));
        }
        EventKind::FaultInjected { fault } | EventKind::KernelPanicked { fault } => {
            json.string("fault", fault.name());
        }
        EventKind::Restarted => {
            json.number("generation", event.process.generation);
        }
        EventKind::Blocked { on } => blocked_fields(log, event, on, json),
        EventKind::Switched { direct } => {
            json.boolean("direct", direct);
        }
        EventKind::Signalled { notification, bits } | EventKind::Interrupt { notification, bits } => {
            let to = owner(log, notification).map(|owner| log.process_name(owner));
            json.object("notification", notification).optional_string("to", to).number("bits", log.bits(bits));
        }
        EventKind::Capability { .. }
        | EventKind::ReplyCapabilityCreated { .. }
        | EventKind::ReplyCapabilityUsed { .. } => {
            let change = log.capability_change(event).expect("a capability event records a change");
            let CapabilityChange { op, slot, object, rights, badge } = change;
            let reply = matches!(op, CapabilityOp::ReplyCreated | CapabilityOp::ReplyUsed);
            let kind = if reply { Some("reply") } else { log.object_info(object).map(|info| info.kind.name()) };
            json.string("op", capability_op_name(op))
                .number("slot", slot.0)
                .object("object", object)
                .optional_string("object_kind", kind)
                .display("rights", rights)
                .number("badge", badge.0);
        }
        EventKind::Computed { cycles } => {
            json.number("cycles", cycles);
        }
        EventKind::Idle { until } => {
            json.number("until", until);
        }
        EventKind::BootWork { cycles } => {
            json.number("cycles", cycles);
        }
        EventKind::AwaitingBoot | EventKind::BootDone => {}
        EventKind::Faulted { reason } => {
            json.display("reason", reason);
        }
        EventKind::Exited { code } => {
            json.signed("code", code.into());
        }
        EventKind::RunEnded { outcome } => {
            json.string("outcome", outcome.name());
        }
    }
}

fn message_fields(log: &EventLog, id: MessageId, receiver: Option<ProcessId>, json: &mut JsonLine) {
    let record = log.message(id);
    let port = (record.kind != MessageKind::Service).then_some(record.port);
    json.number("message", id.0)
        .string("kind", record.kind.name())
        .number("label", record.label)
        .string("operation", &log.message_content(id))
        .number("bytes", log.message_bytes(id))
        .number("caps", record.caps)
        .string("from", log.process_name(record.sender))
        .optional_string("to", receiver.map(|receiver| log.process_name(receiver)))
        .optional_object("port", port)
        .number("badge", record.badge.0)
        .optional_number("answers", record.answers().map(|call| call.0));
}

fn blocked_fields(log: &EventLog, event: &Event, on: BlockedOn, json: &mut JsonLine) {
    let (wait, object, peer, until) = match on {
        BlockedOn::Send(port) => ("send", Some(port), owner(log, port), None),
        BlockedOn::Receive(port) => ("receive", Some(port), None, None),
        BlockedOn::Reply(server) => ("reply", None, Some(server), None),
        BlockedOn::Notification(notification) => ("notification", Some(notification), None, None),
        BlockedOn::Sleep(until) => ("sleep", None, None, Some(until)),
        BlockedOn::Device(until) => ("device", None, None, Some(until)),
    };
    json.string("wait", wait)
        .string("on", &log.describe(event))
        .optional_object("object", object)
        .optional_string("peer", peer.map(|peer| log.process_name(peer)))
        .optional_number("until", until);
}

/// Writes JSON objects one line at a time straight into a text buffer, keys in call order.
///
/// It writes exactly what serde_json writes for the same values (integers in
/// decimal, strings escaped as serde_json escapes them), so the export and
/// its hash are the same bytes as when every field went through serde_json,
/// without a string per field.
#[derive(Default)]
struct JsonLine {
    /// Whole lines so far; bytes rather than a `String` so digits need no UTF-8 check one by one.
    text: Vec<u8>,
    /// Reused for values that are put into words before they are escaped.
    scratch: String,
    first_field: bool,
}

impl JsonLine {
    fn begin(&mut self) {
        self.text.push(b'{');
        self.first_field = true;
    }

    fn end(&mut self) {
        self.text.extend_from_slice(b"}\n");
    }

    /// The lines written since the last clear.
    fn chunk(&self) -> &str {
        std::str::from_utf8(&self.text).expect("only UTF-8 text and ASCII are ever written")
    }

    /// The key (plain ASCII, nothing to escape) and its colon.
    fn key(&mut self, key: &str) -> &mut JsonLine {
        debug_assert!(key.bytes().all(|byte| byte.is_ascii_alphanumeric() || byte == b'_'));
        if !self.first_field {
            self.text.push(b',');
        }
        self.first_field = false;
        self.text.push(b'"');
        self.text.extend_from_slice(key.as_bytes());
        self.text.extend_from_slice(b"\":");
        self
    }

    fn number(&mut self, key: &str, value: impl Into<u64>) -> &mut JsonLine {
        self.key(key);
        push_decimal(&mut self.text, value.into());
        self
    }

    fn signed(&mut self, key: &str, value: i64) -> &mut JsonLine {
        self.key(key);
        if value < 0 {
            self.text.push(b'-');
        }
        push_decimal(&mut self.text, value.unsigned_abs());
        self
    }

    fn optional_number(&mut self, key: &str, value: Option<impl Into<u64>>) -> &mut JsonLine {
        match value {
            Some(value) => self.number(key, value),
            None => self.null(key),
        }
    }

    fn boolean(&mut self, key: &str, value: bool) -> &mut JsonLine {
        self.key(key);
        self.text.extend_from_slice(if value { b"true" } else { b"false" });
        self
    }

    fn null(&mut self, key: &str) -> &mut JsonLine {
        self.key(key);
        self.text.extend_from_slice(b"null");
        self
    }

    fn string(&mut self, key: &str, value: &str) -> &mut JsonLine {
        self.key(key);
        push_json_string(&mut self.text, value);
        self
    }

    fn optional_string(&mut self, key: &str, value: Option<&str>) -> &mut JsonLine {
        match value {
            Some(value) => self.string(key, value),
            None => self.null(key),
        }
    }

    /// A value's `Display` text as a JSON string.
    fn display(&mut self, key: &str, value: impl fmt::Display) -> &mut JsonLine {
        use std::fmt::Write;
        self.key(key);
        self.scratch.clear();
        let _ = write!(self.scratch, "{value}");
        push_json_string(&mut self.text, &self.scratch);
        self
    }

    /// An object id as a JSON string, the text its `Display` gives (`#3`, `#3.1`), written directly.
    fn object(&mut self, key: &str, id: ObjectId) -> &mut JsonLine {
        self.key(key);
        self.text.extend_from_slice(b"\"#");
        push_decimal(&mut self.text, id.index.into());
        if id.generation != 0 {
            self.text.push(b'.');
            push_decimal(&mut self.text, id.generation.into());
        }
        self.text.push(b'"');
        self
    }

    fn optional_object(&mut self, key: &str, id: Option<ObjectId>) -> &mut JsonLine {
        match id {
            Some(id) => self.object(key, id),
            None => self.null(key),
        }
    }

    fn optional_display(&mut self, key: &str, value: Option<impl fmt::Display>) -> &mut JsonLine {
        match value {
            Some(value) => self.display(key, value),
            None => self.null(key),
        }
    }
}

/// Appends `value` in decimal: the text `Display` gives, without going through the formatter,
/// which costs more than the digits themselves on a long export.
fn push_decimal(text: &mut Vec<u8>, mut value: u64) {
    let mut digits = [0u8; 20];
    let mut start = digits.len();
    loop {
        start -= 1;
        digits[start] = b'0' + (value % 10) as u8;
        value /= 10;
        if value == 0 {
            break;
        }
    }
    text.extend_from_slice(&digits[start..]);
}

/// True for the bytes a JSON string cannot hold as they are.
fn needs_escape(byte: u8) -> bool {
    byte < 0x20 || byte == b'"' || byte == b'\\'
}

/// Appends `value` as a JSON string, escaped as serde_json escapes it: quote,
/// backslash and control characters only (`\b \t \n \f \r` by name, the rest
/// as `\u00xx`); everything else, non-ASCII included, as it is.
fn push_json_string(text: &mut Vec<u8>, value: &str) {
    text.push(b'"');
    if !value.bytes().any(needs_escape) {
        text.extend_from_slice(value.as_bytes());
        text.push(b'"');
        return;
    }
    let mut plain_from = 0;
    for (index, byte) in value.bytes().enumerate() {
        let escape = match byte {
            b'"' => "\\\"",
            b'\\' => "\\\\",
            b'\x08' => "\\b",
            b'\t' => "\\t",
            b'\n' => "\\n",
            b'\x0c' => "\\f",
            b'\r' => "\\r",
            0..=0x1f => "",
            _ => continue,
        };
        text.extend_from_slice(&value.as_bytes()[plain_from..index]);
        plain_from = index + 1;
        if escape.is_empty() {
            const HEX: &[u8; 16] = b"0123456789abcdef";
            text.extend_from_slice(b"\\u00");
            text.push(HEX[usize::from(byte >> 4)]);
            text.push(HEX[usize::from(byte & 0xf)]);
        } else {
            text.extend_from_slice(escape.as_bytes());
        }
    }
    text.extend_from_slice(&value.as_bytes()[plain_from..]);
    text.push(b'"');
}

// ----- Chrome trace -----

/// The Chrome pid of a process: its index plus one, so the kernel can be 0.
fn chrome_pid(id: ProcessId) -> u32 {
    if id.is_kernel() { 0 } else { id.index + 1 }
}

/// A stretch of time one process ran without interruption.
#[derive(Clone, Debug)]
struct RunSlice {
    process: ProcessId,
    start: u64,
    end: u64,
    /// Position in the log of the event that ended it (the log's length if none did).
    end_seq: usize,
    direct: bool,
    /// What it did: syscall names, and operation names for in-kernel services.
    steps: Vec<String>,
}

impl RunSlice {
    fn name(&self) -> String {
        const SHOWN: usize = 3;
        match self.steps.len() {
            0 => "runs".to_owned(),
            count if count <= SHOWN => self.steps.join(", "),
            count => format!("{}, … ({count} syscalls)", self.steps[..SHOWN].join(", ")),
        }
    }
}

/// Every run slice, by the position of the switch that began it.
fn run_slices(log: &EventLog) -> BTreeMap<usize, RunSlice> {
    let mut slices = BTreeMap::new();
    let mut open: Option<(usize, RunSlice)> = None;
    for (seq, event) in log.events().iter().enumerate() {
        let running = open.as_ref().is_some_and(|(_, slice)| slice.process == event.process);
        match event.kind {
            EventKind::Switched { direct } => {
                close_slice(&mut open, event.time, seq, &mut slices);
                let slice = RunSlice {
                    process: event.process,
                    start: event.time,
                    end: event.time,
                    end_seq: log.len(),
                    direct,
                    steps: Vec::new(),
                };
                open = Some((seq, slice));
            }
            EventKind::Blocked { .. } | EventKind::Exited { .. } | EventKind::Faulted { .. } if running => {
                close_slice(&mut open, event.time, seq, &mut slices);
            }
            EventKind::Idle { .. } | EventKind::RunEnded { .. } => close_slice(&mut open, event.time, seq, &mut slices),
            EventKind::SyscallEntered { call } if running && call != SyscallKind::KernelService => {
                open.as_mut().expect("running implies an open slice").1.steps.push(call.name().to_owned());
            }
            EventKind::ServiceCalled { message } if running => {
                let operation = log.operation_name(log.message(message).label);
                open.as_mut().expect("running implies an open slice").1.steps.push(operation);
            }
            _ => {}
        }
    }
    let last_time = log.events().last().map_or(0, |event| event.time);
    close_slice(&mut open, last_time, log.len(), &mut slices);
    slices
}

fn close_slice(open: &mut Option<(usize, RunSlice)>, time: u64, seq: usize, slices: &mut BTreeMap<usize, RunSlice>) {
    if let Some((start_seq, mut slice)) = open.take() {
        slice.end = time;
        slice.end_seq = seq;
        slices.insert(start_seq, slice);
    }
}

/// Builds the Chrome trace in one pass over the log, after the run slices are known.
struct ChromeTrace<'a> {
    log: &'a EventLog,
    fates: Vec<Fate>,
    slices: BTreeMap<usize, RunSlice>,
    events: Vec<String>,
    /// The process whose slice is open, and the position of the event that ends it.
    running: Option<(ProcessId, usize)>,
    /// Messages delivered to a process that was not running: their flow ends when it next runs.
    pending_flows: BTreeMap<u32, Vec<(MessageId, u64)>>,
    /// Open operations by process: label and async id.
    operations: BTreeMap<u32, Vec<(u32, usize)>>,
    last_time: u64,
}

impl<'a> ChromeTrace<'a> {
    fn new(log: &'a EventLog) -> ChromeTrace<'a> {
        ChromeTrace {
            log,
            fates: message_fates(log),
            slices: run_slices(log),
            events: Vec::new(),
            running: None,
            pending_flows: BTreeMap::new(),
            operations: BTreeMap::new(),
            last_time: 0,
        }
    }

    /// Writes the trace, handing on the trace events each log event made before the next.
    fn render(mut self, out: &mut dyn Write) -> std::io::Result<()> {
        out.write_all(b"{\"traceEvents\":[\n")?;
        let mut first = true;
        self.metadata();
        self.flush(out, &mut first)?;
        for (seq, event) in self.log.events().iter().enumerate() {
            self.event(seq, event);
            self.last_time = event.time;
            self.flush(out, &mut first)?;
        }
        self.finish_open();
        self.flush(out, &mut first)?;
        let mut text = String::from("\n],\n\"displayTimeUnit\":\"ns\",\n\"otherData\":");
        let mut other = JsonObject::new();
        other
            .field("generator", "mksim")
            .field("time_scale", "ts and dur are virtual cycles: 1 cycle = 1 µs")
            .field("pid", "process index + 1; pid 0 is the kernel; tid = pid")
            .field("flow_id", "message id");
        text.push_str(&other.finish());
        text.push_str("}\n");
        out.write_all(text.as_bytes())
    }

    /// Writes the trace events made so far, each after a separator but the very first.
    fn flush(&mut self, out: &mut dyn Write, first: &mut bool) -> std::io::Result<()> {
        for event in self.events.drain(..) {
            if !std::mem::take(first) {
                out.write_all(b",\n")?;
            }
            out.write_all(event.as_bytes())?;
        }
        Ok(())
    }

    /// Names every process (and the kernel), in pid order.
    fn metadata(&mut self) {
        let mut processes = BTreeSet::from([ProcessId::KERNEL]);
        processes.extend(self.log.events().iter().map(|event| event.process));
        let mut by_pid: Vec<(u32, ProcessId)> = processes.into_iter().map(|id| (chrome_pid(id), id)).collect();
        by_pid.sort();
        for (pid, id) in by_pid {
            let name = self.log.process_name(id).to_owned();
            for kind in ["process_name", "thread_name"] {
                let mut json = self.base("M", kind, pid, 0);
                json.raw("args", &single("name", &name));
                self.events.push(json.finish());
            }
            let mut json = self.base("M", "process_sort_index", pid, 0);
            json.raw("args", &single("sort_index", pid));
            self.events.push(json.finish());
        }
    }

    fn base(&self, phase: &str, name: &str, pid: u32, ts: u64) -> JsonObject {
        let mut json = JsonObject::new();
        json.field("name", name).field("ph", phase).field("ts", ts).field("pid", pid).field("tid", pid);
        json
    }

    fn event(&mut self, seq: usize, event: &Event) {
        match event.kind {
            EventKind::Switched { .. } => self.slice(seq),
            EventKind::MessageSent { message } => {
                if matches!(self.fates[message.0 as usize], Fate::Delivered { .. }) {
                    self.flow("s", message, chrome_pid(event.process), event.time);
                }
            }
            EventKind::MessageDelivered { message } => self.delivered(seq, event, message),
            EventKind::MessageDropped { message, reason } => {
                let name = format!("dropped: {}", self.log.message_content(message));
                let mut json = self.base("i", &name, chrome_pid(event.process), event.time);
                json.field("s", "t").raw("args", &single("reason", drop_reason_name(reason)));
                self.events.push(json.finish());
            }
            EventKind::OperationBegan { label } => self.operation_began(seq, event, label),
            EventKind::OperationEnded { label, failed } => self.operation_ended(event, label, failed),
            EventKind::Exited { .. } | EventKind::Faulted { .. } => {
                self.instant(event, "t");
                self.end_operations(event.process, event.time, "process ended");
            }
            EventKind::Signalled { .. } | EventKind::Interrupt { .. } => self.instant(event, "t"),
            EventKind::Idle { until } => {
                let mut json = self.base("X", "idle", 0, self.last_time);
                json.field("dur", until.saturating_sub(self.last_time));
                self.events.push(json.finish());
            }
            EventKind::RunEnded { .. } | EventKind::BootDone => self.instant(event, "g"),
            EventKind::BootWork { cycles, .. } => {
                let mut json = self.base("X", &self.log.describe(event), 0, event.time);
                json.field("dur", cycles).field("cat", "boot");
                self.events.push(json.finish());
            }
            _ => {}
        }
    }

    /// The run slice a switch begins, then the flows that were waiting for it.
    fn slice(&mut self, seq: usize) {
        let Some(slice) = self.slices.get(&seq) else { return };
        let pid = chrome_pid(slice.process);
        let steps = serde_json::to_string(&slice.steps).expect("strings always serialize");
        let mut args = JsonObject::new();
        args.field("switch", if slice.direct { "direct" } else { "context" }).raw("syscalls", &steps);
        let mut json = self.base("X", &slice.name(), pid, slice.start);
        json.field("dur", slice.end - slice.start).field("cat", "run").raw("args", &args.finish());
        self.events.push(json.finish());
        let (process, start, end_seq) = (slice.process, slice.start, slice.end_seq);
        self.running = Some((process, end_seq));
        for (message, _) in self.pending_flows.remove(&process.index).unwrap_or_default() {
            self.flow("f", message, pid, start);
        }
    }

    fn delivered(&mut self, seq: usize, event: &Event, message: MessageId) {
        let receiver_runs = self.running.is_some_and(|(process, end_seq)| process == event.process && seq < end_seq);
        if receiver_runs {
            self.flow("f", message, chrome_pid(event.process), event.time);
        } else {
            self.pending_flows.entry(event.process.index).or_default().push((message, event.time));
        }
    }

    fn flow(&mut self, phase: &str, message: MessageId, pid: u32, ts: u64) {
        let name = self.log.message_content(message);
        let mut json = self.base(phase, &name, pid, ts);
        json.field("cat", self.log.message(message).kind.name()).field("id", message.0);
        if phase == "f" {
            json.field("bp", "e");
        }
        self.events.push(json.finish());
    }

    fn instant(&mut self, event: &Event, scope: &str) {
        let mut json = self.base("i", &self.log.describe(event), chrome_pid(event.process), event.time);
        json.field("s", scope);
        self.events.push(json.finish());
    }

    fn operation_began(&mut self, seq: usize, event: &Event, label: u32) {
        let name = self.log.operation_name(label);
        let mut json = self.base("b", &name, chrome_pid(event.process), event.time);
        json.field("cat", "operation").field("id", seq);
        self.events.push(json.finish());
        self.operations.entry(event.process.index).or_default().push((label, seq));
    }

    fn operation_ended(&mut self, event: &Event, label: u32, failed: bool) {
        let Some(open) = self.operations.get_mut(&event.process.index) else { return };
        let Some(position) = open.iter().rposition(|&(open_label, _)| open_label == label) else { return };
        let (_, id) = open.remove(position);
        self.end_operation(event.process, label, id, event.time, &single("failed", failed));
    }

    fn end_operations(&mut self, process: ProcessId, time: u64, why: &str) {
        let open = self.operations.remove(&process.index).unwrap_or_default();
        for (label, id) in open.into_iter().rev() {
            self.end_operation(process, label, id, time, &single("unfinished", why));
        }
    }

    fn end_operation(&mut self, process: ProcessId, label: u32, id: usize, time: u64, args: &str) {
        let name = self.log.operation_name(label);
        let mut json = self.base("e", &name, chrome_pid(process), time);
        json.field("cat", "operation").field("id", id).raw("args", args);
        self.events.push(json.finish());
    }

    /// Flows whose receiver never ran again end where they were delivered; open operations end with the log.
    fn finish_open(&mut self) {
        for (index, flows) in std::mem::take(&mut self.pending_flows) {
            let pid = index + 1;
            for (message, time) in flows {
                self.flow("f", message, pid, time);
            }
        }
        let processes: Vec<u32> = self.operations.keys().copied().collect();
        for index in processes {
            let process = ProcessId { index, generation: 0 };
            self.end_operations(process, self.last_time, "log ended");
        }
    }
}

/// A JSON object with one field.
fn single(key: &str, value: impl Serialize) -> String {
    let mut json = JsonObject::new();
    json.field(key, value);
    json.finish()
}

// ----- Mermaid -----

/// Someone a diagram line is drawn from or to.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Debug)]
enum Party {
    Process(u32),
    Kernel,
    /// A port with no owner, drawn as itself.
    Object(ObjectId),
}

fn party(id: ProcessId) -> Party {
    if id.is_kernel() { Party::Kernel } else { Party::Process(id.index) }
}

/// Builds the sequence diagram: participants in order of first appearance, then one line per message or note.
struct Diagram<'a> {
    log: &'a EventLog,
    fates: Vec<Fate>,
    participants: Vec<Party>,
    seen: BTreeSet<Party>,
    lines: Vec<String>,
}

impl<'a> Diagram<'a> {
    fn new(log: &'a EventLog) -> Diagram<'a> {
        Diagram { log, fates: message_fates(log), participants: Vec::new(), seen: BTreeSet::new(), lines: Vec::new() }
    }

    fn render(mut self) -> String {
        // Where the end of a boot that drew nothing goes, and when it was.
        let mut quiet_boot = None;
        for event in self.log.events() {
            match event.kind {
                EventKind::MessageSent { message } => self.message(message),
                EventKind::ServiceCalled { message } => {
                    let from = self.participant(party(event.process));
                    let to = self.participant(Party::Kernel);
                    let text = mermaid_text(&self.log.message_content(message));
                    self.lines.push(format!("    {from}->>{to}: {text}"));
                }
                EventKind::Signalled { notification, bits } => {
                    let receiver = owner(self.log, notification).map_or(Party::Kernel, party);
                    let bits = self.log.bits(bits);
                    self.note(&[party(event.process), receiver], &format!("signal bits {bits:#x}"));
                }
                EventKind::Interrupt { notification, bits } => {
                    let receiver = owner(self.log, notification).map_or(Party::Kernel, party);
                    let bits = self.log.bits(bits);
                    self.note(&[receiver], &format!("interrupt bits {bits:#x}"));
                }
                EventKind::BootWork { .. } => self.note(&[Party::Kernel], &self.log.describe(event)),
                EventKind::BootDone => match (self.participants.first(), self.participants.last()) {
                    // Across everyone drawn so far: the servers that booted.
                    (Some(&first), Some(&last)) => self.note(&[first, last], &format!("boot done at t={}", event.time)),
                    // Nobody drawn yet: over whoever is drawn first, once known.
                    _ => quiet_boot = Some((self.lines.len(), event.time)),
                },
                _ => {}
            }
        }
        if let (Some((line, time)), Some(&first)) = (quiet_boot, self.participants.first()) {
            let note = format!("    Note over {}: boot done at t={time}", party_id(first));
            self.lines.insert(line, note);
        }
        let mut text = String::from("sequenceDiagram\n");
        for &participant in &self.participants {
            text.push_str(&self.declaration(participant));
            text.push('\n');
        }
        for line in &self.lines {
            text.push_str(line);
            text.push('\n');
        }
        text
    }

    /// The participant's id in the diagram, declaring it on first use.
    fn participant(&mut self, participant: Party) -> String {
        if self.seen.insert(participant) {
            self.participants.push(participant);
        }
        party_id(participant)
    }

    fn declaration(&self, participant: Party) -> String {
        let id = party_id(participant);
        match participant {
            Party::Process(index) => {
                let name = self.log.process_name(ProcessId { index, generation: 0 });
                format!("    participant {id} as {}", mermaid_text(name))
            }
            Party::Kernel => format!("    participant {id}"),
            Party::Object(object) => {
                format!("    participant {id} as {}", mermaid_text(&self.log.describe_object(object)))
            }
        }
    }

    fn message(&mut self, message: MessageId) {
        let record = *self.log.message(message);
        let fate = self.fates[message.0 as usize];
        let target = match fate {
            Fate::Delivered { receiver } => party(receiver),
            Fate::Pending | Fate::Dropped { .. } => {
                self.log.receiver_of(message).map_or(Party::Object(record.port), party)
            }
        };
        let arrow = match (fate, record.kind) {
            (Fate::Dropped { .. }, _) => "-x",
            (_, MessageKind::Reply) => "-->>",
            (_, MessageKind::Async) => "-)",
            (_, MessageKind::Send | MessageKind::Call | MessageKind::Service) => "->>",
        };
        let mut text = self.log.message_content(message);
        match fate {
            Fate::Dropped { reason } => {
                text.push_str(" (dropped: ");
                text.push_str(&drop_reason_name(reason).replace('_', " "));
                text.push(')');
            }
            Fate::Pending => text.push_str(" (never delivered)"),
            Fate::Delivered { .. } => {}
        }
        let from = self.participant(party(record.sender));
        let to = self.participant(target);
        self.lines.push(format!("    {from}{arrow}{to}: {}", mermaid_text(&text)));
    }

    fn note(&mut self, over: &[Party], text: &str) {
        let mut ids: Vec<String> = Vec::new();
        for &participant in over {
            let id = self.participant(participant);
            if !ids.contains(&id) {
                ids.push(id);
            }
        }
        self.lines.push(format!("    Note over {}: {}", ids.join(","), mermaid_text(text)));
    }
}

/// A participant's id: aliased, so a process name never has to be a Mermaid identifier.
fn party_id(participant: Party) -> String {
    match participant {
        Party::Process(index) => format!("P{index}"),
        Party::Kernel => "kernel".to_owned(),
        Party::Object(object) => format!("O{}_{}", object.index, object.generation),
    }
}

/// Text made safe for one Mermaid line.
///
/// Mermaid ends a statement at `;`, starts a comment at `#` or `%%`, and
/// ends a line at a line break, so `#`, `;` and `%` become entity codes
/// (which Mermaid decodes before drawing) and line breaks become `<br/>`.
/// Other control characters are escaped as every text view escapes them
/// ([`mksim_kernel::escape_controls`]).
fn mermaid_text(text: &str) -> String {
    let mut safe = String::with_capacity(text.len());
    for character in text.chars() {
        match character {
            '#' => safe.push_str("#35;"),
            ';' => safe.push_str("#59;"),
            '%' => safe.push_str("#37;"),
            '\n' => safe.push_str("<br/>"),
            '\r' => {}
            other if mksim_kernel::text::is_unsafe_to_show(other) => {
                safe.push_str(&mksim_kernel::escape_controls(other.encode_utf8(&mut [0; 4])));
            }
            other => safe.push(other),
        }
    }
    safe
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strings_are_escaped_exactly_as_serde_json_escapes_them() {
        let mut every_ascii: String = (0u8..0x80).map(char::from).collect();
        every_ascii.push_str("é → ✓ \u{2028} 𝄞 \"quoted\" back\\slash");
        for value in [every_ascii.as_str(), "", "plain", "\u{7f}", "ends with \n"] {
            let mut written = Vec::new();
            push_json_string(&mut written, value);
            assert_eq!(String::from_utf8(written).unwrap(), serde_json::to_string(value).unwrap(), "{value:?}");
        }
    }

    #[test]
    fn a_line_is_one_object_with_its_fields_in_order() {
        let mut line = JsonLine::default();
        line.begin();
        line.number("seq", 7u64)
            .number("time", u64::MAX)
            .number("zero", 0u8)
            .signed("code", -3)
            .optional_number("pid", None::<u32>)
            .boolean("direct", true);
        line.display("object", ObjectId { index: 2, generation: 1 }).optional_string("to", Some("a \"b\""));
        line.end();
        for id in [ObjectId { index: 0, generation: 0 }, ObjectId { index: 4_000_000_000, generation: u32::MAX }] {
            let mut object = JsonLine::default();
            object.begin();
            object.object("o", id).end();
            assert_eq!(object.chunk(), format!("{{\"o\":\"{id}\"}}\n"));
        }
        assert_eq!(
            line.chunk(),
            "{\"seq\":7,\"time\":18446744073709551615,\"zero\":0,\"code\":-3,\"pid\":null,\"direct\":true,\"object\":\"#2.1\",\"to\":\"a \\\"b\\\"\"}\n"
        );
    }
}
