//! Checks on the real data in `shared/data` (skipped, with a message, when it is absent).
//!
//! `YUQING_SHARED_DATA` overrides `/work/shared/data`. Nothing from the data is copied here.

use std::path::PathBuf;

use chrono::{DateTime, Duration};
use yuqing_core::{Analysis, Item, Metrics, Platform, SCHEMA_VERSION};
use yuqing_events::{EventTracker, EventsConfig, Merge};

fn data_dir() -> Option<PathBuf> {
    let dir = std::env::var_os("YUQING_SHARED_DATA")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("/work/shared/data"));
    if dir.is_dir() {
        Some(dir)
    } else {
        eprintln!("skipping: {} is absent", dir.display());
        None
    }
}

/// Splits one CSV record (quoted fields may hold commas and doubled quotes; no embedded newlines
/// in the fields read here).
fn fields(line: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut cur = String::new();
    let mut quoted = false;
    let mut chars = line.chars().peekable();
    while let Some(c) = chars.next() {
        match (c, quoted) {
            ('"', true) if chars.peek() == Some(&'"') => {
                cur.push('"');
                chars.next();
            }
            ('"', _) => quoted = !quoted,
            (',', false) => out.push(std::mem::take(&mut cur)),
            _ => cur.push(c),
        }
    }
    out.push(cur);
    out
}

/// Posts about 30 real events, interleaved: near-duplicate merges must keep events apart.
#[test]
fn near_duplicate_merges_on_real_weibo_posts_are_pure() {
    let Some(dir) = data_dir() else { return };
    let posts_dir = dir.join("weibo_events/stance_posts");
    let Ok(entries) = std::fs::read_dir(&posts_dir) else {
        eprintln!("skipping: {} is absent", posts_dir.display());
        return;
    };
    let mut files: Vec<PathBuf> = entries.flatten().map(|e| e.path()).collect();
    files.sort();
    let mut by_event: Vec<Vec<String>> = Vec::new();
    for f in &files {
        let text = std::fs::read_to_string(f).unwrap_or_default();
        let posts: Vec<String> = text
            .lines()
            .skip(1)
            .filter_map(|l| fields(l).get(4).cloned())
            .filter(|t| !t.trim().is_empty())
            .collect();
        by_event.push(posts);
    }
    // Round-robin: one post of each event in turn, a minute apart.
    let t0 = DateTime::parse_from_rfc3339("2024-10-12T08:00:00+08:00").unwrap();
    let mut tracker = EventTracker::new(&EventsConfig::default());
    let mut label_of_event: std::collections::HashMap<String, Vec<usize>> = Default::default();
    let mut merged = 0usize;
    let mut n = 0usize;
    let longest = by_event.iter().map(Vec::len).max().unwrap_or(0);
    for k in 0..longest {
        for (label, posts) in by_event.iter().enumerate() {
            let Some(text) = posts.get(k) else { continue };
            let at = t0 + Duration::seconds(n as i64 * 2);
            let item = Item {
                schema_version: SCHEMA_VERSION,
                id: format!("{label}-{k}"),
                source: "weibo".into(),
                platform: Platform::Weibo,
                url: None,
                title: None,
                text: text.clone(),
                author: None,
                published_at: at,
                observed_at: at,
                root_id: None,
                parent_id: None,
                metrics: Metrics::default(),
                region: None,
                label: None,
                extra: Default::default(),
            };
            let (e, how) = tracker.observe_with(&item, &mut Analysis::default());
            if how == Merge::NearDuplicate {
                merged += 1;
            }
            label_of_event.entry(e.event_id).or_default().push(label);
            n += 1;
        }
    }
    // Purity: the share of posts whose event's majority label is their own.
    let mut agree = 0usize;
    for labels in label_of_event.values() {
        let mut counts = std::collections::HashMap::<usize, usize>::new();
        for l in labels {
            *counts.entry(*l).or_default() += 1;
        }
        agree += counts.values().max().copied().unwrap_or(0);
    }
    let purity = agree as f64 / n as f64;
    eprintln!(
        "{n} posts, {} events, {merged} near-duplicate merges, purity {purity:.4}",
        label_of_event.len()
    );
    assert!(n > 10_000, "{n}");
    assert!(
        merged > 100,
        "near-duplicates exist in these posts: {merged}"
    );
    assert!(purity > 0.98, "{purity}");
}

/// The forecast on real cascades beats "no growth" after one hour.
#[test]
fn forecast_on_real_cascades_beats_no_growth() {
    let Some(dir) = data_dir() else { return };
    let Ok(text) = std::fs::read_to_string(dir.join("weibo_cascades/casflow_sample_weibo_29.txt"))
    else {
        eprintln!("skipping: cascades absent");
        return;
    };
    let t0 = DateTime::parse_from_rfc3339("2016-06-01T08:00:00+08:00").unwrap();
    let (mut ours, mut flat, mut m) = (0.0, 0.0, 0usize);
    let mut inside = 0usize;
    for line in text.lines() {
        let f: Vec<&str> = line.split('\t').collect();
        let Some(paths) = f.get(4) else { continue };
        let mut times: Vec<i64> = paths
            .split_whitespace()
            .filter(|p| p.contains('/'))
            .filter_map(|p| p.rsplit_once(':')?.1.parse().ok())
            .collect();
        times.sort_unstable();
        let size = 1.0 + times.len() as f64;
        let mut t = EventTracker::new(&EventsConfig::default());
        let mut e = None;
        for p in (0..=3600).step_by(300) {
            let at = t0 + Duration::seconds(p);
            let item = Item {
                schema_version: SCHEMA_VERSION,
                id: f[0].to_string(),
                source: "weibo".into(),
                platform: Platform::Weibo,
                url: None,
                title: None,
                text: "cascade".into(),
                author: None,
                published_at: t0,
                observed_at: at,
                root_id: None,
                parent_id: None,
                metrics: Metrics {
                    reposts: Some(times.partition_point(|x| *x <= p) as u64),
                    ..Metrics::default()
                },
                region: None,
                label: None,
                extra: Default::default(),
            };
            e = Some(t.observe(&item, &mut Analysis::default()));
        }
        let e = e.unwrap();
        let f = &e.forecast_peak;
        ours += ((1.0 + f.size).ln() - (1.0 + size).ln()).powi(2);
        flat += ((1.0 + e.size()).ln() - (1.0 + size).ln()).powi(2);
        if f.low <= size && size <= f.high {
            inside += 1;
        }
        m += 1;
    }
    let (ours, flat) = (ours / m as f64, flat / m as f64);
    eprintln!("{m} cascades after 1 h: MSLE {ours:.4} (no growth {flat:.4}); {inside} inside the 80% band");
    assert!(m >= 20);
    assert!(ours < 0.5 * flat, "{ours} vs {flat}");
    assert!(inside as f64 >= 0.6 * m as f64, "{inside}/{m}");
}
