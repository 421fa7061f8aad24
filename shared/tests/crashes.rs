//! Crashes told as stories, with events shaped as AWS sends them: a serving task that
//! dies on its own, during a rollout and outside one, alone and in a loop; and the
//! stops that are not crashes (Spot, maintenance, a deliberate scale-in).
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

use rollout_watcher::core::{
    Alert, AlertName, AlertStatus, Effects, MetricName, Observation, ServiceConfig, ServiceState,
    Settings,
};
use rollout_watcher::model::{CrashLoopRule, EcsEvent, Interpreted, Millis, ServiceArn, Timestamp};
use serde_json::{Value, json};

const SVC: &str = "arn:aws:ecs:eu-west-1:111122223333:service/prod/api";
const CLUSTER: &str = "arn:aws:ecs:eu-west-1:111122223333:cluster/prod";
const DEP: &str = "ecs-svc/1000";
const NEW: &str = "ecs-svc/2000";
const OOM: &str = "OutOfMemoryError: Container killed due to memory usage";

/// Seconds after 12:00:00 as an RFC 3339 time, with milliseconds like ECS's own.
fn t(s: u32) -> String {
    format!(
        "2026-05-01T{:02}:{:02}:{:02}.250Z",
        12 + s / 3600,
        s / 60 % 60,
        s % 60
    )
}

/// The envelope's time: truncated to the second, as EventBridge writes it.
fn envelope(s: u32) -> String {
    format!(
        "2026-05-01T{:02}:{:02}:{:02}Z",
        12 + s / 3600,
        s / 60 % 60,
        s % 60
    )
}

fn deployment(name: &str, id: &str, at: u32) -> String {
    json!({"version":"0","id":format!("d-{name}-{id}-{at}"),"detail-type":"ECS Deployment State Change",
        "source":"aws.ecs","account":"111122223333","time":envelope(at),"region":"eu-west-1","resources":[SVC],
        "detail":{"eventType":"INFO","eventName":name,"deploymentId":id,"updatedAt":t(at),
            "reason":format!("ECS deployment {id} in progress.")}})
    .to_string()
}

/// A task of `dep` that reached RUNNING at `started`.
fn running(id: &str, dep: &str, started: u32) -> String {
    task(id, dep, 2, "RUNNING", started, json!({}), started)
}

/// The STOPPED event of that task, `extra` merged into its detail (stop code, reason,
/// containers).
fn stopped(id: &str, dep: &str, started: u32, at: u32, extra: Value) -> String {
    task(id, dep, 5, "STOPPED", started, extra, at)
}

fn task(id: &str, dep: &str, v: u64, status: &str, started: u32, extra: Value, at: u32) -> String {
    let arn = format!("arn:aws:ecs:eu-west-1:111122223333:task/prod/{id}");
    let mut d = json!({"clusterArn":CLUSTER,"group":"service:api","startedBy":dep,"lastStatus":status,
        "desiredStatus": if status == "RUNNING" { "RUNNING" } else { "STOPPED" },
        "taskArn":arn,"taskDefinitionArn":"arn:aws:ecs:eu-west-1:111122223333:task-definition/api:7",
        "version":v,"createdAt":t(started.saturating_sub(40)),"startedAt":t(started),"updatedAt":t(at)});
    if status == "STOPPED" {
        d["stoppingAt"] = json!(t(at.saturating_sub(2)));
        d["stoppedAt"] = json!(t(at));
    }
    if let (Some(d), Some(x)) = (d.as_object_mut(), extra.as_object()) {
        d.extend(x.clone());
    }
    json!({"version":"0","id":format!("t-{id}-{v}"),"detail-type":"ECS Task State Change","source":"aws.ecs",
        "account":"111122223333","time":envelope(at),"region":"eu-west-1","resources":[arn],"detail":d})
    .to_string()
}

/// An essential container that exited with `code` (and ECS's container `reason`),
/// beside an envoy sidecar that exited 0 because the task went down.
fn exited(code: i64, reason: Option<&str>) -> Value {
    let mut app = json!({"name":"app","lastStatus":"STOPPED","exitCode":code});
    if let Some(r) = reason {
        app["reason"] = json!(r);
    }
    json!({"stopCode":"EssentialContainerExited","stoppedReason":"Essential container in task exited",
        "containers":[{"name":"envoy","lastStatus":"STOPPED","exitCode":0}, app]})
}

/// What one step of a story produced (the world keeps every effect too, so a step's
/// own effects may go unread).
struct Step(Effects);

impl std::ops::Deref for Step {
    type Target = Effects;
    fn deref(&self) -> &Effects {
        &self.0
    }
}

struct World {
    state: ServiceState,
    settings: Settings,
    effects: Effects,
}

impl World {
    fn new() -> Self {
        Self {
            state: ServiceState::new(ServiceArn::parse(SVC).unwrap()),
            settings: Settings::default(),
            effects: Effects::default(),
        }
    }

    fn drive(&mut self, events: &[String]) -> Step {
        let mut batch = Effects::default();
        for e in events {
            let input = match EcsEvent::from_json(e).unwrap().interpret().unwrap() {
                Interpreted::Use(i) => i,
                Interpreted::Ignore(r) => panic!("ignored: {r:?}"),
            };
            batch.extend(self.state.apply(&input, &self.settings));
        }
        self.effects.extend(batch.clone());
        Step(batch)
    }

    fn tick(&mut self, s: u32) -> Step {
        let fx = self
            .state
            .tick(Timestamp::parse(&t(s)).unwrap(), &self.settings);
        self.effects.extend(fx.clone());
        Step(fx)
    }

    fn alerts(&self, name: AlertName) -> Vec<&Alert> {
        self.effects.alerts().filter(|a| a.alert == name).collect()
    }

    fn count(&self, name: MetricName) -> usize {
        self.effects.metrics().filter(|m| m.name == name).count()
    }
}

/// A quiet rollout of `DEP` that ran task `a` from 12:00 and completed at 12:02.
fn quiet_rollout(w: &mut World) {
    w.drive(&[
        deployment("SERVICE_DEPLOYMENT_IN_PROGRESS", DEP, 0),
        running("a", DEP, 30),
        deployment("SERVICE_DEPLOYMENT_COMPLETED", DEP, 120),
    ]);
}

#[test]
fn the_only_task_killed_for_memory_an_hour_after_a_quiet_rollout_crashes_and_the_service_is_down() {
    // given: a quiet rollout, an hour ago
    let mut w = World::new();
    quiet_rollout(&mut w);
    // when: its only task is killed for memory
    w.drive(&[stopped("a", DEP, 30, 3630, exited(137, Some(OOM)))]);
    // then: one task_crashed that says so in words, names the container, and claims
    // no circuit breaker; TaskCrashes counts it
    let crash = w.alerts(AlertName::TaskCrashed);
    assert_eq!(crash.len(), 1);
    let text = &crash[0].summary;
    assert!(
        text.contains("container app was killed for running out of memory (OutOfMemoryError"),
        "{text}"
    );
    assert!(
        text.contains("exit code 137") && text.contains("after serving 59 min 58 s"),
        "{text}"
    );
    assert!(
        !text.contains("envoy") && !text.contains("circuit breaker"),
        "{text}"
    );
    assert_eq!(w.count(MetricName::TaskCrashes), 1);
    // and: once the grace passes with nothing serving, the service is down
    w.tick(3700);
    let zero = w.alerts(AlertName::ZeroRunningTasks);
    assert_eq!(zero.len(), 1);
    assert!(
        !zero[0].summary.contains("should run"),
        "{}",
        zero[0].summary
    );
}

#[test]
fn a_new_task_that_crashes_during_its_rollout_counts_toward_the_breaker() {
    // given: old task a serves; deployment NEW rolls out
    let mut w = World::new();
    quiet_rollout(&mut w);
    w.drive(&[
        deployment("SERVICE_DEPLOYMENT_IN_PROGRESS", NEW, 600),
        running("n1", NEW, 640),
    ]);
    // when: the new task exits 1 a minute after reaching RUNNING, and ECS fails the rollout
    w.drive(&[stopped("n1", NEW, 640, 700, exited(1, None))]);
    let fx = w.drive(&[deployment("SERVICE_DEPLOYMENT_FAILED", NEW, 900)]);
    // then: task_crashed "1 of 3 toward the circuit breaker", naming app and exit 1
    let crash = w.alerts(AlertName::TaskCrashed);
    assert_eq!(crash.len(), 1);
    let text = &crash[0].summary;
    assert!(
        text.contains("(1 of 3 toward the circuit breaker)"),
        "{text}"
    );
    assert!(text.contains("essential container app exited 1"), "{text}");
    assert_eq!(crash[0].details.failures, Some(1));
    // and: the failure's words count the crash
    let failed: Vec<_> = fx
        .alerts()
        .filter(|a| a.alert == AlertName::DeploymentFailed)
        .collect();
    assert!(
        failed[0].summary.contains("1 new task(s) crashed"),
        "{}",
        failed[0].summary
    );
}

#[test]
fn a_health_check_stop_during_a_rollout_is_health_check_failed_only() {
    let mut w = World::new();
    quiet_rollout(&mut w);
    w.drive(&[
        deployment("SERVICE_DEPLOYMENT_IN_PROGRESS", NEW, 600),
        running("n1", NEW, 640),
    ]);
    let elb = json!({"stopCode":"ServiceSchedulerInitiated",
        "stoppedReason":"Task failed ELB health checks in (target-group arn:aws:elasticloadbalancing:eu-west-1:111122223333:targetgroup/api/1)",
        "containers":[{"name":"app","lastStatus":"STOPPED","exitCode":143}]});
    w.drive(&[stopped("n1", NEW, 640, 760, elb)]);
    assert_eq!(w.alerts(AlertName::HealthCheckFailed).len(), 1);
    assert!(w.alerts(AlertName::TaskCrashed).is_empty());
    assert_eq!(w.count(MetricName::TaskCrashes), 0);
}

#[test]
fn a_health_check_stop_between_a_failure_and_its_rollback_is_no_crash() {
    // given: NEW's tasks serve and fail health checks; ECS fails the rollout at 12:15
    let mut w = World::new();
    quiet_rollout(&mut w);
    w.drive(&[
        deployment("SERVICE_DEPLOYMENT_IN_PROGRESS", NEW, 600),
        running("n1", NEW, 640),
        deployment("SERVICE_DEPLOYMENT_FAILED", NEW, 900),
    ]);
    // when: one of its tasks is asked to stop for health checks a second later, before
    // the rollback's IN_PROGRESS event (the simulator's seed 942 told it this way)
    let elb = json!({"stopCode":"ServiceSchedulerInitiated",
        "stoppedReason":"Task failed ELB health checks in (target-group arn:aws:elasticloadbalancing:eu-west-1:111122223333:targetgroup/api/1)",
        "containers":[{"name":"app","lastStatus":"STOPPED","exitCode":143}]});
    w.drive(&[stopped("n1", NEW, 640, 903, elb)]);
    // then: a health-check failure of the failed rollout, no crash, no breaker claim
    let hc = w.alerts(AlertName::HealthCheckFailed);
    assert_eq!(hc.len(), 1);
    assert!(
        !hc[0].summary.contains("circuit breaker"),
        "{}",
        hc[0].summary
    );
    assert!(w.alerts(AlertName::TaskCrashed).is_empty());
    assert_eq!(w.count(MetricName::TaskCrashes), 0);
}

#[test]
fn a_crash_reported_before_the_running_event_that_ended_an_outage_keeps_the_outage() {
    // given: NEW replaces the only task a, which ECS stops first (12:10:08); NEW's
    // task n1 serves from 12:11:20, NEW completes, and a later task c of NEW crashes
    let mut w = World::new();
    quiet_rollout(&mut w);
    let replaced = json!({"stopCode":"ServiceSchedulerInitiated",
        "stoppedReason":format!("Scaling activity initiated by (deployment {NEW})")});
    // when: EventBridge delivers c's crash before n1's RUNNING event (the property
    // test's reordering found it)
    w.drive(&[
        deployment("SERVICE_DEPLOYMENT_IN_PROGRESS", NEW, 600),
        stopped("a", DEP, 30, 610, replaced),
        deployment("SERVICE_DEPLOYMENT_COMPLETED", NEW, 720),
        stopped("c", NEW, 780, 900, exited(1, None)),
        running("n1", NEW, 680),
    ]);
    // then: NEW's downtime is the gap from a's stop to n1's start, not lost because
    // the crash moved the open window past it
    let new = w
        .state
        .rollouts()
        .into_iter()
        .find(|r| r.deployment_id.as_str() == NEW)
        .unwrap();
    assert_eq!(new.downtime(), Some(72.0));
    assert_eq!(w.alerts(AlertName::TaskCrashed).len(), 1);
}

#[test]
fn three_crashes_within_fifteen_minutes_are_one_crash_loop_that_resolves_after_a_quiet_window() {
    // given: a service whose replacement tasks keep exiting 2
    let mut w = World::new();
    quiet_rollout(&mut w);
    let crash = |id: &str, start: u32, end: u32| {
        vec![
            running(id, DEP, start),
            stopped(id, DEP, start, end, exited(2, None)),
        ]
    };
    let mut events = vec![stopped("a", DEP, 30, 1000, exited(2, None))];
    events.extend(crash("b", 1060, 1300));
    events.extend(crash("c", 1360, 1600));
    // when: they arrive, each twice
    let doubled: Vec<String> = events.iter().flat_map(|e| [e.clone(), e.clone()]).collect();
    w.drive(&doubled);
    // then: three task_crashed and one crash_loop, firing on the third crash
    assert_eq!(w.alerts(AlertName::TaskCrashed).len(), 3);
    let lp = w.alerts(AlertName::CrashLoop);
    assert_eq!(lp.len(), 1);
    assert_eq!(lp[0].status, AlertStatus::Firing);
    assert!(
        lp[0].summary.contains("3 task crashes since"),
        "{}",
        lp[0].summary
    );
    // and: once the zero page is out (nothing serves), the sweeper's next cue is when
    // the loop would resolve: a window after the last crash
    let _ = w.tick(1700);
    assert_eq!(w.alerts(AlertName::ZeroRunningTasks).len(), 1);
    let due = w.state.next_deadline(&w.settings).unwrap();
    assert_eq!(
        due,
        Timestamp::parse(&t(1598))
            .unwrap()
            .plus(Millis::from_secs(900))
    );
    // when: a whole window passes without a crash
    w.tick(1598 + 899);
    assert_eq!(w.alerts(AlertName::CrashLoop).len(), 1);
    let fx = w.tick(1598 + 900);
    // then: it resolves, once
    let resolved: Vec<_> = fx.alerts().collect();
    assert_eq!(resolved.len(), 1);
    assert_eq!(
        (resolved[0].alert, resolved[0].status),
        (AlertName::CrashLoop, AlertStatus::Resolved)
    );
    assert!(w.tick(5000).alerts().next().is_none());
}

#[test]
fn a_services_tag_sets_its_own_crash_loop_rule() {
    let mut w = World::new();
    w.state.set_config(ServiceConfig {
        crash_loop: CrashLoopRule::parse("2/5m"),
        ..ServiceConfig::default()
    });
    quiet_rollout(&mut w);
    w.drive(&[
        stopped("a", DEP, 30, 1000, exited(2, None)),
        running("b", DEP, 1060),
        stopped("b", DEP, 1060, 1200, exited(2, None)),
    ]);
    assert_eq!(w.alerts(AlertName::CrashLoop).len(), 1);
}

#[test]
fn capacity_taken_back_and_maintenance_are_not_crashes() {
    let mut w = World::new();
    quiet_rollout(&mut w);
    let cases = [
        ("SpotInterruption", "Your Spot Task was interrupted."),
        ("TerminationNotice", "Your Spot Task was interrupted."),
        (
            "ServiceSchedulerInitiated",
            "Service api: ECS is performing maintenance on the underlying infrastructure hosting the task",
        ),
    ];
    for (i, (code, reason)) in cases.into_iter().enumerate() {
        let id = format!("s{i}");
        let start = 200 + 100 * u32::try_from(i).unwrap();
        let stop = json!({"stopCode":code,"stoppedReason":reason,
            "containers":[{"name":"app","lastStatus":"STOPPED","exitCode":137}]});
        w.drive(&[
            running(&id, DEP, start),
            stopped(&id, DEP, start, start + 50, stop),
        ]);
    }
    assert!(w.alerts(AlertName::TaskCrashed).is_empty());
    assert_eq!(w.count(MetricName::TaskCrashes), 0);
}

#[test]
fn a_deliberate_scale_in_to_no_task_does_not_page_where_nothing_can_tell() {
    // given: the quiet rollout; the replay cannot ask DescribeServices
    let mut w = World::new();
    quiet_rollout(&mut w);
    // when: the scheduler stops the task for its own deployment, as a scale-in
    let scale_in = json!({"stopCode":"ServiceSchedulerInitiated",
        "stoppedReason":format!("Scaling activity initiated by (deployment {DEP})"),
        "containers":[{"name":"app","lastStatus":"STOPPED","exitCode":137}]});
    w.drive(&[stopped("a", DEP, 30, 3600, scale_in.clone())]);
    w.tick(7200);
    // then: no crash, no zero page: a scale-in is not an outage
    assert!(w.alerts(AlertName::TaskCrashed).is_empty());
    assert!(w.alerts(AlertName::ZeroRunningTasks).is_empty());

    // given: the same story where ECS said the service should run 1
    let mut known = World::new();
    known.state.set_config(ServiceConfig {
        desired_count: Some(1),
        ..ServiceConfig::default()
    });
    quiet_rollout(&mut known);
    known.drive(&[stopped("a", DEP, 30, 3600, scale_in.clone())]);
    known.tick(7200);
    // then: it pages, and only then says what the service should run
    let zero = known.alerts(AlertName::ZeroRunningTasks);
    assert_eq!(zero.len(), 1);
    assert!(
        zero[0]
            .summary
            .contains("should run at least 1 (desired count 1)"),
        "{}",
        zero[0].summary
    );

    // given: the functions, which ask DescribeServices before any zero page
    let mut functions = World::new();
    functions.settings.confirm_zero = true;
    quiet_rollout(&mut functions);
    functions.drive(&[stopped("a", DEP, 30, 3600, scale_in)]);
    functions.tick(3700);
    assert!(functions.state.needs_observation());
    // when: ECS says the desired count is 0
    let at = Timestamp::parse(&t(3700)).unwrap();
    let fx = functions.state.observe(
        Observation {
            desired: 0,
            running: 0,
            at,
        },
        &functions.settings,
    );
    // then: nothing pages
    assert!(fx.alerts().next().is_none());
    assert!(functions.tick(7200).alerts().next().is_none());
}

#[test]
fn a_completion_whose_start_was_never_seen_says_its_downtime_is_unknown() {
    let mut w = World::new();
    w.drive(&[
        running("a", DEP, 30),
        deployment("SERVICE_DEPLOYMENT_COMPLETED", DEP, 120),
    ]);
    let done = w.alerts(AlertName::DeploymentCompleted);
    assert_eq!(done.len(), 1);
    assert!(
        done[0].summary.contains("downtime unknown"),
        "{}",
        done[0].summary
    );
    assert!(
        !done[0].summary.contains("downtime 0 s"),
        "{}",
        done[0].summary
    );
    assert_eq!(done[0].details.downtime_s, None);
    assert_eq!(w.state.rollouts()[0].downtime(), None);
}

#[test]
fn no_breaker_count_is_claimed_when_no_rollout_is_open() {
    // given: the rollout is over; a replacement task never starts
    let mut w = World::new();
    quiet_rollout(&mut w);
    let pull = json!({"stopCode":"TaskFailedToStart",
        "stoppedReason":"CannotPullContainerError: pull image manifest has been retried 5 time(s)"});
    let mut ev: Value = serde_json::from_str(&stopped("p", DEP, 0, 2000, pull)).unwrap();
    ev["detail"].as_object_mut().unwrap().remove("startedAt");
    w.drive(&[ev.to_string()]);
    let failed = w.alerts(AlertName::TaskFailedToStart);
    assert_eq!(failed.len(), 1);
    assert!(
        !failed[0].summary.contains("circuit breaker"),
        "{}",
        failed[0].summary
    );
    assert_eq!(failed[0].details.threshold, None);
}

#[test]
fn the_task_counts_as_serving_on_the_event_in_which_it_starts() {
    // given: an envelope time truncated to the second, startedAt 250 ms later
    let mut w = World::new();
    let fx = w.drive(&[running("a", DEP, 30)]);
    // then: RunningTaskCount reads 1 on that very event
    let gauge: Vec<f64> = fx
        .metrics()
        .filter(|m| m.name == MetricName::RunningTaskCount)
        .map(|m| m.value)
        .collect();
    assert_eq!(gauge, vec![1.0]);
}
