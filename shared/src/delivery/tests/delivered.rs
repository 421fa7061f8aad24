//! What reaches SNS and CloudWatch when all goes well: each alert once, in order,
//! whatever repeats; muted services and info alerts off; metrics in the log.

use super::*;

/// A rollout that starts and completes publishes started, then completed, and
/// leaves nothing in the outbox.
#[tokio::test]
async fn completed_rollout_publishes_each_alert_once_in_order() {
    let w = world(safe());
    for e in &rollout() {
        w.handle(e, "req-1").await.unwrap();
    }
    assert_eq!(names(&w), ["deployment_started", "deployment_completed"]);
    let rec = record(&w).await;
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

/// A failure redriven from a dead-letter queue three days after the service's latest
/// event, about a rollout the service does not hold: answered and logged as late,
/// and nothing is published.
#[tokio::test]
async fn an_event_redriven_days_late_is_late_and_pages_nobody() {
    let w = world(safe());
    let now = deployment(
        "ecs-svc/2",
        "SERVICE_DEPLOYMENT_IN_PROGRESS",
        "2026-03-05T10:00:00Z",
    );
    let old = deployment(
        "ecs-svc/1",
        "SERVICE_DEPLOYMENT_FAILED",
        "2026-03-02T10:00:00Z",
    );
    w.clock
        .set(Timestamp::parse("2026-03-05T10:00:00Z").unwrap());
    let first = w.handle(&now, "req-1").await.unwrap();
    let late = w.handle(&old, "req-2").await.unwrap();
    assert_eq!((first.status, late.status), ("applied", "late"));
    assert_eq!(names(&w), ["deployment_started"]);
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
    let rec = record(&w).await;
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
