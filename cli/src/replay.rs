//! `rollout-watcher replay`: events through the same library the Lambda functions use,
//! on an in-memory store; text for people, JSON Lines for machines.

use std::collections::HashMap;
use std::io::{self, Read, Write};
use std::process::ExitCode;

use anyhow::Context;
use clap::ValueEnum;
use rollout_watcher::core::{
    AlertName, AlertStatus, Effect, Effects, LATE_LIMIT, MetricName, RolloutState, RolloutSummary,
    Settings, Severity, Unit,
};
use rollout_watcher::model::{CrashLoopRule, Millis, ServiceArn, Timestamp};
use rollout_watcher::replay::Replay;
use serde_json::json;

use crate::archive::{Archive, Budget};
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
    // `-` is stdin, as for `audit` (the caller made sure the events are not there).
    let text = if file == "-" {
        let mut text = String::new();
        io::stdin().lock().read_to_string(&mut text).map(|_| text)
    } else {
        std::fs::read_to_string(file)
    }
    .with_context(|| format!("--describe-services {file}: cannot read it"))?;
    // A file saved "UTF-8 with BOM" is the same JSON.
    let text = text.strip_prefix('\u{feff}').unwrap_or(&text);
    // The error names the file, then the field or line; its cause (the parser's
    // line and column) goes on the same line, which a context would hide.
    let described = crate::audit::parse_for_replay(file, text).map_err(|e| {
        let mut text = format!("--describe-services {e}");
        let mut cause = std::error::Error::source(&e);
        while let Some(c) = cause {
            text.push_str(&format!(": {c}"));
            cause = c.source();
        }
        anyhow::anyhow!(text)
    })?;
    for record in described.services {
        // A service created before 2021 may keep a short ARN, without its cluster;
        // the events place it in its cluster, and so does this.
        let arn = record.arn.as_deref().and_then(|a| {
            let cluster_arn = a
                .split_once(":service/")
                .map(|(head, _)| format!("{head}:cluster/{}", record.cluster));
            ServiceArn::parse_in_cluster(a, cluster_arn.as_deref())
        });
        match arn {
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

/// The `time` of one event's text, if it has one.
fn event_time(text: &str) -> Option<Timestamp> {
    #[derive(serde::Deserialize)]
    struct Time<'a> {
        #[serde(borrow)]
        time: Option<&'a str>,
    }
    serde_json::from_str::<Time<'_>>(text)
        .ok()
        .and_then(|t| t.time)
        .and_then(Timestamp::parse)
}

/// The latest event time seen and where that event is (`FILE:LINE`).
#[derive(Default)]
struct Latest(Option<(Timestamp, String)>);

impl Latest {
    fn see(&mut self, text: &str, file: &str, line: usize) {
        if let Some(at) = event_time(text).filter(|at| self.0.as_ref().is_none_or(|(l, _)| at > l))
        {
            self.0 = Some((at, format!("{file}:{line}")));
        }
    }

    /// The usage error of a `--now` before the latest event.
    fn refuse(&self, now: Timestamp) -> anyhow::Result<()> {
        match &self.0 {
            Some((last, at)) if now < *last => Err(Usage(format!(
                "--now {}: earlier than the last event ({}, {at}); give a time after it",
                now.to_rfc3339(),
                last.to_rfc3339()
            ))
            .into()),
            _ => Ok(()),
        }
    }
}

/// Opens one input: a file, or stdin for `-` (not locked: `-` given twice reads
/// stdin once, then nothing, as it did).
fn open(file: &str) -> anyhow::Result<Box<dyn Read>> {
    Ok(if file == "-" {
        Box::new(io::stdin())
    } else {
        Box::new(std::fs::File::open(file).with_context(|| format!("reading {file}"))?)
    })
}

/// Opens every input, in order.
fn open_all(files: &[String]) -> anyhow::Result<Vec<(String, Box<dyn Read>)>> {
    files.iter().map(|f| Ok((f.clone(), open(f)?))).collect()
}

/// What the outputs keep while the events stream by: for `json` the rollouts' summaries
/// (each effect is written as it comes), for `text` also the timeline's blocks (both
/// within a memory budget, the rest on disk), for `html` the effects the page draws
/// (transitions and alerts) and the task times.
struct Collect {
    format: Format,
    archive: Archive,
    drawn: Effects,
    tasks: html::TaskLog,
}

impl Collect {
    fn new(format: Format) -> Self {
        Self::with_budget(format, Budget::default())
    }

    fn with_budget(format: Format, budget: Budget) -> Self {
        Self {
            format,
            archive: Archive::with_budget(budget),
            drawn: Effects::default(),
            tasks: html::TaskLog::new(),
        }
    }

    /// The watcher for this format: `html` draws every rollout from the watcher's
    /// own memory; `json` and `text` keep the summaries themselves.
    fn replay(&self, settings: Settings) -> Replay {
        match self.format {
            Format::Html => Replay::new(settings),
            Format::Json | Format::Text => Replay::without_past(settings),
        }
    }

    fn take(&mut self, effects: Effects, out: &mut (impl Write + ?Sized)) -> anyhow::Result<()> {
        match self.format {
            Format::Json => {
                for e in &effects.items {
                    write_effect(&mut *out, e)?;
                }
            }
            Format::Text => {
                for e in effects.items {
                    self.archive.blocks.add(e);
                }
                self.archive.mind_blocks()?;
            }
            Format::Html => self.drawn.items.extend(
                effects
                    .items
                    .into_iter()
                    .filter(|e| !matches!(e, Effect::Metric(_))),
            ),
        }
        if self.format != Format::Html {
            for r in effects.rollouts {
                self.archive.put(r)?;
            }
        }
        Ok(())
    }
}

/// Counts of the input read.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Counts {
    /// Lines that held no event (bad JSON, or an event the model refused).
    pub bad: usize,
    /// Values read as JSON.
    pub read_ok: usize,
}

/// Replays the events of `inputs` (name, bytes) in order and writes the output; bad
/// lines are reported on stderr as `NAME:LINE: message`. `latest`, when given, learns
/// each event's time (for a `--now` checked after reading).
fn replay_inputs(
    replay: &mut Replay,
    inputs: Vec<(String, Box<dyn Read>)>,
    collect: &mut Collect,
    out: &mut (impl Write + ?Sized),
    mut latest: Option<&mut Latest>,
) -> anyhow::Result<Counts> {
    let mut counts = Counts::default();
    for (file, src) in inputs {
        let mut reader = reader::Reader::new(src);
        while let Some(item) = reader
            .next_event()
            .with_context(|| format!("reading {file}"))?
        {
            let result = item.map_err(|b| (b.line, b.message)).and_then(|l| {
                counts.read_ok += 1;
                if let Some(latest) = latest.as_deref_mut() {
                    latest.see(l.text, &file, l.line);
                }
                match collect.format {
                    Format::Html => html::apply_json(replay, &mut collect.tasks, l.text),
                    _ => replay.apply_json(l.text),
                }
                .map_err(|e| (l.line, e.to_string()))
            });
            match result {
                Ok(effects) => collect.take(effects, out)?,
                Err((line, message)) => {
                    counts.bad += 1;
                    eprintln!("{file}:{line}: {message}");
                }
            }
        }
    }
    Ok(counts)
}

/// Replays `files` (`-` is stdin) into `out` in `format`, as `replay` does without
/// `--now`: the benchmarks run exactly this.
pub fn replay_files(
    files: &[String],
    format: Format,
    settings: Settings,
    out: &mut impl Write,
) -> anyhow::Result<Counts> {
    replay_files_within(files, format, settings, Budget::default(), out)
}

/// [`replay_files`] holding at most `budget` of the rollouts in memory.
pub fn replay_files_within(
    files: &[String],
    format: Format,
    settings: Settings,
    budget: Budget,
    out: &mut impl Write,
) -> anyhow::Result<Counts> {
    let mut collect = Collect::with_budget(format, budget);
    let mut replay = collect.replay(settings);
    let inputs = open_all(files)?;
    let counts = replay_inputs(&mut replay, inputs, &mut collect, out, None)?;
    finish(replay, collect, None, out)?;
    Ok(counts)
}

/// Writes what follows the events: the rollouts (json), the timeline (text) or the
/// page (html).
fn finish(
    replay: Replay,
    mut collect: Collect,
    now: Option<Timestamp>,
    out: &mut (impl Write + ?Sized),
) -> anyhow::Result<()> {
    if collect.format == Format::Html {
        let page = html::replay_page(&collect.drawn, &replay.rollouts(), &collect.tasks, now);
        out.write_all(html::document(&page).as_bytes())?;
        return Ok(());
    }
    let text = collect.format == Format::Text;
    let color = render::color_wanted();
    // The rollouts the services still hold, as they stand now, over what was kept;
    // the timeline also reads each service's configuration. Each state goes once
    // read, before the next is, and all before the rollouts are ordered and written,
    // when the archive is at its largest.
    let mut configs = HashMap::new();
    for state in replay.into_states() {
        for r in state.rollouts() {
            collect.archive.put(r)?;
        }
        if let (true, Some(config)) = (text, state.config()) {
            configs.insert(state.service().clone(), config.clone());
        }
    }
    let mut out = out;
    let rest = collect.archive.each(|r, marks| {
        if text {
            render::write_rollout(&mut out, marks, r, configs.get(&r.service), color)?;
        } else {
            writeln!(out, "{}", rollout_json(r))?;
        }
        Ok(())
    })?;
    if text {
        render::write_loose(&mut out, &rest, color)?;
    }
    Ok(())
}

/// Runs the subcommand; the exit code says whether all input was good.
///
/// Events are read, decoded and applied one at a time: memory follows the number of
/// services and rollouts, not the size of the input. Files are read in the order
/// given, each from its first line to its last, and events are applied in that order
/// (the state machine orders them by their versions and times itself).
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
    let mut collect = Collect::new(args.format);
    let mut replay = collect.replay(settings_with_crash_loop(
        &args.stall_after,
        &args.zero_grace,
        &args.crash_loop,
    )?);
    if let Some(file) = &args.describe_services {
        if file == "-" && (args.files.is_empty() || args.files.iter().any(|f| f == "-")) {
            return Err(Usage(
                "--describe-services -: stdin carries the events; give the events as files, \
                 or the settings as a file"
                    .to_owned(),
            )
            .into());
        }
        configure(&mut replay, file)?;
    }
    let files: Vec<String> = if args.files.is_empty() {
        vec!["-".into()]
    } else {
        args.files.clone()
    };
    // Every file is opened before anything is printed: a missing one is an error
    // with no partial output.
    let inputs = open_all(&files)?;
    // Deadlines are evaluated after the last event: a --now before it would run time
    // backwards, so it is refused before anything is printed. Text and HTML print
    // only after the last event, so the check waits for it; JSON prints each effect
    // as it comes, so files are read once first for their latest time, and stdin's
    // JSON output is held back until the end.
    let mut latest = now.map(|_| Latest::default());
    let json_now = args.format == Format::Json && now.is_some();
    let hold = json_now && files.iter().any(|f| f == "-");
    if let (Some(now), true, false) = (now, json_now, hold) {
        let mut first = Latest::default();
        for file in &files {
            let mut reader = reader::Reader::new(open(file)?);
            while let Some(item) = reader
                .next_event()
                .with_context(|| format!("reading {file}"))?
            {
                if let Ok(l) = item {
                    first.see(l.text, file, l.line);
                }
            }
        }
        first.refuse(now)?;
        latest = None;
    }
    let stdout = io::stdout();
    let mut direct = io::BufWriter::with_capacity(1 << 16, stdout.lock());
    let mut held = Vec::new();
    let out: &mut dyn Write = if hold { &mut held } else { &mut direct };
    let counts = replay_inputs(&mut replay, inputs, &mut collect, out, latest.as_mut())?;
    if let (Some(now), Some(latest)) = (now, &latest) {
        latest.refuse(now)?;
    }
    if let Some(now) = now {
        collect.take(replay.tick_all(now), out)?;
    }
    let stats = replay.stats;
    finish(replay, collect, now, out)?;
    if hold {
        direct.write_all(&held)?;
    }
    direct.flush()?;
    let Counts { bad, read_ok } = counts;

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
    if stats.late > 0 {
        eprintln!(
            "rollout-watcher replay: {} event(s) not applied: each came more than {} h \
             behind its service's latest event (the watcher refuses events that late; \
             give the files in time order)",
            stats.late,
            LATE_LIMIT.0 / 3_600_000
        );
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

/// One effect as a JSON line, written straight from the effect: the bytes of
/// [`effect_json`]'s line (keys in the same, alphabetical, order) without building a
/// map per effect.
pub fn write_effect(out: &mut (impl Write + ?Sized), e: &Effect) -> io::Result<()> {
    use rollout_watcher::core::Dimensions;
    use rollout_watcher::model::DeploymentId;
    #[derive(serde::Serialize)]
    struct Transition<'a> {
        at: Timestamp,
        deployment_id: &'a DeploymentId,
        from: Option<RolloutState>,
        service: &'a ServiceArn,
        to: RolloutState,
        r#type: &'static str,
    }
    #[derive(serde::Serialize)]
    struct Alert<'a> {
        alert: &'a AlertName,
        at: Timestamp,
        deployment_id: Option<&'a DeploymentId>,
        service: &'a ServiceArn,
        severity: Severity,
        status: AlertStatus,
        summary: &'a str,
        r#type: &'static str,
    }
    #[derive(serde::Serialize)]
    struct NoDimensions {}
    #[derive(serde::Serialize)]
    #[serde(untagged)]
    enum Dims<'a> {
        Some(&'a Dimensions),
        None(NoDimensions),
    }
    #[derive(serde::Serialize)]
    struct Metric<'a> {
        at: Timestamp,
        dimensions: Dims<'a>,
        name: &'a MetricName,
        r#type: &'static str,
        unit: &'a Unit,
        value: f64,
    }
    #[derive(serde::Serialize)]
    struct Stage<'a> {
        at: Timestamp,
        deployment_id: Option<&'a DeploymentId>,
        service: &'a ServiceArn,
        stage: &'a str,
        r#type: &'static str,
    }
    let mut out = &mut *out;
    match e {
        Effect::Transition(t) => serde_json::to_writer(
            &mut out,
            &Transition {
                at: t.at,
                deployment_id: &t.deployment_id,
                from: t.from,
                service: &t.service,
                to: t.to,
                r#type: "transition",
            },
        ),
        Effect::Alert(a) => serde_json::to_writer(
            &mut out,
            &Alert {
                alert: &a.alert,
                at: a.at,
                deployment_id: a.deployment_id.as_ref(),
                service: &a.service,
                severity: a.severity,
                status: a.status,
                summary: &a.summary,
                r#type: "alert",
            },
        ),
        Effect::Metric(m) => serde_json::to_writer(
            &mut out,
            &Metric {
                at: m.at,
                dimensions: m
                    .dimensions
                    .as_ref()
                    .map_or(Dims::None(NoDimensions {}), Dims::Some),
                name: &m.name,
                r#type: "metric",
                unit: &m.unit,
                value: m.value,
            },
        ),
        Effect::Stage(st) => serde_json::to_writer(
            &mut out,
            &Stage {
                at: st.at,
                deployment_id: st.deployment_id.as_ref(),
                service: &st.service,
                stage: &st.stage,
                r#type: "stage",
            },
        ),
    }
    .map_err(io::Error::other)?;
    out.write_all(b"\n")
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

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::simulate::{Params, Scenario, simulate};

    #[test]
    fn an_effect_written_straight_is_the_line_of_its_json_value() {
        let mut replay = Replay::new(Settings::default());
        let mut all = Vec::new();
        for scenario in Scenario::every() {
            let mut p = Params::defaults(scenario);
            p.service = scenario.name().to_owned();
            for e in simulate(&p).unwrap().events {
                all.extend(replay.apply_json(&e.to_string()).unwrap().items);
            }
        }
        all.extend(
            replay
                .tick_all(Timestamp::parse("2026-03-09T00:00:00Z").unwrap())
                .items,
        );
        let mut kinds = [0; 4];
        for effect in &all {
            kinds[match effect {
                Effect::Transition(_) => 0,
                Effect::Alert(_) => 1,
                Effect::Metric(_) => 2,
                Effect::Stage(_) => 3,
            }] += 1;
            let mut line = Vec::new();
            write_effect(&mut line, effect).unwrap();
            // One line, and the same object as the JSON value: the same keys and
            // values. (Key order is compared apart: whether `json!` keeps insertion
            // order depends on serde_json's `preserve_order`, which the AWS SDK turns
            // on when the whole workspace is built together.)
            assert_eq!(line.iter().filter(|b| **b == b'\n').count(), 1);
            assert!(line.ends_with(b"\n"));
            let written: serde_json::Value = serde_json::from_slice(&line).unwrap();
            assert_eq!(written, effect_json(effect));
            let keys: Vec<String> = serde_json::from_slice::<
                std::collections::BTreeMap<String, serde_json::Value>,
            >(&line)
            .unwrap()
            .into_keys()
            .collect();
            let raw = String::from_utf8(line).unwrap();
            let positions: Vec<usize> = keys
                .iter()
                .map(|k| raw.find(&format!("\"{k}\":")).unwrap())
                .collect();
            assert!(
                positions.windows(2).all(|w| w[0] < w[1]),
                "keys in alphabetical order, whatever serde_json's features: {raw}"
            );
        }
        // every kind of effect, stages included, went through both writers
        assert!(kinds.iter().all(|n| *n > 0), "{kinds:?}");
    }
}
