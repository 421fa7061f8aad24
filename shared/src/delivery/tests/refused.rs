//! Events the watcher refuses or ignores, and what it says about them.

use super::*;

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
