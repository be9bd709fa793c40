//! The terminal UI: step through a run's message flow, inspect the system,
//! and compare it with monolithic mode.
//!
//! The simulation runs on a worker thread and hands its finished logs to
//! the UI over a channel; the UI keeps checkpoints of the replayed state, so
//! every step, forwards or backwards, is computed from the log alone.

pub mod app;
pub mod breakpoints;
pub mod compare;
pub mod overlays;
pub mod position;
pub mod services;
pub mod timeline;
pub mod view;

use crate::run::{RunOptions, run};
use crate::scenario::Scenario;
use app::{App, RunView};
use mksim_servers::system::Mode;
use ratatui::crossterm::event::{self, Event, KeyEventKind};
use std::time::Duration;
use timeline::Timeline;
use view::Palette;

/// Runs `scenario` in both modes and indexes the runs for the UI.
pub fn prepare(scenario: &Scenario, options: &RunOptions) -> App {
    let runs = [Mode::Microkernel, Mode::Monolithic]
        .into_iter()
        .map(|mode| {
            let mut report = run(scenario, mode, options);
            // The timeline owns the log; the report keeps its figures for the compare pane.
            let timeline = Timeline::new(std::mem::take(&mut report.log));
            RunView { mode: mode.name(), profile: report.profile.clone(), timeline, report }
        })
        .collect();
    let mut app = App::new(scenario.name.clone(), scenario.description.clone(), runs);
    app.notes = scenario.notes.clone();
    app.scripts = scenario.scripts().map(|(process, script)| (process.to_owned(), script.to_owned())).collect();
    app
}

/// The most memory each run shown by the UI holds, unless the command line says otherwise.
///
/// The UI holds both runs and indexes each for stepping (about half as much again as its log),
/// so each run gets a quarter of the default budget: the whole UI stays within about 1 GiB, and
/// a run long enough to reach it still opens in seconds.
pub const UI_MEMORY_LIMIT_BYTES: u64 = mksim_kernel::MEMORY_LIMIT_BYTES_DEFAULT / 4;

/// Opens the UI on `scenario` and returns when the user quits. Each run holds at most
/// [`UI_MEMORY_LIMIT_BYTES`] (or the scenario's smaller budget) unless `options` give a budget.
///
/// # Errors
/// When the terminal cannot be set up or drawn on.
pub fn open(scenario: Scenario, mut options: RunOptions) -> std::io::Result<()> {
    options.memory_limit = options.memory_limit.or(Some(scenario.kernel.memory_limit_bytes.min(UI_MEMORY_LIMIT_BYTES)));
    let (sender, receiver) = crossbeam_channel::bounded(1);
    // The kernel is single-threaded by design (Rc inside); the whole simulation lives on this thread.
    let worker = std::thread::spawn(move || {
        let _ = sender.send(prepare(&scenario, &options));
    });
    let mut terminal = ratatui::init();
    let palette = Palette::from_environment();
    let result = (|| -> std::io::Result<()> {
        let mut app = loop {
            terminal.draw(|frame| {
                frame.render_widget(ratatui::widgets::Paragraph::new(" simulating…"), frame.area());
            })?;
            match receiver.recv_timeout(Duration::from_millis(50)) {
                Ok(app) => break app,
                Err(crossbeam_channel::RecvTimeoutError::Timeout) => {
                    if event::poll(Duration::ZERO)?
                        && let Event::Key(key) = event::read()?
                        && key.code == event::KeyCode::Char('q')
                    {
                        return Ok(());
                    }
                }
                Err(crossbeam_channel::RecvTimeoutError::Disconnected) => {
                    return Err(std::io::Error::other("the simulation stopped unexpectedly"));
                }
            }
        };
        let mut dirty = true;
        while !app.quit {
            if dirty {
                terminal.draw(|frame| view::draw(frame, &app, palette))?;
                dirty = false;
            }
            // Idle, the UI sleeps until a key arrives (or the terminal is resized); playing, it ticks.
            let wait = if app.playing { Duration::from_millis(50) } else { Duration::from_secs(1) };
            if event::poll(wait)? {
                match event::read()? {
                    Event::Key(key) if key.kind == KeyEventKind::Press => {
                        app.handle_key(key);
                        dirty = true;
                    }
                    Event::Resize(..) => dirty = true,
                    _ => {}
                }
            } else if app.playing {
                app.tick();
                dirty = true;
            }
        }
        Ok(())
    })();
    ratatui::restore();
    drop(worker);
    result
}
