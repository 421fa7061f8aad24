//! `replay` on the events of a service created before 2021, which keeps its short
//! ARN (`service/web`, no cluster) in its deployment events' `resources` and in
//! DescribeServices' `serviceArn`: the rollout reads as the long-form one does,
//! and `--describe-services` settings still apply to it.

#![allow(clippy::unwrap_used)]

use std::path::Path;
use std::process::Command;

const LONG: &str = "service/demo-cluster/web";
const SHORT: &str = "service/web";

fn run(args: &[&str]) -> String {
    let out = Command::new(env!("CARGO_BIN_EXE_rollout-watcher"))
        .args(args)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

/// The alert lines of a JSON replay, as (alert, status, service).
fn alerts(json: &str) -> Vec<(String, String, String)> {
    json.lines()
        .map(|l| serde_json::from_str::<serde_json::Value>(l).unwrap())
        .filter(|l| l["type"] == "alert")
        .map(|l| {
            let s = |k: &str| l[k].as_str().unwrap_or_default().to_owned();
            (s("alert"), s("status"), s("service"))
        })
        .collect()
}

#[test]
fn a_pre_2021_service_replays_as_the_same_service_with_its_settings() {
    // given: the zero-running rollout and its settings, once as ECS names a service
    // created today and once with the short ARN of one created before 2021
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("short-arns");
    std::fs::create_dir_all(&dir).unwrap();
    let (ds, events) = (dir.join("ds.json"), dir.join("events.jsonl"));
    let ds_long = ds.to_str().unwrap();
    let text = run(&[
        "simulate",
        "--scenario",
        "zero-running",
        "--describe-services-out",
        ds_long,
    ]);
    std::fs::write(&events, &text).unwrap();
    let (ds_short, events_short) = (dir.join("ds-short.json"), dir.join("events-short.jsonl"));
    let settings = std::fs::read_to_string(&ds).unwrap();
    assert!(settings.contains(LONG) && text.contains(LONG));
    std::fs::write(&ds_short, settings.replace(LONG, SHORT)).unwrap();
    std::fs::write(&events_short, text.replace(LONG, SHORT)).unwrap();

    // when
    let replay = |ds: &Path, events: &Path| {
        run(&[
            "replay",
            "--format",
            "json",
            "--describe-services",
            ds.to_str().unwrap(),
            events.to_str().unwrap(),
        ])
    };
    let long = alerts(&replay(&ds, &events));
    let short = alerts(&replay(&ds_short, &events_short));

    // then: the same alerts, the settings' one included, under the long ARN
    assert!(
        long.iter().any(|(a, _, _)| a == "unsafe_deployment_config"),
        "{long:?}"
    );
    assert!(
        long.iter().any(|(a, _, _)| a == "zero_running_tasks"),
        "{long:?}"
    );
    assert_eq!(short, long);
}
