//! Loopback receivers and alert fixtures shared by the integration tests.
#![allow(dead_code)]

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, Method, StatusCode, Uri};
use chrono::{DateTime, Utc};
use parking_lot::Mutex;
use yuqing_core::{Alert, AlertKind, Deadline, Grade, ManualClock, Reason, Stage};

/// One request a receiver got.
#[derive(Debug, Clone)]
pub struct Recorded {
    pub method: String,
    pub path: String,
    pub query: String,
    pub headers: HeaderMap,
    pub body: Vec<u8>,
    /// Arrival on the (possibly paused) tokio clock.
    pub at: tokio::time::Instant,
    /// The status the receiver answered.
    pub status: u16,
}

impl Recorded {
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_slice(&self.body).expect("the body is JSON")
    }

    pub fn query_map(&self) -> HashMap<String, String> {
        url::form_urlencoded::parse(self.query.as_bytes())
            .into_owned()
            .collect()
    }

    /// The raw (still URL-encoded) value of a query parameter.
    pub fn raw_query(&self, key: &str) -> Option<String> {
        self.query.split('&').find_map(|kv| {
            let (k, v) = kv.split_once('=')?;
            (k == key).then(|| v.to_string())
        })
    }

    pub fn accepted(&self) -> bool {
        (200..300).contains(&self.status)
    }
}

type Responder = Box<dyn FnMut(&Recorded) -> (u16, String) + Send>;

/// A loopback HTTP receiver that records every request and answers with `responder`.
#[derive(Clone)]
pub struct Receiver {
    pub addr: SocketAddr,
    pub requests: Arc<Mutex<Vec<Recorded>>>,
    responder: Arc<Mutex<Responder>>,
}

impl Receiver {
    pub async fn start(
        responder: impl FnMut(&Recorded) -> (u16, String) + Send + 'static,
    ) -> Receiver {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        Self::serve(
            listener,
            Arc::new(Mutex::new(Box::new(responder))),
            Default::default(),
        )
    }

    /// A receiver on a given listener, sharing a log and responder (to restart on the same port).
    pub fn serve(
        listener: tokio::net::TcpListener,
        responder: Arc<Mutex<Responder>>,
        requests: Arc<Mutex<Vec<Recorded>>>,
    ) -> Receiver {
        let addr = listener.local_addr().unwrap();
        let r = Receiver {
            addr,
            requests,
            responder,
        };
        let app = axum::Router::new().fallback(handle).with_state(r.clone());
        tokio::spawn(async move {
            axum::serve(listener, app).await.unwrap();
        });
        r
    }

    /// Answers like a chat robot: `{"errcode":0,"errmsg":"ok"}`.
    pub async fn robot_ok() -> Receiver {
        Self::start(|_| (200, r#"{"errcode":0,"errmsg":"ok"}"#.to_string())).await
    }

    /// Answers like a 飞书 bot: `{"code":0,"msg":"success","data":{}}`.
    pub async fn feishu_ok() -> Receiver {
        Self::start(|_| (200, r#"{"code":0,"msg":"success","data":{}}"#.to_string())).await
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }

    pub fn take(&self) -> Vec<Recorded> {
        self.requests.lock().clone()
    }
}

async fn handle(
    State(r): State<Receiver>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> (StatusCode, String) {
    let mut rec = Recorded {
        method: method.to_string(),
        path: uri.path().to_string(),
        query: uri.query().unwrap_or("").to_string(),
        headers,
        body: body.to_vec(),
        at: tokio::time::Instant::now(),
        status: 0,
    };
    let (status, answer) = (r.responder.lock())(&rec);
    rec.status = status;
    r.requests.lock().push(rec);
    (StatusCode::from_u16(status).unwrap(), answer)
}

/// 2026-11-22 10:10 CST.
pub fn t0() -> DateTime<Utc> {
    DateTime::parse_from_rfc3339("2026-11-22T02:10:00Z")
        .unwrap()
        .to_utc()
}

pub fn clock() -> Arc<ManualClock> {
    Arc::new(ManualClock::new(t0()))
}

/// The alert the format tests use.
pub fn sample() -> Alert {
    Alert {
        schema_version: 1,
        alert_id: yuqing_core::id::alert_id("ev-0123456789abcdef", "escalated", "II", 0),
        event_id: "ev-0123456789abcdef".into(),
        kind: AlertKind::Escalated,
        grade: Grade::II,
        previous_grade: Some(Grade::III),
        stage: Stage::Spreading,
        title: "某区化工厂火灾 <@all>\n浓烟".into(),
        department: Some("区应急管理局".into()),
        region: Some("某市某区".into()),
        response_subject: vec!["区人民政府".into(), "区应急管理局".into()],
        deadlines: vec![Deadline {
            kind: "first_release".into(),
            label: "首次权威发布".into(),
            due: DateTime::parse_from_rfc3339("2026-11-22T11:02:00+08:00").unwrap(),
        }],
        rule: "grade:II".into(),
        reasons: vec![
            Reason::new("grade", "rule:II", "转发 1.2 万，增速 800/小时"),
            Reason::new("category", "lexicon:安全事故", "火灾、爆炸"),
        ],
        url: Some("https://weibo.com/1/abc".into()),
        at: DateTime::parse_from_rfc3339("2026-11-22T10:02:00+08:00").unwrap(),
        extra: Default::default(),
    }
}

/// Alert number `i` of a flood: grades cycle, ids are real alert ids.
pub fn flood_alert(i: usize) -> Alert {
    let grade = match i % 23 {
        0 => Grade::I,
        1..=3 => Grade::II,
        4..=9 => Grade::III,
        _ => Grade::IV,
    };
    let event = yuqing_core::id::event_id("flood", &i.to_string());
    let mut a = sample();
    a.alert_id = yuqing_core::id::alert_id(&event, "new", grade.as_str(), 0);
    a.event_id = event;
    a.kind = AlertKind::New;
    a.previous_grade = None;
    a.grade = grade;
    a.title = format!("第{i}号 某街道居民反映噪音扰民问题持续未解决");
    a.at += chrono::Duration::milliseconds(i as i64 * 6);
    a
}

/// Every `al-` + 16 hex id in a text.
pub fn alert_ids(text: &str) -> Vec<String> {
    let b = text.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i + 19 <= b.len() {
        if &b[i..i + 3] == b"al-" && b[i + 3..i + 19].iter().all(|c| c.is_ascii_hexdigit()) {
            out.push(text[i..i + 19].to_string());
            i += 19;
        } else {
            i += 1;
        }
    }
    out
}

/// A dead letter that keeps what it gets.
#[derive(Debug, Default)]
pub struct Collect {
    pub got: Mutex<Vec<(String, Vec<String>, String)>>,
}

impl yuqing_sinks::DeadLetter for Collect {
    fn record(&self, sink_id: &str, alerts: &[Arc<Alert>], error: &yuqing_sinks::SinkError) {
        self.got.lock().push((
            sink_id.to_string(),
            alerts.iter().map(|a| a.alert_id.clone()).collect(),
            error.to_string(),
        ));
    }
}

pub fn sinks(toml_text: &str) -> Vec<yuqing_sinks::SinkConfig> {
    let c: yuqing_sinks::SinksConfig = toml::from_str(toml_text).expect("valid sink TOML");
    c.sinks
}
