//! The history as data: one row per rollout, and per service and for all of them
//! the counts, rates, duration percentiles and downtime. Serialisable, so any
//! renderer (text, JSON Lines, the HTML page) takes the same [`History`].
//!
//! Rates count decided rollouts only (completed, failed, rolled back): a superseded
//! rollout was neither, and an open one is not decided yet. Rollback deployments
//! (ECS's own "rolling back to ...") are listed but not counted as rollouts of
//! their own: the rollout they undo already counts as rolled back.

use std::collections::BTreeMap;

use rollout_watcher::core::{RolloutState, RolloutSummary};
use rollout_watcher::model::{DeploymentId, ServiceArn, Timestamp};
use serde::Serialize;

/// One rollout.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Row {
    /// The service.
    pub service: ServiceArn,
    /// The deployment.
    pub deployment_id: DeploymentId,
    /// `FAMILY:REVISION`, when a task of it was seen.
    pub task_definition: Option<String>,
    /// The state (an open rollout's current one).
    pub state: RolloutState,
    /// Still in progress (read from the live state).
    pub open: bool,
    /// When it started.
    pub started_at: Option<Timestamp>,
    /// When it ended.
    pub finished_at: Option<Timestamp>,
    /// Seconds from start to end.
    pub duration_s: Option<f64>,
    /// Seconds with no task serving.
    pub downtime_s: f64,
    /// Health-check failures plus failed starts.
    pub failures: u32,
    /// For a rollback deployment: the rollout it undoes.
    pub rollback_of: Option<DeploymentId>,
    /// The summary the row was read from (the HTML page's numbers).
    #[serde(skip)]
    pub summary: RolloutSummary,
}

impl Row {
    /// A row of a summary.
    pub fn of(r: &RolloutSummary, open: bool) -> Self {
        Self {
            service: r.service.clone(),
            deployment_id: r.deployment_id.clone(),
            task_definition: r.task_definition.clone(),
            state: r.state,
            open,
            started_at: r.started_at,
            finished_at: r.finished_at,
            duration_s: r.duration_s,
            downtime_s: r.downtime_s,
            failures: r.health_check_failures + r.start_failures,
            rollback_of: r.rollback_of.clone(),
            summary: r.clone(),
        }
    }
}

/// Figures over a set of rollouts.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct Stats {
    /// The service (`None`: all of them).
    pub service: Option<ServiceArn>,
    /// Rollouts (rollback deployments not counted).
    pub rollouts: usize,
    /// Completed.
    pub completed: usize,
    /// Failed without a rollback.
    pub failed: usize,
    /// Rolled back.
    pub rolled_back: usize,
    /// Superseded.
    pub superseded: usize,
    /// Still open.
    pub open: usize,
    /// completed / decided, when any was decided.
    pub success_rate: Option<f64>,
    /// rolled back / decided.
    pub rollback_rate: Option<f64>,
    /// Median duration of the completed ones, seconds.
    pub p50_duration_s: Option<f64>,
    /// 90th percentile duration of the completed ones, seconds.
    pub p90_duration_s: Option<f64>,
    /// Downtime of every listed rollout, seconds.
    pub total_downtime_s: f64,
}

/// Nearest-rank percentile of sorted values.
fn percentile(sorted: &[f64], p: f64) -> Option<f64> {
    if sorted.is_empty() {
        return None;
    }
    let rank = (p / 100.0 * sorted.len() as f64).ceil() as usize;
    sorted.get(rank.clamp(1, sorted.len()) - 1).copied()
}

impl Stats {
    /// The figures of `rows`.
    pub fn of<'a>(service: Option<ServiceArn>, rows: impl IntoIterator<Item = &'a Row>) -> Self {
        let mut s = Self {
            service,
            ..Self::default()
        };
        let mut durations = Vec::new();
        for r in rows {
            s.total_downtime_s += r.downtime_s;
            if r.rollback_of.is_some() {
                continue;
            }
            s.rollouts += 1;
            match (r.open, r.state) {
                (true, _) => s.open += 1,
                (_, RolloutState::Completed) => {
                    s.completed += 1;
                    durations.extend(r.duration_s);
                }
                (_, RolloutState::Failed) => s.failed += 1,
                (_, RolloutState::RolledBack) => s.rolled_back += 1,
                (_, RolloutState::Superseded) => s.superseded += 1,
                _ => s.open += 1,
            }
        }
        let decided = s.completed + s.failed + s.rolled_back;
        if decided > 0 {
            s.success_rate = Some(s.completed as f64 / decided as f64);
            s.rollback_rate = Some(s.rolled_back as f64 / decided as f64);
        }
        durations.sort_by(f64::total_cmp);
        s.p50_duration_s = percentile(&durations, 50.0);
        s.p90_duration_s = percentile(&durations, 90.0);
        s
    }
}

/// Everything `history` shows.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct History {
    /// The window's start.
    pub since: Timestamp,
    /// When it was read.
    pub now: Timestamp,
    /// Rollouts, oldest first.
    pub rollouts: Vec<Row>,
    /// Per service, in ARN order.
    pub services: Vec<Stats>,
    /// All services together.
    pub all: Stats,
    /// Items of the table that could not be decoded, each naming its service and
    /// attribute: left out of the figures, said on stderr.
    pub unreadable: Vec<String>,
}

impl History {
    /// Rows (duplicates by service and deployment dropped, a finished row beating
    /// an open one) and their figures.
    pub fn new(since: Timestamp, now: Timestamp, rows: Vec<Row>) -> Self {
        let mut unique: BTreeMap<(ServiceArn, DeploymentId), Row> = BTreeMap::new();
        for r in rows {
            let key = (r.service.clone(), r.deployment_id.clone());
            if unique.get(&key).is_none_or(|have| have.open && !r.open) {
                unique.insert(key, r);
            }
        }
        let mut rollouts: Vec<Row> = unique.into_values().collect();
        rollouts.sort_by(|a, b| {
            (a.started_at.or(a.finished_at), &a.service, &a.deployment_id).cmp(&(
                b.started_at.or(b.finished_at),
                &b.service,
                &b.deployment_id,
            ))
        });
        let mut by_service: BTreeMap<&ServiceArn, Vec<&Row>> = BTreeMap::new();
        for r in &rollouts {
            by_service.entry(&r.service).or_default().push(r);
        }
        let services = by_service
            .into_iter()
            .map(|(s, rows)| Stats::of(Some(s.clone()), rows))
            .collect();
        let all = Stats::of(None, &rollouts);
        Self {
            since,
            now,
            rollouts,
            services,
            all,
            unreadable: Vec::new(),
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn row(id: &str, state: RolloutState, duration: f64, downtime: f64) -> Row {
        let summary = RolloutSummary {
            service: ServiceArn::parse("arn:aws:ecs:eu-west-1:123456789012:service/demo/web")
                .unwrap(),
            deployment_id: DeploymentId::parse(id).unwrap(),
            state,
            started_at: None,
            finished_at: None,
            duration_s: Some(duration),
            downtime_s: downtime,
            downtime_known: true,
            task_definition: None,
            rollback_of: None,
            health_check_failures: 0,
            start_failures: 0,
            crashes: 0,
            stalled: false,
            first_running_at: None,
        };
        Row::of(&summary, false)
    }

    /// Rates over decided rollouts, percentiles over completed ones (nearest rank),
    /// downtime over everything listed.
    #[test]
    fn figures_of_a_mixed_month() {
        let mut rows: Vec<Row> = (1..=8)
            .map(|i| {
                row(
                    &format!("ecs-svc/{i}"),
                    RolloutState::Completed,
                    f64::from(i) * 60.0,
                    0.0,
                )
            })
            .collect();
        rows.push(row("ecs-svc/9", RolloutState::RolledBack, 700.0, 12.0));
        rows.push(row("ecs-svc/10", RolloutState::Superseded, 30.0, 0.0));
        let mut undo = row("ecs-svc/11", RolloutState::Completed, 90.0, 3.0);
        undo.rollback_of = DeploymentId::parse("ecs-svc/9");
        rows.push(undo);
        let s = Stats::of(None, &rows);
        assert_eq!(
            (s.rollouts, s.completed, s.rolled_back, s.superseded),
            (10, 8, 1, 1)
        );
        assert_eq!(s.success_rate, Some(8.0 / 9.0));
        assert_eq!(s.rollback_rate, Some(1.0 / 9.0));
        assert_eq!(s.p50_duration_s, Some(240.0));
        assert_eq!(s.p90_duration_s, Some(480.0));
        assert_eq!(s.total_downtime_s, 15.0);
    }

    #[test]
    fn a_finished_row_replaces_the_open_one() {
        let mut open = row("ecs-svc/1", RolloutState::TasksRunning, 0.0, 0.0);
        open.open = true;
        let done = row("ecs-svc/1", RolloutState::Completed, 60.0, 0.0);
        let h = History::new(
            Timestamp::default(),
            Timestamp::default(),
            vec![open, done.clone()],
        );
        assert_eq!(h.rollouts, vec![done]);
    }
}
