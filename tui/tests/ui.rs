//! The terminal UI, drawn into ratatui's `TestBackend` and driven by
//! synthetic key events: snapshots of each view at chosen steps (80×24 and
//! 140×40, without colour, so the glyphs alone must tell the story), and
//! behaviour tests: stepping backwards is exact, the prompts, the ends of the
//! log, and every key of the help on every scenario without a panic.

mod common;

use common::{codes, key, press};
use mksim::ui::app::{App, HelpPage};
use mksim::ui::view::{KEYS, MARKS, Palette, WIDE, draw};
use mksim_core::run::RunOptions;
use mksim_core::scenario::Scenario;
use ratatui::Terminal;
use ratatui::backend::TestBackend;
use ratatui::buffer::{Buffer, CellWidth};
use ratatui::crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use std::path::PathBuf;

/// The workspace's scenario folder.
fn scenarios_folder() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../scenarios")
}

/// The UI on `scenarios/NAME.ron`, both modes run.
fn app(name: &str) -> App {
    let path = scenarios_folder().join(format!("{name}.ron"));
    let scenario = Scenario::load(&path.display().to_string()).expect("the scenario loads");
    mksim::ui::prepare(&scenario, &RunOptions::default())
}

/// The UI on scenario text.
fn app_from_text(text: &str) -> App {
    let scenario = Scenario::parse(text, "test scenario").expect("the scenario parses");
    mksim::ui::prepare(&scenario, &RunOptions::default())
}

/// Presses `letter` `times` times.
fn press_times(app: &mut App, letter: char, times: usize) {
    for _ in 0..times {
        app.handle_key(key(KeyCode::Char(letter)));
    }
}

/// The frame drawn at `width`×`height`, without colour: symbols and styles.
fn frame(app: &App, width: u16, height: u16) -> Buffer {
    let mut terminal = Terminal::new(TestBackend::new(width, height)).expect("a test terminal");
    terminal.draw(|frame| draw(frame, app, Palette { colour: false })).expect("drawing into a buffer");
    terminal.backend().buffer().clone()
}

/// The screen as text, without colour: one line per row, trailing spaces
/// trimmed; the cell hidden behind a wide glyph is left out, as a terminal shows it.
fn screen(app: &App, width: u16, height: u16) -> String {
    let buffer = frame(app, width, height);
    let mut text = String::new();
    for y in 0..height {
        let mut line = String::new();
        let mut hidden = 0u16;
        for x in 0..width {
            let cell = buffer.cell((x, y)).expect("inside the buffer");
            if hidden == 0 {
                line.push_str(cell.symbol());
            }
            hidden = hidden.max(cell.cell_width()).saturating_sub(1);
        }
        text.push_str(line.trim_end());
        text.push('\n');
    }
    text
}

fn small(app: &App) -> String {
    screen(app, 80, 24)
}

fn large(app: &App) -> String {
    screen(app, 140, 40)
}

/// The events of the log shown.
fn events(app: &App) -> usize {
    app.timeline().len()
}

/// Ping calls pong `rounds` times: a long run (about 14 events a round) that
/// crosses the timeline's checkpoints.
fn long_ping_pong(rounds: u32) -> String {
    format!(
        r#"Scenario(
    name: "long-ping-pong",
    description: "ping calls pong many times.",
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

// ───────────────────────────── snapshots ─────────────────────────────

/// file_io at step 252: fs has written a block through the block server,
/// which waited for the disk's interrupt; fs is about to write the next one.
fn file_io_at_252() -> App {
    let mut app = app("file_io");
    press(&mut app, ":252\n");
    assert_eq!(app.step, 252);
    app
}

#[test]
fn file_io_flow_and_processes_80x24() {
    let app = file_io_at_252();
    let text = small(&app);
    for expected in ["message flow (microkernel)", "editor", "fs", "block", "processes", "step 252/605"] {
        assert!(text.contains(expected), "{expected:?} missing from\n{text}");
    }
    insta::assert_snapshot!("file_io_flow_80x24", text);
}

#[test]
fn file_io_flow_and_processes_140x40() {
    let app = file_io_at_252();
    let text = large(&app);
    // Wide enough for the inspector beside the table, and for longer labels on the arrows.
    assert!(text.contains("inspector: name"), "{text}");
    assert!(text.contains("block.write(4)"), "{text}");
    insta::assert_snapshot!("file_io_flow_140x40", text);
}

/// The editor selected (the fifth process) near the end: its capabilities, and its console output.
fn file_io_editor_selected() -> App {
    let mut app = app("file_io");
    press(&mut app, ":603\n");
    press_times(&mut app, 'j', 4);
    assert_eq!(app.selected, 4);
    app
}

#[test]
fn inspector_80x24_replaces_the_table() {
    let mut app = file_io_editor_selected();
    let table = small(&app);
    assert!(table.contains("processes") && !table.contains("inspector"), "{table}");
    press(&mut app, "i");
    let text = small(&app);
    for expected in ["inspector: editor", "capabilities", "endpoint #4 of fs", "console", "│ done"] {
        assert!(text.contains(expected), "{expected:?} missing from\n{text}");
    }
    assert!(!text.contains(" processes "), "{text}");
    insta::assert_snapshot!("inspector_80x24", text);
    press(&mut app, "i");
    assert_eq!(small(&app), table, "i again brings the table back");
}

#[test]
fn the_inspector_names_the_script_line_a_scripted_process_is_at() {
    let mut app = app("scripted_spooler");
    // Step to where alice has queued her jobs and waits for them; select her.
    press(&mut app, ":300\n");
    press_times(&mut app, 'j', 5);
    let text = large(&app);
    assert!(text.contains("inspector: alice"), "{text}");
    assert!(text.contains("spool_client.rhai, line 14"), "{text}");
    // Earlier, she was still queueing her jobs, on line 10.
    let log = &app.timeline().log;
    let queueing = log
        .events()
        .iter()
        .position(|event| {
            matches!(event.kind, mksim_kernel::EventKind::ScriptLine { line: 10 })
                && log.process_name(event.process) == "alice"
        })
        .expect("alice reaches line 10");
    press(&mut app, &format!(":{}\n", queueing + 2));
    let text = large(&app);
    assert!(text.contains("spool_client.rhai, line 10"), "{text}");
}

#[test]
fn inspector_140x40_stands_beside_the_table() {
    let app = file_io_editor_selected();
    let text = large(&app);
    for expected in [" processes ", "inspector: editor", "endpoint #4 of fs", "│ done"] {
        assert!(text.contains(expected), "{expected:?} missing from\n{text}");
    }
    insta::assert_snapshot!("inspector_140x40", text);
}

#[test]
fn inspector_shows_a_capability_received_in_a_message() {
    // bob has received alice's badged copy of the store capability and called the store with it.
    let mut app = app("capabilities");
    // The end of the boot, then three messages.
    press_times(&mut app, 'N', 4);
    press_times(&mut app, 'j', 3);
    press(&mut app, "i");
    let text = small(&app);
    assert!(text.contains("inspector: bob"), "{text}");
    assert!(text.contains("endpoint #1 of store"), "{text}");
    insta::assert_snapshot!("inspector_capabilities_80x24", text);
}

#[test]
fn compare_pane() {
    let mut app = file_io_at_252();
    press(&mut app, "c");
    assert!(app.compare);
    let text = small(&app);
    for expected in ["compare: microkernel", "messages", "context switches", "cycles", "operation"] {
        assert!(text.contains(expected), "{expected:?} missing from\n{text}");
    }
    insta::assert_snapshot!("compare_80x24", text);
    insta::assert_snapshot!("compare_140x40", large(&app));
    press(&mut app, "c");
    assert!(!small(&app).contains("compare:"), "c again closes it");
}

#[test]
fn compare_pane_shows_no_ratio_when_a_run_did_not_complete() {
    // The disk driver's crash panics the monolithic kernel: its figures are a fraction of the work.
    let mut app = app("driver_restart");
    press(&mut app, "c");
    for text in [small(&app), large(&app)] {
        assert!(
            text.contains("not comparable: the monolithic run ended in a kernel panic at 34251 cycles"),
            "the reason is missing from\n{text}"
        );
        // The compare pane only: the status line shows the replay speed as ×5.
        let pane: String = text
            .lines()
            .skip_while(|line| !line.contains("┌ compare"))
            .take_while(|line| !line.starts_with('└'))
            .collect();
        for ratio in [" ratio", "×", "∞"] {
            assert!(!pane.contains(ratio), "{ratio:?} shown in\n{text}");
        }
        assert!(text.contains("cycles") && text.contains("fs.open"), "the figures are still shown:\n{text}");
    }
    insta::assert_snapshot!("compare_not_comparable_80x24", small(&app));
}

#[test]
fn help_overlay() {
    let mut app = file_io_at_252();
    let before = small(&app);
    press(&mut app, "?");
    assert_eq!(app.help, Some(HelpPage::Keys));
    let text = small(&app);
    for (keys, what) in KEYS {
        assert!(text.contains(keys), "{keys:?} missing from the help\n{text}");
        // The words start with what the key does; a long line may be cut at the frame.
        let start: String = what.chars().take(20).collect();
        assert!(text.contains(&start), "{what:?} missing from the help\n{text}");
    }
    insta::assert_snapshot!("help_80x24", text);
    insta::assert_snapshot!("help_140x40", large(&app));
    // `?` again turns to the legend: every mark the screen draws, and what it means.
    press(&mut app, "?");
    assert_eq!(app.help, Some(HelpPage::Marks));
    let text = small(&app);
    for (mark, what) in MARKS {
        assert!(text.contains(mark), "{mark:?} missing from the legend\n{text}");
        let start: String = what.chars().take(20).collect();
        assert!(text.contains(&start), "{what:?} missing from the legend\n{text}");
    }
    insta::assert_snapshot!("help_marks_80x24", text);
    // Any other key closes it, and does nothing else.
    press(&mut app, "n");
    assert_eq!(app.help, None);
    assert_eq!(app.step, 252);
    assert_eq!(small(&app), before);
}

#[test]
fn filter_by_process_name() {
    let mut app = file_io_at_252();
    press(&mut app, "/fs\n");
    assert_eq!(app.filter.as_deref(), Some("fs"));
    let text = small(&app);
    assert!(text.contains("filter \"fs\""), "{text}");
    // Rows not involving fs (the disk's interrupts to the block server) are hidden.
    assert!(!text.contains("interrupt"), "{text}");
    insta::assert_snapshot!("filter_fs_80x24", text);
    // N now steps from one fs message to the next, skipping the interrupts.
    press(&mut app, "N");
    assert_eq!(app.step, 258, "the next message from or to fs");
    // Esc clears the filter.
    press(&mut app, "\x1b");
    assert_eq!(app.filter, None);
    assert!(!small(&app).contains("filter"));
}

#[test]
fn breakpoint_hit() {
    let mut app = app("file_io");
    press(&mut app, "blabel fs.read\n");
    assert_eq!(app.breakpoints.len(), 1);
    assert!(small(&app).contains("breakpoint set: label fs.read"));
    press(&mut app, ">");
    assert_eq!(app.step, 305, "the first fs.read call");
    let text = small(&app);
    assert!(text.contains("breakpoint: label fs.read"), "{text}");
    assert!(text.contains("1 break"), "{text}");
    insta::assert_snapshot!("breakpoint_hit_80x24", text);
    // Every later hit is an fs.read request: never its reply, never fs.readdir.
    let mut hits = 0;
    loop {
        let before = app.step;
        press(&mut app, ">");
        if app.step == before || app.step == events(&app) - 1 && !small(&app).contains("breakpoint:") {
            break;
        }
        hits += 1;
        let text = small(&app);
        assert!(text.contains("call") && text.contains("fs.read("), "{text}");
    }
    assert!(hits >= 1, "file_io reads more than once");
    // With a star the label is a prefix: fs.readdir stops too.
    let mut app = self::app("file_io");
    press(&mut app, "blabel fs.readdir\n>");
    let readdir = app.step;
    assert!(small(&app).contains("fs.readdir"), "{}", small(&app));
    let mut app = self::app("file_io");
    press(&mut app, "blabel fs.read*\n>");
    assert!(app.step <= readdir.min(305));
    let mut stops = vec![app.step];
    while stops.len() < 50 {
        press(&mut app, ">");
        if Some(&app.step) == stops.last() || !small(&app).contains("breakpoint:") {
            break;
        }
        stops.push(app.step);
    }
    assert!(stops.contains(&305) && stops.contains(&readdir), "{stops:?}");
}

#[test]
fn a_bad_breakpoint_is_refused_with_a_notice() {
    let mut app = app("file_io");
    press(&mut app, "bnonsense\n");
    assert!(app.breakpoints.is_empty());
    assert!(small(&app).contains("breakpoints: label OPERATION (fs.read* for a prefix)"), "{}", small(&app));
    // A name that is in neither run is refused, with the names there are.
    press(&mut app, "bto nobody\n");
    assert!(app.breakpoints.is_empty());
    let text = small(&app);
    assert!(text.contains("no process named nobody; processes: block, console, editor"), "{text}");
    press(&mut app, "bblock nobody\n");
    assert!(app.breakpoints.is_empty());
    press(&mut app, "blabel fs.rea\n");
    assert!(app.breakpoints.is_empty());
    assert!(small(&app).contains("no operation fs.rea in either run"), "{}", small(&app));
    // A server only the microkernel run has is a name all the same.
    press(&mut app, "bto fs\n");
    assert_eq!(app.breakpoints.len(), 1);
}

#[test]
fn breakpoints_on_blocking_and_faults() {
    let mut app = app("file_io");
    press(&mut app, "bblock editor\n>");
    let text = small(&app);
    assert!(text.contains("breakpoint: block editor"), "{text}");
    assert!(text.contains("reply-blocked"), "{text}");
    // A breakpoint that is never hit runs to the end.
    let mut app = self::app("file_io");
    press(&mut app, "bfault\n>");
    assert_eq!(app.step, events(&app) - 1);
}

#[test]
fn priority_inheritance_shows_the_inherited_priority() {
    // high calls the busy low-priority server: the server runs at high's priority.
    let mut app = app("priority_inheritance");
    // The end of the boot, then two messages.
    press_times(&mut app, 'N', 3);
    press_times(&mut app, 'n', 4);
    let text = small(&app);
    assert!(text.contains("2↑20"), "{text}");
    insta::assert_snapshot!("priority_inheritance_80x24", text);
    // Once it has replied to high, it is back at its own priority.
    press_times(&mut app, 'N', 3);
    assert!(!small(&app).contains("2↑20"));
}

#[test]
fn deadlock_at_the_end() {
    let mut app = app("deadlock");
    press(&mut app, "G");
    assert_eq!(app.step, events(&app) - 1);
    let text = small(&app);
    for expected in ["run ended: deadlock", "send-blocked on bob", "send-blocked on alice"] {
        assert!(text.contains(expected), "{expected:?} missing from\n{text}");
    }
    insta::assert_snapshot!("deadlock_end_80x24", text);
}

// ───────────────────────────── behaviour ─────────────────────────────

/// Every step's frame (text and styles), reached forwards with n, equals the
/// one reached backwards with p from the end, and the one reached by `:` N.
fn assert_stepping_is_exact(mut app: App, width: u16, height: u16, jumps: &[usize]) {
    let last = events(&app) - 1;
    let mut forwards = vec![frame(&app, width, height)];
    for _ in 0..last {
        press(&mut app, "n");
        forwards.push(frame(&app, width, height));
    }
    assert_eq!(app.step, last);
    press(&mut app, "G");
    for step in (0..=last).rev() {
        assert_eq!(app.step, step);
        assert_eq!(frame(&app, width, height), forwards[step], "step {step}: backwards differs from forwards");
        press(&mut app, "p");
    }
    for &step in jumps {
        press(&mut app, &format!(":{step}\n"));
        assert_eq!(app.step, step);
        assert_eq!(frame(&app, width, height), forwards[step], "step {step}: `:` differs from forwards");
    }
}

#[test]
fn stepping_backwards_is_exact() {
    let app = app("file_io");
    let last = events(&app) - 1;
    assert_stepping_is_exact(app, 80, 24, &[0, 1, 60, 241, 294, last / 2, last, 17, 0]);
    let app = self::app("priority_inheritance");
    assert_stepping_is_exact(app, 140, 40, &[50, 0, 110, 3]);
}

#[test]
fn stepping_backwards_is_exact_across_checkpoints() {
    // Over 1024 events apart (the timeline's checkpoint spacing), G then p×k and : N agree with n×N.
    let mut app = app_from_text(&long_ping_pong(400));
    let last = events(&app) - 1;
    assert!(last > 3 * 1024, "{last} events are too few to cross checkpoints");
    for step in [1023, 1024, 1025, 2047, 2048, 3000, last - 1] {
        press(&mut app, "g");
        press_times(&mut app, 'n', step);
        let forwards = frame(&app, 140, 40);
        press(&mut app, "G");
        press_times(&mut app, 'p', last - step);
        assert_eq!(app.step, step);
        assert_eq!(frame(&app, 140, 40), forwards, "step {step}: G then p differs from n");
        press(&mut app, &format!(":{step}\n"));
        assert_eq!(frame(&app, 140, 40), forwards, "step {step}: `:` differs from n");
    }
}

#[test]
fn message_steps_land_on_messages_and_return() {
    let mut app = app("ping_pong");
    let messages: Vec<usize> = app.timeline().rows.iter().map(|row| row.event as usize).collect();
    let mut seen = Vec::new();
    while app.notice.is_none() {
        press(&mut app, "N");
        if app.notice.is_none() {
            seen.push(app.step);
        }
    }
    assert_eq!(seen, messages);
    assert!(small(&app).contains("no later message"));
    for &step in messages.iter().rev().skip(1) {
        press(&mut app, "P");
        assert_eq!(app.step, step);
    }
    press(&mut app, "P");
    assert_eq!(app.step, 0, "P before the first message goes to the start");
}

#[test]
fn q_and_ctrl_c_quit() {
    let mut app = app("ping_pong");
    assert!(!app.quit);
    press(&mut app, "q");
    assert!(app.quit);
    let mut app = self::app("ping_pong");
    app.handle_key(KeyEvent::new(KeyCode::Char('c'), KeyModifiers::CONTROL));
    assert!(app.quit);
    assert!(!app.compare, "ctrl-c is not c");
}

#[test]
fn q_in_a_prompt_is_typed_not_obeyed() {
    let mut app = app("ping_pong");
    press(&mut app, "/q");
    assert!(!app.quit);
    assert!(small(&app).contains("filter by process or operation: q"));
    press(&mut app, "\x1b");
    assert_eq!(app.prompt, None);
    assert_eq!(app.filter, None, "Esc in a prompt cancels it");
}

#[test]
fn m_switches_to_the_monolithic_run_and_back() {
    let mut app = app("file_io");
    let micro_events = events(&app);
    press(&mut app, "m");
    assert_eq!(app.run().mode, "monolithic");
    assert_eq!(app.step, 0, "before any request, the other run starts at its beginning");
    let text = small(&app);
    assert!(text.contains("message flow (monolithic)"), "{text}");
    assert!(text.contains("showing the monolithic run from the start"), "{text}");
    assert!(events(&app) < micro_events, "no servers, fewer events");
    // The first row marks the end of the boot (the kernel mounted the file system itself).
    press(&mut app, "N");
    assert!(small(&app).contains("boot done"), "{}", small(&app));
    // The file server lives in the kernel now: fs requests are service calls.
    press(&mut app, "N");
    assert!(small(&app).contains("fs.mkdir"), "{}", small(&app));
    press(&mut app, "m");
    assert_eq!(app.run().mode, "microkernel");
    assert!(small(&app).contains("message flow (microkernel)"));
}

#[test]
fn bad_input_in_the_step_prompt_shows_a_notice_and_stays() {
    let mut app = app("file_io");
    press(&mut app, ":60\n");
    let before = small(&app);
    for typed in ["abc", "", "-3", "6O", "1e3"] {
        press(&mut app, &format!(":{typed}\n"));
        assert_eq!(app.step, 60, "after {typed:?}");
        let text = small(&app);
        assert!(text.contains("not a step number"), "no notice after {typed:?}:\n{text}");
    }
    // The notice goes with the next key; the screen is as before.
    press(&mut app, "c");
    press(&mut app, "c");
    assert_eq!(small(&app), before);
    // A step past the end goes to the end.
    press(&mut app, ":999999\n");
    assert_eq!(app.step, events(&app) - 1);
    // Backspace edits the prompt.
    press(&mut app, ":12x");
    app.handle_key(key(KeyCode::Backspace));
    press(&mut app, "\n");
    assert_eq!(app.step, 12);
}

#[test]
fn keys_at_the_ends_do_not_move_past_them() {
    let mut app = app("ping_pong");
    let last = events(&app) - 1;
    let start = small(&app);
    for code in [KeyCode::Char('p'), KeyCode::Left, KeyCode::Char('P'), KeyCode::PageUp, KeyCode::Home] {
        app.handle_key(key(code));
        assert_eq!(app.step, 0, "{code:?} at the start");
    }
    assert_eq!(small(&app), start);
    press(&mut app, "G");
    for code in [KeyCode::Char('n'), KeyCode::Right, KeyCode::End, KeyCode::Char('G')] {
        app.handle_key(key(code));
        assert_eq!(app.step, last, "{code:?} at the end");
    }
    press(&mut app, "N");
    assert_eq!(app.step, last);
    assert!(small(&app).contains("no later message"));
    // Running from the end does not start, and a tick does nothing.
    press(&mut app, " ");
    assert!(!app.playing);
    app.tick();
    assert_eq!(app.step, last);
}

#[test]
fn running_plays_at_the_chosen_speed_and_stops_at_the_end() {
    let mut app = app("file_io");
    press(&mut app, " ");
    assert!(app.playing);
    // Five events a tick, twenty ticks a second.
    assert!(small(&app).contains("▶ 100 ev/s"));
    app.tick();
    assert_eq!(app.step, 5);
    press(&mut app, "+");
    app.tick();
    assert_eq!(app.step, 15);
    press(&mut app, "--");
    app.tick();
    assert_eq!(app.step, 17);
    press(&mut app, " ");
    assert!(!app.playing);
    app.tick();
    assert_eq!(app.step, 17);
    press(&mut app, "++++++++ ");
    while app.playing {
        app.tick();
    }
    assert_eq!(app.step, events(&app) - 1);
    assert!(small(&app).contains("⏸ 20000 ev/s"));
}

#[test]
fn a_breakpoint_stops_a_running_replay() {
    let mut app = app("file_io");
    press(&mut app, "bto block\n+++ ");
    while app.playing {
        app.tick();
    }
    assert_eq!(app.step, 32, "the first call to the block server");
    assert!(small(&app).contains("breakpoint: to block"));
}

#[test]
fn the_table_selection_wraps_and_stops() {
    let mut app = app("file_io");
    press(&mut app, "G");
    let processes = app.timeline().snapshot_at(app.step).processes.len();
    press(&mut app, "k");
    assert_eq!(app.selected, 0);
    press_times(&mut app, 'j', processes);
    assert_eq!(app.selected, 0, "j wraps around");
    app.handle_key(key(KeyCode::Tab));
    app.handle_key(key(KeyCode::Down));
    app.handle_key(key(KeyCode::Up));
    assert_eq!(app.selected, 1);
}

/// Every key of the help, and a few others, pressed on `scenario` in both
/// modes, at the start, middle and end, in the plain view and in the compare
/// pane with the inspector and a filter on; after each, a frame is drawn at
/// one of several sizes, down to none at all.
fn every_key_does_not_panic(scenario: &str) {
    let mut all_keys: Vec<KeyCode> = KEYS.iter().flat_map(|(keys, _)| codes(keys)).collect();
    all_keys.extend([KeyCode::Esc, KeyCode::Backspace, KeyCode::F(1), KeyCode::Char('x'), KeyCode::Delete]);
    let sizes = [(80, 24), (140, 40), (20, 6), (WIDE, 12), (24, 40), (1, 1), (0, 0)];
    let mut frames = 0usize;
    let mut app = app(scenario);
    for mode in 0..2 {
        for step in [Step::Start, Step::Middle, Step::End] {
            for busy in [false, true] {
                for &code in &all_keys {
                    // The same starting point for every key: this run, this step, this view.
                    app.active = mode;
                    app.filter = busy.then(|| "e".to_owned());
                    app.refilter();
                    let last = events(&app) - 1;
                    app.go_to(match step {
                        Step::Start => 0,
                        Step::Middle => last / 2,
                        Step::End => last,
                    });
                    app.prompt = None;
                    app.help = None;
                    app.breakpoint_list = None;
                    app.compare = busy;
                    app.inspector = busy;
                    app.handle_key(key(code));
                    app.tick();
                    if app.prompt.is_some() {
                        press(&mut app, "1\n");
                    }
                    let (width, height) = sizes[frames % sizes.len()];
                    frames += 1;
                    let _ = screen(&app, width, height);
                    assert!(app.step < events(&app), "{scenario}: step {} past the end after {code:?}", app.step);
                    app.quit = false;
                }
            }
        }
    }
}

#[derive(Clone, Copy)]
enum Step {
    Start,
    Middle,
    End,
}

/// One test per scenario, so they run side by side.
macro_rules! every_key_on {
    ($($scenario:ident),* $(,)?) => {
        mod every_key_on {
            $(
                #[test]
                fn $scenario() {
                    super::every_key_does_not_panic(stringify!($scenario));
                }
            )*
        }
        /// The scenarios the smoke tests cover.
        const SMOKED: &[&str] = &[$(stringify!($scenario)),*];
    };
}

every_key_on!(
    badges,
    broken_pipe,
    bulk_transfer,
    capabilities,
    deadlock,
    driver_hang,
    driver_restart,
    fault_campaign,
    fifo,
    file_io,
    fs_recover,
    fs_restart,
    hello,
    hung_server,
    job_queue,
    name_lookup,
    name_restart,
    notifications,
    ping_pong,
    pipe_restart,
    pipeline,
    priority_inheritance,
    priority_inversion,
    producer_consumer,
    scripted_echo,
    scripted_philosophers,
    scripted_retry,
    scripted_spooler,
    scripted_watcher,
    size_sweep,
    socket_echo,
    socket_restart,
    tour,
);

#[test]
fn every_scenario_has_a_smoke_test() {
    let mut files: Vec<String> = std::fs::read_dir(scenarios_folder())
        .expect("the scenario folder")
        .map(|entry| entry.expect("a folder entry").path())
        .filter(|path| path.extension().is_some_and(|extension| extension == "ron"))
        .filter_map(|path| path.file_stem().and_then(|stem| stem.to_str()).map(str::to_owned))
        .collect();
    files.sort();
    assert_eq!(files, SMOKED, "add the new scenario to every_key_on!");
}

// ───────────────────────────── known bugs ─────────────────────────────

#[test]
fn a_narrow_tall_terminal_with_many_lanes_does_not_panic() {
    let mut app = app("file_io");
    press(&mut app, ":581\n");
    let _ = screen(&app, 22, 40);
}

/// The display columns of lane marks (`│`) on each flow row of the screen.
fn lane_columns(app: &App, width: u16, height: u16) -> Vec<(bool, Vec<u16>)> {
    let buffer = frame(app, width, height);
    let symbol = |x: u16, y: u16| buffer.cell((x, y)).expect("inside the buffer").symbol().to_owned();
    // The flow's frame: from the line under the title to its bottom corner; its lanes start under the header.
    let bottom = (2..height).find(|&y| symbol(0, y) == "└").expect("the flow's bottom border");
    (3..bottom)
        .map(|y| {
            let signal = (1..width - 1).any(|x| symbol(x, y) == "↯");
            // On other rows a lane shows as its line or as the end of an arrow that starts or stops on it.
            let on_lane = |x: u16| {
                let glyph = symbol(x, y);
                glyph == "│" || (!signal && ["●", "◀", "▶", "◁", "▷", "»", "«", "■", "✕"].contains(&glyph.as_str()))
            };
            (signal, (10..width - 1).filter(|&x| on_lane(x)).collect())
        })
        .collect()
}

#[test]
fn lanes_stay_straight_beside_a_signal() {
    let mut app = file_io_at_252();
    let last = app.timeline().len() - 1;
    for (width, height) in [(80, 24), (140, 40)] {
        // Lanes are where non-signal rows draw them, over screens taken all along the run.
        let mut rows = Vec::new();
        for step in (0..=last).step_by(last / 24 + 1) {
            app.go_to(step);
            rows.extend(lane_columns(&app, width, height));
        }
        assert!(rows.iter().any(|(signal, _)| *signal), "no signal on screen to check");
        let straight: std::collections::BTreeSet<u16> =
            rows.iter().filter(|(signal, _)| !signal).flat_map(|(_, columns)| columns.iter().copied()).collect();
        for (_, columns) in rows.iter().filter(|(signal, _)| *signal) {
            for column in columns {
                assert!(
                    straight.contains(column),
                    "{width}×{height}: a lane at column {column} beside a signal\n{}",
                    screen(&app, width, height)
                );
            }
        }
    }
}

#[test]
fn help_lines_are_whole_on_a_wide_terminal() {
    let mut app = app("ping_pong");
    press(&mut app, "?");
    let text = large(&app);
    for (keys, what) in KEYS {
        assert!(text.contains(what), "{keys}: {what:?} is cut in\n{text}");
    }
}

#[test]
fn compare_pane_shows_every_operation_at_80x24_when_scrolled() {
    let mut app = app("file_io");
    press(&mut app, "c");
    let mut seen = small(&app);
    for _ in 0..12 {
        press(&mut app, "j");
        seen.push_str(&small(&app));
    }
    for operation in app.runs[0].report.per_operation.keys() {
        assert!(seen.contains(operation.as_str()), "{operation} never shown while scrolling:\n{seen}");
    }
}

#[test]
fn a_failed_call_shows_on_the_callers_lane() {
    let app = app("capabilities");
    let timeline = app.timeline();
    let failed: Vec<String> = timeline
        .rows
        .iter()
        .filter(|row| row.kind == mksim::ui::timeline::RowKind::Failed)
        .map(|row| timeline.row_text(row))
        .collect();
    assert_eq!(failed, ["call failed: invalid capability"], "bob's call after alice revoked his key");
}

/// A scenario that tries to draw on the terminal: escape sequences and a carriage return in its
/// name, description, process name and console text.
const SPOOF: &str = r#"Scenario(
    name: "\u{1b}[2K\rPASS spoof: 3/3 cases",
    description: "\u{1b}[31mred\u{7}",
    processes: [(name: "ev\u{1b}[1mil", priority: 5, program: [Print("\u{1b}[2Jwiped\rhi\n")])],
)"#;

#[test]
fn control_characters_from_the_scenario_are_drawn_escaped() {
    let mut app = app_from_text(SPOOF);
    let mut seen = String::new();
    // The start, the end (console output in the inspector), and the prompt echoing a name.
    for keys in ["", "G", "/ev\n"] {
        press(&mut app, keys);
        let buffer = frame(&app, 140, 40);
        for cell in buffer.content() {
            assert!(
                !cell.symbol().chars().any(mksim_kernel::text::is_unsafe_to_show),
                "a control character reached the screen after {keys:?}: {:?}",
                cell.symbol()
            );
        }
        seen.push_str(&large(&app));
    }
    for shown in [r"\u{1b}[2K\rPASS spoof: 3/3 cases", r"\u{1b}[31mred\u{7}", r"ev\u{1b}[1mil", r"\u{1b}[2Jwiped\rhi"] {
        assert!(seen.contains(shown), "{shown} is not shown escaped in\n{seen}");
    }
}
