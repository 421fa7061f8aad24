//! A batch against the invocation's deadline: Lambda stops the function at its
//! timeout, and a batch cut off there hands nothing back: the whole batch returns to
//! the queue, the services it had finished included, and when the same slow call
//! cuts off every try, its unreached events end in the dead-letter queue unapplied.

use crate::adapters::recording::Injected;
use crate::delivery::{QueuedEvent, SweepConfig};
use crate::model::Millis;
use crate::ports::{Clock, Notifier, NotifyError};

use super::*;

const API: &str = "arn:aws:ecs:eu-west-1:123456789012:service/prod/api";
const JOBS: &str = "arn:aws:ecs:eu-west-1:123456789012:service/prod/jobs";

/// What one hung SNS call costs before the SDK gives up: its operation timeout.
const HUNG_CALL: Millis = Millis::from_secs(10);

/// The handler's timeout in the module (`infra/variables.tf`).
const FUNCTION_TIMEOUT: Millis = Millis::from_secs(30);

/// SNS that, while `hung`, answers every publish only when the SDK's operation
/// timeout runs out (the clock moves on by [`HUNG_CALL`]), with an error.
struct HungSns {
    recorded: Arc<RecordingNotifier>,
    clock: Arc<ManualClock>,
    hung: AtomicBool,
}

#[async_trait]
impl Notifier for HungSns {
    async fn publish(&self, alert: &Alert) -> Result<(), NotifyError> {
        if self.hung.load(Ordering::SeqCst) {
            self.clock.set(self.clock.now().plus(HUNG_CALL));
            return Err(NotifyError {
                dedup_key: alert.dedup_key.clone(),
                source: Box::new(Injected),
            });
        }
        self.recorded.publish(alert).await
    }
}

type HungWorld = Watcher<(
    Arc<ConflictingStore>,
    HungSns,
    Arc<RecordingMetrics>,
    Arc<StaticInspector>,
    Arc<ManualClock>,
)>;

fn hung_world() -> HungWorld {
    let w = world(safe());
    Watcher {
        notifier: HungSns {
            recorded: w.notifier.clone(),
            clock: w.clock.clone(),
            hung: AtomicBool::new(true),
        },
        store: w.store,
        metrics: w.metrics,
        inspector: w.inspector,
        clock: w.clock,
        config: w.config,
    }
}

/// The rollout's start, for service `name` of the cluster.
fn started(name: &str) -> Value {
    let e = rollout()[0].to_string();
    serde_json::from_str(&e.replace("service/prod/web", &format!("service/prod/{name}"))).unwrap()
}

/// SNS hangs while three services start rolling in one batch: each service's write
/// lands, then its first publish holds it for ten seconds. The batch starts no
/// service it could not finish before the function's timeout: it ends in time,
/// hands back only the service it did not start (web and api are done, their
/// alerts waiting in the outbox), and once SNS answers again the handed-back
/// message and the sweeper's tick publish every start once.
#[tokio::test]
async fn a_batch_hands_back_what_it_has_no_time_for_instead_of_being_cut_off() {
    let w = hung_world();
    let messages: Vec<(String, String)> = ["web", "api", "jobs"]
        .iter()
        .enumerate()
        .map(|(n, name)| (format!("m-{n}"), started(name).to_string()))
        .collect();
    let batch: Vec<QueuedEvent<'_>> = messages
        .iter()
        .map(|(id, body)| QueuedEvent {
            message_id: id,
            body,
        })
        .collect();
    let deadline = w.clock.now().plus(FUNCTION_TIMEOUT);
    let out = w.handle_batch_within(&batch, "req-1", deadline).await;
    let ran = w
        .clock
        .now()
        .since(deadline.plus(Millis(-FUNCTION_TIMEOUT.0)));
    assert!(
        w.clock.now() < deadline,
        "the batch ran {} s; Lambda stops it at {} s",
        ran.as_secs_f64(),
        FUNCTION_TIMEOUT.as_secs_f64()
    );
    assert_eq!(out.failed, ["m-2"]);
    assert_eq!((out.services, out.applied, out.unsettled), (2, 2, 2));

    w.notifier.hung.store(false, Ordering::SeqCst);
    let deadline = w.clock.now().plus(FUNCTION_TIMEOUT);
    let retry = w.handle_batch_within(&batch[2..], "req-2", deadline).await;
    assert!(retry.failed.is_empty(), "{retry:?}");
    assert_eq!((retry.applied, retry.alerts_published), (1, 1));
    let config = SweepConfig {
        max_services: 100,
        watch_clusters: Vec::new(),
    };
    w.sweep(&config, "sweep-1").await.unwrap();
    let published = w.notifier.recorded.published();
    let mut started: Vec<&str> = published
        .iter()
        .map(|a| {
            assert_eq!(a.alert, AlertName::DeploymentStarted);
            a.service.as_str()
        })
        .collect();
    started.sort_unstable();
    assert_eq!(started, [API, JOBS, SVC]);
}
