//! The inspector's view of the pipe, message-queue and socket services, and the glyphs that
//! mark their traffic on the message flow: drawn into ratatui's `TestBackend` at steps found
//! in the log, in both modes, forwards and backwards. What the screen must show is read from
//! the summaries the services left in the log, so the test follows the scenarios as they
//! change; each test also asserts the scenario reaches the state it is about (a pipe holding
//! bytes, queued messages of two priorities, a connected socket).

mod common;

use common::press;
use mksim::ui::app::App;
use mksim::ui::view::{Palette, draw};
use mksim_core::run::RunOptions;
use mksim_core::scenario::Scenario;
use mksim_kernel::EventKind;
use mksim_kernel::fault::ServiceModule;
use mksim_userland::service_state::{ConnectionPhase, ServiceSummary};
use ratatui::Terminal;
use ratatui::backend::TestBackend;
use std::path::PathBuf;

const WIDTH: u16 = 180;
const HEIGHT: u16 = 50;

fn app(name: &str) -> App {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join(format!("../scenarios/{name}.ron"));
    let scenario = Scenario::load(&path.display().to_string()).expect("the scenario loads");
    mksim::ui::prepare(&scenario, &RunOptions::default())
}

/// The screen as text, without colour, trailing spaces trimmed.
fn screen(app: &App) -> String {
    let mut terminal = Terminal::new(TestBackend::new(WIDTH, HEIGHT)).expect("a test terminal");
    terminal.draw(|frame| draw(frame, app, Palette { colour: false })).expect("drawing into a buffer");
    let buffer = terminal.backend().buffer().clone();
    let mut text = String::new();
    for y in 0..HEIGHT {
        let line: String = (0..WIDTH).map(|x| buffer.cell((x, y)).expect("inside").symbol().to_owned()).collect();
        text.push_str(line.trim_end());
        text.push('\n');
    }
    text
}

/// Every summary `module`'s service left in the shown run's log: step, reporting process, summary.
fn summaries(app: &App, module: ServiceModule) -> Vec<(usize, u32, ServiceSummary)> {
    let log = &app.timeline().log;
    let decoded = log.events().iter().enumerate().filter_map(|(step, event)| match event.kind {
        EventKind::ServiceState { module: logged, state } if logged == module => {
            let summary = ServiceSummary::decode(module, log.service_state(state)).expect("a summary decodes");
            Some((step, event.process.index, summary))
        }
        _ => None,
    });
    decoded.collect()
}

/// What the inspector must show of `summary`: one text per pipe, queue level, listener or connection.
fn expected_texts(summary: &ServiceSummary) -> Vec<String> {
    match summary {
        ServiceSummary::Pipes(pipes) => {
            pipes.pipes.iter().map(|pipe| format!("#{} [{}/{} B", pipe.id, pipe.buffered, pipe.capacity)).collect()
        }
        ServiceSummary::Queues(queues) => queues
            .queues
            .iter()
            .flat_map(|queue| {
                let head = format!("{}/{} messages", queue.length(), queue.capacity);
                let levels =
                    queue.priorities.iter().map(|level| format!("prio {:>2} ×{:<3} next", level.priority, level.count));
                std::iter::once(head).chain(levels)
            })
            .collect(),
        ServiceSummary::Sockets(sockets) => {
            let listeners =
                sockets.listeners.iter().map(|listener| format!("backlog {}/{}", listener.pending, listener.backlog));
            let connections =
                sockets.connections.iter().map(|connection| format!("#{} {} ·", connection.id, connection.phase));
            listeners.chain(connections).collect()
        }
    }
}

/// The pipe texts drawn on one line each: `#0 [` and `9/1024 B` must be on the same line.
fn shows(screen: &str, expected: &str) -> bool {
    match expected.split_once('[') {
        Some((id, fill)) => screen.lines().any(|line| line.contains(&format!("{id}[")) && line.contains(fill)),
        None => screen.contains(expected),
    }
}

/// In each mode: goes to the first step whose summary of `module` passes `wanted`, with the
/// process that reported it selected, and checks the inspector shows that summary under
/// `heading`; one step back it shows the summary before (or none), and forward again the
/// same screen as before.
fn the_inspector_follows(
    scenario: &str,
    module: ServiceModule,
    heading: &str,
    wanted: impl Fn(&ServiceSummary) -> bool,
) {
    let mut app = app(scenario);
    for mode in ["microkernel", "monolithic"] {
        assert_eq!(app.run().mode, mode);
        let summaries = summaries(&app, module);
        let at = summaries.iter().position(|(_, _, summary)| wanted(summary));
        let Some(at) = at else { panic!("{scenario} ({mode}) never reaches the state this test is about") };
        let (step, reporter, summary) = &summaries[at];
        app.selected = *reporter as usize;
        press(&mut app, &format!(":{step}\n"));
        assert_eq!(app.step, *step);
        let there = screen(&app);
        let place = if mode == "monolithic" { "(in the kernel)".to_owned() } else { "(held by ".to_owned() };
        assert!(there.contains(&format!("{heading} {place}")), "{mode}: no {heading} section\n{there}");
        for text in expected_texts(summary) {
            assert!(shows(&there, &text), "{mode} step {step}: {text:?} not shown\n{there}");
        }
        press(&mut app, "p");
        let before = screen(&app);
        match at.checked_sub(1).map(|previous| &summaries[previous].2) {
            Some(previous) => {
                for text in expected_texts(previous) {
                    assert!(shows(&before, &text), "{mode} step {}: {text:?} not shown\n{before}", step - 1);
                }
            }
            None => assert!(!before.contains(heading), "{mode}: a state shown before any was reported\n{before}"),
        }
        assert_ne!(before, there, "{mode}: stepping back changed nothing");
        press(&mut app, "n");
        assert_eq!(screen(&app), there, "{mode}: forward again is not the same screen");
        press(&mut app, "m");
    }
}

#[test]
fn the_inspector_shows_a_pipes_fill_and_its_ends() {
    the_inspector_follows(
        "pipeline",
        ServiceModule::Pipe,
        "‖ pipes",
        |summary| matches!(summary, ServiceSummary::Pipes(pipes) if pipes.pipes.iter().any(|pipe| pipe.buffered > 0)),
    );
}

#[test]
fn the_inspector_shows_a_queues_messages_by_priority() {
    the_inspector_follows(
        "job_queue",
        ServiceModule::MessageQueue,
        "≡ message queues",
        |summary| matches!(summary, ServiceSummary::Queues(queues) if queues.queues.iter().any(|queue| queue.priorities.len() >= 2)),
    );
}

#[test]
fn the_inspector_shows_a_sockets_connection_state() {
    the_inspector_follows("socket_echo", ServiceModule::Socket, "⇄ sockets", |summary| {
        matches!(summary, ServiceSummary::Sockets(sockets)
            if !sockets.listeners.is_empty()
                && sockets.connections.iter().any(|connection| connection.phase == ConnectionPhase::Connected))
    });
}

#[test]
fn pipe_traffic_carries_the_pipe_glyph_in_both_modes() {
    let mut app = app("pipeline");
    for mode in ["microkernel", "monolithic"] {
        press(&mut app, "G");
        let end = screen(&app);
        let flow: Vec<&str> = end.lines().filter(|line| line.contains("pipe.")).collect();
        assert!(!flow.is_empty(), "{mode}: no pipe traffic on screen\n{end}");
        for line in flow {
            assert!(line.contains("‖ pipe."), "{mode}: pipe traffic without its glyph: {line}");
        }
        assert!(!end.contains("‖ name."), "{mode}: the glyph marks only the pipe service\n{end}");
        press(&mut app, "m");
        assert_ne!(app.run().mode, mode);
    }
    // The help's second page, the marks, names each service's glyph.
    press(&mut app, "??");
    let help = screen(&app);
    for line in
        ["‖               pipe traffic", "≡               message-queue traffic", "⇄               socket traffic"]
    {
        assert!(help.contains(line), "the legend has no {line:?}\n{help}");
    }
}
