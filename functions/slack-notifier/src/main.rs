//! The slack-notifier Lambda function: configuration, clients, run.

use aws_config::BehaviorVersion;
use lambda_runtime::{Error, run, service_fn};
use slack_notifier::{AwsSecretStore, Config, Emf, Notifier, RetryPolicy, SlackClient};

#[tokio::main]
async fn main() -> Result<(), Error> {
    lambda_runtime::tracing::init_default_subscriber();
    let config = Config::from_env()?;
    let sdk = aws_config::defaults(BehaviorVersion::latest()).load().await;
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
