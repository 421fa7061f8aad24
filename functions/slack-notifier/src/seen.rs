//! The dedup keys this sandbox has posted, so a repeat is dropped by its `id`.
//!
//! Repeats reach the function three ways: SNS delivers at least once, Lambda
//! retries a failed asynchronous invocation, and the watcher publishes an alert
//! again when the write marking it sent was lost (a new SNS message, the same body
//! `id`). An incoming webhook has no idempotency key, so the function itself must
//! drop what it already posted. A sandbox's memory catches repeats that reach a
//! warm sandbox (the usual case: Lambda reuses the idle one); one that lands in
//! another sandbox, or after a cold start, is posted again. Only a post Slack
//! accepted is remembered, so a retry of a failed one still posts it.

use std::collections::{HashSet, VecDeque};
use std::sync::Mutex;

/// How many keys are kept: hours of alerts for a busy account, a few hundred KB.
pub const REMEMBERED: usize = 4096;

/// The most recent [`REMEMBERED`] keys posted, oldest forgotten first.
#[derive(Debug, Default)]
pub struct Posted(Mutex<Keys>);

#[derive(Debug, Default)]
struct Keys {
    order: VecDeque<String>,
    set: HashSet<String>,
}

impl Posted {
    /// Whether `key` was posted by this sandbox.
    pub fn contains(&self, key: &str) -> bool {
        self.0.lock().is_ok_and(|k| k.set.contains(key))
    }

    /// Remembers a posted `key`.
    pub fn insert(&self, key: &str) {
        // A poisoned lock only means another invocation panicked mid-insert; the
        // memory is an optimisation, so it is skipped rather than unwrapped.
        let Ok(mut k) = self.0.lock() else { return };
        if !k.set.insert(key.to_owned()) {
            return;
        }
        k.order.push_back(key.to_owned());
        if k.order.len() > REMEMBERED
            && let Some(old) = k.order.pop_front()
        {
            k.set.remove(&old);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_oldest_key_is_forgotten_first() {
        let posted = Posted::default();
        for n in 0..=REMEMBERED {
            posted.insert(&n.to_string());
        }
        assert!(!posted.contains("0"));
        assert!(posted.contains("1"));
        assert!(posted.contains(&REMEMBERED.to_string()));
    }
}
