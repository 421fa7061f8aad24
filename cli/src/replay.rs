//! `rollout-watcher replay`: events through the same library the Lambda functions use,
//! on an in-memory store; text for people, JSON Lines for machines.

use std::io::{self, Read, Write};
use std::process::ExitCode;

use anyhow::Context;
use clap::ValueEnum;
use rollout_watcher::core::{Effect, Effects, RolloutSummary, Settings};
use rollout_watcher::model::{CrashLoopRule, Millis, ServiceArn, Timestamp};
use rollout_watcher::replay::Replay;
use serde_json::json;

use crate::{Usage, html, reader, render};

/// Output formats.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum Format {
    /// A timeline per rollout, for people.
    Text,
    /// JSON Lines, one object per effect, then one per rollout.
    Json,
    /// One self-contained HTML page: a timeline picture per rollout.
    Html,
}

/// `replay` arguments.
#[derive(clap::Args, Debug)]
pub struct Args {
    /// Files of events (JSON Lines or a JSON array); `-` or none reads stdin.
    files: Vec<String>,
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Text)]
    format: Format,
    /// Evaluate deadlines at this instant (RFC 3339) after the last event.
    #[arg(long)]
    now: Option<String>,
    /// A rollout in progress longer than this is stalled.
    #[arg(long, default_value = "15m")]
    stall_after: String,
    /// A zero must last this long before it alerts.
    #[arg(long, default_value = "30s")]
    zero_grace: String,
    /// This many crashes of a service's tasks within this long are a crash loop
    /// (`N/DURATION`).
    #[arg(long, default_value = "3/15m")]
    crash_loop: String,
    /// What DescribeServices says of the services (the JSON `aws ecs
    /// describe-services` prints, as `audit` reads it): desired count, deployment
    /// configuration (strategy, bake time, hooks) and tags, so that replay raises
    /// `unsafe_deployment_config` and applies bake times and tag overrides as the
    /// deployed functions do.
    #[arg(long, value_name = "FILE")]
    describe_services: Option<String>,
}

/// Gives each service `--describe-services` describes its configuration.
fn configure(replay: &mut Replay, file: &str) -> anyhow::Result<()> {
    let text = read(file)?;
    let described = crate::audit::parse_describe_services(file, &text)
        .with_context(|| format!("--describe-services {file}"))?;
    for record in described.services {
        match record.arn.as_deref().and_then(ServiceArn::parse) {
            Some(arn) => replay.set_config(&arn, record.config),
            None => eprintln!(
                "rollout-watcher replay: --describe-services {file}: service {} of cluster {} \
                 has no serviceArn; its settings are not used",
                record.name, record.cluster
            ),
        }
    }
    Ok(())
}

/// Parses the watcher settings from flags.
pub fn settings(stall_after: &str, zero_grace: &str) -> anyhow::Result<Settings> {
    let duration = |flag: &str, value: &str| {
        Millis::parse_duration(value).ok_or_else(|| {
            Usage(format!(
                "{flag} {value:?}: not a duration; give a number and a unit, like 90s, 15m or 1h"
            ))
        })
    };
    Ok(Settings {
        stall_after: duration("--stall-after", stall_after)?,
        zero_grace: duration("--zero-grace", zero_grace)?,
        confirm_zero: false,
        crash_loop: CrashLoopRule::default(),
    })
}

/// [`settings`] with the crash-loop rule of `--crash-loop`.
pub fn settings_with_crash_loop(
    stall_after: &str,
    zero_grace: &str,
    crash_loop: &str,
) -> anyhow::Result<Settings> {
    let rule = CrashLoopRule::parse(crash_loop).ok_or_else(|| {
        Usage(format!(
            "--crash-loop {crash_loop:?}: not a crash-loop rule; give N/DURATION with N >= 2, like 3/15m"
        ))
    })?;
    Ok(Settings {
        crash_loop: rule,
        ..settings(stall_after, zero_grace)?
    })
}

/// The latest `time` of the events in `texts`, and where that event is.
fn last_event_time(texts: &[(String, String)]) -> Option<(Timestamp, String)> {
    #[derive(serde::Deserialize)]
    struct Time<'a> {
        #[serde(borrow)]
        time: Option<&'a str>,
    }
    let mut last: Option<(Timestamp, String)> = None;
    for (file, text) in texts {
        for item in reader::split(text).into_iter().flatten() {
            let at = serde_json::from_str::<Time<'_>>(item.text)
                .ok()
                .and_then(|t| t.time)
                .and_then(Timestamp::parse);
            if let Some(at) = at.filter(|at| last.as_ref().is_none_or(|(l, _)| at > l)) {
                last = Some((at, format!("{file}:{}", item.line)));
            }
        }
    }
    last
}

/// Runs the subcommand; the exit code says whether all input was good.
pub fn run(args: &Args) -> anyhow::Result<ExitCode> {
    let now = args
        .now
        .as_deref()
        .map(|n| {
            Timestamp::parse(n).ok_or_else(|| {
                Usage(format!(
                    "--now {n:?}: not an RFC 3339 time; give one like 2026-03-02T10:30:00Z"
                ))
            })
        })
        .transpose()?;
    let mut replay = Replay::new(settings_with_crash_loop(
        &args.stall_after,
        &args.zero_grace,
        &args.crash_loop,
    )?);
    if let Some(file) = &args.describe_services {
        configure(&mut replay, file)?;
    }
    let files: Vec<String> = if args.files.is_empty() {
        vec!["-".into()]
    } else {
        args.files.clone()
    };
    let mut texts = Vec::with_capacity(files.len());
    for file in &files {
        texts.push((file.clone(), read(file)?));
    }
    // Deadlines are evaluated after the last event: a --now before it would run time
    // backwards, so it is refused before anything is printed.
    if let Some(now) = now
        && let Some((last, at)) = last_event_time(&texts).filter(|(last, _)| now < *last)
    {
        return Err(Usage(format!(
            "--now {}: earlier than the last event ({}, {at}); give a time after it",
            now.to_rfc3339(),
            last.to_rfc3339()
        ))
        .into());
    }
    let stdout = io::stdout();
    let mut out = io::BufWriter::new(stdout.lock());
    let mut collected = Effects::default();
    let (mut bad, mut read_ok) = (0usize, 0usize);
    let mut tasks = html::TaskLog::new();
    for (file, text) in &texts {
        for item in reader::split(text) {
            let result = item.map_err(|b| (b.line, b.message)).and_then(|l| {
                read_ok += 1;
                match args.format {
                    Format::Html => html::apply_json(&mut replay, &mut tasks, l.text),
                    _ => replay.apply_json(l.text),
                }
                .map_err(|e| (l.line, e.to_string()))
            });
            match result {
                Ok(effects) => emit(args.format, effects, &mut out, &mut collected)?,
                Err((line, message)) => {
                    bad += 1;
                    eprintln!("{file}:{line}: {message}");
                }
            }
        }
    }
    if let Some(now) = now {
        emit(args.format, replay.tick_all(now), &mut out, &mut collected)?;
    }
    let rollouts = replay.rollouts();
    match args.format {
        Format::Json => {
            for r in &rollouts {
                writeln!(out, "{}", rollout_json(r))?;
            }
        }
        Format::Text => {
            let config = |arn: &ServiceArn| replay.service(arn).and_then(|s| s.config()).cloned();
            render::timeline(
                &mut out,
                &collected,
                &rollouts,
                &config,
                render::color_wanted(),
            )?;
        }
        Format::Html => {
            let page = html::replay_page(&collected, &rollouts, &tasks, now);
            out.write_all(html::document(&page).as_bytes())?;
        }
    }
    out.flush()?;
    let stats = replay.stats;
    let valid = stats.applied + stats.ignored + stats.duplicates;
    let inputs = files.join(", ");
    if bad > 0 {
        let processed = match valid {
            0 => "no valid event was read".to_owned(),
            n => format!("the {n} valid event(s) were processed"),
        };
        eprintln!(
            "rollout-watcher replay: {bad} bad line(s) skipped; {processed} (expected \
             EventBridge ECS events: JSON Lines, a JSON array, or objects one after another)"
        );
        return Ok(ExitCode::from(1));
    }
    if read_ok == 0 {
        eprintln!(
            "rollout-watcher replay: {inputs}: no events in it (expected EventBridge ECS \
             events: JSON Lines, a JSON array, or objects one after another)"
        );
        return Ok(ExitCode::from(1));
    }
    if stats.applied + stats.duplicates == 0 {
        eprintln!(
            "rollout-watcher replay: read {valid} event(s), none of them one the watcher \
             follows (detail-type ECS Deployment State Change, ECS Service Action, ECS Task \
             State Change or ECS Hook State Change, about a service)"
        );
    }
    Ok(ExitCode::SUCCESS)
}

fn read(file: &str) -> anyhow::Result<String> {
    let mut text = String::new();
    if file == "-" {
        io::stdin()
            .read_to_string(&mut text)
            .context("reading stdin")?;
    } else {
        let bytes = std::fs::read(file).with_context(|| format!("reading {file}"))?;
        text = String::from_utf8_lossy(&bytes).into_owned();
    }
    Ok(text)
}

fn emit(
    format: Format,
    effects: Effects,
    out: &mut impl Write,
    collected: &mut Effects,
) -> anyhow::Result<()> {
    match format {
        Format::Json => {
            for e in &effects.items {
                writeln!(out, "{}", effect_json(e))?;
            }
        }
        Format::Text | Format::Html => collected.items.extend(effects.items),
    }
    Ok(())
}

/// One effect as a JSON line.
pub fn effect_json(e: &Effect) -> serde_json::Value {
    match e {
        Effect::Transition(t) => json!({
            "type": "transition", "service": t.service, "deployment_id": t.deployment_id,
            "from": t.from, "to": t.to, "at": t.at,
        }),
        Effect::Alert(a) => json!({
            "type": "alert", "alert": a.alert, "status": a.status, "severity": a.severity,
            "service": a.service, "deployment_id": a.deployment_id, "at": a.at, "summary": a.summary,
        }),
        Effect::Metric(m) => json!({
            "type": "metric", "name": m.name, "value": m.value, "unit": m.unit,
            "dimensions": m.dimensions.as_ref().map_or_else(|| json!({}), |d| json!(d)), "at": m.at,
        }),
        Effect::Stage(s) => json!({
            "type": "stage", "service": s.service, "deployment_id": s.deployment_id,
            "stage": s.stage, "at": s.at,
        }),
    }
}

/// One rollout as a JSON line.
pub fn rollout_json(r: &RolloutSummary) -> serde_json::Value {
    json!({
        "type": "rollout", "service": r.service, "deployment_id": r.deployment_id,
        "state": r.state, "started_at": r.started_at, "finished_at": r.finished_at,
        "duration_s": r.duration_s, "downtime_s": r.downtime(),
    })
}
