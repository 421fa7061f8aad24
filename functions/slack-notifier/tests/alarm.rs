//! The module's CloudWatch alarms notify the same topic as the alerts (no running
//! task, deployment failed, the watcher's dead-letter queues and errors). The
//! function runs end to end (SNS event in, HTTP POST out) against a stand-in for
//! Slack's webhook that the test serves on 127.0.0.1.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::time::Duration;

use common::slack::FakeSlack;
use common::view::View;
use common::{config, notifier, quick_retries, raw_invocation};

/// What CloudWatch publishes to SNS when an alarm changes state (the shape of a
/// real notification: the region in words, the times with a `+0000` offset).
fn alarm_message(name: &str, old: &str, new: &str, reason: &str) -> String {
    serde_json::json!({
        "AlarmName": name,
        "AlarmDescription": "rollout-watcher: no task of prod/checkout-api is running",
        "AWSAccountId": "123456789012",
        "AlarmConfigurationUpdatedTimestamp": "2026-02-20T09:00:00.000+0000",
        "NewStateValue": new,
        "NewStateReason": reason,
        "StateChangeTime": "2026-03-02T10:16:02.006+0000",
        "Region": "EU (Ireland)",
        "AlarmArn": format!("arn:aws:cloudwatch:eu-west-1:123456789012:alarm:{name}"),
        "OldStateValue": old,
        "OKActions": [],
        "AlarmActions": ["arn:aws:sns:eu-west-1:123456789012:rollout-watcher-alerts"],
        "InsufficientDataActions": [],
        "Trigger": {
            "MetricName": "RunningTaskCount",
            "Namespace": "RolloutWatcher",
            "StatisticType": "Statistic",
            "Statistic": "MINIMUM",
            "Dimensions": [
                {"value": "prod", "name": "ClusterName"},
                {"value": "checkout-api", "name": "ServiceName"}
            ],
            "Period": 60,
            "EvaluationPeriods": 3,
            "ComparisonOperator": "LessThanThreshold",
            "Threshold": 1.0,
            "TreatMissingData": "breaching"
        }
    })
    .to_string()
}

/// The no-running-tasks alarm fires at 3 a.m.: the channel gets it, saying which
/// alarm, that it is in ALARM, why (CloudWatch's reason, escaped), in which account
/// and region, with a link to the alarm. It is not refused as a malformed alert
/// (which would send the page to the dead-letter queue and count a rejected event).
#[tokio::test]
async fn a_cloudwatch_alarm_on_the_topic_reaches_the_channel() {
    // given
    let slack = FakeSlack::start(vec![]).await;
    let cfg = config(&[("ENVIRONMENT", "production")]);
    let (notifier, metrics) = notifier(&slack.url, cfg, quick_retries(3));
    let name = "rollout-watcher-prod-checkout-api-no-running-tasks";
    let reason =
        "Threshold Crossed: 3 datapoints [0.0 (02/03/26 10:15:00)] were < the threshold (1.0)";

    // when
    let outcome = notifier
        .handle(raw_invocation(
            &[alarm_message(name, "OK", "ALARM", reason)],
            Duration::from_secs(10),
        ))
        .await
        .unwrap();

    // then
    assert_eq!(outcome.posted, 1);
    let received = slack.received();
    assert_eq!(received.len(), 1);
    let m = View(&received[0].body);
    assert_eq!(m.header(), format!("🔴 [production] {name}: ALARM"));
    let text = m.all_text();
    assert!(text.contains("were &lt; the threshold (1.0)"), "{text}");
    assert!(text.contains("2026-03-02 10:16:02 UTC"), "{text}");
    assert_eq!(m.field("State").as_deref(), Some("OK → ALARM"));
    assert_eq!(
        m.field("Account · region").as_deref(),
        Some("`123456789012` · `eu-west-1`")
    );
    assert!(
        text.contains(&format!(
            "<https://eu-west-1.console.aws.amazon.com/cloudwatch/home?region=eu-west-1#alarmsV2:alarm/{name}|Open the alarm in CloudWatch>"
        )),
        "{text}"
    );
    assert!(
        received[0].body["text"].as_str().unwrap().starts_with(
            "🔴 [production] rollout-watcher-prod-checkout-api-no-running-tasks: ALARM"
        )
    );
    assert!(
        metrics.documents().is_empty(),
        "nothing rejected, nothing failed"
    );
}

/// The alarm clears: the same alarm arrives as resolved (✅), so the channel knows
/// it can stand down.
#[tokio::test]
async fn an_alarm_back_to_ok_reads_as_resolved() {
    let slack = FakeSlack::start(vec![]).await;
    let (notifier, _) = notifier(&slack.url, config(&[]), quick_retries(3));
    let name = "rollout-watcher-ecs-event-handler-dlq-not-empty";

    notifier
        .handle(raw_invocation(
            &[alarm_message(
                name,
                "ALARM",
                "OK",
                "Threshold Crossed: no datapoints were > 0",
            )],
            Duration::from_secs(10),
        ))
        .await
        .unwrap();

    let received = slack.received();
    let m = View(&received[0].body);
    assert_eq!(m.header(), format!("✅ {name}: OK"));
    assert_eq!(m.field("State").as_deref(), Some("ALARM → OK"));
}

/// A channel that takes only criticals still gets an alarm that fires (an alarm in
/// ALARM counts as critical), and not its return to OK (info).
#[tokio::test]
async fn the_severity_filter_treats_a_firing_alarm_as_critical() {
    let slack = FakeSlack::start(vec![]).await;
    let cfg = config(&[("SEVERITY_FILTER", "critical")]);
    let (notifier, _) = notifier(&slack.url, cfg, quick_retries(3));
    let name = "rollout-watcher-prod-checkout-api-deployment-failed";

    let fired = notifier
        .handle(raw_invocation(
            &[alarm_message(name, "OK", "ALARM", "Threshold Crossed")],
            Duration::from_secs(10),
        ))
        .await
        .unwrap();
    let cleared = notifier
        .handle(raw_invocation(
            &[alarm_message(name, "ALARM", "OK", "Threshold Crossed")],
            Duration::from_secs(10),
        ))
        .await
        .unwrap();

    assert_eq!((fired.posted, fired.filtered), (1, 0));
    assert_eq!((cleared.posted, cleared.filtered), (0, 1));
    assert_eq!(slack.received().len(), 1);
}

/// CloudWatch's notification delivered twice (SNS delivers at least once): one
/// message in the channel.
#[tokio::test]
async fn a_repeated_alarm_notification_is_posted_once() {
    let slack = FakeSlack::start(vec![]).await;
    let (notifier, _) = notifier(&slack.url, config(&[]), quick_retries(3));
    let message = alarm_message(
        "rw-web-deployment-failed",
        "OK",
        "ALARM",
        "Threshold Crossed",
    );

    for _ in 0..2 {
        notifier
            .handle(raw_invocation(
                std::slice::from_ref(&message),
                Duration::from_secs(10),
            ))
            .await
            .unwrap();
    }

    assert_eq!(slack.received().len(), 1);
}
