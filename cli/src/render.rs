//! The text format of `replay`: one timeline per rollout, the way a person reads a
//! rolling deployment (new task started, healthy and taking traffic, old task drained
//! and stopped), then its alerts and a one-line verdict.

use std::io::{self, IsTerminal, Write};

use rollout_watcher::core::{
    Alert, AlertStatus, Effect, Effects, RolloutState, RolloutSummary, Severity,
};
use rollout_watcher::model::{Millis, Timestamp};

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

fn step(to: RolloutState, rollback: bool) -> &'static str {
    match (to, rollback) {
        (RolloutState::Started, false) => {
            "deployment started: ECS starts the new task(s) beside the old"
        }
        (RolloutState::Started, true) => {
            "rollback started: ECS brings back the last good task definition"
        }
        (RolloutState::TasksRunning, _) => {
            "new task RUNNING: registering with the load balancer, health checks"
        }
        (RolloutState::Draining, _) => {
            "new task healthy, traffic moved: old task(s) draining and stopping"
        }
        (RolloutState::Stalled, _) => "deadline passed: still in progress",
        (RolloutState::Completed, _) => "old task(s) stopped, steady state: completed",
        (RolloutState::Failed, _) => "failed (circuit breaker)",
        (RolloutState::RolledBack, _) => "rolled back",
        (RolloutState::Superseded, _) => "superseded by a newer deployment",
    }
}

/// Writes the timeline of every rollout, then alerts that belong to no rollout.
pub fn timeline(
    out: &mut impl Write,
    effects: &Effects,
    rollouts: &[RolloutSummary],
    color: bool,
) -> io::Result<()> {
    let paint = Paint(color);
    for r in rollouts {
        let title = format!(
            "{} ({}) · {}{} {}",
            r.service.name(),
            r.service.cluster(),
            if r.rollback_of.is_some() {
                "rollback "
            } else {
                "deployment "
            },
            r.deployment_id,
            r.task_definition
                .as_deref()
                .map(|t| format!("({t})"))
                .unwrap_or_default(),
        );
        writeln!(out, "{}", paint.p("1", &format!("━━ {title}")))?;
        let origin = r.started_at;
        let mut ran = false;
        for e in &effects.items {
            match e {
                Effect::Transition(t)
                    if t.service == r.service && t.deployment_id == r.deployment_id =>
                {
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
                    let text = if t.to == RolloutState::Draining && !ran {
                        "old task(s) stopping before a new one runs (minimum healthy allows it)"
                    } else {
                        step(t.to, r.rollback_of.is_some())
                    };
                    ran |= t.to == RolloutState::TasksRunning;
                    writeln!(out, "  {}  {:>12}  {mark} {text}", clock(t.at), rel)?;
                }
                Effect::Alert(a)
                    if a.service == r.service
                        && a.deployment_id.as_ref() == Some(&r.deployment_id) =>
                {
                    writeln!(
                        out,
                        "  {}  {:>12}  {}",
                        clock(a.at),
                        "",
                        alert_line(&paint, a)
                    )?;
                }
                _ => {}
            }
        }
        writeln!(
            out,
            "  {}",
            paint.p("1", &format!("verdict: {}", verdict(r)))
        )?;
        writeln!(out)?;
    }
    let loose: Vec<&Alert> = effects
        .items
        .iter()
        .filter_map(|e| match e {
            Effect::Alert(a) if a.deployment_id.is_none() => Some(a.as_ref()),
            _ => None,
        })
        .collect();
    if !loose.is_empty() {
        writeln!(
            out,
            "{}",
            paint.p("1", "━━ service alerts outside any rollout")
        )?;
        for a in loose {
            writeln!(out, "  {}  {}", clock(a.at), alert_line(&paint, a))?;
        }
    }
    Ok(())
}

fn alert_line(paint: &Paint, a: &Alert) -> String {
    let label = match (a.status, a.severity) {
        (AlertStatus::Resolved, _) => paint.p("32", "RESOLVED"),
        (_, Severity::Critical) => paint.p("1;31", "CRITICAL"),
        (_, Severity::Warning) => paint.p("33", "WARNING "),
        (_, Severity::Info) => paint.p("2", "INFO    "),
    };
    format!("{label} {} · {}", a.alert.as_str(), a.summary)
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
    let text = if t.to == RolloutState::Draining && !ran {
        "old task(s) stopping before a new one runs (minimum healthy allows it)"
    } else {
        step(t.to, rollback)
    };
    format!("  {}  {:>12}  {mark} {text}", clock(t.at), rel)
}

/// One alert line of a rollout's timeline, as [`timeline`] writes it.
pub fn timeline_alert_line(a: &Alert, color: bool) -> String {
    format!(
        "  {}  {:>12}  {}",
        clock(a.at),
        "",
        alert_line(&Paint(color), a)
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
