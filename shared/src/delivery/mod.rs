//! Delivery: the library side of the Lambda functions, generic over the ports.
//!
//! [`Watcher::handle`] is the whole ecs-event-handler: decode, load the service's
//! record, refresh its ECS configuration when a rollout starts or the cached one is
//! stale, apply the event (a hook event's service deployment not yet joined to a
//! rollout is first read through one DescribeServiceDeployments, see `native`),
//! confirm a zero through DescribeServices when the state
//! machine asks, write state + outbox in one conditional write (re-read and re-apply
//! on a conflict, a bounded number of times), then publish the claimed alerts, send
//! the metrics, and mark them sent. The binaries' wiring, configuration and Lambda
//! error mapping live in [`crate::lambda`], on top of this module.
//!
//! [`Watcher::handle_batch`] is the same handler fed from an SQS FIFO queue, up to
//! ten events per invocation: the events are grouped by service, and each service's
//! record is loaded once, takes its events in order through the same per-event step,
//! and is written once; the batch's services are written together, in one call of
//! a conditional statement each (see `batch`, `batch_service`). Under a burst on
//! one service that is one conditional write per batch instead of one race per
//! event; on many services, one call per batch instead of one per service.
//!
//! # Guarantees (DESIGN.md "Delivery")
//! - An event is applied at most once: a retry finds its id (or its task `version`)
//!   in the state and changes nothing, but still flushes what the first try left in
//!   the outbox.
//! - An alert is published once per dedup key, unless the process dies between the
//!   SNS publish and the write that marks it sent (then the next invocation publishes
//!   it again: at-least-once, the key is the message `id` for subscribers to dedup).
//! - An SNS or CloudWatch failure fails the invocation after the state is saved, so
//!   the Lambda retry delivers without re-applying.
//! - In a batch, each service's events are applied in queue order, and a service
//!   whose write does not land (store, conflicts past the bound) hands back its
//!   messages and those of every later service whose write did not land either;
//!   services whose write landed stay done, before it or after it.
//!   A store failure a retry can mend is first met by running the service again,
//!   within the batch's first seconds: a message handed back holds the account's
//!   queue for its visibility timeout.
//!   A service whose stored item cannot be decoded hands back its own messages
//!   only (they reach the dead-letter queue after the queue's receives).
//!   A service is started (after the batch's first) only with time left to finish
//!   it before the invocation's deadline; the rest is handed back the same way,
//!   where a batch cut off by Lambda's timeout would send every message back; a
//!   written service with no time left to publish leaves its alerts to the sweeper.
//!   The redelivered messages are retries as above: applied at most once. An SNS or
//!   CloudWatch failure after the write hands nothing back: what was not sent waits
//!   in the outbox, and the sweeper delivers it (once per key, as above); the
//!   batch's later services leave theirs there too instead of trying it again.
//! - A queued event that a retry cannot mend (malformed, or dated too far ahead) is
//!   counted as `EventsRejected`, logged at ERROR with its message id and body, and
//!   acknowledged: in a FIFO queue it would hold back every later event.

mod batch;
mod batch_service;
mod commit;
mod deliver;
mod event;
mod held;
mod native;
mod queue;
mod step;
mod sweep;

use serde::Serialize;
use thiserror::Error;

use crate::core::Settings;
use crate::model::{Millis, ModelError};
use crate::ports::{NotifyError, Ports, StoreError};

pub use crate::ports::MetricsError;
pub use batch::{BatchOutcome, QueuedEvent};
pub use queue::{BatchResponse, ItemFailure, Response};
pub use sweep::{SWEEP_MARGIN, SweepConfig, SweepReport};

/// Knobs of the delivery layer (the state machine's own are in [`Settings`]).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct WatcherConfig {
    /// The state machine's settings (`confirm_zero: true` when deployed).
    pub settings: Settings,
    /// Publish info alerts (`deployment_started`, `deployment_completed`); a service
    /// tag `rollout-watcher:notify-info` overrides it.
    pub notify_info: bool,
    /// How long a claim on outbox entries keeps other invocations off them.
    pub lease: Millis,
    /// A cached ECS configuration older than this is read again.
    pub config_max_age: Millis,
    /// Conditional-write attempts before giving up with [`HandlerError::Conflict`].
    pub max_attempts: u32,
    /// Seed the task set of a never-seen service from ListTasks/DescribeTasks.
    pub seed_tasks: bool,
    /// An event dated further ahead of the wall clock than this is refused: the
    /// state machine runs on event time, and one event from 9999 would otherwise
    /// move its service's clock past every deadline for good.
    pub max_ahead: Millis,
}

impl Default for WatcherConfig {
    fn default() -> Self {
        Self {
            settings: Settings {
                confirm_zero: true,
                ..Settings::default()
            },
            notify_info: true,
            lease: Millis::from_secs(120),
            config_max_age: Millis::from_secs(15 * 60),
            max_attempts: 8,
            seed_tasks: true,
            max_ahead: Millis::from_secs(15 * 60),
        }
    }
}

/// The ports and the configuration: one per Lambda sandbox, shared by invocations.
/// `P` names the five port types at once (`Watcher<(Store, Notifier, Metrics,
/// Inspector, Clock)>`, see [`Ports`]).
pub struct Watcher<P: Ports> {
    /// Service state and outbox.
    pub store: P::Store,
    /// Alerts.
    pub notifier: P::Notifier,
    /// Metrics.
    pub metrics: P::Metrics,
    /// ECS look-ups.
    pub inspector: P::Inspector,
    /// Wall clock (leases, cache ages).
    pub clock: P::Clock,
    /// Knobs.
    pub config: WatcherConfig,
}

impl<S, N, M, I, C> Watcher<(S, N, M, I, C)>
where
    (S, N, M, I, C): Ports<Store = S, Notifier = N, Metrics = M, Inspector = I, Clock = C>,
{
    /// A watcher on these five ports. A struct literal cannot name the bundle from its
    /// fields (the fields are the bundle's associated types), so code that builds one
    /// without a type alias in sight uses this.
    pub fn from_parts(
        store: S,
        notifier: N,
        metrics: M,
        inspector: I,
        clock: C,
        config: WatcherConfig,
    ) -> Self {
        Self {
            store,
            notifier,
            metrics,
            inspector,
            clock,
            config,
        }
    }
}

impl<P: Ports> std::fmt::Debug for Watcher<P> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Watcher")
            .field("config", &self.config)
            .finish_non_exhaustive()
    }
}

/// What one invocation did (the Lambda response).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Outcome {
    /// `applied`, `duplicate`, `late` (too late to be applied: see
    /// [`crate::core::LATE_LIMIT`]) or `ignored`.
    pub status: &'static str,
    /// The service, when the event belonged to one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub service: Option<String>,
    /// Alerts published by this invocation (including ones left by earlier ones).
    pub alerts_published: usize,
    /// Metric data points sent by this invocation.
    pub metrics_sent: usize,
    /// Conditional-write attempts used.
    pub attempts: u32,
}

/// Why an invocation failed. [`HandlerError::error_type`] is the stable name the
/// Lambda error (and the dead-letter record) carries.
#[derive(Debug, Error)]
pub enum HandlerError {
    /// The event is not a usable ECS event; retrying will not help.
    #[error("malformed event: {0}")]
    Malformed(#[from] ModelError),
    /// Concurrent writers kept overtaking this one.
    #[error("state of {service}: still conflicting after {attempts} attempts")]
    Conflict {
        /// The service.
        service: String,
        /// Attempts made.
        attempts: u32,
    },
    /// The state table failed.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// SNS failed; the alert waits in the outbox.
    #[error(transparent)]
    Notify(#[from] NotifyError),
    /// CloudWatch failed; the data points wait in the outbox.
    #[error(transparent)]
    Metrics(#[from] MetricsError),
}

impl HandlerError {
    /// `MalformedEvent`, `Conflict` or `Retryable`.
    pub fn error_type(&self) -> &'static str {
        match self {
            Self::Malformed(_) => "MalformedEvent",
            Self::Conflict { .. } => "Conflict",
            Self::Store(StoreError::Conflict { .. }) => "Conflict",
            Self::Store(_) | Self::Notify(_) | Self::Metrics(_) => "Retryable",
        }
    }

    /// The message with every source appended (`a: b: c`), for logs and the Lambda
    /// error message, where only a string survives.
    pub fn chain(&self) -> String {
        crate::error_chain(self)
    }
}

#[cfg(test)]
mod tests;
