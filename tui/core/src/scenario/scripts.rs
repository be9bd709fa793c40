//! A process's script: read (a file relative to the scenario's folder, bounded like every file
//! mksim reads) and checked to parse, its syntax errors pointing at the script's own file, line
//! and column (for an inline script, at the scenario's line and column).

use super::errors::{Validator, position, process_item};
use super::files::read_bounded;
use super::syntax::{self, Step};
use super::{ScenarioError, ScriptSource};
use mksim_userland::lang::{Limits, ScriptProgram, place};
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
    pub(super) fn script(
        &self,
        index: usize,
        name: &str,
        source: &ScriptSource,
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
                let origin = self.inline_origin(&program_path);
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

    /// Where the text of the inline script at `path` begins in the scenario: just after its
    /// opening quote (a raw string's `r#"` included). (1, 1) with no text to search.
    fn inline_origin(&self, path: &[Step<'_>]) -> (usize, usize) {
        let Some(text) = self.text else { return (1, 1) };
        let mut source = path.to_vec();
        source.push(Step::Field("source"));
        let at = syntax::locate(text, &source);
        let quote = text[at..].find('"').map_or(at, |offset| at + offset + 1);
        position(text, quote)
    }
}
