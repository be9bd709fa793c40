//! Building a [`Workload`] into a ready [`Kernel`] and running it: each process
//! runs a scripted program that carries out its list of [`Op`]s, tracks what
//! its slots hold, and records every syscall and answer in a [`Journal`]
//! instead of faulting on errors.

use crate::workload::{GrantSource, MessagePlan, ObjectPlan, Op, PortPlan, ProcessPlan, SlotRef, Workload};
use mksim_kernel::message::{CapTransfer, TransferMode};
use mksim_kernel::syscall::SyscallValue;
use mksim_kernel::{
    Badge, Blocking, Incoming, Kernel, Message, MessageData, ObjectId, ObjectKind, Outcome, Priority, ProcessId,
    ProcessSpec, ProgramResult, Rights, Slot, Sys, SysError, Syscall, SyscallKind,
};
use proptest::sample::Index;
use std::cell::RefCell;
use std::rc::Rc;

/// One syscall a scripted program made, and what the kernel answered.
#[derive(Clone, PartialEq, Debug)]
pub struct JournalEntry {
    /// The process (its index in the workload).
    pub process: usize,
    /// The position of the operation in its list (the list's length for a server's endless serving).
    pub op: usize,
    /// The syscall made.
    pub call: SyscallKind,
    /// The request as the program made it, with slots resolved.
    pub request: Syscall,
    /// The kernel's answer.
    pub result: Result<SyscallValue, SysError>,
}

/// Every syscall result of a run, in the order the programs saw them.
pub type Journal = Rc<RefCell<Vec<JournalEntry>>>;

/// True when `value` is the kind of answer `call` should get (a unit for a send, a slot for a create, …).
pub fn value_fits(call: SyscallKind, value: &SyscallValue) -> bool {
    use SyscallKind as K;
    match value {
        SyscallValue::Unit => matches!(
            call,
            K::Send
                | K::TrySend
                | K::Reply
                | K::Signal
                | K::Delete
                | K::RegionWrite
                | K::BindNotification
                | K::Watch
                | K::ArmTimer
                | K::Sleep
                | K::Compute
                | K::Yield
                | K::KernelService
        ),
        SyscallValue::Slot(_) => matches!(
            call,
            K::CreateEndpoint
                | K::CreateQueue
                | K::CreateNotification
                | K::CreateRegion
                | K::Copy
                | K::Mint
                | K::KernelService
        ),
        SyscallValue::Incoming(_) => matches!(call, K::Receive | K::TryReceive | K::ReplyReceive),
        SyscallValue::Reply(_) => call == K::Call,
        SyscallValue::Number(_) => matches!(call, K::Wait | K::Poll | K::Clock | K::Random),
        SyscallValue::Revoked { .. } => call == K::Revoke,
        SyscallValue::Bytes(_) => call == K::RegionRead,
    }
}

/// What an operand of an operation should be, so [`SlotRef::Fitting`] can pick one.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Want {
    Port,
    Endpoint,
    Reply,
    Notification,
    Region,
    Process,
    Any,
}

impl Want {
    /// The rights an operation needs on this operand (sending on a port, for instance).
    fn rights(self, receiving: bool) -> Rights {
        match self {
            Want::Port | Want::Endpoint | Want::Notification if receiving => Rights::RECEIVE,
            Want::Port | Want::Endpoint | Want::Notification | Want::Reply => Rights::SEND,
            Want::Region | Want::Process | Want::Any => Rights::empty(),
        }
    }

    fn fits(self, kind: ObjectKind) -> bool {
        match self {
            Want::Port => matches!(kind, ObjectKind::Endpoint | ObjectKind::Queue),
            Want::Endpoint => kind == ObjectKind::Endpoint,
            Want::Reply => kind == ObjectKind::Reply,
            Want::Notification => kind == ObjectKind::Notification,
            Want::Region => kind == ObjectKind::Region,
            Want::Process => kind == ObjectKind::Process,
            Want::Any => true,
        }
    }
}

/// What a scripted program remembers between operations.
#[derive(Debug, Default)]
struct Cursor {
    /// Slots it believes it holds, with the kind of object and the rights when it knows them.
    known: Vec<Known>,
    last_reply: Option<Slot>,
    last_received: Option<Slot>,
    last_created: Option<Slot>,
    last_random: u64,
}

/// A slot no table ever reaches, for references to nothing.
const NO_SLOT: Slot = Slot(u32::MAX);

/// A slot a program believes it holds, and what it knows of the capability there.
#[derive(Clone, Copy, Debug)]
struct Known {
    slot: Slot,
    kind: Option<ObjectKind>,
    rights: Option<Rights>,
}

impl Cursor {
    fn slot(&self, slot: SlotRef, want: Want) -> Slot {
        self.operand(slot, want, false)
    }

    /// Known slots that fit `want`, as far as the program knows.
    fn fitting(&self, want: Want, receiving: bool) -> Vec<Slot> {
        let needs = want.rights(receiving);
        self.known
            .iter()
            .filter(|known| known.kind.is_none_or(|kind| want.fits(kind)))
            .filter(|known| known.rights.is_none_or(|rights| rights.contains(needs)))
            .map(|known| known.slot)
            .collect()
    }

    fn receiving(&self, slot: SlotRef, want: Want) -> Slot {
        self.operand(slot, want, true)
    }

    fn operand(&self, slot: SlotRef, want: Want, receiving: bool) -> Slot {
        let pick = |candidates: Vec<Slot>, index: Index| {
            if candidates.is_empty() { NO_SLOT } else { candidates[index.index(candidates.len())] }
        };
        match slot {
            SlotRef::Fitting(index) => pick(self.fitting(want, receiving), index),
            SlotRef::Known(index) => pick(self.known.iter().map(|known| known.slot).collect(), index),
            SlotRef::Fixed(number) => Slot(number),
            SlotRef::LastReply => self.last_reply.unwrap_or(NO_SLOT),
            SlotRef::LastReceived => self.last_received.unwrap_or(NO_SLOT),
            SlotRef::LastCreated => self.last_created.unwrap_or(NO_SLOT),
        }
    }

    fn known(&self, slot: Slot) -> Option<Known> {
        self.known.iter().find(|known| known.slot == slot).copied()
    }

    fn message(&self, plan: &MessagePlan) -> Message {
        let byte = (plan.label as u8) ^ (self.last_random as u8);
        let caps = plan
            .caps
            .iter()
            .map(|transfer| CapTransfer {
                slot: self.slot(transfer.slot, Want::Any),
                mode: transfer.mode,
                rights: transfer.rights,
            })
            .collect();
        Message { label: plan.label, data: MessageData::from_elem(byte, usize::from(plan.len)), caps }
    }

    fn request(&self, op: &Op) -> Option<Syscall> {
        let request = match op {
            Op::Send { port, message, blocking } => Syscall::Send {
                port: self.slot(*port, Want::Port),
                message: self.message(message),
                blocking: *blocking,
            },
            Op::Call { port, message, blocking } => Syscall::Call {
                port: self.slot(*port, Want::Endpoint),
                message: self.message(message),
                blocking: *blocking,
            },
            Op::Receive { port, from, blocking } => {
                Syscall::Receive { port: self.receiving(*port, Want::Port), from: *from, blocking: *blocking }
            }
            Op::Reply { reply, message } => {
                Syscall::Reply { reply: self.slot(*reply, Want::Reply), message: self.message(message) }
            }
            Op::ReplyReceive { reply, message, port, from, blocking } => Syscall::ReplyReceive {
                reply: self.slot(*reply, Want::Reply),
                message: self.message(message),
                port: self.receiving(*port, Want::Port),
                from: *from,
                blocking: *blocking,
            },
            Op::Signal { notification, bits } => {
                Syscall::Signal { notification: self.slot(*notification, Want::Notification), bits: *bits }
            }
            Op::Wait { notification, blocking } => {
                Syscall::Wait { notification: self.receiving(*notification, Want::Notification), blocking: *blocking }
            }
            Op::Bind { notification } => {
                Syscall::BindNotification { notification: self.receiving(*notification, Want::Notification) }
            }
            Op::Watch { process, notification, bits } => Syscall::Watch {
                process: self.slot(*process, Want::Process),
                notification: self.slot(*notification, Want::Notification),
                bits: *bits,
            },
            Op::ArmTimer { notification, bits, delay, period } => Syscall::ArmTimer {
                notification: self.slot(*notification, Want::Notification),
                bits: *bits,
                delay_cycles: *delay,
                period_cycles: *period,
            },
            Op::CreateEndpoint => Syscall::CreateEndpoint,
            Op::CreateQueue { capacity, policy } => Syscall::CreateQueue { capacity: *capacity, policy: *policy },
            Op::CreateNotification => Syscall::CreateNotification,
            Op::CreateRegion { size } => Syscall::CreateRegion { size: *size },
            Op::Copy { slot, rights } => Syscall::Copy { slot: self.slot(*slot, Want::Any), rights: *rights },
            Op::Mint { slot, rights, badge } => {
                Syscall::Mint { slot: self.slot(*slot, Want::Any), rights: *rights, badge: *badge }
            }
            Op::Delete { slot } => Syscall::Delete { slot: self.slot(*slot, Want::Any) },
            Op::Revoke { slot } => Syscall::Revoke { slot: self.slot(*slot, Want::Any) },
            Op::RegionRead { region, offset, len } => {
                Syscall::RegionRead { region: self.slot(*region, Want::Region), offset: *offset, len: *len }
            }
            Op::RegionWrite { region, offset, len } => Syscall::RegionWrite {
                region: self.slot(*region, Want::Region),
                offset: *offset,
                data: vec![self.last_random as u8; *len as usize],
            },
            Op::Sleep { cycles } => Syscall::Sleep { cycles: *cycles },
            Op::Compute { cycles } => Syscall::Compute { cycles: *cycles },
            Op::Yield => Syscall::Yield,
            Op::Clock => Syscall::Clock,
            Op::Random => Syscall::Random,
            Op::KernelService { label, len, work } => Syscall::KernelService {
                port: None,
                label: *label,
                request: MessageData::from_elem(*label as u8, usize::from(*len)),
                work: Box::new(*work),
                answer: None,
            },
            Op::Exit { .. } | Op::Serve { .. } => return None,
        };
        Some(request)
    }

    fn learn(&mut self, known: Known) {
        self.forget(known.slot);
        self.known.push(known);
    }

    fn forget(&mut self, slot: Slot) {
        self.known.retain(|known| known.slot != slot);
    }

    /// Updates what the program believes after `request` got `result`.
    fn absorb(&mut self, request: &Syscall, result: &Result<SyscallValue, SysError>) {
        let succeeded = result.is_ok();
        // What a successful send, call or reply moved away is gone. A reply-and-receive that
        // failed may have failed in its reply or in its receive: the program keeps believing
        // in its reply capability and what it moved either way.
        if succeeded {
            match request {
                Syscall::Send { message, .. }
                | Syscall::Call { message, .. }
                | Syscall::Reply { message, .. }
                | Syscall::ReplyReceive { message, .. } => {
                    for transfer in message.caps.iter().filter(|transfer| transfer.mode == TransferMode::Move) {
                        self.forget(transfer.slot);
                    }
                }
                _ => {}
            }
            match request {
                Syscall::Reply { reply, .. } | Syscall::ReplyReceive { reply, .. } => self.forget(*reply),
                Syscall::Delete { slot } => self.forget(*slot),
                _ => {}
            }
        }
        match result {
            Ok(SyscallValue::Slot(slot)) => {
                let created = |kind| Known { slot: *slot, kind: Some(kind), rights: Some(Rights::all()) };
                let known = match request {
                    Syscall::CreateEndpoint => created(ObjectKind::Endpoint),
                    Syscall::CreateQueue { .. } => created(ObjectKind::Queue),
                    Syscall::CreateNotification => created(ObjectKind::Notification),
                    Syscall::CreateRegion { .. } => created(ObjectKind::Region),
                    Syscall::Copy { slot: source, rights } | Syscall::Mint { slot: source, rights, .. } => {
                        let source = self.known(*source);
                        Known {
                            slot: *slot,
                            kind: source.and_then(|source| source.kind),
                            rights: source.and_then(|source| source.rights).map(|held| held & *rights),
                        }
                    }
                    _ => Known { slot: *slot, kind: None, rights: None },
                };
                self.last_created = Some(*slot);
                self.learn(known);
            }
            Ok(SyscallValue::Incoming(Incoming::Message(received)) | SyscallValue::Reply(received)) => {
                if let Some(reply) = received.reply {
                    self.last_reply = Some(reply);
                    self.learn(Known { slot: reply, kind: Some(ObjectKind::Reply), rights: Some(Rights::SEND) });
                }
                if let Some(&first) = received.caps.first() {
                    self.last_received = Some(first);
                }
                for &slot in &received.caps {
                    self.learn(Known { slot, kind: None, rights: None });
                }
            }
            Ok(SyscallValue::Number(number)) if request.kind() == SyscallKind::Random => self.last_random = *number,
            _ => {}
        }
    }
}

/// The program a workload process runs: its operations in order, each result journalled, errors ignored.
async fn scripted(sys: Sys, process: usize, plan: ProcessPlan, known: Vec<Known>, journal: Journal) -> ProgramResult {
    let ProcessPlan { rounds, ops, server, .. } = plan;
    let mut script = Script { sys, process, cursor: Cursor { known, ..Cursor::default() }, journal };
    for (index, op) in ops.iter().enumerate().cycle().take(ops.len() * usize::from(rounds)) {
        match op {
            Op::Exit { code } => return script.sys.exit(*code).await,
            Op::Serve { port, count, blocking, answer } => {
                let port = script.cursor.receiving(*port, Want::Port);
                script.serve(index, port, Some(*count), *blocking, answer).await;
            }
            op => {
                let request = script.cursor.request(op).expect("only exit and serve are not one syscall");
                let _ = script.make(index, request).await;
            }
        }
    }
    if server && let Some(&port) = script.cursor.fitting(Want::Port, true).first() {
        let answer = MessagePlan { label: 0, len: 4, caps: Vec::new() };
        script.serve(ops.len(), port, None, Blocking::Forever, &answer).await;
    }
    Ok(0)
}

/// A scripted program while it runs.
struct Script {
    sys: Sys,
    process: usize,
    cursor: Cursor,
    journal: Journal,
}

impl Script {
    /// Makes one syscall, learns from its result and journals it.
    async fn make(&mut self, op: usize, request: Syscall) -> Result<SyscallValue, SysError> {
        let call = request.kind();
        let result = self.sys.syscall(request.clone()).await;
        self.cursor.absorb(&request, &result);
        let entry = JournalEntry { process: self.process, op, call, request, result: result.clone() };
        self.journal.borrow_mut().push(entry);
        result
    }

    /// Receives on `port` `count` times (or until an error), answering every call, the
    /// next receive joined to the reply as a reply-and-receive.
    async fn serve(&mut self, op: usize, port: Slot, count: Option<u8>, blocking: Blocking, answer: &MessagePlan) {
        let mut pending: Option<Slot> = None;
        let mut served = 0;
        while count.is_none_or(|count| served < count) {
            served = served.saturating_add(1);
            let request = match pending.take() {
                Some(reply) => {
                    let message = self.cursor.message(answer);
                    Syscall::ReplyReceive { reply, message, port, from: None, blocking }
                }
                None => Syscall::Receive { port, from: None, blocking },
            };
            match self.make(op, request).await {
                Ok(SyscallValue::Incoming(Incoming::Message(received))) => pending = received.reply,
                Ok(_) => {}
                Err(_) => break,
            }
        }
        if let Some(reply) = pending {
            let message = self.cursor.message(answer);
            let _ = self.make(op, Syscall::Reply { reply, message }).await;
        }
    }
}

pub(crate) fn priority(level: u8) -> Priority {
    Priority::new(level).expect("generated priorities are in range")
}

/// Builds the system a workload describes, ready to run with `seed`.
pub fn build(workload: &Workload, seed: u64) -> Kernel {
    build_with_journal(workload, seed).0
}

/// Like [`build`], also returning the journal its programs write.
pub fn build_with_journal(workload: &Workload, seed: u64) -> (Kernel, Journal) {
    let mut kernel = Kernel::new(workload.settings.config(seed));
    let ids: Vec<ProcessId> = workload
        .processes
        .iter()
        .enumerate()
        .map(|(index, plan)| {
            let name = format!("p{index}");
            let spec = if plan.server {
                ProcessSpec::server(&name, priority(plan.priority))
            } else {
                ProcessSpec::program(&name, priority(plan.priority))
            };
            kernel.create_process(spec)
        })
        .collect();
    let pick = |index: &Index| ids[index.index(ids.len())];
    let mut granted: Vec<(ProcessId, Slot)> = Vec::new();
    for (&id, plan) in ids.iter().zip(&workload.processes) {
        let port = match plan.port {
            None => continue,
            Some(PortPlan::Endpoint) => kernel.create_endpoint(id),
            Some(PortPlan::Queue { capacity, policy }) => kernel.create_queue(id, capacity, policy),
        };
        if let Ok(slot) = kernel.grant(id, port, Rights::all(), Badge::NONE) {
            granted.push((id, slot));
        }
    }
    let mut objects: Vec<ObjectId> = Vec::new();
    for plan in &workload.objects {
        let (object, holder) = match plan {
            ObjectPlan::Endpoint { owner } => (kernel.create_endpoint(pick(owner)), pick(owner)),
            ObjectPlan::Queue { owner, capacity, policy } => {
                (kernel.create_queue(pick(owner), *capacity, *policy), pick(owner))
            }
            ObjectPlan::Notification { owner } => (kernel.create_notification(pick(owner)), pick(owner)),
            ObjectPlan::Region { owner, size } => (kernel.create_region(pick(owner), *size), pick(owner)),
            ObjectPlan::ProcessHandle { target, holder } => (kernel.create_process_handle(pick(target)), pick(holder)),
        };
        objects.push(object);
        // A full table refuses the grant; the workload goes on without it.
        if let Ok(slot) = kernel.grant(holder, object, Rights::all(), Badge::NONE) {
            granted.push((holder, slot));
        }
    }
    for grant in &workload.grants {
        let holder = pick(&grant.holder);
        let slot = match &grant.source {
            GrantSource::Object(object) => {
                kernel.grant(holder, objects[object.index(objects.len())], grant.rights, grant.badge)
            }
            GrantSource::Derived(_) if granted.is_empty() => continue,
            GrantSource::Derived(from) => {
                let (source, slot) = granted[from.index(granted.len())];
                kernel.grant_derived(holder, source, slot, grant.rights, grant.badge)
            }
        };
        // A full table refuses the grant; the workload goes on without it.
        if let Ok(slot) = slot {
            granted.push((holder, slot));
        }
    }
    let journal = Journal::default();
    for (index, plan) in workload.processes.iter().enumerate() {
        let plan = plan.clone();
        let known = granted
            .iter()
            .filter(|&&(holder, _)| holder == ids[index])
            .filter_map(|&(holder, slot)| {
                let (_, capability, kind) = kernel.capabilities(holder).into_iter().find(|&(held, ..)| held == slot)?;
                Some(Known { slot, kind, rights: Some(capability.rights) })
            })
            .collect();
        let journal = Rc::clone(&journal);
        kernel.start(ids[index], move |sys| scripted(sys, index, plan, known, journal));
    }
    (kernel, journal)
}

/// Runs a built workload to its end, injecting its planned faults, and returns how it ended.
pub fn run(kernel: &mut Kernel, workload: &Workload) -> Outcome {
    let mut faults: Vec<(u64, ProcessId)> = workload
        .faults
        .iter()
        .map(|fault| {
            let processes = kernel.processes();
            (fault.at_step, processes[fault.process.index(processes.len())].id())
        })
        .collect();
    faults.sort_by_key(|&(at_step, _)| at_step);
    let mut faults = faults.into_iter().peekable();
    loop {
        while let Some((_, process)) = faults.next_if(|&(at_step, _)| at_step <= kernel.steps()) {
            kernel.fault_process(process, "fault injected by the workload");
        }
        if !kernel.step() {
            break;
        }
    }
    kernel.outcome().expect("a run that stopped stepping has an outcome").clone()
}

/// A finished run of a workload.
pub struct Run {
    /// The kernel after the run.
    pub kernel: Kernel,
    /// Every syscall result the programs saw.
    pub journal: Journal,
    /// How the run ended.
    pub outcome: Outcome,
}

/// Builds and runs a workload with `seed`.
pub fn run_workload(workload: &Workload, seed: u64) -> Run {
    let (mut kernel, journal) = build_with_journal(workload, seed);
    let outcome = run(&mut kernel, workload);
    Run { kernel, journal, outcome }
}
