//! The SNS notifier: one publish per alert, in the format of [`crate::message`].
//!
//! Message attributes `severity`, `alert`, `cluster`, `service` and `status` let
//! subscribers filter (a critical-only email, a per-team queue) without reading the
//! body; the body is an Amazon Q Developer custom notification carrying the full alert.

use async_trait::async_trait;
use aws_sdk_sns::Client;
use aws_sdk_sns::types::MessageAttributeValue;

use crate::core::Alert;
use crate::message;
use crate::ports::{Notifier, NotifyError};

/// SNS through aws-sdk-sns.
#[derive(Clone, Debug)]
pub struct SnsNotifier {
    client: Client,
    topic_arn: String,
    environment: Option<String>,
}

impl SnsNotifier {
    /// Publishes to `topic_arn`; `environment` labels subject and body.
    pub fn new(client: Client, topic_arn: impl Into<String>, environment: Option<String>) -> Self {
        Self {
            client,
            topic_arn: topic_arn.into(),
            environment,
        }
    }
}

#[async_trait]
impl Notifier for SnsNotifier {
    async fn publish(&self, alert: &Alert) -> Result<(), NotifyError> {
        let fail = |source: Box<dyn std::error::Error + Send + Sync>| NotifyError {
            dedup_key: alert.dedup_key.clone(),
            source,
        };
        let env = self.environment.as_deref();
        let mut request = self
            .client
            .publish()
            .topic_arn(&self.topic_arn)
            .subject(ascii_subject(&message::subject(alert, env)))
            .message(message::body(alert, env).to_string());
        for (name, value) in message::attributes(alert) {
            // SNS rejects empty attribute values; cluster and service are never empty.
            if value.is_empty() {
                continue;
            }
            let attr = MessageAttributeValue::builder()
                .data_type("String")
                .string_value(value)
                .build()
                .map_err(|e| fail(Box::new(e)))?;
            request = request.message_attributes(name, attr);
        }
        request.send().await.map_err(|e| fail(Box::new(e)))?;
        Ok(())
    }
}

/// SNS wants a subject of printable ASCII without line breaks, under 100
/// characters, starting with a letter, number or punctuation mark; a rejected
/// subject would fail the publish on every retry. `…` becomes `...`, other
/// non-ASCII characters `?`, whitespace runs one space.
pub fn ascii_subject(subject: &str) -> String {
    let mut out = String::with_capacity(subject.len());
    for c in subject.chars() {
        match c {
            '…' => out.push_str("..."),
            c if c.is_whitespace() => {
                if !out.ends_with(' ') {
                    out.push(' ');
                }
            }
            c if c.is_ascii_graphic() => out.push(c),
            _ => out.push('?'),
        }
    }
    let trimmed = out.trim();
    let mut text: String = trimmed.chars().take(message::SUBJECT_MAX).collect();
    if text.is_empty() {
        text.push_str("rollout-watcher alert");
    }
    text
}

#[cfg(test)]
mod tests {
    use super::ascii_subject;

    /// A truncated subject (ending in `…`) or a non-ASCII name still publishes.
    #[test]
    fn subjects_are_printable_ascii_under_100() {
        let long = format!("[prod] [CRITICAL] {}…", "a".repeat(97));
        let s = ascii_subject(&long);
        assert!(s.len() < 100 && s.is_ascii(), "{s}");
        assert_eq!(
            ascii_subject("[dev]\nweb: bäd\tname"),
            "[dev] web: b?d name"
        );
        assert_eq!(ascii_subject("web:\n  down"), "web: down");
    }
}
