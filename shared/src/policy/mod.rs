//! Policy: how the state machine's findings read as alerts and metrics.
//!
//! The core decides *when* something happened; this module decides how it is named,
//! how loud it is, how it reads to a person at 3 a.m., and which key makes it unique.
//! Summaries always name the service, the deployment, the task definition revision
//! and the stop reason where known, and link to the ECS console.

mod config_rules;
mod metric;
mod text;

pub use config_rules::{
    Assessment, Finding, Verdict, assess, breaker_threshold, ceiling_tasks, floor_tasks,
};
pub use metric::{health_metric, sampled_metric, service_metric};
pub(crate) use text::{AlertBuilder, metric, short_task};

use crate::model::{DeploymentId, ServiceArn};

/// The ECS console page of a service (or of one of its deployments' tasks).
pub fn console_url(service: &ServiceArn) -> String {
    let region = service.region();
    format!(
        "https://{region}.console.aws.amazon.com/ecs/v2/clusters/{}/services/{}/deployments?region={region}",
        service.cluster(),
        service.name()
    )
}

/// The ECS console page of a task.
pub fn task_console_url(service: &ServiceArn, task_id: &str) -> String {
    let region = service.region();
    format!(
        "https://{region}.console.aws.amazon.com/ecs/v2/clusters/{}/tasks/{task_id}/configuration?region={region}",
        service.cluster()
    )
}

/// The deterministic key of an alert or metric occurrence:
/// `service|deployment|name|occurrence`.
pub fn dedup_key(
    service: &ServiceArn,
    deployment: Option<&DeploymentId>,
    name: &str,
    occurrence: &str,
) -> String {
    let d = deployment.map_or("-", DeploymentId::as_str);
    format!("{service}|{d}|{name}|{occurrence}")
}
