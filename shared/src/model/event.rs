//! Typed, lenient ECS events as EventBridge delivers them.
//!
//! AWS says it "might add other event types, sources, and details in the future", so
//! nothing here denies unknown fields and nearly every field is optional: an event is
//! rejected only when it is not JSON, when a field has the wrong type, or (later, in
//! [`super::input`]) when it lacks what makes it usable at all. The three detail-types
//! the watcher acts on get their own structs; any other detail-type decodes to
//! [`Detail::Other`] and is ignored by rule, not refused.

use std::fmt;
use std::marker::PhantomData;

use serde::de::value::MapAccessDeserializer;
use serde::de::{MapAccess, Visitor};
use serde::{Deserialize, Deserializer, Serialize};
use serde_json::value::RawValue;

use super::error::ModelError;
use super::timestamp::Timestamp;

/// `detail-type` of deployment state changes.
pub const DEPLOYMENT_STATE_CHANGE: &str = "ECS Deployment State Change";
/// `detail-type` of service actions.
pub const SERVICE_ACTION: &str = "ECS Service Action";
/// `detail-type` of task state changes.
pub const TASK_STATE_CHANGE: &str = "ECS Task State Change";
/// `detail-type` of lifecycle hook state changes (ECS-native deployments, pause hooks).
pub const HOOK_STATE_CHANGE: &str = "ECS Hook State Change";

/// One EventBridge event from `aws.ecs`.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct EcsEvent {
    /// Envelope version, always "0".
    #[serde(skip_serializing_if = "Option::is_none")]
    pub version: Option<String>,
    /// Event id (a UUID); the same activity can still come with two ids.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    /// `detail-type`.
    #[serde(rename = "detail-type")]
    pub detail_type: String,
    /// `source`, "aws.ecs".
    #[serde(skip_serializing_if = "Option::is_none")]
    pub source: Option<String>,
    /// Account id.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub account: Option<String>,
    /// When EventBridge received the event.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub time: Option<Timestamp>,
    /// Region.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub region: Option<String>,
    /// Service ARN for deployment and service events, task ARN for task events.
    #[serde(default)]
    pub resources: Vec<String>,
    /// The typed detail.
    pub detail: Detail,
}

/// The detail of the event, by detail-type.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(untagged)]
pub enum Detail {
    /// `ECS Deployment State Change`.
    Deployment(DeploymentDetail),
    /// `ECS Service Action`.
    ServiceAction(ServiceActionDetail),
    /// `ECS Task State Change`.
    Task(Box<TaskDetail>),
    /// `ECS Hook State Change`.
    Hook(Box<HookDetail>),
    /// Any other detail-type: accepted, counted and ignored.
    Other(Box<serde_json::Value>),
}

/// Detail of `ECS Deployment State Change`.
#[derive(Clone, Debug, Default, PartialEq, Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct DeploymentDetail {
    /// `INFO` or `ERROR`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub event_type: Option<String>,
    /// `SERVICE_DEPLOYMENT_IN_PROGRESS` / `_COMPLETED` / `_FAILED` (an open set).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub event_name: Option<String>,
    /// `ecs-svc/<digits>`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub deployment_id: Option<String>,
    /// When the deployment changed state (often earlier than the envelope time).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub updated_at: Option<Timestamp>,
    /// Free text; names the target of a circuit-breaker rollback.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// Present in events since about 2025.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cluster_arn: Option<String>,
}

/// Detail of `ECS Service Action`.
#[derive(Clone, Debug, Default, PartialEq, Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ServiceActionDetail {
    /// `INFO`, `WARN` or `ERROR`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub event_type: Option<String>,
    /// For example `SERVICE_TASK_START_IMPAIRED` (an open set).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub event_name: Option<String>,
    /// The cluster.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cluster_arn: Option<String>,
    /// When ECS created the event.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub created_at: Option<Timestamp>,
    /// Cause, for example `RESOURCE:CPU`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// Present on some events (schema registry); also carries deployment ids.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub deployment_id: Option<String>,
    /// Computed desired count (SERVICE_DESIRED_COUNT_UPDATED).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub desired_count: Option<i64>,
    /// Capacity providers involved.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub capacity_provider_arns: Option<Vec<String>>,
    /// Container instances involved.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub container_instance_arns: Option<Vec<String>>,
    /// Tasks involved.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub task_arns: Option<Vec<String>>,
}

/// Detail of `ECS Hook State Change` (AWS's example:
/// `samples/hook-state-change-awaiting-action.json`).
#[derive(Clone, Debug, Default, PartialEq, Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct HookDetail {
    /// `INFO` (the only value AWS shows).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub event_type: Option<String>,
    /// `HOOK_IN_PROGRESS`, `HOOK_AWAITING_ACTION`, `HOOK_SUCCEEDED`, `HOOK_FAILED`,
    /// `HOOK_TIMED_OUT` (an open set).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub event_name: Option<String>,
    /// `ecs-pause-...`; a new one per linear or canary step.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hook_id: Option<String>,
    /// `PAUSE`, or a Lambda hook's type.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hook_type: Option<String>,
    /// When the hook times out and ECS takes its timeout action.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expires_at: Option<Timestamp>,
    /// The lifecycle stage the hook runs at (an open set).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lifecycle_stage: Option<String>,
    /// The cluster.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cluster_arn: Option<String>,
    /// The service: the only place the event names it (`resources` holds the service
    /// deployment, or nothing).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub service_arn: Option<String>,
    /// `...:service-deployment/CLUSTER/SERVICE/<id>`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub service_deployment_arn: Option<String>,
    /// When the hook changed state, with nanoseconds (kept to the millisecond).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub updated_at: Option<Timestamp>,
}

/// Detail of `ECS Task State Change` (the fields the watcher reads).
#[derive(Clone, Debug, Default, PartialEq, Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct TaskDetail {
    /// The cluster; with `group`, the only way to name the service.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cluster_arn: Option<String>,
    /// The task.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub task_arn: Option<String>,
    /// `…:task-definition/FAMILY[:REV]`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub task_definition_arn: Option<String>,
    /// `service:NAME` for service tasks, `family:NAME` for standalone ones.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub group: Option<String>,
    /// The deployment id that started a service task.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub started_by: Option<String>,
    /// PROVISIONING … RUNNING … STOPPED.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_status: Option<String>,
    /// RUNNING or STOPPED (a stop request while still RUNNING).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub desired_status: Option<String>,
    /// TaskFailedToStart, EssentialContainerExited, UserInitiated, …
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stop_code: Option<String>,
    /// Free text.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stopped_reason: Option<String>,
    /// Created.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub created_at: Option<Timestamp>,
    /// Reached RUNNING.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub started_at: Option<Timestamp>,
    /// Stop requested.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stopping_at: Option<Timestamp>,
    /// Containers stopped.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub execution_stopped_at: Option<Timestamp>,
    /// Stopped.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stopped_at: Option<Timestamp>,
    /// Last change.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub updated_at: Option<Timestamp>,
    /// Per-task counter: a duplicate has the same version, a newer state a higher one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub version: Option<u64>,
    /// FARGATE, EC2, …
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub launch_type: Option<String>,
    /// Availability zone.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub availability_zone: Option<String>,
    /// The containers, with exit codes once they stopped.
    #[serde(
        default,
        deserialize_with = "objects",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub containers: Vec<Container>,
}

/// One container of a task.
#[derive(Clone, Debug, Default, PartialEq, Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Container {
    /// Container name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// Image reference.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub image: Option<String>,
    /// Container status.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_status: Option<String>,
    /// Exit code once stopped (137 = SIGKILL, often OOM; 143 = SIGTERM).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub exit_code: Option<i64>,
    /// Why it stopped, e.g. "OutOfMemoryError: Container killed due to memory usage".
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

#[derive(Deserialize)]
struct RawEnvelope<'a> {
    #[serde(default)]
    version: Option<String>,
    #[serde(default)]
    id: Option<String>,
    #[serde(default, rename = "detail-type")]
    detail_type: Option<String>,
    #[serde(default)]
    source: Option<String>,
    #[serde(default)]
    account: Option<String>,
    #[serde(default)]
    time: Option<Timestamp>,
    #[serde(default)]
    region: Option<String>,
    #[serde(default)]
    resources: Option<Vec<String>>,
    #[serde(default, borrow)]
    detail: Option<&'a RawValue>,
}

impl EcsEvent {
    /// The path-tracking decoder alone: slower, and the reference the single pass of
    /// `EcsEvent::from_json` must agree with (the fuzz target checks that).
    pub fn from_json_tracked(text: &str) -> Result<Self, ModelError> {
        let mut de = serde_json::Deserializer::from_str(text);
        let Object(raw): Object<RawEnvelope<'_>> = serde_path_to_error::deserialize(&mut de)
            .map_err(|e| ModelError::from_path_error("", e))?;
        de.end().map_err(|e| ModelError::Json {
            path: String::new(),
            message: e.to_string(),
        })?;
        let detail_type = raw.detail_type.ok_or(ModelError::Missing("detail-type"))?;
        let detail = match (detail_type.as_str(), raw.detail) {
            (_, None) => return Err(ModelError::Missing("detail")),
            (DEPLOYMENT_STATE_CHANGE, Some(d)) => Detail::Deployment(typed(d)?),
            (SERVICE_ACTION, Some(d)) => Detail::ServiceAction(typed(d)?),
            (TASK_STATE_CHANGE, Some(d)) => Detail::Task(Box::new(typed(d)?)),
            (HOOK_STATE_CHANGE, Some(d)) => Detail::Hook(Box::new(typed(d)?)),
            // Any JSON at all: a detail-type we do not follow is none of our business.
            (_, Some(d)) => Detail::Other(Box::new(any(d)?)),
        };
        Ok(Self {
            version: raw.version,
            id: raw.id,
            detail_type,
            source: raw.source,
            account: raw.account,
            time: raw.time,
            region: raw.region,
            resources: raw.resources.unwrap_or_default(),
            detail,
        })
    }
}

/// A detail struct, from a JSON object only.
fn typed<'de, T: Deserialize<'de>>(raw: &'de RawValue) -> Result<T, ModelError> {
    // The fast path: tracking the path costs on every field, and nearly every event
    // is well formed. Only a failure is decoded again, to name the field at fault.
    if let Ok(Object(t)) = serde_json::from_str::<Object<T>>(raw.get()) {
        return Ok(t);
    }
    let mut de = serde_json::Deserializer::from_str(raw.get());
    serde_path_to_error::deserialize(&mut de)
        .map(|Object(t)| t)
        .map_err(|e| ModelError::from_path_error("detail", e))
}

fn any(raw: &RawValue) -> Result<serde_json::Value, ModelError> {
    let mut de = serde_json::Deserializer::from_str(raw.get());
    serde_path_to_error::deserialize(&mut de).map_err(|e| ModelError::from_path_error("detail", e))
}

/// A `T` read from a JSON object and nothing else.
///
/// Serde's derived structs also accept a JSON array and fill their fields by position,
/// so `"detail": ["ERROR", "SERVICE_DEPLOYMENT_FAILED", "ecs-svc/1"]` would read as a
/// failed deployment, and `"detail": []` as an event without a name. ECS only ever
/// sends objects there: anything else is a wrong type, reported at its own path.
pub(super) struct Object<T>(pub(super) T);

impl<'de, T: Deserialize<'de>> Deserialize<'de> for Object<T> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct Only<T>(PhantomData<T>);
        impl<'de, T: Deserialize<'de>> Visitor<'de> for Only<T> {
            type Value = T;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a JSON object")
            }
            fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<T, A::Error> {
                T::deserialize(MapAccessDeserializer::new(map))
            }
        }
        d.deserialize_map(Only(PhantomData)).map(Object)
    }
}

/// A list of JSON objects (see [`Object`]).
pub(super) fn objects<'de, D: Deserializer<'de>, T: Deserialize<'de>>(
    d: D,
) -> Result<Vec<T>, D::Error> {
    let all = Vec::<Object<T>>::deserialize(d)?;
    Ok(all.into_iter().map(|Object(t)| t).collect())
}
