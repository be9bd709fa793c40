//! Client stubs: what a program calls to use the system services.
//!
//! The same program runs in both modes. In microkernel mode a stub looks the
//! service up through the name server (once) and calls it with a message; in
//! monolithic mode it runs the service logic directly "inside the kernel" and
//! makes one syscall that accounts for the work. Every stub call is marked in
//! the event log as an operation, so metrics can be given per operation.

mod mq;

pub use mq::MqOutcome;

use crate::protocol::{
    ConsoleRequest, FsReply, FsRequest, MqRequest, NameRequest, Request, ServiceError, SimpleReply, TimerRequest,
    decode, encode, reply_label,
};
use mksim_kernel::syscall::{ServiceModule, ServicePort, ServiceWork};
use mksim_kernel::{Badge, Message, MessageData, Slot, Sys, SysError};
use std::cell::RefCell;
use std::collections::BTreeMap;
use std::rc::Rc;

mod fifo;
mod files;
pub mod ledger;
mod pipe;
mod socket;
mod summary;

/// Why a stub call failed.
#[derive(Clone, Copy, PartialEq, Eq, Debug, thiserror::Error)]
pub enum ClientError {
    /// The kernel refused a syscall (for instance peer-dead when the server died).
    #[error("{0}")]
    Sys(#[from] SysError),
    /// The service answered with an error.
    #[error("{0}")]
    Service(#[from] ServiceError),
}

/// The services as monolithic mode links them into the kernel.
pub trait KernelServices {
    /// Runs a file-system request for `client` at time `now` and says what it cost.
    fn fs(&self, client: u64, request: FsRequest, now: u64) -> (FsReply, ServiceWork);
    /// Appends console output for `client`.
    fn console_write(&self, client: u64, text: &str, now: u64) -> ServiceWork;
    /// Runs a socket request for `client` at time `now` as far as it goes: its reply, or none
    /// when the caller must wait (the work's `wait` says on what) and then try it again, as
    /// `resumed` (a fault planned for the Nth request counts only first tries, as a server
    /// counts the requests it receives).
    fn socket(
        &self,
        client: u64,
        request: &crate::socket_protocol::SockRequest,
        resumed: bool,
        now: u64,
    ) -> (Option<crate::socket_protocol::SockReply>, ServiceWork);
    /// The work of waiting from `now` until `ticks` timer ticks have passed.
    fn timer_wait(&self, now: u64, ticks: u32) -> ServiceWork;
    /// Runs a message-queue request for `client` (the process `caller`) at time `now`: the
    /// answer, or the channel to wait on before trying again, and what it cost (with the
    /// channels it woke). `resumed` when this tries again a request that waited: it is the same
    /// request, which a fault planned for the Nth request does not count again.
    fn mq(
        &self,
        caller: mksim_kernel::ProcessId,
        client: u64,
        request: MqRequest,
        now: u64,
        resumed: bool,
    ) -> (mq::MqOutcome, ServiceWork);
    /// The module of the kernel that serves `name`, when that service is linked in: what a name
    /// lookup of a system service finds in monolithic mode, where no server registered it.
    fn service_module(&self, name: &str) -> Option<ServiceModule>;
    /// Tries a pipe request for `client` at time `now` and says what it cost: its reply, or the
    /// channel the caller must wait on before trying it again.
    fn pipe(
        &self,
        client: u64,
        request: &crate::pipe_protocol::PipeRequest,
        attempt: crate::pipe_protocol::PipeTry,
        now: u64,
    ) -> (Result<crate::pipe_protocol::PipeReply, mksim_kernel::syscall::WaitChannel>, ServiceWork);
    /// What `module`'s service holds now, for the log (see [`crate::service_state`]); `None`
    /// when it is not linked in or keeps no summary.
    fn summary(&self, _module: ServiceModule) -> Option<crate::service_state::ServiceSummary> {
        None
    }
}

/// How a program reaches the services.
#[derive(Clone)]
pub enum Mode {
    /// Through server processes, by messages.
    Microkernel,
    /// Through service logic called inside the kernel.
    Monolithic(Rc<dyn KernelServices>),
}

/// How many times a stub tries again after its server died, and the first pause (doubled
/// each time): long enough, in all, for a supervisor's usual backoff and restart.
const RETRY_ATTEMPTS: u32 = 5;
const RETRY_BACKOFF_CYCLES: u64 = 2_000;

/// What a program knows of the servers it talks to.
#[derive(Default)]
struct Connections {
    /// Capabilities from lookups, by name.
    ports: BTreeMap<String, Slot>,
    /// How many times each service was found dead and looked up again: its incarnation as
    /// this program knows it.
    reconnects: BTreeMap<String, u32>,
    /// The open files, with the file-server incarnation each descriptor belongs to.
    files: files::OpenFiles,
    /// The `mq`-server incarnation each open queue descriptor belongs to.
    mq_descriptors: BTreeMap<u32, u32>,
    /// The socket-server incarnation each socket descriptor belongs to.
    sockets: BTreeMap<u32, u32>,
}

impl Connections {
    fn incarnation(&self, service: &str) -> u32 {
        self.reconnects.get(service).copied().unwrap_or(0)
    }
}

/// A program's access to the system services.
pub struct Services {
    sys: Sys,
    mode: Mode,
    /// Send capability to the name server. Names that programs register live there in both
    /// modes; in monolithic mode the system services need no lookup.
    name_server: Option<Slot>,
    /// In monolithic mode: the scenario gives this program the name service, so lookups of the
    /// kernel's own services are answered even when no name server process was booted (it
    /// boots only for names programs register). See [`Services::lookup`].
    kernel_names: bool,
    /// The client's identity as servers see it (its badge).
    client: u64,
    connections: RefCell<Connections>,
    /// Whether the file stubs recover descriptors a file-server restart made stale.
    recover: bool,
    /// Where the file stubs write down what the file server told of each write.
    ledger: Option<ledger::SharedLedger>,
}

/// Looks `name` up at the name server through `name_server`, unmarked: for servers and for
/// stubs finding a restarted service again inside an operation. A lookup that finds the name
/// server restarting (peer dead: the call it had received died with it) or replaying its
/// registrations (try again) is sent again, with the stubs' usual pauses; a lookup is always
/// safe to repeat.
///
/// # Errors
/// Not found; peer dead or try again after the last try; the name server's other errors.
pub async fn lookup_name(sys: &Sys, name_server: Slot, name: &str) -> Result<Slot, ClientError> {
    let request = NameRequest::Lookup { name: name.to_owned() };
    let mut attempt = 0;
    loop {
        let failure = match lookup_once(sys, name_server, &request).await {
            Err(ClientError::Sys(SysError::PeerDead)) => ClientError::Sys(SysError::PeerDead),
            Err(ClientError::Service(ServiceError::TryAgain)) => ServiceError::TryAgain.into(),
            other => return other,
        };
        if attempt == RETRY_ATTEMPTS {
            return Err(failure);
        }
        sys.retry_operation(request.label());
        sys.sleep(RETRY_BACKOFF_CYCLES << attempt).await?;
        attempt += 1;
    }
}

async fn lookup_once(sys: &Sys, name_server: Slot, request: &NameRequest) -> Result<Slot, ClientError> {
    let message = Message { label: request.label(), data: encode(request), caps: Vec::new() };
    let answer = sys.call(name_server, message).await?;
    match decode::<SimpleReply>(&answer.data) {
        // An answer whose capability did not arrive: the caller's table was full.
        Some(SimpleReply::Done) if answer.caps.is_empty() && answer.caps_lost > 0 => {
            Err(SysError::QuotaExceeded.into())
        }
        Some(SimpleReply::Done) => answer.caps.first().copied().ok_or(ClientError::Service(ServiceError::Io)),
        Some(SimpleReply::Error(error)) => Err(error.into()),
        _ => Err(ServiceError::BadRequest.into()),
    }
}

impl Services {
    /// Services for the program behind `sys`, which servers know by `client`.
    pub fn new(sys: Sys, mode: Mode, name_server: Option<Slot>, client: u64) -> Services {
        Services {
            sys,
            mode,
            name_server,
            kernel_names: false,
            client,
            connections: RefCell::default(),
            recover: false,
            ledger: None,
        }
    }

    /// Lets the file stubs recover a descriptor a file-server restart made stale: open its file
    /// again and carry on (see the `files` module).
    #[must_use]
    pub fn with_recovery(mut self, on: bool) -> Services {
        self.recover = on;
        self
    }

    /// Turns recovery of stale file descriptors on or off from here on (a script's `recover`).
    pub fn set_recovery(&mut self, on: bool) {
        self.recover = on;
    }

    /// Writes what the file server tells of each write in `ledger`, shared by the run (none:
    /// keep no ledger).
    #[must_use]
    pub fn with_ledger(mut self, ledger: Option<ledger::SharedLedger>) -> Services {
        self.ledger = ledger;
        self
    }

    /// In monolithic mode, lets this program look up the kernel's own services (console, fs,
    /// timer) whether or not a name server process runs: give it to every program the scenario
    /// gives the name service, so that a lookup answers as it does in microkernel mode.
    #[must_use]
    pub fn with_kernel_names(mut self, on: bool) -> Services {
        self.kernel_names = on;
        self
    }

    /// The program's syscall handle.
    pub fn sys(&self) -> &Sys {
        &self.sys
    }

    /// True in monolithic mode.
    pub fn is_monolithic(&self) -> bool {
        matches!(self.mode, Mode::Monolithic(_))
    }

    async fn marked<T>(
        &self,
        label: u32,
        work: impl Future<Output = Result<T, ClientError>>,
    ) -> Result<T, ClientError> {
        self.sys.begin_operation(label);
        let result = work.await;
        self.sys.end_operation(label, result.is_err());
        result
    }

    /// Looks a name up; the answer is a send capability badged for this client, the same in
    /// both modes:
    ///
    /// - a program without the name service (no capability to the name server) gets invalid
    ///   capability;
    /// - a system service that is booted (`console`, `fs`, `timer`) is found: in microkernel
    ///   mode the name server answers with a capability to the server's port; in monolithic
    ///   mode the kernel answers with a capability to its own port for that module (one
    ///   syscall, no name server needed);
    /// - any other name is asked of the name server (names programs register), which answers
    ///   not found until someone registered it; in monolithic mode with no name server (no
    ///   program may register a name) the kernel answers not found itself.
    ///
    /// # Errors
    /// Invalid capability, not found, peer dead, quota exceeded (no free slot for the answer).
    pub async fn lookup(&mut self, name: &str) -> Result<Slot, ClientError> {
        if let Some(&slot) = self.connections.borrow().ports.get(name) {
            return Ok(slot);
        }
        let request = NameRequest::Lookup { name: name.to_owned() };
        let slot = match &self.mode {
            Mode::Monolithic(services) if self.kernel_names => match services.service_module(name) {
                Some(module) => self.marked(request.label(), self.kernel_port(&request, module)).await?,
                None => match self.name_server {
                    Some(name_server) => {
                        self.marked(request.label(), lookup_name(&self.sys, name_server, name)).await?
                    }
                    None => self.marked(request.label(), self.kernel_not_found(&request)).await?,
                },
            },
            _ => {
                let name_server = self.name_server()?;
                self.marked(request.label(), lookup_name(&self.sys, name_server, name)).await?
            }
        };
        self.connections.borrow_mut().ports.insert(name.to_owned(), slot);
        Ok(slot)
    }

    /// The kernel's answer to a lookup of one of its own modules: a capability to its port.
    async fn kernel_port(&self, request: &NameRequest, module: ServiceModule) -> Result<Slot, ClientError> {
        let work =
            ServiceWork { function_calls: 1, bytes_copied: encode(request).len() as u64, ..ServiceWork::default() };
        let port = ServicePort { module, badge: Badge(self.client) };
        Ok(self.sys.kernel_service_port(request.label(), encode(request), work, port).await?)
    }

    /// The kernel's answer to a lookup of a name nobody may register, when no name server runs.
    async fn kernel_not_found(&self, request: &NameRequest) -> Result<Slot, ClientError> {
        let work =
            ServiceWork { function_calls: 1, bytes_copied: encode(request).len() as u64, ..ServiceWork::default() };
        self.in_kernel(request, work).await?;
        Err(ServiceError::NotFound.into())
    }

    /// Forgets a looked-up capability (after its server died), so the next call looks it up again.
    pub fn forget(&mut self, name: &str) {
        self.connections.borrow_mut().ports.remove(name);
    }

    /// The capability an earlier lookup of `name` left in the table, if the stubs still hold it.
    pub fn looked_up(&self, name: &str) -> Option<Slot> {
        self.connections.borrow().ports.get(name).copied()
    }

    /// Forgets every looked-up capability in `slots`, which the program deleted, revoked or
    /// sent away: the next use of that service looks it up again rather than reach whatever
    /// the slot holds next.
    pub fn forget_slots(&mut self, slots: &[Slot]) {
        self.connections.borrow_mut().ports.retain(|_, slot| !slots.contains(slot));
    }

    fn name_server(&self) -> Result<Slot, ClientError> {
        self.name_server.ok_or(ClientError::Sys(SysError::InvalidCapability))
    }

    /// Looks `service` up before its first use, as an operation of its own; after a server
    /// died, the operation that found out looks it up again inside itself.
    async fn connect(&mut self, service: &str) -> Result<(), ClientError> {
        let known = {
            let connections = self.connections.borrow();
            connections.ports.contains_key(service) || connections.incarnation(service) > 0
        };
        if !known {
            self.lookup(service).await?;
        }
        Ok(())
    }

    /// The capability to `service`, looked up again (unmarked) when the last one died.
    async fn port(&self, service: &str) -> Result<Slot, ClientError> {
        if let Some(&slot) = self.connections.borrow().ports.get(service) {
            return Ok(slot);
        }
        let slot = lookup_name(&self.sys, self.name_server()?, service).await?;
        self.connections.borrow_mut().ports.insert(service.to_owned(), slot);
        Ok(slot)
    }

    /// Drops the capability to a service found dead; the next call looks it up again.
    async fn disconnect(&self, service: &str) {
        let dead = {
            let mut connections = self.connections.borrow_mut();
            *connections.reconnects.entry(service.to_owned()).or_default() += 1;
            connections.ports.remove(service)
        };
        if let Some(slot) = dead {
            // Only frees the slot: the capability names a dead port.
            let _ = self.sys.delete(slot).await;
        }
    }

    /// Calls `service` with `request` and returns the reply's data. When the server is gone
    /// (peer dead) or its reply is garbled, the call is sent again, to the service looked up
    /// afresh, only if `retry` says that is safe; a service that cannot even be looked up was
    /// sent nothing, so that is always tried again. Pauses grow between tries, and the tries
    /// are few: no client waits for ever for a service that does not come back.
    async fn call_service(
        &self,
        service: &str,
        request: &impl Request,
        retry: bool,
    ) -> Result<MessageData, ClientError> {
        let label = request.label();
        let mut attempt = 0;
        loop {
            let failure = match self.port(service).await {
                Err(unreachable) => unreachable,
                Ok(port) => match self.sys.call(port, Message::new(label, encode(request))).await {
                    Ok(answer) if answer.label == reply_label(label) => return Ok(answer.data),
                    Ok(_) if !retry => return Err(ServiceError::CorruptReply.into()),
                    Ok(_) => ServiceError::CorruptReply.into(),
                    Err(SysError::PeerDead) => {
                        self.disconnect(service).await;
                        if !retry {
                            return Err(SysError::PeerDead.into());
                        }
                        SysError::PeerDead.into()
                    }
                    Err(error) => return Err(error.into()),
                },
            };
            if attempt == RETRY_ATTEMPTS {
                return Err(failure);
            }
            self.sys.retry_operation(label);
            self.sys.sleep(RETRY_BACKOFF_CYCLES << attempt).await?;
            attempt += 1;
        }
    }

    /// Registers the capability in `slot` under `name` (the name server keeps a copy).
    ///
    /// # Errors
    /// Permission denied when the scenario does not let this process register the name; already exists.
    pub async fn register(&mut self, name: &str, slot: Slot) -> Result<(), ClientError> {
        let request = NameRequest::Register { name: name.to_owned() };
        let name_server = self.name_server()?;
        self.marked(request.label(), async {
            let message = Message::default().with_copy(slot, mksim_kernel::Rights::SEND | mksim_kernel::Rights::GRANT);
            let message = Message { label: request.label(), data: encode(&request), ..message };
            let answer = self.sys.call(name_server, message).await?;
            match decode::<SimpleReply>(&answer.data) {
                Some(SimpleReply::Done) => Ok(()),
                Some(SimpleReply::Error(error)) => Err(error.into()),
                _ => Err(ServiceError::BadRequest.into()),
            }
        })
        .await
    }

    /// Writes text to this process's console output. Not sent again if the console died while
    /// handling it: the text may already be on the screen.
    ///
    /// # Errors
    /// The console server's or the kernel's errors.
    pub async fn print(&mut self, text: &str) -> Result<(), ClientError> {
        let request = ConsoleRequest::Write { text: text.to_owned() };
        if let Mode::Monolithic(services) = &self.mode {
            let work = services.console_write(self.client, text, self.sys.now());
            return self.marked(request.label(), self.in_kernel(&request, work)).await;
        }
        self.connect("console").await?;
        self.marked(request.label(), self.simple_call("console", &request, false)).await.map(|_| ())
    }

    /// Waits for `ticks` ticks of the timer server (waited again if the timer server died).
    ///
    /// # Errors
    /// The timer server's or the kernel's errors.
    pub async fn timer_wait(&mut self, ticks: u32) -> Result<(), ClientError> {
        let request = TimerRequest::Wait { ticks };
        if let Mode::Monolithic(services) = &self.mode {
            let now = self.sys.clock().await?;
            let work = services.timer_wait(now, ticks);
            return self.marked(request.label(), self.in_kernel(&request, work)).await;
        }
        self.connect("timer").await?;
        self.marked(request.label(), self.simple_call("timer", &request, true)).await.map(|_| ())
    }

    async fn in_kernel(&self, request: &impl Request, work: ServiceWork) -> Result<(), ClientError> {
        self.sys.kernel_service(request.label(), encode(request), work).await?;
        Ok(())
    }

    async fn simple_call(&self, service: &str, request: &impl Request, retry: bool) -> Result<Vec<u8>, ClientError> {
        let data = self.call_service(service, request, retry).await?;
        match decode::<SimpleReply>(&data) {
            Some(SimpleReply::Done) => Ok(Vec::new()),
            Some(SimpleReply::Data(bytes)) => Ok(bytes),
            Some(SimpleReply::Error(error)) => Err(error.into()),
            None => Err(ServiceError::BadRequest.into()),
        }
    }
}
