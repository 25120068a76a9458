//! Sink configuration: one closed enum, one documented and validated struct per kind.
//!
//! ```toml
//! [[sinks]]
//! kind = "dingtalk"
//! id = "duty-dingtalk"
//! access_token = "…"
//! secret = "SEC…"
//! all = true
//! at_mobiles = ["13800001111"]
//!
//! [[sinks]]
//! kind = "feishu"
//! id = "health-feishu"
//! token = "…"
//! secret = "…"
//! rate_limit = [{ messages = 100, per = "1m" }, { messages = 5, per = "1s" }]
//! ```
//!
//! # Routing
//! A sink receives an alert when the alert's `extra["route"]` is an array that contains the
//! sink's id as a string, or when the sink is configured with `all = true`. The routing stage
//! (another crate) writes `route`; this crate only reads it ([`SinkConfig::accepts`]).

use std::collections::BTreeMap;
use std::fmt;
use std::path::PathBuf;
use std::time::Duration;

use serde::{Deserialize, Serialize};
use yuqing_core::{Alert, Problems};

/// 企业微信 group robot endpoint (the `key` is appended as a query parameter).
pub const WECOM_ENDPOINT: &str = "https://qyapi.weixin.qq.com/cgi-bin/webhook/send";
/// 钉钉 custom robot endpoint (`access_token`, `timestamp` and `sign` are appended).
pub const DINGTALK_ENDPOINT: &str = "https://oapi.dingtalk.com/robot/send";
/// 飞书 custom bot endpoint (the token is appended as a path segment). Lark:
/// `https://open.larksuite.com/open-apis/bot/v2/hook`.
pub const FEISHU_ENDPOINT: &str = "https://open.feishu.cn/open-apis/bot/v2/hook";

/// 企业微信: text content is at most 2048 bytes.
pub const WECOM_TEXT_MAX_BYTES: usize = 2048;
/// 企业微信: markdown content is at most 4096 bytes.
pub const WECOM_MARKDOWN_MAX_BYTES: usize = 4096;
/// 钉钉: "20 KB", taken as 20,000 bytes of request body to keep a margin.
pub const DINGTALK_MAX_BYTES: usize = 20_000;
/// 飞书: the request body is at most 20 KB, taken as 20,000 bytes to keep a margin.
pub const FEISHU_MAX_BYTES: usize = 20_000;
/// E-mail: the largest digest body this crate builds.
pub const EMAIL_MAX_BYTES: usize = 1_000_000;

/// A secret (a key, token, signing secret or password): never printed by `Debug`.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Secret(String);

impl Secret {
    /// Wraps a secret.
    pub fn new(s: impl Into<String>) -> Secret {
        Secret(s.into())
    }

    /// The secret itself, for signing and URLs.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(***)")
    }
}

/// One window of a rate limit: at most `messages` requests in any `per` of time.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RateWindow {
    /// How many requests the window allows.
    pub messages: u32,
    /// The window's length ("1m", "1s").
    #[serde(with = "humantime_serde")]
    pub per: Duration,
}

impl RateWindow {
    /// `messages` per `per`.
    pub const fn new(messages: u32, per: Duration) -> RateWindow {
        RateWindow { messages, per }
    }

    fn validate(&self, path: &str, problems: &mut Problems) {
        if self.messages == 0 {
            problems.at(path, "messages", "must be at least 1");
        }
        if self.per < Duration::from_millis(100) {
            problems.at(path, "per", "must be at least 100ms");
        }
        if self.per > Duration::from_secs(24 * 3600) {
            problems.at(path, "per", "must be at most 24h");
        }
    }
}

/// Retries with exponential backoff and jitter.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RetryConfig {
    /// Attempts per message, the first included; after the last the alerts go to the dead letter.
    #[serde(default = "default_attempts")]
    pub attempts: u32,
    /// The wait after the first failure; it doubles after each further failure.
    #[serde(default = "default_initial_backoff", with = "humantime_serde")]
    pub initial_backoff: Duration,
    /// The longest wait between attempts.
    #[serde(default = "default_max_backoff", with = "humantime_serde")]
    pub max_backoff: Duration,
    /// The wait after the channel says "too fast" (HTTP 429, 企业微信 45009, 钉钉 130101/410100,
    /// 飞书 11232); absent: 10 minutes for 钉钉 (which throttles a robot that long), 1 minute
    /// otherwise.
    #[serde(
        default,
        with = "humantime_serde",
        skip_serializing_if = "Option::is_none"
    )]
    pub rate_limited_backoff: Option<Duration>,
}

fn default_attempts() -> u32 {
    10
}
fn default_initial_backoff() -> Duration {
    Duration::from_secs(1)
}
fn default_max_backoff() -> Duration {
    Duration::from_secs(300)
}

impl Default for RetryConfig {
    fn default() -> RetryConfig {
        RetryConfig {
            attempts: default_attempts(),
            initial_backoff: default_initial_backoff(),
            max_backoff: default_max_backoff(),
            rate_limited_backoff: None,
        }
    }
}

impl RetryConfig {
    fn validate(&self, path: &str, problems: &mut Problems) {
        if self.attempts == 0 {
            problems.at(path, "attempts", "must be at least 1");
        }
        if self.attempts > 100 {
            problems.at(path, "attempts", "must be at most 100");
        }
        if self.initial_backoff < Duration::from_millis(10) {
            problems.at(path, "initial_backoff", "must be at least 10ms");
        }
        if self.max_backoff < self.initial_backoff {
            problems.at(
                path,
                "max_backoff",
                "must not be shorter than initial_backoff",
            );
        }
        if self.max_backoff > Duration::from_secs(3600) {
            problems.at(path, "max_backoff", "must be at most 1h");
        }
        if let Some(d) = self.rate_limited_backoff {
            if d < Duration::from_secs(1) || d > Duration::from_secs(3600) {
                problems.at(path, "rate_limited_backoff", "must be between 1s and 1h");
            }
        }
    }
}

fn default_timeout() -> Duration {
    Duration::from_secs(10)
}
fn default_true() -> bool {
    true
}

/// Terminal colours of the stdout sink.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ColorMode {
    /// Colour when stdout is a terminal.
    #[default]
    Auto,
    /// Always colour.
    Always,
    /// Never colour.
    Never,
}

/// `kind = "stdout"`: one human line per alert, coloured by grade on a terminal.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StdoutConfig {
    /// The sink's id (see [`SinkConfig::id`]).
    pub id: String,
    /// Receive every alert, whatever its route.
    #[serde(default)]
    pub all: bool,
    /// Colours: `auto` (when a terminal), `always` or `never`.
    #[serde(default)]
    pub color: ColorMode,
}

/// `kind = "file"`: the alerts as JSON Lines, appended, fsynced once per batch.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FileConfig {
    /// The sink's id.
    pub id: String,
    /// Receive every alert, whatever its route.
    #[serde(default)]
    pub all: bool,
    /// The file; created when missing (its directory must exist).
    pub path: PathBuf,
    /// The most alerts written (and fsynced) as one batch.
    #[serde(default = "default_batch")]
    pub batch: usize,
    /// Retries of failed writes.
    #[serde(default)]
    pub retry: RetryConfig,
}

fn default_batch() -> usize {
    500
}

/// `kind = "webhook"`: a JSON POST of each alert (the record exactly as `Alert::to_json` writes it).
///
/// Headers sent: `Content-Type: application/json`, `Idempotency-Key: <alert_id>`, and when a
/// `secret` is set, `X-Yuqing-Timestamp: <unix seconds>` and
/// `<signature_header>: sha256=<hex HMAC-SHA256(secret, "<timestamp>.<body>")>`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WebhookConfig {
    /// The sink's id.
    pub id: String,
    /// Receive every alert, whatever its route.
    #[serde(default)]
    pub all: bool,
    /// The receiver (http or https).
    pub url: String,
    /// The HMAC-SHA256 signing secret; absent: requests are not signed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub secret: Option<Secret>,
    /// The header that carries the signature.
    #[serde(default = "default_signature_header")]
    pub signature_header: String,
    /// Extra headers (name → value), for example an `Authorization` token.
    #[serde(default)]
    pub headers: BTreeMap<String, Secret>,
    /// Rate limit windows; absent or `[]`: unlimited.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rate_limit: Option<Vec<RateWindow>>,
    /// Retries.
    #[serde(default)]
    pub retry: RetryConfig,
    /// Timeout of one request.
    #[serde(default = "default_timeout", with = "humantime_serde")]
    pub timeout: Duration,
}

fn default_signature_header() -> String {
    "X-Yuqing-Signature".to_string()
}

/// Message type of 企业微信.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum WecomFormat {
    /// `msgtype = markdown` (content ≤ 4096 bytes, coloured).
    #[default]
    Markdown,
    /// `msgtype = text` (content ≤ 2048 bytes; `mentioned_list` works only here).
    Text,
}

/// `kind = "wecom"`: 企业微信 group robot (消息推送).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WecomConfig {
    /// The sink's id.
    pub id: String,
    /// Receive every alert, whatever its route.
    #[serde(default)]
    pub all: bool,
    /// The robot's `key` (the webhook URL's query parameter; it is the secret).
    pub key: Secret,
    /// The endpoint without the key.
    #[serde(default = "wecom_endpoint")]
    pub endpoint: String,
    /// `markdown` or `text`.
    #[serde(default)]
    pub format: WecomFormat,
    /// User ids to mention (`@all` for everyone): `mentioned_list` for text, `<@id>` in markdown.
    #[serde(default)]
    pub mentioned_list: Vec<String>,
    /// Mobile numbers to mention (text only).
    #[serde(default)]
    pub mentioned_mobile_list: Vec<String>,
    /// Content size limit in bytes; absent: 4096 for markdown, 2048 for text.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_bytes: Option<usize>,
    /// Rate limit windows; absent: 20 per minute (the robot's limit).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rate_limit: Option<Vec<RateWindow>>,
    /// Merge waiting alerts into digests when more wait than the rate limit allows.
    #[serde(default = "default_true")]
    pub digest: bool,
    /// Retries.
    #[serde(default)]
    pub retry: RetryConfig,
    /// Timeout of one request.
    #[serde(default = "default_timeout", with = "humantime_serde")]
    pub timeout: Duration,
}

fn wecom_endpoint() -> String {
    WECOM_ENDPOINT.to_string()
}
fn dingtalk_endpoint() -> String {
    DINGTALK_ENDPOINT.to_string()
}
fn feishu_endpoint() -> String {
    FEISHU_ENDPOINT.to_string()
}

/// `kind = "dingtalk"`: 钉钉 custom robot, markdown messages, 加签 when a secret is set.
///
/// A robot secured by custom keywords instead accepts only messages that contain one: use
/// `舆情预警`, which every message of this crate (digests included) contains.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DingtalkConfig {
    /// The sink's id.
    pub id: String,
    /// Receive every alert, whatever its route.
    #[serde(default)]
    pub all: bool,
    /// The robot's `access_token`.
    pub access_token: Secret,
    /// The 加签 secret (`SEC…`); absent: the robot uses keywords or an IP whitelist.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub secret: Option<Secret>,
    /// The endpoint without query parameters.
    #[serde(default = "dingtalk_endpoint")]
    pub endpoint: String,
    /// Mobiles to @ (also written as `@mobile` in the text, or DingTalk does not render them).
    #[serde(default)]
    pub at_mobiles: Vec<String>,
    /// User ids to @.
    #[serde(default)]
    pub at_user_ids: Vec<String>,
    /// @ everyone.
    #[serde(default)]
    pub at_all: bool,
    /// Request body limit in bytes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_bytes: Option<usize>,
    /// Rate limit windows; absent: 20 per minute (going over throttles the robot 10 minutes).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rate_limit: Option<Vec<RateWindow>>,
    /// Merge waiting alerts into digests when more wait than the rate limit allows.
    #[serde(default = "default_true")]
    pub digest: bool,
    /// Retries.
    #[serde(default)]
    pub retry: RetryConfig,
    /// Timeout of one request.
    #[serde(default = "default_timeout", with = "humantime_serde")]
    pub timeout: Duration,
}

/// `kind = "feishu"`: 飞书 / Lark custom bot, interactive cards coloured by grade, signed when a
/// secret is set.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FeishuConfig {
    /// The sink's id.
    pub id: String,
    /// Receive every alert, whatever its route.
    #[serde(default)]
    pub all: bool,
    /// The hook token (the last path segment of the webhook URL).
    pub token: Secret,
    /// The signing secret; absent: the bot uses keywords or an IP whitelist.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub secret: Option<Secret>,
    /// The endpoint without the token (Lark: `https://open.larksuite.com/open-apis/bot/v2/hook`).
    #[serde(default = "feishu_endpoint")]
    pub endpoint: String,
    /// Mention everyone (`<at id=all></at>`; the bot must be allowed to).
    #[serde(default)]
    pub mention_all: bool,
    /// Open ids or user ids to mention.
    #[serde(default)]
    pub mention_ids: Vec<String>,
    /// Request body limit in bytes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_bytes: Option<usize>,
    /// Rate limit windows; absent: 100 per minute and 5 per second.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rate_limit: Option<Vec<RateWindow>>,
    /// Merge waiting alerts into digests when more wait than the rate limit allows.
    #[serde(default = "default_true")]
    pub digest: bool,
    /// Retries.
    #[serde(default)]
    pub retry: RetryConfig,
    /// Timeout of one request.
    #[serde(default = "default_timeout", with = "humantime_serde")]
    pub timeout: Duration,
}

/// Transport security of the SMTP connection.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SmtpTls {
    /// Plain connection upgraded with STARTTLS; fails (sends nothing) when the server cannot.
    #[default]
    Starttls,
    /// TLS from the first byte (SMTPS, usually port 465).
    Tls,
    /// No encryption: only for a relay on the same host or a trusted network.
    None,
}

/// `kind = "email"`: SMTP, a plain-text body with an HTML alternative.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EmailConfig {
    /// The sink's id.
    pub id: String,
    /// Receive every alert, whatever its route.
    #[serde(default)]
    pub all: bool,
    /// The SMTP server.
    pub host: String,
    /// The port; absent: 587 for STARTTLS, 465 for TLS, 25 for none.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub port: Option<u16>,
    /// `starttls`, `tls` or `none`.
    #[serde(default)]
    pub tls: SmtpTls,
    /// The SMTP user; set it together with `password`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub username: Option<String>,
    /// The SMTP password.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub password: Option<Secret>,
    /// The sender, `名字 <addr@example.org>` or `addr@example.org`.
    pub from: String,
    /// The recipients.
    pub to: Vec<String>,
    /// Rate limit windows; absent or `[]`: unlimited.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rate_limit: Option<Vec<RateWindow>>,
    /// Merge waiting alerts into one digest mail when more wait than the rate limit allows.
    #[serde(default = "default_true")]
    pub digest: bool,
    /// Retries.
    #[serde(default)]
    pub retry: RetryConfig,
    /// Timeout of the SMTP conversation.
    #[serde(default = "default_timeout", with = "humantime_serde")]
    pub timeout: Duration,
}

/// `kind = "alertmanager"`: Prometheus Alertmanager API v2 (`POST <url>/api/v2/alerts`).
///
/// Labels: `alertname` (configured), `grade`, `event_id`, `department`, `region`, `severity`
/// (I, II → `critical`, III → `warning`, IV → `info`). Annotations: `summary`, `description`,
/// `alert_id`, `kind`, `stage`, `url`. `startsAt` is the alert's event time; `endsAt` is the
/// clock's now plus `resolve_after`, or now for a `calmed` alert (which resolves it).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AlertmanagerConfig {
    /// The sink's id.
    pub id: String,
    /// Receive every alert, whatever its route.
    #[serde(default)]
    pub all: bool,
    /// Alertmanager's base URL, for example `http://127.0.0.1:9093`.
    pub url: String,
    /// The `alertname` label.
    #[serde(default = "default_alertname")]
    pub alertname: String,
    /// The `generatorURL` prefix; the event id is appended. Absent: the alert's link.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub generator_url: Option<String>,
    /// How long an alert stays firing unless sent again.
    #[serde(default = "default_resolve_after", with = "humantime_serde")]
    pub resolve_after: Duration,
    /// The most alerts in one POST.
    #[serde(default = "default_batch")]
    pub batch: usize,
    /// Rate limit windows; absent or `[]`: unlimited.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rate_limit: Option<Vec<RateWindow>>,
    /// Retries.
    #[serde(default)]
    pub retry: RetryConfig,
    /// Timeout of one request.
    #[serde(default = "default_timeout", with = "humantime_serde")]
    pub timeout: Duration,
}

fn default_alertname() -> String {
    "YuqingAlert".to_string()
}
fn default_resolve_after() -> Duration {
    Duration::from_secs(24 * 3600)
}

/// One configured sink.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum SinkConfig {
    /// One human line per alert on stdout.
    Stdout(StdoutConfig),
    /// JSON Lines file.
    File(FileConfig),
    /// Generic JSON webhook.
    Webhook(WebhookConfig),
    /// 企业微信 group robot.
    Wecom(WecomConfig),
    /// 钉钉 custom robot.
    Dingtalk(DingtalkConfig),
    /// 飞书 / Lark custom bot.
    Feishu(FeishuConfig),
    /// E-mail over SMTP.
    Email(EmailConfig),
    /// Prometheus Alertmanager API v2.
    Alertmanager(AlertmanagerConfig),
}

/// The default rate limit of a chat robot: 20 per minute (企业微信, 钉钉).
pub const CHAT_RATE: RateWindow = RateWindow::new(20, Duration::from_secs(60));
/// The default rate limits of a 飞书 bot: 100 per minute and 5 per second.
pub const FEISHU_RATE: [RateWindow; 2] = [
    RateWindow::new(100, Duration::from_secs(60)),
    RateWindow::new(5, Duration::from_secs(1)),
];

impl SinkConfig {
    /// The sink's id: unique among the sinks, the `sink` label of metrics and the name that
    /// alert routes (`extra["route"]`) use.
    pub fn id(&self) -> &str {
        match self {
            SinkConfig::Stdout(c) => &c.id,
            SinkConfig::File(c) => &c.id,
            SinkConfig::Webhook(c) => &c.id,
            SinkConfig::Wecom(c) => &c.id,
            SinkConfig::Dingtalk(c) => &c.id,
            SinkConfig::Feishu(c) => &c.id,
            SinkConfig::Email(c) => &c.id,
            SinkConfig::Alertmanager(c) => &c.id,
        }
    }

    /// The kind, as written in the configuration.
    pub fn kind(&self) -> &'static str {
        match self {
            SinkConfig::Stdout(_) => "stdout",
            SinkConfig::File(_) => "file",
            SinkConfig::Webhook(_) => "webhook",
            SinkConfig::Wecom(_) => "wecom",
            SinkConfig::Dingtalk(_) => "dingtalk",
            SinkConfig::Feishu(_) => "feishu",
            SinkConfig::Email(_) => "email",
            SinkConfig::Alertmanager(_) => "alertmanager",
        }
    }

    /// True when the sink takes every alert (`all = true`).
    pub fn all(&self) -> bool {
        match self {
            SinkConfig::Stdout(c) => c.all,
            SinkConfig::File(c) => c.all,
            SinkConfig::Webhook(c) => c.all,
            SinkConfig::Wecom(c) => c.all,
            SinkConfig::Dingtalk(c) => c.all,
            SinkConfig::Feishu(c) => c.all,
            SinkConfig::Email(c) => c.all,
            SinkConfig::Alertmanager(c) => c.all,
        }
    }

    /// The route filter: true when the sink is `all = true` or the alert's `extra["route"]`
    /// array contains this sink's id.
    pub fn accepts(&self, alert: &Alert) -> bool {
        self.all() || routes_of(alert).any(|r| r == self.id())
    }

    /// The rate limit windows in force (the kind's default when none is configured).
    pub fn rate_windows(&self) -> Vec<RateWindow> {
        let (configured, default): (&Option<Vec<RateWindow>>, Vec<RateWindow>) = match self {
            SinkConfig::Stdout(_) | SinkConfig::File(_) => return Vec::new(),
            SinkConfig::Webhook(c) => (&c.rate_limit, Vec::new()),
            SinkConfig::Wecom(c) => (&c.rate_limit, vec![CHAT_RATE]),
            SinkConfig::Dingtalk(c) => (&c.rate_limit, vec![CHAT_RATE]),
            SinkConfig::Feishu(c) => (&c.rate_limit, FEISHU_RATE.to_vec()),
            SinkConfig::Email(c) => (&c.rate_limit, Vec::new()),
            SinkConfig::Alertmanager(c) => (&c.rate_limit, Vec::new()),
        };
        configured.clone().unwrap_or(default)
    }

    /// The retry settings (stdout has none: writing to it is not retried).
    pub fn retry(&self) -> RetryConfig {
        match self {
            SinkConfig::Stdout(_) => RetryConfig {
                attempts: 1,
                ..RetryConfig::default()
            },
            SinkConfig::File(c) => c.retry,
            SinkConfig::Webhook(c) => c.retry,
            SinkConfig::Wecom(c) => c.retry,
            SinkConfig::Dingtalk(c) => c.retry,
            SinkConfig::Feishu(c) => c.retry,
            SinkConfig::Email(c) => c.retry,
            SinkConfig::Alertmanager(c) => c.retry,
        }
    }

    /// The wait after a "too fast" answer.
    pub fn rate_limited_backoff(&self) -> Duration {
        let default = match self {
            SinkConfig::Dingtalk(_) => Duration::from_secs(600),
            _ => Duration::from_secs(60),
        };
        self.retry().rate_limited_backoff.unwrap_or(default)
    }

    /// Reports every semantic problem with its key path (`path` is this sink's, e.g. `sinks[2]`).
    pub fn validate(&self, path: &str, problems: &mut Problems) {
        validate_id(self.id(), path, problems);
        if let Some(windows) = self.configured_rate_limit() {
            for (i, w) in windows.iter().enumerate() {
                w.validate(&format!("{path}.rate_limit[{i}]"), problems);
            }
        }
        let retry_path = format!("{path}.retry");
        match self {
            SinkConfig::Stdout(_) => {}
            SinkConfig::File(c) => {
                if c.path.as_os_str().is_empty() {
                    problems.at(path, "path", "must not be empty");
                } else if c.path.is_dir() {
                    problems.at(path, "path", "is a directory");
                }
                validate_batch(c.batch, path, problems);
                c.retry.validate(&retry_path, problems);
            }
            SinkConfig::Webhook(c) => {
                validate_url(&c.url, path, "url", problems);
                if let Some(s) = &c.secret {
                    non_empty_secret(s, path, "secret", problems);
                }
                if reqwest::header::HeaderName::from_bytes(c.signature_header.as_bytes()).is_err() {
                    problems.at(path, "signature_header", "is not a valid header name");
                }
                for (name, value) in &c.headers {
                    let key = format!("{path}.headers.{name}");
                    if reqwest::header::HeaderName::from_bytes(name.as_bytes()).is_err() {
                        problems.push(key.clone(), "is not a valid header name");
                    }
                    if reqwest::header::HeaderValue::from_str(value.expose()).is_err() {
                        problems.push(key, "is not a valid header value");
                    }
                }
                c.retry.validate(&retry_path, problems);
                validate_timeout(c.timeout, path, problems);
            }
            SinkConfig::Wecom(c) => {
                non_empty_secret(&c.key, path, "key", problems);
                validate_url(&c.endpoint, path, "endpoint", problems);
                let hard = match c.format {
                    WecomFormat::Markdown => WECOM_MARKDOWN_MAX_BYTES,
                    WecomFormat::Text => WECOM_TEXT_MAX_BYTES,
                };
                validate_max_bytes(c.max_bytes, hard, 512, path, problems);
                if c.format == WecomFormat::Markdown && !c.mentioned_mobile_list.is_empty() {
                    problems.at(
                        path,
                        "mentioned_mobile_list",
                        "works only with format = \"text\"",
                    );
                }
                c.retry.validate(&retry_path, problems);
                validate_timeout(c.timeout, path, problems);
            }
            SinkConfig::Dingtalk(c) => {
                non_empty_secret(&c.access_token, path, "access_token", problems);
                if let Some(s) = &c.secret {
                    if !s.expose().starts_with("SEC") {
                        problems.at(path, "secret", "must be the robot's SEC… signing secret");
                    }
                }
                validate_url(&c.endpoint, path, "endpoint", problems);
                validate_max_bytes(c.max_bytes, DINGTALK_MAX_BYTES, 1024, path, problems);
                c.retry.validate(&retry_path, problems);
                validate_timeout(c.timeout, path, problems);
            }
            SinkConfig::Feishu(c) => {
                non_empty_secret(&c.token, path, "token", problems);
                if let Some(s) = &c.secret {
                    non_empty_secret(s, path, "secret", problems);
                }
                validate_url(&c.endpoint, path, "endpoint", problems);
                validate_max_bytes(c.max_bytes, FEISHU_MAX_BYTES, 2048, path, problems);
                c.retry.validate(&retry_path, problems);
                validate_timeout(c.timeout, path, problems);
            }
            SinkConfig::Email(c) => {
                if c.host.trim().is_empty() {
                    problems.at(path, "host", "must not be empty");
                }
                if c.port == Some(0) {
                    problems.at(path, "port", "must not be 0");
                }
                match (&c.username, &c.password) {
                    (Some(_), None) => problems.at(path, "password", "is required with username"),
                    (None, Some(_)) => problems.at(path, "username", "is required with password"),
                    _ => {}
                }
                if c.from.parse::<lettre::message::Mailbox>().is_err() {
                    problems.at(path, "from", "is not a valid mailbox");
                }
                if c.to.is_empty() {
                    problems.at(path, "to", "must name at least one recipient");
                }
                for (i, to) in c.to.iter().enumerate() {
                    if to.parse::<lettre::message::Mailbox>().is_err() {
                        problems.push(format!("{path}.to[{i}]"), "is not a valid mailbox");
                    }
                }
                c.retry.validate(&retry_path, problems);
                validate_timeout(c.timeout, path, problems);
            }
            SinkConfig::Alertmanager(c) => {
                validate_url(&c.url, path, "url", problems);
                if c.alertname.trim().is_empty() {
                    problems.at(path, "alertname", "must not be empty");
                }
                if let Some(g) = &c.generator_url {
                    validate_url(g, path, "generator_url", problems);
                }
                if c.resolve_after < Duration::from_secs(60) {
                    problems.at(path, "resolve_after", "must be at least 1m");
                }
                validate_batch(c.batch, path, problems);
                c.retry.validate(&retry_path, problems);
                validate_timeout(c.timeout, path, problems);
            }
        }
    }

    fn configured_rate_limit(&self) -> Option<&Vec<RateWindow>> {
        match self {
            SinkConfig::Stdout(_) | SinkConfig::File(_) => None,
            SinkConfig::Webhook(c) => c.rate_limit.as_ref(),
            SinkConfig::Wecom(c) => c.rate_limit.as_ref(),
            SinkConfig::Dingtalk(c) => c.rate_limit.as_ref(),
            SinkConfig::Feishu(c) => c.rate_limit.as_ref(),
            SinkConfig::Email(c) => c.rate_limit.as_ref(),
            SinkConfig::Alertmanager(c) => c.rate_limit.as_ref(),
        }
    }
}

/// The route of an alert: the strings of its `extra["route"]` array (nothing when absent or not
/// an array; non-string entries are ignored).
pub fn routes_of(alert: &Alert) -> impl Iterator<Item = &str> {
    alert
        .extra
        .get("route")
        .and_then(|v| v.as_array())
        .into_iter()
        .flatten()
        .filter_map(|v| v.as_str())
}

/// The list of sinks, as it appears under `sinks` in the pipeline configuration.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SinksConfig {
    /// The sinks.
    #[serde(default)]
    pub sinks: Vec<SinkConfig>,
}

impl SinksConfig {
    /// Validates every sink (at `path.sinks[i]`) and that ids are unique.
    pub fn validate(&self, path: &str, problems: &mut Problems) {
        validate_sinks(
            &self.sinks,
            &yuqing_core::problem::join(path, "sinks"),
            problems,
        );
    }
}

/// Validates a list of sinks at `path` (`sinks` → `sinks[0]`, …) and that their ids are unique.
pub fn validate_sinks(sinks: &[SinkConfig], path: &str, problems: &mut Problems) {
    let mut seen = std::collections::HashMap::new();
    for (i, s) in sinks.iter().enumerate() {
        let p = format!("{path}[{i}]");
        s.validate(&p, problems);
        if let Some(first) = seen.insert(s.id().to_string(), i) {
            problems.push(
                format!("{p}.id"),
                format!("duplicates the id of {path}[{first}]"),
            );
        }
    }
}

fn validate_id(id: &str, path: &str, problems: &mut Problems) {
    if id.is_empty() {
        problems.at(path, "id", "must not be empty");
    } else if id.len() > 64 {
        problems.at(path, "id", "must be at most 64 characters");
    } else if !id
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
    {
        problems.at(
            path,
            "id",
            "may contain only ASCII letters, digits, '-', '_' and '.'",
        );
    }
}

fn validate_url(url: &str, path: &str, key: &str, problems: &mut Problems) {
    match url::Url::parse(url) {
        Ok(u) if matches!(u.scheme(), "http" | "https") && u.host().is_some() => {}
        Ok(_) => problems.at(path, key, "must be an http or https URL with a host"),
        Err(e) => problems.at(path, key, format!("is not a URL: {e}")),
    }
}

fn non_empty_secret(s: &Secret, path: &str, key: &str, problems: &mut Problems) {
    if s.expose().trim().is_empty() {
        problems.at(path, key, "must not be empty");
    }
}

fn validate_max_bytes(
    v: Option<usize>,
    hard: usize,
    min: usize,
    path: &str,
    problems: &mut Problems,
) {
    if let Some(n) = v {
        if n > hard {
            problems.at(
                path,
                "max_bytes",
                format!("must be at most {hard} (the channel's limit)"),
            );
        } else if n < min {
            problems.at(path, "max_bytes", format!("must be at least {min}"));
        }
    }
}

fn validate_batch(n: usize, path: &str, problems: &mut Problems) {
    if n == 0 || n > 10_000 {
        problems.at(path, "batch", "must be between 1 and 10000");
    }
}

fn validate_timeout(d: Duration, path: &str, problems: &mut Problems) {
    if d < Duration::from_millis(100) || d > Duration::from_secs(600) {
        problems.at(path, "timeout", "must be between 100ms and 10m");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(s: &str) -> Result<SinksConfig, toml::de::Error> {
        toml::from_str(s)
    }

    #[test]
    fn parses_every_kind_with_defaults() {
        let cfg = parse(
            r#"
            [[sinks]]
            kind = "stdout"
            id = "console"
            all = true
            [[sinks]]
            kind = "file"
            id = "log"
            path = "/tmp/alerts.jsonl"
            [[sinks]]
            kind = "webhook"
            id = "hook"
            url = "https://example.org/hook"
            secret = "s3"
            headers = { Authorization = "Bearer x" }
            [[sinks]]
            kind = "wecom"
            id = "wx"
            key = "k"
            [[sinks]]
            kind = "dingtalk"
            id = "dd"
            access_token = "t"
            secret = "SECabc"
            [[sinks]]
            kind = "feishu"
            id = "fs"
            token = "t"
            [[sinks]]
            kind = "email"
            id = "mail"
            host = "smtp.example.org"
            from = "值班室 <duty@example.org>"
            to = ["leader@example.org"]
            [[sinks]]
            kind = "alertmanager"
            id = "am"
            url = "http://127.0.0.1:9093"
            "#,
        )
        .unwrap();
        let mut p = Problems::new();
        cfg.validate("", &mut p);
        assert!(p.is_empty(), "{p}");
        let kinds: Vec<_> = cfg.sinks.iter().map(|s| s.kind()).collect();
        assert_eq!(
            kinds,
            [
                "stdout",
                "file",
                "webhook",
                "wecom",
                "dingtalk",
                "feishu",
                "email",
                "alertmanager"
            ]
        );
        assert_eq!(cfg.sinks[3].rate_windows(), vec![CHAT_RATE]);
        assert_eq!(cfg.sinks[5].rate_windows(), FEISHU_RATE.to_vec());
        assert!(cfg.sinks[2].rate_windows().is_empty());
        assert_eq!(
            cfg.sinks[4].rate_limited_backoff(),
            Duration::from_secs(600)
        );
        assert_eq!(cfg.sinks[3].rate_limited_backoff(), Duration::from_secs(60));
        match &cfg.sinks[3] {
            SinkConfig::Wecom(w) => {
                assert_eq!(w.endpoint, WECOM_ENDPOINT);
                assert!(w.digest);
                assert_eq!(w.timeout, Duration::from_secs(10));
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn the_example_configuration_is_valid() {
        let cfg = parse(include_str!("../sinks.example.toml")).unwrap();
        let mut p = Problems::new();
        cfg.validate("", &mut p);
        assert!(p.is_empty(), "{p}");
        assert_eq!(cfg.sinks.len(), 8);
        let kinds: std::collections::BTreeSet<_> = cfg.sinks.iter().map(|s| s.kind()).collect();
        assert_eq!(kinds.len(), 8, "every kind appears");
    }

    #[test]
    fn unknown_fields_and_kinds_are_rejected() {
        let err = parse("[[sinks]]\nkind = \"wecom\"\nid = \"wx\"\nkey = \"k\"\ncolour = 1\n");
        assert!(err.unwrap_err().to_string().contains("colour"));
        assert!(parse("[[sinks]]\nkind = \"sms\"\nid = \"x\"\n").is_err());
        assert!(parse(
            "[[sinks]]\nkind = \"feishu\"\nid = \"x\"\ntoken = \"t\"\nretry = { attempts = 2, tries = 3 }\n"
        )
        .is_err());
    }

    #[test]
    fn secrets_are_not_printed() {
        let cfg = parse("[[sinks]]\nkind = \"dingtalk\"\nid = \"dd\"\naccess_token = \"tok-123\"\nsecret = \"SECxyz\"\n").unwrap();
        let debug = format!("{cfg:?}");
        assert!(
            !debug.contains("tok-123") && !debug.contains("SECxyz"),
            "{debug}"
        );
    }

    #[test]
    fn validation_reports_every_problem_with_its_path() {
        let cfg = parse(
            r#"
            [[sinks]]
            kind = "wecom"
            id = "wx"
            key = ""
            endpoint = "ftp://x"
            max_bytes = 9000
            rate_limit = [{ messages = 0, per = "10ms" }]
            retry = { attempts = 0, initial_backoff = "1m", max_backoff = "1s" }
            [[sinks]]
            kind = "dingtalk"
            id = "wx"
            access_token = "t"
            secret = "nosec"
            [[sinks]]
            kind = "email"
            id = "bad id!"
            host = ""
            from = "not an address"
            to = []
            username = "u"
            "#,
        )
        .unwrap();
        let mut p = Problems::new();
        cfg.validate("", &mut p);
        let text = p.to_string();
        for expected in [
            "sinks[0].key: must not be empty",
            "sinks[0].endpoint: must be an http or https URL",
            "sinks[0].max_bytes: must be at most 4096",
            "sinks[0].rate_limit[0].messages: must be at least 1",
            "sinks[0].rate_limit[0].per: must be at least 100ms",
            "sinks[0].retry.attempts: must be at least 1",
            "sinks[0].retry.max_backoff: must not be shorter",
            "sinks[1].secret: must be the robot's SEC",
            "sinks[1].id: duplicates the id of sinks[0]",
            "sinks[2].id: may contain only",
            "sinks[2].host: must not be empty",
            "sinks[2].from: is not a valid mailbox",
            "sinks[2].to: must name at least one recipient",
            "sinks[2].password: is required with username",
        ] {
            assert!(text.contains(expected), "missing {expected:?} in:\n{text}");
        }
    }

    #[test]
    fn routes_filter_alerts() {
        let mut alert: Alert = serde_json::from_value(serde_json::json!({
            "alert_id": "al-1", "event_id": "ev-1", "kind": "new", "grade": "II",
            "stage": "spreading", "title": "t", "rule": "r", "at": "2026-11-22T10:00:00+08:00",
            "route": ["wx", 7, "am"]
        }))
        .unwrap();
        let cfg = parse("[[sinks]]\nkind = \"wecom\"\nid = \"wx\"\nkey = \"k\"\n[[sinks]]\nkind = \"wecom\"\nid = \"other\"\nkey = \"k\"\n[[sinks]]\nkind = \"stdout\"\nid = \"all\"\nall = true\n").unwrap();
        assert!(cfg.sinks[0].accepts(&alert));
        assert!(!cfg.sinks[1].accepts(&alert));
        assert!(cfg.sinks[2].accepts(&alert));
        assert_eq!(routes_of(&alert).collect::<Vec<_>>(), ["wx", "am"]);
        alert.extra.insert("route".into(), serde_json::json!("wx"));
        assert!(!cfg.sinks[0].accepts(&alert), "a route must be an array");
        alert.extra.remove("route");
        assert!(!cfg.sinks[0].accepts(&alert));
        assert!(cfg.sinks[2].accepts(&alert));
    }
}
