//! The `rollout-watcher` command's library: replay, simulate, demo, audit, wait and
//! history, so that tests and benchmarks drive exactly what the binary runs.

pub mod alloc;
pub mod archive;
pub mod audit;
pub mod aws_env;
pub mod demo;
pub mod history;
pub mod html;
pub mod reader;
pub mod render;
pub mod replay;
pub mod simulate;
pub mod simulate_cmd;
pub mod wait;

/// Usage errors exit 64 (sysexits' EX_USAGE), never 2: `audit` uses 2 for "a service
/// is unsafe", and a CI gate must not read a typo as a verdict.
pub const EXIT_USAGE: u8 = 64;

/// A command-line value that is wrong in a way clap cannot see (a `--now` earlier than
/// the events, a duration that does not parse): exits [`EXIT_USAGE`].
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct Usage(pub String);
