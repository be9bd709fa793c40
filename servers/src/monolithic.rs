//! Monolithic mode: the same service logic, linked into the kernel and
//! called directly. A program's `fs.read` becomes one syscall whose handler
//! calls the file system, which calls the block driver: no messages, no
//! server processes, no switches between them.

use crate::block::Ramdisk;
use crate::block_server::DirectBlockDevice;
use crate::console::ConsoleOutput;
use crate::fault::{SharedPlan, is_cut_short, strike_in_kernel};
use crate::filesystem::{FileSystem, FsConfig};
use crate::mqueue::MessageQueues;
use crate::mqueue_in_kernel;
use crate::service::Service;
use mksim_kernel::ProcessId;
use mksim_kernel::disconnect::ProcessEnd;
use mksim_kernel::syscall::{ServiceModule, ServiceWork, WaitChannel};
use mksim_userland::client::{KernelServices, MqOutcome};
use mksim_userland::protocol::{FsReply, FsRequest, MqRequest, ServiceError, encode};
use mksim_userland::ready::run_ready;
use mksim_userland::socket_protocol::{SockReply, SockRequest};
use std::cell::RefCell;
use std::rc::Rc;

mod pipe;
mod socket;
mod summary;

/// The block device and file system inside the kernel, when the scenario has them.
pub struct InKernelStorage {
    /// The disk.
    pub disk: Rc<RefCell<Ramdisk>>,
    /// Cycles per block transfer.
    pub latency_cycles: u64,
    /// The mounted file system (absent when there is no file server).
    pub fs: Option<RefCell<FileSystem>>,
}

/// Every service monolithic mode links in.
pub struct InKernelServices {
    /// Console capture, shared with whoever ran the system.
    pub console: Rc<RefCell<ConsoleOutput>>,
    /// Whether the scenario boots a console (its name is found by a lookup).
    pub console_booted: bool,
    /// Storage, when the scenario has a block device.
    pub storage: Option<InKernelStorage>,
    /// The timer period, when the scenario has a timer.
    pub timer_period_cycles: Option<u64>,
    /// The message queues, when the scenario has them.
    pub mq: Option<RefCell<MessageQueues>>,
    /// The process behind each client badge that called the message queues: whose
    /// notification a registration names.
    pub mq_callers: RefCell<std::collections::BTreeMap<u64, ProcessId>>,
    /// The sockets, when the scenario boots the socket service.
    pub sockets: Option<RefCell<crate::socket::Sockets>>,
    /// Faults planned for the service modules.
    pub faults: Option<SharedPlan>,
    /// The pipes, when the scenario has a pipe server.
    pub pipes: Option<RefCell<crate::pipe::Pipes>>,
}

impl InKernelServices {
    /// Mounts the file system on the disk directly at boot, counting what the mount costs (the
    /// kernel charges it to the boot, as the file server's mount is charged before it serves).
    /// The mount's block transfers count as the driver's requests, as the file server's do in
    /// microkernel mode, so a fault planned for the Nth transfer strikes the same one in both
    /// modes. Returns the file system, if it mounted, and the work, with the fault that struck
    /// if any.
    pub fn mount(
        disk: &Rc<RefCell<Ramdisk>>,
        latency_cycles: u64,
        config: FsConfig,
        faults: Option<SharedPlan>,
    ) -> (Option<FileSystem>, ServiceWork) {
        let mut device = DirectBlockDevice::quiet(Rc::clone(disk));
        device.latency_cycles = latency_cycles;
        device.faults = faults;
        // The boot calls the file system's mount, which calls the cache and the driver.
        device.work.function_calls = 2;
        let mounted = run_ready(FileSystem::mount(&mut device, config)).ok();
        (mounted, device.work)
    }

    /// Drops what the process with badge `client` held in the modules that keep state for
    /// each client, as exit does; returns the channels whose waiters may now go on.
    pub fn client_gone(&self, client: u64) -> ProcessEnd {
        let mut woken = Vec::new();
        if let Some(pipes) = &self.pipes {
            let channels = pipes.borrow_mut().client_gone(client);
            woken.extend(channels.into_iter().map(|id| WaitChannel { module: ServiceModule::Pipe, id }));
        }
        if let Some(queues) = &self.mq {
            queues.borrow_mut().client_gone(client);
            self.mq_callers.borrow_mut().remove(&client);
        }
        if let Some(sockets) = &self.sockets {
            woken.extend(sockets.borrow_mut().client_gone(client));
        }
        let modules = [ServiceModule::Pipe, ServiceModule::MessageQueue, ServiceModule::Socket];
        let states = modules.into_iter().filter_map(|module| Some((module, self.module_summary(module)?.encode())));
        ProcessEnd { wake: woken, states: states.collect() }
    }

    /// Lets the fault planned, if any, strike this call of `service`'s module at `now`.
    pub(crate) fn strike(&self, service: Service, module: ServiceModule, now: u64, work: &mut ServiceWork) {
        let Some(plan) = &self.faults else { return };
        if let Some(fault) = plan.borrow_mut().on_request(service.name(), now) {
            strike_in_kernel(work, fault, module);
        }
    }
}

impl KernelServices for InKernelServices {
    fn fs(&self, client: u64, request: FsRequest, now: u64) -> (FsReply, ServiceWork) {
        let request_bytes = encode(&request).len() as u64;
        let (Some(storage), Some(fs)) = (&self.storage, self.storage.as_ref().and_then(|storage| storage.fs.as_ref()))
        else {
            return (
                FsReply::Error(ServiceError::NotFound),
                ServiceWork { function_calls: 1, ..ServiceWork::default() },
            );
        };
        // The syscall handler calls the file system, which calls the cache.
        let mut work = ServiceWork { function_calls: 2, ..ServiceWork::default() };
        self.strike(Service::File, ServiceModule::FileSystem, now, &mut work);
        if is_cut_short(&work) {
            return (FsReply::Error(ServiceError::Io), work);
        }
        let mut device = DirectBlockDevice {
            disk: Rc::clone(&storage.disk),
            latency_cycles: storage.latency_cycles,
            work,
            faults: self.faults.clone(),
            now,
        };
        let reply = run_ready(fs.borrow_mut().handle(&mut device, client, request));
        let mut work = device.work;
        work.bytes_copied = request_bytes + encode(&reply).len() as u64;
        (reply, work)
    }

    fn mq(
        &self,
        caller: ProcessId,
        client: u64,
        request: MqRequest,
        now: u64,
        resumed: bool,
    ) -> (MqOutcome, ServiceWork) {
        mqueue_in_kernel::call(self, caller, client, request, now, resumed)
    }

    fn console_write(&self, client: u64, text: &str, now: u64) -> ServiceWork {
        let mut work = ServiceWork { function_calls: 2, bytes_copied: text.len() as u64, ..ServiceWork::default() };
        self.strike(Service::Console, ServiceModule::Console, now, &mut work);
        if !is_cut_short(&work) {
            self.console.borrow_mut().write(client, text);
        }
        work
    }

    fn socket(&self, client: u64, request: &SockRequest, resumed: bool, now: u64) -> (Option<SockReply>, ServiceWork) {
        self.socket_call(client, request, resumed, now)
    }

    fn timer_wait(&self, now: u64, ticks: u32) -> ServiceWork {
        let mut work = ServiceWork { function_calls: 1, ..ServiceWork::default() };
        if let Some(period) = self.timer_period_cycles {
            // Saturating: a period near the top of the clock puts the next tick past its end.
            let next_tick = (now / period).saturating_add(u64::from(ticks)).saturating_mul(period);
            work.device_cycles = next_tick.saturating_sub(now);
        }
        self.strike(Service::Timer, ServiceModule::Timer, now, &mut work);
        work
    }

    /// The services the name server would know in microkernel mode, where their servers
    /// register them at boot: the console, the file system and the timer, when booted. The
    /// block driver is the file server's and is not looked up by programs.
    fn service_module(&self, name: &str) -> Option<ServiceModule> {
        let file_system = self.storage.as_ref().is_some_and(|storage| storage.fs.is_some());
        let service = Service::from_name(name).filter(|service| service.is_looked_up())?;
        let booted = match service {
            Service::Console => self.console_booted,
            Service::File => file_system,
            Service::Timer => self.timer_period_cycles.is_some(),
            Service::MessageQueue => self.mq.is_some(),
            Service::Pipe => self.pipes.is_some(),
            Service::Socket => self.sockets.is_some(),
            Service::Name | Service::Block | Service::Supervisor => false,
        };
        if booted { service.module() } else { None }
    }

    fn pipe(
        &self,
        client: u64,
        request: &mksim_userland::pipe_protocol::PipeRequest,
        attempt: mksim_userland::pipe_protocol::PipeTry,
        now: u64,
    ) -> (Result<mksim_userland::pipe_protocol::PipeReply, mksim_kernel::syscall::WaitChannel>, ServiceWork) {
        self.pipe_call(client, request, attempt, now)
    }

    fn summary(&self, module: ServiceModule) -> Option<mksim_userland::service_state::ServiceSummary> {
        self.module_summary(module)
    }
}
