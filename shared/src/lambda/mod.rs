//! The Lambda functions' side of the library, on top of [`delivery`](crate::delivery):
//! what each `main` needs besides the runtime.
//!
//! - [`env`]: the configuration from environment variables, validated at start-up.
//! - `wiring` (feature `aws`): the watcher on the real AWS adapters.
//! - `init` (feature `lambda-init`): a configuration error reported to the Runtime
//!   API.
//! - `From<HandlerError> for Diagnostic` (feature `lambda`): a handler returns the
//!   library's error as is; the Lambda error carries its stable
//!   [`error_type`](HandlerError::error_type) and its [`chain`](HandlerError::chain).

pub mod env;
#[cfg(feature = "lambda-init")]
mod init;
#[cfg(feature = "aws")]
mod wiring;

pub use env::{ConfigError, EnvConfig, EventDelivery, MetricsSinkKind, sweep_config};
#[cfg(feature = "lambda-init")]
pub use init::report_init_error;
#[cfg(feature = "aws")]
pub use wiring::{AwsWatcher, aws_watcher};

#[cfg(feature = "lambda")]
use crate::delivery::HandlerError;

#[cfg(feature = "lambda")]
impl From<HandlerError> for lambda_runtime::Diagnostic {
    fn from(e: HandlerError) -> Self {
        Self {
            error_type: e.error_type().to_owned(),
            error_message: e.chain(),
        }
    }
}
