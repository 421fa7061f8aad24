//! `history`'s text and JSON Lines, both from one [`History`].

use std::io::{self, Write};

use rollout_watcher::model::{Millis, task_definition_name};
use serde_json::json;

use super::stats::{History, Stats};

fn secs(s: Option<f64>) -> String {
    s.map_or_else(
        || "-".to_owned(),
        |s| Millis((s * 1000.0).round() as i64).human(),
    )
}

fn pct(r: Option<f64>) -> String {
    r.map_or_else(|| "-".to_owned(), |r| format!("{:.0}%", r * 100.0))
}

fn time(t: Option<rollout_watcher::model::Timestamp>) -> String {
    t.map_or_else(
        || "-".to_owned(),
        |t| {
            t.to_rfc3339()
                .chars()
                .take(16)
                .collect::<String>()
                .replace('T', " ")
        },
    )
}

fn stats_line(s: &Stats) -> String {
    format!(
        "{} rollouts: {} completed, {} rolled back, {} failed, {} superseded, {} open · success {} · rollback {} · p50 {} · p90 {} · downtime {}",
        s.rollouts,
        s.completed,
        s.rolled_back,
        s.failed,
        s.superseded,
        s.open,
        pct(s.success_rate),
        pct(s.rollback_rate),
        secs(s.p50_duration_s),
        secs(s.p90_duration_s),
        secs(Some(s.total_downtime_s)),
    )
}

/// A table of rollouts, then the figures per service and for all.
pub fn text(out: &mut impl Write, h: &History) -> io::Result<()> {
    writeln!(
        out,
        "rollouts since {} ({} listed)",
        time(Some(h.since)),
        h.rollouts.len()
    )?;
    writeln!(
        out,
        "{:<16} {:<24} {:<28} {:<20} {:<13} {:<16} {:>10} {:>9} {:>8}",
        "cluster",
        "service",
        "deployment",
        "task definition",
        "state",
        "started",
        "duration",
        "downtime",
        "failures"
    )?;
    for r in &h.rollouts {
        let state = if r.open {
            format!("{} (open)", r.state.as_str())
        } else {
            r.state.as_str().to_owned()
        };
        let kind = if r.rollback_of.is_some() { "↺ " } else { "" };
        writeln!(
            out,
            "{:<16} {:<24} {:<28} {:<20} {:<13} {:<16} {:>10} {:>9} {:>8}",
            r.service.cluster(),
            r.service.name(),
            format!("{kind}{}", r.deployment_id),
            r.task_definition
                .as_deref()
                .map_or("-", task_definition_name),
            state,
            time(r.started_at),
            secs(r.duration_s),
            secs(Some(r.downtime_s)),
            r.failures,
        )?;
    }
    writeln!(out)?;
    for s in &h.services {
        let name = s
            .service
            .as_ref()
            .map_or_else(String::new, |a| format!("{} ({})", a.name(), a.cluster()));
        writeln!(out, "{name}: {}", stats_line(s))?;
    }
    writeln!(out, "all services: {}", stats_line(&h.all))
}

/// JSON Lines: one `rollout` object per row, one `service_stats` per service, one
/// `all_stats` last.
pub fn json_lines(out: &mut impl Write, h: &History) -> io::Result<()> {
    for r in &h.rollouts {
        let mut v = json!(r);
        v["type"] = json!("history_rollout");
        writeln!(out, "{v}")?;
    }
    for s in &h.services {
        let mut v = json!(s);
        v["type"] = json!("service_stats");
        writeln!(out, "{v}")?;
    }
    let mut v = json!(h.all);
    v["type"] = json!("all_stats");
    writeln!(out, "{v}")
}
