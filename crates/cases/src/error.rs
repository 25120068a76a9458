//! The errors of the case workflow.

use crate::model::{CaseState, Role};

/// A case operation failed. Nothing was changed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum CaseError {
    /// No case has this id (or event id).
    #[error("no case `{0}`")]
    NotFound(String),
    /// The action is not allowed in the case's state.
    #[error("cannot {action} case {case_id}: it is {state} ({state_label}); {hint}", state = .from.as_str(), state_label = .from.label())]
    IllegalTransition {
        /// The case.
        case_id: String,
        /// The action tried.
        action: &'static str,
        /// The state it is in.
        from: CaseState,
        /// What would be allowed.
        hint: String,
    },
    /// The actor's role does not allow the action.
    #[error("{actor} ({role}) may not {action} case {case_id}: {why}", role = .role.label())]
    Forbidden {
        /// The case.
        case_id: String,
        /// Who tried.
        actor: String,
        /// With which role.
        role: Role,
        /// The action tried.
        action: &'static str,
        /// Why not.
        why: String,
    },
    /// The request is not acceptable (an empty department, a response time in the future, …).
    #[error("invalid {field}: {message}")]
    Invalid {
        /// The offending field.
        field: &'static str,
        /// What is wrong.
        message: String,
    },
    /// Someone else changed the case at the same moment; read it again and retry.
    #[error("case {0} was changed concurrently; reload it and try again")]
    Conflict(String),
    /// The store failed.
    #[error("store: {0}")]
    Store(#[from] yuqing_store::StoreError),
    /// The database failed.
    #[error("database: {0}")]
    Db(#[from] sqlx::Error),
    /// The store lacks the case tables (its migrations predate `0002_cases`).
    #[error("{0}")]
    Schema(String),
    /// A stored row does not decode (written by a newer or broken version).
    #[error("stored case data is corrupt: {0}")]
    Corrupt(String),
    /// Writing CLI output failed.
    #[error("output: {0}")]
    Io(#[from] std::io::Error),
}

impl CaseError {
    /// A bounded code for the `error_type` label of metrics and the API's error `code`.
    pub fn kind(&self) -> &'static str {
        match self {
            CaseError::NotFound(_) => "not_found",
            CaseError::IllegalTransition { .. } => "illegal_transition",
            CaseError::Forbidden { .. } => "forbidden",
            CaseError::Invalid { .. } => "invalid",
            CaseError::Conflict(_) => "conflict",
            CaseError::Store(_) => "store",
            CaseError::Db(_) => "db",
            CaseError::Corrupt(_) => "corrupt",
            CaseError::Schema(_) => "schema",
            CaseError::Io(_) => "io",
        }
    }

    pub(crate) fn invalid(field: &'static str, message: impl Into<String>) -> CaseError {
        CaseError::Invalid {
            field,
            message: message.into(),
        }
    }
}
