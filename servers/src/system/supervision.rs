//! Booting the supervisor, and the name server when the supervisor looks after it.
//!
//! A supervised name server is restartable like the other servers, with two differences: its
//! port is kept across restarts (every process's capability to it must keep working), and
//! a new incarnation starts with the permissions of the first but no names, waiting for the
//! supervisor to give them back. For that the supervisor gets a copy of every capability
//! published at boot and a backup queue the name server copies programs' registrations to.

use super::{Boot, SupervisorSpec, WardSpec, client_badge};
use crate::name::{Backup, Registry, name_server};
use crate::serve::ServerFaults;
use crate::service::Service;
use crate::supervisor::names::NameCopies;
use crate::supervisor::{MAX_WARDS, Ward, order, supervisor};
use mksim_kernel::{Badge, FullPolicy, ProcessId, ProcessSpec, Restarter, Rights, Slot};
use std::cell::RefCell;
use std::rc::Rc;

/// Boots the supervisor with a handle on each server it looks after, and lets it register
/// their names again.
pub(super) fn boot_supervisor(boot: &mut Boot, spec: &SupervisorSpec) {
    let Some((name_server, name_slot)) = boot.name_server else { return };
    let id = boot.kernel.create_process(ProcessSpec::server(Service::Supervisor.name(), spec.priority));
    let badge = client_badge(id);
    let Ok(name_cap) =
        boot.kernel.grant_derived(id, name_server, name_slot, Rights::SEND | Rights::GRANT, Badge(badge))
    else {
        return;
    };
    let booted: Vec<&WardSpec> =
        spec.wards.iter().filter(|ward| boot.servers.contains_key(ward.server.as_str())).take(MAX_WARDS).collect();
    let position = |name: &String| booted.iter().position(|ward| &ward.server == name);
    let dependencies: Vec<Vec<usize>> =
        booted.iter().map(|ward| ward.depends_on.iter().filter_map(position).collect()).collect();
    // A validated scenario has no cycle; should one slip through, the list order stands.
    let order = order::dependency_order(&dependencies).unwrap_or_else(|_| (0..booted.len()).collect());
    let mut wards = Vec::new();
    for &index in &order {
        let ward = booted[index];
        let Some(&(server, endpoint)) = boot.servers.get(ward.server.as_str()) else { continue };
        let handle = boot.kernel.create_process_handle(server);
        let handle = boot.kernel.grant(id, handle, Rights::READ | Rights::WRITE, Badge::NONE).expect("free slots");
        let port = boot.kernel.grant(id, endpoint, Rights::SEND, Badge::NONE).expect("free slots");
        boot.registry.allow_replace(badge, &ward.server);
        let depends_on = dependencies[index]
            .iter()
            .filter_map(|dependency| order.iter().position(|placed| placed == dependency))
            .filter(|&placed| placed < wards.len())
            .collect();
        wards.push(Ward {
            name: ward.server.clone(),
            handle,
            port,
            policy: ward.policy,
            backoff_cycles: ward.backoff_cycles,
            depends_on,
        });
    }
    let names = wards.iter().any(|ward| ward.name == Service::Name.name()).then(|| keep_names(boot, id, badge));
    let heartbeat = spec.heartbeat;
    boot.kernel.await_ready(id);
    boot.kernel.start(id, move |sys| supervisor(sys, name_cap, wards, heartbeat, names));
}

/// Gives the supervisor `id` (known to the name server by `badge`) what it needs to rebuild a
/// restarted name server's table: copies of the capabilities published at boot, and a queue
/// the name server copies programs' registrations to.
fn keep_names(boot: &mut Boot, id: ProcessId, badge: u64) -> NameCopies {
    let mut names = NameCopies::default();
    for &(name, endpoint) in &boot.published {
        if let Ok(slot) = boot.kernel.grant(id, endpoint, Rights::SEND | Rights::GRANT, Badge::NONE) {
            names.copies.insert(name.to_owned(), slot);
        }
    }
    let capacity = u32::try_from(boot.program_names.max(1)).unwrap_or(u32::MAX);
    // A full queue fails the name server's copy rather than make it wait on its supervisor.
    let queue = boot.kernel.create_queue(id, capacity, FullPolicy::Fail);
    names.backup = boot.kernel.grant(id, queue, Rights::all(), Badge::NONE).ok();
    if let Some((name_server, _)) = boot.name_server
        && let Ok(slot) = boot.kernel.grant(name_server, queue, Rights::SEND | Rights::GRANT, Badge::NONE)
    {
        boot.name_backup = Some((queue, slot));
    }
    boot.registry.allow_restore(badge);
    names
}

/// Starts the name server `id` (its port in `slot`) so that the supervisor can restart it: the
/// first incarnation gets `registry` as boot made it; each later one the same permissions, the
/// same port and backup queue, and no names.
pub(super) fn boot_restartable_name_server(
    boot: &mut Boot,
    id: ProcessId,
    slot: Slot,
    registry: Registry,
    faults: Option<ServerFaults>,
) {
    let Some(&(_, endpoint)) = boot.servers.get(Service::Name.name()) else { return };
    let backup = boot.name_backup;
    let template = registry.restarted();
    let first = RefCell::new(Some(registry));
    let restarter: Restarter = Rc::new(move |kernel, id| {
        let (slot, registry, backup) = match first.borrow_mut().take() {
            Some(registry) => (slot, registry, backup.map(|(_, slot)| Backup(slot))),
            None => {
                let slot =
                    kernel.grant(id, endpoint, Rights::all(), Badge::NONE).expect("a new process has free slots");
                let rights = Rights::SEND | Rights::GRANT;
                let backup = backup.and_then(|(queue, _)| kernel.grant(id, queue, rights, Badge::NONE).ok());
                (slot, template.clone(), backup.map(Backup))
            }
        };
        let faults = faults.clone();
        kernel.start(id, move |sys| name_server(sys, slot, registry, backup, faults));
        endpoint
    });
    boot.kernel.boot_restartable(id, restarter);
}
