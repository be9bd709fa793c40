//! What a system is made of, as the scenario validator (or a test) describes it before boot:
//! the servers and their settings, the supervisor and its wards, the objects, and the
//! programs. Plain data; [`super::boot`] turns it into a running system.

use crate::fault::FaultSpec;
use crate::filesystem::FsConfig;
use crate::mqueue::MqConfig;
use crate::pipe::PipeConfig;
use crate::service::Service;
use crate::socket::SocketConfig;
use crate::supervisor::{Heartbeat, RestartPolicy};
use mksim_kernel::{Badge, FullPolicy, KernelConfig, Priority, ProgramResult, Rights, Slot};
use mksim_userland::client::Services;
use std::collections::BTreeMap;
use std::future::Future;
use std::pin::Pin;

/// The block device server.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct BlockServerSpec {
    /// Its priority.
    pub priority: Priority,
    /// Blocks on the ramdisk.
    pub blocks: u32,
    /// Bytes per block.
    pub block_size: usize,
    /// Cycles from starting a transfer to its completion interrupt.
    pub latency_cycles: u64,
}

/// Which servers to boot, with their settings.
#[derive(Clone, Debug, Default)]
pub struct Servers {
    /// Name server priority, if booted.
    pub name: Option<Priority>,
    /// Console server priority, if booted.
    pub console: Option<Priority>,
    /// The block device server.
    pub block: Option<BlockServerSpec>,
    /// File server priority and file-system settings (needs the block server).
    pub file: Option<(Priority, FsConfig)>,
    /// Timer server priority and tick period.
    pub timer: Option<(Priority, u64)>,
    /// Message-queue server priority and limits.
    pub mq: Option<(Priority, MqConfig)>,
    /// Pipe server priority and pipe settings.
    pub pipe: Option<(Priority, PipeConfig)>,
    /// Socket server priority and settings.
    pub socket: Option<(Priority, SocketConfig)>,
    /// The supervisor, which restarts the servers it looks after (microkernel mode only:
    /// in monolithic mode there is no server to restart).
    pub supervisor: Option<SupervisorSpec>,
}

impl Servers {
    /// True when `service` is booted (its settings are given).
    pub fn boots(&self, service: Service) -> bool {
        match service {
            Service::Name => self.name.is_some(),
            Service::Console => self.console.is_some(),
            Service::Block => self.block.is_some(),
            Service::File => self.file.is_some(),
            Service::Timer => self.timer.is_some(),
            Service::MessageQueue => self.mq.is_some(),
            Service::Supervisor => self.supervisor.is_some(),
            Service::Pipe => self.pipe.is_some(),
            Service::Socket => self.socket.is_some(),
        }
    }

    /// True when the supervisor is booted and looks after `service`.
    pub fn supervises(&self, service: Service) -> bool {
        self.supervisor.as_ref().is_some_and(|spec| spec.wards.iter().any(|ward| ward.server == service.name()))
    }
}

/// The supervisor server and the servers it looks after.
#[derive(Clone, Debug)]
pub struct SupervisorSpec {
    /// Its priority.
    pub priority: Priority,
    /// Heartbeats to detect hung servers, if any.
    pub heartbeat: Option<Heartbeat>,
    /// The servers it looks after (`fs`, `block`, `console`, `timer`), with their policies.
    pub wards: Vec<WardSpec>,
}

/// One server the supervisor looks after.
#[derive(Clone, Debug)]
pub struct WardSpec {
    /// The server.
    pub server: String,
    /// When it is restarted.
    pub policy: RestartPolicy,
    /// Cycles before the first restart, doubled for each further one.
    pub backoff_cycles: u64,
    /// The supervised servers it depends on (it may be blocked on them while they are down).
    pub depends_on: Vec<String>,
}

/// A kernel object the scenario creates at boot.
#[derive(Clone, PartialEq, Eq, Debug)]
pub enum ObjectSpecKind {
    /// A synchronous endpoint.
    Endpoint,
    /// An asynchronous queue port.
    Queue {
        /// Messages it holds.
        capacity: u32,
        /// What a full queue does.
        policy: FullPolicy,
    },
    /// A notification.
    Notification,
    /// A handle on a process of the system, by its name.
    ProcessHandle {
        /// The process.
        process: String,
    },
    /// A memory region.
    Region {
        /// Bytes.
        size: u32,
    },
}

/// A named object owned by a program (it dies with it).
#[derive(Clone, PartialEq, Eq, Debug)]
pub struct ObjectSpec {
    /// Name used by capabilities.
    pub name: String,
    /// What it is.
    pub kind: ObjectSpecKind,
    /// The program that owns it.
    pub owner: String,
}

/// A capability a program starts with, under a name its script uses.
#[derive(Clone, PartialEq, Eq, Debug)]
pub struct CapSpec {
    /// The name in the program.
    pub name: String,
    /// The object's name.
    pub object: String,
    /// Its rights.
    pub rights: Rights,
    /// Its badge.
    pub badge: Badge,
}

/// A program's code: given its services and its named capabilities, a future.
pub type ProgramFn = Box<dyn FnOnce(Services, BTreeMap<String, Slot>) -> Pin<Box<dyn Future<Output = ProgramResult>>>>;

/// A user program of the system.
pub struct ProgramSpec {
    /// Its name.
    pub name: String,
    /// Its priority.
    pub priority: Priority,
    /// A server of its own: the run may end with it still waiting.
    pub is_server: bool,
    /// Whether it gets a capability to the name server.
    pub name_server: bool,
    /// Names it may register.
    pub may_register: Vec<String>,
    /// Capabilities it starts with.
    pub caps: Vec<CapSpec>,
    /// Its code.
    pub program: ProgramFn,
}

impl ProgramSpec {
    /// A program that is no server, starts with the name server's capability and no other, and
    /// may register no name: what most tests and workloads start.
    pub fn plain(name: impl Into<String>, priority: Priority, program: ProgramFn) -> ProgramSpec {
        ProgramSpec {
            name: name.into(),
            priority,
            is_server: false,
            name_server: true,
            may_register: Vec::new(),
            caps: Vec::new(),
            program,
        }
    }
}

/// A whole system, ready to boot in either mode.
pub struct SystemSpec {
    /// Kernel settings.
    pub kernel: KernelConfig,
    /// The servers.
    pub servers: Servers,
    /// Objects created at boot.
    pub objects: Vec<ObjectSpec>,
    /// The programs.
    pub programs: Vec<ProgramSpec>,
    /// Faults to inject into the servers (microkernel) or service modules (monolithic).
    pub faults: Vec<FaultSpec>,
}
