//! The socket operations of scripted programs: `Listen`, `Accept`, `Connect`, `SockSend`,
//! `SockRecv`, and `Close` of a name that holds a socket.

use super::{Script, Stop, check_text, not_named};
use crate::script::Op;
use crate::socket_protocol::{SockReply, SockRequest};

/// The most bytes one `sock.send` request carries; longer texts go in several.
const SEND_PIECE_BYTES: usize = 512;

impl Script {
    fn socket(&self, name: &str) -> Result<u32, Stop> {
        self.sockets.get(name).copied().ok_or_else(|| Stop::Failed(not_named(name, "a socket")))
    }

    pub(super) async fn socket_op(&mut self, op: &Op) -> Result<(), Stop> {
        let request = match op {
            Op::Listen { path, backlog, .. } => SockRequest::Listen { path: path.clone(), backlog: *backlog },
            Op::Accept { listener, nonblocking, .. } => {
                SockRequest::Accept { fd: self.socket(listener)?, nonblocking: *nonblocking }
            }
            Op::Connect { path, .. } => SockRequest::Connect { path: path.clone() },
            Op::SockSend { sock, text, nonblocking: false } => {
                let fd = self.socket(sock)?;
                self.services.sock_send_all(fd, text.as_bytes(), SEND_PIECE_BYTES).await?;
                return Ok(());
            }
            Op::SockSend { sock, text, nonblocking: true } => {
                SockRequest::Send { fd: self.socket(sock)?, data: text.as_bytes().to_vec(), nonblocking: true }
            }
            Op::SockRecv { sock, len, nonblocking, .. } => {
                SockRequest::Recv { fd: self.socket(sock)?, len: *len, nonblocking: *nonblocking }
            }
            Op::Close(sock) => SockRequest::Close { fd: self.socket(sock)? },
            Op::SockEcho(sock) => return self.echo(self.socket(sock)?).await,
            _ => unreachable!("not a socket op"),
        };
        let reply = self.services.sock(request).await?;
        match (op, reply) {
            (
                Op::Listen { name_as, .. } | Op::Accept { name_as, .. } | Op::Connect { name_as, .. },
                SockReply::Descriptor(fd),
            ) => {
                self.sockets.insert(name_as.clone(), fd);
            }
            (Op::SockRecv { expect, .. }, SockReply::Data(data)) => check_text("sock recv", &data, expect)?,
            (Op::SockSend { text, .. }, SockReply::Sent(count)) if count as usize != text.len() => {
                return Err(Stop::Failed(format!("sock send: sent {count} of {} bytes", text.len())));
            }
            (Op::Close(sock), _) => {
                self.sockets.remove(sock);
            }
            _ => {}
        }
        Ok(())
    }

    /// Receives and sends back until end of file. Each round is a step, so an echo that never
    /// ends still stops at the run's step limit.
    async fn echo(&mut self, fd: u32) -> Result<(), Stop> {
        loop {
            let request = SockRequest::Recv { fd, len: SEND_PIECE_BYTES as u32, nonblocking: false };
            let SockReply::Data(data) = self.services.sock(request).await? else {
                return Err(Stop::Failed("sock echo: the receive returned no data".into()));
            };
            if data.is_empty() {
                return Ok(());
            }
            self.services.sock_send_all(fd, &data, SEND_PIECE_BYTES).await?;
        }
    }
}
