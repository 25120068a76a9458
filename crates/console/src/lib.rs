//! # yuqing-console
//!
//! The duty room's web console, served by the daemon: server-rendered HTML with a few lines of
//! JavaScript, readable on a 1920px wall screen (dark theme) and usable on a laptop or a phone.
//!
//! | path | what |
//! |---|---|
//! | `GET /console/` | the wall view: open cases by grade (I red, II orange, III yellow, IV blue), each with the countdowns to its deadlines; reloads itself every `refresh` |
//! | `GET /console/events/{id}` | an event: title, grade, stage on the curve, velocity, forecast band, department, region, response subject; its items; the spread chart (inline SVG); its reasons and its alerts' reasons in words |
//! | `GET /console/cases` | the cases, filtered by state and grade |
//! | `GET /console/cases/{id}` | a case: state, deadlines, the timeline (its audit log) and the action forms the user's role allows |
//! | `POST /console/cases/{id}/{action}` | `accept`, `assign`, `reassign`, `feedback`, `respond`, `close`, `note` |
//! | `GET /console/reports`, `GET /console/reports/{path}[.md]` | the reports (网络舆情日志, 舆情专报, 定期通报, 总结报告), built by the report crate ([`StoreReports`], see [`reports`]) |
//! | `GET`/`POST /console/login`, `POST /console/logout` | token login |
//! | `GET /console/static/console.css`, `…/console.js` | the style sheet and the countdown script |
//!
//! **Login.** A user pastes their API token (`[[api.users]]`, the same tokens as the case
//! API); the console keeps an in-memory session with idle and absolute expiry and sets a random
//! session id in an `HttpOnly`, `SameSite=Strict` cookie. Roles are those of the case workflow:
//! 值班员 (duty officer) sees every action form, 部门 (department) sees feedback, response and
//! note on the cases assigned to it (and only its own cases), 只读 (viewer) sees no form and is
//! refused (403) if it posts anyway.
//!
//! **Security.** Every user-generated text (posts are untrusted) is escaped by the template
//! engine ([maud]); only `http`/`https` URLs are rendered as links. Every POST carries the
//! session's CSRF token in a hidden field and is refused (403, nothing changed) without it; the
//! login form carries one of its own (double-submit cookie). Every answer carries
//! `Content-Security-Policy: default-src 'self'; script-src 'self'; …` (no inline script or
//! style anywhere), `X-Frame-Options: DENY`, `X-Content-Type-Options: nosniff` and
//! `Referrer-Policy: no-referrer`. Bad form input gets a page with a clear message and a 4xx.
//!
//! **Time.** Countdowns, session expiry and "now" come from the injected clock; the page
//! carries the clock's time and speed (`data-now`, `data-speed`) so that the script ticks on
//! the server's clock, not the browser's, and the numbers are right without JavaScript too.
//!
//! **Mounting.** The daemon merges [`router`] into its HTTP server:
//!
//! ```no_run
//! # async fn f(store: yuqing_store::Store, users: Vec<yuqing_cases::UserConfig>) -> Result<(), yuqing_cases::CaseError> {
//! use std::sync::Arc;
//! use yuqing_console::{ConsoleConfig, ConsoleContext};
//! let clock: yuqing_core::SharedClock = Arc::new(yuqing_core::SystemClock);
//! let cases = yuqing_cases::Cases::with_clock(store.clone(), clock.clone()).await?;
//! let auth = yuqing_cases::Auth::new(&users);
//! let ctx = ConsoleContext::new(store, cases, auth, clock).with_config(ConsoleConfig::default());
//! let app: axum::Router = yuqing_console::router(ctx); // merge into the daemon's router
//! # Ok(()) }
//! ```
#![warn(missing_docs)]

mod app;
mod chart;
pub mod config;
pub mod error;
pub mod form;
pub mod metrics;
pub mod reports;
pub mod session;
pub mod text;
mod views;

use std::fmt;
use std::sync::Arc;

pub use app::router;
pub use config::ConsoleConfig;
pub use error::ConsoleError;
pub use reports::{RenderedReport, ReportHookError, ReportLink, ReportSource, StoreReports};
use yuqing_cases::{Auth, Cases};
use yuqing_core::SharedClock;
use yuqing_store::Store;

/// Everything the console needs from the daemon.
///
/// - `store`: the daemon's [`Store`] (events, items, spread, alerts);
/// - `cases`: the case workflow on the same store and clock ([`Cases::with_clock`], configured
///   with the `[cases]` table so that its departments are offered in the assign form);
/// - `auth`: the users of `[[api.users]]` ([`Auth::new`]), the same as the case API's;
/// - `clock`: the pipeline's clock (the system clock in production, the scaled clock of the
///   demo, a manual clock in tests);
/// - `config`: the `[console]` table (defaults when absent);
/// - `reports`: where reports come from: by default [`StoreReports`] (the report crate over the
///   same store and workflow); another [`ReportSource`] with [`ConsoleContext::with_reports`],
///   none with [`ConsoleContext::without_reports`].
#[derive(Clone)]
pub struct ConsoleContext {
    /// The store.
    pub store: Store,
    /// The case workflow.
    pub cases: Cases,
    /// Who may log in, and as whom.
    pub auth: Auth,
    /// The clock.
    pub clock: SharedClock,
    /// The settings.
    pub config: ConsoleConfig,
    /// The reports hook.
    pub reports: Option<Arc<dyn ReportSource>>,
}

impl fmt::Debug for ConsoleContext {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ConsoleContext")
            .field("store", &self.store.backend())
            .field("auth", &self.auth)
            .field("clock", &self.clock)
            .field("config", &self.config)
            .field("reports", &self.reports)
            .finish_non_exhaustive()
    }
}

impl ConsoleContext {
    /// A context with the default settings and the report crate's reports.
    pub fn new(store: Store, cases: Cases, auth: Auth, clock: SharedClock) -> ConsoleContext {
        let reports: Arc<dyn ReportSource> =
            Arc::new(StoreReports::new(store.clone(), cases.clone()));
        ConsoleContext {
            store,
            cases,
            auth,
            clock,
            config: ConsoleConfig::default(),
            reports: Some(reports),
        }
    }

    /// Uses these settings (validate them first with [`ConsoleConfig::validate`]).
    pub fn with_config(mut self, config: ConsoleConfig) -> ConsoleContext {
        self.config = config;
        self
    }

    /// Shows the reports of `reports`.
    pub fn with_reports(mut self, reports: Arc<dyn ReportSource>) -> ConsoleContext {
        self.reports = Some(reports);
        self
    }

    /// Shows no reports (the reports page says they are not configured).
    pub fn without_reports(mut self) -> ConsoleContext {
        self.reports = None;
        self
    }
}
