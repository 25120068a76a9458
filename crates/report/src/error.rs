//! The errors of report building, rendering and scheduling.

use std::path::PathBuf;

/// A report could not be built or written.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ReportError {
    /// The event, case or other record the report is about does not exist.
    #[error("no {what} `{id}`")]
    NotFound {
        /// What was looked for (`event`, `case`).
        what: &'static str,
        /// The id given.
        id: String,
    },
    /// A summary (总结报告) is written only after the case is closed (办结).
    #[error("case {case_id} is {state} ({state_label}), not 办结 (closed): a summary is written after the case closes")]
    NotClosed {
        /// The case.
        case_id: String,
        /// Its state.
        state: &'static str,
        /// Its state as the duty room reads it.
        state_label: &'static str,
    },
    /// A request is not acceptable (an empty period, an unknown format, a bad date).
    #[error("invalid {field}: {message}")]
    Invalid {
        /// The offending argument.
        field: &'static str,
        /// What is wrong.
        message: String,
    },
    /// The store failed.
    #[error("store: {0}")]
    Store(#[from] yuqing_store::StoreError),
    /// The case workflow failed.
    #[error("cases: {0}")]
    Cases(#[from] yuqing_cases::CaseError),
    /// Writing a report failed.
    #[error("writing {}: {source}", path.display())]
    Write {
        /// The file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// Writing to the output stream failed.
    #[error("output: {0}")]
    Io(#[from] std::io::Error),
}

impl ReportError {
    /// A bounded code for the `error_type` label of metrics; `not_found`, `not_closed` and
    /// `invalid` are the caller's mistakes (a CLI exits with a usage error on them).
    pub fn kind(&self) -> &'static str {
        match self {
            ReportError::NotFound { .. } => "not_found",
            ReportError::NotClosed { .. } => "not_closed",
            ReportError::Invalid { .. } => "invalid",
            ReportError::Store(_) => "store",
            ReportError::Cases(_) => "cases",
            ReportError::Write { .. } => "write",
            ReportError::Io(_) => "io",
        }
    }

    /// True for errors of the request rather than of the system.
    pub fn is_usage(&self) -> bool {
        matches!(self.kind(), "not_found" | "not_closed" | "invalid")
    }

    pub(crate) fn invalid(field: &'static str, message: impl Into<String>) -> ReportError {
        ReportError::Invalid {
            field,
            message: message.into(),
        }
    }
}
