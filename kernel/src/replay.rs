//! The system rebuilt from the event log alone: each process's state, priority
//! and capability table, the messages waiting on each port, the bits signalled
//! into each notification.
//!
//! Every view that shows the system at some step (the terminal UI, the tests
//! that compare the log with the kernel) replays the log through [`Replay`],
//! so they all agree on what the log says. It reads only the [`EventLog`],
//! never the kernel, and knows no protocol: what a message says (console
//! text, file names) is for the views above to read from the log.
//!
//! One gap: the log does not say which notification a wait or a bound receive
//! took its bits from, so [`Replay::signalled`] holds every bit signalled so
//! far, not the bits still pending.

use crate::capability::Rights;
use crate::error::FaultReason;
use crate::event::{BlockedOn, CapabilityChange, CapabilityOp, Event, EventKind, EventLog};
use crate::ids::{Badge, ObjectId, Priority};
use crate::message::{MessageId, MessageKind};
use crate::process::ProcessState;
use std::collections::BTreeMap;

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

impl Activity {
    /// The activity the log shows for a process the kernel holds in `state` (never
    /// [`Activity::Lost`]: that is the log's word for a process a kernel panic stopped).
    pub fn of(state: ProcessState) -> Activity {
        match state {
            ProcessState::Ready => Activity::Ready,
            ProcessState::AwaitingBoot => Activity::AwaitingBoot,
            ProcessState::Running => Activity::Running,
            ProcessState::SendBlocked { port, .. } => Activity::Blocked(BlockedOn::Send(port)),
            ProcessState::ReceiveBlocked { port } => Activity::Blocked(BlockedOn::Receive(port)),
            ProcessState::ReplyBlocked { server, .. } => Activity::Blocked(BlockedOn::Reply(server)),
            ProcessState::WaitingNotification { notification } => {
                Activity::Blocked(BlockedOn::Notification(notification))
            }
            ProcessState::Sleeping { until } => Activity::Blocked(BlockedOn::Sleep(until)),
            ProcessState::InKernel { until } => Activity::Blocked(BlockedOn::Device(until)),
            ProcessState::KernelWaiting { channel } => Activity::Blocked(BlockedOn::Channel(channel)),
            ProcessState::Exited { code } => Activity::Exited(code),
            ProcessState::Faulted { reason } => Activity::Faulted(reason),
        }
    }
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
pub struct ReplayedProcess {
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
    /// Its capability table, by slot.
    pub caps: BTreeMap<u32, HeldCap>,
    /// How many times a supervisor has restarted it.
    pub incarnation: u32,
}

/// The whole system at some step, replayed from the log.
#[derive(Clone, PartialEq, Eq, Debug, Default)]
pub struct Replay {
    /// Events applied (the state after event `applied - 1`).
    pub applied: usize,
    /// Virtual time.
    pub time: u64,
    /// Processes by index.
    pub processes: Vec<ReplayedProcess>,
    /// Messages waiting on each port, oldest first.
    pub waiting: BTreeMap<ObjectId, Vec<MessageId>>,
    /// Bits signalled into each notification so far (taken bits are not tracked by the log).
    pub signalled: BTreeMap<ObjectId, u64>,
    running: Option<u32>,
}

impl Replay {
    /// The state after every event of `log`.
    pub fn of(log: &EventLog) -> Replay {
        let mut replay = Replay::default();
        for event in log.events() {
            replay.apply(log, event);
        }
        replay
    }

    fn process(&mut self, index: u32) -> Option<&mut ReplayedProcess> {
        self.processes.get_mut(index as usize)
    }

    /// Applies one event, the next after those applied so far.
    pub fn apply(&mut self, log: &EventLog, event: &Event) {
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
            EventKind::Spawned { priority } => self.spawned(index, priority),
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

    fn spawned(&mut self, index: u32, priority: Priority) {
        let process = ReplayedProcess {
            index,
            base_priority: priority,
            priority,
            activity: Activity::Ready,
            cycles: 0,
            sent: 0,
            received: 0,
            caps: BTreeMap::new(),
            incarnation: 0,
        };
        if index as usize == self.processes.len() {
            self.processes.push(process);
        } else if let Some(slot) = self.process(index) {
            *slot = process;
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
