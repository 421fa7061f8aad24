//! Metric data points: names, units and dimensions as CloudWatch receives them.

use serde::{Deserialize, Serialize};

use crate::model::Timestamp;

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
    /// Serving tasks that crashed.
    TaskCrashes,
    /// Lifecycle hooks that failed (or timed out into ROLLBACK).
    LifecycleHookFailures,
    /// Seconds a deployment spent paused on a PAUSE hook (when the pause ends).
    DeploymentPausedTime,
    /// Alerts published (the watcher's own health).
    AlertsPublished,
    /// Alert publishes that failed.
    AlertPublishFailures,
    /// Events rejected as malformed.
    EventsRejected,
}

impl MetricName {
    /// Every metric, in the order of DESIGN.md's table.
    pub const ALL: [Self; 17] = [
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
        Self::TaskCrashes,
        Self::LifecycleHookFailures,
        Self::DeploymentPausedTime,
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
            Self::TaskCrashes => "TaskCrashes",
            Self::LifecycleHookFailures => "LifecycleHookFailures",
            Self::DeploymentPausedTime => "DeploymentPausedTime",
            Self::AlertsPublished => "AlertsPublished",
            Self::AlertPublishFailures => "AlertPublishFailures",
            Self::EventsRejected => "EventsRejected",
        }
    }

    /// The CloudWatch unit.
    pub const fn unit(self) -> Unit {
        match self {
            Self::DeploymentDuration
            | Self::TimeToFirstRunningTask
            | Self::ZeroTaskDowntime
            | Self::DeploymentPausedTime => Unit::Seconds,
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
