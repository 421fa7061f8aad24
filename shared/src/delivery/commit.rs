//! The write-then-deliver half of delivery, shared by the event handler and the
//! sweeper: record effects in the outbox with the state (one conditional write),
//! publish what this invocation claimed, then mark it sent.

use crate::core::{Alert, Effects, Metric, MetricName, ServiceConfig, Severity, Unit};
use crate::model::{ServiceArn, Timestamp};
use crate::outbox::{Pending, Recorded};
use crate::ports::{
    Clock, MetricsSink, Notifier, SaveRequest, ServiceInspector, ServiceRecord, StateStore,
    StoreError,
};

use super::{HandlerError, Watcher};

/// The result of a successful conditional write.
#[derive(Debug, Default)]
pub(crate) struct Committed {
    /// Entries this invocation claimed and must deliver.
    pub(crate) claimed: Vec<Pending>,
    /// What the write queued.
    pub(crate) recorded: Recorded,
}

/// What delivery achieved.
#[derive(Debug, Default)]
pub(crate) struct Delivered {
    pub(crate) keys: Vec<String>,
    pub(crate) alerts: usize,
    pub(crate) metrics: usize,
    pub(crate) failure: Option<HandlerError>,
}

impl<S, N, M, I, C> Watcher<S, N, M, I, C>
where
    S: StateStore,
    N: Notifier,
    M: MetricsSink,
    I: ServiceInspector,
    C: Clock,
{
    /// The record of `service`, or a fresh one.
    pub(crate) async fn load_or_new(
        &self,
        service: &ServiceArn,
    ) -> Result<ServiceRecord, StoreError> {
        Ok(self
            .store
            .load(service)
            .await?
            .unwrap_or_else(|| ServiceRecord::new(service.clone())))
    }

    /// Records `effects` and claims what is waiting, in one write conditional on
    /// `expected`. `Ok(None)` on a conflict: the caller re-reads and re-applies.
    /// Skips the write when nothing changed and nothing waits.
    pub(crate) async fn commit(
        &self,
        rec: &mut ServiceRecord,
        expected: u64,
        effects: &Effects,
        state_changed: bool,
        owner: &str,
    ) -> Result<Option<Committed>, HandlerError> {
        let notify_info = self.config.notify_info;
        let config = rec.state.config().cloned();
        let recorded = rec
            .outbox
            .record(effects, |a| publishable(a, config.as_ref(), notify_info));
        let now = self.clock.now();
        let claimed = rec.outbox.claim(owner, now, self.config.lease);
        if !state_changed && claimed.is_empty() && expected != 0 {
            return Ok(Some(Committed::default()));
        }
        let finished: Vec<_> = effects
            .rollouts
            .iter()
            .filter(|r| r.state.is_terminal())
            .cloned()
            .collect();
        rec.revision = expected + 1;
        let request = SaveRequest {
            record: rec,
            expected,
            due_at: self.due_at(rec, now),
            finished: &finished,
        };
        match self.store.save(request).await {
            Ok(()) => Ok(Some(Committed { claimed, recorded })),
            Err(StoreError::Conflict { .. }) => Ok(None),
            Err(e) => Err(e.into()),
        }
    }

    /// When the sweeper should look at the service next: now (every tick) while
    /// effects wait, a zero awaits ECS's word, or anything is open (a rollout in
    /// progress: the sweeper checks ECS for an outcome whose event was lost, and
    /// its deadline; a zero window: the service is down and gets its gauge every
    /// tick); otherwise at the next deadline, if any; otherwise never (the item
    /// leaves the sparse index).
    pub(crate) fn due_at(&self, rec: &ServiceRecord, now: Timestamp) -> Option<Timestamp> {
        let open = rec.state.has_open_work() || rec.state.needs_observation();
        if open || !rec.outbox.is_empty() {
            return Some(now);
        }
        rec.state.next_deadline(&self.config.settings)
    }

    /// Publishes the claimed alerts in order (stopping at the first failure, so a
    /// thread never shows "completed" before "started"), then sends the claimed
    /// metrics and the watcher's own health metrics in one batch.
    pub(crate) async fn deliver(&self, claimed: &[Pending]) -> Delivered {
        let mut out = Delivered::default();
        let mut failed_alerts = 0_u32;
        for p in claimed {
            let Pending::Alert(a) = p else { continue };
            if out.failure.is_some() {
                break;
            }
            match self.notifier.publish(a).await {
                Ok(()) => {
                    out.keys.push(a.dedup_key.clone());
                    out.alerts += 1;
                }
                Err(e) => {
                    tracing::warn!(alert = %a.dedup_key, error = %super::error_chain(&e), "alert publish failed");
                    failed_alerts += 1;
                    out.failure = Some(e.into());
                }
            }
        }
        let mut batch: Vec<Metric> = claimed
            .iter()
            .filter_map(|p| match p {
                Pending::Metric(m) => Some(m.clone()),
                Pending::Alert(_) => None,
            })
            .collect();
        let data_points = batch.len();
        let now = self.clock.now();
        if out.alerts > 0 {
            batch.push(health(MetricName::AlertsPublished, out.alerts as f64, now));
        }
        if failed_alerts > 0 {
            batch.push(health(
                MetricName::AlertPublishFailures,
                f64::from(failed_alerts),
                now,
            ));
        }
        if batch.is_empty() {
            return out;
        }
        match self.metrics.send(&batch).await {
            Ok(()) => {
                out.metrics = data_points;
                out.keys.extend(batch.into_iter().map(|m| m.dedup_key));
            }
            Err(e) => {
                tracing::warn!(error = %super::error_chain(&e), "metrics send failed");
                if out.failure.is_none() {
                    out.failure = Some(e.into());
                }
            }
        }
        out
    }

    /// Marks delivered entries sent and releases this invocation's other claims,
    /// re-reading on a conflict (other writers never touch entries claimed by us).
    pub(crate) async fn settle(
        &self,
        mut rec: ServiceRecord,
        owner: &str,
        delivered: &[String],
    ) -> Result<(), HandlerError> {
        for _ in 0..self.config.max_attempts {
            let expected = rec.revision;
            rec.outbox.settle(owner, delivered);
            rec.revision = expected + 1;
            let request = SaveRequest {
                record: &rec,
                expected,
                due_at: self.due_at(&rec, self.clock.now()),
                finished: &[],
            };
            match self.store.save(request).await {
                Ok(()) => return Ok(()),
                Err(StoreError::Conflict { .. }) => {
                    rec = self.load_or_new(rec.state.service()).await?;
                }
                Err(e) => return Err(e.into()),
            }
        }
        Err(HandlerError::Conflict {
            service: rec.state.service().to_string(),
            attempts: self.config.max_attempts,
        })
    }

    /// Counts one rejected event (best effort: the error itself is what matters).
    pub(crate) async fn count_rejected(&self) {
        let m = health(MetricName::EventsRejected, 1.0, self.clock.now());
        if let Err(e) = self.metrics.send(&[m]).await {
            tracing::warn!(error = %super::error_chain(&e), "could not count the rejected event");
        }
    }
}

/// Whether an alert is published: never for a muted service; info alerts only when
/// the service tag (or else the watcher-wide setting) allows them.
pub(crate) fn publishable(
    alert: &Alert,
    config: Option<&ServiceConfig>,
    notify_info: bool,
) -> bool {
    if config.is_some_and(|c| c.mute) {
        return false;
    }
    alert.severity != Severity::Info || config.and_then(|c| c.notify_info).unwrap_or(notify_info)
}

fn health(name: MetricName, value: f64, at: Timestamp) -> Metric {
    Metric {
        name,
        value,
        unit: Unit::Count,
        dimensions: None,
        at,
        dedup_key: format!("health|{}|{}", name.as_str(), at.as_millis()),
    }
}
