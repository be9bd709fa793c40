//! The rules a scenario must meet: [`Validator`] checks a [`RawScenario`] into
//! a [`Scenario`] (kernel settings, servers, objects, processes, their
//! capabilities, registrations and services, and the expectations) and points
//! each error at the item at fault, by line and column when there is a text.
//!
//! It reads no file and parses no text: `mod.rs` hands it what RON read, and
//! the search for where an item is written is `syntax.rs`'s.

use super::errors::{OpPart, Validator, process_item};
use super::faults;
use super::files::load_profile;
use super::limits::{Bound, Int, MEMORY_LIMIT_MIN_BYTES, POINTS_MAX, STEP_LIMIT_MAX, TIMER_PERIOD_MIN_CYCLES};
use super::syntax::Step;
use super::wording::{did_you_mean, quoted, shown};
use super::{
    EXPECTATION_FIELDS, Expectations, ProcessDecl, ProgramDecl, RawBlock, RawKernel, RawObject, RawObjectKind,
    RawProcess, RawProgram, RawScenario, RawServers, Scenario, ScenarioError,
};
use mksim_kernel::{Badge, CostProfile, FullPolicy, KernelConfig, Limits, MEMORY_LIMIT_BYTES_DEFAULT, Priority};
use mksim_servers::filesystem::FsConfig;
use mksim_servers::mqueue::MqConfig;
use mksim_servers::needs::{Demand, ServerNeeds, server_needs};
use mksim_servers::service::Service;
use mksim_servers::socket::SocketConfig;
use mksim_servers::system::{BlockServerSpec, CapSpec, ObjectSpec, ObjectSpecKind, Servers};
use mksim_userland::protocol::Service as ProtocolService;
use mksim_userland::script::{Op, Policy};
use mksim_userland::script::{check_names, parse_rights};
use std::collections::{BTreeMap, BTreeSet};

/// The largest block: one block and its reply header must fit in one message.
const BLOCK_SIZE_MAX: u64 = 1000;
/// The largest buffer a socket connection may have in each direction.
const SOCKET_BUFFER_BYTES_MAX: u64 = 65_536;
/// The fewest bytes in a block: the file system's metadata must fit.
const BLOCK_SIZE_MIN: u64 = 64;
/// The most blocks a ramdisk may have (64 MiB at the largest block size).
const BLOCKS_MAX: u64 = 65_536;
/// The fewest blocks a ramdisk may have: the file system's metadata and a few files.
const BLOCKS_MIN: u64 = 8;

/// Every operation of a program, nested ones included, with its path (see
/// [`Validator::op_error`]). A stack, not recursion: nesting is as deep as the text allows.
fn walk_ops(program: &[Op]) -> Vec<(&Op, Vec<usize>)> {
    let mut found = Vec::new();
    let mut stack: Vec<(&Op, Vec<usize>)> = program.iter().enumerate().rev().map(|(at, op)| (op, vec![at])).collect();
    while let Some((op, path)) = stack.pop() {
        match op {
            Op::Repeat { ops, .. } => {
                for (at, inner) in ops.iter().enumerate().rev() {
                    stack.push((inner, [path.as_slice(), &[at]].concat()));
                }
            }
            Op::Fails { op: inner, .. } => stack.push((inner, [path.as_slice(), &[0]].concat())),
            _ => {}
        }
        found.push((op, path));
    }
    found
}

/// What the programs ask of the servers, which some servers' needs grow with.
fn demand(processes: &[RawProcess]) -> Demand {
    let registered: BTreeSet<&str> =
        processes.iter().flat_map(|process| process.may_register.iter().map(String::as_str)).collect();
    let timer_clients = processes
        .iter()
        .filter(|process| walk_ops(process.program.ops()).iter().any(|(op, _)| matches!(op, Op::TimerWait(_))))
        .count();
    let socket_clients = processes
        .iter()
        .filter(|process| {
            walk_ops(process.program.ops()).iter().any(|(op, _)| op.service() == Some(ProtocolService::Socket))
        })
        .count();
    // Any process may wait on a pipe: scripts in the language do not show what they use.
    Demand { names_registered: registered.len(), timer_clients, pipe_clients: processes.len(), socket_clients }
}

/// What a process's validation needs to know of the rest of the scenario.
struct Context<'a> {
    servers: &'a Servers,
    limits: &'a Limits,
    /// Every object's name.
    declared: BTreeSet<&'a str>,
    /// The objects each process owns, by owner.
    owned: BTreeMap<&'a str, Vec<&'a str>>,
    /// Names some process may look up.
    lookups: BTreeSet<String>,
    /// Where each process's inline script begins in the text.
    inline_origins: Vec<(usize, usize)>,
}

impl Validator<'_> {
    pub(super) fn scenario(&self, raw: RawScenario) -> Result<Scenario, ScenarioError> {
        let profile = self.profile(&raw.kernel.profile, "profile")?;
        let monolithic_profile = match &raw.kernel.monolithic_profile {
            Some(name) => Some(self.profile(name, "monolithic_profile")?),
            None => None,
        };
        let mut servers = self.servers(&raw.servers)?;
        servers.supervisor = self.supervisor(raw.servers.supervisor.as_ref(), &servers)?;
        let faults = self.faults(&raw.faults, &servers)?;
        let names = self.process_names(&raw.processes, &servers)?;
        let needs = server_needs(&servers, demand(&raw.processes));
        let kernel = self.kernel(&raw.kernel, profile, &needs)?;
        let objects = self.objects(&raw.objects, &names, &kernel.limits)?;
        let mut owned: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
        for object in &raw.objects {
            owned.entry(object.owner.as_str()).or_default().push(object.name.as_str());
        }
        let context = Context {
            servers: &servers,
            limits: &kernel.limits,
            declared: raw.objects.iter().map(|object| object.name.as_str()).collect(),
            owned,
            lookups: self.registrable_names(&raw.processes, &servers),
            inline_origins: self.inline_origins(&raw.processes),
        };
        let mut processes = Vec::new();
        for (index, process) in raw.processes.iter().enumerate() {
            processes.push(self.process(index, process, &context)?);
        }
        self.expectations(&raw.expect, &names)?;
        Ok(Scenario {
            name: raw.name,
            description: raw.description,
            notes: self.notes(raw.notes.as_deref())?,
            file: self.file.to_owned(),
            kernel,
            monolithic_profile,
            servers,
            objects,
            processes,
            faults,
            expect: raw.expect,
            params: BTreeMap::new(),
        })
    }

    /// The notes, their whitespace made single spaces; none when they say nothing.
    fn notes(&self, notes: Option<&str>) -> Result<Option<String>, ScenarioError> {
        let Some(notes) = notes.map(super::notes::normalize).filter(|notes| !notes.is_empty()) else {
            return Ok(None);
        };
        let length = notes.chars().count();
        if length > super::notes::NOTES_CHARS_MAX {
            let message = format!("the notes hold {length} characters; at most {} fit", super::notes::NOTES_CHARS_MAX);
            return Err(self.fail(&[Step::Field("notes")], "notes".into(), message));
        }
        Ok(Some(notes))
    }

    /// The cost profile `name` given in the kernel's field `field`, refused at its value.
    fn profile(&self, name: &str, field: &str) -> Result<CostProfile, ScenarioError> {
        load_profile(name).map_err(|message| {
            self.fail(&[Step::Field("kernel"), Step::Field(field)], format!("kernel.{field}"), message)
        })
    }

    fn kernel(
        &self,
        raw: &RawKernel,
        profile: CostProfile,
        needs: &ServerNeeds,
    ) -> Result<KernelConfig, ScenarioError> {
        let field = |name: &'static str, value: Int, min: Bound, max: Bound| {
            let path = [Step::Field("kernel"), Step::Field(name)];
            self.number(Some(value), 0, (min, max), name, || format!("kernel.{name}"), &path)
        };
        let step_limit = field(
            "step_limit",
            raw.step_limit,
            Bound::plain(1),
            Bound::because(STEP_LIMIT_MAX, "a run's event log grows with its steps"),
        )?;
        // A scenario may lower the memory budget, never raise it: the command line's
        // --memory-limit is for whoever runs a scenario to give a run more.
        let memory_limit_bytes = field(
            "memory_limit",
            raw.memory_limit,
            Bound::because(MEMORY_LIMIT_MIN_BYTES, "a run's first events and the servers' boot need that much"),
            Bound::because(MEMORY_LIMIT_BYTES_DEFAULT, "a scenario may lower the budget, not raise it"),
        )?;
        let timeslice_cycles =
            field("timeslice_cycles", raw.timeslice_cycles, Bound::plain(1), Bound::plain(u64::MAX))?;
        let limits = self.limits(&raw.limits, needs)?;
        Ok(KernelConfig {
            profile,
            seed: raw.seed,
            step_limit,
            memory_limit_bytes,
            priority_inheritance: raw.priority_inheritance,
            deadlock_policy: raw.deadlock,
            timeslice_cycles,
            limits,
        })
    }

    fn servers(&self, raw: &RawServers) -> Result<Servers, ScenarioError> {
        let check = |level: Int, server: &str| {
            let path = [Step::Field("servers"), Step::Field(server), Step::Field("priority")];
            self.priority_at(level, || format!("servers.{server}.priority"), &path)
        };
        let block = match (raw.block, raw.file) {
            (Some(block), _) => Some(block),
            (None, Some(_)) => Some(RawBlock::default()),
            (None, None) => None,
        };
        let block = match block {
            Some(block) => Some(self.block(block, check(block.priority, "block")?)?),
            None => None,
        };
        let file = match raw.file {
            Some(file) => Some((
                check(file.priority, "file")?,
                FsConfig { cache_blocks: file.cache_blocks, ..FsConfig::default() },
            )),
            None => None,
        };
        let timer = match raw.timer {
            Some(timer) => {
                let path = [Step::Field("servers"), Step::Field("timer"), Step::Field("period_cycles")];
                let why = "a shorter tick costs the timer server more cycles than the tick has, and the run \
                           never gets past it";
                let min = Bound::because(TIMER_PERIOD_MIN_CYCLES, why);
                let item = || "servers.timer.period_cycles".to_owned();
                let period = self.number(
                    Some(timer.period_cycles),
                    0,
                    (min, Bound::plain(u64::MAX)),
                    "period_cycles",
                    item,
                    &path,
                )?;
                Some((check(timer.priority, "timer")?, period))
            }
            None => None,
        };
        let mq = match raw.mq {
            Some(mq) => Some((check(mq.priority, "mq")?, MqConfig::default())),
            None => None,
        };
        let pipe = match raw.pipe {
            Some(pipe) => Some(self.pipe(pipe)?),
            None => None,
        };
        let socket = match raw.sock {
            Some(sock) => {
                let path = [Step::Field("servers"), Step::Field("sock"), Step::Field("buffer_bytes")];
                let bounds = (Bound::plain(1), Bound::plain(SOCKET_BUFFER_BYTES_MAX));
                let item = || "servers.sock.buffer_bytes".to_owned();
                let buffer_bytes = self.number(Some(sock.buffer_bytes), 0, bounds, "buffer_bytes", item, &path)?;
                let config = SocketConfig { buffer_bytes: buffer_bytes as usize, ..SocketConfig::default() };
                Some((check(sock.priority, "sock")?, config))
            }
            None => None,
        };
        Ok(Servers {
            mq,
            socket,
            name: raw.name.then(|| Service::Name.default_priority()),
            console: raw.console.then(|| Service::Console.default_priority()),
            block,
            file,
            timer,
            pipe,
            supervisor: None,
        })
    }

    /// The block server: a block travels in one message, and the whole disk lives in memory.
    fn block(&self, raw: RawBlock, priority: Priority) -> Result<BlockServerSpec, ScenarioError> {
        let field = |name: &'static str, value: Int, min: u64, max: u64| {
            let path = [Step::Field("servers"), Step::Field("block"), Step::Field(name)];
            let bounds = (Bound::plain(min), Bound::plain(max));
            self.number(Some(value), 0, bounds, name, || format!("servers.block.{name}"), &path)
        };
        let blocks = field("blocks", raw.blocks, BLOCKS_MIN, BLOCKS_MAX)?;
        let block_size = field("block_size", raw.block_size, BLOCK_SIZE_MIN, BLOCK_SIZE_MAX)?;
        Ok(BlockServerSpec {
            priority,
            blocks: blocks as u32,
            block_size: block_size as usize,
            latency_cycles: raw.latency_cycles,
        })
    }

    fn process_names(&self, processes: &[RawProcess], servers: &Servers) -> Result<BTreeSet<String>, ScenarioError> {
        let mut names = BTreeSet::new();
        for (index, process) in processes.iter().enumerate() {
            let name = [Step::Field("processes"), Step::Index(index), Step::Field("name")];
            if process.name.is_empty() {
                let item = format!("process #{}", index + 1);
                return Err(self.fail(&name, item, "a process needs a name".into()));
            }
            let item = || process_item(&process.name);
            if server_booted(servers, &process.name) {
                return Err(self.fail(&name, item(), "this name belongs to a built-in server".into()));
            }
            if !names.insert(process.name.clone()) {
                return Err(self.fail(&name, item(), "declared twice".into()));
            }
            let path = [Step::Field("processes"), Step::Index(index), Step::Field("priority")];
            self.priority_at(process.priority, || format!("{}, field `priority`", item()), &path)?;
        }
        if processes.is_empty() {
            let message = "a scenario needs at least one process".into();
            return Err(self.fail(&[Step::Field("processes")], "processes".into(), message));
        }
        Ok(names)
    }

    /// The objects, each checked against the scenario's own limits.
    fn objects(
        &self,
        raw: &[RawObject],
        processes: &BTreeSet<String>,
        limits: &Limits,
    ) -> Result<Vec<ObjectSpec>, ScenarioError> {
        let mut seen = BTreeSet::new();
        let mut owned: BTreeMap<&str, usize> = BTreeMap::new();
        let mut objects = Vec::new();
        for (index, object) in raw.iter().enumerate() {
            let path = |field| [Step::Field("objects"), Step::Index(index), Step::Field(field)];
            let item = || format!("object {}", quoted(&object.name));
            let field_item = |field: &str| format!("{}, field `{field}`", item());
            if !seen.insert(object.name.as_str()) {
                return Err(self.fail(&path("name"), item(), "declared twice".into()));
            }
            if !processes.contains(&object.owner) {
                let mut message = format!("owner {} is not a process of this scenario", quoted(&object.owner));
                let names: Vec<&str> = processes.iter().map(String::as_str).collect();
                if let Some(name) = did_you_mean(&object.owner, &names) {
                    message.push_str(&format!("; did you mean \"{name}\"?"));
                }
                return Err(self.fail(&path("owner"), field_item("owner"), message));
            }
            let count = owned.entry(object.owner.as_str()).or_default();
            *count += 1;
            if *count > limits.objects_per_process_max {
                let message = format!(
                    "its owner {} would own more objects than the scenario's \
                     kernel.limits.objects_per_process_max ({}) allows",
                    quoted(&object.owner),
                    limits.objects_per_process_max
                );
                return Err(self.fail(&path("owner"), field_item("owner"), message));
            }
            let kind = match &object.kind {
                RawObjectKind::Endpoint => ObjectSpecKind::Endpoint,
                RawObjectKind::Queue { capacity, policy } => {
                    let (capacity, policy) = (*capacity, *policy);
                    let most = u64::from(limits.queue_capacity_max);
                    let max =
                        Bound::because(most, format!("the scenario's kernel.limits.queue_capacity_max is {most}"));
                    let kind =
                        [Step::Field("objects"), Step::Index(index), Step::Field("kind"), Step::Field("capacity")];
                    let capacity = self.number(
                        Some(capacity),
                        0,
                        (Bound::plain(1), max),
                        "capacity",
                        || field_item("capacity"),
                        &kind,
                    )?;
                    let policy = match policy {
                        Policy::Block => FullPolicy::Block,
                        Policy::Fail => FullPolicy::Fail,
                    };
                    ObjectSpecKind::Queue { capacity: capacity as u32, policy }
                }
                RawObjectKind::Notification => ObjectSpecKind::Notification,
                RawObjectKind::Region { size } => {
                    let size = *size;
                    let most = u64::from(limits.region_bytes_max);
                    let max = Bound::because(most, format!("the scenario's kernel.limits.region_bytes_max is {most}"));
                    let kind = [Step::Field("objects"), Step::Index(index), Step::Field("kind"), Step::Field("size")];
                    let size =
                        self.number(Some(size), 0, (Bound::plain(0), max), "size", || field_item("size"), &kind)?;
                    ObjectSpecKind::Region { size: size as u32 }
                }
                RawObjectKind::ProcessHandle { process } => {
                    if !processes.contains(process) {
                        let mut message = format!("{} is not a process of this scenario", quoted(process));
                        let names: Vec<&str> = processes.iter().map(String::as_str).collect();
                        if let Some(name) = did_you_mean(process, &names) {
                            message.push_str(&format!("; did you mean \"{name}\"?"));
                        }
                        let kind =
                            [Step::Field("objects"), Step::Index(index), Step::Field("kind"), Step::Field("process")];
                        return Err(self.fail(&kind, field_item("process"), message));
                    }
                    ObjectSpecKind::ProcessHandle { process: process.clone() }
                }
            };
            objects.push(ObjectSpec { name: object.name.clone(), kind, owner: object.owner.clone() });
        }
        Ok(objects)
    }

    /// Names some process may look up: booted services and names some process may register.
    fn registrable_names(&self, processes: &[RawProcess], servers: &Servers) -> BTreeSet<String> {
        let mut names: BTreeSet<String> =
            processes.iter().flat_map(|process| process.may_register.iter().cloned()).collect();
        for service in Service::ALL.into_iter().filter(|&service| service.is_looked_up() && servers.boots(service)) {
            names.insert(service.name().to_owned());
        }
        names
    }

    fn process(&self, index: usize, raw: &RawProcess, context: &Context<'_>) -> Result<ProcessDecl, ScenarioError> {
        let owned = context.owned.get(raw.name.as_str()).map_or(&[][..], Vec::as_slice);
        let mut known: BTreeSet<String> = owned.iter().map(|&name| name.to_owned()).collect();
        let caps = self.caps(index, raw, context)?;
        known.extend(caps.iter().map(|cap| cap.name.clone()));
        self.registrations(index, raw, context.servers)?;
        let name_server = usize::from(raw.name_server && context.servers.name.is_some());
        let initial = name_server + owned.len() + caps.len();
        if initial > context.limits.capability_slots_max {
            let message = format!(
                "starts with {initial} capabilities ({name_server} to the name server, {} to objects it owns, {} \
                 in `caps`), more than the scenario's kernel.limits.capability_slots_max ({})",
                owned.len(),
                caps.len(),
                context.limits.capability_slots_max
            );
            let path = [Step::Field("processes"), Step::Index(index), Step::Field("name")];
            return Err(self.fail(&path, process_item(&raw.name), message));
        }
        let program = match &raw.program {
            RawProgram::Ops(ops) => {
                check_names(ops, &mut known).map_err(|error| {
                    let part = error.field.map_or(OpPart::Value, OpPart::Field);
                    self.op_error(index, raw, &error.path, part, error.message)
                })?;
                self.services_used(index, raw, context)?;
                ProgramDecl::Ops(ops.clone())
            }
            RawProgram::Script(source) => {
                let script = self.script(index, &raw.name, source, &context.inline_origins)?;
                self.script_caps(&raw.name, &script, &known)?;
                ProgramDecl::Script(script)
            }
        };
        Ok(ProcessDecl {
            name: raw.name.clone(),
            priority: Int::within(raw.priority, 0, 31)
                .and_then(|level| Priority::new(level as u8))
                .expect("checked with the names"),
            server: raw.server,
            name_server: raw.name_server,
            may_register: raw.may_register.clone(),
            caps,
            keep_going: raw.keep_going,
            recover: raw.recover,
            program,
        })
    }

    /// The capabilities a process starts with, each to a declared object with rights that exist.
    fn caps(&self, index: usize, raw: &RawProcess, context: &Context<'_>) -> Result<Vec<CapSpec>, ScenarioError> {
        let mut caps = Vec::new();
        for (at, cap) in raw.caps.iter().enumerate() {
            let path = |field| {
                [Step::Field("processes"), Step::Index(index), Step::Field("caps"), Step::Index(at), Step::Field(field)]
            };
            let item =
                |field: &str| format!("{}, capability {}, field `{field}`", process_item(&raw.name), quoted(&cap.name));
            if !context.declared.contains(cap.object.as_str()) {
                let mut message = format!("names object {}, which the scenario does not declare", quoted(&cap.object));
                let declared: Vec<&str> = context.declared.iter().copied().collect();
                if let Some(name) = did_you_mean(&cap.object, &declared) {
                    message.push_str(&format!("; did you mean \"{name}\"?"));
                }
                return Err(self.fail(&path("object"), item("object"), message));
            }
            let rights = parse_rights(&cap.rights).map_err(|bad| {
                let message =
                    format!("`{}` in {} is not a right (use s r g R W)", shown(&bad.to_string()), quoted(&cap.rights));
                self.fail(&path("rights"), item("rights"), message)
            })?;
            caps.push(CapSpec { name: cap.name.clone(), object: cap.object.clone(), rights, badge: Badge(cap.badge) });
        }
        Ok(caps)
    }

    /// The names a process may register: not a built-in service's, and only with a name server.
    fn registrations(&self, index: usize, raw: &RawProcess, servers: &Servers) -> Result<(), ScenarioError> {
        let item = || format!("{}, field `may_register`", process_item(&raw.name));
        for (at, name) in raw.may_register.iter().enumerate() {
            if Service::is_reserved(name) {
                let path = [Step::Field("processes"), Step::Index(index), Step::Field("may_register"), Step::Index(at)];
                let message =
                    format!("{} is the name of a built-in service, which no process may register", quoted(name));
                return Err(self.fail(&path, item(), message));
            }
        }
        if !raw.may_register.is_empty() && servers.name.is_none() {
            let path = [Step::Field("processes"), Step::Index(index), Step::Field("may_register")];
            return Err(self.fail(&path, item(), "may_register needs the name server".into()));
        }
        Ok(())
    }

    /// Every service a program uses must be booted; every name it looks up must be registrable.
    fn services_used(&self, index: usize, raw: &RawProcess, context: &Context<'_>) -> Result<(), ScenarioError> {
        let servers = context.servers;
        for (op, path) in walk_ops(raw.program.ops()) {
            let missing = match op {
                Op::Print(_) if servers.console.is_none() => {
                    Some(("Print", "the console server (servers: (console: true))"))
                }
                Op::TimerWait(_) if servers.timer.is_none() => {
                    Some(("TimerWait", "the timer server (servers: (timer: (period_cycles: N)))"))
                }
                Op::Open { .. }
                | Op::Create(_)
                | Op::Mkdir(_)
                | Op::Mkfifo(_)
                | Op::Unlink(_)
                | Op::Stat { .. }
                | Op::Readdir { .. }
                    if servers.file.is_none() =>
                {
                    Some(("a file operation", "the file server (servers: (file: ()))"))
                }
                // The file server finds the FIFO by its path, the pipe server opens it.
                Op::OpenFifo { .. } if servers.file.is_none() || servers.pipe.is_none() => {
                    Some(("OpenFifo", "the file server and the pipe server (servers: (file: (), pipe: ()))"))
                }
                op if op.service() == Some(ProtocolService::MessageQueue) && servers.mq.is_none() => {
                    Some(("a message-queue operation", "the message-queue server (servers: (mq: ()))"))
                }
                op if op.service() == Some(ProtocolService::Pipe) && servers.pipe.is_none() => {
                    Some(("a pipe operation", "the pipe server (servers: (pipe: ()))"))
                }
                op if op.service() == Some(ProtocolService::Socket) && servers.socket.is_none() => {
                    Some(("a socket operation", "the socket server (servers: (sock: ()))"))
                }
                Op::Lookup { name, .. } if !context.lookups.contains(name) => {
                    let mut message = format!(
                        "looks up {}, which no process may register and no booted server provides",
                        quoted(name)
                    );
                    let known: Vec<&str> = context.lookups.iter().map(String::as_str).collect();
                    if let Some(known) = did_you_mean(name, &known) {
                        message.push_str(&format!("; did you mean \"{known}\"?"));
                    }
                    return Err(self.op_error(index, raw, &path, OpPart::Field("name"), message));
                }
                _ => None,
            };
            if let Some((what, needs)) = missing {
                return Err(self.op_error(index, raw, &path, OpPart::Whole, format!("{what} needs {needs}")));
            }
        }
        Ok(())
    }

    fn expectations(&self, expect: &Expectations, names: &BTreeSet<String>) -> Result<(), ScenarioError> {
        for server in expect.restarts.keys() {
            if !Service::from_name(server).is_some_and(Service::is_faultable) {
                let path = [Step::Field("expect"), Step::Field("restarts"), Step::Entry(server)];
                let message = format!("only {} can be restarted", faults::faultable_list());
                return Err(self.fail_key(&path, format!("expect.restarts {}", quoted(server)), message));
            }
        }
        let known: Vec<&str> = names.iter().map(String::as_str).collect();
        let unknown = |name: &str| {
            let mut message = "is not a process of this scenario".to_owned();
            if let Some(known) = did_you_mean(name, &known) {
                message.push_str(&format!("; did you mean \"{known}\"?"));
            }
            message
        };
        for (field, keys) in
            [("exit_codes", expect.exit_codes.keys().collect::<Vec<_>>()), ("console", expect.console.keys().collect())]
        {
            if let Some(name) = keys.into_iter().find(|name| !names.contains(*name)) {
                let path = [Step::Field("expect"), Step::Field(field), Step::Entry(name)];
                return Err(self.fail_key(&path, format!("expect.{field} {}", quoted(name)), unknown(name)));
            }
        }
        if let Some((at, name)) = expect.faulted.iter().enumerate().find(|(_, name)| !names.contains(*name)) {
            let path = [Step::Field("expect"), Step::Field("faulted"), Step::Index(at)];
            return Err(self.fail(&path, format!("expect.faulted {}", quoted(name)), unknown(name)));
        }
        self.points(expect)
    }

    /// Points are given to fields of `expect`, each a whole number within [`POINTS_MAX`].
    fn points(&self, expect: &Expectations) -> Result<(), ScenarioError> {
        for (field, &points) in &expect.points {
            let path = [Step::Field("expect"), Step::Field("points"), Step::Entry(field)];
            let item = || format!("expect.points {}", quoted(field));
            if !EXPECTATION_FIELDS.contains(&field.as_str()) {
                let mut message = format!("{} is not a field of `expect` that earns points", quoted(field));
                match did_you_mean(field, &EXPECTATION_FIELDS) {
                    Some(known) => message.push_str(&format!("; did you mean \"{known}\"?")),
                    None => message.push_str(&format!(" (they are: {})", EXPECTATION_FIELDS.join(", "))),
                }
                return Err(self.fail_key(&path, item(), message));
            }
            let bounds = (Bound::plain(0), Bound::plain(POINTS_MAX));
            self.number(Some(points), 0, bounds, "points", item, &path)?;
        }
        Ok(())
    }
}

pub(super) fn server_booted(servers: &Servers, name: &str) -> bool {
    Service::from_name(name).is_some_and(|service| servers.boots(service))
}
