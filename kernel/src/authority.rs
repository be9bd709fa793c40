//! Capability syscalls: create objects, copy, mint, delete, revoke; region
//! access through capabilities; watching a process die.

use crate::capability::{Capability, NodeKey, Rights};
use crate::dispatch::Next;
use crate::error::SysError;
use crate::event::CapabilityOp;
use crate::ids::{Badge, ProcessId, Slot};
use crate::kernel::Kernel;
use crate::object::{FullPolicy, ObjectBody, ObjectKind, Queue};
use crate::process::ProcessState;
use crate::syscall::SyscallValue;

impl Kernel {
    /// The capability in a slot, live object or not.
    #[inline(always)]
    // Always inlined: see "Inlining" in the fast path's module doc.
    pub(crate) fn lookup(&self, id: ProcessId, slot: Slot) -> Result<(NodeKey, Capability), SysError> {
        let node = self.process(id).caps.get(slot).ok_or(SysError::InvalidCapability)?;
        let capability = self.tree.capability(node).expect("kernel bug: table names a dead node");
        Ok((node, capability))
    }

    /// The capability in a slot, which must reach a live object with `needed` rights.
    pub(crate) fn lookup_object(
        &self,
        id: ProcessId,
        slot: Slot,
        needed: Rights,
    ) -> Result<(Capability, ObjectKind), SysError> {
        let (_, capability) = self.lookup(id, slot)?;
        let object = self.objects.get(capability.object).ok_or(SysError::PeerDead)?;
        if !capability.rights.contains(needed) {
            return Err(SysError::InsufficientRights);
        }
        Ok((capability, object.kind()))
    }

    /// Puts a new capability in the lowest free slot of `holder`'s table.
    pub(crate) fn install(
        &mut self,
        holder: ProcessId,
        capability: Capability,
        parent: Option<NodeKey>,
        op: CapabilityOp,
    ) -> Result<Slot, SysError> {
        let limit = self.config.limits.capability_slots_max;
        let slot = self.process(holder).caps.free_slot(limit).ok_or(SysError::QuotaExceeded)?;
        let kind = self.put_capability(holder, slot, capability, parent, op);
        self.emit(holder, kind);
        self.note_client(holder, capability);
        Ok(slot)
    }

    /// Puts a new capability in `slot` of `holder`'s table, a slot the table just gave as free,
    /// without logging it: returns the event that records it.
    #[inline(always)]
    // Always inlined: see "Inlining" in the fast path's module doc.
    pub(crate) fn put_capability(
        &mut self,
        holder: ProcessId,
        slot: Slot,
        capability: Capability,
        parent: Option<NodeKey>,
        op: CapabilityOp,
    ) -> crate::event::EventKind {
        let location = crate::capability::Location::Slot { process: holder.index, slot };
        let node = self.tree.insert(capability, location, parent);
        let process = self.process_mut(holder);
        process.caps.put(slot, node);
        process.counters.capability_ops += 1;
        self.capability_event(op, slot, capability)
    }

    fn check_object_quota(&self, id: ProcessId) -> Result<(), SysError> {
        let process = self.process(id);
        if process.owned.len() >= self.config.limits.objects_per_process_max || !self.has_free_slot(id) {
            return Err(SysError::QuotaExceeded);
        }
        Ok(())
    }

    pub(crate) fn sys_create(&mut self, id: ProcessId, body: ObjectBody) -> Result<Next, SysError> {
        self.check_object_quota(id)?;
        let object = self.create_object(Some(id), body);
        let capability = Capability { object, rights: Rights::all(), badge: Badge::NONE };
        self.install(id, capability, None, CapabilityOp::Created).map(|slot| Next::Return(SyscallValue::Slot(slot)))
    }

    pub(crate) fn sys_create_queue(
        &mut self,
        id: ProcessId,
        capacity: u32,
        policy: FullPolicy,
    ) -> Result<Next, SysError> {
        if capacity == 0 || capacity > self.config.limits.queue_capacity_max {
            return Err(SysError::InvalidArgument);
        }
        self.sys_create(id, Queue::boxed(capacity, policy))
    }

    pub(crate) fn sys_create_region(&mut self, id: ProcessId, size: u32) -> Result<Next, SysError> {
        if size > self.config.limits.region_bytes_max {
            return Err(SysError::QuotaExceeded);
        }
        self.check_object_quota(id)?;
        // Checked before the bytes are taken: one region could pass any budget at once.
        if let Some(ended) = self.refuse_over_budget(size as usize) {
            return Ok(ended);
        }
        self.sys_create(id, ObjectBody::Region(vec![0; size as usize]))
    }

    /// Copy (`badge` is `None`) or mint: the new capability never has more rights.
    pub(crate) fn sys_copy(
        &mut self,
        id: ProcessId,
        slot: Slot,
        rights: Rights,
        badge: Option<Badge>,
    ) -> Result<Next, SysError> {
        let (node, original) = self.lookup(id, slot)?;
        let (_, kind) = self.lookup_object(id, slot, Rights::empty())?;
        if kind == ObjectKind::Reply {
            return Err(SysError::WrongObjectKind);
        }
        let badge = match badge {
            None => original.badge,
            Some(badge) if original.badge == Badge::NONE || original.badge == badge => badge,
            Some(_) => return Err(SysError::InvalidArgument),
        };
        let op = if badge == original.badge { CapabilityOp::Copied } else { CapabilityOp::Minted };
        let copy = Capability { object: original.object, rights: original.rights & rights, badge };
        self.install(id, copy, Some(node), op).map(|slot| Next::Return(SyscallValue::Slot(slot)))
    }

    pub(crate) fn sys_delete(&mut self, id: ProcessId, slot: Slot) -> Result<Next, SysError> {
        self.lookup(id, slot)?;
        self.remove_capability(id, slot, CapabilityOp::Deleted);
        Ok(Next::DONE)
    }

    /// Deletes every capability derived from the one in `slot`, in every table and in transit.
    pub(crate) fn sys_revoke(&mut self, id: ProcessId, slot: Slot) -> Result<Next, SysError> {
        let (node, _) = self.lookup(id, slot)?;
        let descendants = self.tree.descendants(node);
        let mut emptied = Vec::new();
        for &descendant in &descendants {
            if let Some(crate::capability::Location::Slot { process, slot }) = self.tree.location(descendant) {
                let holder = self.processes[process as usize].id;
                self.remove_capability(holder, slot, CapabilityOp::Revoked);
                if holder == id {
                    emptied.push(slot);
                }
            } else {
                self.tree.remove(descendant);
            }
        }
        self.process_mut(id).counters.capability_ops += 1;
        Ok(Next::Return(SyscallValue::Revoked { count: descendants.len() as u64, emptied }))
    }

    /// Takes a capability out of a table. A reply capability dropped unused
    /// tells its caller the server is gone, so no caller waits forever.
    pub(crate) fn remove_capability(&mut self, holder: ProcessId, slot: Slot, op: CapabilityOp) {
        let Some(node) = self.process_mut(holder).caps.take(slot) else { return };
        let (capability, _) = self.tree.remove(node).expect("kernel bug: table names a dead node");
        self.process_mut(holder).counters.capability_ops += 1;
        self.emit_capability(holder, op, slot, capability);
        if let Some(ObjectBody::Reply(reply)) = self.objects.get(capability.object).map(|object| &object.body) {
            let caller = reply.caller;
            self.objects.discard(capability.object);
            self.process_mut(holder).held_replies.retain(|&held| held != capability.object);
            let waiting = self.is_alive(caller)
                && matches!(self.process(caller).state, ProcessState::ReplyBlocked { reply, .. } if reply == capability.object);
            if waiting {
                self.wake(caller, Err(SysError::PeerDead));
            }
            self.refresh_priority(holder);
        }
    }

    fn region_bounds(
        &self,
        id: ProcessId,
        slot: Slot,
        needed: Rights,
        offset: u32,
        len: usize,
    ) -> Result<crate::ids::ObjectId, SysError> {
        let (capability, kind) = self.lookup_object(id, slot, needed)?;
        if kind != ObjectKind::Region {
            return Err(SysError::WrongObjectKind);
        }
        let Some(ObjectBody::Region(bytes)) = self.objects.get(capability.object).map(|object| &object.body) else {
            unreachable!("kernel bug: region kind without region body");
        };
        let end = (offset as usize).checked_add(len).ok_or(SysError::InvalidArgument)?;
        if end > bytes.len() {
            return Err(SysError::InvalidArgument);
        }
        Ok(capability.object)
    }

    fn charge_region_copy(&mut self, id: ProcessId, len: usize) {
        let cycles = self.config.profile.copy_cycles(len as u64);
        self.charge(id, cycles);
        self.process_mut(id).counters.bytes_through_regions += len as u64;
    }

    pub(crate) fn sys_region_read(
        &mut self,
        id: ProcessId,
        slot: Slot,
        offset: u32,
        len: u32,
    ) -> Result<Next, SysError> {
        let object = self.region_bounds(id, slot, Rights::READ, offset, len as usize)?;
        let Some(ObjectBody::Region(bytes)) = self.objects.get(object).map(|object| &object.body) else {
            unreachable!()
        };
        let start = offset as usize;
        let data = bytes[start..start + len as usize].to_vec();
        self.charge_region_copy(id, data.len());
        Ok(Next::Return(SyscallValue::Bytes(data)))
    }

    pub(crate) fn sys_region_write(
        &mut self,
        id: ProcessId,
        slot: Slot,
        offset: u32,
        data: &[u8],
    ) -> Result<Next, SysError> {
        let object = self.region_bounds(id, slot, Rights::WRITE, offset, data.len())?;
        let Some(ObjectBody::Region(bytes)) = self.objects.get_mut(object).map(|object| &mut object.body) else {
            unreachable!()
        };
        let start = offset as usize;
        bytes[start..start + data.len()].copy_from_slice(data);
        self.charge_region_copy(id, data.len());
        Ok(Next::DONE)
    }

    pub(crate) fn sys_watch(
        &mut self,
        id: ProcessId,
        process: Slot,
        notification: Slot,
        bits: u64,
    ) -> Result<Next, SysError> {
        let (handle, kind) = self.lookup_object(id, process, Rights::READ)?;
        if kind != ObjectKind::Process {
            return Err(SysError::WrongObjectKind);
        }
        let (word, kind) = self.lookup_object(id, notification, Rights::SEND)?;
        if kind != ObjectKind::Notification {
            return Err(SysError::WrongObjectKind);
        }
        let Some(ObjectBody::Process(target)) = self.objects.get(handle.object).map(|object| &object.body) else {
            unreachable!()
        };
        let target = *target;
        let bits = bits | word.badge.0;
        if self.is_alive(target) {
            self.process_mut(target).watchers.push((word.object, bits));
        } else {
            self.signal_object(word.object, bits);
        }
        Ok(Next::DONE)
    }
}
