//! # yuqing-core
//!
//! The inner ring of yuqing: everything the other crates agree on and nothing that does I/O.
//!
//! - [`record`]: the four record contracts that travel between stages — [`Item`], [`JudgedItem`],
//!   [`Event`] and [`Alert`] — with their JSON Lines codec and `schema_version`.
//! - [`clock`]: the injectable clock. Every time rule in yuqing (velocity, the 2h/6h/24h curve,
//!   deadlines, escalation) reads time from a [`Clock`], so tests and `yuqing replay` run a day in
//!   seconds.
//! - [`id`]: deterministic ids (event ids, alert ids) so that redelivery and restarts are idempotent.
//! - [`telemetry`]: Prometheus metric names and the shared stage metrics.
//! - [`problem`]: configuration problems reported with their key path.
//!
//! ```
//! use yuqing_core::Item;
//! let line = r#"{"id":"1","source":"demo","platform":"weibo","text":"某地发生火灾","published_at":"2026-11-22T10:02:33+08:00"}"#;
//! let item = Item::from_json(line.as_bytes()).unwrap();
//! assert_eq!(item.observed_at, item.published_at);
//! ```
#![warn(missing_docs)]

pub mod clock;
pub mod id;
pub mod problem;
pub mod record;
pub mod telemetry;

pub use clock::{Clock, ManualClock, ScaledClock, SharedClock, SystemClock};
pub use problem::{Problem, Problems};
pub use record::{
    Alert, AlertKind, Analysis, Counts, Deadline, Event, Forecast, Grade, HandlingClass, Item,
    ItemKeying, JudgedItem, Metrics, Platform, Reason, RecordError, Stage, SCHEMA_VERSION,
};
