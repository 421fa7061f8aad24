//! The watcher under injected AWS failures: real SDK clients, a fault proxy in front
//! of moto, and Lambda's retries, against the same stream without faults.

#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

use integration_tests::fault_proxy::{Outage, Outcome, Plan, Rule};
use integration_tests::mixed::{
    ATTEMPT_TIMEOUT, Run, SLOW_REPLY, Setup, counter_keys, differences, ids, late_publishes,
    metric_keys, mixed_stream, queued, sequential,
};

/// 20 % of SNS, DynamoDB and ECS requests fail (500s, throttling, resets, slow
/// replies); SNS is down for a stretch longer than the SDK's and Lambda's retries
/// together (so EventBridge's redelivery is needed); and every 15th successful
/// publish is followed by failed mark-sent writes: the at-least-once window.
fn faulty() -> Plan {
    Plan {
        seed: 20,
        rules: vec![
            Rule::service("sns", 0.2),
            Rule::service("dynamodb", 0.2),
            Rule::service("ecs", 0.2),
        ],
        outages: vec![Outage {
            service: "sns".into(),
            after: 40,
            count: 12,
        }],
        fail_writes_after_publish: Some((15, 3)),
        slow: SLOW_REPLY,
        serialize_dynamodb: true,
    }
}

/// ECS reports no running task (moto's default). The faulty run's clients time
/// out after `ATTEMPT_TIMEOUT` (shorter than the proxy's slow replies); the clean
/// run's never do, so it is the exact reference.
fn setup(plan: Plan, attempt_timeout: Duration) -> Setup {
    Setup {
        plan,
        running: 0,
        attempt_timeout,
        real_back_off: false,
    }
}

fn clean() -> Plan {
    Plan {
        slow: SLOW_REPLY,
        serialize_dynamodb: true,
        ..Plan::default()
    }
}

fn report(name: &str, run: &Run) {
    let mut calls: BTreeMap<String, usize> = BTreeMap::new();
    let mut injected: BTreeMap<String, usize> = BTreeMap::new();
    for c in &run.calls {
        *calls
            .entry(format!("{}:{}", c.service, c.operation))
            .or_insert(0) += 1;
        if let Outcome::Injected(f) = c.outcome {
            *injected.entry(format!("{}:{f:?}", c.service)).or_insert(0) += 1;
        }
    }
    println!(
        "{name}: {:.1} s, {} invocations incl. {} sweeps ({} events retried by Lambda, {} redelivered, failures {:?}), {} messages, {} metric points\n  calls {calls:?}\n  injected {injected:?}",
        run.elapsed.as_secs_f64(),
        run.tally.invocations,
        run.tally.sweeps,
        run.tally.retried,
        run.tally.redelivered,
        run.tally.failures,
        run.messages.len(),
        run.metrics.len(),
    );
}

fn injected(run: &Run, service: &str, fault: &str) -> usize {
    run.calls
        .iter()
        .filter(|c| c.service == service)
        .filter(|c| matches!(c.outcome, Outcome::Injected(f) if format!("{f:?}") == fault))
        .count()
}

/// A 1,000-event stream of 24+ rollouts (completed, rolled back, zero running,
/// stalled, bad image, superseded; duplicates and swapped neighbours included) runs
/// once cleanly and once with a fifth of all SNS, DynamoDB and ECS requests failing,
/// an SNS outage, and mark-sent writes failing right after a publish, each failed
/// invocation retried as Lambda and EventBridge retry it; after the stream the
/// rollout-sweeper ticks (past the stall deadline too), under the same faults. The
/// faulty run ends where the clean one does: the same alerts reach the topic's queue, each once except
/// those an invocation published and then failed to mark sent (DESIGN.md's
/// at-least-once window: the retry publishes them again with the same message `id`,
/// by which subscribers drop the copy); the same rollout states and history in
/// DynamoDB; nothing left in any outbox; every metric data point exactly once (they
/// go to the log right after the state write that produced them, never through
/// the outbox, so that window does not apply to them).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn faults_change_nothing_that_subscribers_or_the_table_see() {
    // given
    let stream = mixed_stream(24, 1000);
    assert!(stream.events.len() >= 1000 && stream.services.len() >= 24);

    // when
    let (reference, faulty) = tokio::join!(
        sequential(&stream, setup(clean(), Duration::from_secs(30))),
        sequential(&stream, setup(faulty(), ATTEMPT_TIMEOUT))
    );
    let (reference, faulty) = (reference.unwrap(), faulty.unwrap());
    println!(
        "{} events ({} duplicates, {} swapped pairs), {} services",
        stream.events.len(),
        stream.duplicates,
        stream.swaps,
        stream.services.len()
    );
    report("clean", &reference);
    report("faulty", &faulty);

    // then: the clean run delivered each alert once and left nothing behind.
    let want = ids(&reference);
    assert!(want.len() >= 100, "{} alerts", want.len());
    assert!(
        want.values().all(|n| *n == 1),
        "clean run duplicated an alert"
    );
    assert_eq!(reference.undelivered, 0);

    // then: every kind of fault hit every service, and every retry path ran.
    for service in ["sns", "dynamodb", "ecs"] {
        for fault in ["ServerError", "Throttle", "Reset", "Slow"] {
            assert!(
                injected(&faulty, service, fault) > 0,
                "no {fault} for {service}"
            );
        }
    }
    assert!(faulty.tally.retried > 0, "no Lambda retry");
    assert!(faulty.tally.redelivered > 0, "no EventBridge redelivery");

    // then: the same alerts; copies only from the at-least-once window.
    let got = ids(&faulty);
    assert_eq!(
        got.keys().collect::<Vec<_>>(),
        want.keys().collect::<Vec<_>>(),
        "the faulty run's alerts differ from the clean run's"
    );
    // (a publish that reached SNS after the SDK had timed out is at-least-once too)
    let late = late_publishes(&faulty, ATTEMPT_TIMEOUT);
    let window: BTreeSet<&String> = faulty.tally.window_alerts.iter().chain(&late).collect();
    let doubled: BTreeSet<&String> = got
        .iter()
        .filter(|(_, n)| **n > 1)
        .map(|(k, _)| k)
        .collect();
    println!(
        "alerts: {} distinct, {} published by an invocation that then failed, {} reached the queue twice (dropped by id)",
        got.len(),
        window.len(),
        doubled.len()
    );
    assert!(
        !window.is_empty(),
        "the publish/mark-sent window was never hit"
    );
    assert!(
        !doubled.is_empty(),
        "the window's re-publish was never seen"
    );
    let stray: Vec<_> = doubled.iter().filter(|k| !window.contains(*k)).collect();
    assert!(stray.is_empty(), "copies outside the window: {stray:?}");
    assert!(
        got.values().all(|n| *n <= 2),
        "an alert arrived three times"
    );

    // then: the same states and history in DynamoDB, nothing left to deliver.
    assert_eq!(faulty.undelivered, 0, "undelivered outbox entries");
    assert_eq!(faulty.states, reference.states);
    assert_eq!(faulty.history, reference.history);

    // then: every metric data point of the state machine exactly once. (The
    // sweeper's `RunningTaskCount` gauge is a reading of ECS per tick, keyed by the
    // tick's wall-clock time: a retried tick reads again and reports again. Here the
    // test clock stands still between a tick and its retry, so the two readings share
    // a key; in Lambda the retry runs later and its reading is a new sample.)
    let want = metric_keys(&reference);
    let got = metric_keys(&faulty);
    assert!(
        want.values().all(|n| *n == 1),
        "clean run counted a metric twice"
    );
    assert_eq!(
        got.keys().collect::<Vec<_>>(),
        want.keys().collect::<Vec<_>>()
    );
    let twice: Vec<&String> = got
        .iter()
        .filter(|(_, n)| **n > 1)
        .map(|(k, _)| k)
        .collect();
    println!(
        "metrics: {} distinct data points, {} counted twice, {} sent by an invocation that then failed",
        got.len(),
        twice.len(),
        faulty.tally.window_metrics.len()
    );
    let stray: Vec<_> = twice
        .iter()
        .filter(|k| !(k.starts_with("sweep|") && faulty.tally.window_metrics.contains(**k)))
        .collect();
    assert!(stray.is_empty(), "counted twice: {stray:?}");
}

/// The same 1,000-event stream of 24+ services through the queue (batches of ten
/// consecutive events, about nine services each, their writes sent in one
/// `BatchExecuteStatement`) under the same faults: a fifth of the batch writes, the
/// publishes and the ECS reads fail (500s, throttling, resets, replies that come
/// after the SDK gave up, so a batch write may land unseen), SNS is down for a
/// stretch, and mark-sent writes fail after a publish. Every event is applied, none
/// reaches the dead-letter queue, and the run ends where the clean one-by-one run
/// does: the same alerts (copies only from the at-least-once window), the same
/// rollouts and history, nothing left in any outbox, every metric data point once.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn queued_batches_under_faults_end_where_the_clean_run_does() {
    // given
    let stream = mixed_stream(24, 1000);

    // when
    let (reference, faulty) = tokio::join!(
        sequential(&stream, setup(clean(), Duration::from_secs(30))),
        queued(&stream, setup(faulty(), ATTEMPT_TIMEOUT))
    );
    let (reference, faulty) = (reference.unwrap(), faulty.unwrap());
    report("clean, one by one", &reference);
    report("faulty, queued", &faulty);

    // then: the batch writes met every kind of fault, and every event was applied.
    let batch_writes = |outcome: fn(&Outcome) -> bool| {
        faulty
            .calls
            .iter()
            .filter(|c| c.operation == "BatchExecuteStatement" && outcome(&c.outcome))
            .count()
    };
    assert!(batch_writes(|o| matches!(o, Outcome::Forwarded(200))) > 20);
    assert!(batch_writes(|o| matches!(o, Outcome::Injected(_))) > 0);
    assert!(
        faulty.tally.unapplied.is_empty(),
        "never applied: {:?}",
        faulty.tally.unapplied
    );

    // then: the same alerts; copies only from the at-least-once window.
    let (want, got) = (ids(&reference), ids(&faulty));
    assert!(want.len() >= 100 && want.values().all(|n| *n == 1));
    // One difference the emulator makes: its ECS reports one running count for
    // every service (0 here, for the stream's zero-running rollouts). Alerts SNS
    // could not take wait in the outbox for the sweeper (a batch hands nothing back
    // for them), and the sweeper reads ECS for every service it visits: for a
    // service whose tasks run, the emulator's 0 opens a service-level zero window
    // (no rollout: `-`) that real ECS, reporting its tasks, would not. The clean run
    // retries each event until its alerts are out, so its sweeper visits none of them.
    assert_same_keys(&want, &got, "|-|zero_running_tasks|", "alerts");
    let late = late_publishes(&faulty, ATTEMPT_TIMEOUT);
    let stray: Vec<_> = got
        .iter()
        .filter(|(k, n)| **n > 1 && !faulty.tally.window_alerts.contains(*k) && !late.contains(*k))
        .collect();
    assert!(stray.is_empty(), "copies outside the window: {stray:?}");

    // then: the same rollouts and history, nothing left to deliver.
    assert_eq!(faulty.undelivered, 0, "undelivered outbox entries");
    let states = differences(&reference.states, &faulty.states);
    assert!(states.is_empty(), "states differ:\n{}", states.join("\n"));
    let history = differences(&reference.history, &faulty.history);
    assert!(
        history.is_empty(),
        "history differs:\n{}",
        history.join("\n")
    );

    // then: every counter data point once (the gauge is a reading of ECS per
    // sweeper visit, and the faulty run's sweeper visits more services: see above).
    let (want, got) = (counter_keys(&reference), counter_keys(&faulty));
    assert_same_keys(&want, &got, "|-|", "counter data points");
    let twice: Vec<_> = got.iter().filter(|(_, n)| **n > 1).collect();
    assert!(twice.is_empty(), "counted twice: {twice:?}");
}

/// The queued run has every key of the clean run and no other, but for extra keys
/// holding `emulator_only` (the service-level zero windows only the emulator's ECS
/// opens, see above).
fn assert_same_keys(
    want: &BTreeMap<String, usize>,
    got: &BTreeMap<String, usize>,
    emulator_only: &str,
    what: &str,
) {
    let missing: Vec<_> = want.keys().filter(|k| !got.contains_key(*k)).collect();
    let extra: Vec<_> = got
        .keys()
        .filter(|k| !want.contains_key(*k) && !k.contains(emulator_only))
        .collect();
    assert!(
        missing.is_empty() && extra.is_empty(),
        "the queued run's {what} differ from the clean run's: missing {missing:?}, extra {extra:?}"
    );
}
