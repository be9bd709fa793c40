//! Wait-for chains: refusing a send that would close a cycle, and reporting
//! every blocked process when nothing can run any more.
//!
//! A process waits for another when it is send-blocked on a port that process
//! owns, or reply-blocked on it. Receiving and waiting on a notification wait
//! for no one in particular, so they end a chain.

use crate::capability::{Location, Rights};
use crate::ids::ProcessId;
use crate::kernel::Kernel;
use crate::outcome::{BlockedProcess, DeadlockReport};
use crate::process::ProcessState;

impl Kernel {
    /// True when `sender` blocking on a port owned by `owner` would close a wait-for cycle.
    pub(crate) fn closes_cycle(&self, sender: ProcessId, owner: ProcessId) -> bool {
        let mut current = Some(owner);
        for _ in 0..=self.processes.len() {
            match current {
                Some(id) if id == sender => return true,
                Some(id) if self.is_alive(id) => current = self.process(id).state.waits_for(),
                _ => return false,
            }
        }
        false
    }

    /// The wait-for chain starting at `id`, and whether it loops.
    fn wait_chain(&self, id: ProcessId) -> (Vec<ProcessId>, bool) {
        let mut chain = Vec::new();
        let mut current = self.process(id).state.waits_for();
        while let Some(next) = current {
            if next == id || chain.contains(&next) {
                return (chain, next == id);
            }
            chain.push(next);
            current = if self.is_alive(next) { self.process(next).state.waits_for() } else { None };
        }
        (chain, false)
    }

    /// True when `id` waits for a message or a signal that no other process could ever send:
    /// no one else holds a capability with the send right to the port or notification it
    /// waits on, and none travels in a message. Such a process is not in a deadlock (it waits
    /// for no one); it waits on something nobody can reach.
    fn no_possible_sender(&self, id: ProcessId) -> bool {
        let object = match self.process(id).state {
            ProcessState::ReceiveBlocked { port } => port,
            ProcessState::WaitingNotification { notification } => notification,
            _ => return false,
        };
        !self.tree.iter().any(|(_, capability, location)| {
            let could_send = capability.object == object && capability.rights.contains(Rights::SEND);
            could_send
                && match location {
                    Location::InTransit => true,
                    Location::Slot { process, .. } => {
                        process != id.index && self.processes[process as usize].state.is_alive()
                    }
                }
        })
    }

    pub(crate) fn deadlock_report(&self) -> DeadlockReport {
        let blocked = self
            .processes
            .iter()
            .filter(|process| process.state.is_blocked() || process.state == crate::process::ProcessState::AwaitingBoot)
            .map(|process| {
                let (chain, in_cycle) = self.wait_chain(process.id);
                BlockedProcess {
                    process: process.id,
                    name: process.name.clone(),
                    state: process.state,
                    description: self.describe_state(process.id),
                    chain,
                    in_cycle,
                    no_possible_sender: self.no_possible_sender(process.id),
                }
            })
            .collect();
        DeadlockReport { blocked }
    }
}
