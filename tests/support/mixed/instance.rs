//! One handler instance: the real adapters, with the notifier and the metrics sink
//! remembering what the current invocation delivered.

use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use aws_config::SdkConfig;
use rollout_watcher::adapters::cached::CachedStore;
use rollout_watcher::adapters::dynamodb::DynamoStore;
use rollout_watcher::adapters::ecs::EcsInspector;
use rollout_watcher::adapters::recording::{ManualClock, RecordingMetrics};
use rollout_watcher::adapters::sns::SnsNotifier;
use rollout_watcher::core::{Alert, Metric};
use rollout_watcher::delivery::{Watcher, WatcherConfig};
use rollout_watcher::lambda::EventDelivery;
use rollout_watcher::model::{Millis, Timestamp};
use rollout_watcher::ports::{Clock, MetricsError, MetricsSink, Notifier, NotifyError};

use crate::stack::TABLE;

/// The watcher of one handler instance: the real adapters (the store with its
/// sandbox cache, as deployed), with the notifier and the metrics sink watched so a
/// failed invocation's deliveries are known.
pub type LoadWatcher = Watcher<(
    Arc<CachedStore<DynamoStore>>,
    Tracked,
    Arc<Ledger>,
    EcsInspector,
    Arc<LoadClock>,
)>;

/// The watcher wired to `sdk` (the proxy's configuration), as the Lambda wires it
/// for `delivery` (which decides how much a sandbox remembers).
pub fn watcher(
    sdk: &SdkConfig,
    topic_arn: &str,
    clock: Arc<LoadClock>,
    delivery: EventDelivery,
) -> LoadWatcher {
    Watcher {
        store: Arc::new(CachedStore::with_limits(
            DynamoStore::new(aws_sdk_dynamodb::Client::new(sdk), TABLE),
            delivery.cache_limits(),
        )),
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

/// An instance's clock: event time, set by the run (the virtual clock of
/// [`ManualClock`]), and the back-off after a lost race either skipped (as test
/// clocks do) or slept for real, as the deployed function's system clock sleeps.
/// With many instances on one item the back-off decides how often they collide
/// again, so a run that measures contention sleeps.
#[derive(Debug)]
pub struct LoadClock {
    time: ManualClock,
    /// Back-offs take real time.
    pub sleeps: bool,
}

impl LoadClock {
    /// A clock reading `at`; `sleeps`: back-offs take real time.
    pub fn at(at: Timestamp, sleeps: bool) -> Self {
        Self {
            time: ManualClock::at(at),
            sleeps,
        }
    }

    /// Sets the time.
    pub fn set(&self, at: Timestamp) {
        self.time.set(at);
    }
}

#[async_trait]
impl Clock for LoadClock {
    fn now(&self) -> Timestamp {
        self.time.now()
    }

    async fn pause(&self, d: Millis) {
        if self.sleeps {
            tokio::time::sleep(std::time::Duration::from_millis(d.0.max(0).unsigned_abs())).await;
        }
    }
}

/// The SNS notifier, remembering which alerts the current invocation published.
#[derive(Clone, Debug)]
pub struct Tracked {
    inner: SnsNotifier,
    pub(super) current: Arc<Mutex<Vec<String>>>,
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
pub struct Ledger {
    pub(super) sink: RecordingMetrics,
    pub(super) current: Mutex<Vec<String>>,
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
