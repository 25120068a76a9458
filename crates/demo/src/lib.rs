//! placeholder
#![warn(missing_docs)]
pub mod hawkes;
pub mod script;
pub mod text;

/// Errors of the demo world.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum DemoError {
    /// A script file could not be read.
    #[error("reading {path}: {source}")]
    Io {
        /// The file.
        path: std::path::PathBuf,
        /// The cause.
        source: std::io::Error,
    },
    /// A script file is not valid TOML of its shape.
    #[error("{file}: {message}")]
    Parse {
        /// The file name.
        file: String,
        /// What is wrong.
        message: String,
    },
    /// The script parsed but breaks a rule.
    #[error("invalid demo script:\n{0}")]
    Invalid(yuqing_core::Problems),
}
