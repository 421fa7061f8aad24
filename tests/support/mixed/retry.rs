//! Lambda's retry model for an asynchronous invocation and the sweeper's scheduled
//! ticks, and the [`Tally`] of what the retries had to do.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use rollout_watcher::delivery::{BatchOutcome, HandlerError, Outcome, SweepConfig, Watcher};
use rollout_watcher::model::Millis;
use rollout_watcher::ports::Clock;
use serde_json::Value;

use super::instance::{LoadClock, LoadWatcher};

/// Redeliveries after Lambda's own retries, at most.
pub const MAX_REDELIVERIES: usize = 10;
/// What Lambda's retries had to do.
#[derive(Debug, Default, Clone)]
pub struct Tally {
    /// Invocations, retries included.
    pub invocations: usize,
    /// Failed invocations, by error type (a batch that handed messages back counts
    /// as `BatchItemFailures`).
    pub failures: BTreeMap<&'static str, usize>,
    /// Batches whose services were all written but whose alerts or metrics were
    /// left to the sweeper (SNS or CloudWatch failed after the write): not a failed
    /// invocation, nothing goes back to the queue.
    pub unsettled: usize,
    /// Events that needed Lambda's retries (same request id).
    pub retried: usize,
    /// Events that needed a redelivery after Lambda's retries (a new request id):
    /// in AWS, a redrive of the on-failure queue.
    pub redelivered: usize,
    /// Alerts published by an invocation that then failed: the at-least-once
    /// window, where the retry publishes them again.
    pub window_alerts: BTreeSet<String>,
    /// Metric data points sent by an invocation that then failed.
    pub window_metrics: BTreeSet<String>,
    /// Every publish: the invocation's request id and the alert's key.
    pub published: Vec<(String, String)>,
    /// Ids of the events whose invocation answered `applied` (changed the state).
    pub applied: BTreeSet<String>,
    /// Sweeper invocations, retries included.
    pub sweeps: usize,
    /// Events whose every try failed (in AWS, after Lambda's two retries, the
    /// on-failure destination; here after the redeliveries too): lost to the state.
    pub unapplied: Vec<String>,
    /// Wall time of every handler invocation (retries and redeliveries included,
    /// sweeps not).
    pub latencies: Vec<Duration>,
}

impl Tally {
    pub(super) fn add(&mut self, other: &Self) {
        self.invocations += other.invocations;
        self.retried += other.retried;
        self.redelivered += other.redelivered;
        self.unsettled += other.unsettled;
        for (k, v) in &other.failures {
            *self.failures.entry(k).or_insert(0) += v;
        }
        self.window_alerts
            .extend(other.window_alerts.iter().cloned());
        self.window_metrics
            .extend(other.window_metrics.iter().cloned());
        self.published.extend(other.published.iter().cloned());
        self.applied.extend(other.applied.iter().cloned());
        self.latencies.extend(other.latencies.iter().copied());
        self.unapplied.extend(other.unapplied.iter().cloned());
    }

    /// One batch invocation of the queue delivery, and what it delivered if it
    /// handed messages back or left a service unsettled: those alerts may be
    /// published again (by the next receive or the sweeper), as after a failed
    /// event invocation.
    pub(super) fn batch(&mut self, w: &LoadWatcher, id: &str, outcome: &BatchOutcome) {
        self.invocations += 1;
        let (alerts, metrics) = (take(&w.notifier.current), take(&w.metrics.current));
        self.published
            .extend(alerts.iter().map(|k| (id.to_owned(), k.clone())));
        if !outcome.failed.is_empty() {
            *self.failures.entry("BatchItemFailures").or_insert(0) += 1;
        }
        if outcome.unsettled > 0 {
            self.unsettled += 1;
        }
        if !outcome.failed.is_empty() || outcome.unsettled > 0 {
            self.window_alerts.extend(alerts);
            self.window_metrics.extend(metrics);
        }
    }

    /// One invocation's result, and what it delivered if it failed.
    fn attempt<T>(
        &mut self,
        w: &LoadWatcher,
        id: &str,
        result: Result<T, HandlerError>,
    ) -> Result<T, HandlerError> {
        self.invocations += 1;
        let (alerts, metrics) = (take(&w.notifier.current), take(&w.metrics.current));
        self.published
            .extend(alerts.iter().map(|k| (id.to_owned(), k.clone())));
        if let Err(e) = &result {
            *self.failures.entry(e.error_type()).or_insert(0) += 1;
            self.window_alerts.extend(alerts);
            self.window_metrics.extend(metrics);
        }
        result
    }
}

/// Delivers one event as an asynchronous Lambda invocation would be: up to three
/// tries with request id `id`, then redeliveries under new ids, each a lease later.
pub async fn invoke(
    w: &LoadWatcher,
    event: &Value,
    id: &str,
    tally: &mut Tally,
) -> Result<Outcome, HandlerError> {
    let outcome = retried(w, event, id, tally).await?;
    if outcome.status == "applied" {
        tally
            .applied
            .insert(event["id"].as_str().unwrap_or_default().to_owned());
    }
    Ok(outcome)
}

async fn retried(
    w: &LoadWatcher,
    event: &Value,
    id: &str,
    tally: &mut Tally,
) -> Result<Outcome, HandlerError> {
    let mut last = None;
    for attempt in 0..3 {
        if attempt == 1 {
            tally.retried += 1;
        }
        let started = Instant::now();
        let result = w.handle(event, id).await;
        tally.latencies.push(started.elapsed());
        match tally.attempt(w, id, result) {
            Ok(o) => return Ok(o),
            Err(e) => last = Some(e),
        }
    }
    tally.redelivered += 1;
    let lease = w.config.lease;
    for r in 1..=MAX_REDELIVERIES {
        let at = w.clock.now().plus(Millis(lease.0 * r as i64 + 1_000));
        let later: LoadWatcher = Watcher {
            store: w.store.clone(),
            notifier: w.notifier.clone(),
            metrics: w.metrics.clone(),
            inspector: w.inspector.clone(),
            clock: Arc::new(LoadClock::at(at, w.clock.sleeps)),
            config: w.config.clone(),
        };
        let again = format!("{id}-redelivery-{r}");
        let started = Instant::now();
        let result = later.handle(event, &again).await;
        tally.latencies.push(started.elapsed());
        match tally.attempt(w, &again, result) {
            Ok(o) => return Ok(o),
            Err(e) => last = Some(e),
        }
    }
    Err(last.expect("at least one try"))
}

fn take(keys: &Mutex<Vec<String>>) -> Vec<String> {
    std::mem::take(&mut *keys.lock().unwrap_or_else(|p| p.into_inner()))
}
/// Minutes after the last event at which the sweeper ticks: two ticks, then three
/// past the 15-minute stall deadline (a `deployment_stalled` is due then).
pub const SWEEP_TICKS: [i64; 5] = [1, 2, 17, 18, 19];

/// The rollout-sweeper's scheduled ticks after the stream, on the same clock; a
/// failed tick is retried at the same instant (Lambda's retry of the scheduled
/// invocation), at most ten times.
pub(super) async fn sweep_after(
    w: &LoadWatcher,
    clock: &LoadClock,
    tally: &mut Tally,
) -> anyhow::Result<()> {
    let config = SweepConfig {
        max_services: 100,
        watch_clusters: Vec::new(),
    };
    let end = clock.now();
    for minute in SWEEP_TICKS {
        clock.set(end.plus(Millis::from_secs(60 * minute)));
        let mut done = false;
        for attempt in 0..10 {
            let id = format!("sweep-{minute}-{attempt}");
            let result = w.sweep(&config, &id).await;
            tally.sweeps += 1;
            if tally.attempt(w, &id, result).is_ok() {
                done = true;
                break;
            }
        }
        anyhow::ensure!(done, "the sweep at +{minute} min failed ten times");
    }
    Ok(())
}
