//! The queue delivery's model: EventBridge -> one SQS FIFO queue, every event in
//! one message group -> the handler in batches, through Lambda's event source
//! mapping, which hands a FIFO group to one invocation at a time.
//!
//! The queue holds the whole stream from the start, as it does when a burst
//! outruns the function: every batch is full. A message the batch answer names as
//! failed goes back to the head of the queue (the group stays blocked until it is
//! received again, a visibility timeout later on the virtual clock); after
//! [`MAX_RECEIVES`] receives it would move to the dead-letter queue, and the run
//! records it as never applied. A function error (none is expected: the batch
//! path answers every failure per message) would hand the whole batch back.
//!
//! EventBridge's duplicate deliveries stay in the stream although content-based
//! deduplication drops a copy sent within five minutes of the first: the handler's
//! own deduplication is what is under test.

use std::collections::VecDeque;
use std::sync::Arc;
use std::time::Instant;

use rollout_watcher::delivery::QueuedEvent;
use rollout_watcher::lambda::EventDelivery;
use rollout_watcher::model::Millis;
use rollout_watcher::ports::Clock;

use super::Setup;
use super::instance::LoadClock;
use super::retry::{Tally, sweep_after};
use super::run::{Bench, Run};
use super::stream::Mixed;
use crate::scenario::time_of;

/// The event source mapping's batch size on a FIFO queue (its maximum).
pub const BATCH: usize = 10;
/// Receives before a message leaves for the dead-letter queue (the module's
/// `maxReceiveCount`).
pub const MAX_RECEIVES: usize = 5;
/// How long a failed message stays invisible (and its group blocked) before the
/// next receive, on the virtual clock.
pub const VISIBILITY: Millis = Millis(180_000);

/// One message in the queue: its id, the event's JSON text, its receives so far.
struct Message {
    id: String,
    body: String,
    event: usize,
    receives: usize,
}

/// The stream through the queue: one consumer taking batches of [`BATCH`] in
/// order, as Lambda's mapping does for one FIFO group. Each batch is one
/// invocation of a fresh request id; [`Tally::retried`] counts messages received
/// more than once, [`Tally::redelivered`] those that reached the dead-letter queue
/// (also listed in [`Tally::unapplied`]).
pub async fn queued(mixed: &Mixed, setup: Setup) -> anyhow::Result<Run> {
    let sleeps = setup.real_back_off;
    let bench = Bench::start(mixed, setup).await?;
    let clock = Arc::new(LoadClock::at(time_of(&mixed.events[0]), sleeps));
    // The deployed lease: one invocation at a time, so no claim outlives its
    // invocation on the virtual clock but one a failed invocation left, which the
    // next receive (a visibility timeout later) or the sweeper takes over.
    let w = bench.watcher(clock.clone(), EventDelivery::Queue);
    let mut queue: VecDeque<Message> = mixed
        .events
        .iter()
        .enumerate()
        .map(|(i, e)| {
            Ok(Message {
                id: format!("msg-{i}"),
                body: serde_json::to_string(e)?,
                event: i,
                receives: 0,
            })
        })
        .collect::<anyhow::Result<_>>()?;
    let mut tally = Tally::default();
    let started = Instant::now();
    let mut invocation = 0_usize;
    while !queue.is_empty() {
        let mut batch: Vec<Message> = Vec::with_capacity(BATCH);
        while batch.len() < BATCH {
            let Some(mut m) = queue.pop_front() else {
                break;
            };
            m.receives += 1;
            if m.receives == 2 {
                tally.retried += 1;
            }
            batch.push(m);
        }
        let newest = batch
            .iter()
            .map(|m| time_of(&mixed.events[m.event]))
            .max()
            .unwrap_or_else(|| clock.now());
        clock.set(newest.max(clock.now()));
        let messages: Vec<QueuedEvent<'_>> = batch
            .iter()
            .map(|m| QueuedEvent {
                message_id: &m.id,
                body: &m.body,
            })
            .collect();
        let id = format!("req-{invocation}");
        invocation += 1;
        let call = Instant::now();
        let outcome = w.handle_batch(&messages, &id).await;
        tally.latencies.push(call.elapsed());
        tally.batch(&w, &id, &outcome);
        if outcome.failed.is_empty() {
            continue;
        }
        // The failed messages are received again a visibility timeout later, ahead
        // of everything after them; those past the receive limit leave for the
        // dead-letter queue.
        clock.set(clock.now().plus(VISIBILITY));
        let mut back = Vec::new();
        for m in batch {
            if !outcome.failed.contains(&m.id) {
                continue;
            }
            if m.receives >= MAX_RECEIVES {
                tally.redelivered += 1;
                let e = &mixed.events[m.event];
                tally.unapplied.push(format!(
                    "event {} ({} {}): past {MAX_RECEIVES} receives, to the dead-letter queue",
                    m.event,
                    e["detail-type"].as_str().unwrap_or_default(),
                    e["time"].as_str().unwrap_or_default(),
                ));
            } else {
                back.push(m);
            }
        }
        for m in back.into_iter().rev() {
            queue.push_front(m);
        }
    }
    sweep_after(&w, &clock, &mut tally).await?;
    let elapsed = started.elapsed();
    bench
        .read_back(mixed, w.metrics.sink.sent(), tally, elapsed)
        .await
}
