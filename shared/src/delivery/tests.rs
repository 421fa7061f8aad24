//! Delivery scenarios on the in-memory store and recording doubles: what reaches
//! SNS and CloudWatch when writes conflict, SNS fails, or events repeat.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

use async_trait::async_trait;
use serde_json::{Value, json};

use crate::adapters::memory::MemoryStore;
use crate::adapters::recording::{
    ManualClock, RecordingMetrics, RecordingNotifier, StaticInspector,
};
use crate::core::{AlertName, MetricName, RolloutSummary, ServiceConfig};
use crate::model::{ServiceArn, Timestamp};
use crate::ports::{SaveRequest, ServiceView, StateStore, StoreError};
use crate::record::ServiceRecord;

use super::{Watcher, WatcherConfig};

const SVC: &str = "arn:aws:ecs:eu-west-1:123456789012:service/prod/web";
const CLUSTER: &str = "arn:aws:ecs:eu-west-1:123456789012:cluster/prod";

type World = Watcher<(
    Arc<ConflictingStore>,
    Arc<RecordingNotifier>,
    Arc<RecordingMetrics>,
    Arc<StaticInspector>,
    Arc<ManualClock>,
)>;

/// A memory store that reports a conflict on the next `n` saves, after letting a
/// "concurrent" writer bump the revision (as a real race would).
///
/// With `lost_replies`, the next saves land but answer as if they had not: with a
/// timeout, or (`lost_as_conflict`) with the conditional-check failure that the
/// SDK's own retry of a landed write receives.
#[derive(Default)]
struct ConflictingStore {
    inner: MemoryStore,
    conflicts: AtomicUsize,
    lost_replies: AtomicUsize,
    lost_as_conflict: AtomicBool,
}

#[async_trait]
impl StateStore for ConflictingStore {
    async fn load(&self, s: &ServiceArn) -> Result<Option<ServiceRecord>, StoreError> {
        self.inner.load(s).await
    }
    async fn save(&self, r: SaveRequest<'_>) -> Result<(), StoreError> {
        if self.conflicts.load(Ordering::SeqCst) > 0 {
            self.conflicts.fetch_sub(1, Ordering::SeqCst);
            return Err(StoreError::Conflict {
                service: SVC.into(),
                expected: r.expected,
                current: None,
            });
        }
        let expected = r.expected;
        self.inner.save(r).await?;
        if self.lost_replies.load(Ordering::SeqCst) > 0 {
            self.lost_replies.fetch_sub(1, Ordering::SeqCst);
            if self.lost_as_conflict.load(Ordering::SeqCst) {
                return Err(StoreError::Conflict {
                    service: SVC.into(),
                    expected,
                    current: None,
                });
            }
            return Err(StoreError::Backend {
                operation: "PutItem",
                source: "timed out waiting for the reply".into(),
            });
        }
        Ok(())
    }
    async fn history(&self, s: &ServiceArn) -> Result<Vec<RolloutSummary>, StoreError> {
        self.inner.history(s).await
    }
    async fn due(&self, until: Timestamp, limit: usize) -> Result<Vec<ServiceArn>, StoreError> {
        self.inner.due(until, limit).await
    }
}

fn world(config: ServiceConfig) -> World {
    let inspector = StaticInspector::new();
    inspector.set_view(Some(ServiceView {
        config,
        desired: 1,
        running: 1,
        deployments: vec![],
    }));
    Watcher {
        store: Arc::new(ConflictingStore::default()),
        notifier: Arc::new(RecordingNotifier::new()),
        metrics: Arc::new(RecordingMetrics::new()),
        inspector: Arc::new(inspector),
        clock: Arc::new(ManualClock::at(
            Timestamp::parse("2026-03-02T10:00:00Z").unwrap(),
        )),
        config: WatcherConfig::default(),
    }
}

/// The deployed set-up: metrics go to the invocation's log (EMF).
fn log_world(config: ServiceConfig) -> World {
    Watcher {
        metrics: Arc::new(RecordingMetrics::log()),
        ..world(config)
    }
}

fn safe() -> ServiceConfig {
    ServiceConfig {
        desired_count: Some(1),
        min_healthy_percent: Some(100),
        max_percent: Some(200),
        circuit_breaker: Some(true),
        rollback: Some(true),
        ..ServiceConfig::default()
    }
}

fn deployment(id: &str, name: &str, time: &str) -> Value {
    json!({
        "version": "0", "id": format!("{name}-{id}"), "detail-type": "ECS Deployment State Change",
        "source": "aws.ecs", "account": "123456789012", "time": time, "region": "eu-west-1",
        "resources": [SVC],
        "detail": {"eventType": "INFO", "eventName": name, "deploymentId": id, "updatedAt": time, "reason": "test"}
    })
}

fn task(n: u32, deployment: &str, status: &str, version: u64, time: &str) -> Value {
    json!({
        "version": "0", "id": format!("task-{n}-{version}"), "detail-type": "ECS Task State Change",
        "source": "aws.ecs", "account": "123456789012", "time": time, "region": "eu-west-1",
        "resources": [format!("arn:aws:ecs:eu-west-1:123456789012:task/prod/{n:032x}")],
        "detail": {
            "clusterArn": CLUSTER, "group": "service:web", "startedBy": deployment,
            "taskArn": format!("arn:aws:ecs:eu-west-1:123456789012:task/prod/{n:032x}"),
            "taskDefinitionArn": "arn:aws:ecs:eu-west-1:123456789012:task-definition/web:42",
            "lastStatus": status, "desiredStatus": "RUNNING", "version": version,
            "createdAt": time, "startedAt": time, "updatedAt": time
        }
    })
}

fn names(w: &World) -> Vec<&'static str> {
    w.notifier
        .published()
        .iter()
        .map(|a| a.alert.as_str())
        .collect()
}

/// A rollout that starts and completes publishes started, then completed, and
/// leaves nothing in the outbox.
#[tokio::test]
async fn completed_rollout_publishes_each_alert_once_in_order() {
    let w = world(safe());
    for e in &rollout() {
        w.handle(e, "req-1").await.unwrap();
    }
    assert_eq!(names(&w), ["deployment_started", "deployment_completed"]);
    let rec = w
        .store
        .load(&ServiceArn::parse(SVC).unwrap())
        .await
        .unwrap()
        .unwrap();
    assert!(rec.outbox.is_empty());
    let history = w
        .store
        .history(&ServiceArn::parse(SVC).unwrap())
        .await
        .unwrap();
    assert_eq!(history.len(), 1);
    assert_eq!(history[0].state.as_str(), "completed");
    let published = w
        .metrics
        .sent()
        .iter()
        .filter(|m| m.name == MetricName::AlertsPublished)
        .count();
    assert_eq!(published, 2);
}

/// Every event delivered twice publishes nothing extra.
#[tokio::test]
async fn duplicate_event_is_idempotent() {
    let w = world(safe());
    let e = deployment(
        "ecs-svc/1",
        "SERVICE_DEPLOYMENT_IN_PROGRESS",
        "2026-03-02T10:00:00Z",
    );
    let first = w.handle(&e, "req-1").await.unwrap();
    let second = w.handle(&e, "req-2").await.unwrap();
    assert_eq!((first.status, second.status), ("applied", "duplicate"));
    assert_eq!(names(&w), ["deployment_started"]);
}

/// SNS down: the invocation fails (Retryable) after saving the state; the retry of
/// the same event publishes the waiting alert, exactly once.
#[tokio::test]
async fn sns_outage_fails_then_retry_delivers_once() {
    let w = world(safe());
    let e = deployment(
        "ecs-svc/1",
        "SERVICE_DEPLOYMENT_IN_PROGRESS",
        "2026-03-02T10:00:00Z",
    );
    w.notifier.set_failing(true);
    let err = w.handle(&e, "req-1").await.unwrap_err();
    assert_eq!(err.error_type(), "Retryable");
    assert!(err.chain().contains("injected failure"), "{}", err.chain());
    w.notifier.set_failing(false);
    let retry = w.handle(&e, "req-1").await.unwrap();
    assert_eq!((retry.status, retry.alerts_published), ("duplicate", 1));
    w.handle(&e, "req-1").await.unwrap();
    assert_eq!(names(&w), ["deployment_started"]);
    let failures = w
        .metrics
        .sent()
        .iter()
        .filter(|m| m.name == MetricName::AlertPublishFailures)
        .count();
    assert_eq!(failures, 1);
}

/// A conflicting write is re-read and re-applied: the effects of the losing
/// attempt are never published.
#[tokio::test]
async fn conflict_reapplies_without_doubling() {
    let w = world(safe());
    w.store.conflicts.store(2, Ordering::SeqCst);
    let e = deployment(
        "ecs-svc/1",
        "SERVICE_DEPLOYMENT_IN_PROGRESS",
        "2026-03-02T10:00:00Z",
    );
    let out = w.handle(&e, "req-1").await.unwrap();
    assert_eq!(out.attempts, 3);
    assert_eq!(names(&w), ["deployment_started"]);
    assert_eq!(
        w.inspector.describes(),
        1,
        "ECS is read once per invocation, not per attempt"
    );
}

/// Conflicts beyond the bound give up with the stable `Conflict` error type.
#[tokio::test]
async fn endless_conflicts_give_up() {
    let w = world(safe());
    w.store.conflicts.store(100, Ordering::SeqCst);
    let e = deployment(
        "ecs-svc/1",
        "SERVICE_DEPLOYMENT_IN_PROGRESS",
        "2026-03-02T10:00:00Z",
    );
    let err = w.handle(&e, "req-1").await.unwrap_err();
    assert_eq!(err.error_type(), "Conflict");
    assert!(w.notifier.published().is_empty());
}

/// A muted service publishes nothing, yet its alerts do not wait in the outbox.
#[tokio::test]
async fn muted_service_publishes_nothing() {
    let w = world(ServiceConfig {
        mute: true,
        ..safe()
    });
    let e = deployment(
        "ecs-svc/1",
        "SERVICE_DEPLOYMENT_IN_PROGRESS",
        "2026-03-02T10:00:00Z",
    );
    w.handle(&e, "req-1").await.unwrap();
    assert!(w.notifier.published().is_empty());
    let rec = w
        .store
        .load(&ServiceArn::parse(SVC).unwrap())
        .await
        .unwrap()
        .unwrap();
    assert!(rec.outbox.is_empty());
}

/// With info alerts off, `deployment_started` is skipped but warnings still go out;
/// unsafe settings read from ECS at rollout start give `unsafe_deployment_config`.
#[tokio::test]
async fn info_off_keeps_warnings() {
    let mut w = world(ServiceConfig {
        min_healthy_percent: Some(0),
        max_percent: Some(100),
        ..safe()
    });
    w.config.notify_info = false;
    let e = deployment(
        "ecs-svc/1",
        "SERVICE_DEPLOYMENT_IN_PROGRESS",
        "2026-03-02T10:00:00Z",
    );
    w.handle(&e, "req-1").await.unwrap();
    assert_eq!(names(&w), [AlertName::UnsafeDeploymentConfig.as_str()]);
}

/// A malformed event fails with `MalformedEvent`, names the field, is counted, and
/// never touches the store.
#[tokio::test]
async fn malformed_event_is_rejected_and_counted() {
    let w = world(safe());
    let mut e = deployment(
        "ecs-svc/1",
        "SERVICE_DEPLOYMENT_IN_PROGRESS",
        "2026-03-02T10:00:00Z",
    );
    e["resources"] = json!([]);
    let err = w.handle(&e, "req-1").await.unwrap_err();
    assert_eq!(err.error_type(), "MalformedEvent");
    assert!(err.to_string().contains("resources[0]"), "{err}");
    assert_eq!(w.metrics.sent()[0].name, MetricName::EventsRejected);
    assert_eq!(w.store.inner.writes(), 0);
}

/// An ECS event the watcher does not follow is accepted and ignored.
#[tokio::test]
async fn unknown_event_is_ignored() {
    let w = world(safe());
    let mut e = deployment(
        "ecs-svc/1",
        "SERVICE_DEPLOYMENT_IN_PROGRESS",
        "2026-03-02T10:00:00Z",
    );
    e["detail-type"] = json!("ECS Container Instance State Change");
    assert_eq!(w.handle(&e, "req-1").await.unwrap().status, "ignored");
}

/// With SNS and metrics down for 300 events, the outbox stays bounded and every
/// event is still applied (the 500-task item size is measured in the integration
/// tests, against DynamoDB).
#[tokio::test]
async fn long_outage_keeps_the_record_bounded() {
    let w = world(safe());
    w.notifier.set_failing(true);
    w.metrics.set_failing(true);
    let _ = w
        .handle(
            &deployment(
                "ecs-svc/1",
                "SERVICE_DEPLOYMENT_IN_PROGRESS",
                "2026-03-02T10:00:00Z",
            ),
            "r",
        )
        .await;
    for n in 0..300 {
        let dep = if n < 150 { "ecs-svc/0" } else { "ecs-svc/1" };
        let t = format!("2026-03-02T10:{:02}:{:02}Z", 1 + n / 60 % 50, n % 60);
        let _ = w.handle(&task(n, dep, "RUNNING", 2, &t), "r").await;
    }
    let raw = w.store.inner.raw(&ServiceArn::parse(SVC).unwrap()).unwrap();
    let rec: ServiceRecord = serde_json::from_str(&raw).unwrap();
    assert_eq!(rec.state.task_count(), 300);
    assert!(rec.outbox.entries().len() <= crate::outbox::MAX_ALERTS + crate::outbox::MAX_METRICS);
    assert!(rec.outbox.dropped() > 0);
}

/// A one-task rollout: started, its task running, completed.
fn rollout() -> [Value; 3] {
    [
        deployment(
            "ecs-svc/1",
            "SERVICE_DEPLOYMENT_IN_PROGRESS",
            "2026-03-02T10:00:00Z",
        ),
        task(1, "ecs-svc/1", "RUNNING", 2, "2026-03-02T10:01:00Z"),
        deployment(
            "ecs-svc/1",
            "SERVICE_DEPLOYMENT_COMPLETED",
            "2026-03-02T10:03:00Z",
        ),
    ]
}

/// The keys of the data points the state machine produced (not the watcher's own
/// per-invocation health counts, which carry the wall-clock time).
fn metric_keys(w: &World) -> Vec<String> {
    let mut keys: Vec<String> = w
        .metrics
        .sent()
        .into_iter()
        .map(|m| m.dedup_key)
        .filter(|k| !k.starts_with("health|"))
        .collect();
    keys.sort();
    keys
}

/// With metrics in the log, a rollout's data points are written once each, the same
/// ones the outbox road sends, and only alerts need the write that marks them sent:
/// one write per event plus one per event that published an alert.
#[tokio::test]
async fn log_metrics_skip_the_outbox_and_its_second_write() {
    let (via_log, via_outbox) = (log_world(safe()), world(safe()));
    for w in [&via_log, &via_outbox] {
        for e in &rollout() {
            w.handle(e, "req-1").await.unwrap();
        }
    }
    let keys = metric_keys(&via_log);
    assert!(!keys.is_empty());
    assert_eq!(keys, metric_keys(&via_outbox));
    let mut unique = keys.clone();
    unique.dedup();
    assert_eq!(unique, keys, "a data point was written twice");
    assert_eq!(
        names(&via_log),
        ["deployment_started", "deployment_completed"]
    );
    let events = rollout().len() as u64;
    assert_eq!(via_log.store.inner.writes(), events + 2);
    assert!(via_outbox.store.inner.writes() > events + 2);
}

/// A write that landed but whose reply was lost (a timeout, or the conditional
/// failure the SDK's retry of a landed write gets) is recognised by reading the item
/// back: its alerts and metrics go out once, and the Lambda retry adds nothing.
#[tokio::test]
async fn a_write_whose_reply_was_lost_delivers_once() {
    for as_conflict in [false, true] {
        let w = log_world(safe());
        w.store
            .lost_as_conflict
            .store(as_conflict, Ordering::SeqCst);
        for e in &rollout() {
            w.store.lost_replies.store(1, Ordering::SeqCst);
            let out = w.handle(e, "req-1").await.unwrap();
            assert_eq!(out.status, "applied", "conflict reply: {as_conflict}");
            let retry = w.handle(e, "req-1").await.unwrap();
            assert_eq!(retry.status, "duplicate");
        }
        assert_eq!(names(&w), ["deployment_started", "deployment_completed"]);
        let keys = metric_keys(&w);
        let mut unique = keys.clone();
        unique.dedup();
        assert_eq!(unique, keys, "a data point was written twice");
        assert_eq!(keys, {
            let reference = log_world(safe());
            for e in &rollout() {
                reference.handle(e, "req-1").await.unwrap();
            }
            metric_keys(&reference)
        });
    }
}

/// Another invocation that writes on top of a landed write whose reply was lost
/// does not hide it: the record remembers its last few writers.
#[tokio::test]
async fn a_landed_write_is_recognised_under_a_later_one() {
    let mut rec = ServiceRecord::new(ServiceArn::parse(SVC).unwrap());
    rec.sign(0, "req-1");
    rec.sign(1, "req-2");
    assert!(rec.written_by(1, "req-1") && rec.written_by(2, "req-2"));
    assert!(!rec.written_by(2, "req-1"));
    for i in 2..20 {
        rec.sign(i, "other");
    }
    assert!(
        !rec.written_by(1, "req-1"),
        "the memory of writers is bounded"
    );
}

/// An event dated far ahead of the wall clock is refused, naming the field, and
/// leaves the state alone (it would have moved the service's event clock past every
/// deadline for good); a few minutes of skew are accepted.
#[tokio::test]
async fn an_event_from_the_future_is_refused_by_name() {
    let w = world(safe());
    let far = deployment(
        "ecs-svc/1",
        "SERVICE_DEPLOYMENT_IN_PROGRESS",
        "9999-12-31T23:59:59Z",
    );
    let err = w.handle(&far, "req-1").await.unwrap_err();
    assert_eq!(err.error_type(), "MalformedEvent");
    assert!(
        err.chain().starts_with("malformed event: time:"),
        "{}",
        err.chain()
    );
    let arn = ServiceArn::parse(SVC).unwrap();
    assert!(w.store.load(&arn).await.unwrap().is_none());
    let skewed = deployment(
        "ecs-svc/1",
        "SERVICE_DEPLOYMENT_IN_PROGRESS",
        "2026-03-02T10:10:00Z",
    );
    assert_eq!(w.handle(&skewed, "req-2").await.unwrap().status, "applied");
}

/// A late event that changes a finished rollout's summary (here: a task of it that
/// failed its ELB health checks, reported after the rollout completed) rewrites the
/// rollout's history item in the same write, so the history never lags the state.
#[tokio::test]
async fn a_late_event_updates_the_finished_rollouts_history() {
    let w = log_world(safe());
    for e in &rollout() {
        w.handle(e, "req-1").await.unwrap();
    }
    let arn = ServiceArn::parse(SVC).unwrap();
    let before = w.store.history(&arn).await.unwrap();
    assert_eq!(before.len(), 1);
    assert_eq!(before[0].health_check_failures, 0);
    let mut late = task(2, "ecs-svc/1", "STOPPED", 5, "2026-03-02T10:02:00Z");
    late["detail"]["desiredStatus"] = json!("STOPPED");
    late["detail"]["stopCode"] = json!("ServiceSchedulerInitiated");
    late["detail"]["stoppedReason"] = json!(
        "Task failed ELB health checks in (target-group arn:aws:elasticloadbalancing:eu-west-1:123456789012:targetgroup/web/1)"
    );
    late["detail"]["stoppingAt"] = json!("2026-03-02T10:01:50Z");
    late["detail"]["stoppedAt"] = json!("2026-03-02T10:02:00Z");
    w.clock
        .set(Timestamp::parse("2026-03-02T10:05:00Z").unwrap());
    w.handle(&late, "req-2").await.unwrap();
    let live = w.store.load(&arn).await.unwrap().unwrap().state.rollouts();
    let after = w.store.history(&arn).await.unwrap();
    assert_eq!(after.len(), 1);
    assert_eq!(after[0].health_check_failures, 1, "{after:?}");
    assert_eq!(after[0], live[0], "the history item is the live summary");
}
