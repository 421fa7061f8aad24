//! Every mistake a new user makes with the `rollout-watcher` binary, and what it says
//! back: one line that says what was wrong, where (file, line, field, argument) and
//! what would be right, with the exit code a script can rely on (1 for bad input, 64
//! for a bad argument). The SDK's error chain only with `--verbose`.
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

#[path = "support/cli.rs"]
mod cli;

use std::path::Path;
use std::process::{Command, Output};

use cli::{BIN, Scratch, run};

fn sample(name: &str) -> String {
    format!(
        "{}/../tests/fixtures/samples/{name}.json",
        env!("CARGO_MANIFEST_DIR")
    )
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// Exactly one line on stderr, which contains every one of `parts`; nothing of the
/// parser's internals (serde's type names, "EOF while parsing a value").
fn assert_one_line(o: &Output, code: i32, parts: &[&str]) {
    let err = stderr(o);
    assert_eq!(o.status.code(), Some(code), "{err}");
    assert_eq!(err.lines().count(), 1, "one line expected:\n{err}");
    for p in parts {
        assert!(err.contains(p), "{p:?} missing in {err}");
    }
    for internal in [
        "expected struct",
        "Output",
        "EOF while parsing a value at line",
    ] {
        assert!(!err.contains(internal), "internal {internal:?} in {err}");
    }
}

#[test]
fn audit_of_a_number_says_what_it_expected() {
    let dir = Scratch::new("user-errors", "six");
    let six = dir.file("services.json", "6");
    let out = run(&["audit", "--describe-services", &six], "");
    assert_one_line(
        &out,
        1,
        &[
            &six,
            "a number (6)",
            "aws ecs describe-services",
            "\"services\"",
        ],
    );
    assert!(out.stdout.is_empty());
}

#[test]
fn audit_of_an_empty_file_or_stdin_is_an_error_not_a_pass() {
    let dir = Scratch::new("user-errors", "empty");
    let empty = dir.file("services.json", "");
    assert_one_line(
        &run(&["audit", "--describe-services", &empty], ""),
        1,
        &[&empty, "empty", "aws ecs describe-services"],
    );
    assert_one_line(
        &run(&["audit", "--describe-services", "-"], "\n"),
        1,
        &["-: empty"],
    );
}

#[test]
fn audit_of_an_eventbridge_event_points_to_replay() {
    let event = sample("deployment-state-change-in-progress");
    let out = run(&["audit", "--describe-services", &event], "");
    assert_one_line(
        &out,
        1,
        &[
            "an EventBridge event (\"ECS Deployment State Change\")",
            &format!("rollout-watcher replay {event}"),
        ],
    );
    assert!(
        String::from_utf8_lossy(&out.stdout).is_empty(),
        "no \"0 services\" report"
    );
}

#[test]
fn audit_of_an_empty_services_list_never_passes() {
    for nothing in [r#"{"services":[],"failures":[]}"#, "[]"] {
        let out = run(&["audit", "--describe-services", "-"], nothing);
        assert_one_line(
            &out,
            1,
            &["no service in it", "a gate never passes on nothing"],
        );
    }
}

#[test]
fn audit_of_another_object_lists_its_keys() {
    let out = run(
        &["audit", "--describe-services", "-"],
        r#"{"serviceArns":["arn:aws:ecs:eu-west-1:1:service/prod/web"]}"#,
    );
    assert_one_line(&out, 1, &["no \"services\" key (it has: serviceArns)"]);
}

#[test]
fn audit_names_a_wrong_field_by_its_path() {
    let out = run(
        &["audit", "--describe-services", "-"],
        r#"{"services":[{"serviceName":"web","desiredCount":"one"}],"failures":[]}"#,
    );
    assert_one_line(
        &out,
        1,
        &["-: services[0].desiredCount: a string (\"one\"), expected a whole number"],
    );
}

#[test]
fn audit_of_cut_json_says_where_it_ends() {
    let dir = Scratch::new("user-errors", "cut");
    let cut = dir.file(
        "services.json",
        "{\"services\": [\n  {\"serviceName\": \"web\"",
    );
    assert_one_line(
        &run(&["audit", "--describe-services", &cut], ""),
        1,
        &[&format!("{cut}: line 2 column"), "the JSON ends early"],
    );
    let bad = dir.file("bad.json", "{\"services\": nope}");
    assert_one_line(
        &run(&["audit", "--describe-services", &bad], ""),
        1,
        &[&format!("{bad}: line 1 column"), "not JSON"],
    );
}

#[test]
fn audit_of_a_missing_file_names_it() {
    let out = run(
        &["audit", "--describe-services", "no-such-services.json"],
        "",
    );
    assert_one_line(&out, 1, &["no-such-services.json: cannot read"]);
}

/// The live audit with nothing configured, as on a laptop that never ran `aws
/// configure` (IMDS disabled so the chain fails at once, as it does off EC2 after
/// its time-outs).
fn audit_without_aws(home: &Path, env: &[(&str, &str)], extra: &[&str]) -> Output {
    let mut cmd = Command::new(BIN);
    cmd.args(["audit", "--cluster", "prod"])
        .args(extra)
        .env_clear()
        .env("HOME", home)
        .env("AWS_EC2_METADATA_DISABLED", "true")
        .env("AWS_CONFIG_FILE", home.join("config"))
        .env("AWS_SHARED_CREDENTIALS_FILE", home.join("credentials"));
    for (k, v) in env {
        cmd.env(k, v);
    }
    cmd.output().unwrap()
}

#[test]
fn live_audit_without_a_region_says_which_variable_to_set() {
    let home = Scratch::new("user-errors", "no-region");
    let out = audit_without_aws(&home.0, &[], &[]);
    assert_one_line(&out, 1, &["no AWS region: set AWS_REGION", "AWS_PROFILE"]);
}

#[test]
fn live_audit_without_credentials_hints_at_aws_profile_and_hides_the_chain() {
    let home = Scratch::new("user-errors", "no-credentials");
    let out = audit_without_aws(&home.0, &[("AWS_REGION", "eu-west-1")], &[]);
    assert_one_line(
        &out,
        1,
        &[
            "no AWS credentials: set AWS_PROFILE",
            "AWS_ACCESS_KEY_ID",
            "--verbose",
        ],
    );
    assert!(
        !stderr(&out).contains("Ec2InstanceMetadata"),
        "{}",
        stderr(&out)
    );

    let verbose = audit_without_aws(&home.0, &[("AWS_REGION", "eu-west-1")], &["--verbose"]);
    let err = stderr(&verbose);
    assert_eq!(verbose.status.code(), Some(1));
    assert!(
        err.starts_with("rollout-watcher audit: no AWS credentials"),
        "{err}"
    );
    assert!(err.contains("Ec2InstanceMetadata"), "the chain: {err}");
}

#[test]
fn live_audit_of_an_unreachable_endpoint_says_what_to_check() {
    let home = Scratch::new("user-errors", "unreachable");
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let endpoint = format!("http://127.0.0.1:{port}");
    let out = audit_without_aws(
        &home.0,
        &[
            ("AWS_REGION", "eu-west-1"),
            ("AWS_ACCESS_KEY_ID", "testing"),
            ("AWS_SECRET_ACCESS_KEY", "testing"),
            ("AWS_ENDPOINT_URL", &endpoint),
        ],
        &[],
    );
    assert_one_line(
        &out,
        1,
        &[
            "ListServices on cluster prod: dispatch failure: could not reach ECS at",
            &endpoint,
            "AWS_ENDPOINT_URL",
        ],
    );
}

#[test]
fn replay_of_an_empty_file_says_it_read_no_events() {
    let dir = Scratch::new("user-errors", "replay-empty");
    let empty = dir.file("events.json", "\n\n");
    let out = run(&["replay", &empty], "");
    assert_one_line(&out, 1, &[&empty, "no events in it", "JSON Lines"]);
    assert!(out.stdout.is_empty());
    assert_one_line(&run(&["replay"], ""), 1, &["-: no events in it"]);
}

#[test]
fn replay_of_garbage_never_claims_valid_events_were_processed() {
    let dir = Scratch::new("user-errors", "replay-garbage");
    let garbage = dir.file("events.json", "hello\nworld\n");
    let out = run(&["replay", &garbage], "");
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(1), "{err}");
    let lines: Vec<&str> = err.lines().collect();
    assert_eq!(
        lines,
        [
            format!("{garbage}:1: not JSON: expected value at column 1").as_str(),
            format!("{garbage}:2: not JSON: expected value at column 1").as_str(),
            "rollout-watcher replay: 2 bad line(s) skipped; no valid event was read (expected \
             EventBridge ECS events: JSON Lines, a JSON array, or objects one after another)",
        ]
    );
    assert!(!err.contains("all valid events were processed"));
}

#[test]
fn replay_counts_the_valid_events_beside_bad_lines() {
    let good = std::fs::read_to_string(sample("deployment-state-change-in-progress")).unwrap();
    let good: serde_json::Value = serde_json::from_str(&good).unwrap();
    let out = run(&["replay"], &format!("{good}\n{{\"cut\":\n"));
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(1));
    assert!(err.contains("-:2: not JSON: cut short"), "{err}");
    assert!(
        err.contains("1 bad line(s) skipped; the 1 valid event(s) were processed"),
        "{err}"
    );
}

#[test]
fn replay_of_events_it_does_not_follow_says_so() {
    let steady = sample("service-action-steady-state");
    let out = run(&["replay", &steady], "");
    let err = stderr(&out);
    assert_eq!(
        out.status.code(),
        Some(0),
        "ignored events are not errors: {err}"
    );
    assert!(out.stdout.is_empty());
    assert_one_line(
        &out,
        0,
        &[
            "read 1 event(s), none of them one the watcher follows",
            "ECS Task State Change",
        ],
    );
}

#[test]
fn replay_refuses_a_now_before_the_last_event_as_a_usage_error() {
    let event = sample("deployment-state-change-in-progress");
    let out = run(&["replay", "--now", "2020-05-23T12:00:00Z", &event], "");
    assert_one_line(
        &out,
        64,
        &[
            "--now 2020-05-23T12:00:00Z: earlier than the last event (2020-05-23T12:31:14Z",
            &format!("{event}:1"),
            "give a time after it",
        ],
    );
    assert!(out.stdout.is_empty(), "refused before printing anything");

    let after = run(&["replay", "--now", "2020-05-23T13:00:00Z", &event], "");
    assert_eq!(after.status.code(), Some(0), "{}", stderr(&after));
}

#[test]
fn replay_refuses_unreadable_arguments_as_usage_errors() {
    assert_one_line(
        &run(&["replay", "--now", "yesterday"], ""),
        64,
        &[
            "--now \"yesterday\": not an RFC 3339 time",
            "2026-03-02T10:30:00Z",
        ],
    );
    assert_one_line(
        &run(&["replay", "--stall-after", "soon"], ""),
        64,
        &["--stall-after \"soon\": not a duration", "15m"],
    );
    assert_one_line(
        &run(&["replay", "--zero-grace=-3s"], ""),
        64,
        &["--zero-grace \"-3s\": not a duration"],
    );
}

#[test]
fn replay_of_a_missing_file_names_it_and_the_cause_in_one_line() {
    let out = run(&["replay", "no-such-events.json"], "");
    assert_one_line(
        &out,
        1,
        &["reading no-such-events.json: No such file or directory"],
    );
}

#[test]
fn replay_says_how_many_events_came_too_late_to_be_applied() {
    // given a rollout's start, then another rollout's start three days earlier
    // (files given out of time order, or a dead-letter queue redriven late)
    let text = std::fs::read_to_string(sample("deployment-state-change-in-progress")).unwrap();
    let mut old: serde_json::Value = serde_json::from_str(&text).unwrap();
    let new = old.clone();
    old["detail"]["deploymentId"] = serde_json::json!("ecs-svc/1111111111111111111");
    old["id"] = serde_json::json!("11111111-2222-3333-4444-555555555555");
    old["time"] = serde_json::json!("2020-05-20T12:31:14Z");
    old["detail"]["updatedAt"] = serde_json::json!("2020-05-20T12:31:14Z");
    let out = run(&["replay", "--format", "json"], &format!("{new}\n{old}\n"));

    // then the late one is not applied, and stderr says so rather than nothing
    assert_one_line(
        &out,
        0,
        &[
            "1 event(s) not applied",
            "more than 54 h behind",
            "time order",
        ],
    );
    let stdout = String::from_utf8(out.stdout).unwrap();
    assert!(!stdout.contains("ecs-svc/1111111111111111111"), "{stdout}");
    assert_eq!(
        stdout.matches("\"deployment_started\"").count(),
        1,
        "{stdout}"
    );
}

/// `replay --describe-services` reads the same JSON as `audit`, and a bad one is
/// named the same way: the field by its path, cut JSON by its line; a field only
/// replay reads (the bake time) by its line and column. Nothing is replayed then:
/// the settings would be wrong for every event.
#[test]
fn replay_names_the_field_or_line_of_bad_describe_services() {
    let dir = Scratch::new("user-errors", "replay-describe");
    let events = sample("deployment-state-change-in-progress");
    let wrong = dir.file(
        "wrong.json",
        r#"{"services":[{"serviceName":"web","serviceArn":"arn:aws:ecs:us-west-2:111122223333:service/default/servicetest","desiredCount":1},{"serviceName":"api","desiredCount":"one"}],"failures":[]}"#,
    );
    let out = run(&["replay", "--describe-services", &wrong, &events], "");
    assert_one_line(
        &out,
        1,
        &[&format!(
            "--describe-services {wrong}: services[1].desiredCount: a string (\"one\"), expected a whole number"
        )],
    );
    assert!(out.stdout.is_empty());
    let cut = dir.file("cut.json", "{\"services\": [\n  {\"serviceName\": \"web\"");
    assert_one_line(
        &run(&["replay", "--describe-services", &cut, &events], ""),
        1,
        &[
            &format!("--describe-services {cut}: line 2 column"),
            "the JSON ends early",
        ],
    );
    let bake = dir.file(
        "bake.json",
        "{\"services\": [{\"serviceName\": \"web\",\n \"deploymentConfiguration\": {\"bakeTimeInMinutes\": \"15\"}}]}",
    );
    assert_one_line(
        &run(&["replay", "--describe-services", &bake, &events], ""),
        1,
        &[
            &format!("--describe-services {bake}: not describe-services JSON"),
            "at line 2 column",
        ],
    );
}

/// An events file given where the settings go (`replay --describe-services
/// events.json events.json`, or `audit --describe-services` on what `simulate`
/// writes) is refused as events, pointing to `replay`: replay took a single event
/// for settings that describe no service and went on without them (no unsafe-config
/// check, neutral step texts, exit 0), and JSON Lines read as "not JSON (trailing
/// characters)" although every line was JSON.
#[test]
fn events_given_as_describe_services_are_refused_as_events() {
    let dir = Scratch::new("user-errors", "events-as-services");
    let event = sample("deployment-state-change-in-progress");
    let one: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&event).unwrap()).unwrap();
    let lines = dir.file("events.jsonl", &format!("{one}\n{one}\n"));
    let array = dir.file("events.json", &format!("[{one}, {one}]"));
    for file in [&event, &lines, &array] {
        let says = [
            format!("{file}: "),
            "EventBridge event".to_owned(),
            "not describe-services output".to_owned(),
            format!("`rollout-watcher replay {file}` reads events"),
        ];
        let says: Vec<&str> = says.iter().map(String::as_str).collect();
        let out = run(&["replay", "--describe-services", file, &event], "");
        assert_one_line(&out, 1, &says);
        assert!(
            out.stdout.is_empty(),
            "nothing replayed without the settings"
        );
        assert_one_line(&run(&["audit", "--describe-services", file], ""), 1, &says);
    }
}

/// Files saved "UTF-8 with BOM" (Windows editors, PowerShell's `-Encoding utf8`)
/// are read whole: the first event is replayed and the settings are used, where the
/// mark made the first event a bad line and the describe-services file "not JSON".
#[test]
fn replay_reads_files_saved_with_a_byte_order_mark() {
    let dir = Scratch::new("user-errors", "bom");
    let event = std::fs::read_to_string(sample("deployment-state-change-in-progress")).unwrap();
    let event: serde_json::Value = serde_json::from_str(&event).unwrap();
    let events = dir.file("events.jsonl", &format!("\u{feff}{event}\n"));
    let services = dir.file(
        "services.json",
        "\u{feff}{\"services\":[{\"serviceName\":\"servicetest\",\"serviceArn\":\"arn:aws:ecs:us-west-2:111122223333:service/default/servicetest\",\"desiredCount\":1,\"deploymentConfiguration\":{\"minimumHealthyPercent\":0,\"maximumPercent\":100}}],\"failures\":[]}",
    );
    let out = run(
        &[
            "replay",
            "--format",
            "json",
            "--describe-services",
            &services,
            &events,
        ],
        "",
    );
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let stdout = String::from_utf8(out.stdout).unwrap();
    assert!(stdout.contains("\"deployment_started\""), "{stdout}");
    assert!(stdout.contains("\"unsafe_deployment_config\""), "{stdout}");
}

/// `--describe-services -` reads the settings from stdin, as `audit` does (`aws ecs
/// describe-services ... | rollout-watcher replay --describe-services - events.json`);
/// when stdin carries the events as well, it is a usage error naming the flag.
#[test]
fn replay_reads_describe_services_from_stdin_when_the_events_are_in_files() {
    let services = "{\"services\":[{\"serviceName\":\"servicetest\",\"serviceArn\":\"arn:aws:ecs:us-west-2:111122223333:service/default/servicetest\",\"desiredCount\":1,\"deploymentConfiguration\":{\"minimumHealthyPercent\":0,\"maximumPercent\":100}}],\"failures\":[]}";
    let events = sample("deployment-state-change-in-progress");
    let out = run(
        &[
            "replay",
            "--format",
            "json",
            "--describe-services",
            "-",
            &events,
        ],
        services,
    );
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let stdout = String::from_utf8(out.stdout).unwrap();
    assert!(stdout.contains("\"unsafe_deployment_config\""), "{stdout}");
    assert_one_line(
        &run(&["replay", "--describe-services", "-"], services),
        64,
        &["--describe-services -: stdin carries the events"],
    );
}
