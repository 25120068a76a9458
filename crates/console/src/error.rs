//! The errors of the console and how each is answered.

use axum::http::StatusCode;
use tracing::error;
use yuqing_cases::CaseError;
use yuqing_store::StoreError;

use crate::form::FormError;

/// A console request failed. Nothing was changed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ConsoleError {
    /// The page, event, case or report does not exist.
    #[error("{0}")]
    NotFound(String),
    /// The user's role does not allow this.
    #[error("{0}")]
    Forbidden(String),
    /// The request is not acceptable (bad query or form values).
    #[error("{0}")]
    BadRequest(String),
    /// A form's CSRF token is missing or wrong.
    #[error("the form's CSRF token is missing or wrong")]
    Csrf,
    /// A form was posted without a live session.
    #[error("not logged in, or the session has expired")]
    NoSession,
    /// A form does not fit what was expected.
    #[error(transparent)]
    Form(#[from] FormError),
    /// The case workflow refused or failed.
    #[error(transparent)]
    Case(#[from] CaseError),
    /// The store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The request is understood but cannot be served now (a summary of an open case).
    #[error("{0}")]
    Refused(String),
    /// The report hook failed.
    #[error("report: {0}")]
    Report(String),
}

impl ConsoleError {
    /// The HTTP status this error is answered with.
    pub fn status(&self) -> StatusCode {
        match self {
            ConsoleError::NotFound(_) => StatusCode::NOT_FOUND,
            ConsoleError::Forbidden(_) | ConsoleError::Csrf | ConsoleError::NoSession => {
                StatusCode::FORBIDDEN
            }
            ConsoleError::BadRequest(_) | ConsoleError::Form(_) => StatusCode::BAD_REQUEST,
            ConsoleError::Refused(_) => StatusCode::CONFLICT,
            ConsoleError::Case(e) => match e {
                CaseError::NotFound(_) => StatusCode::NOT_FOUND,
                CaseError::IllegalTransition { .. } | CaseError::Conflict(_) => {
                    StatusCode::CONFLICT
                }
                CaseError::Forbidden { .. } => StatusCode::FORBIDDEN,
                CaseError::Invalid { .. } => StatusCode::BAD_REQUEST,
                _ => StatusCode::INTERNAL_SERVER_ERROR,
            },
            ConsoleError::Store(_) | ConsoleError::Report(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    /// A bounded code for logs and metrics.
    pub fn kind(&self) -> &'static str {
        match self {
            ConsoleError::NotFound(_) => "not_found",
            ConsoleError::Forbidden(_) => "forbidden",
            ConsoleError::BadRequest(_) => "bad_request",
            ConsoleError::Csrf => "csrf",
            ConsoleError::NoSession => "no_session",
            ConsoleError::Form(_) => "invalid_form",
            ConsoleError::Refused(_) => "refused",
            ConsoleError::Case(e) => e.kind(),
            ConsoleError::Store(e) => e.kind(),
            ConsoleError::Report(_) => "report",
        }
    }

    /// The heading of the error page.
    pub fn heading(&self) -> &'static str {
        match self {
            ConsoleError::NotFound(_) => "未找到",
            ConsoleError::Forbidden(_) => "无权操作",
            ConsoleError::Csrf => "表单已失效",
            ConsoleError::NoSession => "未登录或会话已过期",
            ConsoleError::BadRequest(_) | ConsoleError::Form(_) => "提交的内容有误",
            ConsoleError::Refused(_) => "暂不能提供",
            ConsoleError::Case(_) if self.status() == StatusCode::CONFLICT => {
                "当前状态不允许此操作"
            }
            ConsoleError::Case(_) if self.status() == StatusCode::FORBIDDEN => "无权操作",
            ConsoleError::Case(_) if self.status() == StatusCode::BAD_REQUEST => "提交的内容有误",
            ConsoleError::Case(_) if self.status() == StatusCode::NOT_FOUND => "未找到",
            _ => "服务器错误",
        }
    }

    /// What the page tells the user: the cause in words, never internals of a server failure
    /// (those are logged).
    pub fn message(&self) -> String {
        match self {
            ConsoleError::Csrf => {
                "表单的安全校验（CSRF 令牌）缺失或不正确：请刷新页面后重新提交。未做任何更改。"
                    .to_string()
            }
            ConsoleError::NoSession => "请重新登录后再提交。未做任何更改。".to_string(),
            e if e.status().is_server_error() => {
                error!(error = %e, kind = e.kind(), "Console request failed.");
                "服务器处理失败，详情见服务器日志。未做任何更改。".to_string()
            }
            e @ (ConsoleError::Refused(_) | ConsoleError::NotFound(_)) => e.to_string(),
            e if e.status() == StatusCode::NOT_FOUND => e.to_string(),
            e => format!("{e}。未做任何更改。"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn errors_map_to_statuses() {
        assert_eq!(ConsoleError::Csrf.status(), StatusCode::FORBIDDEN);
        assert_eq!(ConsoleError::NoSession.status(), StatusCode::FORBIDDEN);
        assert_eq!(
            ConsoleError::Form(FormError::Missing("department")).status(),
            StatusCode::BAD_REQUEST
        );
        assert_eq!(
            ConsoleError::Case(CaseError::NotFound("x".into())).status(),
            StatusCode::NOT_FOUND
        );
        assert_eq!(
            ConsoleError::Case(CaseError::Conflict("x".into())).status(),
            StatusCode::CONFLICT
        );
        let e = ConsoleError::Report("disk on fire at /secret/path".into());
        assert_eq!(e.status(), StatusCode::INTERNAL_SERVER_ERROR);
        assert!(
            !e.message().contains("/secret/path"),
            "internals stay in the log"
        );
        assert!(ConsoleError::Form(FormError::Missing("facts"))
            .message()
            .contains("facts is required"));
    }
}
