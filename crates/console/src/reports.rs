//! The reports: how the console lists and shows the duty room's documents (网络舆情日志,
//! 舆情专报, 定期通报, 总结报告).
//!
//! [`ReportSource`] is the hook; [`StoreReports`] is the real one, which builds the reports with
//! the report crate (`yuqing-report`) from the same store and case workflow as the console, on
//! demand. [`crate::ConsoleContext::new`] uses it unless told otherwise.
//!
//! | path below `/console/reports/` | report |
//! |---|---|
//! | `daily/2026-11-22` | 网络舆情日志 of that day (UTC+8) |
//! | `event/{event_id}` | 舆情专报 of an event |
//! | `bulletin/2026-11` | 舆情处置定期通报 of the cases first alerted in that month |
//! | `summary/{case_id}` | 舆情处置总结报告 of a closed (办结) case |
//!
//! Each is served as the report crate's self-contained HTML page; `…/{path}.md` gives its
//! Markdown.

use std::fmt;
use std::future::Future;
use std::pin::Pin;

use chrono::{DateTime, Datelike, Duration, FixedOffset, NaiveDate, TimeZone};
use yuqing_cases::{CaseFilter, Cases};
use yuqing_core::clock::cst;
use yuqing_report::{ReportError, ReportKind};
use yuqing_store::Store;

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
    /// Its kind in words (网络舆情日志, 舆情专报, 舆情处置定期通报, 舆情处置总结报告).
    pub kind: String,
    /// The period or moment it covers, in words (for example `2026-11-22`).
    pub period: String,
}

/// A report ready to show.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RenderedReport {
    /// Its title.
    pub title: String,
    /// The report as one self-contained HTML document (the report crate's `Report::to_html`:
    /// inline CSS, inline SVG, no script, every user-generated text escaped by its producer).
    /// The console serves it as it is, under a Content-Security-Policy that forbids scripts and
    /// anything remote.
    pub html: String,
    /// The same report as Markdown.
    pub markdown: String,
}

/// Why a report could not be shown.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ReportHookError {
    /// There is no such report (unknown path, event or case).
    #[error("no such report")]
    NotFound,
    /// The report exists in principle but not now (a summary of a case still open, a day in
    /// the future): the message says why.
    #[error("{0}")]
    Refused(String),
    /// Building it failed (the store); the message is logged, not shown.
    #[error("{0}")]
    Failed(String),
}

/// Where the console gets its reports.
pub trait ReportSource: Send + Sync + fmt::Debug {
    /// The reports to list, newest first, as of `now` (the console clock, UTC+8).
    fn list(
        &self,
        now: DateTime<FixedOffset>,
    ) -> BoxFuture<'_, Result<Vec<ReportLink>, ReportHookError>>;

    /// The report at `path` (one of those [`ReportSource::list`] gave, or any other path the
    /// source understands).
    fn render<'a>(
        &'a self,
        path: &'a str,
        now: DateTime<FixedOffset>,
    ) -> BoxFuture<'a, Result<RenderedReport, ReportHookError>>;
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

/// What a report path names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ReportPath {
    /// `daily/YYYY-MM-DD`.
    Daily(NaiveDate),
    /// `event/{event_id}`.
    Event(String),
    /// `bulletin/YYYY-MM`: the month's first day.
    Bulletin(NaiveDate),
    /// `summary/{case_id}`.
    Summary(String),
}

impl ReportPath {
    /// Parses a path below `/console/reports/` (without a `.md` suffix).
    pub fn parse(path: &str) -> Option<ReportPath> {
        if !valid_path(path) {
            return None;
        }
        let (kind, rest) = path.split_once('/')?;
        if rest.contains('/') || rest.is_empty() {
            return None;
        }
        match kind {
            "daily" => NaiveDate::parse_from_str(rest, "%Y-%m-%d")
                .ok()
                .map(ReportPath::Daily),
            "bulletin" => NaiveDate::parse_from_str(&format!("{rest}-01"), "%Y-%m-%d")
                .ok()
                .filter(|_| rest.len() == 7)
                .map(ReportPath::Bulletin),
            "event" => Some(ReportPath::Event(rest.to_string())),
            "summary" => Some(ReportPath::Summary(rest.to_string())),
            _ => None,
        }
    }

    /// The path of this report.
    pub fn path(&self) -> String {
        match self {
            ReportPath::Daily(d) => format!("daily/{}", d.format("%Y-%m-%d")),
            ReportPath::Event(id) => format!("event/{id}"),
            ReportPath::Bulletin(d) => format!("bulletin/{}", d.format("%Y-%m")),
            ReportPath::Summary(id) => format!("summary/{id}"),
        }
    }
}

/// The first instant of `date` in UTC+8.
fn start_of(date: NaiveDate) -> Option<DateTime<FixedOffset>> {
    cst()
        .from_local_datetime(&date.and_hms_opt(0, 0, 0)?)
        .single()
}

/// The first day of the month after `first`.
fn next_month(first: NaiveDate) -> Option<NaiveDate> {
    let (y, m) = if first.month() == 12 {
        (first.year() + 1, 1)
    } else {
        (first.year(), first.month() + 1)
    };
    NaiveDate::from_ymd_opt(y, m, 1)
}

/// The reports of the report crate, built on demand from the store and the case workflow.
#[derive(Debug, Clone)]
pub struct StoreReports {
    store: Store,
    cases: Cases,
    days: u32,
    cases_listed: i64,
}

impl StoreReports {
    /// Reports over `store` and `cases`; the list offers the daily logs of the last 7 days,
    /// this month's and last month's bulletins, and the event reports and summaries of the 20
    /// most recently alerted open and closed cases.
    pub fn new(store: Store, cases: Cases) -> StoreReports {
        StoreReports {
            store,
            cases,
            days: 7,
            cases_listed: 20,
        }
    }

    async fn list_now(
        &self,
        now: DateTime<FixedOffset>,
    ) -> Result<Vec<ReportLink>, ReportHookError> {
        let today = now.with_timezone(&cst()).date_naive();
        let mut out = Vec::new();
        for k in 0..self.days {
            let d = today - Duration::days(k as i64);
            out.push(ReportLink {
                path: ReportPath::Daily(d).path(),
                title: format!("{} {}", ReportKind::Daily.label(), d.format("%Y-%m-%d")),
                kind: ReportKind::Daily.label().to_string(),
                period: if k == 0 {
                    format!("{}（今日，截至目前）", d.format("%Y-%m-%d"))
                } else {
                    d.format("%Y-%m-%d").to_string()
                },
            });
        }
        let this_month = today.with_day(1).unwrap_or(today);
        let last_month = (this_month - Duration::days(1))
            .with_day(1)
            .unwrap_or(this_month);
        for (m, note) in [(this_month, "（本月，截至目前）"), (last_month, "")] {
            out.push(ReportLink {
                path: ReportPath::Bulletin(m).path(),
                title: format!("{} {}", ReportKind::Bulletin.label(), m.format("%Y年%m月")),
                kind: ReportKind::Bulletin.label().to_string(),
                period: format!("{}{note}", m.format("%Y-%m")),
            });
        }
        let open = self
            .cases
            .list(&CaseFilter {
                open: Some(true),
                limit: Some(self.cases_listed),
                ..CaseFilter::default()
            })
            .await
            .map_err(|e| ReportHookError::Failed(e.to_string()))?;
        for c in open {
            out.push(ReportLink {
                path: ReportPath::Event(c.event_id.clone()).path(),
                title: format!("{}：{}", ReportKind::Event.label(), c.title),
                kind: ReportKind::Event.label().to_string(),
                period: format!("首次预警 {}", crate::text::datetime(&c.first_alert)),
            });
        }
        let closed = self
            .cases
            .list(&CaseFilter {
                state: Some("closed".into()),
                limit: Some(self.cases_listed),
                ..CaseFilter::default()
            })
            .await
            .map_err(|e| ReportHookError::Failed(e.to_string()))?;
        for c in closed {
            out.push(ReportLink {
                path: ReportPath::Summary(c.case_id.clone()).path(),
                title: format!("{}：{}", ReportKind::Summary.label(), c.title),
                kind: ReportKind::Summary.label().to_string(),
                period: c
                    .closed
                    .map(|t| format!("办结 {}", crate::text::datetime(&t)))
                    .unwrap_or_default(),
            });
        }
        out.retain(|l| valid_path(&l.path));
        Ok(out)
    }

    async fn render_now(
        &self,
        path: &str,
        now: DateTime<FixedOffset>,
    ) -> Result<RenderedReport, ReportHookError> {
        let p = ReportPath::parse(path).ok_or(ReportHookError::NotFound)?;
        let tz = cst();
        let today = now.with_timezone(&tz).date_naive();
        let (s, c) = (&self.store, &self.cases);
        let built = match &p {
            ReportPath::Daily(d) => {
                if *d > today {
                    return Err(ReportHookError::Refused(format!(
                        "{} 尚未到来，没有日志。",
                        d.format("%Y-%m-%d")
                    )));
                }
                yuqing_report::daily(s, c, *d, tz).await
            }
            ReportPath::Event(id) => yuqing_report::event(s, c, id, tz).await,
            ReportPath::Bulletin(first) => {
                if *first > today {
                    return Err(ReportHookError::Refused(format!(
                        "{} 尚未到来，没有通报。",
                        first.format("%Y-%m")
                    )));
                }
                let from = start_of(*first);
                let to = next_month(*first).and_then(start_of);
                let (Some(from), Some(to)) = (from, to) else {
                    return Err(ReportHookError::NotFound);
                };
                yuqing_report::bulletin(s, c, from, to, tz).await
            }
            ReportPath::Summary(id) => yuqing_report::summary(s, c, id, tz).await,
        };
        match built {
            Ok(r) => Ok(RenderedReport {
                title: r.title.clone(),
                html: r.to_html(),
                markdown: r.to_markdown(),
            }),
            Err(ReportError::NotFound { .. }) => Err(ReportHookError::NotFound),
            Err(e @ (ReportError::NotClosed { .. } | ReportError::Invalid { .. })) => {
                Err(ReportHookError::Refused(e.to_string()))
            }
            Err(e) => Err(ReportHookError::Failed(e.to_string())),
        }
    }
}

impl ReportSource for StoreReports {
    fn list(
        &self,
        now: DateTime<FixedOffset>,
    ) -> BoxFuture<'_, Result<Vec<ReportLink>, ReportHookError>> {
        Box::pin(self.list_now(now))
    }

    fn render<'a>(
        &'a self,
        path: &'a str,
        now: DateTime<FixedOffset>,
    ) -> BoxFuture<'a, Result<RenderedReport, ReportHookError>> {
        Box::pin(self.render_now(path, now))
    }
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

    #[test]
    fn report_paths_round_trip() {
        let d = NaiveDate::from_ymd_opt(2026, 11, 22).unwrap();
        for p in [
            ReportPath::Daily(d),
            ReportPath::Event("ev-0123abcd".into()),
            ReportPath::Bulletin(NaiveDate::from_ymd_opt(2026, 11, 1).unwrap()),
            ReportPath::Summary("case-0a08".into()),
        ] {
            assert_eq!(ReportPath::parse(&p.path()), Some(p));
        }
        assert_eq!(ReportPath::parse("daily/2026-13-01"), None);
        assert_eq!(ReportPath::parse("bulletin/2026-11-05"), None);
        assert_eq!(ReportPath::parse("bulletin/2026-1"), None);
        assert_eq!(ReportPath::parse("event/a/b"), None);
        assert_eq!(ReportPath::parse("weekly/2026-11-22"), None);
        assert_eq!(ReportPath::parse("event/"), None);
    }

    #[test]
    fn months_roll_over() {
        let dec = NaiveDate::from_ymd_opt(2026, 12, 1).unwrap();
        assert_eq!(next_month(dec), NaiveDate::from_ymd_opt(2027, 1, 1));
        assert_eq!(
            start_of(dec).unwrap().to_rfc3339(),
            "2026-12-01T00:00:00+08:00"
        );
    }
}
