//! The synchronous cores of the stages, shared by the daemon, batch mode, `replay` and restart
//! recovery — so all four produce the same records for the same input.

use std::sync::Arc;

use chrono::{DateTime, FixedOffset};
use yuqing_alert::Grader;
use yuqing_analyze::{Analyzer, SharedAnalyzer};
use yuqing_core::{id, Alert, Event, Item, JudgedItem, Stage};
use yuqing_events::{EventTracker, EventsConfig};

use crate::config::PipelineConfig;

/// Author hashing at ingestion (ethics by design: keep only what the source published, and
/// optionally not even that).
#[derive(Debug, Clone, Default)]
pub struct Privacy {
    salt: Option<String>,
}

impl Privacy {
    /// From the `[privacy]` section.
    pub fn from_config(cfg: &PipelineConfig) -> Privacy {
        Privacy {
            salt: cfg.privacy.hash_authors.then(|| cfg.privacy.salt.clone()),
        }
    }

    /// Applies the policy to an item about to be accepted.
    pub fn apply(&self, item: &mut Item) {
        if let (Some(salt), Some(author)) = (&self.salt, &item.author) {
            if !author.starts_with("h:") {
                item.author = Some(id::hash_author(salt, author));
            }
        }
    }
}

/// Judge, then merge into an event.
#[derive(Debug)]
pub struct AnalyzeCore {
    analyzer: Arc<SharedAnalyzer>,
    tracker: EventTracker,
    /// Each open event's stage, for the by-phase gauge.
    phases: std::collections::HashMap<String, yuqing_core::Stage>,
}

impl AnalyzeCore {
    /// A core with a fresh event tracker.
    pub fn new(analyzer: Arc<SharedAnalyzer>, events: &EventsConfig) -> AnalyzeCore {
        AnalyzeCore {
            analyzer,
            tracker: EventTracker::new(events),
            phases: std::collections::HashMap::new(),
        }
    }

    /// The analyzer in use now (rules may reload underneath).
    pub fn analyzer(&self) -> Arc<Analyzer> {
        self.analyzer.current()
    }

    /// The shared handle (for reloading).
    pub fn shared(&self) -> &Arc<SharedAnalyzer> {
        &self.analyzer
    }

    /// Judges items (may run on any thread); the order of the output is the order of the input.
    pub fn judge_all(analyzer: &Analyzer, items: Vec<Item>) -> Vec<JudgedItem> {
        items
            .into_iter()
            .map(|item| {
                let analysis = analyzer.judge(&item);
                JudgedItem { item, analysis }
            })
            .collect()
    }

    /// Merges judged items into events, in order; returns the event snapshot after each.
    pub fn track(&mut self, judged: &mut [JudgedItem]) -> Vec<Event> {
        let events: Vec<Event> = judged
            .iter_mut()
            .map(|j| self.tracker.observe(&j.item, &mut j.analysis))
            .collect();
        for e in &events {
            self.phases.insert(e.event_id.clone(), e.stage);
        }
        events
    }

    /// Sets `yuqing_events_open_by_phase` from the open events' latest stages.
    pub fn report_phases(&self) {
        for stage in [
            Stage::Emerging,
            Stage::Spreading,
            Stage::Peak,
            Stage::Fading,
        ] {
            let n = self.phases.values().filter(|s| **s == stage).count();
            yuqing_core::telemetry::EVENTS_BY_PHASE
                .with_label_values(&[stage.as_str()])
                .set(n as i64);
        }
    }

    /// Judges and tracks one item.
    pub fn process(&mut self, item: Item) -> (JudgedItem, Event) {
        let analysis = self.analyzer.current().judge(&item);
        let mut j = JudgedItem { item, analysis };
        let e = self.tracker.observe(&j.item, &mut j.analysis);
        (j, e)
    }

    /// Closes quiet events at event time `now`; returns their last snapshots.
    pub fn expire(&mut self, now: DateTime<FixedOffset>) -> Vec<Event> {
        let gone = self.tracker.expire(now);
        for e in &gone {
            self.phases.remove(&e.event_id);
        }
        gone
    }

    /// Open events.
    pub fn open_events(&self) -> usize {
        self.tracker.len()
    }
}

/// Grade event snapshots into alerts, routed to their receivers.
#[derive(Debug)]
pub struct AlertCore {
    grader: Grader,
}

impl AlertCore {
    /// A core over a grader.
    pub fn new(grader: Grader) -> AlertCore {
        AlertCore { grader }
    }

    /// The alerts an event snapshot causes: first what became due by its event time (reminders,
    /// missed deadlines, calm), then the grading of the snapshot itself. Each alert carries its
    /// route in `extra["route"]`.
    pub fn on_event(&mut self, ev: &Event) -> Vec<Alert> {
        let mut out = self.grader.tick(ev.updated_at);
        out.extend(self.grader.on_event(ev));
        self.route(out)
    }

    /// What became due by `now` with no new event (the daemon's timer).
    pub fn tick(&mut self, now: DateTime<FixedOffset>) -> Vec<Alert> {
        let out = self.grader.tick(now);
        self.route(out)
    }

    /// Rebuilds grading state from stored alerts (after a restart).
    pub fn restore(&mut self, alerts: &[Alert]) {
        self.grader.restore(alerts);
    }

    /// The grader, for workflow notifications (responses).
    pub fn grader_mut(&mut self) -> &mut Grader {
        &mut self.grader
    }

    fn route(&self, alerts: Vec<Alert>) -> Vec<Alert> {
        alerts
            .into_iter()
            .map(|mut a| {
                self.grader.route(&a, a.at).apply(&mut a);
                a
            })
            .collect()
    }
}

/// Builds the analyzer of a pipeline.
pub fn analyzer(cfg: &PipelineConfig) -> anyhow::Result<Arc<SharedAnalyzer>> {
    Ok(Arc::new(SharedAnalyzer::load(&cfg.analyze, &cfg.base_dir)?))
}

/// Builds the grader of a pipeline; its router learns the kinds of the configured sinks (quiet
/// hours hold back chat sinks only).
pub fn grader(cfg: &PipelineConfig) -> anyhow::Result<Grader> {
    let mut g = Grader::new(&cfg.alert, &cfg.base_dir)?;
    g.router_mut().set_sink_kinds(
        cfg.sinks
            .iter()
            .map(|s| (s.id().to_string(), s.kind().to_string())),
    );
    Ok(g)
}
