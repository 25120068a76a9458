//! # yuqing-collect
//!
//! Crawler workers. Each configured source runs on its own schedule and hands [`Item`]s to an
//! [`ItemSink`]; cursors and seen-sets live behind a [`StateStore`] so a restart neither misses nor
//! duplicates. (Skeleton: the source kinds are being built.)
#![warn(missing_docs)]

use std::sync::Arc;

use async_trait::async_trait;
use serde::Deserialize;
use yuqing_core::{Item, Problems, SharedClock};

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

/// The collection part of a pipeline (`[collect]` and `[[sources]]`).
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CollectConfig {}

impl CollectConfig {
    /// Checks the section, recording problems under `path`.
    pub fn validate(&self, _path: &str, _problems: &mut Problems) {}
}

/// Runs every configured source until shut down.
#[derive(Debug)]
pub struct Collector {
    _cfg: CollectConfig,
}

impl Collector {
    /// Builds the collectors of a pipeline.
    pub fn new(
        cfg: CollectConfig,
        _state: Arc<dyn StateStore>,
        _sink: Arc<dyn ItemSink>,
        _clock: SharedClock,
    ) -> Collector {
        Collector { _cfg: cfg }
    }

    /// Runs until `shutdown` fires.
    pub async fn run(self, shutdown: tokio_util::sync::CancellationToken) {
        shutdown.cancelled().await;
    }
}
