//! `rollout-watcher wait`, the CI gate, end to end: the real binary, the real ECS
//! SDK client (default credential chain, `AWS_ENDPOINT_URL`), over loopback to a
//! local ECS endpoint that plays a scripted deployment (support/ecs_endpoint.rs:
//! moto does not progress deployments, so it cannot play one). Every exit code of
//! the contract is a scenario here.

#![allow(clippy::unwrap_used, clippy::expect_used)]

#[path = "support/ecs_endpoint.rs"]
mod ecs_endpoint;

use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use ecs_endpoint::{Phase, at, base, deployment, service, task};
use serde_json::{Value, json};

const D1: &str = "ecs-svc/1111111111111111111";
const D2: &str = "ecs-svc/2222222222222222222";
const D3: &str = "ecs-svc/3333333333333333333";

fn wait_cmd(endpoint: &str, args: &[&str]) -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_rollout-watcher"));
    c.arg("wait")
        .args(args)
        .env("AWS_ENDPOINT_URL", endpoint)
        .env("AWS_ACCESS_KEY_ID", "testing")
        .env("AWS_SECRET_ACCESS_KEY", "testing")
        .env("AWS_REGION", ecs_endpoint::REGION)
        .env("AWS_CONFIG_FILE", "/nonexistent/config")
        .env("AWS_SHARED_CREDENTIALS_FILE", "/nonexistent/credentials")
        .env("AWS_EC2_METADATA_DISABLED", "true")
        .env("NO_COLOR", "1")
        .env_remove("AWS_PROFILE")
        .env_remove("AWS_SESSION_TOKEN");
    c
}

fn wait(endpoint: &str, extra: &[&str]) -> Output {
    let mut args = vec![
        "--cluster",
        "demo",
        "--service",
        "web",
        "--interval",
        "100ms",
        "--timeout",
        "20s",
    ];
    args.extend_from_slice(extra);
    wait_cmd(endpoint, &args).output().unwrap()
}

fn text(o: &Output) -> (String, String) {
    (
        String::from_utf8_lossy(&o.stdout).into_owned(),
        String::from_utf8_lossy(&o.stderr).into_owned(),
    )
}

fn phase(service: Value, tasks: Vec<Value>) -> Phase {
    Phase {
        service: Some(service),
        tasks,
        ..Phase::default()
    }
}

/// The service with D2 as its one deployment (PRIMARY, in `state`, started at the
/// story's start `b` and updated `updated` seconds later), one task running.
fn d2_alone(b: f64, state: &str, updated: f64) -> Value {
    service(
        vec![deployment(
            D2,
            "PRIMARY",
            state,
            "",
            at(b, 0.0),
            at(b, updated),
        )],
        1,
    )
}

/// Asserts only read calls reached ECS: `wait` never changes a deployment.
fn only_reads(calls: &[String]) {
    for c in calls {
        assert!(
            c.starts_with("Describe") || c.starts_with("List"),
            "wait called {c}"
        );
    }
}

/// A rolling deployment: the new task starts, runs, the old one drains, ECS says
/// COMPLETED. The timeline is replay's, the verdict "completed", exit 0.
#[test]
fn a_rolling_deployment_that_completes_exits_0() {
    let b = base();
    let old = |desired: &str, last: &str, v| {
        task(
            "old1",
            D1,
            last,
            desired,
            v,
            &[("createdAt", at(b, -3600.0)), ("startedAt", at(b, -3590.0))],
        )
    };
    let new = |last: &str, v| {
        task(
            "new2",
            D2,
            last,
            "RUNNING",
            v,
            &[("createdAt", at(b, 2.0)), ("startedAt", at(b, 20.0))],
        )
    };
    let deps = |state: &str, updated: f64| {
        vec![
            deployment(D2, "PRIMARY", state, "", at(b, 0.0), at(b, updated)),
            deployment(
                D1,
                "ACTIVE",
                "COMPLETED",
                "",
                at(b, -3600.0),
                at(b, -3500.0),
            ),
        ]
    };
    let mut stopping = old("STOPPED", "RUNNING", 3);
    stopping["stoppingAt"] = at(b, 40.0);
    let mut stopped = old("STOPPED", "STOPPED", 4);
    stopped["stoppingAt"] = at(b, 40.0);
    stopped["stoppedAt"] = at(b, 50.0);
    stopped["stoppedReason"] = json!(format!("Scaling activity initiated by (deployment {D2})"));
    let endpoint = ecs_endpoint::start(vec![
        phase(
            service(deps("IN_PROGRESS", 0.0), 1),
            vec![
                old("RUNNING", "RUNNING", 2),
                task(
                    "new2",
                    D2,
                    "PENDING",
                    "RUNNING",
                    1,
                    &[("createdAt", at(b, 2.0))],
                ),
            ],
        ),
        phase(
            service(deps("IN_PROGRESS", 0.0), 2),
            vec![old("RUNNING", "RUNNING", 2), new("RUNNING", 2)],
        ),
        phase(
            service(deps("IN_PROGRESS", 0.0), 2),
            vec![stopping, new("RUNNING", 2)],
        ),
        phase(
            service(deps("COMPLETED", 55.0), 1),
            vec![stopped, new("RUNNING", 2)],
        ),
    ]);
    let out = wait(&endpoint.url, &[]);
    let (stdout, stderr) = text(&out);
    assert_eq!(out.status.code(), Some(0), "{stdout}{stderr}");
    assert!(
        stdout.contains(&format!("web (demo) · deployment {D2}")),
        "{stdout}"
    );
    for step in [
        "deployment started",
        "new task RUNNING",
        "old task(s) stopping",
        "completed",
    ] {
        assert!(stdout.contains(step), "{step:?} missing in:\n{stdout}");
    }
    assert!(
        stdout.contains("verdict: completed in 55 s, downtime 0 s (exit 0)"),
        "{stdout}"
    );
    only_reads(&endpoint.calls.lock().unwrap());
}

/// The circuit breaker fails the deployment and ECS rolls back to the last one:
/// `rolled_back`, exit 2, with the health-check failures on the way.
#[test]
fn a_deployment_that_fails_and_rolls_back_exits_2() {
    let b = base();
    let failed = task(
        "new2",
        D2,
        "STOPPED",
        "STOPPED",
        3,
        &[
            ("createdAt", at(b, 2.0)),
            ("startedAt", at(b, 20.0)),
            ("stoppingAt", at(b, 50.0)),
            ("stoppedAt", at(b, 55.0)),
            ("stopCode", json!("ServiceSchedulerInitiated")),
            (
                "stoppedReason",
                json!(
                    "Task failed ELB health checks in (target-group arn:aws:elasticloadbalancing:eu-west-1:123456789012:targetgroup/web/0123456789abcdef)"
                ),
            ),
        ],
    );
    let old = task(
        "old1",
        D1,
        "RUNNING",
        "RUNNING",
        2,
        &[("createdAt", at(b, -3600.0)), ("startedAt", at(b, -3590.0))],
    );
    let endpoint = ecs_endpoint::start(vec![
        phase(
            service(
                vec![
                    deployment(D2, "PRIMARY", "IN_PROGRESS", "", at(b, 0.0), at(b, 0.0)),
                    deployment(
                        D1,
                        "ACTIVE",
                        "COMPLETED",
                        "",
                        at(b, -3600.0),
                        at(b, -3500.0),
                    ),
                ],
                1,
            ),
            vec![old.clone(), failed.clone()],
        ),
        phase(
            service(
                vec![
                    deployment(
                        D3,
                        "PRIMARY",
                        "IN_PROGRESS",
                        &format!(
                            "ECS deployment circuit breaker: rolling back to deploymentId {D1}."
                        ),
                        at(b, 58.0),
                        at(b, 58.0),
                    ),
                    deployment(
                        D2,
                        "ACTIVE",
                        "FAILED",
                        "ECS deployment circuit breaker: tasks failed to start.",
                        at(b, 0.0),
                        at(b, 57.0),
                    ),
                ],
                1,
            ),
            vec![old, failed],
        ),
    ]);
    let out = wait(&endpoint.url, &[]);
    let (stdout, stderr) = text(&out);
    assert_eq!(out.status.code(), Some(2), "{stdout}{stderr}");
    assert!(stdout.contains("health_check_failed"), "{stdout}");
    assert!(
        stdout.contains("verdict: rolled back after 1 health-check failure(s)"),
        "{stdout}"
    );
}

/// A deployment that never finishes: at --timeout the gate says "still in
/// progress", exit 3, having polled until then.
#[test]
fn a_deployment_that_hangs_past_the_timeout_exits_3() {
    let b = base();
    let endpoint = ecs_endpoint::start(vec![phase(
        service(
            vec![deployment(
                D2,
                "PRIMARY",
                "IN_PROGRESS",
                "",
                at(b, 0.0),
                at(b, 0.0),
            )],
            0,
        ),
        vec![task(
            "new2",
            D2,
            "PENDING",
            "RUNNING",
            1,
            &[("createdAt", at(b, 2.0))],
        )],
    )]);
    let started = Instant::now();
    let mut cmd = wait_cmd(
        &endpoint.url,
        &[
            "--cluster",
            "demo",
            "--service",
            "web",
            "--interval",
            "100ms",
            "--timeout",
            "1s",
        ],
    );
    let out = cmd.output().unwrap();
    let (stdout, stderr) = text(&out);
    assert_eq!(out.status.code(), Some(3), "{stdout}{stderr}");
    assert!(started.elapsed() >= Duration::from_secs(1));
    assert!(
        stdout.contains("verdict: --timeout passed: in progress (started)"),
        "{stdout}"
    );
    let polls = endpoint
        .calls
        .lock()
        .unwrap()
        .iter()
        .filter(|c| *c == "DescribeServices")
        .count();
    assert!(polls >= 3, "polled {polls} times in a second at 100 ms");
}

/// Someone deploys again before the first deployment finished: superseded, exit 4
/// (not a failure, but not this build's deployment either).
#[test]
fn a_deployment_superseded_by_a_newer_one_exits_4() {
    let b = base();
    let endpoint = ecs_endpoint::start(vec![
        phase(d2_alone(b, "IN_PROGRESS", 0.0), vec![]),
        phase(
            service(
                vec![
                    deployment(D3, "PRIMARY", "IN_PROGRESS", "", at(b, 30.0), at(b, 30.0)),
                    deployment(D2, "ACTIVE", "IN_PROGRESS", "", at(b, 0.0), at(b, 0.0)),
                ],
                1,
            ),
            vec![],
        ),
    ]);
    let out = wait(&endpoint.url, &["--format", "json"]);
    let (stdout, stderr) = text(&out);
    assert_eq!(out.status.code(), Some(4), "{stdout}{stderr}");
    let lines: Vec<Value> = stdout
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let last = lines.last().unwrap();
    assert_eq!(last["type"], "verdict");
    assert_eq!(last["verdict"], "superseded");
    assert_eq!(last["exit_code"], 4);
    assert!(
        lines.iter().any(|l| l["type"] == "transition"
            && l["to"] == "superseded"
            && l["deployment_id"] == D2),
        "{stdout}"
    );
    assert!(
        lines
            .iter()
            .any(|l| l["type"] == "rollout" && l["state"] == "superseded"),
        "{stdout}"
    );
    // The metrics are this deployment's: the newer one's start is not counted here
    // (its transitions and alerts were never printed either).
    let started: Vec<&Value> = lines
        .iter()
        .filter(|l| l["type"] == "metric" && l["name"] == "DeploymentStarted")
        .collect();
    assert_eq!(started.len(), 1, "{stdout}");
}

/// The Service Deployments API view of a deployment paused at a PAUSE hook.
fn paused(b: f64, stage: &str, hooks: Vec<Value>) -> Value {
    json!({
        "serviceDeploymentArn": "arn:aws:ecs:eu-west-1:123456789012:service-deployment/demo/web/0EYSiB0qap8xf0N76FsbE",
        "serviceArn": ecs_endpoint::service_arn(),
        "targetServiceRevision": {"arn": "arn:aws:ecs:eu-west-1:123456789012:service-revision/demo/web/2222222222222222222", "requestedTaskCount": 1, "runningTaskCount": 1, "pendingTaskCount": 0},
        "status": "IN_PROGRESS", "lifecycleStage": stage, "createdAt": at(b, 0.0), "updatedAt": at(b, 30.0),
        "deploymentCircuitBreaker": {"status": "MONITORING", "failureCount": 0, "threshold": 3},
        "lifecycleHookDetails": hooks
    })
}

const HOOK: &str = "ecs-pause-e7tK9G_WRJqNF_EOMjztDXfKenlJuEUVjsNStf4WLKw";

fn pause_phase(b: f64, stage: &str, hooks: Vec<Value>) -> Phase {
    Phase {
        service: Some(d2_alone(b, "IN_PROGRESS", 0.0)),
        tasks: vec![],
        service_deployment: Some(paused(b, stage, hooks)),
        ..Phase::default()
    }
}

/// A PAUSE hook awaits action and the pipeline asked to exit then: the hook id,
/// its expiry and both commands are printed, exit 5, and nothing was continued.
#[test]
fn a_paused_deployment_with_on_pause_exit_exits_5_with_the_commands() {
    let b = base();
    let hook = json!({"hookId": HOOK, "targetType": "PAUSE", "status": "AWAITING_ACTION", "expiresAt": at(b, 630.0), "timeoutAction": "ROLLBACK"});
    let endpoint = ecs_endpoint::start(vec![
        pause_phase(b, "SCALE_UP", vec![]),
        pause_phase(b, "POST_TEST_TRAFFIC_SHIFT", vec![hook]),
    ]);
    let out = wait(&endpoint.url, &["--on-pause", "exit"]);
    let (stdout, stderr) = text(&out);
    assert_eq!(out.status.code(), Some(5), "{stdout}{stderr}");
    assert!(
        stdout.contains("stage SCALE_UP") && stdout.contains("stage POST_TEST_TRAFFIC_SHIFT"),
        "{stdout}"
    );
    assert!(
        stdout.contains(&format!(
            "PAUSED at POST_TEST_TRAFFIC_SHIFT: hook {HOOK} awaits action until"
        )),
        "{stdout}"
    );
    assert!(stdout.contains(&format!("aws ecs continue-service-deployment --service-deployment-arn arn:aws:ecs:eu-west-1:123456789012:service-deployment/demo/web/0EYSiB0qap8xf0N76FsbE --hook-id {HOOK} --action CONTINUE")), "{stdout}");
    assert!(stdout.contains("--action ROLLBACK"), "{stdout}");
    only_reads(&endpoint.calls.lock().unwrap());
}

/// Without --on-pause exit, the gate reports the pause, keeps waiting, reports
/// the pause's end, and exits 0 when the deployment completes; in JSON, `stage`
/// and `pause` objects come between the effects.
#[test]
fn a_pause_that_is_continued_is_waited_through() {
    let b = base();
    let hook = |status: &str| json!({"hookId": HOOK, "targetType": "PAUSE", "status": status, "expiresAt": at(b, 630.0), "timeoutAction": "ROLLBACK"});
    let mut done = pause_phase(b, "CLEAN_UP", vec![hook("SUCCEEDED")]);
    done.service = Some(d2_alone(b, "COMPLETED", 90.0));
    let endpoint = ecs_endpoint::start(vec![
        pause_phase(b, "POST_SCALE_UP", vec![hook("AWAITING_ACTION")]),
        pause_phase(b, "POST_SCALE_UP", vec![hook("AWAITING_ACTION")]),
        pause_phase(b, "POST_SCALE_UP", vec![hook("SUCCEEDED")]),
        done,
    ]);
    let out = wait(&endpoint.url, &["--format", "json"]);
    let (stdout, stderr) = text(&out);
    assert_eq!(out.status.code(), Some(0), "{stdout}{stderr}");
    let lines: Vec<Value> = stdout
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let kinds: Vec<&str> = lines.iter().map(|l| l["type"].as_str().unwrap()).collect();
    assert_eq!(
        kinds.iter().filter(|k| **k == "pause").count(),
        1,
        "{stdout}"
    );
    assert!(
        kinds.contains(&"pause_ended") && kinds.contains(&"stage"),
        "{stdout}"
    );
    let pause = lines.iter().find(|l| l["type"] == "pause").unwrap();
    assert_eq!(pause["hook_id"], HOOK);
    assert_eq!(pause["stage"], "POST_SCALE_UP");
    assert_eq!(pause["timeout_action"], "ROLLBACK");
    assert_eq!(lines.last().unwrap()["verdict"], "completed");
}

/// `--until BAKE_TIME`: exit 0 as soon as the deployment is at its bake time,
/// without waiting out the bake.
#[test]
fn until_a_stage_exits_0_when_the_stage_is_reached() {
    let b = base();
    let endpoint = ecs_endpoint::start(vec![
        pause_phase(b, "SCALE_UP", vec![]),
        pause_phase(b, "PRODUCTION_TRAFFIC_SHIFT", vec![]),
        pause_phase(b, "BAKE_TIME", vec![]),
    ]);
    let out = wait(&endpoint.url, &["--until", "bake_time"]);
    let (stdout, stderr) = text(&out);
    assert_eq!(out.status.code(), Some(0), "{stdout}{stderr}");
    assert!(
        stdout.contains("verdict: stage BAKE_TIME reached (exit 0)"),
        "{stdout}"
    );
}

/// Errors are one line naming the argument, exit 1: a missing service, an
/// unknown cluster, a deployment id the service never had.
#[test]
fn a_missing_service_cluster_or_deployment_exits_1_naming_the_argument() {
    let b = base();
    let endpoint = ecs_endpoint::start(vec![phase(d2_alone(b, "IN_PROGRESS", 0.0), vec![])]);
    let cases: [(&[&str], &str); 3] = [
        (
            &["--cluster", "demo", "--service", "api"],
            "rollout-watcher wait: --service: no service api in cluster demo (ECS: MISSING)",
        ),
        (
            &["--cluster", "nope", "--service", "web"],
            "rollout-watcher wait: --cluster: no cluster nope",
        ),
        (
            &[
                "--cluster",
                "demo",
                "--service",
                "web",
                "--deployment",
                "ecs-svc/999",
            ],
            &format!(
                "rollout-watcher wait: --deployment: service web has no deployment ecs-svc/999 (it has: {D2})"
            ),
        ),
    ];
    for (args, want) in cases {
        let out = wait_cmd(&endpoint.url, args).output().unwrap();
        let (stdout, stderr) = text(&out);
        assert_eq!(out.status.code(), Some(1), "{args:?}: {stdout}{stderr}");
        assert_eq!(stderr.trim_end(), want, "{args:?}");
    }
}

/// Usage errors exit 64, one line naming the flag, before any AWS call.
#[test]
fn malformed_flags_exit_64_naming_the_flag() {
    let endpoint = ecs_endpoint::start(vec![Phase::default()]);
    let cases: [(&str, &str, &str); 4] = [
        (
            "--timeout",
            "soon",
            "rollout-watcher wait: --timeout: not a duration (90s, 30m, 2h): \"soon\"",
        ),
        (
            "--interval",
            "0s",
            "rollout-watcher wait: --interval: at least 50 ms: \"0s\"",
        ),
        (
            "--until",
            "half-way",
            "rollout-watcher wait: --until: `completed` or a lifecycle stage such as BAKE_TIME: \"half-way\"",
        ),
        (
            "--deployment",
            "42",
            "rollout-watcher wait: --deployment: not a deployment id (ecs-svc/N): \"42\"",
        ),
    ];
    for (flag, value, want) in cases {
        let out = wait_cmd(
            &endpoint.url,
            &["--cluster", "demo", "--service", "web", flag, value],
        )
        .output()
        .unwrap();
        let (_, stderr) = text(&out);
        assert_eq!(out.status.code(), Some(64), "{flag}: {stderr}");
        assert_eq!(stderr.trim_end(), want);
    }
    // A negative duration reaches the check that names the flag (clap took "-5m"
    // for a flag of its own and named neither).
    for (flag, value) in [("--timeout", "-5m"), ("--interval", "-1s")] {
        let out = wait_cmd(
            &endpoint.url,
            &["--cluster", "demo", "--service", "web", flag, value],
        )
        .output()
        .unwrap();
        let (_, stderr) = text(&out);
        assert_eq!(out.status.code(), Some(64), "{flag}: {stderr}");
        assert_eq!(
            stderr.trim_end(),
            format!("rollout-watcher wait: {flag}: not a duration (90s, 30m, 2h): \"{value}\"")
        );
    }
    // A service ARN of another cluster than --cluster names: refused before ECS
    // is asked (it answered "not found", exit 1). The same cluster, by name or ARN,
    // is fine (the service's answer below is a verdict, not a usage error).
    let web_in_prod = "arn:aws:ecs:eu-west-1:123456789012:service/prod/web";
    let out = wait_cmd(
        &endpoint.url,
        &["--cluster", "demo", "--service", web_in_prod],
    )
    .output()
    .unwrap();
    let (_, stderr) = text(&out);
    assert_eq!(out.status.code(), Some(64), "{stderr}");
    assert_eq!(
        stderr.trim_end(),
        "rollout-watcher wait: --service names cluster \"prod\", --cluster names \"demo\": give the service's cluster, or the service by name"
    );
    let out = wait_cmd(&endpoint.url, &["--service", "web"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(64));
    assert!(String::from_utf8_lossy(&out.stderr).contains("--cluster"));
    assert!(
        endpoint.calls.lock().unwrap().is_empty(),
        "no AWS call on a usage error"
    );
}

/// `wait` on a deployment that stays in progress, interrupted (SIGINT) once it has
/// polled DescribeServices `polls` times: its output and the calls ECS saw.
fn interrupted(extra: &[&str], polls: usize) -> (Output, Vec<String>) {
    let b = base();
    let endpoint = ecs_endpoint::start(vec![phase(d2_alone(b, "IN_PROGRESS", 0.0), vec![])]);
    let mut args = vec![
        "--cluster",
        "demo",
        "--service",
        "web",
        "--interval",
        "100ms",
    ];
    args.extend_from_slice(extra);
    let child = wait_cmd(&endpoint.url, &args)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let started = Instant::now();
    while endpoint
        .calls
        .lock()
        .unwrap()
        .iter()
        .filter(|c| *c == "DescribeServices")
        .count()
        < polls
    {
        assert!(
            started.elapsed() < Duration::from_secs(30),
            "wait never polled"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    let kill = Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(kill.success());
    let out = child.wait_with_output().unwrap();
    let calls = endpoint.calls.lock().unwrap().clone();
    (out, calls)
}

/// Ctrl-C while waiting: the gate stops polling and exits 130; ECS was only read.
#[test]
fn ctrl_c_leaves_the_deployment_alone() {
    let (out, calls) = interrupted(&[], 1);
    assert_eq!(out.status.code(), Some(130));
    assert!(
        String::from_utf8_lossy(&out.stderr)
            .contains("interrupted; the deployment was left as it is")
    );
    only_reads(&calls);
}

/// In JSON each lifecycle stage is one `stage` object, in the order the stages
/// came: the state machine's own stage effects are the same stages `wait` reads, so
/// a consumer counting stages (or acting on one) must not see any of them twice.
#[test]
fn each_stage_is_one_json_object() {
    let b = base();
    let hook = |status: &str| json!({"hookId": HOOK, "targetType": "PAUSE", "status": status, "expiresAt": at(b, 630.0), "timeoutAction": "ROLLBACK"});
    let mut done = pause_phase(b, "CLEAN_UP", vec![hook("SUCCEEDED")]);
    done.service = Some(d2_alone(b, "COMPLETED", 90.0));
    let endpoint = ecs_endpoint::start(vec![
        pause_phase(b, "SCALE_UP", vec![]),
        pause_phase(b, "POST_SCALE_UP", vec![hook("AWAITING_ACTION")]),
        pause_phase(b, "POST_SCALE_UP", vec![hook("SUCCEEDED")]),
        done,
    ]);
    let out = wait(&endpoint.url, &["--format", "json"]);
    let (stdout, stderr) = text(&out);
    assert_eq!(out.status.code(), Some(0), "{stdout}{stderr}");
    let stages: Vec<String> = stdout
        .lines()
        .map(|l| serde_json::from_str::<Value>(l).unwrap())
        .filter(|l| l["type"] == "stage")
        .map(|l| l["stage"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(
        stages,
        ["SCALE_UP", "POST_SCALE_UP", "CLEAN_UP"],
        "{stdout}"
    );
}

/// AWS errors exit 1 with one line that names the call and what ECS said: access
/// denied on DescribeServices, a server error after the SDK's retries, and a
/// `--deployment` that DescribeServices no longer lists while the Service
/// Deployments API (where a finished one is found) is denied. The last must say the
/// look-up failed, not that the deployment does not exist.
#[test]
fn aws_errors_exit_1_naming_the_call() {
    let b = base();
    let svc = || d2_alone(b, "IN_PROGRESS", 0.0);
    let failing = |op: &'static str, code: &'static str| {
        let mut p = phase(svc(), vec![]);
        p.errors = vec![(op, code)];
        ecs_endpoint::start(vec![p])
    };
    let cases: [(_, &[&str], String); 3] = [
        (
            failing("DescribeServices", "AccessDeniedException"),
            &[],
            "rollout-watcher wait: DescribeServices: access denied: service error: AccessDeniedException: the test endpoint refuses DescribeServices".to_owned(),
        ),
        (
            failing("DescribeServices", "ServerException"),
            &[],
            "rollout-watcher wait: DescribeServices failed: service error: ServerException: the test endpoint refuses DescribeServices".to_owned(),
        ),
        (
            failing("ListServiceDeployments", "AccessDeniedException"),
            &["--deployment", D1],
            format!(
                "rollout-watcher wait: --deployment: service web lists no deployment {D1} (it has: {D2}), and looking for it among finished deployments failed: ListServiceDeployments: access denied: service error: AccessDeniedException: the test endpoint refuses ListServiceDeployments"
            ),
        ),
    ];
    for (endpoint, extra, want) in cases {
        let out = wait(&endpoint.url, extra);
        let (stdout, stderr) = text(&out);
        assert_eq!(out.status.code(), Some(1), "{extra:?}: {stdout}{stderr}");
        assert_eq!(stderr.trim_end(), want, "{extra:?}");
        assert_eq!(stdout, "", "{extra:?}: nothing on stdout before the error");
    }
}

/// Without a region, or without credentials, one line says what to set (exit 1),
/// before any call: not the SDK's provider chain over several lines.
#[test]
fn no_region_or_no_credentials_is_one_line_saying_what_to_set() {
    let endpoint = ecs_endpoint::start(vec![Phase::default()]);
    let mut no_region = wait_cmd(&endpoint.url, &["--cluster", "demo", "--service", "web"]);
    no_region
        .env_remove("AWS_REGION")
        .env_remove("AWS_DEFAULT_REGION");
    let mut no_credentials = wait_cmd(&endpoint.url, &["--cluster", "demo", "--service", "web"]);
    no_credentials
        .env_remove("AWS_ACCESS_KEY_ID")
        .env_remove("AWS_SECRET_ACCESS_KEY")
        .env("HOME", "/nonexistent");
    let out = no_region.output().unwrap();
    let (_, stderr) = text(&out);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert_eq!(
        stderr.trim_end(),
        "rollout-watcher wait: no AWS region: set AWS_REGION, or a region in the AWS profile"
    );
    let out = no_credentials.output().unwrap();
    let (_, stderr) = text(&out);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    assert!(
        stderr.starts_with("rollout-watcher wait: no AWS credentials: set AWS_PROFILE"),
        "{stderr}"
    );
    assert!(
        endpoint.calls.lock().unwrap().is_empty(),
        "no ECS call without credentials"
    );
}

/// A stage name `wait` does not know (a typo, or a stage ECS added later) is
/// waited for by name, and said so on stderr at the start: a pipeline with
/// `--until BAKETIME` must not silently wait for the whole deployment instead.
#[test]
fn an_unknown_until_stage_is_named_on_stderr() {
    let b = base();
    let endpoint = ecs_endpoint::start(vec![phase(d2_alone(b, "COMPLETED", 30.0), vec![])]);
    let out = wait(&endpoint.url, &["--until", "BAKETIME"]);
    let (stdout, stderr) = text(&out);
    assert_eq!(out.status.code(), Some(0), "{stdout}{stderr}");
    assert!(
        stderr.starts_with(
            "rollout-watcher wait: --until BAKETIME: not a lifecycle stage this version knows (RECONCILE_SERVICE, "
        ),
        "{stderr}"
    );
    let out = wait(&endpoint.url, &["--until", "BAKE_TIME"]);
    assert_eq!(text(&out).1, "", "a known stage is no news");
}

/// A pipeline step that starts `wait` late, after the circuit breaker failed the
/// deployment and ECS began rolling back, without `--deployment`: the PRIMARY is
/// then ECS's rollback deployment, which completes. The gate must not pass (it
/// exited 0): it follows the deployment the rollback undoes (rolled back, exit 2);
/// when that one is no longer listed, the rollback itself says the deployment
/// failed (exit 2). Asked for by id, the rollback is followed as any deployment.
#[test]
fn a_wait_started_during_ecs_rollback_does_not_pass_the_gate() {
    let b = base();
    let reason = format!("ECS deployment circuit breaker: rolling back to deploymentId {D1}.");
    let rollback = |state: &str, updated: f64| {
        deployment(D3, "PRIMARY", state, &reason, at(b, 58.0), at(b, updated))
    };
    let failed = deployment(
        D2,
        "ACTIVE",
        "FAILED",
        "ECS deployment circuit breaker: tasks failed to start.",
        at(b, 0.0),
        at(b, 57.0),
    );
    let phases = |with_failed: bool| {
        let first = if with_failed {
            vec![rollback("IN_PROGRESS", 58.0), failed.clone()]
        } else {
            vec![rollback("IN_PROGRESS", 58.0)]
        };
        vec![
            phase(service(first, 1), vec![]),
            phase(service(vec![rollback("COMPLETED", 70.0)], 1), vec![]),
        ]
    };
    let verdict = |out: &Output| -> Value {
        let (stdout, stderr) = text(out);
        serde_json::from_str(stdout.lines().last().unwrap_or_default())
            .unwrap_or_else(|e| panic!("{e}: {stdout}{stderr}"))
    };

    let out = wait(
        &ecs_endpoint::start(phases(true)).url,
        &["--format", "json"],
    );
    assert_eq!(out.status.code(), Some(2), "{:?}", text(&out));
    let v = verdict(&out);
    assert_eq!(
        (v["verdict"].as_str(), v["deployment_id"].as_str()),
        (Some("rolled_back"), Some(D2))
    );

    let out = wait(&ecs_endpoint::start(phases(false)).url, &[]);
    let (stdout, stderr) = text(&out);
    assert_eq!(out.status.code(), Some(2), "{stdout}{stderr}");
    assert!(
        stdout.contains(&format!(
            "note: the PRIMARY deployment {D3} is ECS's rollback to {D1}"
        )),
        "{stdout}"
    );

    let out = wait(
        &ecs_endpoint::start(phases(false)).url,
        &["--deployment", D3, "--format", "json"],
    );
    assert_eq!(out.status.code(), Some(0), "{:?}", text(&out));
    assert_eq!(verdict(&out)["verdict"], "completed");
}

/// Ctrl-C during a JSON wait: exit 130, and what was printed is whole JSON lines (a
/// consumer reading stdout line by line never gets half an object), with no
/// `verdict` line, since there is none.
#[test]
fn ctrl_c_in_json_leaves_only_whole_lines_and_no_verdict() {
    let (out, _) = interrupted(&["--format", "json"], 3);
    let (stdout, stderr) = text(&out);
    assert_eq!(out.status.code(), Some(130), "{stdout}{stderr}");
    assert!(stdout.ends_with('\n'), "{stdout:?}");
    let lines: Vec<Value> = stdout
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l:?}")))
        .collect();
    assert!(lines.iter().any(|l| l["type"] == "transition"), "{stdout}");
    assert!(!lines.iter().any(|l| l["type"] == "verdict"), "{stdout}");
    assert_eq!(
        stderr.trim_end(),
        "rollout-watcher wait: interrupted; the deployment was left as it is"
    );
}

/// `--cluster` and `--service` take ARNs as well as names (the flags say so, and a
/// pipeline often has the ARNs from Terraform): every call gets what ECS takes
/// there, the service's name for ListTasks, whose `serviceName` is a name.
#[test]
fn cluster_and_service_arns_are_followed_like_names() {
    let b = base();
    let endpoint = ecs_endpoint::start(vec![phase(
        d2_alone(b, "COMPLETED", 30.0),
        vec![task(
            "new2",
            D2,
            "RUNNING",
            "RUNNING",
            2,
            &[("createdAt", at(b, 2.0)), ("startedAt", at(b, 20.0))],
        )],
    )]);
    let cluster = format!(
        "arn:aws:ecs:{}:{}:cluster/demo",
        ecs_endpoint::REGION,
        ecs_endpoint::ACCOUNT
    );
    let service_arn = ecs_endpoint::service_arn();
    let out = wait_cmd(
        &endpoint.url,
        &[
            "--cluster",
            &cluster,
            "--service",
            &service_arn,
            "--interval",
            "100ms",
            "--timeout",
            "20s",
        ],
    )
    .output()
    .unwrap();
    let (stdout, stderr) = text(&out);
    assert_eq!(out.status.code(), Some(0), "{stdout}{stderr}");
    assert!(stdout.contains("(exit 0)"), "{stdout}");
}

/// A service created before 2021 keeps its short ARN (`service/NAME`, no cluster),
/// and DescribeServices answers with it: the gate follows it in the cluster ECS
/// names, where it used to stop at once with "not found ... (DescribeServices gave
/// no ARN)", exit 1, for every pre-2021 service.
#[test]
fn a_pre_2021_service_with_a_short_arn_is_followed() {
    let b = base();
    let mut legacy = d2_alone(b, "COMPLETED", 30.0);
    legacy["serviceArn"] = json!(format!(
        "arn:aws:ecs:{}:{}:service/web",
        ecs_endpoint::REGION,
        ecs_endpoint::ACCOUNT
    ));
    let endpoint = ecs_endpoint::start(vec![phase(
        legacy,
        vec![task(
            "new2",
            D2,
            "RUNNING",
            "RUNNING",
            2,
            &[("createdAt", at(b, 2.0)), ("startedAt", at(b, 20.0))],
        )],
    )]);
    let out = wait(&endpoint.url, &[]);
    let (stdout, stderr) = text(&out);
    assert_eq!(out.status.code(), Some(0), "{stdout}{stderr}");
    assert!(
        stdout.contains(&format!("web (demo) · deployment {D2}")),
        "{stdout}"
    );
    assert!(stdout.contains("(exit 0)"), "{stdout}");
}

/// ECS throttles ListTasks on every poll (many pipelines polling one account) while
/// DescribeServices says the deployment completed: the gate passes on what it could
/// read (exit 0), where the throttled task listing used to throw the whole reading
/// away until `--timeout` (exit 3, "before ECS showed the deployment").
#[test]
fn a_throttled_task_listing_does_not_hide_the_verdict() {
    let b = base();
    let mut p = phase(d2_alone(b, "COMPLETED", 30.0), vec![]);
    p.errors = vec![("ListTasks", "ThrottlingException")];
    let endpoint = ecs_endpoint::start(vec![p]);
    let out = wait_cmd(
        &endpoint.url,
        &[
            "--cluster",
            "demo",
            "--service",
            "web",
            "--interval",
            "100ms",
            "--timeout",
            "3s",
        ],
    )
    .output()
    .unwrap();
    let (stdout, stderr) = text(&out);
    assert_eq!(out.status.code(), Some(0), "{stdout}{stderr}");
    assert!(stdout.contains("verdict: completed"), "{stdout}");
}
