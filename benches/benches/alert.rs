//! Grading throughput: `alert/on_event` feeds a day of event snapshots through a fresh
//! [`Grader`] (bundled rules), timers included; `alert/route` routes the alerts it fired.
//!
//! The stream: 2,000 events, each a spread curve of snapshots (one per growth step) whose timing
//! follows real Weibo repost cascades when `../shared/data/weibo_cascades` (or
//! `$YUQING_SHARED_DATA/weibo_cascades`) is present (the
//! cascades' relative repost times, stretched and repeated; nothing of them is copied), or a
//! deterministic self-exciting curve otherwise. Sensitivity, topics, reach and forecasts vary by
//! event so that every rule, escalation, reminder, overdue, calm and flare path runs.

use std::hint::black_box;
use std::path::Path;

use chrono::{DateTime, Duration, FixedOffset};
use criterion::{criterion_group, criterion_main, BatchSize, Criterion, Throughput};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use yuqing_alert::Grader;
use yuqing_core::{Counts, Event, Forecast, Stage};

const EVENTS: usize = 2_000;
const MAX_STEPS: usize = 40;

/// Relative repost times (seconds since the original post) of real cascades, when present.
fn cascade_shapes() -> Option<Vec<Vec<i64>>> {
    let data = std::env::var_os("YUQING_SHARED_DATA")
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared/data"));
    let path = data.join("weibo_cascades/casflow_sample_weibo_29.txt");
    let text = std::fs::read_to_string(&path).ok()?;
    let shapes: Vec<Vec<i64>> = text
        .lines()
        .filter_map(|line| {
            let paths = line.split('\t').nth(4)?;
            let mut times: Vec<i64> = paths
                .split_whitespace()
                .filter_map(|p| p.rsplit_once(':')?.1.parse().ok())
                .collect();
            times.sort_unstable();
            (times.len() > 3).then_some(times)
        })
        .collect();
    (!shapes.is_empty()).then_some(shapes)
}

fn synthetic_shape(rng: &mut ChaCha8Rng) -> Vec<i64> {
    // A self-exciting curve: bursts early, then decay.
    let n = rng.gen_range(10..400);
    let mut t = 0.0f64;
    (0..n)
        .map(|i| {
            t += rng.gen_range(1.0..60.0) * (1.0 + i as f64 / 20.0);
            t as i64
        })
        .collect()
}

fn stream() -> Vec<Event> {
    let mut rng = ChaCha8Rng::seed_from_u64(7);
    let shapes = cascade_shapes();
    match &shapes {
        Some(s) => eprintln!("alert bench: timing from {} real cascades", s.len()),
        None => eprintln!("alert bench: ../shared/data absent, synthetic spread curves"),
    }
    let t0: DateTime<FixedOffset> =
        DateTime::parse_from_rfc3339("2026-11-22T00:00:00+08:00").unwrap();
    let topics = [
        vec![],
        vec!["安全事故".to_string()],
        vec!["欠薪".to_string()],
        vec!["自然灾害".to_string()],
    ];
    let depts = [
        "应急管理局",
        "住房和城乡建设局",
        "教育局",
        "公安局",
        "某协会",
    ];
    let mut out = Vec::new();
    for i in 0..EVENTS {
        let shape = match &shapes {
            Some(s) => s[i % s.len()].clone(),
            None => synthetic_shape(&mut rng),
        };
        // Stretch: cascades span minutes to a day; spread snapshots over up to 30 h.
        let stretch = rng.gen_range(1.0..8.0);
        let start = t0 + Duration::seconds(rng.gen_range(0..20 * 3600));
        let sens: f64 = [0.2, 0.45, 0.55, 0.7, 0.9][i % 5];
        let scale = [1.0, 10.0, 100.0, 1000.0][i % 4];
        let step = shape.len().div_ceil(MAX_STEPS).max(1);
        let total = shape.len() as f64;
        for (k, chunk) in shape.chunks(step).enumerate() {
            let last = *chunk.last().unwrap();
            let at = start + Duration::seconds((last as f64 * stretch) as i64);
            let done = ((k + 1) * step).min(shape.len()) as f64;
            let age_h = (at - start).num_minutes() as f64 / 60.0;
            let stage = match age_h {
                a if a < 2.0 => Stage::Emerging,
                a if a < 6.0 => Stage::Spreading,
                a if a < 24.0 => Stage::Peak,
                _ => Stage::Fading,
            };
            let size = done * scale;
            out.push(Event {
                schema_version: 1,
                event_id: format!("ev-{i:05}"),
                title: format!("事件 {i}"),
                keywords: vec![],
                first_seen: start,
                first_source: "bench".into(),
                first_url: None,
                last_seen: at,
                updated_at: at,
                stage,
                velocity: size / age_h.max(0.25),
                acceleration: 0.0,
                forecast_peak: Forecast {
                    size: total * scale * 1.5,
                    low: total * scale,
                    high: total * scale * 3.0,
                    peak_at: None,
                    method: "bench".into(),
                },
                grade: None,
                counts: Counts {
                    items: done as u64,
                    reposts: (size * 0.7) as u64,
                    comments: (size * 0.3) as u64,
                    platforms: 1 + (k as u32 % 4),
                    media: (size / 2000.0) as u32,
                    official: (size / 50_000.0) as u32,
                    ..Counts::default()
                },
                sensitivity: sens,
                sentiment: -0.4,
                category: None,
                department: Some(depts[i % depts.len()].to_string()),
                region: Some("某县".into()),
                response_subject: vec![],
                handling_class: None,
                topics: topics[i % topics.len()].clone(),
                evidence: vec![],
                reasons: vec![],
                extra: Default::default(),
            });
        }
    }
    out.sort_by_key(|e| e.updated_at);
    out
}

fn bench(c: &mut Criterion) {
    let events = stream();
    let mut probe = Grader::builtin().unwrap();
    let alerts: Vec<_> = events.iter().flat_map(|e| probe.on_event(e)).collect();
    eprintln!(
        "alert bench: {} snapshots of {EVENTS} events → {} alerts, {} tracked",
        events.len(),
        alerts.len(),
        probe.tracked()
    );
    assert!(
        alerts.len() > EVENTS / 4,
        "the stream must exercise the grader"
    );

    let mut g = c.benchmark_group("alert");
    g.throughput(Throughput::Elements(events.len() as u64));
    g.sample_size(20);
    g.bench_function("on_event", |b| {
        b.iter_batched(
            || Grader::builtin().unwrap(),
            |mut grader| {
                let mut n = 0;
                for e in &events {
                    n += black_box(grader.on_event(e)).len();
                }
                assert_eq!(n, alerts.len());
                grader
            },
            BatchSize::LargeInput,
        )
    });
    g.throughput(Throughput::Elements(alerts.len() as u64));
    g.bench_function("route", |b| {
        b.iter(|| {
            for a in &alerts {
                black_box(probe.route(a, a.at));
            }
        })
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
