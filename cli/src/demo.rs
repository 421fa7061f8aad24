//! `rollout-watcher demo`: the first thing to run. Simulates a few rollouts with the
//! ECS rules and replays each through the watcher, as text.

use std::io::{self, Write};
use std::process::ExitCode;

use anyhow::Context;

use rollout_watcher::core::{Effects, ServiceConfig, Settings};
use rollout_watcher::model::{Millis, ServiceArn, Timestamp};
use rollout_watcher::replay::Replay;

use crate::simulate::{self, Params, Scenario};
use crate::{html, render};

/// `demo` arguments.
#[derive(clap::Args, Debug)]
pub struct Args {
    /// Only this scenario (default: all).
    #[arg(long)]
    scenario: Option<Scenario>,
    /// Also write the timelines as one self-contained HTML page to this file.
    #[arg(long, value_name = "FILE")]
    html: Option<std::path::PathBuf>,
}

/// Replays a scenario and evaluates deadlines just past the stall deadline, the way
/// the sweeper would by then.
pub fn replay_scenario(params: &Params, settings: &Settings) -> anyhow::Result<(Effects, Replay)> {
    replay_scenario_into(params, settings, &mut html::TaskLog::new()).map(|(e, r, _)| (e, r))
}

/// [`replay_scenario`], noting the task times in `tasks` for the HTML page; also
/// returns the instant deadlines were evaluated at.
pub fn replay_scenario_into(
    params: &Params,
    settings: &Settings,
    tasks: &mut html::TaskLog,
) -> anyhow::Result<(Effects, Replay, Option<Timestamp>)> {
    let sim = simulate::simulate(params)?;
    let mut replay = Replay::new(settings.clone());
    // An ECS-native scenario's bake time and hooks come from DescribeServices, as in
    // the deployed functions (`replay --describe-services`).
    if let Some(described) = described_config(params)? {
        let service =
            ServiceArn::parse(&sim_service_arn(params)?).context("the simulated service's ARN")?;
        replay.set_config(&service, described);
    }
    let mut all = Effects::default();
    let mut last = None;
    for e in &sim.events {
        all.extend(html::apply_json(&mut replay, tasks, &e.to_string())?);
        last = e
            .get("time")
            .and_then(|t| t.as_str())
            .and_then(Timestamp::parse)
            .max(last);
    }
    let now = last.map(|l| l.plus(settings.stall_after).plus(Millis::from_secs(60)));
    if let Some(now) = now {
        all.extend(replay.tick_all(now));
    }
    Ok((all, replay, now))
}

/// `text` in lines of at most `width` characters, broken at spaces, the lines after
/// the first indented by two.
fn fit(text: &str, width: usize) -> Vec<String> {
    let mut lines: Vec<String> = Vec::new();
    let mut line = String::new();
    for word in text.split(' ') {
        if !line.is_empty() && line.chars().count() + 1 + word.chars().count() > width {
            lines.push(std::mem::replace(&mut line, "  ".to_owned()));
        } else if !line.is_empty() && line != "  " {
            line.push(' ');
        }
        line.push_str(word);
    }
    lines.push(line);
    lines
}

/// What `aws ecs describe-services` says of an ECS-native scenario's service, read by
/// audit's reader as `replay --describe-services` reads it; `None` for rolling ones.
pub fn described_config(p: &Params) -> anyhow::Result<Option<ServiceConfig>> {
    if p.native.is_none() {
        return Ok(None);
    }
    let text = simulate::describe_services(p).to_string();
    let described = crate::audit::parse_describe_services("simulate", &text)?;
    Ok(described.services.into_iter().next().map(|s| s.config))
}

fn sim_service_arn(p: &Params) -> anyhow::Result<String> {
    let json = simulate::describe_services(p);
    json["services"][0]["serviceArn"]
        .as_str()
        .map(str::to_owned)
        .context("describe-services output without a serviceArn")
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
        .map_or_else(|| Scenario::every().collect(), |s| vec![s]);
    let settings = Settings::default();
    let stdout = io::stdout();
    let mut out = io::BufWriter::new(stdout.lock());
    let color = render::color_wanted();
    let mut page = html::Page {
        title: "rollout-watcher demo: simulated rollouts".to_owned(),
        subtitle: Some(
            "Each scenario simulated with ECS's rules and replayed through the watcher.".to_owned(),
        ),
        services: Vec::new(),
    };
    for s in scenarios {
        let p = Params::defaults(s);
        let setting = p.header();
        for line in fit(&format!("Scenario {s}: {setting}"), render::WIDTH) {
            writeln!(out, "{line}")?;
        }
        if p.native.is_some() {
            writeln!(
                out,
                "  (try it: rollout-watcher simulate --scenario {s} --describe-services-out {s}.json \\\n      \
                 | rollout-watcher replay --describe-services {s}.json)\n"
            )?;
        } else {
            writeln!(
                out,
                "  (try it: rollout-watcher simulate --scenario {s} | rollout-watcher replay)\n"
            )?;
        }
        let mut tasks = html::TaskLog::new();
        let (effects, replay, now) = replay_scenario_into(&p, &settings, &mut tasks)?;
        let rollouts = replay.rollouts();
        // The demo knows the service's settings: the timeline says what they let ECS do.
        let known = described_config(&p)?.unwrap_or_else(|| config(&p));
        let config = |_: &ServiceArn| Some(known.clone());
        render::timeline(&mut out, &effects, &rollouts, &config, color)?;
        writeln!(out)?;
        for mut svc in html::replay_page(&effects, &rollouts, &tasks, now).services {
            svc.heading = format!("Scenario {s}: {}", svc.heading);
            svc.note = Some(format!(
                "{setting}. Try it: rollout-watcher simulate --scenario {s} | rollout-watcher replay --format html"
            ));
            page.services.push(svc);
        }
    }
    if let Some(file) = &args.html {
        std::fs::write(file, html::document(&page))
            .with_context(|| format!("--html: writing {}", file.display()))?;
        writeln!(out, "HTML page written to {}", file.display())?;
    }
    out.flush()?;
    Ok(ExitCode::SUCCESS)
}
