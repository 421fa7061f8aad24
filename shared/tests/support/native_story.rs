//! The ECS-native stories' world: one service (AWS's sample names), events in AWS's
//! shapes dated in seconds after 15:00:00, and a replay that keeps every effect.
//!
//! Hook events are shaped as AWS's sample (`hook-state-change-awaiting-action.json`,
//! nanosecond `updatedAt`), deployment and task events as the other samples.

use rollout_watcher::core::{
    AlertName, AlertStatus, Effect, Effects, MetricName, RolloutState, ServiceConfig, Settings,
};
use rollout_watcher::model::{DeploymentStrategy, LifecycleHook, Millis, ServiceArn, Timestamp};
use rollout_watcher::replay::Replay;
use serde_json::json;

pub(crate) const SVC: &str = "arn:aws:ecs:us-west-2:123456789012:service/my-cluster/my-service";
pub(crate) const CLUSTER: &str = "arn:aws:ecs:us-west-2:123456789012:cluster/my-cluster";
pub(crate) const SD: &str = "arn:aws:ecs:us-west-2:123456789012:service-deployment/my-cluster/my-service/0EYSiB0qap8xf0N76FsbE";
pub(crate) const BLUE: &str = "ecs-svc/1111111111111111111";
pub(crate) const GREEN: &str = "ecs-svc/2222222222222222222";
pub(crate) const MIN: u32 = 60;

/// Seconds after 15:00:00 as an RFC 3339 time.
pub(crate) fn t(s: u32) -> String {
    format!(
        "2026-03-05T{:02}:{:02}:{:02}Z",
        15 + s / 3600,
        (s / 60) % 60,
        s % 60
    )
}

/// The same instant with nanoseconds, as hook events write `updatedAt`.
pub(crate) fn nanos(s: u32) -> String {
    t(s).replace('Z', ".000000123Z")
}

pub(crate) fn deployment(name: &str, at: u32, reason: &str) -> String {
    deployment_of(GREEN, name, at, reason)
}

/// A deployment state change of deployment `id`.
pub(crate) fn deployment_of(id: &str, name: &str, at: u32, reason: &str) -> String {
    json!({"version":"0","id":format!("d-{id}-{name}-{at}"),"detail-type":"ECS Deployment State Change",
        "source":"aws.ecs","account":"123456789012","time":t(at),"region":"us-west-2","resources":[SVC],
        "detail":{"eventType":"INFO","eventName":name,"deploymentId":id,"updatedAt":t(at),
            "reason":reason,"clusterArn":CLUSTER}})
    .to_string()
}

/// A hook event in the shape of AWS's sample (`timeout`: minutes to `expiresAt`).
pub(crate) fn hook(name: &str, id: &str, kind: &str, stage: &str, at: u32, timeout: u32) -> String {
    json!({"version":"0","id":format!("h-{id}-{name}"),"detail-type":"ECS Hook State Change",
        "source":"aws.ecs","account":"123456789012","time":t(at),"region":"us-west-2","resources":[SD],
        "detail":{"eventType":"INFO","eventName":name,"hookId":id,"hookType":kind,
            "expiresAt":t(at + timeout * MIN),"lifecycleStage":stage,"clusterArn":CLUSTER,
            "serviceArn":SVC,"serviceDeploymentArn":SD,"updatedAt":nanos(at)}})
    .to_string()
}

/// A task event: RUNNING (`stop` None) or asked to stop at `stop`.
pub(crate) fn task(
    id: &str,
    dep: &str,
    version: u64,
    started: u32,
    stop: Option<u32>,
    at: u32,
) -> String {
    let arn = format!("arn:aws:ecs:us-west-2:123456789012:task/my-cluster/{id}");
    let mut d = json!({"clusterArn":CLUSTER,"group":"service:my-service","startedBy":dep,
        "lastStatus":"RUNNING","desiredStatus":"RUNNING","taskArn":arn,"version":version,
        "taskDefinitionArn":"arn:aws:ecs:us-west-2:123456789012:task-definition/web:9",
        "createdAt":t(started.saturating_sub(20)),"startedAt":t(started),"updatedAt":t(at)});
    if let Some(s) = stop {
        d["desiredStatus"] = json!("STOPPED");
        d["stoppingAt"] = json!(t(s));
        d["stoppedReason"] = json!(format!(
            "Scaling activity initiated by (deployment {GREEN})"
        ));
    }
    json!({"version":"0","id":format!("t-{id}-{version}"),"detail-type":"ECS Task State Change",
        "source":"aws.ecs","account":"123456789012","time":t(at),"region":"us-west-2",
        "resources":[arn],"detail":d})
    .to_string()
}

/// The STOPPED event of a task of `dep` that served from `started` until its
/// essential container exited with code 1 at `at` (the task-state-change samples'
/// shape: stop code, reason, the container's exit).
pub(crate) fn crash(id: &str, dep: &str, version: u64, started: u32, at: u32) -> String {
    let mut e: serde_json::Value =
        serde_json::from_str(&task(id, dep, version, started, None, at)).unwrap();
    let d = &mut e["detail"];
    d["lastStatus"] = json!("STOPPED");
    d["desiredStatus"] = json!("STOPPED");
    d["stoppingAt"] = json!(t(at));
    d["stoppedAt"] = json!(t(at));
    d["stopCode"] = json!("EssentialContainerExited");
    d["stoppedReason"] = json!("Essential container in task exited");
    d["containers"] = json!([{"name":"app","lastStatus":"STOPPED","exitCode":1}]);
    e.to_string()
}

pub(crate) fn pause_hook(stage: &str, timeout_action: &str) -> LifecycleHook {
    LifecycleHook {
        target_type: Some("PAUSE".into()),
        stages: vec![stage.into()],
        timeout: Some(Millis(60 * 60_000)),
        timeout_action: Some(timeout_action.into()),
        ..LifecycleHook::default()
    }
}

pub(crate) fn config(
    strategy: DeploymentStrategy,
    bake_min: i64,
    hooks: Vec<LifecycleHook>,
) -> ServiceConfig {
    ServiceConfig {
        desired_count: Some(1),
        min_healthy_percent: Some(100),
        max_percent: Some(200),
        circuit_breaker: Some(true),
        rollback: Some(true),
        strategy: Some(strategy),
        bake_time: Some(Millis(bake_min * 60_000)),
        lifecycle_hooks: hooks,
        ..ServiceConfig::default()
    }
}

pub(crate) struct Story {
    pub(crate) replay: Replay,
    pub(crate) fx: Effects,
}

impl Story {
    pub(crate) fn new(config: Option<ServiceConfig>) -> Self {
        let mut replay = Replay::new(Settings::default());
        if let Some(c) = config {
            replay.set_config(&ServiceArn::parse(SVC).unwrap(), c);
        }
        Self {
            replay,
            fx: Effects::default(),
        }
    }

    pub(crate) fn feed(&mut self, events: &[String]) -> &mut Self {
        for e in events {
            let fx = self.replay.apply_json(e).unwrap();
            self.fx.extend(fx);
        }
        self
    }

    /// Lets event time pass to `s` (the sweeper's tick, `replay --now`).
    pub(crate) fn at(&mut self, s: u32) -> &mut Self {
        let fx = self.replay.tick_all(Timestamp::parse(&t(s)).unwrap());
        self.fx.extend(fx);
        self
    }

    pub(crate) fn alerts(&self) -> Vec<(AlertName, AlertStatus)> {
        self.fx.alerts().map(|a| (a.alert, a.status)).collect()
    }

    pub(crate) fn fired(&self, name: AlertName) -> usize {
        let firing = |a: &&rollout_watcher::core::Alert| a.status == AlertStatus::Firing;
        self.fx
            .alerts()
            .filter(firing)
            .filter(|a| a.alert == name)
            .count()
    }

    pub(crate) fn states(&self) -> Vec<RolloutState> {
        self.states_of(GREEN)
    }

    /// The states deployment `dep` went through, in order.
    pub(crate) fn states_of(&self, dep: &str) -> Vec<RolloutState> {
        self.fx
            .items
            .iter()
            .filter_map(|e| match e {
                Effect::Transition(t) if t.deployment_id.as_str() == dep => Some(t.to),
                _ => None,
            })
            .collect()
    }

    pub(crate) fn metric(&self, name: MetricName) -> Vec<f64> {
        self.fx
            .metrics()
            .filter(|m| m.name == name)
            .map(|m| m.value)
            .collect()
    }

    pub(crate) fn stages(&self) -> Vec<(String, Option<String>)> {
        let stages = self.fx.stages();
        stages
            .map(|s| {
                (
                    s.stage.clone(),
                    s.deployment_id.as_ref().map(|d| d.to_string()),
                )
            })
            .collect()
    }

    pub(crate) fn end_state(&self) -> RolloutState {
        self.end_state_of(GREEN)
    }

    /// Where deployment `dep` ended (or stands).
    pub(crate) fn end_state_of(&self, dep: &str) -> RolloutState {
        let rollouts = self.replay.rollouts();
        rollouts
            .iter()
            .find(|r| r.deployment_id.as_str() == dep)
            .unwrap()
            .state
    }
}
