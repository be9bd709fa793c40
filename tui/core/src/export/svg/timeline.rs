//! The timeline picture (`mksim export --format timeline-svg`): who runs when. One lane per
//! process over virtual time, each stretch coloured by the process's state (running, ready,
//! blocked on another process, waiting for work) and, where it fits, labelled with what it
//! waits for (`reply ← fs`). A high-priority process blocked while a lower one runs shows as
//! red beside green: priority inversion at a glance. Faults, restarts, exits, priority changes
//! (inheritance), the end of boot and a kernel panic are marked where they happened.

use super::{Drawn, FONT, Rows, SvgError, drawn, grouped, legend_strip, shown};
use mksim_kernel::ProcessId;
use mksim_kernel::event::{BlockedOn, EventKind, EventLog};
use mksim_servers::system::Mode;
use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};
use std::collections::BTreeMap;

const WIDTH: u32 = 1100;
const LANE_HEIGHT: u32 = 30;
const TITLE_HEIGHT: u32 = 40;
const LEGEND_HEIGHT: u32 = 30;
/// Height beyond the lanes: the time axis, its label and margins.
const AXIS_EXTRA: u32 = 80;
/// The most stretches a picture draws: past this a run is too long to see in one picture,
/// and the file would grow with it.
pub const STRETCHES_MAX: usize = 20_000;

const RUNNING: RGBColor = RGBColor(0x2c, 0xa0, 0x2c);
const READY: RGBColor = RGBColor(0xff, 0xbf, 0x00);
const BLOCKED: RGBColor = RGBColor(0xd6, 0x27, 0x28);
const WAITING: RGBColor = RGBColor(0xc6, 0xdb, 0xef);
const MARK: RGBColor = RGBColor(0x40, 0x40, 0x40);

/// What a process is doing over a stretch of time.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum State {
    Running,
    /// Runnable, waiting for the processor.
    Ready,
    /// Waiting on something; the picture tells another process apart from work or time.
    Blocked(BlockedOn),
    /// Started, waiting for the servers to finish booting.
    AwaitingBoot,
}

impl State {
    fn colour(self) -> RGBColor {
        match self {
            State::Running => RUNNING,
            State::Ready => READY,
            State::Blocked(BlockedOn::Send(_) | BlockedOn::Reply(_)) => BLOCKED,
            State::Blocked(_) | State::AwaitingBoot => WAITING,
        }
    }

    /// The words written on a stretch wide enough to hold them.
    fn words(self, log: &EventLog) -> String {
        let owner = |object| log.object_info(object).and_then(|info| info.owner).map(|id| shown(log.process_name(id)));
        match self {
            State::Running => "running".to_owned(),
            State::Ready => "ready".to_owned(),
            State::AwaitingBoot => "boot".to_owned(),
            State::Blocked(on) => match on {
                BlockedOn::Send(port) => owner(port).map_or("send".to_owned(), |name| format!("send → {name}")),
                BlockedOn::Reply(server) => format!("reply ← {}", shown(log.process_name(server))),
                BlockedOn::Receive(_) => "receive".to_owned(),
                BlockedOn::Notification(_) => "notification".to_owned(),
                BlockedOn::Sleep(_) => "sleep".to_owned(),
                BlockedOn::Device(_) => "device".to_owned(),
                BlockedOn::Channel(_) => "channel".to_owned(),
            },
        }
    }
}

/// One process's lane: its stretches and marks in time order.
#[derive(Default)]
struct Lane {
    /// The priority it was spawned at, which its label shows.
    priority: Option<u8>,
    /// The priority it runs at now (inheritance may lend it another).
    current_priority: Option<u8>,
    stretches: Vec<(u64, u64, State)>,
    open: Option<(u64, State)>,
    marks: Vec<(u64, String)>,
}

impl Lane {
    /// Ends the open stretch at `time` and opens one in `state` (none: the process is gone).
    fn enter(&mut self, time: u64, state: Option<State>) {
        if let Some((start, previous)) = self.open.take() {
            match self.stretches.last_mut() {
                Some(last) if last.2 == previous && last.1 == start => last.1 = time,
                _ if time > start => self.stretches.push((start, time, previous)),
                _ => {}
            }
        }
        self.open = state.map(|state| (time, state));
    }

    fn state(&self) -> Option<State> {
        self.open.map(|(_, state)| state)
    }
}

/// The lanes of every process, and the marks that concern the whole system.
struct Timeline {
    lanes: BTreeMap<u32, (ProcessId, Lane)>,
    system_marks: Vec<(u64, String)>,
    end: u64,
}

fn read(log: &EventLog) -> Timeline {
    let mut lanes: BTreeMap<u32, (ProcessId, Lane)> = BTreeMap::new();
    let mut system_marks = Vec::new();
    let mut running: Option<ProcessId> = None;
    for event in log.events() {
        let (time, process) = (event.time, event.process);
        if let EventKind::BootDone = event.kind {
            system_marks.push((time, "boot done".to_owned()));
            // The boot's end lets every waiting program go, with no event of its own each.
            for (_, lane) in lanes.values_mut().filter(|(_, lane)| lane.state() == Some(State::AwaitingBoot)) {
                lane.enter(time, Some(State::Ready));
            }
        }
        if let EventKind::KernelPanicked { .. } = event.kind {
            system_marks.push((time, "kernel panic".to_owned()));
        }
        if process.is_kernel() {
            if let EventKind::Idle { .. } = event.kind {
                preempt(&mut lanes, running.take(), time);
            }
            continue;
        }
        if let EventKind::Switched { .. } = event.kind {
            if running != Some(process) {
                preempt(&mut lanes, running, time);
            }
            running = Some(process);
        }
        let lane = &mut lanes.entry(process.index).or_insert_with(|| (process, Lane::default())).1;
        match event.kind {
            EventKind::Spawned { priority } => {
                lane.priority = Some(priority.level());
                lane.current_priority = Some(priority.level());
                lane.enter(time, Some(State::Ready));
            }
            EventKind::Switched { .. } => lane.enter(time, Some(State::Running)),
            EventKind::Blocked { on } => lane.enter(time, Some(State::Blocked(on))),
            EventKind::AwaitingBoot => lane.enter(time, Some(State::AwaitingBoot)),
            EventKind::Woken { .. } => lane.enter(time, Some(State::Ready)),
            EventKind::Restarted => {
                lane.marks.push((time, "↻ restart".to_owned()));
                lane.enter(time, Some(State::Ready));
            }
            // Inheritance lends a server its caller's priority: the mark shows why it runs.
            // Short (`↑20`, `↓2`), as a raise and its return are often close together.
            EventKind::PriorityChanged { priority } => {
                let raised = lane.current_priority.is_none_or(|current| priority.level() > current);
                lane.marks.push((time, format!("{}{}", if raised { '↑' } else { '↓' }, priority.level())));
                lane.current_priority = Some(priority.level());
            }
            EventKind::FaultInjected { .. } => lane.marks.push((time, "⚡ fault injected".to_owned())),
            EventKind::Faulted { .. } => {
                lane.marks.push((time, "✕ faulted".to_owned()));
                lane.enter(time, None);
            }
            EventKind::Exited { code } => {
                lane.marks.push((time, format!("exit {code}")));
                lane.enter(time, None);
            }
            _ => {}
        }
        if matches!(event.kind, EventKind::Blocked { .. } | EventKind::Faulted { .. } | EventKind::Exited { .. })
            && running == Some(process)
        {
            running = None;
        }
    }
    let end = log.events().last().map_or(0, |event| event.time);
    for (_, lane) in lanes.values_mut() {
        lane.enter(end, None);
    }
    Timeline { lanes, system_marks, end }
}

/// The process that had the processor gives it up without blocking: it is ready again.
fn preempt(lanes: &mut BTreeMap<u32, (ProcessId, Lane)>, running: Option<ProcessId>, time: u64) {
    if let Some((_, lane)) = running.and_then(|process| lanes.get_mut(&process.index))
        && lane.state() == Some(State::Running)
    {
        lane.enter(time, Some(State::Ready));
    }
}

/// Who runs when in `log`, a run of `scenario` in `mode`, as an SVG picture.
///
/// # Errors
/// When the run changed state more than [`STRETCHES_MAX`] times (too long to draw), or
/// plotters cannot draw (it draws into memory, so in practice never).
pub fn timeline(log: &EventLog, scenario: &str, mode: Mode) -> Result<String, SvgError> {
    let timeline = read(log);
    let stretches: usize = timeline.lanes.values().map(|(_, lane)| lane.stretches.len()).sum();
    if stretches > STRETCHES_MAX {
        return Err(SvgError(format!(
            "the run changes state {stretches} times, and a timeline draws at most {STRETCHES_MAX}: \
             shorten the scenario (fewer rounds or smaller sizes)"
        )));
    }
    let lanes = timeline.lanes.len().max(1) as u32;
    let height = TITLE_HEIGHT + LEGEND_HEIGHT + AXIS_EXTRA + LANE_HEIGHT * lanes;
    let title = format!("{} ({} mode): who runs when", shown(scenario), mode.name());
    let mut text = String::new();
    {
        let root = SVGBackend::with_string(&mut text, (WIDTH, height)).into_drawing_area();
        drawn(root.fill(&WHITE).map_err(Into::into))?;
        let (head, body) = root.split_vertically(TITLE_HEIGHT + LEGEND_HEIGHT);
        let (title_area, legend_area) = head.split_vertically(TITLE_HEIGHT);
        drawn(title_area.titled(&title, (FONT, 20)).map(|_| ()).map_err(Into::into))?;
        let legend = [
            (RUNNING, "running"),
            (READY, "ready (waits for the processor)"),
            (BLOCKED, "blocked on another process (send, reply)"),
            (WAITING, "waiting for work (receive, notification, sleep, device)"),
        ];
        drawn(legend_strip(&legend_area, &legend))?;
        drawn(lanes_chart(&body, log, &timeline))?;
        drawn(root.present().map_err(Into::into))?;
    }
    Ok(text)
}

fn lanes_chart(area: &DrawingArea<SVGBackend<'_>, Shift>, log: &EventLog, timeline: &Timeline) -> Drawn {
    let names: Vec<String> = timeline
        .lanes
        .values()
        .map(|(id, lane)| match lane.priority {
            Some(priority) => format!("{} (priority {priority})", shown(log.process_name(*id))),
            None => shown(log.process_name(*id)),
        })
        .collect();
    let label_width = names.iter().map(|name| name.chars().count()).max().unwrap_or(8) as u32 * 8 + 24;
    // Headroom above the lanes for the words of the marks that concern every process.
    let axis = Rows { names, headroom: 0.7 };
    let count = axis.count();
    let axis_headroom = axis.headroom;
    let centres: Vec<f64> = (0..axis.names.len()).map(|index| axis.centre(index)).collect();
    let end = timeline.end.max(1) as f64;
    let mut chart = ChartBuilder::on(area)
        .margin(12)
        .x_label_area_size(40)
        .y_label_area_size(label_width)
        .build_cartesian_2d(0.0..end, axis)?;
    chart
        .configure_mesh()
        .disable_y_mesh()
        .x_desc("virtual time (cycles)")
        .y_desc("process")
        .x_label_formatter(&|x| grouped(*x))
        .label_style((FONT, 13))
        .axis_desc_style((FONT, 14))
        .draw()?;
    let plot_width = f64::from(chart.plotting_area().dim_in_pixel().0);
    let pixels_per_cycle = plot_width / end;
    let small = (FONT, 11).into_font().color(&BLACK);
    for ((_, lane), centre) in timeline.lanes.values().zip(&centres) {
        let (bottom, top) = (centre - 0.36, centre + 0.36);
        for &(start, stop, state) in &lane.stretches {
            let rectangle = Rectangle::new([(start as f64, bottom), (stop as f64, top)], state.colour().filled());
            chart.plotting_area().draw(&rectangle)?;
            let words = state.words(log);
            // Written only where it fits, at about 6.5 pixels a character.
            if state != State::Running
                && (stop - start) as f64 * pixels_per_cycle > 6.5 * words.chars().count() as f64 + 6.0
            {
                let label = Text::new(words, (3, -6), small.clone());
                chart.plotting_area().draw(&(EmptyElement::at((start as f64, *centre)) + label))?;
            }
        }
        for (time, words) in &lane.marks {
            let at = (*time as f64, top);
            let mark = PathElement::new(vec![(*time as f64, bottom), at], MARK.stroke_width(2));
            chart.plotting_area().draw(&mark)?;
            // Near the right edge the words go left of the mark, so they are not cut off.
            let (offset, style) = if *time as f64 > 0.8 * end {
                (-3, small.clone().pos(Pos::new(HPos::Right, VPos::Top)))
            } else {
                (3, small.clone())
            };
            let label = Text::new(words.clone(), (offset, -2), style);
            chart.plotting_area().draw(&(EmptyElement::at(at) + label))?;
        }
    }
    let bold = (FONT, 12).into_font().color(&BLACK);
    for (time, words) in &timeline.system_marks {
        let top = count + axis_headroom;
        let line = PathElement::new(vec![(*time as f64, 0.0), (*time as f64, top)], BLACK.stroke_width(1));
        chart.plotting_area().draw(&line)?;
        let label = Text::new(words.clone(), (3, 2), bold.clone());
        chart.plotting_area().draw(&(EmptyElement::at((*time as f64, top)) + label))?;
    }
    Ok(())
}
