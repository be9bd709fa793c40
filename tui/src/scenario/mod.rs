//! Scenario files: RON text parsed into raw types, then validated into a
//! [`Scenario`] that can only be built by [`Scenario::parse`], so a scenario
//! that boots has already been checked. Every error names the file, line,
//! column and the item at fault.

mod faults;
mod params;

pub use faults::{FAULTABLE_SERVERS, parse_cli_fault};
use mksim_kernel::{Badge, CostProfile, DeadlockPolicy, FullPolicy, KernelConfig, Limits, OutcomeKind, Priority};
use mksim_servers::fault::FaultSpec;
use mksim_servers::filesystem::FsConfig;
use mksim_servers::system::{
    BlockServerSpec, CapSpec, Mode, ObjectSpec, ObjectSpecKind, ProgramSpec, Servers, SystemSpec,
};
use mksim_userland::script::{Op, Policy, check_names, parse_rights};
use serde::Deserialize;
use std::collections::{BTreeMap, BTreeSet};
use std::fmt;

/// A scenario file that could not be used.
#[derive(Clone, PartialEq, Eq, Debug)]
pub struct ScenarioError {
    /// The file (or `built-in NAME`).
    pub file: String,
    /// 1-based line.
    pub line: usize,
    /// 1-based column.
    pub column: usize,
    /// The item at fault (`process "ping"`, `field "prio"`).
    pub item: String,
    /// What is wrong.
    pub message: String,
}

impl fmt::Display for ScenarioError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.line == 0 {
            return write!(f, "{}: {}", self.file, self.message);
        }
        write!(f, "{}:{}:{}: {}: {}", self.file, self.line, self.column, self.item, self.message)
    }
}

impl std::error::Error for ScenarioError {}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename = "Scenario")]
struct RawScenario {
    name: String,
    /// Read before parsing, by `params::substitute`; parsed here so the field is known and checked.
    #[serde(default, rename = "params")]
    _params: BTreeMap<String, params::RawParam>,
    #[serde(default)]
    description: String,
    #[serde(default)]
    kernel: RawKernel,
    #[serde(default)]
    servers: RawServers,
    #[serde(default)]
    objects: Vec<RawObject>,
    processes: Vec<RawProcess>,
    #[serde(default)]
    faults: Vec<faults::RawFault>,
    #[serde(default)]
    expect: Expectations,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, default, rename = "Kernel")]
struct RawKernel {
    profile: String,
    /// The monolithic mode's profile, when it is not `profile`.
    monolithic_profile: Option<String>,
    seed: u64,
    step_limit: u64,
    memory_limit: u64,
    priority_inheritance: bool,
    deadlock: DeadlockPolicy,
    timeslice_cycles: u64,
    limits: Limits,
}

impl Default for RawKernel {
    fn default() -> Self {
        let defaults = KernelConfig::default();
        RawKernel {
            profile: "sel4".into(),
            monolithic_profile: None,
            seed: 0,
            step_limit: defaults.step_limit,
            memory_limit: defaults.memory_limit_bytes,
            priority_inheritance: false,
            deadlock: DeadlockPolicy::Report,
            timeslice_cycles: defaults.timeslice_cycles,
            limits: Limits::default(),
        }
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, default, rename = "Servers")]
struct RawServers {
    name: bool,
    console: bool,
    block: Option<RawBlock>,
    file: Option<RawFile>,
    timer: Option<RawTimer>,
    supervisor: Option<faults::RawSupervisor>,
}

impl Default for RawServers {
    fn default() -> Self {
        RawServers { name: true, console: true, block: None, file: None, timer: None, supervisor: None }
    }
}

#[derive(Deserialize, Clone, Copy)]
#[serde(deny_unknown_fields, default, rename = "Block")]
struct RawBlock {
    blocks: u32,
    block_size: u32,
    latency_cycles: u64,
    priority: u8,
}

impl Default for RawBlock {
    fn default() -> Self {
        RawBlock { blocks: 256, block_size: 512, latency_cycles: 20_000, priority: 18 }
    }
}

#[derive(Deserialize, Clone, Copy)]
#[serde(deny_unknown_fields, default, rename = "File")]
struct RawFile {
    cache_blocks: usize,
    priority: u8,
}

impl Default for RawFile {
    fn default() -> Self {
        RawFile { cache_blocks: 8, priority: 15 }
    }
}

#[derive(Deserialize, Clone, Copy)]
#[serde(deny_unknown_fields, rename = "Timer")]
struct RawTimer {
    period_cycles: u64,
    #[serde(default = "timer_priority")]
    priority: u8,
}

fn timer_priority() -> u8 {
    19
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename = "ObjectKind")]
enum RawObjectKind {
    Endpoint,
    Queue { capacity: u32, policy: Policy },
    Notification,
    Region { size: u32 },
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename = "Object")]
struct RawObject {
    name: String,
    kind: RawObjectKind,
    owner: String,
}

#[derive(Deserialize, Clone)]
#[serde(deny_unknown_fields, rename = "Capability")]
struct RawCap {
    name: String,
    object: String,
    rights: String,
    #[serde(default)]
    badge: u64,
}

fn yes() -> bool {
    true
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename = "Process")]
struct RawProcess {
    name: String,
    priority: u8,
    #[serde(default)]
    server: bool,
    #[serde(default = "yes")]
    name_server: bool,
    #[serde(default)]
    may_register: Vec<String>,
    #[serde(default)]
    caps: Vec<RawCap>,
    /// Go on with the next step when one fails (and exit with 1 at the end), rather than fault.
    #[serde(default)]
    keep_going: bool,
    program: Vec<Op>,
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
const BLOCK_SIZE_MAX: u32 = 1000;
/// The most blocks a ramdisk may have (64 MiB at the largest block size).
const BLOCKS_MAX: u32 = 65_536;

/// Names the built-in servers take in the process table.
const SERVER_NAMES: [&str; 6] = ["name", "console", "block", "fs", "timer", "supervisor"];

/// Line and column (1-based, in characters) of a byte offset.
fn position(text: &str, offset: usize) -> (usize, usize) {
    let before = &text[..offset.min(text.len())];
    let line = before.matches('\n').count() + 1;
    let column = before[before.rfind('\n').map_or(0, |newline| newline + 1)..].chars().count() + 1;
    (line, column)
}

/// Where in the text an item is: the first `needle` after the first `anchor` (both optional).
fn locate(text: &str, anchor: Option<&str>, needle: &str) -> (usize, usize) {
    let start = anchor.and_then(|anchor| text.find(anchor)).unwrap_or(0);
    position(text, find_after(text, start, needle))
}

/// The offset of `needle` at or after `from`, or `from` when it is not there.
fn find_after(text: &str, from: usize, needle: &str) -> usize {
    text.get(from..).and_then(|rest| rest.find(needle)).map_or(from, |found| from + found)
}

/// The offset of the line that opens a section (`processes:`), skipping comments.
fn section_start(text: &str, key: &str) -> usize {
    let mut offset = 0;
    for line in text.split_inclusive('\n') {
        let trimmed = line.trim_start();
        if trimmed.starts_with(key) && trimmed[key.len()..].trim_start().starts_with(':') {
            return offset;
        }
        offset += line.len();
    }
    0
}

/// The offset of a field `key:` in the section opened by `section:`: a whole word, so `profile`
/// is not found inside `monolithic_profile`, and not in a comment. The section's start when the
/// field is not there.
fn field_start(text: &str, section: &str, key: &str) -> usize {
    let start = section_start(text, section);
    let is_word = |c: char| c.is_alphanumeric() || c == '_';
    let mut line_start = start;
    for line in text[start..].split_inclusive('\n') {
        let code = line.split("//").next().unwrap_or("");
        let found = code.match_indices(key).find(|&(at, _)| {
            let before = code[..at].chars().next_back().is_none_or(|c| !is_word(c));
            let after = &code[at + key.len()..];
            before && !after.starts_with(is_word) && after.trim_start().starts_with(':')
        });
        if let Some((at, _)) = found {
            return line_start + at;
        }
        line_start += line.len();
    }
    start
}

/// The offset of the `nth` declaration `name: "NAME"` in a section.
fn declaration(text: &str, section: &str, name: &str, nth: usize) -> Option<usize> {
    let start = section_start(text, section);
    let quoted = format!("\"{name}\"");
    text[start..]
        .match_indices(&quoted)
        .map(|(at, _)| start + at)
        .filter(|&at| text[..at].trim_end().ends_with("name:"))
        .nth(nth)
}

/// The byte offset of a 1-based line and column (in characters).
fn offset_of(text: &str, line: usize, column: usize) -> usize {
    let start: usize = text.split_inclusive('\n').take(line.saturating_sub(1)).map(str::len).sum();
    let within: usize = text[start..].chars().take(column.saturating_sub(1)).map(char::len_utf8).sum();
    start + within
}

/// The field a parse error sits in, and the process around it, for a readable item.
///
/// An error at a field name (an unknown field) names that field; otherwise the
/// nearest `field:` before the error on its line or the lines above, comments
/// left out.
fn item_at(text: &str, offset: usize) -> String {
    let offset = offset.min(text.len());
    let identifier = |s: &str| -> Option<String> {
        let name: String = s.chars().take_while(|c| c.is_alphanumeric() || *c == '_').collect();
        (!name.is_empty()).then_some(name)
    };
    let at_field = identifier(&text[offset..]).filter(|name| text[offset + name.len()..].trim_start().starts_with(':'));
    let field = at_field.or_else(|| {
        let before = &text[..offset];
        before.lines().rev().take(3).find_map(|line| {
            let code = line.split("//").next().unwrap_or("");
            let colon = code.rfind(':')?;
            let name: String =
                code[..colon].trim_end().chars().rev().take_while(|c| c.is_alphanumeric() || *c == '_').collect();
            (!name.is_empty()).then(|| name.chars().rev().collect::<String>())
        })
    });
    let processes = section_start(text, "processes");
    // The process whose declaration the error is in: the last `name: "X"` before it that is not
    // a capability's (a capability's name is followed by its `object`).
    let process = (processes > 0 && offset > processes)
        .then(|| {
            text[processes..offset].rmatch_indices("name:").find_map(|(at, _)| {
                let rest = &text[processes + at + "name:".len()..];
                let name = rest.split('"').nth(1)?;
                let after = rest.splitn(3, '"').nth(2)?.trim_start().trim_start_matches(',').trim_start();
                (!after.starts_with("object")).then(|| name.to_owned())
            })
        })
        .flatten();
    match (process, field) {
        (Some(process), Some(field)) => format!("process \"{process}\", field `{field}`"),
        (None, Some(field)) => format!("field `{field}`"),
        (_, None) => "syntax".to_owned(),
    }
}

struct Validator<'a> {
    text: &'a str,
    file: &'a str,
}

impl Validator<'_> {
    fn error(&self, anchor: Option<&str>, needle: &str, item: String, message: String) -> ScenarioError {
        let (line, column) = locate(self.text, anchor, needle);
        ScenarioError { file: self.file.to_owned(), line, column, item, message }
    }

    fn error_at(&self, offset: usize, item: String, message: String) -> ScenarioError {
        let (line, column) = position(self.text, offset);
        ScenarioError { file: self.file.to_owned(), line, column, item, message }
    }

    /// An error in a process's declaration: at `needle` after the line that names the process.
    fn process_error(&self, process: &str, needle: &str, message: String) -> ScenarioError {
        let start = declaration(self.text, "processes", process, 0).unwrap_or(0);
        self.error_at(find_after(self.text, start, needle), format!("process \"{process}\""), message)
    }
}

fn priority(level: u8) -> Option<Priority> {
    Priority::new(level)
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

    /// The text of a scenario file.
    ///
    /// # Errors
    /// A [`ScenarioError`] for a file that cannot be read or is not UTF-8.
    pub fn read(path: &str) -> Result<String, ScenarioError> {
        let bytes = std::fs::read(path).map_err(|error| ScenarioError {
            file: path.to_owned(),
            line: 0,
            column: 0,
            item: "file".into(),
            message: format!("cannot read: {error}"),
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
        let options = ron::Options::default().with_default_extension(ron::extensions::Extensions::IMPLICIT_SOME);
        let raw: RawScenario = options.from_str(text).map_err(|error| {
            let (line, column) = (error.span.start.line, error.span.start.col);
            ScenarioError {
                file: file.to_owned(),
                line,
                column,
                item: item_at(text, offset_of(text, line, column)),
                message: error.code.to_string(),
            }
        })?;
        Validator { text, file }.scenario(raw)
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

impl Validator<'_> {
    fn scenario(&self, raw: RawScenario) -> Result<Scenario, ScenarioError> {
        let kernel = self.kernel(&raw.kernel)?;
        let monolithic_profile = match &raw.kernel.monolithic_profile {
            Some(name) => Some(self.profile(name, "monolithic_profile")?),
            None => None,
        };
        let mut servers = self.servers(&raw.servers)?;
        servers.supervisor = self.supervisor(raw.servers.supervisor.as_ref(), &servers)?;
        let faults = self.faults(&raw.faults, &servers)?;
        let names = self.process_names(&raw.processes, &servers)?;
        let objects = self.objects(&raw.objects, &names)?;
        let services = self.registrable_names(&raw.processes, &servers);
        let mut processes = Vec::new();
        for process in &raw.processes {
            processes.push(self.process(process, &raw.objects, &servers, &services)?);
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
            let value = find_after(self.text, field_start(self.text, "kernel", field), &format!("\"{name}\""));
            self.error_at(value, format!("kernel.{field}"), message)
        })
    }

    fn kernel(&self, raw: &RawKernel) -> Result<KernelConfig, ScenarioError> {
        let profile = self.profile(&raw.profile, "profile")?;
        if raw.timeslice_cycles == 0 {
            return Err(self.error(
                Some("timeslice_cycles"),
                "timeslice_cycles",
                "kernel.timeslice_cycles".into(),
                "must be at least 1".into(),
            ));
        }
        Ok(KernelConfig {
            profile,
            seed: raw.seed,
            step_limit: raw.step_limit,
            memory_limit_bytes: raw.memory_limit,
            priority_inheritance: raw.priority_inheritance,
            deadlock_policy: raw.deadlock,
            timeslice_cycles: raw.timeslice_cycles,
            limits: raw.limits,
        })
    }

    fn servers(&self, raw: &RawServers) -> Result<Servers, ScenarioError> {
        let check = |level: u8, item: &str| {
            priority(level).ok_or_else(|| {
                self.error(
                    Some(item),
                    "priority",
                    format!("servers.{item}"),
                    format!("priority {level} is out of range 0..=31"),
                )
            })
        };
        let block = match (raw.block, raw.file) {
            (Some(block), _) => Some(block),
            (None, Some(_)) => Some(RawBlock::default()),
            (None, None) => None,
        };
        let block = match block {
            Some(block) => {
                // A block travels in one message, and the whole disk lives in memory.
                if !(64..=BLOCK_SIZE_MAX).contains(&block.block_size) || !(8..=BLOCKS_MAX).contains(&block.blocks) {
                    let message = format!("needs 8 to {BLOCKS_MAX} blocks of 64 to {BLOCK_SIZE_MAX} bytes");
                    let at = find_after(self.text, section_start(self.text, "servers"), "block");
                    return Err(self.error_at(at, "servers.block".into(), message));
                }
                Some(BlockServerSpec {
                    priority: check(block.priority, "block")?,
                    blocks: block.blocks,
                    block_size: block.block_size as usize,
                    latency_cycles: block.latency_cycles,
                })
            }
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
            Some(timer) if timer.period_cycles == 0 => {
                return Err(self.error(
                    Some("timer"),
                    "period_cycles",
                    "servers.timer".into(),
                    "period_cycles must be at least 1".into(),
                ));
            }
            Some(timer) => Some((check(timer.priority, "timer")?, timer.period_cycles)),
            None => None,
        };
        let level = |value: u8| priority(value).expect("constant priorities are in range");
        Ok(Servers {
            name: raw.name.then(|| level(20)),
            console: raw.console.then(|| level(12)),
            block,
            file,
            timer,
            supervisor: None,
        })
    }

    fn process_names(&self, processes: &[RawProcess], servers: &Servers) -> Result<BTreeSet<String>, ScenarioError> {
        let mut names = BTreeSet::new();
        for process in processes {
            let anchor = format!("\"{}\"", process.name);
            if process.name.is_empty() {
                return Err(self.error(None, "name: \"\"", "process".into(), "a process needs a name".into()));
            }
            if SERVER_NAMES.contains(&process.name.as_str()) && server_booted(servers, &process.name) {
                return Err(self.process_error(
                    &process.name,
                    &anchor,
                    "this name belongs to a built-in server".into(),
                ));
            }
            if !names.insert(process.name.clone()) {
                let second = declaration(self.text, "processes", &process.name, 1).unwrap_or(0);
                return Err(self.error_at(second, format!("process \"{}\"", process.name), "declared twice".into()));
            }
            if priority(process.priority).is_none() {
                return Err(self.process_error(
                    &process.name,
                    "priority",
                    format!("priority {} is out of range 0..=31", process.priority),
                ));
            }
        }
        if processes.is_empty() {
            return Err(self.error(
                None,
                "processes",
                "processes".into(),
                "a scenario needs at least one process".into(),
            ));
        }
        Ok(names)
    }

    fn objects(&self, raw: &[RawObject], processes: &BTreeSet<String>) -> Result<Vec<ObjectSpec>, ScenarioError> {
        let mut seen = BTreeSet::new();
        let mut objects = Vec::new();
        for object in raw {
            let item = format!("object \"{}\"", object.name);
            let declared = declaration(self.text, "objects", &object.name, 0).unwrap_or(0);
            if !seen.insert(object.name.clone()) {
                let second = declaration(self.text, "objects", &object.name, 1).unwrap_or(declared);
                return Err(self.error_at(second, item, "declared twice".into()));
            }
            if !processes.contains(&object.owner) {
                let owner = find_after(self.text, declared, &format!("\"{}\"", object.owner));
                let message = format!("owner \"{}\" is not a process of this scenario", object.owner);
                return Err(self.error_at(owner, item, message));
            }
            let kind = match object.kind {
                RawObjectKind::Endpoint => ObjectSpecKind::Endpoint,
                RawObjectKind::Queue { capacity, policy } => {
                    let most = Limits::default().queue_capacity_max;
                    if capacity == 0 || capacity > most {
                        let message = format!("a queue holds from 1 to {most} messages");
                        return Err(self.error_at(find_after(self.text, declared, "capacity"), item, message));
                    }
                    let policy = match policy {
                        Policy::Block => FullPolicy::Block,
                        Policy::Fail => FullPolicy::Fail,
                    };
                    ObjectSpecKind::Queue { capacity, policy }
                }
                RawObjectKind::Notification => ObjectSpecKind::Notification,
                RawObjectKind::Region { size } => {
                    if size > Limits::default().region_bytes_max {
                        let message = format!("a region holds at most {} bytes", Limits::default().region_bytes_max);
                        return Err(self.error_at(find_after(self.text, declared, "size"), item, message));
                    }
                    ObjectSpecKind::Region { size }
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
        for service in ["console", "fs", "timer"] {
            if server_booted(servers, service) {
                names.insert(service.to_owned());
            }
        }
        names
    }

    fn process(
        &self,
        raw: &RawProcess,
        objects: &[RawObject],
        servers: &Servers,
        lookups: &BTreeSet<String>,
    ) -> Result<ProcessDecl, ScenarioError> {
        let mut caps = Vec::new();
        let mut known: BTreeSet<String> =
            objects.iter().filter(|object| object.owner == raw.name).map(|object| object.name.clone()).collect();
        for cap in &raw.caps {
            if !objects.iter().any(|object| object.name == cap.object) {
                let needle = format!("\"{}\"", cap.object);
                return Err(self.process_error(
                    &raw.name,
                    &needle,
                    format!(
                        "capability \"{}\" names object \"{}\", which the scenario does not declare",
                        cap.name, cap.object
                    ),
                ));
            }
            let rights = parse_rights(&cap.rights).map_err(|bad| {
                self.process_error(
                    &raw.name,
                    &format!("\"{}\"", cap.rights),
                    format!("`{bad}` in \"{}\" is not a right (use s r g R W)", cap.rights),
                )
            })?;
            known.insert(cap.name.clone());
            caps.push(CapSpec { name: cap.name.clone(), object: cap.object.clone(), rights, badge: Badge(cap.badge) });
        }
        if !raw.may_register.is_empty() && servers.name.is_none() {
            return Err(self.process_error(&raw.name, "may_register", "may_register needs the name server".into()));
        }
        check_names(&raw.program, &mut known).map_err(|error| {
            self.process_error(
                &raw.name,
                &format!("\"{}\"", error.item),
                format!("program step {}: {}", error.step, error.message),
            )
        })?;
        self.services_used(raw, servers, lookups)?;
        Ok(ProcessDecl {
            name: raw.name.clone(),
            priority: priority(raw.priority).expect("checked with the names"),
            server: raw.server,
            name_server: raw.name_server,
            may_register: raw.may_register.clone(),
            caps,
            keep_going: raw.keep_going,
            program: raw.program.clone(),
        })
    }

    /// Every service a program uses must be booted; every name it looks up must be registrable.
    fn services_used(
        &self,
        raw: &RawProcess,
        servers: &Servers,
        lookups: &BTreeSet<String>,
    ) -> Result<(), ScenarioError> {
        let mut ops: Vec<&Op> = raw.program.iter().collect();
        while let Some(op) = ops.pop() {
            let missing = match op {
                Op::Repeat { ops: inner, .. } => {
                    ops.extend(inner.iter());
                    None
                }
                Op::Fails { op, .. } => {
                    ops.push(op);
                    None
                }
                Op::Print(_) if servers.console.is_none() => {
                    Some(("Print", "the console server (servers: (console: true))"))
                }
                Op::TimerWait(_) if servers.timer.is_none() => {
                    Some(("TimerWait", "the timer server (servers: (timer: Some((period_cycles: N))))"))
                }
                Op::Open { .. }
                | Op::Create(_)
                | Op::Mkdir(_)
                | Op::Unlink(_)
                | Op::Stat { .. }
                | Op::Readdir { .. }
                    if servers.file.is_none() =>
                {
                    Some(("file operation", "the file server (servers: (file: Some(())))"))
                }
                Op::Lookup { name, .. } if !lookups.contains(name) => {
                    let needle = format!("\"{name}\"");
                    return Err(self.process_error(
                        &raw.name,
                        &needle,
                        format!("looks up \"{name}\", which no process may register and no booted server provides"),
                    ));
                }
                _ => None,
            };
            if let Some((what, needs)) = missing {
                return Err(self.process_error(&raw.name, what, format!("{what} needs {needs}")));
            }
        }
        Ok(())
    }

    fn expectations(&self, expect: &Expectations, names: &BTreeSet<String>) -> Result<(), ScenarioError> {
        for server in expect.restarts.keys() {
            if !faults::FAULTABLE_SERVERS.contains(&server.as_str()) {
                let needle = format!("\"{server}\"");
                return Err(self.error(
                    Some("restarts"),
                    &needle,
                    format!("expect.restarts \"{server}\""),
                    format!("only {} can be restarted", faults::FAULTABLE_SERVERS.join(", ")),
                ));
            }
        }
        let mentioned = expect.exit_codes.keys().chain(expect.console.keys()).chain(expect.faulted.iter());
        for name in mentioned {
            if !names.contains(name) {
                let needle = format!("\"{name}\"");
                return Err(self.error(
                    Some("expect"),
                    &needle,
                    format!("expect \"{name}\""),
                    "is not a process of this scenario".into(),
                ));
            }
        }
        Ok(())
    }
}

fn server_booted(servers: &Servers, name: &str) -> bool {
    match name {
        "name" => servers.name.is_some(),
        "console" => servers.console.is_some(),
        "block" => servers.block.is_some(),
        "fs" => servers.file.is_some(),
        "timer" => servers.timer.is_some(),
        "supervisor" => servers.supervisor.is_some(),
        _ => false,
    }
}

/// A built-in profile by name, or a profile file by path.
///
/// # Errors
/// What is wrong with the name, the file or its contents, in words.
pub fn load_profile(name: &str) -> Result<CostProfile, String> {
    if name.ends_with(".ron") || name.contains('/') {
        let text =
            std::fs::read_to_string(name).map_err(|error| format!("cannot read cost profile {name}: {error}"))?;
        return CostProfile::from_ron(&text, name).map_err(|error| error.to_string());
    }
    CostProfile::built_in(name).map_err(|error| error.to_string())
}
