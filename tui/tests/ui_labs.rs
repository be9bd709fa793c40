//! The course pack's labs in the terminal UI: students step through them there, with the
//! starter as handed out and with a finished program. Each lab, both ways, in both modes, takes
//! every key of the help at its start and its end and draws at 80×24 and 140×40 without a
//! panic, with the lab's name in the title.
//!
//! The labs live in `scenarios/labs/`, outside the top-level list the other UI tests go through,
//! because a starter fails by design.

mod common;

use common::{codes, key};
use mksim::ui::app::App;
use mksim::ui::view::{KEYS, Palette, draw};
use mksim_core::run::RunOptions;
use mksim_core::scenario::{ProgramOverride, ProgramSource, Scenario};
use ratatui::Terminal;
use ratatui::backend::TestBackend;
use ratatui::crossterm::event::KeyCode;
use std::path::{Path, PathBuf};

fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// Each lab's folder name, sorted.
fn labs() -> Vec<String> {
    let mut labs: Vec<String> = std::fs::read_dir(workspace().join("scenarios/labs"))
        .expect("the labs folder")
        .map(|entry| entry.expect("a folder entry").path())
        .filter(|path| path.is_dir())
        .map(|path| path.file_name().expect("a name").to_string_lossy().into_owned())
        .collect();
    labs.sort();
    assert!(labs.len() >= 6, "{labs:?}");
    labs
}

/// The process students write, as the lab's grading command (in its opening comment) names it.
fn graded_process(text: &str) -> String {
    let command = text.split("--program ").nth(1).expect("the lab names its grading command");
    command.split('=').next().expect("split yields a part").to_owned()
}

fn text_of(app: &App, width: u16, height: u16) -> String {
    let mut terminal = Terminal::new(TestBackend::new(width, height)).expect("a test terminal");
    terminal.draw(|frame| draw(frame, app, Palette { colour: false })).expect("drawing into a buffer");
    let buffer = terminal.backend().buffer().clone();
    buffer.content().iter().map(|cell| cell.symbol()).collect()
}

fn every_key_at_both_ends(scenario: &Scenario, lab: &str) {
    let mut app = mksim::ui::prepare(scenario, &RunOptions::default());
    let keys: Vec<KeyCode> = KEYS.iter().flat_map(|(keys, _)| codes(keys)).collect();
    for mode in 0..2 {
        for end in [false, true] {
            for &code in &keys {
                // As `m` does: the rows shown are the active run's.
                app.active = mode;
                app.refilter();
                app.go_to(if end { usize::MAX } else { 0 });
                app.prompt = None;
                app.help = None;
                app.breakpoint_list = None;
                app.handle_key(key(code));
                app.tick();
                if app.prompt.is_some() {
                    app.handle_key(key(KeyCode::Esc));
                }
                for (width, height) in [(80, 24), (140, 40)] {
                    let text = text_of(&app, width, height);
                    assert!(text.contains("lab "), "{lab}: no lab name on the screen after {code:?}");
                }
            }
        }
    }
}

#[test]
fn every_lab_opens_in_the_terminal_ui_as_handed_out_and_solved() {
    for lab in labs() {
        let file = workspace().join("scenarios/labs").join(&lab).join("lab.ron");
        let file = file.display().to_string();
        let starter = Scenario::load(&file).unwrap_or_else(|error| panic!("{error}"));
        every_key_at_both_ends(&starter, &lab);
        let text = std::fs::read_to_string(&file).expect("readable");
        let solution = workspace().join("tests/labs").join(format!("{lab}.rhai"));
        let program = ProgramOverride { process: graded_process(&text), source: ProgramSource::File(solution) };
        let solved = Scenario::load_with_programs(&file, &[program]).unwrap_or_else(|error| panic!("{error}"));
        every_key_at_both_ends(&solved, &lab);
    }
}
