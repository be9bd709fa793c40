//! Client stubs of the socket service, in both modes.
//!
//! In microkernel mode a call that must wait (an accept with nothing pending, a receive from
//! an empty stream) is a call the socket server answers later. In monolithic mode the stub
//! runs the socket module inside the kernel; when it says wait, the caller waits in the
//! kernel on that channel and then tries the operation again, as the same syscall.
//!
//! Descriptors opened at a socket server that has since restarted are gone with it: using
//! one fails with "connection reset" without a message, and closing one just forgets it.

use super::{ClientError, Mode, Services};
use crate::protocol::{Request, ServiceError, decode, encode};
use crate::socket_protocol::{SockReply, SockRequest};

/// The service's name at the name server.
const SOCK: &str = "sock";

impl Services {
    /// Sends one socket request and returns the reply; a reply carrying an error becomes `Err`.
    /// A request the server was handling when it died is not sent again: the client sees
    /// "peer dead".
    ///
    /// # Errors
    /// The socket server's error, or the kernel's (peer dead when the socket server died).
    pub async fn sock(&mut self, request: SockRequest) -> Result<SockReply, ClientError> {
        let label = request.label();
        let reply = if let Mode::Monolithic(services) = &self.mode {
            let services = std::rc::Rc::clone(services);
            self.marked(label, async {
                let mut resumed = false;
                loop {
                    let (reply, mut work) = services.socket(self.client, &request, resumed, self.sys.now());
                    self.record_summary(services.as_ref(), mksim_kernel::fault::ServiceModule::Socket);
                    work.resumed = resumed;
                    match &reply {
                        Some(answer) => {
                            self.sys.kernel_service_answered(label, encode(&request), work, encode(answer)).await?
                        }
                        None => self.sys.kernel_service(label, encode(&request), work).await?,
                    }
                    match reply {
                        Some(reply) => return Ok(reply),
                        None => resumed = true,
                    }
                }
            })
            .await?
        } else {
            self.connect(SOCK).await?;
            self.marked(label, async {
                if self.is_stale_socket(&request) {
                    return match request {
                        SockRequest::Close { fd } => {
                            self.connections.borrow_mut().sockets.remove(&fd);
                            Ok(SockReply::Done)
                        }
                        _ => Err(ServiceError::ConnectionReset.into()),
                    };
                }
                let incarnation = self.connections.borrow().incarnation(SOCK);
                let data = self.call_service(SOCK, &request, false).await?;
                let reply = decode::<SockReply>(&data).ok_or(ClientError::Service(ServiceError::BadRequest))?;
                self.track_socket(&request, &reply, incarnation);
                Ok(reply)
            })
            .await?
        };
        match reply {
            SockReply::Error(error) => Err(error.into()),
            reply => Ok(reply),
        }
    }

    /// Sends all of `data` on socket `fd`, a request at a time (each at most `piece_bytes`, and
    /// at most what the peer's buffer has room for), waiting for room as needed.
    ///
    /// # Errors
    /// As [`Services::sock`]; the bytes sent before the error stay sent.
    pub async fn sock_send_all(&mut self, fd: u32, data: &[u8], piece_bytes: usize) -> Result<(), ClientError> {
        let mut rest = data;
        loop {
            let piece = &rest[..rest.len().min(piece_bytes.max(1))];
            let request = SockRequest::Send { fd, data: piece.to_vec(), nonblocking: false };
            let sent = match self.sock(request).await? {
                SockReply::Sent(count) => count as usize,
                _ => return Err(ServiceError::BadRequest.into()),
            };
            rest = &rest[sent.min(rest.len())..];
            if rest.is_empty() {
                return Ok(());
            }
        }
    }

    fn is_stale_socket(&self, request: &SockRequest) -> bool {
        let connections = self.connections.borrow();
        let current = connections.incarnation(SOCK);
        request.descriptor().and_then(|fd| connections.sockets.get(&fd)).is_some_and(|&opened| opened != current)
    }

    /// Remembers which socket server handed out a descriptor, and forgets a closed one.
    fn track_socket(&self, request: &SockRequest, reply: &SockReply, incarnation: u32) {
        let mut connections = self.connections.borrow_mut();
        match (request, reply) {
            (_, SockReply::Descriptor(fd)) => {
                connections.sockets.insert(*fd, incarnation);
            }
            (SockRequest::Close { fd }, SockReply::Done) => {
                connections.sockets.remove(fd);
            }
            _ => {}
        }
    }
}
