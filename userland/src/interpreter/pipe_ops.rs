//! The pipe operations of a scripted program: `Pipe`, `PipeRead`,
//! `PipeReadAll`, `PipeWrite`, `PipeClose`, `PipeGive`, `PipeTake`, and
//! `OpenFifo`, whose descriptor is a pipe's.
//! Pipe descriptors share the script's names with open files.

use super::{Script, Stop, check_text};
use crate::pipe_protocol::{PIPE_READ_BYTES_MAX, PipeReply, PipeRequest};
use crate::script::Op;

impl Script {
    pub(super) async fn pipe_op(&mut self, op: &Op) -> Result<(), Stop> {
        match op {
            Op::Pipe { read_as, write_as } => {
                if let PipeReply::Created { read, write } = self.services.pipe(PipeRequest::Create).await? {
                    self.fds.insert(read_as.clone(), read);
                    self.fds.insert(write_as.clone(), write);
                }
            }
            Op::PipeRead { fd, len, expect, nonblocking } => {
                let request = PipeRequest::Read { fd: self.fd(fd)?, len: *len, nonblocking: *nonblocking };
                if let PipeReply::Data(data) = self.services.pipe(request).await? {
                    check_text("pipe read", &data, expect)?;
                }
            }
            Op::PipeReadAll { fd, expect } => {
                let fd = self.fd(fd)?;
                let mut all = Vec::new();
                loop {
                    let request = PipeRequest::Read { fd, len: PIPE_READ_BYTES_MAX as u32, nonblocking: false };
                    match self.services.pipe(request).await? {
                        PipeReply::Data(data) if data.is_empty() => break,
                        PipeReply::Data(data) => all.extend(data),
                        _ => return Err(Stop::Failed("pipe read: the pipe server answered something else".into())),
                    }
                }
                check_text("pipe read", &all, expect)?;
            }
            Op::PipeWrite { fd, text, nonblocking } => {
                self.services.pipe_write(self.fd(fd)?, text.as_bytes(), *nonblocking).await?;
            }
            Op::PipeClose(fd) => {
                self.services.pipe(PipeRequest::Close { fd: self.fd(fd)? }).await?;
                self.fds.remove(fd);
            }
            Op::PipeGive { fd, name } => {
                self.services.pipe(PipeRequest::Give { fd: self.fd(fd)?, name: name.clone() }).await?;
            }
            Op::PipeTake { name, name_as } => {
                if let PipeReply::Descriptor(fd) = self.services.pipe(PipeRequest::Take { name: name.clone() }).await? {
                    self.fds.insert(name_as.clone(), fd);
                }
            }
            Op::OpenFifo { path, mode, name_as, nonblocking } => {
                let fd = self.services.open_fifo(path, *mode, *nonblocking).await?;
                self.fds.insert(name_as.clone(), fd);
            }
            _ => unreachable!("not a pipe op"),
        }
        Ok(())
    }
}
