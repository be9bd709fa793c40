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
//!
//! Wards are kept dependencies first (see [`order`]): several dead wards are
//! restarted in that order, and a heartbeat round asks a driver before the
//! servers that call it. A ward whose dependency is dead, not ready again, or
//! has just failed its heartbeat in this round is not asked in that round: it
//! may well be blocked on that dependency, and killing it would only lose its
//! clients' state (the file server's descriptors). Nor is it asked in the
//! first round after its dependency was restarted: it may still be between
//! two tries at finding it again. It is asked in the round after that.

pub mod names;
pub mod order;

use names::NameCopies;

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
    /// The wards it depends on, by position in the supervisor's list; each comes before it.
    pub depends_on: Vec<usize>,
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
    /// Restarted since the last heartbeat round: its dependents may still be finding it
    /// again (a file server sleeping between tries), so they are left alone one more round.
    settling: bool,
}

/// Looks after `wards`, re-registering restarted ones through `name_server`. With `names`
/// (when it looks after the name server) it keeps copies of the name server's registrations
/// and gives them back after the name server restarts (see [`names`]).
///
/// # Errors
/// Faults when its own notification fails; a ward that cannot be restarted is given up.
pub async fn supervisor(
    sys: Sys,
    name_server: Slot,
    wards: Vec<Ward>,
    heartbeat: Option<Heartbeat>,
    mut names: Option<NameCopies>,
) -> ProgramResult {
    let events = sys.create_notification().await?;
    for (bit, ward) in wards.iter().enumerate() {
        sys.watch(ward.handle, events, 1 << bit).await?;
    }
    if let Some(heartbeat) = heartbeat {
        sys.arm_timer(events, HEARTBEAT_BIT, heartbeat.period_cycles, Some(heartbeat.period_cycles)).await?;
    }
    let has_dependencies = wards.iter().any(|ward| !ward.depends_on.is_empty());
    let mut watched: Vec<Watched> =
        wards.into_iter().map(|ward| Watched { ward, restarts: 0, alive: true, settling: false }).collect();
    sys.ready().await?;
    loop {
        let mut bits = sys.wait(events).await?;
        // Wards that depend on each other often die together (a driver and the server it
        // took down): every death already signalled is taken before any restart, so they
        // restart dependencies first. Without dependencies the order does not matter, and
        // the extra syscall is saved.
        if bits & !HEARTBEAT_BIT != 0 && has_dependencies {
            bits |= sys.poll(events).await?;
        }
        for (bit, ward) in watched.iter_mut().enumerate() {
            if bits & (1 << bit) != 0 && ward.alive {
                ward.alive = false;
                reincarnate(&sys, name_server, events, bit, ward, names.as_mut()).await;
            }
        }
        if let (true, Some(heartbeat)) = (bits & HEARTBEAT_BIT != 0, heartbeat) {
            heartbeat_round(&sys, &mut watched, heartbeat.timeout_cycles).await?;
        }
    }
}

/// Asks every live, ready ward whether it is alive, dependencies first; a ward that waits on
/// a dependency that is not there (dead, restarting, just found hung, just restarted, or
/// itself waiting) is left alone this round.
async fn heartbeat_round(sys: &Sys, all: &mut [Watched], timeout_cycles: u64) -> Result<(), SysError> {
    let mut unavailable: Vec<bool> = all.iter().map(|ward| ward.settling).collect();
    all.iter_mut().for_each(|ward| ward.settling = false);
    let watched = &*all;
    for index in 0..watched.len() {
        if !askable(sys, watched, index, &unavailable).await {
            unavailable[index] = true;
            continue;
        }
        match check_pulse(sys, &watched[index].ward, timeout_cycles).await? {
            Pulse::Alive => {}
            Pulse::Gone => unavailable[index] = true,
            Pulse::Silent => {
                unavailable[index] = true;
                // A dependency that answered earlier in the round may have hung since, with
                // this ward's request: it is asked again, and if it is the one that hangs, it
                // is the one killed.
                let blamed = recheck_dependencies(sys, watched, index, timeout_cycles, &mut unavailable).await?;
                if !blamed {
                    sys.kill(watched[index].ward.handle).await?;
                }
            }
        }
    }
    Ok(())
}

/// True when the ward at `index` is alive, ready (not still starting up: a file server
/// mounting is not hung) and none of its dependencies is `unavailable`.
async fn askable(sys: &Sys, watched: &[Watched], index: usize, unavailable: &[bool]) -> bool {
    let ward = &watched[index];
    let waiting = ward.ward.depends_on.iter().any(|&dependency| unavailable.get(dependency) == Some(&true));
    ward.alive && !waiting && matches!(sys.is_ready(ward.ward.handle).await, Ok(true))
}

/// Asks again every ward the ward at `index` depends on, directly or not, dependencies first,
/// killing those that do not answer; true when one of its own dependencies is now unavailable.
async fn recheck_dependencies(
    sys: &Sys,
    watched: &[Watched],
    index: usize,
    timeout_cycles: u64,
    unavailable: &mut [bool],
) -> Result<bool, SysError> {
    let mut needed = vec![false; watched.len()];
    needed[index] = true;
    // Dependencies come before their dependents, so one pass backwards finds them all.
    for position in (0..=index).rev() {
        if needed[position] {
            for &dependency in &watched[position].ward.depends_on {
                needed[dependency] = true;
            }
        }
    }
    for position in (0..index).filter(|&position| needed[position]) {
        if unavailable[position] {
            continue;
        }
        if !askable(sys, watched, position, unavailable).await {
            unavailable[position] = true;
            continue;
        }
        match check_pulse(sys, &watched[position].ward, timeout_cycles).await? {
            Pulse::Alive => {}
            Pulse::Gone => unavailable[position] = true,
            Pulse::Silent => {
                unavailable[position] = true;
                sys.kill(watched[position].ward.handle).await?;
            }
        }
    }
    Ok(watched[index].ward.depends_on.iter().any(|&dependency| unavailable[dependency]))
}

/// Restarts a dead ward if its policy allows, after its backoff, and publishes it again; a
/// restarted name server is given its registrations back instead.
async fn reincarnate(
    sys: &Sys,
    name_server: Slot,
    events: Slot,
    bit: usize,
    watched: &mut Watched,
    names: Option<&mut NameCopies>,
) {
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
    watched.settling = true;
    let _ = sys.delete(watched.ward.port).await;
    watched.ward.port = port;
    // A death before the watch is in place still signals: watching a dead process signals at once.
    let _ = sys.watch(watched.ward.handle, events, 1 << bit).await;
    match names {
        // Its port is the one it had: only its table needs rebuilding.
        Some(names) if watched.ward.name == NAME_SERVER => {
            let _ = names.replay(sys, name_server, PUBLISH_TIMEOUT_CYCLES).await;
        }
        Some(names) => {
            // The name server may be dead itself: the registration waits no longer than this,
            // and the copy is given back with the others when the name server restarts.
            let _ = publish(sys, name_server, &watched.ward.name, port, Some(PUBLISH_TIMEOUT_CYCLES)).await;
            names.record(sys, &watched.ward.name, port).await;
        }
        None => {
            let _ = publish(sys, name_server, &watched.ward.name, port, None).await;
        }
    }
}

/// The name server's name as a ward.
const NAME_SERVER: &str = "name";

/// How long a call to a supervised name server (a re-registration, a replayed one) waits:
/// it may be dead, and the supervisor must stay free to restart it.
const PUBLISH_TIMEOUT_CYCLES: u64 = 50_000;

/// Registers `port` under `name` at the name server, over the dead incarnation's entry,
/// waiting at most `timeout_cycles` when given.
async fn publish(
    sys: &Sys,
    name_server: Slot,
    name: &str,
    port: Slot,
    timeout_cycles: Option<u64>,
) -> Result<(), SysError> {
    let request = NameRequest::Register { name: name.to_owned() };
    let message = Message::new(request.label(), encode(&request)).with_copy(port, Rights::SEND | Rights::GRANT);
    match timeout_cycles {
        Some(cycles) => sys.call_timeout(name_server, message, cycles).await?,
        None => sys.call(name_server, message).await?,
    };
    Ok(())
}

/// What a heartbeat found.
enum Pulse {
    /// It answered.
    Alive,
    /// It died meanwhile: its death bit is on its way.
    Gone,
    /// It did not answer within the timeout: hung, or blocked on something that is.
    Silent,
}

/// Sends one heartbeat and waits at most `timeout_cycles` for the answer. The caller kills a
/// silent ward, and its death arrives like any other.
async fn check_pulse(sys: &Sys, ward: &Ward, timeout_cycles: u64) -> Result<Pulse, SysError> {
    match sys.call_timeout(ward.port, Message::new(HEARTBEAT, Vec::new()), timeout_cycles).await {
        Ok(_) => Ok(Pulse::Alive),
        Err(SysError::PeerDead) => Ok(Pulse::Gone),
        Err(SysError::TimedOut) => Ok(Pulse::Silent),
        Err(other) => Err(other),
    }
}
