//! `replay` on the events of a service created before 2021, which keeps its short
//! ARN (`service/web`, no cluster) in its deployment events' `resources` and in
//! DescribeServices' `serviceArn`: the rollout reads as the long-form one does,
//! and `--describe-services` settings still apply to it.

#![allow(clippy::unwrap_used)]

#[path = "support/cli.rs"]
mod cli;
use cli::Scratch;

const LONG: &str = "service/demo-cluster/web";
const SHORT: &str = "service/web";

/// The binary's standard output, which must succeed.
fn run(args: &[&str]) -> String {
    let out = cli::run(args, "");
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
    let dir = Scratch::new("short-arns", "replay");
    let ds = dir.file("ds.json", "");
    let text = run(&[
        "simulate",
        "--scenario",
        "zero-running",
        "--describe-services-out",
        &ds,
    ]);
    let settings = std::fs::read_to_string(&ds).unwrap();
    assert!(settings.contains(LONG) && text.contains(LONG));
    let events = dir.file("events.jsonl", &text);
    let ds_short = dir.file("ds-short.json", &settings.replace(LONG, SHORT));
    let events_short = dir.file("events-short.jsonl", &text.replace(LONG, SHORT));

    // when
    let replay = |ds: &str, events: &str| {
        run(&[
            "replay",
            "--format",
            "json",
            "--describe-services",
            ds,
            events,
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
