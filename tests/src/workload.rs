//! The random workload: a whole system as plain values ([`Workload`], its
//! processes, objects, grants and faults) and the operations a program may be
//! given ([`Op`]). It draws nothing and runs nothing: drawing is
//! `strategies.rs`'s, running is `interpreter.rs`'s.

use crate::STEP_LIMIT;
use mksim_kernel::message::TransferMode;
use mksim_kernel::syscall::ServiceWork;
use mksim_kernel::{Badge, Blocking, CostProfile, DeadlockPolicy, FullPolicy, KernelConfig, Limits, Rights};
use proptest::sample::Index;

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
