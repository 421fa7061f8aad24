//! Zero-task windows: when a service that was serving has no serving task.
//!
//! A window opens the moment the last task stops serving and closes when one starts
//! again. It pages (`zero_running_tasks`) only once it has lasted the grace period in
//! *event time*: EventBridge reorders events, and a STOPPED event that overtakes the
//! new task's RUNNING event must not wake anyone. The downtime it leaves is measured
//! from task timestamps, so a late event corrects it instead of inflating it.
//!
//! All of the zero-window logic is here: opening, moving, firing (at once, or after
//! DescribeServices confirms it, with [`Settings::confirm_zero`]), standing down and
//! closing. The service hands it a read-only [`Service`] view of its tasks.

use serde::{Deserialize, Serialize};

use crate::model::{DeploymentId, Millis, Timestamp};

use super::super::occurrence::{Occurrence, Occurrences};
use super::super::settings::Settings;
use super::super::stop::StopInfo;
use super::tasks::Tasks;

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
    fn record(&mut self, start: Timestamp, end: Timestamp) {
        if !self.history.contains(&(start, end)) {
            self.history.push((start, end));
            self.history.sort();
            if self.history.len() > HISTORY {
                self.history.remove(0);
            }
        }
    }

    /// Shrinks closed windows to what the tasks known now leave uncovered.
    fn repair(&mut self, tasks: &Tasks) {
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

/// What a zero window reads of its service.
pub(super) struct Service<'a> {
    /// The service's event time.
    pub(super) clock: Timestamp,
    pub(super) tasks: &'a Tasks,
    /// The desired count is not known to be 0.
    pub(super) wanted: bool,
    /// The desired count, when ECS told it.
    pub(super) desired: Option<u32>,
    pub(super) serving_seen: bool,
    pub(super) first_serving: Option<Timestamp>,
    pub(super) pruned_last_end: Option<Timestamp>,
    pub(super) last_stop: Option<&'a StopInfo>,
}

impl ZeroTracker {
    /// Whether a window past its grace waits for DescribeServices.
    pub(super) fn awaiting(&self) -> bool {
        self.open.as_ref().is_some_and(|w| w.awaiting)
    }

    /// Whether an open window has paged.
    pub(super) fn fired(&self) -> bool {
        self.open.as_ref().is_some_and(|w| w.fired_key.is_some())
    }

    /// When the open window's grace ends, if it is still to page.
    pub(super) fn deadline(&self, settings: &Settings) -> Option<Timestamp> {
        self.open
            .as_ref()
            .filter(|w| w.fired_key.is_none() && !w.suppressed && !w.awaiting)
            .map(|w| w.start.plus(settings.zero_grace))
    }

    /// Settles a window awaiting confirmation: it pages if ECS `confirmed` that no
    /// task runs while one is wanted, and stands down otherwise (its events are merely
    /// late). False when no window was awaiting.
    pub(super) fn confirm(
        &mut self,
        confirmed: bool,
        (clock, desired): (Timestamp, Option<u32>),
        out: &mut Occurrences,
    ) -> bool {
        let Some(w) = self.open.as_mut().filter(|w| w.awaiting) else {
            return false;
        };
        w.awaiting = false;
        if confirmed {
            self.fire(clock, desired, out);
        } else {
            w.suppressed = true;
        }
        true
    }

    /// Opens, moves, fires and closes the window from the task intervals;
    /// `deployment_at` names the rollout in progress at an instant.
    pub(super) fn track(
        &mut self,
        s: &Service<'_>,
        deployment_at: impl Fn(Timestamp) -> Option<DeploymentId>,
        settings: &Settings,
        out: &mut Occurrences,
    ) {
        let clock = s.clock;
        self.repair(s.tasks);
        let gap = (s.wanted
            && s.serving_seen
            && s.first_serving.is_some_and(|f| f <= clock)
            && s.tasks.serving_at(clock) == 0)
            .then(|| {
                s.tasks
                    .last_end_before(clock)
                    .max(s.pruned_last_end)
                    .unwrap_or(clock)
            });
        match (self.open.take(), gap) {
            (None, Some(start)) => self.open_at(start, s, &deployment_at, settings),
            (Some(w), Some(start)) => match s.tasks.gap_end_after(w.start) {
                // A late event showed a task serving inside the window: it closed
                // when that task started, and the gap now is another window.
                Some(end) if w.start < end && end < start => {
                    self.close(w, s, out);
                    self.open_at(start, s, &deployment_at, settings);
                }
                // Otherwise a task served longer than known: the gap starts later.
                _ => self.open = Some(ZeroWindow { start, ..w }),
            },
            (Some(w), None) => self.close(w, s, out),
            (None, None) => {}
        }
        let fire = self.open.as_mut().is_some_and(|w| {
            let due = w.fired_key.is_none() && !w.suppressed && !w.awaiting;
            let due = due && clock.since(w.start) >= settings.zero_grace;
            if due && settings.confirm_zero {
                w.awaiting = true;
                return false;
            }
            due
        });
        if fire {
            self.fire(clock, s.desired, out);
        }
    }

    /// Opens a window at `start`, the last instant a task served.
    fn open_at(
        &mut self,
        start: Timestamp,
        s: &Service<'_>,
        deployment_at: &impl Fn(Timestamp) -> Option<DeploymentId>,
        settings: &Settings,
    ) {
        // A deliberate scale-in is not an outage: only DescribeServices (the
        // functions' confirmation) or a known desired count can say the service
        // should still run a task.
        let scale_in = s.last_stop.is_some_and(|l| l.scale_in);
        let unknowable = !settings.confirm_zero && s.desired.is_none();
        self.open = Some(ZeroWindow {
            start,
            fired_key: None,
            awaiting: false,
            suppressed: scale_in && unknowable,
            deployment: deployment_at(start),
            last_stop: s.last_stop.cloned(),
        });
    }

    /// Pages for the open window (`clock`: the service's time).
    pub(super) fn fire(&mut self, clock: Timestamp, desired: Option<u32>, out: &mut Occurrences) {
        let Some(w) = self.open.as_mut() else {
            return;
        };
        w.fired_key = Some(w.start);
        out.push(Occurrence::ZeroFired {
            start: w.start,
            at: clock,
            deployment: w.deployment.clone(),
            last_stop: w.last_stop.clone(),
            desired,
        });
    }

    fn close(&mut self, w: ZeroWindow, s: &Service<'_>, out: &mut Occurrences) {
        let end = if s.wanted {
            s.tasks.gap_end_after(w.start).unwrap_or(s.clock)
        } else {
            w.start
        };
        if end.since(w.start).0 > 0 {
            self.record(w.start, end);
            out.push(Occurrence::Downtime {
                start: w.start,
                end,
            });
        }
        if let Some(fired) = w.fired_key {
            // Not the downtime's end: a page closed by a desired count of 0 is
            // closed when that was seen, not at the window's start.
            let closed = if s.wanted { end } else { s.clock.max(w.start) };
            out.push(Occurrence::ZeroResolved {
                start: w.start,
                end: closed,
                fired,
                deployment: w.deployment,
                wanted: s.wanted,
            });
        }
    }
}
