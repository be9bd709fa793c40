//! The ping-pong system: the smallest story of synchronous IPC.
//!
//! `pong` is a server that answers each call with the data it was sent;
//! `ping` calls it a few times through a badged capability derived from
//! pong's own, then exits.

use mksim_kernel::{
    Badge, Incoming, Kernel, KernelConfig, Message, Priority, ProcessSpec, ProgramFault, ProgramResult, Rights, Slot,
    Sys,
};

/// Label of a ping request.
pub const PING: u32 = 1;
/// Label of a pong reply.
pub const PONG: u32 = 2;

/// Answers every call on `port` with a pong carrying the same data.
///
/// # Errors
/// Faults on a syscall error: a server losing its own port has nothing left to do.
pub async fn pong_server(sys: Sys, port: Slot) -> ProgramResult {
    let mut incoming = sys.receive(port).await?;
    loop {
        let Incoming::Message(request) = incoming else {
            incoming = sys.receive(port).await?;
            continue;
        };
        let Some(reply) = request.reply else {
            incoming = sys.receive(port).await?;
            continue;
        };
        incoming = sys.reply_receive(reply, Message::new(PONG, request.data), port).await?;
    }
}

/// Calls `port` `rounds` times and checks that each answer echoes its request.
///
/// # Errors
/// Faults on a syscall error or a wrong answer.
pub async fn ping_client(sys: Sys, port: Slot, rounds: u32) -> ProgramResult {
    for round in 0..rounds {
        let answer = sys.call(port, Message::new(PING, round.to_le_bytes())).await?;
        if answer.label != PONG || answer.data.as_slice() != round.to_le_bytes() {
            return Err(ProgramFault::failed(1, format!("round {round}: unexpected answer {answer:?}")));
        }
    }
    sys.exit(0).await
}

/// Builds the ping-pong system, ready to run.
pub fn ping_pong(config: KernelConfig, rounds: u32) -> Kernel {
    let mut kernel = Kernel::new(config);
    let server_priority = Priority::new(10).expect("in range");
    let client_priority = Priority::new(5).expect("in range");
    let pong = kernel.create_process(ProcessSpec::server("pong", server_priority));
    let ping = kernel.create_process(ProcessSpec::program("ping", client_priority));
    let endpoint = kernel.create_endpoint(pong);
    let serve = kernel.grant(pong, endpoint, Rights::all(), Badge::NONE).expect("a new process has free slots");
    let call = kernel.grant_derived(ping, pong, serve, Rights::SEND, Badge(1)).expect("a new process has free slots");
    kernel.start(pong, move |sys| pong_server(sys, serve));
    kernel.start(ping, move |sys| ping_client(sys, call, rounds));
    kernel
}
