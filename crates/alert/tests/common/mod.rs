//! Event snapshots for the alert tests.
#![allow(dead_code)]

use chrono::{DateTime, Duration, FixedOffset};
use yuqing_core::{Alert, Counts, Event, Forecast, Stage};

/// 2026-11-22 10:00 in UTC+8.
pub fn t0() -> DateTime<FixedOffset> {
    DateTime::parse_from_rfc3339("2026-11-22T10:00:00+08:00").unwrap()
}

/// `t0` plus minutes.
pub fn at(minutes: i64) -> DateTime<FixedOffset> {
    t0() + Duration::minutes(minutes)
}

/// A snapshot builder.
#[derive(Clone, Debug)]
pub struct Snap(pub Event);

impl Snap {
    /// An event first seen at `t0` plus `first` minutes, snapshot at `first`.
    pub fn new(id: &str, first: i64) -> Snap {
        let t = at(first);
        Snap(Event {
            schema_version: 1,
            event_id: id.to_string(),
            title: format!("{id} 某化工厂爆炸起火"),
            keywords: vec!["爆炸".into()],
            first_seen: t,
            first_source: "demo-weibo".into(),
            first_url: Some(format!("https://example.org/{id}")),
            last_seen: t,
            updated_at: t,
            stage: Stage::Emerging,
            velocity: 10.0,
            acceleration: 0.0,
            forecast_peak: Forecast {
                size: 100.0,
                low: 50.0,
                high: 200.0,
                peak_at: None,
                method: "test".into(),
            },
            grade: None,
            counts: Counts {
                items: 1,
                platforms: 1,
                sources: 1,
                ..Counts::default()
            },
            sensitivity: 0.2,
            sentiment: -0.2,
            category: None,
            department: Some("万载县应急管理局".into()),
            region: Some("万载县".into()),
            response_subject: vec!["万载县人民政府".into()],
            handling_class: None,
            topics: vec![],
            evidence: vec![],
            reasons: vec![],
            extra: Default::default(),
        })
    }

    /// The snapshot at `t0` plus `m` minutes (activity at the same time).
    pub fn at(mut self, m: i64) -> Snap {
        self.0.updated_at = at(m);
        self.0.last_seen = at(m);
        self
    }
    pub fn quiet_since(mut self, m: i64) -> Snap {
        self.0.last_seen = at(m);
        self
    }
    pub fn sens(mut self, s: f64) -> Snap {
        self.0.sensitivity = s;
        self
    }
    pub fn vel(mut self, v: f64) -> Snap {
        self.0.velocity = v;
        self
    }
    pub fn stage(mut self, s: Stage) -> Snap {
        self.0.stage = s;
        self
    }
    pub fn topics(mut self, t: &[&str]) -> Snap {
        self.0.topics = t.iter().map(|s| s.to_string()).collect();
        self
    }
    pub fn forecast(mut self, f: f64) -> Snap {
        self.0.forecast_peak.size = f;
        self.0.forecast_peak.low = f / 2.0;
        self.0.forecast_peak.high = f * 2.0;
        self
    }
    pub fn reach(mut self, platforms: u32, media: u32, official: u32) -> Snap {
        self.0.counts.platforms = platforms;
        self.0.counts.media = media;
        self.0.counts.official = official;
        self
    }
    pub fn size(mut self, items: u64, reposts: u64, comments: u64) -> Snap {
        self.0.counts.items = items;
        self.0.counts.reposts = reposts;
        self.0.counts.comments = comments;
        self
    }
    pub fn dept(mut self, d: &str) -> Snap {
        self.0.department = Some(d.into());
        self
    }
    pub fn build(self) -> Event {
        self.0
    }
}

/// What identifies an alert's content for comparisons.
pub fn key(a: &Alert) -> (String, String, String, String, Vec<(String, String)>) {
    (
        a.alert_id.clone(),
        a.kind.as_str().to_string(),
        a.grade.as_str().to_string(),
        a.at.to_rfc3339(),
        a.deadlines
            .iter()
            .map(|d| (d.kind.clone(), d.due.to_rfc3339()))
            .collect(),
    )
}

/// Minutes after `t0`.
pub fn minutes(a: &Alert) -> i64 {
    (a.at - t0()).num_minutes()
}
