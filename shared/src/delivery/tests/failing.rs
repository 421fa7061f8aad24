//! Failures on the way out: SNS down, conflicting writes, writes whose reply was
//! lost, long outages; nothing is lost and nothing goes out twice.

use super::*;

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

/// The sweeper's tick past a rollout's deadline loses its conditional write twice
/// to other writers of the item (the handler's events): it re-reads, lets time pass
/// again on the winner's record and writes on top of it, and pages
/// `deployment_stalled` once; the next tick pages nothing more.
#[tokio::test]
async fn a_sweeper_that_loses_its_write_reapplies_and_pages_the_stall_once() {
    let w = world(safe());
    let [started, running, _] = rollout();
    for (i, e) in [started, running].iter().enumerate() {
        w.handle(e, &format!("req-{i}")).await.unwrap();
    }
    let config = super::super::SweepConfig {
        max_services: 100,
        watch_clusters: Vec::new(),
    };
    let before = record(&w).await.revision;
    w.clock
        .set(Timestamp::parse("2026-03-02T10:16:00Z").unwrap());
    w.store.races.store(2, Ordering::SeqCst);
    w.sweep(&config, "tick-1").await.unwrap();
    assert_eq!(names(&w), ["deployment_started", "deployment_stalled"]);
    let rec = record(&w).await;
    assert!(
        rec.written_by(before + 2, "sweeper"),
        "the others wrote twice"
    );
    assert!(
        rec.written_by(before + 3, "tick-1"),
        "then the tick, on top"
    );
    assert!(rec.outbox.is_empty());
    w.clock
        .set(Timestamp::parse("2026-03-02T10:17:00Z").unwrap());
    w.sweep(&config, "tick-2").await.unwrap();
    assert_eq!(names(&w), ["deployment_started", "deployment_stalled"]);
}
