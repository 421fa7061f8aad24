//! rollout-watcher: follows every ECS rollout through its states, alerts when
//! zero-downtime breaks, and measures it.
//!
//! # Layout
//!
//! - [`model`]: typed, lenient ECS events and the identities they carry.
//! - [`core`]: the rollout state machine (sans-IO: inputs in, effects out).
//! - [`policy`]: how findings read as alerts and metrics; the zero-downtime rules.
//! - [`message`]: the SNS message (Amazon Q Developer custom notification).
//! - [`replay`]: many services at once, in memory: the CLI's engine and the tests' world.

pub mod core;
pub mod message;
pub mod model;
pub mod policy;
pub mod replay;
