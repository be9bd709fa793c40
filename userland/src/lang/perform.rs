//! The program's side of a script: carries each request out against the kernel and the
//! services, through the same client stubs the RON scripts use, so a script works in both modes.

use super::request::{Answer, Outgoing, Request};
use crate::client::Services;
use crate::protocol::{FsReply, MqReply};
use crate::socket_protocol::SockReply;
use crate::steps::Steps;
use mksim_kernel::message::{CapTransfer, TransferMode};
use mksim_kernel::syscall::SyscallValue;
use mksim_kernel::{Message, MessageData, Slot, SysError, Syscall};

/// The most bytes one `sock.send` request of a script carries; longer texts go in several.
const SOCK_PIECE_BYTES: usize = 512;

/// Carries out a script's requests for one process.
pub(crate) struct Performer {
    pub services: Services,
    pub steps: Steps,
}

/// A message for the kernel, and the slots it moves away (whose names the stubs must forget).
fn message(outgoing: Outgoing) -> (Message, Vec<Slot>) {
    let moved = outgoing.pass.iter().filter(|passed| passed.moved).map(|passed| passed.slot).collect();
    let caps = outgoing
        .pass
        .iter()
        .map(|passed| CapTransfer {
            slot: passed.slot,
            mode: if passed.moved { TransferMode::Move } else { TransferMode::Copy },
            rights: passed.rights,
        })
        .collect();
    (Message { label: outgoing.label, data: MessageData::from_vec(outgoing.data), caps }, moved)
}

impl Performer {
    /// Carries `request` out. Every request takes at least one step (see [`Steps`]).
    pub(crate) async fn perform(&mut self, request: Request) -> Answer {
        self.steps.begin(self.services.sys()).await;
        match self.carry_out(request).await {
            Ok(answer) => answer,
            Err(words) => Answer::Failed(words),
        }
    }

    async fn carry_out(&mut self, request: Request) -> Result<Answer, String> {
        let sys = self.services.sys().clone();
        let failed = |error: SysError| error.to_string();
        let answer = match request {
            Request::Print(text) => {
                self.services.print(&text).await.map_err(|error| error.to_string())?;
                Answer::Done
            }
            Request::Lookup(name) => Answer::Slot(self.services.lookup(&name).await.map_err(|e| e.to_string())?),
            Request::Register(name, slot) => {
                self.services.register(&name, slot).await.map_err(|e| e.to_string())?;
                Answer::Done
            }
            Request::TimerWait(ticks) => {
                self.services.timer_wait(ticks).await.map_err(|e| e.to_string())?;
                Answer::Done
            }
            Request::Fs(request) => match self.services.fs(request).await.map_err(|e| e.to_string())? {
                FsReply::Done | FsReply::Written(_) => Answer::Done,
                FsReply::Descriptor(fd) => Answer::Number(u64::from(fd)),
                FsReply::Data(data) => Answer::Bytes(data),
                FsReply::Stat(stat) => Answer::Stat(stat),
                FsReply::Entries(entries) => Answer::Entries(entries),
                FsReply::Fifo(_) => return Err("is a FIFO (open it with open_fifo)".to_owned()),
                FsReply::Error(error) => return Err(error.to_string()),
            },
            Request::Mq(request, notification) => {
                match self.services.mq(request, notification).await.map_err(|e| e.to_string())? {
                    MqReply::Done => Answer::Done,
                    MqReply::Descriptor(queue) => Answer::Number(u64::from(queue)),
                    MqReply::Message { data, priority } => Answer::Message(data, priority),
                    MqReply::Error(error) => return Err(error.to_string()),
                }
            }
            Request::Pipe(request) => Answer::Pipe(self.services.pipe(request).await.map_err(|e| e.to_string())?),
            Request::PipeWrite { fd, data, nonblocking } => {
                let written = self.services.pipe_write(fd, &data, nonblocking).await.map_err(|e| e.to_string())?;
                Answer::Number(u64::from(written))
            }
            Request::OpenFifo { path, mode, nonblocking } => {
                let fd = self.services.open_fifo(&path, mode, nonblocking).await.map_err(|e| e.to_string())?;
                Answer::Number(u64::from(fd))
            }
            Request::Sock(request) => match self.services.sock(request).await.map_err(|e| e.to_string())? {
                SockReply::Done | SockReply::Sent(_) => Answer::Done,
                SockReply::Descriptor(fd) => Answer::Number(u64::from(fd)),
                SockReply::Data(data) => Answer::Bytes(data),
                SockReply::Error(error) => return Err(error.to_string()),
            },
            Request::SockSendAll { fd, data } => {
                self.services.sock_send_all(fd, &data, SOCK_PIECE_BYTES).await.map_err(|e| e.to_string())?;
                Answer::Done
            }
            Request::Compute(cycles) => done(sys.compute(cycles).await.map_err(failed)?),
            Request::Sleep(cycles) => done(sys.sleep(cycles).await.map_err(failed)?),
            Request::Yield => done(sys.yield_now().await.map_err(failed)?),
            Request::Recover(on) => {
                self.services.set_recovery(on);
                Answer::Done
            }
            Request::Clock => Answer::Number(sys.clock().await.map_err(failed)?),
            Request::Random => Answer::Number(sys.random().await.map_err(failed)?),
            Request::CreateEndpoint => Answer::Slot(sys.create_endpoint().await.map_err(failed)?),
            Request::CreateQueue { capacity, policy } => {
                Answer::Slot(sys.create_queue(capacity, policy).await.map_err(failed)?)
            }
            Request::CreateNotification => Answer::Slot(sys.create_notification().await.map_err(failed)?),
            Request::CreateRegion(size) => Answer::Slot(sys.create_region(size).await.map_err(failed)?),
            Request::Send { port, message: outgoing, blocking } => {
                let (message, moved) = message(outgoing);
                sys.syscall(Syscall::Send { port, message, blocking }).await.map_err(failed)?;
                self.services.forget_slots(&moved);
                Answer::Done
            }
            Request::Call { port, message: outgoing, timeout } => {
                let (message, moved) = message(outgoing);
                let reply = match timeout {
                    Some(cycles) => sys.call_timeout(port, message, cycles).await,
                    None => sys.call(port, message).await,
                };
                self.services.forget_slots(&moved);
                Answer::Reply(reply.map_err(failed)?)
            }
            Request::Receive { port, from, blocking } => {
                match sys.syscall(Syscall::Receive { port, from, blocking }).await.map_err(failed)? {
                    SyscallValue::Incoming(incoming) => Answer::Incoming(incoming),
                    _ => return Err("receive returned no message".into()),
                }
            }
            Request::Reply { reply, message: outgoing } => {
                let (message, moved) = message(outgoing);
                sys.reply(reply, message).await.map_err(failed)?;
                self.services.forget_slots(&moved);
                Answer::Done
            }
            Request::ReplyReceive { reply, message: outgoing, port } => {
                let (message, moved) = message(outgoing);
                let incoming = sys.reply_receive(reply, message, port).await;
                self.services.forget_slots(&moved);
                Answer::Incoming(incoming.map_err(failed)?)
            }
            Request::Signal { to, bits } => done(sys.signal(to, bits).await.map_err(failed)?),
            Request::Wait { on, timeout: Some(cycles) } => {
                Answer::Number(sys.wait_timeout(on, cycles).await.map_err(failed)?)
            }
            Request::Wait { on, timeout: None } => Answer::Number(sys.wait(on).await.map_err(failed)?),
            Request::Poll(on) => Answer::Number(sys.poll(on).await.map_err(failed)?),
            Request::Bind(notification) => done(sys.bind_notification(notification).await.map_err(failed)?),
            Request::ArmTimer { notification, bits, delay, period } => {
                done(sys.arm_timer(notification, bits, delay, period).await.map_err(failed)?)
            }
            Request::Copy { cap, rights } => Answer::Slot(sys.copy(cap, rights).await.map_err(failed)?),
            Request::Mint { cap, rights, badge } => Answer::Slot(sys.mint(cap, rights, badge).await.map_err(failed)?),
            Request::Delete(cap) => {
                sys.delete(cap).await.map_err(failed)?;
                self.services.forget_slots(&[cap]);
                Answer::Done
            }
            Request::Revoke(cap) => {
                let (count, emptied) = sys.revoke_emptying(cap).await.map_err(failed)?;
                self.services.forget_slots(&emptied);
                Answer::Number(count)
            }
            Request::RegionWrite { region, offset, data } => {
                done(sys.region_write(region, offset, &data).await.map_err(failed)?)
            }
            Request::RegionRead { region, offset, len } => {
                Answer::Bytes(sys.region_read(region, offset, len).await.map_err(failed)?)
            }
            Request::Watch { process, notification, bits } => {
                done(sys.watch(process, notification, bits).await.map_err(failed)?)
            }
            Request::IsReady(process) => Answer::Flag(sys.is_ready(process).await.map_err(failed)?),
            Request::Kill(process) => done(sys.kill(process).await.map_err(failed)?),
            Request::Restart(process) => Answer::Slot(sys.restart(process).await.map_err(failed)?),
        };
        Ok(answer)
    }
}

fn done((): ()) -> Answer {
    Answer::Done
}
