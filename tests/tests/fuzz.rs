//! The fuzz harness (see `mksim_tests::fuzz`): mutated scenario files go
//! through parse → validate → run in both modes under a small step limit, and
//! none may panic, go over its bounds, or be refused without a line and
//! column.
//!
//! - `random_inputs` checks `MKSIM_FUZZ_CASES` inputs (10,000 by default)
//!   made from the shipped scenarios, from `MKSIM_FUZZ_SEED` (fixed by
//!   default, so every run of the test checks the same inputs), starting at
//!   case `MKSIM_FUZZ_FIRST` (0), on up to [`WORKERS_MAX`] threads. A case
//!   that runs for more than [`CASE_TIME_MAX`] or takes the process over
//!   [`MEMORY_MAX`] stops the test at once, its input kept.
//! - `regressions` replays every input that once failed, kept in
//!   `tests/fuzz-regressions/`.
//!
//! The input of every failure is written under the build's temporary folder
//! (`target/tmp/fuzz-failures/`), named in the failure message; keep it as a
//! regression by copying it into `tests/fuzz-regressions/` under a name that
//! says what it shows.
//!
//! A million inputs: `MKSIM_FUZZ_CASES=1000000 cargo test --release -p mksim-tests --test fuzz -- --nocapture`.

use mksim_tests::fuzz::{Failure, Mutator, Seed, Verdict, check};
use std::collections::BTreeMap;
use std::collections::btree_map::Entry;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

/// A case that runs this long has hung: about a thousand times what a case takes.
const CASE_TIME_MAX: Duration = Duration::from_secs(20);
/// The resident memory the process may reach; a case that takes it past this has no bound.
const MEMORY_MAX: u64 = 2 << 30;
/// The cases of the batch when `MKSIM_FUZZ_CASES` does not say.
const CASES: u64 = 10_000;
/// The most threads that check cases at once.
const WORKERS_MAX: usize = 4;
/// The seed of the batch when `MKSIM_FUZZ_SEED` does not say.
const SEED: u64 = 12;

fn setting(name: &str, default: u64) -> u64 {
    match std::env::var(name) {
        Ok(value) => value.trim().parse().unwrap_or_else(|_| panic!("{name}={value:?} is not a whole number")),
        Err(_) => default,
    }
}

fn seeds() -> Vec<Seed> {
    mksim_tests::scenarios::files()
        .into_iter()
        .map(|path| Seed {
            name: path.file_name().expect("a file name").to_string_lossy().into_owned(),
            text: std::fs::read_to_string(&path).unwrap_or_else(|error| panic!("{}: {error}", path.display())),
        })
        .collect()
}

fn scratch(folder: &str) -> PathBuf {
    let path = Path::new(env!("CARGO_TARGET_TMPDIR")).join(folder);
    std::fs::create_dir_all(&path).unwrap_or_else(|error| panic!("{}: {error}", path.display()));
    path
}

/// The process's resident memory in bytes (Linux; 0 elsewhere).
fn resident_bytes() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    let kilobytes = status
        .lines()
        .find_map(|line| line.strip_prefix("VmRSS:"))
        .and_then(|value| value.trim().trim_end_matches("kB").trim().parse::<u64>().ok());
    kilobytes.unwrap_or(0) * 1024
}

/// The case a worker is checking, for the watchdog.
struct Current {
    case: u64,
    started: Instant,
    input: PathBuf,
}

/// Stops the whole test when a case runs for ever or takes memory without bound: its thread
/// cannot be stopped, so the process ends, after keeping the input and saying how to replay it.
struct Watchdog {
    /// Per worker.
    current: Arc<Vec<Mutex<Option<Current>>>>,
    done: Arc<AtomicBool>,
}

impl Watchdog {
    fn start(seed: u64, workers: usize) -> Watchdog {
        let current: Arc<Vec<Mutex<Option<Current>>>> = Arc::new((0..workers).map(|_| Mutex::new(None)).collect());
        let done = Arc::new(AtomicBool::new(false));
        let (watched, finished) = (Arc::clone(&current), Arc::clone(&done));
        std::thread::spawn(move || {
            while !finished.load(Ordering::Relaxed) {
                std::thread::sleep(Duration::from_millis(100));
                for worker in watched.iter() {
                    let guard = worker.lock().unwrap_or_else(PoisonError::into_inner);
                    if let Some(current) = guard.as_ref() {
                        stop_if_unbounded(seed, current);
                    }
                }
            }
        });
        Watchdog { current, done }
    }

    fn watch(&self, worker: usize, case: Option<(u64, &Path)>) {
        let mut current = self.current[worker].lock().unwrap_or_else(PoisonError::into_inner);
        *current = case.map(|(case, input)| Current { case, started: Instant::now(), input: input.to_owned() });
    }
}

impl Drop for Watchdog {
    fn drop(&mut self) {
        self.done.store(true, Ordering::Relaxed);
    }
}

/// Ends the process when `current` has run too long or the process has taken too much memory.
fn stop_if_unbounded(seed: u64, current: &Current) {
    let resident = resident_bytes();
    let why = if current.started.elapsed() > CASE_TIME_MAX {
        format!("has run for more than {CASE_TIME_MAX:?}")
    } else if resident > MEMORY_MAX {
        format!("took the process to {} MiB of memory", resident >> 20)
    } else {
        return;
    };
    let kept = keep_failure(&current.input, &format!("seed{seed}-case{}", current.case));
    // Straight to the process's standard error: the test harness's capture of `eprintln!` would
    // be lost with the process.
    let _ = writeln!(
        std::io::stderr(),
        "fuzz: case {case} of seed {seed} {why}; its input: {}\n(replay: MKSIM_FUZZ_SEED={seed} \
         MKSIM_FUZZ_FIRST={case} MKSIM_FUZZ_CASES=1 cargo test -p mksim-tests --test fuzz random_inputs)",
        kept.display(),
        case = current.case,
    );
    std::process::exit(1);
}

/// Copies a failing input to `target/tmp/fuzz-failures/NAME.ron`; the copy's path.
fn keep_failure(input: &Path, name: &str) -> PathBuf {
    let kept = scratch("fuzz-failures").join(format!("{name}.ron"));
    std::fs::copy(input, &kept).unwrap_or_else(|error| panic!("{}: {error}", kept.display()));
    kept
}

/// The first case of a kind of failure, and how often the kind came up.
struct Found {
    case: u64,
    failure: Failure,
    input: PathBuf,
    description: String,
    count: u64,
}

/// What a worker saw.
#[derive(Default)]
struct Tally {
    refused: u64,
    ran: u64,
    steps: u64,
    /// The slowest case and its time.
    slowest: (Duration, u64),
    /// By [`Failure::signature`].
    found: BTreeMap<String, Found>,
}

impl Tally {
    fn add(&mut self, other: Tally) {
        self.refused += other.refused;
        self.ran += other.ran;
        self.steps += other.steps;
        self.slowest = self.slowest.max(other.slowest);
        for (signature, found) in other.found {
            match self.found.entry(signature) {
                Entry::Vacant(entry) => {
                    entry.insert(found);
                }
                Entry::Occupied(mut entry) => {
                    let count = entry.get().count + found.count;
                    if found.case < entry.get().case {
                        entry.insert(found);
                    }
                    entry.get_mut().count = count;
                }
            }
        }
    }
}

/// The batch a worker checks: the cases `first + worker`, `first + worker + workers`, ...
struct Batch<'a> {
    mutator: &'a Mutator,
    seed: u64,
    cases: std::ops::Range<u64>,
    workers: usize,
    watchdog: &'a Watchdog,
}

impl Batch<'_> {
    fn work(&self, worker: usize) -> Tally {
        let input = scratch("fuzz").join(format!("input-{}-{worker}.ron", std::process::id()));
        let mut tally = Tally::default();
        for case in self.cases.clone().skip(worker).step_by(self.workers) {
            let made = self.mutator.input(self.seed, case);
            std::fs::write(&input, &made.bytes).unwrap_or_else(|error| panic!("{}: {error}", input.display()));
            self.watchdog.watch(worker, Some((case, &input)));
            let started = Instant::now();
            let verdict = check(&input);
            tally.slowest = tally.slowest.max((started.elapsed(), case));
            self.watchdog.watch(worker, None);
            match verdict {
                Ok(Verdict::Refused) => tally.refused += 1,
                Ok(Verdict::Ran { steps }) => {
                    tally.ran += 1;
                    tally.steps += steps;
                }
                Err(failure) => {
                    let seed = self.seed;
                    let found = tally.found.entry(failure.signature()).or_insert_with(|| Found {
                        case,
                        input: keep_failure(&input, &format!("seed{seed}-case{case}")),
                        description: format!("{} with {}", made.base, made.mutations.join("; ")),
                        failure,
                        count: 0,
                    });
                    found.count += 1;
                }
            }
        }
        let _ = std::fs::remove_file(&input);
        tally
    }
}

#[test]
fn random_inputs() {
    let seed = setting("MKSIM_FUZZ_SEED", SEED);
    let first = setting("MKSIM_FUZZ_FIRST", 0);
    let cases = setting("MKSIM_FUZZ_CASES", CASES);
    let workers = std::thread::available_parallelism().map_or(1, usize::from).clamp(1, WORKERS_MAX);
    let mutator = Mutator::new(seeds());
    let watchdog = Watchdog::start(seed, workers);
    let batch = Batch { mutator: &mutator, seed, cases: first..first + cases, workers, watchdog: &watchdog };
    let started = Instant::now();
    let mut tally = Tally::default();
    std::thread::scope(|scope| {
        let batch = &batch;
        let handles: Vec<_> = (0..workers).map(|worker| scope.spawn(move || batch.work(worker))).collect();
        for handle in handles {
            tally.add(handle.join().expect("a fuzz worker ends without a panic of its own"));
        }
    });
    drop(watchdog);
    println!(
        "fuzz: seed {seed}, cases {first}..{} on {workers} threads: {} refused, {} ran ({} steps), {} failed, \
         in {:.1?} (slowest: case {}, {:.1?})",
        first + cases,
        tally.refused,
        tally.ran,
        tally.steps,
        tally.found.values().map(|found| found.count).sum::<u64>(),
        started.elapsed(),
        tally.slowest.1,
        tally.slowest.0
    );
    let new: Vec<String> = tally
        .found
        .values()
        .map(|found| {
            format!(
                "case {} ({}×): {}\n    input: {}\n    made from {}",
                found.case,
                found.count,
                found.failure,
                found.input.display(),
                found.description
            )
        })
        .collect();
    assert!(
        new.is_empty(),
        "{} new kinds of failure (seed {seed}); keep each input in tests/fuzz-regressions/:\n{}",
        new.len(),
        new.join("\n")
    );
    assert!(cases == 0 || tally.ran > 0, "no input was valid: the mutations break every file, and runs go unchecked");
}

fn regression_files() -> Vec<PathBuf> {
    let folder = Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz-regressions");
    let entries = std::fs::read_dir(&folder).unwrap_or_else(|error| panic!("{}: {error}", folder.display()));
    let mut files: Vec<PathBuf> = entries.map(|entry| entry.expect("a readable folder entry").path()).collect();
    files.sort();
    files
}

#[test]
fn regressions() {
    let files = regression_files();
    assert!(!files.is_empty(), "tests/fuzz-regressions/ holds the inputs that once failed");
    let mut problems = Vec::new();
    for file in &files {
        let name = file.file_name().expect("a file name").to_string_lossy().into_owned();
        match check(file) {
            Ok(verdict) => println!("{name}: {verdict:?}"),
            Err(failure) => problems.push(format!("{name}: {failure}")),
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}
