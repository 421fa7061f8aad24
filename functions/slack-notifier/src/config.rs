//! The function's configuration, read once at start from the environment.
//!
//! The variable names are a contract with the Terraform module
//! (`infra/functions.tf`); a bad value stops the function at start with an error that
//! names the variable, rather than surfacing as a failed alert at 3 a.m.

use std::collections::BTreeSet;

use rollout_watcher::core::{AlertName, Severity};
use thiserror::Error;

/// The ARN of the secret holding the webhook URL (required).
pub const SLACK_WEBHOOK_SECRET_ARN: &str = "SLACK_WEBHOOK_SECRET_ARN";
/// Comma list of severities to post (`info,warning,critical`); unset posts all.
pub const SEVERITY_FILTER: &str = "SEVERITY_FILTER";
/// Comma list of alert names to post; unset posts all.
pub const ALERT_FILTER: &str = "ALERT_FILTER";
/// The CloudWatch namespace of the function's own metrics.
pub const METRICS_NAMESPACE: &str = "METRICS_NAMESPACE";
/// An environment label shown in every message (`production`, `staging`).
pub const ENVIRONMENT: &str = "ENVIRONMENT";

/// The namespace when [`METRICS_NAMESPACE`] is unset.
pub const DEFAULT_NAMESPACE: &str = "RolloutWatcher";

/// A configuration variable that is missing or wrong.
#[derive(Debug, Error, PartialEq, Eq)]
pub enum ConfigError {
    /// A required variable is unset or empty.
    #[error("{var}: missing")]
    Missing {
        /// The variable.
        var: &'static str,
    },
    /// The variable is not a Secrets Manager secret or SSM parameter ARN.
    #[error(
        "{var}: not the ARN of a Secrets Manager secret or an SSM parameter (arn:aws:secretsmanager:…:secret:… or arn:aws:ssm:…:parameter/…)"
    )]
    NotASecretArn {
        /// The variable.
        var: &'static str,
    },
    /// A list item is not one of the allowed values.
    #[error("{var}: unknown value {value:?} (allowed: {allowed})")]
    UnknownValue {
        /// The variable.
        var: &'static str,
        /// The offending item.
        value: String,
        /// The allowed values, comma-separated.
        allowed: String,
    },
    /// The namespace is not one CloudWatch accepts.
    #[error("{var}: {value:?} is not a CloudWatch namespace (1-255 characters, no leading colon)")]
    BadNamespace {
        /// The variable.
        var: &'static str,
        /// The value.
        value: String,
    },
}

/// Where the webhook URL is stored.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SecretRef {
    /// A Secrets Manager secret, by ARN.
    SecretsManager(String),
    /// An SSM Parameter Store parameter (SecureString), by ARN.
    SsmParameter(String),
}

impl SecretRef {
    /// Chooses the store from the ARN's service field.
    pub fn from_arn(arn: &str) -> Option<Self> {
        let parts: Vec<&str> = arn.splitn(6, ':').collect();
        let [prefix, partition, service, region, account, resource] = parts.as_slice() else {
            return None;
        };
        let well_formed = *prefix == "arn"
            && partition.starts_with("aws")
            && !region.is_empty()
            && account.len() == 12
            && account.bytes().all(|b| b.is_ascii_digit());
        if !well_formed {
            return None;
        }
        match *service {
            "secretsmanager"
                if resource.len() > "secret:".len() && resource.starts_with("secret:") =>
            {
                Some(Self::SecretsManager(arn.to_owned()))
            }
            "ssm" if resource.len() > "parameter/".len() && resource.starts_with("parameter/") => {
                Some(Self::SsmParameter(arn.to_owned()))
            }
            _ => None,
        }
    }

    /// The ARN.
    pub fn arn(&self) -> &str {
        match self {
            Self::SecretsManager(a) | Self::SsmParameter(a) => a,
        }
    }
}

/// The function's configuration.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Config {
    /// Where the webhook URL is.
    pub webhook_secret: SecretRef,
    /// Severities to post; `None` posts all.
    pub severities: Option<BTreeSet<Severity>>,
    /// Alerts to post; `None` posts all.
    pub alerts: Option<BTreeSet<AlertName>>,
    /// Namespace of `AlertPublishFailures`.
    pub metrics_namespace: String,
    /// The environment label, if any.
    pub environment: Option<String>,
}

impl Config {
    /// Reads the process environment.
    pub fn from_env() -> Result<Self, ConfigError> {
        Self::from_lookup(|name| std::env::var(name).ok())
    }

    /// Reads the configuration through `lookup` (the environment, or a map in tests).
    /// Empty values count as unset, as Terraform leaves optional ones out.
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        let get = |var: &str| {
            lookup(var)
                .map(|v| v.trim().to_owned())
                .filter(|v| !v.is_empty())
        };
        let arn = get(SLACK_WEBHOOK_SECRET_ARN).ok_or(ConfigError::Missing {
            var: SLACK_WEBHOOK_SECRET_ARN,
        })?;
        let webhook_secret = SecretRef::from_arn(&arn).ok_or(ConfigError::NotASecretArn {
            var: SLACK_WEBHOOK_SECRET_ARN,
        })?;
        let severities = get(SEVERITY_FILTER)
            .map(|v| {
                parse_list(
                    SEVERITY_FILTER,
                    &v,
                    &[Severity::Info, Severity::Warning, Severity::Critical],
                    |s| s.as_str(),
                )
            })
            .transpose()?;
        let alerts = get(ALERT_FILTER)
            .map(|v| parse_list(ALERT_FILTER, &v, &AlertName::ALL, |a| a.as_str()))
            .transpose()?;
        let metrics_namespace =
            get(METRICS_NAMESPACE).unwrap_or_else(|| DEFAULT_NAMESPACE.to_owned());
        if metrics_namespace.len() > 255 || metrics_namespace.starts_with(':') {
            return Err(ConfigError::BadNamespace {
                var: METRICS_NAMESPACE,
                value: metrics_namespace,
            });
        }
        Ok(Self {
            webhook_secret,
            severities,
            alerts,
            metrics_namespace,
            environment: get(ENVIRONMENT),
        })
    }

    /// Whether an alert of this name and severity is posted.
    pub fn wants(&self, alert: AlertName, severity: Severity) -> bool {
        self.wants_severity(severity) && self.alerts.as_ref().is_none_or(|a| a.contains(&alert))
    }

    /// Whether the severity filter lets this severity through.
    pub fn wants_severity(&self, severity: Severity) -> bool {
        self.severities
            .as_ref()
            .is_none_or(|s| s.contains(&severity))
    }
}

/// Parses a comma list against the allowed values (case-insensitive, blanks ignored).
fn parse_list<T: Copy + Ord>(
    var: &'static str,
    text: &str,
    allowed: &[T],
    name: impl Fn(T) -> &'static str,
) -> Result<BTreeSet<T>, ConfigError> {
    text.split(',')
        .map(str::trim)
        .filter(|item| !item.is_empty())
        .map(|item| {
            allowed
                .iter()
                .copied()
                .find(|a| name(*a).eq_ignore_ascii_case(item))
                .ok_or_else(|| ConfigError::UnknownValue {
                    var,
                    value: item.to_owned(),
                    allowed: allowed
                        .iter()
                        .map(|a| name(*a))
                        .collect::<Vec<_>>()
                        .join(","),
                })
        })
        .collect()
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use std::collections::HashMap;

    use super::*;

    const SECRET: &str =
        "arn:aws:secretsmanager:eu-west-1:123456789012:secret:slack-webhook-AbCdEf";
    const PARAM: &str = "arn:aws:ssm:eu-west-1:123456789012:parameter/rollout-watcher/slack";

    fn config(vars: &[(&str, &str)]) -> Result<Config, ConfigError> {
        let map: HashMap<String, String> = vars
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect();
        Config::from_lookup(|k| map.get(k).cloned())
    }

    #[test]
    fn the_secret_arn_chooses_the_store() {
        let c = config(&[(SLACK_WEBHOOK_SECRET_ARN, SECRET)]).unwrap();
        assert_eq!(c.webhook_secret, SecretRef::SecretsManager(SECRET.into()));
        assert_eq!(c.metrics_namespace, "RolloutWatcher");
        assert_eq!((c.severities, c.alerts, c.environment), (None, None, None));
        let c = config(&[(SLACK_WEBHOOK_SECRET_ARN, PARAM)]).unwrap();
        assert_eq!(c.webhook_secret, SecretRef::SsmParameter(PARAM.into()));
    }

    #[test]
    fn a_missing_or_wrong_secret_arn_names_the_variable() {
        let missing = config(&[]).unwrap_err();
        assert_eq!(missing.to_string(), "SLACK_WEBHOOK_SECRET_ARN: missing");
        for bad in [
            "https://hooks.slack.com/services/T0/B0/xyz",
            "arn:aws:s3:::bucket",
            "arn:aws:secretsmanager:eu-west-1:123456789012:secret:",
            "arn:aws:ssm:eu-west-1:12345:parameter/x",
        ] {
            let e = config(&[(SLACK_WEBHOOK_SECRET_ARN, bad)]).unwrap_err();
            assert_eq!(
                e,
                ConfigError::NotASecretArn {
                    var: SLACK_WEBHOOK_SECRET_ARN
                }
            );
            assert!(
                !e.to_string().contains("hooks.slack.com"),
                "the value is never echoed"
            );
        }
    }

    #[test]
    fn filters_route_criticals_to_one_channel() {
        let c = config(&[
            (SLACK_WEBHOOK_SECRET_ARN, SECRET),
            (SEVERITY_FILTER, "critical, Warning"),
            (
                ALERT_FILTER,
                "zero_running_tasks,deployment_failed,health_check_failed",
            ),
            (ENVIRONMENT, "production"),
            (METRICS_NAMESPACE, "Team/Rollouts"),
        ])
        .unwrap();
        assert!(c.wants(AlertName::ZeroRunningTasks, Severity::Critical));
        assert!(c.wants(AlertName::HealthCheckFailed, Severity::Warning));
        assert!(!c.wants(AlertName::DeploymentStarted, Severity::Info));
        assert!(!c.wants(AlertName::DeploymentStalled, Severity::Warning));
        assert_eq!(c.environment.as_deref(), Some("production"));
        assert_eq!(c.metrics_namespace, "Team/Rollouts");
    }

    #[test]
    fn an_unknown_filter_value_is_rejected_with_the_allowed_ones() {
        let e = config(&[
            (SLACK_WEBHOOK_SECRET_ARN, SECRET),
            (SEVERITY_FILTER, "error"),
        ])
        .unwrap_err();
        assert_eq!(
            e.to_string(),
            "SEVERITY_FILTER: unknown value \"error\" (allowed: info,warning,critical)"
        );
        let e = config(&[
            (SLACK_WEBHOOK_SECRET_ARN, SECRET),
            (ALERT_FILTER, "deploy_failed"),
        ])
        .unwrap_err();
        assert!(
            e.to_string()
                .starts_with("ALERT_FILTER: unknown value \"deploy_failed\"")
        );
    }

    #[test]
    fn empty_values_count_as_unset() {
        let c = config(&[
            (SLACK_WEBHOOK_SECRET_ARN, SECRET),
            (SEVERITY_FILTER, ""),
            (ENVIRONMENT, " "),
        ])
        .unwrap();
        assert_eq!((c.severities, c.environment), (None, None));
    }
}
