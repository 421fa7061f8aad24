//! `rollout-watcher`: replay ECS events through the watcher locally, simulate
//! realistic rollouts, see a demo, audit services' deployment settings, wait for a
//! deployment in CI, and read the history of past rollouts.

use rollout_watcher_cli::{EXIT_USAGE, Usage, audit, demo, history, replay, simulate_cmd, wait};

use std::process::ExitCode;

/// See cli/Cargo.toml: the replay allocates a few small strings per event.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;
// Its options for a month of events (cli/src/alloc.rs).
rollout_watcher_cli::tune_at_load!();

use clap::{Parser, Subcommand};

/// Watches ECS rollouts: replays events, simulates rollouts, audits settings.
#[derive(Parser)]
#[command(name = "rollout-watcher", version, about)]
struct Cli {
    /// On an error, also print the chain of causes (the AWS SDK's, for example).
    #[arg(long, short, global = true)]
    verbose: bool,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Replay EventBridge ECS events (JSON Lines or a JSON array) through the watcher.
    Replay(replay::Args),
    /// Print a realistic ECS event stream for a rollout scenario (JSON Lines).
    Simulate(simulate_cmd::Args),
    /// Simulate and replay a few scenarios, for a first look.
    Demo(demo::Args),
    /// Check services' deployment settings against the zero-downtime rules.
    Audit(audit::Args),
    /// Follow one deployment through ECS until it ends: the CI gate (exit codes in
    /// docs/wait.md).
    Wait(wait::Args),
    /// Past rollouts from the watcher's table, with their figures per service.
    History(history::Args),
}

fn main() -> ExitCode {
    #[cfg(not(target_os = "linux"))]
    rollout_watcher_cli::alloc::tune();
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            let usage = e.use_stderr();
            // Printing help or a usage error to the terminal cannot meaningfully fail.
            let _ = e.print();
            return if usage {
                ExitCode::from(EXIT_USAGE)
            } else {
                ExitCode::SUCCESS
            };
        }
    };
    let result = match cli.command {
        Command::Replay(args) => replay::run(&args),
        Command::Simulate(args) => simulate_cmd::run(&args),
        Command::Demo(args) => demo::run(&args),
        // Prints its own errors: its exit code 2 means "unsafe", errors are 1.
        Command::Audit(args) => Ok(audit::run(&args, cli.verbose)),
        // Prints its own errors: its exit codes 2-5 are verdicts, errors are 1.
        Command::Wait(args) => Ok(wait::run(&args)),
        Command::History(args) => Ok(history::run(&args)),
    };
    match result {
        Ok(code) => code,
        // A wrong argument value clap could not see (a `--now` before the events).
        Err(e) if e.is::<Usage>() => {
            eprintln!("rollout-watcher: {e}");
            ExitCode::from(EXIT_USAGE)
        }
        Err(e) => {
            // Our own context ("reading x.json") and the cause are one line; a longer
            // chain only with --verbose.
            if cli.verbose {
                eprintln!("rollout-watcher: {e:#}");
            } else {
                eprintln!("rollout-watcher: {}", short(&e));
            }
            ExitCode::FAILURE
        }
    }
}

/// The error and its first cause: `reading x.json: No such file or directory`.
fn short(e: &anyhow::Error) -> String {
    match e.chain().nth(1) {
        Some(cause) => format!("{e}: {cause}"),
        None => e.to_string(),
    }
}
