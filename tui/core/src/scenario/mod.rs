//! Scenario files: RON text parsed into raw types, then validated into a
//! [`Scenario`] that can only be built by [`Scenario::parse`] (from text) or
//! [`Scenario::try_from`] (from raw types built in code), so a scenario that
//! boots has already been checked. Every error names the file, line, column
//! and the item at fault (a scenario built in code has no file or text: its
//! errors name the item).
//!
//! This module owns the format: the raw schema ([`RawScenario`] and what it
//! holds), the rules a scenario must meet and their words. The operations'
//! schema is `mksim-userland`'s, re-exported here ([`Op`]). It reads files,
//! bounded ([`FILE_BYTES_MAX`]), but knows nothing of how a scenario is run,
//! reported or shown.

mod faults;
mod files;
mod limits;
mod params;
mod syntax;
mod wording;

pub use faults::parse_cli_fault;
pub use faults::{RawFault, RawFaultKind, RawHeartbeat, RawPolicy, RawSupervisor, RawTrigger};
pub use files::{FILE_BYTES_MAX, load_profile};
use limits::Bound;
pub use limits::{
    CAPABILITY_SLOTS_MAX, MEMORY_LIMIT_MIN_BYTES, MESSAGE_BYTES_MAX, MESSAGE_CAPS_MAX, OBJECTS_PER_PROCESS_MAX,
    QUEUE_CAPACITY_MAX, REGION_BYTES_MAX, STEP_LIMIT_MAX, TIMER_PERIOD_MIN_CYCLES,
};
pub use limits::{Int, RawLimits};
use mksim_kernel::{
    Badge, CostProfile, DeadlockPolicy, FullPolicy, KernelConfig, Limits, MEMORY_LIMIT_BYTES_DEFAULT, OutcomeKind,
    Priority,
};
use mksim_servers::fault::FaultSpec;
use mksim_servers::filesystem::FsConfig;
use mksim_servers::needs::{Demand, ServerNeeds, server_needs};
use mksim_servers::service::Service;
use mksim_servers::system::{
    BlockServerSpec, CapSpec, Mode, ObjectSpec, ObjectSpecKind, ProgramSpec, Servers, SystemSpec,
};
/// The operations of a program, and what they use: their schema lives with their interpreter,
/// in `mksim-userland` (see the crate's documentation for why).
pub use mksim_userland::script::{Op, Pass, Policy};
use mksim_userland::script::{check_names, parse_rights};
pub use params::RawParam;
use serde::Deserialize;
use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use syntax::{Lines, Step};
use wording::{did_you_mean, quoted, shown};

/// A scenario file that could not be used.
#[derive(Clone, PartialEq, Eq, Debug)]
pub struct ScenarioError {
    /// The file (or `built-in NAME`); empty for a scenario built in code.
    pub file: String,
    /// 1-based line; 0 when the error has no place in a text (an unreadable file, a parameter's
    /// override, a scenario built in code).
    pub line: usize,
    /// 1-based column; 0 with line 0.
    pub column: usize,
    /// The item at fault (`process "ping", field `priority``, `kernel.limits.message_bytes_max`).
    pub item: String,
    /// What is wrong.
    pub message: String,
}

/// One line, whatever the file name, the item or the message quote from the scenario: their
/// control characters (line breaks included) are escaped ([`mksim_kernel::escape_controls`]).
/// `FILE:LINE:COLUMN: ITEM: MESSAGE`; `FILE: MESSAGE` without a place in the text; and
/// `ITEM: MESSAGE` for a scenario built in code, which has neither file nor text.
impl fmt::Display for ScenarioError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        use mksim_kernel::escape_controls;
        let (file, message) = (escape_controls(&self.file), escape_controls(&self.message));
        if self.file.is_empty() && self.line == 0 {
            return write!(f, "{}: {message}", escape_controls(&self.item));
        }
        if self.line == 0 {
            return write!(f, "{file}: {message}");
        }
        write!(f, "{file}:{}:{}: {}: {message}", self.line, self.column, escape_controls(&self.item))
    }
}

impl std::error::Error for ScenarioError {}

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
    /// The supervisor, which restarts servers that fail.
    pub supervisor: Option<RawSupervisor>,
}

impl Default for RawServers {
    fn default() -> Self {
        RawServers {
            name: Service::Name.boots_by_default(),
            console: Service::Console.boots_by_default(),
            block: None,
            file: None,
            timer: None,
            supervisor: None,
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
    /// Its program.
    pub program: Vec<Op>,
}

impl RawProcess {
    /// A process named `name` at `priority` running `program`, with every other field as a file
    /// that leaves it out gets it.
    pub fn new(name: impl Into<String>, priority: u64, program: Vec<Op>) -> RawProcess {
        RawProcess {
            name: name.into(),
            priority: priority.into(),
            server: false,
            name_server: yes(),
            may_register: Vec::new(),
            caps: Vec::new(),
            keep_going: false,
            program,
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
}

/// A checked process.
#[derive(Clone, Debug)]
pub struct ProcessDecl {
    /// Its name.
    pub name: String,
    priority: Priority,
    server: bool,
    name_server: bool,
    may_register: Vec<String>,
    caps: Vec<CapSpec>,
    keep_going: bool,
    program: Vec<Op>,
}

impl ProcessDecl {
    /// True for a process that may still be waiting when the run ends (`server: true`).
    pub fn is_server(&self) -> bool {
        self.server
    }
}

/// A validated scenario, ready to boot in either mode.
#[derive(Clone, Debug)]
pub struct Scenario {
    /// Its name.
    pub name: String,
    /// What to observe.
    pub description: String,
    /// The file it came from.
    pub file: String,
    /// Kernel settings; its profile is microkernel mode's (and monolithic mode's too, unless
    /// `monolithic_profile` says otherwise).
    pub kernel: KernelConfig,
    /// The cost profile of monolithic mode, when the scenario gives it one of its own.
    pub monolithic_profile: Option<CostProfile>,
    servers: Servers,
    objects: Vec<ObjectSpec>,
    /// The processes, in boot order.
    pub processes: Vec<ProcessDecl>,
    /// Faults to inject.
    pub faults: Vec<FaultSpec>,
    /// What its runs must show.
    pub expect: Expectations,
    /// The value of each parameter it declares, overrides applied.
    pub params: BTreeMap<String, String>,
}

/// The largest block: one block and its reply header must fit in one message.
const BLOCK_SIZE_MAX: u64 = 1000;
/// The fewest bytes in a block: the file system's metadata must fit.
const BLOCK_SIZE_MIN: u64 = 64;
/// The most blocks a ramdisk may have (64 MiB at the largest block size).
const BLOCKS_MAX: u64 = 65_536;
/// The fewest blocks a ramdisk may have: the file system's metadata and a few files.
const BLOCKS_MIN: u64 = 8;

/// Line and column (1-based, in characters) of a byte offset.
fn position(text: &str, offset: usize) -> (usize, usize) {
    Lines::new(text).position(offset)
}

/// `process "NAME"`.
fn process_item(name: &str) -> String {
    format!("process {}", quoted(name))
}

/// The path to the process at `index`.
fn process_path(index: usize) -> [Step<'static>; 2] {
    [Step::Field("processes"), Step::Index(index)]
}

/// Checks a raw scenario into a [`Scenario`]; its errors point into `text`, the scenario's text,
/// when there is one.
struct Validator<'a> {
    /// `None` for a scenario built in code: its errors have no line and column.
    text: Option<&'a str>,
    file: &'a str,
}

impl Validator<'_> {
    /// An error at the offset `find` gives in the text, or at no place without a text.
    fn error_at(&self, find: impl FnOnce(&str) -> usize, item: String, message: String) -> ScenarioError {
        let (line, column) = self.text.map_or((0, 0), |text| position(text, find(text)));
        ScenarioError { file: self.file.to_owned(), line, column, item, message }
    }

    /// An error at the value at `path` (or the deepest value on the way that is written).
    fn fail(&self, path: &[Step<'_>], item: String, message: String) -> ScenarioError {
        self.error_at(|text| syntax::locate(text, path), item, message)
    }

    /// An error at the key of the map entry or field at `path`.
    fn fail_key(&self, path: &[Step<'_>], item: String, message: String) -> ScenarioError {
        self.error_at(|text| syntax::locate_key(text, path), item, message)
    }

    /// An error in the operation of process `index` at `op` (indices into the program, then into
    /// each `Repeat`'s ops; 0 into a `Fails`), at its field `field` (its only value for `None`),
    /// or at the operation itself when `whole`.
    fn op_error(
        &self,
        index: usize,
        raw: &RawProcess,
        op: &[usize],
        part: OpPart<'_>,
        message: String,
    ) -> ScenarioError {
        let mut path = process_path(index).to_vec();
        path.push(Step::Field("program"));
        let mut numbers = Vec::new();
        let mut ops = raw.program.as_slice();
        let mut current: Option<&Op> = None;
        for &at in op {
            match current {
                Some(Op::Fails { op: inner, .. }) => {
                    path.push(Step::Field("op"));
                    current = Some(inner);
                    continue;
                }
                Some(Op::Repeat { ops: inner, .. }) => {
                    path.push(Step::Field("ops"));
                    ops = inner;
                }
                _ => {}
            }
            path.push(Step::Index(at));
            numbers.push((at + 1).to_string());
            current = ops.get(at);
        }
        let name = match self.text {
            Some(text) => syntax::name_at(text, syntax::locate(text, &path)).map(shown),
            None => current.map(op_name),
        };
        let mut item = format!("{}, step {}", process_item(&raw.name), numbers.join("."));
        if let Some(name) = name {
            item.push_str(&format!(" ({name})"));
        }
        match part {
            OpPart::Whole => {}
            OpPart::Field(field) => {
                path.push(Step::Field(field));
                item.push_str(&format!(", field `{field}`"));
            }
            OpPart::Value => path.push(Step::Index(0)),
        }
        self.fail(&path, item, message)
    }
}

/// Which part of an operation an error points at.
#[derive(Clone, Copy)]
enum OpPart<'a> {
    /// The operation.
    Whole,
    /// One of its named fields.
    Field(&'a str),
    /// Its only value (`Delete("x")`).
    Value,
}

/// The name of an operation, as a file spells it (`Mkdir`, `Repeat`): its variant's name, which
/// is also its name in RON (no variant of [`Op`] is renamed).
fn op_name(op: &Op) -> String {
    let debug = format!("{op:?}");
    let end = debug.find(|c: char| !c.is_alphanumeric()).unwrap_or(debug.len());
    debug[..end].to_owned()
}

/// A scenario built in code, checked exactly as a file is: the same rules and the same words,
/// with no file, line or column in its errors (their `item` says where).
///
/// ```
/// use mksim_core::run::{RunOptions, run};
/// use mksim_core::scenario::{Op, RawProcess, RawScenario, Scenario};
/// use mksim_servers::system::Mode;
///
/// let raw = RawScenario {
///     name: "hello".into(),
///     processes: vec![RawProcess::new("greeter", 5, vec![Op::Print("hi\n".into())])],
///     ..RawScenario::default()
/// };
/// let scenario = Scenario::try_from(raw)?;
/// let report = run(&scenario, Mode::Microkernel, &RunOptions::default());
/// assert_eq!(report.console["greeter"], "hi\n");
/// # Ok::<(), mksim_core::scenario::ScenarioError>(())
/// ```
impl TryFrom<RawScenario> for Scenario {
    type Error = ScenarioError;

    /// # Errors
    /// A [`ScenarioError`] for anything a file would be refused for, and for declared
    /// `params`, which stand for text and have none to stand in.
    fn try_from(raw: RawScenario) -> Result<Scenario, ScenarioError> {
        let validator = Validator { text: None, file: "" };
        if let Some(name) = raw.params.keys().next() {
            let message = format!(
                "declares the parameter {}, but parameters stand in for text in a scenario file: \
                 a scenario built in code puts each value in place",
                quoted(name)
            );
            return Err(validator.fail(&[Step::Field("params")], "params".into(), message));
        }
        validator.scenario(raw)
    }
}

fn parse_raw(text: &str) -> Result<RawScenario, ron::error::SpannedError> {
    ron::Options::default()
        .with_default_extension(ron::extensions::Extensions::IMPLICIT_SOME)
        .with_recursion_limit(wording::NESTING_MAX)
        .from_str(text)
}

impl Scenario {
    /// Reads and validates a scenario file.
    ///
    /// # Errors
    /// A [`ScenarioError`] for an unreadable file or any problem in it.
    pub fn load(path: &str) -> Result<Scenario, ScenarioError> {
        Scenario::load_with_params(path, &BTreeMap::new())
    }

    /// Reads and validates a scenario file with some of its parameters set to other values
    /// (see [`Scenario::parse_with_params`]).
    ///
    /// # Errors
    /// A [`ScenarioError`] for an unreadable file, a wrong override or any problem in the file.
    pub fn load_with_params(path: &str, overrides: &BTreeMap<String, String>) -> Result<Scenario, ScenarioError> {
        let text = Scenario::read(path)?;
        Scenario::parse_with_params(&text, path, overrides)
    }

    /// The text of a scenario file: a regular file of at most [`FILE_BYTES_MAX`] bytes.
    ///
    /// # Errors
    /// A [`ScenarioError`] for a file that cannot be read, is not a regular file, is too large
    /// or is not UTF-8.
    pub fn read(path: &str) -> Result<String, ScenarioError> {
        let bytes = files::read_bounded(path).map_err(|message| ScenarioError {
            file: path.to_owned(),
            line: 0,
            column: 0,
            item: "file".into(),
            message,
        })?;
        let text = String::from_utf8(bytes).map_err(|error| {
            let valid = error.utf8_error().valid_up_to();
            let text = String::from_utf8_lossy(&error.as_bytes()[..valid]).into_owned();
            let (line, column) = position(&text, valid);
            ScenarioError {
                file: path.to_owned(),
                line,
                column,
                item: "text".into(),
                message: "not valid UTF-8".into(),
            }
        })?;
        Ok(text)
    }

    /// Parses and validates scenario text; `file` names it in errors.
    ///
    /// # Errors
    /// A [`ScenarioError`] naming the line, column and item at fault.
    pub fn parse(text: &str, file: &str) -> Result<Scenario, ScenarioError> {
        Scenario::parse_with_params(text, file, &BTreeMap::new())
    }

    /// Parses and validates scenario text after replacing each `${name}` with the value of the
    /// parameter `name`: the one in `overrides` if given there, else the one the scenario
    /// declares in `params`. Strings are put in without their quotes (inside a quoted string,
    /// with their quotes and backslashes escaped), numbers as written.
    ///
    /// # Errors
    /// A [`ScenarioError`] for an override of a parameter the scenario does not declare, a
    /// number's override that is not a number, an override with a line break, a placeholder
    /// that names no declared parameter (with its line and column), or any problem in the
    /// text once substituted (at the line and column of the original text).
    pub fn parse_with_params(
        text: &str,
        file: &str,
        overrides: &BTreeMap<String, String>,
    ) -> Result<Scenario, ScenarioError> {
        let substituted = params::substitute(text, file, overrides)?;
        let mut scenario = Scenario::parse_substituted(&substituted.text, file).map_err(|mut error| {
            if error.line > 0 {
                error.column = substituted.original_column(error.line, error.column);
            }
            error
        })?;
        scenario.params = substituted.values;
        Ok(scenario)
    }

    fn parse_substituted(text: &str, file: &str) -> Result<Scenario, ScenarioError> {
        let raw = parse_raw(text).map_err(|error| {
            // Where the parser stops in an edited text, if it does: to learn which numbers it takes.
            let parses = |edited: &str| {
                parse_raw(edited)
                    .err()
                    .map(|error| Lines::new(edited).offset(error.span.start.line, error.span.start.col))
            };
            let (offset, item, message) = wording::parse_error(text, &error, &parses);
            let (line, column) = position(text, offset);
            ScenarioError { file: file.to_owned(), line, column, item, message }
        })?;
        Validator { text: Some(text), file }.scenario(raw)
    }

    /// The system this scenario describes, with its programs, to boot in either mode.
    pub fn system(&self, kernel: KernelConfig) -> SystemSpec {
        self.system_with_faults(kernel, self.faults.clone())
    }

    /// [`Scenario::system`] with `faults` instead of the scenario's own.
    pub fn system_with_faults(&self, kernel: KernelConfig, faults: Vec<FaultSpec>) -> SystemSpec {
        let programs = self
            .processes
            .iter()
            .map(|process| {
                let ops = process.program.clone();
                let keep_going = process.keep_going;
                ProgramSpec {
                    name: process.name.clone(),
                    priority: process.priority,
                    is_server: process.server,
                    name_server: process.name_server,
                    may_register: process.may_register.clone(),
                    caps: process.caps.clone(),
                    program: Box::new(move |services, caps| {
                        Box::pin(mksim_userland::interpreter::run(services, caps, ops, keep_going))
                    }),
                }
            })
            .collect();
        SystemSpec { kernel, servers: self.servers.clone(), objects: self.objects.clone(), programs, faults }
    }

    /// The kernel settings for `mode`: [`Scenario::kernel`] with that mode's cost profile.
    pub fn kernel_in(&self, mode: Mode) -> KernelConfig {
        match (mode, &self.monolithic_profile) {
            (Mode::Monolithic, Some(profile)) => KernelConfig { profile: profile.clone(), ..self.kernel.clone() },
            _ => self.kernel.clone(),
        }
    }

    /// True when the scenario boots the built-in server `name` (`fs`, `block`, ...).
    pub fn boots(&self, name: &str) -> bool {
        server_booted(&self.servers, name)
    }

    /// Names of the processes the scenario declares (servers aside).
    pub fn process_names(&self) -> impl Iterator<Item = &str> {
        self.processes.iter().map(|process| process.name.as_str())
    }
}

/// Every operation of a program, nested ones included, with its path (see
/// [`Validator::op_error`]). A stack, not recursion: nesting is as deep as the text allows.
fn walk_ops(program: &[Op]) -> Vec<(&Op, Vec<usize>)> {
    let mut found = Vec::new();
    let mut stack: Vec<(&Op, Vec<usize>)> = program.iter().enumerate().rev().map(|(at, op)| (op, vec![at])).collect();
    while let Some((op, path)) = stack.pop() {
        match op {
            Op::Repeat { ops, .. } => {
                for (at, inner) in ops.iter().enumerate().rev() {
                    stack.push((inner, [path.as_slice(), &[at]].concat()));
                }
            }
            Op::Fails { op: inner, .. } => stack.push((inner, [path.as_slice(), &[0]].concat())),
            _ => {}
        }
        found.push((op, path));
    }
    found
}

/// What the programs ask of the servers, which some servers' needs grow with.
fn demand(processes: &[RawProcess]) -> Demand {
    let registered: BTreeSet<&str> =
        processes.iter().flat_map(|process| process.may_register.iter().map(String::as_str)).collect();
    let timer_clients = processes
        .iter()
        .filter(|process| walk_ops(&process.program).iter().any(|(op, _)| matches!(op, Op::TimerWait(_))))
        .count();
    Demand { names_registered: registered.len(), timer_clients }
}

/// What a process's validation needs to know of the rest of the scenario.
struct Context<'a> {
    servers: &'a Servers,
    limits: &'a Limits,
    /// Every object's name.
    declared: BTreeSet<&'a str>,
    /// The objects each process owns, by owner.
    owned: BTreeMap<&'a str, Vec<&'a str>>,
    /// Names some process may look up.
    lookups: BTreeSet<String>,
}

impl Validator<'_> {
    fn scenario(&self, raw: RawScenario) -> Result<Scenario, ScenarioError> {
        let profile = self.profile(&raw.kernel.profile, "profile")?;
        let monolithic_profile = match &raw.kernel.monolithic_profile {
            Some(name) => Some(self.profile(name, "monolithic_profile")?),
            None => None,
        };
        let mut servers = self.servers(&raw.servers)?;
        servers.supervisor = self.supervisor(raw.servers.supervisor.as_ref(), &servers)?;
        let faults = self.faults(&raw.faults, &servers)?;
        let names = self.process_names(&raw.processes, &servers)?;
        let needs = server_needs(&servers, demand(&raw.processes));
        let kernel = self.kernel(&raw.kernel, profile, &needs)?;
        let objects = self.objects(&raw.objects, &names, &kernel.limits)?;
        let mut owned: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
        for object in &raw.objects {
            owned.entry(object.owner.as_str()).or_default().push(object.name.as_str());
        }
        let context = Context {
            servers: &servers,
            limits: &kernel.limits,
            declared: raw.objects.iter().map(|object| object.name.as_str()).collect(),
            owned,
            lookups: self.registrable_names(&raw.processes, &servers),
        };
        let mut processes = Vec::new();
        for (index, process) in raw.processes.iter().enumerate() {
            processes.push(self.process(index, process, &context)?);
        }
        self.expectations(&raw.expect, &names)?;
        Ok(Scenario {
            name: raw.name,
            description: raw.description,
            file: self.file.to_owned(),
            kernel,
            monolithic_profile,
            servers,
            objects,
            processes,
            faults,
            expect: raw.expect,
            params: BTreeMap::new(),
        })
    }

    /// The cost profile `name` given in the kernel's field `field`, refused at its value.
    fn profile(&self, name: &str, field: &str) -> Result<CostProfile, ScenarioError> {
        load_profile(name).map_err(|message| {
            self.fail(&[Step::Field("kernel"), Step::Field(field)], format!("kernel.{field}"), message)
        })
    }

    fn kernel(
        &self,
        raw: &RawKernel,
        profile: CostProfile,
        needs: &ServerNeeds,
    ) -> Result<KernelConfig, ScenarioError> {
        let field = |name: &'static str, value: Int, min: Bound, max: Bound| {
            let path = [Step::Field("kernel"), Step::Field(name)];
            self.number(Some(value), 0, (min, max), name, || format!("kernel.{name}"), &path)
        };
        let step_limit = field(
            "step_limit",
            raw.step_limit,
            Bound::plain(1),
            Bound::because(STEP_LIMIT_MAX, "a run's event log grows with its steps"),
        )?;
        // A scenario may lower the memory budget, never raise it: the command line's
        // --memory-limit is for whoever runs a scenario to give a run more.
        let memory_limit_bytes = field(
            "memory_limit",
            raw.memory_limit,
            Bound::because(MEMORY_LIMIT_MIN_BYTES, "a run's first events and the servers' boot need that much"),
            Bound::because(MEMORY_LIMIT_BYTES_DEFAULT, "a scenario may lower the budget, not raise it"),
        )?;
        let timeslice_cycles =
            field("timeslice_cycles", raw.timeslice_cycles, Bound::plain(1), Bound::plain(u64::MAX))?;
        let limits = self.limits(&raw.limits, needs)?;
        Ok(KernelConfig {
            profile,
            seed: raw.seed,
            step_limit,
            memory_limit_bytes,
            priority_inheritance: raw.priority_inheritance,
            deadlock_policy: raw.deadlock,
            timeslice_cycles,
            limits,
        })
    }

    fn servers(&self, raw: &RawServers) -> Result<Servers, ScenarioError> {
        let check = |level: Int, server: &str| {
            let path = [Step::Field("servers"), Step::Field(server), Step::Field("priority")];
            self.priority_at(level, || format!("servers.{server}.priority"), &path)
        };
        let block = match (raw.block, raw.file) {
            (Some(block), _) => Some(block),
            (None, Some(_)) => Some(RawBlock::default()),
            (None, None) => None,
        };
        let block = match block {
            Some(block) => Some(self.block(block, check(block.priority, "block")?)?),
            None => None,
        };
        let file = match raw.file {
            Some(file) => Some((
                check(file.priority, "file")?,
                FsConfig { cache_blocks: file.cache_blocks, ..FsConfig::default() },
            )),
            None => None,
        };
        let timer = match raw.timer {
            Some(timer) => {
                let path = [Step::Field("servers"), Step::Field("timer"), Step::Field("period_cycles")];
                let why = "a shorter tick costs the timer server more cycles than the tick has, and the run \
                           never gets past it";
                let min = Bound::because(TIMER_PERIOD_MIN_CYCLES, why);
                let item = || "servers.timer.period_cycles".to_owned();
                let period = self.number(
                    Some(timer.period_cycles),
                    0,
                    (min, Bound::plain(u64::MAX)),
                    "period_cycles",
                    item,
                    &path,
                )?;
                Some((check(timer.priority, "timer")?, period))
            }
            None => None,
        };
        Ok(Servers {
            name: raw.name.then(|| Service::Name.default_priority()),
            console: raw.console.then(|| Service::Console.default_priority()),
            block,
            file,
            timer,
            supervisor: None,
        })
    }

    /// The block server: a block travels in one message, and the whole disk lives in memory.
    fn block(&self, raw: RawBlock, priority: Priority) -> Result<BlockServerSpec, ScenarioError> {
        let field = |name: &'static str, value: Int, min: u64, max: u64| {
            let path = [Step::Field("servers"), Step::Field("block"), Step::Field(name)];
            let bounds = (Bound::plain(min), Bound::plain(max));
            self.number(Some(value), 0, bounds, name, || format!("servers.block.{name}"), &path)
        };
        let blocks = field("blocks", raw.blocks, BLOCKS_MIN, BLOCKS_MAX)?;
        let block_size = field("block_size", raw.block_size, BLOCK_SIZE_MIN, BLOCK_SIZE_MAX)?;
        Ok(BlockServerSpec {
            priority,
            blocks: blocks as u32,
            block_size: block_size as usize,
            latency_cycles: raw.latency_cycles,
        })
    }

    fn process_names(&self, processes: &[RawProcess], servers: &Servers) -> Result<BTreeSet<String>, ScenarioError> {
        let mut names = BTreeSet::new();
        for (index, process) in processes.iter().enumerate() {
            let name = [Step::Field("processes"), Step::Index(index), Step::Field("name")];
            if process.name.is_empty() {
                let item = format!("process #{}", index + 1);
                return Err(self.fail(&name, item, "a process needs a name".into()));
            }
            let item = || process_item(&process.name);
            if server_booted(servers, &process.name) {
                return Err(self.fail(&name, item(), "this name belongs to a built-in server".into()));
            }
            if !names.insert(process.name.clone()) {
                return Err(self.fail(&name, item(), "declared twice".into()));
            }
            let path = [Step::Field("processes"), Step::Index(index), Step::Field("priority")];
            self.priority_at(process.priority, || format!("{}, field `priority`", item()), &path)?;
        }
        if processes.is_empty() {
            let message = "a scenario needs at least one process".into();
            return Err(self.fail(&[Step::Field("processes")], "processes".into(), message));
        }
        Ok(names)
    }

    /// The objects, each checked against the scenario's own limits.
    fn objects(
        &self,
        raw: &[RawObject],
        processes: &BTreeSet<String>,
        limits: &Limits,
    ) -> Result<Vec<ObjectSpec>, ScenarioError> {
        let mut seen = BTreeSet::new();
        let mut owned: BTreeMap<&str, usize> = BTreeMap::new();
        let mut objects = Vec::new();
        for (index, object) in raw.iter().enumerate() {
            let path = |field| [Step::Field("objects"), Step::Index(index), Step::Field(field)];
            let item = || format!("object {}", quoted(&object.name));
            let field_item = |field: &str| format!("{}, field `{field}`", item());
            if !seen.insert(object.name.as_str()) {
                return Err(self.fail(&path("name"), item(), "declared twice".into()));
            }
            if !processes.contains(&object.owner) {
                let mut message = format!("owner {} is not a process of this scenario", quoted(&object.owner));
                let names: Vec<&str> = processes.iter().map(String::as_str).collect();
                if let Some(name) = did_you_mean(&object.owner, &names) {
                    message.push_str(&format!("; did you mean \"{name}\"?"));
                }
                return Err(self.fail(&path("owner"), field_item("owner"), message));
            }
            let count = owned.entry(object.owner.as_str()).or_default();
            *count += 1;
            if *count > limits.objects_per_process_max {
                let message = format!(
                    "its owner {} would own more objects than the scenario's \
                     kernel.limits.objects_per_process_max ({}) allows",
                    quoted(&object.owner),
                    limits.objects_per_process_max
                );
                return Err(self.fail(&path("owner"), field_item("owner"), message));
            }
            let kind = match object.kind {
                RawObjectKind::Endpoint => ObjectSpecKind::Endpoint,
                RawObjectKind::Queue { capacity, policy } => {
                    let most = u64::from(limits.queue_capacity_max);
                    let max =
                        Bound::because(most, format!("the scenario's kernel.limits.queue_capacity_max is {most}"));
                    let kind =
                        [Step::Field("objects"), Step::Index(index), Step::Field("kind"), Step::Field("capacity")];
                    let capacity = self.number(
                        Some(capacity),
                        0,
                        (Bound::plain(1), max),
                        "capacity",
                        || field_item("capacity"),
                        &kind,
                    )?;
                    let policy = match policy {
                        Policy::Block => FullPolicy::Block,
                        Policy::Fail => FullPolicy::Fail,
                    };
                    ObjectSpecKind::Queue { capacity: capacity as u32, policy }
                }
                RawObjectKind::Notification => ObjectSpecKind::Notification,
                RawObjectKind::Region { size } => {
                    let most = u64::from(limits.region_bytes_max);
                    let max = Bound::because(most, format!("the scenario's kernel.limits.region_bytes_max is {most}"));
                    let kind = [Step::Field("objects"), Step::Index(index), Step::Field("kind"), Step::Field("size")];
                    let size =
                        self.number(Some(size), 0, (Bound::plain(0), max), "size", || field_item("size"), &kind)?;
                    ObjectSpecKind::Region { size: size as u32 }
                }
            };
            objects.push(ObjectSpec { name: object.name.clone(), kind, owner: object.owner.clone() });
        }
        Ok(objects)
    }

    /// Names some process may look up: booted services and names some process may register.
    fn registrable_names(&self, processes: &[RawProcess], servers: &Servers) -> BTreeSet<String> {
        let mut names: BTreeSet<String> =
            processes.iter().flat_map(|process| process.may_register.iter().cloned()).collect();
        for service in Service::ALL.into_iter().filter(|&service| service.is_looked_up() && servers.boots(service)) {
            names.insert(service.name().to_owned());
        }
        names
    }

    fn process(&self, index: usize, raw: &RawProcess, context: &Context<'_>) -> Result<ProcessDecl, ScenarioError> {
        let owned = context.owned.get(raw.name.as_str()).map_or(&[][..], Vec::as_slice);
        let mut known: BTreeSet<String> = owned.iter().map(|&name| name.to_owned()).collect();
        let caps = self.caps(index, raw, context)?;
        known.extend(caps.iter().map(|cap| cap.name.clone()));
        self.registrations(index, raw, context.servers)?;
        let name_server = usize::from(raw.name_server && context.servers.name.is_some());
        let initial = name_server + owned.len() + caps.len();
        if initial > context.limits.capability_slots_max {
            let message = format!(
                "starts with {initial} capabilities ({name_server} to the name server, {} to objects it owns, {} \
                 in `caps`), more than the scenario's kernel.limits.capability_slots_max ({})",
                owned.len(),
                caps.len(),
                context.limits.capability_slots_max
            );
            let path = [Step::Field("processes"), Step::Index(index), Step::Field("name")];
            return Err(self.fail(&path, process_item(&raw.name), message));
        }
        check_names(&raw.program, &mut known).map_err(|error| {
            let part = error.field.map_or(OpPart::Value, OpPart::Field);
            self.op_error(index, raw, &error.path, part, error.message)
        })?;
        self.services_used(index, raw, context)?;
        Ok(ProcessDecl {
            name: raw.name.clone(),
            priority: Int::within(raw.priority, 0, 31)
                .and_then(|level| Priority::new(level as u8))
                .expect("checked with the names"),
            server: raw.server,
            name_server: raw.name_server,
            may_register: raw.may_register.clone(),
            caps,
            keep_going: raw.keep_going,
            program: raw.program.clone(),
        })
    }

    /// The capabilities a process starts with, each to a declared object with rights that exist.
    fn caps(&self, index: usize, raw: &RawProcess, context: &Context<'_>) -> Result<Vec<CapSpec>, ScenarioError> {
        let mut caps = Vec::new();
        for (at, cap) in raw.caps.iter().enumerate() {
            let path = |field| {
                [Step::Field("processes"), Step::Index(index), Step::Field("caps"), Step::Index(at), Step::Field(field)]
            };
            let item =
                |field: &str| format!("{}, capability {}, field `{field}`", process_item(&raw.name), quoted(&cap.name));
            if !context.declared.contains(cap.object.as_str()) {
                let mut message = format!("names object {}, which the scenario does not declare", quoted(&cap.object));
                let declared: Vec<&str> = context.declared.iter().copied().collect();
                if let Some(name) = did_you_mean(&cap.object, &declared) {
                    message.push_str(&format!("; did you mean \"{name}\"?"));
                }
                return Err(self.fail(&path("object"), item("object"), message));
            }
            let rights = parse_rights(&cap.rights).map_err(|bad| {
                let message =
                    format!("`{}` in {} is not a right (use s r g R W)", shown(&bad.to_string()), quoted(&cap.rights));
                self.fail(&path("rights"), item("rights"), message)
            })?;
            caps.push(CapSpec { name: cap.name.clone(), object: cap.object.clone(), rights, badge: Badge(cap.badge) });
        }
        Ok(caps)
    }

    /// The names a process may register: not a built-in service's, and only with a name server.
    fn registrations(&self, index: usize, raw: &RawProcess, servers: &Servers) -> Result<(), ScenarioError> {
        let item = || format!("{}, field `may_register`", process_item(&raw.name));
        for (at, name) in raw.may_register.iter().enumerate() {
            if Service::is_reserved(name) {
                let path = [Step::Field("processes"), Step::Index(index), Step::Field("may_register"), Step::Index(at)];
                let message =
                    format!("{} is the name of a built-in service, which no process may register", quoted(name));
                return Err(self.fail(&path, item(), message));
            }
        }
        if !raw.may_register.is_empty() && servers.name.is_none() {
            let path = [Step::Field("processes"), Step::Index(index), Step::Field("may_register")];
            return Err(self.fail(&path, item(), "may_register needs the name server".into()));
        }
        Ok(())
    }

    /// Every service a program uses must be booted; every name it looks up must be registrable.
    fn services_used(&self, index: usize, raw: &RawProcess, context: &Context<'_>) -> Result<(), ScenarioError> {
        let servers = context.servers;
        for (op, path) in walk_ops(&raw.program) {
            let missing = match op {
                Op::Print(_) if servers.console.is_none() => {
                    Some(("Print", "the console server (servers: (console: true))"))
                }
                Op::TimerWait(_) if servers.timer.is_none() => {
                    Some(("TimerWait", "the timer server (servers: (timer: (period_cycles: N)))"))
                }
                Op::Open { .. }
                | Op::Create(_)
                | Op::Mkdir(_)
                | Op::Unlink(_)
                | Op::Stat { .. }
                | Op::Readdir { .. }
                    if servers.file.is_none() =>
                {
                    Some(("a file operation", "the file server (servers: (file: ()))"))
                }
                Op::Lookup { name, .. } if !context.lookups.contains(name) => {
                    let mut message = format!(
                        "looks up {}, which no process may register and no booted server provides",
                        quoted(name)
                    );
                    let known: Vec<&str> = context.lookups.iter().map(String::as_str).collect();
                    if let Some(known) = did_you_mean(name, &known) {
                        message.push_str(&format!("; did you mean \"{known}\"?"));
                    }
                    return Err(self.op_error(index, raw, &path, OpPart::Field("name"), message));
                }
                _ => None,
            };
            if let Some((what, needs)) = missing {
                return Err(self.op_error(index, raw, &path, OpPart::Whole, format!("{what} needs {needs}")));
            }
        }
        Ok(())
    }

    fn expectations(&self, expect: &Expectations, names: &BTreeSet<String>) -> Result<(), ScenarioError> {
        for server in expect.restarts.keys() {
            if !Service::from_name(server).is_some_and(Service::is_faultable) {
                let path = [Step::Field("expect"), Step::Field("restarts"), Step::Entry(server)];
                let message = format!("only {} can be restarted", faults::faultable_list());
                return Err(self.fail_key(&path, format!("expect.restarts {}", quoted(server)), message));
            }
        }
        let known: Vec<&str> = names.iter().map(String::as_str).collect();
        let unknown = |name: &str| {
            let mut message = "is not a process of this scenario".to_owned();
            if let Some(known) = did_you_mean(name, &known) {
                message.push_str(&format!("; did you mean \"{known}\"?"));
            }
            message
        };
        for (field, keys) in
            [("exit_codes", expect.exit_codes.keys().collect::<Vec<_>>()), ("console", expect.console.keys().collect())]
        {
            if let Some(name) = keys.into_iter().find(|name| !names.contains(*name)) {
                let path = [Step::Field("expect"), Step::Field(field), Step::Entry(name)];
                return Err(self.fail_key(&path, format!("expect.{field} {}", quoted(name)), unknown(name)));
            }
        }
        if let Some((at, name)) = expect.faulted.iter().enumerate().find(|(_, name)| !names.contains(*name)) {
            let path = [Step::Field("expect"), Step::Field("faulted"), Step::Index(at)];
            return Err(self.fail(&path, format!("expect.faulted {}", quoted(name)), unknown(name)));
        }
        Ok(())
    }
}

fn server_booted(servers: &Servers, name: &str) -> bool {
    Service::from_name(name).is_some_and(|service| servers.boots(service))
}
