//! The function's own health metrics, as CloudWatch Embedded Metric Format lines on
//! stdout.
//!
//! EMF rather than `PutMetricData`: when Slack or the secret store is failing, the
//! metric that says so must not depend on one more API call (nor on an IAM grant the
//! function does not otherwise need). Lambda ships stdout to CloudWatch Logs, which
//! extracts the metric. These metrics have no dimensions (DESIGN.md: the watcher's
//! own health), so the dimension set is the empty one.

use std::io::{self, Write};
use std::sync::Mutex;
use std::time::{SystemTime, UNIX_EPOCH};

use rollout_watcher::core::MetricName;
use serde_json::json;

/// Writes EMF lines to a sink (stdout in the function).
pub struct Emf {
    namespace: String,
    out: Mutex<Box<dyn Write + Send>>,
}

impl std::fmt::Debug for Emf {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Emf")
            .field("namespace", &self.namespace)
            .finish_non_exhaustive()
    }
}

impl Emf {
    /// Lines go to stdout, where Lambda's log capture finds them.
    pub fn stdout(namespace: impl Into<String>) -> Self {
        Self::to_writer(namespace, Box::new(io::stdout()))
    }

    /// Lines go to `out` (tests).
    pub fn to_writer(namespace: impl Into<String>, out: Box<dyn Write + Send>) -> Self {
        Self {
            namespace: namespace.into(),
            out: Mutex::new(out),
        }
    }

    /// Records `value` of a dimensionless metric now. A failed write is logged, never
    /// raised: losing a data point must not fail an invocation that already failed.
    pub fn put(&self, name: MetricName, value: f64) {
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_millis());
        let mut line = line(&self.namespace, name, value, now);
        line.push('\n');
        let written = match self.out.lock() {
            Ok(mut out) => out.write_all(line.as_bytes()).and_then(|()| out.flush()),
            Err(_) => Err(io::Error::other("metrics writer poisoned")),
        };
        if let Err(e) = written {
            tracing::error!(metric = name.as_str(), error = %e, "could not write an EMF line");
        }
    }
}

/// One EMF document: `{"_aws": {...}, "<Name>": value}`.
pub fn line(namespace: &str, name: MetricName, value: f64, timestamp_ms: u128) -> String {
    json!({
        "_aws": {
            "Timestamp": timestamp_ms,
            "CloudWatchMetrics": [{
                "Namespace": namespace,
                "Dimensions": [[]],
                "Metrics": [{"Name": name.as_str(), "Unit": name.unit().as_str()}],
            }],
        },
        name.as_str(): value,
    })
    .to_string()
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn a_failure_count_is_one_dimensionless_emf_document() {
        let text = line(
            "RolloutWatcher",
            MetricName::AlertPublishFailures,
            1.0,
            1_700_000_000_000,
        );
        let v: serde_json::Value = serde_json::from_str(&text).unwrap();
        assert_eq!(v["AlertPublishFailures"], 1.0);
        let cw = &v["_aws"]["CloudWatchMetrics"][0];
        assert_eq!(cw["Namespace"], "RolloutWatcher");
        assert_eq!(cw["Dimensions"], json!([[]]));
        assert_eq!(
            cw["Metrics"],
            json!([{"Name": "AlertPublishFailures", "Unit": "Count"}])
        );
        assert_eq!(v["_aws"]["Timestamp"], 1_700_000_000_000u64);
        assert!(!text.contains('\n'));
    }
}
