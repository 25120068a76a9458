//! How well judgment and event tracking group the demo world's scripted incidents.
//!
//! The demo world knows which incident every post, repost and comment belongs to
//! (`extra.demo_incident`); background chatter belongs to none. This harness replays everything
//! the world published in its first `HOURS` simulated hours through the real pipeline cores (the
//! same `replay` the CLI runs) and reports, per incident: items, the events they landed in, the
//! share of the incident held by its largest event (completeness), the share of that event that
//! belongs to the incident (purity), and the first alert's grade and delay after the first post.
//!
//! ```sh
//! cargo run --release -p yuqing-benches --bin eval_events_demo -- [HOURS] [--live MINUTES] [--save-judged FILE] [--alerts]
//! ```
//!
//! By default every item is observed once, at the end (`items_at(HOURS)`: all `observed_at` are
//! equal, so time plays no part in grouping and every first alert is "after 0 min").
//! `--live MINUTES` instead replays what a crawler polling every MINUTES would see: each item
//! when first published (with the counts of that moment) and posts again, at most hourly, as their
//! counts grow; first-alert delays are then real.
//!
//! `--alerts` also lists every alerted event: its majority incident, size, title and first alert.
//!
//! `--save-judged FILE` also writes the judged items (JSON Lines) so that event tracking alone can
//! be re-run on them: `cargo run --release -p yuqing-events --example regroup -- FILE`.

use std::collections::{BTreeMap, HashMap};

/// Everything the world publishes in its first `hours`, as a crawler polling every `every`
/// minutes sees it: each item when first seen (with the counts of that moment), and posts again
/// whenever their counts changed, at most once per `reobserve` minutes.
fn live_items(
    world: &yuqing_demo::DemoWorld,
    start: chrono::DateTime<chrono::Utc>,
    hours: i64,
    every: i64,
    reobserve: i64,
) -> Vec<yuqing_core::Item> {
    let mut seen: HashMap<(String, String), (yuqing_core::Metrics, i64)> = HashMap::new();
    let mut out = Vec::new();
    let polls = hours * 60 / every.max(1);
    for k in 0..=polls {
        let minute = k * every;
        for it in world.items_at(start + chrono::Duration::minutes(minute)) {
            match seen.get_mut(&(it.source.clone(), it.id.clone())) {
                None => {
                    seen.insert((it.source.clone(), it.id.clone()), (it.metrics, minute));
                    out.push(it);
                }
                Some((m, last)) => {
                    if it.root_id.is_none() && it.metrics != *m && minute - *last >= reobserve {
                        *m = it.metrics;
                        *last = minute;
                        out.push(it);
                    }
                }
            }
        }
    }
    out
}

fn main() -> anyhow::Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let mut hours: i64 = 24;
    let mut save: Option<String> = None;
    let mut live: Option<i64> = None;
    let mut list_alerts = false;
    let mut it = args.iter();
    while let Some(a) = it.next() {
        match a.as_str() {
            "--save-judged" => save = it.next().cloned(),
            "--live" => live = it.next().and_then(|m| m.parse().ok()),
            "--alerts" => list_alerts = true,
            other => {
                hours = other
                    .parse()
                    .map_err(|_| anyhow::anyhow!("unknown argument {other}"))?
            }
        }
    }
    let start = yuqing_demo::default_start();
    let world = yuqing_demo::DemoWorld::bundled()?.with_start(start);
    let items = match live {
        Some(every) => live_items(&world, start, hours, every, 60),
        None => world.items_at(start + chrono::Duration::hours(hours)),
    };
    let n = items.len();
    let cfg = yuqing_daemon::PipelineConfig::from_toml("", "eval", ".".into(), std::iter::empty())?;
    let t = std::time::Instant::now();
    let out = yuqing_daemon::batch::replay_items(&cfg, items)?;
    let secs = t.elapsed().as_secs_f64();
    if let Some(path) = save {
        use std::io::Write;
        let mut w = std::io::BufWriter::new(std::fs::File::create(path)?);
        for j in &out.scored {
            w.write_all(&j.to_json())?;
            w.write_all(b"\n")?;
        }
        w.flush()?;
    }

    // Each item once (re-observations of a post count once, in the event it was last merged
    // into): incident → event → count; event → total count.
    let mut last: HashMap<(&str, &str), (&str, String)> = HashMap::new();
    let mut first_post: HashMap<String, chrono::DateTime<chrono::FixedOffset>> = HashMap::new();
    for j in &out.scored {
        let ev = j.analysis.event_id.clone().unwrap_or_default();
        let inc = j
            .item
            .extra
            .get("demo_incident")
            .and_then(|v| v.as_str())
            .unwrap_or("(background)");
        last.insert((j.item.source.as_str(), j.item.id.as_str()), (inc, ev));
        let f = first_post
            .entry(inc.to_string())
            .or_insert(j.item.observed_at);
        *f = (*f).min(j.item.observed_at);
    }
    let mut by_incident: BTreeMap<String, HashMap<String, usize>> = BTreeMap::new();
    let mut event_size: HashMap<String, usize> = HashMap::new();
    for (inc, ev) in last.values() {
        *event_size.entry(ev.clone()).or_default() += 1;
        *by_incident
            .entry(inc.to_string())
            .or_default()
            .entry(ev.clone())
            .or_default() += 1;
    }
    let mut first_alert: HashMap<String, &yuqing_core::Alert> = HashMap::new();
    for a in &out.alerts {
        first_alert.entry(a.event_id.clone()).or_insert(a);
    }
    println!("replayed {n} items of {hours} simulated hours in {secs:.1}s ({:.0} items/s); {} events, {} alerts",
        n as f64 / secs, event_size.len(), out.alerts.len());
    println!(
        "{:<28} {:>6} {:>7} {:>13} {:>7}  first alert",
        "incident", "items", "events", "completeness", "purity"
    );
    for (inc, evs) in &by_incident {
        let total: usize = evs.values().sum();
        let (best, best_n) = evs
            .iter()
            .max_by_key(|(_, c)| **c)
            .map(|(e, c)| (e.clone(), *c))
            .unwrap_or_default();
        let purity = best_n as f64 / *event_size.get(&best).unwrap_or(&1) as f64;
        let alerted: Vec<_> = evs.keys().filter_map(|e| first_alert.get(e)).collect();
        let first = alerted.iter().min_by_key(|a| a.at).map(|a| {
            let delay = (a.at - first_post[inc]).num_minutes();
            format!(
                "{} after {delay} min ({} events alerted)",
                a.grade,
                alerted.len()
            )
        });
        println!(
            "{inc:<28} {total:>6} {:>7} {:>12.0}% {:>6.0}%  {}",
            evs.len(),
            100.0 * best_n as f64 / total as f64,
            100.0 * purity,
            first.unwrap_or_else(|| "none".into())
        );
    }
    if list_alerts {
        let mut labels: HashMap<&str, HashMap<&str, usize>> = HashMap::new();
        for (inc, ev) in last.values() {
            *labels
                .entry(ev.as_str())
                .or_default()
                .entry(inc)
                .or_default() += 1;
        }
        let mut alerted: Vec<&yuqing_core::Alert> = first_alert.values().copied().collect();
        alerted.sort_by(|a, b| a.at.cmp(&b.at).then(a.event_id.cmp(&b.event_id)));
        println!("alerted events (first alert each):");
        for a in alerted {
            let l = &labels[a.event_id.as_str()];
            let (inc, n) = l
                .iter()
                .max_by(|x, y| x.1.cmp(y.1).then(y.0.cmp(x.0)))
                .map(|(i, n)| (*i, *n))
                .unwrap_or_default();
            let total: usize = l.values().sum();
            println!(
                "  {} {:<24} {n:>6}/{total:<6} {} {} {} | {}",
                a.at.format("%d %H:%M"),
                inc,
                a.grade,
                a.kind.as_str(),
                a.rule,
                a.title
            );
        }
    }
    Ok(())
}
