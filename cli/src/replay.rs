//! `rollout-watcher replay`: the DESIGN.md contract, on an in-memory store.

use std::io::{self, Read, Write};
use std::process::ExitCode;

use anyhow::Context;
use clap::ValueEnum;
use rollout_watcher::core::{Effect, Effects, RolloutSummary, Settings};
use rollout_watcher::model::{CrashLoopRule, Millis, Timestamp};
use rollout_watcher::replay::Replay;
use serde_json::json;

use crate::{reader, render};

/// Output formats.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum Format {
    /// A timeline per rollout, for people.
    Text,
    /// JSON Lines, one object per effect, then one per rollout.
    Json,
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
}

/// Parses the watcher settings from flags.
pub fn settings(stall_after: &str, zero_grace: &str) -> anyhow::Result<Settings> {
    Ok(Settings {
        stall_after: Millis::parse_duration(stall_after)
            .with_context(|| format!("--stall-after: not a duration: {stall_after:?}"))?,
        zero_grace: Millis::parse_duration(zero_grace)
            .with_context(|| format!("--zero-grace: not a duration: {zero_grace:?}"))?,
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
    let rule = CrashLoopRule::parse(crash_loop).with_context(|| {
        format!("--crash-loop: not N/DURATION with N >= 2 (such as 3/15m): {crash_loop:?}")
    })?;
    Ok(Settings {
        crash_loop: rule,
        ..settings(stall_after, zero_grace)?
    })
}

/// Runs the subcommand; the exit code says whether all input was good.
pub fn run(args: &Args) -> anyhow::Result<ExitCode> {
    let now = args
        .now
        .as_deref()
        .map(|n| Timestamp::parse(n).with_context(|| format!("--now: not an RFC 3339 time: {n:?}")))
        .transpose()?;
    let mut replay = Replay::new(settings_with_crash_loop(
        &args.stall_after,
        &args.zero_grace,
        &args.crash_loop,
    )?);
    let files: Vec<String> = if args.files.is_empty() {
        vec!["-".into()]
    } else {
        args.files.clone()
    };
    let stdout = io::stdout();
    let mut out = io::BufWriter::new(stdout.lock());
    let mut collected = Effects::default();
    let mut bad = 0usize;
    for file in &files {
        let text = read(file)?;
        for item in reader::split(&text) {
            let result = item.map_err(|b| (b.line, b.message)).and_then(|l| {
                replay
                    .apply_json(l.text)
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
        Format::Text => render::timeline(&mut out, &collected, &rollouts, render::color_wanted())?,
    }
    out.flush()?;
    if bad > 0 {
        eprintln!("rollout-watcher: {bad} bad line(s) skipped; all valid events were processed");
        return Ok(ExitCode::from(1));
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
        Format::Text => collected.items.extend(effects.items),
    }
    Ok(())
}

/// One effect as the DESIGN.md contract writes it.
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
    }
}

/// One rollout line of the contract.
pub fn rollout_json(r: &RolloutSummary) -> serde_json::Value {
    json!({
        "type": "rollout", "service": r.service, "deployment_id": r.deployment_id,
        "state": r.state, "started_at": r.started_at, "finished_at": r.finished_at,
        "duration_s": r.duration_s, "downtime_s": r.downtime(),
    })
}
