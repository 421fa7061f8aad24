//! `rollout-watcher demo`: the first thing to run. Simulates a few rollouts with the
//! ECS rules and replays each through the watcher, as text.

use std::io::{self, Write};
use std::process::ExitCode;

use rollout_watcher::core::{Effects, ServiceConfig, Settings};
use rollout_watcher::model::{Millis, ServiceArn, Timestamp};
use rollout_watcher::replay::Replay;

use crate::render;
use crate::simulate::{self, Params, Scenario};

/// `demo` arguments.
#[derive(clap::Args, Debug)]
pub struct Args {
    /// Only this scenario (default: all).
    #[arg(long)]
    scenario: Option<Scenario>,
}

/// Replays a scenario and evaluates deadlines just past the stall deadline, the way
/// the sweeper would by then.
pub fn replay_scenario(params: &Params, settings: &Settings) -> anyhow::Result<(Effects, Replay)> {
    let sim = simulate::simulate(params)?;
    let mut replay = Replay::new(settings.clone());
    let mut all = Effects::default();
    let mut last = None;
    for e in &sim.events {
        all.extend(replay.apply_json(&e.to_string())?);
        last = e
            .get("time")
            .and_then(|t| t.as_str())
            .and_then(Timestamp::parse)
            .max(last);
    }
    if let Some(last) = last {
        all.extend(replay.tick_all(last.plus(settings.stall_after).plus(Millis::from_secs(60))));
    }
    Ok((all, replay))
}

/// The simulated service's settings, as DescribeServices would report them (the
/// simulator puts the service behind a load balancer's target group).
pub fn config(p: &Params) -> ServiceConfig {
    ServiceConfig {
        desired_count: Some(p.desired),
        min_healthy_percent: Some(p.min_healthy_percent),
        max_percent: Some(p.max_percent),
        circuit_breaker: Some(p.circuit_breaker),
        rollback: Some(p.circuit_breaker),
        load_balanced: Some(true),
        ..ServiceConfig::default()
    }
}

/// Runs the subcommand; the exit code says whether all input was good.
pub fn run(args: &Args) -> anyhow::Result<ExitCode> {
    let scenarios: Vec<Scenario> = args
        .scenario
        .map_or_else(|| Scenario::ALL.to_vec(), |s| vec![s]);
    let settings = Settings::default();
    let stdout = io::stdout();
    let mut out = io::BufWriter::new(stdout.lock());
    let color = render::color_wanted();
    for s in scenarios {
        let p = Params::defaults(s);
        writeln!(
            out,
            "Scenario {s}: desired {}, minimum healthy {}%, maximum {}%, circuit breaker {}",
            p.desired,
            p.min_healthy_percent,
            p.max_percent,
            if p.circuit_breaker {
                "on (rollback)"
            } else {
                "off"
            }
        )?;
        writeln!(
            out,
            "  (try it: rollout-watcher simulate --scenario {s} | rollout-watcher replay)\n"
        )?;
        let (effects, replay) = replay_scenario(&p, &settings)?;
        // The demo knows the service's settings: the timeline says what they let ECS do.
        let known = config(&p);
        let config = |_: &ServiceArn| Some(known.clone());
        render::timeline(&mut out, &effects, &replay.rollouts(), &config, color)?;
        writeln!(out)?;
    }
    out.flush()?;
    Ok(ExitCode::SUCCESS)
}
