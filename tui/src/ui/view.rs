//! Drawing the UI from the app state. Nothing here changes the state.
//!
//! Every mark has its own glyph, so the screen reads without colour (for
//! projectors and screen readers); colour, where the terminal has it and
//! `NO_COLOR` is not set, only repeats what the glyphs say.

use super::app::{App, PromptKind, SPEEDS, TICKS_PER_SECOND};
use super::compare::draw_compare;
pub use super::overlays::{KEYS, MARKS};
use super::overlays::{draw_breakpoint_list, draw_help, draw_notes, notes_height};
use super::services;
use super::timeline::{Activity, FlowRow, RowKind, Snapshot};
use mksim_kernel::message::MessageKind;
use mksim_kernel::{ProcessId, escape_controls};
use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::{Color, Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Cell, Paragraph, Row, Table, Wrap};
use std::collections::{BTreeMap, BTreeSet};

/// Whether to use colour (off when `NO_COLOR` is set, and in tests).
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct Palette {
    /// Colour on.
    pub colour: bool,
}

impl Palette {
    /// Colour unless `NO_COLOR` says otherwise.
    pub fn from_environment() -> Palette {
        Palette { colour: std::env::var_os("NO_COLOR").is_none() }
    }

    fn fg(self, colour: Color) -> Style {
        if self.colour { Style::new().fg(colour) } else { Style::new() }
    }
}

/// Process names up to this many characters are never cut, on the lanes or in the table.
pub const LANE_NAME_CHARS: usize = 10;

/// From this width on, the process table and the inspector stand side by side;
/// below it they share the space and `i` switches between them.
pub const WIDE: u16 = 120;

/// Draws the whole screen.
pub fn draw(frame: &mut Frame, app: &App, palette: Palette) {
    let area = frame.area();
    let flow_share = if app.compare { 30 } else { 50 };
    let [title, flow, lower, event, status] = Layout::vertical([
        Constraint::Length(1),
        Constraint::Percentage(flow_share),
        Constraint::Fill(1),
        Constraint::Length(1),
        Constraint::Length(1),
    ])
    .areas(area);
    let snapshot = app.timeline().snapshot_at(app.step);
    // The notes, when open, take the top of the lower half, as much of it as they need: the
    // flow stays whole, and the table gets what is left.
    let notes = notes_height(app, lower.width, lower.height);
    let [notes_area, lower] = Layout::vertical([Constraint::Length(notes), Constraint::Fill(1)]).areas(lower);
    if notes > 0 {
        draw_notes(frame, notes_area, app);
    }
    draw_title(frame, title, app);
    draw_flow(frame, flow, app, &snapshot, palette);
    if app.compare {
        draw_compare(frame, lower, app);
    } else if lower.width >= WIDE {
        let [table, inspector] = Layout::horizontal([Constraint::Percentage(58), Constraint::Fill(1)]).areas(lower);
        draw_processes(frame, table, app, &snapshot, palette);
        draw_inspector(frame, inspector, app, &snapshot);
    } else if app.inspector {
        draw_inspector(frame, lower, app, &snapshot);
    } else {
        draw_processes(frame, lower, app, &snapshot, palette);
    }
    draw_event_line(frame, event, app);
    draw_status(frame, status, app, &snapshot);
    if let Some(selected) = app.breakpoint_list {
        draw_breakpoint_list(frame, area, app, selected);
    }
    if let Some(page) = app.help {
        draw_help(frame, area, page);
    }
}

fn draw_title(frame: &mut Frame, area: Rect, app: &App) {
    let (title, description) = (escape_controls(&app.title), escape_controls(&app.description));
    let text = fit(&format!(" mksim · {title} — {description}"), area.width as usize);
    frame.render_widget(Paragraph::new(text).style(Style::new().add_modifier(Modifier::BOLD)), area);
}

fn name_of(app: &App, lane: Option<u32>) -> String {
    match lane {
        Some(index) => app.timeline().log.display_name(ProcessId { index, generation: 0 }).into_owned(),
        None => "kernel".to_owned(),
    }
}

/// The glyphs of an arrow: line, head towards the receiver (right, left), and style.
fn arrow_glyphs(kind: RowKind) -> (char, char, char, Color) {
    match kind {
        RowKind::Message(MessageKind::Call | MessageKind::Send) => ('─', '▶', '◀', Color::Cyan),
        RowKind::Message(MessageKind::Reply) => ('╌', '▷', '◁', Color::Green),
        RowKind::Message(MessageKind::Async) => ('─', '»', '«', Color::Yellow),
        RowKind::Message(MessageKind::Service) => ('═', '▶', '◀', Color::Blue),
        RowKind::Signal => ('·', '↯', '↯', Color::Magenta),
        RowKind::Dropped | RowKind::Fault => ('─', '✕', '✕', Color::Red),
        RowKind::Ended => ('─', '■', '■', Color::DarkGray),
        RowKind::Failed => ('─', '✕', '✕', Color::Red),
        RowKind::Injected => ('─', '!', '!', Color::Yellow),
        RowKind::Restarted => ('─', '↻', '↻', Color::Green),
        RowKind::Retried => ('─', '↺', '↺', Color::Cyan),
        RowKind::Panic => ('─', '!', '!', Color::Red),
        RowKind::BootDone => ('┄', '┄', '┄', Color::DarkGray),
    }
}

/// The rows to show: the last ones at or before the current step that pass the filter.
fn shown_rows(app: &App, height: usize) -> Vec<usize> {
    let rows = &app.timeline().rows;
    let end = app.visible_rows.partition_point(|&row| rows[row].event as usize <= app.step);
    let start = end.saturating_sub(height);
    app.visible_rows[start..end].to_vec()
}

/// Lanes: the kernel (when something happens there), then processes. When
/// they do not fit, only the processes in the rows on screen.
fn lanes(app: &App, snapshot: &Snapshot, rows: &[usize], width: usize) -> Vec<Option<u32>> {
    let timeline = app.timeline();
    let on_screen: BTreeSet<Option<u32>> = rows
        .iter()
        .map(|&row| &timeline.rows[row])
        .filter(|row| row.kind != RowKind::BootDone)
        .flat_map(|row| [row.from, row.to])
        .collect();
    let all = snapshot.processes.len() as u32;
    let mut lanes: Vec<Option<u32>> = if timeline.kernel_lane { vec![None] } else { Vec::new() };
    if (lanes.len() + all as usize) * 9 <= width {
        lanes.extend((0..all).map(Some));
    } else {
        lanes = on_screen.into_iter().collect();
    }
    lanes
}

fn draw_flow(frame: &mut Frame, area: Rect, app: &App, snapshot: &Snapshot, palette: Palette) {
    let filter = app.filter.as_ref().map(|text| format!(" filter \"{}\"", escape_controls(text))).unwrap_or_default();
    let block = Block::bordered().title(format!(" message flow ({}){filter} ", app.run().mode));
    let inner = block.inner(area);
    frame.render_widget(block, area);
    if inner.height < 2 || inner.width < 20 {
        return;
    }
    let time_width = 9usize;
    let width = inner.width as usize - time_width;
    let rows = shown_rows(app, inner.height as usize - 1);
    let lanes = lanes(app, snapshot, &rows, width);
    if lanes.is_empty() {
        frame.render_widget(Paragraph::new("no messages yet"), inner);
        return;
    }
    let spacing = (width / lanes.len()).max(2);
    let centre = |lane: Option<u32>| lanes.iter().position(|&shown| shown == lane).map(|at| at * spacing + spacing / 2);
    let mut lines = lane_header(app, &lanes, spacing, time_width);
    // A second line of names takes the place of the oldest row.
    let rows = &rows[(lines.len() - 1).min(rows.len())..];
    let current = app.timeline().row_at(app.step);
    for &row_index in rows {
        let row = &app.timeline().rows[row_index];
        let text = services::tagged(app.timeline(), row, app.timeline().row_text(row));
        let cells = draw_row(row, &text, width, &lanes, &centre);
        let time = app.timeline().log.events()[row.event as usize].time;
        let (_, _, _, colour) = arrow_glyphs(row.kind);
        let mut style = palette.fg(colour);
        let is_current = current == Some(row_index);
        if is_current {
            style = style.add_modifier(Modifier::REVERSED | Modifier::BOLD);
        }
        let marker = if is_current { "▸" } else { " " };
        lines.push(Line::from(vec![
            Span::raw(format!("{marker}{time:>7} ")),
            Span::styled(cells.into_iter().collect::<String>(), style),
        ]));
    }
    frame.render_widget(Paragraph::new(lines), inner);
}

/// The lanes' names, centred over their lanes. When a name does not fit between two lanes, the
/// names go on two lines, every other lane on the second, so each has twice the room and a
/// name of [`LANE_NAME_CHARS`] or fewer characters is never cut.
fn lane_header(app: &App, lanes: &[Option<u32>], spacing: usize, time_width: usize) -> Vec<Line<'static>> {
    let names: Vec<String> = lanes.iter().map(|&lane| name_of(app, lane)).collect();
    let longest = names.iter().map(|name| name.chars().count()).max().unwrap_or(0);
    let staggered = longest > spacing.saturating_sub(1) && lanes.len() > 1;
    let (count, room) = if staggered { (2, 2 * spacing - 1) } else { (1, spacing.saturating_sub(1)) };
    let mut lines = vec![vec![' '; time_width + spacing * lanes.len()]; count];
    for (at, name) in names.iter().enumerate() {
        let name = fit(name, room.max(1));
        let length = name.chars().count();
        // On one line a name is centred in its lane's column; staggered, on its lane's line.
        let start = if staggered {
            (time_width + at * spacing + spacing / 2).saturating_sub(length / 2).max(time_width)
        } else {
            time_width + at * spacing + (spacing - length) / 2
        };
        let line = &mut lines[at % count];
        for (offset, letter) in name.chars().enumerate() {
            if let Some(cell) = line.get_mut(start + offset) {
                *cell = letter;
            }
        }
    }
    let bold = Style::new().add_modifier(Modifier::BOLD);
    lines.into_iter().map(|cells| Line::from(Span::styled(cells.into_iter().collect::<String>(), bold))).collect()
}

fn draw_row(
    row: &FlowRow,
    text: &str,
    width: usize,
    lanes: &[Option<u32>],
    centre: &dyn Fn(Option<u32>) -> Option<usize>,
) -> Vec<char> {
    if row.kind == RowKind::BootDone {
        return boot_line(text, width);
    }
    let mut cells = vec![' '; width];
    // Every write goes through here, so a lane that falls off a narrow screen is simply not drawn.
    let mut put = |at: usize, glyph: char| {
        if let Some(cell) = cells.get_mut(at) {
            *cell = glyph;
        }
    };
    for &lane in lanes {
        if let Some(x) = centre(lane) {
            put(x, '│');
        }
    }
    let (line, right_head, left_head, _) = arrow_glyphs(row.kind);
    // Words between two lanes are centred on the arrow; a mark's words sit right beside its
    // lane, so they read as that lane's and not as the next lane's (which they may cross).
    let (label_start, label_end, beside) = match (centre(row.from), centre(row.to)) {
        (Some(a), Some(b)) if a != b => {
            let (low, high) = (a.min(b), a.max(b));
            for at in low + 1..high {
                put(at, line);
            }
            put(a, '●');
            if b > a {
                put(high, right_head)
            } else {
                put(low, left_head)
            }
            (low + 2, high.saturating_sub(1), Beside::No)
        }
        (Some(a), _) | (None, Some(a)) => {
            put(a, right_head);
            // A mark on a lane near the right edge gets its words on the left of the lane.
            let wanted = text.chars().count() + 1;
            if width.saturating_sub(a + 1) < wanted && a > width / 2 {
                (a.saturating_sub(wanted), a, Beside::Left)
            } else {
                (a + 1, width, Beside::Right)
            }
        }
        (None, None) => (1, width, Beside::No),
    };
    let room = label_end.saturating_sub(label_start);
    let label = match beside {
        // A space either side when there is room for it; the words come first.
        Beside::No => {
            let words = shorten(text, room.saturating_sub(1));
            if words.chars().count() + 2 <= room { format!(" {words} ") } else { format!(" {words}") }
        }
        Beside::Right => format!(" {}", shorten(text, room.saturating_sub(1))),
        Beside::Left => format!("{} ", shorten(text, room.saturating_sub(1))),
    };
    let offset = match beside {
        Beside::No => label_start + room.saturating_sub(label.chars().count()) / 2,
        Beside::Right => label_start,
        Beside::Left => label_end.saturating_sub(label.chars().count()),
    };
    for (at, letter) in label.chars().enumerate() {
        put(offset + at, letter);
    }
    cells
}

/// Where a row's words go: centred on its arrow, or beside its mark's lane.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Beside {
    No,
    Right,
    Left,
}

/// The end of the boot: a dashed line across every lane, its words in the middle.
fn boot_line(text: &str, width: usize) -> Vec<char> {
    let mut cells = vec!['┄'; width];
    let label = fit(&format!(" {text} "), width);
    let offset = width.saturating_sub(label.chars().count()) / 2;
    for (at, letter) in label.chars().enumerate() {
        cells[offset + at] = letter;
    }
    cells
}

/// A row's words in `room` characters, so that two operations stay apart on a narrow screen:
/// the arguments go first (`block.write…`), then the service (`write…`: the lane it goes to
/// says which), and only then the operation's own name.
fn shorten(text: &str, room: usize) -> String {
    if text.chars().count() <= room {
        return text.to_owned();
    }
    // The operation is the first word with a dot in it (after a service glyph, if any).
    let head = text.split([' ', '(']).find(|word| word.contains('.')).unwrap_or("");
    let head_end = text.find(head).map_or(0, |at| at + head.len());
    if head.is_empty() || text[..head_end].chars().count() < room {
        return fit(text, room);
    }
    let method = head.rsplit('.').next().unwrap_or(head);
    let cut = format!("{method}…");
    if cut.chars().count() <= room { cut } else { fit(method, room) }
}

/// `text` cut to `room` characters, ending in `…` when something was cut.
pub(super) fn fit(text: &str, room: usize) -> String {
    if text.chars().count() <= room {
        return text.to_owned();
    }
    if room == 0 {
        return String::new();
    }
    let mut cut: String = text.chars().take(room - 1).collect();
    cut.push('…');
    cut
}

fn activity_words(app: &App, activity: Activity) -> String {
    let log = &app.timeline().log;
    match activity {
        Activity::Ready => "ready".into(),
        Activity::Running => "running".into(),
        Activity::Blocked(on) => log.describe_blocked_on(on),
        Activity::Exited(code) => format!("exited({code})"),
        Activity::Faulted(reason) => format!("faulted({reason})"),
        Activity::Lost => "lost in the kernel panic".into(),
        Activity::AwaitingBoot => "waiting for the servers to boot".into(),
    }
}

fn draw_processes(frame: &mut Frame, area: Rect, app: &App, snapshot: &Snapshot, palette: Palette) {
    let header = Row::new(["process", "prio", "state", "cycles", "sent", "recv"])
        .style(Style::new().add_modifier(Modifier::BOLD | Modifier::UNDERLINED));
    let rows = snapshot.processes.iter().map(|process| {
        let mut name = name_of(app, Some(process.index));
        if process.incarnation > 0 {
            name.push_str(&format!(" ↻{}", process.incarnation));
        }
        let priority = if process.priority == process.base_priority {
            process.priority.to_string()
        } else {
            format!("{}↑{}", process.base_priority, process.priority)
        };
        let marker = if process.index as usize == app.selected { "▸" } else { " " };
        let mut style = match process.activity {
            Activity::Running => palette.fg(Color::Green).add_modifier(Modifier::BOLD),
            Activity::Faulted(_) | Activity::Lost => palette.fg(Color::Red),
            Activity::Exited(_) => palette.fg(Color::DarkGray),
            _ => Style::new(),
        };
        if process.index as usize == app.selected {
            style = style.add_modifier(Modifier::REVERSED);
        }
        Row::new(vec![
            Cell::from(format!("{marker}{name}")),
            Cell::from(priority),
            Cell::from(activity_words(app, process.activity)),
            Cell::from(process.cycles.to_string()),
            Cell::from(process.sent.to_string()),
            Cell::from(process.received.to_string()),
        ])
        .style(style)
    });
    // The marker, the longest name whole (cut only past LANE_NAME_CHARS), and an incarnation
    // mark (` ↻1`); no wider, so the state keeps its room.
    let longest = snapshot
        .processes
        .iter()
        .map(|process| name_of(app, Some(process.index)).chars().count() + if process.incarnation > 0 { 3 } else { 0 })
        .max()
        .unwrap_or(0);
    let name_width = (longest + 1).clamp("process".len() + 1, LANE_NAME_CHARS + 4) as u16;
    let widths = [
        Constraint::Length(name_width),
        Constraint::Length(5),
        Constraint::Fill(1),
        Constraint::Length(7),
        Constraint::Length(4),
        Constraint::Length(4),
    ];
    let table = Table::new(rows, widths).header(header).block(Block::bordered().title(" processes "));
    frame.render_widget(table, area);
}

fn draw_inspector(frame: &mut Frame, area: Rect, app: &App, snapshot: &Snapshot) {
    let log = &app.timeline().log;
    let Some(process) = snapshot.processes.get(app.selected) else {
        frame.render_widget(Block::bordered().title(" inspector "), area);
        return;
    };
    let name = name_of(app, Some(process.index));
    let mut lines = Vec::new();
    let process_name = log.process_name(mksim_kernel::ProcessId { index: process.index, generation: 0 });
    if let Some(script) = app.scripts.get(process_name) {
        let at = match snapshot.script_line(process.index) {
            Some(line) => format!(", line {line}"),
            None => String::new(),
        };
        lines.push(Line::from(vec![
            Span::styled("script ", Style::new().add_modifier(Modifier::BOLD)),
            Span::raw(format!("{}{at}", escape_controls(script))),
        ]));
    }
    let in_kernel = app.run().mode == mksim_servers::system::Mode::Monolithic.name();
    lines.extend(services::inspector_lines(log, snapshot, process.index, in_kernel, true));
    lines.push(Line::from(Span::styled("capabilities", Style::new().add_modifier(Modifier::BOLD))));
    if process.caps.is_empty() {
        lines.push(Line::from("  none"));
    }
    for (slot, cap) in &process.caps {
        let badge = if cap.badge.0 == 0 { String::new() } else { format!(" badge {}", cap.badge.0) };
        let object =
            if cap.reply { format!("reply {} (answers a call)", cap.object) } else { log.describe_object(cap.object) };
        lines.push(Line::from(format!("  {slot:>2} {object} [{}]{badge}", cap.rights)));
    }
    let owned: Vec<_> = snapshot
        .waiting
        .iter()
        .filter(|(port, _)| {
            log.object_info(**port).and_then(|info| info.owner).map(|owner| owner.index) == Some(process.index)
        })
        .collect();
    if !owned.is_empty() {
        lines.push(Line::from(Span::styled("waiting on its ports", Style::new().add_modifier(Modifier::BOLD))));
        for (port, messages) in owned {
            let contents: Vec<String> = messages.iter().map(|&message| log.message_content(message)).collect();
            lines.push(Line::from(format!("  {}: {}", log.describe_object(*port), contents.join(", "))));
        }
    }
    let words: BTreeMap<_, _> = snapshot
        .signalled
        .iter()
        .filter(|(word, _)| {
            log.object_info(**word).and_then(|info| info.owner).map(|owner| owner.index) == Some(process.index)
        })
        .collect();
    for (word, bits) in words {
        lines.push(Line::from(format!("signalled into {}: {bits:#x}", log.describe_object(*word))));
    }
    let console = snapshot.console(process.index);
    if !console.is_empty() {
        lines.push(Line::from(Span::styled("console", Style::new().add_modifier(Modifier::BOLD))));
        for line in console.lines().rev().take(4).collect::<Vec<_>>().into_iter().rev() {
            lines.push(Line::from(format!("  │ {}", escape_controls(line))));
        }
    }
    lines.extend(services::inspector_lines(log, snapshot, process.index, in_kernel, false));
    let block = Block::bordered().title(format!(" inspector: {name} "));
    frame.render_widget(Paragraph::new(lines).block(block).wrap(Wrap { trim: false }), area);
}

fn draw_event_line(frame: &mut Frame, area: Rect, app: &App) {
    let text = match (&app.prompt, &app.notice) {
        (Some(prompt), _) => {
            let question = match prompt.kind {
                PromptKind::GoTo => "go to step",
                PromptKind::Filter => "filter by process or operation",
                PromptKind::Break => "break on (label TEXT | to NAME | block NAME | fault)",
            };
            format!("{question}: {}▏", escape_controls(&prompt.text))
        }
        (None, Some(notice)) => escape_controls(notice).into_owned(),
        (None, None) => match app.timeline().log.events().get(app.step) {
            Some(event) => format!("#{} {}", app.step, app.timeline().log.line(event).trim_start()),
            None => "no events".into(),
        },
    };
    frame.render_widget(Paragraph::new(text), area);
}

fn draw_status(frame: &mut Frame, area: Rect, app: &App, snapshot: &Snapshot) {
    let rate = SPEEDS[app.speed] * TICKS_PER_SECOND;
    let playing = if app.playing { format!("▶ {rate} ev/s") } else { format!("⏸ {rate} ev/s") };
    let breakpoints = match app.breakpoints.len() {
        0 => String::new(),
        count => format!(" · {count} break"),
    };
    let text = format!(
        " step {}/{} · t={} · {} · {} · {playing}{breakpoints} · ? help · q quit",
        app.step,
        app.timeline().len().saturating_sub(1),
        snapshot.time,
        app.run().mode,
        escape_controls(&app.run().profile),
    );
    frame.render_widget(Paragraph::new(text).style(Style::new().add_modifier(Modifier::REVERSED)), area);
}
