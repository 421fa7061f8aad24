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

use crate::core::Effects;
use crate::model::{EcsEvent, Input, Millis, ServiceArn, Timestamp};
use crate::ports::{Clock, Ports, StateStore, StoreError};
use crate::record::ServiceRecord;

use super::commit::{Committed, Staged, Write, finished};
use super::event::{Accepted, Written, capped, log_event};
use super::held::Down;
use super::step::Lookups;
use super::{HandlerError, Watcher};

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

/// One service's events in batch order.
struct ServiceEvents<'a> {
    service: ServiceArn,
    events: Vec<Queued<'a>>,
}

/// A usable event of a batch.
struct Queued<'a> {
    /// Its position in the batch.
    at: usize,
    message_id: &'a str,
    input: Input,
}

/// What one service's write and delivery did.
struct ServiceDone {
    duplicates: usize,
    late: usize,
    alerts: usize,
    metrics: usize,
    attempts: u32,
    unsettled: bool,
}

/// One service's events applied on its record, its write staged: what the batch's
/// one write call carries for it.
struct Applied {
    rec: ServiceRecord,
    each: Vec<Effects>,
    staged: Staged,
    lookups: Lookups,
}

/// Where a service stands after the batch's write call.
enum Landed {
    /// Its write landed (or none was needed): deliver.
    Done(Box<Applied>, Committed),
    /// Run it again on its own: its write lost a race or failed, or its record
    /// could not be read.
    Again(Box<Retry>),
}

/// What a service run again on its own starts from.
#[derive(Default)]
struct Retry {
    /// Its ECS look-ups so far.
    lookups: Lookups,
    /// Attempts made.
    tried: u32,
    /// The record to re-apply on (the race's winner), if known.
    fresh: Option<Box<ServiceRecord>>,
}

/// How many times a batch runs a service whose state table failed for a reason a
/// retry can mend (throttled, or a 5xx, past the SDK's own retries). Handing its
/// messages back holds every later event of the account for the queue's visibility
/// timeout (three minutes), where a pause of half a second usually outlasts the blip.
const SERVICE_ROUNDS: u32 = 3;
/// The pause before a service's next round.
const ROUND_PAUSE: Millis = Millis(500);
/// A service gets another round only while the batch is younger than this: a failure
/// that took the SDK's attempt timeouts to come is handed back at once, so that the
/// batch stays well inside the function's timeout.
const ROUNDS_WITHIN: Millis = Millis(5_000);

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
                    if retry.tried > 0 {
                        self.back_off(retry.tried, invocation).await;
                    }
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

    /// [`Self::run_service`], run again after a pause when the state table failed
    /// for a reason a retry can mend, up to [`SERVICE_ROUNDS`] times while the batch
    /// is younger than [`ROUNDS_WITHIN`]. Safe to repeat: a write whose reply was
    /// lost is recognised by its signature when the item is read back, and events
    /// the item already holds change nothing.
    async fn run_service_rounds(
        &self,
        group: &ServiceEvents<'_>,
        invocation: &str,
        started: Timestamp,
        down: &mut Down,
        retry: Box<Retry>,
    ) -> Result<ServiceDone, HandlerError> {
        let Retry {
            mut lookups,
            mut tried,
            mut fresh,
        } = *retry;
        let mut round = 1;
        loop {
            match self
                .run_service(
                    group,
                    invocation,
                    down,
                    &mut lookups,
                    (fresh.take().map(|r| *r), tried),
                )
                .await
            {
                Err(e)
                    if e.error_type() == "Retryable"
                        && !unreadable(&e)
                        && round < SERVICE_ROUNDS
                        && self.clock.now().since(started) < ROUNDS_WITHIN =>
                {
                    tracing::warn!(service = %group.service, round, error = %e.chain(), "state table failed; the service's events are tried again before going back to the queue");
                    self.clock.pause(ROUND_PAUSE).await;
                    round += 1;
                    tried = 0;
                }
                result => return result,
            }
        }
    }

    /// One service's events on one record, one conditional write of its own, then
    /// delivery; after a lost race, again on the winner's record. `fresh`: the
    /// record to start on (else it is loaded); `tried`: attempts already made.
    async fn run_service(
        &self,
        group: &ServiceEvents<'_>,
        invocation: &str,
        down: &mut Down,
        lookups: &mut Lookups,
        (mut fresh, tried): (Option<ServiceRecord>, u32),
    ) -> Result<ServiceDone, HandlerError> {
        for attempt in tried + 1..=self.config.max_attempts {
            let mut rec = match fresh.take() {
                Some(rec) => rec,
                None => self.load_or_new(&group.service).await?,
            };
            let (each, staged) = self.apply_on(&mut rec, group, lookups, invocation).await;
            match self.write_staged(&rec, invocation, staged).await? {
                Write::Done(done) => {
                    return self
                        .finish_service(group, rec, &each, &done, (invocation, attempt), down)
                        .await;
                }
                Write::Lost(stored) => {
                    tracing::debug!(service = %group.service, attempt, "conflict, re-applying the service's events");
                    self.back_off(attempt, invocation).await;
                    fresh = Some(*stored);
                }
            }
        }
        Err(HandlerError::Conflict {
            service: group.service.to_string(),
            attempts: self.config.max_attempts,
        })
    }

    /// The service's events, in order, on `rec`; its write staged.
    async fn apply_on(
        &self,
        rec: &mut ServiceRecord,
        group: &ServiceEvents<'_>,
        lookups: &mut Lookups,
        invocation: &str,
    ) -> (Vec<Effects>, Staged) {
        let expected = rec.revision;
        let before = finished(&rec.state);
        let mut each = Vec::with_capacity(group.events.len());
        let mut all = Effects::default();
        let mut changed = false;
        for (n, q) in group.events.iter().enumerate() {
            let (effects, c) = self.step(rec, &q.input, lookups, n == 0).await;
            changed |= c;
            all.items.extend(effects.items.iter().cloned());
            each.push(effects);
        }
        let staged = self.stage(rec, expected, &all, changed, &before, invocation);
        (each, staged)
    }

    /// A service's first attempt up to its staged write.
    async fn apply(
        &self,
        group: &ServiceEvents<'_>,
        invocation: &str,
    ) -> Result<Applied, HandlerError> {
        let mut lookups = Lookups::default();
        let mut rec = self.load_or_new(&group.service).await?;
        let (each, staged) = self
            .apply_on(&mut rec, group, &mut lookups, invocation)
            .await;
        Ok(Applied {
            rec,
            each,
            staged,
            lookups,
        })
    }

    /// Sends the applied services' staged writes in one call (the store's
    /// `save_many`) and concludes each: landed, or to run again on its own. A
    /// record that could not be read is run again too, unless it cannot be decoded.
    async fn write_all<'g, 'a>(
        &self,
        applied: Vec<(&'g ServiceEvents<'a>, Result<Applied, HandlerError>)>,
        invocation: &str,
    ) -> Vec<(&'g ServiceEvents<'a>, Result<Landed, HandlerError>)> {
        let requests: Vec<_> = applied
            .iter()
            .filter_map(|(_, a)| match a {
                Ok(Applied {
                    rec,
                    staged: Staged::Write(w),
                    ..
                }) => Some(w.request(rec)),
                _ => None,
            })
            .collect();
        let results = self.store.save_many(&requests).await;
        drop(requests);
        let mut results = results.into_iter();
        let mut out = Vec::with_capacity(applied.len());
        for (group, a) in applied {
            let landed = match a {
                Err(e) if unreadable(&e) => Err(e),
                Err(e) => {
                    tracing::warn!(service = %group.service, error = %e.chain(), "could not read the service's record; it is tried again on its own");
                    Ok(Landed::Again(Box::default()))
                }
                Ok(mut a) => match std::mem::replace(&mut a.staged, Staged::Skip) {
                    Staged::Skip => Ok(Landed::Done(Box::new(a), Committed::default())),
                    Staged::Write(w) => {
                        let result = results.next().unwrap_or_else(|| {
                            Err(StoreError::Backend {
                                operation: "save_many",
                                source: "no result for the write".into(),
                            })
                        });
                        match self.conclude(&a.rec, invocation, w, result).await {
                            Ok(Write::Done(done)) => Ok(Landed::Done(Box::new(a), done)),
                            Ok(Write::Lost(stored)) => Ok(Landed::Again(Box::new(Retry {
                                lookups: a.lookups,
                                tried: 1,
                                fresh: Some(stored),
                            }))),
                            Err(e) if unreadable(&e) => Err(e),
                            Err(e) => {
                                tracing::warn!(service = %group.service, error = %e.chain(), "the service's write failed; it is tried again on its own");
                                Ok(Landed::Again(Box::new(Retry {
                                    lookups: a.lookups,
                                    tried: 0,
                                    fresh: None,
                                })))
                            }
                        }
                    }
                },
            };
            out.push((group, landed));
        }
        out
    }

    /// Delivers and settles what the service's write claimed; logs its events. The
    /// write landed, so the service is done whatever delivery does: what could not
    /// be sent (or marked sent) stays in the outbox for the sweeper, as the write's
    /// due time already tells it.
    async fn finish_service(
        &self,
        group: &ServiceEvents<'_>,
        rec: ServiceRecord,
        each: &[Effects],
        done: &Committed,
        (invocation, attempt): (&str, u32),
        down: &mut Down,
    ) -> Result<ServiceDone, HandlerError> {
        let (delivered, result, held) = self.deliver_sparing(rec, done, invocation, down).await;
        let written = Written {
            done,
            delivered: &delivered,
            attempt,
        };
        // The service's one write is told on its last event's line.
        let last = group.events.len() - 1;
        for (n, (q, effects)) in group.events.iter().zip(each).enumerate() {
            let w = (n == last).then_some(&written);
            log_event(&q.input, effects, Some(q.message_id), w);
        }
        if let Err(e) = &result {
            tracing::warn!(service = %group.service, error = %e.chain(), error_type = e.error_type(), "delivery failed after the write; the outbox keeps what was not sent, for the sweeper");
        }
        Ok(ServiceDone {
            duplicates: each.iter().filter(|e| e.duplicate && !e.late).count(),
            late: each.iter().filter(|e| e.late).count(),
            alerts: delivered.alerts,
            metrics: delivered.metrics,
            attempts: attempt,
            unsettled: result.is_err() || held > 0,
        })
    }
}

/// A stored item that cannot be decoded: no retry mends it, and it is that
/// service's alone.
fn unreadable(e: &HandlerError) -> bool {
    matches!(e, HandlerError::Store(StoreError::Corrupt { .. }))
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
