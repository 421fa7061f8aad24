//! One run: the emulator with the stack and the services, the proxy in front, the
//! stream through one handler instance or several, and what the run left behind.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::Context;
use aws_config::SdkConfig;
use aws_sdk_dynamodb::types::AttributeValue;
use aws_sdk_ecs::types::{ContainerDefinition, DeploymentCircuitBreaker, DeploymentConfiguration};
use rollout_watcher::adapters::dynamodb::{DynamoStore, LIVE_SK, item_size};
use rollout_watcher::core::{Metric, RolloutSummary};
use rollout_watcher::lambda::EventDelivery;
use rollout_watcher::ports::{Clock, StateStore};
use rollout_watcher_cli::simulate::Params;

use super::instance::{LoadClock, LoadWatcher, watcher};
use super::retry::{Tally, invoke, sweep_after};
use super::stream::{CLUSTER, Mixed};
use super::{LEASE_FOR_COMPRESSED_TIME, Setup};
use crate::fault_proxy::{Call, FaultProxy};
use crate::moto::Moto;
use crate::scenario::time_of;
use crate::stack::{self, SnsMessage, TABLE};

/// Creates the cluster and one ECS service per simulation, with its settings.
pub async fn create_services(sdk: &SdkConfig, services: &[Params]) -> anyhow::Result<()> {
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
/// What a run left behind, read back from the emulator.
pub struct Run {
    /// Messages the queue subscribed to the topic received, in order.
    pub messages: Vec<SnsMessage>,
    /// Per service: its rollouts and the number of tasks it knows.
    pub states: BTreeMap<String, (Vec<RolloutSummary>, usize)>,
    /// Per service: its finished rollouts (history items).
    pub history: BTreeMap<String, Vec<RolloutSummary>>,
    /// Per service: the event ids its state remembers (its last 64).
    pub remembered: BTreeMap<String, BTreeSet<String>>,
    /// Per service: its stored state as JSON (tasks, deployments, rollouts, …).
    pub docs: BTreeMap<String, serde_json::Value>,
    /// Per service: the size of its live item at the end, as DynamoDB counts it
    /// toward its 400 KB item limit.
    pub item_bytes: BTreeMap<String, usize>,
    /// Outbox entries left undelivered, over all services.
    pub undelivered: usize,
    /// Every metric data point sent.
    pub metrics: Vec<Metric>,
    /// Lambda's retries.
    pub tally: Tally,
    /// Every request the proxy saw.
    pub calls: Vec<Call>,
    /// Wall-clock time of the stream.
    pub elapsed: Duration,
}

/// One emulator with the stack and the services, and a proxy in front of it.
pub struct Bench {
    /// The emulator (kept running while the bench lives).
    pub moto: Moto,
    /// The table, topic and queue, reached directly (not through the proxy).
    pub stack: stack::Stack,
    /// The proxy in front of the emulator.
    pub proxy: FaultProxy,
    /// The SDK configuration of the watchers' clients: through the proxy.
    pub sdk: SdkConfig,
}

impl Bench {
    /// A handler instance on the proxy, as the Lambda wires it for `delivery`.
    pub fn watcher(&self, clock: Arc<LoadClock>, delivery: EventDelivery) -> LoadWatcher {
        watcher(&self.sdk, &self.stack.topic_arn, clock, delivery)
    }

    /// Starts moto (ECS reporting `running` tasks for every service), creates the
    /// stack and the services, puts `plan`'s proxy in front.
    pub async fn start(mixed: &Mixed, setup: Setup) -> anyhow::Result<Self> {
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
    pub async fn read_back(
        &self,
        mixed: &Mixed,
        metrics: Vec<Metric>,
        tally: Tally,
        elapsed: Duration,
    ) -> anyhow::Result<Run> {
        let store = DynamoStore::new(aws_sdk_dynamodb::Client::new(&self.stack.sdk), TABLE);
        let (mut states, mut history, mut undelivered) = (BTreeMap::new(), BTreeMap::new(), 0);
        let (mut remembered, mut docs, mut item_bytes) =
            (BTreeMap::new(), BTreeMap::new(), BTreeMap::new());
        let raw = aws_sdk_dynamodb::Client::new(&self.stack.sdk);
        for arn in mixed.arns() {
            let item = raw
                .get_item()
                .table_name(TABLE)
                .key("pk", AttributeValue::S(arn.to_string()))
                .key("sk", AttributeValue::S(LIVE_SK.to_owned()))
                .consistent_read(true)
                .send()
                .await
                .with_context(|| format!("GetItem {arn}"))?;
            item_bytes.insert(arn.to_string(), item.item().map_or(0, item_size));
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
            docs.insert(arn.to_string(), doc);
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
            docs,
            item_bytes,
            undelivered,
            metrics,
            tally,
            calls: self.proxy.calls(),
            elapsed,
        })
    }
}

/// The stream through one handler instance, one event after the other.
pub async fn sequential(mixed: &Mixed, setup: Setup) -> anyhow::Result<Run> {
    let sleeps = setup.real_back_off;
    let bench = Bench::start(mixed, setup).await?;
    let clock = Arc::new(LoadClock::at(time_of(&mixed.events[0]), sleeps));
    let w = bench.watcher(clock.clone(), EventDelivery::Direct);
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
/// The stream through `n` handler instances (Lambda sandboxes, each with its own
/// clients and clock) taking the next event as each becomes free. An event whose
/// every retry fails is recorded in [`Tally::unapplied`] and the run goes on.
pub async fn concurrent(mixed: &Mixed, setup: Setup, n: usize) -> anyhow::Result<Run> {
    let sleeps = setup.real_back_off;
    let bench = Bench::start(mixed, setup).await?;
    let events = Arc::new(mixed.events.clone());
    let next = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let started = Instant::now();
    let mut tasks = tokio::task::JoinSet::new();
    for _ in 0..n {
        let clock = Arc::new(LoadClock::at(time_of(&events[0]), sleeps));
        let mut w = bench.watcher(clock.clone(), EventDelivery::Direct);
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
                if let Err(err) = invoke(&w, e, &format!("req-{i}"), &mut tally).await {
                    // Lost, as AWS loses it to the on-failure destination; the run
                    // goes on, and says so.
                    let mut why = err.to_string();
                    let mut source = std::error::Error::source(&err);
                    while let Some(s) = source {
                        why.push_str(&format!(": {s}"));
                        source = s.source();
                    }
                    let d = &e["detail"];
                    tally.unapplied.push(format!(
                        "event {i} ({} {}{} {}): {why}",
                        e["detail-type"].as_str().unwrap_or_default(),
                        d["eventName"].as_str().unwrap_or_default(),
                        d["lastStatus"].as_str().unwrap_or_default(),
                        e["time"].as_str().unwrap_or_default(),
                    ));
                }
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
    let clock = Arc::new(LoadClock::at(last, sleeps));
    let w = bench.watcher(clock.clone(), EventDelivery::Direct);
    sweep_after(&w, &clock, &mut tally).await?;
    metrics.extend(w.metrics.sink.sent());
    let elapsed = started.elapsed();
    bench.read_back(mixed, metrics, tally, elapsed).await
}
