//! One invocation: SNS records in, Slack messages out.
//!
//! Calling contract: build one [`Notifier`] per sandbox (it caches the webhook URL
//! and the HTTP connection pool) and call [`Notifier::handle`] per invocation. Each
//! record's message is read back into the watcher's [`Alert`]
//! ([`alert_from_body`]), filtered by severity and alert name, rendered and posted;
//! a CloudWatch alarm notification (the module's alarms share the topic) is posted
//! too ([`AlarmNotification`]).
//! Any failure fails the invocation after every record was tried. SNS invokes the
//! function asynchronously, so Lambda retries a failed invocation twice (about one,
//! then two minutes later) and then sends it to the function's on-failure
//! destination (the module's dead-letter queue); a failed post also counts
//! `AlertPublishFailures`, and a message that is not an alert counts
//! `EventsRejected`. SNS gives a Lambda subscription one record per invocation, so a
//! retry never re-posts another record's message; an alert whose dedup key this
//! sandbox already posted is dropped as a repeat ([`Posted`]).

use std::time::{Duration, SystemTime};

use aws_lambda_events::event::sns::SnsEvent;
use bytes::Bytes;
use lambda_runtime::{Diagnostic, LambdaEvent};
use rollout_watcher::core::{Alert, MetricName};
use rollout_watcher::error_chain;
use rollout_watcher::message::{MessageError, alert_from_body};
use serde::Serialize;
use thiserror::Error;
use tokio::time::Instant;

use crate::alarm::{self, AlarmNotification};
use crate::blocks;
use crate::config::Config;
use crate::emf::Emf;
use crate::post::{PostError, SlackClient};
use crate::seen::Posted;
use crate::webhook::{CachedWebhook, SecretError, WebhookSource};

/// Kept back from the Lambda deadline to return the error and flush the logs.
pub const DEADLINE_MARGIN: Duration = Duration::from_millis(500);

/// Why an invocation failed; [`error_type`](Self::error_type) groups them in logs and
/// in the dead-letter queue.
#[derive(Debug, Error)]
pub enum HandlerError {
    /// A record's message is not a rollout-watcher alert.
    #[error("record {message_id}: not a rollout-watcher alert")]
    Malformed {
        /// The SNS message id.
        message_id: String,
        /// What is wrong with it.
        #[source]
        source: MessageError,
    },
    /// The webhook URL could not be read.
    #[error("webhook secret")]
    Secret(#[from] SecretError),
    /// Slack did not take the message.
    #[error("alert {dedup_key}: Slack delivery failed")]
    Post {
        /// The alert's dedup key (for an alarm: its ARN, new state and time).
        dedup_key: String,
        /// Why.
        #[source]
        source: PostError,
    },
}

impl HandlerError {
    /// A stable name for log queries and DLQ triage.
    pub fn error_type(&self) -> &'static str {
        match self {
            Self::Malformed { .. } => "MalformedMessage",
            Self::Secret(_) => "WebhookSecret",
            Self::Post { .. } => "SlackDelivery",
        }
    }
}

impl From<HandlerError> for Diagnostic {
    fn from(e: HandlerError) -> Self {
        Self {
            error_type: e.error_type().to_owned(),
            error_message: error_chain(&e),
        }
    }
}

/// What an invocation did.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Outcome {
    /// Messages Slack accepted.
    pub posted: usize,
    /// Alerts left out by the filters.
    pub filtered: usize,
    /// Alerts (or alarm notifications) this sandbox had already posted (the same
    /// key), not posted again.
    pub repeats: usize,
}

/// The function's state across invocations.
#[derive(Debug)]
pub struct Notifier<S> {
    config: Config,
    webhook: CachedWebhook<S>,
    slack: SlackClient,
    metrics: Emf,
    posted: Posted,
}

impl<S: WebhookSource> Notifier<S> {
    /// Wires the parts; nothing is read or sent yet.
    pub fn new(config: Config, source: S, slack: SlackClient, metrics: Emf) -> Self {
        Self {
            config,
            webhook: CachedWebhook::new(source),
            slack,
            metrics,
            posted: Posted::default(),
        }
    }

    /// Handles one invocation (see the module's calling contract).
    pub async fn handle(&self, event: LambdaEvent<SnsEvent>) -> Result<Outcome, HandlerError> {
        let deadline = deadline(event.context.deadline());
        let mut outcome = Outcome::default();
        let mut first_error = None;
        for record in &event.payload.records {
            let body = &record.sns.message;
            let result = match alert_from_body(body) {
                Ok(alert) => self.deliver(&alert, deadline, &mut outcome).await,
                Err(source) => match AlarmNotification::from_body(body) {
                    Some(alarm) => self.deliver_alarm(&alarm, deadline, &mut outcome).await,
                    None => {
                        self.metrics.put(MetricName::EventsRejected, 1.0);
                        Err(HandlerError::Malformed {
                            message_id: record.sns.message_id.clone(),
                            source,
                        })
                    }
                },
            };
            if let Err(e) = result {
                tracing::error!(error_type = e.error_type(), error = %error_chain(&e), "alert not delivered");
                first_error.get_or_insert(e);
            }
        }
        first_error.map_or(Ok(outcome), Err)
    }

    async fn deliver(
        &self,
        alert: &Alert,
        deadline: Instant,
        outcome: &mut Outcome,
    ) -> Result<(), HandlerError> {
        if !self.config.wants(alert.alert, alert.severity) {
            tracing::debug!(
                alert = alert.alert.as_str(),
                severity = alert.severity.as_str(),
                "filtered out"
            );
            outcome.filtered += 1;
            return Ok(());
        }
        if self.posted.contains(&alert.dedup_key) {
            tracing::info!(dedup_key = %alert.dedup_key, "already posted: repeat dropped");
            outcome.repeats += 1;
            return Ok(());
        }
        let env = self.config.environment.as_deref();
        let payload = blocks::message(alert, env).to_string();
        let text = || blocks::text_only(alert, env).to_string();
        self.post(&alert.dedup_key, payload, text, deadline).await?;
        self.posted.insert(&alert.dedup_key);
        tracing::info!(
            alert = alert.alert.as_str(),
            status = alert.status.as_str(),
            service = %alert.service,
            dedup_key = %alert.dedup_key,
            "posted to Slack"
        );
        outcome.posted += 1;
        Ok(())
    }

    async fn deliver_alarm(
        &self,
        alarm: &AlarmNotification,
        deadline: Instant,
        outcome: &mut Outcome,
    ) -> Result<(), HandlerError> {
        // An alarm is not an alert: only the severity filter can speak for it.
        if !self.config.wants_severity(alarm.severity()) {
            tracing::debug!(alarm = %alarm.alarm_name, state = %alarm.new_state_value, "filtered out");
            outcome.filtered += 1;
            return Ok(());
        }
        let key = alarm.key();
        if self.posted.contains(&key) {
            tracing::info!(key, "already posted: repeat dropped");
            outcome.repeats += 1;
            return Ok(());
        }
        let env = self.config.environment.as_deref();
        let payload = alarm::message(alarm, env).to_string();
        let text = || alarm::text_only(alarm, env).to_string();
        self.post(&key, payload, text, deadline).await?;
        self.posted.insert(&key);
        tracing::info!(alarm = %alarm.alarm_name, state = %alarm.new_state_value, "posted to Slack");
        outcome.posted += 1;
        Ok(())
    }

    /// Posts one message; when Slack refuses its layout, posts `text_only()` instead
    /// (a page in plain text beats a page in the dead-letter queue). A failure is
    /// counted and, when Slack says the webhook is gone, drops the cached URL.
    async fn post(
        &self,
        key: &str,
        payload: String,
        text_only: impl FnOnce() -> String,
        deadline: Instant,
    ) -> Result<(), HandlerError> {
        let url = match self.webhook.get().await {
            Ok(url) => url,
            Err(e) => {
                self.metrics.put(MetricName::AlertPublishFailures, 1.0);
                return Err(e.into());
            }
        };
        let mut result = self.slack.post(&url, Bytes::from(payload), deadline).await;
        if let Err(e) = &result
            && e.layout_refused()
        {
            tracing::error!(key, error = %error_chain(e), "Slack refused the layout; posting the alert as text");
            result = self
                .slack
                .post(&url, Bytes::from(text_only()), deadline)
                .await;
        }
        match result {
            Ok(done) => {
                tracing::debug!(key, attempts = done.attempts, "Slack accepted the message");
                Ok(())
            }
            Err(source) => {
                if source.webhook_gone() {
                    self.webhook.forget().await;
                }
                self.metrics.put(MetricName::AlertPublishFailures, 1.0);
                Err(HandlerError::Post {
                    dedup_key: key.to_owned(),
                    source,
                })
            }
        }
    }
}

/// The Lambda deadline (wall clock) as a monotonic instant, less [`DEADLINE_MARGIN`].
fn deadline(at: SystemTime) -> Instant {
    let remaining = at
        .duration_since(SystemTime::now())
        .unwrap_or(Duration::ZERO)
        .saturating_sub(DEADLINE_MARGIN);
    Instant::now() + remaining
}
