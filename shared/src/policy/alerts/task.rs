//! What every alert about one stopped task carries, whichever alert it is
//! (`health_check_failed`, `task_failed_to_start`, `task_crashed`): the same subject
//! words and the same machine-readable details, so a subscriber reads them alike.

use crate::core::{AlertDetails, StopInfo};
use crate::model::{DeploymentId, ServiceArn, task_id};

use super::super::task_console_url;

/// " of deployment X" and " (family:rev)", each empty when unknown.
pub(super) fn subject(dep: Option<&DeploymentId>, td_name: Option<&str>) -> (String, String) {
    (
        dep.map(|d| format!(" of deployment {d}"))
            .unwrap_or_default(),
        td_name.map(|t| format!(" ({t})")).unwrap_or_default(),
    )
}

/// Fills the task's details: its definition, ARN, ECS's stop words, exit codes, the
/// breaker count when a rollout counts it, and its console page.
pub(super) fn details(
    d: &mut AlertDetails,
    service: &ServiceArn,
    stop: &StopInfo,
    td_name: Option<String>,
    breaker: Option<(u32, u32)>,
) {
    d.task_definition = td_name;
    d.task_arn = Some(stop.task_arn.clone());
    d.stop_reason = stop.reason.clone();
    d.stop_code = stop.code.clone();
    d.exits = stop.exits.clone();
    d.failures = breaker.map(|b| b.0);
    d.threshold = breaker.map(|b| b.1);
    d.console_url = task_console_url(service, task_id(&stop.task_arn));
}
