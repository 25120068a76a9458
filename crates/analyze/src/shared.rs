//! [`SharedAnalyzer`]: the analyzer in force, replaced atomically when its files change.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use parking_lot::{Mutex, RwLock};
use tracing::{info, warn};

use crate::metrics::RELOADS;
use crate::{AnalyzeConfig, AnalyzeError, Analyzer};

/// A file's identity for change detection: its length and a hash of its content (`None` when the
/// file does not exist).
type Stamp = Vec<(PathBuf, Option<(u64, u64)>)>;

fn stamp(paths: &[PathBuf]) -> Stamp {
    paths
        .iter()
        .map(|p| {
            let s = std::fs::read(p).ok().map(|b| {
                let mut h: u64 = 0xcbf2_9ce4_8422_2325;
                for x in &b {
                    h ^= *x as u64;
                    h = h.wrapping_mul(0x0100_0000_01b3);
                }
                (b.len() as u64, h)
            });
            (p.clone(), s)
        })
        .collect()
}

/// The analyzer in force for a pipeline, shared between threads, with hot reload: the daemon calls
/// [`SharedAnalyzer::reload_if_changed`] on a timer; each call to [`SharedAnalyzer::current`]
/// returns the analyzer to use for the next batch.
#[derive(Debug)]
pub struct SharedAnalyzer {
    cfg: AnalyzeConfig,
    base: PathBuf,
    current: RwLock<Arc<Analyzer>>,
    seen: Mutex<Stamp>,
    last_error: Mutex<Option<String>>,
}

impl SharedAnalyzer {
    /// Loads the analyzer of `cfg` (paths relative to `base`).
    pub fn load(cfg: &AnalyzeConfig, base: &Path) -> Result<SharedAnalyzer, AnalyzeError> {
        let a = Analyzer::load(cfg, base)?;
        let seen = stamp(&a.watched);
        Ok(SharedAnalyzer {
            cfg: cfg.clone(),
            base: base.to_path_buf(),
            current: RwLock::new(Arc::new(a)),
            seen: Mutex::new(seen),
            last_error: Mutex::new(None),
        })
    }

    /// Wraps an analyzer that never reloads (for the bundled resources).
    pub fn fixed(a: Analyzer) -> SharedAnalyzer {
        SharedAnalyzer {
            cfg: a.cfg.clone(),
            base: PathBuf::new(),
            seen: Mutex::new(Vec::new()),
            current: RwLock::new(Arc::new(a)),
            last_error: Mutex::new(None),
        }
    }

    /// The analyzer in force.
    pub fn current(&self) -> Arc<Analyzer> {
        self.current.read().clone()
    }

    /// The files watched for changes.
    pub fn watched(&self) -> Vec<PathBuf> {
        self.seen.lock().iter().map(|(p, _)| p.clone()).collect()
    }

    /// The error of the last failed reload, until a reload succeeds.
    pub fn last_error(&self) -> Option<String> {
        self.last_error.lock().clone()
    }

    /// Reloads when a watched file (a resource override or a model) changed since the last look.
    /// `Ok(true)`: the new analyzer is in force. `Ok(false)`: nothing changed (or the change was
    /// already reported as bad). `Err`: the changed files do not load; the old analyzer stays in
    /// force and the error names the file and line.
    pub fn reload_if_changed(&self) -> Result<bool, AnalyzeError> {
        let mut seen = self.seen.lock();
        if seen.is_empty() {
            return Ok(false);
        }
        let paths: Vec<PathBuf> = seen.iter().map(|(p, _)| p.clone()).collect();
        let now = stamp(&paths);
        if now == *seen {
            return Ok(false);
        }
        *seen = now;
        match Analyzer::load(&self.cfg, &self.base) {
            Ok(a) => {
                let new_watch = stamp(&a.watched);
                *seen = new_watch;
                *self.current.write() = Arc::new(a);
                *self.last_error.lock() = None;
                RELOADS.with_label_values(&["reloaded"]).inc();
                info!(files = paths.len(), "Judgment resources reloaded.");
                Ok(true)
            }
            Err(e) => {
                RELOADS.with_label_values(&["failed"]).inc();
                warn!(error = %e, "Judgment resources failed to reload; the previous ones stay in force.");
                *self.last_error.lock() = Some(e.to_string());
                Err(e)
            }
        }
    }
}

#[cfg(test)]
pub(crate) mod tests_support {
    use std::sync::{Arc, OnceLock};

    use crate::Analyzer;

    /// One bundled analyzer per test binary (loading takes about a second).
    pub fn builtin() -> Arc<Analyzer> {
        static A: OnceLock<Arc<Analyzer>> = OnceLock::new();
        A.get_or_init(|| Arc::new(Analyzer::builtin().expect("bundled resources load")))
            .clone()
    }
}
