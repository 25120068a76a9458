//! Prometheus metrics of reports (default registry). Labels are bounded: report kinds, formats
//! and outcomes.

use std::sync::LazyLock;

use prometheus::{
    register_gauge_vec, register_histogram_vec, register_int_counter_vec, GaugeVec, HistogramVec,
    IntCounterVec,
};

/// Reports written, by kind (`daily`, `event`, `bulletin`, `summary`), format and trigger
/// (`cli`, `schedule`).
pub static WRITTEN: LazyLock<IntCounterVec> = LazyLock::new(|| {
    register_int_counter_vec!(
        "yuqing_report_written_total",
        "Reports written, by kind, format and trigger.",
        &["kind", "format", "trigger"]
    )
    .expect("metric registers once")
});

/// Reports that failed, by kind and bounded error kind.
pub static FAILED: LazyLock<IntCounterVec> = LazyLock::new(|| {
    register_int_counter_vec!(
        "yuqing_report_failures_total",
        "Reports that could not be built or written, by kind and error kind.",
        &["kind", "error_type"]
    )
    .expect("metric registers once")
});

/// Time to build a report from the store.
pub static BUILD_SECONDS: LazyLock<HistogramVec> = LazyLock::new(|| {
    register_histogram_vec!(
        "yuqing_report_build_duration_seconds",
        "Time to build a report from the store, by kind.",
        &["kind"],
        vec![0.01, 0.05, 0.1, 0.5, 1.0, 5.0, 30.0, 120.0]
    )
    .expect("metric registers once")
});

/// When the schedule last wrote a report of each kind (Unix seconds on the pipeline's clock):
/// alert on `time() - yuqing_report_last_written_timestamp_seconds{kind="daily"} > 90000`.
pub static LAST_WRITTEN: LazyLock<GaugeVec> = LazyLock::new(|| {
    register_gauge_vec!(
        "yuqing_report_last_written_timestamp_seconds",
        "When the schedule last wrote a report of this kind (Unix seconds, pipeline clock).",
        &["kind"]
    )
    .expect("metric registers once")
});

/// Touches the series so that they exist from start-up.
pub fn init() {
    for k in crate::ReportKind::ALL {
        BUILD_SECONDS.with_label_values(&[k.as_str()]);
    }
    LazyLock::force(&WRITTEN);
    LazyLock::force(&FAILED);
    LazyLock::force(&LAST_WRITTEN);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_follow_the_convention() {
        init();
        WRITTEN.with_label_values(&["daily", "html", "cli"]).inc();
        FAILED.with_label_values(&["daily", "store"]).inc();
        LAST_WRITTEN.with_label_values(&["daily"]).set(1.0);
        let text = yuqing_core::telemetry::render();
        for name in [
            "yuqing_report_written_total",
            "yuqing_report_failures_total",
            "yuqing_report_build_duration_seconds",
            "yuqing_report_last_written_timestamp_seconds",
        ] {
            assert!(text.contains(&format!("# TYPE {name} ")), "{name}");
        }
        for line in text
            .lines()
            .filter(|l| l.starts_with("# TYPE yuqing_report_"))
        {
            let name = line.split_whitespace().nth(2).unwrap_or_default();
            if line.ends_with("counter") {
                assert!(name.ends_with("_total"), "{name}");
            }
        }
    }
}
