//! What opens over or beside the main views: the help (its keys, then a legend of every mark
//! the screen draws), the breakpoint list, and the scenario's notes. Nothing here changes the
//! state.

use super::app::{App, HelpPage};
use super::services;
use super::view::fit;
use mksim_kernel::escape_controls;
use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::style::{Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Clear, Paragraph};

/// Every key, as the help overlay lists them.
pub const KEYS: [(&str, &str); 19] = [
    ("n  →", "next event"),
    ("p  ←", "previous event"),
    ("N  ]  PgDn", "next message"),
    ("P  [  PgUp", "previous message"),
    ("space", "run / pause"),
    ("+  -", "faster / slower (events per second)"),
    ("g  G", "start / end"),
    (":", "go to step N"),
    ("/", "filter by process or operation (Esc clears)"),
    ("b", "breakpoint: label OP[*] | to NAME | block NAME | fault"),
    ("B", "list breakpoints (d deletes, D deletes all)"),
    (">", "run to the next breakpoint"),
    ("↑ ↓  j k  Tab", "select a process (scroll the compare pane)"),
    ("i  Enter", "inspector / process table (narrow terminals)"),
    ("c", "compare with monolithic mode"),
    ("m", "the other mode's run, at the same operation"),
    ("w", "what to watch: the scenario's notes"),
    ("?", "this help; ? again: what the marks mean"),
    ("q", "quit"),
];

/// Every mark the flow and the process table draw, and what it means.
pub const MARKS: [(&str, &str); 16] = [
    ("●──▶", "call or send: from the sender (●) to the receiver (▶)"),
    ("●╌╌▷", "reply to a call"),
    ("●──»", "asynchronous message (a queue port)"),
    ("●══▶", "service call into the kernel (monolithic mode)"),
    ("●··↯", "signal into a notification, or an interrupt from the kernel"),
    ("✕", "fault, dropped message, failed syscall: on its own lane"),
    ("!", "injected fault, or KERNEL PANIC, on the lane it struck"),
    ("↻", "restarted by the supervisor (↻1 in the table: incarnation 1)"),
    ("↺", "an operation tried again after its server died"),
    ("■", "the process ended"),
    ("┄┄┄", "boot done: every server is ready"),
    ("▸", "the current row, or the selected process"),
    ("5↑9", "priority 5 raised to 9 (inherited)"),
    ("‖", "pipe traffic"),
    ("≡", "message-queue traffic"),
    ("⇄", "socket traffic"),
];

/// Draws the help overlay at `page`.
pub fn draw_help(frame: &mut Frame, area: Rect, page: HelpPage) {
    // The service glyphs are listed by `services`; the marks' table repeats them, and a test
    // holds the two together.
    debug_assert!(services::LEGEND.iter().all(|(glyph, _)| MARKS.iter().any(|(mark, _)| mark.contains(*glyph))));
    let (title, rows): (&str, Vec<(&str, &str)>) = match page {
        HelpPage::Keys => (" keys · ? marks ", KEYS.to_vec()),
        HelpPage::Marks => (" marks on the screen · ? keys ", MARKS.to_vec()),
    };
    let width = area.width.min(82);
    let height = area.height.min(rows.len() as u16 + 2);
    let popup = Rect { x: area.x + (area.width - width) / 2, y: area.y + (area.height - height) / 2, width, height };
    let room = width.saturating_sub(2) as usize;
    let lines: Vec<Line> =
        rows.iter().map(|(keys, what)| Line::from(fit(&format!(" {keys:<15} {what}"), room))).collect();
    frame.render_widget(Clear, popup);
    frame.render_widget(Paragraph::new(lines).block(Block::bordered().title(title)), popup);
}

/// Draws the breakpoint list over `area`, the selected one marked.
pub fn draw_breakpoint_list(frame: &mut Frame, area: Rect, app: &App, selected: usize) {
    let width = area.width.min(60);
    let height = area.height.min(app.breakpoints.len().max(1) as u16 + 3);
    let popup = Rect { x: area.x + (area.width - width) / 2, y: area.y + (area.height - height) / 2, width, height };
    let room = width.saturating_sub(2) as usize;
    let mut lines: Vec<Line> = app
        .breakpoints
        .iter()
        .enumerate()
        .map(|(index, breakpoint)| {
            let marker = if index == selected { "▸" } else { " " };
            let text = fit(&format!("{marker}{:>2} {}", index + 1, escape_controls(&breakpoint.describe())), room);
            let style = if index == selected { Style::new().add_modifier(Modifier::REVERSED) } else { Style::new() };
            Line::from(Span::styled(text, style))
        })
        .collect();
    if lines.is_empty() {
        lines.push(Line::from(" none yet"));
    }
    lines.push(Line::from(fit(" ↑↓ select · d delete · D all · b add · Esc close", room)));
    frame.render_widget(Clear, popup);
    frame.render_widget(Paragraph::new(lines).block(Block::bordered().title(" breakpoints ")), popup);
}

/// The rows the notes panel needs at `width` (border included), at most `most`.
pub fn notes_height(app: &App, width: u16, most: u16) -> u16 {
    let Some(notes) = app.notes.as_deref().filter(|_| app.notes_shown) else { return 0 };
    let lines = mksim_core::scenario::notes::wrap(notes, width.saturating_sub(2).max(1) as usize).len() as u16;
    (lines + 2).min(most)
}

/// Draws the scenario's notes in `area`; when they do not all fit, the last line shown ends
/// in `…` and the title says to widen the terminal.
pub fn draw_notes(frame: &mut Frame, area: Rect, app: &App) {
    let Some(notes) = app.notes.as_deref() else { return };
    let room = area.width.saturating_sub(2).max(1) as usize;
    let rows = area.height.saturating_sub(2) as usize;
    let mut lines = mksim_core::scenario::notes::wrap(&escape_controls(notes), room);
    let cut = lines.len() > rows;
    lines.truncate(rows);
    if cut && let Some(last) = lines.last_mut() {
        *last = fit(&format!("{last} …"), room);
        if !last.ends_with('…') {
            last.pop();
            last.push('…');
        }
    }
    let title =
        if cut { " what to watch (more on a taller terminal) · w closes " } else { " what to watch · w closes " };
    let text: Vec<Line> = lines.into_iter().map(Line::from).collect();
    frame.render_widget(Paragraph::new(text).block(Block::bordered().title(title)), area);
}
