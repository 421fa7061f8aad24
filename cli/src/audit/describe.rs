//! Reading services' settings: the JSON `aws ecs describe-services` prints (offline),
//! and the SDK's `Service` (live). Both become a [`ServiceRecord`], so the rules and
//! the report never care where the settings came from.
//!
//! Absent is not the same as zero: a field ECS did not report stays `None`, and the
//! report says which ECS defaults it assumed in its place.

use aws_sdk_ecs::types::{Service, ThresholdType};
use rollout_watcher::core::ServiceConfig;
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
    services: Vec<ServiceJson>,
    #[serde(default)]
    failures: Vec<FailureJson>,
    /// `create-service` / `update-service` print one `service`.
    service: Option<ServiceJson>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct ServiceJson {
    service_name: Option<String>,
    service_arn: Option<String>,
    cluster_arn: Option<String>,
    status: Option<String>,
    desired_count: Option<u32>,
    scheduling_strategy: Option<String>,
    deployment_controller: Option<ControllerJson>,
    health_check_grace_period_seconds: Option<u32>,
    load_balancers: Option<Vec<serde_json::Value>>,
    deployment_configuration: Option<DeploymentConfigurationJson>,
}

#[derive(Deserialize)]
struct ControllerJson {
    r#type: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct DeploymentConfigurationJson {
    minimum_healthy_percent: Option<u32>,
    maximum_percent: Option<u32>,
    deployment_circuit_breaker: Option<BreakerJson>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct BreakerJson {
    #[serde(default)]
    enable: bool,
    #[serde(default)]
    rollback: bool,
    threshold_configuration: Option<ThresholdJson>,
}

#[derive(Deserialize)]
struct ThresholdJson {
    r#type: Option<String>,
    value: Option<u32>,
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
        match record_from_json(s) {
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

fn record_from_json(s: ServiceJson) -> Result<ServiceRecord, Missing> {
    let (cluster, name) = names(
        s.cluster_arn.as_deref(),
        s.service_arn.as_deref(),
        s.service_name.as_deref(),
    );
    if s.status.as_deref() == Some("INACTIVE") {
        return Err(inactive(&cluster, &name));
    }
    let dc = s.deployment_configuration.as_ref();
    let breaker = dc.and_then(|d| d.deployment_circuit_breaker.as_ref());
    let threshold = breaker
        .and_then(|b| b.threshold_configuration.as_ref())
        .filter(|t| t.r#type.as_deref() == Some("COUNT"))
        .and_then(|t| t.value);
    let config = ServiceConfig {
        desired_count: s.desired_count,
        min_healthy_percent: dc.and_then(|d| d.minimum_healthy_percent),
        max_percent: dc.and_then(|d| d.maximum_percent),
        circuit_breaker: Some(breaker.is_some_and(|b| b.enable)),
        rollback: Some(breaker.is_some_and(|b| b.enable && b.rollback)),
        failure_threshold: threshold,
        scheduling_strategy: s.scheduling_strategy,
        deployment_controller: s.deployment_controller.and_then(|c| c.r#type),
        health_check_grace_s: s.health_check_grace_period_seconds,
        load_balanced: s.load_balancers.map(|l| !l.is_empty()),
        ..ServiceConfig::default()
    };
    Ok(record(cluster, name, s.service_arn, config))
}

/// The SDK's service as a record (the live path).
pub(super) fn record_from_sdk(s: &Service) -> Result<ServiceRecord, Missing> {
    let (cluster, name) = names(s.cluster_arn(), s.service_arn(), s.service_name());
    if s.status() == Some("INACTIVE") {
        return Err(inactive(&cluster, &name));
    }
    let dc = s.deployment_configuration();
    let breaker = dc.and_then(|d| d.deployment_circuit_breaker());
    let percent = |p: Option<i32>| p.and_then(|p| u32::try_from(p).ok());
    let config = ServiceConfig {
        desired_count: u32::try_from(s.desired_count()).ok(),
        min_healthy_percent: percent(dc.and_then(|d| d.minimum_healthy_percent())),
        max_percent: percent(dc.and_then(|d| d.maximum_percent())),
        circuit_breaker: Some(breaker.is_some_and(|b| b.enable())),
        rollback: Some(breaker.is_some_and(|b| b.enable() && b.rollback())),
        failure_threshold: breaker
            .and_then(|b| b.threshold_configuration())
            .filter(|t| *t.r#type() == ThresholdType::Count)
            .and_then(|t| u32::try_from(t.value()).ok()),
        scheduling_strategy: s.scheduling_strategy().map(|x| x.as_str().to_owned()),
        deployment_controller: s
            .deployment_controller()
            .map(|c| c.r#type().as_str().to_owned()),
        health_check_grace_s: s
            .health_check_grace_period_seconds()
            .and_then(|g| u32::try_from(g).ok()),
        load_balanced: Some(!s.load_balancers().is_empty()),
        ..ServiceConfig::default()
    };
    Ok(record(
        cluster,
        name,
        s.service_arn().map(str::to_owned),
        config,
    ))
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

/// Cluster and service names from whichever of the ARNs and name is present.
/// Service ARNs are `…:service/CLUSTER/NAME` (or the old `…:service/NAME`).
fn names(
    cluster_arn: Option<&str>,
    service_arn: Option<&str>,
    name: Option<&str>,
) -> (String, String) {
    let path = service_arn
        .and_then(|a| a.split_once(":service/"))
        .map(|(_, p)| p);
    let (arn_cluster, arn_name) = match path.map(|p| p.split_once('/')) {
        Some(Some((c, n))) => (Some(c), Some(n)),
        Some(None) => (None, path),
        None => (None, None),
    };
    let cluster = cluster_arn
        .and_then(|a| a.split_once(":cluster/"))
        .map(|(_, c)| c)
        .or(arn_cluster)
        .unwrap_or("?");
    let name = name.or(arn_name).unwrap_or("?");
    (cluster.to_owned(), name.to_owned())
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn names_come_from_the_arns_when_the_name_is_absent() {
        let (c, n) = names(
            None,
            Some("arn:aws:ecs:eu-west-1:123456789012:service/prod/checkout-api"),
            None,
        );
        assert_eq!((c.as_str(), n.as_str()), ("prod", "checkout-api"));
        let (c, n) = names(
            Some("arn:aws:ecs:eu-west-1:123456789012:cluster/prod"),
            Some("arn:aws:ecs:eu-west-1:123456789012:service/legacy"),
            None,
        );
        assert_eq!((c.as_str(), n.as_str()), ("prod", "legacy"));
    }

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
