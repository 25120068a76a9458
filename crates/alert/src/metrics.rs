//! Prometheus metrics of the alert stage (default registry).

use std::sync::LazyLock;

use prometheus::{
    register_histogram, register_int_counter_vec, register_int_gauge, Histogram, IntCounterVec,
    IntGauge,
};

/// The stage name used in the shared `yuqing_component_*` series.
pub const STAGE: &str = "alert";

/// Alerts fired, by grade and kind (both bounded enums).
pub static FIRED: LazyLock<IntCounterVec> = LazyLock::new(|| {
    register_int_counter_vec!(
        "yuqing_alert_fired_total",
        "Alerts the grader fired, by grade and kind.",
        &["grade", "kind"]
    )
    .expect("metric registers once")
});

/// Time to evaluate one event snapshot (timers included).
pub static EVALUATION: LazyLock<Histogram> = LazyLock::new(|| {
    register_histogram!(
        "yuqing_alert_evaluation_duration_seconds",
        "Time the grader spent on one event snapshot, timers included.",
        vec![0.000_001, 0.000_005, 0.000_01, 0.000_05, 0.000_1, 0.000_5, 0.001, 0.01, 0.1]
    )
    .expect("metric registers once")
});

/// Events the grader tracks (alerted and not yet forgotten).
pub static OPEN_EVENTS: LazyLock<IntGauge> = LazyLock::new(|| {
    register_int_gauge!(
        "yuqing_alert_open_events",
        "Events the grader tracks: alerted and not yet forgotten."
    )
    .expect("metric registers once")
});

/// Touches every series so that they exist (at zero) from start-up.
pub fn init() {
    for g in yuqing_core::Grade::ALL {
        for k in [
            yuqing_core::AlertKind::New,
            yuqing_core::AlertKind::Escalated,
            yuqing_core::AlertKind::Reminder,
            yuqing_core::AlertKind::Overdue,
            yuqing_core::AlertKind::Calmed,
            yuqing_core::AlertKind::Flared,
        ] {
            FIRED.with_label_values(&[g.as_str(), k.as_str()]);
        }
    }
    LazyLock::force(&EVALUATION);
    LazyLock::force(&OPEN_EVENTS);
    yuqing_core::telemetry::init_stage(STAGE);
}
