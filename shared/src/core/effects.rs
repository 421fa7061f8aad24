//! What the state machine asks the outside world to do: record a transition, send an
//! alert, emit a metric. One enum, one-to-one with the CLI's JSON lines, so that the
//! local replay and the deployed functions report exactly the same things.

use serde::{Deserialize, Serialize};

use crate::model::{ContainerExit, DeploymentId, ServiceArn, Timestamp};

use super::rollout::{RolloutState, RolloutSummary};

/// One effect of applying an input.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Effect {
    /// A rollout moved to another state.
    Transition(Transition),
    /// An alert fired or resolved.
    Alert(Box<Alert>),
    /// A metric data point.
    Metric(Metric),
}

/// A rollout state change.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Transition {
    /// The service.
    pub service: ServiceArn,
    /// The rollout's deployment.
    pub deployment_id: DeploymentId,
    /// The previous state (`None` for a new rollout).
    pub from: Option<RolloutState>,
    /// The new state.
    pub to: RolloutState,
    /// Event time of the change.
    pub at: Timestamp,
}

/// Alert names: the contract that SNS filter policies and checks rely on.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AlertName {
    /// A rollout started.
    DeploymentStarted,
    /// A rollout completed.
    DeploymentCompleted,
    /// SERVICE_DEPLOYMENT_FAILED.
    DeploymentFailed,
    /// A rollback of this deployment began.
    DeploymentRolledBack,
    /// A task was stopped for failing ELB or container health checks.
    HealthCheckFailed,
    /// A task stopped before it ever ran.
    TaskFailedToStart,
    /// SERVICE_TASK_START_IMPAIRED.
    TaskStartImpaired,
    /// SERVICE_TASK_PLACEMENT_FAILURE / SERVICE_TASK_CONFIGURATION_FAILURE.
    TaskPlacementFailed,
    /// No task serving while the service should run one.
    ZeroRunningTasks,
    /// In progress past the deadline.
    DeploymentStalled,
    /// The service's settings cannot keep a task serving during a rollout.
    UnsafeDeploymentConfig,
}

/// How loud an alert is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Severity {
    /// For the record.
    Info,
    /// Someone should look.
    Warning,
    /// Someone must act now.
    Critical,
}

/// Firing or resolved.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AlertStatus {
    /// The condition began.
    Firing,
    /// The condition ended.
    Resolved,
}

/// One alert, with everything a person or a machine needs to act on it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Alert {
    /// Which alert.
    pub alert: AlertName,
    /// Firing or resolved.
    pub status: AlertStatus,
    /// Severity.
    pub severity: Severity,
    /// The service ARN.
    pub service: ServiceArn,
    /// The cluster name.
    pub cluster: String,
    /// The service name.
    pub service_name: String,
    /// The rollout, when the alert belongs to one.
    pub deployment_id: Option<DeploymentId>,
    /// Event time.
    pub at: Timestamp,
    /// One line for a subject or a chat title.
    pub title: String,
    /// The human summary.
    pub summary: String,
    /// Deterministic: the same condition always gives the same key, so a replayed or
    /// duplicated event never sends a second alert.
    pub dedup_key: String,
    /// Structured details.
    pub details: AlertDetails,
}

/// Structured alert details (all optional).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct AlertDetails {
    /// `FAMILY:REVISION` of the rollout's task definition.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub task_definition: Option<String>,
    /// The task concerned.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub task_arn: Option<String>,
    /// ECS's stoppedReason.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stop_reason: Option<String>,
    /// ECS's stopCode.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stop_code: Option<String>,
    /// Containers that exited, with codes.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub exits: Vec<ContainerExit>,
    /// Health-check failures so far in this rollout.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub failures: Option<u32>,
    /// The circuit breaker's failure threshold.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub threshold: Option<u32>,
    /// Rollout duration, seconds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub duration_s: Option<f64>,
    /// Time with no serving task, seconds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub downtime_s: Option<f64>,
    /// For a rollback: the deployment it rolls back.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rollback_of: Option<DeploymentId>,
    /// The deployment that rolled this one back, or the rollback's target.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rolled_back_by: Option<DeploymentId>,
    /// ECS's reason text (deployment or service action).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// Findings of the configuration check.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub findings: Vec<String>,
    /// Deep link into the ECS console.
    pub console_url: String,
}

/// Metric names (namespace `RolloutWatcher` by default).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum MetricName {
    /// A rollout started.
    DeploymentStarted,
    /// A rollout completed.
    DeploymentSucceeded,
    /// A rollout failed.
    DeploymentFailed,
    /// A rollout was rolled back.
    DeploymentRolledBack,
    /// A rollout passed its deadline.
    DeploymentStalled,
    /// Seconds from start to completion.
    DeploymentDuration,
    /// Seconds from start to the first RUNNING task of the rollout.
    TimeToFirstRunningTask,
    /// Seconds with no serving task.
    ZeroTaskDowntime,
    /// Tasks stopped for failed health checks.
    HealthCheckFailures,
    /// Tasks that failed to start.
    TaskStartFailures,
    /// Serving tasks (a gauge on every change).
    RunningTaskCount,
    /// Alerts published (the watcher's own health).
    AlertsPublished,
    /// Alert publishes that failed.
    AlertPublishFailures,
    /// Events rejected as malformed.
    EventsRejected,
}

impl MetricName {
    /// Every metric, in the order of DESIGN.md's table.
    pub const ALL: [Self; 14] = [
        Self::DeploymentStarted,
        Self::DeploymentSucceeded,
        Self::DeploymentFailed,
        Self::DeploymentRolledBack,
        Self::DeploymentStalled,
        Self::DeploymentDuration,
        Self::TimeToFirstRunningTask,
        Self::ZeroTaskDowntime,
        Self::HealthCheckFailures,
        Self::TaskStartFailures,
        Self::RunningTaskCount,
        Self::AlertsPublished,
        Self::AlertPublishFailures,
        Self::EventsRejected,
    ];

    /// The CloudWatch metric name.
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::DeploymentStarted => "DeploymentStarted",
            Self::DeploymentSucceeded => "DeploymentSucceeded",
            Self::DeploymentFailed => "DeploymentFailed",
            Self::DeploymentRolledBack => "DeploymentRolledBack",
            Self::DeploymentStalled => "DeploymentStalled",
            Self::DeploymentDuration => "DeploymentDuration",
            Self::TimeToFirstRunningTask => "TimeToFirstRunningTask",
            Self::ZeroTaskDowntime => "ZeroTaskDowntime",
            Self::HealthCheckFailures => "HealthCheckFailures",
            Self::TaskStartFailures => "TaskStartFailures",
            Self::RunningTaskCount => "RunningTaskCount",
            Self::AlertsPublished => "AlertsPublished",
            Self::AlertPublishFailures => "AlertPublishFailures",
            Self::EventsRejected => "EventsRejected",
        }
    }

    /// The CloudWatch unit.
    pub const fn unit(self) -> Unit {
        match self {
            Self::DeploymentDuration | Self::TimeToFirstRunningTask | Self::ZeroTaskDowntime => {
                Unit::Seconds
            }
            _ => Unit::Count,
        }
    }

    /// Whether the metric carries `ClusterName`/`ServiceName` (the watcher's own
    /// health metrics do not).
    pub const fn per_service(self) -> bool {
        !matches!(
            self,
            Self::AlertsPublished | Self::AlertPublishFailures | Self::EventsRejected
        )
    }
}

/// CloudWatch units used.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Unit {
    /// Count.
    Count,
    /// Seconds.
    Seconds,
}

impl Unit {
    /// The CloudWatch unit name.
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Count => "Count",
            Self::Seconds => "Seconds",
        }
    }
}

/// Metric dimensions: never a deployment or task id (unbounded cardinality).
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Dimensions {
    /// `ClusterName`.
    #[serde(rename = "ClusterName")]
    pub cluster_name: String,
    /// `ServiceName`.
    #[serde(rename = "ServiceName")]
    pub service_name: String,
}

/// One metric data point.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Metric {
    /// The metric.
    pub name: MetricName,
    /// The value.
    pub value: f64,
    /// The unit.
    pub unit: Unit,
    /// `None` only for the watcher's own health metrics.
    pub dimensions: Option<Dimensions>,
    /// Event time of the data point.
    pub at: Timestamp,
    /// Deterministic key, so the outbox never sends a data point twice.
    pub dedup_key: String,
}

/// Everything one call into the state machine produced.
#[derive(Clone, Debug, Default, PartialEq)]
#[must_use = "effects must be recorded in the outbox and delivered"]
pub struct Effects {
    /// Transitions, alerts and metrics, in order.
    pub items: Vec<Effect>,
    /// Rollouts whose state changed, as they stand after the change.
    pub rollouts: Vec<RolloutSummary>,
    /// The input changed nothing (a duplicate or an older version).
    pub duplicate: bool,
}

impl Effects {
    /// The alerts among the effects.
    pub fn alerts(&self) -> impl Iterator<Item = &Alert> {
        self.items.iter().filter_map(|e| match e {
            Effect::Alert(a) => Some(a.as_ref()),
            _ => None,
        })
    }

    /// The metrics among the effects.
    pub fn metrics(&self) -> impl Iterator<Item = &Metric> {
        self.items.iter().filter_map(|e| match e {
            Effect::Metric(m) => Some(m),
            _ => None,
        })
    }

    /// Appends another batch.
    pub fn extend(&mut self, other: Self) {
        self.items.extend(other.items);
        for r in other.rollouts {
            self.rollouts.retain(|x| x.deployment_id != r.deployment_id);
            self.rollouts.push(r);
        }
        self.duplicate &= other.duplicate;
    }
}

impl AlertName {
    /// Every alert, in the order of DESIGN.md's table.
    pub const ALL: [Self; 11] = [
        Self::DeploymentStarted,
        Self::DeploymentCompleted,
        Self::DeploymentFailed,
        Self::DeploymentRolledBack,
        Self::HealthCheckFailed,
        Self::TaskFailedToStart,
        Self::TaskStartImpaired,
        Self::TaskPlacementFailed,
        Self::ZeroRunningTasks,
        Self::DeploymentStalled,
        Self::UnsafeDeploymentConfig,
    ];

    /// The contract name.
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::DeploymentStarted => "deployment_started",
            Self::DeploymentCompleted => "deployment_completed",
            Self::DeploymentFailed => "deployment_failed",
            Self::DeploymentRolledBack => "deployment_rolled_back",
            Self::HealthCheckFailed => "health_check_failed",
            Self::TaskFailedToStart => "task_failed_to_start",
            Self::TaskStartImpaired => "task_start_impaired",
            Self::TaskPlacementFailed => "task_placement_failed",
            Self::ZeroRunningTasks => "zero_running_tasks",
            Self::DeploymentStalled => "deployment_stalled",
            Self::UnsafeDeploymentConfig => "unsafe_deployment_config",
        }
    }

    /// The severity DESIGN.md gives it.
    pub const fn severity(self) -> Severity {
        match self {
            Self::DeploymentStarted | Self::DeploymentCompleted => Severity::Info,
            Self::HealthCheckFailed
            | Self::TaskFailedToStart
            | Self::DeploymentStalled
            | Self::UnsafeDeploymentConfig => Severity::Warning,
            Self::DeploymentFailed
            | Self::DeploymentRolledBack
            | Self::TaskStartImpaired
            | Self::TaskPlacementFailed
            | Self::ZeroRunningTasks => Severity::Critical,
        }
    }
}

impl Severity {
    /// The lower-case name used in message attributes.
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Info => "info",
            Self::Warning => "warning",
            Self::Critical => "critical",
        }
    }
}

impl AlertStatus {
    /// `firing` or `resolved`.
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Firing => "firing",
            Self::Resolved => "resolved",
        }
    }
}
