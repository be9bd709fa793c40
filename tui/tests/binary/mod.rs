//! The real `mksim` binary, for tests that drive it as people do.

#![allow(dead_code)] // Each test file uses only some of these.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// The workspace root.
pub fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..").canonicalize().expect("the workspace root exists")
}

/// The `mksim` binary of this build: cargo builds it before the tests of its package run.
pub fn mksim_binary() -> &'static Path {
    Path::new(env!("CARGO_BIN_EXE_mksim"))
}

/// Runs `mksim` with `args` in the workspace root.
pub fn mksim(args: &[&str]) -> Output {
    Command::new(mksim_binary()).args(args).current_dir(workspace()).output().expect("mksim runs")
}

/// What it printed on standard output.
pub fn stdout(output: &Output) -> String {
    String::from_utf8(output.stdout.clone()).expect("mksim prints UTF-8")
}

/// What it printed on standard error.
pub fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

/// The exit status, with both streams in the message when it is not `expected`.
#[track_caller]
pub fn assert_status(output: &Output, expected: i32) {
    assert_eq!(
        output.status.code(),
        Some(expected),
        "status {:?}\n--- stdout\n{}\n--- stderr\n{}",
        output.status,
        String::from_utf8_lossy(&output.stdout),
        stderr(output)
    );
}

/// Standard output as JSON.
pub fn json(output: &Output) -> serde_json::Value {
    serde_json::from_str(&stdout(output)).unwrap_or_else(|error| panic!("not JSON ({error}):\n{}", stdout(output)))
}
