//! A fuzz harness for scenario files: parse → validate → run.
//!
//! [`Mutator`] makes hostile inputs from the shipped scenarios (byte flips,
//! truncation, deleted, duplicated and borrowed lines, numbers swapped for
//! edge values, strings of 100 KB, deep nesting, parameter placeholders, and
//! kernel, server and program fields at their limits), each a pure function
//! of a seed and a case number, so every input can be made again from the
//! two.
//! [`check`] runs one input through the whole pipeline as the binary does
//! (read the file, parse, validate, run in both modes under a small step
//! limit, then write the trace, summaries, comparison and JSON that `mksim
//! run`, `compare` and `check` print) and says what went wrong, if anything:
//!
//! - a panic anywhere, even one the kernel catches and turns into a fault of
//!   the panicking process (a panic in mksim is always a bug);
//! - an invalid file whose error has no line and column, or one outside the
//!   file;
//! - a run over its bounds: more steps than its limit, or an event log larger
//!   than [`LOG_BYTES_MAX`];
//! - a built-in program that awaited something that is not a syscall.
//!
//! Time is not judged here: the test that drives the harness stops a case
//! that runs grossly long (see `tests/tests/fuzz.rs`).
//!
//! The file is longer than most because each kind of mutation is a few lines
//! of its own, and they read best side by side; its unit tests take the last
//! sixty lines.

use mksim_core::run::{RunOptions, RunReport, run};
use mksim_core::scenario::{Scenario, ScenarioError};
use mksim_core::{check, report};
use mksim_servers::system::Mode;
use rand_chacha::ChaCha8Rng;
use rand_core::{Rng, SeedableRng};
use std::cell::RefCell;
use std::fmt;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::Path;
use std::sync::Once;

/// The step limit of every fuzzed run (lower than the scenario's own, if that is lower still).
pub const STEP_LIMIT: u64 = 2_000;

/// The most memory a fuzzed run's event log (message data included) may take: far more than
/// [`STEP_LIMIT`] steps log when each step is bounded (a few events of a few dozen bytes, and a
/// message of at most 100 KB, the longest string the harness writes), and far less than a
/// runaway log.
pub const LOG_BYTES_MAX: usize = 256 << 20;

/// The length of a long string: 100 KB.
const LONG: usize = 100_000;

/// Numbers put in place of a number: the edges of the integer types a scenario uses.
const EDGE_NUMBERS: [&str; 12] = [
    "0",
    "1",
    "-1",
    "255",
    "256",
    "65536",
    "2147483648",
    "4294967295",
    "4294967296",
    "18446744073709551615",
    "18446744073709551616",
    "-9223372036854775809",
];

/// Fields of `kernel: (...)` with values at the edges, put in by [`insert_field`].
const KERNEL_FIELDS: [&str; 14] = [
    "limits: (capability_slots_max: 0)",
    "limits: (capability_slots_max: 5)",
    "limits: (objects_per_process_max: 0)",
    "limits: (objects_per_process_max: 1)",
    "limits: (region_bytes_max: 16, queue_capacity_max: 2)",
    "limits: (message_bytes_max: 0, message_caps_max: 0)",
    "limits: (message_bytes_max: 4294967295, message_caps_max: 4294967295)",
    "limits: (region_bytes_max: 4294967295, queue_capacity_max: 4294967295)",
    "step_limit: 0",
    "timeslice_cycles: 1",
    "deadlock: Refuse",
    "priority_inheritance: true",
    "seed: 18446744073709551615",
    "monolithic_profile: \"l4\"",
];

/// Fields of `servers: (...)`, put in by [`insert_field`].
const SERVER_FIELDS: [&str; 8] = [
    "timer: Some((period_cycles: 1))",
    "timer: Some((period_cycles: 18446744073709551615, priority: 0))",
    "block: Some((blocks: 8, block_size: 64))",
    "file: Some((cache_blocks: 0))",
    "name: false",
    "console: false",
    "supervisor: Some(())",
    "supervisor: Some((restart: {\"fs\": Always}, backoff_cycles: 0))",
];

/// Steps put at the start of a program by [`insert_field`]; each names only what it creates,
/// so that many of them pass validation and reach the run.
const PROGRAM_STEPS: [&str; 16] = [
    "Yield, ",
    "Sleep(18446744073709551615), ",
    "Compute(18446744073709551615), ",
    "Exit(-2147483648), ",
    "Repeat(times: 4294967295, ops: [Yield]), ",
    "Repeat(times: 3, ops: []), ",
    "CreateEndpoint(\"fz\"), Delete(\"fz\"), ",
    "CreateEndpoint(\"fz\"), Repeat(times: 300, ops: [Copy(cap: \"fz\", rights: \"sg\", as: \"fy\")]), ",
    "CreateRegion(as: \"fr\", size: 4096), RegionWrite(region: \"fr\", offset: 4095, text: \"xy\"), ",
    "CreateRegion(as: \"fr\", size: 4294967295), ",
    "CreateNotification(\"fn\"), ArmTimer(notification: \"fn\", bits: 18446744073709551615, delay: 18446744073709551615, period: 1), ",
    "CreateNotification(\"fn\"), ArmTimer(notification: \"fn\", bits: 1, delay: 0, period: 0), Wait(on: \"fn\"), ",
    "CreateQueue(as: \"fq\", capacity: 2, policy: Block), Repeat(times: 3, ops: [Send(to: \"fq\", bytes: 1024)]), ",
    "CreateEndpoint(\"fz\"), Mint(cap: \"fz\", rights: \"srgRW\", badge: 18446744073709551615, as: \"fm\"), Revoke(cap: \"fz\", expect: 18446744073709551615), ",
    "Fails(error: \"x\", op: Fails(error: \"y\", op: Exit(0))), ",
    "CreateEndpoint(\"fz\"), Delete(\"fz\"), Repeat(times: 3, ops: [Fails(error: \"`fz` is not a capability\", op: Signal(to: \"fz\", bits: 1))]), ",
];

/// A scenario file to mutate.
#[derive(Clone, Debug)]
pub struct Seed {
    /// Its file name (`ping_pong.ron`).
    pub name: String,
    /// Its text.
    pub text: String,
}

/// One input the harness made: its bytes and how they were made.
#[derive(Clone, Debug)]
pub struct Input {
    /// The file's contents (not always UTF-8).
    pub bytes: Vec<u8>,
    /// The scenario it was made from.
    pub base: String,
    /// The mutations, in the order they were applied.
    pub mutations: Vec<String>,
}

/// Makes inputs from the shipped scenarios.
pub struct Mutator {
    seeds: Vec<Seed>,
}

impl Mutator {
    /// A mutator over `seeds`.
    ///
    /// # Panics
    /// When `seeds` is empty.
    pub fn new(seeds: Vec<Seed>) -> Mutator {
        assert!(!seeds.is_empty(), "the fuzz harness needs at least one scenario to mutate");
        Mutator { seeds }
    }

    /// Input number `case` of the run seeded with `seed`: one to four mutations of one scenario
    /// (mostly one, so that many inputs stay valid and reach the runs).
    pub fn input(&self, seed: u64, case: u64) -> Input {
        let mut draws = ChaCha8Rng::seed_from_u64(mksim_kernel::seed::derive(seed, case));
        let base = &self.seeds[below(&mut draws, self.seeds.len())];
        let mut bytes = base.text.clone().into_bytes();
        let mut mutations = Vec::new();
        let count = [1, 1, 1, 1, 1, 1, 2, 2, 3, 4][below(&mut draws, 10)];
        for _ in 0..count {
            mutations.push(self.mutate(&mut draws, &mut bytes));
        }
        Input { bytes, base: base.name.clone(), mutations }
    }

    /// Applies one mutation drawn at random; what it did, in words.
    fn mutate(&self, draws: &mut ChaCha8Rng, bytes: &mut Vec<u8>) -> String {
        match below(draws, 13) {
            0 => flip_byte(draws, bytes),
            1 => truncate(draws, bytes),
            2 => delete_line(draws, bytes),
            3 => duplicate_line(draws, bytes),
            4 => {
                let donor = &self.seeds[below(draws, self.seeds.len())];
                borrow_line(draws, bytes, donor)
            }
            5 | 6 => swap_number(draws, bytes),
            7 => long_string(draws, bytes),
            8 => deep_nesting(draws, bytes),
            9 => placeholder(draws, bytes),
            _ => insert_field(draws, bytes),
        }
    }
}

/// A number in `0..n` (n ≥ 1).
fn below(draws: &mut ChaCha8Rng, n: usize) -> usize {
    (draws.next_u64() % n as u64) as usize
}

/// True once in `n` draws.
fn one_in(draws: &mut ChaCha8Rng, n: u32) -> bool {
    draws.next_u32().is_multiple_of(n)
}

/// A position in `0..=len`.
fn position(draws: &mut ChaCha8Rng, len: usize) -> usize {
    below(draws, len + 1)
}

fn flip_byte(draws: &mut ChaCha8Rng, bytes: &mut [u8]) -> String {
    if bytes.is_empty() {
        return "flip: nothing to flip".into();
    }
    let at = below(draws, bytes.len());
    let before = bytes[at];
    // Half the flips change one bit, the others put any byte at all.
    bytes[at] = if one_in(draws, 2) { before ^ (1 << below(draws, 8)) } else { draws.next_u32() as u8 };
    format!("flip byte {at}: {before:#04x} → {:#04x}", bytes[at])
}

fn truncate(draws: &mut ChaCha8Rng, bytes: &mut Vec<u8>) -> String {
    let at = position(draws, bytes.len());
    bytes.truncate(at);
    format!("truncate at byte {at}")
}

/// The byte ranges of the lines, line breaks included.
fn lines(bytes: &[u8]) -> Vec<std::ops::Range<usize>> {
    let mut ranges = Vec::new();
    let mut start = 0;
    for (at, byte) in bytes.iter().enumerate() {
        if *byte == b'\n' {
            ranges.push(start..at + 1);
            start = at + 1;
        }
    }
    if start < bytes.len() {
        ranges.push(start..bytes.len());
    }
    ranges
}

fn delete_line(draws: &mut ChaCha8Rng, bytes: &mut Vec<u8>) -> String {
    let lines = lines(bytes);
    if lines.is_empty() {
        return "delete line: no line".into();
    }
    let line = below(draws, lines.len());
    bytes.drain(lines[line].clone());
    format!("delete line {}", line + 1)
}

fn duplicate_line(draws: &mut ChaCha8Rng, bytes: &mut Vec<u8>) -> String {
    let lines = lines(bytes);
    if lines.is_empty() {
        return "duplicate line: no line".into();
    }
    let line = below(draws, lines.len());
    let copy = with_line_break(&bytes[lines[line].clone()]);
    // Mostly right below itself (a repeated declaration), sometimes anywhere.
    let (at, to) = if one_in(draws, 2) {
        (lines[line].end, line + 2)
    } else {
        let target = below(draws, lines.len());
        (lines[target].start, target + 1)
    };
    let at = at.min(bytes.len());
    bytes.splice(at..at, copy);
    format!("duplicate line {} as line {to}", line + 1)
}

fn with_line_break(line: &[u8]) -> Vec<u8> {
    let mut line = line.to_vec();
    if line.last() != Some(&b'\n') {
        line.push(b'\n');
    }
    line
}

/// Puts a line of another scenario somewhere in this one.
fn borrow_line(draws: &mut ChaCha8Rng, bytes: &mut Vec<u8>, donor: &Seed) -> String {
    let donor_lines = lines(donor.text.as_bytes());
    let taken = below(draws, donor_lines.len());
    let copy = with_line_break(&donor.text.as_bytes()[donor_lines[taken].clone()]);
    let here = lines(bytes);
    let (at, to) = if here.is_empty() {
        (0, 0)
    } else {
        let target = below(draws, here.len());
        (here[target].start, target)
    };
    bytes.splice(at..at, copy);
    format!("insert line {} of {} as line {}", taken + 1, donor.name, to + 1)
}

/// The byte ranges of the numbers in the text: runs of digits that do not continue a name
/// (`sel4`), with their minus sign.
fn numbers(bytes: &[u8]) -> Vec<std::ops::Range<usize>> {
    let mut ranges = Vec::new();
    let mut at = 0;
    while at < bytes.len() {
        let continues_name = at > 0 && (bytes[at - 1].is_ascii_alphanumeric() || bytes[at - 1] == b'_');
        if bytes[at].is_ascii_digit() && !continues_name {
            let start = if at > 0 && bytes[at - 1] == b'-' { at - 1 } else { at };
            let mut end = at;
            while end < bytes.len() && (bytes[end].is_ascii_digit() || bytes[end] == b'_') {
                end += 1;
            }
            ranges.push(start..end);
            at = end;
        } else {
            at += 1;
        }
    }
    ranges
}

fn swap_number(draws: &mut ChaCha8Rng, bytes: &mut Vec<u8>) -> String {
    let numbers = numbers(bytes);
    if numbers.is_empty() {
        return "swap number: no number".into();
    }
    let range = numbers[below(draws, numbers.len())].clone();
    let value = EDGE_NUMBERS[below(draws, EDGE_NUMBERS.len())];
    let before = String::from_utf8_lossy(&bytes[range.clone()]).into_owned();
    let at = range.start;
    bytes.splice(range, value.bytes());
    format!("number at byte {at}: {before} → {value}")
}

/// The byte ranges of the insides of the string literals (between the quotes), on one line.
fn strings(bytes: &[u8]) -> Vec<std::ops::Range<usize>> {
    let mut ranges = Vec::new();
    for line in lines(bytes) {
        let quotes: Vec<usize> = line.clone().filter(|&at| bytes[at] == b'"').collect();
        ranges.extend(quotes.chunks_exact(2).map(|pair| pair[0] + 1..pair[1]));
    }
    ranges
}

fn long_string(draws: &mut ChaCha8Rng, bytes: &mut Vec<u8>) -> String {
    // Letters, escapes, characters of several bytes, control characters and line breaks.
    let units = ["a", "\\n", "é", "\\u{1b}[2J", "\\\"", "\u{7f}", "\n"];
    let unit = units[below(draws, units.len())];
    let long = unit.repeat(LONG / unit.len());
    let strings = strings(bytes);
    if strings.is_empty() || one_in(draws, 4) {
        // A long bare word (an identifier, or a field name) somewhere.
        let at = position(draws, bytes.len());
        let word = if one_in(draws, 2) { "x" } else { "9" }.repeat(LONG);
        bytes.splice(at..at, word.bytes());
        return format!("insert a word of {LONG} bytes at byte {at}");
    }
    let range = strings[below(draws, strings.len())].clone();
    let at = range.start;
    bytes.splice(range, long.bytes());
    format!("string at byte {at} → {:?} repeated to {LONG} bytes", unit)
}

fn deep_nesting(draws: &mut ChaCha8Rng, bytes: &mut Vec<u8>) -> String {
    let depth = [2, 10, 50, 64, 100, 127, 128, 129, 200, 1_000, 10_000, 100_000][below(draws, 12)];
    let at = position(draws, bytes.len());
    match below(draws, 3) {
        0 => {
            let open = ["[", "(", "{", "Some("][below(draws, 4)];
            let close = match open {
                "[" => "]",
                "{" => "}",
                _ => ")",
            };
            let nested = format!("{}{}", open.repeat(depth), close.repeat(depth));
            bytes.splice(at..at, nested.bytes());
            format!("insert {open}×{depth} at byte {at}")
        }
        1 => {
            bytes.splice(at..at, "[".repeat(depth).bytes());
            format!("insert [×{depth} unclosed at byte {at}")
        }
        _ => nest_program(draws, bytes, depth.min(1_000)),
    }
}

/// Wraps a program's steps in `depth` nested `Repeat`s, which parse as steps of a program.
fn nest_program(draws: &mut ChaCha8Rng, bytes: &mut Vec<u8>, depth: usize) -> String {
    let text = String::from_utf8_lossy(bytes).into_owned();
    let programs: Vec<usize> = text.match_indices("program: [").map(|(at, _)| at + "program: [".len()).collect();
    if programs.is_empty() || text.len() != bytes.len() {
        return "nest program: no program".into();
    }
    let start = programs[below(draws, programs.len())];
    // The program's list ends at the bracket that closes the one it opened with.
    let mut level = 1usize;
    let mut end = None;
    for (offset, byte) in bytes[start..].iter().enumerate() {
        match byte {
            b'[' => level += 1,
            b']' => {
                level -= 1;
                if level == 0 {
                    end = Some(start + offset);
                    break;
                }
            }
            _ => {}
        }
    }
    let Some(end) = end else { return "nest program: unclosed program".into() };
    let times = ["1", "2", "0", "4294967295"][below(draws, 4)];
    bytes.splice(end..end, "])".repeat(depth).bytes());
    bytes.splice(start..start, format!("Repeat(times: {times}, ops: [").repeat(depth).bytes());
    format!("nest the program at byte {start} in {depth} Repeat(times: {times})")
}

/// Puts a parameter's placeholder (`${size}`), or something like one, anywhere.
fn placeholder(draws: &mut ChaCha8Rng, bytes: &mut Vec<u8>) -> String {
    let placeholder = ["${size}", "${size}${size}", "${nothing}", "${}", "${", "$", "${é}", "\"${size}\""];
    let placeholder = placeholder[below(draws, placeholder.len())];
    let at = position(draws, bytes.len());
    bytes.splice(at..at, placeholder.bytes());
    format!("insert {placeholder} at byte {at}")
}

/// Puts a kernel field, a server field or a program's steps (from [`KERNEL_FIELDS`],
/// [`SERVER_FIELDS`], [`PROGRAM_STEPS`]) where they belong: in the section when the file has
/// one, else as a new section at the top.
fn insert_field(draws: &mut ChaCha8Rng, bytes: &mut Vec<u8>) -> String {
    let (section, field) = match below(draws, 3) {
        0 => ("kernel: (", KERNEL_FIELDS[below(draws, KERNEL_FIELDS.len())]),
        1 => ("servers: (", SERVER_FIELDS[below(draws, SERVER_FIELDS.len())]),
        _ => ("program: [", PROGRAM_STEPS[below(draws, PROGRAM_STEPS.len())]),
    };
    let text = String::from_utf8_lossy(bytes).into_owned();
    let openings: Vec<usize> = text.match_indices(section).map(|(at, _)| at + section.len()).collect();
    if text.len() == bytes.len() && !openings.is_empty() {
        let at = openings[below(draws, openings.len())];
        let field = if section == "program: [" { field.to_owned() } else { format!("{field}, ") };
        bytes.splice(at..at, field.bytes());
        return format!("insert {field:?} at byte {at}");
    }
    if section == "program: [" {
        return "insert steps: no program".into();
    }
    // A new section, on the line after `Scenario(`.
    let at = text.find("Scenario(").and_then(|start| text[start..].find('\n').map(|end| start + end + 1));
    let Some(at) = at.filter(|_| text.len() == bytes.len()) else { return "insert field: no Scenario(".into() };
    let line = format!("    {section}{field}),\n");
    bytes.splice(at..at, line.bytes());
    format!("insert {line:?} at byte {at}")
}

/// What went wrong with one input.
#[derive(Clone, PartialEq, Eq, Debug)]
pub enum Failure {
    /// Something panicked: where and with what message.
    Panic {
        /// What the harness was doing (`parse`, `run microkernel`).
        stage: String,
        /// The panic's message and location.
        message: String,
    },
    /// The file was refused without a line and column.
    NoPosition(String),
    /// The file was refused with a line and column outside it.
    OutsideTheFile(String),
    /// A run went over a bound.
    OverBound {
        /// The mode.
        mode: &'static str,
        /// Which bound, and by how much.
        what: String,
    },
    /// A built-in program (the script interpreter, a server) faulted in a way only a bug can
    /// explain.
    ProgramBug {
        /// The mode.
        mode: &'static str,
        /// The process and its fault.
        what: String,
    },
}

impl Failure {
    /// What makes two failures the same bug: the kind and, for a panic, its message and location
    /// without the numbers that vary from input to input.
    pub fn signature(&self) -> String {
        let digits_out = |text: &str| -> String {
            let first_line = text.lines().next().unwrap_or_default();
            first_line.chars().map(|c| if c.is_ascii_digit() { '#' } else { c }).collect()
        };
        match self {
            Failure::Panic { stage, message } => {
                let stage = stage.split(' ').next().unwrap_or_default();
                format!("panic in {stage}: {}", digits_out(message))
            }
            Failure::NoPosition(message) => format!("no position: {}", digits_out(message)),
            Failure::OutsideTheFile(message) => format!("outside the file: {}", digits_out(message)),
            Failure::OverBound { what, .. } => format!("over bound: {}", digits_out(what)),
            Failure::ProgramBug { what, .. } => format!("program bug: {}", digits_out(what)),
        }
    }
}

impl fmt::Display for Failure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Failure::Panic { stage, message } => write!(f, "panic in {stage}: {message}"),
            Failure::NoPosition(error) => write!(f, "an error without a line and column: {error}"),
            Failure::OutsideTheFile(error) => write!(f, "an error at a place outside the file ({error})"),
            Failure::OverBound { mode, what } => write!(f, "over a bound in {mode} mode: {what}"),
            Failure::ProgramBug { mode, what } => write!(f, "a built-in program's bug in {mode} mode: {what}"),
        }
    }
}

/// How an input fared when nothing went wrong.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Verdict {
    /// Refused with an error at a line and column.
    Refused,
    /// Accepted, and run in both modes within its bounds.
    Ran {
        /// Steps taken in both modes together.
        steps: u64,
    },
}

thread_local! {
    /// The panics on this thread while it checks an input; `None` when it is not checking one.
    static PANICS: RefCell<Option<Vec<String>>> = const { RefCell::new(None) };
}

/// Installs, once, a panic hook that records the panics of a thread checking an input (and
/// leaves every other panic to the hook that was there).
fn install_panic_hook() {
    static INSTALLED: Once = Once::new();
    INSTALLED.call_once(|| {
        let previous = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            let recorded = PANICS.with(|panics| {
                let mut panics = panics.borrow_mut();
                let Some(panics) = panics.as_mut() else { return false };
                let message = info
                    .payload()
                    .downcast_ref::<&str>()
                    .map(|text| (*text).to_owned())
                    .or_else(|| info.payload().downcast_ref::<String>().cloned())
                    .unwrap_or_else(|| "(a panic without a message)".into());
                let location = info.location().map(|at| format!(" at {}:{}", at.file(), at.line())).unwrap_or_default();
                panics.push(format!("{message}{location}"));
                true
            });
            if !recorded {
                previous(info);
            }
        }));
    });
}

/// Runs `work`, recording its panics, even those caught inside it (the kernel catches a
/// program's panic and faults the program); the first panic, if any.
fn without_panics<T>(stage: &str, work: impl FnOnce() -> T) -> Result<T, Failure> {
    install_panic_hook();
    PANICS.with(|panics| *panics.borrow_mut() = Some(Vec::new()));
    let result = catch_unwind(AssertUnwindSafe(work));
    let panics = PANICS.with(|panics| panics.borrow_mut().take()).unwrap_or_default();
    match (result, panics.into_iter().next()) {
        (Ok(value), None) => Ok(value),
        (_, Some(message)) => Err(Failure::Panic { stage: stage.to_owned(), message }),
        (Err(_), None) => Err(Failure::Panic { stage: stage.to_owned(), message: "(unrecorded panic)".into() }),
    }
}

/// Checks one input, written at `path`: read, parse and validate it as the binary does, and
/// when it is valid run it in both modes under [`STEP_LIMIT`].
///
/// # Errors
/// The first [`Failure`].
pub fn check(path: &Path) -> Result<Verdict, Failure> {
    let name = path.to_str().expect("the harness writes its inputs at UTF-8 paths");
    let scenario = match without_panics("parse", || Scenario::load(name))? {
        Ok(scenario) => scenario,
        Err(error) => {
            let bytes = std::fs::read(path).unwrap_or_else(|failure| panic!("{name}: {failure}"));
            return refused(&error, &bytes);
        }
    };
    let mut scenario = scenario;
    scenario.kernel.step_limit = scenario.kernel.step_limit.min(STEP_LIMIT);
    let mut reports = Vec::new();
    for mode in [Mode::Microkernel, Mode::Monolithic] {
        let stage = format!("run {}", mode.name());
        let report = without_panics(&stage, || run(&scenario, mode, &RunOptions::default()))?;
        within_bounds(&report, scenario.kernel.step_limit)?;
        reports.push(report);
    }
    let [micro, mono] = &reports[..] else { unreachable!("one report per mode") };
    without_panics("report", || {
        // What `mksim run`, `compare` and `check` print of the runs.
        for report in [micro, mono] {
            let _ = (report::message_trace(&report.log), report::summary(report));
            let _ = (report::run_json(report, &scenario.name), check::unexpected_ends(&scenario, report));
        }
        let _ = (report::comparison(micro, mono), report::comparison_json(micro, mono, &scenario.name));
    })?;
    Ok(Verdict::Ran { steps: micro.steps + mono.steps })
}

/// An error for an invalid file must say where: a line and a column (1-based) inside the file,
/// the end of a line included.
fn refused(error: &ScenarioError, bytes: &[u8]) -> Result<Verdict, Failure> {
    if error.line == 0 || error.column == 0 || error.message.is_empty() {
        return Err(Failure::NoPosition(error.to_string()));
    }
    let text = String::from_utf8_lossy(bytes);
    let line = text.split('\n').nth(error.line - 1);
    if line.is_none_or(|line| error.column > line.chars().count() + 1) {
        let lines = text.split('\n').count();
        let what = line.map_or(format!("the file has {lines} lines"), |line| {
            format!("line {} has {} characters", error.line, line.chars().count())
        });
        return Err(Failure::OutsideTheFile(format!("{what}: {error}")));
    }
    Ok(Verdict::Refused)
}

fn within_bounds(report: &RunReport, step_limit: u64) -> Result<(), Failure> {
    let mode = report.mode.name();
    if report.steps > step_limit {
        return Err(Failure::OverBound {
            mode,
            what: format!("{} steps, over the limit of {step_limit}", report.steps),
        });
    }
    let log_bytes = report.log.memory_bytes() + report.log.payload_bytes();
    if log_bytes > LOG_BYTES_MAX {
        let what = format!("an event log of {log_bytes} bytes after {} steps", report.steps);
        return Err(Failure::OverBound { mode, what });
    }
    for process in &report.processes {
        let Some(fault) = &process.fault else { continue };
        if fault.starts_with("awaited something that is not a syscall") {
            return Err(Failure::ProgramBug { mode, what: format!("process \"{}\": {fault}", process.name) });
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn mutator() -> Mutator {
        let seed = |name: &str, text: &str| Seed { name: name.into(), text: text.into() };
        Mutator::new(vec![
            seed(
                "a.ron",
                "Scenario(\n    name: \"a\",\n    processes: [(name: \"p\", priority: 5, program: [Sleep(10)])],\n)\n",
            ),
            seed("b.ron", "Scenario(\n    kernel: (seed: 7),\n    name: \"b\",\n    processes: [],\n)\n"),
        ])
    }

    #[test]
    fn an_input_is_made_again_from_its_seed_and_case() {
        let mutator = mutator();
        for case in 0..200 {
            let (first, again) = (mutator.input(3, case), mutator.input(3, case));
            assert_eq!((&first.bytes, &first.mutations), (&again.bytes, &again.mutations), "case {case}");
        }
        let distinct: std::collections::BTreeSet<Vec<u8>> = (0..200).map(|case| mutator.input(3, case).bytes).collect();
        assert!(distinct.len() > 150, "only {} distinct inputs in 200", distinct.len());
        assert_ne!(mutator.input(3, 1).bytes, mutator.input(4, 1).bytes, "another seed, other inputs");
    }

    #[test]
    fn numbers_are_found_but_not_inside_names() {
        let text = b"profile: \"sel4\", seed: 12, bits: -1, ping2: 3_000";
        let found: Vec<&[u8]> = numbers(text).into_iter().map(|range| &text[range]).collect();
        assert_eq!(found, [&b"12"[..], b"-1", b"3_000"]);
    }

    #[test]
    fn a_panic_caught_inside_the_work_is_still_a_failure() {
        // The kernel catches a program's panic and faults the program; the harness must see it.
        let caught = without_panics("run test", || std::panic::catch_unwind(|| panic!("inner bug")).is_err());
        match caught {
            Err(Failure::Panic { stage, message }) => {
                assert_eq!(stage, "run test");
                assert!(message.starts_with("inner bug at "), "{message}");
            }
            other => panic!("the caught panic went unseen: {other:?}"),
        }
        assert_eq!(without_panics("parse", || 5), Ok(5));
    }

    #[test]
    fn an_error_must_point_inside_the_file() {
        let error = |line, column| ScenarioError {
            file: "f.ron".into(),
            line,
            column,
            item: "syntax".into(),
            message: "wrong".into(),
        };
        let text = b"ab\ncd";
        assert_eq!(refused(&error(2, 3), text), Ok(Verdict::Refused), "the end of a line is in the file");
        assert!(matches!(refused(&error(0, 0), text), Err(Failure::NoPosition(_))));
        assert!(matches!(refused(&error(2, 4), text), Err(Failure::OutsideTheFile(_))));
        assert!(matches!(refused(&error(3, 1), text), Err(Failure::OutsideTheFile(_))));
    }
}
