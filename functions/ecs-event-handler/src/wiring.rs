//! Building the adapters from the configuration, and reporting a configuration
//! error to the Runtime API so the failed start shows in the function's status
//! (`Runtime.InitError`) with the variable's name, not as a bare exit.

use std::sync::Arc;

use rollout_watcher::adapters::cloudwatch::CloudWatchSink;
use rollout_watcher::adapters::dynamodb::DynamoStore;
use rollout_watcher::adapters::ecs::EcsInspector;
use rollout_watcher::adapters::emf::EmfSink;
use rollout_watcher::adapters::sns::SnsNotifier;
use rollout_watcher::delivery::{ConfigError, EnvConfig, MetricsSinkKind, Watcher};
use rollout_watcher::ports::{MetricsSink, SystemClock};

/// The watcher with the real adapters.
pub(crate) type HandlerWatcher =
    Watcher<DynamoStore, SnsNotifier, Arc<dyn MetricsSink>, EcsInspector, SystemClock>;

/// The adapters on SDK clients built once from one shared configuration (which
/// honours `AWS_ENDPOINT_URL`, how the tests point them at the emulator).
pub(crate) fn watcher(config: &EnvConfig, aws: &aws_config::SdkConfig) -> HandlerWatcher {
    let metrics: Arc<dyn MetricsSink> = match config.metrics_sink {
        MetricsSinkKind::Emf => Arc::new(EmfSink::stdout(&config.metrics_namespace)),
        MetricsSinkKind::CloudWatch => Arc::new(CloudWatchSink::new(
            aws_sdk_cloudwatch::Client::new(aws),
            &config.metrics_namespace,
        )),
    };
    Watcher {
        store: DynamoStore::new(aws_sdk_dynamodb::Client::new(aws), &config.state_table),
        notifier: SnsNotifier::new(
            aws_sdk_sns::Client::new(aws),
            &config.alert_topic_arn,
            config.environment.clone(),
        ),
        metrics,
        inspector: EcsInspector::new(aws_sdk_ecs::Client::new(aws)),
        clock: SystemClock,
        config: config.watcher.clone(),
    }
}

/// Posts the error to `/runtime/init/error` (best effort) and returns it.
pub(crate) async fn report_init_error(e: &ConfigError) -> lambda_runtime::Error {
    tracing_error(e);
    let body =
        serde_json::json!({"errorType": "InvalidConfiguration", "errorMessage": e.to_string()});
    let client = lambda_runtime_api_client::PooledClient::builder().build();
    let request = lambda_runtime_api_client::build_request()
        .method(http::Method::POST)
        .uri("/2018-06-01/runtime/init/error")
        .header("lambda-runtime-function-error-type", "Runtime.InitError")
        .body(lambda_runtime_api_client::body::Body::from(
            body.to_string(),
        ));
    match request {
        Ok(req) => {
            if let Err(err) = client.call(req).await {
                eprintln!("could not report the init error: {err}");
            }
        }
        Err(err) => eprintln!("could not build the init error report: {err}"),
    }
    e.to_string().into()
}

fn tracing_error(e: &ConfigError) {
    lambda_runtime::tracing::error!(error = %e, "invalid configuration");
}
