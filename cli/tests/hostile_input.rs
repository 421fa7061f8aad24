//! Hostile and broken files for `rollout-watcher replay`: a bad line is reported with
//! its number and skipped, nothing panics or overflows the stack, and no valid event
//! around a bad line is lost.
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

use std::path::PathBuf;
use std::process::{Command, Output};

use rollout_watcher_cli::reader::split;
use serde_json::{Value, json};

macro_rules! sample {
    ($name:literal) => {
        include_str!(concat!("../../tests/fixtures/samples/", $name, ".json"))
    };
}

const IN_PROGRESS: &str = sample!("deployment-state-change-in-progress");
const FAILED: &str = sample!("deployment-state-change-failed-circuit-breaker");
const ELB: &str = sample!("task-state-change-stopped-elb-healthcheck");
const IMPAIRED: &str = sample!("service-action-task-start-impaired");

/// A sample as one JSON Lines line.
fn line(text: &str) -> String {
    serde_json::from_str::<Value>(text).unwrap().to_string()
}

/// `text` with the JSON value at `pointer` replaced, as one line.
fn with(text: &str, pointer: &str, value: Value) -> String {
    let mut v: Value = serde_json::from_str(text).unwrap();
    *v.pointer_mut(pointer).unwrap() = value;
    v.to_string()
}

/// What the reader makes of `text`: Ok(line) per event, Err(line) per bad line.
fn lines(text: &str) -> Vec<Result<usize, usize>> {
    split(text)
        .into_iter()
        .map(|r| r.map(|l| l.line).map_err(|b| b.line))
        .collect()
}

/// A good event, then the hostile line, then another good event: each Ok with its
/// own line number, whatever the middle line is.
fn assert_neighbours_survive(hostile: &str, case: &str) {
    let (a, b) = (line(IN_PROGRESS), line(FAILED));
    let got = lines(&format!("{a}\n{hostile}\n{b}\n"));
    assert_eq!(got.first(), Some(&Ok(1)), "{case}: {got:?}");
    assert_eq!(got.last(), Some(&Ok(3)), "{case}: {got:?}");
    assert!(
        got.iter().all(|r| matches!(r, Ok(1..=3) | Err(2))),
        "{case}: {got:?}"
    );
}

/// 100,000 nested brackets on a line, closed or not, are that line's problem: no
/// stack overflow, and the events on the lines around it come through.
#[test]
fn deep_nesting_in_a_file_is_a_bad_line_not_a_stack_overflow() {
    let open = "[".repeat(100_000);
    let closed = format!("{open}{}", "]".repeat(100_000));
    let objects = format!("{}1{}", r#"{"a":"#.repeat(100_000), "}".repeat(100_000));
    for (case, hostile) in [("open", &open), ("closed", &closed), ("objects", &objects)] {
        assert_neighbours_survive(hostile, case);
    }
    assert_eq!(lines(&open), vec![Err(1)]);
}

/// A sample cut at any byte, between two good events: the cut line is bad (or, cut
/// at 0, blank), and both neighbours are read with their line numbers.
#[test]
fn a_truncated_line_never_takes_its_neighbours_with_it() {
    for text in [IN_PROGRESS, ELB, IMPAIRED] {
        let whole = line(text);
        for cut in (1..whole.len()).filter(|i| whole.is_char_boundary(*i)) {
            assert_neighbours_survive(&whole[..cut], &format!("cut at {cut}"));
        }
    }
}

/// Every line number the reader reports, for events and for bad lines, is a line of
/// the input, whatever the input.
#[test]
fn reported_line_numbers_are_lines_of_the_input() {
    let junk = [
        "",
        "\n",
        "\n\n\n",
        "]",
        "[\n",
        "{\n",
        "[1,\n",
        "\"\n\"",
        "}\n{",
        "[\n]\n]\n",
    ];
    for text in junk {
        let count = text.lines().count().max(1);
        for r in split(text) {
            let n = r.map_or_else(|b| b.line, |l| l.line);
            assert!((1..=count).contains(&n), "{text:?}: line {n} of {count}");
        }
    }
}

/// A scratch file, removed when dropped.
struct Scratch(PathBuf);

impl Scratch {
    fn new(name: &str, bytes: &[u8]) -> Self {
        let path = std::env::temp_dir().join(format!("hostile-{}-{name}", std::process::id()));
        std::fs::write(&path, bytes).unwrap();
        Self(path)
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}

fn replay(file: &Scratch) -> Output {
    Command::new(env!("CARGO_BIN_EXE_rollout-watcher"))
        .args(["replay", "--format", "json"])
        .arg(&file.0)
        .output()
        .unwrap()
}

/// A file mixing good events with hostile lines of every kind: exit code 1, stderr
/// names each bad line by number and no other, and stdout holds exactly the effects
/// and rollouts of the good lines alone.
#[test]
fn replay_of_a_file_mixing_good_and_hostile_lines() {
    let huge_but_valid = {
        let mut v: Value = serde_json::from_str(ELB).unwrap();
        v["id"] = json!("huge");
        v["detail"]["overrides"] = json!({ "blob": "y".repeat(1 << 20) });
        v.to_string()
    };
    let good = [
        line(IN_PROGRESS),
        line(ELB),
        line(IMPAIRED),
        huge_but_valid,
        line(FAILED),
    ];
    let hostile: Vec<Vec<u8>> = vec![
        line(FAILED)[..40].into(),
        with(FAILED, "/detail/deploymentId", json!(7)).into(),
        "[".repeat(100_000).into(),
        format!("{}{}", "[".repeat(100_000), "]".repeat(100_000)).into(),
        with(FAILED, "/id", json!("")).into(),
        with(FAILED, "/time", json!("10000-01-01T00:00:00Z")).into(),
        with(ELB, "/detail/version", json!(-1)).into(),
        with(
            FAILED,
            "/detail",
            json!(["ERROR", "SERVICE_DEPLOYMENT_FAILED", "ecs-svc/123"]),
        )
        .into(),
        b"\xff\xfe not UTF-8 \x00\x01".to_vec(),
        "not json at all".into(),
    ];
    // good, hostile, good, hostile, …, then the rest of the hostile lines, then an
    // ignored event (an unknown detail-type is not a bad line).
    let mut all: Vec<Vec<u8>> = Vec::new();
    let mut bad_lines = Vec::new();
    for (i, h) in hostile.iter().enumerate() {
        if let Some(g) = good.get(i) {
            all.push(g.clone().into());
        }
        all.push(h.clone());
        bad_lines.push(all.len());
    }
    all.push(with(FAILED, "/detail-type", json!("ECS Hook State Change")).into());
    let mixed = Scratch::new("mixed.jsonl", &all.join(&b'\n'));
    let clean = Scratch::new("clean.jsonl", good.join("\n").as_bytes());

    let out = replay(&mixed);
    let control = replay(&clean);

    assert_eq!(
        control.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&control.stderr)
    );
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&out.stderr);
    let prefix = format!("{}:", mixed.0.display());
    let reported: Vec<usize> = stderr
        .lines()
        .filter_map(|l| l.strip_prefix(&prefix)?.split(':').next()?.parse().ok())
        .collect();
    assert_eq!(reported, bad_lines, "{stderr}");
    assert!(
        stderr.lines().all(|l| l.len() < 600),
        "an oversized error line: {stderr}"
    );
    assert!(
        stderr.contains(&format!("{} bad line(s) skipped", hostile.len())),
        "{stderr}"
    );
    assert!(!out.stdout.is_empty());
    assert_eq!(
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&control.stdout)
    );
}
