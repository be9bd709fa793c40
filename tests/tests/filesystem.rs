//! File-system integrity, scenario by scenario, in both modes: an operation
//! that fails leaves nothing of itself behind, in memory (what `Stat` and
//! `Readdir` show next) or on the disk (the files the run ends with, read by
//! mounting the disk again).
//!
//! Each test is a small scenario whose client states every failure it
//! expects with `Fails(error: ..)`, so a client that exits with 0 saw each
//! step answer as the script says. The random sequences of operations are in
//! `filesystem_model.rs`.

use mksim_core::run::{RunOptions, RunReport, run};
use mksim_core::scenario::Scenario;
use mksim_servers::fault::{FaultKind, FaultSpec, Trigger};
use mksim_servers::system::Mode;
use std::collections::BTreeMap;

const MODES: [Mode; 2] = [Mode::Microkernel, Mode::Monolithic];

/// A scenario with the file server on a disk of `blocks` blocks of 64 bytes (4 of them hold
/// the metadata) and one client, `client`, running `program` (RON list items).
fn on_tiny_disk(blocks: u32, program: &str) -> Scenario {
    let text = format!(
        "Scenario(
            name: \"filesystem-test\",
            servers: (file: (cache_blocks: 2), block: (blocks: {blocks}, block_size: 64, latency_cycles: 500)),
            processes: [(name: \"client\", priority: 5, program: [{program}])],
        )"
    );
    Scenario::parse(&text, "filesystem-test.ron").unwrap_or_else(|error| panic!("{error}\n{text}"))
}

fn run_in(scenario: &Scenario, mode: Mode) -> RunReport {
    run(scenario, mode, &RunOptions::default())
}

/// Checks that the client exited with 0 (every step answered as its script says).
#[track_caller]
fn assert_client_passed(report: &RunReport) {
    let client = report.process("client").expect("a client");
    assert_eq!(
        client.exit_code,
        Some(0),
        "{} mode: {} ({:?}); outcome {:?}",
        report.mode.name(),
        client.state,
        client.fault,
        report.outcome
    );
    assert!(report.outcome.is_completed(), "{} mode: {:?}", report.mode.name(), report.outcome);
}

fn files(entries: &[(&str, &str)]) -> BTreeMap<String, Vec<u8>> {
    entries.iter().map(|(path, text)| ((*path).to_owned(), text.as_bytes().to_vec())).collect()
}

#[test]
fn a_write_that_does_not_fit_keeps_no_block_and_moves_nothing() {
    // 4 data blocks: 256 bytes. The 512-byte write does not fit; it used to keep the 4 blocks
    // it had taken, so the 64-byte write after it failed too.
    let big = "x".repeat(512);
    let small = "y".repeat(64);
    let scenario = on_tiny_disk(
        8,
        &format!(
            r#"Open(path: "/big", create: true, as: "big"),
            Fails(error: "no space", op: Write(fd: "big", text: "{big}")),
            Stat(path: "/big", expect_size: 0),
            Open(path: "/small", create: true, as: "small"),
            Write(fd: "small", text: "{small}"),
            Stat(path: "/small", expect_size: 64),
            Write(fd: "big", text: "ok"),
            Seek(fd: "big", offset: 0),
            Read(fd: "big", len: 10, expect: "ok"),"#
        ),
    );
    for mode in MODES {
        let report = run_in(&scenario, mode);
        assert_client_passed(&report);
        assert_eq!(report.files, files(&[("/big", "ok"), ("/small", &small)]), "{mode:?}");
    }
}

#[test]
fn an_open_whose_entry_does_not_fit_leaves_no_entry() {
    // The metadata of this disk holds 108 bytes: the root and two files with 45-letter names
    // take 107, and a file `/g` needs 7 more.
    let first = "a".repeat(45);
    let second = "b".repeat(45);
    let scenario = on_tiny_disk(
        8,
        &format!(
            r#"Create("/{first}"),
            Create("/{second}"),
            Fails(error: "no space", op: Open(path: "/g", create: true, as: "g")),
            Fails(error: "not found", op: Stat(path: "/g")),
            Readdir(path: "/", expect: ["{first}", "{second}"]),
            Stat(path: "/", expect_size: 2),
            Fails(error: "no space", op: Create("/g")),
            Fails(error: "no space", op: Mkdir("/g")),
            Fails(error: "not found", op: Open(path: "/g", as: "g")),
            Unlink("/{second}"),
            Open(path: "/g", create: true, as: "g"),
            Write(fd: "g", text: "room again"),
            Readdir(path: "/", expect: ["{first}", "g"]),"#
        ),
    );
    for mode in MODES {
        let report = run_in(&scenario, mode);
        assert_client_passed(&report);
        assert_eq!(report.files, files(&[(&format!("/{first}"), ""), ("/g", "room again")]), "{mode:?}");
    }
}

#[test]
fn a_name_over_255_bytes_is_refused_and_leaves_no_entry() {
    let long = "n".repeat(256);
    let scenario = on_tiny_disk(
        16,
        &format!(
            r#"Fails(error: "name too long", op: Open(path: "/{long}", create: true, as: "f")),
            Fails(error: "name too long", op: Mkdir("/{long}")),
            Readdir(path: "/", expect: []),"#
        ),
    );
    for mode in MODES {
        let report = run_in(&scenario, mode);
        assert_client_passed(&report);
        assert!(report.files.is_empty(), "{mode:?}: {:?}", report.files);
    }
}

#[test]
fn a_driver_crash_at_any_transfer_leaves_what_the_client_was_last_told() {
    // A long name (the metadata then takes two blocks), a file created, written over five
    // blocks, then overwritten; the client prints a digit after each operation answered
    // without error. Wherever the block driver crashes (no supervisor restarts it), the disk
    // holds what the last answered operation left, never a mix: the operation the crash
    // struck (which fails, or in monolithic mode takes the kernel down unanswered) left
    // nothing of itself.
    let long = format!("/{}", "l".repeat(40));
    let (old, new) = ("a".repeat(300), "b".repeat(300));
    let scenario = on_tiny_disk(
        24,
        &format!(
            r#"Create("{long}"), Print("1"),
            Open(path: "/data", create: true, as: "f"), Print("2"),
            Write(fd: "f", text: "{old}"), Print("3"),
            Seek(fd: "f", offset: 0), Print("4"),
            Write(fd: "f", text: "{new}"), Print("5"),"#
        ),
    );
    // The files after each answered operation.
    let after: Vec<BTreeMap<String, Vec<u8>>> = vec![
        files(&[]),
        files(&[(&long, "")]),
        files(&[(&long, ""), ("/data", "")]),
        files(&[(&long, ""), ("/data", &old)]),
        files(&[(&long, ""), ("/data", &old)]),
        files(&[(&long, ""), ("/data", &new)]),
    ];
    let answered = |report: &RunReport| report.console.get("client").map_or(0, String::len);
    for mode in MODES {
        let report = run_in(&scenario, mode);
        assert_client_passed(&report);
        assert_eq!(answered(&report), after.len() - 1);
    }
    // The run takes fewer than 40 block transfers: the last crashes strike after it.
    let mut reached = BTreeMap::new();
    for at in 1..=40 {
        for mode in MODES {
            let crash = FaultSpec { server: "block".into(), kind: FaultKind::Crash, trigger: Trigger::AtMessage(at) };
            let report = run(&scenario, mode, &RunOptions { faults: Some(vec![crash]), ..RunOptions::default() });
            let answered = answered(&report);
            assert_eq!(report.files, after[answered], "{mode:?}, crash at transfer {at}, {answered} answered");
            reached.entry(answered).or_insert((mode, at));
        }
    }
    // Crashes struck before, during and after every operation that transfers blocks (all but
    // the seek: a crash cannot stop the run after 3 answers).
    assert_eq!(reached.keys().copied().collect::<Vec<_>>(), [0, 1, 2, 4, 5], "{reached:?}");
}
