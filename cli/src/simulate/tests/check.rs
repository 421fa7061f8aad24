//! Replays a simulated stream the way a watcher would, and checks ECS's rules held at
//! every event: the envelope is complete, `time` never goes backwards, task versions
//! strictly increase, no task starts above the ceiling, healthy tasks never drop below
//! the floor. "Healthy" is judged from the events alone, as generously as ECS could:
//! RUNNING, not asked to stop, for at least 20 s (or part of the initial fleet), and not
//! a task that later fails its health checks.

use std::collections::{HashMap, HashSet};

use serde_json::Value;

use crate::simulate::clock::parse;
use crate::simulate::rules::Limits;
use crate::simulate::{Params, Simulation};

const HEALTHY_AFTER_MS: u64 = 20_000;

#[derive(Debug, Default)]
struct TaskView {
    version: u64,
    last: String,
    desired: String,
    started_at: Option<u64>,
    initial: bool,
}

/// Checks every invariant; panics naming the event index and what broke.
pub(super) fn check_invariants(params: &Params, sim: &Simulation) {
    // ECS-native strategies start all of green beside blue (200 %), whatever the
    // rolling percents say, and keep blue serving until CLEAN_UP.
    let limits = match params.native {
        None => Limits::new(
            params.desired,
            params.min_healthy_percent,
            params.max_percent,
        ),
        Some(_) => Limits::new(params.desired, 100, 200),
    };
    let floor = limits.floor.min(params.desired) as usize;
    let fails_elb: HashSet<String> = sim
        .events
        .iter()
        .filter(|e| text(&e["detail"]["stoppedReason"]).starts_with("Task failed ELB"))
        .map(|e| text(&e["detail"]["taskArn"]).to_owned())
        .collect();
    let mut ids = HashSet::new();
    let mut tasks: HashMap<String, TaskView> = HashMap::new();
    let mut last_time = 0;
    let mut rollout_began = false;
    for (n, event) in sim.events.iter().enumerate() {
        let time = check_envelope(n, event, params);
        assert!(
            ids.insert(text(&event["id"]).to_owned()),
            "#{n}: duplicate id"
        );
        assert!(time >= last_time, "#{n}: time went backwards");
        last_time = time;
        let detail = &event["detail"];
        let at = parse(text(&detail["updatedAt"]))
            .or_else(|| parse(text(&detail["createdAt"])))
            .unwrap_or_else(|| panic!("#{n}: no detail timestamp"));
        assert!(
            time >= at,
            "#{n}: envelope time before the detail timestamp"
        );
        if event["detail-type"] != "ECS Task State Change" {
            rollout_began = true;
            continue;
        }
        let arn = text(&detail["taskArn"]).to_owned();
        check_task_fields(n, event, params);
        let view = tasks.entry(arn.clone()).or_default();
        let version = detail["version"].as_u64().unwrap_or_default();
        assert!(version > view.version, "#{n}: version {version} not newer");
        view.version = version;
        view.initial |= !rollout_began;
        view.last = text(&detail["lastStatus"]).to_owned();
        view.desired = text(&detail["desiredStatus"]).to_owned();
        view.started_at = parse(text(&detail["startedAt"]));
        let started = view.last == "PROVISIONING";
        let active = tasks.values().filter(|t| t.last != "STOPPED").count();
        if started {
            assert!(
                active <= limits.ceiling as usize,
                "#{n}: started a task with {active} active, ceiling {}",
                limits.ceiling
            );
        }
        if rollout_began {
            let healthy = tasks
                .iter()
                .filter(|(arn, t)| {
                    t.last == "RUNNING"
                        && t.desired == "RUNNING"
                        && !fails_elb.contains(*arn)
                        && (t.initial || t.started_at.is_some_and(|s| at >= s + HEALTHY_AFTER_MS))
                })
                .count();
            assert!(healthy >= floor, "#{n}: {healthy} healthy, floor {floor}");
        }
    }
}

fn check_envelope(n: usize, event: &Value, params: &Params) -> u64 {
    assert_eq!(event["version"], "0", "#{n}");
    assert_eq!(event["source"], "aws.ecs", "#{n}");
    assert_eq!(event["account"], params.account.as_str(), "#{n}");
    assert_eq!(event["region"], params.region.as_str(), "#{n}");
    let id = text(&event["id"]);
    let groups: Vec<usize> = id.split('-').map(str::len).collect();
    assert_eq!(groups, [8, 4, 4, 4, 12], "#{n}: id {id}");
    let kind = text(&event["detail-type"]);
    assert!(
        [
            "ECS Task State Change",
            "ECS Deployment State Change",
            "ECS Service Action",
            "ECS Hook State Change"
        ]
        .contains(&kind),
        "#{n}: detail-type {kind}"
    );
    let resources = event["resources"].as_array().map(Vec::len);
    assert_eq!(resources, Some(1), "#{n}: resources");
    assert!(event["detail"].is_object(), "#{n}: detail");
    let time = text(&event["time"]);
    assert!(time.len() == 20 && !time.contains('.'), "#{n}: time {time}");
    parse(time).unwrap_or_else(|| panic!("#{n}: time {time}"))
}

fn check_task_fields(n: usize, event: &Value, params: &Params) {
    let d = &event["detail"];
    let arn = text(&d["taskArn"]);
    let prefix = format!(
        "arn:aws:ecs:{}:{}:task/{}/",
        params.region, params.account, params.cluster
    );
    let id = arn.strip_prefix(&prefix).unwrap_or_default();
    assert!(
        id.len() == 32 && id.bytes().all(|b| b.is_ascii_hexdigit()),
        "#{n}: {arn}"
    );
    assert_eq!(event["resources"][0], arn, "#{n}");
    assert_eq!(d["group"], format!("service:{}", params.service), "#{n}");
    assert_eq!(d["launchType"], "FARGATE", "#{n}");
    assert!(text(&d["startedBy"]).starts_with("ecs-svc/"), "#{n}");
    assert!(
        d["clusterArn"]
            .as_str()
            .is_some_and(|c| c.ends_with(&params.cluster))
    );
    assert!(d["containers"][0]["name"].is_string(), "#{n}: containers");
    assert!(d["attachments"][0]["type"] == "eni", "#{n}: attachments");
    for key in ["createdAt", "updatedAt"] {
        assert!(
            text(&d[key]).contains('.'),
            "#{n}: {key} without milliseconds"
        );
    }
}

/// The string in `value`, or "" (tests compare against literals).
pub(super) fn text(value: &Value) -> &str {
    value.as_str().unwrap_or_default()
}
