//! How errors are worded: one wording per kind of mistake, whoever finds it (RON while parsing,
//! or the validator after), with a "did you mean" from the known names, and every string the
//! scenario wrote quoted short and harmless.

use super::syntax::{self, Lines, Open, Place};
use mksim_userland::script::Op;
use ron::error::{Error, SpannedError};

/// At most this many characters of a string the scenario wrote are quoted in an error.
pub(super) const QUOTED_CHARS_MAX: usize = 80;

/// How deep RON values may nest: deeper text is refused before it can exhaust the stack.
pub(super) const NESTING_MAX: usize = 128;

/// A string the scenario wrote, as an error quotes it: control characters escaped, and cut
/// after [`QUOTED_CHARS_MAX`] characters, with an ellipsis and its full length.
pub(super) fn shown(text: &str) -> String {
    let escape = |c: char| -> String { if c.is_control() { c.escape_default().collect() } else { c.to_string() } };
    let length = text.chars().count();
    if length <= QUOTED_CHARS_MAX {
        return text.chars().map(escape).collect();
    }
    let start: String = text.chars().take(QUOTED_CHARS_MAX).map(escape).collect();
    format!("{start}… ({length} characters)")
}

/// `"text"`, shown.
pub(super) fn quoted(text: &str) -> String {
    format!("\"{}\"", shown(text))
}

/// Names longer than this get no "did you mean": nobody misspells one that long, and the edit
/// distance costs the product of the two lengths (two 100 KB names would take minutes).
const SUGGESTED_NAME_BYTES_MAX: usize = 64;

/// The known name that `found` most likely misspells: the same but for case, or a few letters
/// apart (an edit, a swap), or the start of it.
pub(super) fn did_you_mean<'a>(found: &str, known: &[&'a str]) -> Option<&'a str> {
    if found.len() > SUGGESTED_NAME_BYTES_MAX {
        return None;
    }
    let found_lower = found.to_lowercase();
    let allowed = (found.chars().count() / 3).max(1);
    known
        .iter()
        .filter(|name| name.len() <= SUGGESTED_NAME_BYTES_MAX)
        .filter_map(|&name| {
            let lower = name.to_lowercase();
            let distance = strsim::damerau_levenshtein(&found_lower, &lower);
            let score = if distance <= allowed {
                distance
            } else if found.chars().count() >= 3 && lower.starts_with(&found_lower) {
                allowed + 1
            } else {
                return None;
            };
            Some((score, name))
        })
        .min_by_key(|&(score, _)| score)
        .map(|(_, name)| name)
}

/// "unknown KIND `FOUND`", with the name it most likely misspells, or else the known names.
pub(super) fn unknown(kind: &str, found: &str, known: &[&str]) -> String {
    match did_you_mean(found, known) {
        Some(name) => format!("unknown {kind} `{}`; did you mean `{name}`?", shown(found)),
        None if known.is_empty() => format!("unknown {kind} `{}`", shown(found)),
        None => format!("unknown {kind} `{}` (known: {})", shown(found), known.join(", ")),
    }
}

/// "`FIELD` must be a whole number from MIN to MAX": what any number out of its range gets.
pub(super) fn out_of_range(field: &str, min: impl std::fmt::Display, max: impl std::fmt::Display) -> String {
    format!("`{field}` must be a whole number from {min} to {max}")
}

/// What a scenario calls the variants of each of its enums.
fn kind_of_variant(outer: Option<&str>) -> &'static str {
    match outer {
        Some("Op") => "operation",
        Some("ExpectedOutcome") => "outcome",
        Some("ObjectKind") => "object kind",
        Some("Policy") => "policy",
        Some("FaultKind") => "fault kind",
        Some("Trigger") => "trigger",
        Some("DeadlockPolicy") => "deadlock policy",
        _ => "variant",
    }
}

/// The fields of the operation `name`, if it has named fields: serde knows them, and says so
/// when asked for one it does not have.
pub(super) fn op_fields(name: &str) -> Option<&'static [&'static str]> {
    match ron::from_str::<Op>(&format!("{name}(mksim_no_such_field: 0)")) {
        Err(SpannedError { code: Error::NoSuchStructField { expected, .. }, .. }) => Some(expected),
        _ => None,
    }
}

/// The item at fault, from the values open around it and the field it is in: `process "ping",
/// step 3 (Call), field `to``, `object "port", field `kind.capacity``, `kernel.limits.seed`.
pub(super) fn describe(text: &str, open: &[Open], field: Option<&str>) -> String {
    fn key(place: &Option<Place>) -> Option<&str> {
        match place {
            Some(Place::Key(key)) => Some(key.as_str()),
            _ => None,
        }
    }
    fn index(place: &Option<Place>) -> Option<usize> {
        match place {
            Some(Place::Index(index)) => Some(*index),
            _ => None,
        }
    }
    let section = open.first().and_then(|first| key(&first.place));
    let entity = open.get(1).and_then(|second| index(&second.place).map(|at| (second.start, at)));
    let mut fields: Vec<String> = Vec::new();
    let mut item = match (section, entity) {
        (Some("processes"), Some((start, at))) => {
            let mut item = entity_label(text, "process", start, at);
            let rest = &open[2..];
            if let Some(first) = rest.first()
                && key(&first.place) == Some("program")
            {
                item.push_str(&op_label(text, &rest[1..], &mut fields));
            } else if let Some(first) = rest.first()
                && key(&first.place) == Some("caps")
            {
                if let Some(cap) = rest.get(1).and_then(|cap| index(&cap.place).map(|at| (cap.start, at))) {
                    item.push_str(&format!(", {}", entity_label(text, "capability", cap.0, cap.1)));
                    fields.extend(rest[2..].iter().filter_map(|open| key(&open.place)).map(shown));
                } else {
                    fields.push("caps".into());
                }
            } else {
                fields.extend(rest.iter().filter_map(|open| key(&open.place)).map(shown));
            }
            item
        }
        (Some("objects"), Some((start, at))) => {
            fields.extend(open[2..].iter().filter_map(|open| key(&open.place)).map(shown));
            entity_label(text, "object", start, at)
        }
        _ => {
            let mut path = String::new();
            for open in open {
                match &open.place {
                    Some(Place::Key(key)) if is_string_key(key) && !path.is_empty() => {
                        path.push(' ');
                        path.push_str(&shown(key));
                    }
                    Some(Place::Key(key)) => {
                        if !path.is_empty() {
                            path.push('.');
                        }
                        path.push_str(&shown(key));
                    }
                    Some(Place::Index(at)) => path.push_str(&format!("[{at}]")),
                    None => {}
                }
            }
            if let Some(field) = field {
                if is_string_key(field) {
                    path.push(' ');
                } else if !path.is_empty() {
                    path.push('.');
                }
                path.push_str(&shown(field));
            }
            return if path.is_empty() { "scenario".into() } else { path };
        }
    };
    fields.extend(field.map(shown));
    if !fields.is_empty() {
        item.push_str(&format!(", field `{}`", fields.join(".")));
    }
    item
}

/// True for a map's key as written, a string: `"ping"`, `r"ping"`, `r#"ping"#`.
fn is_string_key(key: &str) -> bool {
    key.starts_with('"') || (key.starts_with('r') && key[1..].trim_start_matches('#').starts_with('"'))
}

/// `process "ping"`, or `process #2` for one whose name is not (yet) known.
fn entity_label(text: &str, what: &str, start: usize, index: usize) -> String {
    match syntax::field_string(text, start, "name") {
        Some(name) => format!("{what} {}", quoted(&name)),
        None => format!("{what} #{}", index + 1),
    }
}

/// `, step 3.2 (Signal)` for the operations open in a program (its list left out); the fields
/// open inside the innermost operation go to `fields`.
fn op_label(text: &str, open: &[Open], fields: &mut Vec<String>) -> String {
    let mut numbers: Vec<usize> = Vec::new();
    let mut op_start = None;
    for next in open {
        match &next.place {
            // The first operation, or one in the `ops` of a `Repeat`.
            Some(Place::Index(at)) if numbers.is_empty() || fields.as_slice() == ["ops"] => {
                fields.clear();
                numbers.push(at + 1);
                op_start = Some(next.start);
            }
            // The operation inside a `Fails`: the same step.
            Some(Place::Key(key)) if key == "op" && fields.is_empty() && op_start.is_some() => {
                op_start = Some(next.start);
            }
            Some(Place::Key(key)) => fields.push(shown(key)),
            Some(Place::Index(_)) | None => {}
        }
    }
    if numbers.is_empty() {
        return String::new();
    }
    let shown_numbers: Vec<String> = if numbers.len() > 8 {
        let last = numbers.last().copied().unwrap_or_default();
        numbers[..6].iter().map(usize::to_string).chain(["…".to_owned(), last.to_string()]).collect()
    } else {
        numbers.iter().map(usize::to_string).collect()
    };
    let name = op_start.and_then(|start| syntax::name_at(text, start)).map(shown);
    match name {
        Some(name) => format!(", step {} ({name})", shown_numbers.join(".")),
        None => format!(", step {}", shown_numbers.join(".")),
    }
}

/// The range of whole numbers the parser takes for the number that starts at `at`, found by
/// asking it: the widest of the integer types it accepts there. `parses` says where the
/// parser stops in a text, if it stops.
fn number_range(text: &str, at: usize, parses: &dyn Fn(&str) -> Option<usize>) -> Option<(i128, u128)> {
    let bytes = text.as_bytes();
    // The parser reports a negative number after its sign.
    let at = at - bytes[..at].iter().rev().take_while(|&&byte| byte == b'-' || byte == b'+').count();
    let end = (at..bytes.len())
        .find(|&end| !(bytes[end].is_ascii_alphanumeric() || b"+-_.".contains(&bytes[end])))
        .unwrap_or(bytes.len());
    let accepts = |number: &str| {
        let edited = format!("{}{number}{}", &text[..at], &text[end..]);
        parses(&edited).is_none_or(|stop| stop >= at + number.len())
    };
    if !accepts("0") {
        return None;
    }
    let signed = accepts("-1");
    let widths: [u128; 4] = if signed {
        [i8::MAX as u128, i16::MAX as u128, i32::MAX as u128, i64::MAX as u128]
    } else {
        [u8::MAX.into(), u16::MAX.into(), u32::MAX.into(), u64::MAX.into()]
    };
    let max = widths.into_iter().take_while(|max| accepts(&max.to_string())).last()?;
    let min = if signed { -(max as i128) - 1 } else { 0 };
    Some((min, max))
}

/// An error RON found while parsing, in this program's words: the offset it is at, the item
/// at fault and what is wrong. `parses` parses an edited text the same way and says where it
/// stops, if it does (see `number_range`).
pub(super) fn parse_error(
    text: &str,
    error: &SpannedError,
    parses: &dyn Fn(&str) -> Option<usize>,
) -> (usize, String, String) {
    let lines = Lines::new(text);
    let offset = lines.offset(error.span.start.line, error.span.start.col);
    let around = syntax::open_at(text, offset);
    let mut open = around.open;
    // The element of a list the error is in counts as open, so an unknown operation is named by
    // its step.
    if let Some((index, start)) = around.element {
        open.push(Open { start, place: Some(Place::Index(index)) });
    }
    let field = around.key.as_deref();
    let named = match field {
        Some(key) if is_string_key(key) => format!("the value for {}", shown(key)),
        Some(field) => format!("`{}`", shown(field)),
        None => "this value".to_owned(),
    };
    let innermost_name = open.last().and_then(|last| syntax::name_at(text, last.start));
    let innermost_op = innermost_name.and_then(|name| {
        let fields = op_fields(name)?;
        Some((name, fields))
    });
    match &error.code {
        Error::NoSuchEnumVariant { expected, found, outer } => {
            let message = unknown(kind_of_variant(outer.as_deref()), found, expected);
            (offset, describe(text, &open, field), message)
        }
        Error::NoSuchStructField { expected, found, outer } => {
            let mut message = unknown("field", found, expected);
            if let Some(outer) = outer {
                message =
                    message.replacen(&format!("`{}`", shown(found)), &format!("`{}` in `{outer}`", shown(found)), 1);
            }
            (offset, describe(text, &open, Some(found)), message)
        }
        Error::MissingStructField { field, outer } => {
            let start = open.last().map_or(offset, |last| last.start);
            let message = match outer {
                Some(outer) => format!("`{outer}` needs the field `{field}`"),
                None => format!("the field `{field}` is missing"),
            };
            (start, describe(text, &open, None), message)
        }
        Error::DuplicateStructField { field, .. } => {
            (offset, describe(text, &open, Some(field)), format!("the field `{field}` is given twice"))
        }
        Error::SuggestRawIdentifier(_) | Error::ExpectedIdentifier | Error::ExpectedMapColon
            if innermost_name == Some("Script") =>
        {
            let message = "a script is written with its field named: Script(file: \"name.rhai\") or \
                           Script(source: \"...\")";
            (offset, describe(text, &open, None), message.to_owned())
        }
        Error::SuggestRawIdentifier(_) | Error::ExpectedIdentifier | Error::ExpectedMapColon
            if innermost_op.is_some() =>
        {
            let (name, fields) = innermost_op.expect("checked");
            let example: Vec<String> = fields.iter().map(|field| format!("{field}: ...")).collect();
            let message = format!("`{name}` is written with its fields named: {name}({})", example.join(", "));
            (offset, describe(text, &open, None), message)
        }
        Error::SuggestRawIdentifier(found) => {
            (offset, describe(text, &open, field), format!("expected a field name, found `{}`", shown(found)))
        }
        Error::IntegerOutOfBounds => {
            let message = match number_range(text, offset, parses) {
                Some((min, max)) => out_of_range(field.unwrap_or("this number"), min, max),
                None => format!("{named} is out of range"),
            };
            (offset, describe(text, &open, field), message)
        }
        Error::InvalidValueForType { expected, found } => {
            let message = format!("{named} must be {expected}, not {}", shown(found));
            (offset, describe(text, &open, field), message)
        }
        Error::ExpectedInteger => (offset, describe(text, &open, field), format!("{named} must be a whole number")),
        Error::ExceededRecursionLimit => {
            let message = format!(
                "values nest more than {NESTING_MAX} levels deep here, deeper than mksim reads: nest fewer \
                 `Repeat`s and `Fails` inside each other"
            );
            (offset, describe(text, &open, None), message)
        }
        Error::Eof => {
            let message = "the text ends before the scenario does: a bracket or a string is not closed".to_owned();
            (offset, describe(text, &open, field), message)
        }
        Error::ExpectedComma => {
            (offset, describe(text, &open, field), "expected a comma before this (or a closing bracket)".to_owned())
        }
        Error::TrailingCharacters => (offset, "scenario".to_owned(), "text after the end of the scenario".to_owned()),
        Error::Message(message) => (offset, describe(text, &open, field), shown(message)),
        other => {
            let words = other.to_string();
            let mut chars = words.chars();
            let lowered: String = chars.next().map(|c| c.to_lowercase().chain(chars).collect()).unwrap_or_default();
            (offset, describe(text, &open, field), shown(&lowered))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn long_strings_are_cut_with_their_length_and_control_characters_escaped() {
        assert_eq!(shown("short"), "short");
        assert_eq!(shown("a\u{1b}[2Jb\n"), "a\\u{1b}[2Jb\\n");
        let long = "x".repeat(100_000);
        let cut = shown(&long);
        assert!(cut.starts_with(&"x".repeat(QUOTED_CHARS_MAX)), "{cut}");
        assert!(cut.ends_with("… (100000 characters)"), "{cut}");
        assert!(cut.chars().count() < QUOTED_CHARS_MAX + 30, "{cut}");
    }

    #[test]
    fn a_misspelt_name_finds_the_one_it_means() {
        let ops = ["Print", "Receive", "Reply", "Register", "Send", "Signal", "Wait"];
        assert_eq!(did_you_mean("Recieve", &ops), Some("Receive"));
        assert_eq!(did_you_mean("recieve", &ops), Some("Receive"));
        assert_eq!(did_you_mean("Sgnal", &ops), Some("Signal"));
        assert_eq!(did_you_mean("Spin", &ops), None);
        assert_eq!(did_you_mean("prio", &["name", "priority", "program"]), Some("priority"));
        assert!(unknown("operation", "Spin", &ops).contains("known: Print, Receive"));
        assert!(unknown("operation", "Recieve", &ops).ends_with("did you mean `Receive`?"));
    }

    #[test]
    fn items_are_named_by_their_path() {
        let text = r#"Scenario(
    servers: (supervisor: (restart: { "block": Alway })),
    processes: [(name: "p", priority: 1, program: [Yield, Repeat(times: 2, ops: [Fails(error: "e", op: Wait(on: "n", expect: 3))])])],
    expect: (exit_codes: { "p": "zero" }),
)"#;
        let item = |needle: &str| {
            let around = syntax::open_at(text, text.find(needle).unwrap());
            describe(text, &around.open, around.key.as_deref())
        };
        assert_eq!(item("Alway"), "servers.supervisor.restart \"block\"");
        assert_eq!(item("3))"), "process \"p\", step 2.1 (Wait), field `expect`");
        assert_eq!(item("\"zero\""), "expect.exit_codes \"p\"");
    }

    #[test]
    fn operations_with_named_fields_are_known_by_their_fields() {
        assert_eq!(op_fields("Repeat"), Some(&["times", "ops"][..]));
        assert_eq!(op_fields("Print"), None);
        assert_eq!(op_fields("Spin"), None);
    }
}
