//! The trap: how a program's async code hands a syscall to the kernel.
//!
//! Every process is a future and the kernel is its only executor. Awaiting a
//! [`Sys`] method stores the request in the process's trap frame and returns
//! `Pending`; the kernel takes the request, carries it out (perhaps much
//! later, after the process was blocked), puts the result in the frame and
//! polls the process again, which then sees the result. One poll is one
//! syscall.
//!
//! Longer than the kernel's other modules, and on purpose in one file: it is
//! the whole program-facing API, one documented method per syscall and per
//! variant of one (try, timeout, closed receive), with nothing else to split.

use crate::capability::Rights;
use crate::error::{ProgramResult, SysError};
use crate::ids::{Badge, ProcessId, Slot};
use crate::message::{Incoming, Message, Received};
use crate::object::FullPolicy;
use crate::syscall::{Blocking, Syscall, SyscallResult, SyscallValue};
use std::cell::Cell;
use std::future::Future;
use std::pin::Pin;
use std::rc::Rc;
use std::task::{Context, Poll};

/// The request a process has made and the answer the kernel has for it.
///
/// Plain cells, not a `RefCell`: the program and the kernel never hold a
/// borrow across the other's turn, they only move values in and out.
#[derive(Default)]
pub(crate) struct Trap {
    pub request: Cell<Option<Syscall>>,
    pub response: Cell<Option<SyscallResult>>,
    /// Operation markers left since the last poll; they cost nothing and take no step.
    pub annotations: Cell<Vec<Annotation>>,
    /// Set when a marker is left, so the kernel looks at the list only after polls that left some.
    pub annotated: Cell<bool>,
    /// Virtual time when the kernel last polled the process.
    pub now_cycles: Cell<u64>,
    /// Set when the program stopped to take a step without a syscall ([`Sys::take_step`]).
    pub stepped: Cell<bool>,
    /// The summaries [`Annotation::ServiceState`] markers refer to, in order.
    pub service_states: Cell<Vec<(crate::fault::ServiceModule, Vec<u8>)>>,
}

/// A marker a program leaves in the log around an operation, for per-operation metrics.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(crate) enum Annotation {
    Began {
        label: u32,
    },
    Ended {
        label: u32,
        failed: bool,
    },
    Retried {
        label: u32,
    },
    Fault {
        fault: crate::event::InjectedFault,
    },
    ScriptLine {
        line: u32,
    },
    /// A service's state: the next summary in [`Trap::service_states`].
    ServiceState,
}

/// A process's handle on the kernel. Every method is one syscall.
#[derive(Clone)]
pub struct Sys {
    trap: Rc<Trap>,
    process: ProcessId,
}

/// One syscall in flight: the first poll hands the request to the kernel and
/// returns `Pending`; a later poll finds the answer and converts it with `answer`.
///
/// Every typed [`Sys`] method returns one of these directly, rather than an
/// `async fn` awaiting it, so a syscall is one small future and the answer
/// is converted once instead of being moved through a future per layer.
/// The conversion is a type parameter, not a function pointer, so it is
/// inlined where the program awaits.
#[must_use = "a syscall does nothing until it is awaited"]
struct SyscallFuture<'a, A> {
    trap: &'a Trap,
    request: Option<Syscall>,
    answer: A,
}

impl<T, A: Fn(SyscallValue) -> T + Unpin> Future for SyscallFuture<'_, A> {
    type Output = Result<T, SysError>;

    fn poll(self: Pin<&mut Self>, _context: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.get_mut();
        if let Some(request) = this.request.take() {
            this.trap.request.set(Some(request));
            return Poll::Pending;
        }
        match this.trap.response.take() {
            Some(result) => Poll::Ready(result.map(&this.answer)),
            None => Poll::Pending,
        }
    }
}

/// A step without a syscall: the first poll leaves the kernel a mark and returns `Pending`; the
/// kernel counts the step and polls again at once, and the second poll is done.
#[must_use = "a step is taken only when awaited"]
struct StepFuture<'a> {
    trap: &'a Trap,
    taken: bool,
}

impl Future for StepFuture<'_> {
    type Output = ();

    fn poll(self: Pin<&mut Self>, _context: &mut Context<'_>) -> Poll<()> {
        let this = self.get_mut();
        if this.taken {
            return Poll::Ready(());
        }
        this.taken = true;
        this.trap.stepped.set(true);
        Poll::Pending
    }
}

fn kernel_bug(value: SyscallValue) -> ! {
    panic!("kernel bug: syscall answered with an unexpected value {value:?}")
}

// The answer conversions are inlined into the programs (another crate) that await syscalls.
#[inline]
fn to_unit(value: SyscallValue) {
    match value {
        SyscallValue::Unit => (),
        other => kernel_bug(other),
    }
}

#[inline]
fn to_slot(value: SyscallValue) -> Slot {
    match value {
        SyscallValue::Slot(slot) => slot,
        other => kernel_bug(other),
    }
}

#[inline]
fn to_number(value: SyscallValue) -> u64 {
    match value {
        SyscallValue::Number(number) => number,
        other => kernel_bug(other),
    }
}

fn to_revoked(value: SyscallValue) -> (u64, Vec<Slot>) {
    match value {
        SyscallValue::Revoked { count, emptied } => (count, emptied),
        other => kernel_bug(other),
    }
}

#[inline]
fn to_flag(value: SyscallValue) -> bool {
    to_number(value) != 0
}

#[inline]
fn to_incoming(value: SyscallValue) -> Incoming {
    match value {
        SyscallValue::Incoming(incoming) => incoming,
        other => kernel_bug(other),
    }
}

#[inline]
fn to_reply(value: SyscallValue) -> Received {
    match value {
        SyscallValue::Reply(received) => received,
        other => kernel_bug(other),
    }
}

#[inline]
fn to_bytes(value: SyscallValue) -> Vec<u8> {
    match value {
        SyscallValue::Bytes(bytes) => bytes,
        other => kernel_bug(other),
    }
}

impl Sys {
    pub(crate) fn new(trap: Rc<Trap>, process: ProcessId) -> Sys {
        Sys { trap, process }
    }

    /// The id of the process this handle belongs to.
    pub fn process(&self) -> ProcessId {
        self.process
    }

    fn request<T, A: Fn(SyscallValue) -> T>(&self, request: Syscall, answer: A) -> SyscallFuture<'_, A> {
        SyscallFuture { trap: &self.trap, request: Some(request), answer }
    }

    /// Makes any syscall.
    ///
    /// # Errors
    /// Whatever the kernel answers for that request.
    pub fn syscall(&self, request: Syscall) -> impl Future<Output = SyscallResult> + '_ {
        self.request(request, |value| value)
    }

    /// Takes a step without a syscall, for work a program does on its own (an interpreter's
    /// operation that fails before it reaches the kernel, a round of an empty loop): the step
    /// counts toward the step limit like any other, so such work is bounded too. Nothing is
    /// logged and nothing else runs meanwhile: the kernel polls the program again at once,
    /// unless the step limit has been reached, which ends the run.
    ///
    /// Such steps count toward the run's one step limit rather than a budget of their own: the
    /// step limit then bounds every run whatever runs in it, with one outcome (`step_limit`)
    /// however the steps were spent, and a scenario has one number to raise, not two.
    pub fn take_step(&self) -> impl Future<Output = ()> + '_ {
        StepFuture { trap: &self.trap, taken: false }
    }

    /// Sends through an endpoint (waits for a receiver) or a queue port (waits only when full and the policy says so).
    ///
    /// # Errors
    /// Invalid capability, wrong kind, rights, message too large, queue full, peer dead, deadlock.
    pub fn send(&self, port: Slot, message: Message) -> impl Future<Output = Result<(), SysError>> + '_ {
        self.request(Syscall::Send { port, message, blocking: Blocking::Forever }, to_unit)
    }

    /// Like [`Sys::send`], giving up with timed-out after `cycles`.
    ///
    /// # Errors
    /// As [`Sys::send`], plus timed out.
    pub fn send_timeout(
        &self,
        port: Slot,
        message: Message,
        cycles: u64,
    ) -> impl Future<Output = Result<(), SysError>> + '_ {
        self.request(Syscall::Send { port, message, blocking: Blocking::Timeout(cycles) }, to_unit)
    }

    /// Sends only if it can be done at once.
    ///
    /// # Errors
    /// As [`Sys::send`], plus would-block.
    pub fn try_send(&self, port: Slot, message: Message) -> impl Future<Output = Result<(), SysError>> + '_ {
        self.request(Syscall::Send { port, message, blocking: Blocking::Never }, to_unit)
    }

    /// Receives from any sender.
    ///
    /// # Errors
    /// Invalid capability, wrong kind, rights, peer dead, quota exceeded (no slot for a reply capability).
    pub fn receive(&self, port: Slot) -> impl Future<Output = Result<Incoming, SysError>> + '_ {
        self.request(Syscall::Receive { port, from: None, blocking: Blocking::Forever }, to_incoming)
    }

    /// Receives only from senders whose capability carries `badge`.
    ///
    /// # Errors
    /// As [`Sys::receive`].
    pub fn receive_from(&self, port: Slot, badge: Badge) -> impl Future<Output = Result<Incoming, SysError>> + '_ {
        self.request(Syscall::Receive { port, from: Some(badge), blocking: Blocking::Forever }, to_incoming)
    }

    /// Receives, giving up with timed-out after `cycles`.
    ///
    /// # Errors
    /// As [`Sys::receive`], plus timed out.
    pub fn receive_timeout(&self, port: Slot, cycles: u64) -> impl Future<Output = Result<Incoming, SysError>> + '_ {
        self.request(Syscall::Receive { port, from: None, blocking: Blocking::Timeout(cycles) }, to_incoming)
    }

    /// Receives only if a message is already there.
    ///
    /// # Errors
    /// As [`Sys::receive`], plus would-block.
    pub fn try_receive(&self, port: Slot) -> impl Future<Output = Result<Incoming, SysError>> + '_ {
        self.request(Syscall::Receive { port, from: None, blocking: Blocking::Never }, to_incoming)
    }

    /// Sends on an endpoint and waits for the reply.
    ///
    /// # Errors
    /// As [`Sys::send`]; peer dead also when the server dies or drops the reply capability.
    pub fn call(&self, port: Slot, message: Message) -> impl Future<Output = Result<Received, SysError>> + '_ {
        self.request(Syscall::Call { port, message, blocking: Blocking::Forever }, to_reply)
    }

    /// Like [`Sys::call`], giving up with timed-out after `cycles` (counted from the call).
    ///
    /// # Errors
    /// As [`Sys::call`], plus timed out.
    pub fn call_timeout(
        &self,
        port: Slot,
        message: Message,
        cycles: u64,
    ) -> impl Future<Output = Result<Received, SysError>> + '_ {
        self.request(Syscall::Call { port, message, blocking: Blocking::Timeout(cycles) }, to_reply)
    }

    /// Answers a call. Never blocks; a reply to a caller that has gone is dropped and counted.
    ///
    /// # Errors
    /// Invalid capability, wrong kind (not a reply capability), message too large.
    pub fn reply(&self, reply: Slot, message: Message) -> impl Future<Output = Result<(), SysError>> + '_ {
        self.request(Syscall::Reply { reply, message }, to_unit)
    }

    /// Answers a call and receives the next message, in one syscall.
    ///
    /// # Errors
    /// As [`Sys::reply`] (then nothing is received), or as [`Sys::receive`].
    pub fn reply_receive(
        &self,
        reply: Slot,
        message: Message,
        port: Slot,
    ) -> impl Future<Output = Result<Incoming, SysError>> + '_ {
        let request = Syscall::ReplyReceive { reply, message, port, from: None, blocking: Blocking::Forever };
        self.request(request, to_incoming)
    }

    /// ORs `bits` (and the capability's badge) into a notification. Never blocks.
    ///
    /// # Errors
    /// Invalid capability, wrong kind, rights, peer dead.
    pub fn signal(&self, notification: Slot, bits: u64) -> impl Future<Output = Result<(), SysError>> + '_ {
        self.request(Syscall::Signal { notification, bits }, to_unit)
    }

    /// Waits until a notification has bits, then takes and clears them.
    ///
    /// # Errors
    /// Invalid capability, wrong kind, rights, peer dead.
    pub fn wait(&self, notification: Slot) -> impl Future<Output = Result<u64, SysError>> + '_ {
        self.request(Syscall::Wait { notification, blocking: Blocking::Forever }, to_number)
    }

    /// Like [`Sys::wait`], giving up with timed-out after `cycles`.
    ///
    /// # Errors
    /// As [`Sys::wait`], plus timed out.
    pub fn wait_timeout(&self, notification: Slot, cycles: u64) -> impl Future<Output = Result<u64, SysError>> + '_ {
        self.request(Syscall::Wait { notification, blocking: Blocking::Timeout(cycles) }, to_number)
    }

    /// Takes and clears a notification's bits without waiting (zero when none).
    ///
    /// # Errors
    /// As [`Sys::wait`].
    pub fn poll(&self, notification: Slot) -> impl Future<Output = Result<u64, SysError>> + '_ {
        self.request(Syscall::Wait { notification, blocking: Blocking::Never }, to_number)
    }

    /// Makes an endpoint owned by this process; returns a capability with every right.
    ///
    /// # Errors
    /// Quota exceeded.
    pub fn create_endpoint(&self) -> impl Future<Output = Result<Slot, SysError>> + '_ {
        self.request(Syscall::CreateEndpoint, to_slot)
    }

    /// Makes a queue port holding at most `capacity` messages.
    ///
    /// # Errors
    /// Quota exceeded; invalid argument for a zero capacity.
    pub fn create_queue(&self, capacity: u32, policy: FullPolicy) -> impl Future<Output = Result<Slot, SysError>> + '_ {
        self.request(Syscall::CreateQueue { capacity, policy }, to_slot)
    }

    /// Makes a notification.
    ///
    /// # Errors
    /// Quota exceeded.
    pub fn create_notification(&self) -> impl Future<Output = Result<Slot, SysError>> + '_ {
        self.request(Syscall::CreateNotification, to_slot)
    }

    /// Makes a zero-filled memory region of `size` bytes.
    ///
    /// # Errors
    /// Quota exceeded (also when larger than the kernel's region limit).
    pub fn create_region(&self, size: u32) -> impl Future<Output = Result<Slot, SysError>> + '_ {
        self.request(Syscall::CreateRegion { size }, to_slot)
    }

    /// Copies a capability into a new slot, keeping at most `rights`.
    ///
    /// # Errors
    /// Invalid capability, wrong kind (reply capabilities cannot be copied), quota exceeded.
    pub fn copy(&self, slot: Slot, rights: Rights) -> impl Future<Output = Result<Slot, SysError>> + '_ {
        self.request(Syscall::Copy { slot, rights }, to_slot)
    }

    /// Copies a capability with at most `rights` and a badge.
    ///
    /// # Errors
    /// As [`Sys::copy`]; invalid argument when the capability already has another badge.
    pub fn mint(&self, slot: Slot, rights: Rights, badge: Badge) -> impl Future<Output = Result<Slot, SysError>> + '_ {
        self.request(Syscall::Mint { slot, rights, badge }, to_slot)
    }

    /// Deletes the capability in `slot`.
    ///
    /// # Errors
    /// Invalid capability.
    pub fn delete(&self, slot: Slot) -> impl Future<Output = Result<(), SysError>> + '_ {
        self.request(Syscall::Delete { slot }, to_unit)
    }

    /// Deletes every capability derived from the one in `slot`, everywhere; returns how many.
    ///
    /// # Errors
    /// Invalid capability.
    pub fn revoke(&self, slot: Slot) -> impl Future<Output = Result<u64, SysError>> + '_ {
        self.request(Syscall::Revoke { slot }, |value| to_revoked(value).0)
    }

    /// Like [`Sys::revoke`], and also says which slots of this process's own table the revoke
    /// emptied, in the order it removed them.
    ///
    /// # Errors
    /// Invalid capability.
    pub fn revoke_emptying(&self, slot: Slot) -> impl Future<Output = Result<(u64, Vec<Slot>), SysError>> + '_ {
        self.request(Syscall::Revoke { slot }, to_revoked)
    }

    /// Reads `len` bytes at `offset` of a region.
    ///
    /// # Errors
    /// Invalid capability, wrong kind, rights (read), invalid argument (out of bounds), peer dead.
    pub fn region_read(
        &self,
        region: Slot,
        offset: u32,
        len: u32,
    ) -> impl Future<Output = Result<Vec<u8>, SysError>> + '_ {
        self.request(Syscall::RegionRead { region, offset, len }, to_bytes)
    }

    /// Writes `data` at `offset` of a region.
    ///
    /// # Errors
    /// Invalid capability, wrong kind, rights (write), invalid argument (out of bounds), peer dead.
    pub fn region_write(
        &self,
        region: Slot,
        offset: u32,
        data: &[u8],
    ) -> impl Future<Output = Result<(), SysError>> + '_ {
        self.request(Syscall::RegionWrite { region, offset, data: data.to_vec() }, to_unit)
    }

    /// Binds a notification to this process: its receives also return the notification's bits.
    ///
    /// # Errors
    /// Invalid capability, wrong kind, rights (receive), invalid argument (already bound).
    pub fn bind_notification(&self, notification: Slot) -> impl Future<Output = Result<(), SysError>> + '_ {
        self.request(Syscall::BindNotification { notification }, to_unit)
    }

    /// Signals `notification` with `bits` when the process behind the handle in `process` dies.
    ///
    /// # Errors
    /// Invalid capability, wrong kind, rights (read on the handle, send on the notification).
    pub fn watch(
        &self,
        process: Slot,
        notification: Slot,
        bits: u64,
    ) -> impl Future<Output = Result<(), SysError>> + '_ {
        self.request(Syscall::Watch { process, notification, bits }, to_unit)
    }

    /// Arms a timer interrupt into a notification after `delay_cycles`, repeating every `period_cycles`.
    ///
    /// # Errors
    /// Invalid capability, wrong kind, rights (send), invalid argument (zero period).
    pub fn arm_timer(
        &self,
        notification: Slot,
        bits: u64,
        delay_cycles: u64,
        period_cycles: Option<u64>,
    ) -> impl Future<Output = Result<(), SysError>> + '_ {
        self.request(Syscall::ArmTimer { notification, bits, delay_cycles, period_cycles }, to_unit)
    }

    /// Sleeps for `cycles` of virtual time.
    ///
    /// # Errors
    /// None in practice; the result type keeps every syscall alike.
    pub fn sleep(&self, cycles: u64) -> impl Future<Output = Result<(), SysError>> + '_ {
        self.request(Syscall::Sleep { cycles }, to_unit)
    }

    /// Uses the processor for `cycles` (it may be preempted in between).
    ///
    /// # Errors
    /// None in practice.
    pub fn compute(&self, cycles: u64) -> impl Future<Output = Result<(), SysError>> + '_ {
        self.request(Syscall::Compute { cycles }, to_unit)
    }

    /// Lets other ready processes of the same priority run first.
    ///
    /// # Errors
    /// None in practice.
    pub fn yield_now(&self) -> impl Future<Output = Result<(), SysError>> + '_ {
        self.request(Syscall::Yield, to_unit)
    }

    /// The current virtual time in cycles.
    ///
    /// # Errors
    /// None in practice.
    pub fn clock(&self) -> impl Future<Output = Result<u64, SysError>> + '_ {
        self.request(Syscall::Clock, to_number)
    }

    /// A number from the run's seeded random stream.
    ///
    /// # Errors
    /// None in practice.
    pub fn random(&self) -> impl Future<Output = Result<u64, SysError>> + '_ {
        self.request(Syscall::Random, to_number)
    }

    /// Marks the start of an operation (a client-stub call) in the event log. Free: not a syscall.
    pub fn begin_operation(&self, label: u32) {
        self.annotate(Annotation::Began { label });
    }

    /// Marks the end of an operation begun with [`Sys::begin_operation`].
    pub fn end_operation(&self, label: u32, failed: bool) {
        self.annotate(Annotation::Ended { label, failed });
    }

    fn annotate(&self, annotation: Annotation) {
        let mut annotations = self.trap.annotations.take();
        annotations.push(annotation);
        self.trap.annotations.set(annotations);
        self.trap.annotated.set(true);
    }

    /// Marks that the current operation is being tried again after its server died. Free.
    pub fn retry_operation(&self, label: u32) {
        self.annotate(Annotation::Retried { label });
    }

    /// Records in the log that a scripted program is at `line` of its script, so a view can say
    /// which line made the syscalls that follow. Free: not a syscall.
    pub fn script_line(&self, line: u32) {
        self.annotate(Annotation::ScriptLine { line });
    }

    /// Records in the log what `module`'s service holds after a request changed it (a summary
    /// its protocol encoded), so views can show the service's state at any step. Free: not a
    /// syscall. A summary equal to the module's previous one is not logged again.
    pub fn service_state(&self, module: crate::fault::ServiceModule, summary: Vec<u8>) {
        let mut states = self.trap.service_states.take();
        states.push((module, summary));
        self.trap.service_states.set(states);
        self.annotate(Annotation::ServiceState);
    }

    /// Records in the log that a fault was injected into this process. Free: fault injection
    /// is the simulator's doing, not the program's.
    pub fn mark_fault(&self, fault: crate::event::InjectedFault) {
        self.annotate(Annotation::Fault { fault });
    }

    /// The virtual time at which the process last resumed. Free: for the simulator's fault
    /// injection, which must not add syscalls to the run; programs use [`Sys::clock`].
    pub fn now(&self) -> u64 {
        self.trap.now_cycles.get()
    }

    /// Faults the process behind a process handle.
    ///
    /// # Errors
    /// Invalid capability, wrong kind, rights (write on the handle).
    pub fn kill(&self, process: Slot) -> impl Future<Output = Result<(), SysError>> + '_ {
        self.request(Syscall::Kill { process }, to_unit)
    }

    /// Restarts the dead process behind a process handle; the handle then names the new
    /// incarnation. Returns a send capability to its service port.
    ///
    /// # Errors
    /// Invalid capability, wrong kind, rights (write on the handle); invalid argument when the
    /// process is still alive or was not booted restartable.
    pub fn restart(&self, process: Slot) -> impl Future<Output = Result<Slot, SysError>> + '_ {
        self.request(Syscall::Restart { process }, to_slot)
    }

    /// Tells the kernel this process has finished starting up: programs that wait for the boot
    /// run once every server the boot waits for has said so.
    ///
    /// # Errors
    /// None in practice.
    pub fn ready(&self) -> impl Future<Output = Result<(), SysError>> + '_ {
        self.request(Syscall::Ready, to_unit)
    }

    /// Whether the process behind a handle has reported ready since it last started (a
    /// supervisor waits for that before it sends a restarted server heartbeats).
    ///
    /// # Errors
    /// Invalid capability, wrong kind, rights (read on the handle).
    pub fn is_ready(&self, process: Slot) -> impl Future<Output = Result<bool, SysError>> + '_ {
        self.request(Syscall::IsReady { process }, to_flag)
    }

    /// Accounts for a service the kernel ran directly for this process (monolithic mode).
    ///
    /// # Errors
    /// None in practice.
    pub fn kernel_service(
        &self,
        label: u32,
        request: impl crate::message::IntoMessageData,
        work: crate::syscall::ServiceWork,
    ) -> impl Future<Output = Result<(), SysError>> + '_ {
        let request = request.into_message_data();
        self.request(Syscall::KernelService { label, request, work: Box::new(work), port: None, answer: None }, to_unit)
    }

    /// [`Sys::kernel_service`] for a call the module finished, with its answer encoded as the
    /// server would have replied: the log keeps it, so views show what the call returned.
    pub fn kernel_service_answered(
        &self,
        label: u32,
        request: impl crate::message::IntoMessageData,
        work: crate::syscall::ServiceWork,
        answer: impl crate::message::IntoMessageData,
    ) -> impl Future<Output = Result<(), SysError>> + '_ {
        let request = request.into_message_data();
        let answer = Some(Box::from(&answer.into_message_data()[..]));
        self.request(Syscall::KernelService { label, request, work: Box::new(work), port: None, answer }, to_unit)
    }

    /// Accounts for a name lookup the kernel answered for one of its own service modules
    /// (monolithic mode), and returns the send capability to that module's port it hands over.
    ///
    /// # Errors
    /// Quota exceeded when the caller's table is full.
    pub fn kernel_service_port(
        &self,
        label: u32,
        request: impl crate::message::IntoMessageData,
        work: crate::syscall::ServiceWork,
        port: crate::syscall::ServicePort,
    ) -> impl Future<Output = Result<Slot, SysError>> + '_ {
        let request = request.into_message_data();
        let call = Syscall::KernelService { label, request, work: Box::new(work), port: Some(port), answer: None };
        self.request(call, to_slot)
    }

    /// Ends the process with `code`. The kernel never resumes it, so this does not return.
    pub async fn exit(&self, code: i32) -> ProgramResult {
        let _never = self.syscall(Syscall::Exit { code }).await;
        Ok(code)
    }
}
