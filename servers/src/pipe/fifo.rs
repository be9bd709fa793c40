//! FIFOs (named pipes) at the pipe server: opening one by its file-system
//! node number, with POSIX's rules for who waits.
//!
//! The file server keeps a FIFO's name and node; the pipe server keeps its
//! pipe, made by the first open and dropped, with whatever bytes it held,
//! once every end is closed, as a pipe is. A later open makes a new one. The
//! descriptors an open gives are pipe descriptors like those of
//! [`PipeRequest::Create`](mksim_userland::pipe_protocol::PipeRequest::Create):
//! reads, writes, closes and hand-overs treat them alike.
//!
//! An open for reading waits until some process has the FIFO open for
//! writing, and the other way round. As in Linux's `fifo_open`, an open that
//! waits already counts as an open end: its descriptor is taken and the end
//! counted when it first comes in, so a writer that opens next sees a reader
//! and does not wait (or, nonblocking, does not fail with "no reader"). The
//! waiting open is then granted: when tried again it finishes with its
//! descriptor, even if the writer has closed again since. This is the one
//! request of the pipe service that changes state and still waits; tried
//! again, it finds its own entry and changes nothing more.

use super::{Descriptor, End, Handled, Outcome, PIPES_MAX, Pipe, Pipes, readers_channel, writers_channel};
use mksim_userland::pipe_protocol::{FifoMode, PipeReply};
use mksim_userland::protocol::ServiceError;
use std::collections::{BTreeMap, VecDeque};

/// An open that waits for the other end, with the descriptor it holds.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
struct WaitingOpen {
    fd: u32,
    /// The other end has been opened since: tried again, the open finishes.
    granted: bool,
}

/// The FIFOs the pipe service has pipes for, and the opens that wait.
#[derive(Clone, Debug, Default)]
pub(super) struct Fifos {
    /// The pipe of each FIFO by node number. An entry whose pipe is gone (every end closed)
    /// is stale: the next open makes a new pipe.
    pipes: BTreeMap<u32, u32>,
    /// Opens waiting for the other end, by FIFO, client and mode.
    waiting: BTreeMap<(u32, u64, FifoMode), WaitingOpen>,
}

fn end_of(mode: FifoMode) -> End {
    match mode {
        FifoMode::Read => End::Read,
        FifoMode::Write => End::Write,
    }
}

/// The channel an open in `mode` waits on: readers wait with the pipe's readers, writers
/// with its writers; an open of the other end wakes it.
fn channel_of(pipe: u32, mode: FifoMode) -> u32 {
    match mode {
        FifoMode::Read => readers_channel(pipe),
        FifoMode::Write => writers_channel(pipe),
    }
}

fn other(mode: FifoMode) -> FifoMode {
    match mode {
        FifoMode::Read => FifoMode::Write,
        FifoMode::Write => FifoMode::Read,
    }
}

impl Pipes {
    /// Opens FIFO `fifo` for `client` (see the module's documentation).
    pub(super) fn open_fifo(
        &mut self,
        client: u64,
        fifo: u32,
        mode: FifoMode,
        nonblocking: bool,
    ) -> Result<Handled, ServiceError> {
        let key = (fifo, client, mode);
        if let Some(waiting) = self.fifos.waiting.get(&key).copied() {
            if let Some(handled) = self.open_again(key, waiting) {
                return Ok(handled);
            }
            // Its descriptor was closed under it (its client is gone): forget it.
            self.fifos.waiting.remove(&key);
        }
        let fd = self.free_descriptors(client, 1)?[0];
        let live = self.fifos.pipes.get(&fifo).copied().filter(|pipe| self.pipes.contains_key(pipe));
        let (readers, writers) = live.and_then(|pipe| self.pipes.get(&pipe)).map_or((0, 0), |p| (p.readers, p.writers));
        let others = if mode == FifoMode::Read { writers } else { readers };
        if mode == FifoMode::Write && nonblocking && readers == 0 {
            return Err(ServiceError::NoReader);
        }
        let pipe = match live {
            Some(pipe) => pipe,
            None => self.new_fifo_pipe(fifo)?,
        };
        let counted = self.pipes.get_mut(&pipe).expect("made or found above");
        match mode {
            FifoMode::Read => counted.readers += 1,
            FifoMode::Write => counted.writers += 1,
        }
        self.open.insert((client, fd), Descriptor { pipe, end: end_of(mode) });
        let woken = self.grant(fifo, other(mode), pipe);
        if others > 0 || (mode == FifoMode::Read && nonblocking) {
            return Ok(Handled { outcome: Outcome::Done(PipeReply::Descriptor(fd)), woken });
        }
        self.fifos.waiting.insert(key, WaitingOpen { fd, granted: false });
        Ok(Handled { outcome: Outcome::Wait(channel_of(pipe, mode)), woken })
    }

    /// An open that waited, tried again: done once granted, waiting still otherwise; `None`
    /// when its descriptor is no longer open on the FIFO's pipe.
    fn open_again(&mut self, key: (u32, u64, FifoMode), waiting: WaitingOpen) -> Option<Handled> {
        let (fifo, client, mode) = key;
        let pipe = *self.fifos.pipes.get(&fifo)?;
        let descriptor = self.open.get(&(client, waiting.fd))?;
        if *descriptor != (Descriptor { pipe, end: end_of(mode) }) {
            return None;
        }
        if waiting.granted {
            self.fifos.waiting.remove(&key);
            return Some(Handled::done(PipeReply::Descriptor(waiting.fd)));
        }
        Some(Handled { outcome: Outcome::Wait(channel_of(pipe, mode)), woken: Vec::new() })
    }

    /// Grants every open of `fifo` in `mode` that waits; returns the channel to wake when
    /// there was one.
    fn grant(&mut self, fifo: u32, mode: FifoMode, pipe: u32) -> Vec<u32> {
        let mut any = false;
        for ((waiting_fifo, _, waiting_mode), waiting) in &mut self.fifos.waiting {
            if *waiting_fifo == fifo && *waiting_mode == mode && !waiting.granted {
                waiting.granted = true;
                any = true;
            }
        }
        if any { vec![channel_of(pipe, mode)] } else { Vec::new() }
    }

    /// A new, empty pipe for `fifo`, no end open yet. Forgets stale entries first, so the
    /// service keeps no more of them than it has pipes.
    fn new_fifo_pipe(&mut self, fifo: u32) -> Result<u32, ServiceError> {
        if self.next_pipe >= PIPES_MAX {
            return Err(ServiceError::NoSpace);
        }
        let pipes = &self.pipes;
        self.fifos.pipes.retain(|_, pipe| pipes.contains_key(pipe));
        let fifo_pipes = &self.fifos.pipes;
        self.fifos.waiting.retain(|(waiting_fifo, _, _), _| fifo_pipes.contains_key(waiting_fifo));
        let pipe = self.next_pipe;
        self.next_pipe += 1;
        self.pipes.insert(pipe, Pipe { buffer: VecDeque::new(), readers: 0, writers: 0 });
        self.fifos.pipes.insert(fifo, pipe);
        Ok(pipe)
    }
}

#[cfg(test)]
#[path = "fifo_tests.rs"]
mod tests;
