//! rollout-sweeper Lambda function.

fn main() {}
