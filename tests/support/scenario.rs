//! Simulated streams of one service and driving them through a watcher, as Lambda
//! would: the scenario files' shared helpers.

use std::sync::Arc;

use rollout_watcher::adapters::emf::{Captured, EmfSink};
use rollout_watcher::adapters::recording::ManualClock;
use rollout_watcher::delivery::{HandlerError, Outcome, Watcher};
use rollout_watcher::model::Timestamp;
use rollout_watcher::ports::{Clock, MetricsSink, Ports};
use rollout_watcher_cli::simulate::{Params, Scenario, simulate};
use serde_json::Value;

/// The service every simulated stream is about.
pub const SERVICE: &str = "arn:aws:ecs:eu-west-1:123456789012:service/demo-cluster/web";

/// The simulated stream of a scenario with its default settings.
pub fn events(scenario: Scenario) -> Vec<Value> {
    stream(&Params::defaults(scenario))
}

/// The simulated stream for any parameters.
pub fn stream(params: &Params) -> Vec<Value> {
    simulate(params)
        .expect("valid simulation parameters")
        .events
}

/// Event time of an event.
pub fn time_of(e: &Value) -> Timestamp {
    e["time"]
        .as_str()
        .and_then(Timestamp::parse)
        .expect("event with a time")
}

/// A clock starting at the first event.
pub fn clock_for(events: &[Value]) -> Arc<ManualClock> {
    Arc::new(ManualClock::at(
        events.first().map(time_of).unwrap_or_default(),
    ))
}

/// An EMF sink capturing its lines.
pub fn emf() -> (Arc<dyn MetricsSink>, Captured) {
    let (sink, lines) = EmfSink::capture("RolloutWatcher");
    (Arc::new(sink), lines)
}

/// Feeds events in order as Lambda would (one invocation each, the wall clock at the
/// event's time); returns each invocation's result.
pub async fn drive<P: Ports<Clock = Arc<ManualClock>>>(
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
