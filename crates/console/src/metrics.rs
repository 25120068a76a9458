//! Prometheus metrics of the console (default registry). Labels are bounded: route templates,
//! HTTP status codes, fixed outcome and reason names.

use std::sync::LazyLock;

use prometheus::{
    register_histogram_vec, register_int_counter, register_int_counter_vec, register_int_gauge,
    HistogramVec, IntCounter, IntCounterVec, IntGauge,
};

/// Requests by route template (e.g. `/console/cases/{id}`) and status.
pub static REQUESTS: LazyLock<IntCounterVec> = LazyLock::new(|| {
    register_int_counter_vec!(
        "yuqing_console_requests_total",
        "Console requests, by route template and HTTP status.",
        &["route", "status"]
    )
    .expect("metric registers once")
});

/// Time to answer a request, by route template.
pub static DURATION: LazyLock<HistogramVec> = LazyLock::new(|| {
    register_histogram_vec!(
        "yuqing_console_request_duration_seconds",
        "Time the console took to answer a request, by route template.",
        &["route"],
        yuqing_core::telemetry::LATENCY_BUCKETS.to_vec()
    )
    .expect("metric registers once")
});

/// Login attempts by outcome (`ok`, `bad_token`, `bad_csrf`, `malformed`).
pub static LOGINS: LazyLock<IntCounterVec> = LazyLock::new(|| {
    register_int_counter_vec!(
        "yuqing_console_logins_total",
        "Console login attempts, by outcome.",
        &["outcome"]
    )
    .expect("metric registers once")
});

/// Refused form posts by reason (`no_session`, `csrf`, `role`, `invalid_form`).
pub static REJECTED: LazyLock<IntCounterVec> = LazyLock::new(|| {
    register_int_counter_vec!(
        "yuqing_console_rejected_total",
        "Console form posts refused before changing anything, by reason.",
        &["reason"]
    )
    .expect("metric registers once")
});

/// Case actions submitted through the console, by action and HTTP status of the answer.
pub static CASE_ACTIONS: LazyLock<IntCounterVec> = LazyLock::new(|| {
    register_int_counter_vec!(
        "yuqing_console_case_actions_total",
        "Case actions submitted through the console, by action and HTTP status.",
        &["action", "status"]
    )
    .expect("metric registers once")
});

/// Sessions kept in memory.
pub static SESSIONS: LazyLock<IntGauge> = LazyLock::new(|| {
    register_int_gauge!(
        "yuqing_console_sessions",
        "Console login sessions kept in memory."
    )
    .expect("metric registers once")
});

/// Sessions ended early because the session store was full.
pub static SESSIONS_EVICTED: LazyLock<IntCounter> = LazyLock::new(|| {
    register_int_counter!(
        "yuqing_console_sessions_evicted_total",
        "Console sessions ended early because max_sessions was reached."
    )
    .expect("metric registers once")
});

/// Touches every series family so that they exist from start-up.
pub fn init() {
    LazyLock::force(&REQUESTS);
    LazyLock::force(&DURATION);
    for o in ["ok", "bad_token", "bad_csrf", "malformed"] {
        LOGINS.with_label_values(&[o]);
    }
    for r in ["no_session", "csrf", "role", "invalid_form"] {
        REJECTED.with_label_values(&[r]);
    }
    LazyLock::force(&CASE_ACTIONS);
    LazyLock::force(&SESSIONS);
    LazyLock::force(&SESSIONS_EVICTED);
}
