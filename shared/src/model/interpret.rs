//! From a decoded event to what the state machine consumes.
//!
//! This is the one place that decides what an event *means*: which service and rollout
//! it belongs to, whether it is a rollback, and whether the watcher acts on it at all.
//! Keeping that out of the core lets the core stay a small set of rules over facts.

use super::error::{ModelError, clip};
use super::event::{Detail, EcsEvent, ServiceActionDetail, TaskDetail};
use super::hook::{Read, read};
use super::ids::{DeploymentId, MAX_ARN, ServiceArn, task_id};
use super::input::{
    ContainerExit, DeploymentChange, DeploymentPhase, Ignored, Input, InputKind, Interpreted,
    ServiceAction, ServiceActionKind, TaskObservation, TaskStatus,
};
use super::timestamp::Timestamp;

/// The longest free text kept from an event (reasons, codes, names). ECS's own run to a
/// few hundred characters; the cap keeps one oversized event from bloating the stored
/// state (one DynamoDB item, at most 400 KB) and the alerts built from it.
const MAX_TEXT: usize = 1024;
/// Stopped containers kept per task event: a task definition holds at most 10.
const MAX_CONTAINERS: usize = 10;
/// The longest event id kept for deduplication (EventBridge ids are 36-character UUIDs).
const MAX_EVENT_ID: usize = 128;
/// The longest service name (ECS allows 255 characters).
const MAX_NAME: usize = 255;

impl EcsEvent {
    /// Interprets the event: an [`Input`], a rule-based ignore, or an error naming
    /// the field that makes it unusable. (A copy of the event is interpreted; see
    /// [`EcsEvent::into_interpreted`].)
    pub fn interpret(&self) -> Result<Interpreted, ModelError> {
        self.clone().into_interpreted()
    }

    /// [`EcsEvent::interpret`], consuming the event: its strings move into the input
    /// instead of being copied (replay interprets every event exactly once).
    pub fn into_interpreted(self) -> Result<Interpreted, ModelError> {
        if let Some(src) = self.source.filter(|s| s != "aws.ecs") {
            return Ok(Interpreted::Ignore(Ignored::Source(src)));
        }
        let envelope = Envelope {
            id: self.id,
            time: self.time,
            resources: self.resources,
        };
        match self.detail {
            Detail::Deployment(d) => {
                let name = d
                    .event_name
                    .as_deref()
                    .ok_or(ModelError::Missing("detail.eventName"))?;
                let Some(phase) = deployment_phase(name) else {
                    return Ok(Interpreted::Ignore(Ignored::EventName(name.to_owned())));
                };
                let id = d
                    .deployment_id
                    .as_deref()
                    .ok_or(ModelError::Missing("detail.deploymentId"))?;
                envelope.deployment(id, phase, d.updated_at, d.reason, d.cluster_arn.as_deref())
            }
            Detail::ServiceAction(d) => envelope.service_action(d),
            Detail::Task(t) => envelope.task(*t),
            Detail::Hook(h) => {
                let resource = envelope.resources.first().cloned();
                let (service, change) = match read(*h, resource, envelope.time)? {
                    Read::Use(service, change) => (service, change),
                    Read::Ignore(name) => return Ok(Interpreted::Ignore(Ignored::EventName(name))),
                };
                Ok(Interpreted::Use(Input {
                    service,
                    event_id: Envelope::event_id(envelope.id)?,
                    time: event_time(envelope.time, Some(change.at), Some(change.at))?,
                    kind: InputKind::Hook(Box::new(change)),
                }))
            }
            Detail::Other(_) => Ok(Interpreted::Ignore(Ignored::DetailType(self.detail_type))),
        }
    }
}

/// What the interpretation reads from the envelope besides the detail.
struct Envelope {
    id: Option<String>,
    time: Option<Timestamp>,
    resources: Vec<String>,
}

impl Envelope {
    /// The service named in `resources`, placed in `cluster` (the event's
    /// `detail.clusterArn`) when it is in the short form of services created before
    /// 2021.
    fn service_from_resources(&self, cluster: Option<&str>) -> Result<ServiceArn, ModelError> {
        let first = self
            .resources
            .first()
            .ok_or(ModelError::Missing("resources[0]"))?;
        ServiceArn::parse_in_cluster(first, cluster).ok_or_else(|| {
            let problem = if ServiceArn::is_short_form(first) {
                "a short service ARN (a service created before 2021) without a detail.clusterArn of its account and region to place it in"
            } else {
                "not an ECS service ARN"
            };
            ModelError::invalid("resources[0]", problem, first)
        })
    }

    /// The id that deduplicates the event. An empty id would make every other event
    /// with an empty id look like a redelivery of this one, and be dropped.
    fn event_id(id: Option<String>) -> Result<Option<String>, ModelError> {
        match id {
            Some(id) if id.trim().is_empty() || id.len() > MAX_EVENT_ID => {
                Err(ModelError::invalid("id", "empty or too long", &id))
            }
            id => Ok(id),
        }
    }

    fn time_or(&self, detail_time: Option<Timestamp>) -> Result<Timestamp, ModelError> {
        event_time(self.time, detail_time, detail_time)
    }

    fn deployment(
        self,
        id: &str,
        phase: DeploymentPhase,
        updated_at: Option<Timestamp>,
        reason: Option<String>,
        cluster: Option<&str>,
    ) -> Result<Interpreted, ModelError> {
        let service = self.service_from_resources(cluster)?;
        let deployment = DeploymentId::parse(id)
            .ok_or_else(|| ModelError::invalid("detail.deploymentId", "empty or too long", id))?;
        let time = self.time_or(updated_at)?;
        let rollback_to = reason.as_deref().and_then(|r| {
            let at = r.find("rolling back to")?;
            Some(DeploymentId::find_in(&r[at..]))
        });
        Ok(Interpreted::Use(Input {
            service,
            event_id: Self::event_id(self.id)?,
            time,
            kind: InputKind::Deployment(DeploymentChange {
                deployment,
                phase,
                at: updated_at.unwrap_or(time),
                reason: reason.map(|r| clip_owned(r, MAX_TEXT)),
                rollback_to: rollback_to.filter(|_| phase == DeploymentPhase::InProgress),
            }),
        }))
    }

    fn service_action(self, d: ServiceActionDetail) -> Result<Interpreted, ModelError> {
        let name = d
            .event_name
            .as_deref()
            .ok_or(ModelError::Missing("detail.eventName"))?;
        // D3 lists SERVICE_DEPLOYMENT_* under this detail-type too; with a deployment
        // id they are the same facts as a deployment state change (and dedup as such).
        if let Some(phase) = deployment_phase(name) {
            return match d.deployment_id.as_deref() {
                Some(id) => {
                    self.deployment(id, phase, d.created_at, d.reason, d.cluster_arn.as_deref())
                }
                None => Ok(Interpreted::Ignore(Ignored::EventName(name.to_owned()))),
            };
        }
        let kind = match name {
            "SERVICE_TASK_START_IMPAIRED" => ServiceActionKind::TaskStartImpaired,
            "SERVICE_TASK_PLACEMENT_FAILURE" => ServiceActionKind::PlacementFailure,
            "SERVICE_TASK_CONFIGURATION_FAILURE" => ServiceActionKind::ConfigurationFailure,
            other => return Ok(Interpreted::Ignore(Ignored::EventName(other.to_owned()))),
        };
        let service = self.service_from_resources(d.cluster_arn.as_deref())?;
        let time = self.time_or(d.created_at)?;
        Ok(Interpreted::Use(Input {
            service,
            event_id: Self::event_id(self.id)?,
            time,
            kind: InputKind::ServiceAction(ServiceAction {
                kind,
                at: d.created_at.unwrap_or(time),
                reason: d.reason.map(|r| clip_owned(r, MAX_TEXT)),
            }),
        }))
    }

    fn task(self, t: TaskDetail) -> Result<Interpreted, ModelError> {
        // Accepted, not rejected: a real 2016 scale-in event has no `group`.
        let Some(group) = t.group.as_deref() else {
            return Ok(Interpreted::Ignore(Ignored::NotAServiceTask));
        };
        let Some(name) = group.strip_prefix("service:") else {
            return Ok(Interpreted::Ignore(Ignored::NotAServiceTask));
        };
        if name.is_empty() || name.contains('/') || name.len() > MAX_NAME {
            return Err(ModelError::invalid(
                "detail.group",
                "not service:NAME",
                group,
            ));
        }
        let cluster = t
            .cluster_arn
            .as_deref()
            .ok_or(ModelError::Missing("detail.clusterArn"))?;
        let service = ServiceArn::from_cluster(cluster, name).ok_or_else(|| {
            ModelError::invalid("detail.clusterArn", "not an ECS cluster ARN", cluster)
        })?;
        let Self {
            id,
            time: envelope_time,
            resources,
        } = self;
        let task_arn = t
            .task_arn
            .or_else(|| resources.into_iter().next())
            .ok_or(ModelError::Missing("detail.taskArn"))?;
        if task_id(&task_arn).trim().is_empty() || task_arn.len() > MAX_ARN {
            return Err(ModelError::invalid(
                "detail.taskArn",
                "empty or too long",
                &task_arn,
            ));
        }
        let status = t
            .last_status
            .as_deref()
            .ok_or(ModelError::Missing("detail.lastStatus"))?;
        let last_status = match status {
            "RUNNING" => TaskStatus::Running,
            "DEACTIVATING" | "STOPPING" | "DEPROVISIONING" => TaskStatus::Stopping,
            "STOPPED" | "DELETED" => TaskStatus::Stopped,
            _ => TaskStatus::Pending,
        };
        let detail_time = t
            .updated_at
            .or(t.stopped_at)
            .or(t.started_at)
            .or(t.created_at);
        let time = event_time(envelope_time, t.updated_at, detail_time)?;
        let exits = t
            .containers
            .into_iter()
            .filter(|c| c.exit_code.is_some() || c.reason.is_some())
            .take(MAX_CONTAINERS)
            .map(|c| ContainerExit {
                name: c.name.map(|n| clip_owned(n, MAX_NAME)).unwrap_or_default(),
                exit_code: c.exit_code,
                reason: c.reason.map(|r| clip_owned(r, MAX_TEXT)),
            })
            .collect();
        Ok(Interpreted::Use(Input {
            service,
            event_id: Self::event_id(id)?,
            time,
            kind: InputKind::Task(Box::new(TaskObservation {
                task_id: task_id(&task_arn).to_owned(),
                task_arn,
                deployment: t.started_by.as_deref().and_then(DeploymentId::parse),
                version: t.version.unwrap_or(0),
                last_status,
                stop_requested: t.desired_status.as_deref() == Some("STOPPED"),
                created_at: t.created_at,
                started_at: t.started_at,
                stopping_at: t.stopping_at,
                stopped_at: t.stopped_at.or(t.execution_stopped_at),
                stop_code: t.stop_code.map(|c| clip_owned(c, MAX_TEXT)),
                stopped_reason: t.stopped_reason.map(|r| clip_owned(r, MAX_TEXT)),
                task_definition: t.task_definition_arn.map(|d| clip_owned(d, MAX_TEXT)),
                exits,
            })),
        }))
    }
}

/// The instant an event stands for. EventBridge's envelope `time` is truncated to the
/// second, while the detail's `updatedAt` (the change itself, to the millisecond) lies
/// within that second: a task that reached RUNNING at 14:19:34.52 arrives with
/// `time` 14:19:34, and taken at the envelope's instant the task would not yet serve
/// (RunningTaskCount 0 on the very event that starts it). So the later of the two is
/// the event time when `updatedAt` is within the envelope's second; outside it (an
/// `updatedAt` minutes earlier, as STOPPED events carry, or a skewed clock) the
/// envelope's time stands, so no detail can move the service's clock far. Without an
/// envelope time, `fallback` (the detail's own timestamp) is used.
fn event_time(
    envelope: Option<Timestamp>,
    updated_at: Option<Timestamp>,
    fallback: Option<Timestamp>,
) -> Result<Timestamp, ModelError> {
    match (envelope, updated_at) {
        (Some(e), Some(u)) if u >= e && u.since(e).0 < 1000 => Ok(u),
        (Some(e), _) => Ok(e),
        (None, _) => fallback.ok_or(ModelError::Missing("time")),
    }
}

/// [`clip`] for a string the caller owns: kept as it is when short enough.
fn clip_owned(text: String, max: usize) -> String {
    if text.len() <= max {
        text
    } else {
        clip(&text, max)
    }
}

fn deployment_phase(name: &str) -> Option<DeploymentPhase> {
    match name {
        "SERVICE_DEPLOYMENT_IN_PROGRESS" => Some(DeploymentPhase::InProgress),
        "SERVICE_DEPLOYMENT_COMPLETED" => Some(DeploymentPhase::Completed),
        "SERVICE_DEPLOYMENT_FAILED" => Some(DeploymentPhase::Failed),
        _ => None,
    }
}
