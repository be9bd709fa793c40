//! The supervisor's `depends_on` map: which supervised server may be blocked on which, as
//! written and as checked.
//!
//! ```ron
//! supervisor: (restart: { "fs": Always, "block": Always }, depends_on: { "fs": ["block"] }),
//! ```
//!
//! A server the map leaves out gets the defaults of
//! [`mksim_servers::supervisor::order::default_dependencies`]; an entry replaces them for its
//! server (`"fs": []` says the file server waits on nothing). Both sides must be servers the
//! supervisor looks after, no server may depend on itself, and the whole must have no cycle,
//! which the error names.

use super::faults::RawSupervisor;
use super::syntax::Step;
use super::wording::quoted;
use super::{ScenarioError, Validator};
use mksim_servers::service::Service;
use mksim_servers::supervisor::order::{default_dependencies, dependency_order};
use std::collections::{BTreeMap, BTreeSet};

const SUPERVISOR: [Step<'static>; 2] = [Step::Field("servers"), Step::Field("supervisor")];

impl Validator<'_> {
    /// Each of the `supervised` servers' dependencies, in the order of `supervised`.
    pub(super) fn dependencies(
        &self,
        raw: &RawSupervisor,
        supervised: &[String],
    ) -> Result<Vec<Vec<String>>, ScenarioError> {
        let looked_after = || supervised.iter().map(|name| quoted(name)).collect::<Vec<_>>().join(", ");
        for (server, dependencies) in &raw.depends_on {
            let entry = [SUPERVISOR[0], SUPERVISOR[1], Step::Field("depends_on"), Step::Entry(server)];
            let item = || format!("servers.supervisor.depends_on {}", quoted(server));
            if !supervised.contains(server) {
                let message = format!("is not a server the supervisor looks after ({})", looked_after());
                return Err(self.fail_key(&entry, item(), message));
            }
            for (index, dependency) in dependencies.iter().enumerate() {
                let at = [entry[0], entry[1], entry[2], entry[3], Step::Index(index)];
                if dependency == server {
                    return Err(self.fail(&at, item(), format!("{} cannot depend on itself", quoted(server))));
                }
                if !supervised.contains(dependency) {
                    let message = format!(
                        "depends on {}, which the supervisor does not look after ({})",
                        quoted(dependency),
                        looked_after()
                    );
                    return Err(self.fail(&at, item(), message));
                }
            }
        }
        let names = with_defaults(&raw.depends_on, supervised);
        let positions: Vec<Vec<usize>> = names
            .iter()
            .map(|names| names.iter().filter_map(|name| supervised.iter().position(|server| server == name)).collect())
            .collect();
        if let Err(cycle) = dependency_order(&positions) {
            let words: Vec<String> = cycle.iter().map(|&index| quoted(&supervised[index])).collect();
            // The defaults have no cycle of their own, so one of its servers has an entry.
            let declared =
                cycle.iter().map(|&index| &supervised[index]).find(|name| raw.depends_on.contains_key(*name));
            let first = declared.unwrap_or(&supervised[cycle[0]]);
            let entry = [SUPERVISOR[0], SUPERVISOR[1], Step::Field("depends_on"), Step::Entry(first)];
            let message = format!("the dependencies go round in a cycle: {}", words.join(" → "));
            return Err(self.fail_key(&entry, format!("servers.supervisor.depends_on {}", quoted(first)), message));
        }
        Ok(names)
    }
}

/// Each supervised server's dependencies: its entry in `declared`, else the defaults.
fn with_defaults(declared: &BTreeMap<String, Vec<String>>, supervised: &[String]) -> Vec<Vec<String>> {
    let services: BTreeSet<Service> = supervised.iter().filter_map(|name| Service::from_name(name)).collect();
    supervised
        .iter()
        .map(|server| match (declared.get(server), Service::from_name(server)) {
            (Some(names), _) => names.clone(),
            (None, Some(service)) => {
                default_dependencies(service, &services).into_iter().map(|service| service.name().to_owned()).collect()
            }
            (None, None) => Vec::new(),
        })
        .collect()
}
