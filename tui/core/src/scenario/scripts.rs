//! A process's script: read (a file relative to the scenario's folder, bounded like every file
//! mksim reads) and checked to parse, its syntax errors pointing at the script's own file, line
//! and column (for an inline script, at the scenario's line and column).

use super::errors::{Validator, process_item};
use super::files::read_bounded;
use super::syntax::{self, Lines, Step};
use super::wording::{did_you_mean, quoted};
use super::{RawProcess, RawProgram, ScenarioError, ScriptSource};
use mksim_userland::lang::{Limits, ScriptProgram, place};
use std::collections::BTreeSet;
use std::path::Path;

/// Where a script file named in the scenario `scenario_file` is: relative to that file's folder.
pub fn script_path(scenario_file: &str, named: &str) -> String {
    let named_path = Path::new(named);
    if named_path.is_absolute() {
        return named.to_owned();
    }
    match Path::new(scenario_file).parent() {
        Some(folder) if !folder.as_os_str().is_empty() => folder.join(named_path).to_string_lossy().into_owned(),
        _ => named.to_owned(),
    }
}

/// `path` relative to the current folder when it lies below it: an absolute path (a submission
/// handed to `mksim check --program`) reads better in errors and faults as the user would type it.
fn shorter(path: String) -> String {
    let Ok(here) = std::env::current_dir() else { return path };
    match Path::new(&path).strip_prefix(&here) {
        Ok(below) if Path::new(&path).is_absolute() => below.to_string_lossy().into_owned(),
        _ => path,
    }
}

impl Validator<'_> {
    /// The script of process `index`, read and checked.
    ///
    /// `origins` are where each process's inline script begins ([`Validator::inline_origins`]).
    pub(super) fn script(
        &self,
        index: usize,
        name: &str,
        source: &ScriptSource,
        origins: &[(usize, usize)],
    ) -> Result<ScriptProgram, ScenarioError> {
        let program_path = [Step::Field("processes"), Step::Index(index), Step::Field("program")];
        let item = || format!("{}, script", process_item(name));
        let limits = Limits::default();
        match source {
            ScriptSource::File(named) => {
                let path = shorter(script_path(self.file, named));
                let bytes =
                    read_bounded(&path).map_err(|why| self.fail(&program_path, item(), format!("{path}: {why}")))?;
                let text = String::from_utf8(bytes)
                    .map_err(|_| self.fail(&program_path, item(), format!("{path}: is not UTF-8 text")))?;
                ScriptProgram::compile(&path, &text, limits).map_err(|error| ScenarioError {
                    file: path.clone(),
                    line: error.line,
                    column: error.column,
                    item: item(),
                    message: error.message,
                })
            }
            ScriptSource::Inline(text) => {
                // Reported under the scenario's file, at the scenario's lines and columns.
                let name = if self.file.is_empty() {
                    format!("the script of {}", process_item(name))
                } else {
                    self.file.to_owned()
                };
                let origin = origins.get(index).copied().unwrap_or((1, 1));
                match ScriptProgram::compile(&name, text, limits) {
                    Ok(mut program) => {
                        program.origin = origin;
                        Ok(program)
                    }
                    Err(error) => {
                        let (line, column) = place(origin, error.line, error.column);
                        Err(ScenarioError {
                            file: self.file.to_owned(),
                            line,
                            column,
                            item: item(),
                            message: error.message,
                        })
                    }
                }
            }
        }
    }

    /// Every `cap("name")` a script writes with a literal name must name a capability the
    /// process starts with (`known`): a misspelt one is refused with the scenario, at the
    /// script's line and column, rather than found when the script runs.
    pub(super) fn script_caps(
        &self,
        process: &str,
        script: &ScriptProgram,
        known: &BTreeSet<String>,
    ) -> Result<(), ScenarioError> {
        for (offset, name) in literal_caps(&script.source) {
            if known.contains(&name) {
                continue;
            }
            let mut message =
                format!("`cap({})`: {} starts with no capability of that name", quoted(&name), process_item(process));
            let names: Vec<&str> = known.iter().map(String::as_str).collect();
            match did_you_mean(&name, &names) {
                Some(near) => message.push_str(&format!("; did you mean \"{near}\"?")),
                None if names.is_empty() => message.push_str(" (it starts with none)"),
                None => message.push_str(&format!(" (it has {})", names.join(", "))),
            }
            let (line, column) = Lines::new(&script.source).position(offset);
            let (line, column) = script.place(line, column);
            return Err(ScenarioError {
                file: script.name.to_string(),
                line,
                column,
                item: format!("{}, script", process_item(process)),
                message,
            });
        }
        Ok(())
    }

    /// Where the text of each process's inline script begins in the scenario, by process: just
    /// after its opening quote (a raw string's `r#"` included); (1, 1) for a process without one
    /// or a scenario without text. Found in one pass, so a scenario of thousands of scripted
    /// processes is checked in time proportional to its size.
    pub(super) fn inline_origins(&self, processes: &[RawProcess]) -> Vec<(usize, usize)> {
        let Some(text) = self.text else { return Vec::new() };
        if !processes.iter().any(|process| matches!(process.program, RawProgram::Script(ScriptSource::Inline(_)))) {
            return Vec::new();
        }
        let lines = Lines::new(text);
        let sources =
            syntax::locate_in_each(text, &[Step::Field("processes")], &[Step::Field("program"), Step::Field("source")]);
        sources
            .into_iter()
            .map(|at| {
                let quote = text[at..].find('"').map_or(at, |offset| at + offset + 1);
                lines.position(quote)
            })
            .collect()
    }
}

/// The `cap("name")` calls in a script's code with a literal name: the offset of each name's
/// opening quote, and the name. Comments and the text of strings are skipped.
fn literal_caps(source: &str) -> Vec<(usize, String)> {
    let bytes = source.as_bytes();
    let mut found = Vec::new();
    let mut at = 0;
    while at < bytes.len() {
        match bytes[at] {
            b'/' if bytes.get(at + 1) == Some(&b'/') => {
                at = source[at..].find('\n').map_or(bytes.len(), |end| at + end);
            }
            b'/' if bytes.get(at + 1) == Some(&b'*') => {
                at = source[at + 2..].find("*/").map_or(bytes.len(), |end| at + 2 + end + 2);
            }
            quote @ (b'"' | b'`' | b'\'') => at = string_end(bytes, at, quote),
            b'c' if source[at..].starts_with("cap") && (at == 0 || !is_identifier(bytes[at - 1])) => {
                let after = skip_blank(bytes, at + 3);
                if bytes.get(after) == Some(&b'(') {
                    let open = skip_blank(bytes, after + 1);
                    if bytes.get(open) == Some(&b'"') {
                        let close = string_end(bytes, open, b'"');
                        let text = &source[open + 1..close.saturating_sub(1).max(open + 1)];
                        let then = skip_blank(bytes, close);
                        if !text.contains('\\') && bytes.get(then) == Some(&b')') {
                            found.push((open, text.to_owned()));
                        }
                        at = close;
                        continue;
                    }
                }
                at += 3;
            }
            _ => at += 1,
        }
    }
    found
}

fn is_identifier(byte: u8) -> bool {
    byte.is_ascii_alphanumeric() || byte == b'_'
}

fn skip_blank(bytes: &[u8], mut at: usize) -> usize {
    while bytes.get(at).is_some_and(u8::is_ascii_whitespace) {
        at += 1;
    }
    at
}

/// Just past the string that opens with `quote` at `at` (backslash escapes skipped).
fn string_end(bytes: &[u8], at: usize, quote: u8) -> usize {
    let mut end = at + 1;
    while end < bytes.len() {
        match bytes[end] {
            b'\\' => end += 2,
            byte if byte == quote => return end + 1,
            _ => end += 1,
        }
    }
    bytes.len()
}
