//! The state summaries the pipe, message-queue and socket services leave in the log (what the
//! terminal UI's inspector shows): on every scenario in both modes they decode, none repeats
//! the one before, they cost nothing, and where both modes complete the services end in the
//! same state in both.

use mksim_core::run::{RunOptions, RunReport, run};
use mksim_core::scenario::Scenario;
use mksim_kernel::fault::ServiceModule;
use mksim_kernel::{EventKind, Outcome};
use mksim_servers::system::Mode;
use mksim_tests::scenarios::files as scenario_files;
use mksim_userland::service_state::ServiceSummary;
use std::collections::BTreeMap;

fn run_file(path: &std::path::Path, mode: Mode) -> RunReport {
    let scenario = Scenario::load(&path.display().to_string()).unwrap_or_else(|error| panic!("{error}"));
    run(&scenario, mode, &RunOptions::default())
}

/// Every summary of the run, in log order, by module.
fn summaries(report: &RunReport) -> BTreeMap<ServiceModule, Vec<ServiceSummary>> {
    let log = &report.log;
    let mut all: BTreeMap<ServiceModule, Vec<ServiceSummary>> = BTreeMap::new();
    for event in log.events() {
        if let EventKind::ServiceState { module, state } = event.kind {
            let summary = ServiceSummary::decode(module, log.service_state(state))
                .unwrap_or_else(|| panic!("a {} summary that does not decode", module.name()));
            all.entry(module).or_default().push(summary);
        }
    }
    all
}

#[test]
fn summaries_decode_and_none_repeats_the_one_before() {
    let mut seen = 0;
    for path in scenario_files() {
        for mode in [Mode::Microkernel, Mode::Monolithic] {
            for (module, list) in summaries(&run_file(&path, mode)) {
                seen += list.len();
                for pair in list.windows(2) {
                    assert_ne!(pair[0], pair[1], "{} ({mode:?}): {} repeated", path.display(), module.name());
                }
            }
        }
    }
    assert!(seen > 0, "no scenario left a service state summary");
}

#[test]
fn summaries_are_free_markers() {
    for path in scenario_files() {
        let report = run_file(&path, Mode::Microkernel);
        let events = report.log.events();
        for (index, event) in events.iter().enumerate() {
            if matches!(event.kind, EventKind::ServiceState { .. }) {
                // Left between two events of a poll, it takes no time of its own.
                let before = index.checked_sub(1).map(|previous| events[previous].time);
                assert!(before.is_none_or(|time| time == event.time), "{}: a summary took time", path.display());
            }
        }
    }
}

#[test]
fn where_both_modes_complete_the_services_end_in_the_same_state() {
    let mut compared = 0;
    for path in scenario_files() {
        let [micro, mono] = [Mode::Microkernel, Mode::Monolithic].map(|mode| run_file(&path, mode));
        if micro.outcome != Outcome::Completed || mono.outcome != Outcome::Completed {
            continue;
        }
        let last = |report: &RunReport| -> BTreeMap<ServiceModule, ServiceSummary> {
            let all = summaries(report).into_iter();
            all.filter_map(|(module, list)| Some((module, list.last()?.clone()))).collect()
        };
        assert_eq!(last(&micro), last(&mono), "{}: the modes' services end apart", path.display());
        compared += last(&micro).len();
    }
    assert!(compared >= 3, "pipes, queues and sockets are each compared somewhere (compared {compared})");
}
