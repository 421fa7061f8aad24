//! Which deployment a wait follows when `--deployment` is not given: the service's
//! PRIMARY one, unless that is ECS's own rollback.
//!
//! Why not always the PRIMARY: a pipeline step that starts after the circuit breaker
//! failed its deployment finds ECS's rollback as the PRIMARY, and following it to
//! completion passed the gate (exit 0). The deployment the rollback undoes is the one
//! the pipeline made; when it is no longer listed, the rollback alone says that it
//! failed.

use rollout_watcher::model::DeploymentId;

use super::observe;
use super::source::ServiceView;

/// The deployment to follow, and why when it is not simply the PRIMARY.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Choice {
    /// The deployment.
    pub id: DeploymentId,
    /// What the wait says about the choice.
    pub note: Option<String>,
    /// The PRIMARY is ECS's rollback and the deployment it undoes is gone: the
    /// verdict is "rolled back" whatever the rollback does.
    pub rollback_only: bool,
}

/// The choice in a DescribeServices reading; `None` without a PRIMARY deployment.
pub(crate) fn default_deployment(view: &ServiceView) -> Option<Choice> {
    let primary = view.deployments.iter().find(|d| d.status == "PRIMARY")?;
    let Some(target) = observe::rollback_target(primary.reason.as_deref()) else {
        return Some(Choice {
            id: primary.id.clone(),
            note: None,
            rollback_only: false,
        });
    };
    let undone = view
        .deployments
        .iter()
        .filter(|d| d.id != primary.id && Some(&d.id) != target.as_ref())
        .filter(|d| d.created_at <= primary.created_at)
        .max_by_key(|d| d.created_at);
    let target = target.map_or_else(|| "an earlier deployment".to_owned(), |t| t.to_string());
    let rollback = format!(
        "the PRIMARY deployment {} is ECS's rollback to {target}",
        primary.id
    );
    Some(match undone {
        Some(d) => Choice {
            id: d.id.clone(),
            note: Some(format!(
                "{rollback}: following {}, the deployment it undoes",
                d.id
            )),
            rollback_only: false,
        },
        None => Choice {
            id: primary.id.clone(),
            note: Some(format!(
                "{rollback}: the deployment it undoes is no longer listed; it failed"
            )),
            rollback_only: true,
        },
    })
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::wait::source::DeploymentView;
    use rollout_watcher::model::Timestamp;

    fn dep(id: &str, status: &str, created: i64, reason: Option<&str>) -> DeploymentView {
        DeploymentView {
            id: DeploymentId::parse(id).unwrap(),
            status: status.into(),
            rollout_state: None,
            reason: reason.map(str::to_owned),
            task_definition: None,
            running: 0,
            failed_tasks: 0,
            created_at: Some(Timestamp::from_millis(created)),
            updated_at: None,
        }
    }

    fn view(deployments: Vec<DeploymentView>) -> ServiceView {
        ServiceView {
            deployments,
            ..ServiceView::default()
        }
    }

    const BACK: &str = "ECS deployment circuit breaker: rolling back to deploymentId ecs-svc/1.";

    /// A PRIMARY that nobody rolls back is followed; none is no choice.
    #[test]
    fn the_primary_is_followed_unless_it_is_a_rollback() {
        let c = default_deployment(&view(vec![dep("ecs-svc/2", "PRIMARY", 10, None)])).unwrap();
        assert_eq!(
            (c.id.as_str(), c.note, c.rollback_only),
            ("ecs-svc/2", None, false)
        );
        assert_eq!(default_deployment(&view(vec![])), None);
    }

    /// ECS's rollback as PRIMARY: the newest older deployment other than the
    /// rollback's target is the one undone; without one, the rollback alone.
    #[test]
    fn a_rollback_primary_points_to_the_deployment_it_undoes() {
        let c = default_deployment(&view(vec![
            dep("ecs-svc/3", "PRIMARY", 30, Some(BACK)),
            dep("ecs-svc/2", "ACTIVE", 20, None),
            dep("ecs-svc/1", "ACTIVE", 10, None),
        ]))
        .unwrap();
        assert_eq!((c.id.as_str(), c.rollback_only), ("ecs-svc/2", false));
        let c = default_deployment(&view(vec![
            dep("ecs-svc/3", "PRIMARY", 30, Some(BACK)),
            dep("ecs-svc/1", "ACTIVE", 10, None),
        ]))
        .unwrap();
        assert_eq!((c.id.as_str(), c.rollback_only), ("ecs-svc/3", true));
        assert!(c.note.unwrap().contains("rollback to ecs-svc/1"));
    }
}
