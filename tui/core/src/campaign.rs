//! Fault campaigns: the same scenario over many seeds, each with faults, in
//! both modes, the way MINIX 3's fault-injection experiments measured that a
//! failing driver need not take the system down.
//!
//! For every seed the campaign first runs the scenario without faults
//! (microkernel mode) as the reference: the files it leaves are what a run
//! should have written, and the requests each server handled bound where a
//! random fault can strike. Then it runs the faulted scenario in both modes.
//! A scenario that declares faults (or a command line that adds some) gets
//! those; one that declares none gets one random failure per seed: a crash,
//! hang, corrupt reply or dropped request at a request the reference shows
//! the server handles, so every fault manifests.
//!
//! Seeds run in parallel on every core; each simulation stays on one thread
//! and the figures are summed in seed order, so the report does not depend
//! on the scheduling of the host threads.
//!
//! It owns the campaign's runs and figures ([`CampaignReport`]), in words
//! ([`describe`]) and in JSON ([`campaign_json`]); it prints nothing and reads
//! no host clock.

use crate::run::{RunOptions, RunReport, run};
use crate::scenario::Scenario;
use mksim_kernel::event::EventKind;
use mksim_kernel::seed;
use mksim_kernel::{MessageKind, Outcome};
use mksim_servers::fault::{FaultKind, FaultSpec, Trigger};
use mksim_servers::service::Service;
use mksim_servers::system::Mode;
use rand_chacha::ChaCha8Rng;
use rand_core::{Rng, SeedableRng};
use serde::Serialize;
use std::collections::BTreeMap;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};

/// How a campaign runs.
#[derive(Clone, Debug)]
pub struct Campaign {
    /// Seeds to run.
    pub runs: u64,
    /// The first seed; the others follow it.
    pub first_seed: u64,
    /// Host threads to run seeds on.
    pub threads: usize,
    /// Runs each seed's microkernel mode twice, with no process recovering stale file
    /// descriptors and with every one recovering, to compare how the clients fare.
    pub compare_recovery: bool,
}

/// A campaign's figures for one mode.
#[derive(Clone, Copy, PartialEq, Eq, Debug, Default, Serialize)]
pub struct ModeFigures {
    /// Runs made.
    pub runs: u64,
    /// Runs that ended in a kernel panic: the whole system went down.
    pub system_crashes: u64,
    /// Servers restarted by the supervisor, over all runs.
    pub server_restarts: u64,
    /// Client operations that failed (an error, or lost with the system).
    pub client_ops_failed: u64,
    /// Client operations sent again after their server died (each counted once).
    pub client_ops_retried: u64,
    /// Client operations that succeeded.
    pub client_ops_succeeded: u64,
    /// Bytes of writes the file server acknowledged that are missing or different at the end:
    /// promises broken.
    pub data_lost_acknowledged: u64,
    /// Bytes of writes whose clients were told they failed (the server died or garbled its
    /// answer) or never heard back, missing or different at the end.
    pub data_lost_unacknowledged: u64,
    /// Bytes of file data the fault-free run has on disk that the faulted run does not: lost,
    /// or never written because a program stopped or the system went down first.
    pub data_missing: u64,
    /// Runs in which a failure (crash, hang, corrupt reply, drop) struck.
    pub faults_manifested: u64,
    /// Runs that ended neither cleanly nor in a panic where the fault-free run ended cleanly:
    /// some client never finished (a deadlock report, or the step limit).
    pub clients_blocked: u64,
}

/// What a campaign found, per mode.
#[derive(Clone, Debug, Serialize)]
pub struct CampaignReport {
    /// The scenario's name.
    pub scenario: String,
    /// The seeds run, first and last.
    pub seeds: (u64, u64),
    /// True when the faults were drawn at random, one per seed.
    pub random_faults: bool,
    /// The cost profile of each mode, by name: microkernel, then monolithic.
    pub profiles: [String; 2],
    /// Microkernel mode.
    pub microkernel: ModeFigures,
    /// Monolithic mode.
    pub monolithic: ModeFigures,
    /// With random faults: both modes' figures by the fault drawn (`crash in fs`).
    pub by_fault: BTreeMap<String, (ModeFigures, ModeFigures)>,
    /// When comparing recovery: microkernel mode with every process recovering stale file
    /// descriptors (the `microkernel` figures are then those of no process recovering).
    pub recovering: Option<ModeFigures>,
    /// When comparing recovery with random faults: the recovering figures by the fault drawn.
    pub recovering_by_fault: BTreeMap<String, ModeFigures>,
}

/// One seed's figures in both modes.
struct SeedFigures {
    /// The random fault's kind and server (`crash in fs`), when the campaign drew one.
    drawn: Option<String>,
    microkernel: ModeFigures,
    monolithic: ModeFigures,
    /// Microkernel mode with every process recovering, when the campaign compares recovery.
    recovering: Option<ModeFigures>,
}

/// Runs `campaign` over `scenario`, with `options` (a profile; `faults` to use instead of the
/// scenario's, when given and not empty).
pub fn run_campaign(scenario: &Scenario, options: &RunOptions, campaign: &Campaign) -> CampaignReport {
    let declared = options.faults.clone().unwrap_or_else(|| scenario.faults.clone());
    let next = AtomicU64::new(0);
    let results: Mutex<Vec<(u64, SeedFigures)>> = Mutex::new(Vec::new());
    std::thread::scope(|scope| {
        for _ in 0..campaign.threads.max(1) {
            scope.spawn(|| {
                loop {
                    let index = next.fetch_add(1, Ordering::Relaxed);
                    if index >= campaign.runs {
                        break;
                    }
                    let seed = campaign.first_seed.wrapping_add(index);
                    let figures = run_seed(scenario, options, &declared, seed, campaign.compare_recovery);
                    results.lock().expect("no campaign thread panics while holding it").push((index, figures));
                }
            });
        }
    });
    let mut results = results.into_inner().expect("the campaign threads have ended");
    results.sort_by_key(|(index, _)| *index);
    let mut report = CampaignReport {
        scenario: scenario.name.clone(),
        seeds: (campaign.first_seed, campaign.first_seed.wrapping_add(campaign.runs.saturating_sub(1))),
        random_faults: declared.is_empty(),
        profiles: [Mode::Microkernel, Mode::Monolithic].map(|mode| match options.profiles.in_mode(mode) {
            Some(profile) => profile.name.clone(),
            None => scenario.kernel_in(mode).profile.name,
        }),
        microkernel: ModeFigures::default(),
        monolithic: ModeFigures::default(),
        by_fault: BTreeMap::new(),
        recovering: campaign.compare_recovery.then(ModeFigures::default),
        recovering_by_fault: BTreeMap::new(),
    };
    for (_, figures) in results {
        add(&mut report.microkernel, figures.microkernel);
        add(&mut report.monolithic, figures.monolithic);
        if let (Some(total), Some(run)) = (&mut report.recovering, figures.recovering) {
            add(total, run);
        }
        if let Some(drawn) = figures.drawn {
            if let Some(run) = figures.recovering {
                add(report.recovering_by_fault.entry(drawn.clone()).or_default(), run);
            }
            let (micro, mono) = report.by_fault.entry(drawn).or_default();
            add(micro, figures.microkernel);
            add(mono, figures.monolithic);
        }
    }
    report
}

fn add(total: &mut ModeFigures, run: ModeFigures) {
    total.runs += run.runs;
    total.system_crashes += run.system_crashes;
    total.server_restarts += run.server_restarts;
    total.client_ops_failed += run.client_ops_failed;
    total.client_ops_retried += run.client_ops_retried;
    total.client_ops_succeeded += run.client_ops_succeeded;
    total.data_lost_acknowledged += run.data_lost_acknowledged;
    total.data_lost_unacknowledged += run.data_lost_unacknowledged;
    total.data_missing += run.data_missing;
    total.faults_manifested += run.faults_manifested;
    total.clients_blocked += run.clients_blocked;
}

fn run_seed(
    scenario: &Scenario,
    options: &RunOptions,
    declared: &[FaultSpec],
    seed: u64,
    compare_recovery: bool,
) -> SeedFigures {
    let reference_options = RunOptions { seed: Some(seed), faults: Some(Vec::new()), ..options.clone() };
    let mut reference = run(scenario, Mode::Microkernel, &reference_options);
    let faults =
        if declared.is_empty() { random_fault(&reference, seed).into_iter().collect() } else { declared.to_vec() };
    // Its log is read no further, and a long run's log is most of its memory: it goes before the
    // faulted runs, so a thread holds one run's budget at a time (see `--memory-limit`).
    reference.log = Default::default();
    let drawn = match (declared.is_empty(), faults.first()) {
        (true, Some(fault)) => Some(format!("{} in {}", fault.kind.logged().name(), fault.server)),
        _ => None,
    };
    let recover = if compare_recovery { Some(false) } else { options.recover };
    let faulted = RunOptions { seed: Some(seed), faults: Some(faults), recover, ..options.clone() };
    let figures = |mode, options: &RunOptions| figures(&run(scenario, mode, options), &reference);
    let recovering = RunOptions { recover: Some(true), ..faulted.clone() };
    SeedFigures {
        drawn,
        microkernel: figures(Mode::Microkernel, &faulted),
        monolithic: figures(Mode::Monolithic, &faulted),
        recovering: compare_recovery.then(|| figures(Mode::Microkernel, &recovering)),
    }
}

/// The stream of a seed that random faults are drawn from.
const RANDOM_FAULT_STREAM: u64 = seed::stream_with_mask(0x6661_756c_7473);

/// One failure at a request the reference run shows the server handles, drawn from `seed`.
fn random_fault(reference: &RunReport, seed: u64) -> Option<FaultSpec> {
    let handled = requests_handled(reference);
    let targets: Vec<(&str, u64)> = Service::drawn_at_random()
        .map(Service::name)
        .filter_map(|server| handled.get(server).map(|&count| (server, count)))
        .filter(|&(_, count)| count > 0)
        .collect();
    let mut draws = ChaCha8Rng::seed_from_u64(seed::derive(seed, RANDOM_FAULT_STREAM));
    let pick = |draws: &mut ChaCha8Rng, n: u64| draws.next_u64() % n;
    let (server, count) = *targets.get(pick(&mut draws, targets.len().max(1) as u64) as usize)?;
    let kinds = [FaultKind::Crash, FaultKind::Hang, FaultKind::CorruptReply, FaultKind::DropMessage];
    let kind = kinds[pick(&mut draws, kinds.len() as u64) as usize];
    let at = 1 + pick(&mut draws, count);
    Some(FaultSpec { server: server.to_owned(), kind, trigger: Trigger::AtMessage(at) })
}

/// Requests each server received in a run (calls and sends to it; heartbeats aside, as the
/// fault plan counts them).
fn requests_handled(report: &RunReport) -> BTreeMap<String, u64> {
    let log = &report.log;
    let mut handled = BTreeMap::new();
    for event in log.events() {
        let EventKind::MessageDelivered { message } = event.kind else { continue };
        let record = log.message(message);
        let request = matches!(record.kind, MessageKind::Call | MessageKind::Send | MessageKind::Async);
        if request && record.label != mksim_userland::protocol::HEARTBEAT {
            *handled.entry(log.process_name(event.process).to_owned()).or_default() += 1;
        }
    }
    handled
}

fn figures(report: &RunReport, reference: &RunReport) -> ModeFigures {
    let reliability = &report.reliability;
    let crashed = matches!(report.outcome, Outcome::KernelPanic(_));
    ModeFigures {
        runs: 1,
        system_crashes: u64::from(crashed),
        server_restarts: reliability.total_restarts(),
        client_ops_failed: reliability.ops_failed,
        client_ops_retried: reliability.ops_retried,
        client_ops_succeeded: reliability.ops_succeeded,
        data_lost_acknowledged: reliability.data_lost.acknowledged,
        data_lost_unacknowledged: reliability.data_lost.unacknowledged,
        data_missing: data_missing(report, reference),
        faults_manifested: u64::from(reliability.failures_injected > 0),
        // A run the fault-free reference also ends blocked (a deadlock scenario) is not the fault's doing.
        clients_blocked: u64::from(!crashed && !report.outcome.is_completed() && reference.outcome.is_completed()),
    }
}

/// Bytes the reference run left in its files that this run did not leave at the same place.
pub fn data_missing(report: &RunReport, reference: &RunReport) -> u64 {
    reference
        .files
        .iter()
        .map(|(path, expected)| {
            let got = report.files.get(path).map_or(&[][..], Vec::as_slice);
            expected.iter().enumerate().filter(|&(at, byte)| got.get(at) != Some(byte)).count() as u64
        })
        .sum()
}

/// Reads one figure of a mode.
type Figure = fn(&ModeFigures) -> u64;

/// Every figure, as the text labels it (a unit in brackets); its JSON name is the label without
/// the unit, in snake case ([`json_name`]).
const FIGURES: [(&str, Figure); 11] = [
    ("runs", |f| f.runs),
    ("faults manifested (runs)", |f| f.faults_manifested),
    ("system crashes", |f| f.system_crashes),
    ("clients blocked (runs)", |f| f.clients_blocked),
    ("server restarts", |f| f.server_restarts),
    ("client ops succeeded", |f| f.client_ops_succeeded),
    ("client ops failed", |f| f.client_ops_failed),
    ("client ops retried", |f| f.client_ops_retried),
    ("data lost acknowledged (bytes)", |f| f.data_lost_acknowledged),
    ("data lost unacknowledged (bytes)", |f| f.data_lost_unacknowledged),
    ("data missing (bytes)", |f| f.data_missing),
];

/// A figure's name in JSON: its text label without the unit, in snake case
/// (`faults manifested (runs)` is `faults_manifested`).
pub fn json_name(label: &str) -> String {
    label.split(" (").next().unwrap_or(label).replace(' ', "_")
}

fn figures_json(figures: &ModeFigures) -> serde_json::Map<String, serde_json::Value> {
    FIGURES.iter().map(|&(label, figure)| (json_name(label), figure(figures).into())).collect()
}

/// The report as one JSON object, with the names the text uses: the scenario, the seeds
/// (`first_seed`, `last_seed`, `runs`), whether the faults were drawn at random, each mode's
/// profile and figures, and with random faults the figures of both modes by the fault drawn.
pub fn campaign_json(report: &CampaignReport) -> serde_json::Value {
    let mode = |figures: &ModeFigures, profile: &str| {
        let mut object = figures_json(figures);
        object.insert("profile".to_owned(), profile.into());
        serde_json::Value::Object(object)
    };
    let by_fault: serde_json::Map<String, serde_json::Value> = report
        .by_fault
        .iter()
        .map(|(fault, (micro, mono))| {
            let figures = serde_json::json!({"microkernel": figures_json(micro), "monolithic": figures_json(mono)});
            (fault.clone(), figures)
        })
        .collect();
    let mut json = serde_json::json!({
        "scenario": report.scenario,
        "first_seed": report.seeds.0,
        "last_seed": report.seeds.1,
        "runs": report.microkernel.runs,
        "random_faults": report.random_faults,
        "microkernel": mode(&report.microkernel, &report.profiles[0]),
        "monolithic": mode(&report.monolithic, &report.profiles[1]),
        "by_fault": by_fault,
    });
    if let (Some(recovering), serde_json::Value::Object(object)) = (&report.recovering, &mut json) {
        object.insert("microkernel_recovering".to_owned(), mode(recovering, &report.profiles[0]));
        let by_fault =
            report.recovering_by_fault.iter().map(|(fault, figures)| (fault.clone(), figures_json(figures).into()));
        object.insert("microkernel_recovering_by_fault".to_owned(), serde_json::Value::Object(by_fault.collect()));
    }
    json
}

/// The report as text, a column per mode.
pub fn describe(report: &CampaignReport) -> String {
    use std::fmt::Write;
    let mut text = String::new();
    let faults = if report.random_faults { "one random fault per seed" } else { "the scenario's faults" };
    let scenario = mksim_kernel::escape_controls(&report.scenario);
    let _ = writeln!(text, "fault campaign: {scenario}, seeds {}..={}, {faults}", report.seeds.0, report.seeds.1);
    let _ = writeln!(text);
    let (micro, mono) = (&report.microkernel, &report.monolithic);
    let profiles = report.profiles.each_ref().map(|profile| mksim_kernel::escape_controls(profile));
    match &report.recovering {
        None => {
            let _ = writeln!(text, "{:<33} {:>12} {:>12}", "", "microkernel", "monolithic");
            let _ = writeln!(text, "{:<33} {:>12} {:>12}", "profile", profiles[0], profiles[1]);
            for (name, value) in FIGURES {
                let _ = writeln!(text, "{name:<33} {:>12} {:>12}", value(micro), value(mono));
            }
        }
        Some(recovering) => {
            let _ = writeln!(text, "{:<33} {:>12} {:>12} {:>12}", "", "microkernel", "μ recovering", "monolithic");
            let _ = writeln!(text, "{:<33} {:>12} {:>12} {:>12}", "profile", profiles[0], profiles[0], profiles[1]);
            for (name, value) in FIGURES {
                let _ = writeln!(text, "{name:<33} {:>12} {:>12} {:>12}", value(micro), value(recovering), value(mono));
            }
        }
    }
    if !report.by_fault.is_empty() {
        describe_by_fault(report, &mut text);
    }
    text
}

/// The figures by the fault drawn, a row each.
fn describe_by_fault(report: &CampaignReport, text: &mut String) {
    use std::fmt::Write;
    let recovering = report.recovering.is_some();
    let _ = writeln!(text);
    let _ = write!(
        text,
        "{:<26} {:>5} {:>9} {:>8} {:>9} {:>9} {:>9} {:>10}",
        "by fault drawn", "runs", "restarts", "blocked", "μ failed", "μ ack B", "μ unack B", "M missing B"
    );
    let _ = writeln!(text, "{}", if recovering { format!(" {:>10}", "μR failed") } else { String::new() });
    for (fault, (micro, mono)) in &report.by_fault {
        let _ = write!(
            text,
            "{fault:<26} {:>5} {:>9} {:>8} {:>9} {:>9} {:>9} {:>11}",
            micro.runs,
            micro.server_restarts,
            micro.clients_blocked,
            micro.client_ops_failed,
            micro.data_lost_acknowledged,
            micro.data_lost_unacknowledged,
            mono.data_missing
        );
        let failed = report.recovering_by_fault.get(fault).map(|figures| figures.client_ops_failed);
        let _ = writeln!(text, "{}", failed.map(|failed| format!(" {failed:>10}")).unwrap_or_default());
    }
    let _ = writeln!(
        text,
        "(μ microkernel, M monolithic: every one of these runs crashed the monolithic kernel;\n \
         ack / unack B: bytes lost of writes acknowledged / not acknowledged{})",
        if recovering { "; μR: microkernel with every client recovering" } else { "" }
    );
}
