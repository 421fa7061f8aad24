//! A local ECS endpoint that plays a scripted deployment, for `wait`'s tests.
//!
//! Why not moto: moto keeps a deployment where `CreateService`/`UpdateService`
//! leave it (it never progresses rolloutState, never starts or stops tasks, and has
//! no Service Deployments API), so a wait against it can only time out. This
//! endpoint speaks the ECS JSON 1.1 protocol (`POST /`, `X-Amz-Target:
//! AmazonEC2ContainerServiceV20141113.<Operation>`) on 127.0.0.1 and answers from a
//! list of phases: the N-th DescribeServices call gets phase N (the last repeats),
//! and the other calls of that poll get the same phase. The real SDK, the real
//! binary, real HTTP over loopback; only ECS itself is played.

#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::{Arc, Mutex};
use std::time::{SystemTime, UNIX_EPOCH};

use serde_json::{Value, json};

pub(crate) const ACCOUNT: &str = "123456789012";
pub(crate) const REGION: &str = "eu-west-1";
pub(crate) const CLUSTER: &str = "demo";
pub(crate) const SERVICE: &str = "web";

/// One moment of the deployment.
#[derive(Clone, Debug, Default)]
pub(crate) struct Phase {
    /// The service as DescribeServices returns it (`None`: the service is missing).
    pub(crate) service: Option<Value>,
    /// Tasks as DescribeTasks returns them.
    pub(crate) tasks: Vec<Value>,
    /// The service deployment as DescribeServiceDeployments returns it.
    pub(crate) service_deployment: Option<Value>,
    /// Operations that fail in this phase, with the error code ECS would send
    /// (`AccessDeniedException`, `ThrottlingException`).
    pub(crate) errors: Vec<(&'static str, &'static str)>,
}

/// The endpoint; stops with the test process.
pub(crate) struct Endpoint {
    pub(crate) url: String,
    /// Every `X-Amz-Target` operation received, in order.
    pub(crate) calls: Arc<Mutex<Vec<String>>>,
}

/// Seconds since the epoch `offset` seconds from when the endpoint started
/// (the timestamps must be near the wall clock: `wait` ticks the state machine at
/// "now", and a deployment two years old would be stalled at once).
pub(crate) fn at(base: f64, offset: f64) -> Value {
    json!(base + offset)
}

/// The epoch second the script's offsets count from (a minute ago).
pub(crate) fn base() -> f64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs_f64()
        .floor()
        - 60.0
}

pub(crate) fn service_arn() -> String {
    format!("arn:aws:ecs:{REGION}:{ACCOUNT}:service/{CLUSTER}/{SERVICE}")
}

/// A `services[]` entry.
pub(crate) fn service(deployments: Vec<Value>, running: u32) -> Value {
    json!({
        "serviceArn": service_arn(),
        "serviceName": SERVICE,
        "clusterArn": format!("arn:aws:ecs:{REGION}:{ACCOUNT}:cluster/{CLUSTER}"),
        "status": "ACTIVE",
        "desiredCount": 1,
        "runningCount": running,
        "pendingCount": 0,
        "deploymentConfiguration": {
            "deploymentCircuitBreaker": {"enable": true, "rollback": true},
            "maximumPercent": 200, "minimumHealthyPercent": 100
        },
        "deployments": deployments,
        "events": []
    })
}

/// A `deployments[]` entry.
pub(crate) fn deployment(
    id: &str,
    status: &str,
    rollout: &str,
    reason: &str,
    created: Value,
    updated: Value,
) -> Value {
    json!({
        "id": id, "status": status, "rolloutState": rollout, "rolloutStateReason": reason,
        "taskDefinition": format!("arn:aws:ecs:{REGION}:{ACCOUNT}:task-definition/web:{}", id.len() % 10),
        "desiredCount": 1, "pendingCount": 0, "runningCount": 1, "failedTasks": 0,
        "createdAt": created, "updatedAt": updated, "launchType": "FARGATE"
    })
}

/// A `tasks[]` entry.
pub(crate) fn task(
    id: &str,
    started_by: &str,
    last: &str,
    desired: &str,
    version: u64,
    times: &[(&str, Value)],
) -> Value {
    let mut t = json!({
        "taskArn": format!("arn:aws:ecs:{REGION}:{ACCOUNT}:task/{CLUSTER}/{id}"),
        "clusterArn": format!("arn:aws:ecs:{REGION}:{ACCOUNT}:cluster/{CLUSTER}"),
        "group": format!("service:{SERVICE}"),
        "startedBy": started_by, "lastStatus": last, "desiredStatus": desired, "version": version,
        "taskDefinitionArn": format!("arn:aws:ecs:{REGION}:{ACCOUNT}:task-definition/web:7"),
        "containers": []
    });
    for (k, v) in times {
        t[*k] = v.clone();
    }
    t
}

/// Starts the endpoint playing `phases`.
pub(crate) fn start(phases: Vec<Phase>) -> Endpoint {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let calls = Arc::new(Mutex::new(Vec::new()));
    let state = Arc::new(Mutex::new((phases, 0_usize)));
    let recorded = Arc::clone(&calls);
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(stream) = stream else { continue };
            let (state, recorded) = (Arc::clone(&state), Arc::clone(&recorded));
            std::thread::spawn(move || serve(stream, &state, &recorded));
        }
    });
    Endpoint { url, calls }
}

type State = Mutex<(Vec<Phase>, usize)>;

fn serve(stream: TcpStream, state: &State, calls: &Mutex<Vec<String>>) {
    let mut reader = BufReader::new(stream.try_clone().unwrap());
    let mut writer = stream;
    loop {
        let mut target = String::new();
        let mut length = 0_usize;
        let mut line = String::new();
        if reader.read_line(&mut line).unwrap_or(0) == 0 {
            return;
        }
        loop {
            line.clear();
            if reader.read_line(&mut line).unwrap_or(0) == 0 {
                return;
            }
            let l = line.trim_end();
            if l.is_empty() {
                break;
            }
            if let Some((k, v)) = l.split_once(':') {
                match k.trim().to_ascii_lowercase().as_str() {
                    "x-amz-target" => target = v.trim().to_owned(),
                    "content-length" => length = v.trim().parse().unwrap_or(0),
                    _ => {}
                }
            }
        }
        let mut body = vec![0; length];
        if reader.read_exact(&mut body).is_err() {
            return;
        }
        let request: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
        let op = target.rsplit('.').next().unwrap_or_default().to_owned();
        calls.lock().unwrap().push(op.clone());
        let (status, reply) = answer(&op, &request, state);
        let text = reply.to_string();
        let head = format!(
            "HTTP/1.1 {status}\r\nContent-Type: application/x-amz-json-1.1\r\nContent-Length: {}\r\nx-amzn-RequestId: test\r\n\r\n",
            text.len()
        );
        if writer
            .write_all(head.as_bytes())
            .and_then(|()| writer.write_all(text.as_bytes()))
            .is_err()
        {
            return;
        }
    }
}

fn answer(op: &str, request: &Value, state: &State) -> (&'static str, Value) {
    let mut guard = state.lock().unwrap();
    let (phases, served) = &mut *guard;
    if op == "DescribeServices" {
        *served += 1;
    }
    let phase = phases[served.saturating_sub(1).min(phases.len() - 1)].clone();
    drop(guard);
    if let Some((_, code)) = phase.errors.iter().find(|(o, _)| *o == op) {
        return (
            "400 Bad Request",
            json!({"__type": code, "message": format!("the test endpoint refuses {op}")}),
        );
    }
    // ECS takes a cluster's name or ARN everywhere, a service's name or ARN in
    // DescribeServices and ListServiceDeployments; ListTasks' `serviceName` is "the
    // name of the service" (its API reference), and ECS checks names against
    // `^[a-zA-Z0-9\-_]{1,255}$`.
    let cluster_arn = format!("arn:aws:ecs:{REGION}:{ACCOUNT}:cluster/{CLUSTER}");
    let known_cluster = request["cluster"] == CLUSTER || request["cluster"] == cluster_arn.as_str();
    let named = |v: &Value| {
        v.as_str().is_some_and(|n| {
            (1..=255).contains(&n.len())
                && n.bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        })
    };
    match op {
        "DescribeServices" => {
            if !known_cluster {
                return (
                    "400 Bad Request",
                    json!({"__type": "ClusterNotFoundException", "message": "Cluster not found."}),
                );
            }
            let asked = &request["services"][0];
            match phase.service {
                Some(s) if asked == SERVICE || *asked == service_arn().as_str() => {
                    ("200 OK", json!({"services": [s], "failures": []}))
                }
                _ => (
                    "200 OK",
                    json!({"services": [], "failures": [{"arn": format!("arn:aws:ecs:{REGION}:{ACCOUNT}:service/{CLUSTER}/{}", request["services"][0].as_str().unwrap_or_default()), "reason": "MISSING"}]}),
                ),
            }
        }
        "ListTasks" => {
            if !named(&request["serviceName"]) {
                return (
                    "400 Bad Request",
                    json!({"__type": "InvalidParameterException", "message": format!("Service name must match ^[a-zA-Z0-9\\-_]{{1,255}}$, but was {}", request["serviceName"])}),
                );
            }
            let desired = request["desiredStatus"].as_str().unwrap_or("RUNNING");
            let arns: Vec<&Value> = phase
                .tasks
                .iter()
                .filter(|t| t["desiredStatus"] == desired)
                .map(|t| &t["taskArn"])
                .collect();
            ("200 OK", json!({"taskArns": arns}))
        }
        "DescribeTasks" => {
            let wanted = request["tasks"].as_array().cloned().unwrap_or_default();
            let tasks: Vec<&Value> = phase
                .tasks
                .iter()
                .filter(|t| wanted.contains(&t["taskArn"]))
                .collect();
            ("200 OK", json!({"tasks": tasks, "failures": []}))
        }
        "ListServiceDeployments" => {
            let briefs: Vec<Value> = phase.service_deployment.iter().map(|d| json!({
                "serviceDeploymentArn": d["serviceDeploymentArn"], "serviceArn": service_arn(),
                "targetServiceRevisionArn": d["targetServiceRevision"]["arn"], "status": d["status"],
                "createdAt": d["createdAt"],
            })).collect();
            ("200 OK", json!({"serviceDeployments": briefs}))
        }
        "DescribeServiceDeployments" => {
            let found: Vec<Value> = phase.service_deployment.into_iter().collect();
            (
                "200 OK",
                json!({"serviceDeployments": found, "failures": []}),
            )
        }
        _ => (
            "400 Bad Request",
            json!({"__type": "InvalidParameterException", "message": format!("the test endpoint does not play {op}")}),
        ),
    }
}
