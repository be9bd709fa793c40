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

mod dependencies;
mod errors;
mod faults;
mod files;
mod limits;
pub mod notes;
mod params;
mod pipes;
mod programs;
mod raw;
mod scripts;
mod syntax;
mod validate;
mod wording;

pub use faults::parse_cli_fault;
pub use faults::{RawFault, RawFaultKind, RawHeartbeat, RawPolicy, RawSupervisor, RawTrigger};
pub use files::{FILE_BYTES_MAX, load_profile};
pub use limits::{
    CAPABILITY_SLOTS_MAX, MEMORY_LIMIT_MIN_BYTES, MESSAGE_BYTES_MAX, MESSAGE_CAPS_MAX, OBJECTS_PER_PROCESS_MAX,
    POINTS_MAX, QUEUE_CAPACITY_MAX, REGION_BYTES_MAX, STEP_LIMIT_MAX, TIMER_PERIOD_MIN_CYCLES,
};
pub use limits::{Int, RawLimits};
use mksim_kernel::{CostProfile, KernelConfig, Priority};
use mksim_servers::fault::FaultSpec;
use mksim_servers::system::{CapSpec, Mode, ObjectSpec, ProgramSpec, Servers, SystemSpec};
/// The operations of a program, and what they use: their schema lives with their interpreter,
/// in `mksim-userland` (see the crate's documentation for why).
pub use mksim_userland::script::{Op, Pass, Policy};
pub use params::RawParam;
pub use pipes::{PIPE_BUFFER_BYTES_MAX, RawPipe};
pub use programs::{ProgramError, ProgramKind, ProgramOverride, ProgramSource};
use std::collections::BTreeMap;
use std::fmt;
use syntax::{Lines, Step};
use wording::quoted;

use errors::{Validator, position};
pub use raw::{
    Bounds, EXPECTATION_FIELDS, Expectations, ExpectedOutcome, RawBlock, RawCap, RawFile, RawKernel, RawObject,
    RawObjectKind, RawProcess, RawProgram, RawScenario, RawServers, RawTimer, ScriptSource,
};
pub use scripts::script_path;
use validate::server_booted;

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
    recover: bool,
    program: ProgramDecl,
}

use mksim_userland::lang::ScriptProgram;

/// A checked program.
#[derive(Clone, Debug)]
enum ProgramDecl {
    /// Operations, their names checked.
    Ops(Vec<Op>),
    /// A script that parses.
    Script(ScriptProgram),
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
    /// What to watch for while it runs (the file's `notes`, its whitespace made single spaces).
    pub notes: Option<String>,
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

/// RON text read into the raw schema; `file` names it in errors.
fn read_raw(text: &str, file: &str) -> Result<RawScenario, ScenarioError> {
    parse_raw(text).map_err(|error| {
        // Where the parser stops in an edited text, if it does: to learn which numbers it takes.
        let parses = |edited: &str| {
            parse_raw(edited).err().map(|error| Lines::new(edited).offset(error.span.start.line, error.span.start.col))
        };
        let (offset, item, message) = wording::parse_error(text, &error, &parses);
        let (line, column) = position(text, offset);
        ScenarioError { file: file.to_owned(), line, column, item, message }
    })
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
        scenario.map_inline_origins(|(line, column)| (line, substituted.original_column(line, column)));
        scenario.params = substituted.values;
        Ok(scenario)
    }

    /// Moves where each inline script begins with `place`: validation found it in a text that
    /// was changed before it was parsed (parameters substituted, programs put in), and a script's
    /// faults must name the line and column of the file as written.
    pub(super) fn map_inline_origins(&mut self, place: impl Fn((usize, usize)) -> (usize, usize)) {
        for process in &mut self.processes {
            if let ProgramDecl::Script(script) = &mut process.program
                && *script.name == *self.file
            {
                script.origin = place(script.origin);
            }
        }
    }

    fn parse_substituted(text: &str, file: &str) -> Result<Scenario, ScenarioError> {
        let raw = read_raw(text, file)?;
        Validator { text: Some(text), file }.scenario(raw)
    }

    /// The system this scenario describes, with its programs, to boot in either mode.
    pub fn system(&self, kernel: KernelConfig) -> SystemSpec {
        self.system_with_faults(kernel, self.faults.clone())
    }

    /// [`Scenario::system`] with `faults` instead of the scenario's own.
    pub fn system_with_faults(&self, kernel: KernelConfig, faults: Vec<FaultSpec>) -> SystemSpec {
        self.system_for_run(kernel, faults, None)
    }

    /// [`Scenario::system_with_faults`], with every process recovering stale file descriptors
    /// or none when `recover` says so (a fault campaign comparing the two), else as each
    /// process's `recover` says.
    pub fn system_for_run(&self, kernel: KernelConfig, faults: Vec<FaultSpec>, recover: Option<bool>) -> SystemSpec {
        let programs = self
            .processes
            .iter()
            .map(|process| {
                let program = process.program.clone();
                let keep_going = process.keep_going;
                let recover = recover.unwrap_or(process.recover);
                let name = process.name.clone();
                let params = std::sync::Arc::new(self.params.clone());
                ProgramSpec {
                    name: process.name.clone(),
                    priority: process.priority,
                    is_server: process.server,
                    name_server: process.name_server,
                    may_register: process.may_register.clone(),
                    caps: process.caps.clone(),
                    program: Box::new(move |services, caps| match (program, services.with_recovery(recover)) {
                        (ProgramDecl::Ops(ops), services) => {
                            Box::pin(mksim_userland::interpreter::run(services, caps, ops, keep_going))
                        }
                        (ProgramDecl::Script(script), services) => {
                            let mut script = script;
                            script.params = params;
                            Box::pin(mksim_userland::lang::run(services, name, caps, script, keep_going))
                        }
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

    /// The processes that run a script, each with the name its script goes by (its file, or the
    /// scenario's file for a script written in it).
    pub fn scripts(&self) -> impl Iterator<Item = (&str, &str)> {
        self.processes.iter().filter_map(|process| match &process.program {
            ProgramDecl::Script(script) => Some((process.name.as_str(), &*script.name)),
            ProgramDecl::Ops(_) => None,
        })
    }

    /// Names of the processes the scenario declares (servers aside).
    pub fn process_names(&self) -> impl Iterator<Item = &str> {
        self.processes.iter().map(|process| process.name.as_str())
    }
}
