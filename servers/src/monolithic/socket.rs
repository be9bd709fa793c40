//! The socket service inside the monolithic kernel: the same [`crate::socket::Sockets`] the
//! socket server runs, called from the syscall handler. A call that must wait leaves its caller
//! waiting in the kernel on the channel the logic names; the stub tries it again once woken.

use super::InKernelServices;
use crate::fault::is_cut_short;
use crate::service::Service;
use crate::socket::Outcome;
use mksim_kernel::syscall::{ServiceModule, ServiceWork};
use mksim_userland::protocol::{ServiceError, encode};
use mksim_userland::socket_protocol::{SockReply, SockRequest};

impl InKernelServices {
    /// Runs `request` for `client` at `now`: its reply and the work, or no reply and work that
    /// leaves the caller waiting. A resumed call is not a new request for the fault plan: the
    /// socket server retries a waiting call without receiving it again.
    pub(super) fn socket_call(
        &self,
        client: u64,
        request: &SockRequest,
        resumed: bool,
        now: u64,
    ) -> (Option<SockReply>, ServiceWork) {
        let request_bytes = encode(request).len() as u64;
        // The syscall handler calls the socket module.
        let mut work = ServiceWork { function_calls: 2, bytes_copied: request_bytes, ..ServiceWork::default() };
        let Some(sockets) = &self.sockets else {
            return (Some(SockReply::Error(ServiceError::NotFound)), work);
        };
        if !resumed {
            self.strike(Service::Socket, ServiceModule::Socket, now, &mut work);
        }
        if is_cut_short(&work) {
            return (Some(SockReply::Error(ServiceError::Io)), work);
        }
        let handled = sockets.borrow_mut().handle(client, request.clone());
        work.wake = handled.wake;
        match handled.outcome {
            Outcome::Done(reply) => {
                work.bytes_copied += encode(&reply).len() as u64;
                (Some(reply), work)
            }
            Outcome::Wait(channel) => (None, ServiceWork { wait: Some(channel), ..work }),
        }
    }
}
