//! Anonymous pipes: bounded byte buffers, the descriptors each client holds
//! on their ends, and who must wait for what.
//!
//! This is service logic only. The pipe server runs it behind an endpoint in
//! microkernel mode; monolithic mode calls it directly inside the kernel. Its
//! core, [`Pipes::handle`], never waits: an operation that cannot finish now
//! (a read of an empty pipe, a write that does not fit) answers
//! [`Outcome::Wait`] with the channel whose wakening may let it finish, and
//! changes nothing. Whoever called it keeps the caller waiting and tries the
//! same request again, from the start, when a later request wakes that
//! channel ([`Handled::woken`]); it may have to wait again.
//!
//! Semantics are POSIX's: a write of at most [`PIPE_BUF_BYTES`] goes in
//! whole or not at all (larger ones are refused here: the client stub sends
//! them in pieces); a read returns what is there, up to what was asked; end
//! of file once every write end is closed; "broken pipe" for a write once
//! every read end is closed. An end given under a name and not yet taken
//! counts as open, as a descriptor in flight in a Unix socket does.

use mksim_userland::pipe_protocol::{PIPE_BUF_BYTES, PIPE_READ_BYTES_MAX, PipeReply, PipeRequest};
use mksim_userland::protocol::ServiceError;
use std::collections::{BTreeMap, VecDeque};

mod fifo;

/// The channel of everyone waiting to take a descriptor given under a name.
pub const TAKERS_CHANNEL: u32 = 0;

/// Sizes and limits of the pipe service.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct PipeConfig {
    /// Bytes one pipe holds (at least [`PIPE_BUF_BYTES`], so every atomic write fits).
    pub buffer_bytes: usize,
    /// Open descriptors per client.
    pub descriptors_max: usize,
    /// Ends given and not yet taken.
    pub given_max: usize,
}

impl Default for PipeConfig {
    fn default() -> Self {
        PipeConfig { buffer_bytes: 4096, descriptors_max: 16, given_max: 16 }
    }
}

/// Which end of a pipe a descriptor holds.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum End {
    /// The end reads come from.
    Read,
    /// The end writes go into.
    Write,
}

/// A descriptor: an end of a pipe.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
struct Descriptor {
    pipe: u32,
    end: End,
}

/// One pipe: its bytes and how many references to each end are open.
#[derive(Clone, PartialEq, Eq, Debug, Default)]
pub struct Pipe {
    /// The bytes written and not yet read, oldest first.
    pub buffer: VecDeque<u8>,
    /// Open references to the read end.
    pub readers: u32,
    /// Open references to the write end.
    pub writers: u32,
}

/// What became of a request.
#[derive(Clone, PartialEq, Eq, Debug)]
pub enum Outcome {
    /// It finished with this reply.
    Done(PipeReply),
    /// It cannot finish now: try it again when this channel is woken.
    Wait(u32),
}

/// A request's outcome and the channels its change of state may let waiting requests finish on.
#[derive(Clone, PartialEq, Eq, Debug)]
pub struct Handled {
    /// What became of the request.
    pub outcome: Outcome,
    /// Channels to wake, in order (none when nothing changed).
    pub woken: Vec<u32>,
}

impl Handled {
    fn done(reply: PipeReply) -> Handled {
        Handled { outcome: Outcome::Done(reply), woken: Vec::new() }
    }

    fn failed(error: ServiceError) -> Handled {
        Handled::done(PipeReply::Error(error))
    }

    fn wait(channel: u32, nonblocking: bool) -> Handled {
        if nonblocking {
            Handled::failed(ServiceError::WouldBlock)
        } else {
            Handled { outcome: Outcome::Wait(channel), woken: Vec::new() }
        }
    }
}

/// The channel the readers of `pipe` wait on.
pub fn readers_channel(pipe: u32) -> u32 {
    pipe * 2 + 1
}

/// The channel the writers of `pipe` wait on.
pub fn writers_channel(pipe: u32) -> u32 {
    pipe * 2 + 2
}

/// The most pipes there can be at once, so that every channel number fits in a `u32`.
const PIPES_MAX: u32 = (u32::MAX - 2) / 2;

/// Every pipe of the service and every descriptor on them.
#[derive(Clone, Debug, Default)]
pub struct Pipes {
    config: PipeConfig,
    pipes: BTreeMap<u32, Pipe>,
    next_pipe: u32,
    /// Open descriptors by client (badge) and number.
    open: BTreeMap<(u64, u32), Descriptor>,
    /// Ends given under a name, waiting to be taken.
    given: BTreeMap<String, Descriptor>,
    /// The FIFOs with a pipe, and the opens that wait for their other end.
    fifos: fifo::Fifos,
}

impl Pipes {
    /// No pipes yet.
    pub fn new(config: PipeConfig) -> Pipes {
        Pipes { config, ..Pipes::default() }
    }

    /// The pipes there are, by number.
    pub fn pipes(&self) -> &BTreeMap<u32, Pipe> {
        &self.pipes
    }

    /// Carries out (or defers) one request for `client`.
    pub fn handle(&mut self, client: u64, request: &PipeRequest) -> Handled {
        let result = match request {
            PipeRequest::Create => self.create(client),
            PipeRequest::Read { fd, len, nonblocking } => self.read(client, *fd, *len as usize, *nonblocking),
            PipeRequest::Write { fd, data, nonblocking } => self.write(client, *fd, data, *nonblocking),
            PipeRequest::Close { fd } => self.close(client, *fd),
            PipeRequest::Give { fd, name } => self.give(client, *fd, name),
            PipeRequest::Take { name } => self.take(client, name),
            PipeRequest::OpenFifo { fifo, mode, nonblocking } => self.open_fifo(client, *fifo, *mode, *nonblocking),
        };
        result.unwrap_or_else(Handled::failed)
    }

    /// Closes every descriptor `client` holds, as exit does; returns the channels whose waiters
    /// may now see end of file or a broken pipe. Ends it gave under a name stay given.
    pub fn client_gone(&mut self, client: u64) -> Vec<u32> {
        let fds: Vec<u32> = self.open.range((client, 0)..=(client, u32::MAX)).map(|(&(_, fd), _)| fd).collect();
        let mut woken = Vec::new();
        for fd in fds {
            let Some(descriptor) = self.open.remove(&(client, fd)) else { continue };
            for channel in self.release(descriptor) {
                if !woken.contains(&channel) {
                    woken.push(channel);
                }
            }
        }
        woken
    }

    fn descriptor(&self, client: u64, fd: u32, end: End) -> Result<Descriptor, ServiceError> {
        self.open
            .get(&(client, fd))
            .copied()
            .filter(|descriptor| descriptor.end == end)
            .ok_or(ServiceError::BadDescriptor)
    }

    /// The lowest descriptor numbers `client` has free, `count` of them, from 3 (as if 0, 1
    /// and 2 were the standard streams).
    fn free_descriptors(&self, client: u64, count: usize) -> Result<Vec<u32>, ServiceError> {
        let held = self.open.range((client, 0)..=(client, u32::MAX)).count();
        if held + count > self.config.descriptors_max {
            return Err(ServiceError::TooManyOpen);
        }
        Ok((3..).filter(|fd| !self.open.contains_key(&(client, *fd))).take(count).collect())
    }

    fn create(&mut self, client: u64) -> Result<Handled, ServiceError> {
        let fds = self.free_descriptors(client, 2)?;
        if self.next_pipe >= PIPES_MAX {
            return Err(ServiceError::NoSpace);
        }
        let pipe = self.next_pipe;
        self.next_pipe += 1;
        self.pipes.insert(pipe, Pipe { buffer: VecDeque::new(), readers: 1, writers: 1 });
        self.open.insert((client, fds[0]), Descriptor { pipe, end: End::Read });
        self.open.insert((client, fds[1]), Descriptor { pipe, end: End::Write });
        Ok(Handled::done(PipeReply::Created { read: fds[0], write: fds[1] }))
    }

    fn read(&mut self, client: u64, fd: u32, len: usize, nonblocking: bool) -> Result<Handled, ServiceError> {
        let descriptor = self.descriptor(client, fd, End::Read)?;
        let pipe = self.pipes.get_mut(&descriptor.pipe).ok_or(ServiceError::BadDescriptor)?;
        let len = len.min(PIPE_READ_BYTES_MAX);
        if len == 0 {
            return Ok(Handled::done(PipeReply::Data(Vec::new())));
        }
        if pipe.buffer.is_empty() {
            if pipe.writers == 0 {
                return Ok(Handled::done(PipeReply::Data(Vec::new())));
            }
            return Ok(Handled::wait(readers_channel(descriptor.pipe), nonblocking));
        }
        let count = len.min(pipe.buffer.len());
        let data: Vec<u8> = pipe.buffer.drain(..count).collect();
        Ok(Handled { outcome: Outcome::Done(PipeReply::Data(data)), woken: vec![writers_channel(descriptor.pipe)] })
    }

    fn write(&mut self, client: u64, fd: u32, data: &[u8], nonblocking: bool) -> Result<Handled, ServiceError> {
        let descriptor = self.descriptor(client, fd, End::Write)?;
        if data.len() > PIPE_BUF_BYTES {
            return Err(ServiceError::TooLarge);
        }
        let capacity = self.config.buffer_bytes;
        let pipe = self.pipes.get_mut(&descriptor.pipe).ok_or(ServiceError::BadDescriptor)?;
        if pipe.readers == 0 {
            return Err(ServiceError::BrokenPipe);
        }
        if capacity.saturating_sub(pipe.buffer.len()) < data.len() {
            return Ok(Handled::wait(writers_channel(descriptor.pipe), nonblocking));
        }
        pipe.buffer.extend(data);
        let written = PipeReply::Written(data.len() as u32);
        Ok(Handled { outcome: Outcome::Done(written), woken: vec![readers_channel(descriptor.pipe)] })
    }

    fn close(&mut self, client: u64, fd: u32) -> Result<Handled, ServiceError> {
        let descriptor = self.open.remove(&(client, fd)).ok_or(ServiceError::BadDescriptor)?;
        Ok(Handled { outcome: Outcome::Done(PipeReply::Done), woken: self.release(descriptor) })
    }

    /// Drops one reference to an end; returns the channels whose waiters now see end of file
    /// (the last writer went) or a broken pipe (the last reader went).
    fn release(&mut self, descriptor: Descriptor) -> Vec<u32> {
        let Some(pipe) = self.pipes.get_mut(&descriptor.pipe) else { return Vec::new() };
        let (count, channel) = match descriptor.end {
            End::Read => (&mut pipe.readers, writers_channel(descriptor.pipe)),
            End::Write => (&mut pipe.writers, readers_channel(descriptor.pipe)),
        };
        *count = count.saturating_sub(1);
        let last = *count == 0;
        if pipe.readers == 0 && pipe.writers == 0 {
            self.pipes.remove(&descriptor.pipe);
        }
        if last { vec![channel] } else { Vec::new() }
    }

    fn give(&mut self, client: u64, fd: u32, name: &str) -> Result<Handled, ServiceError> {
        let descriptor = self.open.get(&(client, fd)).copied().ok_or(ServiceError::BadDescriptor)?;
        if self.given.contains_key(name) {
            return Err(ServiceError::AlreadyExists);
        }
        if self.given.len() >= self.config.given_max {
            return Err(ServiceError::TooManyOpen);
        }
        let pipe = self.pipes.get_mut(&descriptor.pipe).ok_or(ServiceError::BadDescriptor)?;
        match descriptor.end {
            End::Read => pipe.readers += 1,
            End::Write => pipe.writers += 1,
        }
        self.given.insert(name.to_owned(), descriptor);
        Ok(Handled { outcome: Outcome::Done(PipeReply::Done), woken: vec![TAKERS_CHANNEL] })
    }

    fn take(&mut self, client: u64, name: &str) -> Result<Handled, ServiceError> {
        if !self.given.contains_key(name) {
            return Ok(Handled::wait(TAKERS_CHANNEL, false));
        }
        let fd = self.free_descriptors(client, 1)?[0];
        let descriptor = self.given.remove(name).ok_or(ServiceError::NotFound)?;
        self.open.insert((client, fd), descriptor);
        Ok(Handled::done(PipeReply::Descriptor(fd)))
    }
}

#[path = "pipe_summary.rs"]
mod summary;

#[cfg(test)]
#[path = "pipe_tests.rs"]
mod tests;
