//! Re-runs event tracking over judged items saved earlier and reports how labelled groups landed.
//!
//! The input is JSON Lines of [`yuqing_core::JudgedItem`]s, for example what
//! `eval_events_demo --save-judged FILE` writes (the demo world's items after the real analyzer,
//! each labelled with its scripted incident in `extra.demo_incident`). The tracker's own fields
//! (`event_id`, `fingerprint`, the `event` reasons) are dropped first, so the items can be
//! regrouped under a changed tracker without judging them again.
//!
//! ```text
//! cargo run --release -p yuqing-events --example regroup -- FILE [LABEL_FIELD] [--show INCIDENT]
//! ```
//!
//! `--no-tags` removes `#hashtags#` from the texts first (a stress test of the other features).
//! `EVENTS_TOML` may hold an `[events]` section body to try other settings, for example
//! `EVENTS_TOML='match_threshold = 5.0'`.
//!
//! Per label: items, events, completeness (share of the label's items in its largest event),
//! purity (share of that event's items carrying the label), and background items (unlabelled)
//! that landed in events whose majority is a label. Also the mean cost of `observe`.
#![allow(clippy::print_stdout)]

use std::collections::{BTreeMap, HashMap};
use std::io::BufRead;
use std::time::Instant;

use yuqing_core::JudgedItem;
use yuqing_events::{EventTracker, EventsConfig, Merge};

const BACKGROUND: &str = "(background)";

fn main() {
    let mut args = std::env::args().skip(1);
    let Some(path) = args.next() else {
        eprintln!("usage: regroup FILE [LABEL_FIELD] [--show LABEL]");
        std::process::exit(2);
    };
    let mut field = "demo_incident".to_string();
    let mut show: Option<String> = None;
    let mut no_tags = false;
    while let Some(a) = args.next() {
        if a == "--no-tags" {
            no_tags = true;
        } else if a == "--show" {
            show = args.next();
        } else {
            field = a;
        }
    }
    let file = match std::fs::File::open(&path) {
        Ok(f) => f,
        Err(e) => {
            eprintln!("cannot open {path}: {e}");
            std::process::exit(1);
        }
    };
    let mut items: Vec<JudgedItem> = Vec::new();
    for line in std::io::BufReader::new(file).lines().map_while(Result::ok) {
        match JudgedItem::from_json(line.as_bytes()) {
            Ok(mut j) => {
                j.analysis.event_id = None;
                j.analysis.fingerprint = None;
                j.analysis.reasons.retain(|r| r.about != "event");
                if no_tags {
                    j.item.text = strip_tags(&j.item.text);
                    j.item.title = j.item.title.as_deref().map(strip_tags);
                }
                items.push(j);
            }
            Err(e) => eprintln!("skipping a line: {e}"),
        }
    }
    items.sort_by_key(|j| j.item.observed_at);
    let label = |j: &JudgedItem| {
        j.item
            .extra
            .get(&field)
            .and_then(|v| v.as_str())
            .unwrap_or(BACKGROUND)
            .to_string()
    };

    let cfg: EventsConfig = match std::env::var("EVENTS_TOML") {
        Ok(text) => match toml::from_str(&text) {
            Ok(c) => c,
            Err(e) => {
                eprintln!("EVENTS_TOML: {e}");
                std::process::exit(2);
            }
        },
        Err(_) => EventsConfig::default(),
    };
    let mut tracker = EventTracker::new(&cfg);
    let mut assigned: Vec<(String, Merge)> = Vec::with_capacity(items.len());
    let start = Instant::now();
    for j in &mut items {
        let (e, how) = tracker.observe_with(&j.item, &mut j.analysis);
        assigned.push((e.event_id, how));
    }
    let secs = start.elapsed().as_secs_f64();
    println!(
        "{} items regrouped in {secs:.2}s ({:.2} µs per observe); {} open events",
        items.len(),
        1e6 * secs / items.len().max(1) as f64,
        tracker.len()
    );

    let mut by_label: BTreeMap<String, HashMap<&str, usize>> = BTreeMap::new();
    let mut size: HashMap<&str, usize> = HashMap::new();
    let mut ev_labels: HashMap<&str, HashMap<String, usize>> = HashMap::new();
    let mut hows: BTreeMap<(String, &str), usize> = BTreeMap::new();
    for (j, (ev, how)) in items.iter().zip(&assigned) {
        let l = label(j);
        *by_label
            .entry(l.clone())
            .or_default()
            .entry(ev.as_str())
            .or_default() += 1;
        *size.entry(ev.as_str()).or_default() += 1;
        *ev_labels
            .entry(ev.as_str())
            .or_default()
            .entry(l.clone())
            .or_default() += 1;
        *hows.entry((l, how.as_str())).or_default() += 1;
    }
    let majority = |ev: &str| -> String {
        ev_labels[ev]
            .iter()
            .max_by(|a, b| a.1.cmp(b.1).then(b.0.cmp(a.0)))
            .map(|(l, _)| l.clone())
            .unwrap_or_default()
    };
    println!(
        "{:<28} {:>6} {:>7} {:>8} {:>13} {:>7} {:>11}",
        "label", "items", "events", "events≥5", "completeness", "purity", "bg inside"
    );
    for (l, evs) in &by_label {
        let total: usize = evs.values().sum();
        let (best, best_n) = evs
            .iter()
            .max_by(|a, b| a.1.cmp(b.1).then(b.0.cmp(a.0)))
            .map(|(e, c)| (*e, *c))
            .unwrap_or_default();
        let purity = best_n as f64 / size.get(best).copied().unwrap_or(1) as f64;
        let big = evs.keys().filter(|e| size[*e] >= 5).count();
        // Background items in events whose majority is this label.
        let bg: usize = if l == BACKGROUND {
            0
        } else {
            by_label
                .get(BACKGROUND)
                .map(|b| {
                    b.iter()
                        .filter(|(e, _)| majority(e) == *l)
                        .map(|(_, c)| *c)
                        .sum()
                })
                .unwrap_or(0)
        };
        println!(
            "{l:<28} {total:>6} {:>7} {big:>8} {:>12.1}% {:>6.1}% {bg:>11}",
            evs.len(),
            100.0 * best_n as f64 / total as f64,
            100.0 * purity,
        );
    }
    println!("merges by label:");
    for ((l, how), n) in &hows {
        println!("  {l:<28} {how:<15} {n}");
    }
    if let Some(want) = show {
        // The label's events by size, with a few of their texts.
        let Some(evs) = by_label.get(&want) else {
            println!("no label {want}");
            return;
        };
        let mut list: Vec<(&str, usize)> = evs.iter().map(|(e, c)| (*e, *c)).collect();
        list.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(b.0)));
        for (ev, n) in list.iter().take(25) {
            println!("== {ev}: {n} of {want}, {} in all", size[ev]);
            for (j, (e, how)) in items
                .iter()
                .zip(&assigned)
                .filter(|(_, (e, _))| e == ev)
                .take(4)
            {
                let a = &j.analysis;
                println!(
                    "   [{} {} {}] region={:?}/{:?} topics={:?} cat={:?} kw={:?} | {}",
                    j.item.platform,
                    how.as_str(),
                    label(j),
                    a.region,
                    a.region_code,
                    a.topics,
                    a.category,
                    a.keywords,
                    j.item.text.chars().take(70).collect::<String>()
                );
                let _ = e;
            }
        }
    }
}

/// The text without its `#hashtags#`.
fn strip_tags(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut parts = text.split('#');
    if let Some(first) = parts.next() {
        out.push_str(first);
    }
    let rest: Vec<&str> = parts.collect();
    // Odd segments (between a pair of marks) are tags; a trailing unpaired mark keeps its text.
    for (i, seg) in rest.iter().enumerate() {
        if i % 2 == 1 || (i == rest.len() - 1 && rest.len() % 2 == 1) {
            out.push_str(seg);
        }
    }
    out
}
