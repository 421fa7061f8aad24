//! The values: detail-types, accounts, times, versions, ids and ARNs.

use rollout_watcher::core::{AlertName, Settings};
use rollout_watcher::model::{EcsEvent, Ignored, Interpreted, ModelError, ServiceArn};
use rollout_watcher::replay::Replay;
use serde_json::{Value, json};

use crate::shape::nested;
use crate::world::{FAILED, IN_PROGRESS, WATCHED, World, alert_names, field_of, stored, with};

/// Detail-types the watcher does not follow, whatever their detail, are accepted,
/// counted as ignored, and change nothing; so are events from another source.
#[test]
fn unknown_detail_types_are_ignored_and_counted() {
    let mut world = World::mid_rollout();
    for (detail_type, detail) in [
        (
            "ECS Container Instance State Change",
            json!({"agentConnected": true}),
        ),
        (
            "ECS Hook State Change ",
            json!({"eventName": "HOOK_AWAITING_ACTION"}),
        ),
        (
            "ECS Deployment State Change ",
            json!({"eventName": "SERVICE_DEPLOYMENT_FAILED"}),
        ),
        ("", json!({})),
        ("Something Else", json!([1, "two", null])),
        ("Something Else", json!("a string")),
        (
            "Something Else",
            serde_json::from_str(&nested(100)).unwrap(),
        ),
    ] {
        let hostile = with(
            &with(FAILED, "/detail-type", json!(detail_type)),
            "/detail",
            detail,
        );
        assert_eq!(
            EcsEvent::from_json(&hostile).unwrap().interpret(),
            Ok(Interpreted::Ignore(Ignored::DetailType(
                detail_type.to_owned()
            )))
        );
        world.ignore(&hostile);
    }
    let forged = with(FAILED, "/source", json!("my.app"));
    world.ignore(&forged);
    world.still_alerts_on_failure();
}

/// A hook event is followed now: one without its hook id or service deployment is
/// refused by name; an event name the watcher does not know is ignored.
#[test]
fn a_hook_event_without_what_names_the_hook_is_refused() {
    let mut world = World::mid_rollout();
    let hook = |detail: Value| {
        let bare = with(FAILED, "/detail-type", json!("ECS Hook State Change"));
        with(&bare, "/detail", detail)
    };
    let sd = "arn:aws:ecs:us-west-2:111122223333:service-deployment/default/servicetest/x";
    for (detail, field) in [
        (
            json!({"eventName": "HOOK_AWAITING_ACTION"}),
            "detail.hookId",
        ),
        (
            json!({"eventName": "HOOK_AWAITING_ACTION", "hookId": "ecs-pause-1",
                "serviceArn": "arn:aws:ecs:us-west-2:111122223333:service/default/servicetest",
                "serviceDeploymentArn": "arn:aws:ecs:us-west-2:111122223333:service/default/x"}),
            "detail.serviceDeploymentArn",
        ),
        (
            json!({"eventName": "HOOK_SUCCEEDED", "hookId": "ecs-pause-1",
                "serviceDeploymentArn": sd, "serviceArn": "nonsense"}),
            "detail.serviceArn",
        ),
    ] {
        let err = world.refuse(&hook(detail));
        assert_eq!(field_of(&err), field, "{err}");
    }
    world.ignore(&hook(json!({"eventName": "HOOK_REWOUND", "hookId": "h"})));
    world.still_alerts_on_failure();
}

/// The same cluster and service names in two accounts (one watcher may serve an
/// organisation) are two services: state keyed by the full ARN, never mixed.
#[test]
fn another_accounts_service_of_the_same_name_stays_apart() {
    let other = WATCHED.replace("111122223333", "444455556666");
    let theirs = |text: &str| {
        with(
            &with(text, "/resources/0", json!(other)),
            "/account",
            json!("444455556666"),
        )
        .replace("e0e3a", "f0f3a")
    };
    let mut world = World::mid_rollout();
    let fx = world.replay.apply_json(&theirs(IN_PROGRESS)).unwrap();
    assert!(fx.alerts().all(|a| a.service.as_str() == other));
    let other_arn = ServiceArn::parse(&other).unwrap();
    assert_eq!(other_arn.account(), "444455556666");
    let theirs_before = stored(world.replay.service(&other_arn).unwrap());

    let fx = world.replay.apply_json(FAILED).unwrap();
    assert!(fx.alerts().all(|a| a.service.as_str() == WATCHED));
    assert!(alert_names(&fx).contains(&AlertName::DeploymentFailed));
    assert_eq!(
        stored(world.replay.service(&other_arn).unwrap()),
        theirs_before
    );

    let fx = world.replay.apply_json(&theirs(FAILED)).unwrap();
    assert!(alert_names(&fx).contains(&AlertName::DeploymentFailed));
    assert!(fx.alerts().all(|a| a.service.as_str() == other));
    let services: Vec<String> = world
        .replay
        .rollouts()
        .iter()
        .map(|r| r.service.to_string())
        .collect();
    assert_eq!(services.len(), 2);
    assert!(services.contains(&other) && services.contains(&WATCHED.to_owned()));
}

/// Past year 9999 UTC, in any timestamp field, or not a timestamp at all: an error
/// naming the field. (A time the state could store but not load back again is refused
/// at the door: `9999-12-31T23:59:59-00:01` is year 10000 in UTC.)
#[test]
fn timestamps_beyond_year_9999_are_errors_naming_the_field() {
    let mut world = World::mid_rollout();
    for (pointer, path) in [("/time", "time"), ("/detail/updatedAt", "detail.updatedAt")] {
        for bad in [
            "10000-01-01T00:00:00Z",
            "+10000-01-01T00:00:00Z",
            "9999-12-31T23:59:59-00:01",
            "0000-01-01T00:00:00+00:01",
            "2020-13-01T00:00:00Z",
            "1590236474",
            "",
        ] {
            let err = world.refuse(&with(FAILED, pointer, json!(bad)));
            assert_eq!(field_of(&err), path, "{bad}: {err}");
            assert!(
                err.to_string().contains("not an RFC 3339 timestamp"),
                "{err}"
            );
        }
    }
    let elb = sample!("task-state-change-stopped-elb-healthcheck");
    let err = world.refuse(&with(
        elb,
        "/detail/stoppedAt",
        json!("10000-01-01T00:00:00Z"),
    ));
    assert_eq!(field_of(&err), "detail.stoppedAt");
    world.still_alerts_on_failure();
}

/// 1970 (and before), 9999-12-31T23:59:59Z: instants like any other. A deployment
/// said to start then is accepted and handled by the usual rules, the state stores and
/// loads, and the circuit breaker's failure still pages.
#[test]
fn timestamps_far_in_the_past_and_future_are_accepted() {
    for at in [
        "0000-01-01T00:00:00Z",
        "1969-12-31T23:59:59.999Z",
        "1970-01-01T00:00:00Z",
        "9999-12-31T23:59:59Z",
        "9999-12-31T23:59:59.999999999Z",
    ] {
        let mut world = World::mid_rollout();
        let far = with(
            &with(IN_PROGRESS, "/time", json!(at)),
            "/detail/updatedAt",
            json!(at),
        );
        let far = with(
            &with(&far, "/detail/deploymentId", json!("ecs-svc/999")),
            "/id",
            json!(at),
        );
        let Interpreted::Use(input) = EcsEvent::from_json(&far).unwrap().interpret().unwrap()
        else {
            panic!("{at}: not used")
        };
        assert_eq!(input.time.to_rfc3339().get(..19), at.get(..19), "{at}");
        let _ = world.replay.apply_json(&far).unwrap();
        world.stored();
        let fx = world.replay.apply_json(FAILED).unwrap();
        assert!(
            alert_names(&fx).contains(&AlertName::DeploymentFailed),
            "{at}"
        );
    }
}

/// `detail.version` negative, past u64, fractional or a string: an error naming it.
/// u64::MAX itself is a version like any other.
#[test]
fn task_versions_out_of_range_are_errors_naming_the_field() {
    let mut world = World::mid_rollout();
    let elb = sample!("task-state-change-stopped-elb-healthcheck");
    for bad in ["-1", "18446744073709551616", "1e3", "6.5", "\"6\""] {
        let hostile = elb.replace("\"version\": 6", &format!("\"version\": {bad}"));
        assert_ne!(hostile, elb);
        let err = world.refuse(&hostile);
        assert_eq!(field_of(&err), "detail.version", "{bad}: {err}");
    }
    let max = elb.replace("\"version\": 6", "\"version\": 18446744073709551615");
    let mut other = Replay::new(Settings::default());
    let fx = other.apply_json(&max).unwrap();
    // No rollout open in this world: the serving task's health-check stop is a crash.
    assert_eq!(alert_names(&fx), vec![AlertName::TaskCrashed]);
    world.still_alerts_on_failure();
}

/// Empty ids and ARNs: an error naming the field where the watcher keys or dedups on
/// it; ignored by rule where an empty value is just another name it does not act on.
#[test]
fn empty_ids_and_arns_are_errors_naming_the_field() {
    let mut world = World::mid_rollout();
    let elb = sample!("task-state-change-stopped-elb-healthcheck");
    for (text, pointer, field) in [
        (FAILED, "/id", "id"),
        (FAILED, "/resources/0", "resources[0]"),
        (FAILED, "/detail/deploymentId", "detail.deploymentId"),
        (elb, "/id", "id"),
        (elb, "/detail/taskArn", "detail.taskArn"),
        (elb, "/detail/clusterArn", "detail.clusterArn"),
    ] {
        for empty in ["", " "] {
            let err = world.refuse(&with(text, pointer, json!(empty)));
            assert_eq!(field_of(&err), field, "{pointer} = {empty:?}: {err}");
        }
    }
    let err = world.refuse(&with(elb, "/detail/group", json!("service:")));
    assert_eq!(field_of(&err), "detail.group");
    let err = world.refuse(&with(
        elb,
        "/detail/taskArn",
        json!("arn:aws:ecs:r:1:task/c/"),
    ));
    assert_eq!(field_of(&err), "detail.taskArn");
    let err = world.refuse(&with(FAILED, "/resources", json!([])));
    assert_eq!(err, ModelError::Missing("resources[0]"));
    world.ignore(&with(FAILED, "/detail/eventName", json!("")));
    world.ignore(&with(elb, "/detail/group", json!("")));
    world.still_alerts_on_failure();
}

/// Regression: an empty event id was kept for dedup, so a second, different event with
/// an empty id was taken for a redelivery of the first and silently dropped.
#[test]
fn two_events_with_empty_ids_are_not_taken_for_one() {
    let mut world = World::mid_rollout();
    world.refuse(&with(IN_PROGRESS, "/id", json!("")));
    world.refuse(&with(FAILED, "/id", json!("")));
    world.still_alerts_on_failure();
}

/// Ids and ARNs longer than ECS ever makes them are refused, naming the field: each
/// would otherwise be kept in the state (a task key, a dedup id) for a long time.
#[test]
fn oversized_ids_and_arns_are_errors_naming_the_field() {
    let mut world = World::mid_rollout();
    let elb = sample!("task-state-change-stopped-elb-healthcheck");
    let long = "z".repeat(5_000);
    for (text, pointer, value, field) in [
        (FAILED, "/id", long.clone(), "id"),
        (
            FAILED,
            "/resources/0",
            format!("{WATCHED}{long}"),
            "resources[0]",
        ),
        (
            FAILED,
            "/detail/deploymentId",
            format!("ecs-svc/{long}"),
            "detail.deploymentId",
        ),
        (
            elb,
            "/detail/taskArn",
            format!("arn:aws:ecs:r:1:task/c/{long}"),
            "detail.taskArn",
        ),
        (
            elb,
            "/detail/group",
            format!("service:{long}"),
            "detail.group",
        ),
    ] {
        let err = world.refuse(&with(text, pointer, json!(value)));
        assert_eq!(field_of(&err), field, "{err}");
        assert!(err.to_string().len() < 400, "an oversized error: {err}");
    }
    world.still_alerts_on_failure();
}

/// EventBridge may deliver an event again hours later (found by the fuzzer). Long
/// after the watcher pruned the stopped task (an hour of event time after its stop)
/// and its event id (64 events later), the redelivered STOPPED event still pages
/// only once: pruned task ids are remembered as stale.
#[test]
fn redelivered_stop_of_a_forgotten_task_does_not_page_twice() {
    // given: the ELB health-check stop, alerted once (no rollout open: a crash)
    let elb = sample!("task-state-change-stopped-elb-healthcheck");
    let mut world = Replay::new(Settings::default());
    let fx = world.apply_json(elb).unwrap();
    assert_eq!(alert_names(&fx), vec![AlertName::TaskCrashed]);
    // and: 65 other tasks of the service report RUNNING over the next hour
    let base: Value = serde_json::from_str(elb).unwrap();
    for i in 0..65 {
        let mut v = base.clone();
        let at = format!("2022-08-08T06:{:02}:00Z", 10 + i % 49);
        v["id"] = json!(format!("other-{i}"));
        v["time"] = json!(at);
        let detail = v["detail"].as_object_mut().unwrap();
        for gone in [
            "stoppedAt",
            "stoppingAt",
            "executionStoppedAt",
            "stoppedReason",
            "stopCode",
        ] {
            detail.remove(gone);
        }
        detail.insert("updatedAt".into(), json!(at));
        detail.insert("lastStatus".into(), json!("RUNNING"));
        detail.insert("desiredStatus".into(), json!("RUNNING"));
        let task = format!("arn:aws:ecs:ap-northeast-2:653734769926:task/sin-web_cluster-dev/t{i}");
        detail.insert("taskArn".into(), json!(task));
        let _ = world.apply_json(&v.to_string()).unwrap();
    }
    // when: EventBridge delivers the stop again
    let again = world.apply_json(elb).unwrap();
    // then: nothing new
    assert_eq!(alert_names(&again), vec![]);
}
