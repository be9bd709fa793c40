//! The fault-isolation parts of a scenario: the supervisor and the faults to
//! inject, as written in RON and as checked.
//!
//! ```ron
//! servers: (file: (), supervisor: (
//!     restart: { "fs": Always, "block": AtMost(3) },
//!     depends_on: { "fs": ["block"] },
//!     heartbeat: (period_cycles: 50000, timeout_cycles: 20000),
//! )),
//! faults: [
//!     (server: "block", kind: Crash, at: Message(3)),
//!     (server: "fs", kind: Delay(5000), at: Random(0.05)),
//! ],
//! ```

use super::limits::Int;
use super::syntax::Step;
use super::wording::quoted;
use super::{ScenarioError, Validator};
use mksim_servers::fault::{FaultKind, FaultSpec, Trigger};
use mksim_servers::service::Service;
use mksim_servers::supervisor::{Heartbeat, MAX_WARDS, RestartPolicy};
use mksim_servers::system::{Servers, SupervisorSpec, WardSpec};
use serde::Deserialize;
use std::collections::BTreeMap;

/// The servers a fault or a supervisor can name, as a list in words.
pub(super) fn faultable_list() -> String {
    Service::faultable().map(Service::name).collect::<Vec<_>>().join(", ")
}

/// True when `server` names a server a fault or a supervisor can name, and the scenario boots it.
fn faultable_and_booted(servers: &Servers, server: &str) -> bool {
    Service::from_name(server).is_some_and(|service| service.is_faultable() && servers.boots(service))
}

/// The supervisor (`servers: (supervisor: (...))`), which restarts the servers it looks after.
#[derive(Deserialize, Clone)]
#[serde(deny_unknown_fields, rename = "Supervisor")]
pub struct RawSupervisor {
    /// Its priority, 0 to 31 (22 when left out).
    #[serde(default = "supervisor_priority")]
    pub priority: Int,
    /// Server name → policy.
    #[serde(default)]
    pub restart: BTreeMap<String, RawPolicy>,
    /// How long it waits before a restart, in cycles (1,000 when left out).
    #[serde(default = "backoff_cycles")]
    pub backoff_cycles: u64,
    /// Whether it also asks its servers whether they are alive, and how often.
    #[serde(default)]
    pub heartbeat: Option<RawHeartbeat>,
    /// Server name → the supervised servers it may be blocked on (defaults when left out:
    /// see `dependencies.rs`).
    #[serde(default)]
    pub depends_on: BTreeMap<String, Vec<String>>,
}

/// What a file gets when it leaves every field out: no server looked after, no heartbeat.
impl Default for RawSupervisor {
    fn default() -> Self {
        RawSupervisor {
            priority: supervisor_priority(),
            restart: BTreeMap::new(),
            backoff_cycles: backoff_cycles(),
            heartbeat: None,
            depends_on: BTreeMap::new(),
        }
    }
}

fn supervisor_priority() -> Int {
    u64::from(Service::Supervisor.default_level()).into()
}

fn backoff_cycles() -> u64 {
    1_000
}

/// Whether the supervisor restarts a server that failed.
#[derive(Deserialize, Clone, Copy)]
#[serde(rename = "Policy")]
pub enum RawPolicy {
    /// Never.
    Never,
    /// Every time.
    Always,
    /// At most this many times.
    AtMost(u32),
}

/// The supervisor's heartbeat: how often it asks, and how long it waits for an answer.
#[derive(Deserialize, Clone, Copy)]
#[serde(deny_unknown_fields, rename = "Heartbeat")]
pub struct RawHeartbeat {
    /// Cycles between two questions; at least 1.
    pub period_cycles: u64,
    /// Cycles a server has to answer before it is taken for hung; at least 1.
    pub timeout_cycles: u64,
}

/// One fault as a scenario writes it.
#[derive(Deserialize, Clone)]
#[serde(deny_unknown_fields, rename = "Fault")]
pub struct RawFault {
    /// The server it strikes: one that [`Service::is_faultable`], booted.
    pub server: String,
    /// What goes wrong.
    pub kind: RawFaultKind,
    /// When.
    pub at: RawTrigger,
}

/// What goes wrong in a faulted server.
#[derive(Deserialize, Clone, Copy)]
#[serde(rename = "FaultKind")]
pub enum RawFaultKind {
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

/// When a fault strikes.
#[derive(Deserialize, Clone, Copy)]
#[serde(rename = "Trigger")]
pub enum RawTrigger {
    /// At this time, in cycles.
    Time(u64),
    /// At the server's nth request, counting from 1.
    Message(u64),
    /// At each request, with this probability (0 to 1).
    Random(f64),
}

impl Validator<'_> {
    pub(super) fn supervisor(
        &self,
        raw: Option<&RawSupervisor>,
        servers: &Servers,
    ) -> Result<Option<SupervisorSpec>, ScenarioError> {
        let Some(raw) = raw else { return Ok(None) };
        let at = [Step::Field("servers"), Step::Field("supervisor")];
        if servers.name.is_none() {
            let message = "the supervisor needs the name server, to register restarted servers again";
            return Err(self.fail(&at, "servers.supervisor".into(), message.into()));
        }
        let path = [Step::Field("servers"), Step::Field("supervisor"), Step::Field("priority")];
        let priority = self.priority_at(raw.priority, || "servers.supervisor.priority".into(), &path)?;
        let heartbeat = match raw.heartbeat {
            Some(beat) if beat.period_cycles == 0 || beat.timeout_cycles == 0 => {
                let path = [Step::Field("servers"), Step::Field("supervisor"), Step::Field("heartbeat")];
                let message = "heartbeat period_cycles and timeout_cycles must be at least 1";
                return Err(self.fail(&path, "servers.supervisor.heartbeat".into(), message.into()));
            }
            Some(beat) => Some(Heartbeat { period_cycles: beat.period_cycles, timeout_cycles: beat.timeout_cycles }),
            None => None,
        };
        let mut wards: Vec<WardSpec> = Vec::new();
        for (server, policy) in &raw.restart {
            if !faultable_and_booted(servers, server) {
                let path =
                    [Step::Field("servers"), Step::Field("supervisor"), Step::Field("restart"), Step::Entry(server)];
                return Err(self.fail_key(
                    &path,
                    format!("servers.supervisor.restart {}", quoted(server)),
                    format!("is not a server the scenario boots (it can look after {})", booted_list(servers)),
                ));
            }
            let policy = match *policy {
                RawPolicy::Never => RestartPolicy::Never,
                RawPolicy::Always => RestartPolicy::Always,
                RawPolicy::AtMost(limit) => RestartPolicy::AtMost(limit),
            };
            let backoff_cycles = raw.backoff_cycles;
            wards.push(WardSpec { server: server.clone(), policy, backoff_cycles, depends_on: Vec::new() });
        }
        let supervised: Vec<String> = wards.iter().map(|ward| ward.server.clone()).collect();
        for (ward, depends_on) in wards.iter_mut().zip(self.dependencies(raw, &supervised)?) {
            ward.depends_on = depends_on;
        }
        debug_assert!(wards.len() <= MAX_WARDS);
        Ok(Some(SupervisorSpec { priority, heartbeat, wards }))
    }

    pub(super) fn faults(&self, raw: &[RawFault], servers: &Servers) -> Result<Vec<FaultSpec>, ScenarioError> {
        let mut faults = Vec::new();
        for (index, fault) in raw.iter().enumerate() {
            let item = format!("faults[{index}] (server {})", quoted(&fault.server));
            let spec = parse_fault(fault, servers).map_err(|(field, message)| {
                self.fail(&[Step::Field("faults"), Step::Index(index), Step::Field(field)], item, message)
            })?;
            faults.push(spec);
        }
        Ok(faults)
    }
}

fn booted_list(servers: &Servers) -> String {
    let booted: Vec<&str> = Service::faultable().filter(|&service| servers.boots(service)).map(Service::name).collect();
    if booted.is_empty() { "none of the servers it could".into() } else { booted.join(", ") }
}

/// The fault `raw` describes; or the field at fault and what is wrong with it.
fn parse_fault(raw: &RawFault, servers: &Servers) -> Result<FaultSpec, (&'static str, String)> {
    if !faultable_and_booted(servers, &raw.server) {
        let message = format!("is not a server the scenario boots (faults can strike {})", booted_list(servers));
        return Err(("server", message));
    }
    let kind = match raw.kind {
        RawFaultKind::Crash => FaultKind::Crash,
        RawFaultKind::Hang => FaultKind::Hang,
        RawFaultKind::CorruptReply => FaultKind::CorruptReply,
        RawFaultKind::DropMessage => FaultKind::DropMessage,
        RawFaultKind::Delay(cycles) => FaultKind::Delay(cycles),
    };
    let trigger = match raw.at {
        RawTrigger::Time(at) => Trigger::AtTime(at),
        RawTrigger::Message(0) => return Err(("at", "Message(n) counts from 1".into())),
        RawTrigger::Message(n) => Trigger::AtMessage(n),
        RawTrigger::Random(p) if !(0.0..=1.0).contains(&p) => {
            return Err(("at", format!("Random({p}) is not a probability between 0 and 1")));
        }
        RawTrigger::Random(p) => Trigger::Random(p),
    };
    Ok(FaultSpec { server: raw.server.clone(), kind, trigger })
}

/// Parses a fault given on the command line: `SERVER:KIND@WHEN`, where KIND is `crash`,
/// `hang`, `corrupt`, `drop` or `delay=CYCLES`, and WHEN is `msg=N`, `t=CYCLES` or `p=PROB`
/// (`block:crash@msg=3`, `fs:delay=5000@p=0.1`).
///
/// # Errors
/// What is wrong with it, in words.
pub fn parse_cli_fault(text: &str) -> Result<FaultSpec, String> {
    let usage = "expected SERVER:KIND@WHEN, e.g. block:crash@msg=3 (KIND: crash, hang, corrupt, drop, delay=CYCLES; \
                 WHEN: msg=N, t=CYCLES, p=PROBABILITY)";
    let (server, rest) = text.split_once(':').ok_or_else(|| format!("`{text}`: {usage}"))?;
    let (kind, when) = rest.split_once('@').ok_or_else(|| format!("`{text}`: {usage}"))?;
    let number = |value: &str, what: &str| {
        value.parse::<u64>().map_err(|_| format!("`{text}`: {what} `{value}` is not a number"))
    };
    let kind = match kind.split_once('=') {
        None if kind == "crash" => FaultKind::Crash,
        None if kind == "hang" => FaultKind::Hang,
        None if kind == "corrupt" => FaultKind::CorruptReply,
        None if kind == "drop" => FaultKind::DropMessage,
        Some(("delay", cycles)) => FaultKind::Delay(number(cycles, "delay")?),
        _ => return Err(format!("`{text}`: unknown fault kind `{kind}`; {usage}")),
    };
    let trigger = match when.split_once('=') {
        Some(("msg", n)) => match number(n, "message number")? {
            0 => return Err(format!("`{text}`: msg counts from 1")),
            n => Trigger::AtMessage(n),
        },
        Some(("t", at)) => Trigger::AtTime(number(at, "time")?),
        Some(("p", p)) => match p.parse::<f64>() {
            Ok(p) if (0.0..=1.0).contains(&p) => Trigger::Random(p),
            _ => return Err(format!("`{text}`: p={p} is not a probability between 0 and 1")),
        },
        _ => return Err(format!("`{text}`: unknown trigger `{when}`; {usage}")),
    };
    if !Service::from_name(server).is_some_and(Service::is_faultable) {
        return Err(format!("`{text}`: faults can strike {}, not `{server}`", faultable_list()));
    }
    Ok(FaultSpec { server: server.to_owned(), kind, trigger })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn command_line_faults_parse_every_kind_and_trigger() {
        let fault = parse_cli_fault("block:crash@msg=3").unwrap();
        assert_eq!(
            (fault.server.as_str(), fault.kind, fault.trigger),
            ("block", FaultKind::Crash, Trigger::AtMessage(3))
        );
        assert_eq!(parse_cli_fault("fs:delay=500@p=0.25").unwrap().kind, FaultKind::Delay(500));
        assert_eq!(parse_cli_fault("fs:hang@t=900").unwrap().trigger, Trigger::AtTime(900));
        assert_eq!(parse_cli_fault("console:corrupt@msg=1").unwrap().kind, FaultKind::CorruptReply);
        assert_eq!(parse_cli_fault("timer:drop@msg=2").unwrap().kind, FaultKind::DropMessage);
    }

    #[test]
    fn bad_command_line_faults_say_what_is_wrong() {
        for (text, words) in [
            ("fs-crash", "expected SERVER:KIND@WHEN"),
            ("fs:explode@msg=1", "unknown fault kind"),
            ("fs:crash@msg=0", "counts from 1"),
            ("fs:crash@p=2", "not a probability"),
            ("fs:crash@soon", "unknown trigger"),
            ("supervisor:crash@msg=1", "not `supervisor`"),
            ("fs:delay=x@msg=1", "is not a number"),
        ] {
            let error = parse_cli_fault(text).unwrap_err();
            assert!(error.contains(words), "{text}: {error}");
        }
    }
}
