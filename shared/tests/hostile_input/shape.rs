//! The shape of the text: truncated, wrong types, arrays for objects, huge, deep.

use rollout_watcher::core::{AlertName, Settings};
use rollout_watcher::model::{Detail, EcsEvent, ModelError, ServiceArn};
use rollout_watcher::replay::Replay;
use serde_json::{Value, json};

use crate::world::{EVENTS, FAILED, WATCHED, World, alert_names, field_of, stored, with};

/// Cut anywhere, every real sample is an error that says the text ended early; the
/// state in the store stays as it was.
#[test]
fn a_sample_truncated_at_any_byte_is_an_error() {
    let mut world = World::mid_rollout();
    for (name, text) in EVENTS {
        let whole = text.trim_end();
        for cut in (0..whole.len()).filter(|i| text.is_char_boundary(*i)) {
            let err = world.refuse(&text[..cut]);
            let message = err.to_string();
            assert!(
                message.contains("EOF while parsing"),
                "{name} cut at {cut}: {message}"
            );
        }
    }
    world.still_alerts_on_failure();
}

/// The JSON keys the model reads, by detail-type (`[*]`: any element). A wrong type
/// in one of these is an error naming it; anywhere else it is none of our business.
fn read_fields(detail_type: &str) -> Vec<String> {
    let envelope = [
        "version",
        "id",
        "detail-type",
        "source",
        "account",
        "time",
        "region",
        "resources",
        "resources[*]",
        "detail",
    ];
    let detail: &[&str] = match detail_type {
        "ECS Deployment State Change" => &[
            "eventType",
            "eventName",
            "deploymentId",
            "updatedAt",
            "reason",
            "clusterArn",
        ],
        "ECS Service Action" => &[
            "eventType",
            "eventName",
            "clusterArn",
            "createdAt",
            "reason",
            "deploymentId",
            "desiredCount",
            "capacityProviderArns",
            "capacityProviderArns[*]",
            "containerInstanceArns",
            "containerInstanceArns[*]",
            "taskArns",
            "taskArns[*]",
        ],
        "ECS Task State Change" => &[
            "clusterArn",
            "taskArn",
            "taskDefinitionArn",
            "group",
            "startedBy",
            "lastStatus",
            "desiredStatus",
            "stopCode",
            "stoppedReason",
            "createdAt",
            "startedAt",
            "stoppingAt",
            "executionStoppedAt",
            "stoppedAt",
            "updatedAt",
            "version",
            "launchType",
            "availabilityZone",
            "containers",
            "containers[*]",
            "containers[*].name",
            "containers[*].image",
            "containers[*].lastStatus",
            "containers[*].exitCode",
            "containers[*].reason",
        ],
        "ECS Hook State Change" => &[
            "eventType",
            "eventName",
            "hookId",
            "hookType",
            "expiresAt",
            "lifecycleStage",
            "clusterArn",
            "serviceArn",
            "serviceDeploymentArn",
            "updatedAt",
        ],
        other => panic!("no sample of {other}"),
    };
    let detail = detail.iter().map(|f| format!("detail.{f}"));
    envelope
        .iter()
        .map(|f| (*f).to_owned())
        .chain(detail)
        .collect()
}

/// Every node of a JSON value: (path as the model's errors write it, JSON pointer).
fn nodes(v: &Value, path: &str, pointer: &str, out: &mut Vec<(String, String, Value)>) {
    let children: Vec<(String, String, &Value)> = match v {
        Value::Object(map) => map
            .iter()
            .map(|(k, c)| {
                let p = if path.is_empty() {
                    k.clone()
                } else {
                    format!("{path}.{k}")
                };
                (
                    p,
                    format!("{pointer}/{}", k.replace('~', "~0").replace('/', "~1")),
                    c,
                )
            })
            .collect(),
        Value::Array(items) => items
            .iter()
            .enumerate()
            .map(|(i, c)| (format!("{path}[{i}]"), format!("{pointer}/{i}"), c))
            .collect(),
        _ => Vec::new(),
    };
    for (p, ptr, c) in children {
        out.push((p.clone(), ptr.clone(), c.clone()));
        nodes(c, &p, &ptr, out);
    }
}

/// `detail.containers[3].exitCode` → `detail.containers[*].exitCode`.
fn generic(path: &str) -> String {
    let mut out = String::new();
    let mut in_index = false;
    for ch in path.chars() {
        match ch {
            '[' => {
                in_index = true;
                out.push_str("[*");
            }
            ']' => {
                in_index = false;
                out.push(']');
            }
            _ if in_index => {}
            _ => out.push(ch),
        }
    }
    out
}

/// Values of every JSON type but the one at hand (null is "absent", not a wrong type).
fn other_types(original: &Value) -> Vec<Value> {
    [json!("7"), json!(7), json!(true), json!([]), json!({})]
        .into_iter()
        .filter(|v| std::mem::discriminant(v) != std::mem::discriminant(original))
        .collect()
}

/// In every field of every sample, a value of each other JSON type: where the model
/// reads the field, the error names exactly that path; anywhere else the event means
/// what it meant before. Refused events leave the stored state alone.
#[test]
fn a_wrong_type_in_any_field_is_named_or_does_not_matter() {
    let mut world = World::mid_rollout();
    let mut named = 0;
    for (name, text) in EVENTS {
        let original = EcsEvent::from_json(text).unwrap();
        let meaning = original.interpret();
        let read = read_fields(&original.detail_type);
        let mut all = Vec::new();
        nodes(&serde_json::from_str(text).unwrap(), "", "", &mut all);
        for (path, pointer, value) in all {
            for wrong in other_types(&value) {
                let hostile = with(text, &pointer, wrong.clone());
                let case = format!("{name}: {path} = {wrong}");
                assert_eq!(
                    EcsEvent::from_json(&hostile),
                    EcsEvent::from_json_tracked(&hostile),
                    "{case}: the single-pass and the tracked decoder disagree"
                );
                // Keys sorted, `detail` first: the union of the detail structs.
                if let Some(sorted) = serde_json::from_str(&hostile)
                    .ok()
                    .and_then(|v| crate::keys::keys_sorted(&v))
                {
                    assert_eq!(
                        EcsEvent::from_json(&sorted),
                        EcsEvent::from_json_tracked(&sorted),
                        "{case}: the decoders disagree with detail first"
                    );
                }
                if read.contains(&generic(&path)) {
                    let err = world.refuse(&hostile);
                    assert_eq!(field_of(&err), path, "{case}: {err}");
                    assert!(matches!(err, ModelError::Json { .. }), "{case}: {err}");
                    named += 1;
                } else {
                    let ev = EcsEvent::from_json(&hostile)
                        .unwrap_or_else(|e| panic!("{case}: refused: {e}"));
                    assert_eq!(ev.interpret(), meaning, "{case}: the meaning changed");
                }
            }
        }
    }
    assert!(named > 500, "only {named} wrong types tried on read fields");
    world.still_alerts_on_failure();
}

/// Regression: serde's derived structs took a JSON array as a struct, field by field,
/// so a detail of `["ERROR", "SERVICE_DEPLOYMENT_FAILED", "ecs-svc/1"]` read as a
/// failed deployment and paged. An array is now a wrong type, named where it is.
#[test]
fn arrays_in_place_of_objects_are_wrong_types_not_positional_fields() {
    let mut world = World::mid_rollout();
    let detail = json!(["ERROR", "SERVICE_DEPLOYMENT_FAILED", "ecs-svc/123"]);
    let err = world.refuse(&with(FAILED, "/detail", detail));
    assert_eq!(
        err.to_string(),
        "detail: invalid type: sequence, expected a JSON object"
    );

    let envelope = json!(["0", "x", "ECS Deployment State Change", "aws.ecs", "1",
        "2020-05-23T12:31:14Z", "us-west-2", [WATCHED],
        {"eventName": "SERVICE_DEPLOYMENT_FAILED", "deploymentId": "ecs-svc/123"}]);
    let err = world.refuse(&envelope.to_string());
    assert_eq!(
        err.to_string(),
        "event: invalid type: sequence, expected a JSON object"
    );

    let elb = sample!("task-state-change-stopped-elb-healthcheck");
    let err = world.refuse(&with(
        elb,
        "/detail/containers/0",
        json!(["web", "img", "STOPPED", 137]),
    ));
    assert_eq!(field_of(&err), "detail.containers[0]");
    world.still_alerts_on_failure();
}

/// A 1 MB task event (thousands of containers, long free text, a huge unknown field)
/// decodes, alerts as its small original does, and leaves a small state behind: the
/// state lives in one DynamoDB item (400 KB at most), and the alert goes out by SNS.
#[test]
fn a_megabyte_task_event_is_handled_and_stored_small() {
    let elb = sample!("task-state-change-stopped-elb-healthcheck");
    let mut v: Value = serde_json::from_str(elb).unwrap();
    let container = v["detail"]["containers"][0].clone();
    let mut containers = vec![container; 2_000];
    for (i, c) in containers.iter_mut().enumerate() {
        c["name"] = json!(format!("sidecar-{i}-{}", "n".repeat(200)));
        c["reason"] = json!("r".repeat(100));
    }
    v["detail"]["containers"] = json!(containers);
    let reason = v["detail"]["stoppedReason"].as_str().unwrap().to_owned();
    v["detail"]["stoppedReason"] = json!(format!("{reason} {}", "x".repeat(100_000)));
    v["detail"]["overrides"] = json!({ "blob": "y".repeat(300_000) });
    let huge = v.to_string();
    assert!(huge.len() > 1 << 20, "{} bytes", huge.len());

    let ev = EcsEvent::from_json(&huge).unwrap();
    let Detail::Task(t) = &ev.detail else {
        panic!("not a task")
    };
    assert_eq!(t.containers.len(), 2_000);
    let mut world = Replay::new(Settings::default());
    let fx = world.apply_json(&huge).unwrap();
    // A serving task stopped for health checks with no rollout open: a crash.
    assert_eq!(alert_names(&fx), vec![AlertName::TaskCrashed]);
    assert!(
        fx.alerts().all(|a| a.summary.len() < 16 * 1024),
        "an oversized alert"
    );

    let service = ServiceArn::parse(
        "arn:aws:ecs:ap-northeast-2:653734769926:service/sin-web_cluster-dev/sin-web_service-dev",
    )
    .unwrap();
    let size = stored(world.service(&service).unwrap()).len();
    assert!(size < 64 * 1024, "one event made a {size}-byte state");
}

/// A wrong type deep inside a huge array is still named by its index.
#[test]
fn a_wrong_type_deep_in_a_huge_array_is_named_by_its_index() {
    let elb = sample!("task-state-change-stopped-elb-healthcheck");
    let mut v: Value = serde_json::from_str(elb).unwrap();
    let mut containers = vec![v["detail"]["containers"][0].clone(); 10_000];
    containers[9_999]["exitCode"] = json!("137");
    v["detail"]["containers"] = json!(containers);
    let err = World::mid_rollout().refuse(&v.to_string());
    assert_eq!(field_of(&err), "detail.containers[9999].exitCode");
}

/// `depth` arrays inside each other.
pub(crate) fn nested(depth: usize) -> String {
    format!("{}{}", "[".repeat(depth), "]".repeat(depth))
}

/// 100,000 levels of nesting, wherever they are put, are an error or skipped: never a
/// stack overflow (serde_json stops at 128 levels; skipped values are not recursed).
#[test]
fn deeply_nested_json_is_an_error_not_a_stack_overflow() {
    let mut world = World::mid_rollout();
    let deep = nested(100_000);
    let open_only = "[".repeat(100_000);
    for (case, text) in [
        ("top level", deep.clone()),
        ("top level, never closed", open_only.clone()),
        (
            "objects",
            format!("{}1{}", r#"{"a":"#.repeat(100_000), "}".repeat(100_000)),
        ),
        (
            "a read field",
            with(
                FAILED,
                "/detail/reason",
                serde_json::from_str(&nested(100)).unwrap(),
            )
            .replace(&nested(100), &deep),
        ),
        (
            "an unknown detail-type",
            format!(r#"{{"detail-type":"Deep","source":"aws.ecs","detail":{deep}}}"#),
        ),
        (
            "unclosed, in an unknown field",
            format!(r#"{{"detail-type":"x","detail":{{"a":{open_only}"#),
        ),
    ] {
        let err = world.refuse(&text);
        assert!(!err.to_string().is_empty(), "{case}");
    }
    // Skipped without recursion: an unknown field of any depth is no error.
    let skipped = FAILED.replacen(
        "\"detail\": {",
        &format!("\"detail\": {{\"extra\": {deep},"),
        1,
    );
    assert!(skipped.len() > 200_000);
    let ev = EcsEvent::from_json(&skipped).unwrap();
    assert_eq!(ev, EcsEvent::from_json(FAILED).unwrap());
    world.still_alerts_on_failure();
}
