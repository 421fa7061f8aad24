//! The stories of one service the late-event tests tell: its events, dated in
//! minutes from 2026-05-01T00:00:00Z, and what its state holds.

use rollout_watcher::core::{Effects, ServiceState};
use rollout_watcher::model::{EcsEvent, Input, Interpreted, Timestamp};
use serde_json::{Value, json};

pub(crate) const SVC: &str = "arn:aws:ecs:eu-west-1:111122223333:service/prod/api";
pub(crate) const CLUSTER: &str = "arn:aws:ecs:eu-west-1:111122223333:cluster/prod";
pub(crate) const D1: &str = "ecs-svc/1000";
pub(crate) const D2: &str = "ecs-svc/2000";
pub(crate) const A1: &str = "0a1a0a1a0a1a0a1a0a1a0a1a0a1a0a1a";
pub(crate) const B1: &str = "0b1b0b1b0b1b0b1b0b1b0b1b0b1b0b1b";

/// `min` minutes after 2026-05-01T00:00:00Z.
pub(crate) fn at(min: i64) -> Timestamp {
    let epoch = Timestamp::parse("2026-05-01T00:00:00Z").unwrap();
    Timestamp::from_millis(epoch.as_millis() + min * 60_000)
}

pub(crate) const DAY: i64 = 24 * 60;

pub(crate) fn deployment(id: &str, name: &str, min: i64, copy: u32) -> Input {
    let time = at(min).to_string();
    input(&json!({"version":"0","id":format!("d-{id}-{name}-{copy}"),
        "detail-type":"ECS Deployment State Change","source":"aws.ecs","account":"111122223333",
        "time":time,"region":"eu-west-1","resources":[SVC],
        "detail":{"eventType":"INFO","eventName":name,"deploymentId":id,"updatedAt":time,
            "reason":format!("ECS deployment {id} {name}.")}}))
}

/// A task of `dep` running since `started`, stopped at `min` when `stopped`.
pub(crate) fn task(
    id: &str,
    dep: &str,
    version: u64,
    started: i64,
    min: i64,
    stopped: bool,
    copy: u32,
) -> Input {
    input(&task_json(id, dep, version, started, min, stopped, copy))
}

/// A task of `dep` whose essential container exited with code 1 at `min`.
pub(crate) fn crash(id: &str, dep: &str, version: u64, started: i64, min: i64, copy: u32) -> Input {
    let mut event = task_json(id, dep, version, started, min, true, copy);
    let d = &mut event["detail"];
    d["stopCode"] = json!("EssentialContainerExited");
    d["stoppedReason"] = json!("Essential container in task exited");
    d["containers"] = json!([{"name":"app","lastStatus":"STOPPED","exitCode":1}]);
    input(&event)
}

pub(crate) fn task_json(
    id: &str,
    dep: &str,
    version: u64,
    started: i64,
    min: i64,
    stopped: bool,
    copy: u32,
) -> Value {
    let mut d = json!({"clusterArn":CLUSTER,"group":"service:api","startedBy":dep,
        "lastStatus": if stopped { "STOPPED" } else { "RUNNING" },
        "desiredStatus": if stopped { "STOPPED" } else { "RUNNING" },
        "taskArn":format!("arn:aws:ecs:eu-west-1:111122223333:task/prod/{id}"),
        "taskDefinitionArn":"arn:aws:ecs:eu-west-1:111122223333:task-definition/api:7",
        "version":version,"createdAt":at(started - 1).to_string(),
        "startedAt":at(started).to_string(),"updatedAt":at(min).to_string()});
    if stopped {
        d["stoppingAt"] = json!(at(min - 1).to_string());
        d["stoppedAt"] = json!(at(min).to_string());
        d["stoppedReason"] = json!(format!("Scaling activity initiated by (deployment {D2})"));
        d["stopCode"] = json!("ServiceSchedulerInitiated");
    }
    json!({"version":"0","id":format!("t-{id}-{version}-{copy}"),
        "detail-type":"ECS Task State Change","source":"aws.ecs","account":"111122223333",
        "time":at(min).to_string(),"region":"eu-west-1",
        "resources":[format!("arn:aws:ecs:eu-west-1:111122223333:task/prod/{id}")],"detail":d})
}

pub(crate) fn input(event: &Value) -> Input {
    match EcsEvent::from_json(&event.to_string())
        .unwrap()
        .interpret()
        .unwrap()
    {
        Interpreted::Use(i) => i,
        Interpreted::Ignore(r) => panic!("ignored: {r:?}"),
    }
}

pub(crate) fn held(state: &ServiceState) -> (Vec<String>, Vec<String>, Vec<String>) {
    let doc = serde_json::to_value(state).unwrap();
    let keys = |v: &Value| {
        v.as_object()
            .map_or(vec![], |o| o.keys().cloned().collect())
    };
    let forgotten = doc["forgotten_tasks"].as_array().map_or(vec![], |a| {
        a.iter().map(|f| f.as_str().unwrap().to_owned()).collect()
    });
    (keys(&doc["rollouts"]), keys(&doc["deployments"]), forgotten)
}

pub(crate) const D3: &str = "ecs-svc/3000";
pub(crate) const D4: &str = "ecs-svc/4000";
pub(crate) const C1: &str = "0c1c0c1c0c1c0c1c0c1c0c1c0c1c0c1c";
pub(crate) const E1: &str = "0e1e0e1e0e1e0e1e0e1e0e1e0e1e0e1e";

/// The alerts of some effects, as `name:status`.
pub(crate) fn alerts(effects: &[Effects]) -> Vec<String> {
    let each = effects.iter().flat_map(Effects::alerts);
    each.map(|a| format!("{}:{}", a.alert.as_str(), a.status.as_str()))
        .collect()
}
