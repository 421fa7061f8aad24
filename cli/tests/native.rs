//! The simulator's ECS-native scenarios through the watcher, with the configuration
//! `replay --describe-services` gives it (the simulator's own describe-services
//! output, read by audit's reader): each ends as the simulator says, none stalls, a
//! pause pages and resolves once, a rollback fails its hook.
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

use rollout_watcher::core::{AlertName, AlertStatus, Effects, MetricName, Settings};
use rollout_watcher::model::{ServiceArn, Timestamp};
use rollout_watcher::replay::Replay;
use rollout_watcher_cli::audit::parse_describe_services;
use rollout_watcher_cli::simulate::{Params, Scenario, describe_services, simulate};

/// Replays a scenario told its service's configuration, then an hour more.
fn run(p: &Params) -> (Effects, Replay) {
    let sim = simulate(p).unwrap();
    let described = parse_describe_services("sim", &describe_services(p).to_string()).unwrap();
    let record = &described.services[0];
    let mut replay = Replay::new(Settings::default());
    let service = ServiceArn::parse(record.arn.as_deref().unwrap()).unwrap();
    replay.set_config(&service, record.config.clone());
    let mut fx = Effects::default();
    let mut last = Timestamp::from_millis(0);
    for e in &sim.events {
        fx.extend(replay.apply_json(&e.to_string()).unwrap());
        last = last.max(e["time"].as_str().and_then(Timestamp::parse).unwrap());
    }
    fx.extend(replay.tick_all(Timestamp::from_millis(last.as_millis() + 3_600_000)));
    (fx, replay)
}

fn count(fx: &Effects, name: AlertName, status: AlertStatus) -> usize {
    fx.alerts()
        .filter(|a| a.alert == name && a.status == status)
        .count()
}

#[test]
fn every_native_scenario_ends_as_the_simulator_says_and_never_stalls() {
    for scenario in Scenario::NATIVE {
        for desired in [1, 3] {
            let mut p = Params::defaults(scenario);
            p.desired = desired;
            let sim = simulate(&p).unwrap();
            let (fx, replay) = run(&p);
            let main = replay.rollouts().last().unwrap().state;
            assert_eq!(
                main.as_str(),
                sim.expected.final_state,
                "{scenario} {desired}"
            );
            assert_eq!(
                count(&fx, AlertName::DeploymentStalled, AlertStatus::Firing),
                0,
                "{scenario} {desired}"
            );
            let paged_zero = fx.alerts().any(|a| a.alert == AlertName::ZeroRunningTasks);
            assert_eq!(paged_zero, sim.expected.downtime, "{scenario} {desired}");
            assert!(fx.stages().count() >= 1, "{scenario}: a stage effect");
        }
    }
}

/// blue-green-paused: the approval pause pages once when it begins and resolves once
/// when someone continues, 12 minutes later.
#[test]
fn the_paused_blue_green_pages_once_and_measures_twelve_minutes() {
    let (fx, _) = run(&Params::defaults(Scenario::BlueGreenPaused));
    assert_eq!(
        count(&fx, AlertName::DeploymentPaused, AlertStatus::Firing),
        1
    );
    assert_eq!(
        count(&fx, AlertName::DeploymentPaused, AlertStatus::Resolved),
        1
    );
    let paused: Vec<f64> = fx
        .metrics()
        .filter(|m| m.name == MetricName::DeploymentPausedTime)
        .map(|m| m.value)
        .collect();
    assert_eq!(paused.len(), 1);
    assert!((paused[0] - 720.0).abs() < 1.0, "{paused:?}");
}

/// hook-rollback: the pause answered ROLLBACK fails the hook and rolls back, once each.
#[test]
fn the_hook_rollback_fails_the_hook_and_rolls_back_once() {
    let (fx, _) = run(&Params::defaults(Scenario::HookRollback));
    for name in [
        AlertName::LifecycleHookFailed,
        AlertName::DeploymentRolledBack,
        AlertName::DeploymentPaused,
    ] {
        assert_eq!(count(&fx, name, AlertStatus::Firing), 1, "{name:?}");
    }
}

/// Linear and canary shift traffic in steps; the canary's hook sits at production
/// traffic shift, so its bake shows in the events (the linear one's hooks run before
/// each shift: its bakes are known from the configuration only). Neither stalls.
#[test]
fn linear_and_canary_shift_in_steps_and_bake_without_a_stall() {
    for scenario in [Scenario::Linear, Scenario::Canary] {
        let (fx, replay) = run(&Params::defaults(scenario));
        let states: Vec<&str> = fx
            .items
            .iter()
            .filter_map(|e| match e {
                rollout_watcher::core::Effect::Transition(t) => Some(t.to.as_str()),
                _ => None,
            })
            .collect();
        assert!(states.contains(&"shifting"), "{scenario}: {states:?}");
        if scenario == Scenario::Canary {
            assert!(states.contains(&"baking"), "{scenario}: {states:?}");
        }
        assert!(!states.contains(&"stalled"), "{scenario}: {states:?}");
        assert_eq!(
            replay.rollouts().last().unwrap().state.as_str(),
            "completed"
        );
    }
}

/// `replay --describe-services FILE` reads what `simulate --describe-services-out`
/// wrote (the JSON `aws ecs describe-services` prints): with it, the paused
/// blue/green's 15-minute bake is no stall and a pause's stage is a `stage` line;
/// without it the bake is unknown and the rollout is flagged. With the zero-running
/// scenario's settings it raises `unsafe_deployment_config`, as the functions do.
#[test]
fn replay_reads_describe_services_and_follows_the_settings() {
    use std::process::Command;
    let bin = env!("CARGO_BIN_EXE_rollout-watcher");
    let dir = std::env::temp_dir();
    let run = |scenario: &str, with_settings: bool| -> Vec<serde_json::Value> {
        let ds = dir.join(format!("rw-native-{}-{scenario}.json", std::process::id()));
        let events = dir.join(format!("rw-native-{}-{scenario}.jsonl", std::process::id()));
        let sim = Command::new(bin)
            .args([
                "simulate",
                "--scenario",
                scenario,
                "--describe-services-out",
            ])
            .arg(&ds)
            .output()
            .unwrap();
        assert!(
            sim.status.success(),
            "{}",
            String::from_utf8_lossy(&sim.stderr)
        );
        std::fs::write(&events, &sim.stdout).unwrap();
        let mut replay = Command::new(bin);
        replay.args([
            "replay",
            "--format",
            "json",
            "--now",
            "2026-03-02T14:00:00Z",
        ]);
        if with_settings {
            replay.arg("--describe-services").arg(&ds);
        }
        let out = replay.arg(&events).output().unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let _ = (std::fs::remove_file(&ds), std::fs::remove_file(&events));
        String::from_utf8(out.stdout)
            .unwrap()
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect()
    };
    let alerts = |lines: &[serde_json::Value], name: &str| {
        let named = |l: &&serde_json::Value| l["type"] == "alert" && l["alert"] == name;
        lines.iter().filter(named).count()
    };
    let with = run("blue-green-paused", true);
    assert_eq!(alerts(&with, "deployment_stalled"), 0);
    assert_eq!(alerts(&with, "deployment_paused"), 2, "fired and resolved");
    let stage = with.iter().find(|l| l["type"] == "stage").unwrap();
    assert_eq!(stage["stage"], "POST_TEST_TRAFFIC_SHIFT");
    assert!(
        stage["deployment_id"]
            .as_str()
            .unwrap()
            .starts_with("ecs-svc/")
    );
    let without = run("blue-green-paused", false);
    assert_eq!(
        alerts(&without, "deployment_stalled"),
        2,
        "fired and resolved"
    );
    assert_eq!(
        alerts(&run("zero-running", true), "unsafe_deployment_config"),
        1
    );
    assert_eq!(
        alerts(&run("zero-running", false), "unsafe_deployment_config"),
        0
    );
}
