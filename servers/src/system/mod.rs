//! Booting a whole system: servers, scenario objects and programs, in either mode.
//!
//! The same [`SystemSpec`] boots as a microkernel system (servers are
//! processes; programs reach them by messages) or as a monolithic one
//! (service logic inside the kernel; programs make one syscall per
//! operation). Processes are created in a fixed order, so ids, slots and
//! badges are the same on every run.

use crate::block::Ramdisk;
use crate::block_server::{DirectBlockDevice, IpcBlockDevice, block_server};
use crate::console::{ConsoleOutput, console_server};
use crate::fault::{FaultPlan, FaultSpec, SharedPlan, Trigger};
use crate::file_server::file_server;
use crate::filesystem::{FileSystem, FsConfig};
use crate::monolithic::{InKernelServices, InKernelStorage};
use crate::mqueue::MessageQueues;
use crate::mqueue_server::mqueue_server;
use crate::name::{Registry, name_server};
use crate::pipe::Pipes;
use crate::pipe_server::pipe_server;
use crate::serve::ServerFaults;
use crate::service::Service;
use crate::socket_server::socket_server;
use crate::timer::timer_server;
use mksim_kernel::InjectedFault;
use mksim_kernel::syscall::ServiceWork;
use mksim_kernel::{Badge, Kernel, ObjectId, Priority, ProcessId, ProcessSpec, Restarter, Rights, Slot};
use mksim_userland::client::ledger::{FileLedger, SharedLedger};
use mksim_userland::client::{Mode as ClientMode, Services};
use mksim_userland::protocol::DESCRIBER;
use mksim_userland::ready::run_ready;
use std::cell::{Cell, RefCell};
use std::collections::BTreeMap;
use std::rc::Rc;

mod spec;
mod supervision;

pub use spec::{
    BlockServerSpec, CapSpec, ObjectSpec, ObjectSpecKind, ProgramFn, ProgramSpec, Servers, SupervisorSpec, SystemSpec,
    WardSpec,
};

/// Which way the services run.
#[derive(Clone, Copy, PartialEq, Eq, Debug, Hash, PartialOrd, Ord)]
pub enum Mode {
    /// Servers are user processes reached by messages.
    Microkernel,
    /// Service logic is called inside the kernel.
    Monolithic,
}

impl Mode {
    /// Lowercase name.
    pub fn name(self) -> &'static str {
        match self {
            Mode::Microkernel => "microkernel",
            Mode::Monolithic => "monolithic",
        }
    }
}

/// A booted (and later, run) system.
pub struct System {
    /// The kernel with everything on it.
    pub kernel: Kernel,
    /// How it was booted.
    pub mode: Mode,
    /// Console output by process.
    pub console: Rc<RefCell<ConsoleOutput>>,
    /// The disk, when there is one.
    pub disk: Option<Rc<RefCell<Ramdisk>>>,
    /// File-system settings, when there is a file system.
    pub fs_config: Option<FsConfig>,
    /// Program names and ids, in boot order.
    pub programs: Vec<(String, ProcessId)>,
    /// What the file server told the programs of their writes (see [`FileLedger`]), kept in a
    /// run that injects faults (empty in any other).
    pub ledger: SharedLedger,
}

impl System {
    /// Every file and its contents, read from the disk as it is now.
    pub fn files(&self) -> BTreeMap<String, Vec<u8>> {
        let (Some(disk), Some(config)) = (&self.disk, self.fs_config) else { return BTreeMap::new() };
        let mut device = DirectBlockDevice::quiet(Rc::new(RefCell::new(disk.borrow().clone())));
        let Ok(mut fs) = run_ready(FileSystem::mount(&mut device, config)) else { return BTreeMap::new() };
        run_ready(fs.snapshot(&mut device)).unwrap_or_default()
    }
}

/// The badge under which servers know a program: its process index plus one.
pub fn client_badge(id: ProcessId) -> u64 {
    u64::from(id.index) + 1
}

struct Boot {
    kernel: Kernel,
    console: Rc<RefCell<ConsoleOutput>>,
    registry: Registry,
    name_server: Option<(ProcessId, Slot)>,
    plan: Option<SharedPlan>,
    /// System servers booted, by name, with their service ports.
    servers: BTreeMap<&'static str, (ProcessId, ObjectId)>,
    /// The scenario has a name service, whether or not a name server process boots (in
    /// monolithic mode it boots only for names programs register).
    name_service: bool,
    /// Every system server published at the name server at boot, with its port: the
    /// supervisor keeps copies when it looks after the name server.
    published: Vec<(&'static str, ObjectId)>,
    /// The supervisor's backup queue for programs' registrations, when it keeps one, and the
    /// name server's send capability to it.
    name_backup: Option<(ObjectId, Slot)>,
    /// Names programs may register, in all: the backup queue holds that many copies.
    program_names: usize,
}

/// Gives a (re)starting server its service port, in slot 0.
fn service_port(kernel: &mut Kernel, id: ProcessId) -> (ObjectId, Slot) {
    let endpoint = kernel.create_endpoint(id);
    let slot = kernel.grant(id, endpoint, Rights::all(), Badge::NONE).expect("a new process has free slots");
    (endpoint, slot)
}

/// [`service_port`] for a server that keeps state for each client (descriptors): the kernel
/// tells it when a client ends, so it can close them as exit does.
fn client_state_port(kernel: &mut Kernel, id: ProcessId) -> (ObjectId, Slot) {
    let (endpoint, slot) = service_port(kernel, id);
    kernel.report_disconnects(endpoint);
    (endpoint, slot)
}

impl Boot {
    /// The faults planned for `service`, if the run plans any.
    fn faults(&self, service: Service) -> Option<ServerFaults> {
        self.plan.as_ref().map(|plan| ServerFaults { plan: Rc::clone(plan), server: service.name() })
    }

    /// Creates a system server and boots it with `restarter`, which a supervisor can run again.
    fn server(&mut self, service: Service, priority: Priority, restarter: Restarter) -> (ProcessId, ObjectId) {
        let name = service.name();
        let id = self.kernel.create_process(ProcessSpec::server(name, priority));
        self.kernel.await_ready(id);
        let endpoint = self.kernel.boot_restartable(id, restarter);
        self.servers.insert(name, (id, endpoint));
        (id, endpoint)
    }

    /// A capability to the name server for a system server, badged as its client, when a
    /// supervisor may restart what it depends on and it must find it again.
    fn name_server_for_servers(&self, supervised: bool) -> Option<(ProcessId, Slot)> {
        self.name_server.filter(|_| supervised)
    }

    /// Gives the name server a capability to `endpoint` under `service`'s name.
    fn publish(&mut self, service: Service, endpoint: ObjectId) {
        if let Some((server, _)) = self.name_server {
            let rights = Rights::SEND | Rights::GRANT;
            let slot =
                self.kernel.grant(server, endpoint, rights, Badge::NONE).expect("the name server has free slots");
            self.registry.preload(service.name(), slot);
            self.published.push((service.name(), endpoint));
        }
    }
}

/// Boots `spec` in `mode`: creates every process and object, ready to run.
///
/// # Panics
/// If the spec names an object or owner that does not exist; specs built by
/// the scenario validator never do.
pub fn boot(spec: SystemSpec, mode: Mode) -> System {
    let seed = spec.kernel.seed;
    let mut kernel = Kernel::new(spec.kernel);
    kernel.set_message_describer(DESCRIBER);
    let console = Rc::new(RefCell::new(ConsoleOutput::default()));
    let plan = (!spec.faults.is_empty()).then(|| Rc::new(RefCell::new(FaultPlan::new(&spec.faults, seed))));
    let mut boot = Boot {
        kernel,
        console: Rc::clone(&console),
        registry: Registry::default(),
        name_server: None,
        plan,
        servers: BTreeMap::new(),
        name_service: spec.servers.name.is_some(),
        published: Vec::new(),
        name_backup: None,
        program_names: spec.programs.iter().map(|program| program.may_register.len()).sum(),
    };
    let registrations = spec.programs.iter().any(|program| !program.may_register.is_empty());
    let name_needed = mode == Mode::Microkernel || registrations;
    if let (Some(priority), true) = (spec.servers.name, name_needed) {
        let id = boot.kernel.create_process(ProcessSpec::server(Service::Name.name(), priority));
        boot.kernel.await_ready(id);
        let (endpoint, slot) = service_port(&mut boot.kernel, id);
        boot.name_server = Some((id, slot));
        if mode == Mode::Microkernel {
            // Faults and the supervisor find it by name, as the other servers.
            boot.servers.insert(Service::Name.name(), (id, endpoint));
            if spec.servers.supervises(Service::Name) {
                boot.kernel.keep_across_restarts(endpoint);
            }
        }
    }
    let disk = spec.servers.block.map(|block| Rc::new(RefCell::new(Ramdisk::new(block.blocks, block.block_size))));
    let fs_config = spec.servers.file.map(|(_, config)| config);
    let client_mode = match mode {
        Mode::Microkernel => {
            boot_servers(&mut boot, &spec.servers, disk.as_ref());
            if let Some(supervisor) = &spec.servers.supervisor {
                supervision::boot_supervisor(&mut boot, supervisor);
            }
            None
        }
        Mode::Monolithic => Some(in_kernel_services(&mut boot, &spec.servers, disk.as_ref())),
    };
    schedule_timed_crashes(&mut boot, &spec.faults, mode);
    let ledger = FileLedger::shared();
    let programs = boot_programs(&mut boot, spec.objects, spec.programs, client_mode, &ledger);
    if let Some((id, slot)) = boot.name_server {
        let registry = std::mem::take(&mut boot.registry);
        // In monolithic mode the system's names are the kernel's: no fault strikes the process
        // that keeps the names programs register (see schedule_timed_crashes).
        let faults = boot.faults(Service::Name).filter(|_| mode == Mode::Microkernel);
        if mode == Mode::Microkernel && spec.servers.supervises(Service::Name) {
            supervision::boot_restartable_name_server(&mut boot, id, slot, registry, faults);
        } else {
            boot.kernel.start(id, move |sys| name_server(sys, slot, registry, None, faults));
        }
    }
    System { kernel: boot.kernel, mode, console, disk, fs_config, programs, ledger }
}

fn boot_servers(boot: &mut Boot, servers: &Servers, disk: Option<&Rc<RefCell<Ramdisk>>>) {
    if let Some(priority) = servers.console {
        let (output, faults) = (Rc::clone(&boot.console), boot.faults(Service::Console));
        let restarter: Restarter = Rc::new(move |kernel, id| {
            let (endpoint, slot) = service_port(kernel, id);
            let (output, faults) = (Rc::clone(&output), faults.clone());
            kernel.start(id, move |sys| console_server(sys, slot, output, faults));
            endpoint
        });
        let (_, endpoint) = boot.server(Service::Console, priority, restarter);
        boot.publish(Service::Console, endpoint);
    }
    // Where the driver's port is now: a restarted file server is given the current one.
    let block_port: Rc<Cell<Option<ObjectId>>> = Rc::default();
    if let (Some(block), Some(disk)) = (servers.block, disk) {
        let (disk, faults, current) = (Rc::clone(disk), boot.faults(Service::Block), Rc::clone(&block_port));
        let restarter: Restarter = Rc::new(move |kernel, id| {
            let (endpoint, slot) = service_port(kernel, id);
            let interrupt = kernel.create_notification(id);
            kernel.describe_interrupt(interrupt, "disk transfer done");
            let interrupt = kernel.grant(id, interrupt, Rights::all(), Badge::NONE).expect("free slots");
            let (disk, faults) = (Rc::clone(&disk), faults.clone());
            kernel.start(id, move |sys| block_server(sys, slot, interrupt, disk, block.latency_cycles, faults));
            current.set(Some(endpoint));
            endpoint
        });
        let (_, endpoint) = boot.server(Service::Block, block.priority, restarter);
        if servers.supervises(Service::Block) {
            boot.publish(Service::Block, endpoint);
        }
    }
    if let (Some((priority, config)), Some(block)) =
        (servers.file, servers.block.filter(|_| block_port.get().is_some()))
    {
        let faults = boot.faults(Service::File);
        let name_server = boot.name_server_for_servers(servers.supervises(Service::Block));
        let restarter: Restarter = Rc::new(move |kernel, id| {
            let (endpoint, slot) = service_port(kernel, id);
            let driver = block_port.get().expect("the block server boots first");
            let port = kernel.grant(id, driver, Rights::SEND, Badge::NONE).expect("free slots");
            let name_server = name_server.and_then(|(server, server_slot)| {
                let badge = Badge(client_badge(id));
                kernel.grant_derived(id, server, server_slot, Rights::SEND | Rights::GRANT, badge).ok()
            });
            let faults = faults.clone();
            kernel.start(id, move |sys| {
                let device = IpcBlockDevice {
                    sys: sys.clone(),
                    port,
                    name_server,
                    block_size: block.block_size,
                    block_count: block.blocks,
                };
                file_server(sys, slot, device, config, faults)
            });
            endpoint
        });
        let (_, endpoint) = boot.server(Service::File, priority, restarter);
        boot.publish(Service::File, endpoint);
    }
    if let Some((priority, period)) = servers.timer {
        let faults = boot.faults(Service::Timer);
        let restarter: Restarter = Rc::new(move |kernel, id| {
            let (endpoint, slot) = service_port(kernel, id);
            let tick = kernel.create_notification(id);
            kernel.describe_interrupt(tick, "timer tick");
            let tick = kernel.grant(id, tick, Rights::all(), Badge::NONE).expect("free slots");
            let faults = faults.clone();
            kernel.start(id, move |sys| timer_server(sys, slot, tick, period, faults));
            endpoint
        });
        let (_, endpoint) = boot.server(Service::Timer, priority, restarter);
        boot.publish(Service::Timer, endpoint);
    }
    if let Some((priority, config)) = servers.mq {
        let faults = boot.faults(Service::MessageQueue);
        let restarter: Restarter = Rc::new(move |kernel, id| {
            let (endpoint, slot) = client_state_port(kernel, id);
            let faults = faults.clone();
            kernel.start(id, move |sys| mqueue_server(sys, slot, config, faults));
            endpoint
        });
        let (_, endpoint) = boot.server(Service::MessageQueue, priority, restarter);
        boot.publish(Service::MessageQueue, endpoint);
    }
    if let Some((priority, config)) = servers.pipe {
        let faults = boot.faults(Service::Pipe);
        let restarter: Restarter = Rc::new(move |kernel, id| {
            let (endpoint, slot) = client_state_port(kernel, id);
            let faults = faults.clone();
            kernel.start(id, move |sys| pipe_server(sys, slot, config, faults));
            endpoint
        });
        let (_, endpoint) = boot.server(Service::Pipe, priority, restarter);
        boot.publish(Service::Pipe, endpoint);
    }
    if let Some((priority, config)) = servers.socket {
        let faults = boot.faults(Service::Socket);
        let restarter: Restarter = Rc::new(move |kernel, id| {
            let (endpoint, slot) = client_state_port(kernel, id);
            let faults = faults.clone();
            kernel.start(id, move |sys| socket_server(sys, slot, config, faults));
            endpoint
        });
        let (_, endpoint) = boot.server(Service::Socket, priority, restarter);
        boot.publish(Service::Socket, endpoint);
    }
}

/// Crashes at set times are the kernel's to inject: a server dies then even if idle; a
/// service module takes the monolithic kernel down with it.
fn schedule_timed_crashes(boot: &mut Boot, faults: &[FaultSpec], mode: Mode) {
    for fault in faults.iter().filter(|fault| fault.is_timed_crash()) {
        let Trigger::AtTime(at) = fault.trigger else { continue };
        match mode {
            Mode::Microkernel => {
                if let Some(&(server, _)) = boot.servers.get(fault.server.as_str()) {
                    boot.kernel.schedule_crash(at, server.index);
                }
            }
            Mode::Monolithic => {
                let detail = match Service::from_name(&fault.server) {
                    // The kernel answers the system's lookups itself: its name table is kernel code.
                    Some(Service::Name) => "crash in the kernel's name service".to_owned(),
                    Some(service) => match service.module() {
                        Some(module) => format!("crash in the kernel's {} module", module.name()),
                        None => continue,
                    },
                    None => continue,
                };
                boot.kernel.schedule_panic(at, InjectedFault::Crash, detail);
            }
        }
    }
}

fn in_kernel_services(boot: &mut Boot, servers: &Servers, disk: Option<&Rc<RefCell<Ramdisk>>>) -> ClientMode {
    let (console, plan) = (Rc::clone(&boot.console), boot.plan.clone());
    let storage = match (servers.block, disk) {
        (Some(block), Some(disk)) => {
            let fs = servers
                .file
                .and_then(|(_, config)| mount_in_kernel(boot, disk, block.latency_cycles, config))
                .map(RefCell::new);
            Some(InKernelStorage { disk: Rc::clone(disk), latency_cycles: block.latency_cycles, fs })
        }
        _ => None,
    };
    let services = InKernelServices {
        console,
        console_booted: servers.console.is_some(),
        storage,
        timer_period_cycles: servers.timer.map(|(_, period)| period),
        mq: servers.mq.map(|(_, config)| RefCell::new(MessageQueues::new(config))),
        mq_callers: RefCell::default(),
        sockets: servers.socket.map(|(_, config)| RefCell::new(crate::socket::Sockets::new(config))),
        faults: plan,
        pipes: servers.pipe.map(|(_, config)| RefCell::new(Pipes::new(config))),
    };
    let services = Rc::new(services);
    let modules = Rc::clone(&services);
    // Exit closes a process's descriptors in the kernel's modules, as the servers are told to.
    boot.kernel.on_process_end(Rc::new(move |id| modules.client_gone(client_badge(id))));
    ClientMode::Monolithic(services)
}

/// Mounts the file system inside the kernel at boot and charges the boot for it; a failure
/// injected into the mount panics the kernel as the run starts.
fn mount_in_kernel(
    boot: &mut Boot,
    disk: &Rc<RefCell<Ramdisk>>,
    latency_cycles: u64,
    config: FsConfig,
) -> Option<FileSystem> {
    let (mounted, work) = InKernelServices::mount(disk, latency_cycles, config, boot.plan.clone());
    boot.kernel.charge_boot_work(ServiceWork { fault: None, ..work });
    if let Some(fault) = work.fault.filter(|fault| fault.kind.is_failure()) {
        let detail =
            format!("{} in the kernel's block driver module while mounting the file system", fault.kind.name());
        boot.kernel.schedule_panic(boot.kernel.now(), fault.kind, detail);
    }
    mounted
}

fn boot_programs(
    boot: &mut Boot,
    objects: Vec<ObjectSpec>,
    programs: Vec<ProgramSpec>,
    client_mode: Option<ClientMode>,
    ledger: &SharedLedger,
) -> Vec<(String, ProcessId)> {
    let ids: Vec<ProcessId> = programs
        .iter()
        .map(|program| {
            let spec =
                ProcessSpec { name: program.name.clone(), priority: program.priority, is_server: program.is_server };
            boot.kernel.create_process(spec)
        })
        .collect();
    let by_name: BTreeMap<&str, ProcessId> =
        programs.iter().zip(&ids).map(|(program, &id)| (program.name.as_str(), id)).collect();
    // Each object's owner holds the original capability, under the object's name; everyone
    // else's is derived from it, so the owner can revoke what it handed out.
    let mut originals = BTreeMap::new();
    let mut named_by_process: BTreeMap<ProcessId, BTreeMap<String, Slot>> = BTreeMap::new();
    for object in &objects {
        let owner = by_name[object.owner.as_str()];
        let id = match object.kind {
            ObjectSpecKind::Endpoint => boot.kernel.create_endpoint(owner),
            ObjectSpecKind::Queue { capacity, policy } => boot.kernel.create_queue(owner, capacity, policy),
            ObjectSpecKind::Notification => boot.kernel.create_notification(owner),
            ObjectSpecKind::Region { size } => boot.kernel.create_region(owner, size),
            ObjectSpecKind::ProcessHandle { ref process } => {
                boot.kernel.create_process_handle(by_name[process.as_str()])
            }
        };
        if let Ok(slot) = boot.kernel.grant(owner, id, Rights::all(), Badge::NONE) {
            named_by_process.entry(owner).or_default().insert(object.name.clone(), slot);
            originals.insert(object.name.clone(), (owner, slot));
        }
    }
    let mut started = Vec::new();
    for (program, id) in programs.into_iter().zip(ids) {
        let badge = client_badge(id);
        boot.console.borrow_mut().name_client(badge, &program.name);
        let name_slot = match (program.name_server, boot.name_server) {
            (true, Some((server, server_slot))) => {
                Some(boot.kernel.grant_derived(id, server, server_slot, Rights::SEND | Rights::GRANT, Badge(badge)))
            }
            _ => None,
        }
        .and_then(Result::ok);
        for name in &program.may_register {
            boot.registry.allow(badge, name);
        }
        let mut named = named_by_process.remove(&id).unwrap_or_default();
        for cap in &program.caps {
            let Some(&(owner, original)) = originals.get(cap.object.as_str()) else { continue };
            if let Ok(slot) = boot.kernel.grant_derived(id, owner, original, cap.rights, cap.badge) {
                named.insert(cap.name.clone(), slot);
            }
        }
        let mode = client_mode.clone().unwrap_or(ClientMode::Microkernel);
        let kernel_names = program.name_server && boot.name_service;
        // Only faults break promises: a run without them keeps no ledger and pays nothing for it.
        let ledger = boot.plan.as_ref().map(|_| Rc::clone(ledger));
        let code = program.program;
        boot.kernel.start_after_boot(id, move |sys| {
            let services = Services::new(sys, mode, name_slot, badge).with_kernel_names(kernel_names);
            code(services.with_ledger(ledger), named)
        });
        started.push((program.name, id));
    }
    started
}
