//! Programs put in place of the ones a scenario declares: how an exercise stays locked while a
//! student's program runs in it. The student hands in the program of one process (or several);
//! the scenario, its expectations included, is the lecturer's file as written.
//!
//! The program goes into the scenario's text: the value of the process's `program` field is
//! cut out and the handed-in program put in its place (a `.ron` list of operations as written,
//! a `.rhai` script as `Script(file: "<its absolute path>")`), and the whole is parsed and
//! validated as any scenario is. Each error is then mapped back to where its cause is written:
//! a mistake in a list of operations at that file's line and column, anything else at the
//! scenario's. Cutting text, rather than swapping parsed values, keeps one validator and one
//! wording for every error: `process "server", step 2 (Recieve)` names the step in the
//! student's file just as it would in a scenario.

use super::errors::{position, process_item};
use super::params::{self, Substituted};
use super::syntax::{self, Lines, Step};
use super::wording::{self, did_you_mean, quoted};
use super::{Op, Scenario, ScenarioError, Validator, read_raw};
use std::collections::BTreeMap;
use std::fmt;
use std::ops::Range;
use std::path::{Path, PathBuf};

/// What kind of program a file holds, by the end of its name.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum ProgramKind {
    /// `.rhai`: a script.
    Script,
    /// `.ron`: a list of operations, `[Print("hi"), Exit(0)]`.
    Ops,
}

impl ProgramKind {
    /// The kind of program in the file at `path`; `None` for a name that ends neither in
    /// `.rhai` nor in `.ron`.
    pub fn of(path: &Path) -> Option<ProgramKind> {
        match path.extension()?.to_str()? {
            "rhai" => Some(ProgramKind::Script),
            "ron" => Some(ProgramKind::Ops),
            _ => None,
        }
    }
}

/// Where a program put in place of a process's own comes from.
#[derive(Clone, PartialEq, Eq, Debug)]
pub enum ProgramSource {
    /// A file: a `.rhai` script or a `.ron` list of operations. Its path is the caller's:
    /// relative to the current directory (not to the scenario's folder), or absolute.
    File(PathBuf),
    /// No program at all (`[]`): the process exits at once, with 0.
    Empty,
}

/// A process whose program is replaced, and what replaces it.
#[derive(Clone, PartialEq, Eq, Debug)]
pub struct ProgramOverride {
    /// The process, by name.
    pub process: String,
    /// Its program.
    pub source: ProgramSource,
}

/// Why programs could not be put in a scenario.
#[derive(Clone, PartialEq, Eq, Debug)]
pub enum ProgramError {
    /// The scenario has no process of that name.
    NoSuchProcess {
        /// The name asked for.
        process: String,
        /// The scenario's file.
        file: String,
        /// The scenario's processes.
        known: Vec<String>,
    },
    /// Two programs for one process.
    GivenTwice {
        /// The process.
        process: String,
    },
    /// A file that is neither a `.rhai` script nor a `.ron` list of operations.
    UnknownKind {
        /// The file.
        file: String,
    },
    /// The scenario or a program could not be read, parsed or validated: the error names the
    /// file (the program's, for a mistake in it), line, column and item.
    Invalid(ScenarioError),
}

impl ProgramError {
    /// True when the programs were named wrongly (a process the scenario lacks, a file of
    /// another kind, a process named twice), rather than a file's text being at fault.
    pub fn is_misnamed(&self) -> bool {
        !matches!(self, ProgramError::Invalid(_))
    }
}

impl From<ScenarioError> for ProgramError {
    fn from(error: ScenarioError) -> ProgramError {
        ProgramError::Invalid(error)
    }
}

impl fmt::Display for ProgramError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        use mksim_kernel::escape_controls;
        match self {
            ProgramError::NoSuchProcess { process, file, known } => {
                let file = escape_controls(file);
                write!(f, "{file} has no process {}", quoted(process))?;
                let names: Vec<&str> = known.iter().map(String::as_str).collect();
                match did_you_mean(process, &names) {
                    Some(name) => write!(f, "; did you mean {}?", quoted(name)),
                    None => {
                        let quoted_names: Vec<String> = names.iter().map(|name| quoted(name)).collect();
                        write!(f, " (its processes: {})", quoted_names.join(", "))
                    }
                }
            }
            ProgramError::GivenTwice { process } => write!(f, "two programs for process {}", quoted(process)),
            ProgramError::UnknownKind { file } => {
                write!(f, "{}: a program is a .rhai script or a .ron list of operations", escape_controls(file))
            }
            ProgramError::Invalid(error) => error.fmt(f),
        }
    }
}

impl std::error::Error for ProgramError {}

/// Where the text put in a process's `program` field came from.
enum Origin {
    /// A list of operations from this file, as written.
    Ops { file: String },
    /// `Script(file: ...)` naming this file (as given, and absolute).
    Script { file: String, absolute: String },
    /// `[]`.
    Empty,
}

/// One `program` value cut out of the scenario's text and what is put in its place.
struct Cut {
    /// The value cut out, in the scenario's text (parameters substituted).
    old: Range<usize>,
    /// What takes its place, in the new text.
    new: Range<usize>,
    /// The text put in.
    text: String,
    origin: Origin,
    /// For a list of operations that does not parse on its own: why, at its own place.
    refused: Option<ScenarioError>,
}

impl Scenario {
    /// Reads and validates a scenario file with the programs of some of its processes replaced
    /// (see [`Scenario::parse_with_programs`]).
    ///
    /// # Errors
    /// A [`ProgramError`]: the scenario or a program unreadable or invalid, or programs named wrongly.
    pub fn load_with_programs(path: &str, programs: &[ProgramOverride]) -> Result<Scenario, ProgramError> {
        let text = Scenario::read(path)?;
        Scenario::parse_with_programs(&text, path, programs)
    }

    /// Parses and validates scenario text (its parameters at their declared values) with the
    /// program of each process in `programs` replaced: by a `.rhai` script (read from its
    /// absolute path, as `Script(file: ...)` would), by a `.ron` file's list of operations, or by
    /// no program. The scenario's own program for that process is never read.
    ///
    /// # Errors
    /// [`ProgramError::NoSuchProcess`], [`ProgramError::GivenTwice`] or
    /// [`ProgramError::UnknownKind`] for programs named wrongly; [`ProgramError::Invalid`] for a
    /// file that cannot be read, or any mistake: in a list of operations at that file's line
    /// and column, in a script at the script's, anywhere else at the scenario's.
    pub fn parse_with_programs(text: &str, file: &str, programs: &[ProgramOverride]) -> Result<Scenario, ProgramError> {
        let substituted = params::substitute(text, file, &BTreeMap::new())?;
        let to_original = |mut error: ScenarioError| {
            if error.file == file && error.line > 0 {
                error.column = substituted.original_column(error.line, error.column);
            }
            error
        };
        let raw = read_raw(&substituted.text, file).map_err(to_original)?;
        let names: Vec<String> = raw.processes.iter().map(|process| process.name.clone()).collect();
        let indices = process_indices(file, &names, programs)?;
        let mut cuts = Vec::new();
        for (program, index) in programs.iter().zip(indices) {
            let path = [Step::Field("processes"), Step::Index(index), Step::Field("program")];
            let Some(old) = syntax::value_range(&substituted.text, &path) else {
                // The text parsed with this process and its program: the value is written.
                let message = "its program is not where the scenario's text was read from".to_owned();
                return Err(ScenarioError {
                    file: file.to_owned(),
                    line: 0,
                    column: 0,
                    item: process_item(&program.process),
                    message,
                }
                .into());
            };
            cuts.push(replacement(old, program)?);
        }
        let spliced = Spliced::new(&substituted, cuts);
        let back = |error| spliced.map_back(error, file, &substituted);
        let raw = read_raw(&spliced.text, file);
        if let Some(refused) = spliced.cuts.iter().find_map(|cut| cut.refused.clone()) {
            // A list that does not parse on its own is refused, even if it reads as something
            // else in place; the error of the whole is shown when it points into that list,
            // since it names the step ("process "server", step 2 (Recieve)").
            let whole = raw.err().map(back).filter(|error| error.file == refused.file && error.line > 0);
            return Err(whole.unwrap_or(refused).into());
        }
        let raw = raw.map_err(back)?;
        let mut scenario = Validator { text: Some(&spliced.text), file }.scenario(raw).map_err(back)?;
        scenario.map_inline_origins(|(line, column)| {
            let at = ScenarioError { file: file.to_owned(), line, column, item: String::new(), message: String::new() };
            let back = back(at);
            (back.line, back.column)
        });
        scenario.params = substituted.values;
        Ok(scenario)
    }
}

/// The index of each process `programs` names, checking each is named once, and each file is
/// of a known kind.
fn process_indices(file: &str, names: &[String], programs: &[ProgramOverride]) -> Result<Vec<usize>, ProgramError> {
    let mut indices = Vec::new();
    for (at, program) in programs.iter().enumerate() {
        if programs[..at].iter().any(|earlier| earlier.process == program.process) {
            return Err(ProgramError::GivenTwice { process: program.process.clone() });
        }
        let Some(index) = names.iter().position(|name| *name == program.process) else {
            return Err(ProgramError::NoSuchProcess {
                process: program.process.clone(),
                file: file.to_owned(),
                known: names.to_vec(),
            });
        };
        if let ProgramSource::File(path) = &program.source
            && ProgramKind::of(path).is_none()
        {
            return Err(ProgramError::UnknownKind { file: path.display().to_string() });
        }
        indices.push(index);
    }
    Ok(indices)
}

/// What takes the place of the value at `old`: the program's file read (so an unreadable one
/// is named as such), a list of operations checked to parse on its own.
fn replacement(old: Range<usize>, program: &ProgramOverride) -> Result<Cut, ScenarioError> {
    let cut = |text: String, origin, refused| Cut { old: old.clone(), new: 0..0, text, origin, refused };
    let path = match &program.source {
        ProgramSource::Empty => return Ok(cut("[]".to_owned(), Origin::Empty, None)),
        ProgramSource::File(path) => path,
    };
    let shown = path.display().to_string();
    let unusable =
        |message: String| ScenarioError { file: shown.clone(), line: 0, column: 0, item: "file".into(), message };
    let Some(named) = path.to_str() else {
        return Err(unusable("its name is not UTF-8".into()));
    };
    let text = Scenario::read(named)?;
    match ProgramKind::of(path) {
        Some(ProgramKind::Script) => {
            let absolute =
                std::path::absolute(path).map_err(|error| unusable(format!("cannot find its folder: {error}")))?;
            let absolute = absolute.to_str().ok_or_else(|| unusable("its absolute path is not UTF-8".into()))?;
            let quoted_path = ron::to_string(absolute).map_err(|error| unusable(error.to_string()))?;
            let origin = Origin::Script { file: shown.clone(), absolute: absolute.to_owned() };
            Ok(cut(format!("Script(file: {quoted_path})"), origin, None))
        }
        _ => {
            let refused = parse_ops(&text).err().map(|error| ops_error(&text, &shown, &program.process, &error));
            // The line break ends a line comment that ends the file, before the scenario goes on.
            Ok(cut(format!("{text}\n"), Origin::Ops { file: shown }, refused))
        }
    }
}

fn parse_ops(text: &str) -> Result<Vec<Op>, ron::error::SpannedError> {
    ron::Options::default()
        .with_default_extension(ron::extensions::Extensions::IMPLICIT_SOME)
        .with_recursion_limit(wording::NESTING_MAX)
        .from_str(text)
}

/// A list of operations that does not parse on its own, at its place in its file.
fn ops_error(text: &str, file: &str, process: &str, error: &ron::error::SpannedError) -> ScenarioError {
    let parses = |edited: &str| {
        parse_ops(edited).err().map(|error| Lines::new(edited).offset(error.span.start.line, error.span.start.col))
    };
    let (offset, _, message) = wording::parse_error(text, error, &parses);
    let message = match error.code {
        ron::Error::TrailingCharacters => "text after the end of the list of operations".to_owned(),
        ron::Error::Eof => {
            "the text ends before the list of operations does: a bracket or a string is not closed".to_owned()
        }
        _ => message,
    };
    let (line, column) = position(text, offset);
    ScenarioError { file: file.to_owned(), line, column, item: format!("{}, program", process_item(process)), message }
}

/// The scenario's text with its cuts made, and how to map a place in it back.
struct Spliced {
    text: String,
    /// In the order of the text.
    cuts: Vec<Cut>,
}

impl Spliced {
    fn new(substituted: &Substituted<'_>, mut cuts: Vec<Cut>) -> Spliced {
        cuts.sort_by_key(|cut| cut.old.start);
        let old = &substituted.text;
        let mut text = String::with_capacity(old.len());
        let mut copied = 0;
        for cut in &mut cuts {
            text.push_str(&old[copied..cut.old.start]);
            let start = text.len();
            text.push_str(&cut.text);
            cut.new = start..text.len();
            copied = cut.old.end;
        }
        text.push_str(&old[copied..]);
        Spliced { text, cuts }
    }

    /// `error`, found in the spliced text, at the place its cause is written: in a program put
    /// in, or in the scenario's own text.
    fn map_back(&self, mut error: ScenarioError, file: &str, substituted: &Substituted<'_>) -> ScenarioError {
        if error.file != file {
            // A script's own error: named by the path as the caller gave it.
            for cut in &self.cuts {
                if let Origin::Script { file: shown, absolute } = &cut.origin
                    && error.file == *absolute
                {
                    error.file = shown.clone();
                }
            }
            return error;
        }
        if error.line == 0 {
            return error;
        }
        let offset = Lines::new(&self.text).offset(error.line, error.column);
        let mut shift = 0isize;
        let mut old_offset = None;
        for cut in &self.cuts {
            if offset < cut.new.start {
                break;
            }
            if offset < cut.new.end {
                match &cut.origin {
                    Origin::Ops { file } => {
                        (error.line, error.column) = position(&cut.text, offset - cut.new.start);
                        error.file = file.clone();
                        return error;
                    }
                    Origin::Script { file, .. } => {
                        (error.file, error.line, error.column) = (file.clone(), 0, 0);
                        return error;
                    }
                    Origin::Empty => {
                        old_offset = Some(cut.old.start);
                        break;
                    }
                }
            }
            shift += cut.new.len() as isize - cut.old.len() as isize;
        }
        let old_offset = old_offset.unwrap_or_else(|| offset.saturating_add_signed(-shift));
        let (line, column) = position(&substituted.text, old_offset);
        (error.line, error.column) = (line, substituted.original_column(line, column));
        error
    }
}
