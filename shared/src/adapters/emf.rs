//! The default metrics sink: CloudWatch Embedded Metric Format (EMF) on stdout.
//!
//! Why EMF by default: Lambda already ships stdout to CloudWatch Logs, which extracts
//! the metrics from these JSON lines. No API call, no added latency, no per-request
//! charge, and nothing that can fail mid-invocation. Names, units and dimensions are
//! exactly those of the PutMetricData sink.
//!
//! One JSON document per (dimension set, timestamp): the EMF specification gives one
//! `_aws.Timestamp` per document, at most 100 metrics per directive and at most 100
//! values per metric, and a metric sent twice in one document becomes an array of
//! values. The watcher's own health metrics have no dimensions (`"Dimensions": [[]]`).

use std::collections::BTreeMap;
use std::io::Write;
use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use serde_json::{Map, Value, json};

use crate::core::Metric;
use crate::ports::{MetricsError, MetricsSink};

/// Values per metric and metrics per directive allowed by the EMF specification.
pub const EMF_MAX: usize = 100;

/// Writes EMF documents, one line each.
pub struct EmfSink {
    namespace: String,
    out: Mutex<Box<dyn Write + Send>>,
}

impl std::fmt::Debug for EmfSink {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EmfSink")
            .field("namespace", &self.namespace)
            .finish_non_exhaustive()
    }
}

/// Lines written by a capturing sink (tests).
#[derive(Clone, Debug, Default)]
pub struct Captured(Arc<Mutex<Vec<u8>>>);

impl Captured {
    /// Every line written so far.
    pub fn lines(&self) -> Vec<String> {
        let buf = self.0.lock().unwrap_or_else(|p| p.into_inner());
        String::from_utf8_lossy(&buf)
            .lines()
            .map(str::to_owned)
            .collect()
    }
}

impl Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let mut b = self.0.lock().unwrap_or_else(|p| p.into_inner());
        b.extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl EmfSink {
    /// EMF on stdout (what Lambda ships to CloudWatch Logs).
    pub fn stdout(namespace: impl Into<String>) -> Self {
        Self::with_writer(namespace, Box::new(std::io::stdout()))
    }

    /// EMF into any writer.
    pub fn with_writer(namespace: impl Into<String>, out: Box<dyn Write + Send>) -> Self {
        Self {
            namespace: namespace.into(),
            out: Mutex::new(out),
        }
    }

    /// EMF into memory, for tests.
    pub fn capture(namespace: impl Into<String>) -> (Self, Captured) {
        let c = Captured::default();
        (Self::with_writer(namespace, Box::new(c.clone())), c)
    }
}

/// One document per dimension values (cluster, service) and timestamp.
type GroupKey = (Option<(String, String)>, i64);

/// The EMF documents for a batch of data points.
pub fn documents(namespace: &str, metrics: &[Metric]) -> Vec<Value> {
    let mut groups: BTreeMap<GroupKey, Vec<&Metric>> = BTreeMap::new();
    for m in metrics {
        let dims = m
            .dimensions
            .as_ref()
            .map(|d| (d.cluster_name.clone(), d.service_name.clone()));
        groups.entry((dims, m.at.as_millis())).or_default().push(m);
    }
    let mut docs = Vec::new();
    for ((dims, at), points) in groups {
        // Values per name, in order; a name over EMF_MAX values starts a new document.
        let mut chunks: Vec<BTreeMap<&'static str, (Vec<f64>, &'static str)>> = vec![];
        for m in points {
            let slot = chunks.iter_mut().find(|c| {
                c.get(m.name.as_str())
                    .map_or(c.len() < EMF_MAX, |(v, _)| v.len() < EMF_MAX)
            });
            let chunk = match slot {
                Some(c) => c,
                None => {
                    chunks.push(BTreeMap::new());
                    let last = chunks.len() - 1;
                    &mut chunks[last]
                }
            };
            chunk
                .entry(m.name.as_str())
                .or_insert_with(|| (Vec::new(), m.unit.as_str()))
                .0
                .push(m.value);
        }
        for chunk in chunks {
            docs.push(document(namespace, dims.as_ref(), at, &chunk));
        }
    }
    docs
}

fn document(
    namespace: &str,
    dims: Option<&(String, String)>,
    at: i64,
    values: &BTreeMap<&'static str, (Vec<f64>, &'static str)>,
) -> Value {
    let names: Vec<Value> = values
        .iter()
        .map(|(name, (_, unit))| json!({"Name": name, "Unit": unit}))
        .collect();
    let dimension_set: Vec<&str> = if dims.is_some() {
        vec!["ClusterName", "ServiceName"]
    } else {
        vec![]
    };
    let mut root = Map::new();
    root.insert(
        "_aws".into(),
        json!({
            "Timestamp": at,
            "CloudWatchMetrics": [{
                "Namespace": namespace,
                "Dimensions": [dimension_set],
                "Metrics": names,
            }],
        }),
    );
    if let Some((cluster, service)) = dims {
        root.insert("ClusterName".into(), Value::String(cluster.clone()));
        root.insert("ServiceName".into(), Value::String(service.clone()));
    }
    for (name, (v, _)) in values {
        let value = match v.as_slice() {
            [one] => json!(one),
            many => json!(many),
        };
        root.insert((*name).to_owned(), value);
    }
    Value::Object(root)
}

impl EmfSink {
    /// Writes the data points now, as whole lines (for a caller with no runtime to
    /// await [`MetricsSink::send`] on, such as the slack-notifier's health metrics).
    pub fn write(&self, metrics: &[Metric]) -> Result<(), MetricsError> {
        let mut text = String::new();
        for doc in documents(&self.namespace, metrics) {
            text.push_str(&doc.to_string());
            text.push('\n');
        }
        let mut out = self.out.lock().unwrap_or_else(|p| p.into_inner());
        out.write_all(text.as_bytes())
            .and_then(|()| out.flush())
            .map_err(|e| MetricsError {
                operation: "write",
                count: metrics.len(),
                source: Box::new(e),
            })
    }
}

#[async_trait]
impl MetricsSink for EmfSink {
    async fn send(&self, metrics: &[Metric]) -> Result<(), MetricsError> {
        self.write(metrics)
    }

    fn writes_to_log(&self) -> bool {
        true
    }
}
