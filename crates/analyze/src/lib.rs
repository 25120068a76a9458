//! # yuqing-analyze
//!
//! Turns an [`Item`] into an [`Analysis`]: pure, synchronous, no I/O after loading, so it can run on
//! a blocking pool and be benchmarked in isolation. (Stub: the full judgment is being built.)
#![warn(missing_docs)]

use std::path::{Path, PathBuf};

use serde::Deserialize;
use yuqing_core::{Analysis, Item, Problems, Reason};

/// Errors while loading the judgment resources.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum AnalyzeError {
    /// A resource file could not be read.
    #[error("reading {path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The cause.
        source: std::io::Error,
    },
    /// A resource file is malformed.
    #[error("{path}: {message}")]
    Resource {
        /// The file.
        path: PathBuf,
        /// What is wrong.
        message: String,
    },
}

/// The `[analyze]` section of a pipeline.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AnalyzeConfig {
    /// A directory that overrides the bundled resources (dictionaries, lexicons, rules), relative
    /// to the config file.
    #[serde(default)]
    pub resources: Option<PathBuf>,
    /// A model written by `yuqing train`.
    #[serde(default)]
    pub model: Option<PathBuf>,
}

impl AnalyzeConfig {
    /// Checks the section, recording problems under `path`.
    pub fn validate(&self, _path: &str, _problems: &mut Problems) {}
}

/// The judgment: loaded once, shared by reference between threads.
#[derive(Debug)]
pub struct Analyzer {
    terms: Vec<(&'static str, f64, &'static str)>,
}

impl Analyzer {
    /// The analyzer with the resources bundled in the binary.
    pub fn builtin() -> Result<Analyzer, AnalyzeError> {
        Ok(Analyzer {
            terms: vec![
                ("爆炸", 0.6, "安全事故"),
                ("火灾", 0.5, "安全事故"),
                ("死亡", 0.4, "安全事故"),
                ("拖欠", 0.4, "欠薪"),
                ("维权", 0.4, "群体事件"),
                ("腐败", 0.5, "官员作风"),
            ],
        })
    }

    /// The analyzer for a pipeline's `[analyze]` section; paths are relative to `base`.
    pub fn load(_cfg: &AnalyzeConfig, _base: &Path) -> Result<Analyzer, AnalyzeError> {
        Analyzer::builtin()
    }

    /// Judges one item.
    pub fn judge(&self, item: &Item) -> Analysis {
        let mut a = Analysis::default();
        let text = &item.text;
        let mut s: f64 = 0.0;
        for (term, w, topic) in &self.terms {
            if text.contains(term) {
                s += w;
                a.reasons
                    .push(Reason::new("sensitivity", format!("lexicon:{topic}"), *term).weighted(*w));
                if !a.topics.iter().any(|t| t == topic) {
                    a.topics.push(topic.to_string());
                }
            }
        }
        a.sensitivity = s.min(1.0);
        a
    }
}
