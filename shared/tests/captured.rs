//! Events other projects captured from AWS (tests/fixtures/captured/, provenance in
//! its SOURCES.md): none is rejected, and each gives what an on-call engineer would
//! expect, alone and, where it makes sense, inside a small story.
//!
//! The trimmed-envelope captures (no `id`, `time` or `region`) are tolerance cases, not
//! what AWS sends: the watcher accepts them when the detail carries a time of its own
//! (`updatedAt`, `createdAt`), and refuses, naming `time`, the one that carries none:
//! an event that cannot be placed in time cannot be ordered against the others.
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

use rollout_watcher::core::{Alert, AlertName, AlertStatus, Effects, MetricName, Settings};
use rollout_watcher::message;
use rollout_watcher::model::{EcsEvent, Ignored, Interpreted, Millis, Timestamp};
use rollout_watcher::replay::Replay;
use serde_json::{Value, json};

macro_rules! captured {
    ($name:literal) => {
        include_str!(concat!("../../tests/fixtures/captured/", $name, ".json"))
    };
}

const RUNNING_FARGATE: &str =
    captured!("task-running-fargate-service-startedat-ms-after-time-2023-arkime");
const SCALE_IN_FARGATE: &str =
    captured!("task-stopped-scale-in-own-deployment-exit-137-fargate-2023-arkime");
const RUNNING_EC2: &str = captured!("task-running-ec2-service-startedat-ms-after-time-2023-arkime");
const SCALE_IN_EC2: &str =
    captured!("task-stopped-scale-in-own-deployment-exit-137-ec2-2023-arkime");
const RUNNING_SIDECARS: &str =
    captured!("task-running-fargate-4-containers-sidecars-startedat-ms-after-time-2023-defra");
const EXIT_2: &str = captured!("task-stopped-essential-exit-2-fargate-envoy-sidecar-fivexl");
const IMPAIRED: &str = captured!("service-action-task-start-impaired-real-2023-wellcome");
const DEPLOYMENT_TRIMMED: &str =
    captured!("deployment-in-progress-trimmed-envelope-ms-updatedat-2026-autoptic");

/// Every captured event: (name, text, what the watcher does with it alone).
const ALL: [(&str, &str, Expect); 19] = [
    ("running fargate", RUNNING_FARGATE, Expect::Quiet),
    ("scale-in fargate", SCALE_IN_FARGATE, Expect::Quiet),
    ("running ec2", RUNNING_EC2, Expect::Quiet),
    ("scale-in ec2", SCALE_IN_EC2, Expect::Quiet),
    ("running with sidecars", RUNNING_SIDECARS, Expect::Quiet),
    ("exit 2", EXIT_2, Expect::Alerts(&[AlertName::TaskCrashed])),
    (
        "standalone exit 255",
        captured!("task-stopped-standalone-fargate-exit-255-no-stopcode-2018-dpnt"),
        Expect::NotAService,
    ),
    (
        "standalone failed to start",
        captured!("task-stopped-failed-to-start-no-stopcode-no-startedat-2018-dpnt"),
        Expect::NotAService,
    ),
    (
        "standalone exit 0",
        captured!("task-stopped-standalone-ec2-exit-0-no-stopcode-2018-maasglobal"),
        Expect::NotAService,
    ),
    (
        "2016 scale-in without group",
        captured!("task-stopping-scale-in-own-deployment-legacy-arn-2016-narochno"),
        Expect::NotAService,
    ),
    (
        "pending spot, redacted",
        captured!("task-pending-fargate-spot-service-task-x-redacted-2020-golambda"),
        Expect::Quiet,
    ),
    (
        "provisioning standalone, redacted ids",
        captured!("task-provisioning-fargate-eni-precreated-redacted-ids-2020-sysdig"),
        Expect::NotAService,
    ),
    (
        "provisioning, trimmed envelope",
        captured!("task-provisioning-service-task-trimmed-envelope-2026-autoptic"),
        Expect::Refused("time"),
    ),
    (
        "spot interruption (AWS doc)",
        captured!("task-stopping-fargate-spot-interruption-no-time-region-aws-doc"),
        Expect::NotAService,
    ),
    (
        "spot termination notice (AWS doc)",
        captured!("task-stopping-fargate-spot-termination-notice-no-time-region-aws-doc-2020"),
        Expect::NotAService,
    ),
    (
        "start impaired",
        IMPAIRED,
        Expect::Alerts(&[AlertName::TaskStartImpaired]),
    ),
    (
        "steady state, trimmed",
        captured!("service-action-steady-state-trimmed-envelope-clusterarn-2026-autoptic"),
        Expect::Ignored,
    ),
    (
        "deployment in progress, trimmed",
        DEPLOYMENT_TRIMMED,
        Expect::Alerts(&[AlertName::DeploymentStarted]),
    ),
    // The hook event is the ECS-native work's: here it need only decode.
    (
        "hook awaiting action (AWS doc)",
        captured!("hook-awaiting-action-pause-no-resources-aws-doc-pause-hooks-page"),
        Expect::Decodes,
    ),
];

#[derive(Clone, Copy, Debug)]
enum Expect {
    /// Used, no alert.
    Quiet,
    /// Used, exactly these alerts.
    Alerts(&'static [AlertName]),
    /// A task the watcher cannot attribute to a service: accepted, ignored.
    NotAService,
    /// Accepted and ignored for another reason (steady state).
    Ignored,
    /// Decodes; what it means is another piece of work's.
    Decodes,
    /// A tolerance case refused, naming the field it lacks.
    Refused(&'static str),
}

#[test]
fn no_captured_event_is_rejected_and_each_alone_gives_what_on_call_expects() {
    for (name, text, expect) in ALL {
        let event = EcsEvent::from_json(text).unwrap_or_else(|e| panic!("{name}: {e}"));
        if matches!(expect, Expect::Decodes) {
            continue;
        }
        if let Expect::Refused(field) = expect {
            let err = event.interpret().unwrap_err();
            assert!(err.to_string().starts_with(field), "{name}: {err}");
            continue;
        }
        let meaning = event
            .interpret()
            .unwrap_or_else(|e| panic!("{name}: rejected: {e}"));
        match (expect, meaning) {
            (Expect::NotAService, Interpreted::Ignore(Ignored::NotAServiceTask)) => {}
            (Expect::Ignored, Interpreted::Ignore(_)) => {}
            (Expect::Quiet | Expect::Alerts(_), Interpreted::Use(_)) => {
                let mut world = Replay::new(Settings::default());
                let fx = world.apply_json(text).unwrap();
                let got: Vec<AlertName> = fx.alerts().map(|a| a.alert).collect();
                let want = match expect {
                    Expect::Alerts(a) => a.to_vec(),
                    _ => vec![],
                };
                assert_eq!(got, want, "{name}");
            }
            (e, m) => panic!("{name}: expected {e:?}, got {m:?}"),
        }
    }
}

fn gauge(fx: &Effects) -> Vec<f64> {
    fx.metrics()
        .filter(|m| m.name == MetricName::RunningTaskCount)
        .map(|m| m.value)
        .collect()
}

#[test]
fn a_task_counts_as_serving_on_the_real_event_in_which_it_starts() {
    // given: real RUNNING events whose startedAt is up to 0.83 s after the envelope's
    // time, which EventBridge truncates to the second
    for text in [RUNNING_FARGATE, RUNNING_EC2, RUNNING_SIDECARS] {
        let mut world = Replay::new(Settings::default());
        // then: RunningTaskCount reads 1 on that very event
        assert_eq!(gauge(&world.apply_json(text).unwrap()), vec![1.0]);
    }
}

#[test]
fn a_real_scale_in_of_the_only_task_is_no_outage_and_no_crash() {
    for (running, stopped) in [
        (RUNNING_FARGATE, SCALE_IN_FARGATE),
        (RUNNING_EC2, SCALE_IN_EC2),
    ] {
        // given: the task serving, then stopped by its own deployment's scaling, exit
        // 137 (SIGKILL after the stop timeout, not memory)
        let mut world = Replay::new(Settings::default());
        let mut all = world.apply_json(running).unwrap();
        all.extend(world.apply_json(stopped).unwrap());
        // when: an hour passes (the replay cannot ask DescribeServices)
        let later = Timestamp::parse(&time_of(stopped))
            .unwrap()
            .plus(Millis::from_secs(3600));
        all.extend(world.tick_all(later));
        // then: nothing pages, and nothing claims memory or a desired count
        let alerts: Vec<&Alert> = all.alerts().collect();
        assert!(alerts.is_empty(), "{alerts:#?}");
        assert_eq!(gauge(&all).last(), Some(&0.0));
    }
}

fn time_of(text: &str) -> String {
    let v: Value = serde_json::from_str(text).unwrap();
    v["time"].as_str().unwrap().to_owned()
}

/// The exit-2 STOPPED event as the `n`-th task of a story: its own id, moved `shift`
/// seconds later, with the RUNNING event that came before it.
fn crash_story(n: usize, shift: i64) -> [String; 2] {
    let stopped: Value = serde_json::from_str(EXIT_2).unwrap();
    let move_by = |v: &Value| {
        Timestamp::parse(v.as_str().unwrap())
            .unwrap()
            .plus(Millis::from_secs(shift))
            .to_rfc3339()
    };
    let mut s = stopped.clone();
    let arn = format!("arn:aws:ecs:eu-central-1:111111111111:task/test/{n:032x}");
    s["id"] = json!(format!("crash-{n}-stopped"));
    s["resources"] = json!([arn]);
    s["time"] = json!(move_by(&stopped["time"]));
    for k in [
        "createdAt",
        "startedAt",
        "stoppingAt",
        "stoppedAt",
        "executionStoppedAt",
        "updatedAt",
        "pullStartedAt",
        "pullStoppedAt",
        "connectivityAt",
    ] {
        if let Some(v) = stopped["detail"].get(k) {
            s["detail"][k] = json!(move_by(v));
        }
    }
    s["detail"]["taskArn"] = json!(arn);
    let mut r = s.clone();
    r["id"] = json!(format!("crash-{n}-running"));
    r["time"] = json!(move_by(&stopped["detail"]["startedAt"]));
    let d = r["detail"].as_object_mut().unwrap();
    for k in [
        "stoppingAt",
        "stoppedAt",
        "executionStoppedAt",
        "stopCode",
        "stoppedReason",
    ] {
        d.remove(k);
    }
    d.insert("lastStatus".into(), json!("RUNNING"));
    d.insert("desiredStatus".into(), json!("RUNNING"));
    d.insert("version".into(), json!(3));
    d.insert("updatedAt".into(), s["detail"]["startedAt"].clone());
    d.insert(
        "containers".into(),
        json!([{"name":"envoy","lastStatus":"RUNNING"},{"name":"app","lastStatus":"RUNNING"}]),
    );
    [r.to_string(), s.to_string()]
}

#[test]
fn the_real_exit_2_of_the_only_task_is_a_crash_then_an_outage() {
    // given: the service's only task reaches RUNNING
    let mut world = Replay::new(Settings::default());
    let [running, stopped] = crash_story(1, 0);
    let _ = world.apply_json(&running).unwrap();
    // when: its app container exits 2 (envoy exits 0 as the task goes down); the
    // STOPPED event comes two minutes after ECS began stopping the task
    let fx = world.apply_json(&stopped).unwrap();
    // then: task_crashed names app and exit 2, never envoy, and claims no breaker;
    // and, nothing having served for those two minutes, the outage pages too,
    // without claiming a desired count nobody told the watcher
    let alerts: Vec<&Alert> = fx.alerts().collect();
    let names: Vec<AlertName> = alerts.iter().map(|a| a.alert).collect();
    assert_eq!(names, [AlertName::TaskCrashed, AlertName::ZeroRunningTasks]);
    let text = &alerts[0].summary;
    assert!(text.contains("essential container app exited 2"), "{text}");
    assert!(
        !text.contains("envoy") && !text.contains("circuit breaker"),
        "{text}"
    );
    assert!(!text.to_lowercase().contains("memory"), "{text}");
    assert!(
        !alerts[1].summary.contains("should run"),
        "{}",
        alerts[1].summary
    );
    // and: the SNS message names the account, region and time without an ARN
    let body = message::body(alerts[0], None);
    let description = body["content"]["description"].as_str().unwrap();
    assert!(
        description.contains(
            "*Account:* `111111111111` · *Region:* `eu-central-1` · *When:* 2020-03-16 15:34:59 UTC"
        ),
        "{description}"
    );
    let subject = message::subject(alerts[0], Some("prod"));
    assert!(
        subject.chars().count() <= 99 && subject.contains("app exited 2"),
        "{subject}"
    );
    // and: time passing adds nothing
    let later = Timestamp::parse(&time_of(&stopped))
        .unwrap()
        .plus(Millis::from_secs(600));
    assert!(world.tick_all(later).alerts().next().is_none());
}

#[test]
fn three_real_exit_2_crashes_in_fifteen_minutes_are_a_crash_loop() {
    // given: the task and two replacements, each crashing four minutes after the last
    let mut world = Replay::new(Settings::default());
    let mut all = Effects::default();
    for n in 0..3 {
        for e in crash_story(n + 1, 240 * i64::try_from(n).unwrap()) {
            all.extend(world.apply_json(&e).unwrap());
        }
    }
    // then: three crashes and one crash_loop, critical
    let names: Vec<AlertName> = all.alerts().map(|a| a.alert).collect();
    assert_eq!(
        names
            .iter()
            .filter(|n| **n == AlertName::TaskCrashed)
            .count(),
        3
    );
    let lp: Vec<&Alert> = all
        .alerts()
        .filter(|a| a.alert == AlertName::CrashLoop)
        .collect();
    assert_eq!(lp.len(), 1);
    assert_eq!(lp[0].status, AlertStatus::Firing);
    assert_eq!(
        all.metrics()
            .filter(|m| m.name == MetricName::TaskCrashes)
            .count(),
        3
    );
}

#[test]
fn the_real_start_impaired_action_names_the_service_account_and_region() {
    let mut world = Replay::new(Settings::default());
    let fx = world.apply_json(IMPAIRED).unwrap();
    let a = fx.alerts().next().unwrap();
    assert_eq!(a.service_name, "image_inferrer");
    let body = message::body(a, None);
    let description = body["content"]["description"].as_str().unwrap();
    assert!(
        description.contains("*Account:* `760097843905` · *Region:* `eu-west-1`"),
        "{description}"
    );
    let subject = message::subject(a, None);
    assert!(subject.ends_with("(760097843905 eu-west-1)"), "{subject}");
}
