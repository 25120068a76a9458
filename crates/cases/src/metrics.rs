//! Prometheus metrics of the case workflow (default registry).
//!
//! Besides the workflow's counters and the open-case gauges, [`AccountabilityMetrics`] exposes
//! the accountability statistics (迟报、漏报) of [`Cases::accountability`] per department over a
//! rolling window, refreshed by [`Cases::run_accountability_metrics`].
//!
//! [`Cases::accountability`]: crate::Cases::accountability
//! [`Cases::run_accountability_metrics`]: crate::Cases::run_accountability_metrics

use std::sync::LazyLock;
use std::time::Duration;

use prometheus::{
    register_int_counter_vec, register_int_gauge_vec, Gauge, GaugeVec, IntCounterVec, IntGaugeVec,
    Opts, Registry,
};

use crate::cases::Tally;

/// The rolling window of the accountability gauges: cases first alerted in the last 30 days.
pub const ACCOUNTABILITY_WINDOW: Duration = Duration::from_secs(30 * 24 * 3600);

/// How often the daemon refreshes the accountability gauges.
pub const ACCOUNTABILITY_REFRESH: Duration = Duration::from_secs(60);

/// The `stat` label values of the duration gauges.
pub const STATS: [&str; 4] = ["mean", "p50", "p90", "max"];

/// Open (not closed) cases by grade.
pub static OPEN: LazyLock<IntGaugeVec> = LazyLock::new(|| {
    register_int_gauge_vec!(
        "yuqing_cases_open",
        "Cases not yet closed, by grade.",
        &["grade"]
    )
    .expect("metric registers once")
});

/// Deadlines missed (overdue alerts applied to cases), by responsible department (configured
/// names; others are `其他`) and deadline kind.
pub static DEADLINE_MISSED: LazyLock<IntCounterVec> = LazyLock::new(|| {
    register_int_counter_vec!(
        "yuqing_cases_deadline_missed_total",
        "Deadlines missed, by responsible department and deadline kind.",
        &["department", "deadline"]
    )
    .expect("metric registers once")
});

/// API requests by action and outcome (bounded: actions and status classes).
pub static API_REQUESTS: LazyLock<IntCounterVec> = LazyLock::new(|| {
    register_int_counter_vec!(
        "yuqing_cases_api_requests_total",
        "Case API requests, by action and HTTP status.",
        &["action", "status"]
    )
    .expect("metric registers once")
});

/// Accountability (考核: 迟报、漏报) per responsible department over a rolling window, as
/// gauges recomputed from the audit log by [`Cases::refresh_accountability_metrics`]: the same
/// figures as [`Cases::accountability`] and `/api/accountability`.
///
/// Labels are bounded: `department` is a configured name (`[cases] departments` and the API
/// users' departments), `其他` for any other, `未指定` for none; `status`, `outcome` and `stat`
/// take the fixed values documented on each field.
///
/// [`Cases::refresh_accountability_metrics`]: crate::Cases::refresh_accountability_metrics
/// [`Cases::accountability`]: crate::Cases::accountability
#[derive(Debug, Clone)]
pub struct AccountabilityMetrics {
    /// `yuqing_cases_accountability_window_seconds`: the window the other gauges cover.
    pub window: Gauge,
    /// `yuqing_cases_accountability_cases{department,status}`: cases first alerted in the
    /// window (`status="alerted"`), and of them those `accepted` (受理), `responded` (回应),
    /// `closed` (办结) and `reopened` (by a flare).
    pub cases: IntGaugeVec,
    /// `yuqing_cases_accountability_deadlines{department,outcome}`: the deadlines of those
    /// cases, `met` (a public response by the due time), `missed` or `pending` (not yet due).
    pub deadlines: IntGaugeVec,
    /// `yuqing_cases_accountability_late_reports{department}`: 迟报 — cases accepted later than
    /// `[cases] accept_within` after their first alert.
    pub late_reports: IntGaugeVec,
    /// `yuqing_cases_accountability_missed_reports{department}`: 漏报 — cases the rules
    /// alerted that are still not accepted `[cases] accept_within` after their first alert.
    pub missed_reports: IntGaugeVec,
    /// `yuqing_cases_accountability_time_to_alert_seconds{department,stat}`: first seen → first
    /// alert (`stat` = `mean`, `p50`, `p90`, `max`).
    pub time_to_alert: GaugeVec,
    /// `yuqing_cases_accountability_time_to_accept_seconds{department,stat}`: first alert →
    /// acceptance, over the accepted cases.
    pub time_to_accept: GaugeVec,
    /// `yuqing_cases_accountability_time_to_response_seconds{department,stat}`: first alert →
    /// first public response, over the answered cases.
    pub time_to_response: GaugeVec,
    /// `yuqing_cases_accountability_refresh_errors_total{error_type}`: refreshes that failed
    /// (the gauges keep their previous values).
    pub refresh_errors: IntCounterVec,
}

static ACCOUNTABILITY: LazyLock<AccountabilityMetrics> = LazyLock::new(|| {
    AccountabilityMetrics::register(prometheus::default_registry()).expect("metric registers once")
});

impl AccountabilityMetrics {
    /// The gauges in the process-wide default registry (served on `/metrics`).
    pub fn global() -> &'static AccountabilityMetrics {
        &ACCOUNTABILITY
    }

    /// Creates the gauges and registers them in `registry` (a registry of its own in tests);
    /// fails if they are registered there already.
    pub fn register(registry: &Registry) -> Result<AccountabilityMetrics, prometheus::Error> {
        let m = AccountabilityMetrics {
            window: Gauge::with_opts(Opts::new(
                "yuqing_cases_accountability_window_seconds",
                "The rolling window of the accountability gauges: cases first alerted this long ago or later.",
            ))?,
            cases: IntGaugeVec::new(
                Opts::new(
                    "yuqing_cases_accountability_cases",
                    "Cases first alerted in the window, by responsible department: alerted, and of them accepted, responded, closed, reopened.",
                ),
                &["department", "status"],
            )?,
            deadlines: IntGaugeVec::new(
                Opts::new(
                    "yuqing_cases_accountability_deadlines",
                    "Deadlines of the cases first alerted in the window, by responsible department: met, missed, pending.",
                ),
                &["department", "outcome"],
            )?,
            late_reports: IntGaugeVec::new(
                Opts::new(
                    "yuqing_cases_accountability_late_reports",
                    "迟报: cases of the window accepted later than the acceptance limit after their first alert.",
                ),
                &["department"],
            )?,
            missed_reports: IntGaugeVec::new(
                Opts::new(
                    "yuqing_cases_accountability_missed_reports",
                    "漏报: cases of the window alerted by the rules and still not accepted after the acceptance limit.",
                ),
                &["department"],
            )?,
            time_to_alert: GaugeVec::new(
                Opts::new(
                    "yuqing_cases_accountability_time_to_alert_seconds",
                    "First seen to first alert, over the cases of the window (stat: mean, p50, p90, max).",
                ),
                &["department", "stat"],
            )?,
            time_to_accept: GaugeVec::new(
                Opts::new(
                    "yuqing_cases_accountability_time_to_accept_seconds",
                    "First alert to acceptance, over the accepted cases of the window (stat: mean, p50, p90, max).",
                ),
                &["department", "stat"],
            )?,
            time_to_response: GaugeVec::new(
                Opts::new(
                    "yuqing_cases_accountability_time_to_response_seconds",
                    "First alert to the first public response, over the answered cases of the window (stat: mean, p50, p90, max).",
                ),
                &["department", "stat"],
            )?,
            refresh_errors: IntCounterVec::new(
                Opts::new(
                    "yuqing_cases_accountability_refresh_errors_total",
                    "Refreshes of the accountability gauges that failed, by error kind.",
                ),
                &["error_type"],
            )?,
        };
        registry.register(Box::new(m.window.clone()))?;
        registry.register(Box::new(m.cases.clone()))?;
        registry.register(Box::new(m.deadlines.clone()))?;
        registry.register(Box::new(m.late_reports.clone()))?;
        registry.register(Box::new(m.missed_reports.clone()))?;
        registry.register(Box::new(m.time_to_alert.clone()))?;
        registry.register(Box::new(m.time_to_accept.clone()))?;
        registry.register(Box::new(m.time_to_response.clone()))?;
        registry.register(Box::new(m.refresh_errors.clone()))?;
        Ok(m)
    }

    /// Sets every series of `figures` (department label → its tally).
    pub(crate) fn set(&self, window: Duration, figures: &[(&str, &Tally)]) {
        self.window.set(window.as_secs_f64());
        for &(dept, t) in figures {
            let s = &t.stats;
            for (status, n) in [
                ("alerted", s.cases),
                ("accepted", s.accepted),
                ("responded", s.responded),
                ("closed", s.closed),
                ("reopened", s.reopened),
            ] {
                self.cases.with_label_values(&[dept, status]).set(gauge(n));
            }
            for (outcome, n) in [
                ("met", s.deadlines_met),
                ("missed", s.deadlines_missed),
                ("pending", s.deadlines_pending),
            ] {
                self.deadlines
                    .with_label_values(&[dept, outcome])
                    .set(gauge(n));
            }
            self.late_reports
                .with_label_values(&[dept])
                .set(gauge(s.late_accepted));
            self.missed_reports
                .with_label_values(&[dept])
                .set(gauge(s.not_acted_on));
            set_durations(&self.time_to_alert, dept, &t.to_alert);
            set_durations(&self.time_to_accept, dept, &t.to_accept);
            set_durations(&self.time_to_response, dept, &t.to_response);
        }
    }
}

fn gauge(n: u64) -> i64 {
    i64::try_from(n).unwrap_or(i64::MAX)
}

/// Sets `mean`, `p50`, `p90` and `max` (seconds) of the durations `ms`; with none, removes the
/// department's series (no cases measured: no figure, rather than a misleading zero).
fn set_durations(vec: &GaugeVec, dept: &str, ms: &[i64]) {
    match Durations::of(ms) {
        Some(d) => {
            for (stat, v) in STATS.into_iter().zip([d.mean, d.p50, d.p90, d.max]) {
                vec.with_label_values(&[dept, stat]).set(v);
            }
        }
        None => {
            for stat in STATS {
                // Absent already is fine.
                let _ = vec.remove_label_values(&[dept, stat]);
            }
        }
    }
}

/// Summary of durations in seconds.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct Durations {
    pub(crate) mean: f64,
    pub(crate) p50: f64,
    pub(crate) p90: f64,
    pub(crate) max: f64,
}

impl Durations {
    /// Mean, quantiles (linear interpolation between the closest ranks) and maximum of `ms`,
    /// in seconds; `None` for no values.
    pub(crate) fn of(ms: &[i64]) -> Option<Durations> {
        if ms.is_empty() {
            return None;
        }
        let mut v: Vec<f64> = ms.iter().map(|&m| m as f64 / 1000.0).collect();
        v.sort_by(f64::total_cmp);
        let quantile = |q: f64| {
            let pos = q * (v.len() - 1) as f64;
            let (lo, hi) = (pos.floor() as usize, pos.ceil() as usize);
            v[lo] + (v[hi] - v[lo]) * (pos - lo as f64)
        };
        Some(Durations {
            mean: v.iter().sum::<f64>() / v.len() as f64,
            p50: quantile(0.5),
            p90: quantile(0.9),
            max: v[v.len() - 1],
        })
    }
}

/// Touches the series so that they exist from start-up.
pub fn init() {
    for g in yuqing_core::Grade::ALL {
        OPEN.with_label_values(&[g.as_str()]);
    }
    LazyLock::force(&DEADLINE_MISSED);
    LazyLock::force(&API_REQUESTS);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_interpolate_between_ranks() {
        assert_eq!(Durations::of(&[]), None);
        let one = Durations::of(&[90_000]).unwrap();
        assert_eq!(
            (one.mean, one.p50, one.p90, one.max),
            (90.0, 90.0, 90.0, 90.0)
        );
        // 60, 120, 180, 600 s: p50 halfway between 120 and 180, p90 at rank 2.7.
        let d = Durations::of(&[600_000, 60_000, 180_000, 120_000]).unwrap();
        assert_eq!(d.mean, 240.0);
        assert_eq!(d.p50, 150.0);
        assert!((d.p90 - (180.0 + 0.7 * 420.0)).abs() < 1e-9, "{d:?}");
        assert_eq!(d.max, 600.0);
    }

    #[test]
    fn registering_twice_in_one_registry_is_an_error() {
        let r = Registry::new();
        AccountabilityMetrics::register(&r).unwrap();
        assert!(matches!(
            AccountabilityMetrics::register(&r),
            Err(prometheus::Error::AlreadyReg)
        ));
    }
}
