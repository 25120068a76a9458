//! How event tracking groups real Weibo posts about 30 real events.
//!
//! Reads `weibo_events/stance_posts/*.csv` (one file per event: 15,288 posts) from the shared data
//! folder (`YUQING_SHARED_DATA`, default `/work/shared/data`; skips with a message when absent),
//! interleaves the events round-robin (one post of each in turn, two seconds apart: thirty events
//! at once, harder than any real day) and runs the real `EventTracker` twice: on bare items (only
//! thread and near-duplicate merges can fire) and on items judged by the built-in analyzer
//! (keywords, places, topics, categories: the profile match). The `话题` column names the event
//! and is the label here, so it is never shown to the tracker.
//!
//! Reported per run: events, merges by kind, purity (share of posts whose event's majority label
//! is their own), mean completeness (per label, the share of its posts in its largest event) and
//! the posts that joined an event of another label by profile match.
//!
//! ```sh
//! cargo run --release -p yuqing-benches --bin eval_events_real
//! ```
//!
//! `SHOW_JOINS=1` also lists every profile join into an event of mostly another label, with the
//! evidence the tracker gave.
#![allow(clippy::print_stdout)]

use std::collections::{BTreeMap, HashMap};
use std::path::PathBuf;

use chrono::{DateTime, Duration};
use yuqing_core::{Analysis, Item, Metrics, Platform, SCHEMA_VERSION};
use yuqing_events::{EventTracker, EventsConfig, Merge};

fn main() -> anyhow::Result<()> {
    let dir = std::env::var_os("YUQING_SHARED_DATA")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("/work/shared/data"))
        .join("weibo_events/stance_posts");
    let Ok(entries) = std::fs::read_dir(&dir) else {
        println!("skipping: {} is absent", dir.display());
        return Ok(());
    };
    let mut files: Vec<PathBuf> = entries.flatten().map(|e| e.path()).collect();
    files.sort();
    let mut by_event: Vec<Vec<String>> = Vec::new();
    for f in &files {
        let mut rdr = csv::ReaderBuilder::new().flexible(true).from_path(f)?;
        let posts: Vec<String> = rdr
            .records()
            .flatten()
            .filter_map(|r| r.get(4).map(str::to_string))
            .filter(|t| !t.trim().is_empty())
            .collect();
        by_event.push(posts);
    }
    let t0 = DateTime::parse_from_rfc3339("2024-10-12T08:00:00+08:00")?;
    let mut items: Vec<(usize, Item)> = Vec::new();
    let longest = by_event.iter().map(Vec::len).max().unwrap_or(0);
    for k in 0..longest {
        for (label, posts) in by_event.iter().enumerate() {
            let Some(text) = posts.get(k) else { continue };
            let at = t0 + Duration::seconds(items.len() as i64 * 2);
            items.push((
                label,
                Item {
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
                },
            ));
        }
    }
    let analyzer = yuqing_analyze::Analyzer::builtin()?;
    let judged: Vec<Analysis> = items.iter().map(|(_, i)| analyzer.judge(i)).collect();
    println!(
        "{} posts of {} real events, interleaved",
        items.len(),
        by_event.len()
    );
    println!(
        "{:<10} {:>7} {:>9} {:>8} {:>8} {:>8} {:>13} {:>10}",
        "input", "events", "near-dup", "profile", "purity", "complete", "wrong joins", "µs/observe"
    );
    for (name, analysed) in [("bare", false), ("analysed", true)] {
        let mut tracker = EventTracker::new(&EventsConfig::default());
        let mut labels: HashMap<String, Vec<usize>> = HashMap::new();
        let mut assigned: Vec<(String, Merge)> = Vec::with_capacity(items.len());
        let started = std::time::Instant::now();
        for ((label, item), analysis) in items.iter().zip(&judged) {
            let mut a = if analysed {
                analysis.clone()
            } else {
                Analysis::default()
            };
            let (e, how) = tracker.observe_with(item, &mut a);
            if std::env::var_os("SHOW_JOINS").is_some()
                && how == Merge::Keywords
                && labels
                    .get(&e.event_id)
                    .is_some_and(|ls| ls.iter().filter(|x| *x != label).count() * 2 > ls.len())
            {
                let why = a
                    .reasons
                    .iter()
                    .rev()
                    .find(|r| r.about == "event")
                    .map(|r| r.evidence.clone())
                    .unwrap_or_default();
                println!(
                    "  wrong? {label} into {} ({} open): {why} | {}",
                    e.event_id,
                    tracker.len(),
                    item.text.chars().take(40).collect::<String>()
                );
            }
            labels.entry(e.event_id.clone()).or_default().push(*label);
            assigned.push((e.event_id, how));
        }
        let us = 1e6 * started.elapsed().as_secs_f64() / items.len() as f64;
        let majority: HashMap<&str, usize> = labels
            .iter()
            .map(|(ev, ls)| {
                let mut c: BTreeMap<usize, usize> = BTreeMap::new();
                for l in ls {
                    *c.entry(*l).or_default() += 1;
                }
                let m = c
                    .iter()
                    .max_by(|a, b| a.1.cmp(b.1).then(b.0.cmp(a.0)))
                    .map(|(l, _)| *l)
                    .unwrap_or(0);
                (ev.as_str(), m)
            })
            .collect();
        let agree = items
            .iter()
            .zip(&assigned)
            .filter(|((l, _), (ev, _))| majority[ev.as_str()] == *l)
            .count();
        let wrong = items
            .iter()
            .zip(&assigned)
            .filter(|((l, _), (ev, how))| *how == Merge::Keywords && majority[ev.as_str()] != *l)
            .count();
        let mut per_label: Vec<HashMap<&str, usize>> = vec![HashMap::new(); by_event.len()];
        for ((l, _), (ev, _)) in items.iter().zip(&assigned) {
            *per_label[*l].entry(ev.as_str()).or_default() += 1;
        }
        let completeness: f64 = per_label
            .iter()
            .zip(&by_event)
            .filter(|(_, posts)| !posts.is_empty())
            .map(|(m, posts)| *m.values().max().unwrap_or(&0) as f64 / posts.len() as f64)
            .sum::<f64>()
            / by_event.iter().filter(|p| !p.is_empty()).count().max(1) as f64;
        let count = |m: Merge| assigned.iter().filter(|(_, h)| *h == m).count();
        println!(
            "{name:<10} {:>7} {:>9} {:>8} {:>7.2}% {:>7.2}% {:>13} {:>10.2}",
            labels.len(),
            count(Merge::NearDuplicate),
            count(Merge::Keywords),
            100.0 * agree as f64 / items.len() as f64,
            100.0 * completeness,
            wrong,
            us
        );
    }
    Ok(())
}
