//! Shared helpers for mksim's workspace-level tests (see `tests/tests/`).
//!
//! ## Random workloads
//! A [`Workload`] is a whole system drawn at random: 2 to 6 processes with
//! priorities, an initial set of objects, capabilities granted to some
//! processes (some derived from others, with badges), optional fault
//! injections, and for every process a list of random [`Op`]s. Slot numbers
//! are drawn at random too, so many operations hit empty slots or objects of
//! the wrong kind: the kernel must answer those with errors, never panic.
//!
//! [`workload_strategy`] generates workloads (they shrink: every part is a
//! plain value, and references between parts are [`Index`]es that shrink
//! towards the first element). [`build`] turns one into a ready [`Kernel`]
//! whose processes run [scripted programs](Op) that carry out their list
//! and record every result in a [`Journal`] instead of faulting on errors.
//! [`run`] runs it to its end, injecting the planned faults.
//!
//! Programs are random, not blind: most operands are [`SlotRef::Fitting`],
//! a slot the program believes holds a capability of the kind and rights the
//! operation needs (from what it was given, created, copied or received), so
//! messages do flow; the rest name any slot, a fixed number, or nothing.
//!
//! ## Revocation workloads
//! A [`RevokeWorkload`] is a smaller, focused system for checking revoke:
//! one root capability, chains of derived capabilities made at setup and at
//! run time (copy, mint, transfer in messages), and a revoke of the root.
//! See [`build_revoke`].
//!
//! Every run is bounded by [`STEP_LIMIT`].

#![forbid(unsafe_code)]
#![deny(missing_docs)]

pub mod fuzz;
pub mod scenarios;

use mksim_kernel::message::{CapTransfer, TransferMode};
use mksim_kernel::syscall::{ServiceWork, SyscallValue};
use mksim_kernel::{
    Badge, Blocking, CostProfile, DeadlockPolicy, FullPolicy, Incoming, Kernel, KernelConfig, Limits, Message,
    MessageData, ObjectId, ObjectKind, Outcome, Priority, ProcessId, ProcessSpec, ProgramResult, Rights, Slot, Sys,
    SysError, Syscall, SyscallKind,
};
use proptest::prelude::*;
use proptest::sample::Index;
use std::cell::RefCell;
use std::rc::Rc;

/// Steps after which every generated run is stopped, so every run ends.
pub const STEP_LIMIT: u64 = 20_000;

// ----- the workload -----

/// A random system: processes, initial objects and capabilities, planned faults.
#[derive(Clone, Debug)]
pub struct Workload {
    /// Kernel settings.
    pub settings: Settings,
    /// The processes, in process-id order.
    pub processes: Vec<ProcessPlan>,
    /// Objects created at setup.
    pub objects: Vec<ObjectPlan>,
    /// Capabilities given at setup, in order (so each process's slots fill lowest first).
    pub grants: Vec<GrantPlan>,
    /// Faults injected from outside during the run.
    pub faults: Vec<FaultPlan>,
}

/// The kernel settings a workload varies.
#[derive(Clone, Debug)]
pub struct Settings {
    /// Servers inherit the priority of their most important client.
    pub priority_inheritance: bool,
    /// Refuse a send that would close a wait-for cycle instead of reporting a deadlock at the end.
    pub refuse_deadlocks: bool,
    /// Cycles a process may compute before others of its priority get a turn.
    pub timeslice_cycles: u64,
    /// Capability slots per process (small values exercise quota errors).
    pub capability_slots_max: usize,
    /// Objects one process may own.
    pub objects_per_process_max: usize,
}

impl Settings {
    /// The kernel configuration for these settings and `seed`, bounded by [`STEP_LIMIT`].
    pub fn config(&self, seed: u64) -> KernelConfig {
        KernelConfig {
            profile: CostProfile::sel4(),
            seed,
            step_limit: STEP_LIMIT,
            memory_limit_bytes: mksim_kernel::MEMORY_LIMIT_BYTES_DEFAULT,
            priority_inheritance: self.priority_inheritance,
            deadlock_policy: if self.refuse_deadlocks { DeadlockPolicy::Refuse } else { DeadlockPolicy::Report },
            timeslice_cycles: self.timeslice_cycles,
            limits: Limits {
                capability_slots_max: self.capability_slots_max,
                objects_per_process_max: self.objects_per_process_max,
                ..Limits::default()
            },
        }
    }
}

/// One process of a workload.
#[derive(Clone, Debug)]
pub struct ProcessPlan {
    /// Priority level (0 is least important).
    pub priority: u8,
    /// Servers may still be waiting when the run ends cleanly.
    pub server: bool,
    /// A port of its own, created first at setup, with an original capability with every right.
    pub port: Option<PortPlan>,
    /// What its program does, in order, this many times over; then it returns with code 0.
    pub rounds: u8,
    /// The operations of one round.
    pub ops: Vec<Op>,
}

/// A port a process owns from the start.
#[derive(Clone, Debug)]
pub enum PortPlan {
    /// A synchronous endpoint.
    Endpoint,
    /// A bounded queue port.
    Queue {
        /// Messages it holds.
        capacity: u32,
        /// What a send to a full queue does.
        policy: FullPolicy,
    },
}

/// An object created at setup. Indexes name processes of the workload. Its
/// owner (for a process handle, its holder) gets an original capability to it
/// with every right before any [`GrantPlan`] is carried out.
#[derive(Clone, Debug)]
pub enum ObjectPlan {
    /// A synchronous endpoint.
    Endpoint {
        /// The process it dies with.
        owner: Index,
    },
    /// A bounded queue port.
    Queue {
        /// The process it dies with.
        owner: Index,
        /// Messages it holds.
        capacity: u32,
        /// What a send to a full queue does.
        policy: FullPolicy,
    },
    /// A notification.
    Notification {
        /// The process it dies with.
        owner: Index,
    },
    /// A memory region.
    Region {
        /// The process it dies with.
        owner: Index,
        /// Its size in bytes.
        size: u32,
    },
    /// A handle on a process, for watching it die.
    ProcessHandle {
        /// The process watched.
        target: Index,
        /// The process holding the handle.
        holder: Index,
    },
}

/// A capability given at setup.
#[derive(Clone, Debug)]
pub struct GrantPlan {
    /// The process receiving it.
    pub holder: Index,
    /// An original capability, or one derived from an earlier grant.
    pub source: GrantSource,
    /// Rights asked for (a derived grant gets at most its source's).
    pub rights: Rights,
    /// Badge (for a derived grant, zero keeps the source's badge).
    pub badge: Badge,
}

/// Where a setup capability comes from.
#[derive(Clone, Debug)]
pub enum GrantSource {
    /// An original capability to one of the setup objects.
    Object(Index),
    /// Derived (via `grant_derived`) from one of the grants made before this one.
    Derived(Index),
}

/// A fault injected from outside.
#[derive(Clone, Debug)]
pub struct FaultPlan {
    /// Injected once the kernel has taken this many steps.
    pub at_step: u64,
    /// The process faulted (ignored if it has already ended).
    pub process: Index,
}

/// How an operation names a capability slot.
#[derive(Clone, Copy, Debug)]
pub enum SlotRef {
    /// One of the slots the program believes it holds (as [`SlotRef::Known`]) whose
    /// object, as far as it knows, is of the kind the operation needs.
    Fitting(Index),
    /// One of the slots the program believes it holds: given at setup, returned
    /// by a create, copy or mint, or arrived in a message, less those it deleted,
    /// used up or moved away (capabilities revoked by others stay believed in).
    Known(Index),
    /// A slot number, whatever it holds (often nothing, or the wrong kind).
    Fixed(u32),
    /// The reply capability of the last call this program received.
    LastReply,
    /// The first capability carried by the last message this program received.
    LastReceived,
    /// The slot the last create, copy or mint of this program returned.
    LastCreated,
}

/// A capability to carry in a message.
#[derive(Clone, Debug)]
pub struct TransferPlan {
    /// The sender's slot.
    pub slot: SlotRef,
    /// Copy or move.
    pub mode: TransferMode,
    /// Rights the receiver may keep.
    pub rights: Rights,
}

/// A message to send.
#[derive(Clone, Debug)]
pub struct MessagePlan {
    /// Operation label.
    pub label: u32,
    /// Data bytes (the bytes themselves follow from the label and the last random number).
    pub len: u16,
    /// Capabilities to carry.
    pub caps: Vec<TransferPlan>,
}

/// One operation of a scripted program. Each is one syscall, except
/// [`Op::Serve`], which is several, and [`Op::Exit`], which ends the program.
///
/// A server ([`ProcessPlan::server`]), once through its operations, serves
/// the first port it can receive on forever, answering every call.
#[derive(Clone, Debug)]
pub enum Op {
    /// Send (blocking, with a timeout, or try-send).
    Send {
        /// The port.
        port: SlotRef,
        /// The message.
        message: MessagePlan,
        /// How long it may wait.
        blocking: Blocking,
    },
    /// Call and wait for the reply.
    Call {
        /// The endpoint.
        port: SlotRef,
        /// The request.
        message: MessagePlan,
        /// How long it may wait (for the whole call).
        blocking: Blocking,
    },
    /// Receive (blocking, with a timeout, or try-receive), open or closed to one badge.
    Receive {
        /// The port.
        port: SlotRef,
        /// The badge accepted, if closed.
        from: Option<Badge>,
        /// How long it may wait.
        blocking: Blocking,
    },
    /// Reply through a reply capability.
    Reply {
        /// The reply capability.
        reply: SlotRef,
        /// The answer.
        message: MessagePlan,
    },
    /// Reply, then receive.
    ReplyReceive {
        /// The reply capability.
        reply: SlotRef,
        /// The answer.
        message: MessagePlan,
        /// The port to receive from next.
        port: SlotRef,
        /// The badge accepted, if closed.
        from: Option<Badge>,
        /// How long the receive may wait.
        blocking: Blocking,
    },
    /// Signal a notification.
    Signal {
        /// The notification.
        notification: SlotRef,
        /// Bits to OR in.
        bits: u64,
    },
    /// Wait for notification bits (or poll, when it may not block).
    Wait {
        /// The notification.
        notification: SlotRef,
        /// How long it may wait.
        blocking: Blocking,
    },
    /// Bind a notification to this process.
    Bind {
        /// The notification.
        notification: SlotRef,
    },
    /// Ask for a signal when a process dies.
    Watch {
        /// The process handle.
        process: SlotRef,
        /// The notification to signal.
        notification: SlotRef,
        /// Bits to signal.
        bits: u64,
    },
    /// Arm a timer interrupt into a notification.
    ArmTimer {
        /// The notification.
        notification: SlotRef,
        /// Bits to signal.
        bits: u64,
        /// Cycles until it fires.
        delay: u64,
        /// Cycles between later firings, if periodic.
        period: Option<u64>,
    },
    /// Create an endpoint.
    CreateEndpoint,
    /// Create a queue port.
    CreateQueue {
        /// Messages it holds (zero is refused).
        capacity: u32,
        /// What a send to a full queue does.
        policy: FullPolicy,
    },
    /// Create a notification.
    CreateNotification,
    /// Create a memory region.
    CreateRegion {
        /// Its size in bytes (too large ones are refused).
        size: u32,
    },
    /// Copy a capability with at most `rights`.
    Copy {
        /// The slot copied.
        slot: SlotRef,
        /// Rights kept.
        rights: Rights,
    },
    /// Mint a capability with a badge.
    Mint {
        /// The slot minted from.
        slot: SlotRef,
        /// Rights kept.
        rights: Rights,
        /// The badge.
        badge: Badge,
    },
    /// Delete a capability.
    Delete {
        /// The slot.
        slot: SlotRef,
    },
    /// Revoke every capability derived from one.
    Revoke {
        /// The slot.
        slot: SlotRef,
    },
    /// Read from a region.
    RegionRead {
        /// The region.
        region: SlotRef,
        /// Where to start.
        offset: u32,
        /// How many bytes.
        len: u32,
    },
    /// Write into a region.
    RegionWrite {
        /// The region.
        region: SlotRef,
        /// Where to start.
        offset: u32,
        /// How many bytes.
        len: u32,
    },
    /// Sleep.
    Sleep {
        /// Cycles.
        cycles: u64,
    },
    /// Compute (may be preempted).
    Compute {
        /// Cycles.
        cycles: u64,
    },
    /// Yield to others of the same priority.
    Yield,
    /// Read the virtual clock.
    Clock,
    /// Draw from the run's seeded random stream (later message data depends on it).
    Random,
    /// Account for a service run inside the kernel (monolithic mode).
    KernelService {
        /// Operation label.
        label: u32,
        /// Request bytes recorded.
        len: u16,
        /// What the service cost.
        work: ServiceWork,
    },
    /// Receive on a port a few times, answering every call (with reply-and-receive).
    Serve {
        /// The port.
        port: SlotRef,
        /// Messages to take.
        count: u8,
        /// How long each receive may wait.
        blocking: Blocking,
        /// The answer to every call.
        answer: MessagePlan,
    },
    /// End the program now with this code.
    Exit {
        /// Exit code.
        code: i32,
    },
}

// ----- strategies -----

/// What kinds of workloads [`workload_strategy`] draws.
#[derive(Clone, Copy, Debug)]
pub struct Options {
    /// Allow receives closed to one badge (these legitimately take messages out of order).
    pub closed_receives: bool,
    /// Allow faults injected from outside.
    pub faults: bool,
    /// Most operations per process.
    pub max_ops: usize,
}

impl Default for Options {
    fn default() -> Self {
        Options { closed_receives: true, faults: true, max_ops: 32 }
    }
}

fn slot_ref() -> BoxedStrategy<SlotRef> {
    prop_oneof![
        12 => any::<Index>().prop_map(SlotRef::Fitting),
        4 => any::<Index>().prop_map(SlotRef::Known),
        3 => (0u32..8).prop_map(SlotRef::Fixed),
        2 => Just(SlotRef::LastReply),
        1 => Just(SlotRef::LastReceived),
        1 => Just(SlotRef::LastCreated),
        1 => Just(SlotRef::Fixed(u32::MAX)),
    ]
    .boxed()
}

fn rights() -> BoxedStrategy<Rights> {
    prop_oneof![
        3 => Just(Rights::all()),
        2 => Just(Rights::SEND | Rights::GRANT),
        1 => Just(Rights::SEND),
        1 => Just(Rights::RECEIVE),
        1 => Just(Rights::READ | Rights::WRITE),
        3 => any::<u8>().prop_map(Rights::from_bits_truncate),
    ]
    .boxed()
}

fn badge() -> BoxedStrategy<Badge> {
    prop_oneof![2 => Just(Badge::NONE), 3 => (1u64..4).prop_map(Badge)].boxed()
}

fn blocking() -> BoxedStrategy<Blocking> {
    prop_oneof![
        2 => Just(Blocking::Forever),
        2 => Just(Blocking::Never),
        4 => (0u64..20_000).prop_map(Blocking::Timeout),
    ]
    .boxed()
}

fn full_policy() -> BoxedStrategy<FullPolicy> {
    prop_oneof![Just(FullPolicy::Block), Just(FullPolicy::Fail)].boxed()
}

fn transfer() -> BoxedStrategy<TransferPlan> {
    let mode = prop_oneof![Just(TransferMode::Copy), Just(TransferMode::Move)];
    (slot_ref(), mode, rights()).prop_map(|(slot, mode, rights)| TransferPlan { slot, mode, rights }).boxed()
}

fn message() -> BoxedStrategy<MessagePlan> {
    let len = prop_oneof![20 => 0u16..24, 1 => Just(1100u16)];
    let caps = prop_oneof![
        6 => Just(Vec::new()),
        6 => prop::collection::vec(transfer(), 1..=2),
        1 => prop::collection::vec(transfer(), 3..=5),
    ];
    (0u32..4, len, caps).prop_map(|(label, len, caps)| MessagePlan { label, len, caps }).boxed()
}

fn from_badge(closed: bool) -> BoxedStrategy<Option<Badge>> {
    if closed { prop_oneof![3 => Just(None), 1 => badge().prop_map(Some)].boxed() } else { Just(None).boxed() }
}

fn ipc_op(closed: bool) -> BoxedStrategy<Op> {
    prop_oneof![
        4 => (slot_ref(), message(), blocking()).prop_map(|(port, message, blocking)| Op::Send { port, message, blocking }),
        3 => (slot_ref(), message(), blocking()).prop_map(|(port, message, blocking)| Op::Call { port, message, blocking }),
        5 => (slot_ref(), from_badge(closed), blocking())
            .prop_map(|(port, from, blocking)| Op::Receive { port, from, blocking }),
        2 => (slot_ref(), message()).prop_map(|(reply, message)| Op::Reply { reply, message }),
        2 => (slot_ref(), message(), slot_ref(), from_badge(closed), blocking()).prop_map(
            |(reply, message, port, from, blocking)| Op::ReplyReceive { reply, message, port, from, blocking }
        ),
        4 => (slot_ref(), 1u8..=4, blocking(), message())
            .prop_map(|(port, count, blocking, answer)| Op::Serve { port, count, blocking, answer }),
    ]
    .boxed()
}

fn notification_op() -> BoxedStrategy<Op> {
    prop_oneof![
        3 => (slot_ref(), 0u64..8).prop_map(|(notification, bits)| Op::Signal { notification, bits }),
        3 => (slot_ref(), blocking()).prop_map(|(notification, blocking)| Op::Wait { notification, blocking }),
        1 => slot_ref().prop_map(|notification| Op::Bind { notification }),
        1 => (slot_ref(), slot_ref(), 0u64..8)
            .prop_map(|(process, notification, bits)| Op::Watch { process, notification, bits }),
        // Periods shorter than the interrupt cost (1235 cycles under sel4) are an interrupt storm:
        // the kernel must still end every step (see the test
        // `periodic_timers_that_cost_more_than_their_period_still_let_the_run_end`).
        1 => (slot_ref(), 0u64..8, 0u64..5_000, prop::option::weighted(0.2, periodic())).prop_map(
            |(notification, bits, delay, period)| Op::ArmTimer { notification, bits, delay, period }
        ),
    ]
    .boxed()
}

fn periodic() -> BoxedStrategy<u64> {
    prop_oneof![1 => 500u64..3_000, 3 => 50_000u64..200_000].boxed()
}

fn authority_op() -> BoxedStrategy<Op> {
    prop_oneof![
        1 => Just(Op::CreateEndpoint),
        1 => (0u32..4, full_policy()).prop_map(|(capacity, policy)| Op::CreateQueue { capacity, policy }),
        1 => Just(Op::CreateNotification),
        1 => prop_oneof![8 => 0u32..64, 1 => Just(1u32 << 21)].prop_map(|size| Op::CreateRegion { size }),
        3 => (slot_ref(), rights()).prop_map(|(slot, rights)| Op::Copy { slot, rights }),
        3 => (slot_ref(), rights(), badge()).prop_map(|(slot, rights, badge)| Op::Mint { slot, rights, badge }),
        2 => slot_ref().prop_map(|slot| Op::Delete { slot }),
        2 => slot_ref().prop_map(|slot| Op::Revoke { slot }),
    ]
    .boxed()
}

fn misc_op() -> BoxedStrategy<Op> {
    let offset = prop_oneof![8 => 0u32..80, 1 => Just(u32::MAX)];
    prop_oneof![
        2 => (slot_ref(), offset.clone(), 0u32..40)
            .prop_map(|(region, offset, len)| Op::RegionRead { region, offset, len }),
        2 => (slot_ref(), offset, 0u32..40).prop_map(|(region, offset, len)| Op::RegionWrite { region, offset, len }),
        2 => (1u64..5_000).prop_map(|cycles| Op::Sleep { cycles }),
        2 => prop_oneof![0u64..1_000, 50_000u64..250_000].prop_map(|cycles| Op::Compute { cycles }),
        2 => Just(Op::Yield),
        1 => Just(Op::Clock),
        1 => Just(Op::Random),
        1 => (0i32..3).prop_map(|code| Op::Exit { code }),
        1 => (0u32..4, 0u16..16, 0u64..4, 0u64..64, prop_oneof![Just(0u64), 1u64..3_000], 0u64..2).prop_map(
            |(label, len, function_calls, bytes_copied, device_cycles, interrupts)| Op::KernelService {
                label,
                len,
                work: ServiceWork { function_calls, bytes_copied, device_cycles, interrupts, fault: None },
            }
        ),
    ]
    .boxed()
}

/// One random operation.
pub fn op_strategy(options: Options) -> BoxedStrategy<Op> {
    // Boxed throughout: unboxed, the nested value trees overflow the stack of a debug build.
    prop_oneof![
        8 => ipc_op(options.closed_receives),
        2 => notification_op(),
        3 => authority_op(),
        2 => misc_op(),
    ]
    .boxed()
}

fn process_plan(options: Options) -> impl Strategy<Value = ProcessPlan> {
    let port = prop_oneof![
        1 => Just(None),
        2 => Just(Some(PortPlan::Endpoint)),
        2 => (1u32..4, full_policy()).prop_map(|(capacity, policy)| Some(PortPlan::Queue { capacity, policy })),
    ];
    let ops = prop::collection::vec(op_strategy(options), 0..=options.max_ops);
    (1u8..5, prop::bool::weighted(0.4), port, 1u8..=4, ops)
        .prop_map(|(priority, server, port, rounds, ops)| ProcessPlan { priority, server, port, rounds, ops })
}

fn object_plan() -> impl Strategy<Value = ObjectPlan> {
    prop_oneof![
        4 => any::<Index>().prop_map(|owner| ObjectPlan::Endpoint { owner }),
        4 => (any::<Index>(), 1u32..4, full_policy())
            .prop_map(|(owner, capacity, policy)| ObjectPlan::Queue { owner, capacity, policy }),
        2 => any::<Index>().prop_map(|owner| ObjectPlan::Notification { owner }),
        2 => (any::<Index>(), 0u32..64).prop_map(|(owner, size)| ObjectPlan::Region { owner, size }),
        1 => (any::<Index>(), any::<Index>()).prop_map(|(target, holder)| ObjectPlan::ProcessHandle { target, holder }),
    ]
}

fn grant_plan() -> impl Strategy<Value = GrantPlan> {
    let source = prop_oneof![
        1 => any::<Index>().prop_map(GrantSource::Object),
        3 => any::<Index>().prop_map(GrantSource::Derived),
    ];
    (any::<Index>(), source, rights(), badge()).prop_map(|(holder, source, rights, badge)| GrantPlan {
        holder,
        source,
        rights,
        badge,
    })
}

fn settings() -> impl Strategy<Value = Settings> {
    (
        any::<bool>(),
        any::<bool>(),
        prop_oneof![Just(100_000u64), Just(5_000u64)],
        prop_oneof![3 => Just(256usize), 1 => 3usize..12],
        prop_oneof![3 => Just(64usize), 1 => 1usize..4],
    )
        .prop_map(
            |(
                priority_inheritance,
                refuse_deadlocks,
                timeslice_cycles,
                capability_slots_max,
                objects_per_process_max,
            )| {
                Settings {
                    priority_inheritance,
                    refuse_deadlocks,
                    timeslice_cycles,
                    capability_slots_max,
                    objects_per_process_max,
                }
            },
        )
}

/// Random workloads of the kind `options` describes.
pub fn workload_strategy(options: Options) -> impl Strategy<Value = Workload> {
    let faults = if options.faults {
        let fault = (0u64..150, any::<Index>()).prop_map(|(at_step, process)| FaultPlan { at_step, process });
        prop_oneof![3 => Just(Vec::new()), 1 => prop::collection::vec(fault, 1..=2)].boxed()
    } else {
        Just(Vec::new()).boxed()
    };
    (
        settings(),
        prop::collection::vec(process_plan(options), 2..=6),
        prop::collection::vec(object_plan(), 1..=5),
        prop::collection::vec(grant_plan(), 4..=16),
        faults,
    )
        .prop_map(|(settings, processes, objects, grants, faults)| Workload {
            settings,
            processes,
            objects,
            grants,
            faults,
        })
}

/// Random workloads with every kind of operation ([`Options::default`]).
pub fn any_workload() -> impl Strategy<Value = Workload> {
    workload_strategy(Options::default())
}

// ----- building and running -----

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
                work: *work,
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

fn priority(level: u8) -> Priority {
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

// ----- revocation workloads -----

/// A focused system for checking revoke: every process has a mailbox queue
/// (slot `i` of every process reaches process `i`'s mailbox), process 0 holds
/// the root capability (slot `processes.len()`) and revokes it at some point;
/// capabilities derived from it are spread at setup and at run time.
#[derive(Clone, Debug)]
pub struct RevokeWorkload {
    /// The processes; process 0 holds the root.
    pub processes: Vec<RevokeProcess>,
    /// The kind of object the root reaches.
    pub root_kind: RootKind,
    /// The rights of the root capability.
    pub root_rights: Rights,
    /// A second, independent original capability to the same object, given to this process.
    pub independent: Option<Index>,
    /// Capabilities derived at setup with `grant_derived`, each from an earlier one (the root first).
    pub derived: Vec<DerivedPlan>,
    /// Where in process 0's operations the revoke of the root goes.
    pub revoke_at: Index,
}

/// The kind of the object behind a revocation workload's root.
#[derive(Clone, Copy, Debug)]
pub enum RootKind {
    /// An endpoint.
    Endpoint,
    /// A queue port.
    Queue,
    /// A notification.
    Notification,
    /// A memory region.
    Region,
}

/// A capability derived at setup.
#[derive(Clone, Debug)]
pub struct DerivedPlan {
    /// Who receives it.
    pub holder: Index,
    /// Which earlier capability it is derived from (the root, the independent one, earlier derived ones).
    pub from: Index,
    /// Rights asked for.
    pub rights: Rights,
    /// Badge (zero keeps the source's).
    pub badge: Badge,
}

/// One process of a revocation workload.
#[derive(Clone, Debug)]
pub struct RevokeProcess {
    /// Priority level.
    pub priority: u8,
    /// What it does.
    pub ops: Vec<RevokeOp>,
}

/// An operation in a revocation workload. Slot numbers count from the first
/// slot after the mailboxes (so slot 0 of process 0 is the root).
#[derive(Clone, Debug)]
pub enum RevokeOp {
    /// Copy a capability.
    Copy {
        /// The slot.
        slot: u32,
        /// Rights kept.
        rights: Rights,
    },
    /// Mint a capability with a badge.
    Mint {
        /// The slot.
        slot: u32,
        /// Rights kept.
        rights: Rights,
        /// The badge.
        badge: Badge,
    },
    /// Send a capability to another process's mailbox (never blocks).
    Pass {
        /// The receiving process.
        to: Index,
        /// The slot sent.
        slot: u32,
        /// Copy or move.
        mode: TransferMode,
        /// Rights the receiver may keep.
        rights: Rights,
    },
    /// Take one message from the own mailbox, if there is one.
    Take,
    /// Delete a capability.
    Delete {
        /// The slot.
        slot: u32,
    },
    /// Revoke what was derived from a capability.
    Revoke {
        /// The slot.
        slot: u32,
    },
    /// Yield.
    Yield,
    /// Compute a little, to shuffle the interleaving.
    Compute {
        /// Cycles.
        cycles: u64,
    },
}

fn revoke_op() -> impl Strategy<Value = RevokeOp> {
    let slot = 0u32..8;
    let mode = prop_oneof![Just(TransferMode::Copy), Just(TransferMode::Move)];
    prop_oneof![
        3 => (slot.clone(), rights()).prop_map(|(slot, rights)| RevokeOp::Copy { slot, rights }),
        2 => (slot.clone(), rights(), badge()).prop_map(|(slot, rights, badge)| RevokeOp::Mint { slot, rights, badge }),
        4 => (any::<Index>(), slot.clone(), mode, rights())
            .prop_map(|(to, slot, mode, rights)| RevokeOp::Pass { to, slot, mode, rights }),
        4 => Just(RevokeOp::Take),
        1 => slot.clone().prop_map(|slot| RevokeOp::Delete { slot }),
        1 => slot.prop_map(|slot| RevokeOp::Revoke { slot }),
        1 => Just(RevokeOp::Yield),
        1 => (1u64..3_000).prop_map(|cycles| RevokeOp::Compute { cycles }),
    ]
}

/// Random revocation workloads.
pub fn revoke_strategy() -> impl Strategy<Value = RevokeWorkload> {
    let process =
        (1u8..4, prop::collection::vec(revoke_op(), 0..20)).prop_map(|(priority, ops)| RevokeProcess { priority, ops });
    let root_kind = prop_oneof![
        Just(RootKind::Endpoint),
        Just(RootKind::Queue),
        Just(RootKind::Notification),
        Just(RootKind::Region),
    ];
    let derived = (any::<Index>(), any::<Index>(), rights(), badge())
        .prop_map(|(holder, from, rights, badge)| DerivedPlan { holder, from, rights, badge });
    (
        prop::collection::vec(process, 2..=5),
        root_kind,
        rights(),
        prop::option::weighted(0.3, any::<Index>()),
        prop::collection::vec(derived, 0..12),
        any::<Index>(),
    )
        .prop_map(|(processes, root_kind, root_rights, independent, derived, revoke_at)| RevokeWorkload {
            processes,
            root_kind,
            root_rights,
            independent,
            derived,
            revoke_at,
        })
}

/// The revokes of the root process 0 made.
#[derive(Debug, Default)]
pub struct RootRevokes {
    /// Revokes of the root handed to the kernel. The count goes up in the very
    /// step that carries the revoke out, so a test stepping the kernel can tell.
    pub started: usize,
    /// What each returned (the number of capabilities removed), once process 0 saw it.
    pub results: Vec<Result<u64, SysError>>,
}

/// A built revocation workload.
pub struct RevokeRun {
    /// The kernel, ready to run.
    pub kernel: Kernel,
    /// Process 0, which holds the root.
    pub root_holder: ProcessId,
    /// The root's slot.
    pub root_slot: Slot,
    /// The object every capability of interest reaches.
    pub object: ObjectId,
    /// The independent original capability, if the workload has one.
    pub independent: Option<(ProcessId, Slot)>,
    /// What every revoke of the root returned (the number of capabilities removed), in order.
    pub root_revokes: Rc<RefCell<RootRevokes>>,
}

async fn revoke_program(
    sys: Sys,
    base: u32,
    is_root_holder: bool,
    ops: Vec<RevokeOp>,
    mailboxes: usize,
    root_revokes: Rc<RefCell<RootRevokes>>,
) -> ProgramResult {
    let own_mailbox = Slot(sys.process().index);
    let root = Slot(base);
    for op in ops {
        let slot = |number: u32| Slot(base + number);
        // Process 0 never gives its root away, so the root lives until it exits.
        let keeps_root = |number: u32| is_root_holder && slot(number) == root;
        // Errors are expected (empty slots, full mailboxes) and ignored.
        match op {
            RevokeOp::Copy { slot: number, rights } => {
                let _ = sys.copy(slot(number), rights).await;
            }
            RevokeOp::Mint { slot: number, rights, badge } => {
                let _ = sys.mint(slot(number), rights, badge).await;
            }
            RevokeOp::Pass { to, slot: number, mode, rights } => {
                let mode = if keeps_root(number) { TransferMode::Copy } else { mode };
                let to = Slot(to.index(mailboxes) as u32);
                let message = Message {
                    label: 0,
                    data: MessageData::new(),
                    caps: vec![CapTransfer { slot: slot(number), mode, rights }],
                };
                let _ = sys.try_send(to, message).await;
            }
            RevokeOp::Take => {
                let _ = sys.try_receive(own_mailbox).await;
            }
            RevokeOp::Delete { slot: number } if keeps_root(number) => {}
            RevokeOp::Delete { slot: number } => {
                let _ = sys.delete(slot(number)).await;
            }
            RevokeOp::Revoke { slot: number } => {
                if keeps_root(number) {
                    root_revokes.borrow_mut().started += 1;
                    let revoked = sys.revoke(slot(number)).await;
                    root_revokes.borrow_mut().results.push(revoked);
                } else {
                    let _ = sys.revoke(slot(number)).await;
                }
            }
            RevokeOp::Yield => {
                let _ = sys.yield_now().await;
            }
            RevokeOp::Compute { cycles } => {
                let _ = sys.compute(cycles).await;
            }
        }
    }
    Ok(0)
}

/// Builds a revocation workload with `seed`.
pub fn build_revoke(workload: &RevokeWorkload, seed: u64) -> RevokeRun {
    let settings = Settings {
        priority_inheritance: false,
        refuse_deadlocks: false,
        timeslice_cycles: 2_000,
        capability_slots_max: 256,
        objects_per_process_max: 64,
    };
    let mut kernel = Kernel::new(settings.config(seed));
    let count = workload.processes.len();
    let ids: Vec<ProcessId> = workload
        .processes
        .iter()
        .enumerate()
        .map(|(index, plan)| kernel.create_process(ProcessSpec::program(&format!("p{index}"), priority(plan.priority))))
        .collect();
    let mailboxes: Vec<ObjectId> = ids.iter().map(|&id| kernel.create_queue(id, 4, FullPolicy::Fail)).collect();
    for (holder_index, &holder) in ids.iter().enumerate() {
        for (owner_index, &mailbox) in mailboxes.iter().enumerate() {
            let rights = if holder_index == owner_index { Rights::all() } else { Rights::SEND | Rights::GRANT };
            let slot = kernel.grant(holder, mailbox, rights, Badge::NONE).expect("a new process has free slots");
            assert_eq!(slot, Slot(owner_index as u32), "mailbox slots are laid out in process order");
        }
    }
    let root_holder = ids[0];
    let object = match workload.root_kind {
        RootKind::Endpoint => kernel.create_endpoint(root_holder),
        RootKind::Queue => kernel.create_queue(root_holder, 2, FullPolicy::Fail),
        RootKind::Notification => kernel.create_notification(root_holder),
        RootKind::Region => kernel.create_region(root_holder, 16),
    };
    let base = count as u32;
    let root_slot =
        kernel.grant(root_holder, object, workload.root_rights, Badge::NONE).expect("a new process has free slots");
    assert_eq!(root_slot, Slot(base));
    let mut holdings = vec![(root_holder, root_slot)];
    let independent = workload.independent.as_ref().map(|holder| {
        let holder = ids[holder.index(count)];
        let slot = kernel.grant(holder, object, Rights::all(), Badge::NONE).expect("a new process has free slots");
        holdings.push((holder, slot));
        (holder, slot)
    });
    for plan in &workload.derived {
        let holder = ids[plan.holder.index(count)];
        let (source, slot) = holdings[plan.from.index(holdings.len())];
        // A badged capability refuses a different badge; the workload goes on without it.
        if let Ok(slot) = kernel.grant_derived(holder, source, slot, plan.rights, plan.badge) {
            holdings.push((holder, slot));
        }
    }
    let root_revokes: Rc<RefCell<RootRevokes>> = Rc::default();
    for (index, plan) in workload.processes.iter().enumerate() {
        let mut ops = plan.ops.clone();
        if index == 0 {
            let at = workload.revoke_at.index(ops.len() + 1);
            ops.insert(at, RevokeOp::Revoke { slot: 0 });
        }
        let root_revokes = Rc::clone(&root_revokes);
        kernel.start(ids[index], move |sys| revoke_program(sys, base, index == 0, ops, count, root_revokes));
    }
    RevokeRun { kernel, root_holder, root_slot, object, independent, root_revokes }
}
