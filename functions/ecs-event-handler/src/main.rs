//! ecs-event-handler: invoked either by an EventBridge rule with one ECS event, or by
//! an SQS FIFO queue's event source mapping with a batch of queued ECS events (the
//! rules feed the queue; the bootstrap is the same). The library's
//! `Watcher::handle_invocation` tells the two apart and does the work: one event
//! answers what it did, or fails with a stable Lambda `errorType` (`MalformedEvent`,
//! `Conflict`, `Retryable`); a batch answers the partial-batch response
//! (`batchItemFailures`: the messages to hand back to the queue). This file only reads
//! the configuration, builds the SDK clients once per sandbox, and runs the handler.

use lambda_runtime::{LambdaEvent, service_fn};
use rollout_watcher::adapters::sdk::load_sdk_config;
use rollout_watcher::delivery::{HandlerError, Response};
use rollout_watcher::lambda::{AwsWatcher, EnvConfig, aws_watcher, report_init_error};
use rollout_watcher::model::Timestamp;
use serde_json::value::RawValue;

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), lambda_runtime::Error> {
    lambda_runtime::tracing::init_default_subscriber();
    let config = match EnvConfig::from_env() {
        Ok(c) => c,
        Err(e) => return Err(report_init_error(&e).await),
    };
    let sdk = load_sdk_config().await?;
    let watcher = aws_watcher(&config, &sdk);
    lambda_runtime::run(service_fn(|event| handle(event, &watcher))).await
}

/// The payload is taken as raw JSON text (checked well formed, not parsed into a
/// tree): the watcher decodes it in one pass.
async fn handle(
    event: LambdaEvent<Box<RawValue>>,
    watcher: &AwsWatcher,
) -> Result<Response, HandlerError> {
    // Lambda's deadline (epoch ms): a batch hands back what it has no time to
    // start rather than being cut off with nothing answered.
    let deadline = i64::try_from(event.context.deadline).unwrap_or(i64::MAX);
    watcher
        .handle_invocation_within(
            event.payload.get(),
            &event.context.request_id,
            Timestamp::from_millis(deadline),
        )
        .await
}
