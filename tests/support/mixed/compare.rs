//! What two runs are compared by: messages per alert, data points per key, the
//! differences between two maps, the publishes that reached SNS after a timeout.

use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

use super::run::Run;

/// Messages per alert id.
pub fn ids(run: &Run) -> BTreeMap<String, usize> {
    let mut out = BTreeMap::new();
    for m in &run.messages {
        *out.entry(m.id().to_owned()).or_insert(0) += 1;
    }
    out
}

/// Data points per dedup key, the watcher's own health metrics left out: those
/// count what an invocation did (an alert published twice is two publishes), and
/// their key is the invocation's wall-clock time, not an event's.
pub fn metric_keys(run: &Run) -> BTreeMap<String, usize> {
    let mut out = BTreeMap::new();
    for m in &run.metrics {
        if m.dedup_key.starts_with("health|") {
            continue;
        }
        *out.entry(m.dedup_key.clone()).or_insert(0) += 1;
    }
    out
}

/// Counter data points per dedup key: [`metric_keys`] without the
/// `RunningTaskCount` gauge, which is keyed by the event time and value at which the
/// count changed. Those depend on the order overlapping invocations commit in, and
/// two changes to one value in one second share a key; a repeated gauge sample
/// changes no statistic, so racing runs are compared without it.
pub fn counter_keys(run: &Run) -> BTreeMap<String, usize> {
    metric_keys(run)
        .into_iter()
        .filter(|(k, _)| !k.contains("|RunningTaskCount|"))
        .collect()
}

/// The entries where two maps differ, as `key: left != right` lines.
pub fn differences<V: PartialEq + std::fmt::Debug>(
    left: &BTreeMap<String, V>,
    right: &BTreeMap<String, V>,
) -> Vec<String> {
    let keys: BTreeSet<&String> = left.keys().chain(right.keys()).collect();
    keys.into_iter()
        .filter(|k| left.get(*k) != right.get(*k))
        .map(|k| format!("{k}:\n  {:?}\n  {:?}", left.get(k), right.get(k)))
        .collect()
}

/// Alerts whose publish reached moto only after the client had timed out: the
/// client retried, so SNS got them twice, as AWS can (at-least-once too).
pub fn late_publishes(run: &Run, timeout: Duration) -> BTreeSet<String> {
    run.calls
        .iter()
        .filter(|c| c.service == "sns" && c.operation == "Publish" && c.succeeded())
        .filter(|c| c.elapsed >= timeout)
        .filter_map(|c| c.alert_id.clone())
        .collect()
}
