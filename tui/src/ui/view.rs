//! Drawing the UI from the app state. Nothing here changes the state.
//!
//! Every mark has its own glyph, so the screen reads without colour (for
//! projectors and screen readers); colour, where the terminal has it and
//! `NO_COLOR` is not set, only repeats what the glyphs say.

use super::app::{App, PromptKind, SPEEDS};
use super::services;
use super::timeline::{Activity, FlowRow, RowKind, Snapshot};
use crate::run::OperationStats;
use mksim_kernel::message::MessageKind;
use mksim_kernel::{ProcessId, escape_controls};
use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::{Color, Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Cell, Clear, Paragraph, Row, Table, Wrap};
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
    if app.help {
        draw_help(frame, area);
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
    let mut lines = vec![lane_header(app, &lanes, spacing, time_width)];
    let current = app.timeline().row_at(app.step);
    for &row_index in &rows {
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

fn lane_header(app: &App, lanes: &[Option<u32>], spacing: usize, time_width: usize) -> Line<'static> {
    let mut header = " ".repeat(time_width);
    for &lane in lanes {
        let name: String = name_of(app, lane).chars().take(spacing.saturating_sub(1)).collect();
        header.push_str(&format!("{name:^spacing$}"));
    }
    Line::from(Span::styled(header, Style::new().add_modifier(Modifier::BOLD)))
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
    let (label_start, label_end) = match (centre(row.from), centre(row.to)) {
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
            (low + 2, high.saturating_sub(1))
        }
        (Some(a), _) | (None, Some(a)) => {
            put(a, right_head);
            // A mark on a lane near the right edge gets its words on the left of the lane.
            let wanted = text.chars().count() + 2;
            if width.saturating_sub(a + 2) < wanted && a > width / 2 {
                (a.saturating_sub(wanted + 1), a)
            } else {
                (a + 2, width)
            }
        }
        (None, None) => (1, width),
    };
    let room = label_end.saturating_sub(label_start);
    let label = fit(&format!(" {text} "), room);
    let offset = label_start + room.saturating_sub(label.chars().count()) / 2;
    for (at, letter) in label.chars().enumerate() {
        put(offset + at, letter);
    }
    cells
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

/// `text` cut to `room` characters, ending in `…` when something was cut.
fn fit(text: &str, room: usize) -> String {
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
    let widths = [
        Constraint::Length(9),
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

fn bar(value: f64, most: f64, width: usize) -> String {
    let filled = if most > 0.0 { ((value / most) * width as f64).round() as usize } else { 0 };
    "█".repeat(filled.min(width))
}

fn draw_compare(frame: &mut Frame, area: Rect, app: &App) {
    let (Some(micro), Some(mono)) = (app.runs.first(), app.runs.get(1)) else {
        let block = Block::bordered().title(" compare ");
        frame.render_widget(Paragraph::new("only one mode was run").block(block), area);
        return;
    };
    let title = format!(
        " compare: {} (μ, {}) against {} (M, {}) · ↑↓ scroll ",
        micro.mode,
        escape_controls(&micro.profile),
        mono.mode,
        escape_controls(&mono.profile)
    );
    let block = Block::bordered().title(title);
    let bold = Style::new().add_modifier(Modifier::BOLD);
    let (a, b) = (&micro.report.metrics, &mono.report.metrics);
    // A run that did not complete did other work than one that did: no ratios, and why.
    let ended_early = crate::report::ended_early(&micro.report, &mono.report);
    let comparable = ended_early.is_empty();
    let ratio = |x: f64, y: f64| match (x, y) {
        _ if !comparable => String::new(),
        (_, y) if y > 0.0 => format!("{:.1}×", x / y),
        (x, _) if x > 0.0 => "∞".to_owned(),
        _ => "=".to_owned(),
    };
    let ratio_title = if comparable { "ratio" } else { "" };
    let mut lines = Vec::new();
    for (index, clause) in ended_early.iter().enumerate() {
        let lead = if index == 0 { "not comparable: " } else { "                " };
        lines.push(Line::from(Span::styled(format!("{lead}{clause}"), bold)));
    }
    let (boot_micro, boot_mono) = (micro.report.boot.cycles, mono.report.boot.cycles);
    lines.push(Line::from(format!("{:<18}{boot_micro:>12}{boot_mono:>12}", "boot cycles")));
    let header = format!("{:<18}{:>12}{:>12}{ratio_title:>8}", "after boot", "μ", "M");
    lines.push(Line::from(Span::styled(header, bold)));
    for (name, x, y) in [
        ("messages", a.messages, b.messages),
        ("context switches", a.context_switches, b.context_switches),
        ("syscalls", a.syscalls, b.syscalls),
        ("cycles", a.cycles, b.cycles),
    ] {
        lines.push(Line::from(format!("{name:<18}{x:>12}{y:>12}{:>8}", ratio(x as f64, y as f64))));
    }
    let operations: BTreeSet<&String> =
        micro.report.per_operation.keys().chain(mono.report.per_operation.keys()).collect();
    if operations.is_empty() {
        lines.push(Line::from("no client-stub operations here: the programs use raw IPC only"));
        frame.render_widget(Paragraph::new(lines).block(block), area);
        return;
    }
    // Name, count, two figures, ratio and the message and switch averages take 67 columns.
    let bar_width = ((area.width as usize).saturating_sub(69) / 2).clamp(3, 30);
    lines.push(Line::from(Span::styled(
        format!(
            "{:<13}{:>5}  {:<w$} {:>8}  {:<w$} {:>8} {:>6}  msgs μ/M  sw μ/M",
            "operation",
            "count",
            "",
            "μ cycles",
            "",
            "M cycles",
            ratio_title,
            w = bar_width
        ),
        bold,
    )));
    let empty = OperationStats::default();
    let average =
        |stats: &OperationStats, total: u64| if stats.count == 0 { 0.0 } else { total as f64 / stats.count as f64 };
    let mut rows = Vec::new();
    for name in operations {
        let x = micro.report.per_operation.get(name).unwrap_or(&empty);
        let y = mono.report.per_operation.get(name).unwrap_or(&empty);
        let (cx, cy) = (average(x, x.cycles), average(y, y.cycles));
        // Each operation's bars are scaled to its slower mode, so the two modes compare at a glance.
        let most = cx.max(cy);
        rows.push(Line::from(format!(
            "{:<13}{:>5}  {:<w$} {cx:>8.0}  {:<w$} {cy:>8.0} {:>6}  {:>4.1}/{:<4.1} {:>3.1}/{:.1}",
            fit(name, 13),
            x.count.max(y.count),
            bar(cx, most, bar_width),
            bar(cy, most, bar_width),
            if !comparable || (y.count > 0 && x.count > 0) { ratio(cx, cy) } else { "-".to_owned() },
            average(x, x.messages),
            average(y, y.messages),
            average(x, x.context_switches),
            average(y, y.context_switches),
            w = bar_width
        )));
    }
    let room = (area.height as usize).saturating_sub(2 + lines.len());
    let scroll = app.compare_scroll.min(rows.len().saturating_sub(room));
    let hidden_after = rows.len().saturating_sub(scroll + room);
    let mut shown: Vec<Line> = rows.into_iter().skip(scroll).take(room).collect();
    if hidden_after > 0
        && let Some(last) = shown.last_mut()
    {
        *last = Line::from(format!("  … {} more: ↓ to scroll", hidden_after + 1));
    }
    lines.extend(shown);
    frame.render_widget(Paragraph::new(lines).block(block), area);
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
    let playing =
        if app.playing { format!("▶ ×{}", SPEEDS[app.speed]) } else { format!("⏸ ×{}", SPEEDS[app.speed]) };
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

/// Every key, as the help overlay lists them.
pub const KEYS: [(&str, &str); 18] = [
    ("n  →", "next event"),
    ("p  ←", "previous event"),
    ("N  ]  PgDn", "next message"),
    ("P  [  PgUp", "previous message"),
    ("space", "run / pause"),
    ("+  -", "faster / slower"),
    ("g  G", "start / end"),
    (":", "go to step N"),
    ("/", "filter by process or operation (Esc clears)"),
    ("b", "breakpoint: label TEXT | to NAME | block NAME | fault"),
    ("B", "clear breakpoints"),
    (">", "run to the next breakpoint"),
    ("↑ ↓  j k  Tab", "select a process (scroll the compare pane)"),
    ("i  Enter", "inspector / process table (narrow terminals)"),
    ("c", "compare with monolithic mode"),
    ("m", "show the other mode's run"),
    ("?", "this help (any key closes it)"),
    ("q", "quit"),
];

fn draw_help(frame: &mut Frame, area: Rect) {
    let width = area.width.min(82);
    // The keys, then one line of legend: the glyphs that mark the services' traffic.
    let height = area.height.min(KEYS.len() as u16 + 3);
    let popup = Rect { x: area.x + (area.width - width) / 2, y: area.y + (area.height - height) / 2, width, height };
    let room = width.saturating_sub(2) as usize;
    let mut lines: Vec<Line> =
        KEYS.iter().map(|(keys, what)| Line::from(fit(&format!(" {keys:<15} {what}"), room))).collect();
    let legend: Vec<String> = services::LEGEND.iter().map(|(glyph, what)| format!("{glyph} {what}")).collect();
    lines.push(Line::from(fit(&format!(" {:<15} {}", "on the flow", legend.join(" · ")), room)));
    frame.render_widget(Clear, popup);
    frame.render_widget(Paragraph::new(lines).block(Block::bordered().title(" keys ")), popup);
}
