//! A scenario's `notes`: what to watch for while it runs, written in the file as a few
//! sentences. The file may break and indent the text as it likes; what the reader sees is
//! the same words with single spaces, wrapped to the room there is (by `wrap` for the
//! command line, by the widget in the terminal UI).

/// The most characters a scenario's notes may hold: a few paragraphs, not a book.
pub const NOTES_CHARS_MAX: usize = 4000;

/// `text` with every run of whitespace (line breaks and indentation too) made one space, and
/// none at either end.
pub fn normalize(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// `text` broken into lines of at most `width` characters at spaces; a word longer than a
/// line gets a line of its own.
pub fn wrap(text: &str, width: usize) -> Vec<String> {
    let mut lines: Vec<String> = Vec::new();
    let mut line = String::new();
    for word in text.split_whitespace() {
        let needed = line.chars().count() + usize::from(!line.is_empty()) + word.chars().count();
        if !line.is_empty() && needed > width {
            lines.push(std::mem::take(&mut line));
        }
        if !line.is_empty() {
            line.push(' ');
        }
        line.push_str(word);
    }
    if !line.is_empty() {
        lines.push(line);
    }
    lines
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn line_breaks_and_indentation_become_single_spaces() {
        assert_eq!(normalize("  Watch: one\n        two   three\n"), "Watch: one two three");
    }

    #[test]
    fn wrapping_breaks_at_spaces_and_keeps_long_words_whole() {
        assert_eq!(wrap("aa bb cc dd", 5), ["aa bb", "cc dd"]);
        assert_eq!(wrap("a verylongword b", 4), ["a", "verylongword", "b"]);
        assert!(wrap("", 10).is_empty());
    }
}
