//! What the watcher asks the outside world to do: record a transition, send an
//! alert, emit a metric. One enum, one-to-one with the CLI's JSON lines, so that the
//! local replay and the deployed functions report exactly the same things.
//!
//! These are the contract's vocabulary (names that SNS filter policies, dashboards and
//! the outbox rely on), so they sit with the state machine that everything above
//! shares; the words and severities put into them are the policy's.

mod alert;
mod metric;

use serde::{Deserialize, Serialize};

use crate::model::{DeploymentId, ServiceArn, Timestamp};

use super::rollout::{RolloutState, RolloutSummary};

pub use alert::{Alert, AlertDetails, AlertName, AlertStatus, Severity};
pub use metric::{Dimensions, Metric, MetricName, Unit};

/// One effect of applying an input.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Effect {
    /// A rollout moved to another state.
    Transition(Transition),
    /// An alert fired or resolved.
    Alert(Box<Alert>),
    /// A metric data point.
    Metric(Metric),
    /// A lifecycle stage newly known for a rollout (ECS-native deployments).
    Stage(Stage),
}

/// A lifecycle stage newly known: `{"type":"stage","service":ARN,"deployment_id":ID,
/// "stage":STAGE,"at":TIME}` (`deployment_id` null while its service deployment is
/// not joined to a rollout).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Stage {
    /// The service.
    pub service: ServiceArn,
    /// The rollout's deployment, when joined.
    pub deployment_id: Option<DeploymentId>,
    /// The lifecycle stage (`RECONCILE_SERVICE` ... `CLEAN_UP`, an open set).
    pub stage: String,
    /// When it was first known (event time).
    pub at: Timestamp,
}

/// A rollout state change.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Transition {
    /// The service.
    pub service: ServiceArn,
    /// The rollout's deployment.
    pub deployment_id: DeploymentId,
    /// The previous state (`None` for a new rollout).
    pub from: Option<RolloutState>,
    /// The new state.
    pub to: RolloutState,
    /// Event time of the change.
    pub at: Timestamp,
}

/// Everything one call into the state machine produced.
#[derive(Clone, Debug, Default, PartialEq)]
#[must_use = "effects must be recorded in the outbox and delivered"]
pub struct Effects {
    /// Transitions, alerts and metrics, in order.
    pub items: Vec<Effect>,
    /// Rollouts whose state changed, as they stand after the change, and rollouts the
    /// service let go of (see [`crate::core::LATE_LIMIT`]), as they stood then.
    pub rollouts: Vec<RolloutSummary>,
    /// The input changed nothing (a duplicate or an older version).
    pub duplicate: bool,
    /// The input came more than [`crate::core::LATE_LIMIT`] before the service's
    /// clock, about a rollout or task the service no longer holds, and was not
    /// applied (`duplicate` is set too): applying it could raise alerts about the
    /// past.
    pub late: bool,
}

impl Effects {
    /// What became of the input, in a word for logs and responses: `late` when it
    /// came too late to be applied (so that its log line says why it changed
    /// nothing), `duplicate` when it changed nothing else, `applied` otherwise.
    pub fn outcome(&self) -> &'static str {
        match (self.duplicate, self.late) {
            (true, true) => "late",
            (true, false) => "duplicate",
            (false, _) => "applied",
        }
    }

    /// The alerts among the effects.
    pub fn alerts(&self) -> impl Iterator<Item = &Alert> {
        self.items.iter().filter_map(|e| match e {
            Effect::Alert(a) => Some(a.as_ref()),
            _ => None,
        })
    }

    /// The stages among the effects.
    pub fn stages(&self) -> impl Iterator<Item = &Stage> {
        self.items.iter().filter_map(|e| match e {
            Effect::Stage(s) => Some(s),
            _ => None,
        })
    }

    /// The metrics among the effects.
    pub fn metrics(&self) -> impl Iterator<Item = &Metric> {
        self.items.iter().filter_map(|e| match e {
            Effect::Metric(m) => Some(m),
            _ => None,
        })
    }

    /// Appends another batch.
    pub fn extend(&mut self, other: Self) {
        self.items.extend(other.items);
        for r in other.rollouts {
            self.rollouts.retain(|x| x.deployment_id != r.deployment_id);
            self.rollouts.push(r);
        }
        self.duplicate &= other.duplicate;
        self.late |= other.late;
    }
}

/// The deterministic key of an alert or metric occurrence:
/// `service|deployment|name|occurrence`. It is here, with the effects, because the
/// state machine remembers some of these keys (persisted in the service's state) to
/// decide that a condition was already reported.
pub fn dedup_key(
    service: &ServiceArn,
    deployment: Option<&DeploymentId>,
    name: &str,
    occurrence: &str,
) -> String {
    let d = deployment.map_or("-", DeploymentId::as_str);
    format!("{service}|{d}|{name}|{occurrence}")
}
