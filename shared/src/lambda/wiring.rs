//! The watcher on the real AWS adapters, built once per Lambda sandbox from the
//! environment's configuration and one shared SDK configuration (which honours
//! `AWS_ENDPOINT_URL`: that is how the tests point the binaries at the emulator).
//! Shared by the ecs-event-handler and the rollout-sweeper so they cannot drift.

use std::sync::Arc;

use aws_config::SdkConfig;

use crate::adapters::cached::CachedStore;
use crate::adapters::clock::SystemClock;
use crate::adapters::cloudwatch::CloudWatchSink;
use crate::adapters::dynamodb::DynamoStore;
use crate::adapters::ecs::EcsInspector;
use crate::adapters::emf::EmfSink;
use crate::adapters::sns::SnsNotifier;
use crate::delivery::Watcher;
use crate::ports::MetricsSink;

use super::{EnvConfig, MetricsSinkKind};

/// The watcher with the real adapters.
pub type AwsWatcher = Watcher<(
    CachedStore<DynamoStore>,
    SnsNotifier,
    Arc<dyn MetricsSink>,
    EcsInspector,
    SystemClock,
)>;

/// Builds the adapters on SDK clients made from `sdk`.
pub fn aws_watcher(config: &EnvConfig, sdk: &SdkConfig) -> AwsWatcher {
    let metrics: Arc<dyn MetricsSink> = match config.metrics_sink {
        MetricsSinkKind::Emf => Arc::new(EmfSink::stdout(&config.metrics_namespace)),
        MetricsSinkKind::CloudWatch => Arc::new(CloudWatchSink::new(
            aws_sdk_cloudwatch::Client::new(sdk),
            &config.metrics_namespace,
        )),
    };
    Watcher {
        // A warm sandbox writes without reading first (see `cached`).
        store: CachedStore::with_limits(
            DynamoStore::new(aws_sdk_dynamodb::Client::new(sdk), &config.state_table),
            config.event_delivery.cache_limits(),
        ),
        notifier: SnsNotifier::new(
            aws_sdk_sns::Client::new(sdk),
            &config.alert_topic_arn,
            config.environment.clone(),
        ),
        metrics,
        inspector: EcsInspector::new(aws_sdk_ecs::Client::new(sdk)),
        clock: SystemClock,
        config: config.watcher.clone(),
    }
}
