//! The small JSON writers the exports share: [`JsonObject`] builds one object
//! through serde_json, key by key, for the Chrome trace; [`JsonLine`] writes the
//! JSON Lines export straight into bytes, exactly as serde_json would.
//!
//! They know JSON and nothing of the event log: what goes into each object is
//! the business of the format that writes it.

use mksim_kernel::ObjectId;
use serde::Serialize;
use std::fmt;

/// A JSON object written field by field, so its keys keep the order of the calls.
pub(super) struct JsonObject {
    text: String,
}

impl JsonObject {
    pub(super) fn new() -> JsonObject {
        JsonObject { text: String::from("{") }
    }

    pub(super) fn field(&mut self, key: &str, value: impl Serialize) -> &mut JsonObject {
        let value = serde_json::to_string(&value).expect("strings, numbers and options always serialize");
        self.raw(key, &value)
    }

    /// Adds a value that is already JSON text.
    pub(super) fn raw(&mut self, key: &str, json: &str) -> &mut JsonObject {
        if self.text.len() > 1 {
            self.text.push(',');
        }
        self.text.push_str(&serde_json::to_string(key).expect("strings always serialize"));
        self.text.push(':');
        self.text.push_str(json);
        self
    }

    pub(super) fn finish(mut self) -> String {
        self.text.push('}');
        self.text
    }
}

/// Writes JSON objects one line at a time straight into a text buffer, keys in call order.
///
/// It writes exactly what serde_json writes for the same values (integers in
/// decimal, strings escaped as serde_json escapes them), so the export and
/// its hash are the same bytes as when every field went through serde_json,
/// without a string per field.
#[derive(Default)]
pub(super) struct JsonLine {
    /// Whole lines so far; bytes rather than a `String` so digits need no UTF-8 check one by one.
    pub(super) text: Vec<u8>,
    /// Reused for values that are put into words before they are escaped.
    scratch: String,
    first_field: bool,
}

impl JsonLine {
    pub(super) fn begin(&mut self) {
        self.text.push(b'{');
        self.first_field = true;
    }

    pub(super) fn end(&mut self) {
        self.text.extend_from_slice(b"}\n");
    }

    /// The lines written since the last clear.
    pub(super) fn chunk(&self) -> &str {
        std::str::from_utf8(&self.text).expect("only UTF-8 text and ASCII are ever written")
    }

    /// The key (plain ASCII, nothing to escape) and its colon.
    fn key(&mut self, key: &str) -> &mut JsonLine {
        debug_assert!(key.bytes().all(|byte| byte.is_ascii_alphanumeric() || byte == b'_'));
        if !self.first_field {
            self.text.push(b',');
        }
        self.first_field = false;
        self.text.push(b'"');
        self.text.extend_from_slice(key.as_bytes());
        self.text.extend_from_slice(b"\":");
        self
    }

    pub(super) fn number(&mut self, key: &str, value: impl Into<u64>) -> &mut JsonLine {
        self.key(key);
        push_decimal(&mut self.text, value.into());
        self
    }

    pub(super) fn signed(&mut self, key: &str, value: i64) -> &mut JsonLine {
        self.key(key);
        if value < 0 {
            self.text.push(b'-');
        }
        push_decimal(&mut self.text, value.unsigned_abs());
        self
    }

    pub(super) fn optional_number(&mut self, key: &str, value: Option<impl Into<u64>>) -> &mut JsonLine {
        match value {
            Some(value) => self.number(key, value),
            None => self.null(key),
        }
    }

    pub(super) fn boolean(&mut self, key: &str, value: bool) -> &mut JsonLine {
        self.key(key);
        self.text.extend_from_slice(if value { b"true" } else { b"false" });
        self
    }

    pub(super) fn null(&mut self, key: &str) -> &mut JsonLine {
        self.key(key);
        self.text.extend_from_slice(b"null");
        self
    }

    pub(super) fn string(&mut self, key: &str, value: &str) -> &mut JsonLine {
        self.key(key);
        push_json_string(&mut self.text, value);
        self
    }

    pub(super) fn optional_string(&mut self, key: &str, value: Option<&str>) -> &mut JsonLine {
        match value {
            Some(value) => self.string(key, value),
            None => self.null(key),
        }
    }

    /// A value's `Display` text as a JSON string.
    pub(super) fn display(&mut self, key: &str, value: impl fmt::Display) -> &mut JsonLine {
        use std::fmt::Write;
        self.key(key);
        self.scratch.clear();
        let _ = write!(self.scratch, "{value}");
        push_json_string(&mut self.text, &self.scratch);
        self
    }

    /// An object id as a JSON string, the text its `Display` gives (`#3`, `#3.1`), written directly.
    pub(super) fn object(&mut self, key: &str, id: ObjectId) -> &mut JsonLine {
        self.key(key);
        self.text.extend_from_slice(b"\"#");
        push_decimal(&mut self.text, id.index.into());
        if id.generation != 0 {
            self.text.push(b'.');
            push_decimal(&mut self.text, id.generation.into());
        }
        self.text.push(b'"');
        self
    }

    pub(super) fn optional_object(&mut self, key: &str, id: Option<ObjectId>) -> &mut JsonLine {
        match id {
            Some(id) => self.object(key, id),
            None => self.null(key),
        }
    }

    pub(super) fn optional_display(&mut self, key: &str, value: Option<impl fmt::Display>) -> &mut JsonLine {
        match value {
            Some(value) => self.display(key, value),
            None => self.null(key),
        }
    }
}

/// Appends `value` in decimal: the text `Display` gives, without going through the formatter,
/// which costs more than the digits themselves on a long export.
fn push_decimal(text: &mut Vec<u8>, mut value: u64) {
    let mut digits = [0u8; 20];
    let mut start = digits.len();
    loop {
        start -= 1;
        digits[start] = b'0' + (value % 10) as u8;
        value /= 10;
        if value == 0 {
            break;
        }
    }
    text.extend_from_slice(&digits[start..]);
}

/// True for the bytes a JSON string cannot hold as they are.
fn needs_escape(byte: u8) -> bool {
    byte < 0x20 || byte == b'"' || byte == b'\\'
}

/// Appends `value` as a JSON string, escaped as serde_json escapes it: quote,
/// backslash and control characters only (`\b \t \n \f \r` by name, the rest
/// as `\u00xx`); everything else, non-ASCII included, as it is.
pub(super) fn push_json_string(text: &mut Vec<u8>, value: &str) {
    text.push(b'"');
    if !value.bytes().any(needs_escape) {
        text.extend_from_slice(value.as_bytes());
        text.push(b'"');
        return;
    }
    let mut plain_from = 0;
    for (index, byte) in value.bytes().enumerate() {
        let escape = match byte {
            b'"' => "\\\"",
            b'\\' => "\\\\",
            b'\x08' => "\\b",
            b'\t' => "\\t",
            b'\n' => "\\n",
            b'\x0c' => "\\f",
            b'\r' => "\\r",
            0..=0x1f => "",
            _ => continue,
        };
        text.extend_from_slice(&value.as_bytes()[plain_from..index]);
        plain_from = index + 1;
        if escape.is_empty() {
            const HEX: &[u8; 16] = b"0123456789abcdef";
            text.extend_from_slice(b"\\u00");
            text.push(HEX[usize::from(byte >> 4)]);
            text.push(HEX[usize::from(byte & 0xf)]);
        } else {
            text.extend_from_slice(escape.as_bytes());
        }
    }
    text.extend_from_slice(&value.as_bytes()[plain_from..]);
    text.push(b'"');
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strings_are_escaped_exactly_as_serde_json_escapes_them() {
        let mut every_ascii: String = (0u8..0x80).map(char::from).collect();
        every_ascii.push_str("é → ✓ \u{2028} 𝄞 \"quoted\" back\\slash");
        for value in [every_ascii.as_str(), "", "plain", "\u{7f}", "ends with \n"] {
            let mut written = Vec::new();
            push_json_string(&mut written, value);
            assert_eq!(String::from_utf8(written).unwrap(), serde_json::to_string(value).unwrap(), "{value:?}");
        }
    }

    #[test]
    fn a_line_is_one_object_with_its_fields_in_order() {
        let mut line = JsonLine::default();
        line.begin();
        line.number("seq", 7u64)
            .number("time", u64::MAX)
            .number("zero", 0u8)
            .signed("code", -3)
            .optional_number("pid", None::<u32>)
            .boolean("direct", true);
        line.display("object", ObjectId { index: 2, generation: 1 }).optional_string("to", Some("a \"b\""));
        line.end();
        for id in [ObjectId { index: 0, generation: 0 }, ObjectId { index: 4_000_000_000, generation: u32::MAX }] {
            let mut object = JsonLine::default();
            object.begin();
            object.object("o", id).end();
            assert_eq!(object.chunk(), format!("{{\"o\":\"{id}\"}}\n"));
        }
        assert_eq!(
            line.chunk(),
            "{\"seq\":7,\"time\":18446744073709551615,\"zero\":0,\"code\":-3,\"pid\":null,\"direct\":true,\"object\":\"#2.1\",\"to\":\"a \\\"b\\\"\"}\n"
        );
    }
}
