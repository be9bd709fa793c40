//! What a service holds, kept in the log: after a request changed the state of the pipes, the
//! message queues or the sockets, the service leaves a summary of it, and views show the state
//! at any step by reading the latest summary up to that step.
//!
//! A service's state lives inside its server process (microkernel mode) or inside the kernel's
//! service modules (monolithic mode), where the log cannot see it; a summary is how it gets
//! out, the same way in both modes. The kernel keeps the summary as opaque bytes: the
//! protocols live above the kernel and decode them (see [`crate::event::MessageDescriber`]).
//! A summary is a free marker, like a script line: no cycles, no step, no metric. Its bytes
//! count toward the run's memory budget with the rest of the log, and a summary equal to the
//! module's previous one is not kept again, so requests that change nothing add nothing.

use crate::event::EventLog;
use crate::fault::ServiceModule;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// Where the log keeps a service's state summary; read it with [`EventLog::service_state`].
#[derive(Clone, Copy, PartialEq, Eq, Debug, Serialize, Deserialize)]
pub struct StateId(u32);

/// The summaries of a run, in one byte arena, as message data is kept.
#[derive(Clone, PartialEq, Eq, Debug, Default)]
pub(crate) struct ServiceStates {
    bytes: Vec<u8>,
    /// Where each summary ends in `bytes`; it starts where the previous one ends.
    ends: Vec<usize>,
    /// The latest summary of each module, so a repeat is not kept.
    latest: BTreeMap<ServiceModule, StateId>,
}

impl ServiceStates {
    fn range(&self, id: StateId) -> std::ops::Range<usize> {
        let index = id.0 as usize;
        let start = index.checked_sub(1).map_or(0, |previous| self.ends[previous]);
        start..self.ends[index]
    }

    /// Bytes the summaries take.
    pub(crate) fn memory_bytes(&self) -> usize {
        self.bytes.len()
            + self.ends.len() * size_of::<usize>()
            + self.latest.len() * 2 * size_of::<(ServiceModule, StateId)>()
    }
}

impl EventLog {
    /// Keeps `summary` as `module`'s latest state; `None` when it equals the one kept before.
    pub(crate) fn record_service_state(&mut self, module: ServiceModule, summary: &[u8]) -> Option<StateId> {
        let states = &mut self.service_states;
        if let Some(&latest) = states.latest.get(&module)
            && states.bytes[states.range(latest)] == *summary
        {
            return None;
        }
        let id = StateId(u32::try_from(states.ends.len()).expect("more than 4 billion service states in one run"));
        states.bytes.extend_from_slice(summary);
        states.ends.push(states.bytes.len());
        states.latest.insert(module, id);
        Some(id)
    }

    /// The bytes of a service's state summary, as its service encoded them.
    pub fn service_state(&self, id: StateId) -> &[u8] {
        &self.service_states.bytes[self.service_states.range(id)]
    }

    /// A service's state summary in words, when the log's describer knows the service.
    pub fn describe_service_state(&self, module: ServiceModule, id: StateId) -> String {
        let described = self.describer().and_then(|describer| (describer.state)(module, self.service_state(id)));
        match described {
            Some(text) => crate::text::escape_controls(&text).into_owned(),
            None => format!("{} state ({} B)", module.name(), self.service_state(id).len()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_summary_is_kept_once_until_it_changes() {
        let mut log = EventLog::default();
        let first = log.record_service_state(ServiceModule::Pipe, b"one").unwrap();
        assert_eq!(log.record_service_state(ServiceModule::Pipe, b"one"), None);
        let queue = log.record_service_state(ServiceModule::MessageQueue, b"one").unwrap();
        let second = log.record_service_state(ServiceModule::Pipe, b"two!").unwrap();
        assert_eq!(log.service_state(first), b"one");
        assert_eq!(log.service_state(queue), b"one");
        assert_eq!(log.service_state(second), b"two!");
        assert!(log.memory_bytes() >= 10);
    }
}
