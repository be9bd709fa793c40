//! Client stubs: what a program calls to use the system services.
//!
//! The same program runs in both modes. In microkernel mode a stub looks the
//! service up through the name server (once) and calls it with a message; in
//! monolithic mode it runs the service logic directly "inside the kernel" and
//! makes one syscall that accounts for the work. Every stub call is marked in
//! the event log as an operation, so metrics can be given per operation.

use crate::protocol::{
    ConsoleRequest, FsReply, FsRequest, NameRequest, Request, ServiceError, SimpleReply, TimerRequest, decode, encode,
};
use mksim_kernel::syscall::ServiceWork;
use mksim_kernel::{Message, Slot, Sys, SysError};
use std::rc::Rc;

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
    /// Runs a file-system request for `client` and says what it cost.
    fn fs(&self, client: u64, request: FsRequest) -> (FsReply, ServiceWork);
    /// Appends console output for `client`.
    fn console_write(&self, client: u64, text: &str) -> ServiceWork;
    /// Cycles until `ticks` timer ticks from `now` have passed.
    fn timer_wait_cycles(&self, now: u64, ticks: u32) -> u64;
}

/// How a program reaches the services.
#[derive(Clone)]
pub enum Mode {
    /// Through server processes, by messages.
    Microkernel,
    /// Through service logic called inside the kernel.
    Monolithic(Rc<dyn KernelServices>),
}

/// A program's access to the system services.
pub struct Services {
    sys: Sys,
    mode: Mode,
    /// Send capability to the name server. Names that programs register live there in both
    /// modes; in monolithic mode the system services need no lookup.
    name_server: Option<Slot>,
    /// The client's identity as servers see it (its badge).
    client: u64,
    looked_up: std::collections::BTreeMap<String, Slot>,
}

impl Services {
    /// Services for the program behind `sys`, which servers know by `client`.
    pub fn new(sys: Sys, mode: Mode, name_server: Option<Slot>, client: u64) -> Services {
        Services { sys, mode, name_server, client, looked_up: Default::default() }
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

    async fn call_server(&self, port: Slot, request: &impl Request, message: Message) -> Result<Vec<u8>, ClientError> {
        let message = Message { label: request.label(), data: encode(request), ..message };
        let answer = self.sys.call(port, message).await?;
        Ok(answer.data)
    }

    /// Looks a name up at the name server; the answer is a send capability badged for this client.
    ///
    /// # Errors
    /// Not found; peer dead; no name server capability (invalid capability).
    pub async fn lookup(&mut self, name: &str) -> Result<Slot, ClientError> {
        if let Some(&slot) = self.looked_up.get(name) {
            return Ok(slot);
        }
        let request = NameRequest::Lookup { name: name.to_owned() };
        let name_server = self.name_server()?;
        let slot = self
            .marked(request.label(), async {
                let message = Message { label: request.label(), data: encode(&request), caps: Vec::new() };
                let answer = self.sys.call(name_server, message).await?;
                match decode::<SimpleReply>(&answer.data) {
                    Some(SimpleReply::Done) => {
                        answer.caps.first().copied().ok_or(ClientError::Service(ServiceError::Io))
                    }
                    Some(SimpleReply::Error(error)) => Err(error.into()),
                    _ => Err(ServiceError::BadRequest.into()),
                }
            })
            .await?;
        self.looked_up.insert(name.to_owned(), slot);
        Ok(slot)
    }

    /// Forgets a looked-up capability (after its server died), so the next call looks it up again.
    pub fn forget(&mut self, name: &str) {
        self.looked_up.remove(name);
    }

    fn name_server(&self) -> Result<Slot, ClientError> {
        self.name_server.ok_or(ClientError::Sys(SysError::InvalidCapability))
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
            let data = self.call_server(name_server, &request, message).await?;
            match decode::<SimpleReply>(&data) {
                Some(SimpleReply::Done) => Ok(()),
                Some(SimpleReply::Error(error)) => Err(error.into()),
                _ => Err(ServiceError::BadRequest.into()),
            }
        })
        .await
    }

    /// Writes text to this process's console output.
    ///
    /// # Errors
    /// The console server's or the kernel's errors.
    pub async fn print(&mut self, text: &str) -> Result<(), ClientError> {
        let request = ConsoleRequest::Write { text: text.to_owned() };
        if let Mode::Monolithic(services) = &self.mode {
            let work = services.console_write(self.client, text);
            return self.marked(request.label(), self.in_kernel(&request, work)).await;
        }
        let console = self.lookup("console").await?;
        self.marked(request.label(), self.simple_call(console, &request)).await.map(|_| ())
    }

    /// Waits for `ticks` ticks of the timer server.
    ///
    /// # Errors
    /// The timer server's or the kernel's errors.
    pub async fn timer_wait(&mut self, ticks: u32) -> Result<(), ClientError> {
        let request = TimerRequest::Wait { ticks };
        if let Mode::Monolithic(services) = &self.mode {
            let now = self.sys.clock().await?;
            let cycles = services.timer_wait_cycles(now, ticks);
            let work = ServiceWork { function_calls: 1, device_cycles: cycles, ..ServiceWork::default() };
            return self.marked(request.label(), self.in_kernel(&request, work)).await;
        }
        let timer = self.lookup("timer").await?;
        self.marked(request.label(), self.simple_call(timer, &request)).await.map(|_| ())
    }

    /// Sends a file-system request and returns the reply; a reply carrying an error becomes `Err`.
    ///
    /// # Errors
    /// The file server's error, or the kernel's (peer dead when the file server died).
    pub async fn fs(&mut self, request: FsRequest) -> Result<FsReply, ClientError> {
        let label = request.label();
        let reply = if let Mode::Monolithic(services) = &self.mode {
            let (reply, work) = services.fs(self.client, request.clone());
            self.marked(label, async {
                self.in_kernel(&request, work).await?;
                Ok(reply)
            })
            .await?
        } else {
            let fs = self.lookup("fs").await?;
            self.marked(label, async {
                let data = self.call_server(fs, &request, Message::default()).await?;
                decode::<FsReply>(&data).ok_or(ClientError::Service(ServiceError::BadRequest))
            })
            .await?
        };
        match reply {
            FsReply::Error(error) => Err(error.into()),
            reply => Ok(reply),
        }
    }

    async fn in_kernel(&self, request: &impl Request, work: ServiceWork) -> Result<(), ClientError> {
        self.sys.kernel_service(request.label(), encode(request), work).await?;
        Ok(())
    }

    async fn simple_call(&self, port: Slot, request: &impl Request) -> Result<Vec<u8>, ClientError> {
        let data = self.call_server(port, request, Message::default()).await?;
        match decode::<SimpleReply>(&data) {
            Some(SimpleReply::Done) => Ok(Vec::new()),
            Some(SimpleReply::Data(bytes)) => Ok(bytes),
            Some(SimpleReply::Error(error)) => Err(error.into()),
            None => Err(ServiceError::BadRequest.into()),
        }
    }
}
