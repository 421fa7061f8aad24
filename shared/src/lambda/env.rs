//! The functions' configuration from environment variables, validated at start-up.
//!
//! Why in the library: the event handler and the sweeper read the same variables and
//! must agree on defaults and validation; the sweeper adds its own ([`sweep_config`]). Reading goes
//! through a lookup function so the rules are tested without touching the process
//! environment. Every error names the variable and what was expected.

use thiserror::Error;

use crate::adapters::cached::CacheLimits;
use crate::core::Settings;
use crate::delivery::{SweepConfig, WatcherConfig};
use crate::model::{CrashLoopRule, Millis};

/// A variable is missing or unusable.
#[derive(Debug, Error, PartialEq, Eq)]
pub enum ConfigError {
    /// A required variable is absent or empty.
    #[error("{0}: missing (required)")]
    Missing(&'static str),
    /// A variable's value cannot be used.
    #[error("{var}: {value:?} is not {expected}")]
    Invalid {
        /// The variable.
        var: &'static str,
        /// Its value.
        value: String,
        /// What it should be.
        expected: &'static str,
    },
}

/// Where metrics go.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MetricsSinkKind {
    /// Embedded Metric Format on stdout (default).
    Emf,
    /// PutMetricData.
    CloudWatch,
}

/// How events reach the handler (`EVENT_DELIVERY`, set by the Terraform module from
/// `event_delivery.mode`): it decides how many services a sandbox remembers
/// ([`CacheLimits`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum EventDelivery {
    /// One EventBridge event per invocation, many sandboxes at once (the default
    /// when the variable is absent: the safe choice for a copy that may be stale).
    Direct,
    /// SQS FIFO batches, one at a time.
    Queue,
}

impl EventDelivery {
    /// What a sandbox remembers under this delivery.
    pub fn cache_limits(self) -> CacheLimits {
        match self {
            Self::Direct => CacheLimits::DIRECT,
            Self::Queue => CacheLimits::QUEUE,
        }
    }
}

/// The variables shared by the ecs-event-handler and the rollout-sweeper.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EnvConfig {
    /// `STATE_TABLE`: the DynamoDB table.
    pub state_table: String,
    /// `ALERT_TOPIC_ARN`: the SNS topic.
    pub alert_topic_arn: String,
    /// `METRICS_SINK`: `emf` (default) or `cloudwatch`.
    pub metrics_sink: MetricsSinkKind,
    /// `METRICS_NAMESPACE` (default `RolloutWatcher`).
    pub metrics_namespace: String,
    /// `ENVIRONMENT`: a label shown in alerts (optional).
    pub environment: Option<String>,
    /// `STALL_AFTER`, `ZERO_GRACE`, `NOTIFY_INFO` and the fixed delivery knobs.
    pub watcher: WatcherConfig,
    /// `EVENT_DELIVERY`: `direct` (default) or `queue`.
    pub event_delivery: EventDelivery,
}

impl EnvConfig {
    /// From the process environment.
    pub fn from_env() -> Result<Self, ConfigError> {
        Self::from_lookup(|k| std::env::var(k).ok())
    }

    /// From any lookup (tests).
    pub fn from_lookup(get: impl Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        let var = |name: &'static str| {
            get(name)
                .map(|v| v.trim().to_owned())
                .filter(|v| !v.is_empty())
        };
        let required = |name: &'static str| var(name).ok_or(ConfigError::Missing(name));
        let invalid =
            |var: &'static str, value: String, expected: &'static str| ConfigError::Invalid {
                var,
                value,
                expected,
            };
        let alert_topic_arn = required("ALERT_TOPIC_ARN")?;
        if !alert_topic_arn.starts_with("arn:") {
            return Err(invalid(
                "ALERT_TOPIC_ARN",
                alert_topic_arn,
                "an SNS topic ARN",
            ));
        }
        let metrics_sink = match var("METRICS_SINK").as_deref() {
            None | Some("emf") => MetricsSinkKind::Emf,
            Some("cloudwatch") => MetricsSinkKind::CloudWatch,
            Some(other) => {
                return Err(invalid(
                    "METRICS_SINK",
                    other.into(),
                    "`emf` or `cloudwatch`",
                ));
            }
        };
        let event_delivery = match var("EVENT_DELIVERY").as_deref() {
            None | Some("direct") => EventDelivery::Direct,
            Some("queue") => EventDelivery::Queue,
            Some(other) => {
                return Err(invalid(
                    "EVENT_DELIVERY",
                    other.into(),
                    "`direct` or `queue`",
                ));
            }
        };
        let metrics_namespace = var("METRICS_NAMESPACE").unwrap_or_else(|| "RolloutWatcher".into());
        if metrics_namespace.len() > 255 || metrics_namespace.starts_with(':') {
            return Err(invalid(
                "METRICS_NAMESPACE",
                metrics_namespace,
                "a CloudWatch namespace (1-255 characters, not starting with ':')",
            ));
        }
        let duration = |name: &'static str, default: &str| {
            let text = var(name).unwrap_or_else(|| default.into());
            Millis::parse_duration(&text)
                .filter(|d| d.0 > 0)
                .ok_or_else(|| invalid(name, text, "a positive duration such as 90s, 15m or 1h"))
        };
        let notify_info = match var("NOTIFY_INFO")
            .as_deref()
            .map(str::to_ascii_lowercase)
            .as_deref()
        {
            None | Some("true" | "1" | "yes") => true,
            Some("false" | "0" | "no") => false,
            Some(other) => return Err(invalid("NOTIFY_INFO", other.into(), "`true` or `false`")),
        };
        let watcher = WatcherConfig {
            settings: Settings {
                stall_after: duration("STALL_AFTER", "15m")?,
                zero_grace: duration("ZERO_GRACE", "30s")?,
                confirm_zero: true,
                crash_loop: crash_loop(var("CRASH_LOOP"))?,
            },
            notify_info,
            ..WatcherConfig::default()
        };
        Ok(Self {
            state_table: required("STATE_TABLE")?,
            alert_topic_arn,
            metrics_sink,
            metrics_namespace,
            environment: var("ENVIRONMENT"),
            watcher,
            event_delivery,
        })
    }
}

/// `CRASH_LOOP`: `N/DURATION`, default `3/15m`.
fn crash_loop(text: Option<String>) -> Result<CrashLoopRule, ConfigError> {
    match text {
        None => Ok(CrashLoopRule::default()),
        Some(t) => CrashLoopRule::parse(&t).ok_or(ConfigError::Invalid {
            var: "CRASH_LOOP",
            value: t,
            expected: "N/DURATION with N >= 2, such as 3/15m or 5/1h",
        }),
    }
}

/// The rollout-sweeper's own variables (`SWEEP_MAX_SERVICES`, `WATCH_CLUSTERS`), from
/// any lookup.
pub fn sweep_config(get: impl Fn(&str) -> Option<String>) -> Result<SweepConfig, ConfigError> {
    let max_services = match get("SWEEP_MAX_SERVICES").filter(|v| !v.trim().is_empty()) {
        None => 100,
        Some(v) => v
            .trim()
            .parse()
            .ok()
            .filter(|n| *n > 0)
            .ok_or(ConfigError::Invalid {
                var: "SWEEP_MAX_SERVICES",
                value: v,
                expected: "a positive integer",
            })?,
    };
    let mut watch_clusters = Vec::new();
    for c in get("WATCH_CLUSTERS").unwrap_or_default().split(',') {
        let c = c.trim();
        if c.is_empty() {
            continue;
        }
        if !c.starts_with("arn:") || !c.contains(":cluster/") {
            return Err(ConfigError::Invalid {
                var: "WATCH_CLUSTERS",
                value: c.to_owned(),
                expected: "a comma-separated list of ECS cluster ARNs",
            });
        }
        watch_clusters.push(c.to_owned());
    }
    Ok(SweepConfig {
        max_services,
        watch_clusters,
    })
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn with(pairs: &[(&str, &str)]) -> Result<EnvConfig, ConfigError> {
        let owned: Vec<(String, String)> = pairs
            .iter()
            .map(|(k, v)| ((*k).into(), (*v).into()))
            .collect();
        EnvConfig::from_lookup(|k| owned.iter().find(|(n, _)| n == k).map(|(_, v)| v.clone()))
    }

    const BASE: [(&str, &str); 2] = [
        ("STATE_TABLE", "t"),
        ("ALERT_TOPIC_ARN", "arn:aws:sns:eu-west-1:1:a"),
    ];

    /// Only the table and topic are required; the rest has the documented defaults.
    #[test]
    fn defaults() {
        let c = with(&BASE).unwrap();
        assert_eq!(c.metrics_sink, MetricsSinkKind::Emf);
        assert_eq!(c.metrics_namespace, "RolloutWatcher");
        assert_eq!(c.watcher.settings.stall_after, Millis::from_secs(900));
        assert_eq!(c.watcher.settings.zero_grace, Millis::from_secs(30));
        assert!(c.watcher.notify_info && c.watcher.settings.confirm_zero);
        assert_eq!(c.watcher.settings.crash_loop, CrashLoopRule::default());
        let tuned = with(&[BASE[0], BASE[1], ("CRASH_LOOP", "5/1h")]).unwrap();
        assert_eq!(
            tuned.watcher.settings.crash_loop,
            CrashLoopRule {
                count: 5,
                window: Millis::from_secs(3600)
            }
        );
        assert_eq!(c.environment, None);
        assert_eq!(c.event_delivery, EventDelivery::Direct);
        let queued = with(&[BASE[0], BASE[1], ("EVENT_DELIVERY", "queue")]).unwrap();
        assert_eq!(queued.event_delivery.cache_limits(), CacheLimits::QUEUE);
    }

    /// Each bad value is reported with the variable's name.
    #[test]
    fn errors_name_the_variable() {
        assert_eq!(
            with(&BASE[1..]).unwrap_err(),
            ConfigError::Missing("STATE_TABLE")
        );
        for (var, value) in [
            ("METRICS_SINK", "statsd"),
            ("STALL_AFTER", "soon"),
            ("ZERO_GRACE", "0s"),
            ("NOTIFY_INFO", "maybe"),
            ("CRASH_LOOP", "1/15m"),
            ("CRASH_LOOP", "often"),
            ("EVENT_DELIVERY", "fifo"),
        ] {
            let mut pairs = BASE.to_vec();
            pairs.push((var, value));
            let e = with(&pairs).unwrap_err().to_string();
            assert!(e.starts_with(var), "{e}");
        }
    }
}
