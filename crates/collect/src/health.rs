//! Source health: per-source status for dashboards, and [`HealthEvent`]s that the daemon turns
//! into alerts of kind `SourceHealth` (信源异常).

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, FixedOffset, Utc};
use parking_lot::Mutex;
use serde::Serialize;
use tokio::sync::broadcast;
use tracing::{info, warn};

use crate::metrics;

/// How a source is doing.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum HealthStatus {
    /// Not polled yet.
    Unknown,
    /// The last poll succeeded and items arrive.
    Ok,
    /// Polls succeed but nothing new arrived for longer than N intervals.
    Silent,
    /// At least `failure_threshold` polls in a row failed.
    Failing,
    /// The source blocks us (HTTP 432, captcha); we back off.
    Blocked,
    /// Configured but not polled (`enabled = false` or a setup error).
    Disabled,
}

/// A snapshot of one source's health.
#[derive(Debug, Clone, Serialize)]
pub struct SourceHealth {
    /// The source id.
    pub source: String,
    /// The source kind.
    pub kind: String,
    /// The status.
    pub status: HealthStatus,
    /// Clock time of the last poll.
    pub last_attempt: Option<DateTime<Utc>>,
    /// Clock time of the last successful poll.
    pub last_success: Option<DateTime<Utc>>,
    /// The last error, in words.
    pub last_error: Option<String>,
    /// Failed polls since the last success.
    pub consecutive_failures: u32,
    /// Polls so far.
    pub polls: u64,
    /// Failed polls by error kind.
    pub errors_by_kind: BTreeMap<String, u64>,
    /// Publication time of the newest item seen.
    pub newest_item: Option<DateTime<FixedOffset>>,
    /// Clock time at which the last new item arrived.
    pub last_new_item: Option<DateTime<Utc>>,
    /// Until when polls are suspended after a block.
    pub blocked_until: Option<DateTime<Utc>>,
    /// Items emitted so far (new ones and re-observations).
    pub items_emitted: u64,
    /// Clock time of the first successful poll (silence is counted from here until an item arrives).
    pub watching_since: Option<DateTime<Utc>>,
}

impl SourceHealth {
    /// Share of failed polls so far.
    pub fn error_rate(&self) -> f64 {
        if self.polls == 0 {
            0.0
        } else {
            self.errors_by_kind.values().sum::<u64>() as f64 / self.polls as f64
        }
    }
}

/// What changed about a source.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum HealthEventKind {
    /// The source blocks us (HTTP 432, captcha `ok:-100`).
    Blocked {
        /// What the source said.
        reason: String,
        /// When we try again.
        until: DateTime<Utc>,
    },
    /// Polls keep failing.
    Failing {
        /// Failed polls in a row.
        consecutive: u32,
        /// The bounded error kind.
        error_kind: String,
        /// The last error in words.
        error: String,
    },
    /// No new item for longer than the configured number of intervals.
    Silent {
        /// Clock time of the last new item (or of the first poll).
        since: DateTime<Utc>,
        /// The silence measured in intervals.
        intervals: u32,
    },
    /// The source works again.
    Recovered {
        /// The status it recovered from.
        from: HealthStatus,
    },
}

/// A change of a source's health, for the daemon's `SourceHealth` alerts.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct HealthEvent {
    /// The source id.
    pub source: String,
    /// Clock time of the change.
    pub at: DateTime<Utc>,
    /// What changed.
    pub kind: HealthEventKind,
}

impl HealthEvent {
    /// A line a duty officer reads.
    pub fn message(&self) -> String {
        match &self.kind {
            HealthEventKind::Blocked { reason, until } => format!(
                "信源 {} 被对方限制访问（{reason}），暂停采集至 {}",
                self.source,
                until
                    .with_timezone(&yuqing_core::clock::cst())
                    .format("%m-%d %H:%M")
            ),
            HealthEventKind::Failing {
                consecutive, error, ..
            } => {
                format!(
                    "信源 {} 连续 {consecutive} 次采集失败：{error}",
                    self.source
                )
            }
            HealthEventKind::Silent { intervals, .. } => {
                format!(
                    "信源 {} 已超过 {intervals} 个采集周期没有新内容",
                    self.source
                )
            }
            HealthEventKind::Recovered { .. } => format!("信源 {} 已恢复采集", self.source),
        }
    }
}

/// Shared health registry of a collector.
#[derive(Debug)]
pub(crate) struct HealthRegistry {
    sources: Mutex<HashMap<String, SourceHealth>>,
    events: broadcast::Sender<HealthEvent>,
}

/// The outcome of a poll, as health sees it.
pub(crate) enum PollResult<'a> {
    Success {
        new_items: u64,
        reobserved: u64,
        newest: Option<DateTime<FixedOffset>>,
    },
    Failure {
        kind: &'a str,
        error: String,
    },
    Blocked {
        reason: String,
        until: DateTime<Utc>,
    },
}

impl HealthRegistry {
    pub(crate) fn new() -> Arc<HealthRegistry> {
        let (events, _) = broadcast::channel(256);
        Arc::new(HealthRegistry {
            sources: Mutex::new(HashMap::new()),
            events,
        })
    }

    pub(crate) fn register(&self, source: &str, kind: &str, enabled: bool) {
        metrics::init_source(source);
        self.sources.lock().insert(
            source.to_string(),
            SourceHealth {
                source: source.to_string(),
                kind: kind.to_string(),
                status: if enabled {
                    HealthStatus::Unknown
                } else {
                    HealthStatus::Disabled
                },
                last_attempt: None,
                last_success: None,
                last_error: None,
                consecutive_failures: 0,
                polls: 0,
                errors_by_kind: BTreeMap::new(),
                newest_item: None,
                last_new_item: None,
                blocked_until: None,
                items_emitted: 0,
                watching_since: None,
            },
        );
    }

    pub(crate) fn disable(&self, source: &str, error: String) {
        if let Some(h) = self.sources.lock().get_mut(source) {
            h.status = HealthStatus::Disabled;
            h.last_error = Some(error);
        }
    }

    pub(crate) fn subscribe(&self) -> broadcast::Receiver<HealthEvent> {
        self.events.subscribe()
    }

    pub(crate) fn snapshot(&self) -> Vec<SourceHealth> {
        let mut v: Vec<SourceHealth> = self.sources.lock().values().cloned().collect();
        v.sort_by(|a, b| a.source.cmp(&b.source));
        v
    }

    pub(crate) fn get(&self, source: &str) -> Option<SourceHealth> {
        self.sources.lock().get(source).cloned()
    }

    fn send(&self, ev: HealthEvent) {
        match &ev.kind {
            HealthEventKind::Recovered { .. } => info!(source = %ev.source, "{}", ev.message()),
            _ => warn!(source = %ev.source, "{}", ev.message()),
        }
        // Nobody listening is fine: the snapshot and the metrics still tell.
        let _ = self.events.send(ev);
    }

    /// Records a poll; `now` is clock time, `interval` the source's current interval.
    pub(crate) fn record(
        &self,
        source: &str,
        now: DateTime<Utc>,
        interval: Duration,
        silent_after: u32,
        failure_threshold: u32,
        result: PollResult<'_>,
    ) {
        let mut events = Vec::new();
        {
            let mut map = self.sources.lock();
            let Some(h) = map.get_mut(source) else { return };
            h.polls += 1;
            h.last_attempt = Some(now);
            let before = h.status;
            match result {
                PollResult::Success {
                    new_items,
                    reobserved,
                    newest,
                } => {
                    h.last_success = Some(now);
                    h.last_error = None;
                    h.consecutive_failures = 0;
                    h.blocked_until = None;
                    h.items_emitted += new_items + reobserved;
                    if new_items > 0 {
                        h.last_new_item = Some(now);
                    }
                    if let Some(n) = newest {
                        if h.newest_item.is_none_or(|old| n > old) {
                            h.newest_item = Some(n);
                        }
                    }
                    let watching = *h.watching_since.get_or_insert(now);
                    let since = h.last_new_item.unwrap_or(watching);
                    let quiet = now - since;
                    let limit = interval.saturating_mul(silent_after);
                    let silent = quiet.to_std().is_ok_and(|q| q > limit && !limit.is_zero());
                    h.status = if silent {
                        HealthStatus::Silent
                    } else {
                        HealthStatus::Ok
                    };
                    if matches!(before, HealthStatus::Failing | HealthStatus::Blocked)
                        || (before == HealthStatus::Silent && !silent)
                    {
                        events.push(HealthEventKind::Recovered { from: before });
                    }
                    if silent && before != HealthStatus::Silent {
                        events.push(HealthEventKind::Silent {
                            since,
                            intervals: silent_after,
                        });
                    }
                    metrics::LAST_SUCCESS
                        .with_label_values(&[source])
                        .set(now.timestamp());
                    metrics::BLOCKED.with_label_values(&[source]).set(0);
                    if let Some(n) = h.newest_item {
                        metrics::FRESHNESS
                            .with_label_values(&[source])
                            .set((now - n.to_utc()).num_seconds().max(0));
                    }
                }
                PollResult::Failure { kind, error } => {
                    h.consecutive_failures += 1;
                    *h.errors_by_kind.entry(kind.to_string()).or_default() += 1;
                    h.last_error = Some(error.clone());
                    if h.consecutive_failures >= failure_threshold
                        && before != HealthStatus::Blocked
                    {
                        h.status = HealthStatus::Failing;
                        if before != HealthStatus::Failing {
                            events.push(HealthEventKind::Failing {
                                consecutive: h.consecutive_failures,
                                error_kind: kind.to_string(),
                                error,
                            });
                        }
                    }
                    metrics::ERRORS.with_label_values(&[source, kind]).inc();
                }
                PollResult::Blocked { reason, until } => {
                    h.consecutive_failures += 1;
                    *h.errors_by_kind.entry("blocked".to_string()).or_default() += 1;
                    h.last_error = Some(reason.clone());
                    h.blocked_until = Some(until);
                    h.status = HealthStatus::Blocked;
                    if before != HealthStatus::Blocked {
                        events.push(HealthEventKind::Blocked { reason, until });
                    }
                    metrics::ERRORS
                        .with_label_values(&[source, "blocked"])
                        .inc();
                    metrics::BLOCKED.with_label_values(&[source]).set(1);
                }
            }
            metrics::CONSECUTIVE_FAILURES
                .with_label_values(&[source])
                .set(i64::from(h.consecutive_failures));
        }
        for kind in events {
            self.send(HealthEvent {
                source: source.to_string(),
                at: now,
                kind,
            });
        }
    }
}

/// A handle on the health of every source of a collector.
#[derive(Debug, Clone)]
pub struct HealthHandle {
    pub(crate) inner: Arc<HealthRegistry>,
}

impl HealthHandle {
    /// The health of every source, sorted by id.
    pub fn snapshot(&self) -> Vec<SourceHealth> {
        self.inner.snapshot()
    }

    /// The health of one source.
    pub fn source(&self, id: &str) -> Option<SourceHealth> {
        self.inner.get(id)
    }

    /// A stream of health changes (a lagging receiver loses the oldest events, never blocks the
    /// collectors).
    pub fn subscribe(&self) -> broadcast::Receiver<HealthEvent> {
        self.inner.subscribe()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn failing_blocked_silent_and_recovered_events() {
        let reg = HealthRegistry::new();
        let mut rx = reg.subscribe();
        reg.register("s", "weibo", true);
        let t0 = DateTime::parse_from_rfc3339("2026-11-22T00:00:00Z")
            .unwrap()
            .to_utc();
        let iv = Duration::from_secs(60);
        let ok = |n| PollResult::Success {
            new_items: n,
            reobserved: 0,
            newest: None,
        };
        reg.record("s", t0, iv, 3, 2, ok(1));
        assert_eq!(reg.get("s").unwrap().status, HealthStatus::Ok);
        for i in 1..=3 {
            reg.record(
                "s",
                t0 + chrono::Duration::minutes(i),
                iv,
                3,
                2,
                PollResult::Failure {
                    kind: "timeout",
                    error: "timed out".into(),
                },
            );
        }
        let ev = rx.try_recv().unwrap();
        assert!(
            matches!(ev.kind, HealthEventKind::Failing { consecutive: 2, .. }),
            "{ev:?}"
        );
        assert!(rx.try_recv().is_err(), "Failing is reported once");
        reg.record("s", t0 + chrono::Duration::minutes(5), iv, 3, 2, ok(1));
        assert!(matches!(
            rx.try_recv().unwrap().kind,
            HealthEventKind::Recovered {
                from: HealthStatus::Failing
            }
        ));
        let until = t0 + chrono::Duration::minutes(20);
        reg.record(
            "s",
            t0 + chrono::Duration::minutes(6),
            iv,
            3,
            2,
            PollResult::Blocked {
                reason: "http 432".into(),
                until,
            },
        );
        let ev = rx.try_recv().unwrap();
        assert!(matches!(ev.kind, HealthEventKind::Blocked { .. }));
        assert!(ev.message().contains("限制访问"));
        reg.record("s", t0 + chrono::Duration::minutes(7), iv, 3, 2, ok(0));
        assert!(matches!(
            rx.try_recv().unwrap().kind,
            HealthEventKind::Recovered {
                from: HealthStatus::Blocked
            }
        ));
        // The last new item arrived at minute 5: silent after 3 intervals.
        reg.record("s", t0 + chrono::Duration::minutes(8), iv, 3, 2, ok(0));
        assert!(rx.try_recv().is_err());
        reg.record("s", t0 + chrono::Duration::minutes(9), iv, 3, 2, ok(0));
        assert!(matches!(
            rx.try_recv().unwrap().kind,
            HealthEventKind::Silent { intervals: 3, .. }
        ));
        let h = reg.get("s").unwrap();
        assert_eq!(h.status, HealthStatus::Silent);
        assert_eq!(h.errors_by_kind["timeout"], 3);
        assert!(h.error_rate() > 0.3);
        reg.record("s", t0 + chrono::Duration::minutes(11), iv, 3, 2, ok(2));
        assert!(matches!(
            rx.try_recv().unwrap().kind,
            HealthEventKind::Recovered {
                from: HealthStatus::Silent
            }
        ));
    }
}
