//! References to check a run against.
//!
//! The deployed handler and the in-memory replay run the same state machine, so for
//! the same events they must agree on every alert (name, text, dedup key): the replay
//! is the oracle for "exactly the expected SNS messages". EMF output is checked
//! against the CloudWatch Embedded Metric Format specification, field by field.

use std::collections::BTreeMap;

use anyhow::{Context, bail, ensure};
use rollout_watcher::core::{Alert, Effect, Metric, ServiceConfig, Settings};
use rollout_watcher::model::ServiceArn;
use rollout_watcher::replay::Replay;
use serde_json::Value;

/// Alerts and metrics of the replay of `events` (errors skipped, like the CLI).
pub fn replay(events: &[Value]) -> (Vec<Alert>, Vec<Metric>) {
    replay_knowing(events, &[])
}

/// The same, with what DescribeServices says of some services known beforehand, as
/// the deployed functions know it.
pub fn replay_knowing(
    events: &[Value],
    configs: &[(ServiceArn, ServiceConfig)],
) -> (Vec<Alert>, Vec<Metric>) {
    let mut r = Replay::new(Settings::default());
    for (service, config) in configs {
        r.set_config(service, config.clone());
    }
    let (mut alerts, mut metrics) = (Vec::new(), Vec::new());
    for e in events {
        let Ok(fx) = r.apply_json(&e.to_string()) else {
            continue;
        };
        for item in fx.items {
            match item {
                Effect::Alert(a) => alerts.push(*a),
                Effect::Metric(m) => metrics.push(m),
                Effect::Transition(_) | Effect::Stage(_) => {}
            }
        }
    }
    (alerts, metrics)
}

/// One data point read back from an EMF document.
#[derive(Debug, Clone, PartialEq)]
pub struct EmfPoint {
    /// Namespace.
    pub namespace: String,
    /// Metric name.
    pub name: String,
    /// Unit.
    pub unit: String,
    /// Dimension name to value.
    pub dimensions: BTreeMap<String, String>,
    /// Value.
    pub value: f64,
    /// `_aws.Timestamp`.
    pub timestamp: i64,
}

/// Parses one stdout line as an EMF document and checks it against the
/// specification: `_aws.Timestamp` (epoch ms), `_aws.CloudWatchMetrics` directives
/// with `Namespace`, `Dimensions` (arrays of member names, each a string member of
/// the root, at most 30), `Metrics` (at most 100, each `Name` a numeric root member
/// or an array of at most 100 numbers, `Unit` a CloudWatch unit).
pub fn parse_emf(line: &str) -> anyhow::Result<Vec<EmfPoint>> {
    let doc: Value = serde_json::from_str(line).context("EMF line is not JSON")?;
    let aws = doc.get("_aws").context("_aws missing")?;
    let ts = aws["Timestamp"]
        .as_i64()
        .context("_aws.Timestamp must be an integer")?;
    ensure!(
        ts > 1_000_000_000_000,
        "_aws.Timestamp must be epoch milliseconds"
    );
    let directives = aws["CloudWatchMetrics"]
        .as_array()
        .context("CloudWatchMetrics must be an array")?;
    let mut out = Vec::new();
    for d in directives {
        let ns = d["Namespace"].as_str().context("Namespace")?;
        ensure!(!ns.is_empty() && ns.len() <= 255, "Namespace length");
        let sets = d["Dimensions"]
            .as_array()
            .context("Dimensions must be an array")?;
        ensure!(sets.len() == 1, "one dimension set per directive here");
        let mut dims = BTreeMap::new();
        let set = sets[0].as_array().context("a dimension set is an array")?;
        ensure!(set.len() <= 30, "at most 30 dimensions");
        for name in set {
            let name = name.as_str().context("dimension names are strings")?;
            let value = doc[name]
                .as_str()
                .with_context(|| format!("dimension {name} must be a string member"))?;
            dims.insert(name.to_owned(), value.to_owned());
        }
        let metrics = d["Metrics"]
            .as_array()
            .context("Metrics must be an array")?;
        ensure!(metrics.len() <= 100, "at most 100 metrics per directive");
        for m in metrics {
            let name = m["Name"].as_str().context("metric Name")?;
            let unit = m["Unit"].as_str().unwrap_or("None");
            ensure!(["Count", "Seconds", "None"].contains(&unit), "unit {unit}");
            let values = match &doc[name] {
                Value::Number(n) => vec![n.as_f64().context("number")?],
                Value::Array(a) => {
                    ensure!(a.len() <= 100, "at most 100 values");
                    a.iter()
                        .map(|v| v.as_f64().context("numbers only"))
                        .collect::<anyhow::Result<_>>()?
                }
                other => bail!("metric {name} has no numeric value: {other}"),
            };
            for value in values {
                out.push(EmfPoint {
                    namespace: ns.to_owned(),
                    name: name.to_owned(),
                    unit: unit.to_owned(),
                    dimensions: dims.clone(),
                    value,
                    timestamp: ts,
                });
            }
        }
    }
    Ok(out)
}
