//! The block device server (a ramdisk driver whose transfers complete by
//! interrupt), and the two ways the file system reaches a block device: by
//! messages to that server, or by direct calls inside the kernel.

use crate::block::{BlockDevice, Ramdisk};
use crate::fault::{SharedPlan, is_cut_short, strike_in_kernel};
use crate::serve::{Answer, ServerFaults, serve_with_faults};
use crate::service::Service;
use mksim_kernel::syscall::{ServiceModule, ServiceWork};
use mksim_kernel::{Incoming, Message, ProgramResult, Slot, Sys, SysError};
use mksim_userland::client::lookup_name;
use mksim_userland::protocol::{BlockRequest, Request, ServiceError, SimpleReply, decode, encode, reply_label};
use std::cell::RefCell;
use std::rc::Rc;

/// Runs the block device server: each transfer is started, then the driver
/// waits for the device's completion interrupt (a notification armed to fire
/// after `latency_cycles`) before it answers.
///
/// # Errors
/// Faults when its own port or interrupt notification fails.
pub async fn block_server(
    sys: Sys,
    port: Slot,
    interrupt: Slot,
    disk: Rc<RefCell<Ramdisk>>,
    latency_cycles: u64,
    faults: Option<ServerFaults>,
) -> ProgramResult {
    serve_with_faults(&sys, port, faults, async |incoming| {
        let Incoming::Message(request) = incoming else { return Answer::Later };
        let reply = match decode::<BlockRequest>(&request.data) {
            None => SimpleReply::Error(ServiceError::BadRequest),
            Some(transfer) => match await_completion(&sys, interrupt, latency_cycles).await {
                Err(_) => SimpleReply::Error(ServiceError::Io),
                Ok(()) => perform(&mut disk.borrow_mut(), transfer),
            },
        };
        Answer::Now(Message::new(reply_label(request.label), encode(&reply)))
    })
    .await
}

async fn await_completion(sys: &Sys, interrupt: Slot, latency_cycles: u64) -> Result<(), SysError> {
    sys.arm_timer(interrupt, 1, latency_cycles, None).await?;
    sys.wait(interrupt).await?;
    Ok(())
}

fn perform(disk: &mut Ramdisk, transfer: BlockRequest) -> SimpleReply {
    let result = match transfer {
        BlockRequest::Read { block } => disk.read(block).map(SimpleReply::Data),
        BlockRequest::Write { block, data } => disk.write(block, &data).map(|()| SimpleReply::Done),
    };
    result.unwrap_or_else(SimpleReply::Error)
}

/// The block device as the file server sees it: every block is a call to the block server.
pub struct IpcBlockDevice {
    /// The name server, to find the driver again after it restarts; without it a dead driver
    /// fails every transfer.
    pub name_server: Option<Slot>,
    /// The file server's syscall handle.
    pub sys: Sys,
    /// Send capability to the block server.
    pub port: Slot,
    /// Bytes per block.
    pub block_size: usize,
    /// Blocks on the device.
    pub block_count: u32,
}

/// How often, and after how long a pause, the file server tries a transfer again while the
/// driver is being restarted. Transfers are idempotent: a block read or written twice is the
/// same block.
const DRIVER_ATTEMPTS: u32 = 6;
const DRIVER_BACKOFF_CYCLES: u64 = 1_000;

impl IpcBlockDevice {
    async fn transfer(&mut self, request: BlockRequest) -> Result<SimpleReply, ServiceError> {
        let label = request.label();
        let mut attempt = 0;
        loop {
            let driver_died = match self.sys.call(self.port, Message::new(label, encode(&request))).await {
                Ok(answer) if answer.label == reply_label(label) => {
                    return decode::<SimpleReply>(&answer.data).ok_or(ServiceError::Io);
                }
                Ok(_garbled) => false,
                Err(SysError::PeerDead) if self.name_server.is_some() => true,
                Err(_) => return Err(ServiceError::Io),
            };
            if attempt == DRIVER_ATTEMPTS {
                return Err(ServiceError::Io);
            }
            self.sys.sleep(DRIVER_BACKOFF_CYCLES << attempt).await.map_err(|_| ServiceError::Io)?;
            attempt += 1;
            if driver_died {
                self.find_driver_again().await;
            }
        }
    }

    /// Looks the driver up again at the name server, where its supervisor registers each new
    /// incarnation. Until it has, the lookup answers with the dead one, and the next try says so.
    async fn find_driver_again(&mut self) {
        let Some(name_server) = self.name_server else { return };
        if let Ok(port) = lookup_name(&self.sys, name_server, Service::Block.name()).await {
            let _ = self.sys.delete(self.port).await;
            self.port = port;
        }
    }
}

impl BlockDevice for IpcBlockDevice {
    fn block_size(&self) -> usize {
        self.block_size
    }

    fn block_count(&self) -> u32 {
        self.block_count
    }

    async fn read_block(&mut self, block: u32) -> Result<Vec<u8>, ServiceError> {
        match self.transfer(BlockRequest::Read { block }).await? {
            SimpleReply::Data(data) => Ok(data),
            SimpleReply::Error(error) => Err(error),
            SimpleReply::Done => Err(ServiceError::Io),
        }
    }

    async fn write_block(&mut self, block: u32, data: &[u8]) -> Result<(), ServiceError> {
        match self.transfer(BlockRequest::Write { block, data: data.to_vec() }).await? {
            SimpleReply::Done => Ok(()),
            SimpleReply::Error(error) => Err(error),
            SimpleReply::Data(_) => Err(ServiceError::Io),
        }
    }
}

/// The block device as monolithic mode's file system sees it: a driver
/// function call, counted with the device time and interrupt it costs.
pub struct DirectBlockDevice {
    /// The disk.
    pub disk: Rc<RefCell<Ramdisk>>,
    /// Cycles each transfer takes.
    pub latency_cycles: u64,
    /// What the calls have cost so far.
    pub work: ServiceWork,
    /// Faults planned for the driver module.
    pub faults: Option<SharedPlan>,
    /// Virtual time of the call the transfers belong to.
    pub now: u64,
}

impl DirectBlockDevice {
    /// A device for the kernel's own use (mounting, reading the disk after a run): no faults.
    pub fn quiet(disk: Rc<RefCell<Ramdisk>>) -> DirectBlockDevice {
        DirectBlockDevice { disk, latency_cycles: 0, work: ServiceWork::default(), faults: None, now: 0 }
    }

    /// Counts one transfer, and fails it when an injected fault strikes the driver.
    fn count_transfer(&mut self) -> Result<(), ServiceError> {
        self.work.function_calls += 1;
        self.work.device_cycles = self.work.device_cycles.saturating_add(self.latency_cycles);
        self.work.interrupts += 1;
        let Some(plan) = &self.faults else { return Ok(()) };
        if let Some(fault) = plan.borrow_mut().on_request(Service::Block.name(), self.now) {
            strike_in_kernel(&mut self.work, fault, ServiceModule::BlockDriver);
        }
        if is_cut_short(&self.work) { Err(ServiceError::Io) } else { Ok(()) }
    }
}

impl BlockDevice for DirectBlockDevice {
    fn block_size(&self) -> usize {
        self.disk.borrow().block_size()
    }

    fn block_count(&self) -> u32 {
        self.disk.borrow().block_count()
    }

    async fn read_block(&mut self, block: u32) -> Result<Vec<u8>, ServiceError> {
        self.count_transfer()?;
        self.disk.borrow().read(block)
    }

    async fn write_block(&mut self, block: u32, data: &[u8]) -> Result<(), ServiceError> {
        self.count_transfer()?;
        self.disk.borrow_mut().write(block, data)
    }
}
