//! The load tests' shared parts: a mixed stream of many rollouts, the ECS services
//! behind it in the emulator, Lambda's retry model, and reading a run back.
//!
//! The stream: simulated rollouts of every kind (completed, health-check and
//! bad-image rollbacks, zero running tasks, stalled, superseded), one per service,
//! interleaved by event time as EventBridge delivers a busy account's events, then
//! perturbed deterministically: some neighbours swapped, some events delivered twice
//! (EventBridge is at-least-once).
//!
//! Lambda's retry model for an asynchronous invocation: the first try and two retries
//! with the same request id; after that, a later redelivery as a new invocation,
//! modelled as "retry until success, bounded", each one a lease later on the virtual
//! clock (so a dead invocation's outbox claims have expired, as they would have in
//! the minutes before it). In AWS a function error is retried twice and the event
//! then goes to the function's on-failure queue (EventBridge's own retry policy
//! covers only failures to hand the event to Lambda), so a redelivery stands for a
//! redrive of that queue: [`Tally::redelivered`] counts the events that needed one.
//!
//! # Layout
//! - [`stream`]: the streams and their services ([`mixed_stream`]; [`hot_service`],
//!   one big service's rollout, every event on one item).
//! - [`instance`]: one handler instance on the real adapters, its deliveries watched.
//! - [`queue`]: the queue delivery (one SQS FIFO group, batches of ten, one
//!   consumer) and its receives.
//! - [`retry`]: Lambda's and EventBridge's retries, the sweeper's ticks, the [`Tally`].
//! - [`run`]: the emulator and proxy of a run, the stream through one instance or
//!   many, what the run left behind.
//! - [`compare`]: what two runs are compared by.

pub mod compare;
pub mod instance;
pub mod queue;
pub mod retry;
pub mod run;
pub mod stream;

use std::time::Duration;

use rollout_watcher::model::Millis;

use crate::fault_proxy::Plan;

pub use compare::{counter_keys, differences, ids, late_publishes, metric_keys};
pub use instance::{Ledger, LoadClock, LoadWatcher, Tracked, watcher};
pub use queue::{BATCH, MAX_RECEIVES, queued};
pub use retry::{MAX_REDELIVERIES, SWEEP_TICKS, Tally, invoke};
pub use run::{Bench, Run, concurrent, create_services, sequential};
pub use stream::{CLUSTER, Mixed, hot_service, mixed_stream};

/// The SDK attempt timeout of the fault test's clients (the proxy's slow replies are
/// held longer than this).
pub const ATTEMPT_TIMEOUT: Duration = Duration::from_millis(500);

/// How a run is set up.
#[derive(Clone, Debug)]
pub struct Setup {
    /// The proxy's faults.
    pub plan: Plan,
    /// What moto's DescribeServices reports as running, for every service.
    pub running: u32,
    /// The SDK clients' attempt timeout.
    pub attempt_timeout: Duration,
    /// The handler's back-off after a lost race takes real time, as in Lambda
    /// (otherwise it is skipped, as with every test clock).
    pub real_back_off: bool,
}

/// How long the proxy holds a slow reply.
pub const SLOW_REPLY: Duration = Duration::from_millis(600);

/// The outbox lease of the concurrent instances. Leases are about wall-clock time
/// in flight (an invocation holds its claims for two minutes), but these virtual
/// clocks follow event time, and the stream packs an hour of events into seconds:
/// an instance still in flight would see its claims "expire" when another
/// instance's clock has moved on by two minutes of event time. A lease longer than
/// the stream restores the real relation (no invocation here lives two minutes).
pub const LEASE_FOR_COMPRESSED_TIME: Millis = Millis(24 * 3600 * 1000);
