//! The slack-notifier Lambda function: configuration, clients, run.
//!
//! One thread, like the other functions: Lambda hands a sandbox one event at a
//! time, and a multi-threaded runtime only starts worker threads before the first
//! `next` for nothing.

use lambda_runtime::{Error, run, service_fn};
use rollout_watcher::adapters::sdk::load_sdk_config;
use rollout_watcher::lambda::report_init_error;
use slack_notifier::{AwsSecretStore, Config, Emf, Notifier, RetryPolicy, SlackClient};

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Error> {
    lambda_runtime::tracing::init_default_subscriber();
    // A bad variable fails the start as Runtime.InitError, its message naming it.
    let config = match Config::from_env() {
        Ok(c) => c,
        Err(e) => return Err(report_init_error(&e).await),
    };
    let sdk = load_sdk_config().await?;
    let store = AwsSecretStore::new(&sdk, config.webhook_secret.clone());
    let metrics = Emf::stdout(config.metrics_namespace.clone());
    let notifier = Notifier::new(
        config,
        store,
        SlackClient::new(RetryPolicy::default())?,
        metrics,
    );
    let notifier = &notifier;
    run(service_fn(move |event| notifier.handle(event))).await
}
