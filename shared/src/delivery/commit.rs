//! The write half of delivery, shared by the event handler and the sweeper: record
//! effects in the outbox with the state (one conditional write) and claim what this
//! invocation will deliver (`deliver` publishes it and marks it sent).
//!
//! Metrics written to the invocation's log (EMF) take a shorter road: they are not
//! queued but written right after the state write that produced them succeeds.
//! Nothing that can fail stands between that write and the log line, and a retry
//! finds the event applied and produces them no more: exactly once, with no second
//! write. When the write's reply is lost, the item is read back: if it carries this
//! invocation's name at the expected revision, the write landed and its effects are
//! delivered; otherwise the write is retried (re-applied) as after any conflict.

use crate::core::{
    Alert, Effect, Effects, Metric, RolloutSummary, ServiceConfig, ServiceState, Severity,
};
use crate::error_chain;
use crate::model::{Millis, ServiceArn, Timestamp};
use crate::outbox::{Pending, Recorded};
use crate::ports::{Clock, MetricsSink, Ports, SaveRequest, StateStore, StoreError};
use crate::record::ServiceRecord;

use super::{HandlerError, Watcher};

/// The result of a successful conditional write.
#[derive(Debug, Default)]
pub(crate) struct Committed {
    /// Entries this invocation claimed and must deliver.
    pub(crate) claimed: Vec<Pending>,
    /// Data points for the log sink, written now and never queued.
    pub(crate) direct: Vec<Metric>,
    /// What the write queued.
    pub(crate) recorded: Recorded,
}

/// How a conditional write ended.
#[derive(Debug)]
pub(crate) enum Write {
    /// It landed: deliver.
    Done(Committed),
    /// Another writer came first: re-apply on the record it left.
    Lost(Box<ServiceRecord>),
}

/// A service's write, staged: the record is signed, the write not sent.
#[derive(Debug)]
pub(crate) enum Staged {
    /// Nothing changed and nothing waits: no write is needed.
    Skip,
    /// The write to send.
    Write(StagedWrite),
}

/// What a staged write sends with the record, and delivers once it lands.
#[derive(Debug)]
pub(crate) struct StagedWrite {
    expected: u64,
    due_at: Option<Timestamp>,
    finished: Vec<RolloutSummary>,
    committed: Committed,
}

impl StagedWrite {
    /// The conditional write of `rec` (the record [`Watcher::stage`] signed).
    pub(crate) fn request<'a>(&'a self, rec: &'a ServiceRecord) -> SaveRequest<'a> {
        SaveRequest {
            record: rec,
            expected: self.expected,
            due_at: self.due_at,
            finished: &self.finished,
        }
    }
}

/// The stored item read back after a write failed.
pub(super) struct ReadBack {
    /// It is the write this invocation attempted.
    pub(super) ours: bool,
    /// What is stored.
    pub(super) stored: ServiceRecord,
}

impl Committed {
    /// Whether the outbox holds entries this invocation must mark sent.
    pub(crate) fn needs_settling(&self) -> bool {
        !self.claimed.is_empty()
    }
}

impl<P: Ports> Watcher<P> {
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
    /// `expected`. [`Write::Lost`] on a conflict, with the record to re-apply on.
    /// Skips the write when nothing changed and nothing waits.
    ///
    /// `before` are the finished rollouts as they stood before this attempt applied
    /// anything: a finished rollout whose summary differs now (it just finished, or
    /// a late event corrected its downtime, its failure counts, its rollback link)
    /// has its history item written in the same transaction, so the history never
    /// lags the live state.
    pub(crate) async fn commit(
        &self,
        rec: &mut ServiceRecord,
        expected: u64,
        effects: &Effects,
        state_changed: bool,
        before: &[RolloutSummary],
        owner: &str,
    ) -> Result<Write, HandlerError> {
        let staged = self.stage(rec, expected, effects, state_changed, before, owner);
        self.write_staged(rec, owner, staged).await
    }

    /// Sends a staged write on its own and concludes it.
    pub(crate) async fn write_staged(
        &self,
        rec: &ServiceRecord,
        owner: &str,
        staged: Staged,
    ) -> Result<Write, HandlerError> {
        match staged {
            Staged::Skip => Ok(Write::Done(Committed::default())),
            Staged::Write(staged) => {
                let result = self.store.save(staged.request(rec)).await;
                self.conclude(rec, owner, staged, result).await
            }
        }
    }

    /// [`Self::commit`]'s first half, without I/O: records `effects` in the outbox,
    /// claims what waits, signs the record; what is left is to send the write (alone,
    /// or with other services' in one call) and [`Self::conclude`].
    pub(crate) fn stage(
        &self,
        rec: &mut ServiceRecord,
        expected: u64,
        effects: &Effects,
        state_changed: bool,
        before: &[RolloutSummary],
        owner: &str,
    ) -> Staged {
        let notify_info = self.config.notify_info;
        let config = rec.state.config().cloned();
        let direct: Vec<Metric> = if self.metrics.writes_to_log() {
            effects.metrics().cloned().collect()
        } else {
            Vec::new()
        };
        let queued = if direct.is_empty() {
            rec.outbox
                .record(effects, |a| publishable(a, config.as_ref(), notify_info))
        } else {
            let alerts_only = Effects {
                items: effects
                    .items
                    .iter()
                    .filter(|e| !matches!(e, Effect::Metric(_)))
                    .cloned()
                    .collect(),
                ..Effects::default()
            };
            rec.outbox.record(&alerts_only, |a| {
                publishable(a, config.as_ref(), notify_info)
            })
        };
        let recorded = Recorded {
            metrics: queued.metrics + direct.len(),
            ..queued
        };
        let now = self.clock.now();
        let claimed = rec.outbox.claim(owner, now, self.config.lease);
        if !state_changed && claimed.is_empty() && direct.is_empty() && expected != 0 {
            return Staged::Skip;
        }
        let finished: Vec<RolloutSummary> = finished(&rec.state)
            .into_iter()
            .filter(|r| !before.contains(r))
            .collect();
        rec.sign(expected, owner);
        Staged::Write(StagedWrite {
            expected,
            due_at: self.due_at(rec, now),
            finished,
            committed: Committed {
                claimed,
                direct,
                recorded,
            },
        })
    }

    /// [`Self::commit`]'s second half: what the staged write's `result` means. A
    /// failure is read back, so a write that landed though its reply was lost is
    /// done, and a conflict gives the record to re-apply on.
    pub(crate) async fn conclude(
        &self,
        rec: &ServiceRecord,
        owner: &str,
        staged: StagedWrite,
        result: Result<(), StoreError>,
    ) -> Result<Write, HandlerError> {
        let Err(e) = result else {
            return Ok(Write::Done(staged.committed));
        };
        match self.read_back(rec, owner, &e).await {
            Some(back) if back.ours => {
                tracing::debug!(service = %rec.state.service(), "the write landed though its reply was lost");
                Ok(Write::Done(staged.committed))
            }
            Some(back) if matches!(e, StoreError::Conflict { .. }) => {
                Ok(Write::Lost(Box::new(back.stored)))
            }
            _ => Err(e.into()),
        }
    }

    /// After a failed or conflicting write: the stored item (as the conflict returned
    /// it, or read), and whether it is the one this invocation wrote (or one written
    /// on top of it). Read up to three times: an unanswered question here is the one
    /// way a landed write's log-sink metrics could be lost (the retry finds the event
    /// applied). `None` when every read failed.
    pub(super) async fn read_back(
        &self,
        rec: &ServiceRecord,
        owner: &str,
        failure: &StoreError,
    ) -> Option<ReadBack> {
        if let StoreError::Conflict {
            current: Some(winner),
            ..
        } = failure
        {
            return Some(ReadBack {
                ours: winner.written_by(rec.revision, owner),
                stored: (**winner).clone(),
            });
        }
        for attempt in 1..=3 {
            match self.load_or_new(rec.state.service()).await {
                Ok(stored) => {
                    return Some(ReadBack {
                        ours: stored.written_by(rec.revision, owner),
                        stored,
                    });
                }
                Err(e) => {
                    tracing::warn!(service = %rec.state.service(), attempt, error = %error_chain(&e), "could not read back a failed write");
                    self.back_off(attempt, owner).await;
                }
            }
        }
        None
    }

    /// Backs off before attempt `attempt + 1` after losing a race: 10 ms doubling
    /// to at most 640 ms, with a jitter from the invocation's name so that racing
    /// invocations do not retry in lockstep.
    pub(crate) async fn back_off(&self, attempt: u32, owner: &str) {
        let base = 10_i64 << attempt.saturating_sub(1).min(6);
        let jitter = owner.bytes().fold(u64::from(attempt), |h, b| {
            h.wrapping_mul(31).wrapping_add(u64::from(b))
        }) % 1000;
        let jitter = i64::try_from(jitter).unwrap_or(0);
        self.clock.pause(Millis(base + base * jitter / 1000)).await;
    }

    /// When the sweeper should look at the service next: now (every tick) while
    /// effects wait, a zero awaits ECS's word, or anything is open (a rollout in
    /// progress: the sweeper checks ECS for an outcome whose event was lost, and
    /// its deadline; a zero window: the service is down and gets its gauge every
    /// tick); otherwise at the next deadline, if any; otherwise never (the item
    /// leaves the sparse index). A service ECS no longer knows is due only while
    /// effects wait.
    pub(crate) fn due_at(&self, rec: &ServiceRecord, now: Timestamp) -> Option<Timestamp> {
        // A deleted service's open work never ends: only what waits keeps it due.
        if rec.is_gone() {
            return (!rec.outbox.is_empty()).then_some(now);
        }
        let open = rec.state.has_open_work() || rec.state.needs_observation();
        if open || !rec.outbox.is_empty() {
            return Some(now);
        }
        rec.state.next_deadline(&self.config.settings)
    }
}

/// The finished rollouts of a service, as their history items hold them.
pub(crate) fn finished(state: &ServiceState) -> Vec<RolloutSummary> {
    state
        .rollouts()
        .into_iter()
        .filter(|r| r.state.is_terminal())
        .collect()
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
