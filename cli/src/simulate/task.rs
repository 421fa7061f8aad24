//! One simulated ECS task: its lifecycle data and its `ECS Task State Change` detail.
//!
//! A task records every timestamp ECS reports (createdAt, pullStartedAt, startedAt,
//! stoppingAt, …) as it happens; [`Task::detail`] then prints only the fields that exist
//! at the event's instant, in the shape of the Fargate samples (`task-state-change-*`).
//! The event loop decides *when* things happen; this file only knows how they look.

use serde_json::{Value, json};

use super::json::{Names, obj};
use super::rng::Rng;

/// Where a task is in the Fargate lifecycle (`lastStatus`, plus `Requested`: decided by
/// the scheduler, not yet announced).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Phase {
    Requested,
    Provisioning,
    Pending,
    Running,
    Deprovisioning,
    Stopped,
}

/// How a task of a deployment behaves once started (the scenario decides).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Fate {
    /// Starts, passes ALB health checks.
    Healthy,
    /// Starts, then fails ELB health checks and is replaced.
    FailsHealthChecks,
    /// Never starts: the image tag does not exist.
    FailsToPull,
}

/// Why a task stopped; it sets `stoppedReason`, `stopCode` and the exit code.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum StopCause {
    /// Normal replacement or scale-in by the deployment with this id.
    Scaling(String),
    /// The ALB target group reported the task unhealthy.
    HealthCheck,
    /// The image could not be pulled.
    PullFailed,
}

/// A subnet (and its availability zone) tasks are placed in.
#[derive(Debug, Clone)]
pub(super) struct Subnet {
    pub(super) id: String,
    pub(super) az: String,
    pub(super) octet: u64,
}

/// One task and everything ECS reports about it.
#[derive(Debug, Clone)]
pub(super) struct Task {
    pub(super) id: String,
    pub(super) deployment: usize,
    pub(super) started_by: String,
    pub(super) revision: u32,
    pub(super) digest: String,
    pub(super) fate: Fate,
    pub(super) phase: Phase,
    /// The scheduler (or a failure) decided to stop it; it no longer counts as live.
    pub(super) stop_decided: bool,
    /// Counted toward the healthy floor (ALB reports it healthy).
    pub(super) healthy: bool,
    /// The `detail.version` of the last event emitted for it.
    pub(super) version: u32,
    /// Its last emitted event showed it serving (RUNNING, no stop requested).
    pub(super) announced_serving: bool,
    pub(super) created_at: u64,
    pub(super) connectivity_at: Option<u64>,
    pub(super) pull_started_at: Option<u64>,
    pub(super) pull_stopped_at: Option<u64>,
    pub(super) started_at: Option<u64>,
    pub(super) stopping_at: Option<u64>,
    pub(super) execution_stopped_at: Option<u64>,
    pub(super) stopped_at: Option<u64>,
    pub(super) stop: Option<StopCause>,
    pub(super) exit_code: Option<u32>,
    eni: Eni,
}

#[derive(Debug, Clone)]
struct Eni {
    attachment: String,
    id: String,
    mac: String,
    ip: String,
    subnet: Subnet,
    container: String,
    runtime: u64,
}

impl Task {
    /// A task the scheduler just decided to start (nothing emitted yet), placed in
    /// `subnet`, of the deployment at index `deployment` whose id is `started_by`.
    pub(super) fn new(
        ids: &mut Rng,
        subnet: &Subnet,
        deployment: usize,
        started_by: &str,
        revision: u32,
        digest: &str,
        fate: Fate,
    ) -> Self {
        Self {
            id: ids.hex(32),
            deployment,
            started_by: started_by.to_owned(),
            revision,
            digest: digest.to_owned(),
            fate,
            phase: Phase::Requested,
            stop_decided: false,
            healthy: false,
            version: 0,
            announced_serving: false,
            created_at: 0,
            connectivity_at: None,
            pull_started_at: None,
            pull_stopped_at: None,
            started_at: None,
            stopping_at: None,
            execution_stopped_at: None,
            stopped_at: None,
            stop: None,
            exit_code: None,
            eni: Eni {
                attachment: ids.uuid(),
                id: format!("eni-{}", ids.hex(17)),
                mac: format!("0a:{}", pairs(&ids.hex(10))),
                ip: format!("10.0.{}.{}", subnet.octet, ids.between(4, 250)),
                subnet: subnet.clone(),
                container: ids.uuid(),
                runtime: ids.between(1_000_000_000, 4_294_967_295),
            },
        }
    }

    /// The `detail` of the task event emitted at `at`, with the next version number.
    pub(super) fn detail(&self, names: &Names, at: u64) -> Value {
        let stamp = |t: Option<u64>| t.filter(|t| *t <= at).map(super::clock::millis);
        let arn = names.task_arn(&self.id);
        let last_status = match self.phase {
            Phase::Requested | Phase::Provisioning => "PROVISIONING",
            Phase::Pending => "PENDING",
            Phase::Running => "RUNNING",
            Phase::Deprovisioning => "DEPROVISIONING",
            Phase::Stopped => "STOPPED",
        };
        let desired = if self.stopping_at.is_some() || self.phase == Phase::Stopped {
            "STOPPED"
        } else {
            "RUNNING"
        };
        let mut fields = vec![
            ("attachments", json!([self.eni_attachment(names)])),
            (
                "attributes",
                json!([{"name": "ecs.cpu-architecture", "value": "x86_64"}]),
            ),
            ("availabilityZone", json!(self.eni.subnet.az)),
            ("capacityProviderName", json!("FARGATE")),
            ("clusterArn", json!(names.cluster_arn)),
            ("containers", json!([self.container(names, &arn)])),
            ("cpu", json!("256")),
            ("createdAt", json!(super::clock::millis(self.created_at))),
            ("desiredStatus", json!(desired)),
            ("enableExecuteCommand", json!(false)),
            ("ephemeralStorage", json!({"sizeInGiB": 20})),
            ("group", json!(format!("service:{}", names.service))),
            ("launchType", json!("FARGATE")),
            ("lastStatus", json!(last_status)),
            ("memory", json!("512")),
            (
                "overrides",
                json!({"containerOverrides": [{"name": names.service}]}),
            ),
            ("platformVersion", json!("1.4.0")),
            ("startedBy", json!(self.started_by)),
            ("taskArn", json!(arn)),
            (
                "taskDefinitionArn",
                json!(names.task_definition(self.revision)),
            ),
            ("updatedAt", json!(super::clock::millis(at))),
            ("version", json!(self.version + 1)),
        ];
        if let Some(t) = stamp(self.connectivity_at) {
            fields.push(("connectivity", json!("CONNECTED")));
            fields.push(("connectivityAt", json!(t)));
        }
        let optional = [
            ("pullStartedAt", self.pull_started_at),
            ("pullStoppedAt", self.pull_stopped_at),
            ("startedAt", self.started_at),
            ("stoppingAt", self.stopping_at),
            ("executionStoppedAt", self.execution_stopped_at),
            ("stoppedAt", self.stopped_at),
        ];
        for (key, t) in optional {
            if let Some(t) = stamp(t) {
                fields.push((key, json!(t)));
            }
        }
        if let (Some(cause), Some(_)) = (&self.stop, stamp(self.stopping_at)) {
            let (code, reason) = self.stop_text(names, cause);
            fields.push(("stopCode", json!(code)));
            fields.push(("stoppedReason", json!(reason)));
        }
        obj(fields)
    }

    fn stop_text(&self, names: &Names, cause: &StopCause) -> (&'static str, String) {
        match cause {
            StopCause::Scaling(by) => (
                "ServiceSchedulerInitiated",
                format!("Scaling activity initiated by (deployment {by})"),
            ),
            StopCause::HealthCheck => (
                "ServiceSchedulerInitiated",
                format!(
                    "Task failed ELB health checks in (target-group {})",
                    names.target_group_arn()
                ),
            ),
            StopCause::PullFailed => ("TaskFailedToStart", self.pull_error(names)),
        }
    }

    fn pull_error(&self, names: &Names) -> String {
        format!(
            "CannotPullContainerError: pull image manifest has been retried 7 time(s): \
             failed to resolve ref {}: not found",
            names.image(self.revision)
        )
    }

    fn eni_attachment(&self, names: &Names) -> Value {
        let status = match self.phase {
            Phase::Requested | Phase::Provisioning => "PRECREATED",
            Phase::Pending | Phase::Running | Phase::Deprovisioning => "ATTACHED",
            Phase::Stopped => "DELETED",
        };
        let dns = format!(
            "ip-{}.{}",
            self.eni.ip.replace('.', "-"),
            names.dns_suffix()
        );
        let detail = |name: &str, value: &str| json!({"name": name, "value": value});
        json!({
            "details": [
                detail("subnetId", &self.eni.subnet.id),
                detail("networkInterfaceId", &self.eni.id),
                detail("macAddress", &self.eni.mac),
                detail("privateDnsName", &dns),
                detail("privateIPv4Address", &self.eni.ip),
            ],
            "id": self.eni.attachment,
            "status": status,
            "type": "eni",
        })
    }

    fn container(&self, names: &Names, task_arn: &str) -> Value {
        let last_status = match self.phase {
            Phase::Requested | Phase::Provisioning | Phase::Pending => "PENDING",
            Phase::Running => "RUNNING",
            Phase::Deprovisioning | Phase::Stopped => "STOPPED",
        };
        let mut fields = vec![
            (
                "containerArn",
                json!(format!(
                    "arn:aws:ecs:{}:{}:container/{}/{}/{}",
                    names.region, names.account, names.cluster, self.id, self.eni.container
                )),
            ),
            ("cpu", json!("0")),
            ("image", json!(names.image(self.revision))),
            ("lastStatus", json!(last_status)),
            ("name", json!(names.service)),
            (
                "networkInterfaces",
                json!([{"attachmentId": self.eni.attachment, "privateIpv4Address": self.eni.ip}]),
            ),
            ("taskArn", json!(task_arn)),
        ];
        if self.pull_stopped_at.is_some() && self.phase != Phase::Pending {
            fields.push(("imageDigest", json!(self.digest)));
        }
        if self.started_at.is_some() {
            fields.push((
                "runtimeId",
                json!(format!("{}-{}", self.id, self.eni.runtime)),
            ));
        }
        if matches!(self.phase, Phase::Deprovisioning | Phase::Stopped) {
            if let Some(code) = self.exit_code {
                fields.push(("exitCode", json!(code)));
            }
            if self.stop == Some(StopCause::PullFailed) {
                fields.push(("reason", json!(self.pull_error(names))));
            }
        }
        obj(fields)
    }
}

/// `a1b2c3` → `a1:b2:c3` (MAC address notation).
fn pairs(hex: &str) -> String {
    let bytes: Vec<&str> = (0..hex.len() / 2)
        .filter_map(|i| hex.get(2 * i..2 * i + 2))
        .collect();
    bytes.join(":")
}
