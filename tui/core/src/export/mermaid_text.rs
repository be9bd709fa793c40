//! Text made safe for a Mermaid diagram: what any name or message may hold, drawn as itself.
//!
//! Mermaid ends a statement at `;` and a line at a line break, starts a comment at `%%`, reads
//! `#…;` as an entity code and draws message text as HTML, so those characters become entity
//! codes (which Mermaid decodes before drawing) and line breaks become `<br/>`. Mermaid has no
//! backslash escapes: a backslash would be drawn as itself, so the quotes the message describer
//! escapes (`"a \"b\""`) are turned back into plain quotes first.

/// Text for a message, a note or a participant's name.
pub(super) fn mermaid_text(text: &str) -> String {
    let mut safe = String::with_capacity(text.len());
    for character in text.chars() {
        match character {
            '#' => safe.push_str("#35;"),
            ';' => safe.push_str("#59;"),
            '%' => safe.push_str("#37;"),
            '"' => safe.push_str("#quot;"),
            '<' => safe.push_str("#lt;"),
            '>' => safe.push_str("#gt;"),
            '&' => safe.push_str("#amp;"),
            '\n' => safe.push_str("<br/>"),
            '\r' => {}
            other if mksim_kernel::text::is_unsafe_to_show(other) => {
                safe.push_str(&mksim_kernel::escape_controls(other.encode_utf8(&mut [0; 4])));
            }
            other => safe.push(other),
        }
    }
    safe
}

/// Text the message describer wrote: its strings are in Rust's quoting (`"say \"hi\""`), whose
/// `\"` and `\\` Mermaid would draw with their backslashes. Other escapes (`\n`, `\u{1b}`) stay:
/// they stand for bytes that have no picture of their own.
pub(super) fn mermaid_described(text: &str) -> String {
    let mut plain = String::with_capacity(text.len());
    let mut characters = text.chars().peekable();
    while let Some(character) = characters.next() {
        if character == '\\' && matches!(characters.peek(), Some('"' | '\\' | '\'')) {
            plain.push(characters.next().expect("peeked"));
        } else {
            plain.push(character);
        }
    }
    mermaid_text(&plain)
}

/// Text for the diagram's `title` line, which ends at `#` or `;` before any entity code is read:
/// those become their full-width forms, which look the same.
pub(super) fn mermaid_title(text: &str) -> String {
    let mut safe = String::with_capacity(text.len());
    for character in text.chars() {
        match character {
            '#' => safe.push('＃'),
            ';' => safe.push('；'),
            '%' => safe.push('％'),
            '\n' | '\r' => safe.push(' '),
            other if mksim_kernel::text::is_unsafe_to_show(other) => {
                safe.push_str(&mksim_kernel::escape_controls(other.encode_utf8(&mut [0; 4])));
            }
            other => safe.push(other),
        }
    }
    safe
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quotes_and_markup_become_entity_codes() {
        assert_eq!(mermaid_text(r#"a "b" <i>&"#), "a #quot;b#quot; #lt;i#gt;#amp;");
        assert_eq!(mermaid_text("50%; #1"), "50#37;#59; #35;1");
    }

    #[test]
    fn described_quotes_lose_their_backslashes() {
        assert_eq!(mermaid_described(r#"fs.open("say \"hi\"")"#), "fs.open(#quot;say #quot;hi#quot;#quot;)");
        assert_eq!(mermaid_described(r#""a\\b\n""#), r#"#quot;a\b\n#quot;"#);
    }

    #[test]
    fn titles_keep_their_words_and_lose_statement_ends() {
        assert_eq!(mermaid_title("a#b;c\nd"), "a＃b；c d");
    }
}
