//! The socket server's protocol: Unix-domain stream sockets, as requests and replies.
//!
//! A descriptor is a number the socket server gives each client (told apart by its badge),
//! for a listener or for one end of a connection. Views put requests into words such as
//! `sock.send(fd=3, 12 B)` and replies such as `sock.recv → 12 B`.

use crate::protocol::{Request, Service, ServiceError, decode};
use serde::{Deserialize, Serialize};
use std::fmt;

/// Socket server requests.
#[derive(Clone, PartialEq, Eq, Debug, Serialize, Deserialize)]
#[allow(missing_docs)]
pub enum SockRequest {
    /// Bind a listener to `path`, with room for `backlog` connections not yet accepted.
    Listen { path: String, backlog: u32 },
    /// Take the oldest pending connection of a listener (waits for one unless `nonblocking`).
    Accept { fd: u32, nonblocking: bool },
    /// Connect to the listener at `path`: connected at once while its backlog has room.
    Connect { path: String },
    /// Append bytes to the peer's buffer (waits for room unless `nonblocking`); the reply says
    /// how many went in.
    Send { fd: u32, data: Vec<u8>, nonblocking: bool },
    /// Take up to `len` bytes from this end's buffer (waits for some unless `nonblocking`);
    /// none once the peer closed and the buffer is drained (end of file).
    Recv { fd: u32, len: u32, nonblocking: bool },
    /// Close a descriptor.
    Close { fd: u32 },
}

impl Request for SockRequest {
    const SERVICE: Service = Service::Socket;
    fn operation(&self) -> u32 {
        match self {
            SockRequest::Listen { .. } => 1,
            SockRequest::Accept { .. } => 2,
            SockRequest::Connect { .. } => 3,
            SockRequest::Send { .. } => 4,
            SockRequest::Recv { .. } => 5,
            SockRequest::Close { .. } => 6,
        }
    }
}

impl SockRequest {
    /// The descriptor the request uses, if any.
    pub fn descriptor(&self) -> Option<u32> {
        match self {
            SockRequest::Accept { fd, .. }
            | SockRequest::Send { fd, .. }
            | SockRequest::Recv { fd, .. }
            | SockRequest::Close { fd } => Some(*fd),
            SockRequest::Listen { .. } | SockRequest::Connect { .. } => None,
        }
    }
}

/// The name of socket operation number `operation` (`sock.send`), for per-operation metrics.
pub fn operation_name(operation: u32) -> Option<&'static str> {
    Some(match operation {
        1 => "sock.listen",
        2 => "sock.accept",
        3 => "sock.connect",
        4 => "sock.send",
        5 => "sock.recv",
        6 => "sock.close",
        _ => return None,
    })
}

impl fmt::Display for SockRequest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let nonblocking = |on: bool| if on { ", nonblocking" } else { "" };
        match self {
            SockRequest::Listen { path, backlog } => write!(f, "sock.listen({path:?}, backlog={backlog})"),
            SockRequest::Accept { fd, nonblocking: on } => write!(f, "sock.accept(fd={fd}{})", nonblocking(*on)),
            SockRequest::Connect { path } => write!(f, "sock.connect({path:?})"),
            SockRequest::Send { fd, data, nonblocking: on } => {
                write!(f, "sock.send(fd={fd}, {} B{})", data.len(), nonblocking(*on))
            }
            SockRequest::Recv { fd, len, nonblocking: on } => {
                write!(f, "sock.recv(fd={fd}, {len}{})", nonblocking(*on))
            }
            SockRequest::Close { fd } => write!(f, "sock.close(fd={fd})"),
        }
    }
}

/// Socket server replies.
#[derive(Clone, PartialEq, Eq, Debug, Serialize, Deserialize)]
pub enum SockReply {
    /// The operation succeeded with nothing to return.
    Done,
    /// A new descriptor (listen, accept, connect).
    Descriptor(u32),
    /// Bytes sent.
    Sent(u32),
    /// Bytes received; none at end of file.
    Data(Vec<u8>),
    /// The operation failed.
    Error(ServiceError),
}

/// A reply in words (`12 B`, `fd 3`, `end of file`).
pub fn describe_reply(data: &[u8]) -> Option<String> {
    Some(match decode::<SockReply>(data)? {
        SockReply::Done => "ok".to_owned(),
        SockReply::Descriptor(fd) => format!("fd {fd}"),
        SockReply::Sent(count) => format!("sent {count} B"),
        SockReply::Data(bytes) if bytes.is_empty() => "end of file".to_owned(),
        SockReply::Data(bytes) => format!("{} B", bytes.len()),
        SockReply::Error(error) => format!("error: {error}"),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::protocol::{describe, describe_operation, encode, reply_label};

    #[test]
    fn socket_requests_and_replies_read_back_as_calls() {
        let request = SockRequest::Send { fd: 3, data: b"hello, world".to_vec(), nonblocking: false };
        assert_eq!(describe(request.label(), &encode(&request)).as_deref(), Some("sock.send(fd=3, 12 B)"));
        let request = SockRequest::Connect { path: "/tmp/echo".into() };
        assert_eq!(describe(request.label(), &encode(&request)).as_deref(), Some("sock.connect(\"/tmp/echo\")"));
        let request = SockRequest::Recv { fd: 3, len: 64, nonblocking: false };
        assert_eq!(describe(request.label(), &encode(&request)).as_deref(), Some("sock.recv(fd=3, 64)"));
        let reply = SockReply::Data(vec![0; 12]);
        assert_eq!(describe(reply_label(request.label()), &encode(&reply)).as_deref(), Some("sock.recv → 12 B"));
        let reply = SockReply::Data(Vec::new());
        let eof = describe(reply_label(request.label()), &encode(&reply));
        assert_eq!(eof.as_deref(), Some("sock.recv → end of file"));
        assert_eq!(describe_operation(request.label()), Some("sock.recv"));
        assert_eq!(describe_operation(SockRequest::Close { fd: 1 }.label()), Some("sock.close"));
        assert_eq!(describe_operation((Service::Socket as u32) << 8 | 99), None);
    }
}
