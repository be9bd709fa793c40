//! The name server: services register a capability under a name, clients
//! look names up and get a send capability badged with their own identity
//! (MINIX DS, QNX `name_open`). Who may register which name is fixed by the
//! scenario, and the names of the system's own services are never a program's to
//! register, in either mode: a process allowed to register `console` would
//! otherwise receive the console lookups of every other client.
//!
//! A supervised name server can be faulted and restarted. Its port survives
//! (the kernel keeps it for the next incarnation, so every process's
//! capability to it still works); its registrations do not, and the
//! supervisor gives them back (`name.restore`, then `name.restored`). Until
//! then a lookup of a name the new incarnation does not have answers
//! `try again`, which the stubs do. Each registration a program makes is also
//! copied to the supervisor's backup queue, so the supervisor has it to give
//! back.

use crate::serve::{Answer, ServerFaults, serve_with_faults};
use crate::service::Service;
use mksim_kernel::{Badge, Incoming, Message, ProgramResult, Received, Rights, Slot, Sys, SysError};
use mksim_userland::protocol::{NameRequest, Request, ServiceError, SimpleReply, decode, encode, reply_label};
use std::collections::{BTreeMap, BTreeSet};

/// Names and who may register them.
#[derive(Clone, Debug, Default)]
pub struct Registry {
    names: BTreeMap<String, Slot>,
    allowed: BTreeMap<u64, BTreeSet<String>>,
    /// Names a client may register again over the old entry: a supervisor re-registering a
    /// restarted server (MINIX's reincarnation server republishing a driver).
    replaceable: BTreeMap<u64, BTreeSet<String>>,
    /// The client that gives a restarted name server its registrations back (the supervisor).
    restorer: Option<u64>,
    /// Restarted and not yet told the replay is complete: a missing name may still come back.
    replaying: bool,
}

impl Registry {
    /// Lets the client with `badge` register `name`.
    pub fn allow(&mut self, badge: u64, name: &str) {
        self.allowed.entry(badge).or_default().insert(name.to_owned());
    }

    /// Lets the client with `badge` register `name` again over its current entry.
    pub fn allow_replace(&mut self, badge: u64, name: &str) {
        self.allow(badge, name);
        self.replaceable.entry(badge).or_default().insert(name.to_owned());
    }

    /// Lets the client with `badge` give a restarted name server its registrations back.
    pub fn allow_restore(&mut self, badge: u64) {
        self.restorer = Some(badge);
    }

    /// The registry a restarted name server starts with: the same permissions, no names, and
    /// waiting for the replay.
    pub fn restarted(&self) -> Registry {
        Registry { names: BTreeMap::new(), replaying: true, ..self.clone() }
    }

    /// Registers a capability the name server already holds (services booted with the system).
    pub fn preload(&mut self, name: &str, slot: Slot) {
        self.names.insert(name.to_owned(), slot);
    }

    /// Whether the client with `badge` may register `name` now.
    ///
    /// # Errors
    /// Permission denied (never allowed, or a system service's name and the client is not the
    /// supervisor that looks after it), or already exists.
    pub fn check_register(&self, badge: u64, name: &str) -> Result<(), ServiceError> {
        if !self.allowed.get(&badge).is_some_and(|names| names.contains(name)) {
            return Err(ServiceError::PermissionDenied);
        }
        let may_replace = self.replaceable.get(&badge).is_some_and(|names| names.contains(name));
        // A user process is refused a service's name even when its scenario allows it.
        if Service::is_reserved(name) && !may_replace {
            return Err(ServiceError::PermissionDenied);
        }
        if self.names.contains_key(name) && !may_replace {
            return Err(ServiceError::AlreadyExists);
        }
        Ok(())
    }

    /// The capability registered under `name`.
    pub fn resolve(&self, name: &str) -> Option<Slot> {
        self.names.get(name).copied()
    }

    /// What a lookup of `name` finds: its capability, or not found (try again while a replay
    /// may still bring it back).
    ///
    /// # Errors
    /// Not found; try again.
    pub fn find(&self, name: &str) -> Result<Slot, ServiceError> {
        match (self.resolve(name), self.replaying) {
            (Some(slot), _) => Ok(slot),
            (None, true) => Err(ServiceError::TryAgain),
            (None, false) => Err(ServiceError::NotFound),
        }
    }

    /// True when a supervisor registers `name` again after its server dies: a lookup that finds
    /// it dead is worth trying again.
    pub fn is_supervised(&self, name: &str) -> bool {
        self.replaceable.values().any(|names| names.contains(name))
    }

    fn may_restore(&self, badge: u64) -> bool {
        self.restorer == Some(badge)
    }
}

/// Where a name server sends a copy of each registration a program makes: a send capability to
/// the supervisor's backup queue.
#[derive(Clone, Copy, Debug)]
pub struct Backup(pub Slot);

/// Runs the name server on `port`, with the faults planned for it; copies each registration
/// a program makes to `backup`, when its supervisor keeps one.
///
/// # Errors
/// Faults when its own port fails, or an injected crash.
pub async fn name_server(
    sys: Sys,
    port: Slot,
    mut registry: Registry,
    backup: Option<Backup>,
    faults: Option<ServerFaults>,
) -> ProgramResult {
    serve_with_faults(&sys, port, faults, async |incoming| match incoming {
        Incoming::Message(request) => {
            let label = reply_label(request.label);
            let (reply, cap) = handle(&sys, &mut registry, backup, request).await;
            let message = Message::new(label, encode(&reply));
            Answer::Now(match cap {
                Some(slot) => message.with_move(slot),
                None => message,
            })
        }
        Incoming::Notification(_) => Answer::Later,
    })
    .await
}

async fn handle(
    sys: &Sys,
    registry: &mut Registry,
    backup: Option<Backup>,
    request: Received,
) -> (SimpleReply, Option<Slot>) {
    let answer = match decode::<NameRequest>(&request.data) {
        Some(NameRequest::Register { name }) => {
            let registered = register(sys, registry, &request, &name).await;
            if registered.is_ok()
                && let Some(backup) = backup.filter(|_| !registry.may_restore(request.badge.0))
            {
                copy_to_backup(sys, backup, &name, request.caps[0]).await;
            }
            registered.map(|()| None)
        }
        Some(NameRequest::Lookup { name }) => lookup(sys, registry, request.badge, &name).await.map(Some),
        Some(NameRequest::Restore { name }) => restore(sys, registry, &request, &name).await.map(|()| None),
        Some(NameRequest::Restored) if registry.may_restore(request.badge.0) => {
            registry.replaying = false;
            Ok(None)
        }
        Some(NameRequest::Restored) => Err(ServiceError::PermissionDenied),
        None => Err(ServiceError::BadRequest),
    };
    match answer {
        Ok(cap) => (SimpleReply::Done, cap),
        Err(error) => (SimpleReply::Error(error), None),
    }
}

/// Sends the supervisor a copy of a program's registration, without waiting: a full backup
/// queue loses the copy, never the registration.
async fn copy_to_backup(sys: &Sys, backup: Backup, name: &str, slot: Slot) {
    let request = NameRequest::Register { name: name.to_owned() };
    let message = Message::new(request.label(), encode(&request)).with_copy(slot, Rights::SEND | Rights::GRANT);
    let _ = sys.try_send(backup.0, message).await;
}

/// A registration the supervisor gives back after a restart; a name registered again since
/// (by its program, or the supervisor for a restarted server) is newer and stays.
async fn restore(sys: &Sys, registry: &mut Registry, request: &Received, name: &str) -> Result<(), ServiceError> {
    let checked = match (request.caps.as_slice(), registry.may_restore(request.badge.0)) {
        (_, false) => Err(ServiceError::PermissionDenied),
        ([_], true) if registry.names.contains_key(name) => Err(ServiceError::AlreadyExists),
        ([_], true) => Ok(()),
        _ => Err(ServiceError::BadRequest),
    };
    match checked {
        Ok(()) => {
            registry.names.insert(name.to_owned(), request.caps[0]);
        }
        Err(_) => {
            for &slot in &request.caps {
                let _ = sys.delete(slot).await;
            }
        }
    }
    checked
}

async fn register(sys: &Sys, registry: &mut Registry, request: &Received, name: &str) -> Result<(), ServiceError> {
    let checked = match request.caps.as_slice() {
        [_] => registry.check_register(request.badge.0, name),
        _ => Err(ServiceError::BadRequest),
    };
    if checked.is_err() {
        // Refused: do not keep what came with the request.
        for &slot in &request.caps {
            let _ = sys.delete(slot).await;
        }
        return checked;
    }
    if let Some(old) = registry.names.insert(name.to_owned(), request.caps[0]) {
        // The server it named died: its capability names a dead port.
        let _ = sys.delete(old).await;
    }
    Ok(())
}

async fn lookup(sys: &Sys, registry: &Registry, client: Badge, name: &str) -> Result<Slot, ServiceError> {
    let registered = registry.find(name)?;
    // A service that is passed capabilities in its requests is looked up with the right to.
    let rights = match Service::from_name(name).is_some_and(Service::takes_capabilities) {
        true => Rights::SEND | Rights::GRANT,
        false => Rights::SEND,
    };
    match sys.mint(registered, rights, client).await {
        Ok(slot) => Ok(slot),
        // A capability registered with a badge of its own keeps it.
        Err(SysError::InvalidArgument) => sys.copy(registered, rights).await.map_err(|_| ServiceError::Io),
        // The server registered under the name has died, and a supervisor registers its next
        // incarnation there: the name will come back.
        Err(SysError::PeerDead) if registry.is_supervised(name) => Err(ServiceError::TryAgain),
        Err(_) => Err(ServiceError::Io),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_program_may_not_register_a_system_name_even_when_allowed_and_unregistered() {
        let mut registry = Registry::default();
        let (program, supervisor) = (7, 9);
        for name in Service::ALL.map(Service::name).into_iter().chain(["echo"]) {
            registry.allow(program, name);
        }
        let (file, console) = (Service::File.name(), Service::Console.name());
        registry.allow_replace(supervisor, file);
        registry.preload(file, Slot(3));
        for name in Service::ALL.map(Service::name) {
            assert_eq!(registry.check_register(program, name), Err(ServiceError::PermissionDenied), "{name}");
        }
        assert_eq!(registry.check_register(program, "echo"), Ok(()));
        assert_eq!(registry.check_register(supervisor, file), Ok(()), "the supervisor re-registers a restarted fs");
        assert_eq!(registry.check_register(supervisor, console), Err(ServiceError::PermissionDenied));
    }
}
