//! Fault injection into servers and service modules, after MINIX 3's
//! experiments that injected millions of faults into its user-space drivers.
//!
//! A [`FaultPlan`] says which server (or, in monolithic mode, which service
//! module) fails, how, and when. Both modes consult the same plan at the same
//! point, the start of each request the service handles, so the same fault
//! strikes the same request in both: in microkernel mode one server dies,
//! hangs or misbehaves; in monolithic mode the kernel goes down with it.
//! Heartbeats are not requests: they never trigger a fault.
//!
//! Random faults draw from streams derived from the run's seed (one per
//! fault), never from the host, so a run is repeatable.

use mksim_kernel::InjectedFault;
use mksim_kernel::seed;
use mksim_kernel::syscall::{ServiceFault, ServiceModule, ServiceWork};
use rand_chacha::ChaCha8Rng;
use rand_core::{Rng, SeedableRng};
use std::cell::RefCell;
use std::collections::BTreeMap;
use std::rc::Rc;

/// What goes wrong.
#[derive(Clone, Copy, PartialEq, Debug)]
pub enum FaultKind {
    /// The server dies.
    Crash,
    /// The server stops answering: it keeps the request and waits for nothing.
    Hang,
    /// The server's reply is garbled.
    CorruptReply,
    /// The request is lost before the server handles it.
    DropMessage,
    /// The server holds the request this many cycles before handling it.
    Delay(u64),
}

impl FaultKind {
    /// The kind as the event log records it.
    pub fn logged(self) -> InjectedFault {
        match self {
            FaultKind::Crash => InjectedFault::Crash,
            FaultKind::Hang => InjectedFault::Hang,
            FaultKind::CorruptReply => InjectedFault::CorruptReply,
            FaultKind::DropMessage => InjectedFault::DropMessage,
            FaultKind::Delay(_) => InjectedFault::Delay,
        }
    }
}

/// When it goes wrong.
#[derive(Clone, Copy, PartialEq, Debug)]
pub enum Trigger {
    /// At this virtual time: a crash strikes then, even an idle server; other faults strike
    /// the first request handled from then on.
    AtTime(u64),
    /// At the server's Nth request (counting from 1, across restarts).
    AtMessage(u64),
    /// At each request, with this probability.
    Random(f64),
}

/// One fault to inject.
#[derive(Clone, PartialEq, Debug)]
pub struct FaultSpec {
    /// The server (`fs`, `block`, `console`, `timer`).
    pub server: String,
    /// What goes wrong.
    pub kind: FaultKind,
    /// When.
    pub trigger: Trigger,
}

impl FaultSpec {
    /// True for a crash at a set time, which the kernel injects by itself.
    pub fn is_timed_crash(&self) -> bool {
        self.kind == FaultKind::Crash && matches!(self.trigger, Trigger::AtTime(_))
    }
}

struct Armed {
    spec: FaultSpec,
    fired: bool,
    draws: ChaCha8Rng,
}

/// The faults of a run, and how many requests each service has handled.
#[derive(Default)]
pub struct FaultPlan {
    armed: Vec<Armed>,
    handled: BTreeMap<String, u64>,
}

/// A plan shared by the servers (or service modules) it strikes.
pub type SharedPlan = Rc<RefCell<FaultPlan>>;

impl FaultPlan {
    /// A plan for `faults` in a run with `seed`.
    pub fn new(faults: &[FaultSpec], seed: u64) -> FaultPlan {
        let armed = faults
            .iter()
            .enumerate()
            .map(|(index, spec)| {
                // One stream per fault, after the kernel's, so adding a fault does not change
                // when the others strike.
                let stream = seed::derive(seed, index as u64 + 1);
                Armed { spec: spec.clone(), fired: false, draws: ChaCha8Rng::seed_from_u64(stream) }
            })
            .collect();
        FaultPlan { armed, handled: BTreeMap::new() }
    }

    /// Counts one request `server` is about to handle at time `now`, and says which fault, if
    /// any, strikes it. At most one fault strikes a request: the first in the plan's order.
    pub fn on_request(&mut self, server: &str, now: u64) -> Option<FaultKind> {
        let count = self.handled.entry(server.to_owned()).or_default();
        *count += 1;
        let count = *count;
        let mut struck = None;
        for armed in self.armed.iter_mut().filter(|armed| armed.spec.server == server && !armed.fired) {
            let strikes = match armed.spec.trigger {
                Trigger::AtMessage(n) => n == count,
                Trigger::AtTime(at) => !armed.spec.is_timed_crash() && now >= at,
                // Every random fault draws at every request, struck or not, so draws stay in step.
                Trigger::Random(probability) => unit_interval(&mut armed.draws) < probability,
            };
            if strikes && struck.is_none() {
                armed.fired = !matches!(armed.spec.trigger, Trigger::Random(_));
                struck = Some(armed.spec.kind);
            }
        }
        struck
    }

    /// Requests each service has handled so far.
    pub fn handled(&self, server: &str) -> u64 {
        self.handled.get(server).copied().unwrap_or(0)
    }
}

/// Records a fault that struck service code inside the kernel (monolithic mode) in the work
/// of the call: a delay adds device time, a failure marks the call for the kernel to panic on.
/// The log shows one fault per call: a failure over a delay.
pub fn strike_in_kernel(work: &mut ServiceWork, fault: FaultKind, module: ServiceModule) {
    if let FaultKind::Delay(cycles) = fault {
        work.device_cycles = work.device_cycles.saturating_add(cycles);
    }
    if !is_cut_short(work) {
        work.fault = Some(ServiceFault { kind: fault.logged(), module });
    }
}

/// True when a failure struck the call: the module stops there and the kernel panics.
pub fn is_cut_short(work: &ServiceWork) -> bool {
    work.fault.is_some_and(|fault| fault.kind.is_failure())
}

/// A number in [0, 1) from 53 random bits.
fn unit_interval(draws: &mut ChaCha8Rng) -> f64 {
    (draws.next_u64() >> 11) as f64 / (1u64 << 53) as f64
}

/// Garbles a reply the way [`FaultKind::CorruptReply`] does: the label no longer matches the
/// request (which clients check) and the bytes are flipped.
pub fn corrupt(message: &mut mksim_kernel::Message) {
    message.label ^= mksim_userland::protocol::CORRUPTION_MASK;
    for byte in &mut message.data {
        *byte ^= 0x5a;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec(server: &str, kind: FaultKind, trigger: Trigger) -> FaultSpec {
        FaultSpec { server: server.into(), kind, trigger }
    }

    #[test]
    fn a_message_trigger_strikes_that_request_of_that_server_once() {
        let mut plan = FaultPlan::new(&[spec("fs", FaultKind::Crash, Trigger::AtMessage(3))], 1);
        let struck: Vec<_> = (0..5).map(|_| plan.on_request("fs", 0)).collect();
        assert_eq!(struck, [None, None, Some(FaultKind::Crash), None, None]);
        assert_eq!(plan.on_request("block", 0), None);
        assert_eq!(plan.handled("fs"), 5);
    }

    #[test]
    fn a_time_trigger_strikes_the_first_request_from_then_on_but_leaves_crashes_to_the_kernel() {
        let faults =
            [spec("fs", FaultKind::Hang, Trigger::AtTime(100)), spec("fs", FaultKind::Crash, Trigger::AtTime(50))];
        let mut plan = FaultPlan::new(&faults, 1);
        assert_eq!(plan.on_request("fs", 99), None);
        assert_eq!(plan.on_request("fs", 150), Some(FaultKind::Hang));
        assert_eq!(plan.on_request("fs", 200), None);
    }

    #[test]
    fn random_faults_follow_the_seed_and_their_probability() {
        let strikes = |seed| {
            let mut plan = FaultPlan::new(&[spec("fs", FaultKind::DropMessage, Trigger::Random(0.25))], seed);
            (0..1000).filter(|_| plan.on_request("fs", 0).is_some()).count()
        };
        assert_eq!(strikes(7), strikes(7));
        assert_ne!(strikes(7), strikes(8));
        assert!((200..300).contains(&strikes(7)), "{} strikes in 1000 at p = 0.25", strikes(7));
        let mut never = FaultPlan::new(&[spec("fs", FaultKind::Crash, Trigger::Random(0.0))], 3);
        assert!((0..1000).all(|_| never.on_request("fs", 0).is_none()));
    }

    #[test]
    fn corruption_changes_the_label_and_every_byte() {
        let mut message = mksim_kernel::Message::new(0x10201, vec![1, 2, 3]);
        corrupt(&mut message);
        assert_ne!(message.label, 0x10201);
        assert!(message.data.iter().zip([1u8, 2, 3]).all(|(now, was)| *now != was));
    }
}
