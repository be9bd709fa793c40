//! The pipe stubs: pipe operations in both modes.
//!
//! In microkernel mode each request is a call to the pipe server, which
//! answers a request that must wait only when it can finish. In monolithic
//! mode the stub runs the pipe logic inside the kernel and, when it must
//! wait, makes a syscall that blocks the caller on the logic's channel; once
//! woken it tries the same request again (a continuation, not a new syscall).
//! A write longer than [`PIPE_BUF_BYTES`] goes as pieces of that size, each
//! atomic, inside one operation.

use super::{ClientError, Mode, Services};
use crate::pipe_protocol::{PIPE_BUF_BYTES, PipeReply, PipeRequest, PipeTry};
use crate::protocol::{Request, ServiceError, decode, encode};

impl Services {
    /// Sends one pipe request and returns the reply; a reply carrying an error becomes `Err`.
    /// Not sent again when the pipe server died: its pipes died with it.
    ///
    /// # Errors
    /// The pipe server's error ("broken pipe", "would block", "bad file descriptor", ...), or
    /// the kernel's (peer dead when the pipe server died, also while waiting).
    pub async fn pipe(&mut self, request: PipeRequest) -> Result<PipeReply, ClientError> {
        if !self.is_monolithic() {
            self.connect("pipe").await?;
        }
        self.marked(request.label(), self.pipe_request(&request, false)).await
    }

    /// Writes all of `data` to the pipe end `fd`, in atomic pieces of at most
    /// [`PIPE_BUF_BYTES`], as one operation; returns the bytes written. A nonblocking write
    /// stops at the first piece that does not fit: it fails with "would block" when nothing
    /// went in, and otherwise returns what did.
    ///
    /// # Errors
    /// As [`Services::pipe`]; "broken pipe" when no read end is open (a piece already written
    /// stays written: the count is then returned instead).
    pub async fn pipe_write(&mut self, fd: u32, data: &[u8], nonblocking: bool) -> Result<u32, ClientError> {
        if !self.is_monolithic() {
            self.connect("pipe").await?;
        }
        let first = PipeRequest::Write { fd, data: data[..data.len().min(PIPE_BUF_BYTES)].to_vec(), nonblocking };
        self.marked(first.label(), async {
            let mut written = 0u32;
            for (index, piece) in data.chunks(PIPE_BUF_BYTES).enumerate() {
                let request = PipeRequest::Write { fd, data: piece.to_vec(), nonblocking };
                match self.pipe_request(&request, index > 0).await {
                    Ok(PipeReply::Written(count)) => written += count,
                    Ok(_) => return Err(ServiceError::BadRequest.into()),
                    Err(error) if written > 0 && error != ClientError::Sys(mksim_kernel::SysError::PeerDead) => {
                        return Ok(written);
                    }
                    Err(error) => return Err(error),
                }
            }
            if data.is_empty() {
                self.pipe_request(&first, false).await?;
            }
            Ok(written)
        })
        .await
    }

    /// One request, in either mode, until it finishes; `continued` when it goes on with an
    /// operation the caller already began (a later piece of a long write).
    async fn pipe_request(&self, request: &PipeRequest, continued: bool) -> Result<PipeReply, ClientError> {
        let reply = match &self.mode {
            Mode::Monolithic(services) => {
                let mut attempt = PipeTry { resumed: continued, again: false };
                loop {
                    let (outcome, work) = services.pipe(self.client, request, attempt, self.sys.now());
                    self.record_summary(services.as_ref(), mksim_kernel::fault::ServiceModule::Pipe);
                    match outcome {
                        Ok(reply) => {
                            self.sys
                                .kernel_service_answered(request.label(), encode(request), work, encode(&reply))
                                .await?;
                            break reply;
                        }
                        Err(channel) => {
                            let work = mksim_kernel::syscall::ServiceWork { wait: Some(channel), ..work };
                            self.sys.kernel_service(request.label(), encode(request), work).await?;
                            attempt = PipeTry { resumed: true, again: true };
                        }
                    }
                }
            }
            Mode::Microkernel => {
                let data = self.call_service("pipe", request, false).await?;
                decode::<PipeReply>(&data).ok_or(ClientError::Service(ServiceError::BadRequest))?
            }
        };
        match reply {
            PipeReply::Error(error) => Err(error.into()),
            reply => Ok(reply),
        }
    }
}
