//! One rollout: the facts ECS told us about a deployment, and the state they imply.
//!
//! A rollout's state is *derived* from facts (when it started, completed, failed,
//! first ran a task, began draining, passed its deadline; who rolled it back or
//! superseded it), never stepped by the arrival order of events. Facts only
//! accumulate, so a duplicate changes nothing and a reordered stream ends in the same
//! state: the order of arrival only decides which intermediate transitions are seen.
//!
//! This file holds the facts only; which state they imply is the deployment
//! strategy's call (`strategy`), so that a new strategy reads the same facts its own
//! way without touching this file.

use serde::{Deserialize, Serialize};

use crate::model::{
    DeploymentId, DeploymentStrategy, Millis, ServiceArn, ServiceConfig, Timestamp,
};

use super::native::NativeFacts;

/// The states of a rollout.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RolloutState {
    /// SERVICE_DEPLOYMENT_IN_PROGRESS seen.
    Started,
    /// A task of this deployment is RUNNING.
    TasksRunning,
    /// ECS is stopping the old tasks (it does so once new ones are healthy).
    Draining,
    /// Test or production traffic moving to the new revision (a linear or canary
    /// step included).
    Shifting,
    /// All production traffic on the new revision; ECS keeps the old one for the bake.
    Baking,
    /// A PAUSE lifecycle hook waits for `ContinueServiceDeployment`.
    Paused,
    /// In progress past the deadline; can still complete or fail.
    Stalled,
    /// SERVICE_DEPLOYMENT_COMPLETED.
    Completed,
    /// SERVICE_DEPLOYMENT_FAILED, no rollback (yet).
    Failed,
    /// Failed, and a rollback of it began.
    RolledBack,
    /// A newer deployment took over before this one finished: not a failure.
    Superseded,
}

impl RolloutState {
    /// No further progress is expected.
    pub const fn is_terminal(self) -> bool {
        matches!(
            self,
            Self::Completed | Self::Failed | Self::RolledBack | Self::Superseded
        )
    }

    /// The contract name.
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Started => "started",
            Self::TasksRunning => "tasks_running",
            Self::Draining => "draining",
            Self::Shifting => "shifting",
            Self::Baking => "baking",
            Self::Paused => "paused",
            Self::Stalled => "stalled",
            Self::Completed => "completed",
            Self::Failed => "failed",
            Self::RolledBack => "rolled_back",
            Self::Superseded => "superseded",
        }
    }
}

/// Effects already produced for a rollout, so each is produced once.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub(crate) struct Done(u16);

impl Done {
    pub(crate) const STARTED: u16 = 1;
    pub(crate) const FIRST_RUNNING: u16 = 1 << 1;
    pub(crate) const COMPLETED: u16 = 1 << 2;
    pub(crate) const FAILED: u16 = 1 << 3;
    pub(crate) const ROLLED_BACK: u16 = 1 << 4;
    pub(crate) const STALLED: u16 = 1 << 5;
    pub(crate) const STALL_RESOLVED: u16 = 1 << 6;
    pub(crate) const CONFIG_CHECKED: u16 = 1 << 7;

    /// Marks `flag`; true the first time.
    pub(crate) fn first(&mut self, flag: u16) -> bool {
        let first = self.0 & flag == 0;
        self.0 |= flag;
        first
    }
}

/// The deployment strategies the watcher follows (the seam in `strategy` maps each to
/// its rules). Stored only when not rolling, so the states of rolling services keep
/// their exact stored form.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub(crate) enum StrategyKind {
    /// ECS's rolling update (`deploymentConfiguration.strategy` ROLLING).
    #[default]
    Rolling,
    /// BLUE_GREEN.
    BlueGreen,
    /// LINEAR.
    Linear,
    /// CANARY.
    Canary,
}

impl StrategyKind {
    const fn is_rolling(&self) -> bool {
        matches!(self, Self::Rolling)
    }

    /// The strategy the service's configuration names, and the bake time its rollouts
    /// may spend beyond the stall deadline: the bake, plus each linear or canary step's
    /// own bake (a linear deployment bakes after every step but the last).
    pub(crate) fn of_config(config: Option<&ServiceConfig>) -> (Self, Option<Millis>) {
        let Some(c) = config else {
            return (Self::Rolling, None);
        };
        let kind = match c.strategy {
            Some(DeploymentStrategy::BlueGreen) => Self::BlueGreen,
            Some(DeploymentStrategy::Linear) => Self::Linear,
            Some(DeploymentStrategy::Canary) => Self::Canary,
            Some(DeploymentStrategy::Rolling) | None => return (Self::Rolling, None),
        };
        let bake = c.bake_time.unwrap_or_default().0;
        let steps = c.traffic_steps.map_or(0, |t| {
            let extra = match kind {
                Self::Linear if t.percent > 0.0 => {
                    let n = (100.0 / t.percent).ceil().clamp(1.0, 100.0) as i64;
                    n - 1
                }
                Self::Canary => 1,
                _ => 0,
            };
            t.step_bake.0.saturating_mul(extra)
        });
        (kind, Some(Millis(bake.saturating_add(steps))))
    }
}

/// "Rolling back to deploymentId X" seen in the IN_PROGRESS event of `by`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct RollbackFact {
    pub(crate) by: DeploymentId,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) to: Option<DeploymentId>,
    pub(crate) at: Timestamp,
}

/// A service's rollouts by deployment. Boxed: a B-tree allocates room for eleven
/// entries in its first node, a rollout's facts are about 300 bytes, and most services
/// hold one or two rollouts (a replay of thousands of services spent a quarter of its
/// memory on empty slots). The stored form is the same.
pub(crate) type Rollouts = std::collections::BTreeMap<DeploymentId, Box<Rollout>>;

/// The facts about one deployment of one service.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub(crate) struct Rollout {
    pub(crate) deployment: DeploymentId,
    /// `updatedAt` of SERVICE_DEPLOYMENT_IN_PROGRESS.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) started_at: Option<Timestamp>,
    /// First event time at which anything about it was seen.
    pub(crate) first_seen: Timestamp,
    /// It is a circuit-breaker rollback.
    #[serde(default)]
    pub(crate) is_rollback: bool,
    /// The deployment its reason says it rolls back to.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) rollback_to: Option<DeploymentId>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) completed_at: Option<Timestamp>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) failed_at: Option<Timestamp>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) failed_reason: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) draining_at: Option<Timestamp>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) stalled_at: Option<Timestamp>,
    /// The deadline span in force when it started.
    pub(crate) stall_after: Millis,
    /// Derived: the state as last reported (`None` before the first report).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) state: Option<RolloutState>,
    /// Derived: the rollback that rolled this one back, and when.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) rolled_back: Option<(DeploymentId, Timestamp)>,
    /// Derived: the deployment that superseded it, and when.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) superseded: Option<(DeploymentId, Timestamp)>,
    /// Derived: for a rollback, the deployment it rolls back.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) rollback_of: Option<DeploymentId>,
    #[serde(default)]
    pub(crate) done: Done,
    /// How ECS deploys it, which decides how its facts read (see `strategy`).
    #[serde(default, skip_serializing_if = "StrategyKind::is_rolling")]
    pub(crate) strategy: StrategyKind,
    /// The configured bake time (steps included) the deadline does not count; `None`
    /// when the configuration was not known: then the bakes seen are not counted.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) bake_allowance: Option<Millis>,
    /// Its service deployment's stages and hooks, once joined (see `native`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) native: Option<Box<NativeFacts>>,
}

impl Rollout {
    pub(crate) fn new(deployment: DeploymentId, seen: Timestamp, stall_after: Millis) -> Self {
        Self {
            deployment,
            started_at: None,
            first_seen: seen,
            is_rollback: false,
            rollback_to: None,
            completed_at: None,
            failed_at: None,
            failed_reason: None,
            draining_at: None,
            stalled_at: None,
            stall_after,
            state: None,
            rolled_back: None,
            superseded: None,
            rollback_of: None,
            done: Done::default(),
            strategy: StrategyKind::default(),
            bake_allowance: None,
            native: None,
        }
    }

    /// The service deployment's facts, once joined.
    pub(crate) fn native(&self) -> Option<&NativeFacts> {
        self.native.as_deref()
    }

    /// When ECS began rolling it back itself (blue/green and its kin roll back in
    /// place, with no rollback deployment of their own).
    pub(crate) fn native_rollback(&self) -> Option<Timestamp> {
        self.native().and_then(|n| n.rollback()).map(|r| r.0)
    }

    /// When it started, or when it was first seen.
    pub(crate) fn start(&self) -> Timestamp {
        self.started_at.unwrap_or(self.first_seen)
    }

    /// When it reached its terminal state, if it did.
    pub(crate) fn finished_at(&self) -> Option<Timestamp> {
        match self.state? {
            RolloutState::Completed => self.completed_at,
            RolloutState::Failed => self.failed_at,
            RolloutState::RolledBack => self
                .rolled_back
                .as_ref()
                .map(|r| r.1)
                .or(self.native_rollback()),
            RolloutState::Superseded => self.superseded.as_ref().map(|s| s.1),
            _ => None,
        }
    }
}

/// A rollout as reported: the CLI's `rollout` line and the history item in the store.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct RolloutSummary {
    /// The service.
    pub service: ServiceArn,
    /// The deployment.
    pub deployment_id: DeploymentId,
    /// The state.
    pub state: RolloutState,
    /// `updatedAt` of IN_PROGRESS, when seen.
    pub started_at: Option<Timestamp>,
    /// When it reached a terminal state.
    pub finished_at: Option<Timestamp>,
    /// `finished_at - started_at`, seconds.
    pub duration_s: Option<f64>,
    /// Time with no serving task during the rollout, seconds; meaningful only when
    /// [`RolloutSummary::downtime_known`] (see [`RolloutSummary::downtime`]).
    pub downtime_s: f64,
    /// False when the rollout's start was never seen: the watcher cannot tell how
    /// long nothing served during it, and says so rather than report 0.
    #[serde(default = "known", skip_serializing_if = "Clone::clone")]
    pub downtime_known: bool,
    /// `FAMILY:REVISION`, when a task of it was seen.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub task_definition: Option<String>,
    /// For a rollback: the deployment it rolls back.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rollback_of: Option<DeploymentId>,
    /// Health-check failures of its tasks.
    #[serde(default)]
    pub health_check_failures: u32,
    /// Tasks that failed to start.
    #[serde(default)]
    pub start_failures: u32,
    /// New tasks that reached RUNNING and then crashed.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub crashes: u32,
    /// Passed its deadline at some point.
    #[serde(default)]
    pub stalled: bool,
    /// When it first ran a task.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub first_running_at: Option<Timestamp>,
}

impl RolloutSummary {
    /// The downtime in seconds, when the watcher can know it.
    pub fn downtime(&self) -> Option<f64> {
        self.downtime_known.then_some(self.downtime_s)
    }
}

const fn known() -> bool {
    true
}

const fn is_zero(n: &u32) -> bool {
    *n == 0
}
