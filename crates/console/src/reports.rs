//! The reports hook: how the console lists and shows the reports (舆情日志, 专报, 通报, 总结)
//! without knowing how they are made.

use std::fmt;
use std::future::Future;
use std::pin::Pin;

use chrono::{DateTime, FixedOffset};

/// A boxed future, as the hook's methods return.
pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// One report the console links to, at `/console/reports/{path}`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReportLink {
    /// Where it lives below `/console/reports/`: ASCII letters, digits, `-`, `_`, `.` and `/`
    /// only (for example `daily/2026-11-22`); links with other paths are not shown.
    pub path: String,
    /// What it is called.
    pub title: String,
    /// Its kind in words (舆情日志, 舆情专报, 舆情通报, 总结报告).
    pub kind: String,
    /// The period or moment it covers, in words (for example `2026-11-22`).
    pub period: String,
}

/// A report ready to show.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RenderedReport {
    /// Its title (escaped by the console).
    pub title: String,
    /// The report as an HTML fragment for the page's body (for example `Report::to_html()` of
    /// the report crate). Its producer escapes every user-generated text in it; the console's
    /// Content-Security-Policy additionally keeps any script in it from running.
    pub html: String,
    /// The same report as Markdown, offered for download when present.
    pub markdown: Option<String>,
}

/// Where the console gets its reports. The daemon passes one in [`crate::ConsoleContext`];
/// without it the reports page says that reports are not configured.
pub trait ReportSource: Send + Sync + fmt::Debug {
    /// The reports to list, newest first, as of `now` (the console clock, UTC+8).
    fn list(&self, now: DateTime<FixedOffset>) -> BoxFuture<'_, Result<Vec<ReportLink>, String>>;

    /// The report at `path` (one of those [`ReportSource::list`] gave, or any other path the
    /// source understands), or `None` when there is no such report.
    fn render<'a>(
        &'a self,
        path: &'a str,
        now: DateTime<FixedOffset>,
    ) -> BoxFuture<'a, Result<Option<RenderedReport>, String>>;
}

/// True when `path` is acceptable below `/console/reports/`.
pub fn valid_path(path: &str) -> bool {
    !path.is_empty()
        && path.len() <= 200
        && !path.starts_with('/')
        && !path
            .split('/')
            .any(|seg| seg.is_empty() || seg == "." || seg == "..")
        && path
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'/'))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn report_paths_are_plain() {
        assert!(valid_path("daily/2026-11-22"));
        assert!(valid_path("summary/ev-0123.md"));
        assert!(!valid_path(""));
        assert!(!valid_path("/etc/passwd"));
        assert!(!valid_path("daily/../secret"));
        assert!(!valid_path("daily//x"));
        assert!(!valid_path("a b"));
        assert!(!valid_path("javascript:alert(1)"));
        assert!(!valid_path("日报"));
    }
}
