//! Delivery: what Slack asks us to retry is retried within the invocation's time;
//! what cannot succeed fails the invocation, visibly (error type, metric), without
//! ever printing the webhook URL.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use common::slack::{FakeSlack, Reply};
use common::{config, invocation, notifier, notifier_with, quick_retries, raw_invocation};
use slack_notifier::{HandlerError, PostError, SecretError, WebhookSource, WebhookUrl, chain};
use tokio::time::Instant;

/// Slack rate-limits a channel to about a message per second and says when to come
/// back: the function waits that long, posts again, and the invocation succeeds.
#[tokio::test]
async fn rate_limited_post_waits_for_retry_after_then_succeeds() {
    let slack = FakeSlack::start(vec![Reply::rate_limited(1)]).await;
    let (notifier, metrics) = notifier(&slack.url, config(&[]), quick_retries(3));

    let outcome = notifier
        .handle(invocation(
            &[common::alerts::health_check_failed()],
            Duration::from_secs(10),
        ))
        .await
        .unwrap();

    assert_eq!(outcome.posted, 1);
    let received = slack.received();
    assert_eq!(received.len(), 2, "one 429, one success");
    assert_eq!(
        received[0].body, received[1].body,
        "the same message is posted again"
    );
    let waited = received[1].at - received[0].at;
    assert!(
        waited >= Duration::from_millis(950),
        "Retry-After: 1 honoured, waited {waited:?}"
    );
    assert!(metrics.documents().is_empty());
}

/// A webhook that keeps failing with 500: every attempt is used, then the
/// invocation fails (Lambda retries it, then dead-letters it) and one
/// `AlertPublishFailures` is counted in the configured namespace. Nothing printed
/// carries the webhook URL.
#[tokio::test]
async fn persistent_server_errors_fail_the_invocation_and_count_a_failure() {
    let slack = FakeSlack::with_default(vec![], Reply::status(500, "internal_error")).await;
    let cfg = config(&[("METRICS_NAMESPACE", "Team/Rollouts")]);
    let (notifier, metrics) = notifier(&slack.url, cfg, quick_retries(3));

    let err = notifier
        .handle(invocation(
            &[common::alerts::task_failed_to_start()],
            Duration::from_secs(10),
        ))
        .await
        .unwrap_err();

    assert_eq!(slack.received().len(), 3);
    assert!(matches!(
        &err,
        HandlerError::Post {
            source: PostError::GaveUp { attempts: 3, .. },
            ..
        }
    ));
    assert_eq!(err.error_type(), "SlackDelivery");
    let message = chain(&err);
    assert!(
        message
            .ends_with("Slack delivery failed: gave up after 3 attempts: HTTP 500: internal_error"),
        "{message}"
    );
    for leak in [&slack.url, "s3cr3tT0k3n", "127.0.0.1"] {
        assert!(
            !message.contains(leak) && !format!("{err:?}").contains(leak),
            "{leak} leaked"
        );
    }
    assert_eq!(metrics.values("AlertPublishFailures"), [1.0]);
    let doc = &metrics.documents()[0];
    assert_eq!(
        doc["_aws"]["CloudWatchMetrics"][0]["Namespace"],
        "Team/Rollouts"
    );
    assert_eq!(
        doc["_aws"]["CloudWatchMetrics"][0]["Dimensions"],
        serde_json::json!([[]])
    );
}

/// A `Retry-After` that would outlive the Lambda timeout is not waited for: the
/// invocation fails at once with time to report it, instead of being killed mid-sleep
/// with nothing counted.
#[tokio::test]
async fn a_retry_after_past_the_deadline_fails_now() {
    let slack = FakeSlack::start(vec![Reply::rate_limited(30)]).await;
    let (notifier, metrics) = notifier(&slack.url, config(&[]), quick_retries(5));
    let started = Instant::now();

    let err = notifier
        .handle(invocation(
            &[common::alerts::health_check_failed()],
            Duration::from_secs(3),
        ))
        .await
        .unwrap_err();

    assert!(
        started.elapsed() < Duration::from_secs(2),
        "gave up without sleeping"
    );
    assert!(matches!(
        err,
        HandlerError::Post {
            source: PostError::OutOfTime { attempts: 1, .. },
            ..
        }
    ));
    assert_eq!(slack.received().len(), 1);
    assert_eq!(metrics.values("AlertPublishFailures"), [1.0]);
}

/// `invalid_payload` or `channel_is_archived` will not change on a retry: one
/// attempt, then failure. Nor is it about the layout: no second post as text
/// (that is only for `invalid_blocks`, `rejected_blocks.rs`).
#[tokio::test]
async fn a_final_answer_is_not_retried() {
    let slack = FakeSlack::start(vec![Reply::status(400, "invalid_payload")]).await;
    let (notifier, metrics) = notifier(&slack.url, config(&[]), quick_retries(5));

    let err = notifier
        .handle(invocation(
            &[common::alerts::health_check_failed()],
            Duration::from_secs(10),
        ))
        .await
        .unwrap_err();

    assert_eq!(slack.received().len(), 1);
    assert_eq!(err.error_type(), "SlackDelivery");
    assert!(
        chain(&err).ends_with(
            "Slack delivery failed: Slack rejected the message: HTTP 400: invalid_payload"
        )
    );
    assert_eq!(metrics.values("AlertPublishFailures"), [1.0]);
}

/// Counts reads of the secret.
struct Counting {
    url: String,
    reads: Arc<AtomicUsize>,
}

impl WebhookSource for Counting {
    async fn fetch(&self) -> Result<WebhookUrl, SecretError> {
        self.reads.fetch_add(1, Ordering::SeqCst);
        Ok(WebhookUrl::parse(&self.url).unwrap())
    }
}

/// The secret is read once per sandbox. When Slack says the webhook is gone (as after
/// a rotation), the cached URL is dropped, so Lambda's retry reads the secret again.
#[tokio::test]
async fn the_secret_is_read_once_and_again_after_slack_says_the_webhook_is_gone() {
    let slack = FakeSlack::start(vec![Reply::ok(), Reply::status(404, "no_service")]).await;
    let reads = Arc::new(AtomicUsize::new(0));
    let source = Counting {
        url: slack.url.clone(),
        reads: reads.clone(),
    };
    let (notifier, _) = notifier_with(source, config(&[]), quick_retries(3));
    // three different alerts: the same one again would be dropped as a repeat
    let [first, second, third] = [
        common::alerts::health_check_failed(),
        common::alerts::task_failed_to_start(),
        common::alerts::every_kind().remove(0),
    ];

    notifier
        .handle(invocation(&[first], Duration::from_secs(10)))
        .await
        .unwrap();
    let gone = notifier
        .handle(invocation(&[second], Duration::from_secs(10)))
        .await;
    notifier
        .handle(invocation(&[third], Duration::from_secs(10)))
        .await
        .unwrap();

    assert!(gone.is_err());
    assert_eq!(slack.received().len(), 3);
    assert_eq!(
        reads.load(Ordering::SeqCst),
        2,
        "read at the first alert, and again after the 404"
    );
}

/// A team routes criticals to one channel: the notifier behind that channel skips
/// everything else without posting or failing.
#[tokio::test]
async fn filters_skip_what_the_channel_does_not_want() {
    let slack = FakeSlack::start(vec![]).await;
    let cfg = config(&[
        ("SEVERITY_FILTER", "critical"),
        (
            "ALERT_FILTER",
            "zero_running_tasks,deployment_failed,health_check_failed",
        ),
    ]);
    let (notifier, _) = notifier(&slack.url, cfg, quick_retries(3));

    let every = common::alerts::every_kind();
    let outcome = notifier
        .handle(invocation(&every, Duration::from_secs(10)))
        .await
        .unwrap();

    let headers: Vec<String> = slack
        .received()
        .iter()
        .map(|r| {
            r.body["blocks"][0]["text"]["text"]
                .as_str()
                .unwrap()
                .to_owned()
        })
        .collect();
    assert_eq!(
        headers,
        [
            "🔴 checkout-api: deployment failed",
            "🔴 checkout-api: zero running tasks",
            "✅ checkout-api: serving again",
        ]
    );
    // the three wanted are posted; every other kind (each alert the watcher has) is
    // filtered, none fails
    assert_eq!((outcome.posted, outcome.filtered), (3, every.len() - 3));
}

/// A message that is not one of ours (someone published to the topic by hand) fails
/// the invocation as `MalformedMessage`, so it lands in the dead-letter queue, and
/// counts `EventsRejected`; it never reaches Slack.
#[tokio::test]
async fn a_message_that_is_not_an_alert_is_rejected_and_counted() {
    let slack = FakeSlack::start(vec![]).await;
    let (notifier, metrics) = notifier(&slack.url, config(&[]), quick_retries(3));

    let err = notifier
        .handle(raw_invocation(
            &["deploy done!".to_owned()],
            Duration::from_secs(10),
        ))
        .await
        .unwrap_err();

    assert_eq!(err.error_type(), "MalformedMessage");
    assert!(chain(&err).starts_with("record 95df01b4-ee98-5cb9-9903-4c221d41eb50: not a rollout-watcher alert: message: not JSON"));
    assert!(slack.received().is_empty());
    assert_eq!(metrics.values("EventsRejected"), [1.0]);
}
