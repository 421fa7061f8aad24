//! Helpers shared by the scenario files: simulated streams and driving them.

#![allow(dead_code)]

use std::sync::Arc;

use rollout_watcher::adapters::emf::{Captured, EmfSink};
use rollout_watcher::adapters::recording::ManualClock;
use rollout_watcher::delivery::{HandlerError, Outcome, Watcher};
use rollout_watcher::model::Timestamp;
use rollout_watcher::ports::{Clock, MetricsSink, Ports};
use rollout_watcher_cli::simulate::{Params, Scenario, simulate};
use serde_json::Value;

/// The service every simulated stream is about.
pub(crate) const SERVICE: &str = "arn:aws:ecs:eu-west-1:123456789012:service/demo-cluster/web";

/// The simulated stream of a scenario with its default settings.
pub(crate) fn events(scenario: Scenario) -> Vec<Value> {
    stream(&Params::defaults(scenario))
}

/// The simulated stream for any parameters.
pub(crate) fn stream(params: &Params) -> Vec<Value> {
    simulate(params)
        .expect("valid simulation parameters")
        .events
}

/// Event time of an event.
pub(crate) fn time_of(e: &Value) -> Timestamp {
    e["time"]
        .as_str()
        .and_then(Timestamp::parse)
        .expect("event with a time")
}

/// A clock starting at the first event.
pub(crate) fn clock_for(events: &[Value]) -> Arc<ManualClock> {
    Arc::new(ManualClock::at(
        events.first().map(time_of).unwrap_or_default(),
    ))
}

/// An EMF sink capturing its lines.
pub(crate) fn emf() -> (Arc<dyn MetricsSink>, Captured) {
    let (sink, lines) = EmfSink::capture("RolloutWatcher");
    (Arc::new(sink), lines)
}

/// Feeds events in order as Lambda would (one invocation each, the wall clock at the
/// event's time); returns each invocation's result.
pub(crate) async fn drive<P: Ports<Clock = Arc<ManualClock>>>(
    w: &Watcher<P>,
    events: &[Value],
) -> Vec<Result<Outcome, HandlerError>> {
    let mut out = Vec::new();
    for (i, e) in events.iter().enumerate() {
        w.clock.set(time_of(e).max(w.clock.now()));
        out.push(w.handle(e, &format!("req-{i}")).await);
    }
    out
}
