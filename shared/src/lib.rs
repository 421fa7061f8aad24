//! rollout-watcher: follows every ECS rollout through its states, alerts when
//! zero-downtime breaks, and measures it.
//!
//! # Layout
//!
//! - [`model`]: typed, lenient ECS events and the identities they carry.
//! - [`core`]: the rollout state machine (sans-IO: inputs in, effects out).
//! - [`policy`]: how findings read as alerts and metrics; the zero-downtime rules.
//! - [`describe`]: ECS's describe-services `Service` and its one mapping to the
//!   service configuration (the SDK adapter and the CLI's JSON reader both fill it).
//! - [`message`]: the SNS message (Amazon Q Developer custom notification).
//! - [`replay`]: many services at once, in memory: the CLI's engine and the tests' world.
//! - [`outbox`]: effects recorded with the state, delivered after the write.
//! - [`ports`]: the traits every AWS call sits behind (store, notifier, metrics,
//!   ECS inspector, clock), bundled by [`ports::Ports`].
//! - [`adapters`]: DynamoDB, SNS, CloudWatch, EMF, ECS (feature `aws`), memory and
//!   recording doubles.
//! - [`delivery`]: the Lambda functions' logic, generic over the ports.
//! - [`lambda`]: on top of delivery, what the functions' `main`s share: the
//!   configuration, the wiring on the AWS adapters, init errors and the Lambda error.
//! - [`record`]: a service's live item (state, outbox, revision), what the store keeps.
//! - [`error_chain`]: an error and its sources on one line.

pub mod adapters;
mod chain;
pub mod core;
pub mod delivery;
pub mod describe;
pub mod lambda;
pub mod message;
pub mod model;
pub mod outbox;
pub mod policy;
pub mod ports;
pub mod record;
pub mod replay;

pub use chain::error_chain;
