//! Reading services' settings: the JSON `aws ecs describe-services` prints (offline),
//! and the SDK's `Service` (live). Both fill the library's `DescribedService` and
//! become a [`ServiceRecord`] through its one mapping, so the rules and the report
//! never care where the settings came from.
//!
//! Absent is not the same as zero: a field ECS did not report stays `None`, and the
//! report says which ECS defaults it assumed in its place.

use aws_sdk_ecs::types::Service;
use rollout_watcher::adapters::ecs_described::described;
use rollout_watcher::core::ServiceConfig;
use rollout_watcher::describe::DescribedService;
use serde::Deserialize;

use super::AuditError;

/// One service's settings, with where it lives.
#[derive(Clone, Debug, PartialEq)]
pub struct ServiceRecord {
    /// Cluster name.
    pub cluster: String,
    /// Service name.
    pub name: String,
    /// Service ARN, when known.
    pub arn: Option<String>,
    /// What ECS reported.
    pub config: ServiceConfig,
    /// Settings ECS did not report, for which its defaults were assumed.
    pub assumed: Vec<&'static str>,
}

/// A service ECS could not describe (`failures[]`: MISSING, or INACTIVE).
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct Missing {
    /// What was asked for (an ARN or a name).
    pub service: String,
    /// ECS's reason.
    pub reason: String,
}

/// Services and failures, as DescribeServices answers.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Described {
    /// The services found.
    pub services: Vec<ServiceRecord>,
    /// The services not found.
    pub failures: Vec<Missing>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Output {
    #[serde(default)]
    services: Vec<DescribedService>,
    #[serde(default)]
    failures: Vec<FailureJson>,
    /// `create-service` / `update-service` print one `service`.
    service: Option<DescribedService>,
}

#[derive(Deserialize)]
struct FailureJson {
    arn: Option<String>,
    reason: Option<String>,
    detail: Option<String>,
}

/// Parses `aws ecs describe-services` output (or a bare array of services, or
/// `create-service`'s `{"service": …}`).
pub fn parse(source: &str, text: &str) -> Result<Described, AuditError> {
    let json = |e| AuditError::Json {
        source_name: source.to_owned(),
        source: e,
    };
    let output: Output = if text.trim_start().starts_with('[') {
        Output {
            services: serde_json::from_str(text).map_err(json)?,
            failures: vec![],
            service: None,
        }
    } else {
        serde_json::from_str(text).map_err(json)?
    };
    let mut described = Described::default();
    for s in output.services.into_iter().chain(output.service) {
        match record_from(&s) {
            Ok(r) => described.services.push(r),
            Err(m) => described.failures.push(m),
        }
    }
    for f in output.failures {
        let reason = match (f.reason, f.detail) {
            (Some(r), Some(d)) => format!("{r} ({d})"),
            (r, d) => r.or(d).unwrap_or_else(|| "not described".to_owned()),
        };
        described.failures.push(Missing {
            service: f.arn.unwrap_or_default(),
            reason,
        });
    }
    Ok(described)
}

/// One described service as a record (both paths): its configuration comes from the
/// library's one mapping, so the audit and the watcher read a service alike.
fn record_from(s: &DescribedService) -> Result<ServiceRecord, Missing> {
    let (cluster, name) = s.names();
    if s.is_inactive() {
        return Err(inactive(&cluster, &name));
    }
    Ok(record(cluster, name, s.service_arn.clone(), s.config()))
}

/// The SDK's service as a record (the live path).
pub(super) fn record_from_sdk(s: &Service) -> Result<ServiceRecord, Missing> {
    record_from(&described(s))
}

fn record(
    cluster: String,
    name: String,
    arn: Option<String>,
    config: ServiceConfig,
) -> ServiceRecord {
    let mut assumed = Vec::new();
    if config.min_healthy_percent.is_none() {
        assumed.push("minimumHealthyPercent");
    }
    if config.max_percent.is_none() {
        assumed.push("maximumPercent");
    }
    ServiceRecord {
        cluster,
        name,
        arn,
        config,
        assumed,
    }
}

fn inactive(cluster: &str, name: &str) -> Missing {
    Missing {
        service: format!("{cluster}/{name}"),
        reason: "INACTIVE (deleted)".to_owned(),
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn absent_settings_are_listed_as_assumed() {
        let d = parse(
            "t",
            r#"{"services":[{"serviceName":"a","desiredCount":1}]}"#,
        )
        .unwrap();
        let r = &d.services[0];
        assert_eq!(r.assumed, ["minimumHealthyPercent", "maximumPercent"]);
        assert_eq!(r.config.circuit_breaker, Some(false));
        assert_eq!(r.config.load_balanced, None);
    }

    #[test]
    fn a_count_threshold_is_the_breaker_threshold() {
        let text = r#"[{"serviceName":"a","desiredCount":4,"deploymentConfiguration":{
            "deploymentCircuitBreaker":{"enable":true,"rollback":true,
            "thresholdConfiguration":{"type":"COUNT","value":2}}}}]"#;
        let d = parse("t", text).unwrap();
        assert_eq!(d.services[0].config.failure_threshold, Some(2));
    }

    #[test]
    fn a_wrong_type_names_the_line_and_the_problem() {
        let e = parse("svc.json", r#"{"services":[{"desiredCount":"one"}]}"#).unwrap_err();
        let text = e.to_string();
        assert!(
            text.starts_with("svc.json: not describe-services JSON"),
            "{text}"
        );
    }
}
