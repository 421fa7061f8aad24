//! Replay throughput against the floor: replaying a 100,000-event mixed stream vs
//! merely parsing the same events with serde_json, measured in the same run so that a
//! noisy machine still gives a fair ratio. Run with `cargo bench -p rollout-watcher-cli`.
//!
//! Then the command as a whole on a busy account's day (81,000 events of 3,159
//! services rolling at once, interleaved by time) written to a file: `replay --format
//! json` and `--format text` in process (file in, output to a sink) against parsing
//! the same lines, and the release binary's peak RSS and wall time (`/usr/bin/time`)
//! on that day and on a 1,000,000-event month (the same services rolling once a day).
#![allow(missing_docs, clippy::unwrap_used, clippy::expect_used)]

use std::hint::black_box;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use rollout_watcher::core::Settings;
use rollout_watcher::replay::Replay;
use rollout_watcher_cli::replay::{Format, replay_files};
use rollout_watcher_cli::simulate::{busy_account, busy_account_day};

const EVENTS: usize = 100_000;

/// The allocator the `rollout-watcher` binary uses, with its options.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;
rollout_watcher_cli::tune_at_load!();

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

/// Events of a busy account's day: one day of the account whose day is 81,000 events.
const DAY: usize = 81_000;
/// The month's events.
const MONTH: usize = 1_000_000;

/// Writes `events` of busy days to `path` unless it is there already; its size in MB.
fn stream_file(path: &Path, events: usize) -> f64 {
    if !path.exists() {
        let tmp = path.with_extension("part");
        let mut out = std::io::BufWriter::new(std::fs::File::create(&tmp).unwrap());
        let mut left = events;
        let mut day = 0;
        while left > 0 {
            let n = left.min(DAY);
            for line in busy_account_day(n, day).unwrap() {
                writeln!(out, "{line}").unwrap();
            }
            left -= n;
            day += 1;
        }
        out.flush().unwrap();
        drop(out);
        std::fs::rename(&tmp, path).unwrap();
    }
    std::fs::metadata(path).unwrap().len() as f64 / 1e6
}

fn parse_file(path: &Path) -> usize {
    let text = std::fs::read_to_string(path).unwrap();
    let mut n = 0;
    for line in text.lines() {
        black_box(serde_json::from_str::<serde_json::Value>(line).unwrap());
        n += 1;
    }
    n
}

fn replay_file(path: &Path, format: Format) {
    let files = [path.display().to_string()];
    let counts = replay_files(&files, format, Settings::default(), &mut std::io::sink()).unwrap();
    assert_eq!(counts.bad, 0);
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

/// Peak RSS (KB) and wall seconds of the release binary replaying `path`.
fn peak_rss(path: &Path, format: &str) -> Option<(u64, f64)> {
    let out = Command::new("/usr/bin/time")
        .args([
            "-f",
            "%M %e",
            env!("CARGO_BIN_EXE_rollout-watcher"),
            "replay",
        ])
        .args(["--format", format])
        .arg(path)
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .output()
        .ok()?;
    let err = String::from_utf8_lossy(&out.stderr);
    let mut last = err.lines().last()?.split_whitespace();
    Some((last.next()?.parse().ok()?, last.next()?.parse().ok()?))
}

/// The command as a whole on files: in-process ratios, then the binary's peak RSS.
fn busy_files(_: &mut Criterion) {
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR"));
    let day = dir.join("busy-day-81k.jsonl");
    let month = dir.join("busy-month-1m.jsonl");
    let day_mb = stream_file(&day, DAY);
    let month_mb = stream_file(&month, MONTH);

    let (mut floor, mut json, mut text) = (Vec::new(), Vec::new(), Vec::new());
    let mut events = 0;
    for _ in 0..5 {
        let t = Instant::now();
        events = parse_file(&day);
        floor.push(t.elapsed().as_secs_f64());
        let t = Instant::now();
        replay_file(&day, Format::Json);
        json.push(t.elapsed().as_secs_f64());
        let t = Instant::now();
        replay_file(&day, Format::Text);
        text.push(t.elapsed().as_secs_f64());
    }
    let (f, j, t) = (median(floor), median(json), median(text));
    let rate = |s: f64| events as f64 / s;
    println!(
        "\nbusy day of {events} events from a file: replay --format json {:.0} events/s, \
         {:.2}x the parse floor ({:.0} events/s; target <= 2x); --format text {:.0} events/s, \
         {:.2}x json (target <= 1.5x)",
        rate(j),
        j / f,
        rate(f),
        rate(t),
        t / j
    );
    for (name, path, mb) in [("day", &day, day_mb), ("month", &month, month_mb)] {
        for format in ["json", "text"] {
            match peak_rss(path, format) {
                Some((kb, secs)) => println!(
                    "peak RSS, replay --format {format}, busy {name} ({mb:.0} MB of events): \
                     {kb} KB, {secs:.2} s (target < 64 MiB)"
                ),
                None => println!("peak RSS, replay --format {format}: /usr/bin/time failed"),
            }
        }
    }
}

criterion_group!(benches, bench, busy_files);
criterion_main!(benches);
