//! The workspace's Lambda bootstrap binaries as the tests run them: built once per
//! test process in the dev profile (`make test` builds them too, so this is usually
//! a no-op), found in the target directory.

use std::path::PathBuf;
use std::sync::OnceLock;

use crate::moto::{Moto, workspace_root};
use crate::runtime_api::RuntimeApi;

/// The path of bootstrap binary `name` (`ecs-event-handler`, `rollout-sweeper`,
/// `slack-notifier`), after `cargo build --workspace --bins` has run once in this
/// process. A failed build fails the test.
pub fn built(name: &str) -> PathBuf {
    static DEBUG_DIR: OnceLock<PathBuf> = OnceLock::new();
    DEBUG_DIR
        .get_or_init(|| {
            let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
            let status = std::process::Command::new(cargo)
                .args(["build", "--quiet", "--workspace", "--bins"])
                .current_dir(workspace_root())
                .status()
                .expect("running cargo build");
            assert!(status.success(), "cargo build --workspace --bins failed");
            std::env::var_os("CARGO_TARGET_DIR")
                .map_or_else(|| workspace_root().join("target"), PathBuf::from)
                .join("debug")
        })
        .join(name)
}

/// Bootstrap binary `name` as Lambda starts it: nothing of the test's environment,
/// the emulator's AWS variables, and Lambda's own pointing at `api` (128 MB, JSON
/// logs). The caller adds the function's variables and where its output goes.
pub fn as_lambda(name: &str, api: &RuntimeApi, moto: &Moto) -> tokio::process::Command {
    let mut cmd = tokio::process::Command::new(built(name));
    cmd.env_clear()
        .envs(moto.env())
        .env("AWS_LAMBDA_RUNTIME_API", &api.address)
        .env("AWS_LAMBDA_FUNCTION_NAME", name)
        .env("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "128")
        .env("AWS_LAMBDA_FUNCTION_VERSION", "$LATEST")
        .env("AWS_LAMBDA_LOG_FORMAT", "JSON");
    cmd
}
