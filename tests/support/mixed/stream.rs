//! The stream: every kind of rollout, one per service, interleaved by event time,
//! some neighbours swapped and some events delivered twice.

use std::collections::{BTreeMap, BTreeSet};

use rollout_watcher::model::ServiceArn;
use rollout_watcher_cli::simulate::{Params, Scenario, simulate};
use serde_json::Value;

/// The cluster of every service in the stream.
pub const CLUSTER: &str = "load-cluster";
/// A stream and the services in it.
pub struct Mixed {
    /// The events, in delivery order.
    pub events: Vec<Value>,
    /// One simulation per service.
    pub services: Vec<Params>,
    /// Events delivered twice.
    pub duplicates: usize,
    /// Neighbours swapped.
    pub swaps: usize,
    /// Per service ARN, the ids of its events.
    pub event_ids: BTreeMap<String, BTreeSet<String>>,
}

impl Mixed {
    /// The service ARNs.
    pub fn arns(&self) -> Vec<ServiceArn> {
        self.services
            .iter()
            .map(|p| {
                ServiceArn::parse(&format!(
                    "arn:aws:ecs:{}:{}:service/{}/{}",
                    p.region, p.account, p.cluster, p.service
                ))
                .expect("a service ARN")
            })
            .collect()
    }
}

/// At least `min_services` services and `min_events` events, every scenario.
pub fn mixed_stream(min_services: usize, min_events: usize) -> Mixed {
    const KINDS: [Scenario; 6] = [
        Scenario::Success,
        Scenario::HealthCheckRollback,
        Scenario::ZeroRunning,
        Scenario::Stalled,
        Scenario::BadImage,
        Scenario::Superseded,
    ];
    let mut services = Vec::new();
    let mut event_ids: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    let mut tagged: Vec<(String, usize, Value)> = Vec::new();
    let mut i = 0_usize;
    while services.len() < min_services || tagged.len() < min_events {
        let params = Params {
            service: format!("svc-{i:02}"),
            cluster: CLUSTER.to_owned(),
            desired: 1 + (i % 3) as u32,
            seed: i as u64 + 1,
            ..Params::defaults(KINDS[i % KINDS.len()])
        };
        let arn = format!(
            "arn:aws:ecs:{}:{}:service/{}/{}",
            params.region, params.account, params.cluster, params.service
        );
        for e in simulate(&params).expect("valid parameters").events {
            let id = e["id"].as_str().unwrap_or_default().to_owned();
            event_ids.entry(arn.clone()).or_default().insert(id);
            let t = e["time"].as_str().unwrap_or_default().to_owned();
            tagged.push((t, tagged.len(), e));
        }
        services.push(params);
        i += 1;
    }
    // Interleave by time; a service's own events keep their order.
    tagged.sort_by(|a, b| a.0.cmp(&b.0).then(a.1.cmp(&b.1)));
    perturbed(
        tagged.into_iter().map(|(_, _, e)| e).collect(),
        services,
        event_ids,
    )
}

/// One service of `desired` tasks rolling to a new revision that is healthy (the
/// simulator's `success` scenario: deployment events, the service's steady state,
/// every new task PROVISIONING, PENDING, RUNNING and every old one asked to stop,
/// DEPROVISIONING, STOPPED; about seven events a task), perturbed as the mixed
/// stream is. Every event is for the same service, so every write is to one item.
pub fn hot_service(desired: u32) -> Mixed {
    let params = Params {
        service: "hot".to_owned(),
        cluster: CLUSTER.to_owned(),
        desired,
        seed: 16,
        ..Params::defaults(Scenario::Success)
    };
    let arn = format!(
        "arn:aws:ecs:{}:{}:service/{}/{}",
        params.region, params.account, params.cluster, params.service
    );
    let events = simulate(&params).expect("valid parameters").events;
    let ids = events
        .iter()
        .map(|e| e["id"].as_str().unwrap_or_default().to_owned())
        .collect();
    perturbed(events, vec![params], BTreeMap::from([(arn, ids)]))
}

/// Swaps some neighbours and delivers some events twice (EventBridge is
/// at-least-once and does not keep order).
fn perturbed(
    mut events: Vec<Value>,
    services: Vec<Params>,
    event_ids: BTreeMap<String, BTreeSet<String>>,
) -> Mixed {
    let mut swaps = 0;
    for k in (7..events.len() - 1).step_by(29) {
        events.swap(k, k + 1);
        swaps += 1;
    }
    let mut duplicates = 0;
    let originals = events.len();
    for k in (11..originals).step_by(37).rev() {
        let copy = events[k].clone();
        events.insert((k + 3).min(events.len()), copy);
        duplicates += 1;
    }
    Mixed {
        events,
        services,
        duplicates,
        swaps,
        event_ids,
    }
}
