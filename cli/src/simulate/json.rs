//! The EventBridge envelope and the service-level `detail` shapes, copied from the
//! samples in `shared/reference/samples/`.
//!
//! Objects are built through [`obj`], which inserts keys in sorted order. serde_json
//! prints keys sorted by default and in insertion order when some crate in the build
//! turns on its `preserve_order` feature; inserting them sorted makes the output the
//! same bytes either way, so the "same params, same bytes" promise does not depend on
//! feature unification elsewhere in the workspace.

use serde_json::{Map, Value, json};

use super::Params;
use super::clock::{envelope_time, millis};
use super::rng::event_id;

/// Builds a JSON object with its keys in sorted order (see the module docs).
pub(super) fn obj(mut fields: Vec<(&str, Value)>) -> Value {
    fields.sort_by(|a, b| a.0.cmp(b.0));
    let mut map = Map::new();
    for (key, value) in fields {
        map.insert(key.to_owned(), value);
    }
    Value::Object(map)
}

/// The names and ARNs every event of one simulated service repeats.
#[derive(Debug, Clone)]
pub(super) struct Names {
    pub(super) cluster: String,
    pub(super) cluster_arn: String,
    pub(super) service: String,
    pub(super) service_arn: String,
    pub(super) region: String,
    pub(super) account: String,
}

impl Names {
    pub(super) fn new(p: &Params) -> Self {
        let arn = |kind: &str, rest: &str| {
            format!("arn:aws:ecs:{}:{}:{kind}/{rest}", p.region, p.account)
        };
        Self {
            cluster_arn: arn("cluster", &p.cluster),
            service_arn: arn("service", &format!("{}/{}", p.cluster, p.service)),
            cluster: p.cluster.clone(),
            service: p.service.clone(),
            region: p.region.clone(),
            account: p.account.clone(),
        }
    }

    /// The task definition family is named after the service (`web:42`).
    pub(super) fn task_definition(&self, revision: u32) -> String {
        format!(
            "arn:aws:ecs:{}:{}:task-definition/{}:{revision}",
            self.region, self.account, self.service
        )
    }

    /// The ECR image each revision runs (`…/web:42`).
    pub(super) fn image(&self, revision: u32) -> String {
        format!(
            "{}.dkr.ecr.{}.amazonaws.com/{}:{revision}",
            self.account, self.region, self.service
        )
    }

    pub(super) fn task_arn(&self, task_id: &str) -> String {
        format!(
            "arn:aws:ecs:{}:{}:task/{}/{task_id}",
            self.region, self.account, self.cluster
        )
    }

    pub(super) fn target_group_arn(&self) -> String {
        format!(
            "arn:aws:elasticloadbalancing:{}:{}:targetgroup/{}/0123456789abcdef",
            self.region, self.account, self.service
        )
    }

    /// EC2's private DNS suffix: `ec2.internal` in us-east-1, `REGION.compute.internal`
    /// elsewhere.
    pub(super) fn dns_suffix(&self) -> String {
        if self.region == "us-east-1" {
            "ec2.internal".to_owned()
        } else {
            format!("{}.compute.internal", self.region)
        }
    }
}

/// The ECS deployment events the simulator emits.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum DeploymentEvent {
    InProgress,
    Completed,
    Failed,
}

/// The stream being written: wraps each `detail` in its envelope, numbering the events.
#[derive(Debug)]
pub(super) struct Stream {
    seed: u64,
    names: Names,
    pub(super) events: Vec<Value>,
}

impl Stream {
    pub(super) fn new(seed: u64, names: Names) -> Self {
        Self {
            seed,
            names,
            events: Vec::new(),
        }
    }

    pub(super) fn names(&self) -> &Names {
        &self.names
    }

    /// Appends an event that happened at `at` (epoch ms) about `resource`.
    pub(super) fn push(&mut self, detail_type: &str, at: u64, resource: String, detail: Value) {
        let counter = u64::try_from(self.events.len()).unwrap_or(u64::MAX);
        self.events.push(obj(vec![
            ("version", json!("0")),
            ("id", json!(event_id(self.seed, counter))),
            ("detail-type", json!(detail_type)),
            ("source", json!("aws.ecs")),
            ("account", json!(self.names.account)),
            ("time", json!(envelope_time(at))),
            ("region", json!(self.names.region)),
            ("resources", json!([resource])),
            ("detail", detail),
        ]));
    }

    /// An `ECS Deployment State Change` event for `deployment_id`.
    pub(super) fn deployment(
        &mut self,
        kind: DeploymentEvent,
        deployment_id: &str,
        at: u64,
        reason: &str,
    ) {
        let (name, event_type) = match kind {
            DeploymentEvent::InProgress => ("SERVICE_DEPLOYMENT_IN_PROGRESS", "INFO"),
            DeploymentEvent::Completed => ("SERVICE_DEPLOYMENT_COMPLETED", "INFO"),
            DeploymentEvent::Failed => ("SERVICE_DEPLOYMENT_FAILED", "ERROR"),
        };
        let detail = obj(vec![
            ("eventType", json!(event_type)),
            ("eventName", json!(name)),
            ("clusterArn", json!(self.names.cluster_arn)),
            ("deploymentId", json!(deployment_id)),
            ("updatedAt", json!(millis(at))),
            ("reason", json!(reason)),
        ]);
        let resource = self.names.service_arn.clone();
        self.push("ECS Deployment State Change", at, resource, detail);
    }

    /// The `SERVICE_STEADY_STATE` service action ECS reports after a rollout settles.
    pub(super) fn steady_state(&mut self, at: u64) {
        let detail = obj(vec![
            ("eventType", json!("INFO")),
            ("eventName", json!("SERVICE_STEADY_STATE")),
            ("clusterArn", json!(self.names.cluster_arn)),
            ("createdAt", json!(millis(at))),
        ]);
        let resource = self.names.service_arn.clone();
        self.push("ECS Service Action", at, resource, detail);
    }
}
