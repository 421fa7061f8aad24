//! Zero-task windows: when a service that was serving has no serving task.
//!
//! A window opens the moment the last task stops serving and closes when one starts
//! again. It pages (`zero_running_tasks`) only once it has lasted the grace period in
//! *event time*: EventBridge reorders events, and a STOPPED event that overtakes the
//! new task's RUNNING event must not wake anyone. The downtime it leaves is measured
//! from task timestamps, so a late event corrects it instead of inflating it.

use serde::{Deserialize, Serialize};

use crate::model::{DeploymentId, Millis, Timestamp};

use super::stop::StopInfo;

/// An open zero window.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct ZeroWindow {
    /// Last instant a task served.
    pub(crate) start: Timestamp,
    /// The alert fired (its key is `fired_key`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) fired_key: Option<Timestamp>,
    /// Past the grace, waiting for DescribeServices to confirm.
    #[serde(default)]
    pub(crate) awaiting: bool,
    /// DescribeServices said a task runs (or none is wanted): do not page for it.
    #[serde(default)]
    pub(crate) suppressed: bool,
    /// The rollout in progress when it opened.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) deployment: Option<DeploymentId>,
    /// How the last serving task stopped.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) last_stop: Option<StopInfo>,
}

/// Open window and the closed ones still relevant to summaries.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct ZeroTracker {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) open: Option<ZeroWindow>,
    /// Closed windows with downtime, oldest first (bounded).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub(crate) history: Vec<(Timestamp, Timestamp)>,
}

const HISTORY: usize = 32;

impl ZeroTracker {
    pub(crate) fn record(&mut self, start: Timestamp, end: Timestamp) {
        if !self.history.contains(&(start, end)) {
            self.history.push((start, end));
            self.history.sort();
            if self.history.len() > HISTORY {
                self.history.remove(0);
            }
        }
    }

    /// Shrinks closed windows to what the tasks known now leave uncovered.
    pub(crate) fn repair(&mut self, tasks: &super::tasks::Tasks) {
        self.history = self
            .history
            .iter()
            .filter_map(|(s, e)| tasks.uncovered_hull(*s, *e))
            .collect();
    }

    /// Downtime within `[from, to]`: closed windows plus the open one up to `to`.
    pub(crate) fn downtime_within(&self, from: Timestamp, to: Timestamp) -> Millis {
        let open = self.open.as_ref().map(|w| (w.start, to));
        let total: i64 = self
            .history
            .iter()
            .copied()
            .chain(open)
            .map(|(s, e)| e.min(to).since(s.max(from)).0)
            .sum();
        Millis(total)
    }
}
