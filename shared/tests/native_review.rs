//! ECS-native rollouts and crashes told the way they go wrong for the on-call
//! engineer: a canary whose production-traffic hook fails, a linear rollout paused
//! past the stall deadline, a blue/green rollback during bake time, green tasks that
//! crash while blue serves, an old task that crashes after traffic moved, hook events
//! duplicated and out of order, hooks of a deployment whose start never came, two
//! overlapping deployments of one service, a pause whose end is never heard, and a
//! hook rollback told both in place and as a rollback deployment.
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

#[path = "support/native_story.rs"]
#[allow(dead_code)]
mod native_story;

use native_story::*;
use rollout_watcher::core::{AlertName, AlertStatus, MetricName, RolloutState, Severity};
use rollout_watcher::model::{
    DeploymentStrategy, Input, Millis, ServiceArn, ServiceDeploymentView, Timestamp, TrafficSteps,
};

const LAMBDA_A: &str = "ecs-lambda-canary-aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa";
const LAMBDA_B: &str = "ecs-lambda-rest-bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb";
const LAMBDA_C: &str = "ecs-lambda-back-cccccccccccccccccccccccccccccccccccccccc";
const PAUSE: &str = "ecs-pause-e7tK9G_WRJqNF_EOMjztDXfKenlJuEUVjsNStf4WLKw";
/// A deployment that was in progress when `GREEN` replaced it.
const OLD: &str = "ecs-svc/3333333333333333333";

fn blue_green() -> Story {
    Story::new(Some(config(DeploymentStrategy::BlueGreen, 15, vec![])))
}

fn approval() -> Story {
    let pause = pause_hook("POST_TEST_TRAFFIC_SHIFT", "ROLLBACK");
    Story::new(Some(config(DeploymentStrategy::BlueGreen, 15, vec![pause])))
}

fn firing(name: AlertName) -> (AlertName, AlertStatus) {
    (name, AlertStatus::Firing)
}

fn resolved(name: AlertName) -> (AlertName, AlertStatus) {
    (name, AlertStatus::Resolved)
}

/// Blue serves; green starts at 0 and runs at 60 s.
fn green_runs_beside_blue() -> Vec<String> {
    vec![
        task("blue1", BLUE, 2, 0, None, 0),
        deployment("SERVICE_DEPLOYMENT_IN_PROGRESS", 0, ""),
        task("green1", GREEN, 2, 60, None, 60),
    ]
}

/// Then the production-traffic hook moves traffic to green (120 s to 150 s).
fn traffic_moved_to_green() -> Vec<String> {
    let shift = "PRODUCTION_TRAFFIC_SHIFT";
    let mut events = green_runs_beside_blue();
    events.extend([
        hook("HOOK_IN_PROGRESS", LAMBDA_A, "AWS_LAMBDA", shift, 120, 10),
        hook("HOOK_SUCCEEDED", LAMBDA_A, "AWS_LAMBDA", shift, 150, 10),
    ]);
    events
}

/// Canary 10 % with a 10-minute canary bake: the canary's traffic hook succeeds, the
/// canary bakes, then the hook that moves the rest of production traffic fails. ECS
/// re-invokes the traffic hook to move traffic back to blue, stops green and fails
/// the deployment. Told twice: the hook failure, the rollback and the failure page
/// once each, and the traffic moving back is no new step of the rollout.
#[test]
fn a_canary_whose_production_traffic_hook_fails_after_the_canary_bake_rolls_back_once() {
    let mut cfg = config(DeploymentStrategy::Canary, 10, vec![]);
    cfg.traffic_steps = Some(TrafficSteps {
        percent: 10.0,
        step_bake: Millis(10 * 60_000),
    });
    let mut s = Story::new(Some(cfg));
    let shift = "PRODUCTION_TRAFFIC_SHIFT";
    let mut events = traffic_moved_to_green();
    events.extend([
        hook(
            "HOOK_IN_PROGRESS",
            LAMBDA_B,
            "AWS_LAMBDA",
            shift,
            150 + 10 * MIN,
            10,
        ),
        hook(
            "HOOK_FAILED",
            LAMBDA_B,
            "AWS_LAMBDA",
            shift,
            180 + 10 * MIN,
            10,
        ),
        // the traffic hook again, moving production traffic back to blue
        hook(
            "HOOK_IN_PROGRESS",
            LAMBDA_C,
            "AWS_LAMBDA",
            shift,
            190 + 10 * MIN,
            10,
        ),
        hook(
            "HOOK_SUCCEEDED",
            LAMBDA_C,
            "AWS_LAMBDA",
            shift,
            200 + 10 * MIN,
            10,
        ),
        task("green1", GREEN, 3, 60, Some(260 + 10 * MIN), 260 + 10 * MIN),
        deployment(
            "SERVICE_DEPLOYMENT_FAILED",
            300 + 10 * MIN,
            "deployment failed: hook execution failure(s) detected",
        ),
    ]);
    s.feed(&events).feed(&events).at(3600);
    assert_eq!(
        s.alerts(),
        [
            firing(AlertName::DeploymentStarted),
            firing(AlertName::LifecycleHookFailed),
            firing(AlertName::DeploymentRolledBack),
            firing(AlertName::DeploymentFailed),
        ]
    );
    let failed =
        s.fx.alerts()
            .find(|a| a.alert == AlertName::LifecycleHookFailed)
            .unwrap();
    assert!(failed.summary.contains(LAMBDA_B), "{}", failed.summary);
    assert_eq!(
        s.states(),
        [
            RolloutState::Started,
            RolloutState::TasksRunning,
            RolloutState::Shifting,
            RolloutState::Baking,
            RolloutState::Shifting,
            RolloutState::RolledBack,
        ]
    );
    assert_eq!(s.metric(MetricName::LifecycleHookFailures), [1.0]);
    assert_eq!(s.metric(MetricName::DeploymentRolledBack), [1.0]);
    assert_eq!(s.fired(AlertName::ZeroRunningTasks), 0);
}

/// Linear, 50 % steps: an approval pause after test traffic waits 40 minutes, far
/// past the 15-minute deadline. While it waits the rollout is `paused` and the page
/// is the pause, not a hang; continued, the pause resolves. If the rollout then
/// truly hangs, the stall comes when the deadline plus the 40 minutes paused passes.
#[test]
fn a_linear_rollout_paused_past_the_deadline_is_a_pause_until_it_resumes() {
    let pause = pause_hook("POST_TEST_TRAFFIC_SHIFT", "ROLLBACK");
    let mut cfg = config(DeploymentStrategy::Linear, 5, vec![pause]);
    cfg.traffic_steps = Some(TrafficSteps {
        percent: 50.0,
        step_bake: Millis(2 * 60_000),
    });
    let mut s = Story::new(Some(cfg));
    let stage = "POST_TEST_TRAFFIC_SHIFT";
    let mut events = green_runs_beside_blue();
    events.push(hook("HOOK_AWAITING_ACTION", PAUSE, "PAUSE", stage, 120, 60));
    s.feed(&events).at(120 + 40 * MIN);
    assert_eq!(
        s.alerts(),
        [
            firing(AlertName::DeploymentStarted),
            firing(AlertName::DeploymentPaused)
        ]
    );
    assert_eq!(s.end_state(), RolloutState::Paused);
    let resume = 120 + 40 * MIN;
    s.feed(&[hook("HOOK_SUCCEEDED", PAUSE, "PAUSE", stage, resume, 60)]);
    assert_eq!(
        s.alerts().last(),
        Some(&resolved(AlertName::DeploymentPaused))
    );
    assert_eq!(s.metric(MetricName::DeploymentPausedTime), [2400.0]);
    // 15 minutes + the 5-minute bake + a 2-minute step bake + 40 minutes paused.
    let deadline = (15 + 5 + 2 + 40) * MIN;
    s.at(deadline - 1);
    assert_eq!(s.fired(AlertName::DeploymentStalled), 0);
    s.at(deadline);
    assert_eq!(s.fired(AlertName::DeploymentStalled), 1);
    assert_eq!(
        s.states(),
        [
            RolloutState::Started,
            RolloutState::TasksRunning,
            RolloutState::Paused,
            RolloutState::Shifting,
            RolloutState::Stalled,
        ]
    );
}

/// Blue/green: production traffic moved to green at 150 s and the bake began; 5
/// minutes into the bake an alarm makes ECS roll back (the Service Deployments API
/// says ROLLBACK_IN_PROGRESS), traffic moves back and green stops. The rollback is
/// paged once, blue serving the whole time means no outage.
#[test]
fn a_blue_green_rollback_during_bake_time() {
    let mut s = blue_green();
    let mut events = traffic_moved_to_green();
    events.extend([]);
    s.feed(&events);
    assert_eq!(s.states().last(), Some(&RolloutState::Baking));
    let view = ServiceDeploymentView {
        arn: SD.into(),
        target_revision: Some(
            "arn:aws:ecs:us-west-2:123456789012:service-revision/my-cluster/my-service/2222222222222222222".into(),
        ),
        status: "ROLLBACK_IN_PROGRESS".into(),
        stage: Some("BAKE_TIME".into()),
        rollback_reason: Some("alarm(s) api-5xx in ALARM".into()),
        triggered_alarms: vec!["api-5xx".into()],
        ..ServiceDeploymentView::default()
    };
    let read = Input::service_deployment(
        ServiceArn::parse(SVC).unwrap(),
        view,
        Timestamp::parse(&t(150 + 5 * MIN)).unwrap(),
    );
    for _ in 0..2 {
        let fx = s.replay.apply_input(&read);
        s.fx.extend(fx);
    }
    s.feed(&[
        task("green1", GREEN, 3, 60, Some(160 + 5 * MIN), 160 + 5 * MIN),
        deployment(
            "SERVICE_DEPLOYMENT_FAILED",
            200 + 5 * MIN,
            "alarm api-5xx in ALARM",
        ),
    ])
    .at(3600);
    assert_eq!(
        s.alerts(),
        [
            firing(AlertName::DeploymentStarted),
            firing(AlertName::DeploymentRolledBack),
            firing(AlertName::DeploymentFailed),
        ]
    );
    let back =
        s.fx.alerts()
            .find(|a| a.alert == AlertName::DeploymentRolledBack)
            .unwrap();
    assert!(back.summary.contains("api-5xx"), "{}", back.summary);
    assert_eq!(s.end_state(), RolloutState::RolledBack);
    assert_eq!(s.fired(AlertName::ZeroRunningTasks), 0);
    assert_eq!(s.fired(AlertName::DeploymentStalled), 0);
}

/// Blue/green after production traffic moved: blue's task is kept for the bake and
/// its container dies. It is a crash of blue's task (a warning naming blue's
/// deployment), not of the rollout in progress: nothing counts toward green's
/// circuit breaker, green serves, and the rollout still completes without downtime.
#[test]
fn an_old_task_that_crashes_after_traffic_moved_is_no_failure_of_the_rollout() {
    let mut s = blue_green();
    let mut events = traffic_moved_to_green();
    events.extend([
        crash("blue1", BLUE, 3, 0, 300),
        deployment("SERVICE_DEPLOYMENT_COMPLETED", 150 + 16 * MIN, ""),
    ]);
    s.feed(&events).feed(&events).at(3600);
    assert_eq!(
        s.alerts(),
        [
            firing(AlertName::DeploymentStarted),
            firing(AlertName::TaskCrashed),
            firing(AlertName::DeploymentCompleted),
        ]
    );
    let crash =
        s.fx.alerts()
            .find(|a| a.alert == AlertName::TaskCrashed)
            .unwrap();
    assert_eq!(crash.severity, Severity::Warning);
    assert_eq!(crash.deployment_id.as_ref().map(|d| d.as_str()), Some(BLUE));
    assert!(
        !crash.summary.contains("circuit breaker"),
        "{}",
        crash.summary
    );
    let done =
        s.fx.alerts()
            .find(|a| a.alert == AlertName::DeploymentCompleted)
            .unwrap();
    assert!(done.summary.contains("downtime 0 s"), "{}", done.summary);
    assert_eq!(s.end_state(), RolloutState::Completed);
}

/// The approval's events come twice and the resume before the pause: the pause is
/// paged once and resolved once, its 12 minutes measured once, and the rollout never
/// counts the pause toward its deadline.
#[test]
fn duplicated_and_reordered_hook_events_page_the_pause_once() {
    let mut s = approval();
    let stage = "POST_TEST_TRAFFIC_SHIFT";
    let waits = hook("HOOK_AWAITING_ACTION", PAUSE, "PAUSE", stage, 120, 60);
    let goes_on = hook("HOOK_SUCCEEDED", PAUSE, "PAUSE", stage, 120 + 12 * MIN, 60);
    let mut events = green_runs_beside_blue();
    events.extend([
        goes_on.clone(),
        goes_on.clone(),
        waits.clone(),
        waits,
        goes_on,
    ]);
    s.feed(&events);
    let done = 120 + 12 * MIN + 15 * MIN;
    s.feed(&[
        task("blue1", BLUE, 3, 0, Some(done), done),
        deployment("SERVICE_DEPLOYMENT_COMPLETED", done + 30, ""),
    ])
    .at(3 * 3600);
    assert_eq!(
        s.alerts(),
        [
            firing(AlertName::DeploymentStarted),
            firing(AlertName::DeploymentPaused),
            resolved(AlertName::DeploymentPaused),
            firing(AlertName::DeploymentCompleted),
        ]
    );
    assert_eq!(s.metric(MetricName::DeploymentPausedTime), [720.0]);
    assert_eq!(s.end_state(), RolloutState::Completed);
}

/// A Lambda hook fails for a deployment whose start the watcher never saw (its
/// IN_PROGRESS event lost, only a task of it known): the failure still pages once,
/// naming the service deployment, and the watcher invents no rollout for it.
#[test]
fn a_hook_failure_of_a_deployment_never_seen_starting_pages_once() {
    let mut s = blue_green();
    let shift = "PRODUCTION_TRAFFIC_SHIFT";
    let events = [
        task("blue1", BLUE, 2, 0, None, 0),
        task("green1", GREEN, 2, 60, None, 60),
        hook("HOOK_IN_PROGRESS", LAMBDA_A, "AWS_LAMBDA", shift, 120, 10),
        hook("HOOK_FAILED", LAMBDA_A, "AWS_LAMBDA", shift, 150, 10),
    ];
    s.feed(&events).feed(&events).at(3600);
    assert_eq!(s.alerts(), [firing(AlertName::LifecycleHookFailed)]);
    let a = s.fx.alerts().next().unwrap();
    assert_eq!(a.deployment_id, None);
    assert!(
        a.summary
            .contains("service deployment 0EYSiB0qap8xf0N76FsbE"),
        "{}",
        a.summary
    );
    assert!(s.replay.rollouts().is_empty());
}

/// Two overlapping deployments: OLD is in progress when GREEN replaces it at 5
/// minutes. GREEN's approval pause (its own service deployment) is reported before
/// GREEN's IN_PROGRESS event, while OLD is still the only rollout open. Once GREEN's
/// start is known the pause is GREEN's: OLD's end does not resolve it, GREEN waits
/// `paused` (no stall while it does), and continuing it resolves it once.
#[test]
fn a_pause_reported_before_its_deployment_started_is_the_newer_rollouts() {
    let mut s = approval();
    let stage = "POST_TEST_TRAFFIC_SHIFT";
    let green_sd = SD.replace("0EYSiB0qap8xf0N76FsbE", "1AAAAAAAAAAAAAAAAAAAA");
    let green_pause =
        |name: &str, at: u32| hook(name, PAUSE, "PAUSE", stage, at, 60).replace(SD, &green_sd);
    s.feed(&[
        task("blue1", BLUE, 2, 0, None, 0),
        deployment_of(OLD, "SERVICE_DEPLOYMENT_IN_PROGRESS", 0, ""),
        task("old1", OLD, 2, 60, None, 60),
        task("green1", GREEN, 2, 6 * MIN, None, 6 * MIN),
        green_pause("HOOK_AWAITING_ACTION", 7 * MIN),
        deployment_of(GREEN, "SERVICE_DEPLOYMENT_IN_PROGRESS", 5 * MIN, ""),
    ])
    .at(40 * MIN);
    let paused = |s: &Story, status| {
        s.fx.alerts()
            .filter(|a| a.alert == AlertName::DeploymentPaused && a.status == status)
            .count()
    };
    assert_eq!(paused(&s, AlertStatus::Firing), 1);
    assert_eq!(paused(&s, AlertStatus::Resolved), 0, "{:?}", s.alerts());
    assert_eq!(s.fired(AlertName::DeploymentStalled), 0, "{:?}", s.alerts());
    assert_eq!(s.end_state_of(OLD), RolloutState::Superseded);
    assert_eq!(s.end_state(), RolloutState::Paused);
    s.feed(&[green_pause("HOOK_SUCCEEDED", 47 * MIN)])
        .at(48 * MIN);
    let end =
        s.fx.alerts()
            .filter(|a| a.status == AlertStatus::Resolved)
            .collect::<Vec<_>>();
    assert_eq!(end.len(), 1);
    assert_eq!(
        end[0].deployment_id.as_ref().map(|d| d.as_str()),
        Some(GREEN)
    );
    assert!(
        end[0].summary.contains("continued after 40 min"),
        "{}",
        end[0].summary
    );
    assert_eq!(s.metric(MetricName::DeploymentPausedTime), [2400.0]);
    assert_eq!(s.fired(AlertName::DeploymentStalled), 0);
}

/// Green's three tasks each crash a minute after starting, while blue serves all
/// production traffic.
fn green_crashes_three_times() -> Vec<String> {
    let mut events = vec![
        task("blue1", BLUE, 2, 0, None, 0),
        deployment("SERVICE_DEPLOYMENT_IN_PROGRESS", 0, ""),
    ];
    for (n, start) in [(1, 60), (2, 200), (3, 400)] {
        let id = format!("green{n}");
        events.push(task(&id, GREEN, 2, start, None, start));
        events.push(crash(&id, GREEN, 3, start, start + 60));
    }
    events
}

/// Blue/green with the circuit breaker on: green's tasks crash one after another
/// while blue serves all traffic. Each crash is a warning counting toward the
/// breaker, and the breaker's failure of the deployment is the page. No `crash_loop`
/// page besides: no request was lost, and the breaker, not the loop, decides what
/// ECS does next (the loop's words, "ECS keeps replacing tasks that die", would be
/// wrong).
#[test]
fn green_tasks_crashing_while_blue_serves_are_the_breakers_not_a_crash_loop() {
    let mut s = blue_green();
    let mut events = green_crashes_three_times();
    events.push(deployment(
        "SERVICE_DEPLOYMENT_FAILED",
        470,
        "ECS deployment circuit breaker: tasks failed to start.",
    ));
    s.feed(&events).feed(&events).at(3600);
    assert_eq!(
        s.alerts(),
        [
            firing(AlertName::DeploymentStarted),
            firing(AlertName::TaskCrashed),
            firing(AlertName::TaskCrashed),
            firing(AlertName::TaskCrashed),
            firing(AlertName::DeploymentFailed),
        ]
    );
    let third =
        s.fx.alerts()
            .filter(|a| a.alert == AlertName::TaskCrashed)
            .last()
            .unwrap();
    assert!(
        third
            .summary
            .contains("(3 of 3 toward the circuit breaker)"),
        "{}",
        third.summary
    );
    let failed =
        s.fx.alerts()
            .find(|a| a.alert == AlertName::DeploymentFailed)
            .unwrap();
    assert!(
        failed.summary.contains("3 new task(s) crashed"),
        "{}",
        failed.summary
    );
    assert_eq!(s.metric(MetricName::TaskCrashes), [1.0, 1.0, 1.0]);
}

/// The same crashes with the circuit breaker off: nothing will stop ECS replacing
/// green's tasks, so the loop pages, and no crash claims to count toward a breaker
/// the service does not have.
#[test]
fn without_a_circuit_breaker_green_tasks_crashing_are_a_crash_loop() {
    let mut cfg = config(DeploymentStrategy::BlueGreen, 15, vec![]);
    cfg.circuit_breaker = Some(false);
    cfg.rollback = Some(false);
    let mut s = Story::new(Some(cfg));
    s.feed(&green_crashes_three_times()).at(10 * MIN);
    assert_eq!(s.fired(AlertName::TaskCrashed), 3);
    assert_eq!(s.fired(AlertName::CrashLoop), 1);
    for a in s.fx.alerts().filter(|a| a.alert == AlertName::TaskCrashed) {
        assert!(!a.summary.contains("circuit breaker"), "{}", a.summary);
        assert_eq!(a.details.failures, None, "{}", a.summary);
    }
}

/// ECS's breaker may not count crashes of tasks that reached RUNNING (once one ran it
/// watches health checks only), so green can crash and be replaced until the
/// deadline. The stall then names the crashes: "health-check failures 0, tasks failed
/// to start 0" alone tells the on-call engineer that nothing went wrong.
#[test]
fn a_rollout_stalled_by_crashing_tasks_says_so() {
    let mut s = blue_green();
    s.feed(&green_crashes_three_times()).at(31 * MIN);
    let stalled =
        s.fx.alerts()
            .find(|a| a.alert == AlertName::DeploymentStalled)
            .unwrap();
    assert!(
        stalled
            .summary
            .contains("tasks failed to start 0, new tasks crashed 3)"),
        "{}",
        stalled.summary
    );
    assert_eq!(s.fired(AlertName::CrashLoop), 0);
}

/// A rolling deployment held by a pause hook that expires after an hour. ECS takes
/// the timeout action then, but its HOOK_TIMED_OUT event is lost and no other word
/// comes (replay has no API to ask; the functions' may fail). The pause holds the
/// deadline only until it expires: 15 minutes + the hour paused after the start, the
/// rollout is `deployment_stalled`, instead of waiting paused for ever.
#[test]
fn a_pause_whose_end_is_never_heard_holds_the_deadline_only_until_it_expires() {
    let cfg = rollout_watcher::core::ServiceConfig {
        lifecycle_hooks: vec![pause_hook("POST_SCALE_UP", "ROLLBACK")],
        ..config(DeploymentStrategy::Rolling, 0, vec![])
    };
    let mut s = Story::new(Some(cfg));
    let mut events = green_runs_beside_blue();
    events.push(hook(
        "HOOK_AWAITING_ACTION",
        PAUSE,
        "PAUSE",
        "POST_SCALE_UP",
        120,
        60,
    ));
    s.feed(&events).at(75 * MIN - 1);
    assert_eq!(s.fired(AlertName::DeploymentStalled), 0);
    assert_eq!(s.end_state(), RolloutState::Paused);
    s.at(75 * MIN).at(8 * 3600);
    assert_eq!(s.fired(AlertName::DeploymentStalled), 1);
    let stalled =
        s.fx.alerts()
            .find(|a| a.alert == AlertName::DeploymentStalled)
            .unwrap();
    assert!(
        stalled.summary.contains("after 1 h 15 min"),
        "{}",
        stalled.summary
    );
}

/// A blue/green deployment whose traffic hook fails, told with every signal ECS may
/// send for it: the hook's failure (an in-place rollback), the deployment's FAILED,
/// and a rollback deployment of its own, "rolling back to" blue. The rollback is
/// paged once, from whichever signal came first, and the rollback deployment is told
/// as one, completing without downtime.
#[test]
fn a_hook_rollback_told_in_place_and_as_a_rollback_deployment_pages_once() {
    let back = "ecs-svc/4444444444444444444";
    let shift = "PRODUCTION_TRAFFIC_SHIFT";
    let mut s = blue_green();
    let mut events = green_runs_beside_blue();
    events.extend([
        hook("HOOK_IN_PROGRESS", LAMBDA_A, "AWS_LAMBDA", shift, 120, 10),
        hook("HOOK_FAILED", LAMBDA_A, "AWS_LAMBDA", shift, 150, 10),
        deployment(
            "SERVICE_DEPLOYMENT_FAILED",
            151,
            "deployment failed: hook execution failure(s) detected",
        ),
        deployment_of(
            back,
            "SERVICE_DEPLOYMENT_IN_PROGRESS",
            152,
            &format!("ECS deployment circuit breaker: rolling back to deploymentId {BLUE}."),
        ),
        task("green1", GREEN, 3, 60, Some(200), 200),
        deployment_of(back, "SERVICE_DEPLOYMENT_COMPLETED", 260, ""),
    ]);
    s.feed(&events).feed(&events).at(3600);
    assert_eq!(
        s.alerts(),
        [
            firing(AlertName::DeploymentStarted),
            firing(AlertName::LifecycleHookFailed),
            firing(AlertName::DeploymentRolledBack),
            firing(AlertName::DeploymentFailed),
            firing(AlertName::DeploymentStarted),
            firing(AlertName::DeploymentCompleted),
        ]
    );
    assert_eq!(s.metric(MetricName::DeploymentRolledBack), [1.0]);
    assert_eq!(s.end_state(), RolloutState::RolledBack);
    assert_eq!(s.end_state_of(back), RolloutState::Completed);
    let done =
        s.fx.alerts()
            .find(|a| a.alert == AlertName::DeploymentCompleted)
            .unwrap();
    assert!(done.summary.contains("downtime 0 s"), "{}", done.summary);
}
