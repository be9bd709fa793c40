//! The supervisor: MINIX 3's reincarnation server, Hubris's jefe.
//!
//! It holds a process handle on each server it looks after and watches it, so
//! a server's death arrives as a bit in its notification. It restarts the
//! server by its policy (never; always; at most N times), waiting longer
//! before each restart (backoff), and registers the new incarnation's port
//! under the server's name, where clients find it again. A periodic timer
//! sends each live server a heartbeat call with a timeout: a server that does
//! not answer in time is taken for hung, killed, and handled as any other
//! death. A server just booted or restarted gets no heartbeat until it has
//! reported ready (the kernel's `is_ready` on its handle), as MINIX's
//! reincarnation server waits for a driver's hello: a file server still
//! mounting is not taken for hung.

use mksim_kernel::{Message, ProgramResult, Rights, Slot, Sys, SysError};
use mksim_userland::protocol::{HEARTBEAT, NameRequest, Request, encode};

/// When a dead server is started again.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum RestartPolicy {
    /// Never: it stays dead.
    Never,
    /// After every death.
    Always,
    /// After each of its first N deaths, then never.
    AtMost(u32),
}

impl RestartPolicy {
    fn allows(self, restarts_so_far: u32) -> bool {
        match self {
            RestartPolicy::Never => false,
            RestartPolicy::Always => true,
            RestartPolicy::AtMost(limit) => restarts_so_far < limit,
        }
    }
}

/// How often the supervisor asks, and how long it waits for the answer.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct Heartbeat {
    /// Cycles between rounds.
    pub period_cycles: u64,
    /// Cycles a server has to answer before it is taken for hung.
    pub timeout_cycles: u64,
}

/// One server the supervisor looks after, with the capabilities it holds for it.
#[derive(Clone, Debug)]
pub struct Ward {
    /// The name the server is registered under.
    pub name: String,
    /// Handle on the server's process (read to watch it, write to kill and restart it).
    pub handle: Slot,
    /// Send capability to its service port, for heartbeats.
    pub port: Slot,
    /// When it is restarted.
    pub policy: RestartPolicy,
    /// Cycles to wait before the first restart; each further restart waits twice as long.
    pub backoff_cycles: u64,
}

/// The bit of the supervisor's notification that its heartbeat timer sets; the low bits
/// stand for the wards' deaths, one each.
const HEARTBEAT_BIT: u64 = 1 << 63;

/// At most this many wards, one notification bit each.
pub const MAX_WARDS: usize = 63;

struct Watched {
    ward: Ward,
    restarts: u32,
    alive: bool,
}

/// Looks after `wards`, re-registering restarted ones through `name_server`.
///
/// # Errors
/// Faults when its own notification fails; a ward that cannot be restarted is given up.
pub async fn supervisor(sys: Sys, name_server: Slot, wards: Vec<Ward>, heartbeat: Option<Heartbeat>) -> ProgramResult {
    let events = sys.create_notification().await?;
    for (bit, ward) in wards.iter().enumerate() {
        sys.watch(ward.handle, events, 1 << bit).await?;
    }
    if let Some(heartbeat) = heartbeat {
        sys.arm_timer(events, HEARTBEAT_BIT, heartbeat.period_cycles, Some(heartbeat.period_cycles)).await?;
    }
    let mut watched: Vec<Watched> = wards.into_iter().map(|ward| Watched { ward, restarts: 0, alive: true }).collect();
    sys.ready().await?;
    loop {
        let bits = sys.wait(events).await?;
        for (bit, ward) in watched.iter_mut().enumerate() {
            if bits & (1 << bit) != 0 && ward.alive {
                ward.alive = false;
                reincarnate(&sys, name_server, events, bit, ward).await;
            }
        }
        if let (true, Some(heartbeat)) = (bits & HEARTBEAT_BIT != 0, heartbeat) {
            for ward in watched.iter().filter(|ward| ward.alive) {
                // Still starting up (a file server mounting): not hung, and not asked yet.
                if !matches!(sys.is_ready(ward.ward.handle).await, Ok(true)) {
                    continue;
                }
                check_pulse(&sys, &ward.ward, heartbeat.timeout_cycles).await?;
            }
        }
    }
}

/// Restarts a dead ward if its policy allows, after its backoff, and publishes it again.
async fn reincarnate(sys: &Sys, name_server: Slot, events: Slot, bit: usize, watched: &mut Watched) {
    if !watched.ward.policy.allows(watched.restarts) {
        return;
    }
    let backoff = watched.ward.backoff_cycles.saturating_mul(1 << watched.restarts.min(16));
    if sys.sleep(backoff).await.is_err() {
        return;
    }
    let Ok(port) = sys.restart(watched.ward.handle).await else { return };
    watched.restarts += 1;
    watched.alive = true;
    let _ = sys.delete(watched.ward.port).await;
    watched.ward.port = port;
    // A death before the watch is in place still signals: watching a dead process signals at once.
    let _ = sys.watch(watched.ward.handle, events, 1 << bit).await;
    let _ = publish(sys, name_server, &watched.ward.name, port).await;
}

/// Registers `port` under `name` at the name server, over the dead incarnation's entry.
async fn publish(sys: &Sys, name_server: Slot, name: &str, port: Slot) -> Result<(), SysError> {
    let request = NameRequest::Register { name: name.to_owned() };
    let message = Message::new(request.label(), encode(&request)).with_copy(port, Rights::SEND | Rights::GRANT);
    sys.call(name_server, message).await?;
    Ok(())
}

/// Sends one heartbeat; a server that does not answer within `timeout_cycles` is killed, and
/// its death arrives like any other.
async fn check_pulse(sys: &Sys, ward: &Ward, timeout_cycles: u64) -> Result<(), SysError> {
    match sys.call_timeout(ward.port, Message::new(HEARTBEAT, Vec::new()), timeout_cycles).await {
        Ok(_) | Err(SysError::PeerDead) => Ok(()),
        Err(SysError::TimedOut) => sys.kill(ward.handle).await,
        Err(other) => Err(other),
    }
}
