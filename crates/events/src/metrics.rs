//! Prometheus metrics of the event tracker (default registry).

use std::sync::LazyLock;

use prometheus::{
    register_int_counter_vec, register_int_gauge, IntCounter, IntCounterVec, IntGauge,
};

/// Items by how they were merged: `new`, `thread`, `near_duplicate`, `keywords`, `reobserved`.
pub static ITEMS: LazyLock<IntCounterVec> = LazyLock::new(|| {
    register_int_counter_vec!(
        "yuqing_events_items_total",
        "Items merged into events, by how they joined (new event, thread, near-duplicate, keywords, re-observation).",
        &["merge"]
    )
    .expect("metric registers once")
});

/// Events closed, by reason: `quiet` (expired) or `capacity` (closed early at a hard cap).
pub static CLOSED: LazyLock<IntCounterVec> = LazyLock::new(|| {
    register_int_counter_vec!(
        "yuqing_events_closed_events_total",
        "Events closed, by reason (quiet: no activity for quiet_after; capacity: a hard cap was reached).",
        &["reason"]
    )
    .expect("metric registers once")
});

/// Open events.
pub static OPEN: LazyLock<IntGauge> = LazyLock::new(|| {
    register_int_gauge!(
        "yuqing_events_open_events",
        "Open events held by the tracker."
    )
    .expect("metric registers once")
});

/// Item keys tracked to recognise re-observations.
pub static TRACKED: LazyLock<IntGauge> = LazyLock::new(|| {
    register_int_gauge!(
        "yuqing_events_tracked_items",
        "Item and thread keys held by the tracker to recognise re-observations."
    )
    .expect("metric registers once")
});

/// Pre-resolved label handles, so `observe` does no label lookup.
pub(crate) struct Handles {
    pub new: IntCounter,
    pub thread: IntCounter,
    pub near_duplicate: IntCounter,
    pub keywords: IntCounter,
    pub reobserved: IntCounter,
    pub closed_quiet: IntCounter,
    pub closed_capacity: IntCounter,
}

pub(crate) static H: LazyLock<Handles> = LazyLock::new(|| Handles {
    new: ITEMS.with_label_values(&["new"]),
    thread: ITEMS.with_label_values(&["thread"]),
    near_duplicate: ITEMS.with_label_values(&["near_duplicate"]),
    keywords: ITEMS.with_label_values(&["keywords"]),
    reobserved: ITEMS.with_label_values(&["reobserved"]),
    closed_quiet: CLOSED.with_label_values(&["quiet"]),
    closed_capacity: CLOSED.with_label_values(&["capacity"]),
});
