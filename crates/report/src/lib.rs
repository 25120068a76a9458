//! # yuqing-report
//!
//! The duty room's documents, built from the store and the case workflow:
//!
//! - **网络舆情日志** ([`daily`]): one day's events with grades, owners and status, the day's
//!   alerts, handling steps and deadlines;
//! - **舆情专报** ([`event`]): one event — timeline from the first post, the spread curve with its
//!   2h/6h/24h marks, platforms, key accounts (as the sources published them, never profiles),
//!   sentiment, the risk assessment quoted from the grade, stage, forecast band and the rules'
//!   reasons, and the handling and response so far;
//! - **定期通报** ([`bulletin`]): per department and per place — cases, response times, deadlines
//!   met and missed, 迟报 (late) and 漏报 (missed) reports;
//! - **总结报告** ([`summary`]): the review of a closed (办结) case; an open case is refused with
//!   [`ReportError::NotClosed`].
//!
//! Every builder returns a [`Report`]: sections of statements, facts, tables, quotes and charts,
//! each carrying the [`Evidence`] behind it (item `source/id`, event, alert, case and audit entry
//! ids), and an appendix that lists each cited record with its time, description and URL. Nothing
//! is invented: numbers are counted from the records, assessments are quoted from them.
//! [`verify`] looks every cited record up again.
//!
//! Renderings: [`Report::to_markdown`] and [`Report::to_html`] — one self-contained page with
//! inline CSS (A4 print rules) and inline SVG charts ([`svg`]), no JavaScript, a CSP that forbids
//! scripts, every piece of text escaped (posts are untrusted), item links only for `http(s)`
//! URLs; evidence ids link to the appendix. [`Report::to_json`] gives the model itself.
//!
//! Interfaces: `yuqing report …` ([`ReportArgs`], [`run_cli`]) and a schedule
//! ([`ReportSchedule`], [`run_schedule`]) that writes the daily log each morning, the bulletin
//! at the start of each period and a summary when a case closes, into `<data_dir>/reports/`.
//! All times come from the injected clock (through [`yuqing_cases::Cases`]).
//!
//! ```no_run
//! # async fn f(store: yuqing_store::Store) -> Result<(), yuqing_report::ReportError> {
//! let cases = yuqing_cases::Cases::new(store.clone()).await?;
//! let date = chrono::NaiveDate::from_ymd_opt(2026, 11, 20).unwrap();
//! let report = yuqing_report::daily(&store, &cases, date, yuqing_core::clock::cst()).await?;
//! std::fs::write("daily.html", report.to_html())?;
//! assert!(yuqing_report::verify(&report, &store, &cases).await?.is_empty());
//! # Ok(()) }
//! ```
//!
//! Wiring into the daemon (`yuqing report …` and the scheduled run):
//!
//! ```no_run
//! # async fn wire(
//! #     args: yuqing_report::ReportArgs,
//! #     store: yuqing_store::Store,
//! #     clock: yuqing_core::SharedClock,
//! #     cases_cfg: yuqing_cases::CasesConfig,
//! #     reports_cfg: yuqing_report::ReportSchedule,
//! #     data_dir: std::path::PathBuf,
//! #     shutdown: tokio_util::sync::CancellationToken,
//! # ) -> Result<(), yuqing_report::ReportError> {
//! // On demand (`err.is_usage()` tells a refused request from a failing system):
//! yuqing_report::run_cli(args, store.clone(), clock.clone(), &mut std::io::stdout()).await?;
//! // On a schedule, with the pipeline's [cases] settings (they decide 迟报 and 漏报):
//! let cases = yuqing_cases::Cases::with_clock(store.clone(), clock.clone())
//!     .await?
//!     .configure(&cases_cfg, &[]);
//! tokio::spawn(yuqing_report::run_schedule_with(
//!     reports_cfg.with_data_dir(&data_dir),
//!     store,
//!     cases,
//!     clock,
//!     shutdown,
//! ));
//! # Ok(()) }
//! ```
#![warn(missing_docs)]

mod builder;
mod bulletin;
mod cli;
mod daily;
pub mod data;
mod error;
pub mod escape;
mod event;
pub mod metrics;
mod model;
mod render;
mod schedule;
mod summary;
pub mod svg;

pub use bulletin::bulletin;
pub use cli::{build, parse_day, run_cli, run_cli_with, ReportArgs, ReportCommand};
pub use daily::{daily, day_bounds};
pub use error::ReportError;
pub use event::event;
pub use model::{
    Block, Chart, Evidence, EvidenceEntry, Fact, Period, Report, ReportKind, Row, Section,
    Statement, Table,
};
pub use schedule::{
    parse_offset, run_schedule, run_schedule_with, write_atomic, write_report, BulletinEvery,
    Format, ReportSchedule,
};
pub use summary::summary;

use sqlx::Row as _;

/// Looks every piece of evidence a report cites (and every appendix entry) up in the store and
/// the case workflow; returns those that are not there (empty when the report is traceable).
pub async fn verify(
    report: &Report,
    store: &yuqing_store::Store,
    cases: &yuqing_cases::Cases,
) -> Result<Vec<Evidence>, ReportError> {
    let mut all = report.cited();
    all.extend(report.appendix.iter().map(|e| e.evidence.clone()));
    let mut audits: std::collections::HashMap<String, Vec<i64>> = Default::default();
    let mut missing = Vec::new();
    for e in all {
        let found = match &e {
            Evidence::Item { source, id } => {
                // No store API looks an item up by key alone; read the items table directly.
                let row = sqlx::query(
                    "SELECT COUNT(*) AS n FROM items WHERE source = $1 AND item_id = $2",
                )
                .bind(source)
                .bind(id)
                .fetch_one(store.pool())
                .await
                .map_err(yuqing_store::StoreError::from)?;
                row.try_get::<i64, _>("n")
                    .map_err(|e| ReportError::Store(e.into()))?
                    > 0
            }
            Evidence::Event { id } => store.event(id).await?.is_some(),
            Evidence::Alert { id } => store.alert(id).await?.is_some(),
            Evidence::Case { id } => data::case_of(cases, id).await?.is_some(),
            Evidence::Audit { case_id, id } => {
                if !audits.contains_key(case_id) {
                    let ids = match cases.audit(case_id).await {
                        Ok(log) => log.iter().map(|a| a.id).collect(),
                        Err(yuqing_cases::CaseError::NotFound(_)) => Vec::new(),
                        Err(e) => return Err(e.into()),
                    };
                    audits.insert(case_id.clone(), ids);
                }
                audits[case_id].contains(id)
            }
        };
        if !found {
            missing.push(e);
        }
    }
    Ok(missing)
}
