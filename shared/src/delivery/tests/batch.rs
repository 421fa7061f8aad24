//! Queued events in batches: the same state, alerts and metrics as one event per
//! invocation, with one write per service; what a batch hands back to the queue when
//! a service fails, and what it acknowledges without retrying.

use crate::delivery::{BatchOutcome, SweepConfig};

use super::*;

const API: &str = "arn:aws:ecs:eu-west-1:123456789012:service/prod/api";
const JOBS: &str = "arn:aws:ecs:eu-west-1:123456789012:service/prod/jobs";

/// The same event for another service of the cluster (its tasks other tasks).
fn on(service: &str, e: &Value) -> Value {
    let name = service.rsplit('/').next().unwrap();
    let text = e
        .to_string()
        .replace("service/prod/web", &format!("service/prod/{name}"))
        .replace("service:web", &format!("service:{name}"))
        .replace("task/prod/0000", &format!("task/prod/{:04x}", name.len()));
    serde_json::from_str(&text).unwrap()
}

/// Messages `m-<n>` carrying these events, numbered from `first`.
fn messages(events: &[Value], first: usize) -> Vec<(String, String)> {
    events
        .iter()
        .enumerate()
        .map(|(n, e)| (format!("m-{}", first + n), e.to_string()))
        .collect()
}

async fn send(w: &World, messages: &[(String, String)], invocation: &str) -> BatchOutcome {
    w.handle_batch(&queued(messages), invocation).await
}

/// Two services rolling at once, their events interleaved as the queue holds them.
fn two_rollouts() -> Vec<Value> {
    rollout()
        .iter()
        .flat_map(|e| [e.clone(), on(API, e)])
        .collect()
}

async fn record_of(w: &World, service: &str) -> ServiceRecord {
    let arn = ServiceArn::parse(service).unwrap();
    w.store.load(&arn).await.unwrap().unwrap()
}

/// Each alert's dedup key, per service in publishing order.
fn alert_keys(w: &World, service: &str) -> Vec<String> {
    w.notifier
        .published()
        .iter()
        .filter(|a| a.service.as_str() == service)
        .map(|a| a.dedup_key.clone())
        .collect()
}

/// The world after the same events went one per invocation.
async fn one_by_one(events: &[Value]) -> World {
    let w = world(safe());
    for e in events {
        w.handle(e, "req-1").await.unwrap();
    }
    w
}

/// The services' states, alerts and data points are those the same events leave
/// when they come one per invocation.
async fn assert_ends_as_one_by_one(w: &World, events: &[Value], services: &[&str]) {
    let reference = one_by_one(events).await;
    for &service in services {
        assert_eq!(alert_keys(w, service), alert_keys(&reference, service));
        assert_eq!(
            record_of(w, service).await.state,
            record_of(&reference, service).await.state
        );
    }
    assert_eq!(metric_keys(w), metric_keys(&reference));
}

/// Two services' rollouts in one batch: the state, alerts and metrics that one
/// event per invocation gives, with one write per service (plus the settle that
/// marks its alerts sent) instead of two per event.
#[tokio::test]
async fn a_batch_gives_what_one_by_one_gives_with_one_write_per_service() {
    let events = two_rollouts();
    let w = world(safe());
    let out = send(&w, &messages(&events, 1), "req-1").await;
    assert_eq!(
        out,
        BatchOutcome {
            applied: 6,
            services: 2,
            alerts_published: 4,
            metrics_sent: out.metrics_sent,
            attempts: 2,
            ..BatchOutcome::default()
        }
    );
    assert!(out.metrics_sent > 0);
    let reference = one_by_one(&events).await;
    for service in [SVC, API] {
        let (got, want) = (
            record_of(&w, service).await,
            record_of(&reference, service).await,
        );
        assert_eq!(got.state, want.state, "{service}");
        assert!(got.outbox.is_empty());
        assert_eq!(alert_keys(&w, service), alert_keys(&reference, service));
        assert_eq!(alert_keys(&w, service).len(), 2);
    }
    assert_eq!(metric_keys(&w), metric_keys(&reference));
    assert_eq!(
        w.store.inner.writes(),
        2 + 2,
        "one write and one settle per service"
    );
    assert!(reference.store.inner.writes() >= 2 * 6);
    assert_eq!(w.inspector.describes(), 2, "ECS read once per service");
}

/// A message repeated inside a batch, and again in the next batch, changes nothing
/// and publishes nothing twice.
#[tokio::test]
async fn duplicates_inside_and_across_batches_change_nothing() {
    let [started, running, completed] = rollout();
    let w = world(safe());
    let first = messages(&[started.clone(), started, running.clone()], 1);
    let out = send(&w, &first, "req-1").await;
    assert_eq!((out.applied, out.duplicate, out.failed.len()), (2, 1, 0));
    let second = messages(&[running, completed], 4);
    let out = send(&w, &second, "req-2").await;
    assert_eq!((out.applied, out.duplicate, out.failed.len()), (1, 1, 0));
    assert_eq!(names(&w), ["deployment_started", "deployment_completed"]);
    let reference = one_by_one(&rollout()).await;
    assert_eq!(
        record_of(&w, SVC).await.state,
        record_of(&reference, SVC).await.state
    );
    assert_eq!(metric_keys(&w), metric_keys(&reference));
}

/// A malformed message and one dated far ahead, in the middle of a rollout: both
/// acknowledged (a retry cannot mend them, and in a FIFO group they would hold back
/// every later event), counted as `EventsRejected`, and the rest applied.
#[tokio::test]
async fn unusable_messages_are_acknowledged_counted_and_skipped() {
    let [started, running, completed] = rollout();
    let far = deployment(
        "ecs-svc/1",
        "SERVICE_DEPLOYMENT_FAILED",
        "9999-12-31T23:59:59Z",
    );
    let mut batch = messages(&[started, running, far, completed], 1);
    batch.insert(2, ("m-bad".into(), "{\"detail-type\": 7".into()));
    let w = world(safe());
    let out = send(&w, &batch, "req-1").await;
    assert!(out.failed.is_empty(), "{out:?}");
    assert_eq!((out.applied, out.rejected), (3, 2));
    assert_eq!(names(&w), ["deployment_started", "deployment_completed"]);
    let rejected: Vec<f64> = w
        .metrics
        .sent()
        .iter()
        .filter(|m| m.name == MetricName::EventsRejected)
        .map(|m| m.value)
        .collect();
    assert_eq!(rejected, [2.0]);
    let reference = one_by_one(&rollout()).await;
    assert_eq!(
        record_of(&w, SVC).await.state,
        record_of(&reference, SVC).await.state
    );
}

/// The store fails for the second service: its messages go back to the queue; the
/// first and the third services' writes landed in the batch's one write call, so
/// they are done and delivered. Sending back what failed completes the rollout,
/// every alert exactly once.
#[tokio::test]
async fn a_store_failure_hands_back_that_service_alone_when_the_others_landed() {
    let events: Vec<Value> = rollout()
        .iter()
        .flat_map(|e| [e.clone(), on(API, e), on(JOBS, e)])
        .collect();
    let batch = messages(&events, 1);
    let w = world(safe());
    *w.store.broken.lock().unwrap() = Some(ServiceArn::parse(API).unwrap());
    let out = send(&w, &batch, "req-1").await;
    // Every third message from the second is api's (web, api, jobs, web, ...).
    let handed_back: Vec<String> = batch
        .iter()
        .enumerate()
        .filter(|(n, _)| n % 3 == 1)
        .map(|(_, (id, _))| id.clone())
        .collect();
    assert_eq!(out.failed, handed_back);
    assert_eq!((out.services, out.applied), (2, 6));
    assert_eq!(alert_keys(&w, SVC).len(), 2);
    assert_eq!(alert_keys(&w, JOBS).len(), 2);
    assert!(alert_keys(&w, API).is_empty());

    *w.store.broken.lock().unwrap() = None;
    let again: Vec<(String, String)> = batch
        .iter()
        .filter(|(id, _)| out.failed.contains(id))
        .cloned()
        .collect();
    let retry = send(&w, &again, "req-2").await;
    assert!(retry.failed.is_empty(), "{retry:?}");
    assert_eq!((retry.services, retry.applied), (1, 3));
    assert_ends_as_one_by_one(&w, &events, &[SVC, API, JOBS]).await;
}

/// The state table throttles the first service's write twice (past the SDK's own
/// retries): the batch runs that service again after a pause instead of handing
/// its messages back, which would hold every later event of the account for the
/// queue's visibility timeout; both rollouts end as one event per invocation leaves
/// them, every alert once.
#[tokio::test]
async fn a_passing_store_failure_is_tried_again_before_anything_goes_back() {
    let events = two_rollouts();
    let batch = messages(&events, 1);
    let w = world(safe());
    w.store.failing_saves.store(2, Ordering::SeqCst);
    let out = send(&w, &batch, "req-1").await;
    assert!(out.failed.is_empty(), "handed back: {:?}", out.failed);
    assert_eq!((out.services, out.applied, out.unsettled), (2, 6, 0));
    assert_eq!(w.store.failing_saves.load(Ordering::SeqCst), 0);
    assert_ends_as_one_by_one(&w, &events, &[SVC, API]).await;
}

/// A dead-letter queue redriven three days late into the queue: the failure of a
/// rollout the service no longer holds comes in one batch with the running
/// rollout's next event. The old one is acknowledged as late and pages nobody; the
/// new one is applied.
#[tokio::test]
async fn a_batch_acknowledges_an_event_days_late_and_applies_the_rest() {
    let w = world(safe());
    let now = deployment(
        "ecs-svc/2",
        "SERVICE_DEPLOYMENT_IN_PROGRESS",
        "2026-03-05T10:00:00Z",
    );
    w.clock
        .set(Timestamp::parse("2026-03-05T10:05:00Z").unwrap());
    assert!(
        send(&w, &messages(&[now], 1), "req-1")
            .await
            .failed
            .is_empty()
    );
    let old = deployment(
        "ecs-svc/1",
        "SERVICE_DEPLOYMENT_FAILED",
        "2026-03-02T10:00:00Z",
    );
    let next = task(1, "ecs-svc/2", "RUNNING", 2, "2026-03-05T10:01:00Z");
    let out = send(&w, &messages(&[old, next], 2), "req-2").await;
    assert!(out.failed.is_empty(), "handed back: {:?}", out.failed);
    assert_eq!((out.late, out.applied, out.duplicate), (1, 1, 0));
    assert_eq!(names(&w), ["deployment_started"]);
}

/// SNS is down when a batch's write lands: the batch hands nothing back (the
/// queue does not stall behind the outage), its alerts wait in the outbox, and the
/// sweeper's next tick, SNS back, publishes each once; the same messages delivered
/// again publish nothing more.
#[tokio::test]
async fn an_sns_failure_after_the_write_leaves_the_alerts_to_the_sweeper() {
    let batch = messages(&rollout(), 1);
    let w = world(safe());
    w.notifier.set_failing(true);
    let out = send(&w, &batch, "req-1").await;
    assert!(out.failed.is_empty(), "handed back: {:?}", out.failed);
    assert_eq!(
        (out.applied, out.alerts_published, out.unsettled),
        (3, 0, 1)
    );
    assert!(w.notifier.published().is_empty());
    assert_eq!(
        record_of(&w, SVC).await.outbox.entries().len(),
        2,
        "the two alerts wait"
    );
    w.notifier.set_failing(false);
    let config = SweepConfig {
        max_services: 100,
        watch_clusters: Vec::new(),
    };
    w.sweep(&config, "sweep-1").await.unwrap();
    assert_eq!(names(&w), ["deployment_started", "deployment_completed"]);
    let again = send(&w, &batch, "req-2").await;
    assert!(again.failed.is_empty());
    assert_eq!((again.duplicate, again.alerts_published), (3, 0));
    assert_eq!(names(&w), ["deployment_started", "deployment_completed"]);
    assert!(record_of(&w, SVC).await.outbox.entries().is_empty());
    // every data point once; the sweeper's tick adds its own gauge
    let mut keys = metric_keys(&w);
    keys.retain(|k| !k.starts_with("sweep|"));
    assert_eq!(keys, metric_keys(&one_by_one(&rollout()).await));
}

/// The sweeper writes the service's item between the batch's read and its write:
/// the conditional write fails, and the whole sequence is applied again on the
/// sweeper's record, which the batch's write then follows.
#[tokio::test]
async fn a_race_with_the_sweeper_reapplies_the_services_sequence() {
    let [started, running, completed] = rollout();
    let w = world(safe());
    send(&w, &messages(&[started], 1), "req-1").await;
    let before = record_of(&w, SVC).await.revision;
    w.store.races.store(1, Ordering::SeqCst);
    let out = send(&w, &messages(&[running, completed], 2), "req-2").await;
    assert!(out.failed.is_empty());
    assert_eq!((out.applied, out.attempts), (2, 2));
    let rec = record_of(&w, SVC).await;
    assert!(
        rec.written_by(before + 1, "sweeper"),
        "built on the sweeper's write"
    );
    assert_eq!(names(&w), ["deployment_started", "deployment_completed"]);
    let reference = one_by_one(&rollout()).await;
    assert_eq!(rec.state, record_of(&reference, SVC).await.state);
    assert_eq!(metric_keys(&w), metric_keys(&reference));
}

/// The function's entry point tells an SQS event from one EventBridge event: a
/// queued rollout answers the partial-batch response with nothing to hand back, and
/// one event answers what it did, as before.
#[tokio::test]
async fn the_entry_point_answers_a_batch_and_a_single_event_each_its_way() {
    let w = world(safe());
    let records: Vec<Value> = messages(&rollout(), 1)
        .into_iter()
        .map(|(id, body)| json!({"messageId": id, "receiptHandle": "AQEB", "body": body, "attributes": {"MessageGroupId": "ecs-events"}, "eventSource": "aws:sqs", "awsRegion": "eu-west-1"}))
        .collect();
    let payload = json!({ "Records": records }).to_string();
    let answer = w.handle_invocation(&payload, "req-1").await.unwrap();
    assert_eq!(
        serde_json::to_string(&answer).unwrap(),
        r#"{"batchItemFailures":[]}"#
    );
    assert_eq!(names(&w), ["deployment_started", "deployment_completed"]);

    let late = task(2, "ecs-svc/1", "RUNNING", 2, "2026-03-02T10:04:00Z").to_string();
    let answer = w.handle_invocation(&late, "req-2").await.unwrap();
    let answer = serde_json::to_value(&answer).unwrap();
    assert_eq!(
        (answer["status"].as_str(), answer["service"].as_str()),
        (Some("applied"), Some(SVC))
    );
}
