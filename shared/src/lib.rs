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
//! - [`outbox`]: effects recorded with the state, delivered after the write.
//! - [`ports`]: the traits every AWS call sits behind (store, notifier, metrics,
//!   ECS inspector, clock).
//! - [`adapters`]: DynamoDB, SNS, CloudWatch, EMF, ECS (feature `aws`), memory and
//!   recording doubles.
//! - [`delivery`]: the Lambda functions' logic, generic over the ports.

pub mod adapters;
pub mod core;
pub mod delivery;
pub mod message;
pub mod model;
pub mod outbox;
pub mod policy;
pub mod ports;
pub mod replay;
