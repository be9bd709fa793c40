//! The pipe module of a monolithic kernel: [`Pipes`] called from the
//! syscall handler. A request that must wait tells the kernel to block the
//! caller on the logic's channel; one that changes a pipe tells it which
//! channels to wake.

use super::InKernelServices;
use crate::fault::is_cut_short;
use crate::pipe::Outcome;
use crate::service::Service;
use mksim_kernel::syscall::{ServiceModule, ServiceWork, WaitChannel};
use mksim_userland::pipe_protocol::{PipeReply, PipeRequest, PipeTry};
use mksim_userland::protocol::{ServiceError, encode};

fn channel(id: u32) -> WaitChannel {
    WaitChannel { module: ServiceModule::Pipe, id }
}

impl InKernelServices {
    /// Tries `request` for `client`; faults strike a request when it is first made, not when
    /// it is tried again after waiting (the pipe server, too, sees it come in once), so the
    /// same fault strikes the same request in both modes.
    pub(super) fn pipe_call(
        &self,
        client: u64,
        request: &PipeRequest,
        attempt: PipeTry,
        now: u64,
    ) -> (Result<PipeReply, WaitChannel>, ServiceWork) {
        // The syscall handler calls the pipe logic.
        let mut work = ServiceWork { function_calls: 2, resumed: attempt.resumed, ..ServiceWork::default() };
        let Some(pipes) = &self.pipes else {
            return (Ok(PipeReply::Error(ServiceError::NotFound)), ServiceWork { function_calls: 1, ..work });
        };
        if !attempt.again {
            self.strike(Service::Pipe, ServiceModule::Pipe, now, &mut work);
            if is_cut_short(&work) {
                return (Ok(PipeReply::Error(ServiceError::Io)), work);
            }
        }
        let handled = pipes.borrow_mut().handle(client, request);
        let request_bytes = encode(request).len() as u64;
        for (slot, id) in work.wake.iter_mut().zip(handled.woken) {
            *slot = Some(channel(id));
        }
        match handled.outcome {
            Outcome::Done(reply) => {
                work.bytes_copied = request_bytes + encode(&reply).len() as u64;
                (Ok(reply), work)
            }
            Outcome::Wait(id) => {
                work.bytes_copied = request_bytes;
                (Err(channel(id)), work)
            }
        }
    }
}
