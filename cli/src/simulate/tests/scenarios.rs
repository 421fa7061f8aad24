//! One test per scenario, each telling the story its events must tell: which tasks
//! start and stop, with which reasons, and what a watcher should conclude.

use super::check::text;
use super::{deployment_events, deployments, ms, params, run, stopped_with, task_events};
use crate::simulate::{Params, Scenario};

/// d=1, min 100 %, max 200 %: the new task runs and passes health checks before the
/// old one is asked to stop, so there is never a moment without a serving task.
#[test]
fn single_task_rolling_update_completes_without_downtime() {
    let p = Params::defaults(Scenario::Success);
    let sim = run(&p);
    let ids = deployments(&sim);
    let [d0, d1] = [&ids[0], &ids[1]];
    let names: Vec<_> = deployment_events(&sim).iter().map(|e| e.0).collect();
    assert_eq!(
        names,
        [
            "SERVICE_DEPLOYMENT_IN_PROGRESS",
            "SERVICE_DEPLOYMENT_COMPLETED"
        ]
    );
    let new = task_events(&sim, d1);
    let states: Vec<_> = new
        .iter()
        .map(|e| text(&e["detail"]["lastStatus"]))
        .collect();
    assert_eq!(states, ["PROVISIONING", "PENDING", "RUNNING"]);
    assert!(text(&new[2]["detail"]["taskDefinitionArn"]).ends_with("task-definition/web:42"));
    let old = task_events(&sim, d0);
    let stop_request = old
        .iter()
        .find(|e| e["detail"]["desiredStatus"] == "STOPPED")
        .unwrap();
    assert_eq!(stop_request["detail"]["lastStatus"], "RUNNING");
    assert_eq!(
        stop_request["detail"]["stoppedReason"],
        format!("Scaling activity initiated by (deployment {d1})")
    );
    assert!(ms(stop_request, "stoppingAt") >= ms(new[2], "startedAt") + 20_000);
    let stopped = stopped_with(&old, "ServiceSchedulerInitiated");
    assert_eq!(stopped[0]["detail"]["version"], 6);
    assert!(
        [0, 143].contains(
            &stopped[0]["detail"]["containers"][0]["exitCode"]
                .as_u64()
                .unwrap()
        )
    );
    assert_eq!(
        sim.events.last().unwrap()["detail"]["eventName"],
        "SERVICE_STEADY_STATE"
    );
    assert_eq!(
        (
            sim.expected.final_state,
            sim.expected.stalls,
            sim.expected.downtime
        ),
        ("completed", false, false)
    );
}

/// d=4, min 50 %, max 100 %: floor 2, ceiling 4. ECS has no room to start a task, so
/// it stops two old tasks first and starts new ones only once those have STOPPED.
#[test]
fn min_50_max_100_stops_two_old_tasks_before_starting_new_ones() {
    let p = params(Scenario::Success, |p| {
        (p.desired, p.min_healthy_percent, p.max_percent) = (4, 50, 100);
    });
    let sim = run(&p);
    let rollout: Vec<_> = sim
        .events
        .iter()
        .skip(5)
        .filter(|e| e["detail"]["version"].is_u64())
        .collect();
    let first_start = rollout
        .iter()
        .position(|e| e["detail"]["lastStatus"] == "PROVISIONING")
        .unwrap();
    let before: Vec<_> = rollout[..first_start]
        .iter()
        .map(|e| text(&e["detail"]["lastStatus"]))
        .collect();
    let stop_requests = rollout[..first_start]
        .iter()
        .filter(|e| e["detail"]["lastStatus"] == "RUNNING")
        .count();
    assert_eq!(stop_requests, 2, "{before:?}");
    assert!(
        before.contains(&"STOPPED"),
        "a start waits for room: {before:?}"
    );
    assert_eq!(sim.expected.final_state, "completed");
    assert!(!sim.expected.downtime);
}

/// d=1 with the breaker on: three new tasks (the threshold for desired 1) start, fail
/// ELB health checks after 60–120 s of RUNNING, and are replaced after a back-off; then
/// FAILED, and a new deployment rolls back to D0's task definition and completes.
#[test]
fn failing_health_checks_trip_the_breaker_and_roll_back() {
    let p = Params::defaults(Scenario::HealthCheckRollback);
    let sim = run(&p);
    let ids = deployments(&sim);
    let (d0, d1, d2) = (&ids[0], &ids[1], &ids[2]);
    let failed = stopped_with(&task_events(&sim, d1), "ServiceSchedulerInitiated");
    assert_eq!(failed.len(), 3);
    for task in &failed {
        let reason = text(&task["detail"]["stoppedReason"]);
        assert!(reason.starts_with("Task failed ELB health checks in (target-group arn:aws:elasticloadbalancing:eu-west-1:123456789012:targetgroup/web/"));
        assert_eq!(task["detail"]["containers"][0]["exitCode"], 143);
        assert_eq!(task["detail"]["version"], 6);
        let ran = ms(task, "stoppingAt") - ms(task, "startedAt");
        assert!((60_000..=120_000).contains(&ran), "{ran}");
    }
    let gap = ms(failed[1], "createdAt") - ms(failed[0], "stoppedAt");
    assert!(gap >= 15_000, "replacement after {gap} ms");
    let expected_reason =
        format!("ECS deployment circuit breaker: rolling back to deploymentId {d0}.");
    assert_eq!(
        deployment_events(&sim),
        [
            (
                "SERVICE_DEPLOYMENT_IN_PROGRESS",
                d1.as_str(),
                format!("ECS deployment {d1} in progress.").as_str()
            ),
            (
                "SERVICE_DEPLOYMENT_FAILED",
                d1,
                "ECS deployment circuit breaker: tasks failed ELB health checks."
            ),
            ("SERVICE_DEPLOYMENT_IN_PROGRESS", d2, &expected_reason),
            (
                "SERVICE_DEPLOYMENT_COMPLETED",
                d2,
                &format!("ECS deployment {d2} completed.")
            ),
        ]
    );
    let rollback_tasks = task_events(&sim, d2);
    assert!(
        rollback_tasks
            .iter()
            .all(|e| text(&e["detail"]["taskDefinitionArn"]).ends_with("web:41"))
    );
    let old_stop = stopped_with(&task_events(&sim, d0), "ServiceSchedulerInitiated");
    assert_eq!(
        old_stop[0]["detail"]["stoppedReason"],
        format!("Scaling activity initiated by (deployment {d2})")
    );
    assert_eq!(
        (
            sim.expected.final_state,
            sim.expected.stalls,
            sim.expected.downtime
        ),
        ("rolled_back", false, false)
    );
}

/// A missing image: PROVISIONING, PENDING, then STOPPED with TaskFailedToStart and no
/// startedAt; three attempts with growing back-off, then FAILED and rollback.
#[test]
fn bad_image_never_starts_and_the_breaker_rolls_back() {
    let p = Params::defaults(Scenario::BadImage);
    let sim = run(&p);
    let ids = deployments(&sim);
    let attempts = task_events(&sim, &ids[1]);
    let states: Vec<_> = attempts
        .iter()
        .map(|e| text(&e["detail"]["lastStatus"]))
        .collect();
    assert_eq!(states, ["PROVISIONING", "PENDING", "STOPPED"].repeat(3));
    let reason = "CannotPullContainerError: pull image manifest has been retried 7 time(s): failed to resolve ref 123456789012.dkr.ecr.eu-west-1.amazonaws.com/web:42: not found";
    for stopped in stopped_with(&attempts, "TaskFailedToStart") {
        let d = &stopped["detail"];
        assert_eq!(
            (d["version"].as_u64(), text(&d["stoppedReason"])),
            (Some(3), reason)
        );
        assert_eq!(d["containers"][0]["reason"], reason);
        assert!(
            d["startedAt"].is_null()
                && d["stoppedAt"].is_string()
                && d["executionStoppedAt"].is_string()
        );
    }
    let created: Vec<u64> = attempts
        .iter()
        .step_by(3)
        .map(|e| ms(e, "createdAt"))
        .collect();
    let stopped: Vec<u64> = attempts
        .iter()
        .skip(2)
        .step_by(3)
        .map(|e| ms(e, "stoppedAt"))
        .collect();
    let waits = [created[1] - stopped[0], created[2] - stopped[1]];
    assert!(
        waits[0] >= 15_000 && waits[1] > waits[0],
        "back-off grows: {waits:?}"
    );
    let failed = deployment_events(&sim)[1];
    assert_eq!(failed.0, "SERVICE_DEPLOYMENT_FAILED");
    assert_eq!(
        failed.2,
        "ECS deployment circuit breaker: task failed to start."
    );
    let failed_event = sim
        .events
        .iter()
        .find(|e| e["detail"]["eventName"] == "SERVICE_DEPLOYMENT_FAILED")
        .unwrap();
    assert_eq!(failed_event["detail"]["eventType"], "ERROR");
    assert_eq!(sim.expected.final_state, "rolled_back");
}

/// The breaker threshold is clamp(ceil(d/2), 3, 200): FAILED comes right after the
/// threshold-th failed task, 3 for one task and 13 for twenty-five.
#[test]
fn breaker_trips_at_the_threshold_for_the_desired_count() {
    for (desired, threshold) in [(1, 3), (25, 13)] {
        let p = params(Scenario::BadImage, |p| p.desired = desired);
        let sim = run(&p);
        let failed_at = sim
            .events
            .iter()
            .position(|e| e["detail"]["eventName"] == "SERVICE_DEPLOYMENT_FAILED")
            .unwrap();
        let d1 = deployments(&sim)[1].clone();
        let failures = sim.events[..failed_at]
            .iter()
            .filter(|e| {
                e["detail"]["startedBy"] == d1.as_str()
                    && e["detail"]["stopCode"] == "TaskFailedToStart"
            })
            .count();
        assert_eq!(failures, threshold, "desired {desired}");
        assert_eq!(sim.expected.final_state, "rolled_back");
    }
}

/// Without the breaker ECS retries forever; the stream stops after threshold + 2
/// failures with the rollout still in progress, which a watcher must call stalled.
#[test]
fn breaker_off_keeps_retrying_and_the_rollout_stalls() {
    for scenario in [Scenario::BadImage, Scenario::HealthCheckRollback] {
        let p = params(scenario, |p| p.circuit_breaker = false);
        let sim = run(&p);
        let names: Vec<_> = deployment_events(&sim).iter().map(|e| e.0).collect();
        assert_eq!(names, ["SERVICE_DEPLOYMENT_IN_PROGRESS"], "{scenario}");
        let d1 = deployments(&sim)[1].clone();
        let stops = task_events(&sim, &d1)
            .iter()
            .filter(|e| e["detail"]["lastStatus"] == "STOPPED")
            .count();
        assert_eq!(stops, 5, "{scenario}");
        assert_eq!(
            (sim.expected.final_state, sim.expected.stalls),
            ("stalled", true)
        );
    }
}

/// min 0 %, max 100 %: floor 0, ceiling 1. ECS asks the old task to stop first (it
/// stops serving then) and starts the new one only once the old one has STOPPED: no
/// task serves for 40–90 s, longer than a watcher's 30 s grace.
#[test]
fn min_zero_stops_the_old_task_first_and_leaves_a_gap() {
    for seed in 1..=50 {
        let p = params(Scenario::ZeroRunning, |p| p.seed = seed);
        let sim = run(&p);
        let tasks: Vec<_> = sim
            .events
            .iter()
            .filter(|e| e["detail"]["version"].is_u64())
            .collect();
        let stop_request = tasks
            .iter()
            .find(|e| e["detail"]["desiredStatus"] == "STOPPED")
            .unwrap();
        let stopped = tasks
            .iter()
            .find(|e| e["detail"]["lastStatus"] == "STOPPED")
            .unwrap();
        let back = tasks
            .iter()
            .skip(1)
            .find(|e| {
                e["detail"]["lastStatus"] == "RUNNING" && e["detail"]["desiredStatus"] == "RUNNING"
            })
            .unwrap();
        let started = ms(back, "startedAt");
        assert!(
            ms(back, "createdAt") > ms(stopped, "stoppedAt"),
            "seed {seed}: no room before"
        );
        let gap = started - ms(stop_request, "stoppingAt");
        assert!(
            (40_000..=90_000).contains(&gap),
            "seed {seed}: gap {gap} ms"
        );
        assert_eq!(
            (sim.expected.final_state, sim.expected.downtime),
            ("completed", true)
        );
    }
}

/// min 100 % never leaves the service without a serving task; min 0 % with room to
/// start (max 200 %) stops and starts at once, and the gap is the new task's start-up.
#[test]
fn downtime_follows_the_floor() {
    let safe = params(Scenario::Success, |p| p.desired = 3);
    assert!(!run(&safe).expected.downtime);
    let p = params(Scenario::Success, |p| {
        (p.min_healthy_percent, p.max_percent) = (0, 200)
    });
    let sim = run(&p);
    let first: Vec<_> = sim
        .events
        .iter()
        .skip(2)
        .take(2)
        .map(|e| text(&e["detail"]["desiredStatus"]))
        .collect();
    assert_eq!(first.len(), 2);
    assert!(
        first.contains(&"STOPPED"),
        "the old task is stopped right away: {first:?}"
    );
}

/// A user deploys web:43 while the rollout's task is coming up: D1's task is stopped
/// by D2's scaling activity, D2 completes, and D1 is superseded (not failed).
#[test]
fn a_user_deployment_supersedes_the_rollout() {
    let p = Params::defaults(Scenario::Superseded);
    let sim = run(&p);
    let ids = deployments(&sim);
    let (d1, d2) = (&ids[1], &ids[2]);
    let names: Vec<_> = deployment_events(&sim).iter().map(|e| (e.0, e.1)).collect();
    assert_eq!(
        names,
        [
            ("SERVICE_DEPLOYMENT_IN_PROGRESS", d1.as_str()),
            ("SERVICE_DEPLOYMENT_IN_PROGRESS", d2),
            ("SERVICE_DEPLOYMENT_COMPLETED", d2),
        ]
    );
    let d1_tasks = task_events(&sim, d1);
    assert!(
        d1_tasks
            .iter()
            .any(|e| e["detail"]["lastStatus"] == "RUNNING")
    );
    let stopped = stopped_with(&d1_tasks, "ServiceSchedulerInitiated");
    assert_eq!(
        stopped[0]["detail"]["stoppedReason"],
        format!("Scaling activity initiated by (deployment {d2})")
    );
    assert!(text(&task_events(&sim, d2)[0]["detail"]["taskDefinitionArn"]).ends_with("web:43"));
    assert_eq!(
        (sim.expected.final_state, sim.expected.stalls),
        ("superseded", false)
    );
}
