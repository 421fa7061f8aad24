//! Properties of the watcher over simulated streams: duplicates change nothing, and
//! reordering neighbours keeps the final rollout states and summaries.
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

use proptest::prelude::*;
use rollout_watcher::core::{Effect, Settings};
use rollout_watcher::model::Timestamp;
use rollout_watcher::replay::Replay;
use rollout_watcher_cli::replay::rollout_json;
use rollout_watcher_cli::simulate::{Params, Scenario, simulate};

fn stream(scenario: usize, desired: u32, seed: u64) -> Vec<String> {
    let mut p = Params::defaults(Scenario::ALL[scenario % Scenario::ALL.len()]);
    p.desired = desired;
    p.seed = seed;
    simulate(&p)
        .unwrap()
        .events
        .iter()
        .map(|e| e.to_string())
        .collect()
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
        scenario in 0usize..6, desired in 1u32..5, seed in 0u64..1000,
        dups in proptest::collection::vec((any::<prop::sample::Index>(), any::<prop::sample::Index>()), 1..12),
    ) {
        let events = stream(scenario, desired, seed);
        let (want, want_summaries) = run(&events);
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
        scenario in 0usize..6, desired in 1u32..5, seed in 0u64..1000,
        swaps in proptest::collection::vec(any::<prop::sample::Index>(), 1..20),
    ) {
        let events = stream(scenario, desired, seed);
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
