//! How a booted system's programs ended, for tests that compare runs.

use mksim_kernel::ProcessState;
use mksim_servers::system::System;

/// Per program, in boot order: its exit code, or its final state if it did not exit.
pub fn exit_codes(system: &System) -> Vec<Result<i32, ProcessState>> {
    system
        .programs
        .iter()
        .map(|(_, id)| match system.kernel.process_by_id(*id).expect("booted programs exist").state() {
            ProcessState::Exited { code } => Ok(code),
            state => Err(state),
        })
        .collect()
}
