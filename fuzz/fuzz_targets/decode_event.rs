//! Any bytes through the event decoder, the interpretation and the state machine.
//!
//! Holds for every input: nothing panics; both decoders agree; a state the watcher would store reads back
//! as itself (it lives in one DynamoDB item between invocations); and an event
//! delivered twice produces nothing the second time (a redelivery never pages twice).
#![no_main]

use libfuzzer_sys::fuzz_target;
use rollout_watcher::core::{ServiceState, Settings};
use rollout_watcher::model::{EcsEvent, Interpreted, Timestamp};

fuzz_target!(|data: &[u8]| {
    // The single-pass decoder and the path-tracking one agree on every input: same
    // event, or the same error naming the same field.
    if let Ok(text) = std::str::from_utf8(data) {
        assert_eq!(
            EcsEvent::from_json(text),
            EcsEvent::from_json_tracked(text),
            "the two decoders disagree"
        );
    }
    let Ok(event) = EcsEvent::from_slice(data) else {
        return;
    };
    // The Lambda payload path (already parsed JSON) must not panic either.
    if let Ok(value) = serde_json::to_value(&event) {
        let _ = EcsEvent::from_value(&value);
    }
    let Ok(Interpreted::Use(input)) = event.interpret() else {
        return;
    };
    let settings = Settings::default();
    let mut state = ServiceState::new(input.service.clone());
    let _ = state.apply(&input, &settings);

    let stored = round_trip(&state);

    // A redelivered event (same id) is a duplicate: nothing comes out, nothing changes.
    // Without an id, dedup rests on the task's `version` and on the core remembering
    // the task, which it forgets an hour (event time) after the stop, so this is only
    // asserted with an id (see `redelivered_stop_of_a_forgotten_task` in
    // shared/tests/hostile_input.rs).
    let again = state.apply(&input, &settings);
    if input.event_id.is_some() {
        assert!(
            again.duplicate && again.items.is_empty(),
            "the same event applied twice produced {:?}",
            again.items
        );
        assert_eq!(round_trip(&state), stored, "a duplicate changed the state");
    }
    // A day later every deadline has fired; what they left must store as well. (Not
    // past the last instant a clock or `--now` can give: 9999-12-31T23:59:59.999Z.)
    let last = Timestamp::parse("9999-12-31T23:59:59.999Z").expect("in range");
    let later = Timestamp::from_millis(input.time.as_millis().saturating_add(24 * 3600 * 1000));
    let _ = state.tick(later.min(last), &settings);
    round_trip(&state);
});

/// The state as stored; panics unless it loads back as itself.
fn round_trip(state: &ServiceState) -> String {
    let stored = serde_json::to_string(state).expect("a state always serialises");
    let loaded: ServiceState = serde_json::from_str(&stored).expect("a stored state loads");
    assert_eq!(&loaded, state, "state changed through storage: {stored}");
    stored
}
