//! `alertmanager`: Prometheus Alertmanager API v2, `POST <url>/api/v2/alerts` with an array of
//! `{labels, annotations, startsAt, endsAt, generatorURL}`.

use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, SecondsFormat, Utc};
use serde_json::{json, Map, Value};
use yuqing_core::{Alert, AlertKind, Grade, SharedClock};

use super::{post, wrong_payload, BuildContext, Payload};
use crate::config::AlertmanagerConfig;
use crate::error::SinkError;
use crate::render::{headline, one_line, plain_text};

/// The `severity` label of a grade.
pub fn severity(grade: Grade) -> &'static str {
    match grade {
        Grade::I | Grade::II => "critical",
        Grade::III => "warning",
        Grade::IV => "info",
    }
}

/// The Alertmanager channel.
#[derive(Debug)]
pub struct Alertmanager {
    http: reqwest::Client,
    clock: SharedClock,
    url: String,
    alertname: String,
    generator_url: Option<String>,
    resolve_after: Duration,
    pub(crate) batch: usize,
    timeout: Duration,
}

impl Alertmanager {
    pub(crate) fn new(c: &AlertmanagerConfig, cx: &BuildContext) -> Alertmanager {
        Alertmanager {
            http: cx.http.clone(),
            clock: cx.clock.clone(),
            url: format!("{}/api/v2/alerts", c.url.trim_end_matches('/')),
            alertname: c.alertname.clone(),
            generator_url: c.generator_url.clone(),
            resolve_after: c.resolve_after,
            batch: c.batch,
            timeout: c.timeout,
        }
    }

    /// One postable alert.
    pub fn postable(&self, alert: &Alert, now: DateTime<Utc>) -> Value {
        let mut labels = Map::new();
        labels.insert("alertname".into(), json!(self.alertname));
        labels.insert("grade".into(), json!(alert.grade.as_str()));
        labels.insert("event_id".into(), json!(alert.event_id));
        if let Some(d) = alert
            .department
            .as_deref()
            .map(one_line)
            .filter(|d| !d.is_empty())
        {
            labels.insert("department".into(), json!(d));
        }
        if let Some(r) = alert
            .region
            .as_deref()
            .map(one_line)
            .filter(|r| !r.is_empty())
        {
            labels.insert("region".into(), json!(r));
        }
        labels.insert("severity".into(), json!(severity(alert.grade)));
        let mut annotations = Map::new();
        annotations.insert("summary".into(), json!(headline(alert)));
        annotations.insert("description".into(), json!(plain_text(alert, now)));
        annotations.insert("alert_id".into(), json!(alert.alert_id));
        annotations.insert("kind".into(), json!(alert.kind.as_str()));
        annotations.insert("stage".into(), json!(alert.stage.as_str()));
        if let Some(url) = &alert.url {
            annotations.insert("url".into(), json!(one_line(url)));
        }
        let starts = alert.at.with_timezone(&Utc);
        let base = now.max(starts);
        let ends = if alert.kind == AlertKind::Calmed {
            base
        } else {
            base + chrono::Duration::from_std(self.resolve_after)
                .unwrap_or(chrono::Duration::hours(24))
        };
        let mut v = json!({
            "labels": labels,
            "annotations": annotations,
            "startsAt": starts.to_rfc3339_opts(SecondsFormat::Millis, true),
            "endsAt": ends.to_rfc3339_opts(SecondsFormat::Millis, true),
        });
        let generator = match &self.generator_url {
            Some(prefix) => Some(format!("{prefix}{}", alert.event_id)),
            None => alert.url.as_deref().map(one_line),
        };
        if let Some(g) = generator {
            v["generatorURL"] = json!(g);
        }
        v
    }

    pub(crate) fn render(&self, alerts: &[Arc<Alert>]) -> Payload {
        let now = self.clock.now();
        Payload::Json(Value::Array(
            alerts.iter().map(|a| self.postable(a, now)).collect(),
        ))
    }

    pub(crate) async fn send(&self, payload: &Payload) -> Result<(), SinkError> {
        let Payload::Json(body) = payload else {
            return Err(wrong_payload("alertmanager"));
        };
        post(self.http.post(&self.url).json(body), self.timeout)
            .await
            .map(|_| ())
    }
}
