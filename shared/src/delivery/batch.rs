//! A batch of queued events (SQS FIFO -> Lambda, up to 10 messages): one load per
//! service and ONE call writing every service, where one event per invocation costs
//! a write per event and, for a service of hundreds of tasks rolling, a
//! conditional-write race per event between concurrent invocations.
//!
//! Events are grouped by service, each service's in batch order, services in the
//! order of their first message. Per service: load once, run the per-event step
//! (`step`) on each event in order on that record, stage its write. Then one call
//! (the store's `save_many`: one DynamoDB `BatchExecuteStatement`) sends every
//! service's write, each still conditional on its own revision (the sweeper writes
//! the same items). Then, in order, each service whose write landed is delivered and
//! settled as `handle` does; one whose write lost a race re-applies its whole
//! sequence on the record the race left, with a write of its own.
//!
//! A service whose write did not land (run again, a few times within the batch's
//! first seconds, when the table failed for a reason a retry can mend) hands back
//! its messages, and so does every later service whose write did not land either:
//! each service's events stay in order, and a failing table is not asked again
//! service by service. Services whose write landed are done, before it or after
//! it. A service the batch has no time left to start before the invocation's
//! deadline, or to write again, hands its messages back too; a written service the
//! batch has no time left to deliver leaves its alerts in the outbox for the
//! sweeper. A service whose stored item cannot be decoded hands back its own
//! messages only: no retry mends it, and the batch's other services go on.
//!
//! A service whose write landed is done even when its alerts or metrics could not
//! be sent (SNS or CloudWatch down): they wait in the outbox, which the sweeper
//! delivers within the minute; once SNS or CloudWatch failed in a batch, its later
//! services leave theirs there at once (see `held`). Handing the messages back
//! would only hold the account's queue behind the outage, and an outage longer
//! than the queue's receives would send events never applied to the dead-letter
//! queue.
//!
//! A message a retry cannot mend (malformed, or dated far ahead) is counted, logged
//! with its body and acknowledged: in one FIFO message group it would otherwise hold
//! every later event of the account behind it until it reached the dead-letter queue.

use serde::Serialize;

use crate::model::{EcsEvent, Millis, Timestamp};
use crate::ports::{Clock, Ports};

use super::Watcher;
use super::batch_service::{Applied, Landed, Queued, ServiceEvents, unreadable};
use super::event::{Accepted, capped};
use super::held::Down;

/// One SQS message of a batch.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct QueuedEvent<'a> {
    /// The SQS message id (what a partial-batch response names).
    pub message_id: &'a str,
    /// The EventBridge event, as JSON text.
    pub body: &'a str,
}

/// What one batch did (the Lambda response is built from `failed`).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct BatchOutcome {
    /// Message ids to hand back to the queue, in batch order: the messages of a
    /// service whose write did not land and of every later service whose write did
    /// not land either (of a service whose item cannot be decoded, its own only),
    /// or of the services there was no time left to start or to write again.
    pub failed: Vec<String>,
    /// Events applied.
    pub applied: usize,
    /// Events that changed nothing (seen before, in this batch or an earlier one).
    pub duplicate: usize,
    /// Events too late to be applied (more than `LATE_LIMIT` behind their service's
    /// clock, about what it no longer holds): acknowledged, logged as `late`.
    pub late: usize,
    /// Events the watcher does not follow (acknowledged).
    pub ignored: usize,
    /// Malformed or far-future events (counted as `EventsRejected`, acknowledged).
    pub rejected: usize,
    /// Services written (each a conditional write, sent together in one call, plus
    /// a settle when alerts/metrics were claimed).
    pub services: usize,
    /// Alerts published.
    pub alerts_published: usize,
    /// Metric data points sent.
    pub metrics_sent: usize,
    /// Conditional-write attempts, summed over the batch's services.
    pub attempts: u32,
    /// Messages handed back because the invocation's deadline was too near to
    /// start their service, or to write it again (in `failed` too).
    pub deferred: usize,
    /// Services whose write landed but whose alerts or metrics could not all be
    /// sent or marked sent: the outbox keeps them for the sweeper. A publish whose
    /// marking failed is published again then (the at-least-once window).
    pub unsettled: usize,
}

/// A batch starts a service (after its first) only while this much of the
/// invocation is left: about one hung AWS call (the SDK clients' operation timeout,
/// 10 s) and the service's write after it. A batch that Lambda's timeout cuts off
/// answers nothing: every message of it returns to the queue, the services it
/// finished included, and when the same slow call cuts off every try, the events
/// it never reached go to the dead-letter queue unapplied. Handed back instead,
/// they wait the same visibility timeout, and the finished ones are deleted. Under
/// a timeout shorter than twice this, half the invocation's time is kept instead.
const BATCH_MARGIN: Millis = Millis::from_secs(12);

impl<P: Ports> Watcher<P> {
    /// Handles one batch of queued events. `invocation` identifies the caller (the
    /// Lambda request id): it owns the outbox entries it claims. Never fails as a
    /// whole: what must be retried is in [`BatchOutcome::failed`].
    pub async fn handle_batch(&self, batch: &[QueuedEvent<'_>], invocation: &str) -> BatchOutcome {
        self.handle_batch_within(batch, invocation, Timestamp::from_millis(i64::MAX))
            .await
    }

    /// [`Self::handle_batch`] for an invocation that Lambda stops at `deadline`.
    pub async fn handle_batch_within(
        &self,
        batch: &[QueuedEvent<'_>],
        invocation: &str,
        deadline: Timestamp,
    ) -> BatchOutcome {
        let started = self.clock.now();
        let mut out = BatchOutcome::default();
        let groups = self.group(batch, &mut out);
        let mut down = Down::default();
        // Half the invocation's time under a short function timeout, where the
        // full margin would leave a quick batch one service per invocation.
        let margin = BATCH_MARGIN.min(Millis(deadline.since(started).0 / 2));
        if out.rejected > 0 {
            self.count_rejected(out.rejected).await;
        }
        let mut back: Vec<&ServiceEvents<'_>> = Vec::new();
        // Apply every service's events on its record, within the deadline: the
        // first service always runs, so that a batch makes progress under any
        // function timeout; a later one only with time to finish.
        let mut applied = Vec::with_capacity(groups.len());
        for (g, group) in groups.iter().enumerate() {
            if g > 0 && self.clock.now().plus(margin) >= deadline {
                back.extend(&groups[g..]);
                out.deferred = groups[g..].iter().map(|s| s.events.len()).sum();
                tracing::warn!(service = %group.service, handed_back = out.deferred, "batch out of time; this service's messages and later services' go back to the queue");
                break;
            }
            applied.push((group, self.apply(group, invocation).await));
        }
        // One call writes them all; then each is delivered, or run again on its own.
        let landed = self.write_all(applied, invocation).await;
        let mut stopped = false;
        let (mut delivering, mut late) = (0, false);
        for (group, landed) in landed {
            let result = match landed {
                Ok(Landed::Done(a, done)) => {
                    // Written, so done: without time to publish, what it claimed
                    // waits in the outbox for the sweeper.
                    if delivering > 0 && self.clock.now().plus(margin) >= deadline {
                        if !late {
                            tracing::warn!(service = %group.service, "batch out of time to deliver; the written services' alerts and metrics wait in the outbox for the sweeper");
                        }
                        late = true;
                        down.out_of_time();
                    }
                    delivering += 1;
                    let Applied { rec, each, .. } = *a;
                    self.finish_service(group, rec, &each, &done, (invocation, 1), &mut down)
                        .await
                }
                Ok(Landed::Again(_)) | Err(_) if stopped => {
                    back.push(group);
                    continue;
                }
                Ok(Landed::Again(_)) if self.clock.now().plus(margin) >= deadline => {
                    back.push(group);
                    out.deferred += group.events.len();
                    tracing::warn!(service = %group.service, handed_back = group.events.len(), "batch out of time to write this service again; its messages go back to the queue");
                    continue;
                }
                Ok(Landed::Again(retry)) => {
                    self.run_service_rounds(group, invocation, started, &mut down, retry)
                        .await
                }
                Err(e) => Err(e),
            };
            match result {
                Ok(done) => {
                    out.services += 1;
                    out.duplicate += done.duplicates;
                    out.late += done.late;
                    out.applied += group.events.len() - done.duplicates - done.late;
                    out.alerts_published += done.alerts;
                    out.metrics_sent += done.metrics;
                    out.attempts += done.attempts;
                    out.unsettled += usize::from(done.unsettled);
                }
                // Its own item: the batch's other services go on.
                Err(e) if unreadable(&e) => {
                    tracing::error!(service = %group.service, error = %e.chain(), handed_back = group.events.len(), "the service's stored item cannot be decoded; its messages go back to the queue, and to its dead-letter queue after its receives");
                    back.push(group);
                }
                Err(e) => {
                    back.push(group);
                    stopped = true;
                    tracing::error!(service = %group.service, error = %e.chain(), error_type = e.error_type(), handed_back = group.events.len(), "service failed; its messages, and those of later services whose write did not land, go back to the queue");
                }
            }
        }
        out.failed = handed_back(batch, back);
        tracing::info!(
            messages = batch.len(),
            services = out.services,
            applied = out.applied,
            duplicate = out.duplicate,
            late = out.late,
            ignored = out.ignored,
            rejected = out.rejected,
            failed = out.failed.len(),
            deferred = out.deferred,
            published = out.alerts_published,
            metrics_sent = out.metrics_sent,
            attempts = out.attempts,
            unsettled = out.unsettled,
            "batch"
        );
        out
    }

    /// Decodes every message and groups the usable ones by service; counts and logs
    /// the ignored and the rejected.
    fn group<'a>(
        &self,
        batch: &[QueuedEvent<'a>],
        out: &mut BatchOutcome,
    ) -> Vec<ServiceEvents<'a>> {
        let mut groups: Vec<ServiceEvents> = Vec::new();
        for (i, m) in batch.iter().enumerate() {
            let input = match self.accept(EcsEvent::from_json(m.body), Some(m.message_id)) {
                Ok(Accepted::Use(input)) => input,
                Ok(Accepted::Ignore) => {
                    out.ignored += 1;
                    continue;
                }
                Err(r) => {
                    out.rejected += 1;
                    let service = r.service.as_ref().map(tracing::field::display);
                    tracing::error!(message_id = m.message_id, error = %r.error, service, body = capped(m.body), outcome = "rejected", "event");
                    continue;
                }
            };
            let queued = Queued {
                at: i,
                message_id: m.message_id,
                input,
            };
            match groups
                .iter_mut()
                .find(|g| g.service == queued.input.service)
            {
                Some(g) => g.events.push(queued),
                None => groups.push(ServiceEvents {
                    service: queued.input.service.clone(),
                    events: vec![queued],
                }),
            }
        }
        groups
    }
}

/// The message ids of these services' events, in batch order.
fn handed_back(batch: &[QueuedEvent<'_>], services: Vec<&ServiceEvents<'_>>) -> Vec<String> {
    let mut at: Vec<usize> = services
        .into_iter()
        .flat_map(|s| s.events.iter().map(|q| q.at))
        .collect();
    at.sort_unstable();
    at.into_iter()
        .map(|i| batch[i].message_id.to_owned())
        .collect()
}
