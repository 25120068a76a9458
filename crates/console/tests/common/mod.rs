//! A seeded world for the console's tests: a SQLite store with events, their items and spread,
//! alerts and the cases they opened — written through the store and cases APIs, as the
//! pipeline writes them — on a manual clock, and an HTTP client that keeps cookies.
#![allow(dead_code)]

use std::sync::Arc;
use std::time::Duration;

use axum::body::Body;
use axum::http::{header, HeaderMap, Request, StatusCode};
use axum::Router;
use chrono::{DateTime, FixedOffset};
use serde_json::json;
use tower::ServiceExt;
use yuqing_cases::{Auth, Cases, CasesConfig, Role, UserConfig};
use yuqing_console::{ConsoleConfig, ConsoleContext};
use yuqing_core::{Alert, Event, JudgedItem, ManualClock, SharedClock};
use yuqing_store::Store;

pub const DUTY: &str = "duty-token-0123456789";
pub const DEPT: &str = "dept-token-0123456789";
pub const OTHER: &str = "other-token-012345678";
pub const VIEW: &str = "view-token-0123456789";

/// The hostile texts posts carry.
pub const SCRIPT: &str = "<script>alert('xss')</script>";
pub const IMG: &str = "\"><img src=x onerror=alert(1)>";
pub const JS_URL: &str = "javascript:alert(document.cookie)";

/// 2026-11-22 10:00 (UTC+8) plus `min` minutes.
pub fn at(min: i64) -> DateTime<FixedOffset> {
    DateTime::parse_from_rfc3339("2026-11-22T10:00:00+08:00").unwrap()
        + chrono::Duration::minutes(min)
}

pub fn users() -> Vec<UserConfig> {
    let u = |name: &str, token: &str, role, dept: Option<&str>| UserConfig {
        name: name.into(),
        token: token.into(),
        role,
        department: dept.map(str::to_string),
    };
    vec![
        u("王值班", DUTY, Role::DutyOfficer, None),
        u("张科长", DEPT, Role::Department, Some("应急管理局")),
        u("李科长", OTHER, Role::Department, Some("住房和城乡建设局")),
        u("领导", VIEW, Role::Viewer, None),
    ]
}

/// The seeded world.
pub struct World {
    pub store: Store,
    pub cases: Cases,
    pub clock: Arc<ManualClock>,
    pub app: Router,
    /// Event of grade I (red) whose posts are hostile; department 应急管理局.
    pub red: String,
    /// Event of grade II (orange); department 住房和城乡建设局.
    pub orange: String,
    /// Event of grade III.
    pub yellow: String,
    /// Event of grade IV.
    pub blue: String,
    pub _dir: tempfile::TempDir,
}

fn event(
    id: &str,
    title: &str,
    grade: &str,
    dept: &str,
    min: i64,
    items: u64,
    reposts: u64,
) -> Event {
    serde_json::from_value(json!({
        "event_id": id,
        "title": title,
        "keywords": ["爆炸", "化工厂"],
        "first_seen": at(0).to_rfc3339(),
        "first_source": "demo-weibo",
        "first_url": "https://m.weibo.cn/status/1",
        "last_seen": at(min).to_rfc3339(),
        "updated_at": at(min).to_rfc3339(),
        "stage": if min < 120 { "emerging" } else { "spreading" },
        "velocity": 42.5,
        "acceleration": 3.25,
        "forecast_peak": {"size": 1800.0, "low": 900.0, "high": 3100.0, "method": "hawkes"},
        "grade": grade,
        "counts": {"items": items, "reposts": reposts, "comments": items * 2, "likes": 7, "views": 1000,
                   "platforms": 2, "sources": 3, "official": 1, "media": 1},
        "sensitivity": 0.91,
        "sentiment": -0.6,
        "category": "安全生产",
        "department": dept,
        "region": "某市某区",
        "response_subject": ["某区人民政府", dept],
        "handling_class": "询问诉求",
        "topics": ["安全事故"],
        "reasons": [
            {"about": "event", "rule": "rule:simhash", "evidence": "3 条相似信息合并", "weight": 0.8},
            {"about": "sensitivity", "rule": "lexicon:安全事故", "evidence": "爆炸、伤亡", "weight": 0.35}
        ]
    }))
    .unwrap()
}

fn judged(
    id: &str,
    event_id: &str,
    text: &str,
    url: Option<&str>,
    min: i64,
    reposts: u64,
) -> JudgedItem {
    let mut v = json!({
        "id": id,
        "source": "demo-weibo",
        "platform": "weibo",
        "text": text,
        "author": "网友A",
        "published_at": at(min).to_rfc3339(),
        "observed_at": at(min + 1).to_rfc3339(),
        "metrics": {"reposts": reposts, "comments": 3, "likes": 9},
        "analysis": {
            "sensitivity": 0.82,
            "sentiment": -0.5,
            "event_id": event_id,
            "reasons": [
                {"about": "sensitivity", "rule": "lexicon:安全事故", "evidence": "爆炸", "weight": 0.35},
                {"about": "department", "rule": "departments:应急", "evidence": "化工厂 → 应急管理局"}
            ]
        }
    });
    if let Some(u) = url {
        v["url"] = json!(u);
    }
    let mut j: JudgedItem = serde_json::from_value(v).unwrap();
    j.item.normalize().unwrap();
    j
}

pub fn alert(event_id: &str, title: &str, grade: &str, dept: &str, min: i64) -> Alert {
    serde_json::from_value(json!({
        "alert_id": format!("al-{event_id}-{grade}"),
        "event_id": event_id,
        "kind": "new",
        "grade": grade,
        "stage": "emerging",
        "title": title,
        "department": dept,
        "region": "某市某区",
        "response_subject": [dept],
        "deadlines": [
            {"kind": "first_release", "label": "首次权威发布", "due": at(min + 60).to_rfc3339()},
            {"kind": "response", "label": "回应", "due": at(min + 48 * 60).to_rfc3339()}
        ],
        "rule": format!("grade {grade}: sensitivity ≥ 0.8 and size ≥ 50"),
        "reasons": [
            {"about": "grade", "rule": "rule:size", "evidence": "规模 120 ≥ 50", "weight": 1.0},
            {"about": "sensitivity", "rule": "lexicon:安全事故", "evidence": format!("敏感词 {SCRIPT}")}
        ],
        "url": "https://m.weibo.cn/status/1",
        "at": at(min).to_rfc3339(),
        "first_seen": at(0).to_rfc3339()
    }))
    .unwrap()
}

pub fn source_health_alert(min: i64) -> Alert {
    serde_json::from_value(json!({
        "alert_id": format!("al-health-{min}"),
        "event_id": "",
        "kind": "source_health",
        "grade": "IV",
        "stage": "emerging",
        "title": "信源 demo-forum 连续 3 次抓取失败",
        "rule": "source_health",
        "at": at(min).to_rfc3339()
    }))
    .unwrap()
}

pub fn console_config() -> ConsoleConfig {
    ConsoleConfig {
        title: "测试值班室".into(),
        session_idle: Duration::from_secs(3600),
        session_max: Duration::from_secs(4 * 3600),
        ..ConsoleConfig::default()
    }
}

impl World {
    pub async fn new() -> World {
        World::with_config(console_config()).await
    }

    pub async fn with_config(cfg: ConsoleConfig) -> World {
        let dir = tempfile::tempdir().unwrap();
        let url = format!("sqlite://{}", dir.path().join("yuqing.db").display());
        let store = Store::open(&url).await.unwrap();
        let clock = Arc::new(ManualClock::new(at(0).to_utc()));
        let shared: SharedClock = clock.clone();
        let cases = Cases::with_clock(store.clone(), shared.clone())
            .await
            .unwrap()
            .configure(
                &CasesConfig {
                    departments: vec!["应急管理局".into(), "住房和城乡建设局".into()],
                    ..CasesConfig::default()
                },
                &users(),
            );
        let red_title = format!("某化工厂爆炸 {SCRIPT}");
        let seeds = [
            ("ev-red", red_title.as_str(), "I", "应急管理局"),
            (
                "ev-orange",
                "某小区楼体开裂 居民担忧",
                "II",
                "住房和城乡建设局",
            ),
            ("ev-yellow", "某路段积水严重", "III", "交通运输局"),
            ("ev-blue", "某公园设施老化", "IV", "园林局"),
        ];
        for (id, title, grade, dept) in seeds {
            // The spread: one snapshot every 20 minutes for the first 3 hours.
            let snaps: Vec<Event> = (0..=9)
                .map(|k| {
                    event(
                        id,
                        title,
                        grade,
                        dept,
                        k * 20,
                        1 + k as u64 * 3,
                        (k * k * 10) as u64,
                    )
                })
                .collect();
            store.put_events(&snaps).await.unwrap();
        }
        let items = vec![
            judged(
                "1",
                "ev-red",
                &format!("化工厂发生爆炸 {SCRIPT}"),
                Some("https://m.weibo.cn/status/1"),
                0,
                10,
            ),
            judged(
                "2",
                "ev-red",
                &format!("现场浓烟 {IMG}"),
                Some(JS_URL),
                5,
                20,
            ),
            judged(
                "3",
                "ev-red",
                "多人受伤送医",
                Some("data:text/html,<b>x</b>"),
                9,
                30,
            ),
            judged(
                "1",
                "ev-red",
                &format!("化工厂发生爆炸 {SCRIPT}"),
                Some("https://m.weibo.cn/status/1"),
                30,
                99,
            ),
            judged(
                "4",
                "ev-orange",
                "楼体开裂",
                Some("https://example.org/a?b=1&c=2"),
                3,
                1,
            ),
        ];
        store.put_judged(&items).await.unwrap();
        for (id, title, grade, dept) in seeds {
            let a = alert(id, title, grade, dept, 0);
            store.insert_alert(&a, &[]).await.unwrap();
            cases.on_alert(&a).await.unwrap();
        }
        store
            .insert_alert(&source_health_alert(-30), &[])
            .await
            .unwrap();
        let ctx = ConsoleContext::new(store.clone(), cases.clone(), Auth::new(&users()), shared)
            .with_config(cfg);
        World {
            app: yuqing_console::router(ctx),
            store,
            cases,
            clock,
            red: "ev-red".into(),
            orange: "ev-orange".into(),
            yellow: "ev-yellow".into(),
            blue: "ev-blue".into(),
            _dir: dir,
        }
    }

    /// The same console without reports.
    pub fn router_without_reports(&self) -> Router {
        let clock: SharedClock = self.clock.clone();
        let ctx = ConsoleContext::new(
            self.store.clone(),
            self.cases.clone(),
            Auth::new(&users()),
            clock,
        )
        .with_config(console_config())
        .without_reports();
        yuqing_console::router(ctx)
    }

    pub fn client(&self) -> Client {
        Client {
            app: self.app.clone(),
            cookies: Vec::new(),
        }
    }

    /// A client logged in with `token`.
    pub async fn login(&self, token: &str) -> Client {
        let mut c = self.client();
        let r = c.login(token).await;
        assert_eq!(r.status, StatusCode::SEE_OTHER, "login failed: {}", r.body);
        c
    }
}

/// An answer.
#[derive(Debug)]
pub struct Answer {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: String,
}

impl Answer {
    pub fn location(&self) -> &str {
        self.headers
            .get(header::LOCATION)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
    }

    /// The value of the first hidden `csrf` field.
    pub fn csrf(&self) -> String {
        hidden(&self.body, "csrf").unwrap_or_else(|| panic!("no csrf field in\n{}", self.body))
    }
}

/// The value of the first `<input type="hidden" name="NAME" value="…">`.
pub fn hidden(html: &str, name: &str) -> Option<String> {
    let pat = format!("name=\"{name}\" value=\"");
    let i = html.find(&pat)? + pat.len();
    let j = html[i..].find('"')? + i;
    Some(html[i..j].to_string())
}

/// A browser-like client over the router: keeps cookies.
pub struct Client {
    pub app: Router,
    pub cookies: Vec<(String, String)>,
}

impl Client {
    pub fn cookie_header(&self) -> String {
        self.cookies
            .iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect::<Vec<_>>()
            .join("; ")
    }

    pub fn cookie(&self, name: &str) -> Option<&str> {
        self.cookies
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    pub async fn send(&mut self, method: &str, uri: &str, form: Option<&str>) -> Answer {
        let mut req = Request::builder().method(method).uri(uri);
        if !self.cookies.is_empty() {
            req = req.header(header::COOKIE, self.cookie_header());
        }
        if form.is_some() {
            req = req.header(header::CONTENT_TYPE, "application/x-www-form-urlencoded");
        }
        let body = form
            .map(|f| Body::from(f.to_string()))
            .unwrap_or_else(Body::empty);
        let res = self
            .app
            .clone()
            .oneshot(req.body(body).unwrap())
            .await
            .unwrap();
        let status = res.status();
        let headers = res.headers().clone();
        for v in headers.get_all(header::SET_COOKIE) {
            let v = v.to_str().unwrap();
            let (pair, attrs) = v.split_once(';').unwrap_or((v, ""));
            let (k, val) = pair.split_once('=').unwrap();
            self.cookies.retain(|(n, _)| n != k);
            if !attrs.contains("Max-Age=0") {
                self.cookies.push((k.to_string(), val.to_string()));
            }
        }
        let bytes = axum::body::to_bytes(res.into_body(), 8 << 20)
            .await
            .unwrap();
        Answer {
            status,
            headers,
            body: String::from_utf8(bytes.to_vec()).unwrap(),
        }
    }

    pub async fn get(&mut self, uri: &str) -> Answer {
        self.send("GET", uri, None).await
    }

    pub async fn post(&mut self, uri: &str, fields: &[(&str, &str)]) -> Answer {
        let body: String = url::form_urlencoded::Serializer::new(String::new())
            .extend_pairs(fields)
            .finish();
        self.send("POST", uri, Some(&body)).await
    }

    /// Logs in through the login form.
    pub async fn login(&mut self, token: &str) -> Answer {
        let page = self.get("/console/login").await;
        assert_eq!(page.status, StatusCode::OK);
        let csrf = page.csrf();
        self.post(
            "/console/login",
            &[("csrf", &csrf), ("token", token), ("next", "/console/")],
        )
        .await
    }

    /// The CSRF token of this client's session (read from a page's logout form).
    pub async fn session_csrf(&mut self) -> String {
        self.get("/console/cases").await.csrf()
    }
}
