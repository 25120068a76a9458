//! # yuqing-events
//!
//! Merges judged items into events and measures their spread on event time. (Stub: the full
//! clustering and forecast are being built.)
#![warn(missing_docs)]

use std::collections::HashMap;
use std::time::Duration;

use chrono::{DateTime, FixedOffset};
use serde::Deserialize;
use yuqing_core::{id, Analysis, Counts, Event, Forecast, Item, Problems, Stage, SCHEMA_VERSION};

/// The `[events]` section of a pipeline.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct EventsConfig {
    /// An event with no new item or re-observation for this long is closed and forgotten.
    #[serde(with = "humantime_serde")]
    pub quiet_after: Duration,
}

impl Default for EventsConfig {
    fn default() -> Self {
        EventsConfig {
            quiet_after: Duration::from_secs(48 * 3600),
        }
    }
}

impl EventsConfig {
    /// Checks the section, recording problems under `path`.
    pub fn validate(&self, path: &str, problems: &mut Problems) {
        if self.quiet_after < Duration::from_secs(3600) {
            problems.at(path, "quiet_after", "must be at least 1h");
        }
    }
}

/// Tracks open events; one per analyze stage.
#[derive(Debug)]
pub struct EventTracker {
    cfg: EventsConfig,
    by_root: HashMap<String, String>,
    events: HashMap<String, Event>,
}

impl EventTracker {
    /// An empty tracker.
    pub fn new(cfg: &EventsConfig) -> EventTracker {
        EventTracker {
            cfg: cfg.clone(),
            by_root: HashMap::new(),
            events: HashMap::new(),
        }
    }

    /// Merges an item into its event (setting `analysis.event_id`) and returns the event's snapshot.
    pub fn observe(&mut self, item: &Item, analysis: &mut Analysis) -> Event {
        let root = format!("{}\u{1f}{}", item.source, item.partition_key());
        let event_id = self
            .by_root
            .entry(root)
            .or_insert_with(|| id::event_id(&item.source, item.partition_key()))
            .clone();
        analysis.event_id = Some(event_id.clone());
        let t = item.observed_at;
        let ev = self.events.entry(event_id.clone()).or_insert_with(|| Event {
            schema_version: SCHEMA_VERSION,
            event_id: event_id.clone(),
            title: item.title.clone().unwrap_or_else(|| item.text.chars().take(30).collect()),
            keywords: vec![],
            first_seen: item.published_at,
            first_source: item.source.clone(),
            first_url: item.url.clone(),
            last_seen: t,
            updated_at: t,
            stage: Stage::Emerging,
            velocity: 0.0,
            acceleration: 0.0,
            forecast_peak: Forecast {
                size: 1.0,
                low: 1.0,
                high: 1.0,
                peak_at: None,
                method: "none".into(),
            },
            grade: None,
            counts: Counts::default(),
            sensitivity: 0.0,
            sentiment: 0.0,
            category: None,
            department: None,
            region: None,
            response_subject: vec![],
            handling_class: None,
            topics: vec![],
            evidence: vec![],
            reasons: vec![],
            extra: Default::default(),
        });
        ev.counts.items += 1;
        ev.last_seen = ev.last_seen.max(t);
        ev.updated_at = t;
        ev.sensitivity = ev.sensitivity.max(analysis.sensitivity);
        ev.topics = analysis.topics.clone();
        let age = (t - ev.first_seen).num_minutes();
        ev.stage = match age {
            a if a < 120 => Stage::Emerging,
            a if a < 360 => Stage::Spreading,
            a if a < 1440 => Stage::Peak,
            _ => Stage::Fading,
        };
        ev.clone()
    }

    /// Closes events quiet since `now - quiet_after`; returns their last snapshots, stage `Fading`.
    pub fn expire(&mut self, now: DateTime<FixedOffset>) -> Vec<Event> {
        let quiet = chrono::Duration::from_std(self.cfg.quiet_after).unwrap_or(chrono::Duration::MAX);
        let gone: Vec<String> = self
            .events
            .values()
            .filter(|e| now - e.last_seen > quiet)
            .map(|e| e.event_id.clone())
            .collect();
        let mut out = Vec::new();
        for id in gone {
            if let Some(mut e) = self.events.remove(&id) {
                e.stage = Stage::Fading;
                e.updated_at = now;
                out.push(e);
            }
        }
        self.by_root.retain(|_, v| self.events.contains_key(v));
        out
    }

    /// Open events.
    pub fn len(&self) -> usize {
        self.events.len()
    }

    /// True when no event is open.
    pub fn is_empty(&self) -> bool {
        self.events.is_empty()
    }
}
