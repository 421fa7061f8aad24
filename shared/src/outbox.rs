//! The outbox: alerts and metrics recorded with the state that produced them, and
//! delivered only after that write succeeded (DESIGN.md "Delivery").
//!
//! Why an outbox before SNS: publishing first and writing second loses the state on a
//! crash in between (the retry alerts again); writing state alone and publishing
//! second loses the alert on a crash in between. Recording the effects *in the same
//! conditional write* as the state, then publishing, then marking them sent, means a
//! crash or an SNS outage only ever leaves effects waiting here, and whoever touches
//! the service next (the Lambda retry, the next event, the sweeper) sends them.
//!
//! Why claims: two invocations for the same service may both see an unsent entry.
//! The write that records an entry (or picks up a waiting one) also claims it for
//! that invocation until a lease expires; others leave claimed entries alone, so a
//! race does not publish twice, and a crashed claimer's entries are picked up once
//! its lease has passed.
//!
//! Bounded: at most [`MAX_ALERTS`] alerts and [`MAX_METRICS`] metrics wait here (the
//! oldest metrics go first when SNS or CloudWatch stays down for long), and the
//! ring of recently sent alert keys is [`SENT_KEYS`] long, so the item never grows
//! without bound.

use std::collections::VecDeque;

use serde::{Deserialize, Serialize};

use crate::core::{Alert, Effect, Effects, Metric};
use crate::model::{Millis, Timestamp};

/// Alerts that may wait at most.
pub const MAX_ALERTS: usize = 50;
/// Metric data points that may wait at most.
pub const MAX_METRICS: usize = 200;
/// Keys of sent (or deliberately skipped) alerts remembered, as a second guard
/// against sending one twice.
pub const SENT_KEYS: usize = 64;

/// An effect waiting for delivery.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Pending {
    /// One SNS publish.
    Alert(Box<Alert>),
    /// One metric data point.
    Metric(Metric),
}

impl Pending {
    /// The effect's deterministic dedup key.
    pub fn key(&self) -> &str {
        match self {
            Self::Alert(a) => &a.dedup_key,
            Self::Metric(m) => &m.dedup_key,
        }
    }
}

/// Who is delivering an entry, and until when others must leave it alone.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Claim {
    /// The invocation (Lambda request id).
    pub by: String,
    /// Wall-clock end of the lease.
    pub until: Timestamp,
}

/// One waiting effect.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Entry {
    /// The effect.
    pub effect: Pending,
    /// The current claim, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub claim: Option<Claim>,
}

/// What [`Outbox::record`] did with a batch of effects.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Recorded {
    /// Alerts queued for publishing.
    pub alerts: usize,
    /// Alerts not to be published (muted service, info alerts off), marked done.
    pub skipped: usize,
    /// Metric data points queued.
    pub metrics: usize,
}

/// The effects of a service waiting for delivery.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Outbox {
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    entries: Vec<Entry>,
    #[serde(default, skip_serializing_if = "VecDeque::is_empty")]
    sent: VecDeque<String>,
    #[serde(default, skip_serializing_if = "is_zero")]
    dropped: u64,
}

fn is_zero(n: &u64) -> bool {
    *n == 0
}

impl Outbox {
    /// Nothing waits.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// The waiting entries, oldest first.
    pub fn entries(&self) -> &[Entry] {
        &self.entries
    }

    /// Metric data points dropped so far to keep the item bounded.
    pub fn dropped(&self) -> u64 {
        self.dropped
    }

    /// Whether an alert with this key was sent (or skipped) recently.
    pub fn was_sent(&self, key: &str) -> bool {
        self.sent.iter().any(|k| k == key)
    }

    /// Queues the alerts and metrics of `effects`, in order. Alerts for which
    /// `publish` says no are marked done without being queued. An effect whose key is
    /// already waiting or was recently sent is not queued again.
    pub fn record(&mut self, effects: &Effects, publish: impl Fn(&Alert) -> bool) -> Recorded {
        let mut done = Recorded::default();
        for item in &effects.items {
            let pending = match item {
                Effect::Alert(a) => Pending::Alert(a.clone()),
                Effect::Metric(m) => Pending::Metric(m.clone()),
                Effect::Transition(_) | Effect::Stage(_) => continue,
            };
            let key = pending.key();
            if self.was_sent(key) || self.entries.iter().any(|e| e.effect.key() == key) {
                continue;
            }
            match &pending {
                Pending::Alert(a) if !publish(a) => {
                    self.remember_sent(key.to_owned());
                    done.skipped += 1;
                    continue;
                }
                Pending::Alert(_) => done.alerts += 1,
                Pending::Metric(_) => done.metrics += 1,
            }
            self.entries.push(Entry {
                effect: pending,
                claim: None,
            });
        }
        self.bound();
        done
    }

    /// Claims every entry that is unclaimed, claimed by `owner`, or whose lease has
    /// passed, for `owner` until `now + lease`; returns them in order.
    pub fn claim(&mut self, owner: &str, now: Timestamp, lease: Millis) -> Vec<Pending> {
        let until = now.plus(lease);
        let mut claimed = Vec::new();
        for e in &mut self.entries {
            let free = e
                .claim
                .as_ref()
                .is_none_or(|c| c.by == owner || c.until <= now);
            if free {
                e.claim = Some(Claim {
                    by: owner.to_owned(),
                    until,
                });
                claimed.push(e.effect.clone());
            }
        }
        claimed
    }

    /// After delivery: removes the entries in `delivered` (remembering alert keys as
    /// sent) and releases `owner`'s claims on the rest, so the next invocation can
    /// retry them at once.
    pub fn settle(&mut self, owner: &str, delivered: &[String]) {
        let mut sent = Vec::new();
        self.entries.retain_mut(|e| {
            if delivered.iter().any(|k| k == e.effect.key()) {
                if let Pending::Alert(a) = &e.effect {
                    sent.push(a.dedup_key.clone());
                }
                return false;
            }
            if e.claim.as_ref().is_some_and(|c| c.by == owner) {
                e.claim = None;
            }
            true
        });
        for k in sent {
            self.remember_sent(k);
        }
    }

    fn remember_sent(&mut self, key: String) {
        if !self.was_sent(&key) {
            self.sent.push_back(key);
        }
        while self.sent.len() > SENT_KEYS {
            self.sent.pop_front();
        }
    }

    /// Drops the oldest metrics beyond [`MAX_METRICS`] and the oldest alerts beyond
    /// [`MAX_ALERTS`]: an outage that long has already been noticed, and the item
    /// must stay far below DynamoDB's 400 KB.
    fn bound(&mut self) {
        for (is_kind, max) in [
            (Self::is_metric as fn(&Entry) -> bool, MAX_METRICS),
            (Self::is_alert, MAX_ALERTS),
        ] {
            let n = self.entries.iter().filter(|e| is_kind(e)).count();
            let mut excess = n.saturating_sub(max);
            if excess == 0 {
                continue;
            }
            self.dropped += excess as u64;
            self.entries.retain(|e| {
                if excess > 0 && is_kind(e) {
                    excess -= 1;
                    return false;
                }
                true
            });
        }
    }

    fn is_metric(e: &Entry) -> bool {
        matches!(e.effect, Pending::Metric(_))
    }

    fn is_alert(e: &Entry) -> bool {
        matches!(e.effect, Pending::Alert(_))
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;
    use crate::core::{MetricName, Unit};

    fn metric(key: &str) -> Effect {
        Effect::Metric(Metric {
            name: MetricName::RunningTaskCount,
            value: 1.0,
            unit: Unit::Count,
            dimensions: None,
            at: Timestamp::from_millis(0),
            dedup_key: key.to_owned(),
        })
    }

    fn effects(keys: &[&str]) -> Effects {
        Effects {
            items: keys.iter().map(|k| metric(k)).collect(),
            ..Effects::default()
        }
    }

    /// A second invocation leaves entries claimed by a live first one alone, and
    /// takes them over once the lease has passed.
    #[test]
    fn claims_keep_racing_invocations_apart() {
        let mut o = Outbox::default();
        let _ = o.record(&effects(&["a", "b"]), |_| true);
        let t0 = Timestamp::from_millis(1_000);
        assert_eq!(o.claim("one", t0, Millis(500)).len(), 2);
        assert!(o.claim("two", t0, Millis(500)).is_empty());
        assert_eq!(o.claim("two", t0.plus(Millis(500)), Millis(500)).len(), 2);
    }

    /// Settling removes what was delivered and frees the rest for an immediate retry.
    #[test]
    fn settle_removes_delivered_and_releases_the_rest() {
        let mut o = Outbox::default();
        let _ = o.record(&effects(&["a", "b"]), |_| true);
        let t0 = Timestamp::from_millis(0);
        let _ = o.claim("one", t0, Millis(60_000));
        o.settle("one", &["a".to_owned()]);
        assert_eq!(o.entries().len(), 1);
        assert_eq!(o.claim("two", t0, Millis(1)).len(), 1);
    }

    /// Recording the same effects twice queues them once.
    #[test]
    fn duplicate_effects_are_queued_once() {
        let mut o = Outbox::default();
        let first = o.record(&effects(&["a"]), |_| true);
        let second = o.record(&effects(&["a"]), |_| true);
        assert_eq!((first.metrics, second.metrics), (1, 0));
    }

    /// A long outage keeps at most MAX_METRICS waiting, dropping the oldest.
    #[test]
    fn outbox_stays_bounded() {
        let mut o = Outbox::default();
        let keys: Vec<String> = (0..MAX_METRICS + 30).map(|i| format!("m{i}")).collect();
        let refs: Vec<&str> = keys.iter().map(String::as_str).collect();
        let _ = o.record(&effects(&refs), |_| true);
        assert_eq!(o.entries().len(), MAX_METRICS);
        assert_eq!(o.dropped(), 30);
        assert_eq!(o.entries()[0].effect.key(), "m30");
    }
}
