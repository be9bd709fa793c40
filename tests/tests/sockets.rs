//! Stream sockets against a simple model, in both modes: each connection is a FIFO of bytes in
//! each direction.
//!
//! A listener accepts one connection per client. Each client sends a one-byte length and then
//! its payload in pieces of random sizes, into a buffer of random size (so senders wait for
//! room), and the server reads it back with reads of random sizes (so reads are partial),
//! sends it back and closes. The client reads until end of file. Whatever the interleaving
//! (random priorities, random sizes), in both modes: every client gets its own payload back,
//! whole and in order (no loss, no duplication, no bytes of another connection), then end of
//! file exactly once the server closed; the server got every payload once; a connection to a
//! path nobody listens at is refused.

use mksim_kernel::{KernelConfig, Outcome, Priority, ProgramResult};
use mksim_servers::socket::SocketConfig;
use mksim_servers::system::{Mode, ProgramFn, ProgramSpec, Servers, SystemSpec, boot};
use mksim_userland::client::{ClientError, Services};
use mksim_userland::protocol::ServiceError;
use mksim_userland::socket_protocol::{SockReply, SockRequest};
use proptest::collection::vec;
use proptest::prelude::*;
use std::cell::RefCell;
use std::rc::Rc;

const PATH: &str = "/tmp/model";

#[derive(Clone, Debug)]
struct Client {
    priority: u8,
    payload: Vec<u8>,
    piece_bytes: usize,
    read_lens: Vec<u32>,
}

#[derive(Clone, Debug)]
struct Case {
    buffer_bytes: usize,
    server_priority: u8,
    server_read_lens: Vec<u32>,
    clients: Vec<Client>,
}

fn client() -> impl Strategy<Value = Client> {
    (3u8..8, vec(any::<u8>(), 0..120), 1usize..24, vec(1u32..24, 1..6))
        .prop_map(|(priority, payload, piece_bytes, read_lens)| Client { priority, payload, piece_bytes, read_lens })
}

fn case() -> impl Strategy<Value = Case> {
    (1usize..40, 3u8..8, vec(1u32..24, 1..6), vec(client(), 1..4)).prop_map(
        |(buffer_bytes, server_priority, server_read_lens, clients)| Case {
            buffer_bytes,
            server_priority,
            server_read_lens,
            clients,
        },
    )
}

/// What the programs saw.
#[derive(Default, Debug)]
struct Record {
    /// The payloads the server read, in the order it accepted their connections.
    received: Vec<Vec<u8>>,
    /// What each client read back before end of file, by client.
    echoed: Vec<Option<Vec<u8>>>,
    /// Whether each client's connection to a path nobody listens at was refused.
    refused: Vec<bool>,
}

type Shared = Rc<RefCell<Record>>;

fn level(value: u8) -> Priority {
    Priority::new(value).expect("in range")
}

async fn descriptor(services: &mut Services, request: SockRequest) -> Result<u32, ClientError> {
    match services.sock(request).await? {
        SockReply::Descriptor(fd) => Ok(fd),
        other => panic!("expected a descriptor, got {other:?}"),
    }
}

async fn recv(services: &mut Services, fd: u32, len: u32) -> Vec<u8> {
    match services.sock(SockRequest::Recv { fd, len, nonblocking: false }).await {
        Ok(SockReply::Data(data)) => data,
        other => panic!("a receive failed: {other:?}"),
    }
}

fn server(case: &Case, record: Shared) -> ProgramFn {
    let (clients, lens) = (case.clients.len(), case.server_read_lens.clone());
    Box::new(move |mut services, _| {
        Box::pin(async move {
            let backlog = clients as u32;
            let listen = SockRequest::Listen { path: PATH.into(), backlog };
            let listener = descriptor(&mut services, listen).await.expect("the path is free");
            let mut reads = lens.iter().cycle();
            for _ in 0..clients {
                let accept = SockRequest::Accept { fd: listener, nonblocking: false };
                let fd = descriptor(&mut services, accept).await.expect("a connection comes");
                let length = recv(&mut services, fd, 1).await;
                let length = *length.first().expect("a length first") as usize;
                let mut payload = Vec::new();
                while payload.len() < length {
                    let want = (*reads.next().expect("cycled")).min((length - payload.len()) as u32);
                    payload.extend(recv(&mut services, fd, want).await);
                }
                services.sock_send_all(fd, &payload, 16).await.expect("the client reads it");
                services.sock(SockRequest::Close { fd }).await.expect("open");
                record.borrow_mut().received.push(payload);
            }
            services.sock(SockRequest::Close { fd: listener }).await.expect("open");
            ProgramResult::Ok(0)
        })
    })
}

fn client_program(index: usize, client: &Client, record: Shared) -> ProgramFn {
    let client = client.clone();
    Box::new(move |mut services, _| {
        Box::pin(async move {
            let nowhere = services.sock(SockRequest::Connect { path: "/tmp/nobody".into() }).await;
            let refused = nowhere == Err(ClientError::Service(ServiceError::ConnectionRefused));
            // The server may not listen yet: try again until it does, pausing longer each time
            // so that a server of lower priority than its clients gets to run.
            let mut pause_cycles = 1_000;
            let fd = loop {
                match descriptor(&mut services, SockRequest::Connect { path: PATH.into() }).await {
                    Ok(fd) => break fd,
                    Err(ClientError::Service(ServiceError::ConnectionRefused)) => {
                        services.sys().sleep(pause_cycles).await.expect("sleeps");
                        pause_cycles *= 2;
                    }
                    Err(error) => panic!("connect failed: {error:?}"),
                }
            };
            let mut stream = vec![client.payload.len() as u8];
            stream.extend(&client.payload);
            services.sock_send_all(fd, &stream, client.piece_bytes).await.expect("the server reads it");
            let mut echoed = Vec::new();
            for &len in client.read_lens.iter().cycle() {
                let data = recv(&mut services, fd, len).await;
                if data.is_empty() {
                    break;
                }
                echoed.extend(data);
            }
            services.sock(SockRequest::Close { fd }).await.expect("open");
            let mut record = record.borrow_mut();
            record.echoed[index] = Some(echoed);
            record.refused[index] = refused;
            ProgramResult::Ok(0)
        })
    })
}

fn run_in(mode: Mode, case: &Case) -> (Outcome, Record) {
    let record: Shared = Rc::new(RefCell::new(Record {
        received: Vec::new(),
        echoed: vec![None; case.clients.len()],
        refused: vec![false; case.clients.len()],
    }));
    let servers = Servers {
        name: Some(level(20)),
        socket: Some((level(14), SocketConfig { buffer_bytes: case.buffer_bytes, ..SocketConfig::default() })),
        ..Servers::default()
    };
    let program = |name: String, priority: u8, program: ProgramFn| ProgramSpec::plain(name, level(priority), program);
    let mut programs = vec![program("server".into(), case.server_priority, server(case, Rc::clone(&record)))];
    for (index, client) in case.clients.iter().enumerate() {
        let code = client_program(index, client, Rc::clone(&record));
        programs.push(program(format!("client{index}"), client.priority, code));
    }
    let spec =
        SystemSpec { kernel: KernelConfig::default(), servers, objects: Vec::new(), programs, faults: Vec::new() };
    let mut system = boot(spec, mode);
    let outcome = system.kernel.run().clone();
    drop(system);
    (outcome, Rc::try_unwrap(record).expect("the run is over").into_inner())
}

fn check(case: &Case) -> Result<(), TestCaseError> {
    let mut sent: Vec<Vec<u8>> = case.clients.iter().map(|client| client.payload.clone()).collect();
    sent.sort();
    for mode in [Mode::Microkernel, Mode::Monolithic] {
        let (outcome, record) = run_in(mode, case);
        let name = mode.name();
        prop_assert_eq!(&outcome, &Outcome::Completed, "{}", name);
        for (index, client) in case.clients.iter().enumerate() {
            prop_assert_eq!(record.echoed[index].as_ref(), Some(&client.payload), "{}: client {}", name, index);
            prop_assert!(record.refused[index], "{}: client {} reached a path nobody listens at", name, index);
        }
        let mut received = record.received.clone();
        received.sort();
        prop_assert_eq!(&received, &sent, "{}: what the server read", name);
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig {
        cases: mksim_tests::proptest_cases(64),
        failure_persistence: None,
        ..ProptestConfig::default()
    })]

    #[test]
    fn every_connection_carries_its_bytes_in_order_once_then_end_of_file_in_both_modes(case in case()) {
        check(&case)?;
    }
}

/// A scenario with a console, the socket server and `processes` (RON text of each process).
fn scripted_scenario(processes: &[String]) -> mksim_core::scenario::Scenario {
    let text = format!(
        "Scenario(name: \"sockets\", servers: (console: true, sock: (buffer_bytes: 32)), processes: [{}])",
        processes.join(", ")
    );
    mksim_core::scenario::Scenario::parse(&text, "test.ron").unwrap_or_else(|error| panic!("{error}"))
}

fn scripted(name: &str, priority: u8, source: &str) -> String {
    format!("(name: \"{name}\", priority: {priority}, program: Script(source: r#\"{source}\"#))")
}

#[test]
fn a_script_echo_server_serves_two_script_clients_and_errors_are_thrown_as_words_in_both_modes() {
    let server = scripted(
        "server",
        9,
        r#"
        let listener = listen("/tmp/echo", 2);
        try { accept(listener, true); } catch (error) { print("accept: " + error); }
        try { listen("/tmp/echo", 1); } catch (error) { print("listen: " + error); }
        for round in 0..2 {
            let client = accept(listener);
            loop {
                let text = sock_recv(client, 5);
                if text == "" { break; }
                sock_send(client, text);
            }
            sock_close(client);
        }
        sock_close(listener);
        print("served");
        "#,
    );
    let client = |name: &str| {
        scripted(
            name,
            5,
            &format!(
                r#"
                try {{ connect("/tmp/nobody"); }} catch (error) {{ print("connect: " + error); }}
                let s = connect("/tmp/echo");
                sock_send(s, "a longer line from {name} than the buffer holds");
                let echoed = "";
                while echoed.len < 46 {{ echoed += sock_recv(s, 64); }}
                print(echoed);
                try {{ sock_recv(s, 64, true); }} catch (error) {{ print("recv: " + error); }}
                sock_close(s);
                "#
            ),
        )
    };
    let scenario = scripted_scenario(&[server, client("alice"), client("bobby")]);
    for mode in [Mode::Microkernel, Mode::Monolithic] {
        let report = mksim_core::run::run(&scenario, mode, &mksim_core::run::RunOptions::default());
        assert_eq!(report.console["server"], "accept: would block\nlisten: address in use\nserved\n", "{mode:?}");
        for name in ["alice", "bobby"] {
            let expected = format!(
                "connect: connection refused\na longer line from {name} than the buffer holds\nrecv: would block\n"
            );
            assert_eq!(report.console[name], expected, "{mode:?}");
        }
    }
}
