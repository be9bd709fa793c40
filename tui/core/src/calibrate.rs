//! `mksim calibrate`: measures this machine's primitives and turns them into
//! a cost profile, so a scenario can be run at the prices of the host it runs on.
//!
//! What is measured, each as the best of several runs (a shared machine only
//! ever adds time): an indirect function call, a null syscall (`getpid`), a
//! one-way message through pipes and through a Unix socket pair between two
//! processes (half a round trip), a hand-off between two threads over
//! crossbeam channels, and copying 4 KiB buffers. The host's clock is found by
//! timing a long chain of dependent integer operations, which any modern core
//! retires at one per cycle, and every figure is converted to cycles at that
//! clock.
//!
//! Two figures of a profile cannot be timed from user space and are estimated,
//! as the profile's sources say: a context switch is the pipe round trip less
//! its four syscalls, halved; an interrupt to a user-level driver is taken to
//! cost a pipe message. The profile keeps function call < syscall < one-way
//! IPC, each at least one cycle, raising a figure that contradicts the order
//! and saying so in its sources.
//!
//! The peer process is whatever command the caller gives (the `mksim` binary
//! runs itself with a hidden subcommand that calls [`echo_standard_streams`]);
//! this module neither finds nor names the binary.
//!
//! It is the one module of the core that reads the host's clock and starts a
//! process: timing this machine is its purpose. Nothing it measures reaches a
//! run unless the caller passes the profile it builds.
//!
//! Its code is under 600 lines; the unit tests (the profile's rules, the date
//! arithmetic, the table) take the last two hundred.

use mksim_kernel::CostProfile;
use std::hint::black_box;
use std::io::{Read, Write};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant, SystemTime};

/// Runs of each measurement when the caller does not say: the best one counts.
pub const REPEATS_DEFAULT: u32 = 10;

/// Bytes in each message of the IPC measurements: a short message, a word long.
const MESSAGE_BYTES: usize = 8;

/// Round trips in each run of an IPC measurement (a tenth as many go first, untimed).
const IPC_ROUNDS: u64 = 2_000;

/// Dependent operations in one round of the clock loop (see [`dependent_operations`]).
const OPERATIONS_PER_ROUND: u64 = 16;

/// Bytes in each buffer of the copy measurement.
const COPY_BUFFER_BYTES: usize = 4096;

/// Syscalls in one pipe round trip: the parent writes and reads, the peer reads and writes.
const SYSCALLS_PER_ROUND_TRIP: f64 = 4.0;

/// The command that starts the echoing peer of the IPC measurements.
#[derive(Clone, Debug)]
pub struct Peer {
    /// The program to run.
    pub program: PathBuf,
    /// Its arguments.
    pub arguments: Vec<String>,
}

impl Peer {
    fn command(&self) -> Command {
        let mut command = Command::new(&self.program);
        command.args(&self.arguments).stderr(Stdio::inherit());
        command
    }
}

/// Everything `mksim calibrate` measures, in host nanoseconds.
#[derive(Clone, Debug, PartialEq)]
pub struct Measurements {
    /// The CPU model (from /proc/cpuinfo), or `unknown CPU`.
    pub cpu: String,
    /// The measured clock, in GHz.
    pub clock_ghz: f64,
    /// The clock /proc/cpuinfo reports (`cpu MHz`), when it does.
    pub cpuinfo_mhz: Option<f64>,
    /// The day of the measurement, YYYY-MM-DD (UTC).
    pub date: String,
    /// Runs of each measurement; the best one is kept.
    pub repeats: u32,
    /// An indirect call to a function that adds one.
    pub function_call_ns: f64,
    /// A null syscall (`getpid`).
    pub syscall_ns: f64,
    /// A one-way 8-byte message through pipes between two processes (half a round trip).
    pub pipe_one_way_ns: f64,
    /// The same through a Unix socket pair; `None` where there are no Unix sockets.
    pub socket_one_way_ns: Option<f64>,
    /// A one-way hand-off between two threads over crossbeam channels (half a round trip).
    pub thread_handoff_ns: f64,
    /// Copying one byte, from copies of 4 KiB buffers.
    pub copy_ns_per_byte: f64,
}

impl Measurements {
    /// Cycles at the measured clock for `ns` nanoseconds.
    pub fn cycles(&self, ns: f64) -> f64 {
        ns * self.clock_ghz
    }

    /// The context-switch estimate: a pipe round trip less the syscalls it makes, halved.
    pub fn context_switch_ns(&self) -> f64 {
        ((2.0 * self.pipe_one_way_ns - SYSCALLS_PER_ROUND_TRIP * self.syscall_ns) / 2.0).max(0.0)
    }
}

/// Measures this machine, each figure the best of `repeats` runs; `peer` echoes its
/// standard input to its standard output.
///
/// # Errors
/// When the peer cannot be started, or a pipe or socket fails.
pub fn measure(peer: &Peer, repeats: u32) -> std::io::Result<Measurements> {
    let repeats = repeats.max(1);
    let cpuinfo = std::fs::read_to_string("/proc/cpuinfo").unwrap_or_default();
    Ok(Measurements {
        cpu: cpu_model(&cpuinfo).unwrap_or_else(|| "unknown CPU".to_owned()),
        clock_ghz: clock_ghz(repeats),
        cpuinfo_mhz: cpuinfo_mhz(&cpuinfo),
        date: today(),
        repeats,
        function_call_ns: best_ns(repeats, || Ok(function_call_ns()))?,
        syscall_ns: best_ns(repeats, || Ok(syscall_ns()))?,
        pipe_one_way_ns: pipe_one_way_ns(peer, repeats)?,
        socket_one_way_ns: socket_one_way_ns(peer, repeats)?,
        thread_handoff_ns: best_ns(repeats, || Ok(thread_handoff_ns()))?,
        copy_ns_per_byte: best_ns(repeats, || Ok(copy_ns_per_byte()))?,
    })
}

/// The lowest of `repeats` measured times: interference only ever adds time.
fn best_ns(repeats: u32, mut measure: impl FnMut() -> std::io::Result<f64>) -> std::io::Result<f64> {
    let mut best = f64::INFINITY;
    for _ in 0..repeats.max(1) {
        best = best.min(measure()?);
    }
    Ok(best)
}

fn ns_per(elapsed: Duration, count: u64) -> f64 {
    elapsed.as_nanos() as f64 / count.max(1) as f64
}

/// Rounds of additions and exclusive-ors, each operation waiting for the result of the one
/// before, so no core can run two at once and each costs its latency: one cycle. The
/// exclusive-ors keep the compiler from folding the additions into one multiplication.
#[inline(never)]
fn dependent_operations(rounds: u64, add: u64, mix: u64) -> u64 {
    let mut value = rounds;
    for _ in 0..rounds {
        value = value.wrapping_add(add) ^ mix;
        value = value.wrapping_add(add) ^ mix;
        value = value.wrapping_add(add) ^ mix;
        value = value.wrapping_add(add) ^ mix;
        value = value.wrapping_add(add) ^ mix;
        value = value.wrapping_add(add) ^ mix;
        value = value.wrapping_add(add) ^ mix;
        value = value.wrapping_add(add) ^ mix;
    }
    value
}

/// The clock in GHz: dependent operations per nanosecond, in the fastest of many short runs.
///
/// A busy machine takes the core away now and then, so the runs are short (about a
/// millisecond) and ten times as many as for the other figures: it takes only one run
/// that nothing interrupted. A longer untimed run first lets the core reach its working clock.
fn clock_ghz(repeats: u32) -> f64 {
    let (add, mix) = (black_box(0x9e37_79b9), black_box(0x5bd1_e995));
    black_box(dependent_operations(black_box(3_000_000), add, mix));
    let rounds = 200_000u64;
    let mut best = f64::INFINITY;
    for _ in 0..repeats.saturating_mul(10) {
        let start = Instant::now();
        black_box(dependent_operations(black_box(rounds), add, mix));
        best = best.min(ns_per(start.elapsed(), rounds * OPERATIONS_PER_ROUND));
    }
    1.0 / best
}

#[inline(never)]
fn add_one(value: u64) -> u64 {
    value.wrapping_add(1)
}

fn function_call_ns() -> f64 {
    let rounds = 2_000_000u64;
    // Through a pointer the compiler cannot see into, so every call is made.
    let call: fn(u64) -> u64 = black_box(add_one);
    let start = Instant::now();
    let mut value = 0;
    for _ in 0..rounds {
        value = call(value);
    }
    black_box(value);
    ns_per(start.elapsed(), rounds)
}

fn syscall_ns() -> f64 {
    let rounds = 50_000u64;
    let start = Instant::now();
    for _ in 0..rounds {
        // getpid: glibc no longer caches it, so each call enters the kernel.
        black_box(std::process::id());
    }
    ns_per(start.elapsed(), rounds)
}

/// Nanoseconds per one-way message: half the time of `rounds` round trips through `writer` and
/// `reader`, after a few untimed ones.
fn one_way_ns(writer: &mut impl Write, reader: &mut impl Read, rounds: u64) -> std::io::Result<f64> {
    let mut message = [0u8; MESSAGE_BYTES];
    for _ in 0..rounds / 10 {
        writer.write_all(&message)?;
        reader.read_exact(&mut message)?;
    }
    let start = Instant::now();
    for round in 0..rounds {
        message[0] = round as u8;
        writer.write_all(&message)?;
        reader.read_exact(&mut message)?;
    }
    Ok(ns_per(start.elapsed(), rounds * 2))
}

/// Waits for the peer after its input has closed; a peer that failed is an error.
fn finish(mut child: Child) -> std::io::Result<()> {
    let status = child.wait()?;
    if status.success() {
        Ok(())
    } else {
        Err(std::io::Error::other(format!("the calibration peer ended with {status}")))
    }
}

fn pipe_one_way_ns(peer: &Peer, repeats: u32) -> std::io::Result<f64> {
    let mut child = peer.command().stdin(Stdio::piped()).stdout(Stdio::piped()).spawn()?;
    let mut writer = child.stdin.take().expect("stdin is piped");
    let mut reader = child.stdout.take().expect("stdout is piped");
    let best = best_ns(repeats, || one_way_ns(&mut writer, &mut reader, IPC_ROUNDS));
    drop(writer);
    finish(child)?;
    best
}

#[cfg(unix)]
fn socket_one_way_ns(peer: &Peer, repeats: u32) -> std::io::Result<Option<f64>> {
    use std::os::fd::OwnedFd;
    use std::os::unix::net::UnixStream;
    let (mut ours, theirs) = UnixStream::pair()?;
    let mut command = peer.command();
    command.stdin(Stdio::from(OwnedFd::from(theirs.try_clone()?))).stdout(Stdio::from(OwnedFd::from(theirs)));
    let child = command.spawn()?;
    // The command holds our copies of the peer's end; they go, so only the peer has it.
    drop(command);
    let mut reader = ours.try_clone()?;
    let best = best_ns(repeats, || one_way_ns(&mut ours, &mut reader, IPC_ROUNDS));
    // With both our descriptors closed, the peer reads the end of its input and exits.
    drop(reader);
    drop(ours);
    finish(child)?;
    best.map(Some)
}

#[cfg(not(unix))]
fn socket_one_way_ns(_peer: &Peer, _repeats: u32) -> std::io::Result<Option<f64>> {
    Ok(None)
}

fn thread_handoff_ns() -> f64 {
    let rounds = 5_000u64;
    // A round trip is two hand-offs.
    ns_per(crossbeam_round_trips(rounds, rounds / 10), rounds * 2)
}

/// Host time of `rounds` round trips between two OS threads through a pair of crossbeam
/// channels, after `warm_up` round trips that are not timed.
///
/// # Panics
/// If the echoing thread this starts dies before the last round trip (it does not: it only
/// ever adds one and sends back).
pub fn crossbeam_round_trips(rounds: u64, warm_up: u64) -> Duration {
    let (to_server, requests) = crossbeam_channel::bounded::<u64>(1);
    let (to_client, replies) = crossbeam_channel::bounded::<u64>(1);
    let server = std::thread::spawn(move || {
        while let Ok(value) = requests.recv() {
            if to_client.send(value + 1).is_err() {
                break;
            }
        }
    });
    let round_trip = |round| {
        to_server.send(round).expect("the server thread is alive");
        black_box(replies.recv().expect("the server thread answers"));
    };
    (0..warm_up).for_each(round_trip);
    let start = Instant::now();
    (0..rounds).for_each(round_trip);
    let elapsed = start.elapsed();
    drop(to_server);
    let _ = server.join();
    elapsed
}

fn copy_ns_per_byte() -> f64 {
    let copies = 10_000u64;
    let source = vec![0x5au8; COPY_BUFFER_BYTES];
    let mut target = vec![0u8; COPY_BUFFER_BYTES];
    let start = Instant::now();
    for _ in 0..copies {
        target.copy_from_slice(black_box(&source));
        black_box(&mut target);
    }
    ns_per(start.elapsed(), copies * COPY_BUFFER_BYTES as u64)
}

/// The first `model name` of /proc/cpuinfo.
fn cpu_model(cpuinfo: &str) -> Option<String> {
    cpuinfo_field(cpuinfo, "model name").filter(|model| !model.is_empty()).map(str::to_owned)
}

/// The first `cpu MHz` of /proc/cpuinfo.
fn cpuinfo_mhz(cpuinfo: &str) -> Option<f64> {
    cpuinfo_field(cpuinfo, "cpu MHz")?.parse().ok().filter(|mhz: &f64| *mhz > 0.0)
}

fn cpuinfo_field<'a>(cpuinfo: &'a str, key: &str) -> Option<&'a str> {
    cpuinfo.lines().find_map(|line| {
        let (name, value) = line.split_once(':')?;
        (name.trim() == key).then(|| value.trim())
    })
}

/// Today's date in UTC, YYYY-MM-DD.
fn today() -> String {
    let seconds = SystemTime::now().duration_since(SystemTime::UNIX_EPOCH).map_or(0, |since| since.as_secs());
    let (year, month, day) = civil_date(seconds / 86_400);
    format!("{year:04}-{month:02}-{day:02}")
}

/// Year, month and day of the day `days` after 1970-01-01 (Howard Hinnant's `civil_from_days`).
fn civil_date(days: u64) -> (u64, u64, u64) {
    // Counted from 0000-03-01, so the leap day ends each 400-year era and each year.
    let days = days + 719_468;
    let era = days / 146_097;
    let day_of_era = days % 146_097;
    let year_of_era = (day_of_era - day_of_era / 1_460 + day_of_era / 36_524 - day_of_era / 146_096) / 365;
    let day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
    let month_from_march = (5 * day_of_year + 2) / 153;
    let day = day_of_year - (153 * month_from_march + 2) / 5 + 1;
    let month = if month_from_march < 10 { month_from_march + 3 } else { month_from_march - 9 };
    let year = year_of_era + era * 400 + u64::from(month <= 2);
    (year, month, day)
}

/// Whole cycles, rounded up and at least one.
fn whole_cycles(cycles: f64) -> u64 {
    // `as` turns NaN into 0 and saturates, and the floor of one catches both.
    (cycles.ceil() as u64).max(1)
}

/// `value`, or `floor` when it is below it, with a source line saying so.
fn at_least(value: u64, floor: u64, field: &str, below: &str, notes: &mut Vec<String>) -> u64 {
    if value >= floor {
        return value;
    }
    notes.push(format!(
        "Raised: {field} measured {value}, raised to {floor} to stay above {below} (the order a profile keeps)"
    ));
    floor
}

/// The cost profile of the measured host, named `name`.
///
/// Function call < syscall < one-way IPC, each at least one cycle: a figure that
/// breaks the order is raised, and a source line says which and from what.
pub fn build_profile(measurements: &Measurements, name: &str) -> CostProfile {
    let cycles = |ns: f64| whole_cycles(measurements.cycles(ns));
    let mut raised = Vec::new();
    let function_call_cycles = cycles(measurements.function_call_ns);
    let syscall_cycles = at_least(
        cycles(measurements.syscall_ns),
        function_call_cycles + 1,
        "syscall_cycles",
        "function_call_cycles",
        &mut raised,
    );
    let ipc_one_way_cycles = at_least(
        cycles(measurements.pipe_one_way_ns),
        syscall_cycles + 1,
        "ipc_one_way_cycles",
        "syscall_cycles",
        &mut raised,
    );
    let mut sources = sources(measurements);
    sources.extend(raised);
    CostProfile {
        name: name.to_owned(),
        description: format!(
            "This host: {}, {:.2} GHz, measured by mksim calibrate",
            measurements.cpu, measurements.clock_ghz
        ),
        sources,
        estimated: false,
        function_call_cycles,
        syscall_cycles,
        ipc_one_way_cycles,
        context_switch_cycles: cycles(measurements.context_switch_ns()),
        interrupt_cycles: ipc_one_way_cycles,
        copy_millicycles_per_byte: whole_cycles(measurements.cycles(measurements.copy_ns_per_byte) * 1000.0),
    }
}

fn sources(measurements: &Measurements) -> Vec<String> {
    let cpuinfo = measurements.cpuinfo_mhz.map(|mhz| format!("; /proc/cpuinfo says {mhz:.0} MHz")).unwrap_or_default();
    let socket =
        measurements.socket_one_way_ns.map(|ns| format!("Unix socket pair one-way {ns:.0} ns, ")).unwrap_or_default();
    vec![
        format!(
            "mksim calibrate on {}, {}: clock {:.2} GHz, from timing a chain of dependent integer \
             additions and exclusive-ors{cpuinfo}",
            measurements.cpu, measurements.date, measurements.clock_ghz
        ),
        format!(
            "Measured, {}: indirect function call {:.2} ns, null syscall (getpid) {:.1} ns, \
             one-way IPC {:.0} ns (half the round trip of an {MESSAGE_BYTES}-byte message through pipes \
             between two processes), copy {:.4} ns per byte (4 KiB copies)",
            runs(measurements.repeats),
            measurements.function_call_ns,
            measurements.syscall_ns,
            measurements.pipe_one_way_ns,
            measurements.copy_ns_per_byte
        ),
        format!(
            "Also measured, not in the profile: {socket}crossbeam thread hand-off one-way {:.0} ns",
            measurements.thread_handoff_ns
        ),
        "Estimated: context_switch_cycles is the pipe round trip less its 4 syscalls, halved; \
         interrupt_cycles is the one-way pipe message (a host has no user-level interrupt to time)"
            .to_owned(),
    ]
}

/// The profile as a RON file that `--profile FILE` loads, fields in the built-in order.
pub fn profile_ron(profile: &CostProfile) -> String {
    let text = ron::ser::to_string_pretty(profile, ron::ser::PrettyConfig::default())
        .expect("a cost profile always serializes");
    format!("// Measured on this machine by mksim calibrate.\n{text}\n")
}

/// One line of the figures table: what was measured, host ns, cycles, and the profile field it sets.
struct Row {
    what: &'static str,
    ns: Option<f64>,
    field: String,
}

/// The figures as a table: nanoseconds and cycles of each, and the profile field each sets.
pub fn describe(measurements: &Measurements, profile: &CostProfile) -> String {
    use std::fmt::Write;
    let rows = [
        Row {
            what: "function call (indirect)",
            ns: Some(measurements.function_call_ns),
            field: format!("function_call_cycles {}", profile.function_call_cycles),
        },
        Row {
            what: "null syscall (getpid)",
            ns: Some(measurements.syscall_ns),
            field: format!("syscall_cycles {}", profile.syscall_cycles),
        },
        Row {
            what: "one-way message, pipe",
            ns: Some(measurements.pipe_one_way_ns),
            field: format!("ipc_one_way_cycles {}", profile.ipc_one_way_cycles),
        },
        Row { what: "one-way message, Unix socket", ns: measurements.socket_one_way_ns, field: "-".to_owned() },
        Row { what: "thread hand-off, crossbeam", ns: Some(measurements.thread_handoff_ns), field: "-".to_owned() },
        Row {
            what: "context switch (estimate)",
            ns: Some(measurements.context_switch_ns()),
            field: format!("context_switch_cycles {}", profile.context_switch_cycles),
        },
        Row {
            what: "interrupt (estimate: pipe)",
            ns: Some(measurements.pipe_one_way_ns),
            field: format!("interrupt_cycles {}", profile.interrupt_cycles),
        },
        Row {
            what: "copy per byte (4 KiB copies)",
            ns: Some(measurements.copy_ns_per_byte),
            field: format!("copy_millicycles_per_byte {}", profile.copy_millicycles_per_byte),
        },
    ];
    let cpuinfo = measurements.cpuinfo_mhz.map(|mhz| format!("; /proc/cpuinfo says {mhz:.0} MHz")).unwrap_or_default();
    let mut text = String::new();
    let _ = writeln!(text, "{}, {}, {}", measurements.cpu, measurements.date, runs(measurements.repeats));
    let _ = writeln!(text, "clock {:.2} GHz (timed dependent integer operations{cpuinfo})", measurements.clock_ghz);
    if let Some(note) = clock_note(measurements) {
        let _ = writeln!(text, "{note}");
    }
    let _ = writeln!(text);
    let _ = writeln!(text, "{:<30} {:>10} {:>10}  profile", "", "ns", "cycles");
    for row in rows {
        let (ns, cycles) = match row.ns {
            Some(ns) => (format_figure(ns), format_figure(measurements.cycles(ns))),
            None => ("-".to_owned(), "-".to_owned()),
        };
        let _ = writeln!(text, "{:<30} {ns:>10} {cycles:>10}  {}", row.what, row.field);
    }
    for note in profile.sources.iter().filter(|source| source.starts_with("Raised:")) {
        let _ = writeln!(text, "{note}");
    }
    text
}

/// `one run` or `best of N runs`.
fn runs(repeats: u32) -> String {
    match repeats {
        1 => "one run".to_owned(),
        repeats => format!("best of {repeats} runs"),
    }
}

/// What a measured clock far from the one /proc/cpuinfo reports probably means.
fn clock_note(measurements: &Measurements) -> Option<&'static str> {
    let ratio = measurements.clock_ghz * 1000.0 / measurements.cpuinfo_mhz?;
    if ratio > 1.1 {
        Some("(faster than /proc/cpuinfo says: the core is boosted, and a VM's /proc/cpuinfo gives the base clock)")
    } else if ratio < 0.9 {
        Some("(slower than /proc/cpuinfo says: the machine was busy or saving power, so the figures may be off)")
    } else {
        None
    }
}

/// A figure with three significant digits or more: 0.0512, 1.23, 87.4, 2571.
fn format_figure(value: f64) -> String {
    match value.abs() {
        magnitude if magnitude < 0.1 => format!("{value:.4}"),
        magnitude if magnitude < 10.0 => format!("{value:.2}"),
        magnitude if magnitude < 100.0 => format!("{value:.1}"),
        _ => format!("{value:.0}"),
    }
}

/// The figures as one JSON object: the CPU and clock, and ns and cycles of each primitive.
pub fn figures_json(measurements: &Measurements) -> serde_json::Value {
    let figure = |ns: f64| serde_json::json!({ "ns": ns, "cycles": measurements.cycles(ns) });
    serde_json::json!({
        "cpu": measurements.cpu,
        "clock_ghz": measurements.clock_ghz,
        "cpuinfo_mhz": measurements.cpuinfo_mhz,
        "date": measurements.date,
        "repeats": measurements.repeats,
        "function_call": figure(measurements.function_call_ns),
        "syscall": figure(measurements.syscall_ns),
        "pipe_one_way": figure(measurements.pipe_one_way_ns),
        "unix_socket_one_way": measurements.socket_one_way_ns.map(figure),
        "thread_handoff": figure(measurements.thread_handoff_ns),
        "context_switch": figure(measurements.context_switch_ns()),
        "interrupt": figure(measurements.pipe_one_way_ns),
        "copy_per_byte": figure(measurements.copy_ns_per_byte),
        "estimated": ["context_switch", "interrupt"],
    })
}

/// The peer's side of the IPC measurements: copies standard input to standard output,
/// each read passed on at once, until the input ends.
///
/// # Errors
/// When reading or writing fails.
pub fn echo_standard_streams() -> std::io::Result<()> {
    let mut input = std::io::stdin().lock();
    let mut output = std::io::stdout().lock();
    let mut buffer = [0u8; 4096];
    loop {
        let count = match input.read(&mut buffer) {
            Ok(0) => return Ok(()),
            Ok(count) => count,
            Err(error) if error.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(error) => return Err(error),
        };
        output.write_all(&buffer[..count])?;
        output.flush()?;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn measurements() -> Measurements {
        Measurements {
            cpu: "Example \"CPU\" 9000 \\ rev 2".to_owned(),
            clock_ghz: 3.1,
            cpuinfo_mhz: Some(3100.0),
            date: "2026-01-02".to_owned(),
            repeats: 5,
            function_call_ns: 0.71,
            syscall_ns: 61.3,
            pipe_one_way_ns: 2_480.5,
            socket_one_way_ns: Some(2_210.0),
            thread_handoff_ns: 140.2,
            copy_ns_per_byte: 0.043,
        }
    }

    /// A profile figure is the measured cycles rounded up: at or above them, less than one above.
    fn assert_rounded_up(figure: u64, cycles: f64, what: &str) {
        assert!(figure as f64 >= cycles && (figure as f64) < cycles + 1.0, "{what}: {figure} for {cycles}");
    }

    #[test]
    fn a_profile_converts_each_figure_at_the_measured_clock_rounding_up() {
        let measured = measurements();
        let profile = build_profile(&measured, "host");
        assert_eq!(profile.name, "host");
        assert!(!profile.estimated);
        assert_rounded_up(profile.function_call_cycles, measured.cycles(measured.function_call_ns), "call");
        assert_rounded_up(profile.syscall_cycles, measured.cycles(measured.syscall_ns), "syscall");
        assert_rounded_up(profile.ipc_one_way_cycles, measured.cycles(measured.pipe_one_way_ns), "ipc");
        assert_rounded_up(profile.context_switch_cycles, measured.cycles(measured.context_switch_ns()), "switch");
        assert_eq!(profile.interrupt_cycles, profile.ipc_one_way_cycles, "the interrupt stands in for a pipe message");
        assert_rounded_up(
            profile.copy_millicycles_per_byte,
            measured.cycles(measured.copy_ns_per_byte) * 1000.0,
            "copy",
        );
        assert!(profile.function_call_cycles < profile.syscall_cycles);
        assert!(profile.syscall_cycles < profile.ipc_one_way_cycles);
        assert!(!profile.sources.iter().any(|source| source.starts_with("Raised")), "{:?}", profile.sources);
    }

    #[test]
    fn the_sources_name_the_cpu_the_clock_the_date_and_the_estimates() {
        let measured = measurements();
        let profile = build_profile(&measured, "host");
        assert!(profile.description.contains(&measured.cpu), "{}", profile.description);
        let first = &profile.sources[0];
        assert!(first.contains(&measured.cpu) && first.contains("3.10 GHz") && first.contains("2026-01-02"), "{first}");
        assert!(first.contains("3100 MHz"), "{first}");
        let estimated: Vec<&String> = profile.sources.iter().filter(|source| source.starts_with("Estimated")).collect();
        assert_eq!(estimated.len(), 1, "{:?}", profile.sources);
        assert!(estimated[0].contains("context_switch_cycles") && estimated[0].contains("interrupt_cycles"));
    }

    #[test]
    fn a_measurement_out_of_order_is_raised_and_the_sources_say_so() {
        // A syscall timed faster than a call, and a pipe message faster than both: noise, or a
        // clock gone wrong. The profile keeps the order anyway.
        let measured = Measurements { function_call_ns: 4.0, syscall_ns: 2.0, pipe_one_way_ns: 1.0, ..measurements() };
        let profile = build_profile(&measured, "host");
        assert_rounded_up(profile.function_call_cycles, measured.cycles(4.0), "call");
        assert_eq!(profile.syscall_cycles, profile.function_call_cycles + 1);
        assert_eq!(profile.ipc_one_way_cycles, profile.syscall_cycles + 1);
        assert_eq!(profile.interrupt_cycles, profile.ipc_one_way_cycles);
        let raised: Vec<&String> = profile.sources.iter().filter(|source| source.starts_with("Raised")).collect();
        assert_eq!(raised.len(), 2, "{:?}", profile.sources);
        assert!(raised[0].contains("syscall_cycles") && raised[0].contains("function_call_cycles"), "{}", raised[0]);
        assert!(raised[1].contains("ipc_one_way_cycles"), "{}", raised[1]);
        let table = describe(&measured, &profile);
        assert!(table.contains(raised[0].as_str()) && table.contains(raised[1].as_str()), "{table}");
    }

    #[test]
    fn no_figure_is_ever_zero() {
        let measured = Measurements {
            function_call_ns: 0.0,
            syscall_ns: 0.0,
            pipe_one_way_ns: 0.0,
            copy_ns_per_byte: 0.0,
            ..measurements()
        };
        let profile = build_profile(&measured, "host");
        assert_eq!(profile.function_call_cycles, 1);
        assert!(profile.function_call_cycles < profile.syscall_cycles);
        assert!(profile.syscall_cycles < profile.ipc_one_way_cycles);
        assert!(profile.context_switch_cycles >= 1 && profile.interrupt_cycles >= 1);
        assert!(profile.copy_millicycles_per_byte >= 1);
        let broken = Measurements { clock_ghz: f64::NAN, ..measurements() };
        assert_eq!(build_profile(&broken, "host").function_call_cycles, 1);
    }

    #[test]
    fn the_context_switch_is_the_round_trip_less_its_syscalls_halved_and_never_negative() {
        let measured = measurements();
        let round_trip = 2.0 * measured.pipe_one_way_ns;
        let expected = (round_trip - 4.0 * measured.syscall_ns) / 2.0;
        assert!((measured.context_switch_ns() - expected).abs() < 1e-9);
        let syscalls_dearer = Measurements { syscall_ns: measured.pipe_one_way_ns, ..measurements() };
        assert_eq!(syscalls_dearer.context_switch_ns(), 0.0);
    }

    #[test]
    fn the_profile_file_loads_back_equal_with_the_fields_in_the_built_in_order() {
        let profile = build_profile(&measurements(), "my-laptop");
        let text = profile_ron(&profile);
        let loaded = CostProfile::from_ron(&text, "host.ron").unwrap();
        assert_eq!(loaded, profile);
        let built_in = include_str!("../../../kernel/profiles/sel4.ron");
        let order = |text: &str| -> Vec<usize> {
            ["name:", "description:", "sources:", "estimated:", "function_call_cycles:", "copy_millicycles_per_byte:"]
                .iter()
                .map(|field| text.find(field).unwrap_or_else(|| panic!("no {field} in\n{text}")))
                .collect()
        };
        assert!(order(&text).is_sorted(), "{text}");
        assert!(order(built_in).is_sorted());
    }

    #[test]
    fn the_table_shows_every_figure_in_ns_and_cycles_with_the_field_it_sets() {
        let measured = measurements();
        let profile = build_profile(&measured, "host");
        let table = describe(&measured, &profile);
        let line = |start: &str| {
            table.lines().find(|line| line.starts_with(start)).unwrap_or_else(|| panic!("no {start} in\n{table}"))
        };
        let syscall = line("null syscall");
        assert!(syscall.contains(&format_figure(measured.syscall_ns)), "{syscall}");
        assert!(syscall.contains(&format_figure(measured.cycles(measured.syscall_ns))), "{syscall}");
        assert!(syscall.ends_with(&format!("syscall_cycles {}", profile.syscall_cycles)), "{syscall}");
        assert!(line("one-way message, Unix socket").contains(&format_figure(2_210.0)));
        assert!(line("copy per byte").ends_with(&profile.copy_millicycles_per_byte.to_string()));
        assert!(table.contains(&measured.cpu) && table.contains("3.10 GHz"), "{table}");
        let without_sockets = Measurements { socket_one_way_ns: None, ..measurements() };
        let socket = describe(&without_sockets, &profile);
        assert!(socket.lines().any(|line| line.starts_with("one-way message, Unix socket") && line.contains(" - ")));
    }

    #[test]
    fn the_json_gives_ns_and_cycles_of_each_primitive() {
        let measured = measurements();
        let json = figures_json(&measured);
        assert_eq!(json["cpu"], measured.cpu.as_str());
        assert_eq!(json["clock_ghz"], measured.clock_ghz);
        assert_eq!(json["syscall"]["ns"], measured.syscall_ns);
        assert_eq!(json["syscall"]["cycles"], measured.cycles(measured.syscall_ns));
        for primitive in [
            "function_call",
            "pipe_one_way",
            "unix_socket_one_way",
            "thread_handoff",
            "context_switch",
            "copy_per_byte",
        ] {
            assert!(json[primitive]["ns"].is_f64() && json[primitive]["cycles"].is_f64(), "{primitive}: {json}");
        }
    }

    #[test]
    fn a_clock_far_from_the_one_cpuinfo_reports_is_explained() {
        let at = |clock_ghz, cpuinfo_mhz| clock_note(&Measurements { clock_ghz, cpuinfo_mhz, ..measurements() });
        assert!(at(4.1, Some(2600.0)).is_some_and(|note| note.contains("boosted")));
        assert!(at(2.0, Some(2600.0)).is_some_and(|note| note.contains("busy")));
        assert_eq!(at(2.65, Some(2600.0)), None);
        assert_eq!(at(4.1, None), None);
        let table = describe(&measurements(), &build_profile(&measurements(), "host"));
        assert!(!table.contains("/proc/cpuinfo says:"), "{table}");
    }

    #[test]
    fn cpuinfo_gives_the_model_and_clock_when_it_has_them() {
        let cpuinfo = "processor\t: 0\nvendor_id\t: AuthenticAMD\nmodel name\t: AMD EPYC 7B13 64-Core Processor\n\
                       cpu MHz\t\t: 2449.998\n\nprocessor\t: 1\nmodel name\t: other\n";
        assert_eq!(cpu_model(cpuinfo).as_deref(), Some("AMD EPYC 7B13 64-Core Processor"));
        assert_eq!(cpuinfo_mhz(cpuinfo), Some(2449.998));
        let arm = "processor\t: 0\nBogoMIPS\t: 48.00\nCPU implementer\t: 0x41\n";
        assert_eq!(cpu_model(arm), None);
        assert_eq!(cpuinfo_mhz(arm), None);
        assert_eq!(cpu_model(""), None);
    }

    #[test]
    fn days_since_1970_become_calendar_dates() {
        assert_eq!(civil_date(0), (1970, 1, 1));
        assert_eq!(civil_date(58), (1970, 2, 28));
        assert_eq!(civil_date(11_016), (2000, 2, 29));
        assert_eq!(civil_date(19_723), (2024, 1, 1));
        assert_eq!(civil_date(20_788), (2026, 12, 1));
        assert_eq!(civil_date(47_541), (2100, 3, 1));
        let today = today();
        assert_eq!(today.len(), 10, "{today}");
        assert_eq!(today.as_bytes()[4], b'-');
    }

    #[test]
    fn the_clock_loop_counts_the_operations_it_claims() {
        // Sixteen operations per round, so the timing divides by the right count.
        let (add, mix) = (0x9e37_79b9u64, 0x5bd1_e995u64);
        let mut value = 3u64;
        for _ in 0..3 * OPERATIONS_PER_ROUND / 2 {
            value = value.wrapping_add(add) ^ mix;
        }
        assert_eq!(dependent_operations(3, add, mix), value);
    }
}
