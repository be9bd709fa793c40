//! A process's script: read (a file relative to the scenario's folder, bounded like every file
//! mksim reads) and checked to parse, its syntax errors pointing at the script's own file, line
//! and column (for an inline script, at the scenario's line and column).

use super::errors::{Validator, position, process_item};
use super::files::read_bounded;
use super::syntax::{self, Step};
use super::{ScenarioError, ScriptSource};
use mksim_userland::lang::{Limits, ScriptProgram};
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
                let path = script_path(self.file, named);
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
                ScriptProgram::compile(&format!("{} (inline script)", self.file_or_code()), text, limits).map_err(
                    |error| {
                        let (line, column) = self.inline_position(&program_path, error.line, error.column);
                        ScenarioError { file: self.file.to_owned(), line, column, item: item(), message: error.message }
                    },
                )
            }
        }
    }

    fn file_or_code(&self) -> &str {
        if self.file.is_empty() { "scenario" } else { self.file }
    }

    /// The scenario's line and column of `line`:`column` of an inline script written at `path`:
    /// the script's lines follow its opening quote (a raw string's `r#"` counts too).
    fn inline_position(&self, path: &[Step<'_>], line: usize, column: usize) -> (usize, usize) {
        let Some(text) = self.text else { return (line, column) };
        let mut source = path.to_vec();
        source.push(Step::Field("source"));
        let at = syntax::locate(text, &source);
        let quote = text[at..].find('"').map_or(at, |offset| at + offset + 1);
        let (start_line, start_column) = position(text, quote);
        if line <= 1 { (start_line, start_column + column.saturating_sub(1)) } else { (start_line + line - 1, column) }
    }
}
