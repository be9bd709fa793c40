//! `mksim`: run, compare, check and export scenarios of a simulated microkernel system.
//!
//! With no arguments it runs the built-in tour scenario and prints its
//! message trace and the comparison with monolithic mode.
//!
//! One short function per subcommand, and the flags each takes: the file is as
//! long as the command line is wide. What the commands compute lives in
//! `mksim-core`; this file only chooses, prints and sets the exit status.

// Denied, with one exception: the allocator in `huge_pages`.
#![deny(unsafe_code)]

#[cfg(target_os = "linux")]
mod huge_pages;
mod pictures;

/// Large blocks (the event log of a long run) on huge pages: see `huge_pages`.
#[cfg(target_os = "linux")]
#[global_allocator]
static ALLOCATOR: huge_pages::HugePageAllocator = huge_pages::HugePageAllocator;

use anyhow::Context;
use clap::{Parser, Subcommand, ValueEnum};
use mksim::builtin;
use mksim::campaign::{Campaign, run_campaign};
use mksim::check::{outcome_matches, unexpected_ends};
use mksim::export::{Format, RunInfo, write_run_export};
use mksim::grading::{Exercise, ExerciseState, Report, Skipped, Submission, check_file, submissions_in};
use mksim::report::{comparison, comparison_title, how_it_ended, message_trace, run_json, summary};
use mksim::run::{Profiles, RunOptions, RunReport, run};
use mksim::scenario::{
    ProgramKind, ProgramOverride, ProgramSource, Scenario, ScenarioError, load_profile, parse_cli_fault,
};
use mksim::sweep::{SweepRequest, sweep};
use mksim_kernel::{escape_controls, escape_controls_by_line};
use mksim_servers::fault::FaultSpec;
use mksim_servers::system::Mode;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

/// Writes to standard output; a reader that went away (`mksim ... | head`) ends the program quietly.
/// No control character but the line break gets through (see `mksim_kernel::text`): the
/// reports escape what a scenario wrote, and this catches anything they missed.
fn write_out(text: &str) {
    use std::io::Write;
    let text = escape_controls_by_line(text);
    let mut stdout = std::io::stdout().lock();
    if let Err(error) = stdout.write_all(text.as_bytes()).and_then(|()| stdout.flush()) {
        stdout_failed(&error);
    }
}

/// Ends the program after standard output failed: quietly when the reader went away.
fn stdout_failed(error: &std::io::Error) -> ! {
    if error.kind() == std::io::ErrorKind::BrokenPipe {
        std::process::exit(0);
    }
    eprintln!("mksim: cannot write the output: {error}");
    std::process::exit(2);
}

macro_rules! out {
    ($($argument:tt)*) => { write_out(&format!($($argument)*)) };
}

macro_rules! outln {
    () => { write_out("\n") };
    ($($argument:tt)*) => { write_out(&format!("{}\n", format!($($argument)*))) };
}

/// The tour run by `mksim` with no arguments.
const TOUR: &str = include_str!("../../scenarios/tour.ron");

/// A microkernel message-passing OS simulator.
#[derive(Parser, Debug)]
#[command(
    name = "mksim",
    version,
    about,
    long_about = None,
    after_help = "With no command, mksim runs the built-in tour: a program writes a file, reads it back and \
                  prints it, on the microkernel and then with the services inside a monolithic kernel."
)]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Clone, Copy, Debug, ValueEnum)]
enum ModeArg {
    Microkernel,
    Monolithic,
}

impl From<ModeArg> for Mode {
    fn from(mode: ModeArg) -> Mode {
        match mode {
            ModeArg::Microkernel => Mode::Microkernel,
            ModeArg::Monolithic => Mode::Monolithic,
        }
    }
}

#[derive(Clone, Copy, Debug, ValueEnum)]
enum FormatArg {
    Jsonl,
    Chrome,
    Mermaid,
    Text,
    /// The messages as an SVG sequence diagram.
    Svg,
    /// Who runs when, as an SVG picture.
    TimelineSvg,
}

/// A cost profile for one mode each, over `--profile`.
#[derive(clap::Args, Debug)]
struct ModeProfiles {
    /// Cost profile of microkernel mode (over --profile and the scenario's).
    #[arg(long, value_name = "NAME|FILE")]
    micro_profile: Option<String>,
    /// Cost profile of monolithic mode (over --profile and the scenario's).
    #[arg(long, value_name = "NAME|FILE")]
    mono_profile: Option<String>,
}

impl ModeProfiles {
    /// The profile of each mode: its own flag's, else `both` (`--profile`).
    fn over(&self, both: Option<&str>) -> Result<Profiles, Failure> {
        Ok(Profiles {
            microkernel: profile(self.micro_profile.as_deref().or(both))?,
            monolithic: profile(self.mono_profile.as_deref().or(both))?,
        })
    }
}

#[derive(clap::Args, Debug)]
struct Overrides {
    /// Cost profile of both modes: sel4, l4, mach3, minix3, monolithic, or a .ron file.
    #[arg(long, value_name = "NAME|FILE")]
    profile: Option<String>,
    #[command(flatten)]
    modes: ModeProfiles,
    /// Seed of the run's random stream.
    #[arg(long)]
    seed: Option<u64>,
    /// Inject a fault besides the scenario's: SERVER:KIND@WHEN, e.g. block:crash@msg=3, fs:hang@t=50000,
    /// fs:delay=5000@p=0.1 (KIND: crash, hang, corrupt, drop, delay=CYCLES; WHEN: msg=N, t=CYCLES, p=PROB).
    #[arg(long = "fault", value_name = "SERVER:KIND@WHEN")]
    faults: Vec<String>,
    /// Every process recovers file descriptors a file-server restart made stale, as with
    /// `recover: true`.
    #[arg(long)]
    recover: bool,
    #[command(flatten)]
    memory: MemoryLimit,
}

/// The memory budget of each run, over the scenario's.
#[derive(clap::Args, Debug)]
struct MemoryLimit {
    /// Memory budget of each run in bytes (default 1073741824, 1 GiB, or the scenario's
    /// `memory_limit`): a run that would hold more (event log, messages, regions) stops with
    /// the outcome memory_limit.
    #[arg(long = "memory-limit", value_name = "BYTES")]
    bytes: Option<u64>,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Name the scenarios built into mksim, with their descriptions: any command takes one
    /// of these names in place of a file (a file at that path wins).
    List,
    /// Run a scenario and print its message trace and a summary.
    Run {
        /// The scenario file, or a built-in scenario's name (see `mksim list`).
        scenario: PathBuf,
        /// Microkernel (servers are processes) or monolithic (services in the kernel).
        #[arg(long, value_enum, default_value = "microkernel")]
        mode: ModeArg,
        #[command(flatten)]
        overrides: Overrides,
        /// Print one JSON object instead.
        #[arg(long)]
        json: bool,
        /// Print every kernel event, not only messages.
        #[arg(long)]
        events: bool,
    },
    /// Run a scenario in both modes and compare them, in total and per operation.
    Compare {
        /// The scenario file, or a built-in scenario's name (see `mksim list`).
        scenario: PathBuf,
        #[command(flatten)]
        overrides: Overrides,
        /// Print JSON instead.
        #[arg(long)]
        json: bool,
        /// Also draw the per-operation comparison as an SVG picture in FILE.
        #[arg(long, value_name = "FILE")]
        svg: Option<PathBuf>,
    },
    /// Check the expectations of scenarios in both modes, or grade students' programs against
    /// an exercise; exit 0 if all pass, 1 if anything failed, 2 for a usage error.
    #[command(after_help = "Grading: `mksim check EXERCISE.ron --program NAME=FILE` runs FILE (a .rhai script or a \
                            .ron list of operations) as the program of process NAME; `mksim check EXERCISE.ron \
                            --submissions DIR --program-name NAME` grades every such file in DIR. The exercise \
                            is used as it is written, its expectations included.")]
    Check {
        /// Scenario files, or folders of them; when grading, the one exercise.
        #[arg(required = true)]
        paths: Vec<PathBuf>,
        /// Grade a program: FILE (.rhai or .ron) in place of the program of process NAME;
        /// repeat it for several processes.
        #[arg(long = "program", value_name = "NAME=FILE", value_parser = program_flag, conflicts_with = "submissions")]
        programs: Vec<(String, PathBuf)>,
        /// Grade every .rhai and .ron file in DIR, each as the program of --program-name.
        #[arg(long, value_name = "DIR", requires = "program_name")]
        submissions: Option<PathBuf>,
        /// The process whose program each file of --submissions is.
        #[arg(long, value_name = "NAME", requires = "submissions")]
        program_name: Option<String>,
        /// Write a gradebook to FILE: one CSV row per case that earns points or failed.
        #[arg(long, value_name = "FILE")]
        csv: Option<PathBuf>,
        /// Print JSON instead.
        #[arg(long)]
        json: bool,
        #[command(flatten)]
        memory: MemoryLimit,
    },
    /// Export a scenario's event log.
    Export {
        /// The scenario file, or a built-in scenario's name (see `mksim list`).
        scenario: PathBuf,
        /// jsonl, chrome (Perfetto), mermaid, text, or a picture: svg (sequence diagram) or
        /// timeline-svg (who runs when).
        #[arg(long, value_enum)]
        format: FormatArg,
        /// Write here instead of standard output.
        #[arg(short, long)]
        output: Option<PathBuf>,
        #[arg(long, value_enum, default_value = "microkernel")]
        mode: ModeArg,
        #[command(flatten)]
        overrides: Overrides,
        #[command(flatten)]
        sequence: pictures::SequenceFlags,
    },
    /// Step through a scenario's message flow in the terminal UI (the tour when none is given).
    Tui {
        /// The scenario file, or a built-in scenario's name (see `mksim list`).
        scenario: Option<PathBuf>,
        #[command(flatten)]
        overrides: Overrides,
    },
    /// Run a fault campaign: the scenario over many seeds with faults, in both modes, in parallel.
    Faults(FaultsCommand),
    /// Measure the simulator's speed on this machine against real IPC of the same shape.
    Bench {
        /// Print JSON instead.
        #[arg(long)]
        json: bool,
        /// Runs per simulation figure: the best and the median are reported.
        #[arg(long, default_value_t = 5, value_parser = clap::value_parser!(u32).range(1..=1000))]
        repeats: u32,
    },
    /// Measure this machine's primitives (call, syscall, IPC, copy) and write them as a cost profile.
    #[command(after_help = "Without -o the profile goes to standard output and the figures to standard error; \
                            with -o the figures go to standard output. Use the file with --profile FILE.ron.")]
    Calibrate {
        /// Write the profile to this file.
        #[arg(short, long)]
        output: Option<PathBuf>,
        /// The profile's name.
        #[arg(long, default_value = "host")]
        name: String,
        /// Print the figures as one JSON object instead of a table.
        #[arg(long)]
        json: bool,
        /// Runs of each measurement: the best one counts.
        #[arg(
            long,
            default_value_t = mksim::calibrate::REPEATS_DEFAULT,
            value_parser = clap::value_parser!(u32).range(1..=100)
        )]
        repeats: u32,
    },
    /// The other end of calibrate's pipes and sockets: copies standard input to standard output.
    #[command(hide = true)]
    CalibratePeer,
    /// The cost profiles' figures side by side: the built-in ones, and any profile files given.
    Profiles {
        /// Profile files (.ron) to show beside the built-in profiles.
        files: Vec<String>,
    },
    /// Run a scenario for each value of one of its parameters, under one or more cost profiles
    /// (microkernel mode), and print the cycles per round trip of each run.
    Sweep {
        /// The scenario file, or a built-in scenario's name (see `mksim list`).
        scenario: PathBuf,
        /// The parameter and its values, e.g. size=8,64,512,4096.
        #[arg(long = "set", value_name = "NAME=V1,V2,...")]
        set: String,
        /// Cost profiles (sel4, l4, mach3, minix3, monolithic, or .ron files); the scenario's own
        /// when none is given. The first two are compared.
        #[arg(long, value_delimiter = ',', value_name = "P1,P2,...")]
        profiles: Vec<String>,
        /// Print JSON instead.
        #[arg(long)]
        json: bool,
        /// Also draw one line per profile over the values as an SVG picture in FILE.
        #[arg(long, value_name = "FILE")]
        svg: Option<PathBuf>,
        #[command(flatten)]
        memory: MemoryLimit,
    },
}

/// A failure with the exit status it deserves.
enum Failure {
    /// Bad input: status 2.
    Input(String),
    /// Expectations not met, or an unexpected end of a run: status 1.
    Expectations,
}

impl From<ScenarioError> for Failure {
    fn from(error: ScenarioError) -> Self {
        Failure::Input(error.to_string())
    }
}

fn profile(name: Option<&str>) -> Result<Option<mksim_kernel::CostProfile>, Failure> {
    name.map(|name| load_profile(name).map_err(Failure::Input)).transpose()
}

/// Faults from the command line, checked against the servers the scenario boots.
fn cli_faults(scenario: &Scenario, texts: &[String]) -> Result<Vec<FaultSpec>, Failure> {
    texts
        .iter()
        .map(|text| {
            let fault = parse_cli_fault(text).map_err(|message| Failure::Input(format!("--fault {message}")))?;
            if !scenario.boots(&fault.server) {
                return Err(Failure::Input(format!(
                    "--fault `{text}`: {} does not boot {}",
                    scenario.file, fault.server
                )));
            }
            Ok(fault)
        })
        .collect()
}

/// The run settings for `scenario`: the overrides, and the command line's faults added to its own.
fn options(overrides: &Overrides, scenario: &Scenario) -> Result<RunOptions, Failure> {
    Ok(RunOptions {
        profiles: overrides.modes.over(overrides.profile.as_deref())?,
        seed: overrides.seed,
        faults: with_cli_faults(scenario, &overrides.faults)?,
        memory_limit: overrides.memory.bytes,
        recover: overrides.recover.then_some(true),
    })
}

/// The faults of a run: the scenario's own with the command line's added, the one rule for
/// `--fault` in every command (`None`: the command line adds none, the scenario's stand).
fn with_cli_faults(scenario: &Scenario, texts: &[String]) -> Result<Option<Vec<FaultSpec>>, Failure> {
    let extra = cli_faults(scenario, texts)?;
    Ok((!extra.is_empty()).then(|| scenario.faults.iter().cloned().chain(extra).collect()))
}

fn load(path: &Path) -> Result<Scenario, Failure> {
    Ok(Scenario::load(&scenario_file(path)?)?)
}

/// The file to read for the scenario the command line names: the file at that path when there
/// is one, else the built-in scenario of that name (`file_io`: see `mksim list`).
fn scenario_file(path: &Path) -> Result<String, Failure> {
    let named = path.display().to_string();
    if path.exists() {
        return Ok(named);
    }
    if let Some(built_in) = builtin::scenario_path(&named) {
        return Ok(built_in);
    }
    let hint = match builtin::nearest(&named) {
        Some(name) => format!("; did you mean the built-in scenario `{name}`?"),
        None => "; `mksim list` names the built-in scenarios".to_owned(),
    };
    Err(Failure::Input(format!(
        "{}: cannot read: no such file, and no built-in scenario has that name{hint}",
        escape_controls(&named)
    )))
}

/// Loads a scenario and its run settings.
fn prepare(path: &Path, overrides: &Overrides) -> Result<(Scenario, RunOptions), Failure> {
    let scenario = load(path)?;
    let options = options(overrides, &scenario)?;
    Ok((scenario, options))
}

/// The status a run deserves: it failed when it ended otherwise than the scenario expects, or a
/// process faulted or was left blocked where the scenario does not say so (see
/// `unexpected_ends`). Says why on standard error.
fn ended_as_expected(scenario: &Scenario, runs: &[&RunReport]) -> Result<(), Failure> {
    let mut as_expected = true;
    for report in runs {
        let mode = report.mode.name();
        let wanted = scenario.expect.outcome_in(report.mode);
        if !outcome_matches(&report.outcome, wanted) {
            let ended = how_it_ended(report);
            let ended = escape_controls(&ended);
            eprintln!("mksim: the {mode} run {ended}; the scenario expects: {}", wanted.kind().wording());
            as_expected = false;
        }
        for end in unexpected_ends(scenario, report) {
            let how = escape_controls(&end.how);
            eprintln!("mksim: in the {mode} run {how}; the scenario's expect does not say so");
            as_expected = false;
        }
    }
    if as_expected { Ok(()) } else { Err(Failure::Expectations) }
}

fn print_json(value: &serde_json::Value) {
    outln!("{}", serde_json::to_string_pretty(value).expect("JSON values always print"));
}

fn command_run(scenario: &Scenario, mode: Mode, options: &RunOptions, json: bool, events: bool) -> Result<(), Failure> {
    let report = run(scenario, mode, options);
    if json {
        print_json(&run_json(&report, &scenario.name));
    } else {
        let (name, description) = (escape_controls(&scenario.name), escape_controls(&scenario.description));
        outln!("{name} ({} mode): {description}", mode.name());
        if let Some(notes) = &scenario.notes {
            for line in mksim_core::scenario::notes::wrap(&escape_controls(notes), 78) {
                outln!("  {line}");
            }
        }
        outln!();
        if events {
            out!("{}", report.log.render_text());
        } else {
            out!("{}", message_trace(&report.log));
        }
        outln!();
        out!("{}", summary(&report));
    }
    ended_as_expected(scenario, &[&report])
}

fn command_compare(scenario: &Scenario, options: &RunOptions, json: bool, svg: Option<PathBuf>) -> Result<(), Failure> {
    let mut micro = run(scenario, Mode::Microkernel, options);
    // What is read off the log is read now: a long run's log is most of its memory, and it goes
    // before the second run, so a comparison holds one run's budget at a time.
    let micro_json = json.then(|| run_json(&micro, &scenario.name));
    micro.log = Default::default();
    let mono = run(scenario, Mode::Monolithic, options);
    if let Some(path) = &svg {
        pictures::write_comparison(path, &micro, &mono, &scenario.name).map_err(Failure::Input)?;
    }
    if let Some(micro_json) = micro_json {
        print_json(&mksim::report::comparison_json_with(micro_json, &micro, &mono, &scenario.name));
    } else {
        outln!("{}: {}", escape_controls(&scenario.name), comparison_title(&micro, &mono));
        outln!();
        out!("{}", comparison(&micro, &mono));
    }
    ended_as_expected(scenario, &[&micro, &mono])
}

fn scenario_files(paths: &[PathBuf]) -> Result<Vec<PathBuf>, Failure> {
    let mut files = Vec::new();
    for path in paths {
        if path.is_dir() {
            let entries =
                std::fs::read_dir(path).map_err(|error| Failure::Input(format!("{}: {error}", path.display())))?;
            let mut found: Vec<PathBuf> = entries
                .filter_map(Result::ok)
                .map(|entry| entry.path())
                .filter(|file| file.extension().is_some_and(|extension| extension == "ron"))
                .collect();
            found.sort();
            files.extend(found);
        } else {
            files.push(PathBuf::from(scenario_file(path).unwrap_or_else(|_| path.display().to_string())));
        }
    }
    Ok(files)
}

/// `--program NAME=FILE`.
fn program_flag(text: &str) -> Result<(String, PathBuf), String> {
    match text.split_once('=') {
        Some((name, file)) if !name.is_empty() && !file.is_empty() => Ok((name.to_owned(), PathBuf::from(file))),
        _ => Err(format!("`{text}`: write NAME=FILE, e.g. spooler=alice.rhai")),
    }
}

struct CheckCommand {
    paths: Vec<PathBuf>,
    programs: Vec<(String, PathBuf)>,
    submissions: Option<PathBuf>,
    program_name: Option<String>,
    csv: Option<PathBuf>,
    json: bool,
    memory_limit: Option<u64>,
}

/// Each scenario file checked on its own; a file that cannot be used fails, and the rest go on.
fn check_scenarios(paths: &[PathBuf], options: &RunOptions) -> Result<Report, Failure> {
    let files = scenario_files(paths)?;
    if files.is_empty() {
        let shown: Vec<String> = paths.iter().map(|path| path.display().to_string()).collect();
        return Err(Failure::Input(format!("check: no scenario files (*.ron) in {}", shown.join(", "))));
    }
    let entries = files.iter().map(|file| check_file(&file.display().to_string(), options)).collect();
    Ok(Report { exercise: None, entries, skipped: Vec::new() })
}

/// What the grading flags name.
struct ToGrade {
    /// The processes students write.
    processes: Vec<String>,
    submissions: Vec<Submission>,
    /// Files of the submissions folder that are not programs.
    skipped: Vec<Skipped>,
}

/// The submissions the flags name, the processes they write, and the files skipped.
fn submissions(command: &CheckCommand) -> Result<ToGrade, Failure> {
    if let (Some(folder), Some(process)) = (&command.submissions, &command.program_name) {
        let shown = folder.display();
        let (submissions, skipped) = submissions_in(folder, process)
            .map_err(|error| Failure::Input(format!("--submissions {shown}: cannot read the folder: {error}")))?;
        if submissions.is_empty() {
            return Err(Failure::Input(format!("--submissions {shown}: no .rhai or .ron files to grade")));
        }
        return Ok(ToGrade { processes: vec![process.clone()], submissions, skipped });
    }
    let mut overrides = Vec::new();
    for (process, file) in &command.programs {
        if ProgramKind::of(file).is_none() {
            let why = "a program is a .rhai script or a .ron list of operations";
            return Err(Failure::Input(format!("--program {process}={}: {why}", file.display())));
        }
        overrides.push(ProgramOverride { process: process.clone(), source: ProgramSource::File(file.clone()) });
    }
    let processes = command.programs.iter().map(|(process, _)| process.clone()).collect();
    Ok(ToGrade { processes, submissions: vec![Submission::of(overrides)], skipped: Vec::new() })
}

/// Every submission graded against the one exercise; an exercise that cannot be used fails
/// them all, and programs named wrongly are a usage error.
fn grade(command: &CheckCommand, options: &RunOptions) -> Result<Report, Failure> {
    let [path] = command.paths.as_slice() else {
        return Err(Failure::Input(format!(
            "check: --program and --submissions grade against one exercise, and {} scenario paths are given",
            command.paths.len()
        )));
    };
    let ToGrade { processes, submissions, skipped } = submissions(command)?;
    let file = scenario_file(path)?;
    let exercise = match Exercise::load(&file, &processes, options) {
        Ok(exercise) => exercise,
        Err(error) if error.is_misnamed() => {
            let flag = if command.submissions.is_some() { "--program-name" } else { "--program" };
            return Err(Failure::Input(format!("{flag}: {error}")));
        }
        Err(error) => {
            let exercise = Some(ExerciseState::Invalid { file, error: error.to_string() });
            return Ok(Report { exercise, entries: Vec::new(), skipped });
        }
    };
    let entries = submissions.iter().map(|submission| exercise.grade(submission, options)).collect();
    Ok(Report { exercise: Some(ExerciseState::Loaded(exercise)), entries, skipped })
}

fn command_check(command: CheckCommand) -> Result<(), Failure> {
    let options = RunOptions { memory_limit: command.memory_limit, ..RunOptions::default() };
    let report = if command.programs.is_empty() && command.submissions.is_none() {
        check_scenarios(&command.paths, &options)?
    } else {
        grade(&command, &options)?
    };
    if let Some(path) = &command.csv {
        let cannot =
            |error: &dyn std::fmt::Display| Failure::Input(format!("cannot write {}: {error}", path.display()));
        let file = std::fs::File::create(path).map_err(|error| cannot(&error))?;
        report.write_csv(std::io::BufWriter::new(file)).map_err(|error| cannot(&error))?;
    }
    if command.json {
        print_json(&report.to_json());
    } else {
        out!("{}", report.describe());
    }
    if report.passed() { Ok(()) } else { Err(Failure::Expectations) }
}

fn command_export(
    scenario: &Scenario,
    format: FormatArg,
    output: Option<&Path>,
    mode: Mode,
    options: &RunOptions,
    sequence: &pictures::SequenceFlags,
) -> Result<(), Failure> {
    sequence.only_for(matches!(format, FormatArg::Svg)).map_err(Failure::Input)?;
    let report = run(scenario, mode, options);
    let format = match format {
        FormatArg::Jsonl => Format::Jsonl,
        FormatArg::Chrome => Format::Chrome,
        FormatArg::Mermaid => Format::Mermaid,
        FormatArg::Text => Format::Text,
        FormatArg::Svg => {
            let other = sequence.side_by_side.then(|| run(scenario, pictures::other_mode(mode), options));
            let picture = pictures::sequence(output, (&report, other.as_ref()), &scenario.name, sequence)
                .map_err(Failure::Input)?;
            picture.inspect(|picture| out!("{picture}"));
            return Ok(());
        }
        FormatArg::TimelineSvg => {
            let picture = pictures::timeline(output, &report, &scenario.name, mode).map_err(Failure::Input)?;
            picture.inspect(|picture| out!("{picture}"));
            return Ok(());
        }
    };
    let info = RunInfo::new(&scenario.name, mode.name(), &report.profile, report.seed);
    use std::io::Write;
    // Written as it is made: the log of a run at its memory budget is a gigabyte, its export
    // several.
    match output {
        Some(path) => {
            let cannot = |error: std::io::Error| Failure::Input(format!("cannot write {}: {error}", path.display()));
            let file = std::fs::File::create(path).map_err(cannot)?;
            let mut file = std::io::BufWriter::new(file);
            write_run_export(&report.log, format, &info, &mut file).and_then(|()| file.flush()).map_err(cannot)?;
        }
        None => {
            let mut stdout = EscapedStdout(std::io::BufWriter::new(std::io::stdout().lock()));
            if let Err(error) = write_run_export(&report.log, format, &info, &mut stdout).and_then(|()| stdout.flush())
            {
                stdout_failed(&error);
            }
        }
    }
    Ok(())
}

/// Standard output for text written in pieces of whole lines, each filtered as [`write_out`] does.
struct EscapedStdout<W: std::io::Write>(W);

impl<W: std::io::Write> std::io::Write for EscapedStdout<W> {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        match std::str::from_utf8(bytes) {
            Ok(text) => self.0.write_all(escape_controls_by_line(text).as_bytes())?,
            Err(_) => self.0.write_all(bytes)?,
        }
        Ok(bytes.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        self.0.flush()
    }
}

fn command_bench(json: bool, repeats: u32) -> Result<(), Failure> {
    let report = mksim::bench::measure(repeats).map_err(|error| Failure::Input(format!("bench: {error}")))?;
    if json {
        print_json(&serde_json::to_value(&report).expect("bench figures serialize"));
        return Ok(());
    }
    out!("{}", mksim::bench::describe(&report));
    Ok(())
}

struct CalibrateCommand {
    output: Option<PathBuf>,
    name: String,
    json: bool,
    repeats: u32,
}

fn command_calibrate(command: CalibrateCommand) -> Result<(), Failure> {
    if command.name.trim().is_empty() {
        return Err(Failure::Input("calibrate: --name must not be empty".to_owned()));
    }
    if cfg!(debug_assertions) {
        eprintln!("mksim: this is a debug build, whose figures say little about the host; use a release build");
    }
    let program = std::env::current_exe()
        .map_err(|error| Failure::Input(format!("calibrate: cannot find the mksim binary: {error}")))?;
    let peer = mksim::calibrate::Peer { program, arguments: vec!["calibrate-peer".to_owned()] };
    let measurements = mksim::calibrate::measure(&peer, command.repeats)
        .map_err(|error| Failure::Input(format!("calibrate: {error}")))?;
    let profile = mksim::calibrate::build_profile(&measurements, &command.name);
    let figures = if command.json {
        format!(
            "{}\n",
            serde_json::to_string_pretty(&mksim::calibrate::figures_json(&measurements))
                .expect("JSON values always print")
        )
    } else {
        mksim::calibrate::describe(&measurements, &profile)
    };
    let text = mksim::calibrate::profile_ron(&profile);
    match command.output {
        Some(path) => {
            std::fs::write(&path, text)
                .with_context(|| format!("cannot write {}", path.display()))
                .map_err(|error| Failure::Input(format!("{error:#}")))?;
            out!("{figures}");
            if !command.json {
                outln!();
                outln!(
                    "profile {} written to {}; use it with --profile {}",
                    profile.name,
                    path.display(),
                    path.display()
                );
            }
        }
        None => {
            eprint!("{figures}");
            out!("{text}");
        }
    }
    Ok(())
}

fn command_profiles(files: &[String]) -> Result<(), Failure> {
    let mut profiles = mksim::profiles::built_in();
    for file in files {
        profiles.push(load_profile(file).map_err(Failure::Input)?);
    }
    out!("{}", mksim::profiles::table(&profiles));
    Ok(())
}

fn command_sweep(
    path: &Path,
    set: &str,
    profiles: &[String],
    json: bool,
    svg: Option<PathBuf>,
    memory_limit: Option<u64>,
) -> Result<(), Failure> {
    let usage = || Failure::Input(format!("--set `{set}`: write NAME=V1,V2,..."));
    let (parameter, values) = set.split_once('=').ok_or_else(usage)?;
    let values: Vec<String> = values.split(',').map(|value| value.trim().to_owned()).collect();
    if parameter.trim().is_empty() || values.iter().any(String::is_empty) {
        return Err(usage());
    }
    let file = scenario_file(path)?;
    let text = Scenario::read(&file)?;
    let request =
        SweepRequest { text: &text, file: &file, parameter: parameter.trim(), values: &values, profiles, memory_limit };
    let result = sweep(&request).map_err(|error| Failure::Input(error.to_string()))?;
    if let Some(path) = &svg {
        pictures::write_sweep(path, &result).map_err(Failure::Input)?;
    }
    if json {
        print_json(&mksim::sweep::to_json(&result));
    } else {
        out!("{}", mksim::sweep::describe(&result));
    }
    if result.all_completed() { Ok(()) } else { Err(Failure::Expectations) }
}

fn command_list() {
    let listed = builtin::scenarios();
    let width = listed.iter().map(|scenario| scenario.name.len()).max().unwrap_or(0);
    outln!("Scenarios built into mksim (give the name in place of a file, e.g. `mksim run file_io`):");
    for scenario in listed {
        outln!("  {:width$}  {}", scenario.name, escape_controls(&scenario.description));
    }
}

fn tour() -> Result<(), Failure> {
    let scenario = Scenario::parse(TOUR, "built-in tour")?;
    let options = RunOptions::default();
    let micro = run(&scenario, Mode::Microkernel, &options);
    let mono = run(&scenario, Mode::Monolithic, &options);
    outln!("mksim tour: {}", scenario.description);
    outln!();
    outln!("── message trace, microkernel mode ──");
    out!("{}", message_trace(&micro.log));
    outln!();
    out!("{}", summary(&micro));
    outln!();
    outln!("── the same programs with the services inside a monolithic kernel ──");
    out!("{}", summary(&mono));
    outln!();
    outln!("── comparison: {} ──", comparison_title(&micro, &mono));
    out!("{}", comparison(&micro, &mono));
    outln!();
    outln!("Try: mksim run file_io, mksim compare file_io, mksim tui file_io, mksim list");
    ended_as_expected(&scenario, &[&micro, &mono])
}

#[derive(clap::Args, Debug)]
struct FaultsCommand {
    /// The scenario file or built-in name (without faults of its own, each seed gets one random fault).
    scenario: PathBuf,
    /// Seeds to run (at least 1).
    #[arg(long, default_value_t = 100, value_parser = clap::value_parser!(u64).range(1..))]
    runs: u64,
    /// The first seed (the scenario's by default).
    #[arg(long)]
    seed: Option<u64>,
    /// Cost profile of both modes.
    #[arg(long, value_name = "NAME|FILE")]
    profile: Option<String>,
    #[command(flatten)]
    modes: ModeProfiles,
    /// Inject a fault besides the scenario's (SERVER:KIND@WHEN, as for run).
    #[arg(long = "fault", value_name = "SERVER:KIND@WHEN")]
    faults: Vec<String>,
    /// Host threads (all cores by default).
    #[arg(long)]
    threads: Option<usize>,
    /// Run microkernel mode with no client recovering stale file descriptors and with
    /// every one recovering (`recover: true`), and print both.
    #[arg(long)]
    compare_recovery: bool,
    /// Print JSON instead.
    #[arg(long)]
    json: bool,
    #[command(flatten)]
    memory: MemoryLimit,
}

fn command_faults(command: FaultsCommand) -> Result<(), Failure> {
    let scenario = load(&command.scenario)?;
    let options = RunOptions {
        profiles: command.modes.over(command.profile.as_deref())?,
        seed: None,
        faults: with_cli_faults(&scenario, &command.faults)?,
        memory_limit: command.memory.bytes,
        recover: None,
    };
    let cores = std::thread::available_parallelism().map_or(1, std::num::NonZero::get);
    let campaign = Campaign {
        runs: command.runs,
        first_seed: command.seed.unwrap_or(scenario.kernel.seed),
        threads: command.threads.unwrap_or(cores).max(1),
        compare_recovery: command.compare_recovery,
    };
    let report = run_campaign(&scenario, &options, &campaign);
    if command.json {
        print_json(&mksim::campaign::campaign_json(&report));
    } else {
        out!("{}", mksim::campaign::describe(&report));
    }
    Ok(())
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        None => tour(),
        Some(Command::Run { scenario, mode, overrides, json, events }) => prepare(&scenario, &overrides)
            .and_then(|(scenario, options)| command_run(&scenario, mode.into(), &options, json, events)),
        Some(Command::Compare { scenario, overrides, json, svg }) => prepare(&scenario, &overrides)
            .and_then(|(scenario, options)| command_compare(&scenario, &options, json, svg)),
        Some(Command::Check { paths, programs, submissions, program_name, csv, json, memory }) => {
            command_check(CheckCommand {
                paths,
                programs,
                submissions,
                program_name,
                csv,
                json,
                memory_limit: memory.bytes,
            })
        }
        Some(Command::Export { scenario, format, output, mode, overrides, sequence }) => prepare(&scenario, &overrides)
            .and_then(|(scenario, options)| {
                command_export(&scenario, format, output.as_deref(), mode.into(), &options, &sequence)
            }),
        Some(Command::Tui { scenario, overrides }) => (|| {
            let scenario = match scenario {
                Some(path) => load(&path)?,
                None => Scenario::parse(TOUR, "built-in tour")?,
            };
            let options = options(&overrides, &scenario)?;
            mksim::ui::open(scenario, options).map_err(|error| Failure::Input(format!("terminal: {error}")))
        })(),
        Some(Command::Faults(command)) => command_faults(command),
        Some(Command::Bench { json, repeats }) => command_bench(json, repeats),
        Some(Command::Calibrate { output, name, json, repeats }) => {
            command_calibrate(CalibrateCommand { output, name, json, repeats })
        }
        Some(Command::Sweep { scenario, set, profiles, json, svg, memory }) => {
            command_sweep(&scenario, &set, &profiles, json, svg, memory.bytes)
        }
        Some(Command::CalibratePeer) => mksim::calibrate::echo_standard_streams()
            .map_err(|error| Failure::Input(format!("calibrate-peer: {error}"))),
        Some(Command::Profiles { files }) => command_profiles(&files),
        Some(Command::List) => {
            command_list();
            Ok(())
        }
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(Failure::Expectations) => ExitCode::from(1),
        Err(Failure::Input(message)) => {
            eprintln!("mksim: {}", escape_controls_by_line(&message));
            ExitCode::from(2)
        }
    }
}
