//! The block device server (a ramdisk driver whose transfers complete by
//! interrupt), and the two ways the file system reaches a block device: by
//! messages to that server, or by direct calls inside the kernel.

use crate::block::{BlockDevice, Ramdisk};
use crate::serve::{Answer, serve};
use mksim_kernel::syscall::ServiceWork;
use mksim_kernel::{Incoming, Message, ProgramResult, Slot, Sys, SysError};
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
) -> ProgramResult {
    serve(&sys, port, async |incoming| {
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
    /// The file server's syscall handle.
    pub sys: Sys,
    /// Send capability to the block server.
    pub port: Slot,
    /// Bytes per block.
    pub block_size: usize,
    /// Blocks on the device.
    pub block_count: u32,
}

impl IpcBlockDevice {
    async fn transfer(&mut self, request: BlockRequest) -> Result<SimpleReply, ServiceError> {
        let message = Message::new(request.label(), encode(&request));
        let answer = self.sys.call(self.port, message).await.map_err(|_| ServiceError::Io)?;
        decode::<SimpleReply>(&answer.data).ok_or(ServiceError::Io)
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
}

impl DirectBlockDevice {
    fn count_transfer(&mut self) {
        self.work.function_calls += 1;
        self.work.device_cycles += self.latency_cycles;
        self.work.interrupts += 1;
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
        self.count_transfer();
        self.disk.borrow().read(block)
    }

    async fn write_block(&mut self, block: u32, data: &[u8]) -> Result<(), ServiceError> {
        self.count_transfer();
        self.disk.borrow_mut().write(block, data)
    }
}
