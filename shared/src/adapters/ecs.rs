//! The ECS inspector: DescribeServices (with tags) for a service's configuration and
//! counts, ListTasks + DescribeTasks to seed the task set of a service seen first.
//!
//! Why look at ECS at all when events say everything: events never carry the
//! deployment configuration (needed for `unsafe_deployment_config` and the real
//! circuit-breaker threshold), a zero is only certain once ECS confirms it, and a
//! service the watcher meets mid-life already has tasks no event will mention. The
//! handler caches the configuration in the service's state, so this is called when a
//! rollout starts or the cache is stale, not per event.

use std::collections::BTreeMap;

use async_trait::async_trait;
use aws_sdk_ecs::Client;
use aws_sdk_ecs::primitives::DateTime;
use aws_sdk_ecs::types::{CreatedAt, DesiredStatus, Service, ServiceField, Task};

use crate::model::{
    BriefView, DeploymentId, ServiceArn, ServiceDeploymentView, TaskObservation, TaskStatus,
    Timestamp, task_id,
};
use crate::ports::{
    DESCRIBE_DEPLOYMENTS_BATCH, DeploymentView, InspectError, LIST_DEPLOYMENTS_PAGE,
    ServiceInspector, ServiceView,
};

use super::ecs_deployments::{brief, service_deployment};
use super::ecs_described::described;
use super::sdk_ext::to_timestamp;

/// Running tasks read at most when seeding (10 ListTasks pages).
const MAX_SEED_TASKS: usize = 1000;
/// Services per DescribeServices call (the API limit).
pub const DESCRIBE_BATCH: usize = 10;
/// Services listed at most per watched cluster and tick.
const MAX_LISTED_SERVICES: usize = 1000;

/// ECS through aws-sdk-ecs.
#[derive(Clone, Debug)]
pub struct EcsInspector {
    client: Client,
}

impl EcsInspector {
    /// An inspector on a configured client.
    pub fn new(client: Client) -> Self {
        Self { client }
    }
}

fn err(
    operation: &'static str,
    service: &ServiceArn,
) -> impl FnOnce(Box<dyn std::error::Error + Send + Sync>) -> InspectError {
    let service = service.to_string();
    move |source| InspectError {
        operation,
        service,
        source,
    }
}

#[async_trait]
impl ServiceInspector for EcsInspector {
    async fn describe(&self, service: &ServiceArn) -> Result<Option<ServiceView>, InspectError> {
        let out = self
            .client
            .describe_services()
            .cluster(service.cluster_arn())
            // By name in its cluster: a service created before 2021 may keep its
            // short ARN, which the long form this watcher keys on is not.
            .services(service.name())
            .include(ServiceField::Tags)
            .send()
            .await
            .map_err(|e| err("DescribeServices", service)(Box::new(e)))?;
        Ok(out
            .services()
            .iter()
            .find(|s| s.status() != Some("INACTIVE"))
            .map(view))
    }

    async fn running_tasks(
        &self,
        service: &ServiceArn,
    ) -> Result<Vec<TaskObservation>, InspectError> {
        let mut arns = Vec::new();
        let mut token: Option<String> = None;
        loop {
            let page = self
                .client
                .list_tasks()
                .cluster(service.cluster_arn())
                .service_name(service.name())
                .desired_status(DesiredStatus::Running)
                .set_next_token(token.take())
                .send()
                .await
                .map_err(|e| err("ListTasks", service)(Box::new(e)))?;
            arns.extend(page.task_arns().iter().cloned());
            token = page.next_token().map(str::to_owned);
            if token.is_none() || arns.len() >= MAX_SEED_TASKS {
                break;
            }
        }
        let mut tasks = Vec::with_capacity(arns.len());
        for chunk in arns.chunks(100) {
            let out = self
                .client
                .describe_tasks()
                .cluster(service.cluster_arn())
                .set_tasks(Some(chunk.to_vec()))
                .send()
                .await
                .map_err(|e| err("DescribeTasks", service)(Box::new(e)))?;
            tasks.extend(out.tasks().iter().filter_map(observation));
        }
        Ok(tasks)
    }

    async fn describe_many(
        &self,
        services: &[ServiceArn],
    ) -> Result<Vec<Option<ServiceView>>, InspectError> {
        let mut out = vec![None; services.len()];
        let mut by_cluster: BTreeMap<String, Vec<usize>> = BTreeMap::new();
        for (i, s) in services.iter().enumerate() {
            by_cluster.entry(s.cluster_arn()).or_default().push(i);
        }
        for (cluster, indexes) in by_cluster {
            for chunk in indexes.chunks(DESCRIBE_BATCH) {
                let first = &services[chunk[0]];
                let resp = self
                    .client
                    .describe_services()
                    .cluster(&cluster)
                    .set_services(Some(
                        chunk
                            .iter()
                            .map(|i| services[*i].name().to_owned())
                            .collect(),
                    ))
                    .include(ServiceField::Tags)
                    .send()
                    .await
                    .map_err(|e| err("DescribeServices", first)(Box::new(e)))?;
                // A service being deleted (DRAINING) or deleted (INACTIVE) is left
                // out, as ECS leaves out one it does not know (MISSING).
                for svc in resp
                    .services()
                    .iter()
                    .filter(|s| !matches!(s.status(), Some("INACTIVE" | "DRAINING")))
                {
                    let name = svc.service_name().unwrap_or_default();
                    let arn = svc.service_arn().unwrap_or_default();
                    if let Some(i) = chunk
                        .iter()
                        .find(|i| services[**i].as_str() == arn || services[**i].name() == name)
                    {
                        out[*i] = Some(view(svc));
                    }
                }
            }
        }
        Ok(out)
    }

    async fn list_services(&self, cluster_arn: &str) -> Result<Vec<ServiceArn>, InspectError> {
        let mut out = Vec::new();
        let mut token: Option<String> = None;
        loop {
            let page = self
                .client
                .list_services()
                .cluster(cluster_arn)
                .set_next_token(token.take())
                .send()
                .await
                .map_err(|e| InspectError {
                    operation: "ListServices",
                    service: cluster_arn.to_owned(),
                    source: Box::new(e),
                })?;
            out.extend(
                page.service_arns()
                    .iter()
                    .filter_map(|a| ServiceArn::parse_in_cluster(a, Some(cluster_arn))),
            );
            token = page.next_token().map(str::to_owned);
            if token.is_none() || out.len() >= MAX_LISTED_SERVICES {
                return Ok(out);
            }
        }
    }

    async fn list_service_deployments(
        &self,
        service: &ServiceArn,
        since: Option<Timestamp>,
    ) -> Result<Vec<BriefView>, InspectError> {
        let created = since.map(|t| {
            CreatedAt::builder()
                .after(DateTime::from_millis(t.as_millis()))
                .build()
        });
        let out = self
            .client
            .list_service_deployments()
            .cluster(service.cluster_arn())
            .service(service.name())
            .set_created_at(created)
            .max_results(i32::try_from(LIST_DEPLOYMENTS_PAGE).unwrap_or(20))
            .send()
            .await
            .map_err(|e| err("ListServiceDeployments", service)(Box::new(e)))?;
        Ok(out.service_deployments().iter().filter_map(brief).collect())
    }

    async fn describe_service_deployments(
        &self,
        service: &ServiceArn,
        arns: &[String],
    ) -> Result<Vec<ServiceDeploymentView>, InspectError> {
        if arns.is_empty() {
            return Ok(Vec::new());
        }
        let asked = arns[..arns.len().min(DESCRIBE_DEPLOYMENTS_BATCH)].to_vec();
        let out = self
            .client
            .describe_service_deployments()
            .set_service_deployment_arns(Some(asked))
            .send()
            .await
            .map_err(|e| err("DescribeServiceDeployments", service)(Box::new(e)))?;
        // `failures[]` names ARNs ECS does not know (MISSING): they are simply not
        // in the answer, which is what the callers expect of an unknown deployment.
        Ok(out
            .service_deployments()
            .iter()
            .map(service_deployment)
            .collect())
    }
}

/// DescribeServices' service as what the watcher needs (its configuration through
/// the one mapping, [`DescribedService::config`](crate::describe::DescribedService::config)).
pub fn view(s: &Service) -> ServiceView {
    let described = described(s);
    ServiceView {
        config: described.config(),
        desired: described.desired_count.unwrap_or(0),
        running: described.running_count.unwrap_or(0),
        deployments: s
            .deployments()
            .iter()
            .map(|d| DeploymentView {
                id: d.id().unwrap_or_default().to_owned(),
                status: d.status().map(str::to_owned),
                rollout_state: d.rollout_state().map(|r| r.as_str().to_owned()),
                reason: d.rollout_state_reason().map(str::to_owned),
                updated_at: d.updated_at().and_then(to_timestamp),
            })
            .collect(),
    }
}

/// DescribeTasks' task as a task observation (the same facts a task event carries,
/// with the same `version`, so a later event for the task is judged against it).
fn observation(t: &Task) -> Option<TaskObservation> {
    let arn = t.task_arn()?;
    let last_status = match t.last_status().unwrap_or_default() {
        "RUNNING" => TaskStatus::Running,
        "DEACTIVATING" | "STOPPING" | "DEPROVISIONING" => TaskStatus::Stopping,
        "STOPPED" | "DELETED" => TaskStatus::Stopped,
        _ => TaskStatus::Pending,
    };
    Some(TaskObservation {
        task_id: task_id(arn).to_owned(),
        task_arn: arn.to_owned(),
        deployment: t.started_by().and_then(DeploymentId::parse),
        version: u64::try_from(t.version()).unwrap_or(0),
        last_status,
        stop_requested: t.desired_status() == Some("STOPPED"),
        created_at: t.created_at().and_then(to_timestamp),
        started_at: t.started_at().and_then(to_timestamp),
        stopping_at: t.stopping_at().and_then(to_timestamp),
        stopped_at: t.stopped_at().and_then(to_timestamp),
        stop_code: t.stop_code().map(|c| c.as_str().to_owned()),
        stopped_reason: t.stopped_reason().map(str::to_owned),
        task_definition: t.task_definition_arn().map(str::to_owned),
        exits: Vec::new(),
    })
}
