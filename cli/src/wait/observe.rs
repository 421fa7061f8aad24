//! From what ECS reports to what the state machine consumes.
//!
//! `wait` has no EventBridge events: it reads DescribeServices, DescribeTasks and
//! the Service Deployments API, and turns each reading into the same [`Input`]s the
//! interpretation of an event produces (a deployment's IN_PROGRESS / COMPLETED /
//! FAILED, a task's status with its `version`). The state machine then decides, so
//! the watcher's verdict and the CI gate's verdict are one. Readings repeat on every
//! poll; the state machine drops what it has seen (same deployment fact, task
//! `version` not newer).
//!
//! The Service Deployments reading also goes to the state machine as it is
//! ([`Input::service_deployment`]): its stages, pauses (a paused rollout is never
//! stalled) and an in-place rollback are the state machine's to decide, as in the
//! functions. [`Progress`] still reads the stage and the awaiting hooks for what
//! `wait` prints and for `--until STAGE` / `--on-pause exit`; moving those onto the
//! state machine's `stage` effects and `paused` state is the next step.

use rollout_watcher::core::ServiceConfig;
use rollout_watcher::model::{
    DeploymentChange, DeploymentId, DeploymentPhase, Input, InputKind, ServiceArn, TaskObservation,
    Timestamp,
};

use super::source::{DeploymentView, HookView, ServiceDeploymentView, ServiceView};

/// Lifecycle stages in the order ECS goes through them (an open set: a stage not
/// listed here is only ever "reached" by name).
pub const STAGES: [&str; 11] = [
    "RECONCILE_SERVICE",
    "PRE_SCALE_UP",
    "SCALE_UP",
    "POST_SCALE_UP",
    "TEST_TRAFFIC_SHIFT",
    "POST_TEST_TRAFFIC_SHIFT",
    "PRE_PRODUCTION_TRAFFIC_SHIFT",
    "PRODUCTION_TRAFFIC_SHIFT",
    "POST_PRODUCTION_TRAFFIC_SHIFT",
    "BAKE_TIME",
    "CLEAN_UP",
];

/// Whether a deployment at stage `current` has reached `target`: the same stage,
/// or a later one of [`STAGES`] (a poll may miss a short stage).
pub fn stage_reached(current: &str, target: &str) -> bool {
    let at = |s: &str| STAGES.iter().position(|k| *k == s);
    current == target || matches!((at(current), at(target)), (Some(c), Some(t)) if c >= t)
}

/// One reading of ECS.
#[derive(Clone, Debug, Default)]
pub(crate) struct Reading {
    /// DescribeServices.
    pub service: ServiceView,
    /// DescribeTasks of the service's tasks.
    pub tasks: Vec<TaskObservation>,
    /// DescribeServiceDeployments of the followed deployment, when known.
    pub deployment: Option<ServiceDeploymentView>,
    /// When it was read (the injected clock).
    pub at: Timestamp,
}

/// What the Service Deployments API says of the followed deployment's progress.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(crate) struct Progress {
    /// `lifecycleStage`.
    pub stage: Option<String>,
    /// `status`.
    pub status: Option<String>,
    /// Hooks awaiting `ContinueServiceDeployment` (PAUSE hooks in AWAITING_ACTION).
    pub awaiting: Vec<HookView>,
    /// Every hook with its status (to report a pause that ended).
    pub hooks: Vec<HookView>,
}

/// The progress in a service deployment view.
pub(crate) fn progress(sd: Option<&ServiceDeploymentView>) -> Progress {
    let Some(sd) = sd else {
        return Progress::default();
    };
    Progress {
        stage: sd.stage.clone(),
        status: Some(sd.status.clone()).filter(|s| !s.is_empty()),
        awaiting: sd
            .hooks
            .iter()
            .filter(|h| h.status == "AWAITING_ACTION")
            .cloned()
            .collect(),
        hooks: sd.hooks.clone(),
    }
}

/// What DescribeServices says of the service's configuration, as the functions
/// record it.
pub(crate) fn config(
    v: &ServiceView,
    sd: Option<&ServiceDeploymentView>,
    at: Timestamp,
) -> ServiceConfig {
    ServiceConfig {
        desired_count: Some(v.desired),
        min_healthy_percent: v.min_healthy_percent,
        max_percent: v.max_percent,
        circuit_breaker: v.circuit_breaker,
        rollback: v.rollback,
        failure_threshold: sd.and_then(|d| d.breaker_threshold).filter(|t| *t > 0),
        read_at: Some(at),
        ..ServiceConfig::default()
    }
}

/// The `ecs-svc/` digits a service revision ARN ends in (`.../service-revision/C/S/N`).
pub(crate) fn revision_digits(arn: &str) -> Option<&str> {
    let last = arn.rsplit('/').next()?;
    (!last.is_empty() && last.bytes().all(|b| b.is_ascii_digit())).then_some(last)
}

/// The digits of `ecs-svc/N`.
pub(crate) fn deployment_digits(id: &DeploymentId) -> Option<&str> {
    id.as_str().strip_prefix("ecs-svc/")
}

/// `Some` when a deployment's reason says it is ECS's rollback ("ECS deployment
/// circuit breaker: rolling back to deploymentId ecs-svc/1."), not a deployment
/// anybody asked for; inside, the deployment it rolls back to, when named.
pub(crate) fn rollback_target(reason: Option<&str>) -> Option<Option<DeploymentId>> {
    let r = reason?;
    let at = r.find("rolling back to")?;
    Some(DeploymentId::find_in(&r[at..]))
}

fn change(
    service: &ServiceArn,
    deployment: &DeploymentId,
    phase: DeploymentPhase,
    at: Timestamp,
    reason: Option<&str>,
) -> Input {
    let rollback_to = reason
        .filter(|_| phase == DeploymentPhase::InProgress)
        .and_then(|r| rollback_target(Some(r)));
    Input {
        service: service.clone(),
        event_id: None,
        time: at,
        kind: InputKind::Deployment(DeploymentChange {
            deployment: deployment.clone(),
            phase,
            at,
            reason: reason.map(str::to_owned),
            rollback_to,
        }),
    }
}

/// The state machine's inputs in one reading, oldest first: the followed
/// deployment and every newer one (a newer one supersedes it or rolls it back), the
/// followed deployment's outcome as the Service Deployments API states it, and the
/// service's tasks. Older deployments enter only through their tasks (their
/// stopping is what "draining" means).
pub(crate) fn inputs(
    service: &ServiceArn,
    followed: &DeploymentId,
    since: Option<Timestamp>,
    r: &Reading,
) -> Vec<Input> {
    let mut out = Vec::new();
    for d in &r.service.deployments {
        let newer = match (since, d.created_at) {
            (Some(s), Some(c)) => c > s,
            _ => false,
        };
        if &d.id != followed && !newer {
            continue;
        }
        let created = d.created_at.or(d.updated_at).unwrap_or(r.at);
        let updated = d.updated_at.unwrap_or(r.at);
        out.push(change(
            service,
            &d.id,
            DeploymentPhase::InProgress,
            created,
            d.reason.as_deref(),
        ));
        match d.rollout_state.as_deref() {
            Some("COMPLETED") => {
                out.push(change(
                    service,
                    &d.id,
                    DeploymentPhase::Completed,
                    updated,
                    None,
                ));
            }
            Some("FAILED") => out.push(change(
                service,
                &d.id,
                DeploymentPhase::Failed,
                updated,
                d.reason.as_deref(),
            )),
            // ECS reports no rolloutState for a service behind a Classic Load
            // Balancer: its deployment is over once it is the only one left and runs
            // the desired count (what `aws ecs wait services-stable` checks). Without
            // this, and without the Service Deployments API, such a wait never ended.
            None if &d.id == followed && steady(&r.service, d) => out.push(change(
                service,
                &d.id,
                DeploymentPhase::Completed,
                updated,
                None,
            )),
            _ => {}
        }
    }
    if let Some(sd) = &r.deployment {
        out.extend(outcome(service, followed, sd, r.at));
        // The stage, the hooks and an in-place rollback, as the functions feed them.
        out.push(Input::service_deployment(service.clone(), sd.clone(), r.at));
    }
    for t in &r.tasks {
        let time = [t.created_at, t.started_at, t.stopping_at, t.stopped_at]
            .into_iter()
            .flatten()
            .max()
            .unwrap_or(r.at);
        out.push(Input {
            service: service.clone(),
            event_id: None,
            time,
            kind: InputKind::Task(Box::new(t.clone())),
        });
    }
    // Deployment facts first at equal times: a task joins a rollout that exists.
    out.sort_by_key(|i| (i.time, !matches!(i.kind, InputKind::Deployment(_))));
    out
}

/// The deployment is the service's only one, PRIMARY, and runs the desired count.
fn steady(v: &ServiceView, d: &DeploymentView) -> bool {
    v.deployments.len() == 1 && d.status == "PRIMARY" && d.running == v.desired
}

/// The outcome the Service Deployments API states: SUCCESSFUL is a completion; a
/// rollback (requested, in progress, done or failed) and a stop forced by the circuit
/// breaker or an alarm are failures. In this API the rollback is a state of the
/// failed deployment itself; DescribeServices shows it as a new deployment whose
/// reason says "rolling back to", which is what makes the rollout `rolled_back`.
fn outcome(
    service: &ServiceArn,
    followed: &DeploymentId,
    sd: &ServiceDeploymentView,
    now: Timestamp,
) -> Option<Input> {
    let at = sd.updated_at.unwrap_or(now);
    let tripped = [&sd.breaker_status, &sd.alarms_status]
        .iter()
        .any(|s| s.as_deref() == Some("TRIGGERED"));
    let reason = sd
        .rollback_reason
        .clone()
        .or_else(|| sd.status_reason.clone())
        .unwrap_or_else(|| format!("service deployment {}", sd.status));
    match sd.status.as_str() {
        "SUCCESSFUL" => Some(change(
            service,
            followed,
            DeploymentPhase::Completed,
            sd.finished_at.unwrap_or(at),
            None,
        )),
        "ROLLBACK_REQUESTED"
        | "ROLLBACK_IN_PROGRESS"
        | "ROLLBACK_SUCCESSFUL"
        | "ROLLBACK_FAILED" => Some(change(
            service,
            followed,
            DeploymentPhase::Failed,
            sd.rollback_started_at.unwrap_or(at),
            Some(&reason),
        )),
        "STOPPED" | "STOP_REQUESTED" if tripped => Some(change(
            service,
            followed,
            DeploymentPhase::Failed,
            at,
            Some(&reason),
        )),
        _ => None,
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn t(s: i64) -> Timestamp {
        Timestamp::from_millis(1_700_000_000_000 + s * 1000)
    }

    fn arn() -> ServiceArn {
        ServiceArn::parse("arn:aws:ecs:eu-west-1:123456789012:service/demo/web").unwrap()
    }

    fn dep(id: &str, state: &str, created: i64, reason: Option<&str>) -> DeploymentView {
        DeploymentView {
            id: DeploymentId::parse(id).unwrap(),
            status: "PRIMARY".into(),
            rollout_state: Some(state.into()),
            reason: reason.map(str::to_owned),
            task_definition: None,
            running: 0,
            failed_tasks: 0,
            created_at: Some(t(created)),
            updated_at: Some(t(created + 60)),
        }
    }

    fn phases(inputs: &[Input]) -> Vec<(String, DeploymentPhase, bool)> {
        inputs
            .iter()
            .filter_map(|i| match &i.kind {
                InputKind::Deployment(c) => {
                    Some((c.deployment.to_string(), c.phase, c.rollback_to.is_some()))
                }
                _ => None,
            })
            .collect()
    }

    /// A stage is reached by name, or by any later stage of the known order; an
    /// unknown stage only by its own name.
    #[test]
    fn stages_are_reached_in_order_or_by_name() {
        assert!(stage_reached("BAKE_TIME", "BAKE_TIME"));
        assert!(stage_reached("CLEAN_UP", "POST_TEST_TRAFFIC_SHIFT"));
        assert!(!stage_reached("SCALE_UP", "BAKE_TIME"));
        assert!(stage_reached("NEW_STAGE", "NEW_STAGE"));
        assert!(!stage_reached("NEW_STAGE", "SCALE_UP"));
    }

    /// The followed deployment and the newer rollback become the same facts as the
    /// EventBridge events would be; the older deployment does not.
    #[test]
    fn followed_and_newer_deployments_become_deployment_facts() {
        let followed = DeploymentId::parse("ecs-svc/2").unwrap();
        let reading = Reading {
            service: ServiceView {
                deployments: vec![
                    dep(
                        "ecs-svc/3",
                        "IN_PROGRESS",
                        300,
                        Some(
                            "ECS deployment circuit breaker: rolling back to deploymentId ecs-svc/1.",
                        ),
                    ),
                    dep(
                        "ecs-svc/2",
                        "FAILED",
                        100,
                        Some("ECS deployment circuit breaker: tasks failed to start."),
                    ),
                    dep("ecs-svc/1", "COMPLETED", 0, None),
                ],
                ..ServiceView::default()
            },
            at: t(400),
            ..Reading::default()
        };
        let got = phases(&inputs(&arn(), &followed, Some(t(100)), &reading));
        assert_eq!(
            got,
            vec![
                ("ecs-svc/2".into(), DeploymentPhase::InProgress, false),
                ("ecs-svc/2".into(), DeploymentPhase::Failed, false),
                ("ecs-svc/3".into(), DeploymentPhase::InProgress, true),
            ]
        );
    }

    /// Without a rolloutState (a service behind a Classic Load Balancer), the
    /// followed deployment completes once it is alone and runs the desired count;
    /// not while the old one is still listed, nor short of the count.
    #[test]
    fn without_a_rollout_state_a_lone_deployment_at_its_count_completed() {
        let followed = DeploymentId::parse("ecs-svc/2").unwrap();
        let lone = |running: u32, with_old: bool| {
            let mut new = dep("ecs-svc/2", "IN_PROGRESS", 100, None);
            new.rollout_state = None;
            new.running = running;
            let mut deployments = vec![new];
            if with_old {
                let mut old = dep("ecs-svc/1", "COMPLETED", 0, None);
                old.status = "ACTIVE".into();
                deployments.push(old);
            }
            let reading = Reading {
                service: ServiceView {
                    desired: 2,
                    deployments,
                    ..ServiceView::default()
                },
                at: t(400),
                ..Reading::default()
            };
            phases(&inputs(&arn(), &followed, Some(t(100)), &reading))
        };
        let started = ("ecs-svc/2".to_owned(), DeploymentPhase::InProgress, false);
        let completed = ("ecs-svc/2".to_owned(), DeploymentPhase::Completed, false);
        assert_eq!(lone(2, false), vec![started.clone(), completed]);
        assert_eq!(lone(2, true), vec![started.clone()]);
        assert_eq!(lone(1, false), vec![started]);
    }

    /// In the Service Deployments API a rollback is a status of the failed
    /// deployment: it reads as the deployment's failure.
    #[test]
    fn a_rollback_status_is_a_failure_and_successful_a_completion() {
        let followed = DeploymentId::parse("ecs-svc/2").unwrap();
        let with = |status: &str| Reading {
            deployment: Some(ServiceDeploymentView {
                status: status.into(),
                rollback_reason: Some("alarm web-5xx in ALARM".into()),
                updated_at: Some(t(50)),
                ..ServiceDeploymentView::default()
            }),
            at: t(60),
            ..Reading::default()
        };
        let p = |s: &str| phases(&inputs(&arn(), &followed, None, &with(s)));
        assert_eq!(
            p("ROLLBACK_IN_PROGRESS"),
            vec![("ecs-svc/2".into(), DeploymentPhase::Failed, false)]
        );
        assert_eq!(
            p("SUCCESSFUL"),
            vec![("ecs-svc/2".into(), DeploymentPhase::Completed, false)]
        );
        assert_eq!(p("STOPPED"), vec![]);
        assert_eq!(p("IN_PROGRESS"), vec![]);
    }

    /// A PAUSE hook in AWAITING_ACTION is what "paused" means.
    #[test]
    fn an_awaiting_hook_is_a_pause() {
        let hook = |status: &str| HookView {
            hook_id: format!("ecs-pause-{status}"),
            target_type: Some("PAUSE".into()),
            status: status.into(),
            expires_at: Some(t(600)),
            timeout_action: Some("ROLLBACK".into()),
        };
        let sd = ServiceDeploymentView {
            status: "IN_PROGRESS".into(),
            stage: Some("POST_TEST_TRAFFIC_SHIFT".into()),
            hooks: vec![hook("SUCCEEDED"), hook("AWAITING_ACTION")],
            ..ServiceDeploymentView::default()
        };
        let p = progress(Some(&sd));
        assert_eq!(p.stage.as_deref(), Some("POST_TEST_TRAFFIC_SHIFT"));
        assert_eq!(p.awaiting, vec![hook("AWAITING_ACTION")]);
    }

    #[test]
    fn revision_digits_are_the_deployment_digits() {
        let id = DeploymentId::parse("ecs-svc/1485800978477494678").unwrap();
        assert_eq!(
            revision_digits(
                "arn:aws:ecs:us-east-1:123456789012:service-revision/example-cluster/example-service/1485800978477494678"
            ),
            deployment_digits(&id)
        );
        assert_eq!(
            revision_digits("arn:aws:ecs:x:1:service-revision/c/s/"),
            None
        );
    }
}
