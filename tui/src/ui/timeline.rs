//! The run as the UI sees it: the event log, the state of the system after
//! any step (rebuilt from checkpoints, so going backwards is exact), and the
//! rows of the message-flow view.
//!
//! The state at step N is computed only from the log: the nearest
//! checkpoint at or before N, then the events up to N replayed through the
//! kernel's [`Replay`] (the same replay the tests hold to the kernel's own
//! state). Whichever way the user arrives at step N, the screen is the same.
//! Only what the kernel cannot read from a message (console text) is added here.

use mksim_kernel::ObjectId;
use mksim_kernel::event::{Event, EventKind, EventLog};
use mksim_kernel::fault::ServiceModule;
use mksim_kernel::message::{MessageId, MessageKind};
use mksim_kernel::replay::Replay;
use mksim_kernel::service_state::StateId;
use mksim_kernel::syscall::SyscallKind;
use mksim_userland::protocol::{ConsoleRequest, Request, decode};

/// Events between two stored snapshots, for up to [`PROCESSES_PER_INTERVAL`] processes.
const CHECKPOINT_EVERY: usize = 1024;
/// A snapshot grows with the processes; past this many, checkpoints are spaced further apart
/// so that their memory stays proportional to the log, not to the log times the processes.
const PROCESSES_PER_INTERVAL: usize = 64;

pub use mksim_kernel::replay::Activity;

/// The whole system at some step: the kernel's [`Replay`] of the log, and what the UI reads
/// from messages besides (each process's console output).
#[derive(Clone, PartialEq, Eq, Debug, Default)]
pub struct Snapshot {
    /// Processes, ports and notifications as the log leaves them.
    pub system: Replay,
    /// Each process's console output so far, by process index.
    consoles: Vec<String>,
    /// The line of its script each scripted process is at, by process index (0: none yet).
    script_lines: Vec<u32>,
    /// Each service's latest state summary, with the process that reported it.
    service_states: std::collections::BTreeMap<ServiceModule, (u32, StateId)>,
}

impl std::ops::Deref for Snapshot {
    type Target = Replay;

    fn deref(&self) -> &Replay {
        &self.system
    }
}

impl Snapshot {
    /// The console output of process `index` so far.
    pub fn console(&self, index: u32) -> &str {
        self.consoles.get(index as usize).map_or("", String::as_str)
    }

    /// The line of its script process `index` has reached, if it runs a script.
    pub fn script_line(&self, index: u32) -> Option<u32> {
        self.script_lines.get(index as usize).copied().filter(|&line| line > 0)
    }

    /// Each service's latest state summary (see [`mksim_kernel::service_state`]), by module,
    /// with the index of the process that reported it (the server in microkernel mode, the
    /// caller whose request changed it in monolithic mode).
    pub fn service_states(&self) -> impl Iterator<Item = (ServiceModule, u32, StateId)> + '_ {
        self.service_states.iter().map(|(&module, &(reporter, state))| (module, reporter, state))
    }

    /// Applies one event.
    fn apply(&mut self, log: &EventLog, event: &Event) {
        self.system.apply(log, event);
        let index = event.process.index;
        match event.kind {
            // A new incarnation in a reused slot starts with a clean console, as its view does.
            EventKind::Spawned { .. } => {
                if let Some(console) = self.consoles.get_mut(index as usize) {
                    console.clear();
                }
                if let Some(line) = self.script_lines.get_mut(index as usize) {
                    *line = 0;
                }
            }
            EventKind::MessageSent { message } | EventKind::ServiceCalled { message } => {
                self.console_text(log, index, message)
            }
            EventKind::ScriptLine { line } => {
                if self.script_lines.len() <= index as usize {
                    self.script_lines.resize(index as usize + 1, 0);
                }
                self.script_lines[index as usize] = line;
            }
            EventKind::ServiceState { module, state } => {
                self.service_states.insert(module, (index, state));
            }
            _ => {}
        }
    }

    /// Console output is the text of console writes, by the process that wrote it.
    fn console_text(&mut self, log: &EventLog, index: u32, message: MessageId) {
        let record = log.message(message);
        let write_label = ConsoleRequest::Write { text: String::new() }.label();
        if record.label != write_label || index as usize >= self.system.processes.len() {
            return;
        }
        if let Some(ConsoleRequest::Write { text }) = decode::<ConsoleRequest>(log.message_data(message)) {
            if self.consoles.len() <= index as usize {
                self.consoles.resize(index as usize + 1, String::new());
            }
            self.consoles[index as usize].push_str(&text);
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

/// Whether the latest event of `event`'s process before `index` is a call into the kernel's
/// services: then what happens to it next happens inside that call.
fn in_service_call(log: &EventLog, index: usize, event: &Event) -> bool {
    log.events()[..index]
        .iter()
        .rev()
        .find(|earlier| earlier.process == event.process)
        .is_some_and(|earlier| matches!(earlier.kind, EventKind::ServiceCalled { .. }))
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
        // A fault struck where the code it hit runs: in monolithic mode that is service code in
        // the kernel, called by the event's process, so the mark goes on the kernel's lane.
        EventKind::FaultInjected { .. } if in_service_call(log, index, event) => row(None, None, RowKind::Injected),
        EventKind::FaultInjected { .. } => row(process, process, RowKind::Injected),
        EventKind::Restarted => row(process, process, RowKind::Restarted),
        EventKind::OperationRetried { .. } => row(process, process, RowKind::Retried),
        // The panic is the kernel's, whoever's call was running: its mark is on the kernel's lane.
        EventKind::KernelPanicked { .. } => row(None, None, RowKind::Panic),
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
                .map(|row| format!("{} {} {}", name(row.from), name(row.to), self.row_text(row)).to_lowercase())
                .collect()
        })
    }

    /// The text drawn on a flow row (what the message says, or what happened).
    pub fn row_text(&self, row: &FlowRow) -> String {
        let log = &self.log;
        let event = &log.events()[row.event as usize];
        match (row.kind, event.kind) {
            (RowKind::Message(_), EventKind::MessageSent { message } | EventKind::ServiceCalled { message }) => {
                log.message_content(message)
            }
            (RowKind::Signal, EventKind::Signalled { bits, .. }) => format!("signal {:#x}", log.bits(bits)),
            (RowKind::Signal, EventKind::Interrupt { bits, .. }) => format!("interrupt {:#x}", log.bits(bits)),
            (RowKind::Dropped, EventKind::MessageDropped { message, .. }) => {
                format!("dropped: {}", log.message_content(message))
            }
            (RowKind::Ended, EventKind::Exited { code }) => format!("exit({code})"),
            (RowKind::Fault, EventKind::Faulted { reason }) => format!("FAULT: {reason}"),
            (RowKind::Injected, EventKind::FaultInjected { fault }) => format!("injected: {}", fault.name()),
            (RowKind::Restarted, _) => "restarted by the supervisor".into(),
            (RowKind::BootDone, _) => "boot done: every server is ready".into(),
            (RowKind::Retried, EventKind::OperationRetried { label }) => format!("retry {}", log.operation_name(label)),
            (RowKind::Panic, EventKind::KernelPanicked { fault }) => format!("KERNEL PANIC ({})", fault.name()),
            (RowKind::Failed, EventKind::SyscallReturned { call, error: Some(error) })
            | (RowKind::Failed, EventKind::Woken { call, error: Some(error) }) => format!("{call} failed: {error}"),
            _ => log.describe(event),
        }
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
    use mksim_kernel::event::BlockedOn;

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
