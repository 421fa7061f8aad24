//! Slack refuses the Block Kit layout (`invalid_blocks`): the alert must still
//! reach the channel. The function runs end to end (SNS event in, HTTP POST out)
//! against a stand-in for Slack's webhook that the test serves on 127.0.0.1.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::time::Duration;

use common::slack::{FakeSlack, Reply};
use common::{config, invocation, notifier, quick_retries};

/// Slack answers the Block Kit message of a failed deployment with `400
/// invalid_blocks` (a limit changed, a block it no longer takes): the function
/// posts the same alert again as plain mrkdwn text (the summary, service, cluster,
/// deployment, console link), which Slack takes, instead of failing the page into
/// the dead-letter queue. Nothing counts as a publish failure: the alert arrived.
#[tokio::test]
async fn a_refused_layout_falls_back_to_text() {
    // given
    let slack = FakeSlack::start(vec![Reply::status(400, "invalid_blocks")]).await;
    let cfg = config(&[("ENVIRONMENT", "production")]);
    let (notifier, metrics) = notifier(&slack.url, cfg, quick_retries(3));
    let failed = common::alerts::every_kind()
        .into_iter()
        .find(|a| a.alert.as_str() == "deployment_failed")
        .unwrap();

    // when
    let outcome = notifier
        .handle(invocation(
            std::slice::from_ref(&failed),
            Duration::from_secs(10),
        ))
        .await
        .unwrap();

    // then
    assert_eq!(outcome.posted, 1);
    let received = slack.received();
    assert_eq!(received.len(), 2, "the layout, then the text");
    assert!(received[0].body["blocks"].is_array());
    let text_only = &received[1].body;
    assert!(text_only.get("blocks").is_none(), "{text_only}");
    let text = text_only["text"].as_str().unwrap();
    for fact in [
        "🔴 [production] checkout-api: deployment failed",
        "Deployment of checkout-api:42 failed: the circuit breaker tripped.",
        "*Cluster:* `prod`",
        "*Deployment:* `ecs-svc/4827305519374027721`",
        "*Account:* `123456789012` · *Region:* `eu-west-1`",
        "<https://eu-west-1.console.aws.amazon.com/ecs/v2/clusters/prod/services/checkout-api/deployments?region=eu-west-1|Open the service in the ECS console>",
    ] {
        assert!(text.contains(fact), "{fact:?} missing from {text}");
    }
    assert!(metrics.documents().is_empty());
}

/// The same for a CloudWatch alarm on the topic: its layout refused, the alarm
/// arrives as text with its name, state change, reason and link.
#[tokio::test]
async fn a_refused_alarm_layout_falls_back_to_text() {
    let slack = FakeSlack::start(vec![Reply::status(400, "invalid_blocks_format")]).await;
    let (notifier, _) = notifier(&slack.url, config(&[]), quick_retries(3));
    let alarm = serde_json::json!({
        "AlarmName": "rw-event-queue-behind",
        "NewStateValue": "ALARM",
        "OldStateValue": "OK",
        "NewStateReason": "Threshold Crossed: 1 datapoint [912.0] was > 600.0",
        "AlarmArn": "arn:aws:cloudwatch:eu-west-1:123456789012:alarm:rw-event-queue-behind"
    })
    .to_string();

    let outcome = notifier
        .handle(common::raw_invocation(&[alarm], Duration::from_secs(10)))
        .await
        .unwrap();

    assert_eq!(outcome.posted, 1);
    let received = slack.received();
    assert_eq!(received.len(), 2);
    let text = received[1].body["text"].as_str().unwrap();
    assert!(
        text.starts_with("*rw-event-queue-behind: OK → ALARM*"),
        "{text}"
    );
    assert!(text.contains("was &gt; 600.0"), "{text}");
    assert!(
        text.contains("#alarmsV2:alarm/rw-event-queue-behind|Open the alarm in CloudWatch>"),
        "{text}"
    );
}
