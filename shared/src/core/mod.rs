//! The rollout state machine: sans-IO, deterministic, no wall clock.
//!
//! It decides *when* something happened, exactly once: inputs go in, typed
//! occurrences come out ([`occurrence`]), and the policy above turns them into the
//! [`Effects`] callers record and deliver ([`ServiceState::apply`],
//! [`ServiceState::tick`], [`ServiceState::observe`]). The same inputs always give the
//! same effects, in any process, so the CLI's replay and the Lambda functions agree.
//! Nothing here imports the policy: the words can change without touching a decision.
//!
//! - [`service`]: one service's state and its calling contract, with a child per
//!   concern (deployments, tasks, zero windows, links, retention).
//! - [`strategy`]: how a deployment strategy reads a rollout's facts (rolling; blue/green, linear and canary, and hooks).
//! - [`rollout`]: the facts about one rollout; [`stop`]: why a task stopped.
//! - [`effects`]: the contract's vocabulary (transitions, alerts, metrics).

mod effects;
mod native;
mod occurrence;
mod rollout;
mod service;
mod settings;
mod stop;
mod strategy;

pub use effects::{
    Alert, AlertDetails, AlertName, AlertStatus, Dimensions, Effect, Effects, Metric, MetricName,
    Severity, Stage, Transition, Unit, dedup_key,
};
pub(crate) use native::HookEnd;
pub(crate) use occurrence::{Failures, HookRef, Occurrence, Occurrences, RolloutRef};
pub use rollout::{RolloutState, RolloutSummary};
pub use service::{LATE_LIMIT, ServiceState};
pub use settings::Settings;
pub use stop::{StopClass, StopInfo, classify};

/// Where the service configuration lives now; kept here for the paths callers use.
pub use crate::model::{Observation, ServiceConfig};
