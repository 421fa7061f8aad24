//! A batch's (or a sweeper tick's) delivery of one service's claimed entries.
//!
//! What a batch learned from its earlier services' deliveries: once SNS (or
//! CloudWatch) failed for one service, the batch's later services do not try it
//! again: their entries stay in the outbox, released at once, for the sweeper's next
//! tick. A sweeper tick does the same for its due services: a hung SNS tried for
//! each would spend every tick on its first few services. An SNS that hangs costs each publish the SDK's operation timeout (10 s); tried
//! for every service of a batch, it would hold the batch past the function's
//! timeout, or make it hand its later services back to the queue, which holds every
//! later event of the account for the visibility timeout.
//!
//! A write marking published entries sent that the table refuses quickly is tried
//! again after a pause (`settle_again`).

use crate::model::{Millis, ServiceArn};
use crate::outbox::Pending;
use crate::ports::{Clock, Ports};
use crate::record::ServiceRecord;

use super::commit::Committed;
use super::deliver::Delivered;
use super::{HandlerError, Watcher};

/// A failed mark-sent answered within this is tried again.
const QUICK: Millis = Millis::from_secs(5);
/// The pause before it is.
const PAUSE: Millis = Millis(500);

/// The delivery ports found failing earlier in the batch.
#[derive(Debug, Default)]
pub(super) struct Down {
    alerts: bool,
    metrics: bool,
}

impl Down {
    /// Notes what a service's delivery found failing (a failure to mark entries
    /// sent is the table's, not SNS's or CloudWatch's).
    pub(super) fn learn(&mut self, delivery: &Result<(), HandlerError>) {
        match delivery {
            Err(HandlerError::Notify(_)) => self.alerts = true,
            Err(HandlerError::Metrics(_)) => self.metrics = true,
            _ => {}
        }
    }

    /// The batch has no time left to deliver: every later service's entries stay
    /// in the outbox, released for the sweeper.
    pub(super) fn out_of_time(&mut self) {
        self.alerts = true;
        self.metrics = true;
    }

    /// What of `done` to deliver now, and how many claimed entries wait for the
    /// sweeper instead; `None` when nothing of it goes where a call failed. The log
    /// sink's data points are always written: they are in no outbox.
    pub(super) fn spare(&self, done: &Committed) -> Option<(Committed, usize)> {
        let held = |p: &Pending| match p {
            Pending::Alert(_) => self.alerts,
            Pending::Metric(_) => self.metrics,
        };
        let n = done.claimed.iter().filter(|p| held(p)).count();
        (n > 0).then(|| {
            let now = Committed {
                claimed: done.claimed.iter().filter(|p| !held(p)).cloned().collect(),
                direct: done.direct.clone(),
                recorded: done.recorded,
            };
            (now, n)
        })
    }
}

impl<P: Ports> Watcher<P> {
    /// Delivers what `done` claimed and marks it sent, except what goes where a call
    /// failed earlier in the batch (released instead); notes what this delivery
    /// finds failing. Also answers how many entries it held back.
    pub(super) async fn deliver_sparing(
        &self,
        rec: ServiceRecord,
        done: &Committed,
        owner: &str,
        down: &mut Down,
    ) -> (Delivered, Result<(), HandlerError>, usize) {
        let spared = down.spare(done);
        let (now, held) = spared.as_ref().map_or((done, 0), |(c, n)| (c, *n));
        let service = rec.state.service().clone();
        if held > 0 {
            tracing::info!(service = %service, held, "SNS or CloudWatch failed earlier in this batch; the outbox keeps what would go there, for the sweeper");
        }
        let mut delivered = self.deliver(now).await;
        let settled = if done.needs_settling() {
            self.settle_again(rec, &service, owner, &delivered.keys)
                .await
        } else {
            Ok(())
        };
        let result = match delivered.failure.take() {
            Some(failure) => {
                if let Err(e) = settled {
                    tracing::warn!(service = %service, error = %e.chain(), "could not release the outbox claims");
                }
                Err(failure)
            }
            None => settled,
        };
        down.learn(&result);
        (delivered, result, held)
    }

    /// [`Self::settle`], and once more after a pause when the table refused it
    /// quickly for a reason a retry can mend (throttled, a 5xx). Entries published
    /// but not marked sent are published again once their claim's lease is over:
    /// the pause spares a blip of the table a second alert. A table that took the
    /// SDK's timeouts to fail is not asked again: the batch's time is short.
    async fn settle_again(
        &self,
        rec: ServiceRecord,
        service: &ServiceArn,
        owner: &str,
        delivered: &[String],
    ) -> Result<(), HandlerError> {
        let asked = self.clock.now();
        let first = self.settle(rec, owner, delivered).await;
        match &first {
            Err(e) if e.error_type() == "Retryable" && self.clock.now().since(asked) < QUICK => {
                tracing::warn!(service = %service, error = %e.chain(), "marking the delivered entries sent failed; trying again");
            }
            _ => return first,
        }
        self.clock.pause(PAUSE).await;
        let rec = self.load_or_new(service).await?;
        self.settle(rec, owner, delivered).await
    }
}
