//! Prometheus metrics of alert delivery (default registry). The `sink` label is a configured
//! sink id; `outcome` and `error_type` are bounded codes.

use std::sync::LazyLock;

use prometheus::{
    register_counter_vec, register_histogram_vec, register_int_counter_vec, register_int_gauge_vec,
    CounterVec, HistogramVec, IntCounterVec, IntGaugeVec,
};

/// Buckets (seconds) of one message's delivery, retries included.
pub const DELIVERY_BUCKETS: &[f64] = &[
    0.005, 0.01, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 300.0, 900.0,
];

/// Alerts per sink and outcome (`delivered`, `failed`).
pub static DELIVERIES: LazyLock<IntCounterVec> = LazyLock::new(|| {
    register_int_counter_vec!(
        "yuqing_alert_deliveries_total",
        "Alerts delivered to (or finally failed at) a sink, by outcome.",
        &["sink", "outcome"]
    )
    .expect("metric registers once")
});

/// Time to deliver one message, from the first attempt to the last.
pub static DURATION: LazyLock<HistogramVec> = LazyLock::new(|| {
    register_histogram_vec!(
        "yuqing_alert_delivery_duration_seconds",
        "Time to deliver one message to a sink, retries and rate-limit waits included.",
        &["sink"],
        DELIVERY_BUCKETS.to_vec()
    )
    .expect("metric registers once")
});

/// Alerts handed to the dead letter.
pub static DEADLETTER: LazyLock<IntCounterVec> = LazyLock::new(|| {
    register_int_counter_vec!(
        "yuqing_alert_deadletter_total",
        "Alerts that still failed after the retry budget and went to the dead letter.",
        &["sink"]
    )
    .expect("metric registers once")
});

/// Alerts merged into digests.
pub static DIGEST_MERGED: LazyLock<IntCounterVec> = LazyLock::new(|| {
    register_int_counter_vec!(
        "yuqing_alert_digest_merged_total",
        "Alerts sent as part of a digest message because more waited than the rate limit allows.",
        &["sink"]
    )
    .expect("metric registers once")
});

/// Requests that had to wait for the rate limiter.
pub static RATE_LIMITED_WAITS: LazyLock<IntCounterVec> = LazyLock::new(|| {
    register_int_counter_vec!(
        "yuqing_alert_ratelimit_waits_total",
        "Requests to a sink that waited for its rate limiter.",
        &["sink"]
    )
    .expect("metric registers once")
});

/// Time spent waiting for the rate limiter.
pub static RATE_LIMITED_SECONDS: LazyLock<CounterVec> = LazyLock::new(|| {
    register_counter_vec!(
        "yuqing_alert_ratelimit_wait_seconds_total",
        "Seconds requests to a sink spent waiting for its rate limiter.",
        &["sink"]
    )
    .expect("metric registers once")
});

/// Failed attempts that will be retried, by error kind.
pub static RETRIES: LazyLock<IntCounterVec> = LazyLock::new(|| {
    register_int_counter_vec!(
        "yuqing_alert_delivery_retries_total",
        "Failed delivery attempts that were retried, by error kind.",
        &["sink", "error_type"]
    )
    .expect("metric registers once")
});

/// Messages sent (a digest or one piece of a split message counts once).
pub static MESSAGES: LazyLock<IntCounterVec> = LazyLock::new(|| {
    register_int_counter_vec!(
        "yuqing_alert_messages_total",
        "Messages (requests, mails, lines) a sink delivered, by shape (single, digest, batch).",
        &["sink", "shape"]
    )
    .expect("metric registers once")
});

/// Alerts waiting in a sink's queue.
pub static QUEUED: LazyLock<IntGaugeVec> = LazyLock::new(|| {
    register_int_gauge_vec!(
        "yuqing_alert_delivery_queue_alerts",
        "Alerts waiting to be delivered to a sink.",
        &["sink"]
    )
    .expect("metric registers once")
});

/// Creates a sink's series at zero so dashboards show them from start-up.
pub fn init_sink(sink: &str) {
    for outcome in ["delivered", "failed"] {
        DELIVERIES.with_label_values(&[sink, outcome]);
    }
    DURATION.with_label_values(&[sink]);
    DEADLETTER.with_label_values(&[sink]);
    DIGEST_MERGED.with_label_values(&[sink]);
    RATE_LIMITED_WAITS.with_label_values(&[sink]);
    RATE_LIMITED_SECONDS.with_label_values(&[sink]);
    QUEUED.with_label_values(&[sink]);
}
