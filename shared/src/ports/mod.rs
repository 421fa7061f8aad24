//! Ports: the traits behind which every AWS call sits.
//!
//! Why the boundary: the delivery logic (load, apply, conditional write, publish, mark
//! sent) is the part that must never lose or double an alert, so it has to be tested
//! with failures injected at will: a conflict on the third write, SNS down for half a
//! stream, two invocations racing. Behind these traits the same code runs against
//! DynamoDB/SNS/CloudWatch/ECS in Lambda, against the in-memory and recording
//! adapters in unit tests, and against the emulator in the integration tests.
//!
//! Every port is `Send + Sync` (one instance serves every invocation of a Lambda
//! sandbox) and async through `async_trait` (object-safe, so tests can mix fakes).

mod errors;
mod history;

use async_trait::async_trait;

use crate::core::{Alert, Metric, RolloutSummary, ServiceConfig};
use crate::model::{
    BriefView, Millis, ServiceArn, ServiceDeploymentView, TaskObservation, Timestamp,
};
use crate::record::ServiceRecord;

pub use errors::{InspectError, MetricsError, NotifyError, Source, StoreError};
pub use history::{HistoryRead, HistoryReader};

/// One conditional write of a service's live item (plus its finished rollouts).
#[derive(Clone, Copy, Debug)]
pub struct SaveRequest<'a> {
    /// The record to store; its `revision` is the new one.
    pub record: &'a ServiceRecord,
    /// The revision the stored item must still have (0: it must not exist yet).
    pub expected: u64,
    /// When the sweeper should next look at this service (`None`: nothing is due,
    /// the item leaves the sparse index).
    pub due_at: Option<Timestamp>,
    /// Rollouts that reached a terminal state in this write: stored as history items.
    pub finished: &'a [RolloutSummary],
}

/// Where service state lives (DynamoDB in Lambda, a map in the CLI and tests).
#[async_trait]
pub trait StateStore: Send + Sync {
    /// The live record of a service, if it was ever written.
    async fn load(&self, service: &ServiceArn) -> Result<Option<ServiceRecord>, StoreError>;

    /// Writes the record if the stored revision is still `expected`; otherwise
    /// [`StoreError::Conflict`] and nothing is written.
    async fn save(&self, request: SaveRequest<'_>) -> Result<(), StoreError>;

    /// Several services' writes, each conditional on its own `expected` as in
    /// [`Self::save`], answered one result per request in order: a conflict or a
    /// failure of one leaves the others' results as they are. Why a port of its own:
    /// a queued batch writes up to ten services at once, and what a write costs the
    /// function is mostly the call, not the item; a store that can carry several
    /// conditional writes in one call does so. This default writes them one by one.
    async fn save_many(&self, requests: &[SaveRequest<'_>]) -> Vec<Result<(), StoreError>> {
        let mut out = Vec::with_capacity(requests.len());
        for request in requests {
            out.push(self.save(*request).await);
        }
        out
    }

    /// Finished rollouts of a service, oldest first (those not yet expired).
    async fn history(&self, service: &ServiceArn) -> Result<Vec<RolloutSummary>, StoreError>;

    /// Services due at or before `until`, earliest first, at most `limit`
    /// (the sweeper's work list: a query on the sparse index, never a scan).
    async fn due(&self, until: Timestamp, limit: usize) -> Result<Vec<ServiceArn>, StoreError>;
}

/// Where alerts go (one SNS publish per alert).
#[async_trait]
pub trait Notifier: Send + Sync {
    /// Publishes one alert.
    async fn publish(&self, alert: &Alert) -> Result<(), NotifyError>;
}

/// Where metric data points go (EMF on stdout, or PutMetricData).
#[async_trait]
pub trait MetricsSink: Send + Sync {
    /// Sends data points, in as few calls as the backend allows.
    async fn send(&self, metrics: &[Metric]) -> Result<(), MetricsError>;

    /// Whether a send is a line in the invocation's own log (EMF), not a call
    /// that can fail and be retried. Such data points skip the outbox: they are
    /// written right after the state write that produced them succeeds, which makes
    /// them exactly-once (no write to mark them sent, no window in which a crash
    /// sends them twice) and saves that write. A call such as PutMetricData goes
    /// through the outbox like an alert.
    fn writes_to_log(&self) -> bool {
        false
    }
}

/// What ECS says about a service right now (DescribeServices with tags).
#[derive(Clone, Debug, PartialEq)]
pub struct ServiceView {
    /// Deployment settings and per-service overrides.
    pub config: ServiceConfig,
    /// `desiredCount`.
    pub desired: u32,
    /// `runningCount`.
    pub running: u32,
    /// The deployments ECS still lists (PRIMARY, ACTIVE).
    pub deployments: Vec<DeploymentView>,
}

/// One entry of `services[].deployments[]`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DeploymentView {
    /// `ecs-svc/…`.
    pub id: String,
    /// `PRIMARY`, `ACTIVE`, …
    pub status: Option<String>,
    /// `IN_PROGRESS`, `COMPLETED`, `FAILED`.
    pub rollout_state: Option<String>,
    /// `rolloutStateReason`.
    pub reason: Option<String>,
    /// `updatedAt`.
    pub updated_at: Option<Timestamp>,
}

/// ECS look-ups: configuration, counts, the tasks of a service seen first, and what
/// the Service Deployments API says where events cannot tell (ECS-native strategies).
#[async_trait]
pub trait ServiceInspector: Send + Sync {
    /// DescribeServices (with tags) for one service; `None` when ECS does not know it.
    async fn describe(&self, service: &ServiceArn) -> Result<Option<ServiceView>, InspectError>;

    /// The service's running tasks as task observations (ListTasks + DescribeTasks),
    /// to seed the task set of a service the watcher has never seen.
    async fn running_tasks(
        &self,
        service: &ServiceArn,
    ) -> Result<Vec<TaskObservation>, InspectError>;

    /// DescribeServices for many services (the sweeper): the ECS adapter batches
    /// them by cluster, 10 per call. One entry per service asked, in order; `None`
    /// for a service ECS does not know or is deleting (MISSING, DRAINING, INACTIVE).
    async fn describe_many(
        &self,
        services: &[ServiceArn],
    ) -> Result<Vec<Option<ServiceView>>, InspectError> {
        let mut out = Vec::with_capacity(services.len());
        for s in services {
            out.push(self.describe(s).await?);
        }
        Ok(out)
    }

    /// The services of a cluster (ListServices), for clusters watched in full.
    async fn list_services(&self, cluster_arn: &str) -> Result<Vec<ServiceArn>, InspectError> {
        let _ = cluster_arn;
        Ok(Vec::new())
    }

    /// ListServiceDeployments for one service: the service deployments created after
    /// `since` (all when `None`), one page of at most [`LIST_DEPLOYMENTS_PAGE`]. The
    /// sweeper uses it only for a rollout whose service-deployment ARN it does not know.
    async fn list_service_deployments(
        &self,
        service: &ServiceArn,
        since: Option<Timestamp>,
    ) -> Result<Vec<BriefView>, InspectError>;

    /// DescribeServiceDeployments for service deployments of `service`, at most
    /// [`DESCRIBE_DEPLOYMENTS_BATCH`] ARNs (one call; the rest are not asked). ARNs ECS
    /// does not know (or no longer keeps) are left out of the answer.
    async fn describe_service_deployments(
        &self,
        service: &ServiceArn,
        arns: &[String],
    ) -> Result<Vec<ServiceDeploymentView>, InspectError>;
}

/// Service deployments one ListServiceDeployments call returns at most
/// (`maxResults`; the API allows 100, a service deploys a few times a day).
pub const LIST_DEPLOYMENTS_PAGE: usize = 20;
/// ARNs one DescribeServiceDeployments call takes at most (the API limit).
pub const DESCRIBE_DEPLOYMENTS_BATCH: usize = 20;

/// The wall clock, for leases, cache ages and "now" in the sweeper. The state
/// machine never reads it: it runs on event time.
#[async_trait]
pub trait Clock: Send + Sync {
    /// The current instant.
    fn now(&self) -> Timestamp;

    /// Waits before trying again after losing a race to another writer, so that
    /// racing invocations spread out instead of colliding on every attempt. Test
    /// clocks return at once.
    async fn pause(&self, _for: Millis) {}
}

/// The five ports one watcher runs on, named once: `Watcher<P: Ports>` instead of five
/// type parameters and the same `where` block in every file that uses them.
pub trait Ports {
    /// Service state and outbox.
    type Store: StateStore;
    /// Alerts.
    type Notifier: Notifier;
    /// Metrics.
    type Metrics: MetricsSink;
    /// ECS look-ups.
    type Inspector: ServiceInspector;
    /// Wall clock.
    type Clock: Clock;
}

/// Any five port types as a [`Ports`] bundle: `Watcher<(S, N, M, I, C)>`.
impl<S, N, M, I, C> Ports for (S, N, M, I, C)
where
    S: StateStore,
    N: Notifier,
    M: MetricsSink,
    I: ServiceInspector,
    C: Clock,
{
    type Store = S;
    type Notifier = N;
    type Metrics = M;
    type Inspector = I;
    type Clock = C;
}

#[async_trait]
impl<T: StateStore + ?Sized> StateStore for std::sync::Arc<T> {
    async fn load(&self, service: &ServiceArn) -> Result<Option<ServiceRecord>, StoreError> {
        (**self).load(service).await
    }
    async fn save(&self, request: SaveRequest<'_>) -> Result<(), StoreError> {
        (**self).save(request).await
    }
    async fn save_many(&self, requests: &[SaveRequest<'_>]) -> Vec<Result<(), StoreError>> {
        (**self).save_many(requests).await
    }
    async fn history(&self, service: &ServiceArn) -> Result<Vec<RolloutSummary>, StoreError> {
        (**self).history(service).await
    }
    async fn due(&self, until: Timestamp, limit: usize) -> Result<Vec<ServiceArn>, StoreError> {
        (**self).due(until, limit).await
    }
}

#[async_trait]
impl<T: Notifier + ?Sized> Notifier for std::sync::Arc<T> {
    async fn publish(&self, alert: &Alert) -> Result<(), NotifyError> {
        (**self).publish(alert).await
    }
}

#[async_trait]
impl<T: MetricsSink + ?Sized> MetricsSink for std::sync::Arc<T> {
    async fn send(&self, metrics: &[Metric]) -> Result<(), MetricsError> {
        (**self).send(metrics).await
    }
    fn writes_to_log(&self) -> bool {
        (**self).writes_to_log()
    }
}

#[async_trait]
impl<T: ServiceInspector + ?Sized> ServiceInspector for std::sync::Arc<T> {
    async fn describe(&self, service: &ServiceArn) -> Result<Option<ServiceView>, InspectError> {
        (**self).describe(service).await
    }
    async fn running_tasks(
        &self,
        service: &ServiceArn,
    ) -> Result<Vec<TaskObservation>, InspectError> {
        (**self).running_tasks(service).await
    }
    async fn describe_many(
        &self,
        services: &[ServiceArn],
    ) -> Result<Vec<Option<ServiceView>>, InspectError> {
        (**self).describe_many(services).await
    }
    async fn list_services(&self, cluster_arn: &str) -> Result<Vec<ServiceArn>, InspectError> {
        (**self).list_services(cluster_arn).await
    }
    async fn list_service_deployments(
        &self,
        service: &ServiceArn,
        since: Option<Timestamp>,
    ) -> Result<Vec<BriefView>, InspectError> {
        (**self).list_service_deployments(service, since).await
    }
    async fn describe_service_deployments(
        &self,
        service: &ServiceArn,
        arns: &[String],
    ) -> Result<Vec<ServiceDeploymentView>, InspectError> {
        (**self).describe_service_deployments(service, arns).await
    }
}

#[async_trait]
impl<T: Clock + ?Sized> Clock for std::sync::Arc<T> {
    fn now(&self) -> Timestamp {
        (**self).now()
    }
    async fn pause(&self, d: Millis) {
        (**self).pause(d).await;
    }
}
