//! The text timeline, read the way a person reads it: it fits a 120-column terminal,
//! says a long ARN once, never contradicts the service's settings, and never prints
//! anything out of time order.
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

use std::io::Write;
use std::process::{Command, Stdio};

const BIN: &str = env!("CARGO_BIN_EXE_rollout-watcher");
const TARGET_GROUP: &str =
    "arn:aws:elasticloadbalancing:eu-west-1:123456789012:targetgroup/web/0123456789abcdef";

fn rollout_watcher(args: &[&str], stdin: &[u8]) -> String {
    let mut child = Command::new(BIN)
        .args(args)
        .env("NO_COLOR", "1")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all(stdin).unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "{args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

fn demo(scenario: &str) -> String {
    rollout_watcher(&["demo", "--scenario", scenario], b"")
}

/// `simulate | replay`: the same rollout as the demo, but from events alone.
fn replayed(scenario: &str) -> String {
    let events = rollout_watcher(&["simulate", "--scenario", scenario], b"");
    rollout_watcher(&["replay"], events.as_bytes())
}

fn sample(name: &str) -> String {
    format!(
        "{}/../tests/fixtures/samples/{name}.json",
        env!("CARGO_MANIFEST_DIR")
    )
}

/// The rollout blocks of a timeline (from a `━━` header to the blank line after it).
fn blocks(text: &str) -> Vec<Vec<&str>> {
    let mut all = Vec::new();
    let mut current: Option<Vec<&str>> = None;
    for line in text.lines() {
        if line.starts_with("━━") {
            all.extend(current.take());
            current = Some(vec![line]);
        } else if line.is_empty() {
            all.extend(current.take());
        } else if let Some(c) = current.as_mut() {
            c.push(line);
        }
    }
    all.extend(current);
    all
}

/// The `HH:MM:SS` a timeline line starts with, if it starts one.
fn clock(line: &str) -> Option<&str> {
    let t = line.get(2..10)?;
    (t.as_bytes()[2] == b':' && t.as_bytes()[5] == b':').then_some(t)
}

#[test]
fn the_whole_demo_fits_120_columns() {
    let text = rollout_watcher(&["demo"], b"");
    for line in text.lines() {
        assert!(
            line.chars().count() <= 120,
            "{} columns: {line}",
            line.chars().count()
        );
    }
}

#[test]
fn the_target_group_arn_is_said_once_per_rollout() {
    let text = demo("health-check-rollback");
    let first = &blocks(&text)[0];
    let full: Vec<&&str> = first.iter().filter(|l| l.contains(TARGET_GROUP)).collect();
    assert_eq!(
        full,
        [&format!("  in full: {TARGET_GROUP}").as_str()],
        "{text}"
    );
    let short = first
        .iter()
        .filter(|l| l.contains("targetgroup/web/0123456789abcdef"))
        .count();
    assert!(short >= 4, "the health-check lines name it shortly: {text}");
}

#[test]
fn summaries_do_not_repeat_what_the_header_says() {
    let text = demo("success");
    let block = &blocks(&text)[0];
    assert_eq!(
        block[0],
        "━━ web (demo-cluster) · deployment ecs-svc/5201917352089438067 (web:42)"
    );
    assert!(
        block[1..]
            .iter()
            .all(|l| !l.contains("ecs-svc/5201917352089438067")),
        "{text}"
    );
    assert!(
        block.iter().any(|l| l.ends_with(
            "deployment_completed · this deployment completed in 2 min 3 s, downtime 0 s."
        )),
        "{text}"
    );
}

/// maximum 200 %: room for the new task beside the old, and min 100 % keeps the old
/// one serving until the new one is healthy.
#[test]
fn with_maximum_200_ecs_starts_the_new_task_beside_the_old() {
    let text = demo("success");
    assert!(text.contains("● deployment started: ECS starts the new task(s) beside the old"));
    assert!(text.contains("● new task healthy, traffic moved: old task(s) draining and stopping"));
}

/// maximum 100 %, minimum 0 %: no room above desired, so the old task stops first;
/// the timeline says so, and never "beside the old".
#[test]
fn with_maximum_100_the_old_task_stops_first_and_the_timeline_says_why() {
    let text = demo("zero-running");
    assert!(!text.contains("beside the old"), "{text}");
    assert!(text.contains(
        "● deployment started: no room above desired (maximum 100%): ECS stops old task(s) first"
    ));
    assert!(
        text.contains(
            "● old task(s) stopping before a new one runs (minimum healthy 0% allows it)"
        )
    );
}

/// minimum 100 %: "minimum healthy allows it" would be false. In the superseded
/// scenario ECS stops the first deployment's task before the second one's runs.
#[test]
fn with_minimum_100_no_line_claims_minimum_healthy_allowed_a_stop() {
    for scenario in ["superseded", "success", "health-check-rollback", "stalled"] {
        let text = demo(scenario);
        assert!(
            !text.contains("minimum healthy 100% allows"),
            "{scenario}: {text}"
        );
        assert!(
            !text.contains("(minimum healthy allows it)"),
            "{scenario}: {text}"
        );
    }
    assert!(demo("superseded").contains("● older task(s) stopping before a new one runs"));
    assert!(demo("stalled").contains(
        "● deployment started: with maximum 100% and minimum healthy 100% ECS can move no task"
    ));
}

/// From events alone the settings are unknown: the steps say what happened, not why.
#[test]
fn without_the_settings_the_steps_stay_neutral() {
    for scenario in ["success", "zero-running", "superseded", "stalled"] {
        let text = replayed(scenario);
        for claim in [
            "beside the old",
            "allows it",
            "no room above desired",
            "load balancer",
            "traffic moved",
        ] {
            assert!(!text.contains(claim), "{scenario}: {claim:?} in\n{text}");
        }
        assert!(
            text.contains("● deployment started\n"),
            "{scenario}: {text}"
        );
    }
}

/// One IN_PROGRESS event that arrives past its deadline: the rollout starts, then
/// its deadline passes, in that order.
#[test]
fn a_lone_in_progress_event_starts_before_its_deadline_passes() {
    let text = rollout_watcher(
        &["replay", &sample("deployment-state-change-in-progress")],
        b"",
    );
    let lines: Vec<&str> = text.lines().collect();
    let start = lines
        .iter()
        .position(|l| l.contains("● deployment started"))
        .unwrap_or_else(|| panic!("no start line:\n{text}"));
    let deadline = lines
        .iter()
        .position(|l| l.contains("deadline passed"))
        .unwrap();
    assert!(start < deadline, "{text}");
    assert_eq!(clock(lines[start]), Some("11:11:11"));
}

#[test]
fn every_block_is_in_time_order() {
    let mut texts: Vec<String> = [
        "success",
        "health-check-rollback",
        "zero-running",
        "superseded",
    ]
    .iter()
    .map(|s| demo(s))
    .collect();
    texts.push(rollout_watcher(
        &["replay", &sample("deployment-state-change-in-progress")],
        b"",
    ));
    for text in &texts {
        for block in blocks(text) {
            let times: Vec<&str> = block.iter().filter_map(|l| clock(l)).collect();
            let mut sorted = times.clone();
            sorted.sort_unstable();
            assert_eq!(times, sorted, "{text}");
        }
    }
}

/// Alerts that belong to no rollout (a placement failure, a start impaired) come
/// with their dates, sorted by time whatever order the files were given in.
#[test]
fn alerts_outside_any_rollout_are_dated_and_sorted() {
    let text = rollout_watcher(
        &[
            "replay",
            &sample("service-action-task-start-impaired"),
            &sample("service-action-task-placement-failure-ec2-cpu"),
        ],
        b"",
    );
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines[0], "━━ service alerts outside any rollout", "{text}");
    let dated: Vec<&str> = lines
        .iter()
        .filter_map(|l| l.get(2..21).filter(|d| d.as_bytes()[4] == b'-'))
        .collect();
    assert_eq!(
        dated,
        ["2019-11-06 19:09:33", "2019-11-19 19:55:38"],
        "{text}"
    );
    assert!(lines[1].contains("task_placement_failed"), "{text}");
}
