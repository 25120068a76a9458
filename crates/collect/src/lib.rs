//! # yuqing-collect
//!
//! Crawler workers. Each configured source runs on its own schedule and hands [`Item`]s to an
//! [`ItemSink`]; cursors and seen-sets live behind a [`StateStore`] so a restart neither misses nor
//! duplicates.
//!
//! Source kinds ([`SourceKind`]): RSS/Atom/JSON feeds (portals' own and RSSHub routes), HTML
//! portals (list → detail, CSS selectors or the government-CMS meta tags with main-text
//! extraction), Weibo mobile-web JSON (timelines, search, hot search, comments, reposts, long
//! text), generic JSON APIs mapped by path, message boards with their reply status, and a watched
//! directory of dropped files. Pushed items go through [`parse_ingest`].
//!
//! Every source is polite (robots.txt, per-host rate limits and concurrency caps, a descriptive
//! User-Agent), incremental (conditional GET, URL normalisation, a seen-set marked only after the
//! sink accepted the items, content-hash dedupe), measures spread by re-observing recent posts on a
//! decaying schedule, and reports its health as metrics and as [`HealthEvent`]s. Time comes from the
//! injected [`yuqing_core::Clock`]; schedules sleep through its `real()` conversion.
//!
//! ```no_run
//! # async fn demo(cfg: yuqing_collect::CollectConfig, sink: std::sync::Arc<dyn yuqing_collect::ItemSink>) {
//! use std::sync::Arc;
//! use yuqing_collect::{Collector, MemoryState};
//! let collector = Collector::new(cfg, Arc::new(MemoryState::new()), sink, Arc::new(yuqing_core::SystemClock));
//! let report = collector.poll_once("city-portal").await;
//! let surge = collector.surge_handle();
//! surge.set(true); // an emergency: poll every source at its surge interval
//! collector.run(tokio_util::sync::CancellationToken::new()).await;
//! # }
//! ```
#![warn(missing_docs)]

pub mod config;
mod error;
mod extract;
mod fetch;
pub mod health;
mod ingest;
pub mod metrics;
mod runtime;
mod sources;
pub mod state;
pub mod text;
pub mod timeparse;
pub mod urlnorm;

use async_trait::async_trait;
use yuqing_core::Item;

pub use config::{
    AuthorKind, BoardSource, CollectConfig, CollectSettings, DetailSelectors, DirSource,
    FeedSource, HtmlSource, JsonApiSource, JsonFields, Paging, Shard, SourceCommon, SourceConfig,
    SourceKind, TimeFormat, WeiboSource,
};
pub use error::{CollectError, FetchError, IngestError};
pub use health::{HealthEvent, HealthEventKind, HealthHandle, HealthStatus, SourceHealth};
pub use ingest::{parse_ingest, IngestOutcome};
pub use runtime::{Collector, PollReport, SurgeHandle};
pub use state::{MemoryState, SourceState};

/// A failure of the state store behind the collectors.
#[derive(Debug, thiserror::Error)]
#[error("state store: {0}")]
pub struct StateError(pub String);

/// A failure to hand items downstream.
#[derive(Debug, thiserror::Error)]
#[error("item sink: {0}")]
pub struct SinkError(pub String);

/// Where collectors keep per-source cursors and seen-sets (the daemon backs it with the store).
#[async_trait]
pub trait StateStore: Send + Sync + 'static {
    /// The saved cursor state of a source (opaque JSON), if any.
    async fn get_state(&self, source: &str) -> Result<Option<serde_json::Value>, StateError>;
    /// Saves the cursor state of a source.
    async fn put_state(&self, source: &str, state: &serde_json::Value) -> Result<(), StateError>;
    /// For each key, whether it was already seen for this source.
    async fn seen(&self, source: &str, keys: &[String]) -> Result<Vec<bool>, StateError>;
    /// Records keys as seen (called only after their items were emitted).
    async fn mark_seen(&self, source: &str, keys: &[String]) -> Result<(), StateError>;
}

/// Where collected items go. `emit` returns once the items are durably accepted downstream.
#[async_trait]
pub trait ItemSink: Send + Sync + 'static {
    /// Hands items downstream.
    async fn emit(&self, items: Vec<Item>) -> Result<(), SinkError>;
}
