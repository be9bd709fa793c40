//! A name lookup answers the same in microkernel and monolithic mode, with or
//! without a name server, whichever services are booted and whatever names
//! programs register; and no program registers a system service's name in
//! either mode.
//!
//! The systems are built directly (not from scenario files), so cases the
//! scenario validator refuses up front (looking up a service that is not
//! booted, `may_register: ["console"]`) are run too: the rule must hold at
//! run time whatever the validator lets through.

use mksim_kernel::{Badge, EventKind, KernelConfig, Priority, ProcessState, Rights};
use mksim_servers::filesystem::FsConfig;
use mksim_servers::system::{
    BlockServerSpec, Mode, ObjectSpec, ObjectSpecKind, ProgramFn, ProgramSpec, Servers, System, SystemSpec, boot,
};
use mksim_userland::interpreter;
use mksim_userland::script::Op;

fn level(value: u8) -> Priority {
    Priority::new(value).expect("in range")
}

/// Which parts of the system a case boots.
#[derive(Clone, Copy, Debug)]
struct Case {
    name_service: bool,
    console: bool,
    file: bool,
    timer: bool,
    /// A server registers "echo" before anyone looks.
    echo_registered: bool,
}

impl Case {
    fn every() -> Vec<Case> {
        let both = [false, true];
        let mut cases = Vec::new();
        for name_service in both {
            for console in both {
                for file in both {
                    for timer in both {
                        for echo_registered in both {
                            cases.push(Case { name_service, console, file, timer, echo_registered });
                        }
                    }
                }
            }
        }
        cases
    }

    fn servers(self) -> Servers {
        let block = BlockServerSpec { priority: level(18), blocks: 32, block_size: 128, latency_cycles: 1000 };
        Servers {
            name: self.name_service.then(|| level(20)),
            console: self.console.then(|| level(12)),
            block: self.file.then_some(block),
            file: self.file.then(|| (level(15), FsConfig::default())),
            timer: self.timer.then(|| (level(14), 10_000)),
            pipe: None,
            supervisor: None,
            mq: None,
            socket: None,
        }
    }

    /// What microkernel mode answers, worked out from the rules: no name server capability
    /// is an invalid capability; a booted service or a registered name is found; anything else
    /// is not found.
    fn expected(self, name: &str, name_access: bool) -> &'static str {
        if !(self.name_service && name_access) {
            return "step 1 (lookup): invalid capability";
        }
        let found = match name {
            "console" => self.console,
            "fs" => self.file,
            "timer" => self.timer,
            "echo" => self.echo_registered,
            _ => false,
        };
        if found { "exited 0" } else { "step 1 (lookup): not found" }
    }
}

const NAMES: [&str; 5] = ["console", "fs", "timer", "echo", "nobody"];

fn script(ops: Vec<Op>) -> ProgramFn {
    Box::new(move |services, caps| Box::pin(interpreter::run(services, caps, ops, false)))
}

fn program(name: String, priority: u8, name_server: bool, ops: Vec<Op>) -> ProgramSpec {
    ProgramSpec {
        name,
        priority: level(priority),
        is_server: false,
        name_server,
        may_register: Vec::new(),
        caps: Vec::new(),
        program: script(ops),
    }
}

/// A looker finds `name`, then proves it holds a capability: copies it and deletes the copy.
fn looker(name: &str, name_access: bool) -> ProgramSpec {
    let ops = vec![
        Op::Lookup { name: name.to_owned(), name_as: "found".into() },
        Op::Copy { cap: "found".into(), rights: "s".into(), name_as: "copy".into() },
        Op::Delete("copy".into()),
    ];
    program(format!("{name}/{name_access}"), 5, name_access, ops)
}

/// A server that registers its endpoint under `name` and then waits on it.
fn registrar(process: &str, name: &str) -> (ObjectSpec, ProgramSpec) {
    let object = ObjectSpec { name: "port".into(), kind: ObjectSpecKind::Endpoint, owner: process.into() };
    let ops = vec![
        Op::Register { name: name.into(), cap: "port".into() },
        Op::Receive {
            on: "port".into(),
            name_as: None,
            from_badge: None,
            nonblocking: false,
            timeout: None,
            expect: None,
            expect_badge: None,
            caps_as: Vec::new(),
        },
    ];
    let mut spec = program(process.into(), 9, true, ops);
    spec.is_server = true;
    spec.may_register = vec![name.into()];
    (object, spec)
}

fn run(servers: Servers, objects: Vec<ObjectSpec>, programs: Vec<ProgramSpec>, mode: Mode) -> System {
    let spec = SystemSpec { kernel: KernelConfig::default(), servers, objects, programs, faults: Vec::new() };
    let mut system = boot(spec, mode);
    let outcome = system.kernel.run().clone();
    assert!(!matches!(outcome, mksim_kernel::Outcome::StepLimit { .. }), "{mode:?}: {outcome:?}");
    system
}

/// How each process ended: `exited N`, the failed step, `waiting` (a server), or its state.
fn endings(system: &System) -> Vec<(String, String)> {
    system
        .kernel
        .processes()
        .iter()
        .filter(|process| system.programs.iter().any(|(name, _)| name == process.name()))
        .map(|process| {
            let ending = match (process.state(), process.fault_detail()) {
                (ProcessState::Exited { code }, _) => format!("exited {code}"),
                (_, Some(detail)) => detail.trim_start_matches("failed with code 1: ").to_owned(),
                (state, None) if state.is_blocked() => "waiting".to_owned(),
                (state, None) => format!("{state:?}"),
            };
            (process.name().to_owned(), ending)
        })
        .collect()
}

fn run_case(case: Case, mode: Mode) -> Vec<(String, String)> {
    let mut objects = Vec::new();
    let mut programs = Vec::new();
    if case.echo_registered {
        let (object, server) = registrar("echo server", "echo");
        objects.push(object);
        programs.push(server);
    }
    for name in NAMES {
        for name_access in [true, false] {
            programs.push(looker(name, name_access));
        }
    }
    endings(&run(case.servers(), objects, programs, mode))
}

#[test]
fn a_lookup_answers_the_same_in_both_modes_in_every_combination() {
    for case in Case::every() {
        let microkernel = run_case(case, Mode::Microkernel);
        let monolithic = run_case(case, Mode::Monolithic);
        assert_eq!(microkernel, monolithic, "{case:?}: the modes disagree");
        for name in NAMES {
            for name_access in [true, false] {
                let process = format!("{name}/{name_access}");
                let ending = microkernel.iter().find(|(name, _)| *name == process).map(|(_, ending)| ending.as_str());
                assert_eq!(ending, Some(case.expected(name, name_access)), "{case:?}: {process}");
            }
        }
    }
}

#[test]
fn a_monolithic_lookup_of_a_kernel_service_needs_no_name_server_and_sends_no_message() {
    let case = Case { name_service: true, console: true, file: false, timer: false, echo_registered: false };
    let system = run(case.servers(), Vec::new(), vec![looker("console", true)], Mode::Monolithic);
    assert!(system.kernel.processes().iter().all(|process| process.name() != "name"), "no name server booted");
    let log = system.kernel.log();
    let lookups: Vec<String> = log
        .events()
        .iter()
        .filter_map(|event| match event.kind {
            EventKind::ServiceCalled { message } => Some(log.message_content(message)),
            EventKind::MessageSent { .. } => Some("a message".into()),
            _ => None,
        })
        .collect();
    assert_eq!(lookups, vec![r#"name.lookup("console")"#.to_owned()], "one call into the kernel, no message");
}

/// A process the scenario lets register "console" (and "fs") is refused in both modes, and
/// another client's lookup and write reach the real console, never the impostor.
#[test]
fn an_impostor_cannot_register_a_system_name_in_either_mode() {
    for mode in [Mode::Microkernel, Mode::Monolithic] {
        let (object, mut impostor) = registrar("impostor", "console");
        impostor.may_register.push("fs".into());
        impostor.is_server = false;
        let client = program(
            "client".into(),
            5,
            true,
            vec![Op::Lookup { name: "console".into(), name_as: "console".into() }, Op::Print("hello\n".into())],
        );
        let case = Case { name_service: true, console: true, file: true, timer: false, echo_registered: false };
        let system = run(case.servers(), vec![object], vec![impostor, client], mode);

        let endings = endings(&system);
        assert_eq!(
            endings,
            vec![
                ("impostor".to_owned(), "step 1 (register): permission denied".to_owned()),
                ("client".to_owned(), "exited 0".to_owned()),
            ],
            "{mode:?}"
        );
        assert_eq!(system.console.borrow().by_process().get("client").map(String::as_str), Some("hello\n"));
        let (_, impostor) = system.programs[0];
        let delivered_to_impostor = system
            .kernel
            .log()
            .events()
            .iter()
            .filter(|event| event.process == impostor && matches!(event.kind, EventKind::MessageDelivered { .. }))
            .count();
        assert_eq!(delivered_to_impostor, 1, "{mode:?}: only the name server's refusal reached the impostor");
    }
}

/// The capability a lookup answers with is a send capability badged for the client, in both
/// modes.
#[test]
fn the_capability_found_is_send_only_and_badged_for_the_client() {
    for mode in [Mode::Microkernel, Mode::Monolithic] {
        let case = Case { name_service: true, console: true, file: false, timer: false, echo_registered: false };
        let mut client = looker("console", true);
        client.is_server = true;
        client.program = script(vec![
            Op::Lookup { name: "console".into(), name_as: "found".into() },
            Op::Receive {
                on: "own".into(),
                name_as: None,
                from_badge: None,
                nonblocking: false,
                timeout: None,
                expect: None,
                expect_badge: None,
                caps_as: Vec::new(),
            },
        ]);
        let own = ObjectSpec { name: "own".into(), kind: ObjectSpecKind::Endpoint, owner: client.name.clone() };
        let system = run(case.servers(), vec![own], vec![client], mode);
        let (_, id) = system.programs[0];
        let found: Vec<(Rights, Badge)> = system
            .kernel
            .capabilities(id)
            .into_iter()
            .filter(|(_, capability, _)| capability.rights == Rights::SEND)
            .map(|(_, capability, _)| (capability.rights, capability.badge))
            .collect();
        assert_eq!(found, vec![(Rights::SEND, Badge(mksim_servers::system::client_badge(id)))], "{mode:?}");
    }
}

/// A lookup whose answer finds the caller's table full says so, in both modes: the name
/// server's capability is lost on the way (microkernel mode), or the kernel has no slot to put
/// its port's capability in (monolithic mode).
#[test]
fn a_lookup_into_a_full_table_is_quota_exceeded_in_both_modes() {
    let slots = 8;
    let mut answers = Vec::new();
    for mode in [Mode::Microkernel, Mode::Monolithic] {
        // "echo" is registered, so the name server runs in both modes and the looker's table
        // holds the same capabilities in both: its name-server capability and what it creates.
        let (object, server) = registrar("echo server", "echo");
        let mut programs = vec![server];
        for name in ["console", "echo"] {
            let mut ops: Vec<Op> = (1..slots).map(|index| Op::CreateEndpoint(format!("filler {index}"))).collect();
            ops.push(Op::Lookup { name: name.into(), name_as: "found".into() });
            programs.push(program(format!("{name}/full"), 5, true, ops));
        }
        let case = Case { name_service: true, console: true, file: false, timer: false, echo_registered: true };
        let spec = SystemSpec {
            kernel: KernelConfig {
                limits: mksim_kernel::Limits { capability_slots_max: slots, ..Default::default() },
                ..KernelConfig::default()
            },
            servers: case.servers(),
            objects: vec![object],
            programs,
            faults: Vec::new(),
        };
        let mut system = boot(spec, mode);
        system.kernel.run();
        answers.push(endings(&system));
    }
    let failed = format!("step {slots} (lookup): quota exceeded");
    let expected = vec![
        ("echo server".to_owned(), "waiting".to_owned()),
        ("console/full".to_owned(), failed.clone()),
        ("echo/full".to_owned(), failed),
    ];
    assert_eq!(answers, vec![expected.clone(), expected]);
}
