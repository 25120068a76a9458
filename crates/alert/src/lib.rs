//! # yuqing-alert
//!
//! Grading and routing: event snapshots in, graded alerts out, each with the receivers it goes
//! to. "研判定级，分级响应" — grade it, then respond by grade.
//!
//! - **Grades** I 特别重大 (red), II 重大 (orange), III 较大 (yellow), IV 一般 (blue), from
//!   explicit rules in `pipelines/alert/grading.toml` over sensitivity, spread (velocity,
//!   stage, forecast), reach (platforms, media, official accounts) and topics/category. Every
//!   alert carries the rule that fired (`alert.rule`) and its inputs in words (`alert.reasons`).
//! - **Along the curve** ("2 小时上网发布，6 小时转播，24 小时达到高潮"): the first warning
//!   ([`AlertKind::New`]), escalations as the spread confirms it or the forecast predicts a
//!   large peak ([`AlertKind::Escalated`]), calm ([`AlertKind::Calmed`], 消退) and flare
//!   ([`AlertKind::Flared`]). The grade never goes down; calm is said out loud.
//! - **Deadlines** per grade (first release within 1 h for emergencies, a press conference
//!   within 24 h for especially major events, a response within 48 h; the national 5-hour rule
//!   as an option): every alert states its due times, reminders fire before them
//!   ([`AlertKind::Reminder`]) and a missed one escalates a level ([`AlertKind::Overdue`]).
//!   The case workflow reports responses with [`Grader::note_responded`].
//! - **Routing** ([`Router`], `pipelines/alert/routing.toml`): owner department and place
//!   choose the receivers; copy rules add offices (I–II also to 政府办 and 网信办); quiet hours
//!   hold III/IV alerts for chat sinks until morning ([`Route::deferred_until`]).
//!
//! Everything runs on event time and alert ids are deterministic
//! ([`yuqing_core::id::alert_id`]), so redelivery, restarts ([`Grader::restore`]) and replays
//! give the same alerts, and the store's dedup by id records each alert once. Delivery is
//! effectively once, not exactly-once: the outbox records each (alert, sink) delivery and a
//! restart re-sends only what is pending, but a crash between a receiver's acceptance and the
//! outbox update can repeat the messages in flight at that instant. Receivers that honour the alert id (the webhook
//! sink's `Idempotency-Key`) see it once; chat and mail receivers may show it twice.
//!
//! ```
//! use yuqing_alert::Grader;
//! use yuqing_core::{AlertKind, Counts, Event, Forecast, Grade, Stage};
//!
//! let t = chrono::DateTime::parse_from_rfc3339("2026-11-22T10:05:00+08:00").unwrap();
//! let ev = Event {
//!     schema_version: 1,
//!     event_id: "ev-1".into(),
//!     title: "某化工厂爆炸".into(),
//!     keywords: vec![],
//!     first_seen: t,
//!     first_source: "demo-weibo".into(),
//!     first_url: None,
//!     last_seen: t,
//!     updated_at: t,
//!     stage: Stage::Emerging,
//!     velocity: 40.0,
//!     acceleration: 0.0,
//!     forecast_peak: Forecast { size: 300.0, low: 100.0, high: 900.0, peak_at: None, method: "hawkes".into() },
//!     grade: None,
//!     counts: Counts { items: 3, platforms: 1, ..Counts::default() },
//!     sensitivity: 0.8,
//!     sentiment: -0.6,
//!     category: None,
//!     department: Some("应急管理局".into()),
//!     region: Some("万载县".into()),
//!     response_subject: vec![],
//!     handling_class: None,
//!     topics: vec!["安全事故".into()],
//!     evidence: vec![],
//!     reasons: vec![],
//!     extra: Default::default(),
//! };
//! let mut grader = Grader::builtin().unwrap();
//! let alerts = grader.on_event(&ev);
//! assert_eq!(alerts[0].kind, AlertKind::New);
//! assert_eq!(alerts[0].grade, Grade::III);
//! assert!(alerts[0].deadlines.iter().any(|d| d.kind == "first_release"));
//! let route = grader.route(&alerts[0], t);
//! assert!(route.receivers.contains(&"值班室".to_string()));
//! ```
//!
//! [`AlertKind::New`]: yuqing_core::AlertKind::New
//! [`AlertKind::Escalated`]: yuqing_core::AlertKind::Escalated
//! [`AlertKind::Calmed`]: yuqing_core::AlertKind::Calmed
//! [`AlertKind::Flared`]: yuqing_core::AlertKind::Flared
//! [`AlertKind::Reminder`]: yuqing_core::AlertKind::Reminder
//! [`AlertKind::Overdue`]: yuqing_core::AlertKind::Overdue
#![warn(missing_docs)]

mod config;
mod error;
mod grader;
pub mod metrics;
mod route;
mod rules;

pub use config::{
    AlertConfig, CalmConfig, DeadlineFrom, DeadlineRule, FlareConfig, GradingConfig, GradingRule,
    QuietHours, ReceiverConfig, RouteRule, RoutingConfig, NATIONAL_KIND,
};
pub use error::AlertError;
pub use grader::{DeadlineStatus, Grader};
pub use route::{Route, Router};
pub use rules::Assessment;
