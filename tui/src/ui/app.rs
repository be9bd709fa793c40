//! The UI's state and what each key does to it. Drawing lives in `view`;
//! this module never touches the terminal, so tests drive it with synthetic keys.

pub use super::breakpoints::{Breakpoint, Vocabulary};
use super::position::{matching_step, ordinal};
use super::timeline::Timeline;
use crate::run::RunReport;
use ratatui::crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use std::collections::BTreeMap;

/// Events a running replay advances per tick, slowest first.
pub const SPEEDS: [usize; 7] = [1, 2, 5, 10, 50, 200, 1000];

/// Ticks of a running replay per second (the UI wakes every 50 ms while playing).
pub const TICKS_PER_SECOND: usize = 20;

/// Which page of the help overlay is open.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum HelpPage {
    /// The keys.
    Keys,
    /// What every mark on the message flow and in the process table means.
    Marks,
}

/// One run shown by the UI.
pub struct RunView {
    /// Its mode's name.
    pub mode: &'static str,
    /// Cost profile name.
    pub profile: String,
    /// The log, indexed.
    pub timeline: Timeline,
    /// Its metrics and per-operation figures, for the compare pane.
    pub report: RunReport,
}

/// What a prompt at the bottom is asking for.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum PromptKind {
    /// A step number to jump to.
    GoTo,
    /// Text to filter the message flow by.
    Filter,
    /// A breakpoint to add.
    Break,
}

/// A prompt being typed.
#[derive(Clone, PartialEq, Eq, Debug)]
pub struct Prompt {
    /// What it asks for.
    pub kind: PromptKind,
    /// What was typed.
    pub text: String,
}

/// The UI's whole state.
pub struct App {
    /// Scenario name.
    pub title: String,
    /// What to observe.
    pub description: String,
    /// What to watch for (the scenario's notes), if it has any.
    pub notes: Option<String>,
    /// The notes panel is open.
    pub notes_shown: bool,
    /// The runs (microkernel first, then monolithic).
    pub runs: Vec<RunView>,
    /// Which run is shown.
    pub active: usize,
    /// The current event.
    pub step: usize,
    /// Whether the replay is running.
    pub playing: bool,
    /// Index into [`SPEEDS`].
    pub speed: usize,
    /// The process shown in the inspector.
    pub selected: usize,
    /// The help overlay is open, at this page.
    pub help: Option<HelpPage>,
    /// The compare pane replaces the process table and inspector.
    pub compare: bool,
    /// On a narrow terminal, the inspector is shown instead of the process table.
    pub inspector: bool,
    /// The script each scripted process runs, by process name, for the inspector.
    pub scripts: BTreeMap<String, String>,
    /// First operation row shown in the compare pane.
    pub compare_scroll: usize,
    /// A prompt being typed.
    pub prompt: Option<Prompt>,
    /// Text the message flow is filtered by.
    pub filter: Option<String>,
    /// Flow rows that pass the filter (indices into the active timeline's rows).
    pub visible_rows: Vec<usize>,
    /// Breakpoints.
    pub breakpoints: Vec<Breakpoint>,
    /// The breakpoint list is open, with this breakpoint selected.
    pub breakpoint_list: Option<usize>,
    /// The names breakpoints may use.
    pub vocabulary: Vocabulary,
    /// A one-line notice (breakpoint hit, bad input).
    pub notice: Option<String>,
    /// The user asked to quit.
    pub quit: bool,
}

impl App {
    /// An app showing `runs`, at the first event of the first.
    pub fn new(title: String, description: String, runs: Vec<RunView>) -> App {
        let vocabulary = Vocabulary::of(runs.iter().map(|run| &run.timeline));
        let mut app = App {
            title,
            description,
            notes: None,
            notes_shown: false,
            runs,
            active: 0,
            step: 0,
            playing: false,
            speed: 2,
            selected: 0,
            help: None,
            compare: false,
            inspector: false,
            scripts: BTreeMap::new(),
            compare_scroll: 0,
            prompt: None,
            filter: None,
            visible_rows: Vec::new(),
            breakpoints: Vec::new(),
            breakpoint_list: None,
            vocabulary,
            notice: None,
            quit: false,
        };
        app.refilter();
        app
    }

    /// The run shown.
    pub fn run(&self) -> &RunView {
        &self.runs[self.active]
    }

    /// The timeline shown.
    pub fn timeline(&self) -> &Timeline {
        &self.run().timeline
    }

    fn last_step(&self) -> usize {
        self.timeline().len().saturating_sub(1)
    }

    /// Moves to `step` (clamped to the log).
    pub fn go_to(&mut self, step: usize) {
        self.step = step.min(self.last_step());
    }

    /// Handles one key press.
    pub fn handle_key(&mut self, key: KeyEvent) {
        if self.prompt.is_some() {
            self.prompt_key(key);
            return;
        }
        if let Some(page) = self.help {
            // `?` turns to the other page; any other key closes the help.
            self.help = match (page, key.code) {
                (HelpPage::Keys, KeyCode::Char('?')) => Some(HelpPage::Marks),
                (HelpPage::Marks, KeyCode::Char('?')) => Some(HelpPage::Keys),
                _ => None,
            };
            return;
        }
        if self.breakpoint_list.is_some() {
            self.breakpoint_list_key(key);
            return;
        }
        self.notice = None;
        let ctrl = key.modifiers.contains(KeyModifiers::CONTROL);
        match key.code {
            KeyCode::Char('q') => self.quit = true,
            KeyCode::Char('c') if ctrl => self.quit = true,
            KeyCode::Char('?') | KeyCode::F(1) => self.help = Some(HelpPage::Keys),
            KeyCode::Char('w') => self.toggle_notes(),
            KeyCode::Char('n') | KeyCode::Right => self.go_to(self.step + 1),
            KeyCode::Char('p') | KeyCode::Left => self.go_to(self.step.saturating_sub(1)),
            KeyCode::Char('N') | KeyCode::Char(']') | KeyCode::PageDown => self.next_message(),
            KeyCode::Char('P') | KeyCode::Char('[') | KeyCode::PageUp => self.previous_message(),
            KeyCode::Char('g') | KeyCode::Home => self.go_to(0),
            KeyCode::Char('G') | KeyCode::End => self.go_to(usize::MAX),
            KeyCode::Char(' ') => self.playing = !self.playing && self.step < self.last_step(),
            KeyCode::Char('+') | KeyCode::Char('=') => self.speed = (self.speed + 1).min(SPEEDS.len() - 1),
            KeyCode::Char('-') => self.speed = self.speed.saturating_sub(1),
            KeyCode::Char('>') => self.run_to_breakpoint(),
            KeyCode::Up | KeyCode::Char('k') if self.compare => {
                self.compare_scroll = self.compare_scroll.saturating_sub(1)
            }
            KeyCode::Down | KeyCode::Char('j') if self.compare => {
                let operations = self.runs.iter().map(|run| run.report.per_operation.len()).max().unwrap_or(0);
                self.compare_scroll = (self.compare_scroll + 1).min(operations);
            }
            KeyCode::Up | KeyCode::Char('k') => self.selected = self.selected.saturating_sub(1),
            KeyCode::Down | KeyCode::Char('j') | KeyCode::Tab => self.select_next(),
            KeyCode::Char('c') => self.compare = !self.compare,
            KeyCode::Char('i') | KeyCode::Enter => self.inspector = !self.inspector,
            KeyCode::Char('m') => self.switch_mode(),
            KeyCode::Char(':') => self.prompt = Some(Prompt { kind: PromptKind::GoTo, text: String::new() }),
            KeyCode::Char('/') => self.prompt = Some(Prompt { kind: PromptKind::Filter, text: String::new() }),
            KeyCode::Char('b') => self.prompt = Some(Prompt { kind: PromptKind::Break, text: String::new() }),
            KeyCode::Char('B') => self.breakpoint_list = Some(0),
            KeyCode::Esc => {
                self.filter = None;
                self.refilter();
            }
            _ => {}
        }
    }

    fn select_next(&mut self) {
        let count = self.timeline().snapshot_at(self.step).processes.len();
        if count > 0 {
            self.selected = (self.selected + 1) % count;
        }
    }

    fn switch_mode(&mut self) {
        if self.runs.len() < 2 {
            return;
        }
        let other = (self.active + 1) % self.runs.len();
        let found = matching_step(&self.runs[self.active].timeline, self.step, &self.runs[other].timeline);
        self.active = other;
        self.playing = false;
        self.refilter();
        let mode = self.run().mode;
        self.notice = Some(match found {
            Some((step, occurrence)) => {
                self.go_to(step);
                let name = mksim_kernel::escape_controls(&occurrence.process);
                let nth = ordinal(occurrence.earlier + 1);
                format!("showing the {mode} run at {name}'s {nth} {}", occurrence.operation)
            }
            None => {
                self.go_to(0);
                format!("showing the {mode} run from the start: no request before this step is in both runs")
            }
        });
    }

    fn toggle_notes(&mut self) {
        if self.notes.is_some() {
            self.notes_shown = !self.notes_shown;
        } else {
            self.notice = Some("this scenario has no notes".into());
        }
    }

    /// Keys while the breakpoint list is open: select, delete, close.
    fn breakpoint_list_key(&mut self, key: KeyEvent) {
        let Some(selected) = self.breakpoint_list else { return };
        let last = self.breakpoints.len().saturating_sub(1);
        match key.code {
            KeyCode::Up | KeyCode::Char('k') => self.breakpoint_list = Some(selected.saturating_sub(1)),
            KeyCode::Down | KeyCode::Char('j') => self.breakpoint_list = Some((selected + 1).min(last)),
            KeyCode::Char('d') | KeyCode::Delete | KeyCode::Backspace if selected < self.breakpoints.len() => {
                let removed = self.breakpoints.remove(selected);
                self.notice = Some(format!("breakpoint deleted: {}", removed.describe()));
                self.breakpoint_list = Some(selected.min(self.breakpoints.len().saturating_sub(1)));
            }
            KeyCode::Char('D') => {
                self.breakpoints.clear();
                self.notice = Some("breakpoints cleared".into());
                self.breakpoint_list = Some(0);
            }
            KeyCode::Char('b') => {
                self.breakpoint_list = None;
                self.prompt = Some(Prompt { kind: PromptKind::Break, text: String::new() });
            }
            _ => self.breakpoint_list = None,
        }
    }

    fn prompt_key(&mut self, key: KeyEvent) {
        let Some(prompt) = self.prompt.as_mut() else { return };
        match key.code {
            KeyCode::Esc => self.prompt = None,
            KeyCode::Backspace => {
                prompt.text.pop();
            }
            KeyCode::Char(letter) => prompt.text.push(letter),
            KeyCode::Enter => {
                let prompt = self.prompt.take().expect("checked above");
                self.submit(prompt);
            }
            _ => {}
        }
    }

    fn submit(&mut self, prompt: Prompt) {
        match prompt.kind {
            PromptKind::GoTo => match prompt.text.trim().parse::<usize>() {
                Ok(step) => self.go_to(step),
                Err(_) => self.notice = Some(format!("not a step number: {:?}", prompt.text)),
            },
            PromptKind::Filter => {
                let text = prompt.text.trim().to_owned();
                self.filter = (!text.is_empty()).then_some(text);
                self.refilter();
            }
            PromptKind::Break => match Breakpoint::parse(&prompt.text, &self.vocabulary) {
                Ok(breakpoint) => {
                    self.notice = Some(format!("breakpoint set: {}", breakpoint.describe()));
                    self.breakpoints.push(breakpoint);
                }
                Err(notice) => self.notice = Some(notice),
            },
        }
    }

    /// Recomputes which flow rows pass the filter.
    pub fn refilter(&mut self) {
        let timeline = &self.runs[self.active].timeline;
        self.visible_rows = match &self.filter {
            None => (0..timeline.rows.len()).collect(),
            Some(text) => {
                let text = text.to_lowercase();
                let haystack = timeline.search_text();
                (0..timeline.rows.len()).filter(|&row| haystack[row].contains(&text)).collect()
            }
        };
    }

    fn next_message(&mut self) {
        let rows = &self.timeline().rows;
        let next = self.visible_rows.iter().map(|&row| rows[row].event as usize).find(|&event| event > self.step);
        match next {
            Some(event) => self.step = event,
            None => self.notice = Some("no later message".into()),
        }
    }

    fn previous_message(&mut self) {
        let rows = &self.timeline().rows;
        let previous =
            self.visible_rows.iter().rev().map(|&row| rows[row].event as usize).find(|&event| event < self.step);
        match previous {
            Some(event) => self.step = event,
            None => self.go_to(0),
        }
    }

    /// Advances a running replay by one tick; stops at the end or a breakpoint.
    pub fn tick(&mut self) {
        if self.playing {
            self.advance(SPEEDS[self.speed]);
        }
    }

    fn run_to_breakpoint(&mut self) {
        if self.breakpoints.is_empty() {
            self.notice = Some("no breakpoints: press b to add one".into());
            return;
        }
        self.advance(usize::MAX);
    }

    fn advance(&mut self, events: usize) {
        let last = self.last_step();
        let target = self.step.saturating_add(events).min(last);
        for step in self.step + 1..=target {
            if let Some(hit) = self.breakpoint_at(step) {
                self.step = step;
                self.playing = false;
                self.notice = Some(format!("breakpoint: {hit}"));
                return;
            }
        }
        self.step = target;
        if self.step >= last {
            if !self.playing || !self.breakpoints.is_empty() {
                self.notice = Some("the end of the run: no breakpoint was hit".into());
            }
            self.playing = false;
        }
    }

    /// The breakpoint event `step` hits, in words.
    pub fn breakpoint_at(&self, step: usize) -> Option<String> {
        let timeline = self.timeline();
        let event = timeline.log.events().get(step)?;
        let hit = self.breakpoints.iter().find(|breakpoint| breakpoint.hits(timeline, step))?;
        Some(format!("{} — {}", hit.describe(), timeline.log.line(event).trim()))
    }
}
