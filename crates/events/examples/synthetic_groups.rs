//! How the tracker groups the synthetic stream's incidents (a simulated day of 100,000 items).
//!
//! The synthetic generator (`yuqing_events::synthetic`) names every item after its incident
//! (`i<n>-<seq>`), so grouping can be scored: purity (share of items whose event's majority
//! incident is their own) and completeness (share of an incident's items in its largest event,
//! over incidents of at least five items). Re-observations are counted once.
//!
//! ```text
//! cargo run --release -p yuqing-events --example synthetic_groups
//! ```
#![allow(clippy::print_stdout)]

use std::collections::{BTreeMap, HashMap};

use yuqing_events::synthetic::{SyntheticConfig, SyntheticStream};
use yuqing_events::{EventTracker, EventsConfig, Merge};

fn main() {
    let cfg = EventsConfig {
        quiet_after: std::time::Duration::from_secs(2 * 3600),
        ..EventsConfig::default()
    };
    let mut tracker = EventTracker::new(&cfg);
    let start = SyntheticConfig::per_day(3, 1.0).start;
    let mut per_incident: HashMap<String, HashMap<String, usize>> = HashMap::new();
    let mut hows: BTreeMap<&str, usize> = BTreeMap::new();
    let mut next_expire = None;
    for (item, mut analysis) in SyntheticStream::new(SyntheticConfig::per_day(3, 100_000.0)) {
        let now = item.observed_at;
        if now - start > chrono::Duration::hours(24) {
            break;
        }
        let incident = item.id.split('-').next().unwrap_or_default().to_string();
        let (e, how) = tracker.observe_with(&item, &mut analysis);
        *hows.entry(how.as_str()).or_default() += 1;
        if how != Merge::Reobserved {
            *per_incident
                .entry(incident)
                .or_default()
                .entry(e.event_id)
                .or_default() += 1;
        }
        let due = *next_expire.get_or_insert(now + chrono::Duration::minutes(10));
        if now >= due {
            tracker.expire(now);
            next_expire = Some(now + chrono::Duration::minutes(10));
        }
    }
    let mut by_event: HashMap<&str, HashMap<&str, usize>> = HashMap::new();
    for (inc, evs) in &per_incident {
        for (e, n) in evs {
            *by_event.entry(e).or_default().entry(inc).or_default() += n;
        }
    }
    let (mut agree, mut all) = (0usize, 0usize);
    for m in by_event.values() {
        agree += m.values().max().copied().unwrap_or(0);
        all += m.values().sum::<usize>();
    }
    let (mut big, mut split, mut items, mut kept) = (0usize, 0usize, 0usize, 0usize);
    for evs in per_incident.values() {
        let n: usize = evs.values().sum();
        if n >= 5 {
            big += 1;
            split += usize::from(evs.len() > 1);
            items += n;
            kept += evs.values().max().copied().unwrap_or(0);
        }
    }
    println!("merges: {hows:?}");
    println!(
        "purity {:.4} over {} events; {big} incidents of 5+ items, {split} split, completeness {:.4}",
        agree as f64 / all.max(1) as f64,
        by_event.len(),
        kept as f64 / items.max(1) as f64
    );
    println!(
        "at the end: {} open events, {} tracked keys, {:.1} MB",
        tracker.len(),
        tracker.tracked_items(),
        tracker.memory_bytes() as f64 / 1e6
    );
}
