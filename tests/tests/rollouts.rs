//! Whole rollouts, event by event, through the handler with the real SDK clients
//! against the emulator: the SNS messages that reach a subscribed queue (attributes
//! and body), the items left in DynamoDB, and the metric data (EMF, parsed against
//! the specification). The oracle for "exactly the expected messages" is the
//! in-memory replay of the same stream: same state machine, no AWS.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::BTreeMap;

use aws_sdk_dynamodb::types::AttributeValue;
use integration_tests::expect::{self, parse_emf};
use integration_tests::moto::Moto;
use integration_tests::stack::{self, SnsMessage};
use rollout_watcher::adapters::sns::ascii_subject;
use rollout_watcher::core::{Alert, MetricName};
use rollout_watcher::message;
use rollout_watcher_cli::simulate::Scenario;
use serde_json::Value;

use integration_tests::scenario::{SERVICE, clock_for, drive, emf, events};

/// Asserts that the queue holds exactly the replay's alerts, each as the SNS
/// message format says: subject, the five filter attributes, the Amazon Q body.
fn assert_messages(got: &[SnsMessage], want: &[Alert]) {
    let names: Vec<&str> = got.iter().map(SnsMessage::alert).collect();
    let wanted: Vec<&str> = want.iter().map(|a| a.alert.as_str()).collect();
    assert_eq!(names, wanted);
    for (m, a) in got.iter().zip(want) {
        assert_eq!(m.subject, ascii_subject(&message::subject(a, Some("test"))));
        assert!(m.subject.chars().count() < 100);
        let attrs: BTreeMap<String, String> = message::attributes(a)
            .into_iter()
            .map(|(k, v)| (k.to_owned(), v))
            .collect();
        assert_eq!(m.attributes, attrs);
        assert_eq!(m.body, message::body(a, Some("test")));
        assert_eq!(message::alert_from_body(&m.body.to_string()).unwrap(), *a);
    }
}

/// The demo service's settings as the deployed watcher reads them from the
/// emulator's DescribeServices, for a replay that knows what the handler knows.
async fn as_ecs_reports(
    stack: &stack::Stack,
) -> Vec<(
    rollout_watcher::model::ServiceArn,
    rollout_watcher::core::ServiceConfig,
)> {
    use rollout_watcher::ports::ServiceInspector;
    let service = rollout_watcher::model::ServiceArn::parse(SERVICE).unwrap();
    let inspector =
        rollout_watcher::adapters::ecs::EcsInspector::new(aws_sdk_ecs::Client::new(&stack.sdk));
    let view = inspector.describe(&service).await.unwrap().unwrap();
    vec![(service, view.config)]
}

/// Every EMF line written, as data points.
fn points(lines: &[String]) -> Vec<expect::EmfPoint> {
    lines.iter().flat_map(|l| parse_emf(l).unwrap()).collect()
}

/// Service metrics as (name, value, timestamp), sorted: EMF groups them by time.
fn service_metrics(points: &[expect::EmfPoint]) -> Vec<(String, String, i64)> {
    let mut v: Vec<_> = points
        .iter()
        .filter(|p| !p.dimensions.is_empty())
        .map(|p| {
            assert_eq!(p.dimensions["ClusterName"], "demo-cluster");
            assert_eq!(p.dimensions["ServiceName"], "web");
            assert_eq!(p.namespace, "RolloutWatcher");
            (p.name.clone(), format!("{:.3}", p.value), p.timestamp)
        })
        .collect();
    v.sort();
    v
}

fn s(item: &AttributeValue) -> &str {
    item.as_s().map(String::as_str).unwrap_or_default()
}

/// One task behind an ALB, a healthy new image: `deployment_started`, then
/// `deployment_completed`, nothing else; the live item is left with nothing due and
/// the finished rollout is its own item with a TTL; the metrics are the replay's.
#[tokio::test]
async fn single_task_rollout_completes_without_downtime() {
    let moto = Moto::start().await.unwrap();
    let stack = stack::create(&moto, true).await.unwrap();
    let events = events(Scenario::Success);
    let (sink, lines) = emf();
    let w = stack.watcher(sink, clock_for(&events));
    for r in drive(&w, &events).await {
        r.unwrap();
    }
    let (alerts, metrics) = expect::replay(&events);
    let got = stack.messages().await.unwrap();
    assert_messages(&got, &alerts);
    assert_eq!(
        got.iter().map(SnsMessage::alert).collect::<Vec<_>>(),
        ["deployment_started", "deployment_completed"]
    );
    let m = &got[1];
    assert_eq!(m.attributes["severity"], "info");
    assert_eq!(
        (
            m.attributes["cluster"].as_str(),
            m.attributes["service"].as_str()
        ),
        ("demo-cluster", "web")
    );
    assert_eq!(m.body["version"], "1.0");
    assert_eq!(m.body["source"], "custom");
    assert_eq!(m.body["content"]["textType"], "client-markdown");
    let thread = m.body["metadata"]["threadId"].as_str().unwrap();
    assert!(
        thread.starts_with(&format!("{SERVICE}#ecs-svc/")),
        "{thread}"
    );
    assert_eq!(
        thread, got[0].body["metadata"]["threadId"],
        "one rollout, one thread"
    );

    let items = stack.items(SERVICE).await.unwrap();
    let live = stack.live_item(SERVICE).await.unwrap();
    assert!(!live.contains_key("outbox"), "everything was delivered");
    assert!(
        !live.contains_key("due_pk") && !live.contains_key("due_at"),
        "nothing is due"
    );
    let history: Vec<_> = items
        .iter()
        .filter(|i| s(&i["sk"]).starts_with("rollout#"))
        .collect();
    assert!(!history.is_empty());
    let main = history
        .iter()
        .find(|i| s(&i["state"]) == "completed")
        .expect("the completed rollout");
    assert!(matches!(main.get("expires_at"), Some(AttributeValue::N(_))));
    assert!(matches!(main.get("downtime_s"), Some(AttributeValue::N(_))));

    let points = points(&lines.lines());
    let want: Vec<_> = {
        let mut v: Vec<_> = metrics
            .iter()
            .map(|m| {
                (
                    m.name.as_str().to_owned(),
                    format!("{:.3}", m.value),
                    m.at.as_millis(),
                )
            })
            .collect();
        v.sort();
        v
    };
    assert_eq!(service_metrics(&points), want);
    let published: f64 = points
        .iter()
        .filter(|p| p.name == "AlertsPublished")
        .map(|p| p.value)
        .sum();
    assert_eq!(published, 2.0);
    assert!(
        points
            .iter()
            .filter(|p| p.name == "AlertsPublished")
            .all(|p| p.dimensions.is_empty())
    );
}

/// New tasks fail their ALB health checks: each stop says "n of 3" toward the
/// circuit breaker, the deployment fails and is rolled back; exactly the replay's
/// alerts, criticals included, and the rolled-back rollout is stored as history.
#[tokio::test]
async fn health_check_rollback_alerts_once_each() {
    let moto = Moto::start().await.unwrap();
    let stack = stack::create(&moto, true).await.unwrap();
    let events = events(Scenario::HealthCheckRollback);
    let (sink, _) = emf();
    let w = stack.watcher(sink, clock_for(&events));
    for r in drive(&w, &events).await {
        r.unwrap();
    }
    let (alerts, _) = expect::replay_knowing(&events, &as_ecs_reports(&stack).await);
    let got = stack.messages().await.unwrap();
    assert_messages(&got, &alerts);
    let names: Vec<&str> = got.iter().map(SnsMessage::alert).collect();
    assert_eq!(
        names
            .iter()
            .filter(|n| **n == "health_check_failed")
            .count(),
        3
    );
    assert!(names.contains(&"deployment_failed") && names.contains(&"deployment_rolled_back"));
    let first_hc = got
        .iter()
        .find(|m| m.alert() == "health_check_failed")
        .unwrap();
    assert_eq!(first_hc.attributes["severity"], "warning");
    // The emulator's DescribeServices reports no deploymentConfiguration (moto does
    // not model one), which reads as ECS's default, the breaker off: no stop is
    // counted toward a breaker the service is not known to have. (With the breaker
    // on, "1 of 3": the core's and the demo's tests.)
    let description = first_hc.body["content"]["description"].as_str().unwrap();
    assert!(!description.contains("of 3"), "{description}");
    let rolled = got
        .iter()
        .find(|m| m.alert() == "deployment_rolled_back")
        .unwrap();
    assert_eq!(rolled.attributes["severity"], "critical");

    let items = stack.items(SERVICE).await.unwrap();
    let states: Vec<&str> = items
        .iter()
        .filter(|i| s(&i["sk"]).starts_with("rollout#"))
        .map(|i| s(&i["state"]))
        .collect();
    assert!(states.contains(&"rolled_back"), "{states:?}");
}

/// Minimum healthy 0 %: ECS stops the only task before the new one serves. The zero
/// outlasts the grace, DescribeServices confirms no task runs (this server reports
/// running 0), `zero_running_tasks` fires, and resolves with the downtime when the
/// new task runs. The same alerts as the replay, which needs no confirmation.
#[tokio::test]
async fn zero_running_window_pages_once_and_resolves() {
    let moto = Moto::start().await.unwrap();
    let stack = stack::create(&moto, true).await.unwrap();
    let events = events(Scenario::ZeroRunning);
    let (sink, lines) = emf();
    let w = stack.watcher(sink, clock_for(&events));
    for r in drive(&w, &events).await {
        r.unwrap();
    }
    // The deployed watcher read the desired count (1) from DescribeServices; the
    // replay is told the same, so both word the zero alike.
    let desired = rollout_watcher::core::ServiceConfig {
        desired_count: Some(1),
        ..Default::default()
    };
    let service = rollout_watcher::model::ServiceArn::parse(SERVICE).unwrap();
    let (alerts, _) = expect::replay_knowing(&events, &[(service, desired)]);
    let got = stack.messages().await.unwrap();
    assert_messages(&got, &alerts);
    let zero: Vec<&SnsMessage> = got
        .iter()
        .filter(|m| m.alert() == "zero_running_tasks")
        .collect();
    let statuses: Vec<&str> = zero
        .iter()
        .map(|m| m.attributes["status"].as_str())
        .collect();
    assert_eq!(statuses, ["firing", "resolved"]);
    assert!(
        points(&lines.lines())
            .iter()
            .any(|p| p.name == MetricName::ZeroTaskDowntime.as_str() && p.value > 0.0)
    );
}

/// Same stream, but ECS says a task is running when the watcher asks (a second
/// emulator started with MOTO_ECS_SERVICE_RUNNING=1): nobody is paged.
#[tokio::test]
async fn zero_not_confirmed_by_ecs_does_not_page() {
    let moto = Moto::start_with(&[("MOTO_ECS_SERVICE_RUNNING", "1")])
        .await
        .unwrap();
    let stack = stack::create(&moto, true).await.unwrap();
    let events = events(Scenario::ZeroRunning);
    let (sink, _) = emf();
    let w = stack.watcher(sink, clock_for(&events));
    for r in drive(&w, &events).await {
        r.unwrap();
    }
    let got = stack.messages().await.unwrap();
    assert!(
        got.iter().all(|m| m.alert() != "zero_running_tasks"),
        "{:?}",
        got.iter().map(SnsMessage::alert).collect::<Vec<_>>()
    );
    assert!(got.iter().any(|m| m.alert() == "deployment_completed"));
}

/// Every event delivered twice, then the stream with neighbours swapped: no extra
/// message, and the same alerts as the clean stream.
#[tokio::test]
async fn duplicates_and_reordering_add_no_message() {
    let events = events(Scenario::HealthCheckRollback);

    let moto = Moto::start().await.unwrap();
    let stack = stack::create(&moto, true).await.unwrap();
    let (alerts, _) = expect::replay_knowing(&events, &as_ecs_reports(&stack).await);
    let twice: Vec<Value> = events.iter().flat_map(|e| [e.clone(), e.clone()]).collect();
    let (sink, _) = emf();
    let w = stack.watcher(sink, clock_for(&events));
    for r in drive(&w, &twice).await {
        r.unwrap();
    }
    assert_messages(&stack.messages().await.unwrap(), &alerts);

    let moto = Moto::start().await.unwrap();
    let stack = stack::create(&moto, true).await.unwrap();
    let mut swapped = events.clone();
    for pair in swapped.chunks_mut(2) {
        pair.reverse();
    }
    let (sink, _) = emf();
    let w = stack.watcher(sink, clock_for(&events));
    for r in drive(&w, &swapped).await {
        r.unwrap();
    }
    let got = stack.messages().await.unwrap();
    let mut ids: Vec<&str> = got.iter().map(SnsMessage::id).collect();
    ids.sort();
    let before = ids.len();
    ids.dedup();
    assert_eq!(ids.len(), before, "no alert twice");
    let mut names: Vec<&str> = got.iter().map(SnsMessage::alert).collect();
    let mut wanted: Vec<&str> = alerts.iter().map(|a| a.alert.as_str()).collect();
    names.sort();
    wanted.sort();
    assert_eq!(names, wanted);
}
