//! How long the watcher remembers what it keeps only for late events: a finished
//! rollout, its deployment's task figures, the id of a task it forgot. Events reach
//! it at most `LATE_LIMIT` late (ECS's and EventBridge's retries, Lambda's queue), so
//! within that a late copy changes nothing, and past it the state holds none of it:
//! a service rolling once a day keeps a few days of its past, not its whole history.
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

use rollout_watcher::core::{LATE_LIMIT, ServiceState, Settings};
use rollout_watcher::model::{EcsEvent, Input, Interpreted, ServiceArn, Timestamp};
use serde_json::{Value, json};

const SVC: &str = "arn:aws:ecs:eu-west-1:111122223333:service/prod/api";
const CLUSTER: &str = "arn:aws:ecs:eu-west-1:111122223333:cluster/prod";
const D1: &str = "ecs-svc/1000";
const D2: &str = "ecs-svc/2000";
const A1: &str = "0a1a0a1a0a1a0a1a0a1a0a1a0a1a0a1a";
const B1: &str = "0b1b0b1b0b1b0b1b0b1b0b1b0b1b0b1b";

/// `min` minutes after 2026-05-01T00:00:00Z.
fn at(min: i64) -> Timestamp {
    let epoch = Timestamp::parse("2026-05-01T00:00:00Z").unwrap();
    Timestamp::from_millis(epoch.as_millis() + min * 60_000)
}

const DAY: i64 = 24 * 60;

fn deployment(id: &str, name: &str, min: i64, copy: u32) -> Input {
    let time = at(min).to_string();
    input(&json!({"version":"0","id":format!("d-{id}-{name}-{copy}"),
        "detail-type":"ECS Deployment State Change","source":"aws.ecs","account":"111122223333",
        "time":time,"region":"eu-west-1","resources":[SVC],
        "detail":{"eventType":"INFO","eventName":name,"deploymentId":id,"updatedAt":time,
            "reason":format!("ECS deployment {id} {name}.")}}))
}

/// A task of `dep` running since `started`, stopped at `min` when `stopped`.
fn task(id: &str, dep: &str, version: u64, started: i64, min: i64, stopped: bool, copy: u32) -> Input {
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
    input(&json!({"version":"0","id":format!("t-{id}-{version}-{copy}"),
        "detail-type":"ECS Task State Change","source":"aws.ecs","account":"111122223333",
        "time":at(min).to_string(),"region":"eu-west-1",
        "resources":[format!("arn:aws:ecs:eu-west-1:111122223333:task/prod/{id}")],"detail":d}))
}

fn input(event: &Value) -> Input {
    match EcsEvent::from_json(&event.to_string()).unwrap().interpret().unwrap() {
        Interpreted::Use(i) => i,
        Interpreted::Ignore(r) => panic!("ignored: {r:?}"),
    }
}

/// D1 rolls out on day 0 (task A1); D2 replaces it on day 1 (task B1, A1 stopped).
fn two_days() -> (ServiceState, Settings) {
    let settings = Settings::default();
    let mut state = ServiceState::new(ServiceArn::parse(SVC).unwrap());
    for i in [
        deployment(D1, "SERVICE_DEPLOYMENT_IN_PROGRESS", 600, 0),
        task(A1, D1, 3, 601, 601, false, 0),
        deployment(D1, "SERVICE_DEPLOYMENT_COMPLETED", 605, 0),
        deployment(D2, "SERVICE_DEPLOYMENT_IN_PROGRESS", DAY + 600, 0),
        task(B1, D2, 3, DAY + 601, DAY + 601, false, 0),
        task(A1, D1, 5, 601, DAY + 603, true, 0),
        deployment(D2, "SERVICE_DEPLOYMENT_COMPLETED", DAY + 605, 0),
    ] {
        let _ = state.apply(&i, &settings);
    }
    (state, settings)
}

fn held(state: &ServiceState) -> (Vec<String>, Vec<String>, Vec<String>) {
    let doc = serde_json::to_value(state).unwrap();
    let keys = |v: &Value| v.as_object().map_or(vec![], |o| o.keys().cloned().collect());
    let forgotten = doc["forgotten_tasks"].as_array().map_or(vec![], |a| {
        a.iter().map(|f| f[0].as_str().unwrap().to_owned()).collect()
    });
    (keys(&doc["rollouts"]), keys(&doc["deployments"]), forgotten)
}

#[test]
fn late_copies_within_the_limit_change_nothing() {
    // given D1 finished at 10:05 on day 0, D2 on day 1, and A1 stopped and forgotten
    let (mut state, settings) = two_days();
    let _ = state.tick(at(DAY + 700), &settings);
    assert_eq!(held(&state).2, vec![A1.to_owned()]);

    // when, a minute before the limit, ECS sends D1's completion and A1's stop again
    let edge = at(605).plus(LATE_LIMIT);
    let _ = state.tick(Timestamp::from_millis(edge.as_millis() - 60_000), &settings);
    let completed = state.apply(&deployment(D1, "SERVICE_DEPLOYMENT_COMPLETED", 605, 1), &settings);
    let stopped = state.apply(&task(A1, D1, 5, 601, DAY + 603, true, 1), &settings);
    let running = state.apply(&task(A1, D1, 3, 601, 601, false, 1), &settings);

    // then each is recognised as a copy: no alert, no transition, no metric
    for fx in [completed, stopped, running] {
        assert!(fx.duplicate && fx.items.is_empty(), "{fx:?}");
    }
    assert_eq!(state.serving_now(), 1);
}

#[test]
fn past_the_limit_the_service_holds_nothing_kept_for_late_events() {
    // given the same two days
    let (mut state, settings) = two_days();
    let (rollouts, deployments, _) = held(&state);
    assert_eq!((rollouts.len(), deployments.len()), (2, 2));

    // when the service's clock is past the limit for D1 but not for D2
    let _ = state.tick(at(DAY + 700), &settings);
    let _ = state.tick(at(606).plus(LATE_LIMIT), &settings);

    // then D1's rollout is gone; its figures (A1 stopped on day 1), D2 and A1's id stay
    let (rollouts, deployments, forgotten) = held(&state);
    assert_eq!(rollouts, vec![D2.to_owned()]);
    assert_eq!(deployments, vec![D1.to_owned(), D2.to_owned()]);
    assert_eq!(forgotten, vec![A1.to_owned()]);

    // and once past it for D2 and for A1's id, only the running task remains
    let _ = state.tick(at(DAY + 701).plus(LATE_LIMIT), &settings);
    assert_eq!(held(&state), (vec![], vec![], vec![]));
    assert_eq!(state.serving_now(), 1);
    assert_eq!(state.task_count(), 1);
}

#[test]
fn an_item_stored_before_the_forgetting_times_were_kept_still_loads() {
    // given the state as stored before: forgotten task ids without their time
    let (mut state, settings) = two_days();
    let _ = state.tick(at(DAY + 700), &settings);
    let mut doc = serde_json::to_value(&state).unwrap();
    assert_eq!(doc["forgotten_tasks"], json!([[A1, at(DAY + 700).to_string()]]));
    assert_eq!(doc["recent_events"][0], json!(format!("d-{D1}-SERVICE_DEPLOYMENT_IN_PROGRESS-0")));
    doc["forgotten_tasks"] = json!([A1]);

    // when it is loaded and A1's stop comes again, well past the limit
    let mut loaded: ServiceState = serde_json::from_value(doc.clone()).unwrap();
    let _ = loaded.tick(at(10 * DAY), &settings);
    let stopped = loaded.apply(&task(A1, D1, 5, 601, DAY + 603, true, 1), &settings);

    // then the bare id is still recognised (only the count bound lets it go) and
    // is written back as it was read
    assert!(stopped.duplicate && stopped.items.is_empty(), "{stopped:?}");
    assert_eq!(serde_json::to_value(&loaded).unwrap()["forgotten_tasks"], json!([A1]));
}
