//! slack-notifier: posts rollout-watcher alerts from the SNS topic to a Slack
//! incoming webhook, as Block Kit messages.
//!
//! For teams without Amazon Q Developer in chat apps: a direct Slack path that keeps
//! the same alerts (the full [`Alert`](rollout_watcher::core::Alert) travels in the
//! SNS message), escapes everything an event says, retries what Slack asks to retry
//! within the invocation's time, and makes every lost message visible (a failed
//! invocation, the dead-letter queue, `AlertPublishFailures`).
//!
//! # Layout
//!
//! - `config`: the environment contract with the Terraform module.
//! - `webhook`: the URL's secret store, its cache, and a type that never prints it.
//! - `escape`: Slack mrkdwn escaping of event text.
//! - `blocks`: an alert as a Block Kit message.
//! - `alarm`: the module's CloudWatch alarms, which notify the same topic.
//! - `post`: the HTTP post with retries inside the deadline.
//! - `seen`: the dedup keys this sandbox posted, to drop repeats.
//! - `emf`: the function's own failure metric as EMF lines.
//! - `handler`: one invocation.

mod alarm;
mod blocks;
mod config;
mod emf;
mod escape;
mod handler;
mod post;
mod seen;
mod webhook;

pub use alarm::AlarmNotification;
pub use blocks::{emoji, headline, message, text_only};
pub use config::{
    ALERT_FILTER, Config, ConfigError, DEFAULT_NAMESPACE, ENVIRONMENT, METRICS_NAMESPACE,
    SEVERITY_FILTER, SLACK_WEBHOOK_SECRET_ARN, SecretRef,
};
pub use emf::{Emf, line as emf_line};
pub use escape::{escape, escape_within, unescape};
pub use handler::{DEADLINE_MARGIN, HandlerError, Notifier, Outcome};
pub use post::{Delivered, Failure, PostError, RetryPolicy, SlackClient};
/// An error and its sources on one line (the library's one chain).
pub use rollout_watcher::error_chain as chain;
pub use seen::{Posted, REMEMBERED};
pub use webhook::{
    AwsSecretStore, BoxError, CachedWebhook, SecretError, StaticWebhook, WebhookSource, WebhookUrl,
};
