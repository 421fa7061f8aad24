//! Building alerts and metrics with their keys and human text: the one metric builder
//! and the one alert builder, so every key has the same format.

use crate::core::{
    Alert, AlertDetails, AlertName, AlertStatus, Effect, MetricName, StopInfo, dedup_key,
};
use crate::model::{DeploymentId, ServiceArn, Timestamp};

use super::console_url;

/// An alert under construction.
pub(crate) struct AlertBuilder<'a> {
    service: &'a ServiceArn,
    name: AlertName,
    status: AlertStatus,
    deployment: Option<DeploymentId>,
    at: Timestamp,
    occurrence: String,
    details: AlertDetails,
}

impl<'a> AlertBuilder<'a> {
    pub(crate) fn new(service: &'a ServiceArn, name: AlertName, at: Timestamp) -> Self {
        Self {
            service,
            name,
            status: AlertStatus::Firing,
            deployment: None,
            at,
            occurrence: "0".to_owned(),
            details: AlertDetails {
                console_url: console_url(service),
                ..AlertDetails::default()
            },
        }
    }

    pub(crate) fn resolved(mut self) -> Self {
        self.status = AlertStatus::Resolved;
        self
    }

    pub(crate) fn deployment(mut self, d: Option<&DeploymentId>) -> Self {
        self.deployment = d.cloned();
        self
    }

    pub(crate) fn occurrence(mut self, occurrence: impl Into<String>) -> Self {
        self.occurrence = occurrence.into();
        self
    }

    pub(crate) fn details(mut self, f: impl FnOnce(&mut AlertDetails)) -> Self {
        f(&mut self.details);
        self
    }

    /// Finishes with a title (subject-sized) and a summary.
    pub(crate) fn build(self, title: &str, summary: String) -> Effect {
        let mut key = dedup_key(
            self.service,
            self.deployment.as_ref(),
            self.name.as_str(),
            &self.occurrence,
        );
        if self.status == AlertStatus::Resolved {
            key.push_str("|resolved");
        }
        let icon = super::guidance::label(self.status, self.name.severity());
        Effect::Alert(Box::new(Alert {
            alert: self.name,
            status: self.status,
            severity: self.name.severity(),
            cluster: self.service.cluster().to_owned(),
            service_name: self.service.name().to_owned(),
            service: self.service.clone(),
            deployment_id: self.deployment,
            at: self.at,
            title: format!("[{icon}] {}: {title}", self.service.name()),
            summary,
            dedup_key: key,
            details: self.details,
        }))
    }
}

/// A per-service metric data point, as an effect.
pub(crate) fn metric(
    service: &ServiceArn,
    name: MetricName,
    value: f64,
    at: Timestamp,
    deployment: Option<&DeploymentId>,
    occurrence: &str,
) -> Effect {
    Effect::Metric(super::service_metric(
        service, name, value, at, deployment, occurrence,
    ))
}

/// The first 8 characters of a task id: enough to find it in the console.
pub(crate) fn short_task(task_arn: &str) -> &str {
    let id = crate::model::task_id(task_arn);
    id.get(..8).unwrap_or(id)
}

/// " (web exited 1, sidecar exited 137)": the containers that exited, with codes.
pub(crate) fn exit_text(stop: &StopInfo) -> String {
    let codes: Vec<String> = stop
        .exits
        .iter()
        .filter_map(|e| e.exit_code.map(|c| format!("{} exited {c}", e.name)))
        .collect();
    if codes.is_empty() {
        String::new()
    } else {
        format!(" ({})", codes.join(", "))
    }
}

/// " (2 of 3 toward the circuit breaker)" during the task's rollout; nothing outside
/// one, where nothing counts.
pub(crate) fn breaker_text(breaker: Option<(u32, u32)>) -> String {
    breaker
        .map(|(n, t)| format!(" ({n} of {t} toward the circuit breaker)"))
        .unwrap_or_default()
}
