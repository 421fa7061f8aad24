//! The load tests' shared parts: a mixed stream of many rollouts, the ECS services
//! behind it in the emulator, Lambda's retry model, and reading a run back.
//!
//! The stream: simulated rollouts of every kind (completed, health-check and
//! bad-image rollbacks, zero running tasks, stalled, superseded), one per service,
//! interleaved by event time as EventBridge delivers a busy account's events, then
//! perturbed deterministically: some neighbours swapped, some events delivered twice
//! (EventBridge is at-least-once).
//!
//! Lambda's retry model for an asynchronous invocation: the first try and two retries
//! with the same request id; after that, a later redelivery (EventBridge's retry
//! policy) as a new invocation, modelled as "retry until success, bounded", each one
//! a lease later on the virtual clock (so a dead invocation's outbox claims have
//! expired, as they would have in the minutes EventBridge waits).

#![allow(dead_code)]

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::Context;
use async_trait::async_trait;
use aws_config::SdkConfig;
use aws_sdk_ecs::types::{ContainerDefinition, DeploymentCircuitBreaker, DeploymentConfiguration};
use integration_tests::fault_proxy::{Call, FaultProxy, Plan};
use integration_tests::moto::Moto;
use integration_tests::stack::{self, SnsMessage, TABLE, TestWatcher};
use rollout_watcher::adapters::dynamodb::DynamoStore;
use rollout_watcher::adapters::ecs::EcsInspector;
use rollout_watcher::adapters::recording::{ManualClock, RecordingMetrics};
use rollout_watcher::adapters::sns::SnsNotifier;
use rollout_watcher::core::{Metric, RolloutSummary};
use rollout_watcher::delivery::{HandlerError, Outcome, Watcher, WatcherConfig};
use rollout_watcher::model::{Millis, ServiceArn, Timestamp};
use rollout_watcher::ports::{Clock, MetricsError, MetricsSink, StateStore};
use rollout_watcher_cli::simulate::{Params, Scenario, simulate};
use serde_json::Value;

/// The cluster of every service in the stream.
pub(crate) const CLUSTER: &str = "load-cluster";

/// Redeliveries after Lambda's own retries, at most.
pub(crate) const MAX_REDELIVERIES: usize = 10;

/// The SDK attempt timeout the load tests give their clients (the proxy's slow
/// replies are held longer than this).
pub(crate) const ATTEMPT_TIMEOUT: Duration = Duration::from_millis(500);

/// How long the proxy holds a slow reply.
pub(crate) const SLOW_REPLY: Duration = Duration::from_millis(600);

/// A stream and the services in it.
pub(crate) struct Mixed {
    /// The events, in delivery order.
    pub(crate) events: Vec<Value>,
    /// One simulation per service.
    pub(crate) services: Vec<Params>,
    /// Events delivered twice.
    pub(crate) duplicates: usize,
    /// Neighbours swapped.
    pub(crate) swaps: usize,
}

impl Mixed {
    /// The service ARNs.
    pub(crate) fn arns(&self) -> Vec<ServiceArn> {
        self.services
            .iter()
            .map(|p| {
                ServiceArn::parse(&format!(
                    "arn:aws:ecs:{}:{}:service/{}/{}",
                    p.region, p.account, p.cluster, p.service
                ))
                .expect("a service ARN")
            })
            .collect()
    }
}

/// At least `min_services` services and `min_events` events, every scenario.
pub(crate) fn mixed_stream(min_services: usize, min_events: usize) -> Mixed {
    const KINDS: [Scenario; 6] = [
        Scenario::Success,
        Scenario::HealthCheckRollback,
        Scenario::ZeroRunning,
        Scenario::Stalled,
        Scenario::BadImage,
        Scenario::Superseded,
    ];
    let mut services = Vec::new();
    let mut tagged: Vec<(String, usize, Value)> = Vec::new();
    let mut i = 0_usize;
    while services.len() < min_services || tagged.len() < min_events {
        let params = Params {
            service: format!("svc-{i:02}"),
            cluster: CLUSTER.to_owned(),
            desired: 1 + (i % 3) as u32,
            seed: i as u64 + 1,
            ..Params::defaults(KINDS[i % KINDS.len()])
        };
        for e in simulate(&params).expect("valid parameters").events {
            let t = e["time"].as_str().unwrap_or_default().to_owned();
            tagged.push((t, tagged.len(), e));
        }
        services.push(params);
        i += 1;
    }
    // Interleave by time; a service's own events keep their order.
    tagged.sort_by(|a, b| a.0.cmp(&b.0).then(a.1.cmp(&b.1)));
    let mut events: Vec<Value> = tagged.into_iter().map(|(_, _, e)| e).collect();
    let mut swaps = 0;
    for k in (7..events.len() - 1).step_by(29) {
        events.swap(k, k + 1);
        swaps += 1;
    }
    let mut duplicates = 0;
    let originals = events.len();
    for k in (11..originals).step_by(37).rev() {
        let copy = events[k].clone();
        events.insert((k + 3).min(events.len()), copy);
        duplicates += 1;
    }
    Mixed {
        events,
        services,
        duplicates,
        swaps,
    }
}

/// Creates the cluster and one ECS service per simulation, with its settings.
pub(crate) async fn create_services(sdk: &SdkConfig, services: &[Params]) -> anyhow::Result<()> {
    let ecs = aws_sdk_ecs::Client::new(sdk);
    ecs.create_cluster()
        .cluster_name(CLUSTER)
        .send()
        .await
        .context("CreateCluster")?;
    ecs.register_task_definition()
        .family("load")
        .container_definitions(
            ContainerDefinition::builder()
                .name("app")
                .image("nginx")
                .memory(256)
                .build(),
        )
        .send()
        .await
        .context("RegisterTaskDefinition")?;
    for p in services {
        let breaker = DeploymentCircuitBreaker::builder()
            .enable(p.circuit_breaker)
            .rollback(p.circuit_breaker)
            .build();
        ecs.create_service()
            .cluster(CLUSTER)
            .service_name(&p.service)
            .task_definition("load")
            .desired_count(i32::try_from(p.desired)?)
            .deployment_configuration(
                DeploymentConfiguration::builder()
                    .minimum_healthy_percent(i32::try_from(p.min_healthy_percent)?)
                    .maximum_percent(i32::try_from(p.max_percent)?)
                    .deployment_circuit_breaker(breaker)
                    .build(),
            )
            .send()
            .await
            .with_context(|| format!("CreateService {}", p.service))?;
    }
    Ok(())
}

/// The watcher wired to `sdk` (the proxy's configuration), as the Lambda wires it.
pub(crate) fn watcher(
    sdk: &SdkConfig,
    topic_arn: &str,
    metrics: Arc<dyn MetricsSink>,
    clock: Arc<ManualClock>,
) -> TestWatcher {
    Watcher {
        store: DynamoStore::new(aws_sdk_dynamodb::Client::new(sdk), TABLE),
        notifier: SnsNotifier::new(
            aws_sdk_sns::Client::new(sdk),
            topic_arn,
            Some("test".into()),
        ),
        metrics,
        inspector: EcsInspector::new(aws_sdk_ecs::Client::new(sdk)),
        clock,
        config: WatcherConfig::default(),
    }
}

/// Event time of an event.
pub(crate) fn time_of(e: &Value) -> Timestamp {
    e["time"]
        .as_str()
        .and_then(Timestamp::parse)
        .expect("event with a time")
}

/// A metrics sink that records every data point (as CloudWatch would count them)
/// and remembers which ones the current invocation sent.
#[derive(Debug, Default)]
pub(crate) struct Ledger {
    sink: RecordingMetrics,
    current: std::sync::Mutex<Vec<String>>,
}

impl Ledger {
    /// Every data point sent, in order.
    pub(crate) fn sent(&self) -> Vec<Metric> {
        self.sink.sent()
    }

    /// The keys sent since the last call.
    fn take(&self) -> Vec<String> {
        std::mem::take(&mut *self.current.lock().unwrap_or_else(|p| p.into_inner()))
    }
}

#[async_trait]
impl MetricsSink for Ledger {
    async fn send(&self, metrics: &[Metric]) -> Result<(), MetricsError> {
        self.sink.send(metrics).await?;
        self.current
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .extend(metrics.iter().map(|m| m.dedup_key.clone()));
        Ok(())
    }
}

/// Where a sequential run sees what each invocation delivered.
pub(crate) struct Observer<'a> {
    proxy: &'a FaultProxy,
    ledger: &'a Ledger,
}

/// What Lambda's retries had to do.
#[derive(Debug, Default, Clone)]
pub(crate) struct Tally {
    /// Invocations, retries included.
    pub(crate) invocations: usize,
    /// Failed invocations, by error type.
    pub(crate) failures: BTreeMap<&'static str, usize>,
    /// Events that needed Lambda's retries (same request id).
    pub(crate) retried: usize,
    /// Events that needed EventBridge's redelivery (a new request id).
    pub(crate) redelivered: usize,
    /// Alerts published by an invocation that then failed (sequential runs): the
    /// at-least-once window, where the retry publishes them again.
    pub(crate) window_alerts: BTreeSet<String>,
    /// Metric data points sent by an invocation that then failed.
    pub(crate) window_metrics: BTreeSet<String>,
}

impl Tally {
    fn add(&mut self, other: &Self) {
        self.invocations += other.invocations;
        self.retried += other.retried;
        self.redelivered += other.redelivered;
        for (k, v) in &other.failures {
            *self.failures.entry(k).or_insert(0) += v;
        }
        self.window_alerts
            .extend(other.window_alerts.iter().cloned());
        self.window_metrics
            .extend(other.window_metrics.iter().cloned());
    }
}

impl Tally {
    /// One invocation's result; with an observer, what a failed one delivered.
    fn attempt(
        &mut self,
        result: Result<Outcome, HandlerError>,
        observer: Option<(&Observer<'_>, usize)>,
    ) -> Result<Outcome, HandlerError> {
        self.invocations += 1;
        let delivered = observer.map(|(o, from)| {
            let alerts: Vec<String> = o
                .proxy
                .calls_since(from)
                .into_iter()
                .filter(|c| c.service == "sns" && c.operation == "Publish" && c.succeeded())
                .filter_map(|c| c.alert_id)
                .collect();
            (alerts, o.ledger.take())
        });
        if let Err(e) = &result {
            *self.failures.entry(e.error_type()).or_insert(0) += 1;
            if let Some((alerts, metrics)) = delivered {
                self.window_alerts.extend(alerts);
                self.window_metrics.extend(metrics);
            }
        }
        result
    }
}

/// Delivers one event as an asynchronous Lambda invocation would be: up to three
/// tries with request id `id`, then redeliveries under new ids, each a lease later.
pub(crate) async fn invoke(
    w: &TestWatcher,
    event: &Value,
    id: &str,
    tally: &mut Tally,
    observer: Option<&Observer<'_>>,
) -> Result<Outcome, HandlerError> {
    let mark = || observer.map(|o| (o, o.proxy.call_count()));
    let mut last = None;
    for attempt in 0..3 {
        if attempt == 1 {
            tally.retried += 1;
        }
        let from = mark();
        match tally.attempt(w.handle(event, id).await, from) {
            Ok(o) => return Ok(o),
            Err(e) => last = Some(e),
        }
    }
    tally.redelivered += 1;
    let lease = w.config.lease;
    for r in 1..=MAX_REDELIVERIES {
        let at = w.clock.now().plus(Millis(lease.0 * r as i64 + 1_000));
        let later = Watcher {
            store: w.store.clone(),
            notifier: w.notifier.clone(),
            metrics: w.metrics.clone(),
            inspector: w.inspector.clone(),
            clock: Arc::new(ManualClock::at(at)),
            config: w.config.clone(),
        };
        let from = mark();
        let result = later.handle(event, &format!("{id}-redelivery-{r}")).await;
        match tally.attempt(result, from) {
            Ok(o) => return Ok(o),
            Err(e) => last = Some(e),
        }
    }
    Err(last.expect("at least one try"))
}

/// What a run left behind, read back from the emulator.
pub(crate) struct Run {
    /// Messages the queue subscribed to the topic received, in order.
    pub(crate) messages: Vec<SnsMessage>,
    /// Per service: its rollouts and the number of tasks it knows.
    pub(crate) states: BTreeMap<String, (Vec<RolloutSummary>, usize)>,
    /// Per service: its finished rollouts (history items).
    pub(crate) history: BTreeMap<String, Vec<RolloutSummary>>,
    /// Outbox entries left undelivered, over all services.
    pub(crate) undelivered: usize,
    /// Every metric data point sent.
    pub(crate) metrics: Vec<Metric>,
    /// Lambda's retries.
    pub(crate) tally: Tally,
    /// Every request the proxy saw.
    pub(crate) calls: Vec<Call>,
    /// Wall-clock time of the stream.
    pub(crate) elapsed: Duration,
}

/// One emulator with the stack and the services, and a proxy in front of it.
pub(crate) struct Bench {
    pub(crate) moto: Moto,
    pub(crate) stack: stack::Stack,
    pub(crate) proxy: FaultProxy,
    pub(crate) sdk: SdkConfig,
}

impl Bench {
    /// Starts moto, creates the stack and the services, puts `plan`'s proxy in front.
    pub(crate) async fn start(mixed: &Mixed, plan: Plan) -> anyhow::Result<Self> {
        let moto = Moto::start().await?;
        let stack = stack::create(&moto, true).await?;
        create_services(&stack.sdk, &mixed.services).await?;
        let proxy = FaultProxy::start(&moto.endpoint, plan).await?;
        let sdk = proxy
            .sdk_config(ATTEMPT_TIMEOUT, Duration::from_millis(1))
            .await;
        Ok(Self {
            moto,
            stack,
            proxy,
            sdk,
        })
    }

    /// Reads back what `metrics` and the emulator hold.
    pub(crate) async fn read_back(
        &self,
        mixed: &Mixed,
        metrics: &Ledger,
        tally: Tally,
        elapsed: Duration,
    ) -> anyhow::Result<Run> {
        let store = DynamoStore::new(aws_sdk_dynamodb::Client::new(&self.stack.sdk), TABLE);
        let (mut states, mut history, mut undelivered) = (BTreeMap::new(), BTreeMap::new(), 0);
        for arn in mixed.arns() {
            let rec = store
                .load(&arn)
                .await?
                .with_context(|| format!("no state for {arn}"))?;
            undelivered += rec.outbox.entries().len();
            states.insert(
                arn.to_string(),
                (rec.state.rollouts(), rec.state.task_count()),
            );
            history.insert(arn.to_string(), store.history(&arn).await?);
        }
        Ok(Run {
            messages: self.stack.messages().await?,
            states,
            history,
            undelivered,
            metrics: metrics.sent(),
            tally,
            calls: self.proxy.calls(),
            elapsed,
        })
    }
}

/// The stream through one handler instance, one event after the other.
pub(crate) async fn sequential(mixed: &Mixed, plan: Plan) -> anyhow::Result<Run> {
    let bench = Bench::start(mixed, plan).await?;
    let metrics = Arc::new(Ledger::default());
    let clock = Arc::new(ManualClock::at(time_of(&mixed.events[0])));
    let w = watcher(
        &bench.sdk,
        &bench.stack.topic_arn,
        metrics.clone(),
        clock.clone(),
    );
    let observer = Observer {
        proxy: &bench.proxy,
        ledger: &metrics,
    };
    let mut tally = Tally::default();
    let started = Instant::now();
    for (i, e) in mixed.events.iter().enumerate() {
        clock.set(time_of(e).max(clock.now()));
        invoke(&w, e, &format!("req-{i}"), &mut tally, Some(&observer))
            .await
            .with_context(|| format!("event {i} failed after every retry"))?;
    }
    let elapsed = started.elapsed();
    bench.read_back(mixed, &metrics, tally, elapsed).await
}

/// The stream through `n` handler instances (Lambda sandboxes, each with its own
/// clients and clock) taking the next event as each becomes free.
pub(crate) async fn concurrent(mixed: &Mixed, plan: Plan, n: usize) -> anyhow::Result<Run> {
    let bench = Bench::start(mixed, plan).await?;
    let metrics = Arc::new(Ledger::default());
    let events = Arc::new(mixed.events.clone());
    let next = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let started = Instant::now();
    let mut tasks = tokio::task::JoinSet::new();
    for _ in 0..n {
        let clock = Arc::new(ManualClock::at(time_of(&events[0])));
        let w = watcher(
            &bench.sdk,
            &bench.stack.topic_arn,
            metrics.clone(),
            clock.clone(),
        );
        let (events, next) = (events.clone(), next.clone());
        tasks.spawn(async move {
            let mut tally = Tally::default();
            loop {
                let i = next.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                let Some(e) = events.get(i) else {
                    return Ok::<_, anyhow::Error>(tally);
                };
                clock.set(time_of(e).max(clock.now()));
                invoke(&w, e, &format!("req-{i}"), &mut tally, None)
                    .await
                    .with_context(|| format!("event {i} failed after every retry"))?;
            }
        });
    }
    let mut tally = Tally::default();
    while let Some(done) = tasks.join_next().await {
        tally.add(&done??);
    }
    let elapsed = started.elapsed();
    bench.read_back(mixed, &metrics, tally, elapsed).await
}

/// Messages per alert id.
pub(crate) fn ids(run: &Run) -> BTreeMap<String, usize> {
    let mut out = BTreeMap::new();
    for m in &run.messages {
        *out.entry(m.id().to_owned()).or_insert(0) += 1;
    }
    out
}

/// Data points per dedup key, the watcher's own health metrics left out: those
/// count what an invocation did (an alert published twice is two publishes), and
/// their key is the invocation's wall-clock time, not an event's.
pub(crate) fn metric_keys(run: &Run) -> BTreeMap<String, usize> {
    let mut out = BTreeMap::new();
    for m in &run.metrics {
        if m.dedup_key.starts_with("health|") {
            continue;
        }
        *out.entry(m.dedup_key.clone()).or_insert(0) += 1;
    }
    out
}
