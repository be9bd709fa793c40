//! The kernel: process table, setup, the run loop and dispatch to the
//! syscall handlers that live in their own modules (ipc, notify, authority,
//! lifecycle).

use crate::capability::{Capability, DerivationTree, Location, NodeKey, Rights};
use crate::config::KernelConfig;
use crate::error::{FaultReason, SysError};
use crate::event::{CapabilityChange, CapabilityOp, Event, EventKind, EventLog};
use crate::ids::{Badge, ObjectId, Priority, ProcessId, Slot};
use crate::message::MessageId;
use crate::metrics::Counters;
use crate::object::{FullPolicy, ObjectBody, ObjectKind, ObjectTable, PortCounters, Queue};
use crate::outcome::Outcome;
use crate::process::{Process, ProcessState};
use crate::scheduler::RunQueue;
use crate::sys::{Sys, Trap};
use crate::syscall::{Syscall, SyscallKind, SyscallResult, SyscallValue};
use crate::time::{TimerAction, Timers};
use rand_chacha::ChaCha8Rng;
use rand_core::SeedableRng;
use std::future::Future;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::rc::Rc;
use std::task::{Context, Poll, Waker};

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

/// How a process is described when it is created.
#[derive(Clone, PartialEq, Eq, Debug)]
pub struct ProcessSpec {
    /// Name shown in every view.
    pub name: String,
    /// Fixed priority.
    pub priority: Priority,
    /// Servers may still be waiting when the run ends cleanly; programs must finish.
    pub is_server: bool,
}

impl ProcessSpec {
    /// A program (must finish for the run to complete cleanly).
    pub fn program(name: &str, priority: Priority) -> ProcessSpec {
        ProcessSpec { name: name.to_owned(), priority, is_server: false }
    }

    /// A server (may wait for requests forever).
    pub fn server(name: &str, priority: Priority) -> ProcessSpec {
        ProcessSpec { name: name.to_owned(), priority, is_server: true }
    }
}

/// A simulated microkernel and everything running on it.
pub struct Kernel {
    pub(crate) config: KernelConfig,
    pub(crate) now: u64,
    pub(crate) steps: u64,
    pub(crate) processes: Vec<Process>,
    pub(crate) objects: ObjectTable,
    pub(crate) tree: DerivationTree,
    pub(crate) run_queue: RunQueue,
    pub(crate) timers: Timers,
    pub(crate) current: Option<ProcessId>,
    /// The process an IPC just woke, to which switching is part of the IPC's cost.
    pub(crate) handoff: Option<ProcessId>,
    pub(crate) log: EventLog,
    pub(crate) rng: ChaCha8Rng,
    pub(crate) outcome: Option<Outcome>,
    /// Programs (not servers) that have not ended yet.
    pub(crate) programs_alive: usize,
    /// Cycles spent idle or handling interrupts, charged to no process.
    pub(crate) kernel_cycles: u64,
    /// Faults the kernel injects at set times, indexed by their timers.
    pub(crate) scheduled_faults: Vec<crate::restart::ScheduledFault>,
    /// Common IPC takes the fast path (see [`crate::fastpath`]); off only to test that it changes nothing.
    pub(crate) fast_ipc: bool,
    /// Servers starting up, programs waiting for them (see [`crate::boot`]).
    pub(crate) boot: crate::boot::BootPhase,
    /// The kernel's own ports for its service modules (monolithic mode), made at the first
    /// lookup of each: what a capability to an in-kernel service names.
    pub(crate) service_ports: std::collections::BTreeMap<crate::syscall::ServiceModule, ObjectId>,
    /// The step count at which `step` next checks the run's bounds: the step limit, or sooner,
    /// the next look at the memory the run holds (see [`crate::memory`]).
    pub(crate) check_at_step: u64,
    /// Bytes of live memory regions.
    pub(crate) region_bytes: u64,
    /// Data bytes of messages in flight: queued, or waiting with a blocked sender.
    pub(crate) in_flight_bytes: u64,
    /// Bytes of regions made at setup that the memory budget had no room for: the run stops
    /// before its first step.
    pub(crate) refused_at_setup: u64,
    /// Messages up to this size may take the fast path; larger ones are checked against the
    /// memory budget on the general path.
    pub(crate) fast_message_bytes: usize,
}

impl Kernel {
    /// A kernel with no processes yet.
    pub fn new(config: KernelConfig) -> Kernel {
        let rng = ChaCha8Rng::seed_from_u64(config.seed);
        let fast_message_bytes = (config.limits.message_bytes_max as usize).min(crate::memory::LARGE_MESSAGE_BYTES);
        Kernel {
            config,
            now: 0,
            steps: 0,
            processes: Vec::new(),
            objects: ObjectTable::default(),
            tree: DerivationTree::default(),
            run_queue: RunQueue::default(),
            timers: Timers::default(),
            current: None,
            handoff: None,
            log: EventLog::default(),
            rng,
            outcome: None,
            programs_alive: 0,
            kernel_cycles: 0,
            scheduled_faults: Vec::new(),
            fast_ipc: true,
            boot: Default::default(),
            service_ports: Default::default(),
            // The first step checks the bounds: the step limit may be 0, setup may have passed the budget.
            check_at_step: 0,
            region_bytes: 0,
            in_flight_bytes: 0,
            refused_at_setup: 0,
            fast_message_bytes,
        }
    }

    // ----- setup -----

    /// Creates a process that will run `program` once the run starts.
    pub fn spawn<F, Fut>(&mut self, spec: ProcessSpec, program: F) -> ProcessId
    where
        F: FnOnce(Sys) -> Fut,
        Fut: Future<Output = crate::error::ProgramResult> + 'static,
    {
        let id = self.create_process(spec);
        self.start(id, program);
        id
    }

    /// Creates a process with no program yet, so capabilities can be given to it
    /// before its program (which names them by slot) is built. See [`Kernel::start`].
    pub fn create_process(&mut self, spec: ProcessSpec) -> ProcessId {
        let index = u32::try_from(self.processes.len()).expect("more than 4 billion processes");
        let id = ProcessId { index, generation: 0 };
        self.log.name_process(index, &spec.name);
        self.processes.push(Process {
            id,
            name: spec.name,
            base_priority: spec.priority,
            effective_priority: spec.priority,
            is_server: spec.is_server,
            state: ProcessState::Ready,
            caps: Default::default(),
            program: None,
            trap: Rc::new(Trap::default()),
            blocked_call: None,
            blocked_since: 0,
            outgoing: None,
            timer: None,
            compute_remaining: 0,
            slice_used: 0,
            bound_notification: None,
            watchers: Vec::new(),
            held_replies: Vec::new(),
            owned: Vec::new(),
            counters: Counters::default(),
            fault_detail: None,
            counts_as_program: false,
            started: false,
            current_operation: None,
            restarter: None,
            ready: false,
        });
        self.emit(id, EventKind::Spawned { priority: spec.priority });
        id
    }

    /// Gives a created process its program and makes it ready.
    ///
    /// # Panics
    /// If the process already has a program (a setup bug in the caller).
    pub fn start<F, Fut>(&mut self, id: ProcessId, program: F)
    where
        F: FnOnce(Sys) -> Fut,
        Fut: Future<Output = crate::error::ProgramResult> + 'static,
    {
        let process = &mut self.processes[id.index as usize];
        assert!(
            !process.started && process.state == ProcessState::Ready,
            "setup bug: process {} was started twice or after it ended",
            process.name
        );
        process.started = true;
        let sys = Sys::new(Rc::clone(&process.trap), id);
        process.program = Some(Box::pin(program(sys)));
        if !process.is_server {
            process.counts_as_program = true;
            self.programs_alive += 1;
        }
        let priority = process.effective_priority;
        self.run_queue.push_back(id, priority);
    }

    /// Creates an endpoint that dies with `owner`.
    pub fn create_endpoint(&mut self, owner: ProcessId) -> ObjectId {
        self.create_object(Some(owner), ObjectBody::Endpoint(Default::default()))
    }

    /// Creates a queue port that dies with `owner`.
    pub fn create_queue(&mut self, owner: ProcessId, capacity: u32, policy: FullPolicy) -> ObjectId {
        let queue = Queue {
            capacity,
            policy,
            messages: Default::default(),
            senders: Default::default(),
            receivers: Default::default(),
        };
        self.create_object(Some(owner), ObjectBody::Queue(Box::new(queue)))
    }

    /// Creates a notification that dies with `owner`.
    pub fn create_notification(&mut self, owner: ProcessId) -> ObjectId {
        self.create_object(Some(owner), ObjectBody::Notification(Default::default()))
    }

    /// Creates a zero-filled memory region that dies with `owner`.
    ///
    /// A region the memory budget has no room for gets no bytes, and the run stops at the memory
    /// limit before its first step.
    pub fn create_region(&mut self, owner: ProcessId, size: u32) -> ObjectId {
        let bytes = self.setup_region_bytes(size);
        self.create_object(Some(owner), ObjectBody::Region(bytes))
    }

    /// Creates a handle on `target`, for watching it die.
    pub fn create_process_handle(&mut self, target: ProcessId) -> ObjectId {
        self.create_object(None, ObjectBody::Process(target))
    }

    pub(crate) fn create_object(&mut self, owner: Option<ProcessId>, body: ObjectBody) -> ObjectId {
        if let ObjectBody::Region(bytes) = &body {
            self.region_bytes += bytes.len() as u64;
        }
        let id = self.objects.insert(owner, body);
        let kind = self.objects.get(id).expect("just inserted").kind();
        if let Some(owner) = owner {
            self.process_mut(owner).owned.push(id);
        }
        self.log.name_object(id, kind, owner);
        self.emit(owner.unwrap_or(ProcessId::KERNEL), EventKind::Created { object: id, kind });
        id
    }

    /// Gives `holder` an original capability to `object`.
    ///
    /// # Errors
    /// Quota exceeded when the holder's table is full.
    pub fn grant(
        &mut self,
        holder: ProcessId,
        object: ObjectId,
        rights: Rights,
        badge: Badge,
    ) -> Result<Slot, SysError> {
        let capability = Capability { object, rights, badge };
        self.install(holder, capability, None, CapabilityOp::Granted)
    }

    /// Gives `holder` a capability derived from one `source` holds, so revoking
    /// the source's capability also removes this one.
    ///
    /// # Errors
    /// Invalid capability when the source slot is empty; invalid argument when it already has
    /// another badge; quota exceeded when the holder's table is full.
    pub fn grant_derived(
        &mut self,
        holder: ProcessId,
        source: ProcessId,
        slot: Slot,
        rights: Rights,
        badge: Badge,
    ) -> Result<Slot, SysError> {
        let node = self.process(source).caps.get(slot).ok_or(SysError::InvalidCapability)?;
        let original = self.tree.capability(node).expect("kernel bug: table names a dead node");
        let badge = match (original.badge, badge) {
            (inherited, Badge::NONE) => inherited,
            (Badge::NONE, badge) => badge,
            (inherited, badge) if inherited == badge => badge,
            // As for the mint syscall: a badged capability keeps its badge.
            _ => return Err(SysError::InvalidArgument),
        };
        let capability = Capability { object: original.object, rights: original.rights & rights, badge };
        self.install(holder, capability, Some(node), CapabilityOp::Granted)
    }

    // ----- running -----

    /// Runs until the run ends, and returns how it ended.
    pub fn run(&mut self) -> &Outcome {
        while self.step() {}
        self.outcome.as_ref().expect("the loop ends only with an outcome")
    }

    /// Carries out one step: one syscall, one compute slice, or one jump over idle time.
    /// Returns false once the run has ended.
    pub fn step(&mut self) -> bool {
        if self.outcome.is_some() {
            return false;
        }
        // One comparison for both bounds: the threshold is the step limit or the next look at the memory.
        if self.steps >= self.check_at_step && !self.check_bounds() {
            return false;
        }
        self.steps += 1;
        // Most steps have no timer armed at all: then there is nothing to fire.
        if !self.timers.is_empty() {
            self.fire_due_timers();
            if self.outcome.is_some() {
                // A fault injected at this moment panicked the kernel.
                return false;
            }
        }
        if self.steps == 1 {
            self.begin_run();
        }
        match self.choose_next() {
            Some(process) => {
                self.switch_to(process);
                if self.process(process).compute_remaining > 0 {
                    self.compute_slice(process);
                } else {
                    self.poll(process);
                }
            }
            None => self.idle_or_end(),
        }
        self.outcome.is_none()
    }

    fn choose_next(&mut self) -> Option<ProcessId> {
        let Some(current) = self.current.filter(|&id| self.process(id).state == ProcessState::Running) else {
            self.current = None;
            return self.run_queue.pop_best();
        };
        let priority = self.process(current).effective_priority;
        let Some(best) = self.run_queue.best_priority() else {
            self.process_mut(current).slice_used = 0;
            return Some(current);
        };
        let slice_spent = self.process(current).slice_used >= self.config.timeslice_cycles;
        if best.is_more_important_than(priority) {
            self.process_mut(current).state = ProcessState::Ready;
            self.run_queue.push_front(current, priority);
            return self.run_queue.pop_best();
        }
        if best == priority && slice_spent {
            self.process_mut(current).state = ProcessState::Ready;
            self.run_queue.push_back(current, priority);
            return self.run_queue.pop_best();
        }
        if slice_spent {
            self.process_mut(current).slice_used = 0;
        }
        Some(current)
    }

    fn switch_to(&mut self, next: ProcessId) {
        let handoff = self.handoff.take();
        if self.current != Some(next) {
            let direct = handoff == Some(next);
            if !direct {
                let cycles = self.config.profile.context_switch_cycles;
                self.charge(next, cycles);
            }
            let process = self.process_mut(next);
            process.counters.context_switches += 1;
            process.slice_used = 0;
            self.emit(next, EventKind::Switched { direct });
        }
        self.current = Some(next);
        self.process_mut(next).state = ProcessState::Running;
    }

    fn compute_slice(&mut self, id: ProcessId) {
        let process = self.process(id);
        let slice_left = self.config.timeslice_cycles.saturating_sub(process.slice_used).max(1);
        let until_timer =
            self.timers.next_deadline().map_or(u64::MAX, |deadline| deadline.saturating_sub(self.now).max(1));
        let cycles = process.compute_remaining.min(slice_left).min(until_timer);
        self.charge(id, cycles);
        self.process_mut(id).compute_remaining -= cycles;
        self.emit(id, EventKind::Computed { cycles });
        if self.process(id).compute_remaining == 0 {
            self.finish_syscall(id, SyscallKind::Compute, Ok(SyscallValue::Unit));
        }
    }

    fn poll(&mut self, id: ProcessId) {
        if self.poll_once(id) {
            self.poll_after_steps(id);
        }
    }

    /// Polls the program again, within this step, after each step it takes without a syscall:
    /// nothing else runs in between, so the schedule is what it would have been without them.
    #[cold]
    #[inline(never)]
    fn poll_after_steps(&mut self, id: ProcessId) {
        while self.take_program_step() && self.poll_once(id) {}
    }

    /// Polls a program once; returns true when it took a step without a syscall ([`Sys::take_step`]).
    #[inline(always)]
    fn poll_once(&mut self, id: ProcessId) -> bool {
        let now = self.now;
        let process = self.process_mut(id);
        process.trap.now.set(now);
        // Polled where it lives: a program never reaches the kernel while it runs, and one that
        // ends or panics is dropped by `terminate`, as it would be when taken out for the poll.
        let Some(program) = process.program.as_mut() else {
            panic!("kernel bug: running process {id} has no program");
        };
        let mut context = Context::from_waker(Waker::noop());
        let polled = catch_unwind(AssertUnwindSafe(|| program.as_mut().poll(&mut context)));
        self.log_annotations(id);
        match polled {
            Err(panic) => {
                let detail = panic_message(panic.as_ref());
                self.process_mut(id).fault_detail = Some(detail);
                self.terminate(id, ProcessState::Faulted { reason: FaultReason::Panicked });
            }
            Ok(Poll::Ready(Ok(code))) => self.terminate(id, ProcessState::Exited { code }),
            Ok(Poll::Ready(Err(fault))) => {
                if let crate::error::ProgramFault::Failed { detail, .. }
                | crate::error::ProgramFault::Injected(detail) = &fault
                {
                    self.process_mut(id).fault_detail = Some(detail.clone());
                }
                self.terminate(id, ProcessState::Faulted { reason: fault.reason() });
            }
            Ok(Poll::Pending) => {
                let request = self.process(id).trap.request.take();
                match request {
                    Some(request) => self.execute(id, request),
                    None if self.process(id).trap.stepped.replace(false) => return true,
                    None => self.terminate(id, ProcessState::Faulted { reason: FaultReason::NotASyscall }),
                }
            }
        }
        false
    }

    /// Counts a step a program took without a syscall ([`Sys::take_step`]); returns false when
    /// the step limit ended the run instead.
    #[cold]
    fn take_program_step(&mut self) -> bool {
        if self.steps >= self.config.step_limit {
            self.end(Outcome::StepLimit { limit: self.config.step_limit });
            return false;
        }
        self.steps += 1;
        true
    }

    /// Logs the operation markers a program left in its trap during the last poll.
    #[inline(always)]
    fn log_annotations(&mut self, id: ProcessId) {
        // Most polls leave none: then this test is all it costs.
        if self.process(id).trap.annotated.replace(false) {
            self.log_annotations_left(id);
        }
    }

    fn log_annotations_left(&mut self, id: ProcessId) {
        let trap = &self.process(id).trap;
        let mut annotations = trap.annotations.take();
        // Markers are plain values: reading them and then clearing the list costs nothing when there
        // are none, as after most polls, where a draining iterator still has to be set up and dropped.
        for &annotation in &annotations {
            let kind = match annotation {
                crate::sys::Annotation::Began { label } => {
                    self.process_mut(id).current_operation = Some(label);
                    EventKind::OperationBegan { label }
                }
                crate::sys::Annotation::Ended { label, failed } => {
                    self.process_mut(id).current_operation = None;
                    EventKind::OperationEnded { label, failed }
                }
                crate::sys::Annotation::Retried { label } => EventKind::OperationRetried { label },
                crate::sys::Annotation::Fault { fault } => EventKind::FaultInjected { fault },
            };
            self.emit(id, kind);
        }
        annotations.clear();
        // The emptied list goes back, so a program that annotates every operation does not allocate every time.
        self.process(id).trap.annotations.set(annotations);
    }

    fn execute(&mut self, id: ProcessId, request: Syscall) {
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

    fn finish_syscall(&mut self, id: ProcessId, call: SyscallKind, result: SyscallResult) {
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
            self.process_mut(id).state = ProcessState::Ready;
            self.run_queue.push_back(id, priority);
            self.current = None;
        }
        Flow::Return(Ok(SyscallValue::Unit))
    }

    fn idle_or_end(&mut self) {
        if self.programs_alive == 0 {
            self.end(Outcome::Completed);
            return;
        }
        match self.timers.next_deadline() {
            Some(deadline) => {
                let until = deadline.max(self.now);
                self.kernel_cycles = self.kernel_cycles.saturating_add(until - self.now);
                self.now = until;
                self.emit(ProcessId::KERNEL, EventKind::Idle { until });
            }
            None => {
                let report = self.deadlock_report();
                self.end(Outcome::Deadlock(report));
            }
        }
    }

    pub(crate) fn end(&mut self, outcome: Outcome) {
        debug_assert_eq!(self.in_flight_bytes, self.count_in_flight_bytes(), "kernel bug: in-flight bytes drifted");
        self.emit(ProcessId::KERNEL, EventKind::RunEnded { outcome: outcome.kind() });
        self.outcome = Some(outcome);
    }

    fn fire_due_timers(&mut self) {
        // Only what was due when the step began: interrupts charged here move time on, and timers
        // that become due meanwhile wait for the next step, so a step always ends.
        let due_by = self.now;
        while self.outcome.is_none()
            && let Some((deadline, action)) = self.timers.pop_due(due_by)
        {
            match action {
                TimerAction::Wake(id) => self.timer_expired(id),
                TimerAction::Inject { which } => self.inject_scheduled(which),
                TimerAction::Interrupt { notification, bits, period_cycles, owner } => {
                    if !self.is_alive(owner) || self.objects.get(notification).is_none() {
                        continue;
                    }
                    self.interrupt(notification, bits);
                    if let Some(period) = period_cycles {
                        let next = next_tick(deadline, period, self.now);
                        // At the end of virtual time (u64::MAX) there is no next tick to wait for.
                        if next > self.now {
                            let action = TimerAction::Interrupt { notification, bits, period_cycles, owner };
                            self.timers.insert(next, action);
                        }
                    }
                }
            }
        }
    }

    fn timer_expired(&mut self, id: ProcessId) {
        self.process_mut(id).timer = None;
        match self.process(id).state {
            ProcessState::Sleeping { .. } => self.wake(id, Ok(SyscallValue::Unit)),
            ProcessState::InKernel { .. } => self.wake(id, Ok(SyscallValue::Unit)),
            state if state.is_blocked() => {
                self.cancel_wait(id, crate::event::DropReason::TimedOut);
                self.wake(id, Err(SysError::TimedOut));
                if let Some(waited_for) = state.waits_for() {
                    self.refresh_priority(waited_for);
                }
            }
            _ => {}
        }
    }

    // ----- shared helpers for the syscall modules -----

    pub(crate) fn process(&self, id: ProcessId) -> &Process {
        &self.processes[id.index as usize]
    }

    pub(crate) fn process_mut(&mut self, id: ProcessId) -> &mut Process {
        &mut self.processes[id.index as usize]
    }

    /// True when `id` names the current incarnation of a process that has not ended.
    pub(crate) fn is_alive(&self, id: ProcessId) -> bool {
        self.processes.get(id.index as usize).is_some_and(|process| process.id == id && process.state.is_alive())
    }

    pub(crate) fn emit(&mut self, process: ProcessId, kind: EventKind) {
        self.log.push(Event { time: self.now, process, kind });
    }

    /// Logs a change to `holder`'s capability table.
    pub(crate) fn emit_capability(&mut self, holder: ProcessId, op: CapabilityOp, slot: Slot, capability: Capability) {
        let kind = self.capability_event(op, slot, capability);
        self.emit(holder, kind);
    }

    /// The event for a change to a capability table, its details kept in the log's side table if need be.
    #[inline]
    pub(crate) fn capability_event(&mut self, op: CapabilityOp, slot: Slot, capability: Capability) -> EventKind {
        let Capability { object, rights, badge } = capability;
        self.log.capability_event(CapabilityChange { op, slot, object, rights, badge })
    }

    pub(crate) fn charge(&mut self, id: ProcessId, cycles: u64) {
        self.now = self.now.saturating_add(cycles);
        self.process_mut(id).charge(cycles);
    }

    /// Blocks the calling process in `state`, with an optional timeout in cycles.
    pub(crate) fn block(
        &mut self,
        id: ProcessId,
        state: ProcessState,
        call: SyscallKind,
        timeout: Option<u64>,
    ) -> Flow {
        let now = self.now;
        let process = &mut self.processes[id.index as usize];
        if let Some(cycles) = timeout {
            process.timer = Some(self.timers.insert(now.saturating_add(cycles), TimerAction::Wake(id)));
        }
        let blocked = process.block(state, call, now);
        self.emit(id, blocked);
        self.leave_processor(id);
        Flow::Blocked
    }

    /// A process that blocked or ended no longer runs.
    pub(crate) fn leave_processor(&mut self, id: ProcessId) {
        if self.current == Some(id) {
            self.current = None;
        }
    }

    /// Makes a blocked process ready, with the result its syscall returns.
    pub(crate) fn wake(&mut self, id: ProcessId, result: SyscallResult) {
        let woken = self.make_ready(id, result);
        self.emit(id, woken);
    }

    /// Does what [`Kernel::wake`] does but log it: returns the event that records it.
    #[inline(always)]
    // Always inlined: see "Inlining" in the fast path's module doc.
    pub(crate) fn make_ready(&mut self, id: ProcessId, result: SyscallResult) -> EventKind {
        let process = &mut self.processes[id.index as usize];
        let woken = process.unblock(self.now, result, &mut self.timers);
        self.run_queue.push_back(id, process.effective_priority);
        woken
    }

    /// Turns the IPC fast path on (the default) or off. It changes nothing anyone can observe:
    /// this is for tests that check exactly that.
    #[doc(hidden)]
    pub fn set_fast_ipc(&mut self, on: bool) {
        self.fast_ipc = on;
    }

    // ----- inspection -----

    /// The settings of this run.
    pub fn config(&self) -> &KernelConfig {
        &self.config
    }

    /// Current virtual time in cycles.
    pub fn now(&self) -> u64 {
        self.now
    }

    /// Steps taken so far.
    pub fn steps(&self) -> u64 {
        self.steps
    }

    /// What the run holds now, as its memory budget counts it (see [`crate::memory`]).
    pub fn memory(&self) -> crate::outcome::MemoryReport {
        self.memory_report(0)
    }

    /// How the run ended, once it has.
    pub fn outcome(&self) -> Option<&Outcome> {
        self.outcome.as_ref()
    }

    /// The event log.
    pub fn log(&self) -> &EventLog {
        &self.log
    }

    /// The event log, keeping nothing else of the kernel (no copy of a long log).
    pub fn into_log(self) -> EventLog {
        self.log
    }

    /// Sets how message contents are described in the trace (protocols live above the kernel).
    pub fn set_message_describer(&mut self, describer: crate::event::MessageDescriber) {
        self.log.set_describer(describer);
    }

    /// Every process ever created, by index.
    pub fn processes(&self) -> &[Process] {
        &self.processes
    }

    /// A process by id, if that incarnation exists.
    pub fn process_by_id(&self, id: ProcessId) -> Option<&Process> {
        self.processes.get(id.index as usize).filter(|process| process.id == id)
    }

    /// A process by name.
    pub fn process_named(&self, name: &str) -> Option<&Process> {
        self.processes.iter().find(|process| process.name == name)
    }

    /// Counters summed over every process; kernel idle and interrupt time is in `cycles` too.
    pub fn totals(&self) -> Counters {
        let mut totals = Counters::default();
        for process in &self.processes {
            totals += process.counters;
        }
        totals.cycles = totals.cycles.saturating_add(self.kernel_cycles);
        totals
    }

    /// Cycles spent idle or in interrupts, charged to no process.
    pub fn kernel_cycles(&self) -> u64 {
        self.kernel_cycles
    }

    /// The capabilities a process holds: slot, capability, and the kind of object (`None` if it died).
    pub fn capabilities(&self, id: ProcessId) -> Vec<(Slot, Capability, Option<ObjectKind>)> {
        let Some(process) = self.process_by_id(id) else { return Vec::new() };
        process
            .caps
            .iter()
            .map(|(slot, node)| {
                let capability = self.tree.capability(node).expect("kernel bug: table names a dead node");
                let kind = self.objects.get(capability.object).map(|object| object.kind());
                (slot, capability, kind)
            })
            .collect()
    }

    /// The kind of a live object.
    pub fn object_kind(&self, id: ObjectId) -> Option<ObjectKind> {
        self.objects.get(id).map(|object| object.kind())
    }

    /// The counters of a live object (messages through a port).
    pub fn port_counters(&self, id: ObjectId) -> Option<PortCounters> {
        self.objects.get(id).map(|object| object.counters)
    }

    /// Messages waiting on a port: queued ones, then those held by blocked senders.
    pub fn waiting_messages(&self, port: ObjectId) -> Vec<MessageId> {
        match self.objects.get(port).map(|object| &object.body) {
            Some(ObjectBody::Queue(queue)) => {
                let queued = queue.messages.iter().map(|envelope| envelope.id);
                queued.chain(queue.senders.iter().filter_map(|&sender| self.outgoing_id(sender))).collect()
            }
            Some(ObjectBody::Endpoint(endpoint)) => {
                endpoint.senders.iter().filter_map(|&sender| self.outgoing_id(sender)).collect()
            }
            _ => Vec::new(),
        }
    }

    fn outgoing_id(&self, sender: ProcessId) -> Option<MessageId> {
        self.process(sender).outgoing.as_ref().map(|outgoing| outgoing.envelope.id)
    }

    /// Pending bits of a live notification.
    pub fn notification_bits(&self, id: ObjectId) -> Option<u64> {
        match self.objects.get(id).map(|object| &object.body) {
            Some(ObjectBody::Notification(notification)) => Some(notification.bits),
            _ => None,
        }
    }

    /// Every live capability in the system with the process holding it (`None`: in transit).
    pub fn all_capabilities(&self) -> Vec<(Option<u32>, Capability, NodeKey)> {
        self.tree
            .iter()
            .map(|(node, capability, location)| match location {
                Location::Slot { process, .. } => (Some(process), capability, node),
                Location::InTransit => (None, capability, node),
            })
            .collect()
    }

    /// True when the capability in `node` was derived (directly or not) from `ancestor`.
    pub fn is_derived_from(&self, node: NodeKey, ancestor: NodeKey) -> bool {
        self.tree.is_derived_from(node, ancestor)
    }

    /// The derivation node behind a process's slot.
    pub fn node_of(&self, id: ProcessId, slot: Slot) -> Option<NodeKey> {
        self.process_by_id(id)?.caps.get(slot)
    }
}

/// The next deadline of a periodic timer: one period after the last, so the
/// interrupt's own cost does not make it drift; ticks that passed while the
/// kernel was busy coalesce into one, as a device's pending interrupt would.
fn next_tick(deadline: u64, period: u64, now: u64) -> u64 {
    let next = deadline.saturating_add(period);
    if next > now {
        return next;
    }
    let missed = (now - next) / period + 1;
    next.saturating_add(missed.saturating_mul(period))
}

fn panic_message(payload: &(dyn std::any::Any + Send)) -> String {
    if let Some(text) = payload.downcast_ref::<&str>() {
        (*text).to_owned()
    } else if let Some(text) = payload.downcast_ref::<String>() {
        text.clone()
    } else {
        "panic with a non-text payload".to_owned()
    }
}
