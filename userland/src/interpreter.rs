//! Runs scripted programs ([`crate::script::Op`]) against the kernel and the services.

mod mq;

use crate::client::{ClientError, Services};
use crate::protocol::{FsReply, FsRequest, Service};
use crate::script::{Op, Pass, Policy, parse_rights, pattern};
use crate::steps::Steps;
use mksim_kernel::message::{CapTransfer, TransferMode};
use mksim_kernel::{
    Badge, FullPolicy, Incoming, Message, MessageData, ProgramFault, ProgramResult, Received, Rights, Slot, SysError,
};
use std::collections::BTreeMap;
use std::future::Future;
use std::pin::Pin;

mod pipe_ops;
mod socket;

/// Why an operation stopped the script.
enum Stop {
    /// An `Exit` op.
    Exit(i32),
    /// A failure to report: what went wrong, in words.
    Failed(String),
}

impl From<SysError> for Stop {
    fn from(error: SysError) -> Self {
        Stop::Failed(error.to_string())
    }
}

impl From<ClientError> for Stop {
    fn from(error: ClientError) -> Self {
        Stop::Failed(error.to_string())
    }
}

struct Script {
    services: Services,
    caps: BTreeMap<String, Slot>,
    fds: BTreeMap<String, u32>,
    /// Socket descriptors, by name.
    sockets: BTreeMap<String, u32>,
    messages: BTreeMap<String, Received>,
    steps: Steps,
}

/// Runs `ops` as the program of a process that starts with the capabilities in `caps`.
///
/// Every operation takes at least one step toward the run's step limit: the steps of its
/// syscalls, or, for one that makes none (it fails before it reaches the kernel, or is an
/// `Exit`), a step of its own. `Repeat` and `Fails` count through the operations inside them;
/// a `Repeat` with nothing to run takes a step for each round (one when it has none). So no
/// script runs unbounded: a loop that never reaches the kernel still ends at the step limit.
///
/// # Errors
/// The process faults (code 1) with the failing step and its error when an
/// operation fails unexpectedly or an expectation is not met, unless
/// `keep_going`: then it goes on with the next step, and exits with 1 at the
/// end if any step failed (a client that must survive its servers' faults).
pub fn run(
    services: Services,
    caps: BTreeMap<String, Slot>,
    ops: Vec<Op>,
    keep_going: bool,
) -> impl Future<Output = ProgramResult> {
    let steps = Steps::default();
    let counter = steps.counter();
    let script =
        Script { services, caps, fds: BTreeMap::new(), sockets: BTreeMap::new(), messages: BTreeMap::new(), steps };
    counter.around(script.run(ops, keep_going))
}

impl Script {
    async fn run(mut self, ops: Vec<Op>, keep_going: bool) -> ProgramResult {
        let script = &mut self;
        let mut failed = false;
        for (index, op) in ops.iter().enumerate() {
            match script.op(op).await {
                Ok(()) => {}
                Err(Stop::Exit(code)) => return Ok(code),
                Err(Stop::Failed(_)) if keep_going => failed = true,
                Err(Stop::Failed(why)) => {
                    return Err(ProgramFault::failed(1, format!("step {} ({}): {why}", index + 1, summary(op))));
                }
            }
        }
        Ok(i32::from(failed))
    }
}

/// The name of an operation, for failure messages.
fn summary(op: &Op) -> String {
    let text = format!("{op:?}");
    let name: String = text.chars().take_while(|c| c.is_alphanumeric()).collect();
    name.to_lowercase()
}

fn check_text(what: &str, got: &[u8], expected: &Option<String>) -> Result<(), Stop> {
    match expected {
        Some(text) if got != text.as_bytes() => {
            Err(Stop::Failed(format!("{what}: expected {text:?}, got {:?}", String::from_utf8_lossy(got))))
        }
        _ => Ok(()),
    }
}

/// "`name` is not WHAT": put together by hand, not by `format!`, because a script that tests
/// a failure in a loop (`Fails` inside `Repeat`) makes this message at every step, and the
/// formatting machinery cost a quarter of such a step.
fn not_named(name: &str, what: &str) -> String {
    let mut text = String::with_capacity(name.len() + what.len() + 10);
    text.push('`');
    text.push_str(name);
    text.push_str("` is not ");
    text.push_str(what);
    text
}

/// A message's data: the text of `data`, or `bytes` bytes of [`pattern`], or nothing.
// Inlined: it runs on every scripted send, call and reply, and is mostly a copy of the text.
#[inline]
fn payload(data: &Option<String>, bytes: Option<u32>) -> Result<MessageData, Stop> {
    match (data, bytes) {
        (Some(_), Some(_)) => Err(Stop::Failed("give `data` or `bytes`, not both".into())),
        (Some(text), None) => Ok(MessageData::from_slice(text.as_bytes())),
        (None, Some(count)) => Ok(MessageData::from_vec(pattern(count as usize))),
        (None, None) => Ok(MessageData::new()),
    }
}

/// Checks that a reply is exactly `count` bytes of [`pattern`], when that is expected.
// Inlined: most calls expect no pattern, and then this is one test of an option.
#[inline]
fn check_pattern(what: &str, got: &[u8], count: Option<u32>) -> Result<(), Stop> {
    let Some(count) = count else { return Ok(()) };
    if got.len() != count as usize {
        return Err(Stop::Failed(format!("{what}: expected {count} bytes, got {}", got.len())));
    }
    match got.iter().zip(pattern(got.len())).position(|(byte, wanted)| *byte != wanted) {
        Some(at) => Err(Stop::Failed(format!("{what}: byte {at} differs from the `bytes` pattern"))),
        None => Ok(()),
    }
}

/// The slots a message's capabilities come from, in order.
fn slots_of(message: &Message) -> Vec<Slot> {
    message.caps.iter().map(|transfer| transfer.slot).collect()
}

fn timeout_or(timeout: Option<u64>, nonblocking: bool) -> mksim_kernel::Blocking {
    match (nonblocking, timeout) {
        (true, _) => mksim_kernel::Blocking::Never,
        (false, Some(cycles)) => mksim_kernel::Blocking::Timeout(cycles),
        (false, None) => mksim_kernel::Blocking::Forever,
    }
}

impl Script {
    fn cap(&self, name: &str) -> Result<Slot, Stop> {
        self.caps.get(name).copied().ok_or_else(|| Stop::Failed(not_named(name, "a capability")))
    }

    fn fd(&self, name: &str) -> Result<u32, Stop> {
        self.fds.get(name).copied().ok_or_else(|| Stop::Failed(not_named(name, "an open file")))
    }

    fn message(&self, label: u32, data: MessageData, pass: &[Pass]) -> Result<Message, Stop> {
        let mut caps = Vec::new();
        for item in pass {
            let rights = match &item.rights {
                Some(letters) => parse_rights(letters).map_err(|bad| Stop::Failed(format!("bad right `{bad}`")))?,
                None => Rights::all(),
            };
            let mode = if item.r#move { TransferMode::Move } else { TransferMode::Copy };
            caps.push(CapTransfer { slot: self.cap(&item.cap)?, mode, rights });
        }
        Ok(Message { label, data, caps })
    }

    /// Forgets the capabilities a message moved away: every name for their slots.
    fn forget_moved(&mut self, pass: &[Pass], moved: &[Slot]) {
        let slots: Vec<Slot> = pass.iter().zip(moved).filter(|(item, _)| item.r#move).map(|(_, &slot)| slot).collect();
        self.forget_slots(&slots);
    }

    /// Forgets every name for `slots`, whose capabilities are gone (deleted, revoked, moved
    /// away): the kernel reuses a free slot for the next capability, which an old name must not
    /// silently reach. The stubs forget looked-up capabilities there too.
    fn forget_slots(&mut self, slots: &[Slot]) {
        if slots.is_empty() {
            return;
        }
        self.caps.retain(|_, slot| !slots.contains(slot));
        self.services.forget_slots(slots);
    }

    /// Names a capability the kernel just put in `slot`. The slot was free, so any other name
    /// for it is stale (its capability was removed by someone else's revoke): that name goes.
    fn bind(&mut self, name: &str, slot: Slot) {
        self.forget_slots(&[slot]);
        self.caps.insert(name.to_owned(), slot);
    }

    fn name_caps(&mut self, names: &[String], slots: &[Slot]) {
        for (name, &slot) in names.iter().zip(slots) {
            self.bind(name, slot);
        }
    }

    /// Begins an operation: when no syscall came since the last one began, it takes a step of
    /// its own first, so every operation costs at least one step.
    async fn begin(&mut self) {
        self.steps.begin(self.services.sys()).await;
    }

    fn op<'a>(&'a mut self, op: &'a Op) -> Pin<Box<dyn Future<Output = Result<(), Stop>> + 'a>> {
        Box::pin(async move {
            if !matches!(op, Op::Repeat { .. } | Op::Fails { .. }) {
                self.begin().await;
            }
            // The services added to the menu are boxed: this future's size is its largest arm's,
            // and every operation of every script allocates one.
            match op {
                Op::Repeat { times, ops } if ops.is_empty() || *times == 0 => {
                    // Nothing to run inside: each round, or the loop that has none, is an operation.
                    for _ in 0..(*times).max(1) {
                        self.begin().await;
                    }
                    Ok(())
                }
                Op::Repeat { times, ops } => {
                    for _ in 0..*times {
                        for inner in ops {
                            self.op(inner).await?;
                        }
                    }
                    Ok(())
                }
                Op::Fails { error, op } => match self.op(op).await {
                    Ok(()) => Err(Stop::Failed(format!("expected it to fail with {error:?}, but it succeeded"))),
                    Err(Stop::Failed(why)) if why == *error => Ok(()),
                    Err(Stop::Failed(why)) => Err(Stop::Failed(format!("expected {error:?}, got {why:?}"))),
                    Err(exit) => Err(exit),
                },
                Op::Exit(code) => Err(Stop::Exit(*code)),
                Op::Close(name) if self.sockets.contains_key(name) => Box::pin(self.socket_op(op)).await,
                _ => match op.service() {
                    Some(Service::Console | Service::Name | Service::Timer) => self.service_op(op).await,
                    Some(Service::Fs) => self.file_op(op).await,
                    Some(Service::MessageQueue) => Box::pin(self.mq_op(op)).await,
                    Some(Service::Pipe) => Box::pin(self.pipe_op(op)).await,
                    Some(Service::Socket) => Box::pin(self.socket_op(op)).await,
                    Some(Service::Block | Service::Supervisor) => unreachable!("no operation is theirs"),
                    None if matches!(
                        op,
                        Op::Send { .. } | Op::Call { .. } | Op::Receive { .. } | Op::Reply { .. } | Op::Echo { .. }
                    ) =>
                    {
                        self.ipc_op(op).await
                    }
                    None => self.kernel_op(op).await,
                },
            }
        })
    }

    async fn service_op(&mut self, op: &Op) -> Result<(), Stop> {
        match op {
            Op::Print(text) => self.services.print(text).await?,
            Op::Lookup { name, name_as } => {
                let known = self.services.looked_up(name);
                let slot = self.services.lookup(name).await?;
                if known != Some(slot) {
                    // A fresh capability (the stubs keep it for the service): older script
                    // names for its slot are stale. Otherwise this is one more name for the
                    // capability an earlier lookup gave.
                    self.caps.retain(|_, named| *named != slot);
                }
                self.caps.insert(name_as.clone(), slot);
            }
            Op::Register { name, cap } => {
                let slot = self.cap(cap)?;
                self.services.register(name, slot).await?;
            }
            Op::TimerWait(ticks) => self.services.timer_wait(*ticks).await?,
            _ => unreachable!("not a service op"),
        }
        Ok(())
    }

    async fn file_op(&mut self, op: &Op) -> Result<(), Stop> {
        let request = match op {
            Op::Open { path, create, .. } => FsRequest::Open { path: path.clone(), create: *create },
            Op::Create(path) => FsRequest::Create { path: path.clone() },
            Op::Mkdir(path) => FsRequest::Mkdir { path: path.clone() },
            Op::Mkfifo(path) => FsRequest::Mkfifo { path: path.clone() },
            Op::Unlink(path) => FsRequest::Unlink { path: path.clone() },
            Op::Read { fd, len, .. } => FsRequest::Read { fd: self.fd(fd)?, len: *len },
            Op::Write { fd, text } => FsRequest::Write { fd: self.fd(fd)?, data: text.as_bytes().to_vec() },
            Op::Seek { fd, offset } => FsRequest::Seek { fd: self.fd(fd)?, offset: *offset },
            Op::Close(fd) => FsRequest::Close { fd: self.fd(fd)? },
            Op::Stat { path, .. } => FsRequest::Stat { path: path.clone() },
            Op::Readdir { path, .. } => FsRequest::Readdir { path: path.clone() },
            _ => unreachable!("not a file op"),
        };
        let reply = self.services.fs(request).await?;
        match (op, reply) {
            (Op::Open { name_as, .. }, FsReply::Descriptor(fd)) => {
                self.fds.insert(name_as.clone(), fd);
            }
            (Op::Open { .. }, FsReply::Fifo(_)) => {
                return Err(Stop::Failed("is a FIFO (open it with OpenFifo)".into()));
            }
            (Op::Read { expect, .. }, FsReply::Data(data)) => check_text("read", &data, expect)?,
            (Op::Stat { expect_size: Some(size), .. }, FsReply::Stat(stat)) if stat.size != *size => {
                return Err(Stop::Failed(format!("stat: expected size {size}, got {}", stat.size)));
            }
            (Op::Stat { expect_kind: Some(kind), .. }, FsReply::Stat(stat)) if file_kind(&stat) != *kind => {
                return Err(Stop::Failed(format!("stat: expected a {kind:?}, got a {:?}", file_kind(&stat))));
            }
            (Op::Readdir { expect: Some(names), .. }, FsReply::Entries(entries)) if entries != *names => {
                return Err(Stop::Failed(format!("readdir: expected {names:?}, got {entries:?}")));
            }
            (Op::Close(fd), _) => {
                self.fds.remove(fd);
            }
            _ => {}
        }
        Ok(())
    }

    async fn ipc_op(&mut self, op: &Op) -> Result<(), Stop> {
        let sys = self.services.sys().clone();
        match op {
            Op::Send { to, label, data, bytes, pass, nonblocking, timeout } => {
                let message = self.message(*label, payload(data, *bytes)?, pass)?;
                let moved = slots_of(&message);
                let blocking = timeout_or(*timeout, *nonblocking);
                sys.syscall(mksim_kernel::Syscall::Send { port: self.cap(to)?, message, blocking }).await?;
                self.forget_moved(pass, &moved);
            }
            Op::Call { to, label, data, bytes, pass, timeout, expect, expect_bytes, caps_as } => {
                let message = self.message(*label, payload(data, *bytes)?, pass)?;
                let moved = slots_of(&message);
                let port = self.cap(to)?;
                let answer = match timeout {
                    Some(cycles) => sys.call_timeout(port, message, *cycles).await?,
                    None => sys.call(port, message).await?,
                };
                self.forget_moved(pass, &moved);
                check_text("reply", &answer.data, expect)?;
                check_pattern("reply", &answer.data, *expect_bytes)?;
                self.name_caps(caps_as, &answer.caps);
            }
            Op::Receive { on, name_as, from_badge, nonblocking, timeout, expect, expect_badge, caps_as } => {
                let port = self.cap(on)?;
                let blocking = timeout_or(*timeout, *nonblocking);
                let from = from_badge.map(Badge);
                let value = sys.syscall(mksim_kernel::Syscall::Receive { port, from, blocking }).await?;
                let mksim_kernel::syscall::SyscallValue::Incoming(incoming) = value else {
                    return Err(Stop::Failed("receive returned no message".into()));
                };
                let Incoming::Message(received) = incoming else {
                    return Err(Stop::Failed("a notification arrived instead of a message".into()));
                };
                check_text("message", &received.data, expect)?;
                if let Some(badge) = expect_badge
                    && received.badge.0 != *badge
                {
                    return Err(Stop::Failed(format!("expected badge {badge}, got {}", received.badge.0)));
                }
                self.name_caps(caps_as, &received.caps);
                if let Some(name) = name_as {
                    self.messages.insert(name.clone(), received);
                }
            }
            Op::Reply { to, label, data, bytes, pass } => {
                let request = self.messages.get(to).ok_or_else(|| Stop::Failed(not_named(to, "a message")))?;
                let reply = request.reply.ok_or_else(|| Stop::Failed(format!("`{to}` was not a call")))?;
                let message = self.message(*label, payload(data, *bytes)?, pass)?;
                let moved = slots_of(&message);
                sys.reply(reply, message).await?;
                self.forget_moved(pass, &moved);
                self.messages.remove(to);
            }
            Op::Echo { on, times } => {
                // Answer and wait for the next call in one trap (reply-and-receive), as servers should.
                let port = self.cap(on)?;
                let mut answered = 0;
                let mut incoming = if times == &Some(0) { None } else { Some(sys.receive(port).await?) };
                while let Some(next) = incoming.take() {
                    let Incoming::Message(request) = next else {
                        incoming = Some(sys.receive(port).await?);
                        continue;
                    };
                    answered += 1;
                    let last = times.is_some_and(|times| answered >= times);
                    let answer = Message::new(request.label, request.data);
                    match (request.reply, last) {
                        (Some(reply), false) => incoming = Some(sys.reply_receive(reply, answer, port).await?),
                        (Some(reply), true) => sys.reply(reply, answer).await?,
                        (None, false) => incoming = Some(sys.receive(port).await?),
                        (None, true) => {}
                    }
                }
            }
            _ => unreachable!("not an ipc op"),
        }
        Ok(())
    }

    async fn kernel_op(&mut self, op: &Op) -> Result<(), Stop> {
        let sys = self.services.sys().clone();
        let rights = |letters: &str| parse_rights(letters).map_err(|bad| Stop::Failed(format!("bad right `{bad}`")));
        match op {
            Op::Compute(cycles) => sys.compute(*cycles).await?,
            Op::Sleep(cycles) => sys.sleep(*cycles).await?,
            Op::Yield => sys.yield_now().await?,
            Op::CreateEndpoint(name) => {
                let slot = sys.create_endpoint().await?;
                self.bind(name, slot);
            }
            Op::CreateQueue { name_as, capacity, policy } => {
                let policy = match policy {
                    Policy::Block => FullPolicy::Block,
                    Policy::Fail => FullPolicy::Fail,
                };
                let slot = sys.create_queue(*capacity, policy).await?;
                self.bind(name_as, slot);
            }
            Op::CreateNotification(name) => {
                let slot = sys.create_notification().await?;
                self.bind(name, slot);
            }
            Op::CreateRegion { name_as, size } => {
                let slot = sys.create_region(*size).await?;
                self.bind(name_as, slot);
            }
            Op::Signal { to, bits } => sys.signal(self.cap(to)?, *bits).await?,
            Op::Wait { on, expect, timeout } => {
                let slot = self.cap(on)?;
                let bits = match timeout {
                    Some(cycles) => sys.wait_timeout(slot, *cycles).await?,
                    None => sys.wait(slot).await?,
                };
                if let Some(wanted) = expect
                    && bits != *wanted
                {
                    return Err(Stop::Failed(format!("expected bits {wanted:#x}, got {bits:#x}")));
                }
            }
            Op::Bind(name) => sys.bind_notification(self.cap(name)?).await?,
            Op::ArmTimer { notification, bits, delay, period } => {
                sys.arm_timer(self.cap(notification)?, *bits, *delay, *period).await?
            }
            Op::Copy { cap, rights: letters, name_as } => {
                let slot = sys.copy(self.cap(cap)?, rights(letters)?).await?;
                self.bind(name_as, slot);
            }
            Op::Mint { cap, rights: letters, badge, name_as } => {
                let slot = sys.mint(self.cap(cap)?, rights(letters)?, Badge(*badge)).await?;
                self.bind(name_as, slot);
            }
            Op::Delete(cap) => {
                let slot = self.cap(cap)?;
                sys.delete(slot).await?;
                self.forget_slots(&[slot]);
            }
            Op::Revoke { cap, expect } => {
                let (count, emptied) = sys.revoke_emptying(self.cap(cap)?).await?;
                self.forget_slots(&emptied);
                if let Some(wanted) = expect
                    && count != *wanted
                {
                    return Err(Stop::Failed(format!("revoke: expected {wanted} capabilities removed, got {count}")));
                }
            }
            Op::RegionWrite { region, offset, text } => {
                sys.region_write(self.cap(region)?, *offset, text.as_bytes()).await?
            }
            Op::RegionRead { region, offset, len, expect } => {
                let data = sys.region_read(self.cap(region)?, *offset, *len).await?;
                check_text("region", &data, expect)?;
            }
            _ => unreachable!("op {op:?} is handled elsewhere"),
        }
        Ok(())
    }
}

/// What a stat says the path is.
fn file_kind(stat: &crate::protocol::FileStat) -> crate::script::FileKind {
    match (stat.is_directory, stat.is_fifo) {
        (true, _) => crate::script::FileKind::Directory,
        (false, true) => crate::script::FileKind::Fifo,
        (false, false) => crate::script::FileKind::File,
    }
}
