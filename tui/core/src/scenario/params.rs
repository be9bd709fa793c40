//! Scenario parameters: `params: {"size": 8}` declares them, `${size}` uses them anywhere in
//! the scenario's text, and a caller may give them other values before the text is parsed.
//!
//! Substitution works on the text, before RON parsing, so a parameter can stand for a number,
//! a part of a string or an enum variant alike. That is also why the `params` block is found by
//! a scan rather than by parsing: until its placeholders are replaced the text is not RON
//! (`bytes: ${size}` does not parse), and a lenient parse would have to guess what each
//! placeholder stands for. The scan knows RON's strings and comments, which is all it takes to
//! find the top-level `params` key, its map and every placeholder, each at its exact offset;
//! the map alone is then parsed as RON. Placeholders in comments are left alone: a comment may
//! well explain what `${size}` does.
//!
//! A substituted value holds no newline, so every line keeps its number; errors found after
//! substitution are mapped back to the columns of the original text.

use super::syntax::{Lines, char_end, comment_end, raw_string_hashes, skip_blank};
use super::{ScenarioError, position};
use serde::Deserialize;
use std::borrow::Cow;
use std::collections::BTreeMap;
use std::ops::Range;

/// A parameter's declared value, as RON reads it.
#[derive(Deserialize)]
#[serde(untagged)]
pub enum RawParam {
    /// A whole number that fits an `i64`.
    Integer(i64),
    /// A whole number past `i64::MAX`.
    Unsigned(u64),
    /// A number with a fraction.
    Float(f64),
    /// A string.
    Text(String),
}

/// A declared parameter: its value as text, and whether it must stay a number.
struct Declared {
    text: String,
    number: bool,
}

/// A `${name}` in the text.
struct Placeholder {
    /// From the `$` to the `}` included.
    range: Range<usize>,
    name: String,
    /// Inside a quoted (not raw) string, where the value's quotes and backslashes are escaped.
    in_string: bool,
}

/// What the scan found.
#[derive(Default)]
struct Scan {
    /// The `{...}` of the top-level `params` field.
    params: Option<Range<usize>>,
    placeholders: Vec<Placeholder>,
}

/// A placeholder replaced on a line: where it was and where its value is, in 1-based characters.
struct Shift {
    line: usize,
    old_column: usize,
    old_chars: usize,
    new_column: usize,
    new_chars: usize,
}

/// The text with every placeholder replaced, and what it takes to map positions back.
pub(super) struct Substituted<'a> {
    /// The text to parse.
    pub text: Cow<'a, str>,
    /// The value of every declared parameter, overrides applied.
    pub values: BTreeMap<String, String>,
    shifts: Vec<Shift>,
}

impl Substituted<'_> {
    /// The column in the original text of a column on `line` of the substituted text. A column
    /// inside a substituted value maps to the start of its placeholder.
    pub fn original_column(&self, line: usize, column: usize) -> usize {
        let mut shift_before: isize = 0;
        for shift in self.shifts.iter().filter(|shift| shift.line == line) {
            if column < shift.new_column {
                break;
            }
            if column < shift.new_column + shift.new_chars {
                return shift.old_column;
            }
            shift_before =
                (shift.new_column + shift.new_chars) as isize - (shift.old_column + shift.old_chars) as isize;
        }
        column.saturating_add_signed(-shift_before).max(1)
    }
}

/// Replaces every `${name}` in `text` with the value of the declared parameter `name`, or of
/// its override.
///
/// # Errors
/// A placeholder that names no declared parameter, is not closed or is inside the `params`
/// block; a `params` block that is not a map of names to numbers or strings; a value with a
/// newline; an override of a parameter the scenario does not declare, or a number's override
/// that is not a number.
pub(super) fn substitute<'a>(
    text: &'a str,
    file: &str,
    overrides: &BTreeMap<String, String>,
) -> Result<Substituted<'a>, ScenarioError> {
    let lines = Lines::new(text);
    let error_at = |offset: usize, item: String, message: String| {
        let (line, column) = lines.position(offset);
        ScenarioError { file: file.to_owned(), line, column, item, message }
    };
    let scan = scan(text).map_err(|(offset, item, message)| error_at(offset, item, message))?;
    let mut declared = match &scan.params {
        Some(range) => declarations(text, file, range.clone())?,
        None => BTreeMap::new(),
    };
    for (name, value) in overrides {
        let Some(parameter) = declared.get_mut(name) else {
            let message = format!("the scenario declares no parameter `{name}` ({})", listing(&declared));
            return Err(ScenarioError { file: file.to_owned(), line: 0, column: 0, item: "params".into(), message });
        };
        check_override(name, value, parameter.number).map_err(|message| ScenarioError {
            file: file.to_owned(),
            line: 0,
            column: 0,
            item: "params".into(),
            message,
        })?;
        parameter.text = value.clone();
    }
    let values: BTreeMap<String, String> =
        declared.iter().map(|(name, parameter)| (name.clone(), parameter.text.clone())).collect();
    if scan.placeholders.is_empty() {
        return Ok(Substituted { text: Cow::Borrowed(text), values, shifts: Vec::new() });
    }
    let mut result = String::with_capacity(text.len());
    let mut shifts = Vec::new();
    let mut copied = 0;
    let (mut shift_line, mut shift_chars) = (0, 0isize);
    for placeholder in &scan.placeholders {
        let item = format!("placeholder ${{{}}}", placeholder.name);
        if scan.params.as_ref().is_some_and(|params| params.contains(&placeholder.range.start)) {
            let message = "a parameter's value cannot use another parameter".to_owned();
            return Err(error_at(placeholder.range.start, item, message));
        }
        let Some(value) = values.get(&placeholder.name) else {
            let message = format!("no parameter `{}` is declared ({})", placeholder.name, listing(&declared));
            return Err(error_at(placeholder.range.start, item, message));
        };
        let value = if placeholder.in_string { escaped(value) } else { Cow::Borrowed(value.as_str()) };
        let (line, old_column) = lines.position(placeholder.range.start);
        if line != shift_line {
            (shift_line, shift_chars) = (line, 0);
        }
        let old_chars = text[placeholder.range.clone()].chars().count();
        let new_chars = value.chars().count();
        let new_column = old_column.saturating_add_signed(shift_chars);
        shifts.push(Shift { line, old_column, old_chars, new_column, new_chars });
        shift_chars += new_chars as isize - old_chars as isize;
        result.push_str(&text[copied..placeholder.range.start]);
        result.push_str(&value);
        copied = placeholder.range.end;
    }
    result.push_str(&text[copied..]);
    Ok(Substituted { text: Cow::Owned(result), values, shifts })
}

/// The declared names, for an error message.
fn listing(declared: &BTreeMap<String, Declared>) -> String {
    if declared.is_empty() {
        return "it declares none".into();
    }
    let names: Vec<&str> = declared.keys().map(String::as_str).collect();
    format!("declared: {}", names.join(", "))
}

fn check_override(name: &str, value: &str, number: bool) -> Result<(), String> {
    if value.contains(['\n', '\r']) {
        return Err(format!("the value of parameter `{name}` holds a line break"));
    }
    let looks_numeric = !value.is_empty() && value.chars().all(|c| c.is_ascii_digit() || "+-._eE".contains(c));
    let is_number = looks_numeric && value.replace('_', "").parse::<f64>().is_ok_and(f64::is_finite);
    if number && !is_number {
        return Err(format!("parameter `{name}` is a number, and `{value}` is not"));
    }
    Ok(())
}

/// A value put inside a quoted string: its quotes and backslashes escaped.
fn escaped(value: &str) -> Cow<'_, str> {
    if value.contains(['"', '\\']) {
        Cow::Owned(value.replace('\\', "\\\\").replace('"', "\\\""))
    } else {
        Cow::Borrowed(value)
    }
}

/// Reads the `params` map at `range`.
fn declarations(text: &str, file: &str, range: Range<usize>) -> Result<BTreeMap<String, Declared>, ScenarioError> {
    let (block_line, block_column) = position(text, range.start);
    let block: BTreeMap<String, RawParam> =
        ron::Options::default().from_str(&text[range.clone()]).map_err(|error| {
            // The error's position is within the block: move it to the whole text.
            let (line, column) = (error.span.start.line, error.span.start.col);
            let (line, column) = if line <= 1 {
                (block_line, block_column + column.saturating_sub(1))
            } else {
                (block_line + line - 1, column)
            };
            let message = format!("params is a map of names to numbers or strings: {}", error.code);
            ScenarioError { file: file.to_owned(), line, column, item: "params".into(), message }
        })?;
    let mut declared = BTreeMap::new();
    for (name, value) in block {
        let error = |message: String| {
            let at = text[range.clone()].find(&format!("\"{name}\"")).map_or(range.start, |found| range.start + found);
            let (line, column) = position(text, at);
            ScenarioError { file: file.to_owned(), line, column, item: format!("parameter \"{name}\""), message }
        };
        if name.is_empty() || !name.chars().all(|c| c.is_alphanumeric() || c == '_') {
            return Err(error("a parameter's name is letters, digits and `_`".into()));
        }
        let (text, number) = match value {
            RawParam::Integer(value) => (value.to_string(), true),
            RawParam::Unsigned(value) => (value.to_string(), true),
            RawParam::Float(value) => (format!("{value:?}"), true),
            RawParam::Text(value) => (value, false),
        };
        if text.contains(['\n', '\r']) {
            return Err(error("a parameter's value cannot hold a line break".into()));
        }
        declared.insert(name, Declared { text, number });
    }
    Ok(declared)
}

/// What a scan finds, or where it stopped: the offset, the item at fault and what is wrong.
type ScanResult<T> = Result<T, (usize, String, String)>;

fn is_identifier_byte(byte: u8) -> bool {
    byte.is_ascii_alphanumeric() || byte == b'_'
}

/// Finds the top-level `params` map and every placeholder outside comments.
///
/// Only ASCII bytes matter to RON's structure, and no byte of a multi-byte UTF-8 character is
/// ASCII, so the scan walks bytes.
///
/// # Errors
/// Where and what: a placeholder left open or badly named, or a `params` that is not a map.
fn scan(text: &str) -> ScanResult<Scan> {
    let bytes = text.as_bytes();
    let mut scan = Scan::default();
    let mut depth = 0usize;
    // The depth at which the `params` map opened, while the scan is inside it.
    let mut params_depth = None;
    let mut at = 0;
    while at < bytes.len() {
        let byte = bytes[at];
        let after_identifier = at > 0 && is_identifier_byte(bytes[at - 1]);
        match byte {
            b'/' if matches!(bytes.get(at + 1), Some(b'/' | b'*')) => at = comment_end(bytes, at),
            b'"' | b'r' if is_script_source(bytes, at) => {
                // An inline script's text is the script's: its `${...}` are its own.
                let hashes = if byte == b'r' { raw_string_hashes(bytes, at) } else { None };
                let start = at + hashes.map_or(1, |hashes| 2 + hashes);
                at = string_end(text, start, hashes, None)?;
            }
            b'"' => at = string_end(text, at + 1, None, Some(&mut scan.placeholders))?,
            b'r' if !after_identifier && raw_string_hashes(bytes, at).is_some() => {
                let hashes = raw_string_hashes(bytes, at).unwrap_or_default();
                at = string_end(text, at + 2 + hashes, Some(hashes), Some(&mut scan.placeholders))?;
            }
            b'\'' => at = char_end(bytes, at),
            b'$' if bytes.get(at + 1) == Some(&b'{') => {
                let placeholder = placeholder(text, at, false)?;
                at = placeholder.range.end;
                scan.placeholders.push(placeholder);
            }
            b'(' | b'[' | b'{' => {
                depth += 1;
                at += 1;
            }
            b')' | b']' | b'}' => {
                depth = depth.saturating_sub(1);
                if params_depth == Some(depth) {
                    let range = scan.params.as_mut().expect("the map opened");
                    range.end = at + 1;
                    params_depth = None;
                }
                at += 1;
            }
            b'p' if depth == 1 && !after_identifier && is_key(bytes, at, b"params") => {
                if scan.params.is_some() {
                    return Err((at, "params".into(), "declared twice".into()));
                }
                let colon = skip_blank(bytes, at + "params".len());
                let open = skip_blank(bytes, colon + 1);
                if bytes.get(open) != Some(&b'{') {
                    return Err((open, "params".into(), "is a map: params: {\"name\": value, ...}".into()));
                }
                scan.params = Some(open..bytes.len());
                params_depth = Some(depth);
                depth += 1;
                at = open + 1;
            }
            _ => at += 1,
        }
    }
    Ok(scan)
}

/// True when a string starting at `at` is the value of a `source:` field: an inline script.
fn is_script_source(bytes: &[u8], at: usize) -> bool {
    let is_string = bytes[at] == b'"'
        || (raw_string_hashes(bytes, at).is_some() && (at == 0 || !is_identifier_byte(bytes[at - 1])));
    if !is_string {
        return false;
    }
    let before = bytes[..at].trim_ascii_end();
    let Some(before) = before.strip_suffix(b":") else { return false };
    let before = before.trim_ascii_end();
    before.ends_with(b"source")
        && !before[..before.len() - "source".len()].last().copied().is_some_and(is_identifier_byte)
}

/// True when the identifier `key` starts at `at` and a `:` follows it: a field name.
fn is_key(bytes: &[u8], at: usize, key: &[u8]) -> bool {
    let end = at + key.len();
    bytes.get(at..end) == Some(key)
        && !bytes.get(end).copied().is_some_and(is_identifier_byte)
        && bytes.get(skip_blank(bytes, end)) == Some(&b':')
}

/// The end of a string whose contents start at `at` (after its opening quote), noting its
/// placeholders. A raw string (`raw` holds how many `#` it has) has no escapes.
/// The end of the string whose text starts at `at` (after its opening quote), collecting its
/// placeholders into `placeholders`, or leaving them alone when there is nowhere to put them.
fn string_end(
    text: &str,
    mut at: usize,
    raw: Option<usize>,
    mut placeholders: Option<&mut Vec<Placeholder>>,
) -> ScanResult<usize> {
    let bytes = text.as_bytes();
    let hashes = raw.unwrap_or(0);
    while at < bytes.len() {
        match bytes[at] {
            b'\\' if raw.is_none() => at += 2,
            b'"' if bytes[at + 1..].iter().take(hashes).filter(|&&byte| byte == b'#').count() == hashes => {
                return Ok(at + 1 + hashes);
            }
            b'$' if bytes.get(at + 1) == Some(&b'{') && placeholders.is_some() => {
                let placeholder = placeholder(text, at, raw.is_none())?;
                at = placeholder.range.end;
                placeholders.as_mut().expect("checked").push(placeholder);
            }
            _ => at += 1,
        }
    }
    Ok(bytes.len())
}

/// The placeholder `${name}` that starts at `at`.
fn placeholder(text: &str, at: usize, in_string: bool) -> ScanResult<Placeholder> {
    let rest = &text[at + 2..];
    let close = rest.find(['}', '\n']).filter(|&close| rest.as_bytes()[close] == b'}');
    let Some(close) = close else {
        let message = "`${` opens a placeholder that is not closed by `}` on its line".into();
        return Err((at, "placeholder".into(), message));
    };
    let name = &rest[..close];
    if name.is_empty() || !name.chars().all(|c| c.is_alphanumeric() || c == '_') {
        let message = "a parameter's name is letters, digits and `_`".into();
        return Err((at, format!("placeholder ${{{name}}}"), message));
    }
    Ok(Placeholder { range: at..at + 2 + close + 1, name: name.to_owned(), in_string })
}
