//! What a batch learned from its earlier services' deliveries. Once SNS (or
//! CloudWatch) failed for one service, the batch's later services do not try it
//! again: their entries stay in the outbox, released at once, for the sweeper's next
//! tick. An SNS that hangs costs each publish the SDK's operation timeout (10 s); tried
//! for every service of a batch, it would hold the batch past the function's
//! timeout, or make it hand its later services back to the queue, which holds every
//! later event of the account for the visibility timeout.

use crate::outbox::Pending;
use crate::ports::Ports;
use crate::record::ServiceRecord;

use super::commit::{Committed, Delivered};
use super::{HandlerError, Watcher};

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
        let (delivered, result, held) = match down.spare(done) {
            None => {
                let (delivered, result) = self.deliver_and_settle(rec, done, owner).await;
                (delivered, result, 0)
            }
            Some((now, held)) => {
                let service = rec.state.service().clone();
                tracing::info!(service = %service, held, "SNS or CloudWatch failed earlier in this batch; the outbox keeps what would go there, for the sweeper");
                let mut delivered = self.deliver(&now).await;
                let settled = self.settle(rec, owner, &delivered.keys).await;
                let result = delivered.failure.take().map_or(settled, Err);
                (delivered, result, held)
            }
        };
        down.learn(&result);
        (delivered, result, held)
    }
}
