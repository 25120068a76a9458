//! `feishu`: 飞书 / Lark custom bot, an interactive card coloured by grade, signed when a secret
//! is set.
//!
//! `POST <endpoint>/<token>` with `{"timestamp":"<s>","sign":"…","msg_type":"interactive","card":{…}}`
//! (`timestamp` and `sign` only when signing); success is `{"code":0,…}` (or the legacy
//! `StatusCode: 0`). The card header's `template` is the grade's colour: I red, II orange,
//! III yellow, IV blue.

use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};
use serde_json::{json, Value};
use yuqing_core::{Alert, Grade, SharedClock};

use super::{
    check_code, continuation, post, wrong_payload, BuildContext, Payload, CONTINUATION_RESERVE,
    DIGEST_RESERVE,
};
use crate::config::{FeishuConfig, Secret, FEISHU_MAX_BYTES};
use crate::error::SinkError;
use crate::render::{
    digest_headline, digest_line, digest_more, facts, local_time, plain_for_markup, short_headline,
    shrink_to_fit, take_fitting, DIGEST_NOTE,
};
use crate::sign::feishu_sign;
use crate::split::{cost_of, json_cost, split, truncate};

/// 飞书's "too fast" code.
pub const RATE_LIMIT_CODES: &[i64] = &[11232];

/// The card header colour of a grade.
pub fn template(grade: Grade) -> &'static str {
    match grade {
        Grade::I => "red",
        Grade::II => "orange",
        Grade::III => "yellow",
        Grade::IV => "blue",
    }
}

/// Room for `"timestamp":"1700000000","sign":"<44 chars>",` added at send time.
const SIGN_RESERVE: usize = 96;

/// The 飞书 channel.
#[derive(Debug)]
pub struct Feishu {
    http: reqwest::Client,
    clock: SharedClock,
    url: String,
    secret: Option<Secret>,
    mention_all: bool,
    mention_ids: Vec<String>,
    max_bytes: usize,
    pub(crate) digest: bool,
    timeout: Duration,
}

impl Feishu {
    pub(crate) fn new(c: &FeishuConfig, cx: &BuildContext) -> Feishu {
        let token: String =
            url::form_urlencoded::byte_serialize(c.token.expose().as_bytes()).collect();
        Feishu {
            http: cx.http.clone(),
            clock: cx.clock.clone(),
            url: format!("{}/{token}", c.endpoint.trim_end_matches('/')),
            secret: c.secret.clone(),
            mention_all: c.mention_all,
            mention_ids: c.mention_ids.clone(),
            max_bytes: c
                .max_bytes
                .unwrap_or(FEISHU_MAX_BYTES)
                .min(FEISHU_MAX_BYTES),
            digest: c.digest,
            timeout: c.timeout,
        }
    }

    fn mentions(&self) -> String {
        let mut s = String::new();
        if self.mention_all {
            s.push_str("<at id=all></at>");
        }
        for id in &self.mention_ids {
            s.push_str(&format!(
                "<at id={}></at>",
                plain_for_markup(id).replace(' ', "")
            ));
        }
        s
    }

    /// The card (without signature fields).
    fn card(
        &self,
        colour: &str,
        title: &str,
        content: &str,
        url: Option<&str>,
        note: &str,
    ) -> Value {
        let mut elements = vec![json!({"tag": "markdown", "content": content})];
        if let Some(url) = url {
            elements.push(json!({"tag": "hr"}));
            elements.push(json!({"tag": "action", "actions": [{
                "tag": "button",
                "text": {"tag": "plain_text", "content": "查看原文"},
                "type": "primary",
                "url": url,
            }]}));
        }
        elements.push(json!({"tag": "note", "elements": [{"tag": "plain_text", "content": note}]}));
        json!({
            "msg_type": "interactive",
            "card": {
                "config": {"wide_screen_mode": true},
                "header": {"template": colour, "title": {"tag": "plain_text", "content": title}},
                "elements": elements,
            }
        })
    }

    fn size(v: &Value) -> usize {
        serde_json::to_vec(v).map(|b| b.len()).unwrap_or(usize::MAX) + SIGN_RESERVE
    }

    /// The card markdown of one alert (the header carries the headline; a title too long for
    /// the header is repeated here in full).
    pub fn markdown(&self, alert: &Alert, now: DateTime<Utc>) -> String {
        let mut s = String::new();
        if short_headline(alert).1 {
            s.push_str(&format!("**标题**：{}\n", plain_for_markup(&alert.title)));
        }
        for fact in facts(alert, now) {
            if matches!(fact.label, "预警编号" | "预警时间") {
                continue; // in the note
            }
            s.push_str(&format!(
                "**{}**：{}\n",
                fact.label,
                plain_for_markup(&fact.value)
            ));
        }
        s.push_str(&self.mentions());
        s.trim_end().to_string()
    }

    fn note(alert: &Alert) -> String {
        format!(
            "预警编号 {} · 预警时间 {}",
            alert.alert_id,
            local_time(alert.at)
        )
    }

    pub(crate) fn render_alert(&self, alert: &Alert, now: DateTime<Utc>) -> Vec<Payload> {
        let colour = template(alert.grade);
        let title = short_headline(alert).0;
        let url = alert.url.as_deref();
        let note = Self::note(alert);
        let content = self.markdown(alert, now);
        let whole = self.card(colour, &title, &content, url, &note);
        if Self::size(&whole) <= self.max_bytes {
            return vec![Payload::Json(whole)];
        }
        let overhead = Self::size(&self.card(colour, &title, "", url, &note)) + 32;
        let budget = self
            .max_bytes
            .saturating_sub(overhead + CONTINUATION_RESERVE)
            .max(64);
        let pieces = split(&content, budget, json_cost);
        let n = pieces.len();
        pieces
            .iter()
            .enumerate()
            .map(|(i, p)| {
                let t = if i == 0 {
                    title.clone()
                } else {
                    format!("{title}（续 {}/{n}）", i + 1)
                };
                let c = format!("{}{}", continuation(i, n), p);
                Payload::Json(self.card(colour, &t, &c, url, &note))
            })
            .collect()
    }

    fn digest_item(i: usize, a: &Alert) -> String {
        format!("{}. {}\n", i + 1, plain_for_markup(&digest_line(a)))
    }

    fn digest_card(&self, alerts: &[Arc<Alert>], n: usize) -> Value {
        let mut content = format!("{DIGEST_NOTE}\n");
        for (i, a) in alerts[..n].iter().enumerate() {
            content.push_str(&Self::digest_item(i, a));
        }
        if alerts.len() > n {
            content.push_str(&digest_more(alerts.len() - n));
            content.push('\n');
        }
        content.push_str(&self.mentions());
        let most = alerts[..n]
            .iter()
            .map(|a| a.grade)
            .max()
            .unwrap_or(Grade::IV);
        let first = alerts.first().map(|a| a.alert_id.as_str()).unwrap_or("");
        self.card(
            template(most),
            &digest_headline(&alerts[..n]),
            content.trim_end(),
            None,
            &format!("汇总自 {first} 起 {n} 条"),
        )
    }

    pub(crate) fn render_digest(&self, alerts: &[Arc<Alert>]) -> (Payload, usize) {
        let budget = self.max_bytes.saturating_sub(
            DIGEST_RESERVE + SIGN_RESERVE + 512 + cost_of(&self.mentions(), json_cost),
        );
        let n = take_fitting(alerts, budget, |i, a| {
            cost_of(&Self::digest_item(i, a), json_cost)
        });
        let (card, n) = shrink_to_fit(n, self.max_bytes, |n| {
            let c = self.digest_card(alerts, n);
            let s = Self::size(&c);
            (c, s)
        });
        let card = if Self::size(&card) > self.max_bytes {
            // Only a single, pathologically long line gets here: cut it.
            let line = truncate(
                &Self::digest_item(0, &alerts[0]),
                self.max_bytes / 2,
                json_cost,
            );
            self.card(
                template(alerts[0].grade),
                "【舆情预警汇总】",
                &line,
                None,
                "",
            )
        } else {
            card
        };
        (Payload::Json(card), n)
    }

    pub(crate) async fn send(&self, payload: &Payload) -> Result<(), SinkError> {
        let Payload::Json(card) = payload else {
            return Err(wrong_payload("feishu"));
        };
        let body = match &self.secret {
            Some(secret) => {
                let ts = self.clock.now().timestamp();
                let mut signed = serde_json::Map::new();
                signed.insert("timestamp".into(), Value::String(ts.to_string()));
                signed.insert(
                    "sign".into(),
                    Value::String(feishu_sign(ts, secret.expose())),
                );
                if let Value::Object(m) = card {
                    for (k, v) in m {
                        signed.insert(k.clone(), v.clone());
                    }
                }
                Value::Object(signed)
            }
            None => card.clone(),
        };
        let req = self.http.post(&self.url).json(&body);
        let answer = post(req, self.timeout).await?;
        check_code(&answer, "code", "msg", RATE_LIMIT_CODES)
    }
}
