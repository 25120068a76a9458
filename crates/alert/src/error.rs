//! The errors of the alert stage.

use std::path::PathBuf;

use yuqing_core::Problems;

/// Building a [`Grader`](crate::Grader) failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum AlertError {
    /// A rules file could not be read.
    #[error("cannot read {path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// A rules file is not valid TOML of the expected shape.
    #[error("{path}: {message}")]
    Parse {
        /// The file (or `bundled:…` for the bundled rules).
        path: String,
        /// What the parser said, with the key path.
        message: String,
    },
    /// The rules parsed but break semantic checks; every problem is listed with its key path.
    #[error("invalid alert configuration:\n{0}")]
    Invalid(Problems),
}

impl AlertError {
    /// A bounded code for the `error_type` label of metrics.
    pub fn kind(&self) -> &'static str {
        match self {
            AlertError::Io { .. } => "io",
            AlertError::Parse { .. } => "parse",
            AlertError::Invalid(_) => "invalid",
        }
    }
}
