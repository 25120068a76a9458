//! # yuqing-cases
//!
//! The case workflow: what happens after an alert. "网上问题，网下解决" — the owning department
//! handles the matter offline and the public is answered.
//!
//! - **States** 待受理 → 已受理 → 已转办 (to a department) → 已反馈 (the department's facts) →
//!   已回应 (the public response: channel, link, time) → 办结, with reassignment (改派), notes and
//!   reopening when a closed event flares again. Illegal transitions are typed errors
//!   ([`CaseError::IllegalTransition`]).
//! - **Roles** 值班员 (everything), 部门 (feedback, responses and notes on its own cases), 只读.
//! - **Audit**: an append-only log of who did what and when — the code only inserts, and the
//!   database refuses UPDATE and DELETE (triggers in both SQLite and PostgreSQL).
//! - **Accountability** (迟报、漏报): per department and period, from the audit log: time from
//!   first sight to alert, to acceptance, to public response; deadlines met and missed; cases
//!   the rules alerted but nobody acted on ([`Cases::accountability`]); metrics
//!   `yuqing_cases_open{grade}`, `yuqing_cases_deadline_missed_total{department,deadline}` and
//!   the same accountability figures per department over the last 30 days as gauges
//!   (`yuqing_cases_accountability_*`, [`AccountabilityMetrics`], refreshed by
//!   [`Cases::run_accountability_metrics`]).
//! - **Interfaces**: the HTTP JSON API ([`router`], bearer tokens from `[[api.users]]`) and
//!   `yuqing case …` ([`CaseArgs`], [`run_cli`]).
//!
//! Cases live in the shared [`yuqing_store::Store`] (tables of migration `0002_cases`), on
//! SQLite or PostgreSQL alike.
//!
//! ```no_run
//! # async fn f(store: yuqing_store::Store, alert: yuqing_core::Alert) -> Result<(), yuqing_cases::CaseError> {
//! use yuqing_cases::{Actor, Cases};
//! let cases = Cases::new(store).await?;
//! cases.on_alert(&alert).await?; // opens the case (待受理)
//! let duty = Actor::duty("王值班");
//! cases.accept(&alert.event_id, &duty).await?;
//! cases.assign(&alert.event_id, "应急管理局", &duty).await?;
//! # Ok(()) }
//! ```
#![warn(missing_docs)]

mod api;
mod cases;
mod cli;
mod error;
pub mod metrics;
mod model;

pub use api::{case_json, router, validate_users, Auth, UserConfig};
pub use cases::{case_id_of, Cases, CasesConfig, Responded, UNASSIGNED};
pub use cli::{run_cli, CaseArgs, CaseCommand};
pub use error::CaseError;
pub use metrics::AccountabilityMetrics;
pub use model::{
    Actor, AuditEntry, Case, CaseFilter, CaseState, Channel, DepartmentStats, Minutes, Response,
    Role,
};
