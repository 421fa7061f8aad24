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

use std::collections::VecDeque;

use async_trait::async_trait;
use serde::{Deserialize, Serialize};

use crate::core::{Alert, Metric, RolloutSummary, ServiceConfig, ServiceState};
use crate::model::{Millis, ServiceArn, TaskObservation, Timestamp};
use crate::outbox::Outbox;

pub use errors::{InspectError, MetricsError, NotifyError, Source, StoreError};
pub use history::HistoryReader;

/// Everything kept about one service in its live item: the state machine, the
/// outbox of effects not yet delivered, and the revision the next write is
/// conditional on.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ServiceRecord {
    /// The state machine.
    pub state: ServiceState,
    /// Effects recorded but not yet delivered.
    pub outbox: Outbox,
    /// Incremented by every write; 0 means "never written".
    pub revision: u64,
    /// The last few writes: revision and writer (the invocation's id). When a
    /// write's reply is lost (a timeout, a reset, or the SDK's own retry of a write
    /// that had landed failing its condition), reading the item back tells whether
    /// the write was ours, even if another writer has built on it since, so the
    /// effects it recorded are delivered once instead of lost or repeated.
    #[serde(default, skip_serializing_if = "VecDeque::is_empty")]
    pub writes: VecDeque<(u64, String)>,
}

/// Writes remembered in [`ServiceRecord::writes`].
const WRITES_KEPT: usize = 8;

impl ServiceRecord {
    /// Prepares the next write by `owner`: the next revision, signed.
    pub fn sign(&mut self, expected: u64, owner: &str) {
        self.revision = expected + 1;
        self.writes.push_back((self.revision, owner.to_owned()));
        while self.writes.len() > WRITES_KEPT {
            self.writes.pop_front();
        }
    }

    /// Whether `owner` wrote `revision` of this record.
    pub fn written_by(&self, revision: u64, owner: &str) -> bool {
        self.writes
            .iter()
            .any(|(r, w)| *r == revision && w == owner)
    }
}

impl ServiceRecord {
    /// The record of a service never seen before.
    pub fn new(service: ServiceArn) -> Self {
        Self {
            state: ServiceState::new(service),
            outbox: Outbox::default(),
            revision: 0,
            writes: VecDeque::new(),
        }
    }
}

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

/// ECS look-ups: configuration, counts, and the tasks of a service seen first.
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
    /// them by cluster, 10 per call. One entry per service asked, in order.
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
}

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

/// The system clock.
#[derive(Clone, Copy, Debug, Default)]
pub struct SystemClock;

#[async_trait]
impl Clock for SystemClock {
    fn now(&self) -> Timestamp {
        let ms = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX));
        Timestamp::from_millis(ms)
    }

    #[cfg(feature = "aws")]
    async fn pause(&self, d: Millis) {
        tokio::time::sleep(std::time::Duration::from_millis(d.0.max(0).unsigned_abs())).await;
    }
}

#[async_trait]
impl<T: StateStore + ?Sized> StateStore for std::sync::Arc<T> {
    async fn load(&self, service: &ServiceArn) -> Result<Option<ServiceRecord>, StoreError> {
        (**self).load(service).await
    }
    async fn save(&self, request: SaveRequest<'_>) -> Result<(), StoreError> {
        (**self).save(request).await
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
