//! Running a scenario in one mode and collecting what it showed: outcome,
//! metrics, console output, files, and metrics per operation.
//!
//! It owns one run: boot, run to the end, and read the [`RunReport`] off the
//! kernel and its event log. It knows nothing of how a report is put into
//! words or shown (that is [`crate::report`] and the front ends), and reads no
//! host clock: a run's time is the kernel's cycles.

use crate::scenario::Scenario;
use mksim_kernel::event::{EventKind, EventLog};
use mksim_kernel::{CostProfile, Counters, Kernel, Outcome, ProcessState};
use mksim_servers::fault::FaultSpec;
use mksim_servers::system::{Mode, System, boot};
use mksim_userland::client::ledger::DataLoss;
use serde::Serialize;
use std::collections::BTreeMap;

/// Settings that override the scenario's for one run.
#[derive(Clone, Debug, Default)]
pub struct RunOptions {
    /// Other cost profiles, per mode.
    pub profiles: Profiles,
    /// Another seed.
    pub seed: Option<u64>,
    /// Faults to inject instead of the scenario's own.
    pub faults: Option<Vec<FaultSpec>>,
    /// Another memory budget, in bytes.
    pub memory_limit: Option<u64>,
    /// Every process recovering stale file descriptors (`Some(true)`) or none (`Some(false)`),
    /// instead of as each process says.
    pub recover: Option<bool>,
}

/// A cost profile for each mode; `None` keeps the scenario's for that mode.
#[derive(Clone, Debug, Default)]
pub struct Profiles {
    /// For microkernel mode.
    pub microkernel: Option<CostProfile>,
    /// For monolithic mode.
    pub monolithic: Option<CostProfile>,
}

impl Profiles {
    /// The same profile for both modes.
    pub fn both(profile: CostProfile) -> Profiles {
        Profiles { microkernel: Some(profile.clone()), monolithic: Some(profile) }
    }

    /// The profile for `mode`, if one was given.
    pub fn in_mode(&self, mode: Mode) -> Option<&CostProfile> {
        match mode {
            Mode::Microkernel => self.microkernel.as_ref(),
            Mode::Monolithic => self.monolithic.as_ref(),
        }
    }
}

/// What faults did to a run, and how the clients fared: a fault campaign's figures.
#[derive(Clone, PartialEq, Eq, Debug, Default, Serialize)]
pub struct Reliability {
    /// Faults injected that break a service (crash, hang, corrupt reply, drop).
    pub failures_injected: u64,
    /// Delays injected.
    pub delays_injected: u64,
    /// True when the kernel panicked.
    pub kernel_panic: bool,
    /// Restarts by server.
    pub restarts: BTreeMap<String, u64>,
    /// Client operations that ended well.
    pub ops_succeeded: u64,
    /// Client operations that ended in an error, or never ended (lost in a panic, or cut off
    /// when their program faulted).
    pub ops_failed: u64,
    /// Client operations sent again at least once after their server died.
    pub ops_retried: u64,
    /// Bytes of writes the file server acknowledged that are missing or different at the end,
    /// and of writes whose clients were told they failed or never heard back (see
    /// [`mksim_userland::client::ledger`]).
    pub data_lost: DataLoss,
}

impl Reliability {
    /// Restarts of every server together.
    pub fn total_restarts(&self) -> u64 {
        self.restarts.values().sum()
    }

    /// Reads the figures off a run's log.
    pub fn from_log(log: &EventLog) -> Reliability {
        let mut figures = Reliability::default();
        // Per process index: whether its open operation has been retried.
        let mut open: BTreeMap<u32, bool> = BTreeMap::new();
        for event in log.events() {
            let process = event.process.index;
            match event.kind {
                EventKind::OperationBegan { .. } => {
                    open.insert(process, false);
                }
                // Only a client's open operation counts: a server retrying its own lookup (the file
                // server finding a restarted driver) is in no client operation.
                EventKind::OperationRetried { .. } => {
                    if let Some(retried) = open.get_mut(&process) {
                        *retried = true;
                    }
                }
                EventKind::OperationEnded { failed, .. } => {
                    if open.remove(&process) == Some(true) {
                        figures.ops_retried += 1;
                    }
                    if failed { figures.ops_failed += 1 } else { figures.ops_succeeded += 1 }
                }
                EventKind::FaultInjected { fault } if fault.is_failure() => figures.failures_injected += 1,
                EventKind::FaultInjected { .. } => figures.delays_injected += 1,
                EventKind::Restarted => {
                    *figures.restarts.entry(log.process_name(event.process).to_owned()).or_default() += 1;
                }
                EventKind::KernelPanicked { .. } => figures.kernel_panic = true,
                EventKind::Exited { .. } | EventKind::Faulted { .. } => {
                    if let Some(retried) = open.remove(&process) {
                        figures.ops_failed += 1;
                        figures.ops_retried += u64::from(retried);
                    }
                }
                _ => {}
            }
        }
        // Operations still open when the run ended: lost with a panicked kernel, or stuck.
        for retried in open.into_values() {
            figures.ops_failed += 1;
            figures.ops_retried += u64::from(retried);
        }
        figures
    }
}

/// The headline numbers of a run, or of one part of it (the boot, the work after it).
#[derive(Clone, Copy, PartialEq, Eq, Debug, Default, Serialize)]
pub struct Metrics {
    /// Syscalls made.
    pub syscalls: u64,
    /// Messages sent (sync, call, reply, async).
    pub messages: u64,
    /// Context switches.
    pub context_switches: u64,
    /// Bytes copied through messages and service calls.
    pub bytes_copied: u64,
    /// Virtual time it took, in cycles.
    pub cycles: u64,
}

impl Metrics {
    /// The figures of `totals`, over `cycles` of virtual time.
    fn of(totals: &Counters, cycles: u64) -> Metrics {
        Metrics {
            syscalls: totals.syscalls,
            messages: totals.messages_sent.total(),
            context_switches: totals.context_switches,
            bytes_copied: totals.bytes_copied,
            cycles,
        }
    }

    /// What was done since `earlier` was taken.
    fn since(self, earlier: Metrics) -> Metrics {
        Metrics {
            syscalls: self.syscalls.saturating_sub(earlier.syscalls),
            messages: self.messages.saturating_sub(earlier.messages),
            context_switches: self.context_switches.saturating_sub(earlier.context_switches),
            bytes_copied: self.bytes_copied.saturating_sub(earlier.bytes_copied),
            cycles: self.cycles.saturating_sub(earlier.cycles),
        }
    }
}

/// What the operations of one kind cost, summed over every time one was made.
#[derive(Clone, Copy, PartialEq, Eq, Debug, Default, Serialize)]
pub struct OperationStats {
    /// How many were made.
    pub count: u64,
    /// Messages they caused, the servers' messages on their behalf included.
    pub messages: u64,
    /// Context switches they caused.
    pub context_switches: u64,
    /// Syscalls they caused.
    pub syscalls: u64,
    /// Cycles from start to end, summed (latency as the caller sees it).
    pub cycles: u64,
}

/// How one process ended, or where it stands.
#[derive(Clone, PartialEq, Eq, Debug, Serialize)]
pub struct ProcessReport {
    /// Its name.
    pub name: String,
    /// True for a server: a process that may still be waiting when the run ends.
    pub server: bool,
    /// Its state in words.
    pub state: String,
    /// Its exit code, if it exited.
    pub exit_code: Option<i32>,
    /// Why it was faulted, if it was.
    pub fault: Option<String>,
    /// Its counters.
    pub counters: Counters,
}

/// Everything a run showed.
pub struct RunReport {
    /// The mode it ran in.
    pub mode: Mode,
    /// The cost profile's name.
    pub profile: String,
    /// The seed.
    pub seed: u64,
    /// How it ended.
    pub outcome: Outcome,
    /// Steps taken.
    pub steps: u64,
    /// What the boot cost: servers starting up (a file server mounting) until every one was
    /// ready. Reported apart, the same way in both modes.
    pub boot: Metrics,
    /// Virtual time when the run ended, in cycles from its very start (boot included).
    pub end_cycles: u64,
    /// The work after the boot: what the modes are compared on.
    pub metrics: Metrics,
    /// Per process, in process-table order (servers included).
    pub processes: Vec<ProcessReport>,
    /// Console output by process.
    pub console: BTreeMap<String, String>,
    /// Files at the end, by path.
    pub files: BTreeMap<String, Vec<u8>>,
    /// Per operation kind (`fs.read`, ...).
    pub per_operation: BTreeMap<String, OperationStats>,
    /// Faults, restarts and how client operations fared.
    pub reliability: Reliability,
    /// The event log.
    pub log: EventLog,
}

/// Boots and runs `scenario` in `mode`, with the profile `options` give for that mode, or else
/// the scenario's for that mode.
pub fn run(scenario: &Scenario, mode: Mode, options: &RunOptions) -> RunReport {
    let mut kernel_config = scenario.kernel_in(mode);
    if let Some(profile) = options.profiles.in_mode(mode) {
        kernel_config.profile = profile.clone();
    }
    if let Some(seed) = options.seed {
        kernel_config.seed = seed;
    }
    if let Some(bytes) = options.memory_limit {
        kernel_config.memory_limit_bytes = bytes;
    }
    let faults = options.faults.clone().unwrap_or_else(|| scenario.faults.clone());
    let mut system = boot(scenario.system_for_run(kernel_config, faults, options.recover), mode);
    system.kernel.run();
    report(system)
}

fn report(system: System) -> RunReport {
    let kernel = &system.kernel;
    let whole_run = Metrics::of(&kernel.totals(), kernel.now());
    // A run that never finished booting did no work after it: all of it was boot.
    let boot = kernel.boot_done().map_or(whole_run, |done| Metrics::of(&done.totals, done.at_cycles));
    let metrics = whole_run.since(boot);
    let processes = kernel.processes().iter().map(|process| process_report(kernel, process)).collect();
    let files = system.files();
    let console = system.console.borrow().by_process().clone();
    let mut report = RunReport {
        mode: system.mode,
        profile: kernel.config().profile.name.clone(),
        seed: kernel.config().seed,
        outcome: kernel.outcome().cloned().unwrap_or(Outcome::StepLimit { limit: kernel.steps() }),
        steps: kernel.steps(),
        boot,
        end_cycles: kernel.now(),
        metrics,
        processes,
        console,
        per_operation: per_operation(kernel.log()),
        reliability: Reliability {
            data_lost: system.ledger.borrow().losses(&files),
            ..Reliability::from_log(kernel.log())
        },
        files,
        log: EventLog::default(),
    };
    // Moved, not cloned: a long run's log is most of its memory.
    report.log = system.kernel.into_log();
    report
}

fn process_report(kernel: &Kernel, process: &mksim_kernel::Process) -> ProcessReport {
    let (exit_code, fault) = match process.state() {
        ProcessState::Exited { code } => (Some(code), None),
        ProcessState::Faulted { reason } => {
            let detail = process.fault_detail().map(|detail| format!(": {detail}")).unwrap_or_default();
            (None, Some(format!("{reason}{detail}")))
        }
        _ => (None, None),
    };
    ProcessReport {
        name: process.name().to_owned(),
        server: process.is_server(),
        state: kernel.describe_state(process.id()),
        exit_code,
        fault,
        counters: *process.counters(),
    }
}

/// Attributes messages, switches and syscalls to the operations that caused them.
///
/// A client is inside an operation between its begin and end markers. A
/// server that receives a message works on behalf of that message's
/// operation until it receives another, so the file server's calls to the
/// block server count towards the client's `fs.read`.
pub fn per_operation(log: &EventLog) -> BTreeMap<String, OperationStats> {
    let mut stats: BTreeMap<String, OperationStats> = BTreeMap::new();
    // Per process index: the operation (name, start) it works for.
    let mut cause: BTreeMap<u32, String> = BTreeMap::new();
    let mut own: BTreeMap<u32, (String, u64)> = BTreeMap::new();
    let mut message_cause: BTreeMap<u32, String> = BTreeMap::new();
    for event in log.events() {
        let process = event.process.index;
        match event.kind {
            EventKind::OperationBegan { label } => {
                let name = log.operation_name(label);
                stats.entry(name.clone()).or_default().count += 1;
                cause.insert(process, name.clone());
                own.insert(process, (name, event.time));
            }
            EventKind::OperationEnded { .. } => {
                if let Some((name, start)) = own.remove(&process) {
                    // Saturating: operations that each wait near the end of the clock add up past it.
                    let stats = stats.entry(name).or_default();
                    stats.cycles = stats.cycles.saturating_add(event.time - start);
                }
                cause.remove(&process);
            }
            EventKind::MessageSent { message } => {
                if let Some(name) = cause.get(&process) {
                    stats.entry(name.clone()).or_default().messages += 1;
                    message_cause.insert(message.0, name.clone());
                }
            }
            EventKind::MessageDelivered { message } if !own.contains_key(&process) => {
                match message_cause.get(&message.0) {
                    Some(name) => {
                        cause.insert(process, name.clone());
                    }
                    None => {
                        cause.remove(&process);
                    }
                }
            }
            EventKind::Switched { .. } => {
                if let Some(name) = cause.get(&process) {
                    stats.entry(name.clone()).or_default().context_switches += 1;
                }
            }
            // A kernel service call going on after it waited is the same syscall, not a new one.
            EventKind::SyscallEntered { call } if call != mksim_kernel::SyscallKind::KernelResume => {
                if let Some(name) = cause.get(&process) {
                    stats.entry(name.clone()).or_default().syscalls += 1;
                }
            }
            _ => {}
        }
    }
    stats
}

impl RunReport {
    /// A process's report by name.
    pub fn process(&self, name: &str) -> Option<&ProcessReport> {
        self.processes.iter().find(|process| process.name == name)
    }

    /// The outcome's name in machine-readable output (`kernel_panic`): see [`OutcomeKind::name`].
    ///
    /// [`OutcomeKind::name`]: mksim_kernel::OutcomeKind::name
    pub fn outcome_name(&self) -> &'static str {
        self.outcome.kind().name()
    }
}
