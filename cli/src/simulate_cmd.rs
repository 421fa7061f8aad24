//! `rollout-watcher simulate`: prints a scenario's ECS event stream as JSON Lines.

use std::io::{self, Write};
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;

use crate::simulate::{self, Params, Scenario};

/// On or off.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum OnOff {
    /// On.
    On,
    /// Off.
    Off,
}

/// `simulate` arguments; unset settings take the scenario's defaults.
#[derive(clap::Args, Debug)]
pub struct Args {
    /// success, health-check-rollback, bad-image, zero-running, superseded, stalled,
    /// blue-green, blue-green-paused, canary, linear, hook-rollback.
    #[arg(long)]
    scenario: Scenario,
    /// The service's desired count.
    #[arg(long)]
    desired: Option<u32>,
    /// deploymentConfiguration.minimumHealthyPercent.
    #[arg(long)]
    min_healthy_percent: Option<u32>,
    /// deploymentConfiguration.maximumPercent.
    #[arg(long)]
    max_percent: Option<u32>,
    /// Deployment circuit breaker (with rollback).
    #[arg(long, value_enum)]
    circuit_breaker: Option<OnOff>,
    /// Seed for ids and timings: the same seed prints the same stream.
    #[arg(long)]
    seed: Option<u64>,
    /// Also write the matching `aws ecs describe-services` output to FILE (the
    /// service's settings before the rollout: strategy, bake time, lifecycle hooks),
    /// for `replay --describe-services FILE`.
    #[arg(long, value_name = "FILE")]
    describe_services_out: Option<PathBuf>,
}

/// The scenario's parameters with the flags applied.
pub fn params(args: &Args) -> Params {
    let mut p = Params::defaults(args.scenario);
    p.desired = args.desired.unwrap_or(p.desired);
    p.min_healthy_percent = args.min_healthy_percent.unwrap_or(p.min_healthy_percent);
    p.max_percent = args.max_percent.unwrap_or(p.max_percent);
    p.circuit_breaker = args
        .circuit_breaker
        .map_or(p.circuit_breaker, |c| c == OnOff::On);
    p.seed = args.seed.unwrap_or(p.seed);
    p
}

/// Runs the subcommand; the exit code says whether all input was good.
pub fn run(args: &Args) -> anyhow::Result<ExitCode> {
    let params = params(args);
    let sim = simulate::simulate(&params)?;
    if let Some(path) = &args.describe_services_out {
        let json = serde_json::to_string_pretty(&simulate::describe_services(&params))?;
        std::fs::write(path, json + "\n")
            .with_context(|| format!("--describe-services-out {}", path.display()))?;
    }
    let stdout = io::stdout();
    let mut out = io::BufWriter::new(stdout.lock());
    for e in &sim.events {
        writeln!(out, "{e}")?;
    }
    out.flush()?;
    Ok(ExitCode::SUCCESS)
}
