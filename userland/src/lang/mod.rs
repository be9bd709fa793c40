//! Programs in a language: processes that run a Rhai script.
//!
//! A script calls the system through functions (`call`, `receive`, `open`, `lookup`, ...) that
//! return values or throw the operation's error in words. Each script runs on a thread of its
//! own, because Rhai cannot stop in the middle of a script and resume later; the thread hands
//! every request to the script's program (the future the kernel polls) and waits for the answer,
//! a rendezvous over two channels ([`thread`]). The program waits while the script computes, and the script
//! waits while the kernel runs others, so exactly one simulated process runs at a time and a run
//! stays deterministic.
//!
//! Sandbox: the engine has no file, clock or module access (`no_time`, `no_module`), `print`
//! goes to the console server, `debug` nowhere, `random` draws from the run's seed, and Rhai's
//! own hashing has a fixed seed. Bounds: [`Limits`] (an operation budget between two syscalls,
//! sizes of strings, arrays and maps, variables, call depth); the kernel's step limit bounds
//! everything else, since every request takes at least one step.
//!
//! This module must not know the scenario format: the core reads the script's file and hands
//! its text here.

mod api;
mod perform;
mod request;
mod thread;

use crate::client::Services;
use crate::steps::Steps;
use mksim_kernel::{ProgramFault, ProgramResult, Slot};
use perform::Performer;
use request::FromScript;
use std::collections::BTreeMap;
use std::future::Future;
use std::sync::{Arc, Once};
use thread::ScriptThread;

/// The token of the error that stops a script whose program is gone.
const STOPPED: &str = "stopped";

/// What a script may use. The defaults bound a script's memory to a few megabytes: at most
/// `variables` values live at once, each at most `string_bytes` of text plus `array_items` +
/// `map_items` items (Rhai counts nested arrays and maps into the outer one).
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct Limits {
    /// Script operations (expressions, statements, calls) between two syscalls: a loop that
    /// never asks the system for anything ends with "ran too long" after this many.
    pub operations_per_syscall: u64,
    /// Nested function calls.
    pub call_levels: usize,
    /// Nested expressions.
    pub expression_depth: usize,
    /// Bytes in one string.
    pub string_bytes: usize,
    /// Items in one array, nested ones counted.
    pub array_items: usize,
    /// Entries in one map, nested ones counted.
    pub map_items: usize,
    /// Variables alive at once.
    pub variables: usize,
    /// Functions a script may define.
    pub functions: usize,
}

impl Default for Limits {
    fn default() -> Limits {
        Limits {
            operations_per_syscall: 1_000_000,
            call_levels: 48,
            expression_depth: 64,
            string_bytes: 64 * 1024,
            array_items: 16 * 1024,
            map_items: 16 * 1024,
            variables: 256,
            functions: 256,
        }
    }
}

/// A script, checked to parse, ready to run as the program of any number of processes.
#[derive(Clone, Debug)]
pub struct ScriptProgram {
    /// The name its errors are reported under: its file (`spooler.rhai`), or `inline script`.
    pub name: Arc<str>,
    /// Its text.
    pub source: Arc<str>,
    /// Its bounds.
    pub limits: Limits,
    /// Where its first character is in the file it is reported under, as (line, column) from 1:
    /// (1, 1) for a script file, further on for a script written inside a scenario.
    pub origin: (usize, usize),
    /// The scenario's parameters, which `param(name)` reads.
    pub params: Arc<BTreeMap<String, String>>,
    /// The script compiled, once for every process that runs it.
    ast: Arc<rhai::AST>,
}

/// A script that does not parse: where, and why.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SyntaxError {
    /// Line, from 1 (0 when Rhai gives none).
    pub line: usize,
    /// Column, from 1 (0 when Rhai gives none).
    pub column: usize,
    /// What is wrong.
    pub message: String,
}

impl ScriptProgram {
    /// Checks that `source` parses.
    ///
    /// # Errors
    /// The first syntax error, with its line and column in `source`.
    pub fn compile(name: &str, source: &str, limits: Limits) -> Result<ScriptProgram, SyntaxError> {
        let engine = api::bare_engine(&limits);
        let ast = engine.compile(source).map_err(|error| SyntaxError {
            line: error.1.line().unwrap_or(0),
            column: error.1.position().unwrap_or(0),
            message: error.0.to_string(),
        })?;
        Ok(ScriptProgram {
            name: name.into(),
            source: source.into(),
            limits,
            origin: (1, 1),
            params: Arc::default(),
            ast: Arc::new(ast),
        })
    }
}

impl ScriptProgram {
    /// The compiled script.
    fn ast(&self) -> &rhai::AST {
        &self.ast
    }

    /// The place in the file of `line` and `column` of the script.
    pub fn place(&self, line: usize, column: usize) -> (usize, usize) {
        place(self.origin, line, column)
    }
}

/// The place in its file of `line` and `column` of a script whose first character is at `origin`.
pub fn place(origin: (usize, usize), line: usize, column: usize) -> (usize, usize) {
    let (first_line, first_column) = origin;
    if line <= 1 { (first_line, first_column + column.saturating_sub(1)) } else { (first_line + line - 1, column) }
}

/// Rhai hashes function signatures with a seed it draws at random unless one is set; nothing a
/// script sees depends on it, but mksim promises no hash seed anywhere, so it is fixed.
fn fix_hashing_seed() {
    static FIXED: Once = Once::new();
    FIXED.call_once(|| {
        // Fails only when a seed is already set (by an embedding program): that one stays.
        let _ = rhai::config::hashing::set_hashing_seed(Some([0x006d_6b73_696d, 1, 2, 3]));
    });
}

/// Runs `program` as the program of the process named `process`, which starts with the capabilities in `caps`.
///
/// # Errors
/// The process faults (code 1) with the script's file, line and column and the error, when the
/// script stops on an error it did not catch, runs too long without a syscall or passes a
/// size limit; with `keep_going` it exits with 1 instead.
pub fn run(
    services: Services,
    process: String,
    caps: BTreeMap<String, Slot>,
    program: ScriptProgram,
    keep_going: bool,
) -> impl Future<Output = ProgramResult> {
    let steps = Steps::default();
    let counter = steps.counter();
    counter.around(drive(Performer { services, steps }, process, caps, program, keep_going))
}

async fn drive(
    mut performer: Performer,
    process: String,
    caps: BTreeMap<String, Slot>,
    program: ScriptProgram,
    keep_going: bool,
) -> ProgramResult {
    let name = Arc::clone(&program.name);
    let origin = program.origin;
    let mut last_line = 0;
    let mut thread = ScriptThread::start(program, process, caps)
        .map_err(|error| ProgramFault::failed(1, format!("{name}: the script could not start: {error}")))?;
    loop {
        match thread.next() {
            FromScript::Request(request, line) => {
                // The line goes into the log when it changes, in the file's own numbering.
                if line != last_line && line > 0 {
                    last_line = line;
                    let (in_file, _) = place(origin, line as usize, 1);
                    performer.services.sys().script_line(u32::try_from(in_file).unwrap_or(u32::MAX));
                }
                let answer = performer.perform(request).await;
                thread.answer(answer);
            }
            FromScript::Exit(code) => return Ok(code),
            FromScript::Finished => return Ok(0),
            FromScript::Failed(_) if keep_going => return Ok(1),
            FromScript::Failed(why) => return Err(ProgramFault::failed(1, why)),
        }
    }
}
