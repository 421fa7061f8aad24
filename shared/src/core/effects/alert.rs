//! Alerts: which condition, firing or resolved, and everything a person or a machine
//! needs to act on it. The names are the contract SNS filter policies rely on.

use serde::{Deserialize, Serialize};

use crate::model::{ContainerExit, DeploymentId, ServiceActionKind, ServiceArn, Timestamp};

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
    /// A serving task stopped on its own (container exit, OOM, health checks outside
    /// a rollout).
    TaskCrashed,
    /// At least N crashes of the service's tasks within a window.
    CrashLoop,
    /// A PAUSE lifecycle hook awaits `ContinueServiceDeployment`.
    DeploymentPaused,
    /// A lifecycle hook FAILED, or TIMED_OUT into ROLLBACK.
    LifecycleHookFailed,
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
    /// The service's desired count, when the alert depends on it (a zero-running
    /// page, and its close when the count went to 0).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub desired_count: Option<u32>,
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
    /// The lifecycle hook concerned (`hookId`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hook_id: Option<String>,
    /// The lifecycle stage concerned.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stage: Option<String>,
    /// The service deployment ARN (hooks and the Service Deployments API name it).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub service_deployment_arn: Option<String>,
    /// Deep link into the ECS console.
    pub console_url: String,
}

impl AlertName {
    /// Every alert, in the order of DESIGN.md's table.
    pub const ALL: [Self; 15] = [
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
        Self::DeploymentPaused,
        Self::LifecycleHookFailed,
        Self::TaskCrashed,
        Self::CrashLoop,
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
            Self::TaskCrashed => "task_crashed",
            Self::CrashLoop => "crash_loop",
            Self::DeploymentPaused => "deployment_paused",
            Self::LifecycleHookFailed => "lifecycle_hook_failed",
        }
    }
}

impl AlertName {
    /// The alert a service action raises. It is named here, not in the policy,
    /// because the state machine's dedup memory (persisted with the state) keys on it.
    pub(crate) const fn for_service_action(kind: ServiceActionKind) -> Self {
        match kind {
            ServiceActionKind::TaskStartImpaired => Self::TaskStartImpaired,
            ServiceActionKind::PlacementFailure | ServiceActionKind::ConfigurationFailure => {
                Self::TaskPlacementFailed
            }
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
