//! Replay throughput against the floor: replaying a 100,000-event mixed stream vs
//! merely parsing the same events with serde_json, measured in the same run so that a
//! noisy machine still gives a fair ratio. Run with `cargo bench -p rollout-watcher-cli`.
#![allow(missing_docs, clippy::unwrap_used, clippy::expect_used)]

use std::hint::black_box;
use std::time::{Duration, Instant};

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use rollout_watcher::core::Settings;
use rollout_watcher::replay::Replay;
use rollout_watcher_cli::simulate::busy_account;

const EVENTS: usize = 100_000;

/// The allocator the `rollout-watcher` binary uses.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// A busy account's day, as JSON lines.
fn mixed_stream() -> Vec<String> {
    busy_account(EVENTS)
        .unwrap()
        .iter()
        .map(|e| e.to_string())
        .collect()
}

fn parse_only(events: &[String]) {
    for e in events {
        black_box(serde_json::from_str::<serde_json::Value>(e).unwrap());
    }
}

fn replay(events: &[String]) {
    let mut r = Replay::new(Settings::default());
    for e in events {
        let _ = black_box(r.apply_json(e).unwrap());
    }
}

fn bench(c: &mut Criterion) {
    let events = mixed_stream();
    let mut g = c.benchmark_group("replay-100k");
    g.sample_size(10).measurement_time(Duration::from_secs(20));
    g.throughput(Throughput::Elements(events.len() as u64));
    g.bench_function("serde_json parse only (floor)", |b| {
        b.iter(|| parse_only(&events))
    });
    g.bench_function("watcher replay", |b| b.iter(|| replay(&events)));
    g.finish();

    // The ratio, from interleaved runs of both (median of 5), printed for BENCHMARKS.md.
    let mut floor = Vec::new();
    let mut full = Vec::new();
    for _ in 0..5 {
        let t = Instant::now();
        parse_only(&events);
        floor.push(t.elapsed());
        let t = Instant::now();
        replay(&events);
        full.push(t.elapsed());
    }
    floor.sort();
    full.sort();
    let (f, r) = (floor[2].as_secs_f64(), full[2].as_secs_f64());
    println!(
        "\nreplay of {} events: {:.0} events/s; parse-only floor {:.0} events/s; ratio {:.2}x (target <= 3x)",
        events.len(),
        events.len() as f64 / r,
        events.len() as f64 / f,
        r / f
    );
}

criterion_group!(benches, bench);
criterion_main!(benches);
