//! Replay throughput against the floor: replaying a 100,000-event mixed stream vs
//! merely parsing the same events with serde_json, measured in the same run so that a
//! noisy machine still gives a fair ratio. Run with `cargo bench -p rollout-watcher-cli`.
#![allow(missing_docs, clippy::unwrap_used, clippy::expect_used)]

use std::hint::black_box;
use std::time::{Duration, Instant};

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use rollout_watcher::core::Settings;
use rollout_watcher::replay::Replay;
use rollout_watcher_cli::simulate::{Params, Scenario, simulate};

const EVENTS: usize = 100_000;

/// The allocator the `rollout-watcher` binary uses.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// Many services, every scenario, interleaved by event time, as EventBridge would
/// deliver a busy account's day.
fn mixed_stream() -> Vec<String> {
    let mut all: Vec<(String, String)> = Vec::new();
    let mut i = 0u64;
    while all.len() < EVENTS {
        let mut p = Params::defaults(Scenario::ALL[(i % 6) as usize]);
        p.service = format!("svc-{i}");
        p.desired = 1 + (i % 4) as u32;
        p.seed = i;
        for e in simulate(&p).unwrap().events {
            let t = e["time"].as_str().unwrap_or_default().to_owned();
            all.push((t, e.to_string()));
        }
        i += 1;
    }
    all.sort_by(|a, b| a.0.cmp(&b.0));
    all.truncate(EVENTS);
    all.into_iter().map(|(_, e)| e).collect()
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
