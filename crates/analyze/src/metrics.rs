//! Prometheus metrics of the judgment stage (default registry).

use std::sync::LazyLock;

use prometheus::{register_int_counter_vec, register_int_gauge_vec, IntCounterVec, IntGaugeVec};

use crate::Analyzer;

/// Reloads of the judgment resources, by result (`reloaded`, `failed`).
pub static RELOADS: LazyLock<IntCounterVec> = LazyLock::new(|| {
    register_int_counter_vec!(
        "yuqing_analyze_reloads_total",
        "Reloads of the judgment resources and models, by result (reloaded, failed).",
        &["result"]
    )
    .expect("metric registers once")
});

/// What the analyzer in force has loaded, by kind.
pub static LOADED: LazyLock<IntGaugeVec> = LazyLock::new(|| {
    register_int_gauge_vec!(
        "yuqing_analyze_loaded_entries",
        "Entries of the judgment resources in force, by kind (patterns, rules, departments, divisions, models).",
        &["kind"]
    )
    .expect("metric registers once")
});

/// Records what an analyzer has loaded.
pub fn loaded(a: &Analyzer) {
    let inv = a.inventory();
    LOADED
        .with_label_values(&["patterns"])
        .set(inv.patterns as i64);
    LOADED.with_label_values(&["rules"]).set(inv.rules as i64);
    LOADED
        .with_label_values(&["departments"])
        .set(inv.departments as i64);
    LOADED
        .with_label_values(&["divisions"])
        .set((inv.divisions.0 + inv.divisions.1 + inv.divisions.2) as i64);
    LOADED
        .with_label_values(&["models"])
        .set(inv.category_model as i64 + inv.sentiment_model as i64);
}
