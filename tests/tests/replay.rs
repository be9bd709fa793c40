//! The replay of the log ([`Replay`], what the terminal UI shows) ends where the
//! kernel ended: for every shipped scenario in both modes, the process states,
//! priorities, capability tables and queued messages rebuilt from the log equal
//! the kernel's own, and every notification bit the kernel still holds was
//! signalled in the log.

use mksim_core::scenario::Scenario;
use mksim_kernel::replay::{Activity, HeldCap, Replay};
use mksim_kernel::{Kernel, ObjectId, ObjectKind};
use mksim_servers::system::{Mode, boot};
use mksim_tests::scenarios::files as scenario_files;
use std::collections::{BTreeMap, BTreeSet};

/// What differs between the replay of `kernel`'s log and the kernel itself.
fn differences(kernel: &Kernel, replay: &Replay) -> Vec<String> {
    let mut problems = Vec::new();
    if replay.processes.len() != kernel.processes().len() {
        problems.push(format!(
            "{} processes replayed, {} in the kernel",
            replay.processes.len(),
            kernel.processes().len()
        ));
    }
    for (process, replayed) in kernel.processes().iter().zip(&replay.processes) {
        let name = process.name();
        // A kernel panic stops every process where it stood; the log calls them lost.
        if replayed.activity != Activity::Lost && replayed.activity != Activity::of(process.state()) {
            problems.push(format!("{name}: replayed {:?}, the kernel holds {:?}", replayed.activity, process.state()));
        }
        if (replayed.base_priority, replayed.priority) != (process.base_priority(), process.effective_priority()) {
            problems.push(format!("{name}: replayed priorities differ from the kernel's"));
        }
        let held: BTreeMap<u32, (ObjectId, _, _)> = kernel
            .capabilities(process.id())
            .into_iter()
            .map(|(slot, capability, _)| (slot.0, (capability.object, capability.rights, capability.badge)))
            .collect();
        let replayed_caps: BTreeMap<u32, (ObjectId, _, _)> = replayed
            .caps
            .iter()
            .map(|(&slot, &HeldCap { object, rights, badge, .. })| (slot, (object, rights, badge)))
            .collect();
        if held != replayed_caps {
            problems.push(format!("{name}: the kernel holds {held:?}, the replay {replayed_caps:?}"));
        }
    }
    let log = kernel.log();
    let ports: BTreeSet<ObjectId> = log.messages().iter().map(|record| record.port).collect();
    for port in ports {
        let queued = kernel.waiting_messages(port);
        let replayed = replay.waiting.get(&port).cloned().unwrap_or_default();
        if queued != replayed {
            problems.push(format!("{port}: the kernel queues {queued:?}, the replay {replayed:?}"));
        }
    }
    for (&notification, &signalled) in &replay.signalled {
        let pending = kernel.notification_bits(notification).unwrap_or(0);
        if pending & !signalled != 0 {
            problems.push(format!("{notification}: the kernel holds bits {pending:#x}, only {signalled:#x} signalled"));
        }
    }
    let kinds = kernel.all_capabilities().into_iter().map(|(_, capability, _)| capability.object);
    for notification in kinds.filter(|&object| kernel.object_kind(object) == Some(ObjectKind::Notification)) {
        let pending = kernel.notification_bits(notification).unwrap_or(0);
        if pending != 0 && !replay.signalled.contains_key(&notification) {
            problems.push(format!("{notification}: the kernel holds bits {pending:#x}, none signalled in the log"));
        }
    }
    problems
}

#[test]
fn the_replayed_log_ends_where_the_kernel_ended_for_every_scenario_in_both_modes() {
    let mut compared = 0;
    for path in scenario_files() {
        let scenario = Scenario::load(&path.display().to_string()).unwrap_or_else(|error| panic!("{error}"));
        for mode in [Mode::Microkernel, Mode::Monolithic] {
            let mut system = boot(scenario.system(scenario.kernel_in(mode)), mode);
            system.kernel.run();
            let replay = Replay::of(system.kernel.log());
            assert_eq!(replay.applied, system.kernel.log().len());
            let problems = differences(&system.kernel, &replay);
            assert!(problems.is_empty(), "{} in {} mode:\n{}", path.display(), mode.name(), problems.join("\n"));
            compared += 1;
        }
    }
    assert!(compared >= 2 * 18, "only {compared} runs compared");
}
