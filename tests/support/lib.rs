//! Shared test support: the local AWS emulator, the resources the Terraform module
//! would create, a fake Lambda Runtime API, and the references a scenario is checked
//! against (the in-memory replay of the same events, the EMF specification).
//!
//! # Layout
//! - [`moto`]: start moto's server on a free loopback port; SDK config for it.
//! - [`stack`]: table, topic + subscribed queue, ECS service; read them back.
//! - [`runtime_api`]: the Runtime API a bootstrap binary talks to.
//! - [`binaries`]: the bootstrap binaries, built once per test process.
//! - [`scenario`]: one service's simulated stream, driven as Lambda would.
//! - [`fault_proxy`]: a fault-injecting proxy between the SDK clients and moto.
//! - [`mixed`]: the load tests' world: a stream of many rollouts, the services
//!   behind it, Lambda's retries, reading a run back.
//! - [`proc_stat`]: a process's CPU time, for the benchmarks.
//! - [`expect`]: what a correct watcher publishes, from the in-memory replay;
//!   EMF documents checked against the specification.

#![allow(clippy::unwrap_used, clippy::expect_used)]

pub mod binaries;
pub mod expect;
pub mod fault_proxy;
pub mod mixed;
pub mod moto;
pub mod proc_stat;
pub mod runtime_api;
pub mod scenario;
pub mod stack;
