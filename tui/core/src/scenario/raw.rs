//! The raw schema of a scenario file: what RON reads a file into, and what a
//! scenario built in code is made of ([`RawScenario`] and what it holds, the
//! expectations included). Each type says what a file may leave out and what it
//! then gets; none of them checks anything. The rules live in `validate`, and
//! only [`Scenario::try_from`] or [`Scenario::parse`] turn these types into a
//! [`Scenario`].
//!
//! The parts with their own files keep their schema there: faults
//! (`faults.rs`), limits (`limits.rs`), parameters (`params.rs`).

use super::faults::{RawFault, RawSupervisor};
use super::limits::{Int, RawLimits};
use super::params::RawParam;
use mksim_kernel::{DeadlockPolicy, KernelConfig, OutcomeKind};
use mksim_servers::service::Service;
use mksim_servers::system::Mode;
use mksim_userland::script::{Op, Policy};
use serde::Deserialize;
use std::collections::BTreeMap;

/// A scenario as written, before it is checked: the schema of a scenario file (RON reads a
/// file into this type), and what a scenario built in code is made of. Only
/// [`Scenario::try_from`] (or [`Scenario::parse`], for text) makes a [`Scenario`] of it.
///
/// Each field's default is what a file gets when it leaves the field out: [`Default`] gives
/// every one of them, with no name and no processes, which the check refuses.
#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields, rename = "Scenario")]
pub struct RawScenario {
    /// Its name.
    pub name: String,
    /// Parameters a file declares, substituted into its text before the text is parsed (see
    /// [`Scenario::parse_with_params`]); parsed here so the field is known and checked. Code
    /// puts its values in place instead: [`Scenario::try_from`] refuses any declared here.
    #[serde(default)]
    pub params: BTreeMap<String, RawParam>,
    /// What to observe.
    #[serde(default)]
    pub description: String,
    /// What to watch for while it runs, for a reader of the run or the UI (a few sentences;
    /// line breaks and indentation inside the text are not kept).
    #[serde(default)]
    pub notes: Option<String>,
    /// Kernel settings.
    #[serde(default)]
    pub kernel: RawKernel,
    /// Which built-in servers boot, and how.
    #[serde(default)]
    pub servers: RawServers,
    /// Objects made before the programs start, each owned by a process.
    #[serde(default)]
    pub objects: Vec<RawObject>,
    /// The processes, in boot order: at least one.
    pub processes: Vec<RawProcess>,
    /// Faults to inject into the servers.
    #[serde(default)]
    pub faults: Vec<RawFault>,
    /// What its runs must show.
    #[serde(default)]
    pub expect: Expectations,
}

/// The kernel's settings as written (`kernel: (...)`); each field may be left out.
#[derive(Deserialize)]
#[serde(deny_unknown_fields, default, rename = "Kernel")]
pub struct RawKernel {
    /// The cost profile: a built-in name (`sel4` by default) or a file whose name ends in `.ron`.
    pub profile: String,
    /// The monolithic mode's profile, when it is not `profile`.
    pub monolithic_profile: Option<String>,
    /// The seed of the run's random numbers.
    pub seed: u64,
    /// The most steps a run takes.
    pub step_limit: Int,
    /// The run's memory budget, in bytes: a scenario may lower it, not raise it.
    pub memory_limit: Int,
    /// Servers run at the priority of the most important client they serve.
    pub priority_inheritance: bool,
    /// Report deadlocks at the end, or refuse the send that closes the cycle.
    pub deadlock: DeadlockPolicy,
    /// How long a process runs before others of its priority get a turn, in cycles.
    pub timeslice_cycles: Int,
    /// The kernel's limits.
    pub limits: RawLimits,
}

impl Default for RawKernel {
    fn default() -> Self {
        let defaults = KernelConfig::default();
        RawKernel {
            profile: "sel4".into(),
            monolithic_profile: None,
            seed: 0,
            step_limit: defaults.step_limit.into(),
            memory_limit: defaults.memory_limit_bytes.into(),
            priority_inheritance: false,
            deadlock: DeadlockPolicy::Report,
            timeslice_cycles: defaults.timeslice_cycles.into(),
            limits: RawLimits::default(),
        }
    }
}

/// Which built-in servers boot (`servers: (...)`): the name server and the console by default.
#[derive(Deserialize)]
#[serde(deny_unknown_fields, default, rename = "Servers")]
pub struct RawServers {
    /// The name server.
    pub name: bool,
    /// The console server.
    pub console: bool,
    /// The block server (booted with its defaults when `file` is given without it).
    pub block: Option<RawBlock>,
    /// The file server.
    pub file: Option<RawFile>,
    /// The timer server.
    pub timer: Option<RawTimer>,
    /// The pipe server.
    pub pipe: Option<super::pipes::RawPipe>,
    /// The supervisor, which restarts servers that fail.
    pub supervisor: Option<RawSupervisor>,
    /// The message-queue server.
    pub mq: Option<RawMq>,
    /// The socket server.
    pub sock: Option<RawSock>,
}

/// The message-queue server (`mq: ()`).
#[derive(Deserialize, Clone, Copy)]
#[serde(deny_unknown_fields, default, rename = "Mq")]
pub struct RawMq {
    /// The server's priority, 0 to 31.
    pub priority: Int,
}

impl Default for RawMq {
    fn default() -> Self {
        RawMq { priority: default_priority(Service::MessageQueue) }
    }
}

impl Default for RawServers {
    fn default() -> Self {
        RawServers {
            name: Service::Name.boots_by_default(),
            console: Service::Console.boots_by_default(),
            block: None,
            file: None,
            timer: None,
            pipe: None,
            supervisor: None,
            mq: None,
            sock: None,
        }
    }
}

/// The block server's ramdisk.
#[derive(Deserialize, Clone, Copy)]
#[serde(deny_unknown_fields, default, rename = "Block")]
pub struct RawBlock {
    /// Its number of blocks.
    pub blocks: Int,
    /// Bytes in a block.
    pub block_size: Int,
    /// What one block operation takes, in cycles.
    pub latency_cycles: u64,
    /// The server's priority, 0 to 31.
    pub priority: Int,
}

impl Default for RawBlock {
    fn default() -> Self {
        RawBlock {
            blocks: 256.into(),
            block_size: 512.into(),
            latency_cycles: 20_000,
            priority: default_priority(Service::Block),
        }
    }
}

/// The file server.
#[derive(Deserialize, Clone, Copy)]
#[serde(deny_unknown_fields, default, rename = "File")]
pub struct RawFile {
    /// Blocks its cache holds.
    pub cache_blocks: usize,
    /// The server's priority, 0 to 31.
    pub priority: Int,
}

impl Default for RawFile {
    fn default() -> Self {
        RawFile { cache_blocks: 8, priority: default_priority(Service::File) }
    }
}

/// The timer server.
#[derive(Deserialize, Clone, Copy)]
#[serde(deny_unknown_fields, rename = "Timer")]
pub struct RawTimer {
    /// Cycles between two ticks.
    pub period_cycles: Int,
    /// The server's priority, 0 to 31 (19 when left out).
    #[serde(default = "timer_priority")]
    pub priority: Int,
}

impl RawTimer {
    /// A timer that ticks every `period_cycles`, at the priority a file gets when it leaves
    /// `priority` out.
    pub fn every(period_cycles: u64) -> RawTimer {
        RawTimer { period_cycles: period_cycles.into(), priority: timer_priority() }
    }
}

fn timer_priority() -> Int {
    default_priority(Service::Timer)
}

/// The socket server.
#[derive(Deserialize, Clone, Copy)]
#[serde(deny_unknown_fields, default, rename = "Sock")]
pub struct RawSock {
    /// Bytes buffered in each direction of a connection.
    pub buffer_bytes: Int,
    /// The server's priority, 0 to 31.
    pub priority: Int,
}

impl Default for RawSock {
    fn default() -> Self {
        RawSock { buffer_bytes: 4096.into(), priority: default_priority(Service::Socket) }
    }
}

/// The priority `service` runs at when the file leaves `priority` out.
fn default_priority(service: Service) -> Int {
    u64::from(service.default_level()).into()
}

/// What kind of object, with its settings.
#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename = "ObjectKind")]
pub enum RawObjectKind {
    /// A rendezvous endpoint for calls and replies.
    Endpoint,
    /// A message queue.
    Queue {
        /// The most messages it holds.
        capacity: Int,
        /// What a send to it does when it is full.
        policy: Policy,
    },
    /// A notification: bits to signal and wait on.
    Notification,
    /// A memory region.
    Region {
        /// Its bytes.
        size: Int,
    },
    /// A handle on a process of the scenario: to `watch` it die (read right), ask whether it
    /// `is_ready`, `kill` or `restart` it.
    ProcessHandle {
        /// The process it is a handle on.
        process: String,
    },
}

/// An object made before the programs start.
#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename = "Object")]
pub struct RawObject {
    /// Its name, unique among the objects.
    pub name: String,
    /// What it is.
    pub kind: RawObjectKind,
    /// The process that owns it (and holds a capability to it with every right).
    pub owner: String,
}

/// A capability a process starts with.
#[derive(Deserialize, Clone)]
#[serde(deny_unknown_fields, rename = "Capability")]
pub struct RawCap {
    /// The name the program uses for it.
    pub name: String,
    /// The object it is to.
    pub object: String,
    /// Its rights, as letters `s r g R W`.
    pub rights: String,
    /// The badge a receiver sees on what comes through it (0, no badge, when left out).
    #[serde(default)]
    pub badge: u64,
}

fn yes() -> bool {
    true
}

/// A process and its program.
#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename = "Process")]
pub struct RawProcess {
    /// Its name, unique among the processes and not a booted server's.
    pub name: String,
    /// Its priority, 0 to 31.
    pub priority: Int,
    /// True for a process that may still be waiting when the run ends.
    #[serde(default)]
    pub server: bool,
    /// Whether it starts with a capability to the name server (true when left out).
    #[serde(default = "yes")]
    pub name_server: bool,
    /// Names it may register at the name server.
    #[serde(default)]
    pub may_register: Vec<String>,
    /// Capabilities it starts with.
    #[serde(default)]
    pub caps: Vec<RawCap>,
    /// Go on with the next step when one fails (and exit with 1 at the end), rather than fault.
    #[serde(default)]
    pub keep_going: bool,
    /// Recover file descriptors a file-server restart made stale: open the file again, go back
    /// to the last confirmed offset and send the read or write again.
    #[serde(default)]
    pub recover: bool,
    /// Its program: a list of operations, or a script.
    pub program: RawProgram,
}

/// A process's program as written: `program: [Print("hi"), ...]`, a list of operations, or
/// `program: Script(file: "spooler.rhai")` / `program: Script(source: "...")`, a script in
/// the language (`mksim_userland::lang`).
#[derive(Clone, PartialEq, Eq, Debug)]
pub enum RawProgram {
    /// Operations run in order.
    Ops(Vec<Op>),
    /// A script.
    Script(ScriptSource),
}

/// Where a script's text is.
#[derive(Clone, PartialEq, Eq, Debug)]
pub enum ScriptSource {
    /// In a file, its path relative to the scenario file's folder (or absolute).
    File(String),
    /// In the scenario itself.
    Inline(String),
}

impl RawProgram {
    /// The operations of a list program; none for a script.
    pub fn ops(&self) -> &[Op] {
        match self {
            RawProgram::Ops(ops) => ops,
            RawProgram::Script(_) => &[],
        }
    }
}

impl From<Vec<Op>> for RawProgram {
    fn from(ops: Vec<Op>) -> RawProgram {
        RawProgram::Ops(ops)
    }
}

/// How a program reads: a list is a list of operations, anything with fields is a script.
///
/// RON hands a `Script(file: "...")` to a self-describing reader as a struct whose name it does
/// not pass on, so the fields say which kind of script it is; a list keeps the operations'
/// own errors and their positions.
impl<'de> Deserialize<'de> for RawProgram {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<RawProgram, D::Error> {
        use serde::de::{self, MapAccess, SeqAccess, Visitor};

        const EXPECTING: &str = "a list of operations, Script(file: \"name.rhai\") or Script(source: \"...\")";

        struct Program;

        impl<'de> Visitor<'de> for Program {
            type Value = RawProgram;

            fn expecting(&self, formatter: &mut std::fmt::Formatter) -> std::fmt::Result {
                formatter.write_str(EXPECTING)
            }

            fn visit_seq<A: SeqAccess<'de>>(self, seq: A) -> Result<RawProgram, A::Error> {
                Vec::<Op>::deserialize(de::value::SeqAccessDeserializer::new(seq)).map(RawProgram::Ops)
            }

            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<RawProgram, A::Error> {
                let Some(key) = map.next_key::<String>()? else {
                    return Err(de::Error::custom(format!("a script needs `file` or `source`: {EXPECTING}")));
                };
                let source = match key.as_str() {
                    "file" => ScriptSource::File(map.next_value()?),
                    "source" => ScriptSource::Inline(map.next_value()?),
                    _ => {
                        let message = match super::wording::did_you_mean(&key, &["file", "source"]) {
                            Some(near) => format!("`Script` has no field `{key}`; did you mean `{near}`?"),
                            None => format!("`Script` has `file` or `source`, not `{key}`"),
                        };
                        return Err(de::Error::custom(message));
                    }
                };
                if map.next_key::<String>()?.is_some() {
                    return Err(de::Error::custom("a script has one field: `file` or `source`"));
                }
                Ok(RawProgram::Script(source))
            }
        }

        deserializer.deserialize_any(Program)
    }
}

impl RawProcess {
    /// A process named `name` at `priority` running `program`, with every other field as a file
    /// that leaves it out gets it.
    pub fn new(name: impl Into<String>, priority: u64, program: impl Into<RawProgram>) -> RawProcess {
        RawProcess {
            name: name.into(),
            priority: priority.into(),
            server: false,
            name_server: yes(),
            may_register: Vec::new(),
            caps: Vec::new(),
            keep_going: false,
            recover: false,
            program: program.into(),
        }
    }
}

/// How a run is expected to end.
#[derive(Clone, Copy, PartialEq, Eq, Debug, Deserialize)]
pub enum ExpectedOutcome {
    /// Every program finished.
    Completed,
    /// The run ended in a deadlock.
    Deadlock,
    /// The step limit stopped the run.
    StepLimit,
    /// Service code in the kernel failed and took the system down (monolithic mode).
    KernelPanic,
    /// The run would have passed its memory budget.
    MemoryLimit,
}

impl ExpectedOutcome {
    /// The outcome it expects, for its name and wording: a scenario spells it as Rust does
    /// (`KernelPanic`), reports as [`OutcomeKind::name`] (`kernel_panic`) or
    /// [`OutcomeKind::wording`] (`kernel panic`).
    pub fn kind(self) -> OutcomeKind {
        match self {
            ExpectedOutcome::Completed => OutcomeKind::Completed,
            ExpectedOutcome::Deadlock => OutcomeKind::Deadlock,
            ExpectedOutcome::StepLimit => OutcomeKind::StepLimit,
            ExpectedOutcome::KernelPanic => OutcomeKind::KernelPanic,
            ExpectedOutcome::MemoryLimit => OutcomeKind::MemoryLimit,
        }
    }
}

impl Expectations {
    /// How a run in `mode` is expected to end.
    pub fn outcome_in(&self, mode: Mode) -> ExpectedOutcome {
        let both = self.outcome.unwrap_or(ExpectedOutcome::Completed);
        match mode {
            Mode::Microkernel => both,
            Mode::Monolithic => self.monolithic_outcome.unwrap_or(both),
        }
    }
}

/// Bounds on a count.
#[derive(Clone, Copy, PartialEq, Eq, Debug, Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct Bounds {
    /// At least this many.
    #[serde(default)]
    pub min: Option<u64>,
    /// At most this many.
    #[serde(default)]
    pub max: Option<u64>,
}

/// What a scenario expects of its runs: the scenario is also a test.
#[derive(Clone, PartialEq, Eq, Debug, Deserialize, Default)]
#[serde(deny_unknown_fields, default)]
pub struct Expectations {
    /// How the run ends (in both modes, unless `monolithic_outcome` says otherwise).
    pub outcome: Option<ExpectedOutcome>,
    /// How the monolithic run ends, when that differs (a fault that panics the kernel). When it
    /// is `KernelPanic`, the observable expectations below are checked in microkernel mode only.
    pub monolithic_outcome: Option<ExpectedOutcome>,
    /// Restarts by server, exactly (microkernel mode).
    pub restarts: BTreeMap<String, u64>,
    /// Exit codes by process.
    pub exit_codes: BTreeMap<String, i32>,
    /// Processes that must end faulted.
    pub faulted: Vec<String>,
    /// Console output by process, exactly.
    pub console: BTreeMap<String, String>,
    /// File contents at the end, by path.
    pub files: BTreeMap<String, String>,
    /// Messages in microkernel mode.
    pub messages: Option<Bounds>,
    /// Messages in monolithic mode.
    pub monolithic_messages: Option<Bounds>,
    /// Points by field (`{"console": 2}`): what each item of that field earns when it holds
    /// in every mode it is checked in; 1 for a field left out (see [`Expectations::points_for`]).
    pub points: BTreeMap<String, Int>,
}

/// The fields of `expect` that earn points, as `points` names them.
pub const EXPECTATION_FIELDS: [&str; 9] = [
    "outcome",
    "monolithic_outcome",
    "restarts",
    "exit_codes",
    "faulted",
    "console",
    "files",
    "messages",
    "monolithic_messages",
];

impl Expectations {
    /// What each item of the field `field` earns: its `points`, or 1 when they do not name it.
    pub fn points_for(&self, field: &str) -> u64 {
        self.points.get(field).map_or(1, |points| points.within(0, u64::MAX).unwrap_or(0))
    }
}
