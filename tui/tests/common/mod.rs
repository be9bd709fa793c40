//! Keys for the UI tests: synthetic key presses, typing into the UI, and the keys the help names.

#![allow(dead_code)] // Each test file uses only some of these.

use mksim::ui::app::App;
use ratatui::crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

/// A key press without modifiers.
pub fn key(code: KeyCode) -> KeyEvent {
    KeyEvent::new(code, KeyModifiers::NONE)
}

/// Presses each character of `keys` as a key: `\n` is Enter, `\x1b` is Esc.
pub fn press(app: &mut App, keys: &str) {
    for letter in keys.chars() {
        let code = match letter {
            '\n' => KeyCode::Enter,
            '\x1b' => KeyCode::Esc,
            letter => KeyCode::Char(letter),
        };
        app.handle_key(key(code));
    }
}

/// The key codes a help entry names: `n  →` is n and Right, and so on.
pub fn codes(keys: &str) -> Vec<KeyCode> {
    keys.split_whitespace()
        .map(|name| match name {
            "→" => KeyCode::Right,
            "←" => KeyCode::Left,
            "↑" => KeyCode::Up,
            "↓" => KeyCode::Down,
            "PgDn" => KeyCode::PageDown,
            "PgUp" => KeyCode::PageUp,
            "space" => KeyCode::Char(' '),
            "Tab" => KeyCode::Tab,
            "Enter" => KeyCode::Enter,
            single if single.chars().count() == 1 => KeyCode::Char(single.chars().next().unwrap_or(' ')),
            other => panic!("the help names a key this test does not know: {other:?}"),
        })
        .collect()
}
