//! The deliver half of delivery, shared by the event handler and the sweeper:
//! publish what a write claimed (alerts in order, then the metrics in one batch),
//! then mark it sent in a second conditional write, re-read on a conflict (other
//! writers never touch entries this invocation claimed).

use crate::core::{Metric, MetricName};
use crate::error_chain;
use crate::outbox::Pending;
use crate::policy::health_metric;
use crate::ports::{Clock, MetricsSink, Notifier, Ports, SaveRequest, StateStore, StoreError};
use crate::record::ServiceRecord;

use super::commit::Committed;
use super::{HandlerError, Watcher};

/// What delivery achieved.
#[derive(Debug, Default)]
pub(crate) struct Delivered {
    pub(crate) keys: Vec<String>,
    pub(crate) alerts: usize,
    pub(crate) metrics: usize,
    pub(crate) failure: Option<HandlerError>,
}

impl<P: Ports> Watcher<P> {
    /// Publishes the claimed alerts in order (stopping at the first failure, so a
    /// thread never shows "completed" before "started"), then sends the claimed
    /// metrics and the watcher's own health metrics in one batch.
    pub(crate) async fn deliver(&self, done: &Committed) -> Delivered {
        let mut out = Delivered::default();
        if !done.direct.is_empty() {
            match self.metrics.send(&done.direct).await {
                Ok(()) => out.metrics += done.direct.len(),
                Err(e) => {
                    // Nothing to retry: the line did not reach the log. Said loudly,
                    // never repeated (the state already says it was emitted).
                    tracing::error!(error = %error_chain(&e), lost = done.direct.len(), "metric data points could not be written to the log");
                }
            }
        }
        let claimed = &done.claimed;
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
                    tracing::warn!(alert = %a.dedup_key, error = %error_chain(&e), "alert publish failed");
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
            batch.push(health_metric(
                MetricName::AlertsPublished,
                out.alerts as f64,
                now,
            ));
        }
        if failed_alerts > 0 {
            batch.push(health_metric(
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
                out.metrics += data_points;
                out.keys.extend(batch.into_iter().map(|m| m.dedup_key));
            }
            Err(e) => {
                tracing::warn!(error = %error_chain(&e), "metrics send failed");
                if out.failure.is_none() {
                    out.failure = Some(e.into());
                }
            }
        }
        out
    }

    /// Delivers what the write claimed, then marks it sent. A delivery failure is
    /// the result (the settle's own error, if any, is only logged): the retry finds
    /// the entries released and delivers them.
    pub(crate) async fn deliver_and_settle(
        &self,
        rec: ServiceRecord,
        done: &Committed,
        owner: &str,
    ) -> (Delivered, Result<(), HandlerError>) {
        let mut delivered = self.deliver(done).await;
        let settled = if done.needs_settling() {
            self.settle(rec, owner, &delivered.keys).await
        } else {
            Ok(())
        };
        let result = match delivered.failure.take() {
            Some(failure) => {
                if let Err(e) = settled {
                    tracing::warn!(error = %e.chain(), "could not release the outbox claims");
                }
                Err(failure)
            }
            None => settled,
        };
        (delivered, result)
    }

    /// Marks delivered entries sent and releases this invocation's other claims,
    /// re-reading on a conflict (other writers never touch entries claimed by us).
    pub(crate) async fn settle(
        &self,
        mut rec: ServiceRecord,
        owner: &str,
        delivered: &[String],
    ) -> Result<(), HandlerError> {
        for attempt in 1..=self.config.max_attempts {
            let expected = rec.revision;
            rec.outbox.settle(owner, delivered);
            rec.sign(expected, owner);
            let request = SaveRequest {
                record: &rec,
                expected,
                due_at: self.due_at(&rec, self.clock.now()),
                finished: &[],
            };
            let Err(e) = self.store.save(request).await else {
                return Ok(());
            };
            match self.read_back(&rec, owner, &e).await {
                Some(back) if back.ours => return Ok(()),
                Some(back) if matches!(e, StoreError::Conflict { .. }) => {
                    self.back_off(attempt, owner).await;
                    rec = back.stored;
                }
                _ => return Err(e.into()),
            }
        }
        Err(HandlerError::Conflict {
            service: rec.state.service().to_string(),
            attempts: self.config.max_attempts,
        })
    }

    /// Counts `n` rejected events in one data point (best effort: the errors
    /// themselves, logged, are what matters).
    pub(crate) async fn count_rejected(&self, n: usize) {
        let m = health_metric(MetricName::EventsRejected, n as f64, self.clock.now());
        if let Err(e) = self.metrics.send(&[m]).await {
            tracing::warn!(error = %error_chain(&e), rejected = n, "could not count the rejected events");
        }
    }
}
