//! What the state machine consumes: one usable event (or API reading) for one
//! service, reduced to the facts the core reads. How an event becomes one is in
//! `interpret`.

use super::hook::HookChange;
use super::ids::{DeploymentId, ServiceArn};
use super::service_deployment::ServiceDeploymentView;
use super::timestamp::Timestamp;

/// One usable event for one service.
#[derive(Clone, Debug, PartialEq)]
pub struct Input {
    /// The service it belongs to.
    pub service: ServiceArn,
    /// The EventBridge event id, when present.
    pub event_id: Option<String>,
    /// Event time: the envelope `time`, refined by the detail's own `updatedAt` when
    /// that falls within the envelope's second (see [`event_time`]), else the detail's
    /// timestamp. This is what advances the service's clock (deadlines, grace periods).
    pub time: Timestamp,
    /// What happened.
    pub kind: InputKind,
}

/// What happened.
#[derive(Clone, Debug, PartialEq)]
pub enum InputKind {
    /// A deployment changed state.
    Deployment(DeploymentChange),
    /// A service action the watcher acts on.
    ServiceAction(ServiceAction),
    /// A task changed state.
    Task(Box<TaskObservation>),
    /// A lifecycle hook changed state (`ECS Hook State Change`).
    Hook(Box<HookChange>),
    /// One reading of the Service Deployments API (`wait`, the handler, the sweeper):
    /// the same facts as hook and deployment events, polled.
    ServiceDeployment(Box<ServiceDeploymentView>),
}

impl Input {
    /// One reading of `DescribeServiceDeployments` for `service`, taken at `read_at`
    /// (the caller's clock: it stamps the facts the reading carries no time for).
    pub fn service_deployment(
        service: ServiceArn,
        view: ServiceDeploymentView,
        read_at: Timestamp,
    ) -> Self {
        Self {
            service,
            event_id: None,
            time: read_at,
            kind: InputKind::ServiceDeployment(Box::new(view)),
        }
    }
}

/// `SERVICE_DEPLOYMENT_*`.
#[derive(Clone, Debug, PartialEq)]
pub struct DeploymentChange {
    /// The deployment.
    pub deployment: DeploymentId,
    /// Its new phase.
    pub phase: DeploymentPhase,
    /// `updatedAt`, else the envelope time.
    pub at: Timestamp,
    /// The reason text.
    pub reason: Option<String>,
    /// Set when the reason says "rolling back to deploymentId X"; the inner value is X
    /// when the text names a real id.
    pub rollback_to: Option<Option<DeploymentId>>,
}

/// The deployment phases ECS reports.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DeploymentPhase {
    /// SERVICE_DEPLOYMENT_IN_PROGRESS.
    InProgress,
    /// SERVICE_DEPLOYMENT_COMPLETED.
    Completed,
    /// SERVICE_DEPLOYMENT_FAILED.
    Failed,
}

/// The service actions that become alerts.
#[derive(Clone, Debug, PartialEq)]
pub struct ServiceAction {
    /// Which one.
    pub kind: ServiceActionKind,
    /// `createdAt`, else the envelope time.
    pub at: Timestamp,
    /// The reason text (`RESOURCE:CPU`, …).
    pub reason: Option<String>,
}

/// Service actions the watcher acts on.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ServiceActionKind {
    /// SERVICE_TASK_START_IMPAIRED.
    TaskStartImpaired,
    /// SERVICE_TASK_PLACEMENT_FAILURE.
    PlacementFailure,
    /// SERVICE_TASK_CONFIGURATION_FAILURE.
    ConfigurationFailure,
}

/// A task event, reduced to what the core reads.
#[derive(Clone, Debug, PartialEq, Default)]
pub struct TaskObservation {
    /// The task id (end of the ARN).
    pub task_id: String,
    /// The task ARN.
    pub task_arn: String,
    /// The deployment that started it (`startedBy`).
    pub deployment: Option<DeploymentId>,
    /// `detail.version`; 0 when absent, then the status order decides.
    pub version: u64,
    /// `lastStatus`.
    pub last_status: TaskStatus,
    /// `desiredStatus` is STOPPED: ECS asked the task to stop.
    pub stop_requested: bool,
    /// `createdAt`.
    pub created_at: Option<Timestamp>,
    /// `startedAt`: the task reached RUNNING.
    pub started_at: Option<Timestamp>,
    /// `stoppingAt`: when ECS asked it to stop.
    pub stopping_at: Option<Timestamp>,
    /// `stoppedAt`.
    pub stopped_at: Option<Timestamp>,
    /// `stopCode`.
    pub stop_code: Option<String>,
    /// `stoppedReason`.
    pub stopped_reason: Option<String>,
    /// `taskDefinitionArn`.
    pub task_definition: Option<String>,
    /// Stopped containers with their exit codes and reasons.
    pub exits: Vec<ContainerExit>,
}

/// A container that stopped.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct ContainerExit {
    /// Container name.
    pub name: String,
    /// Exit code, when known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub exit_code: Option<i64>,
    /// Reason, when given.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

/// `lastStatus`, in lifecycle order (the order breaks ties when `version` is absent).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Default)]
pub enum TaskStatus {
    /// PROVISIONING, PENDING, ACTIVATING or an unknown status.
    #[default]
    Pending,
    /// RUNNING.
    Running,
    /// DEACTIVATING, STOPPING, DEPROVISIONING.
    Stopping,
    /// STOPPED (or DELETED).
    Stopped,
}

/// Why an event is accepted but not acted on.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Ignored {
    /// A detail-type the watcher does not follow.
    DetailType(String),
    /// An event name it does not act on (steady state, rebalancing, …).
    EventName(String),
    /// A task the watcher cannot attribute to a service: a standalone task (`group`
    /// is `family:…`), or one with no `group` at all (ECS sent none before 2017, and
    /// AWS's own Spot examples trim it), whose service nothing in the event names.
    NotAServiceTask,
    /// `source` is not `aws.ecs`.
    Source(String),
}

/// The result of interpreting an event.
#[derive(Clone, Debug, PartialEq)]
pub enum Interpreted {
    /// Feed it to the state machine.
    Use(Input),
    /// Accept and count it, nothing more.
    Ignore(Ignored),
}
