//! The text format of `replay` and `demo`: one timeline per rollout, the way a person
//! reads a rolling deployment (new task started, healthy and taking traffic, old task
//! drained and stopped), then its alerts and a one-line verdict.
//!
//! The timeline fits [`WIDTH`] columns: the block's header names the service and the
//! deployment once, so its lines do not repeat them; an ARN is shortened to its
//! resource (`targetgroup/web/0123…`) and written in full once, under the verdict;
//! longer text wraps under itself. Lines are in event time, whatever order the
//! effects came in. What a step says about ECS's next move follows the service's
//! settings when they are known (the `demo` knows them; `replay` of events alone does
//! not) and stays neutral when they are not.

use std::collections::HashMap;
use std::io::{self, IsTerminal, Write};

use rollout_watcher::core::{
    Alert, AlertName, AlertStatus, Effect, Effects, RolloutState, RolloutSummary, ServiceConfig,
    Severity,
};
use rollout_watcher::model::{DeploymentId, Millis, ServiceArn, Timestamp};
use rollout_watcher::policy::{ceiling_tasks, floor_tasks};

/// The widest line of the timeline, in characters.
pub const WIDTH: usize = 120;

/// Colour when stdout is a terminal and `NO_COLOR` is unset.
pub fn color_wanted() -> bool {
    io::stdout().is_terminal() && std::env::var_os("NO_COLOR").is_none()
}

struct Paint(bool);

impl Paint {
    fn p(&self, code: &str, text: &str) -> String {
        if self.0 {
            format!("\x1b[{code}m{text}\x1b[0m")
        } else {
            text.to_owned()
        }
    }
}

fn clock(t: Timestamp) -> String {
    let s = t.to_rfc3339();
    s.get(11..19).unwrap_or(&s).to_owned()
}

fn date_and_clock(t: Timestamp) -> String {
    let s = t.to_rfc3339();
    match (s.get(..10), s.get(11..19)) {
        (Some(d), Some(c)) => format!("{d} {c}"),
        _ => s,
    }
}

/// What a service's settings say about its rolling deployments; `None` where the
/// settings are not known.
#[derive(Clone, Copy, Debug, Default)]
struct Known {
    /// ECS can start a new task beside the old ones (ceiling above desired).
    room_above: Option<bool>,
    /// ECS may stop a serving task before a new one is healthy (floor below desired).
    room_below: Option<bool>,
    load_balanced: Option<bool>,
    min: u32,
    max: u32,
    /// The bake time (blue/green, linear, canary).
    bake: Option<Millis>,
}

impl Known {
    fn from(config: Option<&ServiceConfig>) -> Self {
        let Some(c) = config else {
            return Self::default();
        };
        let d = c.desired_count.filter(|d| *d > 0);
        Self {
            room_above: d
                .zip(c.max_percent)
                .map(|(d, max)| ceiling_tasks(d, max) > d),
            room_below: d
                .zip(c.min_healthy_percent)
                .map(|(d, min)| floor_tasks(d, min) < d),
            load_balanced: c.load_balanced,
            min: c.min_healthy_percent.unwrap_or_default(),
            max: c.max_percent.unwrap_or_default(),
            bake: c.bake_time.filter(|b| b.0 > 0),
        }
    }

    fn started(&self, rollback: bool) -> String {
        if rollback {
            return "rollback started: ECS brings back the last good task definition".into();
        }
        match (self.room_above, self.room_below) {
            (Some(true), _) => {
                "deployment started: ECS starts the new task(s) beside the old".into()
            }
            (Some(false), Some(true)) => format!(
                "deployment started: no room above desired (maximum {}%): ECS stops old task(s) first",
                self.max
            ),
            (Some(false), Some(false)) => format!(
                "deployment started: with maximum {}% and minimum healthy {}% ECS can move no task",
                self.max, self.min
            ),
            _ => "deployment started".into(),
        }
    }

    fn running(&self) -> &'static str {
        match self.load_balanced {
            Some(true) => "new task RUNNING: registering with the load balancer, health checks",
            _ => "new task RUNNING",
        }
    }

    fn draining(&self, new_task_ran: bool) -> String {
        match (new_task_ran, self.load_balanced, self.room_below) {
            (true, Some(true), _) => {
                "new task healthy, traffic moved: old task(s) draining and stopping".into()
            }
            (true, _, _) => "old task(s) stopping".into(),
            (false, _, Some(true)) => format!(
                "old task(s) stopping before a new one runs (minimum healthy {}% allows it)",
                self.min
            ),
            (false, _, _) => "older task(s) stopping before a new one runs".into(),
        }
    }
}

fn step(to: RolloutState) -> &'static str {
    match to {
        RolloutState::Started | RolloutState::TasksRunning | RolloutState::Draining => "",
        RolloutState::Stalled => "deadline passed: still in progress",
        RolloutState::Shifting => "traffic shifting to the new revision",
        RolloutState::Baking => "all production traffic on the new revision: baking",
        RolloutState::Paused => "paused: a PAUSE hook awaits action",
        RolloutState::Completed => "old task(s) stopped, steady state: completed",
        RolloutState::Failed => "failed",
        RolloutState::RolledBack => "rolled back",
        RolloutState::Superseded => "superseded by a newer deployment",
    }
}

/// One line of a rollout's block before it is laid out.
enum Entry<'a> {
    Step {
        at: Timestamp,
        to: RolloutState,
        text: String,
    },
    Alert(&'a AlertLine),
    /// A lifecycle stage newly known (ECS-native deployments, hooks).
    Stage {
        at: Timestamp,
        stage: &'a str,
    },
}

impl Entry<'_> {
    fn at(&self) -> Timestamp {
        match self {
            Self::Step { at, .. } | Self::Stage { at, .. } => *at,
            Self::Alert(a) => a.at,
        }
    }
}

/// The commands that answer a pause, in full (the alert's summary has them too, but
/// its ARNs are shortened in the timeline), as lines of at most 120 columns for the
/// demo's names: a shell command continued with `\\`, ready to copy.
fn pause_commands(a: &AlertLine) -> Vec<String> {
    let (Some(hook), Some(arn)) = (&a.hook_id, &a.service_deployment_arn) else {
        return vec![];
    };
    if a.alert != AlertName::DeploymentPaused || a.status != AlertStatus::Firing {
        return vec![];
    }
    let region = a.region.as_str();
    let mut lines = Vec::new();
    for (what, action) in [("to continue:", "CONTINUE"), ("to roll back:", "ROLLBACK")] {
        lines.push(format!("    {what}"));
        lines.push(format!(
            "      aws ecs continue-service-deployment --region {region} --action {action} \\"
        ));
        lines.push(format!("        --hook-id {hook} \\"));
        lines.push("        --service-deployment-arn \\".to_owned());
        lines.push(format!("        {arn}"));
    }
    lines
}

/// One line of a rollout's block as the effects gave it: a transition or an alert.
/// Serialisable: `replay` spills the blocks of a long stream to disk.
#[derive(Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub(crate) enum Mark {
    Step { at: Timestamp, to: RolloutState },
    Alert(AlertLine),
    Stage { at: Timestamp, stage: String },
}

/// What the timeline writes of an alert: a tenth of the alert (its title, details,
/// keys and names are not shown), which is most of what a month's blocks hold; a
/// pause keeps what its continue and roll-back commands need.
#[derive(Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub(crate) struct AlertLine {
    alert: AlertName,
    status: AlertStatus,
    severity: Severity,
    at: Timestamp,
    summary: String,
    region: String,
    hook_id: Option<String>,
    service_deployment_arn: Option<String>,
}

impl From<Box<Alert>> for AlertLine {
    fn from(a: Box<Alert>) -> Self {
        let region = a.service.region().to_owned();
        let Alert {
            alert,
            status,
            severity,
            at,
            summary,
            details,
            ..
        } = *a;
        Self {
            alert,
            status,
            severity,
            at,
            summary,
            region,
            hook_id: details.hook_id,
            service_deployment_arn: details.service_deployment_arn,
        }
    }
}

/// What the timeline shows, collected as the effects stream by: per rollout its
/// transitions and alerts in the order they came (the order decides what a step says:
/// "draining" after a task ran reads differently), and the alerts of no rollout.
/// Metrics are not kept. Writing the timeline is then one look-up per rollout, not a
/// scan of every effect per rollout.
#[derive(Default)]
pub struct Blocks {
    rollouts: HashMap<(ServiceArn, DeploymentId), Vec<Mark>>,
    loose: Vec<AlertLine>,
    /// About how many bytes the rollouts' marks hold.
    held: usize,
}

/// About what one mark holds, its text included.
fn weight(m: &Mark) -> usize {
    size_of::<Mark>()
        + match m {
            Mark::Step { .. } => 0,
            Mark::Stage { stage, .. } => stage.len(),
            Mark::Alert(a) => {
                a.summary.len()
                    + a.region.len()
                    + a.hook_id.as_ref().map_or(0, String::len)
                    + a.service_deployment_arn.as_ref().map_or(0, String::len)
            }
        }
}

impl Blocks {
    /// Nothing collected yet.
    pub fn new() -> Self {
        Self::default()
    }

    /// The blocks of effects already collected.
    pub fn from_effects(effects: &Effects) -> Self {
        let mut blocks = Self::new();
        for e in &effects.items {
            match e {
                Effect::Metric(_) => {}
                e => blocks.add(e.clone()),
            }
        }
        blocks
    }

    /// Takes in one effect.
    pub fn add(&mut self, effect: Effect) {
        let (key, mark) = match effect {
            Effect::Transition(t) => (
                (t.service, t.deployment_id),
                Mark::Step { at: t.at, to: t.to },
            ),
            Effect::Alert(a) => match a.deployment_id.clone() {
                Some(d) => ((a.service.clone(), d), Mark::Alert(a.into())),
                None => {
                    self.loose.push(a.into());
                    return;
                }
            },
            Effect::Stage(st) => match st.deployment_id {
                Some(d) => (
                    (st.service, d),
                    Mark::Stage {
                        at: st.at,
                        stage: st.stage,
                    },
                ),
                None => return,
            },
            Effect::Metric(_) => return,
        };
        self.held += weight(&mark);
        self.rollouts.entry(key).or_default().push(mark);
    }

    /// About how many bytes the rollouts' marks hold now.
    pub(crate) fn held(&self) -> usize {
        self.held
    }

    /// Every rollout's marks collected so far, leaving none (the alerts of no
    /// rollout stay).
    pub(crate) fn drain(
        &mut self,
    ) -> impl Iterator<Item = ((ServiceArn, DeploymentId), Vec<Mark>)> + '_ {
        self.held = 0;
        self.rollouts.drain()
    }

    /// One rollout's marks collected so far, leaving none.
    pub(crate) fn take(&mut self, service: &ServiceArn, deployment: &DeploymentId) -> Vec<Mark> {
        // The key is owned: a rollout's block is looked up once, when it is written.
        let marks = self
            .rollouts
            .remove(&(service.clone(), deployment.clone()))
            .unwrap_or_default();
        self.held = self
            .held
            .saturating_sub(marks.iter().map(weight).sum::<usize>());
        marks
    }
}

/// Writes the timeline of every rollout, then the alerts that belong to no rollout.
/// `config` gives a service's settings when they are known.
pub fn timeline(
    out: &mut impl Write,
    effects: &Effects,
    rollouts: &[RolloutSummary],
    config: &dyn Fn(&ServiceArn) -> Option<ServiceConfig>,
    color: bool,
) -> io::Result<()> {
    timeline_of(out, &Blocks::from_effects(effects), rollouts, config, color)
}

/// [`timeline`] from blocks collected as the effects came.
pub fn timeline_of(
    out: &mut impl Write,
    blocks: &Blocks,
    rollouts: &[RolloutSummary],
    config: &dyn Fn(&ServiceArn) -> Option<ServiceConfig>,
    color: bool,
) -> io::Result<()> {
    for r in rollouts {
        let marks = blocks
            .rollouts
            .get(&(r.service.clone(), r.deployment_id.clone()))
            .map_or(&[][..], Vec::as_slice);
        write_rollout(out, marks, r, config(&r.service).as_ref(), color)?;
    }
    write_loose(out, blocks, color)
}

/// One rollout's block of the timeline: its marks, in the order they came, under its
/// summary as it stands at the end.
pub(crate) fn write_rollout(
    out: &mut impl Write,
    marks: &[Mark],
    r: &RolloutSummary,
    config: Option<&ServiceConfig>,
    color: bool,
) -> io::Result<()> {
    rollout(out, &Paint(color), marks, r, &Known::from(config))
}

/// What follows the rollouts' blocks: the alerts that belong to no rollout.
pub(crate) fn write_loose(out: &mut impl Write, blocks: &Blocks, color: bool) -> io::Result<()> {
    let paint = Paint(color);
    let mut loose: Vec<&AlertLine> = blocks.loose.iter().collect();
    loose.sort_by_key(|a| a.at);
    if !loose.is_empty() {
        writeln!(
            out,
            "{}",
            paint.p("1", "━━ service alerts outside any rollout")
        )?;
        let mut arns = Vec::new();
        for a in loose {
            let head = format!("  {}  ", date_and_clock(a.at));
            let body = format!(
                "{} · {}",
                a.alert.as_str(),
                shorten_arns(&a.summary, &mut arns)
            );
            write_wrapped(out, &head, &label(&paint, a.status, a.severity), &body)?;
        }
        for arn in arns {
            writeln!(out, "  in full: {arn}")?;
        }
    }
    Ok(())
}

fn rollout(
    out: &mut impl Write,
    paint: &Paint,
    marks: &[Mark],
    r: &RolloutSummary,
    known: &Known,
) -> io::Result<()> {
    let rollback = r.rollback_of.is_some();
    let kind = if rollback { "rollback" } else { "deployment" };
    let mut title = format!(
        "{} ({}) · {kind} {}",
        r.service.name(),
        r.service.cluster(),
        r.deployment_id
    );
    if let Some(t) = &r.task_definition {
        title.push_str(&format!(" ({t})"));
    }
    writeln!(out, "{}", paint.p("1", &format!("━━ {title}")))?;

    let mut entries = Vec::with_capacity(marks.len() + 1);
    let mut ran = false;
    let mut started = false;
    for m in marks {
        match m {
            Mark::Step { at, to } => {
                let text = match to {
                    RolloutState::Started => known.started(rollback),
                    RolloutState::TasksRunning => known.running().into(),
                    RolloutState::Draining => known.draining(ran),
                    to => step(*to).into(),
                };
                ran |= *to == RolloutState::TasksRunning;
                started |= *to == RolloutState::Started;
                entries.push(Entry::Step {
                    at: *at,
                    to: *to,
                    text,
                });
            }
            Mark::Alert(a) => entries.push(Entry::Alert(a)),
            Mark::Stage { at, stage } => entries.push(Entry::Stage { at: *at, stage }),
        }
    }
    // A rollout first seen past its start (a late IN_PROGRESS, or one already past its
    // deadline) has no `started` transition: its start is still the first line.
    if let (false, Some(at)) = (started, r.started_at) {
        entries.insert(
            0,
            Entry::Step {
                at,
                to: RolloutState::Started,
                text: known.started(rollback),
            },
        );
    }
    entries.sort_by_key(Entry::at);

    let mut arns = Vec::new();
    for e in &entries {
        match e {
            Entry::Step { at, to, text } => {
                let rel = r
                    .started_at
                    .map(|o| format!("+{}", at.since(o).human()))
                    .unwrap_or_default();
                let mark = match to {
                    RolloutState::Completed => paint.p("32", "✔"),
                    RolloutState::Failed | RolloutState::RolledBack => paint.p("31", "✖"),
                    RolloutState::Stalled => paint.p("33", "⏸"),
                    RolloutState::Superseded => paint.p("36", "↷"),
                    _ => paint.p("34", "●"),
                };
                let head = format!("  {}  {rel:>12}  ", clock(*at));
                let text = match (to, known.bake) {
                    (RolloutState::Baking, Some(b)) => format!("{text} (bake time {})", b.human()),
                    _ => text.clone(),
                };
                write_wrapped(out, &head, &mark, &text)?;
            }
            Entry::Stage { at, stage } => {
                let head = format!("  {}  {:>12}  ", clock(*at), "");
                write_wrapped(out, &head, &paint.p("36", "◆"), &format!("stage {stage}"))?;
            }
            Entry::Alert(a) => {
                let head = format!("  {}  {:>12}  ", clock(a.at), "");
                let summary = in_block(&a.summary, r, kind);
                let commands = pause_commands(a);
                // The commands follow on lines of their own, in full, to copy.
                let summary = match summary.split_once(" To continue: ") {
                    Some((words, _)) if !commands.is_empty() => words.to_owned(),
                    _ => summary,
                };
                let body = format!(
                    "{} · {}",
                    a.alert.as_str(),
                    shorten_arns(&summary, &mut arns)
                );
                write_wrapped(out, &head, &label(paint, a.status, a.severity), &body)?;
                for line in commands {
                    writeln!(out, "{line}")?;
                }
            }
        }
    }
    writeln!(
        out,
        "  {}",
        paint.p("1", &format!("verdict: {}", verdict(r)))
    )?;
    for arn in arns {
        writeln!(out, "  in full: {arn}")?;
    }
    writeln!(out)
}

/// A summary inside its rollout's block: the header already names the service and
/// the deployment (with its task definition), so the summary does not repeat them.
fn in_block(summary: &str, r: &RolloutSummary, kind: &str) -> String {
    let text = summary
        .strip_prefix(r.service.name())
        .and_then(|s| s.strip_prefix(": "))
        .unwrap_or(summary);
    let id = format!("{kind} {}", r.deployment_id);
    let named = match &r.task_definition {
        Some(t) => format!("{id} ({t})"),
        None => id.clone(),
    };
    let this = format!("this {kind}");
    // ECS's own words keep the id: "Scaling activity initiated by (deployment …)".
    let quoted = format!("({id})");
    text.split(&quoted)
        .map(|part| part.replace(&named, &this).replace(&id, &this))
        .collect::<Vec<_>>()
        .join(&quoted)
}

/// Each ARN in `text` as its resource (`targetgroup/web/0123…`), the full ARNs
/// remembered in `full` (once each) to be written under the block.
fn shorten_arns(text: &str, full: &mut Vec<String>) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(i) = rest.find("arn:") {
        let boundary = i == 0 || !rest[..i].ends_with(|c: char| c.is_alphanumeric());
        out.push_str(&rest[..i]);
        let tail = &rest[i..];
        let end = tail
            .find(|c: char| c.is_whitespace() || matches!(c, ')' | ',' | ';' | '"' | '\'' | ']'))
            .unwrap_or(tail.len());
        let arn = tail[..end].trim_end_matches('.');
        // arn:PARTITION:SERVICE:REGION:ACCOUNT:RESOURCE
        let resource = arn.splitn(6, ':').nth(5).filter(|r| !r.is_empty());
        match (boundary, resource) {
            (true, Some(resource)) => {
                out.push_str(resource);
                if !full.iter().any(|a| a == arn) {
                    full.push(arn.to_owned());
                }
                rest = &tail[arn.len()..];
            }
            _ => {
                out.push_str("arn:");
                rest = &tail[4..];
            }
        }
    }
    out.push_str(rest);
    out
}

/// `head` (plain), `mark` (perhaps painted, one word) and `text`, wrapped at word
/// boundaries so that no line is wider than [`WIDTH`]; continuation lines start
/// under the text.
fn write_wrapped(out: &mut impl Write, head: &str, mark: &str, text: &str) -> io::Result<()> {
    let indent = head.chars().count() + strip_ansi(mark).chars().count() + 1;
    let lines = wrap(text, WIDTH.saturating_sub(indent).max(20));
    let mut lines = lines.iter();
    writeln!(
        out,
        "{head}{mark} {}",
        lines.next().map_or("", String::as_str)
    )?;
    for l in lines {
        writeln!(out, "{:indent$}{l}", "")?;
    }
    Ok(())
}

fn strip_ansi(text: &str) -> String {
    let mut out = String::new();
    let mut chars = text.chars();
    while let Some(c) = chars.next() {
        if c == '\x1b' {
            for c in chars.by_ref() {
                if c == 'm' {
                    break;
                }
            }
        } else {
            out.push(c);
        }
    }
    out
}

/// Greedy word wrap at `width` characters; a word longer than a line is cut.
fn wrap(text: &str, width: usize) -> Vec<String> {
    let mut lines = Vec::new();
    let mut line = String::new();
    let mut len = 0;
    for word in text.split(' ') {
        let mut word: Vec<char> = word.chars().collect();
        while word.len() > width {
            if len > 0 {
                lines.push(std::mem::take(&mut line));
                len = 0;
            }
            let rest = word.split_off(width);
            lines.push(word.into_iter().collect());
            word = rest;
        }
        if len > 0 && len + 1 + word.len() > width {
            lines.push(std::mem::take(&mut line));
            len = 0;
        }
        if len > 0 {
            line.push(' ');
            len += 1;
        }
        len += word.len();
        line.extend(word);
    }
    if len > 0 || lines.is_empty() {
        lines.push(line);
    }
    lines
}

fn label(paint: &Paint, status: AlertStatus, severity: Severity) -> String {
    match (status, severity) {
        (AlertStatus::Resolved, _) => paint.p("32", "RESOLVED"),
        (_, Severity::Critical) => paint.p("1;31", "CRITICAL"),
        (_, Severity::Warning) => paint.p("33", "WARNING "),
        (_, Severity::Info) => paint.p("2", "INFO    "),
    }
}

/// The one-line verdict on a rollout.
pub fn verdict(r: &RolloutSummary) -> String {
    let down = Millis((r.downtime_s * 1000.0).round() as i64).human();
    let took = r
        .duration_s
        .map(|d| Millis((d * 1000.0).round() as i64).human());
    let stall = if r.stalled { " (after stalling)" } else { "" };
    match r.state {
        RolloutState::Completed => format!(
            "completed in {}{stall}, downtime {down}",
            took.unwrap_or_else(|| "unknown time".into())
        ),
        RolloutState::RolledBack if r.health_check_failures + r.start_failures == 0 => {
            format!("rolled back, downtime {down}")
        }
        RolloutState::RolledBack => format!(
            "rolled back after {} health-check failure(s) and {} failed start(s), downtime {down}",
            r.health_check_failures, r.start_failures
        ),
        RolloutState::Failed => format!("failed, downtime {down}"),
        RolloutState::Superseded => {
            format!("superseded by a newer deployment (not a failure), downtime {down}")
        }
        RolloutState::Stalled => format!("STALLED: still in progress, downtime so far {down}"),
        s => format!("in progress ({}), downtime so far {down}", s.as_str()),
    }
}

/// One transition line of a rollout's timeline, as [`timeline`] writes it, for
/// `wait`, which prints the timeline as it happens. `ran`: a task of the rollout
/// was RUNNING before this transition.
pub fn transition_line(
    t: &rollout_watcher::core::Transition,
    origin: Option<Timestamp>,
    rollback: bool,
    ran: bool,
    color: bool,
) -> String {
    let paint = Paint(color);
    let rel = origin
        .map(|o| format!("+{}", t.at.since(o).human()))
        .unwrap_or_default();
    let mark = match t.to {
        RolloutState::Completed => paint.p("32", "✔"),
        RolloutState::Failed | RolloutState::RolledBack => paint.p("31", "✖"),
        RolloutState::Stalled => paint.p("33", "⏸"),
        RolloutState::Superseded => paint.p("36", "↷"),
        _ => paint.p("34", "●"),
    };
    // `wait` knows no settings here: the neutral step texts, as `replay` prints them
    // for events alone.
    let known = Known::default();
    let text = match t.to {
        RolloutState::Started => known.started(rollback),
        RolloutState::TasksRunning => known.running().to_owned(),
        RolloutState::Draining => known.draining(ran),
        to => step(to).to_owned(),
    };
    format!("  {}  {:>12}  {mark} {text}", clock(t.at), rel)
}

/// One alert line of a rollout's timeline, as [`timeline`] writes it.
pub fn timeline_alert_line(a: &Alert, color: bool) -> String {
    format!(
        "  {}  {:>12}  {}",
        clock(a.at),
        "",
        alert_text(&Paint(color), a)
    )
}

fn alert_text(paint: &Paint, a: &Alert) -> String {
    format!(
        "{} {} · {}",
        label(paint, a.status, a.severity),
        a.alert.as_str(),
        a.summary
    )
}

/// A line of the timeline that is not an effect (a stage, a pause, what ECS said),
/// in the same columns.
pub fn timeline_note(at: Timestamp, origin: Option<Timestamp>, text: &str, color: bool) -> String {
    let rel = origin
        .map(|o| format!("+{}", at.since(o).human()))
        .unwrap_or_default();
    format!(
        "  {}  {:>12}  {}",
        clock(at),
        rel,
        Paint(color).p("2", text)
    )
}

/// A bold heading line (`━━ title`, `verdict: ...`).
pub fn heading(text: &str, color: bool) -> String {
    Paint(color).p("1", text)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wrapping_keeps_every_word_and_every_line_within_the_width() {
        let text = "one two three four five six seven eight nine ten";
        let lines = wrap(text, 10);
        assert!(lines.iter().all(|l| l.chars().count() <= 10), "{lines:?}");
        assert_eq!(lines.join(" "), text);
        let long = "x".repeat(25);
        assert_eq!(
            wrap(&long, 10),
            ["x".repeat(10), "x".repeat(10), "x".repeat(5)]
        );
    }

    #[test]
    fn an_arn_is_shortened_to_its_resource_and_remembered_once() {
        let tg =
            "arn:aws:elasticloadbalancing:eu-west-1:123456789012:targetgroup/web/0123456789abcdef";
        let mut full = Vec::new();
        let once = shorten_arns(&format!("in (target-group {tg})"), &mut full);
        let twice = shorten_arns(&format!("{tg}. again"), &mut full);
        assert_eq!(once, "in (target-group targetgroup/web/0123456789abcdef)");
        assert_eq!(twice, "targetgroup/web/0123456789abcdef. again");
        assert_eq!(full, [tg]);
        assert_eq!(
            shorten_arns("barn:x and arn: alone", &mut full),
            "barn:x and arn: alone"
        );
    }
}
