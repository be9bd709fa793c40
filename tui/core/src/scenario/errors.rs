//! Where a validation error points: [`Validator`] holds the scenario's text (none for a
//! scenario built in code) and turns a path into the scenario (see `syntax.rs`) into a
//! [`ScenarioError`] with its line, column and item, down to one field of one operation.
//!
//! It knows no rule: what is wrong is for `validate.rs` (and `faults.rs`, `limits.rs`) to say.

use super::RawProcess;
use super::ScenarioError;
use super::syntax::{self, Lines, Step};
use super::wording::{quoted, shown};
use mksim_userland::script::Op;

/// Line and column (1-based, in characters) of a byte offset.
pub(super) fn position(text: &str, offset: usize) -> (usize, usize) {
    Lines::new(text).position(offset)
}

/// `process "NAME"`.
pub(super) fn process_item(name: &str) -> String {
    format!("process {}", quoted(name))
}

/// The path to the process at `index`.
fn process_path(index: usize) -> [Step<'static>; 2] {
    [Step::Field("processes"), Step::Index(index)]
}

/// Checks a raw scenario into a [`Scenario`]; its errors point into `text`, the scenario's text,
/// when there is one.
pub(super) struct Validator<'a> {
    /// `None` for a scenario built in code: its errors have no line and column.
    pub(super) text: Option<&'a str>,
    pub(super) file: &'a str,
}

impl Validator<'_> {
    /// An error at the offset `find` gives in the text, or at no place without a text.
    fn error_at(&self, find: impl FnOnce(&str) -> usize, item: String, message: String) -> ScenarioError {
        let (line, column) = self.text.map_or((0, 0), |text| position(text, find(text)));
        ScenarioError { file: self.file.to_owned(), line, column, item, message }
    }

    /// An error at the value at `path` (or the deepest value on the way that is written).
    pub(super) fn fail(&self, path: &[Step<'_>], item: String, message: String) -> ScenarioError {
        self.error_at(|text| syntax::locate(text, path), item, message)
    }

    /// An error at the key of the map entry or field at `path`.
    pub(super) fn fail_key(&self, path: &[Step<'_>], item: String, message: String) -> ScenarioError {
        self.error_at(|text| syntax::locate_key(text, path), item, message)
    }

    /// An error in the operation of process `index` at `op` (indices into the program, then into
    /// each `Repeat`'s ops; 0 into a `Fails`), at its field `field` (its only value for `None`),
    /// or at the operation itself when `whole`.
    pub(super) fn op_error(
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
        let mut ops = raw.program.ops();
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
pub(super) enum OpPart<'a> {
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
