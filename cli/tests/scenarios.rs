//! Each simulated scenario, replayed through the watcher, gives exactly the alerts
//! DESIGN.md's tables call for, and nothing else.
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

use rollout_watcher::core::{
    AlertName, AlertStatus, Effect, Effects, MetricName, RolloutState, Settings,
};
use rollout_watcher_cli::demo::replay_scenario;
use rollout_watcher_cli::simulate::{Params, Scenario, simulate};

use AlertName::*;
use AlertStatus::*;

fn alerts(fx: &Effects) -> Vec<(AlertName, AlertStatus)> {
    fx.alerts().map(|a| (a.alert, a.status)).collect()
}

fn metric_names(fx: &Effects) -> Vec<MetricName> {
    let mut v: Vec<MetricName> = fx
        .metrics()
        .map(|m| m.name)
        .filter(|n| *n != MetricName::RunningTaskCount)
        .collect();
    v.sort();
    v
}

/// Replays a scenario with its defaults; returns the effects, the main deployment's
/// final state, and the summaries.
fn run(
    scenario: Scenario,
) -> (
    Effects,
    RolloutState,
    Vec<rollout_watcher::core::RolloutSummary>,
) {
    let params = Params::defaults(scenario);
    let sim = simulate(&params).unwrap();
    let (fx, replay) = replay_scenario(&params, &Settings::default()).unwrap();
    let rollouts = replay.rollouts();
    let main = rollouts.first().unwrap().state;
    assert_eq!(
        main.as_str(),
        sim.expected.final_state,
        "{scenario}: watcher and simulator disagree"
    );
    (fx, main, rollouts)
}

/// desired 1, min 100 %, max 200 %: the new task runs beside the old one; zero downtime.
#[test]
fn single_task_rollout_completes_without_downtime() {
    let (fx, state, rollouts) = run(Scenario::Success);
    assert_eq!(state, RolloutState::Completed);
    assert_eq!(
        alerts(&fx),
        vec![(DeploymentStarted, Firing), (DeploymentCompleted, Firing)]
    );
    {
        use MetricName::*;
        assert_eq!(
            metric_names(&fx),
            vec![
                DeploymentStarted,
                DeploymentSucceeded,
                DeploymentDuration,
                TimeToFirstRunningTask
            ]
        );
    }
    assert_eq!(rollouts.len(), 1);
    assert_eq!(rollouts[0].downtime_s, 0.0);
    assert_eq!(rollouts[0].task_definition.as_deref(), Some("web:42"));
    let transitions: Vec<_> = fx
        .items
        .iter()
        .filter_map(|e| match e {
            Effect::Transition(t) => Some((t.from, t.to)),
            _ => None,
        })
        .collect();
    {
        use RolloutState::*;
        assert_eq!(
            transitions,
            vec![
                (None, Started),
                (Some(Started), TasksRunning),
                (Some(TasksRunning), Draining),
                (Some(Draining), Completed)
            ]
        );
    }
    // The serving-task gauge went 1 → 2 → 1 and never touched 0.
    let gauge: Vec<f64> = fx
        .metrics()
        .filter(|m| m.name == MetricName::RunningTaskCount)
        .map(|m| m.value)
        .collect();
    assert_eq!(gauge, vec![1.0, 2.0, 1.0]);
}

/// Health checks fail three times (the threshold for one task), the breaker fails the
/// deployment and rolls back; the old task served throughout.
#[test]
fn circuit_breaker_rollback_alerts_once() {
    let (fx, state, rollouts) = run(Scenario::HealthCheckRollback);
    assert_eq!(state, RolloutState::RolledBack);
    assert_eq!(
        alerts(&fx),
        vec![
            (DeploymentStarted, Firing),
            (HealthCheckFailed, Firing),
            (HealthCheckFailed, Firing),
            (HealthCheckFailed, Firing),
            (DeploymentFailed, Firing),
            (DeploymentRolledBack, Firing),
            (DeploymentStarted, Firing),
            (DeploymentCompleted, Firing),
        ]
    );
    let counts: Vec<String> = fx
        .alerts()
        .filter(|a| a.alert == HealthCheckFailed)
        .map(|a| {
            format!(
                "{} of {}",
                a.details.failures.unwrap(),
                a.details.threshold.unwrap()
            )
        })
        .collect();
    assert_eq!(counts, ["1 of 3", "2 of 3", "3 of 3"]);
    assert_eq!(rollouts.len(), 2);
    assert_eq!(
        rollouts[1].rollback_of.as_ref(),
        Some(&rollouts[0].deployment_id)
    );
    assert_eq!(rollouts[1].state, RolloutState::Completed);
    assert!(rollouts.iter().all(|r| r.downtime_s == 0.0));
}

/// An image that does not exist: three tasks fail to start, then rollback.
#[test]
fn bad_image_fails_to_start_and_rolls_back() {
    let (fx, state, _) = run(Scenario::BadImage);
    assert_eq!(state, RolloutState::RolledBack);
    assert_eq!(
        alerts(&fx),
        vec![
            (DeploymentStarted, Firing),
            (TaskFailedToStart, Firing),
            (TaskFailedToStart, Firing),
            (TaskFailedToStart, Firing),
            (DeploymentFailed, Firing),
            (DeploymentRolledBack, Firing),
            (DeploymentStarted, Firing),
            (DeploymentCompleted, Firing),
        ]
    );
    let failed = fx.alerts().find(|a| a.alert == TaskFailedToStart).unwrap();
    assert!(
        failed.summary.contains("CannotPullContainerError"),
        "{}",
        failed.summary
    );
    assert!(failed.summary.contains("web:42"), "{}", failed.summary);
    assert_eq!(
        fx.metrics()
            .filter(|m| m.name == MetricName::TaskStartFailures)
            .count(),
        3
    );
}

/// minimum healthy 0 %: ECS stops the only task first; the gap pages and resolves,
/// and the rollout's verdict carries the downtime.
#[test]
fn zero_running_window_pages_and_resolves_with_downtime() {
    let (fx, state, rollouts) = run(Scenario::ZeroRunning);
    assert_eq!(state, RolloutState::Completed);
    assert_eq!(
        alerts(&fx),
        vec![
            (DeploymentStarted, Firing),
            (ZeroRunningTasks, Firing),
            (ZeroRunningTasks, Resolved),
            (DeploymentCompleted, Firing),
        ]
    );
    let downtime: Vec<f64> = fx
        .metrics()
        .filter(|m| m.name == MetricName::ZeroTaskDowntime)
        .map(|m| m.value)
        .collect();
    assert_eq!(downtime.len(), 1);
    assert!(downtime[0] > 30.0, "{downtime:?}");
    assert_eq!(rollouts[0].downtime_s, downtime[0]);
    let resolved = fx.alerts().find(|a| a.status == Resolved).unwrap();
    assert_eq!(resolved.details.downtime_s, Some(downtime[0]));
}

/// A newer deployment takes over: not a failure, no alert but the new one's.
#[test]
fn superseded_rollout_is_not_a_failure() {
    let (fx, state, rollouts) = run(Scenario::Superseded);
    assert_eq!(state, RolloutState::Superseded);
    assert_eq!(
        alerts(&fx),
        vec![
            (DeploymentStarted, Firing),
            (DeploymentStarted, Firing),
            (DeploymentCompleted, Firing)
        ]
    );
    assert_eq!(rollouts[1].state, RolloutState::Completed);
}

/// max 100 % / min 100 % with one task: ECS can neither start nor stop a task; the
/// deadline catches it.
#[test]
fn settings_that_cannot_progress_stall() {
    let (fx, state, _) = run(Scenario::Stalled);
    assert_eq!(state, RolloutState::Stalled);
    assert_eq!(
        alerts(&fx),
        vec![(DeploymentStarted, Firing), (DeploymentStalled, Firing)]
    );
    assert_eq!(
        fx.metrics()
            .filter(|m| m.name == MetricName::DeploymentStalled)
            .count(),
        1
    );
}

/// Larger services and other settings: the watcher and the simulator agree on the
/// outcome, and failures never exceed the circuit breaker's threshold.
#[test]
fn watcher_agrees_with_simulator_across_settings() {
    for scenario in Scenario::ALL {
        for (desired, min, max) in [
            (1, 100, 200),
            (2, 50, 200),
            (4, 50, 100),
            (6, 100, 150),
            (25, 100, 200),
        ] {
            let mut p = Params::defaults(scenario);
            if !matches!(scenario, Scenario::ZeroRunning | Scenario::Stalled) {
                (p.desired, p.min_healthy_percent, p.max_percent) = (desired, min, max);
            } else {
                p.desired = desired;
            }
            let sim = simulate(&p).unwrap();
            let (fx, replay) = replay_scenario(&p, &Settings::default()).unwrap();
            let main = replay.rollouts()[0].state;
            assert_eq!(
                main.as_str(),
                sim.expected.final_state,
                "{scenario} {desired}/{min}/{max}"
            );
            let paged_zero = fx.alerts().any(|a| a.alert == ZeroRunningTasks);
            assert_eq!(
                paged_zero, sim.expected.downtime,
                "{scenario} {desired}/{min}/{max}"
            );
        }
    }
}
