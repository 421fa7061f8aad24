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
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anyhow::Context;
use async_trait::async_trait;
use aws_config::SdkConfig;
use aws_sdk_ecs::types::{ContainerDefinition, DeploymentCircuitBreaker, DeploymentConfiguration};
use integration_tests::fault_proxy::{Call, FaultProxy, Plan};
use integration_tests::moto::Moto;
use integration_tests::stack::{self, SnsMessage, TABLE};
use rollout_watcher::adapters::cached::CachedStore;
use rollout_watcher::adapters::dynamodb::DynamoStore;
use rollout_watcher::adapters::ecs::EcsInspector;
use rollout_watcher::adapters::recording::{ManualClock, RecordingMetrics};
use rollout_watcher::adapters::sns::SnsNotifier;
use rollout_watcher::core::Alert;
use rollout_watcher::core::{Metric, RolloutSummary};
use rollout_watcher::delivery::{HandlerError, Outcome, SweepConfig, Watcher, WatcherConfig};
use rollout_watcher::model::{Millis, ServiceArn, Timestamp};
use rollout_watcher::ports::{Clock, MetricsError, MetricsSink, Notifier, NotifyError, StateStore};
use rollout_watcher_cli::simulate::{Params, Scenario, simulate};
use serde_json::Value;

/// The cluster of every service in the stream.
pub(crate) const CLUSTER: &str = "load-cluster";

/// Redeliveries after Lambda's own retries, at most.
pub(crate) const MAX_REDELIVERIES: usize = 10;

/// The SDK attempt timeout of the fault test's clients (the proxy's slow replies are
/// held longer than this).
pub(crate) const ATTEMPT_TIMEOUT: Duration = Duration::from_millis(500);

/// How a run is set up.
#[derive(Clone, Debug)]
pub(crate) struct Setup {
    /// The proxy's faults.
    pub(crate) plan: Plan,
    /// What moto's DescribeServices reports as running, for every service.
    pub(crate) running: u32,
    /// The SDK clients' attempt timeout.
    pub(crate) attempt_timeout: Duration,
}

/// How long the proxy holds a slow reply.
pub(crate) const SLOW_REPLY: Duration = Duration::from_millis(600);

/// The outbox lease of the concurrent instances. Leases are about wall-clock time
/// in flight (an invocation holds its claims for two minutes), but these virtual
/// clocks follow event time, and the stream packs an hour of events into seconds:
/// an instance still in flight would see its claims "expire" when another
/// instance's clock has moved on by two minutes of event time. A lease longer than
/// the stream restores the real relation (no invocation here lives two minutes).
pub(crate) const LEASE_FOR_COMPRESSED_TIME: Millis = Millis(24 * 3600 * 1000);

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
    /// Per service ARN, the ids of its events.
    pub(crate) event_ids: BTreeMap<String, BTreeSet<String>>,
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
    let mut event_ids: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
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
        let arn = format!(
            "arn:aws:ecs:{}:{}:service/{}/{}",
            params.region, params.account, params.cluster, params.service
        );
        for e in simulate(&params).expect("valid parameters").events {
            let id = e["id"].as_str().unwrap_or_default().to_owned();
            event_ids.entry(arn.clone()).or_default().insert(id);
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
        event_ids,
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

/// The watcher of one handler instance: the real adapters (the store with its
/// sandbox cache, as deployed), with the notifier and the metrics sink watched so a
/// failed invocation's deliveries are known.
pub(crate) type LoadWatcher = Watcher<(
    Arc<CachedStore<DynamoStore>>,
    Tracked,
    Arc<Ledger>,
    EcsInspector,
    Arc<ManualClock>,
)>;

/// The watcher wired to `sdk` (the proxy's configuration), as the Lambda wires it.
pub(crate) fn watcher(sdk: &SdkConfig, topic_arn: &str, clock: Arc<ManualClock>) -> LoadWatcher {
    Watcher {
        store: Arc::new(CachedStore::new(DynamoStore::new(
            aws_sdk_dynamodb::Client::new(sdk),
            TABLE,
        ))),
        notifier: Tracked {
            inner: SnsNotifier::new(
                aws_sdk_sns::Client::new(sdk),
                topic_arn,
                Some("test".into()),
            ),
            current: Arc::default(),
        },
        metrics: Arc::new(Ledger::default()),
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

fn take(keys: &Mutex<Vec<String>>) -> Vec<String> {
    std::mem::take(&mut *keys.lock().unwrap_or_else(|p| p.into_inner()))
}

/// The SNS notifier, remembering which alerts the current invocation published.
#[derive(Clone, Debug)]
pub(crate) struct Tracked {
    inner: SnsNotifier,
    current: Arc<Mutex<Vec<String>>>,
}

#[async_trait]
impl Notifier for Tracked {
    async fn publish(&self, alert: &Alert) -> Result<(), NotifyError> {
        self.inner.publish(alert).await?;
        self.current
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .push(alert.dedup_key.clone());
        Ok(())
    }
}

/// A metrics sink that records every data point (as CloudWatch would count them)
/// and remembers which ones the current invocation sent. It stands for EMF, the
/// deployed default: a line in the invocation's log, written after the state write.
#[derive(Debug, Default)]
pub(crate) struct Ledger {
    sink: RecordingMetrics,
    current: Mutex<Vec<String>>,
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

    fn writes_to_log(&self) -> bool {
        true
    }
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
    /// Alerts published by an invocation that then failed: the at-least-once
    /// window, where the retry publishes them again.
    pub(crate) window_alerts: BTreeSet<String>,
    /// Metric data points sent by an invocation that then failed.
    pub(crate) window_metrics: BTreeSet<String>,
    /// Every publish: the invocation's request id and the alert's key.
    pub(crate) published: Vec<(String, String)>,
    /// Ids of the events whose invocation answered `applied` (changed the state).
    pub(crate) applied: BTreeSet<String>,
    /// Sweeper invocations, retries included.
    pub(crate) sweeps: usize,
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
        self.published.extend(other.published.iter().cloned());
        self.applied.extend(other.applied.iter().cloned());
    }

    /// One invocation's result, and what it delivered if it failed.
    fn attempt<T>(
        &mut self,
        w: &LoadWatcher,
        id: &str,
        result: Result<T, HandlerError>,
    ) -> Result<T, HandlerError> {
        self.invocations += 1;
        let (alerts, metrics) = (take(&w.notifier.current), take(&w.metrics.current));
        self.published
            .extend(alerts.iter().map(|k| (id.to_owned(), k.clone())));
        if let Err(e) = &result {
            *self.failures.entry(e.error_type()).or_insert(0) += 1;
            self.window_alerts.extend(alerts);
            self.window_metrics.extend(metrics);
        }
        result
    }
}

/// Delivers one event as an asynchronous Lambda invocation would be: up to three
/// tries with request id `id`, then redeliveries under new ids, each a lease later.
pub(crate) async fn invoke(
    w: &LoadWatcher,
    event: &Value,
    id: &str,
    tally: &mut Tally,
) -> Result<Outcome, HandlerError> {
    let outcome = retried(w, event, id, tally).await?;
    if outcome.status == "applied" {
        tally
            .applied
            .insert(event["id"].as_str().unwrap_or_default().to_owned());
    }
    Ok(outcome)
}

async fn retried(
    w: &LoadWatcher,
    event: &Value,
    id: &str,
    tally: &mut Tally,
) -> Result<Outcome, HandlerError> {
    let mut last = None;
    for attempt in 0..3 {
        if attempt == 1 {
            tally.retried += 1;
        }
        let result = w.handle(event, id).await;
        match tally.attempt(w, id, result) {
            Ok(o) => return Ok(o),
            Err(e) => last = Some(e),
        }
    }
    tally.redelivered += 1;
    let lease = w.config.lease;
    for r in 1..=MAX_REDELIVERIES {
        let at = w.clock.now().plus(Millis(lease.0 * r as i64 + 1_000));
        let later: LoadWatcher = Watcher {
            store: w.store.clone(),
            notifier: w.notifier.clone(),
            metrics: w.metrics.clone(),
            inspector: w.inspector.clone(),
            clock: Arc::new(ManualClock::at(at)),
            config: w.config.clone(),
        };
        let again = format!("{id}-redelivery-{r}");
        let result = later.handle(event, &again).await;
        match tally.attempt(w, &again, result) {
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
    /// Per service: the event ids its state remembers (its last 64).
    pub(crate) remembered: BTreeMap<String, BTreeSet<String>>,
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
    /// Starts moto (ECS reporting `running` tasks for every service), creates the
    /// stack and the services, puts `plan`'s proxy in front.
    pub(crate) async fn start(mixed: &Mixed, setup: Setup) -> anyhow::Result<Self> {
        let running = setup.running.to_string();
        let moto = Moto::start_with(&[("MOTO_ECS_SERVICE_RUNNING", &running)]).await?;
        let stack = stack::create(&moto, true).await?;
        create_services(&stack.sdk, &mixed.services).await?;
        let proxy = FaultProxy::start(&moto.endpoint, setup.plan).await?;
        let sdk = proxy
            .sdk_config(setup.attempt_timeout, Duration::from_millis(1))
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
        metrics: Vec<Metric>,
        tally: Tally,
        elapsed: Duration,
    ) -> anyhow::Result<Run> {
        let store = DynamoStore::new(aws_sdk_dynamodb::Client::new(&self.stack.sdk), TABLE);
        let (mut states, mut history, mut undelivered) = (BTreeMap::new(), BTreeMap::new(), 0);
        let mut remembered = BTreeMap::new();
        for arn in mixed.arns() {
            let rec = store
                .load(&arn)
                .await?
                .with_context(|| format!("no state for {arn}"))?;
            undelivered += rec.outbox.entries().len();
            let doc = serde_json::to_value(&rec.state)?;
            let ids = doc["recent_events"]
                .as_array()
                .map(|a| {
                    a.iter()
                        .filter_map(|v| v.as_str().map(str::to_owned))
                        .collect()
                })
                .unwrap_or_default();
            remembered.insert(arn.to_string(), ids);
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
            remembered,
            undelivered,
            metrics,
            tally,
            calls: self.proxy.calls(),
            elapsed,
        })
    }
}

/// The stream through one handler instance, one event after the other.
pub(crate) async fn sequential(mixed: &Mixed, setup: Setup) -> anyhow::Result<Run> {
    let bench = Bench::start(mixed, setup).await?;
    let clock = Arc::new(ManualClock::at(time_of(&mixed.events[0])));
    let w = watcher(&bench.sdk, &bench.stack.topic_arn, clock.clone());
    let mut tally = Tally::default();
    let started = Instant::now();
    for (i, e) in mixed.events.iter().enumerate() {
        clock.set(time_of(e).max(clock.now()));
        invoke(&w, e, &format!("req-{i}"), &mut tally)
            .await
            .with_context(|| format!("event {i} failed after every retry"))?;
    }
    sweep_after(&w, &clock, &mut tally).await?;
    let elapsed = started.elapsed();
    bench
        .read_back(mixed, w.metrics.sink.sent(), tally, elapsed)
        .await
}

/// Minutes after the last event at which the sweeper ticks: two ticks, then three
/// past the 15-minute stall deadline (a `deployment_stalled` is due then).
pub(crate) const SWEEP_TICKS: [i64; 5] = [1, 2, 17, 18, 19];

/// The rollout-sweeper's scheduled ticks after the stream, on the same clock; a
/// failed tick is retried at the same instant (Lambda's retry of the scheduled
/// invocation), at most ten times.
async fn sweep_after(
    w: &LoadWatcher,
    clock: &ManualClock,
    tally: &mut Tally,
) -> anyhow::Result<()> {
    let config = SweepConfig {
        max_services: 100,
        watch_clusters: Vec::new(),
    };
    let end = clock.now();
    for minute in SWEEP_TICKS {
        clock.set(end.plus(Millis::from_secs(60 * minute)));
        let mut done = false;
        for attempt in 0..10 {
            let id = format!("sweep-{minute}-{attempt}");
            let result = w.sweep(&config, &id).await;
            tally.sweeps += 1;
            if tally.attempt(w, &id, result).is_ok() {
                done = true;
                break;
            }
        }
        anyhow::ensure!(done, "the sweep at +{minute} min failed ten times");
    }
    Ok(())
}

/// The stream through `n` handler instances (Lambda sandboxes, each with its own
/// clients and clock) taking the next event as each becomes free.
pub(crate) async fn concurrent(mixed: &Mixed, setup: Setup, n: usize) -> anyhow::Result<Run> {
    let bench = Bench::start(mixed, setup).await?;
    let events = Arc::new(mixed.events.clone());
    let next = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let started = Instant::now();
    let mut tasks = tokio::task::JoinSet::new();
    for _ in 0..n {
        let clock = Arc::new(ManualClock::at(time_of(&events[0])));
        let mut w = watcher(&bench.sdk, &bench.stack.topic_arn, clock.clone());
        w.config.lease = LEASE_FOR_COMPRESSED_TIME;
        let (events, next) = (events.clone(), next.clone());
        tasks.spawn(async move {
            let mut tally = Tally::default();
            loop {
                let i = next.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                let Some(e) = events.get(i) else {
                    return Ok::<_, anyhow::Error>((tally, w.metrics.sink.sent()));
                };
                clock.set(time_of(e).max(clock.now()));
                invoke(&w, e, &format!("req-{i}"), &mut tally)
                    .await
                    .with_context(|| format!("event {i} failed after every retry"))?;
            }
        });
    }
    let (mut tally, mut metrics) = (Tally::default(), Vec::new());
    while let Some(done) = tasks.join_next().await {
        let (t, m) = done??;
        tally.add(&t);
        metrics.extend(m);
    }
    // The scheduled sweeper ticks after the stream, as in the sequential run.
    let last = events
        .iter()
        .map(time_of)
        .max()
        .unwrap_or_else(|| time_of(&events[0]));
    let clock = Arc::new(ManualClock::at(last));
    let w = watcher(&bench.sdk, &bench.stack.topic_arn, clock.clone());
    sweep_after(&w, &clock, &mut tally).await?;
    metrics.extend(w.metrics.sink.sent());
    let elapsed = started.elapsed();
    bench.read_back(mixed, metrics, tally, elapsed).await
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

/// The entries where two maps differ, as `key: left != right` lines.
pub(crate) fn differences<V: PartialEq + std::fmt::Debug>(
    left: &BTreeMap<String, V>,
    right: &BTreeMap<String, V>,
) -> Vec<String> {
    let keys: BTreeSet<&String> = left.keys().chain(right.keys()).collect();
    keys.into_iter()
        .filter(|k| left.get(*k) != right.get(*k))
        .map(|k| format!("{k}:\n  {:?}\n  {:?}", left.get(k), right.get(k)))
        .collect()
}

/// Alerts whose publish reached moto only after the client had timed out: the
/// client retried, so SNS got them twice, as AWS can (at-least-once too).
pub(crate) fn late_publishes(run: &Run, timeout: Duration) -> BTreeSet<String> {
    run.calls
        .iter()
        .filter(|c| c.service == "sns" && c.operation == "Publish" && c.succeeded())
        .filter(|c| c.elapsed >= timeout)
        .filter_map(|c| c.alert_id.clone())
        .collect()
}
