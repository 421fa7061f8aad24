//! One service of a queued batch, from its record to its write and its delivery:
//! its events applied and its write staged (`apply`), every service's staged write
//! sent in one call and concluded (`write_all`), and a service whose write lost a
//! race or failed run again on its own (`run_service_rounds`). `batch` orders them
//! and decides what goes back to the queue.

use crate::core::Effects;
use crate::model::{Input, Millis, ServiceArn, Timestamp};
use crate::ports::{Clock, Ports, StateStore, StoreError};
use crate::record::ServiceRecord;

use super::commit::{Committed, Staged, Write, finished};
use super::event::{Written, log_event};
use super::held::Down;
use super::step::Lookups;
use super::{HandlerError, Watcher};

/// One service's events in batch order.
pub(super) struct ServiceEvents<'a> {
    pub(super) service: ServiceArn,
    pub(super) events: Vec<Queued<'a>>,
}

/// A usable event of a batch.
pub(super) struct Queued<'a> {
    /// Its position in the batch.
    pub(super) at: usize,
    pub(super) message_id: &'a str,
    pub(super) input: Input,
}

/// What one service's write and delivery did.
pub(super) struct ServiceDone {
    pub(super) duplicates: usize,
    pub(super) late: usize,
    pub(super) alerts: usize,
    pub(super) metrics: usize,
    pub(super) attempts: u32,
    pub(super) unsettled: bool,
}

/// One service's events applied on its record, its write staged: what the batch's
/// one write call carries for it.
pub(super) struct Applied {
    pub(super) rec: ServiceRecord,
    pub(super) each: Vec<Effects>,
    staged: Staged,
    lookups: Lookups,
}

/// Where a service stands after the batch's write call.
pub(super) enum Landed {
    /// Its write landed (or none was needed): deliver.
    Done(Box<Applied>, Committed),
    /// Run it again on its own: its write lost a race or failed, or its record
    /// could not be read.
    Again(Box<Retry>),
}

/// What a service run again on its own starts from.
#[derive(Default)]
pub(super) struct Retry {
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

impl<P: Ports> Watcher<P> {
    /// [`Self::run_service`], run again after a pause when the state table failed
    /// for a reason a retry can mend, up to [`SERVICE_ROUNDS`] times while the batch
    /// is younger than [`ROUNDS_WITHIN`]. Safe to repeat: a write whose reply was
    /// lost is recognised by its signature when the item is read back, and events
    /// the item already holds change nothing.
    pub(super) async fn run_service_rounds(
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
        if tried > 0 {
            // Lost a race: let the winner finish before trying again.
            self.back_off(tried, invocation).await;
        }
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
    pub(super) async fn apply(
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
    pub(super) async fn write_all<'g, 'a>(
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
    pub(super) async fn finish_service(
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
pub(super) fn unreadable(e: &HandlerError) -> bool {
    matches!(e, HandlerError::Store(StoreError::Corrupt { .. }))
}
