//! ECS-native deployments told as stories: blue/green with an approval pause and a
//! bake, a pause answered ROLLBACK or left to time out, a Lambda hook that fails,
//! linear and canary steps, a rolling deployment held by a pause hook, and the same
//! blue/green stream with and without the deployment state change events around the
//! hooks (AWS does not document which of them a blue/green deployment emits).
//!
//! Events are written in AWS's shapes: hook events as AWS's sample
//! (`hook-state-change-awaiting-action.json`, nanosecond `updatedAt`), deployment and
//! task events as the other samples.
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

#[path = "support/native_story.rs"]
#[allow(dead_code)]
mod native_story;

use native_story::*;
use rollout_watcher::core::{AlertName, AlertStatus, MetricName, RolloutState, ServiceConfig};
use rollout_watcher::model::{
    DeploymentStrategy, HookView, Millis, ServiceArn, ServiceDeploymentView, Timestamp,
    TrafficSteps,
};

const PAUSE: &str = "ecs-pause-e7tK9G_WRJqNF_EOMjztDXfKenlJuEUVjsNStf4WLKw";

/// Blue serves; green starts at 0, runs at 60 s; test traffic moves; the approval
/// pause waits 12 minutes from 120 s; production traffic moves; the 15-minute bake;
/// blue stops at clean-up; COMPLETED. `with_deployment_events`: the IN_PROGRESS and
/// COMPLETED events around the hooks are sent (or not).
fn blue_green_with_approval(with_deployment_events: bool) -> Vec<String> {
    let resume = 120 + 12 * MIN;
    let bake_end = resume + 30 + 15 * MIN;
    let mut v = vec![
        task("blue1", BLUE, 2, 0, None, 0),
        deployment(
            "SERVICE_DEPLOYMENT_IN_PROGRESS",
            0,
            "ECS deployment ecs-svc/2222222222222222222 in progress.",
        ),
        task("green1", GREEN, 2, 60, None, 60),
        hook(
            "HOOK_AWAITING_ACTION",
            PAUSE,
            "PAUSE",
            "POST_TEST_TRAFFIC_SHIFT",
            120,
            60,
        ),
        hook(
            "HOOK_SUCCEEDED",
            PAUSE,
            "PAUSE",
            "POST_TEST_TRAFFIC_SHIFT",
            resume,
            60,
        ),
        task("blue1", BLUE, 3, 0, Some(bake_end), bake_end),
        deployment(
            "SERVICE_DEPLOYMENT_COMPLETED",
            bake_end + 60,
            "ECS deployment ecs-svc/2222222222222222222 completed.",
        ),
    ];
    if !with_deployment_events {
        v.retain(|e| !e.contains("ECS Deployment State Change"));
    }
    v
}

/// The story: a 12-minute approval and a 15-minute bake never look stalled;
/// the pause pages when it begins, resolves when someone continues, and its length
/// is measured.
#[test]
fn blue_green_waits_twelve_minutes_for_approval_and_bakes_fifteen_without_a_stall() {
    let cfg = config(
        DeploymentStrategy::BlueGreen,
        15,
        vec![pause_hook("POST_TEST_TRAFFIC_SHIFT", "ROLLBACK")],
    );
    let mut s = Story::new(Some(cfg));
    s.feed(&blue_green_with_approval(true));
    s.at(3 * 3600);
    assert_eq!(s.fired(AlertName::DeploymentStalled), 0, "{:?}", s.alerts());
    assert_eq!(
        s.alerts(),
        [
            (AlertName::DeploymentStarted, AlertStatus::Firing),
            (AlertName::DeploymentPaused, AlertStatus::Firing),
            (AlertName::DeploymentPaused, AlertStatus::Resolved),
            (AlertName::DeploymentCompleted, AlertStatus::Firing),
        ]
    );
    let paused =
        s.fx.alerts()
            .find(|a| a.alert == AlertName::DeploymentPaused)
            .unwrap();
    assert_eq!(paused.at, Timestamp::parse(&t(120)).unwrap());
    for needle in [
        PAUSE,
        "POST_TEST_TRAFFIC_SHIFT",
        "2026-03-05T16:02:00Z",
        "ROLLBACK",
        &format!(
            "aws ecs continue-service-deployment --region us-west-2 --service-deployment-arn {SD} --hook-id {PAUSE} --action CONTINUE"
        ),
        &format!("--hook-id {PAUSE} --action ROLLBACK"),
    ] {
        assert!(
            paused.summary.contains(needle),
            "{needle}: {}",
            paused.summary
        );
    }
    assert_eq!(paused.details.hook_id.as_deref(), Some(PAUSE));
    assert!(
        paused
            .details
            .console_url
            .ends_with("/deployments/0EYSiB0qap8xf0N76FsbE?region=us-west-2")
    );
    assert_eq!(s.metric(MetricName::DeploymentPausedTime), [720.0]);
    assert_eq!(
        s.metric(MetricName::LifecycleHookFailures),
        Vec::<f64>::new()
    );
    assert_eq!(
        s.states(),
        [
            RolloutState::Started,
            RolloutState::TasksRunning,
            RolloutState::Paused,
            RolloutState::Shifting,
            RolloutState::Draining,
            RolloutState::Completed
        ]
    );
    assert_eq!(
        s.stages(),
        [("POST_TEST_TRAFFIC_SHIFT".into(), Some(GREEN.into()))]
    );
    assert_eq!(s.end_state(), RolloutState::Completed);
}

/// Without the configuration the bake time is unknown, and the watcher cannot tell a
/// bake from a hang: the pause still never counts, so the stall comes 12 minutes
/// later than it would (15 + 12), and resolves when the rollout completes.
#[test]
fn without_the_configuration_only_the_pause_is_taken_off_the_deadline() {
    let mut s = Story::new(None);
    s.feed(&blue_green_with_approval(true)[..5]);
    s.at(15 * MIN + 12 * MIN - 1);
    assert_eq!(s.fired(AlertName::DeploymentStalled), 0);
    s.at(15 * MIN + 12 * MIN);
    assert_eq!(s.fired(AlertName::DeploymentStalled), 1);
}

/// AWS does not document whether a blue/green deployment sends IN_PROGRESS and
/// COMPLETED events. Without them, the hook's alerts still fire and resolve once,
/// naming the service deployment (no `ecs-svc/` id is known), and nothing stalls.
#[test]
fn the_pause_pages_and_resolves_once_with_or_without_deployment_events() {
    let cfg = config(
        DeploymentStrategy::BlueGreen,
        15,
        vec![pause_hook("POST_TEST_TRAFFIC_SHIFT", "ROLLBACK")],
    );
    let mut without = Story::new(Some(cfg));
    without.feed(&blue_green_with_approval(false)).at(3 * 3600);
    assert_eq!(
        without.alerts(),
        [
            (AlertName::DeploymentPaused, AlertStatus::Firing),
            (AlertName::DeploymentPaused, AlertStatus::Resolved),
        ]
    );
    let a = without.fx.alerts().next().unwrap();
    assert_eq!(a.deployment_id, None);
    assert!(
        a.summary
            .contains("service deployment 0EYSiB0qap8xf0N76FsbE"),
        "{}",
        a.summary
    );
    assert_eq!(without.metric(MetricName::DeploymentPausedTime), [720.0]);
    assert_eq!(without.stages(), [("POST_TEST_TRAFFIC_SHIFT".into(), None)]);
}

/// The hook events come before the IN_PROGRESS event (EventBridge keeps no order):
/// they wait, then join the rollout that covers their time, and everything is said
/// once, as in order.
#[test]
fn hook_events_before_the_deployment_event_join_it_when_it_comes() {
    let cfg = config(
        DeploymentStrategy::BlueGreen,
        15,
        vec![pause_hook("POST_TEST_TRAFFIC_SHIFT", "ROLLBACK")],
    );
    let mut events = blue_green_with_approval(true);
    let in_progress = events.remove(1);
    events.insert(5, in_progress);
    let mut s = Story::new(Some(cfg.clone()));
    s.feed(&events).at(3 * 3600);
    let mut ordered = Story::new(Some(cfg));
    ordered.feed(&blue_green_with_approval(true)).at(3 * 3600);
    assert_eq!(s.fired(AlertName::DeploymentPaused), 1);
    assert_eq!(s.fired(AlertName::DeploymentStalled), 0);
    assert_eq!(s.metric(MetricName::DeploymentPausedTime), [720.0]);
    assert_eq!(s.replay.rollouts(), ordered.replay.rollouts());
    // Every event again, in order: nothing more is said.
    let before = s.fx.items.len();
    s.feed(&blue_green_with_approval(true));
    assert_eq!(s.fx.items.len(), before);
}

/// Nobody answers: the pause times out and its timeout action, ROLLBACK, rolls the
/// deployment back: `lifecycle_hook_failed`, the pause resolves, `rolled_back`.
#[test]
fn a_pause_that_times_out_into_rollback_fails_the_hook_and_rolls_back() {
    let cfg = config(
        DeploymentStrategy::BlueGreen,
        15,
        vec![pause_hook("POST_TEST_TRAFFIC_SHIFT", "ROLLBACK")],
    );
    let mut s = Story::new(Some(cfg));
    let mut events = blue_green_with_approval(true)[..4].to_vec();
    events.push(hook(
        "HOOK_TIMED_OUT",
        PAUSE,
        "PAUSE",
        "POST_TEST_TRAFFIC_SHIFT",
        120 + 60 * MIN,
        60,
    ));
    s.feed(&events).at(4 * 3600);
    assert_eq!(
        s.alerts(),
        [
            (AlertName::DeploymentStarted, AlertStatus::Firing),
            (AlertName::DeploymentPaused, AlertStatus::Firing),
            (AlertName::DeploymentPaused, AlertStatus::Resolved),
            (AlertName::LifecycleHookFailed, AlertStatus::Firing),
            (AlertName::DeploymentRolledBack, AlertStatus::Firing),
        ]
    );
    let failed =
        s.fx.alerts()
            .find(|a| a.alert == AlertName::LifecycleHookFailed)
            .unwrap();
    assert!(
        failed
            .summary
            .contains("timed out with timeout action ROLLBACK"),
        "{}",
        failed.summary
    );
    assert_eq!(s.metric(MetricName::LifecycleHookFailures), [1.0]);
    assert_eq!(s.metric(MetricName::DeploymentPausedTime), [3600.0]);
    assert_eq!(s.metric(MetricName::DeploymentRolledBack), [1.0]);
    assert_eq!(s.end_state(), RolloutState::RolledBack);
}

/// A pause whose timeout action is CONTINUE: timing out is the plan, not a failure.
#[test]
fn a_pause_that_times_out_into_continue_is_no_failure() {
    let cfg = config(
        DeploymentStrategy::BlueGreen,
        15,
        vec![pause_hook("POST_TEST_TRAFFIC_SHIFT", "CONTINUE")],
    );
    let mut s = Story::new(Some(cfg));
    let mut events = blue_green_with_approval(true)[..4].to_vec();
    let out = 120 + 60 * MIN;
    events.push(hook(
        "HOOK_TIMED_OUT",
        PAUSE,
        "PAUSE",
        "POST_TEST_TRAFFIC_SHIFT",
        out,
        60,
    ));
    events.push(task(
        "blue1",
        BLUE,
        3,
        0,
        Some(out + 15 * MIN),
        out + 15 * MIN,
    ));
    events.push(deployment(
        "SERVICE_DEPLOYMENT_COMPLETED",
        out + 16 * MIN,
        "",
    ));
    s.feed(&events).at(5 * 3600);
    assert_eq!(s.fired(AlertName::LifecycleHookFailed), 0);
    assert_eq!(s.fired(AlertName::DeploymentStalled), 0);
    assert_eq!(s.fired(AlertName::DeploymentRolledBack), 0);
    let resolved =
        s.fx.alerts()
            .find(|a| a.status == AlertStatus::Resolved)
            .unwrap();
    assert!(
        resolved.summary.contains("timed out (CONTINUE)"),
        "{}",
        resolved.summary
    );
    assert_eq!(s.end_state(), RolloutState::Completed);
}

/// A Lambda hook at production traffic shift fails: ECS moves traffic back to blue
/// and fails the deployment: the hook failure, the failure and the rollback, once.
#[test]
fn a_failed_lambda_hook_rolls_the_deployment_back() {
    let cfg = config(DeploymentStrategy::BlueGreen, 15, vec![]);
    let mut s = Story::new(Some(cfg));
    let id = "ecs-lambda-0123456789abcdefghijklmnopqrstuvwxyzABCDEFG";
    let events = [
        task("blue1", BLUE, 2, 0, None, 0),
        deployment("SERVICE_DEPLOYMENT_IN_PROGRESS", 0, ""),
        task("green1", GREEN, 2, 60, None, 60),
        hook(
            "HOOK_IN_PROGRESS",
            id,
            "AWS_LAMBDA",
            "PRODUCTION_TRAFFIC_SHIFT",
            120,
            30,
        ),
        hook(
            "HOOK_FAILED",
            id,
            "AWS_LAMBDA",
            "PRODUCTION_TRAFFIC_SHIFT",
            150,
            30,
        ),
        deployment(
            "SERVICE_DEPLOYMENT_FAILED",
            152,
            "deployment failed: hook execution failure(s) detected",
        ),
    ];
    s.feed(&events);
    s.feed(&events).at(3600);
    assert_eq!(
        s.alerts(),
        [
            (AlertName::DeploymentStarted, AlertStatus::Firing),
            (AlertName::LifecycleHookFailed, AlertStatus::Firing),
            (AlertName::DeploymentRolledBack, AlertStatus::Firing),
            (AlertName::DeploymentFailed, AlertStatus::Firing),
        ]
    );
    let back =
        s.fx.alerts()
            .find(|a| a.alert == AlertName::DeploymentRolledBack)
            .unwrap();
    assert!(back.summary.contains(id), "{}", back.summary);
    assert_eq!(s.fired(AlertName::DeploymentPaused), 0);
    assert_eq!(s.end_state(), RolloutState::RolledBack);
    assert_eq!(
        s.stages(),
        [("PRODUCTION_TRAFFIC_SHIFT".into(), Some(GREEN.into()))]
    );
}

/// Linear, 25 % steps with 3-minute step bakes and a 5-minute bake: a hook per step,
/// each with its own id; the stage is said once; the steps' bakes are no stall.
#[test]
fn linear_steps_each_run_a_new_hook_and_their_bakes_are_not_a_stall() {
    let mut cfg = config(DeploymentStrategy::Linear, 5, vec![]);
    cfg.traffic_steps = Some(TrafficSteps {
        percent: 25.0,
        step_bake: Millis(3 * 60_000),
    });
    let mut s = Story::new(Some(cfg));
    let mut events = vec![
        task("blue1", BLUE, 2, 0, None, 0),
        deployment("SERVICE_DEPLOYMENT_IN_PROGRESS", 0, ""),
        task("green1", GREEN, 2, 60, None, 60),
    ];
    // Four shifts, each after its 3-minute step bake, then the 5-minute bake: 20
    // minutes in all, past the 15-minute deadline of a rolling update.
    let mut at = 5 * MIN;
    for step in 0..4 {
        let id = format!("ecs-lambda-step{step}-aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa");
        events.push(hook(
            "HOOK_IN_PROGRESS",
            &id,
            "AWS_LAMBDA",
            "PRODUCTION_TRAFFIC_SHIFT",
            at,
            10,
        ));
        events.push(hook(
            "HOOK_SUCCEEDED",
            &id,
            "AWS_LAMBDA",
            "PRODUCTION_TRAFFIC_SHIFT",
            at + 20,
            10,
        ));
        at += 3 * MIN + 20;
    }
    let done = at + 5 * MIN;
    events.push(task("blue1", BLUE, 3, 0, Some(done), done));
    events.push(deployment("SERVICE_DEPLOYMENT_COMPLETED", done + 30, ""));
    s.feed(&events).at(2 * 3600);
    assert_eq!(s.fired(AlertName::DeploymentStalled), 0, "{:?}", s.alerts());
    assert_eq!(
        s.stages(),
        [("PRODUCTION_TRAFFIC_SHIFT".into(), Some(GREEN.into()))]
    );
    let states = s.states();
    let bakes = states
        .iter()
        .filter(|s| **s == RolloutState::Baking)
        .count();
    assert_eq!(bakes, 4, "a bake after every step: {states:?}");
    assert_eq!(s.end_state(), RolloutState::Completed);
}

/// Canary without its configuration: the canary's bake is seen (a hook at production
/// traffic shift succeeded, nothing moves for 10 minutes) and taken off the deadline.
#[test]
fn a_canary_bake_seen_in_the_events_is_not_a_stall() {
    let mut s = Story::new(None);
    let a = "ecs-lambda-canary-aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa";
    let b = "ecs-lambda-rest-bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb";
    let events = [
        deployment("SERVICE_DEPLOYMENT_IN_PROGRESS", 0, ""),
        task("green1", GREEN, 2, 60, None, 60),
        hook(
            "HOOK_IN_PROGRESS",
            a,
            "AWS_LAMBDA",
            "PRODUCTION_TRAFFIC_SHIFT",
            5 * MIN,
            10,
        ),
        hook(
            "HOOK_SUCCEEDED",
            a,
            "AWS_LAMBDA",
            "PRODUCTION_TRAFFIC_SHIFT",
            5 * MIN + 10,
            10,
        ),
        // the canary bakes 12 minutes: past the 15-minute deadline from the start
        hook(
            "HOOK_IN_PROGRESS",
            b,
            "AWS_LAMBDA",
            "PRODUCTION_TRAFFIC_SHIFT",
            17 * MIN + 10,
            10,
        ),
    ];
    s.feed(&events).at(20 * MIN);
    assert_eq!(s.fired(AlertName::DeploymentStalled), 0, "{:?}", s.states());
    assert_eq!(s.states().last(), Some(&RolloutState::Shifting));
}

/// A rolling deployment with a pause hook after scale-up: paused, continued, and the
/// rolling update completes; the 20 minutes paused never count toward the deadline.
#[test]
fn a_rolling_deployment_held_by_a_pause_hook() {
    let cfg = ServiceConfig {
        lifecycle_hooks: vec![pause_hook("POST_SCALE_UP", "ROLLBACK")],
        ..config(DeploymentStrategy::Rolling, 0, vec![])
    };
    let mut s = Story::new(Some(cfg));
    let id = "ecs-pause-rollingaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa";
    let events = [
        task("blue1", BLUE, 2, 0, None, 0),
        deployment("SERVICE_DEPLOYMENT_IN_PROGRESS", 0, ""),
        task("green1", GREEN, 2, 60, None, 60),
        hook("HOOK_AWAITING_ACTION", id, "PAUSE", "POST_SCALE_UP", 90, 60),
        hook(
            "HOOK_SUCCEEDED",
            id,
            "PAUSE",
            "POST_SCALE_UP",
            90 + 20 * MIN,
            60,
        ),
        task("blue1", BLUE, 3, 0, Some(100 + 20 * MIN), 100 + 20 * MIN),
        deployment("SERVICE_DEPLOYMENT_COMPLETED", 200 + 20 * MIN, ""),
    ];
    s.feed(&events).at(3600);
    assert_eq!(s.fired(AlertName::DeploymentStalled), 0);
    assert_eq!(s.fired(AlertName::DeploymentPaused), 1);
    assert_eq!(s.metric(MetricName::DeploymentPausedTime), [1200.0]);
    assert_eq!(
        s.states(),
        [
            RolloutState::Started,
            RolloutState::TasksRunning,
            RolloutState::Paused,
            RolloutState::TasksRunning,
            RolloutState::Draining,
            RolloutState::Completed
        ]
    );
}

/// A pause still open when the rollout is superseded resolves with the rollout's end.
#[test]
fn an_open_pause_resolves_when_the_rollout_ends() {
    let mut s = Story::new(None);
    s.feed(&blue_green_with_approval(true)[..4]);
    s.feed(&[deployment(
        "SERVICE_DEPLOYMENT_FAILED",
        10 * MIN,
        "stopped by a user",
    )]);
    assert_eq!(
        s.alerts()[1..],
        [
            (AlertName::DeploymentPaused, AlertStatus::Firing),
            (AlertName::DeploymentPaused, AlertStatus::Resolved),
            (AlertName::DeploymentFailed, AlertStatus::Firing),
        ]
    );
    let resolved =
        s.fx.alerts()
            .find(|a| a.status == AlertStatus::Resolved)
            .unwrap();
    assert!(
        resolved.summary.contains("the deployment ended"),
        "{}",
        resolved.summary
    );
    assert_eq!(s.metric(MetricName::DeploymentPausedTime), [480.0]);
}

/// The Service Deployments API's view (what `wait`, the handler and the sweeper read)
/// feeds the same facts: the pause from `lifecycleHookDetails`, the join through the
/// target service revision, and a ROLLBACK_IN_PROGRESS status rolls the rollout back.
#[test]
fn a_service_deployments_reading_feeds_the_same_state_machine() {
    let mut s = Story::new(None);
    s.feed(&blue_green_with_approval(true)[..3]);
    let service = ServiceArn::parse(SVC).unwrap();
    let view = |status: &str, hook_status: &str| {
        ServiceDeploymentView {
        arn: SD.into(),
        target_revision: Some(
            "arn:aws:ecs:us-west-2:123456789012:service-revision/my-cluster/my-service/2222222222222222222".into(),
        ),
        status: status.into(),
        stage: Some("POST_TEST_TRAFFIC_SHIFT".into()),
        hooks: vec![HookView {
            hook_id: PAUSE.into(),
            target_type: Some("PAUSE".into()),
            status: hook_status.into(),
            expires_at: Timestamp::parse(&t(120 + 60 * MIN)),
            timeout_action: Some("ROLLBACK".into()),
        }],
        ..ServiceDeploymentView::default()
    }
    };
    let read = |s: &mut Story, v: ServiceDeploymentView, at: u32| {
        let input = rollout_watcher::model::Input::service_deployment(
            service.clone(),
            v,
            Timestamp::parse(&t(at)).unwrap(),
        );
        let fx = s.replay.apply_input(&input);
        s.fx.extend(fx);
    };
    read(&mut s, view("IN_PROGRESS", "AWAITING_ACTION"), 130);
    read(&mut s, view("IN_PROGRESS", "AWAITING_ACTION"), 135);
    assert_eq!(s.fired(AlertName::DeploymentPaused), 1);
    assert_eq!(s.states().last(), Some(&RolloutState::Paused));
    read(&mut s, view("ROLLBACK_IN_PROGRESS", "FAILED"), 300);
    assert_eq!(s.fired(AlertName::LifecycleHookFailed), 1);
    assert_eq!(s.end_state(), RolloutState::RolledBack);
}

/// Without deployment events nothing joins a service deployment to a rollout: the
/// service's state keeps only the newest few, so it stays one bounded item.
#[test]
fn unjoined_service_deployments_are_bounded() {
    let mut s = Story::new(None);
    for n in 0..20u32 {
        let arn = SD.replace("0EYSiB0qap8xf0N76FsbE", &format!("deployment{n:013}"));
        let event = hook(
            "HOOK_IN_PROGRESS",
            &format!("ecs-lambda-{n}"),
            "AWS_LAMBDA",
            "SCALE_UP",
            n * MIN,
            10,
        )
        .replace(SD, &arn);
        s.feed(&[event]);
    }
    let state = s.replay.service(&ServiceArn::parse(SVC).unwrap()).unwrap();
    let stored = serde_json::to_string(state).unwrap();
    assert_eq!(stored.matches("\"arn\":").count(), 8, "{stored}");
    assert!(stored.contains("deployment0000000000019"));
    assert!(!stored.contains("deployment0000000000011"));
}

/// The functions read DescribeServices on a service's first events: a rollout that
/// began before its configuration was known follows the bake time once it is, and
/// the 15-minute bake is no stall.
#[test]
fn a_configuration_read_after_the_rollout_began_still_counts_the_bake() {
    let cfg = config(
        DeploymentStrategy::BlueGreen,
        15,
        vec![pause_hook("POST_TEST_TRAFFIC_SHIFT", "ROLLBACK")],
    );
    let events = blue_green_with_approval(true);
    let mut s = Story::new(None);
    s.feed(&events[..2]);
    s.replay.set_config(&ServiceArn::parse(SVC).unwrap(), cfg);
    s.feed(&events[2..]).at(3 * 3600);
    assert_eq!(s.fired(AlertName::DeploymentStalled), 0, "{:?}", s.alerts());
    assert_eq!(s.end_state(), RolloutState::Completed);
}
