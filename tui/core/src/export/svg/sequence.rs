//! The sequence diagram picture (`mksim export --format svg`): a column per participant, one
//! row per thing that happened, top to bottom in log order, with the time in cycles at the
//! left. Calls and sends are solid arrows, replies dashed, asynchronous messages, signals and
//! interrupts open-headed arrows; a dropped message ends in a cross. In monolithic mode a
//! service call goes to the `kernel` column and comes back with its result. Faults, restarts
//! and exits are marked on their column; the end of the boot and a kernel panic cross every
//! column.
//!
//! Participants come clients first, then servers, each in order of first appearance, then
//! the kernel, then ports nobody owns, so arrows from the clients run one way.

use super::{Drawn, FONT, SvgError, drawn, grouped, legend_strip, shown};
use crate::export::{Fate, drop_reason_name, message_fates, owner};
use crate::run::RunReport;
use mksim_kernel::ProcessId;
use mksim_kernel::event::{Event, EventKind, EventLog};
use mksim_kernel::message::{MessageId, MessageKind};
use mksim_kernel::syscall::SyscallKind;
use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};
use std::collections::BTreeMap;

/// The most rows one diagram draws: past this, choose a window or a process.
pub const ROWS_MAX: usize = 600;
const COLUMN_WIDTH: i32 = 180;
const TIME_WIDTH: i32 = 90;
const ROW_HEIGHT: i32 = 26;
const TITLE_HEIGHT: i32 = 40;
const LEGEND_HEIGHT: i32 = 30;
const HEADER_HEIGHT: i32 = 40;
const MESSAGE: RGBColor = RGBColor(0x20, 0x20, 0x20);
const SIGNAL: RGBColor = RGBColor(0x94, 0x67, 0xbd);
const FAULT: RGBColor = RGBColor(0xd6, 0x27, 0x28);
const RESTART: RGBColor = RGBColor(0x2c, 0xa0, 0x2c);
const QUIET: RGBColor = RGBColor(0x80, 0x80, 0x80);

/// Which part of a run to draw.
#[derive(Clone, Debug, Default)]
pub struct Window {
    /// The first event drawn, by position in the log (as JSON Lines' `seq`).
    pub from: Option<usize>,
    /// The last event drawn.
    pub to: Option<usize>,
    /// Only what this process sends, receives or suffers (and what crosses every column).
    pub process: Option<String>,
}

use crate::export::party::{Party, party};

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Line {
    Solid,
    Dashed,
    /// Open head: nobody waits for it.
    Open,
    /// Ends in a cross: it never arrived.
    Dropped,
}

/// One row of the diagram.
enum Row {
    Arrow { from: Party, to: Party, line: Line, colour: RGBColor, text: String },
    Mark { on: Party, colour: RGBColor, text: String },
    Across { colour: RGBColor, text: String },
}

struct Item {
    seq: usize,
    time: u64,
    row: Row,
}

/// The rows of `log`, in log order.
fn items(log: &EventLog) -> Vec<Item> {
    let fates = message_fates(log);
    let mut items = Vec::new();
    // Processes inside a kernel service (monolithic mode), whose return is still to draw.
    // The service call each process is in, by process index.
    let mut in_service: BTreeMap<u32, MessageId> = BTreeMap::new();
    for (seq, event) in log.events().iter().enumerate() {
        if let Some(row) = row(log, &fates, event, &mut in_service) {
            items.push(Item { seq, time: event.time, row });
        }
    }
    items
}

fn row(log: &EventLog, fates: &[Fate], event: &Event, in_service: &mut BTreeMap<u32, MessageId>) -> Option<Row> {
    let process = party(event.process);
    let text = || shown(&log.describe(event));
    Some(match event.kind {
        EventKind::MessageSent { message } => message_row(log, fates, message),
        EventKind::ServiceCalled { message } => {
            in_service.insert(event.process.index, message);
            let text = shown(&log.message_content(message));
            Row::Arrow { from: process, to: Party::Kernel, line: Line::Solid, colour: MESSAGE, text }
        }
        EventKind::Woken { call, error } | EventKind::SyscallReturned { call, error }
            if matches!(call, SyscallKind::KernelService | SyscallKind::KernelResume)
                && in_service.contains_key(&event.process.index) =>
        {
            let message = in_service.remove(&event.process.index);
            // What the module answered, as its server would have (`fs.open → fd 3`).
            let answer = message.and_then(|message| log.service_answer(message)).map(|answer| shown(&answer));
            let text = match (error, answer) {
                (Some(error), _) => format!("fails: {error}"),
                (None, Some(answer)) => answer,
                (None, None) => "returns".to_owned(),
            };
            Row::Arrow { from: Party::Kernel, to: process, line: Line::Dashed, colour: MESSAGE, text }
        }
        EventKind::Signalled { notification, bits } => {
            let to = owner(log, notification).map_or(Party::Object(notification), party);
            let text = format!("signal bits {:#x}", log.bits(bits));
            Row::Arrow { from: process, to, line: Line::Open, colour: SIGNAL, text }
        }
        EventKind::Interrupt { notification, bits } => {
            let to = owner(log, notification).map_or(Party::Object(notification), party);
            let text = format!("interrupt bits {:#x}", log.bits(bits));
            Row::Arrow { from: Party::Kernel, to, line: Line::Open, colour: SIGNAL, text }
        }
        EventKind::FaultInjected { .. } | EventKind::Faulted { .. } => {
            Row::Mark { on: process, colour: FAULT, text: text() }
        }
        EventKind::Restarted => Row::Mark { on: process, colour: RESTART, text: "↻ restarted".to_owned() },
        EventKind::Exited { code } => Row::Mark { on: process, colour: QUIET, text: format!("exit {code}") },
        EventKind::KernelPanicked { .. } => Row::Across { colour: FAULT, text: text() },
        EventKind::BootDone => {
            Row::Across { colour: QUIET, text: format!("end of boot (t={})", grouped(event.time as f64)) }
        }
        _ => return None,
    })
}

fn message_row(log: &EventLog, fates: &[Fate], message: MessageId) -> Row {
    let record = *log.message(message);
    let fate = fates[message.0 as usize];
    let to = match fate {
        Fate::Delivered { receiver } => party(receiver),
        Fate::Pending | Fate::Dropped { .. } => log.receiver_of(message).map_or(Party::Object(record.port), party),
    };
    let line = match (fate, record.kind) {
        (Fate::Dropped { .. }, _) => Line::Dropped,
        (_, MessageKind::Reply) => Line::Dashed,
        (_, MessageKind::Async) => Line::Open,
        (_, MessageKind::Send | MessageKind::Call | MessageKind::Service) => Line::Solid,
    };
    let mut text = log.message_content(message);
    match fate {
        Fate::Dropped { reason } => {
            text.push_str(&format!(" (dropped: {})", drop_reason_name(reason).replace('_', " ")))
        }
        Fate::Pending => text.push_str(" (never delivered)"),
        Fate::Delivered { .. } => {}
    }
    Row::Arrow { from: party(record.sender), to, line, colour: MESSAGE, text: shown(&text) }
}

fn involves(row: &Row, process: Party) -> bool {
    match row {
        Row::Arrow { from, to, .. } => *from == process || *to == process,
        Row::Mark { on, .. } => *on == process,
        Row::Across { .. } => true,
    }
}

/// One mode's diagram, ready to draw: its rows and its columns in order.
struct Diagram<'a> {
    log: &'a EventLog,
    heading: String,
    items: Vec<Item>,
    columns: Vec<Party>,
}

fn diagram<'a>(report: &'a RunReport, window: &Window) -> Result<Diagram<'a>, SvgError> {
    let log = &report.log;
    let mut items = items(log);
    items.retain(|item| window.from.is_none_or(|from| item.seq >= from) && window.to.is_none_or(|to| item.seq <= to));
    if let Some(name) = &window.process {
        let index = report.processes.iter().position(|process| process.name == *name).ok_or_else(|| {
            let names: Vec<&str> = report.processes.iter().map(|process| process.name.as_str()).collect();
            SvgError(format!("--filter {}: no such process (there are: {})", shown(name), names.join(", ")))
        })?;
        items.retain(|item| involves(&item.row, Party::Process(index as u32)));
    }
    if items.len() > ROWS_MAX {
        return Err(SvgError(format!(
            "{} rows to draw, and a diagram draws at most {ROWS_MAX}: choose a part with --from and --to \
             (event positions), or one process with --filter",
            items.len()
        )));
    }
    let is_server = |index: u32| report.processes.get(index as usize).is_some_and(|process| process.server);
    let mut seen: Vec<Party> = Vec::new();
    for item in &items {
        let parties = match item.row {
            Row::Arrow { from, to, .. } => vec![from, to],
            Row::Mark { on, .. } => vec![on],
            Row::Across { .. } => vec![],
        };
        for party in parties {
            if !seen.contains(&party) {
                seen.push(party);
            }
        }
    }
    let rank = |party: &Party| match party {
        Party::Process(index) if !is_server(*index) => 0,
        Party::Process(_) => 1,
        Party::Kernel => 2,
        Party::Object(_) => 3,
    };
    // A stable sort keeps the order of first appearance within each rank.
    seen.sort_by_key(rank);
    let heading = format!("{} mode", report.mode.name());
    Ok(Diagram { log, heading, items, columns: seen })
}

/// `report`'s run as a sequence diagram, or both runs side by side when `other` is given.
///
/// # Errors
/// A process named in `window` that the run does not have, more than [`ROWS_MAX`] rows, or
/// plotters failing to draw (into memory, so in practice never).
pub fn sequence(
    report: &RunReport,
    other: Option<&RunReport>,
    scenario: &str,
    window: &Window,
) -> Result<String, SvgError> {
    let mut diagrams = vec![diagram(report, window)?];
    if let Some(other) = other {
        diagrams.push(diagram(other, window)?);
    }
    let widths: Vec<i32> =
        diagrams.iter().map(|diagram| TIME_WIDTH + COLUMN_WIDTH * diagram.columns.len().max(2) as i32 + 20).collect();
    let rows = diagrams.iter().map(|diagram| diagram.items.len()).max().unwrap_or(0) as i32;
    let width = widths.iter().sum::<i32>().max(760);
    let height = TITLE_HEIGHT + LEGEND_HEIGHT + HEADER_HEIGHT * 2 + ROW_HEIGHT * (rows + 1);
    let title = match other {
        Some(_) => format!("{}: the messages of both modes", shown(scenario)),
        None => format!("{} ({} mode): messages in order", shown(scenario), report.mode.name()),
    };
    let mut text = String::new();
    {
        let root = SVGBackend::with_string(&mut text, (width as u32, height as u32)).into_drawing_area();
        drawn(root.fill(&WHITE).map_err(Into::into))?;
        let (head, body) = root.split_vertically(TITLE_HEIGHT + LEGEND_HEIGHT);
        let (title_area, legend_area) = head.split_vertically(TITLE_HEIGHT);
        drawn(title_area.titled(&title, (FONT, 20)).map(|_| ()).map_err(Into::into))?;
        let legend = [
            (MESSAGE, "call, send (solid), reply (dashed), async (open head), dropped (cross)"),
            (SIGNAL, "signal, interrupt"),
            (FAULT, "fault, kernel panic"),
            (RESTART, "restart"),
        ];
        drawn(legend_strip(&legend_area, &legend))?;
        let areas = if diagrams.len() == 2 {
            let (left, right) = body.split_horizontally(widths[0]);
            vec![left, right]
        } else {
            vec![body]
        };
        for ((diagram, width), area) in diagrams.iter().zip(&widths).zip(&areas) {
            drawn(draw(area, diagram, *width))?;
        }
        drawn(root.present().map_err(Into::into))?;
    }
    Ok(text)
}

fn column_x(index: usize) -> i32 {
    TIME_WIDTH + COLUMN_WIDTH * index as i32 + COLUMN_WIDTH / 2
}

fn draw(area: &DrawingArea<SVGBackend<'_>, Shift>, diagram: &Diagram<'_>, width: i32) -> Drawn {
    let x_of: BTreeMap<Party, i32> =
        diagram.columns.iter().enumerate().map(|(index, party)| (*party, column_x(index))).collect();
    let bottom = HEADER_HEIGHT * 2 + ROW_HEIGHT * (diagram.items.len() as i32 + 1);
    let heading = (FONT, 15).into_font().color(&BLACK).pos(Pos::new(HPos::Center, VPos::Top));
    area.draw(&Text::new(diagram.heading.clone(), (width / 2, 4), heading))?;
    let name_style = (FONT, 13).into_font().color(&BLACK).pos(Pos::new(HPos::Center, VPos::Center));
    let time_style = (FONT, 11).into_font().color(&QUIET).pos(Pos::new(HPos::Right, VPos::Center));
    area.draw(&Text::new("time (cycles)", (TIME_WIDTH - 8, HEADER_HEIGHT + 20), time_style.clone()))?;
    for party in &diagram.columns {
        let x = &x_of[party];
        let name = party_name(diagram.log, *party);
        let top = HEADER_HEIGHT + 6;
        area.draw(&Rectangle::new([(x - 80, top), (x + 80, top + 28)], RGBColor(0xee, 0xee, 0xee).filled()))?;
        area.draw(&Rectangle::new([(x - 80, top), (x + 80, top + 28)], QUIET.stroke_width(1)))?;
        area.draw(&Text::new(clip(&name, 22), (*x, top + 14), name_style.clone()))?;
        area.draw(&PathElement::new(vec![(*x, top + 28), (*x, bottom)], QUIET.stroke_width(1)))?;
    }
    let label = (FONT, 11).into_font().color(&BLACK).pos(Pos::new(HPos::Center, VPos::Bottom));
    for (index, item) in diagram.items.iter().enumerate() {
        let y = HEADER_HEIGHT * 2 + ROW_HEIGHT * (index as i32 + 1);
        area.draw(&Text::new(grouped(item.time as f64), (TIME_WIDTH - 8, y), time_style.clone()))?;
        match &item.row {
            Row::Arrow { from, to, line, colour, text } => {
                let (start, end) = (x_of[from], x_of[to]);
                arrow(area, start, end, y, *line, *colour)?;
                let span = ((end - start).abs() / 7).max(24) as usize;
                let middle = if start == end { start + 40 } else { (start + end) / 2 };
                area.draw(&Text::new(clip(text, span), (middle, y - 3), label.clone().color(colour)))?;
            }
            Row::Mark { on, colour, text } => {
                let x = x_of[on];
                area.draw(&Rectangle::new([(x - 6, y - 6), (x + 6, y + 6)], colour.filled()))?;
                let style = (FONT, 11).into_font().color(colour).pos(Pos::new(HPos::Left, VPos::Center));
                area.draw(&Text::new(clip(text, 40), (x + 10, y), style))?;
            }
            Row::Across { colour, text } => {
                area.draw(&PathElement::new(vec![(TIME_WIDTH, y), (width - 10, y)], colour.stroke_width(2)))?;
                let style = (FONT, 12).into_font().color(colour).pos(Pos::new(HPos::Left, VPos::Bottom));
                area.draw(&Text::new(clip(text, 90), (TIME_WIDTH + 6, y - 3), style))?;
            }
        }
    }
    Ok(())
}

/// One arrow from column `start` to `end` at height `y`; to itself it is a loop to the right.
fn arrow(
    area: &DrawingArea<SVGBackend<'_>, Shift>,
    start: i32,
    end: i32,
    y: i32,
    line: Line,
    colour: RGBColor,
) -> Drawn {
    let points = if start == end {
        vec![(start, y - 6), (start + 30, y - 6), (start + 30, y + 6), (end, y + 6)]
    } else {
        vec![(start, y), (end, y)]
    };
    let tip = *points.last().expect("an arrow has points");
    let before = points[points.len() - 2];
    let direction = if tip.0 >= before.0 { 1 } else { -1 };
    let style = colour.stroke_width(if line == Line::Dashed { 1 } else { 2 });
    if line == Line::Dashed {
        for pair in points.windows(2) {
            dashes(area, pair[0], pair[1], style)?;
        }
    } else {
        area.draw(&PathElement::new(points.clone(), style))?;
    }
    let back = (tip.0 - 9 * direction, tip.1);
    match line {
        Line::Solid | Line::Dashed => {
            let head = vec![tip, (back.0, tip.1 - 5), (back.0, tip.1 + 5)];
            area.draw(&Polygon::new(head, colour.filled()))?;
        }
        Line::Open => {
            area.draw(&PathElement::new(vec![(back.0, tip.1 - 5), tip, (back.0, tip.1 + 5)], style))?;
        }
        Line::Dropped => {
            let cross = |dx: i32, dy: i32| {
                PathElement::new(vec![(tip.0 - dx, tip.1 - dy), (tip.0 + dx, tip.1 + dy)], FAULT.stroke_width(2))
            };
            area.draw(&cross(5, 5))?;
            area.draw(&cross(5, -5))?;
        }
    }
    Ok(())
}

/// A dashed straight line: dashes of 6 pixels, gaps of 4.
fn dashes(area: &DrawingArea<SVGBackend<'_>, Shift>, from: (i32, i32), to: (i32, i32), style: ShapeStyle) -> Drawn {
    let length = f64::from((to.0 - from.0).pow(2) + (to.1 - from.1).pow(2)).sqrt();
    let steps = (length / 10.0).ceil().max(1.0) as i32;
    let at = |share: f64| {
        (from.0 + (f64::from(to.0 - from.0) * share) as i32, from.1 + (f64::from(to.1 - from.1) * share) as i32)
    };
    for step in 0..steps {
        let start = f64::from(step) / f64::from(steps);
        let end = (start + 0.6 / f64::from(steps)).min(1.0);
        area.draw(&PathElement::new(vec![at(start), at(end)], style))?;
    }
    Ok(())
}

fn party_name(log: &EventLog, party: Party) -> String {
    match party {
        // A process may be called `kernel`; the kernel's own column is never confused with it.
        Party::Process(index) => match shown(log.process_name(ProcessId { index, generation: 0 })) {
            name if name == "kernel" => "kernel (process)".to_owned(),
            name => name,
        },
        Party::Kernel => "kernel".to_owned(),
        Party::Object(object) => shown(&log.describe_object(object)),
    }
}

/// `text` cut to `characters`, with an ellipsis when it was longer.
fn clip(text: &str, characters: usize) -> String {
    if text.chars().count() <= characters {
        return text.to_owned();
    }
    let mut clipped: String = text.chars().take(characters.saturating_sub(1)).collect();
    clipped.push('…');
    clipped
}
