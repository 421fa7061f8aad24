//! The port `wait` reads ECS through, and the plain views it reads.
//!
//! Why a port: the poll loop (and the state machine behind it) is tested with a
//! scripted source and a fake clock, while the real adapter (`ecs.rs`) maps the
//! aws-sdk-ecs types into these views and nothing else. Only read calls sit behind
//! it: `wait` never changes a deployment (see docs/wait.md for the IAM actions).

use std::future::Future;

pub use rollout_watcher::model::{BriefView, HookView, ServiceDeploymentView};
use rollout_watcher::model::{DeploymentId, ServiceArn, TaskObservation, Timestamp};
use thiserror::Error;

/// What `DescribeServices` says of the service.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct ServiceView {
    /// The service ARN.
    pub arn: Option<ServiceArn>,
    /// `ACTIVE`, `DRAINING` or `INACTIVE`.
    pub status: String,
    /// `desiredCount`.
    pub desired: u32,
    /// `runningCount`.
    pub running: u32,
    /// `deployments[]`, as ECS lists them (PRIMARY first).
    pub deployments: Vec<DeploymentView>,
    /// `events[]`, newest first as ECS lists them.
    pub events: Vec<ServiceEventView>,
    /// `deploymentConfiguration.deploymentCircuitBreaker.enable`.
    pub circuit_breaker: Option<bool>,
    /// `deploymentConfiguration.deploymentCircuitBreaker.rollback`.
    pub rollback: Option<bool>,
    /// `deploymentConfiguration.minimumHealthyPercent`.
    pub min_healthy_percent: Option<u32>,
    /// `deploymentConfiguration.maximumPercent`.
    pub max_percent: Option<u32>,
}

/// One of `services[].deployments[]`.
#[derive(Clone, Debug, PartialEq)]
pub struct DeploymentView {
    /// `id` (`ecs-svc/<digits>`).
    pub id: DeploymentId,
    /// `PRIMARY`, `ACTIVE`, `INACTIVE` (an open set).
    pub status: String,
    /// `rolloutState`: `IN_PROGRESS`, `COMPLETED`, `FAILED`.
    pub rollout_state: Option<String>,
    /// `rolloutStateReason`.
    pub reason: Option<String>,
    /// `taskDefinition`.
    pub task_definition: Option<String>,
    /// `runningCount`.
    pub running: u32,
    /// `failedTasks`.
    pub failed_tasks: u32,
    /// `createdAt`.
    pub created_at: Option<Timestamp>,
    /// `updatedAt`.
    pub updated_at: Option<Timestamp>,
}

/// One of `services[].events[]`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ServiceEventView {
    /// `id`.
    pub id: String,
    /// `createdAt`.
    pub at: Option<Timestamp>,
    /// `message`.
    pub message: String,
}

/// Why a read failed.
#[derive(Debug, Error)]
pub enum SourceError {
    /// The cluster does not exist (ClusterNotFoundException).
    #[error("--cluster: no cluster {0}")]
    NoCluster(String),
    /// The service does not exist in the cluster, or is no longer active.
    #[error("--service: no service {service} in cluster {cluster}{why}")]
    NoService {
        /// The service asked for.
        service: String,
        /// The cluster.
        cluster: String,
        /// What ECS said (`: MISSING`, `: INACTIVE`).
        why: String,
    },
    /// ECS throttled the call: back off and ask again.
    #[error("{operation}: throttled by ECS")]
    Throttled {
        /// The API operation.
        operation: &'static str,
    },
    /// The caller may not make this call (only the Service Deployments API calls
    /// are optional: without them stages and pauses are unknown).
    #[error("{operation}: access denied")]
    Denied {
        /// The API operation.
        operation: &'static str,
        /// The SDK error.
        #[source]
        source: Box<dyn std::error::Error + Send + Sync + 'static>,
    },
    /// Any other failure (credentials, network, an unexpected reply).
    #[error("{operation} failed")]
    Call {
        /// The API operation.
        operation: &'static str,
        /// The SDK error.
        #[source]
        source: Box<dyn std::error::Error + Send + Sync + 'static>,
    },
}

/// The ECS reads `wait` makes. Futures are `Send` so the real adapter can run on
/// any runtime; the fakes in the unit tests answer at once.
pub trait EcsSource {
    /// `DescribeServices` of one service.
    fn service(
        &self,
        cluster: &str,
        service: &str,
    ) -> impl Future<Output = Result<ServiceView, SourceError>> + Send;

    /// `ListServiceDeployments` created after `after`.
    fn service_deployments(
        &self,
        cluster: &str,
        service: &str,
        after: Option<Timestamp>,
    ) -> impl Future<Output = Result<Vec<BriefView>, SourceError>> + Send;

    /// `DescribeServiceDeployments` of one ARN (`None` when ECS does not know it).
    fn service_deployment(
        &self,
        arn: &str,
    ) -> impl Future<Output = Result<Option<ServiceDeploymentView>, SourceError>> + Send;

    /// `ListTasks` (desired RUNNING, then STOPPED) and `DescribeTasks` of the
    /// service: at most `limit` tasks of each.
    fn tasks(
        &self,
        cluster: &str,
        service: &str,
        limit: usize,
    ) -> impl Future<Output = Result<Vec<TaskObservation>, SourceError>> + Send;
}
