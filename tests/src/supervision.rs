//! What a supervisor did in a run, read off its event log.

use mksim_core::run::RunReport;
use mksim_kernel::EventKind;
use mksim_userland::protocol::HEARTBEAT;

/// The heartbeats the supervisor sent, in order: when, and to which server.
pub fn heartbeats(report: &RunReport) -> Vec<(u64, String)> {
    let log = &report.log;
    log.events()
        .iter()
        .filter(|event| log.process_name(event.process) == "supervisor")
        .filter_map(|event| match event.kind {
            EventKind::MessageSent { message } if log.message(message).label == HEARTBEAT => {
                let owner = log.object_info(log.message(message).port).and_then(|info| info.owner)?;
                Some((event.time, log.process_name(owner).to_owned()))
            }
            _ => None,
        })
        .collect()
}
