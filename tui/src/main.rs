//! `mksim`: run a simulated microkernel system and print what happened.
//!
//! With no arguments it runs the built-in ping-pong system and prints its
//! event log and a summary.

#![forbid(unsafe_code)]

use anyhow::Context;
use clap::Parser;
use mksim_kernel::{CostProfile, Kernel, KernelConfig, Outcome};
use std::process::ExitCode;

/// A microkernel message-passing OS simulator.
#[derive(Parser, Debug)]
#[command(name = "mksim", version, about)]
struct Cli {
    /// Cost profile: a built-in name (sel4, l4, mach3, minix3, monolithic) or a RON file.
    #[arg(long, default_value = "sel4")]
    profile: String,
    /// Seed of the run's random stream.
    #[arg(long, default_value_t = 0)]
    seed: u64,
    /// Calls the ping client makes.
    #[arg(long, default_value_t = 3)]
    rounds: u32,
}

fn load_profile(name: &str) -> anyhow::Result<CostProfile> {
    if name.ends_with(".ron") || std::path::Path::new(name).exists() {
        let text = std::fs::read_to_string(name).with_context(|| format!("cannot read cost profile {name}"))?;
        return Ok(CostProfile::from_ron(&text, name)?);
    }
    Ok(CostProfile::built_in(name)?)
}

fn print_summary(kernel: &Kernel) {
    let log = kernel.log();
    println!();
    match kernel.outcome() {
        Some(Outcome::Completed) => println!("outcome: completed"),
        Some(Outcome::StepLimit { limit }) => println!("outcome: stopped at the step limit ({limit} steps)"),
        Some(Outcome::Deadlock(report)) => {
            println!("outcome: deadlock");
            for blocked in &report.blocked {
                let cycle = if blocked.in_cycle { "  (in a cycle)" } else { "" };
                println!("  {} is {}{cycle}", blocked.name, blocked.description);
            }
        }
        None => println!("outcome: still running"),
    }
    println!("steps: {}   virtual time: {} cycles   events: {}", kernel.steps(), kernel.now(), log.len());
    println!();
    println!(
        "{:<10} {:>8} {:>9} {:>9} {:>9} {:>10} {:>10}  state",
        "process", "syscalls", "msgs sent", "received", "switches", "bytes", "cycles"
    );
    for process in kernel.processes() {
        let counters = process.counters();
        println!(
            "{:<10} {:>8} {:>9} {:>9} {:>9} {:>10} {:>10}  {}",
            process.name(),
            counters.syscalls,
            counters.messages_sent.total(),
            counters.messages_received,
            counters.context_switches,
            counters.bytes_copied,
            counters.cycles,
            kernel.describe_state(process.id()),
        );
    }
    let totals = kernel.totals();
    println!(
        "{:<10} {:>8} {:>9} {:>9} {:>9} {:>10} {:>10}",
        "total",
        totals.syscalls,
        totals.messages_sent.total(),
        totals.messages_received,
        totals.context_switches,
        totals.bytes_copied,
        totals.cycles
    );
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let profile = match load_profile(&cli.profile) {
        Ok(profile) => profile,
        Err(error) => {
            eprintln!("mksim: {error:#}");
            return ExitCode::from(2);
        }
    };
    let config = KernelConfig { profile, seed: cli.seed, ..KernelConfig::default() };
    let mut kernel = mksim_userland::demo::ping_pong(config, cli.rounds);
    println!(
        "ping-pong: ping calls pong {} times (profile {}, seed {})",
        cli.rounds,
        kernel.config().profile.name,
        cli.seed
    );
    println!();
    kernel.run();
    print!("{}", kernel.log().render_text());
    print_summary(&kernel);
    match kernel.outcome() {
        Some(Outcome::Completed) => ExitCode::SUCCESS,
        _ => ExitCode::from(1),
    }
}
