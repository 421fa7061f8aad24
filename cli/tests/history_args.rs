//! `rollout-watcher history`'s bad input: one line naming the flag, exit 64, before
//! any AWS call (the endpoint points nowhere reachable on purpose). The reads
//! themselves are tested against the emulator in tests/tests/history.rs, with items
//! the real handler wrote.

#![allow(clippy::unwrap_used)]

use std::process::Command;

fn history(args: &[&str]) -> (Option<i32>, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_rollout-watcher"))
        .arg("history")
        .args(args)
        .env("AWS_ENDPOINT_URL", "http://127.0.0.1:9")
        .env("AWS_ACCESS_KEY_ID", "testing")
        .env("AWS_SECRET_ACCESS_KEY", "testing")
        .env("AWS_REGION", "eu-west-1")
        .env("AWS_EC2_METADATA_DISABLED", "true")
        .output()
        .unwrap();
    (
        out.status.code(),
        String::from_utf8_lossy(&out.stderr).trim_end().to_owned(),
    )
}

#[test]
fn a_malformed_since_or_service_is_a_usage_error_naming_the_flag() {
    assert_eq!(
        history(&["--table", "t", "--since", "last week"]),
        (Some(64), "rollout-watcher history: --since: not a span (30d, 12h, 90m) or an RFC 3339 time: \"last week\"".to_owned())
    );
    assert_eq!(
        history(&["--table", "t", "--service", "arn:aws:ecs:eu-west-1:1:cluster/demo"]),
        (Some(64), "rollout-watcher history: --service: not an ECS service ARN: \"arn:aws:ecs:eu-west-1:1:cluster/demo\"".to_owned())
    );
    // A pre-2021 service's short ARN names no cluster: the error says what to give.
    let (code, stderr) = history(&[
        "--table",
        "t",
        "--service",
        "arn:aws:ecs:eu-west-1:1:service/legacy-api",
    ]);
    assert_eq!(code, Some(64));
    assert!(
        stderr.contains("--service")
            && stderr.contains("short service ARN")
            && stderr.contains("service's name"),
        "{stderr}"
    );
    // A negative span reaches the check that names the flag (clap took "-3d" for a
    // flag of its own).
    assert_eq!(
        history(&["--table", "t", "--since", "-3d"]),
        (Some(64), "rollout-watcher history: --since: not a span (30d, 12h, 90m) or an RFC 3339 time: \"-3d\"".to_owned())
    );
    let (code, stderr) = history(&["--since", "30d"]);
    assert_eq!(code, Some(64));
    assert!(stderr.contains("--table"), "{stderr}");
}

/// An unreachable table is exit 1, one line naming `--table` and the call.
#[test]
fn an_unreachable_table_is_exit_1_naming_the_table() {
    let (code, stderr) = history(&[
        "--table",
        "rollout-watcher-state",
        "--service",
        "arn:aws:ecs:eu-west-1:123456789012:service/demo/web",
    ]);
    assert_eq!(code, Some(1), "{stderr}");
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    assert!(
        stderr.starts_with(
            "rollout-watcher history: --table rollout-watcher-state: state table: Query failed"
        ),
        "{stderr}"
    );
}

/// An absurd span is a usage error naming `--since`, not a crash (the days were
/// multiplied out unchecked: a panic, or in a release build a window wrapped to
/// some other time).
#[test]
fn an_absurd_since_is_a_usage_error_not_a_crash() {
    assert_eq!(
        history(&["--table", "t", "--since", "99999999999999999d"]),
        (Some(64), "rollout-watcher history: --since: not a span (30d, 12h, 90m) or an RFC 3339 time: \"99999999999999999d\"".to_owned())
    );
}

/// A window the table cannot answer is a usage error naming `--since`, before any
/// AWS call: a start in the future (nothing could be listed), or more than ten years
/// back (the index is read a month at a time, and a century-long window used to lose
/// its newest months, the current one included, without a word).
#[test]
fn a_window_in_the_future_or_a_century_long_is_a_usage_error() {
    let (code, stderr) = history(&["--table", "t", "--since", "2999-01-01T00:00:00Z"]);
    assert_eq!(code, Some(64), "{stderr}");
    assert!(
        stderr.starts_with("rollout-watcher history: --since: after now (")
            && stderr.ends_with("\"2999-01-01T00:00:00Z\""),
        "{stderr}"
    );
    assert_eq!(
        history(&["--table", "t", "--since", "36500d"]),
        (
            Some(64),
            "rollout-watcher history: --since: at most 3650d (ten years) back: \"36500d\""
                .to_owned()
        )
    );
    let (code, stderr) = history(&["--table", "t", "--since", "1900-01-01T00:00:00Z"]);
    assert_eq!(code, Some(64), "{stderr}");
    assert!(
        stderr.contains("at most 3650d (ten years) back"),
        "{stderr}"
    );
}

/// Without a region, or without credentials, one line says what to set (exit 1),
/// as for `wait` and `audit`; not the SDK's dispatch failure with its whole
/// provider chain over several lines.
#[test]
fn no_region_or_no_credentials_is_one_line_saying_what_to_set() {
    let bare = |region: bool| {
        let mut c = Command::new(env!("CARGO_BIN_EXE_rollout-watcher"));
        c.args(["history", "--table", "t"])
            .env_clear()
            .env("HOME", "/nonexistent")
            .env("AWS_CONFIG_FILE", "/nonexistent/config")
            .env("AWS_SHARED_CREDENTIALS_FILE", "/nonexistent/credentials")
            .env("AWS_EC2_METADATA_DISABLED", "true")
            .env("AWS_ENDPOINT_URL", "http://127.0.0.1:9");
        if region {
            c.env("AWS_REGION", "eu-west-1");
        } else {
            c.env("AWS_ACCESS_KEY_ID", "testing")
                .env("AWS_SECRET_ACCESS_KEY", "testing");
        }
        let out = c.output().unwrap();
        (
            out.status.code(),
            String::from_utf8_lossy(&out.stderr).trim_end().to_owned(),
        )
    };
    let (code, stderr) = bare(false);
    assert_eq!(
        (code, stderr.as_str()),
        (
            Some(1),
            "rollout-watcher history: no AWS region: set AWS_REGION, or a region in the AWS profile"
        )
    );
    let (code, stderr) = bare(true);
    assert_eq!(code, Some(1), "{stderr}");
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    assert!(
        stderr.starts_with("rollout-watcher history: no AWS credentials: set AWS_PROFILE"),
        "{stderr}"
    );
}
