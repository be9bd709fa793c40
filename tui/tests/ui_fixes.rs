//! The terminal UI's readability for a lecture, drawn into ratatui's `TestBackend`: the
//! compare pane's bars on one scale, process names whole, marks on the lane they belong to,
//! the scenario's notes panel; and the notes printed by `mksim run`. Breakpoints: the list
//! and its delete; and `m`, which keeps the position at the same request of the other run.

mod binary;
mod common;

use common::press;
use mksim::ui::app::App;
use mksim::ui::view::{Palette, draw};
use mksim_core::run::RunOptions;
use mksim_core::scenario::Scenario;
use ratatui::Terminal;
use ratatui::backend::TestBackend;
use std::path::PathBuf;

/// The UI on `scenarios/NAME.ron`, both modes run.
fn app(name: &str) -> App {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join(format!("../scenarios/{name}.ron"));
    let scenario = Scenario::load(&path.display().to_string()).expect("the scenario loads");
    mksim::ui::prepare(&scenario, &RunOptions::default())
}

/// The screen's rows as characters (one per cell), without colour.
fn cells(app: &App, width: u16, height: u16) -> Vec<Vec<char>> {
    let mut terminal = Terminal::new(TestBackend::new(width, height)).expect("a test terminal");
    terminal.draw(|frame| draw(frame, app, Palette { colour: false })).expect("drawing into a buffer");
    let buffer = terminal.backend().buffer();
    (0..height)
        .map(|y| {
            (0..width).map(|x| buffer.cell((x, y)).expect("inside").symbol().chars().next().unwrap_or(' ')).collect()
        })
        .collect()
}

fn screen(app: &App, width: u16, height: u16) -> String {
    cells(app, width, height)
        .into_iter()
        .map(|row| row.into_iter().collect::<String>().trim_end().to_owned() + "\n")
        .collect()
}

/// Each operation row of the compare pane: its two figures, each with the cells of its bar.
fn compare_bars(text: &str) -> Vec<[(f64, usize); 2]> {
    let mut found = Vec::new();
    for line in text.lines() {
        let line = line.trim_matches('│');
        // `fs.read   2  ████   11848  ███   11153  1.1× ...`: runs of █, each followed by its figure.
        let mut bars = Vec::new();
        let mut rest = line;
        while let Some(start) = rest.find('█') {
            let after = &rest[start..];
            let cells = after.chars().take_while(|&letter| letter == '█').count();
            let tail = after.trim_start_matches('█').trim_start();
            let figure: String = tail.chars().take_while(char::is_ascii_digit).collect();
            bars.push((figure.parse::<f64>().unwrap_or(-1.0), cells));
            rest = tail;
        }
        if let [first, second] = bars[..] {
            found.push([first, second]);
        }
    }
    found
}

#[test]
fn compare_bars_share_one_scale_across_operations_and_modes() {
    let mut app = app("file_io");
    press(&mut app, "c");
    for (width, height) in [(140, 40), (80, 24)] {
        let text = screen(&app, width, height);
        let bars: Vec<(f64, usize)> = compare_bars(&text).into_iter().flatten().collect();
        assert!(bars.len() >= 8, "{text}");
        // A larger figure never has a shorter bar, whichever row or mode it is in.
        for &(x, x_cells) in &bars {
            for &(y, y_cells) in &bars {
                if x > y {
                    assert!(x_cells >= y_cells, "{x} has {x_cells} cells, {y} has {y_cells}\n{text}");
                }
            }
        }
        // 752 and 45,130 cycles differ sixty-fold: never the same bar (the old pane drew both full).
        let cheapest = bars.iter().filter(|(figure, _)| *figure > 0.0).min_by(|a, b| a.0.total_cmp(&b.0)).unwrap();
        let dearest = bars.iter().max_by(|a, b| a.0.total_cmp(&b.0)).unwrap();
        assert!(cheapest.1 < dearest.1, "{cheapest:?} {dearest:?}\n{text}");
        assert!(text.contains("log"), "the range is wide: the scale says it is logarithmic\n{text}");
    }
}

#[test]
fn operation_names_are_whole_at_80_columns() {
    let mut app = app("file_io");
    press(&mut app, "c");
    let text = screen(&app, 80, 24);
    assert!(text.contains("console.write "), "{text}");
    // Scrolled down, fs.read and fs.readdir are told apart.
    press(&mut app, "jjjj");
    let text = screen(&app, 80, 24);
    assert!(text.contains("\n│fs.read ") && text.contains("\n│fs.readdir "), "{text}");
    assert!(!text.contains("fs.rea…"), "{text}");
}

#[test]
fn supervisor_is_never_cut_at_80_columns() {
    let mut app = app("driver_restart");
    press(&mut app, "bfault\n>");
    let text = screen(&app, 80, 24);
    let header: Vec<&str> = text.lines().skip(2).take(2).collect();
    assert!(header.iter().any(|line| line.contains(" supervisor ")), "the lanes' names:\n{text}");
    assert!(text.contains("│ supervisor "), "the process table:\n{text}");
    assert!(!text.contains("supervis "), "{text}");
}

/// The column of `glyph` on the current row (marked `▸`), and the name over that column.
fn mark_and_lane(app: &App, glyph: char) -> (usize, String) {
    let rows = cells(app, 80, 24);
    let current = rows.iter().position(|row| row.get(1) == Some(&'▸')).expect("a current row");
    let column = rows[current].iter().position(|&letter| letter == glyph).expect("the mark");
    // The lanes' names are on the two lines under the flow's top border.
    let name = rows[2..4]
        .iter()
        .find_map(|line| {
            let text: String = line.iter().collect();
            let word_at = |at: usize| line.get(at).is_some_and(|letter| letter.is_alphanumeric());
            if !word_at(column) {
                return None;
            }
            let start = (0..=column).rev().take_while(|&at| word_at(at)).last()?;
            Some(text.chars().skip(start).take_while(|letter| letter.is_alphanumeric()).collect())
        })
        .unwrap_or_default();
    (column, name)
}

#[test]
fn a_fault_is_drawn_on_the_lane_of_the_process_it_struck() {
    let mut app = app("driver_restart");
    press(&mut app, "bfault\n>");
    let (_, lane) = mark_and_lane(&app, '!');
    assert_eq!(lane, "block", "{}", screen(&app, 80, 24));
    // Its words start right beside it, not centred over the next lanes.
    assert!(screen(&app, 80, 24).contains("! injected: crash"));
    // In monolithic mode the driver is kernel code: the fault and the panic are the kernel's.
    press(&mut app, "mG");
    let (_, lane) = mark_and_lane(&app, '!');
    assert_eq!(lane, "kernel", "{}", screen(&app, 80, 24));
    let text = screen(&app, 80, 24);
    assert!(text.contains("! KERNEL PANIC (crash)"), "{text}");
}

#[test]
fn w_shows_the_notes_and_hides_them() {
    let mut app = app("file_io");
    assert!(!screen(&app, 80, 24).contains("what to watch"));
    press(&mut app, "w");
    let text = screen(&app, 80, 24);
    assert!(text.contains("what to watch"), "{text}");
    assert!(text.contains("every block the file server does not have in its cache"), "{text}");
    // The flow keeps its rows; the notes take the top of the lower half.
    assert!(text.contains("message flow"), "{text}");
    let wide = screen(&app, 160, 48);
    assert!(wide.contains("while rereading what was just written hits."), "{wide}");
    press(&mut app, "w");
    assert!(!screen(&app, 80, 24).contains("what to watch"));
    // A scenario without notes says so.
    let scenario = Scenario::parse(
        r#"Scenario(name: "quiet", processes: [(name: "a", priority: 1, program: [Print("hi\n")])])"#,
        "quiet.ron",
    )
    .expect("parses");
    let mut quiet = mksim::ui::prepare(&scenario, &RunOptions::default());
    press(&mut quiet, "w");
    assert!(screen(&quiet, 80, 24).contains("this scenario has no notes"));
}

#[test]
fn notes_are_made_single_spaced_and_have_a_limit() {
    let text = |notes: &str| {
        format!(
            r#"Scenario(name: "n", notes: "{notes}", processes: [(name: "a", priority: 1, program: [Print("hi\n")])])"#
        )
    };
    let scenario = Scenario::parse(&text("Watch:\n        the  words"), "n.ron").expect("parses");
    assert_eq!(scenario.notes.as_deref(), Some("Watch: the words"));
    assert_eq!(Scenario::parse(&text("   "), "n.ron").expect("parses").notes, None);
    let error = Scenario::parse(&text(&"word ".repeat(1000)), "n.ron").expect_err("too long");
    assert!(error.to_string().contains("at most 4000 fit"), "{error}");
}

#[test]
fn run_prints_the_notes_after_the_description() {
    let output = binary::mksim(&["run", "scenarios/file_io.ron"]);
    binary::assert_status(&output, 0);
    let text = binary::stdout(&output);
    let lines: Vec<&str> = text.lines().collect();
    assert!(lines[0].starts_with("file-io (microkernel mode): Write two files"), "{text}");
    assert!(lines[1].starts_with("  Watch: every block the file server"), "{text}");
    // The notes are wrapped to the width of a terminal.
    let notes: Vec<&&str> = lines.iter().skip(1).take_while(|line| !line.is_empty()).collect();
    assert!(notes.len() > 1 && notes.iter().all(|line| line.chars().count() <= 80), "{text}");
}

#[test]
fn every_shipped_scenario_says_what_to_watch() {
    let folder = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../scenarios");
    let mut files: Vec<PathBuf> = std::fs::read_dir(&folder)
        .expect("the scenarios folder")
        .map(|entry| entry.expect("an entry").path())
        .filter(|path| path.extension().is_some_and(|extension| extension == "ron"))
        .collect();
    files.sort();
    assert!(files.len() >= 30);
    for file in files {
        let scenario = Scenario::load(&file.display().to_string()).expect("the scenario loads");
        let notes = scenario.notes.unwrap_or_default();
        assert!(notes.starts_with("Watch"), "{}: {notes:?}", file.display());
    }
}

#[test]
fn the_breakpoint_list_shows_each_and_deletes_the_selected_one() {
    let mut app = app("file_io");
    press(&mut app, "bto block\nbfault\nblabel fs.open\n");
    assert_eq!(app.breakpoints.len(), 3);
    press(&mut app, "B");
    let text = screen(&app, 80, 24);
    for line in ["▸ 1 to block", "  2 fault", "  3 label fs.open", "d delete"] {
        assert!(text.contains(line), "{line:?} missing\n{text}");
    }
    insta::assert_snapshot!("breakpoint_list_80x24", text);
    press(&mut app, "jd");
    assert_eq!(app.breakpoints.len(), 2);
    assert!(!app.breakpoints.iter().any(|breakpoint| breakpoint.describe() == "fault"));
    let text = screen(&app, 80, 24);
    assert!(text.contains("▸ 2 label fs.open") && text.contains("breakpoint deleted: fault"), "{text}");
    // Esc closes the list; the breakpoints left still stop the run.
    press(&mut app, "\x1b");
    assert_eq!(app.breakpoint_list, None);
    press(&mut app, ">");
    assert!(screen(&app, 80, 24).contains("breakpoint: to block"));
    // D in the list deletes them all.
    press(&mut app, "BD\x1b>");
    assert!(app.breakpoints.is_empty());
    assert!(screen(&app, 80, 24).contains("no breakpoints: press b to add one"));
}

/// The process and operation of the request at `step` of the run shown.
fn request_at(app: &App, step: usize) -> (String, String) {
    let log = &app.timeline().log;
    let event = &log.events()[step];
    let (mksim_kernel::event::EventKind::MessageSent { message }
    | mksim_kernel::event::EventKind::ServiceCalled { message }) = event.kind
    else {
        panic!("step {step} is no request: {}", log.line(event));
    };
    (log.process_name(event.process).to_owned(), log.operation_name(log.message(message).label))
}

#[test]
fn m_keeps_the_position_at_the_same_operation_of_the_other_run() {
    let mut app = app("file_io");
    // The first fs.read call, then the second.
    press(&mut app, "blabel fs.read\n>>");
    let micro_step = app.step;
    assert_eq!(request_at(&app, micro_step), ("editor".into(), "fs.read".into()));
    press(&mut app, "m");
    assert_eq!(app.run().mode, "monolithic");
    assert_eq!(request_at(&app, app.step), ("editor".into(), "fs.read".into()));
    let text = screen(&app, 80, 24);
    assert!(text.contains("showing the monolithic run at editor's 2nd fs.read"), "{text}");
    // It is the second: one fs.read call of editor's comes before it in this run too.
    let mono_step = app.step;
    let earlier = (0..mono_step)
        .filter(|&step| {
            matches!(
                app.timeline().log.events()[step].kind,
                mksim_kernel::event::EventKind::ServiceCalled { .. }
                    | mksim_kernel::event::EventKind::MessageSent { .. }
            ) && request_at(&app, step) == ("editor".into(), "fs.read".into())
        })
        .count();
    assert_eq!(earlier, 1);
    // And back: the same request of the microkernel run.
    press(&mut app, "m");
    assert_eq!(app.step, micro_step);
    // From a row the other run lacks (fs's own block.read), the latest request both share decides.
    let mut app = self::app("file_io");
    press(&mut app, ":305\nbto block\n>");
    let (process, operation) = request_at(&app, app.step);
    assert_eq!(process, "fs");
    assert!(operation.starts_with("block."), "{operation}");
    press(&mut app, "m");
    let (process, _) = request_at(&app, app.step);
    assert_eq!(process, "editor", "monolithic mode has no fs process");
    assert!(screen(&app, 80, 24).contains("showing the monolithic run at editor's"), "{}", screen(&app, 80, 24));
}

#[test]
fn operations_on_narrow_arrows_keep_their_names_apart() {
    let mut app = app("driver_restart");
    press(&mut app, "bfault\n>");
    let text = screen(&app, 80, 24);
    // Between fs and block at 80 columns, block.read and block.write were both `bloc…`: the
    // arguments and then the service give way, and what is left tells them apart.
    assert!(text.contains("◀─ write─●") && text.contains("●╌ write╌▷"), "{text}");
    assert!(!text.contains("bloc…"), "{text}");
    // Where there is room, the whole operation and the start of its arguments show.
    assert!(text.contains("fs.write(fd=3"), "{text}");
}

#[test]
fn notes_too_long_for_the_screen_say_so() {
    let mut app = app("driver_restart");
    press(&mut app, "w");
    let small = screen(&app, 80, 24);
    assert!(small.contains("what to watch (more on a taller terminal)") && small.contains("…│"), "{small}");
    let large = screen(&app, 160, 48);
    assert!(large.contains("what to watch · w closes") && large.contains("panics."), "{large}");
}
