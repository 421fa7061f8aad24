//! Crashes of serving tasks, and the loops they make.
//!
//! One crash is `task_crashed` (the service decides which stops are crashes); this
//! child only remembers when they happened and finds loops: at least N crashes within
//! a window ([`CrashLoopRule`], default `3/15m`). A loop runs from its first crash for
//! as long as each next crash comes within a window of the one before, and resolves
//! once a whole window passes without one, in event time (the sweeper's `tick` lets
//! that time pass, so [`Crashes::deadline`] names it).
//!
//! Loops are derived from the crash instants (task timestamps, not arrival order), and
//! each loop is remembered by its first crash (fired when first found) with a
//! `resolved` flag: a
//! duplicate changes nothing, and a late crash that joins a loop already reported
//! extends it instead of starting a second one.

use serde::{Deserialize, Serialize};

use crate::model::{CrashLoopRule, Millis, Timestamp};

use super::super::occurrence::{Occurrence, Occurrences};

/// Crash instants kept (the newest): enough for any sensible rule's window.
const KEEP_CRASHES: usize = 64;
/// Loops remembered (the newest).
const KEEP_LOOPS: usize = 16;

/// One crash loop, known by its first crash.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct CrashLoop {
    #[serde(rename = "s")]
    pub(crate) start: Timestamp,
    #[serde(rename = "l")]
    pub(crate) last: Timestamp,
    #[serde(rename = "n")]
    pub(crate) crashes: u32,
    #[serde(rename = "r", default)]
    pub(crate) resolved: bool,
}

/// The crashes of one service's tasks and the loops found among them.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct Crashes {
    /// `(instant, task id)`, oldest first.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub(crate) seen: Vec<(Timestamp, String)>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub(crate) loops: Vec<CrashLoop>,
}

impl Crashes {
    /// Notes a crash of `task` at `at`; false when it was already noted.
    pub(super) fn record(&mut self, at: Timestamp, task: &str) -> bool {
        if self.seen.iter().any(|(_, t)| t == task) {
            return false;
        }
        let pos = self.seen.partition_point(|(t, _)| *t <= at);
        self.seen.insert(pos, (at, task.to_owned()));
        if self.seen.len() > KEEP_CRASHES {
            self.seen.remove(0);
        }
        true
    }

    /// The loops the crash instants make now: `(first, last, crashes, nth)`, where
    /// `nth` is the crash that made it a loop.
    fn derive(&self, rule: CrashLoopRule) -> Vec<(Timestamp, Timestamp, u32, Timestamp)> {
        let times: Vec<Timestamp> = self.seen.iter().map(|(t, _)| *t).collect();
        let n = usize::try_from(rule.count.max(2)).unwrap_or(usize::MAX);
        let mut found = Vec::new();
        let mut i = 0;
        while i + n <= times.len() {
            let nth = times[i + n - 1];
            if nth.since(times[i]) < rule.window {
                let mut j = i + n - 1;
                while j + 1 < times.len() && times[j + 1].since(times[j]) < rule.window {
                    j += 1;
                }
                let count = u32::try_from(j - i + 1).unwrap_or(u32::MAX);
                found.push((times[i], times[j], count, nth));
                i = j + 1;
            } else {
                i += 1;
            }
        }
        found
    }

    /// Finds loops, fires each once and resolves it once its window has passed
    /// (`clock`: the service's time).
    pub(super) fn track(&mut self, clock: Timestamp, rule: CrashLoopRule, out: &mut Occurrences) {
        for (start, last, crashes, nth) in self.derive(rule) {
            let known = self
                .loops
                .iter_mut()
                .find(|l| l.start < last.plus(rule.window) && start < l.last.plus(rule.window));
            if let Some(l) = known {
                l.last = l.last.max(last);
                l.crashes = l.crashes.max(crashes);
                continue;
            }
            out.push(Occurrence::CrashLoop {
                start,
                at: nth,
                crashes,
                rule,
            });
            self.loops.push(CrashLoop {
                start,
                last,
                crashes,
                resolved: false,
            });
        }
        for l in &mut self.loops {
            let end = l.last.plus(rule.window);
            if !l.resolved && clock >= end {
                l.resolved = true;
                out.push(Occurrence::CrashLoopResolved {
                    start: l.start,
                    end,
                    crashes: l.crashes,
                    rule,
                });
            }
        }
        self.prune(clock, rule);
    }

    /// When the open loop resolves if no crash comes: the sweeper's cue.
    pub(super) fn deadline(&self, rule: CrashLoopRule) -> Option<Timestamp> {
        self.loops
            .iter()
            .filter(|l| !l.resolved)
            .map(|l| l.last.plus(rule.window))
            .min()
    }

    /// Whether a loop is open.
    pub(super) fn open(&self) -> bool {
        self.loops.iter().any(|l| !l.resolved)
    }

    /// Forgets crashes two windows old (unless an open loop holds them) and resolved
    /// loops beyond the newest few.
    fn prune(&mut self, clock: Timestamp, rule: CrashLoopRule) {
        let keep = Millis(rule.window.0.saturating_mul(2));
        let open_from = self
            .loops
            .iter()
            .filter(|l| !l.resolved)
            .map(|l| l.start)
            .min();
        self.seen
            .retain(|(t, _)| clock.since(*t) < keep || open_from.is_some_and(|s| *t >= s));
        while self.loops.len() > KEEP_LOOPS {
            match self.loops.iter().position(|l| l.resolved) {
                Some(i) => {
                    self.loops.remove(i);
                }
                None => break,
            }
        }
    }
}
