//! Keys for the UI tests: synthetic key presses, and the keys the help names.

#![allow(dead_code)] // Each test file uses only some of these.

use ratatui::crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

/// A key press without modifiers.
pub fn key(code: KeyCode) -> KeyEvent {
    KeyEvent::new(code, KeyModifiers::NONE)
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
