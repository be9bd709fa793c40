//! A script's name for a capability goes when the capability goes: after a
//! `Delete`, a `Revoke` that removed it, or a move into a message, the old
//! name is "not a capability" and never reaches whatever the kernel puts in
//! the freed slot next (it reuses the lowest free slot).
//!
//! Each scenario's client spells out its expectations with `Fails(error: ..)`,
//! so a client that exits with 0 met them all; every scenario runs in both
//! modes.

use mksim_core::run::{RunOptions, RunReport, run};
use mksim_core::scenario::Scenario;
use mksim_servers::system::Mode;

fn scenario(processes: &str) -> Scenario {
    let text = format!(
        "Scenario(
            name: \"script-names\",
            servers: (console: true),
            processes: [{processes}],
        )"
    );
    Scenario::parse(&text, "script-names.ron").unwrap_or_else(|error| panic!("{error}\n{text}"))
}

/// Runs `program` (RON list items) as process "client" in both modes and checks it exits 0.
fn passes(program: &str) {
    let scenario = scenario(&format!("(name: \"client\", priority: 5, program: [{program}])"));
    for mode in [Mode::Microkernel, Mode::Monolithic] {
        let report: RunReport = run(&scenario, mode, &RunOptions::default());
        let client = report.process("client").expect("the client ran");
        assert_eq!(client.exit_code, Some(0), "{mode:?}: {:?} {:?}", client.state, client.fault);
    }
}

#[test]
fn after_a_revoke_the_name_of_a_removed_copy_names_nothing_even_once_its_slot_is_reused() {
    passes(
        r#"
        CreateNotification("bell"),
        Copy(cap: "bell", rights: "s", as: "copy"),
        Revoke(cap: "bell", expect: 1),
        Fails(error: "`copy` is not a capability", op: Signal(to: "copy", bits: 1)),
        CreateEndpoint("door"),
        Fails(error: "`copy` is not a capability", op: Signal(to: "copy", bits: 1)),
        Fails(error: "`copy` is not a capability", op: Delete("copy")),
        Signal(to: "bell", bits: 1),
        CreateQueue(as: "q", capacity: 1, policy: Fail),
        Send(to: "q", data: "the door is still a door", nonblocking: true),
        "#,
    );
}

#[test]
fn a_revoke_drops_the_names_of_every_capability_it_removed_from_the_table() {
    passes(
        r#"
        CreateEndpoint("root"),
        Copy(cap: "root", rights: "sg", as: "child"),
        Mint(cap: "child", rights: "s", badge: 7, as: "grandchild"),
        CreateQueue(as: "mailbox", capacity: 2, policy: Fail),
        Send(to: "mailbox", data: "round trip", pass: [(cap: "root", rights: "s")]),
        Receive(on: "mailbox", caps_as: ["returned"]),
        Revoke(cap: "root", expect: 3),
        Fails(error: "`child` is not a capability", op: Copy(cap: "child", rights: "s", as: "x")),
        Fails(error: "`grandchild` is not a capability", op: Copy(cap: "grandchild", rights: "s", as: "x")),
        Fails(error: "`returned` is not a capability", op: Copy(cap: "returned", rights: "s", as: "x")),
        Copy(cap: "root", rights: "s", as: "still"),
        "#,
    );
}

#[test]
fn after_a_delete_every_name_for_the_slot_goes() {
    passes(
        r#"
        Lookup(name: "console", as: "first"),
        Lookup(name: "console", as: "second"),
        Delete("first"),
        Fails(error: "`second` is not a capability", op: Copy(cap: "second", rights: "s", as: "x")),
        CreateNotification("bell"),
        Fails(error: "`first` is not a capability", op: Signal(to: "first", bits: 1)),
        Print("the console is found again\n"),
        "#,
    );
}

#[test]
fn a_capability_moved_into_a_message_takes_its_name_with_it() {
    passes(
        r#"
        CreateNotification("bell"),
        CreateQueue(as: "mailbox", capacity: 2, policy: Fail),
        Send(to: "mailbox", data: "take it", pass: [(cap: "bell", move: true)]),
        CreateEndpoint("door"),
        Fails(error: "`bell` is not a capability", op: Signal(to: "bell", bits: 1)),
        Receive(on: "mailbox", caps_as: ["bell again"]),
        Signal(to: "bell again", bits: 1),
        "#,
    );
}
