//! CloudWatch alarm notifications, the topic's other messages.
//!
//! The Terraform module points its alarms (no running task, deployment failed, the
//! watcher's own errors and dead-letter queues) at the alert topic, so this function
//! receives CloudWatch's JSON as well as the watcher's alerts. Refusing it as "not an
//! alert" would send the page that says the service is down to the dead-letter queue
//! and count a rejected event (which is itself alarmed on); so an alarm is posted,
//! with its name, its state change, CloudWatch's reason and a link to the alarm.
//!
//! The alert filters apply as far as they can: an alarm in ALARM counts as
//! `critical`, one back to OK or in INSUFFICIENT_DATA as `info` (the SNS message has
//! no severity attribute); `ALERT_FILTER` names alerts, which an alarm is not, so it
//! does not hold alarms back.

use rollout_watcher::core::Severity;
use serde::Deserialize;
use serde_json::{Value, json};

use crate::blocks::{cut, mrkdwn, section};
use crate::escape::{escape, escape_within};

/// The fields of CloudWatch's SNS notification that a person needs.
#[derive(Clone, Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct AlarmNotification {
    /// The alarm's name.
    pub alarm_name: String,
    /// ALARM, OK or INSUFFICIENT_DATA.
    pub new_state_value: String,
    /// The state it left.
    #[serde(default)]
    pub old_state_value: Option<String>,
    /// CloudWatch's reason ("Threshold Crossed: …").
    #[serde(default)]
    pub new_state_reason: Option<String>,
    /// The alarm's description, as the module wrote it.
    #[serde(default)]
    pub alarm_description: Option<String>,
    /// `2026-03-02T10:16:02.006+0000`.
    #[serde(default)]
    pub state_change_time: Option<String>,
    /// The account.
    #[serde(default, rename = "AWSAccountId")]
    pub aws_account_id: Option<String>,
    /// `arn:aws:cloudwatch:REGION:ACCOUNT:alarm:NAME` (the region code is read from
    /// it: the message's `Region` is a name such as "EU (Ireland)").
    #[serde(default)]
    pub alarm_arn: Option<String>,
}

impl AlarmNotification {
    /// Reads a CloudWatch alarm notification; `None` when the body is not one.
    pub fn from_body(body: &str) -> Option<Self> {
        let alarm: Self = serde_json::from_str(body).ok()?;
        (!alarm.alarm_name.trim().is_empty() && !alarm.new_state_value.trim().is_empty())
            .then_some(alarm)
    }

    /// Whether the alarm is firing (in ALARM).
    pub fn firing(&self) -> bool {
        self.new_state_value == "ALARM"
    }

    /// How loud, for `SEVERITY_FILTER`: ALARM is critical, anything else info.
    pub fn severity(&self) -> Severity {
        if self.firing() {
            Severity::Critical
        } else {
            Severity::Info
        }
    }

    /// The region code, from the alarm's ARN.
    pub fn region(&self) -> Option<&str> {
        self.alarm_arn
            .as_deref()
            .and_then(|a| a.split(':').nth(3))
            .filter(|r| !r.is_empty())
    }

    /// A key for logs and errors: the alarm, its new state and when.
    pub fn key(&self) -> String {
        format!(
            "{}|{}|{}",
            self.alarm_arn.as_deref().unwrap_or(&self.alarm_name),
            self.new_state_value,
            self.state_change_time.as_deref().unwrap_or("")
        )
    }
}

/// The alarm as a Block Kit message: header, reason and time, facts, link, context.
pub(crate) fn message(alarm: &AlarmNotification, environment: Option<&str>) -> Value {
    let emoji = match alarm.new_state_value.as_str() {
        "ALARM" => "🔴",
        "OK" => "✅",
        _ => "⚪",
    };
    let env = environment.map(|e| format!("[{e}] ")).unwrap_or_default();
    let header = format!(
        "{emoji} {env}{}: {}",
        alarm.alarm_name, alarm.new_state_value
    );
    let reason = alarm
        .new_state_reason
        .as_deref()
        .unwrap_or("CloudWatch gave no reason");
    let mut what = format!("*Why:* {}", escape(reason));
    if let Some(t) = alarm.state_change_time.as_deref().and_then(when) {
        what.push_str(&format!("\n*When:* {t}"));
    }
    let mut blocks = vec![
        json!({"type": "header", "text": {"type": "plain_text", "text": escape_within(&header, 150), "emoji": true}}),
        section(&what),
    ];
    let mut fields = vec![format!(
        "*State*\n{} → {}",
        escape(alarm.old_state_value.as_deref().unwrap_or("?")),
        escape(&alarm.new_state_value)
    )];
    if let (Some(account), Some(region)) = (alarm.aws_account_id.as_deref(), alarm.region()) {
        fields.push(format!(
            "*Account · region*\n`{}` · `{}`",
            escape(account),
            escape(region)
        ));
    }
    if let Some(e) = environment {
        fields.push(format!("*Environment*\n{}", escape(e)));
    }
    blocks.push(json!({"type": "section", "fields": fields.iter().map(|f| mrkdwn(f, 2000)).collect::<Vec<_>>()}));
    if let Some(d) = alarm
        .alarm_description
        .as_deref()
        .filter(|d| !d.trim().is_empty())
    {
        blocks.push(section(&format!("*Alarm:* {}", escape(d))));
    }
    if let Some(link) = console_link(alarm) {
        blocks.push(section(&link));
    }
    blocks.push(json!({"type": "context", "elements": [mrkdwn(&format!(
        "CloudWatch alarm · {} · rollout-watcher",
        escape(&alarm.new_state_value)
    ), 3000)]}));
    json!({
        "text": escape_within(&format!("{header}: {reason}"), 300),
        "blocks": blocks,
        "unfurl_links": false,
        "unfurl_media": false,
    })
}

/// The alarm as one mrkdwn text, for when Slack refuses the layout.
pub(crate) fn text_only(alarm: &AlarmNotification, environment: Option<&str>) -> Value {
    let env = environment.map(|e| format!("[{e}] ")).unwrap_or_default();
    let mut lines = vec![
        format!(
            "*{}*",
            escape(&format!(
                "{env}{}: {} → {}",
                alarm.alarm_name,
                alarm.old_state_value.as_deref().unwrap_or("?"),
                alarm.new_state_value
            ))
        ),
        escape(
            alarm
                .new_state_reason
                .as_deref()
                .unwrap_or("CloudWatch gave no reason"),
        )
        .into_owned(),
    ];
    lines.extend(console_link(alarm));
    json!({"text": cut(&lines.join("\n"), 3900), "unfurl_links": false, "unfurl_media": false})
}

/// `<https://REGION.console.aws.amazon.com/cloudwatch/…#alarmsV2:alarm/NAME|…>`, the
/// name percent-encoded so that nothing in it can end the link.
fn console_link(alarm: &AlarmNotification) -> Option<String> {
    let region = alarm.region()?;
    if !region
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || b == b'-')
    {
        return None;
    }
    let name: String = alarm
        .alarm_name
        .bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.') {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect();
    Some(format!(
        "<https://{region}.console.aws.amazon.com/cloudwatch/home?region={region}#alarmsV2:alarm/{name}|Open the alarm in CloudWatch>"
    ))
}

/// "2026-03-02 10:16:02 UTC" from CloudWatch's `2026-03-02T10:16:02.006+0000`.
fn when(text: &str) -> Option<String> {
    let (date, rest) = text.split_once('T')?;
    let clock = rest.get(..8)?;
    let utc = rest.ends_with("+0000") || rest.ends_with('Z');
    Some(if utc {
        format!("{date} {clock} UTC")
    } else {
        format!("{date} {rest}")
    })
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn an_alert_body_or_plain_text_is_not_an_alarm() {
        assert!(AlarmNotification::from_body("deploy done!").is_none());
        assert!(AlarmNotification::from_body(r#"{"version":"1.0","source":"custom"}"#).is_none());
        assert!(
            AlarmNotification::from_body(r#"{"AlarmName":"","NewStateValue":"ALARM"}"#).is_none()
        );
    }

    #[test]
    fn a_name_that_could_end_the_link_is_encoded() {
        let alarm = AlarmNotification::from_body(
            r#"{"AlarmName":"a|b> c","NewStateValue":"ALARM","AlarmArn":"arn:aws:cloudwatch:eu-west-1:123456789012:alarm:a|b> c"}"#,
        )
        .unwrap();
        assert_eq!(
            console_link(&alarm).unwrap(),
            "<https://eu-west-1.console.aws.amazon.com/cloudwatch/home?region=eu-west-1#alarmsV2:alarm/a%7Cb%3E%20c|Open the alarm in CloudWatch>"
        );
    }
}
