//! `replay` holds idle services' states packed (encoded and deflated) and unpacks
//! one when its service's next event comes. A state packed and unpacked must behave
//! exactly as the one never packed: the same effects, the same rollout summaries,
//! the same counts, whatever was packed when.
//!
//! The stream is four days of a small busy account (every service rolls once a day,
//! so by the fourth day each service lets go of what is older than `LATE_LIMIT`,
//! the part of the state its stored form keeps only in part), with some events
//! delivered again a few events later, as EventBridge may.
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

use std::collections::BTreeSet;

use rollout_watcher::core::{ServiceConfig, Settings};
use rollout_watcher::model::{Millis, ServiceArn, Timestamp};
use rollout_watcher::replay::{Packing, Replay, ReplayStats};
use rollout_watcher_cli::replay::{effect_json, rollout_json};
use rollout_watcher_cli::simulate::busy_account_day;

const DAYS: u32 = 4;

/// Four days of about 45 services, every tenth event delivered again five events on.
fn stream() -> Vec<String> {
    let events: Vec<String> = (0..DAYS)
        .flat_map(|day| busy_account_day(600, day).unwrap())
        .collect();
    let mut out = Vec::with_capacity(events.len() * 11 / 10);
    for (i, e) in events.iter().enumerate() {
        out.push(e.clone());
        if i >= 5 && i % 10 == 5 {
            out.push(events[i - 5].clone());
        }
    }
    out
}

/// Everything a watcher says of the stream, as `replay --format json` writes it: each
/// effect as it comes, each summary as it changes, then (an hour after the last
/// event, every deadline due) the rollouts still held and the counts.
struct Said {
    effects: Vec<String>,
    summaries: Vec<String>,
    held: Vec<String>,
    stats: ReplayStats,
}

/// Replays `events`, learning a desired count for every third service a day in (when
/// a packing watcher holds them packed).
fn replay(events: &[String], services: &[ServiceArn], packing: Option<Packing>) -> (Said, Replay) {
    let mut replay = Replay::without_past(Settings::default()).with_packing(packing);
    let mut said = Said {
        effects: Vec::new(),
        summaries: Vec::new(),
        held: Vec::new(),
        stats: ReplayStats::default(),
    };
    let mut last = None;
    for (i, e) in events.iter().enumerate() {
        if i == events.len() / DAYS as usize {
            for service in services.iter().step_by(3) {
                let config = ServiceConfig {
                    desired_count: Some(2),
                    ..ServiceConfig::default()
                };
                replay.set_config(service, config).unwrap();
            }
        }
        let fx = replay.apply_json(e).unwrap();
        said.effects
            .extend(fx.items.iter().map(|e| effect_json(e).to_string()));
        said.summaries
            .extend(fx.rollouts.iter().map(|r| rollout_json(r).to_string()));
        let v: serde_json::Value = serde_json::from_str(e).unwrap();
        last = last.max(v["time"].as_str().and_then(Timestamp::parse));
    }
    let fx = replay
        .tick_all(last.unwrap().plus(Millis::from_secs(3600)))
        .unwrap();
    said.effects
        .extend(fx.items.iter().map(|e| effect_json(e).to_string()));
    said.summaries
        .extend(fx.rollouts.iter().map(|r| rollout_json(r).to_string()));
    let mut held: Vec<String> = replay
        .live_rollouts()
        .unwrap()
        .iter()
        .map(|r| rollout_json(r).to_string())
        .collect();
    held.sort();
    said.held = held;
    said.stats = replay.stats;
    (said, replay)
}

#[test]
fn a_watcher_packing_every_state_after_every_event_says_what_one_never_packing_says() {
    // given four days of a busy account, some events delivered twice
    let events = stream();
    let services: Vec<ServiceArn> = events
        .iter()
        .filter_map(|e| {
            let v: serde_json::Value = serde_json::from_str(e).unwrap();
            v["resources"][0].as_str().and_then(ServiceArn::parse)
        })
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect();
    assert!(services.len() > 20, "{} services", services.len());

    // when one watcher packs every state as soon as its event is applied (and
    // unpacks, ticks and packs it again at the end) and another never packs
    let (never, plain) = replay(&events, &services, None);
    let (always, packed) = replay(&events, &services, Some(Packing::ALWAYS));

    // then they say the same, effect by effect and summary by summary
    assert!(never.effects.len() > 1_000, "{}", never.effects.len());
    assert!(never.stats.duplicates > 100, "{:?}", never.stats);
    assert_eq!(always.effects.len(), never.effects.len());
    for (i, (a, n)) in always.effects.iter().zip(&never.effects).enumerate() {
        assert_eq!(a, n, "effect {i}");
    }
    assert_eq!(always.summaries, never.summaries);
    assert_eq!(always.held, never.held);
    assert_eq!(always.stats, never.stats);

    // and every service ends in the same state, down to the times its stored form
    // leaves out (when each forgotten task was let go)
    let mut forgotten = 0;
    for service in &services {
        let a = packed.service(service).unwrap().unwrap();
        let n = plain.service(service).unwrap().unwrap();
        assert_eq!(*a, *n, "{service}");
        assert_eq!(a.forgotten_times(), n.forgotten_times(), "{service}");
        forgotten += n.forgotten_times().iter().flatten().count();
    }
    assert!(
        forgotten > 0,
        "no task forgotten with its time: the stream is too short"
    );
    let configs = plain.into_configs().unwrap();
    assert_eq!(configs.len(), services.len().div_ceil(3));
    assert_eq!(packed.into_configs().unwrap(), configs);
}
