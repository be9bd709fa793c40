//! The typed event log: every kernel event, in order, with its virtual time.
//!
//! It is the single source of truth for every view (text trace, exports, the
//! TUI). Events are small fixed-size values; message contents are kept once,
//! in a side table of [`MessageRecord`]s and a byte arena, and events refer to
//! them by [`MessageId`]. The few details too big for an event (most
//! capability changes, the bits of signals) live in side tables of their own.

use crate::capability::Rights;
use crate::error::{FaultReason, SysError};
pub use crate::fault::InjectedFault;
use crate::ids::{Badge, ObjectId, Priority, ProcessId, Slot};
use crate::message::{MessageId, MessageKind};
use crate::object::ObjectKind;
use crate::syscall::SyscallKind;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::num::NonZeroU32;

/// One kernel event. Its sequence number is its position in the log.
#[derive(Clone, Copy, PartialEq, Eq, Debug, Serialize, Deserialize)]
pub struct Event {
    /// Virtual time in cycles when it happened.
    pub time: u64,
    /// The process it concerns, or [`ProcessId::KERNEL`].
    pub process: ProcessId,
    /// What happened.
    pub kind: EventKind,
}

/// What a blocked process waits for, as recorded in the log.
#[derive(Clone, Copy, PartialEq, Eq, Debug, Serialize, Deserialize)]
pub enum BlockedOn {
    /// Sending to a port (no receiver yet, or the queue is full).
    Send(ObjectId),
    /// Receiving from a port.
    Receive(ObjectId),
    /// Waiting for the reply of this process.
    Reply(ProcessId),
    /// Waiting for notification bits.
    Notification(ObjectId),
    /// Sleeping until this time.
    Sleep(u64),
    /// In a kernel service, waiting for a device until this time (monolithic mode).
    Device(u64),
    /// In a kernel service, waiting on a channel of its module (monolithic mode).
    Channel(crate::syscall::WaitChannel),
}

/// Why a message never reached its receiver.
#[derive(Clone, Copy, PartialEq, Eq, Debug, Serialize, Deserialize)]
pub enum DropReason {
    /// The port's owner died with the message still queued or its sender waiting.
    ReceiverDied,
    /// The sender died while its message waited.
    SenderDied,
    /// The caller had gone (died or timed out) before the reply came.
    CallerGone,
    /// The sender's timeout expired before a receiver took the message.
    TimedOut,
}

/// A change to some process's capability table.
#[derive(Clone, Copy, PartialEq, Eq, Debug, Serialize, Deserialize)]
pub enum CapabilityOp {
    /// Given by the system setup.
    Granted,
    /// Made by creating a new object.
    Created,
    /// Copied from another slot.
    Copied,
    /// Copied with a badge.
    Minted,
    /// Deleted by its holder.
    Deleted,
    /// Removed because a capability it was derived from was revoked.
    Revoked,
    /// Left the table inside a message (move).
    SentAway,
    /// Arrived inside a message.
    Received,
    /// A reply capability made for an incoming call.
    ReplyCreated,
    /// A reply capability used up by replying.
    ReplyUsed,
}

/// A change to some process's capability table, in full.
///
/// Read it from an event with [`EventLog::capability_change`]: the event itself
/// holds either an index into the log's table of changes or, for the reply
/// capabilities every call makes and every reply uses, the change in short.
#[allow(missing_docs)]
#[derive(Clone, Copy, PartialEq, Eq, Debug, Serialize, Deserialize)]
pub struct CapabilityChange {
    pub op: CapabilityOp,
    pub slot: Slot,
    pub object: ObjectId,
    pub rights: Rights,
    pub badge: Badge,
}

impl CapabilityChange {
    /// The short event for a reply capability made or used up, when it has the rights and badge
    /// the kernel gives every reply capability, so the short event says it all.
    fn as_reply_event(&self) -> Option<EventKind> {
        if self.rights != REPLY_RIGHTS || self.badge != Badge::NONE {
            return None;
        }
        let CapabilityChange { slot, object, .. } = *self;
        match self.op {
            CapabilityOp::ReplyCreated => Some(EventKind::ReplyCapabilityCreated { slot, object }),
            CapabilityOp::ReplyUsed => Some(EventKind::ReplyCapabilityUsed { slot, object }),
            _ => None,
        }
    }

    /// A reply capability change, as its short event stands for.
    fn reply(op: CapabilityOp, slot: Slot, object: ObjectId) -> CapabilityChange {
        CapabilityChange { op, slot, object, rights: REPLY_RIGHTS, badge: Badge::NONE }
    }
}

/// The rights of every reply capability: it can answer its call, nothing more.
const REPLY_RIGHTS: Rights = Rights::SEND;

/// Where the log keeps a capability change that does not fit in its event.
#[derive(Clone, Copy, PartialEq, Eq, Debug, Serialize, Deserialize)]
pub struct CapabilityChangeId(u32);

/// Where the log keeps the bits of a signal or an interrupt (a whole word does not fit in the
/// event); read them with [`EventLog::bits`].
#[derive(Clone, Copy, PartialEq, Eq, Debug, Serialize, Deserialize)]
pub struct BitsId(u32);

/// How a run ended.
#[derive(Clone, Copy, PartialEq, Eq, Debug, Serialize, Deserialize)]
pub enum OutcomeKind {
    /// Every program finished; only servers were left waiting.
    Completed,
    /// Nothing could run and some program was still blocked.
    Deadlock,
    /// The step limit was reached first.
    StepLimit,
    /// Service code inside the kernel failed and took the whole system down.
    KernelPanic,
    /// The memory budget was reached first.
    MemoryLimit,
}

impl OutcomeKind {
    /// Every kind, in the order a report lists them.
    pub const ALL: [OutcomeKind; 5] = [
        OutcomeKind::Completed,
        OutcomeKind::Deadlock,
        OutcomeKind::StepLimit,
        OutcomeKind::KernelPanic,
        OutcomeKind::MemoryLimit,
    ];

    /// The name in machine-readable output (JSON, JSON Lines): `completed`, `deadlock`,
    /// `step_limit`, `kernel_panic`, `memory_limit`. Every output spells an outcome this way and
    /// no other.
    pub fn name(self) -> &'static str {
        match self {
            OutcomeKind::Completed => "completed",
            OutcomeKind::Deadlock => "deadlock",
            OutcomeKind::StepLimit => "step_limit",
            OutcomeKind::KernelPanic => "kernel_panic",
            OutcomeKind::MemoryLimit => "memory_limit",
        }
    }

    /// The words text for people uses: `completed`, `deadlock`, `stopped at the step limit`,
    /// `kernel panic`, `stopped at the memory limit`.
    pub fn wording(self) -> &'static str {
        match self {
            OutcomeKind::Completed => "completed",
            OutcomeKind::Deadlock => "deadlock",
            OutcomeKind::StepLimit => "stopped at the step limit",
            OutcomeKind::KernelPanic => "kernel panic",
            OutcomeKind::MemoryLimit => "stopped at the memory limit",
        }
    }

    /// How a run with this end ended, to follow "the run": `completed`, `ended in a deadlock`,
    /// `stopped at the step limit`, `ended in a kernel panic`, `stopped at the memory limit`.
    pub fn ended(self) -> String {
        match self {
            OutcomeKind::Completed | OutcomeKind::StepLimit | OutcomeKind::MemoryLimit => self.wording().to_owned(),
            OutcomeKind::Deadlock | OutcomeKind::KernelPanic => format!("ended in a {}", self.wording()),
        }
    }
}

/// Every kind of kernel event.
///
/// It takes 16 bytes, so an [`Event`] takes 32: the tag shares the spare values of
/// [`BlockedOn`]'s, and every other variant's fields fit in the 12 bytes after it
/// (one 8-byte word at most). Bigger details go to the log's side tables.
// Variant fields are named for what they hold; the variant's doc says the rest.
#[allow(missing_docs)]
#[derive(Clone, Copy, PartialEq, Eq, Debug, Serialize, Deserialize)]
pub enum EventKind {
    /// The process was created.
    Spawned { priority: Priority },
    /// An object was created, owned by the event's process (or by no one: [`ProcessId::KERNEL`]).
    Created { object: ObjectId, kind: ObjectKind },
    /// The process trapped into the kernel.
    SyscallEntered { call: SyscallKind },
    /// The syscall returned at once.
    SyscallReturned { call: SyscallKind, error: Option<SysError> },
    /// A message entered a port (queued, waiting with its sender, or handed over).
    MessageSent { message: MessageId },
    /// A service ran inside the kernel for the process (monolithic mode); the record holds the request.
    ServiceCalled { message: MessageId },
    /// The program began an operation (a client-stub call such as `fs.read`).
    OperationBegan { label: u32 },
    /// The program's operation ended.
    OperationEnded { label: u32, failed: bool },
    /// The program tries the operation `label` again after its server died (a free marker).
    OperationRetried { label: u32 },
    /// A scripted program reached this line of its script: what it asks next is asked there
    /// (a free marker, left when the line changes).
    ScriptLine { line: u32 },
    /// A service's state after a request changed it (a free marker): what its pipes, queues or
    /// sockets hold, read with [`EventLog::service_state`].
    ServiceState { module: crate::fault::ServiceModule, state: crate::service_state::StateId },
    /// A fault was injected into this process (or, in monolithic mode, into the service code
    /// it had called in the kernel).
    FaultInjected { fault: InjectedFault },
    /// A dead process was started again as a new incarnation (the event's process id).
    Restarted,
    /// Service code inside the kernel failed: the whole system stops.
    KernelPanicked { fault: InjectedFault },
    /// A message reached its receiver (the event's process).
    MessageDelivered { message: MessageId },
    /// A message was thrown away.
    MessageDropped { message: MessageId, reason: DropReason },
    /// The process blocked.
    Blocked { on: BlockedOn },
    /// A blocked process became ready; its syscall returns with this result.
    Woken { call: SyscallKind, error: Option<SysError> },
    /// The processor switched to this process; `direct` when an IPC handed over without the scheduler.
    Switched { direct: bool },
    /// A notification was signalled with these bits.
    Signalled { notification: ObjectId, bits: BitsId },
    /// A timer interrupt fired into a notification with these bits.
    Interrupt { notification: ObjectId, bits: BitsId },
    /// A capability table changed; [`EventLog::capability_change`] tells how.
    Capability { change: CapabilityChangeId },
    /// A reply capability was made for an incoming call.
    ///
    /// There is one per call, so it is kept apart from [`EventKind::Capability`]: it fits in the
    /// event, with nothing to write elsewhere. [`EventLog::capability_change`] reads it all the same.
    ReplyCapabilityCreated { slot: Slot, object: ObjectId },
    /// A reply capability was used up by replying; like [`EventKind::ReplyCapabilityCreated`], one per call.
    ReplyCapabilityUsed { slot: Slot, object: ObjectId },
    /// The process's effective priority changed (priority inheritance).
    PriorityChanged { priority: Priority },
    /// The process used the processor for this many cycles.
    Computed { cycles: u64 },
    /// Nothing could run; virtual time jumped to `until`.
    Idle { until: u64 },
    /// The process was faulted.
    Faulted { reason: FaultReason },
    /// The process exited.
    Exited { code: i32 },
    /// The process was created but waits for the boot to finish before it runs.
    AwaitingBoot,
    /// The kernel did start-up work itself (its service modules in a monolithic kernel: the file
    /// system mounting), charged to the boot.
    BootWork { cycles: u64 },
    /// Every server the boot waited for is ready: programs start now, and the work counted
    /// against the modes starts here.
    BootDone,
    /// The run ended.
    RunEnded { outcome: OutcomeKind },
}

/// A message's details, recorded once when it is sent.
#[derive(Clone, Copy, PartialEq, Eq, Debug, Serialize, Deserialize)]
pub struct MessageRecord {
    /// Who sent it.
    pub sender: ProcessId,
    /// The port it went through (for replies, the reply object).
    pub port: ObjectId,
    /// How it travelled.
    pub kind: MessageKind,
    /// The badge the receiver sees.
    pub badge: Badge,
    /// The operation label.
    pub label: u32,
    /// Capabilities carried.
    pub caps: u32,
    /// For a reply: one more than the id of the call it answers. The call was recorded before
    /// the reply, so its id is below `u32::MAX` and this never overflows; the niche of
    /// `NonZeroU32` keeps the option in four bytes.
    answers: Option<NonZeroU32>,
    /// Where the message's data ends in the log's byte arena. It starts where the previous
    /// message's ends, so the start and the length need no room of their own.
    data_end: u64,
}

impl MessageRecord {
    /// For a reply: the call it answers.
    pub fn answers(&self) -> Option<MessageId> {
        self.answers.map(|call| MessageId(call.get() - 1))
    }
}

/// Puts protocol messages into words. Protocols live above the kernel, so views hand these in.
#[derive(Clone, Copy, Debug)]
pub struct MessageDescriber {
    /// A message from its label and data: `fs.read(fd=3, len=512)`.
    pub content: fn(label: u32, data: &[u8]) -> Option<String>,
    /// An operation from its label: `fs.read`.
    pub operation: fn(label: u32) -> Option<&'static str>,
    /// A service's state summary from its bytes: `pipe #0 9/4096 B, 1 reader, 1 writer`.
    pub state: fn(module: crate::fault::ServiceModule, data: &[u8]) -> Option<String>,
    /// What a service inside the kernel answered a request with this label: `fs.open → fd 3`.
    pub answer: fn(label: u32, data: &[u8]) -> Option<String>,
}

/// The event log and the messages it refers to.
#[derive(Clone, Debug, Default)]
pub struct EventLog {
    /// How views name message contents; protocols live above the kernel.
    describer: Option<MessageDescriber>,
    events: Vec<Event>,
    messages: Vec<MessageRecord>,
    payload: Vec<u8>,
    /// Capability changes other than those of plain reply capabilities, by [`CapabilityChangeId`].
    capability_changes: Vec<CapabilityChange>,
    /// The bits of signals and interrupts, by [`BitsId`].
    bits: Vec<u64>,
    process_names: Vec<String>,
    /// The indexes of the processes created as servers (they serve until the run ends).
    servers: std::collections::BTreeSet<u32>,
    objects: BTreeMap<ObjectId, ObjectInfo>,
    /// Services' state summaries, by [`crate::service_state::StateId`].
    pub(crate) service_states: crate::service_state::ServiceStates,
    /// What an interrupt into a notification means, where the system that made it said so
    /// (`disk transfer done`). Words for views, like the describer: not part of what happened.
    interrupt_meanings: BTreeMap<ObjectId, &'static str>,
    /// What each service call inside the kernel (monolithic mode) answered, by the call's
    /// message, encoded as its server would have replied.
    service_answers: BTreeMap<MessageId, Box<[u8]>>,
}

/// What the log remembers of every object ever created, so views can name it after it died.
#[derive(Clone, Copy, PartialEq, Eq, Debug, Serialize, Deserialize)]
pub struct ObjectInfo {
    /// Its kind.
    pub kind: ObjectKind,
    /// The process it died with, or (for reply objects) the process that held it.
    pub owner: Option<ProcessId>,
}

impl PartialEq for EventLog {
    fn eq(&self, other: &Self) -> bool {
        self.events == other.events
            && self.messages == other.messages
            && self.payload == other.payload
            && self.capability_changes == other.capability_changes
            && self.bits == other.bits
            && self.process_names == other.process_names
            && self.servers == other.servers
            && self.objects == other.objects
            && self.service_states == other.service_states
            && self.service_answers == other.service_answers
    }
}

impl Eq for EventLog {}

impl EventLog {
    /// Sets how message contents are put into words in every description.
    pub fn set_describer(&mut self, describer: MessageDescriber) {
        self.describer = Some(describer);
    }

    pub(crate) fn describer(&self) -> Option<MessageDescriber> {
        self.describer
    }

    pub(crate) fn mean_interrupt(&mut self, notification: ObjectId, meaning: &'static str) {
        self.interrupt_meanings.insert(notification, meaning);
    }

    /// What an interrupt into `notification` means, if the system said (`disk transfer done`).
    pub fn interrupt_meaning(&self, notification: ObjectId) -> Option<&'static str> {
        self.interrupt_meanings.get(&notification).copied()
    }

    pub(crate) fn mark_server(&mut self, index: u32) {
        self.servers.insert(index);
    }

    /// Whether the process was created as a server (one that serves until the run ends), which
    /// views such as a sequence diagram draw after the programs that call them.
    pub fn is_server(&self, id: ProcessId) -> bool {
        !id.is_kernel() && self.servers.contains(&id.index)
    }

    pub(crate) fn name_process(&mut self, index: u32, name: &str) {
        let index = index as usize;
        if index >= self.process_names.len() {
            self.process_names.resize(index + 1, String::new());
        }
        self.process_names[index] = name.to_owned();
    }

    pub(crate) fn name_object(&mut self, id: ObjectId, kind: ObjectKind, owner: Option<ProcessId>) {
        self.objects.insert(id, ObjectInfo { kind, owner });
    }

    /// The name of a process (`kernel` for [`ProcessId::KERNEL`], `?` if unknown).
    pub fn process_name(&self, id: ProcessId) -> &str {
        if id.is_kernel() {
            return "kernel";
        }
        self.process_names.get(id.index as usize).map_or("?", String::as_str)
    }

    /// What is known of an object, even after it died.
    pub fn object_info(&self, id: ObjectId) -> Option<ObjectInfo> {
        self.objects.get(&id).copied()
    }

    pub(crate) fn push(&mut self, event: Event) {
        self.events.push(event);
    }

    /// Appends several events in order, making room for them once.
    pub(crate) fn extend<const N: usize>(&mut self, events: [Event; N]) {
        self.events.extend_from_slice(&events);
    }

    #[allow(clippy::too_many_arguments)]
    pub(crate) fn record_message(
        &mut self,
        sender: ProcessId,
        port: ObjectId,
        kind: MessageKind,
        badge: Badge,
        label: u32,
        data: &[u8],
        caps: usize,
        answers: Option<MessageId>,
    ) -> MessageId {
        let id = MessageId(u32::try_from(self.messages.len()).expect("more than 4 billion messages in one run"));
        debug_assert!(answers.is_none_or(|call| call < id), "a reply answers an earlier call");
        let answers = answers.map(|call| NonZeroU32::MIN.saturating_add(call.0));
        self.payload.extend_from_slice(data);
        let data_end = self.payload.len() as u64;
        let caps = caps as u32;
        self.messages.push(MessageRecord { sender, port, kind, badge, label, caps, answers, data_end });
        id
    }

    /// The event for a capability change: reply capabilities in short, the rest kept in the side table.
    pub(crate) fn capability_event(&mut self, change: CapabilityChange) -> EventKind {
        if let Some(short) = change.as_reply_event() {
            return short;
        }
        let id =
            u32::try_from(self.capability_changes.len()).expect("more than 4 billion capability changes in one run");
        self.capability_changes.push(change);
        EventKind::Capability { change: CapabilityChangeId(id) }
    }

    /// Keeps the bits of a signal or an interrupt, for its event to refer to.
    pub(crate) fn record_bits(&mut self, bits: u64) -> BitsId {
        let id = u32::try_from(self.bits.len()).expect("more than 4 billion signals in one run");
        self.bits.push(bits);
        BitsId(id)
    }

    /// The capability change an event records, or `None` for other events.
    pub fn capability_change(&self, event: &Event) -> Option<CapabilityChange> {
        match event.kind {
            EventKind::Capability { change } => Some(self.capability_changes[change.0 as usize]),
            EventKind::ReplyCapabilityCreated { slot, object } => {
                Some(CapabilityChange::reply(CapabilityOp::ReplyCreated, slot, object))
            }
            EventKind::ReplyCapabilityUsed { slot, object } => {
                Some(CapabilityChange::reply(CapabilityOp::ReplyUsed, slot, object))
            }
            _ => None,
        }
    }

    /// The bits of a signal or an interrupt.
    pub fn bits(&self, id: BitsId) -> u64 {
        self.bits[id.0 as usize]
    }

    /// All events, oldest first.
    pub fn events(&self) -> &[Event] {
        &self.events
    }

    /// The details of a message.
    pub fn message(&self, id: MessageId) -> &MessageRecord {
        &self.messages[id.0 as usize]
    }

    /// Who a message went to, or was addressed to if it never arrived: the owner of its port,
    /// the caller for a reply, the kernel for a service call. `None` when the log knows no
    /// owner (a port whose owner it never named, a reply to no recorded call).
    pub fn receiver_of(&self, id: MessageId) -> Option<ProcessId> {
        let record = self.message(id);
        match record.kind {
            MessageKind::Reply => record.answers().map(|call| self.message(call).sender),
            MessageKind::Service => Some(ProcessId::KERNEL),
            MessageKind::Send | MessageKind::Call | MessageKind::Async => self.object_info(record.port)?.owner,
        }
    }

    /// The data bytes of a message.
    pub fn message_data(&self, id: MessageId) -> &[u8] {
        let (start, end) = self.data_range(id);
        &self.payload[start as usize..end as usize]
    }

    /// How many data bytes a message carried.
    pub fn message_bytes(&self, id: MessageId) -> u64 {
        let (start, end) = self.data_range(id);
        end - start
    }

    /// Where a message's data lies in the byte arena: from the end of the previous message's to the end of its own.
    fn data_range(&self, id: MessageId) -> (u64, u64) {
        let start = id.0.checked_sub(1).map_or(0, |previous| self.message(MessageId(previous)).data_end);
        (start, self.message(id).data_end)
    }

    /// Every message record, by id.
    pub fn messages(&self) -> &[MessageRecord] {
        &self.messages
    }

    /// Number of events.
    pub fn len(&self) -> usize {
        self.events.len()
    }

    /// True when nothing has happened yet.
    pub fn is_empty(&self) -> bool {
        self.events.is_empty()
    }

    /// Bytes the log holds, events with their side tables and message records, message data aside.
    pub fn memory_bytes(&self) -> usize {
        self.events.len() * size_of::<Event>()
            + self.messages.len() * size_of::<MessageRecord>()
            + self.capability_changes.len() * size_of::<CapabilityChange>()
            + self.bits.len() * size_of::<u64>()
            + self.service_states.memory_bytes()
            + self
                .service_answers
                .values()
                .map(|answer| answer.len() + size_of::<(MessageId, Box<[u8]>)>())
                .sum::<usize>()
    }

    /// Keeps what the service call `message` answered (see [`EventLog::service_answer`]).
    pub(crate) fn record_service_answer(&mut self, message: MessageId, answer: &[u8]) {
        self.service_answers.insert(message, answer.into());
    }

    /// What the service call inside the kernel `message` answered, in words (`fs.open → fd
    /// 3`), when its stub said and the describer knows the service.
    pub fn service_answer(&self, message: MessageId) -> Option<String> {
        let answer = self.service_answers.get(&message)?;
        let describer = self.describer()?;
        let text = (describer.answer)(self.message(message).label, answer)?;
        Some(crate::text::escape_controls(&text).into_owned())
    }

    /// Bytes of message data the log holds.
    pub fn payload_bytes(&self) -> usize {
        self.payload.len()
    }

    /// Everything the log holds, as a run's memory budget counts it: [`EventLog::memory_bytes`],
    /// [`EventLog::payload_bytes`], and the names of processes and objects.
    pub fn held_bytes(&self) -> usize {
        // A B-tree's nodes are at least about half full: twice an entry's size covers its node.
        let directory = self.objects.len() * 2 * size_of::<(ObjectId, ObjectInfo)>();
        let names: usize = self.process_names.iter().map(|name| size_of::<String>() + name.capacity()).sum();
        self.memory_bytes() + self.payload_bytes() + directory + names
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_event_stays_small() {
        assert!(size_of::<Event>() <= 32, "Event is {} bytes", size_of::<Event>());
    }

    #[test]
    fn a_message_record_stays_small() {
        assert!(size_of::<MessageRecord>() <= 48, "MessageRecord is {} bytes", size_of::<MessageRecord>());
    }

    #[test]
    fn each_outcome_has_one_snake_case_name_and_one_wording() {
        let names: Vec<&str> = OutcomeKind::ALL.iter().map(|kind| kind.name()).collect();
        assert_eq!(names, ["completed", "deadlock", "step_limit", "kernel_panic", "memory_limit"]);
        let wordings: Vec<&str> = OutcomeKind::ALL.iter().map(|kind| kind.wording()).collect();
        assert_eq!(
            wordings,
            ["completed", "deadlock", "stopped at the step limit", "kernel panic", "stopped at the memory limit"]
        );
        let ended: Vec<String> = OutcomeKind::ALL.iter().map(|kind| kind.ended()).collect();
        assert_eq!(
            ended,
            [
                "completed",
                "ended in a deadlock",
                "stopped at the step limit",
                "ended in a kernel panic",
                "stopped at the memory limit"
            ]
        );
    }

    #[test]
    fn the_run_ended_event_uses_the_wording() {
        let log = EventLog::default();
        for kind in OutcomeKind::ALL {
            let event = Event { time: 0, process: ProcessId::KERNEL, kind: EventKind::RunEnded { outcome: kind } };
            assert_eq!(log.describe(&event), format!("run ended: {}", kind.wording()));
        }
    }
}
