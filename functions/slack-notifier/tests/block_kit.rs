//! What arrives in Slack: every alert kind as Block Kit, and hostile event text as
//! plain text. The function runs end to end (SNS event in, HTTP POST out) against a
//! fake webhook on 127.0.0.1.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::time::Duration;

use common::alerts;
use common::slack::FakeSlack;
use common::view::View;
use common::{config, invocation, notifier, quick_retries};
use rollout_watcher::core::{AlertName, AlertStatus};
use serde_json::Value;

/// Each kind of alert becomes one message whose header says how bad (emoji), which
/// service, in which environment, and what happened; whose fields carry the
/// deployment, duration, downtime and the "n of threshold" count; and which links
/// to the ECS console.
#[tokio::test]
async fn every_alert_kind_arrives_as_block_kit_with_its_facts() {
    // given
    let slack = FakeSlack::start(vec![]).await;
    let cfg = config(&[("ENVIRONMENT", "production")]);
    let (notifier, metrics) = notifier(&slack.url, cfg, quick_retries(3));
    let alerts = alerts::every_kind();

    // when
    for a in &alerts {
        let outcome = notifier
            .handle(invocation(std::slice::from_ref(a), Duration::from_secs(10)))
            .await
            .unwrap();
        assert_eq!(outcome.posted, 1);
    }

    // then
    let received = slack.received();
    assert_eq!(received.len(), alerts.len());
    for (a, r) in alerts.iter().zip(&received) {
        let m = View(&r.body);
        let kind = format!("{} ({})", a.alert.as_str(), a.status.as_str());
        assert_eq!(r.method, "POST", "{kind}");
        assert_eq!(r.path, "/services/T0TEST/B0TEST/s3cr3tT0k3n", "{kind}");
        assert_eq!(
            r.header("content-type"),
            Some("application/json; charset=utf-8")
        );
        assert_eq!(
            m.block_types(),
            expected_blocks(a.alert),
            "{kind}: header, summary, fields, [evidence], links, context"
        );
        let emoji = match (a.status, a.alert.severity().as_str()) {
            (AlertStatus::Resolved, _) => "✅",
            (_, "critical") => "🔴",
            (_, "warning") => "🟠",
            _ => "🔵",
        };
        assert_eq!(
            m.header(),
            format!(
                "{emoji} [production] checkout-api: {}",
                slack_notifier::headline(a)
            ),
            "{kind}"
        );
        assert!(
            m.all_text().contains(&a.summary),
            "{kind}: the summary is shown"
        );
        assert_eq!(m.field("Service").as_deref(), Some("`checkout-api`"));
        assert_eq!(m.field("Cluster").as_deref(), Some("`prod`"));
        assert_eq!(
            m.field("Account · region").as_deref(),
            Some("`123456789012` · `eu-west-1`"),
            "{kind}: the account and region without decoding an ARN"
        );
        assert!(
            m.all_text().contains("*When:* 2026-03-02 10:15:00 UTC"),
            "{kind}: the event time"
        );
        assert_eq!(m.field("Environment").as_deref(), Some("production"));
        assert_eq!(
            m.field("Deployment").as_deref(),
            Some("`ecs-svc/4827305519374027721`")
        );
        assert_eq!(
            m.field("Task definition").as_deref(),
            Some("`checkout-api:42`")
        );
        assert!(
            m.all_text().contains("<https://eu-west-1.console.aws.amazon.com/ecs/v2/clusters/prod/services/checkout-api/deployments?region=eu-west-1|Open the service in the ECS console>"),
            "{kind}: console link"
        );
        let context = m.blocks().last().unwrap()["elements"][0]["text"]
            .as_str()
            .unwrap();
        assert!(
            context.contains(&format!("`{}`", a.alert.as_str())),
            "{kind}: {context}"
        );
        assert!(
            r.body["text"].as_str().unwrap().contains("checkout-api"),
            "{kind}: fallback text"
        );
    }
    assert!(metrics.documents().is_empty(), "no failure to count");
}

fn expected_blocks(name: AlertName) -> Vec<&'static str> {
    let evidence = matches!(
        name,
        AlertName::DeploymentFailed
            | AlertName::HealthCheckFailed
            | AlertName::TaskFailedToStart
            | AlertName::TaskStartImpaired
            | AlertName::TaskPlacementFailed
            | AlertName::UnsafeDeploymentConfig
            | AlertName::TaskCrashed
    );
    let mut blocks = vec!["header", "section", "section"];
    if evidence {
        blocks.push("section");
    }
    blocks.extend(["section", "context"]);
    blocks
}

/// The health-check alert is the one people act on mid-rollout: it must say how
/// close the circuit breaker is, why the task was stopped and how it exited, and
/// link to the task itself.
#[tokio::test]
async fn a_health_check_failure_shows_n_of_threshold_and_the_evidence() {
    let slack = FakeSlack::start(vec![]).await;
    let (notifier, _) = notifier(&slack.url, config(&[]), quick_retries(3));

    notifier
        .handle(invocation(
            &[alerts::health_check_failed()],
            Duration::from_secs(10),
        ))
        .await
        .unwrap();

    let received = slack.received();
    let m = View(&received[0].body);
    assert_eq!(
        m.header(),
        "🟠 checkout-api: a task failed its health checks"
    );
    assert_eq!(
        m.field("Circuit breaker").as_deref(),
        Some("2 of 3 failed tasks")
    );
    assert_eq!(m.field("Environment"), None, "no ENVIRONMENT, no field");
    let text = m.all_text();
    assert!(text.contains("*Stopped reason:* Task failed ELB health checks in (target-group arn:aws:elasticloadbalancing:"));
    assert!(text.contains("*Stop code:* `ServiceSchedulerInitiated`"));
    assert!(text.contains("*Container* `app`: exit code 137"));
    assert!(text.contains("*Task:* `0c4b3f6a9a0e4f5c8c1d2e3f4a5b6c7d`"));
    assert!(text.contains("<https://eu-west-1.console.aws.amazon.com/ecs/v2/clusters/prod/tasks/0c4b3f6a9a0e4f5c8c1d2e3f4a5b6c7d/configuration?region=eu-west-1|Open the task>"));
}

/// A completed rollout reports its duration and its downtime; a resolved zero
/// reports how long the service was down.
#[tokio::test]
async fn durations_and_downtime_read_like_a_person_wrote_them() {
    let slack = FakeSlack::start(vec![]).await;
    let (notifier, _) = notifier(&slack.url, config(&[]), quick_retries(3));
    let all = alerts::every_kind();
    let completed = all
        .iter()
        .find(|a| a.alert == AlertName::DeploymentCompleted)
        .unwrap();
    let back = all
        .iter()
        .find(|a| a.alert == AlertName::ZeroRunningTasks && a.status == AlertStatus::Resolved)
        .unwrap();

    notifier
        .handle(invocation(
            &[completed.clone(), back.clone()],
            Duration::from_secs(10),
        ))
        .await
        .unwrap();

    let received = slack.received();
    let done = View(&received[0].body);
    assert_eq!(done.field("Duration").as_deref(), Some("1 min 14 s"));
    assert_eq!(done.field("Downtime").as_deref(), Some("0 s"));
    let up = View(&received[1].body);
    assert_eq!(up.header(), "✅ checkout-api: serving again");
    assert_eq!(up.field("Downtime").as_deref(), Some("1 min 33 s"));
}

/// Text from events is attacker-controlled (whoever can stop a task chooses its
/// reason): `<!channel>`, `<@U123>` and `<http://x|y>` must arrive as text, `&` as
/// `&amp;`, and Slack must not auto-parse what is left (`verbatim`).
#[tokio::test]
async fn hostile_event_text_arrives_as_text() {
    // given
    let hostile = "<!channel> <!here> ping <@U123> see <http://evil.example|the docs> & <#C999>";
    let mut a = alerts::task_failed_to_start();
    a.summary = format!("Task failed: {hostile}");
    a.details.stop_reason = Some(hostile.to_owned());
    a.details.stop_code = Some("<!everyone>".into());
    a.details.exits[0].name = "app<@U1>".into();
    a.details.exits[0].reason = Some(hostile.to_owned());
    a.details.reason = Some(hostile.to_owned());
    a.details.task_definition = Some("evil:1 <!channel>".into());
    a.details.console_url = "https://evil.example/x|<!channel>".into();
    let slack = FakeSlack::start(vec![]).await;
    let (notifier, _) = notifier(
        &slack.url,
        config(&[("ENVIRONMENT", "prod <!here>")]),
        quick_retries(3),
    );

    // when
    notifier
        .handle(invocation(&[a], Duration::from_secs(10)))
        .await
        .unwrap();

    // then
    let received = slack.received();
    let m = View(&received[0].body);
    let mut checked = 0;
    for t in m.texts() {
        let text = t["text"].as_str().unwrap();
        if t["type"] == "mrkdwn" {
            assert_eq!(t["verbatim"], Value::Bool(true), "{text}");
        }
        // The only `<` left opens our own task link, built from the service ARN.
        let stripped = text.replace(
            "<https://eu-west-1.console.aws.amazon.com/ecs/v2/clusters/prod/tasks/0c4b3f6a9a0e4f5c8c1d2e3f4a5b6c7d/configuration?region=eu-west-1|Open the task>",
            "",
        );
        assert!(
            !stripped.contains('<') && !stripped.contains('>'),
            "unescaped: {text}"
        );
        checked += 1;
    }
    assert!(checked > 5);
    let fallback = received[0].body["text"].as_str().unwrap();
    assert!(!fallback.contains('<'), "{fallback}");
    let text = m.all_text();
    assert!(text.contains("&lt;!channel&gt; &lt;!here&gt; ping &lt;@U123&gt; see &lt;http://evil.example|the docs&gt; &amp; &lt;#C999&gt;"));
    assert!(text.contains("*Stop code:* `&lt;!everyone&gt;`"));
    assert!(
        !text.contains("evil.example/x"),
        "a console URL that could break out of a link is dropped"
    );
}

/// A crash loop counts crashes, not failed tasks of a rollout: the field says so.
#[tokio::test]
async fn a_crash_loop_counts_crashes() {
    let slack = FakeSlack::start(vec![]).await;
    let (notifier, _) = notifier(&slack.url, config(&[]), quick_retries(3));
    let crash_loop = alerts::every_kind()
        .into_iter()
        .find(|a| a.alert == AlertName::CrashLoop)
        .unwrap();

    notifier
        .handle(invocation(&[crash_loop], Duration::from_secs(10)))
        .await
        .unwrap();

    let m = View(&slack.received()[0].body);
    assert_eq!(m.field("Crashes").as_deref(), Some("3"));
    assert_eq!(m.field("Failed tasks"), None);
}
