//! Per-event time of the whole ecs-event-handler path (`Watcher::handle`: decode,
//! load, apply, conditional write with the outbox, publish, metrics, mark sent) with
//! the in-memory adapters, so the figure is the watcher's own CPU time per event,
//! without AWS. Prints p50 and p99 over a 10,000-event mixed stream (many services,
//! every scenario), plus criterion's mean for the whole stream.
//! Run with `cargo bench -p rollout-watcher-cli --bench handler`.
#![allow(missing_docs, clippy::unwrap_used, clippy::expect_used)]

use std::hint::black_box;
use std::sync::Arc;
use std::time::{Duration, Instant};

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use rollout_watcher::adapters::emf::EmfSink;
use rollout_watcher::adapters::memory::MemoryStore;
use rollout_watcher::adapters::recording::{ManualClock, RecordingNotifier, StaticInspector};
use rollout_watcher::delivery::{Watcher, WatcherConfig};
use rollout_watcher::model::Timestamp;
use rollout_watcher::ports::MetricsSink;
use rollout_watcher_cli::simulate::busy_account;
use serde_json::Value;

const EVENTS: usize = 10_000;

type MemWatcher = Watcher<(
    MemoryStore,
    RecordingNotifier,
    Arc<dyn MetricsSink>,
    StaticInspector,
    Arc<ManualClock>,
)>;

fn watcher(start: Timestamp) -> MemWatcher {
    Watcher {
        store: MemoryStore::new(),
        notifier: RecordingNotifier::new(),
        metrics: Arc::new(EmfSink::with_writer(
            "RolloutWatcher",
            Box::new(std::io::sink()),
        )),
        inspector: StaticInspector::new(),
        clock: Arc::new(ManualClock::at(start)),
        config: WatcherConfig::default(),
    }
}

fn time_of(e: &Value) -> Timestamp {
    e["time"].as_str().and_then(Timestamp::parse).unwrap()
}

/// One pass over the stream with a fresh watcher; the time of each `handle` call.
fn run(rt: &tokio::runtime::Runtime, events: &[Value]) -> Vec<Duration> {
    let w = watcher(time_of(&events[0]));
    rt.block_on(async {
        let mut times = Vec::with_capacity(events.len());
        for (i, e) in events.iter().enumerate() {
            w.clock.set(time_of(e));
            let id = format!("req-{i}");
            let t = Instant::now();
            let _ = black_box(w.handle(e, &id).await);
            times.push(t.elapsed());
        }
        times
    })
}

fn bench(c: &mut Criterion) {
    let events = busy_account(EVENTS).unwrap();
    let rt = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap();
    let mut g = c.benchmark_group("handler-10k");
    g.sample_size(10).measurement_time(Duration::from_secs(20));
    g.throughput(Throughput::Elements(events.len() as u64));
    g.bench_function("Watcher::handle, in-memory adapters", |b| {
        b.iter(|| run(&rt, &events))
    });
    g.finish();

    // Percentiles over five passes, for BENCHMARKS.md.
    let mut all: Vec<Duration> = (0..5).flat_map(|_| run(&rt, &events)).collect();
    all.sort();
    let pct = |p: f64| all[((all.len() as f64 * p) as usize).min(all.len() - 1)];
    println!(
        "\nhandler per event over {} events x 5: p50 {:.1} us, p99 {:.1} us, max {:.1} us",
        events.len(),
        pct(0.50).as_secs_f64() * 1e6,
        pct(0.99).as_secs_f64() * 1e6,
        all[all.len() - 1].as_secs_f64() * 1e6,
    );
}

criterion_group!(benches, bench);
criterion_main!(benches);
