//! Notifications: signal, wait, poll, binding to a receiver, timer interrupts.
//!
//! Signals never block and coalesce: bits are OR-ed into the word until a
//! waiter takes them. A notification bound to a process also ends that
//! process's blocking receives, so a driver can wait for requests and
//! interrupts at once (seL4 bound notifications, Hubris notification masks).

use crate::capability::Rights;
use crate::dispatch::Next;
use crate::error::SysError;
use crate::event::EventKind;
use crate::ids::{ObjectId, ProcessId, Slot};
use crate::kernel::Kernel;
use crate::message::Incoming;
use crate::object::ObjectKind;
use crate::process::ProcessState;
use crate::syscall::{Blocking, SyscallKind, SyscallValue};
use crate::time::TimerAction;

impl Kernel {
    fn notification_capability(
        &self,
        id: ProcessId,
        slot: Slot,
        needed: Rights,
    ) -> Result<crate::capability::Capability, SysError> {
        let (capability, kind) = self.lookup_object(id, slot, needed)?;
        if kind != ObjectKind::Notification {
            return Err(SysError::WrongObjectKind);
        }
        Ok(capability)
    }

    pub(crate) fn sys_signal(&mut self, id: ProcessId, slot: Slot, bits: u64) -> Result<Next, SysError> {
        let capability = self.notification_capability(id, slot, Rights::SEND)?;
        let bits = bits | capability.badge.0;
        self.process_mut(id).counters.notifications_sent += 1;
        let logged = self.log.record_bits(bits);
        self.emit(id, EventKind::Signalled { notification: capability.object, bits: logged });
        self.signal_object(capability.object, bits);
        Ok(Next::DONE)
    }

    /// Signals, for a service inside the kernel called by `id`, the notification another
    /// process registered with it; nothing when that process or its capability is gone.
    pub(crate) fn service_signal(&mut self, id: ProcessId, signal: crate::syscall::ServiceSignal) {
        let held = self.held_notifications.remove(&(signal.process, signal.notification));
        if !self.is_alive(signal.process) {
            return;
        }
        // What the module held at registration: the slot may name another notification by now.
        let Some(capability) = held.filter(|held| self.objects.notification_mut(held.object).is_some()) else {
            return;
        };
        let bits = signal.bits | capability.badge.0;
        let logged = self.log.record_bits(bits);
        self.emit(id, EventKind::Signalled { notification: capability.object, bits: logged });
        self.signal_object(capability.object, bits);
    }

    /// Keeps `id`'s notification capability in `slot` for a service module (see
    /// [`crate::syscall::ServiceWork::hold`]); a slot that names no notification it may signal
    /// holds nothing, as a copy of it would signal nothing.
    pub(crate) fn hold_notification(&mut self, id: ProcessId, slot: crate::ids::Slot) {
        match self.notification_capability(id, slot, Rights::SEND) {
            Ok(capability) => self.held_notifications.insert((id, slot), capability),
            Err(_) => self.held_notifications.remove(&(id, slot)),
        };
    }

    /// Delivers bits: to the first waiter, else to the bound process if it is
    /// blocked receiving, else into the word. Returns the process woken.
    pub(crate) fn signal_object(&mut self, notification: ObjectId, bits: u64) -> Option<ProcessId> {
        if bits == 0 {
            // No bit to set: waking a waiter with nothing would look like a spurious wake-up.
            return None;
        }
        let word = self.objects.notification_mut(notification)?;
        if let Some(waiter) = word.waiters.pop_front() {
            self.wake(waiter, Ok(SyscallValue::Number(bits)));
            return Some(waiter);
        }
        let bound =
            word.bound_to.filter(|&bound| matches!(self.process(bound).state, ProcessState::ReceiveBlocked { .. }));
        if let Some(bound) = bound {
            self.cancel_wait(bound, crate::event::DropReason::TimedOut);
            self.wake(bound, Ok(SyscallValue::Incoming(Incoming::Notification(bits))));
            return Some(bound);
        }
        let word = self.objects.notification_mut(notification)?;
        word.bits |= bits;
        None
    }

    pub(crate) fn sys_wait(
        &mut self,
        id: ProcessId,
        slot: Slot,
        blocking: Blocking,
        call: SyscallKind,
    ) -> Result<Next, SysError> {
        let capability = self.notification_capability(id, slot, Rights::RECEIVE)?;
        let word = self.objects.notification_mut(capability.object).expect("kernel bug: checked notification vanished");
        let bits = std::mem::take(&mut word.bits);
        if bits != 0 || blocking == Blocking::Never {
            return Ok(Next::Return(SyscallValue::Number(bits)));
        }
        word.waiters.push_back(id);
        let timeout = match blocking {
            Blocking::Timeout(cycles) => Some(cycles),
            _ => None,
        };
        self.block(id, ProcessState::WaitingNotification { notification: capability.object }, call, timeout)
    }

    pub(crate) fn sys_bind(&mut self, id: ProcessId, slot: Slot) -> Result<Next, SysError> {
        let capability = self.notification_capability(id, slot, Rights::RECEIVE)?;
        if self.process(id).bound_notification.is_some() {
            return Err(SysError::InvalidArgument);
        }
        let word = self.objects.notification_mut(capability.object).expect("kernel bug: checked notification vanished");
        if word.bound_to.is_some() {
            return Err(SysError::InvalidArgument);
        }
        word.bound_to = Some(id);
        self.process_mut(id).bound_notification = Some(capability.object);
        Ok(Next::DONE)
    }

    /// Takes the pending bits of the caller's bound notification, if there are any.
    /// True when a receive by `id` would return the bits of its bound notification.
    pub(crate) fn bound_bits_pending(&self, id: ProcessId) -> bool {
        let bound = self.process(id).bound_notification.and_then(|bound| self.objects.get(bound));
        matches!(bound.map(|object| &object.body), Some(crate::object::ObjectBody::Notification(word)) if word.bits != 0)
    }

    pub(crate) fn take_bound_bits(&mut self, id: ProcessId) -> Option<u64> {
        let bound = self.process(id).bound_notification?;
        let word = self.objects.notification_mut(bound)?;
        let bits = std::mem::take(&mut word.bits);
        (bits != 0).then_some(bits)
    }

    pub(crate) fn sys_arm_timer(
        &mut self,
        id: ProcessId,
        slot: Slot,
        bits: u64,
        delay_cycles: u64,
        period_cycles: Option<u64>,
    ) -> Result<Next, SysError> {
        let capability = self.notification_capability(id, slot, Rights::SEND)?;
        if period_cycles == Some(0) {
            return Err(SysError::InvalidArgument);
        }
        let bits = bits | capability.badge.0;
        let action = TimerAction::Interrupt { notification: capability.object, bits, period_cycles, owner: id };
        self.timers.insert(self.now_cycles.saturating_add(delay_cycles), action);
        Ok(Next::DONE)
    }

    /// A device interrupt: charged to the kernel, delivered as notification bits,
    /// and the switch to a driver it wakes is part of its cost.
    pub(crate) fn interrupt(&mut self, notification: ObjectId, bits: u64) {
        let cycles = self.config.profile.interrupt_cycles;
        self.now_cycles = self.now_cycles.saturating_add(cycles);
        self.kernel_cycles = self.kernel_cycles.saturating_add(cycles);
        let logged = self.log.record_bits(bits);
        self.emit(ProcessId::KERNEL, EventKind::Interrupt { notification, bits: logged });
        if let Some(woken) = self.signal_object(notification, bits) {
            self.handoff = Some(woken);
        }
    }
}
