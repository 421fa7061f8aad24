//! `replay` reads its input as a stream, one event at a time: the same events give the
//! same output whatever their layout (JSON Lines, a JSON array on one line or
//! pretty-printed, pretty objects one after another), split over several files or
//! read from stdin; a `--now` before the last event is refused before anything is
//! printed, from stdin too.
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

#[path = "support/cli.rs"]
mod cli;

use std::process::Output;

use cli::{Scratch, run};
use serde_json::Value;

/// A health-check rollback and a zero-running rollout, as the simulator prints them.
fn events() -> Vec<Value> {
    let mut all = Vec::new();
    for scenario in ["health-check-rollback", "zero-running"] {
        let out = run(&["simulate", "--scenario", scenario], "");
        assert_eq!(out.status.code(), Some(0));
        all.extend(
            String::from_utf8(out.stdout)
                .unwrap()
                .lines()
                .map(|l| serde_json::from_str::<Value>(l).unwrap()),
        );
    }
    all
}

fn json_lines(events: &[Value]) -> String {
    events.iter().map(|e| format!("{e}\n")).collect()
}

fn replay(format: &str, files: &[String]) -> Output {
    let mut args = vec!["replay", "--format", format];
    args.extend(files.iter().map(String::as_str));
    run(&args, "")
}

#[test]
fn every_layout_of_the_same_events_replays_the_same() {
    let events = events();
    let dir = Scratch::new("streaming", "layouts");
    let lines = dir.file("lines.jsonl", &json_lines(&events));
    let layouts = [
        (
            "one-line array",
            dir.file("array.json", &Value::Array(events.clone()).to_string()),
        ),
        (
            "pretty array",
            dir.file(
                "pretty.json",
                &serde_json::to_string_pretty(&events).unwrap(),
            ),
        ),
        (
            "pretty objects",
            dir.file(
                "objects.json",
                &events
                    .iter()
                    .map(|e| serde_json::to_string_pretty(e).unwrap() + "\n")
                    .collect::<String>(),
            ),
        ),
    ];
    for format in ["json", "text"] {
        let want = replay(format, std::slice::from_ref(&lines));
        assert_eq!(want.status.code(), Some(0));
        assert!(want.stdout.len() > 1_000, "{format}: little output");
        for (layout, file) in &layouts {
            let got = replay(format, std::slice::from_ref(file));
            assert_eq!(got.status.code(), Some(0), "{layout}");
            assert!(got.stderr.is_empty(), "{layout}");
            assert_eq!(
                String::from_utf8_lossy(&got.stdout),
                String::from_utf8_lossy(&want.stdout),
                "{format}, {layout}"
            );
        }
    }
}

#[test]
fn files_are_one_stream_in_the_order_given_and_stdin_is_the_same_stream() {
    let events = events();
    let dir = Scratch::new("streaming", "split");
    let (head, tail) = events.split_at(events.len() / 3);
    let whole = dir.file("whole.jsonl", &json_lines(&events));
    let first = dir.file("first.jsonl", &json_lines(head));
    let second = dir.file("second.jsonl", &json_lines(tail));
    let want = replay("json", &[whole]);
    let split = replay("json", &[first, second]);
    assert_eq!(split.stdout, want.stdout);
    let piped = run(&["replay", "--format", "json"], &json_lines(&events));
    assert_eq!(piped.stdout, want.stdout);
}

#[test]
fn a_now_before_the_last_event_is_refused_before_any_output_from_stdin_too() {
    let events = events();
    let text = json_lines(&events);
    let early = run(
        &[
            "replay",
            "--format",
            "json",
            "--now",
            "2026-03-02T09:00:00Z",
        ],
        &text,
    );
    assert_eq!(early.status.code(), Some(64));
    assert!(early.stdout.is_empty(), "refused before printing anything");
    let err = String::from_utf8_lossy(&early.stderr);
    assert!(
        err.contains("earlier than the last event") && err.contains("-:"),
        "{err}"
    );

    let dir = Scratch::new("streaming", "now");
    let file = dir.file("events.jsonl", &text);
    let late = [
        "replay",
        "--format",
        "json",
        "--now",
        "2026-03-03T00:00:00Z",
    ];
    let from_stdin = run(&late, &text);
    let from_file = run(&[&late[..], &[file.as_str()]].concat(), "");
    assert_eq!(from_stdin.status.code(), Some(0));
    assert!(!from_stdin.stdout.is_empty());
    assert_eq!(from_stdin.stdout, from_file.stdout);
}
