//! # yuqing-sinks
//!
//! Delivers graded [`yuqing_core::Alert`]s to the outside world: the duty room's 企业微信, 钉钉 and
//! 飞书 groups, e-mail, Prometheus Alertmanager, generic webhooks, a JSON Lines file and the
//! terminal. The message formats and signatures are exactly those of the channels' documentation
//! (see `DOMAIN.md`, section A).
//!
//! - [`config`] — [`SinkConfig`], a closed `kind`-tagged enum with one validated struct per kind,
//!   [`SinkConfig::id`] and the route filter [`SinkConfig::accepts`] (an alert goes to a sink
//!   when its `extra["route"]` array names the sink, or the sink has `all = true`).
//! - [`Dispatcher`] — per sink a queue and a worker with a rate limiter (20/min for 企业微信 and
//!   钉钉, 100/min + 5/s for 飞书), digests that merge floods (most severe first), byte-aware
//!   splitting at each channel's size limit, retries with exponential backoff and jitter, a
//!   [`DeadLetter`] for what still fails, and a [`Delivery`] per alert and sink for the daemon's
//!   outbox.
//! - [`render`] — the words a duty officer reads: 【舆情预警·橙色】title, 等级 II 重大, 阶段 扩散,
//!   责任单位, 属地, 回应主体, the deadlines in UTC+8 with the time left, the reasons, the link.
//! - [`sign`] — 钉钉 加签, 飞书 signatures and the webhook HMAC.
//! - [`split`] — byte-aware splitting that never cuts a UTF-8 character.
//! - [`metrics`] — `yuqing_alert_deliveries_total{sink,outcome}`,
//!   `yuqing_alert_delivery_duration_seconds{sink}`, `yuqing_alert_deadletter_total{sink}`,
//!   `yuqing_alert_digest_merged_total{sink}`, `yuqing_alert_ratelimit_waits_total{sink}`, ….
//!
//! Time: signatures' timestamps and the "time left" of deadlines read the injected
//! [`yuqing_core::Clock`]; rate limits and backoff use `tokio::time`, so tests drive them with
//! `tokio::time::pause()`. The real robots accept a signature only within an hour of their own
//! time, so a dispatcher that talks to them must run on the system clock (a simulated clock is
//! for loopback receivers). Quiet hours are decided upstream, not here.
//!
//! ```no_run
//! # async fn demo(alerts: Vec<yuqing_core::Alert>) -> Result<(), Box<dyn std::error::Error>> {
//! use yuqing_sinks::{Dispatcher, SinksConfig};
//! let config: SinksConfig = toml::from_str(r#"
//!     [[sinks]]
//!     kind = "dingtalk"
//!     id = "duty"
//!     access_token = "…"
//!     secret = "SEC…"
//!     all = true
//! "#)?;
//! let dispatcher = Dispatcher::builder(config.sinks).build()?;
//! let report = dispatcher.deliver(alerts).await;
//! for d in report.failed() {
//!     eprintln!("{} → {}: {:?}", d.alert_id, d.sink_id, d.outcome);
//! }
//! dispatcher.shutdown(std::time::Duration::from_secs(30)).await;
//! # Ok(()) }
//! ```
#![warn(missing_docs)]

pub mod channel;
pub mod config;
pub mod dispatch;
pub mod error;
pub mod limit;
pub mod metrics;
pub mod render;
pub mod sign;
pub mod split;

pub use config::{
    routes_of, validate_sinks, AlertmanagerConfig, ColorMode, DingtalkConfig, EmailConfig,
    FeishuConfig, FileConfig, RateWindow, RetryConfig, Secret, SinkConfig, SinksConfig, SmtpTls,
    StdoutConfig, WebhookConfig, WecomConfig, WecomFormat,
};
pub use dispatch::{
    DeadLetter, Delivery, DeliveryReport, Dispatcher, DispatcherBuilder, LogDeadLetter, Outcome,
    Submission, UnknownSink,
};
pub use error::{BuildError, RetryHint, SinkError};
