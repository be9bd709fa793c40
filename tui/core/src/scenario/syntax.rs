//! Where things are in a scenario's text, for error messages: the value at a path
//! (`processes[2].program[4].to`), and the path of the values open at an offset.
//!
//! RON parses the text into types and forgets where each value was; validation finds out what
//! is wrong, and this module finds out where. It knows RON's tokens (strings, raw strings,
//! characters, comments, brackets) and nothing of its types, and it is lenient: it never fails,
//! so it also serves for text that did not parse. Each lookup walks the text once, from the
//! start, skipping whole values it does not enter, so finding one item costs time linear in
//! the size of the text, and is only done for the error that is reported.
//!
//! Offsets are bytes; positions shown to people are 1-based lines and columns in characters.

use std::ops::Range;

/// A token of RON text: only what its structure needs.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Token {
    /// `(`, `[` or `{`.
    Open,
    /// `)`, `]` or `}`.
    Close,
    Comma,
    Colon,
    /// A string, raw string, byte string or character literal.
    Text,
    /// Anything else that is not blank: an identifier, a number, `#!`.
    Word,
    /// The end of the text.
    End,
}

fn is_delimiter(byte: u8) -> bool {
    byte.is_ascii_whitespace() || b"()[]{},:\"'".contains(&byte)
}

/// The offset of the first byte at or after `at` that is neither white space nor in a comment.
pub(super) fn skip_blank(bytes: &[u8], mut at: usize) -> usize {
    loop {
        match bytes.get(at) {
            Some(byte) if byte.is_ascii_whitespace() => at += 1,
            Some(b'/') if matches!(bytes.get(at + 1), Some(b'/' | b'*')) => at = comment_end(bytes, at),
            _ => return at,
        }
    }
}

/// The end of the comment that starts at `at`: a line comment or a (nested) block comment.
pub(super) fn comment_end(bytes: &[u8], at: usize) -> usize {
    if bytes[at + 1] == b'/' {
        return bytes[at..].iter().position(|&byte| byte == b'\n').map_or(bytes.len(), |newline| at + newline);
    }
    let (mut depth, mut at) = (0usize, at);
    while at < bytes.len() {
        match (bytes[at], bytes.get(at + 1)) {
            (b'/', Some(b'*')) => {
                depth += 1;
                at += 2;
            }
            (b'*', Some(b'/')) => {
                depth -= 1;
                at += 2;
                if depth == 0 {
                    return at;
                }
            }
            _ => at += 1,
        }
    }
    at
}

/// For a raw string `r"` or `r#..#"` at `at`: how many `#` it has.
pub(super) fn raw_string_hashes(bytes: &[u8], at: usize) -> Option<usize> {
    let hashes = bytes.get(at + 1..)?.iter().take_while(|&&byte| byte == b'#').count();
    (bytes.get(at + 1 + hashes) == Some(&b'"')).then_some(hashes)
}

/// The end of a character literal (`'a'`, `'\n'`); a lone `'` is one byte.
pub(super) fn char_end(bytes: &[u8], at: usize) -> usize {
    let mut end = at + 1;
    if bytes.get(end) == Some(&b'\\') {
        end += 1;
    }
    // Past one character, however many bytes it takes.
    end += 1;
    while bytes.get(end).is_some_and(|&byte| byte & 0xC0 == 0x80) {
        end += 1;
    }
    if bytes.get(end) == Some(&b'\'') { end + 1 } else { at + 1 }
}

/// The end of a quoted string whose opening quote is at `at`.
fn quoted_end(bytes: &[u8], mut at: usize) -> usize {
    at += 1;
    while at < bytes.len() {
        match bytes[at] {
            b'\\' => at += 2,
            b'"' => return at + 1,
            _ => at += 1,
        }
    }
    bytes.len()
}

/// The end of a raw string `r##"..."##` that starts at `at` with `hashes` hashes.
fn raw_end(bytes: &[u8], at: usize, hashes: usize) -> usize {
    let mut at = at + 2 + hashes;
    while at < bytes.len() {
        if bytes[at] == b'"' && bytes[at + 1..].iter().take(hashes).filter(|&&byte| byte == b'#').count() == hashes {
            return at + 1 + hashes;
        }
        at += 1;
    }
    bytes.len()
}

/// The token at or after `at` (blanks and comments skipped) and its range.
fn token(bytes: &[u8], at: usize) -> (Token, Range<usize>) {
    let start = skip_blank(bytes, at);
    let Some(&byte) = bytes.get(start) else { return (Token::End, start..start) };
    let single = |kind| (kind, start..start + 1);
    match byte {
        b'(' | b'[' | b'{' => single(Token::Open),
        b')' | b']' | b'}' => single(Token::Close),
        b',' => single(Token::Comma),
        b':' => single(Token::Colon),
        b'"' => (Token::Text, start..quoted_end(bytes, start)),
        b'\'' => (Token::Text, start..char_end(bytes, start)),
        b'r' if raw_string_hashes(bytes, start).is_some() => {
            let hashes = raw_string_hashes(bytes, start).unwrap_or_default();
            (Token::Text, start..raw_end(bytes, start, hashes))
        }
        b'b' if bytes.get(start + 1) == Some(&b'"') => (Token::Text, start..quoted_end(bytes, start + 1)),
        b'b' if bytes.get(start + 1) == Some(&b'r') && raw_string_hashes(bytes, start + 1).is_some() => {
            let hashes = raw_string_hashes(bytes, start + 1).unwrap_or_default();
            (Token::Text, start..raw_end(bytes, start + 1, hashes))
        }
        _ => {
            let mut end = start + 1;
            while let Some(&next) = bytes.get(end) {
                let comment = next == b'/' && matches!(bytes.get(end + 1), Some(b'/' | b'*'));
                if is_delimiter(next) || comment {
                    break;
                }
                end += 1;
            }
            (Token::Word, start..end)
        }
    }
}

/// One value of the text.
#[derive(Clone, Debug)]
struct Value {
    /// From its first byte (its name, for `Name(...)`) to just past its last.
    range: Range<usize>,
    /// The `Name` of `Name(...)`.
    name: Option<Range<usize>>,
    /// The offset of its `(`, `[` or `{`, if it is a container.
    open: Option<usize>,
}

/// The end of the container whose opening bracket is at `open`: just past its closing one, or
/// the end of the text.
fn container_end(bytes: &[u8], open: usize) -> usize {
    let mut depth = 0usize;
    let mut at = open;
    loop {
        let (kind, range) = token(bytes, at);
        match kind {
            Token::Open => depth += 1,
            Token::Close => {
                depth -= 1;
                if depth == 0 {
                    return range.end;
                }
            }
            Token::End => return range.end,
            _ => {}
        }
        at = range.end;
    }
}

/// The value that starts at or after `at`.
fn value(bytes: &[u8], at: usize) -> Value {
    let (kind, range) = token(bytes, at);
    match kind {
        Token::Open => {
            Value { range: range.start..container_end(bytes, range.start), name: None, open: Some(range.start) }
        }
        Token::Word => {
            let (next, open) = token(bytes, range.end);
            if next == Token::Open && bytes[open.start] == b'(' {
                let end = container_end(bytes, open.start);
                Value { range: range.start..end, name: Some(range), open: Some(open.start) }
            } else {
                Value { range, name: None, open: None }
            }
        }
        _ => Value { range, name: None, open: None },
    }
}

/// One element of a container: `key: value`, or a value alone.
#[derive(Clone, Debug)]
struct Child {
    key: Option<Range<usize>>,
    value: Value,
}

/// The elements of the container whose opening bracket is at `open`.
fn children(bytes: &[u8], open: usize) -> Vec<Child> {
    let mut found = Vec::new();
    let mut at = open + 1;
    loop {
        let (kind, range) = token(bytes, at);
        match kind {
            Token::Close | Token::End => return found,
            Token::Comma | Token::Colon => {
                // Out of place: not for this lenient walk to judge.
                at = range.end;
                continue;
            }
            _ => {}
        }
        let first = value(bytes, at);
        let (next, colon) = token(bytes, first.range.end);
        let child = if next == Token::Colon {
            let second = value(bytes, colon.end);
            Child { key: Some(first.range), value: second }
        } else {
            Child { key: None, value: first }
        };
        at = child.value.range.end.max(range.end);
        let (next, comma) = token(bytes, at);
        if next == Token::Comma {
            at = comma.end;
        }
        found.push(child);
    }
}

/// One step of a path from the scenario's top value down.
#[derive(Clone, Copy, Debug)]
pub(super) enum Step<'a> {
    /// A struct's field (`processes`).
    Field(&'a str),
    /// The nth element of a list or tuple (0-based).
    Index(usize),
    /// A map's entry by its string key.
    Entry(&'a str),
}

/// The top value of the text: the last one, after any `#![enable(...)]` attribute.
fn root(bytes: &[u8]) -> Option<Value> {
    let mut at = 0;
    let mut last = None;
    loop {
        let (kind, range) = token(bytes, at);
        if kind == Token::End {
            return last;
        }
        let found = value(bytes, range.start);
        at = found.range.end.max(range.end);
        last = Some(found);
    }
}

/// The string a `"..."` token stands for, escapes resolved.
fn string_value(text: &str, range: Range<usize>) -> Option<String> {
    ron::from_str::<String>(&text[range]).ok()
}

/// How many `Some(...)` around a struct a field is looked for through: as deep as RON itself
/// reads values. The loop, not recursion, keeps hostile nesting off the stack.
const SOME_DEPTH_MAX: usize = 128;

/// The child of `parent` that `step` names. A field is also looked for inside `Some(...)`, which
/// a scenario may write or leave out.
fn child(text: &str, parent: &Value, step: Step<'_>) -> Option<Value> {
    let bytes = text.as_bytes();
    let mut parent = parent.clone();
    let mut elements = children(bytes, parent.open?);
    match step {
        Step::Index(index) => {
            elements.into_iter().filter(|child| child.key.is_none()).nth(index).map(|child| child.value)
        }
        Step::Field(field) => {
            for _ in 0..SOME_DEPTH_MAX {
                let is_some = parent.name.as_ref().is_some_and(|name| &text[name.clone()] == "Some");
                let [Child { key: None, value }] = elements.as_slice() else { break };
                if !is_some {
                    break;
                }
                parent = value.clone();
                elements = children(bytes, parent.open?);
            }
            elements
                .into_iter()
                .find(|child| child.key.as_ref().is_some_and(|key| &text[key.clone()] == field))
                .map(|child| child.value)
        }
        Step::Entry(key) => elements
            .into_iter()
            .find(|child| {
                child.key.as_ref().is_some_and(|range| string_value(text, range.clone()).as_deref() == Some(key))
            })
            .map(|child| child.value),
    }
}

/// The offset of the value at `path`, or of the deepest value on the way to it that is in the
/// text (a field left to its default is not).
pub(super) fn locate(text: &str, path: &[Step<'_>]) -> usize {
    let Some(mut current) = root(text.as_bytes()) else { return 0 };
    for &step in path {
        match child(text, &current, step) {
            Some(found) => current = found,
            None => break,
        }
    }
    current.range.start
}

/// For each element of the list at `list`, the offset of the value at `inner` within it (or of
/// the deepest value on the way that is written, as [`locate`] finds): one pass over the text
/// for all of them, where [`locate`] for each would go over it once per element.
pub(super) fn locate_in_each(text: &str, list: &[Step<'_>], inner: &[Step<'_>]) -> Vec<usize> {
    let Some(mut current) = root(text.as_bytes()) else { return Vec::new() };
    for &step in list {
        match child(text, &current, step) {
            Some(found) => current = found,
            None => return Vec::new(),
        }
    }
    let Some(open) = current.open else { return Vec::new() };
    children(text.as_bytes(), open)
        .into_iter()
        .map(|element| {
            let mut current = element.value;
            for &step in inner {
                match child(text, &current, step) {
                    Some(found) => current = found,
                    None => break,
                }
            }
            current.range.start
        })
        .collect()
}

/// The whole text of the value at `path` (from its first byte to just past its last), when
/// every step of the path is written.
pub(super) fn value_range(text: &str, path: &[Step<'_>]) -> Option<Range<usize>> {
    let mut current = root(text.as_bytes())?;
    for &step in path {
        current = child(text, &current, step)?;
    }
    Some(current.range)
}

/// The offset of the key of the field or map entry at `path` (its last step), or of the value
/// [`locate`] finds when there is no such key.
pub(super) fn locate_key(text: &str, path: &[Step<'_>]) -> usize {
    let Some((&last, parents)) = path.split_last() else { return locate(text, path) };
    let Some(mut current) = root(text.as_bytes()) else { return 0 };
    for &step in parents {
        match child(text, &current, step) {
            Some(found) => current = found,
            None => return current.range.start,
        }
    }
    let Some(open) = current.open else { return current.range.start };
    let key = children(text.as_bytes(), open).into_iter().find_map(|child| {
        let key = child.key?;
        let matches = match last {
            Step::Field(field) => &text[key.clone()] == field,
            Step::Entry(entry) => string_value(text, key.clone()).as_deref() == Some(entry),
            Step::Index(_) => false,
        };
        matches.then_some(key.start)
    });
    key.unwrap_or_else(|| locate(text, path))
}

/// The string value of the field `field` of the value that starts at `at`, if it has one.
pub(super) fn field_string(text: &str, at: usize, field: &str) -> Option<String> {
    let found = child(text, &value(text.as_bytes(), at), Step::Field(field))?;
    string_value(text, found.range)
}

/// The name of the value that starts at `at`: `Signal` for `Signal(to: "x")`, `Yield` for `Yield`.
pub(super) fn name_at(text: &str, at: usize) -> Option<&str> {
    let found = value(text.as_bytes(), at);
    let range = found.name.or_else(|| (found.open.is_none()).then_some(found.range))?;
    let name = &text[range];
    name.starts_with(|c: char| c.is_alphabetic()).then_some(name)
}

/// Where a value sits in its parent.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(super) enum Place {
    /// Under a key: a struct's field name, or a map's key as written.
    Key(String),
    /// The nth element of a list or tuple.
    Index(usize),
}

/// One value open at an offset, outermost first.
#[derive(Clone, Debug)]
pub(super) struct Open {
    /// Where its text starts.
    pub start: usize,
    /// Where it sits in its parent (`None` for the top value).
    pub place: Option<Place>,
}

/// What is open at an offset: the values around it, and where in the innermost of them it is.
#[derive(Clone, Debug, Default)]
pub(super) struct Around {
    /// The values open at the offset, outermost first (the top value is not among them).
    pub open: Vec<Open>,
    /// The key written last in the innermost of them, if the offset is in that key's value.
    pub key: Option<String>,
    /// In a list: the index of the element the offset is in, and where that element starts.
    pub element: Option<(usize, usize)>,
}

/// What is open at `offset` (see [`Around`]).
pub(super) fn open_at(text: &str, offset: usize) -> Around {
    struct State {
        start: usize,
        place: Option<Place>,
        /// Its opening bracket.
        bracket: u8,
        /// The key being given a value.
        key: Option<Range<usize>>,
        /// Elements begun so far, less one.
        index: usize,
        /// Where the element in progress starts.
        element: Option<usize>,
        /// The last word or string, which a `:` turns into a key.
        last: Option<Range<usize>>,
        /// A word just before, which names a `(` that follows.
        word: Option<Range<usize>>,
    }
    let bytes = text.as_bytes();
    let offset = offset.min(bytes.len());
    let fresh = |start, place, bracket| State {
        start,
        place,
        bracket,
        key: None,
        index: 0,
        element: None,
        last: None,
        word: None,
    };
    let mut stack: Vec<State> = vec![fresh(0, None, 0)];
    let mut at = 0;
    loop {
        let (kind, range) = token(bytes, at);
        if kind == Token::End || range.start >= offset {
            break;
        }
        let top = stack.last_mut().expect("the bottom state stays");
        let word = top.word.take();
        if !matches!(kind, Token::Comma | Token::Close) && top.element.is_none() {
            top.element = Some(range.start);
        }
        match kind {
            Token::Word | Token::Text => {
                top.last = Some(range.clone());
                top.word = (kind == Token::Word).then(|| range.clone());
            }
            Token::Colon => top.key = top.last.take(),
            Token::Comma => {
                top.index += 1;
                top.element = None;
                top.key = None;
                top.last = None;
            }
            Token::Open => {
                let place = match &top.key {
                    Some(key) => Place::Key(text[key.clone()].to_owned()),
                    None => Place::Index(top.index),
                };
                let named = word.filter(|_| bytes[range.start] == b'(');
                let start = named.map_or(range.start, |word| word.start);
                top.last = None;
                stack.push(fresh(start, Some(place), bytes[range.start]));
            }
            Token::Close => {
                if stack.len() > 1 {
                    let closed = stack.pop().expect("checked");
                    let parent = stack.last_mut().expect("checked");
                    parent.last = Some(closed.start..range.end);
                }
            }
            Token::End => {}
        }
        at = range.end;
    }
    let top = stack.last().expect("the bottom state stays");
    let key = top.key.clone().map(|key| text[key].to_owned());
    let element = (top.bracket == b'[').then(|| (top.index, top.element.unwrap_or(offset)));
    // The bottom state stands for the text around the top value; the top value is the next.
    let open = stack.into_iter().skip(2).map(|state| Open { start: state.start, place: state.place }).collect();
    Around { open, key, element }
}

/// Turns byte offsets into lines and columns, in one pass over the text however many it turns.
pub(super) struct Lines<'a> {
    text: &'a str,
    /// The offset each line starts at.
    starts: Vec<usize>,
}

impl<'a> Lines<'a> {
    pub fn new(text: &'a str) -> Lines<'a> {
        let starts = std::iter::once(0)
            .chain(text.bytes().enumerate().filter(|&(_, byte)| byte == b'\n').map(|(at, _)| at + 1))
            .collect();
        Lines { text, starts }
    }

    /// The 1-based line and column (in characters) of a byte offset.
    pub fn position(&self, offset: usize) -> (usize, usize) {
        let mut offset = offset.min(self.text.len());
        while !self.text.is_char_boundary(offset) {
            offset -= 1;
        }
        let line = self.starts.partition_point(|&start| start <= offset);
        let start = self.starts[line - 1];
        (line, self.text[start..offset].chars().count() + 1)
    }

    /// The byte offset of a 1-based line and column (in characters).
    pub fn offset(&self, line: usize, column: usize) -> usize {
        let Some(&start) = self.starts.get(line.saturating_sub(1)) else { return self.text.len() };
        let within: usize = self.text[start..].chars().take(column.saturating_sub(1)).map(char::len_utf8).sum();
        start + within
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const TEXT: &str = r##"#![enable(implicit_some)]
// A comment with "quotes" and (brackets.
Scenario(
    name: "x",
    kernel: (limits: (capability_slots_max: 3)),
    servers: (timer: Some((period_cycles: 5))),
    processes: [
        (name: "a", priority: 1, program: [Print(r#"(not a "bracket"#), Signal(to: "done", bits: 1)]),
        (name: "b", /* ) */ priority: 2, program: [Repeat(times: 2, ops: [Yield, Fails(error: "e", op: Delete("c"))])]),
    ],
    expect: (exit_codes: { "a": 0, "b\"": 1 }),
)
"##;

    fn at(path: &[Step<'_>]) -> &'static str {
        let offset = locate(TEXT, path);
        let rest = &TEXT[offset..];
        &rest[..rest.find([',', '\n']).unwrap_or(rest.len())]
    }

    #[test]
    fn paths_lead_to_their_values() {
        use Step::{Entry, Field, Index};
        assert_eq!(at(&[Field("name")]), "\"x\"");
        assert_eq!(at(&[Field("kernel"), Field("limits"), Field("capability_slots_max")]), "3))");
        assert_eq!(at(&[Field("servers"), Field("timer"), Field("period_cycles")]), "5)))");
        assert_eq!(at(&[Field("processes"), Index(0), Field("program"), Index(1), Field("to")]), "\"done\"");
        let nested = [Field("processes"), Index(1), Field("program"), Index(0), Field("ops"), Index(1)];
        assert!(at(&nested).starts_with("Fails(error"));
        let deeper = [&nested[..], &[Field("op"), Index(0)]].concat();
        assert_eq!(at(&deeper), "\"c\"))])])");
        assert_eq!(at(&[Field("expect"), Field("exit_codes"), Entry("b\"")]), "1 })");
        assert_eq!(
            TEXT[locate_key(TEXT, &[Field("expect"), Field("exit_codes"), Entry("b\"")])..].find("\"b"),
            Some(0)
        );
    }

    #[test]
    fn a_value_range_is_the_whole_value_and_none_when_a_step_is_missing() {
        use Step::{Field, Index};
        let program = value_range(TEXT, &[Field("processes"), Index(0), Field("program")]).expect("written");
        assert_eq!(&TEXT[program], r##"[Print(r#"(not a "bracket"#), Signal(to: "done", bits: 1)]"##);
        let op = value_range(TEXT, &[Field("processes"), Index(1), Field("program"), Index(0)]).expect("written");
        let op = &TEXT[op];
        assert!(op.starts_with("Repeat(") && op.ends_with("))])"), "{op}");
        assert_eq!(value_range(TEXT, &[Field("processes"), Index(2), Field("program")]), None);
        assert_eq!(value_range(TEXT, &[Field("processes"), Index(0), Field("caps")]), None);
    }

    #[test]
    fn a_missing_step_stops_at_the_deepest_value_found() {
        let process = locate(TEXT, &[Step::Field("processes"), Step::Index(1)]);
        assert_eq!(locate(TEXT, &[Step::Field("processes"), Step::Index(1), Step::Field("caps")]), process);
        assert_eq!(field_string(TEXT, process, "name").as_deref(), Some("b"));
        let op = locate(TEXT, &[Step::Field("processes"), Step::Index(1), Step::Field("program"), Step::Index(0)]);
        assert_eq!(name_at(TEXT, op), Some("Repeat"));
    }

    #[test]
    fn the_values_open_at_an_offset_are_listed_with_their_places() {
        let offset = TEXT.find("\"done\"").unwrap();
        let Around { open, key, .. } = open_at(TEXT, offset);
        let places: Vec<_> = open.iter().map(|open| open.place.clone()).collect();
        assert_eq!(
            places,
            [
                Some(Place::Key("processes".into())),
                Some(Place::Index(0)),
                Some(Place::Key("program".into())),
                Some(Place::Index(1)),
            ]
        );
        assert_eq!(name_at(TEXT, open[3].start), Some("Signal"));
        assert_eq!(key.as_deref(), Some("to"));
        // A cut text: what is open where it stops.
        let cut = &TEXT[..TEXT.find("bits").unwrap()];
        let Around { open, key, element } = open_at(cut, cut.len());
        assert_eq!(open.len(), 4);
        assert_eq!((key, element), (None, None));
        // An element of a list: its index and where it starts.
        let signal = TEXT.find("Signal").unwrap();
        let around = open_at(TEXT, signal);
        assert_eq!(around.open.len(), 3);
        assert_eq!(around.element, Some((1, signal)));
    }

    #[test]
    fn positions_count_characters_on_their_line() {
        let text = "ab\nüx\n";
        let lines = Lines::new(text);
        assert_eq!(lines.position(0), (1, 1));
        assert_eq!(lines.position(3), (2, 1));
        assert_eq!(lines.position(5), (2, 2));
        assert_eq!(lines.position(text.len()), (3, 1));
        assert_eq!(lines.offset(2, 2), 5);
    }
}
