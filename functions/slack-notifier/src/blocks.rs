//! An alert as a Slack Block Kit message.
//!
//! Laid out for the person woken by it: the header says how bad, which service and
//! what happened; the first section is the watcher's summary; the fields answer
//! "where" (cluster, account and region, environment, deployment, task definition;
//! no one should have to decode an ARN to know which account is burning) and "how bad"
//! (duration, downtime, "n of threshold" toward the circuit breaker); then the
//! evidence (stopped reason, stop code, exit codes), a link to the ECS console, and
//! a context line with the alert's contract name for search and filters.
//!
//! Every piece of event text goes through [`escape`](crate::escape) and every mrkdwn
//! object is `verbatim`, so nothing in an event can mention, link or unfurl. Slack's
//! size limits (header 150, field 2000, section 3000 characters, 10 fields) are kept,
//! because Slack rejects the whole message when one part is too long.

use rollout_watcher::core::{Alert, AlertName, AlertStatus, Severity};
use rollout_watcher::message::when;
use rollout_watcher::model::{Millis, task_id};
use rollout_watcher::policy::task_console_url;
use serde_json::{Value, json};

use crate::escape::{escape, escape_within};

const HEADER_MAX: usize = 150;
const FIELD_MAX: usize = 2000;
const SECTION_MAX: usize = 3000;
const FIELDS_MAX: usize = 10;
/// Slack truncates a message's `text` past 40,000 characters and advises 4,000.
const TEXT_MAX: usize = 3900;

/// The emoji that leads the header: how loud, at a glance.
pub fn emoji(alert: &Alert) -> &'static str {
    match (alert.status, alert.severity) {
        (AlertStatus::Resolved, _) => "✅",
        (_, Severity::Critical) => "🔴",
        (_, Severity::Warning) => "🟠",
        (_, Severity::Info) => "🔵",
    }
}

/// What happened, in a few words (the policy's headline for the alert kind).
pub fn headline(alert: &Alert) -> &'static str {
    alert.headline()
}

/// The whole message: `text` (the notification's fallback) and `blocks`.
pub fn message(alert: &Alert, environment: Option<&str>) -> Value {
    let env = environment.map(|e| format!("[{e}] ")).unwrap_or_default();
    let header = format!(
        "{} {env}{}: {}",
        emoji(alert),
        alert.service_name,
        headline(alert)
    );
    let mut blocks = vec![
        json!({"type": "header", "text": {"type": "plain_text", "text": escape_within(&header, HEADER_MAX), "emoji": true}}),
        section(&format!(
            "*What happened:* {}\n*When:* {}",
            escape(&alert.summary),
            when(alert)
        )),
    ];
    let fields = fields(alert, environment);
    if !fields.is_empty() {
        blocks.push(json!({"type": "section", "fields": fields}));
    }
    let evidence = evidence(alert);
    if !evidence.is_empty() {
        blocks.push(section(&evidence.join("\n")));
    }
    blocks.push(section(&links(alert).join("  ·  ")));
    blocks.push(json!({"type": "context", "elements": [mrkdwn(&format!(
        "{} · `{}` · {} · {} · rollout-watcher",
        alert.severity.as_str(),
        alert.alert.as_str(),
        alert.status.as_str(),
        alert.at,
    ), SECTION_MAX)]}));
    json!({
        "text": escape_within(&format!("{header}: {}", alert.summary), 300),
        "blocks": blocks,
        "unfurl_links": false,
        "unfurl_media": false,
    })
}

/// The facts, as two-column fields (at most 10).
fn fields(alert: &Alert, environment: Option<&str>) -> Vec<Value> {
    let d = &alert.details;
    let code = |s: &str| format!("`{}`", escape(s));
    let mut f: Vec<(&str, String)> = vec![
        ("Service", code(&alert.service_name)),
        ("Cluster", code(&alert.cluster)),
        (
            "Account · region",
            format!(
                "{} · {}",
                code(alert.service.account()),
                code(alert.service.region())
            ),
        ),
    ];
    if let Some(e) = environment {
        f.push(("Environment", escape(e).into_owned()));
    }
    if let Some(id) = &alert.deployment_id {
        f.push(("Deployment", code(id.as_str())));
    }
    if let Some(t) = &d.task_definition {
        f.push(("Task definition", code(t)));
    }
    if let Some(s) = d.duration_s {
        f.push(("Duration", seconds(s)));
    }
    if let Some(s) = d.downtime_s {
        f.push(("Downtime", seconds(s)));
    }
    match (d.failures, d.threshold) {
        (Some(n), Some(t)) => f.push(("Circuit breaker", format!("{n} of {t} failed tasks"))),
        // A crash loop's count is crashes of any task, not a rollout's failures.
        (Some(n), None) if alert.alert == AlertName::CrashLoop => {
            f.push(("Crashes", n.to_string()));
        }
        (Some(n), None) => f.push(("Failed tasks", n.to_string())),
        _ => {}
    }
    if let Some(id) = &d.rollback_of {
        f.push(("Rolls back", code(id.as_str())));
    }
    if let Some(id) = &d.rolled_back_by {
        f.push(("Rolled back by", code(id.as_str())));
    }
    f.into_iter()
        .take(FIELDS_MAX)
        .map(|(label, value)| mrkdwn(&format!("*{label}*\n{value}"), FIELD_MAX))
        .collect()
}

/// The evidence: why the task stopped, how its containers exited, what ECS said.
fn evidence(alert: &Alert) -> Vec<String> {
    let d = &alert.details;
    let mut lines = Vec::new();
    if let Some(r) = &d.stop_reason {
        lines.push(format!("*Stopped reason:* {}", escape(r)));
    }
    if let Some(c) = &d.stop_code {
        lines.push(format!("*Stop code:* `{}`", escape(c)));
    }
    for e in &d.exits {
        let code = e
            .exit_code
            .map_or_else(|| "no exit code".to_owned(), |c| format!("exit code {c}"));
        let reason = e
            .reason
            .as_deref()
            .map(|r| format!(": {}", escape(r)))
            .unwrap_or_default();
        lines.push(format!("*Container* `{}`: {code}{reason}", escape(&e.name)));
    }
    if let Some(t) = &d.task_arn {
        lines.push(format!("*Task:* `{}`", escape(task_id(t))));
    }
    if let Some(r) = &d.reason {
        lines.push(format!("*ECS says:* {}", escape(r)));
    }
    for f in &d.findings {
        lines.push(format!("• {}", escape(f)));
    }
    lines
}

/// Links to the ECS console: the service's deployments, and the task when known.
fn links(alert: &Alert) -> Vec<String> {
    let mut out = Vec::new();
    if let Some(l) = link(
        &alert.details.console_url,
        "Open the service in the ECS console",
    ) {
        out.push(l);
    }
    if let Some(task) = &alert.details.task_arn {
        let url = task_console_url(&alert.service, task_id(task));
        if let Some(l) = link(&url, "Open the task") {
            out.push(l);
        }
    }
    if out.is_empty() {
        out.push("(no console link)".to_owned());
    }
    out
}

/// `<url|label>`, only for a plain https URL: one that could close the link early or
/// smuggle a second one (`|`, `<`, `>`, spaces) is left out rather than escaped.
fn link(url: &str, label: &str) -> Option<String> {
    let plain = url.starts_with("https://")
        && url.len() < 2000
        && !url
            .chars()
            .any(|c| c.is_whitespace() || c.is_control() || matches!(c, '<' | '>' | '|'));
    plain.then(|| format!("<{url}|{label}>"))
}

fn seconds(s: f64) -> String {
    let ms = (s * 1000.0).round();
    if !ms.is_finite() || ms < 0.0 {
        return "unknown".to_owned();
    }
    Millis(ms as i64).human()
}

pub(crate) fn section(text: &str) -> Value {
    json!({"type": "section", "text": mrkdwn(text, SECTION_MAX)})
}

/// A mrkdwn text object. `text` is already escaped; a too-long one is cut.
pub(crate) fn mrkdwn(text: &str, max: usize) -> Value {
    json!({"type": "mrkdwn", "text": cut(text, max), "verbatim": true})
}

/// Cuts escaped text to `max` characters, never inside an entity.
pub(crate) fn cut(text: &str, max: usize) -> String {
    if text.chars().count() <= max {
        return text.to_owned();
    }
    let mut t: String = text.chars().take(max.saturating_sub(1)).collect();
    // Never leave half an entity (`&am`) at the cut.
    if let Some(amp) = t.rfind('&').filter(|i| !t[*i..].contains(';')) {
        t.truncate(amp);
    }
    t.push('…');
    t
}

/// The alert as one mrkdwn text with no blocks: what is posted when Slack refuses
/// the layout (`invalid_blocks`), so the page still arrives with its facts and link.
pub fn text_only(alert: &Alert, environment: Option<&str>) -> Value {
    let env = environment.map(|e| format!("[{e}] ")).unwrap_or_default();
    let code = |s: &str| format!("`{}`", escape(s));
    let d = &alert.details;
    let mut lines = vec![
        format!(
            "*{}*",
            escape(&format!(
                "{} {env}{}: {}",
                emoji(alert),
                alert.service_name,
                headline(alert)
            ))
        ),
        escape(&alert.summary).into_owned(),
        format!(
            "*Service:* {} · *Cluster:* {}",
            code(&alert.service_name),
            code(&alert.cluster)
        ),
        format!(
            "*Account:* {} · *Region:* {} · *When:* {}",
            code(alert.service.account()),
            code(alert.service.region()),
            when(alert)
        ),
    ];
    if let Some(id) = &alert.deployment_id {
        lines.push(format!("*Deployment:* {}", code(id.as_str())));
    }
    if let Some(t) = &d.task_definition {
        lines.push(format!("*Task definition:* {}", code(t)));
    }
    lines.extend(evidence(alert));
    lines.push(links(alert).join("  ·  "));
    json!({
        "text": cut(&lines.join("\n"), TEXT_MAX),
        "unfurl_links": false,
        "unfurl_media": false,
    })
}
