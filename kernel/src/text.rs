//! Text from scenarios, made safe to show on a terminal.
//!
//! Scenario names and descriptions, process and capability names, console
//! output and message contents come from scenario files, which anyone may
//! write. Shown as they are, a control character reaches the terminal: an
//! escape sequence can erase a line and draw another in its place (a failed
//! check redrawn as passed), a carriage return or a line break can start a
//! line the program never wrote. Every text view (the trace, reports, check
//! output, errors, the terminal UI) passes such strings through
//! [`escape_controls`]; machine-readable output (JSON) keeps them exact.
//!
//! The convention is Rust's for string literals, which is also how message
//! contents are already quoted in traces: `\n`, `\r`, `\t` and `\0` by name,
//! every other control character as `\u{hex}` (escape is `\u{1b}`).

use std::borrow::Cow;

/// Whether `character` must not reach a terminal as it is: the C0 controls, DEL and the C1
/// controls (Unicode's control category), and the bidirectional formatting characters, which
/// reorder what a line shows without being seen themselves.
pub fn is_unsafe_to_show(character: char) -> bool {
    character.is_control()
        || matches!(character, '\u{061c}' | '\u{200e}' | '\u{200f}' | '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}')
}

/// `text` with every character [`is_unsafe_to_show`] written as a Rust string literal writes
/// it: `\n`, `\r`, `\t`, `\0`, or `\u{hex}` (`\u{1b}` for escape). Text without any comes
/// back as it is, without a copy. A backslash is left alone: the escaped form is for reading,
/// and JSON output has the exact text.
pub fn escape_controls(text: &str) -> Cow<'_, str> {
    if !text.chars().any(is_unsafe_to_show) {
        return Cow::Borrowed(text);
    }
    let mut safe = String::with_capacity(text.len() + 8);
    for character in text.chars() {
        match character {
            '\n' => safe.push_str("\\n"),
            '\r' => safe.push_str("\\r"),
            '\t' => safe.push_str("\\t"),
            '\0' => safe.push_str("\\0"),
            other if is_unsafe_to_show(other) => {
                safe.push_str(&format!("\\u{{{:x}}}", u32::from(other)));
            }
            other => safe.push(other),
        }
    }
    Cow::Owned(safe)
}

/// [`escape_controls`] for text of several lines (console output, a whole report): each line
/// is escaped and the line breaks between them are kept.
pub fn escape_controls_by_line(text: &str) -> Cow<'_, str> {
    if !text.chars().any(|character| character != '\n' && is_unsafe_to_show(character)) {
        return Cow::Borrowed(text);
    }
    let lines: Vec<Cow<'_, str>> = text.split('\n').map(escape_controls).collect();
    Cow::Owned(lines.join("\n"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn control_characters_are_written_as_rust_writes_them_and_nothing_else_changes() {
        assert_eq!(escape_controls("\u{1b}[2K\rPASS spoof: 3/3 cases"), "\\u{1b}[2K\\rPASS spoof: 3/3 cases");
        assert_eq!(escape_controls("a\tb\nc\0d\u{7f}e\u{9b}f"), "a\\tb\\nc\\0d\\u{7f}e\\u{9b}f");
        assert_eq!(escape_controls("left\u{202e}right\u{2066}"), "left\\u{202e}right\\u{2066}");
        let plain = "ping → pong «naïve» \\u{1b} 漢字";
        assert!(matches!(escape_controls(plain), Cow::Borrowed(text) if text == plain));
    }

    #[test]
    fn by_line_keeps_the_line_breaks_and_escapes_the_rest() {
        assert_eq!(escape_controls_by_line("one\n\u{1b}[31mtwo\r\n"), "one\n\\u{1b}[31mtwo\\r\n");
        assert!(matches!(escape_controls_by_line("a\nb\n"), Cow::Borrowed(_)));
        for text in ["", "\n", "x\u{1b}", "\u{85}\n\u{2028}"] {
            let escaped = escape_controls_by_line(text);
            assert!(!escaped.chars().any(|c| c != '\n' && is_unsafe_to_show(c)), "{escaped:?}");
            assert_eq!(escaped.matches('\n').count(), text.matches('\n').count());
        }
    }
}
