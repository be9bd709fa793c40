//! What the UI shows of the pipe, message-queue and socket services: the glyph that marks
//! their traffic on the message flow (a service's requests and replies in microkernel mode,
//! its calls into the kernel in monolithic mode), the legend of those glyphs, and the
//! inspector's view of what each service holds at the current step.
//!
//! The state comes from the summaries the services leave in the log after each request that
//! changed it (see `mksim_userland::service_state`), the latest at or before the step, so it
//! is the same whichever way the user arrived at the step, and alike in both modes.

use super::timeline::{FlowRow, RowKind, Snapshot, Timeline};
use mksim_kernel::ProcessId;
use mksim_kernel::escape_controls;
use mksim_kernel::event::{EventKind, EventLog};
use mksim_kernel::fault::ServiceModule;
use mksim_userland::protocol::Service;
use mksim_userland::service_state::{ConnectionSummary, PipeSummary, QueueSummary, ServiceSummary, SocketsSummary};
use ratatui::style::{Modifier, Style};
use ratatui::text::{Line, Span};

/// Each service's glyph, and what it stands for, as the help's legend lists them.
pub const LEGEND: [(char, &str); 3] = [(PIPE_GLYPH, "pipe"), (QUEUE_GLYPH, "message queue"), (SOCKET_GLYPH, "socket")];

const PIPE_GLYPH: char = '‖';
const QUEUE_GLYPH: char = '≡';
const SOCKET_GLYPH: char = '⇄';

/// Cells of a pipe's fill bar.
const FILL_CELLS: u32 = 10;

/// The glyph of a service that has one.
fn glyph(service: Service) -> Option<char> {
    match service {
        Service::Pipe => Some(PIPE_GLYPH),
        Service::MessageQueue => Some(QUEUE_GLYPH),
        Service::Socket => Some(SOCKET_GLYPH),
        Service::Name | Service::Fs | Service::Console | Service::Block | Service::Timer | Service::Supervisor => None,
    }
}

/// The glyph of the service whose request or reply a flow row shows, if it has one.
pub fn row_glyph(timeline: &Timeline, row: &FlowRow) -> Option<char> {
    let event = timeline.log.events().get(row.event as usize)?;
    let message = match (row.kind, event.kind) {
        (RowKind::Message(_), EventKind::MessageSent { message } | EventKind::ServiceCalled { message })
        | (RowKind::Dropped, EventKind::MessageDropped { message, .. }) => message,
        _ => return None,
    };
    glyph(Service::from_label(timeline.log.message(message).label)?)
}

/// A flow row's words, led by its service's glyph when it has one: `‖ pipe.write(fd=3, 9 B)`.
pub fn tagged(timeline: &Timeline, row: &FlowRow, text: String) -> String {
    match row_glyph(timeline, row) {
        Some(glyph) => format!("{glyph} {text}"),
        None => text,
    }
}

fn heading(text: String) -> Line<'static> {
    Line::from(Span::styled(text, Style::new().add_modifier(Modifier::BOLD)))
}

/// The inspector's lines for the services' state at the step: the selected process's own
/// service first when it is that service's server (then `own` is true), the others after.
pub fn inspector_lines(
    log: &EventLog,
    snapshot: &Snapshot,
    selected: u32,
    in_kernel: bool,
    own: bool,
) -> Vec<Line<'static>> {
    let mut lines = Vec::new();
    for (module, reporter, state) in snapshot.service_states() {
        let is_own = !in_kernel && reporter == selected;
        if is_own != own {
            continue;
        }
        let Some(summary) = ServiceSummary::decode(module, log.service_state(state)) else { continue };
        let place = if in_kernel {
            "in the kernel".to_owned()
        } else {
            format!("held by {}", log.display_name(ProcessId { index: reporter, generation: 0 }))
        };
        lines.push(heading(format!("{} ({place})", title(module))));
        summary_lines(&summary, &mut lines);
    }
    lines
}

fn title(module: ServiceModule) -> &'static str {
    match module {
        ServiceModule::Pipe => "‖ pipes",
        ServiceModule::MessageQueue => "≡ message queues",
        ServiceModule::Socket => "⇄ sockets",
        _ => module.name(),
    }
}

fn summary_lines(summary: &ServiceSummary, lines: &mut Vec<Line<'static>>) {
    let more = match summary {
        ServiceSummary::Pipes(pipes) => {
            lines.extend(pipes.pipes.iter().map(pipe_line));
            if pipes.pipes.is_empty() && pipes.more == 0 {
                lines.push(Line::from("  none"));
            }
            pipes.more
        }
        ServiceSummary::Queues(queues) => {
            for queue in &queues.queues {
                queue_lines(queue, lines);
            }
            if queues.queues.is_empty() && queues.more == 0 {
                lines.push(Line::from("  none"));
            }
            queues.more
        }
        ServiceSummary::Sockets(sockets) => {
            socket_lines(sockets, lines);
            sockets.more
        }
    };
    if more > 0 {
        lines.push(Line::from(format!("  … and {more} more")));
    }
}

/// `#0 [███░░░░░░░] 300/1024 B · 1 reader, 1 writer`: a bar shows the fill without colour.
fn pipe_line(pipe: &PipeSummary) -> Line<'static> {
    let capacity = pipe.capacity.max(1);
    // Any byte shows as at least one cell, so a pipe that is not empty never looks empty.
    let filled = (u64::from(pipe.buffered) * u64::from(FILL_CELLS))
        .div_ceil(u64::from(capacity))
        .min(u64::from(FILL_CELLS)) as usize;
    let bar = format!("{}{}", "█".repeat(filled), "░".repeat(FILL_CELLS as usize - filled));
    let ends = |count: u32, one: &str| format!("{count} {one}{}", if count == 1 { "" } else { "s" });
    Line::from(format!(
        "  #{} [{bar}] {}/{} B · {}, {}",
        pipe.id,
        pipe.buffered,
        pipe.capacity,
        ends(pipe.readers, "reader"),
        ends(pipe.writers, "writer")
    ))
}

fn queue_lines(queue: &QueueSummary, lines: &mut Vec<Line<'static>>) {
    let name = match &queue.name {
        Some(name) => format!("\"{}\"", escape_controls(name)),
        None => "(unlinked)".to_owned(),
    };
    let open =
        if queue.opened == 1 { "1 descriptor open".to_owned() } else { format!("{} descriptors open", queue.opened) };
    lines.push(Line::from(format!("  {name} {}/{} messages, {open}", queue.length(), queue.capacity)));
    for level in &queue.priorities {
        lines.push(Line::from(format!(
            "    prio {:>2} ×{:<3} next \"{}\"",
            level.priority,
            level.count,
            escape_controls(&level.head)
        )));
    }
}

fn socket_lines(sockets: &SocketsSummary, lines: &mut Vec<Line<'static>>) {
    for listener in &sockets.listeners {
        lines.push(Line::from(format!(
            "  listening on \"{}\", backlog {}/{}",
            escape_controls(&listener.path),
            listener.pending,
            listener.backlog
        )));
    }
    lines.extend(sockets.connections.iter().map(connection_line));
    if sockets.listeners.is_empty() && sockets.connections.is_empty() && sockets.more == 0 {
        lines.push(Line::from("  none"));
    }
}

fn connection_line(connection: &ConnectionSummary) -> Line<'static> {
    let [to_connector, to_accepter] = connection.buffered;
    Line::from(format!(
        "  #{} {} · {to_accepter} B → accepter, {to_connector} B → connector",
        connection.id, connection.phase
    ))
}
