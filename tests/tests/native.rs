//! A blue/green rollout followed through the Service Deployments API, on the real SDK
//! clients: the handler joins its hook events through one DescribeServiceDeployments,
//! and the sweeper finishes it from a SUCCESSFUL reading when its COMPLETED event
//! never comes.
//!
//! Moto lacks the Service Deployments API (ListServiceDeployments and
//! DescribeServiceDeployments are not implemented there), so the fault proxy between
//! the clients and moto answers those two operations from a script, in ECS's JSON 1.1
//! wire format; DynamoDB, SNS, SQS and the rest of ECS are moto's. The proxy counts
//! the calls, so the tests also say how many the functions make.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::time::Duration;

use aws_sdk_dynamodb::types::AttributeValue;
use integration_tests::fault_proxy::{Fault, FaultProxy, Plan, Rule};
use integration_tests::moto::{Moto, REGION};
use integration_tests::scenario::{SERVICE, emf};
use integration_tests::stack::{self, SnsMessage, Stack};
use rollout_watcher::adapters::ecs::EcsInspector;
use rollout_watcher::adapters::recording::ManualClock;
use rollout_watcher::delivery::SweepConfig;
use rollout_watcher::message::alert_from_body;
use rollout_watcher::model::{ServiceArn, Timestamp};
use rollout_watcher::ports::{ServiceInspector, StateStore};
use serde_json::{Value, json};

const DIGITS: &str = "1485800978477494678";
const SD: &str =
    "arn:aws:ecs:eu-west-1:123456789012:service-deployment/demo-cluster/web/0EYSiB0qap8xf0N76FsbE";
const HOOK: &str = "ecs-pause-e7tK9G_WRJqNF_EOMjztDXfKenlJuEUVjsNStf4WLKw";
const CLUSTER: &str = "arn:aws:ecs:eu-west-1:123456789012:cluster/demo-cluster";
/// 2026-03-02T10:00:00Z.
const T0: i64 = 1_772_445_600;

fn at(minutes: i64) -> String {
    Timestamp::from_millis((T0 + minutes * 60) * 1000).to_rfc3339()
}

fn deployment_event(name: &str, minutes: i64) -> Value {
    json!({
        "version": "0", "id": format!("dep-{name}"), "detail-type": "ECS Deployment State Change",
        "source": "aws.ecs", "account": "123456789012", "time": at(minutes), "region": REGION,
        "resources": [SERVICE],
        "detail": {"eventType": "INFO", "eventName": name,
                   "deploymentId": format!("ecs-svc/{DIGITS}"), "updatedAt": at(minutes),
                   "reason": "ECS deployment in progress."}
    })
}

/// As AWS's own sample: `resources` holds the service deployment.
fn hook_event(name: &str, minutes: i64) -> Value {
    json!({
        "version": "0", "id": format!("hook-{name}"), "detail-type": "ECS Hook State Change",
        "source": "aws.ecs", "account": "123456789012", "time": at(minutes), "region": REGION,
        "resources": [SD],
        "detail": {
            "eventType": "INFO", "eventName": name, "hookId": HOOK, "hookType": "PAUSE",
            "expiresAt": at(minutes + 10), "lifecycleStage": "POST_TEST_TRAFFIC_SHIFT",
            "clusterArn": CLUSTER, "serviceArn": SERVICE, "serviceDeploymentArn": SD,
            "updatedAt": at(minutes)
        }
    })
}

/// DescribeServiceDeployments' object on the wire (times in epoch seconds).
fn service_deployment(status: &str, hook_status: &str, minutes: i64) -> Value {
    let mut d = json!({
        "serviceDeploymentArn": SD, "serviceArn": SERVICE, "clusterArn": CLUSTER,
        "createdAt": T0 - 30, "startedAt": T0, "updatedAt": T0 + minutes * 60,
        "targetServiceRevision": {
            "arn": format!("arn:aws:ecs:eu-west-1:123456789012:service-revision/demo-cluster/web/{DIGITS}"),
            "requestedTaskCount": 1, "runningTaskCount": 1, "pendingTaskCount": 0
        },
        "status": status, "lifecycleStage": "POST_TEST_TRAFFIC_SHIFT",
        "deploymentCircuitBreaker": {"status": "MONITORING", "failureCount": 0, "threshold": 3},
        "alarms": {"status": "MONITORING", "alarmNames": ["web-5xx"], "triggeredAlarmNames": []},
        "lifecycleHookDetails": [{
            "hookId": HOOK, "targetType": "PAUSE", "status": hook_status,
            "expiresAt": T0 + 13 * 60, "timeoutAction": "ROLLBACK"
        }]
    });
    if status == "SUCCESSFUL" {
        d["finishedAt"] = json!(T0 + minutes * 60);
        d["lifecycleStage"] = json!("CLEAN_UP");
    }
    d
}

/// Each message's alert and status, read back from the body as subscribers do.
fn alerts(msgs: &[SnsMessage]) -> Vec<(String, String)> {
    msgs.iter()
        .map(|m| {
            let a = alert_from_body(&m.body.to_string()).unwrap();
            (m.alert().to_owned(), a.status.as_str().to_owned())
        })
        .collect()
}

fn deployment_of(m: &SnsMessage) -> String {
    let a = alert_from_body(&m.body.to_string()).unwrap();
    a.deployment_id
        .map(|d| d.as_str().to_owned())
        .unwrap_or_default()
}

fn calls(proxy: &FaultProxy, operation: &str) -> usize {
    proxy
        .counts()
        .get(&("ecs".to_owned(), operation.to_owned()))
        .copied()
        .unwrap_or(0)
}

#[tokio::test]
async fn blue_green_rollout_joined_by_describe_and_finished_by_the_sweeper() {
    let moto = Moto::start_with(&[("MOTO_ECS_SERVICE_RUNNING", "1")])
        .await
        .unwrap();
    let stack = stack::create(&moto, true).await.unwrap();
    let proxy = FaultProxy::start(&moto.endpoint, Plan::default())
        .await
        .unwrap();
    let through_proxy = Stack {
        sdk: proxy
            .sdk_config(Duration::from_secs(5), Duration::from_millis(1))
            .await,
        ..stack.clone()
    };
    let clock = std::sync::Arc::new(ManualClock::at(Timestamp::from_millis(T0 * 1000)));
    let (sink, _) = emf();
    let w = through_proxy.watcher(sink, clock.clone());

    // The rollout starts; its pause hook waits: the hook event names only the service
    // deployment, so the handler asks DescribeServiceDeployments once.
    proxy.set_service_deployments(vec![service_deployment(
        "IN_PROGRESS",
        "AWAITING_ACTION",
        3,
    )]);
    w.handle(
        &deployment_event("SERVICE_DEPLOYMENT_IN_PROGRESS", 0),
        "req-1",
    )
    .await
    .unwrap();
    clock.set(Timestamp::parse(&at(3)).unwrap());
    let paused = w
        .handle(&hook_event("HOOK_AWAITING_ACTION", 3), "req-2")
        .await
        .unwrap();
    assert_eq!(paused.status, "applied");
    assert_eq!(calls(&proxy, "DescribeServiceDeployments"), 1);
    let msgs = stack.messages().await.unwrap();
    assert_eq!(
        alerts(&msgs),
        [
            ("deployment_started".into(), "firing".into()),
            ("deployment_paused".into(), "firing".into())
        ]
    );
    assert_eq!(deployment_of(&msgs[1]), format!("ecs-svc/{DIGITS}"));
    let store = rollout_watcher::adapters::dynamodb::DynamoStore::new(
        aws_sdk_dynamodb::Client::new(&stack.sdk),
        stack::TABLE,
    );
    let service = ServiceArn::parse(SERVICE).unwrap();
    let rec = store.load(&service).await.unwrap().unwrap();
    assert!(rec.state.is_joined(SD), "the rollout keeps both keys");

    // Someone continues; the event is delivered twice. Joined: nothing more is asked.
    clock.set(Timestamp::parse(&at(5)).unwrap());
    let continued = hook_event("HOOK_SUCCEEDED", 5);
    w.handle(&continued, "req-3").await.unwrap();
    let again = w.handle(&continued, "req-4").await.unwrap();
    assert_eq!(again.status, "duplicate");
    assert_eq!(calls(&proxy, "DescribeServiceDeployments"), 1);
    assert_eq!(
        alerts(&stack.messages().await.unwrap()),
        [("deployment_paused".into(), "resolved".into())]
    );

    // ECS finishes the deployment; its COMPLETED event never comes. The sweeper reads
    // the service deployment it knows (no ListServiceDeployments needed) and finishes
    // the rollout as the event would have; a second tick changes nothing.
    proxy.set_service_deployments(vec![service_deployment("SUCCESSFUL", "SUCCEEDED", 9)]);
    clock.set(Timestamp::parse(&at(10)).unwrap());
    let sweep = SweepConfig {
        max_services: 100,
        watch_clusters: vec![],
    };
    let report = w.sweep(&sweep, "tick-1").await.unwrap();
    assert_eq!((report.services, report.failed), (1, 0));
    assert_eq!(calls(&proxy, "DescribeServiceDeployments"), 2);
    assert_eq!(calls(&proxy, "ListServiceDeployments"), 0);
    let done = stack.messages().await.unwrap();
    assert_eq!(
        alerts(&done),
        [("deployment_completed".into(), "firing".into())]
    );
    assert_eq!(deployment_of(&done[0]), format!("ecs-svc/{DIGITS}"));

    let items = stack.items(SERVICE).await.unwrap();
    let history: Vec<_> = items
        .iter()
        .filter(|i| matches!(i.get("sk"), Some(AttributeValue::S(s)) if s.starts_with("rollout#")))
        .collect();
    assert_eq!(history.len(), 1);
    assert_eq!(
        history[0].get("state"),
        Some(&AttributeValue::S("completed".into()))
    );
    assert_eq!(
        history[0].get("deployment_id"),
        Some(&AttributeValue::S(format!("ecs-svc/{DIGITS}")))
    );

    clock.set(Timestamp::parse(&at(11)).unwrap());
    w.sweep(&sweep, "tick-2").await.unwrap();
    assert!(stack.messages().await.unwrap().is_empty());
}

/// The ECS adapter on the real SDK client: ListServiceDeployments sends the
/// `createdAt` filter (a deployment created before it is not listed) and its briefs
/// name the rollout; DescribeServiceDeployments leaves out an ARN ECS does not know;
/// a failing API is an error naming the operation and the service.
#[tokio::test]
async fn ecs_adapter_reads_the_service_deployments_api() {
    let moto = Moto::start().await.unwrap();
    let proxy = FaultProxy::start(&moto.endpoint, Plan::default())
        .await
        .unwrap();
    let sdk = proxy
        .sdk_config(Duration::from_secs(5), Duration::from_millis(1))
        .await;
    let ecs = EcsInspector::new(aws_sdk_ecs::Client::new(&sdk));
    let service = ServiceArn::parse(SERVICE).unwrap();
    proxy.set_service_deployments(vec![service_deployment(
        "IN_PROGRESS",
        "AWAITING_ACTION",
        3,
    )]);

    let since = Timestamp::from_millis((T0 - 60) * 1000);
    let briefs = ecs
        .list_service_deployments(&service, Some(since))
        .await
        .unwrap();
    assert_eq!(briefs.len(), 1);
    assert_eq!(briefs[0].arn, SD);
    assert_eq!(
        briefs[0].deployment_id().map(|d| d.as_str().to_owned()),
        Some(format!("ecs-svc/{DIGITS}"))
    );
    let later = Timestamp::from_millis(T0 * 1000);
    assert!(
        ecs.list_service_deployments(&service, Some(later))
            .await
            .unwrap()
            .is_empty()
    );

    let unknown = SD.replace("0EYSiB0qap8xf0N76FsbE", "unknown");
    let views = ecs
        .describe_service_deployments(&service, &[SD.to_owned(), unknown])
        .await
        .unwrap();
    assert_eq!(views.len(), 1);
    assert_eq!(views[0].status, "IN_PROGRESS");
    assert_eq!(views[0].breaker_threshold, Some(3));
    assert_eq!(views[0].awaiting_hooks().count(), 1);

    proxy.set_plan(Plan {
        rules: vec![Rule {
            service: "ecs".into(),
            operation: Some("DescribeServiceDeployments".into()),
            share: 1.0,
            faults: vec![(Fault::ServerError, 1)],
        }],
        ..Plan::default()
    });
    let e = ecs
        .describe_service_deployments(&service, &[SD.to_owned()])
        .await
        .unwrap_err();
    assert_eq!(e.operation, "DescribeServiceDeployments");
    assert_eq!(e.service, SERVICE);
}
