//! End to end: the real `mksim tui` in a real terminal. The test opens a
//! pseudo-terminal of 80×24, starts the binary in it, presses keys by writing
//! to the terminal, reads the screen through a terminal emulator (vt100) fed
//! with everything the program writes, quits, and checks that the program
//! ended and gave the terminal back as it found it: its settings (raw mode
//! off), the normal screen and a visible cursor.
//!
//! It needs nothing but a Unix pseudo-terminal: no terminal multiplexer.

#![cfg(unix)]

use portable_pty::{Child, CommandBuilder, MasterPty, PtySize, native_pty_system};
use std::io::{Read, Write};
use std::num::NonZeroU16;
use std::path::Path;
use std::sync::mpsc::{Receiver, RecvTimeoutError, channel};
use std::time::{Duration, Instant};

/// How long the UI may take to come up (a debug build simulates both modes first, on a
/// machine that may be busy building).
const START_TIMEOUT: Duration = Duration::from_secs(30);
/// How long a key may take to show on the screen.
const KEY_TIMEOUT: Duration = Duration::from_secs(10);
const ROWS: u16 = 24;
const COLUMNS: u16 = 80;

/// Keys as a terminal sends them.
const RIGHT: &str = "\x1b[C";

/// The binary running in a pseudo-terminal, and the screen it has drawn so far.
struct Terminal {
    master: Box<dyn MasterPty + Send>,
    /// The terminal's own end, kept open until the program's settings have been read after it
    /// ended; dropping it lets the reader see the end of the output.
    slave: Option<Box<dyn portable_pty::SlavePty + Send>>,
    writer: Box<dyn Write + Send>,
    child: Box<dyn Child + Send + Sync>,
    /// The terminal's settings before the program started.
    settings_before: String,
    /// What the program writes, in chunks, from a reader thread; disconnected at the end.
    output: Receiver<Vec<u8>>,
    screen: vt100::Parser,
}

impl Terminal {
    /// Starts `mksim ARGUMENTS` in the workspace root, in a fresh terminal of 80×24.
    fn start(arguments: &[&str]) -> Terminal {
        let size = PtySize { rows: ROWS, cols: COLUMNS, pixel_width: 0, pixel_height: 0 };
        let pair = native_pty_system().openpty(size).expect("a pseudo-terminal opens");
        let mut command = CommandBuilder::new(env!("CARGO_BIN_EXE_mksim"));
        command.args(arguments);
        command.cwd(Path::new(env!("CARGO_MANIFEST_DIR")).join(".."));
        command.env("TERM", "xterm-256color");
        let settings_before = settings(pair.master.as_ref());
        let child = pair.slave.spawn_command(command).expect("mksim starts in the terminal");
        let mut reader = pair.master.try_clone_reader().expect("the terminal can be read");
        let writer = pair.master.take_writer().expect("the terminal can be written to");
        let (sender, output) = channel();
        std::thread::spawn(move || {
            let mut buffer = [0u8; 8192];
            // Ends at the end of the output (an error once no program holds the terminal open).
            while let Ok(read) = reader.read(&mut buffer) {
                if read == 0 || sender.send(buffer[..read].to_vec()).is_err() {
                    break;
                }
            }
        });
        let (rows, columns) = (NonZeroU16::new(ROWS).expect("rows"), NonZeroU16::new(COLUMNS).expect("columns"));
        Terminal {
            master: pair.master,
            slave: Some(pair.slave),
            writer,
            child,
            settings_before,
            output,
            screen: vt100::Parser::new(rows, columns, 0),
        }
    }

    /// Takes in what the program wrote, waiting up to `wait` for the first chunk.
    fn pump(&mut self, wait: Duration) -> bool {
        match self.output.recv_timeout(wait) {
            Ok(bytes) => {
                self.screen.process(&bytes);
                while let Ok(bytes) = self.output.try_recv() {
                    self.screen.process(&bytes);
                }
                true
            }
            Err(RecvTimeoutError::Timeout) => true,
            Err(RecvTimeoutError::Disconnected) => false,
        }
    }

    fn contents(&self) -> String {
        self.screen.screen().contents()
    }

    /// Presses keys: the bytes a terminal sends for them.
    fn keys(&mut self, keys: &[&str]) {
        for key in keys {
            self.writer.write_all(key.as_bytes()).expect("a key can be sent");
        }
        self.writer.flush().expect("keys are sent");
    }

    /// Reads the screen until `done` holds; fails with the last screen after `timeout`.
    fn wait_for(&mut self, what: &str, timeout: Duration, done: impl Fn(&str) -> bool) -> String {
        let start = Instant::now();
        loop {
            let screen = self.contents();
            if done(&screen) {
                return screen;
            }
            let left = timeout.saturating_sub(start.elapsed());
            assert!(!left.is_zero(), "after {timeout:?}, still waiting for {what}; the screen:\n{screen}");
            if !self.pump(left.min(Duration::from_millis(100))) {
                let screen = self.contents();
                assert!(done(&screen), "the program ended while waiting for {what}; the screen:\n{screen}");
                return screen;
            }
        }
    }

    /// Waits for the program to end, then for the rest of its output; its exit status and the
    /// terminal's settings it left.
    fn wait_for_end(&mut self, timeout: Duration) -> (portable_pty::ExitStatus, String) {
        let start = Instant::now();
        let status = loop {
            if let Some(status) = self.child.try_wait().expect("the program can be waited for") {
                break status;
            }
            assert!(start.elapsed() < timeout, "the program did not end; the screen:\n{}", self.contents());
            self.pump(Duration::from_millis(50));
        };
        let settings_after = settings(self.master.as_ref());
        // With no program holding the terminal open any more, the reader sees the end of the output.
        self.slave = None;
        while start.elapsed() < timeout && self.pump(Duration::from_millis(100)) {}
        (status, settings_after)
    }
}

/// A terminal's settings (raw mode or not, echo, line editing, ...), to compare.
fn settings(master: &(dyn MasterPty + Send)) -> String {
    format!("{:?}", master.get_termios().expect("the terminal's settings can be read"))
}

impl Drop for Terminal {
    fn drop(&mut self) {
        if self.child.try_wait().ok().flatten().is_none() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

#[test]
fn the_real_binary_steps_compares_helps_and_quits_in_a_terminal() {
    let mut terminal = Terminal::start(&["tui", "scenarios/ping_pong.ron"]);
    let screen = terminal.wait_for("the status line", START_TIMEOUT, |screen| screen.contains(" step 0/"));
    assert!(screen.contains("mksim · ping-pong"), "{screen}");
    assert!(screen.contains("? help · q quit"), "{screen}");
    assert!(terminal.screen.screen().alternate_screen(), "the UI draws on the alternate screen\n{screen}");
    assert!(terminal.screen.screen().hide_cursor(), "the UI hides the cursor\n{screen}");
    let settings_during = settings(terminal.master.as_ref());
    assert_ne!(settings_during, terminal.settings_before, "the UI puts the terminal in raw mode");

    // Four rows on (the end of the boot, then three messages): ping's second call to pong,
    // under lanes named after the processes.
    terminal.keys(&["N", "N", "N", "N"]);
    let screen = terminal.wait_for("the third message", KEY_TIMEOUT, |screen| screen.contains(" step 37/"));
    assert!(screen.contains("boot done"), "{screen}");
    let header = screen.lines().nth(2).unwrap_or_default();
    for lane in ["name", "pong", "ping"] {
        assert!(header.contains(lane), "no {lane} lane in {header:?}\n{screen}");
    }
    assert!(screen.contains('◀') && screen.contains('●'), "no call arrow\n{screen}");
    assert!(screen.contains('▷'), "no reply arrow\n{screen}");
    assert!(screen.contains("label 1 \"ping 2\""), "{screen}");

    // Four events on, pong has taken the call and ping waits for the reply.
    terminal.keys(&[RIGHT, RIGHT, RIGHT, RIGHT]);
    let screen = terminal.wait_for("step 41", KEY_TIMEOUT, |screen| screen.contains(" step 41/"));
    let ping = screen.lines().find(|line| line.starts_with("│ ping ")).unwrap_or_default();
    assert!(ping.contains("reply-blocked on pong"), "{ping:?}\n{screen}");

    terminal.keys(&["c"]);
    let screen = terminal.wait_for("the compare pane", KEY_TIMEOUT, |screen| screen.contains("compare: microkernel"));
    assert!(screen.lines().any(|line| line.contains("messages") && line.contains('6')), "{screen}");
    assert!(screen.contains("context switches"), "{screen}");

    terminal.keys(&["?"]);
    let screen = terminal.wait_for("the help", KEY_TIMEOUT, |screen| screen.contains("next message"));
    assert!(screen.contains(" keys "), "{screen}");
    assert!(screen.contains("previous event"), "{screen}");

    // Any key closes the help; q then quits.
    terminal.keys(&["q"]);
    let screen = terminal.wait_for("the help to close", KEY_TIMEOUT, |screen| !screen.contains("next message"));
    assert!(screen.contains(" step 41/"), "the key that closed the help did nothing else\n{screen}");
    terminal.keys(&["q"]);
    let (status, settings_after) = terminal.wait_for_end(KEY_TIMEOUT);
    let screen = terminal.contents();
    assert!(status.success(), "mksim ended with {status:?}; the screen:\n{screen}");
    assert!(!terminal.screen.screen().alternate_screen(), "back on the normal screen\n{screen}");
    assert!(!screen.contains("q quit"), "the UI's screen is gone\n{screen}");
    assert!(!terminal.screen.screen().hide_cursor(), "the cursor is shown again\n{screen}");
    assert_eq!(settings_after, terminal.settings_before, "the terminal's settings are those it started with");
}
