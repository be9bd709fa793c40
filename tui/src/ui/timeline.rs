//! The run as the UI sees it: the event log, the state of the system after
//! any step (rebuilt from checkpoints, so going backwards is exact), and the
//! rows of the message-flow view.
//!
//! The state at step N is computed only from the log: the nearest
//! checkpoint at or before N, then the events up to N replayed. Whichever
//! way the user arrives at step N, the screen is the same.

use mksim_kernel::event::{BlockedOn, CapabilityChange, CapabilityOp, Event, EventKind, EventLog};
use mksim_kernel::message::{MessageId, MessageKind};
use mksim_kernel::syscall::SyscallKind;
use mksim_kernel::{Badge, FaultReason, ObjectId, Priority, Rights};
use mksim_userland::protocol::{ConsoleRequest, Request, decode};
use std::collections::BTreeMap;

/// Events between two stored snapshots, for up to [`PROCESSES_PER_INTERVAL`] processes.
const CHECKPOINT_EVERY: usize = 1024;
/// A snapshot grows with the processes; past this many, checkpoints are spaced further apart
/// so that their memory stays proportional to the log, not to the log times the processes.
const PROCESSES_PER_INTERVAL: usize = 64;

/// What a process is doing, as far as the log tells.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Activity {
    /// Waiting for the processor.
    Ready,
    /// On the processor.
    Running,
    /// Waiting for something.
    Blocked(BlockedOn),
    /// Ended with an exit code.
    Exited(i32),
    /// Ended by the kernel.
    Faulted(FaultReason),
    /// Stopped by a kernel panic, with its work.
    Lost,
    /// Created, waiting for the servers to finish booting.
    AwaitingBoot,
}

/// A capability in a process's table.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct HeldCap {
    /// The object.
    pub object: ObjectId,
    /// Its rights.
    pub rights: Rights,
    /// Its badge.
    pub badge: Badge,
    /// A reply capability (made for an incoming call).
    pub reply: bool,
}

/// One process at some step.
#[derive(Clone, PartialEq, Eq, Debug)]
pub struct ProcessView {
    /// Index in the process table.
    pub index: u32,
    /// Fixed priority.
    pub base_priority: Priority,
    /// Priority it runs at (raised by inheritance).
    pub priority: Priority,
    /// What it does.
    pub activity: Activity,
    /// Cycles it has run.
    pub cycles: u64,
    /// Messages it sent.
    pub sent: u64,
    /// Messages it received.
    pub received: u64,
    /// Its capability table.
    pub caps: BTreeMap<u32, HeldCap>,
    /// Its console output so far.
    pub console: String,
    /// How many times a supervisor has restarted it.
    pub incarnation: u32,
}

/// The whole system at some step.
#[derive(Clone, PartialEq, Eq, Debug, Default)]
pub struct Snapshot {
    /// Events applied (the state after event `applied - 1`).
    pub applied: usize,
    /// Virtual time.
    pub time: u64,
    /// Processes by index.
    pub processes: Vec<ProcessView>,
    /// Messages waiting on each port.
    pub waiting: BTreeMap<ObjectId, Vec<MessageId>>,
    /// Bits signalled into each notification so far (taken bits are not tracked by the log).
    pub signalled: BTreeMap<ObjectId, u64>,
    running: Option<u32>,
}

impl Snapshot {
    fn process(&mut self, index: u32) -> Option<&mut ProcessView> {
        self.processes.get_mut(index as usize)
    }

    /// Applies one event.
    fn apply(&mut self, log: &EventLog, event: &Event) {
        let elapsed = event.time.saturating_sub(self.time);
        if let Some(running) = self.running
            && let Some(process) = self.process(running)
        {
            process.cycles += elapsed;
        }
        self.time = event.time;
        self.applied += 1;
        let index = event.process.index;
        match event.kind {
            EventKind::Spawned { priority } => {
                let view = ProcessView {
                    index,
                    base_priority: priority,
                    priority,
                    activity: Activity::Ready,
                    cycles: 0,
                    sent: 0,
                    received: 0,
                    caps: BTreeMap::new(),
                    console: String::new(),
                    incarnation: 0,
                };
                if index as usize == self.processes.len() {
                    self.processes.push(view);
                } else if let Some(slot) = self.process(index) {
                    *slot = view;
                }
            }
            EventKind::Switched { .. } => {
                if let Some(previous) = self.running.take()
                    && let Some(process) = self.process(previous)
                    && process.activity == Activity::Running
                {
                    process.activity = Activity::Ready;
                }
                self.set_activity(index, Activity::Running);
                self.running = Some(index);
            }
            EventKind::Blocked { on } => self.stop_running(index, Activity::Blocked(on)),
            EventKind::AwaitingBoot => self.set_activity(index, Activity::AwaitingBoot),
            EventKind::BootDone => {
                for process in &mut self.processes {
                    if process.activity == Activity::AwaitingBoot {
                        process.activity = Activity::Ready;
                    }
                }
            }
            EventKind::Woken { .. } => self.set_activity(index, Activity::Ready),
            EventKind::Exited { code } => self.end(index, Activity::Exited(code)),
            EventKind::Faulted { reason } => self.end(index, Activity::Faulted(reason)),
            EventKind::Restarted => {
                if let Some(process) = self.process(index) {
                    process.activity = Activity::Ready;
                    process.priority = process.base_priority;
                    process.incarnation = event.process.generation;
                }
            }
            EventKind::KernelPanicked { .. } => {
                self.running = None;
                for process in &mut self.processes {
                    if !matches!(process.activity, Activity::Exited(_) | Activity::Faulted(_)) {
                        process.activity = Activity::Lost;
                    }
                }
            }
            EventKind::PriorityChanged { priority } => {
                if let Some(process) = self.process(index) {
                    process.priority = priority;
                }
            }
            EventKind::MessageSent { message } => self.sent(log, index, message),
            EventKind::ServiceCalled { message } => self.console_text(log, index, message),
            EventKind::MessageDelivered { message } => {
                if let Some(process) = self.process(index) {
                    process.received += 1;
                }
                self.unqueue(log, message);
            }
            EventKind::MessageDropped { message, .. } => self.unqueue(log, message),
            EventKind::Capability { .. }
            | EventKind::ReplyCapabilityCreated { .. }
            | EventKind::ReplyCapabilityUsed { .. } => {
                let change = log.capability_change(event).expect("a capability event records a change");
                let CapabilityChange { op, slot, object, rights, badge } = change;
                let reply = op == CapabilityOp::ReplyCreated;
                self.capability(index, op, slot.0, HeldCap { object, rights, badge, reply })
            }
            EventKind::Signalled { notification, bits } | EventKind::Interrupt { notification, bits } => {
                *self.signalled.entry(notification).or_default() |= log.bits(bits);
            }
            _ => {}
        }
    }

    fn set_activity(&mut self, index: u32, activity: Activity) {
        if let Some(process) = self.process(index) {
            process.activity = activity;
        }
    }

    fn stop_running(&mut self, index: u32, activity: Activity) {
        self.set_activity(index, activity);
        if self.running == Some(index) {
            self.running = None;
        }
    }

    fn end(&mut self, index: u32, activity: Activity) {
        self.stop_running(index, activity);
        if let Some(process) = self.process(index) {
            process.caps.clear();
        }
    }

    fn sent(&mut self, log: &EventLog, index: u32, message: MessageId) {
        if let Some(process) = self.process(index) {
            process.sent += 1;
        }
        let record = log.message(message);
        if matches!(record.kind, MessageKind::Send | MessageKind::Call | MessageKind::Async) {
            self.waiting.entry(record.port).or_default().push(message);
        }
        self.console_text(log, index, message);
    }

    /// Console output is the text of console writes, by the process that wrote it.
    fn console_text(&mut self, log: &EventLog, index: u32, message: MessageId) {
        let record = log.message(message);
        let write_label = ConsoleRequest::Write { text: String::new() }.label();
        if record.label != write_label {
            return;
        }
        if let Some(ConsoleRequest::Write { text }) = decode::<ConsoleRequest>(log.message_data(message))
            && let Some(process) = self.process(index)
        {
            process.console.push_str(&text);
        }
    }

    fn unqueue(&mut self, log: &EventLog, message: MessageId) {
        let port = log.message(message).port;
        if let Some(queue) = self.waiting.get_mut(&port) {
            queue.retain(|&waiting| waiting != message);
            if queue.is_empty() {
                self.waiting.remove(&port);
            }
        }
    }

    fn capability(&mut self, index: u32, op: CapabilityOp, slot: u32, held: HeldCap) {
        let Some(process) = self.process(index) else { return };
        match op {
            CapabilityOp::Granted
            | CapabilityOp::Created
            | CapabilityOp::Copied
            | CapabilityOp::Minted
            | CapabilityOp::Received
            | CapabilityOp::ReplyCreated => {
                process.caps.insert(slot, held);
            }
            CapabilityOp::Deleted | CapabilityOp::Revoked | CapabilityOp::SentAway | CapabilityOp::ReplyUsed => {
                process.caps.remove(&slot);
            }
        }
    }
}

/// How a row of the message-flow view is drawn.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum RowKind {
    /// A message from one process to another (or to the kernel, for a service call).
    Message(MessageKind),
    /// A message thrown away.
    Dropped,
    /// A notification signalled (or an interrupt, from the kernel).
    Signal,
    /// A process ended.
    Ended,
    /// A process was faulted.
    Fault,
    /// A message syscall failed (errors are values: the caller carries on).
    Failed,
    /// A fault was injected.
    Injected,
    /// A supervisor restarted the process.
    Restarted,
    /// A client tried an operation again after its server died.
    Retried,
    /// Service code in the kernel failed: the system stopped.
    Panic,
    /// Every server is ready: a line across all lanes, after which programs run and the work
    /// the modes are compared on begins.
    BootDone,
}

/// One row of the message-flow view.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct FlowRow {
    /// The event it shows.
    pub event: u32,
    /// From which process (`None`: the kernel).
    pub from: Option<u32>,
    /// To which process (`None`: the kernel; equal to `from` for marks on one lane).
    pub to: Option<u32>,
    /// What it is.
    pub kind: RowKind,
}

/// The log, checkpoints and flow rows of one run.
pub struct Timeline {
    /// The event log.
    pub log: EventLog,
    checkpoints: Vec<Snapshot>,
    /// Events between two checkpoints.
    interval: usize,
    /// Rows of the message-flow view, in log order.
    pub rows: Vec<FlowRow>,
    /// Some row starts or ends at the kernel (interrupts, service calls), so it gets a lane.
    pub kernel_lane: bool,
    /// Each row's searchable text (lowercase: sender, receiver, what it says).
    search_text: std::cell::OnceCell<Vec<String>>,
}

fn owner_of(log: &EventLog, object: ObjectId) -> Option<u32> {
    log.object_info(object).and_then(|info| info.owner).map(|owner| owner.index)
}

fn flow_row(log: &EventLog, index: usize, event: &Event) -> Option<FlowRow> {
    let process = (!event.process.is_kernel()).then_some(event.process.index);
    let row = |from, to, kind| Some(FlowRow { event: index as u32, from, to, kind });
    match event.kind {
        EventKind::MessageSent { message } => {
            let to = log.receiver_of(message).map(|receiver| receiver.index);
            row(process, to, RowKind::Message(log.message(message).kind))
        }
        EventKind::ServiceCalled { .. } => row(process, None, RowKind::Message(MessageKind::Service)),
        EventKind::MessageDropped { .. } => row(process, process, RowKind::Dropped),
        EventKind::Signalled { notification, .. } | EventKind::Interrupt { notification, .. } => {
            row(process, owner_of(log, notification), RowKind::Signal)
        }
        EventKind::Exited { .. } => row(process, process, RowKind::Ended),
        EventKind::SyscallReturned { call, error: Some(_) } | EventKind::Woken { call, error: Some(_) }
            if call.is_ipc() || matches!(call, SyscallKind::Receive | SyscallKind::TryReceive) =>
        {
            row(process, process, RowKind::Failed)
        }
        EventKind::Faulted { .. } => row(process, process, RowKind::Fault),
        EventKind::FaultInjected { .. } => row(process, process, RowKind::Injected),
        EventKind::Restarted => row(process, process, RowKind::Restarted),
        EventKind::OperationRetried { .. } => row(process, process, RowKind::Retried),
        EventKind::KernelPanicked { .. } => row(process, process, RowKind::Panic),
        EventKind::BootDone => row(None, None, RowKind::BootDone),
        _ => None,
    }
}

impl Timeline {
    /// Indexes a finished run's log.
    pub fn new(log: EventLog) -> Timeline {
        let processes = log.events().iter().filter(|event| matches!(event.kind, EventKind::Spawned { .. })).count();
        let interval = CHECKPOINT_EVERY * processes.div_ceil(PROCESSES_PER_INTERVAL).max(1);
        let mut checkpoints = vec![Snapshot::default()];
        let mut state = Snapshot::default();
        let mut rows = Vec::new();
        for (index, event) in log.events().iter().enumerate() {
            state.apply(&log, event);
            if let Some(row) = flow_row(&log, index, event) {
                rows.push(row);
            }
            if state.applied % interval == 0 {
                checkpoints.push(state.clone());
            }
        }
        let kernel_lane =
            rows.iter().any(|row| row.kind != RowKind::BootDone && (row.from.is_none() || row.to.is_none()));
        let timeline =
            Timeline { log, checkpoints, interval, rows, kernel_lane, search_text: std::cell::OnceCell::new() };
        // Made now, on the worker thread, so the first search does not stall the UI on a long run.
        timeline.search_text();
        timeline
    }

    /// Number of events.
    pub fn len(&self) -> usize {
        self.log.len()
    }

    /// True for an empty log.
    pub fn is_empty(&self) -> bool {
        self.log.is_empty()
    }

    /// The state after event `step` (after nothing, when the log is empty).
    pub fn snapshot_at(&self, step: usize) -> Snapshot {
        let wanted = (step + 1).min(self.len());
        let mut state = self.checkpoints[wanted / self.interval].clone();
        for event in &self.log.events()[state.applied..wanted] {
            state.apply(&self.log, event);
        }
        state
    }

    /// The lowercase text a search matches for each row: who sent it, to whom, and what it says.
    pub fn search_text(&self) -> &[String] {
        self.search_text.get_or_init(|| {
            let name = |lane: Option<u32>| match lane {
                Some(index) => self.log.process_name(mksim_kernel::ProcessId { index, generation: 0 }),
                None => "kernel",
            };
            self.rows
                .iter()
                .map(|row| {
                    format!("{} {} {}", name(row.from), name(row.to), super::app::row_text(self, row)).to_lowercase()
                })
                .collect()
        })
    }

    /// The index of the last flow row at or before event `step`.
    pub fn row_at(&self, step: usize) -> Option<usize> {
        self.rows.partition_point(|row| row.event as usize <= step).checked_sub(1)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use mksim_kernel::KernelConfig;

    fn timeline() -> Timeline {
        let mut kernel = mksim_userland::demo::ping_pong(KernelConfig::default(), 3000);
        kernel.run();
        Timeline::new(kernel.log().clone())
    }

    #[test]
    fn a_snapshot_is_the_same_from_a_checkpoint_as_from_the_start() {
        let timeline = timeline();
        assert!(timeline.len() > 3 * CHECKPOINT_EVERY);
        let step = 2 * CHECKPOINT_EVERY + 17;
        let mut replayed = Snapshot::default();
        for event in &timeline.log.events()[..=step] {
            replayed.apply(&timeline.log, event);
        }
        assert_eq!(timeline.snapshot_at(step), replayed);
    }

    #[test]
    fn the_state_follows_the_calls() {
        let timeline = timeline();
        let last = timeline.snapshot_at(timeline.len() - 1);
        let ping = &last.processes[1];
        assert_eq!(ping.activity, Activity::Exited(0));
        assert_eq!(ping.sent, 3000);
        assert!(matches!(last.processes[0].activity, Activity::Blocked(BlockedOn::Receive(_))));
        let call_row = timeline.rows.iter().find(|row| row.kind == RowKind::Message(MessageKind::Call)).unwrap();
        assert_eq!((call_row.from, call_row.to), (Some(1), Some(0)));
    }
}
