//! Benchmarks of `yuqing-events`.
//!
//! - `events/observe`: the cost of `EventTracker::observe` per item in steady state, on a synthetic
//!   stream of a million items a day (with `expire` every 10 minutes of event time, included);
//!   item generation is outside the timing.
//! - After the criterion groups, a simulated 48 hours at a million items a day runs once and prints
//!   open events, tracked keys, the tracker's memory estimate and the process RSS every 4 hours
//!   and at the end (keys unused for `reobserve_horizon` are forgotten: they level off after it).
//!
//! ```text
//! cargo bench -p yuqing-benches --bench events
//! ```
#![allow(clippy::print_stdout)]

use std::cell::RefCell;
use std::time::{Duration as StdDuration, Instant};

use chrono::{DateTime, Duration, FixedOffset};
use criterion::{criterion_group, Criterion, Throughput};
use yuqing_core::{Analysis, Item};
use yuqing_events::synthetic::{SyntheticConfig, SyntheticStream};
use yuqing_events::{EventTracker, EventsConfig};

const PER_DAY: f64 = 1_000_000.0;

struct Feed {
    stream: SyntheticStream,
    tracker: EventTracker,
    next_expire: Option<DateTime<FixedOffset>>,
}

impl Feed {
    fn new() -> Feed {
        let cfg = EventsConfig {
            quiet_after: StdDuration::from_secs(6 * 3600),
            ..EventsConfig::default()
        };
        let mut f = Feed {
            stream: SyntheticStream::new(SyntheticConfig::per_day(42, PER_DAY)),
            tracker: EventTracker::new(&cfg),
            next_expire: None,
        };
        // Warm up: six hours of traffic, so the indexes hold a steady state.
        let warm: Vec<(Item, Analysis)> = f.stream.by_ref().take(250_000).collect();
        f.run(warm);
        f
    }

    fn run(&mut self, items: Vec<(Item, Analysis)>) {
        for (item, mut analysis) in items {
            let now = item.observed_at;
            std::hint::black_box(self.tracker.observe(&item, &mut analysis));
            let due = *self.next_expire.get_or_insert(now + Duration::minutes(10));
            if now >= due {
                std::hint::black_box(self.tracker.expire(now));
                self.next_expire = Some(now + Duration::minutes(10));
            }
        }
    }
}

fn observe(c: &mut Criterion) {
    let feed = RefCell::new(Feed::new());
    let mut g = c.benchmark_group("events/observe");
    g.throughput(Throughput::Elements(1));
    g.sample_size(20);
    g.bench_function("synthetic_1M_per_day", |b| {
        b.iter_custom(|iters| {
            let mut f = feed.borrow_mut();
            let mut left = iters;
            let mut spent = StdDuration::ZERO;
            while left > 0 {
                let n = left.min(10_000);
                let chunk: Vec<(Item, Analysis)> = f.stream.by_ref().take(n as usize).collect();
                let start = Instant::now();
                f.run(chunk);
                spent += start.elapsed();
                left -= n;
            }
            spent
        })
    });
    g.finish();
}

fn humantime_hours(d: StdDuration) -> String {
    format!("{}h", d.as_secs() / 3600)
}

fn report(tracker: &EventTracker, hour: i64, n: u64) {
    println!(
        "| {hour} | {n} | {} | {} | {:.1} | {:.1} |",
        tracker.len(),
        tracker.tracked_items(),
        tracker.memory_bytes() as f64 / 1048576.0,
        rss_kib().unwrap_or(0) as f64 / 1024.0
    );
}

fn rss_kib() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmRSS:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

/// 48 simulated hours at a million items a day: open events and memory over time.
fn day() {
    let cfg = EventsConfig {
        quiet_after: StdDuration::from_secs(6 * 3600),
        ..EventsConfig::default()
    };
    let start = SyntheticConfig::per_day(7, PER_DAY).start;
    let mut tracker = EventTracker::new(&cfg);
    let mut next_expire = start + Duration::minutes(10);
    let mut next_report = start + Duration::hours(4);
    let mut n = 0u64;
    let mut last = start;
    let mut closed = 0usize;
    let mut busy = StdDuration::ZERO;
    println!(
        "\nevents/day: 48 h of a synthetic stream at 1M items/day, quiet_after 6h, reobserve_horizon {}, expire every 10 min",
        humantime_hours(cfg.reobserve_horizon)
    );
    println!(
        "| hour | items | open events | tracked keys | tracker estimate MiB | process RSS MiB |"
    );
    println!("|---|---|---|---|---|---|");
    for (item, mut analysis) in SyntheticStream::new(SyntheticConfig::per_day(7, PER_DAY)) {
        let now = item.observed_at;
        if now - start > Duration::hours(48) {
            break;
        }
        let t = Instant::now();
        tracker.observe(&item, &mut analysis);
        if now >= next_expire {
            closed += tracker.expire(now).len();
            next_expire = now + Duration::minutes(10);
        }
        busy += t.elapsed();
        n += 1;
        last = now;
        if now >= next_report {
            report(&tracker, (now - start).num_hours(), n);
            next_report += Duration::hours(4);
        }
    }
    report(
        &tracker,
        ((last - start).num_minutes() as f64 / 60.0).round() as i64,
        n,
    );
    println!(
        "{n} items, {closed} events closed; observe+expire {:.2} µs/item ({:.0} items/s on one core)",
        busy.as_secs_f64() * 1e6 / n as f64,
        n as f64 / busy.as_secs_f64()
    );
}

criterion_group!(benches, observe);

fn main() {
    benches();
    Criterion::default().configure_from_args().final_summary();
    if std::env::args().any(|a| a == "--bench") {
        day();
    }
}
