//! A service created before 2021 keeps its short ARN (`service/NAME`, no cluster)
//! until someone migrates it. ECS names it so in the `resources` of its deployment
//! and service-action events, while its task events place it by cluster and name.
//! Its rollouts must be followed and alerted as any other's, under one identity.
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

use rollout_watcher::core::{AlertName, Effect};
use rollout_watcher::model::ModelError;
use rollout_watcher::replay::Replay;
use serde_json::{Value, json};

const SHORT: &str = "arn:aws:ecs:eu-west-1:111122223333:service/legacy-api";
const LONG: &str = "arn:aws:ecs:eu-west-1:111122223333:service/prod/legacy-api";
const CLUSTER: &str = "arn:aws:ecs:eu-west-1:111122223333:cluster/prod";
const DEPLOYMENT: &str = "ecs-svc/4100000000000000001";

fn deployment(id: &str, name: &str, time: &str, event_type: &str, reason: &str) -> Value {
    json!({"version":"0","id":id,"detail-type":"ECS Deployment State Change","source":"aws.ecs",
        "account":"111122223333","time":time,"region":"eu-west-1","resources":[SHORT],
        "detail":{"eventType":event_type,"eventName":name,"clusterArn":CLUSTER,
            "deploymentId":DEPLOYMENT,"updatedAt":time,"reason":reason}})
}

fn task(id: &str, task: &str, status: &str, time: &str, stopped: bool) -> Value {
    let mut detail = json!({"clusterArn":CLUSTER,"group":"service:legacy-api",
        "taskArn":format!("arn:aws:ecs:eu-west-1:111122223333:task/prod/{task}"),
        "taskDefinitionArn":"arn:aws:ecs:eu-west-1:111122223333:task-definition/legacy-api:8",
        "startedBy":DEPLOYMENT,"lastStatus":status,"desiredStatus":if stopped {"STOPPED"} else {"RUNNING"},
        "createdAt":"2026-05-01T10:00:05Z","updatedAt":time,"version":if stopped {5} else {2},
        "containers":[{"name":"app","lastStatus":status}]});
    if status == "RUNNING" || stopped {
        detail["startedAt"] = json!("2026-05-01T10:00:40Z");
    }
    if stopped {
        detail["stopCode"] = json!("TaskFailedToStart");
        detail["stoppedReason"] = json!(
            "Task failed ELB health checks in (target-group arn:aws:elasticloadbalancing:eu-west-1:111122223333:targetgroup/legacy/0123456789abcdef)"
        );
        detail["stoppedAt"] = json!(time);
    }
    json!({"version":"0","id":id,"detail-type":"ECS Task State Change","source":"aws.ecs",
        "account":"111122223333","time":time,"region":"eu-west-1",
        "resources":[format!("arn:aws:ecs:eu-west-1:111122223333:task/prod/{task}")],"detail":detail})
}

/// Every alert the stream gives, as (alert, service ARN).
fn alerts(events: &[Value]) -> Vec<(AlertName, String)> {
    let mut replay = Replay::default();
    let mut out = Vec::new();
    for e in events {
        for fx in replay.apply_json(&e.to_string()).unwrap().items {
            if let Effect::Alert(a) = fx {
                out.push((a.alert, a.service.to_string()));
            }
        }
    }
    out
}

#[test]
fn a_pre_2021_service_failing_its_rollout_pages_under_its_long_arn() {
    // given: its rollout told by ECS, the short ARN in the deployment events
    let events = [
        deployment(
            "e1",
            "SERVICE_DEPLOYMENT_IN_PROGRESS",
            "2026-05-01T10:00:00Z",
            "INFO",
            "ECS deployment ecs-svc/4100000000000000001 in progress.",
        ),
        task(
            "e2",
            "aaaa0000aaaa0000aaaa0000aaaa0001",
            "RUNNING",
            "2026-05-01T10:00:40Z",
            false,
        ),
        task(
            "e3",
            "aaaa0000aaaa0000aaaa0000aaaa0001",
            "STOPPED",
            "2026-05-01T10:03:00Z",
            true,
        ),
        deployment(
            "e4",
            "SERVICE_DEPLOYMENT_FAILED",
            "2026-05-01T10:09:00Z",
            "ERROR",
            "ECS deployment circuit breaker: tasks failed to start.",
        ),
    ];

    // when
    let alerts = alerts(&events);

    // then: the rollout is followed and its failure pages, all under the long ARN
    let names: Vec<AlertName> = alerts.iter().map(|(a, _)| *a).collect();
    assert!(names.contains(&AlertName::DeploymentStarted), "{names:?}");
    assert!(names.contains(&AlertName::DeploymentFailed), "{names:?}");
    assert!(alerts.iter().all(|(_, s)| s == LONG), "{alerts:?}");
}

#[test]
fn a_short_arn_without_its_cluster_is_refused_naming_the_field_and_why() {
    // given: an older deployment event, before ECS added clusterArn to them
    let mut event = deployment(
        "e1",
        "SERVICE_DEPLOYMENT_IN_PROGRESS",
        "2026-05-01T10:00:00Z",
        "INFO",
        "ECS deployment ecs-svc/4100000000000000001 in progress.",
    );
    event["detail"]
        .as_object_mut()
        .unwrap()
        .remove("clusterArn");

    // when
    let err = Replay::default()
        .apply_json(&event.to_string())
        .unwrap_err();

    // then
    match err {
        ModelError::Invalid {
            field,
            problem,
            value,
        } => {
            assert_eq!(field, "resources[0]");
            assert!(problem.contains("short service ARN"), "{problem}");
            assert_eq!(value, SHORT);
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn a_service_action_of_a_pre_2021_service_pages_too() {
    // given
    let event = json!({"version":"0","id":"e9","detail-type":"ECS Service Action","source":"aws.ecs",
        "account":"111122223333","time":"2026-05-01T11:00:00Z","region":"eu-west-1","resources":[SHORT],
        "detail":{"eventType":"ERROR","eventName":"SERVICE_TASK_START_IMPAIRED","clusterArn":CLUSTER,
            "createdAt":"2026-05-01T11:00:00.123Z"}});

    // when
    let alerts = alerts(&[event]);

    // then
    assert_eq!(
        alerts,
        vec![(AlertName::TaskStartImpaired, LONG.to_owned())]
    );
}

#[test]
fn a_pause_hook_of_a_pre_2021_service_pages_under_its_long_arn() {
    // given: AWS's sample hook event, its service named in the short form
    let mut event: Value = serde_json::from_str(include_str!(
        "../../tests/fixtures/samples/hook-state-change-awaiting-action.json"
    ))
    .unwrap();
    event["detail"]["serviceArn"] = json!("arn:aws:ecs:us-west-2:123456789012:service/my-service");

    // when
    let alerts = alerts(&[event]);

    // then: placed by the service deployment's ARN, which names the cluster
    assert_eq!(
        alerts,
        vec![(
            AlertName::DeploymentPaused,
            "arn:aws:ecs:us-west-2:123456789012:service/my-cluster/my-service".to_owned()
        )]
    );
}
