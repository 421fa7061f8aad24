//! The page's input: plain data, services -> rollouts -> lanes, bands, alerts and
//! windows. `replay` fills it from a stream ([`super::build`]); `history` can fill it
//! from the watcher's table (summaries, no task lanes) and get the same page.
//!
//! Every number on the page comes from a rollout's [`RolloutSummary`], the same value
//! `--format json` prints as its `rollout` line, so the two can never disagree.

use rollout_watcher::core::{AlertStatus, RolloutState, RolloutSummary, Severity};
use rollout_watcher::model::Timestamp;

/// One page.
#[derive(Clone, Debug, Default)]
pub struct Page {
    /// The `<title>` and the top heading.
    pub title: String,
    /// A line under it (what was replayed, when).
    pub subtitle: Option<String>,
    /// One section each; the page orders them worst first.
    pub services: Vec<ServiceView>,
}

/// One service's section.
#[derive(Clone, Debug, Default)]
pub struct ServiceView {
    /// The section heading (the service and cluster, or a demo scenario's name).
    pub heading: String,
    /// The service name (the summary table's first column).
    pub name: String,
    /// The cluster name.
    pub cluster: String,
    /// A line under the heading (the demo's settings), when there is one.
    pub note: Option<String>,
    /// Its rollouts, oldest first.
    pub rollouts: Vec<RolloutView>,
    /// Alerts that belong to no rollout (a crash between rollouts, say).
    pub loose_alerts: Vec<AlertMark>,
}

/// One rollout's chart and text.
#[derive(Clone, Debug)]
pub struct RolloutView {
    /// The numbers: the summary `--format json` prints.
    pub summary: RolloutSummary,
    /// The chart's time axis, start to end.
    pub span: (Timestamp, Timestamp),
    /// The deployment's own states, in order, each with the instant it was entered.
    pub band: Vec<(RolloutState, Timestamp)>,
    /// Lifecycle stages of ECS-native strategies, in order (empty for rolling updates
    /// and until the watcher reports stages).
    pub stages: Vec<StageMark>,
    /// The alerts of this rollout, in order.
    pub alerts: Vec<AlertMark>,
    /// The task lanes shown (at most a cap, chosen by interest).
    pub lanes: Vec<Lane>,
    /// Tasks in the span not given a lane.
    pub hidden_lanes: usize,
    /// Serving tasks over time (all tasks in the span, not only those shown): a step
    /// function, each point the count from that instant on.
    pub serving: Vec<(Timestamp, u32)>,
    /// Every window with no serving task within the span.
    pub zero_windows: Vec<Window>,
}

/// A lifecycle stage newly known at an instant.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StageMark {
    /// `RECONCILE_SERVICE`, `PRODUCTION_TRAFFIC_SHIFT`, ... (an open set).
    pub name: String,
    /// When it became known.
    pub at: Timestamp,
}

/// One alert on the chart.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AlertMark {
    /// The contract name (`health_check_failed`).
    pub name: String,
    /// Its severity.
    pub severity: Severity,
    /// Firing or resolved.
    pub status: AlertStatus,
    /// When.
    pub at: Timestamp,
    /// The human summary.
    pub summary: String,
}

/// Which deployment a task belongs to, seen from the rollout drawn.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Role {
    /// Started by this rollout's deployment.
    New,
    /// Started by an earlier deployment: the tasks being replaced.
    Old,
    /// Started by the rollback of this deployment.
    Rollback,
    /// Started by a later deployment (one that superseded this one).
    Later,
}

impl Role {
    /// The lane label's word.
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::New => "new",
            Self::Old => "old",
            Self::Rollback => "rollback",
            Self::Later => "later",
        }
    }
}

/// One task's lane: the instants of its lifecycle, as ECS reported them.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Lane {
    /// The task id (end of the ARN).
    pub task_id: String,
    /// The deployment that started it (`startedBy`).
    pub deployment_id: Option<String>,
    /// Seen from the rollout drawn; `None` only where no rollout is known.
    pub role: Option<Role>,
    /// `FAMILY:REVISION`.
    pub task_definition: Option<String>,
    /// `createdAt`: pending from here.
    pub created_at: Option<Timestamp>,
    /// `startedAt`: serving from here.
    pub started_at: Option<Timestamp>,
    /// `stoppingAt` (or the first stop request): draining from here.
    pub stopping_at: Option<Timestamp>,
    /// `stoppedAt`: stopped from here.
    pub stopped_at: Option<Timestamp>,
    /// `stopCode`.
    pub stop_code: Option<String>,
    /// `stoppedReason`, with exit codes appended where a container exited.
    pub stop_reason: Option<String>,
    /// The stop was a failure (health checks, failed start, a crash), not a
    /// deployment's own scale-down.
    pub failed: bool,
}

/// A span with no serving task.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Window {
    /// The last task stopped serving.
    pub from: Timestamp,
    /// A task served again (or the span ended, see `open`).
    pub to: Timestamp,
    /// Still open when the stream ended.
    pub open: bool,
}

/// How bad a rollout went, for ordering: higher is worse.
pub(super) fn badness(r: &RolloutSummary) -> (u8, i64, u32) {
    let rank = match r.state {
        RolloutState::RolledBack | RolloutState::Failed => 5,
        RolloutState::Stalled => 4,
        _ if r.downtime_s > 0.0 => 3,
        RolloutState::Completed if r.stalled => 2,
        RolloutState::Completed => 0,
        // In progress or superseded: worth a look, never a failure.
        _ => 1,
    };
    (
        rank,
        (r.downtime_s * 1000.0).round() as i64,
        r.health_check_failures + r.start_failures,
    )
}

impl ServiceView {
    /// The worst of its rollouts (see [`badness`]).
    pub fn worst(&self) -> (u8, i64, u32) {
        self.rollouts
            .iter()
            .map(|r| badness(&r.summary))
            .max()
            .unwrap_or_default()
    }

    /// Downtime over all its rollouts, seconds (each from its summary).
    pub fn downtime_s(&self) -> f64 {
        self.rollouts.iter().map(|r| r.summary.downtime_s).sum()
    }

    /// Failed tasks over all its rollouts (health checks and failed starts).
    pub fn failures(&self) -> u32 {
        self.rollouts
            .iter()
            .map(|r| r.summary.health_check_failures + r.summary.start_failures)
            .sum()
    }
}
