//! Prometheus metrics of the case workflow (default registry).

use std::sync::LazyLock;

use prometheus::{register_int_counter_vec, register_int_gauge_vec, IntCounterVec, IntGaugeVec};

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

/// Touches the series so that they exist from start-up.
pub fn init() {
    for g in yuqing_core::Grade::ALL {
        OPEN.with_label_values(&[g.as_str()]);
    }
    LazyLock::force(&DEADLINE_MISSED);
    LazyLock::force(&API_REQUESTS);
}
