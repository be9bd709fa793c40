//! The script's side: the functions a script calls, each a request to its program.
//!
//! Capabilities are integers (the slot numbers the kernel gives); messages are maps (`label`,
//! `data`, `badge`, `caps`, `reply`); an operation that fails throws its error's words
//! (`"peer dead"`, `"not found"`), which `try { } catch (error) { }` can test. The README's
//! language reference lists every function.

use super::request::{Answer, FromScript, Outgoing, Passed, Request};
use super::{Limits, STOPPED};
use crate::protocol::FsRequest;
use crate::script::{PATTERN_BYTES_MAX, parse_rights, pattern};
use crossbeam_channel::{Receiver, Sender};
use mksim_kernel::{Badge, Blocking, FullPolicy, Incoming, Received, Rights, Slot};
use rhai::{Array, Dynamic, Engine, EvalAltResult, INT, ImmutableString, Map, NativeCallContext, Position};
use std::collections::BTreeMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU32, AtomicU64, Ordering};
use std::sync::{Mutex, OnceLock};

/// What a script function returns: a value, or an error that unwinds the script.
type Result<T> = std::result::Result<T, Box<EvalAltResult>>;

/// The script thread's end of the rendezvous with its program.
pub(crate) struct Link {
    pub to_program: Sender<FromScript>,
    pub answers: Receiver<Answer>,
    /// Set when the program is gone (the run ended): the script stops at its next operation.
    pub cancelled: Arc<AtomicBool>,
}

/// Why the engine stopped a script on purpose (the token of its terminate error).
pub(crate) const RAN_TOO_LONG: &str = "ran too long";

/// The token of the error that `exit` stops a script with.
pub(crate) const EXITED: &str = "exit";

/// The bridge every registered function asks through, with the operation counts the budget needs.
pub(crate) struct Bridge {
    link: Link,
    /// The engine's operation count, as last reported to its progress callback.
    operations: AtomicU64,
    /// The count when the script last asked for an operation.
    operations_at_request: AtomicU64,
    /// The code `exit` was called with.
    pub exit_code: Mutex<Option<i32>>,
    /// The line of the script the current call is on (0 when unknown).
    line: AtomicU32,
    /// Why the last `print` failed, until the script is stopped for it.
    failed_print: Mutex<Option<String>>,
    caps: BTreeMap<String, INT>,
    /// The process's name, for `process_name()`.
    process: String,
    /// The scenario's parameters, for `param(name)`.
    params: Arc<BTreeMap<String, String>>,
}

fn stopped() -> Box<EvalAltResult> {
    EvalAltResult::ErrorTerminated(Dynamic::from(STOPPED), Position::NONE).into()
}

/// An error the script can catch: the operation's error in words.
fn thrown(words: impl Into<String>) -> Box<EvalAltResult> {
    EvalAltResult::ErrorRuntime(Dynamic::from(words.into()), Position::NONE).into()
}

impl Bridge {
    /// Asks the program to carry `request` out and waits for the answer. The program's failure
    /// comes back as an error the script can catch; the program's end stops the script.
    fn ask(&self, request: Request) -> Result<Answer> {
        self.operations_at_request.store(self.operations.load(Ordering::Relaxed), Ordering::Relaxed);
        let line = self.line.load(Ordering::Relaxed);
        if self.link.to_program.send(FromScript::Request(request, line)).is_err() {
            return Err(stopped());
        }
        match super::thread::receive_soon(&self.link.answers) {
            Some(Answer::Failed(words)) => Err(thrown(words)),
            Some(answer) => Ok(answer),
            None => Err(stopped()),
        }
    }

    /// Notes the line of the script a call is on, for the request it makes.
    fn at(&self, context: &NativeCallContext) {
        let line = context.call_position().line().unwrap_or(0);
        self.line.store(u32::try_from(line).unwrap_or(u32::MAX), Ordering::Relaxed);
    }

    fn unit(&self, request: Request) -> Result<()> {
        self.ask(request).map(|_| ())
    }

    fn number(&self, request: Request) -> Result<INT> {
        match self.ask(request)? {
            Answer::Number(number) => Ok(number as INT),
            Answer::Slot(slot) => Ok(INT::from(slot.0)),
            other => Err(thrown(format!("unexpected answer {other:?}"))),
        }
    }

    fn text(&self, request: Request) -> Result<ImmutableString> {
        match self.ask(request)? {
            Answer::Bytes(bytes) => Ok(String::from_utf8_lossy(&bytes).into_owned().into()),
            other => Err(thrown(format!("unexpected answer {other:?}"))),
        }
    }

    /// The progress callback: stops a script that has run `budget` operations since it last
    /// asked for one, or whose program is gone.
    fn progress(&self, operations: u64, budget: u64) -> Option<Dynamic> {
        self.operations.store(operations, Ordering::Relaxed);
        if self.link.cancelled.load(Ordering::Relaxed) {
            return Some(Dynamic::from(STOPPED));
        }
        if let Some(why) = lock(&self.failed_print).take() {
            return Some(Dynamic::from(format!("print failed: {why}")));
        }
        (operations - self.operations_at_request.load(Ordering::Relaxed) > budget).then(|| Dynamic::from(RAN_TOO_LONG))
    }
}

/// A capability from a script integer.
fn slot(value: INT) -> Result<Slot> {
    u32::try_from(value).map(Slot).map_err(|_| thrown("invalid capability"))
}

/// A count or size from a script integer that must fit in 32 bits.
fn small(value: INT, what: &str) -> Result<u32> {
    u32::try_from(value).map_err(|_| thrown(format!("{what} {value} is out of range")))
}

fn cycles(value: INT) -> Result<u64> {
    u64::try_from(value).map_err(|_| thrown(format!("a negative number of cycles ({value})")))
}

fn rights(letters: &str) -> Result<Rights> {
    parse_rights(letters).map_err(|bad| thrown(format!("`{bad}` is not a right (use s r g R W)")))
}

/// The options map a function takes, checked key by key so a misspelt option is an error.
struct Options {
    map: Map,
}

impl Options {
    fn new(map: Map, allowed: &[&str]) -> Result<Options> {
        if let Some(key) = map.keys().find(|key| !allowed.contains(&key.as_str())) {
            return Err(thrown(format!("unknown option `{key}` (options: {})", allowed.join(", "))));
        }
        Ok(Options { map })
    }

    fn int(&self, key: &str) -> Result<Option<INT>> {
        match self.map.get(key) {
            None => Ok(None),
            Some(value) => value.as_int().map(Some).map_err(|_| thrown(format!("option `{key}` must be a number"))),
        }
    }

    fn flag(&self, key: &str) -> Result<bool> {
        match self.map.get(key) {
            None => Ok(false),
            Some(value) => value.as_bool().map_err(|_| thrown(format!("option `{key}` must be true or false"))),
        }
    }

    fn string(&self, key: &str) -> Result<Option<String>> {
        match self.map.get(key) {
            None => Ok(None),
            Some(value) if value.is_string() => Ok(Some(value.to_string())),
            Some(_) => Err(thrown(format!("option `{key}` must be a string"))),
        }
    }

    fn blocking(&self) -> Result<Blocking> {
        match (self.flag("nonblocking")?, self.int("timeout")?) {
            (true, _) => Ok(Blocking::Never),
            (false, Some(timeout)) => Ok(Blocking::Timeout(cycles(timeout)?)),
            (false, None) => Ok(Blocking::Forever),
        }
    }

    /// The message these options describe: `label`, `data` or `bytes`, `pass`.
    fn message(&self) -> Result<Outgoing> {
        let label = self.int("label")?.map_or(Ok(0), |label| small(label, "label"))?;
        let data = match (self.string("data")?, self.int("bytes")?) {
            (Some(_), Some(_)) => return Err(thrown("give `data` or `bytes`, not both")),
            (Some(text), None) => text.into_bytes(),
            (None, Some(count)) => {
                let count = small(count, "bytes").ok().filter(|&count| count <= PATTERN_BYTES_MAX);
                pattern(count.ok_or_else(|| thrown(format!("bytes is at most {PATTERN_BYTES_MAX}")))? as usize)
            }
            (None, None) => Vec::new(),
        };
        let pass = match self.map.get("pass") {
            None => Vec::new(),
            Some(value) => {
                let items = value.clone().into_array().map_err(|_| thrown("option `pass` must be an array"))?;
                items.into_iter().map(passed).collect::<Result<_>>()?
            }
        };
        Ok(Outgoing { label, data, pass })
    }
}

/// One capability to pass: a capability (copied with all its rights) or a map
/// `#{cap: c, move: true, rights: "sr"}`.
fn passed(item: Dynamic) -> Result<Passed> {
    if let Ok(value) = item.as_int() {
        return Ok(Passed { slot: slot(value)?, moved: false, rights: Rights::all() });
    }
    let map =
        item.try_cast::<Map>().ok_or_else(|| thrown("`pass` holds capabilities or maps #{cap: c, move: true}"))?;
    let options = Options::new(map, &["cap", "move", "rights"])?;
    let cap = options.int("cap")?.ok_or_else(|| thrown("a passed capability needs `cap`"))?;
    let rights = match options.string("rights")? {
        Some(letters) => rights(&letters)?,
        None => Rights::all(),
    };
    Ok(Passed { slot: slot(cap)?, moved: options.flag("move")?, rights })
}

fn simple_message(label: INT, data: &str) -> Result<Outgoing> {
    Ok(Outgoing { label: small(label, "label")?, data: data.as_bytes().to_vec(), pass: Vec::new() })
}

fn slots(caps: &[Slot]) -> Array {
    caps.iter().map(|slot| Dynamic::from(INT::from(slot.0))).collect()
}

/// A received message or reply as a script sees it.
fn received(message: &Received) -> Map {
    let mut map = Map::new();
    map.insert("kind".into(), Dynamic::from("message"));
    map.insert("label".into(), Dynamic::from(INT::from(message.label)));
    map.insert("data".into(), Dynamic::from(String::from_utf8_lossy(&message.data).into_owned()));
    map.insert("size".into(), Dynamic::from(message.data.len() as INT));
    map.insert("badge".into(), Dynamic::from(message.badge.0 as INT));
    map.insert("caps".into(), Dynamic::from(slots(&message.caps)));
    let reply = message.reply.map_or(Dynamic::UNIT, |slot| Dynamic::from(INT::from(slot.0)));
    map.insert("reply".into(), reply);
    map
}

fn incoming(answer: Answer) -> Result<Map> {
    match answer {
        Answer::Incoming(Incoming::Message(message)) => Ok(received(&message)),
        Answer::Incoming(Incoming::Notification(bits)) => {
            let mut map = Map::new();
            map.insert("kind".into(), Dynamic::from("notification"));
            map.insert("bits".into(), Dynamic::from(bits as INT));
            Ok(map)
        }
        other => Err(thrown(format!("unexpected answer {other:?}"))),
    }
}

/// The reply capability of a received call, from its map.
fn reply_slot(message: &Map) -> Result<Slot> {
    match message.get("reply") {
        Some(value) if value.is_int() => slot(value.as_int().unwrap_or(-1)),
        _ => Err(thrown("the message was not a call (it has no reply capability)")),
    }
}

/// A lock that a panic elsewhere cannot poison for good: the data is plain and stays usable.
pub(crate) fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// Rhai's standard library (arithmetic, strings, arrays, maps, ...), made once and shared by
/// every script's engine: each engine would otherwise build its own, a few hundred kilobytes.
fn standard_library() -> rhai::Shared<rhai::Module> {
    static STANDARD: OnceLock<rhai::Shared<rhai::Module>> = OnceLock::new();
    STANDARD
        .get_or_init(|| {
            use rhai::packages::Package;
            rhai::packages::StandardPackage::new().as_shared_module()
        })
        .clone()
}

/// An engine that compiles and runs scripts with the sandbox and limits, with no functions of the
/// system: what checks a script's syntax. [`engine`] adds the system.
pub(crate) fn bare_engine(limits: &Limits) -> Engine {
    super::fix_hashing_seed();
    // Raw: no module resolver (no files), no printing to the host's terminal.
    let mut engine = Engine::new_raw();
    engine.register_global_module(standard_library());
    // A variable used before it is declared (a misspelt name) is refused with the script, at
    // its line and column, not found at run time.
    engine.set_strict_variables(true);
    engine.set_max_call_levels(limits.call_levels);
    engine.set_max_expr_depths(limits.expression_depth, limits.expression_depth);
    engine.set_max_string_size(limits.string_bytes);
    engine.set_max_array_size(limits.array_items);
    engine.set_max_map_size(limits.map_items);
    engine.set_max_variables(limits.variables);
    engine.set_max_functions(limits.functions);
    // Nothing reaches the host's terminal: `print` is the console server's (in [`engine`]),
    // `debug` goes nowhere.
    engine.on_print(|_| {});
    engine.on_debug(|_, _, _| {});
    engine
}

/// The engine a script runs in: the sandbox and limits, and every function of the system.
pub(crate) fn engine(
    link: Link,
    process: String,
    caps: BTreeMap<String, INT>,
    params: Arc<BTreeMap<String, String>>,
    limits: &Limits,
) -> (Engine, Arc<Bridge>) {
    let mut engine = bare_engine(limits);
    let bridge = Arc::new(Bridge {
        link,
        operations: AtomicU64::new(0),
        operations_at_request: AtomicU64::new(0),
        exit_code: Mutex::new(None),
        line: AtomicU32::new(0),
        failed_print: Mutex::new(None),
        caps,
        process,
        params,
    });
    let budget = limits.operations_per_syscall;
    let on_progress = Arc::clone(&bridge);
    engine.on_progress(move |operations| on_progress.progress(operations, budget));
    register_basics(&mut engine, &bridge);
    register_services(&mut engine, &bridge);
    mq::register_mq(&mut engine, &bridge);
    register_ipc(&mut engine, &bridge);
    sockets::register(&mut engine, &bridge);
    register_kernel_objects(&mut engine, &bridge);
    pipes::register_pipes(&mut engine, &bridge);
    (engine, bridge)
}

/// Registers `$name` as a function of the script: the closure gets the bridge first, which has
/// already noted the line of the script the call is on.
macro_rules! function {
    ($engine:expr, $bridge:expr, $name:literal, |$b:ident $(, $arg:ident : $ty:ty)*| -> $ret:ty $body:block) => {{
        let $b = Arc::clone($bridge);
        $engine.register_fn($name, move |context: NativeCallContext, $($arg: $ty),*| -> $ret {
            $b.at(&context);
            $body
        });
    }};
    ($engine:expr, $bridge:expr, $name:literal, |$b:ident $(, $arg:ident : $ty:ty)*| $body:expr) => {{
        let $b = Arc::clone($bridge);
        $engine.register_fn($name, move |context: NativeCallContext, $($arg: $ty),*| {
            $b.at(&context);
            $body
        });
    }};
}

mod mq;
mod pipes;
mod sockets;

fn register_basics(engine: &mut Engine, bridge: &Arc<Bridge>) {
    // Rhai turns `print`'s argument into text itself and hands the text to this callback, which
    // cannot fail: a failed print is kept and stops the script at its next operation.
    let printer = Arc::clone(bridge);
    engine.on_print(move |text| {
        if let Err(error) = printer.unit(Request::Print(format!("{text}\n"))) {
            *lock(&printer.failed_print) = Some(error.to_string());
        }
    });
    function!(engine, bridge, "compute", |b, n: INT| b.unit(Request::Compute(cycles(n)?)));
    function!(engine, bridge, "sleep", |b, n: INT| b.unit(Request::Sleep(cycles(n)?)));
    function!(engine, bridge, "yield_now", |b| b.unit(Request::Yield));
    function!(engine, bridge, "recover", |b, on: bool| b.unit(Request::Recover(on)));
    function!(engine, bridge, "now", |b| b.number(Request::Clock));
    function!(engine, bridge, "random", |b| b.number(Request::Random).map(|n| n & INT::MAX));
    function!(engine, bridge, "random", |b, below: INT| {
        if below <= 0 {
            return Err(thrown(format!("random({below}): the bound must be positive")));
        }
        b.number(Request::Random).map(|n| (n & INT::MAX) % below)
    });
    function!(engine, bridge, "exit", |b, code: INT| -> Result<()> {
        *lock(&b.exit_code) = Some(i32::try_from(code).unwrap_or(if code < 0 { i32::MIN } else { i32::MAX }));
        Err(EvalAltResult::ErrorTerminated(Dynamic::from(EXITED), Position::NONE).into())
    });
    function!(engine, bridge, "cap", |b, name: &str| {
        b.caps
            .get(name)
            .copied()
            .ok_or_else(|| thrown(format!("`{name}` is not a capability this process starts with")))
    });
    function!(engine, bridge, "param", |b, name: &str| -> Result<Dynamic> {
        let value = b.params.get(name).ok_or_else(|| thrown(format!("the scenario declares no parameter `{name}`")))?;
        Ok(match (value.parse::<INT>(), value.parse::<rhai::FLOAT>()) {
            (Ok(number), _) => Dynamic::from(number),
            (_, Ok(number)) => Dynamic::from(number),
            _ => Dynamic::from(value.clone()),
        })
    });
    function!(engine, bridge, "process_name", |b| -> ImmutableString { b.process.as_str().into() });
    function!(engine, bridge, "caps", |b| -> Map {
        b.caps.iter().map(|(name, &slot)| (name.as_str().into(), Dynamic::from(slot))).collect()
    });
}

fn register_services(engine: &mut Engine, bridge: &Arc<Bridge>) {
    function!(engine, bridge, "lookup", |b, name: &str| b.number(Request::Lookup(name.to_owned())));
    function!(engine, bridge, "register", |b, name: &str, cap: INT| {
        b.unit(Request::Register(name.to_owned(), slot(cap)?))
    });
    function!(engine, bridge, "timer_wait", |b, ticks: INT| b.unit(Request::TimerWait(small(ticks, "ticks")?)));
    let fs = |b: &Bridge, request: FsRequest| b.ask(Request::Fs(request));
    function!(engine, bridge, "open", |b, path: &str| {
        b.number(Request::Fs(FsRequest::Open { path: path.to_owned(), create: false }))
    });
    function!(engine, bridge, "open", |b, path: &str, create: bool| {
        b.number(Request::Fs(FsRequest::Open { path: path.to_owned(), create }))
    });
    function!(engine, bridge, "create", |b, path: &str| fs(&b, FsRequest::Create { path: path.to_owned() })
        .map(|_| ()));
    function!(engine, bridge, "mkdir", |b, path: &str| fs(&b, FsRequest::Mkdir { path: path.to_owned() }).map(|_| ()));
    function!(engine, bridge, "unlink", |b, path: &str| fs(&b, FsRequest::Unlink { path: path.to_owned() })
        .map(|_| ()));
    function!(engine, bridge, "read", |b, fd: INT, len: INT| {
        b.text(Request::Fs(FsRequest::Read { fd: small(fd, "descriptor")?, len: small(len, "length")? }))
    });
    function!(engine, bridge, "write", |b, fd: INT, text: &str| {
        let request = FsRequest::Write { fd: small(fd, "descriptor")?, data: text.as_bytes().to_vec() };
        fs(&b, request).map(|_| ())
    });
    function!(engine, bridge, "seek", |b, fd: INT, offset: INT| {
        let offset = u64::try_from(offset).map_err(|_| thrown("a negative offset"))?;
        fs(&b, FsRequest::Seek { fd: small(fd, "descriptor")?, offset }).map(|_| ())
    });
    function!(engine, bridge, "close", |b, fd: INT| fs(&b, FsRequest::Close { fd: small(fd, "descriptor")? })
        .map(|_| ()));
    function!(engine, bridge, "stat", |b, path: &str| -> Result<Map> {
        match fs(&b, FsRequest::Stat { path: path.to_owned() })? {
            Answer::Stat(stat) => {
                let mut map = Map::new();
                map.insert("size".into(), Dynamic::from(stat.size as INT));
                map.insert("directory".into(), Dynamic::from(stat.is_directory));
                map.insert("fifo".into(), Dynamic::from(stat.is_fifo));
                Ok(map)
            }
            other => Err(thrown(format!("unexpected answer {other:?}"))),
        }
    });
    function!(engine, bridge, "readdir", |b, path: &str| -> Result<Array> {
        match fs(&b, FsRequest::Readdir { path: path.to_owned() })? {
            Answer::Entries(entries) => Ok(entries.into_iter().map(Dynamic::from).collect()),
            other => Err(thrown(format!("unexpected answer {other:?}"))),
        }
    });
}

fn register_ipc(engine: &mut Engine, bridge: &Arc<Bridge>) {
    const SEND: &[&str] = &["label", "data", "bytes", "pass", "nonblocking", "timeout"];
    const CALL: &[&str] = &["label", "data", "bytes", "pass", "timeout"];
    const RECEIVE: &[&str] = &["from_badge", "nonblocking", "timeout"];
    const REPLY: &[&str] = &["label", "data", "bytes", "pass"];
    function!(engine, bridge, "send", |b, port: INT, label: INT, data: &str| {
        b.unit(Request::Send { port: slot(port)?, message: simple_message(label, data)?, blocking: Blocking::Forever })
    });
    function!(engine, bridge, "send", |b, port: INT, options: Map| {
        let options = Options::new(options, SEND)?;
        b.unit(Request::Send { port: slot(port)?, message: options.message()?, blocking: options.blocking()? })
    });
    function!(engine, bridge, "call_port", |b, port: INT, label: INT, data: &str| -> Result<Map> {
        call(&b, Request::Call { port: slot(port)?, message: simple_message(label, data)?, timeout: None })
    });
    function!(engine, bridge, "call_port", |b, port: INT, options: Map| -> Result<Map> {
        let options = Options::new(options, CALL)?;
        let timeout = options.int("timeout")?.map(cycles).transpose()?;
        call(&b, Request::Call { port: slot(port)?, message: options.message()?, timeout })
    });
    function!(engine, bridge, "receive", |b, port: INT| -> Result<Map> {
        incoming(b.ask(Request::Receive { port: slot(port)?, from: None, blocking: Blocking::Forever })?)
    });
    function!(engine, bridge, "receive", |b, port: INT, options: Map| -> Result<Map> {
        let options = Options::new(options, RECEIVE)?;
        let from = options.int("from_badge")?.map(|badge| Badge(badge as u64));
        incoming(b.ask(Request::Receive { port: slot(port)?, from, blocking: options.blocking()? })?)
    });
    function!(engine, bridge, "reply", |b, message: Map, label: INT, data: &str| {
        b.unit(Request::Reply { reply: reply_slot(&message)?, message: simple_message(label, data)? })
    });
    function!(engine, bridge, "reply", |b, message: Map, options: Map| {
        let options = Options::new(options, REPLY)?;
        b.unit(Request::Reply { reply: reply_slot(&message)?, message: options.message()? })
    });
    function!(engine, bridge, "reply_receive", |b, message: Map, label: INT, data: &str, port: INT| -> Result<Map> {
        let request = Request::ReplyReceive {
            reply: reply_slot(&message)?,
            message: simple_message(label, data)?,
            port: slot(port)?,
        };
        incoming(b.ask(request)?)
    });
    function!(engine, bridge, "reply_receive", |b, message: Map, options: Map, port: INT| -> Result<Map> {
        let options = Options::new(options, REPLY)?;
        let request =
            Request::ReplyReceive { reply: reply_slot(&message)?, message: options.message()?, port: slot(port)? };
        incoming(b.ask(request)?)
    });
}

fn call(bridge: &Bridge, request: Request) -> Result<Map> {
    match bridge.ask(request)? {
        Answer::Reply(reply) => Ok(received(&reply)),
        other => Err(thrown(format!("unexpected answer {other:?}"))),
    }
}

fn register_kernel_objects(engine: &mut Engine, bridge: &Arc<Bridge>) {
    function!(engine, bridge, "create_endpoint", |b| b.number(Request::CreateEndpoint));
    function!(engine, bridge, "create_queue", |b, capacity: INT, policy: &str| {
        let policy = match policy {
            "block" => FullPolicy::Block,
            "fail" => FullPolicy::Fail,
            other => return Err(thrown(format!("a queue's policy is \"block\" or \"fail\", not {other:?}"))),
        };
        b.number(Request::CreateQueue { capacity: small(capacity, "capacity")?, policy })
    });
    function!(engine, bridge, "create_notification", |b| b.number(Request::CreateNotification));
    function!(engine, bridge, "create_region", |b, size: INT| b.number(Request::CreateRegion(small(size, "size")?)));
    function!(engine, bridge, "signal", |b, to: INT, bits: INT| b
        .unit(Request::Signal { to: slot(to)?, bits: bits as u64 }));
    function!(engine, bridge, "wait", |b, on: INT| b.number(Request::Wait { on: slot(on)?, timeout: None }));
    function!(engine, bridge, "wait", |b, on: INT, timeout: INT| {
        b.number(Request::Wait { on: slot(on)?, timeout: Some(cycles(timeout)?) })
    });
    function!(engine, bridge, "poll", |b, on: INT| b.number(Request::Poll(slot(on)?)));
    function!(engine, bridge, "bind", |b, notification: INT| b.unit(Request::Bind(slot(notification)?)));
    function!(engine, bridge, "arm_timer", |b, notification: INT, bits: INT, delay: INT| {
        let request = Request::ArmTimer {
            notification: slot(notification)?,
            bits: bits as u64,
            delay: cycles(delay)?,
            period: None,
        };
        b.unit(request)
    });
    function!(engine, bridge, "arm_timer", |b, notification: INT, bits: INT, delay: INT, period: INT| {
        let period = Some(cycles(period)?);
        let request =
            Request::ArmTimer { notification: slot(notification)?, bits: bits as u64, delay: cycles(delay)?, period };
        b.unit(request)
    });
    function!(engine, bridge, "copy", |b, cap: INT, letters: &str| {
        b.number(Request::Copy { cap: slot(cap)?, rights: rights(letters)? })
    });
    function!(engine, bridge, "mint", |b, cap: INT, letters: &str, badge: INT| {
        b.number(Request::Mint { cap: slot(cap)?, rights: rights(letters)?, badge: Badge(badge as u64) })
    });
    function!(engine, bridge, "delete", |b, cap: INT| b.unit(Request::Delete(slot(cap)?)));
    function!(engine, bridge, "revoke", |b, cap: INT| b.number(Request::Revoke(slot(cap)?)));
    function!(engine, bridge, "region_write", |b, region: INT, offset: INT, text: &str| {
        let request = Request::RegionWrite {
            region: slot(region)?,
            offset: small(offset, "offset")?,
            data: text.as_bytes().to_vec(),
        };
        b.unit(request)
    });
    function!(engine, bridge, "region_read", |b, region: INT, offset: INT, len: INT| {
        b.text(Request::RegionRead {
            region: slot(region)?,
            offset: small(offset, "offset")?,
            len: small(len, "length")?,
        })
    });
    function!(engine, bridge, "watch", |b, process: INT, notification: INT, bits: INT| {
        b.unit(Request::Watch { process: slot(process)?, notification: slot(notification)?, bits: bits as u64 })
    });
    function!(engine, bridge, "is_ready", |b, process: INT| -> Result<bool> {
        match b.ask(Request::IsReady(slot(process)?))? {
            Answer::Flag(ready) => Ok(ready),
            other => Err(thrown(format!("unexpected answer {other:?}"))),
        }
    });
    function!(engine, bridge, "kill", |b, process: INT| b.unit(Request::Kill(slot(process)?)));
    function!(engine, bridge, "restart", |b, process: INT| b.number(Request::Restart(slot(process)?)));
}
