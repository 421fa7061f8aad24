//! The function's own health metrics, as CloudWatch Embedded Metric Format lines on
//! stdout.
//!
//! EMF rather than `PutMetricData`: when Slack or the secret store is failing, the
//! metric that says so must not depend on one more API call (nor on an IAM grant the
//! function does not otherwise need). Lambda ships stdout to CloudWatch Logs, which
//! extracts the metric. These metrics have no dimensions (DESIGN.md: the watcher's
//! own health), so the dimension set is the empty one.

use std::io::Write;

use rollout_watcher::adapters::clock::SystemClock;
use rollout_watcher::adapters::emf::{EmfSink, documents};
use rollout_watcher::core::MetricName;
use rollout_watcher::model::Timestamp;
use rollout_watcher::policy::health_metric;
use rollout_watcher::ports::Clock;

/// Writes EMF lines to a sink (stdout in the function): the library's EMF sink and
/// health data points, so the line is the one the watcher's functions write.
#[derive(Debug)]
pub struct Emf(EmfSink);

impl Emf {
    /// Lines go to stdout, where Lambda's log capture finds them.
    pub fn stdout(namespace: impl Into<String>) -> Self {
        Self(EmfSink::stdout(namespace))
    }

    /// Lines go to `out` (tests).
    pub fn to_writer(namespace: impl Into<String>, out: Box<dyn Write + Send>) -> Self {
        Self(EmfSink::with_writer(namespace, out))
    }

    /// Records `value` of a dimensionless metric now. A failed write is logged, never
    /// raised: losing a data point must not fail an invocation that already failed.
    pub fn put(&self, name: MetricName, value: f64) {
        if let Err(e) = self
            .0
            .write(&[health_metric(name, value, SystemClock.now())])
        {
            tracing::error!(metric = name.as_str(), error = %e, "could not write an EMF line");
        }
    }
}

/// One EMF document: `{"_aws": {...}, "<Name>": value}`.
pub fn line(namespace: &str, name: MetricName, value: f64, timestamp_ms: i64) -> String {
    let point = health_metric(name, value, Timestamp::from_millis(timestamp_ms));
    documents(namespace, &[point])
        .first()
        .map(ToString::to_string)
        .unwrap_or_default()
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use serde_json::json;

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
