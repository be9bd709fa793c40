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

/// What a syscall handler did with the calling process.
pub(crate) enum Flow {
    /// The call is finished; the process keeps running with this result.
    Return(SyscallResult),
    /// The process blocked; a later event wakes it with its result.
    Blocked,
    /// The process is busy (computing) and gets its result later without blocking.
    Busy,
    /// The process is gone.
    Ended,
}

impl From<SysError> for Flow {
    fn from(error: SysError) -> Self {
        Flow::Return(Err(error))
    }
}

impl From<Result<SyscallValue, SysError>> for Flow {
    fn from(result: Result<SyscallValue, SysError>) -> Self {
        Flow::Return(result)
    }
}

impl Kernel {
    pub(crate) fn execute(&mut self, id: ProcessId, request: Syscall) {
        let call = request.kind();
        let entered = self.enter_syscall(id, call);
        if let Some(checked) = self.fast_ipc_check(id, &request) {
            self.fast_ipc(id, entered, checked, request);
            return;
        }
        self.log.push(entered);
        match self.dispatch(id, request, call) {
            Flow::Return(result) => self.finish_syscall(id, call, result),
            Flow::Blocked | Flow::Busy | Flow::Ended => {}
        }
    }

    /// Charges and counts a trap into the kernel; returns the event that records it.
    fn enter_syscall(&mut self, id: ProcessId, call: SyscallKind) -> Event {
        let profile = &self.config.profile;
        let cycles = if call.is_ipc() { profile.ipc_one_way_cycles } else { profile.syscall_cycles };
        self.now = self.now.saturating_add(cycles);
        let process = self.process_mut(id);
        process.charge(cycles);
        process.counters.syscalls += 1;
        Event { time: self.now, process: id, kind: EventKind::SyscallEntered { call } }
    }

    /// Carries out `request`, whose kind the caller has worked out already as `call`.
    fn dispatch(&mut self, id: ProcessId, request: Syscall, call: SyscallKind) -> Flow {
        match request {
            Syscall::Send { port, message, blocking } => self.sys_send(id, port, message, blocking, call),
            Syscall::Receive { port, from, blocking } => self.sys_receive(id, port, from, blocking, call),
            Syscall::Call { port, message, blocking } => self.sys_call(id, port, message, blocking),
            Syscall::Reply { reply, message } => match self.sys_reply(id, reply, message) {
                Ok(()) => Flow::Return(Ok(SyscallValue::Unit)),
                Err(flow) => flow,
            },
            Syscall::ReplyReceive { reply, message, port, from, blocking } => {
                match self.sys_reply(id, reply, message) {
                    Ok(()) => self.sys_receive(id, port, from, blocking, call),
                    Err(flow) => flow,
                }
            }
            Syscall::Signal { notification, bits } => self.sys_signal(id, notification, bits).into(),
            Syscall::Wait { notification, blocking } => self.sys_wait(id, notification, blocking, call),
            Syscall::CreateEndpoint => self.sys_create(id, ObjectBody::Endpoint(Default::default())).into(),
            Syscall::CreateQueue { capacity, policy } => self.sys_create_queue(id, capacity, policy).into(),
            Syscall::CreateNotification => self.sys_create(id, ObjectBody::Notification(Default::default())).into(),
            Syscall::CreateRegion { size } => self.sys_create_region(id, size),
            Syscall::Copy { slot, rights } => self.sys_copy(id, slot, rights, None).into(),
            Syscall::Mint { slot, rights, badge } => self.sys_copy(id, slot, rights, Some(badge)).into(),
            Syscall::Delete { slot } => self.sys_delete(id, slot).into(),
            Syscall::Revoke { slot } => self.sys_revoke(id, slot).into(),
            Syscall::RegionRead { region, offset, len } => self.sys_region_read(id, region, offset, len).into(),
            Syscall::RegionWrite { region, offset, data } => self.sys_region_write(id, region, offset, &data).into(),
            Syscall::BindNotification { notification } => self.sys_bind(id, notification).into(),
            Syscall::Watch { process, notification, bits } => self.sys_watch(id, process, notification, bits).into(),
            Syscall::ArmTimer { notification, bits, delay_cycles, period_cycles } => {
                self.sys_arm_timer(id, notification, bits, delay_cycles, period_cycles).into()
            }
            Syscall::Sleep { cycles } => self.sys_sleep(id, cycles),
            Syscall::Compute { cycles } => {
                self.process_mut(id).compute_remaining = cycles;
                if cycles == 0 { Flow::Return(Ok(SyscallValue::Unit)) } else { Flow::Busy }
            }
            Syscall::Yield => self.sys_yield(id),
            Syscall::Clock => Flow::Return(Ok(SyscallValue::Number(self.now))),
            Syscall::Random => Flow::Return(Ok(SyscallValue::Number(rand_core::Rng::next_u64(&mut self.rng)))),
            Syscall::KernelService { label, request, work, port } => {
                self.sys_kernel_service(id, label, &request, work, port)
            }
            Syscall::Kill { process } => self.sys_kill(id, process),
            Syscall::Restart { process } => self.sys_restart(id, process).into(),
            Syscall::Ready => self.sys_ready(id),
            Syscall::IsReady { process } => self.sys_is_ready(id, process).into(),
            Syscall::Exit { code } => {
                self.terminate(id, ProcessState::Exited { code });
                Flow::Ended
            }
        }
    }

    pub(crate) fn finish_syscall(&mut self, id: ProcessId, call: SyscallKind, result: SyscallResult) {
        let error = result.as_ref().err().copied();
        self.process(id).trap.response.set(Some(result));
        self.emit(id, EventKind::SyscallReturned { call, error });
    }

    fn sys_sleep(&mut self, id: ProcessId, cycles: u64) -> Flow {
        if cycles == 0 {
            return Flow::Return(Ok(SyscallValue::Unit));
        }
        let until = self.now.saturating_add(cycles);
        self.block(id, ProcessState::Sleeping { until }, SyscallKind::Sleep, Some(cycles))
    }

    fn sys_kernel_service(
        &mut self,
        id: ProcessId,
        label: u32,
        request: &[u8],
        work: crate::syscall::ServiceWork,
        port: Option<crate::syscall::ServicePort>,
    ) -> Flow {
        // The log keeps the request: a large one is checked against the memory budget first.
        if request.len() > crate::memory::LARGE_MESSAGE_BYTES
            && let Some(ended) = self.refuse_over_budget(request.len())
        {
            return ended;
        }
        let profile = &self.config.profile;
        let cycles = work.function_calls.saturating_mul(profile.function_call_cycles)
            + profile.copy_cycles(work.bytes_copied)
            + work.interrupts.saturating_mul(profile.interrupt_cycles);
        self.charge(id, cycles);
        let message = self.log.record_message(
            id,
            crate::ids::ObjectId { index: u32::MAX, generation: 0 },
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
        self.emit(id, EventKind::ServiceCalled { message });
        if let Some(crate::syscall::ServiceFault { kind, module }) = work.fault {
            self.emit(id, EventKind::FaultInjected { fault: kind });
            if kind.is_failure() {
                let request = self.log.message_content(message);
                let detail =
                    format!("{} in the kernel's {} module while handling {request}", kind.name(), module.name());
                self.panic(id, kind, detail);
                return Flow::Ended;
            }
        }
        if let Some(port) = port {
            // Naming a service touches no device: the answer comes at once.
            return Flow::Return(self.hand_service_port(id, port).map(SyscallValue::Slot));
        }
        if work.device_cycles == 0 {
            return Flow::Return(Ok(SyscallValue::Unit));
        }
        let until = self.now.saturating_add(work.device_cycles);
        self.block(id, ProcessState::InKernel { until }, SyscallKind::KernelService, Some(work.device_cycles))
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

    fn sys_yield(&mut self, id: ProcessId) -> Flow {
        let priority = self.process(id).effective_priority;
        let others_waiting = self.run_queue.best_priority().is_some_and(|best| !priority.is_more_important_than(best));
        if others_waiting {
            self.process_mut(id).preempt();
            self.run_queue.push_back(id, priority);
            self.current = None;
        }
        Flow::Return(Ok(SyscallValue::Unit))
    }
}
