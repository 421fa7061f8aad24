//! Adapters: the ports implemented for AWS, for memory and for tests.
//!
//! Why one file per adapter: all mapping to and from SDK types stays in the adapter
//! that needs it, so the delivery logic never sees an SDK type and the SDK crates
//! stay behind the `aws` feature (the pure core builds without them).
//!
//! - [`cached`]: a store in front of another that remembers recent records, so a
//!   warm sandbox's invocation needs no read before its conditional write.
//! - [`memory`]: an in-memory [`StateStore`](crate::ports::StateStore) with the same
//!   conditional-write semantics as DynamoDB (the CLI and the unit tests).
//! - [`recording`]: a notifier, metrics sink, inspector and clock that record or
//!   answer from data, with failures injectable (unit tests).
//! - [`emf`]: CloudWatch Embedded Metric Format on stdout (the default sink).
//! - [`clock`]: the system clock.
//! - `dynamodb` (with `dynamodb_batch`, several services' writes in one call, and
//!   `dynamodb_history`, the history's reads), `sns`, `cloudwatch`, `ecs` (feature
//!   `aws`): the real services
//!   (wired into a watcher by [`crate::lambda`], not here: adapters import ports
//!   and model only).
//! - `ecs_described` (feature `ecs-sdk`, part of `aws`): the SDK's ECS service as
//!   the plain [`crate::describe`] model; `ecs_deployments` (same feature): the
//!   Service Deployments API's answers as the plain model.
//! - `sdk` (feature `aws-http`, part of `aws`): the SDK configuration every function
//!   starts with (one HTTP client, compiled-in roots, timeouts).

pub mod cached;
pub mod clock;
#[cfg(feature = "aws")]
pub mod cloudwatch;
#[cfg(feature = "aws")]
pub mod dynamodb;
#[cfg(feature = "aws")]
mod dynamodb_batch;
#[cfg(feature = "aws")]
mod dynamodb_ext;
#[cfg(feature = "aws")]
pub mod dynamodb_history;
#[cfg(feature = "aws")]
pub mod ecs;
#[cfg(feature = "ecs-sdk")]
pub mod ecs_deployments;
#[cfg(feature = "ecs-sdk")]
pub mod ecs_described;
pub mod emf;
pub mod memory;
pub mod recording;
#[cfg(feature = "aws-http")]
pub mod sdk;
#[cfg(feature = "aws")]
mod sdk_ext;
#[cfg(feature = "aws")]
pub mod sns;
