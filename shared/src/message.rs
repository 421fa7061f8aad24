//! The SNS message: one per alert, readable by Amazon Q Developer in chat apps and by
//! machines.
//!
//! The body follows the Amazon Q Developer custom-notification schema (`version`
//! "1.0", `source` "custom", `content` in client markdown, `metadata.threadId` = the
//! rollout key so one rollout is one chat thread). Machines read the full alert from
//! `metadata.additionalContext.alert` (the [`Alert`] as a JSON string: the schema
//! wants string values there), so nothing is lost between the watcher and any
//! subscriber, the slack-notifier included.
//!
//! Every message names the AWS account and region and the event time in words (the
//! body's first facts, and the subject when it fits): an engineer with several
//! accounts must not have to decode an ARN at 3 a.m. to know which one is burning.

use serde_json::{Value, json};
use thiserror::Error;

use crate::core::{Alert, AlertName, AlertStatus};

/// SNS subjects must be shorter than 100 characters.
pub const SUBJECT_MAX: usize = 99;

/// A message that is not one of ours.
#[derive(Debug, Error)]
pub enum MessageError {
    /// The body is not JSON.
    #[error("message: not JSON: {0}")]
    Json(#[from] serde_json::Error),
    /// `metadata.additionalContext.alert` is absent.
    #[error("metadata.additionalContext.alert: missing")]
    MissingAlert,
}

/// The subject line: severity, service, what happened (and the environment), then
/// the account and region when they fit in SNS's 99 characters.
///
/// Titles end in what happened ("deployment ecs-svc/… (web:42) failed"), so cutting
/// one at 99 characters would cut exactly that, and a long service name would make
/// a start and a failure read the same in a mailbox. When the title does not fit,
/// the subject falls back to the alert's headline ("deployment failed"), and when
/// even that does not, the service name is cut, never the severity or the headline.
pub fn subject(alert: &Alert, environment: Option<&str>) -> String {
    let env = environment.map(|e| format!("[{e}] ")).unwrap_or_default();
    let place = format!(" ({} {})", alert.service.account(), alert.service.region());
    let fits = |s: &str| s.chars().count() <= SUBJECT_MAX;
    let line = format!("{env}{}", alert.title);
    let headline = alert.headline();
    let label = alert.label();
    let short = format!("{env}[{label}] {}: {headline}", alert.service_name);
    for candidate in [format!("{line}{place}"), line, format!("{short}{place}")] {
        if fits(&candidate) {
            return candidate;
        }
    }
    if fits(&short) {
        return short;
    }
    let fixed = format!("{env}[{label}] : {headline}").chars().count();
    match SUBJECT_MAX.checked_sub(fixed) {
        Some(room) if room >= 8 => format!(
            "{env}[{label}] {}: {headline}",
            truncate(&alert.service_name, room)
        ),
        _ => truncate(&short, SUBJECT_MAX),
    }
}

/// "account 123456789012, eu-west-1": where the service lives, as a person says it.
pub fn place(alert: &Alert) -> String {
    format!(
        "account {}, {}",
        alert.service.account(),
        alert.service.region()
    )
}

/// "2026-03-01 10:02:06 UTC": the event time, as a person reads it.
pub fn when(alert: &Alert) -> String {
    let t = alert.at.to_rfc3339();
    let (date, rest) = t.split_once('T').unwrap_or((&t, ""));
    let clock = rest.get(..8).unwrap_or(rest);
    format!("{date} {clock} UTC")
}

/// Message attributes for subscription filter policies.
pub fn attributes(alert: &Alert) -> [(&'static str, String); 5] {
    [
        ("severity", alert.severity.as_str().to_owned()),
        ("alert", alert.alert.as_str().to_owned()),
        ("cluster", alert.cluster.clone()),
        ("service", alert.service_name.clone()),
        ("status", alert.status.as_str().to_owned()),
    ]
}

/// The thread a rollout's alerts share: the rollout key (or the service for alerts
/// outside any rollout).
pub fn thread_id(alert: &Alert) -> String {
    match &alert.deployment_id {
        Some(d) => format!("{}#{d}", alert.service),
        None => alert.service.to_string(),
    }
}

/// The body (Amazon Q Developer custom notification).
pub fn body(alert: &Alert, environment: Option<&str>) -> Value {
    let env = environment.map(|e| format!(" · {e}")).unwrap_or_default();
    let mut facts = vec![
        format!(
            "*Service:* `{}` (cluster `{}`){env}",
            alert.service_name, alert.cluster
        ),
        format!(
            "*Account:* `{}` · *Region:* `{}` · *When:* {}",
            alert.service.account(),
            alert.service.region(),
            when(alert)
        ),
    ];
    if let Some(d) = &alert.deployment_id {
        facts.push(format!("*Deployment:* `{d}`"));
    }
    let d = &alert.details;
    if let Some(t) = &d.task_definition {
        facts.push(format!("*Task definition:* `{t}`"));
    }
    if let Some(r) = &d.stop_reason {
        facts.push(format!("*Stopped reason:* {r}"));
    }
    for e in &d.exits {
        if let Some(c) = e.exit_code {
            facts.push(format!("*Exit code:* `{}` exited {c}", e.name));
        }
    }
    if let (Some(n), Some(t)) = (d.failures, d.threshold) {
        facts.push(format!("*Circuit breaker:* {n} of {t} failures"));
    }
    if let Some(s) = d.downtime_s {
        facts.push(format!("*Downtime:* {s} s"));
    } else if alert.alert == AlertName::DeploymentCompleted {
        facts.push("*Downtime:* unknown (the rollout's start was not seen)".to_owned());
    }
    facts.push(format!("[Open in the ECS console]({})", d.console_url));
    let description = format!("{}\n\n{}", alert.summary, facts.join("\n"));
    let alert_json = serde_json::to_string(alert).unwrap_or_default();
    json!({
        "version": "1.0",
        "source": "custom",
        "id": alert.dedup_key,
        "content": {
            "textType": "client-markdown",
            "title": alert.title,
            "description": description,
            "nextSteps": next_steps(alert),
            "keywords": [alert.severity.as_str(), alert.alert.as_str(), alert.cluster, alert.service_name, alert.status.as_str()],
        },
        "metadata": {
            "threadId": thread_id(alert),
            "summary": alert.summary,
            "eventType": alert.alert.as_str(),
            "relatedResources": related(alert),
            "additionalContext": { "alert": alert_json },
        }
    })
}

/// Reads the alert back from a body (what the slack-notifier does).
pub fn alert_from_body(body: &str) -> Result<Alert, MessageError> {
    let v: Value = serde_json::from_str(body)?;
    let inner = v
        .pointer("/metadata/additionalContext/alert")
        .and_then(Value::as_str)
        .ok_or(MessageError::MissingAlert)?;
    Ok(serde_json::from_str(inner)?)
}

fn related(alert: &Alert) -> Vec<String> {
    let mut v = vec![alert.service.to_string()];
    if let Some(t) = &alert.details.task_arn {
        v.push(t.clone());
    }
    v
}

fn next_steps(alert: &Alert) -> Vec<&'static str> {
    if alert.status == AlertStatus::Resolved {
        return vec![
            "Nothing to do: the condition ended. Check the rollout's downtime in the dashboard.",
        ];
    }
    alert.alert.next_steps()
}

/// Cuts to `max` characters, ending in `...` (ASCII: SNS wants an ASCII subject, and
/// `…` would grow to three characters there and push the end out).
fn truncate(text: &str, max: usize) -> String {
    if text.chars().count() <= max {
        return text.to_owned();
    }
    let mut s: String = text.chars().take(max.saturating_sub(3)).collect();
    s.push_str("...");
    s
}
