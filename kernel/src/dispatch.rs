//! Syscall dispatch: charging the trap into the kernel, trying the fast path,
//! handing the request to its handler, and returning the result; with the
//! small syscalls that need no module of their own (sleep, compute, yield,
//! clock, random, exit, and service calls into a monolithic kernel).

use crate::capability::{Capability, Rights};
use crate::error::SysError;
use crate::event::{CapabilityOp, Event, EventKind};
use crate::ids::{Badge, ProcessId, Slot};
use crate::kernel::Kernel;
use crate::object::ObjectBody;
use crate::process::ProcessState;
use crate::syscall::{Syscall, SyscallKind, SyscallResult, SyscallValue};

/// What a syscall handler did with its caller, when the call did not fail.
///
/// Every handler has one signature, after Hubris's `Result<NextTask, UserError>`:
/// `fn sys_…(&mut self, id: ProcessId, arguments…) -> Result<Next, SysError>`. An error
/// is the caller's and is returned to it; [`Kernel::execute`], the one wrapper around
/// them all, does what follows from either (see [`Kernel::finish`]).
pub(crate) enum Next {
    /// The call is finished; the caller keeps running with this value.
    Return(SyscallValue),
    /// The caller blocked; a later event wakes it with its result.
    Blocked,
    /// The caller is busy (computing) and gets its result later without blocking.
    Busy,
    /// The caller is gone, or the run ended.
    Ended,
}

impl Next {
    /// The call is finished and returns nothing.
    pub(crate) const DONE: Next = Next::Return(SyscallValue::Unit);
}

impl Kernel {
    /// Carries out one syscall of `id`: charges its trap into the kernel, takes the fast path
    /// when its checks allow, otherwise hands the request to its handler and finishes it.
    pub(crate) fn execute(&mut self, id: ProcessId, request: Syscall) {
        let call = request.kind();
        if call == SyscallKind::KernelService {
            self.execute_kernel_service(id, request);
            return;
        }
        let entered = self.enter_syscall(id, call);
        if let Some(checked) = self.fast_ipc_check(id, &request) {
            self.fast_ipc(id, entered, checked, request);
            return;
        }
        self.log.push(entered);
        let handled = self.dispatch(id, request, call);
        self.finish(id, call, handled);
    }

    /// What follows a handler's answer: a finished call or an error returns to the caller at
    /// once; a caller that blocked, computes or ended gets its result later, or never.
    fn finish(&mut self, id: ProcessId, call: SyscallKind, handled: Result<Next, SysError>) {
        match handled {
            Ok(Next::Return(value)) => self.finish_syscall(id, call, Ok(value)),
            Err(error) => self.finish_syscall(id, call, Err(error)),
            Ok(Next::Blocked | Next::Busy | Next::Ended) => {}
        }
    }

    /// [`Kernel::execute`] for a service call inside the kernel (monolithic mode), kept apart
    /// from the path every IPC takes. A call that goes on after it waited in the kernel is no
    /// new trap: it is logged as a resumption, not charged or counted as a syscall.
    #[inline(never)]
    fn execute_kernel_service(&mut self, id: ProcessId, request: Syscall) {
        let resumed = matches!(&request, Syscall::KernelService { work, .. } if work.resumed);
        let (call, entered) = if resumed {
            let call = SyscallKind::KernelResume;
            (call, Event { time: self.now_cycles, process: id, kind: EventKind::SyscallEntered { call } })
        } else {
            (SyscallKind::KernelService, self.enter_syscall(id, SyscallKind::KernelService))
        };
        self.log.push(entered);
        let handled = self.dispatch(id, request, call);
        self.finish(id, call, handled);
    }

    /// Charges and counts a trap into the kernel; returns the event that records it.
    fn enter_syscall(&mut self, id: ProcessId, call: SyscallKind) -> Event {
        let profile = &self.config.profile;
        let cycles = if call.is_ipc() { profile.ipc_one_way_cycles } else { profile.syscall_cycles };
        self.now_cycles = self.now_cycles.saturating_add(cycles);
        let process = self.process_mut(id);
        process.charge(cycles);
        process.counters.syscalls += 1;
        Event { time: self.now_cycles, process: id, kind: EventKind::SyscallEntered { call } }
    }

    /// Hands `request`, whose kind the caller has worked out already as `call`, to its handler.
    fn dispatch(&mut self, id: ProcessId, request: Syscall, call: SyscallKind) -> Result<Next, SysError> {
        match request {
            Syscall::Send { port, message, blocking } => self.sys_send(id, port, message, blocking, call),
            Syscall::Receive { port, from, blocking } => self.sys_receive(id, port, from, blocking, call),
            Syscall::Call { port, message, blocking } => self.sys_call(id, port, message, blocking),
            Syscall::Reply { reply, message } => self.sys_reply(id, reply, message),
            Syscall::ReplyReceive { reply, message, port, from, blocking } => {
                self.sys_reply_receive(id, reply, message, port, from, blocking)
            }
            Syscall::Signal { notification, bits } => self.sys_signal(id, notification, bits),
            Syscall::Wait { notification, blocking } => self.sys_wait(id, notification, blocking, call),
            Syscall::CreateEndpoint => self.sys_create(id, ObjectBody::Endpoint(Default::default())),
            Syscall::CreateQueue { capacity, policy } => self.sys_create_queue(id, capacity, policy),
            Syscall::CreateNotification => self.sys_create(id, ObjectBody::Notification(Default::default())),
            Syscall::CreateRegion { size } => self.sys_create_region(id, size),
            Syscall::Copy { slot, rights } => self.sys_copy(id, slot, rights, None),
            Syscall::Mint { slot, rights, badge } => self.sys_copy(id, slot, rights, Some(badge)),
            Syscall::Delete { slot } => self.sys_delete(id, slot),
            Syscall::Revoke { slot } => self.sys_revoke(id, slot),
            Syscall::RegionRead { region, offset, len } => self.sys_region_read(id, region, offset, len),
            Syscall::RegionWrite { region, offset, data } => self.sys_region_write(id, region, offset, &data),
            Syscall::BindNotification { notification } => self.sys_bind(id, notification),
            Syscall::Watch { process, notification, bits } => self.sys_watch(id, process, notification, bits),
            Syscall::ArmTimer { notification, bits, delay_cycles, period_cycles } => {
                self.sys_arm_timer(id, notification, bits, delay_cycles, period_cycles)
            }
            Syscall::Sleep { cycles } => self.sys_sleep(id, cycles),
            Syscall::Compute { cycles } => self.sys_compute(id, cycles),
            Syscall::Yield => self.sys_yield(id),
            Syscall::Clock => self.sys_clock(id),
            Syscall::Random => self.sys_random(id),
            Syscall::KernelService { label, request, work, port, answer } => {
                self.sys_kernel_service(id, label, &request, *work, port, answer.as_deref())
            }
            Syscall::Kill { process } => self.sys_kill(id, process),
            Syscall::Restart { process } => self.sys_restart(id, process),
            Syscall::Ready => self.sys_ready(id),
            Syscall::IsReady { process } => self.sys_is_ready(id, process),
            Syscall::Exit { code } => self.sys_exit(id, code),
        }
    }

    pub(crate) fn finish_syscall(&mut self, id: ProcessId, call: SyscallKind, result: SyscallResult) {
        let error = result.as_ref().err().copied();
        self.process(id).trap.response.set(Some(result));
        self.emit(id, EventKind::SyscallReturned { call, error });
    }

    fn sys_compute(&mut self, id: ProcessId, cycles: u64) -> Result<Next, SysError> {
        self.process_mut(id).compute_remaining_cycles = cycles;
        if cycles == 0 { Ok(Next::DONE) } else { Ok(Next::Busy) }
    }

    fn sys_clock(&mut self, _id: ProcessId) -> Result<Next, SysError> {
        Ok(Next::Return(SyscallValue::Number(self.now_cycles)))
    }

    fn sys_random(&mut self, _id: ProcessId) -> Result<Next, SysError> {
        Ok(Next::Return(SyscallValue::Number(rand_core::Rng::next_u64(&mut self.rng))))
    }

    fn sys_exit(&mut self, id: ProcessId, code: i32) -> Result<Next, SysError> {
        self.terminate(id, ProcessState::Exited { code });
        Ok(Next::Ended)
    }

    fn sys_sleep(&mut self, id: ProcessId, cycles: u64) -> Result<Next, SysError> {
        if cycles == 0 {
            return Ok(Next::DONE);
        }
        let until_cycles = self.now_cycles.saturating_add(cycles);
        self.block(id, ProcessState::Sleeping { until: until_cycles }, SyscallKind::Sleep, Some(cycles))
    }

    fn sys_kernel_service(
        &mut self,
        id: ProcessId,
        label: u32,
        request: &[u8],
        work: crate::syscall::ServiceWork,
        port: Option<crate::syscall::ServicePort>,
        answer: Option<&[u8]>,
    ) -> Result<Next, SysError> {
        // The log keeps the request: a large one is checked against the memory budget first.
        if request.len() > crate::memory::LARGE_MESSAGE_BYTES
            && let Some(ended) = self.refuse_over_budget(request.len())
        {
            return Ok(ended);
        }
        let profile = &self.config.profile;
        let cycles = work.function_calls.saturating_mul(profile.function_call_cycles)
            + profile.copy_cycles(work.bytes_copied)
            + work.interrupts.saturating_mul(profile.interrupt_cycles);
        self.charge(id, cycles);
        let message = self.log.record_message(
            id,
            crate::ids::ObjectId::KERNEL,
            crate::message::MessageKind::Service,
            Badge::NONE,
            label,
            request,
            0,
            None,
        );
        let counters = &mut self.process_mut(id).counters;
        counters.service_calls += 1;
        counters.bytes_copied += work.bytes_copied;
        if let Some(answer) = answer {
            self.log.record_service_answer(message, answer);
        }
        self.emit(id, EventKind::ServiceCalled { message });
        if let Some(crate::syscall::ServiceFault { kind, module }) = work.fault {
            self.emit(id, EventKind::FaultInjected { fault: kind });
            if kind.is_failure() {
                let request = self.log.message_content(message);
                let detail =
                    format!("{} in the kernel's {} module while handling {request}", kind.name(), module.name());
                self.panic(id, kind, detail);
                return Ok(Next::Ended);
            }
        }
        if let Some(slot) = work.hold {
            self.hold_notification(id, slot);
        }
        if let Some(signal) = work.signal {
            self.service_signal(id, signal);
        }
        if let Some(port) = port {
            // Naming a service touches no device: the answer comes at once.
            return self.hand_service_port(id, port).map(|slot| Next::Return(SyscallValue::Slot(slot)));
        }
        if work.resumed {
            // This waiter has had its turn: the next one woken with it has its own.
            self.pass_turn(id);
        }
        for channel in work.wake.into_iter().flatten() {
            self.wake_channel(channel);
        }
        if let Some(channel) = work.wait {
            self.wait_channels.entry(channel).or_default().push_back(id);
            let call = if work.resumed { SyscallKind::KernelResume } else { SyscallKind::KernelService };
            return self.block(id, ProcessState::KernelWaiting { channel }, call, None);
        }
        if work.device_cycles == 0 {
            return Ok(Next::DONE);
        }
        let until_cycles = self.now_cycles.saturating_add(work.device_cycles);
        let state = ProcessState::InKernel { until: until_cycles };
        self.block(id, state, SyscallKind::KernelService, Some(work.device_cycles))
    }

    /// Gives `id` a send capability to the kernel's port for a service module, made the first
    /// time any process asks. The port lives as long as the run and nobody receives on it: the
    /// module is reached by its operations, not by messages.
    fn hand_service_port(&mut self, id: ProcessId, port: crate::syscall::ServicePort) -> Result<Slot, SysError> {
        // Checked first: a lookup that cannot hand the capability over makes no port either.
        if !self.has_free_slot(id) {
            return Err(SysError::QuotaExceeded);
        }
        let object = match self.service_ports.get(&port.module) {
            Some(&object) => object,
            None => {
                let object = self.create_object(None, ObjectBody::Endpoint(Default::default()));
                self.service_ports.insert(port.module, object);
                object
            }
        };
        let capability = Capability { object, rights: Rights::SEND, badge: port.badge };
        self.install(id, capability, None, CapabilityOp::Created)
    }

    fn sys_yield(&mut self, id: ProcessId) -> Result<Next, SysError> {
        let priority = self.process(id).effective_priority;
        let others_waiting = self.run_queue.best_priority().is_some_and(|best| !priority.is_more_important_than(best));
        if others_waiting {
            self.process_mut(id).preempt();
            self.run_queue.push_back(id, priority);
            self.current = None;
        }
        Ok(Next::DONE)
    }
}
