//! The rollout state machine: sans-IO, deterministic, no wall clock.
//!
//! Inputs go in ([`ServiceState::apply`], [`ServiceState::tick`],
//! [`ServiceState::observe`]); [`Effects`] come out. The same inputs always give the
//! same effects, in any process, so the CLI's replay and the Lambda functions agree.

mod config;
mod effects;
mod emit;
mod links;
mod rollout;
mod service;
mod stop;
mod task_events;
mod tasks;
mod zero;

pub use config::{Observation, ServiceConfig, Settings};
pub use effects::{
    Alert, AlertDetails, AlertName, AlertStatus, Dimensions, Effect, Effects, Metric, MetricName,
    Severity, Transition, Unit,
};
pub use rollout::{RolloutState, RolloutSummary};
pub use service::ServiceState;
pub use stop::{StopClass, StopInfo, classify};
