//! The `rollout-watcher` command's library: replay, simulate, demo, audit, wait and
//! history, so that tests and benchmarks drive exactly what the binary runs.

pub mod audit;
pub mod demo;
pub mod history;
pub mod reader;
pub mod render;
pub mod replay;
pub mod simulate;
pub mod simulate_cmd;
pub mod wait;
