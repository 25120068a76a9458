//! Prometheus metrics shared by every stage, and the naming rules.
//!
//! Names follow `yuqing_<area>_<name>_<unit>`; counters end in `_total`, durations are `_seconds`
//! histograms. Labels are bounded: stage names, configured source ids, error kinds — never URLs,
//! item ids or keywords. All metrics register in the process-wide default registry, which the
//! daemon serves on `/metrics`.

use std::sync::LazyLock;

use prometheus::{
    register_gauge_vec, register_histogram_vec, register_int_counter_vec, register_int_gauge_vec,
    GaugeVec, HistogramVec, IntCounterVec, IntGaugeVec,
};

/// Latency buckets (seconds) for per-record processing.
pub const LATENCY_BUCKETS: &[f64] = &[
    0.0001, 0.0005, 0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1.0, 5.0, 30.0,
];

/// Records a stage took in, by stage.
pub static RECEIVED: LazyLock<IntCounterVec> = LazyLock::new(|| {
    register_int_counter_vec!(
        "yuqing_component_received_events_total",
        "Records received by a stage.",
        &["stage"]
    )
    .expect("metric registers once")
});

/// Records a stage emitted, by stage.
pub static SENT: LazyLock<IntCounterVec> = LazyLock::new(|| {
    register_int_counter_vec!(
        "yuqing_component_sent_events_total",
        "Records emitted by a stage.",
        &["stage"]
    )
    .expect("metric registers once")
});

/// Errors by stage and bounded error kind.
pub static ERRORS: LazyLock<IntCounterVec> = LazyLock::new(|| {
    register_int_counter_vec!(
        "yuqing_component_errors_total",
        "Errors met by a stage, by kind.",
        &["stage", "error_type"]
    )
    .expect("metric registers once")
});

/// Records dropped on purpose (duplicates, invalid input to the dead letter), by reason.
pub static DISCARDED: LazyLock<IntCounterVec> = LazyLock::new(|| {
    register_int_counter_vec!(
        "yuqing_component_discarded_events_total",
        "Records a stage dropped, by reason (each also logged; invalid ones dead-lettered).",
        &["stage", "reason"]
    )
    .expect("metric registers once")
});

/// Per-record processing latency.
pub static LATENCY: LazyLock<HistogramVec> = LazyLock::new(|| {
    register_histogram_vec!(
        "yuqing_component_processing_duration_seconds",
        "Time a stage spent on one record (batch time divided by records).",
        &["stage"],
        LATENCY_BUCKETS.to_vec()
    )
    .expect("metric registers once")
});

/// Freshness: time on the pipeline's clock from a record's observation (an item's `observed_at`,
/// an event's `updated_at`) to a stage finishing it.
pub static END_TO_END: LazyLock<HistogramVec> = LazyLock::new(|| {
    register_histogram_vec!(
        "yuqing_pipeline_latency_seconds",
        "Time on the pipeline clock from a record's observation to a stage finishing it.",
        &["stage"],
        vec![0.1, 0.5, 1.0, 5.0, 15.0, 60.0, 300.0, 900.0, 3600.0, 21600.0, 86400.0]
    )
    .expect("metric registers once")
});

/// Open events by their stage on the 2h/6h/24h curve (`phase`, not `stage`, which names pipeline
/// stages).
pub static EVENTS_BY_PHASE: LazyLock<IntGaugeVec> = LazyLock::new(|| {
    register_int_gauge_vec!(
        "yuqing_events_open_by_phase",
        "Open events by their stage on the spread curve: emerging, spreading, peak, fading.",
        &["phase"]
    )
    .expect("metric registers once")
});

/// Sentiment of judged items.
pub static SENTIMENT: LazyLock<prometheus::Histogram> = LazyLock::new(|| {
    prometheus::register_histogram!(
        "yuqing_analyze_sentiment",
        "Sentiment of judged items (-1 negative … 1 positive).",
        vec![-1.0, -0.8, -0.6, -0.4, -0.2, 0.0, 0.2, 0.4, 0.6, 0.8, 1.0]
    )
    .expect("metric registers once")
});

/// Seconds to the earliest unmet deadline among open cases of a grade (negative when overdue).
pub static NEXT_DEADLINE: LazyLock<GaugeVec> = LazyLock::new(|| {
    register_gauge_vec!(
        "yuqing_cases_next_deadline_seconds",
        "Seconds to the earliest unmet deadline among open cases of the grade (negative: overdue).",
        &["grade"]
    )
    .expect("metric registers once")
});

/// Open cases of a grade with a deadline passed and not met.
pub static OVERDUE: LazyLock<IntGaugeVec> = LazyLock::new(|| {
    register_int_gauge_vec!(
        "yuqing_cases_overdue",
        "Open cases of the grade with a passed deadline and no public response yet.",
        &["grade"]
    )
    .expect("metric registers once")
});

/// Records waiting in a stage's input buffer.
pub static BUFFER: LazyLock<IntGaugeVec> = LazyLock::new(|| {
    register_int_gauge_vec!(
        "yuqing_buffer_events",
        "Records waiting in a stage's input buffer.",
        &["stage"]
    )
    .expect("metric registers once")
});

/// Fill ratio (0..1) of a stage's input buffer.
pub static BUFFER_FILL: LazyLock<GaugeVec> = LazyLock::new(|| {
    register_gauge_vec!(
        "yuqing_buffer_fill_ratio",
        "Fill ratio of a stage's input buffer (1 means the producer is blocked).",
        &["stage"]
    )
    .expect("metric registers once")
});

/// Consumer lag per topic and partition (bounded by the partition count).
pub static CONSUMER_LAG: LazyLock<IntGaugeVec> = LazyLock::new(|| {
    register_int_gauge_vec!(
        "yuqing_kafka_consumer_lag_messages",
        "Messages between the consumer's position and the partition's high watermark.",
        &["topic", "partition"]
    )
    .expect("metric registers once")
});

/// Gathers every registered metric in the Prometheus text format.
pub fn render() -> String {
    use prometheus::Encoder;
    let mut buf = Vec::new();
    let encoder = prometheus::TextEncoder::new();
    // Encoding into a Vec cannot fail for well-formed metric families.
    let _ = encoder.encode(&prometheus::gather(), &mut buf);
    String::from_utf8(buf).unwrap_or_default()
}

/// Touches the shared series of a stage so that they exist (at zero) from start-up.
pub fn init_stage(stage: &str) {
    RECEIVED.with_label_values(&[stage]);
    SENT.with_label_values(&[stage]);
    BUFFER.with_label_values(&[stage]);
    BUFFER_FILL.with_label_values(&[stage]);
    LATENCY.with_label_values(&[stage]);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_follow_the_convention() {
        init_stage("test");
        ERRORS.with_label_values(&["test", "x"]).inc();
        let text = render();
        for line in text.lines().filter(|l| l.starts_with("# TYPE")) {
            let name = line.split_whitespace().nth(2).unwrap();
            assert!(name.starts_with("yuqing_"), "{name}");
            if line.ends_with("counter") {
                assert!(name.ends_with("_total"), "{name}");
            }
        }
        assert!(text.contains("yuqing_component_errors_total{error_type=\"x\",stage=\"test\"} 1"));
    }
}
