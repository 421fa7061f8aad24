//! Rollouts told as lists of events, and the alerts they must (and must not) give.
//! The edge cases here are the ones real streams produce: late events, reordering,
//! short gaps, rollbacks reported in either order, a service muted by config.
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

use rollout_watcher::core::{
    AlertName, AlertStatus, Effects, MetricName, Observation, RolloutState, ServiceConfig,
    ServiceState, Settings,
};
use rollout_watcher::model::{EcsEvent, Input, Interpreted, Timestamp};
use serde_json::json;

const SVC: &str = "arn:aws:ecs:eu-west-1:111122223333:service/prod/api";
const CLUSTER: &str = "arn:aws:ecs:eu-west-1:111122223333:cluster/prod";
const OLD: &str = "ecs-svc/1000";
const NEW: &str = "ecs-svc/2000";

/// Seconds after 12:00:00 as an RFC 3339 time.
fn t(s: u32) -> String {
    format!("2026-05-01T12:{:02}:{:02}Z", s / 60, s % 60)
}

fn deployment(name: &str, id: &str, at: u32, reason: &str) -> String {
    json!({"version":"0","id":format!("d-{name}-{id}-{at}"),"detail-type":"ECS Deployment State Change","source":"aws.ecs",
        "account":"111122223333","time":t(at),"region":"eu-west-1","resources":[SVC],
        "detail":{"eventType":"INFO","eventName":name,"deploymentId":id,"updatedAt":t(at),"reason":reason}})
    .to_string()
}

/// A task event: `status` RUNNING/STOPPED, `stop` = Some((stopping_at, reason, code)).
fn task(
    id: &str,
    dep: &str,
    version: u64,
    status: &str,
    started: Option<u32>,
    stop: Option<(u32, &str, &str)>,
    at: u32,
) -> String {
    let mut d = json!({"clusterArn":CLUSTER,"group":"service:api","startedBy":dep,"lastStatus":status,
        "desiredStatus": if stop.is_some() { "STOPPED" } else { "RUNNING" },
        "taskArn":format!("arn:aws:ecs:eu-west-1:111122223333:task/prod/{id}"),
        "taskDefinitionArn": format!("arn:aws:ecs:eu-west-1:111122223333:task-definition/api:{}", if dep == OLD { 7 } else { 8 }),
        "version":version,"createdAt":t(at.saturating_sub(60)),"updatedAt":t(at)});
    if let Some(s) = started {
        d["startedAt"] = json!(t(s));
    }
    if let Some((s, reason, code)) = stop {
        d["stoppingAt"] = json!(t(s));
        d["stoppedReason"] = json!(reason);
        d["stopCode"] = json!(code);
        if status == "STOPPED" {
            d["stoppedAt"] = json!(t(at));
        }
    }
    json!({"version":"0","id":format!("t-{id}-{version}"),"detail-type":"ECS Task State Change","source":"aws.ecs",
        "account":"111122223333","time":t(at),"region":"eu-west-1","resources":[format!("arn:aws:ecs:eu-west-1:111122223333:task/prod/{id}")],"detail":d})
    .to_string()
}

const SCALE: &str = "Scaling activity initiated by (deployment ecs-svc/2000)";
const ELB: &str = "Task failed ELB health checks in (target-group arn:aws:elasticloadbalancing:eu-west-1:111122223333:targetgroup/api/1)";

fn input(text: &str) -> Input {
    match EcsEvent::from_json(text).unwrap().interpret().unwrap() {
        Interpreted::Use(i) => i,
        Interpreted::Ignore(r) => panic!("ignored: {r:?}"),
    }
}

struct World {
    state: ServiceState,
    settings: Settings,
    effects: Effects,
}

impl World {
    fn new() -> Self {
        let service = rollout_watcher::model::ServiceArn::parse(SVC).unwrap();
        Self {
            state: ServiceState::new(service),
            settings: Settings::default(),
            effects: Effects::default(),
        }
    }

    fn drive(&mut self, events: &[String]) -> &mut Self {
        for e in events {
            let fx = self.state.apply(&input(e), &self.settings);
            self.effects.extend(fx);
        }
        self
    }

    fn alerts(&self) -> Vec<(AlertName, AlertStatus)> {
        self.effects.alerts().map(|a| (a.alert, a.status)).collect()
    }

    fn metric(&self, name: MetricName) -> Vec<f64> {
        self.effects
            .metrics()
            .filter(|m| m.name == name)
            .map(|m| m.value)
            .collect()
    }

    fn state_of(&self, dep: &str) -> RolloutState {
        self.state
            .rollouts()
            .into_iter()
            .find(|r| r.deployment_id.as_str() == dep)
            .unwrap()
            .state
    }
}

/// The service as it was: one old task serving since 11:00.
fn serving_old() -> Vec<String> {
    vec![task("old1", OLD, 3, "RUNNING", Some(0), None, 0)]
}

/// The normal single-task rollout, except that EventBridge delivers the old task's
/// stop before the new task's RUNNING event (the new task started serving first):
/// for a moment the watcher sees no serving task, but the grace period holds and the
/// late event fills the gap. No page, no downtime.
#[test]
fn late_running_event_within_grace_never_pages() {
    let mut w = World::new();
    w.drive(&serving_old()).drive(&[
        deployment(
            "SERVICE_DEPLOYMENT_IN_PROGRESS",
            NEW,
            60,
            "ECS deployment ecs-svc/2000 in progress.",
        ),
        task(
            "old1",
            OLD,
            4,
            "RUNNING",
            Some(0),
            Some((150, SCALE, "ServiceSchedulerInitiated")),
            150,
        ),
        task(
            "old1",
            OLD,
            6,
            "STOPPED",
            Some(0),
            Some((150, SCALE, "ServiceSchedulerInitiated")),
            170,
        ),
        task("new1", NEW, 3, "RUNNING", Some(120), None, 175),
        deployment(
            "SERVICE_DEPLOYMENT_COMPLETED",
            NEW,
            200,
            "ECS deployment ecs-svc/2000 completed.",
        ),
    ]);
    assert_eq!(
        w.alerts(),
        vec![
            (AlertName::DeploymentStarted, AlertStatus::Firing),
            (AlertName::DeploymentCompleted, AlertStatus::Firing)
        ]
    );
    assert!(w.metric(MetricName::ZeroTaskDowntime).is_empty());
    assert_eq!(w.state.rollouts()[0].downtime_s, 0.0);
}

/// A 10-second gap is real downtime: it is measured and counted, but it is shorter
/// than the 30-second grace, so nobody is paged.
#[test]
fn zero_shorter_than_grace_counts_downtime_without_paging() {
    let mut w = World::new();
    w.drive(&serving_old()).drive(&[
        deployment("SERVICE_DEPLOYMENT_IN_PROGRESS", NEW, 60, "in progress"),
        task(
            "old1",
            OLD,
            4,
            "RUNNING",
            Some(0),
            Some((100, SCALE, "ServiceSchedulerInitiated")),
            100,
        ),
        task("new1", NEW, 3, "RUNNING", Some(110), None, 112),
        deployment("SERVICE_DEPLOYMENT_COMPLETED", NEW, 200, "completed"),
    ]);
    assert!(
        !w.alerts()
            .iter()
            .any(|(a, _)| *a == AlertName::ZeroRunningTasks)
    );
    assert_eq!(w.metric(MetricName::ZeroTaskDowntime), vec![10.0]);
    assert_eq!(w.state.rollouts()[0].downtime_s, 10.0);
    let completed = w
        .effects
        .alerts()
        .find(|a| a.alert == AlertName::DeploymentCompleted)
        .unwrap();
    assert!(
        completed.summary.ends_with("downtime 10 s."),
        "{}",
        completed.summary
    );
}

/// In the deployed watcher a zero past its grace is confirmed with DescribeServices
/// first: if ECS says a task runs (events were lost), nobody is paged; if ECS
/// confirms zero, the page goes out.
#[test]
fn zero_is_confirmed_before_paging_when_asked_to() {
    for (running, pages) in [(1, false), (0, true)] {
        let mut w = World::new();
        w.settings.confirm_zero = true;
        w.drive(&serving_old()).drive(&[
            task(
                "old1",
                OLD,
                4,
                "STOPPED",
                Some(0),
                Some((
                    100,
                    "Essential container in task exited",
                    "EssentialContainerExited",
                )),
                100,
            ),
            deployment("SERVICE_DEPLOYMENT_IN_PROGRESS", NEW, 160, "in progress"),
        ]);
        assert!(w.state.needs_observation());
        assert!(
            !w.alerts()
                .iter()
                .any(|(a, _)| *a == AlertName::ZeroRunningTasks)
        );
        let obs = Observation {
            desired: 1,
            running,
            at: Timestamp::parse(&t(161)).unwrap(),
        };
        let fx = w.state.observe(obs, &w.settings);
        assert!(!w.state.needs_observation());
        let paged: Vec<_> = fx
            .alerts()
            .filter(|a| a.alert == AlertName::ZeroRunningTasks)
            .collect();
        assert_eq!(!paged.is_empty(), pages, "running {running}");
        if pages {
            assert!(
                paged[0]
                    .summary
                    .contains("Essential container in task exited"),
                "{}",
                paged[0].summary
            );
        }
    }
}

/// The circuit-breaker story with the rollback's IN_PROGRESS delivered first, before
/// the failed deployment's own events: the links still come out right.
#[test]
fn rollback_reported_before_the_failure_still_links() {
    let rollback = "ECS deployment circuit breaker: rolling back to deploymentId ecs-svc/1000.";
    let mut w = World::new();
    w.drive(&serving_old()).drive(&[
        deployment(
            "SERVICE_DEPLOYMENT_IN_PROGRESS",
            "ecs-svc/3000",
            700,
            rollback,
        ),
        deployment(
            "SERVICE_DEPLOYMENT_FAILED",
            NEW,
            690,
            "ECS deployment circuit breaker: tasks failed to start.",
        ),
        deployment("SERVICE_DEPLOYMENT_IN_PROGRESS", NEW, 60, "in progress"),
        task(
            "new1",
            NEW,
            6,
            "STOPPED",
            Some(100),
            Some((200, ELB, "ServiceSchedulerInitiated")),
            210,
        ),
        deployment(
            "SERVICE_DEPLOYMENT_COMPLETED",
            "ecs-svc/3000",
            800,
            "completed",
        ),
    ]);
    assert_eq!(w.state_of(NEW), RolloutState::RolledBack);
    assert_eq!(w.state_of("ecs-svc/3000"), RolloutState::Completed);
    let rb = w
        .state
        .rollouts()
        .into_iter()
        .find(|r| r.deployment_id.as_str() == "ecs-svc/3000")
        .unwrap();
    assert_eq!(
        rb.rollback_of.map(|d| d.as_str().to_owned()),
        Some(NEW.to_owned())
    );
    let names: Vec<AlertName> = w.alerts().into_iter().map(|(a, _)| a).collect();
    for want in [
        AlertName::DeploymentFailed,
        AlertName::DeploymentRolledBack,
        AlertName::HealthCheckFailed,
    ] {
        assert_eq!(
            names.iter().filter(|a| **a == want).count(),
            1,
            "{want:?} in {names:?}"
        );
    }
}

/// If ECS reuses the target's id for the rollback (the docs leave it open), the
/// failed deployment is still the one rolled back, and the completed target stays
/// completed.
#[test]
fn rollback_that_reuses_the_target_id_still_rolls_back_the_failed_one() {
    let mut w = World::new();
    w.drive(&[
        deployment("SERVICE_DEPLOYMENT_IN_PROGRESS", OLD, 0, "in progress"),
        deployment("SERVICE_DEPLOYMENT_COMPLETED", OLD, 30, "completed"),
        deployment("SERVICE_DEPLOYMENT_IN_PROGRESS", NEW, 60, "in progress"),
        deployment("SERVICE_DEPLOYMENT_FAILED", NEW, 600, "circuit breaker"),
        deployment(
            "SERVICE_DEPLOYMENT_IN_PROGRESS",
            OLD,
            601,
            "ECS deployment circuit breaker: rolling back to deploymentId ecs-svc/1000.",
        ),
    ]);
    assert_eq!(w.state_of(OLD), RolloutState::Completed);
    assert_eq!(w.state_of(NEW), RolloutState::RolledBack);
}

/// A rollout that hangs: the deadline passes in event time (or at an explicit "now"),
/// it pages once, and the page resolves when the rollout finally ends.
#[test]
fn stalled_rollout_alerts_once_and_resolves_when_it_ends() {
    let mut w = World::new();
    w.drive(&serving_old()).drive(&[deployment(
        "SERVICE_DEPLOYMENT_IN_PROGRESS",
        NEW,
        60,
        "in progress",
    )]);
    let deadline = Timestamp::parse(&t(60 + 900)).unwrap();
    assert_eq!(w.state.next_deadline(&w.settings), Some(deadline));
    let fx = w
        .state
        .tick(Timestamp::parse(&t(59 * 60)).unwrap(), &w.settings);
    w.effects.extend(fx);
    let fx = w
        .state
        .tick(Timestamp::parse(&t(59 * 60 + 30)).unwrap(), &w.settings);
    assert!(fx.items.is_empty(), "a second tick repeats nothing");
    w.drive(&[deployment(
        "SERVICE_DEPLOYMENT_COMPLETED",
        NEW,
        59 * 60 + 40,
        "completed",
    )]);
    assert_eq!(
        w.alerts(),
        vec![
            (AlertName::DeploymentStarted, AlertStatus::Firing),
            (AlertName::DeploymentStalled, AlertStatus::Firing),
            (AlertName::DeploymentCompleted, AlertStatus::Firing),
            (AlertName::DeploymentStalled, AlertStatus::Resolved),
        ]
    );
    assert_eq!(w.state_of(NEW), RolloutState::Completed);
    assert_eq!(w.metric(MetricName::DeploymentStalled), vec![1.0]);
}

/// With DescribeServices' settings known, a rollout on `minimum healthy 0 %` says so
/// the moment it starts.
#[test]
fn unsafe_settings_are_flagged_when_a_rollout_starts() {
    let mut w = World::new();
    w.state.set_config(ServiceConfig {
        desired_count: Some(1),
        min_healthy_percent: Some(0),
        max_percent: Some(100),
        circuit_breaker: Some(true),
        rollback: Some(true),
        ..ServiceConfig::default()
    });
    w.drive(&[deployment(
        "SERVICE_DEPLOYMENT_IN_PROGRESS",
        NEW,
        60,
        "in progress",
    )]);
    let a = w
        .effects
        .alerts()
        .find(|a| a.alert == AlertName::UnsafeDeploymentConfig)
        .unwrap();
    assert!(a.summary.contains("floor 0"), "{}", a.summary);
    assert!(
        a.details
            .findings
            .iter()
            .any(|f| f.contains("1 × 0% = 0 tasks")),
        "{:?}",
        a.details.findings
    );
}

/// What DynamoDB does between invocations: the state is serialised and read back
/// after every event. The effects are exactly those of an uninterrupted run.
#[test]
fn state_survives_serialisation_between_every_event() {
    let events: Vec<String> = serving_old()
        .into_iter()
        .chain([
            deployment("SERVICE_DEPLOYMENT_IN_PROGRESS", NEW, 60, "in progress"),
            task("new1", NEW, 3, "RUNNING", Some(90), None, 90),
            task(
                "new1",
                NEW,
                6,
                "STOPPED",
                Some(90),
                Some((200, ELB, "ServiceSchedulerInitiated")),
                230,
            ),
            task(
                "old1",
                OLD,
                4,
                "RUNNING",
                Some(0),
                Some((300, SCALE, "ServiceSchedulerInitiated")),
                300,
            ),
            task(
                "old1",
                OLD,
                6,
                "STOPPED",
                Some(0),
                Some((300, SCALE, "ServiceSchedulerInitiated")),
                330,
            ),
            deployment("SERVICE_DEPLOYMENT_FAILED", NEW, 400, "circuit breaker"),
        ])
        .collect();
    let mut straight = World::new();
    straight.drive(&events);
    let mut stored = World::new();
    for e in &events {
        let json = serde_json::to_string(&stored.state).unwrap();
        stored.state = serde_json::from_str(&json).unwrap();
        stored.drive(std::slice::from_ref(e));
    }
    assert_eq!(stored.effects.items, straight.effects.items);
    assert!(
        straight
            .alerts()
            .contains(&(AlertName::ZeroRunningTasks, AlertStatus::Firing))
    );
}

/// A 500-task service stays far below DynamoDB's 400 KB item limit, and a long life
/// of task churn does not grow the state without bound.
#[test]
fn state_stays_small_for_big_and_long_lived_services() {
    let mut w = World::new();
    let running: Vec<String> = (0..500)
        .map(|i| task(&format!("{i:032x}"), OLD, 3, "RUNNING", Some(1), None, 2))
        .collect();
    w.drive(&running);
    let size = serde_json::to_vec(&w.state).unwrap().len();
    assert!(size < 100_000, "500 tasks take {size} bytes");
    for round in 0..40u32 {
        let start = 10 + round * 90;
        let churn: Vec<String> = (0..50)
            .map(|i| {
                task(
                    &format!("churn{round}-{i}"),
                    NEW,
                    6,
                    "STOPPED",
                    Some(start),
                    Some((start + 30, SCALE, "ServiceSchedulerInitiated")),
                    start + 40,
                )
            })
            .collect();
        w.drive(&churn);
    }
    let after = serde_json::to_vec(&w.state).unwrap().len();
    assert!(after < size + 20_000, "grew from {size} to {after} bytes");
}

/// What the sweeper does each tick: let time pass to "now", then hand over ECS's counts.
fn sweep(state: &mut ServiceState, obs: Observation, settings: &Settings) -> Effects {
    let mut fx = state.tick(obs.at, settings);
    fx.extend(state.observe(obs, settings));
    fx
}

/// The sweeper's view: no event ever said the last task died (the STOPPED event was
/// lost), but DescribeServices says 0 of 1 running. The watcher pages after the grace,
/// and resolves when ECS reports a running task again.
#[test]
fn describe_services_finds_a_zero_no_event_reported() {
    let mut w = World::new();
    w.drive(&serving_old());
    let at = |s| Timestamp::parse(&t(s)).unwrap();
    let settings = w.settings.clone();
    let fx = sweep(
        &mut w.state,
        Observation {
            desired: 1,
            running: 0,
            at: at(600),
        },
        &settings,
    );
    assert_eq!(fx.alerts().count(), 0, "not before the grace");
    w.effects.extend(fx);
    let fx = sweep(
        &mut w.state,
        Observation {
            desired: 1,
            running: 0,
            at: at(660),
        },
        &settings,
    );
    w.effects.extend(fx);
    let fx = sweep(
        &mut w.state,
        Observation {
            desired: 1,
            running: 1,
            at: at(720),
        },
        &settings,
    );
    w.effects.extend(fx);
    assert_eq!(
        w.alerts(),
        vec![
            (AlertName::ZeroRunningTasks, AlertStatus::Firing),
            (AlertName::ZeroRunningTasks, AlertStatus::Resolved)
        ]
    );
    assert_eq!(w.metric(MetricName::ZeroTaskDowntime), vec![120.0]);
    // A desired count of 0 is a choice, not an outage.
    let mut idle = World::new();
    let fx = sweep(
        &mut idle.state,
        Observation {
            desired: 0,
            running: 0,
            at: at(600),
        },
        &settings,
    );
    let fx2 = sweep(
        &mut idle.state,
        Observation {
            desired: 0,
            running: 0,
            at: at(900),
        },
        &settings,
    );
    assert_eq!(fx.alerts().count() + fx2.alerts().count(), 0);
}

/// A service the watcher never saw, observed with 0 of 2 running for longer than the
/// grace: "running tasks = 0 for two weeks and nobody was told" ends here.
#[test]
fn a_service_never_seen_but_down_pages() {
    let mut w = World::new();
    let at = |s| Timestamp::parse(&t(s)).unwrap();
    let settings = w.settings.clone();
    for s in [0, 60, 120] {
        let fx = sweep(
            &mut w.state,
            Observation {
                desired: 2,
                running: 0,
                at: at(s),
            },
            &settings,
        );
        w.effects.extend(fx);
    }
    assert_eq!(
        w.alerts(),
        vec![(AlertName::ZeroRunningTasks, AlertStatus::Firing)]
    );
}

/// With confirmation on (the deployed setting), a zero found by DescribeServices
/// itself needs no second look: the observation is the confirmation.
#[test]
fn an_observed_zero_is_its_own_confirmation() {
    let mut w = World::new();
    w.settings.confirm_zero = true;
    let at = |s| Timestamp::parse(&t(s)).unwrap();
    let settings = w.settings.clone();
    for s in [0, 60] {
        let fx = sweep(
            &mut w.state,
            Observation {
                desired: 1,
                running: 0,
                at: at(s),
            },
            &settings,
        );
        w.effects.extend(fx);
    }
    assert_eq!(
        w.alerts(),
        vec![(AlertName::ZeroRunningTasks, AlertStatus::Firing)]
    );
    assert!(!w.state.needs_observation());
}
