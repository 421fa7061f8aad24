//! Scenario tests: each runs a simulation, replays it through the invariant checker
//! (`check.rs`) and then asserts on the story the events tell.

#![allow(
    clippy::unwrap_used,
    reason = "in a test a panic is the failure report; the workspace warns on unwrap"
)]

mod check;
mod native;
mod scenarios;

use serde_json::Value;

use super::rules::Limits;
use super::{Params, Scenario, Simulation, simulate};
use check::{check_invariants, text};

/// Simulates and checks every ECS invariant before the scenario's own assertions.
fn run(params: &Params) -> Simulation {
    let sim = simulate(params).unwrap();
    check_invariants(params, &sim);
    sim
}

fn params(scenario: Scenario, tweak: impl FnOnce(&mut Params)) -> Params {
    let mut p = Params::defaults(scenario);
    tweak(&mut p);
    p
}

/// `(eventName, deploymentId, reason)` of every deployment event.
fn deployment_events(sim: &Simulation) -> Vec<(&str, &str, &str)> {
    sim.events
        .iter()
        .filter(|e| e["detail-type"] == "ECS Deployment State Change")
        .map(|e| {
            let d = &e["detail"];
            (
                text(&d["eventName"]),
                text(&d["deploymentId"]),
                text(&d["reason"]),
            )
        })
        .collect()
}

/// The task events of the tasks started by deployment `id`.
fn task_events<'a>(sim: &'a Simulation, id: &str) -> Vec<&'a Value> {
    let of = |e: &&Value| e["detail"]["startedBy"] == id;
    sim.events.iter().filter(of).collect()
}

fn stopped_with<'a>(events: &[&'a Value], code: &str) -> Vec<&'a Value> {
    let is =
        |e: &&&Value| e["detail"]["lastStatus"] == "STOPPED" && e["detail"]["stopCode"] == code;
    events.iter().filter(is).copied().collect()
}

/// The deployment ids in order of appearance: D0 (from the first task event), D1, ….
fn deployments(sim: &Simulation) -> Vec<String> {
    let mut ids = vec![text(&sim.events[0]["detail"]["startedBy"]).to_owned()];
    for (_, id, _) in deployment_events(sim) {
        if !ids.iter().any(|known| known == id) {
            ids.push(id.to_owned());
        }
    }
    ids
}

fn ms(event: &Value, key: &str) -> u64 {
    super::clock::parse(text(&event["detail"][key])).unwrap_or_default()
}

/// Settings where the ceiling is at most desired and the floor at least desired: ECS
/// can neither start nor stop a task. D1 is IN_PROGRESS and then nothing happens.
#[test]
fn stall_settings_produce_no_task_events_for_the_rollout() {
    let stalling = [(1, 100, 100), (2, 75, 100), (3, 100, 125), (7, 100, 100)];
    for scenario in Scenario::ALL {
        for (desired, min, max) in stalling {
            let p = params(scenario, |p| {
                (p.desired, p.min_healthy_percent, p.max_percent) = (desired, min, max);
            });
            assert!(Limits::new(desired, min, max).deadlocks(desired));
            let sim = run(&p);
            let d1 = deployments(&sim)[1].clone();
            assert!(
                task_events(&sim, &d1).is_empty(),
                "{scenario} {desired}/{min}/{max}"
            );
            if scenario != Scenario::Superseded {
                assert_eq!(sim.events.len(), desired as usize + 1);
                assert_eq!(sim.expected.final_state, "stalled");
            }
            assert!(sim.expected.stalls && !sim.expected.downtime);
        }
    }
}

/// The invariant checker over every scenario and a spread of settings, odd percents
/// and large services included.
#[test]
fn ecs_math_holds_for_every_scenario_and_many_settings() {
    let settings = [
        (1, 100, 200),
        (1, 0, 100),
        (1, 0, 200),
        (1, 50, 150),
        (2, 50, 100),
        (3, 33, 167),
        (4, 50, 100),
        (5, 100, 150),
        (7, 75, 125),
        (10, 0, 100),
        (12, 90, 110),
        (25, 100, 200),
        (25, 50, 100),
        (50, 100, 200),
        (50, 67, 133),
    ];
    for scenario in Scenario::ALL {
        for (i, (desired, min, max)) in settings.into_iter().enumerate() {
            for breaker in [true, false] {
                let p = params(scenario, |p| {
                    (p.desired, p.min_healthy_percent, p.max_percent) = (desired, min, max);
                    (p.circuit_breaker, p.seed) = (breaker, i as u64 + 7);
                });
                let sim = run(&p);
                let deadlock = Limits::new(desired, min, max).deadlocks(desired);
                let d1 = deployments(&sim)[1].clone();
                assert_eq!(task_events(&sim, &d1).is_empty(), deadlock, "{p:?}");
                if scenario == Scenario::Success {
                    let end = if deadlock { "stalled" } else { "completed" };
                    assert_eq!(sim.expected.final_state, end, "{p:?}");
                }
            }
        }
    }
}

/// Same params, same bytes; another seed, other ids.
#[test]
fn output_is_deterministic_per_seed() {
    for scenario in Scenario::ALL {
        let p = Params::defaults(scenario);
        let lines = |p: &Params| -> Vec<String> {
            simulate(p)
                .unwrap()
                .events
                .iter()
                .map(|e| serde_json::to_string(e).unwrap())
                .collect()
        };
        assert_eq!(lines(&p), lines(&p), "{scenario}");
        let other = params(scenario, |p| p.seed = 2);
        let (a, b) = (simulate(&p).unwrap(), simulate(&other).unwrap());
        assert_ne!(a.events[0]["id"], b.events[0]["id"]);
        assert_ne!(deployments(&a), deployments(&b));
        assert_ne!(
            a.events[0]["detail"]["taskArn"],
            b.events[0]["detail"]["taskArn"]
        );
    }
}

/// Keys are inserted sorted, so output bytes do not depend on serde_json's
/// `preserve_order` feature.
#[test]
fn every_object_has_sorted_keys() {
    fn sorted(v: &Value) -> bool {
        match v {
            Value::Object(map) => {
                let keys: Vec<_> = map.keys().collect();
                keys.windows(2).all(|w| w[0] <= w[1]) && map.values().all(sorted)
            }
            Value::Array(items) => items.iter().all(sorted),
            _ => true,
        }
    }
    for scenario in Scenario::ALL {
        assert!(run(&Params::defaults(scenario)).events.iter().all(sorted));
    }
}

#[test]
fn scenario_names_round_trip_and_defaults_follow_the_brief() {
    for scenario in Scenario::ALL {
        assert_eq!(scenario.to_string().parse::<Scenario>(), Ok(scenario));
    }
    assert!(
        "nope"
            .parse::<Scenario>()
            .unwrap_err()
            .to_string()
            .contains("bad-image")
    );
    let zero = Params::defaults(Scenario::ZeroRunning);
    assert_eq!((zero.min_healthy_percent, zero.max_percent), (0, 100));
    let stalled = Params::defaults(Scenario::Stalled);
    assert_eq!(
        (
            stalled.desired,
            stalled.min_healthy_percent,
            stalled.max_percent
        ),
        (1, 100, 100)
    );
    let success = Params::defaults(Scenario::Success);
    assert_eq!(
        (
            success.min_healthy_percent,
            success.max_percent,
            success.seed
        ),
        (100, 200, 1)
    );
    assert!(simulate(&params(Scenario::Success, |p| p.desired = 0)).is_err());
    assert!(simulate(&params(Scenario::Success, |p| p.cluster.clear())).is_err());
}
