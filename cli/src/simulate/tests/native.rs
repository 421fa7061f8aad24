//! The ECS-native scenarios, told as the stories ECS's documentation tells: the stage
//! order, green beside blue, the hooks and their events (in the shape of AWS's own
//! sample), the pause, the bakes, COMPLETED only once blue is gone, and the rollback
//! that keeps blue serving.

use serde_json::Value;

use super::check::text;
use super::{deployment_events, deployments, ms, run, task_events};
use crate::simulate::clock::parse;
use crate::simulate::{Params, Scenario, Simulation, describe_services, simulate};

/// AWS's own `ECS Hook State Change` example.
const SAMPLE: &str = include_str!(concat!(
    "../../../../tests/fixtures/samples/",
    "hook-state-change-awaiting-action.json"
));

const MINUTE: u64 = 60_000;

fn hook_events(sim: &Simulation) -> Vec<&Value> {
    let hook = |e: &&Value| e["detail-type"] == "ECS Hook State Change";
    sim.events.iter().filter(hook).collect()
}

fn stage_names(sim: &Simulation) -> Vec<&str> {
    sim.stages.iter().map(|s| s.stage).collect()
}

fn stage_at(sim: &Simulation, stage: &str) -> u64 {
    let mark = sim
        .stages
        .iter()
        .find(|s| s.stage == stage && !s.rolling_back);
    mark.unwrap().at_ms
}

fn event_named<'a>(sim: &'a Simulation, name: &str) -> &'a Value {
    sim.events
        .iter()
        .find(|e| e["detail"]["eventName"] == name)
        .unwrap()
}

fn keys(v: &Value) -> Vec<&str> {
    let mut k: Vec<&str> = v.as_object().unwrap().keys().map(String::as_str).collect();
    k.sort_unstable();
    k
}

#[test]
fn every_native_scenario_prints_the_same_bytes_for_the_same_seed() {
    for scenario in Scenario::NATIVE {
        let p = Params::defaults(scenario);
        let lines = |p: &Params| -> Vec<String> {
            let sim = simulate(p).unwrap();
            sim.events.iter().map(|e| e.to_string()).collect()
        };
        assert_eq!(lines(&p), lines(&p), "{scenario}");
        assert_eq!(describe_services(&p), describe_services(&p), "{scenario}");
        let other = Params {
            seed: 2,
            ..p.clone()
        };
        let hook_id = |p: &Params| {
            let sim = simulate(p).unwrap();
            text(&hook_events(&sim)[0]["detail"]["hookId"]).to_owned()
        };
        assert_ne!(hook_id(&p), hook_id(&other), "{scenario}");
        for desired in [1, 3, 10] {
            let p = Params {
                desired,
                ..p.clone()
            };
            run(&p); // the invariant checker: time order, versions, floor, ceiling
        }
    }
}

/// BLUE_GREEN, desired 1, bake 15 min: green starts beside blue, the stages come in
/// the documented order, and blue is stopped only at CLEAN_UP, after the bake.
#[test]
fn blue_green_shifts_at_once_bakes_then_stops_blue_and_completes() {
    let p = Params::defaults(Scenario::BlueGreen);
    let sim = run(&p);
    assert_eq!(
        stage_names(&sim),
        [
            "PRE_SCALE_UP",
            "SCALE_UP",
            "POST_SCALE_UP",
            "TEST_TRAFFIC_SHIFT",
            "POST_TEST_TRAFFIC_SHIFT",
            "PRE_PRODUCTION_TRAFFIC_SHIFT",
            "PRODUCTION_TRAFFIC_SHIFT",
            "POST_PRODUCTION_TRAFFIC_SHIFT",
            "BAKE_TIME",
            "CLEAN_UP"
        ]
    );
    assert!(sim.stages.windows(2).all(|w| w[0].at_ms <= w[1].at_ms));
    let ids = deployments(&sim);
    let (blue, green) = (task_events(&sim, &ids[0]), task_events(&sim, &ids[1]));
    let green_running = green
        .iter()
        .find(|e| e["detail"]["lastStatus"] == "RUNNING")
        .unwrap();
    let blue_stop = blue
        .iter()
        .find(|e| e["detail"]["desiredStatus"] == "STOPPED")
        .unwrap();
    // 200 %: both run until CLEAN_UP; blue is stopped by the scheduler for green.
    assert!(ms(blue_stop, "stoppingAt") >= stage_at(&sim, "CLEAN_UP"));
    assert!(ms(green_running, "startedAt") < stage_at(&sim, "TEST_TRAFFIC_SHIFT"));
    assert_eq!(
        blue_stop["detail"]["stoppedReason"],
        format!("Scaling activity initiated by (deployment {})", ids[1])
    );
    let bake = stage_at(&sim, "CLEAN_UP") - stage_at(&sim, "BAKE_TIME");
    assert!((15 * MINUTE..15 * MINUTE + 2_000).contains(&bake), "{bake}");
    let names: Vec<_> = deployment_events(&sim).iter().map(|e| e.0).collect();
    assert_eq!(
        names,
        [
            "SERVICE_DEPLOYMENT_IN_PROGRESS",
            "SERVICE_DEPLOYMENT_COMPLETED"
        ]
    );
    let completed = ms(
        event_named(&sim, "SERVICE_DEPLOYMENT_COMPLETED"),
        "updatedAt",
    );
    let blue_stopped = blue.last().unwrap();
    assert_eq!(blue_stopped["detail"]["lastStatus"], "STOPPED");
    assert!(completed > ms(blue_stopped, "stoppedAt"));
    let hooks: Vec<_> = hook_events(&sim)
        .iter()
        .map(|e| {
            (
                text(&e["detail"]["eventName"]),
                text(&e["detail"]["hookType"]),
            )
        })
        .collect();
    assert_eq!(
        hooks,
        [
            ("HOOK_IN_PROGRESS", "AWS_LAMBDA"),
            ("HOOK_SUCCEEDED", "AWS_LAMBDA")
        ]
    );
    let e = &sim.expected;
    assert_eq!(
        (e.final_state, e.stalls, e.downtime),
        ("completed", false, false)
    );
}

/// Every hook event has exactly the envelope and detail keys of AWS's sample, with its
/// formats: nanosecond `updatedAt`, whole-second `expiresAt` = the start's second plus
/// the timeout, the service-deployment ARN in `resources` and in the detail.
#[test]
fn hook_events_have_the_shape_of_the_aws_sample() {
    let sample: Value = serde_json::from_str(SAMPLE).unwrap();
    for scenario in Scenario::NATIVE {
        let p = Params::defaults(scenario);
        let sim = run(&p);
        let timeout = u64::from(p.native.as_ref().unwrap().hooks[0].timeout_minutes);
        let events = hook_events(&sim);
        assert!(events.len() >= 2, "{scenario}");
        for e in events {
            let e: Value = serde_json::from_str(&e.to_string()).unwrap();
            let d = &e["detail"];
            assert_eq!(keys(&e), keys(&sample), "{scenario}");
            assert_eq!(keys(d), keys(&sample["detail"]), "{scenario}");
            let updated = text(&d["updatedAt"]);
            let fraction = updated.split_once('.').unwrap().1;
            assert_eq!(fraction.len(), 10, "{updated}: nine digits and Z");
            let expires = text(&d["expiresAt"]);
            assert_eq!(expires.len(), 20, "{expires}");
            let arn = text(&d["serviceDeploymentArn"]);
            let prefix = "arn:aws:ecs:eu-west-1:123456789012:service-deployment/demo-cluster/web/";
            assert_eq!(arn.strip_prefix(prefix).unwrap().len(), 21, "{arn}");
            assert_eq!(e["resources"][0], arn);
            assert_eq!(d["serviceArn"], sample_like_service_arn());
            let id = text(&d["hookId"]);
            let tail = id
                .strip_prefix("ecs-pause-")
                .or(id.strip_prefix("ecs-lambda-"));
            assert_eq!(tail.unwrap().len(), 43, "{id}");
            if d["eventName"] == "HOOK_AWAITING_ACTION" || d["eventName"] == "HOOK_IN_PROGRESS" {
                let start = parse(updated).unwrap() / 1_000 * 1_000;
                assert_eq!(parse(expires), Some(start + timeout * MINUTE));
            }
        }
    }
}

fn sample_like_service_arn() -> &'static str {
    "arn:aws:ecs:eu-west-1:123456789012:service/demo-cluster/web"
}

/// The PAUSE hook holds the deployment for the 12 minutes nobody answered, then the
/// 15-minute bake runs, and only then is blue stopped and the deployment COMPLETED.
#[test]
fn a_paused_blue_green_waits_twelve_minutes_for_approval_then_bakes_fifteen() {
    let p = Params::defaults(Scenario::BlueGreenPaused);
    let sim = run(&p);
    let hooks = hook_events(&sim);
    let names: Vec<_> = hooks
        .iter()
        .map(|e| text(&e["detail"]["eventName"]))
        .collect();
    assert_eq!(names, ["HOOK_AWAITING_ACTION", "HOOK_SUCCEEDED"]);
    assert_eq!(hooks[0]["detail"]["hookId"], hooks[1]["detail"]["hookId"]);
    assert_eq!(
        hooks[0]["detail"]["lifecycleStage"],
        "POST_TEST_TRAFFIC_SHIFT"
    );
    let paused = ms(hooks[1], "updatedAt") - ms(hooks[0], "updatedAt");
    assert_eq!(paused, 12 * MINUTE);
    // Nothing moves while paused: production traffic still on blue.
    let pre_prod = stage_at(&sim, "PRE_PRODUCTION_TRAFFIC_SHIFT");
    assert!(pre_prod >= ms(hooks[1], "updatedAt"));
    let completed = ms(
        event_named(&sim, "SERVICE_DEPLOYMENT_COMPLETED"),
        "updatedAt",
    );
    assert!(completed >= ms(hooks[1], "updatedAt") + 15 * MINUTE);
    assert!(completed > stage_at(&sim, "CLEAN_UP"));
    assert!(stage_at(&sim, "CLEAN_UP") >= stage_at(&sim, "BAKE_TIME") + 15 * MINUTE);
    assert_eq!(sim.expected.final_state, "completed");
    assert!(!sim.expected.downtime);
}

/// CANARY 10 % then 100 % with a 10-minute canary bake; LINEAR 25 % steps with
/// 3-minute step bakes and none after the last step. Hooks at a recurring stage run
/// at every step, each with a new hookId.
#[test]
fn canary_and_linear_shift_in_documented_steps_with_a_hook_per_step() {
    for (scenario, weights, step_bake, hook_stage) in [
        (
            Scenario::Canary,
            vec![10, 100],
            10,
            "PRODUCTION_TRAFFIC_SHIFT",
        ),
        (
            Scenario::Linear,
            vec![25, 50, 75, 100],
            3,
            "PRE_PRODUCTION_TRAFFIC_SHIFT",
        ),
    ] {
        let sim = run(&Params::defaults(scenario));
        let shifts: Vec<_> = sim
            .stages
            .iter()
            .filter(|s| s.stage == "PRODUCTION_TRAFFIC_SHIFT")
            .collect();
        let got: Vec<u32> = shifts.iter().map(|s| s.production_percent).collect();
        assert_eq!(got, weights, "{scenario}");
        for w in shifts.windows(2) {
            assert!(w[1].at_ms - w[0].at_ms >= step_bake * MINUTE, "{scenario}");
        }
        // The last step goes straight on: no step bake after 100 %.
        let after = stage_at(&sim, "POST_PRODUCTION_TRAFFIC_SHIFT") - shifts.last().unwrap().at_ms;
        assert!(after < MINUTE, "{scenario}: {after}");
        let starts: Vec<_> = hook_events(&sim)
            .into_iter()
            .filter(|e| e["detail"]["eventName"] == "HOOK_IN_PROGRESS")
            .collect();
        assert_eq!(starts.len(), weights.len(), "{scenario}");
        let mut ids: Vec<_> = starts
            .iter()
            .map(|e| text(&e["detail"]["hookId"]))
            .collect();
        ids.dedup();
        assert_eq!(
            ids.len(),
            weights.len(),
            "{scenario}: a new hookId per step"
        );
        assert!(
            starts
                .iter()
                .all(|e| e["detail"]["lifecycleStage"] == hook_stage)
        );
        assert_eq!(sim.expected.final_state, "completed", "{scenario}");
        assert!(!sim.expected.downtime, "{scenario}");
    }
}

/// Someone answers the pause with ROLLBACK: the hook FAILS, the deployment fails,
/// test traffic goes back to blue, green is stopped, and blue serves throughout.
#[test]
fn a_pause_answered_rollback_moves_traffic_back_and_stops_green() {
    let p = Params::defaults(Scenario::HookRollback);
    let sim = run(&p);
    let names: Vec<_> = hook_events(&sim)
        .iter()
        .map(|e| text(&e["detail"]["eventName"]))
        .collect();
    assert_eq!(names, ["HOOK_AWAITING_ACTION", "HOOK_FAILED"]);
    let failed = ms(event_named(&sim, "HOOK_FAILED"), "updatedAt");
    let deployment: Vec<_> = deployment_events(&sim).iter().map(|e| e.0).collect();
    assert_eq!(
        deployment,
        [
            "SERVICE_DEPLOYMENT_IN_PROGRESS",
            "SERVICE_DEPLOYMENT_FAILED"
        ]
    );
    let back = sim.stages.iter().find(|s| s.rolling_back).unwrap();
    assert_eq!(
        (back.stage, back.test_percent, back.production_percent),
        ("TEST_TRAFFIC_SHIFT", 0, 0)
    );
    assert!(back.at_ms >= failed);
    assert!(!stage_names(&sim).contains(&"PRODUCTION_TRAFFIC_SHIFT"));
    let ids = deployments(&sim);
    let green = task_events(&sim, &ids[1]);
    assert_eq!(green.last().unwrap()["detail"]["lastStatus"], "STOPPED");
    assert!(ms(green.last().unwrap(), "stoppingAt") >= failed);
    let blue = task_events(&sim, &ids[0]);
    assert!(
        blue.iter()
            .all(|e| e["detail"]["desiredStatus"] == "RUNNING")
    );
    let e = &sim.expected;
    assert_eq!(
        (e.final_state, e.stalls, e.downtime),
        ("rolled_back", false, false)
    );
    assert_eq!(
        sim.events.last().unwrap()["detail"]["eventName"],
        "SERVICE_STEADY_STATE"
    );
}

/// A pause nobody answers before its timeout: HOOK_TIMED_OUT, then the timeout action.
#[test]
fn an_unanswered_pause_times_out_into_its_timeout_action() {
    let mut p = Params::defaults(Scenario::BlueGreenPaused);
    let native = p.native.as_mut().unwrap();
    native.hooks[0].timeout_minutes = 10; // answered after 12: too late
    let sim = run(&p);
    let names: Vec<_> = hook_events(&sim)
        .iter()
        .map(|e| text(&e["detail"]["eventName"]))
        .collect();
    assert_eq!(names, ["HOOK_AWAITING_ACTION", "HOOK_TIMED_OUT"]);
    assert_eq!(sim.expected.final_state, "rolled_back");
    p.native.as_mut().unwrap().hooks[0].timeout_action = crate::simulate::HookAction::Continue;
    assert_eq!(run(&p).expected.final_state, "completed");
}

/// The describe-services output is what `audit` (and `replay --describe-services`)
/// read, and carries the strategy, bake time, hooks and step settings by wire name.
#[test]
fn describe_services_out_matches_the_scenario_and_audit_reads_it() {
    for scenario in Scenario::every() {
        let p = Params::defaults(scenario);
        let json = describe_services(&p).to_string();
        let described = crate::audit::parse_describe_services("sim", &json).unwrap();
        let config = &described.services[0].config;
        assert_eq!(config.desired_count, Some(p.desired));
        assert_eq!(config.min_healthy_percent, Some(p.min_healthy_percent));
        assert_eq!(config.max_percent, Some(p.max_percent));
        assert_eq!(config.circuit_breaker, Some(p.circuit_breaker));
    }
    let linear: Value = describe_services(&Params::defaults(Scenario::Linear));
    let dc = &linear["services"][0]["deploymentConfiguration"];
    assert_eq!(dc["strategy"], "LINEAR");
    assert_eq!(dc["bakeTimeInMinutes"], 5);
    assert_eq!(dc["linearConfiguration"]["stepPercent"], 25.0);
    assert_eq!(dc["linearConfiguration"]["stepBakeTimeInMinutes"], 3);
    let hook = &dc["lifecycleHooks"][0];
    assert_eq!(hook["targetType"], "AWS_LAMBDA");
    assert_eq!(hook["lifecycleStages"][0], "PRE_PRODUCTION_TRAFFIC_SHIFT");
    assert_eq!(hook["timeoutConfiguration"]["action"], "ROLLBACK");
    assert!(text(&hook["hookTargetArn"]).starts_with("arn:aws:lambda:eu-west-1:"));
    let paused = describe_services(&Params::defaults(Scenario::BlueGreenPaused));
    let pause = &paused["services"][0]["deploymentConfiguration"]["lifecycleHooks"][0];
    assert_eq!(
        keys(pause),
        ["lifecycleStages", "targetType", "timeoutConfiguration"]
    );
    assert_eq!(pause["timeoutConfiguration"]["timeoutInMinutes"], 60);
    let rolling = describe_services(&Params::defaults(Scenario::Success));
    assert_eq!(
        rolling["services"][0]["deploymentConfiguration"]["strategy"],
        "ROLLING"
    );
}

/// The header a user reads first: today's demo line for rolling scenarios, plus the
/// strategy, bake time and hooks for native ones.
#[test]
fn the_header_names_strategy_bake_time_and_hooks() {
    assert_eq!(
        Params::defaults(Scenario::Success).header(),
        "desired 1, minimum healthy 100%, maximum 200%, circuit breaker on (rollback)"
    );
    assert_eq!(
        Params::defaults(Scenario::BlueGreenPaused).header(),
        "desired 1, minimum healthy 100%, maximum 200%, circuit breaker on (rollback), \
         strategy BLUE_GREEN, bake time 15 min, hooks: PAUSE at POST_TEST_TRAFFIC_SHIFT \
         (timeout 60 min, then ROLLBACK)"
    );
    assert!(
        Params::defaults(Scenario::Canary)
            .header()
            .contains("CANARY (10%, 10 min canary bake)")
    );
    for s in Scenario::NATIVE {
        assert_eq!(s.name().parse::<Scenario>(), Ok(s));
    }
}
