//! Delivery under failure, with the real SDK clients: SNS missing for part of a
//! stream, two invocations racing on one service, a 500-task service's item size,
//! and the PutMetricData sink.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use integration_tests::expect;
use integration_tests::moto::Moto;
use integration_tests::stack::{self, SnsMessage, TABLE};
use rollout_watcher::adapters::cloudwatch::CloudWatchSink;
use rollout_watcher::adapters::dynamodb::{DynamoStore, item_size, live_item};
use rollout_watcher::adapters::ecs::EcsInspector;
use rollout_watcher::adapters::sns::SnsNotifier;
use rollout_watcher::core::{Alert, Dimensions, Metric, MetricName, RolloutSummary, Unit};
use rollout_watcher::delivery::{Watcher, WatcherConfig};
use rollout_watcher::model::{EcsEvent, Interpreted, ServiceArn, Timestamp};
use rollout_watcher::ports::{
    MetricsSink, Notifier, NotifyError, SaveRequest, StateStore, StoreError,
};
use rollout_watcher::record::ServiceRecord;
use rollout_watcher_cli::simulate::{Params, Scenario};
use tokio::sync::Semaphore;

use integration_tests::scenario::{SERVICE, clock_for, drive, emf, events, stream, time_of};

fn alert_ids(msgs: &[SnsMessage]) -> Vec<String> {
    msgs.iter().map(|m| m.id().to_owned()).collect()
}

fn keys(alerts: &[Alert]) -> Vec<String> {
    alerts.iter().map(|a| a.dedup_key.clone()).collect()
}

/// The topic does not exist for the first half of a rollback stream: those
/// invocations fail (`Retryable`, naming SNS's error) with the state saved. Once
/// the topic exists, Lambda's retries of the failed events deliver every alert
/// exactly once, in order.
#[tokio::test]
async fn sns_outage_then_retries_deliver_every_alert_once() {
    let moto = Moto::start().await.unwrap();
    let mut stack = stack::create(&moto, false).await.unwrap();
    let events = events(Scenario::HealthCheckRollback);
    let (sink, _) = emf();
    let w = stack.watcher(sink, clock_for(&events));
    let half = events.len() / 2;
    let results = drive(&w, &events[..half]).await;
    let failed: Vec<usize> = results
        .iter()
        .enumerate()
        .filter(|(_, r)| r.is_err())
        .map(|(i, _)| i)
        .collect();
    assert!(
        !failed.is_empty(),
        "alerts were due while the topic was missing"
    );
    let err = results[failed[0]].as_ref().unwrap_err();
    assert_eq!(err.error_type(), "Retryable");
    assert!(err.chain().contains("NotFound"), "{}", err.chain());

    stack.create_topic().await.unwrap();
    for i in &failed {
        let retry = w.handle(&events[*i], &format!("req-{i}")).await.unwrap();
        assert_eq!(
            retry.status, "duplicate",
            "a retry never re-applies the event"
        );
    }
    for r in drive(&w, &events[half..]).await {
        r.unwrap();
    }
    let (alerts, _) = expect::replay(&events);
    assert_eq!(alert_ids(&stack.messages().await.unwrap()), keys(&alerts));
}

/// A store that holds one `save` until released: two invocations interleave
/// deterministically (the emulator's conditional writes are not atomic across its
/// threads, so a free-running race would test moto rather than us).
struct Held<T> {
    inner: T,
    armed: AtomicBool,
    gate: Arc<Semaphore>,
}

impl<T> Held<T> {
    fn new(inner: T, gate: Arc<Semaphore>) -> Self {
        Self {
            inner,
            armed: AtomicBool::new(true),
            gate,
        }
    }

    async fn hold(&self) {
        if self.armed.swap(false, Ordering::SeqCst) {
            self.gate.acquire().await.unwrap().forget();
        }
    }
}

#[async_trait]
impl<T: StateStore> StateStore for Held<T> {
    async fn load(&self, s: &ServiceArn) -> Result<Option<ServiceRecord>, StoreError> {
        self.inner.load(s).await
    }
    async fn save(&self, r: SaveRequest<'_>) -> Result<(), StoreError> {
        self.hold().await;
        self.inner.save(r).await
    }
    async fn history(&self, s: &ServiceArn) -> Result<Vec<RolloutSummary>, StoreError> {
        self.inner.history(s).await
    }
    async fn due(&self, until: Timestamp, limit: usize) -> Result<Vec<ServiceArn>, StoreError> {
        self.inner.due(until, limit).await
    }
}

#[async_trait]
impl<T: Notifier> Notifier for Held<T> {
    async fn publish(&self, alert: &Alert) -> Result<(), NotifyError> {
        self.hold().await;
        self.inner.publish(alert).await
    }
}

/// Two invocations race on the same service, twice: (1) A reads, B writes, A's
/// conditional write fails, A re-reads and re-applies on top of B; (2) A has saved
/// and claimed its alert but not published it when B runs: B leaves it to A. At the
/// end the state holds every event (the same rollouts as the sequential replay) and
/// every alert reached the queue exactly once.
#[tokio::test]
async fn racing_invocations_lose_no_update_and_double_no_alert() {
    let moto = Moto::start().await.unwrap();
    let stack = stack::create(&moto, true).await.unwrap();
    let events = events(Scenario::Success);
    let start = events
        .iter()
        .position(|e| e["detail"]["eventName"] == "SERVICE_DEPLOYMENT_IN_PROGRESS")
        .unwrap();
    let clock = clock_for(&events);
    let (sink, _) = emf();
    let plain = stack.watcher(sink.clone(), clock.clone());
    for r in drive(&plain, &events[..start - 1]).await {
        r.unwrap();
    }
    let build = |hold_store: bool, gate: &Arc<Semaphore>| {
        let sdk = &stack.sdk;
        let store = Held::new(
            DynamoStore::new(aws_sdk_dynamodb::Client::new(sdk), TABLE),
            gate.clone(),
        );
        let notifier = Held::new(
            SnsNotifier::new(
                aws_sdk_sns::Client::new(sdk),
                &stack.topic_arn,
                Some("test".into()),
            ),
            gate.clone(),
        );
        store.armed.store(hold_store, Ordering::SeqCst);
        notifier.armed.store(!hold_store, Ordering::SeqCst);
        Watcher::from_parts(
            store,
            notifier,
            sink.clone(),
            EcsInspector::new(aws_sdk_ecs::Client::new(sdk)),
            clock.clone(),
            WatcherConfig::default(),
        )
    };
    // The wall clock as the racing invocations run: past every event they handle.
    clock.set(time_of(&events[start + 2]));
    // (1) A holds before its write (the event just before the rollout starts).
    let gate = Arc::new(Semaphore::new(0));
    let a = build(true, &gate);
    let (ra, rb) = tokio::join!(a.handle(&events[start - 1], "req-a1"), async {
        let r = plain.handle(&events[start + 1], "req-b1").await;
        gate.add_permits(1);
        r
    });
    let ra = ra.unwrap();
    assert!(ra.attempts >= 2, "A's first write conflicted: {ra:?}");
    rb.unwrap();
    // (2) A holds after claiming `deployment_started`, before publishing it.
    let gate = Arc::new(Semaphore::new(0));
    let a = build(false, &gate);
    let (ra, rb) = tokio::join!(a.handle(&events[start], "req-a2"), async {
        let r = plain.handle(&events[start + 2], "req-b2").await;
        gate.add_permits(1);
        r
    });
    assert_eq!(ra.unwrap().alerts_published, 1);
    assert_eq!(
        rb.unwrap().alerts_published,
        0,
        "B left A's claimed alert alone"
    );
    for r in drive(&plain, &events[start + 1..]).await {
        r.unwrap();
    }
    let (alerts, _) = expect::replay(&events);
    assert_eq!(alert_ids(&stack.messages().await.unwrap()), keys(&alerts));
    let rec = plain
        .store
        .load(&ServiceArn::parse(SERVICE).unwrap())
        .await
        .unwrap()
        .unwrap();
    let mut replay = rollout_watcher::replay::Replay::default();
    for e in &events {
        let _ = replay.apply_json(&e.to_string()).unwrap();
    }
    let want = replay
        .service(&ServiceArn::parse(SERVICE).unwrap())
        .unwrap();
    assert_eq!(rec.state.rollouts(), want.rollouts());
    assert_eq!(rec.state.task_count(), want.task_count());
}

/// A 500-task service through a whole rollout (1,000 tasks known at the peak) with
/// SNS and metrics down throughout, so the outbox is as full as it gets: the live
/// item at its largest stays below a quarter of DynamoDB's 400 KB, and DynamoDB
/// accepts it. (The state machine and the outbox are driven directly, as the
/// handler drives them, to keep the test fast in a debug build.)
#[tokio::test]
async fn live_item_stays_far_below_400_kb_for_500_tasks() {
    let params = Params {
        desired: 500,
        ..Params::defaults(Scenario::Success)
    };
    let events = stream(&params);
    let service = ServiceArn::parse(SERVICE).unwrap();
    let settings = WatcherConfig::default().settings;
    let mut rec = ServiceRecord::new(service.clone());
    let mut peak: Option<ServiceRecord> = None;
    for e in &events {
        let Ok(Interpreted::Use(input)) = EcsEvent::from_value(e).and_then(|e| e.interpret())
        else {
            continue;
        };
        let effects = rec.state.apply(&input, &settings);
        let _ = rec.outbox.record(&effects, |_| true);
        if peak
            .as_ref()
            .is_none_or(|p| rec.state.task_count() > p.state.task_count())
        {
            peak = Some(rec.clone());
        }
    }
    let mut peak = peak.unwrap();
    peak.outbox = rec.outbox.clone();
    peak.revision = 1;
    let item = live_item(&SaveRequest {
        record: &peak,
        expected: 0,
        due_at: None,
        finished: &[],
    })
    .unwrap();
    let size = item_size(&item);
    let json = serde_json::to_string(&peak).unwrap().len();
    println!(
        "peak live item for 500 tasks: {size} bytes stored ({json} bytes of JSON; {} tasks, {} outbox entries)",
        peak.state.task_count(),
        peak.outbox.entries().len()
    );
    assert_eq!(peak.state.task_count(), 1000);
    assert!(size < 100_000, "live item is {size} bytes");

    let moto = Moto::start().await.unwrap();
    let stack = stack::create(&moto, true).await.unwrap();
    let dynamo = DynamoStore::new(aws_sdk_dynamodb::Client::new(&stack.sdk), TABLE);
    dynamo
        .save(SaveRequest {
            record: &peak,
            expected: 0,
            due_at: None,
            finished: &[],
        })
        .await
        .unwrap();
    assert_eq!(dynamo.load(&service).await.unwrap().unwrap(), peak);
}

/// moto does not speak the CBOR protocol aws-sdk-cloudwatch uses, so the
/// PutMetricData sink is tested with aws-smithy-mocks: 1,500 data points go out in
/// two calls (the 1,000-per-call limit), with the namespace, names, units,
/// dimensions and timestamps of the EMF sink.
#[tokio::test]
async fn put_metric_data_batches_within_api_limits() {
    use aws_sdk_cloudwatch::operation::put_metric_data::PutMetricDataOutput;
    use aws_sdk_cloudwatch::types::StandardUnit;
    use aws_smithy_mocks::{RuleMode, mock, mock_client};

    type Calls = Arc<Mutex<Vec<(String, Vec<aws_sdk_cloudwatch::types::MetricDatum>)>>>;
    let calls: Calls = Arc::default();
    let seen = calls.clone();
    let rule = mock!(aws_sdk_cloudwatch::Client::put_metric_data).then_compute_output(move |req| {
        let mut c = seen.lock().unwrap();
        c.push((
            req.namespace().unwrap_or_default().to_owned(),
            req.metric_data().to_vec(),
        ));
        PutMetricDataOutput::builder().build()
    });
    let client = mock_client!(aws_sdk_cloudwatch, RuleMode::MatchAny, [&rule]);
    let sink = CloudWatchSink::new(client, "RolloutWatcher");
    let at = Timestamp::parse("2026-03-02T10:00:00Z").unwrap();
    let dims = Dimensions {
        cluster_name: "demo-cluster".into(),
        service_name: "web".into(),
    };
    let mut batch: Vec<Metric> = (0..1499)
        .map(|i| Metric {
            name: if i % 2 == 0 {
                MetricName::RunningTaskCount
            } else {
                MetricName::DeploymentDuration
            },
            value: f64::from(i),
            unit: if i % 2 == 0 {
                Unit::Count
            } else {
                Unit::Seconds
            },
            dimensions: Some(dims.clone()),
            at,
            dedup_key: format!("k{i}"),
        })
        .collect();
    batch.push(Metric {
        name: MetricName::AlertsPublished,
        value: 2.0,
        unit: Unit::Count,
        dimensions: None,
        at,
        dedup_key: "h".into(),
    });
    sink.send(&batch).await.unwrap();

    let calls = calls.lock().unwrap();
    assert_eq!(
        calls.iter().map(|(_, d)| d.len()).collect::<Vec<_>>(),
        [1000, 500]
    );
    assert!(calls.iter().all(|(ns, _)| ns == "RolloutWatcher"));
    let first = &calls[0].1[0];
    assert_eq!(first.metric_name(), Some("RunningTaskCount"));
    assert_eq!(first.unit(), Some(&StandardUnit::Count));
    assert_eq!(
        first.timestamp().unwrap().to_millis().unwrap(),
        at.as_millis()
    );
    let names: Vec<(&str, &str)> = first
        .dimensions()
        .iter()
        .map(|d| (d.name().unwrap(), d.value().unwrap()))
        .collect();
    assert_eq!(
        names,
        [("ClusterName", "demo-cluster"), ("ServiceName", "web")]
    );
    assert_eq!(calls[0].1[1].unit(), Some(&StandardUnit::Seconds));
    let health = calls[1].1.last().unwrap();
    assert_eq!(
        (health.metric_name(), health.dimensions().len()),
        (Some("AlertsPublished"), 0)
    );
}
