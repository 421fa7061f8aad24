//! Properties of the watcher over simulated streams: duplicates change nothing, and
//! reordering neighbours keeps the final rollout states and summaries. The streams
//! end with some crashes of serving tasks (exit 2 or killed for memory, minutes
//! apart), so crash and crash-loop effects are under the same properties.
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

use proptest::prelude::*;
use rollout_watcher::core::{AlertName, Effect, Settings};
use rollout_watcher::model::Timestamp;
use rollout_watcher::replay::Replay;
use rollout_watcher_cli::replay::rollout_json;
use rollout_watcher_cli::simulate::{Params, Scenario, simulate};

fn stream(scenario: usize, desired: u32, seed: u64, crashes: u32) -> Vec<String> {
    let every: Vec<Scenario> = Scenario::every().collect();
    let mut p = Params::defaults(every[scenario % every.len()]);
    p.desired = desired;
    p.seed = seed;
    let events: Vec<serde_json::Value> = simulate(&p).unwrap().events;
    let mut out: Vec<String> = events.iter().map(|e| e.to_string()).collect();
    out.extend(crashes_after(&events, crashes, seed));
    out
}

/// `n` serving tasks of the stream's service that crash after its last event, four
/// minutes apart, as AWS sends their RUNNING and STOPPED events.
fn crashes_after(events: &[serde_json::Value], n: u32, seed: u64) -> Vec<String> {
    let Some(task) = events
        .iter()
        .rev()
        .find(|e| e["detail-type"] == "ECS Task State Change")
    else {
        return vec![];
    };
    let last = events
        .iter()
        .filter_map(|e| e["time"].as_str().and_then(Timestamp::parse))
        .max()
        .unwrap();
    let at = |s: i64| Timestamp::from_millis(last.as_millis() + s * 1000 + 250).to_rfc3339();
    let envelope = |s: i64| Timestamp::from_millis(last.as_millis() + s * 1000).to_rfc3339();
    let mut out = Vec::new();
    for i in 0..i64::from(n) {
        let id = format!(
            "{:032x}",
            u64::from(u32::MAX) + seed * 16 + u64::try_from(i).unwrap()
        );
        let cluster = task["detail"]["clusterArn"].as_str().unwrap();
        let arn = format!(
            "{}task/{}/{id}",
            &cluster[..cluster.find("cluster/").unwrap()],
            &cluster[cluster.find("cluster/").unwrap() + 8..]
        );
        let (start, stop) = (60 + 240 * i, 200 + 240 * i);
        let app = if (seed + u64::try_from(i).unwrap()).is_multiple_of(2) {
            serde_json::json!({"name":"app","lastStatus":"STOPPED","exitCode":2})
        } else {
            serde_json::json!({"name":"app","lastStatus":"STOPPED","exitCode":137,
                "reason":"OutOfMemoryError: Container killed due to memory usage"})
        };
        for (v, status) in [(2, "RUNNING"), (5, "STOPPED")] {
            let mut e = task.clone();
            e["id"] = serde_json::json!(format!("crash-{seed}-{i}-{v}"));
            e["resources"] = serde_json::json!([arn]);
            let d = e["detail"].as_object_mut().unwrap();
            for k in [
                "stoppingAt",
                "stoppedAt",
                "executionStoppedAt",
                "stopCode",
                "stoppedReason",
            ] {
                d.remove(k);
            }
            d.insert("taskArn".into(), serde_json::json!(arn));
            d.insert("version".into(), serde_json::json!(v));
            d.insert("lastStatus".into(), serde_json::json!(status));
            d.insert("startedAt".into(), serde_json::json!(at(start)));
            if status == "RUNNING" {
                d.insert("desiredStatus".into(), serde_json::json!("RUNNING"));
                d.insert("updatedAt".into(), serde_json::json!(at(start)));
                d.insert(
                    "containers".into(),
                    serde_json::json!([{"name":"app","lastStatus":"RUNNING"}]),
                );
                e["time"] = serde_json::json!(envelope(start));
            } else {
                d.insert("desiredStatus".into(), serde_json::json!("STOPPED"));
                d.insert("stoppingAt".into(), serde_json::json!(at(stop)));
                d.insert("stoppedAt".into(), serde_json::json!(at(stop + 20)));
                d.insert("updatedAt".into(), serde_json::json!(at(stop + 20)));
                d.insert(
                    "stopCode".into(),
                    serde_json::json!("EssentialContainerExited"),
                );
                d.insert(
                    "stoppedReason".into(),
                    serde_json::json!("Essential container in task exited"),
                );
                d.insert("containers".into(), serde_json::json!([app]));
                e["time"] = serde_json::json!(envelope(stop + 20));
            }
            out.push(e.to_string());
        }
    }
    out
}

/// Runs a stream, then evaluates deadlines one hour after its last event.
fn run(events: &[String]) -> (Vec<Effect>, Vec<serde_json::Value>) {
    let mut replay = Replay::new(Settings::default());
    let mut effects = Vec::new();
    let mut last = Timestamp::from_millis(0);
    for e in events {
        effects.extend(replay.apply_json(e).unwrap().items);
        let v: serde_json::Value = serde_json::from_str(e).unwrap();
        last = last.max(v["time"].as_str().and_then(Timestamp::parse).unwrap());
    }
    effects.extend(
        replay
            .tick_all(Timestamp::from_millis(last.as_millis() + 3_600_000))
            .items,
    );
    let summaries = replay.rollouts().iter().map(rollout_json).collect();
    (effects, summaries)
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 128, ..ProptestConfig::default() })]

    /// At-least-once delivery: any event delivered again, anywhere later in the
    /// stream, produces no effect at all.
    #[test]
    fn duplicating_events_changes_nothing(
        scenario in 0usize..11, desired in 1u32..5, seed in 0u64..1000, crashes in 0u32..4,
        dups in proptest::collection::vec((any::<prop::sample::Index>(), any::<prop::sample::Index>()), 1..12),
    ) {
        let events = stream(scenario, desired, seed, crashes);
        let (want, want_summaries) = run(&events);
        let crashed = want
            .iter()
            .filter(|e| matches!(e, Effect::Alert(a) if a.alert == AlertName::TaskCrashed))
            .count();
        prop_assert_eq!(crashed, crashes as usize);
        let mut noisy = events.clone();
        for (which, at) in dups {
            let dup = events[which.index(events.len())].clone();
            // Always after the first delivery: a copy delivered first is the original.
            let first = noisy.iter().position(|e| *e == dup).unwrap();
            let pos = first + 1 + at.index(noisy.len() - first);
            noisy.insert(pos, dup);
        }
        let (got, got_summaries) = run(&noisy);
        prop_assert_eq!(got, want);
        prop_assert_eq!(got_summaries, want_summaries);
    }

    /// EventBridge does not keep order: swapping neighbours anywhere keeps the final
    /// state, start, finish, duration and downtime of every rollout.
    #[test]
    fn reordering_neighbours_keeps_final_states_and_summaries(
        scenario in 0usize..11, desired in 1u32..5, seed in 0u64..1000,
        crashes in 0u32..4,
        swaps in proptest::collection::vec(any::<prop::sample::Index>(), 1..20),
    ) {
        let events = stream(scenario, desired, seed, crashes);
        let (_, want) = run(&events);
        let mut shuffled = events.clone();
        for s in swaps {
            let i = s.index(shuffled.len() - 1);
            shuffled.swap(i, i + 1);
        }
        let (_, got) = run(&shuffled);
        prop_assert_eq!(got, want);
    }
}
