//! The real `mksim` binary, for tests that drive it as people do.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::OnceLock;

/// The workspace root.
pub fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..").canonicalize().expect("the workspace root exists")
}

/// The `mksim` binary of this build, built first if need be.
///
/// `CARGO_BIN_EXE_mksim` exists only for tests of the package that owns the
/// binary, so the binary is looked for next to this test executable (the
/// same target folder and profile) and built with cargo when it is missing
/// or older than the sources (`cargo test -p mksim-tests` alone does not
/// rebuild it).
pub fn mksim_binary() -> &'static Path {
    static BINARY: OnceLock<PathBuf> = OnceLock::new();
    BINARY.get_or_init(|| {
        let test_executable = std::env::current_exe().expect("the test executable has a path");
        // target/<profile>/deps/<test> → target/<profile>
        let profile_folder =
            test_executable.parent().and_then(Path::parent).expect("tests run from target/<profile>/deps");
        let binary = profile_folder.join(format!("mksim{}", std::env::consts::EXE_SUFFIX));
        let built = std::fs::metadata(&binary).and_then(|metadata| metadata.modified()).ok();
        if built.is_none_or(|built| built < newest_source()) {
            build_binary(profile_folder);
        }
        assert!(binary.exists(), "{} is missing after cargo build", binary.display());
        binary
    })
}

/// When the binary's sources last changed.
fn newest_source() -> std::time::SystemTime {
    let mut newest = std::time::SystemTime::UNIX_EPOCH;
    let mut folders: Vec<PathBuf> = ["tui", "kernel", "servers", "userland", "scenarios"]
        .iter()
        .map(|crate_folder| workspace().join(crate_folder))
        .collect();
    while let Some(folder) = folders.pop() {
        let Ok(entries) = std::fs::read_dir(&folder) else { continue };
        for entry in entries.filter_map(Result::ok) {
            let path = entry.path();
            let Ok(metadata) = entry.metadata() else { continue };
            if metadata.is_dir() {
                if !matches!(path.file_name().and_then(|name| name.to_str()), Some("tests" | "snapshots")) {
                    folders.push(path);
                }
            } else if path
                .extension()
                .is_some_and(|extension| ["rs", "ron", "toml"].iter().any(|known| extension == *known))
            {
                newest = newest.max(metadata.modified().unwrap_or(newest));
            }
        }
    }
    newest
}

/// Builds the binary into the target folder this test build uses.
fn build_binary(profile_folder: &Path) {
    let target = profile_folder.parent().expect("the profile folder is inside the target folder");
    let mut cargo = Command::new(env!("CARGO"));
    cargo
        .current_dir(workspace())
        .args(["build", "--quiet", "-p", "mksim", "--bin", "mksim", "--target-dir"])
        .arg(target);
    match profile_folder.file_name().and_then(|name| name.to_str()) {
        Some("debug") | None => {}
        Some("release") => {
            cargo.arg("--release");
        }
        Some(profile) => {
            cargo.args(["--profile", profile]);
        }
    }
    let status = cargo.status().expect("cargo runs");
    assert!(status.success(), "cargo build -p mksim failed: {status}");
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
