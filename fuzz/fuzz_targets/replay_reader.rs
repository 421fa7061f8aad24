//! Any bytes through the CLI's streaming reader and the in-memory watcher, as
//! `rollout-watcher replay FILE` runs them.
//!
//! Holds for every input: nothing panics; every event and every reported bad line has
//! a line number that exists in the input (1 ..= its line count); and the state of
//! every service, after the whole stream, stores and loads back as itself.
//!
//! The reader is compiled in from the CLI's source rather than depended on: the CLI
//! crate pulls in the AWS SDK, which would make this build slow and heavy.
#![no_main]

#[path = "../../cli/src/reader.rs"]
#[allow(dead_code, unreachable_pub)]
mod reader;

use libfuzzer_sys::fuzz_target;
use rollout_watcher::core::{ServiceState, Settings};
use rollout_watcher::model::Timestamp;
use rollout_watcher::replay::Replay;

fuzz_target!(|data: &[u8]| {
    // Lines as the streaming reader counts them (bytes, not UTF-8: a bad byte is a
    // bad line, reported, never a panic).
    let line_count = data.iter().filter(|b| **b == b'\n').count() + 1;
    let mut replay = Replay::new(Settings::default());
    let mut reader = reader::Reader::new(data);
    // Reading from memory cannot fail: `Err` would be a reader bug.
    while let Some(item) = reader.next_event().expect("reading from memory") {
        match item {
            Ok(located) => {
                assert!(
                    (1..=line_count).contains(&located.line),
                    "event at line {} of a {line_count}-line input",
                    located.line
                );
                let _ = replay.apply_json(located.text);
            }
            Err(bad) => assert!(
                (1..=line_count).contains(&bad.line),
                "bad line {} of a {line_count}-line input: {}",
                bad.line,
                bad.message
            ),
        }
    }
    // The latest instant `--now` accepts: deadlines of every open rollout fire.
    if let Some(end) = Timestamp::parse("9999-12-31T23:59:59.999Z") {
        let _ = replay.tick_all(end);
    }
    for rollout in replay.rollouts() {
        if let Some(state) = replay.service(&rollout.service) {
            let stored = serde_json::to_string(state).expect("a state always serialises");
            let loaded: ServiceState = serde_json::from_str(&stored).expect("a stored state loads");
            assert_eq!(&loaded, state, "state changed through storage: {stored}");
        }
    }
});
