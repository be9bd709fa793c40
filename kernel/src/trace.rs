//! Words for events and states: the readable text trace.
//!
//! Everything here reads only the event log, so any view can describe a run
//! after the kernel that produced it is gone.

use crate::event::{BlockedOn, CapabilityChange, CapabilityOp, DropReason, Event, EventKind, EventLog};
use crate::ids::{ObjectId, ProcessId};
use crate::kernel::Kernel;
use crate::message::{MessageId, MessageKind};
use crate::process::ProcessState;
use crate::text::escape_controls;
use std::borrow::Cow;
use std::fmt::Write;

impl EventLog {
    /// The name of a process as text shows it: its control characters escaped (see
    /// [`crate::text`]). Machine-readable output uses [`EventLog::process_name`].
    pub fn display_name(&self, id: ProcessId) -> Cow<'_, str> {
        escape_controls(self.process_name(id))
    }

    /// An object in words: `endpoint #3 of pong`.
    pub fn describe_object(&self, id: ObjectId) -> String {
        match self.object_info(id) {
            Some(info) => match info.owner {
                Some(owner) => format!("{} {id} of {}", info.kind, self.display_name(owner)),
                None => format!("{} {id}", info.kind),
            },
            None => format!("object {id}"),
        }
    }

    /// A process state in words: `reply-blocked on fs`.
    pub fn describe_state(&self, state: ProcessState) -> String {
        match state {
            ProcessState::Ready => "ready".to_owned(),
            ProcessState::AwaitingBoot => "waiting for the servers to finish booting".to_owned(),
            ProcessState::Running => "running".to_owned(),
            ProcessState::SendBlocked { port, owner: Some(owner) } => {
                format!("send-blocked on {} ({})", self.display_name(owner), self.describe_object(port))
            }
            ProcessState::SendBlocked { port, owner: None } => {
                format!("send-blocked on {}", self.describe_object(port))
            }
            ProcessState::ReceiveBlocked { port } => format!("receive-blocked on {}", self.describe_object(port)),
            ProcessState::ReplyBlocked { server, .. } => format!("reply-blocked on {}", self.display_name(server)),
            ProcessState::WaitingNotification { notification } => {
                format!("waiting on {}", self.describe_object(notification))
            }
            ProcessState::Sleeping { until } => format!("sleeping until {until}"),
            ProcessState::InKernel { until } => format!("in the kernel, waiting for a device until {until}"),
            ProcessState::KernelWaiting { channel } => self.describe_blocked_on(BlockedOn::Channel(channel)),
            ProcessState::Exited { code } => format!("exited({code})"),
            ProcessState::Faulted { reason } => format!("faulted({reason})"),
        }
    }

    /// What a blocked process waits for, in words: `reply-blocked on fs`.
    pub fn describe_blocked_on(&self, on: BlockedOn) -> String {
        match on {
            BlockedOn::Send(port) => match self.object_info(port).and_then(|info| info.owner) {
                Some(owner) => format!("send-blocked on {} ({})", self.display_name(owner), self.describe_object(port)),
                None => format!("send-blocked on {}", self.describe_object(port)),
            },
            BlockedOn::Receive(port) => format!("receive-blocked on {}", self.describe_object(port)),
            BlockedOn::Reply(server) => format!("reply-blocked on {}", self.display_name(server)),
            BlockedOn::Notification(notification) => format!("waiting on {}", self.describe_object(notification)),
            BlockedOn::Sleep(until) => format!("sleeping until {until}"),
            BlockedOn::Device(until) => format!("in the kernel, waiting for a device until {until}"),
            BlockedOn::Channel(channel) => {
                format!("in the kernel, waiting in the {} module (channel {})", channel.module.name(), channel.id)
            }
        }
    }

    /// What a message says: its protocol operation if the describer knows it, else its label.
    /// Control characters in it are escaped, whoever described it.
    pub fn message_content(&self, id: MessageId) -> String {
        let content = self.message_content_as_described(id);
        match escape_controls(&content) {
            Cow::Borrowed(_) => content,
            Cow::Owned(escaped) => escaped,
        }
    }

    fn message_content_as_described(&self, id: MessageId) -> String {
        let record = self.message(id);
        self.describer().and_then(|describer| (describer.content)(record.label, self.message_data(id))).unwrap_or_else(
            || {
                // No protocol knows it: show the label, and the data when it reads as short text.
                let data = self.message_data(id);
                match std::str::from_utf8(data) {
                    Ok(text) if !text.is_empty() && text.len() <= 32 && !text.contains(char::is_control) => {
                        format!("label {} {text:?}", record.label)
                    }
                    _ => format!("label {}", record.label),
                }
            },
        )
    }

    /// A message in words: `call m4 fs.read(fd=3, len=512) (8 B)`.
    pub fn describe_message(&self, id: MessageId) -> String {
        let record = self.message(id);
        let bytes = self.message_bytes(id);
        let mut text = format!("{} m{} {} ({bytes} B", record.kind.name(), id.0, self.message_content(id));
        if record.caps > 0 {
            let _ = write!(text, ", {} cap{}", record.caps, if record.caps == 1 { "" } else { "s" });
        }
        text.push(')');
        if record.badge.0 != 0 {
            let _ = write!(text, " badge {}", record.badge.0);
        }
        text
    }

    /// One event in words, without time or process.
    pub fn describe(&self, event: &Event) -> String {
        match event.kind {
            EventKind::Spawned { priority } => format!("spawned at priority {priority}"),
            EventKind::Created { object, .. } => format!("created {}", self.describe_object(object)),
            EventKind::SyscallEntered { call } => format!("{call}"),
            EventKind::SyscallReturned { call, error: None } => format!("{call} returned"),
            EventKind::SyscallReturned { call, error: Some(error) } => format!("{call} failed: {error}"),
            EventKind::MessageSent { message } => self.describe_sent(message),
            EventKind::ServiceCalled { message } => format!("in kernel: {}", self.message_content(message)),
            EventKind::OperationBegan { label } => format!("begins {}", self.operation_name(label)),
            EventKind::OperationEnded { label, failed: false } => format!("ends {}", self.operation_name(label)),
            EventKind::OperationEnded { label, failed: true } => {
                format!("ends {} (failed)", self.operation_name(label))
            }
            EventKind::OperationRetried { label } => format!("retries {}", self.operation_name(label)),
            EventKind::ScriptLine { line } => format!("at line {line} of its script"),
            EventKind::ServiceState { module, state } => self.describe_service_state(module, state),
            EventKind::FaultInjected { fault } => format!("⚡ injected fault: {}", fault.name()),
            EventKind::Restarted => "restarted as a new incarnation".to_owned(),
            EventKind::KernelPanicked { fault } => {
                format!("KERNEL PANIC: {} in service code inside the kernel", fault.name())
            }
            EventKind::MessageDelivered { message } => {
                format!(
                    "received {} from {}",
                    self.describe_message(message),
                    self.display_name(self.message(message).sender)
                )
            }
            EventKind::MessageDropped { message, reason } => {
                format!("{} dropped: {}", self.describe_message(message), describe_drop(reason))
            }
            EventKind::Blocked { on } => self.describe_blocked_on(on),
            EventKind::Woken { call, error: None } => format!("woken: {call} returns"),
            EventKind::Woken { call, error: Some(error) } => format!("woken: {call} fails: {error}"),
            EventKind::Switched { direct: true } => "runs (direct switch by IPC)".to_owned(),
            EventKind::Switched { direct: false } => "runs (context switch)".to_owned(),
            EventKind::Signalled { notification, bits } => {
                format!("signal {} bits {:#x}", self.describe_object(notification), self.bits(bits))
            }
            EventKind::Interrupt { notification, bits } => {
                let mut text =
                    format!("interrupt into {} bits {:#x}", self.describe_object(notification), self.bits(bits));
                if let Some(meaning) = self.interrupt_meaning(notification) {
                    text.push_str(": ");
                    text.push_str(meaning);
                }
                text
            }
            EventKind::Capability { .. }
            | EventKind::ReplyCapabilityCreated { .. }
            | EventKind::ReplyCapabilityUsed { .. } => {
                let change = self.capability_change(event).expect("a capability event records a change");
                self.describe_capability_change(change)
            }
            EventKind::PriorityChanged { priority } => format!("runs at priority {priority}"),
            EventKind::Computed { cycles } => format!("computed {cycles} cycles"),
            EventKind::Idle { until } => format!("idle until {until}"),
            EventKind::AwaitingBoot => "waits for the servers to finish booting".to_owned(),
            EventKind::BootWork { cycles } => format!("boot: the services inside the kernel start up, {cycles} cycles"),
            EventKind::BootDone => "boot done: every server is ready, programs start".to_owned(),
            EventKind::Faulted { reason } => format!("faulted: {reason}"),
            EventKind::Exited { code } => format!("exited with code {code}"),
            EventKind::RunEnded { outcome } => format!("run ended: {}", outcome.wording()),
        }
    }

    /// A capability change in words: `slot 2: minted endpoint #3 of pong [s----] badge 7`.
    pub fn describe_capability_change(&self, change: CapabilityChange) -> String {
        let CapabilityChange { op, slot, object, rights, badge } = change;
        if matches!(op, CapabilityOp::ReplyCreated | CapabilityOp::ReplyUsed) {
            let used = if op == CapabilityOp::ReplyUsed { " used" } else { "" };
            return format!("{slot}: reply capability {object}{used}");
        }
        let badge = if badge.0 == 0 { String::new() } else { format!(" badge {}", badge.0) };
        format!("{slot}: {} {} [{rights}]{badge}", describe_capability_op(op), self.describe_object(object))
    }

    /// An operation's name from its label (`fs.read`), or `operation N` when no describer knows it.
    pub fn operation_name(&self, label: u32) -> String {
        match self.describer().and_then(|describer| (describer.operation)(label)) {
            Some(name) => name.to_owned(),
            None => format!("operation {label}"),
        }
    }

    fn describe_sent(&self, message: MessageId) -> String {
        let record = self.message(message);
        let target = match record.kind {
            MessageKind::Reply => match self.receiver_of(message) {
                Some(caller) => self.display_name(caller).into_owned(),
                None => "?".to_owned(),
            },
            _ => self.describe_object(record.port),
        };
        format!("──{}──▶ {target}", self.describe_message(message))
    }

    /// One event as a trace line: time, process, description.
    pub fn line(&self, event: &Event) -> String {
        format!("{:>10}  {:<12} {}", event.time, self.display_name(event.process), self.describe(event))
    }

    /// The whole log as text, one event a line.
    pub fn render_text(&self) -> String {
        let mut text = String::new();
        for event in self.events() {
            text.push_str(&self.line(event));
            text.push('\n');
        }
        text
    }
}

fn describe_drop(reason: DropReason) -> &'static str {
    match reason {
        DropReason::ReceiverDied => "receiver died",
        DropReason::SenderDied => "sender died",
        DropReason::CallerGone => "caller gone",
        DropReason::TimedOut => "timed out",
    }
}

fn describe_capability_op(op: CapabilityOp) -> &'static str {
    match op {
        CapabilityOp::Granted => "granted",
        CapabilityOp::Created => "created",
        CapabilityOp::Copied => "copied",
        CapabilityOp::Minted => "minted",
        CapabilityOp::Deleted => "deleted",
        CapabilityOp::Revoked => "revoked",
        CapabilityOp::SentAway => "sent away",
        CapabilityOp::Received => "received",
        CapabilityOp::ReplyCreated => "reply capability for",
        CapabilityOp::ReplyUsed => "used",
    }
}

impl Kernel {
    /// A process's current state in words.
    pub fn describe_state(&self, id: ProcessId) -> String {
        self.log.describe_state(self.process(id).state)
    }
}
