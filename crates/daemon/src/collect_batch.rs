//! Batch mode of the collect stage: normalise an item file, or poll every source once.

use std::io::Write;
use std::path::Path;
use std::sync::Arc;

use async_trait::async_trait;
use parking_lot::Mutex;
use tracing::warn;
use yuqing_collect::{Collector, ItemSink, MemoryState, SinkError};
use yuqing_core::{Item, SystemClock};

use crate::batch::{open_output, Summary};
use crate::config::PipelineConfig;
use crate::core::Privacy;

/// `yuqing collect --input F --output G`: validates pushed items exactly as `/ingest` does (JSON
/// Lines or a JSON array), applies the privacy policy, and writes the accepted ones.
pub fn normalise(cfg: &PipelineConfig, input: &Path, output: &Path) -> anyhow::Result<Summary> {
    let body = if input == Path::new("-") {
        let mut v = Vec::new();
        std::io::Read::read_to_end(&mut std::io::stdin(), &mut v)?;
        v
    } else {
        std::fs::read(input).map_err(|e| anyhow::anyhow!("reading {}: {e}", input.display()))?
    };
    let source = cfg
        .api
        .ingest_source
        .clone()
        .unwrap_or_else(|| "batch".into());
    // An empty file is an empty batch (as for `analyze --input`), not an error.
    let outcome = match yuqing_collect::parse_ingest(&body, None, &source) {
        Ok(o) => o,
        Err(yuqing_collect::IngestError::Empty) => yuqing_collect::IngestOutcome::default(),
        Err(e) => return Err(e.into()),
    };
    for (i, e) in &outcome.rejected {
        warn!(record = i, error = %e, "Skipped a bad record.");
    }
    let privacy = Privacy::from_config(cfg);
    let mut out = open_output(output)?;
    let mut s = Summary {
        read: (outcome.items.len() + outcome.rejected.len()) as u64,
        rejected: outcome.rejected.len() as u64,
        ..Summary::default()
    };
    for mut item in outcome.items {
        privacy.apply(&mut item);
        out.write_all(&item.to_json())?;
        out.write_all(b"\n")?;
        s.written += 1;
    }
    out.flush()?;
    Ok(s)
}

#[derive(Debug, Default)]
struct Gather(Mutex<Vec<Item>>);

#[async_trait]
impl ItemSink for Gather {
    async fn emit(&self, items: Vec<Item>) -> Result<(), SinkError> {
        self.0.lock().extend(items);
        Ok(())
    }
}

/// Sources that `collect --once` could not poll.
#[derive(Debug, thiserror::Error)]
#[error("{} of {total} source(s) failed: {}", failed.len(), failed.join("; "))]
pub struct PollFailed {
    /// Each failed source with its error.
    pub failed: Vec<String>,
    /// Sources polled.
    pub total: usize,
}

/// `yuqing collect --once --output G`: polls each enabled source once with a fresh state and
/// writes what was found. When a source fails, what the others found is still written, and the
/// result is a [`PollFailed`] error (a runtime failure: exit 1).
pub async fn poll_once(cfg: &PipelineConfig, output: &Path) -> anyhow::Result<Summary> {
    let gather = Arc::new(Gather::default());
    let collector = Collector::new(
        cfg.collect_config(),
        Arc::new(MemoryState::new()),
        gather.clone(),
        Arc::new(SystemClock),
    );
    // Disabled sources are not polled, as the daemon does not poll them.
    let enabled: Vec<&str> = cfg
        .sources
        .iter()
        .filter(|s| s.common.enabled)
        .map(|s| s.id())
        .collect();
    let mut failed = Vec::new();
    for id in &enabled {
        match collector.poll_once(id).await {
            Ok(r) => tracing::info!(source = %id, new = r.new_items, pages = r.pages, "Polled."),
            Err(e) => {
                warn!(source = %id, error = %e, "Poll failed.");
                failed.push(format!("{id}: {e}"));
            }
        }
    }
    let privacy = Privacy::from_config(cfg);
    let mut out = open_output(output)?;
    let mut s = Summary::default();
    for mut item in std::mem::take(&mut *gather.0.lock()) {
        privacy.apply(&mut item);
        out.write_all(&item.to_json())?;
        out.write_all(b"\n")?;
        s.written += 1;
    }
    out.flush()?;
    if !failed.is_empty() {
        return Err(PollFailed {
            failed,
            total: enabled.len(),
        }
        .into());
    }
    Ok(s)
}
