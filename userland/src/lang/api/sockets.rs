//! The socket functions of scripts: `listen`, `accept`, `connect`, `sock_send`, `sock_recv`,
//! `sock_close`. Sockets are integers (descriptors); errors are thrown as their words
//! (`"connection refused"`, `"would block"`).

use super::{Bridge, Result, small};
use crate::lang::request::Request;
use crate::socket_protocol::SockRequest;
use rhai::{Engine, INT, ImmutableString, NativeCallContext};
use std::sync::Arc;

pub(super) fn register(engine: &mut Engine, bridge: &Arc<Bridge>) {
    let sock = |b: &Bridge, request: SockRequest| b.unit(Request::Sock(request));
    function!(engine, bridge, "listen", |b, path: &str, backlog: INT| {
        b.number(Request::Sock(SockRequest::Listen { path: path.to_owned(), backlog: small(backlog, "backlog")? }))
    });
    function!(engine, bridge, "accept", |b, listener: INT| {
        b.number(Request::Sock(SockRequest::Accept { fd: small(listener, "socket")?, nonblocking: false }))
    });
    function!(engine, bridge, "accept", |b, listener: INT, nonblocking: bool| {
        b.number(Request::Sock(SockRequest::Accept { fd: small(listener, "socket")?, nonblocking }))
    });
    function!(engine, bridge, "connect", |b, path: &str| {
        b.number(Request::Sock(SockRequest::Connect { path: path.to_owned() }))
    });
    function!(engine, bridge, "sock_send", |b, socket: INT, text: &str| -> Result<()> {
        b.unit(Request::SockSendAll { fd: small(socket, "socket")?, data: text.as_bytes().to_vec() })
    });
    function!(engine, bridge, "sock_recv", |b, socket: INT, len: INT| -> Result<ImmutableString> {
        b.text(Request::Sock(SockRequest::Recv {
            fd: small(socket, "socket")?,
            len: small(len, "length")?,
            nonblocking: false,
        }))
    });
    function!(engine, bridge, "sock_recv", |b, socket: INT, len: INT, nonblocking: bool| -> Result<ImmutableString> {
        b.text(Request::Sock(SockRequest::Recv {
            fd: small(socket, "socket")?,
            len: small(len, "length")?,
            nonblocking,
        }))
    });
    function!(engine, bridge, "sock_close", |b, socket: INT| sock(
        &b,
        SockRequest::Close { fd: small(socket, "socket")? }
    ));
}
