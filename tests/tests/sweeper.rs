//! The rollout-sweeper's tick: what silence means. Stalled rollouts, zeros that only
//! ECS can confirm, effects a failed invocation left behind, outcomes whose event
//! never came, and the per-tick `RunningTaskCount` gauge. Against the emulator where
//! it can play the part; with in-memory doubles where moto cannot (its deployments
//! have random ids).

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::Arc;

use integration_tests::expect::{self, parse_emf};
use integration_tests::moto::Moto;
use integration_tests::stack::{self, SnsMessage};
use rollout_watcher::adapters::memory::MemoryStore;
use rollout_watcher::adapters::recording::{
    ManualClock, RecordingMetrics, RecordingNotifier, StaticInspector,
};
use rollout_watcher::core::ServiceConfig;
use rollout_watcher::delivery::{SweepConfig, Watcher, WatcherConfig};
use rollout_watcher::model::{Millis, ServiceArn, Timestamp};
use rollout_watcher::ports::{Clock, DeploymentView, SaveRequest, ServiceView, StateStore};
use rollout_watcher::replay::Replay;
use rollout_watcher_cli::simulate::{Params, Scenario};

use integration_tests::scenario::{SERVICE, clock_for, drive, emf, events, stream, time_of};

fn sweep_config() -> SweepConfig {
    SweepConfig {
        max_services: 100,
        watch_clusters: vec![],
    }
}

fn names(msgs: &[SnsMessage]) -> Vec<&str> {
    msgs.iter().map(SnsMessage::alert).collect()
}

/// Settings under which ECS can neither start nor stop a task: the stream ends with
/// the rollout in progress. Past the deadline the sweeper fires `deployment_stalled`
/// (the replay with `--now` agrees), once, however many ticks follow.
#[tokio::test]
async fn stalled_rollout_is_flagged_once_by_the_sweeper() {
    // The old task keeps serving while the rollout hangs: ECS reports it running
    // (the sweeper hands ECS's counts to the state machine every tick).
    let moto = Moto::start_with(&[("MOTO_ECS_SERVICE_RUNNING", "1")])
        .await
        .unwrap();
    let stack = stack::create(&moto, true).await.unwrap();
    let events = events(Scenario::Stalled);
    let (sink, _) = emf();
    let w = stack.watcher(sink, clock_for(&events));
    for r in drive(&w, &events).await {
        r.unwrap();
    }
    let before = stack.messages().await.unwrap();
    assert!(!names(&before).contains(&"deployment_stalled"));

    let later = time_of(events.last().unwrap()).plus(Millis::from_secs(16 * 60));
    w.clock.set(later);
    let report = w.sweep(&sweep_config(), "tick-1").await.unwrap();
    assert!(report.services >= 1);
    let ticked = stack.messages().await.unwrap();
    assert_eq!(names(&ticked), ["deployment_stalled"]);

    let mut replay = Replay::default();
    for e in &events {
        let _ = replay.apply_json(&e.to_string()).unwrap();
    }
    let want: Vec<_> = replay
        .tick_all(later)
        .alerts()
        .map(|a| a.dedup_key.clone())
        .collect();
    assert_eq!(
        ticked.iter().map(|m| m.id().to_owned()).collect::<Vec<_>>(),
        want
    );

    w.clock.set(later.plus(Millis::from_secs(60)));
    w.sweep(&sweep_config(), "tick-2").await.unwrap();
    assert!(
        stack.messages().await.unwrap().is_empty(),
        "no second stalled alert"
    );
}

/// The last serving task stops and no event follows. After the grace the sweeper
/// asks ECS (running 0, desired 1 on this emulator), pages `zero_running_tasks`
/// once, and keeps emitting `RunningTaskCount` 0 each tick.
#[tokio::test]
async fn silent_zero_is_confirmed_and_paged_by_the_sweeper() {
    let moto = Moto::start().await.unwrap();
    let stack = stack::create(&moto, true).await.unwrap();
    let events = events(Scenario::ZeroRunning);
    let (sink, lines) = emf();
    let w = stack.watcher(sink, clock_for(&events));
    let service = ServiceArn::parse(SERVICE).unwrap();
    let mut served = false;
    let mut last = None;
    for (i, e) in events.iter().enumerate() {
        w.clock.set(time_of(e).max(w.clock.now()));
        w.handle(e, &format!("req-{i}")).await.unwrap();
        let rec = w.store.load(&service).await.unwrap().unwrap();
        served |= rec.state.serving_now() > 0;
        if served && rec.state.serving_now() == 0 {
            last = Some(time_of(e));
            break;
        }
    }
    let gap_start = last.expect("the stream has a zero window");
    let _ = stack.messages().await.unwrap();

    w.clock.set(gap_start.plus(Millis::from_secs(45)));
    w.sweep(&sweep_config(), "tick-1").await.unwrap();
    w.clock.set(gap_start.plus(Millis::from_secs(105)));
    w.sweep(&sweep_config(), "tick-2").await.unwrap();
    let msgs = stack.messages().await.unwrap();
    assert_eq!(names(&msgs), ["zero_running_tasks"]);
    assert_eq!(msgs[0].attributes["severity"], "critical");
    let gauges: Vec<f64> = lines
        .lines()
        .iter()
        .flat_map(|l| parse_emf(l).unwrap())
        .filter(|p| p.name == "RunningTaskCount" && p.timestamp >= gap_start.as_millis() + 45_000)
        .map(|p| p.value)
        .collect();
    assert_eq!(gauges, [0.0, 0.0], "one gauge per tick");
}

/// SNS was missing for a whole rollout: every invocation failed with its effects
/// saved. Once the topic exists, one tick of the sweeper delivers them all, in
/// order, exactly once, with no event redelivered.
#[tokio::test]
async fn sweeper_flushes_what_failed_invocations_left() {
    let moto = Moto::start().await.unwrap();
    let mut stack = stack::create(&moto, false).await.unwrap();
    let events = events(Scenario::HealthCheckRollback);
    let (sink, _) = emf();
    let w = stack.watcher(sink, clock_for(&events));
    let failed = drive(&w, &events)
        .await
        .iter()
        .filter(|r| r.is_err())
        .count();
    assert!(failed > 0);
    stack.create_topic().await.unwrap();
    let report = w.sweep(&sweep_config(), "tick").await.unwrap();
    let (alerts, _) = expect::replay(&events);
    assert_eq!(report.alerts_published, alerts.len());
    let ids: Vec<String> = stack
        .messages()
        .await
        .unwrap()
        .iter()
        .map(|m| m.id().to_owned())
        .collect();
    assert_eq!(
        ids,
        alerts
            .iter()
            .map(|a| a.dedup_key.clone())
            .collect::<Vec<_>>()
    );
}

/// A cluster watched in full: its service gets a `RunningTaskCount` data point each
/// tick even though no event ever mentioned it (ListServices + DescribeServices).
#[tokio::test]
async fn watched_cluster_services_get_a_gauge_each_tick() {
    let moto = Moto::start_with(&[("MOTO_ECS_SERVICE_RUNNING", "1")])
        .await
        .unwrap();
    let stack = stack::create(&moto, true).await.unwrap();
    let (sink, lines) = emf();
    let w = stack.watcher(
        sink,
        Arc::new(ManualClock::at(time_of(&events(Scenario::Success)[0]))),
    );
    let cfg = SweepConfig {
        max_services: 100,
        watch_clusters: vec!["arn:aws:ecs:eu-west-1:123456789012:cluster/demo-cluster".into()],
    };
    let report = w.sweep(&cfg, "tick").await.unwrap();
    assert_eq!(report.services, 1);
    let points: Vec<_> = lines
        .lines()
        .iter()
        .flat_map(|l| parse_emf(l).unwrap())
        .collect();
    assert_eq!(points.len(), 1);
    assert_eq!(
        (points[0].name.as_str(), points[0].value),
        ("RunningTaskCount", 1.0)
    );
    assert_eq!(points[0].dimensions["ServiceName"], "web");
}

/// A service of a watched cluster that died before the watcher existed: no event
/// will ever mention it. ECS says 0 of 1 running; the first tick opens the window,
/// the next one past the grace pages `zero_running_tasks`, once.
#[tokio::test]
async fn watched_service_down_before_any_event_pages_after_the_grace() {
    let moto = Moto::start_with(&[("MOTO_ECS_SERVICE_RUNNING", "0")])
        .await
        .unwrap();
    let stack = stack::create(&moto, true).await.unwrap();
    let (sink, _lines) = emf();
    let start = time_of(&events(Scenario::Success)[0]);
    let w = stack.watcher(sink, Arc::new(ManualClock::at(start)));
    let cfg = SweepConfig {
        max_services: 100,
        watch_clusters: vec!["arn:aws:ecs:eu-west-1:123456789012:cluster/demo-cluster".into()],
    };
    w.sweep(&cfg, "tick-1").await.unwrap();
    assert!(
        names(&stack.messages().await.unwrap()).is_empty(),
        "not before the grace"
    );
    for (i, secs) in [60, 120].into_iter().enumerate() {
        w.clock.set(start.plus(Millis::from_secs(secs)));
        w.sweep(&cfg, &format!("tick-{}", i + 2)).await.unwrap();
    }
    assert_eq!(
        names(&stack.messages().await.unwrap()),
        ["zero_running_tasks"]
    );
}

/// A watched cluster's service created before 2021 keeps its short ARN
/// (`service/web`, no cluster), and ListServices returns it so: the sweeper places
/// it in its cluster as the events do, and pages its silent zero under the long
/// ARN, once. (moto names services in the short form when the account opts out of
/// the long one.)
#[tokio::test]
async fn watched_pre_2021_service_with_a_short_arn_is_swept_under_its_long_arn() {
    let moto = Moto::start_with(&[("MOTO_ECS_SERVICE_RUNNING", "0")])
        .await
        .unwrap();
    let ecs = aws_sdk_ecs::Client::new(&moto.sdk_config().await);
    ecs.put_account_setting()
        .name(aws_sdk_ecs::types::SettingName::ServiceLongArnFormat)
        .value("disabled")
        .send()
        .await
        .unwrap();
    let stack = stack::create(&moto, true).await.unwrap();
    let cluster = "arn:aws:ecs:eu-west-1:123456789012:cluster/demo-cluster";
    let listed = ecs.list_services().cluster(cluster).send().await.unwrap();
    assert_eq!(
        listed.service_arns(),
        ["arn:aws:ecs:eu-west-1:123456789012:service/web"],
        "the emulator gives the short form"
    );
    let (sink, _lines) = emf();
    let start = time_of(&events(Scenario::Success)[0]);
    let w = stack.watcher(sink, Arc::new(ManualClock::at(start)));
    let cfg = SweepConfig {
        max_services: 100,
        watch_clusters: vec![cluster.into()],
    };
    for (i, secs) in [0, 60, 120].into_iter().enumerate() {
        w.clock.set(start.plus(Millis::from_secs(secs)));
        let report = w.sweep(&cfg, &format!("tick-{i}")).await.unwrap();
        assert_eq!((report.services, report.failed), (1, 0));
    }
    let messages = stack.messages().await.unwrap();
    assert_eq!(names(&messages), ["zero_running_tasks"]);
    assert_eq!(
        messages[0].body["metadata"]["relatedResources"][0],
        "arn:aws:ecs:eu-west-1:123456789012:service/demo-cluster/web"
    );
}

type MemWatcher = Watcher<(
    Arc<MemoryStore>,
    Arc<RecordingNotifier>,
    Arc<RecordingMetrics>,
    Arc<StaticInspector>,
    Arc<ManualClock>,
)>;

/// The in-memory world, ECS describing the service as running its one task.
fn memory_world(events: &[serde_json::Value]) -> MemWatcher {
    let inspector = StaticInspector::new();
    inspector.set_view(Some(view(1, vec![])));
    Watcher {
        store: Arc::new(MemoryStore::new()),
        notifier: Arc::new(RecordingNotifier::new()),
        metrics: Arc::new(RecordingMetrics::new()),
        inspector: Arc::new(inspector),
        clock: clock_for(events),
        config: WatcherConfig::default(),
    }
}

/// [`memory_world`] with `fed` handled by it, every event applied.
async fn fed_memory_world(events: &[serde_json::Value], fed: &[serde_json::Value]) -> MemWatcher {
    let w = memory_world(events);
    for r in drive(&w, fed).await {
        r.unwrap();
    }
    w
}

/// The COMPLETED event of a rollout never arrives; DescribeServices says the
/// deployment completed. The sweeper finishes the rollout with the same alert the
/// event would have given (moto's deployments have random ids, hence the doubles).
#[tokio::test]
async fn missed_completion_is_finished_from_describe_services() {
    let events = events(Scenario::Success);
    let completed = events
        .iter()
        .rposition(|e| e["detail"]["eventName"] == "SERVICE_DEPLOYMENT_COMPLETED")
        .unwrap();
    let mut lossy = events.clone();
    let lost = lossy.remove(completed);
    let w = fed_memory_world(&events, &lossy).await;
    let published = |w: &MemWatcher| -> Vec<&'static str> {
        w.notifier
            .published()
            .iter()
            .map(|a| a.alert.as_str())
            .collect()
    };
    assert!(!published(&w).contains(&"deployment_completed"));
    w.inspector.set_view(Some(ServiceView {
        config: ServiceConfig::default(),
        desired: 1,
        running: 1,
        deployments: vec![DeploymentView {
            id: lost["detail"]["deploymentId"].as_str().unwrap().to_owned(),
            status: Some("PRIMARY".into()),
            rollout_state: Some("COMPLETED".into()),
            reason: Some("ECS deployment completed.".into()),
            updated_at: lost["detail"]["updatedAt"]
                .as_str()
                .and_then(Timestamp::parse),
        }],
    }));
    w.clock.set(time_of(&lost).plus(Millis::from_secs(120)));
    w.sweep(&sweep_config(), "tick").await.unwrap();
    assert_eq!(published(&w).last(), Some(&"deployment_completed"));
    let history = w
        .store
        .history(&ServiceArn::parse(SERVICE).unwrap())
        .await
        .unwrap();
    assert!(history.iter().any(|r| r.state.as_str() == "completed"));
}

/// Two sweeps at once on the same stalled service: one alert (conditional writes
/// and outbox claims, as for the handler). Work per tick is bounded.
#[tokio::test]
async fn concurrent_sweeps_alert_once_and_ticks_are_bounded() {
    let events = events(Scenario::Stalled);
    let w = fed_memory_world(&events, &events).await;
    w.clock
        .set(time_of(events.last().unwrap()).plus(Millis::from_secs(16 * 60)));
    let cfg = sweep_config();
    let (a, b) = tokio::join!(w.sweep(&cfg, "tick-a"), w.sweep(&cfg, "tick-b"));
    a.unwrap();
    b.unwrap();
    let stalled = w
        .notifier
        .published()
        .iter()
        .filter(|a| a.alert.as_str() == "deployment_stalled")
        .count();
    assert_eq!(stalled, 1);

    let bounded = SweepConfig {
        max_services: 1,
        watch_clusters: vec![],
    };
    let other = events
        .iter()
        .map(|e| {
            serde_json::from_str(
                &e.to_string()
                    .replace("service/demo-cluster/web", "service/demo-cluster/api")
                    .replace("service:web", "service:api"),
            )
            .unwrap()
        })
        .collect::<Vec<serde_json::Value>>();
    for r in drive(&w, &other).await {
        r.unwrap();
    }
    w.clock.set(w.clock.now().plus(Millis::from_secs(16 * 60)));
    assert_eq!(w.sweep(&bounded, "tick-c").await.unwrap().services, 1);
}

// ── Adversarial scenarios: silence, outages and races around the sweeper ──

fn published(w: &MemWatcher) -> Vec<String> {
    w.notifier
        .published()
        .iter()
        .map(|a| a.alert.as_str().to_owned())
        .collect()
}

fn count(w: &MemWatcher, alert: &str) -> usize {
    published(w).iter().filter(|a| *a == alert).count()
}

/// ECS's answer for the demo service: `running` of 1 desired, and these deployments.
fn view(running: u32, deployments: Vec<DeploymentView>) -> ServiceView {
    ServiceView {
        config: ServiceConfig::default(),
        desired: 1,
        running,
        deployments,
    }
}

fn deployment(event: &serde_json::Value, rollout_state: &str, at: Timestamp) -> DeploymentView {
    DeploymentView {
        id: event["detail"]["deploymentId"].as_str().unwrap().to_owned(),
        status: Some("PRIMARY".into()),
        rollout_state: Some(rollout_state.into()),
        reason: None,
        updated_at: Some(at),
    }
}

/// The success rollout told up to (not including) its COMPLETED event, and that event.
fn success_without_completion() -> (Vec<serde_json::Value>, serde_json::Value) {
    let mut events = events(Scenario::Success);
    let i = events
        .iter()
        .rposition(|e| e["detail"]["eventName"] == "SERVICE_DEPLOYMENT_COMPLETED")
        .unwrap();
    let completed = events.remove(i);
    events.truncate(i);
    (events, completed)
}

/// When the stream's rollout started (its IN_PROGRESS event).
fn started_at(events: &[serde_json::Value]) -> Timestamp {
    events
        .iter()
        .find(|e| e["detail"]["eventName"] == "SERVICE_DEPLOYMENT_IN_PROGRESS")
        .map(time_of)
        .unwrap()
}

async fn due_now(w: &MemWatcher) -> bool {
    let service = ServiceArn::parse(SERVICE).unwrap();
    w.store
        .due(w.clock.now(), 100)
        .await
        .unwrap()
        .contains(&service)
}

/// A rollout completes at 14 min 50 s, just inside its 15-minute deadline, and its
/// COMPLETED event is lost. The sweeper's next tick, at 15 min 20 s, finds ECS saying
/// COMPLETED (updated 14 min 50 s): the rollout is closed from that answer with
/// `deployment_completed`, and no `deployment_stalled` pages for a rollout that
/// finished in time.
#[tokio::test]
async fn lost_completion_found_past_the_deadline_is_not_a_stall() {
    let (events, completed) = success_without_completion();
    let w = fed_memory_world(&events, &events).await;
    let start = started_at(&events);
    let finished = start.plus(Millis::from_secs(14 * 60 + 50));
    w.inspector.set_view(Some(view(
        1,
        vec![deployment(&completed, "COMPLETED", finished)],
    )));
    w.clock.set(start.plus(Millis::from_secs(15 * 60 + 20)));
    w.sweep(&sweep_config(), "tick-1").await.unwrap();
    w.clock.set(start.plus(Millis::from_secs(16 * 60 + 20)));
    w.sweep(&sweep_config(), "tick-2").await.unwrap();
    assert_eq!(count(&w, "deployment_completed"), 1, "{:?}", published(&w));
    assert_eq!(count(&w, "deployment_stalled"), 0, "{:?}", published(&w));
    assert!(!due_now(&w).await, "nothing is left for the sweeper");
}

/// The zero-running rollout told until its last serving task stops (no event
/// follows), on the in-memory world; returns it and when the gap began.
async fn silent_gap() -> (MemWatcher, Timestamp) {
    let events = events(Scenario::ZeroRunning);
    let w = memory_world(&events);
    let service = ServiceArn::parse(SERVICE).unwrap();
    let mut served = false;
    for (i, e) in events.iter().enumerate() {
        w.clock.set(time_of(e).max(w.clock.now()));
        w.handle(e, &format!("req-{i}")).await.unwrap();
        let rec = w.store.load(&service).await.unwrap().unwrap();
        served |= rec.state.serving_now() > 0;
        if served && rec.state.serving_now() == 0 {
            return (w, time_of(e));
        }
    }
    panic!("the stream has a zero window");
}

/// ECS throttles DescribeServices for the whole tick at which a zero window passes
/// its grace: nothing pages on the watcher's guess. The next tick asks again, ECS
/// says 0 of 1 running, and `zero_running_tasks` pages then, once.
#[tokio::test]
async fn throttled_describe_services_defers_the_zero_page_to_the_next_tick() {
    let (w, gap) = silent_gap().await;
    w.inspector.set_view(Some(view(0, vec![])));
    w.inspector.set_failing(true);
    w.clock.set(gap.plus(Millis::from_secs(45)));
    let _ = w.sweep(&sweep_config(), "tick-1").await;
    assert_eq!(count(&w, "zero_running_tasks"), 0, "{:?}", published(&w));
    assert!(due_now(&w).await, "the zero still waits for ECS's word");
    w.inspector.set_failing(false);
    for (i, s) in [105, 165].into_iter().enumerate() {
        w.clock.set(gap.plus(Millis::from_secs(s)));
        w.sweep(&sweep_config(), &format!("tick-{}", i + 2))
            .await
            .unwrap();
    }
    assert_eq!(count(&w, "zero_running_tasks"), 1, "{:?}", published(&w));
}

/// `zero_running_tasks` paged from ECS's counts; the RUNNING event of the task that
/// ends the outage is lost. The sweeper sees ECS running 1 and resolves the alert,
/// once, however many ticks follow; the service then leaves the sweeper's index.
#[tokio::test]
async fn zero_whose_running_event_was_lost_is_resolved_from_the_running_count() {
    let (w, gap) = silent_gap().await;
    w.inspector.set_view(Some(view(0, vec![])));
    w.clock.set(gap.plus(Millis::from_secs(45)));
    w.sweep(&sweep_config(), "tick-1").await.unwrap();
    assert_eq!(count(&w, "zero_running_tasks"), 1);
    w.inspector.set_view(Some(view(1, vec![])));
    for (i, s) in [105, 165, 225].into_iter().enumerate() {
        w.clock.set(gap.plus(Millis::from_secs(s)));
        w.sweep(&sweep_config(), &format!("tick-{}", i + 2))
            .await
            .unwrap();
    }
    let zero: Vec<_> = w
        .notifier
        .published()
        .into_iter()
        .filter(|a| a.alert.as_str() == "zero_running_tasks")
        .map(|a| a.status.as_str().to_owned())
        .collect();
    assert_eq!(zero, ["firing", "resolved"]);
}

/// The bad-image rollout's last invocation wrote its state, outbox and claim, then
/// died before publishing (its claim holds for the lease, 2 minutes); SNS is down
/// besides, through the sweeper's first ticks. The tick inside the lease leaves the
/// dead invocation's claim alone, the tick past it fails to publish and lets go,
/// and once SNS is back one tick publishes every alert the clean run does, in
/// order, each once; later ticks publish nothing more.
#[tokio::test]
async fn handler_death_before_publish_and_an_sns_outage_deliver_each_alert_once() {
    let events = events(Scenario::BadImage);
    let clean = memory_world(&events);
    for r in drive(&clean, &events).await {
        r.unwrap();
    }
    let w = memory_world(&events);
    w.notifier.set_failing(true);
    let failed = drive(&w, &events)
        .await
        .into_iter()
        .filter(|r| r.as_ref().is_err_and(|e| e.error_type() == "Retryable"))
        .count();
    assert!(failed > 0);
    // The last invocation's write landed with its claim; it died before publishing.
    let service = ServiceArn::parse(SERVICE).unwrap();
    let mut rec = w.store.load(&service).await.unwrap().unwrap();
    let died = w.clock.now();
    assert!(
        !rec.outbox
            .claim("req-dead", died, Millis::from_secs(120))
            .is_empty()
    );
    let expected = rec.revision;
    rec.sign(expected, "req-dead");
    w.store
        .save(SaveRequest {
            record: &rec,
            expected,
            due_at: Some(died),
            finished: &[],
        })
        .await
        .unwrap();

    let attempts = w.notifier.attempts();
    w.clock.set(died.plus(Millis::from_secs(60)));
    w.sweep(&sweep_config(), "tick-1").await.unwrap();
    assert_eq!(
        w.notifier.attempts(),
        attempts,
        "the live claim is left alone"
    );
    w.clock.set(died.plus(Millis::from_secs(180)));
    assert!(w.sweep(&sweep_config(), "tick-2").await.is_err());
    assert!(w.notifier.published().is_empty());
    w.notifier.set_failing(false);
    for (i, s) in [240, 300, 360].into_iter().enumerate() {
        w.clock.set(died.plus(Millis::from_secs(s)));
        w.sweep(&sweep_config(), &format!("tick-{}", i + 3))
            .await
            .unwrap();
    }
    let keys = |w: &MemWatcher| -> Vec<String> {
        w.notifier
            .published()
            .iter()
            .map(|a| a.dedup_key.clone())
            .collect()
    };
    assert!(!keys(&clean).is_empty());
    assert_eq!(keys(&w), keys(&clean));
    assert!(
        w.store
            .load(&service)
            .await
            .unwrap()
            .unwrap()
            .outbox
            .is_empty()
    );
}

/// The service is deleted (`DeleteService --force`) while its rollout is open, so
/// its last events never come: DescribeServices no longer describes it (INACTIVE,
/// then MISSING). Ticks past the deadline page no `deployment_stalled` for a
/// service that no longer exists, and the sweeper lets it go: the live item leaves
/// the due index (and says when it was let go) instead of costing a look every
/// minute for ever. Against the emulator, so the table's item is the real one.
#[tokio::test]
async fn a_service_deleted_mid_rollout_is_let_go_without_a_stall_page() {
    let moto = Moto::start_with(&[("MOTO_ECS_SERVICE_RUNNING", "1")])
        .await
        .unwrap();
    let stack = stack::create(&moto, true).await.unwrap();
    let (events, _) = success_without_completion();
    let (sink, _) = emf();
    let w = stack.watcher(sink, clock_for(&events));
    for r in drive(&w, &events).await {
        r.unwrap();
    }
    let _ = stack.messages().await.unwrap();
    let start = started_at(&events);
    w.clock.set(start.plus(Millis::from_secs(4 * 60)));
    w.sweep(&sweep_config(), "tick-0").await.unwrap();
    assert!(
        stack
            .live_item(SERVICE)
            .await
            .unwrap()
            .contains_key("due_pk")
    );

    aws_sdk_ecs::Client::new(&stack.sdk)
        .delete_service()
        .cluster("demo-cluster")
        .service("web")
        .force(true)
        .send()
        .await
        .unwrap();
    for (i, m) in [5, 16, 17, 60].into_iter().enumerate() {
        w.clock.set(start.plus(Millis::from_secs(m * 60)));
        w.sweep(&sweep_config(), &format!("tick-{}", i + 1))
            .await
            .unwrap();
    }
    assert!(names(&stack.messages().await.unwrap()).is_empty());
    let item = stack.live_item(SERVICE).await.unwrap();
    assert!(
        !item.contains_key("due_pk"),
        "the deleted service is let go"
    );
    assert!(item.contains_key("gone_at"));
}

type SlowWatcher = Watcher<(
    Arc<SlowStore>,
    Arc<RecordingNotifier>,
    Arc<RecordingMetrics>,
    Arc<StaticInspector>,
    Arc<ManualClock>,
)>;

/// A table that answers slowly (throttled: the SDK's retries take their time): each
/// call moves the manual clock on by `delay` ms, as if it had taken that long.
#[derive(Default)]
struct SlowStore {
    inner: MemoryStore,
    clock: Arc<ManualClock>,
    delay: std::sync::atomic::AtomicI64,
}

impl SlowStore {
    fn wait(&self) {
        let ms = self.delay.load(std::sync::atomic::Ordering::SeqCst);
        self.clock.set(self.clock.now().plus(Millis(ms)));
    }
}

#[async_trait::async_trait]
impl StateStore for SlowStore {
    async fn load(
        &self,
        s: &ServiceArn,
    ) -> Result<Option<rollout_watcher::record::ServiceRecord>, rollout_watcher::ports::StoreError>
    {
        self.wait();
        self.inner.load(s).await
    }
    async fn save(&self, r: SaveRequest<'_>) -> Result<(), rollout_watcher::ports::StoreError> {
        self.wait();
        self.inner.save(r).await
    }
    async fn history(
        &self,
        s: &ServiceArn,
    ) -> Result<Vec<rollout_watcher::core::RolloutSummary>, rollout_watcher::ports::StoreError>
    {
        self.inner.history(s).await
    }
    async fn due(
        &self,
        until: Timestamp,
        limit: usize,
    ) -> Result<Vec<ServiceArn>, rollout_watcher::ports::StoreError> {
        self.wait();
        self.inner.due(until, limit).await
    }
}

/// Forty services stall at once and the table answers slowly (2 s a call). A tick
/// given the 50 s the sweeper's Lambda has stops starting services while there is
/// still time to finish the one in hand and send the gauges, and says how many it
/// left; those stay due, earliest first, and the next ticks take them: every
/// `deployment_stalled` is paged once, no tick runs past its deadline.
#[tokio::test]
async fn a_slow_table_and_many_due_services_fit_each_tick_in_its_time() {
    let base = events(Scenario::Stalled);
    let clock = clock_for(&base);
    let store = SlowStore {
        clock: clock.clone(),
        ..SlowStore::default()
    };
    let inspector = StaticInspector::new();
    inspector.set_view(Some(view(1, vec![])));
    let w: SlowWatcher = Watcher {
        store: Arc::new(store),
        notifier: Arc::new(RecordingNotifier::new()),
        metrics: Arc::new(RecordingMetrics::new()),
        inspector: Arc::new(inspector),
        clock,
        config: WatcherConfig::default(),
    };
    let services = 40;
    for i in 0..services {
        let renamed: Vec<serde_json::Value> = base
            .iter()
            .map(|e| {
                serde_json::from_str(
                    &e.to_string()
                        .replace(
                            "service/demo-cluster/web",
                            &format!("service/demo-cluster/s{i}"),
                        )
                        .replace("service:web", &format!("service:s{i}")),
                )
                .unwrap()
            })
            .collect();
        for r in drive(&w, &renamed).await {
            r.unwrap();
        }
    }
    w.store
        .delay
        .store(2_000, std::sync::atomic::Ordering::SeqCst);
    w.clock
        .set(time_of(base.last().unwrap()).plus(Millis::from_secs(16 * 60)));
    let mut ticks = 0;
    let stalled = || -> usize {
        w.notifier
            .published()
            .iter()
            .filter(|a| a.alert.as_str() == "deployment_stalled")
            .count()
    };
    while stalled() < services && ticks < 20 {
        ticks += 1;
        let deadline = w.clock.now().plus(Millis::from_secs(50));
        let report = w
            .sweep_within(&sweep_config(), &format!("tick-{ticks}"), deadline)
            .await
            .unwrap();
        assert!(w.clock.now() <= deadline, "tick {ticks} ran past its time");
        assert!(report.deferred > 0 || stalled() == services);
        w.clock.set(deadline.plus(Millis::from_secs(10)));
    }
    assert!(ticks > 1);
    assert_eq!(stalled(), services);
    for (i, a) in w.notifier.published().iter().enumerate() {
        assert!(
            !w.notifier.published()[..i]
                .iter()
                .any(|b| b.dedup_key == a.dedup_key),
            "{} twice",
            a.dedup_key
        );
    }
}

/// Every time in an event moved on by `by` (a stream told again later).
fn shifted(v: &serde_json::Value, by: Millis) -> serde_json::Value {
    match v {
        serde_json::Value::String(s) => match Timestamp::parse(s) {
            Some(t) if s.len() >= 20 => serde_json::Value::String(t.plus(by).to_string()),
            _ => v.clone(),
        },
        serde_json::Value::Array(a) => a.iter().map(|x| shifted(x, by)).collect(),
        serde_json::Value::Object(o) => o
            .iter()
            .map(|(k, x)| (k.clone(), shifted(x, by)))
            .collect::<serde_json::Map<_, _>>()
            .into(),
        _ => v.clone(),
    }
}

/// The service is deleted mid-rollout and let go; two hours later a service of the
/// same name is created and rolled out. The new rollout is watched as any other
/// (started, completed, the sweeper looking while it is open), and the rollout
/// the deleted service left open pages nothing.
#[tokio::test]
async fn a_service_created_again_after_being_let_go_is_watched_again() {
    let (events, _) = success_without_completion();
    let w = fed_memory_world(&events, &events).await;
    let start = started_at(&events);
    w.inspector.set_view(None);
    w.clock.set(start.plus(Millis::from_secs(5 * 60)));
    w.sweep(&sweep_config(), "tick-gone").await.unwrap();
    assert!(!due_now(&w).await);

    let again: Vec<serde_json::Value> = stream(&Params {
        seed: 7,
        ..Params::defaults(Scenario::Success)
    })
    .iter()
    .map(|e| shifted(e, Millis::from_secs(2 * 3600)))
    .collect();
    w.inspector.set_view(Some(view(1, vec![])));
    let before = published(&w).len();
    let i = again
        .iter()
        .position(|e| e["detail"]["eventName"] == "SERVICE_DEPLOYMENT_IN_PROGRESS")
        .unwrap();
    for r in drive(&w, &again[..=i]).await {
        r.unwrap();
    }
    assert!(due_now(&w).await, "the new rollout is looked at");
    for r in drive(&w, &again[i + 1..]).await {
        r.unwrap();
    }
    w.clock.set(w.clock.now().plus(Millis::from_secs(20 * 60)));
    w.sweep(&sweep_config(), "tick-later").await.unwrap();
    assert_eq!(
        published(&w)[before..],
        ["deployment_started", "deployment_completed"]
    );
}

type SlowSnsWatcher = Watcher<(
    Arc<MemoryStore>,
    Arc<SlowSns>,
    Arc<RecordingMetrics>,
    Arc<StaticInspector>,
    Arc<ManualClock>,
)>;

/// SNS that holds its first publish (once `first` is cleared) until told (a slow
/// reply), then records.
#[derive(Default)]
struct SlowSns {
    inner: RecordingNotifier,
    held: tokio::sync::Notify,
    release: tokio::sync::Notify,
    first: std::sync::atomic::AtomicBool,
}

#[async_trait::async_trait]
impl rollout_watcher::ports::Notifier for SlowSns {
    async fn publish(
        &self,
        alert: &rollout_watcher::core::Alert,
    ) -> Result<(), rollout_watcher::ports::NotifyError> {
        if !self.first.swap(true, std::sync::atomic::Ordering::SeqCst) {
            self.held.notify_one();
            self.release.notified().await;
        }
        self.inner.publish(alert).await
    }
}

/// A slow tick overlaps the next: SNS was down, the bad-image rollout's alerts
/// wait in the outbox; tick A claims them and its first publish hangs; tick B, a
/// minute later, finds them claimed and leaves them to A; A finishes. Every alert
/// is published once, in order, and nothing is left.
#[tokio::test]
async fn overlapping_ticks_leave_claimed_entries_to_the_slow_one() {
    let events = events(Scenario::BadImage);
    let inspector = StaticInspector::new();
    inspector.set_view(Some(view(1, vec![])));
    let sns = Arc::new(SlowSns::default());
    let w: SlowSnsWatcher = Watcher {
        store: Arc::new(MemoryStore::new()),
        notifier: sns.clone(),
        metrics: Arc::new(RecordingMetrics::new()),
        inspector: Arc::new(inspector),
        clock: clock_for(&events),
        config: WatcherConfig::default(),
    };
    // Not held yet: every publish of the stream fails at once.
    sns.first.store(true, std::sync::atomic::Ordering::SeqCst);
    sns.inner.set_failing(true);
    let _ = drive(&w, &events).await;
    sns.inner.set_failing(false);
    sns.first.store(false, std::sync::atomic::Ordering::SeqCst);
    let waiting = w
        .store
        .load(&ServiceArn::parse(SERVICE).unwrap())
        .await
        .unwrap()
        .unwrap()
        .outbox
        .entries()
        .len();
    assert!(waiting >= 2);
    let t0 = w.clock.now().plus(Millis::from_secs(60));
    w.clock.set(t0);
    let cfg = sweep_config();
    let a = w.sweep(&cfg, "tick-a");
    let b = async {
        sns.held.notified().await;
        w.clock.set(t0.plus(Millis::from_secs(60)));
        let b = w.sweep(&sweep_config(), "tick-b").await.unwrap();
        sns.release.notify_one();
        b
    };
    let (a, b) = tokio::join!(a, b);
    assert_eq!(b.alerts_published, 0, "tick B left A's entries alone");
    assert_eq!(a.unwrap().alerts_published, waiting);
    let keys: Vec<String> = sns
        .inner
        .published()
        .iter()
        .map(|a| a.dedup_key.clone())
        .collect();
    let mut unique = keys.clone();
    unique.dedup();
    assert_eq!(keys.len(), waiting);
    assert_eq!(keys, unique);
    let rec = w
        .store
        .load(&ServiceArn::parse(SERVICE).unwrap())
        .await
        .unwrap()
        .unwrap();
    assert!(rec.outbox.is_empty());
}
