//! The workspace's Lambda bootstrap binaries as the tests run them: built once per
//! test process in the dev profile (`make test` builds them too, so this is usually
//! a no-op), found in the target directory.

use std::path::PathBuf;
use std::sync::OnceLock;

use crate::moto::workspace_root;

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
