//! rollout-watcher: follows every ECS rollout through its states, alerts when
//! zero-downtime breaks, and measures it.
//!
//! # Layout
//!
//! - [`model`]: typed, lenient ECS events and the identities they carry.
//! - [`core`]: the rollout state machine (sans-IO: inputs in, effects out).
//! - [`policy`]: how findings read as alerts and metrics; the zero-downtime rules.
//! - [`replay`]: many services at once, in memory: the CLI's engine and the tests' world.

pub mod core;
pub mod model;
pub mod policy;
pub mod replay;
