//! Errors of the events crate.

/// Restoring a tracker from a checkpoint failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum EventsError {
    /// The checkpoint is not JSON of the tracker's shape.
    #[error("malformed events checkpoint: {0}")]
    Format(#[from] serde_json::Error),
    /// The checkpoint was written by a newer build.
    #[error("unsupported events checkpoint format {found} (this build reads {supported})")]
    Version {
        /// The version in the checkpoint.
        found: u32,
        /// The version this build writes and reads.
        supported: u32,
    },
    /// The checkpoint parsed but its parts disagree (for example an index names a missing event).
    #[error("inconsistent events checkpoint: {0}")]
    Inconsistent(String),
}

impl EventsError {
    /// A bounded code for the `error_type` label of metrics.
    pub fn kind(&self) -> &'static str {
        match self {
            EventsError::Format(_) => "checkpoint_format",
            EventsError::Version { .. } => "checkpoint_version",
            EventsError::Inconsistent(_) => "checkpoint_inconsistent",
        }
    }
}
