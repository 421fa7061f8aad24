//! The words of the page: clock times, lengths, and the sentences that say in text
//! what each chart shows (its `<desc>` and `<figcaption>`).

use rollout_watcher::model::Timestamp;

use super::page::{Lane, RolloutView};

/// `HH:MM:SS` (UTC) of an instant.
pub(super) fn clock(t: Timestamp) -> String {
    let s = t.to_rfc3339();
    s.get(11..19).unwrap_or(&s).to_owned()
}

/// `2026-03-02 10:00:00 UTC`.
pub(super) fn date_time(t: Timestamp) -> String {
    let s = t.to_rfc3339();
    match (s.get(0..10), s.get(11..19)) {
        (Some(d), Some(c)) => format!("{d} {c} UTC"),
        _ => s,
    }
}

/// The length of `[from, to]` as people say it (`2 min 5 s`).
pub(super) fn length(from: Timestamp, to: Timestamp) -> String {
    to.since(from).human()
}

/// A task's lifecycle in one line: `task 0a1b (new, web:42): pending 10:00:01,
/// serving 10:00:20, draining 10:03:00, stopped 10:03:31: Scaling activity ...`.
pub(super) fn phase_text(l: &Lane) -> String {
    let mut parts = Vec::new();
    for (word, t) in [
        ("pending", l.created_at),
        ("serving", l.started_at),
        ("draining", l.stopping_at.filter(|_| l.started_at.is_some())),
        ("stopped", l.stopped_at),
    ] {
        if let Some(t) = t {
            parts.push(format!("{word} {}", clock(t)));
        }
    }
    if l.started_at.is_none() && l.stopped_at.is_some() {
        parts.push("never served".to_owned());
    }
    let role = l.role.map_or("task", |r| r.as_str());
    let def = l
        .task_definition
        .as_deref()
        .map(|d| format!(", {d}"))
        .unwrap_or_default();
    let reason = l
        .stop_reason
        .as_deref()
        .map(|r| format!(": {r}"))
        .unwrap_or_default();
    let failed = if l.failed { " (failure)" } else { "" };
    format!(
        "task {} ({role}{def}): {}{failed}{reason}",
        l.task_id,
        parts.join(", ")
    )
}

/// What the chart shows, in sentences: the states, the downtime, the tasks, the alerts.
pub(super) fn describe(r: &RolloutView) -> String {
    let states: Vec<String> = r
        .band
        .iter()
        .map(|(s, t)| format!("{} {}", s.as_str().replace('_', " "), clock(*t)))
        .collect();
    let mut text = format!(
        "Deployment {}: {}.",
        r.summary.deployment_id,
        if states.is_empty() {
            "no state change seen".to_owned()
        } else {
            states.join(", ")
        }
    );
    if !r.stages.is_empty() {
        let st: Vec<String> = r
            .stages
            .iter()
            .map(|s| format!("{} {}", s.name, clock(s.at)))
            .collect();
        text.push_str(&format!(" Stages: {}.", st.join(", ")));
    }
    if r.zero_windows.is_empty() {
        text.push_str(" A task was serving throughout.");
    } else {
        let w: Vec<String> = r
            .zero_windows
            .iter()
            .map(|w| {
                format!(
                    "{} to {} ({}{})",
                    clock(w.from),
                    clock(w.to),
                    length(w.from, w.to),
                    if w.open { ", still open" } else { "" }
                )
            })
            .collect();
        text.push_str(&format!(" No task serving: {}.", w.join("; ")));
    }
    let max = r.serving.iter().map(|p| p.1).max().unwrap_or(0);
    text.push_str(&format!(
        " At most {max} task(s) serving; {} task lane(s) shown",
        r.lanes.len()
    ));
    if r.hidden_lanes > 0 {
        text.push_str(&format!(" of {}", r.lanes.len() + r.hidden_lanes));
    }
    text.push('.');
    let failed = r.lanes.iter().filter(|l| l.failed).count();
    if failed > 0 {
        text.push_str(&format!(" {failed} of them stopped on a failure."));
    }
    if !r.alerts.is_empty() {
        text.push_str(&format!(" {} alert(s), listed below.", r.alerts.len()));
    }
    text
}
