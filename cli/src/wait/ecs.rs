//! The real [`EcsSource`]: aws-sdk-ecs through the default credential chain (which
//! honours `AWS_ENDPOINT_URL`, `AWS_PROFILE`, `AWS_REGION`). All mapping from SDK
//! types to the views stays here.

use aws_sdk_ecs::Client;
use aws_sdk_ecs::error::{ProvideErrorMetadata, SdkError};
use aws_sdk_ecs::primitives::DateTime;
use aws_sdk_ecs::types::{CreatedAt, Deployment, DesiredStatus, Task};
use rollout_watcher::adapters::ecs_deployments::{brief, service_deployment};
use rollout_watcher::model::{
    ContainerExit, DeploymentId, ServiceArn, TaskObservation, TaskStatus, Timestamp, task_id,
};

use super::source::{
    BriefView, DeploymentView, EcsSource, ServiceDeploymentView, ServiceEventView, ServiceView,
    SourceError,
};

/// DescribeTasks takes at most 100 tasks per call.
const DESCRIBE_TASKS_MAX: usize = 100;
/// Pages of ListServiceDeployments read at most (a service deploys a few times a day).
const MAX_PAGES: usize = 5;

/// ECS through aws-sdk-ecs.
#[derive(Clone, Debug)]
pub struct EcsReader {
    client: Client,
}

impl EcsReader {
    /// Reads through `client`.
    pub fn new(client: Client) -> Self {
        Self { client }
    }
}

fn ts(d: Option<&DateTime>) -> Option<Timestamp> {
    d.and_then(|d| d.to_millis().ok())
        .map(Timestamp::from_millis)
}

fn count(n: i32) -> u32 {
    u32::try_from(n).unwrap_or(0)
}

/// Throttling and access denial get their own variants: the loop backs off on the
/// first, and treats the second as "this optional call is not allowed".
fn classify<E>(operation: &'static str, e: SdkError<E>) -> SourceError
where
    E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
{
    match e.code() {
        Some(
            "ThrottlingException"
            | "Throttling"
            | "ThrottledException"
            | "TooManyRequestsException"
            | "RequestLimitExceeded",
        ) => SourceError::Throttled { operation },
        Some("AccessDeniedException" | "AccessDenied" | "UnauthorizedOperation") => {
            SourceError::Denied {
                operation,
                source: Box::new(e),
            }
        }
        _ => SourceError::Call {
            operation,
            source: Box::new(e),
        },
    }
}

impl EcsSource for EcsReader {
    async fn service(&self, cluster: &str, service: &str) -> Result<ServiceView, SourceError> {
        let out = self
            .client
            .describe_services()
            .cluster(cluster)
            .services(service)
            .send()
            .await
            .map_err(|e| match e.code() {
                Some("ClusterNotFoundException") => SourceError::NoCluster(cluster.to_owned()),
                _ => classify("DescribeServices", e),
            })?;
        let missing = |why: String| SourceError::NoService {
            service: service.to_owned(),
            cluster: cluster.to_owned(),
            why,
        };
        let Some(s) = out.services().first() else {
            let why = out
                .failures()
                .first()
                .and_then(|f| f.reason())
                .map(|r| format!(" (ECS: {r})"))
                .unwrap_or_default();
            return Err(missing(why));
        };
        if s.status() == Some("INACTIVE") {
            return Err(missing(" (ECS: INACTIVE)".into()));
        }
        let config = s.deployment_configuration();
        let breaker = config.and_then(|c| c.deployment_circuit_breaker());
        Ok(ServiceView {
            // A service created before 2021 may keep its short ARN (no cluster in
            // it): placed in the cluster ECS names, as the functions place it.
            arn: s
                .service_arn()
                .and_then(|arn| ServiceArn::parse_in_cluster(arn, s.cluster_arn())),
            status: s.status().unwrap_or_default().to_owned(),
            desired: count(s.desired_count()),
            running: count(s.running_count()),
            deployments: s.deployments().iter().filter_map(deployment).collect(),
            events: s
                .events()
                .iter()
                .map(|e| ServiceEventView {
                    id: e.id().unwrap_or_default().to_owned(),
                    at: ts(e.created_at()),
                    message: e.message().unwrap_or_default().to_owned(),
                })
                .collect(),
            circuit_breaker: breaker.map(|b| b.enable()),
            rollback: breaker.map(|b| b.rollback()),
            min_healthy_percent: config.and_then(|c| c.minimum_healthy_percent()).map(count),
            max_percent: config.and_then(|c| c.maximum_percent()).map(count),
        })
    }

    async fn service_deployments(
        &self,
        cluster: &str,
        service: &str,
        after: Option<Timestamp>,
    ) -> Result<Vec<BriefView>, SourceError> {
        let created = after.map(|a| {
            CreatedAt::builder()
                .after(DateTime::from_millis(a.as_millis()))
                .build()
        });
        let mut briefs = Vec::new();
        let mut token: Option<String> = None;
        for _ in 0..MAX_PAGES {
            let out = self
                .client
                .list_service_deployments()
                .cluster(cluster)
                .service(service)
                .set_created_at(created.clone())
                .set_next_token(token.take())
                .send()
                .await
                .map_err(|e| classify("ListServiceDeployments", e))?;
            briefs.extend(out.service_deployments().iter().filter_map(brief));
            token = out.next_token().map(str::to_owned);
            if token.is_none() {
                break;
            }
        }
        Ok(briefs)
    }

    async fn service_deployment(
        &self,
        arn: &str,
    ) -> Result<Option<ServiceDeploymentView>, SourceError> {
        let out = self
            .client
            .describe_service_deployments()
            .service_deployment_arns(arn)
            .send()
            .await
            .map_err(|e| classify("DescribeServiceDeployments", e))?;
        Ok(out.service_deployments().first().map(service_deployment))
    }

    async fn tasks(
        &self,
        cluster: &str,
        service: &str,
        limit: usize,
    ) -> Result<Vec<TaskObservation>, SourceError> {
        // ListTasks' `serviceName` is the service's name, where the other calls take
        // a name or an ARN: `--service` may be either.
        let name = service.rsplit('/').next().unwrap_or(service);
        let mut arns = Vec::new();
        for desired in [DesiredStatus::Running, DesiredStatus::Stopped] {
            let out = self
                .client
                .list_tasks()
                .cluster(cluster)
                .service_name(name)
                .desired_status(desired)
                .max_results(i32::try_from(limit.min(DESCRIBE_TASKS_MAX)).unwrap_or(100))
                .send()
                .await
                .map_err(|e| classify("ListTasks", e))?;
            arns.extend(out.task_arns().iter().take(limit).cloned());
        }
        let mut tasks = Vec::new();
        for batch in arns.chunks(DESCRIBE_TASKS_MAX) {
            let out = self
                .client
                .describe_tasks()
                .cluster(cluster)
                .set_tasks(Some(batch.to_vec()))
                .send()
                .await
                .map_err(|e| classify("DescribeTasks", e))?;
            tasks.extend(out.tasks().iter().filter_map(task));
        }
        Ok(tasks)
    }
}

fn deployment(d: &Deployment) -> Option<DeploymentView> {
    Some(DeploymentView {
        id: DeploymentId::parse(d.id()?)?,
        status: d.status().unwrap_or_default().to_owned(),
        rollout_state: d.rollout_state().map(|s| s.as_str().to_owned()),
        reason: d.rollout_state_reason().map(str::to_owned),
        task_definition: d.task_definition().map(str::to_owned),
        running: count(d.running_count()),
        failed_tasks: count(d.failed_tasks()),
        created_at: ts(d.created_at()),
        updated_at: ts(d.updated_at()),
    })
}

/// A task as the state machine reads a task event (the same fields, from
/// DescribeTasks instead of EventBridge; `version` orders them the same way).
fn task(t: &Task) -> Option<TaskObservation> {
    let task_arn = t.task_arn()?.to_owned();
    let last_status = match t.last_status().unwrap_or_default() {
        "RUNNING" => TaskStatus::Running,
        "DEACTIVATING" | "STOPPING" | "DEPROVISIONING" => TaskStatus::Stopping,
        "STOPPED" | "DELETED" => TaskStatus::Stopped,
        _ => TaskStatus::Pending,
    };
    Some(TaskObservation {
        task_id: task_id(&task_arn).to_owned(),
        deployment: t.started_by().and_then(DeploymentId::parse),
        version: u64::try_from(t.version()).unwrap_or(0),
        last_status,
        stop_requested: t.desired_status() == Some("STOPPED"),
        created_at: ts(t.created_at()),
        started_at: ts(t.started_at()),
        stopping_at: ts(t.stopping_at()),
        stopped_at: ts(t.stopped_at()).or_else(|| ts(t.execution_stopped_at())),
        stop_code: t.stop_code().map(|c| c.as_str().to_owned()),
        stopped_reason: t.stopped_reason().map(str::to_owned),
        task_definition: t.task_definition_arn().map(str::to_owned),
        exits: t
            .containers()
            .iter()
            .filter(|c| c.exit_code().is_some() || c.reason().is_some())
            .map(|c| ContainerExit {
                name: c.name().unwrap_or_default().to_owned(),
                exit_code: c.exit_code().map(i64::from),
                reason: c.reason().map(str::to_owned),
            })
            .collect(),
        task_arn,
    })
}
