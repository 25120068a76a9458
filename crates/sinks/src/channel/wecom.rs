//! `wecom`: 企业微信 group robot (消息推送), markdown or text.
//!
//! `POST <endpoint>?key=<KEY>` with `{"msgtype":"markdown","markdown":{"content":…}}` or
//! `{"msgtype":"text","text":{"content":…,"mentioned_list":[…],"mentioned_mobile_list":[…]}}`;
//! success is `{"errcode":0,…}`. Markdown colours: `warning` (orange-red) for grades I and II,
//! `comment` (grey) for III, `info` (green) for IV — the robot offers no other colours.

use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};
use serde_json::{json, Value};
use yuqing_core::{Alert, Grade};

use super::{
    check_code, continuation, post, wrong_payload, BuildContext, Payload, CONTINUATION_RESERVE,
    DIGEST_RESERVE,
};
use crate::config::{WecomConfig, WecomFormat, WECOM_MARKDOWN_MAX_BYTES, WECOM_TEXT_MAX_BYTES};
use crate::error::SinkError;
use crate::render::{
    digest_headline, digest_more, digest_rest, facts, plain_for_markup, plain_text, shrink_to_fit,
    take_fitting, Role, DIGEST_NOTE,
};
use crate::split::{cost_of, split, truncate, utf8_cost};

/// 企业微信's "too fast" code (`api freq out of limit`).
pub const RATE_LIMIT_CODES: &[i64] = &[45009];

/// The 企业微信 channel.
#[derive(Debug)]
pub struct Wecom {
    http: reqwest::Client,
    url: String,
    format: WecomFormat,
    mentioned_list: Vec<String>,
    mentioned_mobile_list: Vec<String>,
    max_bytes: usize,
    pub(crate) digest: bool,
    timeout: Duration,
}

/// The markdown font colour of a grade.
pub fn font(grade: Grade) -> &'static str {
    match grade {
        Grade::I | Grade::II => "warning",
        Grade::III => "comment",
        Grade::IV => "info",
    }
}

fn coloured(colour: &str, text: &str) -> String {
    format!("<font color=\"{colour}\">{text}</font>")
}

impl Wecom {
    pub(crate) fn new(c: &WecomConfig, cx: &BuildContext) -> Wecom {
        let key: String = url::form_urlencoded::byte_serialize(c.key.expose().as_bytes()).collect();
        let max = match c.format {
            WecomFormat::Markdown => WECOM_MARKDOWN_MAX_BYTES,
            WecomFormat::Text => WECOM_TEXT_MAX_BYTES,
        };
        Wecom {
            http: cx.http.clone(),
            url: format!("{}?key={key}", c.endpoint),
            format: c.format,
            mentioned_list: c.mentioned_list.clone(),
            mentioned_mobile_list: c.mentioned_mobile_list.clone(),
            max_bytes: c.max_bytes.unwrap_or(max).min(max),
            digest: c.digest,
            timeout: c.timeout,
        }
    }

    /// `<@id>` mentions for markdown (empty for text, which mentions in JSON fields).
    fn inline_mentions(&self) -> String {
        match self.format {
            WecomFormat::Markdown => self
                .mentioned_list
                .iter()
                .map(|m| format!("<@{}>", plain_for_markup(m.trim_start_matches('@'))))
                .collect(),
            WecomFormat::Text => String::new(),
        }
    }

    /// The markdown content of one alert.
    pub fn markdown(&self, alert: &Alert, now: DateTime<Utc>) -> String {
        let f = font(alert.grade);
        let mut s = format!(
            "### 【舆情预警·{}】{}\n",
            coloured(f, alert.grade.colour()),
            plain_for_markup(&alert.title)
        );
        for fact in facts(alert, now) {
            let v = plain_for_markup(&fact.value);
            let v = match fact.role {
                Role::Grade => coloured(f, &v),
                Role::Owner => coloured("info", &v),
                Role::Due => coloured("comment", &v),
                Role::Plain => v,
            };
            s.push_str(&format!(">**{}**：{v}\n", fact.label));
        }
        if let Some(url) = &alert.url {
            s.push_str(&format!("[查看原文]({})\n", link_target(url)));
        }
        s.push_str(&self.inline_mentions());
        s.trim_end().to_string()
    }

    fn content_of(&self, alert: &Alert, now: DateTime<Utc>) -> String {
        match self.format {
            WecomFormat::Markdown => self.markdown(alert, now),
            WecomFormat::Text => plain_text(alert, now),
        }
    }

    fn body(&self, content: &str, last: bool) -> Value {
        match self.format {
            WecomFormat::Markdown => {
                json!({"msgtype": "markdown", "markdown": {"content": content}})
            }
            WecomFormat::Text => {
                let mut text = json!({"content": content});
                if last && !self.mentioned_list.is_empty() {
                    text["mentioned_list"] = json!(self.mentioned_list);
                }
                if last && !self.mentioned_mobile_list.is_empty() {
                    text["mentioned_mobile_list"] = json!(self.mentioned_mobile_list);
                }
                json!({"msgtype": "text", "text": text})
            }
        }
    }

    /// One alert, split into pieces of at most `max_bytes` of content.
    pub(crate) fn render_alert(&self, alert: &Alert, now: DateTime<Utc>) -> Vec<Payload> {
        let content = self.content_of(alert, now);
        if content.len() <= self.max_bytes {
            return vec![Payload::Json(self.body(&content, true))];
        }
        let pieces = split(&content, self.max_bytes - CONTINUATION_RESERVE, utf8_cost);
        let n = pieces.len();
        pieces
            .iter()
            .enumerate()
            .map(|(i, p)| {
                let c = format!("{}{}", continuation(i, n), p);
                Payload::Json(self.body(&c, i + 1 == n))
            })
            .collect()
    }

    fn digest_content(&self, alerts: &[Arc<Alert>], n: usize) -> String {
        let markdown = self.format == WecomFormat::Markdown;
        let mut s = if markdown {
            format!(
                "### {}\n>{}\n",
                digest_headline(&alerts[..n]),
                coloured("comment", DIGEST_NOTE)
            )
        } else {
            format!("{}\n{}\n", digest_headline(&alerts[..n]), DIGEST_NOTE)
        };
        for (i, a) in alerts[..n].iter().enumerate() {
            s.push_str(&self.digest_line(i, a));
        }
        if alerts.len() > n {
            let more = digest_more(alerts.len() - n);
            if markdown {
                s.push_str(&coloured("comment", &more));
            } else {
                s.push_str(&more);
            }
            s.push('\n');
        }
        s.push_str(&self.inline_mentions());
        s.trim_end().to_string()
    }

    fn digest_line(&self, i: usize, a: &Alert) -> String {
        match self.format {
            WecomFormat::Markdown => format!(
                "{}. 【{}】{}\n",
                i + 1,
                coloured(font(a.grade), a.grade.colour()),
                plain_for_markup(&digest_rest(a))
            ),
            WecomFormat::Text => format!("{}. 【{}】{}\n", i + 1, a.grade.colour(), digest_rest(a)),
        }
    }

    /// A digest of as many of `alerts` as fit in one message.
    pub(crate) fn render_digest(&self, alerts: &[Arc<Alert>]) -> (Payload, usize) {
        let budget = self
            .max_bytes
            .saturating_sub(DIGEST_RESERVE + cost_of(&self.inline_mentions(), utf8_cost));
        let n = take_fitting(alerts, budget, |i, a| self.digest_line(i, a).len());
        let (content, n) = shrink_to_fit(n, self.max_bytes, |n| {
            let c = self.digest_content(alerts, n);
            let len = c.len();
            (c, len)
        });
        let content = truncate(&content, self.max_bytes, utf8_cost);
        (Payload::Json(self.body(&content, true)), n)
    }

    pub(crate) async fn send(&self, payload: &Payload) -> Result<(), SinkError> {
        let Payload::Json(body) = payload else {
            return Err(wrong_payload("wecom"));
        };
        let req = self.http.post(&self.url).json(body);
        let answer = post(req, self.timeout).await?;
        check_code(&answer, "errcode", "errmsg", RATE_LIMIT_CODES)
    }
}

/// A link target that cannot break out of markdown's `(…)`.
pub(crate) fn link_target(url: &str) -> String {
    crate::render::one_line(url)
        .replace(' ', "%20")
        .replace('(', "%28")
        .replace(')', "%29")
}
