//! The poll loop on a scripted ECS and a fake clock: a thirty-minute wait runs in
//! no time, and every pause the loop takes is recorded.

#![allow(clippy::unwrap_used)]

use std::cell::{Cell, RefCell};
use std::sync::Mutex;

use rollout_watcher::core::Settings;
use rollout_watcher::model::{
    DeploymentId, Millis, ServiceArn, TaskObservation, TaskStatus, Timestamp,
};

use super::*;

const T0: i64 = 1_800_000_000_000;

fn at(s: i64) -> Timestamp {
    Timestamp::from_millis(T0 + s * 1000)
}

/// A clock that moves only when the loop sleeps.
struct FakeClock {
    now: Cell<i64>,
    slept: RefCell<Vec<Millis>>,
}

impl Pacer for FakeClock {
    fn now(&self) -> Timestamp {
        Timestamp::from_millis(self.now.get())
    }
    async fn sleep(&self, span: Millis) {
        self.slept.borrow_mut().push(span);
        self.now.set(self.now.get() + span.0);
    }
}

/// ECS as a list of readings, one per DescribeServices call (the last repeats);
/// `None` is a throttled call.
struct Script {
    rounds: Vec<Option<(ServiceView, Vec<TaskObservation>)>>,
    calls: Mutex<usize>,
}

impl EcsSource for Script {
    async fn service(&self, _: &str, _: &str) -> Result<ServiceView, SourceError> {
        let mut calls = self.calls.lock().unwrap();
        let i = (*calls).min(self.rounds.len() - 1);
        *calls += 1;
        match &self.rounds[i] {
            Some((v, _)) => Ok(v.clone()),
            None => Err(SourceError::Throttled {
                operation: "DescribeServices",
            }),
        }
    }
    async fn service_deployments(
        &self,
        _: &str,
        _: &str,
        _: Option<Timestamp>,
    ) -> Result<Vec<BriefView>, SourceError> {
        Ok(Vec::new())
    }
    async fn service_deployment(
        &self,
        _: &str,
    ) -> Result<Option<ServiceDeploymentView>, SourceError> {
        Ok(None)
    }
    async fn tasks(&self, _: &str, _: &str, _: usize) -> Result<Vec<TaskObservation>, SourceError> {
        let calls = *self.calls.lock().unwrap();
        let i = calls.saturating_sub(1).min(self.rounds.len() - 1);
        Ok(self.rounds[i]
            .as_ref()
            .map(|r| r.1.clone())
            .unwrap_or_default())
    }
}

fn service(state: &str, running: u32) -> ServiceView {
    ServiceView {
        arn: ServiceArn::parse("arn:aws:ecs:eu-west-1:123456789012:service/demo/web"),
        status: "ACTIVE".into(),
        desired: 1,
        running,
        deployments: vec![DeploymentView {
            id: DeploymentId::parse("ecs-svc/2").unwrap(),
            status: "PRIMARY".into(),
            rollout_state: Some(state.into()),
            reason: None,
            task_definition: Some(
                "arn:aws:ecs:eu-west-1:123456789012:task-definition/web:7".into(),
            ),
            running,
            failed_tasks: 0,
            created_at: Some(at(-10)),
            updated_at: Some(at(if state == "COMPLETED" { 40 } else { -10 })),
        }],
        ..ServiceView::default()
    }
}

fn task(status: TaskStatus, version: u64) -> TaskObservation {
    TaskObservation {
        task_id: "t2".into(),
        task_arn: "arn:aws:ecs:eu-west-1:123456789012:task/demo/t2".into(),
        deployment: DeploymentId::parse("ecs-svc/2"),
        version,
        last_status: status,
        created_at: Some(at(-8)),
        started_at: (status == TaskStatus::Running).then(|| at(12)),
        task_definition: Some("arn:aws:ecs:eu-west-1:123456789012:task-definition/web:7".into()),
        ..TaskObservation::default()
    }
}

fn plan(timeout: i64) -> Plan {
    Plan {
        cluster: "demo".into(),
        service: "web".into(),
        deployment: None,
        until: Until::Completed,
        timeout: Millis::from_secs(timeout),
        interval: Millis::from_secs(5),
        on_pause: OnPause::Wait,
        settings: Settings::default(),
    }
}

fn clock() -> FakeClock {
    FakeClock {
        now: Cell::new(T0),
        slept: RefCell::new(Vec::new()),
    }
}

fn run(script: &Script, clock: &FakeClock, plan: &Plan) -> (Ending, String) {
    let mut text = Vec::new();
    let rt = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap();
    let ending = rt
        .block_on(follow(
            script,
            clock,
            plan,
            &mut TextReport::new(&mut text, false),
        ))
        .unwrap();
    (ending, String::from_utf8(text).unwrap())
}

/// A rolling deployment seen over four polls: the same transitions as replay
/// prints, and the verdict "completed" once ECS says COMPLETED.
#[test]
fn a_deployment_seen_poll_by_poll_completes() {
    let script = Script {
        rounds: vec![
            Some((
                service("IN_PROGRESS", 0),
                vec![task(TaskStatus::Pending, 1)],
            )),
            Some((
                service("IN_PROGRESS", 1),
                vec![task(TaskStatus::Running, 2)],
            )),
            Some((
                service("IN_PROGRESS", 1),
                vec![task(TaskStatus::Running, 2)],
            )),
            Some((service("COMPLETED", 1), vec![task(TaskStatus::Running, 2)])),
        ],
        calls: Mutex::new(0),
    };
    let clock = clock();
    let (ending, text) = run(&script, &clock, &plan(1800));
    assert_eq!(ending.verdict, Verdict::Completed);
    assert_eq!(ending.verdict.exit_code(), 0);
    assert_eq!(clock.slept.borrow().len(), 3);
    assert!(
        text.contains("web (demo) · deployment ecs-svc/2 (web:7)"),
        "{text}"
    );
    assert!(text.contains("deployment started"), "{text}");
    assert!(text.contains("new task RUNNING"), "{text}");
    assert!(text.contains("verdict: completed in 50 s"), "{text}");
}

/// ECS throttles: the loop backs off (doubling), recovers, and at --timeout says
/// "still in progress" (exit 3), having waited no longer than the timeout.
#[test]
fn throttling_backs_off_and_the_timeout_ends_the_wait() {
    let script = Script {
        rounds: vec![
            Some((
                service("IN_PROGRESS", 0),
                vec![task(TaskStatus::Pending, 1)],
            )),
            None,
            None,
            Some((
                service("IN_PROGRESS", 0),
                vec![task(TaskStatus::Pending, 1)],
            )),
        ],
        calls: Mutex::new(0),
    };
    let clock = clock();
    let (ending, text) = run(&script, &clock, &plan(120));
    assert_eq!(ending.verdict, Verdict::InProgress { stalled: false });
    assert_eq!(ending.verdict.exit_code(), 3);
    let slept = clock.slept.borrow();
    let secs: Vec<i64> = slept.iter().map(|m| (m.0 + 500) / 1000).collect();
    assert!(
        (4..=6).contains(&secs[0]) && (9..=11).contains(&secs[1]) && (18..=22).contains(&secs[2]),
        "{secs:?}"
    );
    assert!(
        (4..=6).contains(&secs[3]),
        "back to the interval after a good round: {secs:?}"
    );
    assert_eq!(
        clock.now.get() - T0,
        120_000,
        "stops at the timeout exactly"
    );
    assert!(
        text.contains("DescribeServices throttled by ECS: backing off"),
        "{text}"
    );
    assert!(
        text.contains("verdict: --timeout passed: in progress"),
        "{text}"
    );
}

/// A service ARN names its cluster: `--cluster` may give it by name or ARN, and a
/// service by name takes any cluster; another cluster than the ARN's is refused.
#[test]
fn a_service_arn_must_agree_with_the_cluster() {
    let args = |cluster: &str, service: &str| Args {
        cluster: cluster.to_owned(),
        service: service.to_owned(),
        deployment: None,
        until: "completed".to_owned(),
        timeout: "30m".to_owned(),
        interval: "5s".to_owned(),
        on_pause: OnPause::Wait,
        format: Format::Text,
    };
    let web = "arn:aws:ecs:eu-west-1:123456789012:service/prod/web";
    let prod = "arn:aws:ecs:eu-west-1:123456789012:cluster/prod";
    for (cluster, service) in [("prod", web), (prod, web), ("demo", "web")] {
        let planned = super::plan(&args(cluster, service)).map(|p| (p.cluster, p.service));
        assert_eq!(planned, Ok((cluster.to_owned(), service.to_owned())));
    }
    let refused = super::plan(&args("demo", web))
        .map(|p| p.cluster)
        .unwrap_err();
    assert!(refused.starts_with("--service names cluster \"prod\", --cluster names \"demo\""));
}
