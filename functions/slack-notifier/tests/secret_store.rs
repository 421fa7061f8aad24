//! The webhook URL read through the real AWS SDK clients (Secrets Manager, SSM
//! Parameter Store) from the emulator, then used to post: the whole function path
//! except Lambda itself. moto runs on 127.0.0.1; the fake Slack too.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::time::Duration;

use aws_sdk_ssm::types::ParameterType;
use common::moto::Moto;
use common::slack::FakeSlack;
use common::{config, invocation, notifier_with, quick_retries};
use slack_notifier::{AwsSecretStore, HandlerError, SecretError, chain};

/// The Terraform module's usual setup: a Secrets Manager secret holding the URL.
#[tokio::test]
async fn the_webhook_url_comes_from_secrets_manager() {
    // given
    let moto = Moto::start();
    let sdk = moto.sdk().await;
    let slack = FakeSlack::start(vec![]).await;
    let created = aws_sdk_secretsmanager::Client::new(&sdk)
        .create_secret()
        .name("rollout-watcher/slack-webhook")
        .secret_string(&slack.url)
        .send()
        .await
        .unwrap();
    let arn = created.arn().unwrap();
    let cfg = config(&[("SLACK_WEBHOOK_SECRET_ARN", arn)]);
    let store = AwsSecretStore::new(&sdk, cfg.webhook_secret.clone());
    let (notifier, _) = notifier_with(store, cfg, quick_retries(3));

    // when
    let outcome = notifier
        .handle(invocation(
            &[common::alerts::health_check_failed()],
            Duration::from_secs(10),
        ))
        .await
        .unwrap();

    // then
    assert_eq!(outcome.posted, 1);
    assert_eq!(slack.received().len(), 1);
}

/// The SSM alternative: a SecureString parameter, here in the key/value form
/// (`{"webhook_url": …}`), read by ARN with decryption.
#[tokio::test]
async fn the_webhook_url_comes_from_an_ssm_securestring() {
    let moto = Moto::start();
    let sdk = moto.sdk().await;
    let slack = FakeSlack::start(vec![]).await;
    aws_sdk_ssm::Client::new(&sdk)
        .put_parameter()
        .name("/rollout-watcher/slack-webhook")
        .r#type(ParameterType::SecureString)
        .value(format!(r#"{{"webhook_url": "{}"}}"#, slack.url))
        .send()
        .await
        .unwrap();
    let arn = "arn:aws:ssm:eu-west-1:123456789012:parameter/rollout-watcher/slack-webhook";
    let cfg = config(&[("SLACK_WEBHOOK_SECRET_ARN", arn)]);
    let store = AwsSecretStore::new(&sdk, cfg.webhook_secret.clone());
    let (notifier, _) = notifier_with(store, cfg, quick_retries(3));

    let outcome = notifier
        .handle(invocation(
            &[common::alerts::task_failed_to_start()],
            Duration::from_secs(10),
        ))
        .await
        .unwrap();

    assert_eq!(outcome.posted, 1);
    assert_eq!(slack.received().len(), 1);
}

/// A secret that cannot be read (deleted, no permission) fails the invocation as
/// `WebhookSecret`, names the ARN, and counts `AlertPublishFailures`.
#[tokio::test]
async fn an_unreadable_secret_fails_the_invocation_and_names_the_arn() {
    let moto = Moto::start();
    let sdk = moto.sdk().await;
    let arn = "arn:aws:secretsmanager:eu-west-1:123456789012:secret:does-not-exist-AbCdEf";
    let cfg = config(&[("SLACK_WEBHOOK_SECRET_ARN", arn)]);
    let store = AwsSecretStore::new(&sdk, cfg.webhook_secret.clone());
    let (notifier, metrics) = notifier_with(store, cfg, quick_retries(3));

    let err = notifier
        .handle(invocation(
            &[common::alerts::health_check_failed()],
            Duration::from_secs(10),
        ))
        .await
        .unwrap_err();

    assert!(
        matches!(err, HandlerError::Secret(SecretError::Fetch { .. })),
        "{err:?}"
    );
    assert_eq!(err.error_type(), "WebhookSecret");
    assert!(chain(&err).starts_with(&format!(
        "webhook secret: Secrets Manager {arn}: could not read the webhook secret"
    )));
    assert_eq!(metrics.values("AlertPublishFailures"), [1.0]);
}

/// A secret holding something else than a webhook URL (a bot token pasted by
/// mistake) is refused without echoing it.
#[tokio::test]
async fn a_secret_that_is_not_a_webhook_url_is_refused_without_echoing_it() {
    let moto = Moto::start();
    let sdk = moto.sdk().await;
    let created = aws_sdk_secretsmanager::Client::new(&sdk)
        .create_secret()
        .name("slack-token")
        .secret_string("xoxb-not-a-webhook-123")
        .send()
        .await
        .unwrap();
    let cfg = config(&[("SLACK_WEBHOOK_SECRET_ARN", created.arn().unwrap())]);
    let store = AwsSecretStore::new(&sdk, cfg.webhook_secret.clone());
    let (notifier, _) = notifier_with(store, cfg, quick_retries(3));

    let err = notifier
        .handle(invocation(
            &[common::alerts::health_check_failed()],
            Duration::from_secs(10),
        ))
        .await
        .unwrap_err();

    assert!(matches!(
        err,
        HandlerError::Secret(SecretError::NotAWebhookUrl { .. })
    ));
    assert!(!chain(&err).contains("xoxb") && !format!("{err:?}").contains("xoxb"));
}
