//! Policy: how the state machine's occurrences read as alerts and metrics.
//!
//! The core decides *when* something happened; this module decides how it is named,
//! how loud it is, how it reads to a person at 3 a.m., and which key makes it unique.
//! Summaries always name the service, the deployment, the task definition revision
//! and the stop reason where known, and link to the ECS console. It also holds the
//! audit's verdict on a service's settings ([`assess`]), which reads the same rules.

mod alerts;
mod config_rules;
mod guidance;
mod machine;
mod metric;
mod text;

pub use config_rules::{Assessment, Verdict, assess};
pub use metric::{health_metric, sampled_metric, service_metric};

pub use crate::core::dedup_key;
pub use crate::model::{Finding, breaker_threshold, ceiling_tasks, floor_tasks};

use crate::model::ServiceArn;

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
