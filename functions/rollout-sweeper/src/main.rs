//! rollout-sweeper: invoked on a schedule (EventBridge Scheduler, every minute by
//! default) to see what events cannot show, silence: rollouts past their deadline,
//! zeros waiting for ECS's word, outcomes whose event never came, effects a crashed
//! invocation left behind. The library's `Watcher::sweep_within` does the work,
//! within the invocation's deadline; the scheduler's payload is ignored.

use lambda_runtime::{LambdaEvent, service_fn};
use rollout_watcher::adapters::sdk::load_sdk_config;
use rollout_watcher::delivery::{HandlerError, SweepConfig, SweepReport};
use rollout_watcher::lambda::{
    AwsWatcher, ConfigError, EnvConfig, aws_watcher, report_init_error, sweep_config,
};
use rollout_watcher::model::Timestamp;
use serde_json::Value;

fn config() -> Result<(EnvConfig, SweepConfig), ConfigError> {
    let env = EnvConfig::from_env()?;
    let sweep = sweep_config(|k| std::env::var(k).ok())?;
    Ok((env, sweep))
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), lambda_runtime::Error> {
    lambda_runtime::tracing::init_default_subscriber();
    let (config, sweep) = match config() {
        Ok(c) => c,
        Err(e) => return Err(report_init_error(&e).await),
    };
    let sdk = load_sdk_config().await?;
    let watcher = aws_watcher(&config, &sdk);
    lambda_runtime::run(service_fn(|event| tick(event, &watcher, &sweep))).await
}

async fn tick(
    event: LambdaEvent<Value>,
    watcher: &AwsWatcher,
    sweep: &SweepConfig,
) -> Result<SweepReport, HandlerError> {
    // Lambda's deadline (epoch ms): the tick stops starting services in time to
    // report and send its gauges rather than being cut off.
    let deadline = i64::try_from(event.context.deadline).unwrap_or(i64::MAX);
    watcher
        .sweep_within(
            sweep,
            &event.context.request_id,
            Timestamp::from_millis(deadline),
        )
        .await
}
