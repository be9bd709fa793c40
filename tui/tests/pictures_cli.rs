//! The picture flags of the `mksim` binary: `compare --svg`, `sweep --svg` and
//! `export --format timeline-svg` write the pictures the README shows, byte for byte, and a
//! picture that cannot be written is a usage error (status 2) with a message, never a panic.

mod binary;

use binary::{assert_status, mksim, stderr, stdout, workspace};
use std::path::{Path, PathBuf};

/// A folder of its own for one test's files, emptied first.
fn scratch(test: &str) -> PathBuf {
    let folder = Path::new(env!("CARGO_TARGET_TMPDIR")).join("pictures").join(test);
    let _ = std::fs::remove_dir_all(&folder);
    std::fs::create_dir_all(&folder).expect("the scratch folder can be made");
    folder
}

/// The committed picture of the README that `written` must equal.
#[track_caller]
fn assert_same_as_readme(written: &Path, picture: &str) {
    let written = std::fs::read_to_string(written).expect("the picture was written");
    let committed = std::fs::read_to_string(workspace().join("docs/pictures").join(picture)).expect("committed");
    assert!(written.starts_with("<svg"), "{}", &written[..written.len().min(200)]);
    assert!(written == committed, "the command draws docs/pictures/{picture} differently");
}

#[test]
fn compare_writes_the_picture_and_still_prints_the_table() {
    let folder = scratch("compare");
    let path = folder.join("compare.svg");
    let output = mksim(&["compare", "scenarios/file_io.ron", "--svg", path.to_str().unwrap()]);
    assert_status(&output, 0);
    assert!(stdout(&output).contains("per operation (average)"), "{}", stdout(&output));
    assert_same_as_readme(&path, "compare_file_io.svg");
}

#[test]
fn export_draws_the_timeline_to_a_file_or_standard_output() {
    let folder = scratch("timeline");
    let path = folder.join("timeline.svg");
    let scenario = "scenarios/priority_inversion.ron";
    let output = mksim(&["export", scenario, "--format", "timeline-svg", "-o", path.to_str().unwrap()]);
    assert_status(&output, 0);
    assert_same_as_readme(&path, "timeline_priority_inversion.svg");
    let printed = mksim(&["export", scenario, "--format", "timeline-svg"]);
    assert_status(&printed, 0);
    assert_eq!(stdout(&printed), std::fs::read_to_string(&path).unwrap());
}

#[test]
fn sweep_writes_a_line_per_profile() {
    let folder = scratch("sweep");
    let path = folder.join("sweep.svg");
    let output = mksim(&[
        "sweep",
        "scenarios/size_sweep.ron",
        "--set",
        "size=8,64,512,4096",
        "--profiles",
        "mach3,l4,sel4",
        "--svg",
        path.to_str().unwrap(),
    ]);
    assert_status(&output, 0);
    assert_same_as_readme(&path, "sweep_size.svg");
}

#[test]
fn a_picture_that_cannot_be_written_is_a_usage_error() {
    let folder = scratch("unwritable");
    let path = folder.join("no such folder").join("compare.svg");
    let output = mksim(&["compare", "scenarios/ping_pong.ron", "--svg", path.to_str().unwrap()]);
    assert_status(&output, 2);
    assert!(stderr(&output).contains("cannot write"), "{}", stderr(&output));
    let output =
        mksim(&["export", "scenarios/ping_pong.ron", "--format", "timeline-svg", "-o", path.to_str().unwrap()]);
    assert_status(&output, 2);
    assert!(stderr(&output).contains("cannot write"), "{}", stderr(&output));
}

#[test]
fn export_draws_the_sequence_diagram_of_both_modes() {
    let folder = scratch("sequence");
    let path = folder.join("sequence.svg");
    let output = mksim(&[
        "export",
        "scenarios/driver_restart.ron",
        "--format",
        "svg",
        "--side-by-side",
        "-o",
        path.to_str().unwrap(),
    ]);
    assert_status(&output, 0);
    assert_same_as_readme(&path, "sequence_driver_restart.svg");
}

#[test]
fn the_sequence_flags_are_checked() {
    let cases: [(&[&str], &str); 4] = [
        (&["--format", "jsonl", "--from", "3"], "go with --format svg only"),
        (&["--format", "svg", "--from", "9", "--to", "3"], "--from 9 comes after --to 3"),
        (&["--format", "svg", "--filter", "nobody"], "--filter nobody: no such process"),
        (&["--format", "svg", "--from", "-1"], "-1"),
    ];
    for (flags, expected) in cases {
        let mut args = vec!["export", "scenarios/ping_pong.ron"];
        args.extend_from_slice(flags);
        let output = mksim(&args);
        assert_status(&output, 2);
        assert!(stderr(&output).contains(expected), "{flags:?}: {}", stderr(&output));
    }
}
