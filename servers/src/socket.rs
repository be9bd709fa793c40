//! Unix-domain stream sockets: listeners bound to paths, each with a backlog of connections
//! not yet accepted, and connections as two byte streams, one into each end.
//!
//! This is service logic only. The socket server runs it behind an endpoint in microkernel
//! mode; monolithic mode calls it inside the kernel. Its core, [`Sockets::handle`], never
//! waits: an operation that cannot go on yet (an accept with nothing pending, a receive from
//! an empty stream, a send into a full one) answers "wait on this channel", and the caller
//! tries the whole operation again once the channel is woken. Every answer also names the
//! channels its change of state may have unblocked.
//!
//! Channels: a listener `l` has `4l` (its accepters) and `4l + 1` (the connectors whose
//! connection it has not accepted yet); end `e` of connection `c` has `4c + 2 + e` (the one
//! process that holds it, waiting to receive or to send). Listeners and connections take their
//! numbers from one counter, so no two channels meet. Waking a channel too often is harmless:
//! its waiters try again and wait again.

use mksim_kernel::syscall::{ServiceModule, WaitChannel};
use mksim_userland::protocol::ServiceError;
use mksim_userland::socket_protocol::{SockReply, SockRequest};
use std::collections::{BTreeMap, VecDeque};

/// The most connections a listener may hold pending, whatever its `backlog` asks.
pub const BACKLOG_MAX: u32 = 64;

/// Sizes and limits of the socket service.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct SocketConfig {
    /// Bytes buffered in each direction of a connection.
    pub buffer_bytes: usize,
    /// Open descriptors per client.
    pub descriptors_max: usize,
    /// Bytes one send or receive may move (it must fit in one message).
    pub transfer_bytes_max: usize,
}

impl Default for SocketConfig {
    fn default() -> Self {
        SocketConfig { buffer_bytes: 4096, descriptors_max: 16, transfer_bytes_max: 512 }
    }
}

/// What became of a request.
#[derive(Clone, PartialEq, Eq, Debug)]
pub enum Outcome {
    /// It is done: answer with this.
    Done(SockReply),
    /// It cannot go on yet: try it again, from the start, once this channel is woken.
    Wait(WaitChannel),
}

/// A request's outcome and the channels whose waiters its change of state may let go on.
#[derive(Clone, PartialEq, Eq, Debug)]
pub struct Handled {
    /// Done or wait.
    pub outcome: Outcome,
    /// Channels to wake, in order.
    pub wake: [Option<WaitChannel>; 2],
}

/// What a descriptor stands for.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Handle {
    Listener(u32),
    /// End 0 (the connector's) or 1 (the accepter's) of a connection.
    Stream {
        connection: u32,
        end: usize,
    },
}

#[derive(Clone, Debug)]
struct Listener {
    path: String,
    backlog: u32,
    pending: VecDeque<u32>,
}

#[derive(Clone, Debug, Default)]
struct Connection {
    /// The bytes waiting to be received at each end.
    inbound: [VecDeque<u8>; 2],
    /// Each end closed by its holder.
    closed: [bool; 2],
    /// The listener that holds it not yet accepted.
    pending_at: Option<u32>,
    /// Its listener closed before accepting it.
    reset: bool,
}

/// How one connection looks from outside, for views and tests.
#[derive(Clone, PartialEq, Eq, Debug)]
pub struct ConnectionState {
    /// Bytes buffered toward each end.
    pub buffered: [usize; 2],
    /// Each end closed.
    pub closed: [bool; 2],
    /// Accepted by its listener.
    pub accepted: bool,
    /// Reset (its listener closed first).
    pub reset: bool,
}

/// Every socket of the system.
#[derive(Clone, Debug, Default)]
pub struct Sockets {
    config: SocketConfig,
    listeners: BTreeMap<u32, Listener>,
    bound: BTreeMap<String, u32>,
    connections: BTreeMap<u32, Connection>,
    descriptors: BTreeMap<(u64, u32), Handle>,
    next_object: u32,
}

/// The first descriptor number a client gets (0 to 2 are the standard streams').
const FIRST_DESCRIPTOR: u32 = 3;

fn channel(id: u32) -> WaitChannel {
    WaitChannel { module: ServiceModule::Socket, id }
}

fn done(reply: SockReply) -> Handled {
    Handled { outcome: Outcome::Done(reply), wake: [None, None] }
}

fn failed(error: ServiceError) -> Handled {
    done(SockReply::Error(error))
}

impl Sockets {
    /// No sockets yet.
    pub fn new(config: SocketConfig) -> Sockets {
        Sockets { config, ..Sockets::default() }
    }

    /// The settings.
    pub fn config(&self) -> SocketConfig {
        self.config
    }

    /// Every connection's state, by number.
    pub fn connections(&self) -> Vec<ConnectionState> {
        let state = |connection: &Connection| ConnectionState {
            buffered: [connection.inbound[0].len(), connection.inbound[1].len()],
            closed: connection.closed,
            accepted: connection.pending_at.is_none(),
            reset: connection.reset,
        };
        self.connections.values().map(state).collect()
    }

    /// Carries out `request` for `client` as far as it can go now.
    pub fn handle(&mut self, client: u64, request: SockRequest) -> Handled {
        match request {
            SockRequest::Listen { path, backlog } => self.listen(client, path, backlog),
            SockRequest::Connect { path } => self.connect(client, &path),
            SockRequest::Accept { fd, nonblocking } => self.accept(client, fd, nonblocking),
            SockRequest::Send { fd, data, nonblocking } => self.send(client, fd, &data, nonblocking),
            SockRequest::Recv { fd, len, nonblocking } => self.receive(client, fd, len, nonblocking),
            SockRequest::Close { fd } => self.close(client, fd),
        }
    }

    fn new_object(&mut self) -> u32 {
        self.next_object += 1;
        self.next_object
    }

    /// A free descriptor number for `client`: the lowest, as Unix gives.
    fn free_descriptor(&self, client: u64) -> Result<u32, ServiceError> {
        let used = self.descriptors.range((client, 0)..=(client, u32::MAX)).count();
        if used >= self.config.descriptors_max {
            return Err(ServiceError::TooManyOpen);
        }
        let taken = |fd: u32| self.descriptors.contains_key(&(client, fd));
        Ok((FIRST_DESCRIPTOR..).find(|&fd| !taken(fd)).expect("fewer descriptors than numbers"))
    }

    fn listen(&mut self, client: u64, path: String, backlog: u32) -> Handled {
        if !path.starts_with('/') || path.split('/').skip(1).any(str::is_empty) {
            return failed(ServiceError::InvalidPath);
        }
        if self.bound.contains_key(&path) {
            return failed(ServiceError::AddressInUse);
        }
        let fd = match self.free_descriptor(client) {
            Ok(fd) => fd,
            Err(error) => return failed(error),
        };
        let id = self.new_object();
        let backlog = backlog.clamp(1, BACKLOG_MAX);
        self.bound.insert(path.clone(), id);
        self.listeners.insert(id, Listener { path, backlog, pending: VecDeque::new() });
        self.descriptors.insert((client, fd), Handle::Listener(id));
        done(SockReply::Descriptor(fd))
    }

    fn connect(&mut self, client: u64, path: &str) -> Handled {
        let Some(&listener_id) = self.bound.get(path) else { return failed(ServiceError::ConnectionRefused) };
        let listener = &self.listeners[&listener_id];
        if listener.pending.len() >= listener.backlog as usize {
            return failed(ServiceError::ConnectionRefused);
        }
        let fd = match self.free_descriptor(client) {
            Ok(fd) => fd,
            Err(error) => return failed(error),
        };
        let id = self.new_object();
        let connection = Connection { pending_at: Some(listener_id), ..Connection::default() };
        self.connections.insert(id, connection);
        self.listeners.get_mut(&listener_id).expect("bound listeners exist").pending.push_back(id);
        self.descriptors.insert((client, fd), Handle::Stream { connection: id, end: 0 });
        Handled { outcome: Outcome::Done(SockReply::Descriptor(fd)), wake: [Some(channel(listener_id * 4)), None] }
    }

    fn accept(&mut self, client: u64, fd: u32, nonblocking: bool) -> Handled {
        let listener_id = match self.descriptors.get(&(client, fd)) {
            Some(Handle::Listener(id)) => *id,
            Some(Handle::Stream { .. }) => return failed(ServiceError::BadRequest),
            None => return failed(ServiceError::BadDescriptor),
        };
        if self.listeners[&listener_id].pending.is_empty() {
            return match nonblocking {
                true => failed(ServiceError::WouldBlock),
                false => Handled { outcome: Outcome::Wait(channel(listener_id * 4)), wake: [None, None] },
            };
        }
        let accepted = match self.free_descriptor(client) {
            Ok(fd) => fd,
            Err(error) => return failed(error),
        };
        let listener = self.listeners.get_mut(&listener_id).expect("a descriptor's listener exists");
        let id = listener.pending.pop_front().expect("checked not empty");
        self.connections.get_mut(&id).expect("pending connections exist").pending_at = None;
        self.descriptors.insert((client, accepted), Handle::Stream { connection: id, end: 1 });
        // The connector may wait among its listener's pending ones: it waits on its own end now.
        Handled {
            outcome: Outcome::Done(SockReply::Descriptor(accepted)),
            wake: [Some(channel(listener_id * 4 + 1)), None],
        }
    }

    /// The channel the holder of `end` of `connection` waits on.
    fn end_channel(&self, connection: u32, end: usize) -> WaitChannel {
        match self.connections.get(&connection).and_then(|state| state.pending_at) {
            Some(listener) if end == 0 => channel(listener * 4 + 1),
            _ => channel(connection * 4 + 2 + end as u32),
        }
    }

    fn stream(&self, client: u64, fd: u32) -> Result<(u32, usize), ServiceError> {
        match self.descriptors.get(&(client, fd)) {
            Some(Handle::Stream { connection, end }) => Ok((*connection, *end)),
            Some(Handle::Listener(_)) => Err(ServiceError::NotConnected),
            None => Err(ServiceError::BadDescriptor),
        }
    }

    fn send(&mut self, client: u64, fd: u32, data: &[u8], nonblocking: bool) -> Handled {
        let (id, end) = match self.stream(client, fd) {
            Ok(stream) => stream,
            Err(error) => return failed(error),
        };
        if data.len() > self.config.transfer_bytes_max {
            return failed(ServiceError::TooLarge);
        }
        let wait = self.end_channel(id, end);
        let peer_channel = self.end_channel(id, 1 - end);
        let buffer_bytes = self.config.buffer_bytes;
        let connection = self.connections.get_mut(&id).expect("a descriptor's connection exists");
        if connection.reset {
            return failed(ServiceError::ConnectionReset);
        }
        if connection.closed[1 - end] {
            return failed(ServiceError::BrokenPipe);
        }
        let inbound = &mut connection.inbound[1 - end];
        let room = buffer_bytes.saturating_sub(inbound.len());
        if room == 0 && !data.is_empty() {
            return match nonblocking {
                true => failed(ServiceError::WouldBlock),
                false => Handled { outcome: Outcome::Wait(wait), wake: [None, None] },
            };
        }
        let count = room.min(data.len());
        inbound.extend(&data[..count]);
        Handled { outcome: Outcome::Done(SockReply::Sent(count as u32)), wake: [Some(peer_channel), None] }
    }

    fn receive(&mut self, client: u64, fd: u32, len: u32, nonblocking: bool) -> Handled {
        let (id, end) = match self.stream(client, fd) {
            Ok(stream) => stream,
            Err(error) => return failed(error),
        };
        let wait = self.end_channel(id, end);
        let peer_channel = self.end_channel(id, 1 - end);
        let limit = (len as usize).min(self.config.transfer_bytes_max);
        let connection = self.connections.get_mut(&id).expect("a descriptor's connection exists");
        let inbound = &mut connection.inbound[end];
        if !inbound.is_empty() {
            let count = limit.min(inbound.len());
            let data: Vec<u8> = inbound.drain(..count).collect();
            // The peer may wait for room in this end's buffer.
            return Handled { outcome: Outcome::Done(SockReply::Data(data)), wake: [Some(peer_channel), None] };
        }
        if connection.reset {
            return failed(ServiceError::ConnectionReset);
        }
        if connection.closed[1 - end] || limit == 0 {
            return done(SockReply::Data(Vec::new()));
        }
        match nonblocking {
            true => failed(ServiceError::WouldBlock),
            false => Handled { outcome: Outcome::Wait(wait), wake: [None, None] },
        }
    }

    fn close(&mut self, client: u64, fd: u32) -> Handled {
        let Some(handle) = self.descriptors.remove(&(client, fd)) else {
            return failed(ServiceError::BadDescriptor);
        };
        match handle {
            Handle::Listener(id) => {
                let listener = self.listeners.remove(&id).expect("a descriptor's listener exists");
                self.bound.remove(&listener.path);
                for pending in listener.pending {
                    let connection = self.connections.get_mut(&pending).expect("pending connections exist");
                    connection.pending_at = None;
                    connection.reset = true;
                    // The accepting end is nobody's: it closes with the listener.
                    connection.closed[1] = true;
                    self.forget_if_closed(pending);
                }
                // Accepters find their descriptor gone; connectors find their connection reset.
                Handled {
                    outcome: Outcome::Done(SockReply::Done),
                    wake: [Some(channel(id * 4)), Some(channel(id * 4 + 1))],
                }
            }
            Handle::Stream { connection: id, end } => {
                let peer_channel = self.end_channel(id, 1 - end);
                let connection = self.connections.get_mut(&id).expect("a descriptor's connection exists");
                connection.closed[end] = true;
                self.forget_if_closed(id);
                Handled { outcome: Outcome::Done(SockReply::Done), wake: [Some(peer_channel), None] }
            }
        }
    }

    /// Closes every descriptor `client` holds, as exit does: its peers read end of file, the
    /// connections waiting on its listeners are reset. Returns the channels to wake.
    pub fn client_gone(&mut self, client: u64) -> Vec<WaitChannel> {
        let fds: Vec<u32> = self.descriptors.range((client, 0)..=(client, u32::MAX)).map(|(&(_, fd), _)| fd).collect();
        let mut woken = Vec::new();
        for fd in fds {
            for channel in self.close(client, fd).wake.into_iter().flatten() {
                if !woken.contains(&channel) {
                    woken.push(channel);
                }
            }
        }
        woken
    }

    /// Drops a connection both ends closed and no listener holds.
    fn forget_if_closed(&mut self, id: u32) {
        if self.connections.get(&id).is_some_and(|state| state.closed == [true, true] && state.pending_at.is_none()) {
            self.connections.remove(&id);
        }
    }
}

#[path = "socket_summary.rs"]
mod summary;

#[cfg(test)]
mod tests;
