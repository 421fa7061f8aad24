//! The single-pass decoder behind [`EcsEvent::from_json`].
//!
//! It reads the envelope and the typed detail in one pass over the text, without
//! tracking paths, and gives up (returns `None`, and the tracked decoder takes over)
//! on anything unusual: a repeated or escaped key, a missing or `null` detail, a wrong
//! type. So it never needs to be right about an error, only about a success, and the
//! tests and the fuzz target hold it to the tracked decoder's result.
//!
//! The detail's type depends on `detail-type`, which EventBridge sends before
//! `detail`. Events re-emitted with sorted keys have `detail` first: `simulate`'s
//! output (sorted on purpose, for stable bytes), `jq -S`, Python's
//! `json.dumps(sort_keys=True)`, serde_json's `Value` built without `preserve_order`.
//! Rather than hold such a detail as raw text and read it a second time, the first try
//! reads an early detail as [`AnyDetail`], the union of the three detail structs, and
//! sorts it out once the detail-type is known. Only an early detail of a detail-type
//! the watcher does not follow, or one the union refuses (a field of another
//! detail-type with an odd value), takes a second try that holds the raw text.

use std::cell::Cell;
use std::fmt;

use serde::de::{DeserializeSeed, Error, IgnoredAny, MapAccess, Visitor};
use serde::{Deserialize, Deserializer};
use serde_json::value::RawValue;

use super::event::{
    Container, DEPLOYMENT_STATE_CHANGE, DeploymentDetail, Detail, EcsEvent, HOOK_STATE_CHANGE,
    HookDetail, Object, SERVICE_ACTION, ServiceActionDetail, TASK_STATE_CHANGE, TaskDetail,
    objects,
};
use super::timestamp::Timestamp;

/// Decodes `text` in one pass, or `None` when the tracked decoder must decide.
pub(super) fn decode(text: &str) -> Option<EcsEvent> {
    let union_used = Cell::new(false);
    if let Some(event) = attempt(text, Early::Union, &union_used) {
        return Some(event);
    }
    // Only an early detail gives the raw-text try a chance the first one did not have.
    if union_used.get() {
        return attempt(text, Early::Raw, &union_used);
    }
    None
}

fn attempt(text: &str, early: Early, union_used: &Cell<bool>) -> Option<EcsEvent> {
    let mut de = serde_json::Deserializer::from_str(text);
    let visitor = FastVisitor { early, union_used };
    let event = de.deserialize_map(visitor).ok()?;
    de.end().ok()?;
    Some(event)
}

/// What to do with a `detail` that comes before `detail-type`.
#[derive(Clone, Copy)]
enum Early {
    /// Read it as [`AnyDetail`].
    Union,
    /// Hold its raw text and read it once the detail-type is known.
    Raw,
}

struct FastVisitor<'a> {
    early: Early,
    union_used: &'a Cell<bool>,
}

/// A detail read before its detail-type was known.
enum Pending<'de> {
    Union(Box<AnyDetail>),
    Raw(&'de RawValue),
}

impl<'de> Visitor<'de> for FastVisitor<'_> {
    type Value = EcsEvent;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("an EventBridge event")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<EcsEvent, A::Error> {
        fn once<T, E: Error>(slot: &mut Option<T>, value: T, key: &'static str) -> Result<(), E> {
            match slot.replace(value) {
                None => Ok(()),
                Some(_) => Err(E::duplicate_field(key)),
            }
        }
        let (mut version, mut id, mut detail_type, mut source) = (None, None, None, None);
        let (mut account, mut time, mut region, mut resources) = (None, None, None, None);
        let mut detail: Option<Detail> = None;
        let mut pending: Option<Pending<'de>> = None;
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
                "detail" => {
                    if detail.is_some() || pending.is_some() {
                        return Err(A::Error::duplicate_field("detail"));
                    }
                    match (&detail_type, self.early) {
                        (Some(Some(dt)), _) => detail = Some(map.next_value_seed(DetailOf(dt))?),
                        (_, Early::Union) => {
                            self.union_used.set(true);
                            let Object(any) = map.next_value::<Object<AnyDetail>>()?;
                            pending = Some(Pending::Union(Box::new(any)));
                        }
                        (_, Early::Raw) => {
                            pending = Some(Pending::Raw(map.next_value::<&'de RawValue>()?));
                        }
                    }
                }
                _ => {
                    map.next_value::<IgnoredAny>()?;
                }
            }
        }
        let Some(Some(detail_type)) = detail_type else {
            return Err(A::Error::custom("no detail-type"));
        };
        let detail = match (detail, pending) {
            (Some(d), None) => d,
            (None, Some(Pending::Union(any))) => any
                .into_detail(&detail_type)
                .ok_or_else(|| A::Error::custom("an early detail of another detail-type"))?,
            (None, Some(Pending::Raw(raw))) => {
                let mut de = serde_json::Deserializer::from_str(raw.get());
                DetailOf(&detail_type)
                    .deserialize(&mut de)
                    .map_err(A::Error::custom)?
            }
            _ => return Err(A::Error::custom("no detail")),
        };
        Ok(EcsEvent {
            version: version.flatten(),
            id: id.flatten(),
            detail_type,
            source: source.flatten(),
            account: account.flatten(),
            time: time.flatten(),
            region: region.flatten(),
            resources: resources.flatten().unwrap_or_default(),
            detail,
        })
    }
}

/// The detail of an event of detail-type `.0`.
struct DetailOf<'a>(&'a str);

impl<'de> DeserializeSeed<'de> for DetailOf<'_> {
    type Value = Detail;

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Detail, D::Error> {
        Ok(match self.0 {
            DEPLOYMENT_STATE_CHANGE => Detail::Deployment(Object::deserialize(d)?.0),
            SERVICE_ACTION => Detail::ServiceAction(Object::deserialize(d)?.0),
            TASK_STATE_CHANGE => Detail::Task(Box::new(Object::deserialize(d)?.0)),
            HOOK_STATE_CHANGE => Detail::Hook(Box::new(Object::deserialize(d)?.0)),
            _ => match serde_json::Value::deserialize(d)? {
                serde_json::Value::Null => return Err(D::Error::custom("null detail")),
                v => Detail::Other(Box::new(v)),
            },
        })
    }
}

/// Every field of [`DeploymentDetail`], [`ServiceActionDetail`], [`TaskDetail`] and
/// [`HookDetail`],
/// each with the same name and type as there (the fields they share have the same
/// type in each). It accepts a subset of what each of them accepts: a field one of
/// them reads it reads alike, and it refuses more (a field of another detail-type
/// with a wrong type, a repeated one), which only sends the event to the second try.
#[derive(Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
struct AnyDetail {
    event_type: Option<String>,
    event_name: Option<String>,
    deployment_id: Option<String>,
    updated_at: Option<Timestamp>,
    reason: Option<String>,
    cluster_arn: Option<String>,
    created_at: Option<Timestamp>,
    desired_count: Option<i64>,
    capacity_provider_arns: Option<Vec<String>>,
    container_instance_arns: Option<Vec<String>>,
    task_arns: Option<Vec<String>>,
    task_arn: Option<String>,
    task_definition_arn: Option<String>,
    group: Option<String>,
    started_by: Option<String>,
    last_status: Option<String>,
    desired_status: Option<String>,
    stop_code: Option<String>,
    stopped_reason: Option<String>,
    started_at: Option<Timestamp>,
    stopping_at: Option<Timestamp>,
    execution_stopped_at: Option<Timestamp>,
    stopped_at: Option<Timestamp>,
    version: Option<u64>,
    launch_type: Option<String>,
    availability_zone: Option<String>,
    #[serde(deserialize_with = "objects")]
    containers: Vec<Container>,
    hook_id: Option<String>,
    hook_type: Option<String>,
    expires_at: Option<Timestamp>,
    lifecycle_stage: Option<String>,
    service_arn: Option<String>,
    service_deployment_arn: Option<String>,
}

impl AnyDetail {
    /// The detail as `detail_type` defines it; `None` for a detail-type the watcher
    /// does not follow (its detail is any JSON, which the union did not keep).
    fn into_detail(self, detail_type: &str) -> Option<Detail> {
        Some(match detail_type {
            DEPLOYMENT_STATE_CHANGE => Detail::Deployment(DeploymentDetail {
                event_type: self.event_type,
                event_name: self.event_name,
                deployment_id: self.deployment_id,
                updated_at: self.updated_at,
                reason: self.reason,
                cluster_arn: self.cluster_arn,
            }),
            SERVICE_ACTION => Detail::ServiceAction(ServiceActionDetail {
                event_type: self.event_type,
                event_name: self.event_name,
                cluster_arn: self.cluster_arn,
                created_at: self.created_at,
                reason: self.reason,
                deployment_id: self.deployment_id,
                desired_count: self.desired_count,
                capacity_provider_arns: self.capacity_provider_arns,
                container_instance_arns: self.container_instance_arns,
                task_arns: self.task_arns,
            }),
            TASK_STATE_CHANGE => Detail::Task(Box::new(TaskDetail {
                cluster_arn: self.cluster_arn,
                task_arn: self.task_arn,
                task_definition_arn: self.task_definition_arn,
                group: self.group,
                started_by: self.started_by,
                last_status: self.last_status,
                desired_status: self.desired_status,
                stop_code: self.stop_code,
                stopped_reason: self.stopped_reason,
                created_at: self.created_at,
                started_at: self.started_at,
                stopping_at: self.stopping_at,
                execution_stopped_at: self.execution_stopped_at,
                stopped_at: self.stopped_at,
                updated_at: self.updated_at,
                version: self.version,
                launch_type: self.launch_type,
                availability_zone: self.availability_zone,
                containers: self.containers,
            })),
            HOOK_STATE_CHANGE => Detail::Hook(Box::new(HookDetail {
                event_type: self.event_type,
                event_name: self.event_name,
                hook_id: self.hook_id,
                hook_type: self.hook_type,
                expires_at: self.expires_at,
                lifecycle_stage: self.lifecycle_stage,
                cluster_arn: self.cluster_arn,
                service_arn: self.service_arn,
                service_deployment_arn: self.service_deployment_arn,
                updated_at: self.updated_at,
            })),
            _ => return None,
        })
    }
}
