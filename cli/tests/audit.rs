//! `rollout-watcher audit --describe-services FILE`, offline: the binary run on
//! `aws ecs describe-services` output for each setting our users run into, checked
//! for the arithmetic they would do by hand, the verdict, and the exit code a CI
//! pipeline gates on.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::io::Write;
use std::process::{Command, Output, Stdio};

use serde_json::Value;

fn fixture(name: &str) -> String {
    format!("{}/tests/fixtures/audit/{name}", env!("CARGO_MANIFEST_DIR"))
}

fn audit(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_rollout-watcher"))
        .arg("audit")
        .args(args)
        .output()
        .unwrap()
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// The seed's setting (`desired_count = 1`, 100 %, 200 %, breaker with rollback):
/// shown as the seed's own math, and safe.
#[test]
fn the_single_task_setting_users_run_is_safe() {
    let out = audit(&["--describe-services", &fixture("safe-single-task.json")]);

    let text = stdout(&out);
    assert_eq!(out.status.code(), Some(0), "{text}{}", stderr(&out));
    assert!(text.starts_with("prod/checkout-api: SAFE\n"), "{text}");
    for line in [
        "  Maximum tasks during deployment: 1 × 200% = 2 tasks (rounded down)",
        "  Minimum healthy tasks: 1 × 100% = 1 task (rounded up)",
        "  circuit breaker: on, fails a rollout after 3 failed tasks (clamp(ceil(0.5 × 1), 3, 200))",
        "  rollback: on",
        "  health-check grace period: 60 s",
        "  verdict: safe: a task keeps serving throughout a rollout (floor 1 ≥ 1), ECS can start a new task before stopping an old one (ceiling 2 > desired 1), and a bad rollout fails and rolls back",
    ] {
        assert!(
            text.lines().any(|l| l == line),
            "missing {line:?} in\n{text}"
        );
    }
    assert!(text.ends_with("1 service: 1 safe, 0 risky, 0 unsafe, 0 unknown\n"));
}

/// `minimumHealthyPercent = 0`: ECS may stop the only task before its replacement is
/// healthy. Unsafe, exit 2, with the fix.
#[test]
fn min_zero_can_stop_the_last_task_and_fails_the_gate() {
    let out = audit(&["--describe-services", &fixture("min-zero.json")]);

    let text = stdout(&out);
    assert_eq!(out.status.code(), Some(2), "{text}");
    assert!(text.contains("prod/legacy-api: UNSAFE"));
    assert!(text.contains("  Minimum healthy tasks: 1 × 0% = 0 tasks (rounded up)"));
    assert!(text.contains(
        "verdict: unsafe: floor is 0 with desired 1: ECS may stop the last serving task"
    ));
    assert!(text.contains(
        "  fix: raise minimumHealthyPercent so that desired × min% ≥ 1 task (100 for a single task)"
    ));
}

/// `maximumPercent = 100` with `minimumHealthyPercent = 100`: ECS can neither start
/// a new task nor stop the old one, so every rollout stalls. Unsafe, exit 2.
#[test]
fn max_100_with_min_100_stalls_every_rollout() {
    let out = audit(&[
        "--describe-services",
        &fixture("stuck-max-100-min-100.json"),
    ]);

    let text = stdout(&out);
    assert_eq!(out.status.code(), Some(2), "{text}");
    assert!(text.contains("  Maximum tasks during deployment: 1 × 100% = 1 task (rounded down)"));
    assert!(text.contains("ECS can neither start a new task nor stop an old one (rollouts stall)"));
    assert!(text.contains("  health-check grace period: none\n"));
}

/// No circuit breaker keeps a task serving but never fails a bad image: risky, shown
/// with its fix, and not a gate failure.
#[test]
fn no_circuit_breaker_is_risky_but_passes_the_gate() {
    let out = audit(&["--describe-services", &fixture("no-breaker.json")]);

    let text = stdout(&out);
    assert_eq!(out.status.code(), Some(0), "{text}");
    assert!(text.contains("prod/search-api: RISKY"));
    assert!(text.contains("  Maximum tasks during deployment: 2 × 200% = 4 tasks (rounded down)"));
    assert!(text.contains("  circuit breaker: off\n  rollback: off\n"));
    assert!(text.contains("  health-check grace period: none (load balanced: ELB health checks count from the task's first second)"));
    assert!(text.contains("  fix: enable deploymentCircuitBreaker with rollback = true"));
}

/// A DAEMON service runs one task per instance: the rolling rules do not apply, even
/// with `minimumHealthyPercent = 0`, and the audit says so instead of judging.
#[test]
fn daemon_services_are_not_judged_by_rolling_rules() {
    let out = audit(&["--describe-services", &fixture("daemon.json")]);

    let text = stdout(&out);
    assert_eq!(out.status.code(), Some(0), "{text}");
    assert!(text.contains("prod/log-router: UNKNOWN"));
    assert!(text.contains("verdict: unknown: not a REPLICA service on the ECS rolling controller"));
    assert!(
        !text.contains("Minimum healthy tasks"),
        "no arithmetic that does not apply"
    );
}

/// For machines: one object per service, the same stable fields for each; services
/// ECS could not describe go to stderr; any unsafe service makes the exit code 2.
#[test]
fn json_has_one_object_per_service_with_stable_fields() {
    let out = audit(&[
        "--describe-services",
        &fixture("cluster-prod.json"),
        "--format",
        "json",
    ]);

    assert_eq!(out.status.code(), Some(2));
    let lines: Vec<Value> = stdout(&out)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let names: Vec<&str> = lines
        .iter()
        .map(|l| l["service"].as_str().unwrap())
        .collect();
    assert_eq!(
        names,
        [
            "billing-worker",
            "checkout-api",
            "legacy-api",
            "log-router",
            "search-api"
        ]
    );
    let fields = [
        "cluster",
        "service",
        "service_arn",
        "verdict",
        "reasons",
        "fixes",
        "findings",
        "desired",
        "min_healthy_percent",
        "max_percent",
        "floor",
        "ceiling",
        "circuit_breaker",
        "rollback",
        "threshold",
        "threshold_configured",
        "health_check_grace_s",
        "load_balanced",
        "scheduling_strategy",
        "deployment_controller",
        "strategy",
        "assumed_defaults",
        "explanation",
    ];
    for l in &lines {
        let keys: Vec<&str> = l.as_object().unwrap().keys().map(String::as_str).collect();
        assert_eq!(keys.len(), fields.len(), "{keys:?}");
        assert!(fields.iter().all(|f| keys.contains(f)), "{keys:?}");
    }
    let checkout = &lines[1];
    assert_eq!(checkout["verdict"], "safe");
    assert_eq!(
        (checkout["floor"].as_u64(), checkout["ceiling"].as_u64()),
        (Some(1), Some(2))
    );
    assert_eq!(checkout["threshold"], 3);
    assert_eq!(checkout["health_check_grace_s"], 60);
    assert_eq!(
        checkout["service_arn"],
        "arn:aws:ecs:eu-west-1:123456789012:service/prod/checkout-api"
    );
    let legacy = &lines[2];
    assert_eq!(legacy["verdict"], "unsafe");
    assert_eq!(legacy["findings"], serde_json::json!(["downtime_possible"]));
    assert_eq!(lines[0]["findings"], serde_json::json!(["cannot_progress"]));
    assert_eq!(lines[3]["verdict"], "unknown");
    assert_eq!(
        lines[4]["findings"],
        serde_json::json!(["no_circuit_breaker"])
    );
    assert!(stderr(&out).contains(
        "not audited: arn:aws:ecs:eu-west-1:123456789012:service/prod/ghost-api: MISSING"
    ));
}

/// A service that could not be described leaves the audit incomplete: exit 1 when
/// nothing else is unsafe, so a gate never passes on a partial answer.
#[test]
fn a_missing_service_alone_exits_1() {
    let text = r#"{"services": [], "failures": [{"arn": "arn:aws:ecs:eu-west-1:123456789012:service/prod/ghost-api", "reason": "MISSING"}]}"#;
    let mut child = Command::new(env!("CARGO_BIN_EXE_rollout-watcher"))
        .args(["audit", "--describe-services", "-"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(text.as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();

    assert_eq!(out.status.code(), Some(1));
    assert!(stdout(&out).contains(
        "not audited: arn:aws:ecs:eu-west-1:123456789012:service/prod/ghost-api: MISSING"
    ));
}

/// Errors exit 1 (2 is kept for "unsafe") with a message that says what and where.
#[test]
fn errors_exit_1_with_a_clear_message() {
    let out = audit(&["--describe-services", "/nonexistent/services.json"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr(&out).starts_with(
            "rollout-watcher audit: /nonexistent/services.json: cannot read: No such file"
        ),
        "{}",
        stderr(&out)
    );

    let dir = std::env::temp_dir().join(format!("audit-bad-{}.json", std::process::id()));
    std::fs::write(
        &dir,
        r#"{"services": [{"serviceName": "a", "desiredCount": "one"}]}"#,
    )
    .unwrap();
    let out = audit(&["--describe-services", dir.to_str().unwrap()]);
    let _ = std::fs::remove_file(&dir);
    assert_eq!(out.status.code(), Some(1));
    let message = stderr(&out);
    assert!(
        message.contains(
            ".json: services[0].desiredCount: a string (\"one\"), expected a whole number from 0 to 4294967295"
        ),
        "{message}"
    );
}

/// Blue/green, linear and canary are judged by their own rules: ECS brings the new
/// revision up beside the old, so maximum 100 % stalls nothing there; a bake time of
/// 0 leaves no window to move traffic back, and a PAUSE hook that continues on its
/// own promotes unattended. Both are risky, neither fails the gate.
#[test]
fn native_strategies_are_judged_by_their_own_rules() {
    let out = audit(&["--describe-services", &fixture("native-strategies.json")]);
    let text = stdout(&out);
    assert_eq!(out.status.code(), Some(0), "{text}{}", stderr(&out));
    assert!(text.starts_with("prod/checkout-api: SAFE\n"), "{text}");
    for line in [
        "  Strategy BLUE_GREEN: ECS brings the new revision up to the desired count (1 task) beside the old one before moving production traffic; the rolling floor and ceiling do not apply",
        "  bake time 15 min: the old revision stays ready to take traffic back for that long after the shift",
        "prod/search: RISKY",
        "  10% of traffic first (canary), then the rest, 5 min of bake after each step; bake time 0 s: the old revision stays ready to take traffic back for that long after the shift",
    ] {
        assert!(
            text.lines().any(|l| l == line),
            "missing {line:?} in\n{text}"
        );
    }
    for words in [
        "bake time 0: the old revision is torn down as soon as production traffic moved",
        "a PAUSE hook at POST_SCALE_UP continues when it times out (timeout action CONTINUE)",
        "set deploymentConfiguration.bakeTimeInMinutes",
        "set the PAUSE hook's timeoutConfiguration action to ROLLBACK",
    ] {
        assert!(text.contains(words), "missing {words:?} in\n{text}");
    }
    assert!(!text.contains("rollouts stall"), "{text}");

    let json = audit(&[
        "--describe-services",
        &fixture("native-strategies.json"),
        "--format",
        "json",
    ]);
    let services: Vec<Value> = stdout(&json)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(services[0]["strategy"], "BLUE_GREEN");
    assert_eq!(services[1]["strategy"], "CANARY");
    assert_eq!(services[1]["verdict"], "risky");
    assert_eq!(
        services[1]["findings"],
        serde_json::json!(["no_bake_time", "pause_continues_unattended"])
    );
}
