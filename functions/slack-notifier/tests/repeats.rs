//! An alert reaches the function more than once: SNS delivers at least once, Lambda
//! retries a failed asynchronous invocation, and the watcher re-publishes an alert
//! whose "sent" mark was lost (a new SNS message with the same body `id`). The
//! channel must see it once. The function runs end to end against a stand-in for
//! Slack's webhook that the test serves on 127.0.0.1.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::time::Duration;

use common::slack::{FakeSlack, Reply};
use common::{config, invocation, notifier, quick_retries, raw_invocation};
use rollout_watcher::message;

/// The zero-running page arrives, then again (the watcher re-published it after a
/// crash between its publish and its mark): one message in the channel, and the
/// repeat is counted as such rather than as a post.
#[tokio::test]
async fn a_repeated_alert_is_posted_once() {
    // given
    let slack = FakeSlack::start(vec![]).await;
    let (notifier, metrics) = notifier(&slack.url, config(&[]), quick_retries(3));
    let page = common::alerts::every_kind()
        .into_iter()
        .find(|a| a.alert.as_str() == "zero_running_tasks")
        .unwrap();

    // when
    let first = notifier
        .handle(invocation(
            std::slice::from_ref(&page),
            Duration::from_secs(10),
        ))
        .await
        .unwrap();
    let again = notifier
        .handle(invocation(
            std::slice::from_ref(&page),
            Duration::from_secs(10),
        ))
        .await
        .unwrap();

    // then
    assert_eq!((first.posted, first.repeats), (1, 0));
    assert_eq!((again.posted, again.repeats), (0, 1));
    assert_eq!(slack.received().len(), 1, "one message in the channel");
    assert!(metrics.documents().is_empty());
}

/// A post that Slack refused is not remembered: the Lambda retry of the failed
/// invocation posts it, once.
#[tokio::test]
async fn a_failed_post_is_posted_by_the_retry() {
    // given: Slack fails every attempt of the first invocation
    let slack = FakeSlack::start(vec![
        Reply::status(500, "internal_error"),
        Reply::status(500, "internal_error"),
    ])
    .await;
    let (notifier, _) = notifier(&slack.url, config(&[]), quick_retries(2));
    let alert = common::alerts::health_check_failed();
    let body = message::body(&alert, None).to_string();

    // when: the invocation fails, and Lambda retries it
    let failed = notifier
        .handle(raw_invocation(
            std::slice::from_ref(&body),
            Duration::from_secs(10),
        ))
        .await;
    let retried = notifier
        .handle(raw_invocation(
            std::slice::from_ref(&body),
            Duration::from_secs(10),
        ))
        .await
        .unwrap();

    // then
    assert!(failed.is_err());
    assert_eq!((retried.posted, retried.repeats), (1, 0));
    assert_eq!(slack.received().len(), 3, "two refused attempts, one post");
}

/// Two different alerts of one rollout (the health-check failure, then the task that
/// failed to start) are both posted: only the same dedup key is a repeat.
#[tokio::test]
async fn different_alerts_are_not_repeats() {
    let slack = FakeSlack::start(vec![]).await;
    let (notifier, _) = notifier(&slack.url, config(&[]), quick_retries(3));
    let alerts = [
        common::alerts::health_check_failed(),
        common::alerts::task_failed_to_start(),
    ];

    for a in &alerts {
        notifier
            .handle(invocation(std::slice::from_ref(a), Duration::from_secs(10)))
            .await
            .unwrap();
    }

    assert_eq!(slack.received().len(), 2);
}
