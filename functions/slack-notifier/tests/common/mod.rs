//! Test support: a fake Slack webhook on loopback, alerts of every kind as the
//! watcher publishes them, SNS invocations, and the moto emulator.
#![allow(dead_code, unreachable_pub, clippy::unwrap_used, clippy::expect_used)]

pub mod alerts;
pub mod moto;
pub mod slack;
pub mod view;

use std::collections::HashMap;
use std::io::Write;
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use aws_lambda_events::event::sns::SnsEvent;
use lambda_runtime::{Context, LambdaEvent};
use rollout_watcher::core::Alert;
use rollout_watcher::message;
use serde_json::{Value, json};
use slack_notifier::{
    Config, Emf, Notifier, RetryPolicy, SlackClient, StaticWebhook, WebhookSource, WebhookUrl,
};

/// Any valid secret ARN: the delivery tests hand the URL over directly.
pub const SECRET_ARN: &str = "arn:aws:secretsmanager:eu-west-1:123456789012:secret:slack-AbCdEf";

/// A configuration from `(variable, value)` pairs, as the Terraform module sets them.
pub fn config(vars: &[(&str, &str)]) -> Config {
    let mut map: HashMap<String, String> = vars
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect();
    map.entry("SLACK_WEBHOOK_SECRET_ARN".into())
        .or_insert_with(|| SECRET_ARN.to_owned());
    Config::from_lookup(|k| map.get(k).cloned()).unwrap()
}

/// Fast retries, so the failure scenarios take milliseconds.
pub fn quick_retries(max_attempts: u32) -> RetryPolicy {
    RetryPolicy {
        max_attempts,
        first_backoff: Duration::from_millis(10),
        max_backoff: Duration::from_millis(40),
        attempt_timeout: Duration::from_secs(2),
    }
}

/// EMF lines the function wrote.
#[derive(Clone, Debug, Default)]
pub struct Captured(Arc<Mutex<Vec<u8>>>);

impl Captured {
    /// Every line, parsed.
    pub fn documents(&self) -> Vec<Value> {
        let buf = self.0.lock().unwrap();
        String::from_utf8_lossy(&buf)
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect()
    }

    /// The values recorded for a metric.
    pub fn values(&self, metric: &str) -> Vec<f64> {
        self.documents()
            .iter()
            .filter_map(|d| d.get(metric).and_then(Value::as_f64))
            .collect()
    }
}

impl Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// A notifier posting to `url`, with its metrics captured.
pub fn notifier(
    url: &str,
    config: Config,
    policy: RetryPolicy,
) -> (Notifier<StaticWebhook>, Captured) {
    let url = WebhookUrl::parse(url).unwrap();
    notifier_with(StaticWebhook(url), config, policy)
}

/// A notifier over any webhook source.
pub fn notifier_with<S: WebhookSource>(
    source: S,
    config: Config,
    policy: RetryPolicy,
) -> (Notifier<S>, Captured) {
    let captured = Captured::default();
    let emf = Emf::to_writer(config.metrics_namespace.clone(), Box::new(captured.clone()));
    let slack = SlackClient::new(policy).unwrap();
    (Notifier::new(config, source, slack, emf), captured)
}

/// An SNS invocation carrying `alerts` as the watcher publishes them, with `budget`
/// left before the Lambda deadline.
pub fn invocation(alerts: &[Alert], budget: Duration) -> LambdaEvent<SnsEvent> {
    let bodies: Vec<String> = alerts
        .iter()
        .map(|a| message::body(a, Some("production")).to_string())
        .collect();
    raw_invocation(&bodies, budget)
}

/// An SNS invocation with arbitrary message bodies.
pub fn raw_invocation(bodies: &[String], budget: Duration) -> LambdaEvent<SnsEvent> {
    let records: Vec<Value> = bodies
        .iter()
        .enumerate()
        .map(|(i, body)| {
            json!({
                "EventSource": "aws:sns",
                "EventVersion": "1.0",
                "EventSubscriptionArn": "arn:aws:sns:eu-west-1:123456789012:rollout-watcher-alerts:5f2c",
                "Sns": {
                    "Type": "Notification",
                    "MessageId": format!("95df01b4-ee98-5cb9-9903-4c221d41eb5{i}"),
                    "TopicArn": "arn:aws:sns:eu-west-1:123456789012:rollout-watcher-alerts",
                    "Subject": "rollout-watcher",
                    "Message": body,
                    "Timestamp": "2026-03-02T10:15:02.000Z",
                    "SignatureVersion": "1",
                    "Signature": "EXAMPLE",
                    "SigningCertUrl": "https://sns.eu-west-1.amazonaws.com/cert.pem",
                    "UnsubscribeUrl": "https://sns.eu-west-1.amazonaws.com/?Action=Unsubscribe",
                    "MessageAttributes": {}
                }
            })
        })
        .collect();
    let payload: SnsEvent = serde_json::from_value(json!({ "Records": records })).unwrap();
    let mut context = Context::default();
    let now = SystemTime::now().duration_since(UNIX_EPOCH).unwrap();
    context.deadline = u64::try_from((now + budget).as_millis()).unwrap();
    LambdaEvent::new(payload, context)
}
