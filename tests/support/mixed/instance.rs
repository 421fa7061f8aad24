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
use rollout_watcher::ports::{MetricsError, MetricsSink, Notifier, NotifyError};

use crate::stack::TABLE;

/// The watcher of one handler instance: the real adapters (the store with its
/// sandbox cache, as deployed), with the notifier and the metrics sink watched so a
/// failed invocation's deliveries are known.
pub type LoadWatcher = Watcher<(
    Arc<CachedStore<DynamoStore>>,
    Tracked,
    Arc<Ledger>,
    EcsInspector,
    Arc<ManualClock>,
)>;

/// The watcher wired to `sdk` (the proxy's configuration), as the Lambda wires it.
pub fn watcher(sdk: &SdkConfig, topic_arn: &str, clock: Arc<ManualClock>) -> LoadWatcher {
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
