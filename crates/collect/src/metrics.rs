//! Prometheus metrics of the collectors (`yuqing_collect_*`). The `source` label is a configured
//! source id; other labels are bounded codes.

use std::sync::LazyLock;

use prometheus::{
    register_histogram_vec, register_int_counter_vec, register_int_gauge, register_int_gauge_vec,
    HistogramVec, IntCounterVec, IntGauge, IntGaugeVec,
};

/// Requests by source and status class (`2xx`, `3xx`, `304`, `4xx`, `5xx`, `error`).
pub static REQUESTS: LazyLock<IntCounterVec> = LazyLock::new(|| {
    register_int_counter_vec!(
        "yuqing_collect_requests_total",
        "HTTP requests made by the collectors, by source and status class.",
        &["source", "status"]
    )
    .expect("metric registers once")
});

/// Fetch duration by source.
pub static FETCH_DURATION: LazyLock<HistogramVec> = LazyLock::new(|| {
    register_histogram_vec!(
        "yuqing_collect_fetch_duration_seconds",
        "Time to fetch one page or API response, including the body.",
        &["source"],
        vec![0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0]
    )
    .expect("metric registers once")
});

/// Items emitted, by source and kind (`new`, `reobservation`).
pub static ITEMS: LazyLock<IntCounterVec> = LazyLock::new(|| {
    register_int_counter_vec!(
        "yuqing_collect_items_emitted_total",
        "Items handed downstream, by source and kind (new or reobservation).",
        &["source", "kind"]
    )
    .expect("metric registers once")
});

/// Records or pages skipped, by source and reason (each also logged).
pub static SKIPPED: LazyLock<IntCounterVec> = LazyLock::new(|| {
    register_int_counter_vec!(
        "yuqing_collect_skipped_total",
        "Pages or records skipped (bad input, duplicates, robots), by source and reason.",
        &["source", "reason"]
    )
    .expect("metric registers once")
});

/// Failed polls, by source and error kind.
pub static ERRORS: LazyLock<IntCounterVec> = LazyLock::new(|| {
    register_int_counter_vec!(
        "yuqing_collect_errors_total",
        "Failed polls of a source, by error kind.",
        &["source", "error_type"]
    )
    .expect("metric registers once")
});

/// Unix time of the last successful poll.
pub static LAST_SUCCESS: LazyLock<IntGaugeVec> = LazyLock::new(|| {
    register_int_gauge_vec!(
        "yuqing_collect_last_success_timestamp_seconds",
        "Clock time (unix seconds) of the last successful poll of a source.",
        &["source"]
    )
    .expect("metric registers once")
});

/// Consecutive failed polls.
pub static CONSECUTIVE_FAILURES: LazyLock<IntGaugeVec> = LazyLock::new(|| {
    register_int_gauge_vec!(
        "yuqing_collect_consecutive_failures",
        "Failed polls of a source since its last success.",
        &["source"]
    )
    .expect("metric registers once")
});

/// Seconds since the newest item of a source was published.
pub static FRESHNESS: LazyLock<IntGaugeVec> = LazyLock::new(|| {
    register_int_gauge_vec!(
        "yuqing_collect_freshness_seconds",
        "Clock seconds between the last poll and the newest item's publication time.",
        &["source"]
    )
    .expect("metric registers once")
});

/// 1 while a source blocks us (HTTP 432, captcha), else 0.
pub static BLOCKED: LazyLock<IntGaugeVec> = LazyLock::new(|| {
    register_int_gauge_vec!(
        "yuqing_collect_blocked_sources",
        "1 while the source blocks the collector (HTTP 432, captcha), else 0.",
        &["source"]
    )
    .expect("metric registers once")
});

/// 1 in surge mode.
pub static SURGE: LazyLock<IntGauge> = LazyLock::new(|| {
    register_int_gauge!(
        "yuqing_collect_surge_mode",
        "1 while the collectors poll at their surge intervals."
    )
    .expect("metric registers once")
});

/// The status class label of an HTTP status.
pub fn status_class(status: u16) -> &'static str {
    match status {
        304 => "304",
        200..=299 => "2xx",
        300..=399 => "3xx",
        400..=499 => "4xx",
        _ => "5xx",
    }
}

/// Touches the series of a source so that they exist from start-up.
pub fn init_source(source: &str) {
    for k in ["new", "reobservation"] {
        ITEMS.with_label_values(&[source, k]);
    }
    LAST_SUCCESS.with_label_values(&[source]);
    CONSECUTIVE_FAILURES.with_label_values(&[source]);
    FRESHNESS.with_label_values(&[source]);
    BLOCKED.with_label_values(&[source]);
    FETCH_DURATION.with_label_values(&[source]);
}
