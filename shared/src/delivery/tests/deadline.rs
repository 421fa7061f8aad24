//! A batch against slow and failing AWS calls. Lambda stops the function at its
//! timeout, and a batch cut off there hands nothing back: the whole batch returns to
//! the queue, the services it had finished included, and when the same slow calls
//! cut off every try, its unreached events end in the dead-letter queue unapplied.
//! So a batch keeps to its deadline, tries a failing SNS once, and marks what it
//! published sent through a blip of the table (or the sweeper publishes it again);
//! a sweeper tick, too, tries a failing SNS once.

use std::sync::atomic::AtomicU8;

use crate::delivery::{HandlerError, SweepConfig};
use crate::model::Millis;
use crate::ports::{Clock, Notifier, NotifyError, ServiceInspector};

use super::*;

/// What one slow or hung SNS call costs: the SDK clients' operation timeout.
const SLOW_CALL: Millis = Millis::from_secs(10);

/// The handler's timeout in the module (`infra/variables.tf`).
const FUNCTION_TIMEOUT: Millis = Millis::from_secs(30);

/// SNS answering at once ([`UP`]), after [`SLOW_CALL`] ([`SLOW`]), or only when the
/// SDK gives up after [`SLOW_CALL`], with an error ([`HUNG`]); or at once, the table
/// then throttling the next write, past the SDK's retries ([`THROTTLED_AFTER`]). The
/// clock moves on by the time a call takes.
struct TimedSns {
    recorded: Arc<RecordingNotifier>,
    clock: Arc<ManualClock>,
    table: Arc<ConflictingStore>,
    mode: AtomicU8,
}

const UP: u8 = 0;
const SLOW: u8 = 1;
const HUNG: u8 = 2;
const THROTTLED_AFTER: u8 = 3;

#[async_trait]
impl Notifier for TimedSns {
    async fn publish(&self, alert: &Alert) -> Result<(), NotifyError> {
        let mode = self.mode.load(Ordering::SeqCst);
        if mode == SLOW || mode == HUNG {
            self.clock.set(self.clock.now().plus(SLOW_CALL));
        }
        if mode == HUNG {
            self.recorded.set_failing(true);
        }
        let result = self.recorded.publish(alert).await;
        self.recorded.set_failing(false);
        if mode == THROTTLED_AFTER {
            self.table.failing_saves.store(1, Ordering::SeqCst);
        }
        result
    }
}

type TimedWorld = Watcher<(
    Arc<ConflictingStore>,
    TimedSns,
    Arc<RecordingMetrics>,
    Arc<StaticInspector>,
    Arc<ManualClock>,
)>;

fn timed_world(mode: u8) -> TimedWorld {
    let w = world(safe());
    Watcher {
        notifier: TimedSns {
            recorded: w.notifier.clone(),
            clock: w.clock.clone(),
            table: w.store.clone(),
            mode: AtomicU8::new(mode),
        },
        store: w.store,
        metrics: w.metrics,
        inspector: w.inspector,
        clock: w.clock,
        config: w.config,
    }
}

/// Each of web, api and jobs has its start waiting in the outbox, not yet sent.
async fn each_start_waits(w: &TimedWorld) {
    for service in [SVC, API, JOBS] {
        let rec = w.store.load(&ServiceArn::parse(service).unwrap()).await;
        let waiting = rec.unwrap().unwrap().outbox.entries().len();
        assert_eq!(waiting, 1, "{service}: its start waits in the outbox");
    }
}

/// The services whose start was published, each once, after the sweeper's tick.
async fn published_starts(w: &TimedWorld) -> Vec<String> {
    swept_starts(w, &w.notifier.recorded).await
}

/// [`published_starts`] of any world, `recorded` its notifier's record.
async fn swept_starts<P: crate::ports::Ports>(
    w: &Watcher<P>,
    recorded: &RecordingNotifier,
) -> Vec<String> {
    let config = SweepConfig {
        max_services: 100,
        watch_clusters: Vec::new(),
    };
    w.sweep(&config, "sweep-1").await.unwrap();
    let mut started: Vec<String> = recorded
        .published()
        .iter()
        .map(|a| {
            assert_eq!(a.alert, AlertName::DeploymentStarted);
            a.service.to_string()
        })
        .collect();
    started.sort_unstable();
    started
}

/// SNS answers each publish only after ten seconds while three services start
/// rolling in one batch. The batch's one write call records all three; it then
/// publishes only what it can before the function's timeout (web's and api's
/// starts), and leaves jobs's start in the outbox, released, instead of being cut
/// off: nothing goes back to the queue, and the sweeper publishes the last start.
/// Each start is published once.
#[tokio::test]
async fn a_batch_without_time_to_publish_leaves_the_rest_to_the_sweeper() {
    let w = timed_world(SLOW);
    let messages = starts(&["web", "api", "jobs"]);
    let batch = queued(&messages);
    let start = w.clock.now();
    let deadline = start.plus(FUNCTION_TIMEOUT);
    let out = w.handle_batch_within(&batch, "req-1", deadline).await;
    let ran = w.clock.now().since(start);
    assert!(
        w.clock.now() < deadline,
        "the batch ran {} s; Lambda stops it at {} s",
        ran.as_secs_f64(),
        FUNCTION_TIMEOUT.as_secs_f64()
    );
    assert!(out.failed.is_empty(), "handed back: {:?}", out.failed);
    assert_eq!(
        (out.services, out.alerts_published, out.unsettled),
        (3, 2, 1)
    );
    let jobs = w.store.load(&ServiceArn::parse(JOBS).unwrap()).await;
    let mut jobs = jobs.unwrap().unwrap();
    let waiting = jobs.outbox.entries().len();
    assert!(waiting > 0, "jobs's start waits");
    assert_eq!(
        jobs.outbox.claim("sweep-0", w.clock.now(), Millis(1)).len(),
        waiting,
        "released: the sweeper can claim it at once"
    );
    w.notifier.mode.store(UP, Ordering::SeqCst);
    assert_eq!(published_starts(&w).await, [API, JOBS, SVC]);
}

/// ECS answers each DescribeServices only after ten seconds while three services
/// never seen start rolling in one batch (each is described once, to be seeded).
/// The batch starts no service it could not finish before the function's timeout:
/// it ends in time and hands back only the service it did not start. Its first
/// service is published; the second, written with no time left to publish, waits
/// in the outbox. The handed-back message, sent again, publishes the last start,
/// and the sweeper the second. Each start is published once.
#[tokio::test]
async fn a_batch_hands_back_what_it_has_no_time_to_start_instead_of_being_cut_off() {
    let w = slow_ecs_world();
    let messages = starts(&["web", "api", "jobs"]);
    let batch = queued(&messages);
    let start = w.clock.now();
    let deadline = start.plus(FUNCTION_TIMEOUT);
    let out = w.handle_batch_within(&batch, "req-1", deadline).await;
    assert!(w.clock.now() < deadline, "cut off by Lambda");
    assert_eq!(out.failed, ["m-2"]);
    assert_eq!(
        (
            out.services,
            out.deferred,
            out.alerts_published,
            out.unsettled
        ),
        (2, 1, 1, 1)
    );

    let deadline = w.clock.now().plus(FUNCTION_TIMEOUT);
    let retry = w.handle_batch_within(&batch[2..], "req-2", deadline).await;
    assert!(retry.failed.is_empty(), "{retry:?}");
    assert_eq!((retry.applied, retry.alerts_published), (1, 1));
    assert_eq!(swept_starts(&w, &w.notifier).await, [API, JOBS, SVC]);
}

/// ECS whose DescribeServices takes [`SLOW_CALL`]; the clock moves on by it.
struct SlowEcs {
    inner: Arc<StaticInspector>,
    clock: Arc<ManualClock>,
}

#[async_trait]
impl ServiceInspector for SlowEcs {
    async fn describe(
        &self,
        service: &ServiceArn,
    ) -> Result<Option<ServiceView>, crate::ports::InspectError> {
        self.clock.set(self.clock.now().plus(SLOW_CALL));
        self.inner.describe(service).await
    }

    async fn running_tasks(
        &self,
        service: &ServiceArn,
    ) -> Result<Vec<crate::model::TaskObservation>, crate::ports::InspectError> {
        self.inner.running_tasks(service).await
    }

    async fn list_service_deployments(
        &self,
        service: &ServiceArn,
        since: Option<Timestamp>,
    ) -> Result<Vec<crate::model::BriefView>, crate::ports::InspectError> {
        self.inner.list_service_deployments(service, since).await
    }

    async fn describe_service_deployments(
        &self,
        service: &ServiceArn,
        arns: &[String],
    ) -> Result<Vec<crate::model::ServiceDeploymentView>, crate::ports::InspectError> {
        self.inner.describe_service_deployments(service, arns).await
    }
}

type SlowEcsWorld = Watcher<(
    Arc<ConflictingStore>,
    Arc<RecordingNotifier>,
    Arc<RecordingMetrics>,
    SlowEcs,
    Arc<ManualClock>,
)>;

fn slow_ecs_world() -> SlowEcsWorld {
    let w = world(safe());
    Watcher {
        inspector: SlowEcs {
            inner: w.inspector,
            clock: w.clock.clone(),
        },
        store: w.store,
        notifier: w.notifier,
        metrics: w.metrics,
        clock: w.clock,
        config: w.config,
    }
}

/// SNS hangs (every publish fails when the SDK's timeout runs out) while three
/// services start rolling in one batch. The first service's publish finds it down;
/// the later services leave their alerts in the outbox at once instead of waiting
/// on SNS in turn, so the batch hands nothing back and holds the queue for no
/// visibility timeout. Once SNS answers, the sweeper publishes each start once.
#[tokio::test]
async fn once_sns_failed_in_a_batch_later_services_leave_their_alerts_to_the_sweeper() {
    let w = timed_world(HUNG);
    let messages = starts(&["web", "api", "jobs"]);
    let batch = queued(&messages);
    let start = w.clock.now();
    let out = w
        .handle_batch_within(&batch, "req-1", start.plus(FUNCTION_TIMEOUT))
        .await;
    assert!(out.failed.is_empty(), "handed back: {:?}", out.failed);
    assert_eq!((out.services, out.applied, out.unsettled), (3, 3, 3));
    assert_eq!(w.notifier.recorded.attempts(), 1, "one publish tried");
    assert_eq!(w.clock.now().since(start), SLOW_CALL);
    each_start_waits(&w).await;

    w.notifier.mode.store(UP, Ordering::SeqCst);
    assert_eq!(published_starts(&w).await, [API, JOBS, SVC]);
}

/// The table throttles the write that marks a batch's published start as sent
/// (past the SDK's own retries), for half a second. The batch marks it again after
/// a pause: the sweeper, once the publish's lease is over, finds nothing to send,
/// and the start is published once, not a second time two minutes later.
#[tokio::test]
async fn a_throttled_mark_sent_is_written_again_instead_of_publishing_twice() {
    let w = timed_world(THROTTLED_AFTER);
    let messages = starts(&["web"]);
    let out = w
        .handle_batch_within(
            &queued(&messages),
            "req-1",
            w.clock.now().plus(FUNCTION_TIMEOUT),
        )
        .await;
    assert!(out.failed.is_empty(), "handed back: {:?}", out.failed);
    assert_eq!((out.alerts_published, out.unsettled), (1, 0));
    w.notifier.mode.store(UP, Ordering::SeqCst);
    let rec = w.store.load(&ServiceArn::parse(SVC).unwrap()).await;
    assert!(rec.unwrap().unwrap().outbox.entries().is_empty());

    w.clock.set(
        w.clock
            .now()
            .plus(w.config.lease)
            .plus(Millis::from_secs(60)),
    );
    assert_eq!(published_starts(&w).await, [SVC]);
}

/// A handler deployed with a 10 s timeout (shorter than the margin a batch keeps
/// for a hung call under the default 30 s): its quick batches are still taken
/// whole, not one service per invocation with the rest handed back to wait a
/// visibility timeout each.
#[tokio::test]
async fn a_short_function_timeout_still_takes_a_quick_batch_whole() {
    let w = timed_world(UP);
    let messages = starts(&["web", "api", "jobs"]);
    let deadline = w.clock.now().plus(Millis::from_secs(10));
    let out = w
        .handle_batch_within(&queued(&messages), "req-1", deadline)
        .await;
    assert!(out.failed.is_empty(), "handed back: {:?}", out.failed);
    assert_eq!((out.services, out.alerts_published), (3, 3));
}

/// SNS hangs while three services' starts wait in the outbox (their batch found it
/// down). A sweeper tick tries one publish, leaves the other two waiting, unclaimed,
/// and ends after one hung call, not three: tried for every due service, a hung
/// SNS spent each tick on its first few services, the same ones every tick. Once
/// SNS answers, the next tick publishes each start once.
#[tokio::test]
async fn once_sns_failed_in_a_tick_the_sweeper_leaves_later_services_alerts_waiting() {
    let w = timed_world(HUNG);
    let messages = starts(&["web", "api", "jobs"]);
    let deadline = w.clock.now().plus(FUNCTION_TIMEOUT);
    let out = w
        .handle_batch_within(&queued(&messages), "req-1", deadline)
        .await;
    assert_eq!(out.unsettled, 3);
    let config = SweepConfig {
        max_services: 100,
        watch_clusters: Vec::new(),
    };

    let before = (w.notifier.recorded.attempts(), w.clock.now());
    let tick = w.sweep(&config, "sweep-0").await;
    assert!(
        matches!(tick, Err(HandlerError::Notify(_))),
        "the tick reports SNS failing: {tick:?}"
    );
    assert_eq!(
        w.notifier.recorded.attempts() - before.0,
        1,
        "one publish tried"
    );
    assert_eq!(w.clock.now().since(before.1), SLOW_CALL);
    each_start_waits(&w).await;

    w.notifier.mode.store(UP, Ordering::SeqCst);
    assert_eq!(published_starts(&w).await, [API, JOBS, SVC]);
}
