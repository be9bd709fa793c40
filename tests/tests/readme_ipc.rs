//! What the README says of pipes, message queues and sockets, checked in both modes where
//! the other tests do not check it: the errors it lists, the limits it states.
//!
//! Each program spells out its expectations with `Fails(error: ..)` and `expect`, so a
//! program that exits with 0 met them all.

use mksim_core::run::{RunOptions, run};
use mksim_core::scenario::Scenario;
use mksim_servers::system::Mode;

/// Runs the RON operations `program` as process "client" with `servers` booted, in both modes,
/// and checks that it exits with 0.
fn passes(servers: &str, program: &str) {
    let text = format!(
        "Scenario(
            name: \"readme\",
            servers: ({servers}),
            processes: [(name: \"client\", priority: 5, program: [{program}])],
        )"
    );
    let scenario = Scenario::parse(&text, "readme.ron").unwrap_or_else(|error| panic!("{error}\n{text}"));
    for mode in [Mode::Microkernel, Mode::Monolithic] {
        let report = run(&scenario, mode, &RunOptions::default());
        let client = report.process("client").expect("the client ran");
        assert_eq!((client.exit_code, &client.fault), (Some(0), &None), "{}: {:?}", mode.name(), report.outcome);
    }
}

/// "`Listen` binds a listener to an absolute path": a relative path, or one with an empty
/// component, is `invalid path`.
#[test]
fn a_listener_needs_an_absolute_path() {
    passes(
        "sock: ()",
        r#"
        Fails(error: "invalid path", op: Listen(path: "tmp/echo", backlog: 1, as: "l")),
        Fails(error: "invalid path", op: Listen(path: "/tmp//echo", backlog: 1, as: "l")),
        Listen(path: "/tmp/echo", backlog: 1, as: "l"),
        "#,
    );
}

/// A nonblocking `SockSend` is one request: `would block` when the peer's buffer is full,
/// `too large` past 512 bytes, and a failed operation when only part of it fits (the part
/// that fits is sent).
#[test]
fn a_nonblocking_sock_send_is_one_request_and_fails_when_only_part_fits() {
    let long = "x".repeat(513);
    passes(
        "sock: (buffer_bytes: 8)",
        &format!(
            r#"
            Listen(path: "/s", backlog: 1, as: "l"),
            Connect(path: "/s", as: "c"),
            Accept(listener: "l", as: "a"),
            SockSend(sock: "c", text: "123456", nonblocking: true),
            Fails(error: "sock send: sent 2 of 4 bytes", op: SockSend(sock: "c", text: "abcd", nonblocking: true)),
            Fails(error: "would block", op: SockSend(sock: "c", text: "z", nonblocking: true)),
            Fails(error: "too large", op: SockSend(sock: "a", text: "{long}", nonblocking: true)),
            SockRecv(sock: "a", len: 64, expect: "123456ab"),
            "#
        ),
    );
}

/// `Accept` on a connected socket, rather than a listener, is `bad request`; `SockSend` and
/// `SockRecv` on a listener are `not connected`.
#[test]
fn accept_wants_a_listener_and_send_wants_a_connection() {
    passes(
        "sock: ()",
        r#"
        Listen(path: "/s", backlog: 2, as: "l"),
        Connect(path: "/s", as: "c"),
        Fails(error: "bad request", op: Accept(listener: "c", as: "x")),
        Fails(error: "not connected", op: SockSend(sock: "l", text: "hi")),
        Fails(error: "not connected", op: SockRecv(sock: "l", len: 4)),
        "#,
    );
}

/// A read of no bytes returns nothing at once, from a pipe and from a socket, whether or not
/// anything is buffered (POSIX's `read(fd, buf, 0)`).
#[test]
fn a_read_of_no_bytes_returns_nothing_at_once() {
    passes(
        "pipe: (), sock: ()",
        r#"
        Pipe(read_as: "r", write_as: "w"),
        PipeRead(fd: "r", len: 0, expect: ""),
        PipeWrite(fd: "w", text: "kept"),
        PipeRead(fd: "r", len: 0, expect: ""),
        PipeRead(fd: "r", len: 64, expect: "kept"),
        Listen(path: "/s", backlog: 1, as: "l"),
        Connect(path: "/s", as: "c"),
        Accept(listener: "l", as: "a"),
        SockRecv(sock: "a", len: 0, expect: ""),
        SockSend(sock: "c", text: "kept"),
        SockRecv(sock: "a", len: 0, expect: ""),
        SockRecv(sock: "a", len: 64, expect: "kept"),
        "#,
    );
}

/// At most 16 pipe ends wait to be taken at once, in the whole system: the 17th `PipeGive` is
/// `too many open files`; a take makes room again.
#[test]
fn sixteen_ends_wait_to_be_taken_at_most() {
    let gives: String = (0..16).map(|index| format!("PipeGive(fd: \"w\", name: \"end{index}\"),\n")).collect();
    passes(
        "pipe: ()",
        &format!(
            r#"
            Pipe(read_as: "r", write_as: "w"),
            {gives}
            Fails(error: "too many open files", op: PipeGive(fd: "w", name: "end16")),
            PipeTake(name: "end0", as: "taken"),
            PipeGive(fd: "w", name: "end16"),
            "#
        ),
    );
}

/// The limits table: a socket buffer holds 1 to 65,536 bytes; a scenario asking for more or
/// for none is refused at the setting, with the range.
#[test]
fn a_socket_buffer_holds_one_to_65536_bytes() {
    let scenario = |bytes: u64| {
        let text = format!(
            "Scenario(name: \"limits\", servers: (sock: (buffer_bytes: {bytes})), processes: [(name: \"client\", \
             priority: 5, program: [])])"
        );
        Scenario::parse(&text, "limits.ron").map(|_| ()).map_err(|error| error.to_string())
    };
    assert_eq!(scenario(1), Ok(()));
    assert_eq!(scenario(65_536), Ok(()));
    for refused in [0, 65_537] {
        let error = scenario(refused).expect_err("out of range");
        assert!(error.contains("servers.sock.buffer_bytes") && error.contains("from 1 to 65536"), "{refused}: {error}");
    }
}
