//! The AWS configuration `wait` and `history` run on: the default chain
//! (environment, profile, SSO, web identity in CI, container or instance role),
//! checked for a region and credentials before the first call. Without the check,
//! the first call failed with the SDK's dispatch error, its whole provider chain
//! over several lines, where a pipeline's log wants one line saying what to set.

use aws_config::{BehaviorVersion, SdkConfig};
use aws_sdk_ecs::config::ProvideCredentials;

/// What to set when the chain found no credentials.
const NO_CREDENTIALS: &str = "no AWS credentials: set AWS_PROFILE to a profile of \
    ~/.aws/config (after `aws sso login` or `aws configure`), or AWS_ACCESS_KEY_ID and \
    AWS_SECRET_ACCESS_KEY, or give the CI job a role";

/// The SDK configuration, or one line saying what is missing.
pub async fn load() -> Result<SdkConfig, String> {
    let sdk = aws_config::defaults(BehaviorVersion::latest()).load().await;
    if sdk.region().is_none() {
        return Err("no AWS region: set AWS_REGION, or a region in the AWS profile".to_owned());
    }
    if let Some(credentials) = sdk.credentials_provider()
        && credentials.provide_credentials().await.is_err()
    {
        return Err(NO_CREDENTIALS.to_owned());
    }
    Ok(sdk)
}
