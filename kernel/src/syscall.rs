//! The syscall interface: requests a program hands to the kernel, and what it gets back.

use crate::capability::Rights;
pub use crate::fault::{ServiceFault, ServiceModule};
use crate::ids::{Badge, Slot};
use crate::message::{Incoming, Message, Received};
use crate::object::FullPolicy;
use serde::{Deserialize, Serialize};
use std::fmt;

/// Whether a call may block, and for how long.
#[derive(Clone, Copy, PartialEq, Eq, Debug, Serialize, Deserialize)]
pub enum Blocking {
    /// Fail with would-block rather than wait.
    Never,
    /// Wait as long as it takes.
    Forever,
    /// Wait at most this many cycles, then fail with timed-out.
    Timeout(u64),
}

/// One request to the kernel.
// Variant fields are named for what they hold; the variant's doc says the rest.
#[allow(missing_docs)]
#[derive(Clone, PartialEq, Debug)]
pub enum Syscall {
    /// Send a message through an endpoint or queue port.
    Send { port: Slot, message: Message, blocking: Blocking },
    /// Receive from a port; `from` closes the receive to one badge.
    Receive { port: Slot, from: Option<Badge>, blocking: Blocking },
    /// Send on an endpoint and wait for the reply on a fresh reply capability.
    Call { port: Slot, message: Message, blocking: Blocking },
    /// Answer a call through its reply capability (never blocks).
    Reply { reply: Slot, message: Message },
    /// Reply, then receive the next message, in one trap.
    ReplyReceive { reply: Slot, message: Message, port: Slot, from: Option<Badge>, blocking: Blocking },
    /// OR bits into a notification (the capability's badge is OR-ed in too).
    Signal { notification: Slot, bits: u64 },
    /// Wait for notification bits, taking and clearing them.
    Wait { notification: Slot, blocking: Blocking },
    /// Make a new synchronous endpoint.
    CreateEndpoint,
    /// Make a new bounded asynchronous queue port.
    CreateQueue { capacity: u32, policy: FullPolicy },
    /// Make a new notification.
    CreateNotification,
    /// Make a new memory region of `size` bytes.
    CreateRegion { size: u32 },
    /// Copy a capability into a new slot with at most `rights`.
    Copy { slot: Slot, rights: Rights },
    /// Copy with at most `rights` and stamp a badge on the copy.
    Mint { slot: Slot, rights: Rights, badge: Badge },
    /// Delete the capability in a slot.
    Delete { slot: Slot },
    /// Delete every capability derived from this one, in every process.
    Revoke { slot: Slot },
    /// Read bytes from a memory region.
    RegionRead { region: Slot, offset: u32, len: u32 },
    /// Write bytes into a memory region.
    RegionWrite { region: Slot, offset: u32, data: Vec<u8> },
    /// Bind a notification to the caller, so its receives also return its bits.
    BindNotification { notification: Slot },
    /// Signal a notification with `bits` when the process behind a handle dies.
    Watch { process: Slot, notification: Slot, bits: u64 },
    /// Signal a notification after `delay_cycles`, and every `period_cycles` after that.
    ArmTimer { notification: Slot, bits: u64, delay_cycles: u64, period_cycles: Option<u64> },
    /// Sleep for a number of cycles.
    Sleep { cycles: u64 },
    /// Use the processor for a number of cycles.
    Compute { cycles: u64 },
    /// Let other processes of the same priority run.
    Yield,
    /// The current virtual time.
    Clock,
    /// A number from the simulation's seeded random stream.
    Random,
    /// End the process with an exit code.
    Exit { code: i32 },
    /// Fault the process behind a handle (a supervisor killing a hung server).
    Kill { process: Slot },
    /// Start the dead process behind a handle again, as a new incarnation with its boot-time
    /// program; answers with a send capability to the service port of the new incarnation.
    Restart { process: Slot },
    /// The caller has finished starting up (a server after its start-up work); see [`crate::boot`].
    Ready,
    /// Whether the process behind a handle has reported ready since it last started.
    IsReady { process: Slot },
    /// Account for a service the kernel ran directly for the caller (monolithic mode): the
    /// request is recorded, the work charged, and the caller waits out any device time. With a
    /// `port`, the service answers at once with a send capability to the kernel's port for one
    /// of its modules (a name lookup of an in-kernel service).
    /// The work is boxed: it is the largest field of any syscall, and every syscall is moved
    /// as this enum, IPC included.
    KernelService {
        label: u32,
        request: crate::message::MessageData,
        work: Box<ServiceWork>,
        port: Option<ServicePort>,
        /// The module's answer, encoded as its server would have replied, kept in the log for
        /// views (`fs.open → fd 3`); not charged (the work counts its copy).
        answer: Option<Box<[u8]>>,
    },
}

/// What a service call inside the kernel cost, as the service logic counted it.
#[derive(Clone, Copy, PartialEq, Eq, Debug, Default, Serialize, Deserialize)]
pub struct ServiceWork {
    /// Function calls made inside the kernel (handler, file system, cache, driver).
    pub function_calls: u64,
    /// Bytes copied between the caller and the kernel.
    pub bytes_copied: u64,
    /// Time the caller waits for devices.
    pub device_cycles: u64,
    /// Device interrupts taken.
    pub interrupts: u64,
    /// A fault injected into the service code on this call: a failure takes the kernel down.
    pub fault: Option<ServiceFault>,
    /// A notification the service signals on this call, on another process's behalf (a
    /// message queue's `mq_notify` registration firing).
    pub signal: Option<ServiceSignal>,
    /// After the work is charged, the caller waits in the kernel on this channel until a call
    /// wakes it: a read of an empty pipe, a receive from an empty queue (monolithic mode).
    pub wait: Option<WaitChannel>,
    /// After the work is charged, every process waiting on these channels is made ready, in the
    /// order they began to wait: a write to a pipe wakes its readers.
    pub wake: [Option<WaitChannel>; 2],
    /// This call goes on with one that waited: the stub carrying the operation out again once
    /// woken. Its work is charged and logged, but it is the same syscall, not a new one.
    pub resumed: bool,
    /// The module keeps the caller's notification capability in this slot, as a server keeps
    /// the copy a client passes it: a later [`ServiceSignal`] naming this slot signals the
    /// notification it named now, even if the caller deletes it and the slot is reused.
    pub hold: Option<Slot>,
}

/// A notification a service inside the kernel signals: the capability in `notification` of
/// `process`'s table, which that process named when it registered (and the module held then,
/// see [`ServiceWork::hold`]). Nothing happens when the process or the notification is gone.
#[derive(Clone, Copy, PartialEq, Eq, Debug, Serialize, Deserialize)]
pub struct ServiceSignal {
    /// The process that registered the notification.
    pub process: crate::ids::ProcessId,
    /// Its capability to the notification.
    pub notification: Slot,
    /// The bits to signal.
    pub bits: u64,
}

/// A place in a service module of the kernel where callers wait (monolithic mode): the readers
/// of one pipe, the senders to one full queue. The module chooses the numbers.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Debug, Serialize, Deserialize)]
pub struct WaitChannel {
    /// The module the channel belongs to.
    pub module: ServiceModule,
    /// Which of its channels.
    pub id: u32,
}

/// A send capability a service inside the kernel answers with: to the kernel's own port for one
/// of its modules, badged for the caller. A monolithic kernel answers a name lookup of one of its
/// services this way, as `open("/dev/console")` answers with a descriptor.
#[derive(Clone, Copy, PartialEq, Eq, Debug, Serialize, Deserialize)]
pub struct ServicePort {
    /// The module the port stands for.
    pub module: ServiceModule,
    /// The badge of the caller's capability.
    pub badge: crate::ids::Badge,
}

/// What a successful syscall returns.
#[derive(Clone, PartialEq, Eq, Debug, Serialize, Deserialize)]
pub enum SyscallValue {
    /// Nothing to return.
    Unit,
    /// A new capability slot.
    Slot(Slot),
    /// A received message or notification.
    Incoming(Incoming),
    /// A reply to a call.
    Reply(Received),
    /// Notification bits, a count, a time or a random number.
    Number(u64),
    /// What a revoke removed.
    Revoked {
        /// How many capabilities, in every table and in transit.
        count: u64,
        /// The slots of the caller's own table it emptied, so a program can forget what it named them.
        emptied: Vec<Slot>,
    },
    /// Bytes read from a region.
    Bytes(Vec<u8>),
}

/// The result of a syscall.
pub type SyscallResult = Result<SyscallValue, crate::error::SysError>;

/// The kind of a syscall, without its arguments: one byte in every event.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug, Serialize, Deserialize)]
#[allow(missing_docs)]
pub enum SyscallKind {
    Send,
    TrySend,
    Receive,
    TryReceive,
    Call,
    Reply,
    ReplyReceive,
    Signal,
    Wait,
    Poll,
    CreateEndpoint,
    CreateQueue,
    CreateNotification,
    CreateRegion,
    Copy,
    Mint,
    Delete,
    Revoke,
    RegionRead,
    RegionWrite,
    BindNotification,
    Watch,
    ArmTimer,
    Sleep,
    Compute,
    Yield,
    Clock,
    Random,
    Exit,
    KernelService,
    /// A kernel service call going on after it waited (see [`ServiceWork::resumed`]): not a
    /// new trap, not counted as a syscall.
    KernelResume,
    Kill,
    Restart,
    Ready,
    IsReady,
}

impl SyscallKind {
    /// The name used in traces.
    pub fn name(self) -> &'static str {
        use SyscallKind::*;
        match self {
            Send => "send",
            TrySend => "try_send",
            Receive => "receive",
            TryReceive => "try_receive",
            Call => "call",
            Reply => "reply",
            ReplyReceive => "reply_receive",
            Signal => "signal",
            Wait => "wait",
            Poll => "poll",
            CreateEndpoint => "create_endpoint",
            CreateQueue => "create_queue",
            CreateNotification => "create_notification",
            CreateRegion => "create_region",
            Copy => "copy",
            Mint => "mint",
            Delete => "delete",
            Revoke => "revoke",
            RegionRead => "region_read",
            RegionWrite => "region_write",
            BindNotification => "bind_notification",
            Watch => "watch",
            ArmTimer => "arm_timer",
            Sleep => "sleep",
            Compute => "compute",
            Yield => "yield",
            Clock => "clock",
            Random => "random",
            Exit => "exit",
            KernelService => "service",
            KernelResume => "resume",
            Kill => "kill",
            Restart => "restart",
            Ready => "ready",
            IsReady => "is_ready",
        }
    }

    /// True for syscalls that move a message and are charged as one IPC.
    pub fn is_ipc(self) -> bool {
        matches!(
            self,
            SyscallKind::Send
                | SyscallKind::TrySend
                | SyscallKind::Call
                | SyscallKind::Reply
                | SyscallKind::ReplyReceive
        )
    }
}

impl fmt::Display for SyscallKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl Syscall {
    /// The kind of this request.
    pub fn kind(&self) -> SyscallKind {
        match self {
            Syscall::Send { blocking: Blocking::Never, .. } => SyscallKind::TrySend,
            Syscall::Send { .. } => SyscallKind::Send,
            Syscall::Receive { blocking: Blocking::Never, .. } => SyscallKind::TryReceive,
            Syscall::Receive { .. } => SyscallKind::Receive,
            Syscall::Call { .. } => SyscallKind::Call,
            Syscall::Reply { .. } => SyscallKind::Reply,
            Syscall::ReplyReceive { .. } => SyscallKind::ReplyReceive,
            Syscall::Signal { .. } => SyscallKind::Signal,
            Syscall::Wait { blocking: Blocking::Never, .. } => SyscallKind::Poll,
            Syscall::Wait { .. } => SyscallKind::Wait,
            Syscall::CreateEndpoint => SyscallKind::CreateEndpoint,
            Syscall::CreateQueue { .. } => SyscallKind::CreateQueue,
            Syscall::CreateNotification => SyscallKind::CreateNotification,
            Syscall::CreateRegion { .. } => SyscallKind::CreateRegion,
            Syscall::Copy { .. } => SyscallKind::Copy,
            Syscall::Mint { .. } => SyscallKind::Mint,
            Syscall::Delete { .. } => SyscallKind::Delete,
            Syscall::Revoke { .. } => SyscallKind::Revoke,
            Syscall::RegionRead { .. } => SyscallKind::RegionRead,
            Syscall::RegionWrite { .. } => SyscallKind::RegionWrite,
            Syscall::BindNotification { .. } => SyscallKind::BindNotification,
            Syscall::Watch { .. } => SyscallKind::Watch,
            Syscall::ArmTimer { .. } => SyscallKind::ArmTimer,
            Syscall::Sleep { .. } => SyscallKind::Sleep,
            Syscall::Compute { .. } => SyscallKind::Compute,
            Syscall::Yield => SyscallKind::Yield,
            Syscall::Clock => SyscallKind::Clock,
            Syscall::Random => SyscallKind::Random,
            Syscall::Exit { .. } => SyscallKind::Exit,
            // A resumed one is told apart by `Kernel::execute`, off the path every other call takes.
            Syscall::KernelService { .. } => SyscallKind::KernelService,
            Syscall::Kill { .. } => SyscallKind::Kill,
            Syscall::Restart { .. } => SyscallKind::Restart,
            Syscall::Ready => SyscallKind::Ready,
            Syscall::IsReady { .. } => SyscallKind::IsReady,
        }
    }
}
