//! How fast the terminal UI is on a large run: a measurement that prints
//! figures, not a timed test (timings on shared machines flake; STYLE.md 22).
//!
//! It builds a ping-pong run of about 100,000 events, or of at least
//! 1,000,000 with `MKSIM_UI_LARGE=1`, and prints the worst time of
//! `snapshot_at` at random steps, of `handle_key` for every key of the help
//! (and for the prompts' Enter, which filter or scan the whole log), and of a
//! whole frame drawn into a 140×40 `TestBackend`. The goal is well under
//! 50 ms for every keypress and frame; lines over it are marked. It asserts
//! only behaviour. Run it in a release build:
//!
//! ```text
//! MKSIM_UI_LARGE=1 cargo test --release -p mksim --test ui_speed -- --ignored --nocapture
//! ```

mod common;

use common::{codes, key};
use mksim::ui::app::App;
use mksim::ui::timeline::Activity;
use mksim::ui::view::{KEYS, Palette, draw};
use mksim_core::run::RunOptions;
use mksim_core::scenario::Scenario;
use mksim_kernel::event::BlockedOn;
use ratatui::Terminal;
use ratatui::backend::TestBackend;
use ratatui::crossterm::event::KeyCode;
use std::time::{Duration, Instant};

/// The goal for a keypress or a frame.
const GOAL: Duration = Duration::from_millis(50);

/// Events in one round of ping-pong (a call and its reply), about.
const EVENTS_PER_ROUND: usize = 12;

/// Ping calls pong `rounds` times, with room for that many kernel steps.
fn ping_pong(rounds: usize) -> String {
    format!(
        r#"Scenario(
    name: "large-ping-pong",
    description: "ping calls pong {rounds} times.",
    kernel: (step_limit: 1000000000),
    servers: (console: false),
    objects: [(name: "pingport", kind: Endpoint, owner: "pong")],
    processes: [
        (name: "pong", priority: 10, server: true, program: [Echo(on: "pingport")]),
        (
            name: "ping",
            priority: 5,
            caps: [(name: "pong", object: "pingport", rights: "s", badge: 1)],
            program: [Repeat(times: {rounds}, ops: [Call(to: "pong", label: 1, data: "ping", expect: "ping")])],
        ),
    ],
)"#
    )
}

/// A small, fixed random stream (splitmix64), so runs measure the same steps.
struct Random(u64);

impl Random {
    fn below(&mut self, bound: usize) -> usize {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut mixed = self.0;
        mixed = (mixed ^ (mixed >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        mixed = (mixed ^ (mixed >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        ((mixed ^ (mixed >> 31)) % bound as u64) as usize
    }
}

/// The worst and total time of something measured several times.
struct Figure {
    what: String,
    worst: Duration,
    total: Duration,
    count: u32,
}

#[derive(Default)]
struct Figures(Vec<Figure>);

impl Figures {
    fn add(&mut self, what: &str, took: Duration) {
        match self.0.iter_mut().find(|figure| figure.what == what) {
            Some(figure) => {
                figure.worst = figure.worst.max(took);
                figure.total += took;
                figure.count += 1;
            }
            None => self.0.push(Figure { what: what.to_owned(), worst: took, total: took, count: 1 }),
        }
    }

    fn time<T>(&mut self, what: &str, work: impl FnOnce() -> T) -> T {
        let start = Instant::now();
        let result = work();
        self.add(what, start.elapsed());
        result
    }

    fn print(&self, title: &str) {
        eprintln!("\n{title}");
        eprintln!("  {:<58} {:>12} {:>12} {:>6}", "what", "worst", "mean", "times");
        for figure in &self.0 {
            let mean = figure.total / figure.count;
            // Only keypresses and frames have the goal; preparing runs once, behind "simulating…".
            let interactive = ["key", "Enter", "frame", "tick"].iter().any(|kind| figure.what.starts_with(kind));
            let over = if interactive && figure.worst >= GOAL { "  OVER 50 ms" } else { "" };
            eprintln!("  {:<58} {:>12.3?} {:>12.3?} {:>6}{over}", figure.what, figure.worst, mean, figure.count);
        }
    }
}

/// Back to the plain view at `step` of the microkernel run, with nothing open.
fn reset(app: &mut App, step: usize) {
    app.active = 0;
    app.filter = None;
    app.refilter();
    app.prompt = None;
    app.help = None;
    app.compare = false;
    app.inspector = false;
    app.playing = false;
    app.breakpoints.clear();
    app.notice = None;
    app.quit = false;
    app.go_to(step);
}

/// Types `text` into the prompt `opener` opens, and times only the Enter that submits it.
fn submit(figures: &mut Figures, what: &str, app: &mut App, opener: char, text: &str) {
    app.handle_key(key(KeyCode::Char(opener)));
    for letter in text.chars() {
        app.handle_key(key(KeyCode::Char(letter)));
    }
    figures.time(what, || app.handle_key(key(KeyCode::Enter)));
}

#[test]
#[ignore = "measurement: run with --ignored --nocapture"]
fn figures_on_a_large_run() {
    let large = std::env::var("MKSIM_UI_LARGE").is_ok_and(|value| value == "1");
    let wanted = if large { 1_000_000 } else { 100_000 };
    let rounds = wanted / EVENTS_PER_ROUND + 1;
    let mut figures = Figures::default();

    let scenario = Scenario::parse(&ping_pong(rounds), "large ping-pong").expect("the scenario parses");
    let mut app = figures
        .time("prepare (both runs simulated and indexed)", || mksim::ui::prepare(&scenario, &RunOptions::default()));
    let events = app.timeline().len();
    let last = events - 1;
    assert!(events >= wanted, "{rounds} rounds made only {events} events");
    eprintln!(
        "{rounds} rounds of ping-pong: {events} events and {} flow rows (microkernel), {} events (monolithic)",
        app.timeline().rows.len(),
        app.runs[1].timeline.len()
    );

    // The behaviour on a large run: ping made every call and exited, pong waits for another.
    let end = app.timeline().snapshot_at(last);
    let name =
        |index: usize| app.timeline().log.process_name(mksim_kernel::ProcessId { index: index as u32, generation: 0 });
    let ping = end.processes.iter().position(|process| name(process.index as usize) == "ping").expect("ping exists");
    let pong = end.processes.iter().position(|process| name(process.index as usize) == "pong").expect("pong exists");
    assert_eq!(end.processes[ping].activity, Activity::Exited(0));
    assert_eq!(end.processes[ping].sent, rounds as u64);
    assert!(matches!(end.processes[pong].activity, Activity::Blocked(BlockedOn::Receive(_))));
    assert_eq!(app.timeline().rows.len(), 2 * rounds + 1, "a call and a reply a round, and ping's exit");

    // snapshot_at: random steps, and the steps just before a checkpoint (the most events to replay).
    let mut random = Random(0x5EED);
    for _ in 0..500 {
        let step = random.below(events);
        figures.time("snapshot_at, random step", || app.timeline().snapshot_at(step));
    }
    for checkpoint in 1..=20 {
        let step = (random.below(events / 1024) + 1) * 1024 - 2 + checkpoint % 2;
        let step = step.min(last);
        figures.time("snapshot_at, just before a checkpoint", || app.timeline().snapshot_at(step));
    }

    // handle_key: every key of the help, at random steps, from the plain view.
    let all_keys: Vec<(String, KeyCode)> =
        KEYS.iter().flat_map(|(keys, _)| codes(keys).into_iter().map(|code| (format!("key {code:?}"), code))).collect();
    for _ in 0..20 {
        let step = random.below(events);
        for (what, code) in &all_keys {
            reset(&mut app, step);
            figures.time(what, || app.handle_key(key(*code)));
            if app.playing {
                figures.time("tick while running", || app.tick());
            }
        }
    }

    // The prompts' Enter: a jump, a filter over every row, and breakpoints that scan the rest of the log.
    for _ in 0..3 {
        let step = random.below(events / 10);
        reset(&mut app, step);
        submit(&mut figures, "Enter in `:` (jump)", &mut app, ':', &random.below(events).to_string());
        submit(&mut figures, "Enter in `/` (filter \"pong\", every row matches)", &mut app, '/', "pong");
        figures.time("key N with the filter", || app.handle_key(key(KeyCode::Char('N'))));
        figures.time("key m with the filter (refilters the other run)", || app.handle_key(key(KeyCode::Char('m'))));
        reset(&mut app, step);
        submit(&mut figures, "Enter in `/` (filter \"nothing\", no row matches)", &mut app, '/', "nothing");
        figures.time("key m with the filter \"nothing\" (refilters the other run)", || {
            app.handle_key(key(KeyCode::Char('m')));
        });
        figures.time("key Esc (clears the filter)", || app.handle_key(key(KeyCode::Esc)));
        for breakpoint in ["label nothing", "to nobody", "block nobody", "fault"] {
            reset(&mut app, step);
            submit(&mut figures, "Enter in `b` (add a breakpoint)", &mut app, 'b', breakpoint);
            figures.time(&format!("key > (`{breakpoint}`, never hit: scans to the end)"), || {
                app.handle_key(key(KeyCode::Char('>')));
            });
            assert_eq!(app.step, last, "a breakpoint never hit runs to the end");
        }
    }

    // A frame: the whole screen drawn at 140×40 (and 80×24) at random steps, in each view.
    let mut wide = Terminal::new(TestBackend::new(140, 40)).expect("a test terminal");
    let mut narrow = Terminal::new(TestBackend::new(80, 24)).expect("a test terminal");
    for view in ["plain", "compare", "help", "filter", "inspector 80×24"] {
        for _ in 0..30 {
            let step = random.below(events);
            reset(&mut app, step);
            match view {
                "compare" => app.compare = true,
                "help" => app.help = Some(mksim::ui::app::HelpPage::Keys),
                "filter" => {
                    app.filter = Some("ping".into());
                    app.refilter();
                }
                "inspector 80×24" => app.inspector = true,
                _ => {}
            }
            let palette = Palette { colour: false };
            figures.time(&format!("frame 140×40, {view}"), || {
                wide.draw(|frame| draw(frame, &app, palette)).expect("drawing into a buffer");
            });
            figures.time(&format!("frame 80×24, {view}"), || {
                narrow.draw(|frame| draw(frame, &app, palette)).expect("drawing into a buffer");
            });
        }
    }
    reset(&mut app, last);
    wide.draw(|frame| draw(frame, &app, Palette { colour: false })).expect("drawing into a buffer");
    let screen: String = wide.backend().buffer().content().iter().map(|cell| cell.symbol()).collect();
    assert!(screen.contains("exited(0)"), "the last step's screen shows ping exited");

    let built =
        if cfg!(debug_assertions) { "debug build: figures are far slower than release" } else { "release build" };
    figures.print(&format!("UI speed on {events} events ({built}); goal: every keypress and frame well under 50 ms"));
}
