//! `webhook`: a JSON POST of each alert, optionally signed with HMAC-SHA256.

use reqwest::header::{HeaderMap, HeaderName, HeaderValue, CONTENT_TYPE};
use yuqing_core::{Alert, SharedClock};

use super::{post, wrong_payload, BuildContext, Payload};
use crate::config::{Secret, WebhookConfig};
use crate::error::SinkError;
use crate::sign::webhook_sign;

/// The header with the signing timestamp (unix seconds).
pub const TIMESTAMP_HEADER: &str = "X-Yuqing-Timestamp";

/// The generic webhook channel.
#[derive(Debug)]
pub struct Webhook {
    http: reqwest::Client,
    clock: SharedClock,
    url: String,
    secret: Option<Secret>,
    signature_header: HeaderName,
    headers: HeaderMap,
    timeout: std::time::Duration,
}

impl Webhook {
    pub(crate) fn new(c: &WebhookConfig, cx: &BuildContext) -> Webhook {
        // Validation has checked names and values; anything invalid is skipped, not panicked on.
        let mut headers = HeaderMap::new();
        for (k, v) in &c.headers {
            if let (Ok(k), Ok(v)) = (
                HeaderName::from_bytes(k.as_bytes()),
                HeaderValue::from_str(v.expose()),
            ) {
                headers.insert(k, v);
            }
        }
        Webhook {
            http: cx.http.clone(),
            clock: cx.clock.clone(),
            url: c.url.clone(),
            secret: c.secret.clone(),
            signature_header: HeaderName::from_bytes(c.signature_header.as_bytes())
                .unwrap_or_else(|_| HeaderName::from_static("x-yuqing-signature")),
            headers,
            timeout: c.timeout,
        }
    }

    pub(crate) fn render(&self, alert: &Alert) -> Payload {
        Payload::Bytes {
            body: alert.to_json(),
            key: alert.alert_id.clone(),
        }
    }

    pub(crate) async fn send(&self, payload: &Payload) -> Result<(), SinkError> {
        let Payload::Bytes { body, key } = payload else {
            return Err(wrong_payload("webhook"));
        };
        let mut req = self
            .http
            .post(&self.url)
            .headers(self.headers.clone())
            .header(CONTENT_TYPE, "application/json")
            .header("Idempotency-Key", key.as_str());
        if let Some(secret) = &self.secret {
            let ts = self.clock.now().timestamp();
            req = req.header(TIMESTAMP_HEADER, ts.to_string()).header(
                &self.signature_header,
                webhook_sign(ts, secret.expose(), body),
            );
        }
        post(req.body(body.clone()), self.timeout).await.map(|_| ())
    }
}
