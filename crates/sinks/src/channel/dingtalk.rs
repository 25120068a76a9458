//! `dingtalk`: 钉钉 custom robot, markdown, 加签 when a secret is set.
//!
//! `POST <endpoint>?access_token=<TOKEN>[&timestamp=<ms>&sign=<urlencoded sign>]` with
//! `Content-Type: application/json;charset=utf-8` and
//! `{"msgtype":"markdown","markdown":{"title":…,"text":…},"at":{"atMobiles":[…],"atUserIds":[…],"isAtAll":…}}`.
//! Mobiles to @ are also written as `@mobile` at the end of the text, or 钉钉 does not render them.

use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};
use reqwest::header::CONTENT_TYPE;
use serde_json::{json, Value};
use yuqing_core::{Alert, SharedClock};

use super::wecom::link_target;
use super::{
    check_code, continuation, post, wrong_payload, BuildContext, Payload, CONTINUATION_RESERVE,
    DIGEST_RESERVE,
};
use crate::config::{DingtalkConfig, Secret, DINGTALK_MAX_BYTES};
use crate::error::SinkError;
use crate::render::{
    digest_headline, digest_line, digest_more, facts, headline, plain_for_markup, short_headline,
    shrink_to_fit, take_fitting, DIGEST_NOTE,
};
use crate::sign::dingtalk_sign_query;
use crate::split::{cost_of, json_cost, split, truncate};

/// 钉钉's "too fast" codes (130101 `send too fast`, 410100 `发送速度太快而限流`).
pub const RATE_LIMIT_CODES: &[i64] = &[130101, 410100];

/// The 钉钉 channel.
#[derive(Debug)]
pub struct Dingtalk {
    http: reqwest::Client,
    clock: SharedClock,
    url: String,
    secret: Option<Secret>,
    at_mobiles: Vec<String>,
    at_user_ids: Vec<String>,
    at_all: bool,
    max_bytes: usize,
    pub(crate) digest: bool,
    timeout: Duration,
}

impl Dingtalk {
    pub(crate) fn new(c: &DingtalkConfig, cx: &BuildContext) -> Dingtalk {
        let token: String =
            url::form_urlencoded::byte_serialize(c.access_token.expose().as_bytes()).collect();
        Dingtalk {
            http: cx.http.clone(),
            clock: cx.clock.clone(),
            url: format!("{}?access_token={token}", c.endpoint),
            secret: c.secret.clone(),
            at_mobiles: c.at_mobiles.clone(),
            at_user_ids: c.at_user_ids.clone(),
            at_all: c.at_all,
            max_bytes: c
                .max_bytes
                .unwrap_or(DINGTALK_MAX_BYTES)
                .min(DINGTALK_MAX_BYTES),
            digest: c.digest,
            timeout: c.timeout,
        }
    }

    fn mentions(&self) -> String {
        let mut s = String::new();
        for m in &self.at_mobiles {
            s.push_str(&format!("@{} ", plain_for_markup(m)));
        }
        for u in &self.at_user_ids {
            s.push_str(&format!("@{} ", plain_for_markup(u)));
        }
        s.trim_end().to_string()
    }

    fn body(&self, title: &str, text: &str) -> Value {
        json!({
            "msgtype": "markdown",
            "markdown": {"title": title, "text": text},
            "at": {"atMobiles": self.at_mobiles, "atUserIds": self.at_user_ids, "isAtAll": self.at_all},
        })
    }

    /// The body's size without the text (what the text's budget leaves room for).
    fn overhead(&self, title: &str) -> usize {
        serde_json::to_vec(&self.body(title, ""))
            .map(|b| b.len())
            .unwrap_or(0)
    }

    /// The markdown text of one alert.
    pub fn markdown(&self, alert: &Alert, now: DateTime<Utc>) -> String {
        let mut s = format!("#### {}\n\n", plain_for_markup(&headline(alert)));
        for fact in facts(alert, now) {
            s.push_str(&format!(
                "- **{}**：{}\n",
                fact.label,
                plain_for_markup(&fact.value)
            ));
        }
        if let Some(url) = &alert.url {
            s.push_str(&format!("\n[查看原文]({})\n", link_target(url)));
        }
        let m = self.mentions();
        if !m.is_empty() {
            s.push('\n');
            s.push_str(&m);
        }
        s.trim_end().to_string()
    }

    pub(crate) fn render_alert(&self, alert: &Alert, now: DateTime<Utc>) -> Vec<Payload> {
        let title = plain_for_markup(&short_headline(alert).0);
        let text = self.markdown(alert, now);
        let budget = self.max_bytes.saturating_sub(self.overhead(&title));
        if cost_of(&text, json_cost) <= budget {
            return vec![Payload::Json(self.body(&title, &text))];
        }
        let pieces = split(
            &text,
            budget.saturating_sub(CONTINUATION_RESERVE).max(64),
            json_cost,
        );
        let n = pieces.len();
        pieces
            .iter()
            .enumerate()
            .map(|(i, p)| {
                let t = format!("{}{}", continuation(i, n), p);
                Payload::Json(self.body(&title, &t))
            })
            .collect()
    }

    fn digest_text(&self, alerts: &[Arc<Alert>], n: usize) -> String {
        let mut s = format!(
            "#### {}\n\n> {}\n\n",
            digest_headline(&alerts[..n]),
            DIGEST_NOTE
        );
        for (i, a) in alerts[..n].iter().enumerate() {
            s.push_str(&Self::digest_item(i, a));
        }
        if alerts.len() > n {
            s.push('\n');
            s.push_str(&digest_more(alerts.len() - n));
            s.push('\n');
        }
        let m = self.mentions();
        if !m.is_empty() {
            s.push('\n');
            s.push_str(&m);
        }
        s.trim_end().to_string()
    }

    fn digest_item(i: usize, a: &Alert) -> String {
        format!("{}. {}\n", i + 1, plain_for_markup(&digest_line(a)))
    }

    pub(crate) fn render_digest(&self, alerts: &[Arc<Alert>]) -> (Payload, usize) {
        let title = "【舆情预警汇总】";
        let limit = self.max_bytes.saturating_sub(self.overhead(title));
        let budget = limit.saturating_sub(DIGEST_RESERVE + cost_of(&self.mentions(), json_cost));
        let n = take_fitting(alerts, budget, |i, a| {
            cost_of(&Self::digest_item(i, a), json_cost)
        });
        let (text, n) = shrink_to_fit(n, limit, |n| {
            let t = self.digest_text(alerts, n);
            let c = cost_of(&t, json_cost);
            (t, c)
        });
        let text = truncate(&text, limit, json_cost);
        (Payload::Json(self.body(title, &text)), n)
    }

    pub(crate) async fn send(&self, payload: &Payload) -> Result<(), SinkError> {
        let Payload::Json(body) = payload else {
            return Err(wrong_payload("dingtalk"));
        };
        let url = match &self.secret {
            Some(secret) => {
                let ts = self.clock.now().timestamp_millis();
                format!("{}{}", self.url, dingtalk_sign_query(ts, secret.expose()))
            }
            None => self.url.clone(),
        };
        let bytes = serde_json::to_vec(body).map_err(|e| SinkError::Render(e.to_string()))?;
        let req = self
            .http
            .post(url)
            .header(CONTENT_TYPE, "application/json;charset=utf-8")
            .body(bytes);
        let answer = post(req, self.timeout).await?;
        check_code(&answer, "errcode", "errmsg", RATE_LIMIT_CODES)
    }
}
