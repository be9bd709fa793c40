//! The pipe functions of a script: `pipe()` gives `#{read, write}`
//! descriptors; `pipe_read(fd, len)` returns text ("" at end of file),
//! `pipe_write(fd, text)` the bytes written; `pipe_try_read` and
//! `pipe_try_write` throw "would block" rather than wait; `pipe_close(fd)`,
//! `pipe_give(fd, name)` and `pipe_take(name)` hand an end to another process.
//! `mkfifo(path)` makes a FIFO; `open_fifo(path, "r")` (or `"w"`) opens it and
//! gives a pipe descriptor, waiting for the other end; `try_open_fifo` does
//! not wait (an open for writing with no reader throws "no reader").

use super::{Bridge, Result, small, thrown};
use crate::lang::request::{Answer, Request};
use crate::pipe_protocol::{FifoMode, PipeReply, PipeRequest};
use crate::protocol::FsRequest;
use rhai::{Dynamic, Engine, INT, ImmutableString, Map, NativeCallContext};
use std::sync::Arc;

impl Bridge {
    fn pipe(&self, request: PipeRequest) -> Result<PipeReply> {
        match self.ask(Request::Pipe(request))? {
            Answer::Pipe(reply) => Ok(reply),
            other => Err(thrown(format!("unexpected answer {other:?}"))),
        }
    }

    fn pipe_read(&self, fd: INT, len: INT, nonblocking: bool) -> Result<ImmutableString> {
        let request = PipeRequest::Read { fd: small(fd, "descriptor")?, len: small(len, "length")?, nonblocking };
        match self.pipe(request)? {
            PipeReply::Data(bytes) => Ok(String::from_utf8_lossy(&bytes).into_owned().into()),
            other => Err(thrown(format!("unexpected answer {other:?}"))),
        }
    }

    fn open_fifo(&self, path: &str, mode: &str, nonblocking: bool) -> Result<INT> {
        let mode = match mode {
            "r" => FifoMode::Read,
            "w" => FifoMode::Write,
            other => return Err(thrown(format!("a FIFO opens for \"r\" or \"w\", not {other:?}"))),
        };
        self.number(Request::OpenFifo { path: path.to_owned(), mode, nonblocking })
    }

    fn pipe_write(&self, fd: INT, text: &str, nonblocking: bool) -> Result<INT> {
        let request = Request::PipeWrite { fd: small(fd, "descriptor")?, data: text.as_bytes().to_vec(), nonblocking };
        self.number(request)
    }
}

pub(super) fn register_pipes(engine: &mut Engine, bridge: &Arc<Bridge>) {
    function!(engine, bridge, "pipe", |b| -> Result<Map> {
        match b.pipe(PipeRequest::Create)? {
            PipeReply::Created { read, write } => {
                let mut ends = Map::new();
                ends.insert("read".into(), Dynamic::from(INT::from(read)));
                ends.insert("write".into(), Dynamic::from(INT::from(write)));
                Ok(ends)
            }
            other => Err(thrown(format!("unexpected answer {other:?}"))),
        }
    });
    function!(engine, bridge, "pipe_read", |b, fd: INT, len: INT| b.pipe_read(fd, len, false));
    function!(engine, bridge, "pipe_try_read", |b, fd: INT, len: INT| b.pipe_read(fd, len, true));
    function!(engine, bridge, "pipe_write", |b, fd: INT, text: &str| b.pipe_write(fd, text, false));
    function!(engine, bridge, "pipe_try_write", |b, fd: INT, text: &str| b.pipe_write(fd, text, true));
    function!(engine, bridge, "pipe_close", |b, fd: INT| {
        b.pipe(PipeRequest::Close { fd: small(fd, "descriptor")? }).map(|_| ())
    });
    function!(engine, bridge, "pipe_give", |b, fd: INT, name: &str| {
        b.pipe(PipeRequest::Give { fd: small(fd, "descriptor")?, name: name.to_owned() }).map(|_| ())
    });
    function!(engine, bridge, "mkfifo", |b, path: &str| b
        .unit(Request::Fs(FsRequest::Mkfifo { path: path.to_owned() })));
    function!(engine, bridge, "open_fifo", |b, path: &str, mode: &str| b.open_fifo(path, mode, false));
    function!(engine, bridge, "try_open_fifo", |b, path: &str, mode: &str| b.open_fifo(path, mode, true));
    function!(engine, bridge, "pipe_take", |b, name: &str| -> Result<INT> {
        match b.pipe(PipeRequest::Take { name: name.to_owned() })? {
            PipeReply::Descriptor(fd) => Ok(INT::from(fd)),
            other => Err(thrown(format!("unexpected answer {other:?}"))),
        }
    });
}
