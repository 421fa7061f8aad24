//! The harness: the real samples, and a watcher in the middle of a rollout that
//! checks its stored state around every hostile event.

use rollout_watcher::core::{AlertName, Effects, ServiceState, Settings};
use rollout_watcher::model::{ModelError, ServiceArn};
use rollout_watcher::replay::Replay;
use serde_json::Value;

/// Every real EventBridge sample, by name.
pub(crate) const EVENTS: [(&str, &str); 18] = [
    (
        "deployment-completed-real-2022",
        sample!("deployment-state-change-completed-real-2022"),
    ),
    (
        "deployment-completed",
        sample!("deployment-state-change-completed"),
    ),
    (
        "deployment-failed",
        sample!("deployment-state-change-failed-circuit-breaker"),
    ),
    (
        "deployment-in-progress-real-2025",
        sample!("deployment-state-change-in-progress-real-2025-with-clusterarn"),
    ),
    (
        "deployment-in-progress-rollback",
        sample!("deployment-state-change-in-progress-rollback"),
    ),
    (
        "deployment-in-progress",
        sample!("deployment-state-change-in-progress"),
    ),
    (
        "service-capacity-provider-steady",
        sample!("service-action-capacity-provider-steady-state"),
    ),
    ("service-steady", sample!("service-action-steady-state")),
    (
        "service-placement-ec2-cpu",
        sample!("service-action-task-placement-failure-ec2-cpu"),
    ),
    (
        "service-placement-fargate-spot",
        sample!("service-action-task-placement-failure-fargate-spot"),
    ),
    (
        "service-start-impaired",
        sample!("service-action-task-start-impaired"),
    ),
    (
        "task-container-stopped-2016",
        sample!("task-state-change-container-stopped-task-running-2016"),
    ),
    (
        "task-running-ec2-2025",
        sample!("task-state-change-running-ec2-2025"),
    ),
    (
        "task-running-fargate-2020",
        sample!("task-state-change-running-fargate-2020"),
    ),
    (
        "task-running-fargate-2025",
        sample!("task-state-change-running-fargate-2025"),
    ),
    (
        "task-stopped-elb",
        sample!("task-state-change-stopped-elb-healthcheck"),
    ),
    (
        "task-stopped-user",
        sample!("task-state-change-stopped-user-initiated-with-elb-attachment"),
    ),
    (
        "hook-awaiting-action",
        sample!("hook-state-change-awaiting-action"),
    ),
];

/// `servicetest`'s deployment ecs-svc/123 starts…
pub(crate) const IN_PROGRESS: &str = sample!("deployment-state-change-in-progress");
/// …and the circuit breaker fails it: the good event that must still alert.
pub(crate) const FAILED: &str = sample!("deployment-state-change-failed-circuit-breaker");
pub(crate) const WATCHED: &str = "arn:aws:ecs:us-west-2:111122223333:service/default/servicetest";

/// The watcher in the middle of a rollout of `servicetest`, to throw events at.
pub(crate) struct World {
    pub(crate) replay: Replay,
    watched: ServiceArn,
}

impl World {
    pub(crate) fn mid_rollout() -> Self {
        let mut replay = Replay::new(Settings::default());
        let _ = replay.apply_json(IN_PROGRESS).unwrap();
        let watched = ServiceArn::parse(WATCHED).unwrap();
        Self { replay, watched }
    }

    /// What the store holds for the watched service, byte for byte.
    pub(crate) fn stored(&self) -> String {
        stored(self.replay.service(&self.watched).unwrap())
    }

    /// Feeds an event the watcher must refuse; returns the error. The stored state of
    /// the watched service is unchanged.
    pub(crate) fn refuse(&mut self, text: &str) -> ModelError {
        let before = self.stored();
        let err = self.replay.apply_json(text).expect_err("refused");
        assert_eq!(
            self.stored(),
            before,
            "a refused event changed the state: {err}"
        );
        err
    }

    /// Feeds an event the watcher must accept and ignore: no effect, no change.
    pub(crate) fn ignore(&mut self, text: &str) {
        let (before, ignored) = (self.stored(), self.replay.stats.ignored);
        let fx = self.replay.apply_json(text).expect("accepted");
        assert!(fx.items.is_empty(), "an ignored event had effects: {fx:?}");
        assert_eq!(
            self.replay.stats.ignored,
            ignored + 1,
            "not counted as ignored"
        );
        assert_eq!(self.stored(), before, "an ignored event changed the state");
    }

    /// The circuit breaker's FAILED event still alerts exactly as in a world that saw
    /// none of the hostile input.
    pub(crate) fn still_alerts_on_failure(mut self) {
        let mut control = Self::mid_rollout();
        let expected = control.replay.apply_json(FAILED).unwrap();
        let got = self.replay.apply_json(FAILED).unwrap();
        assert_eq!(got.items, expected.items);
        assert!(alert_names(&got).contains(&AlertName::DeploymentFailed));
    }
}

pub(crate) fn stored(state: &ServiceState) -> String {
    let text = serde_json::to_string(state).unwrap();
    let loaded: ServiceState = serde_json::from_str(&text).expect("the stored state loads");
    assert_eq!(&loaded, state, "the state changed through storage");
    text
}

pub(crate) fn alert_names(fx: &Effects) -> Vec<AlertName> {
    fx.alerts().map(|a| a.alert).collect()
}

/// `text` with the JSON value at `pointer` replaced.
pub(crate) fn with(text: &str, pointer: &str, value: Value) -> String {
    let mut v: Value = serde_json::from_str(text).unwrap();
    *v.pointer_mut(pointer)
        .unwrap_or_else(|| panic!("{pointer}")) = value;
    v.to_string()
}

pub(crate) fn field_of(err: &ModelError) -> &str {
    match err {
        ModelError::Json { path, .. } => path,
        ModelError::Missing(field) | ModelError::Invalid { field, .. } => field,
    }
}
