//! Test doubles as plain data: a notifier and a metrics sink that record what they
//! were given and fail on demand, an inspector that answers from data, and a clock
//! that only moves when told. Faults are switches, not mocks, so a scenario reads
//! as "SNS is down for these three events".

use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, AtomicI64, AtomicUsize, Ordering};

use async_trait::async_trait;

use crate::core::{Alert, Metric};
use crate::model::{BriefView, ServiceArn, ServiceDeploymentView, TaskObservation, Timestamp};
use crate::ports::{
    Clock, DESCRIBE_DEPLOYMENTS_BATCH, InspectError, MetricsError, MetricsSink, Notifier,
    NotifyError, ServiceInspector, ServiceView,
};

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

/// The error a switched-off double returns.
#[derive(Debug, thiserror::Error)]
#[error("injected failure")]
pub struct Injected;

/// Records published alerts; fails while [`RecordingNotifier::set_failing`] is on.
#[derive(Debug, Default)]
pub struct RecordingNotifier {
    published: Mutex<Vec<Alert>>,
    failing: AtomicBool,
    attempts: AtomicUsize,
}

impl RecordingNotifier {
    /// A working notifier.
    pub fn new() -> Self {
        Self::default()
    }

    /// Turns failures on or off.
    pub fn set_failing(&self, failing: bool) {
        self.failing.store(failing, Ordering::SeqCst);
    }

    /// Everything published, in order.
    pub fn published(&self) -> Vec<Alert> {
        lock(&self.published).clone()
    }

    /// Publish attempts, failed ones included.
    pub fn attempts(&self) -> usize {
        self.attempts.load(Ordering::SeqCst)
    }
}

#[async_trait]
impl Notifier for RecordingNotifier {
    async fn publish(&self, alert: &Alert) -> Result<(), NotifyError> {
        self.attempts.fetch_add(1, Ordering::SeqCst);
        if self.failing.load(Ordering::SeqCst) {
            return Err(NotifyError {
                dedup_key: alert.dedup_key.clone(),
                source: Box::new(Injected),
            });
        }
        lock(&self.published).push(alert.clone());
        Ok(())
    }
}

/// Records metric batches; fails while [`RecordingMetrics::set_failing`] is on.
#[derive(Debug, Default)]
pub struct RecordingMetrics {
    batches: Mutex<Vec<Vec<Metric>>>,
    failing: AtomicBool,
    log: bool,
}

impl RecordingMetrics {
    /// A working sink that stands for a call (PutMetricData): points go through the
    /// outbox.
    pub fn new() -> Self {
        Self::default()
    }

    /// A working sink that stands for the invocation's log (EMF): points are written
    /// right after the state write, outside the outbox.
    pub fn log() -> Self {
        Self {
            log: true,
            ..Self::default()
        }
    }

    /// Turns failures on or off.
    pub fn set_failing(&self, failing: bool) {
        self.failing.store(failing, Ordering::SeqCst);
    }

    /// Every data point sent, in order.
    pub fn sent(&self) -> Vec<Metric> {
        lock(&self.batches).iter().flatten().cloned().collect()
    }

    /// The batches, one per `send`.
    pub fn batches(&self) -> Vec<Vec<Metric>> {
        lock(&self.batches).clone()
    }
}

#[async_trait]
impl MetricsSink for RecordingMetrics {
    async fn send(&self, metrics: &[Metric]) -> Result<(), MetricsError> {
        if self.failing.load(Ordering::SeqCst) {
            return Err(MetricsError {
                operation: "send",
                count: metrics.len(),
                source: Box::new(Injected),
            });
        }
        lock(&self.batches).push(metrics.to_vec());
        Ok(())
    }

    fn writes_to_log(&self) -> bool {
        self.log
    }
}

/// Answers ECS look-ups from data; counts the calls.
#[derive(Debug, Default)]
pub struct StaticInspector {
    view: Mutex<Option<ServiceView>>,
    tasks: Mutex<Vec<TaskObservation>>,
    describes: AtomicUsize,
    failing: AtomicBool,
    /// What the Service Deployments API knows.
    deployments: Mutex<Vec<ServiceDeploymentView>>,
    deployment_lists: AtomicUsize,
    deployment_describes: AtomicUsize,
    deployments_failing: AtomicBool,
}

impl StaticInspector {
    /// An inspector for which ECS knows no service.
    pub fn new() -> Self {
        Self::default()
    }

    /// What DescribeServices answers from now on.
    pub fn set_view(&self, view: Option<ServiceView>) {
        *lock(&self.view) = view;
    }

    /// What ListTasks/DescribeTasks answer from now on.
    pub fn set_tasks(&self, tasks: Vec<TaskObservation>) {
        *lock(&self.tasks) = tasks;
    }

    /// Turns failures on or off.
    pub fn set_failing(&self, failing: bool) {
        self.failing.store(failing, Ordering::SeqCst);
    }

    /// DescribeServices calls so far.
    pub fn describes(&self) -> usize {
        self.describes.load(Ordering::SeqCst)
    }

    /// What ListServiceDeployments and DescribeServiceDeployments answer from now on
    /// (every one is listed: the double keeps no creation times).
    pub fn set_service_deployments(&self, deployments: Vec<ServiceDeploymentView>) {
        *lock(&self.deployments) = deployments;
    }

    /// Turns failures of the Service Deployments API alone on or off.
    pub fn set_deployments_failing(&self, failing: bool) {
        self.deployments_failing.store(failing, Ordering::SeqCst);
    }

    /// ListServiceDeployments calls so far.
    pub fn deployment_lists(&self) -> usize {
        self.deployment_lists.load(Ordering::SeqCst)
    }

    /// DescribeServiceDeployments calls so far.
    pub fn deployment_describes(&self) -> usize {
        self.deployment_describes.load(Ordering::SeqCst)
    }

    fn fail_deployments(
        &self,
        operation: &'static str,
        service: &ServiceArn,
    ) -> Result<(), InspectError> {
        self.fail(operation, service)?;
        if self.deployments_failing.load(Ordering::SeqCst) {
            return Err(InspectError {
                operation,
                service: service.to_string(),
                source: Box::new(Injected),
            });
        }
        Ok(())
    }

    fn fail(&self, operation: &'static str, service: &ServiceArn) -> Result<(), InspectError> {
        if self.failing.load(Ordering::SeqCst) {
            return Err(InspectError {
                operation,
                service: service.to_string(),
                source: Box::new(Injected),
            });
        }
        Ok(())
    }
}

#[async_trait]
impl ServiceInspector for StaticInspector {
    async fn describe(&self, service: &ServiceArn) -> Result<Option<ServiceView>, InspectError> {
        self.describes.fetch_add(1, Ordering::SeqCst);
        self.fail("DescribeServices", service)?;
        Ok(lock(&self.view).clone())
    }

    async fn running_tasks(
        &self,
        service: &ServiceArn,
    ) -> Result<Vec<TaskObservation>, InspectError> {
        self.fail("ListTasks", service)?;
        Ok(lock(&self.tasks).clone())
    }

    async fn list_service_deployments(
        &self,
        service: &ServiceArn,
        _since: Option<Timestamp>,
    ) -> Result<Vec<BriefView>, InspectError> {
        self.deployment_lists.fetch_add(1, Ordering::SeqCst);
        self.fail_deployments("ListServiceDeployments", service)?;
        Ok(lock(&self.deployments)
            .iter()
            .map(|d| BriefView {
                arn: d.arn.clone(),
                target_revision: d.target_revision.clone(),
                created_at: None,
            })
            .collect())
    }

    async fn describe_service_deployments(
        &self,
        service: &ServiceArn,
        arns: &[String],
    ) -> Result<Vec<ServiceDeploymentView>, InspectError> {
        assert!(
            arns.len() <= DESCRIBE_DEPLOYMENTS_BATCH,
            "DescribeServiceDeployments takes at most {DESCRIBE_DEPLOYMENTS_BATCH} ARNs"
        );
        self.deployment_describes.fetch_add(1, Ordering::SeqCst);
        self.fail_deployments("DescribeServiceDeployments", service)?;
        Ok(lock(&self.deployments)
            .iter()
            .filter(|d| arns.contains(&d.arn))
            .cloned()
            .collect())
    }
}

/// A clock that moves only when told.
#[derive(Debug, Default)]
pub struct ManualClock(AtomicI64);

impl ManualClock {
    /// A clock reading `at`.
    pub fn at(at: Timestamp) -> Self {
        Self(AtomicI64::new(at.as_millis()))
    }

    /// Sets the time.
    pub fn set(&self, at: Timestamp) {
        self.0.store(at.as_millis(), Ordering::SeqCst);
    }
}

#[async_trait]
impl Clock for ManualClock {
    fn now(&self) -> Timestamp {
        Timestamp::from_millis(self.0.load(Ordering::SeqCst))
    }
}
