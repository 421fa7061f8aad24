//! A long replay keeps its rollouts within a memory budget: past it, the summaries
//! and the timeline's blocks go to a temporary file and come back when written. The
//! output must not tell: the same bytes whatever the budget, and the same rollouts,
//! in the same order, as the watcher that remembers every rollout in memory.
//!
//! The stream is twelve days of a small busy account: every service rolls once a
//! day, so each service lets its oldest rollouts go (it keeps those finished within
//! `LATE_LIMIT`, eight at most), and those come back only from what `replay` kept.
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

#[path = "support/cli.rs"]
#[allow(dead_code)]
mod cli;

use cli::Scratch;
use std::collections::{BTreeMap, BTreeSet};

use rollout_watcher::core::{LATE_LIMIT, Settings};
use rollout_watcher::model::{ServiceArn, Timestamp};
use rollout_watcher::replay::Replay;
use rollout_watcher_cli::archive::Budget;
use rollout_watcher_cli::replay::{Format, replay_files_within, rollout_json};
use rollout_watcher_cli::simulate::busy_account_day;

const DAYS: u32 = 12;

/// Twelve days of about 45 services rolling once a day, as JSON lines.
fn month() -> Vec<String> {
    (0..DAYS)
        .flat_map(|day| busy_account_day(600, day).unwrap())
        .collect()
}

fn replay(file: &str, format: Format, budget: Budget) -> String {
    let mut out = Vec::new();
    let counts = replay_files_within(
        &[file.to_owned()],
        format,
        Settings::default(),
        budget,
        &mut out,
    )
    .unwrap();
    assert_eq!(counts.bad, 0);
    String::from_utf8(out).unwrap()
}

/// Everything written out as soon as there is more than one of it.
const TINY: Budget = Budget {
    summaries: 1,
    marks: 1,
};

#[test]
fn a_replay_past_its_memory_budget_writes_what_one_within_it_writes() {
    // given a month of rollouts, more than each service keeps
    let scratch = Scratch::new("long-replays", "budget");
    let file = scratch.file("month.jsonl", &(month().join("\n") + "\n"));

    for format in [Format::Json, Format::Text] {
        // when replayed with everything held in memory, and with everything on disk
        let held = replay(&file, format, Budget::default());
        let spilled = replay(&file, format, TINY);

        // then the output is the same, byte for byte
        assert!(held.len() > 100_000, "{format:?}: {} bytes", held.len());
        assert!(
            held == spilled,
            "{format:?}: output differs once spilled; first difference at line {}",
            held.lines()
                .zip(spilled.lines())
                .position(|(a, b)| a != b)
                .unwrap_or(held.lines().count().min(spilled.lines().count()))
                + 1
        );
    }
}

#[test]
fn the_rollouts_written_are_those_the_remembering_watcher_lists_in_its_order() {
    // given a month of rollouts, replayed by the watcher that remembers them all
    let lines = month();
    let scratch = Scratch::new("long-replays", "order");
    let file = scratch.file("month.jsonl", &(lines.join("\n") + "\n"));
    let mut remembering = Replay::new(Settings::default());
    for l in &lines {
        let _ = remembering.apply_json(l).unwrap();
    }
    let want: Vec<String> = remembering
        .rollouts()
        .iter()
        .map(|r| rollout_json(r).to_string())
        .collect();

    // when `replay --format json` writes them, spilled to disk
    let out = replay(&file, Format::Json, TINY);
    let got: Vec<&str> = out
        .lines()
        .filter(|l| serde_json::from_str::<serde_json::Value>(l).unwrap()["type"] == "rollout")
        .collect();

    // then the same rollouts, in the same order, each as it stands at the end
    let services = lines
        .iter()
        .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
        .filter_map(|e| e["resources"][0].as_str().map(str::to_owned))
        .filter(|r| r.contains(":service/"))
        .collect::<BTreeSet<_>>()
        .len();
    assert!(
        want.len() > services * 9,
        "{} rollouts of {services} services: every service must have let some go",
        want.len()
    );
    assert_eq!(got.len(), want.len());
    for (i, (g, w)) in got.iter().zip(&want).enumerate() {
        let (g, w): (serde_json::Value, serde_json::Value) = (
            serde_json::from_str(g).unwrap(),
            serde_json::from_str(w).unwrap(),
        );
        assert_eq!(g, w, "rollout {i}");
    }
}

#[test]
fn after_a_month_each_service_holds_only_what_late_events_need() {
    // given twelve days of services rolling once a day, replayed by `replay`'s watcher
    let mut replay = Replay::without_past(Settings::default());
    let mut services = BTreeSet::new();
    for l in month() {
        let event: serde_json::Value = serde_json::from_str(&l).unwrap();
        services.extend(event["resources"][0].as_str().and_then(ServiceArn::parse));
        let _ = replay.apply_json(&l).unwrap();
    }
    let mut held: BTreeMap<_, Vec<_>> = BTreeMap::new();
    for r in replay.live_rollouts() {
        held.entry(r.service.clone()).or_default().push(r);
    }
    assert!(services.len() > 20, "{} services", services.len());

    for service in &services {
        let rollouts = held.get(service).map_or(&[][..], Vec::as_slice);
        let state = replay.service(service).unwrap();
        let edge = state.clock().unwrap().as_millis() - LATE_LIMIT.0;
        let recent = |t: &serde_json::Value| {
            Timestamp::parse(t.as_str().unwrap()).unwrap().as_millis() >= edge
        };
        // then it holds no rollout finished more than LATE_LIMIT before its clock: a
        // few days of its rollouts (two a day when it rolls back), not the eight
        // finished ones the count bound allows
        for r in rollouts {
            let finished = r.finished_at.map_or(edge, Timestamp::as_millis);
            assert!(
                finished >= edge,
                "{service}: {} finished too long ago",
                r.deployment_id
            );
        }
        // nor the task figures of a deployment no rollout held refers to, last seen
        // before the limit (the ids of forgotten tasks are stored bare, without the
        // time late_events.rs shows them let go by)
        let doc = serde_json::to_value(state).unwrap();
        for (d, figures) in doc["deployments"].as_object().unwrap() {
            let of_held = rollouts.iter().any(|r| r.deployment_id.as_str() == d);
            assert!(of_held || recent(&figures["last_seen"]), "{service}: {d}");
        }
    }
}
