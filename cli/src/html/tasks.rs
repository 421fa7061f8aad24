//! Per-task times for the lanes, collected from the decoded task events as they
//! stream by.
//!
//! The effects say what a rollout did, not when each task was pending, serving,
//! draining and stopped: those instants are in the task events themselves, so the page
//! collects them here, keyed by service and deployment (`startedBy`). A task serves from
//! `startedAt` until ECS asks it to stop (`stoppingAt`, else the first stop request),
//! the rule the watcher's own zero-window tracking uses, so the red windows on the page
//! are the gaps the summaries' downtime measures.
//!
//! Bounded: at most [`MAX_TASKS`] tasks per deployment (a 500-task service's rollout,
//! its failures and retries fit; more are counted, not kept) and [`MAX_DEPLOYMENTS`]
//! deployments per service (the least recently seen is forgotten first), each task a
//! few timestamps and one reason clipped to [`MAX_REASON`] characters.

use std::collections::HashMap;

use rollout_watcher::core::{Effects, classify};
use rollout_watcher::model::{
    EcsEvent, Input, InputKind, Interpreted, ModelError, ServiceArn, TaskObservation, TaskStatus,
    Timestamp, task_definition_name,
};
use rollout_watcher::replay::Replay;

/// Tasks kept per deployment.
pub(super) const MAX_TASKS: usize = 2_000;
/// Deployments kept per service.
pub(super) const MAX_DEPLOYMENTS: usize = 24;
/// The longest stop reason kept, in characters.
pub(super) const MAX_REASON: usize = 300;

/// What one task's events said.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct TaskTimes {
    /// `createdAt`.
    pub created_at: Option<Timestamp>,
    /// `startedAt`.
    pub started_at: Option<Timestamp>,
    /// The end of serving: `stoppingAt`, `stoppedAt` or the stop request's event time,
    /// the earliest any event gave.
    pub serve_end: Option<Timestamp>,
    /// `stoppedAt`.
    pub stopped_at: Option<Timestamp>,
    /// `FAMILY:REVISION`.
    pub task_definition: Option<String>,
    /// `stopCode`.
    pub stop_code: Option<String>,
    /// `stoppedReason`, plus exit codes.
    pub stop_reason: Option<String>,
    /// The stop counts as a failure.
    pub failed: bool,
    /// The first event time seen for it (orders tasks without timestamps).
    pub first_seen: Timestamp,
}

/// The tasks of one deployment.
#[derive(Clone, Debug, Default)]
pub struct DeploymentTasks {
    /// By task id.
    pub tasks: HashMap<String, TaskTimes>,
    /// Tasks not kept (past [`MAX_TASKS`]).
    pub dropped: usize,
    last_seen: Timestamp,
}

/// The tasks of one service, by deployment (`None`: no `startedBy`).
#[derive(Clone, Debug, Default)]
pub struct ServiceTasks {
    /// By the deployment that started them.
    pub deployments: HashMap<Option<String>, DeploymentTasks>,
    /// The latest event time seen for the service (any event).
    pub last_event: Option<Timestamp>,
}

impl ServiceTasks {
    /// Every task kept, with the deployment that started it.
    pub fn all(&self) -> impl Iterator<Item = (Option<&str>, &str, &TaskTimes)> {
        self.deployments.iter().flat_map(|(d, ts)| {
            ts.tasks
                .iter()
                .map(move |(id, t)| (d.as_deref(), id.as_str(), t))
        })
    }

    /// Tasks seen but not kept.
    pub fn dropped(&self) -> usize {
        self.deployments.values().map(|d| d.dropped).sum()
    }
}

/// Task times for every service of a stream.
#[derive(Clone, Debug, Default)]
pub struct TaskLog {
    services: HashMap<ServiceArn, ServiceTasks>,
}

impl TaskLog {
    /// An empty log.
    pub fn new() -> Self {
        Self::default()
    }

    /// The tasks of one service.
    pub fn service(&self, arn: &ServiceArn) -> Option<&ServiceTasks> {
        self.services.get(arn)
    }

    /// Takes in one interpreted event.
    pub fn observe(&mut self, input: &Input) {
        let svc = self.services.entry(input.service.clone()).or_default();
        svc.last_event = svc.last_event.max(Some(input.time));
        if let InputKind::Task(t) = &input.kind {
            observe_task(svc, t, input.time);
        }
    }
}

fn observe_task(svc: &mut ServiceTasks, t: &TaskObservation, time: Timestamp) {
    let key = t.deployment.as_ref().map(|d| d.as_str().to_owned());
    if !svc.deployments.contains_key(&key) && svc.deployments.len() >= MAX_DEPLOYMENTS {
        let oldest = svc
            .deployments
            .iter()
            .min_by_key(|(d, ts)| (ts.last_seen, (*d).clone()))
            .map(|(d, _)| d.clone());
        if let Some(oldest) = oldest {
            svc.deployments.remove(&oldest);
        }
    }
    let dep = svc.deployments.entry(key).or_default();
    dep.last_seen = dep.last_seen.max(time);
    if !dep.tasks.contains_key(&t.task_id) && dep.tasks.len() >= MAX_TASKS {
        dep.dropped += 1;
        return;
    }
    let rec = dep
        .tasks
        .entry(t.task_id.clone())
        .or_insert_with(|| TaskTimes {
            first_seen: time,
            ..TaskTimes::default()
        });
    merge(rec, t, time);
}

/// Facts only accumulate: the first value of each instant, the earliest end of
/// serving. So duplicates and reordered events give the same lane.
fn merge(rec: &mut TaskTimes, t: &TaskObservation, time: Timestamp) {
    rec.first_seen = rec.first_seen.min(time);
    rec.created_at = rec.created_at.or(t.created_at);
    rec.started_at = rec.started_at.or(t.started_at);
    rec.stopped_at = rec.stopped_at.or(t.stopped_at);
    if rec.task_definition.is_none() {
        rec.task_definition = t
            .task_definition
            .as_deref()
            .map(|d| task_definition_name(d).to_owned());
    }
    let stopping =
        t.stop_requested || matches!(t.last_status, TaskStatus::Stopping | TaskStatus::Stopped);
    if stopping {
        let end = t.stopping_at.or(t.stopped_at).unwrap_or(time);
        rec.serve_end = Some(rec.serve_end.map_or(end, |e| e.min(end)));
    }
    if stopping && rec.stop_reason.is_none() && rec.stop_code.is_none() {
        rec.stop_code.clone_from(&t.stop_code);
        rec.stop_reason = reason_text(t);
        if t.stop_code.is_some() || t.stopped_reason.is_some() {
            rec.failed = classify(t, rec.started_at.is_some()).is_failure();
        }
    }
}

fn reason_text(t: &TaskObservation) -> Option<String> {
    let exits: Vec<String> = t
        .exits
        .iter()
        .filter_map(|e| {
            e.exit_code.map(|c| match &e.reason {
                Some(r) => format!("{} exit {c} ({r})", e.name),
                None => format!("{} exit {c}", e.name),
            })
        })
        .collect();
    let text = match (&t.stopped_reason, exits.is_empty()) {
        (None, true) => return None,
        (Some(r), true) => r.clone(),
        (None, false) => exits.join(", "),
        (Some(r), false) => format!("{r}; {}", exits.join(", ")),
    };
    Some(clip(text))
}

fn clip(text: String) -> String {
    match text.char_indices().nth(MAX_REASON) {
        Some((cut, _)) => format!("{}…", &text[..cut]),
        None => text,
    }
}

/// The replay's hook: decodes one event, notes its task times, and applies it. The
/// same effects and summaries as [`Replay::apply_json`], so `--format html` reports
/// the numbers `--format json` does.
pub fn apply_json(
    replay: &mut Replay,
    log: &mut TaskLog,
    text: &str,
) -> Result<Effects, ModelError> {
    let event = match EcsEvent::from_json(text) {
        Ok(event) => event,
        Err(e) => {
            replay.stats.rejected += 1;
            return Err(e);
        }
    };
    if let Ok(Interpreted::Use(input)) = event.interpret() {
        log.observe(&input);
    }
    replay.apply_event(&event)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;
    use rollout_watcher::core::Settings;

    fn task_event(id: &str, version: u64, status: &str, extra: &str) -> String {
        format!(
            r#"{{"version":"0","id":"e-{id}-{version}","detail-type":"ECS Task State Change","source":"aws.ecs","account":"123456789012","time":"2026-03-02T10:00:{version:02}Z","region":"eu-west-1","resources":["arn:aws:ecs:eu-west-1:123456789012:task/c/{id}"],"detail":{{"clusterArn":"arn:aws:ecs:eu-west-1:123456789012:cluster/c","taskArn":"arn:aws:ecs:eu-west-1:123456789012:task/c/{id}","group":"service:web","startedBy":"ecs-svc/1","lastStatus":"{status}","desiredStatus":"RUNNING","version":{version},"createdAt":"2026-03-02T10:00:00Z"{extra}}}}}"#
        )
    }

    /// A STOPPED event that overtakes the RUNNING one gives the same lane as the
    /// stream in order: the instants are facts, whichever event brought them.
    #[test]
    fn reordered_events_give_the_same_lane() {
        let running = task_event("t1", 2, "RUNNING", r#","startedAt":"2026-03-02T10:00:02Z""#);
        let stopped = task_event(
            "t1",
            4,
            "STOPPED",
            r#","startedAt":"2026-03-02T10:00:02Z","stoppingAt":"2026-03-02T10:00:03Z","stoppedAt":"2026-03-02T10:00:04Z","stopCode":"ServiceSchedulerInitiated","stoppedReason":"Task failed ELB health checks in (target-group x)""#,
        );
        let lanes = |order: [&str; 2]| {
            let mut replay = Replay::new(Settings::default());
            let mut log = TaskLog::new();
            for e in order {
                let _ = apply_json(&mut replay, &mut log, e).unwrap();
            }
            let arn =
                ServiceArn::parse("arn:aws:ecs:eu-west-1:123456789012:service/c/web").unwrap();
            let svc = log.service(&arn).unwrap();
            let mut t = svc.all().map(|(_, _, t)| t.clone()).collect::<Vec<_>>();
            t[0].first_seen = Timestamp::default();
            t
        };
        let in_order = lanes([&running, &stopped]);
        assert_eq!(in_order, lanes([&stopped, &running]));
        let t = &in_order[0];
        assert_eq!(t.started_at, Timestamp::parse("2026-03-02T10:00:02Z"));
        assert_eq!(t.serve_end, Timestamp::parse("2026-03-02T10:00:03Z"));
        assert!(t.failed, "an ELB health-check stop is a failure");
    }

    /// A deployment with more tasks than the cap keeps the first [`MAX_TASKS`] and
    /// counts the rest; memory stays bounded whatever the stream.
    #[test]
    fn tasks_past_the_cap_are_counted_not_kept() {
        let mut replay = Replay::new(Settings::default());
        let mut log = TaskLog::new();
        for i in 0..MAX_TASKS + 5 {
            let e = task_event(&format!("t{i}"), 1, "PENDING", "");
            let _ = apply_json(&mut replay, &mut log, &e).unwrap();
        }
        let arn = ServiceArn::parse("arn:aws:ecs:eu-west-1:123456789012:service/c/web").unwrap();
        let svc = log.service(&arn).unwrap();
        assert_eq!(svc.all().count(), MAX_TASKS);
        assert_eq!(svc.dropped(), 5);
    }
}
