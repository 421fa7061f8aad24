//! Every real ECS sample decodes, says what it should, and round-trips.
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

use rollout_watcher::core::{AlertName, Effect, MetricName, Settings};
use rollout_watcher::model::{
    DeploymentPhase, Detail, EcsEvent, HookPhase, Ignored, InputKind, Interpreted, ModelError,
    ServiceActionKind, TaskStatus, Timestamp,
};
use rollout_watcher::replay::Replay;

#[path = "support/keys.rs"]
mod keys;
use keys::keys_sorted;

macro_rules! sample {
    ($name:literal) => {
        include_str!(concat!("../../tests/fixtures/samples/", $name, ".json"))
    };
}

const EVENTS: [(&str, &str); 18] = [
    (
        "deployment-state-change-completed-real-2022",
        sample!("deployment-state-change-completed-real-2022"),
    ),
    (
        "deployment-state-change-completed",
        sample!("deployment-state-change-completed"),
    ),
    (
        "deployment-state-change-failed-circuit-breaker",
        sample!("deployment-state-change-failed-circuit-breaker"),
    ),
    (
        "deployment-state-change-in-progress-real-2025-with-clusterarn",
        sample!("deployment-state-change-in-progress-real-2025-with-clusterarn"),
    ),
    (
        "deployment-state-change-in-progress-rollback",
        sample!("deployment-state-change-in-progress-rollback"),
    ),
    (
        "deployment-state-change-in-progress",
        sample!("deployment-state-change-in-progress"),
    ),
    (
        "service-action-capacity-provider-steady-state",
        sample!("service-action-capacity-provider-steady-state"),
    ),
    (
        "service-action-steady-state",
        sample!("service-action-steady-state"),
    ),
    (
        "service-action-task-placement-failure-ec2-cpu",
        sample!("service-action-task-placement-failure-ec2-cpu"),
    ),
    (
        "service-action-task-placement-failure-fargate-spot",
        sample!("service-action-task-placement-failure-fargate-spot"),
    ),
    (
        "service-action-task-start-impaired",
        sample!("service-action-task-start-impaired"),
    ),
    (
        "task-state-change-container-stopped-task-running-2016",
        sample!("task-state-change-container-stopped-task-running-2016"),
    ),
    (
        "task-state-change-running-ec2-2025",
        sample!("task-state-change-running-ec2-2025"),
    ),
    (
        "task-state-change-running-fargate-2020",
        sample!("task-state-change-running-fargate-2020"),
    ),
    (
        "task-state-change-running-fargate-2025",
        sample!("task-state-change-running-fargate-2025"),
    ),
    (
        "task-state-change-stopped-elb-healthcheck",
        sample!("task-state-change-stopped-elb-healthcheck"),
    ),
    (
        "task-state-change-stopped-user-initiated-with-elb-attachment",
        sample!("task-state-change-stopped-user-initiated-with-elb-attachment"),
    ),
    (
        "hook-state-change-awaiting-action",
        sample!("hook-state-change-awaiting-action"),
    ),
];

fn decode(text: &str) -> EcsEvent {
    EcsEvent::from_json(text).unwrap()
}

#[test]
fn every_eventbridge_sample_decodes_and_round_trips() {
    for (name, text) in EVENTS {
        let ev = EcsEvent::from_json(text).unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(ev.source.as_deref(), Some("aws.ecs"), "{name}");
        assert!(ev.time.is_some() && ev.id.is_some(), "{name}");
        let again = EcsEvent::from_json(&serde_json::to_string(&ev).unwrap()).unwrap();
        assert_eq!(again, ev, "{name} round trip");
        ev.interpret().unwrap_or_else(|e| panic!("{name}: {e}"));
    }
}

/// The single-pass decoder reads every sample as the path-tracking one does, also
/// when `detail` comes before `detail-type` or keys are escaped (its fallback).
#[test]
fn both_decoders_read_every_sample_alike_in_any_key_order() {
    for (name, text) in EVENTS {
        let tracked = EcsEvent::from_json_tracked(text).unwrap();
        assert_eq!(EcsEvent::from_json(text).unwrap(), tracked, "{name}");
        let value: serde_json::Value = serde_json::from_str(text).unwrap();
        // Sorted keys (as anything that went through a sorting `Value` has them):
        // `detail` before `detail-type`, read by the union of the detail structs.
        let sorted = keys_sorted(&value).unwrap();
        assert!(sorted.find("\"detail\"") < sorted.find("\"detail-type\""));
        assert_eq!(
            EcsEvent::from_json(&sorted).unwrap(),
            tracked,
            "{name} sorted"
        );
        // The same detail under a detail-type the watcher does not follow: kept whole.
        let mut other = value.clone();
        other["detail-type"] = "ECS Container Instance State Change".into();
        let other = keys_sorted(&other).unwrap();
        let decoded = EcsEvent::from_json(&other).unwrap();
        assert_eq!(
            decoded,
            EcsEvent::from_json_tracked(&other).unwrap(),
            "{name}"
        );
        assert_eq!(
            decoded.detail,
            Detail::Other(Box::new(value["detail"].clone())),
            "{name} as another detail-type"
        );
        let serde_json::Value::Object(fields) = value else {
            panic!("{name}: not an object")
        };
        let mut reversed = String::from("{");
        for (i, (k, v)) in fields.iter().rev().enumerate() {
            if i > 0 {
                reversed.push(',');
            }
            let key = if k == "detail-type" {
                "\"detail\\u002dtype\"".to_owned()
            } else {
                serde_json::to_string(k).unwrap()
            };
            reversed.push_str(&format!("{key}:{v}"));
        }
        reversed.push('}');
        assert_eq!(
            EcsEvent::from_json(&reversed).unwrap(),
            tracked,
            "{name} reversed"
        );
    }
}

#[test]
fn the_files_that_are_not_events_are_refused_by_name() {
    for text in [
        sample!("bluegreen-lifecycle-hook-payload-production-traffic-shift-rollback"),
        sample!("describe-service-deployments-output-successful"),
    ] {
        assert_eq!(
            EcsEvent::from_json(text),
            Err(ModelError::Missing("detail-type"))
        );
    }
}

#[test]
fn deployment_events_carry_service_deployment_and_phase() {
    let ev = decode(sample!(
        "deployment-state-change-in-progress-real-2025-with-clusterarn"
    ));
    let Ok(Interpreted::Use(input)) = ev.interpret() else {
        panic!("not used")
    };
    assert_eq!(input.service.name(), "example-service");
    assert_eq!(input.service.cluster(), "example-cluster");
    let InputKind::Deployment(d) = input.kind else {
        panic!("not a deployment")
    };
    assert_eq!(d.deployment.as_str(), "ecs-svc/6177963417134325488");
    assert_eq!(d.phase, DeploymentPhase::InProgress);
    assert_eq!(d.rollback_to, None);
    assert_eq!(d.at.to_rfc3339(), "2025-02-18T00:17:22Z");

    let ev = decode(sample!("deployment-state-change-in-progress-rollback"));
    let Ok(Interpreted::Use(input)) = ev.interpret() else {
        panic!("not used")
    };
    let InputKind::Deployment(d) = input.kind else {
        panic!("not a deployment")
    };
    // The AWS doc example has a placeholder instead of a real id: a rollback all the same.
    assert_eq!(d.rollback_to, Some(None));

    let ev = decode(sample!("deployment-state-change-failed-circuit-breaker"));
    let Ok(Interpreted::Use(input)) = ev.interpret() else {
        panic!("not used")
    };
    let InputKind::Deployment(d) = input.kind else {
        panic!("not a deployment")
    };
    assert_eq!(d.phase, DeploymentPhase::Failed);
    assert_eq!(
        d.reason.as_deref(),
        Some("ECS deployment circuit breaker: task failed to start.")
    );
}

#[test]
fn steady_state_noise_is_ignored_and_impairments_are_acted_on() {
    for name in [
        "service-action-steady-state",
        "service-action-capacity-provider-steady-state",
    ] {
        let text = EVENTS.iter().find(|(n, _)| *n == name).unwrap().1;
        assert!(matches!(
            decode(text).interpret(),
            Ok(Interpreted::Ignore(Ignored::EventName(_)))
        ));
    }
    let ev = decode(sample!("service-action-task-start-impaired"));
    let Ok(Interpreted::Use(input)) = ev.interpret() else {
        panic!("not used")
    };
    assert!(
        matches!(input.kind, InputKind::ServiceAction(a) if a.kind == ServiceActionKind::TaskStartImpaired)
    );
}

#[test]
fn task_events_join_their_service_and_deployment() {
    let ev = decode(sample!("task-state-change-stopped-elb-healthcheck"));
    let Detail::Task(t) = &ev.detail else {
        panic!("not a task")
    };
    assert_eq!(t.version, Some(6));
    assert_eq!(t.containers[0].exit_code, Some(143));
    let Ok(Interpreted::Use(input)) = ev.interpret() else {
        panic!("not used")
    };
    assert_eq!(
        input.service.as_str(),
        "arn:aws:ecs:ap-northeast-2:653734769926:service/sin-web_cluster-dev/sin-web_service-dev"
    );
    let InputKind::Task(obs) = input.kind else {
        panic!("not a task")
    };
    assert_eq!(
        obs.deployment.as_ref().map(|d| d.as_str()),
        Some("ecs-svc/5211643699352071000")
    );
    assert_eq!(obs.last_status, TaskStatus::Stopped);
    assert!(obs.stop_requested && obs.started_at.is_some() && obs.stopping_at.is_some());

    // A standalone task (group "family:…") is no service's business.
    let ev = decode(sample!("task-state-change-running-fargate-2025"));
    assert_eq!(
        ev.interpret(),
        Ok(Interpreted::Ignore(Ignored::NotAServiceTask))
    );
}

/// The real ELB sample inside its rollout: one health-check failure, "1 of 3", counted
/// once even when EventBridge delivers it twice.
#[test]
fn elb_health_check_stop_alerts_once_with_its_count() {
    // given: the task's own deployment is rolling out
    let mut world = Replay::new(Settings::default());
    let start = serde_json::json!({
        "version": "0", "id": "elb-rollout-start", "detail-type": "ECS Deployment State Change",
        "source": "aws.ecs", "account": "653734769926", "time": "2022-08-08T05:00:00Z",
        "region": "ap-northeast-2",
        "resources": ["arn:aws:ecs:ap-northeast-2:653734769926:service/sin-web_cluster-dev/sin-web_service-dev"],
        "detail": {"eventType": "INFO", "eventName": "SERVICE_DEPLOYMENT_IN_PROGRESS",
            "deploymentId": "ecs-svc/5211643699352071000", "updatedAt": "2022-08-08T05:00:00Z",
            "reason": "ECS deployment ecs-svc/5211643699352071000 in progress."}
    });
    let _ = world.apply_json(&start.to_string()).unwrap();
    // when: the ELB stop arrives, twice
    let text = sample!("task-state-change-stopped-elb-healthcheck");
    let first = world.apply_json(text).unwrap();
    let again = world.apply_json(text).unwrap();
    // then: one health_check_failed, counted toward the breaker, never also a crash
    assert!(again.items.is_empty() && again.duplicate);
    let alerts: Vec<_> = first.alerts().collect();
    assert_eq!(alerts.len(), 1);
    let a = alerts[0];
    assert_eq!(a.alert, AlertName::HealthCheckFailed);
    assert!(
        a.summary.contains("(1 of 3 toward the circuit breaker)"),
        "{}",
        a.summary
    );
    assert!(
        a.summary.contains("sin-web_task_def-dev:26"),
        "{}",
        a.summary
    );
    assert!(
        a.summary.contains("Task failed ELB health checks"),
        "{}",
        a.summary
    );
    assert!(a.summary.contains("exited 143"), "{}", a.summary);
    let metrics: Vec<_> = first.metrics().map(|m| m.name).collect();
    assert!(metrics.contains(&MetricName::HealthCheckFailures));
    assert!(!metrics.contains(&MetricName::TaskCrashes));
}

/// The same real ELB stop with no rollout seen: the task had served for two minutes
/// and nothing was replacing it, so it crashed; no breaker count is claimed, since
/// ECS counts none outside a rollout.
#[test]
fn elb_health_check_stop_outside_a_rollout_is_a_crash_without_a_breaker_count() {
    let mut world = Replay::new(Settings::default());
    let fx = world
        .apply_json(sample!("task-state-change-stopped-elb-healthcheck"))
        .unwrap();
    let alerts: Vec<_> = fx.alerts().collect();
    assert_eq!(alerts.len(), 1);
    assert_eq!(alerts[0].alert, AlertName::TaskCrashed);
    let text = &alerts[0].summary;
    assert!(!text.contains("circuit breaker"), "{text}");
    assert!(
        text.contains("failed its health checks after serving"),
        "{text}"
    );
    assert!(text.contains("Task failed ELB health checks"), "{text}");
    let metrics: Vec<_> = fx.metrics().map(|m| m.name).collect();
    assert!(metrics.contains(&MetricName::TaskCrashes));
}

/// A user stopping a task is not a failure; and a lone STOPPED event of a service
/// never seen serving says nothing about its other tasks: no zero alert, no gauge.
#[test]
fn user_stop_is_not_a_failure() {
    let mut world = Replay::new(Settings::default());
    let fx = world
        .apply_json(sample!(
            "task-state-change-stopped-user-initiated-with-elb-attachment"
        ))
        .unwrap();
    assert_eq!(fx.items, Vec::<Effect>::new());
}

#[test]
fn placement_failure_sample_pages_once_per_hour() {
    let mut world = Replay::new(Settings::default());
    let fx = world
        .apply_json(sample!("service-action-task-placement-failure-ec2-cpu"))
        .unwrap();
    let a: Vec<_> = fx.alerts().collect();
    assert_eq!(a.len(), 1);
    assert_eq!(a[0].alert, AlertName::TaskPlacementFailed);
    assert!(a[0].summary.contains("RESOURCE:CPU"));
    // The Fargate sample has the same event id: a duplicate.
    let fx = world
        .apply_json(sample!(
            "service-action-task-placement-failure-fargate-spot"
        ))
        .unwrap();
    assert!(fx.duplicate);
}

/// AWS's own hook event: a PAUSE hook awaiting action, named by its service (from
/// `detail.serviceArn`) and its service deployment, nanoseconds kept to the
/// millisecond; without `resources` (as the pause-hooks page prints it) it reads the
/// same.
#[test]
fn the_hook_sample_is_a_pause_awaiting_action_of_its_service_deployment() {
    let text = sample!("hook-state-change-awaiting-action");
    let Interpreted::Use(input) = decode(text).interpret().unwrap() else {
        panic!("ignored")
    };
    assert_eq!(
        input.service.as_str(),
        "arn:aws:ecs:us-west-2:123456789012:service/my-cluster/my-service"
    );
    let InputKind::Hook(h) = &input.kind else {
        panic!("not a hook: {:?}", input.kind)
    };
    assert_eq!(h.phase, HookPhase::AwaitingAction);
    assert!(h.is_pause());
    assert_eq!(
        h.hook_id,
        "ecs-pause-e7tK9G_WRJqNF_EOMjztDXfKenlJuEUVjsNStf4WLKw"
    );
    assert_eq!(h.stage.as_deref(), Some("POST_TEST_TRAFFIC_SHIFT"));
    assert_eq!(
        h.service_deployment,
        "arn:aws:ecs:us-west-2:123456789012:service-deployment/my-cluster/my-service/0EYSiB0qap8xf0N76FsbE"
    );
    assert_eq!(h.at, Timestamp::parse("2026-03-05T15:54:41.618Z").unwrap());
    assert_eq!(input.time, h.at, "within the envelope's second");
    assert_eq!(h.expires_at, Timestamp::parse("2026-03-05T16:04:41Z"));
    let mut bare: serde_json::Value = serde_json::from_str(text).unwrap();
    bare.as_object_mut().unwrap().remove("resources");
    let again = EcsEvent::from_json(&bare.to_string()).unwrap().interpret();
    assert_eq!(again, Ok(Interpreted::Use(input)));
    let mut other = bare;
    other["detail"]["eventName"] = "HOOK_SOMETHING_NEW".into();
    assert_eq!(
        EcsEvent::from_json(&other.to_string()).unwrap().interpret(),
        Ok(Interpreted::Ignore(Ignored::EventName(
            "HOOK_SOMETHING_NEW".into()
        )))
    );
}
