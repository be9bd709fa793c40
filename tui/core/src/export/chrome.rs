//! The Chrome trace export (for Perfetto or `chrome://tracing`): run slices per
//! process, message flows, instants and async operation spans, written as one
//! JSON array (see the module doc of `export` for how times and ids map).

use super::json::JsonObject;
use super::{Fate, RunInfo, drop_reason_name, message_fates};
use mksim_kernel::ProcessId;
use mksim_kernel::event::{Event, EventKind, EventLog};
use mksim_kernel::message::MessageId;
use mksim_kernel::syscall::SyscallKind;
use serde::Serialize;
use std::collections::{BTreeMap, BTreeSet};
use std::io::Write;

/// The Chrome pid of a process: its index, the `pid` of the JSON Lines export, so one process
/// has one number in both. The kernel, which has no index (`null` there), comes after every process.
fn chrome_pid(id: ProcessId, kernel_pid: u32) -> u32 {
    if id.is_kernel() { kernel_pid } else { id.index }
}

/// Cycles as Chrome's microseconds, one cycle a nanosecond: exact decimals (`3.075` for 3075
/// cycles), so no time is ever rounded and a viewer showing nanoseconds shows cycles.
fn micros(cycles: u64) -> String {
    match cycles % 1000 {
        0 => (cycles / 1000).to_string(),
        rest => format!("{}.{rest:03}", cycles / 1000).trim_end_matches('0').to_owned(),
    }
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
            EventKind::SyscallEntered { call }
                if running && !matches!(call, SyscallKind::KernelService | SyscallKind::KernelResume) =>
            {
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
pub(super) struct ChromeTrace<'a> {
    log: &'a EventLog,
    info: &'a RunInfo,
    /// The kernel's pid: one past the highest process index.
    kernel_pid: u32,
    /// By process index: when it last entered a syscall, where the flow of a message it sends starts.
    syscall_entered: BTreeMap<u32, u64>,
    /// When the open run slice began.
    running_since: u64,
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
    pub(super) fn new(log: &'a EventLog, info: &'a RunInfo) -> ChromeTrace<'a> {
        let kernel_pid = log
            .events()
            .iter()
            .filter(|event| !event.process.is_kernel())
            .map(|event| event.process.index + 1)
            .max()
            .unwrap_or(0);
        ChromeTrace {
            log,
            info,
            kernel_pid,
            syscall_entered: BTreeMap::new(),
            running_since: 0,
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
    pub(super) fn render(mut self, out: &mut dyn Write) -> std::io::Result<()> {
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
        other.field("generator", "mksim");
        self.info.json_fields(&mut other);
        other
            .field("time_scale", "1 cycle = 1 ns: ts and dur are microseconds, so shown in ns they are cycles")
            .field("pid", "process index, as in the JSON Lines export; tid = pid")
            .field("kernel_pid", self.kernel_pid)
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
        let mut by_pid: Vec<(u32, ProcessId)> =
            processes.into_iter().map(|id| (chrome_pid(id, self.kernel_pid), id)).collect();
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
        json.field("name", name).field("ph", phase).raw("ts", &micros(ts)).field("pid", pid).field("tid", pid);
        json
    }

    fn pid(&self, id: ProcessId) -> u32 {
        chrome_pid(id, self.kernel_pid)
    }

    fn event(&mut self, seq: usize, event: &Event) {
        match event.kind {
            EventKind::Switched { .. } => self.slice(seq),
            EventKind::SyscallEntered { .. } => {
                self.syscall_entered.insert(event.process.index, event.time);
            }
            EventKind::MessageSent { message } => {
                if matches!(self.fates[message.0 as usize], Fate::Delivered { .. }) {
                    let ts = self.flow_start(event.process, event.time);
                    self.flow("s", message, self.pid(event.process), ts);
                }
            }
            EventKind::MessageDelivered { message } => self.delivered(seq, event, message),
            EventKind::MessageDropped { message, reason } => {
                let name = format!("dropped: {}", self.log.message_content(message));
                let mut json = self.base("i", &name, self.pid(event.process), event.time);
                json.field("s", "t").raw("args", &single("reason", drop_reason_name(reason)));
                self.events.push(json.finish());
            }
            EventKind::OperationBegan { label } => self.operation_began(seq, event, label),
            EventKind::OperationEnded { label, failed } => self.operation_ended(event, label, failed),
            EventKind::Exited { .. } | EventKind::Faulted { .. } => {
                self.instant(event, "t");
                self.end_operations(event.process, event.time, "process ended");
            }
            // A service call in a monolithic kernel has no message to draw as a flow: an instant
            // on the caller says what it asked (`in kernel: pipe.write(fd=3, 9 B)`).
            EventKind::Signalled { .. } | EventKind::Interrupt { .. } | EventKind::ServiceCalled { .. } => {
                self.instant(event, "t")
            }
            EventKind::Idle { until } => {
                let mut json = self.base("X", "idle", self.kernel_pid, self.last_time);
                json.raw("dur", &micros(until.saturating_sub(self.last_time)));
                self.events.push(json.finish());
            }
            EventKind::RunEnded { .. } | EventKind::BootDone => self.instant(event, "g"),
            EventKind::BootWork { cycles, .. } => {
                let mut json = self.base("X", &self.log.describe(event), self.kernel_pid, event.time);
                json.raw("dur", &micros(cycles)).field("cat", "boot");
                self.events.push(json.finish());
            }
            _ => {}
        }
    }

    /// The run slice a switch begins, then the flows that were waiting for it.
    fn slice(&mut self, seq: usize) {
        let Some(slice) = self.slices.get(&seq) else { return };
        let pid = self.pid(slice.process);
        let steps = serde_json::to_string(&slice.steps).expect("strings always serialize");
        let mut args = JsonObject::new();
        args.field("switch", if slice.direct { "direct" } else { "context" }).raw("syscalls", &steps);
        let mut json = self.base("X", &slice.name(), pid, slice.start);
        json.raw("dur", &micros(slice.end - slice.start)).field("cat", "run").raw("args", &args.finish());
        self.events.push(json.finish());
        let (process, start, end_seq) = (slice.process, slice.start, slice.end_seq);
        self.running = Some((process, end_seq));
        self.running_since = start;
        for (message, _) in self.pending_flows.remove(&process.index).unwrap_or_default() {
            self.flow("f", message, pid, start);
        }
    }

    fn delivered(&mut self, seq: usize, event: &Event, message: MessageId) {
        let receiver_runs = self.running.is_some_and(|(process, end_seq)| process == event.process && seq < end_seq);
        if receiver_runs {
            self.flow("f", message, self.pid(event.process), event.time);
        } else {
            self.pending_flows.entry(event.process.index).or_default().push((message, event.time));
        }
    }

    /// Where a message's flow starts: inside the sender's run slice, which ends at the very
    /// cycle a call blocks, so on that border a viewer could bind the arrow to no slice. The
    /// syscall that sent it began inside the slice: the flow starts there.
    fn flow_start(&self, sender: ProcessId, sent: u64) -> u64 {
        let sender_runs = self.running.is_some_and(|(process, _)| process == sender);
        match self.syscall_entered.get(&sender.index) {
            Some(&entered) if sender_runs && self.running_since <= entered && entered <= sent => entered,
            _ => sent,
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
        let mut json = self.base("i", &self.log.describe(event), self.pid(event.process), event.time);
        json.field("s", scope);
        self.events.push(json.finish());
    }

    fn operation_began(&mut self, seq: usize, event: &Event, label: u32) {
        let name = self.log.operation_name(label);
        let mut json = self.base("b", &name, self.pid(event.process), event.time);
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
        let mut json = self.base("e", &name, self.pid(process), time);
        json.field("cat", "operation").field("id", id).raw("args", args);
        self.events.push(json.finish());
    }

    /// Flows whose receiver never ran again end where they were delivered; open operations end with the log.
    fn finish_open(&mut self) {
        for (index, flows) in std::mem::take(&mut self.pending_flows) {
            let pid = index;
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
