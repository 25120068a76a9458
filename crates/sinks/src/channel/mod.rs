//! The channels: how each sink kind renders alerts and sends them.
//!
//! A closed set, dispatched by enum. Every channel renders one alert ([`Channel::render_alert`],
//! split into pieces at the channel's size limit), and chat-like channels also render digests
//! ([`Channel::render_digest`]); batch channels (file, Alertmanager) put many alerts in one request
//! ([`Channel::render_batch`]). Signatures are computed in [`Channel::send`], at each attempt, so
//! a retried request carries a fresh timestamp.

use std::io::Write;
use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};
use parking_lot::Mutex;
use serde_json::Value;
use yuqing_core::{Alert, SharedClock};

use crate::config::SinkConfig;
use crate::error::{BuildError, SinkError};

pub mod alertmanager;
pub mod dingtalk;
pub mod email;
pub mod feishu;
pub mod file;
pub mod stdout;
pub mod webhook;
pub mod wecom;

/// How a channel takes many alerts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Shape {
    /// One message per alert; with `digest`, a flood becomes digest messages.
    Chat {
        /// Digests are on.
        digest: bool,
    },
    /// Up to `max` waiting alerts in one request.
    Batch {
        /// The most alerts per request.
        max: usize,
    },
}

/// A rendered message, ready to send.
#[derive(Debug, Clone)]
pub enum Payload {
    /// A JSON body (chat robots, Alertmanager); signing happens at send time.
    Json(Value),
    /// Raw bytes: the webhook body (with the alert id as idempotency key) or JSON Lines.
    Bytes {
        /// The bytes.
        body: Vec<u8>,
        /// The alert id (webhook `Idempotency-Key`), empty for batches.
        key: String,
    },
    /// One terminal line.
    Line(String),
    /// An e-mail.
    Mail(email::Mail),
}

impl Payload {
    /// The size in bytes of what goes on the wire (for JSON, the serialized body).
    pub fn wire_len(&self) -> usize {
        match self {
            Payload::Json(v) => serde_json::to_vec(v).map(|b| b.len()).unwrap_or(0),
            Payload::Bytes { body, .. } => body.len(),
            Payload::Line(l) => l.len(),
            Payload::Mail(m) => m.text.len() + m.html.len(),
        }
    }
}

/// A configured channel.
#[derive(Debug)]
#[allow(clippy::large_enum_variant)]
pub enum Channel {
    /// Terminal lines.
    Stdout(stdout::Stdout),
    /// JSON Lines file.
    File(file::File),
    /// Generic webhook.
    Webhook(webhook::Webhook),
    /// 企业微信.
    Wecom(wecom::Wecom),
    /// 钉钉.
    Dingtalk(dingtalk::Dingtalk),
    /// 飞书.
    Feishu(feishu::Feishu),
    /// E-mail.
    Email(email::Email),
    /// Alertmanager.
    Alertmanager(alertmanager::Alertmanager),
}

/// What building a channel needs besides its configuration.
#[derive(Clone)]
pub struct BuildContext {
    /// The shared HTTP client.
    pub http: reqwest::Client,
    /// The clock for signatures' timestamps and deadlines' time left.
    pub clock: SharedClock,
    /// Where the stdout sink writes (the process's stdout unless a test replaces it).
    pub stdout: Option<Arc<Mutex<Box<dyn Write + Send>>>>,
}

impl BuildContext {
    /// A context with a client of its own and the system's stdout.
    pub fn new(clock: SharedClock) -> Result<BuildContext, BuildError> {
        let http = reqwest::Client::builder()
            .user_agent(concat!("yuqing-sinks/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(BuildError::Http)?;
        Ok(BuildContext {
            http,
            clock,
            stdout: None,
        })
    }
}

impl std::fmt::Debug for BuildContext {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("BuildContext")
            .field("clock", &self.clock)
            .finish_non_exhaustive()
    }
}

impl Channel {
    /// Builds the channel of a (validated) configuration.
    pub fn build(config: &SinkConfig, cx: &BuildContext) -> Result<Channel, BuildError> {
        Ok(match config {
            SinkConfig::Stdout(c) => Channel::Stdout(stdout::Stdout::new(c, cx)),
            SinkConfig::File(c) => Channel::File(file::File::new(c)),
            SinkConfig::Webhook(c) => Channel::Webhook(webhook::Webhook::new(c, cx)),
            SinkConfig::Wecom(c) => Channel::Wecom(wecom::Wecom::new(c, cx)),
            SinkConfig::Dingtalk(c) => Channel::Dingtalk(dingtalk::Dingtalk::new(c, cx)),
            SinkConfig::Feishu(c) => Channel::Feishu(feishu::Feishu::new(c, cx)),
            SinkConfig::Email(c) => Channel::Email(email::Email::new(c, cx)?),
            SinkConfig::Alertmanager(c) => {
                Channel::Alertmanager(alertmanager::Alertmanager::new(c, cx))
            }
        })
    }

    /// How the channel takes many alerts.
    pub fn shape(&self) -> Shape {
        match self {
            Channel::Stdout(_) | Channel::Webhook(_) => Shape::Chat { digest: false },
            Channel::Wecom(c) => Shape::Chat { digest: c.digest },
            Channel::Dingtalk(c) => Shape::Chat { digest: c.digest },
            Channel::Feishu(c) => Shape::Chat { digest: c.digest },
            Channel::Email(c) => Shape::Chat { digest: c.digest },
            Channel::File(c) => Shape::Batch { max: c.batch },
            Channel::Alertmanager(c) => Shape::Batch { max: c.batch },
        }
    }

    /// The messages of one alert, each within the channel's size limit.
    pub fn render_alert(
        &self,
        alert: &Alert,
        now: DateTime<Utc>,
    ) -> Result<Vec<Payload>, SinkError> {
        match self {
            Channel::Stdout(c) => Ok(vec![c.render(alert)]),
            Channel::Webhook(c) => Ok(vec![c.render(alert)]),
            Channel::Wecom(c) => Ok(c.render_alert(alert, now)),
            Channel::Dingtalk(c) => Ok(c.render_alert(alert, now)),
            Channel::Feishu(c) => Ok(c.render_alert(alert, now)),
            Channel::Email(c) => Ok(vec![c.render_alert(alert, now)]),
            Channel::File(_) | Channel::Alertmanager(_) => {
                Ok(vec![self.render_batch(std::slice::from_ref(&Arc::new(
                    alert.clone(),
                )))?])
            }
        }
    }

    /// One digest message of the first alerts of `alerts` (sorted most severe first) that fit;
    /// returns it and how many alerts it lists (at least one).
    pub fn render_digest(
        &self,
        alerts: &[Arc<Alert>],
        now: DateTime<Utc>,
    ) -> Result<(Payload, usize), SinkError> {
        if alerts.is_empty() {
            return Err(SinkError::Render(
                "a digest needs at least one alert".into(),
            ));
        }
        match self {
            Channel::Wecom(c) => Ok(c.render_digest(alerts)),
            Channel::Dingtalk(c) => Ok(c.render_digest(alerts)),
            Channel::Feishu(c) => Ok(c.render_digest(alerts)),
            Channel::Email(c) => Ok(c.render_digest(alerts, now)),
            _ => Err(SinkError::Render(
                "this channel sends no digests".to_string(),
            )),
        }
    }

    /// One request carrying every alert of `alerts` (batch channels).
    pub fn render_batch(&self, alerts: &[Arc<Alert>]) -> Result<Payload, SinkError> {
        match self {
            Channel::File(c) => Ok(c.render(alerts)),
            Channel::Alertmanager(c) => Ok(c.render(alerts)),
            _ => Err(SinkError::Render(
                "this channel sends no batches".to_string(),
            )),
        }
    }

    /// Sends one message (one attempt).
    pub async fn send(&self, payload: &Payload) -> Result<(), SinkError> {
        match self {
            Channel::Stdout(c) => c.send(payload),
            Channel::File(c) => c.send(payload).await,
            Channel::Webhook(c) => c.send(payload).await,
            Channel::Wecom(c) => c.send(payload).await,
            Channel::Dingtalk(c) => c.send(payload).await,
            Channel::Feishu(c) => c.send(payload).await,
            Channel::Email(c) => c.send(payload).await,
            Channel::Alertmanager(c) => c.send(payload).await,
        }
    }
}

fn wrong_payload(kind: &str) -> SinkError {
    SinkError::Render(format!(
        "the {kind} channel got a payload of another channel"
    ))
}

/// Posts bytes and returns the response body of a 2xx answer; other statuses become
/// [`SinkError::Status`] (with `Retry-After` in seconds when the server sent one).
pub(crate) async fn post(
    request: reqwest::RequestBuilder,
    timeout: Duration,
) -> Result<Vec<u8>, SinkError> {
    let response = request
        .timeout(timeout)
        .send()
        .await
        .map_err(SinkError::Network)?;
    let status = response.status();
    let retry_after = response
        .headers()
        .get(reqwest::header::RETRY_AFTER)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<u64>().ok())
        .map(Duration::from_secs);
    let body = response.bytes().await.map_err(SinkError::Network)?;
    if !status.is_success() {
        return Err(SinkError::Status {
            status: status.as_u16(),
            body: snippet(&body),
            retry_after,
        });
    }
    Ok(body.to_vec())
}

/// The start of a body, for error messages (at most 200 bytes, at a character boundary).
pub(crate) fn snippet(body: &[u8]) -> String {
    let s = String::from_utf8_lossy(body);
    crate::split::truncate(s.trim(), 200, crate::split::utf8_cost)
}

/// Checks a chat robot's JSON answer: success is `code_field == 0` (or, for 飞书's legacy
/// answer, `StatusCode == 0`). Codes in `rate_limit_codes` mean "too fast".
pub(crate) fn check_code(
    body: &[u8],
    code_field: &str,
    msg_field: &str,
    rate_limit_codes: &[i64],
) -> Result<(), SinkError> {
    let v: Value = serde_json::from_slice(body)
        .map_err(|_| SinkError::Response(format!("not JSON: {}", snippet(body))))?;
    let code = v
        .get(code_field)
        .or_else(|| v.get("StatusCode"))
        .and_then(Value::as_i64)
        .ok_or_else(|| SinkError::Response(format!("no `{code_field}`: {}", snippet(body))))?;
    if code == 0 {
        return Ok(());
    }
    let message = v
        .get(msg_field)
        .or_else(|| v.get("StatusMessage"))
        .and_then(Value::as_str)
        .unwrap_or("")
        .to_string();
    Err(SinkError::Channel {
        code,
        message,
        rate_limited: rate_limit_codes.contains(&code),
    })
}

/// The continuation mark of piece `i` (0-based) of `n`: empty for the first. It contains
/// 舆情预警, so a robot secured by that keyword accepts every piece.
pub(crate) fn continuation(i: usize, n: usize) -> String {
    if i == 0 {
        String::new()
    } else {
        format!("【舆情预警·续 {}/{}】\n", i + 1, n)
    }
}

/// Bytes reserved for a continuation mark when splitting.
pub(crate) const CONTINUATION_RESERVE: usize = 32;

/// Bytes reserved for a digest's headline, note and "more waiting" line.
pub(crate) const DIGEST_RESERVE: usize = 400;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn robot_answers_are_checked() {
        assert!(check_code(br#"{"errcode":0,"errmsg":"ok"}"#, "errcode", "errmsg", &[]).is_ok());
        let e = check_code(
            br#"{"errcode":45009,"errmsg":"api freq out of limit"}"#,
            "errcode",
            "errmsg",
            &[45009],
        )
        .unwrap_err();
        assert!(matches!(
            e,
            SinkError::Channel {
                code: 45009,
                rate_limited: true,
                ..
            }
        ));
        assert_eq!(e.kind(), "channel_rate_limited");
        let e = check_code(
            br#"{"code":19021,"msg":"sign match fail"}"#,
            "code",
            "msg",
            &[11232],
        )
        .unwrap_err();
        assert!(matches!(
            e,
            SinkError::Channel {
                code: 19021,
                rate_limited: false,
                ..
            }
        ));
        assert!(check_code(
            br#"{"StatusCode":0,"StatusMessage":"success"}"#,
            "code",
            "msg",
            &[]
        )
        .is_ok());
        assert!(matches!(
            check_code(b"<html>", "code", "msg", &[]),
            Err(SinkError::Response(_))
        ));
        assert!(matches!(
            check_code(b"{}", "code", "msg", &[]),
            Err(SinkError::Response(_))
        ));
    }

    #[test]
    fn continuation_marks() {
        assert_eq!(continuation(0, 3), "");
        assert_eq!(continuation(2, 3), "【舆情预警·续 3/3】\n");
        assert!(continuation(98, 99).len() <= CONTINUATION_RESERVE);
    }

    proptest::proptest! {
        #[test]
        fn robot_answers_never_panic(body in proptest::collection::vec(proptest::num::u8::ANY, 0..200)) {
            let _ = check_code(&body, "errcode", "errmsg", &[45009]);
        }

        #[test]
        fn robot_answer_codes_are_read(code in proptest::num::i64::ANY, msg in "\\PC{0,20}") {
            let body = serde_json::to_vec(&serde_json::json!({"code": code, "msg": msg})).unwrap();
            let r = check_code(&body, "code", "msg", &[11232]);
            if code == 0 {
                proptest::prop_assert!(r.is_ok());
            } else {
                let is_code = matches!(r, Err(SinkError::Channel { code: c, .. }) if c == code);
                proptest::prop_assert!(is_code);
            }
        }
    }
}
