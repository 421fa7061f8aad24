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
use serde::de::{DeserializeSeed, MapAccess, Visitor};
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
    /// Decodes one event from JSON text. Errors name the field
    /// (`detail.version: invalid type: string "7", expected u64`).
    ///
    /// Two decoders, one meaning: nearly every event is well formed, so a single pass
    /// without path tracking reads it (the detail typed as soon as `detail-type` is
    /// known, which EventBridge sends first; held as raw text until then otherwise);
    /// anything it does not accept is decoded again by the path-tracking decoder,
    /// which either accepts it too (say, an escaped key) or names the field at fault.
    pub fn from_json(text: &str) -> Result<Self, ModelError> {
        let mut de = serde_json::Deserializer::from_str(text);
        if let Ok(Fast(event)) = Fast::deserialize(&mut de)
            && de.end().is_ok()
        {
            return Ok(event);
        }
        Self::from_json_tracked(text)
    }

    /// The path-tracking decoder alone: slower, and the reference the single pass of
    /// [`EcsEvent::from_json`] must agree with (the fuzz target checks that).
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

    /// Decodes from bytes (must be UTF-8 JSON).
    pub fn from_slice(bytes: &[u8]) -> Result<Self, ModelError> {
        let text = std::str::from_utf8(bytes).map_err(|e| ModelError::Json {
            path: String::new(),
            message: format!("not UTF-8: {e}"),
        })?;
        Self::from_json(text)
    }

    /// Decodes from an already parsed JSON value (the Lambda payload).
    pub fn from_value(value: &serde_json::Value) -> Result<Self, ModelError> {
        // Through text keeps one decoding path, with the same field-naming errors.
        Self::from_json(&value.to_string())
    }
}

/// The single-pass decoder behind [`EcsEvent::from_json`]. It gives up (and the
/// tracked decoder takes over) on anything unusual: a repeated or escaped key, a
/// missing or `null` detail, a wrong type.
struct Fast(EcsEvent);

impl<'de> Deserialize<'de> for Fast {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_map(FastVisitor)
    }
}

struct FastVisitor;

impl<'de> Visitor<'de> for FastVisitor {
    type Value = Fast;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("an EventBridge event")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Fast, A::Error> {
        use serde::de::{Error, IgnoredAny};
        fn once<T, E: Error>(slot: &mut Option<T>, value: T, key: &'static str) -> Result<(), E> {
            match slot.replace(value) {
                None => Ok(()),
                Some(_) => Err(E::duplicate_field(key)),
            }
        }
        let (mut version, mut id, mut detail_type, mut source) = (None, None, None, None);
        let (mut account, mut time, mut region, mut resources) = (None, None, None, None);
        let mut detail: Option<Detail> = None;
        let mut raw_detail: Option<&'de RawValue> = None;
        while let Some(key) = map.next_key::<&'de str>()? {
            match key {
                "version" => once(&mut version, map.next_value::<Option<String>>()?, "version")?,
                "id" => once(&mut id, map.next_value::<Option<String>>()?, "id")?,
                "detail-type" => once(
                    &mut detail_type,
                    map.next_value::<Option<String>>()?,
                    "detail-type",
                )?,
                "source" => once(&mut source, map.next_value::<Option<String>>()?, "source")?,
                "account" => once(&mut account, map.next_value::<Option<String>>()?, "account")?,
                "time" => once(&mut time, map.next_value::<Option<Timestamp>>()?, "time")?,
                "region" => once(&mut region, map.next_value::<Option<String>>()?, "region")?,
                "resources" => once(
                    &mut resources,
                    map.next_value::<Option<Vec<String>>>()?,
                    "resources",
                )?,
                "detail" => match &detail_type {
                    Some(Some(dt)) => {
                        let value = map.next_value_seed(DetailOf(dt))?;
                        once(&mut detail, value, "detail")?;
                    }
                    _ => once(
                        &mut raw_detail,
                        map.next_value::<&'de RawValue>()?,
                        "detail",
                    )?,
                },
                _ => {
                    map.next_value::<IgnoredAny>()?;
                }
            }
        }
        // `detail` came first (serde_json's own maps sort their keys, so a payload
        // that went through `Value` always has it before `detail-type`).
        if let (Some(Some(dt)), Some(raw)) = (&detail_type, raw_detail) {
            if detail.is_some() {
                return Err(A::Error::duplicate_field("detail"));
            }
            let mut de = serde_json::Deserializer::from_str(raw.get());
            detail = Some(
                DetailOf(dt)
                    .deserialize(&mut de)
                    .map_err(A::Error::custom)?,
            );
        }
        let (Some(Some(detail_type)), Some(detail)) = (detail_type, detail) else {
            return Err(A::Error::custom("incomplete"));
        };
        Ok(Fast(EcsEvent {
            version: version.flatten(),
            id: id.flatten(),
            detail_type,
            source: source.flatten(),
            account: account.flatten(),
            time: time.flatten(),
            region: region.flatten(),
            resources: resources.flatten().unwrap_or_default(),
            detail,
        }))
    }
}

/// The detail of an event of detail-type `.0`, read by the single-pass decoder.
struct DetailOf<'a>(&'a str);

impl<'de> DeserializeSeed<'de> for DetailOf<'_> {
    type Value = Detail;

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Detail, D::Error> {
        use serde::de::Error;
        Ok(match self.0 {
            DEPLOYMENT_STATE_CHANGE => Detail::Deployment(Object::deserialize(d)?.0),
            SERVICE_ACTION => Detail::ServiceAction(Object::deserialize(d)?.0),
            TASK_STATE_CHANGE => Detail::Task(Box::new(Object::deserialize(d)?.0)),
            _ => match serde_json::Value::deserialize(d)? {
                serde_json::Value::Null => return Err(D::Error::custom("null detail")),
                v => Detail::Other(Box::new(v)),
            },
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
struct Object<T>(T);

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
fn objects<'de, D: Deserializer<'de>, T: Deserialize<'de>>(d: D) -> Result<Vec<T>, D::Error> {
    let all = Vec::<Object<T>>::deserialize(d)?;
    Ok(all.into_iter().map(|Object(t)| t).collect())
}
