//! rollout-watcher: follows every ECS rollout through its states, alerts when
//! zero-downtime breaks, and measures it.
//!
//! # Layout
//!
//! Dependencies run one way, from the top of this list down to the model; no file
//! imports one above it.
//!
//! - [`model`]: typed, lenient ECS events, the identities they carry, and the service
//!   configuration ECS reports (with the rules' arithmetic: floor, ceiling, threshold).
//! - [`core`]: the rollout state machine (sans-IO): decides *when* something happened,
//!   exactly once, as typed occurrences. `core/service/` holds one service's state with a
//!   child per concern; `core/strategy/` is the seam for deployment strategies.
//! - [`policy`]: what each occurrence is called, how loud it is and how it reads, as
//!   alerts and metrics (`ServiceState::apply`/`tick`/`observe` live there); the
//!   audit's verdict on a service's settings.
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
