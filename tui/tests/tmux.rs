//! End to end: the real `mksim tui` in a real terminal. The test starts the
//! binary in a detached tmux session of 80×24, steps with `send-keys`, reads
//! the screen with `capture-pane`, quits, and checks that the program ended
//! and gave the terminal back as it found it.
//!
//! It needs tmux (`apt-get install -y tmux`; CI installs it). Without tmux it
//! fails, unless `MKSIM_SKIP_TMUX=1` is set.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

/// How long the UI may take to come up (a debug build simulates both modes first).
const START_TIMEOUT: Duration = Duration::from_secs(10);
/// How long a key may take to show on the screen.
const KEY_TIMEOUT: Duration = Duration::from_secs(5);

/// A tmux server of its own, on a socket no other test or user shares;
/// killed, and its socket file removed, when dropped.
struct Tmux {
    socket: String,
    /// The socket file, once the server runs.
    path: Option<PathBuf>,
}

impl Tmux {
    fn new() -> Tmux {
        let nanos = SystemTime::now().duration_since(UNIX_EPOCH).map(|time| time.subsec_nanos()).unwrap_or(0);
        Tmux { socket: format!("mksim-test-{}-{nanos}", std::process::id()), path: None }
    }

    fn run(&self, arguments: &[&str]) -> Output {
        Command::new("tmux")
            .arg("-L")
            .arg(&self.socket)
            .args(arguments)
            .output()
            .unwrap_or_else(|error| panic!("cannot run tmux {arguments:?}: {error}"))
    }

    /// Runs a tmux command that must succeed.
    fn ok(&self, arguments: &[&str]) -> String {
        let output = self.run(arguments);
        assert!(
            output.status.success(),
            "tmux {arguments:?} failed: {}",
            String::from_utf8_lossy(&output.stderr).trim()
        );
        String::from_utf8_lossy(&output.stdout).into_owned()
    }

    fn screen(&self) -> String {
        self.ok(&["capture-pane", "-p", "-t", "ui"])
    }

    /// Presses keys, by tmux's names (`N`, `Right`, `?`, `Enter`).
    fn keys(&self, keys: &[&str]) {
        let mut arguments = vec!["send-keys", "-t", "ui"];
        arguments.extend_from_slice(keys);
        self.ok(&arguments);
    }

    /// A pane variable, such as `alternate_on`.
    fn variable(&self, name: &str) -> String {
        self.ok(&["display-message", "-p", "-t", "ui", &format!("#{{{name}}}")]).trim().to_owned()
    }

    /// Polls the screen until `done` holds; fails with the last screen after `timeout`.
    fn wait_for(&self, what: &str, timeout: Duration, done: impl Fn(&str) -> bool) -> String {
        let start = Instant::now();
        loop {
            let screen = self.screen();
            if done(&screen) {
                return screen;
            }
            assert!(start.elapsed() < timeout, "after {timeout:?}, still waiting for {what}; the screen:\n{screen}");
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    fn session_exists(&self) -> bool {
        self.run(&["has-session", "-t", "ui"]).status.success()
    }
}

impl Drop for Tmux {
    fn drop(&mut self) {
        let _ = self.run(&["kill-server"]);
        if let Some(path) = &self.path {
            let _ = std::fs::remove_file(path);
        }
    }
}

/// Whether tmux can be run; without it the test fails unless told to skip.
fn tmux_available() -> bool {
    if Command::new("tmux").arg("-V").output().is_ok_and(|output| output.status.success()) {
        return true;
    }
    if std::env::var("MKSIM_SKIP_TMUX").is_ok_and(|value| value == "1") {
        eprintln!("tmux is not installed; skipping the end-to-end test because MKSIM_SKIP_TMUX=1");
        return false;
    }
    panic!(
        "tmux is not installed, and the terminal UI's end-to-end test needs it: install it \
         (apt-get install -y tmux), or set MKSIM_SKIP_TMUX=1 to skip this test"
    );
}

/// Quotes `text` for the POSIX shell tmux runs the command with.
fn quoted(text: &Path) -> String {
    format!("'{}'", text.display().to_string().replace('\'', r"'\''"))
}

#[test]
fn the_real_binary_steps_compares_helps_and_quits_in_tmux() {
    if !tmux_available() {
        return;
    }
    let binary = PathBuf::from(env!("CARGO_BIN_EXE_mksim"));
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    // After mksim ends, the shell reports its status and whether the terminal's
    // settings are those it started with, then waits for Enter (which needs a
    // terminal out of raw mode) and ends the session.
    let command = format!(
        "before=$(stty -g); {} tui scenarios/ping_pong.ron; status=$?; \
         if [ \"$(stty -g)\" = \"$before\" ]; then tty=restored; else tty=changed; fi; \
         echo \"after mksim: status $status, tty $tty\"; read line",
        quoted(&binary)
    );
    let mut tmux = Tmux::new();
    let root = root.display().to_string();
    tmux.ok(&["new-session", "-d", "-s", "ui", "-x", "80", "-y", "24", "-c", &root, &command]);
    tmux.path = Some(PathBuf::from(tmux.variable("socket_path")));

    let screen = tmux.wait_for("the status line", START_TIMEOUT, |screen| screen.contains(" step 0/"));
    assert!(screen.contains("mksim · ping-pong"), "{screen}");
    assert!(screen.contains("? help · q quit"), "{screen}");
    assert_eq!(tmux.variable("alternate_on"), "1", "the UI draws on the alternate screen");

    // Four rows on (the end of the boot, then three messages): ping's second call to pong,
    // under lanes named after the processes.
    tmux.keys(&["N", "N", "N", "N"]);
    let screen = tmux.wait_for("the third message", KEY_TIMEOUT, |screen| screen.contains(" step 37/"));
    assert!(screen.contains("boot done"), "{screen}");
    let header = screen.lines().nth(2).unwrap_or_default();
    for lane in ["name", "pong", "ping"] {
        assert!(header.contains(lane), "no {lane} lane in {header:?}\n{screen}");
    }
    assert!(screen.contains('◀') && screen.contains('●'), "no call arrow\n{screen}");
    assert!(screen.contains('▷'), "no reply arrow\n{screen}");
    assert!(screen.contains("label 1 \"ping 2\""), "{screen}");

    // Four events on, pong has taken the call and ping waits for the reply.
    tmux.keys(&["Right", "Right", "Right", "Right"]);
    let screen = tmux.wait_for("step 41", KEY_TIMEOUT, |screen| screen.contains(" step 41/"));
    let ping = screen.lines().find(|line| line.starts_with("│ ping ")).unwrap_or_default();
    assert!(ping.contains("reply-blocked on pong"), "{ping:?}\n{screen}");

    tmux.keys(&["c"]);
    let screen = tmux.wait_for("the compare pane", KEY_TIMEOUT, |screen| screen.contains("compare: microkernel"));
    assert!(screen.lines().any(|line| line.contains("messages") && line.contains('6')), "{screen}");
    assert!(screen.contains("context switches"), "{screen}");

    tmux.keys(&["?"]);
    let screen = tmux.wait_for("the help", KEY_TIMEOUT, |screen| screen.contains("next message"));
    assert!(screen.contains(" keys "), "{screen}");
    assert!(screen.contains("previous event"), "{screen}");

    // Any key closes the help; q then quits.
    tmux.keys(&["q"]);
    tmux.wait_for("the help to close", KEY_TIMEOUT, |screen| !screen.contains("next message"));
    assert!(tmux.screen().contains(" step 41/"), "the key that closed the help did nothing else");
    tmux.keys(&["q"]);
    let screen = tmux.wait_for("mksim to end", KEY_TIMEOUT, |screen| screen.contains("after mksim:"));
    assert!(screen.contains("after mksim: status 0, tty restored"), "{screen}");
    assert!(!screen.contains("q quit"), "the UI's screen is gone\n{screen}");
    assert_eq!(tmux.variable("alternate_on"), "0", "back on the normal screen");
    assert_eq!(tmux.variable("cursor_flag"), "1", "the cursor is shown again");

    // The shell's `read` takes a line only from a terminal out of raw mode; then the session ends.
    tmux.keys(&["Enter"]);
    let start = Instant::now();
    while tmux.session_exists() {
        assert!(start.elapsed() < KEY_TIMEOUT, "the session did not end:\n{}", tmux.screen());
        std::thread::sleep(Duration::from_millis(50));
    }
}
