//! The JSON Lines export: one object per event, the fields of each event kind
//! always in the same order (see the module doc of `export` for the fields).
//! It is also what [`super::trace_hash`] hashes, so any change here changes
//! every trace hash.

use super::json::JsonLine;
use super::{drop_reason_name, owner};
use mksim_kernel::ProcessId;
use mksim_kernel::event::{BlockedOn, CapabilityChange, CapabilityOp, Event, EventKind, EventLog};
use mksim_kernel::message::{MessageId, MessageKind};

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
        EventKind::ScriptLine { .. } => "script_line",
        EventKind::ServiceState { .. } => "service_state",
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

/// How much JSON Lines text is gathered before it is handed on (to the hasher, or the export string).
const JSONL_CHUNK_BYTES: usize = 64 * 1024;

/// Writes the JSON Lines export in chunks of whole lines, so a long log is never held as text at once.
pub(super) fn write_jsonl(log: &EventLog, mut sink: impl FnMut(&str)) {
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
        EventKind::ScriptLine { line } => {
            json.number("line", line);
        }
        EventKind::ServiceState { module, state } => {
            json.string("module", module.name()).string("state", &log.describe_service_state(module, state));
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
        EventKind::Signalled { notification, bits } => {
            let to = owner(log, notification).map(|owner| log.process_name(owner));
            json.object("notification", notification).optional_string("to", to).number("bits", log.bits(bits));
        }
        EventKind::Interrupt { notification, bits } => {
            let to = owner(log, notification).map(|owner| log.process_name(owner));
            json.object("notification", notification).optional_string("to", to).number("bits", log.bits(bits));
            // Only where the system said what it means: other lines stay as they were.
            if let Some(meaning) = log.interrupt_meaning(notification) {
                json.string("meaning", meaning);
            }
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
        BlockedOn::Channel(_) => ("kernel_channel", None, None, None),
    };
    json.string("wait", wait)
        .string("on", &log.describe(event))
        .optional_object("object", object)
        .optional_string("peer", peer.map(|peer| log.process_name(peer)))
        .optional_number("until", until);
    if let BlockedOn::Channel(channel) = on {
        json.string("module", channel.module.name()).number("channel", channel.id);
    }
}
