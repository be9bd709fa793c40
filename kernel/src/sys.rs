//! The trap: how a program's async code hands a syscall to the kernel.
//!
//! Every process is a future and the kernel is its only executor. Awaiting a
//! [`Sys`] method stores the request in the process's trap frame and returns
//! `Pending`; the kernel takes the request, carries it out (perhaps much
//! later, after the process was blocked), puts the result in the frame and
//! polls the process again, which then sees the result. One poll is one
//! syscall.

use crate::capability::Rights;
use crate::error::{ProgramResult, SysError};
use crate::ids::{Badge, ProcessId, Slot};
use crate::message::{Incoming, Message, Received};
use crate::object::FullPolicy;
use crate::syscall::{Blocking, Syscall, SyscallResult, SyscallValue};
use std::cell::RefCell;
use std::future::Future;
use std::pin::Pin;
use std::rc::Rc;
use std::task::{Context, Poll};

/// The request a process has made and the answer the kernel has for it.
#[derive(Debug, Default)]
pub(crate) struct Trap {
    pub request: Option<Syscall>,
    pub response: Option<SyscallResult>,
    /// Operation markers left since the last poll; they cost nothing and take no step.
    pub annotations: Vec<Annotation>,
    /// Virtual time when the kernel last polled the process.
    pub now: u64,
}

/// A marker a program leaves in the log around an operation, for per-operation metrics.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(crate) enum Annotation {
    Began { label: u32 },
    Ended { label: u32, failed: bool },
    Retried { label: u32 },
    Fault { fault: crate::event::InjectedFault },
}

/// A process's handle on the kernel. Every method is one syscall.
#[derive(Clone)]
pub struct Sys {
    trap: Rc<RefCell<Trap>>,
    process: ProcessId,
}

struct SyscallFuture {
    trap: Rc<RefCell<Trap>>,
    request: Option<Syscall>,
}

impl Future for SyscallFuture {
    type Output = SyscallResult;

    fn poll(self: Pin<&mut Self>, _context: &mut Context<'_>) -> Poll<SyscallResult> {
        let this = self.get_mut();
        let mut trap = this.trap.borrow_mut();
        if let Some(request) = this.request.take() {
            trap.request = Some(request);
            return Poll::Pending;
        }
        match trap.response.take() {
            Some(result) => Poll::Ready(result),
            None => Poll::Pending,
        }
    }
}

fn kernel_bug(value: SyscallValue) -> ! {
    panic!("kernel bug: syscall answered with an unexpected value {value:?}")
}

impl Sys {
    pub(crate) fn new(trap: Rc<RefCell<Trap>>, process: ProcessId) -> Sys {
        Sys { trap, process }
    }

    /// The id of the process this handle belongs to.
    pub fn process(&self) -> ProcessId {
        self.process
    }

    /// Makes any syscall.
    ///
    /// # Errors
    /// Whatever the kernel answers for that request.
    pub async fn syscall(&self, request: Syscall) -> SyscallResult {
        SyscallFuture { trap: Rc::clone(&self.trap), request: Some(request) }.await
    }

    async fn unit(&self, request: Syscall) -> Result<(), SysError> {
        match self.syscall(request).await? {
            SyscallValue::Unit => Ok(()),
            other => kernel_bug(other),
        }
    }

    async fn slot(&self, request: Syscall) -> Result<Slot, SysError> {
        match self.syscall(request).await? {
            SyscallValue::Slot(slot) => Ok(slot),
            other => kernel_bug(other),
        }
    }

    async fn number(&self, request: Syscall) -> Result<u64, SysError> {
        match self.syscall(request).await? {
            SyscallValue::Number(number) => Ok(number),
            other => kernel_bug(other),
        }
    }

    async fn incoming(&self, request: Syscall) -> Result<Incoming, SysError> {
        match self.syscall(request).await? {
            SyscallValue::Incoming(incoming) => Ok(incoming),
            other => kernel_bug(other),
        }
    }

    async fn reply_of(&self, request: Syscall) -> Result<Received, SysError> {
        match self.syscall(request).await? {
            SyscallValue::Reply(received) => Ok(received),
            other => kernel_bug(other),
        }
    }

    /// Sends through an endpoint (waits for a receiver) or a queue port (waits only when full and the policy says so).
    ///
    /// # Errors
    /// Invalid capability, wrong kind, rights, message too large, queue full, peer dead, deadlock.
    pub async fn send(&self, port: Slot, message: Message) -> Result<(), SysError> {
        self.unit(Syscall::Send { port, message, blocking: Blocking::Forever }).await
    }

    /// Like [`Sys::send`], giving up with timed-out after `cycles`.
    ///
    /// # Errors
    /// As [`Sys::send`], plus timed out.
    pub async fn send_timeout(&self, port: Slot, message: Message, cycles: u64) -> Result<(), SysError> {
        self.unit(Syscall::Send { port, message, blocking: Blocking::Timeout(cycles) }).await
    }

    /// Sends only if it can be done at once.
    ///
    /// # Errors
    /// As [`Sys::send`], plus would-block.
    pub async fn try_send(&self, port: Slot, message: Message) -> Result<(), SysError> {
        self.unit(Syscall::Send { port, message, blocking: Blocking::Never }).await
    }

    /// Receives from any sender.
    ///
    /// # Errors
    /// Invalid capability, wrong kind, rights, peer dead, quota exceeded (no slot for a reply capability).
    pub async fn receive(&self, port: Slot) -> Result<Incoming, SysError> {
        self.incoming(Syscall::Receive { port, from: None, blocking: Blocking::Forever }).await
    }

    /// Receives only from senders whose capability carries `badge`.
    ///
    /// # Errors
    /// As [`Sys::receive`].
    pub async fn receive_from(&self, port: Slot, badge: Badge) -> Result<Incoming, SysError> {
        self.incoming(Syscall::Receive { port, from: Some(badge), blocking: Blocking::Forever }).await
    }

    /// Receives, giving up with timed-out after `cycles`.
    ///
    /// # Errors
    /// As [`Sys::receive`], plus timed out.
    pub async fn receive_timeout(&self, port: Slot, cycles: u64) -> Result<Incoming, SysError> {
        self.incoming(Syscall::Receive { port, from: None, blocking: Blocking::Timeout(cycles) }).await
    }

    /// Receives only if a message is already there.
    ///
    /// # Errors
    /// As [`Sys::receive`], plus would-block.
    pub async fn try_receive(&self, port: Slot) -> Result<Incoming, SysError> {
        self.incoming(Syscall::Receive { port, from: None, blocking: Blocking::Never }).await
    }

    /// Sends on an endpoint and waits for the reply.
    ///
    /// # Errors
    /// As [`Sys::send`]; peer dead also when the server dies or drops the reply capability.
    pub async fn call(&self, port: Slot, message: Message) -> Result<Received, SysError> {
        self.reply_of(Syscall::Call { port, message, blocking: Blocking::Forever }).await
    }

    /// Like [`Sys::call`], giving up with timed-out after `cycles` (counted from the call).
    ///
    /// # Errors
    /// As [`Sys::call`], plus timed out.
    pub async fn call_timeout(&self, port: Slot, message: Message, cycles: u64) -> Result<Received, SysError> {
        self.reply_of(Syscall::Call { port, message, blocking: Blocking::Timeout(cycles) }).await
    }

    /// Answers a call. Never blocks; a reply to a caller that has gone is dropped and counted.
    ///
    /// # Errors
    /// Invalid capability, wrong kind (not a reply capability), message too large.
    pub async fn reply(&self, reply: Slot, message: Message) -> Result<(), SysError> {
        self.unit(Syscall::Reply { reply, message }).await
    }

    /// Answers a call and receives the next message, in one syscall.
    ///
    /// # Errors
    /// As [`Sys::reply`] (then nothing is received), or as [`Sys::receive`].
    pub async fn reply_receive(&self, reply: Slot, message: Message, port: Slot) -> Result<Incoming, SysError> {
        let request = Syscall::ReplyReceive { reply, message, port, from: None, blocking: Blocking::Forever };
        self.incoming(request).await
    }

    /// ORs `bits` (and the capability's badge) into a notification. Never blocks.
    ///
    /// # Errors
    /// Invalid capability, wrong kind, rights, peer dead.
    pub async fn signal(&self, notification: Slot, bits: u64) -> Result<(), SysError> {
        self.unit(Syscall::Signal { notification, bits }).await
    }

    /// Waits until a notification has bits, then takes and clears them.
    ///
    /// # Errors
    /// Invalid capability, wrong kind, rights, peer dead.
    pub async fn wait(&self, notification: Slot) -> Result<u64, SysError> {
        self.number(Syscall::Wait { notification, blocking: Blocking::Forever }).await
    }

    /// Like [`Sys::wait`], giving up with timed-out after `cycles`.
    ///
    /// # Errors
    /// As [`Sys::wait`], plus timed out.
    pub async fn wait_timeout(&self, notification: Slot, cycles: u64) -> Result<u64, SysError> {
        self.number(Syscall::Wait { notification, blocking: Blocking::Timeout(cycles) }).await
    }

    /// Takes and clears a notification's bits without waiting (zero when none).
    ///
    /// # Errors
    /// As [`Sys::wait`].
    pub async fn poll(&self, notification: Slot) -> Result<u64, SysError> {
        self.number(Syscall::Wait { notification, blocking: Blocking::Never }).await
    }

    /// Makes an endpoint owned by this process; returns a capability with every right.
    ///
    /// # Errors
    /// Quota exceeded.
    pub async fn create_endpoint(&self) -> Result<Slot, SysError> {
        self.slot(Syscall::CreateEndpoint).await
    }

    /// Makes a queue port holding at most `capacity` messages.
    ///
    /// # Errors
    /// Quota exceeded; invalid argument for a zero capacity.
    pub async fn create_queue(&self, capacity: u32, policy: FullPolicy) -> Result<Slot, SysError> {
        self.slot(Syscall::CreateQueue { capacity, policy }).await
    }

    /// Makes a notification.
    ///
    /// # Errors
    /// Quota exceeded.
    pub async fn create_notification(&self) -> Result<Slot, SysError> {
        self.slot(Syscall::CreateNotification).await
    }

    /// Makes a zero-filled memory region of `size` bytes.
    ///
    /// # Errors
    /// Quota exceeded (also when larger than the kernel's region limit).
    pub async fn create_region(&self, size: u32) -> Result<Slot, SysError> {
        self.slot(Syscall::CreateRegion { size }).await
    }

    /// Copies a capability into a new slot, keeping at most `rights`.
    ///
    /// # Errors
    /// Invalid capability, wrong kind (reply capabilities cannot be copied), quota exceeded.
    pub async fn copy(&self, slot: Slot, rights: Rights) -> Result<Slot, SysError> {
        self.slot(Syscall::Copy { slot, rights }).await
    }

    /// Copies a capability with at most `rights` and a badge.
    ///
    /// # Errors
    /// As [`Sys::copy`]; invalid argument when the capability already has another badge.
    pub async fn mint(&self, slot: Slot, rights: Rights, badge: Badge) -> Result<Slot, SysError> {
        self.slot(Syscall::Mint { slot, rights, badge }).await
    }

    /// Deletes the capability in `slot`.
    ///
    /// # Errors
    /// Invalid capability.
    pub async fn delete(&self, slot: Slot) -> Result<(), SysError> {
        self.unit(Syscall::Delete { slot }).await
    }

    /// Deletes every capability derived from the one in `slot`, everywhere; returns how many.
    ///
    /// # Errors
    /// Invalid capability.
    pub async fn revoke(&self, slot: Slot) -> Result<u64, SysError> {
        self.number(Syscall::Revoke { slot }).await
    }

    /// Reads `len` bytes at `offset` of a region.
    ///
    /// # Errors
    /// Invalid capability, wrong kind, rights (read), invalid argument (out of bounds), peer dead.
    pub async fn region_read(&self, region: Slot, offset: u32, len: u32) -> Result<Vec<u8>, SysError> {
        match self.syscall(Syscall::RegionRead { region, offset, len }).await? {
            SyscallValue::Bytes(bytes) => Ok(bytes),
            other => kernel_bug(other),
        }
    }

    /// Writes `data` at `offset` of a region.
    ///
    /// # Errors
    /// Invalid capability, wrong kind, rights (write), invalid argument (out of bounds), peer dead.
    pub async fn region_write(&self, region: Slot, offset: u32, data: &[u8]) -> Result<(), SysError> {
        self.unit(Syscall::RegionWrite { region, offset, data: data.to_vec() }).await
    }

    /// Binds a notification to this process: its receives also return the notification's bits.
    ///
    /// # Errors
    /// Invalid capability, wrong kind, rights (receive), invalid argument (already bound).
    pub async fn bind_notification(&self, notification: Slot) -> Result<(), SysError> {
        self.unit(Syscall::BindNotification { notification }).await
    }

    /// Signals `notification` with `bits` when the process behind the handle in `process` dies.
    ///
    /// # Errors
    /// Invalid capability, wrong kind, rights (read on the handle, send on the notification).
    pub async fn watch(&self, process: Slot, notification: Slot, bits: u64) -> Result<(), SysError> {
        self.unit(Syscall::Watch { process, notification, bits }).await
    }

    /// Arms a timer interrupt into a notification after `delay_cycles`, repeating every `period_cycles`.
    ///
    /// # Errors
    /// Invalid capability, wrong kind, rights (send), invalid argument (zero period).
    pub async fn arm_timer(
        &self,
        notification: Slot,
        bits: u64,
        delay_cycles: u64,
        period_cycles: Option<u64>,
    ) -> Result<(), SysError> {
        self.unit(Syscall::ArmTimer { notification, bits, delay_cycles, period_cycles }).await
    }

    /// Sleeps for `cycles` of virtual time.
    ///
    /// # Errors
    /// None in practice; the result type keeps every syscall alike.
    pub async fn sleep(&self, cycles: u64) -> Result<(), SysError> {
        self.unit(Syscall::Sleep { cycles }).await
    }

    /// Uses the processor for `cycles` (it may be preempted in between).
    ///
    /// # Errors
    /// None in practice.
    pub async fn compute(&self, cycles: u64) -> Result<(), SysError> {
        self.unit(Syscall::Compute { cycles }).await
    }

    /// Lets other ready processes of the same priority run first.
    ///
    /// # Errors
    /// None in practice.
    pub async fn yield_now(&self) -> Result<(), SysError> {
        self.unit(Syscall::Yield).await
    }

    /// The current virtual time in cycles.
    ///
    /// # Errors
    /// None in practice.
    pub async fn clock(&self) -> Result<u64, SysError> {
        self.number(Syscall::Clock).await
    }

    /// A number from the run's seeded random stream.
    ///
    /// # Errors
    /// None in practice.
    pub async fn random(&self) -> Result<u64, SysError> {
        self.number(Syscall::Random).await
    }

    /// Marks the start of an operation (a client-stub call) in the event log. Free: not a syscall.
    pub fn begin_operation(&self, label: u32) {
        self.trap.borrow_mut().annotations.push(Annotation::Began { label });
    }

    /// Marks the end of an operation begun with [`Sys::begin_operation`].
    pub fn end_operation(&self, label: u32, failed: bool) {
        self.trap.borrow_mut().annotations.push(Annotation::Ended { label, failed });
    }

    /// Marks that the current operation is being tried again after its server died. Free.
    pub fn retry_operation(&self, label: u32) {
        self.trap.borrow_mut().annotations.push(Annotation::Retried { label });
    }

    /// Records in the log that a fault was injected into this process. Free: fault injection
    /// is the simulator's doing, not the program's.
    pub fn mark_fault(&self, fault: crate::event::InjectedFault) {
        self.trap.borrow_mut().annotations.push(Annotation::Fault { fault });
    }

    /// The virtual time at which the process last resumed. Free: for the simulator's fault
    /// injection, which must not add syscalls to the run; programs use [`Sys::clock`].
    pub fn now(&self) -> u64 {
        self.trap.borrow().now
    }

    /// Faults the process behind a process handle.
    ///
    /// # Errors
    /// Invalid capability, wrong kind, rights (write on the handle).
    pub async fn kill(&self, process: Slot) -> Result<(), SysError> {
        self.unit(Syscall::Kill { process }).await
    }

    /// Restarts the dead process behind a process handle; the handle then names the new
    /// incarnation. Returns a send capability to its service port.
    ///
    /// # Errors
    /// Invalid capability, wrong kind, rights (write on the handle); invalid argument when the
    /// process is still alive or was not booted restartable.
    pub async fn restart(&self, process: Slot) -> Result<Slot, SysError> {
        self.slot(Syscall::Restart { process }).await
    }

    /// Accounts for a service the kernel ran directly for this process (monolithic mode).
    ///
    /// # Errors
    /// None in practice.
    pub async fn kernel_service(
        &self,
        label: u32,
        request: Vec<u8>,
        work: crate::syscall::ServiceWork,
    ) -> Result<(), SysError> {
        self.unit(Syscall::KernelService { label, request, work }).await
    }

    /// Ends the process with `code`. The kernel never resumes it, so this does not return.
    pub async fn exit(&self, code: i32) -> ProgramResult {
        let _never = self.syscall(Syscall::Exit { code }).await;
        Ok(code)
    }
}
