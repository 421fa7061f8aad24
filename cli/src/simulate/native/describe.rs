//! The `aws ecs describe-services` output that matches a simulated service, as it was
//! when the rollout began (blue, `web:41`, PRIMARY and COMPLETED), so that replay and
//! tests can read the service's settings the way the functions read them from
//! `DescribeServices`. Wire names are the ECS API model's (`deploymentConfiguration`:
//! `strategy`, `bakeTimeInMinutes`, `lifecycleHooks[{targetType, hookTargetArn,
//! roleArn, lifecycleStages, timeoutConfiguration{timeoutInMinutes, action}}]`,
//! `linearConfiguration{stepPercent, stepBakeTimeInMinutes}`,
//! `canaryConfiguration{canaryPercent, canaryBakeTimeInMinutes}`); timestamps are in
//! the ISO form the AWS CLI prints.

use serde_json::{Value, json};

use super::{HookKind, Strategy};
use crate::simulate::Params;
use crate::simulate::clock::{BASE_MS, SECOND, millis};
use crate::simulate::json::{Names, obj};
use crate::simulate::rng::Rng;

/// `{"services": [ … ], "failures": []}` for the simulated service.
pub fn describe_services(p: &Params) -> Value {
    let names = Names::new(p);
    // D0's id: the first draw of the deployment-id stream, as in the event stream.
    let d0 = Rng::deployments(p.seed).deployment_id();
    let iso = |ms: u64| millis(ms).replace('Z', "+00:00");
    let mut config = vec![
        (
            "deploymentCircuitBreaker",
            json!({"enable": p.circuit_breaker, "rollback": p.circuit_breaker}),
        ),
        ("maximumPercent", json!(p.max_percent)),
        ("minimumHealthyPercent", json!(p.min_healthy_percent)),
        ("strategy", json!("ROLLING")),
    ];
    if let Some(native) = &p.native {
        config.retain(|(k, _)| *k != "strategy");
        config.push(("strategy", json!(native.strategy.wire())));
        config.push(("bakeTimeInMinutes", json!(native.bake_minutes)));
        let hooks: Vec<Value> = native
            .hooks
            .iter()
            .map(|h| {
                let mut fields = vec![
                    ("lifecycleStages", json!(h.stages)),
                    (
                        "timeoutConfiguration",
                        obj(vec![
                            ("timeoutInMinutes", json!(h.timeout_minutes)),
                            ("action", json!(h.timeout_action.wire())),
                        ]),
                    ),
                ];
                match h.kind {
                    HookKind::Pause => fields.push(("targetType", json!("PAUSE"))),
                    HookKind::Lambda => {
                        fields.push(("targetType", json!("AWS_LAMBDA")));
                        let function = format!(
                            "arn:aws:lambda:{}:{}:function:{}",
                            p.region, p.account, h.function
                        );
                        fields.push(("hookTargetArn", json!(function)));
                        let role = format!("arn:aws:iam::{}:role/ecs-lifecycle-hooks", p.account);
                        fields.push(("roleArn", json!(role)));
                    }
                }
                obj(fields)
            })
            .collect();
        config.push(("lifecycleHooks", json!(hooks)));
        match native.strategy {
            Strategy::BlueGreen => {}
            Strategy::Linear {
                step_percent,
                step_bake_minutes,
            } => config.push((
                "linearConfiguration",
                obj(vec![
                    ("stepPercent", json!(f64::from(step_percent))),
                    ("stepBakeTimeInMinutes", json!(step_bake_minutes)),
                ]),
            )),
            Strategy::Canary {
                canary_percent,
                canary_bake_minutes,
            } => config.push((
                "canaryConfiguration",
                obj(vec![
                    ("canaryPercent", json!(f64::from(canary_percent))),
                    ("canaryBakeTimeInMinutes", json!(canary_bake_minutes)),
                ]),
            )),
        }
    }
    let blue = names.task_definition(41);
    let deployment = obj(vec![
        ("id", json!(d0)),
        ("status", json!("PRIMARY")),
        ("taskDefinition", json!(blue)),
        ("desiredCount", json!(p.desired)),
        ("pendingCount", json!(0)),
        ("runningCount", json!(p.desired)),
        ("failedTasks", json!(0)),
        ("createdAt", json!(iso(BASE_MS - 3600 * SECOND))),
        ("updatedAt", json!(iso(BASE_MS - 3540 * SECOND))),
        ("launchType", json!("FARGATE")),
        ("rolloutState", json!("COMPLETED")),
        (
            "rolloutStateReason",
            json!(format!("ECS deployment {d0} completed.")),
        ),
    ]);
    let load_balancer = obj(vec![
        ("targetGroupArn", json!(names.target_group_arn())),
        ("containerName", json!(p.service)),
        ("containerPort", json!(8080)),
    ]);
    let service = obj(vec![
        ("serviceArn", json!(names.service_arn)),
        ("serviceName", json!(p.service)),
        ("clusterArn", json!(names.cluster_arn)),
        ("loadBalancers", json!([load_balancer])),
        ("status", json!("ACTIVE")),
        ("desiredCount", json!(p.desired)),
        ("runningCount", json!(p.desired)),
        ("pendingCount", json!(0)),
        ("launchType", json!("FARGATE")),
        ("platformVersion", json!("LATEST")),
        ("taskDefinition", json!(blue)),
        ("deploymentConfiguration", obj(config)),
        ("deployments", json!([deployment])),
        ("schedulingStrategy", json!("REPLICA")),
        ("deploymentController", json!({"type": "ECS"})),
        ("healthCheckGracePeriodSeconds", json!(60)),
    ]);
    obj(vec![
        ("services", json!([service])),
        ("failures", json!([])),
    ])
}
