//! The cold-start baseline: the smallest `lambda_runtime` function, built with the
//! workspace's release profile like the real bootstraps (`cargo build --release -p
//! integration-tests --example minimal-lambda`). It starts the tracing subscriber
//! and the runtime, as every function's `main.rs` does, and echoes its event. Never
//! shipped: it only sits in the tests package.

use lambda_runtime::{Error, LambdaEvent, service_fn};
use serde_json::Value;

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Error> {
    lambda_runtime::tracing::init_default_subscriber();
    lambda_runtime::run(service_fn(|event: LambdaEvent<Value>| async move {
        Ok::<Value, Error>(event.payload)
    }))
    .await
}
